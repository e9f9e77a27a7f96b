// One `hookgate serve` per state directory. Two would each replay the same queue journal (running the
// work twice) and compact the journals under each other: a compaction replaces the file the other
// process keeps appending to, so the other's lines go to a file nobody reads again, and are lost.
// The lock is <state-dir>/serve.lock, created exclusively and holding the owner's pid. A lock whose
// process is gone (killed, crashed) is taken over.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "serve.lock";

/** A lock file still empty when younger than this is a start in progress, not a crash. */
const STARTING_GRACE_MS = 10_000;

/** The locks this process holds: a lock naming our own pid is ours only if it is in here. */
const heldHere = new Set<string>();

export class StateDirInUseError extends Error {
  constructor(
    readonly stateDir: string,
    /** The holder's pid; undefined while the holder is still writing it. */
    readonly pid: number | undefined,
  ) {
    const holder =
      pid === undefined ? "another hookgate serve, starting" : `another hookgate serve (pid ${pid})`;
    super(
      `the state dir ${stateDir} is in use by ${holder}: stop it, or give this one its own --state-dir ` +
        `(if no hookgate serve runs, delete ${join(stateDir, LOCK_FILE)})`,
    );
    this.name = "StateDirInUseError";
  }
}

export interface StateDirLock {
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/**
 * Takes the lock of `stateDir` (which must exist), or throws StateDirInUseError naming the holder.
 * `shownDir` is how messages name the directory (as the user typed it).
 */
export function lockStateDir(stateDir: string, shownDir = stateDir): StateDirLock {
  const file = join(stateDir, LOCK_FILE);
  for (let attempt = 1; ; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readHolder(file);
      if (holder === "starting" || (holder !== undefined && isHeld(holder, file))) {
        throw new StateDirInUseError(shownDir, holder === "starting" ? undefined : holder);
      }
      // Another start took the stale lock over between our two attempts: it is theirs now.
      if (attempt > 1) throw new StateDirInUseError(shownDir, holder);
      removeIfPresent(file);
    }
  }
  heldHere.add(file);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      // Only our own: a lock another process took over (after ours looked stale) stays.
      if (readHolder(file) === process.pid) removeIfPresent(file);
    },
  };
}

/** The pid in the lock file; "starting" for a young empty file; undefined for no file or a stale one. */
function readHolder(file: string): number | "starting" | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (Number.isInteger(pid) && pid > 0) return pid;
  try {
    return Date.now() - statSync(file).mtimeMs < STARTING_GRACE_MS ? "starting" : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process named in the lock still holds it. */
function isHeld(pid: number, file: string): boolean {
  // Our own pid: a lock of this process, or one left by an earlier process that had the same pid
  // (a restarted container's serve is pid 1 again).
  if (pid === process.pid) return heldHere.has(file);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
