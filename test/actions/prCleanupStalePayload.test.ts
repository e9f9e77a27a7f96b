// GitHub sometimes delivers a "closed" payload rendered before the close (community discussion #28877: closed_at
// null, state "open"), and its API answers from the same lagging data right after: such a delivery's time is not
// the close's, so an "open" answer is retried, not taken as reopened.
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, testClients } from "./helpers";

describe("pr-cleanup: a closed delivery whose payload predates the close", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
  });
  afterEach(async () => host.close());

  it("on github, retries an open answer when the payload itself still says open (no closed_at), rather than skipping for good", async () => {
    // The API still lags behind the close at 01:59:00, but has the comment posted with it at 01:58:59.
    host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:58:59Z" }));
    // The payload: action closed, but state "open", closed_at null, updated_at from the day before.
    const event = closedPrEvent({ merged: false, state: "open", updatedAt: "2026-12-05T10:00:00.000Z" });
    const request: PrCleanupRequest = {
      type: "pr-cleanup",
      api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [{ kind: "delete-branch", onlyMerged: false }],
    };
    const outcome = await cleanUpPullRequest(request, event, testClients()).catch((err: Error) => ({
      status: "retried",
      detail: err.message,
    }));
    expect(outcome.status, outcome.detail).to.equal("retried");
  });

  it("on github, retries a merge whose payload and answer both predate it, the answer holding the approval given just before (auto-merge)", async () => {
    // Approved at 01:58:55, merged by auto-merge at 01:59:00; the API has the approval, not the merge.
    host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T01:58:55Z" }));
    // The payload says closed, but was rendered before the approval: state open, merged false, no closed_at.
    const event = closedPrEvent({ merged: false, state: "open", updatedAt: "2026-12-06T01:40:00.000Z" });
    const request: PrCleanupRequest = {
      type: "pr-cleanup",
      api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [{ kind: "delete-branch", onlyMerged: true }],
    };
    const outcome = await cleanUpPullRequest(request, event, testClients()).catch((err: Error) => ({
      status: "retried",
      detail: err.message,
    }));
    // Skipped "open again" for good: the next attempt, which would read it merged, never comes.
    expect(outcome.status, outcome.detail).to.equal("retried");
  });
});
