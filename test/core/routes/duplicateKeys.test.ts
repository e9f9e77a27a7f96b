import { expect } from "chai";
import YAML from "yaml";
import { aliasResolver } from "../../../src/core/routes/anchors";
import { duplicateKeyFindings } from "../../../src/core/routes/keys";
import { parseRoutes } from "../../../src/core/routes/parse";

const HEAD = [
  "version: 1",
  'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
];

function problemsOf(lines: string[]): string[] {
  const { config, problems } = parseRoutes([...HEAD, ...lines, ""].join("\n"), "routes.yaml");
  if (problems.length === 0) expect(config).not.to.equal(undefined);
  return problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

const DUPLICATE = "YAML: duplicate key; a key may appear once in a map";
const MERGE_TWICE = (key: string, list: string) =>
  `YAML: duplicate key <<; a key may appear once in a map, a merge too (two here set ${key}): write one << with a list, <<: [${list}] (the earlier in the list wins: put first the map whose values should win)`;

describe("Function: parseRoutes (keys yaml's own duplicate check misses)", () => {
  // [what, lines after HEAD, problems]
  const cases: Array<[string, string[], string[]]> = [
    [
      "two << in one map are refused at the second, with one << of a list in the order written as the way",
      [
        "x-deploy: &deploy { type: jenkins, job: api/deploy, parameters: { ENV: staging } }",
        "x-prod: &prod { parameters: { ENV: production } }",
        "routes:",
        "  - name: deploy-prod",
        "    match: { events: [push] }",
        "    action:",
        "      <<: *deploy",
        "      <<: *prod",
      ],
      [`10:7: ${MERGE_TWICE("parameters", "*deploy, *prod")}`],
    ],
    [
      "two << in a flow map that set one key are refused too, naming the key",
      [
        "x-a: &a { events: [push], branches: [main] }",
        "x-b: &b { branches: [dev] }",
        "routes:",
        "  - name: a",
        "    match: { <<: *a, <<: *b }",
        "    action: { type: jenkins, job: build }",
      ],
      [`7:22: ${MERGE_TWICE("branches", "*a, *b")}`],
    ],
    [
      "a second << written !!str << is a merge to yaml (other readers take it for a key): refused as two <<",
      [
        "x-a: &a { events: [push], branches: [main] }",
        "x-b: &b { branches: [dev] }",
        "routes:",
        "  - name: a",
        "    match: { <<: *a, !!str <<: *b }",
        "    action: { type: jenkins, job: build }",
      ],
      [`7:28: ${MERGE_TWICE("branches", "*a, *b")}`],
    ],
    [
      "two << that share no key are accepted: every YAML reader reads them alike",
      [
        "x-repos: &repos { repos: [acme/api] }",
        "x-push: &push { events: [push] }",
        "routes:",
        "  - name: a",
        "    match: { <<: *repos, <<: *push, branches: [main] }",
        "    action: { type: jenkins, job: build }",
      ],
      [],
    ],
    [
      "two << whose maps share a key through a merge inside one of them are refused, naming it",
      [
        "x-a: &a { events: [push] }",
        "x-c: &c { <<: *a, repos: [acme/api] }",
        "x-b: &b { events: [pull_request] }",
        "routes:",
        "  - name: a",
        "    match:",
        "      <<: *c",
        "      <<: *b",
        "    action: { type: jenkins, job: build }",
      ],
      [`10:7: ${MERGE_TWICE("events", "*c, *b")}`],
    ],
    [
      "three << are refused at the one that repeats a key of an earlier one",
      [
        "x-a: &a { events: [push] }",
        "x-b: &b { repos: [acme/api] }",
        "x-c: &c { repos: [acme/web] }",
        "routes:",
        "  - name: a",
        "    match: { <<: *a, <<: *b, <<: *c }",
        "    action: { type: jenkins, job: build }",
      ],
      [`8:30: ${MERGE_TWICE("repos", "*a, *b, *c")}`],
    ],
    [
      "two << that both bring a key the map sets itself are accepted: its own value wins in every reader",
      [
        "x-a: &a { type: jenkins, job: a, parameters: { E: a } }",
        "x-b: &b { parameters: { E: b } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b, parameters: { E: own } }",
      ],
      [],
    ],
    [
      "two << that bring one key with one value (type: jenkins in both) are accepted",
      [
        "x-build: &build { type: jenkins, job: api/build }",
        "x-prod: &prod { type: jenkins, parameters: { ENV: prod } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *build, <<: *prod }",
      ],
      [],
    ],
    [
      "two << that bring one map written in another key order are accepted",
      [
        "x-a: &a { type: jenkins, job: a, parameters: { A: x, B: '1' } }",
        "x-b: &b { parameters: { B: '1', A: x } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b }",
      ],
      [],
    ],
    [
      "two << that bring one number written two ways (1.10 and 1.1, sent as written) are refused",
      [
        "x-a: &a { type: jenkins, job: a, parameters: { V: 1.10 } }",
        "x-b: &b { parameters: { V: 1.1 } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b }",
      ],
      [`8:23: ${MERGE_TWICE("parameters", "*a, *b")}`],
    ],
    [
      "two << are refused naming the key they set differently, not one the map sets itself or they agree on",
      [
        "x-a: &a { type: jenkins, job: a, parameters: { E: a } }",
        "x-b: &b { type: jenkins, job: b, parameters: { E: b } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b, parameters: { E: own } }",
      ],
      [`8:23: ${MERGE_TWICE("job", "*a, *b")}`],
    ],
    [
      "a merge written in place is shown as {...} in the advice, never as a name an anchor of the file may have",
      [
        "x-a: &a { type: jenkins, job: other }",
        "x-b: &b { type: jenkins, job: b }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: { job: mine, type: jenkins }, <<: *b }",
      ],
      [`8:49: ${MERGE_TWICE("job", "{...}, *b")}`],
    ],
    [
      "more than four merges are not listed: the advice says to list them in the order written",
      [
        "x-a: &a { events: [push] }",
        "x-b: &b { repos: [acme/api] }",
        "x-c: &c { branches: [main] }",
        "x-d: &d { tags: [v1] }",
        "x-e: &e { repos: [acme/web] }",
        "routes:",
        "  - name: a",
        "    match: { <<: *a, <<: *b, <<: *c, <<: *d, <<: *e }",
        "    action: { type: jenkins, job: build }",
      ],
      [
        "10:46: YAML: duplicate key <<; a key may appear once in a map, a merge too (two here set repos): write one << with a list, <<: [...] of these 5 maps in the order written (the earlier in the list wins: put first the map whose values should win)",
      ],
    ],
    [
      "a key repeated through an alias of itself is refused at the alias",
      [
        "routes:",
        "  - name: a",
        "    match: { &k events: [push], *k : [pull_request] }",
        "    action: { type: jenkins, job: build }",
      ],
      [`5:33: ${DUPLICATE}`],
    ],
    [
      'true and "true" in one map are one key once converted: refused at the second',
      [
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        '    action: { type: jenkins, job: build, parameters: { true: x, "true": y } }',
      ],
      [`6:65: ${DUPLICATE}`],
    ],
    [
      "a key yaml finds twice is said once",
      [
        "routes:",
        "  - name: a",
        "    match: { events: [push], events: [push] }",
        "    action: { type: jenkins, job: build }",
      ],
      [`5:30: ${DUPLICATE}`],
    ],
    [
      "one << of a list is accepted (the earlier map wins: production)",
      [
        "x-deploy: &deploy { type: jenkins, job: api/deploy, parameters: { ENV: staging } }",
        "x-prod: &prod { parameters: { ENV: production } }",
        "routes:",
        "  - name: deploy-prod",
        "    match: { events: [push] }",
        "    action: { <<: [*prod, *deploy] }",
      ],
      [],
    ],
    [
      "one << with keys of the map's own, and an alias used as a value, are accepted",
      [
        "x-a: &a { events: [push] }",
        "routes:",
        "  - name: a",
        "    match: { <<: *a, branches: &b [main] }",
        "    action: { type: jenkins, job: build }",
        "  - name: b",
        "    match: { events: [push], branches: *b }",
        "    action: { type: jenkins, job: build }",
      ],
      [],
    ],
    [
      "two << bringing job: !!str build and job: build are accepted: the core tag changes no value",
      [
        "x-a: &a { type: jenkins, job: !!str build }",
        "x-b: &b { type: jenkins, job: build, parameters: { MODE: fast } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b }",
      ],
      [],
    ],
    [
      "two << bringing job: !!str 1 and job: 1 are refused: the tag makes text of a number",
      [
        "x-a: &a { type: jenkins, job: !!str 1 }",
        "x-b: &b { type: jenkins, job: 1 }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b }",
      ],
      [`8:23: ${MERGE_TWICE("job", "*a, *b")}`],
    ],
    [
      "two << bringing equal parameters maps that each merge one base map are accepted",
      [
        "x-base: &base { MODE: fast }",
        'x-a: &a { type: jenkins, job: build, parameters: { <<: *base, V: "1" } }',
        'x-b: &b { type: jenkins, job: build, parameters: { V: "1", <<: *base } }',
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b }",
      ],
      [],
    ],
    [
      "two << bringing parameters maps whose merges bring different values are refused",
      [
        "x-fast: &fast { MODE: fast }",
        "x-slow: &slow { MODE: slow }",
        'x-a: &a { type: jenkins, job: build, parameters: { <<: *fast, V: "1" } }',
        'x-b: &b { type: jenkins, job: build, parameters: { <<: *slow, V: "1" } }',
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: *a, <<: *b }",
      ],
      [`10:23: ${MERGE_TWICE("parameters", "*a, *b")}`],
    ],
  ];
  for (const [what, lines, expected] of cases) {
    it(what, () => {
      expect(problemsOf(lines)).to.deep.equal(expected);
    });
  }

  it("two << sharing no key deploy both maps' keys", () => {
    const text = [
      ...HEAD,
      "x-repos: &repos { repos: [acme/api] }",
      "x-push: &push { events: [push] }",
      "routes:",
      "  - name: a",
      "    match: { <<: *repos, <<: *push }",
      "    action: { type: jenkins, job: build }",
      "",
    ].join("\n");
    expect(parseRoutes(text, "routes.yaml").config?.routes[0]?.match).to.deep.include({
      repos: ["acme/api"],
      events: ["push"],
    });
  });

  it("one << of a list keeps the earlier map's value for a key both set", () => {
    const text = [
      ...HEAD,
      "x-deploy: &deploy { type: jenkins, job: api/deploy, parameters: { ENV: staging } }",
      "x-prod: &prod { parameters: { ENV: production } }",
      "routes:",
      "  - name: deploy-prod",
      "    match: { events: [push] }",
      "    action: { <<: [*prod, *deploy] }",
      "",
    ].join("\n");
    const action = parseRoutes(text, "routes.yaml").config?.routes[0]?.action;
    expect(action).to.deep.include({ job: "api/deploy", parameters: { ENV: "production" } });
  });
});

