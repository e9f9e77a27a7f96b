import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import {
  generatedSecretSharingProblems,
  routeSecretNames,
  routeSecretUses,
  withSecretNamePrefix,
} from "../../src/core/routeSecrets";
import { parseRoutes } from "../../src/core/routes/parse";
import type { Route } from "../../src/core/types";

function routesOf(text: string): Route[] {
  const { config, problems } = parseRoutes(text, "routes.yaml");
  expect(problems, JSON.stringify(problems)).to.deep.equal([]);
  return config?.routes ?? [];
}

// The shipped table reads every kind of secret name but a CA bundle; the second one adds those (Jenkins'
// and the Git host's), and a route with no webhook secret.
const SHIPPED = routesOf(readFileSync(join(__dirname, "../../routes.yaml"), "utf8"));
const WITH_CA_BUNDLES = routesOf(`version: 1
providers: { github: { token: ci/github-token, caBundle: ci/git-ca } }
jenkins: { url: "https://ci.example.com", credentials: ci/jenkins, caBundle: ci/private-ca }
routes:
  - name: build
    secret: ci/webhook
    match: { events: [push] }
    action: { type: jenkins, job: build }
  - name: cleanup
    secret: ci/webhook
    match: { events: [pull_request] }
    action: { type: pr-cleanup, steps: [{ jenkins: { job: teardown } }] }
  - name: allowlisted
    provider: bitbucket
    auth: { allowIps: [104.192.136.0/21] }
    match: { events: [push] }
    action: { type: jenkins, job: legacy }
  - name: zip
    secret: ci/webhook
    match: { events: [push] }
    action: { type: s3-zip, bucket: zips, token: ci/zip-token }
`);
const ROUTES = [...SHIPPED, ...WITH_CA_BUNDLES];

/** The [before, after] pairs of string values that differ between two objects of the same shape. */
function changedStrings(a: unknown, b: unknown): [string, string][] {
  if (typeof a === "string" || typeof b === "string") return a === b ? [] : [[String(a), String(b)]];
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null) {
    expect(b).to.equal(a);
    return [];
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  expect(Object.keys(bRecord).sort()).to.deep.equal(Object.keys(aRecord).sort());
  return Object.keys(aRecord).flatMap((k) => changedStrings(aRecord[k], bRecord[k]));
}

describe("Function: routeSecretNames", () => {
  const named = (name: string) => {
    const route = WITH_CA_BUNDLES.find((r) => r.name === name);
    if (!route) throw new Error(`no route ${name}`);
    return route;
  };

  it("routeSecretNames(route) of an s3-zip route names its Git host's caBundle next to its token", () => {
    expect(routeSecretNames(named("zip"))).to.deep.equal(["ci/git-ca", "ci/webhook", "ci/zip-token"]);
  });

  it("routeSecretNames(route) of a pr-cleanup route names the Git host's caBundle and Jenkins' own", () => {
    expect(routeSecretNames(named("cleanup"))).to.deep.equal([
      "ci/git-ca",
      "ci/github-token",
      "ci/jenkins",
      "ci/private-ca",
      "ci/webhook",
    ]);
  });

  it("routeSecretUses(route) says what each secret a route reads must hold, in the order the route names them", () => {
    expect(routeSecretUses(named("cleanup"))).to.deep.equal([
      { name: "ci/webhook", holds: "webhook secret" },
      { name: "ci/jenkins", holds: 'Jenkins {"user","token"}' },
      { name: "ci/private-ca", holds: "Jenkins CA (PEM)" },
      { name: "ci/github-token", holds: "github API token" },
      { name: "ci/git-ca", holds: "github CA (PEM)" },
    ]);
  });

  it("routeSecretNames(route) of a jenkins route leaves the Git host's caBundle out (it never calls the host)", () => {
    expect(routeSecretNames(named("build"))).not.to.include("ci/git-ca");
  });
});

