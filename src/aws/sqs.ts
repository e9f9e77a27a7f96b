// The route's FIFO work queue and dead-letter queue on SQS, and the backoff that delays a retry.
import { createHash } from "node:crypto";
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import {
  MessageReceivedAgainError,
  QueueOutcomeUnknownError,
  TransientDependencyError,
} from "../core/errors";
import {
  type CallLimits,
  DEAD_LETTER_REASON_ATTRIBUTE,
  DEAD_LETTER_REASON_MAX,
  type DeadLetterQueue,
  STEPS_DONE_MARK,
  type WorkQueue,
} from "../core/ports";
import type { WorkItem } from "../core/types";
import { NOT_QUEUE_TEXT, workItemJson, workItemTooLarge } from "../gateway/workItem";
import { awsErrorName, describeAwsError, isTransientAwsError, mayHaveBeenApplied } from "./awsErrors";
import { cutShort, untilDeadline } from "./deadline";

/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** Longest value SQS accepts for MessageGroupId and MessageDeduplicationId. */
const MAX_ID_LENGTH = 128;
/** Characters SQS accepts in MessageGroupId and MessageDeduplicationId: printable ASCII, no space. */
const ID_CHARS = /^[\x21-\x7e]+$/;
/** A DLQ reason is for a person reading the console, not an essay. */
const MAX_REASON_LENGTH = DEAD_LETTER_REASON_MAX;
/** The share of a cut reason kept from its end. */
const REASON_TAIL_SHARE = 0.4;

/**
 * The FIFO message group for an item: the repository, so deliveries for one repository run in order
 * while different repositories run in parallel.
 */
export function messageGroupId(item: WorkItem): string {
  const fullName = item.event.repo?.fullName || item.route;
  const cleaned = fullName.replace(/[^\x21-\x7e]/g, "_");
  return cleaned.length <= MAX_ID_LENGTH ? cleaned : sha256(fullName);
}

/** `${deliveryId}:${generation}`, hashed when SQS would not accept it as is. */
export function messageDeduplicationId(item: WorkItem, suffix = ""): string {
  const id = `${item.deliveryId}:${item.generation}${suffix}`;
  return id.length <= MAX_ID_LENGTH && ID_CHARS.test(id) ? id : sha256(id);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function transient(what: string, error: unknown, limits?: CallLimits): Error {
  const cut = cutShort(what, error, limits);
  if (cut) return cut;
  if (isTransientAwsError(error)) {
    return new TransientDependencyError(`${what}: ${describeAwsError(error)}`, { cause: error });
  }
  return new Error(`${what}: ${describeAwsError(error)}`, { cause: error });
}

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** `limits`: the receive path's deadline; no try (nor SDK retry) starts after it, so none lands after the 503. */
  async send(item: WorkItem, limits?: CallLimits): Promise<void> {
    const body = workItemJson(item);
    const tooLarge = workItemTooLarge(body);
    if (tooLarge !== undefined) throw tooLarge;
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: body,
          MessageGroupId: messageGroupId(item),
          MessageDeduplicationId: messageDeduplicationId(item),
        }),
        untilDeadline(limits),
      );
    } catch (error) {
      const failure = transient("SQS SendMessage to the work queue failed", error, limits);
      // An answer lost is not a refusal: SQS may hold the message, and the delivery may run.
      if (mayHaveBeenApplied(error)) throw new QueueOutcomeUnknownError(failure.message, { cause: error });
      throw failure;
    }
  }
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(item: WorkItem, reason: string, messageId?: string, limits?: CallLimits): Promise<void> {
    await this.put(
      workItemJson(item),
      reason,
      messageGroupId(item),
      // Per failed message: SQS drops a second message with the same id for 5 minutes (and says it took
      // it), so a redriven copy that fails again within them would vanish. A retried send of the same
      // message keeps its id, and SQS still drops that duplicate.
      messageDeduplicationId(item, messageId === undefined ? ":dead" : `:dead:${messageId}`),
      {
        "hookgate-route": item.route,
        "hookgate-delivery": item.deliveryId,
      },
      limits,
    );
  }

  async sendRaw(body: string, reason: string, messageId?: string): Promise<void> {
    // Not a work item: its own group, deduplicated per failed message as `send` is (by content alone, a second
    // message with the same body, or a redriven copy failing again, within SQS's 5 minutes would be dropped);
    // by content without a message id. (Parsed before any action runs, it is sent with all of the invocation's
    // time ahead: no deadline.)
    const dedupeId = sha256(messageId === undefined ? body : `raw:dead:${messageId}`);
    await this.put(body, reason, "hookgate-unparsable", dedupeId, {});
  }

  private async put(
    body: string,
    reason: string,
    groupId: string,
    dedupeId: string,
    extra: Record<string, string>,
    limits?: CallLimits,
  ): Promise<void> {
    const attributes: Record<string, { DataType: "String"; StringValue: string }> = {
      [DEAD_LETTER_REASON_ATTRIBUTE]: {
        DataType: "String",
        StringValue: truncate(reason || "unknown", MAX_REASON_LENGTH, REASON_TAIL_SHARE),
      },
    };
    for (const [key, value] of Object.entries(extra)) {
      if (value) attributes[key] = { DataType: "String", StringValue: truncate(value, 256) };
    }
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: body.length > 0 ? body : "(empty)",
          MessageGroupId: groupId,
          MessageDeduplicationId: dedupeId,
          MessageAttributes: attributes,
        }),
        untilDeadline(limits),
      );
    } catch (error) {
      throw transient("SQS SendMessage to the dead-letter queue failed", error, limits);
    }
  }
}

