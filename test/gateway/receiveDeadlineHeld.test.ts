// What a 503 at the receive deadline does with the claim, in the cases receiveDeadline.test.ts leaves open: a
// claim whose cut answer comes back a little after the deadline, a claim whose send already succeeded (202), and the
// next change of a push still to be claimed.
import { expect } from "chai";
import { ActionError, TransientDependencyError } from "../../src/core/errors";
import type { CallLimits, ClaimResult, DeliveryState } from "../../src/core/ports";
import type { Route, WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  parseAnswer,
  RecordingDeadLetters,
  sign,
  WEBHOOK_SECRET,
} from "./support";

const settled = async () => {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
};

function handlerWith(
  dedupe: MemoryDedupeStore,
  queue: { send(item: WorkItem, limits?: CallLimits): Promise<void> },
  route: Route = jenkinsRoute(),
) {
  return createRouteHandler({
    route,
    secrets: new MemorySecretStore({
      "hookgate/github-webhook": WEBHOOK_SECRET,
      "hookgate/bitbucket-webhook": WEBHOOK_SECRET,
    }),
    queue,
    deadLetters: new RecordingDeadLetters(),
    dedupe,
    runAction: async () => {
      throw new ActionError("unused", { retryable: false });
    },
    log: () => {},
    receiveTimeoutMs: 20,
    maxAttempts: 1,
  });
}

describe("Function: createRouteHandler receive, a claim still under way at the deadline's 503", () => {
  it("waits for the claim to end (its answer cut a little after the deadline) and releases it by its token before answering 503: the host's immediate resend queues the delivery", async () => {
    const sent: WorkItem[] = [];
    let first = true;
    // Applied, but its cut answer arrives 50 ms after the deadline (well within the 1 s the 503 waits for it).
    const dedupe = new (class extends MemoryDedupeStore {
      override async claim(route: string, deliveryId: string, limits?: CallLimits, token?: string) {
        const result = await super.claim(route, deliveryId, limits, token);
        if (!first || limits?.deadlineMs === undefined) return result;
        first = false;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, (limits.deadlineMs as number) - Date.now()) + 50),
        );
        throw new TransientDependencyError(
          "DynamoDB dedupe claim failed: cut short at the function's deadline (AbortError)",
        );
      }
    })();
    const handler = handlerWith(dedupe, { send: async (item) => void sent.push(item) });
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      statuses.push(
        parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-slow-cut" }))).statusCode,
      );
    }
    expect(statuses).to.deep.equal([503, 202, 200]);
    expect(sent.map((item) => item.generation)).to.deep.equal([1]);
  });
});

describe("Function: createRouteHandler receive, the deadline after the send succeeded", () => {
  it("answers 202 queued and keeps the claim (its queued mark still under way): a resend meanwhile is answered 503 (in progress), nothing is sent twice and no release is made", async () => {
    const sent: WorkItem[] = [];
    const releases: Array<number | undefined> = [];
    let landMark: () => void = () => {};
    let firstMark = true;
    const dedupe = new (class extends MemoryDedupeStore {
      override mark(route: string, deliveryId: string, generation: number, state: DeliveryState) {
        if (!firstMark) return super.mark(route, deliveryId, generation, state);
        firstMark = false;
        // The first queued mark is still under way at the deadline.
        return new Promise<void>((resolve) => {
          landMark = () => resolve(super.mark(route, deliveryId, generation, state));
        });
      }
      override release(
        route: string,
        deliveryId: string,
        generation: number | undefined,
        limits?: CallLimits,
        claimToken?: string,
      ) {
        releases.push(generation);
        return super.release(route, deliveryId, generation, limits, claimToken);
      }
    })();
    const handler = handlerWith(dedupe, { send: async (item) => void sent.push(item) });
    expect(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-sent" }))).statusCode).to.equal(
      202,
    );
    const resend = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-sent" })));
    expect(resend.statusCode).to.equal(503);
    expect(resend.body.reason).to.contain("being accepted by another request");
    landMark();
    await settled();
    expect(releases).to.deep.equal([]);
    expect(sent).to.have.length(1);
    expect(dedupe.peek("api-build", "d-sent")).to.deep.equal({ state: "queued", generation: 1 });
  });
});

/** A Bitbucket Cloud push of two refs: a new tag, then main moved on. */
const TAG_AND_BRANCH_PUSH = {
  actor: { nickname: "alice", display_name: "Alice" },
  repository: { full_name: "team/repo", links: { html: { href: "https://bitbucket.org/team/repo" } } },
  push: {
    changes: [
      {
        old: null,
        new: { type: "tag", name: "v1.0", target: { hash: "b".repeat(40) } },
        created: true,
        closed: false,
      },
      {
        old: { type: "branch", name: "main", target: { hash: "a".repeat(40) } },
        new: { type: "branch", name: "main", target: { hash: "c".repeat(40) } },
        created: false,
        closed: false,
      },
    ],
  },
};

