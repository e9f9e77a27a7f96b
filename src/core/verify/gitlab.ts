// GitLab: the plain secret token in X-Gitlab-Token, or (signing token) Standard Webhooks headers.
// When both are present and the route holds a whsec_ signing key, the signature decides: it covers
// the body and the time, the token covers neither. And while the secret's current version holds a signing
// key, the token alone is refused: a captured signed delivery with its webhook-* headers dropped would
// replay forever. (Only the current version: storing the plain token once lets the token in again, alone or
// beside a signature only an AWSPREVIOUS whsec_ value could check.)
// Tokens are compared as HMACs under a per-process random key, so neither their content nor their
// length shows in the timing.
// GitLab (Ruby Net::HTTP) writes the token's UTF-8 bytes, but node:http (hookgate serve) reads header bytes
// one character per byte (latin1), so a non-ASCII token arrives as another string. A header string of
// characters up to U+00FF is therefore also read back to the bytes that carried it; a string with a
// character above U+00FF came decoded (no byte reading of it exists). An ASCII token reads the same both ways.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { signingKey } from "./keys";
import { verifyStandardWebhook } from "./standardWebhooks";
import type { SchemeOutcome } from "./types";

const COMPARE_KEY = randomBytes(32);
const MAX_CACHED = 256;
const secretDigests = new Map<string, Buffer>();

function digest(bytes: Buffer): Buffer {
  return createHmac("sha256", COMPARE_KEY).update(bytes).digest();
}

function secretDigest(secret: string): Buffer {
  let d = secretDigests.get(secret);
  if (d === undefined) {
    if (secretDigests.size >= MAX_CACHED) secretDigests.clear();
    d = digest(Buffer.from(secret, "utf8"));
    secretDigests.set(secret, d);
  }
  return d;
}

function hasCharAboveLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return true;
  return false;
}

/** The bytes the header may have carried: its text as UTF-8, and (when they differ) its latin1 reading. */
function tokenReadings(token: string): Buffer[] {
  const asText = Buffer.from(token, "utf8");
  if (hasCharAboveLatin1(token)) return [asText];
  const asBytes = Buffer.from(token, "latin1");
  return asBytes.equals(asText) ? [asText] : [asText, asBytes];
}

/** Constant-time check of a plain token against every non-empty secret. */
export function verifyGitlabToken(token: string, secrets: readonly string[]): SchemeOutcome {
  if (token.length === 0) return "malformed";
  const given = tokenReadings(token).map(digest);
  let keys = 0;
  for (const secret of secrets) {
    if (typeof secret !== "string" || secret.length === 0) continue;
    keys++;
    const expected = secretDigest(secret);
    // Every reading is compared (no short-circuit), so which one matched does not show in the timing.
    let matched = false;
    for (const reading of given) matched = timingSafeEqual(expected, reading) || matched;
    if (matched) return "match-token";
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
