// A pull request reopened while pr-cleanup runs (after its re-read said closed) is counted among the open pull
// requests from its branch: only a merged one, which cannot be reopened, is left out of that count.
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { ObjectStore } from "../../src/core/ports";
import type { PrCleanupRequest, Provider } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, REOPENED_AT, testClients } from "./helpers";

const HOSTS: Array<[Provider, string]> = [
  ["github", ""],
  ["gitea", "/api/v1"],
  ["gitlab", "/api/v4"],
  ["bitbucket", "/2.0"],
  ["bitbucket-server", "/rest/api/latest"],
];

describe("pr-cleanup: a pull request reopened while pr-cleanup runs", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
  });
  afterEach(async () => host.close());

  for (const [provider, apiPath] of HOSTS) {
    it(`on ${provider}, keeps the head branch of a closed pull request reopened during the preview's teardown (onlyMerged: false)`, async () => {
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
      const outcome = await cleanUpPullRequest(
        request,
        closedPrEvent({ merged: false }, { provider }),
        testClients({ objects }),
      );
      // Before c93231c the list's open #7 kept the branch ("1 open pull request comes from it"); now it is deleted.
      expect(host.deletedRefs, outcome.detail).to.deep.equal([]);
    });
  }
});
