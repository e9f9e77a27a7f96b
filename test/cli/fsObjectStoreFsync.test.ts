// serve --fsync and the local S3 stand-in (src/local/fsObjectStore.ts): a put resolves only once its streamed
// part is fsynced before its rename and the folders from the object's up to the store's parent are fsynced
// after it; a deletePrefix only once the folders it walked are; without --fsync nothing is flushed. A power cut
// cannot be played here: the tests watch the flushes, as fileDedupeStoreFsync.test.ts and journalFile's do.
import { randomUUID } from "node:crypto";
import fs, {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { expect } from "chai";
import { rezipIntoStore } from "../../src/actions/s3Zip";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { FsObjectStore } from "../../src/local/fsObjectStore";
import { startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { buildZip } from "../support/zips";
import { githubHeaders, REPO_ROOT, request } from "./serveHarness";

const realFsync = fs.fsync;
const realFsyncSync = fs.fsyncSync;

/** FileHandle.sync (writeFileAtomic's fsync of the file before its rename), reached through its prototype. */
async function fileHandlePrototype(): Promise<{ sync: () => Promise<void> }> {
  const handle = await open(process.execPath, "r");
  try {
    return Object.getPrototypeOf(handle);
  } finally {
    await handle.close();
  }
}

interface Flush {
  /** fs.fsync: a write stream's flush; fsyncSync: a folder's; handle.sync: a FileHandle's. */
  how: "fsync" | "fsyncSync" | "handle.sync";
  /** The file or folder the descriptor flushed is open on. */
  path: string;
}

const pathOf = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);

/** Records every fsync by the three ways the store may ask for one; `failOn` makes the ones it picks fail (EIO). */
async function watchFlushes(failOn: (flush: Flush) => boolean = () => false) {
  const proto = await fileHandlePrototype();
  const realHandleSync = proto.sync;
  const flushes: Flush[] = [];
  const eio = () => Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
  fs.fsync = ((fd: number, done: (error: Error | null) => void) => {
    const flush: Flush = { how: "fsync", path: pathOf(fd) };
    flushes.push(flush);
    if (failOn(flush)) return done(eio());
    realFsync(fd, done);
  }) as typeof fs.fsync;
  fs.fsyncSync = (fd: number) => {
    const flush: Flush = { how: "fsyncSync", path: pathOf(fd) };
    flushes.push(flush);
    if (failOn(flush)) throw eio();
    realFsyncSync(fd);
  };
  proto.sync = function (this: { fd: number }) {
    const flush: Flush = { how: "handle.sync", path: pathOf(this.fd) };
    flushes.push(flush);
    if (failOn(flush)) return Promise.reject(eio());
    return realHandleSync.call(this);
  };
  return {
    flushes,
    restore(): void {
      fs.fsync = realFsync;
      fs.fsyncSync = realFsyncSync;
      proto.sync = realHandleSync;
    },
  };
}

/** A body that comes in `count` chunks over several turns, as s3-zip's rezipped stream does. */
function streamedBody(count: number, bytes: number): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < count; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield Buffer.alloc(bytes, i);
      }
    })(),
  );
}

