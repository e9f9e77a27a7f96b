import { expect } from "chai";
import {
  GITLAB_SIGNING_KEY_INVALID_DETAIL,
  GITLAB_SIGNING_KEY_MISSING,
  GITLAB_SIGNING_KEY_MISSING_DETAIL,
  GITLAB_TOKEN_REFUSED,
  GITLAB_TOKEN_REFUSED_DETAIL,
  type VerifyResult,
  verifyDelivery,
} from "../../../src/core/verify";
import { verifyGitlabToken } from "../../../src/core/verify/gitlab";
import { signatureHeaders } from "../../../src/core/verify/sign";
import { request } from "./helpers";

const TOKEN = "gl-webhook-token-7f3a";
const BODY = '{"object_kind":"push","ref":"refs/heads/main"}';

function gitlab(headers: Record<string, string | string[]>, secrets: string[] = [TOKEN]) {
  return verifyDelivery(request({ provider: "gitlab", body: BODY, headers, secrets }));
}

describe("Function: verifyDelivery (GitLab token)", () => {
  it("verifyDelivery accepts the right X-Gitlab-Token via token", () => {
    expect(gitlab({ "X-Gitlab-Token": TOKEN })).to.deep.equal({ ok: true, via: "token" });
  });

  const wrong: Array<[string, string]> = [
    ["a wrong token of the same length", `${TOKEN.slice(0, -1)}X`],
    ["a shorter token (a prefix)", TOKEN.slice(0, -1)],
    ["a longer token (an extension)", `${TOKEN}0`],
    ["the token in another case", TOKEN.toUpperCase()],
    ["the token with a trailing space", `${TOKEN} `],
  ];
  for (const [name, value] of wrong) {
    it(`verifyDelivery rejects ${name} with 401 and a fresh-secret retry`, () => {
      expect(gitlab({ "x-gitlab-token": value })).to.deep.equal({
        ok: false,
        status: 401,
        reason: "signature invalid",
        retryWithFreshSecret: true,
      });
    });
  }

  it("verifyDelivery rejects a missing X-Gitlab-Token with 401, naming what a GitLab route reads", () => {
    expect(gitlab({})).to.deep.equal({
      ok: false,
      status: 401,
      reason: "signature missing: a gitlab route reads X-Gitlab-Token or webhook-signature",
      retryWithFreshSecret: false,
    });
  });

  it("verifyDelivery rejects an empty X-Gitlab-Token as malformed", () => {
    expect(gitlab({ "x-gitlab-token": "" })).to.deep.include({
      ok: false,
      status: 401,
      retryWithFreshSecret: false,
    });
  });

  it("verifyDelivery rejects X-Gitlab-Token sent twice, even with the right value", () => {
    expect(gitlab({ "x-gitlab-token": [TOKEN, TOKEN] })).to.deep.include({
      ok: false,
      reason: "signature header repeated",
    });
  });

  it("verifyDelivery rejects a repeated X-Gitlab-Event-UUID as an ambiguous delivery id", () => {
    const result = gitlab({ "x-gitlab-token": TOKEN, "x-gitlab-event-uuid": ["a", "b"] });
    expect(result).to.deep.include({ ok: false, status: 401, reason: "delivery id header repeated" });
  });

  it("verifyDelivery accepts the previous token during rotation", () => {
    expect(gitlab({ "x-gitlab-token": "old-token" }, [TOKEN, "old-token"]).ok).to.equal(true);
  });

  it("verifyDelivery rejects any token when no secret is configured (an empty token never matches)", () => {
    expect(gitlab({ "x-gitlab-token": "" }, [""]).ok).to.equal(false);
    expect(gitlab({ "x-gitlab-token": TOKEN }, []).ok).to.equal(false);
  });

  it("verifyGitlabToken treats a token that only matches after Unicode normalisation as wrong", () => {
    expect(verifyGitlabToken("caf\u00e9", ["cafe\u0301"])).to.equal("mismatch");
  });
});

