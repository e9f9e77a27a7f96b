import { expect } from "chai";
import { parseProviderToken, readSecret } from "../../src/actions/secrets";
import type { ActionError } from "../../src/core/errors";
import type { SecretStore } from "../../src/core/ports";
import { MemorySecretStore } from "../support/secrets";
import { rejectsWithActionError } from "./helpers";

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
      'Secrets Manager is unavailable or throttled (secret "hookgate/token")',
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
});

describe("Function: parseProviderToken's refusals (final, naming the secret, never its value)", () => {
  const refusals: Array<[string, string, RegExp]> = [
    [
      "JSON that does not parse",
      '{"token": ',
      /^secret "hookgate\/gh" is neither a plain token nor valid JSON$/,
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
