// A branch answer whose commit is a JSON value that is no string (a number, a list, an object: a proxy's
// rewrite, an API change) says no commit, as one without it does: a retryable ActionError from every client,
// never a TypeError later in s3-zip or pr-cleanup (sameCommit's toLowerCase).
import { expect } from "chai";
import { BitbucketCloudClient, BitbucketServerClient } from "../../src/actions/gitHost/bitbucket";
import { GiteaClient, GitHubClient } from "../../src/actions/gitHost/github";
import { GitLabClient } from "../../src/actions/gitHost/gitlab";
import type { GitHostClient } from "../../src/actions/gitHost/types";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest, Provider, RepoRef } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { json, type ScriptedServer, scriptedServer } from "../support/scriptedServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, rejectsWithActionError, testClients } from "./helpers";

const REPO: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const AUTH = { authorization: `Bearer ${HOST_TOKEN}` };

const NOT_A_STRING: Array<[string, unknown]> = [
  ["a number", 1234567],
  ["a list", [SHA]],
  ["an object", { id: SHA }],
  ["an empty string", ""],
];

const CLIENTS: Array<[string, (url: string) => GitHostClient, string]> = [
  ["GitHub", (url) => new GitHubClient(url, AUTH), "GitHub API"],
  ["Gitea", (url) => new GiteaClient(url, AUTH), "Gitea API"],
  ["GitLab", (url) => new GitLabClient(url, {}), "GitLab API"],
  ["Bitbucket Cloud", (url) => new BitbucketCloudClient(url, AUTH), "Bitbucket API"],
  [
    "Bitbucket Data Center",
    (url) => new BitbucketServerClient(`${url}/rest/api/latest`, AUTH),
    "Bitbucket Data Center API",
  ],
];

describe("Class: the Git host clients given a branch head that is not a string", () => {
  let host: ScriptedServer | undefined;
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });

  for (const [name, client, what] of CLIENTS) {
    for (const [kind, value] of NOT_A_STRING) {
      it(`${name}: a branch answer whose commit is ${kind} is a retryable failure saying the host did not say which commit, from branchHead and branch`, async () => {
        // One body for every host: each reads its own field (GitHub's object.sha, GitLab's and Gitea's
        // commit.id, Bitbucket Cloud's target.hash, Data Center's latestCommit of the listed branch).
        host = await scriptedServer(() =>
          json({
            ref: "refs/heads/x",
            object: { type: "commit", sha: value },
            commit: { id: value },
            target: { type: "commit", hash: value },
            values: [{ id: "refs/heads/x", displayId: "x", latestCommit: value }],
            isLastPage: true,
          }),
        );
        for (const read of [
          () => client(host?.url ?? "").branchHead(REPO, "x"),
          () => client(host?.url ?? "").branch(REPO, "x"),
        ]) {
          const err = await rejectsWithActionError(read());
          expect(err.retryable).to.equal(true);
          expect(err.message).to.match(new RegExp(`^${what} did not say which commit branch "x" points at`));
        }
      });
    }
  }
});

describe("Function: cleanUpPullRequest's delete-branch step given a branch head that is not a string", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
  });
  afterEach(async () => host.close());

  const HOSTS: Array<[Provider, string]> = [
    ["github", ""],
    ["gitea", "/api/v1"],
    ["bitbucket", "/2.0"],
    ["bitbucket-server", "/rest/api/latest"],
  ];
  for (const [provider, apiPath] of HOSTS) {
    for (const [kind, value] of NOT_A_STRING.slice(0, 3)) {
      it(`cleanUpPullRequest on ${provider} fails retryable, deleting nothing, when the host's head of the pull request's branch is ${kind}`, async () => {
        host.setPull("acme/api", mergedPull());
        // The fake host answers the branch's commit as it is given: here not a string.
        host.setBranch("acme/api", "feature/login", value as string);
        const request: PrCleanupRequest = {
          type: "pr-cleanup",
          api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
          context: "hookgate/pr-cleanup",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        };
        const err = await rejectsWithActionError(
          cleanUpPullRequest(request, closedPrEvent({}, { provider }), testClients()),
        );
        expect(err.retryable).to.equal(true);
        expect(err.message).to.contain('did not say which commit branch "feature/login" points at');
        expect(host.deletedRefs).to.deep.equal([]);
      });
    }
  }
});
