// pr-cleanup's commit status on the queue's last attempt: the work path tells the action it is the last one
// (maxAttempts), so a retryable failure then, which is dead-lettered, never leaves "pending … will retry".
import type { SQSRecord } from "aws-lambda";
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import { MAX_ATTEMPTS } from "../../src/core/policy";
import type { PrCleanupRequest } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import {
  closedPrEvent,
  HOST_TOKEN,
  JENKINS_TOKEN,
  JENKINS_USER,
  mergedPull,
  testClients,
} from "../actions/helpers";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { MemorySecretStore } from "../support/secrets";
import {
  jenkinsRoute,
  LogCollector,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  workItem,
} from "./support";

describe("Function: createRouteHandler.work running pr-cleanup whose teardown fails retryably", () => {
  let host: GitHostServer;
  let jenkins: JenkinsServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    jenkins.script(...Array.from({ length: 10 }, () => ({ status: 503 })));
  });
  afterEach(async () => {
    await host.close();
    await jenkins.close();
  });

  /** Runs one receive of the delivery, the queue's `receiveCount`th; the dead letters after it. */
  async function receive(receiveCount: number): Promise<RecordingDeadLetters> {
    const request: PrCleanupRequest = {
      type: "pr-cleanup",
      api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [
        {
          kind: "jenkins",
          request: {
            type: "jenkins",
            jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
            job: ["previews", "teardown"],
            parameters: { PR: "7" },
          },
        },
      ],
    };
    const event = closedPrEvent();
    const deadLetters = new RecordingDeadLetters();
    const dedupe = new MemoryDedupeStore();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters,
      dedupe,
      // As the Lambda runtime and serve do: the limits go into the action's clients.
      runAction: async (_item, limits) =>
        cleanUpPullRequest(request, event, testClients({ lastAttempt: limits?.lastAttempt })),
      log: new LogCollector().log,
      backoff: async (_r: SQSRecord, _d: number) => undefined,
    });
    const item = workItem({ route: "api-build", event, request });
    const claim = await dedupe.claim(item.route, item.deliveryId);
    if (!claim.claimed) throw new Error("setup: the delivery was not claimed");
    item.generation = claim.generation;
    await dedupe.mark(item.route, item.deliveryId, claim.generation, "queued");
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount })]));
    return deadLetters;
  }

  it("on the queue's last receive it dead-letters the delivery and sets the commit status to failure, saying no retry follows", async () => {
    const deadLetters = await receive(MAX_ATTEMPTS);
    expect(deadLetters.items.map((d) => d.reason)).to.have.length(1);
    expect(deadLetters.items[0]?.reason).to.match(/^gave up after \d+ receives: /);
    const last = host.statuses.at(-1);
    expect(last?.state).to.equal("failure");
    expect(last?.description).to.match(/^jenkins failed: /);
    expect(last?.description).not.to.contain("will retry");
  });

  it("on an earlier receive it leaves the commit status pending, saying a retry follows", async () => {
    const deadLetters = await receive(1);
    expect(deadLetters.items).to.deep.equal([]);
    const last = host.statuses.at(-1);
    expect(last?.state).to.equal("pending");
    expect(last?.description).to.match(/^jenkins failed, will retry: /);
  });
});
