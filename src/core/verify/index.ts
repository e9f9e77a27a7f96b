// verifyDelivery: the one verification entry point every route function shares.
// Fail closed, never throw, and never say anything that helps a forger.
import { DELIVERY_HEADERS } from "../events/headers";
import { severalValues } from "../headers";
import { DEFAULT_TOLERANCE_SECONDS } from "../policy";
import type { HeaderBag, Provider } from "../types";
import { OTHER_BITBUCKET_ALGORITHMS, otherBitbucketAlgorithm, verifyBitbucket } from "./bitbucket";
import { verifyGitea } from "./gitea";
import { verifyGithub } from "./github";
import { verifyGitlab } from "./gitlab";
import { compileIpAllowlist } from "./ipAllowlist";
import { effectiveTolerance, timestampSeconds } from "./standardWebhooks";
import type { SchemeOutcome, VerifyInput, VerifyResult } from "./types";

export { compileIpAllowlist } from "./ipAllowlist";
export type { VerifyInput, VerifyResult } from "./types";

/** Reason given when the defensive catch fires; tests assert it never does. */
export const INTERNAL_REASON = "signature could not be verified (internal error)";

function reject(
  status: 401 | 403,
  reason: string,
  retryWithFreshSecret = false,
  detail?: string,
): VerifyResult {
  return detail === undefined
    ? { ok: false, status, reason, retryWithFreshSecret }
    : { ok: false, status, reason, retryWithFreshSecret, detail };
}

// Reasons are fixed strings: they name the failure class, never a value or the expected MAC.
/**
 * "signature missing", with the headers the route's provider signs with: a delivery from another host, or
 * from a webhook without a secret, then says what the route looked for.
 */
const MISSING: Readonly<Record<Provider, string>> = {
  github: "signature missing: a github route reads X-Hub-Signature-256",
  gitlab: "signature missing: a gitlab route reads X-Gitlab-Token or webhook-signature",
  bitbucket: "signature missing: a bitbucket route reads X-Hub-Signature",
  "bitbucket-server": "signature missing: a bitbucket-server route reads X-Hub-Signature",
  gitea:
    "signature missing: a gitea route reads X-Gitea-Signature, X-Forgejo-Signature, X-Gogs-Signature or X-Hub-Signature-256",
};
/** The reason a route of `provider` gives a request with no signature (nor token) and no IP allowlist. */
export function signatureMissingReason(provider: Provider): string {
  return MISSING[provider];
}
const AMBIGUOUS = "signature header repeated";
/** The decoder's own 400 reason for it: the same words whichever refuses the request. */
const CONTENT_TYPE_AMBIGUOUS = severalValues("content-type");
const MALFORMED = "signature malformed";
const SHA1_REFUSED = "SHA-1 signatures are not accepted on this route";
/** webhook-timestamp absent or not integer Unix seconds. */
const STALE_UNREADABLE = "signature timestamp missing or not an integer";
/**
 * webhook-timestamp further behind the function's clock than auth.toleranceSeconds: with the next one, what every
 * delivery of a GitLab server whose clock is off gets (the bad-signature alarm counts both).
 */
export const SIGNATURE_TIMESTAMP_TOO_OLD = "signature timestamp too old";
/** webhook-timestamp further ahead of the function's clock than auth.toleranceSeconds. */
export const SIGNATURE_TIMESTAMP_IN_FUTURE = "signature timestamp in the future";
/** Only when the clock the verifier was given is no number (a caller's bug). */
const STALE = "signature timestamp outside tolerance";
const NO_KEY = "signature cannot be verified";
/** A well-formed signature that matches none of the route's secrets (serve's smee hint reads it). */
export const SIGNATURE_INVALID = "signature invalid";
const DELIVERY_AMBIGUOUS = "delivery id header repeated";
const IP_REFUSED = "source IP not allowed";
/**
 * GitLab's token alone, while the secret's current version holds a signing token: the signature, not the
 * token, must decide. The caller is told only what is missing; what the secret holds is for the log.
 */
export const GITLAB_TOKEN_REFUSED = "signature missing (webhook-signature)";
/** The log's word on GITLAB_TOKEN_REFUSED: why, and what the route's owner should do. */
export const GITLAB_TOKEN_REFUSED_DETAIL =
  "the secret's current version holds a GitLab signing token (whsec_), so X-Gitlab-Token alone is not accepted; add the signing token to the GitLab webhook and check that its Recent events show webhook-signature (GitLab before 19, or with the feature flag off, ignores it), or store the plain token alone as the secret";

