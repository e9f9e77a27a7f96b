import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { gitHostClient } from "../../src/actions/gitHost";
import { assertPemBundle } from "../../src/actions/http";
import { triggerJenkins } from "../../src/actions/jenkins";
import {
  parseJenkinsCredentials,
  parseProviderToken,
  readSecret,
  rereadSecret,
} from "../../src/actions/secrets";
import { SecretsManagerStore } from "../../src/aws/secrets";
import { ActionError, SecretNotFoundError, TransientDependencyError } from "../../src/core/errors";
import type { SecretStore } from "../../src/core/ports";
import { looksRandom } from "../../src/core/routes/checks";
import { MemorySecretStore } from "../support/secrets";
import { HOST_TOKEN, rejectsWithActionError, testClients } from "./helpers";

describe("Function: readSecret (a missing or empty secret is final, a store that fails is retryable)", () => {
  it("readSecret reads the current version, the first one listed", async () => {
    const secrets = new MemorySecretStore({ "hookgate/token": ["new-token", "old-token"] });
    expect(await readSecret({ secrets }, "hookgate/token")).to.equal("new-token");
  });

  const finals: Array<[string, SecretStore, string]> = [
    ["does not exist", new MemorySecretStore(), 'secret "hookgate/token" was not found or holds no value'],
    ["holds no version", { versions: async () => [] }, 'secret "hookgate/token" holds no value'],
    [
      "holds an empty value",
      new MemorySecretStore({ "hookgate/token": "" }),
      'secret "hookgate/token" holds no value',
    ],
    [
      "holds only a line break and spaces",
      new MemorySecretStore({ "hookgate/token": " \n " }),
      'secret "hookgate/token" holds no value',
    ],
  ];
  for (const [what, secrets, message] of finals) {
    it(`readSecret fails final, naming the secret, when it ${what}`, async () => {
      const err = await rejectsWithActionError(readSecret({ secrets }, "hookgate/token"));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(message);
    });
  }

  const retryable: Array<[string, SecretStore, string]> = [
    [
      "is throttled",
      new MemorySecretStore({ "hookgate/token": "t" }).throttle(1),
      'Secrets Manager throttled reading "hookgate/token"',
    ],
    [
      "fails otherwise",
      {
        versions: async () => {
          throw new Error("socket hang up");
        },
      },
      'Secrets Manager could not be read (secret "hookgate/token")',
    ],
  ];
  for (const [what, secrets, message] of retryable) {
    it(`readSecret is retryable, naming the secret, when the store ${what}`, async () => {
      const err = await rejectsWithActionError(readSecret({ secrets }, "hookgate/token"));
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal(message);
    });
  }

  it("readSecret's public message (the commit status) for a store's failure does not quote a name that looks like a generated value", async () => {
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const client = new SecretsManagerClient({ region: "eu-west-1" });
    const sm = mockClient(client);
    try {
      sm.on(GetSecretValueCommand).rejects(
        Object.assign(new Error("AccessDeniedException from Secrets Manager"), {
          name: "AccessDeniedException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const err = await rejectsWithActionError(
        readSecret({ secrets: new SecretsManagerStore(client) }, pasted),
      );
      expect(err.publicMessage).to.equal(
        "Secrets Manager could not give a secret of this route (a name that looks like a secret value) (AccessDeniedException)",
      );
    } finally {
      sm.restore();
    }
  });

  it("readSecret's commit status for a missing secret does not quote a name that looks like a generated value, and says the key when given", async () => {
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const unkeyed = await rejectsWithActionError(readSecret({ secrets: new MemorySecretStore() }, pasted));
    expect(unkeyed.publicMessage).to.equal(
      "a secret of this route (a name that looks like a secret value) was not found or holds no value",
    );
    const keyed = await rejectsWithActionError(
      readSecret({ secrets: new MemorySecretStore() }, pasted, "token"),
    );
    expect(keyed.publicMessage).to.equal(
      "the token secret (a name that looks like a secret value) was not found or holds no value",
    );
  });

  for (const [name, status, said] of [
    [
      "AccessDeniedException",
      400,
      /^Secrets Manager cannot give "hookgate\/token" \(AWSCURRENT\): AccessDeniedException: /,
    ],
    [
      "DecryptionFailure",
      400,
      /^Secrets Manager cannot give "hookgate\/token" \(AWSCURRENT\): DecryptionFailure: /,
    ],
    ["ThrottlingException", 400, /^Secrets Manager unavailable for "hookgate\/token": ThrottlingException: /],
  ] as const) {
    it(`readSecret says Secrets Manager's own ${name}, retryable, rather than calling every failure unavailable or throttled`, async () => {
      const client = new SecretsManagerClient({ region: "eu-west-1" });
      const sm = mockClient(client);
      try {
        sm.on(GetSecretValueCommand).rejects(
          Object.assign(new Error(`${name} from Secrets Manager`), {
            name,
            $fault: "client",
            $metadata: { httpStatusCode: status },
          }),
        );
        const err = await rejectsWithActionError(
          readSecret({ secrets: new SecretsManagerStore(client) }, "hookgate/token"),
        );
        expect(err.retryable).to.equal(true);
        expect(err.message).to.match(said);
      } finally {
        sm.restore();
      }
    });
  }
});

describe("Function: parseProviderToken's refusals (final, naming the secret, never its value)", () => {
  const refusals: Array<[string, string, RegExp]> = [
    [
      "JSON that does not parse",
      '{"token": ',
      /^secret "hookgate\/gh" is neither a plain token nor valid JSON$/,
    ],
    // h365: the token as a JSON string literal, quotes included, would be sent as `Bearer "ghp_…"`.
    [
      "a token stored as a JSON string literal, with its quotes",
      '"ghp_0123456789abcdefghijABCDEFGHIJ0123"',
      /^secret "hookgate\/gh" does not look like an API token: it looks quoted \(stored with its quotes, as `--query SecretString` or jq without -r prints a JSON string\): store the token without them \(the value is not shown\)$/,
    ],
    [
      "a token in a shell's single quotes",
      "'glpat-0123456789abcdefghij'",
      /^secret "hookgate\/gh" does not look like an API token: it looks quoted /,
    ],
    [
      'a {"token"} whose token is a JSON string literal',
      '{"token": "\\"ghp_0123456789abcdefghij\\""}',
      /^secret "hookgate\/gh" does not look like an API token: it looks quoted /,
    ],
    [
      "a token with a backslash in it",
      "ghp_0123\\n",
      /^secret "hookgate\/gh" does not look like an API token: it holds a quote or a backslash, which no token has \(the value is not shown\)$/,
    ],
    [
      "a token with a space in it",
      "ghp_abc def",
      /^secret "hookgate\/gh" does not look like an API token: it holds a space, a line break or a character a token never has \(the value is not shown\)$/,
    ],
  ];
  for (const [what, raw, message] of refusals) {
    it(`parseProviderToken refuses ${what}`, () => {
      let thrown: ActionError | undefined;
      try {
        parseProviderToken(raw, "hookgate/gh");
      } catch (err) {
        thrown = err as ActionError;
      }
      expect(thrown?.retryable).to.equal(false);
      expect(thrown?.message).to.match(message);
    });
  }
});

// h365: a secret stored from a file Windows PowerShell 5.1 wrote (Set-Content -Encoding UTF8) starts with a
// byte order mark; the gateway, the Jenkins action and the Git host actions read it alike (parseProviderToken's
// trim takes it off).
describe("Function: parseJenkinsCredentials after a byte order mark", () => {
  const BOM = "\uFEFF";
  it("parseJenkinsCredentials reads {user, token} after a byte order mark", () => {
    expect(
      parseJenkinsCredentials(`${BOM}{"user":"ci-bot","token":"11aa22bb33cc"}`, "hookgate/jenkins"),
    ).to.deep.equal({ user: "ci-bot", token: "11aa22bb33cc" });
  });
});

// A name that looksRandom (maybe the value, pasted) is hidden where the text is public (a commit status) but
// named in the message (log lines, the dead-letter reason): the operator needs it to find the secret.
describe("Function: the actions' secret errors name a random-looking secret in logs and hide it in the commit status", () => {
  // secrets.token_urlsafe(32), pasted where the name belongs.
  const PASTED = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
  const HIDDEN = "(a name that looks like a secret value)";

  it("precondition: the names used here look random", () => {
    expect([PASTED, "GHE_PAT_CI_Bot_v2_2024", "JNK_API_CI_Bot_v3_2025"].map(looksRandom)).to.deep.equal([
      true,
      true,
      true,
    ]);
  });

  it("readSecret names the secret in the message and hides it in the commit status when the store refuses (AccessDenied)", async () => {
    const client = new SecretsManagerClient({ region: "eu-west-1" });
    const sm = mockClient(client);
    try {
      sm.on(GetSecretValueCommand).rejects(
        Object.assign(new Error("AccessDeniedException from Secrets Manager"), {
          name: "AccessDeniedException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        }),
      );
      const err = await rejectsWithActionError(
        readSecret({ secrets: new SecretsManagerStore(client) }, PASTED, "jenkins.credentials"),
      );
      expect(err.message).to.contain(PASTED);
      expect(err.publicMessage).to.equal(
        `Secrets Manager could not give the jenkins.credentials secret ${HIDDEN} (AccessDeniedException)`,
      );
    } finally {
      sm.restore();
    }
  });

  it("readSecret hides the name in the commit status of a secret scheduled for deletion, which the message names with its restore command", async () => {
    const secrets = {
      versions: async (name: string) => {
        throw new SecretNotFoundError(name, { scheduledForDeletion: true });
      },
    };
    const err = await rejectsWithActionError(readSecret({ secrets }, PASTED, "token"));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain(`restore-secret --secret-id ${PASTED}`);
    expect(err.publicMessage).to.equal(
      `the token secret ${HIDDEN} is scheduled for deletion: restore it to use it again`,
    );
  });

  it("readSecret names the secret in the message and hides it in the commit status when the store fails otherwise, or it holds nothing", async () => {
    const broken = {
      versions: async () => {
        throw new Error("socket hang up");
      },
    };
    const failed = await rejectsWithActionError(readSecret({ secrets: broken }, PASTED));
    expect(failed.message).to.equal(`Secrets Manager could not be read (secret "${PASTED}")`);
    expect(failed.publicMessage).to.equal(
      `Secrets Manager could not be read (a secret of this route ${HIDDEN})`,
    );
    const empty = await rejectsWithActionError(readSecret({ secrets: { versions: async () => [] } }, PASTED));
    expect(empty.message).to.equal(`secret "${PASTED}" holds no value`);
    expect(empty.publicMessage).to.equal(`a secret of this route ${HIDDEN} holds no value`);
  });

  it("rereadSecret names the secret in the message (the dead-letter reason) and hides it in the commit status when the store fails", async () => {
    const secrets = {
      versions: async (name: string) => {
        throw new TransientDependencyError(`Secrets Manager unavailable for "${name}": ThrottlingException`);
      },
    };
    const err = await rejectsWithActionError(rereadSecret({ secrets }, PASTED, "old", "token"));
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain(`and "${PASTED}" could not be read again`);
    expect(err.publicMessage).not.to.contain(PASTED);
    expect(err.publicMessage).to.contain(`and the token secret ${HIDDEN} could not be read again`);
  });

  it("assertPemBundle names the secret in the message and hides it in the commit status, saying which caBundle", () => {
    let err: unknown;
    try {
      assertPemBundle("not a certificate", PASTED, "jenkins.caBundle");
    } catch (error) {
      err = error;
    }
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).message).to.equal(
      `secret "${PASTED}" does not hold a PEM certificate bundle`,
    );
    expect((err as ActionError).publicMessage).to.equal(
      `the jenkins.caBundle secret ${HIDDEN} does not hold a PEM certificate bundle`,
    );
  });

  it("the parsers name the secret in the message and hide it in the commit status behind the key they read", () => {
    const caught = (run: () => unknown): ActionError => {
      try {
        run();
      } catch (error) {
        return error as ActionError;
      }
      throw new Error("no error");
    };
    const jenkins = caught(() => parseJenkinsCredentials("{}", PASTED));
    expect(jenkins.message).to.contain(`secret "${PASTED}" must be JSON`);
    expect(jenkins.publicMessage).to.contain(`the jenkins.credentials secret ${HIDDEN} must be JSON`);
    const token = caught(() => parseProviderToken("tok en", PASTED));
    expect(token.message).to.contain(`secret "${PASTED}" does not look like an API token`);
    expect(token.publicMessage).to.contain(`the token secret ${HIDDEN} does not look like an API token`);
  });

  it("the Git host client and the Jenkins trigger say in the commit status which key names a missing secret", async () => {
    const secrets = new MemorySecretStore({
      "hookgate/token": HOST_TOKEN,
      "hookgate/jenkins": '{"user":"u","token":"t"}',
    });
    const clients = testClients({ secrets });
    const statusOf = async (run: Promise<unknown>) => (await rejectsWithActionError(run)).publicMessage;
    const api = { provider: "github" as const, apiUrl: "http://127.0.0.1:9" };
    expect(await statusOf(gitHostClient({ ...api, token: PASTED }, clients))).to.contain("the token secret");
    expect(
      await statusOf(gitHostClient({ ...api, token: "hookgate/token", caBundle: PASTED }, clients)),
    ).to.contain("the providers.<provider>.caBundle secret");
    const jenkins = (credentials: string, caBundle?: string) =>
      triggerJenkins(
        {
          type: "jenkins",
          jenkins: { url: "http://127.0.0.1:9", credentials, caBundle, crumb: false },
          job: ["j"],
          parameters: {},
        },
        clients,
        { deliveryId: "d", acceptedAt: "2026-12-07T00:00:00.000Z", attempt: 1 },
      );
    expect(await statusOf(jenkins(PASTED))).to.contain("the jenkins.credentials secret");
    expect(await statusOf(jenkins("hookgate/jenkins", PASTED))).to.contain("the jenkins.caBundle secret");
  });

  it("two missing secrets of a route (token, jenkins.credentials) with random-looking names get messages and commit statuses that tell them apart", async () => {
    const secrets = {
      versions: async (name: string) => {
        throw new SecretNotFoundError(name);
      },
    };
    const a = await rejectsWithActionError(readSecret({ secrets }, "GHE_PAT_CI_Bot_v2_2024", "token"));
    const b = await rejectsWithActionError(
      readSecret({ secrets }, "JNK_API_CI_Bot_v3_2025", "jenkins.credentials"),
    );
    expect(a.message).to.equal('secret "GHE_PAT_CI_Bot_v2_2024" was not found or holds no value');
    expect(b.message).to.equal('secret "JNK_API_CI_Bot_v3_2025" was not found or holds no value');
    expect([a.publicMessage, b.publicMessage]).to.deep.equal([
      `the token secret ${HIDDEN} was not found or holds no value`,
      `the jenkins.credentials secret ${HIDDEN} was not found or holds no value`,
    ]);
  });
});
