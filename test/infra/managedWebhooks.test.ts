// github.manageWebhooks against the environment of `pulumi up` and the token it is given (review h384).
import { expect } from "chai";
import { evaluate } from "./evaluate";
import { config, jenkinsRoute, stubCode } from "./fixtures";

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
});
