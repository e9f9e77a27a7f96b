// GitLab: the plain secret token in X-Gitlab-Token, or (signing token) Standard Webhooks headers.
// When both are present and the route holds a whsec_ signing key, the signature decides: it covers
// the body and the time, the token covers neither. And while the secret's current version holds a signing
// key, the token alone is refused: a captured signed delivery with its webhook-* headers dropped would
// replay forever. (Only the current version: storing the plain token once lets the token in again, alone or
// beside a signature only an AWSPREVIOUS whsec_ value could check.)
// Tokens are compared as HMACs under a per-process random key, so neither their content nor their
// length shows in the timing.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { signingKey } from "./keys";
import { verifyStandardWebhook } from "./standardWebhooks";
import type { SchemeOutcome } from "./types";

const COMPARE_KEY = randomBytes(32);
const MAX_CACHED = 256;
const secretDigests = new Map<string, Buffer>();

function digest(text: string): Buffer {
  return createHmac("sha256", COMPARE_KEY).update(text, "utf8").digest();
}

function secretDigest(secret: string): Buffer {
  let d = secretDigests.get(secret);
  if (d === undefined) {
    if (secretDigests.size >= MAX_CACHED) secretDigests.clear();
    d = digest(secret);
    secretDigests.set(secret, d);
  }
  return d;
}

/** Constant-time check of a plain token against every non-empty secret. */
export function verifyGitlabToken(token: string, secrets: readonly string[]): SchemeOutcome {
  if (token.length === 0) return "malformed";
  const given = digest(token);
  let keys = 0;
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length === 0) continue;
    keys++;
    if (timingSafeEqual(secretDigest(secret), given)) return "match-token";
  }
  return keys === 0 ? "no-key" : "mismatch";
}

export function verifyGitlab(
  headers: HeaderBag,
  body: Buffer,
  secrets: readonly string[],
  toleranceSeconds: number,
  nowMs: number,
  currentSecrets: readonly string[] = secrets,
): SchemeOutcome {
  const token = headerValue(headers, "x-gitlab-token");
  if (token === null) return "ambiguous";
  const signed = headerValue(headers, "webhook-signature") !== undefined;
  const holdsSigningKey = (values: readonly string[]) => values.some((s) => signingKey(s) !== undefined);
  // With both headers, a whsec_ key in any version lets the signature decide.
  if (signed && (token === undefined || holdsSigningKey(secrets))) {
    const outcome = verifyStandardWebhook(headers, body, secrets, toleranceSeconds, nowMs);
    // Gone back to the plain token (the whsec_ value only in AWSPREVIOUS): the token alone would be let in,
    // so the token beside a signature that fails (another signing token on the hook, a skewed clock) is too.
    if (token !== undefined && outcome !== "match-signature" && !holdsSigningKey(currentSecrets)) {
      const byToken = verifyGitlabToken(token, secrets);
      if (byToken === "match-token") return byToken;
    }
    // A signing hook meeting a secret that holds only plain tokens: not a missing secret, two kinds.
    if (outcome !== "no-key" || !secrets.some((s) => typeof s === "string" && s.length > 0)) return outcome;
    // A whsec_ value that is no key (its "=" padding lost in a copy) is read as a plain token: its owner
    // stored the signing token, so "store the signing token" would send them round in a circle.
    return secrets.some((s) => typeof s === "string" && s.startsWith("whsec_"))
      ? "signing-key-invalid"
      : "signing-key-missing";
  }
  if (token === undefined) return "absent";
  if (holdsSigningKey(currentSecrets)) return "token-refused";
  return verifyGitlabToken(token, secrets);
}
