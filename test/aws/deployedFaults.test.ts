// The deployed wiring (buildRouteHandler: the real SDK clients with the deployed timeouts and retries) against
// a local server on 127.0.0.1 speaking the JSON protocol of DynamoDB, SQS and Secrets Manager, answering each
// call as a test scripts it: an error of each class at each step of the receive and the work path.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { readSecret } from "../../src/actions/secrets";
import { buildRouteHandler, readRuntimeConfig } from "../../src/aws/lambdaRuntime";
import { SqsDeadLetterQueue, SqsWorkQueue } from "../../src/aws/sqs";
import { ActionError, TransientDependencyError } from "../../src/core/errors";
import { type RouteHandler, WORK_RESERVE_MS } from "../../src/gateway/routeHandler";
import {
  githubDelivery,
  jenkinsRoute,
  parseAnswer,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
  workItem,
} from "../gateway/support";

interface Call {
  /** The operation: UpdateItem, GetItem, SendMessage, ChangeMessageVisibility, GetSecretValue. */
  op: string;
  body: Record<string, unknown>;
}
type Reply = { status: number; body: Record<string, unknown>; headers?: Record<string, string> };
/** A reply, "hang" for none at all (the SDK's request timeout ends the wait), or undefined for success. */
type Script = (call: Call) => Reply | "hang" | undefined;

const JENKINS_SECRET = JSON.stringify({ user: "ci-bot", token: "11aa22bb33cc44dd55ee66ff77gg88hh" });

/** What the services answer when the script says nothing: every call succeeds. */
function success(call: Call): Reply {
  switch (call.op) {
    case "GetSecretValue": {
      const values: Record<string, string> = {
        "hookgate/github-webhook": WEBHOOK_SECRET,
        "hookgate/jenkins": JENKINS_SECRET,
      };
      const value = values[String(call.body.SecretId)];
      return call.body.VersionStage === "AWSCURRENT" && value !== undefined
        ? { status: 200, body: { Name: call.body.SecretId, SecretString: value } }
        : awsError("ResourceNotFoundException");
    }
    case "UpdateItem":
      return { status: 200, body: { Attributes: { generation: { N: "1" } } } };
    case "GetItem":
      return { status: 200, body: {} };
    case "SendMessage":
      return {
        status: 200,
        body: {
          MessageId: "m-local",
          MD5OfMessageBody: createHash("md5").update(String(call.body.MessageBody)).digest("hex"),
        },
      };
    default:
      return { status: 200, body: {} };
  }
}

function awsError(type: string, status = 400, extra: Record<string, unknown> = {}): Reply {
  return { status, body: { __type: type, message: `${type} from the local server`, ...extra } };
}

/** The script's reply to one operation (matching `when`, if given); the others succeed. */
function on(op: string, reply: Reply, when: (call: Call) => boolean = () => true): Script {
  return (call) => (call.op === op && when(call) ? reply : undefined);
}

