import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes, positionInRoutes } from "../../../src/core/routes/parse";
import { renderTemplate } from "../../../src/core/templates";
import type { WebhookEvent } from "../../../src/core/types";

const FIXTURES = join(__dirname, "../../fixtures/routes");

function parseFixture(name: string) {
  return parseRoutes(readFileSync(join(FIXTURES, name), "utf8"), name);
}

/** The apiUrl a self-hosted provider needs (Gitea and Data Center have no public default). */
function apiUrl(provider: string): string {
  if (provider === "gitea") return ', apiUrl: "https://git.example.com/api/v1"';
  if (provider === "bitbucket-server") return ', apiUrl: "https://bitbucket.example.com/rest/api/latest"';
  return "";
}

describe("Function: parseRoutes", () => {
  describe("a file with one mistake gives exactly one problem, at the offending key or value", () => {
    // [fixture in test/fixtures/routes/broken, line, col, message fragment]
    const cases: Array<[string, number, number, string]> = [
      ["yaml-syntax.yaml", 7, 12, "YAML: Nested mappings are not allowed"],
      ["yaml-tab-indent.yaml", 3, 1, "YAML: Tabs are not allowed"],
      ["duplicate-yaml-key.yaml", 8, 5, "YAML: duplicate key"],
      ["empty.yaml", 1, 1, "must be a map with version: 1 and routes:"],
      [
        "unknown-key-top.yaml",
        5,
        1,
        'unknown key "colour" (allowed: version, providers, jenkins, defaults, routes)',
      ],
      ["unknown-key-route.yaml", 7, 5, 'route "api-build": unknown key "secrets"; did you mean "secret"?'],
      ["unknown-key-match.yaml", 9, 7, 'unknown key "brnaches"; did you mean "branches"?'],
      ["unknown-key-action.yaml", 11, 7, 'unknown key "bucket" (allowed: type, job, parameters, jenkins)'],
      ["wrong-type.yaml", 9, 15, "match.events: must be a list, not text"],
      ["wrong-type-number.yaml", 7, 31, "auth.toleranceSeconds: must be a whole number, not text"],
      ["missing-name.yaml", 6, 5, 'routes[0]: missing required key "name"'],
      ["bad-name.yaml", 6, 11, 'route name "API_Build" is not valid: use only lower-case letters'],
      ["long-name.yaml", 6, 11, "use at most 32 characters"],
      [
        "duplicate-names.yaml",
        9,
        11,
        'duplicate route name "api-build"; route names must be unique (they are URL paths) (first used at line 6)',
      ],
      [
        "reserved-route-name.yaml",
        6,
        11,
        'route name "hooks" is reserved: the API\'s /hooks resource already has the Pulumi name',
      ],
      [
        "dlq-route-name-clash.yaml",
        6,
        11,
        'route name "api-build-dlq" clashes with route "api-build": its queue would have the name of the dead-letter queue',
      ],
      ["bad-cidr.yaml", 8, 32, '"10.0.0.300/8" is not a CIDR'],
      [
        "cidr-host-bits.yaml",
        8,
        35,
        '"192.0.2.10/24" has host bits set; write 192.0.2.0/24 for the network or 192.0.2.10/32',
      ],
      ["bad-glob.yaml", 9, 24, 'match.branches[1]: glob "release/[0-9" has an unclosed bracket'],
      ["empty-glob-list.yaml", 7, 21, "match.repos: must not be an empty list"],
      [
        "unknown-template-field.yaml",
        12,
        18,
        'action.parameters.BRANCH: unknown template field "brnach" (did you mean "branch"?)',
      ],
      ["bad-job-path.yaml", 8, 35, 'job "api//build" has an empty folder'],
      ["no-secret-no-allowips.yaml", 4, 11, 'route "api-build" has neither a secret nor auth.allowIps'],
      ["secret-value-github-token.yaml", 7, 13, "secret: this looks like a secret value (a GitHub token)"],
      ["secret-value-hex.yaml", 7, 13, "this looks like a secret value (a long hexadecimal string)"],
      ["secret-value-whitespace.yaml", 7, 13, "a secret name cannot contain whitespace"],
      [
        "url-with-password.yaml",
        4,
        19,
        "defaults.jenkins.url: a URL must not contain a user name or password",
      ],
      [
        "unknown-action-type.yaml",
        8,
        21,
        'action.type: "jenkins-build" is not one of jenkins, s3-zip, pr-cleanup',
      ],
      [
        "unknown-provider.yaml",
        7,
        15,
        '"githab" is not one of github, gitlab, bitbucket, bitbucket-server, gitea; did you mean "github"?',
      ],
      [
        "step-two-keys.yaml",
        14,
        11,
        "a step must have exactly one key (delete-branch, delete-s3-prefix or jenkins), this one has 2",
      ],
      ["version-2.yaml", 1, 10, "version must be 1, not 2"],
      [
        "jenkins-no-target.yaml",
        7,
        21,
        "needs a Jenkins controller: set jenkins (top level), defaults.jenkins",
      ],
      [
        "s3zip-no-token.yaml",
        8,
        21,
        "s3-zip needs an API token for github: set the action's token or providers.github.token",
      ],
      ["gitea-no-api-url.yaml", 9, 15, "s3-zip needs the gitea API: set providers.gitea.apiUrl"],
      [
        "bitbucket-server-api-url.yaml",
        6,
        31,
        "the Bitbucket Data Center API URL ends with /rest/api/latest (or /rest/api/1.0)",
      ],
    ];
    for (const [fixture, line, col, fragment] of cases) {
      it(`broken/${fixture} is reported at ${line}:${col}: …${fragment.slice(0, 50)}…`, () => {
        const { config, problems } = parseFixture(join("broken", fixture));
        expect(config).to.equal(undefined);
        expect(problems, JSON.stringify(problems, null, 2)).to.have.length(1);
        const [problem] = problems;
        expect(problem?.file).to.equal(join("broken", fixture));
        expect([problem?.line, problem?.col]).to.deep.equal([line, col]);
        expect(problem?.message).to.include(fragment);
      });
    }
  });

  it("parseRoutes never echoes a secret value pasted where a secret name belongs", () => {
    const values = [
      ["secret-value-github-token.yaml", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"],
      ["secret-value-hex.yaml", "3f786850e387550fdab836ed7e6dc881de23001b"],
      ["secret-value-whitespace.yaml", "s3cr3t value"],
      ["url-with-password.yaml", "hunter2"],
    ];
    for (const [fixture, value] of values) {
      const { problems } = parseFixture(join("broken", fixture as string));
      expect(problems).to.have.length(1);
      expect(problems[0]?.message).not.to.include(value as string);
    }
  });

  it("parseRoutes reports every problem of a file at once, in position order", () => {
    const { config, problems } = parseFixture("many-problems.yaml");
    expect(config).to.equal(undefined);
    const got = problems.map((p) => `${p.line}:${p.col}`);
    const expected: Array<[string, string]> = [
      ["1:10", "version must be 1"],
      ["2:1", 'unknown key "colour"'],
      ["4:11", "looks like a secret value (a GitHub token)"],
      ["6:11", 'route name "Api_Build" is not valid'],
      ["9:7", 'unknown key "brnaches"'],
      ["10:15", "match.events: must be a list"],
      ["13:17", 'unknown template field "brnach"'],
      ["14:23", "must not contain a user name or password"],
      ["14:59", "a secret name cannot contain whitespace"],
      ["16:24", "has host bits set"],
      ["16:37", '"300.1.1.1/8" is not a CIDR'],
      ["16:50", '"::1" is an address, not a CIDR; write ::1/128'],
      ["17:22", 'glob "acme/[api" has an unclosed bracket'],
      ["18:21", '"s3-zipp" is not one of jenkins, s3-zip, pr-cleanup; did you mean "s3-zip"?'],
      ["19:11", 'duplicate route name "zip"'],
      ["20:15", "pr-cleanup needs the gitea API"],
      ["23:13", "pr-cleanup needs an API token for gitea"],
      ["26:11", "a step must have exactly one key"],
      ["26:20", "needs a Jenkins controller"],
      ["27:39", '"Bad_Bucket" is not a valid S3 bucket name'],
      ["27:60", 'unknown template field "nope"'],
      ["28:20", "needs a Jenkins controller"],
      ["28:27", 'job "/x//" has an empty folder'],
      ["29:5", 'routes[3]: missing required key "name"'],
      ["30:21", "s3-zip needs an API token for github"],
      ["30:34", "action.key: must be text, not a whole number"],
    ];
    expect(got).to.deep.equal(expected.map(([at]) => at));
    expected.forEach(([, fragment], i) => {
      expect(problems[i]?.message).to.include(fragment);
    });
  });

  it("parseRoutes reports a duplicate key together with the file's other problems, not alone", () => {
    const text = [
      "version: 1",
      "defaults: { secret: ghp_16C7e42F292c6912E7710c838347Ae178B4a }",
      "jenkins: { url: https://jenkins.example.com, credentials: hookgate/jenkins }",
      "routes:",
      "  - name: a",
      "    match: { repos: [acme/api], repos: [acme/web], events: [push] }",
      '    action: { type: jenkins, job: x, parameters: { B: "{{brnach}}" } }',
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(config).to.equal(undefined);
    expect(problems.map((p) => `${p.line}:${p.col}`)).to.deep.equal(["2:21", "6:33", "7:56"]);
    expect(problems[1]?.message).to.equal("YAML: duplicate key; a key may appear once in a map");
  });

  it("parseRoutes takes a number in Jenkins parameters as it is written (1.10, 0755, 0x1F, a 20-digit id)", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "routes:",
      "  - name: a",
      "    match: { repos: [acme/api], events: [push] }",
      "    action:",
      "      type: jenkins",
      "      job: x",
      "      parameters: { V: 1.10, M: 0755, H: 0x1F, ID: 12345678901234567890, N: 3, T: true }",
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(problems).to.deep.equal([]);
    const action = config?.routes[0]?.action as { parameters: Record<string, string> };
    expect(action.parameters).to.deep.equal({
      V: "1.10",
      M: "0755",
      H: "0x1F",
      ID: "12345678901234567890",
      N: "3",
      T: "true",
    });
  });

  it("parseRoutes keeps a parameter number as written when it comes through an alias or a merge", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "x-params: &p { VERSION: 1.10, MODE: 0755, SHA: '{{sha}}' }",
      "x-more: &more { <<: *p, BUILD: 007 }",
      "x-wait: &wait 300",
      "routes:",
      "  - name: alias",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: *p }",
      "  - name: merge",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: { <<: *p, VERSION: 2.10, EXTRA: 1.20 } }",
      "  - name: nested-and-list",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: { <<: [*more, { ID: 0x1F }], WAIT: *wait } }",
      "  - name: shared-anchor",
      "    auth: { toleranceSeconds: *wait }",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: { SHA: '{{sha}}' } }",
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(problems).to.deep.equal([]);
    const parameters = config?.routes.map((route) => (route.action as { parameters: unknown }).parameters);
    expect(parameters).to.deep.equal([
      { VERSION: "1.10", MODE: "0755", SHA: "{{sha}}" },
      { VERSION: "2.10", MODE: "0755", SHA: "{{sha}}", EXTRA: "1.20" },
      { VERSION: "1.10", MODE: "0755", SHA: "{{sha}}", BUILD: "007", ID: "0x1F", WAIT: "300" },
      { SHA: "{{sha}}" },
    ]);
    // The anchor itself is untouched: used as a number elsewhere, it stays a number.
    expect(config?.routes[3]?.auth.toleranceSeconds).to.equal(300);
  });

  it("parseRoutes keeps a route's inline-anchored parameters, and their numbers, for a later route that reuses or merges them", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "routes:",
      "  - name: a",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: &p { SHA: '{{sha}}', V: 1.10, M: &m 0755 } }",
      "  - name: b",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: { <<: *p, X: 1 } }",
      "  - name: c",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: *p }",
      "  - name: d",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: { MODE: *m } }",
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(problems).to.deep.equal([]);
    const parameters = config?.routes.map((route) => (route.action as { parameters: unknown }).parameters);
    expect(parameters).to.deep.equal([
      { SHA: "{{sha}}", V: "1.10", M: "0755" },
      { SHA: "{{sha}}", V: "1.10", M: "0755", X: "1" },
      { SHA: "{{sha}}", V: "1.10", M: "0755" },
      { MODE: "0755" },
    ]);
  });

  describe("parseRoutes keeps a parameter number as written when the map holding the parameters is merged from an anchor", () => {
    const head = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "providers: { github: { token: hookgate/token } }",
    ];
    // [what, lines after the head]
    const cases: Array<[string, string[]]> = [
      [
        "an action merged with <<",
        [
          "x-build: &build { type: jenkins, job: x, parameters: { VERSION: 1.10, MODE: 0755 } }",
          "routes:",
          "  - name: a",
          "    match: { repos: [acme/api] }",
          "    action: { <<: *build }",
        ],
      ],
      [
        "an action merged from a list, with its own keys",
        [
          "x-type: &type { type: jenkins }",
          "x-params: &params { job: x, parameters: { VERSION: 1.10, MODE: 0755 } }",
          "routes:",
          "  - name: a",
          "    match: { repos: [acme/api] }",
          "    action: { <<: [*type, *params], job: y }",
        ],
      ],
      [
        "a whole route merged with <<",
        [
          "x-route: &route",
          "  match: { repos: [acme/api] }",
          "  action: { type: jenkins, job: x, parameters: { VERSION: 1.10, MODE: 0755 } }",
          "routes:",
          "  - <<: *route",
          "    name: a",
        ],
      ],
      [
        "a pr-cleanup jenkins step merged with <<",
        [
          "x-teardown: &teardown { job: x, parameters: { VERSION: 1.10, MODE: 0755 } }",
          "routes:",
          "  - name: a",
          "    match: { repos: [acme/api] }",
          "    action: { type: pr-cleanup, steps: [{ jenkins: { <<: *teardown } }] }",
        ],
      ],
    ];
    for (const [what, lines] of cases) {
      it(`parseRoutes reads VERSION: 1.10 as "1.10" and MODE: 0755 as "0755" through ${what}`, () => {
        const { config, problems } = parseRoutes([...head, ...lines].join("\n"), "routes.yaml");
        expect(problems).to.deep.equal([]);
        const action = config?.routes[0]?.action;
        const parameters =
          action?.type === "pr-cleanup"
            ? (action.steps[0] as { parameters?: unknown }).parameters
            : (action as { parameters?: unknown }).parameters;
        expect(parameters).to.deep.equal({ VERSION: "1.10", MODE: "0755" });
      });
    }
  });

  it("parseRoutes reads parameters that merge a chain of maps each merging the two before it, without walking the chain exponentially", () => {
    // 2^24 walks without a memo: this would not finish within the test's timeout.
    const chain = ["x-a0: &a0 { A: 1 }", "x-b0: &b0 { B: 2 }"];
    for (let k = 1; k <= 24; k++) {
      chain.push(
        `x-a${k}: &a${k} { <<: [*a${k - 1}, *b${k - 1}] }`,
        `x-b${k}: &b${k} { <<: [*a${k - 1}, *b${k - 1}] }`,
      );
    }
    const text = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      ...chain,
      "routes:",
      "  - name: a",
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: x, parameters: *a24 }",
    ].join("\n");
    // The values each link stands for double: the file is refused at the alias where they pass the limit.
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([
      "29:20: YAML: too many aliases: by *a12, the values the aliases add (each stands for every value under its anchor, the aliases there too) pass 100,000, the limit that guards against an alias bomb; use fewer aliases, or nest fewer in one another",
    ]);
  });

  for (const [what, line] of [
    ["version", "version: &v [*v]"],
    [
      "an action's type",
      "version: 1\nroutes:\n  - name: a\n    match: {}\n    action: { type: &t [*t], job: x }",
    ],
  ] as const) {
    it(`parseRoutes reports a list that contains itself (an alias inside its own anchor) in ${what} as one positioned line, never an internal error`, () => {
      const { problems } = parseRoutes(line, "routes.yaml");
      expect(problems.length).to.be.greaterThan(0);
      for (const problem of problems) {
        expect(problem.message).not.to.include("\n");
        expect(problem.message).not.to.match(/internal error|circular/i);
      }
    });
  }

  it("parseRoutes shows a version that is no string as JSON clipped to 60 characters", () => {
    const numbers = Array.from({ length: 10 }, (_, i) => `${i + 1}`.repeat(10).slice(0, 10));
    const { problems } = parseRoutes(`version: [${numbers.join(", ")}]\nroutes: []\n`, "routes.yaml");
    const version = problems.find((p) => p.message.startsWith("version must be 1"));
    // 111 characters of JSON: the first 60, then the ellipsis.
    expect(version?.message).to.equal(
      "version must be 1, not [1111111111,2222222222,3333333333,4444444444,5555555555,6666… (this hookgate reads version 1)",
    );
  });

  it("parseRoutes counts no column for a byte-order mark: a problem on line 1 is where an editor shows it", () => {
    const { problems } = parseRoutes("\uFEFFversion: 2\nroutes: []", "routes.yaml");
    const version = problems.find((p) => p.message.startsWith("version must be 1"));
    expect([version?.line, version?.col]).to.deep.equal([1, 10]);
  });

  it("parseRoutes keeps providers.github.apiUrl (GitHub Enterprise Server) for the stack's webhooks, and nothing for github.com", () => {
    const routes = [
      "routes:",
      "  - name: a",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: { type: jenkins, job: x }",
    ];
    const head =
      "version: 1\ndefaults: { secret: hookgate/gh, jenkins: { url: https://j.example.com, credentials: hookgate/j } }";
    const ghes = parseRoutes(
      [head, "providers: { github: { apiUrl: https://ghe.example.com/api/v3/ } }", ...routes].join("\n"),
      "routes.yaml",
    );
    expect(ghes.problems).to.deep.equal([]);
    expect(ghes.config?.githubApiUrl).to.equal("https://ghe.example.com/api/v3");
    expect(parseRoutes([head, ...routes].join("\n"), "routes.yaml").config?.githubApiUrl).to.equal(undefined);
  });

  it("parseRoutes checks a delete-s3-prefix step's bucket name like an s3-zip bucket", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
      "providers: { github: { token: t/gh } }",
      "routes:",
      "  - name: a",
      "    match: {}",
      "    action: { type: pr-cleanup, steps: [ { delete-s3-prefix: { bucket: my..bucket, prefix: 'p/{{repo.path}}/pr-{{pr.number}}/' } } ] }",
    ].join("\n");
    const { problems } = parseRoutes(text, "routes.yaml");
    expect(problems.map((p) => p.message)).to.deep.equal([
      'route "a" action.steps[0].delete-s3-prefix.bucket: "my..bucket" is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)',
    ]);
  });

  it("parseRoutes takes an s3-zip action's serverSideEncryption and kmsKeyId, and refuses another encryption, a key that is not a key ARN, or a kmsKeyId without aws:kms", () => {
    const KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const file = (action: string) =>
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        `    action: { type: s3-zip, ${action} }`,
      ].join("\n");
    const ok = parseRoutes(file(`serverSideEncryption: aws:kms, kmsKeyId: "${KEY}"`), "routes.yaml");
    expect(ok.problems).to.deep.equal([]);
    expect(ok.config?.routes[0]?.action).to.deep.include({ serverSideEncryption: "aws:kms", kmsKeyId: KEY });
    const aes = parseRoutes(file("serverSideEncryption: AES256"), "routes.yaml");
    expect(aes.problems).to.deep.equal([]);
    expect(aes.config?.routes[0]?.action).to.deep.include({ serverSideEncryption: "AES256" });
    expect(aes.config?.routes[0]?.action).not.to.have.property("kmsKeyId");
    const problems = (action: string) =>
      parseRoutes(file(action), "routes.yaml").problems.map((p) => p.message);
    expect(problems("serverSideEncryption: aws:kms:dsse")).to.have.length(1);
    expect(problems("serverSideEncryption: aws:kms:dsse")[0]).to.contain("serverSideEncryption");
    expect(problems("serverSideEncryption: aws:kms, kmsKeyId: alias/builds")).to.deep.equal([
      'route "a" action.kmsKeyId: "alias/builds" is not a KMS key ARN (like arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab): the route\'s role is granted the key by its ARN, which IAM matches against no alias or key id',
    ]);
    expect(problems(`kmsKeyId: "${KEY}"`)).to.deep.equal([
      'route "a" action.kmsKeyId: kmsKeyId names the KMS key of serverSideEncryption aws:kms: add serverSideEncryption: aws:kms',
    ]);
  });

  it("parseRoutes refuses an s3-zip route matching only tags whose key has a folder a tag push leaves empty (the default key's branch), and accepts a {{tag}} key or a route that also matches branches", () => {
    const file = (match: string, action: string) =>
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: release",
        `    match: ${match}`,
        `    action: ${action}`,
      ].join("\n");
    const problems = (match: string, action: string) =>
      parseRoutes(file(match, action), "routes.yaml").problems.map((p) => `${p.line}:${p.col} ${p.message}`);
    const tagsOnly = "{ repos: [acme/api], tags: ['v*'] }";
    const defaultKey = problems(tagsOnly, "{ type: s3-zip }");
    expect(defaultKey).to.have.length(1);
    expect(defaultKey[0]).to.match(
      /^7:21 route "release" action\.type: this route takes only tags, .*the default key's \{\{branch\.path\}\} folder is empty, so every delivery fails; write key: /,
    );
    const ownKey = problems(tagsOnly, '{ type: s3-zip, key: "zips/{{branch}}/{{sha}}.zip" }');
    expect(ownKey).to.have.length(1);
    expect(ownKey[0]).to.match(
      /^7:34 route "release" action\.key: this route takes only tags, .*the key has an empty folder/,
    );
    expect(
      problems(
        tagsOnly,
        '{ type: s3-zip, key: "{{repo.path}}/tag/{{tag}}/{{repo.underscored}}_{{tag}}.zip" }',
      ),
    ).to.deep.equal([]);
    // A branch field beside the tag leaves each tag its own key: odd, not broken.
    expect(problems(tagsOnly, '{ type: s3-zip, key: "zips/{{tag}}{{branch}}.zip" }')).to.deep.equal([]);
    expect(
      problems("{ repos: [acme/api], tags: ['v*'], branches: [main] }", "{ type: s3-zip }"),
    ).to.deep.equal([]);
    expect(problems("{ repos: [acme/api] }", "{ type: s3-zip }")).to.deep.equal([]);
  });

  it("parseRoutes refuses an s3-zip route matching only tags whose key has {{branch}} in a file name: the upload succeeds, at a key every tag shares, each overwriting the last", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hooks/s }",
      "providers: { github: { token: t/gh } }",
      "routes:",
      "  - name: zip-tags",
      "    match: { repos: [acme/api], events: [push], tags: ['v*'] }",
      '    action: { type: s3-zip, key: "{{repo.path}}/builds/{{branch}}.zip" }',
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(config).to.equal(undefined);
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).to.deep.equal([
      '7:34 route "zip-tags" action.key: this route takes only tags, where {{branch}} is empty: the key is ' +
        '"acme/api/builds/.zip" for every tag, each overwriting the last; write key: ' +
        '"{{repo.path}}/tag/{{tag}}/{{repo.underscored}}_{{tag}}.zip"',
    ]);
  });

  it("parseRoutes accepts an s3-zip route matching one tag (a literal, exclusions or not) whose key is the same for every tag, and notes nothing of it: no other tag writes that key; a key with an empty folder is still refused", () => {
    const file = (tags: string, key: string) =>
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: zip-tag",
        `    match: { repos: [acme/api], events: [push], tags: ${tags} }`,
        `    action: { type: s3-zip, key: "${key}" }`,
      ].join("\n");
    for (const tags of ["[v1.0.0]", "['v1.0.0', '!v2*']", "[v1.0.0], branches: [main]"]) {
      const { config, problems } = parseRoutes(
        file(tags, "{{repo.path}}/builds/{{branch}}.zip"),
        "routes.yaml",
      );
      expect(problems, tags).to.deep.equal([]);
      expect(routeNotes(config?.routes ?? []).filter((note) => note.includes("every tag"))).to.deep.equal([]);
    }
    // Two tags, or a glob, share the key.
    for (const tags of ["[v1.0.0, v2.0.0]", "['v1.*']"]) {
      const { problems } = parseRoutes(file(tags, "{{repo.path}}/builds/{{branch}}.zip"), "routes.yaml");
      expect(problems.map((p) => p.message).join(), tags).to.include(
        "for every tag, each overwriting the last",
      );
    }
    const empty = parseRoutes(file("[v1.0.0]", "{{repo.path}}/{{branch}}/source.zip"), "routes.yaml");
    expect(empty.problems.map((p) => p.message).join()).to.include("the key has an empty folder");
  });

  it("parseRoutes accepts an s3-zip route matching only tags with deleted: true and the default key: s3-zip skips each deletion before it renders the key, and check notes the route instead", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hooks/s }",
      "providers: { github: { token: t/gh } }",
      "routes:",
      "  - name: release",
      "    match: { repos: [acme/api], tags: ['v*'], deleted: true }",
      "    action: { type: s3-zip }",
    ].join("\n");
    const parsed = parseRoutes(text, "routes.yaml");
    expect(parsed.problems).to.deep.equal([]);
    expect(routeNotes(parsed.config?.routes ?? [])).to.deep.equal([
      "route release: s3-zip zips pushed commits only and skips a push that deleted its ref, and this route's deleted: true takes deletions only: every delivery it matches is skipped; " +
        'drop deleted and put {{tag}} in the key, as in key: "{{repo.path}}/tag/{{tag}}/{{repo.underscored}}_{{tag}}.zip" (a folder of this key is empty for a tag push, which check refuses on a tags-only route without deleted)',
    ]);
  });

  describe("an S3 key or prefix whose own text has an empty folder is refused at check time", () => {
    const file = (match: string, action: string) =>
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: zip",
        `    match: ${match}`,
        `    action: ${action}`,
      ].join("\n");
    const folder = 'has an empty folder (a "/" at its start or end, or "//")';
    const any = "{ repos: [acme/api] }";
    // [match, action, line:col, message]
    const cases: Array<[string, string, string, string]> = [
      [
        any,
        '{ type: s3-zip, key: "/builds/{{repo}}/{{sha}}.zip" }',
        "7:34",
        `route "zip" action.key: the key ${folder}, so every delivery would fail: write 'builds/{{repo}}/{{sha}}.zip'`,
      ],
      [
        any,
        '{ type: s3-zip, key: "builds//{{sha}}.zip" }',
        "7:34",
        `route "zip" action.key: the key ${folder}, so every delivery would fail: write 'builds/{{sha}}.zip'`,
      ],
      [
        any,
        '{ type: s3-zip, key: "builds/{{sha}}/" }',
        "7:34",
        `route "zip" action.key: the key ${folder}, so every delivery would fail: write 'builds/{{sha}}'`,
      ],
      // Said as it is, not as a folder a tag push leaves empty.
      [
        "{ repos: [acme/api], tags: ['v*'] }",
        '{ type: s3-zip, key: "/builds/{{tag}}.zip" }',
        "7:34",
        `route "zip" action.key: the key ${folder}, so every delivery would fail: write 'builds/{{tag}}.zip'`,
      ],
      [
        any,
        '{ type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "/{{repo}}/pr-{{pr.number}}/" } }] }',
        "7:89",
        `route "zip" action.steps[0].delete-s3-prefix.prefix: the prefix has an empty folder (a "/" at its start, or "//"), so it would delete nothing: write '{{repo}}/pr-{{pr.number}}/'`,
      ],
      [
        any,
        '{ type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "{{repo.path}}/pr-{{pr.number}}" } }] }',
        "7:89",
        `route "zip" action.steps[0].delete-s3-prefix.prefix: the prefix ends with a field, so it is also the start of longer values' folders (pr-1 of pr-10/, pr-11/, …), whose objects it would delete too: end it with "/": '{{repo.path}}/pr-{{pr.number}}/'`,
      ],
    ];
    for (const [match, action, at, message] of cases) {
      it(`parseRoutes reports ${action} at ${at}`, () => {
        const { config, problems } = parseRoutes(file(match, action), "routes.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([`${at}: ${message}`]);
      });
    }
  });

  describe("a delete-s3-prefix prefix that names no pull request (its number, head branch or commit, a payload field) is refused at check time: it is the same for every pull request, whose closing would delete the others' objects", () => {
    const file = (prefix: string, provider = "github") =>
      [
        "version: 1",
        `defaults: { secret: hooks/s, provider: ${provider} }`,
        `providers: { ${provider}: { token: t/gh${apiUrl(provider)} } }`,
        "routes:",
        "  - name: cleanup",
        "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
        `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
      ].join("\n");
    const refused = (why: string, suggestion: string) =>
      `7:89: route "cleanup" action.steps[0].delete-s3-prefix.prefix: no {{pr.number}}, head branch or commit: ` +
      `all pull requests${why} share it, so closing one deletes the others' objects; write ` +
      `'${suggestion}'`;
    const cases: Array<[string, string]> = [
      ["{{repo.path}}/", refused(" of the repository", "{{repo.path}}/pr-{{pr.number}}/")],
      ["previews/{{repo.name}}/", refused(" of the repository", "previews/{{repo.name}}/pr-{{pr.number}}/")],
      ["previews", refused(" of the repository", "previews/{{repo.path}}/pr-{{pr.number}}/")],
      // On a closed pull request {{branch}} is its base branch, which every pull request into it shares.
      [
        "{{repo.path}}/{{branch}}/",
        refused(" into that base branch", "previews/{{repo.path}}/pr-{{pr.number}}/"),
      ],
      ["p/{{ pr.baseRef }}/", refused(" into that base branch", "p/{{ pr.baseRef }}/pr-{{pr.number}}/")],
      ["{{repo.path}}/{{actor}}/", refused(" of the repository", "previews/{{repo.path}}/pr-{{pr.number}}/")],
      // A payload field of the base, the repository or the sender is shared by other pull requests too.
      [
        "previews/{{payload.repository.full_name}}/",
        refused(" of the repository", "previews/{{repo.path}}/pr-{{pr.number}}/"),
      ],
      [
        "p/{{payload.pull_request.base.ref}}/",
        refused(" of the repository", "previews/{{repo.path}}/pr-{{pr.number}}/"),
      ],
      // A field of the head's repository or its owner, or of the author: every pull request from that repository
      // (or by that author) shares it, as {{pr.headRepoFullName}} (review h424).
      ...[
        "{{payload.pull_request.head.repo.full_name}}",
        "{{payload.pull_request.head.user.login}}",
        "{{payload.pull_request.user.login}}",
        "{{payload.object_attributes.source.path_with_namespace}}",
        "{{payload.object_attributes.last_commit.author.email}}",
        "{{payload.pullrequest.source.repository.full_name}}",
        "{{payload.pullrequest.author.nickname}}",
        "{{payload.pullRequest.fromRef.repository.slug}}",
      ].map((field): [string, string] => [
        `p/${field}/`,
        refused(
          " of the repository",
          `p/${field}/pr-{{pr.number}}/`.length <= 40
            ? `p/${field}/pr-{{pr.number}}/`
            : "previews/{{repo.path}}/pr-{{pr.number}}/",
        ),
      ]),
    ];
    for (const [prefix, message] of cases) {
      it(`parseRoutes refuses the prefix ${prefix}`, () => {
        const { config, problems } = parseRoutes(file(prefix), "routes.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([message]);
      });
    }

    // The number, or the head branch or commit, or a payload field (its id): each names one pull request, if
    // loosely (check's notes say what a branch or a payload field leaves open); a per-branch preview is common.
    // Each on a route of the host whose payload has the field.
    for (const [prefix, provider] of [
      ["{{repo.path}}/pr-{{pr.number}}/", "github"],
      ["previews/{{ pr.number }}/{{repo.name}}/", "github"],
      // {{pr.headRef.path}}/ ending it is refused: feature/ holds feature/login's (branchPrefixes.test.ts).
      ["{{repo.path}}/branch/{{pr.headRef}}/", "github"],
      ["{{repo.path}}/{{pr.headSha}}/", "github"],
      ["{{repo.path}}/{{ payload.pull_request.id }}/", "github"],
      ["{{repo.path}}/{{payload.number}}/", "github"],
      ["{{repo.path}}/{{payload.number}}/", "gitea"],
      ["{{repo.path}}/{{payload.object_attributes.iid}}/", "gitlab"],
      ["{{repo.path}}/{{payload.pullrequest.source.branch.name}}/", "bitbucket"],
      ["{{repo.path}}/{{payload.pullRequest.fromRef.displayId}}/", "bitbucket-server"],
      ["{{repo.path}}/{{payload.pull_request.head.sha}}/", "github"],
      ["{{repo.path}}/{{ payload.pull_request.head.ref }}/", "gitea"],
      ["{{repo.path}}/{{payload.object_attributes.source_branch}}/", "gitlab"],
      ["{{repo.path}}/{{payload.object_attributes.last_commit.id}}/", "gitlab"],
      ["{{repo.path}}/{{payload.pullrequest.source.commit.hash}}/", "bitbucket"],
      ["{{repo.path}}/{{payload.pullRequest.fromRef.latestCommit}}/", "bitbucket-server"],
      ["{{repo.path}}/{{payload.pullRequest.links.self.0.href}}/", "bitbucket-server"],
    ]) {
      it(`parseRoutes takes the prefix ${prefix} on a ${provider} route, which names the pull request or its head`, () => {
        const { config, problems } = parseRoutes(file(prefix as string, provider), "routes.yaml");
        expect(problems).to.deep.equal([]);
        expect(config?.routes).to.have.length(1);
      });
    }

    // Another host's field is not in the payload and renders empty, so every pull request shares the prefix
    // (review h438): GitLab's merge request has no pull_request, Gitea's pull request no node_id.
    for (const [prefix, provider] of [
      ["{{repo.path}}/pr-{{payload.pull_request.number}}/", "gitlab"],
      ["{{repo.path}}/pr-{{ payload.number }}/", "bitbucket"],
      ["{{repo.path}}/pr-{{payload.object_attributes.iid}}/", "github"],
      ["{{repo.path}}/pr-{{payload.pullrequest.id}}/", "bitbucket-server"],
      ["{{repo.path}}/pr-{{payload.pullRequest.id}}/", "bitbucket"],
      ["{{repo.path}}/pr-{{payload.pull_request.node_id}}/", "gitea"],
    ]) {
      it(`parseRoutes refuses the prefix ${prefix} on a ${provider} route, whose payload has no such field`, () => {
        const { config, problems } = parseRoutes(file(prefix as string, provider), "routes.yaml");
        const field = (/\{\{[^}]*payload[^}]*\}\}/.exec(prefix as string)?.[0] ?? "").replace(/\s+/g, "");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => p.message)).to.deep.equal([
          `route "cleanup" action.steps[0].delete-s3-prefix.prefix: ${field} renders empty (not in a ${provider} ` +
            "payload): closing any pull request deletes every other's objects; write " +
            "'previews/{{repo.path}}/pr-{{pr.number}}/'",
        ]);
      });
    }
  });

  describe("an S3 key or prefix holding a control character is refused at check time, naming it and where it is", () => {
    const file = (action: string) =>
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: zip",
        "    match: { repos: [acme/api] }",
        `    action: ${action}`,
      ].join("\n");
    const advice = "remove it (AWS advises against it in S3 keys: listings are XML)";
    // [action, line:col, message]
    const cases: Array<[string, string, string]> = [
      [
        '{ type: s3-zip, key: "builds/\\t{{sha}}.zip" }',
        "7:34",
        `route "zip" action.key: the key "builds/\\t{{sha}}.zip" holds U+0009 (tab) at character 8: ${advice}`,
      ],
      [
        '{ type: s3-zip, key: "x\\e[2Jy.zip" }',
        "7:34",
        `route "zip" action.key: the key "x\\u001b[2Jy.zip" holds U+001B (escape) at character 2: ${advice}`,
      ],
      [
        '{ type: s3-zip, key: "a\\x7f.zip" }',
        "7:34",
        `route "zip" action.key: the key "a\\u007f.zip" holds U+007F (delete, DEL) at character 2: ${advice}`,
      ],
      [
        '{ type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "{{repo}}/pr-{{pr.number}}/\\0" } }] }',
        "7:89",
        `route "zip" action.steps[0].delete-s3-prefix.prefix: the prefix "{{repo}}/pr-{{pr.number}}/\\u0000" holds U+0000 (NUL) at character 27: ${advice}`,
      ],
    ];
    for (const [action, at, message] of cases) {
      it(`parseRoutes reports ${action} at ${at}`, () => {
        const { config, problems } = parseRoutes(file(action), "routes.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([`${at}: ${message}`]);
      });
    }

    it("parseRoutes accepts a key with a no-break space or letters beyond ASCII, which S3 keys may hold", () => {
      const { problems } = parseRoutes(
        file('{ type: s3-zip, key: "builds/grüße\u00a0{{sha}}.zip" }'),
        "routes.yaml",
      );
      expect(problems).to.deep.equal([]);
    });
  });

  describe("a number or true/false where text belongs is reported with the quotes that make it text", () => {
    const head = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "routes:",
    ];
    // [route lines, problems as line:col: message]
    const cases: Array<[string[], string[]]> = [
      [
        [
          "  - name: a",
          "    match: { branches: [1.10, 2024, true] }",
          "    action: { type: jenkins, job: x }",
        ],
        [
          '5:25: route "a" match.branches[0]: must be text, not a number; to mean the text, quote it: "1.10"',
          '5:31: route "a" match.branches[1]: must be text, not a whole number; to mean the text, quote it: "2024"',
          '5:37: route "a" match.branches[2]: must be text, not true/false; to mean the text, quote it: "true"',
        ],
      ],
      [
        ["  - name: 0123", "    match: {}", "    action: { type: jenkins, job: 0x10 }"],
        [
          '4:11: routes[0] name: must be text, not a whole number; to mean the text, quote it: "0123"',
          '6:35: routes[0] action.job: must be text, not a whole number; to mean the text, quote it: "0x10"',
        ],
      ],
      // A number where a secret's name belongs may be the secret itself: never shown.
      [
        ["  - name: a", "    secret: 8462917465", "    match: {}", "    action: { type: jenkins, job: x }"],
        ['5:13: route "a" secret: must be text, not a whole number'],
      ],
    ];
    for (const [lines, expected] of cases) {
      it(`parseRoutes reports ${JSON.stringify(lines.join(" ").replace(/\s+/g, " "))}`, () => {
        const { problems } = parseRoutes([...head, ...lines].join("\n"), "routes.yaml");
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
      });
    }
  });

  it("parseRoutes names a second YAML document plainly", () => {
    const { problems } = parseRoutes("version: 1\nroutes: []\n---\nx: 1\n", "routes.yaml");
    expect(problems.map((p) => p.message)).to.deep.equal([
      "YAML: more than one YAML document (a --- line after the first); keep routes.yaml one document",
    ]);
  });

  describe("a quote that is never closed is reported where it opens, not at the end of the file", () => {
    const head = ["version: 1", "defaults: { secret: hookgate/gh }", "routes:", "  - name: a"];
    const tail = ["  - name: b", "    match: {}", "    action: { type: jenkins, job: y }", ""];
    // The "}" the quote takes in is the one more YAML error: the quote is said, though the "{" opens before it.
    const more = " (1 more YAML error after it, often caused by this one)";
    // [the line written after the head, line and column of its opening quote, message]
    const cases: Array<[string, number, number, string]> = [
      ['    action: { type: jenkins, job: "api/build }', 5, 35, `YAML: Missing closing "quote${more}`],
      ["    action: { type: jenkins, job: 'api/build }", 5, 35, `YAML: Missing closing 'quote${more}`],
      ['    description: "builds the api', 5, 18, 'YAML: Missing closing "quote'],
    ];
    for (const [line, at, col, message] of cases) {
      it(`parseRoutes reports ${JSON.stringify(line.trim())} at ${at}:${col}`, () => {
        const text = [...head, line, ...tail].join("\n");
        const { config, problems } = parseRoutes(text, "routes.yaml");
        expect(config).to.equal(undefined);
        const quote = problems.filter((p) => p.message.startsWith("YAML: Missing closing"));
        const [said, after = ""] = message.split(" (");
        expect(quote.map((p) => [p.line, p.col, p.message])).to.deep.equal([
          [at, col, `${said}: the text quoted here is never closed${after && ` (${after}`}`],
        ]);
      });
    }

    // Other MISSING_CHAR errors can sit right after a closed quote: they keep their own place and message.
    const closed: Array<[string, number, number, string]> = [
      ['    secret: "hookgate/gh"# the webhook secret', 5, 26, "YAML: Comments must be separated"],
      ['    match: { repos: ["acme/api""acme/web"] }', 5, 32, "YAML: Missing , or : between flow"],
    ];
    for (const [line, at, col, message] of closed) {
      it(`parseRoutes reports ${JSON.stringify(line.trim())} at ${at}:${col}, not as an unclosed quote`, () => {
        const text = [...head, line, ...tail].join("\n");
        const { problems } = parseRoutes(text, "routes.yaml");
        const found = problems.filter((p) => p.message.startsWith(message));
        expect(found.map((p) => [p.line, p.col])).to.deep.equal([[at, col]]);
        expect(problems.filter((p) => p.message.includes("never closed"))).to.deep.equal([]);
      });
    }
  });

  describe("a flow map or list without its } or ] is reported where it opens, not on a line after it", () => {
    const head = ["version: 1", "defaults: { secret: hookgate/gh }", "routes:", "  - name: a"];
    const tail = ["  - name: b", "    match: {}", "    action: { type: jenkins, job: y }", ""];
    const map = "YAML: Flow map in block collection must be sufficiently indented and end with a }";
    const list = "YAML: Flow sequence in block collection must be sufficiently indented and end with a ]";
    const more = (n: number) =>
      ` (${n} more YAML error${n === 1 ? "" : "s"} after it, often caused by this one)`;
    // [the line written after the head, every problem as line:col: message]
    const cases: Array<[string, string[]]> = [
      ["    action: { type: jenkins, job: x", [`5:13: ${map}${more(2)}`]],
      // The list opened inside the map lacks its "]": the map's "}" was taken by it. Only the list is said.
      ["    match: { repos: [acme/api }", [`5:21: ${list}${more(3)}`]],
      [
        "    match: { repos: [acme/api] }\n    action: { type: jenkins, job: x, parameters: { A: 1 }",
        [`6:13: ${map}${more(2)}`],
      ],
      // A map and a list that end at one place: the list, opened last, where it opens.
      ["    action: { type: jenkins, job: x, parameters: [ A", [`5:50: ${list}${more(3)}`]],
      // Two maps that end at one place are one mistake as far as the reader can tell: said once, at the outer.
      ["    action: { type: jenkins, job: x, parameters: { A: 1", [`5:13: ${map}${more(2)}`]],
    ];
    for (const [line, expected] of cases) {
      it(`parseRoutes reports ${JSON.stringify(line.trim())} at ${expected.map((e) => e.split(": ")[0]).join(", ")}`, () => {
        const { config, problems } = parseRoutes([...head, line, ...tail].join("\n"), "routes.yaml");
        expect(config).to.equal(undefined);
        // What yaml makes of the lines after it varies; the unended map or list is said once, where it opens.
        const flow = problems.filter((p) => p.message.startsWith("YAML: Flow"));
        expect(flow.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
      });
    }

    // The whole file one flow map or list: yaml says so at the end of the file, with a message of its own.
    const whole: Array<[string, string[]]> = [
      ["{ version: 1, routes: [] ", ["1:1: YAML: Flow map must end with a }"]],
      ["{version: 1, routes: []\n", ["1:1: YAML: Flow map must end with a }"]],
      [
        "{ version: 1,\n  routes: [ { name: a, match: {}, action: { type: jenkins, job: x } } ]\n\n",
        ["1:1: YAML: Flow map must end with a }"],
      ],
      ["# routes\n\n  {version: 1, routes: []\n\n", ["3:3: YAML: Flow map must end with a }"]],
      ["\uFEFF{version: 1, routes: []", ["1:1: YAML: Flow map must end with a }"]],
      ["[ version, routes\n", ["1:1: YAML: Flow sequence must end with a ]"]],
      ["{version: 1, routes: [\n", [`1:22: ${list}${more(1)}`]],
    ];
    for (const [text, expected] of whole) {
      it(`parseRoutes reports the file ${JSON.stringify(text)} at ${expected.map((e) => e.split(": ")[0]).join(", ")}`, () => {
        const { config, problems } = parseRoutes(text, "routes.yaml");
        expect(config).to.equal(undefined);
        const flow = problems.filter((p) => p.message.startsWith("YAML: Flow"));
        expect(flow.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
      });
    }

    it("parseRoutes counts, after the first, the YAML errors that yaml places at the same offset (a key out of line)", () => {
      const text = [...head, "    action: { type: jenkins,", "  job: x }", ...tail].join("\n");
      const { problems } = parseRoutes(text, "routes.yaml");
      expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([
        `5:13: ${map}${more(6)}`,
      ]);
    });
  });

  describe("a template written without quotes is reported with the quotes it needs", () => {
    const head = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "routes:",
      "  - name: a",
      "    match: {}",
      "    action:",
      "      type: jenkins",
    ];
    const quote = "(YAML reads an unquoted {{ as a map)";
    // [lines after the head, line:col, message]
    const cases: Array<[string[], string, string]> = [
      [
        ["      job: x", "      parameters:", "        SHA: {{sha}}"],
        "10:14",
        `route "a" action.parameters.SHA: a template must be quoted: write '{{sha}}' ${quote}`,
      ],
      [
        ["      job: x", "      parameters: { SHA: {{ payload.after }} }"],
        "9:26",
        `route "a" action.parameters.SHA: a template must be quoted: write '{{payload.after}}' ${quote}`,
      ],
      [
        ["      job: {{repo}}"],
        "8:12",
        `route "a" action.job: a template must be quoted: write '{{repo}}' ${quote}`,
      ],
      // As YAML to paste: in double quotes "\d" would be an escape YAML refuses.
      [
        ["      job: {{repo\\d}}"],
        "8:12",
        `route "a" action.job: a template must be quoted: write '{{repo\\d}}' ${quote}`,
      ],
      [
        ["      job: {{repo}}/build"],
        "8:20",
        `YAML: Unexpected scalar at node end; a value that starts with {{ must be quoted ("{{...}}") ${quote}`,
      ],
      // The value on the line under its key.
      [
        ["      job:", "        {{repo}}/build"],
        "9:17",
        `YAML: Unexpected scalar at node end; a value that starts with {{ must be quoted ("{{...}}") ${quote}`,
      ],
      // A template missing a "}", with more lines after it: where the {{ opens, not on the next line.
      [
        ["      job: {{repo}", "      parameters: {}"],
        "8:12",
        `YAML: Flow map in block collection must be sufficiently indented and end with a }; a value that starts with {{ must be quoted ("{{...}}") ${quote}`,
      ],
      // A file that ends after the {{: yaml says the same twice (once per "{"), and it is said once, where
      // the {{ opens.
      [
        ["      job: {{"],
        "8:12",
        `YAML: Flow map in block collection must be sufficiently indented and end with a }; a value that starts with {{ must be quoted ("{{...}}") ${quote}`,
      ],
    ];
    for (const [lines, at, message] of cases) {
      it(`parseRoutes reports ${JSON.stringify(lines[lines.length - 1]?.trim())} at ${at}: ${message}`, () => {
        const { config, problems } = parseRoutes([...head, ...lines].join("\n"), "routes.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([`${at}: ${message}`]);
      });
    }
  });

  describe("a branch, tag or path glob written in a form no event carries is reported at the glob", () => {
    const head = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://jenkins.example.com, credentials: hookgate/j } }",
      "routes:",
      "  - name: a",
      "    action: { type: jenkins, job: x }",
    ];
    // [the route's match, column of the glob on line 6, message]
    const cases: Array<[string, number, string]> = [
      [
        '{ branches: [main, "refs/heads/release/*"] }',
        31,
        'route "a" match.branches[1]: glob "refs/heads/release/*" never matches: branches are matched without refs/heads/; write \'release/*\'',
      ],
      [
        '{ branches: ["!refs/heads/old"] }',
        25,
        'route "a" match.branches[0]: glob "!refs/heads/old" never matches: branches are matched without refs/heads/; write \'!old\'',
      ],
      [
        '{ tags: ["refs/tags/v*"] }',
        21,
        'route "a" match.tags[0]: glob "refs/tags/v*" never matches: tags are matched without refs/tags/; write \'v*\'',
      ],
      // picomatch drops a leading "./", so these are the same full ref and leading "/".
      [
        '{ branches: ["./refs/heads/main"] }',
        25,
        'route "a" match.branches[0]: glob "./refs/heads/main" never matches: branches are matched without refs/heads/; write \'main\'',
      ],
      [
        '{ paths: [".//x"] }',
        22,
        'route "a" match.paths[0]: glob ".//x" never matches: changed files are paths from the repository\'s root, without a leading "/"; write \'x\'',
      ],
      [
        '{ paths: ["/docs/**"] }',
        22,
        'route "a" match.paths[0]: glob "/docs/**" never matches: changed files are paths from the repository\'s root, without a leading "/"; write \'docs/**\'',
      ],
      // A branch, tag or file name never ends with "/": a folder is written with /**.
      [
        '{ branches: ["feature/"] }',
        25,
        'route "a" match.branches[0]: glob "feature/" never matches: a name never ends with "/"; write \'feature/**\' for everything under it',
      ],
      [
        '{ paths: [README.md, "!docs/"] }',
        33,
        'route "a" match.paths[1]: glob "!docs/" never matches: a name never ends with "/"; write \'!docs/**\' for everything under it',
      ],
      // Git refuses a ref name that begins with "/", has "//" or a space; a changed file has no empty folder.
      [
        '{ branches: ["/main"] }',
        25,
        'route "a" match.branches[0]: glob "/main" never matches: a name never begins with "/"; write \'main\'',
      ],
      [
        '{ tags: [v1, "a//b"] }',
        25,
        'route "a" match.tags[1]: glob "a//b" never matches: a name has no empty part ("//"); write \'a/b\'',
      ],
      [
        '{ branches: [main, "  "] }',
        31,
        'route "a" match.branches[1]: glob "  " never matches: it is blank, and Git refuses a space in a branch or tag name',
      ],
      // Git refuses a space, "~", "^", ":", "..", "@{", a part that begins with "." or ends with ".lock".
      [
        '{ branches: [main, "main "] }',
        31,
        'route "a" match.branches[1]: glob "main " never matches: Git refuses a space in a branch or tag name; write \'main\'',
      ],
      [
        '{ branches: ["feature x"] }',
        25,
        'route "a" match.branches[0]: glob "feature x" never matches: Git refuses a space in a branch or tag name',
      ],
      [
        '{ tags: ["*.lock"] }',
        21,
        'route "a" match.tags[0]: glob "*.lock" never matches: Git refuses a branch or tag name with a part that ends with ".lock"',
      ],
      [
        '{ branches: ["release/.x"] }',
        25,
        'route "a" match.branches[0]: glob "release/.x" never matches: Git refuses a branch or tag name with a part that begins with "."',
      ],
      [
        '{ paths: ["src//x"] }',
        22,
        'route "a" match.paths[0]: glob "src//x" never matches: a name has no empty part ("//"); write \'src/x\'',
      ],
      // Every repository's full name has its owner (GitLab: its group); GitHub's has one "/".
      [
        '{ repos: ["*"] }',
        22,
        'route "a" match.repos[0]: glob "*" never matches: a repository\'s full name starts with its owner ("owner/name"); write \'<owner>/*\', or \'*/*\' for any owner',
      ],
      [
        "{ repos: [acme/api, acme/api/extra] }",
        32,
        'route "a" match.repos[1]: glob "acme/api/extra" never matches: a GitHub repository\'s full name is "owner/name", with one "/" (only GitLab nests groups)',
      ],
      // An actor is a user name: no team ("org/team" means nothing), no path, never blank.
      ...[
        ['"team/"', "team/"],
        ['"/team"', "/team"],
        ['"!a//b"', "!a//b"],
        ['"a/ /b"', "a/ /b"],
        ['"/"', "/"],
      ].map(([written, glob]): [string, number, string] => [
        `{ actors: [${written}] }`,
        23,
        `route "a" match.actors[0]: glob ${JSON.stringify(glob)} never matches: an actor is a user name (a login), not a team or a path, and has no empty part around "/"`,
      ]),
      [
        '{ actors: [alice, "  "] }',
        30,
        'route "a" match.actors[1]: glob "  " never matches: it is blank, and an actor is a user name (a login)',
      ],
      [
        '{ actors: ["!\u00a0 "] }',
        23,
        'route "a" match.actors[0]: glob "!\u00a0 " never matches: it is blank, and an actor is a user name (a login)',
      ],
    ];
    for (const [match, col, message] of cases) {
      it(`parseRoutes reports match: ${match} at 6:${col}`, () => {
        const { config, problems } = parseRoutes([...head, `    match: ${match}`].join("\n"), "routes.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal([
          `6:${col}: ${message}`,
        ]);
      });
    }
    it("parseRoutes accepts branches, tags, paths and actors written as events carry them", () => {
      const match =
        "{ branches: [main, 'release/*', '!refs'], tags: ['v*'], paths: ['docs/**', '**/refs/heads/x'], actors: ['!dependabot\\[bot\\]', 'renovate*', Jane Doe] }";
      const { problems } = parseRoutes([...head, `    match: ${match}`].join("\n"), "routes.yaml");
      expect(problems).to.deep.equal([]);
    });
  });

  it("parseRoutes accepts the shipped routes.yaml and compiles every route", () => {
    const text = readFileSync(join(__dirname, "../../../routes.yaml"), "utf8");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(problems).to.deep.equal([]);
    expect(config?.routes.map((r) => r.name)).to.deep.equal([
      "api-build",
      "source-zip",
      "pr-cleanup",
      "platform-gitlab",
      "legacy-bitbucket",
    ]);
  });

  describe("an alias or merge that yaml cannot convert is reported where it is written", () => {
    const head = [
      "version: 1",
      "defaults: { secret: hookgate/s, jenkins: { url: 'https://j.example.com', credentials: hookgate/j } }",
      "x-list: &l [a, b]",
      "routes:",
      "  - name: a",
      "    action: { type: jenkins, job: x, parameters: { SHA: '{{sha}}' } }",
    ].join("\n");
    const glob = "quote globs that start with * (YAML reads *name as an alias)";
    // [match lines, expected "line:col: message fragment" for each problem]
    const cases: Array<[string, string[]]> = [
      ["    match:\n      paths:\n        - src/**\n        - **/*.md", [`10:11: unresolved alias **/*.md`]],
      ["    match: { repos: [*/api] }", ["7:22: unresolved alias */api"]],
      ["    match:\n      branches:\n        - *-release", ["9:11: unresolved alias *-release"]],
      ["    match: { branches: [*] }", ["7:25: Alias cannot be an empty string"]],
      [
        "    match: { <<: *l }",
        ["7:18: a merge (<<) takes a map, an alias of a map, or a list of those; *l is a list"],
      ],
      [
        "    match: { <<: 5, events: [push] }",
        ["7:18: a merge (<<) takes a map", "; this is a single value"],
      ],
      ["    match: { <<: , events: [push] }", ["7:18: a merge (<<) takes a map", "; this is empty"]],
    ];
    for (const [match, expected] of cases) {
      it(`parseRoutes reports ${JSON.stringify(match.trim())} at ${expected[0]?.split(": ")[0]}`, () => {
        const { config, problems } = parseRoutes(`${head}\n${match}\n`, "r.yaml");
        expect(config).to.equal(undefined);
        expect(problems).to.have.length(1);
        const [at, fragment] = (expected[0] as string).split(/: (.*)/s);
        const problem = problems[0];
        expect(`${problem?.line}:${problem?.col}`).to.equal(at);
        expect(problem?.message).to.include(`YAML: ${fragment}`);
        for (const more of expected.slice(1)) expect(problem?.message).to.include(more);
        if (/^(unresolved alias|Alias cannot)/.test(fragment ?? ""))
          expect(problem?.message).to.include(glob);
      });
    }
  });

  describe("a merge (<<) of something other than a map does not hide the file's other problems", () => {
    const head = [
      "version: 1",
      "defaults: { jenkins: { url: 'https://j.example.com', credentials: hookgate/j } }",
      "x-list: &list [acme/api]",
      "routes:",
      "  - name: a",
      "    secret: ghp_16C7e42F292c6912E7710c838347Ae178B4a",
      "    action: { type: jenkins, job: x }",
    ];
    const token =
      'route "a" secret: this looks like a secret value (a GitHub token), not the name of a secret; store the value in Secrets Manager and write the secret\'s name here (the value is not shown)';
    const merge = "YAML: a merge (<<) takes a map, an alias of a map, or a list of those;";
    const colour =
      'route "a" match: unknown key "colour" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)';
    // [match line, every problem as line:col: message]
    const cases: Array<[string, string[]]> = [
      [
        "    match: { <<: *list, colour: red }",
        [`6:13: ${token}`, `8:18: ${merge} *list is a list`, `8:25: ${colour}`],
      ],
      [
        "    match: { <<: [*list, { events: [push] }], colour: red }",
        [`6:13: ${token}`, `8:19: ${merge} *list is a list`, `8:47: ${colour}`],
      ],
      [
        "    match: { <<: 5, colour: red }",
        [`6:13: ${token}`, `8:18: ${merge} this is a single value`, `8:21: ${colour}`],
      ],
    ];
    for (const [match, expected] of cases) {
      it(`parseRoutes reports ${JSON.stringify(match.trim())} with the secret pasted on line 6`, () => {
        const { config, problems } = parseRoutes([...head, match].join("\n"), "r.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
      });
    }

    // An anchor set after its use (x- keys at the end of the file): the merge is reported, and the keys it
    // would have brought are not reported as missing from the map that merges it.
    const later = [
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: 'https://j.example.com', credentials: hookgate/j } }",
      "routes:",
      "  - <<: *route",
      "    name: a",
      "  - name: b",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: { <<: *build }",
      "  - name: c",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: { type: jenkins, <<: *list }",
      "x-list: &list [a]",
      "x-route: &route { match: { repos: [acme/api], events: [push] }, action: { type: jenkins, job: x } }",
      "x-build: &build { type: jenkins, job: x }",
    ].join("\n");
    it("parseRoutes reports an anchor used before it is set, and not the keys its merge would bring", () => {
      const { config, problems } = parseRoutes(later, "r.yaml");
      expect(config).to.equal(undefined);
      expect(problems.map((p) => `${p.line}:${p.col}`)).to.deep.equal(["4:9", "8:19", "11:34"]);
      expect(problems.every((p) => p.message.startsWith("YAML: "))).to.equal(true);
    });
  });

  describe("an unquoted glob read as an alias does not hide the file's other problems", () => {
    const head = [
      "version: 1",
      "defaults: { jenkins: { url: 'https://j.example.com', credentials: hookgate/j } }",
      "routes:",
      "  - name: a",
      "    secret: ghp_16C7e42F292c6912E7710c838347Ae178B4a",
      "    action: { type: jenkins, job: x }",
    ];
    const alias = (text: string) =>
      `YAML: unresolved alias ${text} (no anchor &${text.slice(1)} is set before it); quote globs that start with * (YAML reads *name as an alias)`;
    const token =
      'route "a" secret: this looks like a secret value (a GitHub token), not the name of a secret; store the value in Secrets Manager and write the secret\'s name here (the value is not shown)';
    // [match line, every problem as line:col: message]
    const cases: Array<[string, string[]]> = [
      ["    match: { paths: [*.md] }", [`5:13: ${token}`, `7:22: ${alias("*.md")}`]],
      [
        "    match: { branches: [*-release, 'release/[0-9'] }",
        [
          `5:13: ${token}`,
          `7:25: ${alias("*-release")}`,
          `7:36: route "a" match.branches[1]: glob "release/[0-9" has an unclosed bracket or brace`,
        ],
      ],
      // A merge of an anchor that is not set merges nothing; the map's own keys are still checked.
      [
        "    match: { <<: *common, colour: red }",
        [
          `5:13: ${token}`,
          `7:18: ${alias("*common")}`,
          '7:27: route "a" match: unknown key "colour" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
        ],
      ],
      // An alias where text belongs is said once, as an alias, not as a bad value too.
      ["    match: { repos: [acme/api] }\n    provider: *gh", [`5:13: ${token}`, `8:15: ${alias("*gh")}`]],
    ];
    for (const [match, expected] of cases) {
      it(`parseRoutes reports ${JSON.stringify(match.trim())} with the secret pasted on line 5`, () => {
        const { config, problems } = parseRoutes([...head, match].join("\n"), "r.yaml");
        expect(config).to.equal(undefined);
        expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
      });
    }
  });

  it("parseRoutes follows x- anchors and merge keys, and positions a problem at the anchor's text", () => {
    const text = [
      "version: 1",
      "defaults: { secret: hookgate/webhook, jenkins: { url: 'https://ci.example.com', credentials: ci/creds } }",
      "x-acme: &acme",
      "  repos: ['acme/*']",
      "  branches: ['release/[0-9']",
      "routes:",
      "  - name: a",
      "    match: { <<: *acme, events: [push] }",
      "    action: { type: jenkins, job: a }",
      "",
    ].join("\n");
    const broken = parseRoutes(text, "r.yaml");
    expect(broken.problems.map((p) => [p.line, p.col])).to.deep.equal([[5, 14]]);
    expect(broken.problems[0]?.message).to.include('glob "release/[0-9"');

    const fixed = parseRoutes(text.replace("'release/[0-9'", "'release/*'"), "r.yaml");
    expect(fixed.problems).to.deep.equal([]);
    expect(fixed.config?.routes[0]?.match).to.deep.equal({
      repos: ["acme/*"],
      events: ["push"],
      branches: ["release/*"],
    });
  });

  it("parseRoutes accepts pr-cleanup on Bitbucket Data Center with an API URL ending in /rest/api/latest or /1.0", () => {
    for (const apiUrl of [
      "https://bitbucket.example.com/rest/api/latest",
      "https://example.com/bitbucket/rest/api/1.0/",
    ]) {
      const text = `version: 1
defaults: { secret: hookgate/webhook }
providers:
  bitbucket-server: { apiUrl: "${apiUrl}", token: hookgate/bb-token }
routes:
  - name: cleanup
    provider: bitbucket-server
    match: { events: [pull_request], actions: [closed] }
    action: { type: pr-cleanup, steps: [{ delete-branch: { onlyMerged: true } }] }
`;
      const { config, problems } = parseRoutes(text, "r.yaml");
      expect(problems, apiUrl).to.deep.equal([]);
      expect(config?.routes[0]?.action.type).to.equal("pr-cleanup");
    }
  });

  it("parseRoutes accepts IPv6 and IPv4 CIDRs and a route secured only by an IP allowlist", () => {
    const text = `version: 1
jenkins: { url: "http://jenkins.internal:8080", credentials: ci/creds }
routes:
  - name: legacy
    provider: bitbucket-server
    auth: { allowIps: ["2001:db8::/32", 192.0.2.0/24, 198.51.100.7/32] }
    match: { repos: ["team/*"] }
    action: { type: jenkins, job: legacy }
`;
    const { config, problems } = parseRoutes(text, "r.yaml");
    expect(problems).to.deep.equal([]);
    expect(config?.routes[0]?.auth.allowIps).to.deep.equal([
      "2001:db8::/32",
      "192.0.2.0/24",
      "198.51.100.7/32",
    ]);
    expect(config?.routes[0]?.secret).to.equal(undefined);
  });

  it("parseRoutes reports an allowlist of 0.0.0.0/0 because it would turn authentication off", () => {
    const text = `version: 1
jenkins: { url: "https://ci.example.com", credentials: ci/creds }
routes:
  - name: open
    auth: { allowIps: [0.0.0.0/0] }
    match: {}
    action: { type: jenkins, job: x }
`;
    const { problems } = parseRoutes(text, "r.yaml");
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ line: 5, col: 24 });
    expect(problems[0]?.message).to.include("allows every address");
  });

  it("parseRoutes positions problems correctly in a file with a byte-order mark and CRLF line ends", () => {
    const text =
      "\uFEFFversion: 1\r\nroutes:\r\n  - name: Bad\r\n    secret: s\r\n    match: {}\r\n    action: { type: jenkins, job: a }\r\n";
    const { problems } = parseRoutes(text, "r.yaml");
    expect(problems.map((p) => [p.line, p.col])).to.deep.equal([
      [3, 11],
      [6, 21],
    ]);
    expect(problems[0]?.message).to.include('route name "Bad" is not valid');
    expect(problems[1]?.message).to.include("needs a Jenkins controller");
  });

  it("parseRoutes reports a multi-document file instead of reading only the first document", () => {
    const { problems } = parseRoutes("version: 1\n---\nversion: 1\n", "r.yaml");
    expect(problems.length).to.be.greaterThan(0);
    expect(problems[0]?.message).to.match(/^YAML: /);
  });
});

