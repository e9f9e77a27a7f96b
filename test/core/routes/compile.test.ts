import { expect } from "chai";
import { renderRequest } from "../../../src/core/render";
import { compileRoutes } from "../../../src/core/routes/compile";
import { DEFAULT_API_URLS, DEFAULT_S3_KEY } from "../../../src/core/routes/defaults";
import type { RoutesDoc } from "../../../src/core/routes/document";
import { parseRoutes } from "../../../src/core/routes/parse";
import type { Route, WebhookEvent } from "../../../src/core/types";

/** Parses a routes file that must be valid, and returns its compiled routes by name. */
function compile(text: string): Record<string, Route> {
  const { config, problems } = parseRoutes(text, "routes.yaml");
  expect(problems, JSON.stringify(problems)).to.deep.equal([]);
  return Object.fromEntries((config?.routes ?? []).map((route) => [route.name, route]));
}

const JENKINS = `{ url: "https://ci.example.com/", credentials: ci/default }`;

describe("Function: compileRoutes (through parseRoutes)", () => {
  it("keeps match.deleted so a route can opt in to deleted-branch pushes", () => {
    const routes = compile(`version: 1
jenkins: ${JENKINS}
routes:
  - name: cleanup-on-delete
    secret: hooks/default
    match: { events: [push], deleted: true }
    action: { type: jenkins, job: cleanup }
`);
    expect(routes["cleanup-on-delete"]?.match).to.deep.equal({ events: ["push"], deleted: true });
  });

  it("merges defaults into a route and lets the route's own values win", () => {
    const routes = compile(`version: 1
defaults:
  provider: gitlab
  secret: hooks/default
  auth: { allowSha1: true, toleranceSeconds: 60, allowIps: [192.0.2.0/24] }
jenkins: ${JENKINS}
routes:
  - name: inherits
    match: { events: [push] }
    action: { type: jenkins, job: a }
  - name: overrides
    provider: github
    secret: hooks/own
    auth: { toleranceSeconds: 120, allowIps: [] }
    match: { events: [push] }
    action: { type: jenkins, job: b }
`);
    expect(routes.inherits).to.deep.include({
      provider: "gitlab",
      secret: "hooks/default",
      auth: { allowIps: ["192.0.2.0/24"], allowSha1: true, toleranceSeconds: 60 },
    });
    expect(routes.overrides).to.deep.include({
      provider: "github",
      secret: "hooks/own",
      auth: { allowIps: [], allowSha1: true, toleranceSeconds: 120 },
    });
  });

  it("applies the built-in defaults: provider github, no allowlist, no SHA-1, 300 s tolerance", () => {
    const routes = compile(`version: 1
jenkins: ${JENKINS}
routes:
  - name: bare
    secret: hooks/s
    match: {}
    action: { type: jenkins, job: a }
`);
    expect(routes.bare?.provider).to.equal("github");
    expect(routes.bare?.auth).to.deep.equal({ allowIps: [], allowSha1: false, toleranceSeconds: 300 });
    expect(routes.bare?.match).to.deep.equal({});
  });

  it("resolves provider APIs: the public default URL, a configured URL, and the action's token over the provider's", () => {
    const routes = compile(`version: 1
defaults: { secret: hooks/s }
providers:
  github: { token: tokens/github }
  gitlab: { apiUrl: "https://gitlab.example.com/api/v4/", token: tokens/gitlab }
  gitea: { apiUrl: "https://git.example.com/api/v1", token: tokens/gitea }
routes:
  - name: gh
    match: {}
    action: { type: s3-zip }
  - name: gh-own-token
    match: {}
    action: { type: s3-zip, token: tokens/other }
  - name: gl
    provider: gitlab
    match: {}
    action: { type: s3-zip }
  - name: gt
    provider: gitea
    match: {}
    action: { type: s3-zip }
  - name: bb
    provider: bitbucket
    match: {}
    action: { type: s3-zip, token: tokens/bitbucket }
`);
    const api = (name: string) => (routes[name]?.action as { api?: unknown } | undefined)?.api;
    expect(api("gh")).to.deep.equal({
      provider: "github",
      apiUrl: "https://api.github.com",
      token: "tokens/github",
    });
    expect(api("gh-own-token")).to.deep.include({ token: "tokens/other" });
    expect(api("gl")).to.deep.equal({
      provider: "gitlab",
      apiUrl: "https://gitlab.example.com/api/v4",
      token: "tokens/gitlab",
    });
    expect(api("gt")).to.deep.equal({
      provider: "gitea",
      apiUrl: "https://git.example.com/api/v1",
      token: "tokens/gitea",
    });
    expect(api("bb")).to.deep.equal({
      provider: "bitbucket",
      apiUrl: DEFAULT_API_URLS.bitbucket,
      token: "tokens/bitbucket",
    });
  });

  it("gives an s3-zip action the quickstart-git2s3 key by default and keeps an explicit bucket and key", () => {
    const routes = compile(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: tokens/github } }
routes:
  - name: default-key
    match: {}
    action: { type: s3-zip }
  - name: own-key
    match: {}
    action: { type: s3-zip, bucket: my-artifacts, key: "src/{{repo}}/{{sha}}.zip" }
`);
    expect(DEFAULT_S3_KEY).to.equal(
      "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip",
    );
    expect(routes["default-key"]?.action).to.deep.include({ key: DEFAULT_S3_KEY });
    expect(routes["default-key"]?.action).not.to.have.property("bucket");
    expect(routes["own-key"]?.action).to.deep.include({
      bucket: "my-artifacts",
      key: "src/{{repo}}/{{sha}}.zip",
    });
  });

  it("takes the Jenkins target from the action, else defaults.jenkins, else the top-level jenkins, each whole", () => {
    const routes = compile(`version: 1
jenkins: { url: "https://top.example.com", credentials: ci/top, crumb: true }
defaults:
  secret: hooks/s
  jenkins: { url: "https://defaults.example.com", credentials: ci/defaults, caBundle: ci/ca }
routes:
  - name: from-defaults
    match: {}
    action: { type: jenkins, job: a }
  - name: own
    match: {}
    action: { type: jenkins, job: b, jenkins: { url: "https://own.example.com:8443/", credentials: ci/own } }
`);
    expect((routes["from-defaults"]?.action as { jenkins?: unknown } | undefined)?.jenkins).to.deep.equal({
      url: "https://defaults.example.com",
      credentials: "ci/defaults",
      caBundle: "ci/ca",
      crumb: false,
    });
    // The action's own block is taken whole: no caBundle or credentials leak in from defaults.
    expect((routes.own?.action as { jenkins?: unknown } | undefined)?.jenkins).to.deep.equal({
      url: "https://own.example.com:8443",
      credentials: "ci/own",
      crumb: false,
    });
    const onlyTop = compile(`version: 1
jenkins: { url: "https://top.example.com", credentials: ci/top, crumb: true }
routes:
  - name: top
    secret: hooks/s
    match: {}
    action: { type: jenkins, job: a }
`);
    expect((onlyTop.top?.action as { jenkins?: unknown } | undefined)?.jenkins).to.deep.equal({
      url: "https://top.example.com",
      credentials: "ci/top",
      crumb: true,
    });
  });

  it("turns pr-cleanup steps into kinds, defaults onlyMerged to true and stringifies parameters", () => {
    const routes = compile(`version: 1
defaults: { secret: hooks/s, jenkins: ${JENKINS} }
providers: { github: { token: tokens/github } }
routes:
  - name: cleanup
    match: { repos: [acme/api], events: [pull_request], actions: [closed] }
    action:
      type: pr-cleanup
      targetUrl: "https://logs.example.com/{{deliveryId}}"
      steps:
        - delete-branch:
        - delete-branch: { onlyMerged: false }
        - delete-s3-prefix: { bucket: previews, prefix: "{{repo}}/pr-{{pr.number}}/" }
        - jenkins: { job: previews/teardown, parameters: { PR: "{{pr.number}}", KEEP: false, DAYS: 3 } }
`);
    const action = routes.cleanup?.action;
    expect(action).to.deep.include({
      type: "pr-cleanup",
      targetUrl: "https://logs.example.com/{{deliveryId}}",
      steps: [
        { kind: "delete-branch", onlyMerged: true },
        { kind: "delete-branch", onlyMerged: false },
        { kind: "delete-s3-prefix", bucket: "previews", prefix: "{{repo}}/pr-{{pr.number}}/" },
        {
          kind: "jenkins",
          job: "previews/teardown",
          parameters: { PR: "{{pr.number}}", KEEP: "false", DAYS: "3" },
        },
      ],
    });
    expect(action).to.have.nested.property("jenkins.url", "https://ci.example.com");
  });

  it("drops the line breaks a targetUrl ends with (a YAML block scalar, targetUrl: > or |+, or a quoted \\r\\n), so the rendered link has none", () => {
    const routes = compile(`version: 1
defaults: { secret: hooks/s }
providers: { github: { token: tokens/github } }
routes:
  - name: folded
    match: { events: [pull_request], actions: [closed] }
    action:
      type: pr-cleanup
      targetUrl: >
        https://logs.example.com/hookgate/{{deliveryId}}
      steps: [{ delete-branch: {} }]
  - name: kept
    match: { events: [pull_request], actions: [closed] }
    action:
      type: pr-cleanup
      targetUrl: |+
        https://logs.example.com/hookgate/{{deliveryId}}

      steps: [{ delete-branch: {} }]
  - name: quoted
    match: { events: [pull_request], actions: [closed] }
    action:
      type: pr-cleanup
      targetUrl: "https://logs.example.com/hookgate/{{deliveryId}}\\r\\n"
      steps: [{ delete-branch: {} }]
`);
    const event = { provider: "github", deliveryId: "d-1", event: "pull_request" } as unknown as WebhookEvent;
    for (const name of ["folded", "kept", "quoted"]) {
      const route = routes[name] as Route;
      expect(route.action, name).to.have.property(
        "targetUrl",
        "https://logs.example.com/hookgate/{{deliveryId}}",
      );
      expect(renderRequest(route, event), name).to.have.property(
        "targetUrl",
        "https://logs.example.com/hookgate/d-1",
      );
    }
  });

  it("leaves the Jenkins target off a pr-cleanup action that has no jenkins step", () => {
    const routes = compile(`version: 1
defaults: { secret: hooks/s, jenkins: ${JENKINS} }
providers: { github: { token: tokens/github } }
routes:
  - name: cleanup
    match: {}
    action: { type: pr-cleanup, steps: [{ delete-branch: {} }] }
`);
    expect(routes.cleanup?.action).not.to.have.property("jenkins");
  });
});

describe("Function: compileRoutes (what the mutation audit found unpinned)", () => {
  it("compiles each action's type, match.merged, an action's own token without a providers block, and trims every trailing slash", () => {
    const routes = compile(`version: 1
jenkins: { url: "https://ci.example.com//", credentials: ci/default }
routes:
  - name: build
    secret: hooks/default
    match: { events: [pull_request], merged: true }
    action: { type: jenkins, job: build }
  - name: zip
    secret: hooks/default
    match: { events: [push] }
    action: { type: s3-zip, bucket: zips, token: ci/zip-token }
`);
    expect(routes.build?.match).to.deep.equal({ events: ["pull_request"], merged: true });
    expect(routes.build?.action.type).to.equal("jenkins");
    expect(routes.build?.action.type === "jenkins" && routes.build.action.jenkins.url).to.equal(
      "https://ci.example.com",
    );
    expect(routes.zip?.action).to.deep.equal({
      type: "s3-zip",
      api: { provider: "github", apiUrl: DEFAULT_API_URLS.github, token: "ci/zip-token" },
      key: DEFAULT_S3_KEY,
      bucket: "zips",
    });
  });

  it("sets no secret or targetUrl key for a route or action that has none", () => {
    const routes = compile(`version: 1
providers: { github: { token: ci/github-token } }
routes:
  - name: tidy
    auth: { allowIps: [192.0.2.0/24] }
    match: { events: [pull_request] }
    action: { type: pr-cleanup, steps: [{ delete-branch: { onlyMerged: true } }] }
`);
    expect(routes.tidy).to.not.have.property("secret");
    expect(routes.tidy?.action).to.not.have.property("targetUrl");
  });

  it("throws for a document that skipped validation: a jenkins action without a target, an action without a token", () => {
    const doc = (action: unknown) =>
      ({ version: 1, routes: [{ name: "r", match: {}, action }] }) as unknown as RoutesDoc;
    expect(() => compileRoutes(doc({ type: "jenkins", job: "x" }))).to.throw(
      'route "r" has no Jenkins target',
    );
    expect(() => compileRoutes(doc({ type: "s3-zip", bucket: "b" }))).to.throw(
      'route "r" has no API URL or token for github',
    );
  });
});
