// LocalQueue: the in-process stand-in for the deployed SQS FIFO queue, persisted under the state dir.
// - send() appends the message to a journal (queue/journal.jsonl) before it resolves, so a 202 survives
//   a crash of the process (and, with fsync, a power cut). A journal, not one file per message: creating
//   a file cost more CPU than the whole rest of the receive path (measured: open() was 38% of it).
//   The sends of one turn of the event loop share one write;
// - FIFO per route + message group (the repository): a group's next message waits for its head;
// - at most `concurrency` deliveries at once per route, as each deployed route has its own queue and worker
//   concurrency: a route whose dependency hangs holds its own deliveries only;
// - deduplication on `${deliveryId}:${generation}` for five minutes, like SQS's deduplication window;
// - each receive bumps ApproximateReceiveCount; the route handler's work() gets an SQS-shaped event and
//   answers with batchItemFailures; a failed message comes back after a delay; after maxReceiveCount failed
//   receives it is moved to the dead letters (SQS's redrive policy), unless the handler did so itself;
// - a message that is not a readable work item is still delivered (the handler dead-letters it, as the
//   deployed one does); a receive that fails unexpectedly (the dead-letter write, say) comes back after
//   the retry delay, never at once: an immediate retry would spin without yielding to the event loop;
// - a message for a route with no worker (not in routes.yaml) is kept until the route is back; one that
//   names no route at all is moved to the dead letters;
// - on start, the journal is replayed (a line torn by a crash is skipped), compacted, and every message
//   still there is delivered again (at least once).
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { WORK_CONCURRENCY } from "../core/policy";
import type { LogFn, WorkQueue } from "../core/ports";
import type { WorkItem } from "../core/types";
import { PLAIN_OUTCOMES, type RecordOutcome } from "../gateway/routeHandler";
import { parseWorkItem, workItemJson, workItemTooLarge } from "../gateway/workItem";
import { JournalFile, readJournalLines, type WriteSyncFn } from "./journalFile";

/**
 * The worker's answer: the batch response, and what it did with each record (the route handler's workRecords),
 * with the delay it decided for a failed one (`delayMs`: deployed, the visibility it set).
 */
export type WorkerAnswer = SQSBatchResponse & {
  records?: ReadonlyArray<RecordOutcome & { messageId: string; delayMs?: number }>;
};

export type QueueWorker = (event: SQSEvent) => Promise<WorkerAnswer | undefined>;

export interface QueueObserver {
  /** A message was accepted (persisted). */
  sent?(item: WorkItem): void;
  /** A message is being delivered to the worker; `attempt` is its ApproximateReceiveCount. */
  received?(item: WorkItem, attempt: number): void;
  /**
   * The worker reported success: the message is deleted. `outcome`: what the worker did with it, when it said
   * (a message settled without the worker: the `doneOutcome` that settled it).
   */
  deleted?(item: WorkItem, attempt: number, outcome: RecordOutcome | undefined): void;
  /** The worker reported a failure: the message comes back after `delayMs`. */
  retrying?(item: WorkItem, attempt: number, delayMs: number): void;
  /**
   * On start, before the journal is compacted (which forgets them): the messages it shows deleted since
   * it was last compacted (finished before this start), with their receive counts, when they were sent and
   * the outcome `deleted` was given (when its delete line names one), oldest first.
   */
  finished?(
    messages: { item: WorkItem; attempts: number; sentAt: number; outcome: RecordOutcome | undefined }[],
  ): void;
  /**
   * The journal is about to be compacted, forgetting the messages it shows deleted: what is repaired
   * from them after a crash (the delivery history) must be on disk first. At start, after `finished`.
   */
  compacting?(): void;
}

