// Each Git host client against answers the test writes: what the pull request answers mean (open or not,
// merged, whose head), which deletions count as done, how open pull requests are counted when a host does not
// say how many, and the credential each host is sent.
import { expect } from "chai";
import { gitHostClient } from "../../src/actions/gitHost";
import { clip, linkPage, sameCommit, seg, statusKey } from "../../src/actions/gitHost/base";
import {
  BitbucketCloudClient,
  BitbucketServerClient,
  branchGlobMatches,
  branchTypesOf,
} from "../../src/actions/gitHost/bitbucket";
import { GiteaClient, GitHubClient } from "../../src/actions/gitHost/github";
import { GitLabClient } from "../../src/actions/gitHost/gitlab";
import type { CommitState, GitHostClient } from "../../src/actions/gitHost/types";
import type { Provider, RepoRef } from "../../src/core/types";
import { json, type Reply, type ScriptedServer, type Seen, scriptedServer } from "../support/scriptedServer";
import { HOST_TOKEN, rejectsWithActionError, testClients } from "./helpers";

const REPO: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const AUTH = { authorization: `Bearer ${HOST_TOKEN}` };

describe("Function: sameCommit, linkPage, statusKey, clip and seg (the Git host clients' small rules)", () => {
  // Atlassian's description: "A '*' in pattern will expand to match zero or more characters, and every other
  // character matches itself. For example, 'foo*' will match 'foo' and 'foobar', but not 'barfoo'."
  const globs: Array<[string, string, boolean]> = [
    ["foo*", "foo", true],
    ["foo*", "foobar", true],
    ["foo*", "barfoo", false],
    ["*", "any/thing", true],
    ["feature/*", "feature/a/b", true],
    ["release/1.x", "release/1.x", true],
    ["release/1.x", "release/1-x", false],
    ["[ab]", "a", false],
    ["a?", "ab", false],
  ];
  for (const [pattern, branch, matches] of globs) {
    it(`branchGlobMatches(${pattern}, ${branch}) is ${matches}: a Bitbucket Cloud branch restriction's glob`, () => {
      expect(branchGlobMatches(pattern, branch)).to.equal(matches);
    });
  }

  // Atlassian's description of the effective branching model: "A branch with this prefix will be classified
  // as per `kind`"; development and production each name one branch.
  const model = {
    type: "effective_repo_branching_model",
    branch_types: [
      { kind: "feature", prefix: "feat/" },
      { kind: "release", prefix: "release/" },
      { kind: "hotfix", prefix: "" },
      null,
    ],
    development: { name: "develop", use_mainbranch: false },
    production: { name: "main", use_mainbranch: true, branch: { type: "branch", name: "main" } },
  };
  const types: Array<[string, string[]]> = [
    ["feat/login", ["feature"]],
    ["feature/login", []],
    ["release/1.x", ["release"]],
    ["develop", ["development"]],
    ["main", ["production"]],
    ["develop/x", []],
  ];
  for (const [branch, expected] of types) {
    it(`branchTypesOf(${branch}) is [${expected.join(", ")}]: the branch types of a Bitbucket Cloud branching model, by prefix or by the branch named (an empty prefix matches nothing)`, () => {
      expect(branchTypesOf(model, branch)).to.deep.equal(expected);
    });
  }

  const commits: Array<[string, string, boolean]> = [
    [SHA, SHA, true],
    [SHA.slice(0, 7), SHA, true],
    [SHA, SHA.slice(0, 7), true],
    [SHA.slice(0, 12).toUpperCase(), SHA, true],
    [SHA.slice(0, 6), SHA, false],
    [SHA, SHA.slice(0, 6), false],
    ["0123456", "0123457aaaa", false],
  ];
  for (const [a, b, same] of commits) {
    it(`sameCommit(${a}, ${b}) is ${same}`, () => {
      expect(sameCommit(a, b)).to.equal(same);
    });
  }

  const links: Array<[string | undefined, "next" | "last", number | undefined]> = [
    ['<https://h/x?page=2>; rel="next", <https://h/x?page=12>; rel="last"', "last", 12],
    ['<https://h/x?page=2>; rel="next", <https://h/x?page=12>; rel="last"', "next", 2],
    ['<https://h/x?per_page=1&page=3> ;rel="next"', "next", 3],
    ['<https://h/x?page=3>; rel="prev next"', "next", 3],
    ['<https://h/x?page=0>; rel="last"', "last", undefined],
    ['<https://h/x?state=open>; rel="last"', "last", undefined],
    ['garbage, <https://h/x?page=4>; rel="last"', "last", 4],
    [undefined, "next", undefined],
  ];
  for (const [link, rel, page] of links) {
    it(`linkPage(${JSON.stringify(link)}, ${rel}) is ${page}`, () => {
      expect(linkPage(link, rel)).to.equal(page);
    });
  }

  it("statusKey keeps a key of exactly the limit as it is", () => {
    const key = "k".repeat(40);
    expect(statusKey(key, 40)).to.equal(key);
  });

  it("clip keeps a description of exactly 140 characters as it is", () => {
    const text = "d".repeat(140);
    expect(clip(text)).to.equal(text);
  });

  it("clip cuts a long description after 139 characters when no surrogate pair ends the cut, wherever one is", () => {
    const text = `😀${"a".repeat(200)}`;
    expect(clip(text)).to.equal(`${text.slice(0, 139)}…`);
  });

  for (const value of ["", ".", "..", "a\u0000b"]) {
    it(`seg refuses ${JSON.stringify(value)} as a path segment, final`, () => {
      expect(() => seg(value, "branch")).to.throw(
        `refusing the branch ${JSON.stringify(value)} in an API path`,
      );
    });
  }
});