describe("Function: withSecretNamePrefix", () => {
  it("covers routes that read every kind of secret name (webhook, Jenkins, CA bundle, Git host token) and one that reads none", () => {
    const names = ROUTES.flatMap(routeSecretNames);
    for (const name of [
      "hookgate/github-webhook",
      "hookgate/jenkins",
      "hookgate/github-token",
      "ci/private-ca",
      "ci/git-ca",
    ]) {
      expect(names).to.include(name);
    }
    expect(ROUTES.some((r) => r.secret === undefined)).to.equal(true);
  });

  for (const route of ROUTES) {
    it(`puts the prefix in front of every secret name route ${route.name} reads, and of nothing else`, () => {
      const prefixed = withSecretNamePrefix(route, "dev/");
      expect(routeSecretNames(prefixed)).to.deep.equal(routeSecretNames(route).map((n) => `dev/${n}`));
      const secretNames = routeSecretNames(route);
      for (const [before, after] of changedStrings(route, prefixed)) {
        expect(secretNames, `${before} is not a secret name`).to.include(before);
        expect(after).to.equal(`dev/${before}`);
      }
    });
  }

  it("prefixes a pr-cleanup route without Jenkins steps, which has no Jenkins target to prefix", () => {
    const [tidy] = routesOf(`version: 1
providers: { github: { token: ci/github-token } }
routes:
  - name: tidy
    secret: ci/webhook
    match: { events: [pull_request] }
    action: { type: pr-cleanup, steps: [{ delete-branch: { onlyMerged: true } }] }
`);
    const route = tidy as Route;
    expect(route.action.type === "pr-cleanup" && route.action.jenkins).to.equal(undefined);
    expect(routeSecretNames(withSecretNamePrefix(route, "dev/"))).to.deep.equal([
      "dev/ci/github-token",
      "dev/ci/webhook",
    ]);
  });

  it("keeps a route without a webhook secret (IP allowlist only) without one", () => {
    const allowlisted = ROUTES.filter((r) => r.secret === undefined);
    for (const route of allowlisted)
      expect(withSecretNamePrefix(route, "dev/")).not.to.have.property("secret");
  });

  it("returns the route itself for an empty prefix, and never changes the route it is given", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ROUTES),
        fc.stringMatching(/^[A-Za-z0-9/_+=.@-]{0,64}$/),
        (route, prefix) => {
          const before = JSON.stringify(route);
          const prefixed = withSecretNamePrefix(route, prefix);
          expect(JSON.stringify(route)).to.equal(before);
          if (prefix === "") expect(prefixed).to.equal(route);
          else expect(routeSecretNames(prefixed).every((n) => n.startsWith(prefix))).to.equal(true);
        },
      ),
    );
  });
});

describe("Function: generatedSecretSharingProblems", () => {
  // defaults.secret gives every route, the GitLab one too, the secret the stack generates for GitHub's.
  const SHARED = routesOf(`version: 1
defaults: { secret: hooks/shared, jenkins: { url: "https://ci.example.com", credentials: ci/jenkins } }
routes:
  - name: gh-build
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: build }
  - name: gh-deploy
    match: { repos: [acme/web], events: [push] }
    action: { type: jenkins, job: deploy }
  - name: gl-build
    provider: gitlab
    match: { events: [push] }
    action: { type: jenkins, job: gl }
`);

  it("names the generated secret, the GitHub routes it is generated for and the other route that reads it, and says to give that route a secret of its own", () => {
    const problems = generatedSecretSharingProblems(SHARED);
    expect(problems).to.have.length(1);
    const [problem] = problems;
    expect(problem).to.include(
      'secret "hooks/shared" is generated by the stack for the GitHub webhooks of routes gh-build, gh-deploy',
    );
    expect(problem).to.include("read by gl-build (as its webhook secret)");
    expect(problem).to.include("give gl-build a secret of its own");
    expect(problem).to.include("--secret-id hooks/shared)");
  });

  it("does not quote a shared secret name that looks like a generated value, in the problem nor in its command", () => {
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const routes = routesOf(`version: 1
defaults: { secret: "${pasted}", jenkins: { url: "https://ci.example.com", credentials: ci/jenkins } }
routes:
  - name: gh-build
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: build }
  - name: gl-build
    provider: gitlab
    match: { events: [push] }
    action: { type: jenkins, job: gl }
`);
    const [problem] = generatedSecretSharingProblems(routes, "dev/");
    expect(problem).to.include(
      "secret (a name that looks like a secret value) is generated by the stack for the GitHub webhooks of route gh-build",
    );
    expect(problem).to.include("--secret-id <its name>)");
    expect(problem).not.to.contain(pasted);
  });

  it("puts the stack's secretNamePrefix in the command that reads the value, and names the secret as routes.yaml does", () => {
    const [problem] = generatedSecretSharingProblems(SHARED, "dev/");
    expect(problem).to.include('secret "hooks/shared"');
    expect(problem).to.include("--secret-id dev/hooks/shared)");
  });

  it("refuses any other read of a generated secret: a route's Jenkins credentials or API token named like it", () => {
    const routes = routesOf(`version: 1
jenkins: { url: "https://ci.example.com", credentials: hooks/gh }
routes:
  - name: gh-build
    secret: hooks/gh
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: build }
  - name: zip
    secret: hooks/other
    match: { repos: [acme/api], events: [push] }
    action: { type: s3-zip, bucket: zips, token: hooks/gh }
`);
    const problems = generatedSecretSharingProblems(routes);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include(
      'read by gh-build (as its Jenkins {"user","token"}), zip (as its github API token): give gh-build, zip',
    );
  });

  it("finds nothing when each non-GitHub route has a secret of its own, or only GitHub routes share one", () => {
    expect(generatedSecretSharingProblems(SHIPPED)).to.deep.equal([]);
    expect(generatedSecretSharingProblems(WITH_CA_BUNDLES)).to.deep.equal([]);
    const own = SHARED.map((r) => (r.provider === "gitlab" ? { ...r, secret: "hooks/gitlab" } : r));
    expect(generatedSecretSharingProblems(own)).to.deep.equal([]);
  });
});
