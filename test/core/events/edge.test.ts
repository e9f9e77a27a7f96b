import examples from "@octokit/webhooks-examples";
import { expect } from "chai";
import fc from "fast-check";
import { RequestError } from "../../../src/core/errors";
import { normaliseDelivery } from "../../../src/core/events/normalise";
import { PROVIDERS, type Provider, type WebhookEvent } from "../../../src/core/types";
import { bagOf, loadPayload, PAYLOAD_FIXTURES, type PayloadFixtureName } from "../../fixtures/payloads";
import { runs } from "../../support/propertyRuns";
import { replaceAt } from "../../support/replaceAt";

const EVENT_HEADER: Record<Provider, string> = {
  github: "X-GitHub-Event",
  gitlab: "X-Gitlab-Event",
  bitbucket: "X-Event-Key",
  "bitbucket-server": "X-Event-Key",
  gitea: "X-Gitea-Event",
};

function normalise(
  provider: Provider,
  event: string,
  payload: unknown,
  extra: Record<string, string> = {},
): WebhookEvent {
  const body = Buffer.from(JSON.stringify(payload) ?? "");
  return normaliseDelivery(provider, bagOf({ [EVENT_HEADER[provider]]: event, ...extra }), payload, body);
}

function fixture(name: PayloadFixtureName): Record<string, unknown> {
  return loadPayload(name).payload as Record<string, unknown>;
}

function rejects400(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(RequestError);
    expect((error as RequestError).statusCode).to.equal(400);
    expect((error as RequestError).message).to.match(message);
    return;
  }
  expect.fail("expected RequestError(400)");
}

