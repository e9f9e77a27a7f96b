import { createHmac } from "node:crypto";
import { expect } from "chai";
import fc from "fast-check";
import { DELIVERY_HEADERS } from "../../../src/core/events/headers";
import { PROVIDERS, type Provider } from "../../../src/core/types";
import { INTERNAL_REASON, verifyDelivery } from "../../../src/core/verify";
import { signatureHeaders } from "../../../src/core/verify/sign";
import { runs } from "../../support/propertyRuns";
import { request } from "./helpers";

const NOW = 1_770_000_000_000;
const secretArb = fc.string({ minLength: 1, maxLength: 40 });
const bodyArb = fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes));
const whsecArb = fc
  .uint8Array({ minLength: 24, maxLength: 64 })
  .map((b) => `whsec_${Buffer.from(b).toString("base64")}`);

/** For each provider, a secret arbitrary that the provider's signing scheme can use. */
function secretFor(provider: Provider): fc.Arbitrary<string> {
  return provider === "gitlab" ? fc.oneof(secretArb, whsecArb) : secretArb;
}

function signedInput(provider: Provider, secret: string, body: Buffer, secrets: string[] = [secret]) {
  const headers = signatureHeaders(provider, secret, body, { id: "msg_1", nowMs: NOW });
  return request({ provider, body, headers, secrets, nowMs: NOW });
}

