// What the pr-cleanup action decides before its first step, from the request and the event alone. The action
// and `hookgate explain` both ask here, so explain never lists a step the action would refuse.
import { jenkinsJobProblem } from "./jenkinsJob";
import { type KeyScope, keyOutsideScope } from "./keyPrefixes";
import type { PrCleanupStep, QueuedEvent } from "./types";

/** Why pr-cleanup skips the event (its outcome's detail, after "skipped: "); undefined when it acts on it. */
export function prCleanupSkipReason(event: Pick<QueuedEvent, "event" | "action" | "pr">): string | undefined {
  if (event.event !== "pull_request" || !event.pr) return "not a pull request event";
  // Only the closing itself: a later event on a closed PR (a bot's label, an edit) would run every step
  // again, a second teardown build included. Every provider's close, merge and decline is "closed".
  if (event.action !== "closed") return `the pull request was ${event.action ?? "not closed"}`;
  return undefined;
}

/** Why pr-cleanup fails (final) on a closed pull request's event before any call; undefined when it can act. */
export function prCleanupProblem(event: Pick<QueuedEvent, "provider" | "pr">): string | undefined {
  const pr = event.pr;
  if (!pr) return "the pull request event has no valid head sha or number";
  const numbered = Number.isInteger(pr.number) && pr.number > 0;
  // A Gogs pull request (provider gitea) names no head commit: the statuses need one, and so does the
  // branch deletion, which deletes only the commit the pull request was about. Gogs is named only where
  // it can be the sender: another host's event without one is something else.
  if (pr.headSha === "" && numbered) {
    const gogs = event.provider === "gitea" ? " (a Gogs pull request has none)" : "";
    return `the pull request event names no head commit${gogs}: pr-cleanup needs it for its commit statuses and to delete only the commit the pull request was about`;
  }
  if (!/^[0-9a-fA-F]{7,64}$/.test(pr.headSha) || !numbered) {
    return "the pull request event has no valid head sha or number";
  }
  return undefined;
}

/**
 * Why a step cannot run, known before any step: a delete-s3-prefix with an empty prefix (it would empty the
 * bucket) or one the role may not delete under (`scope`: prefixes spelled as match.repos is, s3-zip's check),
 * a jenkins step whose job path no request can reach. Undefined when the step may run.
 */
export function prCleanupStepProblem(
  step: PrCleanupStep,
  scope: KeyScope | undefined,
  hostRepo: string,
): string | undefined {
  switch (step.kind) {
    case "delete-branch":
      return undefined;
    case "jenkins":
      return jenkinsJobProblem(step.request.job);
    case "delete-s3-prefix":
      if (step.prefix === "" || step.prefix === "/" || step.bucket === "") {
        return "delete-s3-prefix needs a bucket and a non-empty prefix";
      }
      return scope && keyOutsideScope(scope, step.bucket, step.prefix, hostRepo, "prefix");
  }
}
