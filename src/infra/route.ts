// One route: its role, log group, function, FIFO queue and dead-letter queue, event source and alarms.
// The API side (resource, method, integration, invoke permission) lives in Api, which needs the function.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ATTEMPT_MSG,
  DEAD_LETTERED_FIELD,
  DEAD_OUTCOME,
  DELIVERY_MSG,
  FROM_HOST_FIELD,
} from "../core/logLines";
import { dnsSuffix } from "../core/partitions";
import {
  DLQ_RETENTION_SECONDS,
  MAX_ATTEMPTS,
  MAX_RECEIVE_COUNT,
  SQS_MAX_MESSAGE_BYTES,
} from "../core/policy";
import { shownSecretName } from "../core/routes/checks";
import { SECRET_MISSING_MSG, SECRET_UNUSABLE_MSG } from "../core/secretValues";
import type { Route as RouteSpec } from "../core/types";
import {
  GITLAB_SIGNING_KEY_MISSING,
  GITLAB_TOKEN_REFUSED,
  otherAlgorithmReasons,
  SIGNATURE_INVALID,
  SIGNATURE_TIMESTAMP_IN_FUTURE,
  SIGNATURE_TIMESTAMP_TOO_OLD,
  signatureMissingReason,
} from "../core/verify";
import type { EgressProxyConfig, LambdaConfig } from "./config";
import { logLineAlarm } from "./logLineAlarm";
import type { RouteNames } from "./naming";
import { ownedQueuePolicy } from "./ownerTags";
import { assumeRolePolicy, routePolicy } from "./policies";
import { MIN_BUCKET_NAME } from "./policySize";

export { type RoutePolicyBoundInput, rolePolicyProblem, routePolicyBound } from "./policySize";

export const LAMBDA_RUNTIME = "nodejs24.x";
/**
 * Lambda's quota on a function's environment, 4 KB, is on its Variables map serialised as JSON (its error
 * says "...exceeded the 4KB limit. String measured: {...}"), so every " in the compiled route counts twice.
 */
export const MAX_ENV_BYTES = 4096;
/** SQS: visibility must cover a retry of the whole batch; AWS recommends 6x the function timeout. */
export const VISIBILITY_FACTOR = 6;
/**
 * The work queue keeps a message as long as SQS allows, the DLQ's 14 days: SQS deletes a message older than its
 * queue's retention, neither done nor dead-lettered, and one repository's deliveries wait in line (a FIFO group)
 * behind each other's retries, over an hour each for deliveries failing with 15-minute Retry-Afters. The dedupe table remembers
 * a delivery 29 days after its last change (DEDUPE_TTL_SECONDS), a day longer than a dead letter lives in the DLQ
 * and then, redriven, in the route's queue.
 */
export const QUEUE_RETENTION_SECONDS = DLQ_RETENTION_SECONDS;
/**
 * One record per invocation. SQS counts a receive for every record of a batch, also for those held back
 * behind a failed record of their group, which would spend their attempts (and could send them to the
 * DLQ untried); alone, a record's receives are its attempts, and its action has the whole timeout.
 */
export const BATCH_SIZE = 1;

/** The environment keys of the route Lambdas (the contract with handlers/). Names and URLs only. */
export const ROUTE_ENV_KEYS = [
  "HOOKGATE_ROUTE",
  "HOOKGATE_QUEUE_URL",
  "HOOKGATE_DLQ_URL",
  "HOOKGATE_DEDUPE_TABLE",
  "HOOKGATE_MAX_ATTEMPTS",
  // Only with hookgate:secretNamePrefix: the commit statuses judge a secret name without it, as check does.
  "HOOKGATE_SECRET_NAME_PREFIX",
  // Only with network.httpsProxy: the actions' egress proxy (the AWS SDK clients do not use it).
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "NO_PROXY",
] as const;

