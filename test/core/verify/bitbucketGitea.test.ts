import { createHmac } from "node:crypto";
import { expect } from "chai";
import { verifyDelivery } from "../../../src/core/verify";
import { signHex } from "../../../src/core/verify/hmac";
import { signatureHeaders } from "../../../src/core/verify/sign";
import { OTHER_SECRET, request, SECRET } from "./helpers";

const BODY = Buffer.from('{"push":{"changes":[]},"repository":{"full_name":"team/repo"}}');
const hex = (secret = SECRET) => signHex("sha256", secret, BODY);
const createHmacHex = (algorithm: "sha384" | "sha512") =>
  `${algorithm}=${createHmac(algorithm, SECRET).update(BODY).digest("hex")}`;

describe("Function: verifyDelivery (Bitbucket Cloud and Data Center)", () => {
  for (const provider of ["bitbucket", "bitbucket-server"] as const) {
    const verify = (headers: Record<string, string | string[]>, auth = {}) =>
      verifyDelivery(request({ provider, body: BODY, headers, auth }));

    it(`${provider}: verifyDelivery accepts X-Hub-Signature: sha256=<hex>`, () => {
      expect(verify(signatureHeaders(provider, SECRET, BODY))).to.deep.equal({ ok: true, via: "signature" });
    });

    it(`${provider}: verifyDelivery rejects a GitHub-style sha1= value in X-Hub-Signature, even with allowSha1, naming sha1`, () => {
      const sha1 = signHex("sha1", SECRET, BODY, "sha1=");
      expect(verify({ "x-hub-signature": sha1 }, { allowSha1: true })).to.deep.include({
        ok: false,
        status: 401,
        reason: `signature algorithm sha1 is not accepted: a ${provider} route reads X-Hub-Signature: sha256=`,
        retryWithFreshSecret: false,
      });
    });

    // [what the header holds, the algorithm the refusal names (undefined: "signature malformed")]
    const others: Array<[string, string, string | undefined]> = [
      ["an HMAC-SHA512 made with the route's secret", createHmacHex("sha512"), "sha512"],
      ["an HMAC-SHA384", createHmacHex("sha384"), "sha384"],
      ["SHA512= in capitals", createHmacHex("sha512").replace("sha512=", "SHA512="), "sha512"],
      ["sha512= with a digest of the wrong length", `sha512=${"a".repeat(127)}`, undefined],
      ["sha512= with a non-hex digest", `sha512=${"g".repeat(128)}`, undefined],
      ["an algorithm not in the list", `md5=${"a".repeat(32)}`, undefined],
      ["a made-up algorithm name", `<script>=${"a".repeat(64)}`, undefined],
    ];
    for (const [name, value, algorithm] of others) {
      it(`${provider}: verifyDelivery refuses ${name} ${algorithm ? `naming ${algorithm}` : "as malformed"}`, () => {
        const result = verify({ "x-hub-signature": value });
        expect(result).to.deep.include({
          ok: false,
          status: 401,
          reason: algorithm
            ? `signature algorithm ${algorithm} is not accepted: a ${provider} route reads X-Hub-Signature: sha256=`
            : "signature malformed",
        });
        if (result.ok) throw new Error("accepted");
        if (algorithm)
          expect(result.detail).to.include(`${algorithm}= HMAC`).and.not.include(value.slice(8, 40));
      });
    }

    it(`${provider}: verifyDelivery ignores GitHub's X-Hub-Signature-256 header, and says which header it reads`, () => {
      expect(verify({ "x-hub-signature-256": `sha256=${hex()}` })).to.deep.include({
        ok: false,
        reason: `signature missing: a ${provider} route reads X-Hub-Signature`,
      });
    });

    it(`${provider}: verifyDelivery rejects bare hex (Bitbucket always prefixes sha256=)`, () => {
      expect(verify({ "x-hub-signature": hex() })).to.deep.include({
        ok: false,
        reason: "signature malformed",
      });
    });

    it(`${provider}: verifyDelivery rejects another secret's signature`, () => {
      expect(verify({ "x-hub-signature": `sha256=${hex(OTHER_SECRET)}` })).to.deep.include({
        ok: false,
        retryWithFreshSecret: true,
      });
    });

    it(`${provider}: verifyDelivery rejects a repeated X-Hub-Signature`, () => {
      const value = `sha256=${hex()}`;
      expect(verify({ "x-hub-signature": [value, value] })).to.deep.include({
        ok: false,
        reason: "signature header repeated",
      });
    });
  }

  it("bitbucket: verifyDelivery rejects a repeated X-Request-UUID as an ambiguous delivery id", () => {
    const headers = { ...signatureHeaders("bitbucket", SECRET, BODY), "x-request-uuid": ["a", "b"] };
    expect(verifyDelivery(request({ provider: "bitbucket", body: BODY, headers }))).to.deep.include({
      ok: false,
      status: 401,
    });
  });
});