describe("Class: the Git host clients against answers the test writes", () => {
  let host: ScriptedServer | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });
  const serve = async (answer: (req: Seen, url: string) => Reply) => {
    host = await scriptedServer(answer);
    return host;
  };

  describe("what a pull request answer means", () => {
    it("GitHub: a closed pull request merged (merged_at), its head's and base's repositories and the default branch", async () => {
      const { url } = await serve(() =>
        json({
          number: 7,
          state: "closed",
          merged_at: "2026-01-01T00:00:00Z",
          head: { ref: "feature/x", sha: SHA, repo: { full_name: "alice/api" } },
          base: { ref: "main", repo: { full_name: "acme/api", default_branch: "trunk" } },
        }),
      );
      expect(await new GitHubClient(url, AUTH).getPullRequest(REPO, 7)).to.deep.equal({
        number: 7,
        state: "closed",
        merged: true,
        headRef: "feature/x",
        headSha: SHA,
        headRepoFullName: "alice/api",
        baseRepoFullName: "acme/api",
        defaultBranch: "trunk",
      });
    });

    it("GitHub: a pull request whose head and base repositories are gone (null) names neither", async () => {
      const { url } = await serve(() =>
        json({
          number: 7,
          state: "open",
          head: { ref: "x", sha: SHA, repo: null },
          base: { ref: "main", repo: null },
        }),
      );
      const pull = await new GitHubClient(url, AUTH).getPullRequest(REPO, 7);
      expect(pull).to.include({ state: "open", merged: false });
      expect(pull.headRepoFullName).to.equal(undefined);
      expect(pull.baseRepoFullName).to.equal(undefined);
      expect(pull.defaultBranch).to.equal(undefined);
    });

    const cloud: Array<[string, string, { state: string; merged: boolean }]> = [
      ["OPEN", "open", { state: "open", merged: false }],
      ["MERGED", "merged", { state: "closed", merged: true }],
      ["DECLINED", "declined", { state: "closed", merged: false }],
    ];
    for (const [state, what, expected] of cloud) {
      it(`Bitbucket Cloud: a pull request ${state} is ${what}, its head's and base's repositories named`, async () => {
        const { url } = await serve(() =>
          json({
            id: 7,
            state,
            source: {
              branch: { name: "feature/x" },
              commit: { hash: SHA.slice(0, 12) },
              repository: { full_name: "alice/api" },
            },
            destination: { repository: { full_name: "acme/api" } },
          }),
        );
        expect(await new BitbucketCloudClient(url, AUTH).getPullRequest(REPO, 7)).to.deep.equal({
          number: 7,
          ...expected,
          headRef: "feature/x",
          headSha: SHA.slice(0, 12),
          headRepoFullName: "alice/api",
          baseRepoFullName: "acme/api",
        });
      });
    }

    it("Bitbucket Cloud: a pull request from a deleted fork (repository null) names no head repository", async () => {
      const { url } = await serve(() =>
        json({
          id: 7,
          state: "MERGED",
          source: { branch: { name: "x" }, commit: { hash: SHA }, repository: null },
          destination: { repository: null },
        }),
      );
      const pull = await new BitbucketCloudClient(url, AUTH).getPullRequest(REPO, 7);
      expect(pull.headRepoFullName).to.equal(undefined);
      expect(pull.baseRepoFullName).to.equal(undefined);
    });

    const dcRef = (id: string | undefined, displayId: string, repository: unknown) => ({
      ...(id === undefined ? {} : { id }),
      displayId,
      latestCommit: SHA,
      repository,
    });
    const dc: Array<[string, Record<string, unknown>, Partial<Record<string, unknown>>]> = [
      [
        "an open pull request from a personal fork, its branch read from refs/heads/",
        {
          state: "OPEN",
          fromRef: dcRef("refs/heads/feature/x", "x-display", { slug: "api", project: { key: "~ALICE" } }),
          toRef: dcRef("refs/heads/main", "main", { slug: "api", project: { key: "ACME" } }),
        },
        {
          state: "open",
          merged: false,
          headRef: "feature/x",
          headRepoFullName: "~ALICE/api",
          baseRepoFullName: "ACME/api",
        },
      ],
      [
        "a merged pull request whose ref has no refs/heads/ id: its displayId",
        {
          state: "MERGED",
          fromRef: dcRef("refs/tags/v1", "feature/y", { slug: "api", project: { key: "ACME" } }),
          toRef: dcRef(undefined, "main", { slug: "api", project: { key: "ACME" } }),
        },
        {
          state: "closed",
          merged: true,
          headRef: "feature/y",
          headRepoFullName: "ACME/api",
          baseRepoFullName: "ACME/api",
        },
      ],
      [
        "a declined pull request whose refs name no whole repository",
        {
          state: "DECLINED",
          fromRef: dcRef(undefined, "feature/z", { slug: "api" }),
          toRef: dcRef("refs/heads/main", "main", { project: { key: "ACME" } }),
        },
        {
          state: "closed",
          merged: false,
          headRef: "feature/z",
          headRepoFullName: undefined,
          baseRepoFullName: undefined,
        },
      ],
      [
        "a pull request whose refs name no repository at all",
        { state: "DECLINED", fromRef: dcRef(undefined, "feature/z", null) },
        { headRepoFullName: undefined, baseRepoFullName: undefined },
      ],
    ];
    for (const [what, answer, expected] of dc) {
      it(`Bitbucket Data Center: ${what}`, async () => {
        const { url } = await serve(() => json({ id: 7, ...answer }));
        const pull = await new BitbucketServerClient(`${url}/rest/api/latest`, AUTH).getPullRequest(REPO, 7);
        for (const [key, value] of Object.entries(expected)) expect(pull, key).to.have.property(key, value);
        expect(pull.headSha).to.equal(SHA);
      });
    }

    const gitlab: Array<[string, Record<string, unknown>, Partial<Record<string, unknown>>]> = [
      [
        "a merged merge request of the project itself",
        { state: "merged", source_project_id: 4, target_project_id: 4 },
        { state: "closed", merged: true, headRepoFullName: "acme/api" },
      ],
      [
        "an open merge request",
        { state: "opened", source_project_id: 4, target_project_id: 4 },
        { state: "open", merged: false },
      ],
      [
        "a merge request from a fork: its head is another project",
        { state: "closed", source_project_id: 9, target_project_id: 4 },
        { state: "closed", merged: false, headRepoFullName: "project-id:9" },
      ],
    ];
    for (const [what, answer, expected] of gitlab) {
      it(`GitLab: ${what}`, async () => {
        const { url } = await serve(() => json({ iid: 7, source_branch: "feature/x", sha: SHA, ...answer }));
        const pull = await new GitLabClient(url, {}).getPullRequest(REPO, 7);
        for (const [key, value] of Object.entries(expected)) expect(pull, key).to.have.property(key, value);
      });
    }
  });

  describe("deleteBranch: what counts as deleted, as gone already, or as a refusal", () => {
    const clients: Array<[Provider, (url: string) => GitHostClient]> = [
      ["github", (url) => new GitHubClient(url, AUTH)],
      ["gitea", (url) => new GiteaClient(url, AUTH)],
      ["gitlab", (url) => new GitLabClient(url, {})],
      ["bitbucket", (url) => new BitbucketCloudClient(url, AUTH)],
    ];
    for (const [provider, client] of clients) {
      // GitHub answers 422 to a branch that is not there; its 404 is a refusal (below).
      if (provider !== "github") {
        it(`${provider}: a DELETE answered 404 is a branch already gone`, async () => {
          const { url } = await serve(() => json({ message: "Not Found" }, 404));
          expect(await client(url).deleteBranch(REPO, "feature/x", SHA)).to.equal("already-gone");
        });
      }

      it(`${provider}: a DELETE answered 204 is a branch deleted`, async () => {
        const { url, seen } = await serve(() => ({ status: 204 }));
        expect(await client(url).deleteBranch(REPO, "feature/x", SHA)).to.equal("deleted");
        expect(seen.map((req) => req.method)).to.deep.equal(["DELETE"]);
      });
    }

    it("GitHub: a DELETE answered 404 Not Found is a final refusal of the token, not a branch already gone", async () => {
      const { url } = await serve(() => json({ message: "Not Found" }, 404));
      const err = await rejectsWithActionError(
        new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "GitHub API DELETE /repos/acme/api/git/refs/heads/feature/x answered 404: Not Found; GitHub answers 404 " +
          "to a token that may not see or write the repository: check its access (classic: the repo scope; " +
          "fine-grained: Contents read and write)",
      );
    });

    it('GitHub: a DELETE answered 404 "Reference does not exist" (deleted since it was read) is a branch already gone', async () => {
      const body = { message: "Reference does not exist", status: "404" };
      const { url } = await serve(() => json(body, 404));
      expect(await new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA)).to.equal("already-gone");
    });

    it('GitHub: 422 "Reference does not exist" is a branch already gone', async () => {
      const { url } = await serve(() => json({ message: "Reference does not exist" }, 422));
      expect(await new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA)).to.equal("already-gone");
    });

    it("GitHub: a 422 saying the endpoint has been spammed is retryable after a minute at least, never done", async () => {
      const { url } = await serve(() =>
        json({ message: "Validation Failed: the endpoint has been spammed" }, 422),
      );
      const err = await rejectsWithActionError(
        new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA),
      );
      expect(err.retryable).to.equal(true);
      expect(err.retryAfterMs).to.equal(60_000);
      expect(err.message).to.contain("(422): Validation Failed: the endpoint has been spammed");
    });

    it('GitHub: a 422 "Validation Failed" whose errors say abuse is retryable after a minute at least, and the message says so', async () => {
      const { url } = await serve(() =>
        json({ message: "Validation Failed", errors: [{ resource: "Reference", code: "abuse" }] }, 422),
      );
      const err = await rejectsWithActionError(
        new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA),
      );
      expect(err.retryable).to.equal(true);
      expect(err.retryAfterMs).to.equal(60_000);
      expect(err.message).to.contain("(422): Validation Failed: abuse");
    });

    it("GitHub: a 422 \"Validation Failed\" is a refusal (a protected branch's), not a failure, naming its errors' messages", async () => {
      const { url } = await serve(() =>
        json(
          {
            message: "Validation Failed",
            errors: [{ code: "custom", message: "Cannot delete this protected branch" }],
          },
          422,
        ),
      );
      expect(await new GitHubClient(url, AUTH).deleteBranch(REPO, "release", SHA)).to.deep.equal({
        refused: "GitHub API answered 422: Validation Failed: Cannot delete this protected branch",
      });
    });

    it("GitHub: a spammed 422 with a Retry-After longer than a minute waits that long", async () => {
      const { url } = await serve(() =>
        json({ message: "The endpoint has been spammed." }, 422, { "retry-after": "300" }),
      );
      const err = await rejectsWithActionError(
        new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA),
      );
      expect(err.retryable).to.equal(true);
      expect(err.retryAfterMs).to.equal(300_000);
    });

    it("GitHub: a 422 refusing to delete the default branch is a refusal with GitHub's message", async () => {
      const { url } = await serve(() => json({ message: "Cannot delete the default branch" }, 422));
      expect(await new GitHubClient(url, AUTH).deleteBranch(REPO, "main", SHA)).to.deep.equal({
        refused: "GitHub API answered 422: Cannot delete the default branch",
      });
    });

    /** branch-utils answers the DELETE with 400; the lookup then finds the branch at `at` (undefined: gone). */
    const dataCenter = (at: string | undefined) =>
      serve((req) => {
        if (req.method === "DELETE")
          return json({ errors: [{ message: "the branch was not deleted" }] }, 400);
        const values = at === undefined ? [] : [{ id: "refs/heads/feature/x", latestCommit: at }];
        return json({ values, isLastPage: true });
      });

    it("Bitbucket Data Center: a 400 with the branch gone is a branch already gone", async () => {
      const { url } = await dataCenter(undefined);
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      expect(await client.deleteBranch(REPO, "feature/x", SHA)).to.equal("already-gone");
    });

    it("Bitbucket Data Center: a 400 with the branch at another commit is a branch that moved on", async () => {
      const { url } = await dataCenter("fedcba9876543210fedcba9876543210fedcba98");
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      expect(await client.deleteBranch(REPO, "feature/x", SHA)).to.equal("moved-on");
    });

    it("Bitbucket Data Center: a 400 with the branch still at the commit is a final refusal with the server's message, never done", async () => {
      const { url } = await dataCenter(SHA);
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      const err = await rejectsWithActionError(client.deleteBranch(REPO, "feature/x", SHA));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(/answered 400: the branch was not deleted$/);
    });
  });

  describe("counting the open pull requests of a branch when the host does not say how many", () => {
    it("Bitbucket Cloud: without a size, one seen and a next page is one, and maybe more", async () => {
      const { url } = await serve(() => json({ values: [{ id: 3 }], next: "https://h/next" }));
      expect(await new BitbucketCloudClient(url, AUTH).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 1,
        more: true,
      });
    });

    it("Bitbucket Cloud: without a size, values or a next page, none", async () => {
      const { url } = await serve(() => json({}));
      expect(await new BitbucketCloudClient(url, AUTH).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 0,
        more: false,
      });
    });

    it("GitLab: without x-total, x-next-page says there are more", async () => {
      const { url } = await serve(() => json([{ iid: 3 }], 200, { "x-next-page": "2" }));
      expect(await new GitLabClient(url, {}).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 1,
        more: true,
      });
    });

    it("GitLab: without x-total, an empty x-next-page says there are no more", async () => {
      const { url } = await serve(() => json([], 200, { "x-next-page": "" }));
      expect(await new GitLabClient(url, {}).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 0,
        more: false,
      });
    });

    const iids = (...numbers: number[]) => numbers.map((iid) => ({ iid }));
    it("GitLab: a total past the first page is exact, less the merge request itself, when that page shows it", async () => {
      const { url } = await serve(() =>
        json(iids(7, 8, 9, 10, 11, 12, 13, 14, 15, 16), 200, { "x-total": "12", "x-next-page": "2" }),
      );
      expect(
        await new GitLabClient(url, {}).openPullRequestsFrom(REPO, "feature/x", "acme/api", 7),
      ).to.deep.equal({ count: 11, more: false, excludedSeen: true });
    });

    it("GitLab: a total past the first page, which does not show the merge request itself, is a floor (it may be on a later page)", async () => {
      const { url } = await serve(() =>
        json(iids(8, 9, 10, 11, 12, 13, 14, 15, 16, 17), 200, { "x-total": "12", "x-next-page": "2" }),
      );
      expect(
        await new GitLabClient(url, {}).openPullRequestsFrom(REPO, "feature/x", "acme/api", 7),
      ).to.deep.equal({
        count: 11,
        more: true,
      });
    });

    it("GitHub leaves the pull request itself out of a page that shows it, and counts an entry without a number", async () => {
      const { url } = await serve(() => json([{ number: 7 }, { number: 8 }, {}]));
      expect(
        await new GitHubClient(url, AUTH).openPullRequestsFrom(REPO, "feature/x", "acme/api", 7),
      ).to.deep.equal({
        count: 2,
        more: false,
        excludedSeen: true,
      });
    });

    it("Bitbucket Data Center leaves the pull request itself out of a page that shows it", async () => {
      const { url } = await serve(() => json({ values: [{ id: 7 }], isLastPage: true }));
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      expect(await client.openPullRequestsFrom(REPO, "feature/x", "acme/api", 7)).to.deep.equal({
        count: 0,
        more: false,
        excludedSeen: true,
      });
    });

    it("Bitbucket Data Center: an answer without values counts none", async () => {
      const { url } = await serve(() => json({ isLastPage: true }));
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      expect(await client.openPullRequestsInto(REPO, "main")).to.deep.equal({ count: 0, more: false });
    });

    const entry = (head: Record<string, unknown> | undefined, base: Record<string, unknown> | undefined) => ({
      ...(head ? { head } : {}),
      ...(base ? { base } : {}),
    });
    const giteaFrom: Array<[string, unknown[], number]> = [
      [
        "a fork's pull request from a branch of the same name (another repo_id) is not counted",
        [entry({ ref: "feature/x", repo_id: 2 }, { ref: "main", repo_id: 1 })],
        0,
      ],
      [
        "a pull request from this repository's branch is counted",
        [entry({ ref: "feature/x", repo_id: 1 }, { ref: "main", repo_id: 1 })],
        1,
      ],
      [
        "a pull request whose head names no repo_id is counted, to keep rather than close",
        [entry({ ref: "feature/x" }, { ref: "main", repo_id: 1 })],
        1,
      ],
      [
        "a pull request whose base names no repo_id is counted",
        [entry({ ref: "feature/x", repo_id: 2 }, { ref: "main" })],
        1,
      ],
      ["a pull request without a base is counted", [entry({ ref: "feature/x", repo_id: 2 }, undefined)], 1],
      ["entries without a head are not counted", [entry(undefined, { ref: "main", repo_id: 1 })], 0],
    ];
    for (const [what, pulls, count] of giteaFrom) {
      it(`Gitea, open pull requests from a branch: ${what}`, async () => {
        const { url } = await serve(() => json(pulls));
        expect(
          await (new GiteaClient(url, AUTH) as GitHostClient).openPullRequestsFrom(
            REPO,
            "feature/x",
            "acme/api",
          ),
        ).to.deep.equal({
          count,
          more: false,
        });
      });
    }

    it("Gitea, open pull requests into a branch: entries without a base are not counted", async () => {
      const { url } = await serve(() =>
        json([entry({ ref: "x" }, undefined), entry({ ref: "y" }, { ref: "main" })]),
      );
      expect(await new GiteaClient(url, AUTH).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 1,
        more: false,
      });
    });

    it("Gitea reads a page of 10 pull requests with long descriptions, over 1 MiB in all", async () => {
      const long = (ref: string) => ({
        ...entry({ ref, repo_id: 1 }, { ref: "main", repo_id: 1 }),
        body: "a long description ".repeat(8_000),
      });
      const page = [...Array.from({ length: 9 }, (_, i) => long(`other-${i}`)), long("feature/x")];
      expect(JSON.stringify(page).length).to.be.greaterThan(1024 * 1024);
      const { url } = await serve(() => json(page));
      expect(await new GiteaClient(url, AUTH).openPullRequestsFrom(REPO, "feature/x")).to.deep.equal({
        count: 1,
        more: false,
      });
    });

    it("GitLab reads a merge request whose description is a million characters (GitLab's limit), over 1 MiB in JSON", async () => {
      const description = "é<".repeat(524_288);
      const { url } = await serve(() =>
        json({
          iid: 7,
          state: "merged",
          source_branch: "feature/x",
          sha: SHA,
          source_project_id: 1,
          target_project_id: 1,
          description,
        }),
      );
      const pull = await new GitLabClient(url, {}).getPullRequest(REPO, 7);
      expect([pull.number, pull.merged, pull.headRef]).to.deep.equal([7, true, "feature/x"]);
    });

    it("an answer over 16 MiB is refused, final, without reading on", async () => {
      const { url } = await serve(() => json([{ body: "x".repeat(16 * 1024 * 1024) }]));
      const err = await rejectsWithActionError(new GiteaClient(url, AUTH).openPullRequestsInto(REPO, "main"));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal("Gitea API answered a body larger than 16777216 bytes");
    });

    it("Gitea stops at the first page that counts one, and says more may follow", async () => {
      const { url, seen } = await serve((req, base) =>
        json([entry({ ref: "x" }, { ref: "main" })], 200, {
          link: `<${base}${req.url.replace(/page=\d+/, "page=2")}>; rel="next"`,
        }),
      );
      expect(await new GiteaClient(url, AUTH).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 1,
        more: true,
      });
      expect(seen).to.have.length(1);
    });

    it("Gitea reads 40 pages of 50 at most, then says more may target the branch (it is kept)", async () => {
      const { url, seen } = await serve((_req, base) =>
        json([entry({ ref: "x" }, { ref: "other" })], 200, { link: `<${base}/next?page=2>; rel="next"` }),
      );
      expect(await new GiteaClient(url, AUTH).openPullRequestsInto(REPO, "main")).to.deep.equal({
        count: 0,
        more: true,
      });
      expect(seen.map((req) => new URL(req.url, url).searchParams.get("page"))).to.deep.equal(
        Array.from({ length: 40 }, (_, i) => String(i + 1)),
      );
      expect(seen.every((req) => new URL(req.url, url).searchParams.get("limit") === "50")).to.equal(true);
    });
  });

  describe("Bitbucket Data Center's branch lookup, which has no lookup by exact name", () => {
    const dcClient = (url: string) => new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);

    it("a page that says more follow but not where ends the lookup at once, final", async () => {
      const { url, seen } = await serve(() => json({ values: [], isLastPage: false }));
      const err = await rejectsWithActionError(dcClient(url).branchHead(REPO, "fix"));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("(more than 5000, or a page without its next)");
      expect(seen).to.have.length(1);
    });

    it("reads 50 pages of 100 at most, then fails final: whether the branch exists cannot be told", async () => {
      const { url, seen } = await serve((req) => {
        const start = Number(new URL(req.url, "http://x").searchParams.get("start"));
        return json({
          values: [{ id: "refs/heads/fix/other" }],
          isLastPage: false,
          nextPageStart: start + 100,
        });
      });
      const err = await rejectsWithActionError(dcClient(url).branchHead(REPO, "fix"));
      expect(err.retryable).to.equal(false);
      expect(seen.map((req) => new URL(req.url, "http://x").searchParams.get("start"))).to.deep.equal(
        Array.from({ length: 50 }, (_, i) => String(i * 100)),
      );
    });

    it("an answer without values on its last page means the branch is gone", async () => {
      const { url } = await serve(() => json({ isLastPage: true }));
      expect(await dcClient(url).branchHead(REPO, "fix")).to.equal(undefined);
    });
  });

  describe("the default branch", () => {
    it("Bitbucket Data Center 7.5 and later: default-branch names it", async () => {
      const { url, seen } = await serve(() => json({ id: "refs/heads/trunk", displayId: "trunk" }));
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      expect(await client.getDefaultBranch(REPO)).to.equal("trunk");
      expect(seen).to.have.length(1);
    });

    it("Bitbucket Data Center: an answer that names no branch is retryable", async () => {
      const { url } = await serve(() => json({}));
      const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
      const err = await rejectsWithActionError(client.getDefaultBranch(REPO));
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal("Bitbucket Data Center API did not name the default branch");
    });

    it("Bitbucket Cloud: the repository's mainbranch", async () => {
      const { url, seen } = await serve(() => json({ mainbranch: { name: "trunk" } }));
      expect(await new BitbucketCloudClient(url, AUTH).getDefaultBranch(REPO)).to.equal("trunk");
      expect(seen.map((req) => `${req.method} ${req.url}`)).to.deep.equal(["GET /repositories/acme/api"]);
    });

    it("Bitbucket Cloud: an answer without mainbranch is retryable", async () => {
      const { url } = await serve(() => json({}));
      const err = await rejectsWithActionError(new BitbucketCloudClient(url, AUTH).getDefaultBranch(REPO));
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal("Bitbucket API did not name the main branch");
    });

    it("GitLab: the project's default_branch", async () => {
      const { url, seen } = await serve(() => json({ default_branch: "trunk" }));
      expect(await new GitLabClient(url, {}).getDefaultBranch(REPO)).to.equal("trunk");
      expect(seen.map((req) => `${req.method} ${req.url}`)).to.deep.equal(["GET /projects/acme%2Fapi"]);
    });
  });

  describe("the calls every client makes", () => {
    it("a branch answer without its commit is retryable", async () => {
      const { url } = await serve(() => json({ ref: "refs/heads/x", object: {} }));
      const err = await rejectsWithActionError(new GitHubClient(url, AUTH).branchHead(REPO, "x"));
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal('GitHub API did not say which commit branch "x" points at');
    });

    const noCommit: Array<[string, (url: string) => GitHostClient]> = [
      ["GitHub (no object)", (url) => new GitHubClient(url, AUTH)],
      ["Gitea (no commit)", (url) => new GiteaClient(url, AUTH)],
      ["GitLab (no commit)", (url) => new GitLabClient(url, {})],
      ["Bitbucket Cloud (no target)", (url) => new BitbucketCloudClient(url, AUTH)],
    ];
    for (const [what, client] of noCommit) {
      it(`a branch answer of ${what} is retryable, not a crash`, async () => {
        const { url } = await serve(() => json({ name: "x" }));
        const err = await rejectsWithActionError(client(url).branchHead(REPO, "x"));
        expect(err.retryable).to.equal(true);
      });
    }

    it("an answer of 300 is a final failure, not a success", async () => {
      const { url } = await serve(() => json({ default_branch: "main" }, 300));
      const err = await rejectsWithActionError(new GitHubClient(url, AUTH).getDefaultBranch(REPO));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("answered 300");
    });

    it("an API url's trailing slashes are dropped from every path", async () => {
      const { url, seen } = await serve(() => json({ default_branch: "main" }));
      await new GitHubClient(`${url}/api/v3//`, AUTH).getDefaultBranch(REPO);
      expect(seen[0]?.url).to.equal("/api/v3/repos/acme/api");
    });

    it("a GET sends no body and no content-type; a POST sends its JSON", async () => {
      const { url, seen } = await serve(() => json({ default_branch: "main" }, 201));
      const client = new GitHubClient(url, AUTH);
      await client.getDefaultBranch(REPO);
      await client.setCommitStatus(REPO, SHA, { state: "success", context: "hookgate/x", description: "ok" });
      expect(seen[0]?.headers).to.not.have.property("content-type");
      expect(seen[0]?.body).to.equal("");
      expect(seen[1]?.headers["content-type"]).to.equal("application/json");
      expect(JSON.parse(seen[1]?.body ?? "")).to.deep.equal({
        state: "success",
        context: "hookgate/x",
        description: "ok",
      });
    });

    it("GitHub asks for its JSON media type and API version; Gitea for plain JSON", async () => {
      const { url, seen } = await serve(() => json({ default_branch: "main" }));
      await new GitHubClient(url, AUTH).getDefaultBranch(REPO);
      await new GiteaClient(url, AUTH).getDefaultBranch(REPO);
      expect(seen[0]?.headers.accept).to.equal("application/vnd.github+json");
      expect(seen[0]?.headers["x-github-api-version"]).to.equal("2022-11-28");
      expect(seen[1]?.headers.accept).to.equal("application/json");
      expect(seen[1]?.headers).to.not.have.property("x-github-api-version");
    });
  });

  describe("the credential each host is sent (gitHostClient)", () => {
    const sent: Array<[Provider, string | undefined, Record<string, string | undefined>]> = [
      ["github", "hookgate/host", { authorization: `Bearer ${HOST_TOKEN}`, "private-token": undefined }],
      ["gitea", "hookgate/host", { authorization: `token ${HOST_TOKEN}`, "private-token": undefined }],
      ["gitlab", "hookgate/host", { authorization: undefined, "private-token": HOST_TOKEN }],
      [
        "bitbucket-server",
        "hookgate/host",
        { authorization: `Bearer ${HOST_TOKEN}`, "private-token": undefined },
      ],
      ["github", undefined, { authorization: undefined, "private-token": undefined }],
    ];
    for (const [provider, token, headers] of sent) {
      it(`${provider} ${token ? "with a token secret" : "without a token"} sends ${JSON.stringify(headers)}`, async () => {
        const { url, seen } = await serve(() =>
          json({ default_branch: "main", mainbranch: { name: "main" } }),
        );
        const clients = testClients();
        clients.secrets = { versions: async (name) => (name === "hookgate/host" ? [HOST_TOKEN] : []) };
        const apiUrl = provider === "bitbucket-server" ? `${url}/rest/api/latest` : url;
        const client = await gitHostClient({ provider, apiUrl, token }, clients);
        await client.getDefaultBranch(REPO).catch(() => undefined);
        expect(seen.length).to.be.greaterThan(0);
        for (const [name, value] of Object.entries(headers))
          expect(seen[0]?.headers[name], name).to.equal(value);
      });
    }
  });

  describe("GitLab's commit status", () => {
    const status = (targetUrl: string) => ({
      state: "success" as const,
      context: "hookgate/x",
      description: "ok",
      targetUrl,
    });

    for (const [length, kept] of [
      [255, true],
      [256, false],
    ] as const) {
      it(`GitLab ${kept ? "keeps" : "leaves out"} a target_url of ${length} characters`, async () => {
        const { url, seen } = await serve(() => json({}, 201));
        const targetUrl = `https://logs.example.com/${"x".repeat(length - 25)}`;
        expect(targetUrl).to.have.length(length);
        await new GitLabClient(url, {}).setCommitStatus(REPO, SHA, status(targetUrl));
        expect(JSON.parse(seen[0]?.body ?? "").target_url).to.equal(kept ? targetUrl : undefined);
      });
    }

    it('GitLab answers "unchanged" to "Cannot transition status" (400): it kept the status it had', async () => {
      const { url } = await serve(() =>
        json({ message: "Cannot transition status via :run from :running" }, 400),
      );
      expect(await new GitLabClient(url, {}).setCommitStatus(REPO, SHA, status("https://l"))).to.equal(
        "unchanged",
      );
    });

    it("GitLab sends an interim pending status as running (GitLab refuses pending over pending), a first one as pending", async () => {
      const { url, seen } = await serve(() => json({}, 201));
      const client = new GitLabClient(url, {});
      const pending = { state: "pending" as const, context: "hookgate/x", description: "d" };
      expect(await client.setCommitStatus(REPO, SHA, pending)).to.equal(undefined);
      await client.setCommitStatus(REPO, SHA, { ...pending, interim: true });
      await client.setCommitStatus(REPO, SHA, { ...pending, state: "failure", interim: true });
      expect(seen.map((r) => JSON.parse(r.body).state)).to.deep.equal(["pending", "running", "failed"]);
    });

    it("GitHub sends an interim pending status as pending: it replaces a status of the same context", async () => {
      const { url, seen } = await serve(() => json({}, 201));
      await new GitHubClient(url, AUTH).setCommitStatus(REPO, SHA, {
        state: "pending",
        context: "hookgate/x",
        description: "d",
        interim: true,
      });
      expect(JSON.parse(seen[0]?.body ?? "").state).to.equal("pending");
    });

    it("GitLab's 409 to a status (another update to it holds the commit's lock) is retryable, with its message", async () => {
      const { url } = await serve(() =>
        json({ message: "Another update to this commit status is in progress" }, 409),
      );
      const err = await rejectsWithActionError(
        new GitLabClient(url, {}).setCommitStatus(REPO, SHA, status("https://l")),
      );
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal(
        "GitLab API POST /projects/:id/statuses/:sha answered 409: Another update to this commit status is in progress",
      );
    });

    it("GitLab fails final with its message on any other 400 to a status", async () => {
      const { url } = await serve(() => json({ message: { state: ["is invalid"] } }, 400));
      const err = await rejectsWithActionError(
        new GitLabClient(url, {}).setCommitStatus(REPO, SHA, status("https://l")),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "GitLab API POST /projects/:id/statuses/:sha answered 400: state is invalid",
      );
    });
  });

  it("Bitbucket Cloud's refusal hint speaks of scopes for a 403 only, not a 404", async () => {
    const { url } = await serve((req) =>
      json({ error: { message: "nope" } }, req.url.includes("/statuses/") ? 404 : 403),
    );
    const client = new BitbucketCloudClient(url, AUTH);
    const forbidden = await rejectsWithActionError(client.getDefaultBranch(REPO));
    expect(forbidden.message).to.contain("likely a missing scope");
    const missing = await rejectsWithActionError(
      client.setCommitStatus(REPO, SHA, { state: "success", context: "c", description: "d" }),
    );
    expect(missing.message).to.not.contain("likely");
  });

  const withRef = { state: "success" as const, context: "c", description: "d", targetUrl: "https://l" };
  it("Bitbucket Cloud sends a status's branch of the repository as refname, which ties it to the pull request from that branch; a fork's not", async () => {
    const { url, seen } = await serve(() => json({}, 201));
    const client = new BitbucketCloudClient(url, AUTH);
    await client.setCommitStatus(REPO, SHA, { ...withRef, ref: "feature/login", refInRepository: true });
    await client.setCommitStatus(REPO, SHA, { ...withRef, ref: "feature/login", refInRepository: false });
    await client.setCommitStatus(REPO, SHA, withRef);
    const bodies = seen.map((req) => JSON.parse(req.body));
    expect(bodies.map((body) => body.refname)).to.deep.equal(["feature/login", undefined, undefined]);
    expect(bodies.map((body) => "ref" in body)).to.deep.equal([false, false, false]);
  });

  it("Bitbucket Data Center sends a status's branch of the repository as its full ref, refs/heads/<branch>; a fork's not", async () => {
    const { url, seen } = await serve(() => ({ status: 204 }));
    const client = new BitbucketServerClient(`${url}/rest/api/latest`, AUTH);
    await client.setCommitStatus(REPO, SHA, { ...withRef, ref: "feature/login", refInRepository: true });
    await client.setCommitStatus(REPO, SHA, { ...withRef, ref: "feature/login", refInRepository: false });
    await client.setCommitStatus(REPO, SHA, withRef);
    const bodies = seen.map((req) => JSON.parse(req.body));
    expect(bodies.map((body) => body.ref)).to.deep.equal(["refs/heads/feature/login", undefined, undefined]);
    expect(bodies.map((body) => "refname" in body)).to.deep.equal([false, false, false]);
  });

  it("GitLab sends a status's branch of the project as ref, and a fork's merge request as refs/merge-requests/<iid>/head", async () => {
    const { url, seen } = await serve(() => json({}, 201));
    const client = new GitLabClient(`${url}/api/v4`, AUTH);
    const mr = { ...withRef, ref: "main", pullRequest: 12 };
    await client.setCommitStatus(REPO, SHA, { ...mr, refInRepository: true });
    await client.setCommitStatus(REPO, SHA, { ...mr, refInRepository: false });
    await client.setCommitStatus(REPO, SHA, withRef);
    const bodies = seen.map((req) => JSON.parse(req.body));
    expect(bodies.map((body) => body.ref)).to.deep.equal(["main", "refs/merge-requests/12/head", undefined]);
  });

  it("Bitbucket Data Center's status key is cut to 255 characters; its name is the whole context", async () => {
    const { url, seen } = await serve(() => ({ status: 204 }));
    const context = `hookgate/${"r".repeat(300)}`;
    await new BitbucketServerClient(`${url}/rest/api/latest`, AUTH).setCommitStatus(REPO, SHA, {
      state: "pending",
      context,
      description: "d",
      targetUrl: "https://l",
    });
    const body = JSON.parse(seen[0]?.body ?? "");
    expect(body.key).to.equal(context.slice(0, 255));
    expect(body.name).to.equal(context);
  });
});

