// GitLab (gitlab.com and self-managed: apiUrl https://HOST/api/v4). The project id is the
// URL-encoded full path (group/sub/name), merge requests stand in for pull requests.
//
// A project renamed or transferred keeps its old path as a redirect, for GETs only (lib/api/helpers.rb,
// find_project!): a GET answers 301 to /projects/{id}/…, which ApiClient follows; any other method answers
// 405 "Non GET methods are not allowed for moved projects", before the endpoint does anything. Such a call
// is sent again to /projects/{id}, the id read from a GET of the project (which the 301 leads to).
import { ActionError } from "../../core/errors";
import { latestTime, timeOf } from "../../core/events/fields";
import type { RepoRef } from "../../core/types";
import { discard, type HttpResponse, header, serverMessage, statusError } from "../http";
import {
  type ApiCall,
  ApiClient,
  clip,
  OPEN_PULLS_PAGE,
  openOtherThan,
  parentPullRequests,
  readApiJson,
  seg,
  unnamedParent,
} from "./base";
import { installRoot } from "./installRoot";
import { shaSuffixedFolder } from "./topFolder";
import type {
  ArchiveSource,
  BranchInfo,
  CommitState,
  CommitStatus,
  CommitStatusResult,
  DeleteBranchResult,
  GitHostClient,
  OpenPullRequests,
  ParentPullRequests,
  PullRequestInfo,
} from "./types";

interface GitLabMergeRequest {
  iid: number;
  state: string;
  source_branch: string;
  sha: string;
  source_project_id: number;
  target_project_id: number;
  updated_at?: string | null;
}

/** Pages of 100 of the parent's open merge requests from a branch read for the fork's: past them, kept. */
const PARENT_MR_PAGES = 20;

/**
 * Why a fork whose answer names no parent is kept. GitLab names the parent only to a user who may read it, and
 * a fork whose parent was deleted answers the same: Projects::UnlinkForkService clears its
 * forked_from_project_id, but the project stays in the fork network, so Project#forked? (and with it
 * mr_default_target_self) stays true. Removing the fork relationship takes it out of the network.
 */
const UNNAMED_GITLAB_PARENT =
  "GitLab names no parent of this fork: the token may not read it, or it was deleted; a fork whose parent " +
  "was deleted keeps every branch until its fork relationship is removed (Settings → General → Advanced → " +
  "Remove fork relationship)";

/** GitLab refuses a longer target_url (GenericCommitStatus validates its length). */
const MAX_TARGET_URL = 255;

const STATES: Record<CommitState, string> = {
  pending: "pending",
  success: "success",
  failure: "failed",
  error: "failed",
};

/** GitLab's answer (405) to any method but GET on a moved project's old path. */
const MOVED_PROJECT = /^Non GET methods are not allowed for moved projects$/i;

/**
 * The `ref` of a merge request's status. Ci::CreateCommitStatusService (app/services/ci/
 * create_commit_status_service.rb) puts the status in an external pipeline of the target project for that
 * ref, and refuses it (403) unless the token may update that pipeline (Ci::PipelinePolicy: a ref matched
 * by a protected-branch rule needs a token that may push or merge there). A
 * merge request shows the target's merge request pipelines and the source project's pipelines of its
 * source branch (Ci::PipelinesForMergeRequestFinder), so the source branch is the ref for one of this
 * project. A fork's branch name would name a branch of the target instead (a fork's main is the target's
 * protected main); the target project holds a fork's commits at refs/merge-requests/<iid>/head
 * (MergeRequest#fetch_ref!), which is no branch or tag and matches no protected-branch rule but a wildcard
 * one (GitLab's `*` matches `/` too), and is the ref of the target's own merge request pipelines, whose
 * pipeline the status then joins when there is one for the commit.
 */
function statusRef(status: CommitStatus): string | undefined {
  if (status.ref && status.refInRepository === false && status.pullRequest !== undefined) {
    return `refs/merge-requests/${status.pullRequest}/head`;
  }
  return status.ref;
}

export class GitLabClient extends ApiClient implements GitHostClient {
  readonly provider = "gitlab" as const;
  protected readonly what = "GitLab API";
  /** A moved project's id, by its old path as encoded in the API's paths. */
  private readonly movedIds = new Map<string, number>();

  private project(repo: RepoRef): string {
    const path = seg(repo.fullName, "project");
    return `/projects/${this.movedIds.get(path) ?? path}`;
  }

