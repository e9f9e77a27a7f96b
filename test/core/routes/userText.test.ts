// What a problem message echoes of the user's text: never a control or format character, never more than a
// few hundred characters, whatever the file holds; and globs and job names with a character that cannot be
// seen are refused.
import { expect } from "chai";
import fc from "fast-check";
import { stringify } from "yaml";
import { parseRoutes } from "../../../src/core/routes/parse";
import { runs } from "../../support/propertyRuns";

const RAW_INVISIBLE = /\p{Cc}|\p{Cf}|[\u2028\u2029]/u;
const MAX_MESSAGE = 300;

const DEFAULTS =
  'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }';

/**
 * routes.yaml of one pr-cleanup route named by 10 ESCs (40 characters once escaped, the longest a message
 * shows), deleting under `prefix`; without `provider`, the default (github).
 */
function escapedNameCleanup(prefix: string, provider?: string): string {
  return stringify({
    version: 1,
    defaults: provider === undefined ? { secret: "hooks/s" } : { secret: "hooks/s", provider },
    providers: { [provider ?? "github"]: { token: "t/gh" } },
    routes: [
      {
        name: "\u001b".repeat(10),
        match: { events: ["pull_request"], actions: ["closed"] },
        action: { type: "pr-cleanup", steps: [{ "delete-s3-prefix": { bucket: "b-b", prefix } }] },
      },
    ],
  });
}

