// A Secrets Manager refusal's own words name the caller's role ARN (hence the AWS account id, role and function
// names): they go to the logs, never into a pull request's commit status, which is public on a public repository.
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import { readSecret, rereadSecret } from "../../src/actions/secrets";
import { SecretsManagerStore } from "../../src/aws/secrets";
import type { PrCleanupRequest, Provider } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, rejectsWithActionError, testClients } from "./helpers";

// As IAM words it (mongodb/awscdk-resources-mongodbatlas#207, nautobot-app-secrets-providers#64).
const ROLE_ARN =
  "arn:aws:sts::123456789012:assumed-role/hookgate-prod-cleanup-role-9f2e1c/hookgate-prod-cleanup";
const ACCESS_DENIED =
  `User: ${ROLE_ARN} is not authorized to perform: secretsmanager:GetSecretValue on resource: ` +
  "hookgate/jenkins because no identity-based policy allows the secretsmanager:GetSecretValue action";

const accessDenied = () =>
  Object.assign(new Error(ACCESS_DENIED), {
    name: "AccessDeniedException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });

const API_PATHS: Record<Provider, string> = {
  github: "",
  gitlab: "/api/v4",
  bitbucket: "/2.0",
  "bitbucket-server": "/rest/api/latest",
  gitea: "/api/v1",
};

describe("pr-cleanup: a Secrets Manager refusal in the commit status (h365)", function () {
  this.timeout(30_000);
  const sm = mockClient(SecretsManagerClient);
  let host: GitHostServer | undefined;
  after(() => sm.restore());
  afterEach(async () => host?.close());

  for (const provider of Object.keys(API_PATHS) as Provider[]) {
    it(`${provider}: the commit status of a step whose secret the role may not read names the secret and AccessDeniedException, not the role ARN; the log keeps Secrets Manager's words`, async () => {
      sm.reset();
      sm.on(GetSecretValueCommand, { SecretId: "hookgate/token", VersionStage: "AWSCURRENT" }).resolves({
        SecretString: HOST_TOKEN,
      });
      sm.on(GetSecretValueCommand, { SecretId: "hookgate/token", VersionStage: "AWSPREVIOUS" }).rejects(
        new ResourceNotFoundException({ message: "no previous", $metadata: {} }),
      );
      sm.on(GetSecretValueCommand, { SecretId: "hookgate/jenkins" }).rejects(accessDenied());
      host = await startGitHostServer({ token: HOST_TOKEN });
      host.setRepo("acme/api", { defaultBranch: "main" });
      host.setPull("acme/api", mergedPull());
      const request: PrCleanupRequest = {
        type: "pr-cleanup",
        api: { provider, apiUrl: `${host.url}${API_PATHS[provider]}`, token: "hookgate/token" },
        context: "hookgate/pr-cleanup",
        steps: [
          {
            kind: "jenkins",
            request: {
              type: "jenkins",
              jenkins: { url: "http://127.0.0.1:9", credentials: "hookgate/jenkins", crumb: false },
              job: ["teardown"],
              parameters: {},
            },
          },
        ],
      };
      const clients = testClients({
        secrets: new SecretsManagerStore(new SecretsManagerClient({ region: "eu-west-1" })),
      });
      const failed = await cleanUpPullRequest(request, closedPrEvent({}, { provider }), clients).then(
        () => false,
        () => true,
      );
      expect(failed, "the step fails").to.equal(true);
      expect(host.statuses.at(-1)?.description).to.equal(
        'jenkins failed, will retry: Secrets Manager could not give "hookgate/jenkins" (AccessDeniedException)',
      );
      const logged = clients.logs.find((line) => line.msg === "pr-cleanup step failed");
      expect(String(logged?.error)).to.contain(ROLE_ARN);
    });
  }
});

describe("Function: readSecret and rereadSecret, a store's refusal as a commit status may show it", () => {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const sm = mockClient(client);
  after(() => sm.restore());
  beforeEach(() => {
    sm.reset();
    sm.on(GetSecretValueCommand).rejects(accessDenied());
  });

  it("readSecret's publicMessage names the secret and the error's name; its message keeps Secrets Manager's words for the logs", async () => {
    const err = await rejectsWithActionError(
      readSecret({ secrets: new SecretsManagerStore(client) }, "hookgate/jenkins"),
    );
    expect(err.publicMessage).to.equal(
      'Secrets Manager could not give "hookgate/jenkins" (AccessDeniedException)',
    );
    expect(err.message).to.contain(ROLE_ARN);
  });

  it("rereadSecret's publicMessage names the secret and the error's name, not the role ARN", async () => {
    const err = await rejectsWithActionError(
      rereadSecret({ secrets: new SecretsManagerStore(client) }, "hookgate/jenkins", "old-token"),
    );
    expect(err.retryable).to.equal(true);
    expect(err.publicMessage).to.equal(
      'the credentials were refused (401), and "hookgate/jenkins" could not be read again to look for a rotated value: Secrets Manager could not give "hookgate/jenkins" (AccessDeniedException)',
    );
    expect(err.message).to.contain(ROLE_ARN);
  });
});
