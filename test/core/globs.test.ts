import { expect } from "chai";
import fc from "fast-check";
import picomatch from "picomatch";
import {
  bangClassWarning,
  compileGlobList,
  escapedGlobWarning,
  globListLeads,
  globListLiterals,
  globProblem,
  globTextIsLiteral,
  rangeWarning,
} from "../../src/core/globs";
import { runs } from "../support/propertyRuns";

describe("Function: compileGlobList", () => {
  const cases: Array<[string[], string, boolean]> = [
    [["main", "release/*", "!release/old-*"], "main", true],
    [["main", "release/*", "!release/old-*"], "release/2.0", true],
    [["main", "release/*", "!release/old-*"], "release/old-1", false],
    [["main", "release/*", "!release/old-*"], "feature/x", false],
    [["!dependabot/**"], "feature/x", true],
    [["!dependabot/**"], "dependabot/npm/lodash", false],
    [["acme/*"], "acme/api", true],
    [["acme/*"], "acme/api/extra", false],
    [["docs/**"], "docs/a/b.md", true],
    [["*.md"], ".github.md", true],
    [["./main"], "./main", true],
    [["services/billing/**"], "services/billing/api.ts", true],
    [["services/billing/**"], "services/billing-v2/api.ts", false],
    [["services/billing/**"], "src/services/billing/api.ts", false],
    // Escaped glob characters match themselves (the README's actors example).
    [["dependabot\\[bot\\]"], "dependabot[bot]", true],
    [["!dependabot\\[bot\\]"], "dependabot[bot]", false],
    [["!dependabot\\[bot\\]"], "alice", true],
    [["a\\*b"], "a*b", true],
    [["a\\*b"], "axb", false],
    [["\\!x"], "!x", true],
    [["src/\\[id\\]/**"], "src/[id]/page.ts", true],
    // picomatch matches a text in quotes without them (and, as any glob, its own text), and a '"' after other
    // text as itself.
    [['"main"'], "main", true],
    [['"rel"*'], "release", true],
    [['x"a"'], 'x"a"', true],
    // A "/**" at the end also matches the folder's own name, as picomatch does (the README's glob rules):
    // "release/**/*" is the way to write "only below release/"; "release/*/**" needs two parts below.
    [["release/**"], "release", true],
    [["release/**"], "release/1.0", true],
    [["release/**"], "releases", false],
    [["docs/**"], "docs", true],
    [["!docs/**"], "docs", false],
    [["release/**/*"], "release", false],
    [["release/**/*"], "release/1.0", true],
    [["release/**/*"], "release/1.0/hotfix", true],
    [["release/*/**"], "release/1.0", false],
    [["release/*/**"], "release/1.0/hotfix", true],
  ];
  for (const [patterns, value, expected] of cases) {
    it(`compileGlobList(${JSON.stringify(patterns)})("${value}") is ${expected}`, () => {
      expect(compileGlobList(patterns)(value)).to.equal(expected);
    });
  }

  // After "./", picomatch reads "!" as a negation: "./!." matches every name but ".", so its base "." starts
  // none of them (a random-glob run against picomatch found it, seed 2: [["./!.", "a"], "!(a)"]).
  it('compileGlobList(["./!.", "a"]) accepts every name but "." as picomatch does, and globListLeads has no lead for it', () => {
    const test = compileGlobList(["./!.", "a"]);
    expect(["!(a)", "x", "b", "a", "!.", "src/a.ts", "."].filter(test)).to.deep.equal([
      "!(a)",
      "x",
      "b",
      "a",
      "!.",
      "src/a.ts",
    ]);
    expect(globListLeads(["./!.", "a"])).to.equal(undefined);
  });

  // What picomatch matches that the glob's text does not start (a random-glob run against picomatch found the
  // first two, seed 2, and the brace range): compileGlobList checked each value against the text first.
  const quirks: Array<[string, string, string]> = [
    ["$$", "$", 'picomatch\'s fast path escapes only the first "$" of a run, and /\\$$/ matches "$"'],
    ["c++", "c+", 'picomatch\'s fast path escapes only the first "+" of a run, and /c\\++/ matches "c+"'],
    ["x++y", "x+y", 'picomatch\'s fast path escapes only the first "+" of a run, and /x\\++y/ matches "x+y"'],
    [
      "a.b/{1..3}",
      "axb/2",
      'after a brace range picomatch writes the text as it is, and its "." is any character',
    ],
  ];
  for (const [glob, value, why] of quirks) {
    it(`compileGlobList(["${glob}"]) accepts "${value}", as picomatch does: ${why}`, () => {
      expect(picomatch.isMatch(value, glob, { dot: true, strictBrackets: true })).to.equal(true);
      expect(compileGlobList([glob])(value)).to.equal(true);
      expect(compileGlobList([glob, "a"])(value)).to.equal(true);
      const leads = globListLeads([glob]);
      if (leads !== undefined)
        expect(
          leads.some((lead) => value.startsWith(lead)),
          `${leads}`,
        ).to.equal(true);
    });
  }
});

describe("Function: globProblem", () => {
  for (const bad of ["", "!", "!!main", "release/[abc", "feat/{a,b", "a\u0000b"]) {
    it(`globProblem(${JSON.stringify(bad)}) reports a problem`, () => {
      expect(globProblem(bad)).to.be.a("string");
    });
  }
  for (const good of ["main", "release/*", "!release/old-*", "**/*.ts", "v[0-9]*", "{a,b}/c"]) {
    it(`globProblem(${JSON.stringify(good)}) accepts it`, () => {
      expect(globProblem(good)).to.equal(undefined);
    });
  }
});

describe("Function: globTextIsLiteral", () => {
  // [glob, whether picomatch keeps its text as written, a value that shows it]
  const cases: Array<[string, boolean, string, boolean]> = [
    ["a.b", true, "axb", false],
    ["a b/*.lock", true, "a b/x.lock", true],
    ["{a,b}.x", true, "a.x", true],
    // Rebuilt from the text as written: the "." is any character.
    ["a.{1..3}", false, "ax2", true],
    ["[[:alpha:]]a.x", false, "bayx", true],
    ["x.[[:alpha:]]", false, "xyz", true],
    ["***.x", false, "a.x", true],
  ];
  for (const [glob, literal, value, matches] of cases) {
    it(`globTextIsLiteral(${JSON.stringify(glob)}) is ${literal}: picomatch ${matches ? "matches" : "does not match"} ${JSON.stringify(value)}`, () => {
      expect(globTextIsLiteral(glob)).to.equal(literal);
      expect(picomatch.makeRe(glob, { dot: true, strictBrackets: true }).test(value)).to.equal(matches);
    });
  }
  it("globTextIsLiteral is false for a glob picomatch cannot read", () => {
    expect(globTextIsLiteral("a(b")).to.equal(false);
  });
});

