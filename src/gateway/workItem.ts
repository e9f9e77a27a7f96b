// The queue message: building it at receive time, reading it back (defensively) at work time.
import { isoTime } from "../core/clock";
import { WorkItemTooLargeError } from "../core/errors";
import { MAX_WORK_ITEM_BYTES } from "../core/policy";
import { toQueuedEvent } from "../core/render";
import type { ActionRequest, Route, WebhookEvent, WorkItem } from "../core/types";

export function buildWorkItem(
  route: Route,
  event: WebhookEvent,
  request: ActionRequest,
  generation: number,
  acceptedAtMs: number,
): WorkItem {
  return {
    v: 1,
    route: route.name,
    deliveryId: event.deliveryId,
    generation,
    acceptedAt: isoTime(acceptedAtMs),
    event: toQueuedEvent(event),
    request,
  };
}

/**
 * What SQS refuses in a message body or a String attribute: anything outside XML 1.0's characters
 * (#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF). SendMessage's reference says it
 * rejects them (InvalidMessageContents) or, in its newer wording, replaces them with U+FFFD.
 */
export const NOT_QUEUE_TEXT = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * The item as the queue message body, for SQS and serve's queue alike (so both measure the same size).
 * JSON.stringify escapes control characters and lone surrogates but leaves U+FFFE and U+FFFF (a branch
 * name, a rendered parameter) as they are: those are written as \u escapes too, which parse back to the
 * same item.
 */
export function workItemJson(item: WorkItem): string {
  return JSON.stringify(item).replace(
    NOT_QUEUE_TEXT,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * The refusal of a queue message body over what a message may hold, or undefined when it fits: SQS, serve's
 * queue and `hookgate explain` all ask here, so explain says which deliveries the gateway answers 500.
 */
export function workItemTooLarge(body: string): WorkItemTooLargeError | undefined {
  const bytes = Buffer.byteLength(body, "utf8");
  return bytes > MAX_WORK_ITEM_BYTES ? new WorkItemTooLargeError(bytes, MAX_WORK_ITEM_BYTES) : undefined;
}

const ACTION_TYPES = new Set(["jenkins", "s3-zip", "pr-cleanup"]);

/**
 * Reads a queue message body back into a WorkItem. Throws an Error whose message says what is
 * wrong (log-safe: it never quotes the body) when the message is not one.
 */
export function parseWorkItem(body: string): WorkItem {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error("message body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("message body is not a JSON object");
  }
  const item = value as Record<string, unknown>;
  if (item.v !== 1) throw new Error(`unsupported work item version ${JSON.stringify(item.v)?.slice(0, 20)}`);
  if (typeof item.route !== "string" || item.route.length === 0) throw new Error("work item has no route");
  if (typeof item.deliveryId !== "string" || item.deliveryId.length === 0) {
    throw new Error("work item has no deliveryId");
  }
  if (typeof item.generation !== "number" || !Number.isInteger(item.generation) || item.generation < 1) {
    throw new Error("work item has no valid generation");
  }
  if (typeof item.acceptedAt !== "string") throw new Error("work item has no acceptedAt");
  const event = item.event as Record<string, unknown> | null;
  if (typeof event !== "object" || event === null || typeof event.repo !== "object" || event.repo === null) {
    throw new Error("work item has no event");
  }
  const request = item.request as Record<string, unknown> | null;
  if (typeof request !== "object" || request === null || !ACTION_TYPES.has(String(request.type))) {
    throw new Error("work item has no known action request");
  }
  return value as WorkItem;
}