export interface RouteArgs {
  route: RouteSpec;
  names: RouteNames;
  code: pulumi.asset.Archive;
  lambda: LambdaConfig;
  logRetentionDays: number;
  subnetIds: pulumi.Input<string[]>;
  securityGroupId: pulumi.Input<string>;
  /** Known up front (the table's physical name), so the environment's size is checked before deploying. */
  dedupeTableName: string;
  dedupeTableArn: pulumi.Input<string>;
  /** The stack's artifact bucket, for an s3-zip route that names none. */
  artifactBucket?: pulumi.Input<string>;
  partition: string;
  region: string;
  accountId: pulumi.Input<string>;
  alarmTopicArn: pulumi.Input<string>;
  oldestMessageAlarmSeconds: number;
  /** network.httpsProxy and network.noProxy. */
  egressProxy?: EgressProxyConfig;
  /** hookgate:kmsKeyArns. */
  kmsKeyArns?: readonly string[];
  /** hookgate:secretNamePrefix, already in the route's secret names: a name is judged without it. */
  secretNamePrefix: string;
  /** The owning stack (ownerTags.ts), which the queues' policy names. */
  owner: { identity: string; instance: pulumi.Input<string> };
}

/** The compiled route as the function receives it: the stack's bucket filled in where the route named none. */
export function deployedRoute(route: RouteSpec, artifactBucket?: string): RouteSpec {
  if (route.action.type !== "s3-zip" || route.action.bucket) return route;
  if (!artifactBucket) throw new Error(`route "${route.name}": no bucket for s3-zip`);
  return { ...route, action: { ...route.action, bucket: artifactBucket } };
}

export interface RouteEnvironmentValues {
  route: RouteSpec;
  queueUrl: string;
  deadLetterQueueUrl: string;
  dedupeTable: string;
  egressProxy?: EgressProxyConfig;
  /** hookgate:secretNamePrefix, already in the route's secret names. */
  secretNamePrefix?: string;
}

/** The route function's environment (ROUTE_ENV_KEYS), refused when Lambda would refuse it. */
export function routeEnvironment(values: RouteEnvironmentValues): Record<string, string> {
  const variables = {
    HOOKGATE_ROUTE: JSON.stringify(values.route),
    HOOKGATE_QUEUE_URL: values.queueUrl,
    HOOKGATE_DLQ_URL: values.deadLetterQueueUrl,
    HOOKGATE_DEDUPE_TABLE: values.dedupeTable,
    HOOKGATE_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    ...(values.secretNamePrefix ? { HOOKGATE_SECRET_NAME_PREFIX: values.secretNamePrefix } : {}),
    ...(values.egressProxy
      ? {
          HTTPS_PROXY: values.egressProxy.url,
          HTTP_PROXY: values.egressProxy.url,
          ...(values.egressProxy.noProxy.length > 0
            ? { NO_PROXY: values.egressProxy.noProxy.join(",") }
            : {}),
        }
      : {}),
  };
  const bytes = Buffer.byteLength(JSON.stringify(variables));
  if (bytes > MAX_ENV_BYTES) {
    throw new pulumi.RunError(
      `route "${values.route.name}": its Lambda environment is ${bytes} bytes as Lambda measures it (the ` +
        `variables as JSON, where each " of the compiled route counts twice), more than the ${MAX_ENV_BYTES} ` +
        "it allows; shorten the route's templates, parameters or filters, or split it into two routes" +
        // The prefix counts in each secret name and in its own variable: shortening it is the other fix.
        (values.secretNamePrefix
          ? ", or shorten hookgate:secretNamePrefix (in each secret name and in HOOKGATE_SECRET_NAME_PREFIX)"
          : ""),
    );
  }
  return variables;
}

/**
 * What preview says of a route whose environment, measured with the longest values it can have, passes
 * Lambda's limit; undefined when it fits. The real values decide at deploy (routeEnvironment).
 */
