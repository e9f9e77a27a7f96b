// The DLQ's depth alarm stays ALARM while old letters wait, so a second incident meanwhile notified nobody. The
// dead-lettered filter counts the attempt lines the work path writes when it sends a delivery to the DLQ.
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { MAX_ATTEMPTS } from "../../src/core/policy";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
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

describe("The dead-lettered alarm (each new dead letter, even while old ones wait)", () => {
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
      pattern: '{ ($.msg = "attempt") && ($.outcome = "dead") }',
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
