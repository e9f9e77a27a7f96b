// GitHub (github.com and GitHub Enterprise Server: apiUrl https://HOST/api/v3).
import { ActionError } from "../../core/errors";
import { latestTime, timeOf } from "../../core/events/fields";
import { headBranch } from "../../core/events/github";
import type { RepoRef } from "../../core/types";
import { discard, header, parseRetryAfter, serverMessage } from "../http";
import {
  type ApiCall,
  ApiClient,
  clip,
  encodeSegments,
  linkPage,
  OPEN_PULLS_PAGE,
  openOtherThan,
  parentPullRequests,
  readApiJson,
  seg,
  unnamedParent,
} from "./base";
import { installRoot } from "./installRoot";
import { repoNamedFolder, shaSuffixedFolder } from "./topFolder";
import type {
  ArchiveSource,
  BranchInfo,
  CommitStatus,
  DeleteBranchResult,
  GitHostClient,
  OpenPullRequests,
  ParentPullRequests,
  PullRequestInfo,
} from "./types";

interface GitHubPull {
  number: number;
  state: string;
  merged?: boolean;
  merged_at?: string | null;
  updated_at?: string | null;
  head: { ref: string; label?: string; sha: string; repo?: { full_name?: string } | null };
  base: { ref: string; repo?: { full_name?: string; default_branch?: string } | null };
}

/** How long a deletion GitHub refused as spam (422) waits at least: a minute, as a secondary rate limit. */
const SPAMMED_DELAY_MS = 60_000;
/** Pages of 100 rules read for a deletion rule: a branch under more than 1,000 active rules is tried. */
const RULE_PAGES = 10;

export class GitHubClient extends ApiClient implements GitHostClient {
  readonly provider: "github" | "gitea" = "github";
  protected readonly what: string = "GitHub API";

