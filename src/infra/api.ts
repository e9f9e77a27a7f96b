// Api: the public REST API (regional). /hooks/<route> per route, proxied byte-exact to the route's
// function (which answers anything but POST with 405); a stage with throttling and JSON access logs;
// an optional source-IP allowlist; the answers API Gateway makes itself, in the contract's shape.
import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type GatewayAnswerBody, NOT_FOUND_BODY } from "../core/gatewayAnswers";
import { logLineAlarm } from "./logLineAlarm";
import { apiAllowlistPolicy, assumeRolePolicy, managedPolicyArn } from "./policies";

export interface ApiRouteTarget {
  name: string;
  /** The function's physical name, known up front: part of the deployment hash. */
  physicalName: string;
  functionName: pulumi.Input<string>;
  invokeArn: pulumi.Input<string>;
}

export interface ApiArgs {
  apiName: string;
  stageName: string;
  throttlingRateLimit: number;
  throttlingBurstLimit: number;
  ipAllowlist: string[];
  logRetentionDays: number;
  accessLogGroupName: string;
  /** Manage the region's API Gateway account settings (its CloudWatch role). */
  manageAccount: boolean;
  accountRolePrefix: string;
  partition: string;
  routes: ApiRouteTarget[];
  alarmTopicArn: pulumi.Input<string>;
  errorsAlarmName: string;
  /** The alarm on API Gateway's 413s, and the name of the metric its access-log filter publishes. */
  tooLargeOrThrottledAlarmName: string;
}

/** Every body reaches the Lambda base64-encoded, exactly as sent: signatures are over the raw bytes. */
export const BINARY_MEDIA_TYPES = ["*/*"];

/** Access log fields. Never headers: they carry signatures and tokens. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationLatency: "$context.integrationLatency",
  // Why a delivery never reached its function (a body too large for Lambda's 6 MB, say).
  integrationError: "$context.integrationErrorMessage",
  // The answer API Gateway made itself (REQUEST_TOO_LARGE, THROTTLED, ...) and its message: integrationError
  // is blank when no function was called.
  errorType: "$context.error.responseType",
  errorMessage: "$context.error.message",
});

/**
 * The access log's lines of requests API Gateway answered itself that api-5xx cannot see, as a CloudWatch Logs
 * JSON filter pattern: a 413 (a 4xx), and a throttled request, whose 503 is a gateway response with a changed
 * status, which API Gateway counts as a 4XXError ("API Gateway counts modified gateway response status codes as
 * 4XXError errors": API Gateway's metrics reference). The format quotes every value, so the status is a string:
 * a numeric `$.status = 413` would match no line.
 */
export const TOO_LARGE_OR_THROTTLED_PATTERN = '{ ($.status = "413") || ($.errorType = "THROTTLED") }';

export const API_GATEWAY_LOGS_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs";

/**
 * What a deployment snapshots: the routes, the functions they proxy to, the resource policy. When this hash
 * changes, the API is redeployed (a stage keeps serving its old snapshot otherwise).
 */
export function deploymentHash(
  routes: readonly { name: string; physicalName: string }[],
  policy: string,
  responses: readonly GatewayAnswer[] = GATEWAY_ANSWERS,
): string {
  const targets = routes.map((r) => `${r.name}=${r.physicalName}`).sort();
  // The gateway responses are part of the snapshot too: a changed body or status is redeployed.
  const answers = responses.map((r) => [
    r.responseType,
    r.statusCode ?? null,
    answerTemplate(r),
    ...(r.headers === undefined ? [] : [responseParameters(r)]),
  ]);
  const state = { routes: targets, method: ROUTE_METHOD, policy, binary: BINARY_MEDIA_TYPES, answers };
  return createHash("sha256").update(JSON.stringify(state)).digest("hex");
}

/**
 * Every method reaches the route's function, so that a method other than POST gets the contract's 405 from
 * the function, as from `hookgate serve`, rather than API Gateway's "no such resource".
 */
export const ROUTE_METHOD = "ANY";

/**
 * An answer API Gateway makes itself, never reaching a route's function, in the contract's shape. Its route and
 * delivery are null: a gateway response template is not VTL (no $util to escape with), and a delivery id read
 * from a header could hold a quote, so the body interpolates nothing and is valid JSON whatever was sent.
 */
