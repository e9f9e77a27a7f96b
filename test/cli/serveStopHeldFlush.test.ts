// `hookgate serve --fsync` stopped while a delivery waits for its flush: once the stop has closed dedupe.jsonl
// (and then removed serve.lock), the receive path's release of its claim, when the held flush ends, writes
// nothing there (another serve may own the state dir by then), nor does the history's write of its answer.
import { randomUUID } from "node:crypto";
import fs, { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders, REPO_ROOT, request } from "./serveHarness";

const SECRET = "stop-flush-secret";
const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
const realFdatasync = fs.fdatasync;

describe("serve --fsync stopped while a delivery's flush is held", () => {
  let dir: string;
  afterEach(() => {
    fs.fdatasync = realFdatasync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes nothing to dedupe.jsonl once the stop has removed serve.lock, when the held flush ends and the enqueue fails", async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-stop-flush-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    const stateDir = join(dir, "state");
    const gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir,
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      fsync: true,
      drainTimeoutMs: 50,
      log: () => {},
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });
    const held: Array<(error: Error | null) => void> = [];
    fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) =>
      void held.push(done)) as typeof fs.fdatasync;
    // The stop closes this connection: its answer is not waited for.
    request(`${gateway.url}/hooks/r`, {
      headers: githubHeaders(SECRET, PUSH, "push", randomUUID()),
      body: PUSH,
    }).catch(() => {});
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await gateway.close();
    expect(existsSync(join(stateDir, "serve.lock"))).to.equal(false);
    const atStop = readFileSync(join(stateDir, "dedupe.jsonl"), "utf8");
    for (const done of held.splice(0)) done(null); // the disk answers the flush at last
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(readFileSync(join(stateDir, "dedupe.jsonl"), "utf8")).to.equal(atStop);
  });

  it("writes nothing to deliveries.json once the stop has removed serve.lock: the late 503 is in memory and in the log, not on disk", async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-stop-history-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    const stateDir = join(dir, "state");
    const lines: Array<Record<string, unknown>> = [];
    const gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir,
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      fsync: true,
      drainTimeoutMs: 50,
      log: (line) => void lines.push(line),
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });
    const held: Array<(error: Error | null) => void> = [];
    fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) =>
      void held.push(done)) as typeof fs.fdatasync;
    const delivery = randomUUID();
    request(`${gateway.url}/hooks/r`, {
      headers: githubHeaders(SECRET, PUSH, "push", delivery),
      body: PUSH,
    }).catch(() => {});
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await gateway.close();
    expect(existsSync(join(stateDir, "serve.lock"))).to.equal(false);
    const history = join(stateDir, "deliveries.json");
    const onDisk = () => (existsSync(history) ? readFileSync(history, "utf8") : "(none)");
    const atStop = onDisk();
    for (const done of held.splice(0)) done(null); // the disk answers the flush at last
    const late = () => gateway.deliveries.list().find((entry) => entry.delivery === delivery);
    while (!late()) await new Promise((resolve) => setTimeout(resolve, 5));
    // Past the history's 250 ms write delay: a write it scheduled would have landed.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(onDisk()).to.equal(atStop);
    expect(late()?.httpStatus).to.equal(503);
    // Not lost from sight: the handler's delivery line tells the answer the Git host got.
    const logged = lines.find((line) => line.msg === "delivery" && line.deliveryId === delivery);
    expect(logged?.status).to.equal(503);
  });

  it("FileDedupeStore: once closed, a release or a mark writes no line, and a claim is refused", async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-closed-dedupe-"));
    const file = join(dir, "dedupe.jsonl");
    const store = new FileDedupeStore(file);
    await store.claim("r", "d1");
    store.close();
    const atClose = readFileSync(file, "utf8");
    await store.release("r", "d1", 1);
    await store.mark("r", "d1", 1, "queued");
    let refused: unknown;
    await store.claim("r", "d2").catch((error: unknown) => {
      refused = error;
    });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(readFileSync(file, "utf8")).to.equal(atClose);
    expect(refused, "a claim after the close").to.be.instanceOf(Error);
  });
});