describe("Function: normaliseDelivery (edge cases)", () => {
  describe("pushes", () => {
    it("normaliseDelivery marks a GitLab push whose after is all zeros as a deleted branch, without a sha", () => {
      const payload = {
        ...fixture("gitlab/push"),
        after: "0000000000000000000000000000000000000000",
        checkout_sha: null,
        commits: [],
      };
      const event = normalise("gitlab", "Push Hook", payload);
      expect([event.deleted, event.branch, event.sha]).to.deep.equal([true, "master", undefined]);
    });

    it("normaliseDelivery marks a Bitbucket Cloud change with new: null as a deleted branch", () => {
      const payload = fixture("bitbucket/repo-push");
      const change = (payload.push as { changes: Array<Record<string, unknown>> }).changes[0] as Record<
        string,
        unknown
      >;
      const deleted = { ...payload, push: { changes: [{ ...change, new: null, closed: true }] } };
      const event = normalise("bitbucket", "repo:push", deleted);
      expect([event.deleted, event.branch, event.ref, event.sha]).to.deep.equal([
        true,
        "main",
        "refs/heads/main",
        undefined,
      ]);
      expect(event.before).to.equal("9fceb02d0ae598e95dc970b74767f19372d61af8");
    });

    it("normaliseDelivery uses the first of several Bitbucket Cloud ref changes", () => {
      const payload = fixture("bitbucket/repo-push");
      const change = (payload.push as { changes: Array<Record<string, unknown>> }).changes[0] as Record<
        string,
        unknown
      >;
      const tag = {
        ...change,
        old: null,
        new: { type: "tag", name: "v2.0.0", target: { hash: "aaaa1111bbbb2222cccc3333dddd4444eeee5555" } },
      };
      const event = normalise("bitbucket", "repo:push", { ...payload, push: { changes: [tag, change] } });
      expect([event.tag, event.branch, event.ref, event.sha]).to.deep.equal([
        "v2.0.0",
        undefined,
        "refs/tags/v2.0.0",
        "aaaa1111bbbb2222cccc3333dddd4444eeee5555",
      ]);
    });

    it("normaliseDelivery gives a Bitbucket Cloud push with no changes no ref", () => {
      const event = normalise("bitbucket", "repo:push", {
        ...fixture("bitbucket/repo-push"),
        push: { changes: [] },
      });
      expect([event.event, event.ref, event.deleted]).to.deep.equal(["push", undefined, false]);
    });

    it("normaliseDelivery marks a Bitbucket Data Center DELETE change as deleted", () => {
      const payload = {
        ...fixture("bitbucket-server/repo-refs_changed"),
        changes: [
          {
            ref: { id: "refs/tags/v1.2.0", displayId: "v1.2.0", type: "TAG" },
            refId: "refs/tags/v1.2.0",
            fromHash: "5f9d3c0e2b4a69788d1e0f2a3b4c5d6e7f809112",
            toHash: "0000000000000000000000000000000000000000",
            type: "DELETE",
          },
        ],
      };
      const event = normalise("bitbucket-server", "repo:refs_changed", payload);
      expect([event.deleted, event.tag, event.sha]).to.deep.equal([true, "v1.2.0", undefined]);
    });

    // An annotated tag's ref points at the tag object, and a push reports the ref's new value: each host's
    // payload, and the commit it names besides (if any). TAG_OBJECT is never a commit.
    const TAG_OBJECT = "1111111111111111111111111111111111111111";
    const annotatedTagPushes: Array<[string, Provider, string, Record<string, unknown>, string]> = [
      // GitHub: `after` is the tag object; head_commit is the commit.
      [
        "GitHub (head_commit)",
        "github",
        "push",
        { ...fixture("github/push-tag"), after: TAG_OBJECT },
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      ],
      // Gitea: After is the pushed NewCommitID, HeadCommit the commit GetCommit peels it to
      // (services/repository/push.go, modules/notification/webhook NotifyPushCommits).
      [
        "Gitea (head_commit)",
        "gitea",
        "push",
        {
          ...fixture("gitea/push"),
          ref: "refs/tags/v1.0.0",
          before: "0000000000000000000000000000000000000000",
          after: TAG_OBJECT,
          commits: [],
        },
        "bffeb74224043ba2feb48d137756c8a9331c449a",
      ],
      // GitLab: checkout_sha is the commit, `after` the tag object.
      [
        "GitLab (checkout_sha)",
        "gitlab",
        "Tag Push Hook",
        { ...fixture("gitlab/tag_push"), after: TAG_OBJECT },
        "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
      ],
      // Bitbucket Data Center: the change's toHash, the tag object for an annotated tag (the shape of
      // stackoverflow.com/q/68958479, git tag -a 0.1.0). The payload names no commit, so sha stays toHash.
      [
        "Bitbucket Data Center (toHash as sent: no commit in the payload)",
        "bitbucket-server",
        "repo:refs_changed",
        {
          ...fixture("bitbucket-server/repo-refs_changed"),
          changes: [
            {
              ref: { id: "refs/tags/0.1.0", displayId: "0.1.0", type: "TAG" },
              refId: "refs/tags/0.1.0",
              fromHash: "0000000000000000000000000000000000000000",
              toHash: "b82dd854c413d8e09aaf68c3c286f11ec6780be6",
              type: "ADD",
            },
          ],
        },
        "b82dd854c413d8e09aaf68c3c286f11ec6780be6",
      ],
    ];
    for (const [host, provider, header, payload, sha] of annotatedTagPushes) {
      it(`normaliseDelivery gives an annotated tag push its sha from ${host}`, () => {
        const event = normalise(provider, header, payload);
        expect([event.event, event.tag === undefined, event.deleted, event.sha]).to.deep.equal([
          "push",
          false,
          false,
          sha,
        ]);
      });
    }

    it("normaliseDelivery lists the changed files of every commit in commit order, repeats included", () => {
      const commits = [
        { added: ["a.ts"], modified: ["b.ts"], removed: [] },
        { added: [], modified: ["a.ts", "c.ts"], removed: ["b.ts"] },
        "not a commit",
        { added: "not a list", modified: [42, "d.ts"] },
      ];
      const event = normalise("github", "push", { ...fixture("github/push"), commits });
      expect(event.changedFiles).to.deep.equal(["a.ts", "b.ts", "a.ts", "c.ts", "b.ts", "d.ts"]);
    });

    it("normaliseDelivery maps a GitLab system hook push like a project push", () => {
      const payload = { ...fixture("gitlab/push"), event_name: "push" };
      const event = normalise("gitlab", "System Hook", payload);
      expect([event.event, event.branch]).to.deep.equal(["push", "master"]);
    });

    it("normaliseDelivery names other GitLab system hook events by their event_name", () => {
      const event = normalise("gitlab", "System Hook", { event_name: "project_create", name: "StoreCloud" });
      expect(event.event).to.equal("project_create");
    });

    it("normaliseDelivery reads the repository of a GitLab project system hook from its top-level path", () => {
      // GitLab's documented project_create system hook: no project object.
      const event = normalise("gitlab", "System Hook", {
        created_at: "2012-07-21T07:30:54Z",
        event_name: "project_create",
        name: "StoreCloud",
        owner_email: "johnsmith@example.com",
        owner_name: "John Smith",
        path: "storecloud",
        path_with_namespace: "jsmith/storecloud",
        project_id: 74,
        project_visibility: "private",
      });
      expect([event.event, event.repo.fullName, event.repo.owner, event.repo.name]).to.deep.equal([
        "project_create",
        "jsmith/storecloud",
        "jsmith",
        "storecloud",
      ]);
    });
  });

  describe("GitHub merge_group", () => {
    it("normaliseDelivery gives a GitHub merge_group its base branch, the queue's ref and the head sha to build (octokit's example)", () => {
      const payload = (examples as Array<{ name: string; examples: unknown[] }>).find(
        (e) => e.name === "merge_group",
      )?.examples[0];
      const event = normalise("github", "merge_group", payload);
      expect([event.event, event.action, event.branch, event.ref, event.sha, event.before]).to.deep.equal([
        "merge_group",
        "checks_requested",
        "main",
        "refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64",
        "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
        "380387fbc80638b734a49e1be1c4dfec1c01b33c",
      ]);
    });
  });

  describe("GitHub and Gitea create and delete", () => {
    it("normaliseDelivery turns a GitHub delete of a branch into branch + deleted", () => {
      const payload = { ref: "feature/x", ref_type: "branch", repository: fixture("github/push").repository };
      const event = normalise("github", "delete", payload);
      expect([event.ref, event.branch, event.deleted]).to.deep.equal([
        "refs/heads/feature/x",
        "feature/x",
        true,
      ]);
    });

    it("normaliseDelivery turns a GitHub create of a tag into a tag", () => {
      const payload = { ref: "v3.1.0", ref_type: "tag", repository: fixture("github/push").repository };
      const event = normalise("github", "create", payload);
      expect([event.ref, event.tag, event.deleted]).to.deep.equal(["refs/tags/v3.1.0", "v3.1.0", false]);
    });

    // Gitea's CreatePayload names the new ref's id as sha (CreateRef in go-gitea services/webhook/notifier.go);
    // GitHub's create payload and Gogs' (CreatePayload in gogs/go-gogs-client) have none.
    const SHA = "9c65fc6e0a3a7487ad70a3711c8c478aa6e94c69";
    const createCases: Array<[string, Provider, string, Record<string, unknown>, string | undefined]> = [
      [
        "a Gitea create of a tag has the payload's sha",
        "gitea",
        "create",
        { ref_type: "tag", sha: SHA },
        SHA,
      ],
      [
        "a Gitea create of a branch has the payload's sha",
        "gitea",
        "create",
        { ref_type: "branch", sha: SHA },
        SHA,
      ],
      ["a Gogs create (no sha in its payload) has no sha", "gitea", "create", { ref_type: "tag" }, undefined],
      [
        "a Gitea create whose sha is all zeros has no sha",
        "gitea",
        "create",
        { ref_type: "tag", sha: "0".repeat(40) },
        undefined,
      ],
      // A delete payload names no sha (a create's body sent as delete is refused: eventHeaderMismatch.test.ts).
      ["a Gitea delete has no sha", "gitea", "delete", { ref_type: "tag", pusher_type: "user" }, undefined],
      [
        "a GitHub create has no sha, even given one",
        "github",
        "create",
        { ref_type: "tag", sha: SHA },
        undefined,
      ],
    ];
    for (const [what, provider, event, fields, sha] of createCases) {
      it(`normaliseDelivery: ${what}`, () => {
        const payload = { ref: "v1.2.0", ...fields, repository: fixture("gitea/push").repository };
        const normalised = normalise(provider, event, payload);
        expect(normalised.sha).to.equal(sha);
        expect(normalised.tag ?? normalised.branch).to.equal("v1.2.0");
      });
    }
  });

  describe("pull requests", () => {
    it("normaliseDelivery maps a GitLab update with oldrev (new commits) to synchronize", () => {
      const payload = fixture("gitlab/merge_request-open");
      const attributes = {
        ...(payload.object_attributes as object),
        action: "update",
        oldrev: "95790bf891e76fee5e1747ab589903a6a1f80f22",
      };
      expect(
        normalise("gitlab", "Merge Request Hook", { ...payload, object_attributes: attributes }).action,
      ).to.equal("synchronize");
    });

    it("normaliseDelivery maps a GitLab update without oldrev (an edit) to edited", () => {
      const payload = fixture("gitlab/merge_request-open");
      const attributes = { ...(payload.object_attributes as object), action: "update" };
      expect(
        normalise("gitlab", "Merge Request Hook", { ...payload, object_attributes: attributes }).action,
      ).to.equal("edited");
    });

    const issueActions = [
      ["open", "opened"],
      ["close", "closed"],
      ["reopen", "reopened"],
      ["update", "edited"],
      ["unknown", "unknown"],
    ] as const;
    for (const [gitlab, github] of issueActions) {
      it(`normaliseDelivery maps a GitLab issue's ${gitlab} to issues ${github}, as GitHub names it`, () => {
        const payload = {
          object_kind: "issue",
          project: { path_with_namespace: "acme/api" },
          object_attributes: { iid: 3, action: gitlab },
        };
        const event = normalise("gitlab", "Issue Hook", payload);
        expect([event.event, event.action]).to.deep.equal(["issues", github]);
        expect(normalise("gitlab", "Confidential Issue Hook", payload).action).to.equal(github);
      });
    }

    it('normaliseDelivery reads "constructor" as an action or event key like any other name, never as an inherited entry of a table', () => {
      const issue = {
        object_kind: "issue",
        project: { path_with_namespace: "acme/api" },
        object_attributes: { iid: 3, action: "constructor" },
      };
      expect(normalise("gitlab", "Issue Hook", issue).action).to.equal("constructor");
      const mr = fixture("gitlab/merge_request-open");
      const attributes = { ...(mr.object_attributes as object), action: "toString" };
      expect(
        normalise("gitlab", "Merge Request Hook", { ...mr, object_attributes: attributes }).action,
      ).to.equal("toString");
      const cloud = normalise("bitbucket", "constructor", { repository: { full_name: "team/repo" } });
      expect([cloud.event, cloud.action]).to.deep.equal(["constructor", undefined]);
      const dataCenter = normalise("bitbucket-server", "constructor", {});
      expect([dataCenter.event, dataCenter.action]).to.deep.equal(["constructor", undefined]);
    });

    it('normaliseDelivery reads a GitLab X-Gitlab-Event or system hook event_name "constructor" as a name, never as an inherited entry of a table', () => {
      const project = { project: { path_with_namespace: "acme/api" } };
      for (const header of ["constructor", "toString"]) {
        expect(normalise("gitlab", header, project).event).to.equal(header.toLowerCase());
      }
      const system = normalise("gitlab", "System Hook", { ...project, event_name: "constructor" });
      expect(system.event).to.equal("constructor");
    });

    it("normaliseDelivery maps GitLab reopen to reopened", () => {
      const payload = fixture("gitlab/merge_request-open");
      const attributes = { ...(payload.object_attributes as object), action: "reopen" };
      expect(
        normalise("gitlab", "Merge Request Hook", { ...payload, object_attributes: attributes }).action,
      ).to.equal("reopened");
    });

    const bitbucketKeys: Array<[string, string]> = [
      ["pullrequest:created", "opened"],
      ["pullrequest:updated", "synchronize"],
    ];
    for (const [key, action] of bitbucketKeys) {
      it(`normaliseDelivery maps Bitbucket Cloud ${key} to pull_request ${action}`, () => {
        const event = normalise("bitbucket", key, fixture("bitbucket/pullrequest-rejected"));
        expect([event.event, event.action]).to.deep.equal(["pull_request", action]);
      });
    }

    const dataCenterKeys: Array<[string, string, boolean]> = [
      ["pr:opened", "opened", false],
      ["pr:from_ref_updated", "synchronize", false],
      ["pr:declined", "closed", false],
    ];
    for (const [key, action, merged] of dataCenterKeys) {
      it(`normaliseDelivery maps Bitbucket Data Center ${key} to pull_request ${action}`, () => {
        const payload = fixture("bitbucket-server/pr-merged");
        const pr = { ...(payload.pullRequest as object), state: "DECLINED" };
        const event = normalise("bitbucket-server", key, { ...payload, eventKey: key, pullRequest: pr });
        expect([event.event, event.action, event.pr?.merged]).to.deep.equal(["pull_request", action, merged]);
      });
    }

    it("normaliseDelivery closes an open Bitbucket Data Center pull request that is deleted, but a declined one only gets action deleted (its close ran when it was declined)", () => {
      const payload = fixture("bitbucket-server/pr-merged");
      const deleted = (state: string) =>
        normalise("bitbucket-server", "pr:deleted", {
          ...payload,
          eventKey: "pr:deleted",
          pullRequest: { ...(payload.pullRequest as object), state },
        });
      expect([deleted("OPEN").action, deleted("OPEN").pr?.merged]).to.deep.equal(["closed", false]);
      expect([deleted("DECLINED").event, deleted("DECLINED").action]).to.deep.equal([
        "pull_request",
        "deleted",
      ]);
    });

    it("normaliseDelivery gives a Bitbucket Data Center pr:deleted the state deleted, whatever state the PR had", () => {
      const payload = fixture("bitbucket-server/pr-merged");
      const pr = { ...(payload.pullRequest as object), state: "OPEN" };
      const event = normalise("bitbucket-server", "pr:deleted", {
        ...payload,
        eventKey: "pr:deleted",
        pullRequest: pr,
      });
      expect([event.action, event.pr?.state, event.pr?.merged]).to.deep.equal(["closed", "deleted", false]);
    });

    it("normaliseDelivery names a Gitea pull request's head branch by its label when Gitea gives refs/pull/<n>/head (GitHub's ref is kept)", () => {
      const payload = fixture("gitea/pull_request-closed-merged");
      const pr = payload.pull_request as Record<string, unknown>;
      const gone = {
        ...payload,
        pull_request: {
          ...pr,
          head: { ...(pr.head as object), ref: "refs/pull/12/head", label: "vpc-flow-logs" },
        },
      };
      expect(normalise("gitea", "pull_request", gone).pr?.headRef).to.equal("vpc-flow-logs");
      expect(normalise("github", "pull_request", gone).pr?.headRef).to.equal("refs/pull/12/head");
    });

    it("normaliseDelivery maps a Gitea release's updated to edited, as GitHub names it (and keeps published)", () => {
      const payload = {
        action: "updated",
        release: { tag_name: "v1.0.0" },
        repository: fixture("gitea/push").repository,
      };
      expect(normalise("gitea", "release", payload).action).to.equal("edited");
      expect(normalise("gitea", "release", { ...payload, action: "published" }).action).to.equal("published");
      expect(
        normalise("gitea", "pull_request", {
          ...fixture("gitea/pull_request-closed-merged"),
          action: "updated",
        }).action,
      ).to.equal("updated");
    });

    it("normaliseDelivery maps Gitea's synchronized to synchronize", () => {
      const payload = { ...fixture("gitea/pull_request-closed-merged"), action: "synchronized" };
      expect(normalise("gitea", "pull_request", payload).action).to.equal("synchronize");
    });

    // Gogs (provider gitea) names head_branch, head_repo, base_branch and base_repo, with no head/base objects
    // and no head commit (APIFormat in gogs/gogs internal/database/pull.go).
    const gogsPull = (fields: Record<string, unknown>) => {
      const payload = fixture("gogs/pull_request-closed-merged");
      const pr = payload.pull_request as Record<string, unknown>;
      const { head_branch: _h, head_repo: _hr, base_branch: _b, base_repo: _br, ...rest } = pr;
      return { ...payload, pull_request: { ...rest, ...fields } };
    };
    const gogsCases: Array<[string, Provider, Record<string, unknown>, Record<string, unknown>]> = [
      [
        "a Gogs pull request's base branch, head branch and head repository from base_branch, head_branch and head_repo",
        "gitea",
        gogsPull({ base_branch: "master", head_branch: "feature", head_repo: { full_name: "jane/try-git" } }),
        { branch: "master", baseRef: "master", headRef: "feature", headRepo: "jane/try-git", headSha: "" },
      ],
      [
        "a Gogs pull request whose head repository was deleted (head_repo named 'deleted') with no head repository",
        "gitea",
        gogsPull({ base_branch: "master", head_branch: "feature", head_repo: { name: "deleted" } }),
        { branch: "master", baseRef: "master", headRef: "feature", headRepo: undefined, headSha: "" },
      ],
      [
        "a Gitea pull request by its head and base objects even when it also carries Gogs' fields",
        "gitea",
        {
          ...fixture("gitea/pull_request-closed-merged"),
          pull_request: {
            ...(fixture("gitea/pull_request-closed-merged").pull_request as object),
            base_branch: "other",
            head_branch: "other",
          },
        },
        {
          branch: "main",
          baseRef: "main",
          headRef: "vpc-flow-logs",
          headRepo: "jane/terraform-modules",
          headSha: "bffeb74224043ba2feb48d137756c8a9331c449a",
        },
      ],
      [
        "a Gitea pull request with a base object but no head object by its base object, not Gogs' fields (Gogs has neither)",
        "gitea",
        (() => {
          const payload = fixture("gitea/pull_request-closed-merged");
          const { head: _head, ...pr } = payload.pull_request as Record<string, unknown>;
          return { ...payload, pull_request: { ...pr, base_branch: "other", head_branch: "other" } };
        })(),
        { branch: "main", baseRef: "main", headRef: "", headRepo: undefined, headSha: "" },
      ],
      [
        "a GitHub pull request without head and base objects with no branch (Gogs' fields are read for gitea only)",
        "github",
        gogsPull({ base_branch: "master", head_branch: "feature", head_repo: { full_name: "jane/try-git" } }),
        { branch: undefined, baseRef: "", headRef: "", headRepo: undefined, headSha: "" },
      ],
    ];
    for (const [what, provider, payload, expected] of gogsCases) {
      it(`normaliseDelivery reads ${what}`, () => {
        const event = normalise(provider, "pull_request", payload);
        expect({
          branch: event.branch,
          baseRef: event.pr?.baseRef,
          headRef: event.pr?.headRef,
          headRepo: event.pr?.headRepoFullName,
          headSha: event.pr?.headSha,
        }).to.deep.equal(expected);
        expect(event.sha).to.equal(expected.headSha || undefined);
      });
    }

    it("normaliseDelivery leaves headRepoFullName undefined when the fork was deleted (head.repo null)", () => {
      const payload = fixture("github/pull_request-closed");
      const pr = payload.pull_request as Record<string, unknown>;
      const event = normalise("github", "pull_request", {
        ...payload,
        pull_request: { ...pr, head: { ...(pr.head as object), repo: null } },
      });
      expect(event.pr?.headRepoFullName).to.equal(undefined);
    });
  });

  describe("unknown events", () => {
    // A fixture's body given the header's kind where the body names its own (GitLab's object_kind, Data Center's
    // eventKey): the header must agree with it.
    const cases: Array<[Provider, string, PayloadFixtureName, string, Record<string, unknown>]> = [
      ["github", "issues", "github/pull_request-closed", "issues", {}],
      ["gitlab", "Pipeline Hook", "gitlab/push", "pipeline", { object_kind: "pipeline" }],
      ["gitlab", "Issue Hook", "gitlab/push", "issues", { object_kind: "issue" }],
      ["bitbucket", "repo:fork", "bitbucket/repo-push", "repo:fork", {}],
      [
        "bitbucket-server",
        "pr:comment:added",
        "bitbucket-server/pr-merged",
        "pr:comment:added",
        { eventKey: "pr:comment:added" },
      ],
      ["gitea", "issue_comment", "gitea/push", "issue_comment", {}],
    ];
    for (const [provider, raw, name, event, kind] of cases) {
      it(`normaliseDelivery keeps the ${provider} event "${raw}" as "${event}" with its repository`, () => {
        const result = normalise(provider, raw, { ...fixture(name), ...kind });
        expect(result.event).to.equal(event);
        expect(result.repo.fullName).to.not.equal("");
      });
    }

    it("normaliseDelivery accepts an unknown GitHub event without a repository", () => {
      const event = normalise("github", "installation", { action: "created", sender: { login: "octocat" } });
      expect([event.event, event.repo.fullName, event.actor]).to.deep.equal(["installation", "", "octocat"]);
    });
  });

  describe("malformed payloads", () => {
    for (const provider of PROVIDERS) {
      for (const payload of [null, [], "push", 42, true]) {
        it(`normaliseDelivery rejects a ${provider} payload that is ${JSON.stringify(payload)} with 400`, () => {
          rejects400(() => normalise(provider, "push", payload), /not a JSON object/);
        });
      }
    }

    const noRepository: Array<[Provider, string, PayloadFixtureName, string]> = [
      ["github", "push", "github/push", "repository"],
      ["github", "pull_request", "github/pull_request-closed", "repository"],
      ["gitea", "push", "gitea/push", "repository"],
      ["gitlab", "Push Hook", "gitlab/push", "project"],
      ["gitlab", "Merge Request Hook", "gitlab/merge_request-open", "project"],
      ["bitbucket", "repo:push", "bitbucket/repo-push", "repository"],
      ["bitbucket", "pullrequest:fulfilled", "bitbucket/pullrequest-fulfilled", "repository"],
      ["bitbucket-server", "repo:refs_changed", "bitbucket-server/repo-refs_changed", "repository"],
    ];
    for (const [provider, event, name, key] of noRepository) {
      it(`normaliseDelivery rejects a ${provider} ${event} without its ${key} with 400`, () => {
        const { [key]: _removed, ...payload } = fixture(name);
        if (provider === "gitlab" && event === "Merge Request Hook") {
          const attributes = { ...(payload.object_attributes as object), target: undefined };
          rejects400(
            () => normalise(provider, event, { ...payload, object_attributes: attributes }),
            /project/,
          );
        } else {
          rejects400(() => normalise(provider, event, payload), /repository|project/);
        }
      });
    }

    it("normaliseDelivery rejects a repository without a name with 400", () => {
      rejects400(
        () => normalise("github", "push", { ref: "refs/heads/main", repository: { id: 1 } }),
        /repository/,
      );
    });

    it("normaliseDelivery rejects a GitHub pull_request without pull_request with 400", () => {
      const { pull_request: _pr, ...payload } = fixture("github/pull_request-closed");
      rejects400(() => normalise("github", "pull_request", payload), /pull_request object/);
    });

    it("normaliseDelivery rejects a Bitbucket Data Center pr:merged without pullRequest with 400", () => {
      rejects400(() => normalise("bitbucket-server", "pr:merged", { eventKey: "pr:merged" }), /pullRequest/);
    });

    it("normaliseDelivery rejects a GitHub delivery without X-GitHub-Event with 400", () => {
      const fixturePayload = loadPayload("github/push");
      rejects400(
        () => normaliseDelivery("github", bagOf({}), fixturePayload.payload, fixturePayload.body),
        /x-github-event/,
      );
    });
  });

  describe("properties", () => {
    const eventNames: Record<Provider, string[]> = {
      github: [
        "push",
        "pull_request",
        "create",
        "delete",
        "release",
        "ping",
        "issues",
        "pull_request_review",
      ],
      gitea: ["push", "pull_request", "create", "delete", "release"],
      gitlab: ["Push Hook", "Tag Push Hook", "Merge Request Hook", "System Hook", "Pipeline Hook"],
      bitbucket: [
        "repo:push",
        "pullrequest:created",
        "pullrequest:fulfilled",
        "pullrequest:rejected",
        "repo:fork",
      ],
      "bitbucket-server": [
        "repo:refs_changed",
        "pr:merged",
        "pr:declined",
        "pr:comment:added",
        "diagnostics:ping",
      ],
    };
    const delivery = fc
      .constantFrom(...PROVIDERS)
      .chain((provider) =>
        fc.record({ provider: fc.constant(provider), event: fc.constantFrom(...eventNames[provider]) }),
      );

    function onlyRequestErrors(provider: Provider, event: string, payload: unknown): void {
      try {
        normalise(provider, event, payload);
      } catch (error) {
        if (!(error instanceof RequestError) || error.statusCode !== 400) throw error;
      }
    }

    it("normaliseDelivery never throws anything but RequestError(400) for arbitrary JSON values", () => {
      fc.assert(
        fc.property(delivery, fc.jsonValue(), ({ provider, event }, payload) =>
          onlyRequestErrors(provider, event, payload),
        ),
        { numRuns: runs(300) },
      );
    });

    it("normaliseDelivery never throws anything but RequestError(400) when a fixture's field is replaced", () => {
      const names = Object.keys(PAYLOAD_FIXTURES) as PayloadFixtureName[];
      fc.assert(
        fc.property(
          fc.constantFrom(...names),
          fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
          fc.jsonValue(),
          (name, path, value) => {
            const { provider, headers, payload } = loadPayload(name);
            replaceAt(payload, path, value);
            try {
              normaliseDelivery(provider, bagOf(headers), payload, Buffer.from("{}"));
            } catch (error) {
              if (!(error instanceof RequestError) || error.statusCode !== 400) throw error;
            }
          },
        ),
        { numRuns: runs(300) },
      );
    });
  });
});

