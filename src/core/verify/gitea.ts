// Gitea and Forgejo: X-Gitea-Signature / X-Forgejo-Signature (and the older X-Gogs-Signature) carry the
// bare hex HMAC-SHA256 of the raw body. Gitea also sends GitHub's X-Hub-Signature-256 ("sha256=...").
// The first header present, in this order, decides; any of them sent twice is ambiguous. A webhook
// without a secret still carries every header, empty ("" and a bare "sha256="): that is no signature.
import type { HeaderBag } from "../types";
import { headerValue } from "./headerValue";
import { verifyHexSignature } from "./hmac";
import type { SchemeOutcome } from "./types";

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
  return verifyHexSignature(chosen, prefix, "sha256", secrets, body);
}
