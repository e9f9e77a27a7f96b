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
      `SOURCE '/aws/lambda/hookgate-dev-r0' | SOURCE '/aws/lambda/hookgate-dev-r1' | filter msg = "delivery" and not ispresent(late) | stats count() by route, decision`,
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

  it("the body of 1, 10, 45 and 250 routes is the one written at 1c8a714 with the decisions query skipping late lines (its sha256), byte for byte", () => {
    const before: Record<number, string> = {
      1: "5cb20321029be39f721ed60130fbdc4473ca154e80332d6b393fbf8326b31ba1",
      10: "645dfec037b197c5c49f0c6a2bfaaa1fc48155e0fd6cce1931da6a254d19354a",
      45: "d713ce45bbe99c59366dedc29c577dd19cb50297ecca6500b3d1482e3df87072",
      250: "dd181e9d4105e62851b09b576ef353c76837d8d785362ab2f2bdf6c1968e19d7",
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