describe("Class: FsObjectStore, durable (serve --fsync)", () => {
  let dir: string;
  let root: string;
  let watching: Awaited<ReturnType<typeof watchFlushes>> | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-objects-fsync-"));
    root = join(dir, "s3");
    watching = undefined;
  });

  afterEach(() => {
    watching?.restore();
    fs.fsync = realFsync;
    fs.fsyncSync = realFsyncSync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("a streamed put fsyncs its part before the rename, its metadata file and folder, then each folder from the object's up to the store's parent, before it resolves", async () => {
    const store = new FsObjectStore(root, { durable: true });
    const target = join(root, "bucket-a", "acme", "api", "main.zip");
    const seen: Array<{ path: string; targetThere: boolean }> = [];
    watching = await watchFlushes((flush) => {
      seen.push({ path: flush.path, targetThere: existsSync(target) });
      return false;
    });
    await store.put("bucket-a", "acme/api/main.zip", streamedBody(4, 64 * 1024), { metadata: { a: "1" } });
    const folder = join(root, "bucket-a", "acme", "api");
    expect(watching.flushes.map((flush) => flush.how)).to.deep.equal([
      "fsync",
      "handle.sync",
      "fsyncSync",
      "fsyncSync",
      "fsyncSync",
      "fsyncSync",
      "fsyncSync",
      "fsyncSync",
    ]);
    const paths = watching.flushes.map((flush) => flush.path);
    expect(paths[0]).to.match(/\/s3\/\.tmp\/[0-9a-f]{16}\.part$/);
    expect(paths[1]).to.match(/\/acme\/api\/\.main\.zip\.metadata\.json\.[0-9a-f]{12}\.tmp$/);
    expect(paths.slice(2)).to.deep.equal([
      folder, // the metadata's rename
      folder, // the object's rename
      join(root, "bucket-a", "acme"),
      join(root, "bucket-a"),
      root,
      dir,
    ]);
    // The part and the metadata before the object's rename, the folders after it.
    expect(seen.map((s) => s.targetThere)).to.deep.equal([false, false, false, true, true, true, true, true]);
    expect(statSync(target).size).to.equal(4 * 64 * 1024);
  });

  it("a put resolves only once its part's fsync ends, and renames nothing before it", async () => {
    const store = new FsObjectStore(root, { durable: true });
    const held: Array<() => void> = [];
    fs.fsync = ((fd: number, done: (error: Error | null) => void) => {
      held.push(() => realFsync(fd, done));
    }) as typeof fs.fsync;
    let resolved = false;
    const put = store.put("bucket-a", "k/x.zip", streamedBody(3, 1024), { metadata: {} }).then(() => {
      resolved = true;
    });
    // The part's writes and its flush go through libuv's thread pool: wait for the flush to be asked for.
    for (let i = 0; i < 400 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(held).to.have.length(1);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(resolved, "resolved before the part's fsync").to.equal(false);
    expect(existsSync(join(root, "bucket-a", "k", "x.zip"))).to.equal(false);
    fs.fsync = realFsync;
    for (const release of held) release();
    await put;
    expect(readFileSync(join(root, "bucket-a", "k", "x.zip"))).to.have.length(3 * 1024);
  });

  it("a put whose part's fsync fails rejects with that error and leaves neither object nor part", async () => {
    const store = new FsObjectStore(root, { durable: true });
    watching = await watchFlushes((flush) => flush.how === "fsync");
    const error = await store
      .put("bucket-a", "k/x.zip", streamedBody(2, 1024), { metadata: {} })
      .catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).to.equal("EIO");
    expect(existsSync(join(root, "bucket-a", "k", "x.zip"))).to.equal(false);
    expect(readdirSync(join(root, ".tmp"))).to.deep.equal([]);
  });

  it("s3-zip's local write (rezipIntoStore into the store) fsyncs the whole zip before it is renamed into place", async () => {
    const store = new FsObjectStore(root, { durable: true });
    const archive = join(dir, "archive.zip");
    writeFileSync(
      archive,
      await buildZip({ "buildspec.yml": "version: 0.2\n", "src/a.txt": "a".repeat(5000) }),
    );
    const target = join(root, "bucket-a", "acme", "api", "main.zip");
    const parts: Array<{ size: number; targetThere: boolean }> = [];
    watching = await watchFlushes((flush) => {
      if (flush.how === "fsync")
        parts.push({ size: statSync(flush.path).size, targetThere: existsSync(target) });
      return false;
    });
    await rezipIntoStore(archive, { stripTopFolder: false }, (body) =>
      store.put("bucket-a", "acme/api/main.zip", body, { metadata: {}, contentType: "application/zip" }),
    );
    expect(parts).to.deep.equal([{ size: statSync(target).size, targetThere: false }]);
    expect(watching.flushes.filter((f) => f.how === "fsyncSync").map((f) => f.path)).to.include(
      join(root, "bucket-a", "acme", "api"),
    );
  });

  it("deletePrefix fsyncs each folder it walked once its unlinks there are done, an emptied folder before its removal", async () => {
    const store = new FsObjectStore(root);
    for (const key of ["pr-1/a.zip", "pr-1/x/b.zip", "pr-10/c.zip", "other/d.zip"]) {
      await store.put("bucket-a", key, Readable.from([Buffer.from(key)]), { metadata: {} });
    }
    const durable = new FsObjectStore(root, { durable: true });
    const seen: Array<{ path: string; entries: string[] | "removed" }> = [];
    watching = await watchFlushes((flush) => {
      seen.push({
        path: flush.path,
        entries: existsSync(flush.path) ? readdirSync(flush.path).sort() : "removed",
      });
      return false;
    });
    expect(await durable.deletePrefix("bucket-a", "pr-1/")).to.equal(2);
    const bucket = join(root, "bucket-a");
    expect(seen).to.deep.equal([
      { path: join(bucket, "pr-1", "x"), entries: [] },
      { path: join(bucket, "pr-1"), entries: [] },
      // pr-1 is removed by then.
      { path: bucket, entries: ["other", "pr-10"] },
    ]);
  });

  it("a deletePrefix retried after a folder's fsync failed flushes that folder, though it finds nothing left to delete", async () => {
    const store = new FsObjectStore(root, { durable: true });
    await store.put("bucket-a", "pr-1/a.zip", Readable.from([Buffer.from("a")]), { metadata: {} });
    const folder = join(root, "bucket-a", "pr-1");
    watching = await watchFlushes((flush) => flush.path === folder);
    const error = await store.deletePrefix("bucket-a", "pr-1/").catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).to.equal("EIO");
    watching.restore();
    watching = await watchFlushes();
    expect(await store.deletePrefix("bucket-a", "pr-1/")).to.equal(0);
    expect(watching.flushes.map((flush) => flush.path)).to.deep.equal([folder, join(root, "bucket-a")]);
  });

  it("without durable, no put (streamed or not) or deletePrefix flushes anything", async () => {
    const store = new FsObjectStore(root);
    watching = await watchFlushes();
    await store.put("bucket-a", "acme/api/main.zip", streamedBody(3, 1024), { metadata: { a: "1" } });
    await store.put("bucket-a", "pr-1/a.zip", Readable.from([Buffer.from("a")]), { metadata: {} });
    expect(await store.deletePrefix("bucket-a", "pr-1/")).to.equal(1);
    expect(watching.flushes).to.deep.equal([]);
    expect(readFileSync(join(root, "bucket-a", "acme", "api", "main.zip"))).to.have.length(3 * 1024);
  });
});

