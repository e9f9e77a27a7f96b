// The deployed route Lambda (lambdaHandler -> createRouteHandler().handle), driven with the event shapes AWS
// itself publishes rather than the ones test/gateway/support.ts builds: the samples under
// test/fixtures/aws-events (sources and every edit in README.md there). Each test changes only what must
// change (the path to the route's, the body and the signature headers of a signed GitHub delivery, the source
// address of an allowlist case, the work item in a queue record) and checks the answer against the HTTP
// contract, or the batch response against the work path's. The AWS SDK is stubbed at the client boundary.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { GetSecretValueCommand, ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEvent, Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { expect } from "chai";
import { type ActionRunner, type LambdaEvent, lambdaHandler } from "../../src/aws/lambdaRuntime";
import { messageDeduplicationId, messageGroupId } from "../../src/aws/sqs";
import { ActionError } from "../../src/core/errors";
import type { Route, WorkItem } from "../../src/core/types";
import { workItemJson } from "../../src/gateway/workItem";
import {
  jenkinsRoute,
  type ParsedAnswer,
  parseAnswer,
  pushPayload,
  sign,
  WEBHOOK_SECRET,
  workItem,
} from "../gateway/support";
import { stubSdkClients } from "../support/sdkStubs";

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build.fifo";
const DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build-dlq.fifo";
const HOOK = "/hooks/api-build";
const MAX_ATTEMPTS = 5;

/** An API Gateway REST proxy event as published: AWS sends null where a request has no headers or body. */
type PublishedRestEvent = Omit<APIGatewayProxyEvent, "headers" | "multiValueHeaders" | "isBase64Encoded"> & {
  headers: Record<string, string> | null;
  multiValueHeaders: Record<string, string[]> | null;
  isBase64Encoded?: boolean;
};

function published<T>(file: string): T {
  return JSON.parse(readFileSync(join(__dirname, "../fixtures/aws-events", file), "utf8")) as T;
}

const awsLambdaGoRequest = published<PublishedRestEvent>("aws-lambda-go-apigw-request.json");
const powertoolsNoAuth = published<PublishedRestEvent>("powertools-apigw-rest-no-auth.json");
const powertoolsConsoleTest = published<PublishedRestEvent>("powertools-apigw-rest-console-test-ui.json");
const lambdaGuideRest = published<PublishedRestEvent>("lambda-guide-apigateway-v1.json");
const lambdaGuideSqsStandard = published<SQSEvent>("lambda-guide-sqs-standard.json");
const lambdaGuideSqsFifo = published<SQSEvent>("lambda-guide-sqs-fifo.json");
const awsLambdaGoSqs = published<SQSEvent>("aws-lambda-go-sqs-event.json");

/** The headers of a signed GitHub delivery of `body`. */
function githubHeaders(
  body: Buffer,
  options: { event?: string; deliveryId?: string; secret?: string; signature?: string | null } = {},
): Record<string, string> {
  const signature =
    options.signature === null
      ? undefined
      : (options.signature ?? sign(options.secret ?? WEBHOOK_SECRET, body));
  return {
    "X-GitHub-Event": options.event ?? "push",
    "X-GitHub-Delivery": options.deliveryId ?? "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    ...(signature === undefined ? {} : { "X-Hub-Signature-256": signature }),
  };
}

/**
 * The published event addressed to the route, carrying `body` and `headers`: added to both header views as
 * API Gateway fills them, or to one only. Nothing else of the sample changes.
 */
function delivery(
  sample: PublishedRestEvent,
  options: {
    body?: Buffer;
    headers?: Record<string, string>;
    into?: "both" | "headers" | "multiValueHeaders";
    base64?: boolean;
    sourceIp?: string;
  } = {},
): PublishedRestEvent {
  const event = structuredClone(sample);
  event.path = HOOK;
  event.resource = HOOK;
  event.requestContext.resourcePath = HOOK;
  if (options.body !== undefined) {
    event.body = options.base64 ? options.body.toString("base64") : options.body.toString("utf8");
  }
  if (options.base64) event.isBase64Encoded = true;
  if (options.sourceIp !== undefined) event.requestContext.identity.sourceIp = options.sourceIp;
  const into = options.into ?? "both";
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (into !== "multiValueHeaders") {
      event.headers ??= {};
      event.headers[name] = value;
    }
    if (into !== "headers") {
      event.multiValueHeaders ??= {};
      event.multiValueHeaders[name] = [value];
    }
  }
  return event;
}

