// `hookgate send` against `hookgate serve` (both child processes), and signDelivery for every provider. What send
// puts on the wire and prints is checked in process (main, as bin/hookgate.js calls it): a child's start costs
// about a second each; `hookgate send` itself still runs as a child against serve and behind a proxy.

import { constants } from "node:buffer";
import { spawn } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type RequestListener, type ServerResponse } from "node:http";
import { createServer as createSecureServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { proxySettings } from "../../src/actions/proxy";
import { connectUrl } from "../../src/cli/commandKit";
import { main } from "../../src/cli/main";
import { isCredentialHeader, sendFailure, sendProxy, signDelivery } from "../../src/cli/send";
import { providerEventName } from "../../src/core/events/eventNames";
import type { Provider } from "../../src/core/types";
import {
  type ForwardProxy,
  type StalledProxy,
  startForwardProxy,
  startStalledProxy,
} from "../support/forwardProxy";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import {
  BIN,
  deliveries,
  NO_PROXY_ENV,
  REPO_ROOT,
  request,
  type ServeChild,
  startServe,
  waitForDelivery,
} from "./serveHarness";

const GITLAB_SIGNING_TOKEN = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const SECRETS = {
  "test/github-webhook": "send-test-github-secret",
  "test/gitlab-token": "send-test-gitlab-token",
  "test/gitlab-signing": GITLAB_SIGNING_TOKEN,
  "test/bitbucket-webhook": { secret: "send-test-bitbucket-secret" },
  "test/bbs-webhook": "send-test-bbs-secret",
  "test/gitea-webhook": "send-test-gitea-secret",
  "test/jenkins": { user: "ci-bot", token: "11aa22bb33cc44dd55ee66ff77gg88hh" },
};
const fixture = (path: string) => readFileSync(join(REPO_ROOT, path));

function routesYaml(jenkinsUrl: string): string {
  const route = (name: string, provider: string, secret: string, repos: string) => `  - name: ${name}
    provider: ${provider}
    secret: ${secret}
    match: { repos: ["${repos}"], events: [push, pull_request] }
    action: { type: jenkins, job: ${name}/build, parameters: { DELIVERY: "{{deliveryId}}" } }
`;
  return `version: 1
defaults:
  jenkins: { url: "${jenkinsUrl}", credentials: test/jenkins }
routes:
${route("gh", "github", "test/github-webhook", "acme/*")}${route("lab", "gitlab", "test/gitlab-token", "platform/**")}${route("lab-signed", "gitlab", "test/gitlab-signing", "platform/**")}${route("bb", "bitbucket", "test/bitbucket-webhook", "team/*")}${route("bbs", "bitbucket-server", "test/bbs-webhook", "**")}${route("tea", "gitea", "test/gitea-webhook", "**")}`;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `hookgate send` with `args`, in an environment without proxy variables but those of `env`; killed (code
 * null) if it is still running after `killAfterMs`.
 */
function runSendCli(args: string[], env: Record<string, string> = {}, killAfterMs?: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "send", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...NO_PROXY_ENV, ...env },
    });
    const kill = killAfterMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("exit", () => clearTimeout(kill));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** In-process runs take the process's stdout, stderr and environment: one at a time. */
let inProcess: Promise<unknown> = Promise.resolve();

/**
 * `hookgate send` with `args` in this process (main(["send", ...args]), as bin/hookgate.js runs it), its output
 * captured and its environment without proxy variables but those of `env`, run from the repository's root as
 * runSendCli's child is. Not for anything read at a process's start (NODE_EXTRA_CA_CERTS): runSendCli there.
 */
function runSendHere(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const run = inProcess.then(() => sendInProcess(args, env));
  inProcess = run.catch(() => undefined);
  return run;
}