describe("Class: the Git host clients' redirects, archives and odd configurations", () => {
  let host: ScriptedServer | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });
  const serve = async (answer: (req: Seen, url: string) => Reply) => {
    host = await scriptedServer(answer);
    return host;
  };

  it("records each redirect (from, to) once: another from or another to is another redirect", async () => {
    const moves: Record<string, string> = {
      "/repos/acme/api": "/repositories/1",
      "/repos/acme/api/pulls/7": "/repositories/2/pulls/7",
      "/repos/acme/web": "/repositories/1",
      "/repos/acme/api/pulls/8": "/repositories/1/pulls/8",
    };
    const { url } = await serve((req, base) => {
      const path = req.url.split("?")[0] ?? "";
      const to = moves[path];
      if (to) return { status: 301, headers: { location: `${base}${to}` } };
      if (path.includes("/pulls/")) {
        return json({
          number: 7,
          state: "closed",
          head: { ref: "x", sha: SHA, repo: null },
          base: { ref: "main" },
        });
      }
      return json({ default_branch: "main" });
    });
    const logged: unknown[] = [];
    const client = new GitHubClient(url, AUTH, undefined, undefined, undefined, (line) => logged.push(line));
    const web = { owner: "acme", name: "web", fullName: "acme/web" };
    await client.getDefaultBranch(REPO); // /repos/acme/api -> /repositories/1
    await client.getPullRequest(REPO, 7); // the same from, another to: /repositories/2
    await client.getDefaultBranch(web); // another from, the same to: /repositories/1
    await client.getPullRequest(REPO, 8); // the first again
    expect(client.redirects).to.deep.equal([
      { status: 301, from: "/repos/acme/api", to: "/repositories/1" },
      { status: 301, from: "/repos/acme/api", to: "/repositories/2" },
      { status: 301, from: "/repos/acme/web", to: "/repositories/1" },
    ]);
    expect(logged).to.have.length(3);
  });

  it("follows a redirect to the same path (another query) without recording a move, and without a log function", async () => {
    const { url } = await serve((req, base) =>
      req.url.includes("?")
        ? json({ default_branch: "main" })
        : { status: 302, headers: { location: `${base}${req.url}?x=1` } },
    );
    const client = new GitHubClient(url, AUTH);
    expect(await client.getDefaultBranch(REPO)).to.equal("main");
    expect(client.redirects).to.deep.equal([]);
  });

  it("a redirect to another path, followed by a client without a log function, is recorded", async () => {
    const { url } = await serve((req, base) =>
      req.url === "/repos/acme/api"
        ? { status: 301, headers: { location: `${base}/repositories/1` } }
        : json({ default_branch: "main" }),
    );
    const client = new GitHubClient(url, AUTH);
    expect(await client.getDefaultBranch(REPO)).to.equal("main");
    expect(client.redirects).to.have.length(1);
  });

  const webUrls: Array<[string, string]> = [
    ["https://api.bitbucket.org/2.0", "https://bitbucket.org"],
    ["http://127.0.0.1:1/2.0", "http://127.0.0.1:1"],
    ["http://bb.example/2.0-mirror/2.0", "http://bb.example/2.0-mirror"],
    ["http://bb.example/a//b/2.0", "http://bb.example/a//b"],
    ["http://bb.example/ctx/2.0/", "http://bb.example/ctx"],
  ];
  for (const [apiUrl, web] of webUrls) {
    it(`Bitbucket Cloud downloads the archive of ${apiUrl} from ${web}`, () => {
      const archive = new BitbucketCloudClient(apiUrl, AUTH).archive(REPO, SHA);
      expect(archive.url).to.equal(`${web}/acme/api/get/${SHA}.zip`);
      expect(archive.headers).to.deep.equal({ "user-agent": "hookgate", ...AUTH });
    });
  }

  const scopes: Array<[string, () => GitHostClient, string]> = [
    ["GitHub.com", () => new GitHubClient("https://api.github.com", AUTH), "https://api.github.com"],
    [
      "GitHub Enterprise Server",
      () => new GitHubClient("https://ghe.example/api/v3", AUTH),
      "https://ghe.example",
    ],
    [
      "Gitea under /gitea",
      () => new GiteaClient("https://tools.example/gitea/api/v1/", AUTH),
      "https://tools.example/gitea",
    ],
    [
      "GitLab under /gitlab",
      () => new GitLabClient("https://tools.example/gitlab/api/v4", {}),
      "https://tools.example/gitlab",
    ],
    [
      "Bitbucket Data Center under /bitbucket",
      () => new BitbucketServerClient("https://tools.example/bitbucket/rest/api/1.0", AUTH),
      "https://tools.example/bitbucket",
    ],
    [
      "Bitbucket Cloud",
      () => new BitbucketCloudClient("https://api.bitbucket.org/2.0", AUTH),
      "https://bitbucket.org",
    ],
    [
      "a Gitea apiUrl of another shape",
      () => new GiteaClient("https://tools.example/gitea/v1", AUTH),
      "https://tools.example/gitea/v1",
    ],
  ];
  for (const [what, client, scope] of scopes) {
    it(`${what} sends the archive download's token within ${scope} only (its install, not the API's path)`, () => {
      expect(client().archive(REPO, SHA).credentialScope).to.equal(scope);
    });
  }

  it("Bitbucket Data Center downloads the archive from the API, without a top folder, with the credentials", () => {
    const archive = new BitbucketServerClient("https://bb.example/rest/api/latest", AUTH).archive(REPO, SHA);
    expect(archive).to.deep.include({
      url: `https://bb.example/rest/api/latest/projects/acme/repos/api/archive?at=${SHA}&format=zip`,
      headers: { "user-agent": "hookgate", ...AUTH },
    });
    expect(archive.topFolder).to.equal(undefined);
  });

  it("Bitbucket Cloud links a status without a target to the repository's page", async () => {
    const { url, seen } = await serve(() => ({ status: 201 }));
    await new BitbucketCloudClient(url, AUTH).setCommitStatus(REPO, SHA, {
      state: "success",
      context: "c",
      description: "d",
    });
    expect(JSON.parse(seen[0]?.body ?? "").url).to.equal("https://bitbucket.org/acme/api");
  });

  it("Bitbucket Data Center refuses, final, a status link it cannot build from an apiUrl without /rest/api/…", async () => {
    const { url, seen } = await serve(() => ({ status: 204 }));
    const client = new BitbucketServerClient(`${url}/api`, AUTH);
    const err = await rejectsWithActionError(
      client.setCommitStatus(REPO, SHA, { state: "success", context: "c", description: "d" }),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      `the Bitbucket Data Center apiUrl must end with /rest/api/latest (or /rest/api/1.0), not ${url}/api`,
    );
    expect(seen).to.deep.equal([]);
  });

  it("GitHub asks for open pull requests from the branch of the repository's own owner when the head repository has none", async () => {
    const { url, seen } = await serve(() => json([]));
    await new GitHubClient(url, AUTH).openPullRequestsFrom(REPO, "feature/x", "");
    expect(new URL(seen[0]?.url ?? "", url).searchParams.get("head")).to.equal("acme:feature/x");
  });

  it("GitHub's refusal to delete a branch (422) without a message says the status alone", async () => {
    const { url } = await serve(() => ({ status: 422, body: "<html>" }));
    expect(await new GitHubClient(url, AUTH).deleteBranch(REPO, "feature/x", SHA)).to.deep.equal({
      refused: "GitHub API answered 422",
    });
  });

  it("Gitea's failures name the Gitea API", async () => {
    const { url } = await serve(() => json({ message: "forbidden" }, 403));
    const err = await rejectsWithActionError(new GiteaClient(url, AUTH).getDefaultBranch(REPO));
    expect(err.message).to.equal("Gitea API GET /repos/acme/api answered 403: forbidden");
  });

  it("GitLab fails final when a moved project's lookup gives no numeric id, and does not send the call again", async () => {
    const { url, seen } = await serve((req) =>
      req.method === "GET"
        ? json({ id: "acme/api" })
        : json({ message: "Non GET methods are not allowed for moved projects" }, 405),
    );
    const err = await rejectsWithActionError(new GitLabClient(url, {}).deleteBranch(REPO, "feature/x", SHA));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("and the project's id could not be read");
    expect(seen.map((req) => req.method)).to.deep.equal(["DELETE", "GET"]);
  });

  it("GitLab does not look up a project it already calls by its id when that answers 405 for a moved project", async () => {
    const { url, seen } = await serve(() =>
      json({ message: "Non GET methods are not allowed for moved projects" }, 405),
    );
    const err = await rejectsWithActionError(
      new GitLabClient(url, {}).deleteBranch(
        { owner: "acme", name: "api", fullName: "12" },
        "feature/x",
        SHA,
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(seen.map((req) => req.method)).to.deep.equal(["DELETE"]);
  });
});