describe("Function: globProblem (messages)", () => {
  const cases: Array<[string, string]> = [
    ["", 'empty glob ""'],
    ["!", 'empty glob "!"'],
    ["!!main", 'glob "!!main" has more than one leading "!"'],
    ["a\u0001b", 'glob "a\\u0001b" holds U+0001 (a control character) at character 2: remove it'],
    // Characters that cannot be seen in the file, and that no name a host sends holds.
    ["acme/\u200bapi", 'glob "acme/\\u200bapi" holds U+200B (zero-width space) at character 6: remove it'],
    ["acme/\u007fapi", 'glob "acme/\\u007fapi" holds U+007F (delete, DEL) at character 6: remove it'],
    ["ma\u0085in", 'glob "ma\\u0085in" holds U+0085 (next line, NEL) at character 3: remove it'],
    ["\u202eniam", 'glob "\\u202eniam" holds U+202E (right-to-left override) at character 1: remove it'],
    ["!main\u2066", 'glob "!main\\u2066" holds U+2066 (left-to-right isolate) at character 6: remove it'],
    ["\ufeffmain", 'glob "\\ufeffmain" holds U+FEFF (byte order mark) at character 1: remove it'],
    ["a\u2028b", 'glob "a\\u2028b" holds U+2028 (line separator) at character 2: remove it'],
    ["\u001b[2J", 'glob "\\u001b[2J" holds U+001B (escape) at character 1: remove it'],
    ["release/[abc", 'glob "release/[abc" has an unclosed bracket or brace'],
    ["feat/{a,b", 'glob "feat/{a,b" has an unclosed bracket or brace'],
    ["a}{b", 'glob "a}{b" has an unclosed bracket or brace'],
    ["a[]", 'glob "a[]" has an unclosed bracket or brace'],
    ["a]b", 'glob "a]b" has a "]" that closes no "["'],
    ["a(]:)?", 'glob "a(]:)?" has a "]" that closes no "["'],
  ];
  for (const [bad, message] of cases) {
    it(`globProblem(${JSON.stringify(bad)}) says: ${message}`, () => {
      expect(globProblem(bad)).to.equal(message);
    });
  }

  it("globProblem names picomatch's own objection to a glob it cannot compile (an unclosed parenthesis)", () => {
    expect(globProblem("a(b")).to.match(/^glob "a\(b" is invalid: Missing closing: "\)"/);
  });

  it("globProblem refuses a glob ending in four or more backslashes, on which picomatch's parser never returns", () => {
    const ends = (glob: string) =>
      `glob ${JSON.stringify(glob)} ends with four or more "\\", which the glob matcher never finishes reading: end it with another character`;
    expect(globProblem("x/\\\\\\\\")).to.equal(ends("x/\\\\\\\\"));
    expect(globProblem("!\\\\\\\\\\")).to.equal(ends("!\\\\\\\\\\"));
    expect(globProblem("a\\\\\\\\b")).to.equal(undefined);
    expect(globProblem("x/\\\\\\")).to.equal(undefined);
  });

  it("globProblem refuses a \\ before a digit, which picomatch keeps in its RegExp, where a list joined with | reads it as another glob's group", () => {
    const refused = (glob: string) =>
      `glob ${JSON.stringify(glob)} has a "\\" before a digit, which the glob matcher reads as a back-reference: write the digit alone`;
    expect(globProblem("\\1?")).to.equal(refused("\\1?"));
    expect(globProblem("!{a,b}{c,d}\\2")).to.equal(refused("!{a,b}{c,d}\\2"));
    expect(globProblem("v\\\\\\9")).to.equal(refused("v\\\\\\9"));
    // An escaped backslash before a digit is a backslash, then the digit; \0 is no back-reference.
    expect(globProblem("v\\\\1")).to.equal(undefined);
    expect(globProblem("v\\0")).to.equal(undefined);
  });

  it("globProblem refuses a RegExp named group, which picomatch passes into the RegExp a list's globs share (a name twice, or \\k beside one, does not compile)", () => {
    const refused = (glob: string) =>
      `glob ${JSON.stringify(glob)} has "(?<", a RegExp named group, which the glob matcher passes into the RegExp a list's globs share: write the group without "?<name>"`;
    for (const glob of ["(?<v>main)", "!(?<v>release)/*", "a\\\\(?<v>b)", "@(?<v>a)"]) {
      expect(globProblem(glob), glob).to.equal(refused(glob));
    }
    // Lookarounds name nothing; an escaped "(" is that character, as are "(?<" in a class or in quotes, and
    // "@(?<x)" is the group (\?<x).
    for (const glob of [
      "a(?<=a)",
      "a(?<!b)",
      "(?=m)main",
      "\\(?<v>a\\)",
      "[(?<a]",
      "release-[(?<]*",
      '"(?<v>x)"',
      "@(?<x)",
    ])
      expect(globProblem(glob), glob).to.equal(undefined);
    // What the refusal keeps out: a list with the same name twice, or a \k beside a name, is no RegExp.
    expect(() => compileGlobList(["(?<v>release)/*", "\\k<v>"])).to.throw(SyntaxError);
  });

  it("globProblem refuses a glob picomatch cannot build a RegExp for (it builds /$^/, which matches nothing), saying what to write when the cause is plain", () => {
    const refused = (glob: string, advice: string) =>
      `glob ${JSON.stringify(glob)} is one the glob matcher cannot build a RegExp for: ${advice}`;
    const rows: Array<[string, string]> = [
      ["(?<v>a)(?<v>b)", 'it names a group twice: write the groups without "?<name>"'],
      ["[z-a]x", "check its ranges (a-z, not z-a) and groups"],
      ["main\\", 'it ends with a lone "\\": write [\\\\] for a "\\"'],
      ["c\\+++", 'it has three "+" in a row: write \\+ for each "+"'],
    ];
    for (const [glob, advice] of rows) {
      expect(
        picomatch.makeRe(glob.replace(/^!/, ""), { dot: true, strictBrackets: true }).source,
        glob,
      ).to.equal("$^");
      expect(globProblem(glob), glob).to.equal(refused(glob, advice));
    }
    // The advice builds, and matches the text meant.
    expect(["main[\\\\]", "c\\+\\+\\+"].map(globProblem)).to.deep.equal([undefined, undefined]);
    expect(compileGlobList(["main[\\\\]"])("main\\")).to.equal(true);
    expect(compileGlobList(["c\\+\\+\\+"])("c+++")).to.equal(true);
    // Plain text without a "\\" is compared as text: accepted, it matches (or excludes) itself, as in picomatch.
    expect(["c+++", "!c+++", "a+++b"].map(globProblem)).to.deep.equal([undefined, undefined, undefined]);
    expect(["c+++", "c++"].map((name) => compileGlobList(["c+++"])(name))).to.deep.equal([true, false]);
    expect(compileGlobList(["!c+++"])("c+++")).to.equal(false);
    expect(picomatch.isMatch("c+++", "c+++", { dot: true, strictBrackets: true })).to.equal(true);
  });

  it("compileGlobList decides a list with a brace glob and a digit after a doubled backslash as picomatch does", () => {
    const list = ["{a,b}/x", "v\\\\1"];
    expect(list.map(globProblem)).to.deep.equal([undefined, undefined]);
    for (const value of ["a/x", "v\\1", "v\\", "\u0001"]) {
      const expected = list.some((glob) =>
        picomatch.isMatch(value, glob, { dot: true, strictBrackets: true }),
      );
      expect(compileGlobList(list)(value), value).to.equal(expected);
    }
  });

  it("globProblem accepts a no-break space, which Git allows in a branch name, and letters beyond ASCII", () => {
    expect(globProblem("main\u00a0")).to.equal(undefined);
    expect(globProblem("feature/grüße-😀")).to.equal(undefined);
  });

  it("globProblem quotes a long glob clipped to 80 characters", () => {
    expect(globProblem(`${"a".repeat(20_000)}[`)).to.equal(
      `glob "${"a".repeat(80)}…" has an unclosed bracket or brace`,
    );
  });

  it("globProblem accepts an escaped brace, which opens nothing", () => {
    expect(globProblem("a\\{b")).to.equal(undefined);
  });

  // [glob, a value picomatch matches with it]: a "}" that closes no "{" is that character, and a class's
  // brackets and braces are its members.
  const unpaired: Array<[string, string]> = [
    ["a(}:)?", "a"],
    ["a(}:)?", "a}:"],
    ["}", "}"],
    ["a}b", "a}b"],
    ["{a,}}", "}"],
    ["{a,b}}", "a}"],
    ["[{]", "{"],
    ["a[}]b", "a}b"],
    ["{[}],x}", "}"],
    ["[]]", "]"],
    ["[]{]", "{"],
    ['"["', "["],
  ];
  for (const [glob, value] of unpaired) {
    it(`globProblem accepts ${JSON.stringify(glob)}, which matches ${JSON.stringify(value)}`, () => {
      expect(globProblem(glob)).to.equal(undefined);
      expect(compileGlobList([glob])(value)).to.equal(true);
    });
  }
});

