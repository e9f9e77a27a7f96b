// HMAC over the raw body and the constant-time comparison shared by every hex-signature scheme.
import { createHmac, timingSafeEqual } from "node:crypto";
import { decodeHex } from "./hex";
import { hmacKey } from "./keys";
import type { SchemeOutcome } from "./types";

export type HmacAlgorithm = "sha256" | "sha1";

const DIGEST_BYTES: Record<HmacAlgorithm, number> = { sha256: 32, sha1: 20 };

/** `${prefix}${hex HMAC}` of the exact bytes: what a sender puts in its header (tests, `hookgate send`). */
export function signHex(algorithm: HmacAlgorithm, secret: string, body: Buffer, prefix = ""): string {
  return `${prefix}${createHmac(algorithm, Buffer.from(secret, "utf8")).update(body).digest("hex")}`;
}

/**
 * Check `value` = `${prefix}<lower-case hex HMAC of body>` against every secret.
 * The prefix and the length are checked first, the hex is decoded once, then each secret's 20/32-byte
 * digest is compared with crypto.timingSafeEqual. The expected MAC never leaves this function.
 */
export function verifyHexSignature(
  value: string,
  prefix: string,
  algorithm: HmacAlgorithm,
  secrets: readonly string[],
  body: Buffer,
): SchemeOutcome {
  const bytes = DIGEST_BYTES[algorithm];
  if (value.length !== prefix.length + bytes * 2 || !value.startsWith(prefix)) return "malformed";
  const given = decodeHex(value, bytes, prefix.length);
  if (given === undefined) return "malformed";
  let keys = 0;
  for (const secret of secrets) {
    const key = hmacKey(secret);
    if (key === undefined) continue;
    keys++;
    const expected = createHmac(algorithm, key).update(body).digest();
    if (timingSafeEqual(expected, given)) return "match-signature";
  }
  return keys === 0 ? "no-key" : "mismatch";
}
