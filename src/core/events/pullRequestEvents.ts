// Which events reach a route's `merged` filter: those whose normalised delivery has a pull request (`pr`).
import type { Provider } from "../types";

/**
 * GitHub's pull_request actions (docs.github.com, "Webhook events and payloads"; the list github/docs#23909
 * gives). Not KNOWN_PR_ACTIONS: that one also holds the actions other hosts' pull requests are renamed to.
 */
export const GITHUB_PULL_REQUEST_ACTIONS: readonly string[] = [
  "assigned",
  "auto_merge_disabled",
  "auto_merge_enabled",
  "closed",
  "converted_to_draft",
  "demilestoned",
  "dequeued",
  "edited",
  "enqueued",
  "labeled",
  "locked",
  "milestoned",
  "opened",
  "ready_for_review",
  "reopened",
  "review_request_removed",
  "review_requested",
  "synchronize",
  "unassigned",
  "unlabeled",
  "unlocked",
];

/**
 * GitHub's events whose payload has a pull_request object (normaliseGitHubLike sets `pr` for each), with their
 * actions. Only pull_request's pull_request has `merged`: a review's reads not merged, so merged: false
 * lets reviews through and merged: true does not.
 */
export const GITHUB_PULL_REQUEST_EVENTS: Readonly<Record<string, readonly string[]>> = {
  pull_request: GITHUB_PULL_REQUEST_ACTIONS,
  pull_request_review: ["dismissed", "edited", "submitted"],
  pull_request_review_comment: ["created", "deleted", "edited"],
  pull_request_review_thread: ["resolved", "unresolved"],
};

/**
 * The events (as hookgate names them) a `merged` filter lets through on a host, or undefined when not all
 * are known by name: Bitbucket Data Center gives every other pr:* key (pr:comment:added, ...) a pull request.
 * Gitea's review events (X-Gitea-Event pull_request_approved, pull_request_rejected, pull_request_comment)
 * carry Gitea's whole pull request, `merged` included.
 */
export function pullRequestEvents(provider: Provider, merged: boolean): readonly string[] | undefined {
  switch (provider) {
    case "github":
      return merged ? ["pull_request"] : Object.keys(GITHUB_PULL_REQUEST_EVENTS);
    case "gitea":
      return ["pull_request", "pull_request_approved", "pull_request_comment", "pull_request_rejected"];
    case "bitbucket-server":
      return undefined;
    default:
      return ["pull_request"];
  }
}
