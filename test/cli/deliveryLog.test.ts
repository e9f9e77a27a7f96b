// serve's delivery history (src/local/deliveryLog.ts), GET /_hookgate/deliveries: what each call records,
// the bound on entries, load of a hand-edited file, and the debounced write. Real files in a temp dir.
import fs, { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome, WorkItem } from "../../src/core/types";
import { DELIVERY_STATUSES, type DeliveryEntry, DeliveryLog } from "../../src/local/deliveryLog";
import { startLocalGateway } from "../../src/local/localGateway";
import { localWorkItem, ROUTE_R_YAML } from "../support/localStores";

const item = (delivery: string, overrides: Partial<WorkItem> = {}): WorkItem => ({
  ...localWorkItem(delivery),
  ...overrides,
});

/** The entries without their times (which are now), newest first. */
function entries(history: DeliveryLog, filter?: Parameters<DeliveryLog["list"]>[0]) {
  return history.list(filter).map(({ receivedAt: _r, updatedAt: _u, ...rest }) => rest);
}

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hookgate-deliveries-"));
  file = join(dir, "deliveries.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("Class: DeliveryLog, what each call records", () => {
  it("answered records a delivery with no attempts, and its reason and HTTP status only when given", () => {
    const history = new DeliveryLog(file);
    history.answered({ route: "r", delivery: "d1", event: "push", status: "ignored", reason: "no match" });
    history.answered({ route: "r", delivery: "d2", event: "ping", status: "ignored", httpStatus: 200 });
    history.answered({ route: "r", delivery: "d3", event: "push", status: "rejected" });
    expect(entries(history)).to.deep.equal([
      { delivery: "d3", route: "r", event: "push", status: "rejected", attempts: 0 },
      { delivery: "d2", route: "r", event: "ping", status: "ignored", attempts: 0, httpStatus: 200 },
      { delivery: "d1", route: "r", event: "push", status: "ignored", attempts: 0, reason: "no match" },
    ]);
    // Every entry lists its keys in one order, whatever order they were filled in.
    const [entry] = history.list();
    expect(Object.keys(entry as DeliveryEntry)).to.deep.equal([
      "delivery",
      "route",
      "event",
      "status",
      "attempts",
      "receivedAt",
      "updatedAt",
    ]);
  });

  it("queued records a work item as queued, named event.action or event, or unknown without an event", () => {
    const history = new DeliveryLog(file);
    history.queued(item("push"));
    const pr = item("pr");
    history.queued({ ...pr, event: { ...pr.event, event: "pull_request", action: "closed" } } as WorkItem);
    history.queued({ ...item("none"), event: undefined } as unknown as WorkItem);
    expect(entries(history)).to.deep.equal([
      { delivery: "none", route: "r", event: "unknown", status: "queued", attempts: 0, generation: 1 },
      {
        delivery: "pr",
        route: "r",
        event: "pull_request.closed",
        status: "queued",
        attempts: 0,
        generation: 1,
      },
      { delivery: "push", route: "r", event: "push", status: "queued", attempts: 0, generation: 1 },
    ]);
    expect(history.statusOf(item("push"))).to.equal("queued");
    expect(history.statusOf(item("never"))).to.equal(undefined);
  });

  it("work updates the entry of its route, delivery and generation; a patch changes only the fields it has", () => {
    const history = new DeliveryLog(file);
    history.queued(item("d"));
    history.queued(item("d", { generation: 2 }));
    history.work(item("d"), { status: "running", attempts: 1 });
    history.work(item("d"), { status: "retrying", error: "HTTP 502", reason: "next attempt in 5 s" });
    history.work(item("d"), { attempts: 2 });
    expect(entries(history)).to.deep.equal([
      { delivery: "d", route: "r", event: "push", status: "queued", attempts: 0, generation: 2 },
      {
        delivery: "d",
        route: "r",
        event: "push",
        status: "retrying",
        attempts: 2,
        reason: "next attempt in 5 s",
        error: "HTTP 502",
        generation: 1,
      },
    ]);
  });

  it("done drops the error of the attempts before; dead is final for its generation, a later done keeps it dead", () => {
    const history = new DeliveryLog(file);
    history.queued(item("ok"));
    history.work(item("ok"), { status: "retrying", error: "HTTP 502" });
    history.work(item("ok"), { status: "done", attempts: 2, reason: "queued #7" });
    history.queued(item("gone"));
    history.work(item("gone"), { status: "dead", error: "HTTP 404" });
    history.work(item("gone"), { status: "done", reason: "late" });
    expect(entries(history)).to.deep.equal([
      {
        delivery: "gone",
        route: "r",
        event: "push",
        status: "dead",
        attempts: 0,
        reason: "late",
        error: "HTTP 404",
        generation: 1,
      },
      {
        delivery: "ok",
        route: "r",
        event: "push",
        status: "done",
        attempts: 2,
        reason: "queued #7",
        generation: 1,
      },
    ]);
  });

  it("work creates the entry of an item the history does not hold (it fell out of it)", () => {
    const history = new DeliveryLog(file);
    history.work(item("d"), { status: "running", attempts: 1 });
    expect(entries(history)).to.deep.equal([
      { delivery: "d", route: "r", event: "push", status: "running", attempts: 1, generation: 1 },
    ]);
  });

  it("unreadable records a dead message with no delivery id, and why", () => {
    const history = new DeliveryLog(file);
    history.unreadable("r", "not a work item");
    expect(entries(history)).to.deep.equal([
      { delivery: "", route: "r", event: "unknown", status: "dead", attempts: 0, error: "not a work item" },
    ]);
  });

  it("counts tells how many entries have each status", () => {
    const history = new DeliveryLog(file);
    expect(history.counts()).to.deep.equal({});
    history.answered({ route: "r", delivery: "a", event: "push", status: "ignored" });
    history.answered({ route: "r", delivery: "b", event: "push", status: "ignored" });
    history.queued(item("c"));
    expect(history.counts()).to.deep.equal({ ignored: 2, queued: 1 });
  });

  it("settle treats done, dead, ignored and rejected as final and leaves them; queued, running and retrying it finishes", () => {
    const history = new DeliveryLog(file);
    const statuses: DeliveryEntry["status"][] = [...DELIVERY_STATUSES];
    for (const status of statuses) history.work(item(status), { status });
    for (const status of statuses) history.settle(item(status), { status: "done", attempts: 9 }, 0);
    const final = entries(history)
      .filter((e) => e.attempts === 0)
      .map((e) => e.delivery);
    expect(final.sort()).to.deep.equal(["dead", "done", "ignored", "rejected"]);
  });
});