describe("Function: verifyDelivery (Gitea and Forgejo)", () => {
  const verify = (headers: Record<string, string | string[]>) =>
    verifyDelivery(request({ provider: "gitea", body: BODY, headers }));

  for (const name of ["X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature"]) {
    it(`verifyDelivery accepts the bare hex HMAC in ${name}`, () => {
      expect(verify({ [name]: hex() })).to.deep.equal({ ok: true, via: "signature" });
    });

    it(`verifyDelivery rejects a sha256= prefix in ${name}`, () => {
      expect(verify({ [name]: `sha256=${hex()}` })).to.deep.include({
        ok: false,
        reason: "signature malformed",
      });
    });
  }

  it("verifyDelivery accepts Gitea's X-Hub-Signature-256 when no Gitea header is present", () => {
    expect(verify({ "x-hub-signature-256": `sha256=${hex()}` }).ok).to.equal(true);
  });

  it("verifyDelivery lets X-Gitea-Signature decide over X-Hub-Signature-256", () => {
    expect(
      verify({ "x-gitea-signature": hex(OTHER_SECRET), "x-hub-signature-256": `sha256=${hex()}` }).ok,
    ).to.equal(false);
  });

  it("verifyDelivery accepts what Gitea really sends: all its signature headers at once", () => {
    const all = {
      "x-gitea-signature": hex(),
      "x-gogs-signature": hex(),
      "x-hub-signature": signHex("sha1", SECRET, BODY, "sha1="),
      "x-hub-signature-256": `sha256=${hex()}`,
    };
    expect(verify(all).ok).to.equal(true);
  });

  it("verifyDelivery rejects a repeated X-Forgejo-Signature even when X-Gitea-Signature is valid", () => {
    expect(verify({ "x-gitea-signature": hex(), "x-forgejo-signature": [hex(), hex()] })).to.deep.include({
      ok: false,
      reason: "signature header repeated",
    });
  });

  // services/webhook/deliver.go signs only when the webhook has a secret, but always adds the headers.
  const unsigned = {
    "x-gitea-signature": "",
    "x-gogs-signature": "",
    "x-hub-signature": "sha1=",
    "x-hub-signature-256": "sha256=",
  };

  it("verifyDelivery takes a webhook without a secret (empty signature headers) as unsigned, not malformed", () => {
    expect(verify(unsigned)).to.deep.include({
      ok: false,
      status: 401,
      reason:
        "signature missing: a gitea route reads X-Gitea-Signature, X-Forgejo-Signature, X-Gogs-Signature or X-Hub-Signature-256",
    });
  });

  it("verifyDelivery lets an unsigned Gitea delivery through the IP allowlist of its route", () => {
    const input = request({
      provider: "gitea",
      body: BODY,
      headers: unsigned,
      auth: { allowIps: ["10.0.0.0/8"] },
      sourceIp: "10.1.2.3",
    });
    expect(verifyDelivery(input)).to.deep.equal({ ok: true, via: "ip-allowlist" });
    expect(verifyDelivery({ ...input, sourceIp: "192.0.2.1" }).ok).to.equal(false);
  });

  it("verifyDelivery still checks a real signature after empty headers", () => {
    expect(verify({ ...unsigned, "x-hub-signature-256": `sha256=${hex(OTHER_SECRET)}` }).ok).to.equal(false);
    expect(verify({ ...unsigned, "x-hub-signature-256": `sha256=${hex()}` }).ok).to.equal(true);
  });

  it("verifyDelivery rejects a missing signature, naming every header a Gitea route reads (X-Gogs-Signature too)", () => {
    expect(verify({ "x-gitea-event": "push" })).to.deep.include({
      ok: false,
      status: 401,
      reason:
        "signature missing: a gitea route reads X-Gitea-Signature, X-Forgejo-Signature, X-Gogs-Signature or X-Hub-Signature-256",
    });
  });

  describe("form-encoded deliveries (the webhook's POST content type application/x-www-form-urlencoded)", () => {
    // go-gitea services/webhook/deliver.go, newDefaultRequest: the body is url.Values{"payload": {json}}.Encode(),
    // and addDefaultHeaders signs []byte(t.PayloadContent), the JSON itself (GitHub signs the form body).
    const json = '{"ref":"refs/heads/main","message":"ça & co = 1+1"}';
    const form = Buffer.from(new URLSearchParams({ payload: json }).toString());
    const formRequest = (
      signed: Buffer | string,
      body = form,
      contentType: string | string[] = "application/x-www-form-urlencoded",
    ) =>
      verifyDelivery(
        request({
          provider: "gitea",
          body,
          headers: {
            "content-type": contentType,
            "x-gitea-signature": signHex("sha256", SECRET, Buffer.from(signed)),
          },
        }),
      );

    it("verifyDelivery accepts a form delivery signed over its payload field, as Gitea signs it", () => {
      expect(formRequest(json)).to.deep.equal({ ok: true, via: "signature" });
    });

    it("verifyDelivery rejects a form delivery signed over the form body (Gitea never signs that)", () => {
      expect(formRequest(form)).to.deep.include({ ok: false, status: 401 });
    });

    // Some proxies repeat a header verbatim; the decoder (singleHeader) then still reads a form.
    it("verifyDelivery reads a Content-Type repeated verbatim as one, and verifies the form over its payload field", () => {
      const type = "application/x-www-form-urlencoded";
      expect(formRequest(json, form, [type, type])).to.deep.equal({ ok: true, via: "signature" });
    });

    it("verifyDelivery refuses two different Content-Type values, naming the header, without a secret refresh", () => {
      const types = ["application/x-www-form-urlencoded", "application/json"];
      // Whichever bytes it was signed over: it cannot tell which the sender meant.
      for (const signed of [json, form]) {
        expect(formRequest(signed, form, types)).to.deep.equal({
          ok: false,
          status: 401,
          reason: 'header "content-type" has several different values',
          retryWithFreshSecret: false,
        });
      }
    });

    it("verifyDelivery rejects a form without exactly one payload field", () => {
      expect(formRequest(json, Buffer.from("other=1"))).to.deep.include({
        ok: false,
        reason: "signature malformed",
      });
      const two = Buffer.from(`${form}&${form}`);
      expect(formRequest(json, two)).to.deep.include({ ok: false, reason: "signature malformed" });
    });
  });

  it("verifyDelivery rejects 63 hex characters", () => {
    expect(verify({ "x-gitea-signature": hex().slice(1) })).to.deep.include({
      ok: false,
      reason: "signature malformed",
    });
  });
});

