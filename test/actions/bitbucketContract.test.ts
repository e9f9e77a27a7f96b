// BitbucketCloudClient's and BitbucketServerClient's requests against Atlassian's published OpenAPI
// descriptions of Bitbucket Cloud and Bitbucket Data Center, as @coderabbitai/bitbucket ships them
// (test/fixtures/bitbucket-openapi; extract.ts there says how). Each call is made against a local server
// whose answer the test writes, and checked as sent (test/support/openapiContract.ts): the method and path
// are an operation of the description, its path and query parameters declared and valid, the JSON body
// valid with no undeclared field, each status the client handles itself documented, and each field read of
// a success answer documented. Where the description says less than Bitbucket does, the difference is
// listed with the exchange, so that a new one fails the test and one that goes away is seen.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { ApiClient } from "../../src/actions/gitHost/base";
import {
  BitbucketCloudClient,
  BitbucketServerClient,
  branchTypesOf,
} from "../../src/actions/gitHost/bitbucket";
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
import { json, scriptedServer } from "../support/scriptedServer";

interface Fixture {
  source: { package: string; version: string };
  descriptions: { cloud: Description; "data-center": Description };
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, "..", "fixtures", "bitbucket-openapi", "operations.json"), "utf8"),
) as Fixture;

const SHA = "0123456789abcdef0123456789abcdef01234567";
const AUTH = { authorization: "Bearer bitbucket-access-token" };

/**
 * Atlassian's description declares only state of the pull request list's query; q (BBQL) and pagelen are in
 * its filtering and pagination pages (developer.atlassian.com/cloud/bitbucket/rest/intro), not the operation.
 */
const Q_AND_PAGELEN = [
  "query parameter q is not declared by GET /repositories/{workspace}/{repo_slug}/pullrequests",
  "query parameter pagelen is not declared by GET /repositories/{workspace}/{repo_slug}/pullrequests",
];
/**
 * The commit status body's schema is commitstatus, which extends object, whose type is required: a
 * discriminator the answers carry; the operation's own two examples send none.
 */
const STATUS_TYPE = ["body / must have required property 'type'"];

const CLOUD_REPO: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };

