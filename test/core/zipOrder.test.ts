import { expect } from "chai";
import {
  acceptedAtMetadata,
  type ExistingZip,
  isOwnZip,
  MAX_ACCEPTED_AT_AHEAD_MS,
  writeCondition,
  zipOrder,
} from "../../src/core/zipOrder";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "fedcba9876543210fedcba9876543210fedcba98";
const T = "2026-12-06T02:00:00.000Z";
const EARLIER = "2026-12-06T01:59:59.999Z";
const LATER = "2026-12-06T02:00:00.001Z";
/** The action's clock: a second after T. */
const NOW = Date.parse(T) + 1000;

describe("Function: zipOrder", () => {
  const cases: Array<[string, ExistingZip, "upload" | "skip"]> = [
    ["no object at the key", undefined, "upload"],
    ["an object without metadata", {}, "upload"],
    ["an object without accepted-at (an older hookgate, or by hand)", { sha: OTHER }, "upload"],
    ["an object accepted earlier", { sha: OTHER, "accepted-at": EARLIER }, "upload"],
    ["an object accepted at the same time (a retry)", { sha: OTHER, "accepted-at": T }, "upload"],
    // A later delivery of the same commit: replacing its zip would put this delivery's earlier time on the
    // key, and an older delivery of another commit would then pass.
    ["an object accepted later, of the same commit", { sha: SHA, "accepted-at": LATER }, "skip"],
    [
      "an object accepted at the same time, of the same commit (a retry)",
      { sha: SHA, "accepted-at": T },
      "upload",
    ],
    ["an object accepted later, of another commit", { sha: OTHER, "accepted-at": LATER }, "skip"],
    ["an object accepted later, without a sha", { "accepted-at": LATER }, "skip"],
    [
      "an object accepted later in another zone's notation",
      { sha: OTHER, "accepted-at": "2026-12-06T03:00:00.001+01:00" },
      "skip",
    ],
    ["an object whose accepted-at is not a time", { sha: OTHER, "accepted-at": "tomorrow" }, "upload"],
    [
      "an object whose accepted-at is a date without a time",
      { sha: OTHER, "accepted-at": "2027-01-01" },
      "upload",
    ],
  ];
  for (const [what, existing, expected] of cases) {
    it(`zipOrder(${what}, a delivery accepted at ${T}) says ${expected}`, () => {
      expect(zipOrder(existing, { sha: SHA, acceptedAt: T }, NOW).upload).to.equal(expected === "upload");
    });
  }

  it("zipOrder names the newer delivery's sha, time and delivery id when it says skip", () => {
    const existing = { sha: OTHER, "accepted-at": LATER, "delivery-id": "d-2", ref: "refs/heads/main" };
    expect(zipOrder(existing, { sha: SHA, acceptedAt: T }, NOW)).to.deep.equal({
      upload: false,
      newer: { acceptedAt: LATER, sha: OTHER, deliveryId: "d-2" },
    });
  });

  it("zipOrder uploads a delivery whose own acceptance time does not parse (no order can be told)", () => {
    expect(zipOrder({ sha: OTHER, "accepted-at": LATER }, { sha: SHA, acceptedAt: "" }, NOW).upload).to.equal(
      true,
    );
  });

  it("zipOrder does not believe an accepted-at more than an hour ahead of the clock (it would hold the key): upload, naming it", () => {
    const aheadBy = (ms: number) => new Date(NOW + ms).toISOString();
    const farAhead = aheadBy(MAX_ACCEPTED_AT_AHEAD_MS + 1);
    expect(zipOrder({ sha: OTHER, "accepted-at": farAhead }, { sha: SHA, acceptedAt: T }, NOW)).to.deep.equal(
      {
        upload: true,
        futureAcceptedAt: farAhead,
      },
    );
    // Within the hour it is believed: a receive path's clock a little ahead of the worker's.
    const justAhead = aheadBy(MAX_ACCEPTED_AT_AHEAD_MS);
    expect(
      zipOrder({ sha: OTHER, "accepted-at": justAhead }, { sha: SHA, acceptedAt: T }, NOW).upload,
    ).to.equal(false);
  });

  it("zipOrder reads only the object's own metadata fields, not inherited ones", () => {
    const existing = Object.create({ "accepted-at": LATER, sha: OTHER }) as Record<string, string>;
    expect(zipOrder(existing, { sha: SHA, acceptedAt: T }, NOW).upload).to.equal(true);
  });
});

describe("Function: acceptedAtMetadata", () => {
  it("acceptedAtMetadata keeps the gateway's ISO time as it is", () => {
    expect(acceptedAtMetadata(T)).to.equal(T);
  });

  it("acceptedAtMetadata writes another zone's time in UTC", () => {
    expect(acceptedAtMetadata("2026-12-06T03:00:00+01:00")).to.equal(T);
  });

  it("acceptedAtMetadata gives nothing for a value that is not a time", () => {
    expect(acceptedAtMetadata("not a time")).to.equal(undefined);
  });
});

describe("Function: writeCondition", () => {
  it("writeCondition(undefined) is If-None-Match: * (no zip was read, so none may be there at the upload)", () => {
    expect(writeCondition(undefined)).to.deep.equal({ ifNoneMatch: "*" });
  });

  it("writeCondition of a zip read with an ETag is If-Match on that ETag", () => {
    expect(writeCondition({ etag: '"abc"' })).to.deep.equal({ ifMatch: '"abc"' });
  });

  it("writeCondition of a zip read without an ETag is no condition (nothing to compare)", () => {
    expect(writeCondition({})).to.equal(undefined);
    expect(writeCondition({ etag: "" })).to.equal(undefined);
  });
});

describe("Function: isOwnZip", () => {
  const ours = {
    sha: "abc",
    "delivery-id": "d-1",
    "accepted-at": "2026-12-06T01:00:00.000Z",
    ref: "refs/heads/main",
  };

  it("isOwnZip is true when the object names this delivery's id, sha and accepted-at", () => {
    expect(isOwnZip({ ...ours, ref: "other" }, ours)).to.equal(true);
  });

  it("isOwnZip is false when any of the three differs, is missing, or there is no object", () => {
    expect(isOwnZip({ ...ours, "delivery-id": "d-2" }, ours)).to.equal(false);
    expect(isOwnZip({ ...ours, sha: "def" }, ours)).to.equal(false);
    expect(isOwnZip({ ...ours, "accepted-at": "2026-12-06T01:00:01.000Z" }, ours)).to.equal(false);
    expect(isOwnZip({ sha: "abc", "delivery-id": "d-1" }, ours)).to.equal(false);
    expect(isOwnZip(undefined, ours)).to.equal(false);
  });

  it("isOwnZip is false when this delivery writes no accepted-at (its time did not parse)", () => {
    const untimed = { sha: "abc", "delivery-id": "d-1" };
    expect(isOwnZip(untimed, untimed)).to.equal(false);
  });
});
