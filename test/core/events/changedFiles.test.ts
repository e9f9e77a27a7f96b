import { expect } from "chai";
import fc from "fast-check";
import {
  changedFilesOf,
  commitListTruncated,
  someChangedFile,
  withLazyChangedFiles,
} from "../../../src/core/events/changedFiles";
import { normaliseDelivery } from "../../../src/core/events/normalise";
import { compileGlobList, globListLeads } from "../../../src/core/globs";
import type { WebhookEvent } from "../../../src/core/types";
import { bagOf, loadPayload } from "../../fixtures/payloads";
import { runs } from "../../support/propertyRuns";

function githubPush(commits: unknown): WebhookEvent {
  const payload = { ...(loadPayload("github/push").payload as Record<string, unknown>), commits };
  const body = Buffer.from(JSON.stringify(payload));
  return normaliseDelivery("github", bagOf({ "X-GitHub-Event": "push" }), payload, body);
}

function gitlabPush(commits: unknown): WebhookEvent {
  const payload = { ...(loadPayload("gitlab/push").payload as Record<string, unknown>), commits };
  const body = Buffer.from(JSON.stringify(payload));
  return normaliseDelivery("gitlab", bagOf({ "X-Gitlab-Event": "Push Hook" }), payload, body);
}

/** The plain definition someChangedFile must agree with: test each listed file in turn. */
function reference(files: unknown[], test: (file: string) => boolean): string {
  if (files.length === 0) return "none";
  return files.some((file) => typeof file === "string" && test(file)) ? "match" : "miss";
}

const PATHS = [
  "src/index.ts",
  "src/core/a.ts",
  "services/billing/api.ts",
  "services/payments/api.ts",
  "mobile/app.ts",
  "mobile/docs/x.md",
  "docs/readme.md",
  "README.md",
  "s",
  "sr",
  "é/x.ts",
  "ßrc/x",
];

const commitArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        added: fc.oneof(
          fc.array(fc.oneof(fc.constantFrom(...PATHS), fc.string(), fc.integer()), { maxLength: 6 }),
          fc.string(),
        ),
        modified: fc.array(fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 4 })), {
          maxLength: 6,
        }),
        removed: fc.array(fc.constantFrom(...PATHS, ""), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.string(), fc.array(fc.string(), { maxLength: 2 })) },
);

const globListArb = fc.array(
  fc.constantFrom(
    "src/**",
    "!docs/**",
    "services/billing/**",
    "mobile/**",
    "!mobile/docs/**",
    "README.md",
    "**/*.md",
    "s",
    "sr*",
    "é/**",
    "ß*/**",
    "*.ts",
  ),
  { minLength: 1, maxLength: 3 },
);

describe("Function: someChangedFile", () => {
  it("someChangedFile(event, test, leads) agrees with testing every file of changedFilesOf(commits), for GitHub and GitLab pushes", () => {
    fc.assert(
      fc.property(fc.array(commitArb, { maxLength: 6 }), globListArb, (commits, list) => {
        const test = compileGlobList(list);
        const leads = globListLeads(list);
        const expected = reference(changedFilesOf(commits), test);
        // Several lists on one event: the shared sketch must answer each as a full scan would.
        const github = githubPush(commits);
        const gitlab = gitlabPush(commits);
        expect(someChangedFile(github, test, leads)).to.equal(expected);
        expect(someChangedFile(github, test, undefined)).to.equal(expected);
        expect(someChangedFile(gitlab, test, leads)).to.equal(expected);
        for (const other of [["src/**"], ["mobile/**"], ["**/*.md"]]) {
          const otherTest = compileGlobList(other);
          expect(someChangedFile(github, otherTest, globListLeads(other))).to.equal(
            reference(changedFilesOf(commits), otherTest),
          );
        }
      }),
      { numRuns: runs(500) },
    );
  });

  it("someChangedFile(event, test, leads) reads a hand-built event's changedFiles as listed", () => {
    const test = compileGlobList(["src/**"]);
    const leads = globListLeads(["src/**"]);
    expect(someChangedFile({ changedFiles: ["docs/a.md", "src/a.ts"] }, test, leads)).to.equal("match");
    expect(someChangedFile({ changedFiles: ["docs/a.md", 42] }, test, leads)).to.equal("miss");
    expect(someChangedFile({ changedFiles: [] }, test, leads)).to.equal("none");
    expect(someChangedFile({ changedFiles: "src/a.ts" }, test, leads)).to.equal("none");
    expect(someChangedFile(null, test, leads)).to.equal("none");
  });

  it("someChangedFile(event, test, leads) follows changedFiles once they are replaced", () => {
    const event = githubPush([{ added: ["docs/a.md"] }]);
    const test = compileGlobList(["src/**"]);
    const leads = globListLeads(["src/**"]);
    expect(someChangedFile(event, test, leads)).to.equal("miss");
    event.changedFiles = ["src/a.ts"];
    expect(someChangedFile(event, test, leads)).to.equal("match");
    expect(event.changedFiles).to.deep.equal(["src/a.ts"]);
  });
});

