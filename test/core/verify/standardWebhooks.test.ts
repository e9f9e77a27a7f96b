import { expect } from "chai";
import { GITLAB_SIGNING_KEY_MISSING_DETAIL, verifyDelivery } from "../../../src/core/verify";
import { signatureHeaders } from "../../../src/core/verify/sign";
import { signStandardWebhook, verifyStandardWebhook } from "../../../src/core/verify/standardWebhooks";
import { request } from "./helpers";

// The Standard Webhooks reference test vector (standard-webhooks/standard-webhooks libraries' tests).
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

const SIGNING = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
const OTHER = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
const NOW = 1_770_000_000_000;
const BODY = Buffer.from('{"object_kind":"push","ref":"refs/heads/main"}');

function signed(overrides: Record<string, string | string[]> = {}, secret = SIGNING, nowMs = NOW) {
  return { ...signatureHeaders("gitlab", secret, BODY, { id: "d1b2", nowMs }), ...overrides };
}

function verify(
  headers: Record<string, string | string[]>,
  secrets: string[] = [SIGNING],
  nowMs = NOW,
  tolerance?: number,
) {
  return verifyDelivery(
    request({
      provider: "gitlab",
      body: BODY,
      headers,
      secrets,
      nowMs,
      auth: tolerance ? { toleranceSeconds: tolerance } : {},
    }),
  );
}