  /**
   * A call, sent again to the project's id when GitLab refuses a method other than GET on a moved project's
   * old path (405). Any other 405 is a failure as before.
   */
  protected override async call(call: ApiCall): Promise<HttpResponse> {
    if (call.method === "GET" || call.accept?.includes(405)) return super.call(call);
    const res = await super.call({ ...call, accept: [...(call.accept ?? []), 405] });
    if (res.statusCode !== 405) return res;
    const message = await serverMessage(res, this.what, this.credentialHeaders);
    const [, path, rest] = /^\/projects\/([^/?]+)(.*)$/.exec(call.path) ?? [];
    const where = `${this.what} ${call.method} ${call.path.split("?")[0]}`;
    if (!MOVED_PROJECT.test(message) || path === undefined || /^\d+$/.test(path)) {
      throw statusError(where, res, message);
    }
    const id = (await this.json<{ id?: unknown }>({ method: "GET", path: `/projects/${path}` })).id;
    if (typeof id !== "number" || !Number.isInteger(id)) {
      throw statusError(where, res, `${message}, and the project's id could not be read`);
    }
    this.movedIds.set(path, id);
    return super.call({ ...call, path: `/projects/${id}${rest}` });
  }

  async getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    const mr = await this.json<GitLabMergeRequest>({
      method: "GET",
      path: `${this.project(repo)}/merge_requests/${number}`,
    });
    // "locked": GitLab is carrying out the merge (or a replica still shows it so): neither merged nor closed yet.
    // Read as closed it would keep a merged MR's branch as "not merged" for good, so it is retried.
    if (mr.state === "locked") {
      throw new ActionError(
        `${this.what} answers merge request !${number} "locked": a merge in progress, not merged or closed yet`,
        { retryable: true },
      );
    }
    const sameProject = mr.source_project_id === mr.target_project_id;
    return {
      number: mr.iid,
      state: mr.state === "opened" ? "open" : "closed",
      merged: mr.state === "merged",
      headRef: mr.source_branch,
      headSha: mr.sha,
      // The API gives the source project's id, not its path: a fork is anything but this project.
      headRepoFullName: sameProject ? repo.fullName : `project-id:${mr.source_project_id}`,
      ...timeOf(latestTime(mr.updated_at)),
    };
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<CommitStatusResult> {
    const ref = statusRef(status);
    const res = await this.call({
      method: "POST",
      path: `${this.project(repo)}/statuses/${seg(sha, "sha")}`,
      json: {
        // GitLab keeps one status per name and ref while it is pending or running, and moves it by its state
        // machine (CommitStatus: enqueue created -> pending, run pending -> running, success and drop from
        // either): a second pending is refused, and its description with it. An interim one goes as running.
        state: status.interim === true && status.state === "pending" ? "running" : STATES[status.state],
        name: status.context,
        description: clip(status.description, 255),
        // Without a link rather than without a status: a CloudWatch logs URL easily passes 255.
        ...(status.targetUrl && status.targetUrl.length <= MAX_TARGET_URL
          ? { target_url: status.targetUrl }
          : {}),
        // Without it GitLab looks for a branch holding the commit, and answers 404 when none does.
        ...(ref ? { ref } : {}),
      },
      accept: [400, 409],
    });
    if (res.statusCode === 409) {
      // "Another update to this commit status is in progress": GitLab's service could not take its lock on
      // the commit (lib/api/commit_statuses.rb, Ci::CreateCommitStatusService) while another status was
      // being written. That one ends within a minute (the lock's time to live): a retry gets through.
      const message = await serverMessage(res, this.what, this.credentialHeaders);
      throw new ActionError(
        `${this.what} POST /projects/:id/statuses/:sha answered 409${message ? `: ${message}` : ""}`,
        { retryable: true },
      );
    }
    if (res.statusCode === 400) {
      const message = await serverMessage(res, this.what, this.credentialHeaders);
      // "Cannot transition status via :enqueue from :pending" (or :run from :running): GitLab keeps the status
      // it has, description included. A retry's first pending meets it, and an interim status after another.
      if (/Cannot transition status/i.test(message)) return "unchanged";
      throw statusError(`${this.what} POST /projects/:id/statuses/:sha`, res, message);
    }
    await discard(res);
    return undefined;
  }

  async branchHead(repo: RepoRef, branch: string): Promise<string | undefined> {
    return (await this.branch(repo, branch))?.head;
  }

