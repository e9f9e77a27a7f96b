// serve --fsync and dedupe.jsonl (src/local/fileDedupeStore.ts): a compaction fsyncs its file and directory;
// without --fsync nothing is flushed. A power cut cannot be played here: the tests watch the flushes, as
// journalFile.test.ts does.
import fs, { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";

const realFdatasync = fs.fdatasync;
const realFsyncSync = fs.fsyncSync;

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
  let dir: string;
  afterEach(() => {
    fs.fsyncSync = realFsyncSync;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const fsync of [true, false]) {
    it(`${fsync ? "with" : "without"} fsync, the start's compaction of dedupe.jsonl ${fsync ? "fsyncs" : "does not fsync"} its new file`, async () => {
      dir = mkdtempSync(join(tmpdir(), "hookgate-serve-dedupe-fsync-"));
      writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
      writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": "s" }));
      const synced: string[] = [];
      fs.fsyncSync = (fd: number) => {
        synced.push(readlinkSync(`/proc/self/fd/${fd}`));
        realFsyncSync(fd);
      };
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
      await gateway.close();
      const dedupeFiles = synced.filter((path) => /\/\.dedupe\.jsonl\.[0-9a-f]{12}\.tmp$/.test(path));
      expect(dedupeFiles).to.have.length(fsync ? 1 : 0);
    });
  }
});
