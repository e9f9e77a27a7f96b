import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect } from "chai";
import fc from "fast-check";
import { compileGlobList } from "../../../src/core/globs";
import { semanticFindings } from "../../../src/core/routes/semantics";
import { shownText, suggestedText } from "../../../src/core/shownText";
import { runs } from "../../support/propertyRuns";

type Key = "branches" | "tags" | "paths" | "repos";

/** What check says about one glob of one route (undefined when nothing), with the route's provider. */
function globFinding(key: Key, glob: string, provider?: string, defaultProvider?: string) {
  const findings = semanticFindings({
    version: 1,
    defaults: { secret: "hooks/s", ...(defaultProvider ? { provider: defaultProvider } : {}) },
    routes: [
      {
        name: "a",
        ...(provider ? { provider } : {}),
        match: { [key]: [glob] },
        action: { type: "jenkins", job: "x" },
      },
    ],
  }).filter((f) => f.path[2] === "match");
  expect(findings.length).to.be.at.most(1);
  return findings[0]?.message;
}

/** A glob as a test title shows it: JSON, with spaces other than " " written as escapes. */
function shown(glob: string): string {
  return JSON.stringify(glob).replace(
    /[^\x21-\x7e ]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

describe("Function: semanticFindings, branch, tag and changed-file names no Git repository holds", () => {
  const blank = "it is blank, and Git refuses a space in a branch or tag name";
  const leading = 'a name never begins with "/"';
  const empty = 'a name has no empty part ("//")';
  const rooted = `changed files are paths from the repository's root, without a leading "/"`;
  // [key, glob, message after `route "a" match.<key>[0]: glob "<glob>" never matches: `]
  const refused: Array<[Key, string, string]> = [
    ["branches", "  ", blank],
    ["tags", "!  ", blank],
    ["branches", " \u00a0", blank],
    ["branches", "/main", `${leading}; write 'main'`],
    ["branches", "!/release/*", `${leading}; write '!release/*'`],
    ["branches", ".//main", `${leading}; write 'main'`],
    ["branches", "/", leading],
    ["tags", "/v*", `${leading}; write 'v*'`],
    ["tags", "//v*", `${leading}; write 'v*'`],
    ["branches", "a//b", `${empty}; write 'a/b'`],
    ["branches", "release/**//x", `${empty}; write 'release/**/x'`],
    // Not between two "**" (the exception below): a "//" elsewhere in the glob still never matches.
    ["branches", "x//y/**//**", `${empty}; write 'x/y/**/**'`],
    ["branches", "{main,dev}//x", `${empty}; write '{main,dev}/x'`],
    ["tags", "!v1///x", `${empty}; write '!v1/x'`],
    ["paths", "src//x", `${empty}; write 'src/x'`],
    ["paths", "!docs//**", `${empty}; write '!docs/**'`],
    ["paths", "**//*.md", `${empty}; write '**/*.md'`],
    // Between two "**" too, unless picomatch may leave both out with the "//" (below): it matches only names
    // with an empty part ("x//b", "/b").
    ["paths", "**//**/b", `${empty}; write '**/**/b'`],
    ["paths", "src/**//**/*.ts", `${empty}; write 'src/**/**/*.ts'`],
    ["branches", "**//**", `${empty}; write '**/**'`],
    ["branches", "./**//**/main", `${empty}; write './**/**/main'`],
    ["tags", "v1/**//**/x/**//**", `${empty}; write 'v1/**/**/x/**/**'`],
    ["repos", "**//**/api", `${empty}; write '**/**/api'`],
    ["paths", "a/**//***", `${empty}; write 'a/**/***'`],
    ["branches", "refs/heads//x", "branches are matched without refs/heads/; write 'x'"],
    // picomatch drops a leading "./": "./refs/heads/main" is "refs/heads/main", and ".//x" is "/x".
    ["branches", "./refs/heads/main", "branches are matched without refs/heads/; write 'main'"],
    ["tags", "!././refs/tags/v*", "tags are matched without refs/tags/; write '!v*'"],
    ["paths", ".//x", `${rooted}; write 'x'`],
    ["paths", "!././/docs/", `${rooted}; write '!docs/**'`],
    // The fix is YAML to paste as it is: in single quotes a backslash is written once, a quote twice.
    ["paths", "/src/\\[id\\]/**", `${rooted}; write 'src/\\[id\\]/**'`],
    ["branches", "/it's", `${leading}; write 'it''s'`],
  ];
  for (const [key, glob, message] of refused) {
    it(`semanticFindings refuses ${key}: [${shown(glob)}]: ${message}`, () => {
      expect(globFinding(key, glob)).to.equal(
        `route "a" match.${key}[0]: glob ${shownText(glob, 60)} never matches: ${message}`,
      );
    });
  }

  // Each matches a real name (the second): Git allows a no-break space and an ideographic space in a ref
  // name, a file may be named "  ", and a "//" inside braces or parentheses may be an alternative not taken.
  const accepted: Array<[Key, string, string]> = [
    ["branches", "\u00a0", "\u00a0"],
    ["branches", "\u3000", "\u3000"],
    ["branches", "main", "main"],
    ["branches", "./main", "main"],
    ["branches", "release/**", "release/1.x/hotfix"],
    ["branches", "feature/*/x", "feature/a/x"],
    ["branches", "{main,master}", "master"],
    ["branches", "{a//b,c}", "c"],
    ["branches", "@(main|a//b)", "main"],
    ["tags", "v[0-9]*", "v1.2"],
    ["tags", "v1/x", "v1/x"],
    ["paths", "  ", "  "],
    ["paths", " x ", " x "],
    ["paths", "src/**", "src/a/b.ts"],
    ["paths", "**/*.md", "docs/a.md"],
    ["paths", "docs/**/x", "docs/x"],
    // picomatch reads a trailing "/**//**" as optional: "a/**//**" matches "a" (a counterexample fast-check found).
    ["branches", "a/**//**", "a"],
    // What follows may be empty too (counterexamples the fuzz harness found to a narrower exception).
    ["tags", "10.b.bc-z/**//**/**/{,.x}", "10.b.bc-z"],
    ["tags", "xy0/1y/**//**/****", "xy0/1y"],
    ["paths", "src/**//**", "src"],
    ["paths", "src/**//**/!(x)", "src"],
    ["branches", "a/**//**//**", "a"],
    // A POSIX class inside a class ends nothing: "[[:alnum:]/**//***/]" is one class, its "//" a member.
    ["branches", "[[:alnum:]/**//***/]!", "x!"],
    ["paths", "[[:alpha:]//]x", "ax"],
  ];
  for (const [key, glob, name] of accepted) {
    it(`semanticFindings accepts ${key}: [${shown(glob)}], which matches ${shown(name)}`, () => {
      expect(compileGlobList([glob])(name)).to.equal(true);
      expect(globFinding(key, glob)).to.equal(undefined);
      expect(globFinding(key, `!${glob}`)).to.equal(undefined);
    });
  }
});

// Branch and tag names that git check-ref-format accepts: parts of letters, digits, "-_=%", "é" and a
// no-break space, with an inner "." (never first or last, never "..", never ".lock"), joined by "/".
const refChar = fc.constantFrom(..."abcXYZ019-_=%é\u00a0");
const refWord = fc.string({ unit: refChar, minLength: 1, maxLength: 6 });
const refPart = fc
  .tuple(refWord, fc.option(refWord, { nil: undefined }))
  .map(([a, b]) => (b === undefined ? a : `${a}.${b}`));
const refName = fc.array(refPart, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));
/** A glob for a name: some parts written as "*", "**" or braces that hold them. */
const globFor = (name: string) =>
  fc.array(fc.constantFrom("keep", "*", "**", "braces"), { minLength: 4, maxLength: 4 }).map((ways) =>
    name
      .split("/")
      .map((part, i) => (ways[i] === "keep" ? part : ways[i] === "braces" ? `{${part},x}` : ways[i]))
      .join("/"),
  );

describe("Property: semanticFindings and names no Git repository holds", () => {
  it("no branch or tag name Git accepts, nor a glob with parts written as *, ** or braces, is refused", () => {
    fc.assert(
      fc.property(
        refName.chain((name) => fc.tuple(fc.constant(name), globFor(name))),
        ([name, glob]) => {
          expect(compileGlobList([glob])(name)).to.equal(true);
          for (const key of ["branches", "tags", "paths"] as const) {
            for (const entry of [name, glob, `!${glob}`]) expect(globFinding(key, entry)).to.equal(undefined);
          }
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it("a branch or tag name written as a full ref, after any number of ./, is refused and does not match the name", () => {
    fc.assert(
      fc.property(refName, fc.nat({ max: 3 }), fc.boolean(), (name, dots, tag) => {
        const [key, prefix] = tag
          ? (["tags", "refs/tags/"] as const)
          : (["branches", "refs/heads/"] as const);
        const glob = `${"./".repeat(dots)}${prefix}${name}`;
        expect(compileGlobList([glob])(name)).to.equal(false);
        const says = (entry: string, fixed: string) =>
          // The glob quoted as messages quote user text, the fix as YAML: each clipped at 60 characters.
          `route "a" match.${key}[0]: glob ${shownText(entry, 60)} never matches: ${key} are matched without ${prefix}; write ${suggestedText(fixed, 60)}`;
        expect(globFinding(key, glob)).to.equal(says(glob, name));
        expect(globFinding(key, `!${glob}`)).to.equal(says(`!${glob}`, `!${name}`));
      }),
      { numRuns: runs(300) },
    );
  });

  it("a branch or tag name with a leading / or a // is refused, and the glob does not match the name", () => {
    const broken = refName.chain((name) => {
      const parts = name.split("/");
      return fc.tuple(
        fc.constant(name),
        fc.oneof(
          fc.constant(`/${name}`),
          fc.constant(`.//${name}`),
          // An empty part between two others ("a//b"), or at the start ("//a").
          fc
            .integer({ min: 0, max: parts.length - 1 })
            .map((i) => [...parts.slice(0, i), "", ...parts.slice(i)].join("/")),
        ),
      );
    });
    fc.assert(
      fc.property(broken, ([name, glob]) => {
        expect(compileGlobList([glob])(name)).to.equal(false);
        for (const key of ["branches", "tags"] as const) {
          expect(globFinding(key, glob)).to.match(
            /never matches: a name (never begins with "\/"|has no empty part)/,
          );
          expect(globFinding(key, `!${glob}`)).to.match(/never matches/);
        }
      }),
      { numRuns: runs(300) },
    );
  });
});

// Changed files: any text but "/" and control characters in each part, spaces too ("  " is a file name).
const fileChar = fc.constantFrom(..."abcXYZ019-_=%é .\u00a0");
const filePath = fc
  .array(
    fc.string({ unit: fileChar, minLength: 1, maxLength: 6 }).filter((p) => p !== "." && p !== ".."),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join("/"));

describe("Property: semanticFindings and changed-file paths", () => {
  it("no path of non-empty parts is refused as a paths glob, and one with a // is, without matching the path", () => {
    fc.assert(
      fc.property(filePath, fc.nat(), (path, at) => {
        expect(globFinding("paths", path)).to.equal(undefined);
        expect(globFinding("paths", `!${path}`)).to.equal(undefined);
        const parts = path.split("/");
        const i = 1 + (at % parts.length);
        const broken = [...parts.slice(0, i), "", ...parts.slice(i)].join("/");
        if (i === parts.length) return; // a trailing "/": its own rule
        expect(compileGlobList([broken])(path)).to.equal(false);
        expect(globFinding("paths", broken)).to.match(/never matches: a name has no empty part/);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe("Property: semanticFindings and a // between two **", () => {
  const NAMES = namesOf(["a", "b", "q", "x.ts"], [1, 2, 3, 4]);
  const before = fc.constantFrom("", "a", "./", "./a", "*", "a/b", "{a,b}", "x.ts");
  const after = fc.constantFrom(
    "",
    "/b",
    "/*.ts",
    "b",
    "/**",
    "/**/{,.x}",
    "/?(x)",
    "/!(x)",
    "/+(x)",
    "*",
    "//**",
  );
  it("a glob with a // between two ** is refused as having an empty part exactly when no name without one matches it", () => {
    fc.assert(
      fc.property(before, after, (head, tail) => {
        const glob = `${head}${head === "" || head.endsWith("/") ? "" : "/"}**//**${tail}`;
        const matches = compileGlobList([glob]);
        const matched = NAMES.filter((name) => matches(name));
        const finding = globFinding("paths", glob);
        expect(finding?.includes('has no empty part ("//")') ?? false, `${glob} ${matched}`).to.equal(
          matched.length === 0,
        );
      }),
      { numRuns: runs(300) },
    );
  });
});

describe("Function: semanticFindings, repository names no host sends", () => {
  const one = (owner: string, any: string, shape: string, bare: string, not = "") =>
    `a repository's full name starts with its ${owner} ("${shape}"); write '${not}<${owner}>/${bare}', or '${not}${any}/${bare}' for any ${owner}`;
  const three = (label: string, shape: string) =>
    `a ${label} repository's full name is "${shape}", with one "/" (only GitLab nests groups)`;
  const url = (shape: string, fix?: string) =>
    `it is a repository's URL or clone address, and a route matches a repository's full name ("${shape}")${fix ? `; write '${fix}'` : ""}`;
  // [glob, route provider, defaults.provider, message after `… glob "<glob>" never matches: `]
  const refused: Array<[string, string | undefined, string | undefined, string]> = [
    ["  ", undefined, undefined, 'it is blank, and a repository\'s full name is "owner/name"'],
    ["\u00a0", "gitlab", undefined, 'it is blank, and a repository\'s full name is "group/name"'],
    ["/acme/web", undefined, undefined, "a name never begins with \"/\"; write 'acme/web'"],
    ["!.//acme/*", "gitlab", undefined, "a name never begins with \"/\"; write '!acme/*'"],
    ["acme//web", undefined, undefined, "a name has no empty part (\"//\"); write 'acme/web'"],
    ["group//sub/web", "gitlab", undefined, "a name has no empty part (\"//\"); write 'group/sub/web'"],
    ["web", undefined, undefined, one("owner", "*", "owner/name", "web")],
    ["*", undefined, undefined, one("owner", "*", "owner/name", "*")],
    ["!web-*", "gitea", undefined, one("owner", "*", "owner/name", "web-*", "!")],
    ["{web,api}", "bitbucket", undefined, one("workspace", "*", "workspace/repo", "{web,api}")],
    ["web", "bitbucket-server", undefined, one("project", "*", "PROJECT/repo", "web")],
    ["web", "gitlab", undefined, one("group", "**", "group/name", "web")],
    ["web", undefined, "gitlab", one("group", "**", "group/name", "web")],
    ["./web", undefined, undefined, one("owner", "*", "owner/name", "web")],
    ["acme/web/api", undefined, undefined, three("GitHub", "owner/name")],
    ["acme/*/api", "gitea", undefined, three("Gitea", "owner/name")],
    ["acme/web/*", "bitbucket", undefined, three("Bitbucket Cloud", "workspace/repo")],
    ["!PROJ/web/x", "bitbucket-server", undefined, three("Bitbucket Data Center", "PROJECT/repo")],
    ["acme/web/api", "github", "gitlab", three("GitHub", "owner/name")],
    // A repository's URL or clone address: the full name in it is suggested.
    ["https://github.com/acme/api", undefined, undefined, url("owner/name", "acme/api")],
    ["https://github.com/acme/api.git", "gitea", undefined, url("owner/name", "acme/api")],
    ["https://github.com/acme/api/tree/main", undefined, undefined, url("owner/name", "acme/api")],
    ["!git@github.com:acme/api.git", undefined, undefined, url("owner/name", "!acme/api")],
    [
      "ssh://git@gitlab.example.com:2222/platform/sub/api.git",
      "gitlab",
      undefined,
      url("group/name", "platform/sub/api"),
    ],
    ["https://gitlab.example.com/platform/**", "gitlab", undefined, url("group/name", "platform/**")],
    ["https:/gitlab.example.com/platform/**", "gitlab", undefined, url("group/name", "platform/**")],
    [
      "https://bitbucket.example.com/scm/PROJ/web.git",
      "bitbucket-server",
      undefined,
      url("PROJECT/repo", "PROJ/web"),
    ],
    // Data Center delivers its project key upper case; its clone URLs have it lower case.
    [
      "https://bitbucket.acme.example/scm/plat/payments.git",
      "bitbucket-server",
      undefined,
      url("PROJECT/repo", "PLAT/payments"),
    ],
    [
      "ssh://git@bitbucket.acme.example:7999/plat/payments.git",
      "bitbucket-server",
      undefined,
      url("PROJECT/repo", "PLAT/payments"),
    ],
    [
      "https://bitbucket.acme.example/scm/~jdoe/notes.git",
      "bitbucket-server",
      undefined,
      url("PROJECT/repo", "~JDOE/notes"),
    ],
    [
      "https://bitbucket.acme.example/projects/PLAT/repos/payments/browse",
      "bitbucket-server",
      undefined,
      url("PROJECT/repo", "PLAT/payments"),
    ],
    [
      "https://bitbucket.acme.example/users/jdoe/repos/notes/browse",
      "bitbucket-server",
      undefined,
      url("PROJECT/repo", "~JDOE/notes"),
    ],
    // On another host "scm" or "projects" is an owner's or a group's name, not Data Center's.
    ["https://github.com/scm/tools", undefined, undefined, url("owner/name", "scm/tools")],
    ["https://gitlab.example.com/scm/tools.git", "gitlab", undefined, url("group/name", "scm/tools")],
    [
      "https://gitea.example.com/scm/tools/src/branch/main",
      "gitea",
      undefined,
      url("owner/name", "scm/tools"),
    ],
    [
      "https://gitlab.example.com/projects/infra/repos/tools/-/tree/main",
      "gitlab",
      undefined,
      url("group/name", "projects/infra/repos/tools"),
    ],
    [
      "https://gitlab.example.com/platform/api/-/tree/main",
      "gitlab",
      undefined,
      url("group/name", "platform/api"),
    ],
    [
      "https://gitlab.example.com/platform/api/-/merge_requests/3",
      undefined,
      undefined,
      url("owner/name", "platform/api"),
    ],
    ["git@bitbucket.org:team/widgets.git", "bitbucket", undefined, url("workspace/repo", "team/widgets")],
    ["https://github.com/", undefined, undefined, url("owner/name")],
  ];
  for (const [glob, provider, defaultProvider, message] of refused) {
    const on = `${provider ?? "-"}/${defaultProvider ?? "-"}`;
    it(`semanticFindings refuses repos: [${shown(glob)}] (provider/defaults.provider ${on}): ${message}`, () => {
      expect(globFinding("repos", glob, provider, defaultProvider)).to.equal(
        `route "a" match.repos[0]: glob ${shownText(glob, 60)} never matches: ${message}`,
      );
    });
  }

  it("suggests for each clone URL of a Data Center delivery the full name that delivery has (PLAT/payments, not plat/payments)", () => {
    const payload = JSON.parse(
      readFileSync("test/fixtures/payloads/bitbucket-server/repo-refs_changed.json", "utf8"),
    );
    const { repository } = payload;
    const fullName = `${repository.project.key}/${repository.slug}`;
    expect(fullName).to.equal("PLAT/payments");
    const clones: string[] = repository.links.clone.map((link: { href: string }) => link.href);
    expect(clones).to.have.length.above(0);
    for (const clone of clones) {
      expect(globFinding("repos", clone, "bitbucket-server"), clone).to.match(
        new RegExp(`; write '${fullName}'$`),
      );
    }
  });

  // [glob, route provider, defaults.provider, a full name it matches]
  const accepted: Array<[string, string | undefined, string | undefined, string]> = [
    ["acme/web", undefined, undefined, "acme/web"],
    ["./acme/web", undefined, undefined, "acme/web"],
    ["a[[:punct:]]a\\/**//**", undefined, undefined, "a/a"],
    ["acme/*", "gitea", undefined, "acme/web"],
    ["*/*", "bitbucket", undefined, "team/web"],
    ["**", undefined, undefined, "acme/web"],
    ["acme/**", undefined, undefined, "acme/web"],
    ["{acme/web,other/api}", undefined, undefined, "other/api"],
    ["@(acme/web|web)", undefined, undefined, "acme/web"],
    ["acme{-..0}web", undefined, undefined, "acme/web"],
    ["acme[[:punct:]]web", undefined, undefined, "acme/web"],
    ["acme\\/web", undefined, undefined, "acme/web"],
    ["~ALICE/web", "bitbucket-server", undefined, "~ALICE/web"],
    ["group/sub/web", "gitlab", undefined, "group/sub/web"],
    ["group/*/*/web", undefined, "gitlab", "group/a/b/web"],
    ["group/sub/web", "gitlab", "github", "group/sub/web"],
    // A "}" that closes no "{" closes no parenthesis either: these "/" are inside "@(...)" (the fuzz harness).
    ["x/@(x{x},y}{a,b}/|*)", "bitbucket", undefined, "x/y"],
    ["octo-org/octo-rep@(|a(|})/b)o", "bitbucket-server", undefined, "octo-org/octo-repo"],
  ];
  for (const [glob, provider, defaultProvider, name] of accepted) {
    const on = `${provider ?? "-"}/${defaultProvider ?? "-"}`;
    it(`semanticFindings accepts repos: [${shown(glob)}] (provider/defaults.provider ${on}), which matches ${name}`, () => {
      expect(compileGlobList([glob])(name)).to.equal(true);
      expect(globFinding("repos", glob, provider, defaultProvider)).to.equal(undefined);
      expect(globFinding("repos", `!${glob}`, provider, defaultProvider)).to.equal(undefined);
    });
  }
});

// Every name of a few short parts, for each kind of value: a glob refused as never matching must match none.
function namesOf(parts: readonly string[], counts: readonly number[]): string[] {
  const out: string[] = [];
  const grow = (prefix: string[], left: number) => {
    if (left === 0) out.push(prefix.join("/"));
    else for (const part of parts) grow([...prefix, part], left - 1);
  };
  for (const count of counts) grow([], count);
  return out;
}
const REF_NAMES = namesOf(["a", "b", "ab", "a.b", "-", "\u00a0"], [1, 2, 3]);
const FILE_NAMES = namesOf(["a", "b", "ab", "a.b", " ", ".x"], [1, 2, 3]);
const TWO_PART_REPOS = namesOf(["a", "b", "ab", "a.b", "-"], [2]);
const GITLAB_REPOS = namesOf(["a", "b", "ab", "a.b", "-"], [2, 3, 4]);
const TOKENS = [
  ..."ab/*?. -",
  "**",
  "//",
  "./",
  "{a,b}",
  "{a,/}",
  "{a//b,a}",
  "{-..0}",
  "@(a|b)",
  "@(a|a/b)",
  "!(a)",
  "+(a)",
  "(/)",
  "[ab]",
  "[[:punct:]]",
  "[[:alnum:]/]",
  "}",
  "(}",
  "\\/",
  "\u00a0",
];

describe("Property: semanticFindings refuses a glob as never matching only when no name matches it", () => {
  // Random globs of these tokens, against every name of a few short parts; "!" in front is an exclusion.
  const cases: Array<[Key, string | undefined, string[]]> = [
    ["branches", undefined, REF_NAMES],
    ["tags", undefined, REF_NAMES],
    ["paths", undefined, FILE_NAMES],
    ["repos", "github", TWO_PART_REPOS],
    ["repos", "bitbucket-server", TWO_PART_REPOS],
    ["repos", "gitlab", GITLAB_REPOS],
  ];
  for (const [key, provider, names] of cases) {
    it(`a ${key} glob of *, **, ?, braces, extglobs, classes and escapes refused${provider ? ` on ${provider}` : ""} matches none of ${names.length} names`, () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 7 }), (tokens) => {
          const glob = tokens.join("");
          const finding = globFinding(key, glob, provider);
          if (finding === undefined || !finding.includes("never matches")) return;
          // An exclusion that never matches excludes nothing: what it would exclude is what must match none.
          const matches = compileGlobList([glob.replace(/^!/, "")]);
          expect(names.filter((name) => matches(name))).to.deep.equal([]);
        }),
        { numRuns: runs(2000) },
      );
    });
  }
});

describe("Property: semanticFindings and repository globs of three or more parts", () => {
  const part = fc.constantFrom("a", "b", "*", "?", "a*", "{a,b}", "@(a|b)", "+(a)", "*(a|b)");
  const glob = fc.array(part, { minLength: 3, maxLength: 4 }).map((parts) => parts.join("/"));
  it("a glob of three or more parts is refused on every host but GitLab and matches no two-part name", () => {
    fc.assert(
      fc.property(
        glob,
        fc.constantFrom("github", "gitea", "bitbucket", "bitbucket-server"),
        (g, provider) => {
          expect(globFinding("repos", g, provider)).to.match(/never matches: a .* repository's full name is/);
          const matches = compileGlobList([g]);
          expect(TWO_PART_REPOS.filter((name) => matches(name))).to.deep.equal([]);
        },
      ),
      { numRuns: runs(300) },
    );
  });
  it("a glob of three or more parts is accepted on GitLab, whose subgroups nest", () => {
    fc.assert(
      fc.property(glob, (g) => {
        expect(globFinding("repos", g, "gitlab")).to.equal(undefined);
      }),
      { numRuns: runs(300) },
    );
  });
});

/**
 * Whether git check-ref-format accepts refs/heads/<name>: its rules 1 and 3 to 8 and 10 (rule 9, the name
 * "@", is about the whole ref). The last test of this file checks it against git itself.
 */
function gitAccepts(name: string): boolean {
  const parts = name.split("/");
  if (parts.some((part) => part === "" || part.startsWith(".") || part.endsWith(".lock"))) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what Git refuses
  return !/[\u0000-\u0020\u007f~^:?*[\\]|\.\.|@\{|\.$/.test(name);
}

describe("Function: semanticFindings, branch and tag globs whose every match is a name Git refuses", () => {
  const refuses = (what: string) => `Git refuses ${what} in a branch or tag name`;
  const space = refuses("a space");
  const startDot = 'Git refuses a branch or tag name with a part that begins with "."';
  const lock = 'Git refuses a branch or tag name with a part that ends with ".lock"';
  const endDot = 'Git refuses a branch or tag name that ends with "."';
  // [key, glob, message after `route "a" match.<key>[0]: glob "<glob>" never matches: `]
  const refused: Array<[Key, string, string]> = [
    ["branches", "main ", `${space}; write 'main'`],
    ["tags", " v1.*", `${space}; write 'v1.*'`],
    ["branches", "!main  ", `${space}; write '!main'`],
    ["branches", "feature x", space],
    ["branches", "feature\\ x", space],
    // Two backslashes before a space: picomatch matches "a b" only, which Git refuses too.
    ["branches", "a\\\\ b", space],
    ["branches", "{main,dev} x", space],
    // Without the space, "main/" never matches either, and "main\\" is no glob to write: no fix is offered.
    ["branches", " main/", space],
    ["branches", "main\\ ", space],
    ["tags", "v1~1", refuses('"~"')],
    ["branches", "^main$", refuses('"^"')],
    ["branches", "origin:main", refuses('":"')],
    // "[!]" is a class of "!" (picomatch reads no "]" after "[!" as a member): the space is text.
    ["branches", "[!] x", space],
    ["branches", "release\\*", `${refuses('"*"')}, and "\\*" is that character, not a wildcard`],
    ["tags", "v\\?", `${refuses('"?"')}, and "\\?" is that character, not a wildcard`],
    ["branches", "a\\[1", `${refuses('"["')}, and "\\[" is that character, not a class`],
    // A "[" in quotes is text too (picomatch refuses one that no "]" closes otherwise).
    ["branches", '"["', refuses('"["')],
    ["tags", '"[v"*', refuses('"["')],
    ["branches", "a@{x}", refuses('"@{"')],
    ["tags", "v@\\{1", refuses('"@{"')],
    ["branches", "a..b", refuses('".."')],
    ["branches", "*..*", refuses('".."')],
    ["tags", "v1\\..*", refuses('".."')],
    ["branches", ".github", startDot],
    ["branches", "feature/.x", startDot],
    ["branches", "./.x", startDot],
    ["branches", "**/.*", startDot],
    ["tags", "!.v*", startDot],
    ["branches", "a\\/.x", startDot],
    ["branches", "*.lock", lock],
    ["branches", "a.lock/*", lock],
    ["tags", "v1.lock/**", lock],
    ["branches", "a\\.lock", lock],
    ["branches", "release.", endDot],
    ["tags", "v*.", endDot],
    ["branches", "a/b\\.", endDot],
    // In braces with no ",", only an unescaped "*(", "?(" or "+(" makes the character before it optional.
    ["branches", "{a @(b)}", space],
    ["branches", "{a !(b)}", space],
    ["branches", "{a \\*(b)}", space],
  ];
  for (const [key, glob, message] of refused) {
    it(`semanticFindings refuses ${key}: [${shown(glob)}]: ${message}`, () => {
      expect(globFinding(key, glob)).to.equal(
        `route "a" match.${key}[0]: glob ${shownText(glob, 60)} never matches: ${message}`,
      );
    });
  }

  // Each matches a name Git accepts (the second): the character or form is in a class, braces or parentheses
  // with another choice, next to a wildcard, or allowed where it is; and paths and repos follow other rules.
  const accepted: Array<[Key, string, string]> = [
    ["branches", "main\u00a0", "main\u00a0"],
    // picomatch reads runs of backslashes its own way: left alone (false refusals a helper found).
    ["tags", "v1\\\\.*", "v1.2.3"],
    ["tags", "v*\\\\.*\\\\.*", "v1.2.3"],
    ["branches", "release\\\\-*", "release-1.0"],
    // A class's brackets and parentheses are members, not groups; braces and parentheses close their own kind.
    ["branches", "v2.0.0-beta[\\.{]1(}:)?", "v2.0.0-beta.1"],
    // A "}" that closes no "{" is that character (globProblem refused these before).
    ["branches", "a(}:)?", "a"],
    ["tags", "v1(}|.x)", "v1}"],
    ["paths", '"["', "["],
    ["branches", "l(|.lock/)oc{*(}^)*k", "lock"],
    ["paths", "x.(|[^)]//)j*", "x.js"],
    ["paths", "@([)]|x//y)z", ")z"],
    // After "./", picomatch reads "!" as its own negation.
    ["paths", "./!docs/", "README.md"],
    ["branches", "./!main\\*", "develop"],
    ["branches", "{main,a b}", "main"],
    ["branches", "@(main|a b)", "main"],
    ["branches", "[ a]b", "ab"],
    ["branches", "x{ ,-}y", "x-y"],
    ["tags", "v[~.]1", "v.1"],
    ["branches", "[[:alpha:]:]", "a"],
    ["branches", "a@{b,c}", "a@b"],
    ["branches", "@", "@"],
    ["branches", "a@b", "a@b"],
    ["branches", "a{b}", "a{b}"],
    // Inside braces with no ",", picomatch makes an extglob quantify the character before it (fast-check's find).
    ["branches", "{a *(.lock)}", "{a}"],
    ["branches", "{a ?(b)}", "{a}"],
    ["branches", "a.*.b", "a.x.b"],
    ["branches", "a./b", "a./b"],
    ["branches", "*.lock*", "a.lockx"],
    ["branches", "a.lock?", "a.lockx"],
    ["branches", "lock/a.LOCK", "lock/a.LOCK"],
    ["branches", "{.x,y}", "y"],
    ["branches", "@(.x|y)", "y"],
    ["branches", "*/*", "a/b"],
    ["tags", "v1.*", "v1.0"],
    ["tags", "v{1..3}.0", "v2.0"],
    // Classes and groups as picomatch reads them: "]" first in a class is a member, "\\}" is no brace, and a
    // ")" in a class closes nothing.
    ["branches", "x[]~[]", "x]"],
    ["branches", "[^] [~]x", "ax"],
    ["branches", "[\\] ~]x", "]x"],
    ["branches", "{main,\\} x}", "main"],
    ["branches", "@(main|[)] x)", "main"],
    // With a brace range picomatch builds its RegExp from the text as written, and ".." is any two characters.
    ["branches", "v1..{1..3}", "v1ab2"],
    ["branches", "a,b+c$!", "a,b+c$!"],
    ["paths", ".github/workflows/*.yml", ".github/workflows/ci.yml"],
    ["paths", "docs/a b.md", "docs/a b.md"],
    ["paths", "x.lock", "x.lock"],
    ["repos", "acme/.github", "acme/.github"],
  ];
  for (const [key, glob, name] of accepted) {
    it(`semanticFindings accepts ${key}: [${shown(glob)}], which matches ${shown(name)}`, () => {
      if (key === "branches" || key === "tags") expect(gitAccepts(name)).to.equal(true);
      expect(compileGlobList([glob])(name)).to.equal(true);
      expect(globFinding(key, glob)).to.equal(undefined);
      expect(globFinding(key, `!${glob}`)).to.equal(undefined);
    });
  }
});

// Names Git accepts, of parts that hold glob syntax and the characters near Git's rules.
// No "$": picomatch writes "a$$" as /a\$$/, which matches no "a$$".
const richChar = fc.constantFrom(..."ab9-_=%é\u00a0.@{}()!+,]#'");
const richRefName = fc
  .array(fc.string({ unit: richChar, minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join("/"))
  .filter(gitAccepts);
/** The glob that matches a name and nothing else: glob syntax escaped. */
const escapeGlob = (text: string) => text.replace(/[\\*?[\]{}()!@+|,]/g, "\\$&");
/**
 * A glob for a name: the name escaped, with some parts written as "*", "**" or braces that hold them (a part
 * without glob syntax: hookgate's literal prefix of "{a.\\},x}" is the whole glob, so it matches no "a.}").
 */
const richGlobFor = (name: string) =>
  fc.array(fc.constantFrom("keep", "*", "**", "braces"), { minLength: 4, maxLength: 4 }).map((ways) =>
    name
      .split("/")
      .map((part, i) =>
        ways[i] === "*" || ways[i] === "**"
          ? ways[i]
          : ways[i] === "braces" && escapeGlob(part) === part
            ? `{${part},x}`
            : escapeGlob(part),
      )
      .join("/"),
  );

const RICH_REF_NAMES = namesOf(["a", "b", "a.b", "a.", "@", "{a}", "lock", "-", "\u00a0"], [1, 2, 3]);
const REF_TOKENS = [
  ..."ab/*?. ~^:@{}-",
  "\u00a0",
  "\u007f",
  "**",
  "..",
  "./",
  ".lock",
  "lock",
  "{a}",
  "{a,b}",
  "{ ,a}",
  "{.a,b}",
  "{a..c}",
  "@(a|b)",
  "@(a| )",
  "!(a)",
  "+(.a)",
  "*(.lock)",
  "(a)",
  "[ a]",
  "[.]",
  "[]a]",
  "[[:alpha:]]",
  "[[:alpha:].]",
  "(}",
  "\\ ",
  "\\.",
  "\\*",
  "\\{",
  "\\@",
  "\\/",
];

describe("Property: semanticFindings refuses a branch or tag glob for Git's rules only when no name Git accepts matches it", () => {
  const names = RICH_REF_NAMES.filter(gitAccepts);
  it(`a glob of text, wildcards, braces, extglobs, classes and escapes refused matches none of ${names.length} names Git accepts`, () => {
    let refusedByGitRules = 0;
    fc.assert(
      fc.property(
        fc.constantFrom("branches", "tags") as fc.Arbitrary<Key>,
        fc.array(fc.constantFrom(...REF_TOKENS), { minLength: 1, maxLength: 6 }),
        (key, tokens) => {
          const glob = tokens.join("");
          const finding = globFinding(key, glob);
          if (finding === undefined || !finding.includes("never matches")) return;
          if (finding.includes("never matches: Git refuses")) refusedByGitRules++;
          const matches = compileGlobList([glob.replace(/^!/, "")]);
          expect(names.filter((name) => matches(name))).to.deep.equal([]);
        },
      ),
      { numRuns: runs(3000) },
    );
    // The rules were tried: many of these globs hold a space, a "~", a ".." or a part that begins with ".".
    expect(refusedByGitRules).to.be.above(300);
  });
});

describe("Property: semanticFindings and branch and tag names Git accepts", () => {
  it("no glob made of a name Git accepts (escaped, or with parts written as *, ** or braces) is refused, and each matches the name", () => {
    fc.assert(
      fc.property(
        richRefName.chain((name) => fc.tuple(fc.constant(name), richGlobFor(name))),
        ([name, glob]) => {
          for (const entry of [escapeGlob(name), glob]) {
            expect(compileGlobList([entry])(name)).to.equal(true);
            for (const key of ["branches", "tags"] as const) {
              expect(globFinding(key, entry)).to.equal(undefined);
              expect(globFinding(key, `!${entry}`)).to.equal(undefined);
            }
          }
        },
      ),
      { numRuns: runs(500) },
    );
  });
});

describe("Function: gitAccepts, the tests' copy of git check-ref-format", () => {
  it("says of every name these tests use what git check-ref-format says of refs/heads/<name>", function () {
    if (spawnSync("git", ["--version"]).status !== 0) this.skip();
    const names = [
      ...new Set([
        ...RICH_REF_NAMES,
        ...REF_NAMES,
        ...fc.sample(richRefName, { numRuns: 200, seed: 119 }),
        ...fc.sample(refName, { numRuns: 100, seed: 119 }),
        // Each of Git's rules, just broken and just kept.
        ...[" a", "a b", "a~", "a^", "a:", "a?", "a*", "a[", "a\\b", "a\u007f", "a\u00a0", "a\u3000"],
        ...[
          ".a",
          "a/.b",
          "a.",
          "a./b",
          "a..b",
          "a.lock",
          "a.lock/b",
          "a.lockx",
          "a.LOCK",
          "lock",
          "a@{",
          "a@b",
        ],
        ...["@", "@/a", "a{b}", "a]b", "a,b+c$!", "a/b", "a//b", "/a", "a/", "é"],
      ]),
    ];
    const answers = execFileSync(
      "sh",
      [
        "-c",
        'while IFS= read -r n; do if git check-ref-format "refs/heads/$n"; then echo 1; else echo 0; fi; done',
      ],
      { input: `${names.join("\n")}\n`, encoding: "utf8" },
    )
      .trim()
      .split("\n");
    expect(answers.length).to.equal(names.length);
    const disagree = names.filter((name, i) => gitAccepts(name) !== (answers[i] === "1"));
    expect(disagree).to.deep.equal([]);
  });
});