export function environmentWarning(bound: RouteEnvironmentValues): string | undefined {
  try {
    routeEnvironment(bound);
    return undefined;
  } catch (error) {
    return `${(error as Error).message} (measured with the longest queue URLs and bucket name the stack may get; measured again with the real ones, which decide)`;
  }
}

/** The shortest a queue's URL can be in its region: https://sqs.<region>.<domain>/<12-digit account>/<name>. */
export function queueUrlShortest(region: string, queueName: string): string {
  return `https://sqs.${region}.${dnsSuffix(region)}/${"0".repeat(12)}/${queueName}`;
}

/** S3's longest bucket name: the stack's bucket (its prefix + 26 characters) is at most this. */
const MAX_BUCKET_NAME = 63;
/**
 * Room for a queue URL's domain: every partition's DNS suffix (core/partitions) is shorter. Queue
 * URLs come as https://sqs.<region>.<domain>/<12-digit account>/<name> or the older
 * https://<region>.queue.<domain>/…; the bound takes the longer form.
 */
const QUEUE_URL_DOMAIN_ROOM = 24;

/** The longest a queue's URL can be, known before the queue exists. */
export function queueUrlBound(region: string, queueName: string): string {
  return `https://${region}.queue.${"d".repeat(QUEUE_URL_DOMAIN_ROOM)}/${"0".repeat(12)}/${queueName}`;
}

/** What a route's environment is measured with before its queues and the stack's bucket exist. */
export interface EnvironmentBoundInput {
  route: RouteSpec;
  names: RouteNames;
  region: string;
  dedupeTableName: string;
  /** The stack bucket's name length; used only by an s3-zip route that names no bucket (deployedRoute). */
  artifactBucketNameLength?: number;
  egressProxy?: EgressProxyConfig;
  /** hookgate:secretNamePrefix (known before deploying: measured as it is). */
  secretNamePrefix?: string;
}

/**
 * The route's environment values at their shortest (shortest queue URLs, the stack bucket's known name length):
 * a route refused with these is refused whatever AWS names its queues.
 */
export function environmentShortest(i: EnvironmentBoundInput): RouteEnvironmentValues {
  return {
    route: deployedRoute(i.route, "b".repeat(i.artifactBucketNameLength ?? MIN_BUCKET_NAME)),
    queueUrl: queueUrlShortest(i.region, i.names.queue),
    deadLetterQueueUrl: queueUrlShortest(i.region, i.names.deadLetterQueue),
    dedupeTable: i.dedupeTableName,
    egressProxy: i.egressProxy,
    secretNamePrefix: i.secretNamePrefix,
  };
}

/** The route's environment values at their longest: what environmentWarning measures. */
export function environmentLongest(i: EnvironmentBoundInput): RouteEnvironmentValues {
  return {
    route: deployedRoute(i.route, "b".repeat(MAX_BUCKET_NAME)),
    queueUrl: queueUrlBound(i.region, i.names.queue),
    deadLetterQueueUrl: queueUrlBound(i.region, i.names.deadLetterQueue),
    dedupeTable: i.dedupeTableName,
    egressProxy: i.egressProxy,
    secretNamePrefix: i.secretNamePrefix,
  };
}

/** Why Lambda would refuse the route's environment whatever its queue URLs turn out to be, or undefined. */
export function environmentProblem(i: EnvironmentBoundInput): string | undefined {
  try {
    routeEnvironment(environmentShortest(i));
    return undefined;
  } catch (error) {
    if (!pulumi.RunError.isInstance(error)) throw error;
    return error.message;
  }
}

/**
 * The function's JSON lines saying its webhook secret is missing or blank (written at level error with these
 * exact `msg`s), as a CloudWatch Logs JSON filter pattern.
 */
export const SECRET_UNUSABLE_PATTERN =
  `{ ($.level = "error") && (($.msg = ${JSON.stringify(SECRET_MISSING_MSG)}) || ` +
  `($.msg = ${JSON.stringify(SECRET_UNUSABLE_MSG)})) }`;

