// Bitbucket Cloud (apiUrl https://api.bitbucket.org/2.0) and Bitbucket Data Center (apiUrl
// https://HOST[/context]/rest/api/latest, or /rest/api/1.0).
import { ActionError } from "../../core/errors";
import { latestTime, timeOf } from "../../core/events/fields";
import { escapeRegExp } from "../../core/globs";
import { dataCenterServerUrl } from "../../core/routes/defaults";
import type { RepoRef } from "../../core/types";
import { discard, type HttpResponse, isJsonObject, serverMessage, statusError } from "../http";
import {
  type ApiCall,
  ApiClient,
  clip,
  encodeSegments,
  headOrFail,
  OPEN_PULLS_PAGE,
  openOtherThan,
  parentPullRequests,
  readApiJson,
  sameCommit,
  seg,
  statusKey,
  unnamedParent,
} from "./base";
import { installRoot } from "./installRoot";
import { shaSuffixedFolder } from "./topFolder";
import type {
  ArchiveSource,
  BranchInfo,
  CommitState,
  CommitStatus,
  DeleteBranchResult,
  GitHostClient,
  OpenPullRequests,
  ParentPullRequests,
  PullRequestInfo,
} from "./types";

interface BitbucketPull {
  id: number;
  state: string;
  source: { branch: { name: string }; commit: { hash: string }; repository?: { full_name?: string } | null };
  destination: { repository?: { full_name?: string } | null };
  updated_on?: string | null;
}

const STATES: Record<CommitState, string> = {
  pending: "INPROGRESS",
  success: "SUCCESSFUL",
  failure: "FAILED",
  error: "FAILED",
};

/**
 * Why Bitbucket Cloud refuses a credential, as far as its kind tells. App passwords stopped working in 2026;
 * an Atlassian API token goes as Basic with the account's email
 * (https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/), an access token as a Bearer
 * (https://support.atlassian.com/bitbucket-cloud/docs/using-access-tokens/); a missing scope is a 403.
 */
function cloudRefusalHint(status: number, credentialHeaders: Record<string, string>): string | undefined {
  const basic = /^basic /i.test(credentialHeaders.authorization ?? "");
  if (status === 401 && basic) {
    return (
      "likely an app password, which Bitbucket Cloud no longer accepts, an API token sent with the " +
      "Bitbucket username instead of the Atlassian account email, or an API token revoked or expired"
    );
  }
  if (status === 401) {
    return (
      "likely an Atlassian API token sent alone, as a Bearer, which Bitbucket Cloud takes only from access " +
      'tokens (repository, project, workspace): store it as {"email": "...", "apiToken": "..."}; or an access ' +
      "token revoked or expired"
    );
  }
  if (status === 403) {
    return (
      "likely a missing scope: an API token needs read:repository:bitbucket, and for pr-cleanup also " +
      "write:repository:bitbucket and read:pullrequest:bitbucket; an access token Repositories: Read " +
      "(Write for pr-cleanup) and Pull requests: Read"
    );
  }
  return undefined;
}

/**
 * A branch restriction as GET /repositories/{workspace}/{repo_slug}/branch-restrictions lists it (Atlassian's
 * description: kind, branch_match_kind `glob` (the default) or `branching_model`, pattern, branch_type).
 */
interface CloudBranchRestriction {
  kind?: unknown;
  branch_match_kind?: unknown;
  pattern?: unknown;
  branch_type?: unknown;
}

/**
 * The repository's effective branching model as GET /repositories/{workspace}/{repo_slug}/effective-branching-model
 * answers it (Atlassian's description, effective_repo_branching_model): `branch_types`, each a `kind` (feature,
 * bugfix, release, hotfix) and a `prefix` ("A branch with this prefix will be classified as per `kind`"), and
 * `development` and `production`, each naming one branch (`name`, "listed here even when the target branch does
 * not exist", null only for the main branch of an empty repository; `use_mainbranch` when it tracks the main
 * branch, whose name it then holds).
 */
export interface CloudBranchingModel {
  branch_types?: unknown;
  development?: unknown;
  production?: unknown;
}

