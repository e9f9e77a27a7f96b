import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import examples from "@octokit/webhooks-examples";
import { expect } from "chai";
import { parse } from "yaml";
import { assumedEventKey, deliveryHeaders, PING_REASON, wouldRun } from "../../src/cli/explain";
import { compileRoutes } from "../../src/core/routes/compile";
import type { RoutesDoc } from "../../src/core/routes/document";
import { parseRoutes } from "../../src/core/routes/parse";
import type { Route, WebhookEvent } from "../../src/core/types";
import { REPO_ROOT, runBin, runInProcess, STACK_FRAME } from "./checkHarness";

/** GitHub's own example of a push to refs/heads/master of Codertocat/Hello-World. */
function githubPushExample(): unknown {
  const push = (
    examples as Array<{ name: string; examples: Array<{ ref?: string; deleted?: boolean }> }>
  ).find((e) => e.name === "push");
  const example = push?.examples.find((e) => e.ref === "refs/heads/master" && e.deleted === false);
  if (!example) throw new Error("@octokit/webhooks-examples has no push to refs/heads/master");
  return example;
}

const ROUTES = `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }
providers:
  github: { token: hookgate/github-token }
  gitlab: { token: hookgate/gitlab-token }
routes:
  - name: hello-master
    match: { repos: ["Codertocat/*"], events: [push], branches: [master] }
    action: { type: jenkins, job: "hello/{{branch}}", parameters: { SHA: "{{sha}}", WHO: "{{actor}}" } }
  - name: hello-main
    match: { repos: ["Codertocat/*"], events: [push], branches: [main] }
    action: { type: jenkins, job: hello/build }
  - name: other-repo
    match: { repos: ["acme/*"], events: [push] }
    action: { type: s3-zip }
  - name: gitlab-push
    provider: gitlab
    match: { events: [push] }
    action: { type: jenkins, job: gl/build }
`;