describe("Class: DeliveryLog, accepted (the 202 the Git host got)", () => {
  it("attaches the status to the newest work entry of the delivery on that route, even the only entry", () => {
    const history = new DeliveryLog(file);
    history.queued(item("d"));
    history.accepted("r", "d", "push", 202);
    expect(entries(history)).to.deep.equal([
      {
        delivery: "d",
        route: "r",
        event: "push",
        status: "queued",
        attempts: 0,
        httpStatus: 202,
        generation: 1,
      },
    ]);
  });

  it("leaves another route's entry and an answered entry alone", () => {
    const history = new DeliveryLog(file);
    history.queued(item("d"));
    history.queued(item("d", { route: "other" }));
    history.answered({ route: "r", delivery: "d", event: "push", status: "ignored" });
    history.accepted("r", "d", "push", 202);
    expect(entries(history).map((e) => [e.route, e.status, e.httpStatus])).to.deep.equal([
      ["r", "ignored", undefined],
      ["other", "queued", undefined],
      ["r", "queued", 202],
    ]);
  });

  it("attaches the status to the further ref changes of a push (<id>#<n>) that have none yet", () => {
    const history = new DeliveryLog(file);
    history.queued(item("d"));
    history.queued(item("d#1"));
    history.queued(item("d#2"));
    history.accepted("r", "d#2", "push", 200); // already answered on its own
    history.queued(item("dx#1")); // another delivery whose id starts the same
    history.accepted("r", "d", "push", 202);
    expect(entries(history).map((e) => [e.delivery, e.httpStatus])).to.deep.equal([
      ["dx#1", undefined],
      ["d#2", 200],
      ["d#1", 202],
      ["d", 202],
    ]);
  });

  it("only further ref changes in the history: they get the status and no entry is added", () => {
    const history = new DeliveryLog(file);
    history.queued(item("d#1"));
    history.accepted("r", "d", "push", 202);
    expect(entries(history).map((e) => [e.delivery, e.httpStatus])).to.deep.equal([["d#1", 202]]);
  });

  it("no work entry for the delivery: a queued entry is added with the status", () => {
    const history = new DeliveryLog(file);
    history.queued(item("other"));
    history.accepted("r", "d", "push", 202);
    expect(entries(history)[0]).to.deep.equal({
      delivery: "d",
      route: "r",
      event: "push",
      status: "queued",
      attempts: 0,
      httpStatus: 202,
    });
  });
});

