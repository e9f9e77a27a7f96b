// The three DedupeStores driven in lock-step by the same generated operations: MemoryDedupeStore,
// FileDedupeStore (`hookgate serve`'s, in a fresh state dir each run) and DynamoDedupeStore (the deployed
// one, through the real DynamoDBClient against dynalite). After every step each store's answer and the
// touched delivery's recorded state are compared with a model of the deployed store's documented rules
// (src/aws/dedupe.ts, README "Duplicates: the dedupe table"); at the end of a run, every delivery's state.
// Two routes times three ids (one over the deployed key's 1 KB), so operations collide; fast-check shrinks a divergence to a short sequence.
//
// One documented difference is in the model, not hidden: an item past its expiresAt. DynamoDB deletes it
// lazily ("up to days later"), so the deployed store sees either the expired item (a claim takes the next
// generation and keeps the first claim's time; a mark of its generation still lands; state() reads it with
// `expired: true`) or no item (generation 1 again, a new first claim's time). MemoryDedupeStore and DynamoDedupeStore (dynalite deletes nothing by
// TTL) are the first case, ExpiredItems "kept"; FileDedupeStore drops an expired entry at once (its header
// comment: dropped once its expiresAt second has passed), the second, "deleted". Both models expire an item at
// the same moment: once its expiresAt, in epoch seconds, is behind the clock's.
//
// A second one, also in the model: a restart of `serve`. The file store is opened by the one serve holding
// the state dir's lock, so a claim still pending on disk was cut short by a stop or a crash and is taken as
// abandoned (a released claim: its redelivery takes it over as the same generation at once). A deployed
// pending claim waits out the pending TTL, as another function may still be sending it.
//
// Time is the stores' injected clock only; nothing here reads the wall clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { DynamoDedupeStore } from "../../src/aws/dedupe";
import { DEDUPE_TTL_SECONDS, PENDING_CLAIM_TTL_SECONDS } from "../../src/core/policy";
import type { ClaimResult, DedupeStore, DeliveryState, RecordedState } from "../../src/core/ports";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { type LocalDynamo, startLocalDynamo } from "../support/dynamo";
import { propertyScale, runs } from "../support/propertyRuns";

const TABLE = "hookgate-dedupe-model";
const T0 = 1_800_000_000_000;
const ROUTES = ["api-build", "docs-zip"] as const;
/** "long" stands for an id over the deployed key's 1 KB, which DynamoDedupeStore stores hashed. */
const IDS = ["d1", "d2", "long"] as const;

type Recorded = RecordedState | undefined;

interface Key {
  route: (typeof ROUTES)[number];
  id: (typeof IDS)[number];
}

type Op =
  | { op: "claim"; key: Key }
  /** A claim whose first answer is lost: the deployed store's SDK tries it again with the same token. */
  | { op: "claimRetried"; key: Key }
  /** Two receive paths claim the same delivery at once (a retrying proxy): one of them may win. */
  | { op: "claimTwice"; key: Key }
  /**
   * `gen`: the caller's generation relative to the store's current one (-1: a stale one, +1: none yet).
   * `token`: the claim's token given with it: the last winning claim's, the one before it (a request whose
   * claim was taken over since: its release lands late), or none. `tokenOnly`: no generation is given (a
   * claim whose answer the deadline cut).
   */
  | { op: "release"; key: Key; gen: number; token?: "current" | "previous"; tokenOnly?: true }
  | { op: "mark"; key: Key; gen: number; state: "queued" | "done" | "dead" }
  | { op: "state"; key: Key }
  | { op: "advance"; ms: number }
  /** `hookgate serve` stopped and started again: the file store is read back from its journal. */
  | { op: "restart" };

type ExpiredItems = "kept" | "deleted";

interface ModelEntry {
  state: DeliveryState;
  generation: number;
  updatedAt: number;
  /** epoch seconds */
  expiresAt: number;
  firstClaimedAt: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Two answers to claims made at once, in an order that does not depend on which ran first: a win first. */
function byClaimed(answers: ClaimResult[]): ClaimResult[] {
  return [...answers].sort((a, b) => Number(b.claimed) - Number(a.claimed));
}

/** The deployed store's rules, as src/aws/dedupe.ts and the README state them. */
class DedupeModel {
  private readonly entries = new Map<string, ModelEntry>();