export interface LocalQueueOptions {
  dir: string;
  /**
   * The redrive policy's count (SQS's maxReceiveCount): serve gives it the deployed queue's margin above the
   * handler's attempts (core/policy REDRIVE_MARGIN), so the handler's own last attempt comes first here too.
   */
  maxReceiveCount: number;
  /**
   * Delay before the next receive of a record that failed on receive number `attempt`; `item` is
   * undefined when the message is not a readable work item; `decidedMs`: the delay the worker's answer gave
   * the record, when it gave one.
   */
  retryDelay(record: SQSRecord, item: WorkItem | undefined, attempt: number, decidedMs?: number): number;
  /**
   * When the work of `item` already finished (the dedupe store says so), the outcome the work path gives such a
   * record (already-done); undefined otherwise. Asked before the redrive of a message found past
   * maxReceiveCount: a crash can come after the work, before the journal records it.
   */
  doneOutcome?(route: string, item: WorkItem): RecordOutcome | undefined;
  /**
   * The redrive policy: where a message that failed maxReceiveCount receives goes (`item` as above; `id`: the
   * message's, as its records' messageId; `sentAt`: when it was sent, epoch ms).
   */
  redrive(
    message: { id: string; route: string; body: string; item: WorkItem | undefined; sentAt: number },
    reason: string,
  ): Promise<void>;
  /**
   * Messages delivered at once per route, across its groups (a group never has more than one in flight):
   * the deployed route's lambda.workConcurrency (default WORK_CONCURRENCY.fallback).
   */
  concurrency?: number;
  /** fdatasync the journal before send() resolves (default false: the append survives a process crash). */
  durable?: boolean;
  /** The journal's write system call; a test's stand-in plays a disk that fills up. */
  writeSync?: WriteSyncFn;
  observer?: QueueObserver;
  log?: LogFn;
  /** The wall clock: sentAt, the deduplication window, first receives (default Date.now). */
  now?: () => number;
  /**
   * The clock a backoff is timed on (default performance.now): monotonic, as SQS's visibility timeout is
   * counted on AWS's side, so a wall clock set back (NTP, a VM resumed) does not hold a retry that long.
   */
  monotonic?: () => number;
  /**
   * The receive path has priority: while this says the gateway is busy answering requests, at most one
   * delivery starts every `busyIntervalMs` (default 25 ms), so a burst of deliveries is answered first
   * and the work catches up right after. A Git host waits 10 s for its answer; the work has minutes.
   */
  busy?: () => boolean;
  busyIntervalMs?: number;
}

interface Message {
  id: string;
  seq: number;
  route: string;
  group: string;
  dedupeId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  /** When it may be received again, on the monotonic clock: never written to the journal (a start resets it). */
  notBefore: number;
  firstReceiveAt?: number;
  /** The body is not JSON text (a damaged line): the journal keeps it as a string, in m.body. */
  opaque?: true;
}

const DEDUPE_WINDOW_MS = 5 * 60_000;

// `item` is the body as nested JSON (encoding the body as a string would escape it a second time);
// journals written before carry the body in `m.body`.
type PutLine = { op: "put"; m: Omit<Message, "body" | "notBefore"> & { body?: string }; item?: unknown };

// A del line names the outcome the worker gave the message (`out`), so that a start after a crash can tell what
// the observer's `deleted` was told: a message skipped for a later generation is deleted as one that ran.
type JournalLine =
  | PutLine
  | { op: "upd"; id: string; rc?: number; fr?: number }
  | { op: "del"; id: string; out?: RecordOutcome };

export class LocalQueue {
  private readonly groups = new Map<string, Message[]>();
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  /** The messages those runs deliver. */
  private readonly running = new Set<Message>();
  /** Deliveries in flight by route: the concurrency limit is each route's. */
  private readonly inFlightByRoute = new Map<string, number>();
  /** Registered routes at their limit: once all are, a pump stops looking (a backlog may hold many groups). */
  private routesFull = 0;
  private readonly workers = new Map<string, QueueWorker>();
  private readonly recentDedupeIds = new Map<string, number>();
  private readonly warnedRoutes = new Set<string>();
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private readonly journal: JournalFile;
  /** Messages whose put line is written (or being written) but not yet in `groups`: compaction keeps them. */
  private readonly sending = new Set<Message>();
  /** The sends still flushing, by deduplication key: settled (never rejected) once each has ended. */
  private readonly flushing = new Map<string, Promise<void>>();
  private started = false;
  /** No delivery starts (a stop has begun); sends are still accepted. */
  private paused = false;
  private stopping = false;
  /** Closed: work still running past the stop records nothing, so the next start resumes it. */
  private closed = false;
  private readonly now: () => number;
  private readonly monotonic: () => number;

