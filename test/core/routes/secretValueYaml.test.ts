import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

// A secret's value pasted where its Secrets Manager name belongs, starting with a character YAML reads as
// syntax: the problem says what YAML read, never the value.
const VALUE = "Xk9pQ2mZr7LwT4vB";

const head = [
  "version: 1",
  "defaults:",
  '  jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
];

/** A file with `field: value` written where `where` puts it, each way a secret-holding key is written. */
const placements: Array<[string, (value: string) => string[]]> = [
  [
    "secret: in a block map",
    (v) => ["routes:", "  - name: a", `    secret: ${v}`, "    match: { events: [push] }"],
  ],
  [
    "secret: on the line after its key",
    (v) => ["routes:", "  - name: a", "    secret:", `      ${v}`, "    match: x"],
  ],
  ["secret: in a flow map", (v) => ["routes:", `  - { name: a, secret: ${v}, match: { events: [push] } }`]],
  [
    "a route's jenkins credentials:",
    (v) => [
      "routes:",
      "  - name: a",
      "    secret: hookgate/gh",
      "    action:",
      "      type: jenkins",
      "      job: build",
      `      jenkins: { url: "https://k.example.com", credentials: ${v} }`,
    ],
  ],
  [
    "a route's jenkins caBundle:",
    (v) => [
      "routes:",
      "  - name: a",
      "    secret: hookgate/gh",
      "    action:",
      "      type: jenkins",
      "      job: build",
      "      jenkins:",
      `        caBundle: ${v}`,
    ],
  ],
  ["providers.github.token:", (v) => ["providers:", "  github:", `    token: ${v}`, "routes: []"]],
];

describe("Function: parseRoutes (a secret value YAML reads as syntax is not shown)", () => {
  for (const [where, lines] of placements) {
    for (const first of ["!", "!!", "*", "|", ">", "|-", "@", "`"]) {
      it(`refuses ${where} ${first}<value> without printing any of the value`, () => {
        const text = [...head, ...lines(`${first}${VALUE}`), ""].join("\n");
        const { config, problems } = parseRoutes(text, "routes.yaml");
        expect(config).to.equal(undefined);
        expect(problems).to.not.deep.equal([]);
        for (const problem of problems) {
          expect(problem.message).to.not.include(VALUE.slice(0, 4));
        }
        expect(problems.map((p) => p.message).join("\n")).to.include("(the value is not shown");
      });
    }
  }

  it("says what YAML read the first character as: a tag, an alias, a block scalar header", () => {
    const said = (first: string) =>
      parseRoutes([...head, ...(placements[0]?.[1](`${first}${VALUE}`) ?? []), ""].join("\n"), "r.yaml")
        .problems.map((p) => p.message)
        .join("\n");
    expect(said("!")).to.include(
      "the value of secret is not read: YAML reads its first character (!) as a tag",
    );
    expect(said("*")).to.include("(*) as an alias, and no anchor of that name is set before it");
    expect(said(">")).to.include("(| or >) as a block scalar header");
  });

  it("still quotes an unquoted glob or tag outside a secret's value", () => {
    const text = [
      ...head,
      "routes:",
      "  - name: a",
      "    secret: hookgate/gh",
      "    match: { events: [push], paths: [*.md] }",
      "    action: { type: jenkins, job: build }",
      "",
    ].join("\n");
    expect(parseRoutes(text, "r.yaml").problems.map((p) => p.message)).to.deep.include(
      "YAML: unresolved alias *.md (no anchor &.md is set before it); quote globs that start with * (YAML reads *name as an alias)",
    );
    const tagged = text.replace("paths: [*.md]", "branches: [main], x: !Ref main");
    expect(
      parseRoutes(tagged, "r.yaml")
        .problems.map((p) => p.message)
        .join("\n"),
    ).to.include("the tag !Ref");
  });

  it('keeps its own place and message for a comment right after a quoted secret name ("name"# x)', () => {
    const text = [
      ...head,
      "routes:",
      "  - name: a",
      '    secret: "hookgate/gh"# the webhook secret',
      "    match: { events: [push] }",
      "",
    ].join("\n");
    const messages = parseRoutes(text, "r.yaml").problems.map((p) => p.message);
    expect(messages.join("\n")).to.include("YAML: Comments must be separated");
  });
});

describe("Function: parseRoutes (a flow map or list missing its end after a secret's name)", () => {
  const route = [
    "version: 1",
    "routes:",
    "  - name: a",
    "    secret: hookgate/gh",
    "    match: { events: [push] }",
    "    action:",
    "      type: jenkins",
    "      job: build",
    '      jenkins: { url: "https://k.example.com", credentials: hookgate/j',
  ];
  const cases: Array<[string, string, string]> = [
    [
      "at the end of a file without a final newline",
      route.join("\n"),
      "9:16 YAML: Flow map in block collection must be sufficiently indented and end with a }",
    ],
    [
      "where a ] ends the line instead of a }",
      "version: 1\nx-a: [ { token: hookgate/j]\n",
      "2:8 YAML: Flow map in block collection must be sufficiently indented and end with a } (1 more YAML error " +
        "after it, often caused by this one)",
    ],
  ];
  for (const [where, text, expected] of cases) {
    it(`says the missing end ${where}, not that the name cannot be read`, () => {
      const { problems } = parseRoutes(text, "r.yaml");
      expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.deep.equal([expected]);
    });
  }
});

describe("Function: parseRoutes (a secret value in a flow map that starts with a comma, } or ])", () => {
  const route = [
    "routes:",
    "  - name: a",
    "    secret: hookgate/gh",
    "    match: { events: [push] }",
    "    action: { type: jenkins, job: b }",
  ];
  const FLOW_INDICATOR = "it starts with a character that ends a value in a flow map (a comma, } or ])";
  const cases: Array<[string, string[], string]> = [
    [
      "providers.github.token: }Xk9...,!Yq7...",
      [
        "version: 1",
        'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
        'providers: { github: { token: }Xk9pQ2,!Yq7wT4"Zr5mL8 } }',
        ...route,
      ],
      FLOW_INDICATOR,
    ],
    [
      "jenkins credentials: , !Xk9... (the tag of a key after an empty value and a comma)",
      ["version: 1", "jenkins: { url: http://j:8080, credentials: , !Xk9pQ2%Yq7wT4[Zr5mL8 }", ...route],
      'a "," in a flow map ended the value of credentials',
    ],
  ];
  for (const [where, lines, saying] of cases) {
    it(`refuses ${where} without printing the tag YAML read in it, saying why`, () => {
      const said = parseRoutes([...lines, ""].join("\n"), "r.yaml")
        .problems.map((p) => p.message)
        .join("\n");
      for (const part of ["Xk9", "Yq7", "Zr5"]) expect(said).to.not.include(part);
      expect(said).to.include(saying);
    });
  }

  it("still says a tag after a secret-holding key whose value is empty and ended by }", () => {
    const said = parseRoutes(
      [
        "version: 1",
        'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
        "x-a: { token: }",
        "x-b: !Ref b",
        ...route,
        "",
      ].join("\n"),
      "r.yaml",
    ).problems.map((p) => p.message);
    expect(said.join("\n")).to.include("the tag !Ref");
  });
});