describe("Function: parseRoutes (template positions)", () => {
  const route = (job: string) => `version: 1
jenkins: { url: "https://ci.example.com", credentials: ci/c }
routes:
  - name: a
    secret: s
    match: {}
    action:
      type: jenkins
      job: ${job}
`;
  // [job as written on line 9, line and column of the placeholder, message fragment]
  const cases: Array<[string, number, number, string]> = [
    ["build/{{ sha }}/{{ brnach }}", 9, 28, 'unknown template field "brnach"'],
    ['"x/{{payload}}"', 9, 15, 'template field "payload" needs a path'],
    ["'{{branch}}-{{oops'", 9, 24, 'unclosed "{{"'],
    ["x-{{}}", 9, 14, 'empty "{{}}"'],
    ["|-\n        multi/{{nope}}", 10, 15, 'unknown template field "nope"'],
  ];
  for (const [job, line, col, fragment] of cases) {
    it(`parseRoutes points at the placeholder in job: ${JSON.stringify(job)} (${line}:${col})`, () => {
      const { problems } = parseRoutes(route(job), "r.yaml");
      expect(problems).to.have.length(1);
      expect(problems[0]?.message).to.include(fragment);
      expect([problems[0]?.line, problems[0]?.col]).to.deep.equal([line, col]);
    });
  }
});

