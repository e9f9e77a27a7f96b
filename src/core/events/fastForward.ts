// Whether a push is known to be a plain fast-forward of its branch: s3-zip trusts its zip chain only for
// such a push (core/zipOrder), so each test here asks for positive evidence and answers false without it.
import { type Json, obj } from "./fields";

/** A commit id (7 to 64 hex digits), not all zeros: the ref existed before the push. */
export function isRealCommit(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-fA-F]{7,64}$/.test(value) && !/^0+$/.test(value);
}

/**
 * A GitHub-shaped push (GitHub, GitLab, Gitea) that moved an existing branch: a real before, neither
 * created nor deleted (payload flags, when sent, agree), and a new commit that is not the old one.
 */
function movedExistingBranch(payload: Json, branch: string | undefined, deleted: boolean): boolean {
  if (branch === undefined || deleted) return false;
  if (payload.created === true || payload.deleted === true) return false;
  const before = payload.before;
  return isRealCommit(before) && isRealCommit(payload.after) && before !== payload.after;
}

/**
 * GitHub: `forced: false` on a push of an existing branch. A tag is never one (git refuses to move a tag
 * without --force), and a payload without the flag says nothing.
 */
export function githubFastForward(payload: Json, branch: string | undefined, deleted: boolean): boolean {
  return movedExistingBranch(payload, branch, deleted) && payload.forced === false;
}

/**
 * GitLab and Gitea send no `forced`: a push of an existing branch that added commits. A rewind (a force-push
 * back to an older commit) adds none, so its total is 0 and its list empty (GitLab counts
 * commits_between(before, after); Gitea lists CommitsBeforeUntil(before)). The total, when sent, decides:
 * the list is cut (GitLab's newest 20, Gitea's 5), never padded.
 */
export function commitsFastForward(payload: Json, branch: string | undefined, deleted: boolean): boolean {
  if (!movedExistingBranch(payload, branch, deleted)) return false;
  const total = payload.total_commits_count ?? payload.total_commits;
  if (typeof total === "number") return total > 0;
  const listed = payload.commits;
  return Array.isArray(listed) && listed.length > 0;
}

/**
 * Bitbucket Cloud: one entry of push.changes that moved an existing branch with `forced: false` (an `old`
 * target with a real hash, a `new` one, not created or closed).
 */
export function bitbucketFastForward(change: Json): boolean {
  const next = obj(change.new);
  const previous = obj(change.old);
  if (next === undefined || previous === undefined) return false;
  if (change.created === true || change.closed === true || change.forced !== false) return false;
  if (next.type !== "branch" && next.type !== "named_branch") return false;
  const before = obj(previous.target)?.hash;
  const after = obj(next.target)?.hash;
  return isRealCommit(before) && isRealCommit(after) && before !== after;
}
