// A SendMessage whose answer was lost (cut at the receive deadline, timed out, no HTTP answer, a 5xx, a try the SDK
// retried) may have queued the item all the same: the 503 then says it may have been queued, never "redeliver
// later", which on a gitea route (Redeliver sends a new delivery id) would run the action twice.
import type { SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { SqsWorkQueue } from "../../src/aws/sqs";
import { QueueOutcomeUnknownError, TransientDependencyError } from "../../src/core/errors";
import type { Provider } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  WEBHOOK_SECRET,
  workItem,
} from "../gateway/support";
import { MemorySecretStore } from "../support/secrets";

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build.fifo";

/** An SQS client whose SendMessage fails with `error` (after taking the message when `takes`). */
function failingSqs(error: Error, taken: unknown[] = [], takes = false): SQSClient {
  return {
    send: async (command: { input: unknown }) => {
      if (takes) taken.push(command.input);
      throw error;
    },
  } as unknown as SQSClient;
}

/** SQS that stores the message at once, then answers only after the caller gave up (as a slow answer does). */
function slowAnsweringSqs(taken: unknown[]): SQSClient {
  return {
    send: (command: { input: unknown }, options?: { abortSignal?: AbortSignal }) =>
      new Promise((_, reject) => {
        taken.push(command.input);
        options?.abortSignal?.addEventListener("abort", () => {
          reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        });
      }),
  } as unknown as SQSClient;
}

const sdkError = (name: string, message: string, metadata: Record<string, unknown>, extra = {}) =>
  Object.assign(new Error(message), { name, $metadata: metadata, ...extra });

describe("Module: src/aws/sqs, a work item send whose outcome is unknown", () => {
  const unknown: Array<[string, Error]> = [
    ["the SDK's TimeoutError (no answer)", sdkError("TimeoutError", "socket timed out", {})],
    ["an AbortError (cut at the deadline)", sdkError("AbortError", "Request aborted", {})],
    ["a network error (ECONNRESET)", sdkError("Error", "socket hang up", {}, { code: "ECONNRESET" })],
    ["an error with no $metadata at all", new Error("connection closed")],
    [
      "a 500 InternalError",
      sdkError("InternalError", "internal", { httpStatusCode: 500 }, { $fault: "server" }),
    ],
    [
      "a 4xx answered to the SDK's second try (the first may have landed)",
      sdkError("RequestThrottled", "slow down", { httpStatusCode: 403, attempts: 2 }),
    ],
  ];
  for (const [label, error] of unknown) {
    it(`SqsWorkQueue.send fails with QueueOutcomeUnknownError (a TransientDependencyError) on ${label}`, async () => {
      const failure = await new SqsWorkQueue(failingSqs(error), QUEUE).send(workItem()).catch((e) => e);
      expect(failure).to.be.instanceOf(QueueOutcomeUnknownError);
      expect(failure).to.be.instanceOf(TransientDependencyError);
      expect(failure.message).to.match(/^SQS SendMessage to the work queue failed: /);
      expect(failure.cause).to.equal(error);
    });
  }

  const refused: Array<[string, Error]> = [
    [
      "AccessDenied",
      sdkError("AccessDenied", "denied", { httpStatusCode: 403, attempts: 1 }, { $fault: "client" }),
    ],
    [
      "InvalidMessageContents",
      sdkError("InvalidMessageContents", "bad character", { httpStatusCode: 400 }, { $fault: "client" }),
    ],
    ["RequestThrottled", sdkError("RequestThrottled", "slow down", { httpStatusCode: 403, attempts: 1 })],
  ];
  for (const [label, error] of refused) {
    it(`SqsWorkQueue.send fails with a plain refusal, not QueueOutcomeUnknownError, on ${label} answered to its one try`, async () => {
      const failure = await new SqsWorkQueue(failingSqs(error), QUEUE).send(workItem()).catch((e) => e);
      expect(failure).to.be.instanceOf(Error);
      expect(failure).not.to.be.instanceOf(QueueOutcomeUnknownError);
    });
  }
});

const MAYBE =
  "the queue's answer was lost; it may have been queued: check the route's log before redelivering";

