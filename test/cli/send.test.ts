// `hookgate send` against `hookgate serve` (both child processes), and signDelivery for every provider.
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { signDelivery } from "../../src/cli/send";
import { providerEventName } from "../../src/core/events/eventNames";
import type { Provider } from "../../src/core/types";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import {
  BIN,
  deliveries,
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

function runSendCli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "send", ...args], { cwd: REPO_ROOT });
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

    it("send exits 1 with a clear message for a missing payload file or secret name, and 2 for bad usage", async () => {
      const [noPayload, noSecret, usage] = await Promise.all([
        runSendCli([
          "--url",
          `${serve.url}/hooks/gh`,
          "--secret",
          "x",
          "--event",
          "push",
          "--payload",
          "nope.json",
        ]),
        runSendCli([
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
        runSendCli(["--url", "not a url", "--secret", "x", "--event", "push", "--payload", "x.json"]),
      ]);
      const formOnGitlab = await runSendCli(
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

/** A plain HTTP server that keeps what each request put on the wire, and answers as `answer` says. */
async function startCaptureServer(
  answer: (res: ServerResponse) => void = (res) => res.end('{"status":"ok"}'),
): Promise<{ url: string; requests: CapturedRequest[]; close(): Promise<void> }> {
  const requests: CapturedRequest[] = [];
  const server = createServer((req, res) => {
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
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/capture`,
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
    runSendCli(["--url", url, "--event", "push", "--payload", "examples/github-push.json", ...args]);
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
    const run = await runSendCli([
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

  it("a GitLab secret token with a line break is refused before sending, without printing it", async () => {
    const before = capture.requests.length;
    const run = await send("gitlab", "line-one\nline-two");
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include("cannot go in an HTTP header");
    expect(run.stderr).not.to.include("line-one");
    expect(capture.requests.length).to.equal(before);
  });

  it("an empty --secret or --delivery, or a --timeout that is not a number of seconds, is a usage error", async () => {
    const runs = await Promise.all([
      send("github", ""),
      send("github", "s", "--delivery", ""),
      send("github", "s", "--timeout", "soon"),
    ]);
    expect(runs.map((r) => r.code)).to.deep.equal([2, 2, 2]);
    expect(runs[0]?.stderr).to.include("--secret is empty");
    expect(runs[1]?.stderr).to.include("--delivery must not be empty");
    expect(runs[2]?.stderr).to.include(
      '--timeout must be a number of seconds above 0, at most 600, got "soon"',
    );
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
      const run = await pushTo(redirect.url, "--secret", "s");
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
});
