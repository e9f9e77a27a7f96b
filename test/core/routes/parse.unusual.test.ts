import { expect } from "chai";
import fc from "fast-check";
import { misplacedNoBreakSpace, nonPlainValue, parseRoutes } from "../../../src/core/routes/parse";
import { runs } from "../../support/propertyRuns";

const VALID = [
  "version: 1",
  'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
  "routes:",
  "  - name: api-build",
  "    match: { repos: [acme/api], events: [push] }",
  "    action: { type: jenkins, job: api/build }",
  "",
];

function problemsOf(text: string): string[] {
  const { config, problems } = parseRoutes(text, "routes.yaml");
  if (problems.length === 0) expect(config).not.to.equal(undefined);
  return problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

describe("Function: parseRoutes (line endings)", () => {
  const CR_ONLY =
    "1:1: the line endings are CR only (classic Mac): save the file with LF (or CRLF) line endings";
  // [what, text, problems]
  const cases: Array<[string, string, string[]]> = [
    ["a valid file with CR line endings", VALID.join("\r"), [CR_ONLY]],
    ["a file of one line ending in a CR", "version: 1\r", [CR_ONLY]],
    ["a valid file with CRLF line endings", VALID.join("\r\n"), []],
    ["a valid file with LF line endings", VALID.join("\n"), []],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes gives ${expected.length === 0 ? "no problem" : "one problem at 1:1"} for ${what}`, () => {
      expect(problemsOf(text)).to.deep.equal(expected);
    });
  }
});

describe("Function: parseRoutes (many YAML errors from one mistake)", () => {
  const more = (n: number) =>
    ` (${n} more YAML error${n === 1 ? "" : "s"} after it, often caused by this one)`;
  // [what, text, problems]
  const cases: Array<[string, string, string[]]> = [
    [
      "a quote closed too late, which yaml stumbles over for the rest of the file",
      [
        "version: 1",
        "routes:",
        "  - name: a",
        '    match: { repos: ["acme/api"] }',
        '    action: { type: jenkins, job: "api/build, parameters: { SHA: "{{sha}}" } }',
        "  - name: b",
        '    match: { repos: ["acme/*"] }',
        "    action: { type: s3-zip }",
        "",
      ].join("\n"),
      [`5:67: YAML: Unexpected flow-map-start at node end${more(24)}`],
    ],
    [
      "a quote never closed",
      [...VALID.slice(0, 5), '    action: { type: jenkins, job: "api/build }', ""].join("\n"),
      [`6:35: YAML: Missing closing "quote: the text quoted here is never closed${more(1)}`],
    ],
    [
      "a tab where indentation belongs, with duplicate keys after it (in what yaml then guesses)",
      [...VALID.slice(0, 5), "\taction: { type: jenkins, job: api/build }", "x: 1", "x: 2", "x: 3", ""].join(
        "\n",
      ),
      [`6:1: YAML: Tabs are not allowed as indentation${more(2)}`],
    ],
    [
      "a duplicate key before a tab where indentation belongs",
      ["x: 1", "x: 2", ...VALID.slice(0, 5), "\taction: { type: jenkins, job: api/build }", ""].join("\n"),
      [
        "2:1: YAML: duplicate key; a key may appear once in a map",
        "8:1: YAML: Tabs are not allowed as indentation",
      ],
    ],
    [
      "a tab where indentation belongs, alone",
      [...VALID.slice(0, 5), "\taction: { type: jenkins, job: api/build }", ""].join("\n"),
      ["6:1: YAML: Tabs are not allowed as indentation"],
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes says only the first YAML error of ${what}, with how many follow`, () => {
      expect(problemsOf(text)).to.deep.equal(expected);
    });
  }

  it("parseRoutes gives at most one YAML syntax error, and no control character, for a valid file with one character changed", () => {
    const text = VALID.join("\n");
    fc.assert(
      fc.property(
        fc.nat({ max: text.length }),
        fc.constantFrom(
          "",
          '"',
          "'",
          "{",
          "}",
          "[",
          "]",
          ":",
          "-",
          "\t",
          "\u0018",
          "\u001b",
          "\r",
          "\u0085",
          "\u2028",
        ),
        (at, insert) => {
          const { problems } = parseRoutes(text.slice(0, at) + insert + text.slice(at + 1), "routes.yaml");
          const syntax = problems.filter(
            (p) => p.message.startsWith("YAML:") && !p.message.startsWith("YAML: duplicate key"),
          );
          expect(syntax.length, JSON.stringify(problems)).to.be.at.most(1);
          for (const p of problems) {
            // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
            expect(p.message).not.to.match(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
          }
        },
      ),
      { numRuns: runs(300) },
    );
  });

  // [what, text, the problem]
  const quoted: Array<[string, string, string]> = [
    [
      "a CR inside a key",
      [...VALID.slice(0, 4), "    match: { ev\rents: [push] }", VALID[5], ""].join("\n"),
      '5:14: route "api-build" match: unknown key "ev\\u000dents"; did you mean "events"?',
    ],
    [
      "terminal escapes inside a key",
      [...VALID.slice(0, 4), '    match: { "\\e[31mevents": [push] }', VALID[5], ""].join("\n"),
      '5:14: route "api-build" match: unknown key "\\u001b[31mevents"',
    ],
    [
      "a line separator inside a key",
      [...VALID.slice(0, 4), "    match: { ev\u2028ents: [push] }", VALID[5], ""].join("\n"),
      '5:14: route "api-build" match: unknown key "ev\\u2028ents"; did you mean "events"?',
    ],
  ];
  for (const [what, text, expected] of quoted) {
    it(`parseRoutes writes the control characters of ${what} as escapes in its message`, () => {
      const problems = problemsOf(text);
      expect(
        problems.filter((p) => p.startsWith(expected)),
        problems.join("\n"),
      ).to.have.length(1);
    });
  }
});

describe("Function: parseRoutes (nesting and keys yaml reads but routes.yaml has no use for)", () => {
  const TOO_DEEP = "nested too deeply (more than 64 levels); routes.yaml needs fewer than 10";
  const KEY = "a key must be plain text, not a map or a list";
  const blocks = (levels: number) =>
    `version: 1\nx:\n${Array.from({ length: levels }, (_, i) => `${"  ".repeat(i + 1)}a:\n`).join("")}routes: []\n`;
  // [what, text, problems]
  const cases: Array<[string, string, string[]]> = [
    ["lists nested 63 deep in the top map", `x: ${"[".repeat(63)}${"]".repeat(63)}\n`, []],
    ["lists nested 64 deep in the top map", `x: ${"[".repeat(64)}${"]".repeat(64)}\n`, [`1:67: ${TOO_DEEP}`]],
    ["lists nested 1,100 deep", `x: ${"[".repeat(1100)}${"]".repeat(1100)}\n`, [`1:67: ${TOO_DEEP}`]],
    ["block maps nested 64 deep", blocks(63), []],
    ["block maps nested 65 deep", blocks(64), [`66:129: ${TOO_DEEP}`]],
    // yaml's own parser overflows the stack on these, before there is a document.
    ["block maps nested 3,000 deep", blocks(3000), [`66:129: ${TOO_DEEP}`]],
    ["a list as a key", "version: 1\n? [a]\n: 1\nroutes: []\n", [`2:3: ${KEY}`]],
    ["a map as a key, in a flow map", "version: 1\nroutes: []\nx: { { a: 1 }: b }\n", [`3:6: ${KEY}`]],
    [
      "a map as a key brought by an alias",
      "x-k: &k { a: 1 }\nversion: 1\n*k : 1\nroutes: []\n",
      [`3:1: ${KEY}`],
    ],
    ["a map as a key merged into the top map", "version: 1\nroutes: []\n<<: {{ nope }}\n", [`3:6: ${KEY}`]],
    ["a map as a key merged from a list", "version: 1\nroutes: []\n<<: [{{ nope }}]\n", [`3:7: ${KEY}`]],
    ["maps as keys, nested 60 deep", `x: ${"{".repeat(60)}${"}".repeat(60)}\n`, [`1:5: ${KEY}`]],
    // Minutes in yaml's conversion before: now refused for its depth, before any conversion.
    ["maps as keys, nested 1,000 deep", `x: ${"{".repeat(1000)}${"}".repeat(1000)}\n`, [`1:67: ${TOO_DEEP}`]],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes gives ${expected.length === 0 ? "no YAML problem" : expected.join(", ")} for ${what}`, () => {
      const problems = problemsOf(text);
      if (expected.length === 0) {
        expect(problems.filter((p) => /YAML|nested|a key must/.test(p))).to.deep.equal([]);
      } else {
        expect(problems).to.deep.equal(expected);
      }
    });
  }
});