  constructor(private readonly expired: ExpiredItems) {}

  claim(key: string, now: number): ClaimResult {
    const old = this.live(key, now);
    if (!old) return this.claimed(key, 1, now, now);
    // The claim condition: dead, or past its expiresAt (attribute_not_exists is the case above).
    if (old.state === "dead" || old.expiresAt < seconds(now)) {
      return this.claimed(key, old.generation + 1, now, old.firstClaimedAt);
    }
    // The takeover: an abandoned pending claim (released: updatedAt 0, or older than the pending TTL) keeps
    // its generation.
    if (old.state === "pending" && old.updatedAt < now - PENDING_CLAIM_TTL_SECONDS * 1000) {
      return this.claimed(key, old.generation, now, old.firstClaimedAt);
    }
    return { claimed: false, state: old.state, generation: old.generation };
  }

  mark(key: string, generation: number, state: DeliveryState, now: number): void {
    const entry = this.live(key, now);
    if (!entry) return;
    // An older generation's done lands on a newer dead or pending one, which keeps its generation
    // (MARK_CONDITION); not on a newer queued one.
    const overLater =
      state === "done" &&
      entry.generation > generation &&
      (entry.state === "dead" || entry.state === "pending");
    if (entry.generation !== generation && !overLater) return;
    if (state === "queued" && entry.state !== "pending") return;
    // dead never over done (MARK_CONDITION): the action ran.
    if (state === "dead" && entry.state === "done") return;
    Object.assign(entry, { state, updatedAt: now, expiresAt: seconds(now) + DEDUPE_TTL_SECONDS });
  }

  /** A restart of serve: every pending claim on disk is abandoned, as a released one is. */
  restart(): void {
    for (const entry of this.entries.values()) if (entry.state === "pending") entry.updatedAt = 0;
  }

  release(key: string, generation: number | undefined, now: number, token?: "current" | "previous"): void {
    // Every winning claim writes a token of its own: the one before the last is never the item's.
    if (token === "previous") return;
    if (generation === undefined && token === undefined) return;
    const entry = this.live(key, now);
    if (entry && (generation === undefined || entry.generation === generation) && entry.state === "pending")
      entry.updatedAt = 0;
  }

  state(key: string, now: number): Recorded {
    const entry = this.live(key, now);
    if (!entry) return undefined;
    // An item kept past its expiresAt is read as expired (a deleted one is gone: live() above).
    const recorded = { state: entry.state, generation: entry.generation };
    return entry.expiresAt < seconds(now) ? { ...recorded, expired: true } : recorded;
  }

  /** The generation the store holds for `key` now (0 without one): what a caller's `gen` is relative to. */
  generation(key: string, now: number): number {
    return this.live(key, now)?.generation ?? 0;
  }