/**
 * The branch types of the branching model a branch is of: a kind of `branch_types` whose prefix starts its name,
 * `development` or `production` when it is the branch that one names. What a `branching_model` restriction's
 * `branch_type` is compared with.
 */
export function branchTypesOf(model: CloudBranchingModel, branch: string): string[] {
  const types: string[] = [];
  for (const each of Array.isArray(model.branch_types) ? model.branch_types : []) {
    const { kind, prefix } = (each ?? {}) as { kind?: unknown; prefix?: unknown };
    if (
      typeof kind === "string" &&
      typeof prefix === "string" &&
      prefix !== "" &&
      branch.startsWith(prefix)
    ) {
      types.push(kind);
    }
  }
  for (const kind of ["development", "production"] as const) {
    const target = model[kind] as { name?: unknown; branch?: { name?: unknown } | null } | null | undefined;
    if (target && (target.name === branch || target.branch?.name === branch)) types.push(kind);
  }
  return types;
}

/** Pages of branch restrictions read for the `delete` ones: past them, whether one applies is not told. */
const RESTRICTION_PAGES = 10;

/**
 * Whether a `glob` branch restriction's pattern matches a branch: "A '*' in pattern will expand to match zero
 * or more characters, and every other character matches itself" (Atlassian's description of the branch
 * restrictions), so `feature/*` matches `feature/a/b` too.
 */
export function branchGlobMatches(pattern: string, branch: string): boolean {
  return new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "s").test(branch);
}

