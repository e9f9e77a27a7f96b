import { expect } from "chai";
import { compileGlobList, globProblem } from "../../src/core/globs";

describe("Function: compileGlobList", () => {
  const cases: Array<[string[], string, boolean]> = [
    [["main", "release/*", "!release/old-*"], "main", true],
    [["main", "release/*", "!release/old-*"], "release/2.0", true],
    [["main", "release/*", "!release/old-*"], "release/old-1", false],
    [["main", "release/*", "!release/old-*"], "feature/x", false],
    [["!dependabot/**"], "feature/x", true],
    [["!dependabot/**"], "dependabot/npm/lodash", false],
    [["acme/*"], "acme/api", true],
    [["acme/*"], "acme/api/extra", false],
    [["docs/**"], "docs/a/b.md", true],
    [["*.md"], ".github.md", true],
    [["./main"], "./main", true],
    [["services/billing/**"], "services/billing/api.ts", true],
    [["services/billing/**"], "services/billing-v2/api.ts", false],
    [["services/billing/**"], "src/services/billing/api.ts", false],
  ];
  for (const [patterns, value, expected] of cases) {
    it(`compileGlobList(${JSON.stringify(patterns)})("${value}") is ${expected}`, () => {
      expect(compileGlobList(patterns)(value)).to.equal(expected);
    });
  }
});

describe("Function: globProblem", () => {
  for (const bad of ["", "!", "!!main", "release/[abc", "feat/{a,b", "a\u0000b"]) {
    it(`globProblem(${JSON.stringify(bad)}) reports a problem`, () => {
      expect(globProblem(bad)).to.be.a("string");
    });
  }
  for (const good of ["main", "release/*", "!release/old-*", "**/*.ts", "v[0-9]*", "{a,b}/c"]) {
    it(`globProblem(${JSON.stringify(good)}) accepts it`, () => {
      expect(globProblem(good)).to.equal(undefined);
    });
  }
});
