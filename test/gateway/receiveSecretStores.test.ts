// The receive path over the real secret stores: SecretsManagerStore (on a mocked client, every
// GetSecretValue call counted) as the Lambdas use it, and the secrets file of `hookgate serve`.
// One clock drives the store, the handler and the senders' signatures.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { SecretsManagerStore } from "../../src/aws/secrets";
import { secretEntry } from "../../src/cli/send";
import { headerBag } from "../../src/core/headers";
import type { SecretStore } from "../../src/core/ports";
import type { Route } from "../../src/core/types";
import { GITLAB_TOKEN_REFUSED, GITLAB_TOKEN_REFUSED_DETAIL } from "../../src/core/verify";
import { signatureHeaders } from "../../src/core/verify/sign";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { FileSecretStore } from "../../src/local/fileSecretStore";
import { loadPayload } from "../fixtures/payloads";
import {
  type DeliveryOptions,
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  RecordingQueue,
  WEBHOOK_SECRET,
} from "./support";

const GITHUB_SECRET = "hookgate/github-webhook";
const GITLAB_SECRET = "hookgate/gitlab-webhook";
const PLAIN_TOKEN = "plain-gitlab-token";
const SIGNING_TOKEN = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const MIN_REFRESH_INTERVAL_MS = 5_000;

const gitlabRoute: Route = jenkinsRoute({
  name: "diaspora-build",
  provider: "gitlab",
  secret: GITLAB_SECRET,
  match: { repos: ["mike/diaspora"], events: ["push"], branches: ["master"] },
});

function notFound(): ResourceNotFoundException {
  return new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret.",
    $metadata: {},
  });
}

function harness(route: Route, secrets: SecretStore, now: () => number) {
  const queue = new RecordingQueue();
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route,
    secrets,
    queue,
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore({ now }),
    runAction: async () => {
      throw new Error("runAction must not be called at receive time");
    },
    log: logs.log,
    now,
  });
  const github = async (delivery: DeliveryOptions = {}) =>
    parseAnswer(await handler.receive(githubDelivery(delivery)));
  /** A GitLab push as `secret` signs it: X-Gitlab-Token for a plain token, webhook-* alone for whsec_. */
  const gitlab = (secret: string) => {
    const push = loadPayload("gitlab/push");
    const signature = signatureHeaders("gitlab", secret, push.body, { nowMs: now() });
    return handler.deliver({
      routeName: route.name,
      method: "POST",
      headers: headerBag({ ...push.headers, "X-Gitlab-Event-UUID": randomUUID(), ...signature }),
      body: push.body,
      sourceIp: "34.74.90.65",
    });
  };
  return { github, gitlab, queue, logs };
}