  constructor(private readonly options: LocalQueueOptions) {
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    mkdirSync(options.dir, { recursive: true });
    this.journal = new JournalFile(join(options.dir, "journal.jsonl"), {
      durable: options.durable,
      writeSync: options.writeSync,
      compaction: {
        name: "local queue",
        worthIt: (lines) => lines > 4 * (this.size() + this.sending.size + 1),
        compact: () => this.compact(),
        log: options.log,
      },
    });
  }

  /** The WorkQueue port for one route. */
  port(route: string): WorkQueue {
    return { send: (item) => this.send(route, item) };
  }

  register(route: string, worker: QueueWorker): void {
    this.workers.set(route, worker);
  }

  /** Load the persisted messages and start delivering. Returns how many were loaded. */
  start(): number {
    const live = new Map<string, Message>();
    const finished: Array<{ message: Message; outcome: RecordOutcome | undefined }> = [];
    const now = this.now();
    for (const text of readJournalLines(this.journal.path)) {
      if (!text) continue;
      let line: JournalLine | null;
      try {
        line = JSON.parse(text);
      } catch {
        continue; // torn by a crash: that send() never resolved, so no 202 was given for it
      }
      if (typeof line !== "object" || line === null) continue;
      if (line.op === "put" && line.m && typeof line.m.id === "string") {
        // A put without a readable item is still delivered: the worker dead-letters it, so it shows.
        // A body written as text (by hand): JSON text is kept as the item it holds, so the rewrite
        // loads the same; any other text is kept as a string.
        const text = typeof line.m.body === "string" ? line.m.body : undefined;
        const json = text === undefined ? JSON.stringify(line.item ?? null) : canonicalJson(text);
        const message = restoredMessage(line.m, line.m.id, json ?? (text as string), now, this.monotonic());
        if (json === undefined) message.opaque = true;
        live.set(line.m.id, message);
      } else if (line.op === "upd" && line.id) {
        const message = live.get(line.id);
        if (message) {
          message.receiveCount = count(line.rc) ?? message.receiveCount;
          message.firstReceiveAt = time(line.fr) ?? message.firstReceiveAt;
        }
      } else if (line.op === "del" && line.id) {
        const message = live.get(line.id);
        if (message) {
          live.delete(line.id);
          finished.push({ message, outcome: recordOutcome(line.out) });
        }
      }
    }
    const onFinished = this.options.observer?.finished;
    if (onFinished && finished.length > 0) {
      onFinished(
        finished
          .sort((x, y) => x.message.seq - y.message.seq)
          .flatMap(({ message: m, outcome }) => {
            const item = readableItem(m.body);
            return item ? [{ item, attempts: m.receiveCount, sentAt: m.sentAt, outcome }] : [];
          }),
      );
    }
    const known = new Set<string>();
    for (const group of this.groups.values()) for (const m of group) known.add(m.id);
    let loaded = 0;
    for (const message of [...live.values()].sort((x, y) => x.seq - y.seq)) {
      if (known.has(message.id)) continue; // sent since this queue was created: already in memory
      this.seq = Math.max(this.seq, message.seq + 1);
      this.enqueue(message);
      this.recentDedupeIds.set(`${message.route}#${message.dedupeId}`, message.sentAt);
      loaded++;
    }
    this.compact();
    this.started = true;
    this.pump();
    return loaded;
  }

