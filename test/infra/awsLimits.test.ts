// Values AWS validates at apply time, which Pulumi's mocks accept whatever they are: each test shows the value
// the program would send past the service's documented limit, and what the program does about it.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import {
  DASHBOARD_MAX_METRICS,
  DASHBOARD_MAX_ROUTES,
  DASHBOARD_MAX_WIDGETS,
  dashboardMetricCount,
  dashboardNote,
  dashboardWidgetCount,
  METRICS_PER_ROUTE,
  SEARCH_SERIES_PER_ROUTE,
  WIDGET_MAX_METRICS,
} from "../../src/core/dashboardSize";
import { RANDOM_SECRET_NAME } from "../../src/core/routes/checks";
import { PROVIDERS } from "../../src/core/types";
import { apiQuotaWarnings } from "../../src/infra/gateway";
import { NAME_LIMITS } from "../../src/infra/naming";
import { firstSubnetPerZone, readSubnets } from "../../src/infra/network";
import { dashboardBody } from "../../src/infra/observability";
import {
  API_POLICY_DEFAULT_QUOTA_CHARS,
  apiAllowlistPolicy,
  apiAllowlistPolicyChars,
  apiPolicyQuotaWarning,
  policyChars,
} from "../../src/infra/policies";
import { ALARM_DESCRIPTION_MAX_CHARS, describingSecret } from "../../src/infra/route";
import { nameProblems, policyProblems, valueProblems } from "./checks";
import { collectingWarnings, evaluate } from "./evaluate";
import { config, jenkinsRoute, prCleanupRoute, s3ZipRoute, stubCode } from "./fixtures";
import { type InvokeResult, invokeFailure, MockCloud, REGION } from "./mocks";

/** `count` distinct IPv4 /24 networks, as an allowlist pasted from a provider's published ranges reads. */
function ipv4Ranges(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
}

/** Evaluates a one-route stack; returns its recorded resources and every message pulumi.log.warn got. */
async function withWarnings(raw: Record<string, unknown>, invokes?: Record<string, InvokeResult>) {
  const { result, warnings } = await collectingWarnings(() =>
    evaluate({ config: config(raw), routes: [jenkinsRoute()], code: stubCode, invokes }),
  );
  return { cloud: result.cloud, warnings };
}

describe("API Gateway's resource policy length (8,192 characters by default) and api.ipAllowlist", () => {
  it("apiAllowlistPolicyChars measures the policy as deployed: a real execution ARN (12-digit account, 10-character API id) gives the same count", () => {
    const cidrs = ["192.30.252.0/22", "185.199.108.0/22", "2a0a:a440::/29"];
    const real = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5";
    expect(apiAllowlistPolicyChars(cidrs, "aws", "eu-west-1")).to.equal(
      policyChars(apiAllowlistPolicy(cidrs, real)),
    );
    const gov = "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:z9y8x7w6v5";
    expect(apiAllowlistPolicyChars([], "aws-us-gov", "us-gov-west-1")).to.equal(
      policyChars(apiAllowlistPolicy([], gov)),
    );
  });

  it("apiPolicyQuotaWarning says nothing for GitHub's few hook ranges, and names the length and the quota past 8,192 characters", () => {
    expect(apiPolicyQuotaWarning(["192.30.252.0/22", "185.199.108.0/22"], "aws", "eu-west-1")).to.equal(
      undefined,
    );
    // The longest allowlist that fits, then one CIDR more.
    let n = 1;
    while (apiAllowlistPolicyChars(ipv4Ranges(n + 1), "aws", "eu-west-1") <= API_POLICY_DEFAULT_QUOTA_CHARS)
      n++;
    expect(apiPolicyQuotaWarning(ipv4Ranges(n), "aws", "eu-west-1")).to.equal(undefined);
    const chars = apiAllowlistPolicyChars(ipv4Ranges(n + 1), "aws", "eu-west-1");
    const warning = apiPolicyQuotaWarning(ipv4Ranges(n + 1), "aws", "eu-west-1");
    expect(warning).to.contain(
      `api.ipAllowlist's ${n + 1} CIDRs make the API's resource policy ${chars} characters`,
    );
    expect(warning).to.contain("default quota of 8192");
    expect(warning).to.contain("fewer, wider ranges, or raise the quota");
  });

  it("a stack whose api.ipAllowlist makes a resource policy longer than 8,192 characters is warned of at `pulumi up`, naming the quota", async () => {
    const cidrs = ipv4Ranges(600);
    const { cloud, warnings } = await withWarnings({ api: { ipAllowlist: cidrs } });
    const policies = cloud.ofType("aws:apigateway/restApiPolicy:RestApiPolicy");
    expect(policies).to.have.length(1);
    // What the program sends: API Gateway refuses it unless the quota was raised.
    expect(String(policies[0]?.inputs.policy).length).to.be.above(API_POLICY_DEFAULT_QUOTA_CHARS);
    const said = warnings.filter((w) => w.includes("resource policy"));
    expect(said).to.deep.equal([apiPolicyQuotaWarning(cidrs, "aws", "eu-west-1")]);
  });

  it("a stack with a short api.ipAllowlist gets no such warning", async () => {
    const { warnings } = await withWarnings({ api: { ipAllowlist: ["192.30.252.0/22"] } });
    expect(warnings.filter((w) => w.includes("resource policy"))).to.deep.equal([]);
  });
});