export interface GatewayAnswer {
  /** The logical name's suffix: `<api>-<name>`. */
  name: string;
  /** API Gateway's gateway response type. */
  responseType: string;
  /**
   * The status to answer; undefined keeps API Gateway's own. Never set for DEFAULT_4XX or DEFAULT_5XX: their
   * status code replaces that of every other 4xx or 5xx type.
   */
  statusCode?: string;
  /** Static headers to add (the gateway response's `gatewayresponse.header.<name>` parameters). */
  headers?: Record<string, string>;
  body: GatewayAnswerBody;
}

const redeliver = "it may not be queued: redeliver it (one already queued is answered duplicate)";

/**
 * Every answer API Gateway makes itself (DESIGN.md, "The HTTP contract"): 4xx are rejected; 5xx tell the Git
 * host the delivery failed, so it can be redelivered. The specific types keep the status API Gateway gives
 * them, but for an unknown path (404) and throttling (503); DEFAULT_4XX and DEFAULT_5XX cover the types not
 * listed (and keep each one's status).
 */
export const GATEWAY_ANSWERS: readonly GatewayAnswer[] = [
  // Unknown paths: API Gateway's default is 403 "Missing Authentication Token"; say 404.
  {
    name: "not-found",
    responseType: "MISSING_AUTHENTICATION_TOKEN",
    statusCode: "404",
    body: NOT_FOUND_BODY,
  },
  {
    // What the resource policy's deny (api.ipAllowlist) produces: AccessDeniedException, "User: anonymous is
    // not authorized to perform: execute-api:Invoke".
    name: "access-denied",
    responseType: "ACCESS_DENIED",
    statusCode: "403",
    body: {
      status: "rejected",
      route: null,
      delivery: null,
      reason: "the source IP is not in api.ipAllowlist; add the Git host's ranges to it, then redeliver",
    },
  },
  {
    name: "too-large",
    responseType: "REQUEST_TOO_LARGE",
    statusCode: "413",
    body: {
      status: "rejected",
      route: null,
      delivery: null,
      // API Gateway's 10 MB, or (should API Gateway serve this answer for it) the function's ~4.4 MB.
      reason:
        "body too large: a route's function takes about 4.4 MB (Lambda's 6 MB, base64-encoded), API Gateway " +
        "10 MB; not queued",
    },
  },
  {
    // Stage, method or account throttling. No usage plan exists, so QUOTA_EXCEEDED cannot happen. API Gateway's
    // own 429 is a 4xx, which the contract keeps for deliveries that would fail the same again: Bitbucket Cloud
    // resends only a 5xx (GitHub redelivers no failure by itself). The delivery is not ours yet (RELIABILITY.md): 503, with
    // the Retry-After the function's own 503 carries.
    name: "throttled",
    responseType: "THROTTLED",
    statusCode: "503",
    headers: { "Retry-After": "30" },
    body: {
      status: "error",
      route: null,
      delivery: null,
      reason:
        "throttled by API Gateway (api.throttlingRateLimit and api.throttlingBurstLimit, or the account's " +
        "limit); not queued: redeliver it",
    },
  },
  {
    // No status: API Gateway's own says what failed (500 when Lambda refused the call, a throttle say; 502 when
    // the function erred or answered in the wrong shape). A 504 would read as a timeout.
    name: "integration-failure",
    responseType: "INTEGRATION_FAILURE",
    body: {
      status: "error",
      route: null,
      delivery: null,
      reason: `API Gateway could not call the route's function, or it failed (the access log's integrationError says which); ${redeliver}`,
    },
  },
  {
    // No status either: 504 is API Gateway's own, and a status set on a gateway response, even its own, may be
    // counted as a 4XXError ("modified gateway response status codes"), which api-5xx would not see.
    name: "integration-timeout",
    responseType: "INTEGRATION_TIMEOUT",
    body: {
      status: "error",
      route: null,
      delivery: null,
      reason: `the route's function did not answer in time; ${redeliver}`,
    },
  },
  {
    name: "default-5xx",
    responseType: "DEFAULT_5XX",
    body: {
      status: "error",
      route: null,
      delivery: null,
      reason: `API Gateway got no answer from the route's function (the access log's integrationError says why); ${redeliver}`,
    },
  },
  {
    name: "default-4xx",
    responseType: "DEFAULT_4XX",
    body: {
      status: "rejected",
      route: null,
      delivery: null,
      reason: "refused by API Gateway before any route saw it; the API's access log has the request",
    },
  },
];

/** An answer's headers as gateway response parameters: static values, so each is quoted. */
export function responseParameters(answer: GatewayAnswer): Record<string, string> {
  return Object.fromEntries(
    Object.entries(answer.headers ?? {}).map(([name, value]) => [
      `gatewayresponse.header.${name}`,
      `'${value}'`,
    ]),
  );
}

