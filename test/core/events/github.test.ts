import { expect } from "chai";
import { githubRepo, normaliseGitHubLike } from "../../../src/core/events/github";

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);
const repository = { name: "r", full_name: "o/r", owner: { login: "o" } };

describe("Function: githubRepo", () => {
  const cases: Array<[string, Record<string, unknown>, ReturnType<typeof githubRepo>]> = [
    [
      "takes the owner from login alone",
      { name: "r", owner: { login: "o" } },
      { owner: "o", name: "r", fullName: "o/r" },
    ],
    [
      "takes the owner from username when there is no login (Gitea)",
      { name: "r", owner: { username: "g" } },
      { owner: "g", name: "r", fullName: "g/r" },
    ],
    [
      "takes the owner from name when there is neither login nor username",
      { name: "r", owner: { name: "n" } },
      { owner: "n", name: "r", fullName: "n/r" },
    ],
    [
      "splits the owner out of full_name when the payload has no owner",
      { name: "r", full_name: "grp/r" },
      { owner: "grp", name: "r", fullName: "grp/r" },
    ],
    [
      "splits the name out of full_name when the payload has no name",
      { full_name: "grp/r2", owner: { login: "o" } },
      { owner: "o", name: "r2", fullName: "grp/r2" },
    ],
    [
      "keeps named owner and name over a full_name that says otherwise",
      { name: "r", full_name: "x/y", owner: { login: "o" } },
      { owner: "o", name: "r", fullName: "x/y" },
    ],
    ["is undefined with an owner but no name and no full_name", { owner: { login: "o" } }, undefined],
    ["is undefined with a name but no owner and no full_name", { name: "r" }, undefined],
  ];
  for (const [title, input, expected] of cases) {
    it(`githubRepo ${title}`, () => {
      const repo = githubRepo(input);
      if (expected === undefined) expect(repo).to.equal(undefined);
      else expect({ owner: repo?.owner, name: repo?.name, fullName: repo?.fullName }).to.deep.equal(expected);
    });
  }
});

