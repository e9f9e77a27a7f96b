import { expect } from "chai";
import { RequestError } from "../../../src/core/errors";
import { bitbucketRepo, normaliseBitbucket } from "../../../src/core/events/bitbucket";

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);
const repository = { full_name: "team/app" };

function push(changes: unknown): ReturnType<typeof normaliseBitbucket> {
  return normaliseBitbucket("repo:push", { repository, push: { changes } }, "d");
}

describe("Function: bitbucketRepo", () => {
  it("bitbucketRepo has no clone URL without links.html.href, and href.git with one", () => {
    expect(bitbucketRepo(repository)?.cloneUrl).to.equal(undefined);
    expect(
      bitbucketRepo({ ...repository, links: { html: { href: "https://bb/team/app" } } })?.cloneUrl,
    ).to.equal("https://bb/team/app.git");
  });
});

describe("Function: normaliseBitbucket (shapes no fixture has)", () => {
  it("normaliseBitbucket takes the actor's nickname, and no actor from display_name alone (free text anyone sets)", () => {
    const named = normaliseBitbucket(
      "repo:push",
      { repository, actor: { nickname: "jdev", display_name: "dependabot[bot]" }, push: { changes: [] } },
      "d",
    );
    const unnamed = normaliseBitbucket(
      "repo:push",
      {
        repository,
        actor: { display_name: "dependabot[bot]", account_id: "557058:x" },
        push: { changes: [] },
      },
      "d",
    );
    expect([named.actor, unnamed.actor]).to.deep.equal(["jdev", undefined]);
  });

  const kinds: Array<[string, Record<string, unknown>]> = [
    ["branch", { ref: "refs/heads/x", branch: "x", tag: undefined }],
    ["named_branch", { ref: "refs/heads/x", branch: "x", tag: undefined }],
    ["tag", { ref: "refs/tags/x", branch: undefined, tag: "x" }],
    // Bitbucket's event payloads page lists it beside branch and tag.
    ["annotated_tag", { ref: "refs/tags/x", branch: undefined, tag: "x" }],
    ["bookmark", { ref: undefined, branch: undefined, tag: undefined }],
  ];
  for (const [type, expected] of kinds) {
    it(`normaliseBitbucket reads a push change of type ${type} as ${JSON.stringify(expected)}`, () => {
      const event = push([{ new: { type, name: "x", target: { hash: SHA_A } } }]);
      expect({ ref: event.ref, branch: event.branch, tag: event.tag }).to.deep.equal(expected);
    });
  }

  it("normaliseBitbucket reads an annotated_tag change's target hash as the sha, and its deletion as a tag deleted", () => {
    const pushed = push([
      { old: null, new: { type: "annotated_tag", name: "v1.0.0", target: { hash: SHA_A } } },
    ]);
    expect([pushed.tag, pushed.sha, pushed.deleted]).to.deep.equal(["v1.0.0", SHA_A, false]);
    const deleted = push([
      { old: { type: "annotated_tag", name: "v1.0.0", target: { hash: SHA_A } }, new: null },
    ]);
    expect([deleted.tag, deleted.sha, deleted.before, deleted.deleted]).to.deep.equal([
      "v1.0.0",
      undefined,
      SHA_A,
      true,
    ]);
  });

  it("normaliseBitbucket makes each further change an event of its own, with id <id>#<n> and no changed files", () => {
    const event = push([
      { new: { type: "branch", name: "main", target: { hash: SHA_A } } },
      { new: { type: "tag", name: "v1", target: { hash: SHA_B } } },
    ]);
    expect(
      event.otherChanges?.map((other) => [other.deliveryId, other.tag, other.sha, other.changedFiles]),
    ).to.deep.equal([["d#2", "v1", SHA_B, []]]);
  });

  it("normaliseBitbucket reads a push change with neither new nor old as no ref, not deleted", () => {
    const event = push([{ created: false }]);
    expect([event.ref, event.branch, event.sha, event.before, event.deleted]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
      false,
    ]);
  });

  it("normaliseBitbucket marks a change deleted when new is null, and when closed is true though new is set", () => {
    const gone = push([
      { new: null, old: { type: "branch", name: "x", target: { hash: SHA_B } }, closed: false },
    ]);
    expect([gone.deleted, gone.branch, gone.sha, gone.before]).to.deep.equal([true, "x", undefined, SHA_B]);
    const closed = push([{ new: { type: "branch", name: "x", target: { hash: SHA_A } }, closed: true }]);
    expect([closed.deleted, closed.sha]).to.deep.equal([true, undefined]);
    const open = push([{ new: { type: "branch", name: "x", target: { hash: SHA_A } }, closed: false }]);
    expect([open.deleted, open.sha]).to.deep.equal([false, SHA_A]);
  });

  it("normaliseBitbucket gives a change whose new ref has no target no sha", () => {
    const event = push([{ new: { type: "branch", name: "x" } }]);
    expect([event.branch, event.sha, event.deleted]).to.deep.equal(["x", undefined, false]);
  });

  it("normaliseBitbucket reads a repo:push without a push object as a push of no ref", () => {
    const event = normaliseBitbucket("repo:push", { repository }, "d");
    expect([event.event, event.ref, event.otherChanges]).to.deep.equal(["push", undefined, undefined]);
  });

  it("normaliseBitbucket accepts an event other than a push or pull request without a repository", () => {
    const event = normaliseBitbucket("repo:fork", {}, "d");
    expect([event.event, event.repo.fullName]).to.deep.equal(["repo:fork", ""]);
  });

  it("normaliseBitbucket refuses a pull request event without a pullrequest object, naming the key", () => {
    expect(() => normaliseBitbucket("pullrequest:created", { repository }, "d"))
      .to.throw(RequestError)
      .with.property("message", "the Bitbucket Cloud pullrequest:created payload has no pullrequest object");
  });

  it("normaliseBitbucket reads a pull request without state, source or destination as empty refs, no branch, no sha", () => {
    const event = normaliseBitbucket("pullrequest:created", { repository, pullrequest: { id: 9 } }, "d");
    expect(event.pr).to.deep.equal({
      number: 9,
      merged: false,
      state: undefined,
      headRef: "",
      baseRef: "",
      headSha: "",
      headRepoFullName: undefined,
    });
    expect([event.branch, event.sha]).to.deep.equal([undefined, undefined]);
  });

  it("normaliseBitbucket takes the actor's username when it has no nickname", () => {
    const event = normaliseBitbucket(
      "repo:push",
      { repository, actor: { username: "olddev" }, push: { changes: [] } },
      "d",
    );
    expect(event.actor).to.equal("olddev");
  });

  it("normaliseBitbucket reads a closing key's pull request state in any case: fulfilled about merged is accepted", () => {
    const event = normaliseBitbucket(
      "pullrequest:fulfilled",
      { repository, pullrequest: { id: 1, state: "merged" } },
      "d",
    );
    expect([event.pr?.merged, event.pr?.state]).to.deep.equal([true, "merged"]);
  });

  const merged: Array<[string, string | undefined, boolean]> = [
    ["pullrequest:fulfilled", undefined, true],
    ["pullrequest:updated", "MERGED", true],
    ["pullrequest:rejected", "DECLINED", false],
    ["pullrequest:updated", "OPEN", false],
  ];
  for (const [key, state, expected] of merged) {
    it(`normaliseBitbucket reads ${key} with state ${state} as merged: ${expected}`, () => {
      const event = normaliseBitbucket(key, { repository, pullrequest: { id: 1, state } }, "d");
      expect([event.pr?.merged, event.pr?.state]).to.deep.equal([expected, state?.toLowerCase()]);
    });
  }
});
