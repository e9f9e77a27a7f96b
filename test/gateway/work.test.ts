import type { SQSRecord } from "aws-lambda";
import { expect } from "chai";
import { ActionError, SecretNotFoundError } from "../../src/core/errors";
import { MAX_ATTEMPTS, RETRY_BASE_DELAY_MS, retryDelayMs } from "../../src/core/policy";
import type { ActionOutcome, WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler, MIN_ACTION_MS, WORK_RESERVE_MS } from "../../src/gateway/routeHandler";
import { MemorySecretStore } from "../support/secrets";
import {
  jenkinsRoute,
  LogCollector,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  workItem,
} from "./support";

type Behaviour = (item: WorkItem) => Promise<ActionOutcome>;

function harness(behaviour: Behaviour, options: { maxAttempts?: number } = {}) {
  const deadLetters = new RecordingDeadLetters();
  const dedupe = new MemoryDedupeStore();
  const logs = new LogCollector();
  const ran: string[] = [];
  const deadlines: Array<number | undefined> = [];
  const backoffs: Array<{ messageId: string; delayMs: number }> = [];
  const handler = createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore(),
    queue: new RecordingQueue(),
    deadLetters,
    dedupe,
    runAction: async (item, limits) => {
      ran.push(item.deliveryId);
      deadlines.push(limits?.deadlineMs);
      return behaviour(item);
    },
    log: logs.log,
    maxAttempts: options.maxAttempts,
    backoff: async (record: SQSRecord, delayMs: number) => {
      backoffs.push({ messageId: record.messageId, delayMs });
    },
  });
  return { handler, deadLetters, dedupe, logs, ran, deadlines, backoffs };
}

const ok: Behaviour = async () => ({ status: "done", detail: "queued as https://jenkins/queue/item/1/" });

/** Claims the item in the dedupe store as the receive path would have, and marks it queued. */
async function accepted(dedupe: MemoryDedupeStore, item: WorkItem): Promise<void> {
  const claim = await dedupe.claim(item.route, item.deliveryId);
  if (!claim.claimed) throw new Error("test setup: claim failed");
  item.generation = claim.generation;
  await dedupe.mark(item.route, item.deliveryId, claim.generation, "queued");
}

