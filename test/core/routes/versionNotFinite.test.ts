// YAML reads 1e400 (past a double), .inf and .nan as numbers JSON has no text for: JSON.stringify writes null, so
// the version's problem said "not null" of a version that was written.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const file = (version: string) =>
  [
    `version: ${version}`,
    "routes:",
    "  - name: a",
    "    secret: hookgate/gh",
    "    match: { events: [push] }",
    "    action: { type: jenkins, job: x, jenkins: { url: https://ci.example.com, credentials: hookgate/j } }",
    "",
  ].join("\n");

describe("routes.yaml: a version YAML reads as infinity or NaN", () => {
  const cases: Array<[string, string]> = [
    ["1e400", "Infinity"],
    [".inf", "Infinity"],
    ["-.inf", "-Infinity"],
    [".nan", "NaN"],
  ];
  for (const [written, read] of cases) {
    it(`says version ${written} is ${read}, not null`, () => {
      const messages = parseRoutes(file(written), "routes.yaml").problems.map((p) => p.message);
      expect(messages).to.deep.equal([`version must be 1, not ${read} (this hookgate reads version 1)`]);
    });
  }
});
