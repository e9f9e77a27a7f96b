// GiteaClient's requests against Gitea's own API description (its swagger, go-gitea/gitea
// templates/swagger/v1_json.tmpl), as test/fixtures/gitea-openapi/operations.json transcribes the operations
// hookgate calls (SOURCE.md there says from which commit and how). Each call is made against a local server
// whose answer the test writes, and checked as sent (test/support/openapiContract.ts): the method and path
// are an operation of the description, its path and query parameters declared and valid, the JSON body
// valid with no undeclared field, each status the client handles itself documented, and each field and
// header read of a success answer documented. Where Gitea's description says less than Gitea does, the
// difference is listed with the exchange, so that a new one fails the test and one that goes away is seen.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { GiteaClient } from "../../src/actions/gitHost/github";
import type { RepoRef } from "../../src/core/types";
import {
  type Description,
  disagreements,
  type Exchange,
  exchange,
  type Outcome,
  operationOf,
  STATUS_LONG_NO_LINK,
  STATUS_WITH_LINK,
} from "../support/openapiContract";
import { json } from "../support/scriptedServer";
import { HOST_TOKEN } from "./helpers";

interface Fixture {
  source: { repository: string; file: string; commit: string };
  descriptions: { gitea: Description };
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, "..", "fixtures", "gitea-openapi", "operations.json"), "utf8"),
) as Fixture;
const description = fixture.descriptions.gitea;

const REPO: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const AUTH = { authorization: `token ${HOST_TOKEN}` };

/** Gitea answers a list page with a Link header (and x-total-count); its description documents no header. */
const LINK_UNDOCUMENTED = "the 200 answer's header link is not documented";

const PULL = {
  number: 7,
  state: "closed",
  merged: false,
  merged_at: null,
  head: { ref: "feature/x", label: "feature/x", sha: SHA, repo_id: 1, repo: { full_name: "acme/api" } },
  base: { ref: "main", sha: SHA, repo_id: 1, repo: { full_name: "acme/api", default_branch: "main" } },
};

const exchanges: Exchange<GiteaClient>[] = [
  {
    what: "getPullRequest",
    operation: "GET /repos/{owner}/{repo}/pulls/{index}",
    reply: json(PULL),
    run: (client) => client.getPullRequest(REPO, 7),
  },
  {
    what: "setCommitStatus (pending, with a link)",
    operation: "POST /repos/{owner}/{repo}/statuses/{sha}",
    reply: json({ id: 1, status: "pending" }, 201),
    run: (client) => client.setCommitStatus(REPO, SHA, STATUS_WITH_LINK),
  },
  {
    what: "setCommitStatus (failure, a long description, no link)",
    operation: "POST /repos/{owner}/{repo}/statuses/{sha}",
    reply: json({ id: 2, status: "failure" }, 201),
    run: (client) => client.setCommitStatus(REPO, SHA, STATUS_LONG_NO_LINK),
  },
  {
    what: "branchHead (the branch is there)",
    operation: "GET /repos/{owner}/{repo}/branches/{branch}",
    reply: json({ name: "feature-x", commit: { id: SHA } }),
    run: (client) => client.branchHead(REPO, "feature-x"),
  },
  {
    what: "branch (protected)",
    operation: "GET /repos/{owner}/{repo}/branches/{branch}",
    reply: json({ name: "release-1", commit: { id: SHA }, protected: true }),
    run: (client) => client.branch(REPO, "release-1"),
  },
  {
    what: "branchHead (no such branch)",
    operation: "GET /repos/{owner}/{repo}/branches/{branch}",
    reply: json({ message: "branch not found" }, 404),
    run: (client) => client.branchHead(REPO, "feature-x"),
  },
  {
    what: "branchHead (a branch with a slash)",
    operation: "GET /repos/{owner}/{repo}/branches/{branch}",
    reply: json({ name: "feature/x", commit: { id: SHA } }),
    run: (client) => client.branchHead(REPO, "feature/x"),
    // The description's {branch} is one segment; Gitea routes /branches/* (routers/api/v1/api.go), the rest
    // of the path, and the client sends the branch's "/" as it is (as for every host but GitLab).
    gaps: [
      "GET /repos/acme/api/branches/feature/x is no operation, not GET /repos/{owner}/{repo}/branches/{branch}",
    ],
  },
  {
    what: "openPullRequestsInto",
    operation: "GET /repos/{owner}/{repo}/pulls",
    reply: json([{ ...PULL, base: { ...PULL.base, ref: "feature-x" } }], 200, {
      link: '<https://h/api/v1/repos/acme/api/pulls?page=2>; rel="next"',
    }),
    run: (client) => client.openPullRequestsInto(REPO, "feature-x"),
    gaps: [LINK_UNDOCUMENTED],
  },
  {
    what: "openPullRequestsFrom",
    operation: "GET /repos/{owner}/{repo}/pulls",
    reply: json([{ ...PULL, head: { ...PULL.head, ref: "feature-x" } }]),
    run: (client) => client.openPullRequestsFrom(REPO, "feature-x"),
    gaps: [LINK_UNDOCUMENTED],
  },
  {
    what: "deleteBranch (deleted)",
    operation: "DELETE /repos/{owner}/{repo}/branches/{branch}",
    reply: { status: 204 },
    run: (client) => client.deleteBranch(REPO, "feature-x", SHA),
  },
  {
    what: "deleteBranch (404, not there)",
    operation: "DELETE /repos/{owner}/{repo}/branches/{branch}",
    reply: json({ message: "branch not found" }, 404),
    run: (client) => client.deleteBranch(REPO, "feature-x", SHA),
  },
  {
    what: "getDefaultBranch",
    operation: "GET /repos/{owner}/{repo}",
    reply: json({ default_branch: "main" }),
    run: (client) => client.getDefaultBranch(REPO),
  },
  {
    what: "openPullRequestsIntoParent (no fork)",
    operation: "GET /repos/{owner}/{repo}",
    reply: json({ id: 1, fork: false, parent: null }),
    run: (client) => client.openPullRequestsIntoParent(REPO, "feature-x", "acme/api"),
  },
];

