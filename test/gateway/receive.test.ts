import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  ActionError,
  SecretNotFoundError,
  TransientDependencyError,
  WorkItemTooLargeError,
} from "../../src/core/errors";
import { headerBag } from "../../src/core/headers";
import { FROM_HOST_FIELD } from "../../src/core/logLines";
import { MAX_BODY_BYTES } from "../../src/core/policy";
import type { ClaimResult, DedupeStore, DeliveryState, SecretStore, WorkQueue } from "../../src/core/ports";
import type { Route, WorkItem } from "../../src/core/types";
import { signatureHeaders } from "../../src/core/verify/sign";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler, hookRouteName, isSqsEvent } from "../../src/gateway/routeHandler";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { loadPayload } from "../fixtures/payloads";
import { MemorySecretStore } from "../support/secrets";
import {
  type DeliveryOptions,
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  pushPayload,
  RecordingDeadLetters,
  RecordingQueue,
  SHA,
  sign,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
} from "./support";

const SECRET_NAME = "hookgate/github-webhook";

function harness(
  options: {
    route?: Route;
    secrets?: SecretStore;
    dedupe?: DedupeStore;
    now?: () => number;
    /** In place of the recording queue (which `queue` still returns, unused). */
    queue?: WorkQueue;
    receiveTimeoutMs?: number;
  } = {},
) {
  const secrets = options.secrets ?? new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET });
  const queue = new RecordingQueue();
  const deadLetters = new RecordingDeadLetters();
  const dedupe = options.dedupe ?? new MemoryDedupeStore({ now: options.now });
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route: options.route ?? jenkinsRoute(),
    secrets,
    queue: options.queue ?? queue,
    deadLetters,
    dedupe,
    runAction: async () => {
      throw new Error("runAction must not be called at receive time");
    },
    log: logs.log,
    now: options.now,
    receiveTimeoutMs: options.receiveTimeoutMs,
  });
  const receive = async (delivery: DeliveryOptions = {}) =>
    parseAnswer(await handler.receive(githubDelivery(delivery)));
  return { handler, receive, secrets, queue, deadLetters, dedupe, logs };
}

/** A SecretStore that serves `cached` until asked to refresh, then `fresh`; it records every call. */
class RotatingSecretStore implements SecretStore {
  readonly calls: Array<{ name: string; refresh: boolean }> = [];
  constructor(
    private readonly cached: string[],
    private readonly fresh: string[],
  ) {}
  async versions(name: string, options?: { refresh?: boolean }): Promise<string[]> {
    this.calls.push({ name, refresh: options?.refresh === true });
    return options?.refresh ? this.fresh : this.cached;
  }
}

/**
 * A SecretStore whose cache a test controls: peek() hands out `atHand` (plain and refresh peeks
 * separately), versions() serves `stored`. Every call is recorded.
 */
class PeekableSecretStore implements SecretStore {
  readonly calls: string[] = [];
  constructor(
    private readonly stored: string[],
    private readonly atHand: { plain?: string[]; refresh?: string[] },
  ) {}
  async versions(_name: string, options?: { refresh?: boolean }): Promise<string[]> {
    this.calls.push(options?.refresh ? "versions(refresh)" : "versions");
    return this.stored;
  }
  peek(_name: string, options?: { refresh?: boolean }): readonly string[] | undefined {
    this.calls.push(options?.refresh ? "peek(refresh)" : "peek");
    return options?.refresh ? this.atHand.refresh : this.atHand.plain;
  }
}

const pingPayload = {
  zen: "Keep it logically awesome.",
  hook_id: 292430182,
  hook: { type: "Repository", id: 292430182, events: ["push"], config: { content_type: "json" } },
  repository: pushPayload().repository,
  sender: { login: "octocat" },
};