describe("Function: parseRoutes (the one << the duplicate-<< message gives)", () => {
  // [what, the action's two merges, the anchored maps]
  const cases: Array<[string, string, string[]]> = [
    [
      "keeps the first merge's values, as yaml read the two << (staging)",
      "{ <<: *staging, <<: *prod }",
      [
        "x-staging: &staging { type: jenkins, job: staging/deploy, parameters: { ENV: staging } }",
        "x-prod: &prod { job: prod/deploy, parameters: { ENV: prod } }",
      ],
    ],
    [
      "keeps the first merge's values written the other way round too (prod)",
      "{ <<: *prod, <<: *staging }",
      [
        "x-staging: &staging { job: staging/deploy, parameters: { ENV: staging } }",
        "x-prod: &prod { type: jenkins, job: prod/deploy, parameters: { ENV: prod } }",
      ],
    ],
  ];
  for (const [what, merges, anchors] of cases) {
    it(what, () => {
      const text = [
        ...HEAD,
        ...anchors,
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        `    action: ${merges}`,
        "",
      ].join("\n");
      // What hookgate deployed before two << were refused: yaml's reading of the file.
      const before = YAML.parse(text, { merge: true }).routes[0].action;
      const message = parseRoutes(text, "routes.yaml").problems[0]?.message ?? "";
      const advice = /<<: \[[^\]]+\]/.exec(message)?.[0];
      expect(advice, message).to.be.a("string");
      const rewritten = parseRoutes(text.replace(merges, `{ ${advice} }`), "routes.yaml");
      expect(rewritten.problems).to.deep.equal([]);
      expect(rewritten.config?.routes[0]?.action).to.deep.include({
        job: before.job,
        parameters: before.parameters,
      });
    });
  }
});

