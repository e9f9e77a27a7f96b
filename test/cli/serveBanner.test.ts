import { expect } from "chai";
import { banner } from "../../src/cli/serve";
import { parseRoutes } from "../../src/core/routes";
import type { Route } from "../../src/core/types";

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

function bannerFor(routes: Route[], missingSecrets: string[]): string {
  return banner(
    {
      url: "http://127.0.0.1:8787",
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