/** The dashboard's routes, with physical names of the longest length each can have. */
function dashboardRoutes(count: number) {
  const long = (i: number, length: number) => `${i}-`.padEnd(length, "x");
  return Array.from({ length: count }, (_, i) => ({
    name: long(i, 32),
    functionName: long(i, NAME_LIMITS.function),
    queueName: `${long(i, NAME_LIMITS.queue - 5)}.fifo`,
    deadLetterQueueName: `${long(i, NAME_LIMITS.queue - 9)}-dlq.fifo`,
    logGroupName: `/aws/lambda/${long(i, NAME_LIMITS.function)}`,
  }));
}

describe("API Gateway's default 300 resources per REST API at `pulumi up`", () => {
  it("apiQuotaWarnings warns of 299 routes (301 resources: /, /hooks and one per route), as `hookgate check` notes, and says nothing of 298", () => {
    const [warning, ...others] = apiQuotaWarnings(config(), 299, "eu-west-1");
    expect(others).to.deep.equal([]);
    expect(warning).to.match(/^299 routes need 301 API Gateway resources/);
    expect(warning).to.contain("`pulumi up` fails at the route past it unless the quota is raised");
    expect(apiQuotaWarnings(config(), 298, "eu-west-1")).to.deep.equal([]);
  });

  it("apiQuotaWarnings gives the resource policy's warning beside it", () => {
    const cidrs = ipv4Ranges(600);
    expect(apiQuotaWarnings(config({ api: { ipAllowlist: cidrs } }), 1, "eu-west-1")).to.deep.equal([
      apiPolicyQuotaWarning(cidrs, "aws", "eu-west-1"),
    ]);
  });
});