describe("Function: withLazyChangedFiles", () => {
  it("withLazyChangedFiles(event) lists the payload's changed files on read, as an enumerable property", () => {
    const event = withLazyChangedFiles({
      id: 1,
      payload: { commits: [{ added: ["a.ts"], modified: ["b.ts"], removed: ["a.ts"] }] },
    });
    expect(Object.keys(event)).to.include("changedFiles");
    expect(event.changedFiles).to.deep.equal(["a.ts", "b.ts", "a.ts"]);
    expect(event.changedFiles).to.equal(event.changedFiles);
    expect(JSON.parse(JSON.stringify(event)).changedFiles).to.deep.equal(["a.ts", "b.ts", "a.ts"]);
  });

  it("withLazyChangedFiles(event) still lists the files of a frozen event", () => {
    const event = Object.freeze(withLazyChangedFiles({ payload: { commits: [{ added: ["a.ts"] }] } }));
    expect(event.changedFiles).to.deep.equal(["a.ts"]);
  });

  it("withLazyChangedFiles(event) lists nothing for a payload without commits", () => {
    expect(withLazyChangedFiles({ payload: {} }).changedFiles).to.deep.equal([]);
    expect(withLazyChangedFiles({ payload: null }).changedFiles).to.deep.equal([]);
  });
});

describe("Function: changedFilesOf and someChangedFile (entries that are no file)", () => {
  it("changedFilesOf skips empty strings, non-strings and one-element arrays", () => {
    expect(
      changedFilesOf([{ added: ["", ["x"], 5, null, "a.ts"], modified: [{ length: 1 }], removed: ["b"] }]),
    ).to.deep.equal(["a.ts", "b"]);
  });

  it("someChangedFile tests only the strings of a hand-built event's changedFiles", () => {
    expect(someChangedFile({ changedFiles: [5, ["x"]] }, () => true, undefined)).to.equal("miss");
  });

  it("someChangedFile answers none for a lazy push whose commits are not a list, with or without leads", () => {
    for (const commits of [undefined, {}, "src/a.ts"]) {
      const event = withLazyChangedFiles({ payload: { commits } });
      expect(
        someChangedFile(event, () => true, undefined),
        String(commits),
      ).to.equal("none");
      expect(
        someChangedFile(withLazyChangedFiles({ payload: { commits } }), () => true, ["sr"]),
        String(commits),
      ).to.equal("none");
    }
  });

  it("someChangedFile answers none for an event with no changedFiles property", () => {
    expect(someChangedFile({ payload: { commits: [{ added: ["a.ts"] }] } }, () => true, ["a."])).to.equal(
      "none",
    );
  });

  it("someChangedFile counts a push's one- and two-character files (match or miss, not none) and no empty or non-string entry", () => {
    const oneChar = withLazyChangedFiles({ payload: { commits: [{ added: ["a"] }] } });
    expect(someChangedFile(oneChar, (file) => file === "a", ["a"])).to.equal("match");
    const oneCharMiss = withLazyChangedFiles({ payload: { commits: [{ added: ["a"] }] } });
    expect(someChangedFile(oneCharMiss, () => false, ["sr"])).to.equal("miss");
    const twoChars = withLazyChangedFiles({ payload: { commits: [{ added: ["sr"] }] } });
    expect(someChangedFile(twoChars, (file) => file === "sr", ["sr"])).to.equal("match");
    const noFiles = withLazyChangedFiles({ payload: { commits: [{ added: ["", 5, null, ["x"]] }] } });
    expect(someChangedFile(noFiles, () => true, ["sr"])).to.equal("none");
  });
});