/** A BBQL string literal: " and \ escaped with a backslash. */
function bbqlString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export class BitbucketCloudClient extends ApiClient implements GitHostClient {
  readonly provider = "bitbucket" as const;
  protected readonly what = "Bitbucket API";

  protected override refusalHint(status: number, call?: ApiCall): string | undefined {
    const hint = cloudRefusalHint(status, this.credentialHeaders);
    if (status === 403 && call?.method === "DELETE" && /\/refs\/branches\//.test(call.path)) {
      // Bitbucket's answer does not tell a branch restriction's refusal from another (deleteBranch).
      return (
        `${hint}; or a branch restriction of kind delete covers the branch, which hookgate tells only with a ` +
        "token that may list branch restrictions (an API token with admin:repository:bitbucket; an access " +
        "token with Repositories: Admin), and then keeps such a branch"
      );
    }
    return hint;
  }

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
      baseRepoFullName: pull.destination.repository?.full_name ?? undefined,
      ...timeOf(latestTime(pull.updated_on)),
    };
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<undefined> {
    await this.send({
      method: "POST",
      path: `${this.repoPath(repo)}/commit/${seg(sha, "sha")}/statuses/build`,
      json: {
        // Bitbucket Cloud refuses a key over 40 characters.
        key: statusKey(status.context, 40),
        name: status.context,
        state: STATES[status.state],
        description: clip(status.description),
        // Bitbucket requires a url.
        url: status.targetUrl ?? `https://bitbucket.org/${repo.fullName}`,
        // "To associate a commit status to a pull request, the refname field must be set to the source branch
        // of the pull request" (the commit statuses API).
        ...(status.ref && status.refInRepository ? { refname: status.ref } : {}),
      },
    });
  }

  async branchHead(repo: RepoRef, branch: string): Promise<string | undefined> {
    return this.branchCommit<{ target?: { hash?: string } }>(
      `${this.repoPath(repo)}/refs/branches/${encodeSegments(branch)}`,
      branch,
      (info) => info.target?.hash,
    );
  }

  /**
   * No `protected` flag: Cloud's branch restrictions are a separate resource, listed only to a user with admin
   * access (403 otherwise). When they can be read, a `delete` restriction whose glob pattern matches keeps the
   * branch without a deletion: it exempts no one (users and groups are exempted from push and restrict_merges
   * only). A `branching_model` one applies to a type of branch of the repository's branching model ("The branch
   * type will be calculated using the branching model configured for the repository"): read from the effective
   * branching model, a branch of a type such a restriction names counts as protected, and the host's refusal of
   * its deletion keeps it; a branch of another type does not. Unreadable restrictions, or a branching model
   * unread while such a restriction exists: whether any applies is not known (`protected` undefined), and a
   * refusal fails, as no documented answer tells it.
   */
  async branch(repo: RepoRef, branch: string): Promise<BranchInfo | undefined> {
    const head = await this.branchHead(repo, branch);
    if (head === undefined) return undefined;
    const restrictions = await this.deleteRestrictions(repo);
    if (restrictions === undefined) return { head };
    const glob = restrictions.filter((each) => each.branch_match_kind !== "branching_model");
    if (glob.some((each) => typeof each.pattern === "string" && branchGlobMatches(each.pattern, branch))) {
      return { head, protected: true, keep: "a branch restriction forbids deleting it" };
    }
    const typed = restrictions.filter((each) => each.branch_match_kind === "branching_model");
    if (typed.length === 0) return { head, protected: false };
    const model = await this.branchingModel(repo);
    if (model === undefined) return { head };
    const types = branchTypesOf(model, branch);
    return { head, protected: typed.some((each) => types.includes(each.branch_type as string)) };
  }

  /**
   * The repository's effective branching model, or undefined when it cannot be read: any final refusal (its
   * 403 is documented "If the authenticated user does not have read access to the repository"), or an answer
   * that is no object. A 401 is taken as it is, without reading the token secret again: the client reads it
   * once more at most, and that one is kept for the deletion (a token rotated since it was cached). A
   * retryable failure is thrown.
   */
  private async branchingModel(repo: RepoRef): Promise<CloudBranchingModel | undefined> {
    try {
      const res = await this.call({
        method: "GET",
        path: `${this.repoPath(repo)}/effective-branching-model`,
        accept: [401],
      });
      if (res.statusCode === 401) {
        await discard(res);
        return undefined;
      }
      const model = await readApiJson<unknown>(res, this.what);
      return isJsonObject(model) ? model : undefined;
    } catch (err) {
      if (err instanceof ActionError && !err.retryable) return undefined;
      throw err;
    }
  }

  /**
   * The repository's branch restrictions of kind `delete`, page by page (`next`, followed within the API), or
   * undefined when they cannot be read: a 403 ("If the authenticated user does not have admin access to the
   * repository"; a token without admin:repository:bitbucket), a 404, a 401 ("Token is invalid, expired, or not
   * supported for this endpoint."), taken as it is, without reading the token secret again (the client reads
   * it once more at most, and that one is kept for the deletion: a token rotated since it was cached), any other
   * final refusal (a 400), a `next` elsewhere or past RESTRICTION_PAGES pages. The lookup is optional: a final
   * refusal of it never fails the step. A retryable failure (a 5xx, a 429, a timeout) is thrown.
   */
  private async deleteRestrictions(repo: RepoRef): Promise<CloudBranchRestriction[] | undefined> {
    try {
      return await this.readDeleteRestrictions(repo);
    } catch (err) {
      if (err instanceof ActionError && !err.retryable) return undefined;
      throw err;
    }
  }

  private async readDeleteRestrictions(repo: RepoRef): Promise<CloudBranchRestriction[] | undefined> {
    const found: CloudBranchRestriction[] = [];
    let path: string | undefined = `${this.repoPath(repo)}/branch-restrictions?kind=delete&pagelen=100`;
    for (let page = 0; page < RESTRICTION_PAGES; page++) {
      const res = await this.call({ method: "GET", path, accept: [401, 403, 404] });
      if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 404) {
        await discard(res);
        return undefined;
      }
      const answer = await readApiJson<{ values?: unknown; next?: unknown }>(res, this.what);
      if (!Array.isArray(answer.values)) return undefined;
      // The kind again: a filter the server ignored would otherwise count every restriction.
      found.push(
        ...(answer.values as (CloudBranchRestriction | null)[]).filter(
          (each): each is CloudBranchRestriction => each?.kind === "delete",
        ),
      );
      if (answer.next === undefined || answer.next === null) return found;
      path = typeof answer.next === "string" ? this.apiPath(answer.next) : undefined;
      if (path === undefined) return undefined;
    }
    return undefined;
  }

  /** A URL the API gave (a page's `next`) as a path under apiUrl, or undefined when it is elsewhere. */
  private apiPath(url: string): string | undefined {
    return url.startsWith(`${this.apiUrl}/`) ? url.slice(this.apiUrl.length) : undefined;
  }

  async openPullRequestsInto(repo: RepoRef, branch: string): Promise<OpenPullRequests> {
    return this.countOpenPulls(repo, `destination.branch.name=${bbqlString(branch)}`);
  }

  async openPullRequestsFrom(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
    exclude?: number,
  ): Promise<OpenPullRequests> {
    return this.countOpenPulls(
      repo,
      `source.branch.name=${bbqlString(branch)} AND source.repository.full_name=${bbqlString(headRepoFullName)}`,
      exclude,
    );
  }

  /**
   * When the repository is a fork, its parent's open pull requests from this branch of it: the repository's
   * answer names a fork's parent (`parent`, a repository, in Atlassian's description of GET
   * /repositories/{workspace}/{repo_slug}), and the parent's list is filtered as openPullRequestsFrom's, on
   * the source branch and source.repository.full_name (a field BBQL filters on, as in Atlassian's filtering
   * examples). A parent this token may not read answers 403 (or 404): kept, saying so.
   */
  async openPullRequestsIntoParent(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
  ): Promise<ParentPullRequests | undefined> {
    const info = await this.json<{ parent?: { full_name?: unknown } | null }>({
      method: "GET",
      path: this.repoPath(repo),
    });
    if (!info.parent) return undefined;
    const parent = typeof info.parent.full_name === "string" ? info.parent.full_name : "";
    const [owner = "", name = ""] = parent.split("/");
    if (!owner || !name) return unnamedParent(parent);
    return parentPullRequests(parent, () =>
      this.openPullRequestsFrom({ owner, name, fullName: parent }, branch, headRepoFullName),
    );
  }

  /** The open pull requests a BBQL query selects, but the one whose id is `exclude`. */
  private async countOpenPulls(repo: RepoRef, q: string, exclude?: number): Promise<OpenPullRequests> {
    // The state in the query too: client libraries report the state parameter ignored beside q, and then
    // merged pull requests (this one among them) would keep every branch.
    const query = `state="OPEN" AND ${q}`;
    const page = await this.json<{ size?: number; values?: unknown[]; next?: string }>({
      method: "GET",
      path: `${this.repoPath(repo)}/pullrequests?state=OPEN&q=${encodeURIComponent(query)}&pagelen=${OPEN_PULLS_PAGE}`,
    });
    const ids = (page.values ?? []).map((pull) => (pull as { id?: unknown } | null)?.id);
    // size, the total, is optional in Bitbucket's paged answers; without it, next says whether more follow.
    const size = typeof page.size === "number" ? page.size : undefined;
    return openOtherThan(ids, exclude, size, size === undefined && !!page.next);
  }

  async deleteBranch(repo: RepoRef, branch: string, _sha: string): Promise<DeleteBranchResult> {
    // No conditional delete: the caller reads branchHead right before.
    const call: ApiCall = {
      method: "DELETE",
      path: `${this.repoPath(repo)}/refs/branches/${encodeSegments(branch)}`,
    };
    const res = await this.call({ ...call, accept: [403, 404] });
    if (res.statusCode === 403) {
      // Atlassian documents this 403 only for a private repository the user may not access; a branch
      // restriction's refusal has no documented answer. A refusal: kept where a delete restriction may apply
      // (branch()), else the failure as before, with its hint.
      const message = await serverMessage(res, this.what, this.credentialHeaders).catch(() => "");
      return {
        refused: `${this.what} answered 403${message ? `: ${message}` : ""}`,
        failure: await this.failure(res, call, message),
      };
    }
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
      topFolder: shaSuffixedFolder(sha),
      // The web host, and the sub-path a Cloud-API mirror is installed under.
      credentialScope: web,
      dispatcher: this.dispatcher,
      refusalHint: (status) => this.refusalHint(status),
    };
  }
}

