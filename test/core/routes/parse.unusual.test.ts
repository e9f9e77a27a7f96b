import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const VALID = [
  "version: 1",
  'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
  "routes:",
  "  - name: api-build",
  "    match: { repos: [acme/api], events: [push] }",
  "    action: { type: jenkins, job: api/build }",
  "",
];

function problemsOf(text: string): string[] {
  const { config, problems } = parseRoutes(text, "routes.yaml");
  if (problems.length === 0) expect(config).not.to.equal(undefined);
  return problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

describe("Function: parseRoutes (line endings)", () => {
  const CR_ONLY =
    "1:1: the line endings are CR only (classic Mac): save the file with LF (or CRLF) line endings";
  // [what, text, problems]
  const cases: Array<[string, string, string[]]> = [
    ["a valid file with CR line endings", VALID.join("\r"), [CR_ONLY]],
    ["a file of one line ending in a CR", "version: 1\r", [CR_ONLY]],
    ["a valid file with CRLF line endings", VALID.join("\r\n"), []],
    ["a valid file with LF line endings", VALID.join("\n"), []],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes gives ${expected.length === 0 ? "no problem" : "one problem at 1:1"} for ${what}`, () => {
      expect(problemsOf(text)).to.deep.equal(expected);
    });
  }
});