describe("Function: startLocalGateway with fsync (serve --fsync) and the objects under s3/", () => {
  const SECRET = "objects-fsync-secret";
  const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
  let dir: string;
  let stateDir: string;
  let watching: Awaited<ReturnType<typeof watchFlushes>> | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-objects-fsync-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    stateDir = join(dir, "state");
    watching = undefined;
  });

  afterEach(() => {
    watching?.restore();
    fs.fsync = realFsync;
    fs.fsyncSync = realFsyncSync;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const fsync of [true, false]) {
    it(`${fsync ? "with" : "without"} fsync, an action's put and deletePrefix ${fsync ? "have flushed the object, the deletes and their folders when they resolve (before the done mark)" : "flush nothing under s3/"}`, async () => {
      const s3 = join(stateDir, "s3");
      const underS3 = (path: string) => path === stateDir || path.startsWith(`${s3}/`) || path === s3;
      let atPut: Flush[] = [];
      let atDelete: Flush[] = [];
      const gateway = await startLocalGateway({
        config: loadRoutesFile(join(dir, "routes.yaml")),
        stateDir,
        secretsFile: join(dir, "secrets.json"),
        port: 0,
        fsync,
        drainTimeoutMs: 50,
        log: () => undefined,
        runAction: async (_item, clients) => {
          const flushes = watching?.flushes ?? [];
          await clients.objects.put("hookgate-artifacts", "acme/api/main.zip", streamedBody(3, 1024), {
            metadata: {},
          });
          atPut = flushes.filter((flush) => underS3(flush.path));
          await clients.objects.put("hookgate-artifacts", "pr-1/a.zip", Readable.from([Buffer.from("a")]), {
            metadata: {},
          });
          const before = flushes.length;
          await clients.objects.deletePrefix("hookgate-artifacts", "pr-1/");
          atDelete = flushes.slice(before).filter((flush) => underS3(flush.path));
          return { detail: "" } as ActionOutcome;
        },
      });
      try {
        watching = await watchFlushes();
        const delivery = randomUUID();
        const answer = await request(`${gateway.url}/hooks/r`, {
          headers: githubHeaders(SECRET, PUSH, "push", delivery),
          body: PUSH,
        });
        expect(answer.status).to.equal(202);
        const dedupe = join(stateDir, "dedupe.jsonl");
        for (let i = 0; i < 400 && !readFileSync(dedupe, "utf8").includes('"s":"done"'); i++)
          await new Promise((resolve) => setTimeout(resolve, 5));
        expect(readFileSync(dedupe, "utf8")).to.include(`"k":"r#${delivery}","s":"done"`);
        if (fsync) {
          const objectFolder = join(s3, "hookgate-artifacts", "acme", "api");
          expect(atPut.filter((flush) => flush.how === "fsync").map((flush) => flush.path)).to.have.length(1);
          expect(atPut.map((flush) => flush.path)).to.include.members([objectFolder, s3, stateDir]);
          expect(atDelete.map((flush) => flush.path)).to.deep.equal([
            join(s3, "hookgate-artifacts", "pr-1"),
            join(s3, "hookgate-artifacts"),
          ]);
        } else {
          expect(atPut).to.deep.equal([]);
          expect(atDelete).to.deep.equal([]);
        }
      } finally {
        watching?.restore();
        await gateway.close();
      }
    });
  }
});
