// h365: a webhook secret as the usual generators write it, pasted where its name belongs, passes as a name
// (no "=" padding, no known prefix): the value then sits in the route's IAM policy, its Lambda environment and
// every log line naming the secret. check, serve and pulumi up note it; a real name is never refused.
import { expect } from "chai";
import { publicSecretName } from "../../../src/actions/secrets";
import {
  looksRandom,
  RANDOM_SECRET_NAME,
  secretRefProblem,
  shownSecretName,
} from "../../../src/core/routes/checks";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";

const GENERATED: Array<[string, string]> = [
  // python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
  ["secrets.token_urlsafe(32)", "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk"],
  // openssl rand -base64 24 (a multiple of 3 bytes: no "=" padding)
  ["openssl rand -base64 24", "2U1BZiHWg40MDbY6hsW97KJ/SSJTQOPl"],
  // openssl rand -base64 30
  ["openssl rand -base64 30", "m0eGeDL+ozhYLMcHgiECUrTZBX/5YzqbXS7cuJPJ"],
  // secrets.token_urlsafe(16)
  ["secrets.token_urlsafe(16)", "q3Zr8Yb-Tm1XwK9vLp2N0g"],
  // openssl rand -base64 24 with a "/" that leaves every part short of 20 characters: the name is read whole.
  ["openssl rand -base64 24 (two slashes)", "C14XzWx/8yV+G65e0U4/wMuGGTBIM81V"],
  ["openssl rand -base64 24 (a slash in the middle)", "p8Kx3Vw0Zq7mB1y/N4tR6cH2aJ9dL5sE"],
];

/** Names people give secrets: none of them is noted. */
const NAMES = [
  "hookgate/github-webhook",
  "hookgate/gitlab-webhook-2",
  "prod/CiBotToken2024",
  "prod/api/BitbucketAppPassword2",
  "hookgate/prod/GitHubWebhookSecretV2",
  "ProdGithubWebhookSecretForApiBuild2024",
  "hookgateStagingJenkinsCredsV3",
  "myOrg/GitLabProjectAccessToken2025Q1",
  "OAuth2ClientSecretForGitHubApp",
  "AWSLambdaXRay2024SecretName",
  "X509CertificateBundleForCI2",
  "eu-west-1/prod/GitHubApp123456Key",
  "JENKINS_API_TOKEN_ci_bot_2",
  "team-a/Jenkins_API_Token_2024_01_15",
  "jenkins_api_token_prod_eu_west_1",
  "platform.ci/jenkins@prod+eu=1",
  // PascalCase with acronyms and version digits, which change class as often as generated text.
  "ProdApiKeyV3ForJenkinsCI",
  "GitHubWebhookSecretV2ForRepo1",
  "jenkins/Ci4GitHubOAuth2Token",
  "prod/svc/K8sS3AccessKeyForCI2",
  // As CloudFormation and the CDK name a secret created without a name.
  "CloudFormationCreatedSecret-a1b2c3d4e5f6",
  "AuroraSecret41E6E877-3wtlG7ohVtB9",
  // Path-style names, read whole too when no part looks generated: words, acronyms and digits between "/".
  "prod/github/webhook-secret",
  "acme/ci/JenkinsApiToken2024",
  "acme/ci/JenkinsApiToken2024Q1/v2",
  "team-a/svc/B2BApiV2KeyForSAP4HANA",
  "B2BApiV2KeyForSAP4HANA",
  "prod/K8s/S3Ci2/ApiKeyV3/Jenkins",
  "org/Team1/Svc2/Api3Key4V5/GitHub",
  "ci/prod/GH/PAT/V2/Bot1/2024Q3/ab",
  "Acme/Ci/Jnk2/Tok3/Gh4/Gl5/Bb6X/9",
  // Read whole only in a multiple of 4 characters (22 here), and never with a part of small letters alone.
  "K8s/S3Ci2/GhV2DbPg4Rds",
  "acme/Ci2Gh4Db9Pg2S3V2Ca1",
];

function routesWithSecret(secret: string, credentials = "hookgate/jenkins"): string {
  return [
    "version: 1",
    "routes:",
    "  - name: api-build",
    "    provider: github",
    `    secret: "${secret}"`,
    "    match: { repos: [acme/api], events: [push] }",
    "    action:",
    "      type: jenkins",
    "      job: api/build",
    '      parameters: { SHA: "{{sha}}" }',
    `      jenkins: { url: 'https://jenkins.example.com', credentials: "${credentials}" }`,
  ].join("\n");
}

describe("Function: looksRandom (a secret name that reads as a generated value)", () => {
  for (const [how, value] of GENERATED) {
    it(`looksRandom(a value made by ${how}) is true`, () => {
      expect(looksRandom(value)).to.equal(true);
    });
  }
  for (const name of NAMES) {
    it(`looksRandom(${JSON.stringify(name)}) is false`, () => {
      expect(looksRandom(name)).to.equal(false);
    });
  }
  it("shownSecretName hides an openssl rand -base64 24 value whose slashes leave every part short", () => {
    expect(shownSecretName("C14XzWx/8yV+G65e0U4/wMuGGTBIM81V")).to.equal(
      "(a name that looks like a secret value)",
    );
  });
  it("looksRandom of an ARN of a secret is false", () => {
    expect(
      looksRandom("arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookgate/github-webhook-AbC123"),
    ).to.equal(false);
  });
});

