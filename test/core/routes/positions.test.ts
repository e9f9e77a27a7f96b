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

describe("Class: Locator (a value reached through << merges)", () => {
  /** Maps x-a1..x-aN, each merging the one before ten times: the data is small, the paths to x-a0 are 10^N. */
  function fan(depth: number): string {
    const lines = ["x-a0: &a0 { events: [push] }"];
    for (let i = 1; i <= depth; i++)
      lines.push(
        `x-a${i}: &a${i} { <<: [${Array(10)
          .fill(`*a${i - 1}`)
          .join(", ")}] }`,
      );
    lines.push(`match: { <<: *a${depth} }`);
    return `${lines.join("\n")}\n`;
  }

  it("looking up a key no merged map has searches each map once, not once per path to it", () => {
    const text = fan(5);
    const doc = parseDocument(text, { merge: true, logLevel: "silent" });
    const resolve = aliasResolver(doc);
    let calls = 0;
    const locator = new Locator(doc, text, (node) => {
      calls++;
      return resolve(node);
    });
    expect(locator.node(["match", "branches"])).to.equal(undefined);
    expect(locator.node(["match", "events", 0])?.toJSON()).to.equal("push");
    // 5 maps of 10 sources and 1 key each: a few hundred look-ups; following every path is over 100,000.
    expect(calls).to.be.below(1_000);
  });

  // [what, text]: each finds match.job where yaml's merge takes it from.
  const cases: Array<[string, string]> = [
    ["the map's own key over a merge written before it", "x-a: &a { job: a }\nmatch: { <<: *a, job: own }\n"],
    [
      "a source's nested merge before a later source",
      "x-i: &i { job: inner }\nx-a: &a { <<: *i }\nx-b: &b { job: b }\nmatch: { <<: [*a, *b] }\n",
    ],
    [
      "a map merged twice, searched once, the later source after it",
      "x-s: &s { other: 1 }\nx-a: &a { <<: *s }\nx-b: &b { <<: *s, job: b }\nmatch: { <<: [*a, *s, *b] }\n",
    ],
    [
      "a source's own key over its nested merges",
      "x-i: &i { job: inner }\nx-a: &a { <<: *i, job: a }\nmatch: { <<: [*a] }\n",
    ],
    [
      "a key 12 merges deep",
      `match: ${Array.from({ length: 12 }).reduce<string>((inner) => `{ <<: ${inner} }`, "{ job: deep }")}\n`,
    ],
  ];
  for (const [what, text] of cases) {
    it(`finds the value yaml merges: ${what}`, () => {
      const doc = parseDocument(text, { merge: true, logLevel: "silent" });
      const expected = (doc.toJS() as { match: { job: string } }).match.job;
      expect(new Locator(doc, text, aliasResolver(doc)).node(["match", "job"])?.toJSON()).to.equal(expected);
    });
  }
});

describe("Class: Locator (an empty or null key)", () => {
  for (const key of ["", "~", "null"]) {
    it(`an unknown key "${key}:" is reported at its own line, not at the map's first key`, () => {
      const text = [
        "version: 1",
        'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
        "routes:",
        "  - name: a",
        "    match:",
        "      events: [push]",
        "      repos: [acme/api]",
        `      ${key}: [main]`,
        "    action: { type: jenkins, job: j }",
        "",
      ].join("\n");
      const problems = parseRoutes(text, "routes.yaml").problems;
      expect(problems.map((p) => p.message)).to.have.length(1);
      expect(problems[0]?.message).to.include('unknown key ""');
      expect(problems[0]?.line).to.equal(8);
    });
  }
});