describe("Function: parseRoutes (providers.<provider>.caBundle: a self-hosted Git host's private CA)", () => {
  const file = (gitlab: string) =>
    [
      "version: 1",
      "defaults: { secret: hookgate/webhook, provider: gitlab }",
      "providers:",
      `  gitlab: ${gitlab}`,
      "routes:",
      "  - name: zip",
      "    match: { events: [push] }",
      "    action: { type: s3-zip, bucket: my-bucket }",
      "  - name: cleanup",
      "    match: { events: [pull_request], actions: [closed] }",
      "    action: { type: pr-cleanup, token: hookgate/cleanup-token, steps: [{ delete-branch: null }] }",
    ].join("\n");

  it("parseRoutes gives every s3-zip and pr-cleanup route of the provider its caBundle, whichever token it uses, and none without one", () => {
    const { config, problems } = parseRoutes(
      file(
        "{ apiUrl: https://gitlab.example.com/api/v4, token: hookgate/gitlab-token, caBundle: hookgate/corp-ca }",
      ),
      "routes.yaml",
    );
    expect(problems).to.deep.equal([]);
    const apis = config?.routes.map((route) =>
      route.action.type === "jenkins" ? undefined : route.action.api,
    );
    expect(apis).to.deep.equal([
      {
        provider: "gitlab",
        apiUrl: "https://gitlab.example.com/api/v4",
        token: "hookgate/gitlab-token",
        caBundle: "hookgate/corp-ca",
      },
      {
        provider: "gitlab",
        apiUrl: "https://gitlab.example.com/api/v4",
        token: "hookgate/cleanup-token",
        caBundle: "hookgate/corp-ca",
      },
    ]);
    // A provider without one leaves the key out: the default roots only.
    const { config: without } = parseRoutes(
      file("{ apiUrl: https://gitlab.example.com/api/v4, token: hookgate/gitlab-token }"),
      "routes.yaml",
    );
    expect(without?.routes[0]?.action).to.have.property("api").that.not.has.property("caBundle");
  });

  it("parseRoutes refuses a PEM pasted into providers.gitlab.caBundle at its line:col, without echoing it", () => {
    const pem = "-----BEGIN CERTIFICATE----- MIIBszCCAVmgAwIBAgIUQ -----END CERTIFICATE-----";
    const { config, problems } = parseRoutes(
      file(`{ token: hookgate/gitlab-token, caBundle: "${pem}" }`),
      "routes.yaml",
    );
    expect(config).to.equal(undefined);
    expect(problems.map((p) => [p.line, p.col, p.message])).to.deep.equal([
      [
        4,
        53,
        "providers.gitlab.caBundle: this looks like a secret value (a PEM block), not the name of a secret; store the value in Secrets Manager and write the secret's name here (the value is not shown)",
      ],
    ]);
    expect(problems[0]?.message).not.to.include("MIIBszCCAVmgAwIBAgIUQ");
  });

  it("parseRoutes refuses a caBundle that is not a Secrets Manager name", () => {
    const { problems } = parseRoutes(file("{ token: hookgate/gitlab-token, caBundle: corp-ca#1 }"), "r.yaml");
    expect(problems.map((p) => [p.line, p.col, p.message])).to.deep.equal([
      [
        4,
        53,
        "providers.gitlab.caBundle: is not a Secrets Manager name (1 to 512 characters of A-Z a-z 0-9 / _ + = . @ -; the value is not shown)",
      ],
    ]);
  });

  it('parseRoutes suggests "caBundle" for a misspelt key in providers.gitlab', () => {
    const { problems } = parseRoutes(
      file("{ token: hookgate/gitlab-token, caBundel: hookgate/ca }"),
      "r.yaml",
    );
    expect(problems.map((p) => [p.line, p.col, p.message])).to.deep.equal([
      [4, 43, 'providers.gitlab: unknown key "caBundel"; did you mean "caBundle"?'],
    ]);
  });
});

