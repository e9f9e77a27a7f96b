// h365: `hookgate send --secrets FILE --secret-name NAME`, NAME not in the file, listed every key of the file:
// a value written as a key ({"<secret>": "hookgate/github-webhook"}, key and value swapped) was printed on stderr
// (and in a CI log). It prints only the key close to the missing name (a misspelling), and counts the others.
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
      'secret "hookgate/github-webhook" is not in FILE (it has 2 keys, none close to that name, not shown, as a key may be a pasted secret)',
    );
  });

  it("secretEntry does not print a key that looks generated (secrets.token_urlsafe): it counts it", () => {
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const message = missingMessage({
      [pasted]: "hookgate/github-webhook",
      ghp_0123456789abcdefghijABCD: "x",
    });
    expect(message).to.equal(
      'secret "hookgate/github-webhook" is not in FILE (it has 2 keys, none close to that name, not shown, as a key may be a pasted secret)',
    );
  });

  // uuidgen or Terraform's random_uuid, and `openssl rand -hex 10`: valid secret names that looksRandom passes.
  for (const [how, pasted] of [
    ["uuidgen", "3f2b1c9e-4a5d-4e6f-8a7b-1c2d3e4f5a6b"],
    ["openssl rand -hex 10", "a3f9c2e81b7d4f60e5a1"],
  ]) {
    it(`secretEntry does not print a key that is a pasted ${how} secret, which passes as a secret name: it counts it`, () => {
      const message = missingMessage({ [pasted as string]: "hookgate/github-webhook" });
      expect(message).to.equal(
        'secret "hookgate/github-webhook" is not in FILE (it has 1 key, none close to that name, not shown, as a key may be a pasted secret)',
      );
    });
  }

  it("secretEntry prints the one key close to the missing name, a misspelling, and counts the others", () => {
    expect(
      missingMessage({
        "hookgate/jenkins": "x",
        "hookgate/github-webhok": "y",
        "hookgate/gitlab-webhook": "z",
      }),
    ).to.equal(
      'secret "hookgate/github-webhook" is not in FILE (it has: hookgate/github-webhok, and 2 other keys, not shown, as a key may be a pasted secret)',
    );
  });

  it("secretEntry does not echo a --secret-name that looks generated (a value passed where its name belongs)", () => {
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    expect(missingMessage({ "hookgate/github-webhook": "v" }, pasted)).to.equal(
      "secret (a name that looks like a secret value) is not in FILE (it has 1 key, none close to that name, not shown, as a key may be a pasted secret)",
    );
  });

  it("secretEntry prints the key one letter off a missing path-style name of more than 64 characters", () => {
    const real = "hookgate/prod/eu-west-1/github/acme-platform-team/api-gateway-webhook";
    const typo = "hookgate/prod/eu-west-1/github/acme-platform-team/api-gateway-webhok";
    expect(missingMessage({ [real]: "v" }, typo)).to.equal(
      `secret "${typo}" is not in FILE (it has: ${real})`,
    );
  });

  it("secretEntry prints a PascalCase name with acronyms close to the missing name", () => {
    expect(missingMessage({ ProdApiKeyV3ForJenkinsCI: "x" }, "ProdApiKeyV3ForJenkinsCl")).to.equal(
      'secret "ProdApiKeyV3ForJenkinsCl" is not in FILE (it has: ProdApiKeyV3ForJenkinsCI)',
    );
  });

  it("secretEntry says only that the name is missing from an empty file", () => {
    expect(missingMessage({})).to.equal('secret "hookgate/github-webhook" is not in FILE');
  });
});
