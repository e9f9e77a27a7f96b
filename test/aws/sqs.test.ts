import { createHash } from "node:crypto";
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import {
  messageDeduplicationId,
  messageGroupId,
  SqsDeadLetterQueue,
  SqsWorkQueue,
  sqsBackoff,
} from "../../src/aws/sqs";
import {
  MessageReceivedAgainError,
  TransientDependencyError,
  WorkItemTooLargeError,
} from "../../src/core/errors";
import { MAX_WORK_ITEM_BYTES } from "../../src/core/policy";
import type { WorkItem } from "../../src/core/types";

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build.fifo";
const DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build-dlq.fifo";

function item(overrides: Partial<WorkItem> = {}, fullName = "acme/api"): WorkItem {
  return {
    v: 1,
    route: "api-build",
    deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    generation: 1,
    acceptedAt: "2026-01-01T00:00:00.000Z",
    event: {
      provider: "github",
      deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      event: "push",
      repo: { owner: "acme", name: "api", fullName },
      ref: "refs/heads/main",
      branch: "main",
      sha: "a".repeat(40),
      deleted: false,
    },
    request: {
      type: "jenkins",
      jenkins: { url: "https://jenkins.example.com", credentials: "hookgate/jenkins", crumb: false },
      job: ["api", "build"],
      parameters: { SHA: "a".repeat(40) },
    },
    ...overrides,
  };
}