describe("Function: verifyDelivery (GitLab signing token, Standard Webhooks)", () => {
  it("signStandardWebhook reproduces the Standard Webhooks reference vector", () => {
    expect(signStandardWebhook(SPEC_SECRET, SPEC_ID, SPEC_TS, Buffer.from(SPEC_BODY))).to.equal(SPEC_SIG);
  });

  it("verifyDelivery accepts the reference vector at its own time", () => {
    const headers = {
      "webhook-id": SPEC_ID,
      "webhook-timestamp": String(SPEC_TS),
      "webhook-signature": SPEC_SIG,
    };
    const result = verifyDelivery(
      request({
        provider: "gitlab",
        body: SPEC_BODY,
        headers,
        secrets: [SPEC_SECRET],
        nowMs: SPEC_TS * 1000,
      }),
    );
    expect(result).to.deep.equal({ ok: true, via: "signature" });
  });

  it("verifyDelivery rejects a non-canonical base64 variant of a valid signature (same bytes, other text)", () => {
    // "E" -> "F" changes only the two unused bits of the last character: Buffer.from decodes both alike.
    const variant = SPEC_SIG.replace(/E=$/, "F=");
    expect(Buffer.from(variant.slice(3), "base64")).to.deep.equal(Buffer.from(SPEC_SIG.slice(3), "base64"));
    const headers = {
      "webhook-id": SPEC_ID,
      "webhook-timestamp": String(SPEC_TS),
      "webhook-signature": variant,
    };
    const result = verifyDelivery(
      request({
        provider: "gitlab",
        body: SPEC_BODY,
        headers,
        secrets: [SPEC_SECRET],
        nowMs: SPEC_TS * 1000,
      }),
    );
    expect(result).to.deep.include({ ok: false, status: 401 });
  });

  it("verifyDelivery accepts a fresh signature", () => {
    expect(verify(signed())).to.deep.equal({ ok: true, via: "signature" });
  });

  const stale: Array<[string, Record<string, string | string[]>]> = [
    ["a missing timestamp", { "webhook-timestamp": [] }],
    ["a non-integer timestamp", { "webhook-timestamp": "1770000000.5" }],
    ["a negative timestamp", { "webhook-timestamp": "-1770000000" }],
    ["a timestamp with letters", { "webhook-timestamp": "1770000000abc" }],
    ["an empty timestamp", { "webhook-timestamp": "" }],
  ];
  for (const [name, override] of stale) {
    it(`verifyDelivery rejects ${name}, saying it is missing or not an integer`, () => {
      expect(verify(signed(override))).to.deep.equal({
        ok: false,
        status: 401,
        reason: "signature timestamp missing or not an integer",
        retryWithFreshSecret: false,
      });
    });
  }

  // [name, signed at (ms from NOW), tolerance, reason, what the log's detail says]
  const outside: Array<[string, number, number | undefined, string, string]> = [
    [
      "301 s old",
      -301_000,
      undefined,
      "signature timestamp too old",
      "is 301 s behind this function's clock",
    ],
    [
      "412 s old",
      -412_000,
      undefined,
      "signature timestamp too old",
      "more than auth.toleranceSeconds (300)",
    ],
    [
      "61 s old under a 60 s tolerance",
      -61_000,
      60,
      "signature timestamp too old",
      "auth.toleranceSeconds (60)",
    ],
    [
      "301 s ahead",
      301_000,
      undefined,
      "signature timestamp in the future",
      "is 301 s ahead of this function's clock",
    ],
    ["2 h ahead under a 3600 s tolerance", 7_200_000, 3600, "signature timestamp in the future", "(3600)"],
  ];
  it("verifyDelivery refuses a timestamp in milliseconds as in the future", () => {
    expect(verify(signed({ "webhook-timestamp": String(NOW) }))).to.deep.include({
      ok: false,
      status: 401,
      reason: "signature timestamp in the future",
    });
  });

  for (const [name, offsetMs, tolerance, reason, detail] of outside) {
    it(`verifyDelivery refuses a timestamp ${name}, telling the caller which way and the log by how much`, () => {
      const result = verify(signed({}, SIGNING, NOW + offsetMs), [SIGNING], NOW, tolerance);
      expect(result).to.deep.include({ ok: false, status: 401, reason, retryWithFreshSecret: false });
      if (result.ok) throw new Error("accepted");
      expect(result.detail).to.include(detail).and.include("resend it from the webhook's Recent events");
      expect(result.reason).not.to.match(/[0-9]/);
    });
  }

  it("verifyDelivery's word on a stale timestamp holds neither the signature nor the signing key", () => {
    const headers = signed({}, SIGNING, NOW - 900_000);
    const result = verify(headers);
    if (result.ok) throw new Error("accepted");
    const said = `${result.reason} ${result.detail}`;
    expect(said).not.to.include((headers["webhook-signature"] as string).slice(3));
    expect(said).not.to.include(SIGNING.slice(6, 20));
  });

  it("verifyDelivery accepts a timestamp 299 seconds old or ahead", () => {
    expect(verify(signed({}, SIGNING, NOW - 299_000)).ok).to.equal(true);
    expect(verify(signed({}, SIGNING, NOW + 299_000)).ok).to.equal(true);
  });

  it("verifyDelivery honours the route's toleranceSeconds", () => {
    const headers = signed({}, SIGNING, NOW - 60_000);
    expect(verify(headers, [SIGNING], NOW, 30).ok).to.equal(false);
    expect(verify(headers, [SIGNING], NOW, 120).ok).to.equal(true);
  });

  it("verifyDelivery rejects a fresh signature when the clock it is given is not a number (fail closed)", () => {
    expect(verify(signed(), [SIGNING], Number.NaN)).to.deep.include({ ok: false, status: 401 });
  });

  it("verifyDelivery rejects a signature whose timestamp header was changed", () => {
    expect(verify(signed({ "webhook-timestamp": String(NOW / 1000 + 1) }))).to.deep.include({
      ok: false,
      status: 401,
    });
  });

  it("verifyDelivery rejects a signature whose webhook-id header was changed", () => {
    expect(verify(signed({ "webhook-id": "another" }))).to.deep.include({
      ok: false,
      reason: "signature invalid",
    });
  });

  it("verifyDelivery rejects a missing webhook-id as malformed, without asking for a fresh secret", () => {
    expect(verify(signed({ "webhook-id": [] }))).to.deep.equal({
      ok: false,
      status: 401,
      reason: "signature malformed",
      retryWithFreshSecret: false,
    });
  });

  it("verifyDelivery rejects an empty webhook-id even under a signature made over the empty id", () => {
    const ts = Math.floor(NOW / 1000);
    const headers = {
      "webhook-id": "",
      "webhook-timestamp": String(ts),
      "webhook-signature": signStandardWebhook(SIGNING, "", ts, BODY),
    };
    expect(verify(headers)).to.deep.include({ ok: false, reason: "signature malformed" });
  });

  it("verifyDelivery skips unknown versions and passes when a v1 entry matches", () => {
    const good = signed()["webhook-signature"] as string;
    const list = `v2,${Buffer.alloc(32).toString("base64")} v1a,abc ${good}`;
    expect(verify(signed({ "webhook-signature": list })).ok).to.equal(true);
  });

  it("verifyDelivery passes when any one of several v1 signatures matches", () => {
    const good = signed()["webhook-signature"] as string;
    const otherSig = signed({}, OTHER)["webhook-signature"] as string;
    expect(verify(signed({ "webhook-signature": `${otherSig} ${good}` })).ok).to.equal(true);
    expect(verify(signed({ "webhook-signature": `${good} ${otherSig}` })).ok).to.equal(true);
  });

  it("verifyDelivery rejects a list with only unknown versions as malformed", () => {
    const headers = signed({ "webhook-signature": `v2,${Buffer.alloc(32).toString("base64")}` });
    expect(verify(headers)).to.deep.include({ ok: false, reason: "signature malformed" });
  });

  for (const [name, value] of [
    ["v1 without a comma", "v1"],
    ["an empty v1 value", "v1,"],
    ["a v1 value of 31 bytes", `v1,${Buffer.alloc(31).toString("base64")}`],
    ["a v1 value in base64url", `v1,${Buffer.alloc(32, 0xfb).toString("base64url")}`],
    ["an empty header", ""],
  ] as const) {
    it(`verifyDelivery rejects ${name}`, () => {
      expect(verify(signed({ "webhook-signature": value }))).to.deep.include({ ok: false, status: 401 });
    });
  }

  it("verifyDelivery rejects a signature made with another signing key, asking for a fresh secret", () => {
    expect(verify(signed({}, OTHER))).to.deep.include({
      ok: false,
      reason: "signature invalid",
      retryWithFreshSecret: true,
    });
  });

  it("verifyDelivery accepts the previous signing key during rotation", () => {
    expect(verify(signed({}, OTHER), [SIGNING, OTHER]).ok).to.equal(true);
  });

  it("verifyDelivery rejects repeated webhook-signature or webhook-timestamp headers", () => {
    const headers = signed();
    const sigValue = headers["webhook-signature"] as string;
    const tsValue = headers["webhook-timestamp"] as string;
    expect(verify({ ...headers, "webhook-signature": [sigValue, sigValue] }).ok).to.equal(false);
    expect(verify({ ...headers, "webhook-timestamp": [tsValue, tsValue] }).ok).to.equal(false);
  });

  it("verifyDelivery answers a signature on a route holding only a plain token that X-Gitlab-Token is missing, asks for a fresh secret, and says why in the log's detail", () => {
    expect(verify(signed(), ["plain-token"])).to.deep.equal({
      ok: false,
      status: 401,
      reason: "signature missing (X-Gitlab-Token)",
      retryWithFreshSecret: true,
      detail: GITLAB_SIGNING_KEY_MISSING_DETAIL,
    });
  });

  it("verifyDelivery still cannot verify a signature when the route's secret holds no usable value", () => {
    expect(verify(signed(), [""])).to.deep.equal({
      ok: false,
      status: 401,
      reason: "signature cannot be verified",
      retryWithFreshSecret: true,
    });
  });

  it("verifyDelivery ignores a whsec_ secret that is not valid base64", () => {
    expect(verify(signed(), ["whsec_not*base64"])).to.deep.include({ ok: false, status: 401 });
  });

  it("with both headers and a signing key, the signature decides (a right token does not rescue a bad signature)", () => {
    const headers = signed({ "x-gitlab-token": "plain-token" }, OTHER);
    expect(verify(headers, [SIGNING, "plain-token"])).to.deep.include({ ok: false, status: 401 });
    expect(verify(signed({ "x-gitlab-token": "plain-token" }), [SIGNING, "plain-token"])).to.deep.equal({
      ok: true,
      via: "signature",
    });
  });

  it("with both headers and only a plain token configured, the token decides", () => {
    expect(verify(signed({ "x-gitlab-token": "plain-token" }), ["plain-token"])).to.deep.equal({
      ok: true,
      via: "token",
    });
  });
});

