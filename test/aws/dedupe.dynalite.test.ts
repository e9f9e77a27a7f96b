// DynamoDedupeStore through the real DynamoDBClient against dynalite, a DynamoDB engine in memory: here
// the UpdateExpressions and ConditionExpressions are parsed and evaluated (a syntax slip, a reserved word,
// an unused or missing expression attribute name or value, a wrong if_not_exists all fail here, as they
// would on every delivery on AWS), where dedupe.test.ts (aws-sdk-client-mock) and deployedFaults.test.ts
// (a scripted JSON server) only see the requests. Each test reads the stored item back with GetItem.
//
// ReturnValuesOnConditionCheckFailure: dynalite 4.0.0 accepts it and ignores it (its
// ConditionalCheckFailedException carries no Item; dynalite issue #182), so every failed claim here takes
// the store's other path, a consistent GetItem of the old item; a test below shows that read happen. The
// ALL_OLD path, the old item riding on DynamoDB's own error answer, is covered on the wire by
// deployedFaults.test.ts ("reads the claim's old item from DynamoDB's own ConditionalCheckFailed answer")
// and by the mock tests in dedupe.test.ts.
//
// Time is the store's injected clock only: nothing here reads the wall clock. dynalite deletes nothing by
// TTL (nor, promptly, does DynamoDB), so "expired" is an item whose expiresAt is behind that clock.
import { expect } from "chai";
import { DynamoDedupeStore, dedupeKey } from "../../src/aws/dedupe";
import { DEDUPE_KEY, DEDUPE_TTL_ATTRIBUTE } from "../../src/infra/dedupe";
import { type LocalDynamo, startLocalDynamo } from "../support/dynamo";

const TABLE = "hookgate-dedupe";
const ROUTE = "api-build";
const T0 = 1_800_000_000_000;
const TTL_SECONDS = 3600;
const PENDING_TTL_SECONDS = 60;

