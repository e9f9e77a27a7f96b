import { expect } from "chai";
import { DEDUPE_TTL_SECONDS, PENDING_CLAIM_TTL_SECONDS } from "../../src/core/policy";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";

const START = 1_800_000_000_000;

function store() {
  let clock = START;
  const dedupe = new MemoryDedupeStore({ now: () => clock });
  return {
    dedupe,
    at: (ms: number) => {
      clock = START + ms;
    },
  };
}

describe("Class: MemoryDedupeStore", () => {
  it("claim is abandoned only once the pending claim is more than PENDING_CLAIM_TTL_SECONDS old", async () => {
    const { dedupe, at } = store();
    expect(await dedupe.claim("r", "d")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: START,
    });
    for (const ms of [1_000, 30_000, PENDING_CLAIM_TTL_SECONDS * 1000]) {
      at(ms);
      expect(await dedupe.claim("r", "d"), `after ${ms} ms`).to.deep.equal({
        claimed: false,
        state: "pending",
        generation: 1,
      });
    }
    at(PENDING_CLAIM_TTL_SECONDS * 1000 + 1);
    // Taken over as the same generation: the dead function's send may have reached the queue.
    expect(await dedupe.claim("r", "d")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: START,
    });
    expect(await dedupe.claim("r", "d")).to.deep.include({ claimed: false, state: "pending" });
  });

  for (const state of ["queued", "done"] as const) {
    it(`claim of a ${state} delivery stays a duplicate long after PENDING_CLAIM_TTL_SECONDS`, async () => {
      const { dedupe, at } = store();
      await dedupe.claim("r", "d");
      await dedupe.mark("r", "d", 1, state);
      at(3600_000);
      expect(await dedupe.claim("r", "d")).to.deep.equal({ claimed: false, state, generation: 1 });
    });
  }

  it("claim is free again once the entry outlived DEDUPE_TTL_SECONDS from its last mark, and not a second before", async () => {
    const { dedupe, at } = store();
    await dedupe.claim("r", "d");
    at(10_000);
    await dedupe.mark("r", "d", 1, "done"); // the TTL counts from here
    at(10_000 + DEDUPE_TTL_SECONDS * 1000);
    expect(await dedupe.claim("r", "d")).to.deep.include({ claimed: false, state: "done" });
    at(10_000 + (DEDUPE_TTL_SECONDS + 1) * 1000);
    expect(await dedupe.claim("r", "d")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: START,
    });
  });

  it("claim of a dead delivery takes the next generation at once, keeping the first claim's time", async () => {
    const { dedupe, at } = store();
    await dedupe.claim("r", "d");
    await dedupe.mark("r", "d", 1, "dead");
    at(3_600_000); // the host's Redeliver, an hour later
    expect(await dedupe.claim("r", "d")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: START,
    });
  });

  it("claim keys by route and delivery id: the same id on another route is a claim of its own, with its own time", async () => {
    const { dedupe, at } = store();
    await dedupe.claim("r", "d");
    at(1_000);
    expect(await dedupe.claim("other", "d")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: START + 1_000,
    });
  });

  it('mark of an older generation changes nothing but its done over a newer pending or dead one; mark "queued" does not overwrite done or dead', async () => {
    const { dedupe } = store();
    await dedupe.claim("r", "d");
    await dedupe.mark("r", "d", 1, "dead");
    await dedupe.claim("r", "d"); // generation 2, pending
    await dedupe.mark("r", "d", 1, "dead");
    await dedupe.mark("r", "d", 1, "queued");
    expect(dedupe.peek("r", "d")).to.deep.equal({ state: "pending", generation: 2 });
    await dedupe.mark("r", "d", 2, "queued");
    await dedupe.mark("r", "d", 1, "done"); // not over a queued generation: its message runs
    expect(dedupe.peek("r", "d")).to.deep.equal({ state: "queued", generation: 2 });
    await dedupe.mark("r", "d", 2, "done");
    await dedupe.mark("r", "d", 2, "queued");
    expect(dedupe.peek("r", "d")).to.deep.equal({ state: "done", generation: 2 });
    await dedupe.mark("r", "missing", 1, "done");
    expect(dedupe.peek("r", "missing")).to.equal(undefined);
  });

  it("mark done of an older generation lands on a newer pending one, keeping its number: that generation's queued mark and release change nothing, and the next claim is a duplicate, past the pending TTL too", async () => {
    for (const released of [false, true]) {
      const { dedupe, at } = store();
      await dedupe.claim("r", "d");
      await dedupe.mark("r", "d", 1, "dead");
      await dedupe.claim("r", "d"); // generation 2, pending: its receive path is sending it
      if (released) await dedupe.release("r", "d", 2); // its send failed
      await dedupe.mark("r", "d", 1, "done"); // generation 1's dead letter, redriven, ran the action
      expect(dedupe.peek("r", "d")).to.deep.equal({ state: "done", generation: 2 });
      await dedupe.mark("r", "d", 2, "queued");
      await dedupe.release("r", "d", 2);
      at((PENDING_CLAIM_TTL_SECONDS + 1) * 1000);
      expect(await dedupe.claim("r", "d")).to.deep.equal({ claimed: false, state: "done", generation: 2 });
    }
  });

  it("release makes only that generation's pending claim abandoned: the next claim takes it over as the same generation", async () => {
    const { dedupe } = store();
    await dedupe.claim("r", "d");
    await dedupe.release("r", "d", 2); // not its generation
    expect(await dedupe.claim("r", "d")).to.deep.include({ claimed: false, state: "pending" });
    await dedupe.release("r", "d", 1);
    expect(await dedupe.claim("r", "d")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: START,
    });
  });

  it("claim after a dead generation takes the next one, also when a takeover came before it", async () => {
    const { dedupe } = store();
    await dedupe.claim("r", "d");
    await dedupe.release("r", "d", 1);
    expect(await dedupe.claim("r", "d")).to.deep.include({ claimed: true, generation: 1 });
    await dedupe.mark("r", "d", 1, "dead");
    expect(await dedupe.claim("r", "d")).to.deep.include({ claimed: true, generation: 2 });
  });

  it("release leaves a queued claim alone (the item may be in the queue), and does nothing for an unknown id", async () => {
    const { dedupe, at } = store();
    await dedupe.claim("r", "d");
    await dedupe.mark("r", "d", 1, "queued");
    await dedupe.release("r", "d", 1);
    at(1_000);
    expect(await dedupe.claim("r", "d")).to.deep.equal({ claimed: false, state: "queued", generation: 1 });
    await dedupe.release("r", "unknown", 1);
    expect(dedupe.peek("r", "unknown")).to.equal(undefined);
  });

  it("state and peek report the recorded state and generation, and undefined for an unknown id", async () => {
    const { dedupe } = store();
    await dedupe.claim("r", "d");
    await dedupe.mark("r", "d", 1, "queued");
    expect(await dedupe.state("r", "d")).to.deep.equal({ state: "queued", generation: 1 });
    expect(await dedupe.state("r", "unknown")).to.equal(undefined);
  });
});
