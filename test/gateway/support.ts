// Test helpers for the route handler: real signed API Gateway proxy events, SQS events, and
// in-memory doubles of the queue, the dead-letter queue and the log.
import { createHmac, randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, SQSEvent, SQSRecord } from "aws-lambda";
import type { DeadLetterQueue, WorkQueue } from "../../src/core/ports";
import type { Route, WorkItem } from "../../src/core/types";

export const WEBHOOK_SECRET = "It's a Secret to Everybody";
export const SHA = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";

export function jenkinsRoute(
  overrides: Partial<Route> = {},
  jenkinsUrl = "https://jenkins.internal.example.com",
): Route {
  return {
    name: "api-build",
    provider: "github",
    secret: "hookgate/github-webhook",
    auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    match: { repos: ["acme/api"], events: ["push"], branches: ["main", "release/*"] },
    action: {
      type: "jenkins",
      jenkins: { url: jenkinsUrl, credentials: "hookgate/jenkins", crumb: false },
      job: "api/build",
      parameters: { BRANCH: "{{branch}}", SHA: "{{sha}}", DELIVERY: "{{deliveryId}}" },
    },
    ...overrides,
  };
}

export function pushPayload(
  options: { branch?: string; repo?: string; after?: string } = {},
): Record<string, unknown> {
  const [owner = "acme", name = "api"] = (options.repo ?? "acme/api").split("/");
  return {
    ref: `refs/heads/${options.branch ?? "main"}`,
    before: "9049f1265b7d61be4a8904a9a27120d2064dab3b",
    after: options.after ?? SHA,
    created: false,
    deleted: false,
    repository: {
      name,
      full_name: `${owner}/${name}`,
      owner: { login: owner, name: owner },
      clone_url: `https://github.com/${owner}/${name}.git`,
      default_branch: "main",
    },
    pusher: { name: "octocat" },
    sender: { login: "octocat" },
    commits: [{ id: SHA, added: ["src/a.ts"], modified: ["README.md"], removed: [] }],
    head_commit: { id: SHA },
  };
}

export interface DeliveryOptions {
  /** The exact bytes to send; JSON.stringify(payload) when absent. */
  body?: string | Buffer;
  payload?: unknown;
  event?: string;
  deliveryId?: string;
  secret?: string;
  /** Replace the computed signature (or set undefined to send none). */
  signature?: string | null;
  contentType?: string;
  base64?: boolean;
  method?: string;
  path?: string;
  sourceIp?: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
}

export function sign(secret: string, body: Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * A GitHub delivery as API Gateway's REST proxy integration hands it to Lambda: `headers` holds the
 * last value of each header, `multiValueHeaders` all of them.
 */
export function githubDelivery(options: DeliveryOptions = {}): APIGatewayProxyEvent {
  const raw =
    options.body !== undefined
      ? Buffer.isBuffer(options.body)
        ? options.body
        : Buffer.from(options.body, "utf8")
      : Buffer.from(JSON.stringify(options.payload ?? pushPayload()), "utf8");
  const signature =
    options.signature === null
      ? undefined
      : (options.signature ?? sign(options.secret ?? WEBHOOK_SECRET, raw));
  const headers: Record<string, string> = {
    "Content-Type": options.contentType ?? "application/json",
    "User-Agent": "GitHub-Hookshot/044aadd",
    "X-GitHub-Event": options.event ?? "push",
    "X-GitHub-Delivery": options.deliveryId ?? randomUUID(),
    "X-GitHub-Hook-ID": "292430182",
    ...(signature === undefined ? {} : { "X-Hub-Signature-256": signature }),
    ...options.headers,
  };
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) multiValueHeaders[name] = [value];
  Object.assign(multiValueHeaders, options.multiValueHeaders);
  for (const [name, values] of Object.entries(options.multiValueHeaders ?? {})) {
    headers[name] = values[values.length - 1] as string;
  }
  const path = options.path ?? "/hooks/api-build";
  return {
    resource: path,
    path,
    httpMethod: options.method ?? "POST",
    headers,
    multiValueHeaders,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: options.base64 ? raw.toString("base64") : raw.toString("utf8"),
    isBase64Encoded: options.base64 === true,
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdef1234",
      authorizer: null,
      protocol: "HTTP/1.1",
      httpMethod: options.method ?? "POST",
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: options.sourceIp ?? "140.82.115.10",
        user: null,
        userAgent: "GitHub-Hookshot/044aadd",
        userArn: null,
      },
      path: `/prod${path}`,
      stage: "prod",
      requestId: randomUUID(),
      requestTimeEpoch: 1_700_000_000_000,
      resourceId: "abc123",
      resourcePath: path,
    },
  };
}

