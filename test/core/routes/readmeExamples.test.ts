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

/** `excerpt` over `context`: maps merged key by key, anything else (lists, scalars) taken from the excerpt. */
function within(context: Record<string, unknown>, excerpt: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...context };
  for (const [key, value] of Object.entries(excerpt)) {
    const under = out[key];
    out[key] = isMap(under) && isMap(value) ? within(under, value) : value;
  }
  return out;
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
    it(`example ${i + 1} (${firstLine.trim().slice(0, 40)}) is a valid routes.yaml`, () => {
      const file = within(CONTEXT, excerpt);
      if (!("routes" in excerpt)) file.routes = [ANY_ROUTE];
      const result = parseRoutes(YAML.stringify(file), `README example ${i + 1}`);
      expect(result.problems.map((p) => p.message)).to.deep.equal([]);
    });
  });
});
