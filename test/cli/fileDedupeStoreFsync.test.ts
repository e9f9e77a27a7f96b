// serve --fsync and dedupe.jsonl (src/local/fileDedupeStore.ts): the lines an answer or a queue delete rests on
// (a claim before the 202, a done or dead mark before the delete) are fdatasynced before the call they answer
// resolves, and a compaction fsyncs its file and directory; without --fsync nothing is flushed. A power cut
// cannot be played here: the tests watch the flushes, as journalFile.test.ts does.
import { randomUUID } from "node:crypto";
import fs, { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { DEDUPE_TTL_SECONDS } from "../../src/core/policy";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders, REPO_ROOT, request } from "./serveHarness";

const realFdatasync = fs.fdatasync;
const realFsyncSync = fs.fsyncSync;

interface HeldFlush {
  /** The file the descriptor flushed is open on. */
  path: string;
  fd: number;
  done: (error: Error | null) => void;
}

/** fs.fdatasync held until `release`; `watch` says which files' flushes to hold (the others run at once). */
function holdFlushes(watch: (path: string) => boolean) {
  const held: HeldFlush[] = [];
  const flushed: string[] = [];
  fs.fdatasync = ((fd: number, done: (error: Error | null) => void) => {
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    if (!watch(path)) {
      realFdatasync(fd, (error) => {
        flushed.push(path);
        done(error);
      });
      return;
    }
    held.push({ path, fd, done });
  }) as typeof fs.fdatasync;
  return {
    held,
    /** Paths whose (unheld) flushes have ended. */
    flushed,
    release(): void {
      for (const flush of held.splice(0)) realFdatasync(flush.fd, flush.done);
    },
  };
}