describe("Property: globProblem and picomatch on brackets, braces and parentheses", () => {
  const OPTIONS = { dot: true, strictBrackets: true };
  const compiles = (glob: string) => {
    try {
      picomatch.makeRe(glob, OPTIONS);
      return true;
    } catch {
      return false;
    }
  };
  // Never four backslashes at the end: picomatch never returns from such a glob (globProblem refuses it first).
  const glob = fc
    .array(fc.constantFrom(...'ab/{}[]()|,:?*!^-.\\"', "**", "{a,b}", "(}:)?", "[{]"), {
      minLength: 1,
      maxLength: 8,
    })
    .map((tokens) => tokens.join(""))
    .filter((g) => !/\\{4,}$/.test(g));
  it("globProblem refuses a glob for its brackets or braces exactly when picomatch cannot read it, and accepts none picomatch cannot", () => {
    fc.assert(
      fc.property(glob, (g) => {
        const problem = globProblem(g);
        const bracket =
          problem !== undefined && /unclosed bracket or brace|that closes no "\["/.test(problem);
        const body = g.startsWith("!") ? g.slice(1) : g;
        if (bracket) expect(compiles(body), g).to.equal(false);
        if (problem === undefined) {
          expect(compiles(body), g).to.equal(true);
          expect(() => compileGlobList([g]), g).not.to.throw();
        }
      }),
      { numRuns: runs(3000) },
    );
  });
});

describe("Function: globProblem with a | outside parentheses", () => {
  // picomatch reads such a "|" as text in one glob ("main|master" matches nothing) and as "or" in another
  // ("release/*|hotfix/*"), and the compiled list matched only the first half of that one.
  for (const bad of [
    "main|master",
    "release/*|hotfix/*",
    "docs/**|*.md",
    "!main|dev",
    "{main|master}",
    "(a)|b",
    "a)|b",
    "[a]|b",
  ]) {
    it(`globProblem(${JSON.stringify(bad)}) reports the "|" and says to list each glob as its own entry`, () => {
      expect(globProblem(bad)).to.equal(
        `glob ${JSON.stringify(bad)} has a "|" outside parentheses, which is not "or" in a glob: list each glob as its own entry, or write {a,b}`,
      );
    });
  }
  for (const good of ["@(main|master)", "release/(a|b)", "!(main|dev)", "((a)|b)", "[|]", "[a|b]", "a\\|b"]) {
    it(`globProblem(${JSON.stringify(good)}) accepts a "|" inside parentheses, inside brackets or escaped`, () => {
      expect(globProblem(good)).to.equal(undefined);
    });
  }
});

const GLOBS = [
  "main",
  "release/*",
  "!release/old-*",
  "src/**",
  "!docs/**",
  "services/billing/**",
  "**/*.md",
  "*.md",
  "./main",
  "a?c",
  "{a,b}/c",
  "v[0-9]*",
  "README.md",
  "src/",
  "s",
  "dependabot\\[bot\\]",
  "src/\\[id\\]/**",
];
const VALUES = fc.oneof(
  fc.constantFrom(
    "main",
    "release/1",
    "release/old-1",
    "src/a.ts",
    "docs/a.md",
    "README.md",
    "./main",
    "abc",
  ),
  fc.constantFrom("a/c", "b/c", "v1", "s", "src", "src/", "services/billing/x", "x.md", ""),
  fc.constantFrom("dependabot[bot]", "src/[id]/page.ts"),
  fc.string(),
);

describe("Function: compileGlobList against picomatch", () => {
  it("compileGlobList([glob]) accepts a non-empty value exactly when picomatch.isMatch does (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...GLOBS.filter((g) => !g.startsWith("!"))), VALUES, (glob, value) => {
        if (value === "") return;
        const reference = picomatch.isMatch(value, glob, { dot: true, strictBrackets: true });
        expect(compileGlobList([glob])(value), `${glob} ${JSON.stringify(value)}`).to.equal(reference);
      }),
      { numRuns: runs(2000) },
    );
  });
});

