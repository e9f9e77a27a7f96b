import { expect } from "chai";
import { normaliseBitbucket } from "../../../src/core/events/bitbucket";
import { normaliseBitbucketServer } from "../../../src/core/events/bitbucketServer";
import { normaliseGitea } from "../../../src/core/events/gitea";
import { normaliseGitHub } from "../../../src/core/events/github";
import { normaliseGitLab } from "../../../src/core/events/gitlab";
import type { WebhookEvent } from "../../../src/core/types";

// The normalisers set fastForward only on positive evidence of a plain fast-forward of an existing branch:
// s3-zip's chain skips only such a push (h432: a rollback, a tag made again, a branch created on a shared
// key must upload).
const A = "a".repeat(40);
const B = "b".repeat(40);
const ZERO = "0".repeat(40);
const repository = { full_name: "acme/api", name: "api", owner: { login: "acme" } };
const project = { path_with_namespace: "acme/api" };

/** The event's own fastForward property: true, or "absent" when the key is not there at all. */
const mark = (event: WebhookEvent): true | "absent" =>
  Object.hasOwn(event, "fastForward") ? (event.fastForward as true) : "absent";

describe("Function: normaliseGitHub (fastForward)", () => {
  const base = { repository, ref: "refs/heads/main", before: A, after: B, created: false, deleted: false };
  const cases: Array<[string, Record<string, unknown>, true | "absent"]> = [
    ["a push of an existing branch with forced: false", { forced: false }, true],
    ["a force-push (forced: true)", { forced: true }, "absent"],
    ["a push whose payload has no forced", {}, "absent"],
    [
      "a push that created the branch (created: true, before all zeros)",
      { forced: false, created: true, before: ZERO },
      "absent",
    ],
    [
      "a push with before all zeros and no created flag",
      { forced: false, created: undefined, before: ZERO },
      "absent",
    ],
    ["a push without a before", { forced: false, before: undefined }, "absent"],
    ["a push that deleted the branch", { forced: false, deleted: true, after: ZERO }, "absent"],
    [
      "a tag moved with forced: false",
      { forced: false, ref: "refs/tags/v1", head_commit: { id: B } },
      "absent",
    ],
    ["a push whose after is its before (nothing moved)", { forced: false, after: A }, "absent"],
    [
      "a push flagged created: true though its before is a commit",
      { forced: false, created: true },
      "absent",
    ],
    ["a push whose before is a 7-digit abbreviated commit id", { forced: false, before: "abcdef1" }, true],
    ["a push whose before is 6 hex digits (no commit id)", { forced: false, before: "abcdef" }, "absent"],
    [
      "a push whose before is 65 hex digits (no commit id)",
      { forced: false, before: "a".repeat(65) },
      "absent",
    ],
  ];
  for (const [what, extra, expected] of cases) {
    it(`normaliseGitHub marks ${what} ${expected === true ? "a fast-forward" : "as no known fast-forward"}`, () => {
      expect(mark(normaliseGitHub("push", { ...base, ...extra }, "d"))).to.equal(expected);
    });
  }
});

describe("Function: normaliseGitea (fastForward)", () => {
  const base = { repository, ref: "refs/heads/main", before: A, after: B };
  const commit = { id: B, added: [], modified: ["x"], removed: [] };
  const cases: Array<[string, Record<string, unknown>, true | "absent"]> = [
    [
      "a push of an existing branch that added commits (total_commits 2)",
      { total_commits: 2, commits: [commit] },
      true,
    ],
    [
      "a rewind (total_commits 0, no commits: a force-push back to an older commit)",
      { total_commits: 0, commits: [] },
      "absent",
    ],
    [
      "a push that created the branch (before all zeros)",
      { before: ZERO, total_commits: 1, commits: [commit] },
      "absent",
    ],
    ["a Gogs push (no total_commits) that listed commits", { commits: [commit] }, true],
    ["a Gogs push (no total_commits) that listed none", { commits: [] }, "absent"],
    [
      "a push whose total_commits 0 says none though commits lists one (the total decides)",
      { total_commits: 0, commits: [commit] },
      "absent",
    ],
    ["a push of a tag", { ref: "refs/tags/v1", total_commits: 1, commits: [commit] }, "absent"],
  ];
  for (const [what, extra, expected] of cases) {
    it(`normaliseGitea marks ${what} ${expected === true ? "a fast-forward" : "as no known fast-forward"}`, () => {
      expect(mark(normaliseGitea("push", { ...base, ...extra }, "d"))).to.equal(expected);
    });
  }
});