describe("Function: normaliseGitHubLike (shapes no fixture has)", () => {
  it("normaliseGitHubLike keeps a GitHub pull_request action synchronized as it is (only Gitea's is renamed)", () => {
    const payload = { action: "synchronized", pull_request: { number: 1 }, repository };
    expect(normaliseGitHubLike("github", "pull_request", payload, "d").action).to.equal("synchronized");
    expect(normaliseGitHubLike("gitea", "pull_request", payload, "d").action).to.equal("synchronize");
  });

  it("normaliseGitHubLike takes an annotated tag push's sha from after when it has no head_commit", () => {
    const event = normaliseGitHubLike(
      "github",
      "push",
      { ref: "refs/tags/v1", after: SHA_A, head_commit: null, repository },
      "d",
    );
    expect([event.tag, event.sha]).to.deep.equal(["v1", SHA_A]);
  });

  it("normaliseGitHubLike reads Forgejo's full ref names in create and delete events as the branch or tag they name", () => {
    // CreatePayload / DeletePayload (modules/structs) as Forgejo's notifier fills them for a "Forgejo"
    // webhook: Ref is refFullName.String().
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [
        "create",
        { sha: SHA_A, ref: "refs/heads/feature/x", ref_type: "branch" },
        { ref: "refs/heads/feature/x", branch: "feature/x", deleted: false },
      ],
      [
        "create",
        { sha: SHA_A, ref: "refs/tags/v1.2.0", ref_type: "tag" },
        { ref: "refs/tags/v1.2.0", tag: "v1.2.0", deleted: false },
      ],
      [
        "delete",
        { ref: "refs/heads/feature/x", ref_type: "branch", pusher_type: "user" },
        { ref: "refs/heads/feature/x", branch: "feature/x", deleted: true },
      ],
      [
        "delete",
        { ref: "refs/tags/v1.2.0", ref_type: "tag", pusher_type: "user" },
        { ref: "refs/tags/v1.2.0", tag: "v1.2.0", deleted: true },
      ],
    ];
    for (const [event, payload, expected] of cases) {
      const normalised = normaliseGitHubLike("gitea", event, { ...payload, repository }, "d");
      expect(normalised, `${event} ${payload.ref}`).to.include(expected);
    }
  });

  it("normaliseGitHubLike keeps Gitea's short ref names in create and delete events, and GitHub's as they are", () => {
    const gitea = normaliseGitHubLike(
      "gitea",
      "create",
      { ref: "feature/x", ref_type: "branch", repository },
      "d",
    );
    expect(gitea).to.include({ ref: "refs/heads/feature/x", branch: "feature/x" });
    const giteaDelete = normaliseGitHubLike(
      "gitea",
      "delete",
      { ref: "v1.2", ref_type: "tag", repository },
      "d",
    );
    expect(giteaDelete).to.include({ ref: "refs/tags/v1.2", tag: "v1.2" });
    // GitHub names the short ref: a branch named refs/heads/x is that branch.
    const github = normaliseGitHubLike(
      "github",
      "delete",
      { ref: "refs/heads/x", ref_type: "branch", repository },
      "d",
    );
    expect(github).to.include({ ref: "refs/heads/refs/heads/x", branch: "refs/heads/x" });
  });

  it("normaliseGitHubLike gives a create event of ref_type repository no ref, branch or tag", () => {
    const event = normaliseGitHubLike(
      "github",
      "create",
      { ref: "main", ref_type: "repository", repository },
      "d",
    );
    expect([event.ref, event.branch, event.tag]).to.deep.equal([undefined, undefined, undefined]);
  });

  it("normaliseGitHubLike reads a merge_group event without a merge_group object as having no branch, ref or sha", () => {
    const event = normaliseGitHubLike(
      "github",
      "merge_group",
      { action: "checks_requested", repository },
      "d",
    );
    expect([event.branch, event.ref, event.sha, event.before]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("normaliseGitHubLike reads no pull request from an event that is not a pull_request event, whatever its payload holds", () => {
    const payload = { action: "opened", pull_request: { number: 3, base: { ref: "main" } }, repository };
    for (const name of ["issues", "pull_requestx", "check_run"]) {
      const event = normaliseGitHubLike("github", name, payload, "d");
      expect([event.pr, event.branch], name).to.deep.equal([undefined, undefined]);
    }
  });

  it("normaliseGitHubLike accepts a pull_request_review_comment without a pull_request object (only pull_request needs one)", () => {
    const event = normaliseGitHubLike(
      "github",
      "pull_request_review_comment",
      { action: "created", repository },
      "d",
    );
    expect(event.pr).to.equal(undefined);
  });

  it("normaliseGitHubLike takes the pull request number from pull_request.number when the payload has no number", () => {
    const event = normaliseGitHubLike(
      "github",
      "pull_request",
      { pull_request: { number: 7 }, repository },
      "d",
    );
    expect(event.pr?.number).to.equal(7);
  });

  it("normaliseGitHubLike reads a pull request without head or base as empty refs, no sha, no branch", () => {
    for (const provider of ["github", "gitea"] as const) {
      const event = normaliseGitHubLike(
        provider,
        "pull_request",
        { pull_request: { number: 2 }, repository },
        "d",
      );
      expect(event.pr, provider).to.deep.equal({
        number: 2,
        merged: false,
        state: undefined,
        headRef: "",
        baseRef: "",
        headSha: "",
        headRepoFullName: undefined,
      });
      expect([event.branch, event.sha], provider).to.deep.equal([undefined, undefined]);
    }
  });

  it("normaliseGitHubLike keeps a Gitea head ref that is a branch, not its label", () => {
    const pull_request = { number: 2, head: { ref: "feature", label: "someone:other", sha: SHA_B } };
    const event = normaliseGitHubLike("gitea", "pull_request", { pull_request, repository }, "d");
    expect(event.pr?.headRef).to.equal("feature");
  });

  it("normaliseGitHubLike gives a Gitea AGit pull request no head branch, the base repository as its head's, and refs/pull/<n>/head's commit", () => {
    // ToAPIPullRequest (go-gitea services/convert/pull.go) for PullRequestFlowAGit: Head.Ref stays
    // refs/pull/<n>/head, Head.Name (json "label") is "", Head.RepoID and Head.Repository are the base's.
    const base = { id: 3, name: "r", full_name: "o/r", owner: { login: "o", username: "o" } };
    const pull_request = {
      number: 4,
      state: "closed",
      merged: true,
      head: { label: "", ref: "refs/pull/4/head", sha: SHA_B, repo_id: 3, repo: base },
      base: { label: "main", ref: "main", sha: SHA_A, repo_id: 3, repo: base },
    };
    const event = normaliseGitHubLike(
      "gitea",
      "pull_request",
      { action: "closed", number: 4, pull_request, repository: base },
      "d",
    );
    expect(event.pr).to.include({ headRef: "", headSha: SHA_B, headRepoFullName: "o/r", baseRef: "main" });
  });

  it("normaliseGitHubLike takes a Gitea head ref of refs/pull/<n>/head from its label, or empty without one", () => {
    const withLabel = { number: 2, head: { ref: "refs/pull/2/head", label: "feature" } };
    const noLabel = { number: 2, head: { ref: "refs/pull/2/head" } };
    expect(
      normaliseGitHubLike("gitea", "pull_request", { pull_request: withLabel, repository }, "d").pr?.headRef,
    ).to.equal("feature");
    expect(
      normaliseGitHubLike("gitea", "pull_request", { pull_request: noLabel, repository }, "d").pr?.headRef,
    ).to.equal("");
  });
});

describe("Function: normaliseGitHubLike (fallbacks a payload may need)", () => {
  it("normaliseGitHubLike takes the default branch from master_branch when the repository names no default_branch", () => {
    // GitHub's create payload names master_branch; a repository object without default_branch falls back to it.
    const event = normaliseGitHubLike(
      "github",
      "create",
      { ref: "x", ref_type: "branch", repository: { ...repository, master_branch: "trunk" } },
      "d",
    );
    expect(event.repo.defaultBranch).to.equal("trunk");
  });

  it("normaliseGitHubLike takes the pull request number from the payload's number when pull_request has none", () => {
    const event = normaliseGitHubLike(
      "github",
      "pull_request",
      { action: "closed", number: 9, pull_request: { state: "closed" }, repository },
      "d",
    );
    expect(event.pr?.number).to.equal(9);
  });

  it("normaliseGitHubLike gives a closed pull request the later of updated_at and closed_at as its time", () => {
    const pull_request = {
      number: 1,
      state: "closed",
      updated_at: "2026-12-06T01:00:00Z",
      closed_at: "2026-12-06T01:00:05Z",
    };
    const event = normaliseGitHubLike(
      "github",
      "pull_request",
      { action: "closed", pull_request, repository },
      "d",
    );
    expect(event.pr?.updatedAt).to.equal("2026-12-06T01:00:05.000Z");
  });

  const actors: Array<[string, Record<string, unknown>, string | undefined]> = [
    ["sender.login", { sender: { login: "s", username: "u" }, pusher: { name: "p" } }, "s"],
    ["sender.username when the sender has no login (Gogs)", { sender: { username: "u" } }, "u"],
    ["pusher.login when there is no sender", { pusher: { login: "pl", name: "p" } }, "pl"],
    [
      "pusher.name when there is no sender and the pusher has no login (GitHub's push pusher)",
      { pusher: { name: "p" } },
      "p",
    ],
    ["nothing when neither names one", {}, undefined],
  ];
  for (const [title, fields, expected] of actors) {
    it(`normaliseGitHubLike takes a push's actor from ${title}`, () => {
      const payload = { ref: "refs/heads/main", after: SHA_A, repository, ...fields };
      expect(normaliseGitHubLike("gitea", "push", payload, "d").actor).to.equal(expected);
    });
  }

  it("normaliseGitHubLike refuses a push, pull_request, create or delete without a repository as malformed", () => {
    const payloads: Record<string, Record<string, unknown>> = {
      push: { ref: "refs/heads/main", after: SHA_A },
      pull_request: { action: "opened", pull_request: { number: 1 } },
      create: { ref: "x", ref_type: "branch" },
      delete: { ref: "x", ref_type: "branch", pusher_type: "user" },
    };
    for (const [event, payload] of Object.entries(payloads)) {
      for (const provider of ["github", "gitea"] as const) {
        expect(() => normaliseGitHubLike(provider, event, payload, "d"), `${provider} ${event}`).to.throw(
          /has no repository/,
        );
      }
    }
  });

  it("normaliseGitHubLike names X-GitHub-Event for a GitHub create body sent as delete, and only 'event' for Gitea's (its header has three names)", () => {
    const body = { ref: "x", ref_type: "branch", master_branch: "main", sha: SHA_A, repository };
    expect(() => normaliseGitHubLike("github", "delete", body, "d")).to.throw(
      /^the X-GitHub-Event header names/,
    );
    expect(() => normaliseGitHubLike("gitea", "delete", body, "d")).to.throw(/^the event header names/);
  });
});