  protected override extraHeaders(): Record<string, string> {
    return { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" };
  }

  protected override refusalHint(status: number, call?: ApiCall): string | undefined {
    // A branch deletion's 404 other than "Reference does not exist" (deleteBranch) is no branch gone: GitHub
    // answers 404 rather than 403 to a token that may not see a private repository, so as not to tell it
    // exists (its REST API troubleshooting page), and the branch was just read.
    if (this.provider === "github" && status === 404 && call?.method === "DELETE") {
      return "GitHub answers 404 to a token that may not see or write the repository: check its access (classic: the repo scope; fine-grained: Contents read and write)";
    }
    return undefined;
  }

  protected repoPath(repo: RepoRef): string {
    return `/repos/${seg(repo.owner, "owner")}/${seg(repo.name, "repository")}`;
  }

  async getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    const pull = await this.json<GitHubPull>({
      method: "GET",
      path: `${this.repoPath(repo)}/pulls/${number}`,
    });
    return {
      number: pull.number,
      state: pull.state === "open" ? "open" : "closed",
      merged: pull.merged === true || !!pull.merged_at,
      headRef: headBranch(this.provider, pull.head),
      headSha: pull.head.sha,
      headRepoFullName: pull.head.repo?.full_name ?? undefined,
      baseRepoFullName: pull.base.repo?.full_name ?? undefined,
      defaultBranch: pull.base.repo?.default_branch ?? undefined,
      ...timeOf(latestTime(pull.updated_at)),
    };
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<undefined> {
    await this.send({
      method: "POST",
      path: `${this.repoPath(repo)}/statuses/${seg(sha, "sha")}`,
      json: {
        state: status.state,
        context: status.context,
        description: clip(status.description),
        ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      },
    });
  }

  async branchHead(repo: RepoRef, branch: string): Promise<string | undefined> {
    // git/ref/ (singular) is "Get a reference": that ref exactly, or 404.
    return this.branchCommit<{ object?: { sha?: string } }>(
      `${this.repoPath(repo)}/git/ref/heads/${encodeSegments(branch)}`,
      branch,
      (ref) => ref.object?.sha,
    );
  }

  async branch(repo: RepoRef, branch: string): Promise<BranchInfo | undefined> {
    const head = await this.branchHead(repo, branch);
    if (head === undefined) return undefined;
    // "Get a branch" documents `protected` (a boolean); its commit is not read from it: the ref above is that
    // branch exactly, while this call follows a renamed branch to its new name. GitHub sets the flag for every
    // branch an active ruleset targets, whatever the ruleset restricts (crs-k/stale-branches#1061), and for a
    // classic protection that allows deletions: only a ruleset's deletion rule, read next, says it refuses.
    const res = await this.call({
      method: "GET",
      path: `${this.repoPath(repo)}/branches/${encodeSegments(branch)}`,
      accept: [404],
    });
    if (res.statusCode === 404) {
      await discard(res);
      return undefined; // deleted since the ref was read
    }
    const flag = (await readApiJson<{ protected?: unknown }>(res, this.what)).protected;
    if (typeof flag !== "boolean") return { head };
    if (!flag) return { head, protected: false };
    return (await this.deletionRule(repo, branch))
      ? { head, protected: true, keep: "a ruleset forbids deleting it" }
      : { head, protected: true };
  }

  /**
   * Whether an active ruleset has a `deletion` rule for the branch: "Get rules for a branch" (GET
   * /repos/{o}/{r}/rules/branches/{b}, Metadata read) lists the active rules that apply to it, each
   * {type, ruleset_source_type, ruleset_source, ruleset_id}, paged. A 404 (a GitHub Enterprise Server
   * without rulesets) is no rule.
   */
  private async deletionRule(repo: RepoRef, branch: string): Promise<boolean> {
    for (let page = 1; page <= RULE_PAGES; page++) {
      const res = await this.call({
        method: "GET",
        path: `${this.repoPath(repo)}/rules/branches/${encodeSegments(branch)}?per_page=100&page=${page}`,
        accept: [404],
      });
      if (res.statusCode === 404) {
        await discard(res);
        return false;
      }
      const rules = await readApiJson<unknown>(res, this.what);
      if (Array.isArray(rules) && rules.some((rule) => (rule as { type?: unknown })?.type === "deletion")) {
        return true;
      }
      if (linkPage(header(res.headers, "link"), "next") === undefined) return false;
    }
    return false;
  }

  async openPullRequestsInto(repo: RepoRef, branch: string): Promise<OpenPullRequests> {
    return this.countOpenPulls(repo, `base=${encodeURIComponent(branch)}`);
  }

  async openPullRequestsFrom(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
    exclude?: number,
  ): Promise<OpenPullRequests> {
    // head is "owner:branch": a fork's branch of the same name is another owner's.
    const owner = headRepoFullName.split("/")[0] || repo.owner;
    return this.countOpenPulls(repo, `head=${encodeURIComponent(`${owner}:${branch}`)}`, exclude);
  }

  async openPullRequestsIntoParent(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
  ): Promise<ParentPullRequests | undefined> {
    // GitHub's and Gitea's repository answers name a fork's parent (`parent`, a repository) beside `fork`;
    // GitHub's also the root of its fork network (`source`), which Gitea's has not (modules/structs/repo.go).
    const info = await this.json<{
      id?: unknown;
      fork?: unknown;
      parent?: { full_name?: unknown } | null;
      source?: { full_name?: unknown } | null;
    }>({ method: "GET", path: this.repoPath(repo) });
    if (info.fork !== true && !info.parent) return undefined;
    const parent = typeof info.parent?.full_name === "string" ? info.parent.full_name : "";
    const parentRepo = repoNamed(parent);
    if (!parentRepo) return unnamedParent(parent);
    // The parent private to this token (404), say: whether it holds such pull requests cannot be told.
    const intoParent = await parentPullRequests(parent, () =>
      this.openPullRequestsFromFork(parentRepo, branch, headRepoFullName, info.id),
    );
    if (intoParent.unreadable !== undefined || intoParent.count > 0 || intoParent.more) return intoParent;
    // A fork of a fork's pull request often goes into the root of the network, not the parent: asked too,
    // with the same rule (its list refused keeps the branch).
    const source = typeof info.source?.full_name === "string" ? info.source.full_name : "";
    const sourceRepo = repoNamed(source);
    if (!sourceRepo || source.toLowerCase() === parent.toLowerCase()) return intoParent;
    return parentPullRequests(source, () =>
      this.openPullRequestsFromFork(sourceRepo, branch, headRepoFullName, info.id),
    );
  }

  /** The open pull requests into `repo` from `branch` of another repository, `headRepoFullName` (id `headRepoId`). */
  protected async openPullRequestsFromFork(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
    _headRepoId: unknown,
  ): Promise<OpenPullRequests> {
    return this.openPullRequestsFrom(repo, branch, headRepoFullName);
  }

  /**
   * The open pull requests a list filter selects, but `exclude`: the first page's (OPEN_PULLS_PAGE), and whether
   * the Link header names a next one (GitHub's list says no total).
   */
  private async countOpenPulls(repo: RepoRef, filter: string, exclude?: number): Promise<OpenPullRequests> {
    const res = await this.call({
      method: "GET",
      path: `${this.repoPath(repo)}/pulls?state=open&${filter}&per_page=${OPEN_PULLS_PAGE}`,
    });
    const pulls = await readApiJson<unknown[]>(res, this.what);
    const next = linkPage(header(res.headers, "link"), "next") !== undefined;
    const numbers = pulls.map((pull) => (pull as { number?: unknown } | null)?.number);
    return openOtherThan(numbers, exclude, undefined, next);
  }

  async deleteBranch(repo: RepoRef, branch: string, _sha: string): Promise<DeleteBranchResult> {
    // No conditional delete: the caller reads branchHead right before.
    const call: ApiCall = {
      method: "DELETE",
      path: `${this.repoPath(repo)}/git/refs/heads/${encodeSegments(branch)}`,
    };
    const res = await this.call({ ...call, accept: [404, 422] });
    if (res.statusCode === 404) {
      // A branch deleted since it was read (GitHub's "Automatically delete head branches" on merge) is a 404
      // "Reference does not exist", though the OpenAPI description documents 204, 409 and 422 only (seen in
      // eclipse-csi/otterdog#713); any other 404 is a refusal (refusalHint), final.
      const message = await serverMessage(res, this.what, this.credentialHeaders).catch(() => "");
      if (/reference does not exist/i.test(message)) return "already-gone";
      throw await this.failure(res, call, message);
    }
    if (res.statusCode === 422) {
      // 422 is "Validation failed": "Reference does not exist" (gone already), or a refusal, such as a
      // protected branch's, which must not be reported as deleted.
      const message = await serverMessage(res, this.what, this.credentialHeaders);
      if (/reference does not exist/i.test(message)) return "already-gone";
      // GitHub documents this 422 as "Validation failed, an attempt was made to delete the default branch, or
      // the endpoint has been spammed": the last passes, as a secondary rate limit does, after a minute or more.
      // Its body is not documented; one seen said {"message": "Validation Failed", "errors": [{"code": "abuse"}]}.
      if (/spam|\babuse\b/i.test(message)) {
        throw new ActionError(
          `${this.what} refused to delete branch ${JSON.stringify(branch)} for now (422): ${message}`,
          {
            retryable: true,
            retryAfterMs: Math.max(
              SPAMMED_DELAY_MS,
              parseRetryAfter(header(res.headers, "retry-after")) ?? 0,
            ),
          },
        );
      }
      // Any other 422 refuses a branch it protects (a classic protection without "Allow deletions": its
      // `protected` flag does not tell that apart from one that allows them, see branch()): the branch stays.
      return { refused: `${this.what} answered 422${message ? `: ${message}` : ""}` };
    }
    await discard(res);
    return "deleted";
  }

  async getDefaultBranch(repo: RepoRef): Promise<string> {
    const info = await this.json<{ default_branch: string }>({ method: "GET", path: this.repoPath(repo) });
    return info.default_branch;
  }

  archive(repo: RepoRef, sha: string): ArchiveSource {
    return {
      url: `${this.apiUrl}${this.repoPath(repo)}/zipball/${seg(sha, "sha")}`,
      headers: { ...this.extraHeaders(), "user-agent": "hookgate", ...this.credentialHeaders },
      topFolder: shaSuffixedFolder(sha),
      // GitHub Enterprise Server's /api/v3 sits at the root: its /codeload/ redirect stays in scope.
      credentialScope: installRoot(this.apiUrl, /\/api\/v3$/i),
      dispatcher: this.dispatcher,
    };
  }
}

/** The repository an API names owner/name, or undefined when the name is not of that shape. */
function repoNamed(fullName: string): RepoRef | undefined {
  const [owner = "", name = ""] = fullName.split("/");
  return owner && name ? { owner, name, fullName } : undefined;
}

/** What a Gitea pull request list entry says of its branches. */
interface GiteaPullEntry {
  number?: number;
  base?: { ref?: string; repo_id?: number };
  head?: { ref?: string; repo_id?: number };
}

/**
 * Whether a Gitea pull request comes from `branch` of the repository with id `repoId`; one whose ids are not
 * known either way counts, so that a branch is kept rather than deleted unchecked.
 */
function fromBranchOf(pull: GiteaPullEntry, branch: string, repoId: number | undefined): boolean {
  return (
    pull.head?.ref === branch &&
    (pull.head.repo_id === undefined || repoId === undefined || pull.head.repo_id === repoId)
  );
}

/** Whether a Gitea list entry is pull request `number` (the one being cleaned up, left out of the counts). */
function isPull(pull: GiteaPullEntry, number: number | undefined): boolean {
  return number !== undefined && pull.number === number;
}

/**
 * Gitea's `limit` is capped by its [api] MAX_RESPONSE_ITEMS, 50 by default (a larger one is answered 50 a
 * page, with the links to follow). Each entry holds the pull request's description and both repositories:
 * 50 usually stay under a few MiB, within the 16 MiB an answer may have (MAX_API_ANSWER_BYTES, base.ts).
 */
const GITEA_PAGE_SIZE = 50;
/** 2,000 open pull requests at 50 a page: past them, the branch is kept rather than deleted unchecked. */
const GITEA_PAGES = 40;

/**
 * Gitea and Forgejo: GitHub-shaped, with their own branch and archive routes (apiUrl …/api/v1), as go-gitea
 * routers/api/v1/api.go registers them: GET and DELETE /repos/{o}/{r}/branches/* (DELETE answers 404 for a
 * branch that is not there, 403 for the default or a protected one), POST /repos/{o}/{r}/statuses/{sha}.
 * A fork's head commit is in the base repository (refs/pull/<n>/head), and the pull request's page reads
 * the base repository's statuses of it (routers/web/repo/pull.go), so a fork's status shows there too.
 */
export class GiteaClient extends GitHubClient {
  override readonly provider = "gitea" as const;
  protected override readonly what = "Gitea API";