export interface ParsedAnswer {
  statusCode: number;
  body: { status: string; route: string; delivery: string | null; reason?: string };
  headers: Record<string, unknown>;
}

export function parseAnswer(result: {
  statusCode: number;
  body: string;
  headers?: Record<string, unknown>;
}): ParsedAnswer {
  return { statusCode: result.statusCode, body: JSON.parse(result.body), headers: result.headers ?? {} };
}

// -------------------------------------------------------------------------------------------------
// SQS events and queue doubles
// -------------------------------------------------------------------------------------------------

let messageCounter = 0;

export function sqsRecord(
  body: string,
  options: { receiveCount?: number; group?: string; id?: string } = {},
): SQSRecord {
  const id = options.id ?? `msg-${++messageCounter}`;
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: "1700000000000",
      SenderId: "AROAEXAMPLE",
      ApproximateFirstReceiveTimestamp: "1700000000000",
      ...(options.group === undefined ? {} : { MessageGroupId: options.group, MessageDeduplicationId: id }),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:hookgate-api-build.fifo",
    awsRegion: "eu-west-1",
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export function workItem(overrides: Partial<WorkItem> = {}, repo = "acme/api"): WorkItem {
  const [owner = "acme", name = "api"] = repo.split("/");
  const deliveryId = overrides.deliveryId ?? randomUUID();
  return {
    v: 1,
    route: "api-build",
    deliveryId,
    generation: 1,
    acceptedAt: "2026-01-01T00:00:00.000Z",
    event: {
      provider: "github",
      deliveryId,
      event: "push",
      repo: { owner, name, fullName: repo },
      ref: "refs/heads/main",
      branch: "main",
      sha: SHA,
      deleted: false,
    },
    request: {
      type: "jenkins",
      jenkins: { url: "https://jenkins.internal.example.com", credentials: "hookgate/jenkins", crumb: false },
      job: ["api", "build"],
      parameters: { SHA, DELIVERY: deliveryId },
    },
    ...overrides,
  };
}

/** A WorkQueue that records what was sent and can be made to fail. */
export class RecordingQueue implements WorkQueue {
  readonly sent: WorkItem[] = [];
  failuresLeft = 0;

  async send(item: WorkItem): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error("SQS SendMessage to the work queue failed: ServiceUnavailable");
    }
    this.sent.push(structuredClone(item));
  }
}

export class RecordingDeadLetters implements DeadLetterQueue {
  readonly items: Array<{ item: WorkItem; reason: string; messageId?: string }> = [];
  readonly raw: Array<{ body: string; reason: string }> = [];
  failuresLeft = 0;

  async send(item: WorkItem, reason: string, messageId?: string): Promise<void> {
    this.fail();
    this.items.push({ item: structuredClone(item), reason, ...(messageId ? { messageId } : {}) });
  }

  async sendRaw(body: string, reason: string): Promise<void> {
    this.fail();
    this.raw.push({ body, reason });
  }

  private fail(): void {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error("SQS SendMessage to the dead-letter queue failed: ServiceUnavailable");
    }
  }
}

export class LogCollector {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly log = (line: Record<string, unknown>) => {
    // Round-trip through JSON, as CloudWatch would see it.
    this.lines.push(JSON.parse(JSON.stringify(line)));
  };

  of(msg: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.msg === msg);
  }

  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join("\n");
  }
}