describe("Function: parseRoutes (tags and %YAML versions that build other values than plain maps, lists and text)", () => {
  const notRead = (tag: string) =>
    `YAML: the tag ${tag} is not read in routes.yaml: write a plain map, list or text, without a tag`;
  const route = (line: string) => [...VALID.slice(0, 5), line, ""].join("\n");
  // [what, text, problems]
  const cases: Array<[string, string, string[]]> = [
    [
      "match: !!omap, which matched every event",
      route(
        "    match: !!omap [ {repos: [acme/api]}, {events: [push]} ]\n    action: { type: s3-zip }",
      ).replace("    match: { repos: [acme/api], events: [push] }\n", ""),
      [`5:12: ${notRead("!!omap")}`],
    ],
    [
      "auth: !!omap, which dropped the IP allowlist",
      [
        "version: 1",
        "routes:",
        "  - name: legacy",
        "    secret: hooks/legacy",
        "    auth: !!omap [ allowIps: [104.192.136.0/21] ]",
        "    match: { events: [push] }",
        '    action: { type: jenkins, job: legacy/build, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
        "",
      ].join("\n"),
      [`5:11: ${notRead("!!omap")}`],
    ],
    [
      "a !!set",
      route("    action: { type: jenkins, job: x, parameters: !!set { A } }"),
      [`6:50: ${notRead("!!set")}`],
    ],
    ["a !!pairs", route("    action: !!pairs [ type: s3-zip ]"), [`6:13: ${notRead("!!pairs")}`]],
    [
      "a !!binary",
      route("    action: { type: jenkins, job: !!binary aGVsbG8= }"),
      [`6:35: ${notRead("!!binary")}`],
    ],
    [
      "a !!timestamp",
      route("    action: { type: jenkins, job: !!timestamp 2024-01-01 }"),
      [`6:35: ${notRead("!!timestamp")}`],
    ],
    [
      "a tag of one's own",
      route("    action: { type: jenkins, job: !job api/build }"),
      [`6:35: ${notRead("!job")}`],
    ],
    [
      "a tag through a %TAG handle",
      `%TAG !e! tag:example.com,2024:\n---\n${route("    action: { type: jenkins, job: !e!job api/build }")}`,
      [`8:35: ${notRead("!e!job")}`],
    ],
    [
      "a core tag on a value it does not fit",
      route("    action: !!seq { type: s3-zip }"),
      ["6:13: YAML: the tag !!seq does not fit this value: remove the tag"],
    ],
    [
      "%YAML 1.1, which read a date as a date",
      `%YAML 1.1\n---\n${route("    action: { type: jenkins, job: 2024-01-01 }")}`,
      [
        "1:1: %YAML 1.1: routes.yaml is read as YAML 1.2 (where yes, no and dates are text): remove this line",
      ],
    ],
    [
      "the core tags written on purpose",
      route('    action: !!map { type: !!str jenkins, job: !!str 0755, parameters: { A: ! "x" } }'),
      [],
    ],
    ["%YAML 1.2", `%YAML 1.2\n---\n${VALID.join("\n")}`, []],
  ];
  for (const [what, text, expected] of cases) {
    it(`parseRoutes gives ${expected.length === 0 ? "no problem" : expected.join(", ")} for ${what}`, () => {
      expect(problemsOf(text)).to.deep.equal(expected);
    });
  }

  it("parseRoutes keeps a tagged core value as yaml reads it (!!str 0755 is the text 0755)", () => {
    const { config } = parseRoutes(route("    action: { type: jenkins, job: !!str 0755 }"), "routes.yaml");
    expect(config?.routes[0]?.action).to.include({ job: "0755" });
  });
});

