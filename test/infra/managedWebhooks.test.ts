// github.manageWebhooks against the environment of `pulumi up` and the token it is given (review h384).
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { buildStack } from "../../src/infra/program";
import { githubOwnerEnvironmentProblem } from "../../src/infra/webhookSetup";
import { collectingWarnings, evaluate } from "./evaluate";
import { config, jenkinsRoute, stubCode } from "./fixtures";
import { MockCloud, REGION, settle } from "./mocks";

/** Runs `run` with these environment variables set (undefined: unset), and puts them back after. */
async function withEnv<T>(vars: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const put = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  put(vars);
  try {
    return await run();
  } finally {
    put(saved);
  }
}

const managed = () => config({ github: { manageWebhooks: true } });

describe("managed webhooks and the environment of pulumi up", function () {
  this.timeout(120_000);

  it("creates the webhooks on github.com when routes.yaml gives no apiUrl, whatever GITHUB_BASE_URL says", async () => {
    // @pulumi/github's Provider takes baseUrl from GITHUB_BASE_URL when the program gives none.
    const { cloud } = await withEnv({ GITHUB_BASE_URL: "https://ghe.example.com/" }, () =>
      evaluate({
        config: managed(),
        routes: [jenkinsRoute("api-build", ["acme/api"])],
        code: stubCode,
        githubToken: "ghp_test-token-value",
      }),
    );
    const baseUrls = cloud.ofType("pulumi:providers:github").map((p) => p.inputs.baseUrl);
    expect(baseUrls).to.deep.equal(["https://api.github.com/"]);
  });

  it("refuses, before creating anything, GITHUB_OWNER naming another owner than a managed webhook's (the provider would put other/tool's webhook on acme/tool)", async () => {
    // The cloud of the refused run: pulumi up starts creating a resource as soon as it is registered.
    const cloud = new MockCloud();
    await cloud.install("test");
    let refused: unknown;
    await withEnv({ GITHUB_OWNER: "acme", GITHUB_ORGANIZATION: undefined }, () =>
      buildStack({
        config: managed(),
        routes: [jenkinsRoute("api-build", ["acme/api", "other/tool"])],
        stack: "test",
        region: REGION,
        code: stubCode,
        githubToken: "ghp_test-token-value",
      }).catch((err: unknown) => {
        refused = err;
      }),
    );
    await settle(cloud);
    const message = String((refused as Error)?.message);
    expect(message).to.match(/^GITHUB_OWNER is set to "acme" .*the webhooks of other\/tool would be created/);
    expect(message).to.include("unset GITHUB_OWNER");
    // A RunError: pulumi up prints its message alone.
    expect(pulumi.RunError.isInstance(refused), String(refused)).to.equal(true);
    expect(cloud.resources).to.have.length(0);
  });

  it("takes GITHUB_OWNER naming the one owner of the managed webhooks, in any case", async () => {
    const { cloud } = await withEnv({ GITHUB_OWNER: "ACME", GITHUB_ORGANIZATION: "" }, () =>
      evaluate({
        config: managed(),
        routes: [jenkinsRoute("api-build", ["acme/api", "Acme/web"])],
        code: stubCode,
        githubToken: "ghp_test-token-value",
      }),
    );
    expect(cloud.ofType("github:index/repositoryWebhook:RepositoryWebhook")).to.have.length(2);
  });
});

describe("githubOwnerEnvironmentProblem(hooks, env)", () => {
  const hooks = [
    { route: "a", repository: "acme/api", events: ["push"] },
    { route: "b", repository: "acme/web", events: ["push"] },
  ];

  it("names GITHUB_ORGANIZATION, which the provider reads before GITHUB_OWNER, when it names another owner", () => {
    const problem = githubOwnerEnvironmentProblem(hooks, {
      GITHUB_ORGANIZATION: "other",
      GITHUB_OWNER: "acme",
    });
    expect(problem).to.match(/^GITHUB_ORGANIZATION is set to "other" .*acme\/api, acme\/web/);
  });

  it("takes a GITHUB_OWNER that differs when GITHUB_ORGANIZATION, which the provider uses, names the owner", () => {
    expect(
      githubOwnerEnvironmentProblem(hooks, { GITHUB_ORGANIZATION: "acme", GITHUB_OWNER: "other" }),
    ).to.equal(undefined);
  });

  it("reads an empty variable as unset, as the provider does", () => {
    expect(githubOwnerEnvironmentProblem(hooks, { GITHUB_ORGANIZATION: "", GITHUB_OWNER: "" })).to.equal(
      undefined,
    );
  });
});

describe("managed webhooks on repositories of several owners, with one token", function () {
  this.timeout(120_000);
  const run = (repos: string[][]) =>
    collectingWarnings(() =>
      evaluate({
        config: managed(),
        routes: repos.map((r, i) => jenkinsRoute(`build-${i}`, r)),
        code: stubCode,
        githubToken: "github_pat_test-token-value",
      }),
    );

  it("warns, naming the owners, that a fine-grained token reaches one owner's repositories only", async () => {
    const { result, warnings } = await run([["acme/api"], ["other/tool", "Acme/web"]]);
    // The one token reaches both owners' providers.
    const providers = result.cloud.ofType("pulumi:providers:github");
    expect(providers.map((p) => p.inputs.owner).sort()).to.deep.equal(["acme", "other"]);
    const warning = warnings.filter((w) => w.includes("fine-grained token"));
    expect(warning).to.have.length(1);
    expect(warning[0]).to.match(
      /^managed webhooks on repositories of 2 owners \(acme, other\) .*admin:repo_hook/,
    );
  });

  it("does not warn when every managed repository has one owner, spelled in any case", async () => {
    const { warnings } = await run([["acme/api"], ["Acme/web"]]);
    expect(warnings.filter((w) => w.includes("fine-grained token"))).to.deep.equal([]);
  });
});
