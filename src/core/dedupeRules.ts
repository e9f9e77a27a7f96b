// The conditions the deployed dedupe store writes into DynamoDB (src/aws/dedupe.ts: MARK_CONDITION, release's
// condition), as predicates for the stores that keep their items in memory (tests, hookgate serve's file store).
import type { DeliveryState } from "./ports";

/** What the predicates read of a stored item. */
export interface DedupeEntry {
  state: DeliveryState;
  generation: number;
  /** The claim token of the request whose claim this is (pending). */
  token?: string;
}

/**
 * Whether a mark of `state` for `generation` lands on `entry`: only the current generation's, but an older
 * generation's done lands on a later one that is dead or pending (the action ran: that later generation's dead
 * letter, redriven, or its message is then skipped); queued lands only over pending (the work path got there
 * first otherwise); dead never over done (the action ran: a copy deferred on its last receive must not let a
 * redelivery or a redrive run it again).
 */
export function markLands(entry: DedupeEntry, generation: number, state: DeliveryState): boolean {
  const overLater =
    state === "done" &&
    entry.generation > generation &&
    (entry.state === "dead" || entry.state === "pending");
  if (entry.generation !== generation && !overLater) return false;
  if (state === "dead") return entry.state !== "done";
  return state !== "queued" || entry.state === "pending";
}

/**
 * Whether a release naming `generation` and/or `claimToken` undoes `entry`'s claim: a pending one, of that
 * generation, still held by that token (a takeover keeps the generation but writes its own token). A release
 * naming neither names no claim.
 */
export function releaseLands(
  entry: DedupeEntry,
  generation: number | undefined,
  claimToken: string | undefined,
): boolean {
  if (entry.state !== "pending" || (generation === undefined && claimToken === undefined)) return false;
  if (generation !== undefined && entry.generation !== generation) return false;
  return claimToken === undefined || entry.token === claimToken;
}
