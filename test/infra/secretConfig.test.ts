// hookgate keys set with `pulumi config set --secret`: Config.get hands the program their values without a word,
// so hookgate says which keys it keeps as plain text, and keeps alarmEmail a secret.
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { readStackConfig } from "../../src/infra/config";
import { main } from "../../src/infra/program";
import { collectingWarnings } from "./evaluate";
import { stubCode } from "./fixtures";
import { MockCloud, outputValue, REGION, settle, withoutStackTraces } from "./mocks";

const ROUTES = resolve(__dirname, "..", "fixtures", "infra", "routes.yaml");

/** Runs `run` with the stack config as the engine hands it: values, and the keys set with --secret. */
async function withConfig<T>(
  values: Record<string, string>,
  secretKeys: string[],
  run: () => Promise<T>,
): Promise<T> {
  const saved = pulumi.runtime.allConfig();
  pulumi.runtime.setAllConfig(values, secretKeys);
  try {
    return await run();
  } finally {
    pulumi.runtime.setAllConfig(saved);
  }
}

describe("readStackConfig(): hookgate keys set with --secret", () => {
  it("warns once per key set with --secret that hookgate uses as plain text, naming the key and never its value", async () => {
    const { warnings } = await collectingWarnings(() =>
      withConfig(
        {
          "aws:region": REGION,
          "hookgate:secretNamePrefix": "prod-s3cr3t/",
          "hookgate:lambda": JSON.stringify({ memoryMb: 1024 }),
          "hookgate:logRetentionDays": "30",
          "github:token": "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        },
        ["hookgate:secretNamePrefix", "hookgate:lambda", "github:token"],
        async () => readStackConfig(),
      ),
    );
    const plain = (key: string) =>
      `hookgate:${key} was set with --secret, but hookgate uses its value as plain text: what it makes of it ` +
      "(names, policies, environment variables, resource settings) is stored in the stack's state unencrypted. " +
      "It is no credential to hookgate: set it without --secret; a credential belongs in Secrets Manager, named " +
      "in routes.yaml";
    expect(warnings).to.deep.equal([plain("secretNamePrefix"), plain("lambda")]);
    expect(warnings.join("\n")).not.to.contain("s3cr3t").and.not.to.contain("1024");
  });

  it("says nothing when no hookgate key was set with --secret", async () => {
    const { warnings } = await collectingWarnings(() =>
      withConfig({ "aws:region": REGION, "hookgate:secretNamePrefix": "dev/" }, [], async () =>
        readStackConfig(),
      ),
    );
    expect(warnings).to.deep.equal([]);
  });
});

describe("main(): hookgate:alarmEmail set with --secret", () => {
  /** The alarm subscription main() declares, and the warnings, under this alarmEmail (secret or not). */
  async function subscription(secret: boolean) {
    const cloud = new MockCloud();
    await cloud.install("test");
    const { warnings } = await collectingWarnings(() =>
      withConfig(
        { "aws:region": REGION, "hookgate:routesFile": ROUTES, "hookgate:alarmEmail": "ops@example.com" },
        secret ? ["hookgate:alarmEmail"] : [],
        () =>
          withoutStackTraces(async () => {
            await outputValue((await main({ code: stubCode })).webhookUrls);
            await settle(cloud);
          }),
      ),
    );
    const [found] = cloud.ofType("aws:sns/topicSubscription:TopicSubscription");
    return { found, warnings };
  }

  it("keeps the subscription's endpoint a secret (encrypted in the state), without a warning", async function () {
    this.timeout(120_000);
    const { found, warnings } = await subscription(true);
    expect(found?.inputs.endpoint).to.equal("ops@example.com");
    expect(found?.secretPaths).to.include("endpoint");
    expect(warnings.filter((w) => w.includes("alarmEmail"))).to.deep.equal([]);
  });

  it("leaves an alarmEmail set without --secret as plain text", async function () {
    this.timeout(120_000);
    const { found } = await subscription(false);
    expect(found?.inputs.endpoint).to.equal("ops@example.com");
    expect(found?.secretPaths).not.to.include("endpoint");
  });
});
