// A pull request closed and reopened within the same second (`gh pr close 7 && gh pr reopen 7`, to re-run its
// checks) reads "open" with its close's time: taken as reopened at once, not retried for the queue's attempts
// while the repository's other deliveries wait behind it.
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest, Provider } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, testClients } from "./helpers";

describe("pr-cleanup: a pull request reopened in the same second as its close", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
  });
  afterEach(async () => host.close());

  const request = (provider: Provider, apiPath: string): PrCleanupRequest => ({
    type: "pr-cleanup",
    api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
    context: "hookgate/pr-cleanup",
    steps: [{ kind: "delete-branch", onlyMerged: true }],
  });

  it("on github, skips at once a pull request whose answer is open and updated in the second of the close (reopened)", async () => {
    // Closed at 02:00:00 and reopened at 02:00:00: GitHub's updated_at has whole seconds.
    host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: "2026-12-06T02:00:00Z" }));
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
