// The delivery policy shared by the deployed stack and `hookgate serve`.
import type { Provider } from "./types";

/** Attempts before the function dead-letters a failing delivery itself, with its reason (HOOKGATE_MAX_ATTEMPTS). */
export const MAX_ATTEMPTS = 5;
/**
 * Receives the queue's redrive policy allows beyond MAX_ATTEMPTS. A receive can end without the function's
 * answer: Lambda throttled the invocation (the message comes back once its visibility timeout passes), the
 * function failed at init, crashed or timed out, or its own dead-letter send failed. Each still counts towards
 * maxReceiveCount, and with no margin one such receive at the last attempt let SQS move the message with no
 * reason and no `dead` mark (a redelivery was then answered "duplicate"). With the margin the function's own
 * last attempt (any receive from MAX_ATTEMPTS on) still comes after up to this many of them; a message that
 * kills the function every time is moved by SQS after MAX_RECEIVE_COUNT receives.
 */
export const REDRIVE_MARGIN = 3;
/** The route queue's maxReceiveCount (its redrive policy, the crash backstop); serve's local queue's too. */
export const MAX_RECEIVE_COUNT = MAX_ATTEMPTS + REDRIVE_MARGIN;
/**
 * The functions' timeout in seconds (the stack's lambda.timeoutSeconds: its default and range; the work path's
 * actions get this long less the handler's reserve), and serve's --timeout-seconds.
 */
export const LAMBDA_TIMEOUT_SECONDS = { fallback: 120, min: 30, max: 900 } as const;
/**
 * The work invocations each route runs at once (the stack's lambda.workConcurrency, its SQS event source's
 * maximumConcurrency: its default and the range that takes); serve's local queue runs as many per route.
 */
export const WORK_CONCURRENCY = { fallback: 5, min: 2, max: 1_000 } as const;
/** First retry delay; doubles on each attempt, capped at MAX_RETRY_DELAY_MS. */
export const RETRY_BASE_DELAY_MS = 30_000;
export const MAX_RETRY_DELAY_MS = 15 * 60_000;
/** API Gateway REST's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** SQS's largest message (1 MiB): SendMessage's limit, the stack's queues' maxMessageSize. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
/**
 * What a dead letter's attributes may add to its work item, rounded up: SQS counts attribute names, types and
 * values in a message's size, and a letter redriven back to its queue must still fit. The reason is at most
 * DEAD_LETTER_REASON_MAX (1,024) code points, 4 KiB of UTF-8; the route and delivery attributes 256 code points
 * each, 1 KiB each; three names and three "String" types 64 bytes: 6,208 bytes.
 */
export const DEAD_LETTER_ATTRIBUTES_ROOM = 8 * 1024;
/**
 * A work item's JSON, at most: what SQS takes (and Lambda's SQS event source mapping delivers, 1 MB since
 * January 2026) less the room its dead letter's attributes need, so the letter fits the DLQ and can be
 * redriven back to its queue.
 */
export const MAX_WORK_ITEM_BYTES = SQS_MAX_MESSAGE_BYTES - DEAD_LETTER_ATTRIBUTES_ROOM;
/**
 * How long a delivery id is remembered after its item's last change (GitHub redeliveries are possible for 3
 * days; GHES 7): a day longer than a dead letter can wait, 14 days in the DLQ (DLQ_RETENTION_SECONDS) and,
 * redriven on its last day, up to 14 more in its route's queue, so it still reads a later generation's `done`
 * (written after the letter moved) and is skipped, not run a second time.
 */
export const DEDUPE_TTL_SECONDS = 29 * 24 * 3600;
/** How long a dead letter is kept: SQS's longest retention, the deployed DLQ's, and serve's dead-letters/. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
/** A "pending" dedupe claim older than this is considered abandoned (the enqueue never finished). */
export const PENDING_CLAIM_TTL_SECONDS = 60;
/**
 * How long the receive path waits on its dependencies (the secret, the dedupe table, the queue) before it answers
 * 503, per provider: inside the time the Git host waits for an answer, with room for the release of a claim at
 * the deadline (up to 1 s more, deployed) and the way back. GitHub.com, GitLab and Bitbucket wait 10 s: 8 s.
 * Gitea and Forgejo wait 5 s (DELIVER_TIMEOUT) and their Redeliver sends a new X-Gitea-Delivery, which no
 * duplicate check recognises, so an answer they gave up on must be rarer still: 3 s, answered within 4 s.
 */
export const RECEIVE_DEADLINE_MS: Readonly<Record<Provider, number>> = {
  github: 8_000,
  gitlab: 8_000,
  bitbucket: 8_000,
  "bitbucket-server": 8_000,
  gitea: 3_000,
};
/** Secrets are cached in memory for this long. */
export const SECRET_CACHE_TTL_MS = 5 * 60_000;
/** Standard Webhooks timestamp tolerance. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Backoff before attempt `attempt + 1`, honouring a server's Retry-After when larger. */
export function retryDelayMs(attempt: number, retryAfterMs?: number, baseMs = RETRY_BASE_DELAY_MS): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(exponential, retryAfterMs ?? 0));
}
