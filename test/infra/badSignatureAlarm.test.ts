// A secret changed on one side only: every delivery is refused 401 "signature invalid" at level warn, which the
// secret-unusable filter (level error) and api-5xx (a 401 is no 5xx) do not count. The bad-signature filter must
// count the very lines the function writes.
import { createHmac, randomUUID } from "node:crypto";
import { expect } from "chai";
import { signDelivery } from "../../src/cli/send";
import { headerBag } from "../../src/core/headers";
import { FROM_HOST_FIELD } from "../../src/core/logLines";
import type { Route } from "../../src/core/types";
import {
  GITLAB_SIGNING_KEY_MISSING_DETAIL,
  GITLAB_TOKEN_REFUSED_DETAIL,
  otherAlgorithmReasons,
  SIGNATURE_INVALID,
  SIGNATURE_TIMESTAMP_IN_FUTURE,
  SIGNATURE_TIMESTAMP_TOO_OLD,
  signatureMissingReason,
} from "../../src/core/verify";
import { OTHER_BITBUCKET_ALGORITHMS } from "../../src/core/verify/bitbucket";
import { signatureHeaders } from "../../src/core/verify/sign";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { badSignaturePattern, FILTER_PATTERN_MAX_CHARS } from "../../src/infra/route";
import { loadPayload } from "../fixtures/payloads";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  RecordingDeadLetters,
  RecordingQueue,
  WEBHOOK_SECRET,
} from "../gateway/support";
import { MemorySecretStore } from "../support/secrets";
import { evaluate } from "./evaluate";
import { jsonPattern } from "./filterPattern";
import { config, gitlabRoute, jenkinsRoute as infraJenkinsRoute, stubCode } from "./fixtures";

/** Three deliveries signed with WEBHOOK_SECRET, to a route whose secret holds `secretStored`. */
async function deliver(
  secretStored: string,
): Promise<{ statuses: number[]; lines: Array<Record<string, unknown>> }> {
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore({ "hookgate/github-webhook": secretStored }),
    queue: new RecordingQueue(),
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "ran" }),
    log: logs.log,
  });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++)
    statuses.push((await handler.receive(githubDelivery({ secret: WEBHOOK_SECRET }))).statusCode);
  return { statuses, lines: logs.lines };
}

describe("The bad-signature alarm (a secret changed on one side only)", () => {
  it("the route's bad-signature filter counts each delivery refused 401 for a signature made with another secret, and no accepted one", async () => {
    const refused = await deliver("the-new-value-stored-alone");
    expect(refused.statuses).to.deep.equal([401, 401, 401]);
    const counts = jsonPattern(badSignaturePattern("github"));
    const counted = refused.lines.filter(counts);
    expect(counted).to.have.length(3);
    expect(counted.every((l) => l.reason === SIGNATURE_INVALID && l.level === "warn")).to.equal(true);

    const accepted = await deliver(WEBHOOK_SECRET);
    expect(accepted.statuses[0]).to.equal(202);
    expect(accepted.lines.filter((l) => l.msg === "delivery")).to.have.length(3);
    expect(accepted.lines.filter(counts)).to.deep.equal([]);
  });

  it("a route with a webhook secret has a bad-signature filter and alarm: 1 or more in 15 minutes, keeping its state through quiet periods, to the stack's topic", async () => {
    const { cloud } = await evaluate({
      config: config(),
      routes: [infraJenkinsRoute()],
      stack: "dev",
      code: stubCode,
    });
    const name = "hookgate-dev-api-build-bad-signature";
    const filter = cloud
      .ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter")
      .find((f) => f.inputs.name === name);
    expect(filter?.inputs).to.deep.equal({
      name,
      logGroupName: "/aws/lambda/hookgate-dev-api-build",
      pattern:
        '{ ($.msg = "delivery") && ($.status = 401) && (($.reason = "signature invalid") || ' +
        '(($.reason = "signature missing: a github route reads X-Hub-Signature-256") && ($.fromHost IS TRUE))) }',
      metricTransformation: { namespace: "hookgate", name, value: "1", defaultValue: "0" },
    });
    const alarm = cloud.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.name === name);
    expect(alarm?.inputs).to.deep.include({
      namespace: "hookgate",
      metricName: name,
      statistic: "Sum",
      period: 900,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "ignore",
    });
    expect(alarm?.inputs.alarmActions).to.have.length(1);
    expect(alarm?.inputs.alarmDescription)
      .to.contain("One made-up delivery trips it too")
      .and.contain("api.ipAllowlist narrows who can");
  });
});

const GITLAB_SECRET = "hookgate/gitlab-webhook";
const PLAIN_TOKEN = "plain-gitlab-token-0123";
const SIGNING_TOKEN = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

