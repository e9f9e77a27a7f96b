// Which of two s3-zip deliveries to the same key is the newer: the one the gateway accepted later.
// Deliveries of one repository run in order (FIFO, grouped by repository), but a dead letter redriven
// later, after newer pushes were zipped, would otherwise overwrite their zip with its old commit. Pure:
// the action reads the existing object's metadata and asks here.
import type { WriteCondition } from "./ports";

/** The user metadata key (x-amz-meta-accepted-at) that holds when the zip's delivery was accepted. */
export const ACCEPTED_AT_METADATA = "accepted-at";

/** What is known of the object already at the key: its user metadata (sha, accepted-at, ...). */
export type ExistingZip = Readonly<Record<string, string>> | undefined;

/**
 * An accepted-at further ahead of the action's clock than this is not believed: written by a clock far
 * ahead (serve on a machine whose clock is wrong, writing to the real bucket) or by hand, it would make
 * every later push to the key "older" for as long as that time lies ahead.
 */
export const MAX_ACCEPTED_AT_AHEAD_MS = 3600_000;

export type ZipOrderDecision =
  | {
      upload: true;
      /** The object's accepted-at, when it was not believed for lying too far ahead of the clock. */
      futureAcceptedAt?: string;
    }
  | {
      upload: false;
      /** The object's own delivery, accepted later than this one (as its metadata says). */
      newer: { acceptedAt: string; sha?: string; deliveryId?: string };
    };

/**
 * Whether a delivery of commit `sha`, accepted at `acceptedAt` (ISO time), may replace the object at
 * its key. It may unless that object says it comes from a delivery accepted strictly later, of whatever
 * commit: the same time is a retry of the same work (idempotent), but replacing a later delivery's zip of
 * the same commit would put this delivery's earlier time on the key, and an older delivery of another
 * commit, redriven next, would then replace it (the key holds the same commit already). An object without
 * a readable accepted-at (written before hookgate kept one, or by hand), one more than
 * MAX_ACCEPTED_AT_AHEAD_MS ahead of `nowMs`, and a delivery without a readable time give no order: the
 * upload goes ahead, as it always did.
 */
export function zipOrder(
  existing: ExistingZip,
  delivery: { sha: string; acceptedAt: string },
  nowMs: number,
): ZipOrderDecision {
  if (existing === undefined) return { upload: true };
  const theirs = Object.hasOwn(existing, ACCEPTED_AT_METADATA) ? existing[ACCEPTED_AT_METADATA] : undefined;
  const theirMs = parseTime(theirs);
  const ourMs = parseTime(delivery.acceptedAt);
  if (theirMs === undefined || ourMs === undefined || theirMs <= ourMs) return { upload: true };
  if (theirMs - nowMs > MAX_ACCEPTED_AT_AHEAD_MS) return { upload: true, futureAcceptedAt: theirs };
  const sha = Object.hasOwn(existing, "sha") ? existing.sha : undefined;
  const deliveryId = Object.hasOwn(existing, "delivery-id") ? existing["delivery-id"] : undefined;
  return { upload: false, newer: { acceptedAt: theirs as string, sha, deliveryId } };
}

/**
 * The accepted-at value to store for a delivery: its time in the gateway's ISO form, or undefined when
 * the work item's time does not parse (nothing is stored then, and the next delivery is not held back).
 */
export function acceptedAtMetadata(acceptedAt: string): string | undefined {
  const ms = parseTime(acceptedAt);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** An ISO 8601 time with a date, a time and a zone (what isoTime writes), in epoch ms. */
function parseTime(value: string | undefined): number | undefined {
  if (
    value === undefined ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  )
    return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The condition that makes an upload replace only what was read at its key: the zip read, by its ETag
 * (If-Match), or no zip when none was there (If-None-Match: *). Undefined when a zip was read without an
 * ETag (an S3-compatible store that gives none): nothing can be compared, and the upload goes without one.
 */
export function writeCondition(existing: { etag?: string } | undefined): WriteCondition | undefined {
  if (existing === undefined) return { ifNoneMatch: "*" };
  return existing.etag ? { ifMatch: existing.etag } : undefined;
}

/**
 * Whether the object at the key is this delivery's own zip: its metadata names the same delivery id, sha
 * and accepted-at that this delivery writes (`ours`, as it writes them). After an upload reported refused,
 * such an object was written by that very upload (an SDK retry of a request that had succeeded is refused
 * by its own write: 412 for If-None-Match: *, or If-Match on the ETag it replaced) or by another attempt
 * of the same delivery: the same archive of the same commit either way. False when `ours` lacks any of the
 * three (a time that does not parse is not stored, and proves nothing).
 */
export function isOwnZip(existing: ExistingZip, ours: Readonly<Record<string, string>>): boolean {
  if (existing === undefined) return false;
  return ["delivery-id", "sha", ACCEPTED_AT_METADATA].every(
    (name) => Object.hasOwn(ours, name) && Object.hasOwn(existing, name) && existing[name] === ours[name],
  );
}
