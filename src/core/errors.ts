// One error hierarchy. HTTP-facing errors carry a statusCode; action errors say whether a retry can help.
// The handler maps errors to responses in one place (src/gateway).

export class HookgateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HookgateError";
  }
}

/** A request we refuse; `statusCode` is the answer. Messages must not help a forger. */
export class RequestError extends HookgateError {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RequestError";
    this.statusCode = statusCode;
  }
}

/** Our own dependency failed (Secrets Manager, SQS, DynamoDB): answered 503 so the host redelivers. */
export class TransientDependencyError extends HookgateError {
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransientDependencyError";
  }
}

/**
 * A send to the queue whose answer was lost (cut at the deadline, timed out, no HTTP answer, a 5xx, or a try the
 * SDK retried): the queue may hold the message all the same, so the delivery may run. Still a 503.
 */
export class QueueOutcomeUnknownError extends TransientDependencyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "QueueOutcomeUnknownError";
  }
}

/**
 * A work item larger than a queue message may be: the route's templates render too much of the payload
 * (`{{payload.commits}}`). Not transient: every redelivery renders the same.
 */
export class WorkItemTooLargeError extends HookgateError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      `the work item is ${bytes} bytes, more than the ${limit} a work item may take (SQS's 1 MiB, less room for its dead letter's reason)`,
    );
    this.name = "WorkItemTooLargeError";
  }
}

/**
 * The queue gave the message out again (its visibility ran out): this receive's handle no longer holds it,
 * and another receive runs it. Not an action's failure: the record is given up here, not retried from here.
 */
export class MessageReceivedAgainError extends HookgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MessageReceivedAgainError";
  }
}

/** A secret that does not exist or cannot be parsed: a deployment mistake, never retried blindly. */
export class SecretNotFoundError extends HookgateError {
  /** Secrets Manager holds it for deletion (its recovery window): restored, it is back. */
  readonly scheduledForDeletion: boolean;
  constructor(secretName: string, options?: { cause?: unknown; scheduledForDeletion?: boolean }) {
    super(
      options?.scheduledForDeletion
        ? `secret "${secretName}" is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id ${secretName}) to use it again`
        : `secret "${secretName}" was not found or holds no usable value`,
      { cause: options?.cause },
    );
    this.scheduledForDeletion = options?.scheduledForDeletion === true;
    this.name = "SecretNotFoundError";
  }
}

/** An action failed. `retryable` decides between backoff and the dead-letter queue. */
export class ActionError extends HookgateError {
  readonly retryable: boolean;
  /** A server's Retry-After, in milliseconds, when it sent one. */
  readonly retryAfterMs?: number;
  /**
   * The message as it may be shown outside the logs, in a pull request's commit status (public on a public
   * repository): without the private addresses the message names for whoever runs hookgate.
   */
  readonly publicMessage: string;
  constructor(
    message: string,
    options: { retryable: boolean; retryAfterMs?: number; cause?: unknown; publicMessage?: string },
  ) {
    super(message, { cause: options.cause });
    this.name = "ActionError";
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.publicMessage = options.publicMessage ?? message;
  }
}

/** routes.yaml is invalid. `problems` holds every one of them, positioned. */
export class RoutesFileError extends HookgateError {
  readonly problems: readonly import("./types").Problem[];
  constructor(problems: readonly import("./types").Problem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`).join("\n"));
    this.name = "RoutesFileError";
    this.problems = problems;
  }
}

/**
 * A conditional write found the object at its key other than when it was read: another writer put or
 * deleted it in between (S3's 412 PreconditionFailed, or a 404 for If-Match), or wrote at the same
 * moment (409 ConditionalRequestConflict). Nothing was written. Retryable: read the key again and decide again.
 */
export class ObjectChangedError extends ActionError {
  constructor(
    message: string,
    readonly reason: "precondition-failed" | "conflict",
    options: { cause?: unknown } = {},
  ) {
    super(message, { retryable: true, cause: options.cause });
    this.name = "ObjectChangedError";
  }
}

/**
 * The store refused a conditional write as not implemented (an S3-compatible endpoint's 501): the same
 * upload without its condition may go through. Nothing was written. The store writes unconditionally from
 * then on, so this is thrown once per store.
 */
export class ConditionalWriteUnsupportedError extends ActionError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: true, cause: options.cause });
    this.name = "ConditionalWriteUnsupportedError";
  }
}