/** picomatch's own matcher, per side: the definition compileGlobList must agree with. */
function reference(list: readonly string[]): (value: string) => boolean {
  const options = { dot: true, strictBrackets: true };
  const includes = list.filter((p) => !p.startsWith("!"));
  const excludes = list.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  const include = includes.length > 0 ? picomatch(includes, options) : () => true;
  const exclude = excludes.length > 0 ? picomatch(excludes, options) : () => false;
  return (value) => include(value) && !exclude(value);
}

const EDGE_GLOBS = [
  ...GLOBS,
  // picomatch.scan takes all of it for a base: no prefix may be read from that.
  "{a.\\},x}",
  "src/*.ts",
  "docs/*.md",
  "/src",
  "a/../c",
  "a/./c",
  "..",
  ".",
  "a//c",
  "team:repo",
  "release/1.0",
  '"main"',
  '"src"/**',
];
const EDGE_VALUES = [
  "a.}",
  "x",
  "main",
  "release/1",
  "release/old-1",
  "src/a.ts",
  "src/a.md",
  "docs/a.md",
  "docs/a.ts",
  "README.md",
  "./main",
  "abc",
  "a/c",
  "b/c",
  "c",
  "v1",
  "s",
  "src",
  "src/",
  "/src",
  "a/../c",
  "a/./c",
  "..",
  ".",
  "a//c",
  "team:repo",
  "release/1.0",
  "services/billing/x",
  "x.md",
  "",
  "dependabot[bot]",
  "src/[id]/page.ts",
  '"main"',
  "src/a",
];

describe("Function: compileGlobList against picomatch, every glob and pair of globs", () => {
  it("compileGlobList agrees with picomatch on every one- and two-entry list of the edge globs and every edge value", () => {
    const lists = [
      ...EDGE_GLOBS.map((glob) => [glob]),
      ...EDGE_GLOBS.flatMap((a) => EDGE_GLOBS.map((b) => [a, b])),
    ];
    const disagreements: string[] = [];
    for (const list of lists) {
      const [compiled, expected] = [compileGlobList(list), reference(list)];
      for (const value of EDGE_VALUES) {
        if (compiled(value) !== expected(value))
          disagreements.push(`${JSON.stringify(list)} ${JSON.stringify(value)}`);
      }
    }
    expect(disagreements).to.deep.equal([]);
  });

  it("a list of more than eight names accepts each of them and nothing else", () => {
    for (const length of [8, 9, 12]) {
      const names = Array.from({ length }, (_, i) => `team-${i}`);
      const test = compileGlobList(names);
      expect(names.filter(test), `${length} names`).to.deep.equal(names);
      expect(["team-99", "team", "", "team-1 "].filter(test), `${length} names`).to.deep.equal([]);
    }
  });
});

describe("Property: compileGlobList against picomatch on random globs", () => {
  // Globs of tokens near picomatch's rules (its fast path, brace ranges, negation after "./", escapes), and
  // names of the same characters: the lists with no globProblem, as check lets them through.
  const TOKENS = [
    ..."ab/*?. -@+!\"'$^#%~:,",
    "**",
    "//",
    "./",
    "../",
    "{a,b}",
    "{a,/}",
    "{,a}",
    "{-..0}",
    "{1..3}",
    "@(a|b)",
    "!(a)",
    "+(a)",
    "*(a)",
    "?(a)",
    "(a)",
    "[ab]",
    "[!a]",
    "[^a]",
    "[[:punct:]]",
    "[[:alnum:]/]",
    "}",
    "{",
    ")",
    "(",
    "\\/",
    "\\*",
    "\\.",
    "\\a",
    "\\{",
    "\\\\",
    "\u00a0",
    "é",
  ];
  const glob = fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 6 }).map((t) => t.join(""));
  const entry = fc.tuple(fc.boolean(), glob).map(([not, g]) => (not ? `!${g}` : g));
  const NAME_PARTS = [..."ab/. -@+!\"'$^#%~:,{}()[]|*?\\é1", "\u00a0", "./", "../"];
  const name = fc.oneof(
    fc.array(fc.constantFrom(...NAME_PARTS), { maxLength: 8 }).map((a) => a.join("")),
    glob,
  );
  it("compileGlobList(list) accepts a name exactly when picomatch does, and one of globListLeads(list) starts it", () => {
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 3 }),
        fc.array(name, { maxLength: 8 }),
        (list, names) => {
          fc.pre(list.every((g) => globProblem(g) === undefined));
          const [compiled, expected, leads] = [compileGlobList(list), reference(list), globListLeads(list)];
          for (const value of [...names, ...list.map((g) => g.replace(/^!/, ""))]) {
            if (value === "") continue;
            expect(compiled(value), `${JSON.stringify(list)} ${JSON.stringify(value)}`).to.equal(
              expected(value),
            );
            if (leads !== undefined && expected(value)) {
              expect(
                leads.some((lead) => value.startsWith(lead)),
                `${leads} ${JSON.stringify(value)}`,
              ).to.equal(true);
            }
          }
        },
      ),
      { numRuns: runs(2000) },
    );
  });
});

describe("Function: globListLeads", () => {
  it("globListLeads(list) names a prefix of every value compileGlobList(list) accepts", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...GLOBS), { maxLength: 4 }), VALUES, (list, value) => {
        const leads = globListLeads(list);
        if (leads === undefined || !compileGlobList(list)(value)) return;
        expect(leads.some((lead) => lead.length > 0 && value.startsWith(lead))).to.equal(true);
      }),
      { numRuns: runs(2000) },
    );
  });

  it("globListLeads(list) is undefined without includes or with an include that has no literal prefix", () => {
    expect(globListLeads(["!docs/**"])).to.equal(undefined);
    expect(globListLeads(["src/**", "**/*.md"])).to.equal(undefined);
    expect(globListLeads(["src/**", "README.md", "!src/x/**"])).to.deep.equal(["src", "README.md"]);
  });

  it("globListLeads cuts a lead at its first glob syntax, where @, + and ! are syntax only before a (", () => {
    expect(globListLeads(["@types/**", "docs/c++/**", "dependabot\\[bot\\]"])).to.deep.equal([
      "@types",
      "docs/c++",
      "dependabot",
    ]);
    expect(globListLeads(["a@(b|c)/**"])).to.equal(undefined);
  });
});