describe("The deployed wiring (real SDK clients) against a local DynamoDB, SQS and Secrets Manager on 127.0.0.1", () => {
  let server: Server;
  let script: Script = () => undefined;
  const calls: Call[] = [];
  const saved: Record<string, string | undefined> = {};
  const printed: string[] = [];
  const stdout = process.stdout.write;
  let action: "done" | "final" | "retryable" = "done";
  /** Called as the action ends (a test's clock moves there). */
  let actionEnds: (() => void) | undefined;
  /**
   * How many times the handler's action ran, and how many calls the server had seen when it last started. (A
   * test's calls can include a late one of an earlier test: the SDK's retry of the secret stage a failed
   * Promise.all left behind, up to a second after it; so what ran is counted here, not read from the calls.)
   */
  let actionRuns = 0;
  let callsBeforeAction = 0;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"] ?? "");
        const call: Call = {
          op: target.slice(target.lastIndexOf(".") + 1),
          body: chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : {},
        };
        calls.push(call);
        const reply = script(call) ?? success(call);
        if (reply === "hang") return;
        res.writeHead(reply.status, { "content-type": "application/x-amz-json-1.0", ...reply.headers });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: base,
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "AKIDLOCAL",
      AWS_SECRET_ACCESS_KEY: "local",
      HOOKGATE_ROUTE: JSON.stringify(jenkinsRoute()),
      HOOKGATE_QUEUE_URL: `${base}/123456789012/hookgate-api-build.fifo`,
      HOOKGATE_DLQ_URL: `${base}/123456789012/hookgate-api-build-dlq.fifo`,
      HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
    };
    for (const [key, value] of Object.entries(env)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });
  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    server.closeAllConnections();
    server.close();
  });
  afterEach(() => {
    process.stdout.write = stdout;
  });

  /** A fresh handler (a cold start: nothing cached), its log lines captured; `workReserveMs` as deployed unless given. */
  function handler(with_: Script, workReserveMs?: number): RouteHandler {
    script = with_;
    calls.length = 0;
    printed.length = 0;
    actionRuns = 0;
    process.stdout.write = ((chunk: string) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    return buildRouteHandler(
      readRuntimeConfig(),
      async (_item, clients) => {
        actionRuns++;
        callsBeforeAction = calls.length;
        await readSecret(clients, "hookgate/jenkins");
        actionEnds?.();
        if (action === "final")
          throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
        if (action === "retryable") throw new ActionError("Jenkins answered 503", { retryable: true });
        return { status: "done", detail: "queued" };
      },
      { workReserveMs },
    );
  }

  function lines(msg: string): Array<Record<string, unknown>> {
    return printed.map((line) => JSON.parse(line)).filter((line) => line.msg === msg);
  }

  const ops = () => calls.map((call) => call.op);

  describe("receive: every failure of a dependency is a 503 the Git host can redeliver, never a 401 or a lost 202", () => {
    const cases: Array<[string, Script, RegExp]> = [
      [
        "Secrets Manager throttled",
        on("GetSecretValue", awsError("ThrottlingException")),
        /ThrottlingException/,
      ],
      [
        "Secrets Manager failing (500)",
        on("GetSecretValue", awsError("InternalServiceError", 500)),
        /InternalServiceError/,
      ],
      [
        "Secrets Manager refusing (AccessDenied)",
        on("GetSecretValue", awsError("AccessDeniedException")),
        /AccessDeniedException/,
      ],
      [
        "Secrets Manager unable to decrypt",
        on("GetSecretValue", awsError("DecryptionFailure")),
        /DecryptionFailure/,
      ],
      [
        "the claim throttled",
        on("UpdateItem", awsError("ProvisionedThroughputExceededException")),
        /ProvisionedThroughputExceeded/,
      ],
      [
        "the claim failing (500)",
        on("UpdateItem", awsError("InternalServerError", 500)),
        /InternalServerError/,
      ],
      [
        "the claim refused (AccessDenied)",
        on("UpdateItem", awsError("AccessDeniedException")),
        /not transient.*AccessDeniedException/,
      ],
      [
        "the table missing",
        on("UpdateItem", awsError("ResourceNotFoundException")),
        /not transient.*ResourceNotFoundException/,
      ],
      [
        "the send throttled",
        on("SendMessage", awsError("com.amazonaws.sqs#RequestThrottled")),
        /RequestThrottled/,
      ],
      ["the send failing (500)", on("SendMessage", awsError("InternalError", 500)), /InternalError/],
      ["the send refused (AccessDenied)", on("SendMessage", awsError("AccessDenied", 403)), /AccessDenied/],
      [
        "the queue missing",
        on("SendMessage", awsError("com.amazonaws.sqs#QueueDoesNotExist")),
        /QueueDoesNotExist/,
      ],
    ];
    for (const [what, faults, error] of cases) {
      it(`answers 503 unavailable with ${what}, and logs the dependency's error`, async () => {
        const answer = parseAnswer(await handler(faults).receive(githubDelivery({ deliveryId: "r-1" })));
        expect(answer.statusCode).to.equal(503);
        expect(answer.body.status).to.equal("unavailable");
        expect(lines("delivery")[0]?.error).to.match(error);
      });
    }

    it("names the claim's failure a dependency's, not a mistake in the table or role, when DynamoDB answers with a throttling name the SDK knows (TransactionInProgressException)", async () => {
      const faults = on("UpdateItem", awsError("TransactionInProgressException"));
      const answer = parseAnswer(await handler(faults).receive(githubDelivery({ deliveryId: "r-6" })));
      expect(answer.statusCode).to.equal(503);
      expect(lines("delivery")[0]?.error).to.match(
        /^DynamoDB dedupe claim failed: TransactionInProgressException/,
      );
    });

    it("releases the claim when the send fails, so the redelivery is accepted: its own claim only, by the claim's token", async () => {
      await handler(on("SendMessage", awsError("InternalError", 500))).receive(
        githubDelivery({ deliveryId: "r-2" }),
      );
      const [claim, release] = calls.filter((call) => call.op === "UpdateItem").map((call) => call.body);
      expect(release?.UpdateExpression).to.equal("SET #updatedAt = :zero");
      expect(release?.ConditionExpression).to.equal(
        "#generation = :g AND #state = :pending AND #claimToken = :token",
      );
      const token = (body: typeof release) =>
        (body?.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[":token"]?.S;
      expect(token(release)).to.be.a("string").and.equal(token(claim));
    });

    it("reads the claim's old item from DynamoDB's own ConditionalCheckFailed answer (ALL_OLD): done is 200 duplicate, with no second read", async () => {
      const faults = on(
        "UpdateItem",
        awsError("ConditionalCheckFailedException", 400, {
          Item: { state: { S: "done" }, generation: { N: "2" } },
        }),
      );
      const answer = parseAnswer(await handler(faults).receive(githubDelivery({ deliveryId: "r-3" })));
      expect(answer.statusCode).to.equal(200);
      expect(answer.body.status).to.equal("duplicate");
      expect(ops()).not.to.include("GetItem");
      expect(ops()).not.to.include("SendMessage");
    });

    it("recognises its own claim when DynamoDB applied it but the answer was lost (the SDK's retry then fails the condition): 202, not 503 in progress", async () => {
      let applied: Record<string, unknown> | undefined;
      const faults: Script = (call) => {
        if (
          call.op !== "UpdateItem" ||
          String(call.body.ConditionExpression).startsWith("#generation = :g AND #state = :pending")
        )
          return undefined;
        const values = call.body.ExpressionAttributeValues as Record<string, { S?: string; N?: string }>;
        if (applied === undefined) {
          // Applied, as DynamoDB would (the new item keeps the claim's own values), then never answered.
          applied = {
            state: { S: "pending" },
            generation: { N: "1" },
            updatedAt: values[":now"],
            ...(values[":token"] ? { claimToken: values[":token"] } : {}),
          };
          return "hang";
        }
        return awsError("ConditionalCheckFailedException", 400, { Item: applied });
      };
      const answer = parseAnswer(await handler(faults).receive(githubDelivery({ deliveryId: "r-5" })));
      expect(answer.statusCode).to.equal(202);
      expect(calls.find((call) => call.op === "SendMessage")?.body.MessageDeduplicationId).to.equal("r-5:1");
    });

    it("takes over a released claim as the same generation and sends it with the same SQS deduplication id", async () => {
      let updates = 0;
      const faults: Script = (call) => {
        if (call.op !== "UpdateItem" || ++updates > 2) return undefined;
        if (updates === 1) {
          const old = { state: { S: "pending" }, generation: { N: "3" }, updatedAt: { N: "0" } };
          return awsError("ConditionalCheckFailedException", 400, { Item: old });
        }
        return {
          status: 200,
          body: { Attributes: { generation: { N: "3" }, firstClaimedAt: { N: "1700000000000" } } },
        };
      };
      const answer = parseAnswer(await handler(faults).receive(githubDelivery({ deliveryId: "r-4" })));
      expect(answer.statusCode).to.equal(202);
      const takeover = calls.filter((call) => call.op === "UpdateItem")[1]?.body;
      expect(takeover?.ConditionExpression).to.equal(
        "#state = :pending AND #updatedAt < :stale AND #generation = :g",
      );
      expect(calls.find((call) => call.op === "SendMessage")?.body.MessageDeduplicationId).to.equal("r-4:3");
    });
  });

  describe("SQS's throttling, as the real SDK names it, is transient", () => {
    const throttled: Array<[string, Reply]> = [
      [
        "RequestThrottled with SQS's query-compatible code (x-amzn-query-error: AWS.SimpleQueueService.RequestThrottled)",
        {
          ...awsError("com.amazonaws.sqs#RequestThrottled", 403),
          headers: { "x-amzn-query-error": "AWS.SimpleQueueService.RequestThrottled;Sender" },
        },
      ],
      [
        "KmsThrottled (the queue's KMS key throttled)",
        {
          ...awsError("com.amazonaws.sqs#KmsThrottled"),
          headers: { "x-amzn-query-error": "KMS.ThrottlingException;Sender" },
        },
      ],
    ];
    for (const [what, reply] of throttled) {
      it(`SqsWorkQueue.send and SqsDeadLetterQueue.send fail with a TransientDependencyError on ${what}`, async () => {
        script = on("SendMessage", reply);
        const sqs = new SQSClient({ region: "eu-west-1", maxAttempts: 1 });
        const config = readRuntimeConfig();
        for (const send of [
          () => new SqsWorkQueue(sqs, config.queueUrl).send(workItem()),
          () => new SqsDeadLetterQueue(sqs, config.dlqUrl).send(workItem(), "final: test"),
        ]) {
          const error = await send().then(
            () => undefined,
            (thrown: unknown) => thrown,
          );
          expect(error).to.be.instanceOf(TransientDependencyError);
        }
        sqs.destroy();
      });
    }
  });

  describe("work: each failure ends retried, dead-lettered or done, and the batch answer says which record comes back", () => {
    const record = (receiveCount = 1) =>
      sqsEvent([
        sqsRecord(JSON.stringify(workItem({ deliveryId: "w-1" })), {
          id: "m-1",
          receiveCount,
          group: "acme/api",
        }),
      ]);
    const jenkinsSecret = (call: Call) => call.body.SecretId === "hookgate/jenkins";
    const cases: Array<[string, Script, typeof action, string[], string, RegExp | undefined]> = [
      [
        "the done check failing (500): the action runs",
        on("GetItem", awsError("InternalServerError", 500)),
        "done",
        [],
        "done",
        undefined,
      ],
      [
        "the done check refused: the action runs",
        on("GetItem", awsError("AccessDeniedException")),
        "done",
        [],
        "done",
        undefined,
      ],
      [
        "Secrets Manager throttled",
        on("GetSecretValue", awsError("ThrottlingException"), jenkinsSecret),
        "done",
        ["m-1"],
        "retry",
        /unavailable for "hookgate\/jenkins": ThrottlingException/,
      ],
      [
        "Secrets Manager refusing",
        on("GetSecretValue", awsError("AccessDeniedException"), jenkinsSecret),
        "done",
        ["m-1"],
        "retry",
        /cannot give "hookgate\/jenkins" \(AWS\w+\): AccessDeniedException/,
      ],
      [
        "the action's secret missing",
        on("GetSecretValue", awsError("ResourceNotFoundException"), jenkinsSecret),
        "done",
        [],
        "dead",
        /^final: secret "hookgate\/jenkins" was not found/,
      ],
      [
        "the DLQ send failing (500)",
        on("SendMessage", awsError("InternalError", 500)),
        "final",
        ["m-1"],
        "failed",
        /dead-lettering failed: .*InternalError/,
      ],
      [
        "the DLQ send refused",
        on("SendMessage", awsError("AccessDenied", 403)),
        "final",
        ["m-1"],
        "failed",
        /dead-lettering failed: .*AccessDenied/,
      ],
      [
        "the done mark throttled: done stands",
        on("UpdateItem", awsError("ThrottlingException")),
        "done",
        [],
        "done",
        undefined,
      ],
      [
        "the backoff failing (500): the record still comes back",
        on("ChangeMessageVisibility", awsError("InternalError", 500)),
        "retryable",
        ["m-1"],
        "retry",
        /Jenkins answered 503/,
      ],
    ];
    for (const [what, faults, outcome, failures, logged, error] of cases) {
      it(`with ${what}, the attempt is ${logged} and the batch answer reports ${JSON.stringify(failures)}`, async () => {
        action = outcome;
        try {
          const answer = await handler(faults).work(record(), { remainingMs: () => 120_000 });
          expect(answer.batchItemFailures.map((failure) => failure.itemIdentifier)).to.deep.equal(failures);
          const attempt = lines("attempt")[0];
          expect(attempt?.outcome).to.equal(logged);
          if (error) expect(attempt?.error).to.match(error);
        } finally {
          action = "done";
        }
      });
    }

    it("backs off a record whose DLQ send failed by the retry delay (ChangeMessageVisibility to 60 s on attempt 2), not the queue's visibility timeout", async () => {
      action = "final";
      try {
        const answer = await handler(on("SendMessage", awsError("InternalError", 500))).work(record(2), {
          remainingMs: () => 120_000,
        });
        expect(answer.batchItemFailures.map((failure) => failure.itemIdentifier)).to.deep.equal(["m-1"]);
        // The last change: the backoff (the first is the hold before the action).
        const change = calls.filter((call) => call.op === "ChangeMessageVisibility").at(-1)?.body;
        expect(change?.VisibilityTimeout).to.equal(60);
      } finally {
        action = "done";
      }
    });

    describe("an action that used all its time: the calls after it end before the function's timeout, whatever SQS or DynamoDB does", () => {
      /** No answer at all to `op` (where `when` holds): only a deadline ends the call. */
      const hang =
        (op: string, when: (call: Call) => boolean = () => true): Script =>
        (call) =>
          call.op === op && when(call) ? "hang" : undefined;
      const marking = (state: string) => (call: Call) =>
        (call.body.ExpressionAttributeValues as Record<string, { S?: string }> | undefined)?.[":state"]?.S ===
        state;
      /**
       * The function's reserve: the deployed 5 s leaves a lone call 4 s, so the SDK's first try (3 s) times out
       * and its second is cut (the done mark's case); 2 s leaves 1 s or less, cut in the first try (the others).
       */
      const SHORT_RESERVE_MS = 2_000;
      /** What hangs, the action's end, the attempt's outcome, the batch answer, the line naming the cut, the reserve. */
      const cases: Array<[string, Script, typeof action, string, string[], string, number]> = [
        [
          "the DLQ send hanging",
          hang("SendMessage"),
          "final",
          "failed",
          ["m-1"],
          "attempt",
          SHORT_RESERVE_MS,
        ],
        [
          "the DLQ send answering and the dead mark hanging",
          hang("UpdateItem", marking("dead")),
          "final",
          "dead",
          [],
          "dedupe mark failed",
          SHORT_RESERVE_MS,
        ],
        [
          "the backoff hanging",
          // The backoff's change, after the action; not the hold's before it.
          hang("ChangeMessageVisibility", () => actionRuns > 0),
          "retryable",
          "retry",
          ["m-1"],
          "backoff failed",
          SHORT_RESERVE_MS,
        ],
        [
          "the done mark hanging",
          hang("UpdateItem", marking("done")),
          "done",
          "done",
          [],
          "dedupe mark failed",
          WORK_RESERVE_MS,
        ],
      ];
      for (const [what, faults, outcome, logged, failures, cutLine, reserveMs] of cases) {
        it(`with ${what}, the attempt is logged ${logged}, the call is cut at its deadline inside the function's reserve, and the batch answer is ${JSON.stringify(failures)}`, async () => {
          // The function is stopped at `end`: far off, until the action ends with only the reserve left.
          let end = Date.now() + 120_000;
          action = outcome;
          actionEnds = () => {
            end = Date.now() + reserveMs;
          };
          try {
            const answer = await handler(faults, reserveMs).work(record(), {
              remainingMs: () => end - Date.now(),
            });
            // Cut by its deadline (inside the reserve), not by the clients' own 2 × 3 s: no wall-clock assertion,
            // as the machine may be loaded; the deadlines themselves are pinned in work.test.ts.
            expect(answer.batchItemFailures.map((failure) => failure.itemIdentifier)).to.deep.equal(failures);
            expect(lines("attempt")[0]?.outcome).to.equal(logged);
            expect(lines(cutLine)[0]?.error).to.match(/cut short at the function's deadline/);
          } finally {
            action = "done";
            actionEnds = undefined;
          }
        });
      }
    });

    describe("the hold before the action: the record's visibility set to the invocation's time, so it is not received again while its action runs", () => {
      const changes = () =>
        calls.filter((call) => call.op === "ChangeMessageVisibility").map((call) => call.body);

      it("changes the record's visibility to the time left and HOLD_MARGIN_MS' 30 s before the action starts", async () => {
        const answer = await handler(() => undefined).work(record(2), { remainingMs: () => 120_000 });
        expect(answer.batchItemFailures).to.deep.equal([]);
        expect(actionRuns).to.equal(1);
        expect(changes()).to.deep.equal([
          { QueueUrl: process.env.HOOKGATE_QUEUE_URL, ReceiptHandle: "rh-m-1", VisibilityTimeout: 150 },
        ]);
        expect(ops().slice(0, callsBeforeAction)).to.include("ChangeMessageVisibility");
      });

      const receivedAgain: Array<[string, Reply]> = [
        ["ReceiptHandleIsInvalid", awsError("com.amazonaws.sqs#ReceiptHandleIsInvalid")],
        [
          "MessageNotInflight (with its query code, AWS.SimpleQueueService.MessageNotInflight)",
          {
            ...awsError("com.amazonaws.sqs#MessageNotInflight"),
            headers: { "x-amzn-query-error": "AWS.SimpleQueueService.MessageNotInflight;Sender" },
          },
        ],
        ["MessageNotInflight", awsError("MessageNotInflight")],
        [
          "InvalidParameterValue for an expired ReceiptHandle",
          awsError("InvalidParameterValue", 400, {
            message:
              "Value rh-m-1 for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
          }),
        ],
      ];
      for (const [what, reply] of receivedAgain) {
        it(`with SQS answering the hold ${what} (the message was received again), reports the record failed without running its action, marking or backing off nothing`, async () => {
          action = "retryable";
          try {
            const answer = await handler(on("ChangeMessageVisibility", reply)).work(record(5), {
              remainingMs: () => 120_000,
            });
            expect(answer.batchItemFailures.map((failure) => failure.itemIdentifier)).to.deep.equal(["m-1"]);
            expect(actionRuns).to.equal(0);
            // The hold alone: no dead mark (even on the last attempt), no dead letter, no backoff on a stale handle.
            expect(ops().filter((op) => op !== "GetItem")).to.deep.equal(["ChangeMessageVisibility"]);
            const attempt = lines("attempt")[0];
            expect(attempt).to.deep.include({ level: "warn", outcome: "deferred", deliveryId: "w-1" });
            expect(attempt?.error).to.match(
              /SQS ChangeMessageVisibility failed: .*(ReceiptHandle|MessageNotInflight)/,
            );
            expect(attempt?.detail).to.match(/gave the message out again/);
          } finally {
            action = "done";
          }
        });
      }

      const otherFailures: Array<[string, Reply]> = [
        ["throttled", awsError("com.amazonaws.sqs#RequestThrottled")],
        ["failing (500)", awsError("InternalError", 500)],
        ["refusing (AccessDenied)", awsError("AccessDenied", 403)],
        ["answering InvalidParameterValue for another parameter", awsError("InvalidParameterValue")],
      ];
      for (const [what, reply] of otherFailures) {
        it(`with SQS ${what} on the hold, runs the action all the same and logs a warning`, async () => {
          const answer = await handler(on("ChangeMessageVisibility", reply)).work(record(2), {
            remainingMs: () => 120_000,
          });
          expect(answer.batchItemFailures).to.deep.equal([]);
          expect(actionRuns).to.equal(1);
          expect(lines("attempt")[0]?.outcome).to.equal("done");
          const warning = lines("visibility hold failed")[0];
          expect(warning).to.deep.include({ level: "warn", messageId: "m-1" });
          expect(warning?.error).to.match(/SQS ChangeMessageVisibility failed/);
        });
      }
    });

    it("marks the last attempt dead before the action, so a function killed there leaves the delivery redeliverable", async () => {
      action = "retryable";
      try {
        const answer = await handler(() => undefined).work(record(5), { remainingMs: () => 120_000 });
        expect(answer.batchItemFailures).to.deep.equal([]);
        const marks = calls
          .filter((call) => call.op === "UpdateItem")
          .map((call) => call.body.ExpressionAttributeValues);
        expect(marks.map((values) => (values as Record<string, { S?: string }>)[":state"]?.S)).to.deep.equal([
          "dead",
          "dead",
        ]);
        expect(ops().slice(0, callsBeforeAction)).to.include("UpdateItem");
        expect(lines("attempt")[0]?.error).to.match(/^gave up after 5 receives: Jenkins answered 503/);
      } finally {
        action = "done";
      }
    });

    describe(`an action that succeeds on the last attempt (the delivery was marked dead before it)`, () => {
      const doneMarks = () =>
        calls.filter(
          (call) =>
            call.op === "UpdateItem" &&
            (call.body.ExpressionAttributeValues as Record<string, { S?: string }>)[":state"]?.S === "done",
        ).length;

      it("marks it done on a second try when DynamoDB fails the first (the SDK's two tries), and logs no failure", async () => {
        let failures = 2;
        const faults: Script = (call) =>
          call.op === "UpdateItem" &&
          (call.body.ExpressionAttributeValues as Record<string, { S?: string }>)[":state"]?.S === "done" &&
          failures-- > 0
            ? awsError("InternalServerError", 500)
            : undefined;
        const answer = await handler(faults).work(record(5), { remainingMs: () => 120_000 });
        expect(answer.batchItemFailures).to.deep.equal([]);
        expect(lines("attempt")[0]?.outcome).to.equal("done");
        expect(doneMarks()).to.equal(3);
        expect(lines("dedupe mark failed")).to.deep.equal([]);
      });

      it("logs an error naming the delivery when both tries fail: it reads dead, so a redelivery runs the action again", async () => {
        const faults: Script = (call) =>
          call.op === "UpdateItem" &&
          (call.body.ExpressionAttributeValues as Record<string, { S?: string }>)[":state"]?.S === "done"
            ? awsError("InternalServerError", 500)
            : undefined;
        const answer = await handler(faults).work(record(5), { remainingMs: () => 120_000 });
        expect(answer.batchItemFailures).to.deep.equal([]);
        expect(doneMarks()).to.equal(4);
        const failed = lines("dedupe mark failed");
        expect(failed).to.have.length(1);
        expect(failed[0]).to.deep.include({ level: "error", deliveryId: "w-1", state: "done" });
        expect(failed[0]?.error).to.match(/InternalServerError/);
        expect(failed[0]?.detail).to.match(/redelivery/);
      });
    });

    it("skips a record whose generation DynamoDB says is done (a crash returned a finished record)", async () => {
      const faults = on("GetItem", {
        status: 200,
        body: { Item: { state: { S: "done" }, generation: { N: "1" } } },
      });
      const answer = await handler(faults).work(record(2), { remainingMs: () => 120_000 });
      expect(answer.batchItemFailures).to.deep.equal([]);
      expect(lines("attempt")[0]?.outcome).to.equal("already-done");
      expect(actionRuns).to.equal(0);
      expect(ops()).to.include("GetItem");
      expect(ops()).not.to.include("UpdateItem");
      expect(ops()).not.to.include("SendMessage");
    });

    it("skips a record whose delivery DynamoDB shows queued as a later generation (a redriven dead letter), naming it; runs it when that item is past its expiresAt", async () => {
      const later = (expiresAt: string) =>
        on("GetItem", {
          status: 200,
          body: { Item: { state: { S: "queued" }, generation: { N: "2" }, expiresAt: { N: expiresAt } } },
        });
      const answer = await handler(later("99999999999")).work(record(1), { remainingMs: () => 120_000 });
      expect(answer.batchItemFailures).to.deep.equal([]);
      expect(lines("attempt")[0]).to.deep.include({ outcome: "superseded", supersededBy: 2, generation: 1 });
      expect(actionRuns).to.equal(0);
      expect(ops()).not.to.include("UpdateItem");
      await handler(later("1")).work(record(1), { remainingMs: () => 120_000 });
      expect(actionRuns).to.equal(1);
    });

    it("skips a record whose delivery DynamoDB shows done as a later generation in an item past its expiresAt (not yet deleted): the action ran", async () => {
      const faults = on("GetItem", {
        status: 200,
        body: { Item: { state: { S: "done" }, generation: { N: "2" }, expiresAt: { N: "1" } } },
      });
      const answer = await handler(faults).work(record(1), { remainingMs: () => 120_000 });
      expect(answer.batchItemFailures).to.deep.equal([]);
      expect(lines("attempt")[0]).to.deep.include({ outcome: "already-done", generation: 1 });
      expect(actionRuns).to.equal(0);
    });
  });
});