/** The response template of an answer: its body, static JSON. */
export function answerTemplate(answer: GatewayAnswer): string {
  return JSON.stringify(answer.body);
}

export function hookPath(route: string): string {
  return `/hooks/${route}`;
}

export class Api extends pulumi.ComponentResource {
  public readonly restApiId: pulumi.Output<string>;
  public readonly executionArn: pulumi.Output<string>;
  public readonly invokeUrl: pulumi.Output<string>;
  public readonly stageName: string;
  /** Route name → the webhook URL. */
  public readonly urls: Record<string, pulumi.Output<string>> = {};
  public readonly accessLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: ApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Api", name, {}, opts);
    this.stageName = args.stageName;

    const api = new aws.apigateway.RestApi(
      `${name}-api`,
      {
        name: args.apiName,
        description: "hookgate: Git webhooks to private infrastructure",
        endpointConfiguration: { types: "REGIONAL" },
        binaryMediaTypes: BINARY_MEDIA_TYPES,
      },
      { parent: this },
    );
    this.restApiId = api.id;
    this.executionArn = api.executionArn;

    const policy = api.executionArn.apply((arn) => JSON.stringify(apiAllowlistPolicy(args.ipAllowlist, arn)));
    // Hashed with AWS's shorthand for this API's ARN: the text is what the policy read before the ARN was
    // spelled out (no stack deployed then is redeployed for it), and it follows the policy's every change.
    const policyText = JSON.stringify(apiAllowlistPolicy(args.ipAllowlist, "execute-api:"));
    const deploymentDeps: pulumi.Resource[] = [
      new aws.apigateway.RestApiPolicy(`${name}-allowlist`, { restApiId: api.id, policy }, { parent: this }),
    ];

    // API Gateway's own answers, in the contract's shape. A deployment snapshots them: it waits for each.
    for (const answer of GATEWAY_ANSWERS) {
      deploymentDeps.push(
        new aws.apigateway.Response(
          `${name}-${answer.name}`,
          {
            restApiId: api.id,
            responseType: answer.responseType,
            ...(answer.statusCode === undefined ? {} : { statusCode: answer.statusCode }),
            ...(answer.headers === undefined ? {} : { responseParameters: responseParameters(answer) }),
            responseTemplates: { "application/json": answerTemplate(answer) },
          },
          { parent: this },
        ),
      );
    }

    const hooks = new aws.apigateway.Resource(
      `${name}-hooks`,
      { restApi: api.id, parentId: api.rootResourceId, pathPart: "hooks" },
      { parent: this },
    );