describe("Class: the Git host clients' commit states and redirect statuses", () => {
  let host: ScriptedServer | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  const states: Array<[string, (url: string) => GitHostClient, Record<CommitState, string>]> = [
    [
      "GitHub",
      (url) => new GitHubClient(url, AUTH),
      { pending: "pending", success: "success", failure: "failure", error: "error" },
    ],
    [
      "GitLab",
      (url) => new GitLabClient(url, {}),
      { pending: "pending", success: "success", failure: "failed", error: "failed" },
    ],
    [
      "Bitbucket Cloud",
      (url) => new BitbucketCloudClient(url, AUTH),
      { pending: "INPROGRESS", success: "SUCCESSFUL", failure: "FAILED", error: "FAILED" },
    ],
    [
      "Bitbucket Data Center",
      (url) => new BitbucketServerClient(`${url}/rest/api/latest`, AUTH),
      { pending: "INPROGRESS", success: "SUCCESSFUL", failure: "FAILED", error: "FAILED" },
    ],
  ];
  for (const [name, client, expected] of states) {
    it(`${name} sends each commit state as ${JSON.stringify(expected)}`, async () => {
      host = await scriptedServer(() => ({ status: 201 }));
      const sent: Record<string, string> = {};
      for (const state of ["pending", "success", "failure", "error"] as const) {
        await client(host.url).setCommitStatus(REPO, SHA, {
          state,
          context: "c",
          description: "d",
          targetUrl: "https://l",
        });
        sent[state] = JSON.parse(host.seen.at(-1)?.body ?? "{}").state;
      }
      expect(sent).to.deep.equal(expected);
    });
  }

  it("a 303 to a GET is followed with a GET", async () => {
    host = await scriptedServer((req, base) =>
      req.url === "/repos/acme/api"
        ? { status: 303, headers: { location: `${base}/repositories/1` } }
        : json({ default_branch: "main" }),
    );
    expect(await new GitHubClient(host.url, AUTH).getDefaultBranch(REPO)).to.equal("main");
    expect(host.seen.map((req) => `${req.method} ${req.url}`)).to.deep.equal([
      "GET /repos/acme/api",
      "GET /repositories/1",
    ]);
  });

  for (const status of [300, 304, 305]) {
    it(`a ${status} is no redirect to follow: a final failure after one request`, async () => {
      host = await scriptedServer((_req, base) => ({
        status,
        headers: { location: `${base}/repositories/1` },
      }));
      const err = await rejectsWithActionError(new GitHubClient(host.url, AUTH).getDefaultBranch(REPO));
      expect(err.retryable).to.equal(false);
      expect(host.seen).to.have.length(1);
    });
  }

  it("GitLab takes only its exact moved-project message as a moved project: a longer 405 message is a failure, with no lookup", async () => {
    host = await scriptedServer(() =>
      json({ message: "Non GET methods are not allowed for moved projects, see docs" }, 405),
    );
    const err = await rejectsWithActionError(
      new GitLabClient(host.url, {}).deleteBranch(REPO, "feature/x", SHA),
    );
    expect(err.retryable).to.equal(false);
    expect(host.seen.map((req) => req.method)).to.deep.equal(["DELETE"]);
  });

  for (const fullName of ["acme/api2", "2024/api"]) {
    it(`GitLab looks up the id of a moved project whose path only starts or ends with digits (${fullName}), and sends the call again there`, async () => {
      host = await scriptedServer((req) => {
        if (req.method === "GET") return json({ id: 42 });
        if (req.url.startsWith("/projects/42/")) return { status: 204 };
        return json({ message: "Non GET methods are not allowed for moved projects" }, 405);
      });
      const [owner = "", name = ""] = fullName.split("/");
      const result = await new GitLabClient(host.url, {}).deleteBranch(
        { owner, name, fullName },
        "feature/x",
        SHA,
      );
      expect(result).to.equal("deleted");
      expect(host.seen.map((req) => `${req.method} ${req.url}`)).to.deep.equal([
        `DELETE /projects/${encodeURIComponent(fullName)}/repository/branches/feature%2Fx`,
        `GET /projects/${encodeURIComponent(fullName)}`,
        "DELETE /projects/42/repository/branches/feature%2Fx",
      ]);
    });
  }
});