describe(`Contract: GiteaClient against Gitea's API description (${fixture.source.repository} ${fixture.source.file} at ${fixture.source.commit.slice(0, 12)})`, () => {
  const outcomes = new Map<Exchange<GiteaClient>, Outcome>();
  before(async () => {
    for (const each of exchanges) {
      outcomes.set(each, await exchange(each, (url) => new GiteaClient(url, AUTH)));
    }
  });

  it("the fixture holds every operation the exchanges name", () => {
    for (const each of exchanges) {
      expect(description.operations).to.have.property(each.operation);
      expect(description.paths).to.include(each.operation);
    }
  });

  for (const each of exchanges) {
    const gaps = each.gaps ?? [];
    it(`GiteaClient.${each.what} is ${each.operation} as documented: parameters, body, handled statuses, fields read${gaps.length ? `, but for ${gaps.length} gap(s) of the description` : ""}`, () => {
      const outcome = outcomes.get(each);
      if (!outcome) throw new Error("the exchange did not run");
      expect(disagreements(description, each, outcome)).to.deep.equal(gaps);
    });
  }

  it("GiteaClient reads these fields of a pull request, each found in repoGetPullRequest's 200 schema", () => {
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

  it("GiteaClient's list filters read base.ref, head.ref and both repo_ids of an entry, and only the Link header", () => {
    const reads = (what: string) => [...outcomes.entries()].find(([each]) => each.what === what)?.[1];
    expect(reads("openPullRequestsInto")?.reads).to.deep.equal(["[].base", "[].base.ref"]);
    expect(reads("openPullRequestsFrom")?.reads).to.deep.equal([
      "[].base",
      "[].base.repo_id",
      "[].head",
      "[].head.ref",
      "[].head.repo_id",
    ]);
    expect(reads("openPullRequestsInto")?.headerReads).to.deep.equal(["link"]);
  });

  it("GiteaClient.archive's URL is GET /repos/{owner}/{repo}/archive/{archive}, the commit with .zip, a documented 200", () => {
    const source = new GiteaClient("http://127.0.0.1:1/api/v1", AUTH).archive(REPO, SHA);
    const url = new URL(source.url);
    const matched = operationOf(description, "GET", url.pathname.replace(/^\/api\/v1/, ""));
    expect(matched?.key).to.equal("GET /repos/{owner}/{repo}/archive/{archive}");
    expect(matched?.params).to.deep.equal({ owner: "acme", repo: "api", archive: `${SHA}.zip` });
    expect(Object.keys(description.operations[matched?.key ?? ""]?.responses ?? {})).to.include("200");
  });
});