describe("Function: createRouteHandler(deps).work (the SQS side)", () => {
  it("work runs each record's action, marks the delivery done and reports no failures", async () => {
    const h = harness(ok);
    const items = [workItem({ deliveryId: "w-1" }), workItem({ deliveryId: "w-2" }, "acme/web")];
    for (const item of items) await accepted(h.dedupe, item);
    const result = await h.handler.work(
      sqsEvent(items.map((i) => sqsRecord(JSON.stringify(i), { group: i.event.repo.fullName }))),
    );
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(h.ran).to.deep.equal(["w-1", "w-2"]);
    expect(h.dedupe.peek("api-build", "w-1")).to.deep.equal({ state: "done", generation: 1 });
    const attempts = h.logs.of("attempt");
    expect(attempts.map((l) => l.outcome)).to.deep.equal(["done", "done"]);
    expect(attempts[0]).to.deep.include({ deliveryId: "w-1", route: "api-build", attempt: 1 });
  });

  it("work reports a retryable failure as a batch item failure and backs off exponentially", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 503", { retryable: true });
    });
    const item = workItem({ deliveryId: "w-retry" });
    await accepted(h.dedupe, item);
    const record = sqsRecord(JSON.stringify(item), { receiveCount: 3, group: "acme/api", id: "m-retry" });
    const result = await h.handler.work(sqsEvent([record]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-retry" }]);
    expect(h.backoffs).to.deep.equal([{ messageId: "m-retry", delayMs: RETRY_BASE_DELAY_MS * 4 }]);
    expect(h.deadLetters.items).to.have.length(0);
    expect(h.logs.of("attempt")[0]).to.deep.include({
      outcome: "retry",
      attempt: 3,
      error: "Jenkins answered 503",
      // What the delivery was, so the line stands alone.
      deliveryId: "w-retry",
      event: item.event.event,
      repository: item.event.repo.fullName,
      ref: item.event.ref,
    });
  });

  it("work honours a server's Retry-After when it is longer than the exponential delay", async () => {
    const h = harness(async () => {
      throw new ActionError("GitHub API rate limited", { retryable: true, retryAfterMs: 600_000 });
    });
    const record = sqsRecord(JSON.stringify(workItem()), { receiveCount: 1, id: "m-ra" });
    await h.handler.work(sqsEvent([record]));
    expect(h.backoffs).to.deep.equal([{ messageId: "m-ra", delayMs: retryDelayMs(1, 600_000) }]);
    expect(h.backoffs[0]?.delayMs).to.equal(600_000);
  });

  it("work sends a final error straight to the DLQ with its reason, marks it dead, and does not report it", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
    });
    const item = workItem({ deliveryId: "w-final" });
    await accepted(h.dedupe, item);
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: 1 })]));
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.deadLetters.items).to.have.length(1);
    expect(h.deadLetters.items[0]?.reason).to.equal("final: Jenkins job api/build not found (404)");
    expect(h.deadLetters.items[0]?.item.deliveryId).to.equal("w-final");
    expect(h.dedupe.peek("api-build", "w-final")?.state).to.equal("dead");
    expect(h.backoffs).to.have.length(0);
  });

  it("work dead-letters a message with its message id, so a copy redriven from the DLQ is dead-lettered again", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
    });
    const item = workItem({ deliveryId: "w-redrive" });
    await accepted(h.dedupe, item);
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-original" })]));
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-redriven" })]));
    expect(h.deadLetters.items.map((d) => d.messageId)).to.deep.equal(["m-original", "m-redriven"]);
  });

  it("work treats a missing action secret as final (DLQ)", async () => {
    const h = harness(async () => {
      throw new SecretNotFoundError("hookgate/jenkins");
    });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(h.deadLetters.items[0]?.reason).to.contain("hookgate/jenkins");
  });

  it(`work dead-letters a retryable failure on attempt ${MAX_ATTEMPTS} (attempts exhausted)`, async () => {
    const h = harness(async () => {
      throw new ActionError("connect ECONNREFUSED 10.0.0.5:8443", { retryable: true });
    });
    const item = workItem({ deliveryId: "w-exhausted" });
    await accepted(h.dedupe, item);
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: MAX_ATTEMPTS })]),
    );
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.deadLetters.items[0]?.reason).to.equal(
      `gave up after ${MAX_ATTEMPTS} attempts: connect ECONNREFUSED 10.0.0.5:8443`,
    );
    expect(h.dedupe.peek("api-build", "w-exhausted")?.state).to.equal("dead");
  });

  it(`work marks a delivery dead before its action on attempt ${MAX_ATTEMPTS}, so that a redelivery after the function dies there (the queue's redrive moves it to the DLQ) is accepted again`, async () => {
    const item = workItem({ deliveryId: "w-last-receive" });
    let stateDuringAction: string | undefined;
    const h = harness(async () => {
      stateDuringAction = h.dedupe.peek("api-build", "w-last-receive")?.state;
      return new Promise<ActionOutcome>(() => undefined); // the function dies (times out) here
    });
    await accepted(h.dedupe, item);
    void h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: MAX_ATTEMPTS })]));
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.ran).to.deep.equal(["w-last-receive"]);
    expect(stateDuringAction).to.equal("dead");
    const redelivery = await h.dedupe.claim("api-build", "w-last-receive");
    expect(redelivery).to.deep.include({ claimed: true, generation: item.generation + 1 });
  });

  it(`work marks a delivery done when its action succeeds on attempt ${MAX_ATTEMPTS}, and leaves earlier attempts queued while they run`, async () => {
    const states: Array<string | undefined> = [];
    const h = harness(async (running) => {
      states.push(h.dedupe.peek("api-build", running.deliveryId)?.state);
      return ok(running);
    });
    const last = workItem({ deliveryId: "w-last-ok" });
    const earlier = workItem({ deliveryId: "w-earlier" });
    await accepted(h.dedupe, last);
    await accepted(h.dedupe, earlier);
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(last), { receiveCount: MAX_ATTEMPTS })]));
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(earlier), { receiveCount: MAX_ATTEMPTS - 1 })]));
    expect(states).to.deep.equal(["dead", "queued"]);
    expect(h.dedupe.peek("api-build", "w-last-ok")?.state).to.equal("done");
    expect(h.dedupe.peek("api-build", "w-earlier")?.state).to.equal("done");
  });

  it("work respects deps.maxAttempts", async () => {
    const h = harness(
      async () => {
        throw new ActionError("503", { retryable: true });
      },
      { maxAttempts: 2 },
    );
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { receiveCount: 2 })]));
    expect(h.deadLetters.items).to.have.length(1);
  });

  it("work reports a batch item failure when the DLQ send itself fails (nothing is lost)", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 401", { retryable: false });
    });
    h.deadLetters.failuresLeft = 1;
    const item = workItem({ deliveryId: "w-dlq-down" });
    await accepted(h.dedupe, item);
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-dlq" })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-dlq" }]);
    expect(h.dedupe.peek("api-build", "w-dlq-down")?.state).to.equal("queued");
  });

  const unreadable: Array<[string, string]> = [
    ["not JSON", "{oops"],
    ["JSON but not a work item", JSON.stringify({ hello: "world" })],
    ["a work item of an unknown version", JSON.stringify({ ...workItem(), v: 2 })],
    ["a work item for another route", JSON.stringify({ ...workItem(), route: "other" })],
  ];
  for (const [label, body] of unreadable) {
    it(`work dead-letters ${label} without running anything`, async () => {
      const h = harness(ok);
      const result = await h.handler.work(sqsEvent([sqsRecord(body, { id: "m-bad" })]));
      expect(result.batchItemFailures).to.deep.equal([]);
      expect(h.ran).to.deep.equal([]);
      expect(h.deadLetters.raw).to.have.length(1);
      expect(h.deadLetters.raw[0]?.body).to.equal(body);
      expect(h.deadLetters.raw[0]?.reason).to.match(/^unreadable work item: /);
    });
  }

  it("work returns only the failed record when runAction throws a plain Error on record 2 of 4", async () => {
    const h = harness(async (item) => {
      if (item.deliveryId === "c-2") throw new Error("socket hang up");
      return { status: "done", detail: "ok" };
    });
    const records = ["c-1", "c-2", "c-3", "c-4"].map((id, i) =>
      sqsRecord(JSON.stringify(workItem({ deliveryId: id }, `acme/repo-${i}`)), {
        id: `m-${id}`,
        group: `acme/repo-${i}`,
      }),
    );
    const result = await h.handler.work(sqsEvent(records));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-c-2" }]);
    expect(h.ran).to.deep.equal(["c-1", "c-2", "c-3", "c-4"]);
  });

  it("work does not run later records of a FIFO group after one of them failed, and reports them too", async () => {
    const h = harness(async (item) => {
      if (item.deliveryId === "g-1") throw new ActionError("Jenkins answered 502", { retryable: true });
      return { status: "done", detail: "ok" };
    });
    const records = [
      sqsRecord(JSON.stringify(workItem({ deliveryId: "g-1" }, "acme/api")), {
        id: "m-g-1",
        group: "acme/api",
      }),
      sqsRecord(JSON.stringify(workItem({ deliveryId: "o-1" }, "acme/web")), {
        id: "m-o-1",
        group: "acme/web",
      }),
      sqsRecord(JSON.stringify(workItem({ deliveryId: "g-2" }, "acme/api")), {
        id: "m-g-2",
        group: "acme/api",
      }),
      sqsRecord(JSON.stringify(workItem({ deliveryId: "g-3" }, "acme/api")), {
        id: "m-g-3",
        group: "acme/api",
      }),
    ];
    const result = await h.handler.work(sqsEvent(records));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).to.deep.equal(["m-g-1", "m-g-2", "m-g-3"]);
    expect(h.ran).to.deep.equal(["g-1", "o-1"]);
    // The held-back records wait as long as the failed one, so the group resumes in order.
    expect(h.backoffs.map((b) => b.messageId)).to.deep.equal(["m-g-1", "m-g-2", "m-g-3"]);
    expect(new Set(h.backoffs.map((b) => b.delayMs)).size).to.equal(1);
  });

  it("work gives the action the invocation's deadline, less what the work path keeps for itself", async () => {
    const h = harness(ok);
    const before = Date.now();
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]), { remainingMs: () => 60_000 });
    const after = Date.now();
    expect(h.deadlines).to.have.length(1);
    expect(h.deadlines[0]).to.be.within(before + 60_000 - WORK_RESERVE_MS, after + 60_000 - WORK_RESERVE_MS);
    // Without an invocation (hookgate serve), no deadline.
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem({ deliveryId: "w-2" })))]));
    expect(h.deadlines[1]).to.equal(undefined);
  });

  it("work starts no record with too little of the invocation left: they come back at once, unattempted", async () => {
    const h = harness(ok);
    const records = ["t-1", "t-2"].map((id) =>
      sqsRecord(JSON.stringify(workItem({ deliveryId: id })), { id: `m-${id}`, group: "acme/api" }),
    );
    const result = await h.handler.work(sqsEvent(records), {
      remainingMs: () => WORK_RESERVE_MS + MIN_ACTION_MS - 1,
    });
    expect(h.ran).to.deep.equal([]);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).to.deep.equal(["m-t-1", "m-t-2"]);
    expect(h.backoffs).to.deep.equal([
      { messageId: "m-t-1", delayMs: 0 },
      { messageId: "m-t-2", delayMs: 0 },
    ]);
    expect(h.logs.of("attempt").map((l) => l.outcome)).to.deep.equal(["deferred", "deferred"]);
    expect(h.deadLetters.items).to.deep.equal([]);
  });

  it("work is not disturbed when the log sink throws", async () => {
    const deadLetters = new RecordingDeadLetters();
    let calls = 0;
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters,
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "ok" }),
      log: () => {
        calls++;
        throw new Error("stdout closed");
      },
    });
    const result = await handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem())), sqsRecord(JSON.stringify(workItem()))]),
    );
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(calls).to.be.greaterThan(0);
  });

  it("work counts a backoff failure as harmless: the record is still reported and comes back", async () => {
    const h = harness(async () => {
      throw new ActionError("503", { retryable: true });
    });
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters: h.deadLetters,
      dedupe: h.dedupe,
      runAction: async () => {
        throw new ActionError("503", { retryable: true });
      },
      log: h.logs.log,
      backoff: async () => {
        throw new Error("ChangeMessageVisibility failed");
      },
    });
    const result = await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-b" })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-b" }]);
    expect(h.logs.of("backoff failed")).to.have.length(1);
  });

  it("work never marks an older generation over a newer one", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-gen" });
    await accepted(h.dedupe, item); // generation 1
    await h.dedupe.mark("api-build", "w-gen", 1, "dead");
    const newer = await h.dedupe.claim("api-build", "w-gen"); // generation 2, pending
    expect(newer).to.deep.include({ claimed: true, generation: 2 });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))])); // a late generation-1 message
    expect(h.dedupe.peek("api-build", "w-gen")).to.deep.equal({ state: "pending", generation: 2 });
  });

  it("handle(event) dispatches an SQS event to work", async () => {
    const h = harness(ok);
    const result = await h.handler.handle(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(h.ran).to.have.length(1);
  });
});

describe("Function: createRouteHandler(deps).work after a crash", () => {
  it("work skips a record whose generation is already done (SQS returned a finished batch)", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-done" });
    await accepted(h.dedupe, item);
    await h.dedupe.mark("api-build", "w-done", 1, "done");
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: 2 })]));
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.ran).to.deep.equal([]);
    expect(h.logs.of("attempt")[0]?.outcome).to.equal("already-done");
  });

  it("work runs a record whose delivery is done only in another generation", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-other-gen" });
    await accepted(h.dedupe, item);
    await h.dedupe.mark("api-build", "w-other-gen", 1, "dead");
    await h.dedupe.claim("api-build", "w-other-gen");
    await h.dedupe.mark("api-build", "w-other-gen", 2, "done");
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))])); // generation 1, redriven from the DLQ
    expect(h.ran).to.deep.equal(["w-other-gen"]);
  });
});
