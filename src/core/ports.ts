// Ports: what the gateway needs from the outside world. The deployed Lambda plugs in AWS
// implementations (src/aws); `hookgate serve` plugs in local ones (src/cli/local); tests plug in doubles.
import type { WorkItem } from "./types";

export interface SecretStore {
  /**
   * The raw secret strings for `name`: the current version first, then the previous one
   * (AWSPREVIOUS) when it exists. Cached; `refresh` bypasses the cache once.
   * Throws SecretNotFoundError when the secret does not exist, TransientDependencyError when the
   * store cannot be reached or throttles.
   */
  versions(name: string, options?: { refresh?: boolean }): Promise<string[]>;
  /**
   * What `versions` would give right now when it needs no I/O (the values are cached and fresh
   * enough), without waiting; undefined when it would have to fetch or fail. Optional: the receive
   * path then answers a delivery without a turn of the event loop.
   */
  peek?(name: string, options?: { refresh?: boolean }): readonly string[] | undefined;
}

export interface WorkQueue {
  /**
   * Durably enqueue. FIFO: dedupe id = `${deliveryId}:${generation}`, group = repository. `limits`: the receive
   * path's deadline (deployed), after which no try of the send is started.
   */
  send(item: WorkItem, limits?: CallLimits): Promise<void>;
}

/**
 * Limits on one call of the work path's bookkeeping, or of the receive path: past `deadlineMs` (epoch ms) the
 * call is abandoned, as a transient failure, so that it ends before the function is stopped (work) or before the
 * Git host is answered 503 (receive), and no retry of it starts later. Local stores may ignore them.
 */
export interface CallLimits {
  deadlineMs?: number;
}

/** The longest dead letter's reason kept: the SQS queue cuts a longer one to it (its start and end are kept). */
export const DEAD_LETTER_REASON_MAX = 1024;
/**
 * What opens a reason's closing list of the steps done before the failing one (pr-cleanup's): a cut keeps it
 * whole while the reason's start keeps a few hundred characters, as it says what a redrive repeats.
 */
export const STEPS_DONE_MARK = " (after: ";

/**
 * The message attribute a dead letter's reason travels in. A redrive keeps it: a record carrying it is a dead
 * letter sent back, whose earlier attempts may have run the action.
 */
export const DEAD_LETTER_REASON_ATTRIBUTE = "hookgate-reason";

export interface DeadLetterQueue {
  /**
   * Park a work item that failed for good, with a log-safe reason. `messageId` is the queue message that
   * failed: a copy redriven from the dead-letter queue is a new message, and must be parked again.
   */
  send(item: WorkItem, reason: string, messageId?: string, limits?: CallLimits): Promise<void>;
  /**
   * Park a message that is not a readable work item at all (optional; without it the redrive policy does).
   * `messageId`: the queue message it was, one letter per message.
   */
  sendRaw?(body: string, reason: string, messageId?: string): Promise<void>;
  /**
   * Whether this message's letter of this work item (its route, delivery id and generation) is parked already
   * (optional: the deployed DLQ cannot be asked; serve's dead letters can). Asked for a record received before:
   * its earlier receive may have filed the letter and been cut short (serve killed) before the queue deleted the
   * message. Another message of the same generation may have filed one too (an abandoned claim taken over, its
   * redelivery queued past the deduplication window), so a letter is this message's when it names `messageId`
   * (the id `send` was given). One that names no message (filed by an older version) is taken when filed at or
   * after `sentAtMs`, when that message was sent: one filed before is an earlier message's.
   */
  holds?(item: WorkItem, message: { messageId?: string; sentAtMs?: number }): Promise<boolean>;
}

export type DeliveryState = "pending" | "queued" | "done" | "dead";

export type ClaimResult =
  | {
      claimed: true;
      generation: number;
      /**
       * When this delivery id was first claimed (epoch ms), kept by every later generation: a redelivery of
       * a delivery that died is ordered by when the host first sent it (s3-zip's newer-zip check). Absent
       * where the store does not know it (an entry written before it kept one).
       */
      firstClaimedAtMs?: number;
    }
  | { claimed: false; state: DeliveryState; generation: number };

/**
 * Durable memory of delivery ids, per route (DynamoDB with TTL when deployed).
 * A claim succeeds when the id is new, when its last generation died, or when a "pending" claim was
 * abandoned (older than PENDING_CLAIM_TTL_SECONDS). That is how a manual redelivery of a failed
 * delivery is processed while a redelivery of a successful one is a duplicate.
 */