  /**
   * Start no more deliveries, for good: a stop's first step, while it still waits for the requests being
   * answered. Sends are still accepted (into the journal, for the next start); the deliveries in flight go on.
   * A delivery started now would cost an attempt and could be cut half done at the stop's deadline.
   */
  pause(): void {
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  /** Stop delivering; wait up to `timeoutMs` for the deliveries in flight. True when none is left. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight.size === 0) return true;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, timeoutMs);
      }),
    ]);
    if (timeout) clearTimeout(timeout);
    return this.inFlight.size === 0;
  }

  /** Close the journal (after stop). */
  close(): void {
    // A send still waiting for its journal write or fdatasync has not been answered, and its answer can no
    // longer go out (serve's stop closes the connections first): cancelled with the journal, so that the next
    // start does not run a delivery the Git host saw fail, whatever the write then does.
    for (const message of this.sending) this.append({ op: "del", id: message.id });
    // Out of `sending` before the close's write: that write can set off a compaction, which would rebuild
    // their put lines from `sending` without the del lines.
    this.sending.clear();
    this.closed = true;
    this.journal.close();
  }

  /** Messages waiting or in flight. */
  size(): number {
    let n = 0;
    for (const messages of this.groups.values()) n += messages.length;
    return n;
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Messages waiting: queued and not in flight (size() counts both). */
  waitingCount(): number {
    let n = this.size();
    // Few (the routes' concurrency at most); one may have left its group already, its run not yet ended.
    for (const message of this.running) if (this.isQueued(message)) n--;
    return n;
  }

  private async send(route: string, item: WorkItem): Promise<void> {
    if (this.stopping) throw new Error("the local queue is shutting down");
    const dedupeId = `${item.deliveryId}:${item.generation}`;
    const dedupeKey = `${route}#${dedupeId}`;
    // SQS drops a second send of an id whatever the timing, but the id is recorded only once a send's flush
    // ended: wait for one still flushing, then drop (it landed) or put (it failed, so the Git host got a 503).
    for (let earlier = this.flushing.get(dedupeKey); earlier; earlier = this.flushing.get(dedupeKey))
      await earlier;
    if (this.stopping) throw new Error("the local queue is shutting down");
    const now = this.now();
    const seenAt = this.recentDedupeIds.get(dedupeKey);
    if (seenAt !== undefined && now - seenAt < DEDUPE_WINDOW_MS) return; // SQS drops it silently
    const body = workItemJson(item);
    // As SQS would refuse it: what serve accepts, the deployed route accepts too.
    const tooLarge = workItemTooLarge(body);
    if (tooLarge !== undefined) throw tooLarge;
    const message: Message = {
      id: randomUUID(),
      seq: this.seq++,
      route,
      group: item.event?.repo?.fullName || "default",
      dedupeId,
      body,
      sentAt: now,
      receiveCount: 0,
      notBefore: this.monotonic(),
    };
    const put = putLine(message);
    this.journal.append(put);
    this.sending.add(message);
    let ended = () => {};
    this.flushing.set(
      dedupeKey,
      new Promise<void>((resolve) => {
        ended = resolve;
      }),
    );
    try {
      await this.journal.written();
      if (this.options.durable) await this.journal.sync();
    } catch (error) {
      // The sender answers 503 (redeliver later), so a restart must not run it. A put never written is taken
      // back: kept, it would go out again with every later write, each refused send making the next write
      // bigger, and a disk with room again would still refuse them all. One that may be in the file (a failed
      // fdatasync after the write) is cancelled with a del line, written now: an idle serve killed before its
      // next write would replay it.
      if (!this.journal.retract(put)) {
        this.append({ op: "del", id: message.id });
        this.scheduleWrite();
      }
      throw error;
    } finally {
      this.sending.delete(message);
      // A waiting send resumes only after this one has recorded its id below (no await in between).
      this.flushing.delete(dedupeKey);
      ended();
    }
    // Closed meanwhile: close() cancelled it in the journal, so it is not this queue's work.
    if (this.closed) throw new Error("the local queue is shutting down");
    this.recentDedupeIds.delete(dedupeKey); // re-inserted at the end: the map stays in time order
    this.recentDedupeIds.set(dedupeKey, now);
    if (this.recentDedupeIds.size > 10_000) this.forgetOldDedupeIds(now);
    this.options.observer?.sent?.(item);
    this.enqueue(message);
    if (this.started) this.pump();
  }

  private enqueue(message: Message): void {
    const key = groupKey(message);
    let messages = this.groups.get(key);
    if (!messages) {
      messages = [];
      this.groups.set(key, messages);
    }
    messages.push(message);
  }

  private pump(): void {
    if (this.stopping || this.paused || !this.started) return;
    const limit = this.options.concurrency ?? WORK_CONCURRENCY.fallback;
    const now = this.monotonic();
    let nextAt = Number.POSITIVE_INFINITY;
    const busyInterval = this.options.busyIntervalMs ?? 25;
    for (const [key, messages] of this.groups) {
      if (this.workers.size > 0 && this.routesFull >= this.workers.size) break;
      const head = messages[0];
      if (!head || this.busy.has(key)) continue;
      // Its route is at its limit: another route's groups still go (the next pump, when one ends, comes back).
      if ((this.inFlightByRoute.get(head.route) ?? 0) >= limit) continue;
      if (head.notBefore > now) {
        nextAt = Math.min(nextAt, head.notBefore);
        continue;
      }
      if (now - this.lastStartAt < busyInterval && this.options.busy?.() === true) {
        nextAt = Math.min(nextAt, this.lastStartAt + busyInterval);
        break;
      }
      const worker = this.workers.get(head.route);
      if (!worker && head.route) {
        // Its route is not in this routes.yaml (removed for now, or serve started with another file): the
        // work is kept, never dropped, until the route is back.
        if (!this.warnedRoutes.has(head.route)) {
          this.warnedRoutes.add(head.route);
          this.options.log?.({
            level: "warn",
            msg:
              "queued work for a route that is not in routes.yaml is kept until the route is back " +
              "(to drop it, stop serve and remove the route's lines from queue/journal.jsonl)",
            route: head.route.slice(0, 100),
          });
        }
        continue;
      }
      this.lastStartAt = now;
      this.deliver(key, head, worker);
    }
    this.schedule(nextAt);
  }

  private schedule(at: number): void {
    if (at === Number.POSITIVE_INFINITY || at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - this.monotonic()),
    );
  }

  private deliver(key: string, message: Message, worker: QueueWorker | undefined): void {
    this.busy.add(key);
    const route = message.route;
    const limit = this.options.concurrency ?? WORK_CONCURRENCY.fallback;
    const running = (this.inFlightByRoute.get(route) ?? 0) + 1;
    this.inFlightByRoute.set(route, running);
    if (running === limit && this.workers.has(route)) this.routesFull++;
    const run = this.receive(message, worker).catch((error) => {
      const uncounted = error instanceof UncountedReceive;
      this.options.log?.({
        level: "error",
        msg: "local queue failure",
        route: message.route,
        error: String(uncounted ? error.reason : error),
      });
      if (this.isQueued(message)) {
        this.retryLater(message, readableItem(message.body), undefined, undefined, { journal: !uncounted });
      }
    });
    const tracked = run.finally(() => {
      this.busy.delete(key);
      this.running.delete(message);
      const left = (this.inFlightByRoute.get(route) ?? 1) - 1;
      if (left === limit - 1 && this.workers.has(route)) this.routesFull--;
      if (left > 0) this.inFlightByRoute.set(route, left);
      else this.inFlightByRoute.delete(route);
      this.inFlight.delete(tracked);
      this.pump();
    });
    this.inFlight.add(tracked);
    this.running.add(message);
  }

  private async receive(message: Message, worker: QueueWorker | undefined): Promise<void> {
    if (!worker) {
      // The line names no route (edited by hand, or garbage): no route can ever take it, so it would wait
      // unseen forever. It goes to the dead letters, in sight.
      await this.deadLetter(message, readableItem(message.body), "the queued message names no route");
      return;
    }
    if (message.receiveCount >= this.options.maxReceiveCount) {
      const item = readableItem(message.body);
      const done = item && this.options.doneOutcome?.(message.route, item);
      if (item && done) {
        // Its last attempt finished the work, and a crash came before the journal recorded it: done.
        this.remove(message, done);
        this.options.observer?.deleted?.(item, message.receiveCount, done);
        return;
      }
      // Its last attempt failed but moving it failed too (or a crash came in between): like SQS past
      // maxReceiveCount, move it without running the worker again.
      await this.deadLetter(message, item);
      return;
    }
    const now = this.now();
    const receiveCount = message.receiveCount + 1;
    const firstReceiveAt = message.firstReceiveAt ?? now;
    // Persist the receive count first: a crash during the attempt still counts it, as SQS does. A write
    // that fails (a full disk) fails the receive before it counts: the action was not attempted.
    // The message counts it before the write: a compaction the write sets off rewrites the journal from
    // the messages, and would otherwise drop the line just written.
    const before = { receiveCount: message.receiveCount, firstReceiveAt: message.firstReceiveAt };
    const upd = JSON.stringify({ op: "upd", id: message.id, rc: receiveCount, fr: firstReceiveAt });
    if (!this.closed) this.journal.append(upd);
    message.receiveCount = receiveCount;
    message.firstReceiveAt = firstReceiveAt;
    try {
      this.journal.writeNow();
    } catch (error) {
      message.receiveCount = before.receiveCount;
      message.firstReceiveAt = before.firstReceiveAt;
      // Not counted, so its line is taken back: kept, each receive while the disk is full would add one to
      // every later all-or-nothing write, and a disk with room again would still refuse them (a 503 to each
      // delivery). One that may be in the file already (a part write that could not be cut back) stays.
      this.journal.retract(upd);
      throw new UncountedReceive(error);
    }
    const item = readableItem(message.body);
    const record = toRecord(message);
    if (item) this.options.observer?.received?.(item, message.receiveCount);
    let failed: boolean;
    let outcome: RecordOutcome | undefined;
    let decidedMs: number | undefined;
    try {
      const response = await worker({ Records: [record] });
      failed = response?.batchItemFailures?.some((f) => f.itemIdentifier === message.id) ?? false;
      const found = response?.records?.find((r) => r.messageId === message.id);
      outcome = found && recordOutcome(found);
      decidedMs = Number.isFinite(found?.delayMs) ? found?.delayMs : undefined;
    } catch (error) {
      // The whole invocation failed: every record of the batch comes back.
      this.options.log?.({
        level: "error",
        msg: "work invocation failed",
        route: message.route,
        error: String(error),
      });
      failed = true;
    }
    if (!failed) {
      this.remove(message, outcome);
      if (item) this.options.observer?.deleted?.(item, message.receiveCount, outcome);
      return;
    }
    if (message.receiveCount >= this.options.maxReceiveCount) {
      await this.deadLetter(message, item);
      return;
    }
    this.retryLater(message, item, record, decidedMs);
  }

  private async deadLetter(
    message: Message,
    item: WorkItem | undefined,
    reason = `failed ${message.receiveCount} receives (maxReceiveCount reached)`,
  ): Promise<void> {
    await this.options.redrive(
      { id: message.id, route: message.route, body: message.body, item, sentAt: message.sentAt },
      reason,
    );
    // Named on its del line, as the worker's own dead-lettering is: a start after a crash settles its entry dead.
    this.remove(message, { outcome: "dead" });
  }

  /**
   * The message comes back after the retry delay of its last receive. `journal` false: the receive never
   * counted (its count could not be written), so there is nothing to record, and a line would only pile up
   * in the journal's buffer while the disk is full.
   */
  private retryLater(
    message: Message,
    item: WorkItem | undefined,
    record = toRecord(message),
    decidedMs?: number,
    { journal = true }: { journal?: boolean } = {},
  ): void {
    const delayMs = Math.max(0, this.options.retryDelay(record, item, message.receiveCount, decidedMs));
    message.notBefore = this.monotonic() + delayMs;
    if (journal) {
      this.append({ op: "upd", id: message.id, rc: message.receiveCount });
      this.scheduleWrite();
    }
    if (item) this.options.observer?.retrying?.(item, message.receiveCount, delayMs);
  }

  private isQueued(message: Message): boolean {
    return this.groups.get(groupKey(message))?.includes(message) ?? false;
  }

  private append(line: JournalLine): void {
    if (this.closed) return;
    this.journal.append(JSON.stringify(line));
  }

  /** A write nobody waits for (a message's progress): a failure is logged; the next write retries it. */
  private scheduleWrite(): void {
    this.journal.written().catch((error) => {
      // After the close, its own failure reported the lines lost.
      if (this.closed) return;
      this.options.log?.({ level: "error", msg: "local queue journal write failed", error: String(error) });
    });
  }

  /** Rewrite the journal with one line per message still queued (atomically: temp file + rename). */
  private compact(): void {
    this.options.observer?.compacting?.();
    const lines: string[] = [];
    for (const messages of this.groups.values()) {
      for (const m of messages) lines.push(putLine(m));
    }
    for (const m of this.sending) lines.push(putLine(m));
    this.journal.rewrite(lines);
  }

  private remove(message: Message, outcome?: RecordOutcome): void {
    const key = groupKey(message);
    const messages = this.groups.get(key);
    if (messages) {
      const index = messages.indexOf(message);
      if (index >= 0) messages.splice(index, 1);
      if (messages.length === 0) this.groups.delete(key);
    }
    this.append(outcome ? { op: "del", id: message.id, out: outcome } : { op: "del", id: message.id });
    if (outcome?.outcome === "dead" && !this.closed) {
      // Written now, as the dedupe store writes its dead mark: its letter is filed, and a start that found the
      // message still queued would receive it again (its dedupe item reads dead, which says nothing of the letter).
      // A write that fails keeps its lines for the next one, which the scheduled write below tries.
      try {
        this.journal.writeNow();
        return;
      } catch {}
    }
    this.scheduleWrite();
  }

  /** The map is in time order (oldest first): stop at the first id still inside the window. */
  private forgetOldDedupeIds(now: number): void {
    for (const [key, at] of this.recentDedupeIds) {
      if (now - at < DEDUPE_WINDOW_MS) return;
      this.recentDedupeIds.delete(key);
    }
  }
}

/** A receive that failed before it counted: its receive count could not be written (a full disk). */
class UncountedReceive extends Error {
  constructor(readonly reason: unknown) {
    super(String(reason));
  }
}

/**
 * A message as its put line holds it. A restart is a fresh start: it runs now, not after the backoff of
 * the last run. A field a damaged line lacks gets a safe value: a receive count that is not a number
 * would never reach maxReceiveCount, and a delay computed from it would retry at once, forever.
 */
function restoredMessage(
  m: Record<string, unknown>,
  id: string,
  body: string,
  now: number,
  monotonicNow: number,
): Message {
  return {
    id,
    seq: count(m.seq) ?? 0,
    route: typeof m.route === "string" ? m.route : "",
    group: typeof m.group === "string" ? m.group : "default",
    dedupeId: typeof m.dedupeId === "string" ? m.dedupeId : id,
    body,
    sentAt: time(m.sentAt) ?? now,
    receiveCount: count(m.receiveCount) ?? 0,
    notBefore: monotonicNow,
    firstReceiveAt: time(m.firstReceiveAt),
  };
}

function count(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
}

function time(value: unknown): number | undefined {
  return Number.isFinite(value) ? (value as number) : undefined;
}

const OUTCOMES: ReadonlySet<string> = new Set(PLAIN_OUTCOMES);

/**
 * A record's outcome, with its own fields only (a worker's record also names its message; a del line of a
 * journal edited by hand or damaged may hold anything): undefined when it is none.
 */
function recordOutcome(value: unknown): RecordOutcome | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const { outcome, supersededBy, doneAt } = value as Record<string, unknown>;
  if (outcome === "superseded") {
    return generationNumber(supersededBy) ? { outcome, supersededBy } : undefined;
  }
  if (outcome === "already-done") {
    if (doneAt === undefined) return { outcome };
    return generationNumber(doneAt) ? { outcome, doneAt } : undefined;
  }
  return typeof outcome === "string" && OUTCOMES.has(outcome) ? ({ outcome } as RecordOutcome) : undefined;
}

