// Deliveries forwarded to `hookgate serve` by the real smee-client (its bin, as `npx smee-client` runs it),
// from a stand-in for smee.io on 127.0.0.1 (test/support/smeeServer.ts). smee-client 5.0.0 re-serialises
// the body (JSON.stringify of the JSON smee.io parsed) and turns every other key of the message into a
// header, smee.io's `timestamp` among them: a signature over the host's own bytes verifies only when
// JSON.stringify gives those bytes back.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { signDelivery } from "../../src/cli/send";
import { SMEE_HINT } from "../../src/local/smeeHint";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { type SmeeServer, startSmeeServer } from "../support/smeeServer";
import {
  type DeliveryView,
  deliveries,
  JENKINS_TOKEN,
  JENKINS_USER,
  NO_PROXY_ENV,
  outputOf,
  REPO_ROOT,
  request,
  type ServeChild,
  startServe,
  waitForDelivery,
} from "./serveHarness";

const SMEE_BIN = join(REPO_ROOT, "node_modules", "smee-client", "bin", "smee.js");
const SECRETS = {
  "test/github-webhook": "smee-test-github-secret",
  "test/gitea-webhook": "smee-test-gitea-secret",
  "test/gitlab-token": "smee-test-gitlab-token",
  "test/jenkins": { user: JENKINS_USER, token: JENKINS_TOKEN },
};
const ROUTES = { github: "gh", gitea: "tea", gitlab: "lab" } as const;
type Host = keyof typeof ROUTES;
const WEBHOOK_SECRET: Record<Host, string> = {
  github: SECRETS["test/github-webhook"],
  gitea: SECRETS["test/gitea-webhook"],
  gitlab: SECRETS["test/gitlab-token"],
};
const fixture = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

/** GitHub's bytes: compact JSON, no trailing newline. */
const GITHUB_PUSH = Buffer.from(JSON.stringify(JSON.parse(fixture("examples/github-push.json"))), "utf8");
/** Gitea's bytes: json.MarshalIndent(p, "", "  "), no trailing newline. */
const GITEA_PUSH = Buffer.from(fixture("test/fixtures/payloads/gitea/push.json").trimEnd(), "utf8");
const GITLAB_PUSH = Buffer.from(fixture("test/fixtures/payloads/gitlab/push.json"), "utf8");

/**
 * A GitHub push whose head commit's message holds an ESC, as GitHub writes it: `\u001B`, upper-case hex
 * (JSON.stringify writes `\u001b`).
 */
function githubPushWithEscape(): Buffer {
  const push = JSON.parse(GITHUB_PUSH.toString("utf8"));
  push.head_commit.message = "build: \u001b[31mred\u001b[0m output";
  const text = JSON.stringify(push).replaceAll("\\u001b", "\\u001B");
  expect(text).to.include("\\u001B[31m");
  return Buffer.from(text, "utf8");
}

function routesYaml(jenkinsUrl: string): string {
  const route = (name: string, provider: string, secret: string) => `  - name: ${name}
    provider: ${provider}
    secret: ${secret}
    match: { repos: ["**"], events: [push] }
    action: { type: jenkins, job: ${name}/build, parameters: { DELIVERY: "{{deliveryId}}" } }
`;
  return `version: 1
defaults:
  jenkins: { url: "${jenkinsUrl}", credentials: test/jenkins }
routes:
${route(ROUTES.github, "github", "test/github-webhook")}${route(ROUTES.gitea, "gitea", "test/gitea-webhook")}${route(ROUTES.gitlab, "gitlab", "test/gitlab-token")}`;
}

interface SmeeChild {
  child: ChildProcess;
  output(): string;
  /** The statuses of the POSTs smee-client logged ("POST <target> - <status>"), in order. */
  forwarded(): number[];
  /** Waits until smee-client has logged `count` POSTs (10 s at most) and returns the last status. */
  waitForwarded(count: number): Promise<number>;
  stop(): Promise<void>;
}

/** Waits for `check` to return a value, polling every 20 ms, `timeoutMs` at most. */
async function waitFor<T>(what: () => string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `smee --url <channel> --target <target>`, started and connected. */
async function startSmeeClient(channelUrl: string, target: string): Promise<SmeeChild> {
  const child = spawn(process.execPath, [SMEE_BIN, "--url", channelUrl, "--target", target], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV },
  });
  const output = outputOf(child);
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const forwarded = () => [...output().matchAll(/^POST \S+ - (\d{3})$/gm)].map((m) => Number(m[1]));
  const smee: SmeeChild = {
    child,
    output,
    forwarded,
    waitForwarded: (count) =>
      waitFor(
        () => `smee-client's POST number ${count}; its output:\n${output()}`,
        () => forwarded()[count - 1],
      ),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  try {
    await waitFor(
      () => `smee-client to connect; its output:\n${output()}`,
      () => (/^Forwarding /m.test(output()) ? true : undefined),
    );
  } catch (error) {
    await smee.stop();
    throw error;
  }
  return smee;
}