describe("receive with SecretsManagerStore: Secrets Manager calls per delivery", () => {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  let sm: ReturnType<typeof mockClient>;
  let clock: number;
  const now = () => clock;
  /** What Secrets Manager holds, per secret: AWSCURRENT, AWSPREVIOUS, AWSPENDING (undefined: no such version). */
  let stored: Map<string, { current?: string; previous?: string; pending?: string }>;
  /** Secrets whose AWSPREVIOUS the role may not read (encrypted with a KMS key it cannot use). */
  let previousDenied: Set<string>;
  /** Whether Secrets Manager throttles AWSPENDING reads. */
  let pendingThrottled: boolean;
  const calls = () => sm.commandCalls(GetSecretValueCommand).length;

  before(() => {
    sm = mockClient(client);
  });
  beforeEach(() => {
    clock = 1_770_000_000_000;
    stored = new Map();
    previousDenied = new Set();
    pendingThrottled = false;
    sm.reset();
    sm.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string; VersionStage: string }) => {
      if (input.VersionStage === "AWSPREVIOUS" && previousDenied.has(input.SecretId)) {
        throw Object.assign(new Error("Access to KMS is not allowed"), {
          name: "AccessDeniedException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        });
      }
      if (input.VersionStage === "AWSPENDING" && pendingThrottled) {
        throw Object.assign(new Error("Rate exceeded"), {
          name: "ThrottlingException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        });
      }
      const secret = stored.get(input.SecretId);
      const value =
        input.VersionStage === "AWSCURRENT"
          ? secret?.current
          : input.VersionStage === "AWSPREVIOUS"
            ? secret?.previous
            : secret?.pending;
      if (value === undefined) throw notFound();
      return { SecretString: value };
    });
  });
  after(() => sm.restore());

  const store = () => new SecretsManagerStore(client, { now, minRefreshIntervalMs: MIN_REFRESH_INTERVAL_MS });

  it("GitLab: a delivery signed only with the whsec_ signing token that replaced the cached plain token is accepted at once, after one re-read", async () => {
    stored.set(GITLAB_SECRET, { current: PLAIN_TOKEN });
    const h = harness(gitlabRoute, store(), now);
    expect((await h.gitlab(PLAIN_TOKEN)).statusCode).to.equal(202);
    expect(calls()).to.equal(2);

    // The user stores the signing token as the README says; GitLab now sends webhook-signature alone.
    stored.set(GITLAB_SECRET, { current: SIGNING_TOKEN, previous: PLAIN_TOKEN });
    clock += MIN_REFRESH_INTERVAL_MS + 1_000; // well inside the 5-minute cache
    const answer = await h.gitlab(SIGNING_TOKEN);
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
    expect(calls()).to.equal(4);
    expect(h.queue.sent).to.have.length(2);
  });

  it("GitLab: a token-only delivery is refused while the secret's current version holds a whsec_ signing token (the log says why, the answer only what is missing), and accepted after one re-read once the plain token is stored once", async () => {
    stored.set(GITLAB_SECRET, { current: SIGNING_TOKEN });
    const h = harness(gitlabRoute, store(), now);
    const refused = await h.gitlab(PLAIN_TOKEN);
    expect(refused.statusCode).to.equal(401);
    expect(refused.body.reason).to.equal("signature missing (webhook-signature)");
    expect(JSON.stringify(refused.body)).to.not.include("whsec_");
    const line = h.logs.lines.find((l) => l.msg === "delivery");
    expect(line).to.include({ reason: GITLAB_TOKEN_REFUSED, detail: GITLAB_TOKEN_REFUSED_DETAIL });
    expect(calls()).to.equal(2); // the first read; the re-read is within 5 s of it

    // Stored once: Secrets Manager moves the signing token to AWSPREVIOUS, which no longer refuses the token.
    stored.set(GITLAB_SECRET, { current: PLAIN_TOKEN, previous: SIGNING_TOKEN });
    clock += MIN_REFRESH_INTERVAL_MS + 1_000; // well inside the 5-minute cache
    const answer = await h.gitlab(PLAIN_TOKEN);
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
    expect(calls()).to.equal(4);
  });

  it("GitHub: a delivery signed with the value of a one-pair key/value secret (the console's Other type of secret) is accepted", async () => {
    stored.set(GITHUB_SECRET, { current: JSON.stringify({ webhook_secret: WEBHOOK_SECRET }) });
    const h = harness(jenkinsRoute(), store(), now);
    const answer = await h.github();
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
  });

  it("GitHub: a JSON object secret with no field hookgate reads gets one warning counting its keys, not one per delivery, and never its keys' text or its values", async () => {
    stored.set(GITHUB_SECRET, { current: JSON.stringify({ user: "ci-user-9f2", token: WEBHOOK_SECRET }) });
    const h = harness(jenkinsRoute(), store(), now);
    for (let i = 0; i < 3; i++) expect((await h.github()).statusCode).to.equal(401);
    const warnings = h.logs.lines.filter((l) => l.level === "warn" && l.secret === GITHUB_SECRET);
    expect(warnings).to.have.length(1);
    expect(warnings[0]?.keyCounts).to.deep.equal([2]);
    expect(JSON.stringify(h.logs.lines)).to.not.include(WEBHOOK_SECRET).and.not.include("ci-user-9f2");
    expect(JSON.stringify(warnings)).to.not.include('"user"').and.not.include('"token"');
  });

  it("GitHub: the warning about a JSON object secret it reads no field of never logs the secret when it was typed into the console's Key box", async () => {
    // The console's key/value editor, the secret pasted into a Key box.
    stored.set(GITHUB_SECRET, { current: JSON.stringify({ [WEBHOOK_SECRET]: "", note: "webhook" }) });
    const h = harness(jenkinsRoute(), store(), now);
    expect((await h.github()).statusCode).to.equal(401);
    expect(h.logs.lines.filter((l) => l.level === "warn" && l.secret === GITHUB_SECRET)).to.have.length(1);
    expect(JSON.stringify(h.logs.lines)).to.not.include(WEBHOOK_SECRET);
  });

  for (const [blank, key] of [
    ['{"webhook_secret":" "}', " "],
    ['{"secret":"   "}', "   "],
    ['["  "]', "  "],
  ] as const) {
    it(`GitHub: a secret whose only value is blank (${blank}) accepts no delivery signed with that blank key, and is logged as holding no value`, async () => {
      stored.set(GITHUB_SECRET, { current: blank });
      const h = harness(jenkinsRoute(), store(), now);
      const forged = await h.github({ secret: key });
      expect(forged.statusCode, JSON.stringify(forged.body)).to.equal(401);
      expect(h.logs.lines.filter((l) => String(l.msg).includes("no usable value"))).to.have.length(1);
    });
  }

  for (const blank of ["   ", "[]", '{"secret": ""}']) {
    it(`GitHub: a secret that held no value (${blank}) is used as soon as it is set, after one re-read`, async () => {
      stored.set(GITHUB_SECRET, { current: blank });
      const h = harness(jenkinsRoute(), store(), now);
      expect((await h.github()).statusCode).to.equal(401);
      expect(calls()).to.equal(2);
      // One error line per refused delivery, even though it read the secret twice.
      expect(h.logs.lines.filter((l) => String(l.msg).includes("no usable value"))).to.have.length(1);

      stored.set(GITHUB_SECRET, { current: WEBHOOK_SECRET, previous: blank });
      clock += MIN_REFRESH_INTERVAL_MS + 1_000;
      expect((await h.github()).statusCode).to.equal(202);
      expect(calls()).to.equal(4);
    });
  }

  it("GitHub: a delivery signed with the current value is accepted while the role cannot read AWSPREVIOUS (a KMS key change), with one warning", async () => {
    stored.set(GITHUB_SECRET, { current: WEBHOOK_SECRET, previous: "old-webhook-secret" });
    previousDenied.add(GITHUB_SECRET);
    const lines: Record<string, unknown>[] = [];
    const secrets = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    const h = harness(jenkinsRoute(), secrets, now);
    const answer = await h.github();
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
    // Signed with the previous value, which cannot be read: refused as any unknown secret.
    expect((await h.github({ secret: "old-webhook-secret" })).statusCode).to.equal(401);
    expect(lines.map((l) => [l.level, l.secret, l.code])).to.deep.equal([
      ["warn", GITHUB_SECRET, "AccessDeniedException"],
    ]);
  });

  it("GitHub: a delivery still signed with the previous value (AWSPREVIOUS) is accepted during a rotation", async () => {
    stored.set(GITHUB_SECRET, { current: "new-webhook-secret", previous: WEBHOOK_SECRET });
    const h = harness(jenkinsRoute(), store(), now);
    expect((await h.github({ secret: WEBHOOK_SECRET })).statusCode).to.equal(202);
    expect((await h.github({ secret: "new-webhook-secret" })).statusCode).to.equal(202);
  });

  it("GitHub: a delivery signed with a value in AWSPENDING alone is refused 401, and no read asks for AWSPENDING (a stuck rotation's value is never used)", async () => {
    stored.set(GITHUB_SECRET, { current: "current-webhook-secret", pending: WEBHOOK_SECRET });
    const h = harness(jenkinsRoute(), store(), now);
    expect((await h.github({ secret: "current-webhook-secret" })).statusCode).to.equal(202);
    clock += MIN_REFRESH_INTERVAL_MS + 1_000; // a re-read is allowed
    expect((await h.github({ secret: WEBHOOK_SECRET })).statusCode).to.equal(401);
    clock += MIN_REFRESH_INTERVAL_MS + 1_000;
    expect((await h.github({ secret: WEBHOOK_SECRET })).statusCode).to.equal(401);
    const stages = sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.VersionStage);
    expect(stages).to.not.include("AWSPENDING");
  });

  it("GitHub: a delivery signed with a new AWSCURRENT value is accepted after the re-read while AWSPENDING reads are throttled", async () => {
    stored.set(GITHUB_SECRET, { current: "old-webhook-secret" });
    const h = harness(jenkinsRoute(), store(), now);
    expect((await h.github({ secret: "old-webhook-secret" })).statusCode).to.equal(202);
    stored.set(GITHUB_SECRET, { current: WEBHOOK_SECRET, previous: "old-webhook-secret" });
    pendingThrottled = true;
    clock += MIN_REFRESH_INTERVAL_MS + 1_000; // inside the 5-minute cache: the re-read decides
    const answer = await h.github();
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
  });

  it("signatures that no cached value can check re-read the secret at most once per 5 seconds, however many arrive", async () => {
    stored.set(GITLAB_SECRET, { current: PLAIN_TOKEN });
    const h = harness(gitlabRoute, store(), now);
    const forged = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    for (let i = 0; i < 25; i++) expect((await h.gitlab(forged)).statusCode).to.equal(401);
    expect(calls()).to.equal(2); // the first read; the cache is younger than 5 s for every re-read
    clock += MIN_REFRESH_INTERVAL_MS;
    for (let i = 0; i < 25; i++) expect((await h.gitlab(forged)).statusCode).to.equal(401);
    expect(calls()).to.equal(4); // one re-read, which restarts the 5 seconds
  });

  it("a missing webhook secret costs one fetch per 5 seconds, however many deliveries arrive, each still answered 401 and logged", async () => {
    const h = harness(jenkinsRoute(), store(), now);
    for (let i = 0; i < 50; i++) {
      const answer = await h.github({ secret: `forged-${i}` });
      expect(answer.statusCode).to.equal(401);
      expect(answer.body).to.include({ status: "rejected", reason: "signature cannot be verified" });
    }
    expect(calls()).to.equal(2); // AWSCURRENT and AWSPREVIOUS, once
    const missing = h.logs.lines.filter((l) => l.level === "error" && l.secret === GITHUB_SECRET);
    expect(missing).to.have.length(50);

    // Created meanwhile: still missing for what is left of the 5 seconds, then picked up.
    stored.set(GITHUB_SECRET, { current: WEBHOOK_SECRET });
    clock += MIN_REFRESH_INTERVAL_MS - 1;
    expect((await h.github()).statusCode).to.equal(401);
    expect(calls()).to.equal(2);
    clock += 1;
    expect((await h.github()).statusCode).to.equal(202);
    expect(calls()).to.equal(4);
  });
});

