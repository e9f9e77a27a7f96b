// The DLQ's depth alarm stays ALARM while old letters wait, so a second incident meanwhile notified nobody. The
// dead-lettered filter counts the attempt lines the work path writes when it sends a delivery to the DLQ.
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { MAX_ATTEMPTS, MAX_RECEIVE_COUNT } from "../../src/core/policy";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler, MIN_ACTION_MS, WORK_RESERVE_MS } from "../../src/gateway/routeHandler";
import { DEAD_LETTERED_PATTERN } from "../../src/infra/route";
import {
  jenkinsRoute,
  LogCollector,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  workItem,
} from "../gateway/support";
import { MemorySecretStore } from "../support/secrets";
import { evaluate } from "./evaluate";
import { jsonPattern } from "./filterPattern";
import { config, jenkinsRoute as infraJenkinsRoute, stubCode } from "./fixtures";

/** The attempt lines of one record worked with an action failing `retryable`, on its `receiveCount`th receive. */
async function attemptLines(retryable: boolean, receiveCount: number) {
  const logs = new LogCollector();
  const deadLetters = new RecordingDeadLetters();
  const handler = createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore(),
    queue: new RecordingQueue(),
    deadLetters,
    dedupe: new MemoryDedupeStore(),
    runAction: async () => {
      throw new ActionError("Jenkins job api/build not found (404)", { retryable });
    },
    log: logs.log,
  });
  await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()), { receiveCount })]));
  return { lines: logs.of("attempt"), letters: deadLetters.items.length };
}

/**
 * The attempt lines of two records of one group worked with a failing action: the first on its first receive, the
 * second (deferred behind it) on its `receiveCount`th receive. Also the second's dedupe state.
 */
async function deferredLines(receiveCount: number) {
  const logs = new LogCollector();
  const dedupe = new MemoryDedupeStore();
  const handler = createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore(),
    queue: new RecordingQueue(),
    deadLetters: new RecordingDeadLetters(),
    dedupe,
    runAction: async () => {
      throw new ActionError("Jenkins answered 503", { retryable: true });
    },
    log: logs.log,
    retryBaseDelayMs: 0,
  });
  const first = workItem();
  const second = workItem();
  await dedupe.claim("api-build", second.deliveryId);
  const result = await handler.work(
    sqsEvent([
      sqsRecord(JSON.stringify(first), { receiveCount: 1, group: "acme/api" }),
      sqsRecord(JSON.stringify(second), { receiveCount, group: "acme/api" }),
    ]),
  );
  expect(result.batchItemFailures, "both go back to the queue").to.have.length(2);
  return { lines: logs.of("attempt"), state: (await dedupe.state("api-build", second.deliveryId))?.state };
}

