import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { MAX_ATTEMPTS, MAX_WORK_ITEM_BYTES, REDRIVE_MARGIN } from "../../src/core/policy";
import { withSecretNamePrefix } from "../../src/core/routeSecrets";
import type { Route } from "../../src/core/types";
import { ACCESS_LOG_FORMAT, deploymentHash, TOO_LARGE_OR_THROTTLED_PATTERN } from "../../src/infra/api";
import { routeNames, stackNames, stackPrefix } from "../../src/infra/naming";
import { INSTANCE_TAG, OWNER_TAG } from "../../src/infra/ownerTags";
import { apiAllowlistPolicy, policyChars, ROLE_INLINE_POLICY_MAX_CHARS } from "../../src/infra/policies";
import { buildStack } from "../../src/infra/program";
import { routePolicyBound, VISIBILITY_FACTOR } from "../../src/infra/route";
import {
  environmentLeaks,
  iamDocuments,
  nameProblems,
  openIngress,
  policyProblems,
  routeOf,
  secretAccessBeyondRoute,
  unprotectedBuckets,
  valueProblems,
  wildcardResources,
} from "./checks";
import { type Evaluated, evaluate } from "./evaluate";
import { allKinds, config, HTTPS_RULE, jenkinsRoute, prCleanupRoute, s3ZipRoute, stubCode } from "./fixtures";
import { ACCOUNT, MockCloud, REGION, type Recorded, settle } from "./mocks";

const FN = "aws:lambda/function:Function";
const QUEUE = "aws:sqs/queue:Queue";

function routeChildren(cloud: MockCloud, route: string, type: string): Recorded[] {
  return cloud.ofType(type).filter((r) => routeOf(cloud, r) === route);
}

function only<T>(items: T[]): T {
  expect(items).to.have.length(1);
  return items[0] as T;
}

/** The security rules every evaluated stack must pass, whatever its configuration. */
function expectSecure(result: Evaluated, routes: Route[], secretValues: string[] = []): void {
  const { cloud } = result;
  expect(openIngress(cloud), "open ingress").to.deep.equal([]);
  expect(wildcardResources(cloud), "Resource * or foreign managed policies").to.deep.equal([]);
  expect(secretAccessBeyondRoute(cloud, routes), "secret access").to.deep.equal([]);
  expect(environmentLeaks(cloud, secretValues), "function environments").to.deep.equal([]);
  expect(unprotectedBuckets(cloud), "buckets").to.deep.equal([]);
  expect(nameProblems(cloud), "names").to.deep.equal([]);
  expect(policyProblems(cloud), "policies IAM refuses").to.deep.equal([]);
  expect(valueProblems(cloud), "values AWS refuses").to.deep.equal([]);
  for (const q of cloud.ofType(QUEUE)) expect(q.inputs.sqsManagedSseEnabled, q.name).to.equal(true);
  for (const lg of cloud.ofType("aws:cloudwatch/logGroup:LogGroup")) {
    expect(lg.inputs.retentionInDays, lg.name).to.be.a("number");
  }
}

