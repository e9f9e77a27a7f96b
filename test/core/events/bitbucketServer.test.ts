import { expect } from "chai";
import { RequestError } from "../../../src/core/errors";
import { bitbucketServerRepo, normaliseBitbucketServer } from "../../../src/core/events/bitbucketServer";
import { loadPayload } from "../../fixtures/payloads";

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);
const repository = { slug: "app", project: { key: "PRJ" } };

function refsChanged(change: Record<string, unknown>): ReturnType<typeof normaliseBitbucketServer> {
  return normaliseBitbucketServer("repo:refs_changed", { repository, changes: [change] }, "d");
}

function rejects400(fn: () => unknown, message: string): void {
  expect(fn).to.throw(RequestError).with.property("message", message);
}

describe("Function: bitbucketServerRepo", () => {
  it("bitbucketServerRepo is undefined without a slug, a project or a project key", () => {
    expect(bitbucketServerRepo({ project: { key: "PRJ" } })).to.equal(undefined);
    expect(bitbucketServerRepo({ slug: "app" })).to.equal(undefined);
    expect(bitbucketServerRepo({ slug: "app", project: {} })).to.equal(undefined);
  });

  const clones: Array<[string, unknown[], string | undefined]> = [
    ["an ssh link only", [{ name: "ssh", href: "ssh://git@bb/prj/app.git" }], undefined],
    [
      "https then ssh",
      [
        { name: "https", href: "https://bb/scm/prj/app.git" },
        { name: "ssh", href: "ssh://git@bb/prj/app.git" },
      ],
      "https://bb/scm/prj/app.git",
    ],
    ["http", [null, { name: "http", href: "http://bb/scm/prj/app.git" }], "http://bb/scm/prj/app.git"],
    ["https after a null entry", [null, { name: "https", href: "https://bb/x.git" }], "https://bb/x.git"],
  ];
  for (const [title, clone, expected] of clones) {
    it(`bitbucketServerRepo takes the clone URL of an http or https link only: ${title} gives ${expected}`, () => {
      expect(bitbucketServerRepo({ ...repository, links: { clone } })?.cloneUrl).to.equal(expected);
    });
  }
});

