import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSRecord } from "aws-lambda";
import { expect } from "chai";
import { DynamoDedupeStore } from "../../src/aws/dedupe";
import {
  ActionError,
  MessageReceivedAgainError,
  SecretNotFoundError,
  TransientDependencyError,
} from "../../src/core/errors";
import { DEAD_LETTERED_FIELD } from "../../src/core/logLines";
import {
  DEDUPE_TTL_SECONDS,
  DLQ_RETENTION_SECONDS,
  MAX_ATTEMPTS,
  MAX_RECEIVE_COUNT,
  RETRY_BASE_DELAY_MS,
  retryDelayMs,
} from "../../src/core/policy";
import type {
  CallLimits,
  DeadLetterQueue,
  DedupeStore,
  DeliveryState,
  WorkQueue,
} from "../../src/core/ports";
import type { ActionOutcome, WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import {
  ANSWER_MARGIN_MS,
  createRouteHandler,
  HOLD_MARGIN_MS,
  MIN_ACTION_MS,
  type RouteHandlerDeps,
  WORK_RESERVE_MS,
} from "../../src/gateway/routeHandler";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { LocalDeadLetters } from "../../src/local/localDeadLetters";
import { type LocalDynamo, startLocalDynamo } from "../support/dynamo";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
  workItem,
} from "./support";

type Behaviour = (item: WorkItem) => Promise<ActionOutcome>;

/** A handler on in-memory stores; `deps` replaces any of its dependencies (undefined removes one). */
function harness(behaviour: Behaviour, deps: Partial<RouteHandlerDeps> = {}) {
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
    backoff: async (record: SQSRecord, delayMs: number) => {
      backoffs.push({ messageId: record.messageId, delayMs });
    },
    ...deps,
  });
  return { handler, deadLetters, dedupe, logs, ran, deadlines, backoffs };
}

const ok: Behaviour = async () => ({ status: "done", detail: "queued as https://jenkins/queue/item/1/" });
const unavailable: Behaviour = async () => {
  throw new ActionError("503", { retryable: true });
};

