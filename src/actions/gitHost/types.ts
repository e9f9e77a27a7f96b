// The Git host's REST API as the actions need it. One interface; one implementation per provider.
import type { Dispatcher } from "undici";
import type { ActionError } from "../../core/errors";
import type { Provider, RepoRef } from "../../core/types";
import type { TopFolderTest } from "./topFolder";

export interface PullRequestInfo {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  headRef: string;
  headSha: string;
  /** The head's repository (owner/name); undefined when the provider cannot say (e.g. a deleted fork). */
  headRepoFullName?: string;
  /**
   * The base repository as the API names it now, when the answer says: after a rename or a transfer the
   * event (a redelivery, a queued item) still names the old one, and the API's redirect led here.
   */
  baseRepoFullName?: string;
  /** The base repository's default branch, when the PR answer carries it. */
  defaultBranch?: string;
  /**
   * When the pull request last changed, as the answer says (ISO 8601, UTC; GitHub's and Gitea's updated_at,
   * GitLab's updated_at, Bitbucket Cloud's updated_on, Data Center's updatedDate); undefined when it says none.
   */
  updatedAt?: string;
}

export type CommitState = "pending" | "success" | "failure" | "error";

export interface CommitStatus {
  state: CommitState;
  /** hookgate/<route> */
  context: string;
  /** At most 140 characters (GitHub's limit); longer text is cut. */
  description: string;
  targetUrl?: string;
  /**
   * The pull request's head branch (GitLab's `ref`: a squash-merged head is on no branch, and without a ref
   * GitLab looks for one holding the commit, the target's main after a merge commit).
   */
  ref?: string;
  /** Whether `ref` is a branch of this repository, not a fork's: Bitbucket names the branch only then. */
  refInRepository?: boolean;
  /**
   * The pull request's number: GitLab names a fork's merge request by the ref it keeps of it in the target
   * project, refs/merge-requests/<iid>/head, rather than by a branch the target does not have.
   */
  pullRequest?: number;
  /**
   * A `pending` status that replaces an earlier `pending` of the same context while the work goes on (a
   * retry follows). GitLab refuses a second `pending` (no transition), so it sends this one as `running`.
   */
  interim?: boolean;
}

/**
 * "unchanged": the host kept the status it had and refused this one as no transition from it (GitLab's 400
 * "Cannot transition status …"): the commit does not show this status's description.
 */
export type CommitStatusResult = "unchanged" | undefined;

/** How to download the archive of one commit. */
export interface ArchiveSource {
  url: string;
  /**
   * Credential headers: sent only within `credentialScope`, dropped on a redirect out of it (another origin, or
   * a path of the origin outside the host's install).
   */
  headers: Record<string, string>;
  /**
   * The URL (origin and path) under which the credentials may go: the host's install root
   * (gitHost/installRoot.ts). Absent: the archive URL's origin, any path.
   */
  credentialScope?: string;
  /**
   * Whether a folder holding every entry is the top folder the host wrote around the repository (s3-zip removes
   * only that one: gitHost/topFolder.ts); absent when the host writes none.
   */
  topFolder?: TopFolderTest;
  /**
   * The API's dispatcher: the default roots plus the host's private CAs (caBundle), if any. Every hop of the
   * download uses it, so a redirect to a public origin (codeload, S3) and one to the host's own (GitHub
   * Enterprise Server's codeload subdomain) are both verified.
   */
  dispatcher?: Dispatcher;
  /** What a 401 or 403 most likely means for this credential, when the host can tell (for the logs). */
  refusalHint?: (status: number) => string | undefined;
}

/** A branch as the host's answer of it says. */
export interface BranchInfo {
  /** The commit it points at. */
  head: string;
  /**
   * Whether it is protected, by the `protected` flag of the host's answer of one branch (GitHub, GitLab,
   * Gitea), or on Bitbucket Cloud whether a branch restriction of kind `delete` applies to it (listed only to
   * a token with admin access; one of the branching model by the branch's type in the effective branching
   * model); undefined where the host documents no such flag (Data Center), the answer has none, or Bitbucket
   * Cloud's restrictions, or the branching model one of them needs, cannot be read. GitHub sets it for every branch an active ruleset targets, whatever the ruleset restricts
   * (crs-k/stale-branches#1061), and for a classic protection that allows deletions: there it says nothing
   * of a refusal, `keep` does.
   */
  protected?: boolean;
  /**
   * Why the host would refuse to delete it, when its answers say so before a deletion is tried: "it is
   * protected" (GitLab's and Gitea's flag), "a ruleset forbids deleting it" (a GitHub ruleset's `deletion`
   * rule applies to it), "a branch restriction forbids deleting it" (a Bitbucket Cloud `delete` restriction
   * whose pattern matches it). pr-cleanup keeps such a branch without trying: on GitLab and Gitea a protected
   * branch is a long-lived one, kept whether or not the host would let the token delete it (current GitLab
   * lets a maintainer delete one through the API).
   */
  keep?: string;
}

