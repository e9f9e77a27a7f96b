// A push that changes several refs in one delivery (Bitbucket's push.changes): each change is matched, and
// each matching one is queued as a delivery of its own, <id>#<n>.
import { expect } from "chai";
import { QueueOutcomeUnknownError, TransientDependencyError } from "../../src/core/errors";
import type { Route } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  RecordingQueue,
  sign,
  WEBHOOK_SECRET,
} from "./support";

const TAG_SHA = "b".repeat(40);
const MAIN_SHA = "c".repeat(40);
const FEATURE_SHA = "d".repeat(40);

/** `git push --follow-tags` of main and a new tag, then a deleted feature branch, as Bitbucket Cloud sends it. */
const PAYLOAD = {
  actor: { nickname: "alice", display_name: "Alice" },
  repository: { full_name: "team/repo", links: { html: { href: "https://bitbucket.org/team/repo" } } },
  push: {
    changes: [
      {
        old: null,
        new: { type: "tag", name: "v1.0", target: { hash: TAG_SHA } },
        created: true,
        closed: false,
      },
      {
        old: { type: "branch", name: "main", target: { hash: "a".repeat(40) } },
        new: { type: "branch", name: "main", target: { hash: MAIN_SHA } },
        created: false,
        closed: false,
      },
      {
        old: { type: "branch", name: "feature/x", target: { hash: FEATURE_SHA } },
        new: null,
        created: false,
        closed: true,
      },
    ],
  },
};

function bitbucketRoute(match: Route["match"]): Route {
  return jenkinsRoute({ provider: "bitbucket", secret: "hookgate/bitbucket-webhook", match });
}

function harness(route: Route, options: { receiveTimeoutMs?: number } = {}) {
  const queue = new RecordingQueue();
  const dedupe = new MemoryDedupeStore();
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route,
    secrets: new MemorySecretStore({ "hookgate/bitbucket-webhook": WEBHOOK_SECRET }),
    queue,
    deadLetters: new RecordingDeadLetters(),
    dedupe,
    runAction: async () => {
      throw new Error("runAction must not be called at receive time");
    },
    log: logs.log,
    ...options,
  });
  const body = Buffer.from(JSON.stringify(PAYLOAD));
  const receive = async () =>
    parseAnswer(
      await handler.receive(
        githubDelivery({
          body,
          signature: null,
          headers: {
            "X-Event-Key": "repo:push",
            "X-Request-UUID": "{8f3a0c2e-1111-4c4c-9a9a-000000000001}",
            "X-Hub-Signature": sign(WEBHOOK_SECRET, body),
          },
        }),
      ),
    );
  return { receive, queue, logs, dedupe };
}

const ID = "{8f3a0c2e-1111-4c4c-9a9a-000000000001}";

