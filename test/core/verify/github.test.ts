import { createHmac } from "node:crypto";
import { expect } from "chai";
import { verifyDelivery } from "../../../src/core/verify";
import { signHex } from "../../../src/core/verify/hmac";
import { githubJson, OTHER_SECRET, request, SECRET } from "./helpers";

const PUSH = githubJson({
  ref: "refs/heads/main",
  after: "a".repeat(40),
  repository: { full_name: "acme/api" },
});
const sig = (body: string | Buffer, secret = SECRET) =>
  signHex("sha256", secret, typeof body === "string" ? Buffer.from(body) : body, "sha256=");

function github(body: string | Buffer, headers: Record<string, string | string[]>, secrets?: string[]) {
  return verifyDelivery(request({ provider: "github", body, headers, secrets }));
}

describe("Function: verifyDelivery (GitHub)", () => {
  describe("published vectors", () => {
    it("signHex reproduces GitHub's documented example", () => {
      expect(signHex("sha256", SECRET, Buffer.from("Hello, World!"), "sha256=")).to.equal(
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      );
    });

    it("verifyDelivery accepts GitHub's documented example", () => {
      const result = github("Hello, World!", {
        "X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      });
      expect(result).to.deep.equal({ ok: true, via: "signature" });
    });

    // octokit/webhooks-methods test/verify.test.ts, including the regression of octokit/webhooks.js#71.
    const octokit: Array<[string, string, string, string]> = [
      [
        "{foo: bar}",
        "mysecret",
        githubJson({ foo: "bar" }),
        "e3eccac34c43c7dc1cbb905488b1b81347fcc700a7b025697a9d07862256023f",
      ],
      [
        "\\u001B and ♥ (#71)",
        "development",
        githubJson({ foo: "Foo\n\u001b[34mbar: ♥♥♥♥♥♥♥♥\nthis-is-lost\u001b[0m\u001b[2K" }),
        "9dacf9003316b09be07df56d86a2d0d6872e42a1e6c72c3bad9ff915a7c5603e",
      ],
      [
        "an escaped \\\\u001b (#71)",
        "development",
        githubJson({ foo: "\\u001b" }),
        "87316067e2011fae39998b18c46a14d83b3e7c3ffdd88fb2ee5afb7d11288e60",
      ],
    ];
    for (const [name, secret, body, hex] of octokit) {
      it(`verifyDelivery accepts octokit's vector ${name}`, () => {
        expect(github(body, { "x-hub-signature-256": `sha256=${hex}` }, [secret]).ok).to.equal(true);
      });
    }

    it("the #71 payload carries \\u001B in upper case, and the lower-case rewrite fails", () => {
      const [, secret, body, hex] = octokit[1] as [string, string, string, string];
      expect(body).to.include("\\u001B[34m");
      const rewritten = body.replaceAll("\\u001B", "\\u001b");
      expect(github(rewritten, { "x-hub-signature-256": `sha256=${hex}` }, [secret])).to.include({
        ok: false,
        status: 401,
        retryWithFreshSecret: true,
      });
    });
  });

  describe("cross-check with @octokit/webhooks-methods", () => {
    const bodies = [
      PUSH,
      githubJson({ emoji: "🚀", cedilla: "ç", separator: "\u2028", nul: "\u0000" }),
      "Hello, World!",
      "x".repeat(70_000),
    ];
    for (const [i, body] of bodies.entries()) {
      it(`signHex equals octokit sign() and octokit verify() accepts ours (body ${i})`, async () => {
        const octokit = await import("@octokit/webhooks-methods");
        const ours = sig(body);
        expect(await octokit.sign(SECRET, body)).to.equal(ours);
        expect(await octokit.verify(SECRET, body, ours)).to.equal(true);
        expect(github(body, { "x-hub-signature-256": await octokit.sign(SECRET, body) }).ok).to.equal(true);
      });
    }
  });

  for (const secret of ["clé ç", "秘密 🔑", "line\u2028sep"]) {
    it(`verifyDelivery accepts octokit's signature made with the non-ASCII secret ${JSON.stringify(secret)} (its UTF-8 bytes are the key)`, async () => {
      const octokit = await import("@octokit/webhooks-methods");
      const signature = await octokit.sign(secret, PUSH);
      expect(github(PUSH, { "x-hub-signature-256": signature }, [secret])).to.deep.equal({
        ok: true,
        via: "signature",
      });
    });
  }

  describe("malformed signature headers are rejected with 401 and no retry", () => {
    const good = sig(PUSH);
    const hex = good.slice("sha256=".length);
    const cases: Array<[string, string]> = [
      ["an empty value", ""],
      ["sha256= alone", "sha256="],
      ["no sha256= prefix", hex],
      ["the sha1= label", `sha1=${hex}`],
      ["an upper-case label", `SHA256=${hex}`],
      ["a colon instead of =", `sha256:${hex}`],
      ["63 hex characters", `sha256=${hex.slice(0, 63)}`],
      ["65 hex characters", `sha256=${hex}0`],
      ["a non-hex character", `sha256=${hex.slice(0, 63)}g`],
      ["a non-ASCII character", `sha256=${hex.slice(0, 63)}é`],
      ["a fullwidth digit", `sha256=${hex.slice(0, 63)}１`],
      ["upper-case hex", `sha256=${hex.toUpperCase()}`],
      ["a leading space", ` ${good}`],
      ["a trailing space", `${good} `],
      ["two signatures joined by a comma", `${good}, ${good}`],
      ["base64 instead of hex", `sha256=${Buffer.from(hex, "hex").toString("base64")}`],
    ];
    for (const [name, value] of cases) {
      it(`verifyDelivery returns 401 for ${name}`, () => {
        expect(github(PUSH, { "x-hub-signature-256": value })).to.deep.equal({
          ok: false,
          status: 401,
          reason: "signature malformed",
          retryWithFreshSecret: false,
        });
      });
    }
  });

  describe("modified tags (Wycheproof style) are rejected with 401", () => {
    const tag = Buffer.from(sig(PUSH).slice(7), "hex");

    it("verifyDelivery rejects one flipped bit at every position of the tag (256 cases)", () => {
      let rejected = 0;
      for (let bit = 0; bit < tag.length * 8; bit++) {
        const flipped = Buffer.from(tag);
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        const result = github(PUSH, { "x-hub-signature-256": `sha256=${flipped.toString("hex")}` });
        if (!result.ok && result.status === 401) rejected++;
      }
      expect(rejected).to.equal(256);
    });

    it("verifyDelivery rejects one flipped bit in every character of the header value", () => {
      const header = sig(PUSH);
      let rejected = 0;
      let cases = 0;
      for (let i = 0; i < header.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const changed =
            header.slice(0, i) + String.fromCharCode(header.charCodeAt(i) ^ (1 << bit)) + header.slice(i + 1);
          cases++;
          const result = github(PUSH, { "x-hub-signature-256": changed });
          if (!result.ok && result.status === 401) rejected++;
        }
      }
      expect(rejected).to.equal(cases);
    });

    for (const [name, byte] of [
      ["all zeros", "00"],
      ["all ones", "ff"],
    ] as const) {
      it(`verifyDelivery rejects a tag of ${name}`, () => {
        const result = github(PUSH, { "x-hub-signature-256": `sha256=${byte.repeat(32)}` });
        expect(result).to.deep.equal({
          ok: false,
          status: 401,
          reason: "signature invalid",
          retryWithFreshSecret: true,
        });
      });
    }

    it("verifyDelivery rejects a signature made with another secret, and asks for a fresh secret", () => {
      const result = github(PUSH, { "x-hub-signature-256": sig(PUSH, OTHER_SECRET) });
      expect(result).to.deep.equal({
        ok: false,
        status: 401,
        reason: "signature invalid",
        retryWithFreshSecret: true,
      });
    });

    it("a rejection never carries the expected MAC", () => {
      const expected = sig(PUSH).slice(7);
      const result = github(PUSH, { "x-hub-signature-256": sig(PUSH, OTHER_SECRET) });
      expect(JSON.stringify(result)).not.to.include(expected);
      expect(JSON.stringify(result)).not.to.include(SECRET);
    });
  });

  describe("headers", () => {
    it("verifyDelivery returns 401 when X-Hub-Signature-256 is missing, naming the header", () => {
      expect(github(PUSH, {})).to.deep.equal({
        ok: false,
        status: 401,
        reason: "signature missing: a github route reads X-Hub-Signature-256",
        retryWithFreshSecret: false,
      });
    });

    it("verifyDelivery rejects two equal values of X-Hub-Signature-256 as ambiguous", () => {
      const result = github(PUSH, { "x-hub-signature-256": [sig(PUSH), sig(PUSH)] });
      expect(result).to.deep.include({ ok: false, status: 401, reason: "signature header repeated" });
    });

    it("verifyDelivery rejects a valid and an invalid value of X-Hub-Signature-256 as ambiguous", () => {
      const result = github(PUSH, { "x-hub-signature-256": [sig(PUSH), sig(PUSH, OTHER_SECRET)] });
      expect(result).to.deep.include({ ok: false, status: 401, retryWithFreshSecret: false });
    });

    it("verifyDelivery rejects a delivery whose X-GitHub-Delivery appears twice", () => {
      const result = github(PUSH, { "x-hub-signature-256": sig(PUSH), "x-github-delivery": ["a", "b"] });
      expect(result).to.deep.include({ ok: false, status: 401, reason: "delivery id header repeated" });
    });

    for (const name of [
      "X-Hub-Signature-256",
      "x-hub-signature-256",
      "X-HUB-SIGNATURE-256",
      "x-Hub-signature-256",
    ]) {
      it(`verifyDelivery finds the signature under the header name ${name}`, () => {
        expect(github(PUSH, { [name]: sig(PUSH) }).ok).to.equal(true);
      });
    }
  });

  describe("the body is hashed as the raw bytes received", () => {
    const signed = sig(PUSH);
    const mutations: Array<[string, string]> = [
      ["re-serialised JSON", JSON.stringify(JSON.parse(PUSH))],
      ["a trailing newline removed", PUSH.slice(0, -1)],
      ["a trailing newline added", `${PUSH}\n`],
      ["CRLF line endings", PUSH.replaceAll("\n", "\r\n")],
      ["a space added", PUSH.replace('"ref"', ' "ref"')],
    ];
    for (const [name, body] of mutations) {
      it(`verifyDelivery rejects ${name}`, () => {
        expect(body).not.to.equal(PUSH);
        expect(github(body, { "x-hub-signature-256": signed })).to.deep.include({ ok: false, status: 401 });
      });
    }

    for (const [name, text] of [
      ["an emoji", "deploy 🚀 now"],
      ["ç", "façade"],
      ["U+2028", "line\u2028separator"],
      ["U+FEFF and NUL", "\ufeff\u0000"],
    ] as const) {
      it(`verifyDelivery accepts a payload with ${name}, signed over its UTF-8 bytes`, () => {
        const body = githubJson({ message: text });
        expect(github(Buffer.from(body, "utf8"), { "x-hub-signature-256": sig(body) }).ok).to.equal(true);
      });

      it(`verifyDelivery rejects a payload with ${name} once its bytes went through latin-1`, () => {
        const body = Buffer.from(githubJson({ message: text }), "utf8");
        const mangled = Buffer.from(body.toString("latin1"), "utf8");
        expect(mangled.equals(body)).to.equal(false);
        expect(github(mangled, { "x-hub-signature-256": sig(body) }).ok).to.equal(false);
      });
    }

    it("verifyDelivery rejects an HMAC computed over the base64 text of the body", () => {
      const base64 = Buffer.from(PUSH).toString("base64");
      expect(github(PUSH, { "x-hub-signature-256": sig(base64) })).to.deep.include({
        ok: false,
        status: 401,
      });
    });

    it("verifyDelivery rejects a body left base64-encoded (isBase64Encoded not honoured)", () => {
      const base64 = Buffer.from(PUSH).toString("base64");
      expect(github(base64, { "x-hub-signature-256": sig(PUSH) })).to.deep.include({
        ok: false,
        status: 401,
      });
    });

    it("verifyDelivery verifies a form body over the raw form bytes, not the JSON inside", () => {
      const form = `payload=${encodeURIComponent(PUSH)}`;
      expect(github(form, { "x-hub-signature-256": sig(form) }).ok).to.equal(true);
      expect(github(form, { "x-hub-signature-256": sig(PUSH) }).ok).to.equal(false);
    });

    it("verifyDelivery verifies an empty body over zero bytes (decode answers 400 later)", () => {
      expect(github("", { "x-hub-signature-256": sig("") }).ok).to.equal(true);
    });
  });

  describe("SHA-1 (X-Hub-Signature)", () => {
    const sha1 = signHex("sha1", SECRET, Buffer.from(PUSH), "sha1=");

    it("verifyDelivery rejects a request with only the SHA-1 header when the route did not opt in", () => {
      expect(github(PUSH, { "x-hub-signature": sha1 })).to.deep.equal({
        ok: false,
        status: 401,
        reason: "SHA-1 signatures are not accepted on this route",
        retryWithFreshSecret: false,
      });
    });

    it("verifyDelivery accepts the SHA-1 header when auth.allowSha1 is set", () => {
      const input = request({ body: PUSH, headers: { "x-hub-signature": sha1 }, auth: { allowSha1: true } });
      expect(verifyDelivery(input)).to.deep.equal({ ok: true, via: "signature" });
    });

    it("verifyDelivery rejects a wrong SHA-1 signature even when allowed", () => {
      const wrong = signHex("sha1", OTHER_SECRET, Buffer.from(PUSH), "sha1=");
      const input = request({ body: PUSH, headers: { "x-hub-signature": wrong }, auth: { allowSha1: true } });
      expect(verifyDelivery(input)).to.deep.include({ ok: false, status: 401, retryWithFreshSecret: true });
    });

    it("verifyDelivery lets X-Hub-Signature-256 decide when both headers are present", () => {
      const input = request({
        body: PUSH,
        headers: { "x-hub-signature": sha1, "x-hub-signature-256": sig(PUSH, OTHER_SECRET) },
        auth: { allowSha1: true },
      });
      expect(verifyDelivery(input).ok).to.equal(false);
    });

    it("verifyDelivery rejects a SHA-256 value in the SHA-1 header", () => {
      const input = request({
        body: PUSH,
        headers: { "x-hub-signature": sig(PUSH) },
        auth: { allowSha1: true },
      });
      expect(verifyDelivery(input)).to.deep.include({ ok: false, reason: "signature malformed" });
    });
  });

  describe("secrets", () => {
    it("verifyDelivery accepts a delivery signed with the previous secret during rotation", () => {
      expect(
        github(PUSH, { "x-hub-signature-256": sig(PUSH, OTHER_SECRET) }, [SECRET, OTHER_SECRET]).ok,
      ).to.equal(true);
    });

    it("verifyDelivery returns 401 when no secret is configured, with a fresh-secret retry (it may just have been set)", () => {
      expect(github(PUSH, { "x-hub-signature-256": sig(PUSH) }, [])).to.deep.include({
        ok: false,
        status: 401,
        retryWithFreshSecret: true,
      });
    });

    it("verifyDelivery never treats an empty secret as a key, even for an HMAC made with an empty key", () => {
      const emptyKeyMac = `sha256=${createHmac("sha256", "").update(PUSH).digest("hex")}`;
      expect(github(PUSH, { "x-hub-signature-256": emptyKeyMac }, [""])).to.deep.include({
        ok: false,
        status: 401,
      });
    });
  });
});

describe("Function: verifyDelivery (GitHub reasons and odd secret lists)", () => {
  it("verifyDelivery says a signature cannot be verified when no secret is configured, or only an empty one", () => {
    for (const secrets of [[], [""]]) {
      expect(
        github(PUSH, { "x-hub-signature-256": sig(PUSH) }, secrets),
        JSON.stringify(secrets),
      ).to.deep.equal({
        ok: false,
        status: 401,
        reason: "signature cannot be verified",
        retryWithFreshSecret: true,
      });
    }
  });

  it("verifyDelivery skips empty and non-string secrets and still checks with the others", () => {
    const secrets = ["", 42, null, SECRET] as unknown as string[];
    expect(github(PUSH, { "x-hub-signature-256": sig(PUSH) }, secrets)).to.deep.equal({
      ok: true,
      via: "signature",
    });
  });

  it("verifyDelivery rejects a repeated X-Hub-Signature (SHA-1) as a repeated header, even when SHA-1 is allowed", () => {
    const sha1 = signHex("sha1", SECRET, Buffer.from(PUSH), "sha1=");
    const result = verifyDelivery(
      request({
        provider: "github",
        body: PUSH,
        headers: { "x-hub-signature": [sha1, sha1] },
        auth: { allowSha1: true },
      }),
    );
    expect(result).to.deep.include({ ok: false, reason: "signature header repeated" });
  });
});