describe("Command: hookgate explain", () => {
  let dir: string;
  let routes: string;
  let payload: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-explain-"));
    routes = join(dir, "routes.yaml");
    payload = join(dir, "push.json");
    writeFileSync(routes, ROUTES);
    writeFileSync(payload, JSON.stringify(githubPushExample(), null, 2));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("hookgate explain --json (child process) prints exactly [{route, matched, reason}] for a GitHub push example", () => {
    const run = runBin(["explain", "--routes", routes, "--event", "push", "--payload", payload, "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    const result = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(result.map((r) => Object.keys(r))).to.deep.equal(Array(4).fill(["route", "matched", "reason"]));
    expect(result.map((r) => [r.route, r.matched])).to.deep.equal([
      ["hello-master", true],
      ["hello-main", false],
      ["other-repo", false],
      ["gitlab-push", false],
    ]);
    expect(result[1]?.reason).to.include('"master"').and.include("main");
    expect(result[2]?.reason).to.include("Codertocat/Hello-World");
    expect(result[3]?.reason).to.equal("the route is for gitlab deliveries, this one is from github");
    expect(run.stderr).to.equal("");
  });

  it("hookgate explain (child process) prints the delivery, a table with the reasons, and that signatures are not checked", () => {
    const run = runBin(["explain", "-r", routes, "-e", "push", "-p", payload, "--delivery", "d-42"]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(
      "Delivery: github push, repo Codertocat/Hello-World, branch master, sha 6113728f27ae, by Codertocat, delivery d-42",
    );
    expect(run.stdout).to.include("(signatures are not verified by explain)");
    expect(run.stdout).to.match(/^ROUTE\s+MATCH\s+REASON$/m);
    expect(run.stdout).to.match(/^hello-master\s+yes\s+matched/m);
    expect(run.stdout).to.match(/^hello-main\s+no\s+\S/m);
    expect(run.stdout).to.match(/^gitlab-push\s+no\s+the route is for gitlab deliveries/m);
    expect(run.stdout).to.include("1 of 4 routes would run");
    expect(run.stdout).to.match(/^ROUTE\s+WOULD RUN$/m);
    expect(run.stdout).to.match(
      /^hello-master\s+jenkins job hello\/master SHA=6113728f27ae82c7b1a177c8d03f9e96e0adf246 WHO=Codertocat$/m,
    );
    expect(run.stdout + run.stderr).not.to.match(STACK_FRAME);
  });

  it("hookgate explain reports a payload that does not fit its event (a push sent as pull_request) and exits 1", async () => {
    const run = await runInProcess(["explain", "-r", routes, "-e", "pull_request", "-p", payload, "--json"]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^hookgate explain: this delivery cannot be normalised: /);
    expect(run.stdout).to.equal("");
  });

  it("hookgate explain of a GitLab payload without --provider says to pass --provider gitlab", async () => {
    const gitlab = join(__dirname, "..", "..", "examples", "gitlab-push.json");
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", gitlab]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      "hookgate explain: this delivery cannot be normalised: the GitHub push payload has no repository; it looks like a gitlab payload: pass --provider gitlab (the default is github)\n",
    );
  });

  it("hookgate explain of a GitHub payload with --provider gitlab says to pass --provider github", async () => {
    const run = await runInProcess([
      "explain",
      "-r",
      routes,
      "--provider",
      "gitlab",
      "-e",
      "push",
      "-p",
      payload,
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(
      "hookgate explain: this delivery cannot be normalised: the GitLab push payload has no project.path_with_namespace; it looks like a github payload: pass --provider github\n",
    );
  });

  it("hookgate explain translates GitHub-style event names into the provider's header", () => {
    expect(deliveryHeaders("gitlab", "push", "id-1")).to.deep.equal({
      "content-type": "application/json",
      "x-gitlab-event": "Push Hook",
      "webhook-id": "id-1",
    });
    expect(deliveryHeaders("bitbucket", "push", undefined)).to.include({ "x-event-key": "repo:push" });
    expect(deliveryHeaders("bitbucket", "tag_push", undefined)).to.include({ "x-event-key": "repo:push" });
    const merged = { pullrequest: { state: "MERGED" } };
    expect(deliveryHeaders("bitbucket", "pull_request", undefined, merged)).to.include({
      "x-event-key": "pullrequest:fulfilled",
    });
    expect(
      deliveryHeaders("bitbucket-server", "pull_request", undefined, { pullRequest: { state: "DECLINED" } }),
    ).to.include({ "x-event-key": "pr:declined" });
    expect(deliveryHeaders("gitlab", "Merge Request Hook", undefined)).to.include({
      "x-gitlab-event": "Merge Request Hook",
    });
    expect(deliveryHeaders("github", "push", "abc")).to.include({
      "x-github-event": "push",
      "x-github-delivery": "abc",
    });
  });

  it("hookgate explain weighs every ref change of a Bitbucket push, and shows the run of each matching one", async () => {
    const bbRoutes = join(dir, "bitbucket-routes.yaml");
    writeFileSync(
      bbRoutes,
      `version: 1
defaults: { provider: bitbucket, secret: hookgate/webhook }
jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }
routes:
  - name: main-build
    match: { events: [push], branches: [main] }
    action: { type: jenkins, job: build, parameters: { DELIVERY: "{{deliveryId}}" } }
  - name: release-build
    match: { events: [push], branches: ["release/*"] }
    action: { type: jenkins, job: release }
`,
    );
    const bbPush = join(dir, "bitbucket-push.json");
    const change = (type: string, name: string, hash: string) => ({
      old: null,
      new: { type, name, target: { hash } },
    });
    writeFileSync(
      bbPush,
      JSON.stringify({
        repository: { full_name: "team/repo" },
        push: { changes: [change("tag", "v1.0", "b".repeat(40)), change("branch", "main", "c".repeat(40))] },
      }),
    );
    const run = await runInProcess([
      "explain",
      "-r",
      bbRoutes,
      "--provider",
      "bitbucket",
      "-e",
      "push",
      "-p",
      bbPush,
      "--delivery",
      "u-1",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain("tag v1.0").and.to.contain("and 1 more ref change: refs/heads/main");
    expect(run.stdout).to.match(/main-build +yes +matched: .*branch main/);
    expect(run.stdout).to.match(/release-build +no +.*nor did the push's 1 other ref change/);
    expect(run.stdout).to.match(/main-build +jenkins job build DELIVERY=u-1#2/);
  });

  it("hookgate explain --provider bitbucket --event pull_request of an open pull request says it assumed X-Event-Key pullrequest:created and to pass the real key", async () => {
    const bbRoutes = join(dir, "bitbucket-pr-routes.yaml");
    writeFileSync(
      bbRoutes,
      `version: 1
defaults: { provider: bitbucket, secret: hookgate/webhook }
jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }
routes:
  - name: pr-build
    match: { events: [pull_request], actions: [synchronize] }
    action: { type: jenkins, job: build }
`,
    );
    const pr = JSON.parse(
      readFileSync(join(REPO_ROOT, "test/fixtures/payloads/bitbucket/pullrequest-fulfilled.json"), "utf8"),
    );
    const explainPr = async (state: string, event: string) => {
      pr.pullrequest.state = state;
      const file = join(dir, `bitbucket-pr-${state}.json`);
      writeFileSync(file, JSON.stringify(pr));
      const run = await runInProcess([
        "explain",
        "-r",
        bbRoutes,
        "--provider",
        "bitbucket",
        "-e",
        event,
        "-p",
        file,
      ]);
      expect(run.code, run.stderr).to.equal(0);
      return run.stdout;
    };
    const open = await explainPr("OPEN", "pull_request");
    expect(open).to.contain(
      "(--event pull_request was sent as X-Event-Key pullrequest:created, as if the pull request had just been opened; " +
        "the delivery you mean may have another key, which can match other routes: pass it, e.g. --event pullrequest:updated)",
    );
    expect(open).to.match(/pr-build +no /);
    // The key it names, passed, is the delivery explain shows: no note, and the route on synchronize matches.
    const updated = await explainPr("OPEN", "pullrequest:updated");
    expect(updated).not.to.contain("was sent as X-Event-Key");
    expect(updated).to.match(/pr-build +yes /);
    // A merged pull request's key is not a guess (only pullrequest:fulfilled says so): no note.
    expect(await explainPr("MERGED", "pull_request")).not.to.contain("was sent as X-Event-Key");
  });

  it("assumedEventKey names Data Center's pr:opened for an open pull request's --event pull_request, and nothing for a key passed as it is", () => {
    const open = { pullRequest: { state: "OPEN" } };
    expect(assumedEventKey("bitbucket-server", "pull_request", open)).to.contain(
      "sent as X-Event-Key pr:opened, as if the pull request had just been opened",
    );
    expect(assumedEventKey("bitbucket-server", "pull_request", open)).to.contain(
      "--event pr:from_ref_updated)",
    );
    expect(assumedEventKey("bitbucket-server", "pr:modified", open)).to.equal(undefined);
    expect(
      assumedEventKey("bitbucket-server", "pull_request", { pullRequest: { state: "MERGED" } }),
    ).to.equal(undefined);
    expect(assumedEventKey("github", "pull_request", { pull_request: { state: "open" } })).to.equal(
      undefined,
    );
  });

  it("hookgate explain says a ping is answered pong and runs no route, as the gateway does", async () => {
    const pingRoutes = join(dir, "ping-routes.yaml");
    writeFileSync(
      pingRoutes,
      `version: 1
defaults: { secret: hookgate/webhook }
jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }
routes:
  - name: any-acme
    match: { repos: ["acme/*"] }
    action: { type: jenkins, job: build }
  - name: dc-any
    provider: bitbucket-server
    match: {}
    action: { type: jenkins, job: build }
`,
    );
    const ping = join(dir, "ping.json");
    writeFileSync(
      ping,
      JSON.stringify({ zen: "Keep it simple.", hook_id: 1, repository: { full_name: "acme/api" } }),
    );
    const github = await runInProcess(["explain", "-r", pingRoutes, "-e", "ping", "-p", ping]);
    expect(github.code, github.stderr).to.equal(0);
    expect(github.stdout).to.match(
      /^any-acme +no +a ping is answered 200 pong before any matching: no route runs$/m,
    );
    expect(github.stdout).to.include("0 of 2 routes would run").and.not.include("WOULD RUN");

    const dcPing = join(dir, "dc-ping.json");
    writeFileSync(dcPing, JSON.stringify({ eventKey: "diagnostics:ping", date: "2024-01-01T00:00:00+0000" }));
    const dc = await runInProcess([
      "explain",
      "-r",
      pingRoutes,
      "--provider",
      "bitbucket-server",
      "-p",
      dcPing,
      "--json",
    ]);
    expect(dc.code, dc.stderr).to.equal(0);
    expect(JSON.parse(dc.stdout)).to.deep.include({ route: "dc-any", matched: false, reason: PING_REASON });
  });

  it("hookgate explain reports a payload that is not JSON and exits 1", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", bad]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      new RegExp(
        `^hookgate explain: payload file ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON \\(line 1, column 3\\): `,
      ),
    );
  });

  it("hookgate explain reads a payload file that starts with a UTF-8 byte-order mark, as the gateway does", async () => {
    const bom = join(dir, "push-bom.json");
    writeFileSync(
      bom,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(githubPushExample()))]),
    );
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", bom, "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    expect((JSON.parse(run.stdout) as Array<{ matched: boolean }>)[0]?.matched).to.equal(true);
  });

  it("hookgate explain refuses a payload file the gateway would refuse: not UTF-8, or not a JSON object", async () => {
    const latin1 = join(dir, "latin1.json");
    writeFileSync(latin1, Buffer.from('{"ref":"refs/heads/caf\xe9"}', "latin1"));
    const notUtf8 = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", latin1]);
    expect(notUtf8.code).to.equal(1);
    expect(notUtf8.stderr).to.include("latin1.json is not JSON: body is not valid UTF-8");
    const list = join(dir, "list.json");
    writeFileSync(list, "[]");
    const notObject = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", list]);
    expect(notObject.code).to.equal(1);
    expect(notObject.stderr).to.include(
      "list.json is JSON but not an object (an array): the gateway answers 400, body is not a JSON object",
    );
  });

  it("hookgate explain says the line and column of a payload's syntax error, as check does, not a character offset", async () => {
    const lines = JSON.stringify(githubPushExample(), null, 2).split("\n");
    const at = lines.findIndex((line, index) => index >= 40 && line.endsWith(","));
    lines[at] = `${lines[at]},`; // a second comma, at the end of line at + 1
    const broken = join(dir, "stray-comma.json");
    writeFileSync(broken, lines.join("\n"));
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", broken]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(
      `stray-comma.json is not valid JSON (line ${at + 1}, column ${(lines[at] as string).length}): `,
    );
    expect(run.stderr).not.to.include("position");
  });

  // [file name, its bytes, the whole of stderr after "payload file <path> is "]
  const notJson: Array<[string, Buffer, string]> = [
    [
      "escape.json",
      Buffer.from("\x1b]0;pwned\x07\x1b[31mRED", "latin1"),
      `not valid JSON (line 1, column 1): Unexpected token '\\u001b', "\\u001b]0;pwned\\u0007\\u001b[31mRED" is not valid JSON`,
    ],
    [
      "lines.json",
      Buffer.from("not\njson"),
      `not valid JSON (line 1, column 2): Unexpected token 'o', "not\\u000ajson" is not valid JSON`,
    ],
    [
      "utf16le.json",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}', "utf16le")]),
      "not JSON: body is not valid UTF-8 (saved as UTF-16: save it as UTF-8)",
    ],
    [
      "utf16be.json",
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('{"a":1}', "utf16le").swap16()]),
      "not JSON: body is not valid UTF-8 (saved as UTF-16: save it as UTF-8)",
    ],
  ];
  for (const [name, bytes, reason] of notJson) {
    it(`hookgate explain says why ${name} is not JSON on one line, its control characters as \\uXXXX: ${reason}`, async () => {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", file]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`hookgate explain: payload file ${file} is ${reason}\n`);
    });
  }

  it("hookgate explain --provider gitlab reads the event of a pipeline payload from its object_kind, without --event", async () => {
    const pipeline = join(dir, "gitlab-pipeline.json");
    writeFileSync(
      pipeline,
      JSON.stringify({
        object_kind: "pipeline",
        object_attributes: { id: 1, ref: "main", status: "success" },
        project: { path_with_namespace: "platform/infra", default_branch: "main" },
        user: { username: "bob" },
      }),
    );
    const glRoutes = join(dir, "gitlab-pipeline-routes.yaml");
    writeFileSync(
      glRoutes,
      `version: 1
defaults: { provider: gitlab, secret: hookgate/webhook }
jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }
routes:
  - name: after-pipeline
    match: { events: [pipeline] }
    action: { type: jenkins, job: deploy, parameters: { D: "{{deliveryId}}" } }
`,
    );
    const run = await runInProcess([
      "explain",
      "-r",
      glRoutes,
      "--provider",
      "gitlab",
      "-p",
      pipeline,
      "--json",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.have.nested.property("[0].matched", true);

    writeFileSync(pipeline, JSON.stringify({ object_kind: "unheard_of", project: {} }));
    const unknown = await runInProcess(["explain", "-r", glRoutes, "--provider", "gitlab", "-p", pipeline]);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('object_kind "unheard_of"').and.include("pass --event NAME");
  });

  it("hookgate explain reports a missing payload file and exits 1", async () => {
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", join(dir, "none.json")]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include("none.json not found");
  });

  it("hookgate explain refuses an empty --event as a usage error, before reading the payload", async () => {
    const run = await runInProcess(["explain", "-r", routes, "-e", "", "-p", payload]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include("hookgate explain: --event must not be empty");
  });

  it("hookgate explain prints the routes file's problems and exits 1 when it is invalid", async () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "version: 2\nroutes: []\n");
    const run = await runInProcess(["explain", "-r", broken, "-e", "push", "-p", payload]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`${broken}:1:10: version must be 1`);
  });

  const usageErrors: Array<[string[], string]> = [
    [["explain", "--event", "push"], "--payload FILE is required"],
    [
      ["explain", "-p", "x.json", "--provider", "svn"],
      '--provider must be one of github, gitlab, bitbucket, bitbucket-server, gitea, not "svn"',
    ],
    [["explain", "-p", "x.json", "--verbose"], "Unknown option '--verbose'"],
    [
      ["explain", "-p", "x.json"],
      "--event NAME is required for github (its payloads do not name their event)",
    ],
    [
      ["explain", "-p", "x.json", "--provider", "bitbucket"],
      "--event NAME is required for bitbucket (its payloads do not name their event)",
    ],
  ];
  for (const [argv, message] of usageErrors) {
    it(`hookgate ${argv.join(" ")} is a usage error (exit 2): ${message}`, async () => {
      const run = await runInProcess(argv);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.include(message).and.include('Run "hookgate explain --help" for usage.');
    });
  }

  it("hookgate explain --help says that signatures are not verified", async () => {
    const run = await runInProcess(["explain", "--help"]);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.include("Signatures are NOT").and.include("verified");
  });

  // Git refuses control characters below U+0020 and DEL in a ref name, but takes a C1 control (U+009B is an
  // 8-bit CSI) and a format character (U+202E turns the text after it around): a pushed branch can hold them.
  it("hookgate explain writes a branch's C1 control and bidi override as \\u escapes in its Delivery line, never as themselves", async () => {
    const push = githubPushExample() as Record<string, unknown>;
    const branch = "fix\u009b2J\u202egnp.exe";
    const file = join(dir, "push-invisible.json");
    writeFileSync(file, JSON.stringify({ ...push, ref: `refs/heads/${branch}` }));
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", file]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(
      /^Delivery: github push, repo Codertocat\/Hello-World, branch fix\\u009b2J\\u202egnp\.exe,/,
    );
    expect(run.stdout.replaceAll("\n", "")).to.not.match(/\p{Cc}|\p{Cf}/u);
  });

  it("hookgate explain --json writes a branch's C1 control and bidi override as \\u escapes too, and the JSON reads back the same", async () => {
    const push = githubPushExample() as Record<string, unknown>;
    const branch = "fix\u009b2J\u202egnp.exe";
    const file = join(dir, "push-invisible-json.json");
    writeFileSync(file, JSON.stringify({ ...push, ref: `refs/heads/${branch}` }));
    const run = await runInProcess(["explain", "-r", routes, "-e", "push", "-p", file, "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.replaceAll("\n", "")).to.not.match(/\p{Cc}|\p{Cf}/u);
    const results = JSON.parse(run.stdout) as { reason: string }[];
    expect(results.some((r) => r.reason.includes(branch))).to.equal(true);
  });
});