describe("Class: DeliveryLog, bounds, filters and settle", () => {
  it("keeps the newest max entries; an item whose entry fell out gets a new one", () => {
    const history = new DeliveryLog(file, 2);
    history.queued(item("a"));
    history.queued(item("b"));
    history.queued(item("c"));
    expect(entries(history).map((e) => e.delivery)).to.deep.equal(["c", "b"]);
    expect(history.statusOf(item("a"))).to.equal(undefined);
    history.work(item("a"), { status: "done" });
    expect(entries(history).map((e) => [e.delivery, e.status])).to.deep.equal([
      ["a", "done"],
      ["c", "queued"],
    ]);
  });

  it("list filters by route and by status, newest first, up to limit", () => {
    const history = new DeliveryLog(file);
    history.queued(item("a"));
    history.queued(item("b", { route: "s" }));
    history.queued(item("c"));
    history.work(item("c"), { status: "done" });
    history.queued(item("d"));
    expect(entries(history, { route: "r" }).map((e) => e.delivery)).to.deep.equal(["d", "c", "a"]);
    expect(entries(history, { status: "queued" }).map((e) => e.delivery)).to.deep.equal(["d", "b", "a"]);
    expect(entries(history, { route: "r", status: "queued", limit: 1 }).map((e) => e.delivery)).to.deep.equal(
      ["d"],
    );
    expect(entries(history, { limit: 0 })).to.deep.equal([]);
    expect(entries(history, { limit: 4 }).map((e) => e.delivery)).to.deep.equal(["d", "c", "b", "a"]);
  });

  it("settle keeps an entry already final, and finishes one still shown unfinished where it is", () => {
    const history = new DeliveryLog(file);
    history.queued(item("final"));
    history.work(item("final"), { status: "dead", attempts: 5 });
    history.queued(item("open"));
    history.answered({ route: "r", delivery: "later", event: "push", status: "ignored" });
    history.settle(item("final"), { status: "done", attempts: 9, reason: "x" }, 0);
    history.settle(item("open"), { status: "done", attempts: 2 }, 0);
    expect(entries(history).map((e) => [e.delivery, e.status, e.attempts, e.reason])).to.deep.equal([
      ["later", "ignored", 0, undefined],
      ["open", "done", 2, undefined],
      ["final", "dead", 5, undefined],
    ]);
  });

  it("settle brings back an item the history lacks with the time it was sent, unless a full history's oldest entry is newer", () => {
    const history = new DeliveryLog(file, 2);
    const now = Date.now();
    history.answered({ route: "r", delivery: "new", event: "push", status: "ignored" });
    history.settle(item("before"), { status: "done", attempts: 1 }, now - 60_000);
    expect(history.list()[1]?.receivedAt).to.equal(new Date(now - 60_000).toISOString());
    // Full now: an item older than its oldest entry is not brought back; a newer one is.
    history.settle(item("older"), { status: "done", attempts: 1 }, now - 120_000);
    expect(entries(history).map((e) => e.delivery)).to.deep.equal(["new", "before"]);
    history.settle(item("between"), { status: "dead", attempts: 3 }, now - 30_000);
    expect(entries(history).map((e) => e.delivery)).to.deep.equal(["new", "between"]);
  });

  it("settle with a time no date can hold records the item as received now", () => {
    const history = new DeliveryLog(file);
    const before = new Date().toISOString();
    history.settle(item("d"), { status: "done", attempts: 1 }, 1e20);
    const [entry] = history.list();
    expect(entry?.delivery).to.equal("d");
    expect((entry?.receivedAt ?? "") >= before).to.equal(true);
  });

  it("settle places an entry received at the same time as the one before it after it", () => {
    const history = new DeliveryLog(file);
    const at = Date.now() - 60_000;
    history.settle(item("first"), { status: "done", attempts: 1 }, at);
    history.settle(item("second"), { status: "done", attempts: 1 }, at);
    expect(entries(history).map((e) => e.delivery)).to.deep.equal(["second", "first"]);
  });
});

