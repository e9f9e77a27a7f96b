import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

// The top-level jenkins that defaults.jenkins is written from (by an alias or a merge) is used through it:
// removing it, as the "never used" note advised, leaves an alias without its anchor.
const file = (topJenkins: string, defaultsJenkins: string) =>
  [
    "version: 1",
    `jenkins: ${topJenkins}`,
    "defaults:",
    "  secret: hookgate/s",
    `  jenkins: ${defaultsJenkins}`,
    "routes:",
    "  - name: a",
    "    match: { events: [push] }",
    "    action: { type: jenkins, job: b }",
    "",
  ].join("\n");

const TOP = '&j { url: "https://j.example.com", credentials: hookgate/j }';

describe("routes.yaml: the 'jenkins: never used' note beside defaults.jenkins", () => {
  for (const written of ["*j", "{ <<: *j, crumb: true }"]) {
    it(`is not said when defaults.jenkins is ${written}, which reads the top-level block`, () => {
      const { config, problems } = parseRoutes(file(TOP, written), "routes.yaml");
      expect(problems).to.deep.equal([]);
      const route = config?.routes[0];
      expect(route?.action.type === "jenkins" && route.action.jenkins.url).to.equal("https://j.example.com");
      expect(config?.notes).to.equal(undefined);
    });
  }

  it("is not said when defaults.jenkins aliases a value of the top-level block", () => {
    const top = '{ url: &u "https://j.example.com", credentials: hookgate/j }';
    const { config, problems } = parseRoutes(
      file(top, "{ url: *u, credentials: hookgate/k }"),
      "routes.yaml",
    );
    expect(problems).to.deep.equal([]);
    expect(config?.notes).to.equal(undefined);
  });

  it("is still said when the top-level block's anchor is never aliased", () => {
    const defaults = '{ url: "https://k.example.com", credentials: hookgate/k }';
    const { config, problems } = parseRoutes(file(TOP, defaults), "routes.yaml");
    expect(problems).to.deep.equal([]);
    expect(config?.notes?.some((note) => note.includes("jenkins: never used"))).to.equal(true);
  });
});