describe("Function: createRouteHandler(deps).receive (a push that changed several refs)", () => {
  it("queues the change the route is for, even when it is not the push's first", async () => {
    const h = harness(bitbucketRoute({ events: ["push"], branches: ["main"] }));
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(202);
    expect(answer.body).to.deep.include({ status: "queued", delivery: ID });
    expect(h.queue.sent.map((item) => [item.deliveryId, item.event.branch, item.event.sha])).to.deep.equal([
      [`${ID}#2`, "main", MAIN_SHA],
    ]);
    // Its own delivery id reaches the templates.
    expect(h.queue.sent[0]?.request).to.deep.include({
      parameters: { BRANCH: "main", SHA: MAIN_SHA, DELIVERY: `${ID}#2` },
    });
  });

  it("queues every matching change, in the push's order, each as a delivery of its own", async () => {
    // The deleted branch (the third change) is ignored, as deletions are by default.
    const h = harness(bitbucketRoute({ events: ["push"] }));
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => [item.deliveryId, item.event.ref, item.event.sha])).to.deep.equal([
      [ID, "refs/tags/v1.0", TAG_SHA],
      [`${ID}#2`, "refs/heads/main", MAIN_SHA],
    ]);
    expect(answer.body.reason).to.contain("tag v1.0").and.to.contain("branch main");
  });

  it("answers a redelivery 200 duplicate and queues nothing more", async () => {
    const h = harness(bitbucketRoute({ events: ["push"], branches: ["main"] }));
    await h.receive();
    const again = await h.receive();
    expect(again.statusCode).to.equal(200);
    expect(again.body.status).to.equal("duplicate");
    expect(h.queue.sent).to.have.length(1);
  });

  it("after a 503 half way, the redelivery queues only the change that is still missing", async () => {
    const h = harness(bitbucketRoute({ events: ["push"] }));
    let sends = 0;
    const send = h.queue.send.bind(h.queue);
    h.queue.send = async (item) => {
      sends++;
      if (sends === 2) throw new Error("SQS SendMessage to the work queue failed: ServiceUnavailable");
      return send(item);
    };
    const first = await h.receive();
    expect(first.statusCode).to.equal(503);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([ID]);
    // Each change has its line; the delivery's line names the change it failed on.
    expect(
      h.logs.of("change").map((l) => [l.deliveryId, l.ref, l.status, l.decision, l.level]),
    ).to.deep.equal([
      [ID, "refs/tags/v1.0", 202, "queued", "info"],
      [`${ID}#2`, "refs/heads/main", 503, "unavailable", "error"],
    ]);
    expect(h.logs.of("delivery").at(-1)).to.deep.include({
      deliveryId: ID,
      ref: "refs/heads/main",
      status: 503,
    });
    const again = await h.receive();
    expect(again.statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([ID, `${ID}#2`]);
    expect(h.logs.of("delivery").at(-1)).to.deep.include({ decision: "queued", status: 202 });
  });

  it("a change whose send fails does not stop the later ones: they are queued in the same request, and the 503 names the change that failed", async () => {
    const h = harness(bitbucketRoute({ events: ["push"] }));
    let sends = 0;
    const send = h.queue.send.bind(h.queue);
    h.queue.send = async (item) => {
      if (++sends === 1) throw new Error("SQS SendMessage to the work queue failed: ServiceUnavailable");
      return send(item);
    };
    const first = await h.receive();
    expect([first.statusCode, first.body.reason]).to.deep.equal([
      503,
      "could not enqueue the delivery; redeliver later",
    ]);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([`${ID}#2`]);
    expect(h.logs.of("change").map((l) => [l.deliveryId, l.status])).to.deep.equal([
      [ID, 503],
      [`${ID}#2`, 202],
    ]);
    expect(h.logs.of("delivery").at(-1)).to.deep.include({
      ref: "refs/tags/v1.0",
      status: 503,
      error: "SQS SendMessage to the work queue failed: ServiceUnavailable",
    });
    // The resend queues the tag; main is a duplicate.
    const again = await h.receive();
    expect(again.statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([`${ID}#2`, ID]);
  });

  it("a change answered in progress (its queued mark failed) does not stop the resend from queuing a later change whose send failed, and the push is answered 503 while the tag's claim is pending", async () => {
    const h = harness(bitbucketRoute({ events: ["push"] }));
    const markQueued = h.dedupe.mark.bind(h.dedupe);
    let marks = 0;
    h.dedupe.mark = async (route, deliveryId, generation, state) => {
      // The tag's queued mark fails: its claim stays pending (a resend is told in progress).
      if (state === "queued" && ++marks === 1) throw new TransientDependencyError("DynamoDB mark failed");
      return markQueued(route, deliveryId, generation, state);
    };
    let sends = 0;
    const send = h.queue.send.bind(h.queue);
    h.queue.send = async (item) => {
      // main's first send fails: its claim is released.
      if (++sends === 2) throw new Error("SQS SendMessage to the work queue failed: ServiceUnavailable");
      return send(item);
    };
    expect((await h.receive()).statusCode).to.equal(503);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([ID]);
    // Bitbucket Cloud resends a 5xx at once: main is queued though the tag is still in progress.
    const resend = await h.receive();
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([ID, `${ID}#2`]);
    // Not a 2xx while the tag's claim is pending: the 503 is the tag's (in progress).
    expect(resend.statusCode).to.equal(503);
    expect(h.logs.of("delivery").at(-1)).to.deep.include({ ref: "refs/tags/v1.0", decision: "in-progress" });
    expect(
      h.logs
        .of("change")
        .slice(-2)
        .map((l) => [l.deliveryId, l.decision]),
    ).to.deep.equal([
      [ID, "in-progress"],
      [`${ID}#2`, "queued"],
    ]);
  });

  it("a change whose claim fails (DynamoDB) does not stop the later ones, and the push is answered 503", async () => {
    const h = harness(bitbucketRoute({ events: ["push"] }));
    const claim = h.dedupe.claim.bind(h.dedupe);
    let claims = 0;
    h.dedupe.claim = async (...args) => {
      if (++claims === 1)
        throw new TransientDependencyError("DynamoDB dedupe claim failed: ServiceUnavailable");
      return claim(...args);
    };
    const first = await h.receive();
    expect(first.statusCode).to.equal(503);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([`${ID}#2`]);
    expect(h.logs.of("delivery").at(-1)).to.deep.include({ ref: "refs/tags/v1.0", status: 503 });
    expect((await h.receive()).statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([`${ID}#2`, ID]);
  });

  it("a change whose claim fails after an earlier change answered in progress logs DynamoDB's error on its change line and on the delivery line", async () => {
    const route = bitbucketRoute({ events: ["push"], branches: ["main"], tags: ["*"] });
    const h = harness(route);
    // The tag (the first change) is being accepted by another request: in progress, no error of its own.
    await h.dedupe.claim(route.name, ID);
    const claim = h.dedupe.claim.bind(h.dedupe);
    h.dedupe.claim = async (...args) => {
      if (args[1] === `${ID}#2`)
        throw new TransientDependencyError("DynamoDB dedupe claim failed: ServiceUnavailable");
      return claim(...args);
    };
    expect((await h.receive()).statusCode).to.equal(503);
    const main = h.logs.of("change").find((l) => l.deliveryId === `${ID}#2`);
    expect(main).to.deep.include({ status: 503, error: "DynamoDB dedupe claim failed: ServiceUnavailable" });
    // The delivery's line is the first failed change's (the tag, in progress), which had no error.
    expect(h.logs.of("delivery").at(-1)).to.deep.include({ ref: "refs/tags/v1.0", decision: "in-progress" });
    expect(h.logs.of("delivery").at(-1)).to.not.have.property("error");
  });

  it("the delivery line of a push answered 503 carries the failed change's error, not the queued mark failure of an earlier change that was queued (that stays on its change line)", async () => {
    const route = bitbucketRoute({ events: ["push"], branches: ["main"], tags: ["*"] });
    const h = harness(route);
    const mark = h.dedupe.mark.bind(h.dedupe);
    h.dedupe.mark = async (routeName, deliveryId, generation, state) => {
      if (state === "queued" && deliveryId === ID) throw new TransientDependencyError("DynamoDB mark failed");
      return mark(routeName, deliveryId, generation, state);
    };
    // main (the second change) is being accepted by another request: in progress.
    await h.dedupe.claim(route.name, `${ID}#2`);
    expect((await h.receive()).statusCode).to.equal(503);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([ID]);
    const line = h.logs.of("delivery").at(-1);
    expect(line).to.deep.include({ ref: "refs/heads/main", decision: "in-progress" });
    expect(line, JSON.stringify(line)).to.not.have.property("error");
    expect(h.logs.of("change").find((l) => l.deliveryId === ID)?.error).to.match(
      /^marking the delivery queued failed: DynamoDB mark failed/,
    );
  });

  it("a push whose every change is queued keeps on its 202 delivery line the queued mark failure of one of them", async () => {
    const route = bitbucketRoute({ events: ["push"], branches: ["main"], tags: ["*"] });
    const h = harness(route);
    const mark = h.dedupe.mark.bind(h.dedupe);
    h.dedupe.mark = async (routeName, deliveryId, generation, state) => {
      if (state === "queued" && deliveryId === ID) throw new TransientDependencyError("DynamoDB mark failed");
      return mark(routeName, deliveryId, generation, state);
    };
    expect((await h.receive()).statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => item.deliveryId)).to.deep.equal([ID, `${ID}#2`]);
    expect(h.logs.of("delivery").at(-1)?.error).to.match(
      /^marking the delivery queued failed: DynamoDB mark failed/,
    );
  });

  it("a change whose send is cut at the deadline stops the push there: no later change is claimed once the deadline has passed", async () => {
    const h = harness(bitbucketRoute({ events: ["push"] }), { receiveTimeoutMs: 20 });
    const claimed: string[] = [];
    let deadlineMs = 0;
    const claim = h.dedupe.claim.bind(h.dedupe);
    h.dedupe.claim = async (...args) => {
      claimed.push(args[1]);
      deadlineMs = args[2]?.deadlineMs ?? 0;
      return claim(...args);
    };
    h.queue.send = async () => {
      // Fails past its deadline with no turn of the event loop, so the deadline's 503 has not come yet.
      while (Date.now() <= deadlineMs) {
        // busy: the send's time
      }
      throw new QueueOutcomeUnknownError(
        "SQS SendMessage to the work queue failed: cut short at the deadline",
      );
    };
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(503);
    expect(claimed).to.deep.equal([ID]);
  });

  it("ignores the delivery when no change matches, saying the other changes did not either", async () => {
    const h = harness(bitbucketRoute({ events: ["push"], branches: ["release/*"] }));
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(200);
    expect(answer.body.status).to.equal("ignored");
    expect(answer.body.reason).to.contain("nor did the push's 2 other ref changes");
    expect(h.queue.sent).to.deep.equal([]);
    expect(h.logs.of("delivery")[0]).to.deep.include({ decision: "ignored", level: "info" });
  });
});
