// h365: `hookgate send --secrets FILE --secret-name NAME`, NAME not in the file, listed every key of the file:
// a value written as a key ({"<secret>": "hookgate/github-webhook"}, key and value swapped) was printed on stderr
// (and in a CI log). It lists only keys that are secret names, and counts the others.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { secretEntry } from "../../src/cli/send";

/** secretEntry's error for `name` in a secrets file holding `entries`. */
function missingMessage(entries: Record<string, unknown>, name = "hookgate/github-webhook"): string {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-send-names-"));
  try {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify(entries));
    try {
      secretEntry(file, name);
    } catch (error) {
      return (error as Error).message.replace(file, "FILE");
    }
    throw new Error("secretEntry did not refuse");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("Function: secretEntry's message for a name the secrets file lacks", () => {
  it("secretEntry does not print a key that is a pasted hex secret: it counts it", () => {
    const pasted = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    expect(missingMessage({ [pasted]: "hookgate/github-webhook", "hookgate/jenkins": "x" })).to.equal(
      'secret "hookgate/github-webhook" is not in FILE (it has: hookgate/jenkins, and 1 other not shown: a key that is no secret name may be a pasted secret)',
    );
  });

  it("secretEntry does not print a key that looks generated (secrets.token_urlsafe): it counts it", () => {
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const message = missingMessage({
      [pasted]: "hookgate/github-webhook",
      ghp_0123456789abcdefghijABCD: "x",
    });
    expect(message).to.equal(
      'secret "hookgate/github-webhook" is not in FILE (it has: 2 others not shown: a key that is no secret name may be a pasted secret)',
    );
  });

  it("secretEntry lists every key when each is a secret name", () => {
    expect(missingMessage({ "hookgate/jenkins": "x", "hookgate/gitlab-webhook": "y" })).to.equal(
      'secret "hookgate/github-webhook" is not in FILE (it has: hookgate/jenkins, hookgate/gitlab-webhook)',
    );
  });

  it("secretEntry says only that the name is missing from an empty file", () => {
    expect(missingMessage({})).to.equal('secret "hookgate/github-webhook" is not in FILE');
  });
});