describe("Function: createRouteHandler receive, a push of several refs answered 503 at the deadline", () => {
  it("claims none of the push's later changes once the 503 is answered (no call starts after the deadline): the redelivery queues them", async () => {
    const ID = "{8f3a0c2e-2222-4c4c-9a9a-000000000002}";
    const body = Buffer.from(JSON.stringify(TAG_AND_BRANCH_PUSH));
    const delivery = () =>
      githubDelivery({
        body,
        signature: null,
        headers: {
          "X-Event-Key": "repo:push",
          "X-Request-UUID": ID,
          "X-Hub-Signature": sign(WEBHOOK_SECRET, body),
        },
      });
    const claimed: string[] = [];
    const dedupe = new (class extends MemoryDedupeStore {
      override claim(
        route: string,
        deliveryId: string,
        limits?: CallLimits,
        token?: string,
      ): Promise<ClaimResult> {
        claimed.push(deliveryId);
        return super.claim(route, deliveryId, limits, token);
      }
    })();
    const sent: WorkItem[] = [];
    let landFirst: () => void = () => {};
    let sends = 0;
    const handler = handlerWith(
      dedupe,
      {
        // The first change's send ends only after the 503; every other lands at once.
        send: (item) => {
          if (sends++ > 0) return Promise.resolve(void sent.push(item));
          return new Promise<void>((resolve) => {
            landFirst = () => resolve(void sent.push(item));
          });
        },
      },
      jenkinsRoute({
        provider: "bitbucket",
        secret: "hookgate/bitbucket-webhook",
        match: { events: ["push"] },
      }),
    );
    expect(parseAnswer(await handler.receive(delivery())).statusCode).to.equal(503);
    landFirst();
    await settled();
    expect(claimed).to.deep.equal([ID]);
    expect(dedupe.peek("api-build", `${ID}#2`)).to.equal(undefined);
    // The redelivery: the tag is a duplicate (its send landed), main is queued now.
    expect(parseAnswer(await handler.receive(delivery())).statusCode).to.equal(202);
    expect(sent.map((item) => item.deliveryId)).to.deep.equal([ID, `${ID}#2`]);
  });
});

describe("Function: createRouteHandler receive, a push of several refs whose first change was sent before the deadline", () => {
  it("does not release the claim of a change whose send landed (its queued mark still under way at the 503): it stays this delivery's, and reads queued once the mark lands", async () => {
    const ID = "{8f3a0c2e-2222-4c4c-9a9a-000000000003}";
    const body = Buffer.from(JSON.stringify(TAG_AND_BRANCH_PUSH));
    const released: string[] = [];
    let landMark: () => void = () => {};
    let firstMark = true;
    const dedupe = new (class extends MemoryDedupeStore {
      override mark(route: string, deliveryId: string, generation: number, state: DeliveryState) {
        if (!firstMark) return super.mark(route, deliveryId, generation, state);
        firstMark = false;
        // The first change's queued mark is still under way at the deadline; its send has landed.
        return new Promise<void>((resolve) => {
          landMark = () => resolve(super.mark(route, deliveryId, generation, state));
        });
      }
      override release(
        route: string,
        deliveryId: string,
        generation: number | undefined,
        limits?: CallLimits,
        claimToken?: string,
      ) {
        released.push(deliveryId);
        return super.release(route, deliveryId, generation, limits, claimToken);
      }
    })();
    const sent: WorkItem[] = [];
    const handler = handlerWith(
      dedupe,
      { send: async (item) => void sent.push(item) },
      jenkinsRoute({
        provider: "bitbucket",
        secret: "hookgate/bitbucket-webhook",
        match: { events: ["push"] },
      }),
    );
    const answer = parseAnswer(
      await handler.receive(
        githubDelivery({
          body,
          signature: null,
          headers: {
            "X-Event-Key": "repo:push",
            "X-Request-UUID": ID,
            "X-Hub-Signature": sign(WEBHOOK_SECRET, body),
          },
        }),
      ),
    );
    expect(answer.statusCode).to.equal(503);
    landMark();
    await settled();
    expect(sent.map((item) => item.deliveryId)).to.deep.equal([ID]);
    expect(released).to.not.include(ID);
    expect(dedupe.peek("api-build", ID)).to.deep.equal({ state: "queued", generation: 1 });
  });
});

describe("Function: createRouteHandler receive, the release of a claim whose send failed", () => {
  it("gives the release its own deadline (1 s from its start) deployed, so a release that hangs cannot hold the 503", async () => {
    const releaseLimits: Array<CallLimits | undefined> = [];
    const dedupe = new (class extends MemoryDedupeStore {
      override release(
        route: string,
        deliveryId: string,
        generation: number | undefined,
        limits?: CallLimits,
        claimToken?: string,
      ) {
        releaseLimits.push(limits);
        return super.release(route, deliveryId, generation, limits, claimToken);
      }
    })();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue: {
        send: async () => {
          throw new TransientDependencyError("SQS SendMessage to the work queue failed: ServiceUnavailable");
        },
      },
      deadLetters: new RecordingDeadLetters(),
      dedupe,
      runAction: async () => {
        throw new ActionError("unused", { retryable: false });
      },
      log: () => {},
      receiveTimeoutMs: 60_000,
    });
    const before = Date.now();
    expect(parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-rel" }))).statusCode).to.equal(
      503,
    );
    expect(releaseLimits).to.have.length(1);
    const deadline = releaseLimits[0]?.deadlineMs;
    expect(deadline, "the release's deadline").to.be.a("number");
    // Its own short time, not the request's 60 s.
    expect(deadline as number).to.be.within(before, Date.now() + 1_000);
  });
});