describe("Function: withLazyChangedFiles (after the first read)", () => {
  it("withLazyChangedFiles(event) keeps the files read as a plain writable, configurable, enumerable property", () => {
    const event = withLazyChangedFiles({ payload: { commits: [{ added: ["a.ts"] }] } });
    const files = event.changedFiles;
    expect(Object.getOwnPropertyDescriptor(event, "changedFiles")).to.deep.equal({
      value: files,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    event.changedFiles = ["b.ts"];
    expect(event.changedFiles).to.deep.equal(["b.ts"]);
  });

  it("withLazyChangedFiles(event) refuses a new list on a frozen event, saying so", () => {
    const event = Object.freeze(withLazyChangedFiles({ payload: { commits: [] as unknown[] } }));
    expect(() => {
      (event as { changedFiles: string[] }).changedFiles = ["a.ts"];
    }).to.throw(TypeError, "changedFiles cannot be set on a frozen event");
  });
});

describe("Function: commitListTruncated", () => {
  const files = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`);
  const commits = (n: number) => Array.from({ length: n }, () => ({ added: ["a.ts"] }));
  const cases: Array<[string, unknown, boolean]> = [
    ["no event", undefined, false],
    ["an event without a payload", {}, false],
    [
      "a payload whose commits are not a list, whatever its total",
      { payload: { commits: {}, total_commits_count: 9 } },
      false,
    ],
    ["GitLab: 20 of 25 commits", { payload: { commits: commits(20), total_commits_count: 25 } }, true],
    ["GitLab: 20 of 20 commits", { payload: { commits: commits(20), total_commits_count: 20 } }, false],
    [
      "GitLab: 20 commits and a total of 19",
      { payload: { commits: commits(20), total_commits_count: 19 } },
      false,
    ],
    ["Gitea: 5 of 6 commits", { payload: { commits: commits(5), total_commits: 6 } }, true],
    [
      "Gogs (provider gitea, no total): 5 commits",
      { provider: "gitea", payload: { commits: commits(5) } },
      true,
    ],
    [
      "Gogs (provider gitea, no total): 4 commits",
      { provider: "gitea", payload: { commits: commits(4) } },
      false,
    ],
    [
      "Gitea: 5 of 5 commits (total_commits 5)",
      { provider: "gitea", payload: { commits: commits(5), total_commits: 5 } },
      false,
    ],
    ["GitHub: 5 commits and no total", { provider: "github", payload: { commits: commits(5) } }, false],
    ["GitHub Enterprise Server: 2 of size 3", { payload: { commits: commits(2), size: 3 } }, true],
    ["a total that is a string", { payload: { commits: commits(20), total_commits_count: "25" } }, false],
    ["GitHub: 2,048 commits", { payload: { commits: commits(2048) } }, true],
    ["GitHub: 2,047 commits", { payload: { commits: commits(2047) } }, false],
    [
      "a commit with 3,000 files over added, modified and removed, after one with none and a null",
      {
        payload: { commits: [null, {}, { added: files(1000), modified: files(1000), removed: files(1000) }] },
      },
      true,
    ],
    [
      "a commit with 2,999 files",
      { payload: { commits: [{ added: files(1000), modified: files(1000), removed: files(999) }] } },
      false,
    ],
    ["GitHub: a forced push listing one commit", { payload: { commits: commits(1), forced: true } }, true],
    [
      "a rewind: no commits, before and after two commits",
      { payload: { commits: [], before: "a".repeat(40), after: "b".repeat(40), total_commits_count: 0 } },
      true,
    ],
    [
      "a new ref listing no commits (before all zeros)",
      { payload: { commits: [], before: "0".repeat(40), after: "b".repeat(40) } },
      false,
    ],
    [
      "GitHub: a new ref listing no commits (created: true)",
      { payload: { commits: [], before: "a".repeat(40), after: "b".repeat(40), created: true } },
      false,
    ],
    [
      "a deleted ref (after all zeros)",
      { payload: { commits: [], before: "a".repeat(40), after: "0".repeat(40) } },
      false,
    ],
    [
      "no commits, the ref unmoved (before is after)",
      { payload: { commits: [], before: "a".repeat(40), after: "a".repeat(40) } },
      false,
    ],
    [
      "a commit whose lists are null (Go's empty list, as Gogs sends a commit that added or removed nothing)",
      { payload: { commits: [{ added: null, modified: ["a.ts"], removed: null }] } },
      false,
    ],
    [
      "a commit whose three lists are null (an empty commit)",
      { payload: { commits: [{ added: null, modified: null, removed: null }] } },
      false,
    ],
    [
      "a commit with none of added, modified, removed (Gogs 0.10, Gitea 1.4)",
      { payload: { commits: [{ added: ["a.ts"] }, { id: "b".repeat(40), message: "fix" }] } },
      true,
    ],
    [
      "a commit whose lists are neither lists nor null (unreadable: its files are unknown)",
      { payload: { commits: [{ added: "a.ts", modified: 5 }] } },
      true,
    ],
    ["a commit entry that is not an object (no commit to read)", { payload: { commits: [null, 5] } }, false],
  ];
  it("commitListTruncated says whether the payload leaves some of the push's changed files unlisted, one payload after another", () => {
    for (const [title, event, expected] of cases) {
      expect(commitListTruncated(event), title).to.equal(expected);
    }
  });
});
