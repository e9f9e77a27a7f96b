// Whole-file writes (src/local/atomicFile.ts): the journals' compactions and the delivery history.
import fs, { fstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { writeFileAtomic, writeFileAtomicSync } from "../../src/local/atomicFile";

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