    for (const target of args.routes) {
      const resource = new aws.apigateway.Resource(
        `${name}-${target.name}`,
        { restApi: api.id, parentId: hooks.id, pathPart: target.name },
        { parent: this },
      );
      const method = new aws.apigateway.Method(
        `${name}-${target.name}-any`,
        { restApi: api.id, resourceId: resource.id, httpMethod: ROUTE_METHOD, authorization: "NONE" },
        { parent: this },
      );
      const integration = new aws.apigateway.Integration(
        `${name}-${target.name}-lambda`,
        {
          restApi: api.id,
          resourceId: resource.id,
          httpMethod: method.httpMethod,
          type: "AWS_PROXY",
          integrationHttpMethod: "POST",
          uri: target.invokeArn,
        },
        { parent: this },
      );
      // Only this API, this stage and this path may invoke the route's function. The
      // deployment (so the stage, and the URL a managed webhook is given) waits for it.
      const permission = new aws.lambda.Permission(
        `${name}-${target.name}-invoke`,
        {
          action: "lambda:InvokeFunction",
          function: target.functionName,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${api.executionArn}/${args.stageName}/*${hookPath(target.name)}`,
        },
        { parent: this },
      );
      deploymentDeps.push(method, integration, permission);
    }

    const deployment = new aws.apigateway.Deployment(
      `${name}-deployment`,
      {
        restApi: api.id,
        description: "hookgate routes",
        triggers: {
          redeployment: deploymentHash(args.routes, policyText),
        },
      },
      // A changed hash replaces the deployment: the new one is created, the stage moves, the old one goes.
      { parent: this, dependsOn: deploymentDeps },
    );

    const accessLogs = new aws.cloudwatch.LogGroup(
      `${name}-access-logs`,
      { name: args.accessLogGroupName, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    this.accessLogGroupName = accessLogs.name;

    const stageDeps: pulumi.Resource[] = [];
    if (args.manageAccount) {
      // The setting is region-wide: every REST API of the account and region writes its access logs through
      // this role. Turning manageAccount off, or destroying the stack, must leave both in place: deleted, the
      // role the setting points at is gone (and the provider may reset the setting), so the other stacks'
      // access logs stop and their next stage update fails ("CloudWatch Logs role ARN must be set").
      const retain = { parent: this, retainOnDelete: true };
      const role = new aws.iam.Role(
        `${name}-cloudwatch-role`,
        {
          namePrefix: args.accountRolePrefix,
          description: "API Gateway: write access logs to CloudWatch Logs",
          assumeRolePolicy: assumeRolePolicy("apigateway.amazonaws.com"),
          managedPolicyArns: [managedPolicyArn(args.partition, API_GATEWAY_LOGS_POLICY)],
        },
        retain,
      );
      stageDeps.push(new aws.apigateway.Account(`${name}-account`, { cloudwatchRoleArn: role.arn }, retain));
    }

    const stage = new aws.apigateway.Stage(
      `${name}-stage`,
      {
        restApi: api.id,
        deployment: deployment.id,
        stageName: args.stageName,
        accessLogSettings: { destinationArn: accessLogs.arn, format: ACCESS_LOG_FORMAT },
      },
      { parent: this, dependsOn: stageDeps },
    );
    // "*/*" gives every method these limits as its own, not one bucket for the stage: API Gateway applies a
    // stage's throttling at the method level, so each route takes api.throttlingRateLimit, N routes N times it.
    new aws.apigateway.MethodSettings(
      `${name}-throttling`,
      {
        restApi: api.id,
        stageName: stage.stageName,
        methodPath: "*/*",
        settings: {
          throttlingRateLimit: args.throttlingRateLimit,
          throttlingBurstLimit: args.throttlingBurstLimit,
          metricsEnabled: true,
          loggingLevel: "OFF",
          dataTraceEnabled: false,
        },
      },
      { parent: this },
    );
    // A 5xx is a delivery the Git host was not given: GitHub does not redeliver on its own. That includes
    // deliveries that never reached a function (API Gateway's own errors), which no route alarm sees. A
    // stranger's unsigned body over ~4.4 MB may be one of those too, or a 413 (README: api.ipAllowlist keeps
    // them out).
    new aws.cloudwatch.MetricAlarm(
      `${name}-5xx`,
      {
        name: args.errorsAlarmName,
        alarmDescription:
          `hookgate API ${args.apiName}: deliveries were answered 5xx, so the Git host holds them as failed. ` +
          `Find them in the access log group ${args.accessLogGroupName} (status, integrationError) and redeliver them. ` +
          "OK means only that 5 minutes passed without one, not that they were redelivered.",
        namespace: "AWS/ApiGateway",
        metricName: "5XXError",
        dimensions: { ApiName: args.apiName, Stage: args.stageName },
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [args.alarmTopicArn],
        okActions: [args.alarmTopicArn],
      },
      { parent: this, dependsOn: [stage] },
    );
    // A body the route's function cannot take (over about 4.4 MB: Lambda's 6 MB, base64) may be answered 413
    // "Request Too Long" by API Gateway itself, not 5xx: a 4xx that Git hosts do not redeliver and api-5xx does
    // not see; nor does it see a throttled request's 503 (a changed status counts as a 4XXError). Only the
    // access log has them.
    logLineAlarm(
      `${name}-413-throttled`,
      {
        name: args.tooLargeOrThrottledAlarmName,
        logGroupName: accessLogs.name,
        pattern: TOO_LARGE_OR_THROTTLED_PATTERN,
        description:
          `hookgate API ${args.apiName}: API Gateway answered requests itself, before any function ran: 413 (too ` +
          "large: a delivery over about 4.4 MB, or 10 MB, is lost, as Git hosts do not redeliver a 4xx, and " +
          "redelivering fails the same, so run what it would have run by hand) or 503 throttled (raise " +
          "api.throttlingRateLimit / api.throttlingBurstLimit, then redeliver). Find them in the access log group " +
          `${args.accessLogGroupName} (status, errorType, errorMessage). OK means only that 5 minutes passed ` +
          "without one, not that they were redelivered.",
        alarmTopicArn: args.alarmTopicArn,
      },
      this,
    );
    this.invokeUrl = stage.invokeUrl;
    for (const target of args.routes) {
      this.urls[target.name] = pulumi.interpolate`${stage.invokeUrl}${hookPath(target.name)}`;
    }
    this.registerOutputs({ restApiId: this.restApiId, invokeUrl: this.invokeUrl });
  }
}
