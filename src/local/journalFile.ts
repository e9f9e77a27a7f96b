// An append-only journal file, as the local queue and the local dedupe store keep one:
// - the lines appended in one turn of the event loop go out in one write; a write to an open descriptor
//   survives a crash of the process, and `sync` (fdatasync, shared by the callers waiting) a power cut;
// - a write that fails keeps its lines for the next one, so a line a caller was told failed may still
//   reach the file later: replaying the journal is at least once;
// - `rewrite` replaces the content atomically (compaction); lines not written yet follow it.
import { closeSync, fdatasync, openSync, writeSync } from "node:fs";
import { writeFileAtomicSync } from "./atomicFile";

export interface JournalFileOptions {
  /** fsync the rewritten file before it replaces the journal. */
  durable?: boolean;
  /** Called after each write: where the owner decides whether to compact. */
  afterWrite?: () => void;
}

export class JournalFile {
  /** Lines in the file and waiting for the next write: the owner's measure for compaction. */
  lines = 0;
  private fd: number | undefined;
  private unwritten = "";
  private unwrittenLines = 0;
  private turn: Promise<void> | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;

  constructor(
    readonly path: string,
    private readonly options: JournalFileOptions = {},
  ) {}

  /** Adds a line (without its newline) to the next write. */
  append(line: string): void {
    this.unwritten += `${line}\n`;
    this.unwrittenLines++;
    this.lines++;
  }

  /** Writes what was appended, now, in one system call. */
  writeNow(): void {
    if (!this.unwritten) return;
    this.fd ??= openSync(this.path, "a", 0o600);
    writeSync(this.fd, this.unwritten);
    this.unwritten = "";
    this.unwrittenLines = 0;
    this.options.afterWrite?.();
  }

  /** Resolves once every line appended so far is written: at the end of this turn of the event loop. */
  written(): Promise<void> {
    this.turn ??= new Promise<void>((resolveWrite, rejectWrite) => {
      setImmediate(() => {
        this.turn = undefined;
        try {
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
    this.closeFile();
    writeFileAtomicSync(this.path, lines.length ? `${lines.join("\n")}\n` : "", {
      mode: 0o600,
      durable: this.options.durable ?? false,
    });
    this.lines = lines.length + this.unwrittenLines;
  }

  /** Writes what is left, then closes the file (a later append opens it again). */
  close(): void {
    this.writeNow();
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
