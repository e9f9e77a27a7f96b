// The receive path after its deadline's 503: deployed, the claim and the send are given that deadline, and a claim
// that lands after it anyway queues nothing (its instance may have been frozen and thawed since: the Git host's
// redelivery may have run the delivery meanwhile).
import { expect } from "chai";
import { ActionError, TransientDependencyError } from "../../src/core/errors";
import type { CallLimits, ClaimResult } from "../../src/core/ports";
import type { WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { workItemJson } from "../../src/gateway/workItem";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  parseAnswer,
  RecordingDeadLetters,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
} from "./support";

/** A store whose first claim lands only when `land` is called (after the 503), whatever its limits say. */
class FirstClaimLate extends MemoryDedupeStore {
  land: () => void = () => {};
  claimLimits: Array<CallLimits | undefined> = [];
  private first = true;
  override claim(
    route: string,
    deliveryId: string,
    limits?: CallLimits,
    token?: string,
  ): Promise<ClaimResult> {
    this.claimLimits.push(limits);
    if (!this.first) return super.claim(route, deliveryId, undefined, token);
    this.first = false;
    return new Promise((resolve) => {
      this.land = () => resolve(super.claim(route, deliveryId, undefined, token));
    });
  }
}

const settled = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

function handlerWith(
  dedupe: MemoryDedupeStore,
  queue: { send(item: WorkItem, limits?: CallLimits): Promise<void> },
  serve = false,
) {
  return createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
    queue,
    deadLetters: new RecordingDeadLetters(),
    dedupe,
    runAction: async () => {
      throw new ActionError("Jenkins job api/build answered 404", { retryable: false });
    },
    log: () => {},
    receiveTimeoutMs: 20,
    maxAttempts: 1,
    ...(serve ? { awaitStoresToTheEnd: true } : {}),
  });
}

describe("Function: createRouteHandler receive, after its deadline's 503", () => {
  it("a dedupe claim that lands after the 503 queues nothing and is released: a delivery its redelivery ran to dead meanwhile is not queued again as generation 2", async () => {
    const dedupe = new FirstClaimLate();
    const sent: WorkItem[] = [];
    const handler = handlerWith(dedupe, { send: async (item) => void sent.push(item) });
    const first = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-stale" })));
    expect(first.statusCode).to.equal(503);
    // The Git host's redelivery is accepted as generation 1 and its only attempt ends dead.
    expect(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-stale" }))).statusCode).to.equal(
      202,
    );
    await handler.work(sqsEvent([sqsRecord(workItemJson(sent[0] as WorkItem))]));
    expect(dedupe.peek("api-build", "d-stale")).to.deep.equal({ state: "dead", generation: 1 });
    // The first request's claim lands now (deployed: an SDK retry of a thawed instance) and claims generation 2.
    dedupe.land();
    await settled();
    expect(sent.map((item) => item.generation)).to.deep.equal([1]);
    // Released: the host's next redelivery takes it over at once, as that generation.
    expect(dedupe.entries.get("api-build#d-stale")?.updatedAt).to.equal(0);
  });

  it("gives the dedupe claim and the queue send the 503's deadline as CallLimits, so the SDK starts no try after the 503", async () => {
    const dedupe = new FirstClaimLate();
    const first = parseAnswer(await handlerWith(dedupe, { send: async () => {} }).receive(githubDelivery()));
    expect(first.statusCode).to.equal(503);
    const claimDeadline = dedupe.claimLimits[0]?.deadlineMs;
    expect(claimDeadline, "the claim's deadline").to.be.a("number");
    expect(claimDeadline as number).to.be.at.most(Date.now());

    const sendLimits: Array<CallLimits | undefined> = [];
    const hanging = {
      send: (_item: WorkItem, limits?: CallLimits) => new Promise<void>(() => void sendLimits.push(limits)),
    };
    const answer = parseAnswer(await handlerWith(new MemoryDedupeStore(), hanging).receive(githubDelivery()));
    expect(answer.statusCode).to.equal(503);
    expect(sendLimits[0]?.deadlineMs, "the send's deadline").to.be.a("number");
    expect(sendLimits[0]?.deadlineMs as number).to.be.at.most(Date.now());
  });

  it("gives serve's local stores no deadline (awaited to the end), and goes on to queue a claim that lands after the 503, as before", async () => {
    const dedupe = new FirstClaimLate();
    const sendLimits: Array<CallLimits | undefined> = [];
    const sent: WorkItem[] = [];
    const handler = handlerWith(
      dedupe,
      {
        send: async (item, limits) => {
          sendLimits.push(limits);
          sent.push(item);
        },
      },
      true,
    );
    expect(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-serve" }))).statusCode).to.equal(
      503,
    );
    dedupe.land();
    await settled();
    expect(dedupe.claimLimits).to.deep.equal([undefined]);
    expect(sendLimits).to.deep.equal([undefined]);
    expect(sent).to.have.length(1);
    expect(dedupe.peek("api-build", "d-serve")).to.deep.equal({ state: "queued", generation: 1 });
  });
});

