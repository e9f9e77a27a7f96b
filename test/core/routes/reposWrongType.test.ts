// A match.repos of the wrong shape (left empty, a number, an empty item) is a problem at its place, reported with
// the file's others: the tag-push checks read its literals only once it is a list of globs.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const HEAD = `version: 1
defaults:
  secret: hookgate/gh
  jenkins: { url: "https://j.example.com", credentials: hookgate/j }
routes:
`;

describe("parseRoutes: a mistyped match.repos is reported at its position, with the file's other problems", () => {
  const cases: Array<[string, string, number, number]> = [
    // `repos:` left empty (the list still to be filled in)
    ["repos with no value", "      repos:\n", 8, 13],
    ["repos holding a number", "      repos: [1]\n", 8, 14],
    ["repos holding an empty item", "      repos:\n        - acme/api\n        -\n", 10, 9],
  ];
  for (const [title, reposLines, line, col] of cases) {
    it(`parseRoutes reports ${title} at ${line}:${col} and still reports the misspelled key of route b`, () => {
      const text = `${HEAD}  - name: a
    match:
${reposLines}      events: [push]
    action: { type: jenkins, job: build }
  - name: b
    match: { brnaches: [main] }
    action: { type: jenkins, job: build }
`;
      const { config, problems } = parseRoutes(text, "routes.yaml");
      expect(config).to.equal(undefined);
      const messages = problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
      // Before: ["1:1: internal error while reading: Cannot read properties of null (reading 'length')"]
      expect(messages.join("\n")).not.to.include("internal error");
      expect(messages.some((m) => m.startsWith(`${line}:`) && m.includes("match.repos"))).to.equal(
        true,
        messages.join("\n"),
      );
      expect(messages.some((m) => m.includes('unknown key "brnaches"'))).to.equal(true, messages.join("\n"));
    });
  }
});
