// The sender's side: the headers a Git host would add for `secret` over `body`. For tests and for
// `hookgate send`; the gateway never signs anything.
import { randomUUID } from "node:crypto";
import { NOT_HEADER_TEXT, utf8HeaderText } from "../headers";
import type { Provider } from "../types";
import { signHex } from "./hmac";
import { signingKey } from "./keys";
import { signStandardWebhook } from "./standardWebhooks";

export interface SignOptions {
  /** Standard Webhooks message id (GitLab signing token); a random UUID when absent. */
  id?: string;
  /** Clock for the Standard Webhooks timestamp; Date.now() when absent. */
  nowMs?: number;
}

/**
 * Why `secret` cannot sign a delivery for `provider`, or undefined when it can. Never holds the secret.
 * GitLab's token is decided as the gateway decides it (keys.ts signingKey): a `whsec_` value that is not
 * a signing key is a plain token, sent as it is (its UTF-8 bytes, as GitLab sends it: `p€ss` too), so it must
 * hold no control character but a tab.
 */
export function signingProblem(provider: Provider, secret: string): string | undefined {
  if (typeof secret !== "string" || secret.length === 0) return "the secret is empty";
  if (
    provider === "gitlab" &&
    signingKey(secret) === undefined &&
    NOT_HEADER_TEXT.test(utf8HeaderText(secret))
  ) {
    const header = "holds a line break or another control character that cannot go in an HTTP header";
    return secret.startsWith("whsec_")
      ? `the GitLab secret starts with whsec_ but is no signing token (whsec_ and padded base64), and as a secret token it ${header}`
      : `the GitLab secret token ${header}`;
  }
  return undefined;
}

/**
 * Signature headers (lower-case names) for one delivery. GitLab: a signing token (`whsec_` and padded
 * base64, as the gateway reads it) gives Standard Webhooks headers, any other secret the plain X-Gitlab-Token.
 * Throws a TypeError (its message from signingProblem) for a secret that cannot sign.
 */
export function signatureHeaders(
  provider: Provider,
  secret: string,
  body: Buffer,
  options: SignOptions = {},
): Record<string, string> {
  const problem = signingProblem(provider, secret);
  if (problem !== undefined) throw new TypeError(problem);
  switch (provider) {
    case "github":
      return { "x-hub-signature-256": signHex("sha256", secret, body, "sha256=") };
    case "bitbucket":
    case "bitbucket-server":
      return { "x-hub-signature": signHex("sha256", secret, body, "sha256=") };
    case "gitea":
      return { "x-gitea-signature": signHex("sha256", secret, body) };
    case "gitlab": {
      if (signingKey(secret) === undefined) return { "x-gitlab-token": secret };
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