describe("Function: globListLiterals", () => {
  it("globListLiterals(list) names the only values compileGlobList(list) accepts", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...GLOBS), { maxLength: 3 }), VALUES, (list, value) => {
        const literals = globListLiterals(list);
        if (literals === undefined) return;
        expect(compileGlobList(list)(value)).to.equal(literals.includes(value));
      }),
      { numRuns: runs(2000) },
    );
  });

  it("globListLiterals(list) names one or two literal entries, and is undefined for patterns, exclusions and longer lists", () => {
    expect(globListLiterals(["acme/api"])).to.deep.equal(["acme/api"]);
    expect(globListLiterals(["acme/api", "acme/web"])).to.deep.equal(["acme/api", "acme/web"]);
    expect(globListLiterals(["acme/*"])).to.equal(undefined);
    expect(globListLiterals(["!acme/api"])).to.equal(undefined);
    expect(globListLiterals(["a", "b", "c"])).to.equal(undefined);
  });
});

describe("Function: escapedGlobWarning", () => {
  const PICOMATCH = { dot: true, strictBrackets: true };
  /** The text a glob's escapes spell: each "\\x" is x. */
  const spelled = (glob: string) => glob.replace(/^!/, "").replace(/\\([\s\S])/g, "$1");
  const ANCHOR = 'the matcher escapes only the first "$" of a run and reads the next as an anchor';
  const CARET = 'the matcher escapes only the first "^" of a run and reads the next as an anchor';
  const LETTER =
    'a "\\" before a letter or digit is a RegExp escape to the matcher, "\\d" any digit and "\\b" a word boundary';
  const BACKSLASH =
    'the matcher writes a run of "\\" as one or two, which loses an escaped "\\" before another escape or a character it escapes';
  // [glob, why it misses the text it spells, the glob the warning suggests]
  const warned: Array<[string, string, string]> = [
    ["$$\\!a", ANCHOR, "\\$\\$\\!a"],
    ["!$$\\!a", ANCHOR, "!\\$\\$\\!a"],
    ["a\\$$", ANCHOR, "a\\$\\$"],
    ["\\^^x", CARET, "\\^\\^x"],
    ["v\\d", LETTER, "vd"],
    ["docs/\\b", LETTER, "docs/b"],
    ["a\\0", LETTER, "a0"],
    ["a\\\\$", BACKSLASH, "a[\\\\]\\$"],
    ["a\\\\.md", BACKSLASH, "a[\\\\].md"],
    ["x\\\\\\\\/y", BACKSLASH, "x[\\\\][\\\\]/y"],
  ];
  for (const [glob, why, instead] of warned) {
    it(`escapedGlobWarning warns that ${JSON.stringify(glob)} never matches ${JSON.stringify(spelled(glob))} and suggests ${JSON.stringify(instead)}`, () => {
      const text = spelled(glob);
      expect(picomatch.isMatch(text, glob.replace(/^!/, ""), PICOMATCH), "picomatch matches it").to.equal(
        false,
      );
      expect(escapedGlobWarning(glob)).to.equal(
        `glob ${JSON.stringify(glob)} never matches ${JSON.stringify(text)}, the text its escapes spell (${why}): write ${JSON.stringify(instead)}`,
      );
      expect(
        picomatch.isMatch(text, instead.replace(/^!/, ""), PICOMATCH),
        "the suggestion matches",
      ).to.equal(true);
    });
  }

  it("escapedGlobWarning names every cause a glob has", () => {
    expect(escapedGlobWarning("\\a$$")).to.equal(
      `glob "\\\\a$$" never matches "a$$", the text its escapes spell (${LETTER}; ${ANCHOR}): write "a\\\\$\\\\$"`,
    );
  });

  // Globs that match the text they spell, globs with other syntax, and globs without an escape.
  for (const glob of [
    "\\!a",
    "$\\!a",
    "\\$\\$\\!a",
    "a\\*",
    "dependabot\\[bot\\]",
    "a\\\\b",
    "c++",
    "a$$",
    "a$$b",
    "feature\\/x",
    "a/\\$$",
    "x\\",
    "main",
    "",
    "a[",
  ]) {
    it(`escapedGlobWarning says nothing of ${JSON.stringify(glob)}`, () => {
      expect(escapedGlobWarning(glob)).to.equal(undefined);
    });
  }

  // Tokens of the characters picomatch treats specially, escaped or not, and of letters that are RegExp escapes.
  const token = fc.oneof(
    fc.constantFrom("a", "b", "d", "n", "0", "_", "$", "^", "+", ".", "-", "@", "!", "/", " ", "é"),
    fc
      .constantFrom("a", "b", "d", "n", "0", "_", "$", "^", "+", ".", "-", "@", "!", "/", "\\")
      .map((c) => `\\${c}`),
  );

  it("escapedGlobWarning warns of every glob of escapes that misses the text it spells, and its suggestion matches that text", () => {
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 7 }), fc.boolean(), (tokens, negated) => {
        const body = tokens.join("");
        const glob = negated ? `!${body}` : body;
        fc.pre(
          body.includes("\\") &&
            !body.startsWith("./") &&
            !body.startsWith("!") &&
            globProblem(glob) === undefined,
        );
        const text = spelled(glob);
        const warning = escapedGlobWarning(glob);
        expect(warning === undefined, String(warning)).to.equal(compileGlobList([body])(text));
        if (warning === undefined) return;
        const instead = /: write "((?:[^"\\]|\\.)*)"$/.exec(warning);
        expect(instead, warning).to.not.equal(null);
        const suggestion = JSON.parse(`"${instead?.[1]}"`) as string;
        expect(suggestion.startsWith("!")).to.equal(negated);
        expect(globProblem(suggestion)).to.equal(undefined);
        expect(compileGlobList([suggestion.replace(/^!/, "")])(text), suggestion).to.equal(true);
      }),
      { numRuns: runs(2000) },
    );
  });

  // Escapes picomatch keeps in its RegExp, where they match something else than the letter after the "\".
  const DIGIT =
    '"\\d", which the matcher reads as a RegExp escape (any digit), not the letter "d": write [0-9] for a digit, or "d" alone for the letter';
  const WORD =
    '"\\w", which the matcher reads as a RegExp escape (a letter, digit or "_"), not the letter "w": write [A-Za-z0-9_] for a letter, digit or "_", or "w" alone for the letter';
  // [glob, what its note says after "has", a text the glob and the glob without that "\" decide differently]
  const regexpEscapes: Array<[string, string, string]> = [
    ["v\\d*", DIGIT, "v1.2"],
    ["!v\\d*", DIGIT, "v1.2"],
    ["{a,b}\\d", DIGIT, "b7"],
    ["./\\d", DIGIT, "7"],
    ["a\\\\\\d*", DIGIT, "a1"],
    ["v\\w*", WORD, "vx"],
    ["v\\d\\w\\d*", `${DIGIT}; and ${WORD}`, "v1x2"],
    [
      "v\\s*",
      '"\\s", which the matcher reads as a RegExp escape (a space, tab or other white space), not the letter "s": write [ ] for a space, or "s" alone for the letter',
      "vs",
    ],
    [
      "a\\D",
      '"\\D", which the matcher reads as a RegExp escape (any character but a digit), not the letter "D": write [^0-9] for any other character but "/" (the escape matches "/" too), or "D" alone for the letter',
      "a-",
    ],
    [
      "a\\S*",
      '"\\S", which the matcher reads as a RegExp escape (any character but white space), not the letter "S": write ? for any character but "/" (the escape matches "/" too), or "S" alone for the letter',
      "ax",
    ],
    [
      "a\\W*",
      '"\\W", which the matcher reads as a RegExp escape (any character but a letter, digit or "_"), not the letter "W": write [^A-Za-z0-9_] for any other character but "/" (the escape matches "/" too), or "W" alone for the letter',
      "a-",
    ],
    [
      "[a\\d]x",
      '"\\d" in a class, which the matcher reads as a RegExp escape (any digit), not the letter "d": write 0-9 in a class for a digit, or "d" alone for the letter',
      "5x",
    ],
    [
      "docs/\\b*",
      '"\\b", which the matcher reads as a RegExp escape (a word boundary, which is no character), not the letter "b": write "b" alone for the letter',
      "docs/x",
    ],
    [
      "[\\b]",
      '"\\b" in a class, which the matcher reads as a RegExp escape (a backspace), not the letter "b": write "b" alone for the letter',
      "b",
    ],
    [
      "[\\B]",
      '"\\B" in a class, which the matcher reads as a RegExp escape ("B" in the class, but where picomatch also matches the brackets as text, not a word boundary), not the letter "B": write "B" alone for the letter',
      "[]",
    ],
    [
      "*\\n",
      '"\\n", which the matcher reads as a RegExp escape (a line feed), not the letter "n": write "n" alone for the letter',
      "an",
    ],
    [
      "\\cA*",
      '"\\c", which the matcher reads as a RegExp escape (a control character before a letter ("\\cA" is U+0001), else a "\\" and "c"), not the letter "c": write "c" alone for the letter',
      "cA",
    ],
    [
      "a\\0*",
      '"\\0", which the matcher reads as a RegExp escape (U+0000, or with digits after it an octal escape ("\\01" is U+0001)), not the digit "0": write "0" alone for the digit',
      "a0",
    ],
    [
      "v\\x41*",
      '"\\x41", which the matcher reads as a RegExp escape (the character U+0041), not the text "x41": write "x41" alone for the text',
      "vA",
    ],
    [
      "@(a|\\u0041)",
      '"\\u0041", which the matcher reads as a RegExp escape (the character U+0041), not the text "u0041": write "u0041" alone for the text',
      "A",
    ],
  ];
  for (const [glob, clauses, text] of regexpEscapes) {
    it(`escapedGlobWarning notes that ${JSON.stringify(glob)} holds a RegExp escape, what it matches and what to write (${JSON.stringify(text)} is decided otherwise without the "\\")`, () => {
      const body = glob.replace(/^!/, "");
      const withoutEscape = body.replace(/(?<=(?:^|[^\\])(?:\\\\)*)\\(?=[0-9A-Za-z])/g, "");
      expect(
        picomatch.isMatch(text, body, PICOMATCH),
        `${JSON.stringify(text)}: ${body} against ${withoutEscape}`,
      ).to.not.equal(picomatch.isMatch(text, withoutEscape, PICOMATCH));
      expect(escapedGlobWarning(glob)).to.equal(`glob ${JSON.stringify(glob)} has ${clauses}`);
    });
  }

  it('escapedGlobWarning reads whether an escape is in a class from picomatch\'s RegExp: after a quoted "[" it is not, after a POSIX class or a "]" right after "[" it is', () => {
    const BOUNDARY =
      '"\\b", which the matcher reads as a RegExp escape (a word boundary, which is no character), not the letter "b": write "b" alone for the letter';
    const BACKSPACE =
      '"\\b" in a class, which the matcher reads as a RegExp escape (a backspace), not the letter "b": write "b" alone for the letter';
    const rows: Array<[string, string, string]> = [
      ['"["\\b*', BOUNDARY, "^(?:\\[\\b[^/]*?\\/?)$"],
      ['"["\\d*', DIGIT, "^(?:\\[\\d[^/]*?\\/?)$"],
      ["[[:alpha:]\\b]*", BACKSPACE, "[a-zA-Z\\b]"],
      ["[]\\b]*", BACKSPACE, "[\\]\\b]"],
    ];
    for (const [glob, clause, built] of rows) {
      expect(picomatch.makeRe(glob, PICOMATCH).source, glob).to.include(built);
      expect(escapedGlobWarning(glob), glob).to.equal(`glob ${JSON.stringify(glob)} has ${clause}`);
    }
    // A POSIX class's own escapes ("[[:space:]]" is [ \t\r\n\v\f]) are not the glob's: only the "\d" is named.
    expect(escapedGlobWarning("[[:space:]]\\d")).to.equal(
      `glob ${JSON.stringify("[[:space:]]\\d")} has ${DIGIT}`,
    );
  });

  it('escapedGlobWarning\'s advice for \\D, \\S and \\W says it never matches "/", which the escape matches', () => {
    for (const [glob, advised] of [
      ["a\\Db*", "a[^0-9]b*"],
      ["a\\Sb*", "a?b*"],
      ["a\\Wb*", "a[^A-Za-z0-9_]b*"],
    ] as const) {
      expect(escapedGlobWarning(glob), glob).to.include(
        `write ${advised.slice(1, -2)} for any ${glob[2] === "S" ? "" : "other "}character but "/" (the escape matches "/" too)`,
      );
      expect(compileGlobList([glob])("a/b"), glob).to.equal(true);
      expect(compileGlobList([advised])("a/b"), advised).to.equal(false);
    }
  });

  it('escapedGlobWarning says "\\c" in a class is a control character before a digit or "_" too ([\\c1] matches U+0011)', () => {
    expect(compileGlobList(["[\\c1]x"])("\u0011x")).to.equal(true);
    expect(compileGlobList(["[\\c1]x"])("\\x")).to.equal(false);
    expect(escapedGlobWarning("[\\c1]x")).to.equal(
      'glob "[\\\\c1]x" has "\\c" in a class, which the matcher reads as a RegExp escape (a control character before a letter, digit or "_" ("\\c1" is U+0011), otherwise "\\" or "c"), not the letter "c": write "c" alone for the letter',
    );
  });

  // A "\" before a letter picomatch reads as that letter, an escaped "\" before a letter, and "\x" or "\u"
  // without the hexadecimal digits of an escape.
  for (const glob of [
    "v\\a*",
    "{a,\\k}",
    "[\\e]",
    "v\\\\d*",
    "!a\\\\\\\\n*",
    "v\\x4*",
    "v\\u004*",
    "\\p{L}*",
  ]) {
    it(`escapedGlobWarning says nothing of ${JSON.stringify(glob)}, which holds no RegExp escape`, () => {
      expect(escapedGlobWarning(glob)).to.equal(undefined);
    });
  }

  it("escapedGlobWarning keeps the note of a glob whose escapes spell a text it never matches, and adds none", () => {
    expect(escapedGlobWarning("v\\d")).to.equal(
      `glob "v\\\\d" never matches "vd", the text its escapes spell (${LETTER}): write "vd"`,
    );
  });

  // A "\" (not itself escaped) before one of these in picomatch's RegExp matches something else than the letter.
  const REGEXP_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[0bBcdDfnrsStvwW])/;
  const globToken = fc.oneof(
    fc.constantFrom(
      "a",
      "d",
      "x",
      "4",
      "0",
      "A",
      "_",
      ".",
      "-",
      "/",
      "*",
      "?",
      "**/",
      "{a,b}",
      "[a-c]",
      "@(a|b)",
    ),
    fc
      .constantFrom("0", "b", "B", "c", "d", "D", "f", "n", "r", "s", "S", "t", "v", "w", "W", "x41", "u0041")
      .map((c) => `\\${c}`),
    fc.constantFrom("a", "e", "k", "p", "x", "u", "z", "A", "Z", "*", ".", "\\").map((c) => `\\${c}`),
  );

  it("escapedGlobWarning notes every glob whose RegExp holds an escape other than its letter, and no other glob", () => {
    fc.assert(
      fc.property(fc.array(globToken, { minLength: 1, maxLength: 6 }), fc.boolean(), (tokens, negated) => {
        const body = tokens.join("");
        const glob = negated ? `!${body}` : body;
        fc.pre(!body.startsWith("!") && globProblem(glob) === undefined);
        const warning = escapedGlobWarning(glob);
        const kept = REGEXP_ESCAPE.test(picomatch.makeRe(body, PICOMATCH).source);
        if (kept) expect(warning, picomatch.makeRe(body, PICOMATCH).source).to.not.equal(undefined);
        else if (warning !== undefined) expect(warning).to.include(", the text its escapes spell (");
      }),
      { numRuns: runs(2000) },
    );
  });
});