describe("Function: verifyGitlabToken, a token with non-ASCII characters", () => {
  const SECRET_TEXT = "p\u00e4ss-w\u00f6rd-\u20ac-token"; // ä, ö (up to U+00FF) and € (above it)
  /** The string node:http makes of the UTF-8 bytes GitLab writes: one character per byte. */
  const asServeReadsIt = (text: string) => Buffer.from(text, "utf8").toString("latin1");
  const cases: Array<[string, string, string, "match-token" | "mismatch"]> = [
    [
      "its UTF-8 bytes read one character per byte (hookgate serve)",
      asServeReadsIt(SECRET_TEXT),
      SECRET_TEXT,
      "match-token",
    ],
    ["its text decoded (a front door that decodes UTF-8)", SECRET_TEXT, SECRET_TEXT, "match-token"],
    ["a latin1-only token written as latin1 bytes (hookgate send)", "p\u00e4ss", "p\u00e4ss", "match-token"],
    ["an ASCII token, read either way", "plain-token", "plain-token", "match-token"],
    [
      "another non-ASCII token's UTF-8 bytes",
      asServeReadsIt("p\u00e4ss-w\u00f6rd-\u20ac-tokem"),
      SECRET_TEXT,
      "mismatch",
    ],
    // A latin1 reading of characters above U+00FF keeps only their low byte: "\u0170" would read as "p".
    [
      "characters above U+00FF whose low bytes spell the secret",
      "\u0170\u0161\u0173\u0173",
      "pass",
      "mismatch",
    ],
    [
      "the secret's UTF-8 bytes read twice over (double-encoded)",
      asServeReadsIt(asServeReadsIt("p\u00e4ss")),
      "p\u00e4ss",
      "mismatch",
    ],
  ];
  for (const [what, header, secret, outcome] of cases) {
    it(`verifyGitlabToken, for ${what}, answers ${outcome}`, () => {
      expect(verifyGitlabToken(header, [secret])).to.equal(outcome);
    });
  }

  it("verifyDelivery accepts the UTF-8 bytes of a non-ASCII secret token as hookgate serve reads them, via token", () => {
    expect(gitlab({ "x-gitlab-token": asServeReadsIt(SECRET_TEXT) }, [SECRET_TEXT])).to.deep.equal({
      ok: true,
      via: "token",
    });
  });
});

