// One `hookgate serve` per state directory. Two would each replay the same queue journal (running the
// work twice) and compact the journals under each other: a compaction replaces the file the other
// process keeps appending to, so the other's lines go to a file nobody reads again, and are lost.
// The lock is <state-dir>/serve.lock, created exclusively and naming the owner: its pid, and what tells
// that process from a later one with the same pid (its start time, the boot, the pid namespace, the
// host). A lock whose process is gone (killed, crashed, or from before a reboot) is taken over, by one
// start at a time: two starts that both found it stale would otherwise each remove it, and the later
// one would remove the lock the earlier one had just created. A takeover holds serve.lock.takeover
// (also exclusive, written the same way) and judges the lock again under it.
// A pid says nothing about a lock from another pid namespace, boot or host (two containers on one
// volume are both pid 1): there the holder renews the lock's mtime every few seconds, and the lock is
// stale once it has gone unrenewed for a lease.
import { closeSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname, uptime } from "node:os";
import { basename, join } from "node:path";

export const LOCK_FILE = "serve.lock";
export const TAKEOVER_FILE = "serve.lock.takeover";

/** A lock file still empty when younger than this is a start in progress, not a crash. */
const STARTING_GRACE_MS = 10_000;

/** A lock from another pid namespace, boot or host is stale once unrenewed this long. */
const LEASE_MS = 30_000;
/** How often the holder renews its lock (its mtime): well within the lease, for a busy event loop. */
const RENEW_MS = 5_000;

/** Clock steps and uptime's rounding: a lock this much older than the boot is surely from before it. */
const BOOT_SLACK_MS = 5_000;

/** The locks this process holds: a lock naming our own pid is ours only if it is in here. */
const heldHere = new Set<string>();

/**
 * Who wrote a lock. The file holds the pid alone on its first line (all an older hookgate wrote, and
 * all it reads), then "key value" lines. A lock without a host line is an older hookgate's.
 */
interface Holder {
  pid: number;
  host?: string;
  /** /proc/sys/kernel/random/boot_id: a pid from another boot names another process. */
  boot?: string;
  /** readlink /proc/self/ns/pid: a pid names a process only in its own namespace (container). */
  pidns?: string;
  /** /proc/<pid>/stat field 22, clock ticks from boot to the process's start: tells a reused pid. */
  start?: string;
}

const HOLDER_KEYS = ["host", "boot", "pidns", "start"] as const;

let self: { holder: Holder; text: string } | undefined;

/** This process as a lock names it (Linux adds boot, pid namespace and start time). */
function me(): { holder: Holder; text: string } {
  if (self) return self;
  const holder: Holder = {
    pid: process.pid,
    host: hostname(),
    boot: readOrUndefined(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()),
    pidns: readOrUndefined(() => readlinkSync("/proc/self/ns/pid")),
    start: startTime("self"),
  };
  let text = `${process.pid}\n`;
  for (const key of HOLDER_KEYS) {
    const value = holder[key];
    if (value !== undefined) text += `${key} ${value.replace(/[\r\n]/g, " ")}\n`;
  }
  self = { holder: parseHolder(text) as Holder, text };
  return self;
}

