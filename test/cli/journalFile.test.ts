// The append-only journal under serve's queue and dedupe store (src/local/journalFile.ts): torn and
// short writes, group commit of fdatasync, and what a rewrite (compaction) leaves. Real files in a temp dir.
import fs, { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JournalFile, readJournalLines } from "../../src/local/journalFile";
import { fillingDisk } from "../support/localStores";

describe("Class: JournalFile, on torn and short writes", () => {
  let dir: string;
  const realFtruncate = fs.ftruncateSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-journal-"));
  });

  afterEach(() => {
    fs.ftruncateSync = realFtruncate;
    rmSync(dir, { recursive: true, force: true });
  });

  it("a part write that cannot be cut back: the next write starts on a line of its own, and later cut-backs keep every whole line", async () => {
    const file = join(dir, "j.jsonl");
    const disk = fillingDisk();
    const journal = new JournalFile(file, { writeSync: disk.writeSync });
    journal.append('{"n":1}');
    journal.writeNow();
    fs.ftruncateSync = () => {
      throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" });
    };
    disk.free = 3;
    journal.append('{"n":2}');
    expect(() => journal.writeNow()).to.throw(/ENOSPC/);
    expect(readFileSync(file, "utf8")).to.equal('{"n":1}\n{"n'); // the part could not be cut off
    fs.ftruncateSync = realFtruncate;
    disk.free = Number.POSITIVE_INFINITY;
    journal.append('{"n":3}');
    journal.writeNow();
    // The torn part stays a line of its own (a reader skips it); the lines after it are whole.
    expect(readFileSync(file, "utf8")).to.equal('{"n":1}\n{"n\n{"n":2}\n{"n":3}\n');
    // A later part write is cut back to the end of the last whole line, wherever the torn part put it.
    disk.free = 2;
    journal.append('{"n":4}');
    expect(() => journal.writeNow()).to.throw(/ENOSPC/);
    expect(readFileSync(file, "utf8")).to.equal('{"n":1}\n{"n\n{"n":2}\n{"n":3}\n');
    disk.free = Number.POSITIVE_INFINITY;
    journal.append('{"n":5}');
    journal.writeNow();
    expect(readFileSync(file, "utf8")).to.equal('{"n":1}\n{"n\n{"n":2}\n{"n":3}\n{"n":4}\n{"n":5}\n');
    journal.close();
  });

  it("a short write (the disk took part of it without an error) is continued from where it stopped", () => {
    const file = join(dir, "j.jsonl");
    const calls: [number, number][] = [];
    const journal = new JournalFile(file, {
      writeSync: (fd, data, offset, length) => {
        calls.push([offset, length]);
        return writeSync(fd, data, offset, Math.min(length, 5));
      },
    });
    journal.append('{"n":1}');
    journal.append('{"n":2}');
    journal.writeNow();
    expect(readFileSync(file, "utf8")).to.equal('{"n":1}\n{"n":2}\n');
    expect(calls).to.deep.equal([
      [0, 16],
      [5, 11],
      [10, 6],
      [15, 1],
    ]);
    journal.close();
  });

  it("a disk that takes no bytes fails the write (it does not loop), and the lines are kept for the next one", () => {
    const file = join(dir, "j.jsonl");
    let calls = 0;
    let full = true;
    const journal = new JournalFile(file, {
      writeSync: (fd, data, offset, length) => {
        calls++;
        if (full && calls > 1) throw new Error("asked again after taking no bytes");
        return full ? 0 : writeSync(fd, data, offset, length);
      },
    });
    journal.append('{"n":1}');
    expect(() => journal.writeNow()).to.throw(/the disk took no bytes/);
    expect(readFileSync(file, "utf8")).to.equal("");
    full = false;
    journal.writeNow();
    expect(readFileSync(file, "utf8")).to.equal('{"n":1}\n');
    journal.close();
  });
});

