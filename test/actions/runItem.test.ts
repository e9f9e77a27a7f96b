import { expect } from "chai";
import { runItem } from "../../src/actions/runItem";
import { workItem } from "../gateway/support";
import { rejectsWithActionError, testClients } from "./helpers";

/** What runItem makes of a runner that throws `err`. */
async function failureOf(err: unknown) {
  return rejectsWithActionError(
    runItem(
      async () => {
        throw err;
      },
      workItem(),
      testClients(),
    ),
  );
}

/** An Error as Node throws one: a message naming what it was given, and a code. */
function nodeError(message: string, code: unknown): Error {
  return Object.assign(new Error(message), { code });
}

describe("runItem: an unexpected error", () => {
  it("names a module missing from the bundle by its Node code, MODULE_NOT_FOUND, and is retryable", async () => {
    const err = await failureOf(nodeError("Cannot find module '@aws-sdk/lib-storage'", "MODULE_NOT_FOUND"));
    expect(err.message).to.equal("the action failed unexpectedly: Error (MODULE_NOT_FOUND)");
    expect(err.retryable).to.equal(true);
  });

  it("names a full /tmp (ENOSPC) and too many open files (EMFILE) by their codes", async () => {
    expect((await failureOf(nodeError("write /tmp/x", "ENOSPC"))).message).to.equal(
      "the action failed unexpectedly: Error (ENOSPC)",
    );
    expect((await failureOf(nodeError("open /tmp/y", "EMFILE"))).message).to.equal(
      "the action failed unexpectedly: Error (EMFILE)",
    );
  });

  it("never quotes the error's message, nor a code that is not shaped like Node's", async () => {
    const secret = "s3cr3t-token";
    for (const code of [secret, "not a code", 42, "E", "eNOSPC"]) {
      const err = await failureOf(Object.assign(new TypeError(`bad ${secret}`), { code }));
      expect(err.message).to.equal("the action failed unexpectedly: TypeError");
      expect(err.message).not.to.contain(secret);
    }
  });

  it("is named Error when what was thrown is not an object", async () => {
    expect((await failureOf("a string")).message).to.equal("the action failed unexpectedly: Error");
  });
});
