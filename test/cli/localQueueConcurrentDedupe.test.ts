// SQS FIFO drops a second SendMessage of a deduplication id within 5 minutes whatever the timing; LocalQueue
// records an id once its send's flush ended, so a send of an id still flushing waits for that one.
import fs, { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { LocalQueue } from "../../src/local/localQueue";
import { localWorkItem } from "../support/localStores";

const realFdatasync = fs.fdatasync;

describe("LocalQueue: two sends of one deduplication id under way together", () => {
  let dir: string;
  let queue: LocalQueue;
  let held: Array<(error: Error | null) => void>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-lq-dedupe-"));
    queue = new LocalQueue({
      dir: join(dir, "queue"),
      maxReceiveCount: 3,
      retryDelay: () => 5,
      redrive: async () => undefined,
      durable: true,
    });
    held = [];
    fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) =>
      void held.push(done)) as typeof fs.fdatasync;
  });
  afterEach(() => {
    fs.fdatasync = realFdatasync;
    queue.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the first send, holds its flush, then starts the second (the resend's, same generation). */
  async function twoSends() {
    const item = localWorkItem("d-1", { repo: "acme/api", route: "r", generation: 1 });
    const first = queue.port("r").send(item);
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = queue.port("r").send(item);
    fs.fdatasync = realFdatasync;
    return { first, second };
  }

  it("queues the id once when the first send's flush lands", async () => {
    const { first, second } = await twoSends();
    for (const done of held.splice(0)) done(null);
    await Promise.all([first, second]);
    expect(queue.size()).to.equal(1);
  });

  it("queues the second send when the first one's flush failed", async () => {
    const { first, second } = await twoSends();
    for (const done of held.splice(0)) done(new Error("EIO: i/o error, fdatasync"));
    const outcomes = await Promise.allSettled([first, second]);
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(["rejected", "fulfilled"]);
    expect(queue.size()).to.equal(1);
  });

  it("refuses the second send, as any send, when the queue began stopping while it waited on the first one's flush (which failed)", async () => {
    const { first, second } = await twoSends();
    const stopped = queue.stop(0);
    for (const done of held.splice(0)) done(new Error("EIO: i/o error, fdatasync"));
    const outcomes = await Promise.allSettled([first, second]);
    await stopped;
    expect(outcomes.map((outcome) => outcome.status)).to.deep.equal(["rejected", "rejected"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).to.match(/shutting down/);
    expect(queue.size()).to.equal(0);
  });
});