describe("Function: bangClassWarning", () => {
  const OPTIONS = { dot: true, strictBrackets: true };
  const noted = (glob: string) =>
    `glob ${JSON.stringify(glob)} has "[!", which the matcher reads as a class holding "!", not as "not": write "[^" for any character but those in the class`;

  it("notes a class opened by [!, which picomatch (as hookgate calls it) reads as holding !, where Git and the shells read not", () => {
    for (const glob of ["[!0-9]x", "![!a]*", "release/[!_]*", "{a,[!b]}"]) {
      expect(bangClassWarning(glob), glob).to.equal(noted(glob));
    }
    // What the note says, as compileGlobList decides: "!" and the class's characters match, others do not.
    expect(["!x", "1x", "ax"].map((name) => compileGlobList(["[!0-9]x"])(name))).to.deep.equal([
      true,
      true,
      false,
    ]);
    expect(picomatch.isMatch("ax", "[!0-9]x", OPTIONS)).to.equal(false);
    expect(compileGlobList(["[^0-9]x"])("ax")).to.equal(true);
  });

  it('notes a [! class picomatch builds after a class holding a quote (["]x[!a]), where the quote opens no quoted text', () => {
    expect(picomatch.makeRe('["]x[!a]', OPTIONS).source).to.include("[!a]");
    expect(compileGlobList(['["]x[!a]'])('"x!')).to.equal(true);
    expect(bangClassWarning('["]x[!a]')).to.equal(noted('["]x[!a]'));
  });

  it("notes nothing for [][!], one class holding ], [ and !, which no [! opens", () => {
    expect(picomatch.makeRe("[][!]", OPTIONS).source).to.equal("^(?:[\\]\\[!]\\/?)$");
    expect(bangClassWarning("[][!]")).to.equal(undefined);
  });

  it("notes [!]x without the [^ advice, as [^]x is a glob hookgate refuses", () => {
    expect(globProblem("[^]x")).to.be.a("string");
    for (const glob of ["[!]x", "[!a][!]x"]) {
      expect(bangClassWarning(glob), glob).to.equal(
        `glob ${JSON.stringify(glob)} has "[!", which the matcher reads as a class holding "!", not as "not"`,
      );
    }
  });

  it("notes nothing for a ! inside a class, an escaped [, a [! in quotes, [^, or a glob with a problem", () => {
    for (const glob of ["a[b!]c", "\\[!a]", '"[!a]"', "[[!a]", "x[^0-9]", "a[!", "main"]) {
      expect(bangClassWarning(glob), glob).to.equal(undefined);
    }
  });
});

