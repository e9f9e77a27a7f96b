// GitLab: X-Gitlab-Event names ("Push Hook", "Merge Request Hook", ...) mapped onto GitHub-style events.
import { shownText } from "../shownText";
import type { RepoRef, WebhookEvent } from "../types";
import { withLazyChangedFiles } from "./changedFiles";
import { commitsFastForward } from "./fastForward";
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
  refFromName,
  splitFullName,
  splitRef,
  str,
  timeOf,
} from "./fields";
import { gitlabKindElsewhere } from "./headers";

/** GitLab merge request actions -> GitHub pull_request actions. */
export const MR_ACTIONS: Readonly<Record<string, string>> = {
  open: "opened",
  close: "closed",
  merge: "closed",
  reopen: "reopened",
};

/** GitLab issue actions -> GitHub issues actions ("events: [issues.opened]" reads the same on both). */
export const ISSUE_ACTIONS: Readonly<Record<string, string>> = {
  open: "opened",
  close: "closed",
  reopen: "reopened",
  update: "edited",
};

/** GitLab release actions -> GitHub release actions. */
export const RELEASE_ACTIONS: Readonly<Record<string, string>> = {
  create: "created",
  update: "edited",
  delete: "deleted",
};

/** Header names whose GitHub counterpart is not just the snake-cased name. */
const EVENT_NAMES: Readonly<Record<string, string>> = {
  "Push Hook": "push",
  "Tag Push Hook": "push",
  "Merge Request Hook": "pull_request",
  "Issue Hook": "issues",
  "Confidential Issue Hook": "issues",
  "Release Hook": "release",
};

/** System hooks name their event in the payload; these kinds have the project-hook shapes. */
const SYSTEM_KINDS: Readonly<Record<string, string>> = {
  push: "Push Hook",
  tag_push: "Tag Push Hook",
  merge_request: "Merge Request Hook",
};

/** "Pipeline Hook" -> "pipeline", "Wiki Page Hook" -> "wiki_page". */
function snakeName(header: string): string {
  return header
    .replace(/ Hook$/i, "")
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_");
}

export function gitlabRepo(project: Json): RepoRef | undefined {
  const fullName = str(project.path_with_namespace);
  if (fullName === undefined) return undefined;
  const { owner, name } = splitFullName(fullName);
  return {
    owner,
    name,
    fullName,
    cloneUrl: str(project.git_http_url) ?? str(project.http_url),
    defaultBranch: str(project.default_branch),
  };
}

export function normaliseGitLab(header: string, payload: Json, deliveryId: string): WebhookEvent {
  // The payload names its kind (object_kind); the header, which nothing signs, must not make it another.
  const kind = gitlabKindElsewhere(header, payload);
  if (kind !== undefined) throw eventMismatch("X-Gitlab-Event", header, `object_kind ${shownText(kind)}`);
  let kindHeader = header;
  if (header === "System Hook") {
    const kind = str(payload.event_name) ?? str(payload.object_kind);
    const mapped = kind === undefined ? undefined : entry(SYSTEM_KINDS, kind);
    if (mapped === undefined) return base(kind ?? "system", payload, deliveryId);
    kindHeader = mapped;
  }
  if (kindHeader === "Push Hook" || kindHeader === "Tag Push Hook") return push(payload, deliveryId);
  if (kindHeader === "Merge Request Hook") return mergeRequest(payload, deliveryId);
  if (kindHeader === "Release Hook") return release(payload, deliveryId);
  const event = gitlabEventName(kindHeader);
  if (event === "pipeline" || event === "job") return ciRun(event, payload, deliveryId);
  return base(event, payload, deliveryId);
}

/** The event hookgate names a GitLab hook's X-Gitlab-Event: "Pipeline Hook" is "pipeline". */
export function gitlabEventName(header: string): string {
  return entry(EVENT_NAMES, header) ?? snakeName(header);
}

function base(event: string, payload: Json, deliveryId: string): WebhookEvent {
  const project = obj(payload.project);
  const attributes = obj(payload.object_attributes);
  const action = str(attributes?.action);
  return {
    provider: "gitlab",
    deliveryId,
    event,
    action: event === "issues" && action !== undefined ? (entry(ISSUE_ACTIONS, action) ?? action) : action,
    // System hooks about a project (project_create, project_rename, ...) carry its path at the top level.
    repo: (project ? gitlabRepo(project) : gitlabRepo(payload)) ?? noRepo(),
    deleted: false,
    actor: str(obj(payload.user)?.username) ?? str(payload.user_username),
    changedFiles: [],
    payload,
  };
}

/**
 * A pipeline (object_attributes) or a job (the top level) names its branch or tag as `ref`, a short name,
 * with `tag` saying which, and its commit as `sha`. A merge request job's ref is
 * refs/merge-requests/<iid>/head (or /merge, /train): no branch, kept as `ref` only. A merge request
 * pipeline's ref is its source branch's short name (pipeline.source_ref, gitlab lib/gitlab/data_builder/
 * pipeline.rb, since GitLab 12.0), which may be a fork's branch: it gets refs/merge-requests/<iid>/head and
 * no branch either, so that branches: [main] does not take a merge request from any branch named main.
 */