export class StateDirInUseError extends Error {
  constructor(
    readonly stateDir: string,
    /** The holder's pid; undefined while the holder is still writing it. */
    readonly pid: number | undefined,
    /** The file that names the holder (a takeover's guard is not the lock). */
    heldFile = LOCK_FILE,
    /** For a holder in another pid namespace, boot or host: its host, and when its lease ends. */
    readonly lease?: { host: string; until: Date },
    /** Why the file naming the holder could not be read (its error code): who holds it is unknown. */
    readonly unreadable?: string,
  ) {
    // EACCES is the usual one: a serve writes its lock readable by its own user alone.
    const why = unreadable === "EACCES" ? "EACCES: another user's serve may hold it" : unreadable;
    const holder = unreadable
      ? `another hookgate serve, maybe running: its ${heldFile} cannot be read (${why})`
      : pid === undefined
        ? "another hookgate serve, starting"
        : lease
          ? `another hookgate serve (pid ${pid} on host ${lease.host}, in another container or on another ` +
            `machine; its lock is taken over if not renewed by ${lease.until.toISOString()})`
          : `another hookgate serve (pid ${pid})`;
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
  /** How often the lock is renewed; tests shorten it. */
  renewMs?: number;
  /**
   * Called when renewing the lease starts failing (with the error; a serve in another container may take
   * the lock over 30 s later) and again when it works once more (undefined): not on every renewal. The
   * first renewal is at lock time, so a failure shows at start.
   */
  onRenewal?: (error: Error | undefined) => void;
  /**
   * Called once, from the renewal timer, when the lock is gone or names another process: it was taken
   * over (this process was paused past its lease: docker pause, SIGSTOP, a stalled event loop) or removed.
   * With the new holder's pid and host as its lock gives them; undefined when there is none yet.
   */
  onLost?: (holder: { pid: number; host?: string } | undefined) => void;
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
  let failing = false;
  const renewNow = () => {
    const result = renew(file);
    if (typeof result === "object" && "lost" in result) {
      clearInterval(renewal);
      heldHere.delete(file);
      const holder = result.lost && { pid: result.lost.pid, host: result.lost.host };
      options.onLost?.(holder);
      return;
    }
    const error = result instanceof Error ? result : undefined;
    if ((error !== undefined) === failing) return;
    failing = !failing;
    options.onRenewal?.(error);
  };
  // Unref'd: the lock must not keep the process alive.
  const renewal: NodeJS.Timeout = setInterval(renewNow, options.renewMs ?? RENEW_MS).unref();
  renewNow();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      clearInterval(renewal);
      heldHere.delete(file);
      // Only our own: a lock another process took over (after ours looked stale) stays, though it may
      // name our pid (a serve in another container).
      if (readOrUndefined(() => readFileSync(file, "utf8")) === me().text) removeIfPresent(file);
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

/**
 * Sets the mtime of `file` to now if it is still our lock, through one fd (so never another's file), by
 * writing its bytes again: that needs write access only, where setting a time (futimes) needs the file's
 * owner, which a serve is not on a CIFS/SMB mount with uid= or as a container's non-root user (EPERM).
 * Returns why it failed, or the lock's holder when it is no longer ours; never throws (it runs in a timer).
 */
function renew(file: string): Error | { lost: Holder | undefined } | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r+");
  } catch (error) {
    // Removed: taken over, or the state dir is gone.
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? { lost: undefined } : (error as Error);
  }
  try {
    const text = readFileSync(fd, "utf8");
    if (text !== me().text) return { lost: parseHolder(text) };
    writeSync(fd, text, 0);
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    try {
      closeSync(fd);
    } catch {
      // The renewal is written or not; a failed close (EIO on a network mount) changes neither.
    }
  }
}