/** CloudWatch Logs' longest filter pattern (PutMetricFilter's filterPattern): a longer one fails `pulumi up`. */
export const FILTER_PATTERN_MAX_CHARS = 1024;

/**
 * The delivery lines of a request refused 401 because the Git host's signature (or GitLab token) does not check
 * against the route's secret: what every delivery writes when the secret was changed on one side only. That is
 * "signature invalid" (matching none of the secret's values), or the route's "signature missing" on a line with
 * FROM_HOST_FIELD: a request with the host's own delivery headers and no signature, from a webhook whose secret
 * was cleared on the host (or never set). A scan of the URL sends no signature either, but none of those headers:
 * it is not counted. On a gitlab route also a secret changed in kind on one side only (a whsec_ signing token on
 * one side, the plain token on the other), which refuses every delivery with one of the two "signature missing
 * (...)" reasons; a scan sends neither GitLab header, so it gets neither reason. And a GitLab server whose clock
 * is off by more than auth.toleranceSeconds ("signature timestamp too old" or "in the future"; GitLab sends none
 * again), or a Bitbucket hook signing under another algorithm than sha256 (each of the few names verify gives,
 * matched exactly: no regex, which CloudWatch limits to 2 a pattern and 5 a log group, and whose characters
 * exclude the reasons' spaces). Both refuse every delivery too. `status` is a number in the function's lines.
 */
export function badSignaturePattern(provider: RouteSpec["provider"]): string {
  const reason = (text: string) => `($.reason = ${JSON.stringify(text)})`;
  const refusals = [
    reason(SIGNATURE_INVALID),
    ...(provider === "gitlab"
      ? [
          GITLAB_TOKEN_REFUSED,
          GITLAB_SIGNING_KEY_MISSING,
          SIGNATURE_TIMESTAMP_TOO_OLD,
          SIGNATURE_TIMESTAMP_IN_FUTURE,
        ].map(reason)
      : []),
    ...otherAlgorithmReasons(provider).map(reason),
    `(${reason(signatureMissingReason(provider))} && ($.${FROM_HOST_FIELD} IS TRUE))`,
  ];
  return `{ ($.msg = ${JSON.stringify(DELIVERY_MSG)}) && ($.status = 401) && (${refusals.join(" || ")}) }`;
}
/**
 * The attempt lines of a delivery the function itself sent to the dead-letter queue (its last attempt, or a final
 * failure), or put back (unrun, or failed) on the queue's last receive, which the redrive policy then moves (the line's
 * DEAD_LETTERED_FIELD is true: a JSON boolean, matched with IS TRUE). SQS's redrive policy, the backstop for a
 * function that keeps dying, moves a message without one.
 */
export const DEAD_LETTERED_PATTERN =
  `{ ($.msg = ${JSON.stringify(ATTEMPT_MSG)}) && (($.outcome = ${JSON.stringify(DEAD_OUTCOME)}) || ` +
  `($.${DEAD_LETTERED_FIELD} IS TRUE)) }`;

/** The reasons badSignaturePattern counts on a route of `provider` besides "signature invalid", for its description. */
function badSignatureOtherReasons(provider: RouteSpec["provider"]): string {
  if (provider === "gitlab") return `, "signature missing (...)", "signature timestamp ..."`;
  if (otherAlgorithmReasons(provider).length > 0) return `, "signature algorithm ... is not accepted"`;
  return "";
}

/**
 * Refusals in BAD_SIGNATURE_WINDOW_SECONDS that set off the bad-signature alarm. One: most routes get fewer than
 * a few deliveries a period, and a higher threshold would never fire for them (or go OK while all are refused).
 */
export const BAD_SIGNATURE_THRESHOLD = 1;
export const BAD_SIGNATURE_WINDOW_SECONDS = 900;

/** CloudWatch's longest alarm description (PutMetricAlarm's AlarmDescription): a longer one fails `pulumi up`. */
export const ALARM_DESCRIPTION_MAX_CHARS = 1024;

