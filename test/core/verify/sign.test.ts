import { expect } from "chai";
import { verifyDelivery } from "../../../src/core/verify";
import { signatureHeaders, signingProblem } from "../../../src/core/verify/sign";
import { request } from "./helpers";

const BODY = Buffer.from('{"zen":"Keep it logically awesome."}');

describe("Function: signatureHeaders", () => {
  const cases: Array<[Parameters<typeof signatureHeaders>[0], string, string[]]> = [
    ["github", "s", ["x-hub-signature-256"]],
    ["bitbucket", "s", ["x-hub-signature"]],
    ["bitbucket-server", "s", ["x-hub-signature"]],
    ["gitea", "s", ["x-gitea-signature"]],
    ["gitlab", "plain-token", ["x-gitlab-token"]],
    [
      "gitlab",
      `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      ["webhook-id", "webhook-timestamp", "webhook-signature"],
    ],
  ];
  for (const [provider, secret, names] of cases) {
    it(`signatureHeaders("${provider}", ${secret.startsWith("whsec_") ? "whsec_..." : "secret"}) sets ${names.join(", ")} and verifies`, () => {
      const headers = signatureHeaders(provider, secret, BODY, { id: "msg_1", nowMs: 1_770_000_000_000 });
      expect(Object.keys(headers)).to.deep.equal(names);
      const input = request({ provider, body: BODY, headers, secrets: [secret], nowMs: 1_770_000_000_000 });
      expect(verifyDelivery(input).ok).to.equal(true);
    });
  }

  // Values that start with whsec_ but are no signing key: the gateway (keys.ts signingKey) takes each
  // as a plain token, so the sender must send it as one.
  const notSigningKeys: Array<[string, string]> = [
    ["unpadded base64", `whsec_${Buffer.alloc(32, 5).toString("base64").replace(/=+$/, "")}`],
    ["characters outside base64", "whsec_not base64!"],
    ["nothing after the prefix", "whsec_"],
  ];
  for (const [what, secret] of notSigningKeys) {
    it(`signatureHeaders("gitlab", a whsec_ value with ${what}) sends it as X-Gitlab-Token, which the gateway accepts as the token`, () => {
      const headers = signatureHeaders("gitlab", secret, BODY);
      expect(headers).to.deep.equal({ "x-gitlab-token": secret });
      const input = request({ provider: "gitlab", body: BODY, headers, secrets: [secret] });
      expect(verifyDelivery(input)).to.deep.equal({ ok: true, via: "token" });
    });
  }

  it("signatureHeaders uses the current time and a fresh id for Standard Webhooks by default", () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
    const a = signatureHeaders("gitlab", secret, BODY);
    const b = signatureHeaders("gitlab", secret, BODY);
    expect(a["webhook-id"]).not.to.equal(b["webhook-id"]);
    expect(Math.abs(Number(a["webhook-timestamp"]) - Date.now() / 1000)).to.be.lessThan(5);
    expect(
      verifyDelivery(request({ provider: "gitlab", body: BODY, headers: a, secrets: [secret] })).ok,
    ).to.equal(true);
  });
});

describe("Function: signingProblem (a secret the sender cannot sign with)", () => {
  const signing = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
  const cases: Array<[string, Parameters<typeof signingProblem>[0], string, RegExp | undefined]> = [
    ["a GitHub secret", "github", "s", undefined],
    ["a GitHub secret with a line break (an HMAC key, never sent)", "github", "a\nb", undefined],
    ["a GitLab signing token", "gitlab", signing, undefined],
    ["a GitLab token of header characters", "gitlab", "plain-token", undefined],
    // What Node's own check of a header value lets through (checkInvalidHeaderChar): tab, and 0x80-0xff.
    ["a GitLab token with a tab", "gitlab", "plain\ttoken", undefined],
    ["a GitLab token with a Latin-1 letter", "gitlab", "caf\u00e9-token", undefined],
    // Sent as its UTF-8 bytes, as GitLab sends it: every byte of a non-ASCII character is 0x80-0xff.
    ["a GitLab token with a character past U+00FF", "gitlab", "p\u20acss-token", undefined],
    [
      "a GitLab token with a NUL",
      "gitlab",
      "p\u20acss\u0000token",
      /^the GitLab secret token holds a line break or another control character/,
    ],
    ["an empty secret", "gitea", "", /^the secret is empty$/],
    [
      "a GitLab token with a line break",
      "gitlab",
      "line-one\nline-two",
      /^the GitLab secret token holds a line break/,
    ],
    [
      "a whsec_ value that is no signing key, with a line break",
      "gitlab",
      "whsec_abc\ndef",
      /^the GitLab secret starts with whsec_ but is no signing token .* cannot go in an HTTP header$/,
    ],
  ];
  for (const [what, provider, secret, expected] of cases) {
    it(`${what}: ${expected ? "refused with a reason that does not hold the secret" : "can sign"}`, () => {
      const problem = signingProblem(provider, secret);
      if (expected === undefined) {
        expect(problem).to.equal(undefined);
        expect(() => signatureHeaders(provider, secret, BODY)).not.to.throw();
      } else {
        expect(problem).to.match(expected);
        if (secret !== "") expect(problem).not.to.include(secret.split("\n")[0]);
        expect(() => signatureHeaders(provider, secret, BODY)).to.throw(TypeError, problem);
      }
    });
  }
});