describe("Function: nonPlainValue", () => {
  // [what, data, path, kind]
  const cases: Array<[string, unknown, Array<string | number>, string]> = [
    ["a Map", { routes: [{ match: new Map([["repos", ["a"]]]) }] }, ["routes", 0, "match"], "Map"],
    [
      "a Set",
      { routes: [{ auth: { allowIps: new Set(["10.0.0.0/8"]) } }] },
      ["routes", 0, "auth", "allowIps"],
      "Set",
    ],
    ["a Date", { routes: [{ action: { job: new Date(0) } }] }, ["routes", 0, "action", "job"], "Date"],
    ["bytes", { x: [1, new Uint8Array([1])] }, ["x", 1], "binary value"],
    ["a Map at the top", new Map(), [], "Map"],
  ];
  for (const [what, data, path, kind] of cases) {
    it(`nonPlainValue finds ${what} at ${JSON.stringify(path)}`, () => {
      expect(nonPlainValue(data)).to.deep.equal({ path, kind });
    });
  }

  it("nonPlainValue returns for a value that holds itself (an alias inside its own anchor)", () => {
    const list: unknown[] = [1];
    list.push({ again: list });
    expect(nonPlainValue({ x: list })).to.equal(undefined);
    expect(
      parseRoutes("version: 1\nx: &a [1, { again: *a }]\nroutes: []\n", "routes.yaml").problems,
    ).to.be.an("array");
  });

  it("nonPlainValue finds nothing in plain maps, lists, text, numbers, true/false and null", () => {
    expect(nonPlainValue({ a: [1, "x", true, null, { b: Object.create(null) }] })).to.equal(undefined);
  });
});