function pushBody(branch = "main"): Buffer {
  return Buffer.from(JSON.stringify(pushPayload({ branch })), "utf8");
}

/** The published SQS sample with its records' bodies (and FIFO ids) set to `item`'s, as SqsWorkQueue sends it. */
function carrying(sample: SQSEvent, item: WorkItem, attributes: Record<string, string> = {}): SQSEvent {
  const event = structuredClone(sample);
  for (const record of event.Records) {
    record.body = workItemJson(item);
    if (record.attributes.MessageGroupId !== undefined)
      record.attributes.MessageGroupId = messageGroupId(item);
    if (record.attributes.MessageDeduplicationId !== undefined) {
      record.attributes.MessageDeduplicationId = messageDeduplicationId(item);
    }
    Object.assign(record.attributes, attributes);
  }
  return event;
}

function env(route: Route): NodeJS.ProcessEnv {
  return {
    HOOKGATE_ROUTE: JSON.stringify(route),
    HOOKGATE_QUEUE_URL: QUEUE,
    HOOKGATE_DLQ_URL: DLQ,
    HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
    HOOKGATE_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    AWS_REGION: "eu-west-1",
    AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/hookgate-api-build",
  };
}

/** The Lambda context's one method the handler reads. */
const CONTEXT = { getRemainingTimeInMillis: () => 300_000 } as Context;

