// DedupeStore persisted under the state dir, with the semantics of the deployed (DynamoDB) one:
// a claim succeeds when the id is new, when its last generation died, or when a "pending" claim was
// abandoned (a dead one's next claim takes generation + 1, an abandoned one is taken over as the same
// generation); an older generation never overwrites a newer one, but for its done over a newer dead or
// pending one (src/aws/dedupe.ts MARK_CONDITION says why). An entry expires as the deployed item
// does, once its expiresAt second (its last change's second + DEDUPE_TTL_SECONDS) has passed, and is
// dropped then (DynamoDB's TTL deletes an expired item lazily: until it does, the deployed claim takes the
// next generation and keeps the first claim's time, where here the next claim is generation 1 again).
// A released claim expires like the others, DEDUPE_TTL_SECONDS after its claim (the deployed item keeps
// the claim's expiresAt): until then its generation and first claim's time still shape the next claim.
// Storage: an append-only journal (one JSON line per change), replayed and compacted on start.
// Lines are written once per turn of the event loop, so a delivery's claim and mark share one write.
// A crash can lose the last turn's lines, never accepted work: the queue journal is written before
// the 202. A lost line can only make a redelivery run twice (at least once, as deployed). A done or dead
// mark is written at once, before the work path lets the queue delete the message.
// Durable (serve --fsync), the same holds after a power cut: a claim's line is fdatasynced (in parallel
// with the queue journal's, which its turn's write shares) before the "queued" mark, and so the 202,
// resolves; a done or dead mark before it resolves; a compaction's file and directory before and after its
// rename. A lost claim or done line would let a redelivery of a delivery that ran run again.
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { markLands, releaseLands } from "../core/dedupeRules";
import { TransientDependencyError } from "../core/errors";
import { DEDUPE_TTL_SECONDS, PENDING_CLAIM_TTL_SECONDS } from "../core/policy";
import type {
  CallLimits,
  ClaimResult,
  DedupeStore,
  DeliveryState,
  LogFn,
  RecordedState,
} from "../core/ports";
import { JournalFile, readJournalLines } from "./journalFile";

interface Entry {
  state: DeliveryState;
  generation: number;
  /** epoch ms of the last change (of a released claim: of the claim, which its expiry counts from) */
  at: number;
  /** A claim released by its receive path (its enqueue failed): abandoned, whatever its age. */
  released?: true;
  /** epoch ms of the first claim, kept by every generation (absent in a journal from before it was kept) */
  first?: number;
  /** The claim's token, in memory only (a restart abandons every pending claim anyway): see release(). */
  token?: string;
  /**
   * A pending claim's journal line and the journal's failed writes when it was appended, in memory only: a
   * release takes the line back when the disk refused it (see release()).
   */
  claimLine?: { text: string; failedWrites: number; synced?: Promise<void> };
}

interface JournalLine {
  k: string;
  s?: DeliveryState;
  g?: number;
  t?: number;
  f?: number;
  /** released (a journal from before it was written has t 0 instead) */
  r?: 1;
  /** deleted */
  d?: 1;
}

const STATES: readonly DeliveryState[] = ["pending", "queued", "done", "dead"];

export class FileDedupeStore implements DedupeStore {
  private readonly entries = new Map<string, Entry>();
  private readonly journal: JournalFile;
  /** Closed by serve's stop, which then lets go of the state dir: nothing may be written to it any more. */
  private closed = false;

