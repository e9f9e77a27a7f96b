// A value under a secret-holding key that its own problem does not show (a random-looking text, one with a space)
// may be the secret itself: an alias that repeats it elsewhere (`secret: &s <value>`, `name: *s`) must not get it
// quoted there. A secret's name, shown at its own place, is still quoted where an alias repeats it.
import { expect } from "chai";
import { NOT_SHOWN } from "../../../src/core/routes/checks";
import { parseRoutes } from "../../../src/core/routes/parse";

const RANDOM = "q7Rt2LmX9vBn4KpZ8sWd3HjY"; // a token_urlsafe-like value: no known token shape, looksRandom
const SPACED = "hunter2 pasted here";

const file = (secret: string, route: string) =>
  [
    "version: 1",
    "defaults:",
    `  secret: ${secret}`,
    '  jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }',
    "routes:",
    "  - name: api-build",
    "    match: { repos: [acme/api], events: [push] }",
    "    action: { type: jenkins, job: api/build }",
    route,
  ].join("\n");

function messages(text: string): string[] {
  return parseRoutes(text, "routes.yaml").problems.map((p) => p.message);
}

describe("routes.yaml: a secret's value repeated through an alias", () => {
  // [what, file, the secret, the problem where the alias lands]
  const cases: Array<[string, string, string, string]> = [
    [
      "a random-looking value as a route's name",
      file(
        `&s ${RANDOM}`,
        "  - name: *s\n    match: { repos: [acme/api] }\n    action: { type: jenkins, job: x }\n",
      ),
      RANDOM,
      `route name "${NOT_SHOWN}" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit (it becomes the URL path /hooks/<name>)`,
    ],
    [
      "a value with spaces as an action's type",
      file(
        `&s "${SPACED}"`,
        "  - name: b\n    match: { repos: [acme/api] }\n    action: { type: *s, job: x }\n",
      ),
      SPACED,
      `route "b" action.type: "${NOT_SHOWN}" is not one of jenkins, s3-zip, pr-cleanup`,
    ],
    [
      "a list of a random-looking value as a route's repos",
      file(
        `&s [${RANDOM}]`,
        "  - name: b\n    match: { repos: *s }\n    action: { type: jenkins, job: x }\n",
      ),
      RANDOM,
      `route "b" match.repos[0]: glob "${NOT_SHOWN}" never matches`,
    ],
  ];
  for (const [what, text, secret, expected] of cases) {
    it(`does not quote ${what}`, () => {
      const said = messages(text);
      expect(said.some((message) => message.startsWith(expected))).to.equal(true, said.join("\n"));
      for (const message of said) expect(message).to.not.include(secret);
    });
  }

  it("still quotes a secret's name (shown in the secrets table anyway) where an alias repeats it", () => {
    const said = messages(
      file(
        "&s hookgate/jenkins",
        "  - name: *s\n    match: { repos: [acme/api] }\n    action: { type: jenkins, job: x }\n",
      ),
    );
    expect(said).to.include(
      'route name "hookgate/jenkins" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit (it becomes the URL path /hooks/<name>)',
    );
  });
});