describe("Class: JournalFile, retract", () => {
  let dir: string;
  const realFtruncate = fs.ftruncateSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-journal-"));
  });

  afterEach(() => {
    fs.ftruncateSync = realFtruncate;
    rmSync(dir, { recursive: true, force: true });
  });

  it("retract(line) takes back a line a failed write kept, so the next write holds only the lines after it", () => {
    const file = join(dir, "j.jsonl");
    const disk = fillingDisk();
    const journal = new JournalFile(file, { writeSync: disk.writeSync });
    disk.free = 0;
    journal.append("a");
    journal.append("b");
    expect(() => journal.writeNow()).to.throw(/ENOSPC/);
    expect(journal.retract("a")).to.equal(true);
    expect(journal.lines).to.equal(1);
    disk.free = Number.POSITIVE_INFINITY;
    journal.append("c");
    journal.writeNow();
    expect(readFileSync(file, "utf8")).to.equal("b\nc\n");
    journal.close();
  });

  it("retract(line) is false for a line that may be in the file: written, in a rewrite, in a part write not cut back, or another line's end", () => {
    const file = join(dir, "j.jsonl");
    const disk = fillingDisk();
    const journal = new JournalFile(file, { writeSync: disk.writeSync });
    journal.append("written");
    journal.writeNow();
    expect(journal.retract("written")).to.equal(false);
    // A line still waiting when the owner rewrites the journal: its owner put it in the new file.
    journal.append("pending");
    journal.rewrite(["pending"]);
    expect(journal.retract("pending")).to.equal(false);
    journal.writeNow();
    journal.append("xab");
    expect(journal.retract("ab")).to.equal(false);
    journal.writeNow();
    // A part write that could not be cut back: its first line is in the file.
    fs.ftruncateSync = () => {
      throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" });
    };
    disk.free = 3;
    journal.append("torn");
    expect(() => journal.writeNow()).to.throw(/ENOSPC/);
    expect(journal.retract("torn")).to.equal(false);
    fs.ftruncateSync = realFtruncate;
    disk.free = Number.POSITIVE_INFINITY;
    journal.close();
    expect(readFileSync(file, "utf8")).to.equal("pending\npending\nxab\ntor\ntorn\n");
  });
});

