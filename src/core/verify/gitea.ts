// Gitea and Forgejo: X-Gitea-Signature / X-Forgejo-Signature (and the older X-Gogs-Signature) carry the
// bare hex HMAC-SHA256 of the payload. Gitea also sends GitHub's X-Hub-Signature-256 ("sha256=...")
// (addDefaultHeaders, go-gitea services/webhook/deliver.go); Forgejo sends X-Forgejo-* beside all of those
// (AddDefaultHeaders, forgejo services/webhook/shared/payloader.go).
// The first header present, in this order, decides; any of them sent twice is ambiguous. A webhook
// without a secret still carries every header, empty ("" and a bare "sha256="): that is no signature.
// Gitea signs the JSON payload, not the body it sends: with the "application/x-www-form-urlencoded"
// content type the body is payload=<JSON>, and the signature covers that field's value (newDefaultRequest
// in go-gitea services/webhook/deliver.go), where GitHub signs the form body itself.
import { contentTypeOf } from "../headers";
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { verifyHexSignature } from "./hmac";
import type { SchemeOutcome } from "./types";

const FORM = "application/x-www-form-urlencoded";

const HEADERS: ReadonlyArray<readonly [name: string, prefix: string]> = [
  ["x-gitea-signature", ""],
  ["x-forgejo-signature", ""],
  ["x-gogs-signature", ""],
  ["x-hub-signature-256", "sha256="],
];

export function verifyGitea(headers: HeaderBag, body: Buffer, secrets: readonly string[]): SchemeOutcome {
  let chosen: string | undefined;
  let prefix = "";
  for (const [name, namePrefix] of HEADERS) {
    const value = headerValue(headers, name);
    if (value === null) return "ambiguous";
    if (value !== undefined && value.trim() !== namePrefix && chosen === undefined) {
      chosen = value;
      prefix = namePrefix;
    }
  }
  if (chosen === undefined) return "absent";
  const signed = signedBytes(headers, body);
  if (signed === null) return "content-type-ambiguous";
  if (signed === undefined) return "malformed";
  return verifyHexSignature(chosen, prefix, "sha256", secrets, signed);
}

/**
 * What Gitea signed: the body, or in form mode its single `payload` field (undefined when there is none).
 * Null when Content-Type has different values: which bytes were signed is then unknown. Read with the
 * decoder's own function, so a header repeated verbatim (some proxies do) is a form here as there.
 */
function signedBytes(headers: HeaderBag, body: Buffer): Buffer | undefined | null {
  const type = contentTypeOf(headers);
  if (type === null) return null;
  if (type === undefined || type.split(";")[0]?.trim().toLowerCase() !== FORM) return body;
  const payloads = new URLSearchParams(body.toString("utf8")).getAll("payload");
  return payloads.length === 1 ? Buffer.from(payloads[0] as string, "utf8") : undefined;
}