describe("Class: DeliveryLog, load", () => {
  const stored = (delivery: string, fields: Partial<DeliveryEntry> = {}): DeliveryEntry => ({
    delivery,
    route: "r",
    event: "push",
    status: "queued",
    attempts: 0,
    generation: 1,
    receivedAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...fields,
  });

  it("reads the file newest first, keeps the newest max, and finds their work entries again", () => {
    writeFileSync(file, JSON.stringify([stored("c"), stored("b"), stored("a")]));
    const history = new DeliveryLog(file, 2);
    history.load();
    expect(entries(history).map((e) => e.delivery)).to.deep.equal(["c", "b"]);
    history.work(item("b"), { status: "done" });
    expect(entries(history).map((e) => [e.delivery, e.status])).to.deep.equal([
      ["c", "queued"],
      ["b", "done"],
    ]);
  });

  it("skips entries without a route, event or known status, and null ones", () => {
    writeFileSync(
      file,
      JSON.stringify([
        null,
        stored("no-route", { route: 1 as unknown as string }),
        stored("no-event", { event: undefined as unknown as string }),
        stored("bad-status", { status: "lost" as DeliveryEntry["status"] }),
        stored("good"),
      ]),
    );
    const history = new DeliveryLog(file);
    history.load();
    expect(entries(history).map((e) => e.delivery)).to.deep.equal(["good"]);
  });

  it("an answered entry (no generation) is not a work entry: work on the same delivery adds its own", () => {
    writeFileSync(file, JSON.stringify([stored("d", { generation: undefined, status: "ignored" })]));
    const history = new DeliveryLog(file);
    history.load();
    expect(history.statusOf(item("d"))).to.equal(undefined);
    history.work(item("d"), { status: "running" });
    expect(entries(history).map((e) => [e.delivery, e.status, e.generation])).to.deep.equal([
      ["d", "running", 1],
      ["d", "ignored", undefined],
    ]);
  });

  it("two stored entries of one work item: dropping the older past max keeps the newer one found", () => {
    writeFileSync(
      file,
      JSON.stringify([stored("d", { status: "running" }), stored("d", { status: "queued" })]),
    );
    const history = new DeliveryLog(file, 2);
    history.load();
    history.answered({ route: "r", delivery: "x", event: "push", status: "ignored" }); // drops the older
    expect(history.statusOf(item("d"))).to.equal("running");
  });

  it("a damaged or missing file, or one that is no list, starts an empty history", () => {
    for (const text of [undefined, "{not json", '{"a":1}', '"text"']) {
      rmSync(file, { force: true });
      if (text !== undefined) writeFileSync(file, text);
      const history = new DeliveryLog(file);
      history.load();
      expect(history.list()).to.deep.equal([]);
    }
  });
});