describe("Gateway (under Pulumi mocks): the default configuration with one route of each kind", () => {
  const routes = allKinds();
  let result: Evaluated;
  before(async () => {
    result = await evaluate({ config: config(), routes, stack: "dev", code: stubCode });
  });

  it("creates one function per route, in the private subnets with the Lambda security group, nodejs24.x on arm64", () => {
    const { cloud } = result;
    const sg = only(
      cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda")),
    );
    const fns = cloud.ofType(FN);
    expect(fns.map((f) => routeOf(cloud, f)).sort()).to.deep.equal(routes.map((r) => r.name).sort());
    for (const fn of fns) {
      expect(fn.inputs.runtime).to.equal("nodejs24.x");
      expect(fn.inputs.architectures).to.deep.equal(["arm64"]);
      expect(fn.inputs.handler).to.equal("index.handler");
      expect(fn.inputs.vpcConfig.subnetIds).to.deep.equal([
        "subnet-0aaaaaaaaaaaaaaa1",
        "subnet-0aaaaaaaaaaaaaaa2",
      ]);
      expect(fn.inputs.vpcConfig.securityGroupIds).to.deep.equal([`sg-${hexOf(sg)}`]);
      expect(fn.inputs.timeout).to.equal(120);
      expect(fn.inputs.memorySize).to.equal(512);
    }
    // One role per function: each runs as its own route's role.
    const roles = routes.map((route) => {
      const role = only(routeChildren(cloud, route.name, "aws:iam/role:Role"));
      const fn = only(routeChildren(cloud, route.name, FN));
      expect(fn.inputs.role, route.name).to.match(new RegExp(`:role/${role.inputs.namePrefix}`));
      return fn.inputs.role;
    });
    expect(new Set(roles).size).to.equal(routes.length);
    expect(routeChildren(cloud, "source-zip", FN)[0]?.inputs.ephemeralStorage).to.deep.equal({ size: 2048 });
    // Given even at the default: a route that stops being s3-zip must not keep the larger /tmp.
    expect(routeChildren(cloud, "api-build", FN)[0]?.inputs.ephemeralStorage).to.deep.equal({ size: 512 });
  });

  it("gives the Lambda security group no ingress, and egress only to HTTPS and the Jenkins port", () => {
    const sg = only(
      result.cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda")),
    );
    expect(sg.inputs.ingress ?? []).to.deep.equal([]);
    const ports = sg.inputs.egress.map((e: any) => `${e.protocol}/${e.fromPort}-${e.toPort}`).sort();
    expect(ports).to.deep.equal(["tcp/443-443", "tcp/8443-8443"]);
  });

  it("opens the Lambdas' egress on the port of a Git host API that is not 443 (a self-hosted Gitea on :3000)", async () => {
    const gitea = s3ZipRoute("gitea-zip");
    if (gitea.action.type === "s3-zip") {
      gitea.action.api = { ...gitea.action.api, apiUrl: "https://git.example.com:3000/api/v1" };
    }
    const { cloud } = await evaluate({ config: config(), routes: [jenkinsRoute(), gitea], code: stubCode });
    const sg = only(
      cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda")),
    );
    const ports = sg.inputs.egress.map((e: any) => `${e.protocol}/${e.fromPort}-${e.toPort}`).sort();
    expect(ports).to.deep.equal(["tcp/3000-3000", "tcp/443-443", "tcp/8443-8443"]);
  });

  for (const jenkins of [{ securityGroupId: "sg-0123456789abcdef0" }, { cidrs: ["10.20.0.0/16"] }]) {
    it(`opens a Git host API's port to every address even when Jenkins uses the same port, narrowed (${Object.keys(jenkins)[0]})`, async () => {
      const gitea = s3ZipRoute("gitea-zip");
      if (gitea.action.type === "s3-zip") {
        gitea.action.api = { ...gitea.action.api, apiUrl: "https://git.example.com:8443/api/v1" };
      }
      const { cloud } = await evaluate({
        config: config({ jenkins }),
        routes: [jenkinsRoute(), gitea],
        code: stubCode,
      });
      const sg = only(
        cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda")),
      );
      const onPort = sg.inputs.egress.filter((e: { fromPort: number }) => e.fromPort === 8443);
      expect(onPort.some((e: { cidrBlocks?: string[] }) => e.cidrBlocks?.includes("0.0.0.0/0"))).to.equal(
        true,
      );
    });
  }

  it("gives each route one API resource under /hooks with an ANY method (its function answers 405 to all but POST), an AWS_PROXY integration and a scoped permission", () => {
    const { cloud } = result;
    const hooks = only(
      cloud.ofType("aws:apigateway/resource:Resource").filter((r) => r.inputs.pathPart === "hooks"),
    );
    expect(hooks.inputs.parentId).to.equal("rootres123");
    for (const route of routes) {
      const resource = only(
        cloud.ofType("aws:apigateway/resource:Resource").filter((r) => r.inputs.pathPart === route.name),
      );
      expect(resource.inputs.parentId).to.equal(`${hooks.name}-id`);
      const method = only(
        cloud
          .ofType("aws:apigateway/method:Method")
          .filter((m) => m.inputs.resourceId === `${resource.name}-id`),
      );
      expect(method.inputs).to.include({ httpMethod: "ANY", authorization: "NONE" });
      const integration = only(
        cloud
          .ofType("aws:apigateway/integration:Integration")
          .filter((i) => i.inputs.resourceId === `${resource.name}-id`),
      );
      expect(integration.inputs).to.include({ type: "AWS_PROXY", integrationHttpMethod: "POST" });
      const fnName = only(routeChildren(cloud, route.name, FN)).inputs.name;
      expect(integration.inputs.uri).to.contain(`function:${fnName}/invocations`);
      const permission = only(
        cloud.ofType("aws:lambda/permission:Permission").filter((p) => p.inputs.function === fnName),
      );
      expect(permission.inputs).to.include({
        action: "lambda:InvokeFunction",
        principal: "apigateway.amazonaws.com",
      });
      expect(permission.inputs.sourceArn).to.equal(
        `arn:aws:execute-api:${REGION}:${ACCOUNT}:hookgate-api-api-id/v1/*/hooks/${route.name}`,
      );
    }
  });

  it("sends every body to the Lambda byte-exact, from a regional API", () => {
    const api = only(result.cloud.ofType("aws:apigateway/restApi:RestApi"));
    expect(api.inputs.binaryMediaTypes).to.deep.equal(["*/*"]);
    expect(api.inputs.endpointConfiguration).to.deep.equal({ types: "REGIONAL" });
  });

  it("answers a path that is no route with 404 and a body of the contract's shape", () => {
    const notFound = only(
      result.cloud
        .ofType("aws:apigateway/response:Response")
        .filter((r) => r.inputs.responseType === "MISSING_AUTHENTICATION_TOKEN"),
    );
    expect(notFound.name).to.equal("hookgate-api-not-found");
    expect(notFound.inputs).to.include({ restApiId: "hookgate-api-api-id", statusCode: "404" });
    const body = JSON.parse(notFound.inputs.responseTemplates["application/json"]);
    expect(body).to.deep.equal({ status: "rejected", route: null, delivery: null, reason: "unknown route" });
  });

  it("answers what API Gateway answers itself (allowlist 403, 413, throttling 503 with Retry-After, its 5xx, any other 4xx) with API Gateway's status and a body of the contract's shape: rejected for a 4xx, error for a 5xx, route and delivery null", () => {
    const responses = result.cloud.ofType("aws:apigateway/response:Response");
    // responseType -> [status code (undefined: API Gateway's own, per type), the body's status]
    const want: Record<string, [string | undefined, string]> = {
      MISSING_AUTHENTICATION_TOKEN: ["404", "rejected"],
      ACCESS_DENIED: ["403", "rejected"],
      REQUEST_TOO_LARGE: ["413", "rejected"],
      THROTTLED: ["503", "error"],
      INTEGRATION_FAILURE: [undefined, "error"],
      INTEGRATION_TIMEOUT: [undefined, "error"],
      DEFAULT_5XX: [undefined, "error"],
      DEFAULT_4XX: [undefined, "rejected"],
    };
    expect(responses.map((r) => r.inputs.responseType).sort()).to.deep.equal(Object.keys(want).sort());
    for (const response of responses) {
      const [statusCode, status] = want[response.inputs.responseType] as [string | undefined, string];
      const label = response.inputs.responseType;
      expect(response.inputs.restApiId, label).to.equal("hookgate-api-api-id");
      expect(response.inputs.statusCode, label).to.equal(statusCode);
      // A static header value is quoted; only throttling's answer says when to come back.
      expect(response.inputs.responseParameters, label).to.deep.equal(
        label === "THROTTLED" ? { "gatewayresponse.header.Retry-After": "'30'" } : undefined,
      );
      expect(Object.keys(response.inputs.responseTemplates), label).to.deep.equal(["application/json"]);
      const template: string = response.inputs.responseTemplates["application/json"];
      // Not VTL: nothing can be escaped, so nothing is interpolated (a $context value may hold a quote).
      expect(template, label).not.to.match(/\$|method\.request/);
      const body = JSON.parse(template);
      expect(Object.keys(body), label).to.deep.equal(["status", "route", "delivery", "reason"]);
      expect(body, label).to.include({ status, route: null, delivery: null });
      expect(body.reason, label).to.be.a("string").that.is.not.empty;
    }
  });

  it("throttles the stage and writes JSON access logs without headers to a log group with retention", () => {
    const { cloud } = result;
    const stage = only(cloud.ofType("aws:apigateway/stage:Stage"));
    expect(stage.inputs.stageName).to.equal("v1");
    const format = JSON.parse(stage.inputs.accessLogSettings.format);
    expect(Object.keys(format)).to.include.members(["requestId", "ip", "status", "integrationLatency"]);
    expect(stage.inputs.accessLogSettings.format).to.equal(ACCESS_LOG_FORMAT);
    expect(stage.inputs.accessLogSettings.format.toLowerCase()).not.to.contain("header");
    const logs = only(
      cloud
        .ofType("aws:cloudwatch/logGroup:LogGroup")
        .filter((l) => l.inputs.name.startsWith("/aws/apigateway/")),
    );
    expect(stage.inputs.accessLogSettings.destinationArn).to.contain(logs.inputs.name);
    const settings = only(cloud.ofType("aws:apigateway/methodSettings:MethodSettings"));
    expect(settings.inputs.methodPath).to.equal("*/*");
    // Execution logging and data traces would write request bodies and headers (signatures, tokens) to CloudWatch.
    expect(settings.inputs.settings).to.deep.equal({
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
      metricsEnabled: true,
      loggingLevel: "OFF",
      dataTraceEnabled: false,
    });
  });

  it("redeploys the API through a deployment whose triggers hash the routes and the policy text with AWS's shorthand ARN (what deployed stacks were hashed over)", () => {
    const deployment = only(result.cloud.ofType("aws:apigateway/deployment:Deployment"));
    const targets = result.cloud
      .ofType(FN)
      .map((f) => ({ name: String(routeOf(result.cloud, f)), physicalName: f.inputs.name }));
    expect(deployment.inputs.triggers.redeployment).to.equal(
      deploymentHash(targets, JSON.stringify(apiAllowlistPolicy([], "execute-api:"))),
    );
  });

  it("lets each dead-letter queue take dead letters from its own route's queue only (redrive allow policy byQueue), not from any queue of the account", () => {
    const { cloud } = result;
    for (const route of routes) {
      const queues = routeChildren(cloud, route.name, QUEUE);
      const dlq = only(queues.filter((q) => q.inputs.name.endsWith("-dlq.fifo")));
      const queue = only(queues.filter((q) => !q.inputs.name.endsWith("-dlq.fifo")));
      const allow = only(routeChildren(cloud, route.name, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"));
      expect(allow.inputs.queueUrl).to.equal(
        `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${dlq.inputs.name}`,
      );
      expect(JSON.parse(allow.inputs.redriveAllowPolicy)).to.deep.equal({
        redrivePermission: "byQueue",
        sourceQueueArns: [`arn:aws:sqs:${REGION}:${ACCOUNT}:${queue.inputs.name}`],
      });
    }
  });

  it("gives each route a FIFO queue with SSE, visibility 6x the timeout, and a FIFO DLQ after MAX_ATTEMPTS + REDRIVE_MARGIN receives", () => {
    const { cloud } = result;
    for (const route of routes) {
      const queues = routeChildren(cloud, route.name, QUEUE);
      expect(queues).to.have.length(2);
      const dlq = only(queues.filter((q) => q.inputs.name.endsWith("-dlq.fifo")));
      const queue = only(queues.filter((q) => !q.inputs.name.endsWith("-dlq.fifo")));
      for (const q of queues) {
        expect(q.inputs).to.include({
          fifoQueue: true,
          contentBasedDeduplication: false,
          sqsManagedSseEnabled: true,
        });
      }
      // AWS's guidance, whatever the constants say: at least 6 times the function's own timeout.
      const fn = only(routeChildren(cloud, route.name, FN));
      expect(queue.inputs.visibilityTimeoutSeconds).to.be.at.least(6 * fn.inputs.timeout);
      expect(VISIBILITY_FACTOR).to.be.at.least(6);
      expect(dlq.inputs.messageRetentionSeconds).to.equal(1_209_600);
      // The work queue keeps a delivery as long as the DLQ (SQS's longest): one repository's backlog waits behind
      // its retries, and SQS deletes what is older than the retention, neither done nor dead-lettered.
      expect(queue.inputs.messageRetentionSeconds).to.equal(1_209_600);
      // Both queues take SQS's 1 MiB; the receive path allows a work item 8 KiB less, so a dead letter (the item
      // and its reason attributes) fits in the DLQ and can be redriven back.
      expect(MAX_WORK_ITEM_BYTES).to.equal(1_048_576 - 8 * 1024);
      expect(queue.inputs.maxMessageSize).to.equal(1_048_576);
      expect(dlq.inputs.maxMessageSize).to.equal(1_048_576);
      const redrive = JSON.parse(queue.inputs.redrivePolicy);
      // The function's own last attempt (from MAX_ATTEMPTS on) comes REDRIVE_MARGIN receives before SQS's backstop,
      // so a throttled or failed receive at the last attempt still leaves the function one of its own.
      expect(redrive.maxReceiveCount)
        .to.equal(MAX_ATTEMPTS + REDRIVE_MARGIN)
        .and.to.be.at.least(5);
      expect(REDRIVE_MARGIN).to.be.at.least(1);
      expect(redrive.deadLetterTargetArn).to.equal(`arn:aws:sqs:${REGION}:${ACCOUNT}:${dlq.inputs.name}`);
      const esm = only(routeChildren(cloud, route.name, "aws:lambda/eventSourceMapping:EventSourceMapping"));
      expect(esm.inputs.eventSourceArn).to.equal(`arn:aws:sqs:${REGION}:${ACCOUNT}:${queue.inputs.name}`);
      expect(esm.inputs.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
      // One record per invocation: its receives are its attempts (see BATCH_SIZE).
      expect(esm.inputs.batchSize).to.equal(1);
      // A backlog cannot take the concurrency the receive path needs.
      expect(esm.inputs.scalingConfig).to.deep.equal({ maximumConcurrency: 5 });
    }
  });

  it("creates each function's log group, with retention, before the function, and logs the function there", () => {
    const { cloud } = result;
    for (const route of routes) {
      const fn = only(routeChildren(cloud, route.name, FN));
      const lg = only(routeChildren(cloud, route.name, "aws:cloudwatch/logGroup:LogGroup"));
      expect(lg.inputs.name).to.equal(`/aws/lambda/${fn.inputs.name}`);
      expect(lg.inputs.retentionInDays).to.equal(30);
      expect(fn.inputs.loggingConfig.logGroup).to.equal(lg.inputs.name);
      expect(cloud.resources.indexOf(lg)).to.be.lessThan(cloud.resources.indexOf(fn));
    }
  });

  it("gives the functions only the environment contract: the compiled route, the queue URLs, the table", () => {
    const { cloud } = result;
    for (const route of routes) {
      const vars = only(routeChildren(cloud, route.name, FN)).inputs.environment.variables;
      expect(Object.keys(vars).sort()).to.deep.equal([
        "HOOKGATE_DEDUPE_TABLE",
        "HOOKGATE_DLQ_URL",
        "HOOKGATE_MAX_ATTEMPTS",
        "HOOKGATE_QUEUE_URL",
        "HOOKGATE_ROUTE",
      ]);
      const deployed = JSON.parse(vars.HOOKGATE_ROUTE);
      expect(deployed.name).to.equal(route.name);
      expect(vars.HOOKGATE_QUEUE_URL).to.match(/^https:\/\/sqs\..*\.fifo$/);
      expect(vars.HOOKGATE_DLQ_URL).to.match(/-dlq\.fifo$/);
      expect(vars.HOOKGATE_DEDUPE_TABLE).to.equal("hookgate-dev-dedupe");
      expect(vars.HOOKGATE_MAX_ATTEMPTS).to.equal(String(MAX_ATTEMPTS));
    }
    const zip = JSON.parse(
      only(routeChildren(cloud, "source-zip", FN)).inputs.environment.variables.HOOKGATE_ROUTE,
    );
    expect(zip.action.bucket).to.match(/^hookgate-dev-artifacts-/);
  });

  it("measures each role's policy before deploying at the length IAM gets (the account and bucket stand in at their lengths)", () => {
    const { cloud } = result;
    const prefix = stackPrefix("dev");
    const names = stackNames(prefix, REGION);
    for (const spec of routes) {
      const role = only(routeChildren(cloud, spec.name, "aws:iam/role:Role"));
      const deployed = policyChars(JSON.parse(role.inputs.inlinePolicies[0].policy));
      const bound = routePolicyBound({
        route: spec,
        names: routeNames(prefix, spec.name),
        partition: "aws",
        region: REGION,
        dedupeTableName: names.dedupeTable,
        artifactBucketNameLength: names.bucketPrefix.length + 26,
      });
      expect(policyChars(bound), spec.name).to.equal(deployed);
      expect(deployed, spec.name).to.be.at.most(ROLE_INLINE_POLICY_MAX_CHARS);
    }
  });

  it("grants each role only its own queue, dead letters, table keys, secrets and bucket prefix", () => {
    const { cloud } = result;
    const docs = iamDocuments(cloud);
    const zip = only(docs.filter((d) => routeOf(cloud, d.owner) === "source-zip")).statements;
    const put = only(zip.filter((s) => s.Sid === "ReadWriteOwnPrefix"));
    expect(put.Resource).to.match(/^arn:aws:s3:::hookgate-dev-artifacts-[^/]+\/zips\/\*$/);
    const listZips = only(zip.filter((s) => s.Sid === "ListOwnPrefix"));
    expect(listZips.Resource).to.match(/^arn:aws:s3:::hookgate-dev-artifacts-[^/]+$/);
    expect(listZips.Condition).to.deep.equal({ StringLike: { "s3:prefix": ["zips/*"] } });
    const table = only(zip.filter((s) => s.Sid === "OwnDeliveryIds"));
    expect(table.Condition).to.deep.equal({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["source-zip#*"] },
    });
    const cleanup = only(docs.filter((d) => routeOf(cloud, d.owner) === "pr-cleanup")).statements;
    const list = only(cleanup.filter((s) => s.Action === "s3:ListBucket"));
    expect(list.Resource).to.equal("arn:aws:s3:::acme-previews");
    expect(list.Condition).to.deep.equal({ StringLike: { "s3:prefix": ["previews/*"] } });
    const del = only(cleanup.filter((s) => s.Action === "s3:DeleteObject"));
    expect(del.Resource).to.equal("arn:aws:s3:::acme-previews/previews/*");
    const jenkinsOnly = only(docs.filter((d) => routeOf(cloud, d.owner) === "api-build")).statements;
    expect(jenkinsOnly.some((s) => JSON.stringify(s.Action).includes("s3:"))).to.equal(false);
    const secrets = only(jenkinsOnly.filter((s) => s.Sid === "ReadOwnSecrets"));
    expect(secrets.Resource).to.deep.equal([
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hookgate/github-webhook-??????`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hookgate/github-webhook`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hookgate/jenkins-??????`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hookgate/jenkins`,
    ]);
  });

  it("alarms on dead letters and on an unhealthy route, to the stack's SNS topic", () => {
    const { cloud } = result;
    const topic = only(cloud.ofType("aws:sns/topic:Topic"));
    for (const route of routes) {
      const alarms = routeChildren(cloud, route.name, "aws:cloudwatch/metricAlarm:MetricAlarm");
      expect(alarms).to.have.length(5);
      const dlq = only(alarms.filter((a) => a.inputs.metricName === "ApproximateNumberOfMessagesVisible"));
      expect(dlq.inputs.dimensions.QueueName).to.match(/-dlq\.fifo$/);
      expect(dlq.inputs).to.include({ threshold: 0, comparisonOperator: "GreaterThanThreshold" });
      const health = only(alarms.filter((a) => a.inputs.metricQueries));
      const metrics = health.inputs.metricQueries
        .filter((q: any) => q.metric)
        .map((q: any) => q.metric.metricName);
      expect(metrics.sort()).to.deep.equal(["ApproximateAgeOfOldestMessage", "Errors"]);
      for (const a of alarms)
        expect(a.inputs.alarmActions).to.deep.equal([`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`]);
    }
    expect(topic.inputs.name).to.equal("hookgate-dev-alarms");
    expect(cloud.ofType("aws:sns/topicSubscription:TopicSubscription")).to.deep.equal([]);
  });

  it("alarms when a route's function logs that its webhook secret is missing or holds no usable value (every delivery answered 401, which no other alarm sees), through a JSON metric filter on its log group", () => {
    const { cloud } = result;
    for (const route of routes) {
      const fn = `hookgate-dev-${route.name}`;
      const filter = only(
        routeChildren(cloud, route.name, "aws:cloudwatch/logMetricFilter:LogMetricFilter").filter(
          (f) => f.inputs.name === `${fn}-secret-unusable`,
        ),
      );
      expect(filter.inputs).to.deep.include({
        name: `${fn}-secret-unusable`,
        logGroupName: `/aws/lambda/${fn}`,
        pattern:
          '{ ($.level = "error") && (($.msg = "webhook secret missing: every delivery is rejected until it exists") || ' +
          '($.msg = "webhook secret holds no usable value: every delivery is rejected until it does")) }',
        metricTransformation: {
          namespace: "hookgate",
          name: `${fn}-secret-unusable`,
          value: "1",
          defaultValue: "0",
        },
      });
      const alarm = only(
        routeChildren(cloud, route.name, "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
          (a) => a.inputs.name === `${fn}-secret-unusable`,
        ),
      );
      expect(alarm.inputs).to.deep.include({
        name: `${fn}-secret-unusable`,
        metricName: `${fn}-secret-unusable`,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "ignore",
        alarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`],
        okActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`],
      });
      expect(alarm.inputs.alarmDescription).to.contain(
        "does not mean the refused deliveries were redelivered",
      );
    }
  });

  it("gives a route without a webhook secret (source IP alone) no secret alarm: its function never logs one missing", async () => {
    const route = {
      ...jenkinsRoute("ip-only"),
      secret: undefined,
      auth: { allowIps: ["104.192.136.0/21"], allowSha1: false, toleranceSeconds: 300 },
    };
    const { cloud } = await evaluate({ config: config(), routes: [route], code: stubCode });
    expect(
      routeChildren(cloud, "ip-only", "aws:cloudwatch/logMetricFilter:LogMetricFilter").map(
        (f) => f.inputs.name,
      ),
    ).to.deep.equal(["hookgate-test-ip-only-dead-lettered"]);
    expect(routeChildren(cloud, "ip-only", "aws:cloudwatch/metricAlarm:MetricAlarm")).to.have.length(3);
  });

  it("the unhealthy alarm sums its two conditions without FILL, evaluated 1 of 1: FILL in an alarm writes its value into the latest period, which a metric published late never has, so the alarm could read 0 there and stay OK", () => {
    for (const route of routes) {
      const alarms = routeChildren(result.cloud, route.name, "aws:cloudwatch/metricAlarm:MetricAlarm");
      const health = only(alarms.filter((a) => a.inputs.metricQueries));
      const expression = only<{ expression: string }>(
        health.inputs.metricQueries.filter((q: any) => q.expression),
      ).expression;
      expect(expression).to.equal("IF(errors > 0, 1, 0) + IF(age > 900, 1, 0)");
      expect(health.inputs).to.include({
        evaluationPeriods: 1,
        threshold: 1,
        treatMissingData: "notBreaching",
      });
    }
  });

  it("alarms on the API's 5xx answers (deliveries refused before any function ran included), to the same topic", () => {
    const { cloud } = result;
    const api = only(
      cloud
        .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
        .filter((a) => a.inputs.namespace === "AWS/ApiGateway"),
    );
    expect(api.inputs).to.deep.include({
      name: "hookgate-dev-api-5xx",
      metricName: "5XXError",
      dimensions: { ApiName: "hookgate-dev-api", Stage: "v1" },
      statistic: "Sum",
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`],
      okActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`],
    });
  });

  it("alarms on the API's 413 answers (a body too large for the function, which API Gateway may answer 413 itself: a 4xx no Git host redelivers and api-5xx does not see) and its throttled 503s (a changed gateway response status counts as a 4XXError), through a metric filter on the access log group, to the same topic", () => {
    const { cloud } = result;
    const accessLogs = only(
      cloud
        .ofType("aws:cloudwatch/logGroup:LogGroup")
        .filter((l) => l.inputs.name.startsWith("/aws/apigateway/")),
    );
    const filter = only(
      cloud
        .ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter")
        .filter((f) => f.inputs.logGroupName === accessLogs.inputs.name),
    );
    expect(filter.inputs).to.deep.equal({
      name: "hookgate-dev-api-413-throttled",
      logGroupName: accessLogs.inputs.name,
      pattern: TOO_LARGE_OR_THROTTLED_PATTERN,
      metricTransformation: { namespace: "hookgate", name: "hookgate-dev-api-413-throttled", value: "1" },
    });
    const alarm = only(
      cloud
        .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
        .filter((a) => a.inputs.metricName === filter.inputs.metricTransformation.name),
    );
    expect(alarm.inputs).to.deep.include({
      name: "hookgate-dev-api-413-throttled",
      namespace: "hookgate",
      statistic: "Sum",
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`],
      okActions: [`arn:aws:sns:${REGION}:${ACCOUNT}:hookgate-dev-alarms`],
    });
    expect(alarm.inputs.alarmDescription).to.contain(accessLogs.inputs.name);
  });

  it("creates one versioned artifact bucket with noncurrent versions expiring", () => {
    const { cloud } = result;
    const bucket = only(cloud.ofType("aws:s3/bucket:Bucket"));
    const versioning = only(cloud.ofType("aws:s3/bucketVersioning:BucketVersioning"));
    expect(versioning.inputs).to.deep.include({
      bucket: `${bucket.name}-id`,
      versioningConfiguration: { status: "Enabled" },
    });
    const lifecycle = only(cloud.ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"));
    expect(lifecycle.inputs.rules[0].noncurrentVersionExpiration).to.deep.equal({ noncurrentDays: 30 });
  });

  it("sends the artifact bucket's events to EventBridge, so a CodePipeline S3 source can start on them without CloudTrail", () => {
    const { cloud } = result;
    const bucket = only(cloud.ofType("aws:s3/bucket:Bucket"));
    const notification = only(cloud.ofType("aws:s3/bucketNotification:BucketNotification"));
    expect(notification.inputs).to.deep.equal({ bucket: `${bucket.name}-id`, eventbridge: true });
  });

  it("creates the dedupe table the handlers expect: pk (S), TTL on expiresAt, PITR, SSE, on demand", () => {
    const table = only(result.cloud.ofType("aws:dynamodb/table:Table"));
    expect(table.inputs).to.deep.include({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attributes: [{ name: "pk", type: "S" }],
      ttl: { attributeName: "expiresAt", enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
    });
  });

  it("builds a dashboard over every route, with a Logs Insights widget over the route log groups", () => {
    const dashboard = only(result.cloud.ofType("aws:cloudwatch/dashboard:Dashboard"));
    const body = JSON.parse(dashboard.inputs.dashboardBody);
    const [decisions, outcomes] = body.widgets.filter((w: { type: string }) => w.type === "log");
    for (const log of [decisions, outcomes]) {
      for (const route of routes)
        expect(log.properties.query).to.contain(`SOURCE '/aws/lambda/hookgate-dev-${route.name}'`);
    }
    expect(decisions.properties.query).to.contain("stats count() by route, decision");
    expect(outcomes.properties.query).to.contain("stats count() by route, outcome");
    expect(result.dashboardUrl).to.equal(
      `https://${REGION}.console.aws.amazon.com/cloudwatch/home?region=${REGION}#dashboards/dashboard/hookgate-dev-${REGION}`,
    );
  });

  it("outputs each route's URL and setup (content type, events, secret name) and its DLQ URL", () => {
    expect(Object.keys(result.webhookUrls).sort()).to.deep.equal(routes.map((r) => r.name).sort());
    expect(result.webhookUrls["api-build"]).to.equal(
      `https://hookgate-api-api-id.execute-api.${REGION}.amazonaws.com/v1/hooks/api-build`,
    );
    expect(result.webhookSetup["pr-cleanup"]).to.deep.include({
      contentType: "application/json",
      events: ["pull_request"],
      secretName: "hookgate/github-webhook",
    });
    expect(result.webhookSetup["platform-gitlab"]?.hostEvents).to.deep.equal([
      "Push events",
      "Tag push events",
    ]);
    expect(result.deadLetterQueueUrls["api-build"]).to.equal(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/hookgate-dev-api-build-dlq.fifo`,
    );
  });

  it("creates no GitHub resources and no random one but the stack's instance value when manageWebhooks is off, and calls no invoke but getAvailabilityZones (network.azCount's check) and getCallerIdentity", () => {
    const { cloud } = result;
    expect(
      cloud.resources
        .filter((r) => r.type.startsWith("github:") || r.type.startsWith("random:"))
        .map((r) => `${r.type} ${r.name}`),
    ).to.deep.equal(["random:index/randomId:RandomId hookgate-instance"]);
    expect([...new Set(cloud.invokes.map((i) => i.token))].sort()).to.deep.equal([
      "aws:index/getAvailabilityZones:getAvailabilityZones",
      "aws:index/getCallerIdentity:getCallerIdentity",
    ]);
  });

  it("passes the security checks over every resource (ingress, IAM *, secrets, environments, buckets, names)", () => {
    expectSecure(result, routes);
  });
});

describe("Gateway (under Pulumi mocks): network variants", () => {
  const routes = [jenkinsRoute(), s3ZipRoute("zip-own-bucket", "acme-artifacts")];

  for (const nat of ["none", "single", "perAz"] as const) {
    it(`natGateways ${nat}: the awsx VPC gets the matching NAT strategy and S3 + DynamoDB gateway endpoints`, async () => {
      const result = await evaluate({
        config: config({ network: { natGateways: nat, azCount: 3 } }),
        routes,
        code: stubCode,
      });
      const vpc = only(result.cloud.ofType("awsx:ec2:Vpc"));
      expect(vpc.inputs.natGateways.strategy).to.equal(
        { none: "None", single: "Single", perAz: "OnePerAz" }[nat],
      );
      expect(vpc.inputs.numberOfAvailabilityZones).to.equal(3);
      expect(vpc.inputs.subnetStrategy).to.equal("Auto");
      expect(
        vpc.inputs.vpcEndpointSpecs.map((s: any) => `${s.serviceName} ${s.vpcEndpointType}`),
      ).to.deep.equal([`com.amazonaws.${REGION}.s3 Gateway`, `com.amazonaws.${REGION}.dynamodb Gateway`]);
      // Only Auto attaches them to the VPC's route tables; with Legacy they would route nothing.
      expect(vpc.inputs.vpcEndpointStrategy).to.equal("Auto");
      for (const spec of vpc.inputs.vpcEndpointSpecs) expect(spec.routeTableIds).to.equal(undefined);
      const subnets = result.cloud.ofType(FN)[0]?.inputs.vpcConfig.subnetIds;
      const endpoints = result.cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
      if (nat === "none") {
        expect(vpc.inputs.subnetSpecs).to.deep.equal([{ type: "Isolated", name: "isolated" }]);
        expect(subnets).to.deep.equal(["subnet-0ccccccccccccccc1", "subnet-0ccccccccccccccc2"]);
        // Without a NAT, Secrets Manager and SQS are reached through interface endpoints, HTTPS from the Lambdas only.
        expect(endpoints.map((e) => e.inputs.serviceName)).to.deep.equal([
          `com.amazonaws.${REGION}.secretsmanager`,
          `com.amazonaws.${REGION}.sqs`,
        ]);
        const sg = only(
          result.cloud
            .ofType("aws:ec2/securityGroup:SecurityGroup")
            .filter((r) => r.name.endsWith("-endpoints")),
        );
        expect(sg.inputs.ingress).to.have.length(1);
        expect(sg.inputs.ingress[0]).to.include({ fromPort: 443, toPort: 443 });
        expect(sg.inputs.ingress[0].securityGroups).to.have.length(1);
        expect(sg.inputs.ingress[0].cidrBlocks).to.equal(undefined);
        for (const e of endpoints) expect(e.inputs.securityGroupIds).to.deep.equal([`sg-${hexOf(sg)}`]);
      } else {
        expect(subnets).to.deep.equal(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]);
        expect(endpoints).to.deep.equal([]);
      }
      expectSecure(result, routes);
    });
  }

  it("in China, the SQS, STS and CloudWatch interface endpoints are cn.com.amazonaws.<region>.*; the others and the gateway endpoints stay com.amazonaws", async () => {
    const region = "cn-north-1";
    const result = await evaluate({
      config: config({
        network: {
          natGateways: "none",
          interfaceEndpoints: ["secretsmanager", "sqs", "logs", "sts", "kms", "monitoring"],
        },
      }),
      routes,
      code: stubCode,
      region,
    });
    const vpc = only(result.cloud.ofType("awsx:ec2:Vpc"));
    expect(vpc.inputs.vpcEndpointSpecs.map((s: any) => s.serviceName)).to.deep.equal([
      `com.amazonaws.${region}.s3`,
      `com.amazonaws.${region}.dynamodb`,
    ]);
    const endpoints = result.cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => e.inputs.serviceName).sort()).to.deep.equal([
      `cn.com.amazonaws.${region}.monitoring`,
      `cn.com.amazonaws.${region}.sqs`,
      `cn.com.amazonaws.${region}.sts`,
      `com.amazonaws.${region}.kms`,
      `com.amazonaws.${region}.logs`,
      `com.amazonaws.${region}.secretsmanager`,
    ]);
  });

  for (const [region, origin] of [
    ["cn-northwest-1", "https://console.amazonaws.cn"],
    ["us-gov-west-1", "https://console.amazonaws-us-gov.com"],
  ] as const) {
    it(`in ${region}, the dashboard URL points at that partition's console (${origin})`, async () => {
      const result = await evaluate({ config: config(), routes, stack: "dev", code: stubCode, region });
      expect(result.dashboardUrl).to.equal(
        `${origin}/cloudwatch/home?region=${region}#dashboards/dashboard/hookgate-dev-${region}`,
      );
    });
  }

  it("existing VPC: uses the configured subnets, creates no VPC, and adds gateway endpoints only to the given route tables", async () => {
    const network = {
      mode: "existing",
      vpcId: "vpc-0feedfeedfeedfeed",
      privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
      routeTableIds: ["rtb-0123456789abcdef0"],
      interfaceEndpoints: ["secretsmanager"],
    };
    const result = await evaluate({
      config: config({ network, jenkins: { securityGroupId: "sg-0123456789abcdef0", port: 8080 } }),
      routes,
      code: stubCode,
    });
    const { cloud } = result;
    expect(cloud.ofType("awsx:ec2:Vpc")).to.deep.equal([]);
    for (const fn of cloud.ofType(FN))
      expect(fn.inputs.vpcConfig.subnetIds).to.deep.equal(network.privateSubnetIds);
    const endpoints = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => `${e.inputs.serviceName} ${e.inputs.vpcEndpointType}`).sort()).to.deep.equal([
      `com.amazonaws.${REGION}.dynamodb Gateway`,
      `com.amazonaws.${REGION}.s3 Gateway`,
      `com.amazonaws.${REGION}.secretsmanager Interface`,
    ]);
    for (const e of endpoints) expect(e.inputs.vpcId).to.equal("vpc-0feedfeedfeedfeed");
    // Jenkins: the Lambdas reach its security group on its port, and it accepts them (and only them) there.
    const lambdaSg = only(
      cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda")),
    );
    expect(lambdaSg.inputs.vpcId).to.equal("vpc-0feedfeedfeedfeed");
    const jenkinsEgress = only<{ securityGroups: string[] }>(
      lambdaSg.inputs.egress.filter((e: { fromPort: number }) => e.fromPort === 8080),
    );
    expect(jenkinsEgress.securityGroups).to.deep.equal(["sg-0123456789abcdef0"]);
    const ingress = only(cloud.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"));
    expect(ingress.inputs).to.include({
      securityGroupId: "sg-0123456789abcdef0",
      referencedSecurityGroupId: `sg-${hexOf(lambdaSg)}`,
      fromPort: 8080,
      toPort: 8080,
      ipProtocol: "tcp",
    });
    // A route that names its bucket: the role writes only there, not to the stack's bucket.
    const put = iamDocuments(cloud)
      .flatMap((d) => d.statements)
      .find((s) => s.Sid === "ReadWriteOwnPrefix");
    expect(put?.Resource).to.equal("arn:aws:s3:::acme-artifacts/zips/*");
    expectSecure(result, routes);
  });
});

