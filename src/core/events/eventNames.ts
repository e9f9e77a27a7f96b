// The provider's own event name (its event header's value) for a GitHub-style name a person types:
// `hookgate send` puts it in the header, `hookgate explain` builds the delivery it explains with it.
import type { Provider } from "../types";
import { entry } from "./fields";

const GITLAB_EVENTS: Readonly<Record<string, string>> = {
  push: "Push Hook",
  tag_push: "Tag Push Hook",
  create: "Tag Push Hook",
  pull_request: "Merge Request Hook",
  merge_request: "Merge Request Hook",
  issues: "Issue Hook",
  issue: "Issue Hook",
  note: "Note Hook",
  issue_comment: "Note Hook",
  pipeline: "Pipeline Hook",
  job: "Job Hook",
  build: "Job Hook",
  deployment: "Deployment Hook",
  wiki_page: "Wiki Page Hook",
  feature_flag: "Feature Flag Hook",
  emoji: "Emoji Hook",
  milestone: "Milestone Hook",
  release: "Release Hook",
  ping: "Push Hook", // GitLab has no ping: its "Test" button sends a Push Hook
};

/**
 * `event` as `provider` names it. A provider's own name ("Merge Request Hook", "repo:push") is kept;
 * Bitbucket pull requests take their key from the payload's state, as Bitbucket picks it.
 */
export function providerEventName(provider: Provider, event: string, payload: unknown): string {
  switch (provider) {
    case "gitlab":
      return event.endsWith(" Hook") ? event : (entry(GITLAB_EVENTS, event) ?? event);
    case "bitbucket":
      return bitbucketEvent(event, payload);
    case "bitbucket-server":
      return bitbucketServerEvent(event, payload);
    case "gitea":
      return entry(GITEA_EVENT_OF_TYPE, event) ?? event;
    default:
      return event;
  }
}

/**
 * Gitea's event header for an event type (HookEventType.Event() in go-gitea modules/webhook/type.go): the
 * types fold into their event, and X-Gitea-Event-Type keeps the type.
 */
export const GITEA_EVENT_OF_TYPE: Readonly<Record<string, string>> = {
  issue_assign: "issues",
  issue_label: "issues",
  issue_milestone: "issues",
  pull_request_assign: "pull_request",
  pull_request_label: "pull_request",
  pull_request_milestone: "pull_request",
  pull_request_sync: "pull_request",
  pull_request_review_request: "pull_request",
  pull_request_comment: "issue_comment",
  pull_request_review_approved: "pull_request_approved",
  pull_request_review_rejected: "pull_request_rejected",
  pull_request_review_comment: "pull_request_comment",
};

/** Bitbucket Cloud's X-Event-Key (a tag push is a repo:push). */
function bitbucketEvent(event: string, payload: unknown): string {
  if (event.includes(":")) return event;
  if (event === "push" || event === "tag_push") return "repo:push";
  if (event === "pull_request") {
    const state = String(
      (payload as { pullrequest?: { state?: unknown } })?.pullrequest?.state ?? "",
    ).toUpperCase();
    if (state === "MERGED") return "pullrequest:fulfilled";
    if (state === "DECLINED" || state === "SUPERSEDED") return "pullrequest:rejected";
    return "pullrequest:created";
  }
  return event;
}

/**
 * Bitbucket Data Center's X-Event-Key (a tag push is a repo:refs_changed). A payload names its own key
 * (eventKey), which the gateway requires the header to be: that is the key for a GitHub-style name.
 */
function bitbucketServerEvent(event: string, payload: unknown): string {
  if (event.includes(":")) return event;
  const eventKey = (payload as { eventKey?: unknown } | null)?.eventKey;
  if (typeof eventKey === "string" && eventKey !== "") return eventKey;
  if (event === "push" || event === "tag_push") return "repo:refs_changed";
  if (event === "ping") return "diagnostics:ping";
  if (event === "pull_request") {
    const state = String(
      (payload as { pullRequest?: { state?: unknown } })?.pullRequest?.state ?? "",
    ).toUpperCase();
    if (state === "MERGED") return "pr:merged";
    if (state === "DECLINED") return "pr:declined";
    return "pr:opened";
  }
  return event;
}