const BRANCH_UTILS = "/rest/branch-utils/latest";

/** branch-utils refused a deletion for a branch permission (BitbucketServerClient.failure). */
class BranchPermissionRefusal extends ActionError {
  constructor(message: string) {
    super(message, { retryable: false });
    this.name = "BranchPermissionRefusal";
  }
}

/**
 * Whether a refusal's message is a branch permission's: it names the branch's ref (refs/heads/…) or a branch
 * permission, and no authentication failure nor missing repository permission (REPO_WRITE, which the same 401
 * means and which may name the ref too). Atlassian documents the 401, not its message: a message that names
 * neither stays a failure.
 */
function namesBranchPermission(message: string, ref: string): boolean {
  if (/authenticat|REPO_WRITE|repository (write )?permission/i.test(message)) return false;
  return (ref !== "" && message.includes(ref)) || /\bbranch permissions?\b/i.test(message);
}

interface DataCenterRef {
  id?: string;
  displayId?: string;
  latestCommit?: string;
  repository?: { slug?: string; project?: { key?: string } } | null;
}

interface DataCenterPull {
  id: number;
  /** OPEN, DECLINED or MERGED */
  state: string;
  fromRef: DataCenterRef;
  toRef?: DataCenterRef;
  /** Milliseconds since the epoch. */
  updatedDate?: number | null;
}