/**
 * An attribute's text: what SQS refuses becomes U+FFFD. `text` in at most `max` characters (code points: no surrogate pair is cut in two). When it must cut, the start
 * is kept, and with `tailShare` also that share of the end, joined by " … ": a reason's end says what matters too
 * (pr-cleanup's "(after: …)", the steps a redrive repeats).
 */
function truncate(text: string, max: number, tailShare = 0): string {
  const clean = text.replace(NOT_QUEUE_TEXT, "\uFFFD");
  if (clean.length <= max) return clean;
  const chars = Array.from(clean);
  if (chars.length <= max) return clean;
  let tail = Math.floor(max * tailShare);
  if (tail === 0) return `${chars.slice(0, max - 1).join("")}…`;
  // A closing list of the steps done is kept whole, when the start keeps a few hundred characters too.
  const mark = clean.lastIndexOf(STEPS_DONE_MARK);
  if (mark >= 0) {
    const stepsDone = Array.from(clean.slice(mark)).length;
    if (stepsDone > tail && stepsDone <= max - STEPS_DONE_MIN_HEAD - JOIN.length) tail = stepsDone;
  }
  return `${chars.slice(0, max - tail - JOIN.length).join("")}${JOIN}${chars.slice(-tail).join("")}`;
}

/** What joins a cut reason's start and end. */
const JOIN = " … ";
/** The least of a cut reason's start kept beside a whole list of steps done: the failing step's own words. */
const STEPS_DONE_MIN_HEAD = 300;

/**
 * SQS's answers to a ChangeMessageVisibility whose receipt handle no longer holds the message: the API
 * reference's ReceiptHandleIsInvalid and MessageNotInflight (or its query code,
 * AWS.SimpleQueueService.MessageNotInflight), and the InvalidParameterValue SQS also answers for the
 * ReceiptHandle parameter ("The receipt handle has expired", "Message does not exist or is not available for
 * visibility timeout change").
 */
function receivedAgain(error: unknown): boolean {
  const name = awsErrorName(error);
  const code = name.slice(name.lastIndexOf(".") + 1);
  if (code === "ReceiptHandleIsInvalid" || code === "MessageNotInflight") return true;
  return code === "InvalidParameterValue" && /\bReceiptHandle\b/.test((error as Error).message ?? "");
}

/**
 * Change a record's visibility to `delayMs` from now (at most 12 hours): a failed record's backoff, or the
 * hold on one about to run. Throws MessageReceivedAgainError when SQS no longer holds the message for this
 * receive.
 */
export function sqsBackoff(client: SQSClient, queueUrl: string) {
  return async (record: SQSRecord, delayMs: number, limits?: CallLimits): Promise<void> => {
    const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
    try {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: seconds,
        }),
        untilDeadline(limits),
      );
    } catch (error) {
      const cut = cutShort("SQS ChangeMessageVisibility failed", error, limits);
      if (cut === undefined && receivedAgain(error)) {
        throw new MessageReceivedAgainError(
          `SQS ChangeMessageVisibility failed: ${describeAwsError(error)}`,
          {
            cause: error,
          },
        );
      }
      throw transient("SQS ChangeMessageVisibility failed", error, limits);
    }
  };
}