  private live(key: string, now: number): ModelEntry | undefined {
    const entry = this.entries.get(key);
    if (entry && this.expired === "deleted" && entry.expiresAt < seconds(now)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private claimed(key: string, generation: number, now: number, firstClaimedAt: number): ClaimResult {
    this.entries.set(key, {
      state: "pending",
      generation,
      updatedAt: now,
      expiresAt: seconds(now) + DEDUPE_TTL_SECONDS,
      firstClaimedAt,
    });
    return { claimed: true, generation, firstClaimedAtMs: firstClaimedAt };
  }
}

interface Subject {
  name: string;
  model: DedupeModel;
  store: () => DedupeStore;
  claimRetried(route: string, id: string, token: string): Promise<ClaimResult>;
}

/** The token a release passes: `kind` of the winning claims' tokens, as one subject saw them, oldest first. */
function tokenFor(won: readonly string[], kind: "current" | "previous" | undefined): string | undefined {
  if (kind === undefined) return undefined;
  return won[won.length - (kind === "current" ? 1 : 2)] ?? `never-claimed-${kind}`;
}

/** One run's stores, all on the same clock, and the models they are held to. */
class Run {
  now: number;
  readonly memory: MemoryDedupeStore;
  readonly dynamo: DynamoDedupeStore;
  file: FileDedupeStore;
  readonly subjects: Subject[];
  private readonly fileModel: DedupeModel;
  private readonly dir: string;
  private readonly journal: string;
  private steps = 0;
  /** Each subject's winning claims' tokens, per delivery, oldest first. */
  private readonly won = new Map<string, string[]>();

  constructor(
    ddb: LocalDynamo,
    readonly prefix: string,
    start: number,
  ) {
    this.now = start;
    const now = () => this.now;
    this.dir = mkdtempSync(join(tmpdir(), "hookgate-dedupe-model-"));
    this.journal = join(this.dir, "dedupe.jsonl");
    this.memory = new MemoryDedupeStore({ now });
    this.file = new FileDedupeStore(this.journal, now);
    this.dynamo = new DynamoDedupeStore(ddb.client, ddb.tableName, { now });
    const kept = new DedupeModel("kept");
    this.fileModel = new DedupeModel("deleted");
    this.subjects = [
      {
        name: "MemoryDedupeStore",
        model: kept,
        store: () => this.memory,
        // Its answer cannot be lost on the way: the one claim is the answer.
        claimRetried: (route, id, token) => this.memory.claim(route, id, undefined, token),
      },
      {
        name: "FileDedupeStore",
        model: this.fileModel,
        store: () => this.file,
        claimRetried: (route, id, token) => this.file.claim(route, id, undefined, token),
      },
      {
        name: "DynamoDedupeStore",
        model: kept,
        store: () => this.dynamo,
        claimRetried: async (route, id, token) => {
          await this.dynamo.claim(route, id, undefined, token); // applied; its answer lost
          return this.dynamo.claim(route, id, undefined, token);
        },
      },
    ];
  }

  /** The models, each once (Memory and Dynamo share one). */
  private models(): DedupeModel[] {
    return [...new Set(this.subjects.map((subject) => subject.model))];
  }

  private where(key: Key): { route: string; id: string; modelKey: string } {
    const id = `${this.prefix}-${key.id === "long" ? "x".repeat(1100) : key.id}`;
    return { route: key.route, id, modelKey: `${key.route}#${id}` };
  }

  /** Applies `op` to every store and model; throws on the first answer or state that differs. */
  async apply(op: Op): Promise<void> {
    const step = ++this.steps;
    if (op.op === "advance") {
      this.now += op.ms;
      return;
    }
    if (op.op === "restart") {
      this.file.close();
      this.file = new FileDedupeStore(this.journal, () => this.now);
      this.fileModel.restart();
      return;
    }
    const { route, id, modelKey } = this.where(op.key);
    const now = this.now;
    // What each subject's caller passes as the generation: its store's current one (as its model has it,
    // before the models move on), moved by `gen`.
    const generation = new Map<DedupeModel, number>();
    for (const model of this.models())
      generation.set(model, model.generation(modelKey, now) + ("gen" in op ? op.gen : 0));
    const expected = new Map<DedupeModel, unknown>();
    for (const [model, g] of generation) {
      if (op.op === "claim" || op.op === "claimRetried") expected.set(model, model.claim(modelKey, now));
      else if (op.op === "claimTwice") {
        expected.set(model, byClaimed([model.claim(modelKey, now), model.claim(modelKey, now)]));
      } else if (op.op === "release") {
        expected.set(model, model.release(modelKey, op.tokenOnly ? undefined : g, now, op.token));
      } else if (op.op === "mark") expected.set(model, model.mark(modelKey, g, op.state, now));
      else expected.set(model, model.state(modelKey, now));
    }
    const answers = await Promise.all(
      this.subjects.map(async (subject) => {
        const store = subject.store();
        const g = generation.get(subject.model) ?? 0;
        const won = this.won.get(`${subject.name}|${modelKey}`) ?? [];
        this.won.set(`${subject.name}|${modelKey}`, won);
        const claimAs = async (token: string, claim: Promise<ClaimResult>) => {
          const answer = await claim;
          if (answer.claimed) won.push(token);
          return answer;
        };
        if (op.op === "claim")
          return claimAs(`claim-${step}`, store.claim(route, id, undefined, `claim-${step}`));
        if (op.op === "claimRetried") {
          return claimAs(`retry-${step}`, subject.claimRetried(route, id, `retry-${step}`));
        }
        if (op.op === "claimTwice") {
          const both = ["a", "b"].map((which) => {
            const token = `twice-${step}-${which}`;
            return claimAs(token, store.claim(route, id, undefined, token));
          });
          return byClaimed(await Promise.all(both));
        }
        if (op.op === "release") {
          return store.release(route, id, op.tokenOnly ? undefined : g, undefined, tokenFor(won, op.token));
        }
        if (op.op === "mark") return store.mark(route, id, g, op.state);
        return store.state?.(route, id);
      }),
    );
    this.subjects.forEach((subject, index) => {
      expect(answers[index], `step ${step} ${JSON.stringify(op)}: ${subject.name}'s answer`).to.deep.equal(
        expected.get(subject.model),
      );
    });
    await this.compareState(step, op.key);
  }

  /** Every store's recorded state of `key` against its model's. */
  async compareState(step: number | string, key: Key): Promise<void> {
    const { route, id, modelKey } = this.where(key);
    const states = await Promise.all(this.subjects.map((subject) => subject.store().state?.(route, id)));
    this.subjects.forEach((subject, index) => {
      expect(
        states[index],
        `after step ${step}: ${subject.name}'s state of ${route}#${key.id}`,
      ).to.deep.equal(subject.model.state(modelKey, this.now));
    });
  }

  async compareAll(): Promise<void> {
    for (const route of ROUTES) for (const id of IDS) await this.compareState("the last", { route, id });
  }

  close(): void {
    this.file.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// Most operations on a few deliveries, so that long sequences on one of them are common.
const key = fc.record({
  route: fc.oneof({ weight: 3, arbitrary: fc.constant(ROUTES[0]) }, fc.constant(ROUTES[1])),
  id: fc.oneof(
    { weight: 4, arbitrary: fc.constant(IDS[0]) },
    { weight: 2, arbitrary: fc.constant(IDS[1]) },
    fc.constant(IDS[2]),
  ),
});
// 0 first: a shrunk sequence uses the current generation unless a stale (-1) or future (+1) one matters.
const gen = fc.constantFrom(0, -1, 1);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("claim" as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("claimRetried" as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("claimTwice" as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("release" as const), key, gen }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("release" as const),
      key,
      gen,
      token: fc.constantFrom("current" as const, "previous" as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("release" as const),
      key,
      gen,
      token: fc.constantFrom("current" as const, "previous" as const),
      tokenOnly: fc.constant(true as const),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant("mark" as const),
      key,
      gen,
      state: fc.constantFrom("done" as const, "queued" as const, "dead" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("state" as const), key }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("advance" as const),
      ms: fc.oneof(
        fc.integer({ min: 1, max: 2_000 }),
        // Either side of the pending TTL, and of the dedupe TTL to the millisecond across a second.
        fc.constantFrom(PENDING_CLAIM_TTL_SECONDS * 1000, PENDING_CLAIM_TTL_SECONDS * 1000 + 1),
        fc.integer({ min: DEDUPE_TTL_SECONDS * 1000 - 1_500, max: DEDUPE_TTL_SECONDS * 1000 + 1_500 }),
        fc.integer({ min: 1, max: 4 * 24 * 3600 * 1000 }),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: "restart" as const }) },
);

describe("Property: the three DedupeStores answer as the deployed store's model does", function () {
  // 3 to 5 s here; room for a loaded machine (no assertion is about time), and for deep runs.
  this.timeout(60_000 * propertyScale);
  let ddb: LocalDynamo;
  let played = 0;
  before(async () => {
    ddb = await startLocalDynamo(TABLE);
  });
  after(async () => {
    await ddb?.close();
  });

  /** A run of its own: fresh stores, and delivery ids no earlier run used in the shared table. */
  async function play(start: number, ops: readonly Op[]): Promise<void> {
    const run = new Run(ddb, `run${++played}`, start);
    try {
      for (const step of ops) await run.apply(step);
      await run.compareAll();
    } finally {
      run.close();
    }
  }

  // Shrunk sequences the property found, each kept as it shrank.
  it("a claim at a whole second, then DEDUPE_TTL_SECONDS (29 days) and 1 ms: every store still holds it (FileDedupeStore dropped it, 999 ms before the deployed item's expiresAt passes)", async () => {
    await play(T0, [
      { op: "claim", key: { route: "api-build", id: "d1" } },
      { op: "advance", ms: DEDUPE_TTL_SECONDS * 1000 + 1 },
      { op: "restart" },
    ]);
  });

  it("an older generation's done mark over a newer one: every store writes done at the newer generation when that one is dead or pending (released or not; its queued mark and release are then no-ops, a claim a duplicate), and nothing when it is queued", async () => {
    const d1 = { route: "api-build", id: "d1" } as const;
    const d2 = { route: "api-build", id: "d2" } as const;
    const long = { route: "docs-zip", id: "long" } as const;
    const released = { route: "docs-zip", id: "d1" } as const;
    const twoGenerations = (key: Key): Op[] => [
      { op: "claim", key },
      { op: "mark", key, gen: 0, state: "dead" },
      { op: "claim", key },
    ];
    await play(T0, [
      ...twoGenerations(d1),
      { op: "mark", key: d1, gen: 0, state: "dead" },
      { op: "advance", ms: 1_000 },
      { op: "mark", key: d1, gen: -1, state: "dead" },
      { op: "mark", key: d1, gen: -1, state: "done" },
      { op: "claim", key: d1 },
      ...twoGenerations(d2),
      { op: "mark", key: d2, gen: 0, state: "queued" },
      { op: "mark", key: d2, gen: -1, state: "done" },
      ...twoGenerations(long),
      { op: "mark", key: long, gen: -1, state: "done" },
      { op: "mark", key: long, gen: 0, state: "queued" },
      { op: "release", key: long, gen: 0 },
      { op: "claim", key: long },
      ...twoGenerations(released),
      { op: "release", key: released, gen: 0 },
      { op: "mark", key: released, gen: -1, state: "done" },
      { op: "advance", ms: PENDING_CLAIM_TTL_SECONDS * 1000 + 1 },
      { op: "claim", key: released },
      { op: "restart" },
      { op: "claim", key: released },
    ]);
  });

  it("a dead mark over a done generation changes nothing in every store, its own done or an older generation's landed on it: a claim is still a duplicate", async () => {
    const d1 = { route: "api-build", id: "d1" } as const;
    const d2 = { route: "docs-zip", id: "d2" } as const;
    await play(T0, [
      { op: "claim", key: d1 },
      { op: "mark", key: d1, gen: 0, state: "queued" },
      { op: "mark", key: d1, gen: 0, state: "done" },
      { op: "advance", ms: 1_000 },
      { op: "mark", key: d1, gen: 0, state: "dead" },
      { op: "claim", key: d1 },
      { op: "claim", key: d2 },
      { op: "mark", key: d2, gen: 0, state: "dead" },
      { op: "claim", key: d2 },
      { op: "mark", key: d2, gen: -1, state: "done" },
      { op: "mark", key: d2, gen: 0, state: "dead" },
      { op: "claim", key: d2 },
    ]);
  });

  it("a release given the token of a claim taken over since (same generation) changes nothing in every store: a third claim is still a duplicate of the takeover, which its own token then releases", async () => {
    const d1 = { route: "api-build", id: "d1" } as const;
    await play(T0, [
      { op: "claim", key: d1 },
      { op: "advance", ms: PENDING_CLAIM_TTL_SECONDS * 1000 + 1 },
      { op: "claim", key: d1 },
      { op: "release", key: d1, gen: 0, token: "previous" },
      { op: "claim", key: d1 },
      { op: "release", key: d1, gen: 0, token: "current" },
      { op: "claim", key: d1 },
    ]);
  });

  it("Memory, File and DynamoDB (dynalite) stores agree with the model on claims (a retried token too), releases (by generation, by the claim's token, with no generation or by a token taken over since), marks of current and stale generations, state reads, restarts and clock moves past the pending and dedupe TTLs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 999 }),
        // size "max": fast-check's default size would keep arrays to about 10 operations, too few to reach
        // a sequence of five on one delivery
        fc.array(op, { minLength: 1, maxLength: 40, size: "max" }),
        async (offset, ops) => play(T0 + offset, ops),
      ),
      { numRuns: runs(60) },
    );
  });
});