describe("CloudWatch's dashboard quotas (500 widgets, 500 metrics a widget, 2,500 metrics a dashboard) and the number of routes", () => {
  const input = (count: number) => ({
    region: "eu-west-1",
    apiName: "hookgate-dev-api",
    stageName: "v1",
    routes: dashboardRoutes(count),
  });
  type Widget = { type: string; y: number; properties: { metrics?: unknown[][]; markdown?: string } };
  const widgetsOf = (count: number): Widget[] => JSON.parse(dashboardBody(input(count))).widgets;

  /**
   * The metrics a widget takes as the quotas count them: each metric row and each expression, and the series a
   * SEARCH retrieves (`seriesPerSearch` of them: one per Method API Gateway recorded for the route).
   */
  function metricCount(widget: Widget, seriesPerSearch: number): number {
    let count = 0;
    for (const row of widget.properties.metrics ?? []) {
      count += 1;
      const last = row[row.length - 1] as { expression?: string } | string;
      if (typeof last === "object" && last.expression?.startsWith("SEARCH(")) count += seriesPerSearch;
    }
    return count;
  }
  const total = (widgets: Widget[], seriesPerSearch: number) =>
    widgets.reduce((sum, w) => sum + metricCount(w, seriesPerSearch), 0);

  /** 1 to 2,000 routes: each size around a graph, a table or the limit, and a spread between. */
  const sample = [
    ...new Set([
      1,
      2,
      9,
      10,
      11,
      19,
      20,
      21,
      45,
      100,
      199,
      200,
      201,
      249,
      250,
      251,
      252,
      260,
      261,
      299,
      300,
      301,
      500,
      710,
      711,
      1000,
      1500,
      1999,
      2000,
      ...Array.from({ length: 20 }, (_, i) => 1 + i * 105),
    ]),
  ].sort((a, b) => a - b);

  it("the dashboard draws at most 250 routes, 10 metrics each (8 drawn, 2 for the deliveries SEARCH's series)", () => {
    expect(METRICS_PER_ROUTE).to.equal(10);
    expect(DASHBOARD_MAX_METRICS).to.equal(2500);
    expect(DASHBOARD_MAX_ROUTES).to.equal(250);
  });

  it("for 1 to 2,000 routes the body holds at most 2,500 metrics (counting one or two series per SEARCH), 500 widgets, and 500 metrics in any widget", () => {
    for (const n of sample) {
      const widgets = widgetsOf(n);
      expect(widgets.length, `${n} routes`).to.be.at.most(DASHBOARD_MAX_WIDGETS);
      expect(total(widgets, 1), `${n} routes`).to.be.at.most(DASHBOARD_MAX_METRICS);
      expect(total(widgets, 2), `${n} routes`).to.be.at.most(DASHBOARD_MAX_METRICS);
      for (const w of widgets) expect(metricCount(w, 2), `${n} routes`).to.be.at.most(WIDGET_MAX_METRICS);
    }
  });

  it("dashboardWidgetCount and dashboardMetricCount count what dashboardBody draws of the routes it draws, and the text widget is one more", () => {
    for (const n of sample) {
      const drawn = Math.min(n, DASHBOARD_MAX_ROUTES);
      const widgets = widgetsOf(n);
      const text = n > DASHBOARD_MAX_ROUTES ? 1 : 0;
      expect(widgets, `${n} routes`).to.have.length(dashboardWidgetCount(drawn) + text);
      expect(total(widgets, SEARCH_SERIES_PER_ROUTE), `${n} routes`).to.equal(dashboardMetricCount(drawn));
    }
    expect(dashboardMetricCount(DASHBOARD_MAX_ROUTES)).to.equal(2500);
    expect(dashboardMetricCount(DASHBOARD_MAX_ROUTES + 1)).to.be.above(DASHBOARD_MAX_METRICS);
  });

  it("a text widget on top of the dashboard appears exactly when routes are left off (from 251 routes)", () => {
    for (const n of sample) {
      const texts = widgetsOf(n).filter((w) => w.type === "text");
      expect(texts, `${n} routes`).to.have.length(n > DASHBOARD_MAX_ROUTES ? 1 : 0);
    }
    const widgets = widgetsOf(2000);
    expect(widgets[0]?.type).to.equal("text");
    expect(widgets.slice(1).every((w) => w.y >= 3)).to.equal(true);
  });

  it("a stack of 2,000 routes is not refused: `pulumi up` warns that the dashboard draws 250 of them, and says where the others' metrics are", () => {
    expect(dashboardNote(250)).to.equal(undefined);
    expect(dashboardNote(2000)).to.equal(
      "2000 routes: the stack dashboard draws the first 250 in routes.yaml, as CloudWatch takes at most 2500 metrics in a dashboard and each route's graphs take up to 10; the other 1750 routes' metrics are in AWS/Lambda (by function name) and AWS/SQS (by queue name), and their lines in their functions' log groups (the dashboard's top widget says so)",
    );
  });

  it("a stack of 251 routes is built with its dashboard of 250, and `pulumi up` warns once of the route left off", async function () {
    this.timeout(120_000); // 251 routes' resources under the mocks
    const routes = Array.from({ length: 251 }, (_, i) => jenkinsRoute(`r${i}`));
    const { result, warnings } = await collectingWarnings(() =>
      evaluate({ config: config(), routes, code: stubCode }),
    );
    const cloud = result.cloud;
    const [dashboard, ...others] = cloud.ofType("aws:cloudwatch/dashboard:Dashboard");
    expect(others).to.deep.equal([]);
    const widgets: Widget[] = JSON.parse(String(dashboard?.inputs.dashboardBody)).widgets;
    expect(widgets[0]?.properties.markdown).to.contain("draws 250 of the stack's 251 routes");
    expect(widgets[0]?.properties.markdown).to.contain("The other one (`r250`): ");
    expect(cloud.ofType("aws:lambda/function:Function")).to.have.length(251);
    expect(warnings.filter((w) => w.includes("dashboard"))).to.deep.equal([dashboardNote(251)]);
  });
});