/**
 * `describe` given the secret's name as shownSecretName shows it (`prefix`: the stack's secretNamePrefix, in front
 * of `secret`). routes.yaml takes names of up to 512 characters, too long for some descriptions: such a name is cut
 * in the middle, marked "...", as far as the description must be to fit, keeping its start and end (its prefix and
 * what tells it from its neighbours). A description still too long (a hidden name is never cut; the route and log
 * group names are long) loses its last sentences, or its end: CloudWatch refuses a longer one (and `pulumi up`).
 */
export function describingSecret(secret: string, describe: (shown: string) => string, prefix = ""): string {
  const shown = shownSecretName(secret, true, prefix);
  const excess = describe(shown).length - ALARM_DESCRIPTION_MAX_CHARS;
  if (excess <= 0 || shown !== `"${secret}"`) return withinAlarmDescription(describe(shown));
  const keep = Math.max(secret.length - excess - "...".length, 2);
  const head = secret.slice(0, Math.ceil(keep / 2));
  const tail = secret.slice(secret.length - Math.floor(keep / 2));
  return withinAlarmDescription(describe(`"${head}...${tail}"`));
}

/**
 * `text` within ALARM_DESCRIPTION_MAX_CHARS: as it is, or without its last sentences (the descriptions end with
 * what the alarm's OK means, the least needed when it fires), or cut and marked "..." when no sentence ends early
 * enough.
 */
export function withinAlarmDescription(text: string): string {
  if (text.length <= ALARM_DESCRIPTION_MAX_CHARS) return text;
  const end = text.lastIndexOf(". ", ALARM_DESCRIPTION_MAX_CHARS - 1);
  if (end >= ALARM_DESCRIPTION_MAX_CHARS / 2) return text.slice(0, end + 1);
  return `${text.slice(0, ALARM_DESCRIPTION_MAX_CHARS - "...".length)}...`;
}