/** The id the mocks give a security group. */
function hexOf(sg: Recorded): string {
  let h = 0;
  for (const c of sg.name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, "0").padEnd(17, "0");
}

describe("Gateway (under Pulumi mocks): API options", () => {
  it("api.ipAllowlist: a resource policy allows execute-api:Invoke on the API's full execution ARN (as AWS stores it) and denies every source outside the CIDRs", async () => {
    const cidrs = ["192.30.252.0/22", "185.199.108.0/22"];
    const result = await evaluate({
      config: config({ api: { ipAllowlist: cidrs } }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const recorded = only(result.cloud.ofType("aws:apigateway/restApiPolicy:RestApiPolicy"));
    const policy = JSON.parse(recorded.inputs.policy);
    const everything = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${recorded.inputs.restApiId}/*`;
    expect(policy.Statement.map((s: any) => `${s.Effect} ${s.Action} ${s.Resource}`)).to.deep.equal([
      `Allow execute-api:Invoke ${everything}`,
      `Deny execute-api:Invoke ${everything}`,
    ]);
    expect(policy.Statement[1].Condition).to.deep.equal({ NotIpAddress: { "aws:SourceIp": cidrs } });
    expect(result.cloud.ofType("aws:apigateway/account:Account")).to.deep.equal([]);
  });

  it("without api.ipAllowlist the resource policy still exists and allows everyone (removing a list is an update)", async () => {
    const result = await evaluate({ config: config(), routes: [jenkinsRoute()], code: stubCode });
    const policy = only(result.cloud.ofType("aws:apigateway/restApiPolicy:RestApiPolicy"));
    expect(JSON.parse(policy.inputs.policy).Statement.map((s: any) => s.Effect)).to.deep.equal(["Allow"]);
  });

  it("the deployment hash changes when a route or the allowlist changes, and not otherwise", async () => {
    const hash = async (routes: Route[], ipAllowlist: string[]) => {
      const r = await evaluate({ config: config({ api: { ipAllowlist } }), routes, code: stubCode });
      return only(r.cloud.ofType("aws:apigateway/deployment:Deployment")).inputs.triggers.redeployment;
    };
    const base = await hash([jenkinsRoute()], []);
    expect(await hash([jenkinsRoute()], [])).to.equal(base);
    expect(await hash([jenkinsRoute(), s3ZipRoute()], [])).not.to.equal(base);
    expect(await hash([jenkinsRoute()], ["192.0.2.0/24"])).not.to.equal(base);
  });

  it("api.manageAccount: the account's CloudWatch role for access logs is created, with AWS's log-pushing policy", async () => {
    const result = await evaluate({
      config: config({ api: { manageAccount: true } }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const account = only(result.cloud.ofType("aws:apigateway/account:Account"));
    expect(account.inputs.cloudwatchRoleArn).to.match(/^arn:aws:iam::\d+:role\/hookgate-test-apigw-/);
    const role = only(
      result.cloud.ofType("aws:iam/role:Role").filter((r) => r.name.endsWith("-cloudwatch-role")),
    );
    expect(role.inputs.managedPolicyArns).to.deep.equal([
      "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    ]);
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expectSecure(result, [jenkinsRoute()]);
  });

  it("api.manageAccount: the region's CloudWatch role setting and its role outlive the stack's ownership (retainOnDelete)", async () => {
    // The setting is region-wide: every REST API of the region writes its access logs through that role.
    // Turning manageAccount off (or destroying the stack) must not delete the role the setting points at.
    const result = await evaluate({
      config: config({ api: { manageAccount: true } }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const account = only(result.cloud.ofType("aws:apigateway/account:Account"));
    const role = result.cloud
      .ofType("aws:iam/role:Role")
      .filter((r) => r.inputs.namePrefix === "hookgate-test-apigw-");
    expect(account.retainOnDelete).to.equal(true);
    expect(only(role).retainOnDelete).to.equal(true);
    // Nothing else is retained: the stack's own resources go with it.
    const retained = result.cloud.resources.filter((r) => r.retainOnDelete).map((r) => r.type);
    expect(retained.sort()).to.deep.equal(["aws:apigateway/account:Account", "aws:iam/role:Role"]);
  });

  it("alarmEmail subscribes the address to the alarm topic", async () => {
    const result = await evaluate({
      config: config({ alarmEmail: "ops@example.com" }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const sub = only(result.cloud.ofType("aws:sns/topicSubscription:TopicSubscription"));
    expect(sub.inputs).to.include({ protocol: "email", endpoint: "ops@example.com" });
  });
});

describe("Gateway (under Pulumi mocks): names", () => {
  it("the longest legal route name (32 characters) with a long stack name still yields valid, unique AWS names", async () => {
    const long = `${"a".repeat(30)}-b`;
    const longer = `${"a".repeat(30)}-c`;
    expect(long).to.have.length(32);
    const routes = [jenkinsRoute(long), s3ZipRoute(longer)];
    const stack = "production-eu-central-1-blue-green-canary";
    const result = await evaluate({ config: config(), routes, stack, code: stubCode });
    expect(nameProblems(result.cloud)).to.deep.equal([]);
    const fns = result.cloud.ofType(FN).map((f) => f.inputs.name as string);
    expect(new Set(fns).size).to.equal(2);
    for (const name of fns) expect(name.length).to.be.at.most(64);
    expect(result.webhookUrls[long]).to.match(new RegExp(`/hooks/${long}$`));
  });

  it("route names next to the stack's own names (api, deployment, stage, hooks-main, a-queue, a-dead-letters) give no duplicate URN or AWS name", async () => {
    const names = [
      "a",
      "a-queue",
      "a-dead-letters",
      "a-unhealthy",
      "a-secret-unusable",
      "a-bad-signature",
      "a-dead-lettered",
      "api",
      "deployment",
      "stage",
      "hooks-main",
    ];
    const result = await evaluate({
      config: config(),
      routes: names.map((n) => jenkinsRoute(n)),
      code: stubCode,
    });
    expect(nameProblems(result.cloud)).to.deep.equal([]);
  });

  it("refuses a route named hooks (the URN of the API's /hooks resource) and a-dlq next to a (a's dead-letter queue name) before creating anything", () => {
    return Promise.all([
      evaluate({ config: config(), routes: [jenkinsRoute("hooks")], code: stubCode }).then(
        () => expect.fail("no error"),
        (e: Error) => expect(e.message).to.contain('route name "hooks" is reserved'),
      ),
      evaluate({ config: config(), routes: [jenkinsRoute("a"), jenkinsRoute("a-dlq")], code: stubCode }).then(
        () => expect.fail("no error"),
        (e: Error) => expect(e.message).to.contain('route name "a-dlq" clashes with route "a"'),
      ),
    ]);
  });

  it("refuses a route whose environment Lambda would refuse (4 KB as JSON) before creating anything, so preview fails", async () => {
    const route = jenkinsRoute("huge");
    if (route.action.type === "jenkins") {
      route.action.parameters = Object.fromEntries(Array.from({ length: 270 }, (_, i) => [`P${i}`, "x"]));
    }
    expect(Buffer.byteLength(JSON.stringify(route))).to.be.below(3500);
    await evaluate({ config: config(), routes: [route], code: stubCode }).then(
      () => expect.fail("no error"),
      (e: Error) => expect(e.message).to.match(/route "huge": its Lambda environment is \d+ bytes/),
    );
  });

  it("refuses a route whose role policy IAM would refuse (10,240 characters for a role's inline policies) before creating anything", async () => {
    // Ten repositories named exactly, each step's prefix pinned per repository: two statements of ten per step.
    const route = prCleanupRoute("cleanup");
    route.match.repos = Array.from({ length: 10 }, (_, i) => `acme-platform/service-${i}-with-a-longer-name`);
    if (route.action.type === "pr-cleanup") {
      route.action.steps = Array.from({ length: 6 }, (_, i) => ({
        kind: "delete-s3-prefix" as const,
        bucket: `acme-previews-${i}`,
        prefix: "previews/{{repo.path}}/pr-{{pr.number}}/",
      }));
    }
    await evaluate({ config: config(), routes: [route], code: stubCode }).then(
      () => expect.fail("no error"),
      (e: Error) => {
        expect(e.message).to.match(
          /route "cleanup": its role's policy is \d+ characters, more than the 10240 IAM allows/,
        );
        // Printed by `pulumi up` as its message alone, not as an unhandled exception with a stack trace.
        expect(pulumi.RunError.isInstance(e), String(e)).to.equal(true);
      },
    );
    // Two steps fit, and are deployed with the policy measured beforehand.
    if (route.action.type === "pr-cleanup") route.action.steps = route.action.steps.slice(0, 2);
    const { cloud } = await evaluate({ config: config(), routes: [route], stack: "dev", code: stubCode });
    expect(policyProblems(cloud)).to.deep.equal([]);
  });

  it("keeps the artifact bucket when no route uses it, so that editing or removing the last s3-zip route deletes no zip", async () => {
    const bucketOf = async (routes: Route[]) => {
      const { cloud } = await evaluate({ config: config(), routes, stack: "dev", code: stubCode });
      return only(cloud.ofType("aws:s3/bucket:Bucket"));
    };
    const used = await bucketOf([jenkinsRoute(), s3ZipRoute()]);
    // The last such route given its own bucket, or removed: the same bucket, the same settings.
    for (const routes of [[jenkinsRoute(), s3ZipRoute("source-zip", "acme-artifacts")], [jenkinsRoute()]]) {
      const kept = await bucketOf(routes);
      expect(kept.urn).to.equal(used.urn);
      expect(kept.inputs).to.deep.equal(used.inputs);
    }
  });

  it("two stacks never share a physical name", async () => {
    const a = await evaluate({ config: config(), routes: [jenkinsRoute()], stack: "dev", code: stubCode });
    const b = await evaluate({ config: config(), routes: [jenkinsRoute()], stack: "prod", code: stubCode });
    const names = (e: Evaluated) =>
      new Set(
        e.cloud
          .ofType(FN)
          .concat(e.cloud.ofType(QUEUE))
          .map((r) => r.inputs.name),
      );
    const shared = [...names(a)].filter((n) => names(b).has(n));
    expect(shared).to.deep.equal([]);
  });

  it("rejects an empty routes file and a duplicated route name before creating anything", () => {
    return Promise.all([
      evaluate({ config: config(), routes: [], code: stubCode }).then(
        () => expect.fail("no error"),
        (e: Error) => expect(e.message).to.contain("no routes"),
      ),
      evaluate({ config: config(), routes: [jenkinsRoute(), jenkinsRoute()], code: stubCode }).then(
        () => expect.fail("no error"),
        (e: Error) => expect(e.message).to.contain('"api-build" is defined twice'),
      ),
    ]);
  });
});

describe("Gateway (under Pulumi mocks): github.manageWebhooks", () => {
  const routes = [jenkinsRoute("api-build", ["acme/api", "acme/*", "other/tool"]), prCleanupRoute()];
  let result: Evaluated;
  before(async () => {
    result = await evaluate({
      config: config({ github: { manageWebhooks: true } }),
      routes,
      code: stubCode,
      githubToken: "ghp_test-token-value",
    });
  });

  it("generates one secret per secret name, stores it in Secrets Manager under that name", () => {
    const { cloud } = result;
    const secret = only(cloud.ofType("aws:secretsmanager/secret:Secret"));
    expect(secret.inputs.name).to.equal("hookgate/github-webhook");
    only(cloud.ofType("random:index/randomPassword:RandomPassword"));
    const version = only(cloud.ofType("aws:secretsmanager/secretVersion:SecretVersion"));
    expect(version.inputs.secretString).to.match(/^generated-secret-value-/);
    expect(version.secretPaths).to.deep.equal(["secretString"]);
  });

  it("manages webhooks on github.com by default, and on GitHub Enterprise Server when providers.github.apiUrl says so", async () => {
    const baseUrls = (r: Evaluated) => r.cloud.ofType("pulumi:providers:github").map((p) => p.inputs.baseUrl);
    expect(baseUrls(result)).to.deep.equal(["https://api.github.com/", "https://api.github.com/"]);
    const ghes = await evaluate({
      config: config({ github: { manageWebhooks: true } }),
      routes: [jenkinsRoute("api-build", ["acme/api"])],
      code: stubCode,
      githubToken: "ghp_test-token-value",
      githubApiUrl: "https://ghe.example.com/api/v3",
    });
    // The provider adds api/v3/ itself: https://ghe.example.com/api/v3/ would call /api/v3/api/v3/….
    expect(baseUrls(ghes)).to.deep.equal(["https://ghe.example.com/"]);
  });

  it("registers a webhook on every exactly named repository, with the route's URL, JSON, its events and the secret", () => {
    const { cloud } = result;
    const hooks = cloud.ofType("github:index/repositoryWebhook:RepositoryWebhook");
    const summary = hooks.map((h) => `${h.inputs.repository} ${h.inputs.events.join(",")}`).sort();
    // acme/* and acme/*-service are globs: no webhook for those.
    expect(summary).to.deep.equal(["api push", "tool push", "web pull_request"]);
    const api = only(hooks.filter((h) => h.inputs.repository === "api"));
    expect(api.inputs.configuration).to.deep.include({
      url: result.webhookUrls["api-build"],
      contentType: "json",
      insecureSsl: false,
    });
    expect(api.inputs.configuration.secret).to.match(/^generated-secret-value-/);
    // The secret reaches the provider as a Pulumi secret (the engine marks the whole block).
    expect(api.secretPaths.filter((p) => p.startsWith("configuration"))).to.have.length(1);
    // Each owner gets its own GitHub provider.
    const providers = cloud
      .ofType("pulumi:providers:github")
      .map((p) => p.inputs.owner)
      .sort();
    expect(providers).to.deep.equal(["acme", "other"]);
    expect(api.provider).to.contain("acme");
  });

  it("refuses, before creating anything, 21 routes that each put a push webhook on acme/api (GitHub takes 20 per event on a repository), and takes 20", async function () {
    this.timeout(120_000);
    const routesOn = (n: number) =>
      Array.from({ length: n }, (_, i) => jenkinsRoute(`job-${i}`, ["acme/api"]));
    // The cloud of the refused run: pulumi up starts creating a resource as soon as it is registered.
    const cloud = new MockCloud();
    await cloud.install("test");
    let refused: unknown;
    try {
      await buildStack({
        config: config({ github: { manageWebhooks: true } }),
        routes: routesOn(21),
        stack: "test",
        region: REGION,
        code: stubCode,
        githubToken: "ghp_test-token-value",
      });
    } catch (error) {
      refused = error;
    }
    await settle(cloud);
    expect(String((refused as Error)?.message)).to.match(
      /^21 managed webhooks on acme\/api subscribe to the push event, and GitHub takes at most 20 per event on a repository .*routes job-0, job-1, .*job-20\./,
    );
    // A RunError: pulumi up prints its message alone, any other Error with its stack trace.
    expect(pulumi.RunError.isInstance(refused), String(refused)).to.equal(true);
    expect(cloud.ofType("aws:lambda/function:Function")).to.have.length(0);
    const taken = await evaluate({
      config: config({ github: { manageWebhooks: true } }),
      routes: routesOn(20),
      code: stubCode,
      githubToken: "ghp_test-token-value",
    });
    expect(taken.cloud.ofType("github:index/repositoryWebhook:RepositoryWebhook")).to.have.length(20);
  });

  it("keys webhooks by route and repository: adding a repository adds exactly one webhook and keeps the others", async () => {
    const names = (e: Evaluated) =>
      e.cloud.ofType("github:index/repositoryWebhook:RepositoryWebhook").map((h) => h.urn);
    const grown = await evaluate({
      config: config({ github: { manageWebhooks: true } }),
      routes: [
        jenkinsRoute("api-build", ["acme/api", "acme/*", "other/tool", "acme/extra"]),
        prCleanupRoute(),
      ],
      code: stubCode,
      githubToken: "ghp_test-token-value",
    });
    const before = names(result);
    const after = names(grown);
    expect(after.filter((u) => !before.includes(u))).to.have.length(1);
    expect(before.filter((u) => !after.includes(u))).to.deep.equal([]);
  });

  it("keeps the generated secret and the GitHub token out of every function environment and output", () => {
    const secretValues = result.cloud
      .ofType("random:index/randomPassword:RandomPassword")
      .map((r) => `generated-secret-value-${r.name}`)
      .concat(["ghp_test-token-value"]);
    expectSecure(result, routes, secretValues);
    const outputs = JSON.stringify([result.webhookUrls, result.webhookSetup, result.deadLetterQueueUrls]);
    for (const v of secretValues) expect(outputs).not.to.contain(v);
  });
});

describe("Gateway (under Pulumi mocks): hookgate:secretNamePrefix", () => {
  const routes = allKinds();
  const prefixed = routes.map((r) => withSecretNamePrefix(r, "dev/"));
  let result: Evaluated;
  before(async () => {
    result = await evaluate({
      config: config({ secretNamePrefix: "dev/", github: { manageWebhooks: true } }),
      routes,
      code: stubCode,
      githubToken: "ghp_test-token-value",
    });
  });

  it("lets each route's role read exactly its own secrets under the prefixed names", () => {
    expectSecure(result, prefixed);
    const readable = iamDocuments(result.cloud)
      .flatMap(({ statements }) => statements)
      .filter((s) => [s.Action].flat().includes("secretsmanager:GetSecretValue"))
      .flatMap((s) => [s.Resource].flat());
    expect(readable).not.to.be.empty;
    for (const arn of readable) expect(arn).to.match(/:secret:dev\//);
  });

  it("gives each function its route with the prefixed secret names", () => {
    const { cloud } = result;
    for (const route of prefixed) {
      const fn = only(routeChildren(cloud, route.name, FN));
      const deployed = JSON.parse(fn.inputs.environment.variables.HOOKGATE_ROUTE);
      expect(deployed.secret).to.equal(route.secret);
      expect(route.secret).to.match(/^dev\//);
    }
  });

  it("gives each function the prefix, which its commit statuses judge a secret name without", () => {
    for (const route of prefixed) {
      const fn = only(routeChildren(result.cloud, route.name, FN));
      expect(fn.inputs.environment.variables.HOOKGATE_SECRET_NAME_PREFIX, route.name).to.equal("dev/");
    }
  });

  it("creates the managed webhook secret, and names it in webhookSetup, under the prefixed name", () => {
    const secret = only(result.cloud.ofType("aws:secretsmanager/secret:Secret"));
    expect(secret.inputs.name).to.equal("dev/hookgate/github-webhook");
    for (const setup of Object.values(result.webhookSetup)) expect(setup.secretName).to.match(/^dev\//);
  });

  it("keeps the generated value (the same RandomPassword) when a prefix is set on a stack that had none", async () => {
    const unprefixed = await evaluate({
      config: config({ github: { manageWebhooks: true } }),
      routes,
      code: stubCode,
      githubToken: "ghp_test-token-value",
    });
    const passwords = (e: Evaluated) =>
      e.cloud.ofType("random:index/randomPassword:RandomPassword").map((r) => r.urn);
    expect(passwords(result)).to.deep.equal(passwords(unprefixed));
    expect(passwords(result)).to.have.length(1);
  });

  it("stops before creating anything when a prefixed secret name is longer than Secrets Manager allows", async () => {
    const longName = `hookgate/${"x".repeat(500)}`;
    const route = { ...jenkinsRoute(), secret: longName };
    await evaluate({
      config: config({ secretNamePrefix: "a".repeat(10) }),
      routes: [route],
      code: stubCode,
    }).then(
      () => expect.fail("no error"),
      (e: Error) => expect(e.message).to.contain("secret names longer than 512 characters"),
    );
  });
});

describe("Gateway (under Pulumi mocks): a self-hosted Git host's caBundle (providers.<provider>.caBundle)", () => {
  const selfManaged = {
    provider: "gitlab" as const,
    apiUrl: "https://gitlab.example.com/api/v4",
    token: "hookgate/gitlab-token",
    caBundle: "hookgate/gitlab-ca",
  };
  const withCa = (route: Route): Route =>
    route.action.type === "jenkins"
      ? route
      : { ...route, provider: "gitlab", action: { ...route.action, api: selfManaged } };
  const routes = [withCa(s3ZipRoute()), withCa(prCleanupRoute()), jenkinsRoute()];

  const readableBy = (result: Evaluated, route: string) =>
    iamDocuments(result.cloud)
      .filter(({ owner }) => routeOf(result.cloud, owner) === route)
      .flatMap(({ statements }) => statements)
      .filter((s) => [s.Action].flat().includes("secretsmanager:GetSecretValue"))
      .flatMap((s) => [s.Resource].flat());

  it("lets the s3-zip and pr-cleanup roles read the CA bundle secret, and the jenkins role not", async () => {
    const result = await evaluate({ config: config(), routes, code: stubCode });
    expectSecure(result, routes);
    const ca = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hookgate/gitlab-ca-??????`;
    expect(readableBy(result, "source-zip")).to.include(ca);
    expect(readableBy(result, "pr-cleanup")).to.include(ca);
    expect(readableBy(result, "api-build")).not.to.include(ca);
    const fn = only(routeChildren(result.cloud, "source-zip", FN));
    expect(JSON.parse(fn.inputs.environment.variables.HOOKGATE_ROUTE).action.api.caBundle).to.equal(
      "hookgate/gitlab-ca",
    );
  });

  it("grants, and gives the function, the CA bundle under its prefixed name with hookgate:secretNamePrefix", async () => {
    const result = await evaluate({ config: config({ secretNamePrefix: "dev/" }), routes, code: stubCode });
    expectSecure(
      result,
      routes.map((r) => withSecretNamePrefix(r, "dev/")),
    );
    expect(readableBy(result, "source-zip")).to.include(
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:dev/hookgate/gitlab-ca-??????`,
    );
    const fn = only(routeChildren(result.cloud, "source-zip", FN));
    expect(JSON.parse(fn.inputs.environment.variables.HOOKGATE_ROUTE).action.api.caBundle).to.equal(
      "dev/hookgate/gitlab-ca",
    );
  });
});

describe("Gateway (under Pulumi mocks): hookgate:kmsKeyArns", () => {
  const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

  it("stops before creating anything when a key is of another region than the stack's, as a config problem", async () => {
    const elsewhere = KEY.replace(REGION, "us-east-1");
    await evaluate({
      config: config({ kmsKeyArns: [KEY, elsewhere] }),
      routes: allKinds(),
      code: stubCode,
    }).then(
      () => expect.fail("no error"),
      (e: Error) => {
        expect(e.message).to.match(/^invalid hookgate stack configuration:\n/);
        expect(e.message).to.contain(`hookgate:kmsKeyArns entry "${elsewhere}" is a key of us-east-1`);
        expect(e.message).not.to.contain(`"${KEY}"`);
        expect(pulumi.RunError.isInstance(e), String(e)).to.equal(true);
      },
    );
  });
  const withKmsKeyId = (name: string, kmsKeyId: string): Route => {
    const route = s3ZipRoute(name);
    if (route.action.type === "s3-zip") {
      route.action.serverSideEncryption = "aws:kms";
      route.action.kmsKeyId = kmsKeyId;
    }
    return route;
  };

  it("stops before creating anything when an s3-zip route's kmsKeyId is a key of another region than the stack's, naming the route", async () => {
    const elsewhere = KEY.replace(REGION, "us-east-1");
    const routes = [...allKinds(), withKmsKeyId("own-key-zip", KEY), withKmsKeyId("far-key-zip", elsewhere)];
    const result = await evaluate({ config: config(), routes, code: stubCode }).then(
      () => undefined,
      (e: Error) => e,
    );
    if (!result) return expect.fail("the stack deployed with a route's kmsKeyId of us-east-1");
    expect(pulumi.RunError.isInstance(result), String(result)).to.equal(true);
    expect(result.message).to.contain(
      `route "far-key-zip": s3-zip kmsKeyId "${elsewhere}" is a key of us-east-1 (partition aws), but the stack deploys to ${REGION}`,
    );
    expect(result.message).not.to.contain("own-key-zip");
  });

  const ownZip = s3ZipRoute("own-zip", "acme-own-bucket");
  const kmsOf = (result: Evaluated, route: string) =>
    only(
      iamDocuments(result.cloud).filter((d) => routeOf(result.cloud, d.owner) === route),
    ).statements.filter((s) => JSON.stringify(s.Action).includes("kms:"));

  it("gives every role kms:Decrypt through Secrets Manager, and only an s3-zip role with its own bucket the S3 key use, on the configured keys alone", async () => {
    const routes = [...allKinds(), ownZip];
    const result = await evaluate({
      config: config({ kmsKeyArns: [KEY] }),
      routes,
      stack: "dev",
      code: stubCode,
    });
    expectSecure(result, routes);
    const decrypt = {
      Sid: "DecryptOwnSecrets",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: KEY,
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
    };
    for (const route of ["api-build", "source-zip", "pr-cleanup", "platform-gitlab"]) {
      expect(kmsOf(result, route), route).to.deep.equal([decrypt]);
    }
    expect(kmsOf(result, "own-zip")).to.deep.equal([
      decrypt,
      {
        Sid: "EncryptOwnUploads",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: KEY,
        Condition: { StringEquals: { "kms:ViaService": `s3.${REGION}.amazonaws.com` } },
      },
    ]);
    // Without the key, no role may use KMS at all.
    const plain = await evaluate({ config: config(), routes, stack: "dev", code: stubCode });
    for (const { statements } of iamDocuments(plain.cloud))
      expect(JSON.stringify(statements)).not.to.contain("kms:");
  });

  it("measures each role's policy with its KMS statements before deploying, and refuses one they push past IAM's 10,240 characters", async () => {
    const key = (i: number) => KEY.replace(/[0-9a-f]{12}$/, String(i).padStart(12, "0"));
    const fits = Array.from({ length: 40 }, (_, i) => key(i));
    const result = await evaluate({
      config: config({ kmsKeyArns: fits }),
      routes: [ownZip],
      stack: "dev",
      code: stubCode,
    });
    const prefix = stackPrefix("dev");
    const role = only(routeChildren(result.cloud, "own-zip", "aws:iam/role:Role"));
    const deployed = policyChars(JSON.parse(role.inputs.inlinePolicies[0].policy));
    const bound = routePolicyBound({
      route: ownZip,
      names: routeNames(prefix, "own-zip"),
      partition: "aws",
      region: REGION,
      dedupeTableName: stackNames(prefix, REGION).dedupeTable,
      kmsKeyArns: fits,
    });
    expect(policyChars(bound)).to.equal(deployed);
    expect(deployed).to.be.within(8_000, ROLE_INLINE_POLICY_MAX_CHARS);
    // The same route, about 1,500 characters without keys, with 60 keys: refused before anything exists.
    const tooMany = Array.from({ length: 60 }, (_, i) => key(i));
    await evaluate({ config: config({ kmsKeyArns: tooMany }), routes: [ownZip], code: stubCode }).then(
      () => expect.fail("no error"),
      (e: Error) => {
        expect(e.message).to.match(
          /route "own-zip": its role's policy is \d+ characters, more than the 10240 IAM allows/,
        );
        expect(pulumi.RunError.isInstance(e), String(e)).to.equal(true);
      },
    );
  });
});

describe("Gateway (under Pulumi mocks): the security groups' rules, exactly", () => {
  const groupNamed = (cloud: MockCloud, suffix: string) =>
    only(cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith(suffix)));

  it("the Lambdas' group takes no ingress and sends HTTPS and the Jenkins port to every IPv4 address by default", async () => {
    const { cloud } = await evaluate({ config: config(), routes: [jenkinsRoute()], code: stubCode });
    const sg = groupNamed(cloud, "-lambda");
    // A group's description is fixed at creation: a changed one replaces the group.
    expect(sg.inputs.description).to.equal(
      "hookgate route Lambdas: no ingress; egress HTTPS and Jenkins only",
    );
    expect(sg.inputs.ingress).to.deep.equal([]);
    expect(sg.inputs.egress).to.deep.equal([
      HTTPS_RULE,
      {
        description: "Jenkins controller",
        protocol: "tcp",
        fromPort: 8443,
        toPort: 8443,
        cidrBlocks: ["0.0.0.0/0"],
      },
    ]);
  });

  it("the Lambdas' group sends the Jenkins port to jenkins.cidrs alone, and a Git host API's own port to every address", async () => {
    const gitea = s3ZipRoute("gitea-zip");
    if (gitea.action.type === "s3-zip") {
      gitea.action.api = { ...gitea.action.api, apiUrl: "https://git.example.com:3000/api/v1" };
    }
    const { cloud } = await evaluate({
      config: config({ jenkins: { cidrs: ["10.20.0.0/16", "10.30.0.0/16"] } }),
      routes: [jenkinsRoute(), gitea],
      code: stubCode,
    });
    expect(groupNamed(cloud, "-lambda").inputs.egress).to.deep.equal([
      HTTPS_RULE,
      {
        description: "Jenkins controller",
        protocol: "tcp",
        fromPort: 8443,
        toPort: 8443,
        cidrBlocks: ["10.20.0.0/16", "10.30.0.0/16"],
      },
      {
        description: "Git host API",
        protocol: "tcp",
        fromPort: 3000,
        toPort: 3000,
        cidrBlocks: ["0.0.0.0/0"],
      },
    ]);
  });

  it("with jenkins.securityGroupId the Lambdas' group sends the Jenkins port, 443 included, to that group alone, which admits the Lambdas' group there and nothing else", async () => {
    const { cloud } = await evaluate({
      config: config({ jenkins: { securityGroupId: "sg-0123456789abcdef0", port: 443 } }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const sg = groupNamed(cloud, "-lambda");
    expect(sg.inputs.egress).to.deep.equal([
      HTTPS_RULE,
      {
        description: "Jenkins controller",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        securityGroups: ["sg-0123456789abcdef0"],
      },
    ]);
    const ingress = only(cloud.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"));
    expect(ingress.inputs).to.deep.equal({
      securityGroupId: "sg-0123456789abcdef0",
      referencedSecurityGroupId: `sg-${hexOf(sg)}`,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      description: "hookgate-test: route Lambdas to Jenkins",
      // The owner tags (ownerTags.test.ts): the stack's, and the mocks' RandomId.
      tags: { [OWNER_TAG]: "organization/hookgate/test", [INSTANCE_TAG]: "0123456789abcdef" },
    });
  });

  it("the interface endpoints' group admits HTTPS from the Lambdas' group alone and sends nothing", async () => {
    const { cloud } = await evaluate({
      config: config({ network: { natGateways: "none" } }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const endpoints = groupNamed(cloud, "-endpoints");
    expect(endpoints.inputs.description).to.equal(
      "hookgate interface endpoints: HTTPS from the route Lambdas only",
    );
    expect(endpoints.inputs.ingress).to.deep.equal([
      {
        description: "HTTPS from the route Lambdas",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        securityGroups: [`sg-${hexOf(groupNamed(cloud, "-lambda"))}`],
      },
    ]);
    expect(endpoints.inputs.egress).to.deep.equal([]);
  });

  it("the Lambdas' group holds a port that a Jenkins rule opens to every address once, though a Git host API uses it too (EC2 refuses a repeated rule)", async () => {
    const gitea = s3ZipRoute("gitea-zip");
    if (gitea.action.type === "s3-zip") {
      gitea.action.api = { ...gitea.action.api, apiUrl: "https://git.example.com:8443/api/v1" };
    }
    const { cloud } = await evaluate({ config: config(), routes: [jenkinsRoute(), gitea], code: stubCode });
    expect(groupNamed(cloud, "-lambda").inputs.egress).to.deep.equal([
      HTTPS_RULE,
      {
        description: "Jenkins controller",
        protocol: "tcp",
        fromPort: 8443,
        toPort: 8443,
        cidrBlocks: ["0.0.0.0/0"],
      },
    ]);
  });

  it("the Lambdas' group adds no Jenkins rule for a Jenkins on 443 without a security group: the HTTPS rule holds it", async () => {
    const route = jenkinsRoute();
    if (route.action.type === "jenkins") {
      route.action.jenkins = { ...route.action.jenkins, url: "https://jenkins.internal.example.com" };
    }
    const { cloud } = await evaluate({
      config: config({ jenkins: { cidrs: ["10.20.0.0/16"] } }),
      routes: [route],
      code: stubCode,
    });
    expect(groupNamed(cloud, "-lambda").inputs.egress).to.deep.equal([HTTPS_RULE]);
  });

  it("the Lambdas' group opens a proxy on the Jenkins port when Jenkins is reached through its security group (that rule does not cover the proxy)", async () => {
    const { cloud } = await evaluate({
      config: config({
        jenkins: { securityGroupId: "sg-0123456789abcdef0", port: 8080 },
        network: { httpsProxy: "http://proxy.corp.example:8080" },
      }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    expect(groupNamed(cloud, "-lambda").inputs.egress).to.deep.equal([
      HTTPS_RULE,
      {
        description: "Jenkins controller",
        protocol: "tcp",
        fromPort: 8080,
        toPort: 8080,
        securityGroups: ["sg-0123456789abcdef0"],
      },
      {
        description: "egress proxy",
        protocol: "tcp",
        fromPort: 8080,
        toPort: 8080,
        cidrBlocks: ["0.0.0.0/0"],
      },
    ]);
  });

  it("a created VPC has DNS support and host names on (private DNS on its interface endpoints needs both), private and public subnets beside a NAT, and interface endpoints with private DNS in the Lambdas' subnets", async () => {
    const { cloud } = await evaluate({
      config: config({ network: { interfaceEndpoints: ["logs"] } }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const vpc = only(cloud.ofType("awsx:ec2:Vpc"));
    expect(vpc.inputs).to.deep.include({
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetSpecs: [{ type: "Private" }, { type: "Public" }],
    });
    const endpoint = only(cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint"));
    expect(endpoint.inputs).to.deep.include({
      serviceName: `com.amazonaws.${REGION}.logs`,
      vpcEndpointType: "Interface",
      privateDnsEnabled: true,
      subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
      securityGroupIds: [`sg-${hexOf(groupNamed(cloud, "-endpoints"))}`],
    });
  });

  it("an existing VPC without route tables gets no gateway endpoint, and a stack without interface endpoints no endpoints' group", async () => {
    const { cloud } = await evaluate({
      config: config({
        network: {
          mode: "existing",
          vpcId: "vpc-0feedfeedfeedfeed",
          privateSubnetIds: ["subnet-0123456789abcdef1"],
        },
      }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    expect(cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")).to.deep.equal([]);
    expect(
      cloud.ofType("aws:ec2/securityGroup:SecurityGroup").map((r) => r.name.replace(/.*-/, "")),
    ).to.deep.equal(["lambda"]);
  });
});