async function sendInProcess(args: string[], env: Record<string, string>): Promise<Run> {
  const vars = { ...NO_PROXY_ENV, ...env };
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const cwd = process.cwd();
  const output = { stdout: "", stderr: "" };
  const into = (stream: "stdout" | "stderr") =>
    ((chunk: string | Uint8Array) => {
      output[stream] += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    }) as typeof process.stdout.write;
  Object.assign(process.env, vars);
  process.stdout.write = into("stdout");
  process.stderr.write = into("stderr");
  process.chdir(REPO_ROOT);
  try {
    // main's own messages go where runSend's do: the captured streams.
    const code = await main(["send", ...args], {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
    return { code, ...output };
  } finally {
    process.chdir(cwd);
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe("Command: hookgate send (against hookgate serve)", function () {
  this.timeout(30_000);
  let dir: string;
  let secretsFile: string;
  let jenkins: JenkinsServer;
  let serve: ServeChild;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-send-"));
    secretsFile = join(dir, "secrets.json");
    writeFileSync(secretsFile, JSON.stringify(SECRETS));
    jenkins = await startJenkinsServer();
    writeFileSync(join(dir, "routes.yaml"), routesYaml(jenkins.url));
    serve = await startServe([
      "--routes",
      join(dir, "routes.yaml"),
      "--secrets",
      secretsFile,
      "--state-dir",
      join(dir, "state"),
      "--retry-delay-ms",
      "50",
    ]);
  });

  after(async () => {
    await serve?.stop("SIGKILL");
    await jenkins?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("the CLI", () => {
    it("send --secrets FILE --secret-name NAME posts the example push: HTTP 202, exit 0, the build runs", async () => {
      const delivery = randomUUID();
      const run = await runSendCli([
        "--url",
        `${serve.url}/hooks/gh`,
        "--secrets",
        secretsFile,
        "--secret-name",
        "test/github-webhook",
        "--event",
        "push",
        "--payload",
        "examples/github-push.json",
        "--delivery",
        delivery,
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/^HTTP 202/);
      expect(run.stdout).to.include('"status":"queued"');
      await waitForDelivery(serve.url, delivery, (e) => e.status === "done");
      expect(jenkins.builds().filter((b) => b.form.DELIVERY === delivery)).to.have.length(1);
    });

    it("send --form with a reused --delivery gets 200 duplicate (form body signed as GitHub does)", async () => {
      const delivery = randomUUID();
      const args = (form: boolean) => [
        "--url",
        `${serve.url}/hooks/gh`,
        "--secret",
        SECRETS["test/github-webhook"],
        "--event",
        "push",
        "--payload",
        "examples/github-push.json",
        "--delivery",
        delivery,
        ...(form ? ["--form"] : []),
      ];
      const first = await runSendCli(args(true));
      expect(first.stdout).to.match(/^HTTP 202/);
      const second = await runSendCli(args(false));
      expect(second.code).to.equal(0);
      expect(second.stdout).to.match(/^HTTP 200/);
      expect(second.stdout).to.include('"status":"duplicate"');
    });

    it("send with the wrong --secret prints the 401 and exits 1", async () => {
      const run = await runSendCli([
        "--url",
        `${serve.url}/hooks/gh`,
        "--secret",
        "not-the-secret",
        "--event",
        "push",
        "--payload",
        "examples/github-push.json",
      ]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.match(/^HTTP 401/);
    });

    it("send's HTTP line names the gateway's delivery id beside the one sent when they differ (a GitLab delivery on a GitHub route: the body's hash), and the sent one alone when they agree", async () => {
      const payload = "test/fixtures/payloads/gitlab/push.json";
      const gitlab = (route: string, delivery: string) =>
        runSendHere(
          [
            "--url",
            `${serve.url}/hooks/${route}`,
            "--secret",
            SECRETS["test/gitlab-token"],
            "--event",
            "push",
          ].concat(["--payload", payload, "--provider", "gitlab", "--delivery", delivery]),
        );
      const hash = `sha256:${createHash("sha256").update(fixture(payload)).digest("hex")}`;
      const onGithub = await gitlab("gh", "lab-on-gh-1");
      expect(onGithub.code).to.equal(1);
      expect(onGithub.stdout).to.match(
        new RegExp(
          `^HTTP 401 Unauthorized \\(delivery lab-on-gh-1 sent; the gateway's id: ${hash}, the body's hash, as the route found no delivery id header it reads\\)\n`,
        ),
      );
      expect(JSON.parse(onGithub.stdout.split("\n")[1] as string)).to.include({ delivery: hash });

      const onGitlab = await gitlab("lab", "lab-on-lab-1");
      expect(onGitlab.stdout).to.match(/^HTTP 20[02] \S+ \(delivery lab-on-lab-1\)\n/);
      expect(JSON.parse(onGitlab.stdout.split("\n")[1] as string)).to.include({ delivery: "lab-on-lab-1" });

      // The spaces HTTP and the gateway trim off do not make another id.
      const padded = await gitlab("lab", " lab-padded-1 ");
      expect(padded.stdout).to.match(/^HTTP 20[02] \S+ \(delivery lab-padded-1\)\n/);
      expect(JSON.parse(padded.stdout.split("\n")[1] as string)).to.include({ delivery: "lab-padded-1" });
    });

    it("send exits 1 with a clear message for a missing payload file or secret name, and 2 for bad usage", async () => {
      const [noPayload, noSecret, usage] = await Promise.all([
        runSendHere([
          "--url",
          `${serve.url}/hooks/gh`,
          "--secret",
          "x",
          "--event",
          "push",
          "--payload",
          "nope.json",
        ]),
        runSendHere([
          "--url",
          `${serve.url}/hooks/gh`,
          "--secrets",
          secretsFile,
          "--secret-name",
          "test/absent",
          "--event",
          "push",
          "--payload",
          "examples/github-push.json",
        ]),
        runSendHere(["--url", "not a url", "--secret", "x", "--event", "push", "--payload", "x.json"]),
      ]);
      const formOnGitlab = await runSendHere(
        ["--url", `${serve.url}/hooks/lab`, "--secret", "x", "--event", "push", "--payload", "x.json"].concat(
          ["--provider", "gitlab", "--form"],
        ),
      );
      expect(formOnGitlab.code).to.equal(2);
      expect(formOnGitlab.stderr).to.include("--form is only for --provider github or gitea");
      expect(noPayload.code).to.equal(1);
      expect(noPayload.stderr).to.include("nope.json not found");
      expect(noSecret.code).to.equal(1);
      expect(noSecret.stderr).to.include('"test/absent"');
      expect(usage.code).to.equal(2);
      expect(usage.stderr).to.include("--url");
    });
  });

  describe("Function: signDelivery, verified by serve for each provider", () => {
    const cases: Array<{ provider: Provider; route: string; secret: string; event: string; file: string }> = [
      {
        provider: "github",
        route: "gh",
        secret: "send-test-github-secret",
        event: "push",
        file: "examples/github-push.json",
      },
      {
        provider: "github",
        route: "gh",
        secret: "send-test-github-secret",
        event: "pull_request",
        file: "examples/github-pr-closed-merged.json",
      },
      {
        provider: "gitlab",
        route: "lab",
        secret: "send-test-gitlab-token",
        event: "push",
        file: "examples/gitlab-push.json",
      },
      {
        provider: "gitlab",
        route: "lab-signed",
        secret: GITLAB_SIGNING_TOKEN,
        event: "push",
        file: "examples/gitlab-push.json",
      },
      {
        provider: "bitbucket",
        route: "bb",
        secret: "send-test-bitbucket-secret",
        event: "push",
        file: "examples/bitbucket-push.json",
      },
      {
        provider: "bitbucket-server",
        route: "bbs",
        secret: "send-test-bbs-secret",
        event: "push",
        file: "test/fixtures/payloads/bitbucket-server/repo-refs_changed.json",
      },
      {
        provider: "gitea",
        route: "tea",
        secret: "send-test-gitea-secret",
        event: "push",
        file: "test/fixtures/payloads/gitea/push.json",
      },
    ];
    for (const c of cases) {
      const signing = c.secret.startsWith("whsec_") ? ", a whsec_ signing token" : "";
      it(`signDelivery({provider: "${c.provider}", event: "${c.event}"${signing}}) of ${c.file} is accepted with 202`, async () => {
        const delivery = randomUUID();
        const payload = fixture(c.file);
        const signed = signDelivery({
          provider: c.provider,
          event: c.event,
          payload,
          secret: c.secret,
          deliveryId: delivery,
        });
        expect(signed.body.equals(payload)).to.equal(true); // byte for byte
        const answer = await request(`${serve.url}/hooks/${c.route}`, {
          headers: signed.headers,
          body: signed.body,
        });
        expect(answer.status, answer.text).to.equal(202);
        expect(answer.json.delivery).to.equal(delivery);
      });

      it(`signDelivery({provider: "${c.provider}"${signing}}) signed with another secret is rejected with 401`, async () => {
        const signed = signDelivery({
          provider: c.provider,
          event: c.event,
          payload: fixture(c.file),
          secret: signing ? `whsec_${Buffer.alloc(32, 8).toString("base64")}` : "wrong",
        });
        const answer = await request(`${serve.url}/hooks/${c.route}`, {
          headers: signed.headers,
          body: signed.body,
        });
        expect(answer.status).to.equal(401);
      });
    }

    it('signDelivery({provider: "gitea", form: true}) sends payload=<json> signed over the JSON, as Gitea does, and is accepted with 202', async () => {
      const payload = fixture("test/fixtures/payloads/gitea/push.json");
      const signed = signDelivery({
        provider: "gitea",
        event: "push",
        payload,
        secret: "send-test-gitea-secret",
        form: true,
      });
      expect(signed.headers["content-type"]).to.equal("application/x-www-form-urlencoded");
      expect(new URLSearchParams(signed.body.toString("utf8")).get("payload")).to.equal(
        payload.toString("utf8"),
      );
      const answer = await request(`${serve.url}/hooks/tea`, { headers: signed.headers, body: signed.body });
      expect(answer.status, answer.text).to.equal(202);
    });

    it("the deliveries log shows the accepted deliveries of every provider", async () => {
      const routes = new Set(
        (await deliveries(serve.url)).filter((d) => d.httpStatus === 202).map((d) => d.route),
      );
      expect([...routes].sort()).to.include.members(["bb", "bbs", "gh", "lab", "tea"]);
    });
  });
});

/**
 * An HTTP server (HTTPS with `tls`) that keeps what each request put on the wire, and answers as `answer`
 * says.
 */
async function startCaptureServer(
  answer: (res: ServerResponse) => void = (res) => res.end('{"status":"ok"}'),
  tls?: { key: Buffer; cert: Buffer },
): Promise<{ url: string; requests: CapturedRequest[]; close(): Promise<void> }> {
  const requests: CapturedRequest[] = [];
  const keep: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers[(req.rawHeaders[i] as string).toLowerCase()] = req.rawHeaders[i + 1] as string;
      }
      requests.push({ method: req.method ?? "", headers, raw: req.rawHeaders, body: Buffer.concat(chunks) });
      answer(res);
    });
  };
  const server = tls ? createSecureServer(tls, keep) : createServer(keep);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/capture`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface CapturedRequest {
  method: string;
  /** The last value of each header, by lower-case name. */
  headers: Record<string, string>;
  /** Every header line as sent: name, value, name, value, ... */
  raw: string[];
  body: Buffer;
}

const hmac = (algorithm: string, secret: string, body: Buffer) =>
  createHmac(algorithm, secret).update(body).digest("hex");

describe("Command: hookgate send (what it puts on the wire)", function () {
  this.timeout(30_000);
  let capture: Awaited<ReturnType<typeof startCaptureServer>>;
  let dir: string;

  before(async () => {
    capture = await startCaptureServer();
    dir = mkdtempSync(join(tmpdir(), "hookgate-send-wire-"));
  });
  after(async () => {
    await capture.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** send with the example push to `url`, plus `args`. */
  const pushTo = (url: string, ...args: string[]) =>
    runSendHere(["--url", url, "--event", "push", "--payload", "examples/github-push.json", ...args]);
  const send = (provider: string, secret: string, ...extra: string[]) =>
    pushTo(capture.url, "--secret", secret, "--provider", provider, "--delivery", "wire-1", ...extra);

  // The header names each provider sends (besides host, content-length and connection), from its docs
  // (GitHub, GitLab, Bitbucket Cloud) or its source (Gitea's services/webhook/deliver.go).
  const wire: Array<{
    provider: string;
    secret: string;
    headers: string[];
    signed: (s: string, b: Buffer) => Record<string, string>;
  }> = [
    {
      provider: "github",
      secret: "wire-secret",
      headers: [
        "accept",
        "content-type",
        "user-agent",
        "x-github-delivery",
        "x-github-event",
        "x-github-hook-id",
        "x-github-hook-installation-target-id",
        "x-github-hook-installation-target-type",
        "x-hub-signature",
        "x-hub-signature-256",
      ],
      signed: (s, b) => ({
        "x-hub-signature": `sha1=${hmac("sha1", s, b)}`,
        "x-hub-signature-256": `sha256=${hmac("sha256", s, b)}`,
      }),
    },
    {
      provider: "gitlab",
      secret: "wire-token",
      headers: [
        "content-type",
        "idempotency-key",
        "user-agent",
        "x-gitlab-event",
        "x-gitlab-event-uuid",
        "x-gitlab-instance",
        "x-gitlab-token",
        "x-gitlab-webhook-uuid",
      ],
      signed: (s) => ({ "x-gitlab-token": s }),
    },
    {
      provider: "gitlab",
      secret: GITLAB_SIGNING_TOKEN,
      headers: [
        "content-type",
        "idempotency-key",
        "user-agent",
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
        "x-gitlab-event",
        "x-gitlab-event-uuid",
        "x-gitlab-instance",
        "x-gitlab-webhook-uuid",
      ],
      signed: () => ({ "webhook-id": "wire-1" }),
    },
    {
      provider: "bitbucket",
      secret: "wire-secret",
      headers: [
        "content-type",
        "user-agent",
        "x-attempt-number",
        "x-event-key",
        "x-hook-uuid",
        "x-hub-signature",
        "x-request-uuid",
      ],
      signed: (s, b) => ({ "x-hub-signature": `sha256=${hmac("sha256", s, b)}` }),
    },
    {
      provider: "gitea",
      secret: "wire-secret",
      headers: [
        "content-type",
        "user-agent",
        "x-gitea-delivery",
        "x-gitea-event",
        "x-gitea-event-type",
        "x-gitea-hook-installation-target-type",
        "x-gitea-signature",
        "x-github-delivery",
        "x-github-event",
        "x-github-event-type",
        "x-github-hook-installation-target-type",
        "x-gogs-delivery",
        "x-gogs-event",
        "x-gogs-event-type",
        "x-gogs-signature",
        "x-hub-signature",
        "x-hub-signature-256",
      ],
      signed: (s, b) => ({
        "x-gitea-signature": hmac("sha256", s, b),
        "x-gogs-signature": hmac("sha256", s, b),
        "x-hub-signature": `sha1=${hmac("sha1", s, b)}`,
        "x-hub-signature-256": `sha256=${hmac("sha256", s, b)}`,
      }),
    },
  ];
  it("--provider gitea puts a Gitea event type in the Event-Type headers and the event it folds into in the Event headers, as Gitea does", async () => {
    const before = capture.requests.length;
    const run = await runSendHere([
      "--url",
      capture.url,
      "--event",
      "pull_request_sync",
      "--payload",
      "examples/github-pr-closed-merged.json",
      "--secret",
      "wire-secret",
      "--provider",
      "gitea",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const got = capture.requests[before] as CapturedRequest;
    for (const prefix of ["x-gitea", "x-gogs", "x-github"]) {
      expect(got.headers[`${prefix}-event`], prefix).to.equal("pull_request");
      expect(got.headers[`${prefix}-event-type`], prefix).to.equal("pull_request_sync");
    }
  });

  it("--insecure-header adds a header line, never replacing one: a second signature header goes out beside the first", async () => {
    const before = capture.requests.length;
    const run = await send("github", "wire-secret", "--insecure-header", "X-Hub-Signature-256: sha256=00");
    expect(run.code, run.stderr).to.equal(0);
    const got = capture.requests[before] as CapturedRequest;
    const signatures = got.raw.filter(
      (_, i) => i % 2 === 1 && got.raw[i - 1]?.toLowerCase() === "x-hub-signature-256",
    );
    expect(signatures).to.have.length(2);
    expect(signatures).to.include("sha256=00");
  });

  for (const c of wire) {
    const kind = c.secret.startsWith("whsec_") ? " with a whsec_ signing token" : "";
    it(`--provider ${c.provider}${kind} sends exactly that provider's headers, signed over the bytes received`, async () => {
      const before = capture.requests.length;
      const run = await send(c.provider, c.secret);
      expect(run.code, run.stderr).to.equal(0);
      const got = capture.requests[before] as CapturedRequest;
      const names = Object.keys(got.headers)
        .filter((n) => !["host", "content-length", "connection"].includes(n))
        .sort();
      expect(names).to.deep.equal(c.headers);
      expect(got.body.equals(readFileSync(join(REPO_ROOT, "examples/github-push.json")))).to.equal(true);
      expect(got.headers).to.include(c.signed(c.secret, got.body));
      if (kind) expect(JSON.stringify(got.headers)).not.to.include(c.secret); // a signing token is never sent
    });
  }

  it("a secret from a secrets file is read as the gateway reads it: the first value of {secret, value}; a number is refused", async () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ structured: { secret: "", value: "v2" }, empty: { secret: "" } }));
    const fromFile = (name: string, secrets = file) =>
      pushTo(capture.url, "--secrets", secrets, "--secret-name", name);
    const structured = await fromFile("structured");
    expect(structured.code, structured.stderr).to.equal(0);
    const body = readFileSync(join(REPO_ROOT, "examples/github-push.json"));
    expect(capture.requests.at(-1)?.headers["x-hub-signature-256"]).to.equal(
      `sha256=${hmac("sha256", "v2", body)}`,
    );
    const empty = await fromFile("empty");
    expect(empty.code).to.equal(1);
    expect(empty.stderr).to.include(`secret "empty" in ${file} holds no value`);
    const numbers = join(dir, "numbers.json");
    writeFileSync(numbers, JSON.stringify({ number: 12345 }));
    const number = await fromFile("number", numbers);
    expect(number.code).to.equal(1);
    expect(number.stderr).to.include(`${numbers}: "number" is a number; write the secret as a string`);
  });

  it("send --secrets FILE --secret-name of a JSON object the gateway reads as no webhook secret (Jenkins credentials) says so on stderr, with its number of keys and where check names the route's webhook secret, never a key, a value or another entry's name, and still sends it signed with its whole text", async () => {
    const file = join(dir, "jenkins-secrets.json");
    const jenkins = { user: "ci-bot-user", token: "11aa22bb33cc44dd55ee66ff77889900aa" };
    writeFileSync(
      file,
      JSON.stringify({
        "hookgate/github-webhook": "wire-secret",
        "hookgate/jenkins": jenkins,
        "hookgate/rotating": ["new-secret", "old-secret"],
        "hookgate/other-jenkins": { user: "u", token: "t" },
        "hookgate/github-token": "ghp-an-api-token",
      }),
    );
    const before = capture.requests.length;
    const run = await pushTo(capture.url, "--secrets", file, "--secret-name", "hookgate/jenkins");
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.include(
      `hookgate send: note: secret "hookgate/jenkins" in ${file} is a JSON object with 2 keys and no field the gateway reads as a webhook secret ("secret", "secrets", "value"); signed with its whole text, as the gateway would check it; \`hookgate check\` lists the name of each route's webhook secret (HOLDS "webhook secret")\n`,
    );
    // Without the routes send cannot tell an API token from a webhook secret: it names no other entry.
    for (const word of ["ci-bot-user", jenkins.token, '"user"', '"token"', "hookgate/github-token"]) {
      expect(run.stdout + run.stderr).not.to.include(word);
    }
    const got = capture.requests[before] as CapturedRequest;
    expect(got.headers["x-hub-signature-256"]).to.equal(
      `sha256=${hmac("sha256", JSON.stringify(jenkins), got.body)}`,
    );

    const plain = await pushTo(capture.url, "--secrets", file, "--secret-name", "hookgate/github-webhook");
    expect(plain.code, plain.stderr).to.equal(0);
    expect(plain.stderr).to.equal("");
  });

  it("send --provider gitlab --secrets FILE refuses, with exit 1 and nothing sent, a JSON object the gateway reads as no webhook secret, which would travel whole in X-Gitlab-Token, and names no other entry (the GitLab API token would travel so too)", async () => {
    const file = join(dir, "jenkins-gitlab-secrets.json");
    const jenkins = { user: "ci-bot-user", token: "11aa22bb33cc44dd55ee66ff77889900aa" };
    writeFileSync(
      file,
      JSON.stringify({
        "hookgate/gitlab": "gl-token",
        "hookgate/gitlab-token": "glpat-an-api-token",
        "hookgate/jenkins": jenkins,
      }),
    );
    const before = capture.requests.length;
    const run = await pushTo(
      capture.url,
      "--provider",
      "gitlab",
      "--secrets",
      file,
      "--secret-name",
      "hookgate/jenkins",
    );
    expect(run.code).to.equal(1);
    expect(capture.requests).to.have.length(before);
    expect(run.stderr).to.include(
      `hookgate send: secret "hookgate/jenkins" in ${file} is a JSON object with 2 keys and no field the gateway reads as a webhook secret ("secret", "secrets", "value"); not sent: as a GitLab secret token its whole text would go on the wire in X-Gitlab-Token; \`hookgate check\` lists the name of each route's webhook secret (HOLDS "webhook secret")\n`,
    );
    for (const word of ["ci-bot-user", jenkins.token, "hookgate/gitlab-token"]) {
      expect(run.stdout + run.stderr).not.to.include(word);
    }
  });

  it("send --provider gitlab --secrets FILE signs with the whsec_ signing token when the secret holds the old token beside it, and sends no token", async () => {
    const file = join(dir, "gitlab-secrets.json");
    const signing = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
    writeFileSync(file, JSON.stringify({ gitlab: ["old-gitlab-token", signing] }));
    const run = await pushTo(
      capture.url,
      "--provider",
      "gitlab",
      "--secrets",
      file,
      "--secret-name",
      "gitlab",
    );
    expect(run.code, run.stderr).to.equal(0);
    const got = capture.requests.at(-1) as CapturedRequest;
    expect(got.headers).to.have.property("webhook-signature");
    expect(got.headers).to.not.have.property("x-gitlab-token");
  });

  it('--secret given a stored secret string ({"secrets": [new, old]}, as Secrets Manager holds it) signs as --secrets with the same value does: with its first value', async () => {
    const stored = JSON.stringify({ secrets: ["new-secret-1234", "old-secret-5678"] });
    const file = join(dir, "rotating-secrets.json");
    writeFileSync(file, JSON.stringify({ rotating: JSON.parse(stored) }));
    const given = await send("github", stored);
    expect(given.code, given.stderr).to.equal(0);
    const byFlag = capture.requests.at(-1) as CapturedRequest;
    expect(byFlag.headers["x-hub-signature-256"]).to.equal(
      `sha256=${hmac("sha256", "new-secret-1234", byFlag.body)}`,
    );
    const fromFile = await pushTo(
      capture.url,
      "--secrets",
      file,
      "--secret-name",
      "rotating",
      "--delivery",
      "wire-1",
    );
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    const byFile = capture.requests.at(-1) as CapturedRequest;
    expect(byFile.headers["x-hub-signature-256"]).to.equal(byFlag.headers["x-hub-signature-256"]);
  });

  it("--provider gitlab --secret given a stored list holding the old token and a whsec_ signing token signs with the signing token and sends no token", async () => {
    const run = await send("gitlab", JSON.stringify({ secrets: ["old-gitlab-token", GITLAB_SIGNING_TOKEN] }));
    expect(run.code, run.stderr).to.equal(0);
    const got = capture.requests.at(-1) as CapturedRequest;
    expect(got.headers).to.have.property("webhook-signature");
    expect(got.headers).to.not.have.property("x-gitlab-token");
    expect(JSON.stringify(got.headers)).not.to.include("old-gitlab-token");
  });

  it("--provider gitlab --secret given a JSON object with no field the gateway reads is refused (exit 2, nothing sent), never going whole into X-Gitlab-Token", async () => {
    const before = capture.requests.length;
    const run = await send(
      "gitlab",
      JSON.stringify({ token: "gl-token-abcdef", signingToken: GITLAB_SIGNING_TOKEN }),
    );
    expect(run.code).to.equal(2);
    expect(capture.requests).to.have.length(before);
    expect(run.stderr).to.include(
      "hookgate send: --secret is a JSON object with 2 keys and no field the gateway reads as a webhook secret",
    );
    expect(run.stderr).to.include("not sent: as a GitLab secret token its whole text would go on the wire");
    for (const word of ["gl-token-abcdef", GITLAB_SIGNING_TOKEN, "signingToken"]) {
      expect(run.stdout + run.stderr).not.to.include(word);
    }
  });

  it('--secret given a stored string that holds no value ({"secret": "  "}) is a usage error (exit 2), and nothing is sent', async () => {
    const before = capture.requests.length;
    const run = await send("github", JSON.stringify({ secret: "  " }));
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include("hookgate send: --secret holds no value");
    expect(capture.requests).to.have.length(before);
  });

  it("send --provider gitlab --secrets FILE sends a token stored with a trailing newline trimmed in X-Gitlab-Token, as the gateway takes it", async () => {
    const file = join(dir, "gitlab-newline-secrets.json");
    writeFileSync(file, JSON.stringify({ gitlab: "gl-token-123\n" }));
    const run = await pushTo(
      capture.url,
      "--provider",
      "gitlab",
      "--secrets",
      file,
      "--secret-name",
      "gitlab",
    );
    expect(run.code, run.stderr).to.equal(0);
    expect((capture.requests.at(-1) as CapturedRequest).headers["x-gitlab-token"]).to.equal("gl-token-123");
  });

  it("send --provider gitlab --secrets FILE refuses a token it cannot sign with (a line break inside) as a problem with the file: exit 1, nothing sent, never the value", async () => {
    const file = join(dir, "gitlab-broken-secrets.json");
    writeFileSync(file, JSON.stringify({ gitlab: "line-one\nline-two" }));
    const before = capture.requests.length;
    const run = await pushTo(
      capture.url,
      "--provider",
      "gitlab",
      "--secrets",
      file,
      "--secret-name",
      "gitlab",
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      /^hookgate send: cannot sign with secret "gitlab" in .*cannot go in an HTTP header\n$/,
    );
    expect(run.stderr).not.to.include("line-one");
    expect(capture.requests).to.have.length(before);
  });

  // [the payload, where its syntax breaks]: V8 gives the first one's position; of an unexpected token (Node 20
  // and later) or an early end it gives none.
  const broken: Array<[string, string]> = [
    ['{\n  "ref": "refs/heads/main",,\n  "after": "x"\n}\n', "line 2, column 28"],
    ['{\n  "ref": "refs/heads/main",\n  "after": undefined\n}\n', "line 3, column 12"],
    ['{\n  "ref": }\n', "line 2, column 10"],
    ['{\n  "ref": "refs/heads/main",\n  "after": tru', "line 3, column 15"],
  ];
  for (const [text, where] of broken) {
    it(`a payload file that is not valid JSON is sent byte for byte, after a note naming the line and column of its syntax error: ${where} of ${JSON.stringify(text)}`, async () => {
      const file = join(dir, "broken.json");
      const bytes = Buffer.from(text);
      writeFileSync(file, bytes);
      const run = await runSendHere([
        "--url",
        capture.url,
        "--event",
        "push",
        "--payload",
        file,
        "--secret",
        "wire-secret",
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.equal(`hookgate send: note: payload is not valid JSON (${where}); sent anyway\n`);
      expect((capture.requests.at(-1) as CapturedRequest).body.equals(bytes)).to.equal(true);
    });
  }

  it("a payload file that is JSON but not UTF-8 (Windows-1252's é) is sent byte for byte after a note naming its first bad byte's line and column, past a U+FFFD the file holds as UTF-8", async () => {
    const file = join(dir, "ansi.json");
    const bytes = Buffer.concat([
      Buffer.from('{\n  "note": "\uFFFD",\n  "name": "caf', "utf8"),
      Buffer.from([0xe9]),
      Buffer.from('"\n}\n', "utf8"),
    ]);
    writeFileSync(file, bytes);
    const run = await send("github", "wire-secret", "--payload", file);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal(
      "hookgate send: note: payload is not valid UTF-8 (byte 0xE9 at line 3, column 15); the gateway answers 400; sent anyway\n",
    );
    expect((capture.requests.at(-1) as CapturedRequest).body.equals(bytes)).to.equal(true);
  });

  it("--form with a payload file that is not UTF-8 is refused with exit 1 and nothing is sent: the form's UTF-8 text would carry U+FFFD, not the file's bytes", async () => {
    const file = join(dir, "ansi-form.json");
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('{"name": "caf'), Buffer.from([0xe9]), Buffer.from('"}')]),
    );
    const before = capture.requests.length;
    for (const provider of ["github", "gitea"]) {
      const run = await send(provider, "wire-secret", "--form", "--payload", file);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.equal(
        `hookgate send: payload file ${file} is not valid UTF-8 (byte 0xE9 at line 1, column 14): --form sends the JSON as UTF-8 text, which would change those bytes; save it as UTF-8; nothing sent\n`,
      );
    }
    expect(capture.requests.length).to.equal(before);
  });

  it("a payload over 25 MB is sent with a note that GitHub or GitLab would not deliver it; Gitea's gets none", async () => {
    const file = join(dir, "big.json");
    const bytes = Buffer.from(`{"pad": "${"x".repeat(25 * 1024 * 1024)}"}`);
    writeFileSync(file, bytes);
    const notes: Record<string, string> = {};
    for (const provider of ["github", "gitlab", "gitea"]) {
      const run = await send(provider, "wire-secret", "--payload", file);
      expect(run.code, run.stderr).to.equal(0);
      expect((capture.requests.at(-1) as CapturedRequest).body.length).to.equal(bytes.length);
      notes[provider] = run.stderr;
    }
    rmSync(file);
    expect(notes).to.deep.equal({
      github: "hookgate send: note: GitHub does not deliver payloads over 25 MB; this one is 25.0 MB\n",
      gitlab: "hookgate send: note: GitLab does not deliver payloads over 25 MB; this one is 25.0 MB\n",
      gitea: "",
    });
  });

  it("a payload file over 32 MB is refused by size before it is read, with --form or without, with exit 1 and a message naming the file and the numbers, and nothing is sent", async () => {
    const file = join(dir, "huge.json");
    const size = 32 * 1024 * 1024 + 1; // under V8's longest string, but --form's body would be up to 3 times it
    writeFileSync(file, "");
    truncateSync(file, size); // sparse: no disk, and never read
    const before = capture.requests.length;
    for (const form of [[], ["--form"]]) {
      const run = await send("github", "wire-secret", ...form, "--payload", file);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stderr).to.equal(
        `hookgate send: payload file ${file} is ${size} bytes (32.0 MB), more than the 33554432 (32 MB) send reads; GitHub and GitLab send no payload over 25 MB, and the gateway refuses a body over 10 MB (413); nothing sent\n`,
      );
    }
    truncateSync(file, constants.MAX_STRING_LENGTH + 1);
    const run = await send("gitea", "wire-secret", "--payload", file);
    rmSync(file);
    expect(run.code, run.stderr).to.equal(1);
    expect(run.stderr).to.include(
      `is ${constants.MAX_STRING_LENGTH + 1} bytes (512.0 MB), more than the 33554432 (32 MB) send reads`,
    );
    expect(capture.requests.length).to.equal(before);
  });

  // [the file's text, what send calls it]: valid JSON that no Git host sends as a payload.
  const notObjects: Array<[string, string]> = [
    ["[]\n", "an array"],
    ['\uFEFF[{"ref": "refs/heads/main"}]', "an array"],
    ['"x"', "a string"],
    ["42", "a number"],
    ["null", "null"],
    ["true", "a boolean"],
  ];
  for (const [text, kind] of notObjects) {
    it(`a payload file that is JSON but not an object (${JSON.stringify(text).replace("\uFEFF", "\\uFEFF")}) is refused with exit 1 naming the file and what it holds, and nothing is sent`, async () => {
      const file = join(dir, "not-an-object.json");
      writeFileSync(file, text);
      const before = capture.requests.length;
      for (const provider of ["github", "gitlab"]) {
        const run = await send(provider, "wire-secret", "--payload", file);
        expect(run.code, run.stderr).to.equal(1);
        expect(run.stderr).to.equal(
          `hookgate send: payload file ${file} is JSON but not an object (${kind}): a webhook payload is a JSON object, as every Git host sends, and the gateway answers any other body 400; nothing sent\n`,
        );
        expect(run.stdout).to.equal("");
      }
      expect(capture.requests.length).to.equal(before);
    });
  }

  it("a GitLab secret it cannot sign with (a token with a line break, a whsec_ value that is no signing key with one) is a usage error before sending, without printing it or a stack trace", async () => {
    for (const secret of ["line-one\nline-two", "whsec_line-one\nline-two"]) {
      const before = capture.requests.length;
      const run = await send("gitlab", secret);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.match(
        /^hookgate send: cannot sign with this secret: .*cannot go in an HTTP header\n$/,
      );
      expect(run.stderr).not.to.include("line-one");
      expect(capture.requests.length).to.equal(before);
    }
  });

  it("send --provider gitlab with a whsec_ value that is not padded base64 sends it as X-Gitlab-Token, as the gateway reads it (a plain token)", async () => {
    const unpadded = `whsec_${Buffer.alloc(32, 5).toString("base64").replace(/=+$/, "")}`;
    const run = await send("gitlab", unpadded);
    expect(run.code, run.stderr).to.equal(0);
    const got = capture.requests.at(-1) as CapturedRequest;
    expect(got.headers["x-gitlab-token"]).to.equal(unpadded);
    expect(got.headers).to.not.have.property("webhook-signature");
  });

  it("an empty --secret, an empty or blank --delivery (the gateway trims it and takes the body's hash), or a --timeout that is not a number of seconds, is a usage error, and nothing is sent", async () => {
    const before = capture.requests.length;
    const runs = await Promise.all([
      send("github", ""),
      send("github", "s", "--delivery", ""),
      send("github", "s", "--timeout", "soon"),
      send("github", "s", "--delivery", " "),
      send("gitlab", "s", "--delivery", " \t "),
    ]);
    expect(runs.map((r) => r.code)).to.deep.equal([2, 2, 2, 2, 2]);
    expect(runs[0]?.stderr).to.include("--secret is empty");
    expect(runs[1]?.stderr).to.include("hookgate send: --delivery must not be empty or blank\n");
    expect(runs[2]?.stderr).to.include(
      '--timeout must be a number of seconds above 0, at most 600, got "soon"',
    );
    expect(runs[3]?.stderr).to.include("hookgate send: --delivery must not be empty or blank\n");
    expect(runs[4]?.stderr).to.include("hookgate send: --delivery must not be empty or blank\n");
    expect(capture.requests.length).to.equal(before);
  });

  it("an answer slower than --timeout fails with exit 1 and says so, as GitHub fails a delivery after 10 s", async () => {
    const slow = await startCaptureServer((res) => setTimeout(() => res.end("late"), 3_000));
    try {
      const run = await pushTo(slow.url, "--secret", "s", "--timeout", "0.5");
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`POST ${slow.url} failed: no answer within 0.5 s`);
    } finally {
      await slow.close();
    }
  });

  it("a redirect is printed with a note, not followed, and exits 1", async () => {
    const redirect = await startCaptureServer((res) => {
      res.writeHead(301, { location: "https://hooks.example.com/new" });
      res.end();
    });
    try {
      // A secret of its own: send blanks its secret at any length, so "s" would blank the s of https.
      const run = await pushTo(redirect.url, "--secret", "send-redirect-secret");
      expect(run.code).to.equal(1);
      expect(run.stdout).to.match(/^HTTP 301 Moved Permanently/);
      expect(run.stderr).to.include(
        "redirected to https://hooks.example.com/new; Git hosts do not follow redirects",
      );
      expect(redirect.requests).to.have.length(1);
    } finally {
      await redirect.close();
    }
  });

  it("the answer's control and format characters (an ESC, an 8-bit CSI, a bidi override echoed from a branch name) are printed as \\uXXXX; its lines and tabs stay as they are", async () => {
    const echo = await startCaptureServer((res) =>
      res.end('{"branch":"x\u001b[2J\u009b31m\u202eevil"}\n<p>\tline 2</p>'),
    );
    try {
      const run = await pushTo(echo.url, "--secret", "s");
      expect(run.code).to.equal(0);
      expect(run.stdout).to.include('{"branch":"x\\u001b[2J\\u009b31m\\u202eevil"}\n<p>\tline 2</p>\n');
      for (const raw of ["\u001b", "\u009b", "\u202e"]) expect(run.stdout).to.not.include(raw);
    } finally {
      await echo.close();
    }
  });

  it("a redirect's Location holding an 8-bit CSI (U+009B) is printed with it as \\u009b", async () => {
    const redirect = await startCaptureServer((res) => {
      res.writeHead(302, { location: "https://hooks.example.com/x\u009b2Jy" });
      res.end();
    });
    try {
      const run = await pushTo(redirect.url, "--secret", "send-redirect-secret");
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include("redirected to https://hooks.example.com/x\\u009b2Jy;");
      expect(run.stderr).to.not.include("\u009b");
    } finally {
      await redirect.close();
    }
  });

  it("a --delivery holding an 8-bit CSI (U+009B), which undici sends, is printed on the HTTP line with it as \\u009b", async () => {
    const run = await pushTo(capture.url, "--secret", "s", "--delivery", "d\u009b2J");
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^HTTP 200 OK \(delivery d\\u009b2J\)\n/);
    expect(run.stdout).to.not.include("\u009b");
  });

  it("an answer or a redirect that echoes the secret sent (GitLab's token is a header), raw or URL-encoded, is printed with [redacted] instead", async () => {
    const token = "gl echo/token+5f4e3d2c1b";
    let echo: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
    echo = await startCaptureServer((res) => {
      const sent = echo?.requests.at(-1)?.headers["x-gitlab-token"] ?? "";
      res.writeHead(302, { location: `https://hooks.example.com/${encodeURIComponent(sent)}` });
      res.end(`{"echo":"${sent}","encoded":"${encodeURI(sent)}"}`);
    });
    try {
      const run = await pushTo(echo.url, "--secret", token, "--provider", "gitlab");
      expect(echo.requests[0]?.headers["x-gitlab-token"]).to.equal(token);
      expect(run.stdout).to.include('{"echo":"[redacted]","encoded":"[redacted]"}');
      expect(run.stderr).to.include("redirected to https://hooks.example.com/[redacted]");
      for (const form of [token, encodeURI(token), encodeURIComponent(token)])
        expect(run.stdout + run.stderr).to.not.include(form);
    } finally {
      await echo.close();
    }
  });

  it("an answer that echoes an --insecure-header value of a header the provider does not send (Authorization, X-Api-Key) prints [redacted]; a second copy of the provider's own header is printed as it is", async () => {
    let echo: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
    echo = await startCaptureServer((res) => {
      const raw = echo?.requests.at(-1)?.raw ?? [];
      const all = (name: string) => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === name);
      res.end(
        JSON.stringify({ auth: all("authorization"), key: all("x-api-key"), event: all("x-github-event") }),
      );
    });
    try {
      const bearer = "eyJhbGciOi.front-door.token";
      const apiKey = "k3y-f0r-the-front-door";
      const run = await pushTo(
        echo.url,
        ...["--secret", "wire-secret", "--insecure-header", `Authorization: Bearer ${bearer}`],
        ...["--insecure-header", `X-Api-Key: ${apiKey}`, "--insecure-header", "X-GitHub-Event: pull_request"],
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(echo.requests[0]?.headers["x-api-key"]).to.equal(apiKey);
      expect(run.stdout).to.include(
        '{"auth":["[redacted]"],"key":["[redacted]"],"event":["push","pull_request"]}',
      );
      for (const value of [bearer, apiKey]) expect(run.stdout + run.stderr).to.not.include(value);
    } finally {
      await echo.close();
    }
  });

  it("an --insecure-header is redacted by its name: a second X-Gitlab-Token with --provider gitlab prints [redacted], an added X-GitHub-Delivery id and X-GitHub-Event print as they are", async () => {
    let echo: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
    echo = await startCaptureServer((res) => {
      const raw = echo?.requests.at(-1)?.raw ?? [];
      const all = (name: string) => raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === name);
      res.end(
        JSON.stringify({
          tokens: all("x-gitlab-token"),
          delivery: all("x-github-delivery"),
          event: all("x-github-event"),
        }),
      );
    });
    try {
      const rotated = "glpat-second-token-being-rotated";
      const id = "85786fbf-5c1e-4f6e-9d59-0c5a8b7e6a11";
      const run = await pushTo(
        echo.url,
        ...[
          "--provider",
          "gitlab",
          "--secret",
          "first-token-value",
          "--insecure-header",
          `X-Gitlab-Token: ${rotated}`,
        ],
        ...[
          "--insecure-header",
          `X-GitHub-Delivery: ${id}`,
          "--insecure-header",
          "X-GitHub-Event: pull_request",
        ],
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(echo.requests[0]?.raw).to.include(rotated);
      expect(run.stdout).to.include(
        `{"tokens":["[redacted]","[redacted]"],"delivery":["${id}"],"event":["pull_request"]}`,
      );
      expect(run.stdout + run.stderr).to.not.include(rotated);
    } finally {
      await echo.close();
    }
  });

  it("isCredentialHeader: a credential's name whole or by a word it holds, whatever the provider sends", () => {
    const names = [
      ...["authorization", "proxy-authorization", "cookie", "x-gitlab-token", "x-api-key", "x-client-secret"],
      ...["x-hub-signature-256", "x-session-id", "x-auth-user", "x-password"],
    ];
    for (const name of names) expect(isCredentialHeader(name), name).to.equal(true);
    for (const name of ["x-github-delivery", "x-github-event", "x-gitlab-event", "x-request-id", "accept"]) {
      expect(isCredentialHeader(name), name).to.equal(false);
    }
  });

  it("an answer that echoes the proxy's credentials (a proxy passing its Proxy-Authorization on) prints neither their base64 nor the password", async () => {
    let proxyEcho: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
    proxyEcho = await startCaptureServer((res) => {
      const sent = proxyEcho?.requests.at(-1)?.headers["proxy-authorization"] ?? "";
      res.end(`{"pa":"${sent}","decoded":"${Buffer.from(sent.replace(/^Basic /, ""), "base64")}"}`);
    });
    try {
      const password = "pr0xy-s3nd-Pa55";
      const { port } = new URL(proxyEcho.url);
      const run = await runSendHere(
        [
          ...["--url", "http://hooks.send.test/hooks/x", "--event", "push"],
          ...["--payload", "examples/github-push.json", "--secret", "s"],
        ],
        { HTTP_PROXY: `http://hookgate:${password}@127.0.0.1:${port}` },
      );
      const basic = Buffer.from(`hookgate:${password}`).toString("base64");
      expect(proxyEcho.requests[0]?.headers["proxy-authorization"]).to.equal(`Basic ${basic}`);
      expect(run.stdout).to.include('{"pa":"[redacted]","decoded":"[redacted]"}');
      for (const form of [basic, password]) expect(run.stdout + run.stderr).to.not.include(form);
    } finally {
      await proxyEcho.close();
    }
  });

  it("an answer that echoes a secret shorter than 8 characters, in any case or as a URL's query holds it, prints [redacted]: send blanks its own secret at any length", async () => {
    const token = "gl t/k";
    let echo: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
    echo = await startCaptureServer((res) => {
      const sent = echo?.requests.at(-1)?.headers["x-gitlab-token"] ?? "";
      const query = new URLSearchParams({ token: sent });
      res.end(`{"echo":"${sent}","upper":"${sent.toUpperCase()}","link":"https://gl.test/x?${query}"}`);
    });
    try {
      const run = await pushTo(echo.url, "--secret", token, "--provider", "gitlab");
      expect(echo.requests[0]?.headers["x-gitlab-token"]).to.equal(token);
      expect(run.stdout).to.include(
        '{"echo":"[redacted]","upper":"[redacted]","link":"https://gl.test/x?token=[redacted]"}',
      );
    } finally {
      await echo.close();
    }
  });

  it("an answer to a GitHub delivery keeps the letters of a short --secret: an HMAC key never goes on the wire, so it is not blanked at any length", async () => {
    const answer = '{"status":"rejected","reason":"signature invalid"}';
    const echo = await startCaptureServer((res) => res.end(answer));
    try {
      const run = await pushTo(echo.url, "--secret", "re");
      expect(run.stdout).to.include(answer);
    } finally {
      await echo.close();
    }
  });

  it("an answer that echoes the proxy's password shorter than 8 characters prints [redacted]", async () => {
    let proxyEcho: Awaited<ReturnType<typeof startCaptureServer>> | undefined;
    proxyEcho = await startCaptureServer((res) => {
      const sent = proxyEcho?.requests.at(-1)?.headers["proxy-authorization"] ?? "";
      const pair = Buffer.from(sent.replace(/^Basic /, ""), "base64").toString("utf8");
      res.end(`{"password":"${pair.slice(pair.indexOf(":") + 1)}"}`);
    });
    try {
      const { port } = new URL(proxyEcho.url);
      const run = await runSendHere(
        [
          ...["--url", "http://hooks.send.test/hooks/x", "--event", "push"],
          ...["--payload", "examples/github-push.json", "--secret", "send-proxy-secret"],
        ],
        { HTTP_PROXY: `http://hookgate:pw%201@127.0.0.1:${port}` },
      );
      expect(proxyEcho.requests[0]?.headers["proxy-authorization"]).to.equal(
        `Basic ${Buffer.from("hookgate:pw 1").toString("base64")}`,
      );
      expect(run.stdout).to.include('{"password":"[redacted]"}');
    } finally {
      await proxyEcho.close();
    }
  });

  it("a failed request names the URL without its password", async () => {
    const closed = await startCaptureServer();
    const url = closed.url.replace("http://", "http://user:hunter2@");
    await closed.close();
    const run = await pushTo(url, "--secret", "s");
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`POST ${closed.url} failed: ECONNREFUSED`);
    expect(run.stderr).not.to.include("hunter2");
  });
});

