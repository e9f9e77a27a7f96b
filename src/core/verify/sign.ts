// The sender's side: the headers a Git host would add for `secret` over `body`. For tests and for
// `hookgate send`; the gateway never signs anything.
import { randomUUID } from "node:crypto";
import type { Provider } from "../types";
import { signHex } from "./hmac";
import { signStandardWebhook } from "./standardWebhooks";

export interface SignOptions {
  /** Standard Webhooks message id (GitLab signing token); a random UUID when absent. */
  id?: string;
  /** Clock for the Standard Webhooks timestamp; Date.now() when absent. */
  nowMs?: number;
}

/**
 * Signature headers (lower-case names) for one delivery. GitLab: a `whsec_` secret gives Standard
 * Webhooks headers, any other secret the plain X-Gitlab-Token.
 */
export function signatureHeaders(
  provider: Provider,
  secret: string,
  body: Buffer,
  options: SignOptions = {},
): Record<string, string> {
  switch (provider) {
    case "github":
      return { "x-hub-signature-256": signHex("sha256", secret, body, "sha256=") };
    case "bitbucket":
    case "bitbucket-server":
      return { "x-hub-signature": signHex("sha256", secret, body, "sha256=") };
    case "gitea":
      return { "x-gitea-signature": signHex("sha256", secret, body) };
    case "gitlab": {
      if (!secret.startsWith("whsec_")) return { "x-gitlab-token": secret };
      const id = options.id ?? randomUUID();
      const timestamp = Math.floor((options.nowMs ?? Date.now()) / 1000);
      return {
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signStandardWebhook(secret, id, timestamp, body),
      };
    }
  }
}