describe("Function: verifyDelivery (Gitea content types and blank headers)", () => {
  const verify = (headers: Record<string, string | string[]>) =>
    verifyDelivery(request({ provider: "gitea", body: BODY, headers }));

  it("verifyDelivery verifies a JSON delivery over its body when the content type says JSON", () => {
    for (const type of ["application/json", "application/json; charset=utf-8"]) {
      expect(verify({ "content-type": type, "x-gitea-signature": hex() }), type).to.deep.equal({
        ok: true,
        via: "signature",
      });
    }
  });

  it("verifyDelivery reads a form content type whatever its case and spacing", () => {
    const json = '{"ref":"refs/heads/main"}';
    const form = Buffer.from(new URLSearchParams({ payload: json }).toString());
    for (const type of [
      "Application/X-WWW-Form-Urlencoded",
      "application/x-www-form-urlencoded ; charset=utf-8",
    ]) {
      const result = verifyDelivery(
        request({
          provider: "gitea",
          body: form,
          headers: {
            "content-type": type,
            "x-gitea-signature": signHex("sha256", SECRET, Buffer.from(json)),
          },
        }),
      );
      expect(result, type).to.deep.equal({ ok: true, via: "signature" });
    }
  });

  it("verifyDelivery treats a blank (whitespace) signature header as unsigned and reads the next one", () => {
    expect(verify({ "x-gitea-signature": " ", "x-hub-signature-256": `sha256=${hex()}` })).to.deep.equal({
      ok: true,
      via: "signature",
    });
  });
});
