// The deployed entry points (handlers/*.ts) through their SQS records, with the SDK stubbed at the client
// boundary and real local Jenkins and Git-host servers: they must give an action the same delivery context as
// runAction (serve), so a retry finds the build its lost request started.
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { GetSecretValueCommand, ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse } from "aws-lambda";
import { expect } from "chai";
import { handler as jenkinsHandler } from "../../handlers/jenkins";
import { handler as prCleanupHandler } from "../../handlers/pr-cleanup";
import type { Route, WorkItem } from "../../src/core/types";
import { closedPrEvent, HOST_TOKEN, JENKINS_TOKEN, JENKINS_USER, mergedPull } from "../actions/helpers";
import { jenkinsRoute, sqsEvent, sqsRecord, workItem } from "../gateway/support";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { stubSdkClients } from "../support/sdkStubs";

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-route.fifo";
const DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-route-dlq.fifo";

describe("Deployed handlers: a retry after a lost Jenkins answer", () => {
  // Created in before() and restored in after(): a class-level stub must not outlive this block.
  let stubs: ReturnType<typeof stubSdkClients>;
  let jenkins: JenkinsServer;
  let host: GitHostServer;
  const savedEnv = process.env;
  const stdout = process.stdout.write;

  before(() => {
    stubs = stubSdkClients();
  });
  beforeEach(async () => {
    const { sqs, ddb, sm } = stubs;
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "SHA" }, { name: "DELIVERY" }, { name: "PR" }],
    });
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    sm.on(GetSecretValueCommand, { SecretId: "hookgate/jenkins", VersionStage: "AWSCURRENT" }).resolves({
      SecretString: JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN }),
    });
    sm.on(GetSecretValueCommand, { SecretId: "hookgate/github-token", VersionStage: "AWSCURRENT" }).resolves({
      SecretString: HOST_TOKEN,
    });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(
      new ResourceNotFoundException({ message: "none", $metadata: {} }),
    );
    ddb.on(UpdateItemCommand).resolves({});
    ddb.on(GetItemCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-dlq" });
  });
  afterEach(async () => {
    process.stdout.write = stdout;
    process.env = savedEnv;
    stubs.sqs.reset();
    stubs.ddb.reset();
    stubs.sm.reset();
    await jenkins.close();
    await host.close();
  });
  after(() => {
    stubs.sqs.restore();
    stubs.ddb.restore();
    stubs.sm.restore();
  });

  /**
   * One work item through a deployed handler twice, as SQS delivers it: the first receive meets Jenkins' 504
   * (it built), which is retryable; the second, receive count 2, succeeds.
   */
  async function failThenRetry(handler: typeof jenkinsHandler, route: Route, item: WorkItem): Promise<void> {
    process.env = {
      ...savedEnv,
      HOOKGATE_ROUTE: JSON.stringify(route),
      HOOKGATE_QUEUE_URL: QUEUE,
      HOOKGATE_DLQ_URL: DLQ,
      HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
      AWS_REGION: "eu-west-1",
    };
    const context = { getRemainingTimeInMillis: () => 120_000 } as Context;
    const receive = async (receiveCount: number) => {
      const record = sqsRecord(JSON.stringify(item), { id: "m-1", receiveCount, group: "acme/api" });
      return ((await handler(sqsEvent([record]), context)) as SQSBatchResponse).batchItemFailures;
    };
    jenkins.script({ status: 504, build: true });
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await receive(1), "the 504 is retryable").to.deep.equal([{ itemIdentifier: "m-1" }]);
      expect(await receive(2)).to.deep.equal([]);
    } finally {
      process.stdout.write = stdout;
    }
  }

  function item() {
    const base = workItem({ deliveryId: "d-lost", acceptedAt: new Date(Date.now() - 1000).toISOString() });
    return {
      ...base,
      request: {
        type: "jenkins" as const,
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
        job: ["api", "build"],
        parameters: { SHA: "abc", DELIVERY: "d-lost" },
      },
    };
  }

  it("the deployed jenkins handler's retry after a 504 from a Jenkins that built finds that build and posts no second one", async () => {
    await failThenRetry(jenkinsHandler, jenkinsRoute({}, jenkins.url), item());
    // README ("a retry looks for the build first"): the retry is done with build #1 and posts nothing.
    expect(jenkins.builds(), "build requests Jenkins received").to.have.length(1);
  });
  it("the deployed pr-cleanup handler's retry after its teardown step's 504 from a Jenkins that built finds that build and posts no second one", async () => {
    const request = {
      type: "pr-cleanup" as const,
      api: { provider: "github" as const, apiUrl: host.url, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [
        {
          kind: "jenkins" as const,
          request: {
            type: "jenkins" as const,
            jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
            job: ["previews", "teardown"],
            parameters: { PR: "7" },
          },
        },
      ],
    };
    const route = {
      name: "pr-cleanup",
      provider: "github",
      secret: "hookgate/github-webhook",
      auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
      match: { repos: ["acme/api"], events: ["pull_request"] },
      action: { type: "pr-cleanup", api: request.api, context: request.context, steps: [] },
    } as unknown as Route;
    const event = closedPrEvent();
    const item: WorkItem = {
      v: 1,
      route: "pr-cleanup",
      deliveryId: event.deliveryId,
      generation: 1,
      acceptedAt: new Date(Date.now() - 1000).toISOString(),
      event,
      request,
    } as WorkItem;
    await failThenRetry(prCleanupHandler, route, item);
    expect(jenkins.builds(), "teardown build requests Jenkins received").to.have.length(1);
  });
});
