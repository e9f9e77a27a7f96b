import { expect } from "chai";
import { signatureHeaders, verifyDelivery } from "../../../src/core/verify";
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
