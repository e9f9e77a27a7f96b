import { expect } from "chai";
import { MAX_RETRY_DELAY_MS, retryDelayMs } from "../../src/core/policy";

// A Retry-After passed through uncapped (GitHub's "spammed" 422 in gitHost/github.ts) or serve's largest
// --retry-delay-ms doubled would otherwise be waited out in full (review h522).
describe("Function: retryDelayMs never waits past MAX_RETRY_DELAY_MS", () => {
  it("caps a Retry-After of one hour at MAX_RETRY_DELAY_MS", () => {
    expect(retryDelayMs(1, 3_600_000)).to.equal(MAX_RETRY_DELAY_MS);
  });
  it("caps the doubling of the largest base delay at MAX_RETRY_DELAY_MS", () => {
    expect(retryDelayMs(5, undefined, MAX_RETRY_DELAY_MS)).to.equal(MAX_RETRY_DELAY_MS);
  });
});
