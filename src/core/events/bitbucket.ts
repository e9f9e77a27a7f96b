// Bitbucket Cloud: X-Event-Key names (repo:push, pullrequest:*) mapped onto GitHub-style events.
// Push payloads carry no file lists, so changedFiles is always empty and a `paths` filter cannot rule a push out.
import { shownText } from "../shownText";
import type { RepoRef, WebhookEvent } from "../types";
import { bitbucketFastForward } from "./fastForward";
import {
  entry,
  eventMismatch,
  int,
  type Json,
  latestTime,
  malformed,
  noRepo,
  obj,
  refFromName,
  splitFullName,
  str,
  timeOf,
  withRefChanges,
} from "./fields";

export const PULL_REQUEST_ACTIONS: Readonly<Record<string, string>> = {
  "pullrequest:created": "opened",
  "pullrequest:updated": "synchronize",
  "pullrequest:fulfilled": "closed",
  "pullrequest:rejected": "closed",
};

/**
 * The states a closing key's pull request is in once closed (Bitbucket Cloud's pullrequest state: OPEN, MERGED,
 * DECLINED, SUPERSEDED, the last a decline's old form). created and updated are not checked: an update may be
 * sent about a pull request already closed, and their actions close nothing.
 */
const CLOSED_STATES: Readonly<Record<string, readonly string[]>> = {
  "pullrequest:fulfilled": ["MERGED"],
  "pullrequest:rejected": ["DECLINED", "SUPERSEDED"],
};

export function bitbucketRepo(repository: Json): RepoRef | undefined {
  const fullName = str(repository.full_name);
  if (fullName === undefined) return undefined;
  const { owner, name } = splitFullName(fullName);
  const html = str(obj(obj(repository.links)?.html)?.href);
  return {
    owner,
    name,
    fullName,
    cloneUrl: html === undefined ? undefined : `${html}.git`,
    defaultBranch: str(obj(repository.mainbranch)?.name),
  };
}

/**
 * The actor's nickname (username before Bitbucket's 2019 GDPR changes), never display_name: that is free
 * text anyone may set to "dependabot[bot]". An actor without either (a workspace or app) names none.
 */
function actorOf(payload: Json): string | undefined {
  const actor = obj(payload.actor);
  return actor === undefined ? undefined : (str(actor.nickname) ?? str(actor.username));
}

/**
 * One entry of push.changes: the ref, before and after, and whether it was deleted. Bitbucket's event payloads
 * page gives a ref's type as "branch", "tag" or "annotated_tag" (an annotated tag has been seen sent as "tag"
 * too: BCLOUD issue 12241); "annotated_tag" is read as a tag is, its target's hash the sha.
 */
function applyChange(event: WebhookEvent, change: Json): void {
  const next = obj(change.new);
  const previous = obj(change.old);
  const ref = next ?? previous;
  const kind =
    ref?.type === "tag" || ref?.type === "annotated_tag"
      ? "tag"
      : ref?.type === "branch" || ref?.type === "named_branch"
        ? "branch"
        : undefined;
  const parts = refFromName(str(ref?.name), kind);
  const deleted = change.new === null || change.closed === true;
  event.ref = parts.ref;
  event.branch = parts.branch;
  event.tag = parts.tag;
  event.deleted = deleted;
  event.sha = deleted ? undefined : str(obj(next?.target)?.hash);
  event.before = str(obj(previous?.target)?.hash);
  // Set or removed for each change: the other changes' events are copies of the first (withRefChanges).
  if (!deleted && bitbucketFastForward(change)) event.fastForward = true;
  else delete event.fastForward;
}

export function normaliseBitbucket(key: string, payload: Json, deliveryId: string): WebhookEvent {
  const repository = obj(payload.repository);
  const repo = repository && bitbucketRepo(repository);
  const isPush = key === "repo:push";
  const prAction = entry(PULL_REQUEST_ACTIONS, key);
  if (repo === undefined && (isPush || prAction !== undefined)) {
    throw malformed(`the Bitbucket Cloud ${key} payload has no repository.full_name`);
  }
  const result: WebhookEvent = {
    provider: "bitbucket",
    deliveryId,
    // Keys without a GitHub counterpart (repo:fork, pullrequest:approved, ...) are kept as they are.
    event: isPush ? "push" : prAction !== undefined ? "pull_request" : key,
    action: prAction,
    repo: repo ?? noRepo(),
    deleted: false,
    actor: actorOf(payload),
    changedFiles: [],
    payload,
  };
  if (isPush) {
    // One push may change several refs (`git push --follow-tags`): the first is this event, the others
    // are events of their own (otherChanges), so each is matched and acted on.
    const changes = obj(payload.push)?.changes;
    return withRefChanges(result, Array.isArray(changes) ? changes : [], applyChange);
  } else if (prAction !== undefined) {
    const pr = obj(payload.pullrequest);
    if (pr === undefined) throw malformed(`the Bitbucket Cloud ${key} payload has no pullrequest object`);
    // X-Event-Key is not signed: a body sent when the pull request was opened, posted again as
    // pullrequest:fulfilled, must not be read as merged. The body's state decides.
    const closedStates = entry(CLOSED_STATES, key);
    const sentState = str(pr.state);
    if (
      closedStates !== undefined &&
      sentState !== undefined &&
      !closedStates.includes(sentState.toUpperCase())
    ) {
      throw eventMismatch("X-Event-Key", key, `about a pull request in state ${shownText(sentState)}`);
    }
    const source = obj(pr.source);
    const destination = obj(pr.destination);
    const state = str(pr.state)?.toLowerCase();
    const headSha = str(obj(source?.commit)?.hash) ?? "";
    const baseRef = str(obj(destination?.branch)?.name) ?? "";
    result.pr = {
      number: int(pr.id) ?? 0,
      merged: key === "pullrequest:fulfilled" || state === "merged",
      state,
      headRef: str(obj(source?.branch)?.name) ?? "",
      baseRef,
      // Bitbucket Cloud sends abbreviated (12-character) hashes in pull request payloads.
      headSha,
      headRepoFullName: str(obj(source?.repository)?.full_name),
      ...timeOf(latestTime(pr.updated_on)),
    };
    result.branch = baseRef || undefined;
    result.sha = headSha || undefined;
  }
  return result;
}