describe("Function: wouldRun(route, event)", () => {
  const routeOf = (yaml: string): Route => {
    const parsed = parseRoutes(yaml, "routes.yaml");
    expect(parsed.problems).to.deep.equal([]);
    return parsed.config?.routes[0] as Route;
  };
  // A route check refuses (a prefix without {{pr.number}}), as deployed without check: what the action does.
  const uncheckedRouteOf = (yaml: string): Route =>
    compileRoutes(parse(yaml) as RoutesDoc).routes[0] as Route;
  const tagPush: WebhookEvent = {
    provider: "github",
    deliveryId: "d-1",
    event: "push",
    repo: { owner: "acme", name: "api", fullName: "acme/api" },
    ref: "refs/tags/v1.0.0",
    tag: "v1.0.0",
    sha: "0123456789abcdef0123456789abcdef01234567",
    deleted: false,
    changedFiles: [],
    payload: {},
  };

  const closedPr = {
    ...tagPush,
    event: "pull_request",
    action: "closed",
    ref: undefined,
    tag: undefined,
    pr: {
      number: 7,
      merged: true,
      state: "closed",
      headRef: "feature/x",
      baseRef: "main",
      headSha: tagPush.sha as string,
    },
  } as WebhookEvent;

  it("wouldRun says an s3-zip key with a folder the event leaves empty (a tag push's branch) fails, instead of showing it as a run", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: zips
    match: { repos: [acme/api], branches: [main], tags: ["v*"] }
    action: { type: s3-zip }
`);
    expect(wouldRun(route, tagPush)).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/branch//acme_api_branch_.zip (fails: a folder of the key renders empty, as {{branch}} does for a tag push)",
    );
    expect(wouldRun(route, { ...tagPush, ref: "refs/heads/main", tag: undefined, branch: "main" })).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/branch/main/acme_api_branch_main.zip",
    );
  });

  it("wouldRun says an s3-zip key over S3's 1,024 bytes (a long branch, twice in the default key) fails, instead of showing it as a run", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: zips
    match: { repos: [acme/api], branches: ["**"] }
    action: { type: s3-zip }
`);
    const branch = `feature/${"x".repeat(512)}`;
    const push = { ...tagPush, ref: `refs/heads/${branch}`, tag: undefined, branch };
    expect(wouldRun(route, push)).to.match(
      /^s3-zip to s3:\/\/<stack bucket>\/acme\/api\/branch\/feature\/x+\/acme_api_branch_feature_x+\.zip \(fails: the object key is 1,077 bytes, more than the 1,024 S3 allows/,
    );
  });

  it("wouldRun says an s3-zip key outside the route's prefixes (repos [acme/api], a push from Acme/API) fails, as the action refuses it before the download", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: zips
    match: { repos: [acme/api], branches: [main] }
    action: { type: s3-zip }
`);
    const push = { ...tagPush, ref: "refs/heads/main", tag: undefined, branch: "main" };
    const acme = { ...push, repo: { owner: "Acme", name: "API", fullName: "Acme/API" } };
    expect(wouldRun(route, acme)).to.equal(
      's3-zip to s3://<stack bucket>/Acme/API/branch/main/Acme_API_branch_main.zip (fails: key "Acme/API/branch/main/Acme_API_branch_main.zip" is outside the prefixes the route\'s role may write ("acme/api/branch/"): routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API])',
    );
    // The stack's bucket, named by its placeholder, is the route's: a key under its prefixes runs.
    expect(wouldRun(route, push)).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/branch/main/acme_api_branch_main.zip",
    );
  });

  it("wouldRun says a delete-s3-prefix step whose prefix is outside the route's prefixes fails, as the action refuses it", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: cleanup
    match: { repos: [acme/api], events: [pull_request] }
    action:
      type: pr-cleanup
      steps:
        - delete-s3-prefix: { bucket: previews, prefix: "{{repo.path}}/pr-{{pr.number}}/" }
`);
    const closed = {
      ...tagPush,
      event: "pull_request",
      action: "closed",
      ref: undefined,
      tag: undefined,
      pr: {
        number: 7,
        merged: true,
        state: "closed",
        headRef: "x",
        baseRef: "main",
        headSha: tagPush.sha as string,
      },
    } as WebhookEvent;
    expect(
      wouldRun(route, { ...closed, repo: { owner: "Acme", name: "API", fullName: "Acme/API" } }),
    ).to.equal(
      'pr-cleanup: delete s3://previews/Acme/API/pr-7/ (fails before any step: prefix "Acme/API/pr-7/" is outside the prefixes the route\'s role may list and delete under ("acme/api/pr-"): routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API])',
    );
    expect(wouldRun(route, closed)).to.equal("pr-cleanup: delete s3://previews/acme/api/pr-7/");
  });

  it("wouldRun says an s3-zip route skips a pull request into its branch: s3-zip zips pushed commits only", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: zips
    match: { repos: [acme/api], branches: [main] }
    action: { type: s3-zip }
`);
    const opened = {
      ...tagPush,
      event: "pull_request",
      action: "opened",
      ref: undefined,
      tag: undefined,
      branch: "main",
    } as WebhookEvent;
    expect(wouldRun(route, opened)).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/branch/main/acme_api_branch_main.zip (skipped: s3-zip zips pushed commits only, and this is a pull_request event)",
    );
    // The action skips before it checks the key's prefixes: a key outside them (the host's Acme/API) is not said
    // to fail for a delivery the action never gets that far with.
    const acme = { ...opened, repo: { owner: "Acme", name: "API", fullName: "Acme/API" } } as WebhookEvent;
    expect(wouldRun(route, acme)).to.equal(
      "s3-zip to s3://<stack bucket>/Acme/API/branch/main/Acme_API_branch_main.zip (skipped: s3-zip zips pushed commits only, and this is a pull_request event)",
    );
  });

  it("wouldRun says an s3-zip route skips a push that deleted its tag, as the action does, instead of showing an upload", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: release-zip
    match: { repos: ["acme/*"], events: [push], tags: ["v*"], deleted: true }
    action: { type: s3-zip, key: "{{repo.path}}/tags/{{tag}}.zip" }
`);
    const tagDeleted = { ...tagPush, sha: undefined, deleted: true } as WebhookEvent;
    expect(wouldRun(route, tagDeleted)).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/tags/v1.0.0.zip (skipped: the push deleted its ref)",
    );
    expect(wouldRun(route, tagPush)).to.equal("s3-zip to s3://<stack bucket>/acme/api/tags/v1.0.0.zip");
  });

  it("wouldRun says only that s3-zip skips a tag deletion, not that the key's empty {{branch}} folder fails: the action skips first", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: zips
    match: { repos: [acme/api], branches: [main], tags: ["v*"], deleted: true }
    action: { type: s3-zip }
`);
    const tagDeleted = { ...tagPush, sha: undefined, deleted: true } as WebhookEvent;
    expect(wouldRun(route, tagDeleted)).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/branch//acme_api_branch_.zip (skipped: the push deleted its ref)",
    );
  });

  it("wouldRun says an s3-zip route fails on a push whose sha is not a commit id, as the action does before the download", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: release-zip
    match: { repos: ["acme/*"], events: [push], tags: ["v*"] }
    action: { type: s3-zip, key: "{{repo.path}}/tags/{{tag}}.zip" }
`);
    expect(wouldRun(route, { ...tagPush, sha: "g".repeat(40) })).to.equal(
      "s3-zip to s3://<stack bucket>/acme/api/tags/v1.0.0.zip (fails: the event's sha is not a commit id)",
    );
  });

  it("wouldRun says the gateway refuses a work item over what a queue message holds ({{payload.commits}} of a big push), as it answers 500", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }
providers: { github: { token: t/gh } }
routes:
  - name: commits
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: ci/build, parameters: { COMMITS: "{{payload.commits}}" } }
`);
    const commits = (count: number) =>
      Array.from({ length: count }, (_, i) => ({
        id: i.toString(16).padStart(40, "a"),
        message: "m".repeat(700),
      }));
    const shown = wouldRun(route, { ...tagPush, payload: { commits: commits(1600) } });
    expect(shown).to.match(/^jenkins job ci\/build COMMITS=\[/);
    expect(shown).to.match(
      / \(refused: the work item is \d+ bytes, more than the 1040384 a work item may take \(SQS's 1 MiB, less room for its dead letter's reason\): the gateway answers the delivery 500 and queues nothing\)$/,
    );
    // A push of a few commits fits: shown as a run.
    expect(wouldRun(route, { ...tagPush, payload: { commits: commits(2) } })).to.match(
      /^jenkins job ci\/build COMMITS=\[\{"id":"a+0".*\}\]$/,
    );
  });

  it("wouldRun says a jenkins job whose path renders an empty segment ({{branch}} on a tag push) fails, as the action refuses it", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }
providers: { github: { token: t/gh } }
routes:
  - name: multibranch
    match: { repos: [acme/api], branches: ["**"], tags: ["v*"] }
    action: { type: jenkins, job: "{{repo.name}}/{{branch}}", parameters: { SHA: "{{sha}}" } }
`);
    expect(wouldRun(route, tagPush)).to.equal(
      `jenkins job api/ SHA=${tagPush.sha} (fails: the Jenkins job name has an invalid segment "")`,
    );
    const push = { ...tagPush, ref: "refs/heads/main", tag: undefined, branch: "main" };
    expect(wouldRun(route, push)).to.equal(`jenkins job api/main SHA=${tagPush.sha}`);
  });

  it("wouldRun says a jenkins job whose path holds a branch's lone surrogate fails, as the action refuses it", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }
providers: { github: { token: t/gh } }
routes:
  - name: multibranch
    match: { repos: [acme/api], branches: ["**"] }
    action: { type: jenkins, job: "{{repo.name}}/{{branch}}" }
`);
    const branch = "fix-\uD800";
    const push = { ...tagPush, ref: `refs/heads/${branch}`, tag: undefined, branch };
    expect(wouldRun(route, push)).to.match(
      /^jenkins job api\/fix-.* \(fails: the Jenkins job name has a segment holding half a character \(a lone surrogate\)/,
    );
  });

  it('wouldRun says pr-cleanup fails before any step, with the first problem, when a step has one: a prefix that renders "/" or a jenkins job with an empty segment', () => {
    const route = uncheckedRouteOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: cleanup
    match: { repos: [acme/api], events: [pull_request] }
    action:
      type: pr-cleanup
      jenkins: { url: "https://ci.example.com", credentials: ci/c }
      steps:
        - delete-branch: { onlyMerged: true }
        - delete-s3-prefix: { bucket: previews, prefix: "{{tag}}/" }
        - jenkins: { job: "previews/{{tag}}", parameters: { PR: "{{pr.number}}" } }
`);
    // The action checks every step before the first (prCleanup.ts) and fails on the first problem: the branch
    // listed before it is not deleted, so the failure is said after all the steps, not after the refused one.
    expect(wouldRun(route, closedPr)).to.equal(
      "pr-cleanup: delete-branch (if merged); delete s3://previews//; jenkins job previews/ PR=7 " +
        "(fails before any step: delete-s3-prefix needs a bucket and a non-empty prefix)",
    );
    const jenkinsOnly = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: cleanup
    match: { repos: [acme/api], events: [pull_request] }
    action:
      type: pr-cleanup
      jenkins: { url: "https://ci.example.com", credentials: ci/c }
      steps:
        - delete-branch: { onlyMerged: true }
        - jenkins: { job: "previews/{{tag}}", parameters: { PR: "{{pr.number}}" } }
