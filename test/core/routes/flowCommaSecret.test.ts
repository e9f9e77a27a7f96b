import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

// A secret's value pasted where its Secrets Manager name belongs, in a flow map, holding a ",": YAML ends the
// value at the comma and reads what follows as a key, which a problem would quote.
const TAIL = "Xk9pQ2mZr7LwT4vB";
const ROUTE = ["  - name: a", "    secret: hookgate/gh", "    match: { events: [push] }"];

const files: Array<[string, string, string[]]> = [
  [
    "a route's secret",
    "secret",
    [
      "routes:",
      `  - { name: a, secret: hunter2,${TAIL}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ],
  [
    "a route's secret split twice",
    "secret",
    [
      "routes:",
      `  - { name: a, secret: hunter2,${TAIL},Yq, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ],
  [
    "a jenkins block's credentials",
    "credentials",
    [
      "routes:",
      ...ROUTE,
      `    action: { type: jenkins, job: b, jenkins: { url: "https://k.example.com", credentials: p4ss,${TAIL} } }`,
    ],
  ],
  [
    "providers.github.token",
    "token",
    ["providers: { github: { token: ghp_x,", `  ${TAIL} } }`, "routes: []"],
  ],
  [
    "a route's secret after an anchor",
    "secret",
    [
      "routes:",
      `  - { name: a, secret: &s ,${TAIL}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ],
  [
    "a token parameter",
    "token",
    ["routes:", ...ROUTE, `    action: { type: jenkins, job: b, parameters: { token: ,${TAIL} } }`],
  ],
  // YAML reads a "!", "&" or "? " after the "," as a tag, an anchor or a key's mark, whose problems quote them.
  ...[
    `,!${TAIL}`,
    `, !${TAIL}`,
    `,cd,!${TAIL}`,
    `,!!${TAIL}`,
    `,&a ${TAIL}`,
    `,? ${TAIL}`,
    `, &a ${TAIL}`,
  ].map((rest): [string, string, string[]] => [
    `a route's secret split by "${rest.replace(TAIL, "<rest>")}"`,
    "secret",
    [
      "routes:",
      `  - { name: a, secret: hunter2${rest}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ]),
];

describe("routes.yaml: a secret's value with a comma in a flow map", () => {
  for (const [where, key, lines] of files) {
    it(`refuses ${where} without quoting any part of the value after the comma`, () => {
      const text = [
        "version: 1",
        'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
        ...lines,
        "",
      ].join("\n");
      const { problems } = parseRoutes(text, "routes.yaml");
      expect(problems).to.not.deep.equal([]);
      for (const problem of problems) expect(problem.message).to.not.include(TAIL);
      expect(problems.map((p) => p.message)).to.include(
        `YAML: a "," in a flow map ended the value of ${key}; quote the value (the rest is not shown: it may be a secret)`,
      );
    });
  }

  it("still names an unknown key that follows a key of the map's own after a secret's name in a flow map", () => {
    const text = [
      "version: 1",
      "routes:",
      "  - { secret: hookgate/gh, name: a, colour: red, match: { events: [push] }, action: { type: jenkins, job: b } }",
      "",
    ].join("\n");
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.some((p) => p.message.includes("colour"))).to.equal(true);
  });

  // `hunter2, Xk9: x`: after ", " YAML reads the rest as a key of its own, which the unknown-key problem quotes.
  for (const rest of [`${TAIL}: x`, `${TAIL}: `, `"${TAIL}": x`]) {
    it(`says an unknown key right after a secret's value (", ${rest.replace(TAIL, "<rest>")}") without its text`, () => {
      const text = [
        "version: 1",
        'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
        "routes:",
        `  - { name: a, secret: hunter2, ${rest}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
        "",
      ].join("\n");
      const { problems } = parseRoutes(text, "routes.yaml");
      expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.deep.equal([
        '4:33 route "a": unknown key right after the value of secret (the key is not shown: it may be the rest of a secret split by ", "; quote the value if so)',
      ]);
    });
  }
});

describe("routes.yaml: a key of the map's own right after a secret's name and a comma in a flow map", () => {
  it("reads secret: hookgate/gh,match: {...} as two keys of the route and keeps another route's missing match", () => {
    const text = [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      "  - { name: a, secret: hookgate/gh,match: { events: [push] }, action: { type: jenkins, job: b } }",
      "  - name: b",
      "    secret: hookgate/gh",
      "    action: { type: jenkins, job: b }",
      "",
    ].join("\n");
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.deep.equal([
      '5:5 route "b": missing required key "match"',
    ]);
  });

  it("keeps a problem under the route's own match written straight after secret: hookgate/gh,", () => {
    const text = [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      "  - { name: a, secret: hookgate/gh,match: { events: [push], colour: x }, action: { type: jenkins, job: b } }",
      "",
    ].join("\n");
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.map((p) => p.message)).to.deep.equal([
      'route "a" match: unknown key "colour" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
    ]);
  });

  it("keeps another route's url problem when a jenkins block writes credentials: hookgate/j,url: ...", () => {
    const text = [
      "version: 1",
      "routes:",
      "  - name: a",
      "    secret: hookgate/gh",
      "    match: { events: [push] }",
      '    action: { type: jenkins, job: b, jenkins: { credentials: hookgate/j,url: "https://k.example.com/" } }',
      "  - name: b",
      "    secret: hookgate/gh",
      "    match: { events: [push] }",
      '    action: { type: jenkins, job: b, jenkins: { url: "ftp://x" } }',
      "",
    ].join("\n");
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.deep.equal([
      '10:47 route "b" action.jenkins: missing required key "credentials"',
      '10:54 route "b" action.jenkins.url: a "ftp:" URL (the rest is not shown) must be an http or https URL',
    ]);
  });

  it("replaces a problem quoting a split-off key only inside that key's flow map", () => {
    const text = [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      "  - { name: a, secret: hunter2,match, match: { events: [push] }, action: { type: jenkins, job: b } }",
      "  - name: b",
      "    secret: hookgate/gh",
      "    action: { type: jenkins, job: b }",
      "",
    ].join("\n");
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.include(
      '5:5 route "b": missing required key "match"',
    );
  });
});