describe("Class: DeliveryLog, writing the history", () => {
  const realRename = fs.renameSync;
  let writes: number;
  beforeEach(() => {
    writes = 0;
    fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
      writes++;
      realRename(from, to);
    };
  });
  afterEach(() => {
    fs.renameSync = realRename;
  });

  const onDisk = () =>
    (JSON.parse(readFileSync(file, "utf8")) as DeliveryEntry[]).map((e) => [e.delivery, e.status]);

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  it("a history with no change writes no file on flushSync", () => {
    const history = new DeliveryLog(file);
    history.flushSync();
    expect(existsSync(file)).to.equal(false);
    expect(writes).to.equal(0);
  });

  it("changes are written by the timer, once for the changes of its delay, newest first", async () => {
    const history = new DeliveryLog(file, 500, 0);
    history.queued(item("a"));
    history.work(item("a"), { status: "running" });
    history.queued(item("b"));
    await until(() => existsSync(file));
    expect(onDisk()).to.deep.equal([
      ["b", "queued"],
      ["a", "running"],
    ]);
    expect(writes).to.equal(1);
    history.flushSync(); // nothing changed since
    expect(writes).to.equal(1);
  });

  it("flushSync writes what changed now, once: a second flushSync with no change writes nothing", () => {
    const history = new DeliveryLog(file, 500, 60_000);
    history.queued(item("a"));
    history.flushSync();
    expect(onDisk()).to.deep.equal([["a", "queued"]]);
    history.flushSync();
    expect(writes).to.equal(1);
  });

  it("close writes what changed, and a change after it is kept in memory but never written, by the timer or flushSync", async () => {
    // A timer of 0 ms: a change scheduled after the close would be written by the next turns of the loop.
    const history = new DeliveryLog(file, 500, 0);
    history.queued(item("a"));
    history.close();
    expect(onDisk()).to.deep.equal([["a", "queued"]]);
    history.work(item("a"), { status: "done" });
    history.answered({ route: "r", delivery: "late", event: "push", status: "rejected", httpStatus: 503 });
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    history.flushSync();
    history.close();
    expect(onDisk()).to.deep.equal([["a", "queued"]]);
    expect(writes).to.equal(1);
    expect(entries(history).map((e) => [e.delivery, e.status])).to.deep.equal([
      ["late", "rejected"],
      ["a", "done"],
    ]);
  });

  it("close that fails to write throws, and closes all the same: a later change is not written", async () => {
    const history = new DeliveryLog(file, 500, 0);
    history.queued(item("a"));
    fs.renameSync = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    };
    expect(() => history.close()).to.throw(/ENOSPC/);
    fs.renameSync = realRename;
    history.queued(item("b"));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    history.flushSync();
    expect(existsSync(file)).to.equal(false);
  });
});

describe("Class: DeliveryLog, rejected deliveries in a ring of their own", () => {
  it("keeps a dead work entry however many rejected deliveries come after it, and only the last rejected ones", () => {
    const history = new DeliveryLog(file, 3, 0, 2);
    history.work(item("d-dead"), { status: "dead", attempts: 1 });
    history.answered({ route: "r", delivery: "ok", event: "ping", status: "ignored" });
    for (let i = 0; i < 10; i++) {
      history.answered({ route: "nope", delivery: `probe-${i}`, event: "push", status: "rejected" });
    }
    expect(entries(history).map((e) => [e.delivery, e.status])).to.deep.equal([
      ["probe-9", "rejected"],
      ["probe-8", "rejected"],
      ["ok", "ignored"],
      ["d-dead", "dead"],
    ]);
    expect(history.counts()).to.deep.equal({ rejected: 2, ignored: 1, dead: 1 });
  });

  it("lists both rings newest first, interleaved as the deliveries came, and reads them back so", () => {
    const history = new DeliveryLog(file, 3, 0, 2);
    history.answered({ route: "r", delivery: "a", event: "push", status: "rejected" });
    history.queued(item("b"));
    history.answered({ route: "r", delivery: "c", event: "push", status: "rejected" });
    history.answered({ route: "r", delivery: "d", event: "push", status: "ignored" });
    const order = entries(history).map((e) => e.delivery);
    expect(order).to.deep.equal(["d", "c", "b", "a"]);
    history.flushSync();
    const again = new DeliveryLog(file, 3, 0, 2);
    again.load();
    expect(entries(again).map((e) => e.delivery)).to.deep.equal(order);
  });
});