describe("Function: createRouteHandler(deps).receive (the HTTP contract)", () => {
  interface ContractCase {
    title: string;
    delivery: DeliveryOptions;
    route?: Route;
    statusCode: number;
    status: string;
    reason?: RegExp;
    queued: number;
  }
  const big = "x".repeat(MAX_BODY_BYTES + 1);
  const ipRoute = jenkinsRoute({
    auth: { allowIps: ["104.192.136.0/21"], allowSha1: false, toleranceSeconds: 300 },
  });
  const cases: ContractCase[] = [
    {
      title: "202 queued for a signed push that matches",
      delivery: {},
      statusCode: 202,
      status: "queued",
      queued: 1,
    },
    {
      // API Gateway hands a text body over as a string: it must be hashed as UTF-8, never latin-1.
      title: "202 queued for a signed push with ç, emoji and U+2028 in a text (not base64) body",
      delivery: { body: JSON.stringify({ ...pushPayload(), head_commit: { message: "ça 🚀 \u2028 fin" } }) },
      statusCode: 202,
      status: "queued",
      queued: 1,
    },
    {
      title: "202 queued for a signed push delivered base64-encoded (isBase64Encoded)",
      delivery: { base64: true },
      statusCode: 202,
      status: "queued",
      queued: 1,
    },
    {
      title: "200 ignored, with the reason, for a push to a branch the route does not build",
      delivery: { payload: pushPayload({ branch: "feature/x" }) },
      statusCode: 200,
      status: "ignored",
      reason: /feature\/x/,
      queued: 0,
    },
    {
      title: "200 ignored (never 4xx) for an event the route does not handle",
      delivery: { event: "issues", payload: { action: "opened", repository: pushPayload().repository } },
      statusCode: 200,
      status: "ignored",
      queued: 0,
    },
    {
      title: "200 pong for a verified ping",
      delivery: { event: "ping", payload: pingPayload },
      statusCode: 200,
      status: "pong",
      queued: 0,
    },
    {
      title: "400 for malformed JSON with a valid signature",
      delivery: { body: '{"ref": "refs/heads/main",' },
      statusCode: 400,
      status: "rejected",
      queued: 0,
    },
    {
      title: "400 for an empty body with a valid signature",
      delivery: { body: "" },
      statusCode: 400,
      status: "rejected",
      queued: 0,
    },
    {
      title: "400 for a form-encoded body with a valid signature but no payload field",
      delivery: { body: "other=1", contentType: "application/x-www-form-urlencoded" },
      statusCode: 400,
      status: "rejected",
      queued: 0,
    },
    {
      // The signature covers the body, not Content-Type: a captured issue delivery whose title carries
      // "&payload=<a push>&" must not turn into that push when it is replayed as a form.
      title:
        "400, queueing nothing, for a signed JSON delivery replayed as a form with a payload planted in a string",
      delivery: {
        event: "push",
        contentType: "application/x-www-form-urlencoded",
        body: JSON.stringify({
          action: "opened",
          issue: {
            title: `x&payload=${encodeURIComponent(JSON.stringify(pushPayload({ after: "f".repeat(40) })))}&`,
          },
          repository: pushPayload().repository,
        }),
      },
      statusCode: 400,
      status: "rejected",
      queued: 0,
    },
    {
      title: "202 queued for a form-encoded payload=... body, verified over the raw form bytes",
      delivery: {
        body: `payload=${encodeURIComponent(JSON.stringify(pushPayload()))}`,
        contentType: "application/x-www-form-urlencoded",
      },
      statusCode: 202,
      status: "queued",
      queued: 1,
    },
    {
      title: "401 when the signature is missing",
      delivery: { signature: null },
      statusCode: 401,
      status: "rejected",
      reason: /signature/,
      queued: 0,
    },
    {
      title: "401 for a signature made with another secret",
      delivery: { secret: "another secret" },
      statusCode: 401,
      status: "rejected",
      queued: 0,
    },
    {
      title: "401 for an HMAC computed over the base64 text instead of the decoded bytes",
      delivery: {
        base64: true,
        signature: sign(
          WEBHOOK_SECRET,
          Buffer.from(Buffer.from(JSON.stringify(pushPayload())).toString("base64")),
        ),
      },
      statusCode: 401,
      status: "rejected",
      queued: 0,
    },
    {
      title: "401 when multiValueHeaders carries two signature values (one of them valid)",
      delivery: {
        multiValueHeaders: {
          "X-Hub-Signature-256": [
            sign(WEBHOOK_SECRET, Buffer.from(JSON.stringify(pushPayload()))),
            `sha256=${"0".repeat(64)}`,
          ],
        },
      },
      statusCode: 401,
      status: "rejected",
      queued: 0,
    },
    {
      title: "401 when the delivery id header is repeated",
      delivery: { multiValueHeaders: { "X-GitHub-Delivery": ["a-1", "a-2"] } },
      statusCode: 401,
      status: "rejected",
      queued: 0,
    },
    {
      title: "401 (not 415) for an unsupported content type without a valid signature",
      delivery: { contentType: "text/plain", secret: "wrong" },
      statusCode: 401,
      status: "rejected",
      queued: 0,
    },
    {
      title: "403 for an unsigned delivery from outside the route's IP allowlist",
      route: ipRoute,
      delivery: { signature: null, sourceIp: "203.0.113.9" },
      statusCode: 403,
      status: "rejected",
      queued: 0,
    },
    {
      title: "403 even when X-Forwarded-For claims an allowed address (only sourceIp counts)",
      route: ipRoute,
      delivery: { signature: null, sourceIp: "203.0.113.9", headers: { "X-Forwarded-For": "104.192.136.5" } },
      statusCode: 403,
      status: "rejected",
      queued: 0,
    },
    {
      title: "202 for an unsigned delivery whose sourceIp is in the allowlist",
      route: ipRoute,
      delivery: { signature: null, sourceIp: "104.192.137.200" },
      statusCode: 202,
      status: "queued",
      queued: 1,
    },
    {
      title: "404 for another route's path",
      delivery: { path: "/hooks/other-route" },
      statusCode: 404,
      status: "rejected",
      queued: 0,
    },
    {
      title: "404 for a path outside /hooks/",
      delivery: { path: "/admin" },
      statusCode: 404,
      status: "rejected",
      queued: 0,
    },
    {
      title: "405 for GET",
      delivery: { method: "GET" },
      statusCode: 405,
      status: "rejected",
      queued: 0,
    },
    {
      title: "413 for a body over the limit",
      delivery: { body: big },
      statusCode: 413,
      status: "rejected",
      queued: 0,
    },
    {
      title: "413 for a base64 body that decodes to more than the limit",
      delivery: { body: big, base64: true },
      statusCode: 413,
      status: "rejected",
      queued: 0,
    },
    {
      title: "415 for a verified delivery with an unsupported content type",
      delivery: { contentType: "text/plain" },
      statusCode: 415,
      status: "rejected",
      queued: 0,
    },
  ];

  for (const c of cases) {
    it(`receive answers ${c.title}`, async () => {
      const h = harness({ route: c.route });
      const answer = await h.receive(c.delivery);
      expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(c.statusCode);
      expect(answer.body.status).to.equal(c.status);
      expect(answer.body.route).to.equal("api-build");
      if (c.reason) expect(answer.body.reason).to.match(c.reason);
      expect(answer.headers["content-type"]).to.match(/^application\/json/);
      expect(h.queue.sent).to.have.length(c.queued);
      // Exactly one log line per delivery, with its status.
      const lines = h.logs.of("delivery");
      expect(lines).to.have.length(1);
      expect(lines[0]?.status).to.equal(c.statusCode);
    });
  }

  it("receive queues a push from Acme/API on a route written acme/api, and the item keeps the name as the host sent it", async () => {
    const h = harness();
    const answer = await h.receive({ payload: pushPayload({ repo: "Acme/API" }) });
    expect([answer.statusCode, answer.body.status], JSON.stringify(answer.body)).to.deep.equal([
      202,
      "queued",
    ]);
    expect(h.queue.sent.map((item) => item.event.repo.fullName)).to.deep.equal(["Acme/API"]);
  });

  it("receive answers 405 with an Allow: POST header", async () => {
    const answer = await harness().receive({ method: "PUT" });
    expect(answer.headers.allow).to.equal("POST");
  });

  it("receive queues a WorkItem with the rendered request, the event without payload, generation 1", async () => {
    const h = harness({ now: () => Date.parse("2026-03-01T10:00:00Z") });
    const answer = await h.receive({ deliveryId: "d-202" });
    expect(answer.body).to.deep.include({ status: "queued", delivery: "d-202" });
    const item = h.queue.sent[0];
    expect(item).to.deep.include({ v: 1, route: "api-build", deliveryId: "d-202", generation: 1 });
    expect(item?.acceptedAt).to.equal("2026-03-01T10:00:00.000Z");
    expect(item?.event).not.to.have.property("payload");
    expect(item?.event).not.to.have.property("changedFiles");
    expect(item?.event).to.deep.include({ event: "push", branch: "main", sha: SHA });
    expect(item?.request).to.deep.include({ type: "jenkins", job: ["api", "build"] });
    const request = item?.request as { parameters: Record<string, string> } | undefined;
    expect(request?.parameters).to.deep.equal({
      BRANCH: "main",
      SHA,
      DELIVERY: "d-202",
    });
  });

  it("receive gives a redelivery of a delivery that died the time it was first accepted, so s3-zip orders it as the old push it is", async () => {
    let clock = Date.parse("2026-03-01T10:00:00Z");
    const h = harness({ now: () => clock });
    expect((await h.receive({ deliveryId: "d-again" })).statusCode).to.equal(202);
    await h.dedupe.mark("api-build", "d-again", 1, "dead");
    clock += 3_600_000; // an hour later, the host's Redeliver
    expect((await h.receive({ deliveryId: "d-again" })).statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => [item.generation, item.acceptedAt])).to.deep.equal([
      [1, "2026-03-01T10:00:00.000Z"],
      [2, "2026-03-01T10:00:00.000Z"],
    ]);
  });

  it("receive gives a claim that carries no first time (an item written before the store kept one) the time it is accepted now", async () => {
    const clock = Date.parse("2026-03-01T11:00:00Z");
    const dedupe: DedupeStore = {
      claim: async () => ({ claimed: true, generation: 2 }),
      mark: async () => {},
      release: async () => {},
    };
    const h = harness({ dedupe, now: () => clock });
    expect((await h.receive({ deliveryId: "d-old-item" })).statusCode).to.equal(202);
    expect(h.queue.sent.map((item) => [item.generation, item.acceptedAt])).to.deep.equal([
      [2, "2026-03-01T11:00:00.000Z"],
    ]);
  });

  it("receive accepts a delivery signed with the previous secret during rotation (AWSPREVIOUS)", async () => {
    const secrets = new MemorySecretStore({ [SECRET_NAME]: ["new secret", "old secret"] });
    const h = harness({ secrets });
    expect((await h.receive({ secret: "old secret" })).statusCode).to.equal(202);
    expect((await h.receive({ secret: "new secret" })).statusCode).to.equal(202);
  });

  it("receive accepts every value of a JSON secret that holds several", async () => {
    const secrets = new MemorySecretStore({ [SECRET_NAME]: JSON.stringify(["one", "two"]) });
    const h = harness({ secrets });
    expect((await h.receive({ secret: "two" })).statusCode).to.equal(202);
  });

  it("receive refreshes the secret once on a mismatch and accepts a delivery signed with a just-rotated secret", async () => {
    const secrets = new RotatingSecretStore(["stale secret"], ["rotated secret", "stale secret"]);
    const h = harness({ secrets });
    expect((await h.receive({ secret: "rotated secret" })).statusCode).to.equal(202);
    expect(secrets.calls).to.deep.equal([
      { name: SECRET_NAME, refresh: false },
      { name: SECRET_NAME, refresh: true },
    ]);
  });

  it("receive refreshes at most once before rejecting a wrong signature with 401", async () => {
    const secrets = new RotatingSecretStore(["a"], ["b"]);
    const h = harness({ secrets });
    expect((await h.receive({ secret: "c" })).statusCode).to.equal(401);
    expect(secrets.calls.filter((c) => c.refresh)).to.have.length(1);
  });

  it("receive verifies with the secret a store has at hand (peek), without fetching it", async () => {
    const secrets = new PeekableSecretStore(["never fetched"], { plain: [WEBHOOK_SECRET] });
    const h = harness({ secrets });
    expect((await h.receive({ deliveryId: "d-peeked" })).statusCode).to.equal(202);
    expect(secrets.calls).to.deep.equal(["peek"]);
  });

  it("receive rejects a wrong signature after a refresh peek that has the same versions, fetching nothing", async () => {
    const secrets = new PeekableSecretStore(["never fetched"], {
      plain: [WEBHOOK_SECRET],
      refresh: [WEBHOOK_SECRET],
    });
    const h = harness({ secrets });
    expect((await h.receive({ secret: "another secret" })).statusCode).to.equal(401);
    expect(secrets.calls).to.deep.equal(["peek", "peek(refresh)"]);
  });

  it("receive fetches through versions() when peek has nothing at hand, and accepts a just-rotated secret", async () => {
    const secrets = new PeekableSecretStore(["rotated secret"], { plain: ["stale secret"] });
    const h = harness({ secrets });
    expect((await h.receive({ secret: "rotated secret" })).statusCode).to.equal(202);
    expect(secrets.calls).to.deep.equal(["peek", "peek(refresh)", "versions(refresh)"]);
  });

  it("receive does not refresh the secret when the signature is merely missing", async () => {
    const secrets = new RotatingSecretStore(["a"], ["b"]);
    const h = harness({ secrets });
    expect((await h.receive({ signature: null })).statusCode).to.equal(401);
    expect(secrets.calls.filter((c) => c.refresh)).to.have.length(0);
  });

  it("receive answers 503, never 401, when Secrets Manager is throttled, and accepts nothing", async () => {
    const secrets = new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }).throttle();
    const h = harness({ secrets });
    const answer = await h.receive({ deliveryId: "d-throttled" });
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.status).to.equal("unavailable");
    expect(answer.headers["retry-after"]).to.be.a("string");
    expect(h.queue.sent).to.have.length(0);
    secrets.heal();
    expect((await h.receive({ deliveryId: "d-throttled" })).statusCode).to.equal(202);
  });

  it("receive answers 503, never 401, when the refresh after a mismatch is throttled", async () => {
    let calls = 0;
    const secrets: SecretStore = {
      async versions(_name, options) {
        calls++;
        if (options?.refresh) throw new TransientDependencyError("throttled");
        return ["stale"];
      },
    };
    const answer = await harness({ secrets }).receive({ secret: "rotated" });
    expect(answer.statusCode).to.equal(503);
    expect(calls).to.equal(2);
  });

  it("receive fails closed with 401 when the webhook secret does not exist, and logs the secret's name", async () => {
    const secrets: SecretStore = {
      async versions(name) {
        throw new SecretNotFoundError(name);
      },
    };
    const h = harness({ secrets });
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(401);
    const loud = h.logs.lines.find((l) => l.level === "error" && l.secret === SECRET_NAME);
    expect(loud, h.logs.text()).to.not.equal(undefined);
  });

  for (const stored of ["   ", "[]", '{"secret": ""}']) {
    it(`receive fails closed with 401 when the webhook secret holds no value (${stored}), and logs the secret's name`, async () => {
      const h = harness({ secrets: new MemorySecretStore({ [SECRET_NAME]: stored }) });
      const answer = await h.receive();
      expect(answer.statusCode).to.equal(401);
      const loud = h.logs.lines.find(
        (l) => l.level === "error" && l.secret === SECRET_NAME && String(l.msg).includes("no usable value"),
      );
      expect(loud, h.logs.text()).to.not.equal(undefined);
    });
  }

  it("receive answers 503 when SQS is down, releases the claim, and the host's redelivery is then queued as the same generation", async () => {
    const h = harness();
    h.queue.failuresLeft = 1;
    const first = await h.receive({ deliveryId: "d-sqs" });
    expect(first.statusCode).to.equal(503);
    expect(h.queue.sent).to.have.length(0);
    const second = await h.receive({ deliveryId: "d-sqs" });
    expect(second.statusCode).to.equal(202);
    expect(h.queue.sent).to.have.length(1);
    // The same generation, so the same SQS deduplication id: had the failed send reached the queue after
    // all (its answer lost), SQS would drop this second message rather than queue the delivery twice.
    expect(h.queue.sent[0]?.generation).to.equal(1);
  });

  it("receive answers 503 when the dedupe store is down, and enqueues nothing", async () => {
    const dedupe: DedupeStore = {
      claim: async () => {
        throw new TransientDependencyError(
          "DynamoDB dedupe claim failed: ProvisionedThroughputExceededException",
        );
      },
      mark: async () => {},
      release: async () => {},
    };
    const h = harness({ dedupe });
    expect((await h.receive()).statusCode).to.equal(503);
    expect(h.queue.sent).to.have.length(0);
  });

  it("receive answers 200 duplicate for the same delivery id after success, and sends nothing twice", async () => {
    const h = harness();
    expect((await h.receive({ deliveryId: "d-dup" })).statusCode).to.equal(202);
    await h.dedupe.mark("api-build", "d-dup", 1, "done");
    const again = await h.receive({ deliveryId: "d-dup" });
    expect(again.statusCode).to.equal(200);
    expect(again.body).to.deep.include({ status: "duplicate", delivery: "d-dup" });
    expect(h.queue.sent).to.have.length(1);
    // Its log line gives the answer's reason, not the match that came before it.
    const lines = h.logs.lines.filter((l) => l.msg === "delivery" && l.deliveryId === "d-dup");
    expect(String(lines[0]?.reason)).to.match(/^matched/);
    expect(lines[1]?.reason)
      .to.equal((again.body as { reason?: string }).reason)
      .and.not.match(/^matched/);
  });

  it("deliver answers 200 duplicate for a signed GitLab delivery replayed with another Idempotency-Key (webhook-id is the signed id)", async () => {
    const signing = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const clock = 1_770_000_000_000;
    const route = jenkinsRoute({
      provider: "gitlab",
      secret: "hookgate/gitlab-webhook",
      match: { repos: ["mike/diaspora"], events: ["push"], branches: ["master"] },
    });
    const h = harness({
      route,
      secrets: new MemorySecretStore({ "hookgate/gitlab-webhook": signing }),
      now: () => clock,
    });
    const push = loadPayload("gitlab/push");
    const id = "0f5e6d1c-7b9a-4c2e-8d3f-1a2b3c4d5e6f";
    // GitLab sends webhook-id equal to Idempotency-Key; only webhook-id is covered by the signature.
    const sent = {
      ...push.headers,
      "Idempotency-Key": id,
      ...signatureHeaders("gitlab", signing, push.body, { id, nowMs: clock }),
    };
    const deliver = (headers: Record<string, string>) =>
      h.handler.deliver({
        routeName: route.name,
        method: "POST",
        headers: headerBag(headers),
        body: push.body,
        sourceIp: "34.74.90.65",
      });
    expect((await deliver(sent)).statusCode).to.equal(202);
    // A captured copy replayed inside the timestamp tolerance, with the unsigned ids made fresh.
    const replay = await deliver({
      ...sent,
      "Idempotency-Key": randomUUID(),
      "X-Gitlab-Event-UUID": randomUUID(),
    });
    expect(replay.statusCode, JSON.stringify(replay.body)).to.equal(200);
    expect(replay.body).to.deep.include({ status: "duplicate", delivery: id });
    expect(h.queue.sent).to.have.length(1);
  });

  it("deliver refuses a signed GitLab delivery stamped 10 minutes ago (401, the log says by how much), and processes its resend under the same webhook-id", async () => {
    const signing = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const clock = 1_770_000_000_000;
    const route = jenkinsRoute({
      provider: "gitlab",
      secret: "hookgate/gitlab-webhook",
      match: { repos: ["mike/diaspora"], events: ["push"], branches: ["master"] },
    });
    const h = harness({
      route,
      secrets: new MemorySecretStore({ "hookgate/gitlab-webhook": signing }),
      now: () => clock,
    });
    const push = loadPayload("gitlab/push");
    const id = "5c1d7e2a-3b4f-4a6c-9d8e-7f6a5b4c3d2e";
    const attempt = (sentAt: number) =>
      h.handler.deliver({
        routeName: route.name,
        method: "POST",
        headers: headerBag({
          ...push.headers,
          "Idempotency-Key": id,
          ...signatureHeaders("gitlab", signing, push.body, { id, nowMs: sentAt }),
        }),
        body: push.body,
        sourceIp: "34.74.90.65",
      });
    const refused = await attempt(clock - 600_000);
    expect(refused.statusCode).to.equal(401);
    expect(refused.body).to.deep.include({ reason: "signature timestamp too old" });
    const line = h.logs.lines.find((l) => l.msg === "delivery" && l.status === 401);
    expect(String(line?.detail)).to.include("600 s behind").and.include("auth.toleranceSeconds (300)");
    // GitLab's Resend request: the same Idempotency-Key (webhook-id), signed when it is sent.
    const resent = await attempt(clock);
    expect(resent.statusCode, JSON.stringify(resent.body)).to.equal(202);
    expect(h.queue.sent).to.have.length(1);
  });

  it("receive answers 200 duplicate while the first copy is still queued", async () => {
    const h = harness();
    await h.receive({ deliveryId: "d-q" });
    expect((await h.receive({ deliveryId: "d-q" })).body.status).to.equal("duplicate");
    expect(h.queue.sent).to.have.length(1);
  });

  it("receive processes a manual redelivery of a delivery that DIED, as generation 2", async () => {
    const h = harness();
    await h.receive({ deliveryId: "d-dead" });
    await h.dedupe.mark("api-build", "d-dead", 1, "dead");
    const again = await h.receive({ deliveryId: "d-dead" });
    expect(again.statusCode).to.equal(202);
    expect(h.queue.sent.map((i) => i.generation)).to.deep.equal([1, 2]);
  });

  it("receive answers 503 (not duplicate) while another request holds a fresh pending claim, and reclaims it once abandoned", async () => {
    let clock = 1_800_000_000_000;
    const dedupe = new MemoryDedupeStore({ now: () => clock });
    const claim: ClaimResult = await dedupe.claim("api-build", "d-abandoned");
    expect(claim.claimed).to.equal(true);
    const h = harness({ dedupe });
    // Still being accepted elsewhere: 503, so nothing is lost if that request dies.
    const inProgress = await h.receive({ deliveryId: "d-abandoned" });
    expect(inProgress.statusCode).to.equal(503);
    expect(h.queue.sent).to.have.length(0);
    clock += 61_000;
    expect((await h.receive({ deliveryId: "d-abandoned" })).statusCode).to.equal(202);
  });

  it("receive answers 500 with the reason when the work item is too large for the queue, and releases the claim so a redelivery is queued once the route renders less", async () => {
    let refuse = true;
    const sent: WorkItem[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue: {
        send: async (item) => {
          if (refuse) throw new WorkItemTooLargeError(1_100_000, 1_040_384);
          sent.push(item);
        },
      },
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: () => {},
    });
    const first = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-big" })));
    expect(first.statusCode).to.equal(500);
    expect(first.body).to.deep.include({
      status: "error",
      reason:
        "the work item is 1100000 bytes, more than the 1040384 a work item may take (SQS's 1 MiB, less room for its dead letter's reason): the route's templates " +
        "render too much of the payload; render less, then redeliver",
    });
    refuse = false;
    const again = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-big" })));
    expect(again.statusCode).to.equal(202);
    expect(sent).to.have.length(1);
  });

  it("receive answers 503 when a dependency hangs past the receive deadline", async () => {
    const h = harness({ queue: { send: () => new Promise<void>(() => {}) }, receiveTimeoutMs: 50 });
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.status).to.equal("unavailable");
  });

  it("receive still answers 503 for a hung delivery that deliveries finished after it have overtaken, and again for the next one", async () => {
    const hung = new Set(["d-hung-1", "d-hung-2"]);
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue: {
        send: (item) => (hung.has(item.deliveryId) ? new Promise<void>(() => {}) : Promise.resolve()),
      },
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: () => {},
      receiveTimeoutMs: 80,
    });
    const send = async (deliveryId: string) =>
      parseAnswer(await handler.receive(githubDelivery({ deliveryId }))).statusCode;
    const first = send("d-hung-1");
    expect(await Promise.all([send("d-quick-1"), send("d-quick-2"), send("d-quick-3")])).to.deep.equal([
      202, 202, 202,
    ]);
    expect(await first).to.equal(503);
    expect(await send("d-quick-4")).to.equal(202);
    expect(await send("d-hung-2")).to.equal(503);
  });

  it("receive answers 500 with a generic body on an unexpected error, logging the error, not the body", async () => {
    const dedupe: DedupeStore = {
      claim: async () => {
        throw new TypeError("cannot read properties of undefined (reading 'S')");
      },
      mark: async () => {},
      release: async () => {},
    };
    const h = harness({ dedupe });
    const answer = await h.receive();
    expect(answer.statusCode).to.equal(500);
    expect(answer.body).to.deep.include({ status: "error", reason: "internal error" });
    const line = h.logs.of("delivery")[0];
    expect(String(line?.error)).to.contain("TypeError");
    expect(h.logs.text()).not.to.contain("octocat");
  });

  it("receive logs one line per delivery with id, event, repository, ref, decision, reason and status", async () => {
    const h = harness();
    await h.receive({ deliveryId: "d-log", payload: pushPayload({ branch: "feature/x" }) });
    const [line] = h.logs.of("delivery");
    expect(line).to.deep.include({
      route: "api-build",
      deliveryId: "d-log",
      event: "push",
      repository: "acme/api",
      ref: "refs/heads/feature/x",
      decision: "ignored",
      status: 200,
    });
    expect(line?.reason).to.be.a("string");
  });

  // The fromHost flag tells an unsigned delivery from the Git host (its webhook lost its secret) from a scan.
  const rejectedSenders: Array<[string, Record<string, string>, boolean]> = [
    ["GitHub's own delivery headers and Hookshot user agent", {}, true],
    ["GitHub's delivery headers but another user agent", { "User-Agent": "curl/8.5.0" }, false],
  ];
  for (const [sender, headers, fromHost] of rejectedSenders) {
    it(`receive's line for an unsigned delivery with ${sender} ${fromHost ? "carries" : "does not carry"} ${FROM_HOST_FIELD}: true`, async () => {
      const h = harness();
      const answer = await h.receive({ deliveryId: "d-unsigned", signature: null, headers });
      expect(answer.statusCode).to.equal(401);
      const [line] = h.logs.of("delivery");
      expect(line).to.deep.include({ decision: "rejected", status: 401 });
      if (fromHost) expect(line).to.have.property(FROM_HOST_FIELD, true);
      else expect(line).to.not.have.property(FROM_HOST_FIELD);
    });
  }

  it("receive logs a rejected delivery with the event its header claims, and no repository until verified", async () => {
    const h = harness();
    await h.receive({ deliveryId: "d-bad", secret: "wrong-secret-value" });
    expect(h.logs.of("delivery")[0]).to.deep.include({
      deliveryId: "d-bad",
      event: "push",
      repository: null,
      decision: "rejected",
      status: 401,
    });
  });

  it("receive never logs the secret, the signature, the Authorization header or the body", async () => {
    const h = harness();
    const body = JSON.stringify(pushPayload());
    await h.receive({ body, headers: { Authorization: "Bearer ghp_topsecrettoken" } });
    await h.receive({ body, secret: "wrong-secret-value" });
    const text = h.logs.text();
    for (const forbidden of [
      WEBHOOK_SECRET,
      "wrong-secret-value",
      "ghp_topsecrettoken",
      sign(WEBHOOK_SECRET, Buffer.from(body)),
      "clone_url",
    ]) {
      expect(text).not.to.contain(forbidden);
    }
  });

  it("handle(event) dispatches an API Gateway event to receive", async () => {
    const h = harness();
    const result = (await h.handler.handle(githubDelivery())) as { statusCode: number };
    expect(result.statusCode).to.equal(202);
  });
});

