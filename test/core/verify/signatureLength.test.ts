// A hex signature must be the whole HMAC: the right one cut short, or with hex after it, is refused.
// (Comparing only the digits given would let a forger guess a 1-byte prefix in 256 tries.)
import { expect } from "chai";
import fc from "fast-check";
import type { Provider, RouteAuth } from "../../../src/core/types";
import { verifyDelivery } from "../../../src/core/verify";
import { type HmacAlgorithm, signHex } from "../../../src/core/verify/hmac";
import { runs } from "../../support/propertyRuns";
import { request, SECRET } from "./helpers";

interface Scheme {
  name: string;
  provider: Provider;
  header: string;
  prefix: string;
  algorithm: HmacAlgorithm;
  auth?: Partial<RouteAuth>;
}

const SCHEMES: readonly Scheme[] = [
  {
    name: "GitHub X-Hub-Signature-256",
    provider: "github",
    header: "x-hub-signature-256",
    prefix: "sha256=",
    algorithm: "sha256",
  },
  {
    name: "GitHub X-Hub-Signature (SHA-1, allowSha1)",
    provider: "github",
    header: "x-hub-signature",
    prefix: "sha1=",
    algorithm: "sha1",
    auth: { allowSha1: true },
  },
  {
    name: "Bitbucket Cloud",
    provider: "bitbucket",
    header: "x-hub-signature",
    prefix: "sha256=",
    algorithm: "sha256",
  },
  {
    name: "Bitbucket Data Center",
    provider: "bitbucket-server",
    header: "x-hub-signature",
    prefix: "sha256=",
    algorithm: "sha256",
  },
  {
    name: "Gitea X-Gitea-Signature",
    provider: "gitea",
    header: "x-gitea-signature",
    prefix: "",
    algorithm: "sha256",
  },
  {
    name: "Forgejo X-Forgejo-Signature",
    provider: "gitea",
    header: "x-forgejo-signature",
    prefix: "",
    algorithm: "sha256",
  },
  {
    name: "Gogs X-Gogs-Signature",
    provider: "gitea",
    header: "x-gogs-signature",
    prefix: "",
    algorithm: "sha256",
  },
  {
    name: "Gitea X-Hub-Signature-256",
    provider: "gitea",
    header: "x-hub-signature-256",
    prefix: "sha256=",
    algorithm: "sha256",
  },
];

const BODY = Buffer.from('{"ref":"refs/heads/main","repository":{"full_name":"team/repo"}}');
const MALFORMED = { ok: false, status: 401, reason: "signature malformed", retryWithFreshSecret: false };

function verify(scheme: Scheme, value: string, body = BODY) {
  return verifyDelivery(
    request({ provider: scheme.provider, body, headers: { [scheme.header]: value }, auth: scheme.auth }),
  );
}

/** The right header value's hex digits, without the label. */
function rightHex(scheme: Scheme, body = BODY): string {
  return signHex(scheme.algorithm, SECRET, body);
}

describe("Function: verifyDelivery refuses a right hex signature of the wrong length", () => {
  for (const scheme of SCHEMES) {
    describe(scheme.name, () => {
      const hex = rightHex(scheme);

      it("verifyDelivery accepts the whole right signature (control)", () => {
        expect(verify(scheme, `${scheme.prefix}${hex}`)).to.deep.equal({ ok: true, via: "signature" });
      });

      // Whole bytes (2, 8, 32 digits...) and odd digit counts, up to one digit short.
      const kept = [1, 2, 3, 8, 16, 32, 39, 40, 62, 63].filter((n) => n < hex.length);
      for (const digits of kept) {
        it(`verifyDelivery refuses the first ${digits} of the ${hex.length} hex digits as malformed`, () => {
          expect(verify(scheme, `${scheme.prefix}${hex.slice(0, digits)}`)).to.deep.equal(MALFORMED);
        });
      }

      const trailers: ReadonlyArray<[string, string]> = [
        ["one hex digit", "0"],
        ["one byte of hex", "ab"],
        ["the signature again", hex],
      ];
      for (const [name, extra] of trailers) {
        it(`verifyDelivery refuses the right signature followed by ${name} as malformed`, () => {
          expect(verify(scheme, `${scheme.prefix}${hex}${extra}`)).to.deep.equal(MALFORMED);
        });
      }

      it("verifyDelivery refuses any proper prefix or extension of the right signature", () => {
        fc.assert(
          fc.property(
            fc.uint8Array({ maxLength: 128 }),
            fc.boolean(),
            fc.nat(),
            fc.stringMatching(/^[0-9a-f]{1,80}$/),
            (bytes, cut, at, extra) => {
              const body = Buffer.from(bytes);
              const right = rightHex(scheme, body);
              // A prefix keeps 1 to all-but-one digits (none at all is "absent" on a Gitea route).
              const value = cut ? right.slice(0, 1 + (at % (right.length - 1))) : `${right}${extra}`;
              expect(verify(scheme, `${scheme.prefix}${value}`, body)).to.deep.equal(MALFORMED);
            },
          ),
          { numRuns: runs(100) },
        );
      });
    });
  }
});
