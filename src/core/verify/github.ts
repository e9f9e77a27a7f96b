// GitHub: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256 of the raw body.
// The legacy X-Hub-Signature ("sha1=") counts only when the route opted in with auth.allowSha1.
import type { HeaderBag, RouteAuth } from "../types";
import { headerValue } from "./headerValue";
import { verifyHexSignature } from "./hmac";
import type { SchemeOutcome } from "./types";

export function verifyGithub(
  headers: HeaderBag,
  body: Buffer,
  secrets: readonly string[],
  auth: RouteAuth,
): SchemeOutcome {
  const sha256 = headerValue(headers, "x-hub-signature-256");
  if (sha256 === null) return "ambiguous";
  if (sha256 !== undefined) return verifyHexSignature(sha256, "sha256=", "sha256", secrets, body);
  const sha1 = headerValue(headers, "x-hub-signature");
  if (sha1 === null) return "ambiguous";
  if (sha1 === undefined) return "absent";
  if (!auth.allowSha1) return "sha1-refused";
  return verifyHexSignature(sha1, "sha1=", "sha1", secrets, body);
}
