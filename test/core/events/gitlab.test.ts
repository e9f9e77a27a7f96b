import { expect } from "chai";
import { RequestError } from "../../../src/core/errors";
import { gitlabEventName, gitlabRepo, normaliseGitLab } from "../../../src/core/events/gitlab";

const SHA_A = "a".repeat(40);
const project = { path_with_namespace: "grp/sub/app" };

describe("Function: gitlabEventName", () => {
  const cases: Array<[string, string]> = [
    ["Pipeline Hook", "pipeline"],
    ["Wiki Page Hook", "wiki_page"],
    ["Wiki  Page Hook", "wiki_page"],
    [" Pipeline Hook", "pipeline"],
    ["Web Hook Test", "web_hook_test"],
    ["Merge Request Hook", "pull_request"],
  ];
  for (const [header, expected] of cases) {
    it(`gitlabEventName names ${JSON.stringify(header)} ${JSON.stringify(expected)} (one _ per run of other characters, only a final Hook dropped)`, () => {
      expect(gitlabEventName(header)).to.equal(expected);
    });
  }
});

describe("Function: gitlabRepo", () => {
  it("gitlabRepo takes the clone URL from git_http_url, else http_url", () => {
    expect(gitlabRepo({ ...project, git_http_url: "https://g/a.git" })?.cloneUrl).to.equal("https://g/a.git");
    expect(gitlabRepo({ ...project, http_url: "https://g/b.git" })?.cloneUrl).to.equal("https://g/b.git");
  });
});