describe("Class: DeliveryLog, durable (serve --fsync): flushSync, before a compaction of the queue journal, flushes the file", () => {
  const realFsyncSync = fs.fsyncSync;
  let synced: string[];
  beforeEach(() => {
    synced = [];
    fs.fsyncSync = (fd: number) => {
      synced.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
      realFsyncSync(fd);
    };
  });
  afterEach(() => {
    fs.fsyncSync = realFsyncSync;
  });

  /** The fsyncs of a write of deliveries.json: its temporary file, then the directory. */
  const historyFlushes = () =>
    synced.filter((path) => /\/\.deliveries\.json\.[0-9a-f]{12}\.tmp$/.test(path) || path === dir);

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  for (const durable of [true, false]) {
    it(`${durable ? "durable" : "not durable"}: flushSync of a change ${durable ? "flushes" : "does not flush"} the file and its directory`, () => {
      const history = new DeliveryLog(file, 500, 60_000, 100, durable);
      history.queued(item("a"));
      history.flushSync();
      expect(historyFlushes()).to.have.length(durable ? 2 : 0);
    });
  }

  it("durable: flushSync after a timed write with no change since writes and flushes it once; the timed write is not flushed", async () => {
    const history = new DeliveryLog(file, 500, 0, 100, true);
    history.queued(item("a"));
    await until(() => existsSync(file));
    expect(historyFlushes()).to.have.length(0);
    history.flushSync();
    expect(historyFlushes()).to.have.length(2);
    history.flushSync(); // flushed since, and no change: nothing
    expect(historyFlushes()).to.have.length(2);
    expect(JSON.parse(readFileSync(file, "utf8")).map((e: DeliveryEntry) => e.delivery)).to.deep.equal(["a"]);
  });

  it("durable: flushSync after a load (the file an earlier run wrote, maybe never flushed) flushes it, with what it held", () => {
    const before = new DeliveryLog(file);
    before.queued(item("a"));
    before.flushSync();
    const history = new DeliveryLog(file, 500, 60_000, 100, true);
    history.load();
    history.flushSync();
    expect(historyFlushes()).to.have.length(2);
    expect(JSON.parse(readFileSync(file, "utf8")).map((e: DeliveryEntry) => e.delivery)).to.deep.equal(["a"]);
  });

  for (const fsync of [true, false]) {
    it(`serve ${fsync ? "with" : "without"} --fsync: the start ${fsync ? "flushes" : "does not flush"} deliveries.json${fsync ? ", before the queue journal's compaction" : ""}`, async () => {
      const before = new DeliveryLog(join(dir, "state", "deliveries.json"));
      before.queued(item("a"));
      fs.mkdirSync(join(dir, "state"));
      before.flushSync();
      writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
      writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": "s" }));
      const gateway = await startLocalGateway({
        config: loadRoutesFile(join(dir, "routes.yaml")),
        stateDir: join(dir, "state"),
        secretsFile: join(dir, "secrets.json"),
        port: 0,
        fsync,
        drainTimeoutMs: 50,
        log: () => {},
        runAction: async () => ({ detail: "" }) as ActionOutcome,
      });
      const atStart = [...synced];
      await gateway.close();
      const history = atStart.findIndex((path) => /\/\.deliveries\.json\.[0-9a-f]{12}\.tmp$/.test(path));
      const queueJournal = atStart.findIndex((path) => /\/\.journal\.jsonl\.[0-9a-f]{12}\.tmp$/.test(path));
      if (fsync) {
        expect(history, "deliveries.json flushed").to.be.at.least(0);
        expect(queueJournal, "queue journal compacted durably").to.be.above(history);
      } else expect(atStart).to.deep.equal([]);
    });
  }

  it("durable: with no file and no change, flushSync writes nothing", () => {
    const history = new DeliveryLog(file, 500, 60_000, 100, true);
    history.load();
    history.flushSync();
    expect(existsSync(file)).to.equal(false);
    expect(synced).to.deep.equal([]);
  });
});
