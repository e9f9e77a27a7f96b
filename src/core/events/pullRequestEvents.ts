// GitHub's pull_request actions: what a route's `actions` can name of the pull_request event.

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