describe("Module: src/aws/sqs", () => {
  const client = new SQSClient({ region: "eu-west-1" });
  const stub = () => mockClient(client);
  let sqs: ReturnType<typeof stub>;
  before(() => {
    sqs = stub();
  });
  beforeEach(() => sqs.reset());
  after(() => sqs.restore());

  it("SqsWorkQueue.send(item) sends the item as JSON with group = repository and dedupe id = delivery:generation", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    const work = item({ generation: 2 });
    await new SqsWorkQueue(client, QUEUE).send(work);
    const calls = sqs.commandCalls(SendMessageCommand);
    expect(calls).to.have.length(1);
    const input = calls[0]?.args[0].input;
    expect(input).to.deep.equal({
      QueueUrl: QUEUE,
      MessageBody: JSON.stringify(work),
      MessageGroupId: "acme/api",
      MessageDeduplicationId: "72d3162e-cc78-11e3-81ab-4c9367dc0958:2",
    });
  });

  it("SqsWorkQueue.send(item) refuses an item over 1 MiB less the dead letter's room with WorkItemTooLargeError, sending nothing", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    const base = item();
    const request = {
      ...base.request,
      parameters: { COMMITS: "x".repeat(1_040_384) },
    } as WorkItem["request"];
    const error = await new SqsWorkQueue(client, QUEUE).send({ ...base, request }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(WorkItemTooLargeError);
    expect((error as WorkItemTooLargeError).limit).to.equal(1_040_384);
    expect(sqs.commandCalls(SendMessageCommand)).to.have.length(0);
  });

  it("SqsWorkQueue.send(item) sends an item of 300 KiB, over SQS's old 256 KiB: the stack's queues and Lambda's event source mapping take 1 MiB", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    const base = item();
    const fits = { ...base.request, parameters: { COMMITS: "x".repeat(300 * 1024) } } as WorkItem["request"];
    await new SqsWorkQueue(client, QUEUE).send({ ...base, request: fits });
    expect(sqs.commandCalls(SendMessageCommand)).to.have.length(1);
  });

  it("SqsWorkQueue.send(item) maps a throttled SQS to TransientDependencyError", async () => {
    sqs.on(SendMessageCommand).rejects(
      Object.assign(new Error("slow down"), {
        name: "RequestThrottled",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const error = await new SqsWorkQueue(client, QUEUE).send(item()).catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
  });

  it("SqsWorkQueue.send(item) still fails (not transient) on a 4xx the queue will not forgive", async () => {
    sqs.on(SendMessageCommand).rejects(
      Object.assign(new Error("bad"), {
        name: "InvalidParameterValue",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await new SqsWorkQueue(client, QUEUE).send(item()).catch((e) => e);
    expect(error).to.be.instanceOf(Error);
    expect(error).not.to.be.instanceOf(TransientDependencyError);
  });

  /** What SQS refuses in a body or a String attribute (SendMessage: XML 1.0's characters only). */
  const NOT_SQS_TEXT = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

  it("SqsWorkQueue.send(item) escapes U+FFFE and U+FFFF, which SQS refuses, so the body parses back to the same item", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-5" });
    const work = item({
      request: {
        type: "jenkins",
        jenkins: { url: "https://jenkins.example.com", credentials: "hookgate/jenkins", crumb: false },
        job: ["api", "build"],
        parameters: { MESSAGE: "fix \uFFFE and \uFFFF, keep \u00e7 \u2028 \u{1F600} and \ud800 \u0001" },
      },
    });
    work.event.branch = "feature/\uFFFF";
    await new SqsWorkQueue(client, QUEUE).send(work);
    const body = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? "";
    expect(NOT_SQS_TEXT.test(body)).to.equal(false);
    expect(JSON.parse(body)).to.deep.equal(work);
  });

  it("SqsDeadLetterQueue.send(item, reason) sends a body and attributes SQS takes: U+FFFF replaced, no surrogate pair cut in two", async () => {
    sqs.on(SendMessageCommand).resolves({});
    const work = item();
    work.event.branch = "\uFFFF";
    await new SqsDeadLetterQueue(client, DLQ).send(
      work,
      `final: \uFFFF ${"x".repeat(1013)}\u{1F600}\u{1F600}\u{1F600}`,
    );
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(NOT_SQS_TEXT.test(input?.MessageBody ?? "")).to.equal(false);
    expect(JSON.parse(input?.MessageBody ?? "")).to.deep.equal(work);
    const reason = input?.MessageAttributes?.["hookgate-reason"]?.StringValue ?? "";
    expect(NOT_SQS_TEXT.test(reason)).to.equal(false);
    expect(reason.startsWith("final: \uFFFD x")).to.equal(true);
    expect(Array.from(reason)).to.have.length(1024);
  });

  const groupCases: Array<[string, string]> = [
    ["acme/api", "acme/api"],
    ["group/sub group/ünï", "group/sub_group/_n_"],
  ];
  for (const [fullName, expected] of groupCases) {
    it(`messageGroupId keeps SQS's characters only: ${JSON.stringify(fullName)} -> ${JSON.stringify(expected)}`, () => {
      expect(messageGroupId(item({}, fullName))).to.equal(expected);
    });
  }

  it("messageGroupId hashes a repository name longer than 128 characters", () => {
    const id = messageGroupId(item({}, `g/${"x".repeat(200)}`));
    expect(id).to.match(/^[0-9a-f]{64}$/);
  });

  it("messageDeduplicationId hashes an id that is too long or has characters SQS refuses", () => {
    expect(messageDeduplicationId(item({ deliveryId: "d".repeat(130) }))).to.match(/^[0-9a-f]{64}$/);
    expect(messageDeduplicationId(item({ deliveryId: "has space" }))).to.match(/^[0-9a-f]{64}$/);
    expect(messageDeduplicationId(item({ deliveryId: "has space", generation: 2 }))).not.to.equal(
      messageDeduplicationId(item({ deliveryId: "has space", generation: 1 })),
    );
  });

  // SQS refuses a message attribute whose value is empty (MessageAttributeValue: "Name, type, value and the
  // message body must not be empty"): the letter would not be parked at all.
  it("SqsDeadLetterQueue.send(item, reason) leaves out an attribute whose value is empty, and carries an empty reason as unknown", async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsDeadLetterQueue(client, DLQ).send(item({ deliveryId: "" }), "");
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.MessageAttributes).to.deep.equal({
      "hookgate-reason": { DataType: "String", StringValue: "unknown" },
      "hookgate-route": { DataType: "String", StringValue: "api-build" },
    });
  });

  it("SqsDeadLetterQueue.send(item, reason) carries the reason as the hookgate-reason attribute", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-2" });
    const work = item();
    await new SqsDeadLetterQueue(client, DLQ).send(work, "final: Jenkins answered 404 for job api/build");
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).to.equal(DLQ);
    expect(input?.MessageBody).to.equal(JSON.stringify(work));
    expect(input?.MessageGroupId).to.equal("acme/api");
    expect(input?.MessageDeduplicationId).to.equal("72d3162e-cc78-11e3-81ab-4c9367dc0958:1:dead");
    expect(input?.MessageAttributes?.["hookgate-reason"]).to.deep.equal({
      DataType: "String",
      StringValue: "final: Jenkins answered 404 for job api/build",
    });
    expect(input?.MessageAttributes?.["hookgate-route"]?.StringValue).to.equal("api-build");
  });

  it("SqsDeadLetterQueue.send(item, reason, messageId) deduplicates per failed message: a redriven copy is parked again, a retried send of the same one is not", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-4" });
    const dlq = new SqsDeadLetterQueue(client, DLQ);
    const work = item();
    await dlq.send(work, "final: 404", "msg-first");
    await dlq.send(work, "final: 404", "msg-redriven");
    await dlq.send(work, "final: 404", "msg-redriven");
    const ids = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageDeduplicationId);
    expect(ids).to.deep.equal([
      "72d3162e-cc78-11e3-81ab-4c9367dc0958:1:dead:msg-first",
      "72d3162e-cc78-11e3-81ab-4c9367dc0958:1:dead:msg-redriven",
      "72d3162e-cc78-11e3-81ab-4c9367dc0958:1:dead:msg-redriven",
    ]);
  });

  it("SqsDeadLetterQueue.sendRaw(body, reason) parks an unreadable message with its reason", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-3" });
    await new SqsDeadLetterQueue(client, DLQ).sendRaw(
      "not json",
      "unreadable work item: message body is not JSON",
    );
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.MessageBody).to.equal("not json");
    expect(input?.MessageGroupId).to.equal("hookgate-unparsable");
    expect(input?.MessageAttributes?.["hookgate-reason"]?.StringValue).to.contain("not JSON");
  });

  it("SqsDeadLetterQueue.send truncates a very long reason to fit an attribute", async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsDeadLetterQueue(client, DLQ).send(item(), "x".repeat(5000));
    const reason =
      sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.["hookgate-reason"];
    expect(reason?.StringValue?.length).to.equal(1024);
  });

  const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

  it("SqsWorkQueue.send(item) sends an item of exactly MAX_WORK_ITEM_BYTES; one byte more is refused", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    const base = item();
    const withPad = (pad: number) =>
      ({ ...base, request: { ...base.request, parameters: { PAD: "x".repeat(pad) } } }) as WorkItem;
    const pad = MAX_WORK_ITEM_BYTES - Buffer.byteLength(JSON.stringify(withPad(0)), "utf8");
    await new SqsWorkQueue(client, QUEUE).send(withPad(pad));
    expect(sqs.commandCalls(SendMessageCommand)).to.have.length(1);
    const error = await new SqsWorkQueue(client, QUEUE).send(withPad(pad + 1)).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(WorkItemTooLargeError);
    expect((error as WorkItemTooLargeError).bytes).to.equal(MAX_WORK_ITEM_BYTES + 1);
  });

  it("SqsDeadLetterQueue.send(item) of the largest work item, with the longest reason, route and delivery attributes, fits in SQS's 1 MiB, so it can be redriven back", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    // 4 bytes each in UTF-8: the most an attribute's code points can weigh.
    const wide = "\u{1F680}";
    const base = item({ route: wide.repeat(300), deliveryId: wide.repeat(300) });
    const withPad = (pad: number) =>
      ({ ...base, request: { ...base.request, parameters: { PAD: "x".repeat(pad) } } }) as WorkItem;
    const largest = withPad(MAX_WORK_ITEM_BYTES - Buffer.byteLength(JSON.stringify(withPad(0)), "utf8"));
    await new SqsWorkQueue(client, QUEUE).send(largest);
    await new SqsDeadLetterQueue(client, DLQ).send(largest, wide.repeat(5000), "m-1");
    const input = sqs.commandCalls(SendMessageCommand)[1]?.args[0].input;
    // What SQS counts in a message's size: the body, and each attribute's name, type and value.
    let size = Buffer.byteLength(input?.MessageBody ?? "", "utf8");
    for (const [name, value] of Object.entries(input?.MessageAttributes ?? {})) {
      size +=
        Buffer.byteLength(name) +
        Buffer.byteLength(value.DataType ?? "") +
        Buffer.byteLength(value.StringValue ?? "");
    }
    expect(Buffer.byteLength(input?.MessageBody ?? "", "utf8")).to.equal(MAX_WORK_ITEM_BYTES);
    expect(size).to.be.above(MAX_WORK_ITEM_BYTES + 6_000);
    expect(size).to.be.at.most(1_048_576);
  });

  it("SqsWorkQueue.send(item) says which send failed, and keeps the SDK error as the cause", async () => {
    const refused = Object.assign(new Error("bad"), {
      name: "InvalidParameterValue",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
    sqs.on(SendMessageCommand).rejects(refused);
    const error = await new SqsWorkQueue(client, QUEUE).send(item()).catch((e) => e);
    expect(error.message).to.equal("SQS SendMessage to the work queue failed: InvalidParameterValue: bad");
    expect(error.cause).to.equal(refused);
    const throttled = Object.assign(new Error("slow down"), {
      name: "RequestThrottled",
      $metadata: { httpStatusCode: 403 },
    });
    sqs.reset();
    sqs.on(SendMessageCommand).rejects(throttled);
    const transient = await new SqsWorkQueue(client, QUEUE).send(item()).catch((e) => e);
    expect(transient.message).to.equal(
      "SQS SendMessage to the work queue failed: RequestThrottled: slow down",
    );
    expect(transient.cause).to.equal(throttled);
  });

  it("SqsDeadLetterQueue.send and sendRaw fail with TransientDependencyError when SQS is throttled, saying so", async () => {
    sqs.on(SendMessageCommand).rejects(
      Object.assign(new Error("slow down"), {
        name: "RequestThrottled",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const dlq = new SqsDeadLetterQueue(client, DLQ);
    for (const error of [
      await dlq.send(item(), "final: 404").catch((e) => e),
      await dlq.sendRaw("not json", "unreadable").catch((e) => e),
    ]) {
      expect(error).to.be.instanceOf(TransientDependencyError);
      expect(error.message).to.equal(
        "SQS SendMessage to the dead-letter queue failed: RequestThrottled: slow down",
      );
    }
  });

  it("SqsDeadLetterQueue.sendRaw parks an empty body as (empty), deduplicated by the body's hash, and an empty reason as unknown", async () => {
    sqs.on(SendMessageCommand).resolves({});
    await new SqsDeadLetterQueue(client, DLQ).sendRaw("", "");
    await new SqsDeadLetterQueue(client, DLQ).sendRaw("not json", "unreadable work item");
    const inputs = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
    expect(inputs[0]).to.deep.equal({
      QueueUrl: DLQ,
      MessageBody: "(empty)",
      MessageGroupId: "hookgate-unparsable",
      MessageDeduplicationId: sha256(""),
      MessageAttributes: { "hookgate-reason": { DataType: "String", StringValue: "unknown" } },
    });
    expect(inputs[1]?.MessageDeduplicationId).to.equal(sha256("not json"));
  });

  it("SqsDeadLetterQueue.sendRaw(body, reason, messageId) deduplicates per queue message: two messages with one body are two letters, a retried send of one is one", async () => {
    sqs.on(SendMessageCommand).resolves({});
    const dlq = new SqsDeadLetterQueue(client, DLQ);
    await dlq.sendRaw("Test message.", "unreadable work item: message body is not JSON", "msg-1");
    await dlq.sendRaw("Test message.", "unreadable work item: message body is not JSON", "msg-2");
    await dlq.sendRaw("Test message.", "unreadable work item: message body is not JSON", "msg-1");
    const ids = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.MessageDeduplicationId);
    expect(ids[0]).to.not.equal(ids[1]);
    expect(ids[2]).to.equal(ids[0]);
    expect(ids[0]).to.not.equal(sha256("Test message."));
    for (const id of ids) expect(id).to.match(/^[0-9a-f]{64}$/);
  });

  it("SqsDeadLetterQueue.send names the route and the delivery in String attributes, cut to 256 characters", async () => {
    sqs.on(SendMessageCommand).resolves({});
    const longId = "d".repeat(300);
    await new SqsDeadLetterQueue(client, DLQ).send(item({ deliveryId: longId }), "final: 404");
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes).to.deep.equal({
      "hookgate-reason": { DataType: "String", StringValue: "final: 404" },
      "hookgate-route": { DataType: "String", StringValue: "api-build" },
      "hookgate-delivery": { DataType: "String", StringValue: `${"d".repeat(255)}…` },
    });
  });

  const reasonCases: Array<[string, string, string]> = [
    ["of exactly 1024 characters as it is", "r".repeat(1024), "r".repeat(1024)],
    // The end is kept too (409 characters, 40%), where pr-cleanup's "(after: …)" list of the steps done is.
    [
      "of 1025 characters as its start and its end, joined by an ellipsis",
      `${"h".repeat(700)}${"t".repeat(325)}`,
      `${"h".repeat(612)} … ${"h".repeat(84)}${"t".repeat(325)}`,
    ],
    [
      "of 1100 emoji, cut as whole code points at both ends",
      "\u{1F600}".repeat(1100),
      `${"\u{1F600}".repeat(612)} … ${"\u{1F600}".repeat(409)}`,
    ],
    // 1024 code points, 2048 UTF-16 units: nothing to cut.
    ["of 1024 emoji as it is", "\u{1F600}".repeat(1024), "\u{1F600}".repeat(1024)],
    // A list of the steps done longer than 409 characters lost its start (review h379): kept whole while the
    // start keeps 300 characters.
    [
      "of 1200 characters ending in a 500-character list of the steps done, that list whole",
      `${"h".repeat(700)} (after: ${"s".repeat(490)})`,
      `${"h".repeat(521)} …  (after: ${"s".repeat(490)})`,
    ],
    [
      "ending in a list of the steps done of 721 characters, the most kept whole beside 300 of its start",
      `${"h".repeat(500)} (after: ${"s".repeat(711)})`,
      `${"h".repeat(300)} …  (after: ${"s".repeat(711)})`,
    ],
    [
      "of 1200 characters ending in a list of the steps done too long to keep whole, its last 40%",
      `${"h".repeat(300)} (after: ${"s".repeat(890)})`,
      `${"h".repeat(300)} (after: ${"s".repeat(303)} … ${"s".repeat(408)})`,
    ],
  ];
  for (const [label, reason, expected] of reasonCases) {
    it(`SqsDeadLetterQueue.send carries a reason ${label}`, async () => {
      sqs.on(SendMessageCommand).resolves({});
      await new SqsDeadLetterQueue(client, DLQ).send(item(), reason);
      const attribute =
        sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.["hookgate-reason"];
      expect(attribute?.StringValue).to.equal(expected);
    });
  }

  it("messageGroupId keeps a repository name of exactly 128 characters and hashes one of 129", () => {
    const fits = `g/${"x".repeat(126)}`;
    expect(messageGroupId(item({}, fits))).to.equal(fits);
    expect(messageGroupId(item({}, `${fits}x`))).to.equal(sha256(`${fits}x`));
  });

  it("messageGroupId groups by the route when the event names no repository", () => {
    expect(messageGroupId(item({}, ""))).to.equal("api-build");
    const noRepo = item();
    (noRepo.event as { repo?: unknown }).repo = undefined;
    expect(messageGroupId(noRepo)).to.equal("api-build");
  });

  it("messageDeduplicationId keeps an id of exactly 128 characters and hashes one of 129", () => {
    const fits = "d".repeat(126); // + ":1"
    expect(messageDeduplicationId(item({ deliveryId: fits }))).to.equal(`${fits}:1`);
    expect(messageDeduplicationId(item({ deliveryId: `${fits}d` }))).to.equal(sha256(`${fits}d:1`));
  });

  it("sqsBackoff fails with TransientDependencyError when ChangeMessageVisibility is throttled, saying so", async () => {
    sqs.on(ChangeMessageVisibilityCommand).rejects(
      Object.assign(new Error("slow down"), {
        name: "RequestThrottled",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const record = { receiptHandle: "rh-1", messageId: "m" } as SQSRecord;
    const error = await sqsBackoff(client, QUEUE)(record, 1_000).catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(error.message).to.equal("SQS ChangeMessageVisibility failed: RequestThrottled: slow down");
  });

  // SQS's answers for a receipt handle that no longer holds the message, by name and, in a query-protocol
  // client, by its query code.
  const receivedAgainNames = [
    "ReceiptHandleIsInvalid",
    "MessageNotInflight",
    "AWS.SimpleQueueService.MessageNotInflight",
  ];
  for (const name of receivedAgainNames) {
    it(`sqsBackoff fails with MessageReceivedAgainError when ChangeMessageVisibility answers ${name}, and with a TransientDependencyError (cut short) when that answer comes at the deadline`, async () => {
      sqs.on(ChangeMessageVisibilityCommand).rejects(Object.assign(new Error("gone"), { name }));
      const record = { receiptHandle: "rh-1", messageId: "m" } as SQSRecord;
      const error = await sqsBackoff(client, QUEUE)(record, 1_000).catch((e) => e);
      expect(error).to.be.instanceOf(MessageReceivedAgainError);
      expect(error.message).to.equal(`SQS ChangeMessageVisibility failed: ${name}: gone`);
      const late = await sqsBackoff(client, QUEUE)(record, 1_000, { deadlineMs: Date.now() - 1 }).catch(
        (e) => e,
      );
      expect(late).to.not.be.instanceOf(MessageReceivedAgainError);
      expect(late).to.be.instanceOf(TransientDependencyError);
      expect(late.message).to.match(/cut short at the function's deadline/);
    });
  }

  const backoffCases: Array<[number, number]> = [
    [30_000, 30],
    [1_500, 2],
    [0, 0],
    [100 * 3600_000, 43_200],
  ];
  for (const [delayMs, seconds] of backoffCases) {
    it(`sqsBackoff(client, url)(record, ${delayMs}) sets VisibilityTimeout ${seconds}`, async () => {
      sqs.on(ChangeMessageVisibilityCommand).resolves({});
      const record = { receiptHandle: "rh-1", messageId: "m" } as SQSRecord;
      await sqsBackoff(client, QUEUE)(record, delayMs);
      expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).to.deep.equal({
        QueueUrl: QUEUE,
        ReceiptHandle: "rh-1",
        VisibilityTimeout: seconds,
      });
    });
  }
});