  protected override extraHeaders(): Record<string, string> {
    return { accept: "application/json" };
  }

  /**
   * Gitea answers head.sha with the head branch's commit now, closed pull requests too (services/convert/pull.go,
   * ToAPIPullRequest), not the commit the pull request ended at: a closed one's is left empty, so pr-cleanup
   * takes the close event's and keeps a branch that moved on since.
   */
  override async getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    const pull = await super.getPullRequest(repo, number);
    return pull.state === "open" ? pull : { ...pull, headSha: "" };
  }

  override async branchHead(repo: RepoRef, branch: string): Promise<string | undefined> {
    return this.branchCommit<{ commit?: { id?: string } }>(
      `${this.repoPath(repo)}/branches/${encodeSegments(branch)}`,
      branch,
      (info) => info.commit?.id,
    );
  }

  override async branch(repo: RepoRef, branch: string): Promise<BranchInfo | undefined> {
    return this.branchAnswer<{ commit?: { id?: string }; protected?: unknown }>(
      `${this.repoPath(repo)}/branches/${encodeSegments(branch)}`,
      branch,
      (info) => info.commit?.id,
      (info) => info.protected,
    );
  }

  override async openPullRequestsInto(repo: RepoRef, branch: string): Promise<OpenPullRequests> {
    return this.countOpenWhere(repo, (pull) => pull.base?.ref === branch);
  }