describe("Command: hookgate send behind a proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)", function () {
  this.timeout(30_000);
  const PASSWORD = "pr0xy-s3nd-Pa55";
  // A name only the proxy resolves (to 127.0.0.1), as a corporate proxy resolves names a laptop cannot; its
  // certificate is self-signed, trusted by the child through NODE_EXTRA_CA_CERTS.
  const NAME = "hooks.send.test";
  const CERT = join(REPO_ROOT, "test", "fixtures", "tls", "send-host.pem");
  let proxy: ForwardProxy;
  let plain: Awaited<ReturnType<typeof startCaptureServer>>;
  let secure: Awaited<ReturnType<typeof startCaptureServer>>;

  before(async () => {
    proxy = await startForwardProxy({
      auth: { user: "hookgate", password: PASSWORD },
      hosts: { [NAME]: "127.0.0.1" },
    });
    plain = await startCaptureServer();
    secure = await startCaptureServer(undefined, {
      key: readFileSync(join(REPO_ROOT, "test", "fixtures", "tls", "send-host.key")),
      cert: readFileSync(CERT),
    });
  });
  beforeEach(() => {
    proxy.requests.length = 0;
  });
  after(async () => {
    await proxy.close();
    await plain.close();
    await secure.close();
  });

  const proxyUrl = (password = PASSWORD, url = proxy.url) =>
    url.replace("http://", `http://hookgate:${password}@`);
  const named = (url: string) => url.replace("127.0.0.1", NAME);
  const args = (url: string) => [
    "--url",
    url,
    "--event",
    "push",
    "--payload",
    "examples/github-push.json",
    "--secret",
    "s",
  ];
  /** A child, which reads NODE_EXTRA_CA_CERTS at its start: for an https URL reached through the proxy. */
  const pushTo = (url: string, env: Record<string, string>) =>
    runSendCli(args(url), { NODE_EXTRA_CA_CERTS: CERT, ...env });
  /** In process, with the same proxy variables: where no TLS connection to the host is set up. */
  const pushHere = (url: string, env: Record<string, string>) => runSendHere(args(url), env);
  const targets = () => proxy.requests.map((r) => [r.kind, r.target, r.path]);

  it("an https URL goes through HTTPS_PROXY in a CONNECT tunnel, with the proxy's credentials, and is verified end to end", async () => {
    const before = secure.requests.length;
    const run = await pushTo(named(secure.url), { HTTPS_PROXY: proxyUrl() });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^HTTP 200 OK/);
    expect(run.stderr).to.include(`hookgate send: note: through the proxy ${proxy.url}\n`);
    expect(targets()).to.deep.equal([["connect", new URL(named(secure.url)).host, undefined]]);
    expect(proxy.requests[0]?.proxyAuthorization).to.equal(
      `Basic ${Buffer.from(`hookgate:${PASSWORD}`).toString("base64")}`,
    );
    const received = secure.requests.slice(before);
    expect(received).to.have.length(1);
    expect(received[0]?.headers["x-github-event"]).to.equal("push");
    expect(received[0]?.body.equals(fixture("examples/github-push.json"))).to.equal(true);
    expect(received[0]?.headers).not.to.have.property("proxy-authorization");
    expect(run.stdout + run.stderr).not.to.include(PASSWORD);
  });

  it("an http URL goes through HTTP_PROXY as an absolute-URI request; HTTPS_PROXY alone leaves it direct, as undici does", async () => {
    const through = await pushHere(named(plain.url), { HTTP_PROXY: proxyUrl() });
    expect(through.code, through.stderr).to.equal(0);
    expect(targets()).to.deep.equal([["absolute", new URL(named(plain.url)).host, "/hooks/capture"]]);

    proxy.requests.length = 0;
    const direct = await pushHere(named(plain.url), { HTTPS_PROXY: proxyUrl() });
    expect(direct.code).to.equal(1);
    expect(direct.stderr).to.match(/failed: (ENOTFOUND|EAI_AGAIN)/);
    expect(proxy.requests).to.deep.equal([]);
  });

  it("NO_PROXY's host, .domain or host:port sends it directly (here the name does not resolve); another port still goes through the proxy", async () => {
    const port = new URL(secure.url).port;
    for (const noProxy of [NAME, ".send.test", `other.test,${NAME}:${port}`]) {
      const run = await pushHere(named(secure.url), { HTTPS_PROXY: proxyUrl(), NO_PROXY: noProxy });
      expect(run.code, noProxy).to.equal(1);
      expect(run.stderr, noProxy).to.match(/failed: (ENOTFOUND|EAI_AGAIN)/);
      expect(run.stderr, noProxy).not.to.include("through the proxy");
      expect(proxy.requests, noProxy).to.deep.equal([]);
    }
    const otherPort = await pushTo(named(secure.url), { HTTPS_PROXY: proxyUrl(), NO_PROXY: `${NAME}:1` });
    expect(otherPort.code, otherPort.stderr).to.equal(0);
    expect(proxy.requests).to.have.length(1);
  });

  it("a serve on this machine (127.0.0.1, localhost) is reached directly, although NO_PROXY does not list it", async () => {
    const before = plain.requests.length;
    for (const url of [plain.url, plain.url.replace("127.0.0.1", "localhost")]) {
      const run = await pushHere(url, {
        HTTPS_PROXY: proxyUrl(),
        HTTP_PROXY: proxyUrl(),
        NO_PROXY: ".corp.test",
      });
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).not.to.include("through the proxy");
    }
    expect(plain.requests.length - before).to.equal(2);
    expect(proxy.requests).to.deep.equal([]);
  });

  it("a serve on this machine is reached whatever the proxy variables hold: a SOCKS proxy (curl's) is never read for it", async () => {
    const before = plain.requests.length;
    const run = await pushHere(plain.url, {
      HTTPS_PROXY: `socks5h://u:${PASSWORD}@127.0.0.1:1080`,
      HTTP_PROXY: "",
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(plain.requests.length - before).to.equal(1);
    expect(run.stdout + run.stderr).not.to.include(PASSWORD);
  });

  it("a proxy variable that is no http(s) URL is a usage error naming the variable, never its value; nothing is sent", async () => {
    const before = plain.requests.length + secure.requests.length;
    for (const [name, value] of [
      ["HTTPS_PROXY", `ftp://u:${PASSWORD}@proxy:21`],
      ["http_proxy", `http://u:${PASSWORD}%zz@proxy:3128`],
    ] as const) {
      const run = await pushHere(named(plain.url), { [name]: value });
      expect(run.code, name).to.equal(2);
      expect(run.stderr).to.match(new RegExp(`^hookgate send: ${name} is not an http\\(s\\) proxy URL`));
      expect(run.stdout + run.stderr).not.to.include(PASSWORD);
    }
    expect(plain.requests.length + secure.requests.length).to.equal(before);
    expect(proxy.requests).to.deep.equal([]);
  });

  it("an https:// proxy URL for a proxy's plain-http port says the proxy does not speak TLS there, on one line, and no delivery was sent", async () => {
    const run = await pushHere(named(secure.url), {
      HTTPS_PROXY: proxyUrl().replace("http://", "https://"),
      HTTP_PROXY: "",
    });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(
      "(the egress proxy does not speak TLS on that port: use http:// in the proxy's URL)",
    );
    expect(run.stderr).not.to.match(/ssl3_record\.c|deps\/openssl|was sent/);
    expect(run.stderr).to.match(
      /^hookgate send: POST \S+ failed: ERR_SSL_WRONG_VERSION_NUMBER: wrong version number \(/m,
    );
    expect(run.stdout + run.stderr).not.to.include(PASSWORD);
  });

  it("a proxy that refuses the credentials (407), or is not there, is named without its password; the target is not blamed", async () => {
    const wrong = `${PASSWORD}-old`;
    for (const [url, env] of [
      [named(secure.url), { HTTPS_PROXY: proxyUrl(wrong) }],
      [named(plain.url), { HTTP_PROXY: proxyUrl(wrong) }],
    ] as const) {
      const run = await pushHere(url, env);
      expect(run.code, url).to.equal(1);
      expect(run.stderr, url).to.include(
        `failed: the proxy ${proxy.url} refused it (407): it asks for credentials; give them in the proxy URL`,
      );
      // The request got no further than the proxy: no advice to resend it as a duplicate.
      expect(run.stderr, url).not.to.include("was sent");
      expect(run.stdout + run.stderr).not.to.include(PASSWORD);
    }

    const closed = await startCaptureServer();
    const down = new URL(closed.url).origin;
    await closed.close();
    const run = await pushHere(named(secure.url), { HTTPS_PROXY: proxyUrl(PASSWORD, down) });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`failed: ECONNREFUSED: nothing accepts connections at the proxy ${down}`);
    expect(run.stderr).not.to.include("is hookgate serve running");
    expect(run.stdout + run.stderr).not.to.include(PASSWORD);
  });
});

