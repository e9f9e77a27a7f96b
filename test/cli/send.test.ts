// `hookgate send` against `hookgate serve` (both child processes), and signDelivery for every provider.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { signDelivery } from "../../src/cli/send";
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

const SECRETS = {
  "test/github-webhook": "send-test-github-secret",
  "test/gitlab-token": "send-test-gitlab-token",
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
${route("gh", "github", "test/github-webhook", "acme/*")}${route("lab", "gitlab", "test/gitlab-token", "platform/**")}${route("bb", "bitbucket", "test/bitbucket-webhook", "team/*")}${route("bbs", "bitbucket-server", "test/bbs-webhook", "**")}${route("tea", "gitea", "test/gitea-webhook", "**")}`;
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
      it(`signDelivery({provider: "${c.provider}", event: "${c.event}"}) of ${c.file} is accepted with 202`, async () => {
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

      it(`signDelivery({provider: "${c.provider}"}) signed with another secret is rejected with 401`, async () => {
        const signed = signDelivery({
          provider: c.provider,
          event: c.event,
          payload: fixture(c.file),
          secret: "wrong",
        });
        const answer = await request(`${serve.url}/hooks/${c.route}`, {
          headers: signed.headers,
          body: signed.body,
        });
        expect(answer.status).to.equal(401);
      });
    }

    it("the deliveries log shows the accepted deliveries of every provider", async () => {
      const routes = new Set(
        (await deliveries(serve.url)).filter((d) => d.httpStatus === 202).map((d) => d.route),
      );
      expect([...routes].sort()).to.include.members(["bb", "bbs", "gh", "lab", "tea"]);
    });
  });
});
