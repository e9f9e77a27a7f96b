// Bitbucket Cloud and Data Center: X-Hub-Signature = "sha256=" + hex HMAC-SHA256 of the raw body.
// Same header name as GitHub's legacy SHA-1 header, different algorithm: "sha1=" here is not accepted.
// Data Center's docs say only "The default for this algorithm is HMACSha256" and show "sha256=" (the header is
// "<method>=<signature>"); no setting for another is documented. A well-formed value under another SHA name
// is refused naming it, so its owner is not left with "signature malformed".
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { verifyHexSignature } from "./hmac";
import type { SchemeOutcome } from "./types";

/** Hex digest length of each HMAC a sender might name in "<method>=<hex>" besides sha256. */
const OTHER_ALGORITHMS: Readonly<Record<string, number>> = { sha1: 40, sha384: 96, sha512: 128 };
/** The names otherBitbucketAlgorithm may return: each one's refusal has its own fixed reason (the alarm counts them). */
export const OTHER_BITBUCKET_ALGORITHMS: readonly string[] = Object.keys(OTHER_ALGORITHMS);

/**
 * The algorithm a well-formed X-Hub-Signature names when it is not sha256 ("sha1", "sha384", "sha512"), from
 * that fixed list only (the header's text is never echoed), else undefined.
 */
export function otherBitbucketAlgorithm(headers: HeaderBag): string | undefined {
  const value = headerValue(headers, "x-hub-signature");
  if (typeof value !== "string") return undefined;
  const equals = value.indexOf("=");
  const method = value.slice(0, equals).toLowerCase();
  if (equals < 0 || !Object.hasOwn(OTHER_ALGORITHMS, method)) return undefined;
  const digest = value.slice(equals + 1);
  return digest.length === OTHER_ALGORITHMS[method] && /^[0-9a-fA-F]+$/.test(digest) ? method : undefined;
}

export function verifyBitbucket(headers: HeaderBag, body: Buffer, secrets: readonly string[]): SchemeOutcome {
  const value = headerValue(headers, "x-hub-signature");
  if (value === null) return "ambiguous";
  if (value === undefined) return "absent";
  const outcome = verifyHexSignature(value, "sha256=", "sha256", secrets, body);
  return outcome === "malformed" && otherBitbucketAlgorithm(headers) !== undefined
    ? "other-algorithm"
    : outcome;
}