/** A ref's repository as PROJECT_KEY/slug, when the answer names both. */
function refRepo(ref: DataCenterRef | undefined): string | undefined {
  const key = ref?.repository?.project?.key;
  const slug = ref?.repository?.slug;
  return key && slug ? `${key}/${slug}` : undefined;
}

/** Pages of 100 branches read to find one by name (Data Center has no lookup by exact name). */
const DC_BRANCH_PAGES = 50;

const HEADS = "refs/heads/";

/** A branch ref's short name: refs/heads/feature/x -> feature/x. */
function branchName(ref: DataCenterRef | undefined): string | undefined {
  if (ref?.id?.startsWith(HEADS)) return ref.id.slice(HEADS.length);
  return ref?.displayId;
}

/** A Data Center REST module's version at the end of its base URL: /latest, /1.0. */
const VERSION_AT_END = /\/(?:latest|\d+(?:\.\d+)*)$/;

export class BitbucketServerClient extends ApiClient implements GitHostClient {
  readonly provider = "bitbucket-server" as const;
  /** branch-utils' DELETE carries endPoint, the commit the branch must point at. */
  readonly conditionalDelete = true;
  protected readonly what = "Bitbucket Data Center API";

  /** The repository, as PROJECT_KEY/slug (what the normalised events call owner/name). */
  private repoPath(repo: RepoRef): string {
    return `/projects/${seg(repo.owner, "project key")}/repos/${seg(repo.name, "repository")}`;
  }

  /**
   * A REST module's versions are one API: a redirect from /rest/api/latest/… to /rest/api/1.0/… (the
   * status and Location of Data Center's redirects are not documented, BSERV-11763) stays within it.
   */
  protected override redirectScope(base: string): string {
    return base.replace(VERSION_AT_END, "");
  }