function generationNumber(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

/** The work item a message holds, or undefined when it holds none (the worker decides what to do). */
function readableItem(body: string): WorkItem | undefined {
  try {
    return parseWorkItem(body);
  } catch {
    return undefined;
  }
}

/** The journal line of a message: its body, already JSON, goes in as a nested value. */
function putLine(message: Message): string {
  // notBefore is on this process's monotonic clock, meaningless to the next one (journals older serves wrote
  // hold it, or an `nb`, as wall time: a start ignores both).
  const { body, opaque, notBefore: _notBefore, ...meta } = message;
  if (opaque) return JSON.stringify({ op: "put", m: { ...meta, body } } satisfies PutLine);
  return `{"op":"put","m":${JSON.stringify(meta satisfies PutLine["m"])},"item":${body}}`;
}

/** The text as JSON.stringify writes it, or undefined when it is not JSON. */
function canonicalJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function groupKey(message: Pick<Message, "route" | "group">): string {
  return `${message.route}\u0000${message.group}`;
}

function toRecord(message: Message): SQSRecord {
  return {
    messageId: message.id,
    receiptHandle: `${message.id}#${message.receiveCount}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: "hookgate-local",
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? message.sentAt),
      MessageGroupId: message.group,
      MessageDeduplicationId: message.dedupeId,
      SequenceNumber: String(message.seq),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(message.body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:local:000000000000:hookgate-${message.route}.fifo`,
    awsRegion: "local",
  };
}