`);
    expect(wouldRun(jenkinsOnly, closedPr)).to.equal(
      "pr-cleanup: delete-branch (if merged); jenkins job previews/ PR=7 " +
        '(fails before any step: the Jenkins job name has an invalid segment "")',
    );
  });

  it("wouldRun says pr-cleanup skips any event but a pull request's closing, as the action does, instead of listing its steps as runs", () => {
    const route = uncheckedRouteOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: cleanup
    match: { repos: [acme/api], events: [pull_request, push] }
    action:
      type: pr-cleanup
      steps:
        - delete-branch: { onlyMerged: false }
        - delete-s3-prefix: { bucket: previews, prefix: "{{tag}}/" }
`);
    const steps = "pr-cleanup: delete-branch; delete s3://previews//";
    expect(wouldRun(route, { ...closedPr, action: "reopened" })).to.equal(
      `${steps} (skipped: the pull request was reopened)`,
    );
    expect(wouldRun(route, tagPush)).to.equal(
      "pr-cleanup: delete-branch; delete s3://previews/v1.0.0/ (skipped: not a pull request event)",
    );
    // Closed, the step the action refuses is said instead.
    expect(wouldRun(route, closedPr)).to.equal(
      `${steps} (fails before any step: delete-s3-prefix needs a bucket and a non-empty prefix)`,
    );
  });

  it("wouldRun says pr-cleanup fails on a Gogs pull request, which names no head commit, as the action does before any step", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { gitea: { apiUrl: "https://gogs.example.com/api/v1", token: t/gogs } }
routes:
  - name: cleanup
    provider: gitea
    match: { repos: [acme/api], events: [pull_request], actions: [closed] }
    action:
      type: pr-cleanup
      steps:
        - delete-branch: { onlyMerged: true }
`);
    const pr = { ...(closedPr.pr as NonNullable<WebhookEvent["pr"]>), headSha: "" };
    expect(wouldRun(route, { ...closedPr, provider: "gitea", pr })).to.equal(
      "pr-cleanup: delete-branch (if merged) (fails before any step: the pull request event names no head commit (a Gogs pull request has none): " +
        "pr-cleanup needs it for its commit statuses and to delete only the commit the pull request was about)",
    );
    expect(wouldRun(route, { ...closedPr, provider: "gitea" })).to.equal(
      "pr-cleanup: delete-branch (if merged)",
    );
  });

  it("wouldRun shows a pr-cleanup jenkins step's parameters, as for a jenkins action", () => {
    const route = routeOf(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: t/gh } }
routes:
  - name: cleanup
    match: { repos: [acme/api], events: [pull_request] }
    action:
      type: pr-cleanup
      jenkins: { url: "https://ci.example.com", credentials: ci/c }
      steps:
        - jenkins: { job: previews/teardown, parameters: { PR: "{{pr.number}}" } }
`);
    const closed: WebhookEvent = {
      ...tagPush,
      event: "pull_request",
      action: "closed",
      ref: undefined,
      tag: undefined,
      pr: {
        number: 7,
        merged: true,
        state: "closed",
        headRef: "feature/x",
        baseRef: "main",
        headSha: tagPush.sha as string,
      },
    } as WebhookEvent;
    expect(wouldRun(route, closed)).to.equal("pr-cleanup: jenkins job previews/teardown PR=7");
  });
});

describe("README: the hookgate explain example", () => {
  it("is what explain prints for the shipped routes.yaml and examples/github-push.json, delivery id in full", async () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const command = "$ npx hookgate explain --payload push.json --event push\n";
    const start = readme.indexOf(command);
    expect(start).to.be.greaterThan(-1);
    const shown = readme.slice(start + command.length, readme.indexOf("```", start));
    const run = await runInProcess([
      "explain",
      "--routes",
      join(REPO_ROOT, "routes.yaml"),
      "--payload",
      join(REPO_ROOT, "examples", "github-push.json"),
      "--event",
      "push",
    ]);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.equal(shown);
  });
});