describe("Function: createRouteHandler(deps): the work path finishing before the receive path records the delivery queued", () => {
  const stores: Array<[string, () => DedupeStore]> = [
    ["the in-memory store", () => new MemoryDedupeStore()],
    [
      "serve's file store",
      () => new FileDedupeStore(join(mkdtempSync(join(tmpdir(), "hookgate-race-")), "dedupe.jsonl")),
    ],
  ];
  for (const [what, makeStore] of stores) {
    it(`a delivery that died before its receive path recorded it queued is still accepted again when redelivered (${what})`, async () => {
      const dedupe = makeStore();
      const deadLetters = new RecordingDeadLetters();
      // The queue runs the work at once, as a fast consumer may before SendMessage's caller goes on.
      const queue: WorkQueue = {
        send: async (item) => {
          await handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
        },
      };
      const handler = createRouteHandler({
        route: jenkinsRoute(),
        secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
        queue,
        deadLetters,
        dedupe,
        runAction: async () => {
          throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
        },
        log: new LogCollector().log,
        backoff: async () => undefined,
      });
      const first = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "race-1" })));
      expect(first.statusCode).to.equal(202);
      expect(deadLetters.items).to.have.length(1);
      expect(await dedupe.state?.("api-build", "race-1")).to.deep.equal({ state: "dead", generation: 1 });

      const redelivered = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "race-1" })));
      expect(redelivered.statusCode).to.equal(202);
      expect(deadLetters.items).to.have.length(2);
    });
  }
});

