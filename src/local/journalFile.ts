// An append-only journal file, as the local queue and the local dedupe store keep one:
// - the lines appended in one turn of the event loop go out in one write; a write to an open descriptor
//   survives a crash of the process, and `sync` (fdatasync, shared by the callers waiting) a power cut;
// - a write that fails keeps its lines for the next one, so a line a caller was told failed may still
//   reach the file later: replaying the journal is at least once. A caller that gives up on its line
//   takes it back with `retract` while no byte of it can be in the file;
// - a write is all or nothing: a disk that fills up takes part of a write and then fails, and that part
//   is cut off again, so no caller is told its line is written when only half of it is;
// - `rewrite` replaces the content atomically (compaction); lines not written yet follow it.
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  writeSync,
} from "node:fs";
import type { LogFn } from "../core/ports";
import { DirectorySyncError, syncDirectoryOf, writeFileAtomicSync } from "./atomicFile";

export type WriteSyncFn = (fd: number, data: Buffer, offset: number, length: number) => number;

export interface JournalFileOptions {
  /** fsync the rewritten file before it replaces the journal. */
  durable?: boolean;
  /** Called after each write. */
  afterWrite?: () => void;
  /**
   * Compaction while running, considered after each write: `compact` (the owner's rewrite) runs once the
   * journal is past COMPACT_PAST_LINES lines and `worthIt(lines)` holds. One that fails (no room for the new
   * file, a directory made read-only) leaves the journal as it was, with that write's lines on disk, so it
   * must not fail the write: it is logged ("<name> journal compaction failed…") and tried again
   * COMPACT_PAST_LINES lines later, not at every write. One whose directory fsync fails after the rename has
   * replaced the journal all the same, and its log line says so.
   */
  compaction?: { name: string; worthIt(lines: number): boolean; compact(): void; log?: LogFn };
  /** fs.writeSync; a test's stand-in plays a disk that fills up. */
  writeSync?: WriteSyncFn;
}

/**
 * The journal's lines as the file holds them, or none when there is no file yet. A file that cannot be read
 * (a directory in its place, no permission) is an error that names it: the start cannot go on without it.
 */
export function readJournalLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    const reason =
      (error as NodeJS.ErrnoException).code === "EISDIR" ? "it is a directory" : (error as Error).message;
    throw Object.assign(new Error(`cannot read ${path}: ${reason}`), {
      code: (error as NodeJS.ErrnoException).code,
    });
  }
}

const COMPACT_PAST_LINES = 10_000;

export class JournalFile {
  /** Lines in the file and waiting for the next write: the owner's measure for compaction. */
  lines = 0;
  /**
   * Writes that failed so far: a line still unwritten that was appended before the count last moved has been
   * refused by the disk (every write takes all the lines waiting), not merely waiting for the end of its turn.
   */
  failedWrites = 0;
  /** The line count past which a write sets off a compaction (moved on when one fails). */
  private compactPast = COMPACT_PAST_LINES;
  private fd: number | undefined;
  /** The file's size after the last whole write: where a partial write is cut back to. */
  private size = 0;
  /** The file may end in part of a line (cutting a partial write back failed): start with a newline. */
  private torn = false;
  private unwritten = "";
  private unwrittenLines = 0;
  /**
   * Where the lines of `unwritten` that cannot be in the file yet begin: those before it may be (a rewrite
   * took them from their owner, or a part write that could not be cut back left some of them).
   */
  private retractableFrom = 0;
  /** A close could not write the last lines and dropped them: what a write pending from before fails with. */
  private lost: Error | undefined;
  private turn: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;
  /** A durable rewrite's rename is in place but its directory was never synced: sync retries it first. */
  private directoryUnsynced = false;

  constructor(
    readonly path: string,
    private readonly options: JournalFileOptions = {},
  ) {}

  /** Adds a line (without its newline) to the next write. */
  append(line: string): void {
    this.lost = undefined;
    this.unwritten += `${line}\n`;
    this.unwrittenLines++;
    this.lines++;
  }

  /**
   * Takes back a line appended and not written yet (its owner gave up on it: a send refused for a full
   * disk), so that a failed write does not carry it on to the next ones. False when the line may be in the
   * file already (written, or in a rewrite or a part write that could not be cut back): the owner must
   * then cancel it with a line of its own.
   */
  retract(line: string): boolean {
    const text = `${line}\n`;
    const at = this.unwritten.lastIndexOf(text);
    if (at < this.retractableFrom || (at > 0 && this.unwritten[at - 1] !== "\n")) return false;
    this.unwritten = this.unwritten.slice(0, at) + this.unwritten.slice(at + text.length);
    this.unwrittenLines--;
    this.lines--;
    return true;
  }

  /** Writes what was appended, now, in one system call (more only if the disk takes part of it). */
  writeNow(): void {
    if (!this.unwritten) return;
    const fd = this.open();
    if (this.torn) this.size = fstatSync(fd).size;
    const data = Buffer.from(this.torn ? `\n${this.unwritten}` : this.unwritten, "utf8");
    const write = this.options.writeSync ?? writeSync;
    let done = 0;
    try {
      while (done < data.length) {
        const written = write(fd, data, done, data.length - done);
        if (!(written > 0)) throw new Error(`${this.path}: the disk took no bytes`);
        done += written;
      }
    } catch (error) {
      this.failedWrites++;
      if (done > 0 && !this.cutBack(fd)) this.retractableFrom = this.unwritten.length;
      throw error;
    }
    this.size += data.length;
    this.torn = false;
    this.unwritten = "";
    this.unwrittenLines = 0;
    this.retractableFrom = 0;
    this.options.afterWrite?.();
    this.compactIfDue();
  }

