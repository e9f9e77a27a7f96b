// Bitbucket Data Center (formerly Server): X-Event-Key names (repo:refs_changed, pr:*) mapped onto
// GitHub-style events. The repository is PROJECT_KEY/slug. Payloads carry no file lists.
import { shownText } from "../shownText";
import type { RepoRef, WebhookEvent } from "../types";
import {
  entry,
  eventMismatch,
  int,
  isZeroSha,
  type Json,
  latestTime,
  malformed,
  noRepo,
  obj,
  splitRef,
  str,
  timeOf,
  withRefChanges,
} from "./fields";

export const PULL_REQUEST_ACTIONS: Readonly<Record<string, string>> = {
  "pr:opened": "opened",
  "pr:from_ref_updated": "synchronize",
  // "A pull request is modified" (title, description or target branch), as GitHub's edited.
  "pr:modified": "edited",
  "pr:merged": "closed",
  "pr:declined": "closed",
  "pr:deleted": "closed",
  // Not a key Atlassian documents: its "Event payload" pages (8.11 to 9.1 list every event) have Opened
  // (pr:opened, "a pull request is created") and no reopen, and do not say what reopening a declined pull
  // request sends. Kept for a server that sends it; a reopen sent as pr:opened is action "opened" (README).
  "pr:reopened": "reopened",
};

export function bitbucketServerRepo(repository: Json): RepoRef | undefined {
  const slug = str(repository.slug);
  const key = str(obj(repository.project)?.key);
  if (slug === undefined || key === undefined) return undefined;
  const links = obj(repository.links);
  let cloneUrl: string | undefined;
  if (Array.isArray(links?.clone)) {
    for (const link of links.clone) {
      const l = obj(link);
      if (l?.name === "http" || l?.name === "https") cloneUrl = str(l.href);
    }
  }
  return { owner: key, name: slug, fullName: `${key}/${slug}`, cloneUrl };
}

/** One entry of `changes`: the ref, before and after, and whether it was deleted. */
function applyChange(event: WebhookEvent, change: Json): void {
  const parts = splitRef(str(change.refId) ?? str(obj(change.ref)?.id));
  const toHash = str(change.toHash);
  const deleted = change.type === "DELETE" || isZeroSha(toHash);
  event.ref = parts.ref;
  event.branch = parts.branch;
  event.tag = parts.tag;
  event.deleted = deleted;
  // toHash is the ref's new value: for an annotated tag, the tag object, not a commit (reported in
  // stackoverflow.com/q/68958479 and woodpecker-ci/woodpecker#6202). Atlassian's payload names no commit
  // besides, and cannot tell an annotated tag from a lightweight one, so sha stays toHash (README, "sha").
  event.sha = deleted ? undefined : toHash;
  event.before = str(change.fromHash);
  // Never a known fast-forward: a change's type is ADD, UPDATE or DELETE, and a force-push is an UPDATE like
  // any other (no `forced` field), so s3-zip's chain never skips a Data Center push (core/zipOrder).
}

export function normaliseBitbucketServer(key: string, payload: Json, deliveryId: string): WebhookEvent {
  // Every event's payload names its key ("eventKey", Atlassian's "Event payload" page), the same as X-Event-Key;
  // the ping's body ({"test": true}) names none. X-Event-Key is not signed: the body's key decides.
  const bodyKey = str(payload.eventKey);
  if (bodyKey !== undefined && bodyKey !== key) {
    throw eventMismatch("X-Event-Key", key, `eventKey ${shownText(bodyKey)}`);
  }
  const actor = obj(payload.actor);
  const result: WebhookEvent = {
    provider: "bitbucket-server",
    deliveryId,
    event: key,
    repo: noRepo(),
    deleted: false,
    actor: str(actor?.name) ?? str(actor?.slug),
    changedFiles: [],
    payload,
  };
  if (key === "diagnostics:ping") {
    result.event = "ping";
    return result;
  }
  const repository = obj(payload.repository);
  const repo = repository && bitbucketServerRepo(repository);
  if (repo !== undefined) result.repo = repo;

  if (key === "repo:refs_changed") {
    if (repo === undefined)
      throw malformed("the Bitbucket Data Center repo:refs_changed payload has no repository");
    result.event = "push";
    // One push may change several refs: the first is this event, the others events of their own.
    const changes = payload.changes;
    return withRefChanges(result, Array.isArray(changes) ? changes : [], applyChange);
  }

  const prAction = entry(PULL_REQUEST_ACTIONS, key);
  if (prAction !== undefined || key.startsWith("pr:")) {
    const pr = obj(payload.pullRequest);
    if (pr === undefined)
      throw malformed(`the Bitbucket Data Center ${key} payload has no pullRequest object`);
    const from = obj(pr.fromRef);
    const to = obj(pr.toRef);
    // Pull request payloads have no top-level repository: the target repository is toRef's.
    const target = obj(to?.repository);
    const targetRepo = target && bitbucketServerRepo(target);
    if (targetRepo === undefined && repo === undefined) {
      throw malformed(`the Bitbucket Data Center ${key} payload has no toRef.repository`);
    }
    result.repo = targetRepo ?? repo ?? noRepo();
    const fromRepo = obj(from?.repository);
    // A deleted pull request is gone for good: the API no longer knows it (pr-cleanup reads that).
    const state = key === "pr:deleted" ? "deleted" : str(pr.state)?.toLowerCase();
    const baseRef = str(to?.displayId) ?? splitRef(str(to?.id)).branch ?? "";
    const headSha = str(from?.latestCommit) ?? "";
    result.pr = {
      number: int(pr.id) ?? 0,
      merged: key === "pr:merged" || state === "merged",
      state,
      headRef: str(from?.displayId) ?? splitRef(str(from?.id)).branch ?? "",
      baseRef,
      headSha,
      headRepoFullName: fromRepo === undefined ? undefined : bitbucketServerRepo(fromRepo)?.fullName,
      // Milliseconds since the epoch; closedDate once merged or declined.
      ...timeOf(latestTime(pr.updatedDate, pr.closedDate)),
    };
    if (prAction !== undefined) {
      result.event = "pull_request";
      // Deleting an open pull request closes it; one already declined was closed then, and its closing
      // (pr:declined) has run what follows a close: this is no second one.
      result.action = key === "pr:deleted" && str(pr.state) !== "OPEN" ? "deleted" : prAction;
    }
    result.branch = baseRef || undefined;
    result.sha = headSha || undefined;
  }
  return result;
}
