// The deployed store's mark and release conditions as the in-memory stores read them (MemoryDedupeStore,
// serve's FileDedupeStore): each row one entry, one call, and whether it lands.
import { expect } from "chai";
import { type DedupeEntry, markLands, releaseLands } from "../../src/core/dedupeRules";
import type { DeliveryState } from "../../src/core/ports";

describe("Function: releaseLands", () => {
  const pending: DedupeEntry = { state: "pending", generation: 2, token: "t-2" };
  const rows: Array<[string, DedupeEntry, number | undefined, string | undefined, boolean]> = [
    [
      "a release naming neither a generation nor a token names no claim",
      pending,
      undefined,
      undefined,
      false,
    ],
    ["the pending claim's generation alone", pending, 2, undefined, true],
    [
      "the pending claim's token alone (a claim whose answer the deadline cut)",
      pending,
      undefined,
      "t-2",
      true,
    ],
    ["its generation and token", pending, 2, "t-2", true],
    ["another generation", pending, 1, "t-2", false],
    ["another token (a takeover kept the generation and wrote its own)", pending, 2, "t-1", false],
    ["another token alone", pending, undefined, "t-1", false],
    ["a queued claim (the item may be in the queue)", { ...pending, state: "queued" }, 2, "t-2", false],
    ["a done delivery", { ...pending, state: "done" }, 2, "t-2", false],
    ["a dead delivery", { ...pending, state: "dead" }, 2, "t-2", false],
  ];
  for (const [what, entry, generation, token, lands] of rows) {
    it(`${what}: ${lands ? "lands" : "changes nothing"}`, () => {
      expect(releaseLands(entry, generation, token)).to.equal(lands);
    });
  }
});

describe("Function: markLands", () => {
  const rows: Array<[string, DedupeEntry, number, DeliveryState, boolean]> = [
    ["queued over its own pending claim", { state: "pending", generation: 2 }, 2, "queued", true],
    [
      "queued over its own done (the work path got there first)",
      { state: "done", generation: 2 },
      2,
      "queued",
      false,
    ],
    ["queued over its own dead", { state: "dead", generation: 2 }, 2, "queued", false],
    ["done over its own queued", { state: "queued", generation: 2 }, 2, "done", true],
    ["dead over its own queued", { state: "queued", generation: 2 }, 2, "dead", true],
    [
      "dead over its own done (a copy of a finished message deferred on its last receive)",
      { state: "done", generation: 2 },
      2,
      "dead",
      false,
    ],
    ["an older generation's done over a later dead one", { state: "dead", generation: 3 }, 2, "done", true],
    [
      "an older generation's done over a later pending one",
      { state: "pending", generation: 3 },
      2,
      "done",
      true,
    ],
    [
      "an older generation's done over a later queued one",
      { state: "queued", generation: 3 },
      2,
      "done",
      false,
    ],
    [
      "an older generation's dead over a later pending one",
      { state: "pending", generation: 3 },
      2,
      "dead",
      false,
    ],
    [
      "an older generation's queued over a later pending one",
      { state: "pending", generation: 3 },
      2,
      "queued",
      false,
    ],
    [
      "a later generation's done over an older pending one",
      { state: "pending", generation: 2 },
      3,
      "done",
      false,
    ],
  ];
  for (const [what, entry, generation, state, lands] of rows) {
    it(`${what}: ${lands ? "lands" : "changes nothing"}`, () => {
      expect(markLands(entry, generation, state)).to.equal(lands);
    });
  }
});
