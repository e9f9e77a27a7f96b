import { expect } from "chai";
import fc from "fast-check";
import { stringify } from "yaml";
import { parseRoutes } from "../../../src/core/routes/parse";
import { runs } from "../../support/propertyRuns";

function assertWellFormed(text: string): void {
  const result = parseRoutes(text, "routes.yaml");
  expect(result.config !== undefined || result.problems.length > 0).to.equal(true);
  if (result.config) expect(result.problems).to.deep.equal([]);
  for (const problem of result.problems) {
    expect(problem.line).to.be.at.least(1);
    expect(problem.col).to.be.at.least(1);
    expect(problem.message).to.be.a("string").and.not.equal("");
    expect(problem.file).to.equal("routes.yaml");
  }
}

const VALID = `version: 1
defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }
providers: { github: { token: tokens/gh } }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [push], branches: [main] }
    action: { type: jenkins, job: "api/{{repo}}", parameters: { SHA: "{{sha}}" } }
  - name: zip
    match: { repos: ["acme/*"] }
    action: { type: s3-zip }
`;

describe("Property: parseRoutes", () => {
  it("parseRoutes never throws on arbitrary text and positions every problem at line >= 1, col >= 1", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => assertWellFormed(text)),
      { numRuns: runs(200) },
    );
  });

  it("parseRoutes never throws on arbitrary YAML values serialised as a document", () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.double(),
    );
    const keys = fc.constantFrom(
      "version",
      "routes",
      "name",
      "match",
      "action",
      "type",
      "job",
      "secret",
      "auth",
      "x",
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        scalar,
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(keys, tie("node"), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (data) => assertWellFormed(stringify(data))),
      { numRuns: runs(300) },
    );
  });

  it("parseRoutes never throws when a valid file is cut or has characters replaced anywhere", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: VALID.length }),
        fc.nat({ max: VALID.length }),
        fc.constantFrom("", "\t", ":", "{", "]", "'", "-", "*", "&a", "!!binary ", "\u0000", "€"),
        (cut, at, insert) => {
          assertWellFormed(VALID.slice(0, cut));
          assertWellFormed(VALID.slice(0, at) + insert + VALID.slice(at + 1));
        },
      ),
      { numRuns: runs(120) },
    );
  });
});