describe("Function: createRouteHandler(deps).receive (answers, headers and log lines, one by one)", () => {
  const reasons: Array<[string, DeliveryOptions, number, string, string]> = [
    ["another route's path", { path: "/hooks/other-route" }, 404, "unknown route", "unknown-route"],
    [
      "a path with a segment after the route's",
      { path: "/hooks/api-build/extra" },
      404,
      "unknown route",
      "unknown-route",
    ],
    ["a GET", { method: "GET" }, 405, "only POST is accepted", "method-not-allowed"],
    [
      "a body over the limit",
      { body: "x".repeat(MAX_BODY_BYTES + 1) },
      413,
      `body larger than ${MAX_BODY_BYTES} bytes`,
      "too-large",
    ],
  ];
  for (const [label, delivery, statusCode, reason, decision] of reasons) {
    it(`receive answers ${label} ${statusCode} "${reason}", logged as ${decision} at level warn`, async () => {
      const h = harness();
      const answer = await h.receive({ ...delivery, deliveryId: "d-reason" });
      expect(answer.statusCode).to.equal(statusCode);
      expect(answer.body).to.deep.include({ status: "rejected", reason });
      expect(h.logs.of("delivery")[0]).to.deep.include({ decision, level: "warn", status: statusCode });
    });
  }

  it("receive answers 405 and 404 before reading the delivery id: their body's delivery is null", async () => {
    const h = harness();
    expect((await h.receive({ method: "GET", deliveryId: "d-get" })).body.delivery).to.equal(null);
    expect((await h.receive({ path: "/hooks/other", deliveryId: "d-other" })).body.delivery).to.equal(null);
  });

  it("receive answers a delivery without an HTTP method 405", async () => {
    const event = githubDelivery();
    (event as { httpMethod?: string }).httpMethod = undefined;
    const answer = parseAnswer(await harness().handler.receive(event));
    expect(answer.statusCode).to.equal(405);
  });

  it("receive answers an unsigned delivery without a request context 401, not 500", async () => {
    const event = githubDelivery({ signature: null });
    (event as { requestContext?: unknown }).requestContext = undefined;
    expect(parseAnswer(await harness().handler.receive(event)).statusCode).to.equal(401);
  });

  it("receive reads a null body as empty: a signed empty body is 400, not 500", async () => {
    const event = githubDelivery({ body: "" });
    (event as { body: string | null }).body = null;
    expect(parseAnswer(await harness().handler.receive(event)).statusCode).to.equal(400);
  });

  it("receive takes a body of exactly MAX_BODY_BYTES, as text and base64-encoded (not 413)", async () => {
    const payload = JSON.stringify(pushPayload());
    const body = `${payload.slice(0, -1)},"pad":"${"x".repeat(MAX_BODY_BYTES - payload.length - 9)}"}`;
    expect(Buffer.byteLength(body)).to.equal(MAX_BODY_BYTES);
    const h = harness();
    expect((await h.receive({ body, deliveryId: "d-max-text" })).statusCode).to.equal(202);
    expect((await h.receive({ body, base64: true, deliveryId: "d-max-base64" })).statusCode).to.equal(202);
  });

  it("receive answers a pong without a reason, and the body has no reason key at all", async () => {
    const h = harness();
    const answer = await h.handler.deliver({
      routeName: "api-build",
      method: "POST",
      headers: headerBag({
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d-ping",
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(WEBHOOK_SECRET, Buffer.from(JSON.stringify(pingPayload))),
      }),
      body: Buffer.from(JSON.stringify(pingPayload)),
      sourceIp: "140.82.115.10",
    });
    expect(answer.body).to.deep.equal({ status: "pong", route: "api-build", delivery: "d-ping" });
    expect(h.logs.of("delivery")[0]).to.deep.include({ decision: "pong", level: "info", reason: null });
  });

  it("receive answers 202 with the match as its reason, no Allow and no Retry-After header, logged at level info with the generation and how it was verified", async () => {
    const h = harness();
    const answer = await h.receive({ deliveryId: "d-ok" });
    expect(answer.statusCode).to.equal(202);
    expect(answer.body.reason).to.match(/^matched/);
    expect(answer.headers).to.deep.equal({ "content-type": "application/json; charset=utf-8" });
    const line = h.logs.of("delivery")[0];
    expect(line).to.deep.include({ level: "info", decision: "queued", generation: 1, via: "signature" });
    expect(line).not.to.have.property("error");
    expect(line).not.to.have.property("action");
  });

  it("receive logs a pull request's action and its ref as pull/<number>", async () => {
    const h = harness();
    const body = readFileSync(
      join(__dirname, "..", "fixtures", "payloads", "github", "pull_request-closed.json"),
    );
    await h.receive({ body, event: "pull_request", deliveryId: "d-pr" });
    expect(h.logs.of("delivery")[0]).to.deep.include({
      event: "pull_request",
      action: "closed",
      ref: "pull/2",
      decision: "ignored",
    });
  });

  it("receive answers a Secrets Manager outage 503 with Retry-After: 30, the reason, and the error in its log line at level error", async () => {
    const secrets = new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }).throttle();
    const h = harness({ secrets });
    const answer = await h.receive({ deliveryId: "d-down" });
    expect(answer.statusCode).to.equal(503);
    expect(answer.headers["retry-after"]).to.equal("30");
    expect(answer.body.reason).to.equal("a dependency is unavailable; redeliver later");
    const line = h.logs.of("delivery")[0];
    expect(line).to.deep.include({ decision: "unavailable", level: "error", status: 503 });
    expect(line?.error).to.be.a("string").and.not.equal("");
  });

  it("receive answers 503 in progress, with its reason, while another request holds the claim", async () => {
    const dedupe = new MemoryDedupeStore();
    await dedupe.claim("api-build", "d-held");
    const h = harness({ dedupe });
    const answer = await h.receive({ deliveryId: "d-held" });
    expect(answer.body).to.deep.equal({
      status: "unavailable",
      route: "api-build",
      delivery: "d-held",
      reason:
        "this delivery is being accepted by another request; redeliver it if it does not show as accepted",
    });
    expect(h.logs.of("delivery")[0]).to.deep.include({ decision: "in-progress", generation: 1 });
  });

  it("receive answers a duplicate with the state it found, logged as duplicate with its generation", async () => {
    const h = harness();
    await h.receive({ deliveryId: "d-twice" });
    const again = await h.receive({ deliveryId: "d-twice" });
    expect(again.body.reason).to.equal("this delivery was already accepted (queued)");
    expect(h.logs.of("delivery")[1]).to.deep.include({ decision: "duplicate", generation: 1, level: "info" });
  });

  it("receive answers 503 with its reason when SQS is down, logging the send's error", async () => {
    const h = harness();
    h.queue.failuresLeft = 1;
    const answer = await h.receive({ deliveryId: "d-sqs-reason" });
    expect(answer.body.status).to.equal("unavailable");
    expect(answer.body.reason).to.equal("could not enqueue the delivery; redeliver later");
    expect(h.logs.of("delivery")[0]).to.deep.include({
      decision: "unavailable",
      error: "SQS SendMessage to the work queue failed: ServiceUnavailable",
    });
  });

  it("receive still answers 503 when releasing the claim fails too, and logs both errors", async () => {
    const dedupe = new MemoryDedupeStore();
    dedupe.release = async () => {
      throw new TransientDependencyError("DynamoDB dedupe release failed: throttled");
    };
    const h = harness({ dedupe });
    h.queue.failuresLeft = 1;
    const answer = await h.receive({ deliveryId: "d-release" });
    expect(answer.statusCode).to.equal(503);
    expect(h.logs.of("delivery")[0]?.error).to.equal(
      "SQS SendMessage to the work queue failed: ServiceUnavailable; releasing the claim failed too: DynamoDB dedupe release failed: throttled",
    );
  });

  it("receive answers 202 when the item is queued but marking it queued fails: the delivery is ours, and the log says so", async () => {
    const dedupe = new MemoryDedupeStore();
    dedupe.mark = async () => {
      throw new TransientDependencyError("DynamoDB dedupe mark failed: throttled");
    };
    const h = harness({ dedupe });
    const answer = await h.receive({ deliveryId: "d-mark" });
    expect(answer.statusCode).to.equal(202);
    expect(h.queue.sent).to.have.length(1);
    expect(h.logs.of("delivery")[0]?.error).to.equal(
      "marking the delivery queued failed: DynamoDB dedupe mark failed: throttled",
    );
    // The claim stays pending: a redelivery now is answered 503 (in progress), never queued twice.
    expect((await h.receive({ deliveryId: "d-mark" })).statusCode).to.equal(503);
    expect(h.queue.sent).to.have.length(1);
  });

  it("receive answers 500 with the work item's size as its reason, logged at level error", async () => {
    const h = harness();
    h.queue.send = async () => {
      throw new WorkItemTooLargeError(1_100_000, 1_040_384);
    };
    const answer = await h.receive({ deliveryId: "d-too-big" });
    expect(answer.statusCode).to.equal(500);
    expect(h.logs.of("delivery")[0]).to.deep.include({ decision: "error", level: "error", status: 500 });
  });

  it("receive waits for dependencies that answer on a later turn of the event loop (the deadline is counted from now, not before)", async () => {
    const later = () => new Promise((resolve) => setTimeout(resolve, 5));
    const dedupe = new MemoryDedupeStore();
    const claim = dedupe.claim.bind(dedupe);
    dedupe.claim = async (route, id) => {
      await later();
      return claim(route, id);
    };
    const h = harness({ dedupe });
    const answers = await Promise.all(
      ["d-late-1", "d-late-2"].map((deliveryId) => h.receive({ deliveryId })),
    );
    expect(answers.map((a) => a.statusCode)).to.deep.equal([202, 202]);
    expect((await h.receive({ deliveryId: "d-late-3" })).statusCode).to.equal(202);
  });

  it("receive answers a hung dependency 503 with the timeout's reason, logged as timeout", async () => {
    const logs = new LogCollector();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue: { send: () => new Promise<void>(() => {}) },
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: logs.log,
      receiveTimeoutMs: 20,
    });
    const answer = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-hang" })));
    expect(answer.body.reason).to.equal("timed out waiting for a dependency; redeliver later");
    expect(logs.of("delivery")[0]).to.deep.include({ decision: "timeout", status: 503 });
  });

  /** A dedupe store whose "queued" mark fails, as a throttled DynamoDB UpdateItem does. */
  class QueuedMarkFails extends MemoryDedupeStore {
    override async mark(route: string, deliveryId: string, generation: number, state: DeliveryState) {
      if (state === "queued") throw new TransientDependencyError("DynamoDB dedupe mark failed: throttled");
      return super.mark(route, deliveryId, generation, state);
    }
  }

  /**
   * A handler whose queue send waits until `finish` is called (after the 20 ms deadline has answered 503), then
   * takes the item or fails; `late` resolves with the second delivery line.
   */
  function lateSendHarness(dedupe = new MemoryDedupeStore()) {
    let finish: (outcome: "sent" | Error) => void = () => {};
    const gate = new Promise<"sent" | Error>((resolve) => {
      finish = resolve;
    });
    let lateSeen: (line: Record<string, unknown>) => void = () => {};
    const late = new Promise<Record<string, unknown>>((resolve) => {
      lateSeen = resolve;
    });
    const logs = new LogCollector();
    const sent: WorkItem[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue: {
        send: async (item) => {
          const outcome = await gate;
          if (outcome instanceof Error) throw outcome;
          sent.push(item);
        },
      },
      deadLetters: new RecordingDeadLetters(),
      dedupe,
      runAction: async () => ({ status: "done", detail: "" }),
      log: (line) => {
        logs.log(line);
        if (line.late === true) lateSeen(JSON.parse(JSON.stringify(line)));
      },
      receiveTimeoutMs: 20,
    });
    return { handler, logs, sent, dedupe, finish, late };
  }

  it("receive writes a second delivery line (late, with the 503 it answered) saying queued when the enqueue the deadline cut off finishes after the answer", async () => {
    const h = lateSendHarness();
    const answer = parseAnswer(await h.handler.receive(githubDelivery({ deliveryId: "d-late-queued" })));
    expect(answer.statusCode).to.equal(503);
    expect(h.logs.of("delivery")).to.have.length(1);
    h.finish("sent");
    const late = await h.late;
    expect(h.sent).to.have.length(1);
    expect(late).to.deep.include({
      msg: "delivery",
      level: "info",
      deliveryId: "d-late-queued",
      decision: "queued",
      status: 503,
      late: true,
      generation: 1,
      reason: "queued after the timeout's 503: it will run, and its redelivery is answered duplicate",
    });
    expect(h.logs.of("delivery").map((l) => l.decision)).to.deep.equal(["timeout", "queued"]);
  });

  it("receive's late queued line, when the send ended after the 503 and the queued mark failed, says the claim was released at the 503: a redelivery is accepted at once as the same generation (same deduplication id)", async () => {
    const now = 1_800_000_000_000;
    const h = lateSendHarness(new QueuedMarkFails({ now: () => now }));
    const answer = parseAnswer(await h.handler.receive(githubDelivery({ deliveryId: "d-late-unmarked" })));
    expect(answer.statusCode).to.equal(503);
    h.finish("sent");
    const late = await h.late;
    expect(h.sent).to.have.length(1);
    expect(late).to.deep.include({
      decision: "queued",
      status: 503,
      late: true,
      generation: 1,
      reason:
        "queued after the timeout's 503, but marking it queued failed: it will run; its claim was released at the 503, so a redelivery is accepted again as this generation, which runs once",
      error: "marking the delivery queued failed: DynamoDB dedupe mark failed: throttled",
    });
    // As the line says: accepted again at once, as generation 1 (SQS drops the second message within 5 minutes).
    const again = parseAnswer(await h.handler.receive(githubDelivery({ deliveryId: "d-late-unmarked" })));
    expect(again.statusCode).to.equal(202);
    expect(h.sent.map((item) => item.generation)).to.deep.equal([1, 1]);
  });

  it("receive answers a redelivery 200 duplicate once the work recorded done, though the late enqueue's queued mark had failed", async () => {
    const h = lateSendHarness(new QueuedMarkFails());
    await h.handler.receive(githubDelivery({ deliveryId: "d-late-unmarked-done" }));
    h.finish("sent");
    await h.late;
    await h.handler.work(sqsEvent([sqsRecord(JSON.stringify(h.sent[0]))]));
    const again = parseAnswer(
      await h.handler.receive(githubDelivery({ deliveryId: "d-late-unmarked-done" })),
    );
    expect([again.statusCode, again.body.status]).to.deep.equal([200, "duplicate"]);
  });

  it("receive writes a second delivery line saying unavailable, with the error, when the enqueue the deadline cut off fails after the answer, and the claim is released for the redelivery", async () => {
    const h = lateSendHarness();
    const answer = parseAnswer(await h.handler.receive(githubDelivery({ deliveryId: "d-late-failed" })));
    expect(answer.statusCode).to.equal(503);
    h.finish(new Error("SQS SendMessage to the work queue failed: ServiceUnavailable"));
    const late = await h.late;
    expect(late).to.deep.include({
      level: "error",
      decision: "unavailable",
      status: 503,
      late: true,
      reason: "could not enqueue the delivery; redeliver later",
      error: "SQS SendMessage to the work queue failed: ServiceUnavailable",
    });
    expect(h.dedupe.peek("api-build", "d-late-failed")?.state).to.equal("pending"); // released: claimable
    expect((await h.dedupe.claim("api-build", "d-late-failed")).claimed).to.equal(true);
  });

  it("receive answers a missing webhook secret 401 'signature cannot be verified', and logs it as missing", async () => {
    const secrets: SecretStore = {
      async versions(name) {
        throw new SecretNotFoundError(name);
      },
    };
    const h = harness({ secrets });
    const answer = await h.receive();
    expect(answer.body.reason).to.equal("signature cannot be verified");
    expect(h.logs.lines.map((l) => l.msg)).to.include(
      "webhook secret missing: every delivery is rejected until it exists",
    );
  });

  it("receive logs a secret without a usable value once per delivery, not again for its refresh", async () => {
    const h = harness({ secrets: new MemorySecretStore({ [SECRET_NAME]: "   " }) });
    await h.receive({ deliveryId: "d-blank-1" });
    await h.receive({ deliveryId: "d-blank-2" });
    const loud = h.logs.lines.filter((l) => String(l.msg).includes("no usable value"));
    expect(loud).to.have.length(2);
  });

  it("receive on a route without a secret verifies by source IP alone, never asking the secret store", async () => {
    const calls: string[] = [];
    const secrets: SecretStore = {
      async versions(name) {
        calls.push(name);
        return [WEBHOOK_SECRET];
      },
      peek(name) {
        calls.push(name);
        return [WEBHOOK_SECRET];
      },
    };
    const route = jenkinsRoute({
      secret: undefined,
      auth: { allowIps: ["104.192.136.0/21"], allowSha1: false, toleranceSeconds: 300 },
    });
    const h = harness({ route, secrets });
    const answer = await h.receive({ signature: null, sourceIp: "104.192.137.200", deliveryId: "d-ip" });
    expect(answer.statusCode).to.equal(202);
    expect(h.logs.of("delivery")[0]).to.deep.include({ via: "ip-allowlist" });
    expect(calls).to.deep.equal([]);
  });

  it("receive logs at most 100 characters of the event a rejected delivery's header claims", async () => {
    const h = harness();
    await h.receive({ event: "e".repeat(300), secret: "wrong" });
    expect(h.logs.of("delivery")[0]?.event).to.equal("e".repeat(100));
  });

  it("receive still answers when the log sink throws", async () => {
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: () => {
        throw new Error("stdout closed");
      },
    });
    expect(parseAnswer(await handler.receive(githubDelivery())).statusCode).to.equal(202);
  });
});

