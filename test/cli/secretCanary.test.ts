// The log rule as a whole (RELIABILITY.md, "Logs": no secret, token or Authorization header in any log line):
// every secret `hookgate serve` reads holds a canary (CANARY-<purpose>-<random>), the servers its actions call
// echo the credentials they receive in every way an answer can carry them back (4xx and 5xx bodies, short and
// long, JSON and HTML; a header; a Location with user info, a path, a query or a host name; URLs a server's
// setters build around them, and encoded twice; a reset connection), and
// afterwards everything a user or a log shipper could read is searched for each canary, raw and encoded:
// serve's output, every file of its state dir, its endpoints' answers, and the answers to each delivery. The
// same search runs over `hookgate check`, `explain` and `send`.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runSend, signDelivery } from "../../src/cli/send";
import type { Provider } from "../../src/core/types";
import { PAYLOAD_FIXTURES, type PayloadFixtureName } from "../fixtures/payloads";
import {
  canary,
  type EchoServer,
  type Finding,
  filesUnder,
  MODES,
  type Mode,
  mask,
  needlesOf,
  RUN,
  report,
  search,
  startEchoServer,
} from "../support/secretCanary";
import { gitArchiveZip } from "../support/zips";
import {
  BIN,
  type DeliveryView,
  deliveries,
  NO_PROXY_ENV,
  REPO_ROOT,
  request,
  type ServeChild,
  startServe,
} from "./serveHarness";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "payloads");
/** The modes of the Jenkins routes (each without and with a crumb), and of the Git hosts' s3-zip and pr-cleanup routes. */
const JENKINS_MODES: readonly Mode[] = MODES;
const HOST_MODES: readonly Mode[] = MODES.filter((mode) => mode !== "choices" && mode !== "see303");

const PROVIDERS: Array<{
  provider: Provider;
  short: string;
  apiPath: string;
  push: PayloadFixtureName;
  pr: PayloadFixtureName;
  /** The token's shape (a JSON object or the token alone), the token at TOKEN. */
  token: (token: string) => string;
}> = [
  {
    provider: "github",
    short: "gh",
    apiPath: "/api/v3",
    push: "github/push",
    pr: "github/pull_request-closed-merged",
    token: (t) => t,
  },
  {
    provider: "gitlab",
    short: "gl",
    apiPath: "/api/v4",
    push: "gitlab/push",
    pr: "gitlab/merge_request-merge",
    token: (t) => JSON.stringify({ token: t }),
  },
  {
    provider: "bitbucket",
    short: "bb",
    apiPath: "/2.0",
    push: "bitbucket/repo-push",
    pr: "bitbucket/pullrequest-fulfilled",
    token: (t) => JSON.stringify({ email: "bot@example.com", apiToken: t }),
  },
  {
    provider: "bitbucket-server",
    short: "bs",
    apiPath: "/rest/api/latest",
    push: "bitbucket-server/repo-refs_changed",
    pr: "bitbucket-server/pr-merged",
    token: (t) => `${t}\n`,
  },
  {
    provider: "gitea",
    short: "gt",
    apiPath: "/api/v1",
    push: "gitea/push",
    pr: "gitea/pull_request-closed-merged",
    token: (t) => JSON.stringify({ token: t }),
  },
];

/**
 * Jenkins credentials in each shape the README allows: a password with colons among them, and ones with the
 * characters a URL encodes (a server's Location holds it as pass%2F…), which a URL's setters encode otherwise
 * than encodeURIComponent does (+ kept in user info, ' encoded in a query, ( ) ! ~ by searchParams).
 */
const JENKINS_SHAPES = [
  (t: string) => JSON.stringify({ user: "ci-bot", token: t }),
  (t: string) => JSON.stringify({ username: "ci-bot", apiToken: t }),
  (t: string) => JSON.stringify({ user: "ci-bot", password: `${t}:with:colons` }),
  (t: string) => JSON.stringify({ user: "ci-bot", password: `pass/${t}+x=` }),
  (t: string) => JSON.stringify({ user: "ci-bot", password: `pass ${t}/x y` }),
  (t: string) => JSON.stringify({ user: "ci-bot", password: `it's ${t}/(x)!~` }),
];
/** A password a host name holds as punycode (the redirhost mode's, without a crumb). */
const NON_ASCII_SHAPE = (t: string) => JSON.stringify({ user: "ci-bot", password: `pässwörd-${t}` });