/**
 * One GitLab push, signed (or tokened) by the hook with `hookSends` on a clock reading `hookNowMs`, to a gitlab
 * route whose secret holds `stored`.
 */
async function gitlabDelivery(stored: string, hookSends: string, hookNowMs = Date.now()) {
  const route: Route = jenkinsRoute({
    name: "diaspora-build",
    provider: "gitlab",
    secret: GITLAB_SECRET,
    match: { repos: ["mike/diaspora"], events: ["push"], branches: ["master"] },
  });
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route,
    secrets: new MemorySecretStore({ [GITLAB_SECRET]: stored }),
    queue: new RecordingQueue(),
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "" }),
    log: logs.log,
  });
  const push = loadPayload("gitlab/push");
  const answer = await handler.deliver({
    routeName: route.name,
    method: "POST",
    headers: headerBag({
      ...push.headers,
      "X-Gitlab-Event-UUID": randomUUID(),
      ...signatureHeaders("gitlab", hookSends, push.body, { nowMs: hookNowMs }),
    }),
    body: push.body,
    sourceIp: "34.74.90.65",
  });
  return { status: answer.statusCode, reason: answer.body.reason, lines: logs.lines };
}

describe("The bad-signature alarm on a gitlab route (a secret changed in kind on one side only)", () => {
  for (const [label, stored, hookSends] of [
    [
      "Secrets Manager holds the signing token, the hook still sends its plain token",
      SIGNING_TOKEN,
      PLAIN_TOKEN,
    ],
    [
      "Secrets Manager holds the plain token, the hook now signs with its signing token",
      PLAIN_TOKEN,
      SIGNING_TOKEN,
    ],
    ["Secrets Manager holds another plain token than the hook sends", "another-plain-token", PLAIN_TOKEN],
  ] as const) {
    it(`the gitlab route's filter counts the delivery refused 401 when ${label}`, async () => {
      const { status, reason, lines } = await gitlabDelivery(stored, hookSends);
      expect(status).to.equal(401);
      expect(lines.filter(jsonPattern(badSignaturePattern("gitlab"))), `"${reason}"`).to.have.length(1);
    });
  }

  // A GitLab server whose clock is off by more than auth.toleranceSeconds (300 s here): every signed delivery is
  // refused, and GitLab sends none again.
  for (const [label, offMs, expected] of [
    ["an hour slow", -3_600_000, SIGNATURE_TIMESTAMP_TOO_OLD],
    ["an hour fast", 3_600_000, SIGNATURE_TIMESTAMP_IN_FUTURE],
  ] as const) {
    it(`the gitlab route's filter counts the delivery refused 401 "${expected}" from a GitLab server whose clock is ${label}`, async () => {
      const { status, reason, lines } = await gitlabDelivery(
        SIGNING_TOKEN,
        SIGNING_TOKEN,
        Date.now() + offMs,
      );
      expect([status, reason]).to.deep.equal([401, expected]);
      expect(lines.filter(jsonPattern(badSignaturePattern("gitlab")))).to.have.length(1);
    });
  }

  it("the gitlab route's filter does not count an accepted delivery, nor a request carrying neither GitLab header", async () => {
    const accepted = await gitlabDelivery(SIGNING_TOKEN, SIGNING_TOKEN);
    expect(accepted.status).to.equal(202);
    const counts = jsonPattern(badSignaturePattern("gitlab"));
    expect(accepted.lines.filter(counts)).to.deep.equal([]);
    const scan = {
      msg: "delivery",
      status: 401,
      reason: "signature missing: a gitlab route reads X-Gitlab-Token or webhook-signature",
    };
    expect(counts(scan)).to.equal(false);
  });

  it("a gitlab route's bad-signature filter counts the two refusals of a secret changed in kind; another provider's keeps its pattern", async () => {
    const { cloud } = await evaluate({
      config: config(),
      routes: [gitlabRoute(), infraJenkinsRoute()],
      stack: "dev",
      code: stubCode,
    });
    const filters = cloud.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter");
    const gitlab = filters.find((f) => f.inputs.name === "hookgate-dev-platform-gitlab-bad-signature");
    expect(gitlab?.inputs.pattern).to.equal(
      '{ ($.msg = "delivery") && ($.status = 401) && (($.reason = "signature invalid") || ' +
        '($.reason = "signature missing (webhook-signature)") || ($.reason = "signature missing (X-Gitlab-Token)") || ' +
        '($.reason = "signature timestamp too old") || ($.reason = "signature timestamp in the future") || ' +
        '(($.reason = "signature missing: a gitlab route reads X-Gitlab-Token or webhook-signature") && ($.fromHost IS TRUE))) }',
    );
    const github = filters.find((f) => f.inputs.name === "hookgate-dev-api-build-bad-signature");
    expect(github?.inputs.pattern).to.equal(badSignaturePattern("github"));
    const alarm = cloud
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .find((a) => a.inputs.name === "hookgate-dev-platform-gitlab-bad-signature");
    expect(alarm?.inputs.alarmDescription).to.contain(
      ', "signature missing (...)", "signature timestamp ..." or "signature missing" with fromHost',
    );
    // Copying one value to the other side does not mend two kinds: the description says what does, for each reason
    // as the delivery line's detail does (a hook sending the plain token already has it; a secret holding the
    // signing token already has that). A timestamp is mended on GitLab's side alone.
    expect(alarm?.inputs.alarmDescription).to.contain(
      "For (X-Gitlab-Token), the hook's whsec_ token in the secret or the plain token in the hook; " +
        "for (webhook-signature), the reverse (plain alone); for a timestamp, fix GitLab's clock.",
    );
    expect(GITLAB_SIGNING_KEY_MISSING_DETAIL).to.include(
      "store the hook's signing token (whsec_...) in the secret",
    );
    expect(GITLAB_SIGNING_KEY_MISSING_DETAIL).to.include(
      "set the plain token as the GitLab webhook's secret token",
    );
    expect(GITLAB_TOKEN_REFUSED_DETAIL).to.include("add the signing token to the GitLab webhook");
    expect(GITLAB_TOKEN_REFUSED_DETAIL).to.include("store the plain token alone as the secret");
    const githubAlarm = cloud
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .find((a) => a.inputs.name === "hookgate-dev-api-build-bad-signature");
    expect(githubAlarm?.inputs.alarmDescription).to.not.contain("two kinds");
    expect(githubAlarm?.inputs.alarmDescription).to.not.contain("timestamp");
  });
});