  /** fdatasync what an answer depends on, and compact durably (serve --fsync): see the header. */
  private readonly durable: boolean;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
    options: { log?: LogFn; durable?: boolean } = {},
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.durable = options.durable ?? false;
    this.journal = new JournalFile(file, {
      durable: this.durable,
      compaction: {
        name: "dedupe",
        // A delivery takes three lines (claimed, queued, done): at four per entry, a journal of deliveries
        // was never compacted while serving, growing by each line and keeping every entry past its 29 days.
        worthIt: (lines) => lines > 2 * this.entries.size,
        compact: () => this.compact(),
        log: options.log,
      },
    });
    this.load();
  }

  async claim(
    route: string,
    deliveryId: string,
    _limits?: CallLimits,
    token: string = randomUUID(),
  ): Promise<ClaimResult> {
    if (this.closed) throw new TransientDependencyError("the dedupe store is closed: serve is stopping");
    const key = keyOf(route, deliveryId);
    const now = this.now();
    const entry = this.live(key, now);
    if (!entry) return this.set(key, { state: "pending", generation: 1, at: now, first: now, token }, true);
    const abandoned =
      entry.state === "pending" && (entry.released || now - entry.at > PENDING_CLAIM_TTL_SECONDS * 1000);
    if (entry.state === "dead" || abandoned) {
      const first = entry.first ?? now;
      // As the deployed store does: an abandoned claim is taken over as the same generation, so a send that
      // failed but reached the queue all the same has the redelivery's deduplication id, and runs once.
      const generation = abandoned ? entry.generation : entry.generation + 1;
      return this.set(key, { state: "pending", generation, at: now, first, token }, true);
    }
    return { claimed: false, state: entry.state, generation: entry.generation };
  }

  async mark(route: string, deliveryId: string, generation: number, state: DeliveryState): Promise<void> {
    const key = keyOf(route, deliveryId);
    const final = state === "done" || state === "dead";
    // Durable: the receive path answers 202 once its "queued" mark resolves, so the claim's line must be on
    // disk first (a claim taken over since is flushed later: that flush covers this one's line too). A flush
    // that fails fails the mark, which leaves the claim pending, as any failed mark does.
    const claimSynced = final ? undefined : this.entries.get(key)?.claimLine?.synced;
    if (claimSynced) await claimSynced;
    const entry = this.live(key, this.now());
    if (!entry) return;
    // As the deployed store's MARK_CONDITION; a done over a later generation keeps that generation's number.
    if (!markLands(entry, generation, state)) return;
    this.set(key, { state, generation: entry.generation, at: this.now(), first: entry.first }, false);
    if (!final) return;
    // Written now, not at the end of the turn: the queue may record its message deleted in this turn, and
    // a kill -9 between the two writes left the delivery "queued" for 29 days, its redelivery a duplicate.
    // A write that fails rejects the mark, which the caller logs as a failed DynamoDB mark; its lines stay
    // for the next write. Durable, flushed too before the queue's delete, which a later send's flush of the
    // queue journal makes durable.
    this.journal.writeNow();
    if (this.durable) await this.journal.sync();
  }

  async release(
    route: string,
    deliveryId: string,
    generation: number | undefined,
    _limits?: CallLimits,
    claimToken?: string,
  ): Promise<void> {
    const key = keyOf(route, deliveryId);
    const entry = this.entries.get(key);
    if (!entry || !releaseLands(entry, generation, claimToken)) return;
    // Make the claim look abandoned instead of deleting it (as the DynamoDB store does): the generation
    // survives, and the next claim takes it over with the same deduplication id.
    const { claimLine, ...released } = { ...entry, released: true as const };
    if (
      claimLine !== undefined &&
      this.journal.failedWrites > claimLine.failedWrites &&
      this.journal.retract(claimLine.text)
    ) {
      // The disk refused the claim's line (a full disk, which refused the delivery's send too): taken back,
      // with no release line, the journal stays as before the claim, whose next claim a restart gives the
      // same generation. Kept, each refused delivery's two lines would go out with every later all-or-nothing
      // write (a done mark's), and a disk with room again would still refuse it.
      this.entries.set(key, released);
      return;
    }
    this.set(key, released, false);
  }

  /** An entry past its expiry reads as none, never `expired`: this store drops it then (see the header). */
  async state(route: string, deliveryId: string): Promise<RecordedState | undefined> {
    return this.stateNow(route, deliveryId);
  }

  /** state(), without waiting: the store is in memory. */
  stateNow(route: string, deliveryId: string): { state: DeliveryState; generation: number } | undefined {
    const entry = this.live(keyOf(route, deliveryId), this.now());
    return entry && { state: entry.state, generation: entry.generation };
  }

  close(): void {
    this.closed = true;
    this.journal.close();
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && expired(entry, now)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private set(key: string, entry: Entry, claimed: true): ClaimResult;
  private set(key: string, entry: Entry, claimed: false): void;
  private set(key: string, entry: Entry, claimed: boolean): ClaimResult | undefined {
    const line = journalLine(key, entry);
    const failedWrites = this.journal.failedWrites;
    const written = this.append(line);
    // Only a claim is flushed: a queued or released line lost to a power cut leaves the claim pending, which
    // the next start takes as abandoned (a redelivery takes it over as the same generation).
    const synced = claimed && this.durable && written ? flushAfter(written, this.journal) : undefined;
    const claimLine = synced ? { text: line, failedWrites, synced } : { text: line, failedWrites };
    this.entries.set(key, claimed ? { ...entry, claimLine } : entry);
    return claimed
      ? { claimed: true, generation: entry.generation, firstClaimedAtMs: entry.first }
      : undefined;
  }

  /** The end of the turn's write, which never rejects unhandled; undefined once closed (nothing written). */
  private append(line: string): Promise<void> | undefined {
    // A mark or release that comes after the stop (a send that waited on a held flush) writes nothing: the
    // journal would open dedupe.jsonl again, after serve.lock is gone and maybe another serve owns the state dir.
    // The claim stays pending on disk, which the next start takes as abandoned.
    if (this.closed) return undefined;
    this.journal.append(line);
    const written = this.journal.written();
    written.catch(() => {
      // The lines stay for the next write; close() reports a failure that lasts.
    });
    return written;
  }

  private load(): void {
    const now = this.now();
    for (const text of readJournalLines(this.file)) {
      if (!text) continue;
      let line: JournalLine | null;
      try {
        line = JSON.parse(text);
      } catch {
        continue; // a line torn by a crash: the change it held is lost, like an unacknowledged write
      }
      if (typeof line !== "object" || line === null || typeof line.k !== "string") continue;
      if (line.d) this.entries.delete(line.k);
      else if (line.s && STATES.includes(line.s) && Number.isInteger(line.g) && typeof line.t === "number") {
        const first = typeof line.f === "number" && Number.isFinite(line.f) ? line.f : undefined;
        const entry: Entry = { state: line.s, generation: line.g as number, at: line.t, first };
        if (line.r === 1) entry.released = true;
        else if (line.t === 0 && line.s === "pending") {
          // Released before the claim's time was kept: its first claim's time is the best bound left,
          // or, without one, this start (it then expires 29 days from now, not never).
          Object.assign(entry, { released: true, at: first ?? now });
        }
        if (expired(entry, now)) this.entries.delete(line.k);
        else this.entries.set(line.k, entry);
      }
    }
    // The store is opened by the one serve holding the state dir's lock, before it answers anything: a claim
    // still pending on disk was made by a request of an earlier run, which a stop or a crash cut short (its
    // enqueue either reached the queue journal or never will). It is abandoned, as a released claim is: a
    // redelivery right after the restart takes it over as the same generation (its work item keeps the
    // generation's deduplication id: dropped within 5 minutes, else skipped once the first has run), instead
    // of being answered 503 "being accepted by another request" for 60 s, when no other request exists.
    for (const entry of this.entries.values()) if (entry.state === "pending") entry.released = true;
    this.compact();
  }

  /** Rewrite the journal with one line per live entry; an entry past its expiry is dropped, here and in memory. */
  private compact(): void {
    const now = this.now();
    const lines: string[] = [];
    for (const [key, entry] of this.entries) {
      if (expired(entry, now)) this.entries.delete(key);
      else lines.push(journalLine(key, entry));
    }
    this.journal.rewrite(lines);
  }
}

