// Bitbucket Cloud and Data Center: X-Hub-Signature = "sha256=" + hex HMAC-SHA256 of the raw body.
// Same header name as GitHub's legacy SHA-1 header, different algorithm: "sha1=" here is malformed.
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { verifyHexSignature } from "./hmac";
import type { SchemeOutcome } from "./types";

export function verifyBitbucket(headers: HeaderBag, body: Buffer, secrets: readonly string[]): SchemeOutcome {
  const value = headerValue(headers, "x-hub-signature");
  if (value === null) return "ambiguous";
  if (value === undefined) return "absent";
  return verifyHexSignature(value, "sha256=", "sha256", secrets, body);
}