describe("The bad-signature alarm on a bitbucket route (a hook signing under another algorithm than sha256)", () => {
  const body = Buffer.from(JSON.stringify({ push: { changes: [] }, repository: { full_name: "acme/api" } }));

  /** A push from the host with X-Hub-Signature set to `signature` (the route's secret is WEBHOOK_SECRET). */
  async function signedWith(provider: Route["provider"], signature: string) {
    const sent = signDelivery({ provider, event: "push", payload: body, secret: WEBHOOK_SECRET });
    return unsigned(provider, { ...sent.headers, "x-hub-signature": signature }, body);
  }

  for (const provider of ["bitbucket", "bitbucket-server"] as const) {
    for (const algorithm of OTHER_BITBUCKET_ALGORITHMS) {
      it(`the ${provider} route's filter counts a delivery whose X-Hub-Signature is a ${algorithm}= HMAC of the route's secret, refused 401 naming ${algorithm}`, async () => {
        const hmac = createHmac(algorithm, WEBHOOK_SECRET).update(body).digest("hex");
        const { status, lines } = await signedWith(provider, `${algorithm}=${hmac}`);
        expect(status).to.equal(401);
        expect(lines).to.have.length(1);
        expect(lines[0]?.reason).to.equal(
          `signature algorithm ${algorithm} is not accepted: a ${provider} route reads X-Hub-Signature: sha256=`,
        );
        expect(lines.filter(jsonPattern(badSignaturePattern(provider)))).to.have.length(1);
      });
    }

    it(`the ${provider} route's filter does not count a malformed X-Hub-Signature (an algorithm outside the list), nor another route's algorithm reason`, async () => {
      const { status, lines } = await signedWith(provider, `md5=${"a".repeat(32)}`);
      expect(status).to.equal(401);
      expect(lines[0]?.reason).to.equal("signature malformed");
      expect(lines.filter(jsonPattern(badSignaturePattern(provider)))).to.deep.equal([]);
      const other = provider === "bitbucket" ? "bitbucket-server" : "bitbucket";
      const otherRoutes = otherAlgorithmReasons(other).map((reason) => ({
        msg: "delivery",
        status: 401,
        reason,
      }));
      expect(otherRoutes.filter(jsonPattern(badSignaturePattern(provider)))).to.deep.equal([]);
    });
  }

  it("a bitbucket-server route's bad-signature filter counts each algorithm's refusal, and its description says what mends it", async () => {
    const route: Route = { ...infraJenkinsRoute("dc-build"), provider: "bitbucket-server" };
    const { cloud } = await evaluate({ config: config(), routes: [route], stack: "dev", code: stubCode });
    const name = "hookgate-dev-dc-build-bad-signature";
    const filter = cloud
      .ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter")
      .find((f) => f.inputs.name === name);
    expect(filter?.inputs.pattern).to.equal(badSignaturePattern("bitbucket-server"));
    for (const reason of otherAlgorithmReasons("bitbucket-server"))
      expect(filter?.inputs.pattern).to.contain(`($.reason = "${reason}")`);
    const alarm = cloud.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.name === name);
    expect(alarm?.inputs.alarmDescription)
      .to.contain(
        '"signature invalid", "signature algorithm ... is not accepted" or "signature missing" with fromHost',
      )
      .and.contain(
        "For an algorithm, have the hook sign sha256 (a GitHub webhook's sha1: use a github route).",
      );
  });

  it("only bitbucket routes' filters count another algorithm; every provider's pattern fits CloudWatch's 1,024 characters", () => {
    for (const provider of ["github", "gitlab", "bitbucket", "bitbucket-server", "gitea"] as const) {
      const pattern = badSignaturePattern(provider);
      expect(pattern.length, provider).to.be.at.most(FILTER_PATTERN_MAX_CHARS);
      expect(pattern.includes("signature algorithm"), provider).to.equal(provider.startsWith("bitbucket"));
    }
  });
});