describe("Function: createRouteHandler receive, the host's automatic resends right after a timeout's 503 (Bitbucket Cloud resends a 5xx twice, at once)", () => {
  it("a resend takes over the claim the 503 released, as the same generation, and queues the delivery when the first request's send never completes", async () => {
    const sent: WorkItem[] = [];
    let sends = 0;
    const dedupe = new MemoryDedupeStore();
    const handler = handlerWith(dedupe, {
      // The first send hangs (deployed: its instance is frozen once it has answered); the queue is fine afterwards.
      send: (item) => (sends++ === 0 ? new Promise<void>(() => {}) : Promise.resolve(void sent.push(item))),
    });
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      statuses.push(
        parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-resent" }))).statusCode,
      );
    }
    expect(statuses).to.deep.equal([503, 202, 200]);
    expect(sent.map((item) => item.generation)).to.deep.equal([1]);
    expect(dedupe.peek("api-build", "d-resent")).to.deep.equal({ state: "queued", generation: 1 });
  });

  it("a resend accepted while the first request's send lands after all queues the same generation: the action runs once", async () => {
    const sent: WorkItem[] = [];
    let land: () => void = () => {};
    let sends = 0;
    let runs = 0;
    const dedupe = new MemoryDedupeStore();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue: {
        send: (item) => {
          if (sends++ > 0) return Promise.resolve(void sent.push(item));
          return new Promise<void>((resolve) => {
            land = () => resolve(void sent.push(item));
          });
        },
      },
      deadLetters: new RecordingDeadLetters(),
      dedupe,
      runAction: async () => {
        runs++;
        return { status: "done", detail: "" };
      },
      log: () => {},
      receiveTimeoutMs: 20,
    });
    expect(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-both" }))).statusCode).to.equal(
      503,
    );
    expect(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-both" }))).statusCode).to.equal(
      202,
    );
    land();
    await settled();
    // Both messages are generation 1 (one SQS deduplication id): past SQS's window, the work path skips the second.
    expect(sent.map((item) => item.generation)).to.deep.equal([1, 1]);
    for (const item of sent) await handler.work(sqsEvent([sqsRecord(workItemJson(item))]));
    expect(runs).to.equal(1);
    expect(dedupe.peek("api-build", "d-both")).to.deep.equal({ state: "done", generation: 1 });
  });
});

