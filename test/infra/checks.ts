// Security and naming checks run over EVERY recorded resource of an evaluated stack. Each returns the
// violations it found, so a failing test says exactly which resource broke which rule.
import { routeSecretNames } from "../../src/core/routeSecrets";
import type { Route } from "../../src/core/types";
import { NAME_LIMITS } from "../../src/infra/naming";
import {
  policyChars,
  ROLE_INLINE_POLICY_MAX_CHARS,
  type Statement,
  VPC_ENI_ACTIONS,
} from "../../src/infra/policies";
import { ROUTE_ENV_KEYS } from "../../src/infra/route";
import { ACCOUNT, type MockCloud, REGION, type Recorded } from "./mocks";

const OPEN = ["0.0.0.0/0", "::/0"];
/** The one AWS managed policy a role may carry: API Gateway's log pusher (the account's own role). */
const ALLOWED_MANAGED = ["service-role/AmazonAPIGatewayPushToCloudWatchLogs"].map(
  (p) => `arn:aws:iam::aws:policy/${p}`,
);

/** `*` is allowed only for what AWS requires it for: a VPC function's network interfaces. */
function onlyEniActions(action: string | string[]): boolean {
  const actions = Array.isArray(action) ? action : [action];
  return actions.every((a) => VPC_ENI_ACTIONS.includes(a));
}

function label(r: Recorded): string {
  return `${r.type} ${r.name}`;
}

export function openIngress(cloud: MockCloud): string[] {
  const out: string[] = [];
  for (const r of cloud.resources) {
    if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
      for (const rule of r.inputs.ingress ?? []) {
        const cidrs = [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])];
        if (cidrs.some((c: string) => OPEN.includes(c)))
          out.push(`${label(r)}: ingress from ${cidrs.join(", ")}`);
      }
    }
    if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
      if (OPEN.includes(r.inputs.cidrIpv4) || OPEN.includes(r.inputs.cidrIpv6))
        out.push(`${label(r)}: open ingress`);
    }
    if (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && r.inputs.type === "ingress") {
      const cidrs = [...(r.inputs.cidrBlocks ?? []), ...(r.inputs.ipv6CidrBlocks ?? [])];
      if (cidrs.some((c: string) => OPEN.includes(c))) out.push(`${label(r)}: open ingress`);
    }
  }
  return out;
}

/** Every IAM policy document (inline or standalone) with the resource that carries it. */
export function iamDocuments(cloud: MockCloud): { owner: Recorded; statements: Statement[] }[] {
  const docs: { owner: Recorded; statements: Statement[] }[] = [];
  const add = (owner: Recorded, text: unknown) => {
    const doc = typeof text === "string" ? JSON.parse(text) : text;
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    docs.push({ owner, statements });
  };
  for (const r of cloud.resources) {
    if (r.type === "aws:iam/role:Role") for (const p of r.inputs.inlinePolicies ?? []) add(r, p.policy);
    if (["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"].includes(r.type)) add(r, r.inputs.policy);
  }
  return docs;
}

const POLICY_RESOURCES = [
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/policy:Policy",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:apigateway/restApiPolicy:RestApiPolicy",
];

/**
 * Policy documents IAM refuses: a character other than tab, LF, CR and U+0020 to U+00FF, or a role's inline
 * policies longer than 10,240 characters together (white space not counted).
 */
export function policyProblems(cloud: MockCloud): string[] {
  const out: string[] = [];
  for (const r of cloud.resources) {
    const inline: string[] =
      r.type === "aws:iam/role:Role"
        ? (r.inputs.inlinePolicies ?? []).map((p: { policy: string }) => p.policy)
        : [];
    const texts: unknown[] =
      r.type === "aws:iam/role:Role"
        ? [r.inputs.assumeRolePolicy, ...inline]
        : POLICY_RESOURCES.includes(r.type)
          ? [r.inputs.policy]
          : [];
    for (const text of texts) {
      if (typeof text === "string" && !/^[\t\n\r\u0020-\u00ff]*$/.test(text))
        out.push(`${label(r)}: a policy holds characters IAM refuses`);
    }
    const chars = inline.reduce((sum, text) => sum + policyChars(JSON.parse(text)), 0);
    if (chars > ROLE_INLINE_POLICY_MAX_CHARS)
      out.push(`${label(r)}: inline policies of ${chars} characters > ${ROLE_INLINE_POLICY_MAX_CHARS}`);
  }
  return out;
}