/**
 * The mirror of GITLAB_TOKEN_REFUSED: a signed delivery without X-Gitlab-Token, while the secret holds plain
 * tokens and no whsec_ signing token. The caller is told only what is missing (an outsider already tells the
 * two kinds of secret apart: a signature meets "signature invalid" on one, not on the other).
 */
export const GITLAB_SIGNING_KEY_MISSING = "signature missing (X-Gitlab-Token)";
/** The log's word on GITLAB_SIGNING_KEY_MISSING when no value of the secret starts with whsec_. */
export const GITLAB_SIGNING_KEY_MISSING_DETAIL =
  "the delivery is signed (webhook-signature, without X-Gitlab-Token) but the route's secret holds no whsec_ signing token, only a plain secret token: store the hook's signing token (whsec_...) in the secret, alone or beside the plain token, or set the plain token as the GitLab webhook's secret token so that it sends X-Gitlab-Token";

/**
 * The log's word on GITLAB_SIGNING_KEY_MISSING when a value of the secret starts with whsec_ but is not a
 * signing key it can use (base64 of the key, "=" padding included: a copy that lost it is read as a plain
 * token). Never the value, nor which of the secret's values it is.
 */
export const GITLAB_SIGNING_KEY_INVALID_DETAIL =
  "the delivery is signed (webhook-signature, without X-Gitlab-Token) but a whsec_ value in the route's secret is not a valid signing token (base64 of the key, with its '=' padding), so it is read as a plain secret token: copy the whole signing token from the GitLab webhook";

/**
 * The refusal of a Standard Webhooks timestamp outside the tolerance. The caller is told which way it is off;
 * the log is told by how much, against which tolerance, and what to do: GitLab sends no refused delivery
 * again by itself, so a clock off by more than the tolerance loses every delivery until it is fixed.
 */
function staleRefusal(input: VerifyInput): VerifyResult {
  const sent = timestampSeconds(input.headers);
  if (sent === undefined) return reject(401, STALE_UNREADABLE);
  const age = Math.floor((input.nowMs ?? Date.now()) / 1000) - sent;
  if (!Number.isFinite(age) || age === 0) return reject(401, STALE);
  const tolerance = effectiveTolerance(input.auth.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS);
  const resend =
    "GitLab does not send a refused delivery again by itself: resend it from the webhook's Recent events once the clocks agree (its id was not recorded, so it is not a duplicate)";
  if (age > 0) {
    return reject(
      401,
      SIGNATURE_TIMESTAMP_TOO_OLD,
      false,
      `webhook-timestamp is ${age} s behind this function's clock, more than auth.toleranceSeconds (${tolerance}): the Git host's clock is slow, the request was held on its way, or it is an old delivery sent again. ${resend}; if the host's clock cannot be set right (NTP), raise auth.toleranceSeconds (at most 3600)`,
    );
  }
  return reject(
    401,
    SIGNATURE_TIMESTAMP_IN_FUTURE,
    false,
    `webhook-timestamp is ${-age} s ahead of this function's clock, more than auth.toleranceSeconds (${tolerance}): the Git host's clock is fast. ${resend}; if the host's clock cannot be set right (NTP), raise auth.toleranceSeconds (at most 3600)`,
  );
}

/** The reason a bitbucket route refuses an X-Hub-Signature under `algorithm` (a name from a fixed list) with. */
function otherAlgorithmReason(provider: Provider, algorithm: string): string {
  return `signature algorithm ${algorithm} is not accepted: a ${provider} route reads X-Hub-Signature: sha256=`;
}

/**
 * Every reason a route of `provider` refuses a signature under another algorithm with: one per name
 * otherBitbucketAlgorithm may give, on a bitbucket or bitbucket-server route; none on another.
 */
export function otherAlgorithmReasons(provider: Provider): string[] {
  return provider === "bitbucket" || provider === "bitbucket-server"
    ? OTHER_BITBUCKET_ALGORITHMS.map((algorithm) => otherAlgorithmReason(provider, algorithm))
    : [];
}

/**
 * A Bitbucket signature under another algorithm than sha256: the caller is told which (from a fixed list) and
 * which one the route reads, so a hook that signs otherwise is not left with "signature malformed".
 */
function otherAlgorithmRefusal(input: VerifyInput): VerifyResult {
  const algorithm = otherBitbucketAlgorithm(input.headers) ?? "other";
  return reject(
    401,
    otherAlgorithmReason(input.provider, algorithm),
    false,
    `X-Hub-Signature is a ${algorithm}= HMAC; Bitbucket signs with HMAC-SHA256 ("sha256=") by default, and hookgate checks that alone. A GitHub webhook sends its SHA-1 X-Hub-Signature beside X-Hub-Signature-256: point it at a github route`,
  );
}

