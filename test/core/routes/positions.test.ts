import { expect } from "chai";
import fc from "fast-check";
import { parseDocument } from "yaml";
import { aliasResolver } from "../../../src/core/routes/anchors";
import { parseRoutes } from "../../../src/core/routes/parse";
import { Locator, type PathSegment } from "../../../src/core/routes/positions";
import { runs } from "../../support/propertyRuns";

/** The offset a line and column name, counted independently: the lengths of the lines before it, each with its \n. */
function offsetOf(text: string, line: number, col: number): number {
  const bom = text.charCodeAt(0) === 0xfeff && line === 1 ? 1 : 0;
  const before = text.split("\n").slice(0, line - 1);
  return before.reduce((sum, l) => sum + l.length + 1, 0) + col - 1 + bom;
}

function locate(text: string, offset: number) {
  return new Locator(parseDocument(text, { logLevel: "silent" }), text).offset(offset);
}

describe("Class: Locator", () => {
  it("Locator.offset gives the line and column of any offset of any text, so that they name that offset again", () => {
    const char = fc.constantFrom(
      "a",
      " ",
      "\n",
      "\r",
      "\r\n",
      '"',
      "'",
      "{",
      "}",
      "[",
      "]",
      ":",
      "-",
      "#",
      "é",
      "\t",
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(char, { maxLength: 80 }).map((chars) => chars.join("")),
        fc.nat(),
        (bom, body, n) => {
          const text = (bom ? "\uFEFF" : "") + body;
          const first = bom ? 1 : 0;
          const offset = first + (n % (text.length - first + 1));
          const { line, col } = locate(text, offset);
          expect(offsetOf(text, line, col), `${JSON.stringify(text)} at ${offset}: ${line}:${col}`).to.equal(
            offset,
          );
        },
      ),
      { numRuns: runs(500) },
    );
  });

  describe("a syntax error after a multi-line token that is itself an error is on its own line", () => {
    // [text, the error's token, its line:col]
    const cases: Array<[string, string, string]> = [
      ['"""\n"}', '"}"', "2:2"],
      [
        'version: 1\nroutes:\n  - name: a\n    match: { repos: ["acme/api"] }\n    action: { type: jenkins, job: "api/build, parameters: { SHA: "{{sha}}" } }\n  - name: b\n    match: { repos: ["acme/*"] }\n',
        '"repos"',
        "7:14",
      ],
    ];
    for (const [text, token, position] of cases) {
      it(`${JSON.stringify(text).slice(0, 40)}…: the error at ${token} is at ${position}`, () => {
        const doc = parseDocument(text, { prettyErrors: false, logLevel: "silent" });
        const errors = doc.errors.filter((e) => e.message.endsWith(`: ${token}`));
        expect(errors.length, doc.errors.map((e) => e.message).join("\n")).to.be.above(0);
        const at = new Locator(doc, text).offset(errors[errors.length - 1]?.pos[0] ?? -1);
        expect(`${at.line}:${at.col}`).to.equal(position);
      });
    }
  });
});

describe("Class: Locator (a key written through an alias)", () => {
  // [what, text, path, the value's line:col]
  const cases: Array<[string, string, PathSegment[], string]> = [
    [
      "in a flow map",
      "x-k: [&k branches]\nmatch: { events: [push], *k : [1.10] }\n",
      ["match", "branches", 0],
      "2:32",
    ],
    ["in a block map", "x-k: [&k branches]\nmatch:\n  *k : [main]\n", ["match", "branches"], "3:8"],
    [
      "in a merged map",
      "x-k: [&k tags]\nx-m: &m { *k : [v1] }\nmatch: { <<: *m }\n",
      ["match", "tags"],
      "2:16",
    ],
  ];
  for (const [what, text, path, position] of cases) {
    for (const [how, resolver] of [
      ["yaml's", undefined],
      ["one walk's", aliasResolver],
    ] as const) {
      it(`${what}, with ${how} alias look-up, places the value at the value: ${position}`, () => {
        const doc = parseDocument(text, { merge: true, logLevel: "silent" });
        const at = new Locator(doc, text, resolver?.(doc)).value(path);
        expect(`${at.line}:${at.col}`).to.equal(position);
      });
    }
  }

  it("a wrong value under *k : (&k branches) is said at the value, with the quotes that make it text", () => {
    const text = [
      "version: 1",
      'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
      "x-k: [&k branches]",
      "routes:",
      "  - name: a",
      "    match: { events: [push], *k : [1.10] }",
      "    action: { type: jenkins, job: j }",
      "",
    ].join("\n");
    const problems = parseRoutes(text, "routes.yaml").problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    expect(problems).to.deep.equal([
      '6:36: route "a" match.branches[0]: must be text, not a number; to mean the text, quote it: "1.10"',
    ]);
  });
});