export function wildcardResources(cloud: MockCloud): string[] {
  const out: string[] = [];
  for (const { owner, statements } of iamDocuments(cloud)) {
    for (const s of statements) {
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      if (
        s.Effect === "Allow" &&
        !onlyEniActions(s.Action) &&
        resources.some((x) => x === "*" || /^arn:[^:]+:[^:]*:[^:]*:[^:]*:\*$/.test(x))
      ) {
        out.push(`${label(owner)}: ${s.Sid ?? "statement"} allows ${JSON.stringify(s.Action)} on *`);
      }
      if (s.Effect === "Allow" && (s.Action === "*" || (Array.isArray(s.Action) && s.Action.includes("*")))) {
        out.push(`${label(owner)}: allows every action`);
      }
    }
  }
  for (const r of cloud.resources) {
    const arns: string[] =
      r.type === "aws:iam/role:Role"
        ? (r.inputs.managedPolicyArns ?? [])
        : r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
          ? [r.inputs.policyArn]
          : [];
    for (const arn of arns) if (!ALLOWED_MANAGED.includes(arn)) out.push(`${label(r)}: attaches ${arn}`);
  }
  return out;
}

/** The route a resource belongs to: its nearest Route component ancestor. */
export function routeOf(cloud: MockCloud, r: Recorded): string | undefined {
  let parent = r.parent;
  while (parent) {
    const p = cloud.resources.find((x) => x.urn === parent);
    if (!p) return undefined;
    if (p.type === "hookgate:infra:Route") return p.name;
    parent = p.parent;
  }
  return undefined;
}

export function secretAccessBeyondRoute(cloud: MockCloud, routes: readonly Route[]): string[] {
  const out: string[] = [];
  for (const { owner, statements } of iamDocuments(cloud)) {
    const routeName = routeOf(cloud, owner);
    const route = routes.find((x) => x.name === routeName);
    // Each secret by its ARN's pattern, and by the bare name a missing secret is checked against.
    const allowed = new Set(
      (route ? routeSecretNames(route) : []).flatMap((n) => [
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-??????`,
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}`,
      ]),
    );
    for (const s of statements) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      if (!actions.some((a) => a.startsWith("secretsmanager:"))) continue;
      if (actions.some((a) => a !== "secretsmanager:GetSecretValue"))
        out.push(`${label(owner)}: ${actions.join(", ")}`);
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const res of resources) if (!allowed.has(res)) out.push(`${label(owner)}: may read ${res}`);
    }
  }
  return out;
}

/** Function environments: only the contract's keys, and none of the given secret values anywhere. */
export function environmentLeaks(cloud: MockCloud, secretValues: readonly string[]): string[] {
  const out: string[] = [];
  for (const fn of cloud.ofType("aws:lambda/function:Function")) {
    const vars: Record<string, string> = fn.inputs.environment?.variables ?? {};
    for (const key of Object.keys(vars)) {
      if (!(ROUTE_ENV_KEYS as readonly string[]).includes(key))
        out.push(`${label(fn)}: unexpected variable ${key}`);
    }
    const text = JSON.stringify(vars);
    for (const v of secretValues)
      if (text.includes(v)) out.push(`${label(fn)}: environment holds a secret value`);
  }
  return out;
}