const cloudExchanges: Exchange<BitbucketCloudClient>[] = [
  {
    what: "getPullRequest",
    operation: "GET /repositories/{workspace}/{repo_slug}/pullrequests/{pull_request_id}",
    reply: json({
      id: 7,
      state: "MERGED",
      source: {
        branch: { name: "feature/x" },
        commit: { hash: SHA.slice(0, 12) },
        repository: { full_name: "acme/api" },
      },
      destination: { repository: { full_name: "acme/api" } },
    }),
    run: (client) => client.getPullRequest(CLOUD_REPO, 7),
  },
  {
    what: "setCommitStatus (pending, with a link and the pull request's branch)",
    operation: "POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build",
    reply: json({ type: "commitstatus", key: "hookgate/cleanup", state: "INPROGRESS" }, 201),
    run: (client) =>
      client.setCommitStatus(CLOUD_REPO, SHA, {
        ...STATUS_WITH_LINK,
        ref: "feature/x",
        refInRepository: true,
      }),
    gaps: STATUS_TYPE,
  },
  {
    what: "setCommitStatus (failure, a long key and description, no link)",
    operation: "POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build",
    reply: json({ type: "commitstatus", state: "FAILED" }, 201),
    run: (client) =>
      client.setCommitStatus(CLOUD_REPO, SHA, {
        ...STATUS_LONG_NO_LINK,
        context: `hookgate/${"x".repeat(60)}`,
      }),
    gaps: STATUS_TYPE,
  },
  {
    what: "branchHead (the branch is there)",
    operation: "GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}",
    reply: json({ type: "branch", name: "feature-x", target: { hash: SHA } }),
    run: (client) => client.branchHead(CLOUD_REPO, "feature-x"),
  },
  {
    what: "branchHead (no such branch)",
    operation: "GET /repositories/{workspace}/{repo_slug}/refs/branches/{name}",
    reply: json({ type: "error", error: { message: "Branch not found" } }, 404),
    run: (client) => client.branchHead(CLOUD_REPO, "feature-x"),
  },
  {
    what: "openPullRequestsInto",
    operation: "GET /repositories/{workspace}/{repo_slug}/pullrequests",
    reply: json({ size: 3, page: 1, pagelen: 1, values: [{ id: 1 }], next: "https://h/?page=2" }),
    run: (client) => client.openPullRequestsInto(CLOUD_REPO, "feature-x"),
    gaps: Q_AND_PAGELEN,
  },
  {
    what: "openPullRequestsFrom (without size)",
    operation: "GET /repositories/{workspace}/{repo_slug}/pullrequests",
    reply: json({ pagelen: 1, values: [], page: 1 }),
    run: (client) => client.openPullRequestsFrom(CLOUD_REPO, "feature-x", "alice/api"),
    gaps: Q_AND_PAGELEN,
  },
  {
    what: "deleteBranch (deleted)",
    operation: "DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}",
    reply: { status: 204 },
    run: (client) => client.deleteBranch(CLOUD_REPO, "feature-x", SHA),
  },
  {
    // Documented for a private repository the user may not access only; a branch restriction's is not.
    what: "deleteBranch (403, refused)",
    operation: "DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}",
    reply: json({ type: "error", error: { message: "Forbidden" } }, 403),
    run: (client) => client.deleteBranch(CLOUD_REPO, "feature-x", SHA),
  },
  {
    what: "deleteRestrictions (listed)",
    operation: "GET /repositories/{workspace}/{repo_slug}/branch-restrictions",
    reply: json({
      size: 1,
      page: 1,
      pagelen: 1,
      values: [
        {
          type: "branchrestriction",
          id: 1,
          kind: "delete",
          branch_match_kind: "glob",
          pattern: "release/*",
          users: [],
          groups: [],
        },
      ],
    }),
    run: (client) => client["deleteRestrictions"](CLOUD_REPO),
    gaps: [
      "query parameter pagelen is not declared by GET /repositories/{workspace}/{repo_slug}/branch-restrictions",
    ],
  },
  {
    what: "deleteRestrictions (403, no admin access)",
    operation: "GET /repositories/{workspace}/{repo_slug}/branch-restrictions",
    reply: json({ type: "error", error: { message: "Access denied." } }, 403),
    run: (client) => client["deleteRestrictions"](CLOUD_REPO),
    gaps: [
      "query parameter pagelen is not declared by GET /repositories/{workspace}/{repo_slug}/branch-restrictions",
    ],
  },
  {
    what: "branchingModel (read, then the branch types of develop and release/1.x)",
    operation: "GET /repositories/{workspace}/{repo_slug}/effective-branching-model",
    reply: json({
      type: "effective_repo_branching_model",
      branch_types: [
        { kind: "feature", prefix: "feature/" },
        { kind: "release", prefix: "release/" },
      ],
      development: { name: "develop", use_mainbranch: false, branch: { type: "branch", name: "develop" } },
      production: { name: "main", use_mainbranch: true },
    }),
    run: async (client) => {
      const model = (await client["branchingModel"](CLOUD_REPO)) ?? {};
      return [branchTypesOf(model, "develop"), branchTypesOf(model, "release/1.x")];
    },
  },
  {
    what: "branchingModel (403)",
    operation: "GET /repositories/{workspace}/{repo_slug}/effective-branching-model",
    reply: json({ type: "error", error: { message: "Access denied." } }, 403),
    run: (client) => client["branchingModel"](CLOUD_REPO),
  },
  {
    what: "deleteBranch (404, not there)",
    operation: "DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}",
    reply: json({ type: "error", error: { message: "Branch not found" } }, 404),
    run: (client) => client.deleteBranch(CLOUD_REPO, "feature-x", SHA),
  },
  {
    what: "getDefaultBranch",
    operation: "GET /repositories/{workspace}/{repo_slug}",
    reply: json({ type: "repository", full_name: "acme/api", mainbranch: { type: "branch", name: "main" } }),
    run: (client) => client.getDefaultBranch(CLOUD_REPO),
  },
  {
    // A fork's answer names its parent; then the parent's pull requests are listed (openPullRequestsFrom's call).
    what: "openPullRequestsIntoParent (no fork)",
    operation: "GET /repositories/{workspace}/{repo_slug}",
    reply: json({ type: "repository", full_name: "acme/api" }),
    run: (client) => client.openPullRequestsIntoParent(CLOUD_REPO, "feature-x", "acme/api"),
  },
];

const DC_REPO: RepoRef = { owner: "ACME", name: "api", fullName: "ACME/api" };
const DC_REF = (branch: string) => ({
  id: `refs/heads/${branch}`,
  displayId: branch,
  latestCommit: SHA,
  repository: { slug: "api", project: { key: "ACME" } },
});