/** Creates `file` exclusively, naming this process; false when it exists. */
function createWithPid(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, me().text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Throws StateDirInUseError naming the holder when `file` names a running process or is being written. */
function refuseIfHeld(file: string, shownDir: string): void {
  const holder = readHolder(file);
  if (holder === "starting") throw new StateDirInUseError(shownDir, undefined, basename(file));
  if (holder !== undefined && "unreadable" in holder) {
    throw new StateDirInUseError(shownDir, undefined, basename(file), undefined, holder.unreadable);
  }
  if (holder === undefined || !isHeld(holder, file)) return;
  const lease = samePidSpace(holder)
    ? undefined
    : { host: holder.host ?? "", until: new Date(holder.mtimeMs + LEASE_MS) };
  throw new StateDirInUseError(shownDir, holder.pid, basename(file), lease);
}

function holderPid(file: string): number | undefined {
  const holder = readHolder(file);
  return typeof holder === "object" && "pid" in holder ? holder.pid : undefined;
}

/**
 * Who holds a lock (or guard) file; "starting" for a young empty file; undefined for no file, an old
 * empty one, or one without a boot id written before this machine booted (its process is gone, whatever
 * has its pid now); the error code when it cannot be read.
 */
function readHolder(
  file: string,
): (Holder & { mtimeMs: number }) | "starting" | { unreadable: string } | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(file, "utf8");
    mtimeMs = statSync(file).mtimeMs;
  } catch (error) {
    // Only a file that is gone holds nothing. One that cannot be read (EACCES: another user's serve, its
    // lock mode 0600, in a state dir both may write) says nothing of its holder, who may be running:
    // taking it as stale would remove a live serve's lock, and two serves would share the journals.
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? undefined : { unreadable: code ?? String(error) };
  }
  const holder = parseHolder(text);
  if (!holder) return Date.now() - mtimeMs < STARTING_GRACE_MS ? "starting" : undefined;
  // Older than the boot (from uptime, which macOS has too; a container's uptime is its host's): only for a
  // lock without a boot id (an older hookgate's, or off Linux). One with it is judged by it, as a clock
  // stepped forward (a first NTP sync without RTC, a VM snapshot restored) makes a live lock look older.
  if (holder.boot === undefined && mtimeMs < Date.now() - uptime() * 1000 - BOOT_SLACK_MS) return undefined;
  return { ...holder, mtimeMs };
}

function parseHolder(text: string): Holder | undefined {
  const [first = "", ...rest] = text.split("\n");
  const pid = Number.parseInt(first.trim(), 10);
  if (!(Number.isInteger(pid) && pid > 0)) return undefined;
  const holder: Holder = { pid };
  for (const line of rest) {
    const space = line.indexOf(" ");
    const key = HOLDER_KEYS.find((k) => k === line.slice(0, space));
    if (space > 0 && key) holder[key] = line.slice(space + 1);
  }
  return holder;
}

/** Whether the process named in a lock (or guard) file still holds it. */
function isHeld(holder: Holder & { mtimeMs: number }, file: string): boolean {
  if (!samePidSpace(holder)) return Date.now() - holder.mtimeMs < LEASE_MS;
  // Our own pid: a lock of this process, or one left by an earlier process that had the same pid
  // (a restarted container's serve is pid 1 again).
  if (holder.pid === process.pid) return heldHere.has(file);
  if (!isAlive(holder.pid)) return false;
  // Alive, but started at another time than the lock's writer: the pid was reused.
  const start = holder.start === undefined ? undefined : startTime(holder.pid);
  return start === undefined || start === holder.start;
}

/**
 * Whether the lock's pid names a process here: same boot and pid namespace (Linux), else same host; or an
 * older hookgate's lock. The host only where those are missing (macOS): a host name changes under a live
 * serve (DHCP, hostnamectl), and a boot id and pid namespace already tell another machine or container.
 */
function samePidSpace(holder: Holder): boolean {
  if (holder.host === undefined) return true;
  const here = me().holder;
  if (holder.boot && holder.pidns && here.boot && here.pidns) {
    return holder.boot === here.boot && holder.pidns === here.pidns;
  }
  return holder.host === here.host && holder.boot === here.boot && holder.pidns === here.pidns;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Field 22 of /proc/<pid>/stat (Linux); undefined elsewhere, or when /proc is another pid namespace's
 * (a container without its own /proc mount), where /proc/<pid> is not the process `pid` names here.
 */
function startTime(pid: number | "self"): string | undefined {
  const ours = pid === "self" || readOrUndefined(() => readlinkSync("/proc/self")) === String(process.pid);
  const stat = ours ? readOrUndefined(() => readFileSync(`/proc/${pid}/stat`, "utf8")) : undefined;
  // Field 2, the name, is in parentheses and may hold spaces and parentheses: count from its end.
  return stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
