// cleanUpPullRequest's rules that the end-to-end tests (prCleanup.test.ts) left unpinned: which events it
// acts on, whose head commit it trusts, what counts as a refusal, and how an S3 failure is classified.
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import { ActionError } from "../../src/core/errors";
import type { ObjectStore } from "../../src/core/ports";
import type { PrCleanupRequest, PrCleanupStep, Provider, QueuedEvent } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import {
  closedPrEvent,
  HOST_TOKEN,
  JENKINS_TOKEN,
  JENKINS_USER,
  mergedPull,
  noObjects,
  PR_HEAD_SHA,
  REOPENED_AT,
  rejectsWithActionError,
  testClients,
} from "./helpers";

const HEAD_SHA = PR_HEAD_SHA;
const NEWER_SHA = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff";

function closedEvent(
  overrides: Partial<NonNullable<QueuedEvent["pr"]>> = {},
  event = "pull_request",
  provider: Provider = "github",
): QueuedEvent {
  return closedPrEvent(overrides, { event, provider });
}

/** An object store whose prefix deletion answers `deleted` objects, or throws `error`. */
function objects(deleted: number | unknown): ObjectStore & { calls: string[] } {
  const calls: string[] = [];
  return {
    ...noObjects,
    calls,
    deletePrefix: async (bucket, prefix) => {
      calls.push(`${bucket}/${prefix}`);
      if (typeof deleted === "number") return deleted;
      throw deleted;
    },
  };
}

