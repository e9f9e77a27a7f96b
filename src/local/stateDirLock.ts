// One `hookgate serve` per state directory. Two would each replay the same queue journal (running the
// work twice) and compact the journals under each other: a compaction replaces the file the other
// process keeps appending to, so the other's lines go to a file nobody reads again, and are lost.
// The lock is <state-dir>/serve.lock, created exclusively and holding the owner's pid. A lock whose
// process is gone (killed, crashed) is taken over, by one start at a time: two starts that both found
// it stale would otherwise each remove it, and the later one would remove the lock the earlier one had
// just created. A takeover holds serve.lock.takeover (also exclusive, with a pid) and judges the lock
// again under it.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, join } from "node:path";

export const LOCK_FILE = "serve.lock";
export const TAKEOVER_FILE = "serve.lock.takeover";

/** A lock file still empty when younger than this is a start in progress, not a crash. */
const STARTING_GRACE_MS = 10_000;

/** The locks this process holds: a lock naming our own pid is ours only if it is in here. */
const heldHere = new Set<string>();

export class StateDirInUseError extends Error {
  constructor(
    readonly stateDir: string,
    /** The holder's pid; undefined while the holder is still writing it. */
    readonly pid: number | undefined,
    /** The file that names the holder (a takeover's guard is not the lock). */
    heldFile = LOCK_FILE,
  ) {
    const holder =
      pid === undefined ? "another hookgate serve, starting" : `another hookgate serve (pid ${pid})`;
    super(
      `the state dir ${stateDir} is in use by ${holder}: stop it, or give this one its own --state-dir ` +
        `(if no hookgate serve runs, delete ${join(stateDir, heldFile)})`,
    );
    this.name = "StateDirInUseError";
  }
}

export interface StateDirLock {
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

export interface LockOptions {
  /** Called once the lock is found stale, before the takeover; tests let another start act there. */
  onStale?: () => void;
}

/**
 * Takes the lock of `stateDir` (which must exist), or throws StateDirInUseError naming the holder.
 * `shownDir` is how messages name the directory (as the user typed it).
 */
export function lockStateDir(stateDir: string, shownDir = stateDir, options: LockOptions = {}): StateDirLock {
  const file = join(stateDir, LOCK_FILE);
  if (!createWithPid(file)) {
    refuseIfHeld(file, shownDir);
    options.onStale?.();
    takeOver(file, join(stateDir, TAKEOVER_FILE), shownDir);
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

/** Replaces the stale lock `file` with ours, holding `guard` meanwhile; throws when another start wins. */
function takeOver(file: string, guard: string, shownDir: string): void {
  if (!createWithPid(guard)) {
    // Another start is taking the lock over: it will hold it. Unless that start died there.
    refuseIfHeld(guard, shownDir);
    // Two starts that find the same dead guard can still race here; that takes a crash in the
    // microseconds a takeover lasts, and then two starts at once.
    removeIfPresent(guard);
    if (!createWithPid(guard)) throw new StateDirInUseError(shownDir, undefined, basename(guard));
  }
  try {
    // Nobody else removes the lock while we hold the guard, but it may be a live one by now.
    refuseIfHeld(file, shownDir);
    removeIfPresent(file);
    // A start that found no lock at all does not take the guard: it may have been first.
    if (!createWithPid(file)) throw new StateDirInUseError(shownDir, holderPid(file));
  } finally {
    removeIfPresent(guard);
  }
}

/** Creates `file` exclusively with this process's pid; false when it exists. */
function createWithPid(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Throws StateDirInUseError naming the holder when `file` names a running process or is being written. */
function refuseIfHeld(file: string, shownDir: string): void {
  const holder = readHolder(file);
  if (holder === "starting") throw new StateDirInUseError(shownDir, undefined, basename(file));
  if (holder !== undefined && isHeld(holder, file))
    throw new StateDirInUseError(shownDir, holder, basename(file));
}

function holderPid(file: string): number | undefined {
  const holder = readHolder(file);
  return holder === "starting" ? undefined : holder;
}

/** The pid in a lock (or guard) file; "starting" for a young empty file; undefined for no file or a stale one. */
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

/** Whether the process named in a lock (or guard) file still holds it. */
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