/** The webhook secrets: GitHub's HMAC key, GitLab's secret token and signing token, Bitbucket's, Gitea's (a rotation). */
const WEBHOOK = {
  github: canary("whgithub"),
  gitlab: canary("whgitlab"),
  gitlabSigning: `whsec_${Buffer.from(canary("whgitlabsigning")).toString("base64")}`,
  bitbucket: canary("whbitbucket"),
  "bitbucket-server": canary("whbbserver"),
  giteaNew: canary("whgiteanew"),
  giteaOld: canary("whgiteaold"),
};

// ---------------------------------------------------------------------------------------------------------
// routes.yaml and the secrets file

interface Plan {
  routes: string;
  secrets: Record<string, unknown>;
  /** Every secret value, for the search. */
  values: string[];
  deliveries: Array<{ route: string; provider: Provider; fixture: PayloadFixtureName; secret: string }>;
}

function plan(echoUrl: string): Plan {
  const secrets: Record<string, unknown> = {};
  const values: string[] = [];
  const secret = (name: string, stored: unknown, ...inside: string[]) => {
    secrets[name] = stored;
    values.push(...inside);
    return name;
  };
  secret("wh/github", WEBHOOK.github, WEBHOOK.github);
  secret("wh/gitlab", WEBHOOK.gitlab, WEBHOOK.gitlab);
  secret("wh/gitlab-signing", WEBHOOK.gitlabSigning, WEBHOOK.gitlabSigning);
  secret("wh/bitbucket", WEBHOOK.bitbucket, WEBHOOK.bitbucket);
  secret("wh/bitbucket-server", WEBHOOK["bitbucket-server"], WEBHOOK["bitbucket-server"]);
  secret("wh/gitea", [WEBHOOK.giteaNew, WEBHOOK.giteaOld], WEBHOOK.giteaNew, WEBHOOK.giteaOld);
  // A private CA's bundle is a secret too: a real certificate (a bundle of none is refused final), the canary
  // as the explanatory text PEM allows before it (RFC 7468). Every server speaks http: it is never used.
  const ca = readFileSync(join(REPO_ROOT, "test", "fixtures", "tls", "ca.pem"), "utf8");
  const pem = `${canary("cabundle")}\n${ca}`;
  secret("ca/bundle", pem, canary("cabundle"));

  const lines: string[] = ["version: 1", "providers:"];
  for (const p of PROVIDERS) {
    lines.push(`  ${p.provider}:`, `    apiUrl: ${echoUrl}${p.apiPath}`);
  }
  lines.push("routes:");
  const out: Plan["deliveries"] = [];
  let shape = 0;
  const jenkinsBlock = (mode: string, crumb: boolean, indent: string) => {
    const token = canary(`${mode}-jenkins${shape}`);
    const shaped =
      mode === "redirhost" && !crumb ? NON_ASCII_SHAPE : JENKINS_SHAPES[shape % JENKINS_SHAPES.length];
    const name = secret(`jenkins/${mode}-${shape}${crumb ? "-crumb" : ""}`, shaped?.(token), token);
    shape++;
    const caBundle = shape % 5 === 0 ? ", caBundle: ca/bundle" : "";
    return `${indent}jenkins: { url: "${echoUrl}", credentials: ${name}, crumb: ${crumb}${caBundle} }`;
  };
  for (const mode of JENKINS_MODES) {
    for (const crumb of [false, true]) {
      const route = `j${crumb ? "c" : ""}-${mode}`;
      lines.push(
        `  - name: ${route}`,
        "    provider: github",
        "    secret: wh/github",
        "    match: {}",
        "    action:",
        "      type: jenkins",
        "      job: team/build",
        '      parameters: { SHA: "{{sha}}", DELIVERY: "{{deliveryId}}" }',
        jenkinsBlock(mode, crumb, "      "),
      );
      out.push({ route, provider: "github", fixture: "github/push", secret: WEBHOOK.github });
    }
  }
  const webhookSecret = (p: Provider) =>
    p === "gitea" ? "wh/gitea" : p === "gitlab" ? "wh/gitlab" : `wh/${p}`;
  const signingSecret = (p: Provider) =>
    p === "gitea" ? WEBHOOK.giteaOld : ((WEBHOOK as Record<string, string>)[p] ?? "");
  for (const p of PROVIDERS) {
    for (const mode of HOST_MODES) {
      for (const kind of ["z", "c", "cs"] as const) {
        const route = `${kind}-${p.short}-${mode}`;
        const tokenMode = kind === "cs" ? `st${mode}` : mode;
        const token = canary(`${tokenMode}-${p.short}token`);
        const tokenName = secret(`token/${route}`, p.token(token), token);
        lines.push(
          `  - name: ${route}`,
          `    provider: ${p.provider}`,
          `    secret: ${webhookSecret(p.provider)}`,
          "    match: {}",
          "    action:",
        );
        if (kind === "z") {
          lines.push("      type: s3-zip", `      token: ${tokenName}`);
          out.push({ route, provider: p.provider, fixture: p.push, secret: signingSecret(p.provider) });
        } else {
          lines.push(
            "      type: pr-cleanup",
            `      token: ${tokenName}`,
            "      steps:",
            "        - delete-branch: { onlyMerged: false }",
            '        - jenkins: { job: "previews/teardown", parameters: { PR: "{{pr.number}}" } }',
            jenkinsBlock(tokenMode, false, "      "),
          );
          out.push({ route, provider: p.provider, fixture: p.pr, secret: signingSecret(p.provider) });
        }
      }
    }
  }
  // GitLab's signing token (Standard Webhooks), on a route of its own.
  lines.push(
    "  - name: w-glsign",
    "    provider: gitlab",
    "    secret: wh/gitlab-signing",
    "    match: {}",
    "    action:",
    "      type: jenkins",
    "      job: team/build",
    jenkinsBlock("json401", false, "      "),
  );
  out.push({ route: "w-glsign", provider: "gitlab", fixture: "gitlab/push", secret: WEBHOOK.gitlabSigning });
  return { routes: `${lines.join("\n")}\n`, secrets, values, deliveries: out };
}

