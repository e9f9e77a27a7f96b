// The fields of the route functions' JSON lines that the stack's log metric filters match on: one place, so a
// renamed message cannot leave an alarm counting nothing.

/** The `msg` of the line each answered delivery writes (its `status` and `reason` are the answer's). */
export const DELIVERY_MSG = "delivery";
/** The `msg` of the line each attempt at a queued delivery writes (its `outcome` says what came of it). */
export const ATTEMPT_MSG = "attempt";
/** The `outcome` of an attempt that sent its delivery to the dead-letter queue (with the reason). */
export const DEAD_OUTCOME = "dead";
/**
 * A field (`true`) on an attempt line whose record was put back on the queue's last receive: its outcome is
 * "deferred" or "failed", but the queue's redrive policy moves it to the dead-letter queue next, so it counts as
 * dead-lettered.
 */
export const DEAD_LETTERED_FIELD = "deadLettered";
/**
 * A field (`true`) on a delivery line refused by verification whose request carries the Git host's own delivery
 * headers (carriesHostDeliveryHeaders): an unsigned one is then the host's webhook without a secret, not a scan.
 * Only the boolean: never a header's value.
 */
export const FROM_HOST_FIELD = "fromHost";