  private compactIfDue(): void {
    const compaction = this.options.compaction;
    if (!compaction || this.lines <= this.compactPast || !compaction.worthIt(this.lines)) return;
    try {
      compaction.compact();
      this.compactPast = COMPACT_PAST_LINES;
    } catch (error) {
      this.compactPast = this.lines + COMPACT_PAST_LINES;
      compaction.log?.({
        level: "error",
        msg:
          error instanceof DirectorySyncError
            ? `${compaction.name} journal compaction failed after the new journal was in place (its directory could not be synced): a power cut may bring back the journal from before it`
            : `${compaction.name} journal compaction failed; the journal keeps growing until one succeeds`,
        error: String(error),
      });
    }
  }

  /** Resolves once every line appended so far is written: at the end of this turn of the event loop. */
  written(): Promise<void> {
    this.turn ??= new Promise<void>((resolveWrite, rejectWrite) => {
      setImmediate(() => {
        this.turn = undefined;
        try {
          if (this.lost) throw this.lost;
          this.writeNow();
          resolveWrite();
        } catch (error) {
          rejectWrite(error);
        }
      });
    });
    return this.turn;
  }

  /**
   * fdatasync the journal. Group commit: the callers that arrive while a sync runs share the next one,
   * so one disk flush covers everything written in the meantime.
   */
  sync(): Promise<void> {
    if (!this.syncing) {
      const fd = this.fd;
      this.syncing = new Promise<void>((resolveSync, rejectSync) => {
        // Until the rename is durable, a power cut may bring back the old journal: no sync may resolve.
        if (this.directoryUnsynced) {
          try {
            syncDirectoryOf(this.path);
            this.directoryUnsynced = false;
          } catch (error) {
            return rejectSync(error);
          }
        }
        if (fd === undefined) return resolveSync();
        fdatasync(fd, (error) => (error ? rejectSync(error) : resolveSync()));
      }).finally(() => {
        this.syncing = undefined;
      });
      return this.syncing;
    }
    const again = () => {
      this.nextSync = undefined;
      return this.sync();
    };
    this.nextSync ??= this.syncing.then(again, again);
    return this.nextSync;
  }

  /** Replaces the written content with `lines`, atomically (temporary file, then rename). */
  rewrite(lines: readonly string[]): void {
    try {
      writeFileAtomicSync(this.path, lines.length ? `${lines.join("\n")}\n` : "", {
        mode: 0o600,
        durable: this.options.durable ?? false,
      });
    } catch (error) {
      // Renamed in, then the directory's fsync failed: the old file is unlinked, and a line written to its
      // descriptor now would be lost, so it is let go as after a rewrite that worked. A power cut may bring
      // it back: flushed first (best effort), it holds the lines its last write put in it, and later syncs
      // fail until the directory is synced.
      if (error instanceof DirectorySyncError) {
        if (this.fd !== undefined) {
          try {
            fdatasyncSync(this.fd);
          } catch {}
        }
        this.directoryUnsynced = true;
        this.replaced(lines.length);
      }
      throw error;
    }
    // A durable rewrite synced the directory: an earlier rename in it is durable too.
    if (this.options.durable) this.directoryUnsynced = false;
    this.replaced(lines.length);
  }

  /**
   * The new file is in place. Only now is the old descriptor closed: a rewrite that fails before its rename
   * (no room for the new file) keeps it, so a durable caller's sync still flushes the lines its write just
   * put in the old file.
   */
  private replaced(lines: number): void {
    this.closeFile();
    this.torn = false;
    // The owner's lines went into the new file, those it still waits to write too.
    this.retractableFrom = this.unwritten.length;
    this.lines = lines + this.unwrittenLines;
  }

  /**
   * Writes what is left, then closes the file (a later append opens it again). A write that fails (a full
   * disk) still closes it, and throws an error that says how many lines were not written.
   */
  close(): void {
    try {
      this.writeNow();
    } catch (error) {
      const lines = this.unwrittenLines;
      // Reported lost, and dropped: a write still pending must not try them again after the close (the
      // owner has let the file go, and serve its lock); it fails with this error instead.
      this.lines -= lines;
      this.unwritten = "";
      this.unwrittenLines = 0;
      this.retractableFrom = 0;
      this.lost = Object.assign(
        new Error(
          `${lines} line${lines === 1 ? "" : "s"} could not be written (${(error as Error).message})`,
        ),
        { code: (error as NodeJS.ErrnoException).code, lines },
      );
      throw this.lost;
    } finally {
      this.closeFile();
    }
  }

  private open(): number {
    if (this.fd === undefined) {
      this.fd = openSync(this.path, "a", 0o600);
      this.size = fstatSync(this.fd).size;
    }
    return this.fd;
  }

  /** False when the part written stays in the file. */
  private cutBack(fd: number): boolean {
    try {
      ftruncateSync(fd, this.size);
      return true;
    } catch {
      this.torn = true; // the next write starts on a line of its own; a reader skips the torn one
      return false;
    }
  }

  private closeFile(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    // A flush still running on this descriptor (compaction came in between) must not find it closed,
    // or reused by another file: close it once the flush is done.
    if (this.syncing) void this.syncing.catch(() => undefined).finally(() => this.closeLater(fd));
    else closeSync(fd);
  }

  /**
   * The deferred close: nobody waits for it, so a failure (NFS reports a delayed write error at close) is
   * logged, not left as an unhandled rejection, which would end serve.
   */
  private closeLater(fd: number): void {
    try {
      closeSync(fd);
    } catch (error) {
      const name = this.options.compaction?.name ?? this.path;
      this.options.compaction?.log?.({
        level: "error",
        msg: `${name} journal: closing the file after its flush failed`,
        error: String(error),
      });
    }
  }
}