describe("Function: normaliseBitbucketServer (shapes no fixture has)", () => {
  it("normaliseBitbucketServer reads a change's ref from ref.id when it has no refId", () => {
    const event = refsChanged({ ref: { id: "refs/heads/feature" }, toHash: SHA_A, type: "UPDATE" });
    expect([event.ref, event.branch, event.sha]).to.deep.equal(["refs/heads/feature", "feature", SHA_A]);
  });

  it("normaliseBitbucketServer reads a change with neither refId nor ref as no ref", () => {
    const event = refsChanged({ toHash: SHA_A, type: "UPDATE" });
    expect([event.ref, event.branch, event.tag, event.sha]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      SHA_A,
    ]);
  });

  it("normaliseBitbucketServer marks a DELETE change deleted even when its toHash is not zeros", () => {
    const event = refsChanged({ refId: "refs/heads/x", fromHash: SHA_B, toHash: SHA_A, type: "DELETE" });
    expect([event.deleted, event.sha, event.before]).to.deep.equal([true, undefined, SHA_B]);
  });

  it("normaliseBitbucketServer marks a change deleted when its toHash is all zeros, whatever its type", () => {
    const event = refsChanged({
      refId: "refs/heads/x",
      fromHash: SHA_B,
      toHash: "0".repeat(40),
      type: "UPDATE",
    });
    expect([event.deleted, event.sha]).to.deep.equal([true, undefined]);
  });

  it("normaliseBitbucketServer gives a closed pull request the later of updatedDate and closedDate as its time", () => {
    const pullRequest = {
      id: 1,
      state: "MERGED",
      updatedDate: Date.UTC(2026, 11, 6, 1, 0, 0),
      closedDate: Date.UTC(2026, 11, 6, 1, 0, 5),
      toRef: { id: "refs/heads/main", repository },
    };
    const event = normaliseBitbucketServer("pr:merged", { pullRequest }, "d");
    expect(event.pr?.updatedAt).to.equal("2026-12-06T01:00:05.000Z");
  });

  it("normaliseBitbucketServer takes a pull request's repository from toRef.repository over a top-level repository", () => {
    const pullRequest = {
      id: 1,
      state: "OPEN",
      toRef: { id: "refs/heads/main", repository: { slug: "target", project: { key: "TGT" } } },
    };
    const event = normaliseBitbucketServer("pr:opened", { pullRequest, repository }, "d");
    expect(event.repo.fullName).to.equal("TGT/target");
  });

  it("normaliseBitbucketServer takes the actor from name, else slug", () => {
    expect(
      normaliseBitbucketServer("repo:modified", { repository, actor: { name: "ann" } }, "d").actor,
    ).to.equal("ann");
    expect(
      normaliseBitbucketServer("repo:modified", { repository, actor: { slug: "bob" } }, "d").actor,
    ).to.equal("bob");
  });

  it("normaliseBitbucketServer gives an event without a repository the empty repository", () => {
    const event = normaliseBitbucketServer("repo:comment:added", {}, "d");
    expect(event.repo).to.deep.equal({ owner: "", name: "", fullName: "" });
  });

  it("normaliseBitbucketServer refuses a pull request with neither toRef.repository nor a repository, naming the key", () => {
    rejects400(
      () => normaliseBitbucketServer("pr:opened", { pullRequest: { id: 1 } }, "d"),
      "the Bitbucket Data Center pr:opened payload has no toRef.repository",
    );
  });

  it("normaliseBitbucketServer reads a pull request without refs from its top-level repository, with empty refs, no branch, no sha", () => {
    const event = normaliseBitbucketServer("pr:opened", { repository, pullRequest: { id: 3 } }, "d");
    expect(event.repo.fullName).to.equal("PRJ/app");
    expect(event.pr).to.deep.equal({
      number: 3,
      merged: false,
      state: undefined,
      headRef: "",
      baseRef: "",
      headSha: "",
      headRepoFullName: undefined,
    });
    expect([event.branch, event.sha]).to.deep.equal([undefined, undefined]);
  });

  it("normaliseBitbucketServer takes a pull request's branches from displayId, else from the id's refs/heads/ name", () => {
    const pullRequest = {
      id: 3,
      fromRef: { displayId: "feature", latestCommit: SHA_A },
      toRef: { id: "refs/heads/main", repository },
    };
    const byDisplayId = normaliseBitbucketServer("pr:opened", { pullRequest }, "d");
    expect([byDisplayId.pr?.headRef, byDisplayId.pr?.baseRef, byDisplayId.branch]).to.deep.equal([
      "feature",
      "main",
      "main",
    ]);
    const swapped = {
      id: 3,
      fromRef: { id: "refs/heads/feature" },
      toRef: { displayId: "main", repository },
    };
    const byId = normaliseBitbucketServer("pr:opened", { pullRequest: swapped }, "d");
    expect([byId.pr?.headRef, byId.pr?.baseRef]).to.deep.equal(["feature", "main"]);
  });

  it("normaliseBitbucketServer names a pull request's head repository only from a fromRef.repository with a slug and key", () => {
    const toRef = { displayId: "main", repository };
    const none = normaliseBitbucketServer("pr:opened", { pullRequest: { id: 1, toRef, fromRef: {} } }, "d");
    const partial = normaliseBitbucketServer(
      "pr:opened",
      { pullRequest: { id: 1, toRef, fromRef: { repository: { slug: "fork" } } } },
      "d",
    );
    const fork = normaliseBitbucketServer(
      "pr:opened",
      { pullRequest: { id: 1, toRef, fromRef: { repository: { slug: "fork", project: { key: "~ANN" } } } } },
      "d",
    );
    expect([
      none.pr?.headRepoFullName,
      partial.pr?.headRepoFullName,
      fork.pr?.headRepoFullName,
    ]).to.deep.equal([undefined, undefined, "~ANN/fork"]);
  });

  it("normaliseBitbucketServer reads pr:modified (title, description or target branch changed) as pull_request edited, so merged: false matches it", () => {
    // The shape of Atlassian's pr:modified payload: the pull request as it is now, and the previous values.
    // biome-ignore lint/suspicious/noExplicitAny: a fixture's JSON, reshaped
    const payload = loadPayload("bitbucket-server/pr-merged").payload as any;
    const pullRequest = {
      ...payload.pullRequest,
      state: "OPEN",
      open: true,
      closed: false,
      title: "Retry on 503",
    };
    delete pullRequest.closedDate;
    const modified = {
      eventKey: "pr:modified",
      date: payload.date,
      actor: payload.actor,
      pullRequest,
      previousTitle: payload.pullRequest.title,
      previousDescription: payload.pullRequest.description,
      previousTarget: { id: "refs/heads/develop", displayId: "develop", type: "BRANCH" },
    };
    const event = normaliseBitbucketServer("pr:modified", modified, "d");
    expect([event.event, event.action, event.pr?.merged, event.pr?.state]).to.deep.equal([
      "pull_request",
      "edited",
      false,
      "open",
    ]);
  });

  const merged: Array<[string, string | undefined, boolean]> = [
    ["pr:merged", undefined, true],
    ["pr:from_ref_updated", "MERGED", true],
    ["pr:declined", "DECLINED", false],
    ["pr:opened", "OPEN", false],
  ];
  for (const [key, state, expected] of merged) {
    it(`normaliseBitbucketServer reads ${key} with state ${state} as merged: ${expected}`, () => {
      const event = normaliseBitbucketServer(key, { repository, pullRequest: { id: 1, state } }, "d");
      expect([event.pr?.merged, event.pr?.state]).to.deep.equal([expected, state?.toLowerCase()]);
    });
  }
});