/**
 * "moved-on": a host with a conditional delete refused it, as the branch no longer points at the commit.
 * `refused`: the host refused the deletion, with its message (GitHub's 422 to a classic protection without
 * "Allow deletions"; Bitbucket Cloud's 403, a branch restriction's or another's): for a branch whose
 * `protected` is true the branch stays, and that is no failure; so it does when `branchPermission` is set,
 * the refusal itself naming a branch permission (Bitbucket Data Center); for another, `failure` is what to
 * throw (the host's error, with its hint), else a final error naming the refusal.
 */
export type DeleteBranchResult =
  | "deleted"
  | "already-gone"
  | "moved-on"
  | { refused: string; failure?: ActionError; branchPermission?: boolean };

/** The open pull requests whose base (target) is a branch, as far as the host's first answer tells. */
export interface OpenPullRequests {
  count: number;
  /** There may be more than `count`: the host did not say how many (with count 0, none were seen yet). */
  more: boolean;
  /** The pull request left out of the count was listed open (set only then). */
  excludedSeen?: true;
}

/** The open pull requests from a branch of a fork into its parent repository (upstream). */
export interface ParentPullRequests extends OpenPullRequests {
  /** The parent, owner/name, as the API names it ("" when it names none). */
  parent: string;
  /** Why they could not be read (the parent is private to the token, or not named): count 0, more true. */
  unreadable?: string;
}

/**
 * A redirect the host's API answered and hookgate followed (gitHost/redirects.ts): most likely a renamed or
 * transferred repository. Paths relative to the API's base, without what they end with in common.
 */
export interface ApiRedirect {
  status: number;
  /** The path called: /repos/acme/api. */
  from: string;
  /** Where the host sent it: /repositories/42 (GitHub), /repos/acme/api-v2 (Gitea), /projects/42 (GitLab). */
  to: string;
}

export interface GitHostClient {
  readonly provider: Provider;
  /** The redirects followed so far, each (from, to) once, oldest first. */
  readonly redirects: readonly ApiRedirect[];
  /**
   * Whether deleteBranch's `sha` is a condition the host checks with the deletion (Data Center's endPoint).
   * Elsewhere the caller reads the branch's head again right before deleting it.
   */
  readonly conditionalDelete?: boolean;
  getPullRequest(repo: RepoRef, number: number): Promise<PullRequestInfo>;
  setCommitStatus(repo: RepoRef, sha: string, status: CommitStatus): Promise<CommitStatusResult>;
  /** The commit a branch points at now; undefined when there is no such branch. */
  branchHead(repo: RepoRef, branch: string): Promise<string | undefined>;
  /**
   * The branch's commit, whether it is protected and why the host would refuse its deletion (see BranchInfo);
   * undefined when there is no such branch. pr-cleanup keeps a protected branch on GitLab and Gitea (a
   * long-lived one); on GitHub one a ruleset's deletion rule covers, and tries the others (deleteBranch).
   */
  branch(repo: RepoRef, branch: string): Promise<BranchInfo | undefined>;
  /** The open pull requests that target a branch: deleting it would close them (GitHub) or strand them. */
  openPullRequestsInto(repo: RepoRef, branch: string): Promise<OpenPullRequests>;
  /**
   * The open pull requests whose head is this branch of `headRepoFullName` (the repository itself, as the API
   * names it now): deleting the branch closes them (GitHub, Gitea) or leaves them without their source branch
   * (Bitbucket, GitLab). GitLab cannot tell a fork's branch of the same name apart: it counts those too.
   * `exclude`: a pull request (GitLab: a merge request's iid) not counted, the one being cleaned up, which a list
   * read a moment after its merge or close may still show open (excludedSeen says it did).
   */
  openPullRequestsFrom(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
    exclude?: number,
  ): Promise<OpenPullRequests>;
  /**
   * When the repository is a fork, the open pull requests from this branch of it (`headRepoFullName`, as the
   * API names it now) into its parent: deleting the branch closes them (GitHub, Gitea) or leaves them without
   * their source branch (GitLab, Bitbucket Cloud). GitLab counts those into any other project of the fork
   * network the token may read (the root, a sibling fork), the others the parent's only. Undefined when the
   * repository is no fork; absent where the host has no such lookup here (Bitbucket Data Center).
   */
  openPullRequestsIntoParent?(
    repo: RepoRef,
    branch: string,
    headRepoFullName: string,
  ): Promise<ParentPullRequests | undefined>;
  /**
   * Delete a branch. A branch that is already gone counts as deleted (idempotent on retry). `sha` is the
   * commit it must still point at: a host with a conditional delete (Data Center's endPoint) sends it and
   * answers "moved-on" when the branch points elsewhere; the others rely on the caller reading branchHead
   * right before (conditionalDelete).
   */
  deleteBranch(repo: RepoRef, branch: string, sha: string): Promise<DeleteBranchResult>;
  getDefaultBranch(repo: RepoRef): Promise<string>;
  archive(repo: RepoRef, sha: string): ArchiveSource;
  /**
   * After a 401: read the token secret once more, past its cache (once per client). True when it holds a new
   * value, which the client sends from then on (an archive source asked for afterwards too); false when the
   * refusal stands. The client's own API calls do this themselves.
   */
  refreshCredentials(): Promise<boolean>;
}