/** Headers a host's webhook with a secret adds: without them, the delivery is what a webhook without one sends. */
const SIGNING_HEADERS = [
  "x-hub-signature",
  "x-hub-signature-256",
  "x-gitea-signature",
  "x-gogs-signature",
  "x-gitlab-token",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
];

/** One request to a route of `provider` with these headers (no signature), and the lines its function writes. */
async function unsigned(provider: Route["provider"], headers: Record<string, string>, body: Buffer) {
  const route: Route = jenkinsRoute({ provider, secret: "hookgate/webhook" });
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route,
    secrets: new MemorySecretStore({ "hookgate/webhook": WEBHOOK_SECRET }),
    queue: new RecordingQueue(),
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "" }),
    log: logs.log,
  });
  const answer = await handler.deliver({
    routeName: route.name,
    method: "POST",
    headers: headerBag(headers),
    body,
    sourceIp: "203.0.113.7",
  });
  return { status: answer.statusCode, lines: logs.lines.filter((l) => l.msg === "delivery") };
}

describe("The bad-signature alarm and a webhook without a secret on the Git host", () => {
  const body = Buffer.from(JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "acme/api" } }));
  for (const provider of ["github", "gitlab", "bitbucket", "bitbucket-server", "gitea"] as const) {
    it(`counts a ${provider} delivery the host sent unsigned (its secret cleared there), refused 401 "signature missing", marked ${FROM_HOST_FIELD} and no header value; not a scan's unsigned request`, async () => {
      // What the host sends (as hookgate send imitates it), less the headers a webhook secret adds.
      const sent = signDelivery({ provider, event: "push", payload: body, secret: "unused" });
      const hostHeaders = Object.fromEntries(
        Object.entries(sent.headers).filter(([name]) => !SIGNING_HEADERS.includes(name)),
      );
      const counts = jsonPattern(badSignaturePattern(provider));
      const fromHost = await unsigned(provider, hostHeaders, body);
      expect(fromHost.status).to.equal(401);
      expect(fromHost.lines).to.have.length(1);
      const [line] = fromHost.lines;
      expect(line?.reason).to.equal(signatureMissingReason(provider));
      expect(line?.[FROM_HOST_FIELD]).to.equal(true);
      expect(counts(line ?? {})).to.equal(true);
      const scan = await unsigned(provider, { "content-type": "application/json" }, body);
      expect(scan.status).to.equal(401);
      const [scanLine] = scan.lines;
      expect(scanLine).to.not.have.property(FROM_HOST_FIELD);
      expect(scan.lines.filter(counts)).to.deep.equal([]);
      // Only the boolean is added: the two lines differ in the delivery id and event (logged as before) alone.
      const differing = Object.keys({ ...line, ...scanLine }).filter(
        (k) => JSON.stringify(line?.[k]) !== JSON.stringify(scanLine?.[k]),
      );
      expect(differing.sort()).to.deep.equal(["deliveryId", "event", FROM_HOST_FIELD].sort());
    });
  }

  it("does not mark a request with only part of GitHub's headers (no Hookshot User-Agent, or no hook id) as the host's", async () => {
    const sent = signDelivery({ provider: "github", event: "push", payload: body, secret: "unused" });
    const { "x-hub-signature": _sha1, "x-hub-signature-256": _sha256, ...host } = sent.headers;
    for (const partial of [
      { ...host, "user-agent": "curl/8.5.0" },
      Object.fromEntries(Object.entries(host).filter(([name]) => name !== "x-github-hook-id")),
    ]) {
      const { status, lines } = await unsigned("github", partial, body);
      expect(status).to.equal(401);
      expect(lines[0]).to.not.have.property(FROM_HOST_FIELD);
    }
  });
});
