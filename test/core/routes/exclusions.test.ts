import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

function problemsOf(match: string[], before: string[] = []): string[] {
  const text = [
    "version: 1",
    'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
    ...before,
    "routes:",
    "  - name: a",
    "    match:",
    ...match.map((line) => `      ${line}`),
    "    action: { type: jenkins, job: build }",
    "",
  ].join("\n");
  return parseRoutes(text, "routes.yaml").problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

const QUOTE = (glob: string) =>
  `YAML: an exclusion starting with ! must be quoted: "${glob}" (YAML reads an unquoted ! as a tag)`;

describe("Function: parseRoutes (an unquoted ! exclusion in a glob list)", () => {
  // [what, match lines, problems]
  const cases: Array<[string, string[], string[]]> = [
    [
      "in a flow list of branches, says to quote it, not to remove the !",
      ["events: [push]", "branches: [main, !release/old-*]"],
      [`7:24: ${QUOTE("!release/old-*")}`],
    ],
    [
      "in a block list of actors, says to quote it",
      ["events: [push]", "actors:", "  - !dependabot"],
      [`8:11: ${QUOTE("!dependabot")}`],
    ],
    [
      "in paths, with a space inside the brackets, says to quote it",
      ["events: [push]", "paths: [ !docs/** ]"],
      [`7:16: ${QUOTE("!docs/**")}`],
    ],
    [
      'with the ! outside its quotes (!"release/old-*", YAML\'s tag ! on text), says to quote it, not deployed',
      ["events: [push]", 'branches: [main, !"release/old-*"]'],
      [`7:24: ${QUOTE("!release/old-*")}`],
    ],
    [
      "alone in the list, with the ! outside its quotes, says to quote it",
      ["events: [push]", 'branches: [!"release/*"]'],
      [`7:18: ${QUOTE("!release/*")}`],
    ],
    [
      "with a space after the ! (YAML's tag ! on text), says to quote it, not deployed",
      ["events: [push]", "branches: [main, ! release/old-*]"],
      [`7:24: ${QUOTE("!release/old-*")}`],
    ],
    [
      "in a block list, with a space after the !, says to quote it",
      ["events: [push]", "actors:", "  - ! dependabot"],
      [`8:11: ${QUOTE("!dependabot")}`],
    ],
    [
      "a core tag (!!str) in a glob list is the text it tags and accepted",
      ["events: [push]", "branches: [!!str main]"],
      [],
    ],
    ["quoted, it is an exclusion and accepted", ["events: [push]", 'branches: ["*", "!release/old-*"]'], []],
    [
      "a tag on a value outside glob lists keeps the word on tags",
      ["events: !mine [push]"],
      [
        "6:15: YAML: the tag !mine is not read in routes.yaml: write a plain map, list or text, without a tag",
      ],
    ],
  ];
  for (const [what, match, expected] of cases) {
    it(what, () => {
      expect(problemsOf(match)).to.deep.equal(expected);
    });
  }
});

describe("Function: parseRoutes (an unquoted ! exclusion in a list used as a glob list by alias)", () => {
  // [what, lines before routes:, match lines, problems]
  const cases: Array<[string, string[], string[], string[]]> = [
    [
      "a list of exclusions under an x- anchor, used as actors, says to quote each, never to drop the tag",
      ["x-bots: &bots [!dependabot, !renovate]"],
      ["events: [push]", "actors: *bots"],
      [`3:16: ${QUOTE("!dependabot")}`, `3:29: ${QUOTE("!renovate")}`],
    ],
    [
      "one under the tag ! used by alias is refused, not deployed as an inclusion",
      ['x-old: &old [main, !"release/old-*"]'],
      ["events: [push]", "branches: *old"],
      [`3:20: ${QUOTE("!release/old-*")}`],
    ],
    [
      "one in a list reached through 10 nested << merges is refused, as yaml merges at any depth",
      [],
      [
        `<<: ${Array.from({ length: 10 }).reduce<string>((inner) => `{ <<: ${inner} }`, "{ branches: [main, ! release/old-*] }")}`,
        "events: [push]",
      ],
      [`6:90: ${QUOTE("!release/old-*")}`],
    ],
    [
      "an item used by alias inside a glob list is refused too",
      ["x-old: &old ! release/old-*"],
      ["events: [push]", "branches: [main, *old]"],
      [`3:13: ${QUOTE("!release/old-*")}`],
    ],
  ];
  for (const [what, before, match, expected] of cases) {
    it(what, () => {
      expect(problemsOf(match, before)).to.deep.equal(expected);
    });
  }
});

describe("Function: parseRoutes (the ! check looks at the glob lists routes match with, and only there)", () => {
  // [what, lines before routes:, match lines, problems]
  const cases: Array<[string, string[], string[], string[]]> = [
    [
      "a free-form x- section holding a key named tags with ! items is accepted: no route matches with it",
      ["x-release-notes: { tags: [! v1, ! v2] }"],
      ["events: [push]"],
      [],
    ],
    [
      "a list named branches inside another list of an x- section is accepted",
      ['x-notes: [{ branches: [main, !"release/*"] }]'],
      ["events: [push]"],
      [],
    ],
    [
      "a glob list whose key is written through an alias (*k with &k branches) is checked",
      ["x-k: [&k branches]"],
      ["events: [push]", "*k : [main, ! release/old-*]"],
      [`8:19: ${QUOTE("!release/old-*")}`],
    ],
    [
      "a glob list a match merges (<<: *m) is checked, where it is written",
      ["x-m: &m { branches: [main, ! release/old-*] }"],
      ["events: [push]", "<<: *m"],
      [`3:28: ${QUOTE("!release/old-*")}`],
    ],
  ];
  for (const [what, before, match, expected] of cases) {
    it(what, () => {
      expect(problemsOf(match, before)).to.deep.equal(expected);
    });
  }
});

function deployed(item: string): { problems: string[]; branches: unknown } {
  const text = [
    "version: 1",
    'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
    "routes:",
    "  - name: a",
    "    match:",
    "      events: [push]",
    `      branches: [main, ${item}]`,
    "    action: { type: jenkins, job: build }",
    "",
  ].join("\n");
  const { config, problems } = parseRoutes(text, "routes.yaml");
  return {
    problems: problems.map((p) => `${p.line}:${p.col}: ${p.message}`),
    branches: config?.routes[0]?.match.branches,
  };
}

describe("Function: parseRoutes (a quoted exclusion under YAML's tag !)", () => {
  // YAML 1.2 §10.1.2: the non-specific tag ! on a scalar is a string, so every reader reads the quoted text.
  for (const [what, item] of [
    ["with a space after the !", '! "!release/*"'],
    ["right before the quotes", '!"!release/*"'],
    ["in single quotes", "! '!release/*'"],
  ] as const) {
    it(`${item} (${what}) is the text in the quotes: accepted and deployed as the exclusion !release/*`, () => {
      expect(deployed(item)).to.deep.equal({ problems: [], branches: ["main", "!release/*"] });
    });
  }

  it('an inclusion under the tag ! (! "release/*") still says to quote it with its !', () => {
    expect(deployed('! "release/*"').problems).to.deep.equal([`7:24: ${QUOTE("!release/*")}`]);
  });
});
