import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "chai";
import { documentNoteLines, routeNoteLines } from "../../src/cli/check";
import { explainRoutes } from "../../src/cli/explain";
import { banner, routesProblemsMessage, startFailureMessage } from "../../src/cli/serve";
import { RoutesFileError } from "../../src/core/errors";
import { normaliseDelivery } from "../../src/core/events/normalise";
import { headerBag } from "../../src/core/headers";
import { loadRoutesFile } from "../../src/core/routes/load";
import { parseRoutes } from "../../src/core/routes/parse";
import type { Route } from "../../src/core/types";
import { verifyDelivery } from "../../src/core/verify";
import { SecretsFileError } from "../../src/local/fileSecretStore";
import { StateDirInUseError } from "../../src/local/stateDirLock";
import { runInProcess } from "./checkHarness";
import { startServe } from "./serveHarness";

const OPTIONS = {
  routes: "routes.yaml",
  stateDir: ".hookgate",
  maxAttempts: 5,
  retryDelayMs: 30_000,
};

function routesOf(text: string): Route[] {
  const parsed = parseRoutes(text, "routes.yaml");
  expect(parsed.problems).to.deep.equal([]);
  return parsed.config?.routes ?? [];
}

function bannerFor(routes: Route[], missingSecrets: string[], url = "http://127.0.0.1:8787"): string {
  return banner(
    {
      url,
      routes,
      secretsFile: ".hookgate/secrets.json",
      generatedSecrets: [],
      missingSecrets,
      resumed: 0,
    },
    OPTIONS,
  );
}

const JENKINS_ROUTE = `version: 1
defaults:
  secret: hookgate/github-webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }
`;

describe("Function: the hookgate serve banner", () => {
  it("says a missing webhook secret refuses every delivery with 401, not that actions end dead", () => {
    const out = bannerFor(routesOf(JENKINS_ROUTE), ["hookgate/github-webhook", "hookgate/jenkins"]);
    expect(out).to.match(
      /Webhook secrets not in \.hookgate\/secrets\.json \(every delivery to the routes that use them is refused with 401 until you add them\):\n {2}hookgate\/github-webhook\n/,
    );
    expect(out).to.match(/Secrets not in .*end "dead" until you add them\):\n {2}hookgate\/jenkins\n\n/);
    expect(out).not.to.match(/end "dead" until you add them\):\n( {2}.*\n)* {2}hookgate\/github-webhook/);
  });

  it("lists only action secrets under 'end dead' when every webhook secret is there", () => {
    const out = bannerFor(routesOf(JENKINS_ROUTE), ["hookgate/jenkins"]);
    expect(out).not.to.include("Webhook secrets not in");
    expect(out).to.include('end "dead" until you add them):\n  hookgate/jenkins');
  });
});