// hookgate:secretNamePrefix goes in front of every name the stack and its functions use: `check` judges the name
// routes.yaml writes, so must the alarm descriptions, webhookSetup and the commit statuses (review h436). A prefix
// with a "/" adds a part: `dev/` (a small word) or a fourth part made a base64 value with slashes pass as a name.
// The stack knows its prefix; a deployed function does not, and judges the name behind each leading "/"-part.
const SLASHED_PREFIXES = ["dev/", "prod/eu/", "team.a@ci/"];
const PREFIXES = [...SLASHED_PREFIXES, "hookgate-dev-"];

describe("Functions: shownSecretName (the stack) and publicSecretName (a function), a name behind the stack's secretNamePrefix", () => {
  for (const [how, value] of GENERATED) {
    it(`hide a value made by ${how} behind each prefix (a function: each ending in "/")`, () => {
      for (const prefix of PREFIXES)
        expect(shownSecretName(`${prefix}${value}`, true, prefix), prefix).to.equal(RANDOM_SECRET_NAME);
      for (const prefix of SLASHED_PREFIXES)
        expect(publicSecretName(`${prefix}${value}`), prefix).to.not.include(value);
    });
  }
  for (const name of NAMES) {
    it(`show ${JSON.stringify(name)} behind each prefix as it is`, () => {
      for (const prefix of PREFIXES)
        expect(shownSecretName(`${prefix}${name}`, true, prefix), prefix).to.equal(`"${prefix}${name}"`);
      for (const prefix of SLASHED_PREFIXES)
        expect(publicSecretName(`${prefix}${name}`), prefix).to.equal(`"${prefix}${name}"`);
    });
  }
});

describe("Function: shownSecretName, a name behind a secretNamePrefix not ending in / (the stack knows it)", () => {
  // Glued onto the prefix (`dev-`), these read as generated; check, judging the name routes.yaml writes, shows them.
  for (const name of ["K8sS3AccessKeyForCI2", "MySecretA1B2C3D4-Ab12Cd34Ef56", "B2BApiV2KeyForSAP4HANA"]) {
    it(`shows dev-${name} as it is, as check shows ${name}`, () => {
      expect(looksRandom(name), "check").to.equal(false);
      for (const prefix of ["dev-", "team-a-", "hookgate-dev-"])
        expect(shownSecretName(`${prefix}${name}`, true, prefix), prefix).to.equal(`"${prefix}${name}"`);
    });
  }
  it("judges a name that does not start with the prefix as it is", () => {
    expect(shownSecretName("K8sS3AccessKeyForCI2", true, "dev-")).to.equal('"K8sS3AccessKeyForCI2"');
    expect(shownSecretName("q8Zr2Kx7Lm4Tn9Bv3Hc6Wd1Yf5Gs0Pj", true, "dev-")).to.equal(RANDOM_SECRET_NAME);
  });
});

describe("Function: routeNotes on a secret name that looks like a generated value", () => {
  // The note names the key as routes.yaml writes it: there is no api.token key (review h382).
  it("names a generated-looking API token by its routes.yaml key, token (or providers.<provider>.token)", () => {
    const generated = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const text = [
      "version: 1",
      "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
      `providers: { github: { token: ${generated} } }`,
      "routes:",
      "  - name: a",
      "    match: {}",
      "    action: { type: pr-cleanup, steps: [ { delete-s3-prefix: { bucket: my-bucket, prefix: 'p/{{repo.path}}/pr-{{pr.number}}/' } } ] }",
    ].join("\n");
    const { config, problems } = parseRoutes(text, "routes.yaml");
    expect(problems).to.deep.equal([]);
    const notes = routeNotes(config?.routes ?? []).filter((n) => n.includes("generated secret value"));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^route a: token \(or providers\.<provider>\.token\): /);
  });

  for (const [how, value] of GENERATED) {
    it(`a route whose secret: is a value made by ${how} is valid, with a note naming the route and key but not the value`, () => {
      const { config, problems } = parseRoutes(routesWithSecret(value), "routes.yaml");
      expect(problems).to.deep.equal([]);
      expect(secretRefProblem(value)).to.equal(undefined);
      const notes = routeNotes(config?.routes ?? []).filter((note) =>
        note.includes("generated secret value"),
      );
      expect(notes).to.deep.equal([
        "route api-build: secret (or defaults.secret): the secret name (not shown) looks like a generated secret value, not a name; if it is the value, store it in Secrets Manager, write the secret's name here, and replace the value where it is used (routes.yaml's history holds it)",
      ]);
      for (const part of value.split("/")) expect(notes.join("\n")).not.to.contain(part);
    });
  }

  it("names jenkins.credentials when the Jenkins credentials' name is a generated value", () => {
    const { config } = parseRoutes(
      routesWithSecret("hookgate/github-webhook", GENERATED[0]?.[1]),
      "routes.yaml",
    );
    const notes = routeNotes(config?.routes ?? []).filter((note) => note.includes("generated secret value"));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^route api-build: jenkins\.credentials: the secret name \(not shown\)/);
  });

  it("the note on one secret as webhook secret and credentials does not quote a name that looks generated", () => {
    const value = GENERATED[0]?.[1] ?? "";
    const { config } = parseRoutes(routesWithSecret(value, value), "routes.yaml");
    const notes = routeNotes(config?.routes ?? []);
    expect(notes.some((note) => note.includes("is the webhook secret of"))).to.equal(true);
    expect(notes.join("\n")).not.to.contain(value);
  });

  for (const name of NAMES) {
    it(`a route whose secret is ${JSON.stringify(name)} has no such note`, () => {
      const { config, problems } = parseRoutes(routesWithSecret(name), "routes.yaml");
      expect(problems).to.deep.equal([]);
      const notes = routeNotes(config?.routes ?? []);
      expect(notes.filter((note) => note.includes("generated secret value"))).to.deep.equal([]);
    });
  }
});
