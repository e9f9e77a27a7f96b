// A jenkins dead letter whose last attempt's build request reached Jenkins (a proxy's 504 after Jenkins queued it),
// redriven once the proxy is fixed: SQS makes it a new message (receive count 1), and its first receive must look
// for the build that attempt started before asking again. The runAction below passes the limits on as
// lambdaRuntime.buildRouteHandler does.
import { expect } from "chai";
import { runJenkinsItem } from "../../src/actions/jenkins";
import { runItem } from "../../src/actions/runItem";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { workItemJson } from "../../src/gateway/workItem";
import { testClients } from "../actions/helpers";
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

describe("Work path: redriving a jenkins dead letter whose last request reached Jenkins", () => {
  let jenkins: JenkinsServer;
  afterEach(async () => jenkins?.close());

  it("builds once: the redriven letter looks for the build its last attempt started before asking again", async () => {
    jenkins = await startJenkinsServer({
      definitions: [{ name: "SHA" }, { name: "DELIVERY" }],
      quietPeriodMs: 0,
    });
    const dedupe = new MemoryDedupeStore();
    const deadLetters = new RecordingDeadLetters();
    const logs = new LogCollector();
    const clients = testClients();
    const handler = createRouteHandler({
      route: jenkinsRoute({}, jenkins.url),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters,
      dedupe,
      // As lambdaRuntime.buildRouteHandler passes the limits on to the action.
      runAction: (item, limits) =>
        runItem(runJenkinsItem, item, {
          ...clients,
          ...(limits?.deadlineMs ? { deadlineMs: limits.deadlineMs } : {}),
          ...(limits?.lastAttempt ? { lastAttempt: true } : {}),
          ...(limits?.attempt ? { attempt: limits.attempt } : {}),
          ...(limits?.mayHaveRun ? { mayHaveRun: true } : {}),
        }),
      log: logs.log,
      backoff: async () => {},
    });
    const base = workItem();
    const item = {
      ...base,
      acceptedAt: new Date(Date.now() - 60_000).toISOString(),
      request: {
        ...base.request,
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
      },
    } as typeof base;
    const claim = await dedupe.claim(item.route, item.deliveryId);
    await dedupe.mark(item.route, item.deliveryId, claim.generation as number, "queued");

    // Receive 5 (the last attempt): Jenkins queues the build, a proxy in front of it answers 504.
    jenkins.script({ status: 504, build: true });
    await handler.work(sqsEvent([sqsRecord(workItemJson(item), { receiveCount: 5, group: "acme/api" })]));
    expect(deadLetters.items, "dead-lettered: gave up after 5 receives").to.have.length(1);
    expect(jenkins.jobBuilds, "the 504'd request did build").to.have.length(1);

    // The operator fixes the proxy and redrives the DLQ: SQS gives the letter a new message id, receive count 1.
    await handler.work(sqsEvent([sqsRecord(workItemJson(item), { receiveCount: 1, group: "acme/api" })]));
    const attempts = logs.lines
      .filter((l) => l.msg === "attempt")
      .map((l) => `${l.outcome}: ${l.detail ?? l.error}`);
    expect(
      jenkins.jobBuilds,
      `Jenkins builds after the redrive (attempt lines: ${JSON.stringify(attempts)})`,
    ).to.have.length(1);
  });
});