describe("Function: normaliseGitLab (fastForward)", () => {
  const base = { project, ref: "refs/heads/main", before: A, after: B, checkout_sha: B };
  const commit = { id: B, added: [], modified: ["x"], removed: [] };
  const cases: Array<[string, string, Record<string, unknown>, true | "absent"]> = [
    [
      "a push of an existing branch that added commits (total_commits_count 3)",
      "Push Hook",
      { total_commits_count: 3, commits: [commit] },
      true,
    ],
    [
      "a rewind (total_commits_count 0: a force-push back to an older commit)",
      "Push Hook",
      { total_commits_count: 0, commits: [] },
      "absent",
    ],
    [
      "a push that created the branch (before all zeros)",
      "Push Hook",
      { before: ZERO, total_commits_count: 1, commits: [commit] },
      "absent",
    ],
    [
      "a push that deleted the branch (after all zeros)",
      "Push Hook",
      { after: ZERO, checkout_sha: null, total_commits_count: 0 },
      "absent",
    ],
    [
      "a tag moved to another commit",
      "Tag Push Hook",
      { ref: "refs/tags/v1", total_commits_count: 1, commits: [commit] },
      "absent",
    ],
  ];
  for (const [what, header, extra, expected] of cases) {
    it(`normaliseGitLab marks ${what} ${expected === true ? "a fast-forward" : "as no known fast-forward"}`, () => {
      expect(mark(normaliseGitLab(header, { ...base, ...extra }, "d"))).to.equal(expected);
    });
  }
});

describe("Function: normaliseBitbucket (fastForward)", () => {
  const ref = (type: string, hash: string) => ({
    type,
    name: type === "tag" ? "v1" : "main",
    target: { hash },
  });
  const change = (extra: Record<string, unknown>) => ({
    old: ref("branch", A),
    new: ref("branch", B),
    created: false,
    closed: false,
    forced: false,
    ...extra,
  });
  const push = (changes: unknown[]) =>
    normaliseBitbucket("repo:push", { repository: { full_name: "acme/api" }, push: { changes } }, "d");
  const cases: Array<[string, Record<string, unknown>, true | "absent"]> = [
    ["a change of an existing branch with forced: false", {}, true],
    ["a forced change", { forced: true }, "absent"],
    ["a change without forced", { forced: undefined }, "absent"],
    ["a change that created the branch (old: null)", { old: null, created: true }, "absent"],
    ["a change that closed the branch (new: null)", { new: null, closed: true }, "absent"],
    ["a change of a tag", { old: ref("tag", A), new: ref("tag", B) }, "absent"],
    [
      "a change of a named_branch (Mercurial's branch type)",
      { old: ref("named_branch", A), new: ref("named_branch", B) },
      true,
    ],
    ["a change flagged created: true though it has an old target", { created: true }, "absent"],
  ];
  for (const [what, extra, expected] of cases) {
    it(`normaliseBitbucket marks ${what} ${expected === true ? "a fast-forward" : "as no known fast-forward"}`, () => {
      expect(mark(push([change(extra)]))).to.equal(expected);
    });
  }

  it("normaliseBitbucket marks each change of a push on its own: a forced change after a fast-forward one is no fast-forward, and the other way round", () => {
    const first = push([change({}), change({ forced: true })]);
    expect([mark(first), mark(first.otherChanges?.[0] as WebhookEvent)]).to.deep.equal([true, "absent"]);
    const second = push([change({ forced: true }), change({})]);
    expect([mark(second), mark(second.otherChanges?.[0] as WebhookEvent)]).to.deep.equal(["absent", true]);
  });
});

describe("Function: normaliseBitbucketServer (fastForward)", () => {
  it("normaliseBitbucketServer never marks a push a fast-forward: its UPDATE change cannot tell a force-push", () => {
    const event = normaliseBitbucketServer(
      "repo:refs_changed",
      {
        repository: { slug: "api", project: { key: "ACME" } },
        changes: [{ refId: "refs/heads/main", fromHash: A, toHash: B, type: "UPDATE" }],
      },
      "d",
    );
    expect([event.before, event.sha, mark(event)]).to.deep.equal([A, B, "absent"]);
  });
});
