// main(), the program index.ts runs, stopped by a mistake before any resource: what `pulumi up` prints.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import { routeNotes } from "../../src/core/routes/notes";
import { STACK_CONFIG_HELP } from "../../src/infra/config";
import { AWS_REGION_NAME, main, unusedGithubTokenWarning } from "../../src/infra/program";
import { stubCode } from "./fixtures";
import { MockCloud, outputValue, settle, withoutStackTraces } from "./mocks";

const ROUTES = resolve(__dirname, "..", "fixtures", "infra", "routes.yaml");

/** Runs `run` with GITHUB_TOKEN unset (the GitHub provider's fallback), then puts it back. */
async function withoutGithubToken(run: () => Promise<void>): Promise<void> {
  const savedToken = process.env.GITHUB_TOKEN;
  delete process.env.GITHUB_TOKEN;
  try {
    await run();
  } finally {
    if (savedToken !== undefined) process.env.GITHUB_TOKEN = savedToken;
  }
}

/** Runs main() under this stack config (and no region in the environment); returns what it rejected with. */
async function mainThrows(config: Record<string, string>): Promise<unknown> {
  const savedConfig = pulumi.runtime.allConfig();
  const savedEnv = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
  delete process.env.AWS_REGION;
  delete process.env.AWS_DEFAULT_REGION;
  pulumi.runtime.setAllConfig(config);
  try {
    await main({ code: stubCode });
  } catch (error) {
    return error;
  } finally {
    pulumi.runtime.setAllConfig(savedConfig);
    for (const [k, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[k] = v;
  }
  expect.fail("main() did not throw");
}

describe("main(): a configuration mistake stops `pulumi up` with a RunError (its message alone, no stack trace)", () => {
  it("an invalid hookgate stack config is a RunError listing every problem", async () => {
    const error = await mainThrows({ "aws:region": "eu-west-1", "hookgate:logRetentionDays": "10" });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect((error as Error).message).to.match(
      /^invalid hookgate stack configuration:\n {2}- hookgate:logRetentionDays must be one of/,
    );
  });

  it("an invalid routes.yaml is a RunError with each problem as FILE:LINE:COL: message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-program-"));
    try {
      const file = join(dir, "routes.yaml");
      writeFileSync(file, "version: 1\nroutes:\n  - name: Bad_Name\n");
      const error = await mainThrows({ "aws:region": "eu-west-1", "hookgate:routesFile": file });
      expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
      expect((error as Error).message).to.contain(`${file}:3:`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a routesFile that does not exist is a RunError naming hookgate:routesFile and the command to set it", async () => {
    const error = await mainThrows({ "aws:region": "eu-west-1", "hookgate:routesFile": "routes.prod.yaml" });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect((error as Error).message).to.contain(
      'routes file not found. hookgate:routesFile is "routes.prod.yaml"',
    );
    expect((error as Error).message).to.contain("pulumi config set hookgate:routesFile <path>");
  });

  it("a routesFile that is a directory is a RunError saying so, and an absolute one is not called relative", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-program-"));
    try {
      const error = await mainThrows({ "aws:region": "eu-west-1", "hookgate:routesFile": dir });
      expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
      expect((error as Error).message).to.contain(`${dir}: not a file. hookgate:routesFile is "${dir}";`);
      expect((error as Error).message).not.to.contain("relative to");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a region that is no AWS region name (eu-west) is a RunError that gives the command to set it", async () => {
    const error = await mainThrows({ "aws:region": "eu-west", "hookgate:routesFile": ROUTES });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect((error as Error).message).to.equal(
      '"eu-west" is not an AWS region name (like eu-west-1 or us-gov-west-1): run `pulumi config set aws:region <region>`',
    );
  });

  it("AWS_REGION_NAME takes every partition's region names and refuses typos", () => {
    for (const name of [
      "eu-west-1",
      "ap-southeast-4",
      "us-gov-west-1",
      "cn-northwest-1",
      "us-isob-east-1",
      "il-central-1",
      "eusc-de-east-1",
    ])
      expect(AWS_REGION_NAME.test(name), name).to.equal(true);
    for (const name of ["eu-west", "EU-WEST-1", "euwest1", "eu-west-1a", "us-east-1 "])
      expect(AWS_REGION_NAME.test(name), name).to.equal(false);
  });

  it("a stack without a region is a RunError that gives the command to set it", async () => {
    const error = await mainThrows({ "hookgate:routesFile": ROUTES });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect((error as Error).message).to.contain("pulumi config set aws:region <region>");
  });

  it("manageWebhooks without a GitHub token is a RunError that gives the command to set one", async () => {
    await withoutGithubToken(async () => {
      const error = await mainThrows({
        "aws:region": "eu-west-1",
        "hookgate:routesFile": ROUTES,
        "hookgate:github": JSON.stringify({ manageWebhooks: true }),
      });
      expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
      expect((error as Error).message).to.contain("pulumi config set --secret github:token");
    });
  });
});

describe("main(): every problem of the stack's own configuration in one run", () => {
  const KEY_OF_ANOTHER_REGION = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

  it("names a kmsKeyArns entry of another region in the same RunError as a bad logRetentionDays", async () => {
    const error = await mainThrows({
      "aws:region": "eu-west-1",
      "hookgate:routesFile": ROUTES,
      "hookgate:logRetentionDays": "10",
      "hookgate:kmsKeyArns": JSON.stringify([KEY_OF_ANOTHER_REGION]),
    });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    const message = (error as Error).message;
    expect(message).to.match(/^invalid hookgate stack configuration:\n/);
    expect(message).to.contain("- hookgate:logRetentionDays must be one of");
    expect(message).to.contain(
      `- hookgate:kmsKeyArns entry "${KEY_OF_ANOTHER_REGION}" is a key of us-east-1 (partition aws), but the stack deploys to eu-west-1`,
    );
  });

  it("names a misspelt aws:region in the same RunError as a bad hookgate key", async () => {
    const error = await mainThrows({
      "aws:region": "eu-west",
      "hookgate:routesFile": ROUTES,
      "hookgate:lambda": JSON.stringify({ memoryMb: 64 }),
    });
    const message = (error as Error).message;
    expect(message).to.contain('- "eu-west" is not an AWS region name');
    expect(message).to.contain("- hookgate:lambda.memoryMb must be an integer from 128 to 10240 (got 64)");
  });

  it("names a missing GitHub token in the same RunError as a misspelt aws:region, under a header that calls no hookgate key invalid", async () => {
    await withoutGithubToken(async () => {
      const message = (
        (await mainThrows({
          "aws:region": "eu-west",
          "hookgate:routesFile": ROUTES,
          "hookgate:github": JSON.stringify({ manageWebhooks: true }),
        })) as Error
      ).message;
      expect(message).to.match(/^invalid stack configuration:\n/);
      expect(message).to.contain('- "eu-west" is not an AWS region name');
      expect(message).to.contain("- hookgate:github.manageWebhooks needs a GitHub token");
      // Each problem gives its own command; the help on setting a hookgate key would point at none of them.
      expect(message).not.to.contain(STACK_CONFIG_HELP);
    });
  });

  it("names a missing GitHub token of github.manageWebhooks in the same RunError as a bad logRetentionDays", async () => {
    await withoutGithubToken(async () => {
      const message = (
        (await mainThrows({
          "aws:region": "eu-west-1",
          "hookgate:routesFile": ROUTES,
          "hookgate:logRetentionDays": "10",
          "hookgate:github": JSON.stringify({ manageWebhooks: true }),
        })) as Error
      ).message;
      expect(message).to.match(/^invalid hookgate stack configuration:\n/);
      expect(message).to.contain("- hookgate:logRetentionDays must be one of");
      expect(message).to.contain("- hookgate:github.manageWebhooks needs a GitHub token");
    });
  });

  it("asks for no GitHub token when github.manageWebhooks is itself invalid", async () => {
    await withoutGithubToken(async () => {
      const message = (
        (await mainThrows({
          "aws:region": "eu-west-1",
          "hookgate:routesFile": ROUTES,
          "hookgate:github": JSON.stringify({ manageWebhooks: "yes" }),
        })) as Error
      ).message;
      expect(message).to.contain("- hookgate:github.manageWebhooks must be true or false");
      expect(message).not.to.contain("needs a GitHub token");
    });
  });

  it("says nothing of an unused github:token when github.manageWebhooks is itself invalid (read as off, it was meant on)", async () => {
    const warn = pulumi.log.warn;
    const warnings: string[] = [];
    pulumi.log.warn = (message: string) => {
      warnings.push(message);
      return Promise.resolve();
    };
    try {
      const message = (
        (await mainThrows({
          "aws:region": "eu-west-1",
          "hookgate:routesFile": ROUTES,
          "github:token": "github_pat_meant_for_the_webhooks",
          "hookgate:github": JSON.stringify({ manageWebhooks: "yes" }),
        })) as Error
      ).message;
      expect(message).to.contain("- hookgate:github.manageWebhooks must be true or false");
    } finally {
      pulumi.log.warn = warn;
    }
    expect(warnings.filter((w) => w.includes("github:token"))).to.deep.equal([]);
  });
});

describe("main(): the GitHub token of github.manageWebhooks (under Pulumi mocks)", () => {
  it("passes a token from GITHUB_TOKEN (no github:token) to the GitHub providers as a Pulumi secret, not in plain text", async function () {
    this.timeout(120_000);
    const cloud = new MockCloud();
    await cloud.install("dev");
    const savedConfig = pulumi.runtime.allConfig();
    const savedToken = process.env.GITHUB_TOKEN;
    process.env.GITHUB_TOKEN = "ghp_from-the-environment";
    pulumi.runtime.setAllConfig({
      "aws:region": "eu-west-1",
      "hookgate:routesFile": ROUTES,
      "hookgate:github": JSON.stringify({ manageWebhooks: true }),
    });
    try {
      await withoutStackTraces(async () => {
        const outputs = await main({ code: stubCode });
        await outputValue(outputs.webhookUrls);
        await settle(cloud);
      });
    } finally {
      pulumi.runtime.setAllConfig(savedConfig);
      if (savedToken === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = savedToken;
    }
    const providers = cloud.ofType("pulumi:providers:github");
    expect(providers).to.not.deep.equal([]);
    for (const provider of providers) {
      expect(provider.inputs.token).to.equal("ghp_from-the-environment");
      expect(provider.secretPaths).to.include("token");
    }
  });
});

/** Runs main() under mocks with this stack config; returns what it passed to pulumi.log.warn. */
async function mainWarnings(config: Record<string, string>): Promise<string[]> {
  const cloud = new MockCloud();
  await cloud.install("dev");
  const savedConfig = pulumi.runtime.allConfig();
  const warn = pulumi.log.warn;
  const warnings: string[] = [];
  pulumi.log.warn = (msg: string, ...rest: unknown[]) => {
    warnings.push(msg);
    return warn(msg, ...(rest as []));
  };
  pulumi.runtime.setAllConfig(config);
  try {
    await withoutStackTraces(async () => {
      const outputs = await main({ code: stubCode });
      await outputValue(outputs.webhookUrls);
      await settle(cloud);
    });
  } finally {
    pulumi.log.warn = warn;
    pulumi.runtime.setAllConfig(savedConfig);
  }
  return warnings;
}

describe("main(): github:token without github.manageWebhooks (under Pulumi mocks)", () => {
  it("warns that github:token is unused, and that the actions' token is the secret named by providers.github.token", async function () {
    this.timeout(120_000);
    const warnings = await mainWarnings({
      "aws:region": "eu-west-1",
      "hookgate:routesFile": ROUTES,
      "github:token": "github_pat_unused",
    });
    const unused = warnings.filter((w) => w.startsWith("github:token"));
    expect(unused).to.deep.equal([unusedGithubTokenWarning(false, true)]);
    expect(unused[0]).to.match(/hookgate:github\.manageWebhooks is off, so nothing uses it/);
    expect(unused[0]).to.match(/Secrets Manager secret that routes\.yaml names in providers\.github\.token/);
    expect(unused[0]).not.to.contain("github_pat_unused");
  });

  it("says nothing of github:token when none is set", async function () {
    this.timeout(120_000);
    const warnings = await mainWarnings({ "aws:region": "eu-west-1", "hookgate:routesFile": ROUTES });
    expect(warnings.filter((w) => w.includes("github:token"))).to.deep.equal([]);
  });

  it("unusedGithubTokenWarning(manageWebhooks, tokenConfigured) is undefined when manageWebhooks uses the token", () => {
    expect(unusedGithubTokenWarning(true, true)).to.equal(undefined);
    expect(unusedGithubTokenWarning(false, false)).to.equal(undefined);
  });
});

describe("main(): the notes of hookgate check at `pulumi up` (under Pulumi mocks)", () => {
  it("warns of a route that can never match with each note `hookgate check` prints for it, and the deploy goes on", async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), "hookgate-program-"));
    try {
      const file = join(dir, "routes.yaml");
      writeFileSync(
        file,
        `version: 1
defaults:
  secret: hookgate/github-webhook
  jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [pushh], branches: [main], paths: ["services/api/**"] }
    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }
`,
      );
      const notes = routeNotes(loadRoutesFile(file).routes);
      expect(notes.some((n) => n.includes('"pushh"'))).to.equal(true);
      expect(notes.some((n) => n.includes("paths"))).to.equal(true);
      const warnings = await mainWarnings({ "aws:region": "eu-west-1", "hookgate:routesFile": file });
      expect(warnings.filter((w) => w.startsWith("route api-build: "))).to.deep.equal(notes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