  /** Gitea's list has no head filter: the parent's open pull requests whose head is this branch of the fork. */
  protected override async openPullRequestsFromFork(
    repo: RepoRef,
    branch: string,
    _headRepoFullName: string,
    headRepoId: unknown,
  ): Promise<OpenPullRequests> {
    // Without the fork's id, any open pull request from a branch of that name counts: kept rather than closed.
    const forkId = typeof headRepoId === "number" ? headRepoId : undefined;
    return this.countOpenWhere(repo, (pull) => fromBranchOf(pull, branch, forkId));
  }

  override async openPullRequestsFrom(
    repo: RepoRef,
    branch: string,
    _headRepoFullName?: string,
    exclude?: number,
  ): Promise<OpenPullRequests> {
    // From this repository: a fork's head has another repo_id (none known: counted, to keep rather than close).
    const fromHere = (pull: GiteaPullEntry) => fromBranchOf(pull, branch, pull.base?.repo_id);
    return this.countOpenWhere(
      repo,
      (pull) => fromHere(pull) && !isPull(pull, exclude),
      (pull) => fromHere(pull) && exclude !== undefined && isPull(pull, exclude),
    );
  }

  /**
   * Gitea's list has no base or head filter (state, sort, milestone, labels, poster): the open pull requests
   * are read page by page and filtered here, up to GITEA_PAGES pages.
   */
  private async countOpenWhere(
    repo: RepoRef,
    wanted: (pull: GiteaPullEntry) => boolean,
    excluded?: (pull: GiteaPullEntry) => boolean,
  ): Promise<OpenPullRequests> {
    let count = 0;
    let seen = false;
    for (let page = 1; page <= GITEA_PAGES; page++) {
      const res = await this.call({
        method: "GET",
        path: `${this.repoPath(repo)}/pulls?state=open&limit=${GITEA_PAGE_SIZE}&page=${page}`,
      });
      const pulls = await readApiJson<GiteaPullEntry[]>(res, this.what);
      count += pulls.filter(wanted).length;
      seen ||= excluded !== undefined && pulls.some(excluded);
      const next = linkPage(header(res.headers, "link"), "next") !== undefined;
      if (count > 0 || !next) return { count, more: next, ...(seen ? { excludedSeen: true as const } : {}) };
    }
    return { count: 0, more: true, ...(seen ? { excludedSeen: true as const } : {}) };
  }

  override async deleteBranch(repo: RepoRef, branch: string, _sha: string): Promise<DeleteBranchResult> {
    const res = await this.call({
      method: "DELETE",
      path: `${this.repoPath(repo)}/branches/${encodeSegments(branch)}`,
      accept: [404],
    });
    await discard(res);
    return res.statusCode === 404 ? "already-gone" : "deleted";
  }

  override archive(repo: RepoRef, sha: string): ArchiveSource {
    return {
      url: `${this.apiUrl}${this.repoPath(repo)}/archive/${seg(sha, "sha")}.zip`,
      headers: { "user-agent": "hookgate", ...this.credentialHeaders },
      // <name>/ (the new name after a rename's redirect) unless the server's PREFIX_ARCHIVE_FILES is false,
      // when there is none.
      topFolder: repoNamedFolder(repo.name, this.apiUrl),
      credentialScope: installRoot(this.apiUrl, /\/api\/v1$/i),
      dispatcher: this.dispatcher,
    };
  }
}
