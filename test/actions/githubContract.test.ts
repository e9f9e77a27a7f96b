// GitHubClient's requests against GitHub's own OpenAPI description of its REST API, not against a fake of ours:
// test/fixtures/github-openapi/operations.json holds the operations hookgate calls, taken from @octokit/openapi
// (api.github.com and the oldest GitHub Enterprise Server it describes; extract.ts there says how). Each call
// is made against a local server whose answer the test writes, and checked as sent: the method and path are
// an operation of the description, its path and query parameters are declared and valid, the JSON body
// validates against the request body schema and has no field it does not declare, each status the client
// handles itself (its 2xx, and those it gives a meaning of its own) is a documented response, and each field
// and header the client reads of a success answer is in that answer's documented schema and headers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { GiteaClient, GitHubClient } from "../../src/actions/gitHost/github";
import type { RepoRef } from "../../src/core/types";
import {
  type Exchange as ContractExchange,
  type Description,
  disagreements,
  exchange,
  type Outcome,
  operationOf,
  STATUS_LONG_NO_LINK,
  STATUS_WITH_LINK,
} from "../support/openapiContract";
import { json } from "../support/scriptedServer";
import { HOST_TOKEN } from "./helpers";

interface Fixture {
  source: { package: string; version: string };
  descriptions: Record<string, Description>;
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, "..", "fixtures", "github-openapi", "operations.json"), "utf8"),
) as Fixture;

const REPO: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const AUTH = { authorization: `Bearer ${HOST_TOKEN}` };

interface Exchange extends ContractExchange<GitHubClient> {
  /** Only the request is checked (Gitea's answers are not GitHub's). */
  requestOnly?: boolean;
}

/**
 * GitHub answers 404 "Reference does not exist" to the deletion of a branch deleted just before (its automatic
 * deletion of head branches on merge; seen in eclipse-csi/otterdog#713), which its description does not
 * document: the client handles it (a branch already gone; any other 404 is a token's refusal).
 */
const DELETE_404_UNDOCUMENTED = "status 404 is not a documented response";

const PULL = {
  number: 7,
  // Not merged, so that merged_at is read too.
  state: "closed",
  merged: false,
  merged_at: null,
  head: { ref: "feature/x", label: "acme:feature/x", sha: SHA, repo: { full_name: "acme/api" } },
  base: {
    ref: "main",
    label: "acme:main",
    sha: SHA,
    repo: { full_name: "acme/api", default_branch: "main" },
  },
};
const LAST_PAGE_3 = { link: '<https://h/repos/acme/api/pulls?per_page=1&page=3>; rel="last"' };

const githubExchanges: Exchange[] = [
  {
    what: "getPullRequest",
    operation: "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    reply: json(PULL),
    run: (client) => client.getPullRequest(REPO, 7),
  },
  {
    what: "setCommitStatus (pending, with a link)",
    operation: "POST /repos/{owner}/{repo}/statuses/{sha}",
    reply: json({ id: 1, state: "pending" }, 201),
    run: (client) => client.setCommitStatus(REPO, SHA, STATUS_WITH_LINK),
  },
  {
    what: "setCommitStatus (failure, a long description, no link)",
    operation: "POST /repos/{owner}/{repo}/statuses/{sha}",
    reply: json({ id: 2, state: "failure" }, 201),
    run: (client) => client.setCommitStatus(REPO, SHA, STATUS_LONG_NO_LINK),
  },
  {
    what: "branchHead (the branch is there)",
    operation: "GET /repos/{owner}/{repo}/git/ref/{ref}",
    reply: json({ ref: "refs/heads/feature/x", object: { sha: SHA, type: "commit" } }),
    run: (client) => client.branchHead(REPO, "feature/x"),
  },
  {
    what: "branchHead (no such branch)",
    operation: "GET /repos/{owner}/{repo}/git/ref/{ref}",
    reply: json({ message: "Not Found" }, 404),
    run: (client) => client.branchHead(REPO, "feature/x"),
  },
  {
    what: "openPullRequestsInto",
    operation: "GET /repos/{owner}/{repo}/pulls",
    reply: json([{ number: 1 }], 200, LAST_PAGE_3),
    run: (client) => client.openPullRequestsInto(REPO, "feature/x"),
  },
  {
    what: "openPullRequestsFrom (a fork's owner)",
    operation: "GET /repos/{owner}/{repo}/pulls",
    reply: json([], 200),
    run: (client) => client.openPullRequestsFrom(REPO, "feature/x", "alice/api"),
  },
  {
    what: "deleteBranch (deleted)",
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: { status: 204 },
    run: (client) => client.deleteBranch(REPO, "feature/x", SHA),
    gaps: [DELETE_404_UNDOCUMENTED],
  },
  {
    what: 'deleteBranch (422 "Reference does not exist")',
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: json({ message: "Reference does not exist" }, 422),
    run: (client) => client.deleteBranch(REPO, "feature/x", SHA),
    gaps: [DELETE_404_UNDOCUMENTED],
  },
  {
    what: 'deleteBranch (404 "Reference does not exist")',
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: json({ message: "Reference does not exist", status: "404" }, 404),
    run: (client) => client.deleteBranch(REPO, "feature/x", SHA),
    gaps: [DELETE_404_UNDOCUMENTED],
  },
  {
    what: "deleteBranch (422, a protected branch)",
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: json(
      { message: "Validation Failed", errors: [{ message: "Cannot delete this protected branch" }] },
      422,
    ),
    run: (client) => client.deleteBranch(REPO, "release", SHA).catch((err: unknown) => err),
    gaps: [DELETE_404_UNDOCUMENTED],
  },
  {
    what: "getDefaultBranch",
    operation: "GET /repos/{owner}/{repo}",
    reply: json({ default_branch: "main" }),
    run: (client) => client.getDefaultBranch(REPO),
  },
  {
    // A fork's answer names its parent; then the parent's pull requests are listed (openPullRequestsFrom's call).
    what: "openPullRequestsIntoParent (no fork)",
    operation: "GET /repos/{owner}/{repo}",
    reply: json({ id: 1, fork: false }),
    run: (client) => client.openPullRequestsIntoParent(REPO, "feature/x", "acme/api"),
  },
];