describe("Function: verifyDelivery (Standard Webhooks tolerance and entry format)", () => {
  const at = (ageSeconds: number) => signed({}, SIGNING, NOW - ageSeconds * 1000);
  const withTolerance = (headers: Record<string, string | string[]>, toleranceSeconds: number) =>
    verifyDelivery(
      request({
        provider: "gitlab",
        body: BODY,
        headers,
        secrets: [SIGNING],
        nowMs: NOW,
        auth: { toleranceSeconds },
      }),
    );

  const cases: Array<[string, number, number, boolean]> = [
    ["exactly the default tolerance old", 300, 300, true],
    ["exactly the default tolerance ahead", -300, 300, true],
    ["one second past the default tolerance", 301, 300, false],
    ["exactly a route tolerance of 60 old", 60, 60, true],
    ["one second past a route tolerance of 60", 61, 60, false],
    ["299 seconds old under a tolerance of 0 (the default applies)", 299, 0, true],
    ["301 seconds old under a tolerance of 0 (the default applies)", 301, 0, false],
    ["299 seconds old under a negative tolerance (the default applies)", 299, -5, true],
    ["an hour old under an infinite tolerance (the default applies)", 3600, Number.POSITIVE_INFINITY, false],
    ["299 seconds old under a NaN tolerance (the default applies)", 299, Number.NaN, true],
  ];
  for (const [name, age, tolerance, ok] of cases) {
    it(`verifyDelivery ${ok ? "accepts" : "rejects"} a timestamp ${name}`, () => {
      expect(withTolerance(at(age), tolerance).ok).to.equal(ok);
    });
  }

  it("verifyDelivery rejects a v1 entry with extra base64 around a valid signature as malformed, not an internal error", () => {
    const valid = (signed()["webhook-signature"] as string).slice(3);
    for (const entry of [`v1,AAAA${valid}`, `v1,${valid}AAAA`]) {
      expect(verify(signed({ "webhook-signature": entry })), entry).to.deep.include({
        ok: false,
        reason: "signature malformed",
      });
    }
  });

  it("verifyDelivery rejects a v1 entry of canonical base64 that is not 32 bytes as malformed, not an internal error", () => {
    for (const bytes of [31, 33, 48]) {
      const entry = `v1,${Buffer.alloc(bytes, 1).toString("base64")}`;
      expect(verify(signed({ "webhook-signature": entry })), entry).to.deep.include({
        ok: false,
        reason: "signature malformed",
      });
    }
  });

  it("verifyDelivery rejects a repeated webhook-signature or webhook-timestamp as a repeated header", () => {
    const headers = signed();
    for (const name of ["webhook-signature", "webhook-timestamp"]) {
      const value = headers[name] as string;
      expect(verify({ ...headers, [name]: [value, value] }), name).to.deep.include({
        ok: false,
        reason: "signature header repeated",
      });
    }
  });

  it("verifyStandardWebhook answers ambiguous for a repeated webhook-id, absent without webhook-signature", () => {
    const headers = signed();
    const bag = (h: Record<string, string | string[]>) =>
      request({ provider: "gitlab", body: BODY, headers: h }).headers;
    const id = headers["webhook-id"] as string;
    expect(
      verifyStandardWebhook(bag({ ...headers, "webhook-id": [id, id] }), BODY, [SIGNING], 300, NOW),
    ).to.equal("ambiguous");
    expect(
      verifyStandardWebhook(bag({ ...headers, "webhook-signature": [] }), BODY, [SIGNING], 300, NOW),
    ).to.equal("absent");
    expect(verifyStandardWebhook(bag(headers), BODY, [SIGNING], 300, NOW)).to.equal("match-signature");
  });

  it("signStandardWebhook refuses a secret that is not whsec_<base64> with a TypeError naming the form", () => {
    expect(() => signStandardWebhook("plain token", "id", 1, BODY)).to.throw(TypeError, "whsec_<base64>");
  });
});