export function unprotectedBuckets(cloud: MockCloud): string[] {
  const out: string[] = [];
  for (const bucket of cloud.ofType("aws:s3/bucket:Bucket")) {
    const id = `${bucket.name}-id`;
    const on = (type: string) => cloud.ofType(type).filter((r) => r.inputs.bucket === id);
    const pab = on("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
    if (pab.length !== 1 || !flags.every((f) => pab[0]?.inputs[f] === true)) {
      out.push(`${label(bucket)}: public access not fully blocked`);
    }
    const sse = on("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    const algo = sse[0]?.inputs.rules?.[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm;
    if (!["AES256", "aws:kms", "aws:kms:dsse"].includes(algo))
      out.push(`${label(bucket)}: no default encryption`);
    const policies = on("aws:s3/bucketPolicy:BucketPolicy").map((p) => JSON.parse(p.inputs.policy));
    const tlsOnly = policies.some((doc) =>
      doc.Statement.some(
        (s: Statement) =>
          s.Effect === "Deny" &&
          s.Action === "s3:*" &&
          s.Condition?.Bool?.["aws:SecureTransport"] === "false" &&
          Array.isArray(s.Resource) &&
          s.Resource.length === 2,
      ),
    );
    if (!tlsOnly) out.push(`${label(bucket)}: no TLS-only bucket policy`);
  }
  return out;
}

/** Physical names within AWS limits, and URNs and physical names unique (the real engine and AWS reject both). */
export function nameProblems(cloud: MockCloud): string[] {
  const out: string[] = [];
  const limits: [string, string, number, RegExp][] = [
    ["aws:lambda/function:Function", "name", NAME_LIMITS.function, /^[A-Za-z0-9_-]+$/],
    ["aws:iam/role:Role", "namePrefix", NAME_LIMITS.rolePrefix, /^[\w+=,.@-]+$/],
    ["aws:sqs/queue:Queue", "name", NAME_LIMITS.queue, /^[A-Za-z0-9_-]+\.fifo$/],
    ["aws:cloudwatch/logGroup:LogGroup", "name", NAME_LIMITS.logGroup, /^[\w./#-]+$/],
    ["aws:cloudwatch/metricAlarm:MetricAlarm", "name", NAME_LIMITS.alarm, /^[^\s]+$/],
    ["aws:dynamodb/table:Table", "name", 255, /^[A-Za-z0-9_.-]{3,}$/],
    ["aws:s3/bucket:Bucket", "bucketPrefix", NAME_LIMITS.bucketPrefix, /^[a-z0-9][a-z0-9-]*$/],
    ["aws:sns/topic:Topic", "name", 256, /^[A-Za-z0-9_-]+$/],
    ["aws:ec2/securityGroup:SecurityGroup", "name", 255, /^[\w .:/()#,@[\]+=&;{}!$*-]+$/],
  ];
  for (const [type, field, max, pattern] of limits) {
    const seen = new Set<string>();
    for (const r of cloud.ofType(type)) {
      const name = r.inputs[field];
      if (typeof name !== "string") {
        out.push(`${label(r)}: no explicit ${field}`);
        continue;
      }
      if (name.length > max) out.push(`${label(r)}: ${field} "${name}" is ${name.length} > ${max}`);
      if (!pattern.test(name)) out.push(`${label(r)}: ${field} "${name}" has characters AWS rejects`);
      if (seen.has(name)) out.push(`${label(r)}: ${field} "${name}" is used twice`);
      seen.add(name);
    }
  }
  const urns = new Set<string>();
  for (const r of cloud.resources) {
    if (urns.has(r.urn)) out.push(`duplicate URN ${r.urn}`);
    urns.add(r.urn);
  }
  return out;
}

/** EC2's characters for a security group's name, description and rule descriptions (CreateSecurityGroup). */
const EC2_TEXT = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
/** IAM's characters for a role's description (CreateRole), at most 1,000 of them. */
const IAM_DESCRIPTION = /^[\t\n\r\u0020-\u007e\u00a1-\u00ff]{0,1000}$/;
/** CloudWatch Logs' retention values (PutRetentionPolicy). */
const LOG_RETENTION = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Values the services validate at apply time, which the mocks accept whatever they are, against the limits
 * their API references give: Lambda (CreateFunction), IAM (CreateRole), SQS (SetQueueAttributes), EC2
 * (CreateSecurityGroup), CloudWatch (PutMetricAlarm, PutDashboard and its body's structure), CloudWatch Logs,
 * API Gateway (CreateStage; the resource policy's default quota of 8,192 characters) and the SQS event source.
 */
export function valueProblems(cloud: MockCloud): string[] {
  const out: string[] = [];
  const within = (r: Recorded, what: string, value: unknown, min: number, max: number) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
      out.push(`${label(r)}: ${what} ${String(value)} is not an integer from ${min} to ${max}`);
  };
  for (const fn of cloud.ofType("aws:lambda/function:Function")) {
    const description = String(fn.inputs.description ?? "");
    if (description.length > 256) out.push(`${label(fn)}: description of ${description.length} > 256`);
    within(fn, "memorySize", fn.inputs.memorySize, 128, 10_240);
    within(fn, "timeout", fn.inputs.timeout, 1, 900);
    within(fn, "ephemeralStorage.size", fn.inputs.ephemeralStorage?.size, 512, 10_240);
    const variables: Record<string, string> = fn.inputs.environment?.variables ?? {};
    for (const key of Object.keys(variables))
      if (!/^[a-zA-Z][a-zA-Z0-9_]+$/.test(key)) out.push(`${label(fn)}: environment key ${key}`);
    const bytes = Buffer.byteLength(JSON.stringify(variables));
    if (bytes > 4096) out.push(`${label(fn)}: environment of ${bytes} bytes > 4096`);
  }
  for (const role of cloud.ofType("aws:iam/role:Role")) {
    if (!IAM_DESCRIPTION.test(String(role.inputs.description ?? "")))
      out.push(`${label(role)}: a description IAM refuses`);
  }
  for (const q of cloud.ofType("aws:sqs/queue:Queue")) {
    within(q, "visibilityTimeoutSeconds", q.inputs.visibilityTimeoutSeconds, 0, 43_200);
    within(q, "messageRetentionSeconds", q.inputs.messageRetentionSeconds, 60, 1_209_600);
    within(q, "maxMessageSize", q.inputs.maxMessageSize, 1024, 1_048_576);
    if (q.inputs.redrivePolicy !== undefined) {
      within(q, "maxReceiveCount", JSON.parse(q.inputs.redrivePolicy).maxReceiveCount, 1, 1000);
    }
  }
  for (const sg of cloud.ofType("aws:ec2/securityGroup:SecurityGroup")) {
    if (String(sg.inputs.name).startsWith("sg-")) out.push(`${label(sg)}: a name starting with sg-`);
    const texts = [
      sg.inputs.description,
      ...[...(sg.inputs.ingress ?? []), ...(sg.inputs.egress ?? [])].map(
        (rule: { description?: string }) => rule.description ?? "",
      ),
    ];
    for (const text of texts)
      if (!EC2_TEXT.test(String(text))) out.push(`${label(sg)}: ${JSON.stringify(text)} EC2 refuses`);
  }
  for (const rule of cloud.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")) {
    if (!EC2_TEXT.test(String(rule.inputs.description ?? "")))
      out.push(`${label(rule)}: a description EC2 refuses`);
  }
  // PutMetricFilter's filterPattern: at most 1,024 characters.
  for (const filter of cloud.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter")) {
    const pattern = String(filter.inputs.pattern ?? "");
    if (pattern.length > 1024) out.push(`${label(filter)}: pattern of ${pattern.length} > 1024`);
  }
  for (const alarm of cloud.ofType("aws:cloudwatch/metricAlarm:MetricAlarm")) {
    const description = String(alarm.inputs.alarmDescription ?? "");
    if (description.length > 1024) out.push(`${label(alarm)}: description of ${description.length} > 1024`);
  }
  for (const dashboard of cloud.ofType("aws:cloudwatch/dashboard:Dashboard")) {
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(String(dashboard.inputs.dashboardName)))
      out.push(`${label(dashboard)}: a name CloudWatch refuses`);
    const widgets: { x: number; y: number; width: number; height: number }[] = JSON.parse(
      dashboard.inputs.dashboardBody,
    ).widgets;
    if (widgets.length > 500) out.push(`${label(dashboard)}: ${widgets.length} widgets > 500`);
    for (const w of widgets) {
      if (
        !(w.x >= 0 && w.x <= 23 && w.width >= 1 && w.x + w.width <= 24 && w.height >= 1 && w.height <= 1000)
      )
        out.push(`${label(dashboard)}: a widget off the grid (${JSON.stringify(w)})`);
    }
  }
  for (const lg of cloud.ofType("aws:cloudwatch/logGroup:LogGroup")) {
    if (!LOG_RETENTION.includes(lg.inputs.retentionInDays))
      out.push(`${label(lg)}: retention ${lg.inputs.retentionInDays} days`);
  }
  for (const stage of cloud.ofType("aws:apigateway/stage:Stage")) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(String(stage.inputs.stageName)))
      out.push(`${label(stage)}: a stage name API Gateway refuses`);
  }
  for (const policy of cloud.ofType("aws:apigateway/restApiPolicy:RestApiPolicy")) {
    const chars = String(policy.inputs.policy).length;
    if (chars > 8192) out.push(`${label(policy)}: a resource policy of ${chars} characters > 8192`);
  }
  for (const mapping of cloud.ofType("aws:lambda/eventSourceMapping:EventSourceMapping")) {
    within(mapping, "batchSize", mapping.inputs.batchSize, 1, 10);
    within(mapping, "maximumConcurrency", mapping.inputs.scalingConfig?.maximumConcurrency, 2, 1000);
  }
  return out;
}