describe("Function: normaliseGitLab (shapes no fixture has)", () => {
  it("normaliseGitLab names a System Hook without event_name or object_kind system", () => {
    expect(normaliseGitLab("System Hook", { ...project }, "d").event).to.equal("system");
  });

  it("normaliseGitLab reads a System Hook tag_push (event_name tag_push) as a push of its tag", () => {
    const payload = {
      event_name: "tag_push",
      object_kind: "tag_push",
      ref: "refs/tags/v1",
      before: "0".repeat(40),
      after: SHA_A,
      checkout_sha: SHA_A,
      project,
    };
    const event = normaliseGitLab("System Hook", payload, "d");
    expect([event.event, event.tag, event.sha]).to.deep.equal(["push", "v1", SHA_A]);
  });

  it("normaliseGitLab reads a System Hook merge request, which names object_kind and no event_name, as a pull request", () => {
    // GitLab's merge request system hook names object_kind merge_request (gitlab-org/gitlab#249557).
    const payload = {
      object_kind: "merge_request",
      event_type: "merge_request",
      object_attributes: { iid: 3, action: "open", target_branch: "main", source_branch: "f" },
      project,
    };
    const event = normaliseGitLab("System Hook", payload, "d");
    expect([event.event, event.action, event.pr?.number]).to.deep.equal(["pull_request", "opened", 3]);
  });

  it("normaliseGitLab takes a merge request's repository from object_attributes.target when it has no project", () => {
    const payload = {
      object_attributes: { iid: 3, action: "open", target: { path_with_namespace: "grp/app" } },
    };
    expect(normaliseGitLab("Merge Request Hook", payload, "d").repo.fullName).to.equal("grp/app");
  });

  it("normaliseGitLab renames issue actions only on issues: a note's action update stays update", () => {
    const attributes = { object_attributes: { action: "update" }, project };
    expect(normaliseGitLab("Note Hook", attributes, "d").action).to.equal("update");
    expect(normaliseGitLab("Issue Hook", attributes, "d").action).to.equal("edited");
  });

  it("normaliseGitLab takes a hook's actor from user.username, else user_username", () => {
    expect(normaliseGitLab("Note Hook", { project, user: { username: "ann" } }, "d").actor).to.equal("ann");
    expect(normaliseGitLab("Note Hook", { project, user_username: "bob" }, "d").actor).to.equal("bob");
  });

  it("normaliseGitLab takes a push's actor from user_username, else user.username, else user_name, else none", () => {
    const pushOf = (extra: Record<string, unknown>) =>
      normaliseGitLab("Push Hook", { project, ref: "refs/heads/main", after: SHA_A, ...extra }, "d").actor;
    expect([
      pushOf({ user_username: "ann", user: { username: "bob" }, user_name: "Carl" }),
      pushOf({ user: { username: "bob" }, user_name: "Carl" }),
      pushOf({ user_name: "Carl" }),
      pushOf({}),
    ]).to.deep.equal(["ann", "bob", "Carl", undefined]);
  });

  it("normaliseGitLab gives a release without a commit no sha", () => {
    const event = normaliseGitLab("Release Hook", { project, tag: "v1", action: "create" }, "d");
    expect([event.tag, event.sha, event.action]).to.deep.equal(["v1", undefined, "created"]);
  });

  it("normaliseGitLab refuses a merge request without object_attributes, saying so", () => {
    expect(() => normaliseGitLab("Merge Request Hook", { project }, "d"))
      .to.throw(RequestError)
      .with.property("message", "the GitLab merge request payload has no object_attributes");
  });

  it("normaliseGitLab reads a merge request's repository from project when it has no target", () => {
    const event = normaliseGitLab("Merge Request Hook", { project, object_attributes: { iid: 4 } }, "d");
    expect(event.repo.fullName).to.equal("grp/sub/app");
  });

  it("normaliseGitLab reads a merge request without branches, commit or source as empty refs, no branch, no sha", () => {
    const event = normaliseGitLab("Merge Request Hook", { project, object_attributes: { iid: 4 } }, "d");
    expect(event.pr).to.deep.equal({
      number: 4,
      merged: false,
      state: undefined,
      headRef: "",
      baseRef: "",
      headSha: "",
      headRepoFullName: undefined,
    });
    expect([event.branch, event.sha]).to.deep.equal([undefined, undefined]);
  });

  const merged: Array<[string, Record<string, unknown>, boolean]> = [
    ["state merged without an action", { state: "merged" }, true],
    ["action merge with state opened", { state: "opened", action: "merge" }, true],
    ["state closed with action close", { state: "closed", action: "close" }, false],
    ["state opened with action update", { state: "opened", action: "update", oldrev: SHA_A }, false],
  ];
  for (const [title, attributes, expected] of merged) {
    it(`normaliseGitLab reads a merge request with ${title} as merged: ${expected}`, () => {
      const event = normaliseGitLab(
        "Merge Request Hook",
        { project, object_attributes: { iid: 1, ...attributes } },
        "d",
      );
      expect(event.pr?.merged).to.equal(expected);
    });
  }

  const updates: Array<[string, Record<string, unknown>, Record<string, unknown> | undefined, string]> = [
    [
      "changes.draft true -> false (marked ready)",
      {},
      { draft: { previous: true, current: false } },
      "ready_for_review",
    ],
    [
      "changes.draft false -> true (marked draft)",
      {},
      { draft: { previous: false, current: true } },
      "converted_to_draft",
    ],
    // Before GitLab 16.3 a draft toggle changes the title only.
    [
      'changes.title "Draft: x" -> "x" and no changes.draft (GitLab before 16.3, marked ready)',
      {},
      { title: { previous: "Draft: Add feature", current: "Add feature" } },
      "ready_for_review",
    ],
    [
      'changes.title "x" -> "[Draft] x" and no changes.draft (GitLab before 16.3, marked draft)',
      {},
      { title: { previous: "Add feature", current: "[Draft] Add feature" } },
      "converted_to_draft",
    ],
    [
      'changes.title " (draft) x" -> "x" (a prefix in any case, after spaces)',
      {},
      { title: { previous: " (draft) Add feature", current: "Add feature" } },
      "ready_for_review",
    ],
    // GitLab 14.8 dropped WIP as a draft prefix: such a title edit is no toggle.
    [
      'changes.title "WIP: x" -> "x" (WIP is no draft prefix)',
      {},
      { title: { previous: "WIP: Add feature", current: "Add feature" } },
      "edited",
    ],
    [
      'changes.title "x" -> "[WIP] x" (WIP is no draft prefix)',
      {},
      { title: { previous: "Add feature", current: "[WIP] Add feature" } },
      "edited",
    ],
    // object_attributes.draft is GitLab's verdict: a title fallback that disagrees with it is no toggle.
    [
      'changes.title "Draft: x" -> "x" with draft still true (no toggle GitLab saw)',
      { draft: true },
      { title: { previous: "Draft: Add feature", current: "Add feature" } },
      "edited",
    ],
    [
      'changes.title "x" -> "Draft: x" with draft false (no toggle GitLab saw)',
      { draft: false },
      { title: { previous: "Add feature", current: "Draft: Add feature" } },
      "edited",
    ],
    [
      'changes.title "Draft: x" -> "x" with draft false (GitLab agrees: marked ready)',
      { draft: false },
      { title: { previous: "Draft: Add feature", current: "Add feature" } },
      "ready_for_review",
    ],
    [
      'changes.title "x" -> "(Draft) x" with draft true (GitLab agrees: marked draft)',
      { draft: true },
      { title: { previous: "Add feature", current: "(Draft) Add feature" } },
      "converted_to_draft",
    ],
    [
      'changes.title "Draft: x" -> "Draft: y" (still a draft)',
      {},
      { title: { previous: "Draft: Add feature", current: "Draft: Add features" } },
      "edited",
    ],
    [
      'changes.title "Drafting x" -> "x" (no draft prefix)',
      {},
      { title: { previous: "Drafting notes", current: "Notes" } },
      "edited",
    ],
    [
      "oldrev and changes.draft (a draft: commit pushed)",
      { oldrev: SHA_A },
      { draft: { previous: false, current: true } },
      "synchronize",
    ],
    ["changes.title only", {}, { title: { previous: "a", current: "b" } }, "edited"],
    ["no changes", {}, undefined, "edited"],
  ];
  for (const [title, attributes, changes, expected] of updates) {
    it(`normaliseGitLab reads a merge request update with ${title} as action ${expected}`, () => {
      const event = normaliseGitLab(
        "Merge Request Hook",
        { project, object_attributes: { iid: 1, action: "update", ...attributes }, changes },
        "d",
      );
      expect(event.action).to.equal(expected);
    });
  }
});