describe("The dead-lettered alarm (each new dead letter, even while old ones wait)", () => {
  it("the dead-lettered filter counts a record deferred behind its group on the queue's last receive (the queue parks it), and not one deferred earlier", async () => {
    const counts = jsonPattern(DEAD_LETTERED_PATTERN);
    const last = await deferredLines(MAX_RECEIVE_COUNT);
    expect(last.lines.map((l) => l.outcome)).to.deep.equal(["retry", "deferred"]);
    expect(last.state).to.equal("dead");
    expect(last.lines.filter(counts)).to.deep.equal([last.lines[1]]);
    const earlier = await deferredLines(MAX_RECEIVE_COUNT - 1);
    expect(earlier.lines.map((l) => l.outcome)).to.deep.equal(["retry", "deferred"]);
    expect(earlier.lines.filter(counts)).to.deep.equal([]);
  });

  it("the dead-lettered filter counts a record not started for want of time on the queue's last receive", async () => {
    const counts = jsonPattern(DEAD_LETTERED_PATTERN);
    const logs = new LogCollector();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore(),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "ran" }),
      log: logs.log,
    });
    await handler.work(
      sqsEvent([
        sqsRecord(JSON.stringify(workItem()), { receiveCount: MAX_RECEIVE_COUNT }),
        sqsRecord(JSON.stringify(workItem()), { receiveCount: 1 }),
      ]),
      { remainingMs: () => WORK_RESERVE_MS + MIN_ACTION_MS - 1 },
    );
    const lines = logs.of("attempt");
    expect(lines.map((l) => l.outcome)).to.deep.equal(["deferred", "deferred"]);
    expect(lines.filter(counts)).to.deep.equal([lines[0]]);
  });

  it("the dead-lettered filter counts a failed line on the queue's last receive (the redrive policy parks the record put back), and not one earlier", async () => {
    const counts = jsonPattern(DEAD_LETTERED_PATTERN);
    /** The attempt lines of one record on its `receiveCount`th receive, failed as `how` says. */
    const failedLines = async (
      how: "dlq-send" | "unexpected" | "unreadable" | "unreadable-raw",
      receiveCount: number,
    ) => {
      const logs = new LogCollector();
      const deadLetters = new RecordingDeadLetters();
      if (how === "dlq-send" || how === "unreadable-raw") deadLetters.failuresLeft = 1;
      const handler = createRouteHandler({
        route: jenkinsRoute(),
        secrets: new MemorySecretStore(),
        queue: new RecordingQueue(),
        // Without sendRaw, an unreadable body is left to the redrive policy.
        deadLetters: how === "unreadable" ? { send: deadLetters.send.bind(deadLetters) } : deadLetters,
        dedupe: new MemoryDedupeStore(),
        runAction: async () => {
          if (how === "unexpected") return undefined as never;
          throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
        },
        log: logs.log,
        retryBaseDelayMs: 0,
      });
      const body = how.startsWith("unreadable") ? "not a work item" : JSON.stringify(workItem());
      const result = await handler.work(sqsEvent([sqsRecord(body, { receiveCount })]));
      expect(result.batchItemFailures, how).to.have.length(1);
      return logs.of("attempt");
    };
    for (const how of ["dlq-send", "unexpected", "unreadable", "unreadable-raw"] as const) {
      const last = await failedLines(how, MAX_RECEIVE_COUNT);
      expect(
        last.map((l) => l.outcome),
        how,
      ).to.deep.equal(["failed"]);
      expect(last.filter(counts), how).to.deep.equal(last);
      const earlier = await failedLines(how, MAX_RECEIVE_COUNT - 1);
      expect(
        earlier.map((l) => l.outcome),
        how,
      ).to.deep.equal(["failed"]);
      expect(earlier.filter(counts), how).to.deep.equal([]);
    }
  });

  it("the route's dead-lettered filter counts the attempt line of a final failure and of a last attempt, each sent to the DLQ, and not a retry", async () => {
    const counts = jsonPattern(DEAD_LETTERED_PATTERN);
    for (const [retryable, receiveCount] of [
      [false, 1],
      [true, MAX_ATTEMPTS],
    ] as const) {
      const { lines, letters } = await attemptLines(retryable, receiveCount);
      expect(letters, "dead letters").to.equal(1);
      expect(lines.filter(counts), `retryable ${retryable}, receive ${receiveCount}`).to.have.length(1);
    }
    const retry = await attemptLines(true, 1);
    expect(retry.letters).to.equal(0);
    expect(retry.lines).to.have.length(1);
    expect(retry.lines.filter(counts)).to.deep.equal([]);
  });

  it("every route has a dead-lettered filter and alarm: one line in 5 minutes, no OK notification, to the stack's topic", async () => {
    const { cloud } = await evaluate({
      config: config(),
      routes: [infraJenkinsRoute()],
      stack: "dev",
      code: stubCode,
    });
    const name = "hookgate-dev-api-build-dead-lettered";
    const filter = cloud
      .ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter")
      .find((f) => f.inputs.name === name);
    expect(filter?.inputs).to.deep.equal({
      name,
      logGroupName: "/aws/lambda/hookgate-dev-api-build",
      pattern: '{ ($.msg = "attempt") && (($.outcome = "dead") || ($.deadLettered IS TRUE)) }',
      metricTransformation: { namespace: "hookgate", name, value: "1" },
    });
    const alarm = cloud.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.name === name);
    expect(alarm?.inputs).to.deep.include({
      namespace: "hookgate",
      metricName: name,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      okActions: [],
    });
    expect(alarm?.inputs.alarmActions).to.have.length(1);
  });
});