describe("Function: the hookgate serve banner's notes", () => {
  const NEVER_MATCHES = `version: 1
defaults:
  secret: hookgate/github-webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [pushh], branches: [main], paths: ["services/api/**"] }
    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }
`;

  it("prints the note lines hookgate check prints, so a route whose event is a typo does not start without a word", () => {
    const routes = routesOf(NEVER_MATCHES);
    const notes = routeNoteLines(routes);
    expect(notes.some((line) => line.startsWith('note: route api-build: event "pushh"'))).to.equal(true);
    const out = bannerFor(routes, []);
    expect(out).to.include(`\n\n${notes.join("\n")}\n`);
  });

  it("prints no note line for routes hookgate check has nothing to say about", () => {
    const routes = routesOf(JENKINS_ROUTE);
    expect(routeNoteLines(routes)).to.deep.equal([]);
    expect(bannerFor(routes, [])).not.to.match(/^note:/m);
  });

  // Keys nothing reads: a top-level jenkins behind defaults.jenkins, a GitHub-only auth option on a GitLab route.
  const UNREAD_KEYS = `version: 1
jenkins: { url: "http://127.0.0.1:9090", credentials: hookgate/old-jenkins }
defaults:
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: gl-build
    provider: gitlab
    secret: hookgate/gitlab-webhook
    auth: { allowSha1: true }
    match: { repos: [acme/api], events: [pushh] }
    action: { type: jenkins, job: api/build }
`;

  it("prints the file's notes on keys nothing reads before the route notes, each line as check prints it", () => {
    const parsed = parseRoutes(UNREAD_KEYS, "routes\u001b[2J.yaml");
    expect(parsed.problems).to.deep.equal([]);
    const routes = parsed.config?.routes ?? [];
    const documentNotes = parsed.config?.notes ?? [];
    const lines = documentNoteLines(documentNotes);
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^note: routes\\u001b\[2J\.yaml:2:1: jenkins: never used: /);
    expect(lines[1]).to.match(
      /^note: routes\\u001b\[2J\.yaml:9:\d+: route gl-build: auth\.allowSha1 has no effect/,
    );
    const out = banner(
      {
        url: "http://127.0.0.1:8787",
        routes,
        secretsFile: ".hookgate/secrets.json",
        generatedSecrets: [],
        missingSecrets: [],
        resumed: 0,
      },
      { ...OPTIONS, documentNotes },
    );
    expect(out).to.include(`\n\n${[...lines, ...routeNoteLines(routes)].join("\n")}\n`);
    expect(out).not.to.match(/\p{Cc}(?<!\n)|\p{Cf}/u);
  });

  it("hookgate serve starts with the same notes on keys nothing reads as hookgate check prints for its file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-serve-notes-"));
    try {
      const file = join(dir, "routes.yaml");
      writeFileSync(file, UNREAD_KEYS);
      const check = await runInProcess(["check", "-r", file]);
      expect(check.code, check.stderr).to.equal(0);
      const fileNotes = check.stdout.split("\n").filter((line) => line.startsWith(`note: ${file}:`));
      expect(fileNotes).to.have.length(2);
      const serve = await startServe(["--routes", file, "--state-dir", join(dir, "state")]);
      try {
        const started = serve.output().split("\n");
        for (const line of fileNotes) expect(started).to.include(line);
      } finally {
        await serve.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Function: the hookgate serve banner's test delivery", () => {
  /** The repositories of the shipped example payloads, by provider (examples/README.md). */
  const EXAMPLE_REPOS: Record<string, string> = {
    github: "acme/*",
    gitlab: "platform/**",
    bitbucket: "team/*",
  };
  const routeFor = (provider: string) =>
    routesOf(`version: 1
routes:
  - name: tools
    provider: ${provider}
    secret: hookgate/${provider}-webhook
    match: { repos: ["${EXAMPLE_REPOS[provider] ?? "acme/*"}"], events: [push] }
    action: { type: jenkins, job: tools/build, parameters: { SHA: "{{sha}}" }, jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins } }
`);
  const sendLine = (out: string) => out.split("\n").find((line) => line.includes("npx hookgate send")) ?? "";
  const testDelivery = (out: string) =>
    out.slice(out.indexOf("Send a test delivery:\n"), out.indexOf("\n  curl -s "));

  it("sends a GitHub route's test delivery as GitHub, with the GitHub example push", () => {
    const line = sendLine(bannerFor(routeFor("github"), []));
    expect(line).not.to.include("--provider");
    expect(line).to.include("--payload examples/github-push.json");
  });

  it("sends a GitLab route's test delivery with --provider gitlab and the GitLab example push (not a GitHub push, refused 401)", () => {
    const line = sendLine(bannerFor(routeFor("gitlab"), []));
    expect(line).to.include("--secret-name hookgate/gitlab-webhook --provider gitlab --event push");
    expect(line).to.include("--payload examples/gitlab-push.json");
  });

  it("suggests the shipped routes.yaml's api-build with the GitHub example push, as the README's quick start sends it", () => {
    const routes = loadRoutesFile(resolve(__dirname, "..", "..", "routes.yaml")).routes;
    expect(testDelivery(bannerFor(routes, []))).to.equal(
      "Send a test delivery:\n  npx hookgate send --url http://127.0.0.1:8787/hooks/api-build " +
        "--secrets .hookgate/secrets.json --secret-name hookgate/github-webhook --event push --payload examples/github-push.json",
    );
  });

  it("sends the example a route takes: the merged pull request to a pull-request route, when the example push changes none of the other route's paths", () => {
    const routes = routesOf(`version: 1
defaults:
  secret: hookgate/github-webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [push], branches: [main], paths: ["services/api/**"] }
    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }
  - name: cleanup
    match: { repos: ["acme/*"], events: [pull_request], actions: [closed] }
    action: { type: pr-cleanup, token: hookgate/github-token, steps: [{ delete-branch: { onlyMerged: true } }] }
`);
    expect(testDelivery(bannerFor(routes, []))).to.equal(
      "Send a test delivery:\n  npx hookgate send --url http://127.0.0.1:8787/hooks/cleanup " +
        "--secrets .hookgate/secrets.json --secret-name hookgate/github-webhook --event pull_request " +
        "--payload examples/github-pr-closed-merged.json",
    );
  });

  it("offers hookgate explain for one's own payload, not a push the route ignores, when no example matches a route (GitLab pull requests only)", () => {
    const out = bannerFor(
      routesOf(`version: 1
providers: { gitlab: { token: hookgate/gitlab-token } }
routes:
  - name: gitlab-pr-cleanup
    provider: gitlab
    secret: hookgate/gitlab-webhook
    match: { repos: ["platform/**"], events: [pull_request], actions: [closed], merged: true }
    action: { type: pr-cleanup, steps: [{ delete-branch: { onlyMerged: true } }] }
`),
      [],
    );
    expect(testDelivery(out)).to.equal(
      "Send a test delivery:\n" +
        "  No payload in examples/ matches one of these routes: check one of yours with explain, then send it:\n" +
        "  npx hookgate explain --routes routes.yaml --provider gitlab --payload PAYLOAD.json\n" +
        "  npx hookgate send --url http://127.0.0.1:8787/hooks/gitlab-pr-cleanup --secrets .hookgate/secrets.json " +
        "--secret-name hookgate/gitlab-webhook --provider gitlab --event EVENT --payload PAYLOAD.json",
    );
  });

  /** A GitHub route that takes unsigned pushes from `allowIps` (no secret), then, when `withSigned`, one with a secret. */
  const allowIpsRoutes = (allowIps: string, withSigned: boolean) =>
    routesOf(`version: 1
defaults:
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: lan
    auth: { allowIps: ["${allowIps}"] }
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: lan/build, parameters: { SHA: "{{sha}}" } }
${
  withSigned
    ? `  - name: gh
    secret: hookgate/github-webhook
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: gh/build, parameters: { SHA: "{{sha}}" } }
`
    : ""
}`);

  it("sends the test delivery, signed, to a route with a secret before a route without one that comes first (send always signs: that one answers 401)", () => {
    expect(testDelivery(bannerFor(allowIpsRoutes("127.0.0.1/32", true), []))).to.equal(
      "Send a test delivery:\n  npx hookgate send --url http://127.0.0.1:8787/hooks/gh " +
        "--secrets .hookgate/secrets.json --secret-name hookgate/github-webhook --event push --payload examples/github-push.json",
    );
  });

  it("suggests an unsigned POST, which the gateway accepts from this machine, when the only route an example matches has no secret (auth.allowIps)", () => {
    const routes = allowIpsRoutes("127.0.0.1/32", false);
    const out = testDelivery(bannerFor(routes, []));
    expect(out).to.equal(
      "Send a test delivery:\n" +
        "  route lan has no secret: it takes an unsigned delivery from its auth.allowIps, such as this machine:\n" +
        "  curl -H 'content-type: application/json' -H 'x-github-event: push' " +
        "--data-binary @examples/github-push.json http://127.0.0.1:8787/hooks/lan",
    );
    expect(out).not.to.include("--secret");
    // What the gateway makes of that POST from 127.0.0.1: accepted, and a push the route matches.
    const headers = headerBag(
      Object.fromEntries([...out.matchAll(/-H '([^:]+): ([^']*)'/g)].map((m) => [m[1], m[2]])),
    );
    const body = readFileSync(resolve(__dirname, "..", "..", "examples", "github-push.json"));
    const route = routes[0] as Route;
    const verdict = verifyDelivery({
      provider: "github",
      headers,
      body,
      secrets: [],
      sourceIp: "127.0.0.1",
      auth: route.auth,
      nowMs: Date.now(),
    });
    expect(verdict).to.deep.include({ ok: true });
    const event = normaliseDelivery("github", headers, JSON.parse(body.toString("utf8")), body);
    expect(explainRoutes([route], event)[0]?.matched).to.equal(true);
  });

  it("says a route without a secret whose auth.allowIps refuse this machine is answered 403, and, serve being on loopback only, that no other machine can post to it", () => {
    const out = testDelivery(bannerFor(allowIpsRoutes("192.0.2.0/24", false), []));
    expect(out).to.include(
      "  route lan has no secret: it takes an unsigned delivery only from its auth.allowIps, which refuse this machine (127.0.0.1), the only one that can reach serve on 127.0.0.1: this POST is answered 403 until they admit it:\n",
    );
    expect(out).not.to.include("post from one of them");
  });

  it("says to post from one of a route's auth.allowIps, to this machine's address, when serve listens on a wildcard address other machines reach", () => {
    const out = testDelivery(bannerFor(allowIpsRoutes("192.0.2.0/24", false), [], "http://0.0.0.0:8787"));
    expect(out).to.include(
      "  route lan has no secret: it takes an unsigned delivery only from its auth.allowIps, which do not admit this machine (127.0.0.1): post from one of them, to this machine's address:\n",
    );
  });

  it("sends the unsigned test delivery to a route without a secret whose auth.allowIps admit this machine, before one that comes first and refuses it (403)", () => {
    const routes = routesOf(`version: 1
defaults:
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: lan
    auth: { allowIps: ["192.0.2.0/24"] }
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: lan/build, parameters: { SHA: "{{sha}}" } }
  - name: local
    auth: { allowIps: ["127.0.0.1/32"] }
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: local/build, parameters: { SHA: "{{sha}}" } }
`);
    const out = testDelivery(bannerFor(routes, []));
    expect(out).to.include(
      "  route local has no secret: it takes an unsigned delivery from its auth.allowIps, such as this machine:\n",
    );
    expect(out.endsWith(" http://127.0.0.1:8787/hooks/local"), out).to.equal(true);
  });

  it("sends the test delivery to 127.0.0.1, not to the wildcard address serve listens on (--host 0.0.0.0 or ::), which a client may send through its proxy", () => {
    for (const [listening, local] of [
      ["http://0.0.0.0:8787", "http://127.0.0.1:8787"],
      ["http://[::]:8787", "http://127.0.0.1:8787"],
    ]) {
      const signed = bannerFor(routeFor("gitlab"), [], listening);
      expect(sendLine(signed), listening).to.include(`--url ${local}/hooks/tools `);
      expect(signed, listening).to.include(`  curl -s ${local}/_hookgate/deliveries`);
      const unsigned = testDelivery(bannerFor(allowIpsRoutes("127.0.0.1/32", false), [], listening));
      expect(unsigned.endsWith(` ${local}/hooks/lan`), unsigned).to.equal(true);
    }
  });

  it("never suggests sending a secret a route also reads as an API token (send would put the token in X-Gitlab-Token): a placeholder, and check's note on it", () => {
    const out = bannerFor(
      routesOf(`version: 1
providers: { gitlab: { apiUrl: "https://gitlab.example.com/api/v4", token: hookgate/gitlab-token } }
routes:
  - name: gl-zip
    provider: gitlab
    secret: hookgate/gitlab-token
    match: { repos: ["platform/**"], events: [push] }
    action: { type: s3-zip, key: "{{repo}}/{{sha}}.zip" }
`),
      [],
    );
    expect(sendLine(out)).to.include("--secret-name WEBHOOK-SECRET-NAME --provider gitlab --event push");
    expect(out).not.to.include("--secret-name hookgate/gitlab-token");
    expect(out).to.include('note: secret "hookgate/gitlab-token" is the webhook secret of route gl-zip');
  });

  it("offers hookgate explain with the route's provider and an event to fill in for a host with no example payload (Gitea)", () => {
    const out = testDelivery(bannerFor(routeFor("gitea"), []));
    expect(out).to.include(
      "npx hookgate explain --routes routes.yaml --provider gitea --event EVENT --payload PAYLOAD.json",
    );
    expect(sendLine(out)).to.include("--provider gitea --event EVENT --payload PAYLOAD.json");
  });
});

describe("Function: the hookgate serve banner's webhook instructions", () => {
  it("tells where each routes' host keeps its webhook form: GitLab's for a GitLab route, not only GitHub's", () => {
    const routes = routesOf(`version: 1
defaults: { jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins } }
routes:
  - name: tools
    provider: gitlab
    secret: hookgate/gitlab-webhook
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: tools/build, parameters: { SHA: "{{sha}}" } }
`);
    const out = bannerFor(routes, []);
    expect(out).to.include(
      "  GitLab: Settings > Webhooks > Add new webhook: URL = a route's URL, Secret = the route's secret from .hookgate/secrets.json.",
    );
    expect(out).not.to.include("GitHub: Settings");
    const both = bannerFor([...routes, ...routesOf(JENKINS_ROUTE)], []);
    expect(both).to.include("  GitLab: Settings > Webhooks");
    expect(both).to.include("  GitHub: Settings > Webhooks > Add webhook: Payload URL = a route's URL");
  });
});

describe("Function: the hookgate serve banner's forwarding instructions", () => {
  it("offers gh webhook forward to a GitHub route's URL, and says smee-client re-serialises the body", () => {
    const out = bannerFor(routesOf(JENKINS_ROUTE), []);
    expect(out).to.include(
      "gh webhook forward --repo=OWNER/REPO --events=push --url=http://127.0.0.1:8787/hooks/api-build --secret=<the route's secret>",
    );
    expect(out).to.include("serve --host 0.0.0.0");
    expect(out).to.include("smee-client re-serialises the JSON body");
    expect(out).not.to.include("npx smee-client");
  });

  it("offers no gh webhook forward when no route is a GitHub one", () => {
    const out = bannerFor(
      routesOf(`version: 1
defaults: { jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins } }
routes:
  - name: tea
    provider: gitea
    secret: hookgate/gitea-webhook
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: tea/build }
`),
      [],
    );
    expect(out).not.to.include("gh webhook forward");
    expect(out).to.include("serve --host 0.0.0.0");
  });
});

describe("Function: the hookgate serve banner and start messages with user-given paths", () => {
  const ESC_PATH = "state\u001b[2Jdir";
  const BIDI_PATH = "routes\u202egnp.yaml";

  it("shows the routes file, state dir and secrets file of the banner with their invisible characters as \\uXXXX", () => {
    const out = banner(
      {
        url: "http://127.0.0.1:8787",
        routes: routesOf(JENKINS_ROUTE),
        secretsFile: "sec\u0085rets.json",
        generatedSecrets: [],
        missingSecrets: ["hookgate/github-webhook", "hookgate/jenkins"],
        resumed: 0,
      },
      { ...OPTIONS, routes: BIDI_PATH, stateDir: ESC_PATH },
    );
    expect(out).to.include("route(s) from routes\\u202egnp.yaml");
    expect(out).to.include("  state dir  state\\u001b[2Jdir");
    expect(out).to.include("  secrets    sec\\u0085rets.json");
    expect(out).to.include("--secrets sec\\u0085rets.json --secret-name");
    expect(out).not.to.match(/\p{Cc}(?<!\n)|\p{Cf}/u);
  });

  it("names a --routes path with an ESC as \\u001b in its problems, each problem line as check prints it", () => {
    const error = new RoutesFileError([
      { file: ESC_PATH, line: 1, col: 1, message: "routes file not found" },
    ]);
    expect(routesProblemsMessage(ESC_PATH, error)).to.equal(
      "hookgate serve: state\\u001b[2Jdir has problems:\nstate\\u001b[2Jdir:1:1: routes file not found\n",
    );
  });

  it("writes the lock's state dir and a secrets file's name as \\uXXXX when serve cannot start", () => {
    const options = { host: "127.0.0.1", port: 8787 };
    expect(startFailureMessage(new StateDirInUseError(ESC_PATH, 42), options)).to.equal(
      "hookgate serve: the state dir state\\u001b[2Jdir is in use by another hookgate serve (pid 42): stop it, " +
        "or give this one its own --state-dir (if no hookgate serve runs, delete state\\u001b[2Jdir/serve.lock)\n",
    );
    const secrets = new SecretsFileError(`secrets file ${BIDI_PATH} not found`);
    expect(startFailureMessage(secrets, options)).to.equal(
      "hookgate serve: secrets file routes\\u202egnp.yaml not found\n",
    );
  });
});
