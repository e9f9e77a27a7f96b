import { expect } from "chai";
import fc from "fast-check";
import { SUMMARY_MSG, sampleDeliveryLines } from "../../src/cli/logSampler";

type Line = Record<string, unknown>;

/** A sampler on a hand-moved clock, with the timer it asked for kept for the test to fire. */
function harness(options: { perWindow?: number; maxKinds?: number } = {}) {
  const written: Line[] = [];
  const timers: Array<{ run: () => void; at: number }> = [];
  let clock = 1_000_000;
  const sampler = sampleDeliveryLines((line) => written.push(line), {
    ...options,
    windowMs: 1_000,
    now: () => clock,
    schedule: (run, ms) => timers.push({ run, at: clock + ms }),
  });
  return {
    written,
    sampler,
    advance(ms: number) {
      clock += ms;
      for (const timer of timers.splice(0)) {
        if (timer.at <= clock) timer.run();
        else timers.push(timer);
      }
    },
    summaries: () => written.filter((l) => l.msg === SUMMARY_MSG),
  };
}

const rejected = (reason = "signature invalid", route: string | null = "api-build", status = 401): Line => ({
  msg: "delivery",
  route,
  deliveryId: "d",
  decision: "rejected",
  status,
  reason,
  level: "warn",
});

describe("Function: sampleDeliveryLines (serve's log under a flood of deliveries that queue nothing)", () => {
  it("writes the first 10 rejections of a kind in a second and sums the rest up in one line at its end", () => {
    const h = harness();
    for (let i = 0; i < 1_000; i++) h.sampler.log(rejected());
    expect(h.written).to.have.length(10);
    h.advance(1_000);
    expect(h.summaries()).to.deep.equal([
      {
        level: "warn",
        msg: SUMMARY_MSG,
        route: "api-build",
        status: 401,
        decision: "rejected",
        reason: "signature invalid",
        count: 990,
        windowMs: 1_000,
      },
    ]);
  });

  it("samples ignored, duplicate and pong answers as well, and sums them up as info", () => {
    const h = harness({ perWindow: 1 });
    for (const decision of ["ignored", "duplicate", "pong"]) {
      for (let i = 0; i < 3; i++)
        h.sampler.log({ msg: "delivery", route: "r", status: 200, decision, reason: "x" });
    }
    expect(h.written).to.have.length(3);
    h.advance(1_000);
    expect(h.summaries().map((l) => [l.decision, l.level, l.count])).to.have.deep.members([
      ["ignored", "info", 2],
      ["duplicate", "info", 2],
      ["pong", "info", 2],
    ]);
  });

  it("never samples accepted deliveries, 5xx answers, work attempts or any other line", () => {
    const h = harness({ perWindow: 1 });
    const lines: Line[] = [
      { msg: "delivery", route: "r", status: 202, decision: "queued", level: "info" },
      { msg: "delivery", route: "r", status: 503, decision: "unavailable", level: "error" },
      { msg: "delivery", route: "r", status: 500, decision: "error", level: "error" },
      { msg: "attempt", route: "r", outcome: "dead", level: "error" },
      { msg: "something else", status: 200 },
    ];
    for (let i = 0; i < 50; i++) for (const line of lines) h.sampler.log(line);
    expect(h.written).to.have.length(250);
  });

  it("counts each route, status and reason apart", () => {
    const h = harness({ perWindow: 1 });
    for (let i = 0; i < 3; i++) {
      h.sampler.log(rejected("signature invalid"));
      h.sampler.log(rejected("signature missing"));
      h.sampler.log(rejected("signature invalid", "other-route"));
      h.sampler.log(rejected("source IP not allowed", "api-build", 403));
    }
    expect(h.written).to.have.length(4);
    h.advance(1_000);
    expect(h.summaries().map((l) => [l.route, l.status, l.reason, l.count])).to.have.deep.members([
      ["api-build", 401, "signature invalid", 2],
      ["api-build", 401, "signature missing", 2],
      ["other-route", 401, "signature invalid", 2],
      ["api-build", 403, "source IP not allowed", 2],
    ]);
  });

  it("writes rejections in full again once the window has ended, and a line after the window ends it too", () => {
    const h = harness({ perWindow: 2 });
    for (let i = 0; i < 5; i++) h.sampler.log(rejected());
    h.advance(1_500); // the timer ends the window: one summary
    for (let i = 0; i < 5; i++) h.sampler.log(rejected());
    expect(h.written.filter((l) => l.msg === "delivery")).to.have.length(4);
    expect(h.summaries().map((l) => l.count)).to.deep.equal([3]);
    h.sampler.flush();
    expect(h.summaries().map((l) => l.count)).to.deep.equal([3, 3]);
  });

  it("a timer left from a window that already ended does not end the next window early", () => {
    const h = harness({ perWindow: 1 });
    h.sampler.log(rejected());
    h.sampler.log(rejected()); // counted: a timer for 1,000 ms from now
    h.advance(500);
    h.sampler.flush(); // ends that window now: summary of 1
    h.advance(100);
    h.sampler.log(rejected());
    h.sampler.log(rejected()); // a new window, counted: its own timer, 1,000 ms from now
    h.advance(400); // the first timer comes due
    expect(h.summaries().map((l) => l.count)).to.deep.equal([1]);
    h.advance(600); // the new window's timer comes due
    expect(h.summaries().map((l) => l.count)).to.deep.equal([1, 1]);
  });

  it("past maxKinds, a route's rejections of one status share one count (reasons can quote the request)", () => {
    const h = harness({ perWindow: 1, maxKinds: 3 });
    for (let i = 0; i < 10; i++) {
      h.sampler.log(rejected(`header "x-${i}" has several different values`, "api-build", 400));
      h.sampler.log(rejected(`header "x-${i}" has several different values`, "api-build", 400));
    }
    h.advance(1_000);
    const summaries = h.summaries();
    expect(summaries.map((l) => l.reason)).to.include("(several)");
    const logged = h.written.filter((l) => l.msg === "delivery").length;
    const counted = summaries.reduce((sum, l) => sum + (l.count as number), 0);
    expect(logged + counted).to.equal(20);
  });

  it("counts the 404s to 600 different unknown routes as one kind: 10 lines written, the rest in one summary with no route", () => {
    const h = harness();
    for (let i = 0; i < 600; i++) {
      h.sampler.log({
        msg: "delivery",
        route: `probe-${i}`,
        status: 404,
        decision: "unknown-route",
        reason: "unknown route",
      });
    }
    h.advance(1_000);
    expect(h.written.filter((l) => l.msg === "delivery")).to.have.length(10);
    expect(h.summaries()).to.deep.equal([
      {
        level: "warn",
        msg: SUMMARY_MSG,
        route: null,
        status: 404,
        decision: "unknown-route",
        reason: "unknown route",
        count: 590,
        windowMs: 1_000,
      },
    ]);
  });

  it("counts the rejections with no route per status, whatever their reason, and says so in the summary", () => {
    const h = harness({ perWindow: 1 });
    for (const code of ["HPE_INVALID_METHOD", "HPE_INVALID_URL", "HPE_INVALID_METHOD"]) {
      h.sampler.log(rejected(`malformed HTTP request: ${code}`, null, 400));
      h.sampler.log(rejected("request not received in time: ERR_HTTP_REQUEST_TIMEOUT", null, 408));
    }
    h.advance(1_000);
    expect(h.written.filter((l) => l.msg === "delivery")).to.have.length(2);
    expect(h.summaries().map((l) => [l.route, l.status, l.reason, l.count])).to.have.deep.members([
      [null, 400, "(several)", 2],
      [null, 408, "request not received in time: ERR_HTTP_REQUEST_TIMEOUT", 2],
    ]);
  });

  it("past maxKinds, unknown routes still share one kind per status", () => {
    const h = harness({ perWindow: 1, maxKinds: 2 });
    h.sampler.log(rejected("signature invalid", "a"));
    h.sampler.log(rejected("signature invalid", "b"));
    for (let i = 0; i < 100; i++) {
      h.sampler.log({ msg: "delivery", route: `probe-${i}`, status: 404, decision: "unknown-route" });
    }
    expect(h.written.filter((l) => l.status === 404)).to.have.length(1);
  });

  it("property: every rejection is either written or counted in a summary, whatever the mix and timing", () => {
    const event = fc.record({
      route: fc.constantFrom("a", "b", "c", null),
      decision: fc.constantFrom("rejected", "unknown-route"),
      status: fc.constantFrom(200, 202, 400, 401, 403, 503),
      reason: fc.constantFrom("signature invalid", "signature missing", "x"),
      waitMs: fc.constantFrom(0, 0, 0, 10, 400, 1_200),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 300 }),
        fc.integer({ min: 1, max: 5 }),
        (events, perWindow) => {
          const h = harness({ perWindow, maxKinds: 4 });
          for (const { waitMs, ...line } of events) {
            h.advance(waitMs);
            h.sampler.log({ msg: "delivery", ...line });
          }
          h.sampler.flush();
          const logged = h.written.filter((l) => l.msg === "delivery").length;
          const counted = h.summaries().reduce((sum, l) => sum + (l.count as number), 0);
          expect(logged + counted).to.equal(events.length);
        },
      ),
    );
  });
});