/**
 * The journal's fdatasync once `written` is: started at the end of the claim's turn, so it runs beside the
 * queue journal's flush of that turn, not after it. Its rejection is left to the one awaiting it (the mark).
 */
function flushAfter(written: Promise<void>, journal: JournalFile): Promise<void> {
  const synced = written.then(() => journal.sync());
  synced.catch(() => {
    // Awaited by the "queued" mark, if it comes; a claim released instead has no one to tell.
  });
  return synced;
}

/**
 * Past the deployed item's expiresAt (epoch seconds: its last change's second + DEDUPE_TTL_SECONDS), as the
 * deployed store's claim condition reads it (#expiresAt < the clock's second): up to 999 ms later than
 * DEDUPE_TTL_SECONDS after the change to the millisecond, never earlier.
 */
function expired(entry: Entry, now: number): boolean {
  return Math.floor(entry.at / 1000) + DEDUPE_TTL_SECONDS < Math.floor(now / 1000);
}

/** An entry's JournalLine, written by hand: only the key needs escaping. */
function journalLine(key: string, entry: Entry): string {
  const first = entry.first === undefined ? "" : `,"f":${entry.first}`;
  const released = entry.released ? `,"r":1` : "";
  return `{"k":${JSON.stringify(key)},"s":"${entry.state}","g":${entry.generation},"t":${entry.at}${first}${released}}`;
}

function keyOf(route: string, deliveryId: string): string {
  return `${route}#${deliveryId}`;
}