/** Claims the item in the dedupe store as the receive path would have, and marks it queued. */
async function accepted(dedupe: DedupeStore, item: WorkItem): Promise<void> {
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
      `gave up after ${MAX_ATTEMPTS} receives: connect ECONNREFUSED 10.0.0.5:8443`,
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

  it("work backs off a record whose DLQ send failed by the retry delay of its attempt, as a retryable failure", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 401", { retryable: false });
    });
    h.deadLetters.failuresLeft = 1;
    await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-dlq-2", receiveCount: 2 })]),
    );
    expect(h.backoffs).to.deep.equal([{ messageId: "m-dlq-2", delayMs: retryDelayMs(2) }]);
  });

  it("work backs off an unreadable record by the retry delay of its attempt when parking it fails, or when the DLQ takes no raw bodies", async () => {
    const failing = harness(ok);
    failing.deadLetters.failuresLeft = 1;
    await failing.handler.work(sqsEvent([sqsRecord("{oops", { id: "m-raw-2", receiveCount: 3 })]));
    expect(failing.backoffs).to.deep.equal([{ messageId: "m-raw-2", delayMs: retryDelayMs(3) }]);
    const noRaw = harness(ok);
    (noRaw.deadLetters as { sendRaw?: unknown }).sendRaw = undefined;
    await noRaw.handler.work(sqsEvent([sqsRecord("{oops", { id: "m-raw-3" })]));
    expect(noRaw.backoffs).to.deep.equal([{ messageId: "m-raw-3", delayMs: retryDelayMs(1) }]);
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

  it("work gives each call after the action a deadline before the function is stopped: the DLQ send half of what is left less the answer's margin, the dead mark and the backoff the rest", async () => {
    const final: Behaviour = async () => {
      throw new ActionError("Jenkins answered 404", { retryable: false });
    };
    const limits: Record<string, CallLimits | undefined> = {};
    const recordLimits = (what: string) => (l?: CallLimits) => {
      limits[what] = l;
    };
    const store = new MemoryDedupeStore();
    const dedupe: DedupeStore = {
      claim: (route, id) => store.claim(route, id),
      release: (route, id, generation) => store.release(route, id, generation),
      mark: async (route, id, generation, state, l) => {
        recordLimits(state)(l);
        await store.mark(route, id, generation, state);
      },
    };
    const deadLetters: DeadLetterQueue = {
      send: async (_item, _reason, _messageId, l) => recordLimits("dlq")(l),
    };
    const invocation = { remainingMs: () => 60_000 };
    const before = Date.now();
    await harness(final, { dedupe, deadLetters }).handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()))]),
      invocation,
    );
    const after = Date.now();
    const left = 60_000 - ANSWER_MARGIN_MS;
    expect(limits.dlq?.deadlineMs).to.be.within(before + left / 2 - 1, after + left / 2);
    expect(limits.dead?.deadlineMs).to.be.within(before + left, after + left);

    const retried = harness(unavailable, {
      backoff: async (_record, _delayMs, l) => recordLimits("backoff")(l),
    });
    const start = Date.now();
    await retried.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]), invocation);
    expect(limits.backoff?.deadlineMs).to.be.within(start + left, Date.now() + left);
  });

  it("work gives up on a DLQ that ignores its deadline and never answers, shortly after the deadline: the attempt is logged failed and the record reported", async () => {
    let end = Date.now() + 60_000;
    const h = harness(async () => {
      // The action used its time: only the answer's margin and a little more are left.
      end = Date.now() + ANSWER_MARGIN_MS + 200;
      throw new ActionError("Jenkins answered 404", { retryable: false });
    });
    h.deadLetters.send = () => new Promise<void>(() => undefined);
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-stuck" })]),
      {
        remainingMs: () => end - Date.now(),
      },
    );
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-stuck" }]);
    expect(h.logs.of("attempt")[0]).to.deep.include({ outcome: "failed" });
    expect(h.logs.of("attempt")[0]?.error).to.match(
      /dead-lettering failed: no answer by the function's deadline/,
    );
  });

  it("work awaits local stores to the end (awaitStoresToTheEnd): a last attempt whose dead-letter write ends past the deadline is dead-lettered once and its action runs once", async () => {
    let end = 0;
    let runs = 0;
    const h = harness(
      async () => {
        runs++;
        // The action used its time: the send's deadline is ~100 ms away, given up on 250 ms after it.
        end = Date.now() + ANSWER_MARGIN_MS + 200;
        throw new ActionError("Jenkins job x timed out", { retryable: true });
      },
      { maxAttempts: 1, awaitStoresToTheEnd: true },
    );
    // A local file write (fsync'd) that ends well past the deadline and its grace, and lands all the same.
    const letters: string[] = [];
    const landing: Array<Promise<void>> = [];
    h.deadLetters.send = (item) => {
      const landed = new Promise<void>((resolve) => setTimeout(resolve, 600)).then(() => {
        letters.push(item.deliveryId);
      });
      landing.push(landed);
      return landed;
    };
    const item = workItem({ deliveryId: "d-slow-letter" });
    await accepted(h.dedupe, item);
    // As the queue does: a record reported failed comes back, one receive later.
    for (let receiveCount = 1; receiveCount <= 3; receiveCount++) {
      end = Date.now() + 60_000; // each receive, its own invocation
      const result = await h.handler.work(
        sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-slow", receiveCount })]),
        { remainingMs: () => end - Date.now() },
      );
      if (result.batchItemFailures.length === 0) break;
    }
    await Promise.all(landing);
    expect(letters, "dead letters filed").to.deep.equal(["d-slow-letter"]);
    expect(runs, "times the action ran").to.equal(1);
    expect(h.logs.of("attempt").map((l) => l.outcome)).to.deep.equal(["dead"]);
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

  describe("work on the last attempt, whose dead mark comes before the action", () => {
    /** A dedupe store whose dead marks note their deadline and, given `overrunMs`, end that long after it. */
    class SlowDeadMarks extends MemoryDedupeStore {
      deadMarkDeadlines: Array<number | undefined> = [];
      constructor(private readonly overrunMs?: number) {
        super();
      }
      override async mark(
        route: string,
        deliveryId: string,
        generation: number,
        state: DeliveryState,
        limits?: CallLimits,
      ): Promise<void> {
        if (state === "dead") {
          this.deadMarkDeadlines.push(limits?.deadlineMs);
          const at = limits?.deadlineMs;
          const overrun = this.overrunMs;
          if (at !== undefined && overrun !== undefined) {
            await new Promise((r) => setTimeout(r, at - Date.now() + overrun));
          }
        }
        return super.mark(route, deliveryId, generation, state);
      }
    }
    const minActionMs = 200;

    it("gives the dead mark a deadline that leaves the action MIN_ACTION_MS", async () => {
      const dedupe = new SlowDeadMarks();
      const h = harness(ok, { dedupe, workReserveMs: 0, minActionMs });
      const item = workItem();
      await accepted(dedupe, item);
      const end = Date.now() + 1_000;
      await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: MAX_ATTEMPTS })]), {
        remainingMs: () => end - Date.now(),
      });
      expect(h.ran).to.deep.equal([item.deliveryId]);
      const [markDeadline] = dedupe.deadMarkDeadlines;
      expect(markDeadline, "the dead mark's deadline").to.be.a("number");
      expect((h.deadlines[0] as number) - (markDeadline as number)).to.be.at.least(minActionMs);
    });

    it("puts the record back unrun, marked dead, when the dead mark overran its deadline and left the action less than MIN_ACTION_MS", async () => {
      const dedupe = new SlowDeadMarks(100);
      const h = harness(ok, { dedupe, workReserveMs: 0, minActionMs });
      const item = workItem();
      await accepted(dedupe, item);
      const end = Date.now() + 1_000;
      const result = await h.handler.work(
        sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-last", receiveCount: MAX_ATTEMPTS })]),
        { remainingMs: () => end - Date.now() },
      );
      expect(h.ran, "the action did not start").to.deep.equal([]);
      expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-last" }]);
      expect(h.logs.of("attempt").map((l) => [l.outcome, l.detail])).to.deep.equal([
        ["deferred", "too little of the invocation's time left to start it"],
      ]);
      expect(h.deadLetters.items).to.deep.equal([]);
      expect(dedupe.peek("api-build", item.deliveryId)?.state).to.equal("dead");
    });
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
    const h = harness(unavailable, {
      backoff: async () => {
        throw new Error("ChangeMessageVisibility failed");
      },
    });
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-b" })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-b" }]);
    expect(h.logs.of("backoff failed")).to.have.length(1);
  });

  it("work runs an older generation's record over a newer one that is pending and marks that one done, keeping its number: the newer generation's message is then skipped as already-done", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-gen" });
    await accepted(h.dedupe, item); // generation 1
    await h.dedupe.mark("api-build", "w-gen", 1, "dead");
    const newer = await h.dedupe.claim("api-build", "w-gen"); // generation 2, pending
    expect(newer).to.deep.include({ claimed: true, generation: 2 });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))])); // generation 1's letter, redriven
    expect(h.dedupe.peek("api-build", "w-gen")).to.deep.equal({ state: "done", generation: 2 });
    const second = workItem({ deliveryId: "w-gen" });
    second.generation = 2;
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(second))]));
    expect(h.ran).to.deep.equal(["w-gen"]);
    expect(h.logs.of("attempt").map((line) => [line.generation, line.outcome])).to.deep.equal([
      [1, "done"],
      [2, "already-done"],
    ]);
  });

  it("work leaves a newer generation that is queued alone when an older generation's record ran the action: its message runs the action again (the window the README names)", async () => {
    const id = "w-gen-queued";
    let redelivered = false;
    const h = harness(async (run) => {
      if (!redelivered) {
        // While generation 1's action runs, the redelivery's receive path records generation 2 queued.
        redelivered = true;
        await h.dedupe.mark("api-build", id, 2, "queued");
      }
      return ok(run);
    });
    const item = workItem({ deliveryId: id });
    await accepted(h.dedupe, item); // generation 1
    await h.dedupe.mark("api-build", id, 1, "dead");
    await h.dedupe.claim("api-build", id); // generation 2, pending: its receive path is sending it
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))])); // generation 1's letter, redriven
    expect(h.dedupe.peek("api-build", id)).to.deep.equal({ state: "queued", generation: 2 });
    const second = workItem({ deliveryId: id });
    second.generation = 2;
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(second))]));
    expect(h.ran).to.deep.equal([id, id]);
  });

  it("handle(event) dispatches an SQS event to work", async () => {
    const h = harness(ok);
    const result = await h.handler.handle(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(h.ran).to.have.length(1);
  });

  it("workRecords(event) answers work's batch response with each record's outcome, as its attempt line names it: superseded with supersededBy, already-done with doneAt (none for its own generation's done), done, skipped, retry, dead", async () => {
    const behaviours: Record<string, Behaviour> = {
      "o-retry": unavailable,
      "o-final": async () => {
        throw new ActionError("Jenkins answered 404: no such job", { retryable: false });
      },
      "o-skipped": async () => ({ status: "skipped", detail: "skipped: deleted branch" }),
    };
    const h = harness((item) => (behaviours[item.deliveryId] ?? ok)(item));
    const ids = ["o-superseded", "o-later-done", "o-own-done", "o-ok", "o-skipped", "o-retry", "o-final"];
    const items = ids.map((deliveryId) => workItem({ deliveryId }));
    for (const item of items) await accepted(h.dedupe, item);
    // o-superseded: generation 1 died and the redelivery, generation 2, is queued; o-later-done: generation 2 ran.
    for (const id of ["o-superseded", "o-later-done"]) {
      await h.dedupe.mark("api-build", id, 1, "dead");
      await accepted(h.dedupe, workItem({ deliveryId: id }));
    }
    await h.dedupe.mark("api-build", "o-later-done", 2, "done");
    await h.dedupe.mark("api-build", "o-own-done", 1, "done");
    const records = items.map((item) => sqsRecord(JSON.stringify(item), { id: `m-${item.deliveryId}` }));
    records.push(sqsRecord("not json", { id: "m-unreadable" }));

    const report = await h.handler.workRecords(sqsEvent(records));

    expect(report.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-o-retry" }]);
    expect(report.records).to.deep.equal([
      { messageId: "m-o-superseded", outcome: "superseded", supersededBy: 2 },
      { messageId: "m-o-later-done", outcome: "already-done", doneAt: 2 },
      { messageId: "m-o-own-done", outcome: "already-done" },
      { messageId: "m-o-ok", outcome: "done" },
      { messageId: "m-o-skipped", outcome: "skipped" },
      { messageId: "m-o-retry", outcome: "retry" },
      { messageId: "m-o-final", outcome: "dead" },
      { messageId: "m-unreadable", outcome: "dead" },
    ]);
    // The same outcomes the attempt lines name.
    expect(
      h.logs.of("attempt").map(({ messageId, outcome, supersededBy, doneAt }) => ({
        messageId,
        outcome,
        ...(supersededBy === undefined ? {} : { supersededBy }),
        ...(doneAt === undefined ? {} : { doneAt }),
      })),
    ).to.deep.equal(report.records);
  });

  it("workRecords(event) names a record whose dead-letter send failed failed, and one held behind it in its group deferred", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 401", { retryable: false });
    });
    h.deadLetters.failuresLeft = 1;
    const records = ["f-1", "f-2"].map((deliveryId) =>
      sqsRecord(JSON.stringify(workItem({ deliveryId })), { id: `m-${deliveryId}`, group: "acme/api" }),
    );
    const report = await h.handler.workRecords(sqsEvent(records));
    expect(report.records).to.deep.equal([
      { messageId: "m-f-1", outcome: "failed" },
      { messageId: "m-f-2", outcome: "deferred" },
    ]);
    expect(h.logs.of("attempt").map((line) => line.outcome)).to.deep.equal(["failed", "deferred"]);
  });

  it("work answers the batch response alone, without workRecords' outcomes (the Lambda's answer to SQS)", async () => {
    const h = harness(unavailable);
    const item = workItem({ deliveryId: "w-answer-alone" });
    await accepted(h.dedupe, item);
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-alone" })]));
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "m-alone" }] });
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

  // serve's dead letters can say whether an item's letter is filed (DeadLetterQueue.holds); the deployed DLQ cannot.
  // A receive that filed the letter and was killed before the queue deleted the message leaves its delivery
  // reading dead or queued, like a receive killed before its letter (review h514).
  describe("work on a record whose dead letter may be filed already (holds)", () => {
    /** RecordingDeadLetters whose holds() answers from `filed` (or throws), counting the calls. */
    function withHolds(filed: (item: WorkItem) => boolean) {
      const letters = Object.assign(new RecordingDeadLetters(), {
        asked: 0,
        messages: [] as Array<{ messageId?: string; sentAtMs?: number }>,
        async holds(item: WorkItem, message: { messageId?: string; sentAtMs?: number }) {
          letters.asked++;
          letters.messages.push(message);
          return filed(item);
        },
      });
      return letters;
    }
    const rows = [
      { left: "dead (its letter and dead mark written)", mark: "dead" as const, attempt: 2 },
      { left: "queued (its letter written, its dead mark not)", mark: undefined, attempt: 2 },
      {
        left: "dead (a last attempt's mark before its action)",
        mark: "dead" as const,
        attempt: MAX_ATTEMPTS + 1,
      },
    ];
    for (const row of rows)
      it(`work on receive ${row.attempt} of a record whose letter is filed and whose delivery reads ${row.left} does not run it nor file it again: dead, marked dead`, async () => {
        const item = workItem({ deliveryId: "w-filed" });
        const deadLetters = withHolds((asked) => asked.deliveryId === "w-filed" && asked.generation === 1);
        const h = harness(unavailable, { deadLetters });
        await accepted(h.dedupe, item);
        if (row.mark) await h.dedupe.mark("api-build", "w-filed", 1, row.mark);
        const report = await h.handler.workRecords(
          sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: row.attempt, id: "m-1" })]),
        );
        expect(report).to.deep.equal({
          batchItemFailures: [],
          records: [{ messageId: "m-1", outcome: "dead" }],
        });
        expect({ ran: h.ran, filed: deadLetters.items.length }).to.deep.equal({ ran: [], filed: 0 });
        // Asked for the letter of this message (its id; an older version's letter: filed since its SentTimestamp).
        expect(deadLetters.messages).to.deep.equal([{ messageId: "m-1", sentAtMs: 1_700_000_000_000 }]);
        expect(h.dedupe.peek("api-build", "w-filed")).to.deep.equal({ state: "dead", generation: 1 });
        expect(h.logs.of("attempt")).to.have.length(1);
        expect(h.logs.of("attempt")[0]).to.deep.include({
          level: "error",
          outcome: "dead",
          attempt: row.attempt,
          deliveryId: "w-filed",
          detail:
            "its dead letter was filed by an earlier receive, cut short before the message was deleted: not run again",
        });
      });

    const runs = [
      {
        when: "on its first receive (no earlier receive filed anything): holds is not asked",
        attempt: 1,
        holds: () => true,
        asked: 0,
      },
      {
        when: "when no letter of its generation is filed (a last attempt cut short in its action)",
        attempt: MAX_ATTEMPTS + 1,
        holds: () => false,
        asked: 1,
      },
      {
        when: "when holds fails (the dead letters cannot tell)",
        attempt: 2,
        holds: () => {
          throw new Error("EACCES: permission denied, scandir");
        },
        asked: 1,
      },
    ];
    for (const row of runs)
      it(`work runs a record whose delivery reads dead ${row.when}`, async () => {
        const item = workItem({ deliveryId: "w-run" });
        const deadLetters = withHolds(row.holds);
        const h = harness(ok, { deadLetters });
        await accepted(h.dedupe, item);
        await h.dedupe.mark("api-build", "w-run", 1, "dead");
        const result = await h.handler.work(
          sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: row.attempt })]),
        );
        expect(result.batchItemFailures).to.deep.equal([]);
        expect({ ran: h.ran, asked: deadLetters.asked }).to.deep.equal({ ran: ["w-run"], asked: row.asked });
        expect(h.logs.of("attempt")[0]?.outcome).to.equal("done");
      });

    it("work without holds (the deployed DLQ) runs a record received again whose delivery reads dead, as before", async () => {
      const item = workItem({ deliveryId: "w-deployed" });
      const h = harness(ok);
      expect(h.deadLetters).to.not.have.property("holds");
      await accepted(h.dedupe, item);
      await h.dedupe.mark("api-build", "w-deployed", 1, "dead");
      await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: 2 })]));
      expect(h.ran).to.deep.equal(["w-deployed"]);
    });

    // Two messages of one delivery and generation can be queued one after the other (an abandoned claim taken over
    // as the same generation, its redelivery sent past the queue's 5-minute deduplication window), in one message
    // group: the second is received only after the first died, and was sent before that letter was filed.
    describe("with serve's dead letters, when the first of two messages of one generation died (review h529)", () => {
      let dir: string;
      beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "hookgate-work-letters-"));
      });
      afterEach(() => rmSync(dir, { recursive: true, force: true }));

      const rows = [
        {
          who: "the second message (m-2): its retry runs, and its letter is not the first's",
          id: "m-2",
          ran: 3, // m-1's receive, m-2's two
          outcome: "done",
        },
        {
          who: "the first message again (m-1, serve killed before the queue deleted it): not run again",
          id: "m-1",
          ran: 1,
          outcome: "dead",
        },
      ];
      for (const row of rows)
        it(`work on receive 2 of ${row.who}`, async () => {
          const letters = new LocalDeadLetters(join(dir, "dead-letters"));
          const outcomes = [
            () =>
              Promise.reject(new ActionError("Jenkins job api/build not found (404)", { retryable: false })),
            unavailable,
            ok,
          ];
          const h = harness((item) => (outcomes.shift() ?? ok)(item), {
            deadLetters: letters.forRoute("api-build"),
          });
          const item = workItem({ deliveryId: "w-twice" });
          await accepted(h.dedupe, item);
          const record = (id: string, receiveCount: number) =>
            sqsRecord(JSON.stringify(item), { receiveCount, id });
          // m-1 dies final on its first receive: its letter is filed, the delivery marked dead.
          const first = await h.handler.workRecords(sqsEvent([record("m-1", 1)]));
          expect(first.records?.[0]?.outcome).to.equal("dead");
          if (row.id === "m-2") {
            // m-2's first receive: Jenkins answers 503 (retried).
            const retried = await h.handler.workRecords(sqsEvent([record("m-2", 1)]));
            expect(retried.records?.[0]?.outcome).to.equal("retry");
          }
          const again = await h.handler.workRecords(sqsEvent([record(row.id, 2)]));
          expect({
            outcome: again.records?.[0]?.outcome,
            ran: h.ran.length,
            letters: letters.list().map((l) => l.messageId),
          }).to.deep.equal({ outcome: row.outcome, ran: row.ran, letters: ["m-1"] });
        });
    });
  });

  it("work skips a dead letter redriven after the Git host's redelivery of its delivery finished as a later generation, naming that generation", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-later-gen" });
    await accepted(h.dedupe, item);
    await h.dedupe.mark("api-build", "w-later-gen", 1, "dead");
    await h.dedupe.claim("api-build", "w-later-gen"); // the redelivery: generation 2
    await h.dedupe.mark("api-build", "w-later-gen", 2, "done");
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))])); // generation 1, redriven
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.ran).to.deep.equal([]);
    expect(h.logs.of("attempt")).to.have.length(1);
    expect(h.logs.of("attempt")[0]).to.deep.include({
      generation: 1,
      outcome: "already-done",
      doneAt: 2,
      detail: "the delivery's action already ran (its dedupe item reads done at generation 2)",
    });
    expect(h.dedupe.peek("api-build", "w-later-gen")).to.deep.equal({ state: "done", generation: 2 });
  });

  it("work skips a dead letter redriven while the Git host's redelivery of its delivery waits in the queue as a later generation, naming that generation, which runs the action once", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-later-queued" });
    await accepted(h.dedupe, item);
    await h.dedupe.mark("api-build", "w-later-queued", 1, "dead");
    const later = workItem({ deliveryId: "w-later-queued" });
    await accepted(h.dedupe, later); // the redelivery: generation 2, queued behind the redriven letter
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))])); // generation 1, redriven
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.ran).to.deep.equal([]);
    expect(h.logs.of("attempt")).to.have.length(1);
    expect(h.logs.of("attempt")[0]).to.deep.include({
      generation: 1,
      outcome: "superseded",
      supersededBy: 2,
      level: "info",
      detail:
        "generation 2 of this delivery is queued and runs the action; should it be in the dead-letter queue, redrive it",
    });
    expect(h.dedupe.peek("api-build", "w-later-queued")).to.deep.equal({ state: "queued", generation: 2 });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(later))])); // then generation 2
    expect(h.ran).to.deep.equal(["w-later-queued"]);
    expect(h.dedupe.peek("api-build", "w-later-queued")).to.deep.equal({ state: "done", generation: 2 });
  });

  for (const [state, why] of [
    ["pending", "its claim's enqueue may have failed"],
    ["dead", "it died without running the action"],
  ] as const) {
    it(`work runs a dead letter redriven while a later generation of its delivery is ${state} (${why})`, async () => {
      const h = harness(ok);
      const item = workItem({ deliveryId: `w-later-${state}` });
      await accepted(h.dedupe, item);
      await h.dedupe.mark("api-build", item.deliveryId, 1, "dead");
      await h.dedupe.claim("api-build", item.deliveryId); // generation 2, pending
      if (state === "dead") await h.dedupe.mark("api-build", item.deliveryId, 2, "dead");
      await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
      expect(h.ran).to.deep.equal([item.deliveryId]);
      expect(h.logs.of("attempt")[0]).to.deep.include({ generation: 1, outcome: "done" });
    });
  }

  it("work runs a delivery's action once when the dead letters of two of its generations are redriven, oldest first: the older one's done finishes the later dead generation, whose letter is skipped without being told that its generation ran, and a redelivery is a duplicate", async () => {
    const h = harness(ok);
    // Jenkins was down for hours: generation 1 died, and so did the Git host's redelivery (generation 2).
    const first = workItem({ deliveryId: "w-both-dead" });
    await accepted(h.dedupe, first);
    await h.dedupe.mark("api-build", "w-both-dead", 1, "dead");
    const second = workItem({ deliveryId: "w-both-dead" });
    await accepted(h.dedupe, second);
    await h.dedupe.mark("api-build", "w-both-dead", 2, "dead");
    // The DLQ redriven: SQS moves the older letter first.
    for (const item of [first, second]) await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    expect(h.ran).to.deep.equal(["w-both-dead"]);
    expect(h.logs.of("attempt").map((line) => [line.generation, line.outcome, line.detail])).to.deep.equal([
      [1, "done", "queued as https://jenkins/queue/item/1/"],
      [
        2,
        "already-done",
        "the delivery's action already ran, in this generation or an earlier one's redriven letter",
      ],
    ]);
    expect(h.dedupe.peek("api-build", "w-both-dead")).to.deep.equal({ state: "done", generation: 2 });
    expect(await h.dedupe.claim("api-build", "w-both-dead")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 2,
    });
  });

  it("work runs a dead letter whose delivery's later generation reads queued only in an item past its expiry (DynamoDB had not deleted it yet)", async () => {
    let now = 1_800_000_000_000;
    const dedupe = new MemoryDedupeStore({ now: () => now });
    const h = harness(ok, { dedupe });
    const item = workItem({ deliveryId: "w-later-expired" });
    await accepted(dedupe, item);
    await dedupe.mark("api-build", item.deliveryId, 1, "dead");
    await accepted(dedupe, workItem({ deliveryId: item.deliveryId })); // generation 2, queued
    now += (DEDUPE_TTL_SECONDS + 1) * 1000;
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    expect(h.ran).to.deep.equal([item.deliveryId]);
  });

  it("work skips a dead letter whose delivery a later generation finished in an item past its expiry (DynamoDB had not deleted it yet): a done stays true, and a dead letter outlives the item", async () => {
    let now = 1_800_000_000_000;
    const dedupe = new MemoryDedupeStore({ now: () => now });
    const h = harness(ok, { dedupe });
    const first = workItem({ deliveryId: "w-done-expired" });
    await accepted(dedupe, first);
    await dedupe.mark("api-build", first.deliveryId, 1, "dead"); // its letter is in the DLQ
    const second = workItem({ deliveryId: first.deliveryId });
    await accepted(dedupe, second); // the Git host's redelivery: generation 2, which runs the action
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(second))]));
    now += (DEDUPE_TTL_SECONDS + 1) * 1000;
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(first))])); // generation 1's letter, redriven
    expect(h.ran).to.deep.equal([first.deliveryId]);
    expect(h.logs.of("attempt").map((line) => [line.generation, line.outcome, line.detail])).to.deep.equal([
      [2, "done", "queued as https://jenkins/queue/item/1/"],
      [1, "already-done", "the delivery's action already ran (its dedupe item reads done at generation 2)"],
    ]);
  });

  it("work skips a dead letter redriven on the last day the DLQ keeps it and run on the last day the route's queue keeps it, after a later generation ran the action: the dedupe item outlives the letter, even in a store that drops an expired item (serve's file store, DynamoDB once its TTL deleted it)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-work-ttl-"));
    try {
      let now = 1_800_000_000_000;
      const dedupe = new FileDedupeStore(join(dir, "dedupe.jsonl"), () => now);
      const h = harness(ok, { dedupe });
      const first = workItem({ deliveryId: "w-dlq-last-day" });
      await accepted(dedupe, first);
      await dedupe.mark("api-build", first.deliveryId, 1, "dead"); // its letter goes to the DLQ now
      const second = workItem({ deliveryId: first.deliveryId });
      await accepted(dedupe, second); // the Git host's redelivery: generation 2, which runs the action
      await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(second))]));
      now += (DLQ_RETENTION_SECONDS - 1) * 1000; // the letter's last second in the DLQ: it is redriven
      // and waits behind its repository's group until its last second there (QUEUE_RETENTION_SECONDS, as long)
      now += (DLQ_RETENTION_SECONDS - 1) * 1000;
      await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(first))])); // generation 1's letter, redriven
      dedupe.close();
      expect(h.ran).to.deep.equal([first.deliveryId]);
      expect(h.logs.of("attempt")[1]).to.deep.include({ generation: 1, outcome: "already-done" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("work runs a record whose delivery is done only in an earlier generation (the item expired and the delivery was accepted anew)", async () => {
    const h = harness(ok);
    // The store gave out generation 2, then its item expired and was deleted; the delivery was accepted anew
    // (generation 1) and finished. This record, generation 2, was accepted too.
    await h.dedupe.claim("api-build", "w-earlier-gen");
    await h.dedupe.mark("api-build", "w-earlier-gen", 1, "done");
    const item = workItem({ deliveryId: "w-earlier-gen" });
    item.generation = 2;
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    expect(h.ran).to.deep.equal(["w-earlier-gen"]);
  });
});