describe("Properties: verifyDelivery", () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: a signature verifies for the exact bytes and secret`, () => {
      fc.assert(
        fc.property(secretFor(provider), bodyArb, (secret, body) => {
          expect(verifyDelivery(signedInput(provider, secret, body)).ok).to.equal(true);
        }),
        { numRuns: runs(150) },
      );
    });

    it(`${provider}: a signature fails for another secret`, () => {
      fc.assert(
        fc.property(secretFor(provider), secretFor(provider), bodyArb, (secret, other, body) => {
          fc.pre(secret !== other);
          const input = signedInput(provider, secret, body, [other]);
          expect(verifyDelivery(input)).to.deep.include({ ok: false, status: 401 });
        }),
        { numRuns: runs(150) },
      );
    });

    if (provider !== "gitlab") {
      it(`${provider}: any single-byte change to the body fails`, () => {
        fc.assert(
          fc.property(
            secretArb,
            bodyArb.filter((b) => b.length > 0),
            fc.nat(),
            fc.integer({ min: 1, max: 255 }),
            (secret, body, at, delta) => {
              const input = signedInput(provider, secret, body);
              const changed = Buffer.from(body);
              const i = at % changed.length;
              changed[i] = ((changed[i] as number) + delta) & 0xff;
              expect(verifyDelivery({ ...input, body: changed })).to.deep.include({ ok: false, status: 401 });
            },
          ),
          { numRuns: runs(200) },
        );
      });
    }

    it(`${provider}: any single-character change to the signature header fails`, () => {
      fc.assert(
        fc.property(
          secretFor(provider),
          bodyArb,
          fc.nat(),
          fc.integer({ min: 1, max: 0xffff }),
          (secret, body, at, delta) => {
            const headers = signatureHeaders(provider, secret, body, { id: "msg_1", nowMs: NOW });
            const name =
              "x-gitlab-token" in headers
                ? "x-gitlab-token"
                : (Object.keys(headers).find((h) => /signature/.test(h)) as string);
            const value = headers[name] as string;
            const i = at % value.length;
            const code = (value.charCodeAt(i) + delta) & 0xffff;
            // Lone surrogates are not text a header can carry.
            fc.pre(code < 0xd800 || code > 0xdfff);
            const changed = value.slice(0, i) + String.fromCharCode(code) + value.slice(i + 1);
            fc.pre(changed !== value);
            const input = request({
              provider,
              body,
              headers: { ...headers, [name]: changed },
              secrets: [secret],
              nowMs: NOW,
            });
            expect(verifyDelivery(input)).to.deep.include({ ok: false, status: 401 });
          },
        ),
        { numRuns: runs(200) },
      );
    });
  }

  // Every header deliveryIdOf may take the id from: sent twice, which copy deduplicates the delivery?
  for (const provider of PROVIDERS) {
    for (const name of DELIVERY_HEADERS[provider]) {
      it(`${provider}: verifyDelivery rejects a signed delivery whose ${name} header comes twice (401)`, () => {
        const body = Buffer.from('{"ref":"refs/heads/main"}');
        const secret = provider === "gitlab" ? `whsec_${Buffer.alloc(32, 3).toString("base64")}` : "s3cret";
        const signed = signatureHeaders(provider, secret, body, { id: "msg_1", nowMs: NOW });
        const headers = { ...signed, [name]: ["id-1", "id-2"] };
        const input = request({ provider, body, headers, secrets: [secret], nowMs: NOW });
        expect(verifyDelivery(input)).to.deep.include({
          ok: false,
          status: 401,
          reason: "delivery id header repeated",
        });
      });
    }
  }

  // Hosts key the HMAC with the secret's UTF-8 bytes (GitHub, octokit's TextEncoder, Gitea's []byte(secret)).
  // secretArb is ASCII only, where UTF-8 and latin-1 agree: this one takes any character.
  const hexHeader = {
    github: (hex: string) => ({ "x-hub-signature-256": `sha256=${hex}` }),
    bitbucket: (hex: string) => ({ "x-hub-signature": `sha256=${hex}` }),
    "bitbucket-server": (hex: string) => ({ "x-hub-signature": `sha256=${hex}` }),
    gitea: (hex: string) => ({ "x-gitea-signature": hex }),
  } as const;
  for (const [provider, header] of Object.entries(hexHeader)) {
    it(`${provider}: the HMAC is keyed with the UTF-8 bytes of the secret, whatever characters it holds`, () => {
      fc.assert(
        fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), bodyArb, (secret, body) => {
          const hex = createHmac("sha256", Buffer.from(secret, "utf8")).update(body).digest("hex");
          const input = request({
            provider: provider as Provider,
            body,
            headers: header(hex),
            secrets: [secret],
          });
          expect(verifyDelivery(input)).to.deep.equal({ ok: true, via: "signature" });
        }),
        { numRuns: runs(150) },
      );
    });
  }

  it("GitLab: any single-byte change to a Standard Webhooks body fails", () => {
    fc.assert(
      fc.property(
        whsecArb,
        bodyArb.filter((b) => b.length > 0),
        fc.nat(),
        (secret, body, at) => {
          const input = signedInput("gitlab", secret, body);
          const changed = Buffer.from(body);
          const i = at % changed.length;
          changed[i] = (changed[i] as number) ^ 0x01;
          expect(verifyDelivery({ ...input, body: changed })).to.deep.include({ ok: false, status: 401 });
        },
      ),
      { numRuns: runs(150) },
    );
  });

  const interesting = [
    "x-hub-signature-256",
    "x-hub-signature",
    "x-gitlab-token",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-gitea-signature",
    "x-forgejo-signature",
    "x-gogs-signature",
    "x-github-delivery",
    "x-request-uuid",
    "x-forwarded-for",
  ];
  const nameArb = fc.oneof(fc.constantFrom(...interesting), fc.string({ maxLength: 30 }));
  const valueArb = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.constantFrom("sha256=", "sha1=", "v1,", "v1,=", "whsec_", "", " ", "1770000000"),
    fc.stringMatching(/^(sha256=|sha1=)?[0-9a-f]{0,70}$/),
    fc.stringMatching(/^(v[0-9a],[A-Za-z0-9+/=]{0,50} ?){0,4}$/),
  );
  const headersArb = fc.dictionary(nameArb, fc.oneof(valueArb, fc.array(valueArb, { maxLength: 3 })), {
    maxKeys: 8,
  });
  const authArb = fc.record({
    allowIps: fc.array(
      fc.oneof(fc.constantFrom("10.0.0.0/8", "::/0", "::ffff:0.0.0.0/96", "bad"), fc.string()),
      {
        maxLength: 3,
      },
    ),
    allowSha1: fc.boolean(),
    toleranceSeconds: fc.oneof(fc.integer(), fc.double()),
  });

  it("verifyDelivery never throws for arbitrary headers, bodies, secrets, IPs and auth, for every provider, and lets them in only by the IP allowlist or a GitLab token equal to a secret", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROVIDERS),
        headersArb,
        bodyArb,
        fc.array(fc.oneof(fc.string(), whsecArb), { maxLength: 3 }),
        fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), { nil: undefined }),
        authArb,
        fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
        (provider, headers, body, secrets, sourceIp, auth, nowMs) => {
          const input = request({ provider, headers, body, secrets, sourceIp, auth, nowMs });
          const result = verifyDelivery(input);
          expect(result.ok === true || result.status === 401 || result.status === 403).to.equal(true);
          if (!result.ok) expect(result.reason).not.to.equal(INTERNAL_REASON);
          else {
            // Random headers hold no HMAC of the body: only no signature at all (the allowlist) or a
            // plain token that happens to be one of the secrets may let them in.
            const token = input.headers.get("x-gitlab-token");
            const tokenIsASecret =
              provider === "gitlab" && token?.length === 1 && secrets.includes(token[0] as string);
            const allowed = result.via === "ip-allowlist" || (result.via === "token" && tokenIsASecret);
            expect(allowed, JSON.stringify({ result, headers })).to.equal(true);
          }
        },
      ),
      { numRuns: runs(1000) },
    );
  });

  it("verifyDelivery never throws for inputs of the wrong shape", () => {
    const bad: unknown[] = [
      undefined,
      null,
      {},
      { provider: "github", headers: {}, body: "text", secrets: ["s"], auth: {} },
      { provider: "svn", headers: new Map(), body: Buffer.alloc(0), secrets: [], auth: {} },
      {
        provider: "github",
        headers: new Map([["x-hub-signature-256", "sha256=00"]]),
        body: Buffer.alloc(0),
        secrets: [],
        auth: {},
      },
      {
        provider: "gitea",
        headers: new Map([["x-gitea-signature", [42]]]),
        body: Buffer.alloc(0),
        secrets: [7],
        auth: {},
      },
      { provider: "github", headers: new Map(), body: Buffer.alloc(0), secrets: ["s"], auth: null },
      { provider: "github", headers: new Map(), body: Buffer.alloc(0), secrets: ["s"] },
      {
        provider: "github",
        headers: new Map([["x-hub-signature-256", [`sha256=${"0".repeat(64)}`]]]),
        body: Buffer.alloc(0),
        secrets: 5,
        auth: {},
      },
      { provider: "github", headers: {}, body: Buffer.alloc(0), secrets: ["s"], auth: {} },
      { provider: "github", headers: null, body: Buffer.alloc(0), secrets: ["s"], auth: {} },
      "github",
    ];
    for (const input of bad) {
      const result = verifyDelivery(input as never);
      expect(result.ok).to.equal(false);
      // Refused by the shape check, not by the defensive catch.
      if (!result.ok) expect(result.reason, JSON.stringify(input)).not.to.equal(INTERNAL_REASON);
    }
  });

  it("verifyDelivery answers 401 with the internal-error reason, never a throw, when reading the headers throws", () => {
    const headers = new Map<string, string[]>();
    headers.get = () => {
      throw new Error("boom");
    };
    const input = { provider: "github", headers, body: Buffer.alloc(0), secrets: ["s"], auth: {} };
    expect(verifyDelivery(input as never)).to.deep.equal({
      ok: false,
      status: 401,
      reason: "signature could not be verified (internal error)",
      retryWithFreshSecret: false,
    });
  });
});