describe("Function: createRouteHandler(deps).receive (log lines as the sink gets them, and secret versions)", () => {
  function rawHarness(options: { secrets?: SecretStore; dedupe?: DedupeStore } = {}) {
    const lines: Array<Record<string, unknown>> = [];
    const queue = new RecordingQueue();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: options.secrets ?? new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue,
      deadLetters: new RecordingDeadLetters(),
      dedupe: options.dedupe ?? new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: (line) => lines.push(line),
    });
    const receive = async (delivery: DeliveryOptions = {}) =>
      parseAnswer(await handler.receive(githubDelivery(delivery)));
    return { handler, lines, queue, receive };
  }

  it("receive hands the log sink no undefined field: what a delivery did not reach is left out", async () => {
    const h = rawHarness();
    await h.receive({ secret: "wrong", deliveryId: "d-raw" });
    const [line] = h.lines;
    expect(Object.entries(line ?? {}).filter(([, value]) => value === undefined)).to.deep.equal([]);
    for (const key of ["action", "via", "generation", "error"]) expect(line).not.to.have.property(key);
  });

  const decisions: Array<[string, DeliveryOptions, number, string, string]> = [
    ["malformed JSON with a valid signature", { body: '{"ref": ' }, 400, "rejected", "warn"],
    ["a wrong signature", { secret: "wrong" }, 401, "rejected", "warn"],
  ];
  for (const [label, delivery, status, decision, level] of decisions) {
    it(`receive logs ${label} as ${status}, decision ${decision}, level ${level}`, async () => {
      const h = rawHarness();
      await h.receive(delivery);
      expect(h.lines[0]).to.deep.include({ status, decision, level });
    });
  }

  it("receive logs an unexpected error as decision error, level error", async () => {
    const dedupe: DedupeStore = {
      claim: async () => {
        throw new TypeError("boom");
      },
      mark: async () => {},
      release: async () => {},
    };
    const h = rawHarness({ dedupe });
    await h.receive();
    expect(h.lines.at(-1)).to.deep.include({
      status: 500,
      decision: "error",
      level: "error",
      error: "TypeError: boom",
    });
  });

  it("receive logs a delivery refused for a missing webhook secret as decision rejected", async () => {
    const secrets: SecretStore = {
      async versions(name) {
        throw new SecretNotFoundError(name);
      },
    };
    const h = rawHarness({ secrets });
    await h.receive();
    expect(h.lines.find((l) => l.msg === "delivery")).to.deep.include({ status: 401, decision: "rejected" });
  });

  it("deliver answers bytes over the limit 413 with the limit as its reason, logged as too-large", async () => {
    const h = rawHarness();
    const answer = await h.handler.deliver({
      routeName: "api-build",
      method: "POST",
      headers: headerBag({ "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-big-buffer" }),
      body: Buffer.alloc(MAX_BODY_BYTES + 1),
      sourceIp: "140.82.115.10",
    });
    expect(answer.statusCode).to.equal(413);
    expect(answer.body.reason).to.equal(`body larger than ${MAX_BODY_BYTES} bytes`);
    expect(h.lines[0]).to.deep.include({ decision: "too-large" });
  });

  it("receive stops accepting the previous secret once its version is gone (the versions are compared in full)", async () => {
    let versions = ["new secret", "old secret"];
    const secrets: SecretStore = {
      async versions() {
        return versions;
      },
      peek() {
        return versions;
      },
    };
    const h = rawHarness({ secrets });
    expect((await h.receive({ secret: "old secret", deliveryId: "d-rot-1" })).statusCode).to.equal(202);
    versions = ["new secret"];
    expect((await h.receive({ secret: "old secret", deliveryId: "d-rot-2" })).statusCode).to.equal(401);
    expect((await h.receive({ secret: "new secret", deliveryId: "d-rot-3" })).statusCode).to.equal(202);
  });
});

