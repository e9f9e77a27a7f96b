// The size of a route's role policy, known before anything is deployed. No Pulumi here: `pulumi up` (Gateway)
// and `hookgate check` both measure with it.
import { withSecretNamePrefix } from "../core/routeSecrets";
import type { Route as RouteSpec } from "../core/types";
import { NAME_LIMITS, type RouteNames, routeNames, stackNames, stackPrefix } from "./naming";
import { type PolicyDocument, policyChars, ROLE_INLINE_POLICY_MAX_CHARS, routePolicy } from "./policies";

/** S3's shortest bucket name. */
export const MIN_BUCKET_NAME = 3;

/** A 12-digit account ID: every ARN the stack builds has one of this length. */
const ACCOUNT_ID_STAND_IN = "0".repeat(12);

export interface RoutePolicyBoundInput {
  route: RouteSpec;
  names: RouteNames;
  partition: string;
  region: string;
  dedupeTableName: string;
  /** The length of the stack's artifact bucket's name, for an s3-zip route that names no bucket. */
  artifactBucketNameLength?: number;
  /** hookgate:kmsKeyArns, known up front: their statements count as deployed. */
  kmsKeyArns?: readonly string[];
}

/**
 * The route's role policy before anything exists: the account ID and the stack's bucket name, unknown until
 * deployed, stand in with values of their length, so the document is as long as the deployed one.
 */
export function routePolicyBound(i: RoutePolicyBoundInput): PolicyDocument {
  const arn = (service: string, resource: string) =>
    `arn:${i.partition}:${service}:${i.region}:${ACCOUNT_ID_STAND_IN}:${resource}`;
  const stackBucket =
    i.route.action.type === "s3-zip" && !i.route.action.bucket
      ? "b".repeat(i.artifactBucketNameLength ?? MIN_BUCKET_NAME)
      : undefined;
  return routePolicy({
    route: i.route,
    partition: i.partition,
    region: i.region,
    accountId: ACCOUNT_ID_STAND_IN,
    queueArn: arn("sqs", i.names.queue),
    deadLetterQueueArn: arn("sqs", i.names.deadLetterQueue),
    dedupeTableArn: arn("dynamodb", `table/${i.dedupeTableName}`),
    logGroupName: i.names.logGroup,
    bucket: stackBucket,
    kmsKeyArns: i.kmsKeyArns,
  });
}

/** Why IAM would refuse the route's role policy (the role's only inline policy), or undefined. */
export function rolePolicyProblem(routeName: string, doc: PolicyDocument): string | undefined {
  const chars = policyChars(doc);
  if (chars <= ROLE_INLINE_POLICY_MAX_CHARS) return undefined;
  return (
    `route "${routeName}": its role's policy is ${chars} characters, ` +
    `more than the ${ROLE_INLINE_POLICY_MAX_CHARS} IAM allows a role's inline policies; name fewer repositories ` +
    "in match.repos, give it fewer delete-s3-prefix steps or shorter prefixes, or split it into two routes"
  );
}

/** The stack-dependent values a role policy's size depends on, which `hookgate check` cannot know. */
export interface StackStandIn {
  stack: string;
  region: string;
  partition: string;
  secretNamePrefix: string;
}

/**
 * The smallest policy any stack can give a route: a one-character stack name, a 9-character region
 * (us-west-2), the aws partition, no secretNamePrefix. A route over the limit with these is refused everywhere.
 */
export const SMALLEST_STACK: StackStandIn = {
  stack: "a",
  region: "us-west-2",
  partition: "aws",
  secretNamePrefix: "",
};

/**
 * The largest: a stack name long enough that every physical name reaches its AWS limit (function 64,
 * queues 80, dedupe table 255, bucket 63 characters), a 15-character region (us-isof-south-1, the longest in
 * the AWS SDKs' partitions data), the longest partition name (aws-us-gov) and a 64-character
 * hookgate:secretNamePrefix (its limit).
 */
export const LARGEST_STACK: StackStandIn = {
  stack: "s".repeat(NAME_LIMITS.table),
  region: "us-isof-south-1",
  partition: "aws-us-gov",
  secretNamePrefix: "p".repeat(64),
};

/** The route's role policy as a stack like `standIn` would deploy it (the account ID and bucket by length). */
export function routePolicyFor(route: RouteSpec, standIn: StackStandIn): PolicyDocument {
  const prefix = stackPrefix(standIn.stack);
  const names = stackNames(prefix, standIn.region);
  return routePolicyBound({
    route: withSecretNamePrefix(route, standIn.secretNamePrefix),
    names: routeNames(prefix, route.name),
    partition: standIn.partition,
    region: standIn.region,
    dedupeTableName: names.dedupeTable,
    artifactBucketNameLength: names.bucketPrefix.length + 26,
  });
}

/** What `hookgate check` says of a route's role policy size: a problem, a note, or nothing. */
export interface PolicySizeFinding {
  level: "problem" | "note";
  message: string;
}

export function routePolicySizeFinding(route: RouteSpec): PolicySizeFinding | undefined {
  const smallestDoc = routePolicyFor(route, SMALLEST_STACK);
  const smallest = policyChars(smallestDoc);
  const refused = rolePolicyProblem(route.name, smallestDoc);
  if (refused) {
    return {
      level: "problem",
      message:
        `${refused} (measured with the shortest stack name, region and partition and no ` +
        "hookgate:secretNamePrefix, so pulumi up refuses it on every stack)",
    };
  }
  const largest = policyChars(routePolicyFor(route, LARGEST_STACK));
  if (largest <= ROLE_INLINE_POLICY_MAX_CHARS) return undefined;
  return {
    level: "note",
    message:
      `route ${route.name}: its role's policy may exceed the ${ROLE_INLINE_POLICY_MAX_CHARS} characters IAM ` +
      `allows: ${smallest} with the shortest stack names, ${largest} with the longest (a stack name long enough ` +
      "to reach every AWS name limit, a 15-character region, the aws-us-gov partition, a 64-character " +
      "hookgate:secretNamePrefix); pulumi up measures it with the stack's own and refuses it if too long",
  };
}
