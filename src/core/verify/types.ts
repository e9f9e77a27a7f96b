// The verifier's contract (see the brief): one input shape, one result shape, for every provider.
import type { HeaderBag, Provider, RouteAuth } from "../types";

export interface VerifyInput {
  provider: Provider;
  headers: HeaderBag;
  /** The exact bytes received (base64-decoded when API Gateway said isBase64Encoded). */
  body: Buffer;
  /** Every usable secret value, current first (rotation: any one verifies). */
  secrets: readonly string[];
  /**
   * The values of the secret's current version (AWSCURRENT) alone; `secrets` when absent. GitLab
   * refuses a token alone only while these hold a whsec_ signing token, so storing the plain token
   * once (the whsec_ value moving to AWSPREVIOUS) lets it in again.
   */
  currentSecrets?: readonly string[];
  /** requestContext.identity.sourceIp. Never X-Forwarded-For. */
  sourceIp?: string;
  auth: RouteAuth;
  /** Clock for the Standard Webhooks timestamp check; Date.now() when absent. */
  nowMs?: number;
}

export type VerifyResult =
  | { ok: true; via: "signature" | "token" | "ip-allowlist" }
  | {
      ok: false;
      status: 401 | 403;
      /** What the caller is told: never more than a forger may know. */
      reason: string;
      retryWithFreshSecret: boolean;
      /** For the log only, when it says more than `reason` (what the route's owner should do). */
      detail?: string;
    };

/** What one scheme concluded about one request. Mapped to a VerifyResult in one place (index.ts). */
export type SchemeOutcome =
  /** The provider's signature/token headers are all absent. */
  | "absent"
  /** A signature header, or a header the signature depends on, appears more than once. */
  | "ambiguous"
  /** Gitea: Content-Type has different values, so what was signed (body or form field) is unknown. */
  | "content-type-ambiguous"
  /** Present, but not in the scheme's format. */
  | "malformed"
  /** GitHub's SHA-1 header only, and the route did not opt in. */
  | "sha1-refused"
  /** Bitbucket: a well-formed X-Hub-Signature under another algorithm than sha256 (sha1=, sha384=, sha512=). */
  | "other-algorithm"
  /** Standard Webhooks timestamp missing, not an integer, too old or in the future. */
  | "stale"
  /** Well-formed, but no configured secret can check it. */
  | "no-key"
  /** Well-formed, and no secret produced it. */
  | "mismatch"
  /** GitLab: X-Gitlab-Token without a signature, while the secret's current version holds a whsec_ signing key. */
  | "token-refused"
  /** GitLab: webhook-signature without X-Gitlab-Token, while the secret holds plain tokens and no whsec_ signing key. */
  | "signing-key-missing"
  /** GitLab: as signing-key-missing, but a value of the secret starts with whsec_ and is no valid signing key. */
  | "signing-key-invalid"
  | "match-signature"
  | "match-token";