describe("Function: hookRouteName", () => {
  const cases: Array<[string, string | undefined]> = [
    ["/hooks/api-build", "api-build"],
    ["/hooks/api-build/", "api-build"],
    ["/hooks/a%2Fb", "a/b"],
    ["/hooks/", undefined],
    ["/hooks/api-build/extra", undefined],
    ["/prod/hooks/api-build", undefined],
    ["/hooks/%E0%A4%A", undefined],
  ];
  for (const [path, expected] of cases) {
    it(`hookRouteName(${JSON.stringify(path)}) is ${JSON.stringify(expected)}`, () => {
      expect(hookRouteName(path)).to.equal(expected);
    });
  }
});

describe("Function: isSqsEvent", () => {
  const cases: Array<[string, unknown, boolean]> = [
    ["an SQS event", { Records: [] }, true],
    ["an API Gateway event", githubDelivery(), false],
    ["null", null, false],
    ["undefined", undefined, false],
    ["Records that are no list", { Records: {} }, false],
  ];
  for (const [label, event, expected] of cases) {
    it(`isSqsEvent(${label}) is ${expected}`, () => {
      expect(isSqsEvent(event)).to.equal(expected);
    });
  }
});

describe("Function: createRouteHandler(deps).receive (the deadline timer and the process's life)", () => {
  const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

  it("receive's deadline timer no longer keeps the process alive once a timed-out delivery and the next one are answered", async () => {
    const h = harness({
      queue: {
        send: (item) =>
          item.deliveryId === "d-hung"
            ? new Promise<void>(() => {})
            : new Promise<void>((resolve) => setImmediate(resolve)),
      },
      receiveTimeoutMs: 20,
    });
    await new Promise((resolve) => setImmediate(resolve)); // mocha's own timer for this test is set by now
    const idle = timers();
    const hung = await h.receive({ deliveryId: "d-hung" });
    expect(hung.statusCode).to.equal(503);
    const next = await h.receive({ deliveryId: "d-next" });
    expect(next.statusCode).to.equal(202);
    expect(timers()).to.equal(idle);
  });

  it("receive answers a delivery that waits too long with 503 even when the wall clock is set back meanwhile", async () => {
    const h = harness({ queue: { send: () => new Promise<void>(() => {}) }, receiveTimeoutMs: 20 });
    const wallClock = Date.now;
    let guard: NodeJS.Timeout | undefined;
    try {
      const answer = h.receive({ deliveryId: "d-clock-back" });
      // Set back (NTP stepping, a laptop waking up) by less than a minute, so that a deadline kept on the
      // wall clock fails this test through the guard below and then lets the process exit.
      Date.now = () => wallClock() - 45_000;
      const stillWaiting = new Promise<"still waiting">((resolve) => {
        guard = setTimeout(() => resolve("still waiting"), 10_000);
      });
      const first = await Promise.race([answer, stillWaiting]);
      expect(first === "still waiting" ? first : first.statusCode).to.equal(503);
    } finally {
      clearTimeout(guard);
      Date.now = wallClock;
    }
  });

  it("receive's deadline timer keeps the process alive only while a delivery waits on a dependency", async () => {
    const gates: Array<() => void> = [];
    const dedupe = new MemoryDedupeStore();
    const claim = dedupe.claim.bind(dedupe);
    dedupe.claim = async (route, id) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return claim(route, id);
    };
    const h = harness({ dedupe });
    await new Promise((resolve) => setImmediate(resolve)); // mocha's own timer for this test is set by now
    const idle = timers();
    for (const deliveryId of ["d-alive-1", "d-alive-2"]) {
      const answer = h.receive({ deliveryId });
      await new Promise((resolve) => setImmediate(resolve));
      expect(timers(), `while ${deliveryId} waits`).to.equal(idle + 1);
      (gates.shift() as () => void)();
      expect((await answer).statusCode).to.equal(202);
      expect(timers(), `once ${deliveryId} is answered`).to.equal(idle);
    }
  });
});