describe("Function: normaliseDelivery (GitHub events no fixture covered)", () => {
  const repository = () => fixture("github/push").repository;

  it("normaliseDelivery gives a GitHub release the tag of its tag_name", () => {
    const event = normalise("github", "release", {
      action: "published",
      release: { tag_name: "v2.0.0" },
      repository: repository(),
    });
    expect([event.ref, event.tag, event.branch]).to.deep.equal(["refs/tags/v2.0.0", "v2.0.0", undefined]);
  });

  it("normaliseDelivery marks a GitHub push with deleted: true as deleted, whatever its after says", () => {
    const event = normalise("github", "push", {
      ref: "refs/heads/gone",
      after: "a".repeat(40),
      deleted: true,
      repository: repository(),
    });
    expect([event.deleted, event.sha]).to.deep.equal([true, undefined]);
  });

  it("normaliseDelivery takes a GitHub branch push's sha from after, not head_commit (only tags read head_commit)", () => {
    const event = normalise("github", "push", {
      ref: "refs/heads/main",
      after: "a".repeat(40),
      head_commit: { id: "b".repeat(40) },
      repository: repository(),
    });
    expect(event.sha).to.equal("a".repeat(40));
  });

  it("normaliseDelivery reads the pull request of a GitHub pull_request_review event", () => {
    const pr = fixture("github/pull_request-closed");
    const event = normalise("github", "pull_request_review", { ...pr, action: "submitted" });
    expect(event.pr?.number).to.equal((pr.pull_request as { number: number }).number);
  });
});