function scheme(input: VerifyInput): SchemeOutcome | undefined {
  const { headers, body, secrets, auth } = input;
  switch (input.provider) {
    case "github":
      return verifyGithub(headers, body, secrets, auth);
    case "gitlab":
      return verifyGitlab(
        headers,
        body,
        secrets,
        auth.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
        input.nowMs ?? Date.now(),
        Array.isArray(input.currentSecrets) ? input.currentSecrets : secrets,
      );
    case "bitbucket":
    case "bitbucket-server":
      return verifyBitbucket(headers, body, secrets);
    case "gitea":
      return verifyGitea(headers, body, secrets);
    default:
      return undefined;
  }
}

/**
 * Two values of any header deliveryIdOf may take the id from make the delivery ambiguous (which id
 * would deduplicate it?): a reject, like a repeated signature header. Order does not matter here.
 */
function repeatedDeliveryId(provider: Provider, headers: HeaderBag): boolean {
  for (const name of DELIVERY_HEADERS[provider]) {
    const values = headers.get(name);
    if (values !== undefined && values.length > 1) return true;
  }
  return false;
}

function verify(input: VerifyInput): VerifyResult {
  if (
    input === null ||
    typeof input !== "object" ||
    !Buffer.isBuffer(input.body) ||
    typeof (input.headers as { get?: unknown } | null)?.get !== "function" ||
    !Array.isArray(input.secrets) ||
    input.auth === null ||
    typeof input.auth !== "object" ||
    !Object.hasOwn(DELIVERY_HEADERS, input.provider)
  ) {
    return reject(401, NO_KEY);
  }
  if (repeatedDeliveryId(input.provider, input.headers)) return reject(401, DELIVERY_AMBIGUOUS);
  const outcome = scheme(input);
  switch (outcome) {
    case "match-signature":
      return { ok: true, via: "signature" };
    case "match-token":
      return { ok: true, via: "token" };
    case "absent": {
      const allowIps = input.auth.allowIps;
      if (!Array.isArray(allowIps) || allowIps.length === 0) return reject(401, MISSING[input.provider]);
      return compileIpAllowlist(allowIps)(input.sourceIp)
        ? { ok: true, via: "ip-allowlist" }
        : reject(403, IP_REFUSED);
    }
    case "ambiguous":
      return reject(401, AMBIGUOUS);
    case "content-type-ambiguous":
      return reject(401, CONTENT_TYPE_AMBIGUOUS);
    case "malformed":
      return reject(401, MALFORMED);
    case "sha1-refused":
      return reject(401, SHA1_REFUSED);
    case "other-algorithm":
      return otherAlgorithmRefusal(input);
    case "stale":
      return staleRefusal(input);
    case "no-key":
      // A secret filled in or changed to another kind (GitLab's whsec_ signing token) since it was cached.
      return reject(401, NO_KEY, true);
    case "mismatch":
      return reject(401, SIGNATURE_INVALID, true);
    case "token-refused":
      // The secret may have just been changed back to a plain token alone since it was cached.
      return reject(401, GITLAB_TOKEN_REFUSED, true, GITLAB_TOKEN_REFUSED_DETAIL);
    case "signing-key-missing":
      // The secret may have just been given the signing token since it was cached.
      return reject(401, GITLAB_SIGNING_KEY_MISSING, true, GITLAB_SIGNING_KEY_MISSING_DETAIL);
    case "signing-key-invalid":
      // Told as signing-key-missing: whether the secret holds a whsec_ value is for the log only.
      return reject(401, GITLAB_SIGNING_KEY_MISSING, true, GITLAB_SIGNING_KEY_INVALID_DETAIL);
    default:
      return reject(401, NO_KEY);
  }
}

/**
 * Verify one delivery over its raw bytes. Never throws: whatever the headers and body, the answer is
 * a VerifyResult. `retryWithFreshSecret` is true only when a well-formed signature did not match, or
 * no secret value could check it: the caller may refresh its secret cache once and call again (a
 * rotation may have just happened).
 */
export function verifyDelivery(input: VerifyInput): VerifyResult {
  try {
    return verify(input);
  } catch {
    // Fail closed. Reaching this is a bug: the property tests assert this reason never appears.
    return reject(401, INTERNAL_REASON);
  }
}
