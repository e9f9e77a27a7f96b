// What the stack writes of a route's webhook secret name where people read it: the alarm descriptions (SNS mails
// carry them) and the webhookSetup output. A name that looks like a pasted secret value is hidden there, as
// `hookgate check`, serve and the actions' statuses hide it.
import { expect } from "chai";
import { looksRandom, RANDOM_SECRET_NAME } from "../../src/core/routes/checks";
import { collectingWarnings, evaluate } from "./evaluate";
import { config, jenkinsRoute, stubCode } from "./fixtures";

/** The descriptions of the route's secret-unusable and bad-signature alarms, and its webhookSetup entry. */
async function shown(secret: string, secretNamePrefix?: string) {
  const route = { ...jenkinsRoute(), secret };
  const { result } = await collectingWarnings(() =>
    evaluate({
      config: config(secretNamePrefix ? { secretNamePrefix } : {}),
      routes: [route],
      stack: "dev",
      code: stubCode,
    }),
  );
  const description = (suffix: string) => {
    const alarm = result.cloud
      .ofType("aws:cloudwatch/metricAlarm:MetricAlarm")
      .find((a) => a.inputs.name === `hookgate-dev-api-build-${suffix}`);
    return String(alarm?.inputs.alarmDescription);
  };
  return {
    secretUnusable: description("secret-unusable"),
    badSignature: description("bad-signature"),
    setup: JSON.stringify(result.webhookSetup["api-build"]),
  };
}

describe("the route's webhook secret name in alarm descriptions and the webhookSetup output", () => {
  it("a name that looks like a pasted secret value is in neither alarm description nor webhookSetup: each says it is hidden", async () => {
    // What `openssl rand -base64 24`, pasted as the secret's name, looks like.
    const pasted = "q8Zr2Kx7Lm4Tn9Bv3Hc6Wd1Yf5Gs0Pj";
    expect(looksRandom(pasted)).to.equal(true);
    const { secretUnusable, badSignature, setup } = await shown(pasted);
    for (const text of [secretUnusable, badSignature, setup]) {
      expect(text).to.not.include(pasted);
      expect(text).to.include(RANDOM_SECRET_NAME);
    }
  });

  it("with hookgate:secretNamePrefix dev/, a pasted value is judged as routes.yaml writes it (as check does) and hidden, though the prefix's part reads as a word", async () => {
    // `openssl rand -base64 24` with a "/" leaving both parts short: read whole, and dev/ makes a third part.
    const pasted = "q8Zr2Kx7Lm4Tn9B/3Hc6Wd1Yf5Gs0Pjx";
    expect(looksRandom(pasted)).to.equal(true);
    expect(looksRandom(`dev/${pasted}`)).to.equal(false);
    const { secretUnusable, badSignature, setup } = await shown(pasted, "dev/");
    for (const text of [secretUnusable, badSignature, setup]) {
      expect(text).to.not.include(pasted);
      expect(text).to.include(RANDOM_SECRET_NAME);
    }
  });

  it("with hookgate:secretNamePrefix dev/, an ordinary name is named with its prefix, as it is in Secrets Manager", async () => {
    const { secretUnusable, badSignature, setup } = await shown("hookgate/github-webhook", "dev/");
    expect(secretUnusable).to.include('its webhook secret "dev/hookgate/github-webhook" is missing');
    expect(badSignature).to.include('than the secret "dev/hookgate/github-webhook" holds');
    expect(JSON.parse(setup).secretName).to.equal("dev/hookgate/github-webhook");
  });

  // A prefix not ending in "/" glues onto the name's first part: judged with it, these read as generated.
  for (const name of ["K8sS3AccessKeyForCI2", "MySecretA1B2C3D4-Ab12Cd34Ef56", "B2BApiV2KeyForSAP4HANA"]) {
    it(`with hookgate:secretNamePrefix dev-, ${name} (which check shows) is named with its prefix in both alarm descriptions and webhookSetup`, async () => {
      expect(looksRandom(name), "check notes it").to.equal(false);
      const { secretUnusable, badSignature, setup } = await shown(name, "dev-");
      expect(secretUnusable).to.include(`its webhook secret "dev-${name}" is missing`);
      expect(badSignature).to.include(`than the secret "dev-${name}" holds`);
      expect(JSON.parse(setup).secretName).to.equal(`dev-${name}`);
    });
  }

  it("an ordinary name is named in both alarm descriptions and in webhookSetup's secretName", async () => {
    const { secretUnusable, badSignature, setup } = await shown("hookgate/github-webhook");
    expect(secretUnusable).to.include('its webhook secret "hookgate/github-webhook" is missing');
    expect(badSignature).to.include('than the secret "hookgate/github-webhook" holds');
    expect(JSON.parse(setup).secretName).to.equal("hookgate/github-webhook");
  });

  describe("pulumi up's warning for a github.manageWebhooks route whose repositories get no webhook (a glob)", () => {
    async function warning(secret: string, secretNamePrefix?: string): Promise<string> {
      const route = { ...jenkinsRoute("api-build", ["acme/*"]), secret };
      const { warnings } = await collectingWarnings(() =>
        evaluate({
          config: config({
            github: { manageWebhooks: true },
            ...(secretNamePrefix ? { secretNamePrefix } : {}),
          }),
          routes: [route],
          stack: "dev",
          code: stubCode,
          githubToken: "ghp_test-token-value",
        }),
      );
      const given = warnings.filter((w) => w.includes("no webhook is created"));
      expect(given).to.have.length(1);
      return given[0] as string;
    }

    it("does not write a name that looks like a pasted value (with or without secretNamePrefix), and says routes.yaml's secret names it", async () => {
      for (const [pasted, prefix] of [
        ["q8Zr2Kx7Lm4Tn9Bv3Hc6Wd1Yf5Gs0Pj", undefined],
        ["q8Zr2Kx7Lm4Tn9B/3Hc6Wd1Yf5Gs0Pjx", "dev/"],
      ] as const) {
        const text = await warning(pasted, prefix);
        expect(text).to.not.include(pasted);
        expect(text).to.include(
          `stored in Secrets Manager as the route's secret in routes.yaml${prefix ? ` behind "${prefix}"` : ""} ${RANDOM_SECRET_NAME}`,
        );
      }
    });

    it("names an ordinary name as it is stored, with its prefix", async () => {
      expect(await warning("hookgate/github-webhook", "dev/")).to.include(
        'stored in Secrets Manager as "dev/hookgate/github-webhook"',
      );
    });

    it("names an ordinary name check shows behind a prefix not ending in / (dev-), with its prefix", async () => {
      expect(await warning("K8sS3AccessKeyForCI2", "dev-")).to.include(
        'stored in Secrets Manager as "dev-K8sS3AccessKeyForCI2"',
      );
    });
  });
});