describe("Function: createRouteHandler receive, a release that lands late", () => {
  it("a claim whose answer comes back after the 503 releases only its own claim: a redelivery's takeover of it (same generation), its send under way, stays held and a third request is answered 503 (in progress)", async () => {
    let now = Date.now();
    let land: () => void = () => {};
    let first = true;
    // The first claim is applied at once but its answer comes back only when `land` is called.
    const dedupe = new (class extends MemoryDedupeStore {
      override claim(route: string, deliveryId: string, limits?: CallLimits, token?: string) {
        const applied = super.claim(route, deliveryId, limits, token);
        if (!first) return applied;
        first = false;
        return new Promise<ClaimResult>((resolve) => {
          land = () => resolve(applied);
        });
      }
    })({ now: () => now });
    const sent: WorkItem[] = [];
    let openSend: () => void = () => {};
    let sendStarted = false;
    const handler = (receiveTimeoutMs: number) =>
      createRouteHandler({
        route: jenkinsRoute(),
        secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
        queue: {
          // The redelivery's send is under way until openSend; any other lands at once.
          send: (item) => {
            if (sendStarted) return Promise.resolve(void sent.push(item));
            sendStarted = true;
            return new Promise<void>((resolve) => {
              openSend = () => resolve(void sent.push(item));
            });
          },
        },
        deadLetters: new RecordingDeadLetters(),
        dedupe,
        runAction: async () => ({ status: "done", detail: "" }),
        log: () => {},
        receiveTimeoutMs,
      });
    const frozen = handler(20);
    const later = handler(60_000);
    expect(parseAnswer(await frozen.receive(githubDelivery({ deliveryId: "d-late" }))).statusCode).to.equal(
      503,
    );
    // Past the pending TTL the host's redelivery takes the claim over, as generation 1; its send is under way.
    now += 61_000;
    const redelivery = later.receive(githubDelivery({ deliveryId: "d-late" }));
    while (!sendStarted) await new Promise((resolve) => setImmediate(resolve));
    // The first request's claim answer comes back (its instance thawed): it releases its claim.
    land();
    await settled();
    expect(parseAnswer(await later.receive(githubDelivery({ deliveryId: "d-late" }))).statusCode).to.equal(
      503,
    );
    openSend();
    expect(parseAnswer(await redelivery).statusCode).to.equal(202);
    expect(sent).to.have.length(1);
  });
});

describe("Function: createRouteHandler receive, a claim cut short at the deadline", () => {
  it("a claim DynamoDB applied but whose answer the deadline's abort cut is released by its token before the 503: of the host's two immediate resends (Bitbucket Cloud) the first queues the delivery, the second is a duplicate", async () => {
    const sent: WorkItem[] = [];
    let first = true;
    // The first claim is applied, but its answer is cut at the deadline (as the SDK's abort does).
    const dedupe = new (class extends MemoryDedupeStore {
      override async claim(route: string, deliveryId: string, limits?: CallLimits, token?: string) {
        const result = await super.claim(route, deliveryId, limits, token);
        if (!first || limits?.deadlineMs === undefined) return result;
        first = false;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, (limits.deadlineMs as number) - Date.now())),
        );
        throw new TransientDependencyError(
          "DynamoDB dedupe claim failed: cut short at the function's deadline (AbortError)",
        );
      }
    })();
    const handler = handlerWith(dedupe, { send: async (item) => void sent.push(item) });
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      statuses.push(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-cut" }))).statusCode);
    }
    expect(statuses).to.deep.equal([503, 202, 200]);
    expect(sent.map((item) => item.generation)).to.deep.equal([1]);
  });
});

describe("Function: createRouteHandler receive, a claim that fails before the deadline", () => {
  it("a claim DynamoDB applied but whose call then failed before the deadline (the SDK's two tries timed out at about 6 s) is released by its token: the host's immediate resend queues the delivery, the next is a duplicate", async () => {
    const sent: WorkItem[] = [];
    let first = true;
    const dedupe = new (class extends MemoryDedupeStore {
      override async claim(route: string, deliveryId: string, limits?: CallLimits, token?: string) {
        const result = await super.claim(route, deliveryId, limits, token);
        if (!first) return result;
        first = false;
        throw new TransientDependencyError("DynamoDB dedupe claim failed: TimeoutError: Request timed out");
      }
    })();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue: { send: async (item) => void sent.push(item) },
      deadLetters: new RecordingDeadLetters(),
      dedupe,
      runAction: async () => {
        throw new ActionError("unused", { retryable: false });
      },
      log: () => {},
      receiveTimeoutMs: 2_000,
      maxAttempts: 1,
    });
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      statuses.push(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-early" }))).statusCode);
    }
    expect(statuses).to.deep.equal([503, 202, 200]);
    expect(sent.map((item) => item.generation)).to.deep.equal([1]);
  });
});