export interface DedupeStore {
  /**
   * `claimToken`: the caller's own, written with its claim (a takeover writes its own, though it keeps the
   * generation), so that a release given it undoes this claim only. The store makes one up without it.
   */
  claim(route: string, deliveryId: string, limits?: CallLimits, claimToken?: string): Promise<ClaimResult>;
  /**
   * Record a state for one generation; an older generation never overwrites a newer one, but for "done"
   * over a newer generation that is "dead" or "pending": the item then reads done, at the newer generation's
   * number (the delivery's action ran, so that generation's dead letter, redriven, or its message is skipped,
   * and a redelivery is a duplicate); not over a "queued" one, whose message runs. "queued" is only written over the claim ("pending"): the work path may have finished (done,
   * dead) before the receive path records that it queued the item, and that outcome must stay.
   */
  mark(
    route: string,
    deliveryId: string,
    generation: number,
    state: DeliveryState,
    limits?: CallLimits,
  ): Promise<void>;
  /**
   * Undo a claim whose enqueue failed, so the host's redelivery is accepted. Best effort. With `claimToken`
   * (the one its claim was given), only while the item still holds that claim: a release landing late leaves a
   * redelivery's takeover of it (same generation) alone. `generation` undefined (with `claimToken`): a claim
   * whose answer the deadline cut, so the caller never learnt its generation; nothing happens without either.
   */
  release(
    route: string,
    deliveryId: string,
    generation: number | undefined,
    limits?: CallLimits,
    claimToken?: string,
  ): Promise<void>;
  /**
   * The recorded state of one delivery (optional). An item past its expiry that the store still holds
   * (DynamoDB deletes it lazily) is read with `expired: true` (a claim takes it as none); a store that drops
   * it at once (the file store) reads none. The work path uses it to skip a message whose generation is
   * already done (after a crash SQS brings back the whole batch, finished records too), or whose delivery a
   * later generation finished (expired or not: the action ran) or has queued (not expired).
   */
  state?(route: string, deliveryId: string): Promise<RecordedState | undefined>;
}

/** A delivery's recorded state; `expired` when its item is past its expiresAt but not yet deleted. */
export interface RecordedState {
  state: DeliveryState;
  generation: number;
  expired?: true;
}

/** One JSON object per line; never pass secrets, tokens, Authorization headers or bodies. */
export type LogFn = (line: Record<string, unknown>) => void;

/** What ObjectStore.head knows of an object: its user metadata, and its ETag when the store gives one. */
export interface ObjectHead {
  metadata: Record<string, string>;
  etag?: string;
}

/**
 * The condition of a write, from what was read at the key: the object with this ETag is still there
 * (If-Match), or still no object is (If-None-Match: *).
 */
export type WriteCondition = { ifMatch: string; ifNoneMatch?: never } | { ifNoneMatch: "*"; ifMatch?: never };

/**
 * Where s3-zip and pr-cleanup put and delete objects. Deployed: S3 through @aws-sdk/lib-storage
 * (src/aws/objectStore.ts); locally: a directory or any S3-compatible endpoint.
 */
export interface ObjectStore {
  /**
   * Stream `body` to bucket/key with a multipart upload; on failure no partial object is left. Past
   * `deadlineMs` (epoch ms: the function's deadline) the upload is abandoned, as a retryable failure.
   */
  put(
    bucket: string,
    key: string,
    body: import("node:stream").Readable,
    options: {
      metadata: Record<string, string>;
      contentType?: string;
      deadlineMs?: number;
      /**
       * Write only if the key still holds what was read: ObjectChangedError (nothing written) otherwise.
       * A store that does not implement conditions throws ConditionalWriteUnsupportedError once.
       */
      condition?: WriteCondition;
      /** x-amz-server-side-encryption (and its KMS key) on the upload; a local store keeps no such thing. */
      encryption?: { serverSideEncryption: import("./types").ServerSideEncryption; kmsKeyId?: string };
    },
  ): Promise<{ versionId?: string }>;
  /**
   * The user metadata of the object at bucket/key (names lower-cased, as S3 gives them) and its ETag
   * (as the store gives it, quotes included), or undefined when there is no object there. Past
   * `deadlineMs` the call is abandoned, as a retryable failure. Any other failure is thrown (a refused
   * read included: it is not taken for an absent object).
   */
  head(bucket: string, key: string, options?: { deadlineMs?: number }): Promise<ObjectHead | undefined>;
  /**
   * Delete every object under `prefix`, page by page; returns how many were deleted. Past `deadlineMs`
   * it stops between pages, as a retryable failure: the next attempt deletes the rest.
   */
  deletePrefix(bucket: string, prefix: string, options?: { deadlineMs?: number }): Promise<number>;
}
