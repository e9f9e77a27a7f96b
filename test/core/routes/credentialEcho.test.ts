// A problem quotes what routes.yaml holds, but never text that looks like a credential: a token pasted after a
// URL, a Jenkins docs' curl line, a token written as a key. Ordinary text (a job, a name, a key) is still quoted.
import { expect } from "chai";
import { NOT_SHOWN, withoutSecretLookalikes } from "../../../src/core/routes/checks";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";

const JENKINS_TOKEN = "11a2b3c4d5e6f708192a3b4c5d6e7f8091"; // a Jenkins API token's shape: 34 hex digits
const GH_TOKEN = "ghp_SECRETMARKER123abcdefghij0123456789X";
const GL_TOKEN = "glpat-SECRETMARKER123abcd";

const file = (jenkins: string, top = "", route = "") =>
  [
    "version: 1",
    "defaults:",
    "  secret: hookgate/webhook",
    `  jenkins: ${jenkins}`,
    `${top}routes:`,
    "  - name: api-build",
    "    match: { repos: [acme/api], events: [push] }",
    "    action: { type: jenkins, job: api/build }",
    route,
  ].join("\n");
const jenkinsUrl = (url: string) => `{ url: "${url}", credentials: hookgate/jenkins }`;
const OK_JENKINS = jenkinsUrl("https://jenkins.example.com");

function messages(text: string): string[] {
  return parseRoutes(text, "routes.yaml").problems.map((p) => p.message);
}

describe("routes.yaml problems never quote text that looks like a credential", () => {
  // [what, file, the secret, what the problem says instead]
  const cases: Array<[string, string, string, string]> = [
    [
      "the curl line of Jenkins' docs pasted as jenkins.url (--user USER:API_TOKEN URL)",
      file(jenkinsUrl(`curl -X POST -L --user admin:${JENKINS_TOKEN} https://jenkins.example.com`)),
      JENKINS_TOKEN,
      'defaults.jenkins.url: this value holds white space, which no URL has: write the URL alone, "https://jenkins.example.com" (the value is not shown: what was pasted with the URL may be a password or token)',
    ],
    [
      "a curl line whose password looks like no token",
      file(jenkinsUrl("curl --user admin:Summer2024pass https://jenkins.example.com:8443/ci")),
      "Summer2024pass",
      'defaults.jenkins.url: this value holds white space, which no URL has: write the URL alone, "https://jenkins.example.com:8443/…" (the value is not shown: what was pasted with the URL may be a password or token)',
    ],
    [
      "a token after a space in jenkins.url",
      file(jenkinsUrl(`https://jenkins.example.com ${GH_TOKEN}`)),
      GH_TOKEN,
      'defaults.jenkins.url: this value holds white space, which no URL has: write the URL alone, "https://jenkins.example.com" (the value is not shown: what was pasted with the URL may be a password or token)',
    ],
    [
      "a token after a space in providers.gitlab.apiUrl (the URL parser takes it in the path)",
      file(
        OK_JENKINS,
        `providers:\n  gitlab: { apiUrl: "https://gitlab.example.com/api/v4 ${GL_TOKEN}", token: t/gl }\n`,
      ),
      GL_TOKEN,
      'providers.gitlab.apiUrl: this value holds white space, which no URL has: write the URL alone, "https://gitlab.example.com/…" (the value is not shown: what was pasted with the URL may be a password or token)',
    ],
    [
      "a token after a tab in providers.gitlab.apiUrl (quoted as \\t)",
      file(
        OK_JENKINS,
        `providers:\n  gitlab: { apiUrl: "https://gitlab.example.com/api/v4\\t${GL_TOKEN}", token: t/gl }\n`,
      ),
      GL_TOKEN,
      'providers.gitlab.apiUrl: this value holds white space, which no URL has: write the URL alone, "https://gitlab.example.com/…" (the value is not shown: what was pasted with the URL may be a password or token)',
    ],
    [
      "a token in the path of a URL written with one slash (the schema's own pattern refuses it)",
      file(jenkinsUrl(`http:/jenkins.example.com/hooks/${JENKINS_TOKEN}`)),
      JENKINS_TOKEN,
      'defaults.jenkins.url: this value (not shown: its path may hold a token; read as "http://jenkins.example.com/…") must be an http or https URL written as https://host[:port][/path]',
    ],
    [
      "a token written as a top-level key",
      file(OK_JENKINS, `${GH_TOKEN}: x\n`),
      GH_TOKEN,
      `unknown key "${NOT_SHOWN}" (allowed: version, providers, jenkins, defaults, routes)`,
    ],
    [
      "a token written as a key of a map where one of a fixed list belongs",
      file(
        OK_JENKINS,
        "",
        `  - name: b\n    match: { repos: [acme/api] }\n    action: { type: { ${GH_TOKEN}: x } }\n`,
      ),
      GH_TOKEN,
      `route "b" action.type: {"${NOT_SHOWN}":"x"} is not one of jenkins, s3-zip, pr-cleanup`,
    ],
    [
      "a token under credentials in a map where one of a fixed list belongs",
      file(
        OK_JENKINS,
        "",
        `  - name: b\n    match: { repos: [acme/api] }\n    action: { type: { credentials: ${GH_TOKEN} } }\n`,
      ),
      GH_TOKEN,
      'route "b" action.type: {"credentials":"…"} is not one of jenkins, s3-zip, pr-cleanup',
    ],
    [
      "a token written as a key of a map given as the version",
      file(OK_JENKINS).replace("version: 1", `version: { ${GH_TOKEN}: 1 }`),
      GH_TOKEN,
      `version must be 1, not {"${NOT_SHOWN}":1} (this hookgate reads version 1)`,
    ],
    [
      "a token a clip cuts in two (a route name is shown up to 40 characters)",
      file(
        OK_JENKINS,
        "",
        `  - name: "team-platform-deploys-${GH_TOKEN}"\n    match: { repos: [acme/api] }\n    action: { type: jenkins, job: x }\n`,
      ),
      GH_TOKEN.slice(0, 8),
      `route name "team-platform-deploys-${NOT_SHOWN}…" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit, and use at most 32 characters (it becomes the URL path /hooks/<name>)`,
    ],
  ];
  for (const [what, text, secret, expected] of cases) {
    it(`says ${what} without the secret`, () => {
      const said = messages(text);
      expect(said).to.include(expected);
      for (const message of said) expect(message).to.not.include(secret);
    });
  }

  // [what, file, the problem, quoting the value as written]
  const ordinary: Array<[string, string, string]> = [
    [
      "text with a space and no URL in it",
      file(jenkinsUrl("not a url")),
      'defaults.jenkins.url: "not a url" is not a URL (write it as https://host[:port][/path])',
    ],
    [
      "an unknown key",
      file(OK_JENKINS, "colour: red\n"),
      'unknown key "colour" (allowed: version, providers, jenkins, defaults, routes)',
    ],
    [
      "a route name of 40 letters a (hexadecimal, but no token)",
      file(
        OK_JENKINS,
        "",
        `  - name: ${"a".repeat(40)}\n    match: { repos: [acme/api] }\n    action: { type: jenkins, job: x }\n`,
      ),
      `route name "${"a".repeat(40)}" is not valid: use at most 32 characters (it becomes the URL path /hooks/<name>)`,
    ],
    [
      "a value of a fixed list's typo",
      file(
        OK_JENKINS,
        "",
        "  - name: b\n    match: { repos: [acme/api] }\n    action: { type: jenkin, job: x }\n",
      ),
      'route "b" action.type: "jenkin" is not one of jenkins, s3-zip, pr-cleanup; did you mean "jenkins"?',
    ],
  ];
  for (const [what, text, expected] of ordinary) {
    it(`still quotes ${what}`, () => {
      expect(messages(text)).to.include(expected);
    });
  }
});

