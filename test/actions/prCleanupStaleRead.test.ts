// pr-cleanup and a re-read of the pull request older than the event it cleans up after: each host's API may lag
// behind its webhooks (GitHub's right after a delivery, integrations/slack#496; GitLab's read replicas up to
// max_replication_lag_time, gitlab-org/gitlab!147323). Such an answer is retried, not acted on for good.
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { ObjectStore } from "../../src/core/ports";
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

  // A pull request closed unmerged by its re-read but listed open among the pull requests from its branch:
  // reopened in between (its branch stays, and the steps before it ran: done), or the list lags (asked again
  // while the queue retries, a lagging list must not keep it for good; kept on the queue's last attempt).
  describe("a pull request closed unmerged by its re-read and listed open from its branch", () => {
    for (const [provider, apiPath] of HOSTS) {
      it(`on ${provider}, keeps the head branch of a pull request reopened during the preview's teardown, done with the steps before (onlyMerged: false)`, async () => {
        // Closed without a merge: the re-read says closed.
        host.setPull("acme/api", mergedPull({ state: "closed", merged: false }));
        // The author reopens it while the preview's objects are being deleted (a large prefix takes a while).
        const objects: ObjectStore = {
          put: async () => {
            throw new Error("unused");
          },
          head: async () => {
            throw new Error("unused");
          },
          deletePrefix: async () => {
            host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: REOPENED_AT }));
            return 3;
          },
        };
        const request: PrCleanupRequest = {
          type: "pr-cleanup",
          api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
          context: "hookgate/pr-cleanup",
          steps: [
            { kind: "delete-s3-prefix", bucket: "previews", prefix: "acme/api/pr-7/" },
            { kind: "delete-branch", onlyMerged: false },
          ],
        };
        const event = closedPrEvent({ merged: false }, { provider });
        const err = await rejectsWithActionError(
          cleanUpPullRequest(request, event, testClients({ objects })),
        );
        expect(err.retryable).to.equal(true);
        expect(err.message).to.contain(
          "PR #7 was reopened while it was cleaned up: stopped before deleting its branch; retried",
        );
        expect(host.deletedRefs).to.deep.equal([]);
        // The retry finds it open: skipped, its status not claiming that nothing was cleaned up.
        const again = await cleanUpPullRequest(request, event, testClients({ objects, attempt: 2 }));
        expect(again.status).to.equal("skipped");
        expect(host.statuses.at(-1)?.description).to.equal(
          "PR #7 is open again: cleanup stopped (an earlier attempt may have run some steps)",
        );
        expect(host.deletedRefs).to.deep.equal([]);
      });
    }

    /**
     * The re-read says closed, not merged; GitHub's list of open pull requests from feature/login, answered by a
     * replica behind the close, still shows #7 itself ("into feature/login": none).
     */
    const lagging = (): PrCleanupRequest => {
      host.setPull("acme/api", mergedPull({ state: "closed", merged: false }));
      const entry = {
        number: 7,
        state: "open",
        head: { ref: "feature/login", sha: PR_HEAD_SHA, repo: { full_name: "acme/api" } },
        base: { ref: "main", repo: { full_name: "acme/api" } },
      };
      host.script("pulls", { status: 200, body: "[]" }, { status: 200, body: JSON.stringify([entry]) });
      return {
        type: "pr-cleanup",
        api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
        context: "hookgate/pr-cleanup",
        steps: [{ kind: "delete-branch", onlyMerged: false }],
      };
    };

    it("retries when only the list lags behind the close, and deletes the branch once the list has caught up", async () => {
      const request = lagging();
      const event = closedPrEvent({ merged: false });
      const err = await rejectsWithActionError(cleanUpPullRequest(request, event, testClients()));
      expect(err.retryable).to.equal(true);
      expect(host.deletedRefs).to.deep.equal([]);
      const caughtUp = await cleanUpPullRequest(request, event, testClients());
      expect(caughtUp.status, caughtUp.detail).to.equal("done");
      expect(host.deletedRefs).to.have.length(1);
    });

    it("retries, taking it for a lagging list, when the read once more says open but from before the close", async () => {
      const request = lagging();
      // The first read says closed; the list and the read once more come from a replica behind the close (open,
      // its updated_at older than the close).
      host.script("pull", {
        status: 200,
        body: JSON.stringify({
          number: 7,
          state: "closed",
          merged: false,
          updated_at: "2026-12-06T01:59:00Z",
          head: { ref: "feature/login", sha: PR_HEAD_SHA, repo: { full_name: "acme/api" } },
          base: { ref: "main", repo: { full_name: "acme/api", default_branch: "main" } },
        }),
      });
      host.setPull(
        "acme/api",
        mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:00:00Z" }),
      );
      const err = await rejectsWithActionError(
        cleanUpPullRequest(request, closedPrEvent({ merged: false }), testClients()),
      );
      expect(err.message).to.contain(
        "PR #7 itself is still listed open though its re-read says closed: the host's list lags",
      );
      expect(err.retryable).to.equal(true);
      expect(host.deletedRefs).to.deep.equal([]);
    });

    it("keeps the branch on the queue's last attempt, saying the pull request itself is still listed open", async () => {
      const outcome = await cleanUpPullRequest(
        lagging(),
        closedPrEvent({ merged: false }),
        testClients({ lastAttempt: true }),
      );
      expect(outcome.detail).to.contain(
        "kept feature/login: PR #7 itself is still listed open though its re-read says closed (the host's list lags)",
      );
      expect(host.deletedRefs).to.deep.equal([]);
    });
  });

  // A pull request closed and reopened within the same second (`gh pr close 7 && gh pr reopen 7`, to re-run its
  // checks) reads "open" with its close's time: taken as reopened at once, not retried for the queue's attempts
  // while the repository's other deliveries wait behind it.
  describe("a pull request reopened in the same second as its close", () => {
    const request = (provider: Provider, apiPath: string): PrCleanupRequest => ({
      type: "pr-cleanup",
      api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [{ kind: "delete-branch", onlyMerged: true }],
    });

    it("on github, skips at once a pull request whose answer is open and updated in the second of the close (reopened)", async () => {
      // Closed at 02:00:00 and reopened at 02:00:00: GitHub's updated_at has whole seconds.
      host.setPull(
        "acme/api",
        mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T02:00:00Z" }),
      );
      const event = closedPrEvent({ merged: false, updatedAt: "2026-12-06T02:00:00.000Z" });
      const outcome = await cleanUpPullRequest(request("github", ""), event, testClients()).catch(
        (err: Error) => ({ status: "thrown", detail: err.message }),
      );
      expect(outcome.status, outcome.detail).to.equal("skipped");
      expect(host.statuses.at(-1)?.description ?? "").not.to.contain("will retry");
    });

    it("on bitbucket-server, skips at once a pull request reopened 800 ms after its close (both times in milliseconds)", async () => {
      host.setPull(
        "acme/api",
        mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T02:00:00.900Z" }),
      );
      const event = closedPrEvent(
        { merged: false, updatedAt: "2026-12-06T02:00:00.100Z" },
        { provider: "bitbucket-server" },
      );
      const outcome = await cleanUpPullRequest(
        request("bitbucket-server", "/rest/api/latest"),
        event,
        testClients(),
      ).catch((err: Error) => ({ status: "thrown", detail: err.message }));
      expect(outcome.status, outcome.detail).to.equal("skipped");
    });
  });

  // Bitbucket's times have fractions of a second on both sides (Cloud's microseconds, Data Center's milliseconds):
  // an answer updated before the decline within its second is told older, and retried.
  describe("an open answer from before the decline, in the decline's second, on Bitbucket", () => {
    const BITBUCKET_HOSTS = HOSTS.filter(([provider]) => provider.startsWith("bitbucket"));
    for (const [provider, apiPath] of BITBUCKET_HOSTS) {
      it(`on ${provider}, retries an open answer updated 400 ms before the decline rather than taking it as reopened`, async () => {
        host.setPull(
          "acme/api",
          mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:59:00.200Z" }),
        );
        const request: PrCleanupRequest = {
          type: "pr-cleanup",
          api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
          context: "hookgate/pr-cleanup",
          steps: [{ kind: "delete-branch", onlyMerged: false }],
        };
        const event = closedPrEvent(
          { merged: false, state: "declined", updatedAt: "2026-12-06T01:59:00.600Z" },
          { provider },
        );
        const err = await rejectsWithActionError(cleanUpPullRequest(request, event, testClients()));
        expect(err.retryable).to.equal(true);
        expect(host.deletedRefs).to.deep.equal([]);
      });
    }
  });

  // GitHub sometimes delivers a "closed" payload rendered before the close (community discussion #28877: closed_at
  // null, state "open"), and its API answers from the same lagging data right after: such a delivery's time is not
  // the close's, so an "open" answer is retried, not taken as reopened.
  describe("a closed delivery whose payload predates the close", () => {
    it("on github, retries an open answer when the payload itself still says open (no closed_at), rather than skipping for good", async () => {
      // The API still lags behind the close at 01:59:00, but has the comment posted with it at 01:58:59.
      host.setPull(
        "acme/api",
        mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:58:59Z" }),
      );
      // The payload: action closed, but state "open", closed_at null, updated_at from the day before.
      const event = closedPrEvent({ merged: false, state: "open", updatedAt: "2026-12-05T10:00:00.000Z" });
      const anyClose: PrCleanupRequest = {
        ...request("github", ""),
        steps: [{ kind: "delete-branch", onlyMerged: false }],
      };
      const outcome = await cleanUpPullRequest(anyClose, event, testClients()).catch((err: Error) => ({
        status: "retried",
        detail: err.message,
      }));
      expect(outcome.status, outcome.detail).to.equal("retried");
    });

    it("on github, retries a merge whose payload and answer both predate it, the answer holding the approval given just before (auto-merge)", async () => {
      // Approved at 01:58:55, merged by auto-merge at 01:59:00; the API has the approval, not the merge.
      host.setPull(
        "acme/api",
        mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:58:55Z" }),
      );
      // The payload says closed, but was rendered before the approval: state open, merged false, no closed_at.
      const event = closedPrEvent({ merged: false, state: "open", updatedAt: "2026-12-06T01:40:00.000Z" });
      const outcome = await cleanUpPullRequest(request("github", ""), event, testClients()).catch(
        (err: Error) => ({
          status: "retried",
          detail: err.message,
        }),
      );
      // Skipped "open again" for good: the next attempt, which would read it merged, never comes.
      expect(outcome.status, outcome.detail).to.equal("retried");
    });
  });

  // The pull request itself never targets its own head branch, so the count of stacked pull requests into it keeps
  // the host's total (GitLab's x-total, Bitbucket Cloud's size).
  describe("the count of stacked pull requests where the host gives a total", () => {
    const TOTAL_HOSTS: Array<[Provider, string]> = [
      ["gitlab", "/api/v4"],
      ["bitbucket", "/2.0"],
    ];

    for (const [provider, apiPath] of TOTAL_HOSTS) {
      it(`on ${provider}, names the 12 open pull requests that target the branch`, async () => {
        host.setPull("acme/api", mergedPull());
        for (let number = 20; number < 32; number++) {
          host.setPull(
            "acme/api",
            mergedPull({
              number,
              state: "open",
              merged: false,
              headRef: `stack/${number}`,
              baseRef: "feature/login",
            }),
          );
        }
        const request: PrCleanupRequest = {
          type: "pr-cleanup",
          api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
          context: "hookgate/pr-cleanup",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        };
        const outcome = await cleanUpPullRequest(request, closedPrEvent({}, { provider }), testClients());
        expect(outcome.detail).to.equal("kept feature/login: 12 open pull requests target it");
      });
    }
  });
});
