import { expect } from "chai";
import fc from "fast-check";
import { isoNow, isoTime } from "../../src/core/clock";

describe("Function: isoTime", () => {
  it("isoTime gives Date#toISOString for any sequence of times, repeated or not", () => {
    const time = fc.integer({ min: 0, max: 4_102_444_800_000 }); // 1970 to 2100
    fc.assert(
      fc.property(fc.array(fc.oneof(time, fc.constant(1_795_419_688_635)), { minLength: 1 }), (times) => {
        for (const ms of times) expect(isoTime(ms)).to.equal(new Date(ms).toISOString());
      }),
    );
  });

  it("isoNow is the current time, to the millisecond", () => {
    const before = Date.now();
    const now = Date.parse(isoNow());
    expect(now).to.be.within(before, Date.now());
  });
});