describe("Interface endpoints of an existing VPC: one subnet per availability zone", () => {
  const GET_SUBNET = "aws:ec2/getSubnet:getSubnet";
  const [A, B, C] = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"];
  /** Subnets A and B in eu-west-1a, C in eu-west-1b. */
  const zones: Record<string, string> = { [A]: `${REGION}a`, [B]: `${REGION}a`, [C]: `${REGION}b` };
  const invokes = {
    [GET_SUBNET]: (inputs: Record<string, any>) => ({
      id: inputs.id,
      availabilityZone: zones[inputs.id],
      vpcId: "vpc-0feedfeedfeedfeed",
    }),
  };

  it("firstSubnetPerZone keeps the first subnet of each zone, in the order given", () => {
    expect(
      firstSubnetPerZone([
        { id: "s1", availabilityZone: "z1" },
        { id: "s2", availabilityZone: "z1" },
        { id: "s3", availabilityZone: "z2" },
        { id: "s4", availabilityZone: "z2" },
      ]),
    ).to.deep.equal(["s1", "s3"]);
    expect(firstSubnetPerZone([])).to.deep.equal([]);
  });

  it("two of network.privateSubnetIds in one zone: each interface endpoint gets one subnet per zone (EC2 refuses two, DuplicateSubnetsInSameZone), the functions keep all three", async () => {
    const network = {
      mode: "existing",
      vpcId: "vpc-0feedfeedfeedfeed",
      privateSubnetIds: [A, B, C],
      interfaceEndpoints: ["secretsmanager", "sqs"],
    };
    const { cloud } = await withWarnings({ network }, invokes);
    const endpoints = cloud
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((e) => e.inputs.vpcEndpointType === "Interface");
    expect(endpoints).to.have.length(2);
    for (const e of endpoints) expect(e.inputs.subnetIds, e.name).to.deep.equal([A, C]);
    for (const fn of cloud.ofType("aws:lambda/function:Function"))
      expect(fn.inputs.vpcConfig.subnetIds).to.deep.equal([A, B, C]);
    expect(cloud.invokes.filter((i) => i.token === GET_SUBNET).map((i) => i.inputs.id)).to.deep.equal([
      A,
      B,
      C,
    ]);
  });

  it("an existing VPC without interface endpoints reads each subnet once too (its VPC is checked)", async () => {
    const network = { mode: "existing", vpcId: "vpc-0feedfeedfeedfeed", privateSubnetIds: [A, C] };
    const { cloud } = await withWarnings({ network }, invokes);
    expect(cloud.invokes.filter((i) => i.token === GET_SUBNET).map((i) => i.inputs.id)).to.deep.equal([A, C]);
  });

  it("a subnet that cannot be read stops the deployment with a message naming ec2:DescribeSubnets", async () => {
    const reason = "UnauthorizedOperation: not authorized to perform: ec2:DescribeSubnets";
    const cloud = new MockCloud({
      [GET_SUBNET]: () => {
        throw invokeFailure(reason);
      },
    });
    await cloud.install("test");
    const error = await readSubnets([A]).then(
      () => expect.fail("readSubnets read the subnet"),
      (e: unknown) => e,
    );
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect((error as Error).message).to.contain(
      `cannot read network.privateSubnetIds entry ${A} (ec2:DescribeSubnets)`,
    );
    expect((error as Error).message).to.contain(reason);
  });
});