describe("Function: createRouteHandler(deps).work (failures of its own dependencies, and what each attempt logs)", () => {
  it("work does not hold back later records that have no message group after one failed (a standard queue)", async () => {
    const h = harness(async (item) => {
      if (item.deliveryId === "s-1") throw new ActionError("Jenkins answered 502", { retryable: true });
      return { status: "done", detail: "ok" };
    });
    const records = ["s-1", "s-2"].map((id) =>
      sqsRecord(JSON.stringify(workItem({ deliveryId: id })), { id: `m-${id}` }),
    );
    const result = await h.handler.work(sqsEvent(records));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-s-1" }]);
    expect(h.ran).to.deep.equal(["s-1", "s-2"]);
  });

  it("work reports an unreadable message as a failure, to come back later, when parking it in the DLQ fails", async () => {
    const h = harness(ok);
    h.deadLetters.failuresLeft = 1;
    const result = await h.handler.work(sqsEvent([sqsRecord("{oops", { id: "m-raw", receiveCount: 2 })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-raw" }]);
    expect(h.logs.of("attempt")[0]).to.deep.include({
      outcome: "failed",
      level: "error",
      error:
        "unreadable work item: message body is not JSON; dead-lettering failed: SQS SendMessage to the dead-letter queue failed: ServiceUnavailable",
    });
  });

  it("work logs an unreadable message it parked as dead, at level error", async () => {
    const h = harness(ok);
    await h.handler.work(sqsEvent([sqsRecord("{oops", { id: "m-parked" })]));
    expect(h.logs.of("attempt")[0]).to.deep.include({
      messageId: "m-parked",
      outcome: "dead",
      level: "error",
      error: "unreadable work item: message body is not JSON",
    });
  });

  it("work leaves an unreadable message to the queue's redrive policy when the DLQ cannot take raw bodies", async () => {
    const h = harness(ok, { deadLetters: { send: async () => undefined } });
    const result = await h.handler.work(sqsEvent([sqsRecord("{oops", { id: "m-no-raw" })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-no-raw" }]);
    expect(h.logs.of("attempt")[0]).to.deep.include({
      outcome: "failed",
      error: "unreadable work item: message body is not JSON",
    });
  });

  it("work names the route a misrouted work item is for in its dead letter's reason", async () => {
    const h = harness(ok);
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify({ ...workItem(), route: "other" }))]));
    expect(h.deadLetters.raw[0]?.reason).to.equal('unreadable work item: work item is for route "other"');
  });

  it("work reports a record whose DLQ send fails as a failure, logged as failed with both errors", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 401", { retryable: false });
    });
    h.deadLetters.failuresLeft = 1;
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-dlq-log" })]),
    );
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-dlq-log" }]);
    expect(h.logs.of("attempt")[0]).to.deep.include({
      outcome: "failed",
      level: "error",
      error:
        "final: Jenkins answered 401; dead-lettering failed: SQS SendMessage to the dead-letter queue failed: ServiceUnavailable",
    });
  });

  it("work reports a record as failed, and backs it off, when the DLQ rejects with no error at all", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 401", { retryable: false });
    });
    h.deadLetters.send = () => Promise.reject(undefined);
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-undef" })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-undef" }]);
    expect(h.backoffs).to.deep.equal([{ messageId: "m-undef", delayMs: RETRY_BASE_DELAY_MS }]);
    expect(h.logs.of("attempt").at(-1)).to.deep.include({ outcome: "failed", level: "error" });
  });

  it("work logs each outcome at its level: done info, retry warn, dead error", async () => {
    const outcomes: Behaviour[] = [
      ok,
      async () => {
        throw new ActionError("Jenkins answered 503", { retryable: true });
      },
      async () => {
        throw new ActionError("Jenkins answered 404", { retryable: false });
      },
    ];
    const h = harness(async (item) => (outcomes.shift() as Behaviour)(item));
    for (let i = 0; i < 3; i++) await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(h.logs.of("attempt").map((l) => [l.outcome, l.level])).to.deep.equal([
      ["done", "info"],
      ["retry", "warn"],
      ["dead", "error"],
    ]);
    expect(h.logs.of("attempt")[2]).to.deep.include({ error: "final: Jenkins answered 404" });
  });

  it("work logs an event with an action as <event>.<action>", async () => {
    const h = harness(ok);
    const item = workItem();
    item.event.event = "pull_request";
    item.event.action = "closed";
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    expect(h.logs.of("attempt")[0]).to.deep.include({ event: "pull_request.closed" });
  });

  it("work retries a TransientDependencyError of the action with its own message, and an unexpected error as unexpected", async () => {
    const errors: unknown[] = [
      new TransientDependencyError("Secrets Manager unavailable"),
      new TypeError("boom"),
    ];
    const h = harness(async () => {
      throw errors.shift();
    });
    for (let i = 0; i < 2; i++) await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(h.logs.of("attempt").map((l) => [l.outcome, l.error])).to.deep.equal([
      ["retry", "Secrets Manager unavailable"],
      ["retry", "unexpected TypeError: boom"],
    ]);
    expect(h.deadLetters.items).to.deep.equal([]);
  });

  it(`work dead-letters a TransientDependencyError of the action on attempt ${MAX_ATTEMPTS}, saying it gave up`, async () => {
    const h = harness(async () => {
      throw new TransientDependencyError("Secrets Manager unavailable");
    });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { receiveCount: MAX_ATTEMPTS })]));
    expect(h.deadLetters.items[0]?.reason).to.equal(
      `gave up after ${MAX_ATTEMPTS} receives: Secrets Manager unavailable`,
    );
  });

  const counts: Array<[string, string | undefined, number]> = [
    ["missing", undefined, 1],
    ["0", "0", 1],
    ["not a number", "many", 1],
    ["4", "4", 4],
  ];
  for (const [label, count, attempt] of counts) {
    it(`work counts a record whose ApproximateReceiveCount is ${label} as attempt ${attempt}`, async () => {
      const h = harness(ok);
      const record = sqsRecord(JSON.stringify(workItem()));
      if (count === undefined) (record as { attributes?: unknown }).attributes = undefined;
      else record.attributes.ApproximateReceiveCount = count;
      await h.handler.work(sqsEvent([record]));
      expect(h.logs.of("attempt")[0]).to.deep.include({ attempt, outcome: "done" });
    });
  }

  it("work finishes a record when marking it done fails, and logs a warning", async () => {
    const h = harness(ok);
    h.dedupe.mark = async () => {
      throw new TransientDependencyError("DynamoDB dedupe mark failed: throttled");
    };
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem({ deliveryId: "w-m" })))]),
    );
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.logs.of("dedupe mark failed")[0]).to.deep.include({
      level: "warn",
      deliveryId: "w-m",
      state: "done",
      error: "DynamoDB dedupe mark failed: throttled",
    });
  });

  it(`work marks a delivery done a second time when the first done mark fails after its action succeeded on attempt ${MAX_ATTEMPTS} (it reads dead until then), and logs nothing`, async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-last-m" });
    await accepted(h.dedupe, item);
    const mark = h.dedupe.mark.bind(h.dedupe);
    let doneFailures = 1;
    h.dedupe.mark = async (route, id, generation, state) => {
      if (state === "done" && doneFailures-- > 0)
        throw new TransientDependencyError("DynamoDB dedupe mark failed: throttled");
      return mark(route, id, generation, state);
    };
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: MAX_ATTEMPTS })]));
    expect(h.dedupe.peek("api-build", "w-last-m")?.state).to.equal("done");
    expect(h.logs.of("dedupe mark failed")).to.deep.equal([]);
  });

  it(`work logs an error naming the delivery when it cannot mark done a delivery whose action succeeded on attempt ${MAX_ATTEMPTS}: it may read dead, and a redelivery of it may run the action again`, async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-last-dead" });
    await accepted(h.dedupe, item);
    const mark = h.dedupe.mark.bind(h.dedupe);
    const doneTries: string[] = [];
    h.dedupe.mark = async (route, id, generation, state) => {
      if (state !== "done") return mark(route, id, generation, state);
      doneTries.push(id);
      throw new TransientDependencyError("DynamoDB dedupe mark failed: throttled");
    };
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: MAX_ATTEMPTS })]),
    );
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(doneTries).to.deep.equal(["w-last-dead", "w-last-dead"]);
    expect(h.dedupe.peek("api-build", "w-last-dead")?.state).to.equal("dead");
    const failed = h.logs.of("dedupe mark failed");
    expect(failed).to.have.length(1);
    expect(failed[0]).to.deep.include({
      level: "error",
      deliveryId: "w-last-dead",
      state: "done",
      error: "DynamoDB dedupe mark failed: throttled",
    });
    expect(failed[0]?.detail).to.match(/may read dead.*redelivery.*may run the action again/);
  });

  it("work runs the action when the dedupe store cannot tell a delivery's state", async () => {
    const h = harness(ok, {
      dedupe: {
        claim: async () => ({ claimed: true, generation: 1 }),
        mark: async () => {},
        release: async () => {},
      },
    });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem({ deliveryId: "w-stateless" })))]));
    expect(h.ran).to.deep.equal(["w-stateless"]);
  });

  it("work without a backoff leaves a failed record to the visibility timeout, logging no backoff failure", async () => {
    const h = harness(unavailable, { backoff: undefined });
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-nb" })]));
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-nb" }]);
    expect(h.logs.of("backoff failed")).to.deep.equal([]);
  });

  it("work logs a failed backoff at level warn with its error", async () => {
    const h = harness(unavailable, {
      backoff: async () => {
        throw new Error("ChangeMessageVisibility failed");
      },
    });
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-bf" })]));
    expect(h.logs.of("backoff failed")[0]).to.deep.include({
      level: "warn",
      messageId: "m-bf",
      error: "ChangeMessageVisibility failed",
    });
  });

  it("work gives the action no limits at all without an invocation", async () => {
    const seen: unknown[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async (_item, limits) => {
        seen.push(limits);
        return { status: "done", detail: "" };
      },
      log: () => {},
    });
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(seen).to.deep.equal([undefined]);
  });

  it("work gives the action the message's receive count past the first receive, and no limits on the first", async () => {
    const seen: unknown[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async (_item, limits) => {
        seen.push(limits);
        throw new ActionError("Jenkins timed out", { retryable: true });
      },
      log: () => {},
    });
    for (const receiveCount of [1, 2, 3]) {
      await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { receiveCount })]));
    }
    expect(seen).to.deep.equal([
      undefined,
      { deadlineMs: undefined, lastAttempt: false, attempt: 2 },
      { deadlineMs: undefined, lastAttempt: false, attempt: 3 },
    ]);
  });

  it("work gives an action the receive count as its attempt on its first run after a receive that held it back behind a failed record of its group (README: the first receive never looks)", async () => {
    const seen: Array<[string, number | undefined]> = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async (item, limits) => {
        seen.push([item.deliveryId, limits?.attempt]);
        if (item.deliveryId === "a" && seen.length === 1) {
          throw new ActionError("Jenkins answered 502", { retryable: true });
        }
        return { status: "done", detail: "queued" };
      },
      log: () => {},
      backoff: async () => {},
    });
    const a = JSON.stringify(workItem({ deliveryId: "a" }));
    const b = JSON.stringify(workItem({ deliveryId: "b" }));
    // Receive 1: a fails, and b, behind it in its group, is held back without running.
    await handler.work(
      sqsEvent([
        sqsRecord(a, { group: "acme/api", id: "m-a" }),
        sqsRecord(b, { group: "acme/api", id: "m-b" }),
      ]),
    );
    await handler.work(
      sqsEvent([
        sqsRecord(a, { group: "acme/api", id: "m-a", receiveCount: 2 }),
        sqsRecord(b, { group: "acme/api", id: "m-b", receiveCount: 2 }),
      ]),
    );
    expect(seen).to.deep.equal([
      ["a", undefined],
      ["a", 2],
      ["b", 2],
    ]);
  });

  describe("work tells the action on a first receive whether an earlier attempt may have run it (mayHaveRun)", () => {
    async function seenOnFirstReceive(
      item: WorkItem,
      options: { recorded?: "queued" | "dead"; attributes?: SQSRecord["messageAttributes"] } = {},
    ) {
      const seen: Array<{ mayHaveRun?: boolean; attempt?: number } | undefined> = [];
      const dedupe = new MemoryDedupeStore();
      if (options.recorded !== undefined) {
        let claim = await dedupe.claim(item.route, item.deliveryId);
        while ((claim.generation as number) < item.generation) {
          await dedupe.mark(item.route, item.deliveryId, claim.generation as number, "dead");
          claim = await dedupe.claim(item.route, item.deliveryId);
        }
        await dedupe.mark(item.route, item.deliveryId, item.generation, "queued");
        if (options.recorded === "dead")
          await dedupe.mark(item.route, item.deliveryId, item.generation, "dead");
      }
      const handler = createRouteHandler({
        route: jenkinsRoute(),
        secrets: new MemorySecretStore(),
        queue: new RecordingQueue(),
        deadLetters: new RecordingDeadLetters(),
        dedupe,
        runAction: async (_item, limits) => {
          seen.push(limits);
          return { status: "done", detail: "queued" };
        },
        log: () => {},
        backoff: async () => {},
      });
      const record = sqsRecord(JSON.stringify(item), { group: "acme/api" });
      if (options.attributes) record.messageAttributes = options.attributes;
      await handler.work(sqsEvent([record]));
      expect(seen).to.have.length(1);
      return seen[0];
    }

    it("not on a delivery's first receive of its first generation, queued", async () => {
      expect(await seenOnFirstReceive(workItem(), { recorded: "queued" })).to.equal(undefined);
    });

    it("yes on a redriven dead letter: the delivery reads dead (its last attempt marked it before its action)", async () => {
      expect(await seenOnFirstReceive(workItem(), { recorded: "dead" })).to.deep.include({
        mayHaveRun: true,
      });
    });

    it("yes on the function's own dead letter redriven, by its reason attribute, though the dedupe store cannot say", async () => {
      const seen = await seenOnFirstReceive(workItem(), {
        attributes: {
          "hookgate-reason": {
            stringValue: "gave up after 5 receives: Jenkins answered 504",
            dataType: "String",
          },
        } as SQSRecord["messageAttributes"],
      });
      expect(seen).to.deep.include({ mayHaveRun: true });
    });

    it("yes on the Git host's redelivery of a delivery that died (its second generation)", async () => {
      expect(await seenOnFirstReceive(workItem({ generation: 2 }), { recorded: "queued" })).to.deep.include({
        mayHaveRun: true,
      });
    });
  });

  it("work logs a deferred record with why it was deferred", async () => {
    const h = harness(async (item) => {
      if (item.deliveryId === "f-1") throw new ActionError("Jenkins answered 502", { retryable: true });
      return { status: "done", detail: "ok" };
    });
    const records = ["f-1", "f-2"].map((id) =>
      sqsRecord(JSON.stringify(workItem({ deliveryId: id })), { id: `m-${id}`, group: "acme/api" }),
    );
    await h.handler.work(sqsEvent(records));
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-late" })]), {
      remainingMs: () => WORK_RESERVE_MS + MIN_ACTION_MS - 1,
    });
    expect(
      h.logs
        .of("attempt")
        .filter((l) => l.outcome === "deferred")
        .map((l) => l.detail),
    ).to.deep.equal([
      "an earlier message of the same group failed",
      "too little of the invocation's time left to start it",
    ]);
  });

  const groupFailures: Array<[string, (h: ReturnType<typeof harness>) => void, string]> = [
    [
      "its DLQ send failed",
      (h) => {
        h.deadLetters.failuresLeft = 1;
      },
      JSON.stringify(workItem({ deliveryId: "x-final" })),
    ],
    [
      "it was unreadable and parking it failed",
      (h) => {
        h.deadLetters.failuresLeft = 1;
      },
      "{oops",
    ],
    [
      "it was unreadable and the DLQ takes no raw bodies",
      (h) => {
        (h.deadLetters as { sendRaw?: unknown }).sendRaw = undefined;
      },
      "{oops",
    ],
    [
      "its DLQ send rejected with nothing",
      (h) => {
        h.deadLetters.send = () => Promise.reject(undefined);
      },
      JSON.stringify(workItem({ deliveryId: "x-final" })),
    ],
  ];
  for (const [label, breakIt, body] of groupFailures) {
    it(`work holds back the later records of a group whose record failed because ${label}, as long as that record`, async () => {
      const h = harness(async (item) => {
        if (item.deliveryId === "x-final")
          throw new ActionError("Jenkins answered 404", { retryable: false });
        return { status: "done", detail: "ok" };
      });
      breakIt(h);
      const records = [
        sqsRecord(body, { id: "m-x-1", group: "acme/api" }),
        sqsRecord(JSON.stringify(workItem({ deliveryId: "x-2" })), { id: "m-x-2", group: "acme/api" }),
      ];
      const result = await h.handler.work(sqsEvent(records));
      expect(result.batchItemFailures.map((f) => f.itemIdentifier)).to.deep.equal(["m-x-1", "m-x-2"]);
      expect(h.ran).not.to.include("x-2");
      expect(h.backoffs.find((b) => b.messageId === "m-x-2")).to.deep.equal({
        messageId: "m-x-2",
        delayMs: RETRY_BASE_DELAY_MS,
      });
    });
  }

  it("work logs what went wrong when a record's processing throws unexpectedly", async () => {
    const h = harness(async () => {
      throw new ActionError("Jenkins answered 401", { retryable: false });
    });
    h.deadLetters.send = () => Promise.reject(undefined);
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-unexpected" })]));
    expect(String(h.logs.of("attempt").at(-1)?.error)).to.match(/^TypeError: /);
  });

  it("work finishes a record whose done mark rejects with nothing at all", async () => {
    const h = harness(ok);
    h.dedupe.mark = () => Promise.reject(undefined);
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-mark-undef" })]),
    );
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(h.logs.of("dedupe mark failed")[0]).to.deep.include({ error: "undefined" });
  });

  it("work still answers with its batch when the backoff rejects with nothing at all", async () => {
    const h = harness(unavailable, { backoff: () => Promise.reject(undefined) });
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-bo-undef" })]),
    );
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-bo-undef" }]);
  });

  it("work hands the log sink no undefined field", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "ok" }),
      log: (line) => lines.push(line),
    });
    const item = workItem();
    delete item.event.ref;
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    expect(
      lines.flatMap((line) => Object.entries(line)).filter(([, value]) => value === undefined),
    ).to.deep.equal([]);
  });

  it("work logs an already finished record with why it was skipped: its delivery's action already ran, in its generation or an earlier one's redriven letter", async () => {
    const h = harness(ok);
    const item = workItem({ deliveryId: "w-skip" });
    await accepted(h.dedupe, item);
    await h.dedupe.mark("api-build", "w-skip", 1, "done");
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    expect(h.logs.of("attempt")[0]).to.deep.include({
      outcome: "already-done",
      level: "info",
      detail: "the delivery's action already ran, in this generation or an earlier one's redriven letter",
    });
  });
});