function ciRun(event: "pipeline" | "job", payload: Json, deliveryId: string): WebhookEvent {
  const source = event === "pipeline" ? obj(payload.object_attributes) : payload;
  const mergeRequest = obj(payload.merge_request);
  const forMergeRequest =
    event === "pipeline" && (source?.source === "merge_request_event" || mergeRequest !== undefined);
  const iid = int(mergeRequest?.iid);
  const ref = str(source?.ref);
  // Without the merge request's iid, only a ref that is already refs/merge-requests/... (GitLab 11.10) is kept.
  const name = !forMergeRequest
    ? ref
    : iid !== undefined
      ? `refs/merge-requests/${iid}/head`
      : ref?.startsWith("refs/")
        ? ref
        : undefined;
  const parts =
    name === undefined || name.startsWith("refs/")
      ? { ref: name }
      : refFromName(name, source?.tag === true ? "tag" : "branch");
  return {
    ...base(event, payload, deliveryId),
    ref: parts.ref,
    branch: parts.branch,
    tag: parts.tag,
    sha: str(source?.sha),
  };
}

/** A release names its tag and action at the top level, not in object_attributes. */
function release(payload: Json, deliveryId: string): WebhookEvent {
  const tag = refFromName(str(payload.tag), "tag");
  const action = str(payload.action);
  return {
    ...base("release", payload, deliveryId),
    action: action === undefined ? undefined : (entry(RELEASE_ACTIONS, action) ?? action),
    ref: tag.ref,
    tag: tag.tag,
    sha: str(obj(payload.commit)?.id),
  };
}

function push(payload: Json, deliveryId: string): WebhookEvent {
  const project = obj(payload.project);
  const repo = project && gitlabRepo(project);
  if (repo === undefined) throw malformed("the GitLab push payload has no project.path_with_namespace");
  const parts = splitRef(str(payload.ref));
  const after = str(payload.after);
  const deleted = isZeroSha(after);
  const event: Omit<WebhookEvent, "changedFiles"> = {
    provider: "gitlab",
    deliveryId,
    event: "push",
    repo,
    ref: parts.ref,
    branch: parts.branch,
    tag: parts.tag,
    // checkout_sha is the commit even for an annotated tag, whose `after` is the tag object.
    sha: deleted ? undefined : (str(payload.checkout_sha) ?? after),
    before: str(payload.before),
    deleted,
    actor: str(payload.user_username) ?? str(obj(payload.user)?.username) ?? str(payload.user_name),
    payload,
  };
  // GitLab's payload has no `forced`: the commits the push added (total_commits_count) stand in for it.
  if (commitsFastForward(payload, parts.branch, deleted)) event.fastForward = true;
  return withLazyChangedFiles(event);
}

function mergeRequest(payload: Json, deliveryId: string): WebhookEvent {
  const attributes = obj(payload.object_attributes);
  if (attributes === undefined) throw malformed("the GitLab merge request payload has no object_attributes");
  const project = obj(payload.project) ?? obj(attributes.target);
  const repo = project && gitlabRepo(project);
  if (repo === undefined)
    throw malformed("the GitLab merge request payload has no project.path_with_namespace");
  const gitlabAction = str(attributes.action);
  const action =
    gitlabAction === "update"
      ? updateAction(attributes, obj(payload.changes))
      : gitlabAction === undefined
        ? undefined
        : (entry(MR_ACTIONS, gitlabAction) ?? gitlabAction);
  const state = str(attributes.state);
  const baseRef = str(attributes.target_branch) ?? "";
  const headSha = str(obj(attributes.last_commit)?.id) ?? "";
  return {
    provider: "gitlab",
    deliveryId,
    event: "pull_request",
    action,
    repo,
    branch: baseRef || undefined,
    sha: headSha || undefined,
    deleted: false,
    pr: {
      number: int(attributes.iid) ?? 0,
      merged: state === "merged" || gitlabAction === "merge",
      state,
      headRef: str(attributes.source_branch) ?? "",
      baseRef,
      headSha,
      headRepoFullName: str(obj(attributes.source)?.path_with_namespace),
      // A close or a merge touches updated_at; hooks write it as "2026-12-06 01:00:00 UTC" (whole seconds).
      ...timeOf(latestTime(attributes.updated_at)),
    },
    actor: str(obj(payload.user)?.username),
    changedFiles: [],
    payload,
  };
}

/**
 * A title GitLab reads as a draft: its draft prefixes, in any case (lib/gitlab/regex/merge_requests.rb). Not WIP:
 * GitLab 14.8 dropped it (gitlab-org/gitlab!79693), so "WIP: x" is an ordinary title there.
 */
const DRAFT_TITLE = /^\s*(?:draft:|\[draft\]|\(draft\))/i;

/**
 * An "update" is a new commit when oldrev is present; a draft toggled is GitHub's ready_for_review or
 * converted_to_draft; any other update (title, labels...) is edited. GitLab 16.3 and later name the toggle in
 * changes.draft (gitlab-org/gitlab!126899). Before, `draft` was no hook attribute (work_in_progress is computed,
 * never in changes), so a toggle shows only as changes.title gaining or losing its draft prefix.
 */
function updateAction(attributes: Json, changes: Json | undefined): string {
  if (str(attributes.oldrev) !== undefined) return "synchronize";
  const draft = obj(changes?.draft);
  if (draft?.previous === true && draft.current === false) return "ready_for_review";
  if (draft?.previous === false && draft.current === true) return "converted_to_draft";
  const title = obj(changes?.title);
  const previous = str(title?.previous);
  const current = str(title?.current);
  if (draft === undefined && previous !== undefined && current !== undefined) {
    const wasDraft = DRAFT_TITLE.test(previous);
    const isDraft = DRAFT_TITLE.test(current);
    // GitLab's own verdict, when it sends one, must agree: a title edit that leaves the draft state as it was
    // (a prefix GitLab does not read) is no toggle.
    const now = typeof attributes.draft === "boolean" ? attributes.draft : undefined;
    if (wasDraft && !isDraft && now !== true) return "ready_for_review";
    if (!wasDraft && isDraft && now !== false) return "converted_to_draft";
  }
  return "edited";
}