function settledFlag(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return () => settled;
}

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("Class: FileDedupeStore, durable (serve --fsync)", () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-dedupe-fsync-"));
    file = join(dir, "dedupe.jsonl");
  });

  afterEach(() => {
    fs.fdatasync = realFdatasync;
    fs.fsyncSync = realFsyncSync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("the queued mark (the 202 waits for it) resolves only once dedupe.jsonl, holding the claim's line, is flushed", async () => {
    const store = new FileDedupeStore(file, Date.now, { durable: true });
    const flushes = holdFlushes((path) => path === file);
    await store.claim("r", "d1");
    const marked = store.mark("r", "d1", 1, "queued");
    const isMarked = settledFlag(marked);
    await turns(5);
    expect(flushes.held.map((flush) => flush.path)).to.deep.equal([file]);
    // The flush was asked for once the claim's line was written: it covers that line.
    expect(readFileSync(file, "utf8")).to.include('"k":"r#d1","s":"pending","g":1');
    expect(isMarked(), "resolved before the claim's flush").to.equal(false);
    flushes.release();
    await marked;
    store.close();
  });

  it("a queued mark rejects when the claim's flush fails, and the claim stays pending, as after any failed mark (the receive path logs it)", async () => {
    const store = new FileDedupeStore(file, Date.now, { durable: true });
    fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) =>
      done(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }))) as typeof fs.fdatasync;
    await store.claim("r", "d1");
    const failure = await store.mark("r", "d1", 1, "queued").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(failure)).to.match(/EIO/);
    expect(store.stateNow("r", "d1")).to.deep.equal({ state: "pending", generation: 1 });
    await turns(3);
    expect(readFileSync(file, "utf8")).not.to.include('"s":"queued"');
    store.close();
  });

  for (const state of ["done", "dead"] as const) {
    it(`a ${state} mark (the queue deletes its message after it) resolves only once dedupe.jsonl, holding its line, is flushed`, async () => {
      const store = new FileDedupeStore(file, Date.now, { durable: true });
      await store.claim("r", "d1");
      await store.mark("r", "d1", 1, "queued");
      const flushes = holdFlushes((path) => path === file);
      const marked = store.mark("r", "d1", 1, state);
      const isMarked = settledFlag(marked);
      // Written at once, before the flush (as without --fsync).
      expect(readFileSync(file, "utf8")).to.include(`"k":"r#d1","s":"${state}","g":1`);
      await turns(5);
      expect(flushes.held.map((flush) => flush.path)).to.deep.equal([file]);
      expect(isMarked(), "resolved before its flush").to.equal(false);
      flushes.release();
      await marked;
      store.close();
    });
  }

  it("the start's compaction fsyncs the new file before its rename and the directory after it", () => {
    writeFileSync(file, `${'{"k":"r#d1","s":"queued","g":1,"t":1}\n'.repeat(3)}`);
    const synced: string[] = [];
    fs.fsyncSync = (fd: number) => {
      synced.push(readlinkSync(`/proc/self/fd/${fd}`));
      realFsyncSync(fd);
    };
    const store = new FileDedupeStore(file, () => 1_000, { durable: true });
    expect(synced).to.have.length(2);
    expect(synced[0]).to.match(/\/\.dedupe\.jsonl\.[0-9a-f]{12}\.tmp$/);
    expect(synced[1]).to.equal(dir);
    expect(readFileSync(file, "utf8")).to.equal('{"k":"r#d1","s":"queued","g":1,"t":1}\n');
    store.close();
  });

  it("without durable, no claim, mark or compaction flushes anything (the 202 path is unchanged)", async () => {
    writeFileSync(file, '{"k":"r#old","s":"done","g":1,"t":1}\n');
    let flushes = 0;
    fs.fdatasync = ((fd: number, done: (error: Error | null) => void) => {
      flushes++;
      realFdatasync(fd, done);
    }) as typeof fs.fdatasync;
    fs.fsyncSync = (fd: number) => {
      flushes++;
      realFsyncSync(fd);
    };
    const store = new FileDedupeStore(file, () => 1_000);
    await store.claim("r", "d1");
    await store.mark("r", "d1", 1, "queued");
    await store.mark("r", "d1", 1, "done");
    await store.claim("r", "d2");
    await store.mark("r", "d2", 1, "dead");
    await turns(3);
    store.close();
    expect(flushes).to.equal(0);
    expect(readFileSync(file, "utf8").trim().split("\n")).to.have.length(6); // the old id and the five changes
  });
});

