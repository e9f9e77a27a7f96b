// Physical AWS names: deterministic, unique per stack, within each service's limits.
import { createHash } from "node:crypto";
import { DEAD_LETTER_SUFFIX } from "../core/routes/checks";

/** AWS name limits hookgate's names must respect. */
export const NAME_LIMITS = {
  function: 64,
  /** IAM role name prefix (the provider appends a 26-character unique suffix; the role name limit is 64). */
  rolePrefix: 38,
  /** SQS, including the ".fifo" suffix. */
  queue: 80,
  logGroup: 512,
  alarm: 255,
  table: 255,
  /** S3 bucket prefix (the provider appends 26 characters; bucket names are at most 63). */
  bucketPrefix: 37,
  dashboard: 255,
  topic: 256,
  secret: 512,
} as const;

/** A short, stable digest used when a name has to be shortened. */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Keeps letters, digits, "-" and "_"; everything else becomes "-". */
export function sanitise(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "-");
}

/**
 * `base + suffix` when it fits in `max`, else the base cut short and marked with a hash of the whole base,
 * so that two long names never collide and the same input always yields the same name.
 */
export function physicalName(base: string, max: number, suffix = ""): string {
  const clean = sanitise(base);
  if (clean.length + suffix.length <= max) return clean + suffix;
  const hash = shortHash(base);
  const room = max - suffix.length - hash.length - 1;
  if (room < 1) throw new Error(`no room for a name within ${max} characters with suffix "${suffix}"`);
  return `${clean.slice(0, room).replace(/[-_]+$/, "")}-${hash}${suffix}`;
}

/** The prefix of every physical name of a stack: hookgate-<stack>. */
export function stackPrefix(stack: string): string {
  return sanitise(`hookgate-${stack}`);
}

export interface RouteNames {
  function: string;
  logGroup: string;
  rolePrefix: string;
  queue: string;
  deadLetterQueue: string;
  dlqAlarm: string;
  healthAlarm: string;
  /** The alarm on the function's "every delivery is rejected" lines, and the metric its log filter counts. */
  secretAlarm: string;
  /** The alarm on deliveries refused 401 "signature invalid", and the metric its log filter counts. */
  badSignatureAlarm: string;
  /** The alarm on each new dead letter the function writes, and the metric its log filter counts. */
  deadLetteredAlarm: string;
}

/** Every physical name of one route, derived from `<stack prefix>-<route>`. */
export function routeNames(prefix: string, route: string): RouteNames {
  const base = `${prefix}-${route}`;
  const fn = physicalName(base, NAME_LIMITS.function);
  return {
    function: fn,
    logGroup: `/aws/lambda/${fn}`,
    rolePrefix: physicalName(base, NAME_LIMITS.rolePrefix, "-"),
    queue: physicalName(base, NAME_LIMITS.queue, ".fifo"),
    deadLetterQueue: physicalName(base, NAME_LIMITS.queue, `${DEAD_LETTER_SUFFIX}.fifo`),
    dlqAlarm: physicalName(base, NAME_LIMITS.alarm, "-dead-letters"),
    healthAlarm: physicalName(base, NAME_LIMITS.alarm, "-unhealthy"),
    secretAlarm: physicalName(base, NAME_LIMITS.alarm, "-secret-unusable"),
    badSignatureAlarm: physicalName(base, NAME_LIMITS.alarm, "-bad-signature"),
    deadLetteredAlarm: physicalName(base, NAME_LIMITS.alarm, "-dead-lettered"),
  };
}

/** Names of the stack-wide resources. */
export function stackNames(prefix: string, region: string) {
  return {
    dedupeTable: physicalName(prefix, NAME_LIMITS.table, "-dedupe"),
    api: physicalName(prefix, 1024, "-api"),
    apiLogGroup: `/aws/apigateway/${physicalName(prefix, 200, "-access")}`,
    // Dashboards are global to the account: a stack of the same name in another region must not share it.
    dashboard: physicalName(`${prefix}-${region}`, NAME_LIMITS.dashboard),
    alarmTopic: physicalName(prefix, NAME_LIMITS.topic, "-alarms"),
    apiErrorsAlarm: physicalName(prefix, NAME_LIMITS.alarm, "-api-5xx"),
    apiTooLargeOrThrottledAlarm: physicalName(prefix, NAME_LIMITS.alarm, "-api-413-throttled"),
    bucketPrefix: physicalName(
      prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-"),
      NAME_LIMITS.bucketPrefix,
      "-artifacts-",
    ),
    lambdaSecurityGroup: physicalName(prefix, 255, "-lambda"),
    endpointSecurityGroup: physicalName(prefix, 255, "-endpoints"),
    // Tag values and rule descriptions only (the resources' logical names stay): they tell stacks apart.
    vpcNameTag: physicalName(prefix, 256, "-vpc"),
    jenkinsRuleDescription: physicalName(prefix, 255, ": route Lambdas to Jenkins"),
    apiLoggingRolePrefix: physicalName(prefix, NAME_LIMITS.rolePrefix, "-apigw-"),
  };
}