describe("Command: hookgate send through a proxy that never answers", function () {
  this.timeout(30_000);
  const PASSWORD = "st4lled-pr0xy-Pa55";
  let stalled: StalledProxy;

  before(async () => {
    // Takes the connection and the CONNECT (or the absolute-URI request), and answers nothing.
    stalled = await startStalledProxy();
  });
  after(() => stalled.close());

  it("gives up after --timeout, for an https URL (a CONNECT never answered) as for an http one, without the password", async () => {
    const { port } = stalled;
    const proxyUrl = `http://hookgate:${PASSWORD}@127.0.0.1:${port}`;
    for (const url of ["https://hooks.send.test/hooks/x", "http://hooks.send.test/hooks/x"]) {
      // Without the fix send waits for undici's 300 s: runSendCli's limit (15 s) kills it, and the code is not 1.
      const run = await runSendCli(
        [
          "--url",
          url,
          "--event",
          "push",
          "--payload",
          "examples/github-push.json",
          "--secret",
          "s3nd-secret",
          "--timeout",
          "1",
        ],
        { HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl },
        15_000,
      );
      expect(run.code, `${url}: ${run.stderr}`).to.equal(1);
      expect(run.stderr, url).to.include(
        `POST ${url} failed: no answer within 1 s (GitHub fails a delivery that takes longer than 10 s) ` +
          `(through the proxy http://127.0.0.1:${port};`,
      );
      expect(run.stdout + run.stderr).not.to.include(PASSWORD);
    }
  });
});