describe("Function: rangeWarning", () => {
  // [glob, what the note says of it, the values a shell expands its brace to that the matcher misses]: each
  // row is checked against the matcher itself, so the note's claim is what happens. Where the rest of the
  // glob is literal the note names the glob's values (v3), else the brace's, and says so.
  const noted: Array<[string, string, string[]]> = [
    [
      "v{1..12}",
      "it misses v3, v4, v5, ...",
      ["v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12"],
    ],
    ["v{01..03}", "it misses v01, v02, v03", ["v01", "v02", "v03"]],
    ["v{1..9..2}", "it misses v3, v5, v7", ["v3", "v5", "v7"]],
    ["v{1..3,5}", "it misses v2", ["v2"]],
    ["v{-1..1}", "it misses v-1, v0", ["v-1", "v0"]],
    [
      "!release-{1..12}",
      "it does not exclude release-3, release-4, release-5, ...",
      ["release-3", "release-12"],
    ],
    ["release/*/{1..12}", "its brace misses 3, 4, 5, ...", ["release/x/3", "release/x/12"]],
  ];
  for (const [glob, says, missed] of noted) {
    it(`notes ${glob}, whose range the matcher does not expand as a shell does, naming values it misses`, () => {
      expect(rangeWarning(glob), glob).to.include(
        `holds the range {${glob.slice(glob.indexOf("{") + 1, glob.indexOf("}"))}}, which picomatch does not expand as a shell does (${says})`,
      );
      const matches = compileGlobList([glob.replace(/^!/, "")]);
      for (const value of missed) expect(matches(value), value).to.equal(false);
    });
  }

  it('notes a brace holding ".." that is no shell range ({v1..v3}), which the matcher reads as a class of single characters, naming the glob\'s values it misses', () => {
    const matches = compileGlobList(["{v1..v3}"]);
    expect(["v1", "v2", "v3"].filter(matches)).to.deep.equal([]);
    expect(["a", "Z", "7"].filter(matches)).to.deep.equal(["a", "Z", "7"]);
    expect(rangeWarning("{v1..v3}")).to.equal(
      'glob "{v1..v3}" holds {v1..v3}, which is no range a shell expands (integers or single letters), and ' +
        "which picomatch reads as a character class between single characters, [v1-v3] (it misses v1, v3): " +
        "list the values, as in {v1,v2,v3}",
    );
    expect(rangeWarning("release-{1.0..1.3}")).to.include("(it misses release-1.0, release-1.3)");
    const release = compileGlobList(["release-{1.0..1.3}"]);
    expect(["release-1.0", "release-1.3"].filter(release)).to.deep.equal([]);
  });

  it("says a range inside a negated extglob (v!({1..12})) lets the glob take values it was to leave out, not that it misses them", () => {
    const matches = compileGlobList(["v!({1..12})"]);
    for (const value of ["v3", "v12"]) expect(matches(value), value).to.equal(true);
    expect(rangeWarning("v!({1..12})")).to.include(
      "(it takes v3, v4, v5, ..., which its !(...) was to leave out)",
    );
    expect(rangeWarning("v!({1..12})")).not.to.include("misses");
    // Where the group holds more than the brace, the brace's values, said to be the brace's.
    expect(rangeWarning("x!(a{1..12})")).to.include(
      "(its brace misses 3, 4, 5, ..., which the !(...) around it then does not leave out)",
    );
    expect(compileGlobList(["x!(a{1..12})"])("xa3")).to.equal(true);
  });

  it('reads a group at the glob\'s start, "(v{1..12})", as no negated extglob: the note says what its brace misses', () => {
    const matches = compileGlobList(["(v{1..12})"]);
    expect(["v1", "v3", "v12"].filter(matches)).to.deep.equal(["v1"]);
    const note = rangeWarning("(v{1..12})");
    expect(note).to.include("(its brace misses 3, 4, 5, ...)");
    expect(note).not.to.include("!(...)");
  });

  it("notes a brace that is no shell range though the matcher takes both its ends, v{0..f}, naming other values the class between them takes", () => {
    const matches = compileGlobList(["v{0..f}"]);
    expect(["v0", "vf", "v1", "v:", "vA"].filter(matches)).to.deep.equal(["v0", "vf", "v1", "v:", "vA"]);
    expect(rangeWarning("v{0..f}")).to.equal(
      'glob "v{0..f}" holds {0..f}, which is no range a shell expands (integers or single letters), and ' +
        "which picomatch reads as a character class between single characters, [0-f] (it takes every " +
        "character between its ends, as v1, v:, vA, ...): list the values, as in {v1,v2,v3}",
    );
    expect(rangeWarning("!v{0..f}")).to.include(
      "(it excludes every character between its ends, as v1, v:, vA, ...)",
    );
    expect(rangeWarning("v!({0..f})")).to.include(
      "(its brace takes every character between its ends, as 1, :, A, ..., which the !(...) around it then leaves out)",
    );
    expect(compileGlobList(["v!({0..f})"])("v:")).to.equal(false);
  });

  it("notes a range beside other choices, which the matcher reads as other values", () => {
    expect(rangeWarning("v{a..c,5}")).to.include("(it reads a range beside other choices as other values)");
    expect(compileGlobList(["v{a..c,5}"])("v1"), "v1, which no choice names").to.equal(true);
  });

  it("notes nothing for a brace in quotes, which the matcher reads as text ('\"v{1..12}\"' is v{1..12}), and never throws for one it cannot compile alone", () => {
    const quoted = compileGlobList(['"v{1..12}"']);
    expect(["v{1..12}", "v1", "v3"].filter(quoted)).to.deep.equal(["v{1..12}"]);
    expect(rangeWarning('"v{1..12}"')).to.equal(undefined);
    // The brace's own text, {a..]}, is one picomatch refuses ("]" closes no "["): in quotes it is text.
    expect(globProblem('"{a..]}"')).to.equal(undefined);
    expect(compileGlobList(['"{a..]}"'])("{a..]}")).to.equal(true);
    expect(rangeWarning('"{a..]}"')).to.equal(undefined);
    expect(rangeWarning('!x"{a..]}"')).to.equal(undefined);
  });

  it("never throws for a glob globProblem accepts, quotes, classes and stray brackets included", () => {
    const glob = fc
      .array(fc.constantFrom(..."av1(){}[]!,\\".split(""), '"', "..", "{1..12}", "{a..]}", "!("), {
        minLength: 1,
        maxLength: 8,
      })
      .map((tokens) => tokens.join(""))
      .filter((g) => !/\\{4,}$/.test(g));
    fc.assert(
      fc.property(glob, (g) => {
        fc.pre(globProblem(g) === undefined);
        expect(() => rangeWarning(g), g).not.to.throw();
      }),
      { numRuns: runs(2000) },
    );
  });

  it("leaves alone a range the matcher expands (two single digits or letters, alone, no step) and braces without one", () => {
    for (const glob of [
      "v{1..9}",
      "v{a..f}",
      "v{3..1}",
      "release/{1..3}/*",
      "{main,dev}",
      "v\\{1..12}",
      "v1..12",
      // In a class a brace is its characters: "v[{1..12}]" takes "v{" and "v1", as its class says.
      "v[{1..12}]",
    ]) {
      expect(rangeWarning(glob), glob).to.equal(undefined);
    }
    const matches = compileGlobList(["v{1..9}"]);
    for (const n of [1, 5, 9]) expect(matches(`v${n}`), `v${n}`).to.equal(true);
    const inClass = compileGlobList(["v[{1..12}]"]);
    expect(["v{", "v1", "v.", "v12"].filter(inClass)).to.deep.equal(["v{", "v1", "v."]);
  });
});