const dataCenterExchanges: Exchange<BitbucketServerClient>[] = [
  {
    what: "getPullRequest",
    operation: "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests/{pullRequestId}",
    reply: json({ id: 7, state: "MERGED", fromRef: DC_REF("feature/x"), toRef: DC_REF("main") }),
    run: (client) => client.getPullRequest(DC_REPO, 7),
  },
  {
    what: "setCommitStatus (pending, with a link and the branch)",
    operation: "POST /api/latest/projects/{projectKey}/repos/{repositorySlug}/commits/{commitId}/builds",
    reply: { status: 204 },
    run: (client) =>
      client.setCommitStatus(DC_REPO, SHA, { ...STATUS_WITH_LINK, ref: "feature/x", refInRepository: true }),
  },
  {
    what: "setCommitStatus (error, no link)",
    operation: "POST /api/latest/projects/{projectKey}/repos/{repositorySlug}/commits/{commitId}/builds",
    reply: { status: 204 },
    run: (client) => client.setCommitStatus(DC_REPO, SHA, { ...STATUS_LONG_NO_LINK, state: "error" }),
  },
  {
    what: "branchHead (found on the first page)",
    operation: "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/branches",
    reply: json({ values: [DC_REF("fix/feature/x"), DC_REF("feature/x")], isLastPage: true, start: 0 }),
    run: (client) => client.branchHead(DC_REPO, "feature/x"),
  },
  {
    what: "openPullRequestsInto",
    operation: "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests",
    reply: json({ values: [{ id: 1 }], isLastPage: false, size: 1, limit: 1, start: 0 }),
    run: (client) => client.openPullRequestsInto(DC_REPO, "feature/x"),
  },
  {
    what: "openPullRequestsFrom",
    operation: "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/pull-requests",
    reply: json({ values: [], isLastPage: true, size: 0, limit: 1, start: 0 }),
    run: (client) => client.openPullRequestsFrom(DC_REPO, "feature/x"),
  },
  {
    what: "deleteBranch (204: deleted, or not there)",
    operation: "DELETE /branch-utils/latest/projects/{projectKey}/repos/{repositorySlug}/branches",
    reply: { status: 204 },
    run: (client) => client.deleteBranch(DC_REPO, "feature/x", SHA),
  },
  {
    what: "getDefaultBranch",
    operation: "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/default-branch",
    reply: json(DC_REF("main")),
    run: (client) => client.getDefaultBranch(DC_REPO),
  },
];

function contract<C extends ApiClient>(
  name: string,
  description: Description,
  exchanges: Exchange<C>[],
  client: (url: string) => C,
  basePath: string,
): Map<Exchange<C>, Outcome> {
  const outcomes = new Map<Exchange<C>, Outcome>();
  before(async () => {
    for (const each of exchanges) outcomes.set(each, await exchange(each, client));
  });

  it("the fixture holds every operation the exchanges name", () => {
    for (const each of exchanges) {
      expect(description.operations).to.have.property(each.operation);
      expect(description.paths).to.include(each.operation);
    }
  });

  for (const each of exchanges) {
    const gaps = each.gaps ?? [];
    it(`${name}.${each.what} is ${each.operation} as documented: parameters, body, handled statuses, fields read${gaps.length ? `, but for ${gaps.length} gap(s) of the description` : ""}`, () => {
      const outcome = outcomes.get(each);
      if (!outcome) throw new Error("the exchange did not run");
      expect(disagreements(description, each, outcome, { basePath })).to.deep.equal(gaps);
    });
  }
  return outcomes;
}

