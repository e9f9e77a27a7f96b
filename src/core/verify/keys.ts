// Secrets turned into HMAC keys once, not per request. The cache is bounded; secret values live in
// memory anyway (the secret store caches them), and nothing here is ever logged.
import { createSecretKey, type KeyObject } from "node:crypto";

const MAX_CACHED = 256;
const hmacKeys = new Map<string, KeyObject | null>();
const signingKeys = new Map<string, KeyObject | null>();

function cached(cache: Map<string, KeyObject | null>, secret: string, make: () => KeyObject | null) {
  let key = cache.get(secret);
  if (key === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear();
    key = make();
    cache.set(secret, key);
  }
  return key ?? undefined;
}

/** The HMAC key for a shared secret: its UTF-8 bytes. Undefined for an empty secret (never a key). */
export function hmacKey(secret: string): KeyObject | undefined {
  if (typeof secret !== "string" || secret.length === 0) return undefined;
  return cached(hmacKeys, secret, () => createSecretKey(Buffer.from(secret, "utf8")));
}

const WHSEC = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * A Standard Webhooks signing key: `whsec_<base64>` decodes to the key bytes (GitLab's signing token
 * has this form). Undefined for any other secret, or a `whsec_` value that is not valid base64.
 */
export function signingKey(secret: string): KeyObject | undefined {
  if (typeof secret !== "string" || !secret.startsWith(WHSEC)) return undefined;
  return cached(signingKeys, secret, () => {
    const encoded = secret.slice(WHSEC.length);
    if (encoded.length % 4 !== 0 || !BASE64.test(encoded)) return null;
    const bytes = Buffer.from(encoded, "base64");
    return bytes.length > 0 ? createSecretKey(bytes) : null;
  });
}