describe("Function: verifyGitlabToken, in constant time", () => {
  it("verifyGitlabToken compares equal-length digests with crypto.timingSafeEqual, never the tokens themselves", () => {
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const original = crypto.timingSafeEqual;
    const compared: Array<[number, number]> = [];
    crypto.timingSafeEqual = (a, b) => {
      compared.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    try {
      expect(verifyGitlabToken("a-much-longer-wrong-token", ["right-token"])).to.equal("mismatch");
      expect(verifyGitlabToken("right-token", ["old-token", "right-token"])).to.equal("match-token");
    } finally {
      crypto.timingSafeEqual = original;
    }
    // One comparison per secret tried, each of two 32-byte digests whatever the tokens' lengths.
    expect(compared).to.deep.equal([
      [32, 32],
      [32, 32],
      [32, 32],
    ]);
  });

  it("verifyGitlabToken compares both readings of a non-ASCII token with every secret tried, even when the first matches", () => {
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const original = crypto.timingSafeEqual;
    let comparisons = 0;
    crypto.timingSafeEqual = (a, b) => {
      comparisons++;
      return original(a, b);
    };
    try {
      expect(verifyGitlabToken("p\u00e4ss", ["p\u00e4ss"])).to.equal("match-token");
      expect(verifyGitlabToken("p\u00e4ss", ["other", "p\u00e4sss"])).to.equal("mismatch");
    } finally {
      crypto.timingSafeEqual = original;
    }
    // "p\u00e4ss" has two readings (its text as UTF-8, and its one byte per character): 2 + 2 * 2.
    expect(comparisons).to.equal(6);
  });
});

describe("Function: verifyDelivery (GitLab token reasons and secret lists)", () => {
  it("verifyDelivery rejects an empty X-Gitlab-Token with the malformed reason", () => {
    expect(gitlab({ "x-gitlab-token": "" })).to.deep.include({ ok: false, reason: "signature malformed" });
  });

  it("verifyDelivery says a token cannot be verified when the only secret is empty", () => {
    expect(gitlab({ "x-gitlab-token": TOKEN }, [""])).to.deep.equal({
      ok: false,
      status: 401,
      reason: "signature cannot be verified",
      retryWithFreshSecret: true,
    });
  });

  it("verifyDelivery skips empty and non-string secrets and still checks the token with the others", () => {
    const secrets = ["", 42, null, TOKEN] as unknown as string[];
    expect(gitlab({ "x-gitlab-token": TOKEN }, secrets)).to.deep.equal({ ok: true, via: "token" });
  });

  it("verifyDelivery refuses a token-only delivery with 401 on a route whose secret holds both a token and a signing key, asking for a fresh secret", () => {
    const signing = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
    expect(gitlab({ "x-gitlab-token": TOKEN }, [signing, TOKEN])).to.deep.equal({
      ok: false,
      status: 401,
      reason: GITLAB_TOKEN_REFUSED,
      retryWithFreshSecret: true,
      detail: GITLAB_TOKEN_REFUSED_DETAIL,
    });
  });

  it("verifyDelivery accepts a token-only delivery when the whsec_ signing key is in the previous version only (the plain token stored once)", () => {
    const signing = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
    const input = request({
      provider: "gitlab",
      body: BODY,
      headers: { "x-gitlab-token": TOKEN },
      secrets: [TOKEN, signing],
    });
    expect(verifyDelivery({ ...input, currentSecrets: [TOKEN] })).to.deep.equal({ ok: true, via: "token" });
    expect(verifyDelivery({ ...input, currentSecrets: [signing, TOKEN] })).to.deep.include({
      ok: false,
      reason: GITLAB_TOKEN_REFUSED,
    });
  });

  it("verifyDelivery accepts a signed delivery keyed by a whsec_ value in the previous version only", () => {
    const signing = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
    const nowMs = 1_700_000_000_000;
    const input = request({
      provider: "gitlab",
      body: BODY,
      headers: signatureHeaders("gitlab", signing, Buffer.from(BODY), { nowMs }),
      secrets: [TOKEN, signing],
      nowMs,
    });
    expect(verifyDelivery({ ...input, currentSecrets: [TOKEN] })).to.deep.equal({
      ok: true,
      via: "signature",
    });
  });

  describe("after going back to the plain token (AWSCURRENT the token, a whsec_ value in AWSPREVIOUS), a delivery carrying both", () => {
    const stored = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
    const other = `whsec_${Buffer.alloc(32, 4).toString("base64")}`;
    const nowMs = 1_700_000_000_000;
    const cases: Array<[string, string, string, number, VerifyResult["ok"], string]> = [
      ["signed with another signing token", TOKEN, other, nowMs, true, "token"],
      ["signed ten minutes ago (a skewed clock)", TOKEN, stored, nowMs - 600_000, true, "token"],
      ["signed with the stored signing token", "a wrong token", stored, nowMs, true, "signature"],
      [
        "signed with another signing token, and a wrong token",
        "a wrong token",
        other,
        nowMs,
        false,
        "signature invalid",
      ],
    ];
    for (const [what, token, key, signedAt, ok, via] of cases) {
      it(`${what}: ${ok ? `accepted via ${via}` : `refused, ${via}`}, as the token alone would be`, () => {
        const input = request({
          provider: "gitlab",
          body: BODY,
          headers: {
            "x-gitlab-token": token,
            ...signatureHeaders("gitlab", key, Buffer.from(BODY), { nowMs: signedAt }),
          },
          secrets: [TOKEN, stored],
          nowMs,
        });
        const result = verifyDelivery({ ...input, currentSecrets: [TOKEN] });
        expect(result).to.deep.include(ok ? { ok, via } : { ok, reason: via });
      });
    }

    it("while AWSCURRENT holds the signing key, a right token beside a failing signature is still refused", () => {
      const input = request({
        provider: "gitlab",
        body: BODY,
        headers: {
          "x-gitlab-token": TOKEN,
          ...signatureHeaders("gitlab", other, Buffer.from(BODY), { nowMs }),
        },
        secrets: [stored, TOKEN],
        nowMs,
      });
      expect(verifyDelivery({ ...input, currentSecrets: [stored, TOKEN] })).to.deep.include({
        ok: false,
        reason: "signature invalid",
      });
    });
  });

  it("verifyDelivery refuses a captured signed delivery replayed later with its webhook-* headers dropped, while the secret holds a signing key", () => {
    const signing = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const sentAt = 1_700_000_000_000;
    const signed = {
      "x-gitlab-token": TOKEN,
      ...signatureHeaders("gitlab", signing, Buffer.from(BODY), { nowMs: sentAt }),
    };
    const later = (headers: Record<string, string>) =>
      verifyDelivery(
        request({
          provider: "gitlab",
          body: BODY,
          headers,
          secrets: [signing, TOKEN],
          nowMs: sentAt + 3_600_000,
        }),
      );
    expect(later(signed)).to.deep.include({
      ok: false,
      reason: "signature timestamp too old",
    });
    expect(later({ "x-gitlab-token": TOKEN })).to.deep.include({
      ok: false,
      status: 401,
      reason: GITLAB_TOKEN_REFUSED,
    });
  });

  it("verifyDelivery's refusal of a lone token tells the caller only that webhook-signature is missing, and the log what the secret holds and what to do", () => {
    expect(GITLAB_TOKEN_REFUSED).to.equal("signature missing (webhook-signature)");
    expect(GITLAB_TOKEN_REFUSED_DETAIL)
      .to.include("signing token")
      .and.include("X-Gitlab-Token alone is not accepted")
      .and.include("add the signing token to the GitLab webhook")
      .and.include("store the plain token alone");
  });

  it("verifyDelivery still accepts a token-only delivery when the secret holds no whsec_ signing key", () => {
    expect(gitlab({ "x-gitlab-token": TOKEN }, ["whsec_not*base64", TOKEN])).to.deep.equal({
      ok: true,
      via: "token",
    });
  });
});

describe("Function: verifyDelivery (GitLab: what the hook sends against what the secret holds)", () => {
  const signing = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;
  const nowMs = 1_700_000_000_000;
  const signature = () => signatureHeaders("gitlab", signing, Buffer.from(BODY), { nowMs });
  /** The signing token as a copy that dropped its trailing "=" stores it: read as a plain token. */
  const unpadded = signing.replace(/=+$/, "");
  type Hook = "the secret token" | "the signing token" | "both tokens";
  const sends: Record<Hook, () => Record<string, string>> = {
    "the secret token": () => ({ "x-gitlab-token": TOKEN }),
    "the signing token": signature,
    "both tokens": () => ({ "x-gitlab-token": TOKEN, ...signature() }),
  };
  const noKey: VerifyResult = {
    ok: false,
    status: 401,
    reason: "signature cannot be verified",
    retryWithFreshSecret: true,
  };
  const cases: Array<[Hook, string, string[], VerifyResult]> = [
    ["the secret token", "the plain token", [TOKEN], { ok: true, via: "token" }],
    ["the signing token", "the whsec_ value", [signing], { ok: true, via: "signature" }],
    ["both tokens", "the plain token", [TOKEN], { ok: true, via: "token" }],
    ["both tokens", "the whsec_ value", [signing], { ok: true, via: "signature" }],
    [
      "the secret token",
      "the whsec_ value",
      [signing],
      {
        ok: false,
        status: 401,
        reason: GITLAB_TOKEN_REFUSED,
        retryWithFreshSecret: true,
        detail: GITLAB_TOKEN_REFUSED_DETAIL,
      },
    ],
    [
      "the signing token",
      "the plain token",
      [TOKEN],
      {
        ok: false,
        status: 401,
        reason: GITLAB_SIGNING_KEY_MISSING,
        retryWithFreshSecret: true,
        detail: GITLAB_SIGNING_KEY_MISSING_DETAIL,
      },
    ],
    [
      "the signing token",
      "the whsec_ value without its '=' padding",
      [unpadded],
      {
        ok: false,
        status: 401,
        reason: GITLAB_SIGNING_KEY_MISSING,
        retryWithFreshSecret: true,
        detail: GITLAB_SIGNING_KEY_INVALID_DETAIL,
      },
    ],
    [
      "the signing token",
      "the plain token and a whsec_ value that is not base64",
      [TOKEN, "whsec_not*base64"],
      {
        ok: false,
        status: 401,
        reason: GITLAB_SIGNING_KEY_MISSING,
        retryWithFreshSecret: true,
        detail: GITLAB_SIGNING_KEY_INVALID_DETAIL,
      },
    ],
    ["the secret token", "no usable value", [""], noKey],
    ["the signing token", "no usable value", [""], noKey],
    ["the signing token", "no value at all", [], noKey],
  ];
  for (const [hook, holds, secrets, expected] of cases) {
    const outcome = expected.ok
      ? `accepts it via ${expected.via}`
      : `refuses it: ${expected.reason}${expected.detail ? ", the log saying why" : ""}`;
    it(`verifyDelivery, for a hook sending ${hook} to a route whose secret holds ${holds}, ${outcome}`, () => {
      const input = request({ provider: "gitlab", body: BODY, headers: sends[hook](), secrets, nowMs });
      expect(verifyDelivery(input)).to.deep.equal(expected);
    });
  }

  it("verifyDelivery's answer to a signature meeting a plain token names only the missing header, and its detail neither secret", () => {
    expect(GITLAB_SIGNING_KEY_MISSING).to.equal("signature missing (X-Gitlab-Token)");
    const input = request({ provider: "gitlab", body: BODY, headers: signature(), secrets: [TOKEN], nowMs });
    const result = verifyDelivery(input);
    expect(result).to.deep.include({ ok: false, detail: GITLAB_SIGNING_KEY_MISSING_DETAIL });
    expect(JSON.stringify(result)).to.not.include(TOKEN).and.not.include(signing.slice("whsec_".length));
    expect(GITLAB_SIGNING_KEY_MISSING_DETAIL)
      .to.include("signed (webhook-signature")
      .and.include("holds no whsec_ signing token")
      .and.include("store the hook's signing token");
  });

  it("verifyDelivery's detail for a signature meeting a whsec_ value that is no signing key says to copy the whole signing token, not that the secret holds none, and names no value", () => {
    const input = request({
      provider: "gitlab",
      body: BODY,
      headers: signature(),
      secrets: [unpadded],
      nowMs,
    });
    const result = verifyDelivery(input);
    expect(result).to.deep.include({ ok: false, detail: GITLAB_SIGNING_KEY_INVALID_DETAIL });
    expect(JSON.stringify(result)).to.not.include(unpadded.slice("whsec_".length));
    expect(GITLAB_SIGNING_KEY_INVALID_DETAIL)
      .to.include("a whsec_ value in the route's secret is not a valid signing token")
      .and.include("with its '=' padding")
      .and.include("copy the whole signing token from the GitLab webhook")
      .and.not.include("holds no whsec_ signing token");
  });
});