describe("Function: cleanUpPullRequest's rules (local Git host)", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  let jenkins: JenkinsServer;

  const request = (steps: PrCleanupStep[]): PrCleanupRequest => ({
    type: "pr-cleanup",
    api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
    context: "hookgate/pr-cleanup",
    steps,
  });
  const deleteBranch: PrCleanupStep = { kind: "delete-branch", onlyMerged: false };

  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
  });
  afterEach(async () => {
    await host.close();
    await jenkins.close();
  });

  for (const event of ["issues", "push", "merge_request"]) {
    it(`cleanUpPullRequest skips a closed ${event} event that carries a pull request, without calling the Git host`, async () => {
      const outcome = await cleanUpPullRequest(
        request([deleteBranch]),
        closedEvent({}, event),
        testClients(),
      );
      expect(outcome).to.deep.equal({ status: "skipped", detail: "skipped: not a pull request event" });
      expect(host.requests).to.deep.equal([]);
    });
  }

  const INVALID = "the pull request event has no valid head sha or number";
  const NO_HEAD_COMMIT =
    "the pull request event names no head commit: pr-cleanup needs it for its commit statuses and to delete only the commit the pull request was about";
  const NO_GOGS_HEAD_COMMIT =
    "the pull request event names no head commit (a Gogs pull request has none): pr-cleanup needs it for its commit statuses and to delete only the commit the pull request was about";
  const invalid: Array<[string, Partial<NonNullable<QueuedEvent["pr"]>>, Provider, string]> = [
    ["a head sha with a non-hex prefix", { headSha: `zz${HEAD_SHA}` }, "github", INVALID],
    ["a head sha with a non-hex suffix", { headSha: `${HEAD_SHA}zz` }, "github", INVALID],
    ["pull request number 0", { number: 0 }, "github", INVALID],
    ["a head sha of 65 hex digits", { headSha: "a".repeat(65) }, "github", INVALID],
    ["a head sha of 6 hex digits", { headSha: "abcdef" }, "github", INVALID],
    // Without a number the event is no usable pull request at all: the missing head commit is not the news.
    ["neither a head sha nor a number", { headSha: "", number: 0 }, "gitea", INVALID],
    [
      "no head sha on gitea (a Gogs pull request), saying why it needs one",
      { headSha: "" },
      "gitea",
      NO_GOGS_HEAD_COMMIT,
    ],
    // Only Gogs (served as gitea) sends a pull request without one: another host's is not called Gogs'.
    ["no head sha on github, naming no Gogs", { headSha: "" }, "github", NO_HEAD_COMMIT],
    ["no head sha on gitlab, naming no Gogs", { headSha: "" }, "gitlab", NO_HEAD_COMMIT],
    ["no head sha on bitbucket, naming no Gogs", { headSha: "" }, "bitbucket", NO_HEAD_COMMIT],
  ];
  for (const [what, pr, provider, message] of invalid) {
    it(`cleanUpPullRequest refuses an event with ${what} as final, without calling the Git host`, async () => {
      const err = await rejectsWithActionError(
        cleanUpPullRequest(request([deleteBranch]), closedEvent(pr, "pull_request", provider), testClients()),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(message);
      expect(host.requests).to.deep.equal([]);
    });
  }

  it("cleanUpPullRequest deletes a branch at the API's head commit when the event names an older one (the API's view wins)", async () => {
    host.setPull("acme/api", mergedPull({ headSha: NEWER_SHA }));
    const outcome = await cleanUpPullRequest(request([deleteBranch]), closedEvent(), testClients());
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });

  it("cleanUpPullRequest keeps a Gitea branch pushed to since the close, though Gitea's pull request answer names the branch's new commit as its head", async () => {
    // Gitea answers head.sha with the head branch's commit now, closed pull requests too: here the branch and
    // the API both say NEWER_SHA, while the close event names the commit the pull request ended at.
    host.setPull("acme/api", mergedPull({ headSha: NEWER_SHA }));
    const gitea: PrCleanupRequest = {
      type: "pr-cleanup",
      api: { provider: "gitea", apiUrl: `${host.url}/api/v1`, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [deleteBranch],
    };
    const event = closedEvent({ headSha: HEAD_SHA }, "pull_request", "gitea");
    const outcome = await cleanUpPullRequest(gitea, event, testClients());
    expect(host.deletedRefs).to.deep.equal([]);
    expect(outcome.detail).to.equal(
      `kept feature/login: it moved on since the pull request (now at ${NEWER_SHA.slice(0, 7)})`,
    );
  });

  it("cleanUpPullRequest says a branch was already gone when the deletion finds it gone (deleted since the lookup)", async () => {
    // GitHub's answer to a reference that is not there: 422, or 404 with the same message (below).
    host.script("delete-ref", { status: 422, body: JSON.stringify({ message: "Reference does not exist" }) });
    const outcome = await cleanUpPullRequest(request([deleteBranch]), closedEvent(), testClients());
    expect(outcome.detail).to.equal("branch feature/login was already gone");
  });

  it('cleanUpPullRequest says a branch was already gone when GitHub answers the deletion 404 "Reference does not exist" (its auto-delete of head branches got there first)', async () => {
    host.script("delete-ref", {
      status: 404,
      body: JSON.stringify({ message: "Reference does not exist", status: "404" }),
    });
    const outcome = await cleanUpPullRequest(request([deleteBranch]), closedEvent(), testClients());
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.equal("branch feature/login was already gone");
  });

  it("cleanUpPullRequest fails final when GitHub answers the deletion 404 (a token that may not write), never says the branch was gone", async () => {
    host.script("delete-ref", { status: 404, body: JSON.stringify({ message: "Not Found" }) });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([deleteBranch]), closedEvent(), testClients()),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain(
      "answered 404: Not Found; GitHub answers 404 to a token that may not see or write the repository",
    );
    expect(host.branches("acme/api")).to.include("feature/login");
  });

  it("cleanUpPullRequest fails final, setting failure, when neither the API nor the event names the head branch (a deleted pull request)", async () => {
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([deleteBranch]),
        closedEvent({ state: "deleted", headRef: "" }),
        testClients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal("the pull request has no head branch");
    expect(host.statuses.map((s) => s.state)).to.deep.equal(["pending", "failure"]);
  });

  it("cleanUpPullRequest sets no status at all once the host refused the first one for good, not even for a failing step", async () => {
    host.script("status", { status: 404, body: JSON.stringify({ message: "No commit found" }) });
    const clients = testClients({ objects: objects(new ActionError("S3 down", { retryable: true })) });
    await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-s3-prefix", bucket: "b", prefix: "pr-7/" }]),
        closedEvent(),
        clients,
      ),
    );
    expect(host.requests.filter((r) => r.kind === "status")).to.have.length(1);
  });

  it("cleanUpPullRequest with no steps is done, saying so in its outcome and its success status", async () => {
    const outcome = await cleanUpPullRequest(request([]), closedEvent(), testClients());
    expect(outcome).to.deep.equal({ status: "done", detail: "no steps" });
    expect(host.statuses.map((s) => [s.state, s.description])).to.deep.equal([
      ["pending", "Cleaning up after PR #7"],
      ["success", "no steps"],
    ]);
  });

  for (const [bucket, prefix] of [
    ["previews", "/"],
    ["", "pr-7/"],
    ["previews", ""],
  ]) {
    it(`cleanUpPullRequest refuses delete-s3-prefix of bucket ${JSON.stringify(bucket)} and prefix ${JSON.stringify(prefix)} as final, deleting nothing`, async () => {
      const store = objects(1);
      const err = await rejectsWithActionError(
        cleanUpPullRequest(
          request([{ kind: "delete-s3-prefix", bucket: bucket as string, prefix: prefix as string }]),
          closedEvent(),
          testClients({ objects: store }),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal("delete-s3-prefix needs a bucket and a non-empty prefix");
      expect(store.calls).to.deep.equal([]);
    });
  }

  for (const [count, said] of [
    [0, "deleted 0 objects"],
    [1, "deleted 1 object"],
    [2, "deleted 2 objects"],
  ] as const) {
    it(`cleanUpPullRequest says "${said}" for a prefix deletion of ${count}`, async () => {
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-s3-prefix", bucket: "previews", prefix: "pr-7/" }]),
        closedEvent(),
        testClients({ objects: objects(count) }),
      );
      expect(outcome.detail).to.equal(`${said} under s3://previews/pr-7/`);
    });
  }

  const s3Failures: Array<[string, unknown, boolean, string]> = [
    [
      "an S3 error no attempt gets past (AccessDenied)",
      Object.assign(new Error("Access Denied"), { name: "AccessDenied" }),
      false,
      "S3 refused the prefix deletion: AccessDenied: the function's role, the bucket's policy or its KMS key does not allow it; S3 said: \"Access Denied\"",
    ],
    [
      "another S3 error (SlowDown)",
      Object.assign(new Error("Slow Down"), { name: "SlowDown" }),
      true,
      "S3 prefix deletion failed: SlowDown",
    ],
    [
      "the store's own ActionError, kept as it is",
      new ActionError("the prefix deletion ran out of time", { retryable: true }),
      true,
      "the prefix deletion ran out of time",
    ],
  ];
  for (const [what, thrown, retryable, message] of s3Failures) {
    it(`cleanUpPullRequest classifies ${what} from the prefix deletion as ${retryable ? "retryable" : "final"}`, async () => {
      const err = await rejectsWithActionError(
        cleanUpPullRequest(
          request([{ kind: "delete-s3-prefix", bucket: "previews", prefix: "pr-7/" }]),
          closedEvent(),
          testClients({ objects: objects(thrown) }),
        ),
      );
      expect(err.retryable).to.equal(retryable);
      expect(err.message).to.equal(message);
    });
  }

  it("cleanUpPullRequest makes a pull request answer it cannot read (no head) a retryable failure, naming the step", async () => {
    host.script("pull", { status: 200, body: "{}" });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([deleteBranch]), closedEvent(), testClients()),
    );
    expect(err.retryable).to.equal(true);
    expect(err.message).to.equal("reading the pull request failed: TypeError");
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest logs each step with its delivery id, the teardown's Jenkins log line included", async () => {
    const clients = testClients();
    await cleanUpPullRequest(
      request([
        {
          kind: "jenkins",
          request: {
            type: "jenkins",
            jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
            job: ["previews", "teardown"],
            parameters: { PR: "7" },
          },
        },
      ]),
      closedEvent(),
      clients,
    );
    const logged = clients.logs.map((line) => [line.msg, line.deliveryId]);
    expect(logged).to.deep.equal([
      ["jenkins build queued", "delivery-pr-7"],
      ["pr-cleanup step done", "delivery-pr-7"],
    ]);
  });

  it("cleanUpPullRequest logs a failed step with its kind, whether it is retryable, and the error", async () => {
    const clients = testClients({ objects: objects(new ActionError("S3 down", { retryable: true })) });
    await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-s3-prefix", bucket: "b", prefix: "pr-7/" }]),
        closedEvent(),
        clients,
      ),
    );
    expect(clients.logs).to.deep.equal([
      {
        msg: "pr-cleanup step failed",
        step: "delete-s3-prefix",
        retryable: true,
        error: "S3 down",
        pr: 7,
        deliveryId: "delivery-pr-7",
      },
    ]);
  });

  it("cleanUpPullRequest logs a warning, with the host's refusal, when it runs without commit statuses", async () => {
    host.script("status", { status: 404, body: JSON.stringify({ message: "No commit found" }) });
    const clients = testClients();
    await cleanUpPullRequest(request([]), closedEvent(), clients);
    expect(clients.logs).to.have.length(1);
    expect(clients.logs[0]).to.deep.include({
      msg: "pr-cleanup runs without commit statuses",
      level: "warn",
      pr: 7,
      deliveryId: "delivery-pr-7",
    });
    expect(String(clients.logs[0]?.error)).to.contain("No commit found");
  });

  it("cleanUpPullRequest logs that it skipped a pull request open again", async () => {
    host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: REOPENED_AT }));
    const clients = testClients();
    await cleanUpPullRequest(request([deleteBranch]), closedEvent({ merged: false }), clients);
    expect(clients.logs).to.deep.equal([
      { msg: "pr-cleanup skipped: PR is open again", pr: 7, deliveryId: "delivery-pr-7" },
    ]);
  });

  it("cleanUpPullRequest logs a warning, with the reason, when only the final status fails", async () => {
    host.script(
      "status",
      { status: 201, body: "{}" },
      { status: 422, body: JSON.stringify({ message: "No more statuses" }) },
    );
    const clients = testClients();
    const outcome = await cleanUpPullRequest(request([]), closedEvent(), clients);
    expect(outcome.status).to.equal("done");
    expect(clients.logs).to.have.length(1);
    expect(clients.logs[0]).to.deep.include({
      msg: "pr-cleanup final status failed",
      level: "warn",
      pr: 7,
      deliveryId: "delivery-pr-7",
    });
    expect(String(clients.logs[0]?.error)).to.contain("No more statuses");
  });

  it("cleanUpPullRequest deletes the head branch the API names when the event names another (the API's view wins)", async () => {
    const outcome = await cleanUpPullRequest(
      request([deleteBranch]),
      closedEvent({ headRef: "stale/name" }),
      testClients(),
    );
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });

  it("cleanUpPullRequest keeps a branch when the host says open pull requests may target it but not how many (GitLab without x-total)", async () => {
    host.script("pulls", {
      status: 200,
      headers: { "content-type": "application/json", "x-next-page": "2" },
      body: "[]",
    });
    const outcome = await cleanUpPullRequest(
      {
        ...request([deleteBranch]),
        api: { provider: "gitlab", apiUrl: `${host.url}/api/v4`, token: "hookgate/github-token" },
      },
      { ...closedEvent(), provider: "gitlab" },
      testClients(),
    );
    expect(outcome.detail).to.equal(
      "kept feature/login: open pull requests may target it (not all of them were checked)",
    );
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest keeps a branch when the host says open pull requests may come from it but not how many (GitLab without x-total)", async () => {
    host.script(
      "pulls",
      { status: 200, headers: { "content-type": "application/json", "x-total": "0" }, body: "[]" },
      { status: 200, headers: { "content-type": "application/json", "x-next-page": "2" }, body: "[]" },
    );
    const outcome = await cleanUpPullRequest(
      {
        ...request([deleteBranch]),
        api: { provider: "gitlab", apiUrl: `${host.url}/api/v4`, token: "hookgate/github-token" },
      },
      { ...closedEvent(), provider: "gitlab" },
      testClients(),
    );
    expect(outcome.detail).to.equal(
      "kept feature/login: open pull requests may come from it (not all of them were checked)",
    );
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest says a repository moved, but not that it is now another, when only its name's case changed", async () => {
    host.moveRepo("acme/api", "Acme/API");
    const outcome = await cleanUpPullRequest(request([deleteBranch]), closedEvent(), testClients());
    expect(outcome.detail).to.match(/the repository was renamed or transferred/);
    expect(outcome.detail).to.not.contain("it is now");
  });
});
