import { createHash } from "node:crypto";
import { expect } from "chai";
import { DASHBOARD_MAX_ROUTES } from "../../src/core/dashboardSize";
import { dashboardBody, dashboardUrl } from "../../src/infra/observability";

function routes(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    name: `r${i}`,
    functionName: `hookgate-dev-r${i}`,
    queueName: `hookgate-dev-r${i}.fifo`,
    deadLetterQueueName: `hookgate-dev-r${i}-dlq.fifo`,
    logGroupName: `/aws/lambda/hookgate-dev-r${i}`,
  }));
}

describe("dashboardBody(input)", () => {
  it("graphs each route's deliveries, function, queue and dead letters, and queries its decisions", () => {
    const body = JSON.parse(
      dashboardBody({ region: "eu-west-1", apiName: "hookgate-dev-api", stageName: "v1", routes: routes(2) }),
    );
    const text = JSON.stringify(body);
    for (const needle of [
      `SEARCH('{AWS/ApiGateway,ApiName,Method,Resource,Stage} MetricName=\\"Count\\" ApiName=\\"hookgate-dev-api\\" Stage=\\"v1\\" Resource=\\"/hooks/r0\\"', 'Sum', 300)`,
      '"AWS/Lambda","Errors","FunctionName","hookgate-dev-r1"',
      '"AWS/SQS","ApproximateAgeOfOldestMessage","QueueName","hookgate-dev-r0.fifo"',
      '"ApproximateNumberOfMessagesVisible","QueueName","hookgate-dev-r1-dlq.fifo"',
    ]) {
      expect(text).to.contain(needle);
    }
    // Delivery lines carry a decision, attempt lines an outcome: one table each.
    const logs = body.widgets.filter((w: { type: string }) => w.type === "log");
    expect(logs.map((w: { properties: { query: string } }) => w.properties.query)).to.deep.equal([
      `SOURCE '/aws/lambda/hookgate-dev-r0' | SOURCE '/aws/lambda/hookgate-dev-r1' | filter msg = "delivery" | stats count() by route, decision`,
      `SOURCE '/aws/lambda/hookgate-dev-r0' | SOURCE '/aws/lambda/hookgate-dev-r1' | filter msg = "attempt" | stats count() by route, outcome`,
    ]);
  });

  it("splits many routes over several graphs and queries, each under CloudWatch's limits", () => {
    const body = JSON.parse(
      dashboardBody({ region: "eu-west-1", apiName: "a", stageName: "v1", routes: routes(45) }),
    );
    const logs = body.widgets.filter((w: { type: string }) => w.type === "log");
    expect(logs).to.have.length(6);
    for (const w of logs) expect((w.properties.query.match(/SOURCE /g) ?? []).length).to.be.at.most(50);
    for (const w of body.widgets.filter((x: { type: string }) => x.type === "metric")) {
      expect(w.properties.metrics.length).to.be.at.most(20);
    }
    expect(Buffer.byteLength(JSON.stringify(body))).to.be.below(1_000_000);
  });

  it("the body of 1, 10, 45 and 250 routes is the one written at 1c8a714 (its sha256), byte for byte", () => {
    const before: Record<number, string> = {
      1: "24e85e4f263e222aabfc4be85cbbea0852f19000a69a33769f47e75d5f6bbc1e",
      10: "e7cca8fc745cd7ee49fd7a55307dcecc611b236c8057b3692517b574248613be",
      45: "c6c88e7ad26fc172e483dfb03ffc6a2a35151ff33098df04a02e8f2330d1e2a0",
      250: "c3e8596e0150328b9ddf840c185e32b0c1d933f63fad474026c1d76ebc61eaf5",
    };
    expect(DASHBOARD_MAX_ROUTES, "the most routes the dashboard draws").to.equal(250);
    for (const [n, sha256] of Object.entries(before)) {
      const body = dashboardBody({
        region: "eu-west-1",
        apiName: "hookgate-dev-api",
        stageName: "v1",
        routes: routes(Number(n)),
      });
      expect(createHash("sha256").update(body).digest("hex"), `${n} routes`).to.equal(sha256);
    }
  });

  it("past DASHBOARD_MAX_ROUTES the body draws routes.yaml's first 250 routes and, on top, says how many of how many, why, and where the others' metrics and lines are", () => {
    const body = JSON.parse(
      dashboardBody({
        region: "eu-west-1",
        apiName: "hookgate-dev-api",
        stageName: "v1",
        routes: routes(300),
      }),
    );
    const [text, ...rest] = body.widgets;
    expect(text).to.deep.include({ type: "text", x: 0, y: 0, width: 24, height: 3 });
    expect(text.properties.markdown).to.equal(
      "**This dashboard draws 250 of the stack's 300 routes**: the first 250 in routes.yaml, as CloudWatch takes " +
        "at most 2500 metrics in a dashboard (CloudWatch service quotas) and each route's graphs take up to 10.\n\n" +
        "The other 50 (`r250` to `r299`): their functions' metrics are in AWS/Lambda by FunctionName, their " +
        "queues' and dead-letter queues' in AWS/SQS by QueueName, and their lines in their functions' log groups " +
        "(for `r250`: function `hookgate-dev-r250`, queues `hookgate-dev-r250.fifo` and " +
        "`hookgate-dev-r250-dlq.fifo`, log group `/aws/lambda/hookgate-dev-r250`).",
    );
    expect(rest.every((w: { type: string; y: number }) => w.type !== "text" && w.y >= 3)).to.equal(true);
    const drawn = JSON.stringify(rest);
    expect(drawn).to.contain('"hookgate-dev-r249"');
    expect(drawn).not.to.contain('"hookgate-dev-r250"');
    expect(drawn).not.to.contain("/hooks/r250");
    expect(drawn).not.to.contain("/aws/lambda/hookgate-dev-r250'");
    // The graphs and tables are those of the first 250 routes alone, moved down under the text.
    const first250 = JSON.parse(
      dashboardBody({
        region: "eu-west-1",
        apiName: "hookgate-dev-api",
        stageName: "v1",
        routes: routes(250),
      }),
    );
    expect(rest).to.deep.equal(first250.widgets.map((w: { y: number }) => ({ ...w, y: w.y + 3 })));
  });

  it("dashboardUrl points at the console page of the dashboard", () => {
    expect(dashboardUrl("eu-west-1", "hookgate-dev")).to.equal(
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/hookgate-dev",
    );
  });
});
