// The Git host client for a route's provider API, with its token read from Secrets Manager, over TLS that
// may trust the private CAs of a self-hosted host (its caBundle secret), through the egress proxy if any.
import type { ProviderApi } from "../../core/types";
import { actionDispatcher, assertPemBundle } from "../http";
import { parseProviderToken, readSecret } from "../secrets";
import type { ActionClients } from "../types";
import { BitbucketCloudClient, BitbucketServerClient } from "./bitbucket";
import { GiteaClient, GitHubClient } from "./github";
import { GitLabClient } from "./gitlab";
import type { GitHostClient } from "./types";

export type {
  ApiRedirect,
  ArchiveSource,
  CommitState,
  CommitStatus,
  GitHostClient,
  PullRequestInfo,
} from "./types";

export async function gitHostClient(api: ProviderApi, clients: ActionClients): Promise<GitHostClient> {
  const headers: Record<string, string> = {};
  if (api.token) {
    const credential = parseProviderToken(await readSecret(clients, api.token), api.token, api.provider);
    if (credential.kind === "basic") {
      headers.authorization = `Basic ${Buffer.from(`${credential.user}:${credential.password}`).toString("base64")}`;
    } else if (api.provider === "gitlab") {
      headers["private-token"] = credential.token;
    } else if (api.provider === "gitea") {
      headers.authorization = `token ${credential.token}`;
    } else {
      headers.authorization = `Bearer ${credential.token}`;
    }
  }
  // The private CAs are added to the default roots, never substituted: verification stays on.
  const dispatcher = actionDispatcher(
    clients,
    api.caBundle ? assertPemBundle(await readSecret(clients, api.caBundle), api.caBundle) : undefined,
  );
  const args = [api.apiUrl, headers, dispatcher, clients.timeoutMs, clients.deadlineMs, clients.log] as const;
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
