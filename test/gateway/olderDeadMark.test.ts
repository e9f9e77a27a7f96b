// An older generation's `dead` mark does not land on a later generation that is dead too, in serve's
// FileDedupeStore and in MemoryDedupeStore, as the deployed store's MARK_CONDITION.dead
// ("#generation = :g AND #state <> :done") refuses it: only an older generation's `done` lands over a later dead
// (or pending) one. A dead mark that landed would renew the later generation's expiry.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { DEDUPE_TTL_SECONDS } from "../../src/core/policy";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";

const T0 = 1_800_000_000_000;
const ROUTE = "api-build";

/** Generation 1 died, its redelivery (generation 2) died too, both at T0. */
async function twoDeadGenerations(store: MemoryDedupeStore | FileDedupeStore, id: string): Promise<void> {
  await store.claim(ROUTE, id);
  await store.mark(ROUTE, id, 1, "dead");
  await store.claim(ROUTE, id);
  await store.mark(ROUTE, id, 2, "dead");
}

describe("Dedupe stores: an older generation's dead mark over a later dead generation", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-older-dead-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("serve's dedupe store drops a delivery 29 days after its last generation died, though generation 1's redriven dead letter died again meanwhile: the redelivery is generation 1 again, with a fresh first-accepted time", async () => {
    let now = T0;
    const store = new FileDedupeStore(join(dir, "dedupe.jsonl"), () => now);
    try {
      await twoDeadGenerations(store, "d-1");
      now = T0 + (DEDUPE_TTL_SECONDS - 60) * 1000;
      await store.mark(ROUTE, "d-1", 1, "dead"); // generation 1's dead letter, redriven, failed again
      expect(await store.state(ROUTE, "d-1")).to.deep.equal({ state: "dead", generation: 2 });
      now = T0 + (DEDUPE_TTL_SECONDS + 1) * 1000;
      expect(await store.state(ROUTE, "d-1")).to.equal(undefined);
      expect(await store.claim(ROUTE, "d-1")).to.deep.equal({
        claimed: true,
        generation: 1,
        firstClaimedAtMs: now,
      });
    } finally {
      store.close();
    }
  });

  it("MemoryDedupeStore, as the deployed store, ignores an older generation's dead mark over a later dead one: the later generation's item still expires 29 days after it died", async () => {
    let now = T0;
    const store = new MemoryDedupeStore({ now: () => now });
    await twoDeadGenerations(store, "d-1");
    now = T0 + (DEDUPE_TTL_SECONDS - 60) * 1000;
    await store.mark(ROUTE, "d-1", 1, "dead");
    now = T0 + (DEDUPE_TTL_SECONDS + 1) * 1000;
    expect(await store.state(ROUTE, "d-1")).to.deep.equal({ state: "dead", generation: 2, expired: true });
  });
});
