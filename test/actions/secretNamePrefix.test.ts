// A commit status names the secret an action could not use, unless the name looks like a pasted value. The
// function's names carry the stack's secretNamePrefix; given it (HOOKGATE_SECRET_NAME_PREFIX, serve's ""), the
// status judges the name without it, as `hookgate check` judges the name routes.yaml writes (review h445).
import { expect } from "chai";
import { gitHostClient } from "../../src/actions/gitHost";
import { triggerJenkins } from "../../src/actions/jenkins";
import { publicSecretName, readSecret } from "../../src/actions/secrets";
import { looksRandom, RANDOM_SECRET_NAME, shownSecretName } from "../../src/core/routes/checks";
import { MemorySecretStore } from "../support/secrets";
import { type RefusingJenkins, rejectsWithActionError, startRefusingJenkins, testClients } from "./helpers";

// Acronyms and short words between path parts: check, the alarms and webhookSetup show them. A commit status is
// public, so it also judges the name behind each of its "/"-parts, where some part reads as generated: hidden
// there (the route's key still says which secret), as a value pasted behind a path part must be.
const ORDINARY = [
  "platform/K8s/S3/AccessKeyIdV2",
  "team/OIDC/CI/K8sSecretKey",
  "prod/EU1/OIDC/S3WebhookCi",
  "acme/IAM/Ci/WebhookK8sKey",
];
const PASTED = "q8Zr2Kx7Lm4Tn9Bv3Hc6Wd1Yf5Gs0Pj";

describe("Function: publicSecretName given the stack's secretNamePrefix", () => {
  for (const name of ORDINARY) {
    it(`shows ${name} where check and the alarms do, and hides it in a commit status, public, behind the route's key`, () => {
      expect(looksRandom(name), "check notes it").to.equal(false);
      expect(shownSecretName(`dev/${name}`, true, "dev/")).to.equal(`"dev/${name}"`);
      expect(publicSecretName(`dev/${name}`, "jenkins.credentials", undefined, "dev/")).to.equal(
        `the jenkins.credentials secret ${RANDOM_SECRET_NAME}`,
      );
    });
  }

  it("hides a pasted value behind any prefix it is given, one not ending in / included", () => {
    for (const prefix of ["", "dev/", "hookgate-dev-", "dev/q8"])
      expect(publicSecretName(`${prefix}${PASTED}`, "token", undefined, prefix), prefix).to.equal(
        `the token secret ${RANDOM_SECRET_NAME}`,
      );
  });

  it("names an ordinary name behind a prefix not ending in / that it is given, which it hides when it is not given", () => {
    const name = "dev-K8sS3AccessKeyForCI2";
    expect(publicSecretName(name, "token", undefined, "dev-")).to.equal(`"${name}"`);
    expect(publicSecretName(name, "token", undefined, "")).to.equal(`the token secret ${RANDOM_SECRET_NAME}`);
  });
});

describe("The actions' commit statuses with ActionClients.secretNamePrefix", () => {
  const name = "dev-K8sS3AccessKeyForCI2";
  const other = "dev-B2BApiV2KeyForSAP4HANA";
  const clients = (values: Record<string, string>) =>
    testClients({ secrets: new MemorySecretStore(values), secretNamePrefix: "dev-" });

  it("readSecret: a missing secret is named in the commit status", async () => {
    const err = await rejectsWithActionError(readSecret(clients({}), name, "jenkins.credentials"));
    expect(err.publicMessage).to.equal(`secret "${name}" was not found or holds no value`);
  });

  it("gitHostClient: a token secret that holds no token is named in the commit status", async () => {
    const err = await rejectsWithActionError(
      gitHostClient(
        { provider: "github", apiUrl: "http://127.0.0.1:9", token: name },
        clients({ [name]: "{not json" }),
      ),
    );
    expect(err.publicMessage).to.equal(`secret "${name}" is neither a plain token nor valid JSON`);
  });

  describe("triggerJenkins", () => {
    let jenkins: RefusingJenkins;
    before(async () => {
      jenkins = await startRefusingJenkins();
    });
    after(() => jenkins.close());

    const run = (credentials: string) =>
      triggerJenkins(
        {
          type: "jenkins",
          jenkins: { url: jenkins.url, credentials, crumb: false },
          job: ["j"],
          parameters: {},
        },
        clients({ [name]: '{"user":"u","token":"t"}', [other]: "{}" }),
        { deliveryId: "d", acceptedAt: "2026-12-07T00:00:00.000Z", attempt: 1 },
      );

    for (const code of [404, 403]) {
      it(`a Jenkins ${code} names the credentials secret in the commit status`, async () => {
        jenkins.answer(code);
        const err = await rejectsWithActionError(run(name));
        expect(err.publicMessage).to.contain(`the user of ${name}`);
      });
    }

    it("credentials that are not Jenkins JSON are named in the commit status", async () => {
      const err = await rejectsWithActionError(run(other));
      expect(err.publicMessage).to.contain(`secret "${other}" must be JSON`);
    });
  });
});

describe("Function: publicSecretName and a value pasted behind a routes.yaml path part", () => {
  // openssl rand -base64 24 (a "/" leaving both parts short), pasted behind "jenkins/": check notes nothing (a
  // path), but a commit status is public.
  const VALUE = "q8Zr2Kx7Lm4Tn9B/3Hc6Wd1Yf5Gs0Pjx";
  const NAME = `jenkins/${VALUE}`;

  for (const prefix of ["", "dev/"]) {
    it(`publicSecretName hides it behind the stack's prefix ${JSON.stringify(prefix)}, though the name as written reads as a path`, () => {
      expect(looksRandom(NAME)).to.equal(false);
      expect(publicSecretName(`${prefix}${NAME}`, "jenkins.credentials", undefined, prefix)).to.equal(
        `the jenkins.credentials secret ${RANDOM_SECRET_NAME}`,
      );
    });
  }

  it("publicSecretName hides it after a path of 64 characters or more too", () => {
    const long = `organisation-platform/continuous-integration/jenkins-credentials/${VALUE}`;
    for (const prefix of ["", "dev/"])
      expect(publicSecretName(`${prefix}${long}`, "jenkins.credentials", undefined, prefix), prefix).to.equal(
        `the jenkins.credentials secret ${RANDOM_SECRET_NAME}`,
      );
  });

  it("readSecret's commit status for such a missing secret does not quote the value (a deployed function without a prefix)", async () => {
    const clients = testClients({ secrets: new MemorySecretStore({}), secretNamePrefix: "" });
    const err = await rejectsWithActionError(readSecret(clients, NAME, "jenkins.credentials"));
    expect(err.publicMessage).to.not.include(VALUE);
  });
});