describe("withoutSecretLookalikes", () => {
  const cases: Array<[string, string, string[], string]> = [
    ["a token after a colon", `user admin:${JENKINS_TOKEN} x`, [], `user admin:${NOT_SHOWN} x`],
    [
      "a token in a URL's path",
      `"https://ci.example.com/hooks/${JENKINS_TOKEN}"`,
      [],
      `"https://ci.example.com/hooks/${NOT_SHOWN}"`,
    ],
    ["a token after a tab written \\t", `"v4\\t${GL_TOKEN}"`, [], `"v4\\t${NOT_SHOWN}"`],
    [
      "a token lower-cased by the URL parser",
      `https://ci.example.com,${GH_TOKEN.toLowerCase()}`,
      [],
      `https://ci.example.com,${NOT_SHOWN}`,
    ],
    [
      "the start of a given text a clip cut",
      `name "${GH_TOKEN.slice(0, 10)}…" x`,
      [GH_TOKEN],
      `name "${NOT_SHOWN}…" x`,
    ],
    ["a given text, whole", 'route name "hunter 2" x', ["hunter 2"], `route name "${NOT_SHOWN}" x`],
    ["a given text only as a whole word", 'route name "hunter22" x', ["hunter2"], 'route name "hunter22" x'],
    [
      "nothing of a job, a glob or a secret's name",
      'job "api/build" on acme/* with "hookgate/jenkins"',
      [],
      'job "api/build" on acme/* with "hookgate/jenkins"',
    ],
  ];
  for (const [what, message, hidden, expected] of cases) {
    it(`hides ${what}`, () => {
      expect(withoutSecretLookalikes(message, hidden)).to.equal(expected);
    });
  }
});

describe("routes.yaml notes never quote text that looks like a credential", () => {
  it("notes a job written as a job's URL path without the token its name is", () => {
    const parsed = parseRoutes(
      file(OK_JENKINS).replace("job: api/build", `job: "job/api/job/${GH_TOKEN}"`),
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    const notes = routeNotes(parsed.config?.routes ?? []);
    expect(
      notes.some((note) => note.includes(`written as a job's URL path, it is the job "api/${NOT_SHOWN}"`)),
    ).to.equal(true, notes.join("\n"));
    for (const note of notes) expect(note).to.not.include(GH_TOKEN);
  });
});
