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

/**
 * The pull request actions (after each host's renaming) at which a Jenkins route with `branches` and no
 * `events` or `actions` builds a pull request: those that bring code to build (GitLab's open, reopen and update
 * with oldrev, marked ready; Bitbucket's pullrequest:created and :updated; Data Center's pr:opened and
 * pr:from_ref_updated; Gitea's synchronized), as GitHub Actions' default opened, synchronize, reopened, with
 * ready_for_review. Not a label, an assignment, an edit or a close (a merge is built by its push).
 */
export const NEW_CODE_PULL_REQUEST_ACTIONS: readonly string[] = [
  "opened",
  "synchronize",
  "reopened",
  "ready_for_review",
];

/** A merge queue group's action to build at: checks_requested (destroyed comes once the group is gone). */
export const NEW_CODE_MERGE_GROUP_ACTION = "checks_requested";