describe("Function: parseRoutes (text wrapped in typographic quotes, as pasted from a wiki or chat)", () => {
  const SAID =
    "the text starts and ends with typographic quotes (\u2018 \u2019 or \u201C \u201D), which YAML keeps as part of the text: quote it with ' or \" instead, or not at all";
  // [what, from, to, where]
  const cases: Array<[string, string, string, string]> = [
    [
      "branches: [\u201Cmain\u201D], a glob that would never match the branch main",
      "events: [push] }",
      "events: [push], branches: [\u201Cmain\u201D] }",
      '5:60: route "api-build" match.branches[0]',
    ],
    [
      "events: [\u201Cpush\u201D], an event name no delivery has",
      "events: [push]",
      "events: [\u201Cpush\u201D]",
      '5:42: route "api-build" match.events[0]',
    ],
    [
      "job: \u2018api/build\u2019, whose quotes would be part of the Jenkins job path",
      "job: api/build",
      "job: \u2018api/build\u2019",
      '6:35: route "api-build" action.job',
    ],
    [
      "a secret name in \u2018 \u2019, never echoing it",
      "secret: hooks/s",
      "secret: \u2018hooks/s\u2019",
      "2:21: defaults.secret",
    ],
  ];
  for (const [what, from, to, where] of cases) {
    it(`parseRoutes refuses ${what}, at it, saying to use ' or "`, () => {
      const text = VALID.join("\n").replace(from, to);
      expect(text).not.to.equal(VALID.join("\n"));
      expect(problemsOf(text)).to.include(`${where}: ${SAID}`);
    });
  }

  it("parseRoutes refuses a parameter name in typographic quotes once, at the key, by the parameter name rule", () => {
    const text = VALID.join("\n").replace(
      "job: api/build",
      'job: api/build, parameters: { \u201CSHA\u201D: "{{sha}}" }',
    );
    expect(problemsOf(text)).to.deep.equal([
      '6:60: route "api-build" action.parameters: parameter name "\u201CSHA\u201D" must start with a letter or _ and hold only letters, digits, _ . and -',
    ]);
  });

  it("parseRoutes refuses a route name in typographic quotes once, saying the quotes, not the name rule they break", () => {
    const text = VALID.join("\n").replace("name: api-build", "name: \u201Capi-build\u201D");
    expect(problemsOf(text)).to.deep.equal([`4:11: route "\u201Capi-build\u201D" name: ${SAID}`]);
  });

  it("parseRoutes says the quotes alone for a secret name, an action type and a URL in typographic quotes", () => {
    const text = VALID.join("\n")
      .replace("secret: hooks/s", "secret: \u2018hooks/s\u2019")
      .replace('url: "https://ci.example.com"', "url: \u201Chttps://ci.example.com\u201D")
      .replace("type: jenkins", "type: \u201Cjenkins\u201D");
    expect(problemsOf(text)).to.deep.equal([
      `2:21: defaults.secret: ${SAID}`,
      `2:48: defaults.jenkins.url: ${SAID}`,
      `6:21: route "api-build" action.type: ${SAID}`,
    ]);
  });

  it("parseRoutes still says a duplicate route name in typographic quotes is a duplicate", () => {
    const route = VALID.slice(3, 6).join("\n").replace("name: api-build", "name: \u201Cbuild\u201D");
    const text = [...VALID.slice(0, 3), route, route, ""].join("\n");
    expect(problemsOf(text)).to.deep.equal([
      `4:11: route "\u201Cbuild\u201D" name: ${SAID}`,
      '7:11: duplicate route name "\u201Cbuild\u201D"; route names must be unique (they are URL paths) (first used at line 4)',
      `7:11: route "\u201Cbuild\u201D" name: ${SAID}`,
    ]);
  });

  it("parseRoutes still says a URL in typographic quotes holds a user name and password, besides the quotes", () => {
    const text = VALID.join("\n").replace(
      'url: "https://ci.example.com"',
      "url: \u201Chttps://admin:s3cret@ci.example.com\u201D",
    );
    const problems = problemsOf(text);
    expect(problems).to.deep.equal([
      "2:46: defaults.jenkins.url: a URL must not contain a user name or password (an @); put credentials in a Secrets Manager secret (the value is not shown)",
      `2:46: defaults.jenkins.url: ${SAID}`,
    ]);
    expect(problems.join("\n")).not.to.include("s3cret");
  });

  it("parseRoutes still says a route name in typographic quotes breaks the name rule without them: upper case, over 32 characters", () => {
    const upper = VALID.join("\n").replace("name: api-build", "name: \u201CApi-Build\u201D");
    expect(problemsOf(upper)).to.deep.equal([
      `4:11: route "\u201CApi-Build\u201D" name: ${SAID}`,
      '4:11: route name "Api-Build" is not valid: use only lower-case letters, digits and hyphens, starting and ending with a letter or digit (it becomes the URL path /hooks/<name>)',
    ]);
    const long = VALID.join("\n").replace("name: api-build", `name: \u201C${"a".repeat(40)}\u201D`);
    expect(problemsOf(long)).to.deep.equal([
      `4:11: route name "${"a".repeat(40)}" is not valid: use at most 32 characters (it becomes the URL path /hooks/<name>)`,
      `4:11: routes[0] name: ${SAID}`,
    ]);
  });

  it("parseRoutes says what remains wrong with a job in typographic quotes once, naming a quoted route as written", () => {
    const text = VALID.join("\n")
      .replace("name: api-build", "name: \u201Cbuild\u201D")
      .replace("job: api/build", "job: \u201Capi//build\u201D");
    expect(problemsOf(text)).to.deep.equal([
      `4:11: route "\u201Cbuild\u201D" name: ${SAID}`,
      '6:35: route "\u201Cbuild\u201D" action.job: job "api//build" has an empty folder; write folders as a/b/c without leading, trailing or double slashes',
      `6:35: route "\u201Cbuild\u201D" action.job: ${SAID}`,
    ]);
  });

  it("parseRoutes still says what the schema refuses in the text inside typographic quotes: an action type or a provider it does not know", () => {
    const text = VALID.join("\n")
      .replace("type: jenkins", "type: \u201Cjenkinz\u201D")
      .replace("  - name: api-build", "  - name: api-build\n    provider: \u201Cgithab\u201D");
    expect(problemsOf(text)).to.deep.equal([
      '5:15: route "api-build" provider: "githab" is not one of github, gitlab, bitbucket, bitbucket-server, gitea; did you mean "github"?',
      `5:15: route "api-build" provider: ${SAID}`,
      '7:21: route "api-build" action.type: "jenkinz" is not one of jenkins, s3-zip, pr-cleanup; did you mean "jenkins"?',
      `7:21: route "api-build" action.type: ${SAID}`,
    ]);
  });

  it('parseRoutes still says a targetUrl in typographic quotes has a "/" where its host belongs, besides the quotes', () => {
    const text = VALID.join("\n").replace(
      "type: jenkins, job: api/build",
      "type: pr-cleanup, token: t/t, targetUrl: \u201Chttps:///x.example.com/\u201D, steps: [delete-branch]",
    );
    expect(problemsOf(text))
      .to.include(
        '6:56: route "api-build" action.targetUrl: targetUrl "https:///x.example.com/" has a "/" or "\\" right after "//", where the host belongs (a browser skips it and reads the host from what follows): write the host right after "//" ("https://pr-{{pr.number}}.previews.example.com/")',
      )
      .and.include(`6:56: route "api-build" action.targetUrl: ${SAID}`);
  });

  it("parseRoutes does not say what a pr-cleanup needs (an API token) of an action type in typographic quotes: as written it is none", () => {
    const text = VALID.join("\n").replace(
      "type: jenkins, job: api/build",
      "type: \u201Cpr-cleanup\u201D, steps: [delete-branch]",
    );
    expect(problemsOf(text)).to.deep.equal([`6:21: route "api-build" action.type: ${SAID}`]);
  });

  it("parseRoutes says a route name in typographic quotes ending in -dlq by the quotes alone, not as clashing with another route's dead-letter queue: as written it does not end in -dlq", () => {
    const route = VALID.slice(3, 6).join("\n");
    const quoted = route.replace("name: api-build", "name: \u201Capi-build-dlq\u201D");
    const text = [...VALID.slice(0, 3), route, quoted, ""].join("\n");
    expect(problemsOf(text)).to.deep.equal([`7:11: route "\u201Capi-build-dlq\u201D" name: ${SAID}`]);
  });

  it("parseRoutes says a quoted glob in a match map used again by *alias once, and what is wrong without the quotes for each route", () => {
    const text = [
      ...VALID.slice(0, 3),
      "  - name: a",
      "    match: &m { repos: [\u201Cacme/api/\u201D], events: [push] }",
      "    action: { type: jenkins, job: api/build }",
      "  - name: b",
      "    match: *m",
      "    action: { type: jenkins, job: api/build }",
      "",
    ].join("\n");
    const never =
      'match.repos[0]: glob "acme/api/" never matches: a GitHub repository\'s full name is "owner/name", with one "/" (only GitLab nests groups)';
    expect(problemsOf(text)).to.deep.equal([
      `5:25: route "a" ${never}`,
      `5:25: route "a" match.repos[0]: ${SAID}`,
      `5:25: route "b" ${never}`,
    ]);
  });

  it("parseRoutes says the quotes alone for an action type in typographic quotes whose action map a second route uses by *alias", () => {
    const text = [
      ...VALID.slice(0, 3),
      "  - name: a",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: &act { type: \u201Cjenkins\u201D, job: api/build }",
      "  - name: b",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: *act",
      "",
    ].join("\n");
    expect(problemsOf(text)).to.deep.equal([`6:26: route "a" action.type: ${SAID}`]);
  });

  it("parseRoutes says the quotes once for an action type in typographic quotes that a second route's action map merges (<<: *act), reading it without them for both", () => {
    // A merge key copies the text into a new map: the same text at the same place, reached from each route.
    const text = [
      ...VALID.slice(0, 3),
      "  - name: a",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: &act { type: \u201Cjenkins\u201D, job: api/build }",
      "  - name: c",
      "    match: { repos: [acme/x], events: [push] }",
      "    action: { <<: *act, job: other }",
      "",
    ].join("\n");
    expect(problemsOf(text)).to.deep.equal([`6:26: route "a" action.type: ${SAID}`]);
  });

  it("parseRoutes reads a quoted text reached by two aliases without its quotes once: \u201C\u201Cjenkins\u201D\u201D is \u201Cjenkins\u201D to the rules, not jenkins", () => {
    // Cut once per use, the doubled quotes would both go and the type they leave wrong would pass unsaid.
    const text = [
      ...VALID.slice(0, 3),
      "  - name: a",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: &act { type: \u201C\u201Cjenkins\u201D\u201D, job: api/build }",
      "  - name: b",
      "    match: { repos: [acme/api], events: [push] }",
      "    action: *act",
      "",
    ].join("\n");
    const type =
      'action.type: "\u201Cjenkins\u201D" is not one of jenkins, s3-zip, pr-cleanup; did you mean "jenkins"?';
    expect(problemsOf(text)).to.deep.equal([
      `6:26: route "a" ${type}`,
      `6:26: route "a" action.type: ${SAID}`,
      `6:26: route "b" ${type}`,
    ]);
  });

  it("parseRoutes says a quoted text in a list that holds itself (an alias inside its own anchor) once, and ends", () => {
    const text = `${VALID.join("\n")}x: &a [\u201Cq\u201D, *a]\n`;
    expect(problemsOf(text)).to.deep.equal([
      '7:1: unknown key "x" (allowed: version, providers, jenkins, defaults, routes)',
      `7:8: x[0]: ${SAID}`,
    ]);
  });

  describe("a provider that is none (in typographic quotes, or a typo): no check about github, a provider no one wrote", () => {
    const cleanup = (provider: string, repo: string, own = "") =>
      [
        "version: 1",
        `defaults: { provider: ${provider}, secret: hooks/s }`,
        "routes:",
        "  - name: cleanup",
        `    match: { repos: [${repo}], events: [pr:merged] }`,
        ...(own === "" ? [] : [`    provider: ${own}`]),
        "    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: my-bucket, prefix: 'p/{{branch.path}}/pr-{{pr.number}}/' } }] }",
        "",
      ].join("\n");

    it("parseRoutes says only the quotes for defaults.provider \u201Cbitbucket-server\u201D: no API token for github, no GitHub repository shape", () => {
      expect(problemsOf(cleanup("\u201Cbitbucket-server\u201D", "PLAT/payments/x"))).to.deep.equal([
        `2:23: defaults.provider: ${SAID}`,
      ]);
    });

    it("parseRoutes says only the quotes for a route's own provider \u201Cgitlab\u201D, whatever defaults.provider says", () => {
      expect(problemsOf(cleanup("bitbucket-server", "a/b/c", "\u201Cgitlab\u201D"))).to.deep.equal([
        `6:15: route "cleanup" provider: ${SAID}`,
      ]);
    });

    it("parseRoutes says only the enum's message for a provider typo (githb), not github's token", () => {
      expect(problemsOf(cleanup("githb", "a/b/c"))).to.deep.equal([
        '2:23: defaults.provider: "githb" is not one of github, gitlab, bitbucket, bitbucket-server, gitea; did you mean "github"?',
      ]);
    });

    it("parseRoutes still says a repository glob that is a URL never matches, without a provider's full name to suggest", () => {
      const url = "https://bitbucket.example.com/scm/plat/payments.git";
      expect(problemsOf(cleanup("\u201Cbitbucket-server\u201D", url))).to.deep.equal([
        `2:23: defaults.provider: ${SAID}`,
        `5:22: route "cleanup" match.repos[0]: glob "${url}" never matches: it is a repository's URL or clone address, and a route matches a repository's full name`,
      ]);
    });

    it("parseRoutes checks a route whose own provider is known by that provider, under a defaults.provider in typographic quotes", () => {
      expect(problemsOf(cleanup("\u201Cbitbucket-server\u201D", "a/b/c", "github"))).to.deep.equal([
        `2:23: defaults.provider: ${SAID}`,
        '5:22: route "cleanup" match.repos[0]: glob "a/b/c" never matches: a GitHub repository\'s full name is "owner/name", with one "/" (only GitLab nests groups)',
        '7:21: route "cleanup" action.type: pr-cleanup needs an API token for github: set the action\'s token or providers.github.token',
      ]);
    });
  });

  it("parseRoutes accepts a Jenkins parameter value and a route description wrapped in typographic quotes: text sent or shown as written", () => {
    const text = VALID.join("\n")
      .replace(
        "job: api/build",
        'job: api/build, parameters: { TITLE: "\u201C{{payload.head_commit.message}}\u201D", NOTE: \u2018ok\u2019 }',
      )
      .replace("    match:", "    description: \u201CBuilds the API\u201D\n    match:");
    expect(problemsOf(text)).to.deep.equal([]);
  });

  it("parseRoutes accepts typographic quotes around a pr-cleanup Jenkins step's parameter value", () => {
    const text = VALID.join("\n").replace(
      "action: { type: jenkins, job: api/build }",
      'action: { type: pr-cleanup, token: hooks/t, steps: [{ jenkins: { job: api/cleanup, parameters: { BRANCH: "\u201C{{branch}}\u201D" } } }] }',
    );
    expect(problemsOf(text)).to.deep.equal([]);
  });

  it("parseRoutes accepts typographic quotes inside a value", () => {
    const text = VALID.join("\n").replace(
      "job: api/build",
      "job: api/build, parameters: { NOTE: \"it\u2019s \u201Cdone\u201D\", TITLE: '\u201Cdone\u201D said Sam' }",
    );
    expect(problemsOf(text)).to.deep.equal([]);
  });
});