describe("Function: parseRoutes (positions after a duplicate key)", () => {
  // [what, lines after HEAD, problems]
  const cases: Array<[string, string[], string[]]> = [
    [
      "a problem in the kept (last) copy of a duplicate key is placed in that copy",
      [
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { type: jenkins, job: build }",
        "routes:",
        "  - name: b",
        "    match: { events: [push] }",
        "    action: { type: jenkins, job: 7 }",
      ],
      [
        `7:1: ${DUPLICATE}`,
        '10:35: route "b" action.job: must be text, not a whole number; to mean the text, quote it: "7"',
      ],
    ],
    [
      "among merge sources the first to set a key is the one placed (the one yaml merges)",
      [
        "x-a: &a { type: jenkins, job: 7 }",
        "x-b: &b { type: jenkins, job: 8 }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        "    action: { <<: [*a, *b] }",
      ],
      ['3:31: route "a" action.job: must be text, not a whole number; to mean the text, quote it: "7"'],
    ],
  ];
  for (const [what, lines, expected] of cases) {
    it(what, () => {
      expect(problemsOf(lines)).to.deep.equal(expected);
    });
  }
});

describe("Function: parseRoutes (duplicate << and parameter-name messages stay short)", () => {
  it("long anchor names and a long number as a parameter name keep each message at most 300 characters", () => {
    const long = "a".repeat(200);
    const { problems } = parseRoutes(
      [
        ...HEAD,
        `x-1: &${long}1 { type: jenkins, job: x }`,
        `x-2: &${long}2 { job: y, parameters: { ${"9".repeat(400)}: a } }`,
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        `    action: { <<: *${long}1, <<: *${long}2 }`,
        "",
      ].join("\n"),
      "routes.yaml",
    );
    expect(problems.map((p) => p.message.slice(0, 20))).to.deep.equal([
      "parameter name 99999",
      "YAML: duplicate key ",
    ]);
    for (const problem of problems) expect(problem.message.length, problem.message).to.be.at.most(300);
  });
});