  /** …/rest/api/1.0/… as …/rest/api/latest/…: a redirect between the two is no move of the repository. */
  protected override canonicalUrl(url: string): string {
    return url.replace(/(\/rest\/[^/?#]+)\/(?:latest|\d+(?:\.\d+)*)(?=[/?#]|$)/, "$1/latest");
  }

  /**
   * branch-utils answers 401 both to a user without REPO_WRITE and to one a branch permission keeps from
   * deleting the branch (Atlassian's reference of DELETE …/branches); neither is a bad token, which fails the
   * reads before it. A refusal whose message names the branch's ref or a branch permission is the latter
   * (BranchPermissionRefusal, which deleteBranch turns into a kept branch); any other stays a failure.
   */
  protected override async failure(res: HttpResponse, call: ApiCall, message?: string): Promise<ActionError> {
    const deletion = call.method === "DELETE" && call.baseUrl?.endsWith(BRANCH_UTILS) === true;
    if (!deletion || (res.statusCode !== 401 && res.statusCode !== 403)) {
      return super.failure(res, call, message);
    }
    const detail = message ?? (await serverMessage(res, this.what, this.credentialHeaders).catch(() => ""));
    const ref = (call.json as { name?: string } | undefined)?.name ?? "";
    if (namesBranchPermission(detail, ref)) {
      return new BranchPermissionRefusal(`${this.what} answered ${res.statusCode}: ${detail}`);
    }
    return super.failure(res, call, detail);
  }

  /** The server's base URL, before /rest: the branch-utils module and the web pages live there. */
  private serverUrl(): string {
    const server = dataCenterServerUrl(this.apiUrl);
    if (server === undefined) {
      // check refuses such an apiUrl; this is for a configuration that skipped it.
      throw new ActionError(
        `the Bitbucket Data Center apiUrl must end with /rest/api/latest (or /rest/api/1.0), not ${this.apiUrl}`,
        { retryable: false },
      );
    }
    return server;
  }

  async getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo> {
    const pull = await this.json<DataCenterPull>({
      method: "GET",
      path: `${this.repoPath(repo)}/pull-requests/${number}`,
    });
    return {
      number: pull.id,
      state: pull.state === "OPEN" ? "open" : "closed",
      merged: pull.state === "MERGED",
      headRef: branchName(pull.fromRef) ?? "",
      headSha: pull.fromRef?.latestCommit ?? "",
      headRepoFullName: refRepo(pull.fromRef),
      baseRepoFullName: refRepo(pull.toRef),
      ...timeOf(latestTime(pull.updatedDate)),
    };
  }

  async setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<undefined> {
    // The repository's build status resource (Data Center 7.4 and later).
    await this.send({
      method: "POST",
      path: `${this.repoPath(repo)}/commits/${seg(sha, "sha")}/builds`,
      json: {
        key: status.context.slice(0, 255),
        name: status.context,
        state: STATES[status.state],
        description: clip(status.description),
        // Data Center requires a url.
        url: status.targetUrl ?? `${this.serverUrl()}${this.repoPath(repo)}`,
        // The ref the build ran on: a pull request shows the statuses posted with its source branch's.
        ...(status.ref && status.refInRepository ? { ref: `refs/heads/${status.ref}` } : {}),
      },
    });
  }

  async branchHead(repo: RepoRef, branch: string): Promise<string | undefined> {
    encodeSegments(branch); // the same refusals as in the other hosts' paths ("..", empty segments)
    // filterText matches anywhere in the name (fix: bugfix/1, hotfix/2, ...); boostMatches puts the exact
    // match first. A branch that is gone is told only by the last page, so every page is read.
    let start = 0;
    for (let page = 0; page < DC_BRANCH_PAGES; page++) {
      const answer = await this.json<{
        values?: DataCenterRef[];
        isLastPage?: boolean;
        nextPageStart?: number;
      }>({
        method: "GET",
        path: `${this.repoPath(repo)}/branches?filterText=${encodeURIComponent(branch)}&boostMatches=true&limit=100&start=${start}`,
      });
      const ref = answer.values?.find((value) => value.id === `${HEADS}${branch}`);
      if (ref) return headOrFail(ref.latestCommit, this.what, branch);
      if (answer.isLastPage !== false) return undefined;
      if (typeof answer.nextPageStart !== "number") break; // more pages, but not where: cannot be told
      start = answer.nextPageStart;
    }
    throw new ActionError(
      `${this.what} did not list every branch matching ${JSON.stringify(branch)} (more than ` +
        `${DC_BRANCH_PAGES * 100}, or a page without its next): whether it still exists cannot be told`,
      { retryable: false },
    );
  }

  /** No `protected` flag: Data Center's branch permissions are a separate REST module (branch-permissions). */
  async branch(repo: RepoRef, branch: string): Promise<BranchInfo | undefined> {
    const head = await this.branchHead(repo, branch);
    return head === undefined ? undefined : { head };
  }

  async openPullRequestsInto(repo: RepoRef, branch: string): Promise<OpenPullRequests> {
    return this.countOpenPulls(repo, branch, "INCOMING");
  }

  async openPullRequestsFrom(
    repo: RepoRef,
    branch: string,
    _headRepoFullName?: string,
    exclude?: number,
  ): Promise<OpenPullRequests> {
    // OUTGOING: from this branch of this repository (a fork's branch is in another repository).
    return this.countOpenPulls(repo, branch, "OUTGOING", exclude);
  }

  /**
   * The open pull requests into (INCOMING) or from (OUTGOING) a branch of the repository, but the one whose id is
   * `exclude`: the first page's, and whether another follows (Data Center's pages say no total).
   */
  private async countOpenPulls(
    repo: RepoRef,
    branch: string,
    direction: "INCOMING" | "OUTGOING",
    exclude?: number,
  ): Promise<OpenPullRequests> {
    const page = await this.json<{ values?: unknown[]; isLastPage?: boolean }>({
      method: "GET",
      path: `${this.repoPath(repo)}/pull-requests?state=OPEN&direction=${direction}&at=${encodeURIComponent(`${HEADS}${branch}`)}&limit=${OPEN_PULLS_PAGE}`,
    });
    const ids = (page.values ?? []).map((pull) => (pull as { id?: unknown } | null)?.id);
    return openOtherThan(ids, exclude, undefined, page.isLastPage === false);
  }

  async deleteBranch(repo: RepoRef, branch: string, sha: string): Promise<DeleteBranchResult> {
    encodeSegments(branch);
    // branch-utils answers 204 whether the branch existed or not: gone either way. endPoint is the commit
    // the branch must point at: pointing elsewhere, it is kept and the answer is 400. The check and the
    // deletion are one step on the server, so a push in between cannot be lost.
    const call = {
      method: "DELETE" as const,
      baseUrl: `${this.serverUrl()}${BRANCH_UTILS}`,
      path: `${this.repoPath(repo)}/branches`,
      json: { name: `${HEADS}${branch}`, dryRun: false, endPoint: sha },
      accept: [400],
    };
    let res: HttpResponse;
    try {
      res = await this.call(call);
    } catch (err) {
      // A branch permission: kept by the caller, as a protected branch is, and the next steps run.
      if (err instanceof BranchPermissionRefusal) return { refused: err.message, branchPermission: true };
      throw err;
    }
    if (res.statusCode !== 400) {
      await discard(res);
      return "deleted";
    }
    const message = await serverMessage(res, this.what, this.credentialHeaders);
    // A 400 says the request was refused, not why in a form to rely on: the branch tells.
    const head = await this.branchHead(repo, branch);
    if (head === undefined) return "already-gone";
    if (!sameCommit(head, sha)) return "moved-on";
    throw statusError(`${this.what} DELETE ${call.path}`, res, message);
  }

  async getDefaultBranch(repo: RepoRef): Promise<string> {
    // default-branch since Data Center 7.5; older servers have only branches/default.
    const res = await this.call({
      method: "GET",
      path: `${this.repoPath(repo)}/default-branch`,
      accept: [404],
    });
    let ref: DataCenterRef;
    if (res.statusCode === 404) {
      await discard(res);
      ref = await this.json<DataCenterRef>({
        method: "GET",
        path: `${this.repoPath(repo)}/branches/default`,
      });
    } else {
      ref = await readApiJson<DataCenterRef>(res, this.what);
    }
    const name = branchName(ref);
    if (!name) {
      throw new ActionError("Bitbucket Data Center API did not name the default branch", { retryable: true });
    }
    return name;
  }

  archive(repo: RepoRef, sha: string): ArchiveSource {
    // No prefix parameter: the archive has no top folder.
    return {
      url: `${this.apiUrl}/projects/${seg(repo.owner, "owner")}/repos/${seg(repo.name, "repository")}/archive?at=${seg(sha, "sha")}&format=zip`,
      headers: { "user-agent": "hookgate", ...this.credentialHeaders },
      credentialScope: installRoot(this.apiUrl, /\/rest\/api\/[^/]+$/i),
      dispatcher: this.dispatcher,
    };
  }
}