describe("Function: parseRoutes (a no-break space where a space belongs, as pasted from a web page)", () => {
  const HINT =
    "; this line holds a no-break space (U+00A0), which looks like a space but YAML reads as text, not as indentation or a space between a key and its value: replace it with a space";
  // [what, line index, the line with a no-break space, the problem without the hint]
  const cases: Array<[string, number, string, string]> = [
    [
      "in the indentation",
      4,
      "  \u00a0 match: { repos: [acme/api], events: [push] }",
      "5:1: YAML: All mapping items must start at the same column",
    ],
    [
      "after a list's dash",
      3,
      "  -\u00a0name: api-build",
      "4:11: YAML: Nested mappings are not allowed in compact mappings",
    ],
    [
      "after a key's colon",
      4,
      "    match:\u00a0{ repos: [acme/api], events: [push] }",
      "5:31: YAML: Unexpected scalar at node end",
    ],
  ];
  for (const [what, index, line, problem] of cases) {
    it(`parseRoutes names the no-break space ${what} in the YAML error of its line`, () => {
      const lines = [...VALID];
      lines[index] = line;
      const problems = problemsOf(lines.join("\n"));
      expect(problems).to.have.length(1);
      expect(problems[0]?.startsWith(`${problem}${HINT}`), problems[0]).to.equal(true);
    });
  }

  it("parseRoutes adds no such hint for a no-break space inside a quoted value, to the YAML error of a missing }", () => {
    const lines = [...VALID];
    lines[5] = '    action: { type: jenkins, job: api/build, parameters: { NOTE: "100\u00a0%" }';
    const problems = problemsOf(lines.join("\n"));
    expect(problems).to.have.length(1);
    expect(problems[0]).not.to.include("U+00A0");
  });

  it("misplacedNoBreakSpace finds a no-break space in the indentation or right after - or :, outside quotes and comments", () => {
    for (const line of [
      "\u00a0 a: b",
      "  - a:\u00a0b",
      "-\u00a0a",
      "  a: 'x', b:\u00a0c",
      'a: "x\\"y", b:\u00a0c',
    ]) {
      expect(misplacedNoBreakSpace(line), JSON.stringify(line)).to.equal(true);
    }
    for (const line of [
      'a: "100\u00a0%"',
      "a: '-\u00a0x'",
      "a: 'it''s:\u00a0x'",
      "a: b\u00a0c",
      "a: b # note:\u00a0x",
    ]) {
      expect(misplacedNoBreakSpace(line), JSON.stringify(line)).to.equal(false);
    }
  });

  it("parseRoutes adds no such hint to a YAML error on a line without one", () => {
    const lines = [...VALID];
    lines[4] = "   match: { repos: [acme/api], events: [push] }";
    expect(problemsOf(lines.join("\n")).join("\n")).not.to.include("U+00A0");
  });
});