function messages(text: string): string[] {
  return parseRoutes(text, "routes.yaml").problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

describe("Function: parseRoutes, characters that cannot be seen in a glob or a job name", () => {
  const route = (match: string, job = "api/build") =>
    [
      "version: 1",
      DEFAULTS,
      "routes:",
      "  - name: api-build",
      `    match: ${match}`,
      `    action: { type: jenkins, job: "${job}", parameters: { SHA: "{{sha}}" } }`,
    ].join("\n");
  // [what, the file, every problem]
  const cases: Array<[string, string, string[]]> = [
    [
      "a zero-width space in a repository and a job",
      route('{ repos: ["acme/\\u200bapi"], events: [push] }', "api/\\u200bbuild"),
      [
        '5:22: route "api-build" match.repos[0]: glob "acme/\\u200bapi" holds U+200B (zero-width space) at character 6: remove it',
        '6:35: route "api-build" action.job: job "api/\\u200bbuild" holds U+200B (zero-width space) at character 5: remove it',
      ],
    ],
    [
      "DEL in a repository, NEL and a right-to-left override in branches",
      route('{ repos: ["acme/\\x7fapi"], branches: ["ma\\x85in", "\\u202eniam"] }'),
      [
        '5:22: route "api-build" match.repos[0]: glob "acme/\\u007fapi" holds U+007F (delete, DEL) at character 6: remove it',
        '5:50: route "api-build" match.branches[0]: glob "ma\\u0085in" holds U+0085 (next line, NEL) at character 3: remove it',
        '5:62: route "api-build" match.branches[1]: glob "\\u202eniam" holds U+202E (right-to-left override) at character 1: remove it',
      ],
    ],
    [
      "a byte order mark in a tag, a bidi isolate in a path, a line separator in an actor",
      route('{ tags: ["\\ufeffv1"], paths: ["src/\\u2066x"], actors: ["bot\\u2028"] }'),
      [
        '5:21: route "api-build" match.tags[0]: glob "\\ufeffv1" holds U+FEFF (byte order mark) at character 1: remove it',
        '5:42: route "api-build" match.paths[0]: glob "src/\\u2066x" holds U+2066 (left-to-right isolate) at character 5: remove it',
        '5:67: route "api-build" match.actors[0]: glob "bot\\u2028" holds U+2028 (line separator) at character 4: remove it',
      ],
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes refuses ${what}, naming the character and where it is`, () => {
      expect(messages(text)).to.deep.equal(expected);
    });
  }

  it("parseRoutes accepts a no-break space at the end of a branch, which Git allows", () => {
    const { problems, config } = parseRoutes(route('{ branches: ["main\\u00a0"] }'), "routes.yaml");
    expect(problems).to.deep.equal([]);
    expect(config?.routes[0]?.match.branches).to.deep.equal(["main\u00a0"]);
  });
});

describe("Function: parseRoutes, user text in messages is escaped and clipped", () => {
  // [what, the file, every problem]
  const cases: Array<[string, string, string[]]> = [
    [
      "a key holding ESC sequences (clear screen, red)",
      `version: 1\n${DEFAULTS}\nroutes:\n  - name: a\n    match: { "\\e[2J\\e[31mevents": [push] }\n    action: { type: jenkins, job: j }`,
      [
        '5:14: route "a" match: unknown key "\\u001b[2J\\u001b[31mevents" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)',
      ],
    ],
    [
      "a route name holding NUL",
      `version: 1\n${DEFAULTS}\nroutes:\n  - name: "a\\0b"\n    match: {}\n    action: { type: jenkins, job: j }`,
      [
        '4:11: route name "a\\u0000b" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit (it becomes the URL path /hooks/<name>)',
      ],
    ],
    [
      "a long route name, without a secret, used twice",
      `version: 1\nroutes:\n${'  - name: "{{sha}}'.repeat(1)}${"{{sha}}".repeat(300)}"\n    match: {}\n    auth: { allowIps: [192.0.2.0/24] }\n    action: { type: jenkins, job: j, jenkins: { url: "https://ci", credentials: c } }`,
      [
        `3:11: route name "${"{{sha}}".repeat(5)}{{sha…" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit, and use at most 32 characters (it becomes the URL path /hooks/<name>)`,
      ],
    ],
    [
      "a 1 MB quoted text yaml cannot place",
      `p\n: "${"a".repeat(1_000_000)}`,
      // Only the first YAML error is said: the one quoting the token is counted, not printed.
      [
        '2:1: YAML: Unexpected map-value-ind token in YAML stream: ":" (1 more YAML error after it, often caused by this one)',
      ],
    ],
    [
      "an unknown template field far from every field",
      `version: 1\n${DEFAULTS}\nroutes:\n  - name: a\n    match: {}\n    action: { type: jenkins, job: "x/{{nope}}" }`,
      [
        `6:38: route "a" action.job: unknown template field "nope" (closest: repo, owner, ref; every field is in the README's Templates table, or write payload.<path>)`,
      ],
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes reports ${what} in a short message without the raw characters`, () => {
      expect(messages(text)).to.deep.equal(expected);
    });
  }

  it("parseRoutes keeps the message of a long prefix that ends with a field under 300 characters", () => {
    const prefix = `${"}".repeat(200)}{{sha}}`;
    const text = stringify({
      version: 1,
      defaults: { secret: "hooks/s" },
      providers: { github: { token: "t/gh" } },
      routes: [
        {
          name: "a",
          match: {},
          action: { type: "pr-cleanup", steps: [{ "delete-s3-prefix": { bucket: "b-b", prefix } }] },
        },
      ],
    });
    const found = messages(text).filter((m) => m.includes("ends with a field"));
    expect(found).to.have.length(1);
    expect(found[0]?.length).to.be.at.most(MAX_MESSAGE);
    expect(found[0]).to.include(`'${"}".repeat(60)}…/'`);
  });

  it("parseRoutes keeps the message of a prefix whose name runs into a branch under 300 characters, the example's field and text at their longest, after a 40-character escaped route name (review h476)", () => {
    for (const prefix of [
      `p/{{repo.path}}--{{   pr.headRef.underscored   }}/${"x".repeat(80)}/`,
      `p/{{   pr.headRef.underscored   }}--{{repo.path}}/${"x".repeat(80)}/`,
      `p/{{   pr.headRef.underscored   }}--{{pr.number}}--{{repo.path}}/${"x".repeat(80)}/`,
      `p/{{payload.pull_request.base.repo.full_name}}--{{pr.headRef.underscored}}/${"x".repeat(80)}/`,
    ]) {
      const text = escapedNameCleanup(prefix);
      const found = messages(text).filter((m) => m.includes("runs into another field"));
      expect(found, prefix).to.have.length(1);
      expect(found[0], prefix).to.match(/are both/);
      expect(found[0]?.length, found[0]).to.be.at.most(MAX_MESSAGE);
    }
  });

  it("parseRoutes keeps the message of a prefix whose number runs into a branch under 300 characters, however many digits are between, with the longest number and branch fields after a 40-character escaped route name (review h502)", () => {
    const fields: Array<[string, string, string]> = [
      ["gitlab", "{{payload.object_attributes.iid}}", "{{payload.object_attributes.source_branch}}"],
      ["gitlab", "{{payload.object_attributes.iid}}", "{{payload.object_attributes.target_branch}}"],
      ["github", "{{payload.pull_request.number}}", "{{payload.pull_request.head.label}}"],
      ["bitbucket-server", "{{payload.pullRequest.id}}", "{{payload.pullRequest.fromRef.displayId}}"],
      ["github", "{{   pr.number   }}", "{{   pr.headRef.underscored   }}"],
    ];
    for (const [provider, number, branch] of fields) {
      for (const digits of ["", "20241231", "9".repeat(200)]) {
        for (const prefix of [
          `p/{{repo.path}}/${branch}${digits}${number}/`,
          `p/{{repo.path}}/${number}${digits}${branch}/`,
        ]) {
          const text = escapedNameCleanup(prefix, provider);
          const found = messages(text).filter((m) => m.includes(" runs into "));
          expect(found, prefix).to.have.length(1);
          expect(found[0], prefix).to.match(/are both/);
          expect(found[0]?.length, found[0]).to.be.at.most(MAX_MESSAGE);
        }
      }
    }
  });

  it("parseRoutes keeps the GitLab 'text follows {{repo.path}}' and the 'field of folders before the full name' messages under 300 characters after a 40-character escaped route name, a typical fix written whole (review h504)", () => {
    // [provider, prefix, the message's start, the fix written whole (undefined: a long prefix, clipped)]
    const cases: Array<[string, string, string, string | undefined]> = [
      [
        "gitlab",
        "static-previews/{{repo.path}}-preview-{{pr.number}}/",
        "text follows {{repo.path}} in its folder",
        "static-previews/{{repo.path}}/preview-{{pr.number}}/",
      ],
      ["gitlab", "{{repo.path}}-pr-{{pr.number}}/", "text follows", "{{repo.path}}/pr-{{pr.number}}/"],
      ["gitlab", `${"x".repeat(200)}/{{repo.path}}-pr-{{pr.number}}/`, "text follows", undefined],
      [
        "github",
        "previews/{{pr.headRef.path}}/{{repo.path}}/",
        "a field of folders comes before",
        "{{repo.path}}/previews/{{pr.headRef.path}}/{{repo.path}}/",
      ],
      [
        "github",
        "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/",
        "a field of folders comes before",
        "{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/",
      ],
      ["github", `${"x".repeat(200)}/{{pr.headRef.path}}/{{repo.path}}/`, "a field of folders", undefined],
    ];
    for (const [provider, prefix, start, fix] of cases) {
      const text = escapedNameCleanup(prefix, provider);
      const found = messages(text).filter((m) => m.includes(`prefix: ${start}`));
      expect(found, prefix).to.have.length(1);
      expect(found[0]?.length, found[0]).to.be.at.most(MAX_MESSAGE);
      if (fix !== undefined) expect(found[0]).to.include(`; write '${fix}'`);
    }
  });

  it("parseRoutes keeps a duplicate long route name's message short", () => {
    const name = `x${"\u001b".repeat(500)}`;
    const text = stringify({
      version: 1,
      defaults: { secret: "hooks/s" },
      routes: [0, 1].map(() => ({
        name,
        match: {},
        action: { type: "jenkins", job: "j", jenkins: { url: "https://ci", credentials: "c" } },
      })),
    });
    const found = messages(text);
    expect(found.some((m) => m.includes("duplicate route name"))).to.equal(true);
    for (const message of found) {
      expect(message.length).to.be.below(MAX_MESSAGE);
      expect(message).not.to.match(RAW_INVISIBLE);
    }
  });
});

describe("Function: parseRoutes, the tag-push, shared-prefix and targetUrl problems at their longest", () => {
  // The longest location a route gives: a name of 40 characters shown escaped (each "\\" as two, clipped
  // with "…") and a line:col wider than any here. The property test below meets these only by chance.
  const NAME = "\\".repeat(40);
  const WIDEST = "999:999: ";
  const LONG = "\\".repeat(100);
  // For a job: a quote is shown escaped, as a backslash is, which a job's own text may not hold.
  const LONG_JOB = '"'.repeat(100);
  function problems(match: object, action: object): string[] {
    const text = stringify({
      version: 1,
      defaults: { secret: "hooks/s", jenkins: { url: "https://ci.example.com", credentials: "ci/c" } },
      providers: { github: { token: "t/gh" } },
      routes: [{ name: NAME, match, action }],
    });
    return parseRoutes(text, "routes.yaml").problems.map((p) => p.message);
  }
  const tagsOnly = { events: ["push"], tags: ["v*"] };
  const prefix = (value: string) => ({
    type: "pr-cleanup",
    steps: [{ "delete-s3-prefix": { bucket: "b-b", prefix: value } }],
  });
  // [what, match, action, what tells the message apart]
  const cases: Array<[string, object, object, RegExp]> = [
    ["the default key's empty folder on a tags-only route", tagsOnly, { type: "s3-zip" }, /default key's/],
    [
      "a key's empty folder on a tags-only route",
      tagsOnly,
      { type: "s3-zip", key: `${LONG}/{{branch}}/x.zip` },
      /the key has an empty folder/,
    ],
    [
      "a long key the same for every tag",
      tagsOnly,
      { type: "s3-zip", key: `${LONG}{{branch}}.zip` },
      /for every tag, each overwriting/,
    ],
    [
      "a long job whose blank segment is long",
      tagsOnly,
      // Spaces between fields, not at the segment's ends (which check refuses in the job's own text).
      { type: "jenkins", job: `${LONG_JOB}/{{branch}}${" ".repeat(100)}{{branch}}` },
      /invalid segment/,
    ],
    [
      "a long job the same for every tag",
      tagsOnly,
      { type: "jenkins", job: `${LONG_JOB}{{branch}}` },
      /a job no tag has/,
    ],
    [
      "a prefix into a base branch whose own suggestion is clipped (each ' doubled)",
      {},
      prefix(`${"'".repeat(12)}{{branch}}/`),
      /into that base branch share it/,
    ],
    [
      "a long prefix of the repository, told the default",
      {},
      prefix(`${LONG}{{repo.path}}/`),
      /of the repository share it/,
    ],
  ];
  cases.push(
    // Review h424: a prefix without the repository, or with its name alone, on a route of any repository.
    ["a long prefix without the repository", {}, prefix(`${LONG}{{pr.number}}/`), /names no repository/],
    [
      "a long prefix with the repository's name alone",
      {},
      prefix(`${LONG}{{repo}}/{{pr.number}}/`),
      /names no owner/,
    ],
    // Review h438: owner and name joined otherwise than by "/".
    [
      'a long prefix with owner and name joined by a "-"',
      {},
      prefix(`${LONG}{{owner}}-{{repo}}/{{pr.number}}/`),
      /joined/,
    ],
    // Review h486: a head branch with its "/" as "_" alone.
    [
      "a long prefix naming the pull request by {{pr.headRef.underscored}} alone",
      {},
      prefix(`${LONG}{{repo.path}}/{{pr.headRef.underscored}}/`),
      /is feature_x for/,
    ],
    [
      "a long prefix ending with the head branch's folders",
      {},
      prefix(`${LONG}{{repo.path}}/{{pr.headRef.path}}/`),
      /ends the prefix, the branch's/,
    ],
  );
  cases.push(
    // Review h424: a job whose folder has a space at an end.
    [
      "a long job with a space at a folder's end",
      {},
      { type: "jenkins", job: `${LONG_JOB} /${LONG_JOB}` },
      /space at an end/,
    ],
  );
  // Review h438: another host's payload field, at its longest on the route's provider (the file's name for it).
  for (const [provider, field, rest] of [
    ["bitbucket-server", "payload.pullrequest.source.commit.hash", ""],
    ["bitbucket", "payload.pullRequest.fromRef.latestCommit", ""],
    ["bitbucket-server", "payload.project.path_with_namespace", "{{pr.number}}/"],
  ] as const) {
    it(`parseRoutes keeps the problem for {{${field}}} on a ${provider} route within ${MAX_MESSAGE} characters after the longest location`, () => {
      const text = stringify({
        version: 1,
        defaults: { secret: "hooks/s", provider },
        providers: { [provider]: { token: "t/t", apiUrl: "https://bitbucket.example.com/rest/api/latest" } },
        routes: [{ name: NAME, match: {}, action: prefix(`${LONG}{{${field}}}/${rest}`) }],
      });
      const found = parseRoutes(text, "routes.yaml").problems.filter((p) => p.message.includes(" payload"));
      expect(found).to.have.length(1);
      const shown = `${WIDEST}${found[0]?.message}`;
      expect(shown.length, shown).to.be.at.most(MAX_MESSAGE);
    });
  }
  // A pr-cleanup whose targetUrl is long and holds a tab, a space at its end or a line break.
  const link = (targetUrl: string) => ({ ...prefix("p/{{pr.number}}/"), targetUrl });
  cases.push(
    ["a long targetUrl with a line break", {}, link(`${LONG}\n${LONG}`), /holds a line break/],
    ["a long targetUrl with a tab", {}, link(`${LONG}\t`), /holds a tab/],
    ["a long targetUrl starting with a space", {}, link(` ${LONG}`), /starts or ends with a space/],
  );
  for (const [what, match, action, which] of cases) {
    it(`parseRoutes keeps the problem for ${what} within ${MAX_MESSAGE} characters after the longest location`, () => {
      const found = problems(match, action).filter((m) => which.test(m));
      expect(found).to.have.length(1);
      const shown = `${WIDEST}${found[0]}`;
      expect(shown.length, shown).to.be.at.most(MAX_MESSAGE);
      expect(shown).to.include(`route "${"\\\\".repeat(20)}…"`);
    });
  }
});

describe("Property: parseRoutes, every problem message is short and holds no control or format character", () => {
  // Values that are long, odd or both: control and format characters, quotes, backslashes, template braces.
  const odd = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({
      unit: fc.constantFrom(
        "a",
        "/",
        "\\",
        '"',
        "{",
        "}",
        "*",
        "\u001b",
        "\r",
        "\u0085",
        "\u200b",
        "\u202e",
        "\u2028",
        "\u007f",
        "\ufeff",
        " ",
        ".",
      ),
      maxLength: 60,
    }),
    fc
      .tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 300, max: 3000 }))
      .map(([unit, n]) => (unit || "x").repeat(n)),
    fc.constantFrom(
      "{{nope}}",
      "{{payload./x}}",
      "//",
      "refs/heads/x",
      "/x",
      " ",
      "a..b",
      "x.lock",
      "hooks-dlq",
    ),
  );
  // Where the value goes: each slot of a route that a message may quote.
  const slots = [
    (v: string) => ({ name: v }),
    (v: string) => ({ match: { [v]: ["push"] } }),
    (v: string) => ({ match: { repos: [v] } }),
    (v: string) => ({ match: { repos: [`!${v}`], branches: [v] } }),
    (v: string) => ({ match: { tags: [v], paths: [v], actors: [v], events: [v], actions: [v] } }),
    (v: string) => ({ action: { type: "jenkins", job: v } }),
    (v: string) => ({ action: { type: "jenkins", job: "j", parameters: { [v]: v } } }),
    (v: string) => ({ action: { type: "s3-zip", key: v, bucket: v } }),
    (v: string) => ({ action: { type: "s3-zip", key: `a/{{${v}}}/b.zip` } }),
    (v: string) => ({ action: { type: "jenkins", job: "j", jenkins: { url: v, credentials: v } } }),
    (v: string) => ({
      action: { type: "jenkins", job: "j", jenkins: { url: `https://${v}`, credentials: "c" } },
    }),
    (v: string) => ({ auth: { allowIps: [v] }, secret: v }),
    (v: string) => ({ provider: v }),
    (v: string) => ({
      action: {
        type: "pr-cleanup",
        targetUrl: v,
        steps: [{ "delete-s3-prefix": { bucket: "b-b", prefix: v } }, { jenkins: { job: v } }],
      },
    }),
  ];

  it("parseRoutes keeps every message at most 300 characters, without control or format characters", () => {
    fc.assert(
      fc.property(odd, fc.integer({ min: 0, max: slots.length - 1 }), fc.boolean(), (value, slot, named) => {
        const route = {
          name: named ? "a" : value,
          match: {},
          action: { type: "jenkins", job: "j" },
          ...(slots[slot] as (v: string) => object)(value),
        };
        const text = stringify({
          version: 1,
          [value.slice(0, 50)]: 1,
          ...{ defaults: { secret: "hooks/s" } },
          routes: [route, route],
        });
        for (const message of messages(text)) {
          expect(message.length, message.slice(0, 400)).to.be.at.most(MAX_MESSAGE);
          expect(message, message).not.to.match(RAW_INVISIBLE);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it("parseRoutes keeps every message short for arbitrary text, a long line of it too", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.integer({ min: 1, max: 2000 }),
        (text, times) => {
          for (const message of messages(`${text}${text.slice(0, 20).repeat(times)}`)) {
            expect(message.length, message.slice(0, 400)).to.be.at.most(MAX_MESSAGE);
            expect(message, message).not.to.match(RAW_INVISIBLE);
          }
        },
      ),
      { numRuns: runs(200) },
    );
  });
});