describe("smee-client 5.0.0 between a smee.io stand-in and hookgate serve", function () {
  this.timeout(60_000);
  let dir: string;
  let jenkins: JenkinsServer;
  let smeeIo: SmeeServer;
  let serve: ServeChild;
  const clients = new Map<Host, SmeeChild>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-smee-"));
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    smeeIo = await startSmeeServer();
    writeFileSync(join(dir, "routes.yaml"), routesYaml(jenkins.url));
    writeFileSync(join(dir, "secrets.json"), JSON.stringify(SECRETS));
    serve = await startServe([
      "--routes",
      join(dir, "routes.yaml"),
      "--secrets",
      join(dir, "secrets.json"),
      "--state-dir",
      join(dir, "state"),
    ]);
    for (const [provider, route] of Object.entries(ROUTES) as [Host, string][]) {
      clients.set(provider, await startSmeeClient(smeeIo.channelUrl(route), `${serve.url}/hooks/${route}`));
    }
  });

  after(async () => {
    for (const client of clients.values()) await client.stop();
    await serve?.stop();
    await smeeIo?.close();
    await jenkins?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** serve's log line for the delivery (it is written within a turn of serve's event loop: 10 s at most). */
  const logLine = (id: string) =>
    waitFor(
      () => `serve's delivery line of ${id}; its output:\n${serve.output()}`,
      () =>
        serve
          .output()
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find((line) => line.msg === "delivery" && line.deliveryId === id),
    );

  /** What a Git host sends for `payload`, with its headers and bytes. */
  function delivery(provider: Host, payload: Buffer, options: { form?: boolean } = {}) {
    const secret = WEBHOOK_SECRET[provider];
    const id = randomUUID();
    return { id, ...signDelivery({ provider, event: "push", payload, secret, deliveryId: id, ...options }) };
  }

  /**
   * POSTs `sent` to the provider's smee channel, as the Git host would, and waits for smee-client to
   * forward it to serve: the status smee.io answered the host, the one serve answered smee-client, and
   * serve's entry for the delivery.
   */
  async function throughSmee(provider: Host, sent: ReturnType<typeof delivery>) {
    const client = clients.get(provider);
    if (!client) throw new Error(`no smee-client for ${provider}`);
    const before = client.forwarded().length;
    const atSmee = await request(smeeIo.channelUrl(ROUTES[provider]), {
      headers: sent.headers,
      body: sent.body,
    });
    expect(atSmee.status, atSmee.text).to.equal(200);
    const status = await client.waitForwarded(before + 1);
    const entry = await waitForDelivery(serve.url, sent.id, () => true);
    return { status, entry };
  }

  it("a GitHub push signed over compact JSON verifies through smee: serve answers 202 and runs it", async () => {
    const sent = delivery("github", GITHUB_PUSH);
    const { status } = await throughSmee("github", sent);
    expect(status).to.equal(202);
    const done = await waitForDelivery(serve.url, sent.id, (d) => d.status === "done");
    expect(done).to.include({ route: ROUTES.github, event: "push", httpStatus: 202 });
  });

  it("a GitHub payload whose bytes hold \\u001B verifies sent directly (202) but not through smee (401), which writes \\u001b", async () => {
    const body = githubPushWithEscape();
    const direct = delivery("github", body);
    const answer = await request(`${serve.url}/hooks/${ROUTES.github}`, {
      headers: direct.headers,
      body: direct.body,
    });
    expect(answer.status, answer.text).to.equal(202);
    expect(await waitForDelivery(serve.url, direct.id, () => true)).to.include({ httpStatus: 202 });

    const viaSmee = delivery("github", body);
    const { status, entry } = await throughSmee("github", viaSmee);
    expect(status).to.equal(401);
    expect(entry).to.include({ route: ROUTES.github, status: "rejected", httpStatus: 401 });
    expect(entry.reason).to.equal(`401 signature invalid; ${SMEE_HINT}`);
    expect(await logLine(viaSmee.id)).to.include({
      status: 401,
      reason: "signature invalid",
      hint: SMEE_HINT,
    });
  });

  it("a Gitea push as Gitea writes it (indented JSON) never verifies through smee: 401", async () => {
    const sent = delivery("gitea", GITEA_PUSH);
    const { status, entry } = await throughSmee("gitea", sent);
    expect(status).to.equal(401);
    expect(entry).to.include({ route: ROUTES.gitea, status: "rejected", httpStatus: 401 });
    expect(entry.reason).to.equal(`401 signature invalid; ${SMEE_HINT}`);
    expect(await logLine(sent.id)).to.include({ status: 401, reason: "signature invalid", hint: SMEE_HINT });
  });

  it("serve hints at smee on a 401 for a bad signature only when the request carries smee's marks; the answer is the same 401", async () => {
    const post = (sent: ReturnType<typeof delivery>) =>
      request(`${serve.url}/hooks/${ROUTES.gitea}`, { headers: sent.headers, body: sent.body });
    const tampered = (extra: Record<string, string>) => {
      const sent = delivery("gitea", GITEA_PUSH);
      return { ...sent, headers: { ...sent.headers, ...extra }, body: Buffer.from(`${sent.body} `) };
    };
    // smee-client's marks: smee.io's timestamp header (epoch milliseconds) and its content type.
    const marked = tampered({ timestamp: "1796571643614", "content-type": "application/json" });
    const plain = tampered({});
    const isoTime = tampered({ timestamp: "2026-12-06T15:40:00Z", "content-type": "application/json" });
    for (const sent of [marked, plain, isoTime]) {
      const answer = await post(sent);
      expect(answer.status).to.equal(401);
      expect(answer.json).to.deep.equal({
        status: "rejected",
        route: ROUTES.gitea,
        delivery: sent.id,
        reason: "signature invalid",
      });
    }
    expect((await waitForDelivery(serve.url, marked.id, () => true)).reason).to.equal(
      `401 signature invalid; ${SMEE_HINT}`,
    );
    expect(await logLine(marked.id)).to.include({ hint: SMEE_HINT });
    for (const sent of [plain, isoTime]) {
      expect((await waitForDelivery(serve.url, sent.id, () => true)).reason).to.equal(
        "401 signature invalid",
      );
      expect(await logLine(sent.id))
        .to.include({ status: 401 })
        .and.not.have.property("hint");
    }
    // Marked, but refused for another reason than a signature that does not match: no hint.
    const unsigned = delivery("gitea", GITEA_PUSH);
    const headers = Object.fromEntries(
      Object.entries(unsigned.headers).filter(
        ([name]) => !name.endsWith("-signature") && !name.includes("-signature-"),
      ),
    );
    const missing = await post({ ...unsigned, headers: { ...headers, timestamp: "1796571643614" } });
    expect(missing.status).to.equal(401);
    const entry = await waitForDelivery(serve.url, unsigned.id, () => true);
    expect(entry.reason).to.match(/^401 signature missing/);
    expect(entry.reason).to.not.include("smee");
  });

  it("a GitLab push with a plain secret token (X-Gitlab-Token) is accepted through smee: 202", async () => {
    const sent = delivery("gitlab", GITLAB_PUSH);
    const { status, entry } = await throughSmee("gitlab", sent);
    expect(status).to.equal(202);
    expect(entry).to.include({ route: ROUTES.gitlab, httpStatus: 202 });
    expect(entry.status).to.not.equal("rejected");
  });

  it("a GitLab delivery with a wrong secret token through smee is a 401 without the hint: a token does not cover the body", async () => {
    const id = randomUUID();
    const sent = {
      id,
      ...signDelivery({
        provider: "gitlab",
        event: "push",
        payload: GITLAB_PUSH,
        secret: "not-the-token",
        deliveryId: id,
      }),
    };
    const { status, entry } = await throughSmee("gitlab", sent);
    expect(status).to.equal(401);
    expect(entry).to.include({ route: ROUTES.gitlab, status: "rejected", reason: "401 signature invalid" });
    expect(await logLine(id))
      .to.include({ status: 401 })
      .and.not.have.property("hint");
  });

  it("a form-encoded GitHub delivery is refused 415 by smee.io and nothing of it reaches serve", async () => {
    const client = clients.get("github");
    if (!client) throw new Error("no smee-client for github");
    const before = client.forwarded().length;
    const form = delivery("github", GITHUB_PUSH, { form: true });
    expect(form.headers["content-type"]).to.equal("application/x-www-form-urlencoded");
    const atSmee = await request(smeeIo.channelUrl(ROUTES.github), {
      headers: form.headers,
      body: form.body,
    });
    expect(atSmee.status).to.equal(415);
    // A JSON delivery after it on the same channel: once it has been forwarded, the form one would have
    // been too (one event stream, in order).
    const next = delivery("github", GITHUB_PUSH);
    const { status } = await throughSmee("github", next);
    expect(status).to.equal(202);
    expect(client.forwarded().length).to.equal(before + 1);
    const seen: DeliveryView[] = await deliveries(serve.url);
    expect(seen.filter((d) => d.delivery === form.id)).to.deep.equal([]);
  });
});
