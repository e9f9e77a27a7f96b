// The URL parser takes a "," in a host (WHATWG forbids no ","), but no DNS host name has one: a jenkins.url or an
// apiUrl with one is a token or a second URL pasted after the host, and every request to it would fail.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

const GH_TOKEN = "ghp_SECRETMARKER123abcdefghij0123456789X";

const file = (jenkinsUrl: string, apiUrl = "https://gitlab.example.com/api/v4") =>
  [
    "version: 1",
    "providers:",
    `  gitlab: { apiUrl: "${apiUrl}", token: hookgate/gl }`,
    "defaults:",
    "  secret: hookgate/webhook",
    `  jenkins: { url: "${jenkinsUrl}", credentials: hookgate/jenkins }`,
    "routes:",
    "  - name: api-build",
    "    match: { repos: [acme/api], events: [push] }",
    "    action: { type: jenkins, job: api/build }",
    "",
  ].join("\n");

const REFUSAL =
  'is followed by a "," in the host, which no host name has (the rest is not shown: it may be a token or another URL): write one URL with its host alone';

function messages(text: string): string[] {
  return parseRoutes(text, "routes.yaml").problems.map((p) => p.message);
}

describe("routes.yaml: a URL whose host holds a comma", () => {
  // [what, file, the problem, the text never shown]
  const refused: Array<[string, string, string, string]> = [
    [
      "a token after a comma in jenkins.url",
      file(`https://jenkins.example.com,${GH_TOKEN}`),
      `defaults.jenkins.url: "https://jenkins.example.com" ${REFUSAL}`,
      GH_TOKEN.toLowerCase(),
    ],
    [
      "two URLs in an apiUrl",
      file("https://jenkins.example.com", "https://gitlab.example.com,https://gitlab2.example.com/api/v4"),
      `providers.gitlab.apiUrl: "https://gitlab.example.com" ${REFUSAL}`,
      "gitlab2",
    ],
  ];
  for (const [what, text, expected, hidden] of refused) {
    it(`refuses ${what}, naming the host before the comma only`, () => {
      const said = messages(text);
      expect(said).to.include(expected);
      for (const message of said) expect(message.toLowerCase()).to.not.include(hidden);
    });
  }

  const taken = ["https://jenkins_ci.internal:8080", "https://jenkins.example.com/a,b"];
  for (const url of taken) {
    it(`still takes ${url} (no comma in the host)`, () => {
      expect(messages(file(url))).to.deep.equal([]);
    });
  }
});
