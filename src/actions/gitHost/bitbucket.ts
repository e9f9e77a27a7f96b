// Bitbucket Cloud (apiUrl https://api.bitbucket.org/2.0) and Bitbucket Data Center (apiUrl
// https://HOST/rest/api/latest). Cloud implements the whole interface; Data Center the archive.
import { ActionError } from "../../core/errors";
import type { RepoRef } from "../../core/types";
import { discard } from "../http";
import { ApiClient, clip, encodeSegments, seg } from "./base";
import type {
  ArchiveSource,
  CommitState,
  CommitStatus,
  DeleteBranchResult,
  GitHostClient,
  PullRequestInfo,
} from "./types";

interface BitbucketPull {
  id: number;
  state: string;
  source: { branch: { name: string }; commit: { hash: string }; repository?: { full_name?: string } | null };
  destination: { repository?: { full_name?: string } | null };
}

const STATES: Record<CommitState, string> = {
  pending: "INPROGRESS",
  success: "SUCCESSFUL",
  failure: "FAILED",
  error: "FAILED",
};

export class BitbucketCloudClient extends ApiClient implements GitHostClient {
  readonly provider = "bitbucket" as const;
  protected readonly what = "Bitbucket API";

  private repoPath(repo: RepoRef): string {
    return `/repositories/${seg(repo.owner, "owner")}/${seg(repo.name, "repository")}`;
  }

  async getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    const pull = await this.json<BitbucketPull>({
      method: "GET",
      path: `${this.repoPath(repo)}/pullrequests/${number}`,
    });
    return {
      number: pull.id,
      state: pull.state === "OPEN" ? "open" : "closed",
      merged: pull.state === "MERGED",
      headRef: pull.source.branch.name,
      headSha: pull.source.commit.hash,
      headRepoFullName: pull.source.repository?.full_name ?? undefined,
    };
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<void> {
    await this.send({
      method: "POST",
      path: `${this.repoPath(repo)}/commit/${seg(sha, "sha")}/statuses/build`,
      json: {
        key: status.context.slice(0, 40),
        name: status.context,
        state: STATES[status.state],
        description: clip(status.description),
        // Bitbucket requires a url.
        url: status.targetUrl ?? `https://bitbucket.org/${repo.fullName}`,
      },
    });
  }

  async deleteBranch(repo: RepoRef, branch: string): Promise<DeleteBranchResult> {
    const res = await this.call({
      method: "DELETE",
      path: `${this.repoPath(repo)}/refs/branches/${encodeSegments(branch)}`,
      accept: [404],
    });
    await discard(res);
    return res.statusCode === 404 ? "already-gone" : "deleted";
  }

  async getDefaultBranch(repo: RepoRef): Promise<string> {
    const info = await this.json<{ mainbranch?: { name?: string } }>({
      method: "GET",
      path: this.repoPath(repo),
    });
    if (!info.mainbranch?.name)
      throw new ActionError("Bitbucket API did not name the main branch", { retryable: true });
    return info.mainbranch.name;
  }

  archive(repo: RepoRef, sha: string): ArchiveSource {
    // Archives come from the web host, not the API host: api.bitbucket.org/2.0 -> bitbucket.org.
    const url = new URL(this.apiUrl);
    const web =
      url.hostname === "api.bitbucket.org"
        ? "https://bitbucket.org"
        : `${url.origin}${url.pathname.replace(/\/2\.0\/?$/, "").replace(/\/+$/, "")}`;
    return {
      url: `${web}/${seg(repo.owner, "owner")}/${seg(repo.name, "repository")}/get/${seg(sha, "sha")}.zip`,
      headers: { "user-agent": "hookgate", ...this.credentialHeaders },
      hasTopFolder: true,
    };
  }
}

export class BitbucketServerClient extends ApiClient implements GitHostClient {
  readonly provider = "bitbucket-server" as const;
  protected readonly what = "Bitbucket Data Center API";

  private unsupported(): never {
    throw new ActionError("pr-cleanup is not supported for bitbucket-server yet", { retryable: false });
  }

  async getPullRequest(): Promise<PullRequestInfo> {
    this.unsupported();
  }
  async setCommitStatus(): Promise<void> {
    this.unsupported();
  }
  async deleteBranch(): Promise<DeleteBranchResult> {
    this.unsupported();
  }
  async getDefaultBranch(): Promise<string> {
    this.unsupported();
  }

  archive(repo: RepoRef, sha: string): ArchiveSource {
    // No prefix parameter: the archive has no top folder.
    return {
      url: `${this.apiUrl}/projects/${seg(repo.owner, "owner")}/repos/${seg(repo.name, "repository")}/archive?at=${seg(sha, "sha")}&format=zip`,
      headers: { "user-agent": "hookgate", ...this.credentialHeaders },
      hasTopFolder: false,
    };
  }
}
