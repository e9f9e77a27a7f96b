// A secret-holding key's quoted value in a flow map ends at its closing quote: a key right after the "," is the
// map's own, and its problems are said as they are (review h508).
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const messages = (body: string) =>
  parseRoutes(`version: 1\n${body}`, "routes.yaml").problems.map((p) => p.message);

describe('parseRoutes: a quoted secret name followed by a "," in a flow map', () => {
  it('says the misspelt key of { credentials: "hookgate/j",ur: ... } (the quoted name cannot be a split secret)', () => {
    const said = messages('jenkins: { credentials: "hookgate/j",ur: "https://j.example.com" }\n').join("\n");
    expect(said).to.include('did you mean "url"');
    expect(said).to.include('missing required key "url"');
  });

  it('says a template typo in a Jenkins parameter after a quoted token parameter ({ token: "{{sha}}",BRANCH: "{{brnch}}" })', () => {
    const said = messages(
      'jenkins: { url: "https://j.example.com", credentials: hookgate/j }\nroutes:\n  - name: a\n    secret: hookgate/gh\n    match: { repos: [acme/api], events: [push] }\n    action: { type: jenkins, job: x, parameters: { token: "{{sha}}",BRANCH: "{{brnch}}" } }\n',
    ).join("\n");
    expect(said).to.include('unknown template field "brnch"');
  });
});