describe("Function: startLocalGateway with fsync (serve --fsync) and dedupe.jsonl", () => {
  const SECRET = "dedupe-fsync-secret";
  const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
  let dir: string;
  let stateDir: string;
  let dedupeFile: string;
  const lines: Array<Record<string, unknown>> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-dedupe-fsync-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    stateDir = join(dir, "state");
    dedupeFile = join(stateDir, "dedupe.jsonl");
    lines.length = 0;
  });

  afterEach(() => {
    fs.fdatasync = realFdatasync;
    fs.fsyncSync = realFsyncSync;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (fsync = true) =>
    startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir,
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      fsync,
      drainTimeoutMs: 50,
      log: (line) => void lines.push(line),
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });

  const deliver = (url: string, delivery: string) =>
    request(`${url}/hooks/r`, { headers: githubHeaders(SECRET, PUSH, "push", delivery), body: PUSH });

  for (const fsync of [true, false]) {
    it(`${fsync ? "with" : "without"} fsync, the start's compaction of dedupe.jsonl ${fsync ? "fsyncs" : "does not fsync"} its new file`, async () => {
      const synced: string[] = [];
      fs.fsyncSync = (fd: number) => {
        synced.push(readlinkSync(`/proc/self/fd/${fd}`));
        realFsyncSync(fd);
      };
      const gateway = await start(fsync);
      await gateway.close();
      const dedupeFiles = synced.filter((path) => /\/\.dedupe\.jsonl\.[0-9a-f]{12}\.tmp$/.test(path));
      expect(dedupeFiles).to.have.length(fsync ? 1 : 0);
    });
  }

  it("answers 202 only once dedupe.jsonl holding the delivery's claim is flushed, not only the queue journal", async () => {
    const gateway = await start();
    try {
      const flushes = holdFlushes((path) => path === dedupeFile);
      const delivery = randomUUID();
      const answer = deliver(gateway.url, delivery);
      const answered = settledFlag(answer);
      const queueJournal = join(stateDir, "queue", "journal.jsonl");
      // The queue journal's flush ends (it is not held); the claim's stays held.
      for (let i = 0; i < 400 && !(flushes.held.length > 0 && flushes.flushed.includes(queueJournal)); i++)
        await new Promise((resolve) => setTimeout(resolve, 5));
      expect(flushes.flushed).to.include(queueJournal);
      expect(flushes.held.map((flush) => flush.path)).to.deep.equal([dedupeFile]);
      expect(readFileSync(dedupeFile, "utf8")).to.include(`"k":"r#${delivery}","s":"pending"`);
      await turns(10);
      expect(answered(), "answered before dedupe.jsonl was flushed").to.equal(false);
      fs.fdatasync = realFdatasync;
      flushes.release();
      expect((await answer).status).to.equal(202);
    } finally {
      fs.fdatasync = realFdatasync;
      await gateway.close();
    }
  });

  it("a flush of dedupe.jsonl that fails still answers 202 (the work is in the flushed queue journal), its log line naming the error", async () => {
    const gateway = await start();
    try {
      fs.fdatasync = ((fd: number, done: (error: Error | null) => void) => {
        if (readlinkSync(`/proc/self/fd/${fd}`) !== dedupeFile) return realFdatasync(fd, done);
        done(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
      }) as typeof fs.fdatasync;
      const delivery = randomUUID();
      expect((await deliver(gateway.url, delivery)).status).to.equal(202);
      const logged = lines.find((line) => line.msg === "delivery" && line.deliveryId === delivery);
      expect(logged?.error).to.equal("marking the delivery queued failed: EIO: i/o error, fdatasync");
    } finally {
      fs.fdatasync = realFdatasync;
      await gateway.close();
    }
  });
});

describe("Class: FileDedupeStore, replaying dedupe.jsonl and expiry", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-dedupe-replay-"));
    file = join(dir, "dedupe.jsonl");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a delete line (d 1) in an older journal forgets the delivery, so its next claim is a fresh first claim", async () => {
    const at = Date.now();
    writeFileSync(
      file,
      `{"k":"r#d-1","s":"done","g":3,"t":${at}}\n{"k":"r#d-1","d":1}\n{"k":"r#d-2","s":"done","g":1,"t":${at}}\n`,
    );
    const store = new FileDedupeStore(file);
    expect(await store.claim("r", "d-1")).to.deep.include({ claimed: true, generation: 1 });
    expect(await store.claim("r", "d-2")).to.deep.include({ claimed: false, state: "done" });
  });

  it("a done delivery is still refused in the last second of DEDUPE_TTL_SECONDS, and claimable anew the second after", async () => {
    let clock = 0;
    const store = new FileDedupeStore(file, () => clock);
    await store.claim("r", "d-1");
    await store.mark("r", "d-1", 1, "done");
    clock = DEDUPE_TTL_SECONDS * 1000 + 999;
    expect(await store.claim("r", "d-1")).to.deep.include({ claimed: false, state: "done" });
    clock = (DEDUPE_TTL_SECONDS + 1) * 1000;
    expect(await store.claim("r", "d-1")).to.deep.include({ claimed: true, generation: 1 });
  });

  it("a claim left pending by a stopped serve is taken over at once after a restart, as the same generation", async () => {
    const before = new FileDedupeStore(file);
    expect(await before.claim("r", "d-1")).to.deep.include({ claimed: true, generation: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    const after = new FileDedupeStore(file);
    expect(await after.claim("r", "d-1")).to.deep.include({ claimed: true, generation: 1 });
  });
});
