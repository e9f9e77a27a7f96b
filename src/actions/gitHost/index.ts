// The Git host client for a route's provider API, with its token read from Secrets Manager, over TLS that
// may trust the private CAs of a self-hosted host (its caBundle secret), through the egress proxy if any.
import type { ProviderApi } from "../../core/types";
import { actionDispatcher, assertPemBundle } from "../http";
import { parseProviderToken, REREAD_LOG, readSecret, rereadSecret } from "../secrets";
import type { ActionClients } from "../types";
import { BitbucketCloudClient, BitbucketServerClient } from "./bitbucket";
import { GiteaClient, GitHubClient } from "./github";
import { GitLabClient } from "./gitlab";
import type { GitHostClient } from "./types";

export type { GitHostClient } from "./types";

export async function gitHostClient(api: ProviderApi, clients: ActionClients): Promise<GitHostClient> {
  const secret = api.token;
  let used = secret ? await readSecret(clients, secret, "token") : undefined;
  const headers =
    used !== undefined && secret ? credentialHeaders(api, used, secret, clients.secretNamePrefix) : {};
  // The private CAs are added to the default roots, never substituted: verification stays on.
  const dispatcher = actionDispatcher(
    clients,
    api.caBundle
      ? assertPemBundle(
          await readSecret(clients, api.caBundle, "providers.<provider>.caBundle"),
          api.caBundle,
          "providers.<provider>.caBundle",
          clients.secretNamePrefix,
        )
      : undefined,
  );
  // On a 401 the client reads the token secret once more, past its cache, as the receive path does a webhook
  // secret whose signature did not match: a token rotated since it was cached is used at once.
  const reread =
    used !== undefined && secret
      ? async (): Promise<Record<string, string> | undefined> => {
          const fresh = await rereadSecret(clients, secret, used ?? "", "token");
          if (fresh === undefined) return undefined;
          const next = credentialHeaders(api, fresh, secret, clients.secretNamePrefix);
          used = fresh;
          clients.log({ ...REREAD_LOG, secret, provider: api.provider });
          return next;
        }
      : undefined;
  const args = [
    api.apiUrl,
    headers,
    dispatcher,
    clients.timeoutMs,
    clients.deadlineMs,
    clients.log,
    reread,
  ] as const;
  switch (api.provider) {
    case "github":
      return new GitHubClient(...args);
    case "gitea":
      return new GiteaClient(...args);
    case "gitlab":
      return new GitLabClient(...args);
    case "bitbucket":
      return new BitbucketCloudClient(...args);
    case "bitbucket-server":
      return new BitbucketServerClient(...args);
  }
}

/** The headers that carry the token secret's value, as the host takes them. */
function credentialHeaders(
  api: ProviderApi,
  raw: string,
  secret: string,
  secretNamePrefix: string | undefined,
): Record<string, string> {
  const credential = parseProviderToken(raw, secret, api.provider, secretNamePrefix);
  if (credential.kind === "basic") {
    return {
      authorization: `Basic ${Buffer.from(`${credential.user}:${credential.password}`).toString("base64")}`,
    };
  }
  if (api.provider === "gitlab") return { "private-token": credential.token };
  if (api.provider === "gitea") return { authorization: `token ${credential.token}` };
  return { authorization: `Bearer ${credential.token}` };
}