/** Gitea's calls on GitHub's routes: the same requests (Gitea's own routes are not in GitHub's description). */
const giteaExchanges: Exchange[] = githubExchanges
  .filter((each) =>
    ["getPullRequest", "setCommitStatus (pending, with a link)", "getDefaultBranch"].includes(each.what),
  )
  .map((each) => ({ ...each, requestOnly: true }));

describe(`Contract: GitHubClient against GitHub's OpenAPI description (${fixture.source.package} ${fixture.source.version})`, () => {
  const outcomes = new Map<Exchange, Outcome>();
  before(async () => {
    for (const each of githubExchanges) {
      outcomes.set(each, await exchange(each, (url) => new GitHubClient(url, AUTH)));
    }
    for (const each of giteaExchanges) {
      outcomes.set(each, await exchange(each, (url) => new GiteaClient(url, AUTH)));
    }
  });

  it("the fixture holds every operation the exchanges name, in each description", () => {
    for (const [name, description] of Object.entries(fixture.descriptions)) {
      for (const each of githubExchanges) {
        expect(description.operations, name).to.have.property(each.operation);
        expect(description.paths, name).to.include(each.operation);
      }
    }
  });

  for (const [name, description] of Object.entries(fixture.descriptions)) {
    describe(`${name} (${description.file})`, () => {
      for (const each of githubExchanges) {
        it(`GitHubClient.${each.what} is ${each.operation} as documented: parameters, body, handled statuses, fields read`, () => {
          const outcome = outcomes.get(each);
          if (!outcome) throw new Error("the exchange did not run");
          expect(disagreements(description, each, outcome, { requestOnly: each.requestOnly })).to.deep.equal(
            each.gaps ?? [],
          );
        });
      }
      for (const each of giteaExchanges) {
        it(`GiteaClient.${each.what} on GitHub's route is ${each.operation} as documented: parameters, body`, () => {
          const outcome = outcomes.get(each);
          if (!outcome) throw new Error("the exchange did not run");
          expect(disagreements(description, each, outcome, { requestOnly: each.requestOnly })).to.deep.equal(
            [],
          );
        });
      }

      it("GitHubClient.archive's URL is GET /repos/{owner}/{repo}/zipball/{ref}, a documented 302, at the commit", () => {
        const source = new GitHubClient("http://127.0.0.1:1", AUTH).archive(REPO, SHA);
        const url = new URL(source.url);
        const matched = operationOf(description, "GET", url.pathname);
        expect(matched?.key).to.equal("GET /repos/{owner}/{repo}/zipball/{ref}");
        expect(matched?.params).to.deep.equal({ owner: "acme", repo: "api", ref: SHA });
        expect(Object.keys(description.operations[matched?.key ?? ""]?.responses ?? {})).to.deep.equal([
          "302",
        ]);
        expect(source.headers.accept).to.equal("application/vnd.github+json");
      });

      it("none of these operations declares a header parameter (Accept and X-GitHub-Api-Version are the docs' advice)", () => {
        for (const op of Object.values(description.operations)) {
          expect(op.parameters.filter((p) => p.in === "header").map((p) => p.name)).to.deep.equal([]);
        }
      });
    });
  }

  it("every GitHubClient request asks for application/vnd.github+json and names API version 2022-11-28", () => {
    for (const each of githubExchanges) {
      const [request] = outcomes.get(each)?.seen ?? [];
      expect(request?.headers.accept, each.what).to.equal("application/vnd.github+json");
      expect(request?.headers["x-github-api-version"], each.what).to.equal("2022-11-28");
    }
  });

  it("GitHubClient reads only the Link header of a pull request list's answer (documented on pulls/list's 200), and none of a pull request's", () => {
    const read = (what: string) =>
      [...outcomes.entries()].find(([each]) => each.what === what)?.[1].headerReads;
    expect(read("openPullRequestsInto")).to.deep.equal(["link"]);
    expect(read("getPullRequest")).to.deep.equal([]);
  });

  it("GitHubClient reads these fields of a pull request, each found in pulls/get's 200 schema above", () => {
    const outcome = [...outcomes.entries()].find(([each]) => each.what === "getPullRequest")?.[1];
    expect(outcome?.reads).to.deep.equal([
      "base",
      "base.repo",
      "base.repo.default_branch",
      "base.repo.full_name",
      "head",
      "head.ref",
      "head.repo",
      "head.repo.full_name",
      "head.sha",
      "merged",
      "merged_at",
      "number",
      "state",
      "updated_at",
    ]);
  });
});