  async branch(repo: RepoRef, branch: string): Promise<BranchInfo | undefined> {
    return this.branchAnswer<{ commit?: { id?: string }; protected?: unknown }>(
      `${this.project(repo)}/repository/branches/${seg(branch, "branch")}`,
      branch,
      (info) => info.commit?.id,
      (info) => info.protected,
    );
  }

  async openPullRequestsInto(repo: RepoRef, branch: string): Promise<OpenPullRequests> {
    return this.countOpenMergeRequests(repo, `target_branch=${encodeURIComponent(branch)}`);
  }

  async openPullRequestsFrom(
    repo: RepoRef,
    branch: string,
    _headRepoFullName?: string,
    exclude?: number,
  ): Promise<OpenPullRequests> {
    // source_branch is a name only: a fork's merge request from a branch of that name counts too.
    return this.countOpenMergeRequests(repo, `source_branch=${encodeURIComponent(branch)}`, exclude);
  }

  /**
   * When the project is a fork, the open merge requests from this branch of it into another project of its fork
   * network. GitLab lets a fork's merge request target any project of the network, the root or a sibling fork,
   * not only the parent (MergeRequestTargetProjectFinder: source_project.fork_network.projects), so they are
   * read from the global list (GET /merge_requests?scope=all&source_project_id=…, forkMergeRequests), which
   * holds those of every project the token may read; one into the fork itself is left to openPullRequestsFrom.
   * Where that list is refused (400, 403, 404) the parent's list is read instead, as before. GET /projects/:id
   * names the parent (`forked_from_project`) only when the token may read it (API::Entities::ProjectDetails);
   * `mr_default_target_self` is there for every fork (API::Entities::Project, `if: project.forked?`), so a fork
   * of a parent out of reach is told apart from a project that is none (a GitLab from before that field, added
   * to the API by gitlab-org/gitlab!77169, cannot tell them apart: there such a fork counts as none). A fork
   * whose parent is out of reach is kept without asking (the global list would not show merge requests into
   * it); one whose parent was deleted answers the same, and is kept, saying both (UNNAMED_GITLAB_PARENT).
   */
  async openPullRequestsIntoParent(repo: RepoRef, branch: string): Promise<ParentPullRequests | undefined> {
    const info = await this.json<{
      id?: unknown;
      forked_from_project?: { id?: unknown; path_with_namespace?: unknown } | null;
      mr_default_target_self?: unknown;
    }>({ method: "GET", path: this.project(repo) });
    const parent = info.forked_from_project;
    if (!parent && info.mr_default_target_self === undefined) return undefined;
    if (!parent) return unnamedParent("", UNNAMED_GITLAB_PARENT);
    const name = typeof parent.path_with_namespace === "string" ? parent.path_with_namespace : "";
    if (typeof parent.id !== "number") return unnamedParent(name);
    const parentId = parent.id;
    const forkId = typeof info.id === "number" ? info.id : undefined;
    // The global list adds the rest of the fork network, but it leaves out, silently, a project whose merge
    // requests the token's user may not use (IssuableFinder: with_feature_available_for_user): a parent's
    // "Only project members" answers 403 to its own list. So none found there still asks the parent.
    if (forkId !== undefined) {
      const network = await this.forkMergeRequests(branch, forkId, parentId, name);
      if (network !== undefined && (network.count > 0 || network.more)) return network;
    }
    return parentPullRequests(name, () => this.openMergeRequestsFromFork(parentId, branch, forkId));
  }

  /**
   * The open merge requests from `branch` of the fork `forkId` into any other project, from the global list
   * (scope=all: every project the token may read; source_project_id, a filter of merge_requests_base_params,
   * lib/api/helpers/merge_requests_helpers.rb), each one's source_project_id still compared here (a server
   * that ignores the filter), 100 a page up to PARENT_MR_PAGES pages. Named by the parent when every one counted
   * is into it, else "its fork network". Undefined when the list is refused (400, 403, 404): the caller asks
   * the parent instead. Another failure is thrown.
   */
  private async forkMergeRequests(
    branch: string,
    forkId: number,
    parentId: number,
    parentName: string,
  ): Promise<ParentPullRequests | undefined> {
    let count = 0;
    let intoParentOnly = true;
    for (let page = 1; page <= PARENT_MR_PAGES; page++) {
      const res = await this.call({
        method: "GET",
        path: `/merge_requests?scope=all&state=opened&source_branch=${encodeURIComponent(branch)}&source_project_id=${forkId}&per_page=100&page=${page}`,
        accept: [400, 403, 404],
      });
      if (res.statusCode === 400 || res.statusCode === 403 || res.statusCode === 404) {
        await discard(res);
        return undefined;
      }
      const mrs = await readApiJson<unknown>(res, this.what);
      if (!Array.isArray(mrs)) {
        throw new ActionError(`${this.what} did not list the merge requests from project ${forkId}`, {
          retryable: true,
        });
      }
      for (const mr of mrs as ({ source_project_id?: unknown; target_project_id?: unknown } | null)[]) {
        const source = mr?.source_project_id;
        const target = mr?.target_project_id;
        if (typeof source === "number" && source !== forkId) continue;
        if (target === forkId) continue;
        count++;
        if (target !== parentId) intoParentOnly = false;
      }
      const next = !!header(res.headers, "x-next-page");
      if (count > 0 || !next) {
        const where = count > 0 && intoParentOnly ? parentName : "";
        return { parent: where || "its fork network", count, more: next };
      }
    }
    return { parent: "its fork network", count: 0, more: true };
  }