describe("Function: createRouteHandler(deps): a redriven dead letter and a redelivery whose generation is still pending, on the three dedupe stores", () => {
  const DYNAMO_TABLE = "hookgate-dedupe-redrive";
  let ddb: LocalDynamo;
  let dir: string;
  const fileStores: FileDedupeStore[] = [];
  before(async () => {
    ddb = await startLocalDynamo(DYNAMO_TABLE);
    dir = mkdtempSync(join(tmpdir(), "hookgate-redrive-pending-"));
  });
  after(async () => {
    for (const store of fileStores) store.close();
    await ddb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A queue whose send, when held, records the item (it reached SQS) and answers only once opened. */
  class GatedQueue implements WorkQueue {
    readonly sent: WorkItem[] = [];
    /** The next send reaches the queue, but its answer is lost: it throws. */
    loseNextAnswer = false;
    reached: Promise<void> = Promise.resolve();
    private gate: Promise<void> | undefined;
    private openGate: () => void = () => undefined;
    private signalReached: () => void = () => undefined;
    hold(): void {
      this.gate = new Promise((resolve) => {
        this.openGate = resolve;
      });
      this.reached = new Promise((resolve) => {
        this.signalReached = resolve;
      });
    }
    open(): void {
      this.openGate();
      this.gate = undefined;
    }
    async send(item: WorkItem): Promise<void> {
      this.sent.push(structuredClone(item));
      this.signalReached();
      if (this.gate) await this.gate;
      if (this.loseNextAnswer) {
        this.loseNextAnswer = false;
        throw new Error("SQS SendMessage to the work queue failed: socket hang up");
      }
    }
  }

  /** A route handler whose action fails for good once (dead-lettered), then succeeds, counting its runs. */
  function redriveHarness(store: DedupeStore) {
    const queue = new GatedQueue();
    const deadLetters = new RecordingDeadLetters();
    let failQueuedMark = false;
    const dedupe: DedupeStore = {
      claim: (route, id) => store.claim(route, id),
      release: (route, id, generation) => store.release(route, id, generation),
      state: (route, id) => store.state?.(route, id) ?? Promise.resolve(undefined),
      async mark(route, id, generation, state, limits) {
        if (state === "queued" && failQueuedMark) {
          failQueuedMark = false;
          throw new TransientDependencyError(
            "DynamoDB dedupe mark failed: ProvisionedThroughputExceededException",
          );
        }
        return store.mark(route, id, generation, state, limits);
      },
    };
    /** The generation of each run: [1, 1] is generation 1's failure, then its redriven letter's success. */
    const runs: number[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue,
      deadLetters,
      dedupe,
      log: new LogCollector().log,
      runAction: async (item) => {
        runs.push(item.generation);
        if (runs.length === 1)
          throw new ActionError("Jenkins job api/build answered 404", { retryable: false });
        return { status: "done", detail: "built" };
      },
    });
    const receive = async (id: string) =>
      parseAnswer(await handler.receive(githubDelivery({ deliveryId: id })));
    const work = async (item: WorkItem) => {
      const report = await handler.workRecords(
        sqsEvent([sqsRecord(JSON.stringify(item), { group: "acme/api" })]),
      );
      return report.records[0]?.outcome;
    };
    /** Generation 1 accepted, run, died: its letter is in the DLQ, the delivery marked dead. */
    const firstDied = async (id: string): Promise<WorkItem> => {
      expect((await receive(id)).statusCode).to.equal(202);
      await work(queue.sent[0] as WorkItem);
      expect(await store.state?.("api-build", id)).to.deep.equal({ state: "dead", generation: 1 });
      return (deadLetters.items[0] as { item: WorkItem }).item;
    };
    return {
      queue,
      receive,
      work,
      firstDied,
      runs,
      failNextQueuedMark: () => {
        failQueuedMark = true;
      },
    };
  }

  const stores: Array<[string, () => DedupeStore]> = [
    ["DynamoDedupeStore (dynalite)", () => new DynamoDedupeStore(ddb.client, DYNAMO_TABLE)],
    ["MemoryDedupeStore", () => new MemoryDedupeStore()],
    [
      "FileDedupeStore",
      () => {
        const store = new FileDedupeStore(join(dir, `dedupe-${fileStores.length + 1}.jsonl`));
        fileStores.push(store);
        return store;
      },
    ],
  ];
  for (const [name, makeStore] of stores) {
    const tag = name.replace(/[^A-Za-z]/g, "");

    it(`the action runs once when the redriven letter runs while the redelivery's send is in flight: its done lands on generation 2, whose queued mark changes nothing, whose message is already-done, and a later redelivery is a duplicate (${name})`, async () => {
      const store = makeStore();
      const h = redriveHarness(store);
      const id = `${tag}-in-flight`;
      const letter = await h.firstDied(id);
      // The user fixed the job, redrove the DLQ and clicked Redeliver in GitHub the same minute.
      h.queue.hold();
      const redelivery = h.receive(id);
      await h.queue.reached; // generation 2 claimed, its message in the queue, the send's answer not back
      expect(await h.work(letter)).to.equal("done");
      expect(await store.state?.("api-build", id)).to.deep.equal({ state: "done", generation: 2 });
      h.queue.open();
      expect((await redelivery).statusCode).to.equal(202);
      expect(await store.state?.("api-build", id)).to.deep.equal({ state: "done", generation: 2 });
      const second = h.queue.sent[1] as WorkItem;
      expect(second.generation).to.equal(2);
      expect(await h.work(second)).to.equal("already-done");
      const again = await h.receive(id);
      expect([again.statusCode, again.body.status]).to.deep.equal([200, "duplicate"]);
      expect(h.runs).to.deep.equal([1, 1]);
    });

    it(`the action runs once when the redelivery's queued mark failed (generation 2 left pending, answered 202) and the redriven letter runs first: generation 2's message is already-done (${name})`, async () => {
      const store = makeStore();
      const h = redriveHarness(store);
      const id = `${tag}-mark-failed`;
      const letter = await h.firstDied(id);
      h.failNextQueuedMark();
      expect((await h.receive(id)).statusCode).to.equal(202);
      expect(await store.state?.("api-build", id)).to.deep.equal({ state: "pending", generation: 2 });
      // The letter is ahead of generation 2's message in the repository's message group.
      expect(await h.work(letter)).to.equal("done");
      expect(await h.work(h.queue.sent[1] as WorkItem)).to.equal("already-done");
      const again = await h.receive(id);
      expect([again.statusCode, again.body.status]).to.deep.equal([200, "duplicate"]);
      expect(h.runs).to.deep.equal([1, 1]);
    });

    it(`a redelivery after the redriven letter ran over generation 2 whose send failed (503, its claim released) is answered 200 duplicate, and that send's message, had it reached the queue, is already-done (${name})`, async () => {
      const store = makeStore();
      const h = redriveHarness(store);
      const id = `${tag}-released`;
      const letter = await h.firstDied(id);
      // The first Redeliver meets a lost SendMessage answer: 503, generation 2's claim released.
      h.queue.loseNextAnswer = true;
      expect((await h.receive(id)).statusCode).to.equal(503);
      expect(await h.work(letter)).to.equal("done");
      expect(await store.state?.("api-build", id)).to.deep.equal({ state: "done", generation: 2 });
      // GitHub still shows the 503: the user clicks Redeliver again.
      const again = await h.receive(id);
      expect([again.statusCode, again.body.status]).to.deep.equal([200, "duplicate"]);
      expect(h.queue.sent.map((item) => item.generation)).to.deep.equal([1, 2]);
      expect(await h.work(h.queue.sent[1] as WorkItem)).to.equal("already-done");
      expect(h.runs).to.deep.equal([1, 1]);
    });

    it(`a redelivery whose send fails after the redriven letter ran over its generation is answered 503, its release changes nothing, and the next redelivery is answered 200 duplicate (${name})`, async () => {
      const store = makeStore();
      const h = redriveHarness(store);
      const id = `${tag}-release-after`;
      const letter = await h.firstDied(id);
      h.queue.hold();
      h.queue.loseNextAnswer = true;
      const redelivery = h.receive(id);
      await h.queue.reached;
      expect(await h.work(letter)).to.equal("done");
      h.queue.open();
      expect((await redelivery).statusCode).to.equal(503);
      expect(await store.state?.("api-build", id)).to.deep.equal({ state: "done", generation: 2 });
      const again = await h.receive(id);
      expect([again.statusCode, again.body.status]).to.deep.equal([200, "duplicate"]);
      expect(await h.work(h.queue.sent[1] as WorkItem)).to.equal("already-done");
      expect(h.runs).to.deep.equal([1, 1]);
    });
  }
});

describe("Function: createRouteHandler(deps).work (the hold on a record before its action: deployed, the queue's visibility)", () => {
  /** A hold that records its calls (and the action's start) in `calls`, failing with `failure` when given. */
  function holding(calls: string[], failure?: Error) {
    const holds: Array<{ messageId: string; holdMs: number; limits?: CallLimits }> = [];
    const holdRecord = async (record: SQSRecord, holdMs: number, limits?: CallLimits) => {
      calls.push("hold");
      holds.push({ messageId: record.messageId, holdMs, ...(limits ? { limits } : {}) });
      if (failure) throw failure;
    };
    return { holds, holdRecord };
  }
  const running = (calls: string[], behaviour: Behaviour = ok): Behaviour => {
    return async (item) => {
      calls.push("action");
      return behaviour(item);
    };
  };

  it("work holds the record for the invocation's time left and HOLD_MARGIN_MS before its action, by the action's deadline", async () => {
    const calls: string[] = [];
    const { holds, holdRecord } = holding(calls);
    const h = harness(running(calls), { holdRecord });
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-1" })]), {
      remainingMs: () => 120_000,
    });
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(calls).to.deep.equal(["hold", "action"]);
    expect(HOLD_MARGIN_MS).to.be.above(0);
    expect(holds).to.have.length(1);
    expect(holds[0]?.messageId).to.equal("m-1");
    expect(holds[0]?.holdMs).to.equal(120_000 + HOLD_MARGIN_MS);
    // Cut where the action's calls are: it ends before the function is stopped, as the backoff does.
    expect(holds[0]?.limits?.deadlineMs).to.equal(h.deadlines[0]);
    expect(h.backoffs).to.deep.equal([]);
  });

  it("work reports a record the queue gave out again (the hold's MessageReceivedAgainError) failed, without running its action, backing it off or marking it dead before the queue's last receive (a later receive runs it)", async () => {
    const calls: string[] = [];
    const { holdRecord } = holding(
      calls,
      new MessageReceivedAgainError("SQS ChangeMessageVisibility failed: ReceiptHandleIsInvalid: stale"),
    );
    const h = harness(running(calls), { holdRecord });
    const item = workItem({ deliveryId: "again" });
    await accepted(h.dedupe, item);
    const result = await h.handler.work(
      sqsEvent([
        sqsRecord(JSON.stringify(item), { id: "m-1", receiveCount: MAX_ATTEMPTS, group: "acme/api" }),
      ]),
      { remainingMs: () => 120_000 },
    );
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
    expect(calls).to.deep.equal(["hold"]);
    expect(h.backoffs).to.deep.equal([]);
    expect(h.deadLetters.items).to.deep.equal([]);
    expect((await h.dedupe.state(item.route, item.deliveryId))?.state).to.equal("queued");
    const attempt = h.logs.of("attempt")[0];
    expect(attempt).to.deep.include({
      level: "warn",
      outcome: "deferred",
      deliveryId: "again",
      error: "SQS ChangeMessageVisibility failed: ReceiptHandleIsInvalid: stale",
    });
  });

  // No receive follows maxReceiveCount's: the queue parks the message with no reason, and a "queued" mark would
  // answer the Git host's redelivery "duplicate" (review h378).
  it("work marks dead, without running it, a record the queue gave out again on the queue's last receive (maxReceiveCount)", async () => {
    const calls: string[] = [];
    const { holdRecord } = holding(
      calls,
      new MessageReceivedAgainError(
        "SQS ChangeMessageVisibility failed: InvalidParameterValue: Value rh-m-1 for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
      ),
    );
    const h = harness(running(calls), { holdRecord });
    const item = workItem({ deliveryId: "last-receive" });
    await accepted(h.dedupe, item);
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-1", receiveCount: MAX_RECEIVE_COUNT })]),
      { remainingMs: () => 120_000 },
    );
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
    expect(calls).to.deep.equal(["hold"]);
    expect((await h.dedupe.state(item.route, item.deliveryId))?.state).to.equal("dead");
  });

  // At the shortest function timeout a slow dedupe read and a slow hold can leave less than MIN_ACTION_MS, which
  // was checked only before them (review h378).
  it("work defers at once, without running it, a record whose dedupe read and hold left less than MIN_ACTION_MS of the invocation", async () => {
    const realNow = Date.now;
    let skew = 0;
    Date.now = () => realNow() + skew;
    try {
      const calls: string[] = [];
      const dedupe = new MemoryDedupeStore();
      const state = dedupe.state.bind(dedupe);
      dedupe.state = async (route: string, deliveryId: string) => {
        skew += 6_000;
        return state(route, deliveryId);
      };
      const backoffs: number[] = [];
      const handler = createRouteHandler({
        route: jenkinsRoute(),
        secrets: new MemorySecretStore(),
        queue: new RecordingQueue(),
        deadLetters: new RecordingDeadLetters(),
        dedupe,
        log: new LogCollector().log,
        backoff: async (_record: SQSRecord, delayMs: number) => void backoffs.push(delayMs),
        holdRecord: async () => {
          calls.push("hold");
          skew += 9_500;
        },
        runAction: running(calls),
      });
      const item = workItem({ deliveryId: "slow-hold" });
      await accepted(dedupe, item);
      const startedAt = Date.now();
      const result = await handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-1" })]), {
        remainingMs: () => 30_000 - (Date.now() - startedAt),
      });
      expect(calls).to.deep.equal(["hold"]);
      expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
      // Back at once: the hold's visibility is undone.
      expect(backoffs).to.deep.equal([0]);
    } finally {
      Date.now = realNow;
    }
  });

  // Put back unrun on the queue's last receive, a record is parked by the queue with no reason; its "queued" mark
  // would answer the redelivery "duplicate" (review h382).
  it("work marks dead a record it puts back for want of time on the queue's last receive, after the hold or before it starts (the batch's out-of-time deferral)", async () => {
    const realNow = Date.now;
    let skew = 0;
    Date.now = () => realNow() + skew;
    try {
      const calls: string[] = [];
      const h = harness(running(calls), {
        holdRecord: async () => {
          skew += 15_500;
        },
      });
      const held = workItem({ deliveryId: "slow-hold-last" });
      await accepted(h.dedupe, held);
      const startedAt = Date.now();
      await h.handler.work(
        sqsEvent([sqsRecord(JSON.stringify(held), { id: "m-1", receiveCount: MAX_RECEIVE_COUNT })]),
        { remainingMs: () => 30_000 - (Date.now() - startedAt) },
      );
      const late = workItem({ deliveryId: "late-in-batch" });
      await accepted(h.dedupe, late);
      await h.handler.work(
        sqsEvent([sqsRecord(JSON.stringify(late), { id: "m-2", receiveCount: MAX_RECEIVE_COUNT })]),
        { remainingMs: () => 12_000 },
      );
      expect(calls).to.deep.equal([]);
      expect((await h.dedupe.state(held.route, held.deliveryId))?.state).to.equal("dead");
      expect((await h.dedupe.state(late.route, late.deliveryId))?.state).to.equal("dead");
      // Before the last receive, the next receive marks it: nothing is marked here.
      const early = workItem({ deliveryId: "late-early" });
      await accepted(h.dedupe, early);
      await h.handler.work(
        sqsEvent([sqsRecord(JSON.stringify(early), { id: "m-3", receiveCount: MAX_RECEIVE_COUNT - 1 })]),
        { remainingMs: () => 12_000 },
      );
      expect((await h.dedupe.state(early.route, early.deliveryId))?.state).to.equal("queued");
    } finally {
      Date.now = realNow;
    }
  });

  it("work runs the action all the same when the hold fails otherwise (SQS throttled), and logs a warning", async () => {
    const calls: string[] = [];
    const { holdRecord } = holding(
      calls,
      new TransientDependencyError("SQS ChangeMessageVisibility failed: RequestThrottled: slow down"),
    );
    const h = harness(running(calls), { holdRecord });
    const result = await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-1" })]), {
      remainingMs: () => 120_000,
    });
    expect(result.batchItemFailures).to.deep.equal([]);
    expect(calls).to.deep.equal(["hold", "action"]);
    expect(h.logs.of("attempt")[0]).to.deep.include({ outcome: "done" });
    expect(h.logs.of("visibility hold failed")[0]).to.deep.include({
      level: "warn",
      messageId: "m-1",
      error: "SQS ChangeMessageVisibility failed: RequestThrottled: slow down",
    });
  });

  it("work changes no visibility before the action without a holdRecord (hookgate serve) or without an invocation to time it by", async () => {
    const calls: string[] = [];
    const serve = harness(running(calls), { awaitStoresToTheEnd: true });
    await serve.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-1" })]), {
      remainingMs: () => 120_000,
    });
    expect(serve.backoffs).to.deep.equal([]);
    expect(serve.logs.of("attempt")[0]).to.deep.include({ outcome: "done" });
    const { holds, holdRecord } = holding(calls);
    const untimed = harness(running(calls), { holdRecord });
    await untimed.handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-2" })]));
    expect(holds).to.deep.equal([]);
    expect(calls).to.deep.equal(["action", "action"]);
  });
});

