// Whole-file writes (src/local/atomicFile.ts): the journals' compactions and the delivery history.
import fs, {
  fstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { removeAtomicTempFiles, writeFileAtomic, writeFileAtomicSync } from "../../src/local/atomicFile";

describe("writeFileAtomicSync and writeFileAtomic", () => {
  let dir: string;
  let synced: Array<"file" | "directory">;
  const realFsync = fs.fsyncSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-atomic-"));
    synced = [];
    // Records what each fsync was for, then syncs it for real.
    fs.fsyncSync = (fd: number) => {
      synced.push(fstatSync(fd).isDirectory() ? "directory" : "file");
      realFsync(fd);
    };
  });

  afterEach(() => {
    fs.fsyncSync = realFsync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("durable: syncs the data before the rename and the directory after it, so the new file survives a power cut", () => {
    const path = join(dir, "journal.jsonl");
    writeFileAtomicSync(path, "one\n", { durable: true });
    expect(readFileSync(path, "utf8")).to.equal("one\n");
    expect(synced).to.deep.equal(["file", "directory"]);
    expect(readdirSync(dir)).to.deep.equal(["journal.jsonl"]);
  });

  it("durable, async (dead letters): syncs the directory after the rename too", async () => {
    const path = join(dir, "letter.json");
    await writeFileAtomic(path, "{}\n", { durable: true });
    expect(readFileSync(path, "utf8")).to.equal("{}\n");
    // The data goes through the file handle's own sync; the directory through fsyncSync.
    expect(synced).to.deep.equal(["directory"]);
  });

  it("not durable: syncs nothing (the rename already survives a crash of the process)", () => {
    const path = join(dir, "deliveries.json");
    writeFileAtomicSync(path, "[]\n");
    expect(readFileSync(path, "utf8")).to.equal("[]\n");
    expect(synced).to.deep.equal([]);
  });
});

describe("writeFileAtomicSync and writeFileAtomic: modes, durability and short writes", () => {
  let dir: string;
  const realFsync = fs.fsyncSync;
  const realWriteSync = fs.writeSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-atomic-"));
  });

  afterEach(() => {
    fs.fsyncSync = realFsync;
    fs.writeSync = realWriteSync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("mode: a new file gets the mode given (0600 for secrets and journals), sync and async", async () => {
    const sync = join(dir, "secrets.json");
    writeFileAtomicSync(sync, "{}\n", { mode: 0o600 });
    expect(statSync(sync).mode & 0o777).to.equal(0o600);
    const async = join(dir, "letter.json");
    await writeFileAtomic(async, "{}\n", { mode: 0o600 });
    expect(statSync(async).mode & 0o777).to.equal(0o600);
  });

  it("durable, async: the data goes through the file handle's sync before the rename; not durable, nothing is synced", async () => {
    const probe = await open(join(dir, "probe"), "w");
    const handleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const realSync = handleProto.sync;
    const synced: string[] = [];
    fs.fsyncSync = (fd: number) => {
      synced.push("directory");
      realFsync(fd);
    };
    handleProto.sync = function (this: unknown) {
      synced.push("file");
      return realSync.call(this);
    };
    try {
      await writeFileAtomic(join(dir, "durable.json"), "{}\n", { durable: true });
      expect(synced).to.deep.equal(["file", "directory"]);
      synced.length = 0;
      await writeFileAtomic(join(dir, "plain.json"), "{}\n");
      expect(synced).to.deep.equal([]);
    } finally {
      handleProto.sync = realSync;
    }
  });

  it("a short write (the system call took only part of the data) is continued where it stopped, and the file is whole", () => {
    const calls: [number, number, number][] = [];
    fs.writeSync = ((fd: number, buffer: Uint8Array, offset: number, length: number) => {
      calls.push([offset, length, buffer.length]);
      return realWriteSync(fd, buffer, offset, Math.min(length, 4));
    }) as typeof fs.writeSync;
    const path = join(dir, "journal.jsonl");
    writeFileAtomicSync(path, "0123456789\n");
    fs.writeSync = realWriteSync;
    expect(readFileSync(path, "utf8")).to.equal("0123456789\n");
    // Each call asks for the rest of the data, never past its end.
    expect(calls).to.deep.equal([
      [0, 11, 11],
      [4, 7, 11],
      [8, 3, 11],
    ]);
  });
});

describe("removeAtomicTempFiles", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-atomic-"));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("removes the temporary files a killed write left, counts them, and keeps the targets and other programs' files", () => {
    const ours = [".journal.jsonl.0123456789ab.tmp", ".deliveries.json.abcdef012345.tmp"];
    const theirs = ["journal.jsonl", ".journal.jsonl.swp", ".x.0123456789AB.tmp", "x.0123456789ab.tmp"];
    for (const name of [...ours, ...theirs]) writeFileSync(join(dir, name), "x");
    expect(removeAtomicTempFiles(dir)).to.equal(2);
    expect(readdirSync(dir).sort()).to.deep.equal([...theirs].sort());
  });

  it("a directory that is not there has none; one that cannot be read is an error", () => {
    expect(removeAtomicTempFiles(join(dir, "missing"))).to.equal(0);
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    expect(() => removeAtomicTempFiles(file)).to.throw(/ENOTDIR/);
  });
});
