import { expect } from "chai";
import {
  int,
  isZeroSha,
  latestTime,
  refFromName,
  splitFullName,
  splitRef,
  str,
  withRefChanges,
} from "../../../src/core/events/fields";
import type { WebhookEvent } from "../../../src/core/types";

describe("Module: events/fields (readers for untrusted JSON)", () => {
  const strings: Array<[unknown, string | undefined]> = [
    ["a", "a"],
    ["", undefined],
    [1, undefined],
    [null, undefined],
  ];
  for (const [value, expected] of strings) {
    it(`str(${JSON.stringify(value)}) is ${JSON.stringify(expected) ?? "undefined"}`, () => {
      expect(str(value)).to.equal(expected);
    });
  }

  const ints: Array<[unknown, number | undefined]> = [
    [0, 0],
    [42, 42],
    [-1, undefined],
    [1.5, undefined],
    [2 ** 53, undefined],
    [Number.NaN, undefined],
    ["17", 17],
    ["017", 17],
    ["", undefined],
    ["-1", undefined],
    ["1e3", undefined],
    [" 1", undefined],
    ["1 ", undefined],
    ["9".repeat(15), Number("9".repeat(15))],
    ["9".repeat(16), undefined],
    [true, undefined],
    [[5], undefined],
    [null, undefined],
  ];
  for (const [value, expected] of ints) {
    it(`int(${JSON.stringify(value) ?? String(value)}) is ${expected ?? "undefined"}`, () => {
      expect(int(value)).to.equal(expected);
    });
  }

  const shas: Array<[string | undefined, boolean]> = [
    ["0".repeat(40), true],
    ["0".repeat(64), true],
    ["0000000", true],
    ["000000", false],
    [`a${"0".repeat(39)}`, false],
    [`${"0".repeat(39)}a`, false],
    ["", false],
    [undefined, false],
  ];
  for (const [sha, expected] of shas) {
    it(`isZeroSha(${JSON.stringify(sha) ?? "undefined"}) is ${expected}`, () => {
      expect(isZeroSha(sha)).to.equal(expected);
    });
  }

  const refs: Array<[string | undefined, object]> = [
    ["refs/heads/main", { ref: "refs/heads/main", branch: "main" }],
    ["refs/heads/a", { ref: "refs/heads/a", branch: "a" }],
    ["refs/heads/", { ref: "refs/heads/" }],
    ["refs/tags/v1", { ref: "refs/tags/v1", tag: "v1" }],
    ["refs/tags/", { ref: "refs/tags/" }],
    ["refs/pull/1/head", { ref: "refs/pull/1/head" }],
    ["main", { ref: "main" }],
    [undefined, {}],
  ];
  for (const [ref, expected] of refs) {
    it(`splitRef(${JSON.stringify(ref) ?? "undefined"}) is ${JSON.stringify(expected)}`, () => {
      expect(splitRef(ref)).to.deep.equal(expected);
    });
  }

  it("refFromName builds a branch or tag ref, and nothing without both a name and a kind", () => {
    expect(refFromName("dev", "branch")).to.deep.equal({ ref: "refs/heads/dev", branch: "dev" });
    expect(refFromName("v2", "tag")).to.deep.equal({ ref: "refs/tags/v2", tag: "v2" });
    expect(refFromName(undefined, "branch")).to.deep.equal({});
    expect(refFromName("dev", undefined)).to.deep.equal({});
  });

  it("splitFullName keeps every namespace level in the owner, and a name without a slash has no owner", () => {
    expect(splitFullName("group/sub/repo")).to.deep.equal({ owner: "group/sub", name: "repo" });
    expect(splitFullName("repo")).to.deep.equal({ owner: "", name: "repo" });
    expect(splitFullName("/repo")).to.deep.equal({ owner: "", name: "repo" });
  });

  it("withRefChanges sets no otherChanges for a single change", () => {
    const event = { deliveryId: "d", changedFiles: [] } as unknown as WebhookEvent;
    const result = withRefChanges(event, [{ ref: "x" }], () => {});
    expect(result).not.to.have.property("otherChanges");
  });

  it("latestTime reads each host's time form, and answers the latest in UTC", () => {
    // GitHub's, Bitbucket Cloud's (microseconds, an offset), GitLab hooks' ("… UTC"), Data Center's (epoch ms).
    expect(latestTime("2026-12-06T01:00:00Z", "2026-12-06T01:00:05Z")).to.equal("2026-12-06T01:00:05.000Z");
    expect(latestTime("2026-12-06T01:00:00.123456+00:00")).to.equal("2026-12-06T01:00:00.123Z");
    expect(latestTime("2026-12-06 01:00:00 UTC")).to.equal("2026-12-06T01:00:00.000Z");
    expect(latestTime(1_796_518_800_000, null)).to.equal("2026-12-06T01:00:00.000Z");
  });

  it("latestTime is undefined when no value is a time", () => {
    expect(latestTime(undefined, null, "", "yesterday", {}, Number.NaN, 1e20)).to.equal(undefined);
  });
});
