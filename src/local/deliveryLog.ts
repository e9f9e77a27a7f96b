// The local "Recent Deliveries" plus the DLQ: the last N deliveries and what became of them, newest
// first, served at GET /_hookgate/deliveries and persisted (debounced, atomically) under the state dir.
import { existsSync, readFileSync } from "node:fs";
import { isoNow } from "../core/clock";
import type { WorkItem } from "../core/types";
import { writeFileAtomicSync } from "./atomicFile";

export const DELIVERY_STATUSES = [
  "ignored",
  "rejected",
  "queued",
  "running",
  "retrying",
  "done",
  "dead",
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface DeliveryEntry {
  delivery: string;
  route: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  /** Why it was ignored or rejected, or what the action did. */
  reason?: string;
  /** The last action error (log-safe). */
  error?: string;
  /** The HTTP status the Git host got. */
  httpStatus?: number;
  generation?: number;
  receivedAt: string;
  updatedAt: string;
}

const TERMINAL: ReadonlySet<DeliveryStatus> = new Set(["done", "dead", "ignored", "rejected"]);

export class DeliveryLog {
  /** The deliveries that got past the checks (queued, ignored, …): oldest first. */
  private entries: DeliveryEntry[] = [];
  /**
   * The rejected ones (a 4xx or 5xx answer, most never verified), oldest first, in a ring of their own:
   * anyone who reaches the port can add them, and they must never push real work out of the history.
   */
  private rejects: DeliveryEntry[] = [];
  /** Each entry's place in the order they were added, across both rings (list() merges them by it). */
  private readonly seq = new WeakMap<DeliveryEntry, number>();
  private nextSeq = 0;
  private readonly byWorkKey = new Map<string, DeliveryEntry>();
  private flushTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  /**
   * Set by close(): the stop has written the history and will remove serve.lock, after which the state dir
   * may be another serve's. A change after it (a delivery answered once its held --fsync flush ends) is
   * kept in memory only: its log line (the handler's delivery or attempt line) still tells it.
   */
  private closed = false;
  /**
   * Durable (serve --fsync): the file on disk may not be flushed (a timed write, or an earlier run's), so
   * flushSync writes and flushes it even when nothing changed since.
   */
  private unsynced = false;

  /**
   * @param durable serve --fsync: flushSync (before a compaction of the queue journal, which is then flushed
   * and forgets what would repair the history) flushes the file too; the timed writes are not flushed.
   */
  constructor(
    readonly file: string,
    private readonly max = 500,
    private readonly flushDelayMs = 250,
    private readonly rejectedMax = 100,
    private readonly durable = false,
  ) {}

  load(): void {
    if (!existsSync(this.file)) return;
    this.unsynced = this.durable;
    try {
      const data = JSON.parse(readFileSync(this.file, "utf8")) as DeliveryEntry[];
      if (!Array.isArray(data)) return;
      // The file is newest first; keep oldest first in memory.
      // A hand-edited entry without the text fields every entry has would break the next lookup (a 500).
      const loaded = data
        .filter(
          (e) =>
            e &&
            typeof e.route === "string" &&
            typeof e.delivery === "string" &&
            typeof e.event === "string" &&
            (DELIVERY_STATUSES as readonly unknown[]).includes(e.status),
        )
        .reverse();
      for (const entry of loaded) this.seq.set(entry, this.nextSeq++);
      this.entries = loaded.filter((e) => e.status !== "rejected").slice(-this.max);
      this.rejects = loaded.filter((e) => e.status === "rejected").slice(-this.rejectedMax);
      for (const entry of this.entries) {
        if (entry.generation !== undefined)
          this.byWorkKey.set(workKey(entry.route, entry.delivery, entry.generation), entry);
      }
    } catch {
      // A damaged history is not worth refusing to start over; it is rewritten on the next delivery.
    }
  }

  /** A delivery answered without queuing anything (ignored, pong, duplicate, rejected, errors). */
  answered(entry: Omit<DeliveryEntry, "receivedAt" | "updatedAt" | "attempts">): void {
    const now = isoNow();
    const added: DeliveryEntry = {
      delivery: entry.delivery,
      route: entry.route,
      event: entry.event,
      status: entry.status,
      attempts: 0,
      receivedAt: now,
      updatedAt: now,
    };
    if (entry.reason !== undefined) added.reason = entry.reason;
    if (entry.httpStatus !== undefined) added.httpStatus = entry.httpStatus;
    this.push(added);
  }

  /** A delivery the handler answered 202: attach the HTTP status to its work entry. */
  accepted(route: string, delivery: string, event: string, httpStatus: number): void {
    let attached = false;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (!entry || entry.route !== route || entry.generation === undefined) continue;
      if (entry.delivery === delivery) {
        entry.httpStatus = httpStatus;
        this.touch(entry);
        return;
      }
      // The further ref changes of a push, queued as deliveries of their own (<id>#<n>).
      if (entry.delivery.startsWith(`${delivery}#`) && entry.httpStatus === undefined) {
        entry.httpStatus = httpStatus;
        this.touch(entry);
        attached = true;
      }
    }
    if (!attached) this.answered({ route, delivery, event, status: "queued", httpStatus });
  }

  /** A queued message that held no readable work item, moved to the dead letters. */
  unreadable(route: string, reason: string): void {
    const now = isoNow();
    this.push({
      delivery: "",
      route,
      event: "unknown",
      status: "dead",
      attempts: 0,
      error: reason,
      receivedAt: now,
      updatedAt: now,
    });
  }

  /** The work item was persisted on the queue. */
  queued(item: WorkItem): void {
    this.work(item, { status: "queued" });
  }

  /** Update the entry of one work item (created if it fell out of the history). */
  work(
    item: WorkItem,
    patch: Partial<Pick<DeliveryEntry, "status" | "attempts" | "reason" | "error">>,
  ): void {
    const key = workKey(item.route, item.deliveryId, item.generation);
    let entry = this.byWorkKey.get(key);
    if (!entry) {
      const now = isoNow();
      entry = {
        delivery: item.deliveryId,
        route: item.route,
        event: item.event?.action
          ? `${item.event.event}.${item.event.action}`
          : (item.event?.event ?? "unknown"),
        status: "queued",
        attempts: 0,
        generation: item.generation,
        receivedAt: now,
        updatedAt: now,
      };
      this.push(entry);
      this.byWorkKey.set(key, entry);
    }
    // "dead" is final for a generation: a later "done" from the same invocation must not hide it.
    if (patch.status !== undefined && entry.status !== "dead") entry.status = patch.status;
    if (patch.attempts !== undefined) entry.attempts = patch.attempts;
    if (patch.reason !== undefined) entry.reason = patch.reason;
    if (patch.error !== undefined) entry.error = patch.error;
    // A delivery that finally succeeded keeps no error from the attempts before.
    if (entry.status === "done") delete entry.error;
    this.touch(entry);
  }

  /**
   * A work item that finished before this start, as the state files say: the history (written a moment
   * after each change) may lack it, or still show it unfinished. An entry already final is kept; an item
   * older than a full history's oldest entry is not brought back.
   */
  settle(
    item: WorkItem,
    patch: { status: "done" | "dead" | "ignored"; attempts: number; reason?: string; error?: string },
    sentAt: number,
  ): void {
    const entry = this.byWorkKey.get(workKey(item.route, item.deliveryId, item.generation));
    if (entry && TERMINAL.has(entry.status)) return;
    // A journal edited by hand may hold any finite number: toISOString throws past year 275760.
    const sent = new Date(sentAt);
    const receivedAt = Number.isNaN(sent.getTime()) ? isoNow() : sent.toISOString();
    const oldest = this.entries[0];
    if (!entry && this.entries.length >= this.max && oldest && receivedAt < oldest.receivedAt) return;
    this.work(item, patch);
    if (!entry) {
      const added = this.byWorkKey.get(workKey(item.route, item.deliveryId, item.generation));
      if (added) {
        added.receivedAt = receivedAt;
        this.placeByTime(added);
      }
    }
  }

  /** The status of the entry work() would update for this item: how tests see the work-key index. */
  statusOf(item: WorkItem): DeliveryStatus | undefined {
    return this.byWorkKey.get(workKey(item.route, item.deliveryId, item.generation))?.status;
  }

  /** Newest first. */
  list(filter?: { route?: string; status?: string; limit?: number }): DeliveryEntry[] {
    const out: DeliveryEntry[] = [];
    const limit = filter?.limit ?? this.max + this.rejectedMax;
    // Both rings newest first, merged: by receivedAt (an entry repaired at start is as old as its work),
    // then by the order they were added.
    let i = this.entries.length - 1;
    let r = this.rejects.length - 1;
    while ((i >= 0 || r >= 0) && out.length < limit) {
      const main = this.entries[i];
      const rejected = this.rejects[r];
      let entry: DeliveryEntry;
      if (main && (!rejected || this.newer(main, rejected))) {
        entry = main;
        i--;
      } else {
        entry = rejected as DeliveryEntry;
        r--;
      }
      if (filter?.route && entry.route !== filter.route) continue;
      if (filter?.status && entry.status !== filter.status) continue;
      out.push(ordered(entry));
    }
    return out;
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of [...this.entries, ...this.rejects]) {
      counts[entry.status] = (counts[entry.status] ?? 0) + 1;
    }
    return counts;
  }

  /** Write now, synchronously (before a compaction of the queue journal). Nothing once closed. */
  flushSync(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.closed || !(this.dirty || this.unsynced)) return;
    this.dirty = false;
    writeFileAtomicSync(this.file, this.serialise(), { durable: this.durable });
    this.unsynced = false;
  }

  /**
   * The stop's last write: flushSync, then no more writes, also when that one fails (its error is
   * thrown). Idempotent.
   */
  close(): void {
    try {
      this.flushSync();
    } finally {
      this.closed = true;
    }
  }

  private push(entry: DeliveryEntry): void {
    this.seq.set(entry, this.nextSeq++);
    if (entry.status === "rejected") {
      // Never a work entry (no generation): nothing to unindex.
      this.rejects.push(entry);
      if (this.rejects.length > this.rejectedMax) this.rejects.shift();
      this.scheduleFlush();
      return;
    }
    this.entries.push(entry);
    while (this.entries.length > this.max) {
      const old = this.entries.shift() as DeliveryEntry;
      if (old.generation !== undefined) {
        const key = workKey(old.route, old.delivery, old.generation);
        if (this.byWorkKey.get(key) === old) this.byWorkKey.delete(key);
      }
    }
    this.scheduleFlush();
  }

  /**
   * Moves `entry`, just pushed as the newest, back past the entries received after it: one repaired from
   * the state files at start is as old as its work, and list() is newest first by position.
   */
  private placeByTime(entry: DeliveryEntry): void {
    const entries = this.entries;
    let i = entries.length - 1;
    if (entries[i] !== entry) return;
    for (; i > 0 && (entries[i - 1] as DeliveryEntry).receivedAt > entry.receivedAt; i--) {
      entries[i] = entries[i - 1] as DeliveryEntry;
    }
    entries[i] = entry;
  }

  private newer(a: DeliveryEntry, b: DeliveryEntry): boolean {
    if (a.receivedAt !== b.receivedAt) return a.receivedAt > b.receivedAt;
    return (this.seq.get(a) ?? 0) > (this.seq.get(b) ?? 0);
  }

  private touch(entry: DeliveryEntry): void {
    entry.updatedAt = isoNow();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.dirty = true;
    if (this.closed || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      if (!this.dirty) return;
      this.dirty = false;
      // Synchronously: a write still in flight when flushSync runs (before a compaction of the queue
      // journal, or on stop) would rename its older snapshot over the one flushSync wrote.
      try {
        writeFileAtomicSync(this.file, this.serialise());
        this.unsynced = this.durable;
      } catch {
        // The history is best effort; the next change tries again.
      }
    }, this.flushDelayMs);
    this.flushTimer.unref();
  }

  private serialise(): string {
    return `${JSON.stringify(this.list())}\n`;
  }
}

/** The same key order for every entry, whatever order its fields were filled in. */
function ordered(entry: DeliveryEntry): DeliveryEntry {
  const out: Partial<DeliveryEntry> = {
    delivery: entry.delivery,
    route: entry.route,
    event: entry.event,
    status: entry.status,
    attempts: entry.attempts,
  };
  if (entry.reason !== undefined) out.reason = entry.reason;
  if (entry.error !== undefined) out.error = entry.error;
  if (entry.httpStatus !== undefined) out.httpStatus = entry.httpStatus;
  if (entry.generation !== undefined) out.generation = entry.generation;
  out.receivedAt = entry.receivedAt;
  out.updatedAt = entry.updatedAt;
  return out as DeliveryEntry;
}

function workKey(route: string, delivery: string, generation: number): string {
  return `${route}#${delivery}#${generation}`;
}