function eventOf(fixture: PayloadFixtureName): string {
  return /push|refs_changed/.test(fixture) ? "push" : "pull_request";
}

/** Requests that carry a webhook secret where it does not belong, or a wrong one: each must be refused quietly. */
function badRequests(baseUrl: string): Array<{ url: string; headers: Record<string, string>; body: Buffer }> {
  const body = readFileSync(join(REPO_ROOT, "test", "fixtures", "payloads", "github", "push.json"));
  const github = `${baseUrl}/hooks/j-ok`;
  const gitlabBody = readFileSync(join(REPO_ROOT, "test", "fixtures", "payloads", "gitlab", "push.json"));
  const gitlab = `${baseUrl}/hooks/z-gl-ok`;
  const base = {
    "content-type": "application/json",
    "x-github-event": "push",
    "user-agent": "GitHub-Hookshot/x",
  };
  const gl = { "content-type": "application/json", "x-gitlab-event": "Push Hook" };
  const id = () => `bad-${randomBytes(6).toString("hex")}`;
  return [
    {
      url: github,
      body,
      headers: { ...base, "x-github-delivery": id(), "x-hub-signature-256": `sha256=${WEBHOOK.github}` },
    },
    {
      url: github,
      body,
      headers: { ...base, "x-github-delivery": id(), "x-hub-signature-256": WEBHOOK.github },
    },
    {
      url: github,
      body,
      headers: { ...base, "x-github-delivery": id(), authorization: `Bearer ${WEBHOOK.github}` },
    },
    { url: github, body, headers: { ...base, "x-github-delivery": id(), "x-gitlab-token": WEBHOOK.github } },
    {
      url: github,
      body,
      headers: {
        ...base,
        "x-github-delivery": id(),
        ...signDelivery({ provider: "github", event: "push", payload: body, secret: "a-wrong-secret" })
          .headers,
      },
    },
    {
      url: gitlab,
      body: gitlabBody,
      headers: { ...gl, "x-gitlab-event-uuid": id(), "x-gitlab-token": `${WEBHOOK.gitlab}x` },
    },
    {
      url: gitlab,
      body: gitlabBody,
      headers: { ...gl, "x-gitlab-event-uuid": id(), "x-gitlab-token": WEBHOOK.github },
    },
    {
      url: gitlab,
      body: gitlabBody,
      headers: { ...gl, "x-gitlab-event-uuid": id(), "x-hub-signature": WEBHOOK.gitlab },
    },
    {
      url: gitlab,
      body: gitlabBody,
      headers: {
        ...gl,
        "x-gitlab-event-uuid": id(),
        authorization: `Basic ${Buffer.from(`ci-bot:${WEBHOOK.gitlab}`).toString("base64")}`,
      },
    },
    {
      url: `${baseUrl}/hooks/z-bb-ok`,
      body,
      headers: {
        "content-type": "application/json",
        "x-event-key": "repo:push",
        "x-request-uuid": id(),
        "x-hub-signature": `sha256=${WEBHOOK.bitbucket}`,
      },
    },
    {
      url: `${baseUrl}/hooks/z-gt-ok`,
      body,
      headers: {
        "content-type": "application/json",
        "x-gitea-event": "push",
        "x-gitea-delivery": id(),
        "x-gitea-signature": WEBHOOK.giteaNew,
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------

/** runSend's exit code and everything it printed, with `env` set (the proxy variables blank unless given). */
async function sendHere(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const vars = { ...NO_PROXY_ENV, ...env };
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const writes = { out: process.stdout.write, err: process.stderr.write };
  let out = "";
  const capture = ((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stdout.write;
  Object.assign(process.env, vars);
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    return { code: await runSend(args), out };
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}

describe("the secret canary: no secret value reaches any output", function () {
  this.timeout(120_000);
  let dir: string;
  let echo: EchoServer;
  let scheme: Plan;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-canary-"));
    const files: Array<[string, string]> = [
      ["README.md", "hello\n"],
      ["buildspec.yml", "version: 0.2\n"],
    ];
    const zip = gitArchiveZip(files, "acme-api-0123456");
    if (!zip) throw new Error("git is needed to build the archives");
    echo = await startEchoServer(zip);
    scheme = plan(echo.url);
    writeFileSync(join(dir, "routes.yaml"), scheme.routes);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify(scheme.secrets, null, 2), { mode: 0o600 });
  });

  after(async () => {
    await echo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs serve over every route, drives every delivery to done or dead, and searches all it wrote. */
  async function serveFindings(
    stateDir: string,
    env: Record<string, string>,
    extra: string[],
  ): Promise<Finding[]> {
    echo.bodies.length = 0;
    const findings: Finding[] = [];
    const needles = needlesOf([...scheme.values, ...extra]);
    const answers: Array<{ where: string; text: string }> = [];
    const serve: ServeChild = await startServe(
      [
        "--routes",
        join(dir, "routes.yaml"),
        "--secrets",
        join(dir, "secrets.json"),
        "--state-dir",
        stateDir,
        "--max-attempts",
        "2",
        "--retry-delay-ms",
        "1",
      ],
      env,
    );
    let seen: DeliveryView[] = [];
    try {
      const sent: string[] = [];
      for (const d of scheme.deliveries) {
        const payload = readFileSync(join(FIXTURES, PAYLOAD_FIXTURES[d.fixture].file));
        const id = `canary-${d.route}-${RUN}`;
        const signed = signDelivery({
          provider: d.provider,
          event: eventOf(d.fixture),
          payload,
          secret: d.secret,
          deliveryId: id,
        });
        const answer = await request(`${serve.url}/hooks/${d.route}`, {
          headers: signed.headers,
          body: signed.body,
        });
        answers.push({ where: `answer to ${d.route}`, text: JSON.stringify(answer.headers) + answer.text });
        expect(answer.status, `${d.route}: ${answer.text}`).to.equal(202);
        sent.push(id);
      }
      for (const bad of badRequests(serve.url)) {
        const answer = await request(bad.url, { headers: bad.headers, body: bad.body });
        answers.push({
          where: `answer to a bad request to ${bad.url}`,
          text: JSON.stringify(answer.headers) + answer.text,
        });
        expect(answer.status, answer.text).to.be.within(400, 499);
      }
      // Bounded: every delivery ends done or dead (two attempts, 1 ms apart), or the test fails naming those left.
      const deadline = Date.now() + 60_000;
      let left: string[] = [];
      do {
        if (left.length > 0) await new Promise((r) => setTimeout(r, 100));
        seen = await deliveries(serve.url);
        left = sent.filter(
          (id) => !seen.some((v) => v.delivery === id && (v.status === "done" || v.status === "dead")),
        );
      } while (left.length > 0 && Date.now() < deadline);
      expect(left, "deliveries that did not end").to.deep.equal([]);
      for (const path of [
        "/_hookgate/deliveries",
        "/_hookgate/deliveries?status=dead",
        "/_hookgate/health",
      ]) {
        const answer = await request(`${serve.url}${path}`, { method: "GET" });
        answers.push({ where: `GET ${path}`, text: answer.text });
      }
    } finally {
      await serve.stop();
    }
    search("serve's stdout and stderr", serve.output(), needles, findings);
    for (const answer of answers) search(answer.where, answer.text, needles, findings);
    for (const file of filesUnder(stateDir))
      search(file.slice(dir.length + 1), readFileSync(file), needles, findings);
    // What went back to the hosts: a commit status's description is public.
    for (const body of echo.bodies) search(`request body sent to ${body.what}`, body.body, needles, findings);
    // The search saw what it had to: both ends of every action, and failures of each kind.
    const ended = (status: string) =>
      new Set(seen.filter((v) => v.status === status).map((v) => v.route.split("-")[0]));
    expect([...ended("done")].sort(), "actions with a delivery done").to.deep.equal([
      "c",
      "cs",
      "j",
      "jc",
      "z",
    ]);
    expect([...ended("dead")].sort(), "actions with a delivery dead").to.deep.equal([
      "c",
      "cs",
      "j",
      "jc",
      "w",
      "z",
    ]);
    expect(filesUnder(join(stateDir, "dead-letters")).length).to.be.greaterThan(100);
    expect(filesUnder(join(stateDir, "s3")).some((f) => f.endsWith(".zip"))).to.equal(true);
    expect(echo.bodies.some((b) => /status/.test(b.what) && b.body.includes("failed"))).to.equal(true);
    return findings;
  }

  it("hookgate serve writes no secret to its output, its state dir, its endpoints or its answers, whatever the servers its actions call answer", async () => {
    const findings = await serveFindings(join(dir, "state"), {}, []);
    expect(findings, `secrets found:\n${report(findings)}`).to.deep.equal([]);
  });

  it("nor through an egress proxy with a password, which every server echoes and the html403 ones refuse (407)", async () => {
    const password = canary("proxypassword");
    const proxy = `http://proxyuser:${password}@127.0.0.1:${echo.port}`;
    const stateDir = join(dir, "state-proxy");
    const findings = await serveFindings(stateDir, { HTTP_PROXY: proxy, http_proxy: proxy }, [password]);
    expect(findings, `secrets found:\n${report(findings)}`).to.deep.equal([]);
    const dead = readdirSync(join(stateDir, "dead-letters"))
      .map((f) => readFileSync(join(stateDir, "dead-letters", f), "utf8"))
      .join("\n");
    expect(dead).to.include("the egress proxy http://127.0.0.1:");
  });

  it("hookgate check and explain print no secret value pasted into routes.yaml where a name belongs", async () => {
    const pasted = {
      github: `ghp_CANARY${RUN}pastedgithubtoken`,
      gitlab: `glpat-CANARY-gitlabtoken-${RUN}`,
      spaced: `CANARY-spaced-${RUN} with a space`,
      pem: `-----BEGIN PRIVATE KEY-----CANARY-pem-${RUN}`,
      urlPassword: canary("jenkinsurlpassword"),
      urlQuery: canary("apiurlquery"),
      signing: `whsec_${Buffer.from(canary("pastedsigning")).toString("base64")}`,
    };
    const file = join(dir, "pasted.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "providers:",
        `  github: { token: "${pasted.github}" }`,
        `  gitlab: { apiUrl: "https://gitlab.example.com/api/v4?private_token=${pasted.urlQuery}", token: "${pasted.gitlab}" }`,
        "routes:",
        "  - name: a",
        `    secret: "${pasted.spaced}"`,
        "    match: {}",
        `    action: { type: jenkins, job: a, jenkins: { url: "https://ci:${pasted.urlPassword}@jenkins.example.com", credentials: "${pasted.pem}" } }`,
        "  - name: b",
        "    provider: gitlab",
        `    secret: "${pasted.signing}"`,
        "    match: {}",
        "    action: { type: s3-zip }",
        "",
      ].join("\n"),
    );
    const needles = needlesOf(Object.values(pasted));
    const findings: Finding[] = [];
    const push = ["--payload", join(FIXTURES, "github", "push.json"), "--event", "push"];
    const valid = join(dir, "routes.yaml");
    // Side by side: each is a process of its own.
    const [check, explain, good, matched] = await Promise.all([
      run(["check", "--routes", file]),
      run(["explain", "--routes", file, ...push]),
      run(["check", "--routes", valid]),
      run(["explain", "--routes", valid, ...push]),
    ]);
    expect(check.code, check.out).to.equal(1);
    expect(check.out).to.include("looks like a secret value");
    search("hookgate check", check.out, needles, findings);
    expect(explain.code, explain.out).to.equal(1);
    search("hookgate explain", explain.out, needles, findings);
    // The serving file's secrets are names: check and explain list them, never a value.
    expect(good.code, good.out).to.equal(0);
    search("hookgate check (valid file)", good.out, needlesOf(scheme.values), findings);
    expect(matched.code, matched.out).to.equal(0);
    search("hookgate explain (valid file)", matched.out, needlesOf(scheme.values), findings);
    expect(findings, `secrets found:\n${report(findings)}`).to.deep.equal([]);
  });

  it("hookgate send prints no secret: answers that echo the signatures, a URL or proxy with a password, bad secrets", async () => {
    const secrets = join(dir, "secrets.json");
    const urlPassword = canary("sendurlpassword");
    const proxyPassword = canary("sendproxypassword");
    const argvSecret = canary("sendargv");
    // Echoed in URLs built around them (the setters encode ' + ( ) ! ~ otherwise than encodeURIComponent does).
    const glToken = canary("sendgltoken");
    const proxyCanary = canary("sendproxyshaped");
    const malformed = canary("sendmalformed");
    const badProxy = canary("sendbadproxy");
    const file = join(dir, "send-secrets.json");
    writeFileSync(file, JSON.stringify({ "wh/malformed": { secret: 5, note: malformed } }));
    const payload = join(FIXTURES, "github", "push.json");
    const glPayload = join(FIXTURES, "gitlab", "push.json");
    const findings: Finding[] = [];
    const needles = needlesOf([
      ...scheme.values,
      urlPassword,
      proxyPassword,
      argvSecret,
      glToken,
      proxyCanary,
      malformed,
      badProxy,
    ]);
    const hooks = `${echo.url}/hooks/j-ok`;
    const runs: Array<{ args: string[]; env?: Record<string, string>; code: number }> = [];
    for (const [provider, name] of [
      ["github", "wh/github"],
      ["gitlab", "wh/gitlab"],
      ["gitlab", "wh/gitlab-signing"],
      ["bitbucket", "wh/bitbucket"],
      ["bitbucket-server", "wh/bitbucket-server"],
      ["gitea", "wh/gitea"],
    ] as const) {
      const body = provider.startsWith("gitlab") ? glPayload : payload;
      runs.push({
        args: [
          "--url",
          hooks,
          "--secrets",
          secrets,
          "--secret-name",
          name,
          "--provider",
          provider,
          "--event",
          "push",
          "--payload",
          body,
        ],
        code: 1,
      });
    }
    const withUser = `http://hookgate:${urlPassword}@127.0.0.1:${echo.port}/hooks/j-ok`;
    const base = [
      "--secrets",
      secrets,
      "--secret-name",
      "wh/github",
      "--event",
      "push",
      "--payload",
      payload,
    ];
    runs.push({ args: ["--url", withUser, ...base], code: 1 });
    runs.push({ args: ["--url", `http://hookgate:${urlPassword}@127.0.0.1:1/hooks/j-ok`, ...base], code: 1 });
    runs.push({
      args: [
        "--url",
        hooks,
        "--secret",
        argvSecret,
        "--event",
        "push",
        "--payload",
        join(dir, "missing.json"),
      ],
      code: 1,
    });
    runs.push({
      args: ["--url", hooks, "--secret", argvSecret, "--event", "push", "--payload", payload],
      code: 1,
    });
    runs.push({
      args: [
        "--url",
        hooks,
        "--secrets",
        file,
        "--secret-name",
        "wh/malformed",
        "--event",
        "push",
        "--payload",
        payload,
      ],
      code: 1,
    });
    const glArgs = ["--provider", "gitlab", "--event", "push", "--payload", glPayload];
    runs.push({ args: ["--url", hooks, "--secret", `it's ${glToken}/(x)!~+`, ...glArgs], code: 1 });
    const shapedProxy = encodeURIComponent(`p'w ${proxyCanary}+(x)!`);
    runs.push({
      args: ["--url", "http://hookgate.test/hooks/j-ok", ...base],
      env: { HTTP_PROXY: `http://proxyuser:${shapedProxy}@127.0.0.1:${echo.port}` },
      code: 1,
    });
    const proxy = { HTTP_PROXY: `http://proxyuser:${proxyPassword}@127.0.0.1:${echo.port}` };
    runs.push({ args: ["--url", "http://hookgate.test/hooks/j-ok", ...base], env: proxy, code: 1 });
    runs.push({
      args: ["--url", "http://hookgate.test/mode-html403/hooks/j-ok", ...base],
      env: proxy,
      code: 1,
    });
    runs.push({
      args: ["--url", "http://hookgate.test/hooks/j-ok", ...base],
      env: { HTTP_PROXY: `http://u:${badProxy} x` },
      code: 2,
    });
    // In this process (runSend, what `hookgate send` runs), but for one through the command itself.
    let printed = "";
    for (const each of runs) {
      const result = await sendHere(each.args, each.env);
      printed += result.out;
      const where = `hookgate send ${mask(each.args.join(" ")).replace(dir, "<dir>")}`;
      expect(result.code, `${where}\n${mask(result.out)}`).to.equal(each.code);
      search(where, result.out, needles, findings);
    }
    // What the search had to see: answers echoing the signatures, directly and through the proxy, and its 407.
    expect(printed).to.include("HTTP 401").and.include('"x-hub-signature-256":"sha256=');
    expect(printed).to.include("through the proxy http://127.0.0.1:").and.include("refused it (407)");
    const command = await run(["send", "--url", withUser, ...base]);
    expect(command.code, mask(command.out)).to.equal(1);
    search("the command hookgate send", command.out, needles, findings);
    // And serve refuses a proxy variable that is no URL without echoing it.
    const refused = await run(
      [
        "serve",
        "--port",
        "0",
        "--routes",
        join(dir, "routes.yaml"),
        "--secrets",
        secrets,
        "--state-dir",
        join(dir, "state-refused"),
      ],
      {
        HTTPS_PROXY: `http://u:${badProxy} x`,
      },
    );
    expect(refused.code).to.not.equal(0);
    search("hookgate serve with a bad proxy variable", refused.out, needles, findings);
    expect(findings, `secrets found:\n${report(findings)}`).to.deep.equal([]);
  });
});