function handlerFor(provider: Provider, client: SQSClient, options: { receiveTimeoutMs?: number } = {}) {
  const logs = new LogCollector();
  const dedupe = new MemoryDedupeStore();
  const handler = createRouteHandler({
    route: jenkinsRoute({ provider }),
    secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
    queue: new SqsWorkQueue(client, QUEUE),
    deadLetters: new RecordingDeadLetters(),
    dedupe,
    runAction: async () => ({ status: "done", detail: "" }),
    log: logs.log,
    ...(options.receiveTimeoutMs === undefined ? {} : { receiveTimeoutMs: options.receiveTimeoutMs }),
  });
  return { handler, logs, dedupe };
}

const giteaDelivery = (id: string) =>
  githubDelivery({
    deliveryId: id,
    headers: { "X-Gitea-Delivery": id, "X-Gitea-Event": "push", "X-Gogs-Delivery": id },
  });

describe("Function: createRouteHandler receive, a send whose outcome is unknown", () => {
  it("a gitea route whose send SQS took but answered after the deadline (cut by its abort signal): the 503 says it may have been queued and that Gitea's Redeliver is a new delivery, not redeliver later", async () => {
    const taken: unknown[] = [];
    const { handler, logs } = handlerFor("gitea", slowAnsweringSqs(taken), { receiveTimeoutMs: 100 });
    const answer = parseAnswer(await handler.receive(giteaDelivery("0b7c6c3e-gitea-slow-sqs")));
    expect(taken, "SQS holds the message: it will run").to.have.length(1);
    expect(answer.statusCode).to.equal(503);
    // The send's abort and the deadline's 503 come at the same moment: either says the same to Gitea.
    expect(answer.body.reason).to.match(
      /it may have been queued: check the route's log before redelivering \(Gitea's Redeliver is a new delivery\)$/,
    );
    expect(answer.body.reason).not.to.match(/redeliver later/);
    expect(logs.of("delivery")[0]?.reason).to.equal(answer.body.reason);
  });

  it("a github route whose send timed out with no answer: 503 saying it may have been queued, logged with the error, and the claim released so a redelivery is accepted as the same generation", async () => {
    const timedOut = sdkError("TimeoutError", "socket timed out after 3000 ms", {});
    const { handler, logs, dedupe } = handlerFor("github", failingSqs(timedOut));
    const answer = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-sqs-timeout" })));
    expect([answer.statusCode, answer.body.reason]).to.deep.equal([503, MAYBE]);
    expect(logs.of("delivery")[0]).to.deep.include({
      decision: "unavailable",
      status: 503,
      reason: MAYBE,
      error: "SQS SendMessage to the work queue failed: TimeoutError: socket timed out after 3000 ms",
    });
    // Released as at the deadline's 503: the redelivery sends under the same SQS deduplication id.
    const again = await dedupe.claim("api-build", "d-sqs-timeout");
    expect([again.claimed, again.generation]).to.deep.equal([true, 1]);
  });

  it("a gitea route whose send timed out before its deadline: the 503 names Gitea's Redeliver as a new delivery", async () => {
    const { handler } = handlerFor("gitea", failingSqs(sdkError("TimeoutError", "socket timed out", {})));
    const answer = parseAnswer(await handler.receive(giteaDelivery("0b7c6c3e-gitea-timeout")));
    expect([answer.statusCode, answer.body.reason]).to.deep.equal([
      503,
      `${MAYBE} (Gitea's Redeliver is a new delivery)`,
    ]);
  });

  it("a send SQS refused (AccessDenied) still answers 503 'could not enqueue the delivery; redeliver later'", async () => {
    const denied = sdkError(
      "AccessDenied",
      "denied",
      { httpStatusCode: 403, attempts: 1 },
      { $fault: "client" },
    );
    const { handler } = handlerFor("gitea", failingSqs(denied));
    const answer = parseAnswer(await handler.receive(giteaDelivery("0b7c6c3e-gitea-denied")));
    expect([answer.statusCode, answer.body.reason]).to.deep.equal([
      503,
      "could not enqueue the delivery; redeliver later",
    ]);
  });
});
