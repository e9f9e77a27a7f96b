// Standard Webhooks (https://www.standardwebhooks.com), as GitLab's signing token uses it:
//   webhook-id, webhook-timestamp (integer Unix seconds), webhook-signature = space-separated
//   "<version>,<base64>" entries; v1 = base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`.
// Keys are `whsec_<base64>` secrets. Timestamps further than the tolerance from now, in either
// direction, are rejected before any HMAC is computed. Unknown versions are skipped; the request
// passes when any v1 entry matches any key.
import { createHmac, timingSafeEqual } from "node:crypto";
import { DEFAULT_TOLERANCE_SECONDS } from "../policy";
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { signingKey } from "./keys";
import type { SchemeOutcome } from "./types";

const V1 = /^[A-Za-z0-9+/]{43}=$/;
const TIMESTAMP = /^[0-9]{1,15}$/;

/** The webhook-signature value a sender would put for this secret (tests, `hookgate send`). */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: Buffer): string {
  const key = signingKey(secret);
  if (key === undefined) throw new TypeError("a Standard Webhooks secret has the form whsec_<base64>");
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
  return `v1,${mac}`;
}

/** The tolerance a check uses: the route's when it is a positive number, else the default. */
export function effectiveTolerance(toleranceSeconds: number): number {
  return Number.isFinite(toleranceSeconds) && toleranceSeconds > 0
    ? toleranceSeconds
    : DEFAULT_TOLERANCE_SECONDS;
}

/** webhook-timestamp as integer Unix seconds; undefined when it is missing, repeated or not that. */
export function timestampSeconds(headers: HeaderBag): number | undefined {
  const timestamp = headerValue(headers, "webhook-timestamp");
  return typeof timestamp === "string" && TIMESTAMP.test(timestamp) ? Number(timestamp) : undefined;
}

export function verifyStandardWebhook(
  headers: HeaderBag,
  body: Buffer,
  secrets: readonly string[],
  toleranceSeconds: number,
  nowMs: number,
): SchemeOutcome {
  const signature = headerValue(headers, "webhook-signature");
  const id = headerValue(headers, "webhook-id");
  const timestamp = headerValue(headers, "webhook-timestamp");
  if (signature === null || id === null || timestamp === null) return "ambiguous";
  if (signature === undefined) return "absent";
  const seconds = timestampSeconds(headers);
  if (seconds === undefined) return "stale";
  const tolerance = effectiveTolerance(toleranceSeconds);
  // Written so that a NaN clock (a caller's bug) is a reject, not a skipped check.
  if (!(Math.abs(Math.floor(nowMs / 1000) - seconds) <= tolerance)) return "stale";
  if (id === undefined || id.length === 0) return "malformed";

  const given: Buffer[] = [];
  for (const entry of signature.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const encoded = entry.slice(comma + 1);
    if (!V1.test(encoded)) continue;
    // Only the canonical encoding: the last character carries two unused bits, and a variant that
    // decodes to the same bytes is a different signature, not the one that was sent.
    const bytes = Buffer.from(encoded, "base64");
    if (bytes.toString("base64") === encoded) given.push(bytes);
  }
  if (given.length === 0) return "malformed";

  let keys = 0;
  for (const secret of secrets) {
    const key = signingKey(secret);
    if (key === undefined) continue;
    keys++;
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
    for (const candidate of given) {
      if (timingSafeEqual(expected, candidate)) return "match-signature";
    }
  }
  return keys === 0 ? "no-key" : "mismatch";
}
