// A secret changed on one side only: every delivery is refused 401 "signature invalid" at level warn, which the
// secret-unusable filter (level error) and api-5xx (a 401 is no 5xx) do not count. The bad-signature filter must
// count the very lines the function writes.
import { expect } from "chai";
import { SIGNATURE_INVALID } from "../../src/core/verify";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { BAD_SIGNATURE_PATTERN } from "../../src/infra/route";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  RecordingDeadLetters,
  RecordingQueue,
  WEBHOOK_SECRET,
} from "../gateway/support";
import { MemorySecretStore } from "../support/secrets";
import { evaluate } from "./evaluate";
import { jsonPattern } from "./filterPattern";
import { config, jenkinsRoute as infraJenkinsRoute, stubCode } from "./fixtures";

/** Three deliveries signed with WEBHOOK_SECRET, to a route whose secret holds `secretStored`. */
async function deliver(
  secretStored: string,
): Promise<{ statuses: number[]; lines: Array<Record<string, unknown>> }> {
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore({ "hookgate/github-webhook": secretStored }),
    queue: new RecordingQueue(),
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "ran" }),
    log: logs.log,
  });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++)
    statuses.push((await handler.receive(githubDelivery({ secret: WEBHOOK_SECRET }))).statusCode);
  return { statuses, lines: logs.lines };
}

describe("The bad-signature alarm (a secret changed on one side only)", () => {
  it("the route's bad-signature filter counts each delivery refused 401 for a signature made with another secret, and no accepted one", async () => {
    const refused = await deliver("the-new-value-stored-alone");
    expect(refused.statuses).to.deep.equal([401, 401, 401]);
    const counts = jsonPattern(BAD_SIGNATURE_PATTERN);
    const counted = refused.lines.filter(counts);
    expect(counted).to.have.length(3);
    expect(counted.every((l) => l.reason === SIGNATURE_INVALID && l.level === "warn")).to.equal(true);

    const accepted = await deliver(WEBHOOK_SECRET);
    expect(accepted.statuses[0]).to.equal(202);
    expect(accepted.lines.filter((l) => l.msg === "delivery")).to.have.length(3);
    expect(accepted.lines.filter(counts)).to.deep.equal([]);
  });

  it("a route with a webhook secret has a bad-signature filter and alarm: 1 or more in 15 minutes, keeping its state through quiet periods, to the stack's topic", async () => {
    const { cloud } = await evaluate({
      config: config(),
      routes: [infraJenkinsRoute()],
      stack: "dev",
      code: stubCode,
    });
    const name = "hookgate-dev-api-build-bad-signature";
    const filter = cloud
      .ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter")
      .find((f) => f.inputs.name === name);
    expect(filter?.inputs).to.deep.equal({
      name,
      logGroupName: "/aws/lambda/hookgate-dev-api-build",
      pattern: '{ ($.msg = "delivery") && ($.status = 401) && ($.reason = "signature invalid") }',
      metricTransformation: { namespace: "hookgate", name, value: "1", defaultValue: "0" },
    });
    const alarm = cloud.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.name === name);
    expect(alarm?.inputs).to.deep.include({
      namespace: "hookgate",
      metricName: name,
      statistic: "Sum",
      period: 900,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "ignore",
    });
    expect(alarm?.inputs.alarmActions).to.have.length(1);
    expect(alarm?.inputs.alarmDescription)
      .to.contain("One made-up signature")
      .and.contain("api.ipAllowlist narrows who can");
  });
});