describe("Function: createRouteHandler(deps).work, the attempt line's deadLettered flag (the dead-lettered alarm)", () => {
  // The redrive policy parks a record put back on the queue's last receive with no word from us: only this
  // flag on its attempt line tells the dead-lettered alarm.
  type PutBack = "failed" | "deferred" | "done";
  const cases: Array<[PutBack, number, boolean]> = [
    ["failed", MAX_RECEIVE_COUNT, true],
    ["failed", MAX_RECEIVE_COUNT - 1, false],
    ["deferred", MAX_RECEIVE_COUNT, true],
    ["deferred", MAX_RECEIVE_COUNT - 1, false],
    ["done", MAX_RECEIVE_COUNT, false],
  ];
  for (const [outcome, receiveCount, flagged] of cases) {
    it(`work's attempt line for a record ${outcome} on receive ${receiveCount} (maxReceiveCount ${MAX_RECEIVE_COUNT}) ${flagged ? "carries" : "does not carry"} ${DEAD_LETTERED_FIELD}: true`, async () => {
      const item = workItem({ deliveryId: `flag-${outcome}-${receiveCount}` });
      // failed: an unreadable body with no raw dead-letter channel; deferred: the queue gave the message out again.
      const deadLetters = new RecordingDeadLetters();
      const deps: Partial<RouteHandlerDeps> =
        outcome === "failed"
          ? { deadLetters: Object.assign(deadLetters, { sendRaw: undefined }) }
          : outcome === "deferred"
            ? {
                holdRecord: async () => {
                  throw new MessageReceivedAgainError("SQS ChangeMessageVisibility failed: stale");
                },
              }
            : {};
      const h = harness(ok, deps);
      await accepted(h.dedupe, item);
      const body = outcome === "failed" ? "{oops" : JSON.stringify(item);
      await h.handler.work(sqsEvent([sqsRecord(body, { id: "m-1", receiveCount })]), {
        remainingMs: () => 120_000,
      });
      const [attempt] = h.logs.of("attempt");
      expect(attempt?.outcome).to.equal(outcome);
      if (flagged) expect(attempt).to.have.property(DEAD_LETTERED_FIELD, true);
      else expect(attempt).to.not.have.property(DEAD_LETTERED_FIELD);
    });
  }
});