describe("DynamoDedupeStore against dynalite (a DynamoDB engine)", () => {
  let ddb: LocalDynamo;
  before(async () => {
    ddb = await startLocalDynamo(TABLE);
  });
  after(async () => {
    await ddb?.close();
  });

  /** A store with its own clock, at T0 until moved; each test uses delivery ids of its own. */
  function storeAt(start = T0): { store: DynamoDedupeStore; at(ms: number): void } {
    let now = start;
    const store = new DynamoDedupeStore(ddb.client, TABLE, {
      now: () => now,
      ttlSeconds: TTL_SECONDS,
      pendingTtlSeconds: PENDING_TTL_SECONDS,
    });
    return {
      store,
      at(ms) {
        now = ms;
      },
    };
  }

  async function item(deliveryId: string) {
    return ddb.item(dedupeKey(ROUTE, deliveryId));
  }

  /** The item's attributes as plain values (numbers for N, strings for S). */
  async function stored(deliveryId: string): Promise<Record<string, string | number> | undefined> {
    const found = await item(deliveryId);
    if (!found) return undefined;
    return Object.fromEntries(
      Object.entries(found).map(([name, value]) => [
        name,
        value.N !== undefined ? Number(value.N) : String(value.S),
      ]),
    );
  }

  it("the first claim of a delivery id is generation 1, stored pending under the infra's key with its TTL, first-claim time and token", async () => {
    const { store } = storeAt();
    expect(await store.claim(ROUTE, "first")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: T0,
    });
    const found = await stored("first");
    expect(found).to.include({
      [DEDUPE_KEY]: `${ROUTE}#first`,
      state: "pending",
      generation: 1,
      updatedAt: T0,
      [DEDUPE_TTL_ATTRIBUTE]: T0 / 1000 + TTL_SECONDS,
      firstClaimedAt: T0,
    });
    expect(found?.claimToken).to.be.a("string").and.not.equal("");
    expect(Object.keys(found ?? {}).sort()).to.deep.equal(
      [
        DEDUPE_KEY,
        "state",
        "generation",
        "updatedAt",
        DEDUPE_TTL_ATTRIBUTE,
        "firstClaimedAt",
        "claimToken",
      ].sort(),
    );
  });

  for (const state of ["queued", "done"] as const) {
    it(`a duplicate of a ${state} delivery is not claimed, reports ${state} and its generation, and leaves the item as it was`, async () => {
      const { store, at } = storeAt();
      const id = `dup-${state}`;
      await store.claim(ROUTE, id);
      await store.mark(ROUTE, id, 1, state);
      const before = await item(id);
      at(T0 + 1000);
      expect(await store.claim(ROUTE, id)).to.deep.equal({ claimed: false, state, generation: 1 });
      expect(await item(id)).to.deep.equal(before);
    });
  }

  it("a duplicate of a fresh pending claim (another request's, in progress) is not claimed and reports pending", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "dup-pending");
    const before = await item("dup-pending");
    at(T0 + (PENDING_TTL_SECONDS - 1) * 1000);
    expect(await store.claim(ROUTE, "dup-pending")).to.deep.equal({
      claimed: false,
      state: "pending",
      generation: 1,
    });
    expect(await item("dup-pending")).to.deep.equal(before);
  });

  it("a failed claim reads the old item with a consistent GetItem (dynalite returns no ALL_OLD item)", async () => {
    const { store } = storeAt();
    await store.claim(ROUTE, "fallback");
    await store.mark(ROUTE, "fallback", 1, "done");
    const from = ddb.operations.length;
    expect(await store.claim(ROUTE, "fallback")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 1,
    });
    expect(ddb.operations.slice(from)).to.deep.equal(["UpdateItem", "GetItem (consistent)"]);
  });

  it("a dead delivery is claimed again as generation 2, keeping the first claim's time", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "dead");
    await store.mark(ROUTE, "dead", 1, "dead");
    expect((await stored("dead"))?.state).to.equal("dead");
    at(T0 + 5000);
    expect(await store.claim(ROUTE, "dead")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: T0,
    });
    expect(await stored("dead")).to.include({
      state: "pending",
      generation: 2,
      updatedAt: T0 + 5000,
      [DEDUPE_TTL_ATTRIBUTE]: (T0 + 5000) / 1000 + TTL_SECONDS,
      firstClaimedAt: T0,
    });
  });

  it("an item past its expiresAt (not yet deleted by the TTL) is claimed again as the next generation; at its expiresAt it is still a duplicate", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "expired");
    await store.mark(ROUTE, "expired", 1, "done");
    const expiresAt = (await stored("expired"))?.[DEDUPE_TTL_ATTRIBUTE];
    expect(expiresAt).to.equal(T0 / 1000 + TTL_SECONDS);
    at(T0 + TTL_SECONDS * 1000);
    expect(await store.claim(ROUTE, "expired")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 1,
    });
    at(T0 + (TTL_SECONDS + 1) * 1000);
    expect(await store.claim(ROUTE, "expired")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: T0,
    });
    expect(await stored("expired")).to.include({
      state: "pending",
      generation: 2,
      [DEDUPE_TTL_ATTRIBUTE]: T0 / 1000 + 2 * TTL_SECONDS + 1,
    });
  });

  it("a released claim is taken over by the next claim as the SAME generation, with a new token and time", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "released");
    await store.mark(ROUTE, "released", 1, "dead");
    await store.claim(ROUTE, "released");
    const token = (await stored("released"))?.claimToken;
    await store.release(ROUTE, "released", 2);
    expect(await stored("released")).to.include({ state: "pending", generation: 2, updatedAt: 0 });
    at(T0 + 1000);
    expect(await store.claim(ROUTE, "released")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: T0,
    });
    const found = await stored("released");
    expect(found).to.include({
      state: "pending",
      generation: 2,
      updatedAt: T0 + 1000,
      [DEDUPE_TTL_ATTRIBUTE]: (T0 + 1000) / 1000 + TTL_SECONDS,
      firstClaimedAt: T0,
    });
    expect(found?.claimToken).to.be.a("string").and.not.equal(token);
  });

  it("a pending claim older than the pending TTL (its function died) is taken over as the same generation", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "abandoned");
    at(T0 + (PENDING_TTL_SECONDS + 1) * 1000);
    expect(await store.claim(ROUTE, "abandoned")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: T0,
    });
    expect(await stored("abandoned")).to.include({
      state: "pending",
      generation: 1,
      updatedAt: T0 + (PENDING_TTL_SECONDS + 1) * 1000,
    });
    // Taken over, it is fresh again: the next request is a duplicate of it.
    expect(await store.claim(ROUTE, "abandoned")).to.deep.equal({
      claimed: false,
      state: "pending",
      generation: 1,
    });
  });

  it("a claim tried again with its own token (its first answer lost) knows its own claim: claimed, same generation, nothing written", async () => {
    const { store, at } = storeAt();
    const token = "token-of-this-request";
    expect(await store.claim(ROUTE, "lost-answer", undefined, token)).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: T0,
    });
    const before = await item("lost-answer");
    at(T0 + 2000);
    expect(await store.claim(ROUTE, "lost-answer", undefined, token)).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: T0,
    });
    expect(await item("lost-answer")).to.deep.equal(before);
    expect(await store.claim(ROUTE, "lost-answer", undefined, "another-request")).to.deep.equal({
      claimed: false,
      state: "pending",
      generation: 1,
    });
  });

  it('mark "queued" writes over the pending claim only: a done or dead the work path recorded first stays', async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "queued");
    at(T0 + 1000);
    await store.mark(ROUTE, "queued", 1, "queued");
    expect(await stored("queued")).to.include({
      state: "queued",
      generation: 1,
      updatedAt: T0 + 1000,
      [DEDUPE_TTL_ATTRIBUTE]: (T0 + 1000) / 1000 + TTL_SECONDS,
    });
    for (const outcome of ["done", "dead"] as const) {
      const id = `queued-after-${outcome}`;
      await store.claim(ROUTE, id);
      await store.mark(ROUTE, id, 1, outcome);
      const before = await item(id);
      await store.mark(ROUTE, id, 1, "queued");
      expect(await item(id)).to.deep.equal(before);
    }
  });

  it("mark dead of an older generation leaves the newer generation's item alone, pending or queued, and so does done over a queued one; of its own generation it writes", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "stale");
    await store.mark(ROUTE, "stale", 1, "dead");
    at(T0 + 1000);
    await store.claim(ROUTE, "stale");
    const pending = await item("stale");
    at(T0 + 2000);
    await store.mark(ROUTE, "stale", 1, "dead");
    expect(await item("stale")).to.deep.equal(pending);
    await store.mark(ROUTE, "stale", 2, "queued");
    const queued = await item("stale");
    at(T0 + 3000);
    await store.mark(ROUTE, "stale", 1, "done");
    await store.mark(ROUTE, "stale", 1, "dead");
    expect(await item("stale")).to.deep.equal(queued);
    await store.mark(ROUTE, "stale", 2, "done");
    expect(await stored("stale")).to.include({ state: "done", generation: 2, updatedAt: T0 + 3000 });
    expect(await store.state(ROUTE, "stale")).to.deep.equal({ state: "done", generation: 2 });
  });

  it("mark dead of a generation already done changes nothing (the condition fails quietly, no error): the item stays done, the next claim a duplicate, also when that done came from an older generation's", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "done-then-dead");
    await store.mark(ROUTE, "done-then-dead", 1, "queued");
    await store.mark(ROUTE, "done-then-dead", 1, "done");
    const done = await item("done-then-dead");
    at(T0 + 1000);
    // A copy of the finished message deferred on the queue's last receive.
    await store.mark(ROUTE, "done-then-dead", 1, "dead");
    expect(await item("done-then-dead")).to.deep.equal(done);
    expect(await store.claim(ROUTE, "done-then-dead")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 1,
    });
    // Generation 2 pending, then done by generation 1's redriven letter: generation 2's own dead mark stays off.
    await store.claim(ROUTE, "over-later");
    await store.mark(ROUTE, "over-later", 1, "dead");
    await store.claim(ROUTE, "over-later");
    await store.mark(ROUTE, "over-later", 1, "done");
    await store.mark(ROUTE, "over-later", 2, "dead");
    expect(await store.state(ROUTE, "over-later")).to.deep.equal({ state: "done", generation: 2 });
  });

  it("mark done of an older generation writes over a newer generation that is dead, keeping the newer one's number; the next claim is then a duplicate", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "over-dead");
    await store.mark(ROUTE, "over-dead", 1, "dead");
    await store.claim(ROUTE, "over-dead");
    await store.mark(ROUTE, "over-dead", 2, "dead");
    at(T0 + 3000);
    await store.mark(ROUTE, "over-dead", 1, "dead");
    expect(await stored("over-dead")).to.include({ state: "dead", generation: 2, updatedAt: T0 });
    await store.mark(ROUTE, "over-dead", 1, "done");
    expect(await stored("over-dead")).to.include({
      state: "done",
      generation: 2,
      updatedAt: T0 + 3000,
      [DEDUPE_TTL_ATTRIBUTE]: (T0 + 3000) / 1000 + TTL_SECONDS,
    });
    expect(await store.state(ROUTE, "over-dead")).to.deep.equal({ state: "done", generation: 2 });
    expect(await store.claim(ROUTE, "over-dead")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 2,
    });
  });

  it("mark done of an older generation writes over a newer generation that is pending (its receive path under way, or its queued mark failed), keeping the newer one's number; that generation's queued mark and release then change nothing, and the next claim is a duplicate", async () => {
    const { store, at } = storeAt();
    for (const released of [false, true]) {
      const id = released ? "over-released" : "over-pending";
      await store.claim(ROUTE, id);
      await store.mark(ROUTE, id, 1, "dead");
      await store.claim(ROUTE, id); // generation 2, pending
      if (released) await store.release(ROUTE, id, 2); // its enqueue failed: abandoned
      at(T0 + 3000);
      await store.mark(ROUTE, id, 1, "done"); // generation 1's dead letter, redriven, ran the action
      expect(await stored(id)).to.include({
        state: "done",
        generation: 2,
        updatedAt: T0 + 3000,
        [DEDUPE_TTL_ATTRIBUTE]: (T0 + 3000) / 1000 + TTL_SECONDS,
      });
      const done = await item(id);
      at(T0 + 4000);
      await store.mark(ROUTE, id, 2, "queued");
      await store.release(ROUTE, id, 2);
      expect(await item(id)).to.deep.equal(done);
      // Past the pending TTL too: a done item is never taken over.
      at(T0 + 3000 + (PENDING_TTL_SECONDS + 1) * 1000);
      expect(await store.claim(ROUTE, id)).to.deep.equal({ claimed: false, state: "done", generation: 2 });
      at(T0);
    }
  });

  it("a release given its claim's token undoes that claim, but not a later takeover of it (same generation): a third request is still answered pending", async () => {
    const { store, at } = storeAt();
    // R1 claims, and is frozen before it handles the answer.
    expect(await store.claim(ROUTE, "late-release", undefined, "r1")).to.include({
      claimed: true,
      generation: 1,
    });
    // Past the pending TTL, the host's redelivery R2 takes the claim over (same generation); its send is under way.
    at(T0 + (PENDING_TTL_SECONDS + 60) * 1000);
    expect(await store.claim(ROUTE, "late-release", undefined, "r2")).to.include({
      claimed: true,
      generation: 1,
    });
    // R1 is thawed: its claim came back after the 503, so it releases generation 1, with its own token.
    at(T0 + (PENDING_TTL_SECONDS + 61) * 1000);
    await store.release(ROUTE, "late-release", 1, undefined, "r1");
    expect(await stored("late-release")).to.include({
      claimToken: "r2",
      updatedAt: T0 + (PENDING_TTL_SECONDS + 60) * 1000,
    });
    expect(await store.claim(ROUTE, "late-release", undefined, "r3")).to.deep.include({
      claimed: false,
      state: "pending",
    });
    // R2's own release (its send failed) lands.
    await store.release(ROUTE, "late-release", 1, undefined, "r2");
    expect(await stored("late-release")).to.include({ claimToken: "r2", updatedAt: 0 });
  });

  it("a release by the claim's token alone (a claim whose answer the deadline cut: its generation unknown) undoes that claim; another token, or neither token nor generation, changes nothing", async () => {
    const { store } = storeAt();
    await store.claim(ROUTE, "cut-claim", undefined, "cut");
    const before = await item("cut-claim");
    await store.release(ROUTE, "cut-claim", undefined, undefined, "another");
    await store.release(ROUTE, "cut-claim", undefined);
    expect(await item("cut-claim")).to.deep.equal(before);
    await store.release(ROUTE, "cut-claim", undefined, undefined, "cut");
    expect(await stored("cut-claim")).to.include({ state: "pending", generation: 1, updatedAt: 0 });
  });

  it("release of an older generation, or of a claim already queued, changes nothing", async () => {
    const { store } = storeAt();
    await store.claim(ROUTE, "release-stale");
    await store.mark(ROUTE, "release-stale", 1, "dead");
    await store.claim(ROUTE, "release-stale");
    const before = await item("release-stale");
    await store.release(ROUTE, "release-stale", 1);
    expect(await item("release-stale")).to.deep.equal(before);
    await store.mark(ROUTE, "release-stale", 2, "queued");
    const queued = await item("release-stale");
    await store.release(ROUTE, "release-stale", 2);
    expect(await item("release-stale")).to.deep.equal(queued);
  });

  it("a delivery id too long for the key is stored under its sha256 and goes through claim, duplicate, mark and state", async () => {
    const { store, at } = storeAt();
    const id = "x".repeat(3000);
    const key = dedupeKey(ROUTE, id);
    expect(key).to.match(/^api-build#sha256:[0-9a-f]{64}$/);
    expect(await store.claim(ROUTE, id)).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: T0,
    });
    expect((await ddb.item(key))?.[DEDUPE_KEY]).to.deep.equal({ S: key });
    at(T0 + 1000);
    expect(await store.claim(ROUTE, id)).to.deep.equal({ claimed: false, state: "pending", generation: 1 });
    await store.mark(ROUTE, id, 1, "done");
    expect(await store.state(ROUTE, id)).to.deep.equal({ state: "done", generation: 1 });
  });

  it("firstClaimedAt is the first claim's time through every later generation and takeover", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "first-kept");
    for (const [generation, ms] of [
      [2, T0 + 10_000],
      [3, T0 + 20_000],
    ] as const) {
      await store.mark(ROUTE, "first-kept", generation - 1, "dead");
      at(ms);
      expect(await store.claim(ROUTE, "first-kept")).to.deep.equal({
        claimed: true,
        generation,
        firstClaimedAtMs: T0,
      });
    }
    await store.release(ROUTE, "first-kept", 3);
    at(T0 + 30_000);
    expect(await store.claim(ROUTE, "first-kept")).to.deep.equal({
      claimed: true,
      generation: 3,
      firstClaimedAtMs: T0,
    });
    expect(await stored("first-kept")).to.include({
      generation: 3,
      firstClaimedAt: T0,
      updatedAt: T0 + 30_000,
    });
  });

  it("state(route, id) reads what the store wrote, and undefined for an id never claimed", async () => {
    const { store } = storeAt();
    expect(await store.state(ROUTE, "never")).to.equal(undefined);
    await store.claim(ROUTE, "state");
    expect(await store.state(ROUTE, "state")).to.deep.equal({ state: "pending", generation: 1 });
  });

  it("state(route, id) reads an item past its expiresAt (not yet deleted by the TTL) as expired; at its expiresAt it reads it as live", async () => {
    const { store, at } = storeAt();
    await store.claim(ROUTE, "state-expired");
    await store.mark(ROUTE, "state-expired", 1, "queued");
    at(T0 + TTL_SECONDS * 1000);
    expect(await store.state(ROUTE, "state-expired")).to.deep.equal({ state: "queued", generation: 1 });
    at(T0 + (TTL_SECONDS + 1) * 1000);
    expect(await stored("state-expired")).to.include({ state: "queued" });
    expect(await store.state(ROUTE, "state-expired")).to.deep.equal({
      state: "queued",
      generation: 1,
      expired: true,
    });
  });
});
