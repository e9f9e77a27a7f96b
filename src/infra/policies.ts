// IAM and resource policy documents, as plain data. Least privilege: each statement names its resources.
import { keyPrefixes, literalPrefix } from "../core/keyPrefixes";
import { partitionOf } from "../core/partitions";
import { routeSecretNames } from "../core/routeSecrets";
import type { Route } from "../core/types";

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/**
 * What Lambda needs of the execution role to manage a VPC function's network interfaces: the EC2 half of
 * AWSLambdaVPCAccessExecutionRole, on `*` (DescribeNetworkInterfaces takes nothing narrower). That managed
 * policy is not used, because it also grants logs:CreateLogGroup/CreateLogStream/PutLogEvents on every log
 * group of the account. Lambda makes these calls, not the function's code: see ENI_ACTIONS_DENIED_TO_CODE.
 */
export const VPC_ENI_ACTIONS = [
  "ec2:CreateNetworkInterface",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DeleteNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

/**
 * The network interface changes the function's own code may not make, though the role allows them to Lambda:
 * the code unzips archives from the Git host and loads dependencies, and must not be able to delete or
 * re-address any interface of the account. ec2:DetachNetworkInterface is in AWS's example of this Deny
 * (Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC").
 */
export const ENI_ACTIONS_DENIED_TO_CODE = [
  "ec2:CreateNetworkInterface",
  "ec2:DeleteNetworkInterface",
  "ec2:DetachNetworkInterface",
  "ec2:AssignPrivateIpAddresses",
  "ec2:UnassignPrivateIpAddresses",
];

export { keyPrefixes, literalPrefix, partitionOf };

export function managedPolicyArn(partition: string, name: string): string {
  return `arn:${partition}:iam::aws:policy/${name}`;
}

/** The S3 object ARNs for keys starting with one of `prefixes`: one string when there is one. */
function underPrefixes(prefixes: readonly string[], bucketArn: string): string | string[] {
  const arns = prefixes.map((prefix) => `${bucketArn}/${prefix}*`);
  return arns.length === 1 ? (arns[0] as string) : arns;
}

/** The trust policy as AWS expects it (no Resource in trust policies). */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

export interface RoutePolicyInput {
  route: Route;
  partition: string;
  region: string;
  accountId: string;
  queueArn: string;
  deadLetterQueueArn: string;
  dedupeTableArn: string;
  /** The function's own log group, created by the stack. */
  logGroupName: string;
  /** The bucket an s3-zip route writes to (its own, or the stack's). */
  bucket?: string;
  /** hookgate:kmsKeyArns: the customer managed keys of the secrets and of the routes' own buckets. */
  kmsKeyArns?: readonly string[];
}

/**
 * IAM's quota on a role's inline policies, all of them together ("Role policy size cannot exceed 10,240
 * characters"); PutRolePolicy refuses more with LimitExceeded.
 */
export const ROLE_INLINE_POLICY_MAX_CHARS = 10_240;

/**
 * A policy's size against IAM's quotas. IAM does not count white space; JSON.stringify writes none between
 * tokens, and white space inside a value (a key prefix with a space) is counted, to err on the safe side.
 */
export function policyChars(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** Secrets Manager appends "-" and six random characters to a secret's name in its ARN. */
export function secretArnPattern(
  i: { partition: string; region: string; accountId: string },
  name: string,
): string {
  return `${missingSecretArn(i, name)}-??????`;
}

/**
 * The ARN IAM checks a GetSecretValue by name against when no such secret exists: the bare name, no suffix.
 * Without a grant on it, IAM refuses the call before Secrets Manager looks (AccessDeniedException, which reads
 * as a refused read and is retried), so a missing secret would never be told apart as not found. No existing
 * secret's ARN lacks the suffix: granting it reads nothing more.
 */
export function missingSecretArn(
  i: { partition: string; region: string; accountId: string },
  name: string,
): string {
  return `arn:${i.partition}:secretsmanager:${i.region}:${i.accountId}:secret:${name}`;
}

/**
 * The kms:ViaService value of a service's requests in a region. The AWS KMS Developer Guide ("AWS KMS
 * condition keys", kms:ViaService): "Use the .amazonaws.com suffix of the AWS KMS ViaService name in all AWS
 * partitions", so not the partition's endpoint domain (core/partitions dnsSuffix: amazonaws.com.cn in China).
 */
export function kmsViaService(service: "secretsmanager" | "s3", region: string): string {
  return `${service}.${region}.amazonaws.com`;
}

/**
 * What the route's calls need of customer managed keys, only through the service that makes them:
 * - GetSecretValue: Secrets Manager calls kms:Decrypt on the secret's key (Secrets Manager User Guide,
 *   "Secret encryption and decryption"); GenerateDataKey is only for writing a secret value.
 * - s3-zip into its own bucket under SSE-KMS: PutObject needs kms:GenerateDataKey, a multipart upload also
 *   kms:Decrypt (S3 reads the encrypted parts to complete it: S3 User Guide, "Using server-side encryption
 *   with AWS KMS keys" and "Multipart upload API and permissions"). S3 Bucket Keys change the encryption
 *   context, not the actions. The stack's own bucket is SSE-S3 (artifacts.ts): routes writing there need none.
 * - pr-cleanup's ListObjectsV2 and DeleteObjects read and write no object data: no KMS call.
 * A key is named by its key ARN: IAM matches no alias ARN against these calls (AWS KMS Developer Guide,
 * "Specifying KMS keys in IAM policy statements").
 */
function kmsStatements(i: RoutePolicyInput, hasSecrets: boolean): Statement[] {
  const keys = [...new Set(i.kmsKeyArns ?? [])];
  const { action } = i.route;
  // The s3-zip action's own kmsKeyId (serverSideEncryption aws:kms): its uploads ask S3 for that key,
  // whichever bucket they go to.
  const uploadKeys = [
    ...new Set([
      ...(action.type === "s3-zip" && action.bucket ? keys : []),
      ...(action.type === "s3-zip" && action.kmsKeyId ? [action.kmsKeyId] : []),
    ]),
  ];
  if (keys.length === 0 && uploadKeys.length === 0) return [];
  const resource = (list: string[]) => (list.length === 1 ? (list[0] as string) : list);
  const Resource = resource(keys);
  const via = (service: "secretsmanager" | "s3") => ({
    StringEquals: { "kms:ViaService": kmsViaService(service, i.region) },
  });
  const out: Statement[] = [];
  if (hasSecrets && keys.length > 0) {
    out.push({
      Sid: "DecryptOwnSecrets",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource,
      Condition: via("secretsmanager"),
    });
  }
  if (uploadKeys.length > 0) {
    out.push({
      Sid: "EncryptOwnUploads",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: resource(uploadKeys),
      Condition: via("s3"),
    });
  }
  return out;
}

/** The inline policy of a route's role: its own secrets, queue, dead letters, table keys and bucket prefix. */
export function routePolicy(i: RoutePolicyInput): PolicyDocument {
  const { route, partition } = i;
  const statements: Statement[] = [];
  const secrets = routeSecretNames(route);
  if (secrets.length > 0) {
    statements.push({
      Sid: "ReadOwnSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: secrets.flatMap((name) => [secretArnPattern(i, name), missingSecretArn(i, name)]),
    });
  }
  statements.push(
    {
      Sid: "OwnQueue",
      Effect: "Allow",
      Action: [
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ],
      Resource: i.queueArn,
    },
    { Sid: "OwnDeadLetters", Effect: "Allow", Action: "sqs:SendMessage", Resource: i.deadLetterQueueArn },
    {
      Sid: "OwnLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `arn:${partition}:logs:${i.region}:${i.accountId}:log-group:${i.logGroupName}:*`,
    },
    { Sid: "VpcNetworkInterfaces", Effect: "Allow", Action: VPC_ENI_ACTIONS, Resource: "*" },
    {
      // Lambda sets lambda:SourceFunctionArn on every call from the execution environment, and not on the EC2
      // calls it makes itself for the function's interfaces (Lambda Developer Guide, "Using source function
      // ARN to control function access behavior"). Null, not ArnEquals on the function's ARN: the same effect
      // here, without naming in the role a function created after it.
      Sid: "NoNetworkInterfaceChangesFromCode",
      Effect: "Deny",
      Action: ENI_ACTIONS_DENIED_TO_CODE,
      Resource: "*",
      Condition: { Null: { "lambda:SourceFunctionArn": "false" } },
    },
    {
      Sid: "OwnDeliveryIds",
      Effect: "Allow",
      // What src/aws/dedupe.ts sends: claim, mark and release are UpdateItem (a release too), state GetItem.
      Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
      Resource: i.dedupeTableArn,
      Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [`${route.name}#*`] } },
    },
  );
  const action = route.action;
  if (action.type === "s3-zip") {
    const bucket = action.bucket ?? i.bucket;
    if (!bucket)
      throw new Error(`route "${route.name}": s3-zip needs a bucket (the stack's artifact bucket)`);
    const prefixes = keyPrefixes(action.key, route.match.repos);
    statements.push(
      {
        // GetObject for HeadObject: s3-zip reads the metadata of the zip in place before it replaces it
        // (an older delivery does not replace a newer zip). Its upload's conditions need nothing more:
        // If-None-Match: * takes s3:PutObject, If-Match s3:PutObject and s3:GetObject.
        Sid: "ReadWriteOwnPrefix",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
        Resource: underPrefixes(prefixes, `arn:${partition}:s3:::${bucket}`),
      },
      {
        // Without s3:ListBucket, S3 answers the HeadObject of a key that does not exist 403, not 404; and
        // the action settles a 403 by listing the key itself (ObjectStore.head), which this allows.
        Sid: "ListOwnPrefix",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:${partition}:s3:::${bucket}`,
        Condition: { StringLike: { "s3:prefix": prefixes.map((prefix) => `${prefix}*`) } },
      },
    );
  } else if (action.type === "pr-cleanup") {
    let n = 0;
    for (const step of action.steps) {
      if (step.kind !== "delete-s3-prefix") continue;
      const prefixes = keyPrefixes(step.prefix, route.match.repos);
      n++;
      statements.push(
        {
          Sid: `ListCleanedPrefix${n}`,
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: `arn:${partition}:s3:::${step.bucket}`,
          Condition: { StringLike: { "s3:prefix": prefixes.map((prefix) => `${prefix}*`) } },
        },
        {
          Sid: `DeleteCleanedPrefix${n}`,
          Effect: "Allow",
          Action: "s3:DeleteObject",
          Resource: underPrefixes(prefixes, `arn:${partition}:s3:::${step.bucket}`),
        },
      );
    }
  }
  statements.push(...kmsStatements(i, secrets.length > 0));
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * API resource policy: Invoke from anywhere, or only from the allowlist (an explicit Deny for every
 * other source) when it names CIDRs. The policy always exists: removing the allowlist must be an update
 * made before the redeployment, not a deletion Pulumi would make after it (the stage would keep denying).
 * The resource is the API's execution ARN in full: AWS stores the shorthand `execute-api:/*` expanded to it,
 * and the provider, comparing the two, would then update the policy on every `pulumi up`.
 */
export function apiAllowlistPolicy(cidrs: readonly string[], executionArn: string): PolicyDocument {
  const everything = `${executionArn}/*`;
  const allow: Statement = {
    Sid: "AllowInvoke",
    Effect: "Allow",
    Principal: "*",
    Action: "execute-api:Invoke",
    Resource: everything,
  };
  if (cidrs.length === 0) return { Version: "2012-10-17", Statement: [allow] };
  return {
    Version: "2012-10-17",
    Statement: [
      allow,
      {
        Sid: "DenyOutsideAllowlist",
        Effect: "Deny",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: everything,
        Condition: { NotIpAddress: { "aws:SourceIp": [...cidrs] } },
      },
    ],
  };
}

/**
 * API Gateway's default quota on a REST API's resource policy: "Length, in characters, of API Gateway resource
 * policy", 8,192 (API Gateway Developer Guide, "Quotas for configuring and running a REST API in API Gateway";
 * adjustable per API in Service Quotas). Past it, API Gateway refuses the policy (UpdateRestApi, which sets it).
 */
export const API_POLICY_DEFAULT_QUOTA_CHARS = 8192;

/**
 * The length of the API's resource policy (apiAllowlistPolicy) before the API exists: its execution ARN,
 * arn:<partition>:execute-api:<region>:<account>:<API id>, stands in with a value of its length (a 12-digit
 * account, a 10-character API id), so the count is the deployed policy's.
 */
export function apiAllowlistPolicyChars(cidrs: readonly string[], partition: string, region: string): number {
  const executionArn = `arn:${partition}:execute-api:${region}:${"0".repeat(12)}:${"a".repeat(10)}`;
  return policyChars(apiAllowlistPolicy(cidrs, executionArn));
}

/** What `pulumi up` says when api.ipAllowlist makes the resource policy longer than the default quota. */
export function apiPolicyQuotaWarning(
  cidrs: readonly string[],
  partition: string,
  region: string,
): string | undefined {
  const chars = apiAllowlistPolicyChars(cidrs, partition, region);
  if (chars <= API_POLICY_DEFAULT_QUOTA_CHARS) return undefined;
  return (
    `api.ipAllowlist's ${cidrs.length} CIDRs make the API's resource policy ${chars} characters, more than API ` +
    `Gateway's default quota of ${API_POLICY_DEFAULT_QUOTA_CHARS}: unless the quota "Length, in characters, of API ` +
    "Gateway resource policy\" was raised for the stack's API (Service Quotas, Amazon API Gateway), `pulumi up` " +
    "fails at the policy (hookgate-api-allowlist); give api.ipAllowlist fewer, wider ranges, or raise the quota"
  );
}

/** Denies every request to the bucket that does not use TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
