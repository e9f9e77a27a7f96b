// pr-cleanup and a re-read of the pull request older than the event it cleans up after: each host's API may lag
// behind its webhooks (GitHub's right after a delivery, integrations/slack#496; GitLab's read replicas up to
// max_replication_lag_time, gitlab-org/gitlab!147323). Such an answer is retried, not acted on for good.
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest, PrCleanupStep, Provider, QueuedEvent } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import {
  closedPrEvent,
  HOST_TOKEN,
  mergedPull,
  PR_HEAD_SHA,
  REOPENED_AT,
  rejectsWithActionError,
  testClients,
} from "./helpers";

/** Each host, with its API's path: the fake host answers each one's update time in its own field and form. */
const HOSTS: Array<[Provider, string]> = [
  ["github", ""],
  ["gitea", "/api/v1"],
  ["gitlab", "/api/v4"],
  ["bitbucket", "/2.0"],
  ["bitbucket-server", "/rest/api/latest"],
];

describe("Function: cleanUpPullRequest with a re-read of the pull request older than the event", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
  });
  afterEach(async () => host.close());

  const deleteBranch: PrCleanupStep = { kind: "delete-branch", onlyMerged: true };
  const request = (provider: Provider, apiPath: string): PrCleanupRequest => ({
    type: "pr-cleanup",
    api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
    context: "hookgate/pr-cleanup",
    steps: [deleteBranch],
  });
  /** Closed without a merge (a merged pull request is never reopened), unless `event` says otherwise. */
  const closed = (provider: Provider = "github", overrides: Partial<NonNullable<QueuedEvent["pr"]>> = {}) =>
    closedPrEvent({ merged: false, ...overrides }, { provider });
  const run = (
    provider: Provider,
    apiPath: string,
    event: QueuedEvent = closed(provider),
    lastAttempt?: boolean,
  ) =>
    cleanUpPullRequest(
      request(provider, apiPath),
      event,
      testClients(lastAttempt === undefined ? {} : { lastAttempt }),
    );

  for (const [provider, apiPath] of HOSTS) {
    describe(`on ${provider}`, () => {
      it("cleanUpPullRequest retries a close whose re-read still shows the pull request open, last updated before the close, and deletes nothing", async () => {
        host.setPull(
          "acme/api",
          mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:00:00.000Z" }),
        );
        const err = await rejectsWithActionError(run(provider, apiPath));
        expect(err.retryable).to.equal(true);
        expect(err.message).to.contain("still shows PR #7 open");
        expect(host.deletedRefs).to.deep.equal([]);
        expect(host.statuses.at(-1)?.description).to.contain("will retry");
      });

      it("cleanUpPullRequest skips, for good, a pull request whose re-read shows it open and updated after the close (reopened)", async () => {
        host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: REOPENED_AT }));
        const outcome = await run(provider, apiPath);
        expect(outcome).to.deep.equal({ status: "skipped", detail: "skipped: PR #7 is open again" });
        expect(host.deletedRefs).to.deep.equal([]);
      });

      it("cleanUpPullRequest on the queue's last attempt skips a pull request whose re-read still shows it open, as no retry follows", async () => {
        host.setPull(
          "acme/api",
          mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:00:00.000Z" }),
        );
        const outcome = await run(provider, apiPath, closed(provider), true);
        expect(outcome.status).to.equal("skipped");
        expect(host.deletedRefs).to.deep.equal([]);
      });
    });
  }

  it("cleanUpPullRequest takes an open answer updated in the same second as the close as reopened, not retried: GitLab's hooks say whole seconds where its API says milliseconds", async () => {
    // The hook's "2026-12-06 01:59:00 UTC" is 01:59:00.000; the answer, a reopen in that second, .400. Retried, it
    // would hold the repository's other deliveries behind it for the queue's attempts.
    host.setPull(
      "acme/api",
      mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:59:00.400Z" }),
    );
    const outcome = await run("gitlab", "/api/v4");
    expect(outcome.status).to.equal("skipped");
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest retries an open answer updated in the second before the close's", async () => {
    host.setPull(
      "acme/api",
      mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:58:59.900Z" }),
    );
    const err = await rejectsWithActionError(run("gitlab", "/api/v4"));
    expect(err.retryable).to.equal(true);
  });

  it("cleanUpPullRequest retries an open answer when the event says no update time, and when the answer says none", async () => {
    host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: REOPENED_AT }));
    const noEventTime = closed("github", { updatedAt: undefined });
    expect((await rejectsWithActionError(run("github", "", noEventTime))).retryable).to.equal(true);
    host.setPull("acme/api", mergedPull({ state: "open", merged: false }));
    expect((await rejectsWithActionError(run("github", ""))).retryable).to.equal(true);
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest deletes the branch of a merged pull request whose re-read says merged, whatever its update time", async () => {
    host.setPull("acme/api", mergedPull({ updatedAt: "2026-12-06T01:00:00.000Z" }));
    const outcome = await run("github", "", closedPrEvent());
    expect(outcome).to.deep.equal({ status: "done", detail: "deleted branch feature/login" });
  });

  describe("an event that says merged, and a re-read not merged yet", () => {
    for (const [provider, apiPath] of HOSTS) {
      it(`cleanUpPullRequest on ${provider} retries a merge whose re-read says closed without merging, and on the last attempt keeps the branch as the API says`, async () => {
        host.setPull("acme/api", mergedPull({ merged: false }));
        const event = closedPrEvent({}, { provider });
        const err = await rejectsWithActionError(run(provider, apiPath, event));
        expect(err.retryable).to.equal(true);
        expect(err.message).to.contain(
          "the event says PR #7 was merged, but the Git host's API does not yet",
        );
        expect(host.deletedRefs).to.deep.equal([]);
        const last = await run(provider, apiPath, event, true);
        expect(last.detail).to.equal("kept feature/login: not merged");
      });
    }

    const lockedAnswer = {
      status: 200,
      body: JSON.stringify({
        iid: 7,
        state: "locked",
        source_branch: "feature/login",
        target_branch: "main",
        sha: PR_HEAD_SHA,
        source_project_id: 1,
        target_project_id: 1,
      }),
    };

    it("cleanUpPullRequest on GitLab retries a merge whose re-read says locked (the merge in progress), rather than keeping its branch as not merged", async () => {
      host.setPull("acme/api", mergedPull());
      host.script("pull", lockedAnswer);
      const err = await rejectsWithActionError(
        run("gitlab", "/api/v4", closedPrEvent({}, { provider: "gitlab" })),
      );
      expect(err.retryable).to.equal(true);
      expect(err.message).to.contain('merge request !7 "locked": a merge in progress');
      expect(host.statuses.at(-1)?.description).to.contain("will retry");
      // The next attempt reads it merged, and deletes the branch.
      const next = await run("gitlab", "/api/v4", closedPrEvent({}, { provider: "gitlab" }));
      expect(next.detail).to.equal("deleted branch feature/login");
    });

    it("cleanUpPullRequest on GitLab fails a merge request still locked on the queue's last attempt (dead-lettered, to redrive), never cleaning it up as not merged", async () => {
      host.setPull("acme/api", mergedPull());
      host.script("pull", lockedAnswer);
      const last = run("gitlab", "/api/v4", closedPrEvent({ merged: false }, { provider: "gitlab" }), true);
      const err = await rejectsWithActionError(last);
      expect(err.message).to.contain('"locked"');
      expect(host.statuses.at(-1)?.state).to.equal("failed");
      expect(host.deletedRefs).to.deep.equal([]);
    });
  });

  describe("a list of open pull requests that still shows the pull request itself open", () => {
    for (const [provider, apiPath] of HOSTS) {
      it(`cleanUpPullRequest on ${provider} deletes the branch of a merged pull request that a list read a moment after the merge still shows open`, async () => {
        host.setPull("acme/api", mergedPull({ listedOpen: true }));
        const outcome = await run(provider, apiPath, closedPrEvent({}, { provider }));
        expect(outcome.detail).to.equal("deleted branch feature/login");
        expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
      });

      it(`cleanUpPullRequest on ${provider} still keeps the branch another open pull request comes from, counting it alone`, async () => {
        host.setPull("acme/api", mergedPull({ listedOpen: true }));
        host.setPull(
          "acme/api",
          mergedPull({ number: 8, state: "open", merged: false, baseRef: "release/1.x" }),
        );
        const outcome = await run(provider, apiPath, closedPrEvent({}, { provider }));
        expect(outcome.detail).to.equal("kept feature/login: 1 open pull request comes from it");
        expect(host.deletedRefs).to.deep.equal([]);
      });
    }
  });
});
