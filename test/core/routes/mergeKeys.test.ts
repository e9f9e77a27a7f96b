import { expect } from "chai";
import { parseDocument } from "yaml";
import { parseRoutes } from "../../../src/core/routes/parse";

const HEAD = [
  "version: 1",
  'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: hookgate/jenkins } }',
];

function problemsOf(lines: string[]): string[] {
  return parseRoutes([...HEAD, ...lines, ""].join("\n"), "routes.yaml").problems.map(
    (p) => `${p.line}:${p.col}: ${p.message}`,
  );
}

describe("Function: parseRoutes (a merge written !!str << whose source is no map)", () => {
  const lines = [
    "routes:",
    "  - name: a",
    "    match: { events: [push], !!str <<: 5 }",
    "    action: { type: jenkins, job: build }",
    "  - name: b",
    "    match: { events: [push], bogus: 1 }",
    "    action: { type: jenkins, job: build }",
  ];

  it("is reported like <<: 5, with the file's other problems and no position-less yaml message at 1:1", () => {
    const plain = problemsOf(lines.map((l) => l.replace("!!str <<", "<<")));
    // Same file with a plain <<: the merge problem at its source, and route b's unknown key.
    expect(plain).to.deep.equal([
      "5:34: YAML: a merge (<<) takes a map, an alias of a map, or a list of those; this is a single value",
      '8:30: route "b" match: unknown key "bogus" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
    ]);
    // yaml merges !!str << exactly as it merges << (merge.js isMergeKey): the same problems are expected.
    expect(problemsOf(lines)).to.deep.equal([
      "5:40: YAML: a merge (<<) takes a map, an alias of a map, or a list of those; this is a single value",
      '8:30: route "b" match: unknown key "bogus" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
    ]);
  });
});

describe("Function: parseRoutes (a key written through an alias of a plain <<: x-k: &k <<, then *k : ...)", () => {
  it("is a key named << to yaml (an alias key is never a merge)", () => {
    const text = "x-k: &k <<\nm: { *k : 1 }\n";
    expect(parseDocument(text, { merge: true }).toJS()).to.deep.equal({ "x-k": "<<", m: { "<<": 1 } });
  });

  it("its unknown-key problem points at the key (7:30), not at the map", () => {
    expect(
      problemsOf([
        "x-k: &k <<",
        "x-a: &a { events: [push], branches: [main] }",
        "routes:",
        "  - name: a",
        "    match: { events: [push], *k : *a }",
        "    action: { type: jenkins, job: build }",
      ]),
    ).to.deep.equal([
      '7:30: route "a" match: unknown key "<<" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
    ]);
  });

  it('beside a quoted "<<" in the same map is a duplicate key (yaml keeps the last silently)', () => {
    const problems = problemsOf([
      "x-k: &k <<",
      "routes:",
      "  - name: a",
      "    match: { events: [push] }",
      '    action: { type: jenkins, job: build, parameters: { "<<": a, *k : b } }',
    ]);
    expect(problems).to.include("7:65: YAML: duplicate key; a key may appear once in a map");
  });
});

describe("Function: parseRoutes (a route name repeated through a merge or alias)", () => {
  const head = [
    "version: 1",
    "defaults:",
    "  secret: hookgate/gh",
    '  jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
    "routes:",
    "  - &r",
    "    name: a",
    "    match: { events: [push] }",
    "    action: { type: jenkins, job: build }",
  ];
  const repeats: Array<[string, string[]]> = [
    ["- <<: *r with its own match", ["  - <<: *r", "    match: { events: [pull_request] }"]],
    ["- *r", ["  - *r"]],
  ];
  for (const [how, lines] of repeats) {
    it(`reports the duplicate name brought in by ${how} at the repeating route (10:5), not at the anchor's name`, () => {
      const problems = parseRoutes([...head, ...lines, ""].join("\n"), "routes.yaml").problems;
      expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([
        '10:5: duplicate route name "a"; route names must be unique (they are URL paths) (first used at line 7; brought in here by a merge or alias of it)',
      ]);
    });
  }

  it("reports a duplicate name written again at its own name, as before", () => {
    const lines = [
      "  - name: a",
      "    match: { events: [pull_request] }",
      "    action: { type: jenkins, job: build }",
    ];
    const problems = parseRoutes([...head, ...lines, ""].join("\n"), "routes.yaml").problems;
    expect(problems.map((p) => `${p.line}:${p.col}`)).to.deep.equal(["10:11"]);
    expect(problems[0]?.message).to.match(/\(first used at line 7\)$/);
  });
});