describe("receive with the secrets file of hookgate serve (FileSecretStore)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-secrets-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("GitLab: a whsec_ signing token written into the file while serve runs is used for the next signed delivery", async () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ [GITLAB_SECRET]: PLAIN_TOKEN }));
    let clock = 1_770_000_000_000;
    const now = () => clock;
    const h = harness(gitlabRoute, new FileSecretStore(file, now), now);
    expect((await h.gitlab(PLAIN_TOKEN)).statusCode).to.equal(202);

    writeFileSync(file, JSON.stringify({ [GITLAB_SECRET]: SIGNING_TOKEN }));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000)); // a new mtime, whatever the clock's grain
    clock += 200; // past the file's refresh interval (100 ms), inside its plain one (1 s)
    const answer = await h.gitlab(SIGNING_TOKEN);
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
  });

  it('secretEntry(file, name, "gitlab") gives the whsec_ signing token of a secret holding the old token beside it, and the first value for another provider or a secret without one', () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ [GITLAB_SECRET]: [PLAIN_TOKEN, SIGNING_TOKEN] }));
    expect(secretEntry(file, GITLAB_SECRET, "gitlab").secret).to.equal(SIGNING_TOKEN);
    // Another provider, or a GitLab secret with no signing token: the first value, as before.
    expect(secretEntry(file, GITLAB_SECRET, "github").secret).to.equal(PLAIN_TOKEN);
    writeFileSync(file, JSON.stringify({ [GITLAB_SECRET]: [PLAIN_TOKEN, "other-token"] }));
    expect(secretEntry(file, GITLAB_SECRET, "gitlab").secret).to.equal(PLAIN_TOKEN);
  });

  it("GitLab: a delivery hookgate send signs with the secret of a file holding [token, whsec_] is accepted by serve", async () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ [GITLAB_SECRET]: [PLAIN_TOKEN, SIGNING_TOKEN] }));
    const clock = 1_770_000_000_000;
    const now = () => clock;
    const h = harness(gitlabRoute, new FileSecretStore(file, now), now);
    const answer = await h.gitlab(secretEntry(file, GITLAB_SECRET, "gitlab").secret);
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
  });
});
