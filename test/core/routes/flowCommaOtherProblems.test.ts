// A "," in a flow map that splits a pasted secret hides that secret's text, never another problem of the map:
// a problem that merely holds the same word is said as it is, and one that quotes the split-off text is said
// with only that text left out, at its own line and column.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const said = (lines: string[]) =>
  parseRoutes([...lines, ""].join("\n"), "routes.yaml").problems.map(
    (p) => `${p.line}:${p.col} ${p.message}`,
  );

const HEAD = ["version: 1", 'jenkins: { url: "https://j.example.com", credentials: hookgate/j }', "routes:"];
const COMMA =
  'YAML: a "," in a flow map ended the value of secret; quote the value (the rest is not shown: it may be a secret)';

describe('routes.yaml: other problems in a flow map where a "," split a secret', () => {
  it("says an unknown key of the route's action when the split-off text is the route's name", () => {
    expect(
      said([
        ...HEAD,
        "  - { name: a, secret: hunter2,a, match: { events: [push] }, action: { type: jenkins, job: b, colour: x } }",
      ]),
    ).to.deep.equal([
      `4:32 ${COMMA}`,
      '4:95 route "a" action: unknown key "colour" (allowed: type, job, parameters, jenkins)',
    ]);
  });

  it("says the action's missing job when the split-off text is job", () => {
    expect(
      said([
        ...HEAD,
        "  - { name: b, secret: hunter2,job, match: { events: [push] }, action: { type: jenkins } }",
      ]),
    ).to.deep.equal([`4:32 ${COMMA}`, '4:72 route "b" action: missing required key "job"']);
  });

  it("says each missing key of the route at its place, not one blanked problem in their stead", () => {
    const problems = said([...HEAD, "  - { name: a, secret: hunter2,a }"]);
    expect(problems).to.include.members([
      '4:5 route "a": missing required key "match"',
      '4:5 route "a": missing required key "action"',
    ]);
  });

  it("says a step's extra keys at the step, leaving out only the split-off key", () => {
    const problems = said([
      ...HEAD,
      "  - name: a",
      "    secret: hookgate/gh",
      "    match: { events: [push] }",
      "    action: { type: pr-cleanup, token: hookgate/t, steps: [ { delete-branch: {}, secret: hunter2,Xk9-é.pQ2 } ] }",
    ]);
    for (const part of ["Xk9", "é", "pQ2", "hunter2"]) expect(problems.join("\n")).to.not.include(part);
    const step = problems.find((p) => p.includes("a step must have exactly one key"));
    expect(step, problems.join("\n")).to.match(
      /^7:\d+ route "a" action\.steps\[0\]: a step must have exactly one key .*delete-branch, secret, …; write each as its own "- " item$/,
    );
  });
});
