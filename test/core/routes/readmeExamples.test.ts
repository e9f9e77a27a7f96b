import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";
import YAML from "yaml";
import { parseRoutes } from "../../../src/core/routes/parse";

// The README's routes.yaml examples are what users copy. Most are excerpts: each is read inside a file
// that supplies what an excerpt leaves out (version, a Jenkins controller, tokens, a webhook secret).
const README = readFileSync(resolve(__dirname, "..", "..", "..", "README.md"), "utf8");
const EXAMPLES = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);

const CONTEXT: Record<string, unknown> = {
  version: 1,
  jenkins: { url: "https://jenkins.example.com", credentials: "hookgate/jenkins" },
  providers: {
    github: { token: "hookgate/github-token" },
    gitlab: { token: "hookgate/gitlab-token" },
    bitbucket: { token: "hookgate/bitbucket-token" },
    gitea: { token: "hookgate/gitea-token", apiUrl: "https://gitea.example.com/api/v1" },
  },
  defaults: { secret: "hookgate/github-webhook" },
};
const ANY_ROUTE = {
  name: "any",
  match: { repos: ["acme/api"], events: ["push"] },
  action: { type: "jenkins", job: "x" },
};

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The example as written, in a file that supplies each top-level key it leaves out (a list of routes is the
 * file's routes). Its own text reaches parseRoutes untouched: merges, aliases, tags and key spellings are
 * checked as a user who copies it writes them (YAML.parse and stringify would resolve them away).
 */
function asFile(text: string, excerpt: Record<string, unknown>, list: boolean): string {
  const rest = Object.fromEntries(Object.entries(CONTEXT).filter(([key]) => !(key in excerpt)));
  if (!("routes" in excerpt)) rest.routes = [ANY_ROUTE];
  const supplied = Object.keys(rest).length > 0 ? YAML.stringify(rest) : "";
  return `${supplied}${list ? "routes:\n" : ""}${text}`;
}

describe("README: routes.yaml examples", () => {
  it("the README has routes.yaml examples to check", () => {
    expect(EXAMPLES.length).to.be.at.least(8);
  });

  EXAMPLES.forEach((text, i) => {
    const parsed: unknown = YAML.parse(text, { merge: true });
    const excerpt = Array.isArray(parsed) ? { routes: parsed } : parsed;
    // A piece of one route (`auth: {...}`) or a comment alone has nothing to check on its own.
    if (!isMap(excerpt) || !["routes", "providers", "jenkins", "defaults"].some((k) => k in excerpt)) return;
    const firstLine = text.split("\n").find((line) => line.trim() && !line.trim().startsWith("#")) ?? "";
    it(`example ${i + 1} (${firstLine.trim().slice(0, 40)}) is a valid routes.yaml as written`, () => {
      const result = parseRoutes(asFile(text, excerpt, Array.isArray(parsed)), `README example ${i + 1}`);
      expect(result.problems.map((p) => p.message)).to.deep.equal([]);
    });
  });
});

describe("README examples test: its reading of an example", () => {
  // What the examples test must not resolve away before parseRoutes sees it.
  const cases: Array<[string, string]> = [
    [
      "two << that set one key",
      "x-a: &a { events: [push] }\nx-b: &b { events: [pull_request] }\nroutes:\n  - name: a\n    match: { <<: *a, <<: *b }\n    action: { type: jenkins, job: x }\n",
    ],
    [
      "a parameter name YAML reads as a boolean",
      'routes:\n  - name: a\n    match: { events: [push] }\n    action: { type: jenkins, job: x, parameters: { TRUE: "{{sha}}" } }\n',
    ],
    [
      "an exclusion under the tag !",
      'routes:\n  - name: a\n    match: { events: [push], branches: [!"release/*"] }\n    action: { type: jenkins, job: x }\n',
    ],
    [
      "a list of routes with a key written twice",
      "  - name: a\n    name: b\n    match: { events: [push] }\n    action: { type: jenkins, job: x }\n",
    ],
  ];
  for (const [what, text] of cases) {
    it(`refuses an example with ${what}`, () => {
      const parsed: unknown = YAML.parse(text, { merge: true, uniqueKeys: false });
      const excerpt = Array.isArray(parsed) ? { routes: parsed } : (parsed as Record<string, unknown>);
      expect(parseRoutes(asFile(text, excerpt, Array.isArray(parsed)), "example").problems).to.have.length(1);
    });
  }
});
