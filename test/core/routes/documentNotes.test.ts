import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

function notesOf(lines: string[]): string[] | undefined {
  const { config, problems } = parseRoutes([...lines, ""].join("\n"), "routes.yaml");
  expect(problems).to.deep.equal([]);
  return config?.notes;
}

const ROUTE = [
  "routes:",
  "  - name: a",
  "    match: { events: [push] }",
  '    action: { type: jenkins, job: build, parameters: { SHA: "{{sha}}" } }',
];

describe("Function: parseRoutes (a top-level jenkins that defaults.jenkins overrides)", () => {
  it("notes, at the top-level jenkins key, that defaults.jenkins is used instead", () => {
    const notes = notesOf([
      "version: 1",
      'jenkins: { url: "https://jenkins-new.example.com", credentials: hookgate/jenkins-new }',
      "defaults:",
      "  secret: hookgate/gh",
      '  jenkins: { url: "https://jenkins-old.example.com", credentials: hookgate/jenkins-old }',
      ...ROUTE,
    ]);
    expect(notes).to.have.length(1);
    expect(notes?.[0]).to.match(/^routes\.yaml:2:1: jenkins: never used: .*uses defaults\.jenkins instead/);
  });

  it("notes nothing of a top-level jenkins without defaults.jenkins: routes without their own use it", () => {
    const notes = notesOf([
      "version: 1",
      'jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }',
      "defaults: { secret: hookgate/gh }",
      ...ROUTE,
    ]);
    expect(notes).to.equal(undefined);
  });
});