  /**
   * The open merge requests of project `projectId` from `branch` of the fork `forkId`: source_branch filters on
   * the name only, so the list is asked for source_project_id too (a filter of the merge request lists:
   * merge_requests_base_params in lib/api/helpers/merge_requests_helpers.rb), and each one's source_project_id
   * is still compared here, for a server that ignores the filter (without the fork's id, any counts: kept
   * rather than left without its source branch), 100 a page up to PARENT_MR_PAGES pages.
   */
  private async openMergeRequestsFromFork(
    projectId: number,
    branch: string,
    forkId: number | undefined,
  ): Promise<OpenPullRequests> {
    let count = 0;
    for (let page = 1; page <= PARENT_MR_PAGES; page++) {
      const res = await this.call({
        method: "GET",
        path: `/projects/${projectId}/merge_requests?state=opened&source_branch=${encodeURIComponent(branch)}${forkId === undefined ? "" : `&source_project_id=${forkId}`}&per_page=100&page=${page}`,
      });
      const mrs = await readApiJson<unknown>(res, this.what);
      if (!Array.isArray(mrs)) {
        throw new ActionError(`${this.what} did not list the merge requests of project ${projectId}`, {
          retryable: true,
        });
      }
      count += mrs.filter((mr: { source_project_id?: unknown } | null) => {
        const source = mr?.source_project_id;
        return forkId === undefined || typeof source !== "number" || source === forkId;
      }).length;
      const next = !!header(res.headers, "x-next-page");
      if (count > 0 || !next) return { count, more: next };
    }
    return { count: 0, more: true };
  }

  /** The open merge requests of the project a list filter selects, but the one whose iid is `exclude`. */
  private async countOpenMergeRequests(
    repo: RepoRef,
    filter: string,
    exclude?: number,
  ): Promise<OpenPullRequests> {
    const res = await this.call({
      method: "GET",
      path: `${this.project(repo)}/merge_requests?state=opened&${filter}&per_page=${OPEN_PULLS_PAGE}`,
    });
    const mrs = await readApiJson<unknown[]>(res, this.what);
    const iids = mrs.map((mr) => (mr as { iid?: unknown } | null)?.iid);
    // x-total is left out past 10,000 results (gitlab.com); x-next-page then says whether there are more.
    const total = Number(header(res.headers, "x-total") || Number.NaN);
    const next = !!header(res.headers, "x-next-page");
    return openOtherThan(iids, exclude, Number.isInteger(total) ? total : undefined, next);
  }

  async deleteBranch(repo: RepoRef, branch: string, _sha: string): Promise<DeleteBranchResult> {
    // No conditional delete: the caller reads branchHead right before.
    const res = await this.call({
      method: "DELETE",
      path: `${this.project(repo)}/repository/branches/${seg(branch, "branch")}`,
      accept: [404],
    });
    await discard(res);
    return res.statusCode === 404 ? "already-gone" : "deleted";
  }

  async getDefaultBranch(repo: RepoRef): Promise<string> {
    const info = await this.json<{ default_branch: string }>({ method: "GET", path: this.project(repo) });
    return info.default_branch;
  }

  archive(repo: RepoRef, sha: string): ArchiveSource {
    return {
      url: `${this.apiUrl}${this.project(repo)}/repository/archive.zip?sha=${seg(sha, "sha")}`,
      headers: { "user-agent": "hookgate", ...this.credentialHeaders },
      topFolder: shaSuffixedFolder(sha),
      credentialScope: installRoot(this.apiUrl, /\/api\/v4$/i),
      dispatcher: this.dispatcher,
    };
  }
}