describe("Function: sendFailure (what send prints of a request that got no answer)", () => {
  const proxy = "http://hookgate:pw%2F1@proxy.test:3128";

  it("sendFailure takes the secret and the proxy's password out of Node's words at any length, raw or as a URL holds them, and keeps the rest", () => {
    const error = Object.assign(new Error(`bad s/k, /x?t=${encodeURIComponent("s/k")} and pw/1 or pw%2F1`), {
      code: "UND_ERR_X",
    });
    expect(sendFailure(error, 10, "s/k", proxy)).to.equal(
      "UND_ERR_X: bad [redacted], /x?t=[redacted] and [redacted] or [redacted] (through the proxy http://proxy.test:3128; NO_PROXY lists the hosts reached directly)",
    );
  });

  it("sendFailure takes the proxy's Basic credentials out of Node's words, as the answer's are", () => {
    const basic = Buffer.from("hookgate:pw/1").toString("base64");
    const error = Object.assign(new Error(`sent Basic ${basic}`), { code: "UND_ERR_X" });
    expect(sendFailure(error, 10, "send-secret", proxy)).to.equal(
      "UND_ERR_X: sent [redacted] (through the proxy http://proxy.test:3128; NO_PROXY lists the hosts reached directly)",
    );
  });
});

describe("Function: sendProxy(proxy, url)", () => {
  const proxy = proxySettings({
    HTTPS_PROXY: "http://proxy.corp.example:3128",
    NO_PROXY: ".internal.example",
  });
  const via = (url: string) => sendProxy(proxy, new URL(url));

  it("sendProxy is the proxy for a deployed stack's URL, and undefined without proxy variables", () => {
    expect(via("https://abc123.execute-api.eu-west-1.amazonaws.com/prod/hooks/api")).to.equal(
      "http://proxy.corp.example:3128/",
    );
    expect(via("https://10.1.2.3/hooks/api")).to.equal("http://proxy.corp.example:3128/");
    expect(sendProxy(undefined, new URL("https://hooks.example.com/hooks/api"))).to.equal(undefined);
  });

  it("sendProxy is undefined (direct) for this machine's loopback: localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.1", () => {
    for (const url of [
      "https://localhost:8787/hooks/api",
      "https://LOCALHOST:8787/hooks/api",
      "https://127.0.0.1:8787/hooks/api",
      "https://127.9.8.7/hooks/api",
      "https://[::1]:8787/hooks/api",
      "https://[::ffff:127.0.0.1]:8787/hooks/api",
    ]) {
      expect(via(url), url).to.equal(undefined);
    }
    for (const url of [
      "https://localhost.example.com/",
      "https://128.0.0.1/",
      "https://[::2]/",
      "https://0.0.0.1/",
    ]) {
      expect(via(url), url).to.equal("http://proxy.corp.example:3128/");
    }
  });

  it("sendProxy is undefined (direct) for the wildcard 0.0.0.0 and :: that serve --host 0.0.0.0 or :: prints: a proxy would get the secret token in clear", () => {
    const httpProxy = proxySettings({ HTTP_PROXY: "http://proxy.corp.example:3128" });
    for (const url of [
      "http://0.0.0.0:8787/hooks/gl-build",
      "http://[::]:8787/hooks/gl-build",
      "http://[::ffff:0.0.0.0]:8787/hooks/gl-build",
    ]) {
      expect(sendProxy(httpProxy, new URL(url)), url).to.equal(undefined);
    }
  });

  it("connectUrl sends a URL naming the wildcard 0.0.0.0 or :: to loopback (a connection to the wildcard fails on Windows and newer macOS), keeping port, path and query; any other URL is left as given", () => {
    const to = (url: string) => connectUrl(new URL(url)).href;
    expect(to("http://0.0.0.0:8787/hooks/gl-build?x=1")).to.equal("http://127.0.0.1:8787/hooks/gl-build?x=1");
    expect(to("http://[::ffff:0.0.0.0]:8787/hooks/gl-build")).to.equal(
      "http://127.0.0.1:8787/hooks/gl-build",
    );
    // Node listens on :: for IPv4 too, and a container without IPv6 has no ::1.
    expect(to("http://[::]:8787/hooks/gl-build")).to.equal("http://127.0.0.1:8787/hooks/gl-build");
    for (const url of [
      "http://127.0.0.1:8787/hooks/a",
      "http://localhost:8787/hooks/a",
      "http://0.0.0.1:8787/hooks/a",
      "https://hooks.example.com/hooks/a",
    ]) {
      expect(to(url), url).to.equal(url);
    }
  });

  it("sendProxy is undefined for NO_PROXY's hosts, and for an http URL with HTTPS_PROXY alone", () => {
    expect(via("https://git.internal.example/hooks/api")).to.equal(undefined);
    expect(via("http://hooks.example.com/hooks/api")).to.equal(undefined);
    expect(
      sendProxy(proxySettings({ HTTP_PROXY: "http://proxy:3128" }), new URL("http://hooks.example.com/")),
    ).to.equal("http://proxy:3128/");
  });
});