describe("Function: normaliseGitLab (a pipeline's or job's branch or tag)", () => {
  const SHA = "bcbb5ec396a2c0f828686f14fac9b80b780504f2";
  const pipeline = (attributes: Record<string, unknown>) =>
    normaliseGitLab(
      "Pipeline Hook",
      {
        object_kind: "pipeline",
        object_attributes: { id: 31, sha: SHA, status: "success", ...attributes },
        user: { username: "alice" },
        project,
      },
      "d-1",
    );
  const refOf = (event: ReturnType<typeof normaliseGitLab>) => ({
    ref: event.ref,
    branch: event.branch,
    tag: event.tag,
    sha: event.sha,
  });

  it("normaliseGitLab gives a pipeline on main (object_attributes.ref main, tag false) branch main and the pipeline's commit", () => {
    expect(refOf(pipeline({ ref: "main", tag: false }))).to.deep.equal({
      ref: "refs/heads/main",
      branch: "main",
      tag: undefined,
      sha: SHA,
    });
  });

  it("normaliseGitLab gives a pipeline for tag v1.2.0 (tag true) tag v1.2.0 and no branch", () => {
    expect(refOf(pipeline({ ref: "v1.2.0", tag: true }))).to.deep.equal({
      ref: "refs/tags/v1.2.0",
      branch: undefined,
      tag: "v1.2.0",
      sha: SHA,
    });
  });

  it("normaliseGitLab gives a merge request pipeline (ref refs/merge-requests/15/head) no branch or tag, the ref as it is", () => {
    expect(refOf(pipeline({ ref: "refs/merge-requests/15/head", tag: false }))).to.deep.equal({
      ref: "refs/merge-requests/15/head",
      branch: undefined,
      tag: undefined,
      sha: SHA,
    });
  });

  it("normaliseGitLab gives a merge request pipeline (source merge_request_event, ref the source branch main) ref refs/merge-requests/<iid>/head and no branch", () => {
    // GitLab 12.0+ sends ref: pipeline.source_ref, the merge request's source branch (a fork's too).
    const event = normaliseGitLab(
      "Pipeline Hook",
      {
        object_kind: "pipeline",
        object_attributes: { id: 31, ref: "main", tag: false, sha: SHA, source: "merge_request_event" },
        merge_request: {
          id: 99,
          iid: 15,
          source_branch: "main",
          source_project_id: 2,
          target_branch: "main",
        },
        project,
      },
      "d-3",
    );
    expect(refOf(event)).to.deep.equal({
      ref: "refs/merge-requests/15/head",
      branch: undefined,
      tag: undefined,
      sha: SHA,
    });
  });

  it("normaliseGitLab reads a pipeline with a merge_request object as a merge request pipeline, whatever its source", () => {
    const event = normaliseGitLab(
      "Pipeline Hook",
      {
        object_kind: "pipeline",
        object_attributes: { id: 31, ref: "feature/x", tag: false, sha: SHA },
        merge_request: { iid: 7 },
        project,
      },
      "d-4",
    );
    expect(refOf(event)).to.deep.equal({
      ref: "refs/merge-requests/7/head",
      branch: undefined,
      tag: undefined,
      sha: SHA,
    });
    expect(refOf(pipeline({ ref: "feature/x", tag: false, source: "merge_request_event" }))).to.deep.equal({
      ref: undefined,
      branch: undefined,
      tag: undefined,
      sha: SHA,
    });
  });

  it("normaliseGitLab keeps a merge request pipeline's ref that is already refs/merge-requests/... when there is no merge_request iid", () => {
    const ref = "refs/merge-requests/15/head";
    expect(refOf(pipeline({ ref, tag: false, source: "merge_request_event" }))).to.deep.equal({
      ref,
      branch: undefined,
      tag: undefined,
      sha: SHA,
    });
  });

  it("normaliseGitLab gives a Job Hook its branch or tag and commit from the top level (ref, tag, sha)", () => {
    const job = (fields: Record<string, unknown>) =>
      normaliseGitLab("Job Hook", { object_kind: "build", sha: SHA, build_id: 7, project, ...fields }, "d-2");
    expect(refOf(job({ ref: "main", tag: false }))).to.deep.equal({
      ref: "refs/heads/main",
      branch: "main",
      tag: undefined,
      sha: SHA,
    });
    expect(refOf(job({ ref: "v2", tag: true }))).to.deep.equal({
      ref: "refs/tags/v2",
      branch: undefined,
      tag: "v2",
      sha: SHA,
    });
  });

  it("normaliseGitLab gives a pipeline without ref no branch, tag or ref", () => {
    expect(refOf(pipeline({}))).to.deep.equal({
      ref: undefined,
      branch: undefined,
      tag: undefined,
      sha: SHA,
    });
  });
});