export class Route extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly functionArn: pulumi.Output<string>;
  public readonly invokeArn: pulumi.Output<string>;
  public readonly queueUrl: pulumi.Output<string>;
  public readonly queueName: pulumi.Output<string>;
  public readonly deadLetterQueueUrl: pulumi.Output<string>;
  public readonly deadLetterQueueName: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: RouteArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Route", name, {}, opts);
    const { route, names, lambda } = args;
    const visibility = VISIBILITY_FACTOR * lambda.timeoutSeconds;
    // Known before the queue exists: CreateQueue is sent the policy.
    const ownedPolicy = (queueName: string) =>
      pulumi
        .all([args.accountId, args.owner.instance])
        .apply(([accountId, instance]) =>
          ownedQueuePolicy(
            `arn:${args.partition}:sqs:${args.region}:${accountId}:${queueName}`,
            args.owner.identity,
            instance,
          ),
        );

    const deadLetters = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: names.deadLetterQueue,
        fifoQueue: true,
        contentBasedDeduplication: false,
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: DLQ_RETENTION_SECONDS,
        visibilityTimeoutSeconds: visibility,
        // SQS's largest, as the queue's: a dead letter is its work item plus the reason attributes.
        maxMessageSize: SQS_MAX_MESSAGE_BYTES,
        // A second stack of the same name fails to create this queue rather than take it (ownedQueuePolicy).
        policy: ownedPolicy(names.deadLetterQueue),
      },
      { parent: this },
    );
    const queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: names.queue,
        fifoQueue: true,
        contentBasedDeduplication: false,
        sqsManagedSseEnabled: true,
        // The DLQ's 14 days (QUEUE_RETENTION_SECONDS says why). It costs the dead letters nothing: on a FIFO
        // queue SQS resets a message's enqueue time when the redrive policy moves it to the DLQ (standard queues
        // keep it), and the function's own dead letters are new messages there: either way a dead letter gets
        // the DLQ's full 14 days.
        messageRetentionSeconds: QUEUE_RETENTION_SECONDS,
        visibilityTimeoutSeconds: visibility,
        // SQS's largest: the receive path allows a work item 8 KiB less (core/policy MAX_WORK_ITEM_BYTES), as a
        // dead letter redriven back from the DLQ carries its reason attributes too, and SQS counts them.
        maxMessageSize: SQS_MAX_MESSAGE_BYTES,
        redrivePolicy: deadLetters.arn.apply((arn) =>
          // REDRIVE_MARGIN receives above the function's attempts: its own last attempt comes first, and dead-letters
          // with the reason and marks the delivery dead; this is only the backstop for a function that keeps dying.
          JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: MAX_RECEIVE_COUNT }),
        ),
        policy: ownedPolicy(names.queue),
      },
      { parent: this },
    );
    // Without one, a queue is allowAll: any queue of the account and region could make this its dead-letter
    // queue, and its failures would page as this route's dead letters and be redriven into this route. A
    // resource of its own: on the DLQ it would need the queue's ARN, and the queue needs the DLQ's. It says
    // only which queues may name this one their DLQ; the redrive out of it (StartMessageMoveTask) is unchanged.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-redrive-allow`,
      {
        queueUrl: deadLetters.url,
        redriveAllowPolicy: queue.arn.apply((arn) =>
          JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [arn] }),
        ),
      },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        namePrefix: names.rolePrefix,
        description: `hookgate route ${route.name}`,
        assumeRolePolicy: assumeRolePolicy("lambda.amazonaws.com"),
        // Both lists are exclusive: anything attached out of band is removed on the next `pulumi up`.
        managedPolicyArns: [],
        inlinePolicies: [
          {
            name: "route",
            policy: pulumi
              .all([args.accountId, queue.arn, deadLetters.arn, args.dedupeTableArn, args.artifactBucket])
              .apply(([accountId, queueArn, deadLetterQueueArn, dedupeTableArn, bucket]) =>
                JSON.stringify(
                  routePolicy({
                    route,
                    partition: args.partition,
                    region: args.region,
                    accountId,
                    queueArn,
                    deadLetterQueueArn,
                    dedupeTableArn,
                    logGroupName: names.logGroup,
                    bucket,
                    kmsKeyArns: args.kmsKeyArns,
                  }),
                ),
              ),
          },
        ],
      },
      { parent: this },
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.logGroup, retentionInDays: args.logRetentionDays },
      { parent: this },
    );

    // planGateway refused, before any resource, a route too big with the shortest values its queue URLs and the
    // stack's bucket can have (environmentProblem); one that may not fit with their longest is warned of here, so
    // that `pulumi preview` tells. The real values decide at deploy.
    const tight = environmentWarning(
      environmentLongest({
        route,
        names,
        region: args.region,
        dedupeTableName: args.dedupeTableName,
        egressProxy: args.egressProxy,
        secretNamePrefix: args.secretNamePrefix,
      }),
    );
    if (tight) pulumi.log.warn(tight, this);
    const variables = pulumi
      .all([args.artifactBucket, queue.url, deadLetters.url])
      .apply(([bucket, queueUrl, deadLetterQueueUrl]) =>
        routeEnvironment({
          route: deployedRoute(route, bucket),
          queueUrl,
          deadLetterQueueUrl,
          dedupeTable: args.dedupeTableName,
          egressProxy: args.egressProxy,
          secretNamePrefix: args.secretNamePrefix,
        }),
      );
    const fn = new aws.lambda.Function(
      `${name}-fn`,
      {
        name: names.function,
        description: `hookgate route ${route.name} (${route.action.type})`,
        runtime: LAMBDA_RUNTIME,
        architectures: [lambda.architecture],
        handler: "index.handler",
        code: args.code,
        role: role.arn,
        memorySize: lambda.memoryMb,
        timeout: lambda.timeoutSeconds,
        // Always set: the provider keeps a size no longer given, so a route that stops being s3-zip would
        // keep paying for its larger /tmp. 512 MB is Lambda's default, and free.
        ephemeralStorage: { size: route.action.type === "s3-zip" ? lambda.ephemeralStorageMb : 512 },
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] },
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        environment: { variables },
      },
      // The log group exists (with its retention) before the function can write its first line.
      { parent: this, dependsOn: [logGroup] },
    );

    new aws.lambda.EventSourceMapping(
      `${name}-work`,
      {
        functionName: fn.arn,
        eventSourceArn: queue.arn,
        batchSize: BATCH_SIZE,
        scalingConfig: { maximumConcurrency: lambda.workConcurrency },
        functionResponseTypes: ["ReportBatchItemFailures"],
        enabled: true,
      },
      { parent: this },
    );

    new aws.cloudwatch.MetricAlarm(
      `${name}-dead-letters`,
      {
        name: names.dlqAlarm,
        alarmDescription: `hookgate route ${route.name}: deliveries reached the dead-letter queue ${names.deadLetterQueue}. Inspect and redrive them.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: deadLetters.name },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [args.alarmTopicArn],
        okActions: [args.alarmTopicArn],
      },
      { parent: this },
    );

    // The DLQ's depth alarm stays ALARM while old letters wait to be redriven, so it says nothing of a second
    // incident meanwhile: new dead letters the function writes notify (no OK: it is an event), again after a
    // 5-minute period without one, as CloudWatch acts on a change of state only.
    logLineAlarm(
      `${name}-dead-lettered`,
      {
        name: names.deadLetteredAlarm,
        logGroupName: logGroup.name,
        pattern: DEAD_LETTERED_PATTERN,
        notifyOk: false,
        description:
          `hookgate route ${route.name}: the function sent deliveries to the dead-letter queue ` +
          `${names.deadLetterQueue} in the last 5 minutes, even if older ones already wait there (it notifies ` +
          'again after a 5-minute period without one). Their attempt lines (outcome "dead", or "deferred" or ' +
          `"failed" with ${DEAD_LETTERED_FIELD} true: put back on the last receive) ` +
          `in the log group ${names.logGroup} say why; fix the cause, then redrive them.`,
        alarmTopicArn: args.alarmTopicArn,
      },
      this,
    );

    // One alarm for the route's health: function errors, or work waiting longer than it should.
    new aws.cloudwatch.MetricAlarm(
      `${name}-unhealthy`,
      {
        name: names.healthAlarm,
        alarmDescription:
          `hookgate route ${route.name}: the function reported errors, or the oldest queued delivery is older than ` +
          `${args.oldestMessageAlarmSeconds} s. See the dashboard and the log group ${names.logGroup}.`,
        metricQueries: [
          {
            id: "errors",
            metric: {
              namespace: "AWS/Lambda",
              metricName: "Errors",
              dimensions: { FunctionName: fn.name },
              stat: "Sum",
              period: 300,
            },
          },
          {
            id: "age",
            metric: {
              namespace: "AWS/SQS",
              metricName: "ApproximateAgeOfOldestMessage",
              dimensions: { QueueName: queue.name },
              stat: "Maximum",
              period: 300,
            },
          },
          {
            id: "unhealthy",
            // 1 per failing condition; the alarm fires at 1 or more. No FILL: metric math takes a point one series
            // lacks as 0 in "+", and FILL in an alarm writes its value into the latest period, which a metric
            // published late never has, so a 1-of-1 alarm would read that 0 and could stay OK (CloudWatch's
            // "Using metric math", FILL).
            expression: `IF(errors > 0, 1, 0) + IF(age > ${args.oldestMessageAlarmSeconds}, 1, 0)`,
            label: "errors or old messages",
            returnData: true,
          },
        ],
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [args.alarmTopicArn],
        okActions: [args.alarmTopicArn],
      },
      { parent: this },
    );

    // A missing or blank webhook secret makes the function answer every delivery 401 itself: no function error,
    // and Git hosts do not redeliver a 4xx. Its error lines are the only trace, so they are counted and alarmed
    // on. A route without a secret (source IP alone) never writes them.
    if (route.secret) {
      logLineAlarm(
        `${name}-secret-unusable`,
        {
          name: names.secretAlarm,
          logGroupName: logGroup.name,
          pattern: SECRET_UNUSABLE_PATTERN,
          // Until the secret is fixed: a quiet period must not say OK.
          kind: "state",
          description: describingSecret(
            route.secret,
            (secret) =>
              `hookgate route ${route.name}: its webhook secret ${secret} is missing or holds no usable ` +
              `value, so every delivery is answered 401 and lost. Create or fix the secret; see the log group ${names.logGroup}. ` +
              "It keeps its state through periods without deliveries: OK comes after 5 minutes in which the function " +
              "logged and refused nothing for the secret, and does not mean the refused deliveries were redelivered.",
            args.secretNamePrefix,
          ),
          alarmTopicArn: args.alarmTopicArn,
        },
        this,
      );
      // A secret changed on one side only: every delivery is refused 401 (a warn line, no error), and lost.
      logLineAlarm(
        `${name}-bad-signature`,
        {
          name: names.badSignatureAlarm,
          logGroupName: logGroup.name,
          pattern: badSignaturePattern(route.provider),
          threshold: BAD_SIGNATURE_THRESHOLD,
          periodSeconds: BAD_SIGNATURE_WINDOW_SECONDS,
          kind: "state",
          description: describingSecret(
            route.secret,
            (secret) =>
              `hookgate route ${route.name}: a request was refused 401 "${SIGNATURE_INVALID}"${badSignatureOtherReasons(route.provider)} ` +
              `or "signature missing" with ${FROM_HOST_FIELD} (at least ${BAD_SIGNATURE_THRESHOLD} in ` +
              `${BAD_SIGNATURE_WINDOW_SECONDS / 60} minutes): the Git host signs with another value than the secret ` +
              `${secret} holds, or none (changed or cleared on one side), and every delivery is lost (a 4xx is not ` +
              "redelivered). Put the same value on both sides, then redeliver. " +
              // A kind mismatch is not mended by copying a value, and each reason has its own mends (the log line's
              // detail: GITLAB_SIGNING_KEY_MISSING_DETAIL, GITLAB_TOKEN_REFUSED_DETAIL, the seconds a timestamp is
              // off). Terse: with a 32-character route name and a 100-character stack name, a hidden name's
              // description must fit 1,024 characters whole (6 to spare), and a long name keep its first 20.
              (route.provider === "gitlab"
                ? "For (X-Gitlab-Token), the hook's whsec_ token in the secret or the plain token in the hook; " +
                  "for (webhook-signature), the reverse (plain alone); for a timestamp, fix GitLab's clock. "
                : "") +
              (otherAlgorithmReasons(route.provider).length > 0
                ? "For an algorithm, have the hook sign sha256 (a GitHub webhook's sha1: use a github route). "
                : "") +
              // A made-up request with the host's headers and no signature counts as much as a made-up signature.
              "One made-up delivery trips it too; api.ipAllowlist narrows who can send one. " +
              `See the log group ${names.logGroup} (delivery lines, status 401). It keeps its state through quiet ` +
              `periods: OK comes after ${BAD_SIGNATURE_WINDOW_SECONDS / 60} minutes in which the function ran and ` +
              "refused none so, and does not mean the refused deliveries were redelivered.",
            args.secretNamePrefix,
          ),
          alarmTopicArn: args.alarmTopicArn,
        },
        this,
      );
    }

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.invokeArn = fn.invokeArn;
    this.queueUrl = queue.url;
    this.queueName = queue.name;
    this.deadLetterQueueUrl = deadLetters.url;
    this.deadLetterQueueName = deadLetters.name;
    this.logGroupName = logGroup.name;
    this.roleArn = role.arn;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      queueUrl: this.queueUrl,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
    });
  }
}