describe("Function: parseRoutes (references, merges and YAML errors beside the file's other content)", () => {
  const head = [
    "version: 1",
    "defaults: { secret: hookgate/gh, jenkins: { url: https://j.example.com, credentials: hookgate/j } }",
  ];
  const lines = (problems: { line: number; col: number; message: string }[]) =>
    problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  const alias = (text: string) =>
    `YAML: unresolved alias ${text} (no anchor &${text.slice(1)} is set before it); quote globs that start with * (YAML reads *name as an alias)`;
  const merge =
    "YAML: a merge (<<) takes a map, an alias of a map, or a list of those; this is a single value";

  it("parseRoutes accepts a file that uses one anchor more than a hundred times (yaml's own default limit)", () => {
    const routes = Array.from({ length: 120 }, (_, i) => `  - { <<: *route, name: r${i} }`);
    const text = [
      ...head,
      "x-route: &route { match: { repos: [acme/api] }, action: { type: jenkins, job: x } }",
      "routes:",
      ...routes,
    ].join("\n");
    const { config, problems } = parseRoutes(text, "r.yaml");
    expect(problems).to.deep.equal([]);
    expect(config?.routes).to.have.length(120);
  });

  it("parseRoutes reports an empty route item or an empty action as a value that must be a map, not as a YAML failure", () => {
    expect(lines(parseRoutes("version: 1\nroutes:\n  -\n", "r.yaml").problems)).to.deep.equal([
      "3:4: routes[0]: must be a map (key: value), not empty",
    ]);
    const text = [...head, "routes:", "  - name: a", "    match: {}", "    action:", ""].join("\n");
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([
      '6:12: route "a" action: must be a map (key: value), not empty',
    ]);
  });

  it("parseRoutes reports a parameter written without a value ({ DRY_RUN }) as empty, not as a YAML failure", () => {
    const text = [
      ...head,
      "routes:",
      "  - name: a",
      "    match: {}",
      "    action: { type: jenkins, job: x, parameters: { DRY_RUN } }",
    ].join("\n");
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([
      '6:52: route "a" action.parameters.DRY_RUN: must be text or a number or true or false, not empty',
    ]);
  });

  it("parseRoutes takes a merged parameter number from the first merge source that sets it, as yaml does", () => {
    const text = [
      ...head,
      "x-a: &a { VERSION: 1.10 }",
      "x-b: &b { VERSION: 2.50, MODE: 0755 }",
      "routes:",
      "  - name: a",
      "    match: {}",
      "    action: { type: jenkins, job: x, parameters: { <<: [*a, *b] } }",
    ].join("\n");
    const { config, problems } = parseRoutes(text, "r.yaml");
    expect(problems).to.deep.equal([]);
    const action = config?.routes[0]?.action as { parameters?: unknown };
    expect(action.parameters).to.deep.equal({ VERSION: "1.10", MODE: "0755" });
  });

  it("parseRoutes keeps a resolved alias as its value when another alias in the file has no anchor", () => {
    const text = [
      ...head,
      "x-p: &p { SHA: '{{sha}}' }",
      "routes:",
      "  - name: a",
      "    match: { paths: [*.md] }",
      "    action: { type: jenkins, job: x, parameters: *p }",
    ].join("\n");
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([`6:22: ${alias("*.md")}`]);
  });

  it("parseRoutes still merges a good anchor (alone or in a list) and checks what it brings when another merge in the file is bad", () => {
    const text = [
      ...head,
      "x-base: &base { match: { repos: [acme/api] }, secret: ghp_16C7e42F292c6912E7710c838347Ae178B4a }",
      "x-act: &act { action: { type: jenkins, job: x } }",
      "routes:",
      "  - <<: *base",
      "    name: a",
      "    action: { type: jenkins, job: x }",
      "  - <<: [*base, *act]",
      "    name: b",
      "  - name: c",
      "    match: { <<: 5 }",
      "    action: { type: jenkins, job: x }",
    ].join("\n");
    const token =
      "secret: this looks like a secret value (a GitHub token), not the name of a secret; store the value in Secrets Manager and write the secret's name here (the value is not shown)";
    // The pasted token is reported once per route that merges it, at the anchor's text.
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([
      `3:55: route "a" ${token}`,
      `3:55: route "b" ${token}`,
      `12:18: ${merge}`,
    ]);
  });

  it("parseRoutes reports a missing key of a map whose merges are all good, when another merge in the file is bad", () => {
    const text = [
      ...head,
      "x-base: &base { match: { repos: [acme/api] } }",
      "routes:",
      "  - <<: *base",
      "    name: a",
      "  - name: c",
      "    match: { <<: 5 }",
      "    action: { type: jenkins, job: x }",
    ].join("\n");
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([
      '5:5: route "a": missing required key "action"',
      `8:18: ${merge}`,
    ]);
  });

  it("parseRoutes does not report the keys a merge list would bring as missing when one of its items is not a map", () => {
    const text = [
      ...head,
      "x-base: &base { match: { repos: [acme/api] } }",
      "routes:",
      "  - <<: [*base, 5]",
      "    name: a",
    ].join("\n");
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([`5:17: ${merge}`]);
  });

  it("parseRoutes reports an unknown key written first in a map that merges nothing", () => {
    const text = [...head, "routes:", "  - nme: a", "    <<: 5", "    match: {}"].join("\n");
    const problems = lines(parseRoutes(text, "r.yaml").problems);
    expect(problems).to.include('4:5: routes[0]: unknown key "nme"; did you mean "name"?');
    expect(problems.some((p) => p.includes("missing required key"))).to.equal(false);
  });

  it("parseRoutes adds the quoting hint only to a YAML error on the line of an unquoted template, not to one on the line before or after", () => {
    const a = ["  - name: a", "    match: { repos: [acme/api }", "    action: { type: jenkins, job: x }"];
    const b = [
      "  - name: b",
      "    match: {}",
      "    action:",
      "      type: jenkins",
      "      job: {{repo}}/build",
    ];
    const hint =
      '; a value that starts with {{ must be quoted ("{{...}}") (YAML reads an unquoted {{ as a map)';
    // Only the first YAML error is said: the line before the template's has it, without the hint.
    expect(lines(parseRoutes([...head, "routes:", ...a, ...b].join("\n"), "r.yaml").problems)).to.deep.equal([
      "5:21: YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (2 more YAML errors after it, often caused by this one)",
    ]);
    const c = ["  - name: c", "    match: [acme/api", "    action: { type: jenkins, job: x }"];
    expect(lines(parseRoutes([...head, "routes:", ...b, ...c].join("\n"), "r.yaml").problems)).to.deep.equal([
      `8:20: YAML: Unexpected scalar at node end${hint} (1 more YAML error after it, often caused by this one)`,
    ]);
    const d = ["  - name: d", "    match: {}", "    action: { type: jenkins, job: x, x: [ }"];
    expect(lines(parseRoutes([...head, "routes:", ...d, ...b].join("\n"), "r.yaml").problems)).to.deep.equal([
      "6:41: YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (4 more YAML errors after it, often caused by this one)",
    ]);
  });

  it("parseRoutes gives the quoting hint with the line's first YAML error, and counts the next", () => {
    const text = [
      ...head,
      "routes:",
      "  - name: a",
      "    match: {}",
      "    action:",
      "      type: jenkins",
      "      parameters: { A: {{sha}}/x, B: {{ref}}/y }",
      "      job: x",
    ].join("\n");
    expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([
      '8:31: YAML: Unexpected scalar at node end; a value that starts with {{ must be quoted ("{{...}}") (YAML reads an unquoted {{ as a map) (1 more YAML error after it, often caused by this one)',
    ]);
  });

  describe("a merge cycle or an alias bomb is reported at the alias where it is found, never at 1:1", () => {
    const route = ["routes:", "  - name: a", "    match: {}", "    action: { type: jenkins, job: x }"];
    const cycle = (name: string) =>
      `YAML: a merge (<<) cycle: *${name} merges the map &${name} from inside it, which never ends; merge a map anchored outside &${name}`;
    const bomb = (name: string) =>
      `YAML: too many aliases: by *${name}, the values the aliases add (each stands for every value under its anchor, the aliases there too) pass 100,000, the limit that guards against an alias bomb; use fewer aliases, or nest fewer in one another`;
    // A list of 100 values: each alias of it stands for 101 values, one more than the alias itself.
    const hundred = `x-a: &a [${Array.from({ length: 100 }, (_, i) => i).join(", ")}]`;
    const laughs = ["a", "b", "c", "d", "e", "f", "g"].map((name, i, all) =>
      i === 0
        ? "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"
        : `x-${name}: &${name} [${Array(9)
            .fill(`*${all[i - 1]}`)
            .join(", ")}]`,
    );
    // [what, lines between the head and the route, every problem as line:col: message]
    const cases: Array<[string, string[], string[]]> = [
      ["a block map that merges itself", ["x-a: &a", "  job: x", "  <<: *a"], [`5:7: ${cycle("a")}`]],
      [
        "a flow map that merges itself in a list",
        ["x-b: &b { B: 1 }", "x-a: &a { <<: [*b, *a] }"],
        [`4:20: ${cycle("a")}`],
      ],
      // yaml ran out of stack on this one ("Maximum call stack size exceeded"), before its alias count did.
      [
        "a map merging the map around it",
        ["x-a: &a", "  A: 1", "  b:", "    <<: *a"],
        [`6:9: ${cycle("a")}`],
      ],
      [
        "a map merging a map that merges it",
        ["x-a: &a { A: 1, <<: *b }", "x-b: &b { B: 2, <<: *a }"],
        [
          "3:21: YAML: unresolved alias *b: its anchor &b is set after it, and an alias names only an anchor set before it (so two maps cannot merge each other)",
        ],
      ],
      ["an alias bomb (billion laughs)", laughs, [`8:10: ${bomb("e")}`]],
      [
        // 1000 aliases of it add 100,000 values, the limit: the 1001st passes it.
        "the 1001st alias of a list of 100 values",
        [hundred, ...Array.from({ length: 1001 }, (_, i) => `x-${i}: *a`)],
        [`1004:9: ${bomb("a")}`],
      ],
    ];
    for (const [what, extra, expected] of cases) {
      it(`parseRoutes reports ${what} at ${expected.map((e) => e.split(": ")[0]).join(", ")}`, () => {
        const { config, problems } = parseRoutes([...head, ...extra, ...route].join("\n"), "r.yaml");
        expect(config).to.equal(undefined);
        expect(lines(problems)).to.deep.equal(expected);
      });
    }

    it("parseRoutes accepts 1000 aliases of a list of 100 values (100,000 values added, the limit)", () => {
      const uses = Array.from({ length: 1000 }, (_, i) => `x-${i}: *a`);
      const { problems } = parseRoutes([...head, hundred, ...uses, ...route].join("\n"), "r.yaml");
      expect(problems).to.deep.equal([]);
    });

    it("parseRoutes accepts 150 routes on one list anchor then 7 on a match anchor holding it: the values they add are counted, not the aliases met before the second anchor (review h424)", () => {
      // yaml's maxAliasCount counted each *tagged as the 151 uses of *team before &tagged: 7 x 151 > 1000.
      const jenkins = (job: string) =>
        `    action: { type: jenkins, job: ${job}, jenkins: { url: "https://ci.example.com", credentials: ci/c } }`;
      const routes = ["routes:"];
      for (let i = 0; i < 150; i++) {
        routes.push(`  - name: r${i}`, "    match: { repos: *team, events: [push] }", jenkins(`build/r${i}`));
      }
      routes.push("  - name: tagged", '    match: &tagged { repos: *team, events: [push], tags: ["v*"] }');
      routes.push(jenkins("release/main"));
      for (let i = 0; i < 7; i++)
        routes.push(`  - name: t${i}`, "    match: *tagged", jenkins(`release/t${i}`));
      const text = [...head, "x-team: &team [acme/api, acme/web]", ...routes].join("\n");
      const { config, problems } = parseRoutes(text, "r.yaml");
      expect(problems).to.deep.equal([]);
      expect(config?.routes.at(-1)?.match.repos).to.deep.equal(["acme/api", "acme/web"]);
    });

    it("parseRoutes reports a route that merges itself and still reports the file's other problems", () => {
      const text = [
        "version: 2",
        head[1],
        "routes:",
        "  - &r",
        "    name: a",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
        "    <<: *r",
      ].join("\n");
      expect(lines(parseRoutes(text, "r.yaml").problems)).to.deep.equal([
        "1:10: version must be 1, not 2 (this hookgate reads version 1)",
        `8:9: ${cycle("r")}`,
      ]);
    });

    it("parseRoutes accepts an alias of a map inside the map itself when it is a value, not a merge (yaml converts it, and x- keys are ignored)", () => {
      const { problems } = parseRoutes(
        [...head, "x-a: &a { A: 1, self: *a }", ...route].join("\n"),
        "r.yaml",
      );
      expect(problems).to.deep.equal([]);
    });

    it("parseRoutes says an alias whose anchor comes only later is unresolved, with the glob hint only when no such anchor exists", () => {
      const later = [...head, "x-a: *b", "x-b: &b { B: 1 }", ...route].join("\n");
      expect(lines(parseRoutes(later, "r.yaml").problems)).to.deep.equal([
        "3:6: YAML: unresolved alias *b: its anchor &b is set after it, and an alias names only an anchor set before it",
      ]);
      const none = [...head, "x-a: *b", ...route].join("\n");
      expect(lines(parseRoutes(none, "r.yaml").problems)).to.deep.equal([`3:6: ${alias("*b")}`]);
    });
  });

  it("parseRoutes turns a failure of its own into one problem at 1:1 of the file, never a throw", () => {
    const { config, problems } = parseRoutes(null as unknown as string, "r.yaml");
    expect(config).to.equal(undefined);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ file: "r.yaml", line: 1, col: 1 });
    expect(problems[0]?.message).to.match(/^internal error while reading: \S/);
    expect(problems[0]?.message).not.to.include("\n");
  });
});