describe("Function: signDelivery and providerEventName, event names", () => {
  it("signDelivery reads a payload file that starts with a byte-order mark for Bitbucket's event key, as the gateway reads the body", () => {
    const fulfilled = readFileSync(
      join(REPO_ROOT, "test/fixtures/payloads/bitbucket/pullrequest-fulfilled.json"),
    );
    const signed = signDelivery({
      provider: "bitbucket",
      event: "pull_request",
      payload: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fulfilled]),
      secret: "s",
    });
    expect(signed.headers["x-event-key"]).to.equal("pullrequest:fulfilled");
  });

  it("providerEventName keeps a name that is only a key of Object.prototype (constructor, toString) as given", () => {
    expect(providerEventName("gitlab", "constructor", undefined)).to.equal("constructor");
    expect(providerEventName("gitea", "toString", undefined)).to.equal("toString");
    expect(providerEventName("gitea", "pull_request_sync", undefined)).to.equal("pull_request");
  });

  it("providerEventName sends a Bitbucket Data Center payload under its own eventKey, which the gateway requires of X-Event-Key", () => {
    const cases: Array<[string, unknown, string]> = [
      [
        "pull_request",
        { eventKey: "pr:from_ref_updated", pullRequest: { state: "OPEN" } },
        "pr:from_ref_updated",
      ],
      ["pull_request", { eventKey: "pr:deleted", pullRequest: { state: "DECLINED" } }, "pr:deleted"],
      ["push", { eventKey: "repo:refs_changed" }, "repo:refs_changed"],
      // Without one, the state picks it as before; a key written out is sent as written.
      ["pull_request", { pullRequest: { state: "MERGED" } }, "pr:merged"],
      ["pr:merged", { eventKey: "pr:opened" }, "pr:merged"],
    ];
    for (const [event, payload, key] of cases) {
      expect(
        providerEventName("bitbucket-server", event, payload),
        `${event} ${JSON.stringify(payload)}`,
      ).to.equal(key);
    }
  });
});
