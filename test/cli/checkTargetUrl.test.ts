// The routes table of `hookgate check` and serve's banner print a Jenkins URL as its origin: its path may hold a
// token (a trigger or hook URL pasted whole).
import { expect } from "chai";
import { routesTable } from "../../src/cli/check";
import { banner } from "../../src/cli/serve";
import { NOT_SHOWN, shownBaseUrl } from "../../src/core/routes/checks";
import { parseRoutes } from "../../src/core/routes/parse";
import type { Route } from "../../src/core/types";

const JENKINS_TOKEN = "11a2b3c4d5e6f708192a3b4c5d6e7f8091";
const GH_TOKEN = "ghp_SECRETMARKER123abcdefghij0123456789X";

function routesWith(url: string): Route[] {
  const parsed = parseRoutes(
    [
      "version: 1",
      "defaults:",
      "  secret: hookgate/webhook",
      `  jenkins: { url: "${url}", credentials: hookgate/jenkins }`,
      "routes:",
      "  - name: api-build",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: { type: jenkins, job: api/build }",
      "",
    ].join("\n"),
    "routes.yaml",
  );
  expect(parsed.problems).to.deep.equal([]);
  return parsed.config?.routes ?? [];
}

function bannerFor(routes: Route[]): string {
  return banner(
    {
      url: "http://127.0.0.1:8787",
      routes,
      secretsFile: ".hookgate/secrets.json",
      generatedSecrets: [],
      missingSecrets: [],
      resumed: 0,
    },
    { routes: "routes.yaml", stateDir: ".hookgate", maxAttempts: 5, retryDelayMs: 30_000 },
  );
}

describe("the routes table and serve's banner show a Jenkins URL without its path", () => {
  // [what, jenkins.url, what the table and the banner show, the text never shown]
  const cases: Array<[string, string, string, string]> = [
    [
      "a token in the path",
      `https://jenkins.example.com/hooks/${JENKINS_TOKEN}`,
      "https://jenkins.example.com/…",
      JENKINS_TOKEN,
    ],
    ["a context path", "https://ci.example.com:8443/jenkins", "https://ci.example.com:8443/…", "/jenkins"],
    ["no path", "http://127.0.0.1:8080", "http://127.0.0.1:8080", "8080/"],
    ["a lone slash", "http://127.0.0.1:8080/", "http://127.0.0.1:8080", "8080/"],
  ];
  for (const [what, url, shown, hidden] of cases) {
    it(`shows ${what} as ${shown}`, () => {
      const routes = routesWith(url);
      const table = routesTable(routes);
      expect(table).to.include(`  ${shown} job api/build\n`);
      const lines = bannerFor(routes);
      expect(lines).to.include(`jenkins api/build on ${shown}\n`);
      for (const out of [table, lines]) {
        expect(out.toLowerCase()).to.not.include(hidden.toLowerCase());
      }
    });
  }
});

describe("shownBaseUrl", () => {
  it("shows a host the URL parser takes with a comma and a token (check refuses it) without the token", () => {
    expect(shownBaseUrl(`https://jenkins.example.com,${GH_TOKEN}/x`)).to.equal(
      `https://jenkins.example.com,${NOT_SHOWN}/…`,
    );
  });
});