describe(`Contract: the Bitbucket clients against Atlassian's OpenAPI descriptions (${fixture.source.package} ${fixture.source.version})`, () => {
  describe("Bitbucket Cloud", () => {
    const description = fixture.descriptions.cloud;
    const outcomes = contract(
      "BitbucketCloudClient",
      description,
      cloudExchanges,
      (url) => new BitbucketCloudClient(url, AUTH),
      "",
    );

    it("BitbucketCloudClient reads these fields of a pull request, each in the 200 schema", () => {
      const outcome = [...outcomes.entries()].find(([each]) => each.what === "getPullRequest")?.[1];
      expect(outcome?.reads).to.deep.equal([
        "destination",
        "destination.repository",
        "destination.repository.full_name",
        "id",
        "source",
        "source.branch",
        "source.branch.name",
        "source.commit",
        "source.commit.hash",
        "source.repository",
        "source.repository.full_name",
        "state",
        "updated_on",
      ]);
    });

    it("BitbucketCloudClient reads a fork's parent from the repository's parent, in the 200 schema", () => {
      const outcome = [...outcomes.entries()].find(
        ([each]) => each.what === "openPullRequestsIntoParent (no fork)",
      )?.[1];
      expect(outcome?.reads).to.deep.equal(["parent"]);
      expect(
        description.operations["GET /repositories/{workspace}/{repo_slug}"]?.responses["200"]?.schema,
      ).to.have.nested.property("properties.parent.properties.full_name");
    });

    it("BitbucketCloudClient reads each branch restriction's kind and the page's next; branch() then reads branch_match_kind and pattern, both in the 200 schema", () => {
      const outcome = [...outcomes.entries()].find(
        ([each]) => each.what === "deleteRestrictions (listed)",
      )?.[1];
      expect(outcome?.reads).to.deep.equal(["next", "values", "values.[].kind"]);
      const schema =
        description.operations["GET /repositories/{workspace}/{repo_slug}/branch-restrictions"]?.responses[
          "200"
        ]?.schema;
      expect(schema).to.have.nested.property("properties.values.items.properties.branch_match_kind");
      expect(schema).to.have.nested.property("properties.values.items.properties.pattern");
    });

    it("BitbucketCloudClient reads the branch types' kind and prefix and the development and production branches' names of the effective branching model, each in the 200 schema", () => {
      const outcome = [...outcomes.entries()].find(([each]) =>
        each.what.startsWith("branchingModel (read"),
      )?.[1];
      expect(outcome?.reads).to.deep.equal([
        "branch_types",
        "branch_types.[].kind",
        "branch_types.[].prefix",
        "development",
        "development.branch",
        "development.branch.name",
        "development.name",
        "production",
        "production.branch",
        "production.name",
      ]);
    });

    it("BitbucketCloudClient counts open pull requests by the page's size, else its values and next, reading each one's id (the pull request cleaned up is left out)", () => {
      const reads = (what: string) => [...outcomes.entries()].find(([each]) => each.what === what)?.[1];
      expect(reads("openPullRequestsInto")?.reads).to.deep.equal(["size", "values", "values.[].id"]);
      expect(reads("openPullRequestsFrom (without size)")?.reads).to.deep.equal(["next", "size", "values"]);
    });
  });

  describe("Bitbucket Data Center", () => {
    const description = fixture.descriptions["data-center"];
    const outcomes = contract(
      "BitbucketServerClient",
      description,
      dataCenterExchanges,
      (url) => new BitbucketServerClient(`${url}/rest/api/latest`, AUTH),
      "/rest",
    );

    it("BitbucketServerClient reads these fields of a pull request, each in the 200 schema", () => {
      const outcome = [...outcomes.entries()].find(([each]) => each.what === "getPullRequest")?.[1];
      expect(outcome?.reads).to.deep.equal([
        "fromRef",
        "fromRef.id",
        "fromRef.latestCommit",
        "fromRef.repository",
        "fromRef.repository.project",
        "fromRef.repository.project.key",
        "fromRef.repository.slug",
        "id",
        "state",
        "toRef",
        "toRef.repository",
        "toRef.repository.project",
        "toRef.repository.project.key",
        "toRef.repository.slug",
        "updatedDate",
      ]);
    });

    it("BitbucketServerClient.getDefaultBranch falls back on a documented 404 of default-branch to branches/default, an operation", async () => {
      const host = await scriptedServer((req) =>
        req.url.endsWith("/default-branch") ? json({ errors: [] }, 404) : json(DC_REF("main")),
      );
      try {
        const client = new BitbucketServerClient(`${host.url}/rest/api/latest`, AUTH);
        expect(await client.getDefaultBranch(DC_REPO)).to.equal("main");
      } finally {
        await host.close();
      }
      const [first, second] = host.seen.map((seen) =>
        operationOf(description, seen.method, new URL(seen.url, host.url).pathname.replace(/^\/rest/, "")),
      );
      expect(first?.key).to.equal(
        "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/default-branch",
      );
      expect(description.operations[first?.key ?? ""]?.responses).to.have.property("404");
      expect(second?.key).to.equal(
        "GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/branches/default",
      );
      expect(host.seen).to.have.length(2);
    });

    it("BitbucketServerClient.archive's URL is GET …/archive with at and format=zip, both declared", () => {
      const source = new BitbucketServerClient("http://127.0.0.1:1/rest/api/latest", AUTH).archive(
        DC_REPO,
        SHA,
      );
      const url = new URL(source.url);
      const matched = operationOf(description, "GET", url.pathname.replace(/^\/rest/, ""));
      expect(matched?.key).to.equal("GET /api/latest/projects/{projectKey}/repos/{repositorySlug}/archive");
      const declared = description.operations[matched?.key ?? ""]?.parameters.map((p) => p.name);
      expect([...url.searchParams.keys()].filter((name) => !declared?.includes(name))).to.deep.equal([]);
      expect(url.searchParams.get("format")).to.equal("zip");
    });
  });
});