describe("every value a stack sends, at the limits the stack config and routes.yaml accept", () => {
  it("a 100-character stack name, 32-character route names of each kind and every setting at its largest: no name, policy or value AWS refuses", async () => {
    // Pulumi's longest stack name, of every character it allows (a . is written -).
    const stack = "Stack_with.every-character".padEnd(100, "x");
    const name = (kind: string) => `${kind}-`.padEnd(32, "z");
    const routes = [
      jenkinsRoute(name("jenkins")),
      s3ZipRoute(name("zip")),
      s3ZipRoute(name("zip-own"), "acme-artifacts"),
      prCleanupRoute(name("cleanup")),
    ];
    const raw = {
      api: { stageName: "s".repeat(128), manageAccount: true, ipAllowlist: ipv4Ranges(498) },
      lambda: { memoryMb: 10_240, timeoutSeconds: 900, ephemeralStorageMb: 10_240, workConcurrency: 1000 },
      logRetentionDays: 3653,
      alarmOldestMessageSeconds: 345_599,
      alarmEmail: "ops@example.com",
      network: {
        interfaceEndpoints: ["secretsmanager", "sqs", "logs", "sts", "kms", "monitoring"],
        httpsProxy: "http://proxy.internal.example.com:3128",
        noProxy: ["jenkins.internal.example.com", ".internal.example.com"],
      },
      jenkins: { cidrs: ["10.20.0.0/16", "10.30.0.0/16"] },
      secretNamePrefix: "p".repeat(64),
    };
    const warn = pulumi.log.warn;
    pulumi.log.warn = () => Promise.resolve();
    try {
      const { cloud } = await evaluate({ config: config(raw), routes, stack, code: stubCode });
      expect(cloud.ofType("aws:lambda/function:Function")).to.have.length(4);
      expect(nameProblems(cloud), "names").to.deep.equal([]);
      expect(policyProblems(cloud), "policies").to.deep.equal([]);
      // 498 /24 ranges: 500 fit a real API id (10 characters), 498 the mocks' (19).
      expect(valueProblems(cloud), "values").to.deep.equal([]);
    } finally {
      pulumi.log.warn = warn;
    }
  });

  for (const provider of PROVIDERS) {
    it(`a 512-character webhook secret name (with a 64-character secretNamePrefix), a 100-character stack name and a 32-character ${provider} route name: every alarm description within CloudWatch's 1,024 characters, the name cut in the middle with its start and end kept, no sentence lost`, async () => {
      const stack = "s".padEnd(100, "x");
      const prefix = "p".repeat(64);
      // Path-like words, so that it does not look like a secret value (which no description shows).
      const secret = `${`team/${"webhook-secrets/".repeat(27)}`.padEnd(448 - 4, "w")}/end`;
      const route = { ...jenkinsRoute("r".padEnd(32, "z")), provider, secret };
      expect(`${prefix}${secret}`).to.have.length(512);
      const { result } = await collectingWarnings(() =>
        evaluate({ config: config({ secretNamePrefix: prefix }), routes: [route], stack, code: stubCode }),
      );
      expect(valueProblems(result.cloud), "values").to.deep.equal([]);
      const descriptions = result.cloud
        .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
        .map((a) => String(a.inputs.alarmDescription));
      // The gitlab text, the longest, keeps less of the name than the prefix: its start, then.
      const naming = descriptions.filter((d) => d.includes(`"${prefix.slice(0, 20)}`));
      expect(naming, "the secret-unusable and bad-signature alarms").to.have.length(2);
      for (const d of naming) {
        expect(d.length).to.be.at.most(ALARM_DESCRIPTION_MAX_CHARS);
        expect(d).to.match(/w\/end" /);
        expect(d).to.match(/were redelivered\.$/);
      }
      // The bad-signature alarm's, the longer text, with the full name would pass 1,024.
      expect(
        naming.filter((d) => d.includes('/end" holds') && d.includes("...")),
        "cut",
      ).to.have.length(1);
    });

    it(`a webhook secret name hidden as a pasted value, a 100-character stack name and a 32-character ${provider} route name: the secret-unusable and bad-signature descriptions whole, within CloudWatch's 1,024 characters`, async () => {
      const stack = "s".padEnd(100, "x");
      // What `openssl rand -base64 24` pasted as the name looks like: no description shows it, nor cuts the mark.
      const route = {
        ...jenkinsRoute("r".padEnd(32, "z")),
        provider,
        secret: "q8Zr2Kx7Lm4Tn9Bv3Hc6Wd1Yf5Gs0Pj",
      };
      const { result } = await collectingWarnings(() =>
        evaluate({
          config: config({ secretNamePrefix: "p".repeat(64) }),
          routes: [route],
          stack,
          code: stubCode,
        }),
      );
      expect(valueProblems(result.cloud), "values").to.deep.equal([]);
      const naming = result.cloud
        .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
        .map((a) => String(a.inputs.alarmDescription))
        .filter((d) => d.includes(RANDOM_SECRET_NAME));
      expect(naming, "the secret-unusable and bad-signature alarms").to.have.length(2);
      for (const d of naming) {
        expect(d.length).to.be.at.most(ALARM_DESCRIPTION_MAX_CHARS);
        expect(d).to.match(/were redelivered\.$/);
      }
    });
  }

  it("describingSecret leaves a description that fits as it is, and cuts the name of one that does not by just enough", () => {
    const describe = (shown: string) => `secret ${shown} `.padEnd(1000, ".");
    expect(describingSecret("hookgate/github-webhook", describe)).to.equal(
      describe('"hookgate/github-webhook"'),
    );
    const long = `hookgate/${"a".repeat(1000)}/end`;
    const cut = describingSecret(long, (shown) => `secret ${shown} then the rest`);
    expect(cut).to.have.length(ALARM_DESCRIPTION_MAX_CHARS);
    expect(cut).to.match(/^secret "hookgate\/a+\.\.\.a+\/end" then the rest$/);
  });

  it("describingSecret keeps a description whose hidden name cannot be cut within 1,024 characters: its last sentences go, or its end, marked", () => {
    const pasted = "q8Zr2Kx7Lm4Tn9Bv3Hc6Wd1Yf5Gs0Pj";
    const sentences = (shown: string) =>
      `secret ${shown} is refused. ${"What to do. ".repeat(80)}What OK means: ${"o".repeat(200)}.`;
    const clipped = describingSecret(pasted, sentences);
    expect(clipped.length).to.be.at.most(ALARM_DESCRIPTION_MAX_CHARS);
    expect(clipped).to.match(
      /^secret \(a name that looks like a secret value\) is refused\. (What to do\. )+What to do\.$/,
    );
    const oneSentence = (shown: string) => `secret ${shown} ${"a".repeat(1200)}`;
    const cut = describingSecret(pasted, oneSentence);
    expect(cut).to.have.length(ALARM_DESCRIPTION_MAX_CHARS);
    expect(cut).to.match(/^secret \(a name that looks like a secret value\) a+\.\.\.$/);
    // A shown name cut to its least that still leaves the text too long: the same.
    const long = `hookgate/${"a".repeat(500)}/end`;
    expect(describingSecret(long, sentences).length).to.be.at.most(ALARM_DESCRIPTION_MAX_CHARS);
  });
});