describe("Class: JournalFile, on writes, rewrites and syncs", () => {
  let dir: string;
  const realFdatasync = fs.fdatasync;
  const realFsync = fs.fsyncSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-journal-"));
  });

  afterEach(() => {
    fs.fdatasync = realFdatasync;
    fs.fsyncSync = realFsync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("compaction is set off only past 10,000 lines: a write at exactly 10,000 does not compact, the next line does", () => {
    let compactions = 0;
    const journal = new JournalFile(join(dir, "j.jsonl"), {
      compaction: { name: "test", worthIt: () => true, compact: () => compactions++ },
    });
    for (let i = 0; i < 10_000; i++) journal.append(`{"n":${i}}`);
    journal.writeNow();
    expect(compactions).to.equal(0);
    journal.append('{"n":10000}');
    journal.writeNow();
    expect(compactions).to.equal(1);
    journal.close();
  });

  it("with nothing appended, a write or a close creates no file and tells the owner of no write", () => {
    const file = join(dir, "j.jsonl");
    let writes = 0;
    const journal = new JournalFile(file, { afterWrite: () => writes++ });
    journal.writeNow();
    journal.close();
    expect(() => statSync(file)).to.throw(/ENOENT/);
    expect(writes).to.equal(0);
  });

  it("after a rewrite the next lines follow the new content directly, with no empty line between", async () => {
    const file = join(dir, "j.jsonl");
    const journal = new JournalFile(file);
    journal.append("a");
    journal.writeNow();
    journal.rewrite(["b"]);
    journal.append("c");
    journal.writeNow();
    journal.append("d");
    journal.writeNow();
    expect(readFileSync(file, "utf8")).to.equal("b\nc\nd\n");
    journal.rewrite([]);
    expect(readFileSync(file, "utf8")).to.equal("");
    journal.close();
  });

  it("a rewrite closes the descriptor it replaces, and one still flushing once its flush is done: no descriptor leaks", async () => {
    const open = () => fs.readdirSync("/proc/self/fd").length;
    const journal = new JournalFile(join(dir, "j.jsonl"));
    const before = open();
    for (let i = 0; i < 20; i++) {
      journal.append(`line ${i}`);
      journal.writeNow();
      const flushed = journal.sync(); // in flight when the rewrite below closes the file
      journal.rewrite([`line ${i}`]);
      await flushed;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(open()).to.be.at.most(before);
    journal.close();
  });

  it("a rewrite keeps the journal's mode 0600 and syncs the new file only when the journal is durable", () => {
    let synced = 0;
    fs.fsyncSync = (fd: number) => {
      synced++;
      realFsync(fd);
    };
    const plain = new JournalFile(join(dir, "plain.jsonl"));
    plain.rewrite(["a"]);
    expect(synced).to.equal(0);
    expect(statSync(join(dir, "plain.jsonl")).mode & 0o777).to.equal(0o600);
    const durable = new JournalFile(join(dir, "durable.jsonl"), { durable: true });
    durable.rewrite(["a"]);
    expect(synced).to.equal(2); // the file before the rename, the directory after it
    expect(statSync(join(dir, "durable.jsonl")).mode & 0o777).to.equal(0o600);
  });

  it("sync flushes the journal's descriptor; callers that arrive during a flush share the next one, which starts after it", async () => {
    const flushes: { fd: number; done: (error: Error | null) => void }[] = [];
    fs.fdatasync = ((fd: number, done: (error: Error | null) => void) => {
      flushes.push({ fd, done });
    }) as typeof fs.fdatasync;
    const file = join(dir, "j.jsonl");
    const journal = new JournalFile(file);
    journal.append("a");
    journal.writeNow();
    const settled: string[] = [];
    const first = journal.sync().then(() => settled.push("first"));
    const second = journal.sync().then(() => settled.push("second"));
    const third = journal.sync().then(() => settled.push("third"));
    expect(flushes.length).to.equal(1);
    expect(flushes[0]?.fd).to.be.a("number");
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).to.deep.equal([]);
    flushes[0]?.done(null);
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushes.length).to.equal(2); // one more flush for the two that arrived meanwhile
    expect(settled).to.deep.equal(["first"]);
    flushes[1]?.done(null);
    await Promise.all([second, third]);
    expect(settled).to.deep.equal(["first", "second", "third"]);
    fs.fdatasync = realFdatasync;
    journal.close();
  });

  it("a failed flush rejects its callers; the next sync flushes again", async () => {
    const flushes: ((error: Error | null) => void)[] = [];
    fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) => {
      flushes.push(done);
    }) as typeof fs.fdatasync;
    const journal = new JournalFile(join(dir, "j.jsonl"));
    journal.append("a");
    journal.writeNow();
    const failed = journal.sync().catch((error: unknown) => error);
    flushes[0]?.(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    expect(String(await failed)).to.match(/EIO/);
    const again = journal.sync();
    expect(flushes.length).to.equal(2);
    flushes[1]?.(null);
    await again;
    fs.fdatasync = realFdatasync;
    journal.close();
  });

  it("a compaction that fails (no room for the new file) keeps the descriptor: a durable sync after it still flushes the write that set it off", async () => {
    const file = join(dir, "j.jsonl");
    const flushed: number[] = [];
    fs.fdatasync = ((fd: number, done: (error: Error | null) => void) => {
      flushed.push(fd);
      realFdatasync(fd, done);
    }) as typeof fs.fdatasync;
    const realOpen = fs.openSync;
    const logged: string[] = [];
    const journal: JournalFile = new JournalFile(file, {
      durable: true,
      compaction: {
        name: "test",
        worthIt: () => true,
        compact: () => journal.rewrite(["kept"]),
        log: (line) => logged.push(String(line.msg)),
      },
    });
    // Room for an append, none for a whole new file: the rewrite's temporary file cannot be made.
    fs.openSync = ((path: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      if (String(path).endsWith(".tmp")) {
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      }
      return realOpen(path, flags, mode);
    }) as typeof fs.openSync;
    try {
      for (let i = 0; i <= 10_000; i++) journal.append(`line ${i}`);
      journal.writeNow(); // past 10,000 lines: sets off the compaction, which fails
      expect(logged).to.deep.equal([
        "test journal compaction failed; the journal keeps growing until one succeeds",
      ]);
      await journal.sync();
    } finally {
      fs.openSync = realOpen;
    }
    expect(flushed).to.have.length(1);
    expect(readJournalLines(file)).to.have.length(10_002); // every line, and the empty one after the last newline
    journal.close();
  });

  it("a compaction whose directory fsync fails after the rename lets the old descriptor go: later lines, synced, are in the file a restart reads, and the log says the journal was replaced", async () => {
    const file = join(dir, "j.jsonl");
    const logged: string[] = [];
    const journal: JournalFile = new JournalFile(file, {
      durable: true,
      compaction: {
        name: "test",
        worthIt: () => true,
        compact: () => journal.rewrite(["kept"]),
        log: (line) => logged.push(String(line.msg)),
      },
    });
    // The data's fsync works; the directory's, after the rename, fails.
    fs.fsyncSync = ((fd: number) => {
      if (fs.fstatSync(fd).isDirectory()) {
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      }
      return realFsync(fd);
    }) as typeof fs.fsyncSync;
    for (let i = 0; i <= 10_000; i++) journal.append(`line ${i}`);
    journal.writeNow(); // past 10,000 lines: the compaction renames its file in, then fails
    fs.fsyncSync = realFsync;
    expect(logged).to.deep.equal([
      "test journal compaction failed after the new journal was in place (its directory could not be synced): a power cut may bring back the journal from before it",
    ]);
    expect(readJournalLines(file)).to.deep.equal(["kept", ""]);
    journal.append("after the compaction");
    await journal.written();
    await journal.sync();
    journal.close();
    expect(readJournalLines(file)).to.deep.equal(["kept", "after the compaction", ""]);
  });

  it("after a compaction whose directory fsync failed, the old descriptor is flushed before it goes, and a durable sync retries the directory's fsync and rejects until it works", async () => {
    const file = join(dir, "j.jsonl");
    const journal: JournalFile = new JournalFile(file, {
      durable: true,
      compaction: {
        name: "test",
        worthIt: () => true,
        compact: () => journal.rewrite(["kept"]),
        log: () => {},
      },
    });
    const realFdatasyncSync = fs.fdatasyncSync;
    let oldFlushes = 0;
    fs.fdatasyncSync = (fd: number) => {
      oldFlushes++;
      realFdatasyncSync(fd);
    };
    let directorySyncs = 0;
    let directoryFails = true;
    fs.fsyncSync = ((fd: number) => {
      if (fs.fstatSync(fd).isDirectory()) {
        directorySyncs++;
        if (directoryFails) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      }
      return realFsync(fd);
    }) as typeof fs.fsyncSync;
    try {
      for (let i = 0; i <= 10_000; i++) journal.append(`line ${i}`);
      journal.writeNow(); // the compaction renames its file in, then its directory fsync fails
      expect({ oldFlushes, directorySyncs }).to.deep.equal({ oldFlushes: 1, directorySyncs: 1 });
      journal.append("a put waiting for its flush");
      await journal.written();
      const failed = await journal.sync().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(String(failed)).to.match(/syncing its directory failed: EIO/);
      expect(directorySyncs).to.equal(2);
      directoryFails = false;
      await journal.sync();
      await journal.sync(); // synced once: not again
      expect(directorySyncs).to.equal(3);
    } finally {
      fs.fdatasyncSync = realFdatasyncSync;
      journal.close();
    }
  });

  it("a descriptor closed after its flush whose close fails (NFS reports a delayed write error at close) is logged, with no unhandled rejection to end serve", async () => {
    const realClose = fs.closeSync;
    const unhandled: unknown[] = [];
    const listeners = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const logged: string[] = [];
    try {
      const journal: JournalFile = new JournalFile(join(dir, "j.jsonl"), {
        durable: true,
        compaction: {
          name: "test",
          worthIt: () => true,
          compact: () => journal.rewrite(["kept"]),
          log: (line) => logged.push(String(line.msg)),
        },
      });
      journal.append("first");
      journal.writeNow();
      let finishSync: () => void = () => undefined;
      fs.fdatasync = ((fd: number, done: (error: Error | null) => void) => {
        finishSync = () => realFdatasync(fd, done);
      }) as typeof fs.fdatasync;
      const synced = journal.sync(); // a flush running on the descriptor
      const journalFd = (journal as unknown as { fd: number }).fd;
      fs.closeSync = ((fd: number) => {
        realClose(fd);
        if (fd === journalFd) {
          throw Object.assign(new Error("EDQUOT: disk quota exceeded, close"), { code: "EDQUOT" });
        }
      }) as typeof fs.closeSync;
      for (let i = 0; i <= 10_000; i++) journal.append(`line ${i}`);
      journal.writeNow(); // the compaction: the old descriptor's close waits for the flush
      finishSync();
      await synced;
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      fs.closeSync = realClose;
      journal.close();
    } finally {
      fs.closeSync = realClose;
      process.removeListener("unhandledRejection", onUnhandled);
      for (const listener of listeners) process.on("unhandledRejection", listener);
    }
    expect(unhandled.map(String)).to.deep.equal([]);
    expect(logged).to.deep.equal(["test journal: closing the file after its flush failed"]);
  });

  it("a close that cannot write says how many lines it lost, and a write still pending then fails without writing them after the close", async () => {
    const file = join(dir, "j.jsonl");
    const disk = fillingDisk();
    const journal = new JournalFile(file, { writeSync: disk.writeSync });
    disk.free = 0;
    journal.append("a");
    journal.append("b");
    const pending = journal.written().then(
      () => "written",
      (error: Error) => error.message,
    );
    expect(() => journal.close()).to.throw(
      "2 lines could not be written (ENOSPC: no space left on device, write)",
    );
    disk.free = Number.POSITIVE_INFINITY; // room again: the lost lines must still not reach the file
    expect(await pending).to.equal("2 lines could not be written (ENOSPC: no space left on device, write)");
    expect(readFileSync(file, "utf8")).to.equal("");
    // A later append starts afresh.
    journal.append("c");
    await journal.written();
    journal.close();
    expect(readFileSync(file, "utf8")).to.equal("c\n");
  });

  it("sync before anything was written resolves without a flush", async () => {
    let flushes = 0;
    fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) => {
      flushes++;
      done(null);
    }) as typeof fs.fdatasync;
    const journal = new JournalFile(join(dir, "j.jsonl"));
    await journal.sync();
    expect(flushes).to.equal(0);
    journal.append("a");
    journal.writeNow();
    await journal.sync();
    expect(flushes).to.equal(1);
    journal.close();
  });
});

describe("Function: readJournalLines", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-journal-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("no file yet is no lines", () => {
    expect(readJournalLines(join(dir, "j.jsonl"))).to.deep.equal([]);
  });

  it("a directory in the journal's place is an error that says so, with its code", () => {
    const path = join(dir, "j.jsonl");
    mkdirSync(path);
    let error: (Error & { code?: string }) | undefined;
    try {
      readJournalLines(path);
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.message).to.equal(`cannot read ${path}: it is a directory`);
    expect(error?.code).to.equal("EISDIR");
  });

  it("another read error names the file and the system's reason", () => {
    const file = join(dir, "a-file");
    fs.writeFileSync(file, "x");
    const path = join(file, "j.jsonl");
    expect(() => readJournalLines(path)).to.throw(`cannot read ${path}: ENOTDIR`);
  });
});
