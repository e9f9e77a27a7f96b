// A secret's value pasted where its Secrets Manager name belongs, in a flow map, holding ",word: ": YAML ends the
// value at the "," and reads `word: rest` as a pair of the map, whose value a problem would quote.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const REST = "Xk9pQ2mZr7LwT4vB";
const ROUTE = ["  - name: a", "    secret: hookgate/gh", "    match: { events: [push] }"];
const JOB = "    action: { type: jenkins, job: b }";

const files: Array<[string, string, string[]]> = [
  [
    "credentials: hunter2,x: *<rest> (an alias with no anchor)",
    "credentials",
    [
      "version: 1",
      `jenkins: { url: http://j:8080, credentials: hunter2,x: *${REST} }`,
      "routes:",
      ...ROUTE,
      JOB,
    ],
  ],
  [
    "credentials: hunter2,url: <rest> (a key the map has, its value no URL)",
    "credentials",
    [
      "version: 1",
      `jenkins: { url: http://j:8080, credentials: hunter2,url: ${REST} }`,
      "routes:",
      ...ROUTE,
      JOB,
    ],
  ],
  [
    "secret: hunter2,x: !<rest> (a tag)",
    "secret",
    [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      `  - { name: a, secret: hunter2,x: !${REST}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ],
  [
    "credentials: hunter2,x: y,<rest> (split again after the pair)",
    "credentials",
    [
      "version: 1",
      `jenkins: { url: http://j:8080, credentials: hunter2,x: y,${REST} }`,
      "routes:",
      ...ROUTE,
      JOB,
    ],
  ],
  [
    "token: hunter2,x: y,<rest>: z (split again into a pair)",
    "token",
    ["version: 1", "providers:", `  github: { token: hunter2,x: y,${REST}: z }`, "routes:", ...ROUTE, JOB],
  ],
  [
    'secret: hunter2, x: y,<rest> (split by ", " into a pair, then by ",")',
    "secret",
    [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      `  - { name: a, secret: hunter2, x: y,${REST}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ],
  [
    "secret: hunter2,name: <rest>, x: y (the route's name, which labels the route's other problems)",
    "secret",
    [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      `  - { secret: hunter2,name: ${REST}, x: y, match: { events: [push] }, action: { type: jenkins, job: b } }`,
    ],
  ],
  // A tag after the "," that YAML could not read as a key's mark: its problem quotes it.
  ...[`hunter2, !${REST}"Yq7wT4`, `hunter2[Aa0AAA,!${REST}[Yq7wT4`].map(
    (value): [string, string, string[]] => [
      `secret: ${value.replace(REST, "<rest>")} (a tag after the ",")`,
      "secret",
      [
        "version: 1",
        'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
        "routes:",
        `  - { name: a, secret: ${value}, match: { events: [push] }, action: { type: jenkins, job: b } }`,
      ],
    ],
  ),
  [
    'a token parameter: , <rest>: z (the value starts with ", ")',
    "token",
    [
      "version: 1",
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
      "routes:",
      ...ROUTE,
      `    action: { type: jenkins, job: b, parameters: { token: , ${REST}"Yq7: z, SHA: "{{sha}}" } }`,
    ],
  ],
];

describe('routes.yaml: a secret\'s value holding ",word: " in a flow map', () => {
  for (const [where, key, lines] of files) {
    it(`refuses ${where} without showing any part of the value after the key`, () => {
      const { config, problems } = parseRoutes([...lines, ""].join("\n"), "routes.yaml");
      expect(config).to.equal(undefined);
      const said = problems.map((p) => `${p.line}:${p.col} ${p.message}`);
      for (const line of said) {
        expect(line).to.not.include(REST.slice(0, 3));
        expect(line).to.not.include("hunter2");
      }
      expect(said.join("\n")).to.include(`a "," in a flow map ended the value of ${key}`);
    });
  }
});