describe("Function: positionInRoutes", () => {
  it("positionInRoutes counts no column for a byte-order mark, and finds a value brought by a merge at the anchor's text", () => {
    const text = "\uFEFFroutes: [{ name: a }]\nx: &r { name: b }\n";
    expect(positionInRoutes(text, ["routes", 0, "name"])).to.deep.equal({ line: 1, col: 18 });
    const merged = "x: &r { name: b }\nroutes:\n  - <<: *r\n";
    expect(positionInRoutes(merged, ["routes", 0, "name"])).to.deep.equal({ line: 1, col: 15 });
  });
});

describe("Function: parseRoutes (each value the schema refuses, at it, with the rule it breaks)", () => {
  const head = [
    "version: 1",
    "defaults: { secret: hookgate/gh, jenkins: { url: https://j.example.com, credentials: hookgate/j } }",
    "routes:",
    "  - name: a",
  ];
  // [lines after the head, every problem as line:col: message]
  const cases: Array<[string[], string[]]> = [
    [
      ["    match: {}", "    action: { type: jenkins, job: x, parameters: { 1BAD: x } }"],
      [
        '6:52: route "a" action.parameters: parameter name "1BAD" must start with a letter or _ and hold only letters, digits, _ . and -',
      ],
    ],
    [
      ["    auth: { toleranceSeconds: 0 }", "    match: {}", "    action: { type: jenkins, job: x }"],
      ['5:31: route "a" auth.toleranceSeconds: must be at least 1'],
    ],
    [
      ["    auth: { toleranceSeconds: 3601 }", "    match: {}", "    action: { type: jenkins, job: x }"],
      ['5:31: route "a" auth.toleranceSeconds: must be at most 3600'],
    ],
    [
      ["    match: { repos: [''] }", "    action: { type: jenkins, job: x }"],
      ['5:22: route "a" match.repos[0]: must not be empty'],
    ],
    [
      ["    match: { repos: [] }", "    action: { type: jenkins, job: x }"],
      ['5:21: route "a" match.repos: must not be an empty list; leave the key out to match anything'],
    ],
    [
      ["    match: 5", "    action: { type: jenkins, job: x }"],
      ['5:12: route "a" match: must be a map (key: value), not a whole number'],
    ],
    [
      ["    match: {}", "    action: { job: x }"],
      ['6:13: route "a" action: missing required key "type" (jenkins, s3-zip or pr-cleanup)'],
    ],
    [
      ["    match: [a]", "    action: { type: jenkins, job: x }"],
      ['5:12: route "a" match: must be a map (key: value), not a list'],
    ],
    [
      ["    match: {}", "    action: { type: jenkins, job: { a: 1 } }"],
      ['6:35: route "a" action.job: must be text, not a map'],
    ],
    // Only a glob list is told to leave its key out.
    [
      ["    match: {}", "    action: { type: pr-cleanup, token: t, steps: [] }"],
      ['6:50: route "a" action.steps: must not be an empty list'],
    ],
    [
      ["    match: {}", "    action: { type: pr-cleanup, token: t, steps: [{}] }"],
      [
        '6:51: route "a" action.steps[0]: a step must have exactly one key (delete-branch, delete-s3-prefix or jenkins), this one has 0',
      ],
    ],
    // The schema's pattern and the semantic check say the same, once.
    [
      [
        "    match: {}",
        "    action: { type: pr-cleanup, token: t, targetUrl: 'ftp://x', steps: [{ delete-branch: }] }",
      ],
      ['6:54: route "a" action.targetUrl: targetUrl "ftp://x" must start with https:// (or http://)'],
    ],
    // A third "/" after https:// hides the host where a branch's "/" could make another one.
    [
      [
        "    match: {}",
        "    action: { type: pr-cleanup, token: t, targetUrl: 'https:///{{pr.headRef}}.previews.example.com/', steps: [{ delete-branch: }] }",
      ],
      [
        '6:54: route "a" action.targetUrl: targetUrl "https:///{{pr.headRef}}.previews.example.com/" has a "/" or "\\" right after "//", where the host belongs (a browser skips it and reads the host from what follows): write the host right after "//" ("https://pr-{{pr.number}}.previews.example.com/")',
      ],
    ],
    // A name that is no identifier is shown quoted in the place of a problem under it.
    [
      ["    match: {}", "    action: { type: jenkins, job: x, parameters: { DRY RUN: [x] } }"],
      [
        '6:52: route "a" action.parameters: parameter name "DRY RUN" must start with a letter or _ and hold only letters, digits, _ . and -',
        '6:61: route "a" action.parameters["DRY RUN"]: must be text or a number or true or false, not a list',
      ],
    ],
    // A wrong type explains the value's other faults (5 is also none of the providers): said once.
    [
      ["    provider: 5", "    match: {}", "    action: { type: jenkins, job: x }"],
      ['5:15: route "a" provider: must be text, not a whole number; to mean the text, quote it: "5"'],
    ],
    // A null key (~) is the unknown key "", at itself; one yaml cannot name as written ([repos], a list) is an
    // unknown key at its map.
    [
      ["    match: { ~: x }", "    action: { type: jenkins, job: x }"],
      [
        '5:14: route "a" match: unknown key "" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
      ],
    ],
    [
      ["    match: { [repos]: x }", "    action: { type: jenkins, job: x }"],
      ["5:14: a key must be plain text, not a map or a list"],
    ],
  ];
  for (const [lines, expected] of cases) {
    it(`parseRoutes reports ${JSON.stringify(lines[0]?.trim())} … as ${expected.join(" | ")}`, () => {
      const { config, problems } = parseRoutes([...head, ...lines].join("\n"), "r.yaml");
      expect(config).to.equal(undefined);
      expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
    });
  }

  it("parseRoutes says what a file without version or without routes lacks, with the line to write", () => {
    const lines = (text: string) =>
      parseRoutes(text, "r.yaml").problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    expect(lines("version: 1\n")).to.deep.equal(['1:1: missing required key "routes"']);
    expect(lines("routes: []\n")).to.deep.equal([
      '1:1: missing required key "version" (write version: 1 at the top)',
      "1:9: routes: list at least one route",
    ]);
  });

  it("parseRoutes positions a problem inside an aliased map at the anchor's text", () => {
    const text = [
      "x-m: &m { branches: [refs/heads/main] }",
      "version: 1",
      "defaults: { secret: hookgate/gh, jenkins: { url: https://j.example.com, credentials: hookgate/j } }",
      "routes:",
      "  - name: a",
      "    match: *m",
      "    action: { type: jenkins, job: x }",
    ].join("\n");
    expect(parseRoutes(text, "r.yaml").problems.map((p) => `${p.line}:${p.col}`)).to.deep.equal(["1:22"]);
  });

  it("parseRoutes positions a template problem at the value's start when the source writes the placeholder differently (an escape)", () => {
    const text = [...head, "    match: {}", '    action: { type: jenkins, job: "{{ \\u0062rnach }}" }'].join(
      "\n",
    );
    expect(parseRoutes(text, "r.yaml").problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(
      ['6:35: route "a" action.job: unknown template field "brnach" (did you mean "branch"?)'],
    );
  });
});

describe("Function: parseRoutes (what only the semantic checks find, and a shape they must not trip on)", () => {
  const defaults =
    "defaults: { secret: hookgate/gh, jenkins: { url: https://j.example.com, credentials: hookgate/j } }";
  const route = ["version: 1", defaults, "routes:", "  - name: a"];
  // The three fields nearest to the unknown one, and where the others are listed.
  const fields = (...nearest: string[]) =>
    `(closest: ${nearest.join(", ")}; every field is in the README's Templates table, or write payload.<path>)`;
  // [what, the file's lines, every problem as line:col: message]
  const cases: Array<[string, string[], string[]]> = [
    [
      "an empty allowIps with no secret authenticates nothing",
      [
        "version: 1",
        "jenkins: { url: https://j.example.com, credentials: j }",
        "routes:",
        "  - name: a",
        "    auth: { allowIps: [] }",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      [
        '4:11: route "a" has neither a secret nor auth.allowIps, so no delivery could be authenticated; set secret (or defaults.secret)',
      ],
    ],
    [
      "a route without a name and without a secret is named by its place",
      [
        "version: 1",
        "jenkins: { url: https://j.example.com, credentials: j }",
        "routes:",
        "  - match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      [
        "4:5: routes[0] has neither a secret nor auth.allowIps, so no delivery could be authenticated; set secret (or defaults.secret)",
        '4:5: routes[0]: missing required key "name"',
      ],
    ],
    [
      "a duplicate name says the line of the first name, not of its route's first key",
      [
        "version: 1",
        defaults,
        "routes:",
        "  - match: {}",
        "    name: a",
        "    action: { type: jenkins, job: x }",
        "  - name: a",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      [
        '7:11: duplicate route name "a"; route names must be unique (they are URL paths) (first used at line 5)',
      ],
    ],
    [
      "a bad CIDR in defaults.auth.allowIps",
      [
        "version: 1",
        "defaults: { secret: s, auth: { allowIps: [10.0.0.300/8] }, jenkins: { url: https://j.example.com, credentials: j } }",
        "routes:",
        "  - name: a",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      ['2:43: defaults.auth.allowIps[0]: "10.0.0.300/8" is not a CIDR (write 192.0.2.0/24 or 2001:db8::/32)'],
    ],
    [
      "a top-level jenkins with a bad URL and a pasted credential",
      [
        "version: 1",
        "jenkins: { url: 'ftp://x', credentials: 'a b' }",
        "defaults: { secret: s }",
        "routes:",
        "  - name: a",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      [
        '2:17: jenkins.url: a "ftp:" URL (the rest is not shown) must be an http or https URL',
        "2:41: jenkins.credentials: a secret name cannot contain whitespace; this looks like a secret value; store the value in Secrets Manager and write the secret's name here (the value is not shown)",
      ],
    ],
    [
      "an s3-zip route of a provider without an API URL, the provider set in defaults",
      [
        "version: 1",
        "defaults: { provider: gitea, secret: s }",
        "routes:",
        "  - name: a",
        "    match: {}",
        "    action: { type: s3-zip, token: t }",
      ],
      [
        '6:21: route "a" action.type: s3-zip needs the gitea API: set providers.gitea.apiUrl (gitea has no public default)',
      ],
    ],
    [
      "an unknown field in an s3-zip key",
      [...route, "    match: {}", "    action: { type: s3-zip, token: t, key: 'x/{{brnach}}.zip' }"],
      ['6:47: route "a" action.key: unknown template field "brnach" (did you mean "branch"?)'],
    ],
    [
      "an unknown field in a pr-cleanup targetUrl",
      [
        ...route,
        "    match: {}",
        "    action: { type: pr-cleanup, token: t, targetUrl: 'https://x/{{nope}}', steps: [{ delete-branch: }] }",
      ],
      [`6:65: route "a" action.targetUrl: unknown template field "nope" ${fields("repo", "owner", "ref")}`],
    ],
    [
      "an unknown field in a pr-cleanup jenkins step's parameter",
      [
        ...route,
        "    match: {}",
        "    action: { type: pr-cleanup, token: t, steps: [{ jenkins: { job: x, parameters: { A: '{{nope}}' } } }] }",
      ],
      [
        `6:90: route "a" action.steps[0].jenkins.parameters.A: unknown template field "nope" ${fields("repo", "owner", "ref")}`,
      ],
    ],
    [
      "an empty placeholder with a space in it, at the placeholder",
      [...route, "    match: {}", "    action: { type: jenkins, job: 'a-{{ }}' }"],
      ['6:38: route "a" action.job: empty "{{}}" at character 3'],
    ],
    [
      "an unknown dotted field, at the placeholder",
      [...route, "    match: {}", "    action: { type: jenkins, job: 'a-{{ branch.nope }}' }"],
      [
        `6:38: route "a" action.job: unknown template field "branch.nope" ${fields("branch.path", "branch", "repo.name")}`,
      ],
    ],
    [
      "a path glob with leading slashes and a trailing one",
      [...route, "    match: { paths: ['//docs/'] }", "    action: { type: jenkins, job: x }"],
      [
        `5:22: route "a" match.paths[0]: glob "//docs/" never matches: changed files are paths from the repository's root, without a leading "/"; write 'docs/**'`,
      ],
    ],
    // A value left empty while the file is written: the schema says so, and nothing else trips on it.
    [
      "an empty providers.gitlab",
      [
        "version: 1",
        "providers: { gitlab: }",
        defaults,
        "routes:",
        "  - name: a",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      ["2:22: providers.gitlab: must be a map (key: value), not empty"],
    ],
    [
      "an empty pr-cleanup step",
      [
        ...route,
        "    match: {}",
        "    action:",
        "      type: pr-cleanup",
        "      token: t",
        "      steps:",
        "        -",
      ],
      ['10:10: route "a" action.steps[0]: must be a map (key: value), not empty'],
    ],
    [
      "a delete-s3-prefix step without a prefix",
      [
        ...route,
        "    match: {}",
        "    action: { type: pr-cleanup, token: t, steps: [{ delete-s3-prefix: { bucket: my-bucket } }] }",
      ],
      ['6:71: route "a" action.steps[0].delete-s3-prefix: missing required key "prefix"'],
    ],
    [
      "an s3-zip route without match",
      [...route, "    action: { type: s3-zip, token: t }"],
      ['4:5: route "a": missing required key "match"'],
    ],
    [
      "a number in an allowIps list",
      [...route, "    auth: { allowIps: [5] }", "    match: {}", "    action: { type: jenkins, job: x }"],
      ['5:24: route "a" auth.allowIps[0]: must be text, not a whole number; to mean the text, quote it: "5"'],
    ],
    [
      "a number as the Bitbucket Data Center API URL",
      [
        "version: 1",
        "providers: { bitbucket-server: { apiUrl: 5 } }",
        defaults,
        ...route.slice(2),
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      [
        '2:42: providers.bitbucket-server.apiUrl: must be text, not a whole number; to mean the text, quote it: "5"',
      ],
    ],
    // Not a URL at all: that is said, not also the /rest/api ending it lacks.
    [
      "a Bitbucket Data Center API URL that is no URL",
      [
        "version: 1",
        "providers: { bitbucket-server: { apiUrl: 'bitbucket.example.com' } }",
        defaults,
        ...route.slice(2),
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      [
        '2:42: providers.bitbucket-server.apiUrl: "bitbucket.example.com" is not a URL (write it as https://host[:port][/path])',
      ],
    ],
    [
      "a number as a route name beside a route named by text",
      [
        "version: 1",
        defaults,
        "routes:",
        "  - name: 5",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
        "  - name: b",
        "    match: {}",
        "    action: { type: jenkins, job: x }",
      ],
      ['4:11: routes[0] name: must be text, not a whole number; to mean the text, quote it: "5"'],
    ],
  ];
  for (const [what, lines, expected] of cases) {
    it(`parseRoutes reports ${what} as: ${expected.map((e) => e.split(": ")[0]).join(", ")}`, () => {
      const { config, problems } = parseRoutes(lines.join("\n"), "r.yaml");
      expect(config).to.equal(undefined);
      expect(problems.map((p) => `${p.line}:${p.col}: ${p.message}`)).to.deep.equal(expected);
    });
  }
});

describe("Function: parseRoutes on a glob the matcher never finishes reading", () => {
  it("reports a filter glob ending in four backslashes, in events, actions, branches, tags or paths, and returns (no later check compiles it)", function () {
    this.timeout(60_000);
    const bad = "\\\\\\\\";
    const routes = ["events", "actions", "branches", "tags", "paths"].map((key, i) => ({
      name: `r${i}`,
      match: { [key]: [bad] },
      action: { type: "jenkins", job: "j" },
    }));
    const text = stringify({
      version: 1,
      defaults: { secret: "hooks/s", jenkins: { url: "https://ci.example.com", credentials: "ci/c" } },
      routes,
    });
    // In a child: the hang is synchronous, so only a kill can end it.
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", join(__dirname, "children", "parseRoutesOnce.ts")],
      { input: text, encoding: "utf8", timeout: 45_000 },
    );
    expect(child.signal, "parseRoutes did not return").to.equal(null);
    const problems = JSON.parse(child.stdout) as string[];
    expect(problems).to.have.length(5);
    for (const problem of problems) expect(problem).to.contain('ends with four or more "\\"');
  });
});

describe("Function: parseRoutes, a delete-s3-prefix prefix without the repository on a route of several repositories (review h424)", () => {
  const file = (repos: string | undefined, prefix: string, provider = "github") =>
    [
      "version: 1",
      `defaults: { secret: hooks/s, provider: ${provider} }`,
      `providers: { ${provider}: { token: t/gh${apiUrl(provider)} } }`,
      "routes:",
      "  - name: cleanup",
      `    match: { ${repos === undefined ? "" : `repos: ${repos}, `}events: [pull_request], actions: [closed] }`,
      `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
    ].join("\n");
  const lead = 'route "cleanup" action.steps[0].delete-s3-prefix.prefix: the prefix';
  const tail = "pull request numbers are per repository: closing one #7 deletes every #7's objects";
  const noRepo = (fix: string) =>
    `${lead} names no repository, on a route of several: ${tail}; write '${fix}'`;
  const foldersFirst = (fix: string) =>
    'route "cleanup" action.steps[0].delete-s3-prefix.prefix: a field of folders comes before the repository\'s ' +
    `full name: a branch may spell another repository's folders, nesting prefixes; write '${fix}'`;
  const noOwner = (fix: string) =>
    `${lead} names no owner, on a route of several owners': ${tail}; write '${fix}'`;
  // [repos, prefix, provider, message]
  const refused: Array<[string | undefined, string, string, string]> = [
    [
      '["acme/*"]',
      "previews/pr-{{pr.number}}/",
      "github",
      noRepo("{{repo.path}}/previews/pr-{{pr.number}}/"),
    ],
    [undefined, "previews/pr-{{pr.number}}/", "github", noRepo("{{repo.path}}/previews/pr-{{pr.number}}/")],
    ["[acme/api, acme/web]", "p/{{pr.headRef}}/", "github", noRepo("{{repo.path}}/p/{{pr.headRef}}/")],
    [
      '["acme/*", "other/*"]',
      "p/{{repo.name}}/pr-{{pr.number}}/",
      "github",
      noOwner("p/{{repo.path}}/pr-{{pr.number}}/"),
    ],
    [undefined, "p/{{ repo }}/pr-{{pr.number}}/", "github", noOwner("p/{{repo.path}}/pr-{{pr.number}}/")],
    // GitLab's subgroups: acme/a/api and acme/b/api share the name.
    ['["acme/**"]', "p/{{repo}}/pr-{{pr.number}}/", "gitlab", noOwner("p/{{repo.path}}/pr-{{pr.number}}/")],
    // Two subgroups of one group: platform/team/api and platform/ops/api share the name.
    [
      '["platform/team/*", "platform/ops/*"]',
      "p/{{repo}}/pr-{{pr.number}}/",
      "gitlab",
      noOwner("p/{{repo.path}}/pr-{{pr.number}}/"),
    ],
    // A per-repository id on a route of several (review h438): Bitbucket's ids and GitLab's iid are per repository.
    [
      '["acme/*"]',
      "p/{{payload.pullrequest.id}}/",
      "bitbucket",
      noRepo("{{repo.path}}/p/{{payload.pullrequest.id}}/"),
    ],
    [
      '["acme/**"]',
      "p/{{payload.object_attributes.iid}}/",
      "gitlab",
      noRepo("{{repo.path}}/p/{{payload.object_attributes.iid}…"),
    ],
    // Owner and name joined otherwise than by "/" (review h438): a_b/c and a/b_c are both a_b_c, acme-web/api
    // and acme/web-api both acme-web-api.
    ...[
      [
        undefined,
        "previews/{{repo.underscored}}/pr-{{pr.number}}/",
        "previews/{{repo.path}}/pr-{{pr.number}}/",
      ],
      [
        '["acme/*", "acme-web/*"]',
        "p/{{owner}}-{{repo}}/pr-{{pr.number}}/",
        "p/{{repo.path}}/pr-{{pr.number}}/",
      ],
      [
        '["acme/*", "other/*"]',
        "p/{{ repo.owner }}_{{repo.name}}/{{pr.number}}/",
        "p/{{repo.path}}/{{pr.number}}/",
      ],
      [undefined, "p/{{repo}}{{owner}}/{{pr.number}}/", "p/{{repo.path}}/{{pr.number}}/"],
    ].map(([repos, prefix, fix]): [string | undefined, string, string, string] => [
      repos,
      prefix as string,
      "github",
      `${lead} names no repository, on a route of several: owner and name joined by anything but "/" may be two ` +
        `repositories' (a-b/c and a/b-c); write '${fix}'`,
    ]),
    // The full name with a field against it, with an example of the shape found (review h476): a/b with #17
    // and a/b1 with #7 are both a/b17.
    ...[
      [
        "p/{{repo.path}}{{pr.number}}/",
        "a/b #17 and a/b1 #7 are both a/b17",
        "p/{{repo.path}}/{{pr.number}}/",
      ],
      [
        "p/{{repo}}{{repo.path}}{{owner}}/pr-{{pr.number}}/",
        "two repositories' may be one text",
        "p/{{repo}}/{{repo.path}}/{{owner}}/pr-{{pr.numbe…",
      ],
      [
        "p/{{owner}}/{{repo}}{{pr.number}}/",
        "a/b #17 and a/b1 #7 are both a/b17",
        "p/{{owner}}/{{repo}}/{{pr.number}}/",
      ],
      // Text that a name or branch can hold does not keep them apart: a/b's c-d and a/b-c's d are both a/b-c-d.
      [
        "previews/{{repo.path}}-{{pr.headRef}}/",
        "a/b with {{pr.headRef}} c-d and a/b-c with d are both a/b-c-d",
        "previews/{{repo.path}}-/{{pr.headRef}}/",
      ],
      [
        // Shown as rendered: a payload's full name writes its "/" as %2F (review h491).
        "previews/{{payload.repository.full_name}}{{pr.number}}/",
        "a/b #17 and a/b1 #7 are both a%2Fb17",
        "previews/{{payload.repository.full_name}}/{{pr…",
      ],
      [
        "previews/{{repo.fullName}}-{{pr.headRef}}/",
        "a/b with {{pr.headRef}} c-d and a/b-c with d are both a%2Fb-c-d",
        "previews/{{repo.fullName}}-/{{pr.headRef}}/",
      ],
      // The number runs on into the head branch: acme/api !2 from 3-fix and acme/api-2 !3 from fix (review h474).
      [
        "{{repo.path}}-{{pr.number}}-{{pr.headRef}}/",
        "a/b #2 from 3-x and a/b-2 #3 from x are both a/b-2-3-x",
        "{{repo.path}}-/{{pr.number}}-/{{pr.headRef}}/",
      ],
      // The number before the name.
      [
        "p/{{pr.number}}{{repo.path}}/",
        "a/b #17 and 7a/b #1 are both 17a/b",
        "p/{{pr.number}}/{{repo.path}}/",
      ],
      [
        "{{pr.headRef}}{{pr.number}}-{{repo.path}}/",
        "a/b #1 from x1-y and y1-a/b #1 from x are both x1-y1-a/b",
        "{{pr.headRef}}/{{pr.number}}-/{{repo.path}}/",
      ],
    ].map(([prefix, example, fix]): [string | undefined, string, string, string] => [
      undefined,
      prefix as string,
      "github",
      `${lead}'s repository name runs into another field (no / between): ${example}; write '${fix}'`,
    ]),
    // One owner's repositories: the name alone names the repository, but not run into the number.
    [
      '["acme/*"]',
      "previews/{{repo}}{{pr.number}}/",
      "github",
      `${lead}'s repository name runs into another field (no / between): b #17 and b1 #7 are both b17; ` +
        "write 'previews/{{repo}}/{{pr.number}}/'",
    ],
    // Another host's full name field is not in the payload and renders empty (review h438): GitLab's merge
    // request has repository.name, no full_name; Data Center's payload has no repository.
    ...[
      ["gitlab", "payload.repository.full_name"],
      ["github", "payload.project.path_with_namespace"],
      ["bitbucket-server", "payload.repository.full_name"],
      ["gitlab", "payload.pull_request.base.repo.full_name"],
      ["github", "payload.pullrequest.destination.repository.full_name"],
    ].map(([provider, field]): [string, string, string, string] => [
      '["acme/**"]',
      `p/{{${field}}}/pr-{{pr.number}}/`,
      provider as string,
      `route "cleanup" action.steps[0].delete-s3-prefix.prefix: {{${field}}} renders empty (not in a ${provider} ` +
        "payload): the prefix names no repository, so each #7 shares it; write 'p/{{repo.path}}/pr-{{pr.number}}/'",
    ]),
    // A head branch's folders anywhere before a GitLab full name, another field between: b/c !2 from fix/pr-1/a
    // and a/pr-2/b/c !1 from fix are both fix/pr-1/a/pr-2/b/c/ (review h476).
    [
      undefined,
      "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/",
      "gitlab",
      foldersFirst("{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/"),
    ],
    // A head branch's folders before a GitLab full name: web/app !1 from fix/platform and platform/web/app !2
    // from fix are both previews/fix/platform/web/app/ (review h475).
    [
      undefined,
      "previews/{{pr.headRef.path}}/{{repo.path}}/",
      "gitlab",
      foldersFirst("{{repo.path}}/previews/{{pr.headRef.path}}/{{repo.path}}/"),
    ],
    // On any host, a field of folders before the full name as folders: login/acme from feature is under
    // feature/login/acme/, the folder of acme/web's from feature/login (and c/d #3 from fix/pr-1/a/b is under
    // a/b #1 from fix's fix/pr-1/a/b/) (review h491).
    [
      undefined,
      "previews/{{pr.headRef.path}}/{{repo.path}}/",
      "github",
      foldersFirst("{{repo.path}}/previews/{{pr.headRef.path}}/{{repo.path}}/"),
    ],
    [
      undefined,
      "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/",
      "github",
      foldersFirst("{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/"),
    ],
    [
      undefined,
      "previews/{{branch.path}}/{{owner}}/{{repo}}/pr-{{pr.number}}/",
      "bitbucket",
      foldersFirst("{{repo.path}}/previews/{{branch.path}}/{{owner}}/{{repo}}/pr-{{pr.…"),
    ],
    // GitLab subgroups nest: text after {{repo.path}} in its folder may name a subgroup beside the project, so
    // acme/api !2's acme/api-2/ holds subgroup acme/api-2's core !5, acme/api-2/core-5/ (review h491).
    ...[
      ["previews/{{repo.path}}-{{pr.number}}/", "previews/{{repo.path}}/{{pr.number}}/"],
      ["previews/{{repo.path}}-pr-{{pr.number}}/", "previews/{{repo.path}}/pr-{{pr.number}}/"],
      ["{{repo.path}}_pr{{pr.number}}/", "{{repo.path}}/pr{{pr.number}}/"],
    ].map(([prefix, fix]): [string, string, string, string] => [
      '["acme/**"]',
      prefix as string,
      "gitlab",
      'route "cleanup" action.steps[0].delete-s3-prefix.prefix: text follows {{repo.path}} in its folder: GitLab ' +
        `subgroups nest, so a subgroup's projects may be under the prefix; write '${fix}'`,
    ]),
    // A merge request id unique across the host tells every two apart, but one's prefix may still hold
    // another's: acme/web's id 1 is previews/acme/web-1/, the folder of acme/web-1/x's id 2 (previews/acme/web-1/x-2/).
    ...[
      [
        "previews/{{repo.path}}-{{payload.object_attributes.id}}/",
        "previews/{{repo.path}}/{{payload.object_attributes.id}}/",
      ],
      [
        "previews/{{repo.path}}{{payload.object_attributes.id}}/",
        "previews/{{repo.path}}/{{payload.object_attributes.id}}/",
      ],
      [
        "p/{{repo.path}}-{{pr.number}}-{{payload.object_attributes.id}}/",
        "p/{{repo.path}}/{{pr.number}}-{{payload.object_attributes.id}}/",
      ],
    ].flatMap(
      ([prefix, fix]): Array<[string, string, string, string]> =>
        ['["**"]', '["acme/**"]'].map((repos) => [
          repos,
          prefix as string,
          "gitlab",
          'route "cleanup" action.steps[0].delete-s3-prefix.prefix: text follows {{repo.path}} in its folder: GitLab ' +
            `subgroups nest, so a subgroup's projects may be under the prefix; write '${fix}'`,
        ]),
    ),
    // The fix for another host's full name run into the number keeps them apart, as check then takes it.
    [
      '["acme/**"]',
      "{{payload.repository.full_name}}{{pr.number}}/",
      "gitlab",
      'route "cleanup" action.steps[0].delete-s3-prefix.prefix: {{payload.repository.full_name}} renders empty ' +
        "(not in a gitlab payload): the prefix names no repository, so each #7 shares it; write " +
        "'{{repo.path}}/{{pr.number}}/'",
    ],
  ];
  it("parseRoutes refuses a prefix whose name runs into the number through one owner's name holding digits: 12/ab #123 and 12/ab12 #3 are both p/ab12123/", () => {
    const { config, problems } = parseRoutes(
      file('["12/*"]', "p/{{repo}}{{owner}}{{pr.number}}/"),
      "routes.yaml",
    );
    expect(config).to.equal(undefined);
    expect(problems).to.have.length(1);
    // Letters keep them apart: acme/ab #123 is abacme123.
    expect(
      parseRoutes(file('["acme/*"]', "p/{{repo}}{{owner}}{{pr.number}}/"), "routes.yaml").problems,
    ).to.deep.equal([]);
  });
  it("parseRoutes gives a refused prefix whose name runs into another field an example that prefix renders alike for two repositories, of the shape found (review h476)", () => {
    type Pull = { number: number; headRef?: string };
    // [repos, prefix, first repository and pull request, second, the example the message gives]
    const cases: Array<[string | undefined, string, [string, Pull], [string, Pull], string]> = [
      [
        undefined,
        "p/{{repo.path}}{{pr.number}}/",
        ["a/b", { number: 17 }],
        ["a/b1", { number: 7 }],
        "a/b #17 and a/b1 #7 are both a/b17",
      ],
      [
        undefined,
        "p/{{repo.path}}1{{pr.number}}/",
        ["a/b", { number: 17 }],
        ["a/b1", { number: 7 }],
        "a/b #17 and a/b1 #7 are both a/b117",
      ],
      [
        undefined,
        "p/{{pr.number}}{{repo.path}}/",
        ["a/b", { number: 17 }],
        ["7a/b", { number: 1 }],
        "a/b #17 and 7a/b #1 are both 17a/b",
      ],
      [
        undefined,
        "p/{{pr.number}}1{{repo.path}}/",
        ["a/b", { number: 21 }],
        ["1a/b", { number: 2 }],
        "a/b #21 and 1a/b #2 are both 211a/b",
      ],
      [
        undefined,
        "p/{{repo.path}}-{{pr.headRef}}/",
        ["a/b", { number: 1, headRef: "c-d" }],
        ["a/b-c", { number: 1, headRef: "d" }],
        "a/b with {{pr.headRef}} c-d and a/b-c with d are both a/b-c-d",
      ],
      [
        undefined,
        "p/{{pr.headRef}}_{{repo.path}}/",
        ["a/b", { number: 1, headRef: "c_d" }],
        ["d_a/b", { number: 1, headRef: "c" }],
        "a/b with {{pr.headRef}} c_d and d_a/b with c are both c_d_a/b",
      ],
      [
        undefined,
        "{{repo.path}}-{{pr.number}}-{{pr.headRef}}/",
        ["a/b", { number: 2, headRef: "3-x" }],
        ["a/b-2", { number: 3, headRef: "x" }],
        "a/b #2 from 3-x and a/b-2 #3 from x are both a/b-2-3-x",
      ],
      [
        undefined,
        "p/{{pr.headRef}}-{{pr.number}}-{{repo.path}}/",
        ["a/b", { number: 1, headRef: "x-1-y" }],
        ["y-1-a/b", { number: 1, headRef: "x" }],
        "a/b #1 from x-1-y and y-1-a/b #1 from x are both x-1-y-1-a/b",
      ],
      [
        '["acme/*"]',
        "p/{{repo}}{{pr.number}}/",
        ["acme/b", { number: 17 }],
        ["acme/b1", { number: 7 }],
        "b #17 and b1 #7 are both b17",
      ],
    ];
    for (const [repos, prefix, [one, first], [two, second], example] of cases) {
      const render = (fullName: string, pr: Pull) => {
        const [owner, name] = fullName.split("/");
        const event = { repo: { owner, name, fullName }, pr } as unknown as WebhookEvent;
        return renderTemplate(prefix, event, "s3-key");
      };
      const text = example.slice(example.lastIndexOf(" ") + 1);
      expect(render(one, first), prefix).to.equal(`${prefix.startsWith("p/") ? "p/" : ""}${text}/`);
      expect(render(two, second), prefix).to.equal(render(one, first));
      const { problems } = parseRoutes(file(repos, prefix), "routes.yaml");
      expect(problems.map((p) => p.message).join(), prefix).to.include(`(no / between): ${example}; write`);
    }
  });

  it("parseRoutes refuses a prefix whose number before the repository runs on from a field, a digit or the name (review h476)", () => {
    for (const [prefix, provider] of [
      // a/b #17 and 7a/b #1 are both 17a/b.
      ["p/{{pr.number}}{{repo.path}}/", "github"],
      // Digits alone between: #1 of 1a/b and #11 of a/b are both 111a/b.
      ["p/{{pr.number}}1{{repo.path}}/", "github"],
      // The number's own start runs on from a branch: a/b's "x1-" #1 and 1-a/b's "x" #1 are both x1-1-a/b.
      ["{{pr.headRef}}{{pr.number}}-{{repo.path}}/", "github"],
      ["p/{{pr.headRef}}-{{pr.number}}-{{repo.path}}/", "github"],
      // The name runs on into a branch after it.
      ["p/{{pr.number}}-{{repo.path}}-{{pr.headRef}}/", "github"],
    ] as const) {
      const { config, problems } = parseRoutes(file(undefined, prefix, provider), "routes.yaml");
      expect(config, prefix).to.equal(undefined);
      expect(problems.map((p) => p.message).join(), prefix).to.include("runs into another field");
    }
    // A GitLab full name after a field of folders: its owner's folders may be the branch's, a "/" or not.
    const gitlab = parseRoutes(
      file(undefined, "{{pr.headRef.path}}/{{pr.number}}-{{repo.path}}/", "gitlab"),
      "r",
    );
    expect(gitlab.config).to.equal(undefined);
    expect(gitlab.problems.map((p) => p.message).join()).to.include(
      "a field of folders comes before the repository's full name",
    );
  });
  // Its number runs into the branch too: x1 #2 and x #12 are both x12 (review h494).
  const numberIntoBranch = (prefix: string) =>
    prefix.startsWith("{{pr.headRef}}{{pr.number}}")
      ? [
          `route "cleanup" action.steps[0].delete-s3-prefix.prefix: {{pr.number}} runs into {{pr.headRef}} with ` +
            "nothing between: #12 from x and #2 from x1 are " +
            `both x12; closing one deletes both; put "-" between`,
        ]
      : [];
  for (const [repos, prefix, provider, message] of refused) {
    it(`parseRoutes refuses the prefix ${prefix} on repos ${repos ?? "(any)"}`, () => {
      const { config, problems } = parseRoutes(file(repos, prefix, provider), "routes.yaml");
      expect(config).to.equal(undefined);
      expect(problems.map((p) => p.message)).to.deep.equal([...numberIntoBranch(prefix), message]);
    });
  }
  // One repository; one owner's, with the name; any, with the full name or the owner and the name.
  const taken: Array<[string | undefined, string, string?]> = [
    ["[acme/api]", "previews/pr-{{pr.number}}/"],
    // One repository, and exclusions (review h438).
    ['["acme/api", "!acme/api-legacy"]', "previews/pr-{{pr.number}}/"],
    ['["!acme/old", "acme/api", "!acme/api-*"]', "previews/pr-{{pr.number}}/"],
    // A pull request's id or URL that is the host's own, one in all repositories (review h438).
    ['["acme/*", "other/*"]', "previews/{{payload.pull_request.id}}/", "github"],
    [undefined, "previews/{{ payload.pull_request.node_id }}/", "github"],
    [undefined, "previews/{{payload.pull_request.html_url}}/", "github"],
    [undefined, "previews/{{payload.pull_request.id}}/", "gitea"],
    ['["platform/**"]', "previews/{{payload.object_attributes.id}}/", "gitlab"],
    ['["platform/**"]', "previews/{{payload.object_attributes.url}}/", "gitlab"],
    // Beside {{repo.path}} in its folder, where no subgroup may be under it: projects of one depth, no GitLab,
    // or the URL, whose "%" no GitLab path has.
    ['["acme/*"]', "previews/{{repo.path}}-{{payload.object_attributes.id}}/", "gitlab"],
    [undefined, "previews/{{repo.path}}-{{payload.pull_request.id}}/", "github"],
    ['["acme/**"]', "previews/{{repo.path}}-{{payload.object_attributes.url}}/", "gitlab"],
    ['["acme/**"]', "previews/{{repo.path}}-{{pr.number}}-{{payload.object_attributes.url}}/", "gitlab"],
    [undefined, "previews/{{payload.pullrequest.links.html.href}}/", "bitbucket"],
    [undefined, "previews/{{payload.pullRequest.links.self.0.href}}/", "bitbucket-server"],
    // The provider's own full name field.
    [undefined, "p/{{payload.repository.full_name}}/pr-{{pr.number}}/", "github"],
    [undefined, "p/{{ payload.repository.full_name }}/pr-{{pr.number}}/", "bitbucket"],
    [undefined, "p/{{payload.repository.full_name}}/pr-{{pr.number}}/", "gitea"],
    ['["acme/**"]', "p/{{payload.project.path_with_namespace}}/pr-{{pr.number}}/", "gitlab"],
    // The pull request's base (target) repository is the repository: its full name, as each host's pull request
    // payload has it, names it too.
    [undefined, "p/{{payload.pull_request.base.repo.full_name}}/pr-{{pr.number}}/", "github"],
    [undefined, "p/{{payload.pull_request.base.repo.full_name}}/pr-{{pr.number}}/", "gitea"],
    [undefined, "p/{{payload.pull_request.base_repo.full_name}}/pr-{{pr.number}}/", "gitea"],
    ['["acme/**"]', "p/{{payload.object_attributes.target.path_with_namespace}}/pr-{{pr.number}}/", "gitlab"],
    [undefined, "p/{{payload.pullrequest.destination.repository.full_name}}/pr-{{pr.number}}/", "bitbucket"],
    // A GitLab project's owner is its namespace: every project here is platform/team's.
    ['["platform/team/*"]', "previews/{{repo}}/pr-{{pr.number}}/", "gitlab"],
    ['["platform/team/api", "platform/team/web"]', "previews/{{repo}}/pr-{{pr.number}}/", "gitlab"],
    ['["acme/*"]', "previews/{{repo}}/pr-{{pr.number}}/"],
    ['["acme/api", "acme/web", "!acme/old"]', "previews/{{repo.name}}/pr-{{pr.number}}/"],
    [undefined, "{{repo.path}}/pr-{{pr.number}}/"],
    // Owner and name joined otherwise than by "/": the name, once the owner is known.
    ['["acme/*"]', "previews/{{repo.underscored}}-{{pr.number}}/"],
    ['["acme/api", "acme/web"]', "previews/{{owner}}-{{repo}}/pr-{{pr.number}}/"],
    [undefined, "previews/{{ repo.owner }}/{{ repo.name }}/pr-{{pr.number}}/"],
    // The name first: a name holds no "/".
    [undefined, "previews/{{repo}}/{{owner}}/pr-{{pr.number}}/"],
    [undefined, "previews/{{repo.fullName}}/pr-{{pr.number}}/"],
    ['["acme/*", "other/*"]', "{{owner}}/{{repo}}/pr-{{pr.number}}/"],
    // The number first, then text without a digit: the number is the digits at the folder's start, and the
    // name starts after the text (17-a/b is #17 of a/b, never #1 of 7-a/b) (review h476).
    [undefined, "previews/{{pr.number}}-{{repo.path}}/"],
    [undefined, "previews/{{pr.number}}-{{repo.path}}/", "gitlab"],
    [undefined, "{{pr.number}}-pr-{{owner}}/{{repo}}/"],
    [undefined, "p/{{pr.headRef}}/{{pr.number}}-{{repo.path}}/"],
    ['["acme/*"]', "previews/{{ pr.number }}-{{repo}}/"],
    // Text holding a digit and a non-digit beside the number: the number is told by the text's first non-digit
    // (171-a/b is #17 of a/b) or its last (a/b-1-17), whatever digits the text holds (review h491).
    [undefined, "p/{{pr.number}}1-{{repo.path}}/"],
    [undefined, "p/{{repo.path}}-1-{{pr.number}}/", "github"],
    // One owner's own text, digits and all, beside the number: api-team1-pr-12 is api's #12 alone.
    ['["team1/*"]', "previews/{{repo}}-{{owner}}-pr-{{pr.number}}/"],
    ['["team1/*"]', "previews/{{pr.number}}-{{owner}}-{{repo}}/"],
    // (A head branch's folders before the name, {{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/, taken here
    // since review h476, are refused: a branch may spell the folders and the name, nesting one repository's
    // prefix under another's; see foldersBeforeName.test.ts.)
    // Text after a full name in its folder: a GitHub or Bitbucket owner holds no subgroup; GitLab's
    // {{owner}}/{{repo}} writes the owner's "/" as %2F, one folder (review h491).
    [undefined, "previews/{{repo.path}}-pr-{{pr.number}}/", "github"],
    [undefined, "previews/{{repo.path}}-pr-{{pr.number}}/", "bitbucket"],
    ['["acme/**"]', "previews/{{owner}}/{{repo}}-pr-{{pr.number}}/", "gitlab"],
    ['["acme/**"]', "previews/{{repo.path}}/pr-{{pr.number}}/", "gitlab"],
    // A GitLab full name written as one folder ("/" as %2F) after a head branch's folders: it is the last
    // folder, whole, so no branch's folders can end inside it (b%2Fc !2 from fix/pr-1/a beside a%2Fpr-2%2Fb%2Fc
    // !1 from fix).
    [
      undefined,
      "previews/{{pr.headRef.path}}/pr-{{pr.number}}/{{payload.project.path_with_namespace}}/",
      "gitlab",
    ],
    [undefined, "previews/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.fullName}}/", "gitlab"],
    [undefined, "previews/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.fullName}}/"],
  ];
  for (const [repos, prefix, provider] of taken) {
    it(`parseRoutes takes the prefix ${prefix} on repos ${repos ?? "(any)"}${provider ? ` (${provider})` : ""}`, () => {
      const { problems } = parseRoutes(file(repos, prefix, provider), "routes.yaml");
      expect(problems).to.deep.equal([]);
    });
  }
});
