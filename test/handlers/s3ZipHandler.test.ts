// The deployed s3-zip function (handlers/s3-zip.ts) through its SQS records, with the SDK and S3 stubbed at
// the client boundary: it must give the action the item's acceptance time, as runAction does, and refuse a
// work item of another action type as final.
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { handler as s3ZipHandler } from "../../handlers/s3-zip";
import type { Route, WorkItem } from "../../src/core/types";
import { jenkinsRoute, SHA, sqsEvent, sqsRecord, workItem } from "../gateway/support";
import { stubSdkClients } from "../support/sdkStubs";

const API = {
  provider: "github" as const,
  apiUrl: "https://api.github.invalid",
  token: "hookgate/github-token",
};

describe("Deployed handlers: the s3-zip function", () => {
  let stubs: ReturnType<typeof stubSdkClients>;
  let s3: ReturnType<typeof mockClient>;
  const savedEnv = process.env;
  const stdout = process.stdout.write;
  let lines: Array<Record<string, unknown>> = [];

  before(() => {
    stubs = stubSdkClients();
    s3 = mockClient(S3Client);
    const route = jenkinsRoute({
      action: { type: "s3-zip", api: API, bucket: "artifacts", key: "{{repo.path}}/{{branch.path}}/src.zip" },
    } as Partial<Route>);
    // Read once per cold start: the module keeps the route handler it builds on its first event.
    process.env = {
      ...savedEnv,
      HOOKGATE_ROUTE: JSON.stringify(route),
      HOOKGATE_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build.fifo",
      HOOKGATE_DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build-dlq.fifo",
      HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
      AWS_REGION: "eu-west-1",
    };
  });
  beforeEach(() => {
    stubs.ddb.on(UpdateItemCommand).resolves({});
    stubs.ddb.on(GetItemCommand).resolves({});
    stubs.sqs.on(SendMessageCommand).resolves({ MessageId: "dlq-1" });
    stubs.sqs.on(ChangeMessageVisibilityCommand).resolves({});
    stubs.sm
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: "none", $metadata: {} }));
    lines = [];
    process.stdout.write = ((chunk: string) => {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line));
      return true;
    }) as typeof process.stdout.write;
  });
  afterEach(() => {
    process.stdout.write = stdout;
    stubs.sqs.reset();
    stubs.ddb.reset();
    stubs.sm.reset();
    s3.reset();
  });
  after(() => {
    process.env = savedEnv;
    stubs.sqs.restore();
    stubs.ddb.restore();
    stubs.sm.restore();
    s3.restore();
  });

  async function run(item: WorkItem): Promise<SQSBatchResponse> {
    return (await s3ZipHandler(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: 1 })]), {
      getRemainingTimeInMillis: () => 120_000,
    } as Context)) as SQSBatchResponse;
  }

  it("a redriven s3-zip delivery accepted before the zip in place was is skipped before any download: the function gives the action the item's acceptedAt", async () => {
    // The key holds a newer delivery's zip (another commit, accepted a day later).
    s3.on(HeadObjectCommand).resolves({
      Metadata: { sha: "1".repeat(40), "accepted-at": "2026-01-02T00:00:00.000Z", "delivery-id": "newer" },
      ETag: '"etag-newer"',
    });
    const item = workItem({
      acceptedAt: "2026-01-01T00:00:00.000Z",
      request: { type: "s3-zip", api: API, bucket: "artifacts", key: "acme/api/main/src.zip" },
    });
    const answer = await run(item);
    process.stdout.write = stdout;
    expect(answer.batchItemFailures).to.deep.equal([]);
    const attempt = lines.find((line) => line.msg === "attempt");
    expect(attempt?.outcome, JSON.stringify(attempt)).to.equal("skipped");
    expect(item.event.sha).to.equal(SHA);
  });

  it("a jenkins work item reaching the s3-zip function (the route's action type changed while it was queued) is dead-lettered final with the README's message", async () => {
    const answer = await run(workItem());
    process.stdout.write = stdout;
    expect(answer.batchItemFailures).to.deep.equal([]);
    const dead = lines.find((line) => line.outcome === "dead");
    expect(dead?.error).to.equal('final: this function runs s3-zip actions, not "jenkins"');
    expect(stubs.sqs.commandCalls(SendMessageCommand)).to.have.length(1);
  });
});
