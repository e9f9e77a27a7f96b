// Which deliveries the s3-zip action skips, or fails on, before any S3 call. The action and `hookgate explain`
// both ask here, so explain never shows an upload the action would skip or refuse.
import type { WebhookEvent } from "./types";

/** Why s3-zip skips the event (its outcome's detail, after "skipped: "); undefined when it zips it. */
export function s3ZipSkipReason(event: Pick<WebhookEvent, "event" | "deleted" | "sha">): string | undefined {
  // Only a push's sha is a commit of its branch. A pull request's branch is its base and its sha its head,
  // which a fork's author chooses (a merge queue's is a merge not made yet): zipped, it would land at the
  // base branch's key, where CodePipeline deploys from.
  if (event.event !== "push") {
    return `s3-zip zips pushed commits only, and this is a ${event.event.slice(0, 100)} event`;
  }
  if (event.deleted) return "the push deleted its ref";
  if (!event.sha || /^0+$/.test(event.sha)) return "the event carries no commit sha";
  return undefined;
}

/** Why s3-zip fails (final) on a push it does not skip, from its sha alone; undefined when the sha is a commit id. */
export function s3ZipShaProblem(event: Pick<WebhookEvent, "sha">): string | undefined {
  return /^[0-9a-fA-F]{7,64}$/.test(event.sha ?? "") ? undefined : "the event's sha is not a commit id";
}
