// Which requests serve takes for smee-client's (src/local/smeeHint.ts): the hint must not reach a Git
// host's own delivery.
import { expect } from "chai";
import { headerBagFromRaw } from "../../src/core/headers";
import { forwardedBySmee, smeeMayBreakSignature } from "../../src/local/smeeHint";

const bag = (...raw: string[]) => headerBagFromRaw(raw);

describe("forwardedBySmee: smee.io's timestamp header with smee-client's content type", () => {
  it("takes a request with one all-digit timestamp (epoch milliseconds) and content-type application/json", () => {
    expect(forwardedBySmee(bag("Timestamp", "1796571643614", "Content-Type", "application/json"))).to.equal(
      true,
    );
  });

  it("does not take a Git host's own delivery: no timestamp header", () => {
    expect(
      forwardedBySmee(bag("content-type", "application/json", "webhook-timestamp", "1796571643")),
    ).to.equal(false);
  });

  it("does not take a timestamp that is not digits only, empty, repeated or longer than 16 digits", () => {
    for (const timestamps of [
      ["2026-12-06T15:40:00Z"],
      [""],
      ["-1"],
      ["1796571643614", "1796571643614"],
      ["1".repeat(17)],
    ]) {
      const raw = timestamps.flatMap((t) => ["timestamp", t]);
      expect(forwardedBySmee(bag(...raw, "content-type", "application/json")), String(timestamps)).to.equal(
        false,
      );
    }
  });

  it("does not take another content type than smee-client's application/json", () => {
    for (const type of [
      "application/x-www-form-urlencoded",
      "application/json; charset=utf-8",
      "text/plain",
    ]) {
      expect(forwardedBySmee(bag("timestamp", "1796571643614", "content-type", type)), type).to.equal(false);
    }
    expect(forwardedBySmee(bag("timestamp", "1796571643614"))).to.equal(false);
  });
});

describe("smeeMayBreakSignature: a smee-forwarded request whose scheme signs the body", () => {
  const marks = ["timestamp", "1796571643614", "content-type", "application/json"];

  it("holds for the body-signing providers, and for GitLab only with a signing token's webhook-signature", () => {
    for (const provider of ["github", "gitea", "bitbucket", "bitbucket-server"] as const) {
      expect(smeeMayBreakSignature(provider, bag(...marks)), provider).to.equal(true);
    }
    expect(smeeMayBreakSignature("gitlab", bag(...marks, "x-gitlab-token", "t"))).to.equal(false);
    expect(smeeMayBreakSignature("gitlab", bag(...marks, "webhook-signature", "v1,abc"))).to.equal(true);
  });

  it("does not hold without smee's marks", () => {
    expect(smeeMayBreakSignature("github", bag("content-type", "application/json"))).to.equal(false);
  });
});