describe("Function: duplicateKeyFindings (two << bringing equal large maps)", () => {
  /** `uses` maps each with <<: *A, <<: *B, where A and B set v to two equal maps of `keys` keys. */
  function file(keys: number, uses: number): string {
    const body = Array.from({ length: keys }, (_, i) => `k${i}: 0`).join(", ");
    return [
      `x-p: &P { ${body} }`,
      `x-q: &Q { ${body} }`,
      "x-a: &A { v: *P }",
      "x-b: &B { v: *Q }",
      "x-uses:",
      ...Array.from({ length: uses }, () => "  - { <<: *A, <<: *B }"),
      "",
    ].join("\n");
  }

  function lookUps(text: string): { findings: number; calls: number } {
    const doc = YAML.parseDocument(text, { merge: true, uniqueKeys: true, logLevel: "silent" });
    const resolve = aliasResolver(doc);
    let calls = 0;
    const counting = (node: unknown) => {
      calls++;
      return resolve(node);
    };
    return { findings: duplicateKeyFindings(doc, counting, new Set()).length, calls };
  }

  it("finds them alike with alias look-ups linear in the file: each key found by name, each pair compared once", () => {
    const text = file(400, 20);
    const { findings, calls } = lookUps(text);
    expect(findings).to.equal(0);
    // Scanning the other map for every key is 400 x 400 look-ups per use; comparing again per use, x 20.
    expect(calls, `alias look-ups for ${text.length} characters`).to.be.below(20 * text.length);
  });

  it("takes maps too large to compare within the budget as different, so the two << are refused", () => {
    // 3,000 keys: 3,000 values compared, but 12,000 keys built and looked up, past the budget of 10,000.
    expect(lookUps(file(3_000, 1)).findings).to.equal(1);
  });
});