describe("Function: lambdaHandler, with the events AWS publishes", () => {
  // Created in before() and restored in after(): a class-level stub must not outlive this block.
  const stubs = stubSdkClients;
  let sqs: ReturnType<typeof stubs>["sqs"];
  let ddb: ReturnType<typeof stubs>["ddb"];
  let sm: ReturnType<typeof stubs>["sm"];
  /** The environment as each test found it (another test file may have replaced process.env since loading). */
  let saved: NodeJS.ProcessEnv = process.env;
  /** The items the action was run with. */
  let ran: WorkItem[] = [];
  let behaviour: () => Promise<void> = async () => undefined;
  const run: ActionRunner = async (item) => {
    ran.push(item);
    await behaviour();
    return { status: "done", detail: "queued as https://jenkins.internal.example.com/queue/item/7/" };
  };

  before(() => {
    ({ sqs, ddb, sm } = stubs());
  });
  after(() => {
    sqs.restore();
    ddb.restore();
    sm.restore();
  });
  beforeEach(() => {
    saved = process.env;
    sqs.reset();
    ddb.reset();
    sm.reset();
    ran = [];
    behaviour = async () => undefined;
    sm.on(GetSecretValueCommand, {
      SecretId: "hookgate/github-webhook",
      VersionStage: "AWSCURRENT",
    }).resolves({
      SecretString: WEBHOOK_SECRET,
    });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(
      new ResourceNotFoundException({ message: "no previous version", $metadata: {} }),
    );
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "1" } } });
    ddb.on(GetItemCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: "2d5f0a9e-0c6b-4a3c-9a57-1f5b1b4d8e21" });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
  });
  afterEach(() => {
    process.env = saved;
  });

  /** One invocation of a fresh function (its cold start reads the environment), and the lines it printed. */
  async function invoke(
    event: PublishedRestEvent | SQSEvent,
    route: Route = jenkinsRoute(),
  ): Promise<{ result: unknown; lines: Array<Record<string, unknown>> }> {
    process.env = { ...saved, ...env(route) };
    const handler = lambdaHandler(run);
    const write = process.stdout.write;
    const printed: string[] = [];
    process.stdout.write = ((chunk: string) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const result = await handler(event as unknown as LambdaEvent, CONTEXT);
      return { result, lines: printed.map((line) => JSON.parse(line) as Record<string, unknown>) };
    } finally {
      process.stdout.write = write;
    }
  }

  async function answer(
    event: PublishedRestEvent,
    route?: Route,
  ): Promise<ParsedAnswer & { lines: Array<Record<string, unknown>> }> {
    const { result, lines } = await invoke(event, route);
    return { ...parseAnswer(result as { statusCode: number; body: string }), lines };
  }

  const sent = (queueUrl: string) =>
    sqs.commandCalls(SendMessageCommand).filter((call) => call.args[0].input.QueueUrl === queueUrl);

  describe("API Gateway REST proxy events (the receive path)", () => {
    it("aws-lambda-go's apigw-request.json carrying a signed push on the route's path is queued: 202, one message to the FIFO queue", async () => {
      const body = pushBody();
      const event = delivery(awsLambdaGoRequest, { body, headers: githubHeaders(body) });
      const reply = await answer(event);
      expect(reply.statusCode).to.equal(202);
      expect(reply.body).to.deep.equal({
        status: "queued",
        route: "api-build",
        delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        reason: "matched: repo acme/api, event push, branch main",
      });
      expect(sent(QUEUE)).to.have.length(1);
      expect(sent(QUEUE)[0]?.args[0].input).to.deep.include({
        MessageGroupId: "acme/api",
        MessageDeduplicationId: "72d3162e-cc78-11e3-81ab-4c9367dc0958:1",
      });
      expect(reply.lines.find((line) => line.msg === "delivery")).to.deep.include({
        level: "info",
        decision: "queued",
        status: 202,
        via: "signature",
      });
    });

    it("aws-lambda-go's apigw-request.json carrying a signed push to a branch the route does not match is ignored: 200, nothing queued", async () => {
      const body = pushBody("feature/login");
      const reply = await answer(delivery(awsLambdaGoRequest, { body, headers: githubHeaders(body) }));
      expect(reply.statusCode).to.equal(200);
      expect(reply.body.status).to.equal("ignored");
      expect(sqs.commandCalls(SendMessageCommand)).to.have.length(0);
    });

    it("aws-lambda-go's apigw-request.json signed with another secret is rejected: 401, nothing claimed or queued", async () => {
      const body = pushBody();
      const headers = githubHeaders(body, { secret: "not the route's secret" });
      const reply = await answer(delivery(awsLambdaGoRequest, { body, headers }));
      expect(reply.statusCode).to.equal(401);
      expect(reply.body).to.deep.include({ status: "rejected", reason: "signature invalid" });
      expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(0);
      expect(sqs.commandCalls(SendMessageCommand)).to.have.length(0);
    });

    it("aws-lambda-go's apigw-request.json without isBase64Encoded (as published) verifies its own CRLF and tab body over the exact bytes: a ping gets 200 pong", async () => {
      const body = Buffer.from(awsLambdaGoRequest.body ?? "", "utf8");
      expect(body.includes("\r\n\t")).to.equal(true);
      const event = delivery(awsLambdaGoRequest, { headers: githubHeaders(body, { event: "ping" }) });
      expect(event).not.to.have.property("isBase64Encoded");
      const reply = await answer(event);
      expect(reply.statusCode).to.equal(200);
      expect(reply.body.status).to.equal("pong");
    });

    it("aws-lambda-go's apigw-request.json signed over its body with CRLF turned into LF is rejected: 401", async () => {
      const lf = Buffer.from((awsLambdaGoRequest.body ?? "").replace(/\r\n/g, "\n"), "utf8");
      const reply = await answer(
        delivery(awsLambdaGoRequest, { headers: githubHeaders(lf, { event: "ping" }) }),
      );
      expect(reply.statusCode).to.equal(401);
      expect(reply.body.reason).to.equal("signature invalid");
    });

    it("a published event with isBase64Encoded true is decoded before verifying: 202; a signature over the base64 text: 401", async () => {
      const body = pushBody();
      const decoded = await answer(
        delivery(awsLambdaGoRequest, { body, headers: githubHeaders(body), base64: true }),
      );
      expect(decoded.statusCode).to.equal(202);
      const overText = Buffer.from(body.toString("base64"), "utf8");
      const text = await answer(
        delivery(awsLambdaGoRequest, {
          body,
          headers: githubHeaders(body, { signature: sign(WEBHOOK_SECRET, overText), deliveryId: "d-2" }),
          base64: true,
        }),
      );
      expect(text.statusCode).to.equal(401);
      expect(sent(QUEUE)).to.have.length(1);
    });

    for (const into of ["multiValueHeaders", "headers"] as const) {
      it(`a signed push whose GitHub headers are only in ${into} of aws-lambda-go's apigw-request.json is queued: 202`, async () => {
        const body = pushBody();
        const reply = await answer(
          delivery(awsLambdaGoRequest, { body, headers: githubHeaders(body), into }),
        );
        expect(reply.statusCode).to.equal(202);
        expect(sent(QUEUE)).to.have.length(1);
      });
    }

    it("Powertools' console test event (headers, multiValueHeaders and body null) on the route's path is rejected without a crash: 401 signature missing", async () => {
      const event = delivery(powertoolsConsoleTest);
      expect([event.headers, event.multiValueHeaders, event.body]).to.deep.equal([null, null, null]);
      const reply = await answer(event);
      expect(reply.statusCode).to.equal(401);
      // No X-GitHub-Delivery: the id is the (empty) body's SHA-256, as for any delivery without one.
      expect(reply.body).to.deep.equal({
        status: "rejected",
        route: "api-build",
        delivery: `sha256:${createHash("sha256").update("").digest("hex")}`,
        reason: "signature missing: a github route reads X-Hub-Signature-256",
      });
    });

    it("Powertools' console test event on an allowlisted route is refused: 403 (its sourceIp 'test-invoke-source-ip' is no address)", async () => {
      const route = jenkinsRoute({
        auth: { allowIps: ["0.0.0.0/0", "::/0"], allowSha1: false, toleranceSeconds: 300 },
      });
      const reply = await answer(delivery(powertoolsConsoleTest), route);
      expect(reply.statusCode).to.equal(403);
      expect(reply.body.reason).to.equal("source IP not allowed");
    });

    it("Powertools' console test event with body null and a signature over the empty body (headers null, the signature in multiValueHeaders) is a 400 empty body", async () => {
      const headers = githubHeaders(Buffer.alloc(0));
      const reply = await answer(delivery(powertoolsConsoleTest, { headers, into: "multiValueHeaders" }));
      expect(reply.statusCode).to.equal(400);
      expect(reply.body).to.deep.include({ status: "rejected", reason: "empty body" });
      expect(sqs.commandCalls(SendMessageCommand)).to.have.length(0);
    });

    describe("the source address (Powertools' no-auth event: sourceIp 15.248.3.126, X-Forwarded-For '15.248.3.126, 130.176.209.21')", () => {
      const allowing = (cidr: string) =>
        jenkinsRoute({ auth: { allowIps: [cidr], allowSha1: false, toleranceSeconds: 300 } });
      const unsigned = () => {
        const body = pushBody();
        return { body, headers: githubHeaders(body, { signature: null }) };
      };

      it("an unsigned push from requestContext.identity.sourceIp inside the allowlist is queued: 202 via ip-allowlist", async () => {
        const reply = await answer(delivery(powertoolsNoAuth, unsigned()), allowing("15.248.3.0/24"));
        expect(reply.statusCode).to.equal(202);
        expect(reply.lines.find((line) => line.msg === "delivery")).to.deep.include({ via: "ip-allowlist" });
      });

      it("an unsigned push whose X-Forwarded-For hop (130.176.209.21) is allowlisted but whose sourceIp is not is refused: 403", async () => {
        const reply = await answer(delivery(powertoolsNoAuth, unsigned()), allowing("130.176.209.21/32"));
        expect(reply.statusCode).to.equal(403);
        expect(sqs.commandCalls(SendMessageCommand)).to.have.length(0);
      });

      it("an unsigned push with sourceIp replaced by 192.0.2.10 is refused though X-Forwarded-For still names the allowlisted 15.248.3.126: 403", async () => {
        const event = delivery(powertoolsNoAuth, { ...unsigned(), sourceIp: "192.0.2.10" });
        expect(event.headers?.["X-Forwarded-For"]).to.equal("15.248.3.126, 130.176.209.21");
        const reply = await answer(event, allowing("15.248.3.0/24"));
        expect(reply.statusCode).to.equal(403);
      });

      it("a signed push from a sourceIp outside the allowlist is queued: the HMAC decides, 202", async () => {
        const body = pushBody();
        const reply = await answer(
          delivery(powertoolsNoAuth, { body, headers: githubHeaders(body) }),
          allowing("192.0.2.0/24"),
        );
        expect(reply.statusCode).to.equal(202);
      });
    });

    it("the Lambda guide's REST event (a GET, as published) on the route's path is refused: 405 with Allow: POST", async () => {
      const reply = await answer(delivery(lambdaGuideRest));
      expect(reply.statusCode).to.equal(405);
      expect(reply.headers).to.deep.include({ allow: "POST" });
    });

    it("the Lambda guide's REST event as a POST with lower-case header names, as API Gateway passes them, carrying a signed push is queued: 202", async () => {
      const body = pushBody();
      const headers = Object.fromEntries(
        Object.entries({ ...githubHeaders(body), "Content-Type": "application/json" }).map(
          ([name, value]) => [name.toLowerCase(), value],
        ),
      );
      const event = { ...delivery(lambdaGuideRest, { body, headers }), httpMethod: "POST" };
      const reply = await answer(event);
      expect(reply.statusCode).to.equal(202);
    });
  });

  describe("SQS events (the work path)", () => {
    const FIFO_MESSAGE_ID = "11d6ee51-4cc7-4302-9e22-7cd8afdaadf5";

    it("a published REST event's queued message, put into the Lambda guide's FIFO record, runs the action once with the item sent: batchItemFailures []", async () => {
      const body = pushBody();
      const received = await answer(delivery(awsLambdaGoRequest, { body, headers: githubHeaders(body) }));
      expect(received.statusCode).to.equal(202);
      const message = sent(QUEUE)[0]?.args[0].input;
      const event = structuredClone(lambdaGuideSqsFifo);
      const record = event.Records[0];
      if (!record || !message?.MessageBody) throw new Error("no record or no message");
      record.body = message.MessageBody;
      record.attributes.MessageGroupId = message.MessageGroupId as string;
      record.attributes.MessageDeduplicationId = message.MessageDeduplicationId as string;
      sqs.resetHistory();
      ddb.resetHistory();

      const { result } = await invoke(event);
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(ran).to.have.length(1);
      expect(ran[0]).to.deep.equal(JSON.parse(message.MessageBody));
      // marked done for the generation it ran
      const marks = ddb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);
      expect(marks.some((input) => JSON.stringify(input).includes('"done"'))).to.equal(true);
    });

    it("the Lambda guide's FIFO record carrying a work item whose action fails (retryable) is held by its receiptHandle for the invocation's time before the action, then reported by its messageId and backed off", async () => {
      behaviour = async () => {
        throw new ActionError("Jenkins answered 503", { retryable: true });
      };
      const { result, lines } = await invoke(carrying(lambdaGuideSqsFifo, workItem()));
      expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: FIFO_MESSAGE_ID }] });
      const receiptHandle = "AQEBBX8nesZEXmkhsmZeyIE8iQAMig7qw...";
      // The hold: the context's 300 s left and HOLD_MARGIN_MS' 30; then the backoff of attempt 1.
      expect(
        sqs.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input),
      ).to.deep.equal([
        { QueueUrl: QUEUE, ReceiptHandle: receiptHandle, VisibilityTimeout: 330 },
        { QueueUrl: QUEUE, ReceiptHandle: receiptHandle, VisibilityTimeout: 30 },
      ]);
      expect(lines.find((line) => line.msg === "attempt")).to.deep.include({
        messageId: FIFO_MESSAGE_ID,
        attempt: 1,
        outcome: "retry",
      });
    });

    it("the Lambda guide's FIFO record carrying a work item whose action fails for good is dead-lettered and reported done: batchItemFailures []", async () => {
      behaviour = async () => {
        throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
      };
      const { result } = await invoke(carrying(lambdaGuideSqsFifo, workItem()));
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(sent(DLQ)).to.have.length(1);
      expect(sent(DLQ)[0]?.args[0].input.MessageAttributes?.["hookgate-reason"]?.StringValue).to.equal(
        "final: Jenkins job api/build not found (404)",
      );
    });

    it('aws-lambda-go\'s sqs-event.json with ApproximateReceiveCount "2" (a string, as published) is attempt 2: backed off 60 s, the attempt line says 2', async () => {
      behaviour = async () => {
        throw new ActionError("Jenkins answered 503", { retryable: true });
      };
      const event = carrying(awsLambdaGoSqs, workItem());
      expect(event.Records[0]?.attributes.ApproximateReceiveCount).to.equal("2");
      const { result, lines } = await invoke(event);
      expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "MessageID_1" }] });
      // The last change: the backoff (the first is the hold before the action).
      expect(sqs.commandCalls(ChangeMessageVisibilityCommand).at(-1)?.args[0].input).to.deep.include({
        ReceiptHandle: "MessageReceiptHandle",
        VisibilityTimeout: 60,
      });
      expect(lines.find((line) => line.msg === "attempt")).to.deep.include({ attempt: 2, outcome: "retry" });
    });

    it(`aws-lambda-go's sqs-event.json with ApproximateReceiveCount "${MAX_ATTEMPTS}" is the last attempt: a retryable failure is dead-lettered, batchItemFailures []`, async () => {
      behaviour = async () => {
        throw new ActionError("Jenkins answered 503", { retryable: true });
      };
      const event = carrying(awsLambdaGoSqs, workItem(), { ApproximateReceiveCount: String(MAX_ATTEMPTS) });
      const { result } = await invoke(event);
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(sent(DLQ)[0]?.args[0].input.MessageAttributes?.["hookgate-reason"]?.StringValue).to.equal(
        `gave up after ${MAX_ATTEMPTS} receives: Jenkins answered 503`,
      );
    });

    const samples: Array<[string, SQSEvent]> = [
      ["the Lambda guide's standard-queue sample (two records)", lambdaGuideSqsStandard],
      ["the Lambda guide's FIFO sample", lambdaGuideSqsFifo],
      ["aws-lambda-go's sqs-event.json", awsLambdaGoSqs],
    ];
    for (const [label, sample] of samples) {
      it(`${label} as published (a body that is no work item) is dead-lettered as is with its reason, logged as an error, and reported done`, async () => {
        const { result, lines } = await invoke(sample);
        expect(result).to.deep.equal({ batchItemFailures: [] } satisfies SQSBatchResponse);
        expect(ran).to.have.length(0);
        expect(sent(QUEUE)).to.have.length(0);
        const letters = sent(DLQ).map((call) => call.args[0].input);
        expect(letters.map((input) => input.MessageBody)).to.deep.equal(sample.Records.map((r) => r.body));
        for (const input of letters) {
          expect(input.MessageGroupId).to.equal("hookgate-unparsable");
          expect(input.MessageAttributes?.["hookgate-reason"]?.StringValue).to.equal(
            "unreadable work item: message body is not JSON",
          );
        }
        const attempts = lines.filter((line) => line.msg === "attempt");
        expect(attempts.map((line) => [line.messageId, line.outcome, line.level])).to.deep.equal(
          sample.Records.map((r) => [r.messageId, "dead", "error"]),
        );
      });
    }

    it("the Lambda guide's standard sample's two records, both 'Test message.', get a dead letter each: their deduplication ids differ (SQS keeps one of two sends with the same id within 5 minutes)", async () => {
      await invoke(lambdaGuideSqsStandard);
      const ids = sent(DLQ).map((call) => call.args[0].input.MessageDeduplicationId);
      expect(ids).to.have.length(2);
      expect(new Set(ids).size).to.equal(2);
    });

    it("the Lambda guide's standard sample as published, with the DLQ unreachable, comes back: each record in batchItemFailures and a failed line, nothing dropped", async () => {
      sqs
        .on(SendMessageCommand, { QueueUrl: DLQ })
        .rejects(
          Object.assign(new Error("Service Unavailable"), { name: "ServiceUnavailable", $fault: "server" }),
        );
      const { result, lines } = await invoke(lambdaGuideSqsStandard);
      expect(result).to.deep.equal({
        batchItemFailures: lambdaGuideSqsStandard.Records.map((r) => ({ itemIdentifier: r.messageId })),
      });
      const attempts = lines.filter((line) => line.msg === "attempt");
      expect(attempts.map((line) => line.outcome)).to.deep.equal(["failed", "failed"]);
      expect(String(attempts[0]?.error)).to.contain(
        "unreadable work item: message body is not JSON; dead-lettering failed",
      );
    });
  });
});
