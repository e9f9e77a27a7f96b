// The pull request itself never targets its own head branch, so the count of stacked pull requests into it keeps
// the host's total (GitLab's x-total, Bitbucket Cloud's size).
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest, Provider } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, testClients } from "./helpers";

const HOSTS: Array<[Provider, string]> = [
  ["gitlab", "/api/v4"],
  ["bitbucket", "/2.0"],
];

describe("pr-cleanup: the count of stacked pull requests where the host gives a total", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
  });
  afterEach(async () => host.close());

  for (const [provider, apiPath] of HOSTS) {
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