describe("Function: createRouteHandler(deps).work, a deferred record of another route on the queue's last receive", () => {
  it("work marks nothing dead in its own route for a record of another route deferred on the queue's last receive, even with the same deliveryId", async () => {
    const h = harness(ok);
    const own = workItem({ deliveryId: "shared-id" });
    await accepted(h.dedupe, own);
    const foreign = workItem({ deliveryId: "shared-id", route: "other-route" });
    // Too little of the invocation left to start anything: the record is deferred, not run.
    const result = await h.handler.work(
      sqsEvent([sqsRecord(JSON.stringify(foreign), { id: "m-1", receiveCount: MAX_RECEIVE_COUNT })]),
      { remainingMs: () => 1_000 },
    );
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-1" }]);
    expect(h.ran).to.deep.equal([]);
    expect(h.logs.of("attempt")[0]?.outcome).to.equal("deferred");
    expect(h.dedupe.peek("api-build", "shared-id")).to.deep.equal({ state: "queued", generation: 1 });
  });
});

describe("Function: createRouteHandler(deps).work, what it hands its dependencies", () => {
  it("work dead-letters an unreadable body raw with the record's messageId (the letter names the message it came from)", async () => {
    const letters: Array<{ body: string; reason: string; messageId?: string }> = [];
    const deadLetters = Object.assign(new RecordingDeadLetters(), {
      sendRaw: async (body: string, reason: string, messageId?: string) =>
        void letters.push({ body, reason, ...(messageId === undefined ? {} : { messageId }) }),
    });
    const h = harness(ok, { deadLetters });
    await h.handler.work(sqsEvent([sqsRecord("{oops", { id: "m-raw" })]));
    expect(letters).to.deep.equal([
      { body: "{oops", reason: "unreadable work item: message body is not JSON", messageId: "m-raw" },
    ]);
  });

  it("work tells the action it runs on its last attempt even on a first receive with no invocation deadline (maxAttempts 1)", async () => {
    const limitsSeen: unknown[] = [];
    const h = harness(ok, {
      maxAttempts: 1,
      runAction: async (_item, limits) => {
        limitsSeen.push(limits);
        return { status: "done", detail: "ran" };
      },
    });
    const item = workItem({ deliveryId: "last-no-deadline" });
    await accepted(h.dedupe, item);
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { id: "m-1", receiveCount: 1 })]));
    expect(limitsSeen).to.have.length(1);
    expect(limitsSeen[0]).to.deep.include({ lastAttempt: true });
  });
});
