// The route Lambda: ONE function per route with two entry shapes.
//   receive: an API Gateway REST proxy event (the Git host's POST) -> verify, match, enqueue, answer.
//   work:    an SQS event from the route's FIFO queue -> run the action, retry or dead-letter.
// Every error is mapped to a response or a batch result here, in one place.
import { randomUUID } from "node:crypto";
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  SQSBatchItemFailure,
  SQSBatchResponse,
  SQSEvent,
  SQSRecord,
} from "aws-lambda";
import { decodeBody } from "../core/decode";
import {
  ActionError,
  MessageReceivedAgainError,
  QueueOutcomeUnknownError,
  RequestError,
  SecretNotFoundError,
  TransientDependencyError,
  WorkItemTooLargeError,
} from "../core/errors";
import { carriesHostDeliveryHeaders, deliveryIdOf, eventName } from "../core/events/headers";
import { isPing, normaliseDelivery } from "../core/events/normalise";
import { contentTypeOf, headerBag, severalValues } from "../core/headers";
import {
  ATTEMPT_MSG,
  DEAD_LETTERED_FIELD,
  DEAD_OUTCOME,
  DELIVERY_MSG,
  FROM_HOST_FIELD,
} from "../core/logLines";
import { compileMatcher, decideChanges } from "../core/match";
import {
  MAX_ATTEMPTS,
  MAX_BODY_BYTES,
  MAX_RECEIVE_COUNT,
  PENDING_CLAIM_TTL_SECONDS,
  RECEIVE_DEADLINE_MS,
  retryDelayMs,
} from "../core/policy";
import {
  type CallLimits,
  type ClaimResult,
  DEAD_LETTER_REASON_ATTRIBUTE,
  type DeadLetterQueue,
  type DedupeStore,
  type DeliveryState,
  type LogFn,
  type RecordedState,
  type SecretStore,
  type WorkQueue,
} from "../core/ports";
import { renderRequest } from "../core/render";
import { parseSecretShape, SECRET_MISSING_MSG, SECRET_UNUSABLE_MSG } from "../core/secretValues";
import type { ActionOutcome, ActionRequest, HeaderBag, Route, WebhookEvent, WorkItem } from "../core/types";
import { type VerifyResult, verifyDelivery } from "../core/verify";
import { buildWorkItem, parseWorkItem } from "./workItem";

export interface RouteHandlerDeps {
  route: Route;
  secrets: SecretStore;
  queue: WorkQueue;
  deadLetters: DeadLetterQueue;
  dedupe: DedupeStore;
  /**
   * `deadlineMs`: when the action's calls must have ended (the invocation's deadline, less a margin).
   * `lastAttempt`: a retryable failure of this attempt is dead-lettered, not retried (maxAttempts).
   * `attempt`: the message's receive count, given past the first (a jenkins action then looks for an earlier build).
   * `mayHaveRun`: on a first receive, an earlier attempt may have run the action all the same (a redriven dead
   * letter, a redelivery of a delivery that died): a jenkins action looks then too.
   */
  runAction(
    item: WorkItem,
    limits?: { deadlineMs?: number; lastAttempt?: boolean; attempt?: number; mayHaveRun?: boolean },
  ): Promise<ActionOutcome>;
  log: LogFn;
  /** Attempts before a retryable failure is dead-lettered; default MAX_ATTEMPTS. */
  maxAttempts?: number;
  /**
   * The receive after which the queue parks a message itself, with no reason (the redrive policy's
   * maxReceiveCount; serve's queue: its maxAttempts + REDRIVE_MARGIN). Default MAX_RECEIVE_COUNT, the stack's.
   */
  maxReceiveCount?: number;
  /** The first retry delay, doubled on each attempt; default RETRY_BASE_DELAY_MS. */
  retryBaseDelayMs?: number;
  /** Delay the record's next delivery (deployed: ChangeMessageVisibility), ending by `limits.deadlineMs`. */
  backoff?(record: SQSRecord, delayMs: number, limits?: CallLimits): Promise<void>;
  /**
   * Keep the record from being received again for `holdMs` from now (deployed: ChangeMessageVisibility),
   * ending by `limits.deadlineMs`; throws MessageReceivedAgainError when the queue already gave it out again.
   * Asked before each action, with an invocation. None (hookgate serve): the queue gives a message out once.
   */
  holdRecord?(record: SQSRecord, holdMs: number, limits?: CallLimits): Promise<void>;
  now?(): number;
  /**
   * Answer 503 when the receive path is still waiting on a dependency by then (default: the route's provider's
   * RECEIVE_DEADLINE_MS, inside the time its Git host waits); the clock starts when it starts waiting.
   */
  receiveTimeoutMs?: number;
  /**
   * The stores are local files (hookgate serve): their calls are awaited to the end, never given up at the
   * deadline, since a write given up on could still land (a dead letter filed while its record is reported
   * failed comes back and runs its action again). The action still gets its deadline.
   */
  awaitStoresToTheEnd?: boolean;
  /** WORK_RESERVE_MS and MIN_ACTION_MS by default; tests shorten them so an attempt's time can run out quickly. */
  workReserveMs?: number;
  minActionMs?: number;
}

export interface RouteHandler {
  receive(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  /** The receive path for in-process callers (hookgate serve): no proxy event, no JSON round trip. */
  deliver(request: InboundDelivery): Promise<ReceiveAnswer>;
  work(event: SQSEvent, invocation?: Invocation): Promise<SQSBatchResponse>;
  /** The work path for in-process callers (hookgate serve): `work`'s answer, with each record's outcome. */
  workRecords(event: SQSEvent, invocation?: Invocation): Promise<WorkReport>;
  /** Dispatch on the event's shape: SQS records go to `work`, anything else to `receive`. */
  handle(
    event: APIGatewayProxyEvent | SQSEvent,
    invocation?: Invocation,
  ): Promise<APIGatewayProxyResult | SQSBatchResponse>;
}

/** The outcomes of a record that name no other generation. */
export const PLAIN_OUTCOMES = ["done", "skipped", "retry", "failed", "dead", "deferred"] as const;

/**
 * What the work path did with one record: the `outcome` its attempt line names, with the generation that
 * stands in for a record it did not run (`supersededBy`; `doneAt` when the dedupe item reads done at a later
 * generation than the record's).
 */
export type RecordOutcome =
  | { outcome: (typeof PLAIN_OUTCOMES)[number] }
  | { outcome: "already-done"; doneAt?: number }
  | { outcome: "superseded"; supersededBy: number };

/** What `workRecords` answers: the batch response `work` gives, and the outcome of each record by its messageId. */
export interface WorkReport {
  batchItemFailures: SQSBatchItemFailure[];
  records: Array<RecordOutcome & { messageId: string }>;
}

/** The invocation the work runs in (deployed: from the Lambda context). */
export interface Invocation {
  /** Milliseconds left before the function is stopped. */
  remainingMs(): number;
}

/**
 * Of the invocation's time, what the work path keeps for itself after the action's calls: the dead-letter
 * send, the visibility change, the dedupe mark and the log lines. Those calls are cut to fit it whatever SQS
 * or DynamoDB does (one left to the clients' settings takes up to 2 tries of 3 s): each ends by its share of
 * the time left before the function is stopped, less ANSWER_MARGIN_MS.
 */
export const WORK_RESERVE_MS = 5_000;
/** Of the invocation's last moments, what the work path keeps for its log lines and its batch answer. */
export const ANSWER_MARGIN_MS = 1_000;
/** A call that goes on past its deadline (its store ignores it) is given up on this long after it. */
const DEADLINE_GRACE_MS = 250;
/** A record is not started with less time than this left for its action: it is retried at once instead. */
export const MIN_ACTION_MS = 10_000;
/** Why a record with less than MIN_ACTION_MS for its action is put back unrun. */
const NO_TIME_TO_START = "too little of the invocation's time left to start it";

/** Whether an action due to end by `deadlineMs` has too little time to start (MIN_ACTION_MS by default). */
function tooLittleTime(deadlineMs: number | undefined, minActionMs: number): boolean {
  return deadlineMs !== undefined && deadlineMs - Date.now() < minActionMs;
}
/**
 * A record about to run is held invisible this long past the invocation's end: Lambda may start an invocation
 * late in the queue's visibility timeout (it retries a throttled one until then), and a message visible again
 * mid-action would run twice at once. The margin covers the event source mapping's delete after the answer;
 * a crashed invocation's record comes back this long after the function is stopped.
 */
export const HOLD_MARGIN_MS = 30_000;

/** The JSON body of every answer (DESIGN.md, "The HTTP contract"). */
export interface ReceiveBody {
  status: "queued" | "ignored" | "pong" | "duplicate" | "rejected" | "unavailable" | "error";
  route: string;
  delivery: string | null;
  reason?: string;
}

/** A delivery as the receive path reads it, from an API Gateway proxy event or straight from node:http. */
export interface InboundDelivery {
  /** The <route> of the request's /hooks/<route> path, decoded; undefined when the path has none. */
  routeName: string | undefined;
  method: string;
  headers: HeaderBag;
  /** The exact bytes sent; a function when decoding them can fail and must wait its turn (413). */
  body: Buffer | (() => Buffer);
  /** The connection's address, never a header a client can set. */
  sourceIp: string | undefined;
}

/** What `deliver` answers: the HTTP status, headers, and the JSON body as an object. */
export interface ReceiveAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: ReceiveBody;
}

/** What one delivery's log line says; filled in as the receive path gets further. */
interface DeliveryLog {
  deliveryId?: string;
  event?: string;
  action?: string;
  repository?: string;
  ref?: string;
  decision?: string;
  reason?: string;
  via?: string;
  generation?: number;
  error?: string;
  /** Why a rejection happened, beyond the reason the caller is told (logged, never answered). */
  detail?: string;
  /** Refused by verification, with the Git host's own delivery headers (logged as FROM_HOST_FIELD). */
  fromHost?: true;
  /** Queued, but the queued mark failed: the claim stays pending (not logged; the late line's reason says it). */
  queuedMarkFailed?: true;
  /** When the receive path's calls must end (epoch ms): its 503's deadline. Undefined for serve's stores. */
  deadlineMs?: number;
  /** The request was answered 503 at the deadline: what still runs must not queue it (not logged). */
  timedOut?: true;
  /** The claim taken and not yet known queued or released (not logged). */
  held?: { deliveryId: string; generation: number; claimToken: string };
  /** The release of `held`, once started (not logged). */
  releasing?: Promise<void>;
  /** The send failed with its answer lost: the queue may hold the item (not logged). */
  sendOutcomeUnknown?: true;
  /** The claim was released at the deadline's 503, its send still under way (not logged). */
  releasedAtTimeout?: true;
  /** The claim under way with a deadline: settles once it has ended, and ended released if cut (not logged). */
  claiming?: Promise<void>;
  /** A push's several ref changes, each queued on its own: one sent does not make the delivery queued (not logged). */
  severalChanges?: true;
  /** The delivery's 202 once its send has reached the queue, its queued mark maybe still under way (not logged). */
  queued?: Answer;
}

/** A finished answer: what accept returns, or what a helper throws to end the pipeline early. */
class Answer {
  constructor(
    readonly statusCode: number,
    readonly status: ReceiveBody["status"],
    readonly reason?: string,
    readonly decision?: string,
  ) {}
}

const HOOK_PATH = /\/hooks\/([^/]+)\/?$/;
/** How long the release of a claim whose send failed may take, past the receive deadline if need be. */
const RELEASE_MS = 1_000;

interface DeadlineEntry {
  at: number;
  /** Answers the request with TIMED_OUT; undefined once the request finished (or timed out). */
  expire: ((answer: Answer) => void) | undefined;
}

/** What a delivery answered 503 at the deadline ends with when it stopped short of queuing (its late line). */
const NOT_QUEUED_AFTER_TIMEOUT = new Answer(
  503,
  "unavailable",
  "not queued after the timeout's 503: its redelivery is accepted",
  "timeout",
);

const TIMED_OUT = new Answer(
  503,
  "unavailable",
  "timed out waiting for a dependency; redeliver later",
  "timeout",
);

/**
 * A gitea route's 503 at the deadline when what was under way may still queue the delivery: Gitea shows this body in
 * the delivery's history, and its Redeliver sends a new delivery id, so "redeliver later" could run the action twice.
 */
const TIMED_OUT_MAYBE_QUEUED = new Answer(
  503,
  "unavailable",
  "timed out; it may have been queued: check the route's log before redelivering (Gitea's Redeliver is a new delivery)",
  "timeout",
);

/**
 * A send whose answer was lost (QueueOutcomeUnknownError): the queue may hold the item, and it will run. On every
 * route "redeliver later" would be untrue; on a gitea route its Redeliver, a new delivery id, would run it twice.
 */
const SEND_OUTCOME_UNKNOWN = new Answer(
  503,
  "unavailable",
  "the queue's answer was lost; it may have been queued: check the route's log before redelivering",
  "unavailable",
);
const SEND_OUTCOME_UNKNOWN_GITEA = new Answer(
  503,
  "unavailable",
  `${SEND_OUTCOME_UNKNOWN.reason} (Gitea's Redeliver is a new delivery)`,
  "unavailable",
);

/**
 * Whatever a dependency does, the Git host gets an answer in time. A step still running keeps
 * going in the background: if it enqueues after all, the delivery is processed and a redelivery
 * is a duplicate; if not, its pending claim expires and a redelivery is accepted.
 *
 * One timer serves every request in flight: all deadlines are `ms` after their start, so they expire
 * in arrival order and the timer only ever waits for the oldest unfinished one (no timer, and no
 * Promise.race, per request). Times are monotonic: the wall clock set back (NTP, a laptop waking up)
 * would otherwise hold every request in flight for as long as it went back.
 */
class Deadlines {
  private readonly waiting: DeadlineEntry[] = [];
  private head = 0;
  private open = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  run(work: Promise<Answer>): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const entry: DeadlineEntry = { at: performance.now() + this.ms, expire: resolve };
      this.waiting.push(entry);
      if (this.open++ === 0 && this.timer !== undefined) this.timer.ref();
      if (this.timer === undefined) this.arm(entry.at);
      work.then(
        (answer) => {
          this.settle(entry);
          resolve(answer);
        },
        (error) => {
          this.settle(entry);
          reject(error);
        },
      );
    });
  }

  private settle(entry: DeadlineEntry): void {
    if (entry.expire === undefined) return; // it timed out already
    entry.expire = undefined;
    // Nothing left in flight: the timer may stay (its time is never later than a new request's
    // deadline) but must not keep the process alive.
    if (--this.open === 0) this.timer?.unref();
    // Drop the finished entries at the front now, not when the timer fires: under load the list then
    // holds about the requests in flight, and a finished request's entry dies young instead of being
    // kept (and promoted to the old generation) for the whole timeout.
    while (this.head < this.waiting.length && (this.waiting[this.head] as DeadlineEntry).expire === undefined)
      this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - performance.now()));
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.waiting.length) {
      const entry = this.waiting[this.head] as DeadlineEntry;
      if (entry.expire !== undefined) {
        if (entry.at > now) break;
        const expire = entry.expire;
        entry.expire = undefined;
        this.open--;
        expire(TIMED_OUT);
      }
      this.head++;
    }
    this.compact();
    const next = this.waiting[this.head];
    if (next !== undefined) this.arm(next.at);
  }
}

export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return Array.isArray(records);
}

/**
 * Whether a delivery's recorded state says the action ran for a record of `generation`: done at that generation
 * or a later one (a later generation's done, or an older generation's landed on it; see supersededBy).
 */
export function actionRan(
  recorded: { state: DeliveryState; generation: number } | undefined,
  generation: number,
): boolean {
  return recorded?.state === "done" && recorded.generation >= generation;
}

/**
 * A late line's advice for a delivery that will run, on a host whose Redeliver sends a new delivery id (Gitea's
 * X-Gitea-Delivery): whatever this id's claim says, a redelivery would be queued again.
 */
const NEW_ID_ON_REDELIVER_ADVICE =
  "do not redeliver it: Gitea's Redeliver sends a new delivery id, which is queued again";

export function createRouteHandler(deps: RouteHandlerDeps): RouteHandler {
  const { route, log } = deps;
  const matcher = compileMatcher(route);
  const now = deps.now ?? Date.now;
  const maxAttempts = deps.maxAttempts ?? MAX_ATTEMPTS;
  const maxReceiveCount = deps.maxReceiveCount ?? MAX_RECEIVE_COUNT;
  /** The last secret versions seen and the values they hold (a route has one webhook secret). */
  let parsedSecret: ParsedSecret | undefined;
  const receiveTimeoutMs = deps.receiveTimeoutMs ?? RECEIVE_DEADLINE_MS[route.provider];
  const workReserveMs = deps.workReserveMs ?? WORK_RESERVE_MS;
  const minActionMs = deps.minActionMs ?? MIN_ACTION_MS;
  const deadlines = new Deadlines(receiveTimeoutMs);
  /** Gitea and Forgejo redeliver under a new delivery id (ReplayHookTask): the dedupe table cannot match it. */
  const newIdOnRedeliver = route.provider === "gitea";

  // ---------------------------------------------------------------------------------------------
  // receive
  // ---------------------------------------------------------------------------------------------

  async function receive(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const answer = await deliver({
      routeName: routeNameOf(event),
      method: event.httpMethod ?? "",
      headers: headerBag(event.headers, event.multiValueHeaders),
      body: () => rawBody(event),
      sourceIp: event.requestContext?.identity?.sourceIp || undefined,
    });
    return { statusCode: answer.statusCode, headers: answer.headers, body: JSON.stringify(answer.body) };
  }

  /**
   * The receive path. Until it has to wait for a dependency (a secret not cached, the dedupe store,
   * the queue) it runs synchronously: a rejected or ignored delivery is answered without a turn of the
   * event loop. Only the waiting is bounded by the deadline; what runs before it cannot be interrupted.
   */
  function deliver(request: InboundDelivery): Promise<ReceiveAnswer> {
    const line: DeliveryLog = {};
    // Deployed, the claim and the send end by the deadline: the SDK starts no try after it (an instance frozen
    // after its 503 and thawed minutes later would otherwise land them on a delivery its redelivery has run).
    if (!deps.awaitStoresToTheEnd) line.deadlineMs = Date.now() + receiveTimeoutMs;
    let outcome: Answer | Promise<Answer>;
    try {
      outcome = accept(request, line);
    } catch (error) {
      outcome = answerFor(error, line);
    }
    if (outcome instanceof Answer) return Promise.resolve(respond(outcome, line));
    const waiting = outcome;
    return deadlines.run(waiting).then(
      (answer) => {
        if (answer !== TIMED_OUT) return respond(answer, line);
        // Sent: it will run, whatever its queued mark does. A 503 would have the host redeliver it (Gitea's Redeliver
        // under a new id, queued again), so it is answered queued, and the mark is not waited for.
        if (line.queued !== undefined) {
          const answered = respond(line.queued, line);
          followMark(waiting, line);
          return answered;
        }
        line.timedOut = true;
        const cut = line.deadlineMs !== undefined;
        // What may still queue it: a send under way (it may land), or anything under serve, whose stores are waited
        // for to the end. Deployed, what has not reached the send queues nothing after the 503 (enqueue refuses it; a
        // claim that comes back is released).
        // A send that failed with its answer lost may be queued too: its claim is being released (line.held is cleared).
        const mayBeQueued = line.held !== undefined || line.sendOutcomeUnknown === true || !cut;
        const timedOutAnswer = newIdOnRedeliver && mayBeQueued ? TIMED_OUT_MAYBE_QUEUED : answer;
        // A claim whose send has not ended is released before the 503 (for at most RELEASE_MS): a redelivery
        // right after it (Bitbucket Cloud resends a 5xx twice, at once) takes it over as the same generation,
        // with the same SQS deduplication id, instead of being answered 503 (in progress) for 60 s. Only with a
        // deadline: serve's local send is never cut and still lands, so a takeover would queue it twice.
        if (cut && line.held !== undefined) line.releasedAtTimeout = true;
        // A claim under way is waited for (its answer is cut at the deadline too): one DynamoDB applied all the
        // same is released by its token before the 503, as one whose send is under way.
        const releasing = cut ? (releaseHeld(line) ?? claimSettled(line)) : undefined;
        const timedOut = () => {
          const answered = respond(timedOutAnswer, line);
          followLate(waiting, line);
          return answered;
        };
        return releasing === undefined ? timedOut() : releasing.then(timedOut);
      },
      (error: unknown) => respond(answerFor(error, line), line),
    );
  }

  /** The end of the claim under way (and of its release), waited for RELEASE_MS at most; else undefined. */
  function claimSettled(line: DeliveryLog): Promise<void> | undefined {
    const claiming = line.claiming;
    if (claiming === undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, RELEASE_MS);
    });
    return Promise.race([claiming, bound]).finally(() => clearTimeout(timer));
  }

  /** Releases the claim `line` holds, once (the send's failure and the deadline may both ask). */
  function releaseHeld(line: DeliveryLog): Promise<void> | undefined {
    const held = line.held;
    if (held === undefined) return line.releasing;
    line.held = undefined;
    line.releasing = releaseClaim(held.deliveryId, held.generation, held.claimToken, line);
    return line.releasing;
  }

  /** A delivery answered 202 at the deadline, its queued mark under way: a line if that mark fails after all. */
  function followMark(waiting: Promise<Answer>, line: DeliveryLog): void {
    const marked = () => {
      if (!line.queuedMarkFailed) return;
      safeLog({
        ...deliveryFields(line.queued as Answer, line),
        level: "warn",
        late: true,
        reason: `queued and answered 202 at the deadline, but marking it queued failed: it will run; ${
          newIdOnRedeliver
            ? NEW_ID_ON_REDELIVER_ADVICE
            : "a redelivery is answered 503 (in progress) until its work records its outcome or its claim expires"
        }`,
      });
    };
    waiting.then(marked, marked);
  }

  /**
   * A delivery answered 503 at the deadline goes on in the background: when it ends, a second delivery line
   * (`late: true`, the status answered) says what became of it, so that its 503 line is not the last word:
   * queued after all (a redelivery is a duplicate), or not (an enqueue that failed released its claim).
   */
  function followLate(waiting: Promise<Answer>, line: DeliveryLog): void {
    waiting.then(
      (answer) => lateLine(answer, line),
      (error: unknown) => lateLine(answerFor(error, line), line),
    );
  }

  function lateLine(answer: Answer, line: DeliveryLog): void {
    const fields = deliveryFields(answer, line);
    fields.status = TIMED_OUT.statusCode;
    fields.late = true;
    if (answer.statusCode === 202) {
      fields.reason = newIdOnRedeliver
        ? `queued after the timeout's 503: it will run; ${NEW_ID_ON_REDELIVER_ADVICE}`
        : line.releasedAtTimeout
          ? line.queuedMarkFailed
            ? // Released at the 503 and never marked: a redelivery takes it over, with the same deduplication id.
              "queued after the timeout's 503, but marking it queued failed: it will run; its claim was released at the 503, so a redelivery is accepted again as this generation, which runs once"
            : "queued after the timeout's 503: it will run, and its redelivery is answered duplicate"
          : line.queuedMarkFailed
            ? // The claim stays pending (enqueue's catch): a redelivery is read as another request's, in progress.
              `queued after the timeout's 503, but marking it queued failed: it will run; a redelivery is answered 503 (in progress) until its work records its outcome (done: duplicate; dead: accepted as the next generation) or its claim is ${PENDING_CLAIM_TTL_SECONDS} s old (then accepted again as this generation, which runs once)`
            : "queued after the timeout's 503: it will run, and its redelivery is answered duplicate";
    }
    try {
      log(fields);
    } catch {
      // A broken log sink must not turn an answer into a failure.
    }
  }

  /** The answer to an error thrown on the receive path. */
  function answerFor(error: unknown, line: DeliveryLog): Answer {
    if (error instanceof Answer) return error;
    if (error instanceof TransientDependencyError) {
      line.error = error.message;
      return new Answer(
        error.statusCode,
        "unavailable",
        "a dependency is unavailable; redeliver later",
        "unavailable",
      );
    }
    if (error instanceof RequestError && error.statusCode >= 400 && error.statusCode < 500) {
      return new Answer(error.statusCode, "rejected", error.message, "rejected");
    }
    line.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new Answer(500, "error", "internal error", "error");
  }

  /** The delivery's log line, and the answer for the caller. */
  function respond(answer: Answer, line: DeliveryLog): ReceiveAnswer {
    const body: ReceiveBody =
      answer.reason === undefined
        ? { status: answer.status, route: route.name, delivery: line.deliveryId ?? null }
        : {
            status: answer.status,
            route: route.name,
            delivery: line.deliveryId ?? null,
            reason: answer.reason,
          };
    try {
      log(deliveryFields(answer, line));
    } catch {
      // A broken log sink must not turn an answer into a failure.
    }
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (answer.statusCode === 405) headers.allow = "POST";
    if (answer.statusCode === 503) headers["retry-after"] = "30";
    return { statusCode: answer.statusCode, headers, body };
  }

  /** The delivery's log line, built without undefined fields (what safeLog would strip), in one go. */
  function deliveryFields(answer: Answer, line: DeliveryLog): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      msg: DELIVERY_MSG,
      route: route.name,
      deliveryId: line.deliveryId ?? null,
      event: line.event ?? null,
    };
    if (line.action !== undefined) fields.action = line.action;
    fields.repository = line.repository ?? null;
    fields.ref = line.ref ?? null;
    fields.decision = line.decision ?? answer.decision ?? answer.status;
    // The answer's reason says why it was not queued (duplicate, in progress, unavailable); a 202's is the match.
    fields.reason = answer.reason ?? line.reason ?? null;
    fields.status = answer.statusCode;
    if (line.via !== undefined) fields.via = line.via;
    if (line.generation !== undefined) fields.generation = line.generation;
    if (line.error !== undefined) fields.error = line.error;
    if (line.detail !== undefined) fields.detail = line.detail;
    if (line.fromHost) fields[FROM_HOST_FIELD] = true;
    fields.level = answer.statusCode >= 500 ? "error" : answer.statusCode >= 400 ? "warn" : "info";
    return fields;
  }

  function accept(request: InboundDelivery, line: DeliveryLog): Answer | Promise<Answer> {
    if (request.routeName !== route.name) {
      return new Answer(404, "rejected", "unknown route", "unknown-route");
    }
    if (request.method.toUpperCase() !== "POST") {
      return new Answer(405, "rejected", "only POST is accepted", "method-not-allowed");
    }

    const body = typeof request.body === "function" ? request.body() : request.body;
    if (body.length > MAX_BODY_BYTES) {
      return new Answer(413, "rejected", `body larger than ${MAX_BODY_BYTES} bytes`, "too-large");
    }
    line.deliveryId = peekDeliveryId(request.headers, body);
    // Until the delivery is verified, its log line says only what its event header claims.
    line.event = claimedEvent(route.provider, request.headers);

    // 2. verify, over the raw bytes, with every current and previous secret value.
    const cached = knownSecretVersions(false);
    if (cached === undefined) {
      return secretVersions(false).then((fetched) => verifyAndMatch(request, body, line, fetched));
    }
    return verifyAndMatch(request, body, line, cached);
  }

  function verifyAndMatch(
    request: InboundDelivery,
    body: Buffer,
    line: DeliveryLog,
    cached: ParsedSecret,
  ): Answer | Promise<Answer> {
    const verdict = verifyWith(request, body, cached);
    if (!verdict.ok && verdict.retryWithFreshSecret && route.secret) {
      // The secret may have rotated (or been filled in) since it was cached: fetch it once more, then decide.
      // (No named closure here: tsx, which runs serve, wraps each one in a per-request __name call.)
      const fresh = knownSecretVersions(true);
      if (fresh === undefined) {
        return secretVersions(true).then((fetched) =>
          matchVerified(request, body, line, verifyAgain(request, body, verdict, cached, fetched)),
        );
      }
      return matchVerified(request, body, line, verifyAgain(request, body, verdict, cached, fresh));
    }
    return matchVerified(request, body, line, verdict);
  }

  /**
   * The verdict with the refreshed secret. When the store handed back the very same versions (its
   * refresh is rate-limited), verifying again would give the same answer: skip it.
   */
  function verifyAgain(
    request: InboundDelivery,
    body: Buffer,
    verdict: VerifyResult,
    cached: ParsedSecret,
    fresh: ParsedSecret,
  ): VerifyResult {
    return sameStrings(fresh.raw, cached.raw) ? verdict : verifyWith(request, body, fresh);
  }

  function matchVerified(
    request: InboundDelivery,
    body: Buffer,
    line: DeliveryLog,
    verdict: VerifyResult,
  ): Answer | Promise<Answer> {
    if (!verdict.ok) {
      line.reason = verdict.reason;
      if (verdict.detail !== undefined) line.detail = verdict.detail;
      // An unsigned delivery from the host itself (its webhook lost its secret) is told from a scan by this.
      if (carriesHostDeliveryHeaders(route.provider, request.headers)) line.fromHost = true;
      return new Answer(verdict.status, "rejected", verdict.reason, "rejected");
    }
    line.via = verdict.via;

    // 3-4. decode and normalise, only now that the sender is known.
    const headers = request.headers;
    // Read as the verifier read it (a gitea route has already refused different values).
    const contentType = contentTypeOf(headers);
    if (contentType === null) throw new RequestError(400, severalValues("content-type"));
    const payload = decodeBody(body, contentType);
    const event = normaliseDelivery(route.provider, headers, payload, body);
    describe(line, event);

    if (isPing(event)) return new Answer(200, "pong", undefined, "pong");

    // 5. match: a filtered-out delivery is a 200 with a reason, never a 4xx.
    if (event.otherChanges !== undefined) return acceptChanges(event, line);
    const decision = matcher(event);
    if (!decision.matched) return new Answer(200, "ignored", decision.reason, "ignored");
    line.reason = decision.reason;
    return enqueue(event, renderRequest(route, event), decision.reason, line);
  }

  /**
   * A push that changed several refs: each change the route matches is enqueued as a delivery of its
   * own (`<id>#<n>`), in the push's order. 202 when each was queued (or already was); a redelivery after a
   * 503 queues only what is still missing, the rest being duplicates. A change that fails does not stop the
   * others (but the deadline's 503 does): its redelivery may be stopped at it again (in progress, while its
   * claim is pending), and would then never reach a later change that nothing else queues.
   */
  async function acceptChanges(event: WebhookEvent, line: DeliveryLog): Promise<Answer> {
    const decision = decideChanges(matcher, event);
    if (decision.matched.length === 0) return new Answer(200, "ignored", decision.reason, "ignored");
    line.reason = decision.reason;
    // Rendered first: a change that cannot be rendered must not leave the others half queued.
    const changes = decision.matched.map((change) => ({ change, rendered: renderRequest(route, change) }));
    if (changes.length > 1) line.severalChanges = true;
    let queued = false;
    let duplicate: Answer | undefined;
    /** The first change that failed, as the delivery's line names it. */
    let failed: { answer: Answer; ref?: string; error?: string; generation?: number } | undefined;
    /** The first error of a change that did not fail (a queued mark that failed), for a 202's line. */
    let firstError: string | undefined;
    for (const { change, rendered } of changes) {
      let answer: Answer;
      // Each change's own (its line's); a claim that fails leaves the generation unknown.
      line.generation = undefined;
      line.error = undefined;
      try {
        answer = await enqueue(change, rendered, decision.reason, line);
      } catch (error) {
        // A claim that failed: a 503 for this change alone.
        answer = answerFor(error, line);
      }
      const error = line.error;
      // The delivery's line names the push; each change it queued (or failed on) gets a line of its own, with
      // its own error: the delivery's line has one change's only.
      safeLog({
        msg: "change",
        level: answer.statusCode >= 500 ? "error" : "info",
        route: route.name,
        deliveryId: change.deliveryId,
        ref: change.ref ?? null,
        decision: answer.decision,
        status: answer.statusCode,
        generation: line.generation,
        error,
      });
      if (answer.statusCode === 202) queued = true;
      else if (answer.status === "duplicate") duplicate ??= answer;
      else {
        failed ??= { answer, ref: change.ref, error, generation: line.generation };
        // Answered 503 at the deadline (or about to be): the rest is not claimed nor sent.
        if (line.timedOut || (line.deadlineMs !== undefined && Date.now() >= line.deadlineMs)) break;
      }
      firstError ??= error;
    }
    if (failed !== undefined) {
      line.ref = failed.ref;
      line.error = failed.error;
      line.generation = failed.generation;
      return failed.answer;
    }
    line.error = firstError;
    if (!queued && duplicate !== undefined) return duplicate;
    return new Answer(202, "queued", decision.reason, "queued");
  }

  /** 6. enqueue, at most once per delivery id (per generation). */
  async function enqueue(
    event: WebhookEvent,
    rendered: ActionRequest,
    reason: string,
    line: DeliveryLog,
  ): Promise<Answer> {
    const limits = line.deadlineMs === undefined ? undefined : { deadlineMs: line.deadlineMs };
    // Answered 503 already (a push's next change): the host redelivers it.
    if (line.timedOut && limits) return NOT_QUEUED_AFTER_TIMEOUT;
    // This request's own: its release then cannot undo a redelivery's takeover of the claim (same generation).
    const claimToken = randomUUID();
    let claimEnded = () => {};
    if (limits) {
      line.claiming = new Promise<void>((resolve) => {
        claimEnded = resolve;
      });
    }
    let claim: ClaimResult;
    try {
      claim = await deps.dedupe.claim(route.name, event.deliveryId, limits, claimToken);
    } catch (error) {
      // Failed, or cut short at the deadline: DynamoDB may have applied it all the same (only its answer was lost,
      // as when both of the SDK's tries time out, at about 6 s), and it would stay pending for 60 s, every
      // immediate resend answered 503 (in progress). Its generation is unknown: released by its token alone,
      // which names this claim only, while it is pending; no send has started. Deployed only: serve's claims
      // are in memory and fail without applying.
      if (limits !== undefined) {
        await releaseClaim(event.deliveryId, undefined, claimToken, line);
      }
      claimEnded();
      throw error;
    }
    if (claim.claimed && line.timedOut && limits) {
      // Claimed after the 503 (a store that went on past the deadline): queuing now could run a delivery that
      // its redelivery has run meanwhile. Let the redelivery take the claim over instead.
      await releaseClaim(event.deliveryId, claim.generation, claimToken, line);
      claimEnded();
      line.generation = claim.generation;
      return NOT_QUEUED_AFTER_TIMEOUT;
    }
    claimEnded();
    if (!claim.claimed) {
      line.generation = claim.generation;
      if (claim.state === "pending") {
        // Another request claimed this id moments ago and has not enqueued it yet. It may still
        // fail (or its function may have died), so "duplicate" could lose the delivery: answer 503
        // and let the host redeliver. A redelivery after it was queued is a plain duplicate.
        return new Answer(
          503,
          "unavailable",
          "this delivery is being accepted by another request; redeliver it if it does not show as accepted",
          "in-progress",
        );
      }
      return new Answer(200, "duplicate", `this delivery was already accepted (${claim.state})`, "duplicate");
    }
    line.generation = claim.generation;
    // A redelivery of a delivery that died keeps the time it was first accepted (s3-zip orders by it).
    const item = buildWorkItem(route, event, rendered, claim.generation, claim.firstClaimedAtMs ?? now());
    line.held = { deliveryId: event.deliveryId, generation: claim.generation, claimToken };
    try {
      await deps.queue.send(item, limits);
    } catch (error) {
      line.error = error instanceof Error ? error.message : String(error);
      // Noted before the release is awaited: a deadline 503 meanwhile must not tell Gitea to redeliver.
      const outcomeUnknown = error instanceof QueueOutcomeUnknownError;
      if (outcomeUnknown) line.sendOutcomeUnknown = true;
      // Released even when the queue may hold it, as at the deadline's 503: a redelivery under the same id takes it
      // over as the same generation, with the same SQS deduplication id (dropped by SQS if this send landed).
      await releaseHeld(line);
      line.releasing = undefined;
      if (error instanceof WorkItemTooLargeError) {
        // Every redelivery renders the same: a 503 would invite retries that cannot succeed.
        const reason = `${error.message}: the route's templates render too much of the payload; render less, then redeliver`;
        return new Answer(500, "error", reason, "error");
      }
      if (outcomeUnknown) return newIdOnRedeliver ? SEND_OUTCOME_UNKNOWN_GITEA : SEND_OUTCOME_UNKNOWN;
      return new Answer(503, "unavailable", "could not enqueue the delivery; redeliver later", "unavailable");
    }
    line.held = undefined;
    const queued = new Answer(202, "queued", reason, "queued");
    if (!line.severalChanges) line.queued = queued;
    try {
      await deps.dedupe.mark(route.name, event.deliveryId, claim.generation, "queued");
    } catch (error) {
      // The item is durably queued, so the delivery is ours: answer 202. The claim stays "pending":
      // a redelivery meanwhile is answered 503 (in progress), and once the claim has expired it is
      // queued again (at least once).
      line.error = `marking the delivery queued failed: ${(error as Error)?.message ?? error}`;
      line.queuedMarkFailed = true;
    }
    return queued;
  }

  /**
   * Makes a claim that queued nothing abandoned, so a redelivery takes it over as the same generation. Best
   * effort, and bounded: its own short time, since it may run at or after the receive deadline.
   */
  async function releaseClaim(
    deliveryId: string,
    generation: number | undefined,
    claimToken: string,
    line: DeliveryLog,
  ): Promise<void> {
    try {
      await withinDeadline(line.deadlineMs === undefined ? undefined : Date.now() + RELEASE_MS, (limits) =>
        deps.dedupe.release(route.name, deliveryId, generation, limits, claimToken),
      );
    } catch (releaseError) {
      const why = (releaseError as Error)?.message ?? String(releaseError);
      line.error =
        line.error === undefined
          ? `releasing the claim failed: ${why}`
          : `${line.error}; releasing the claim failed too: ${why}`;
    }
  }

  function verifyWith(request: InboundDelivery, body: Buffer, secret: ParsedSecret) {
    return verifyDelivery({
      provider: route.provider,
      headers: request.headers,
      body,
      secrets: secret.values,
      currentSecrets: secret.current,
      sourceIp: request.sourceIp,
      auth: route.auth,
      nowMs: now(),
    });
  }

  /** The secret's versions and the values they hold, fetched (or read from the store's cache). */
  async function secretVersions(refresh: boolean): Promise<ParsedSecret> {
    if (!route.secret) return NO_SECRETS;
    let raw: string[];
    try {
      raw = await deps.secrets.versions(route.secret, refresh ? { refresh: true } : undefined);
    } catch (error) {
      if (error instanceof SecretNotFoundError) {
        safeLog({
          msg: SECRET_MISSING_MSG,
          level: "error",
          route: route.name,
          secret: route.secret,
          error: error.message,
        });
        throw new Answer(401, "rejected", "signature cannot be verified", "rejected");
      }
      throw error;
    }
    return parseVersions(raw, refresh);
  }

  /** The secret's versions when the store has them at hand (no waiting); undefined when they must be fetched. */
  function knownSecretVersions(refresh: boolean): ParsedSecret | undefined {
    if (!route.secret) return NO_SECRETS;
    const raw = deps.secrets.peek?.(route.secret, refresh ? { refresh: true } : undefined);
    return raw === undefined ? undefined : parseVersions(raw, refresh);
  }

  /** The values the versions hold; parsed once per set of versions. */
  function parseVersions(raw: readonly string[], refresh: boolean): ParsedSecret {
    let parsed = parsedSecret;
    const same = parsed !== undefined && sameStrings(raw, parsed.raw);
    if (parsed === undefined || !same) {
      const shapes = raw.map((version) => parseSecretShape(version));
      // The store returns the current version (AWSCURRENT) first.
      parsed = {
        raw: [...raw],
        values: shapes.flatMap((shape) => shape.values),
        current: [...(shapes[0]?.values ?? [])],
      };
      parsedSecret = parsed;
      const keyCounts = shapes.flatMap((shape) =>
        shape.unreadKeyCount === undefined ? [] : [shape.unreadKeyCount],
      );
      if (keyCounts.length > 0) {
        // Once per set of versions, not per delivery. How many keys, never their text (a secret pasted into
        // the console's Key box is one) nor a value.
        safeLog({
          msg: "webhook secret is a JSON object without a field hookgate reads: its whole text is the secret",
          level: "warn",
          route: route.name,
          secret: route.secret,
          // The number of keys of each version written so, current first.
          keyCounts,
          hint: 'store the value alone, or as {"secret": "..."}; a key/value secret of one pair also works',
        });
      }
    }
    // A refresh that found the same versions: this delivery's first read has already said so.
    if (parsed.values.length === 0 && !(refresh && same)) {
      // Blank, [] or {"secret": ""}: like a missing secret, every delivery gets 401 until it is fixed.
      safeLog({
        msg: SECRET_UNUSABLE_MSG,
        level: "error",
        route: route.name,
        secret: route.secret,
      });
    }
    return parsed;
  }

  function peekDeliveryId(headers: HeaderBag, body: Buffer): string | undefined {
    try {
      const id = deliveryIdOf(route.provider, headers, body);
      return typeof id === "string" && id.length > 0 ? id.slice(0, 200) : undefined;
    } catch {
      return undefined;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // work
  // ---------------------------------------------------------------------------------------------

  /** `backoff: false`: the record is not this receive's any more, so its visibility is not changed. */
  type RecordResult =
    | { ok: true; outcome: RecordOutcome }
    | { ok: false; delayMs: number; outcome: RecordOutcome; backoff?: false };

  /** The batch response, exactly as workRecords answers it (the outcomes are serve's, not Lambda's). */
  async function work(event: SQSEvent, invocation?: Invocation): Promise<SQSBatchResponse> {
    const { batchItemFailures } = await workRecords(event, invocation);
    return { batchItemFailures };
  }

  async function workRecords(event: SQSEvent, invocation?: Invocation): Promise<WorkReport> {
    const batchItemFailures: SQSBatchItemFailure[] = [];
    const records: WorkReport["records"] = [];
    // Past the function's timeout Lambda kills the batch: nothing is reported, no reason is recorded.
    const deadlineMs = invocation ? Date.now() + invocation.remainingMs() - workReserveMs : undefined;
    /**
     * When a call after the action must end: its share of the time left before the function is stopped, less
     * ANSWER_MARGIN_MS; `calls` is how many calls may still follow, this one included. Read from the
     * invocation at the time of the call. Undefined without an invocation (a caller that gives none): no deadline.
     */
    const callDeadline = (calls: number): number | undefined => {
      if (!invocation) return undefined;
      const left = invocation.remainingMs() - ANSWER_MARGIN_MS;
      return Date.now() + Math.max(0, Math.floor(left / calls));
    };
    // FIFO: once a record of a group fails, the later records of that group must not run before it.
    const failedGroups = new Map<string, number>();
    let outOfTime = false;
    for (const record of event.Records) {
      const group = record.attributes?.MessageGroupId;
      const attempt = attemptOf(record);
      outOfTime ||= tooLittleTime(deadlineMs, minActionMs);
      const blockedDelay = group === undefined ? undefined : failedGroups.get(group);
      // Out of time: this one and every later one (order is kept) come back at once, not attempted.
      // Behind a failed record of its group: it waits as long as that one.
      const deferral = outOfTime
        ? { delayMs: 0, detail: NO_TIME_TO_START }
        : blockedDelay !== undefined
          ? { delayMs: blockedDelay, detail: "an earlier message of the same group failed" }
          : undefined;
      if (deferral !== undefined) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        await markDeadOnLastReceive(record, attempt, callDeadline);
        safeLog({
          msg: ATTEMPT_MSG,
          route: route.name,
          messageId: record.messageId,
          attempt,
          outcome: "deferred",
          detail: deferral.detail,
          ...parkedOnLastReceive("deferred", attempt),
        });
        records.push({ messageId: record.messageId, outcome: "deferred" });
        await delay(record, deferral.delayMs, callDeadline(1));
        continue;
      }
      let result: RecordResult;
      try {
        result = await processRecord(record, attempt, deadlineMs, callDeadline, invocation);
      } catch (error) {
        // Anything unexpected (even in logging) fails this record only; SQS brings it back.
        const delayMs = retryDelayMs(attempt, undefined, deps.retryBaseDelayMs);
        safeLog({
          msg: ATTEMPT_MSG,
          level: "error",
          route: route.name,
          messageId: record.messageId,
          attempt,
          outcome: "failed",
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          ...parkedOnLastReceive("failed", attempt),
        });
        result = { ok: false, delayMs, outcome: { outcome: "failed" } };
      }
      records.push({ messageId: record.messageId, ...result.outcome });
      if (!result.ok) {
        batchItemFailures.push({ itemIdentifier: record.messageId });
        if (group !== undefined) failedGroups.set(group, result.delayMs);
        // Every failure comes back after its retry delay, a failed dead-letter send's too: not after the
        // hold (the invocation's time and HOLD_MARGIN_MS) or the queue's visibility timeout (6 × the function's
        // timeout), which only a failed backoff leaves.
        if (result.backoff !== false) await delay(record, result.delayMs, callDeadline(1));
      }
    }
    return { batchItemFailures, records };
  }

  async function processRecord(
    record: SQSRecord,
    attempt: number,
    deadlineMs: number | undefined,
    callDeadline: (calls: number) => number | undefined,
    invocation: Invocation | undefined,
  ): Promise<RecordResult> {
    let item: WorkItem;
    try {
      item = parseWorkItem(record.body);
      if (item.route !== route.name) throw new Error(`work item is for route "${item.route}"`);
    } catch (error) {
      const reason = `unreadable work item: ${(error as Error).message}`;
      if (!deps.deadLetters.sendRaw) {
        // Without a raw dead-letter channel the redrive policy (maxReceiveCount) parks it.
        attemptLog({ messageId: record.messageId, attempt, outcome: "failed", error: reason });
        return {
          ok: false,
          delayMs: retryDelayMs(attempt, undefined, deps.retryBaseDelayMs),
          outcome: { outcome: "failed" },
        };
      }
      try {
        await deps.deadLetters.sendRaw(record.body, reason, record.messageId);
      } catch (dlqError) {
        attemptLog({
          messageId: record.messageId,
          attempt,
          outcome: "failed",
          error: `${reason}; dead-lettering failed: ${(dlqError as Error).message}`,
        });
        return {
          ok: false,
          delayMs: retryDelayMs(attempt, undefined, deps.retryBaseDelayMs),
          outcome: { outcome: "failed" },
        };
      }
      attemptLog({ messageId: record.messageId, attempt, outcome: DEAD_OUTCOME, error: reason });
      return { ok: true, outcome: { outcome: "dead" } };
    }

    // What the delivery was, on every attempt line: its outcome is read without the delivery line.
    const base = {
      deliveryId: item.deliveryId,
      event: item.event.action ? `${item.event.event}.${item.event.action}` : item.event.event,
      repository: item.event.repo.fullName,
      ref: item.event.ref ?? null,
      generation: item.generation,
      messageId: record.messageId,
      attempt,
    };
    const recorded = await recordedState(item);
    const later = supersededBy(item, recorded);
    if (later?.state === "done") {
      // A crash made SQS bring back a record that had finished, or a dead letter was redriven after the Git
      // host's redelivery of it finished as a later generation, or an earlier generation's dead letter,
      // redriven, ran the action before this record (its done mark lands on this generation's dead or pending
      // one: see DedupeStore.mark): do not run its action twice. The item tells only that the action ran, not
      // which generation ran it: an older generation's done lands on a later dead or pending one (this
      // record's own, too).
      const detail =
        later.generation === item.generation
          ? "the delivery's action already ran, in this generation or an earlier one's redriven letter"
          : `the delivery's action already ran (its dedupe item reads done at generation ${later.generation})`;
      const done: RecordOutcome =
        later.generation === item.generation
          ? { outcome: "already-done" }
          : { outcome: "already-done", doneAt: later.generation };
      attemptLog({ ...base, ...done, detail });
      return { ok: true, outcome: done };
    }
    if (later !== undefined) {
      // A dead letter redriven (or an older generation SQS brought back) while the Git host's redelivery of its
      // delivery, a later generation, waits in the queue: that one runs the action (see supersededBy).
      const superseded: RecordOutcome = { outcome: "superseded", supersededBy: later.generation };
      attemptLog({
        ...base,
        ...superseded,
        detail: `generation ${later.generation} of this delivery is queued and runs the action; should it be in the dead-letter queue, redrive it`,
      });
      return { ok: true, outcome: superseded };
    }
    if (attempt > 1 && (await letterFiled(item, record))) {
      // An earlier receive filed its dead letter and was cut short (serve killed) before the queue deleted the
      // message. Its dedupe item reads dead, as it does after a last attempt cut short in its action, which runs
      // again: only the letter tells them apart. Dead, not run again, nor filed a second time.
      await markQuietly(item, "dead", callDeadline);
      attemptLog({
        ...base,
        outcome: DEAD_OUTCOME,
        detail:
          "its dead letter was filed by an earlier receive, cut short before the message was deleted: not run again",
      });
      return { ok: true, outcome: { outcome: "dead" } };
    }
    const receivedAgain = await holdWhileRunning(record, invocation, deadlineMs);
    if (receivedAgain !== undefined) {
      // Another receive of the message runs it: running it here too would run the action twice at once, and
      // its repository's later messages beside it. Reported failed, so the event source mapping deletes nothing.
      // On the queue's last receive (the hold is deployed only: maxReceiveCount) no receive follows: the queue
      // moves it to the DLQ with no word from us, so it is marked dead, as a last attempt is before its action,
      // or the Git host's redelivery would be answered "duplicate" while the mark lives.
      await markDeadOnLastReceive(record, attempt, callDeadline, item);
      attemptLog({
        ...base,
        level: "warn",
        outcome: "deferred",
        error: receivedAgain,
        detail: "the queue gave the message out again before its action started here: not run here",
      });
      return { ok: false, delayMs: 0, backoff: false, outcome: { outcome: "deferred" } };
    }
    const putBackUnrun = async (): Promise<RecordResult> => {
      await markDeadOnLastReceive(record, attempt, callDeadline, item);
      attemptLog({
        ...base,
        outcome: "deferred",
        detail: NO_TIME_TO_START,
      });
      return { ok: false, delayMs: 0, outcome: { outcome: "deferred" } };
    };
    // The hold (or the dedupe read before it) took the time the action needed: it comes back at once, as a
    // record not started for want of time does, rather than starting with too little to finish.
    if (tooLittleTime(deadlineMs, minActionMs)) return putBackUnrun();
    // A first receive whose delivery an earlier attempt may have run: a dead letter redriven (SQS gives it a new
    // message and receive count; the function's own letter keeps its reason attribute, and the delivery reads dead,
    // as its last attempt marks it before its action), or the Git host's redelivery of a delivery that died.
    const mayHaveRun =
      attempt <= 1 &&
      (item.generation > 1 ||
        recorded?.state === "dead" ||
        record.messageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE] !== undefined);
    const lastAttempt = attempt >= maxAttempts;
    if (lastAttempt) {
      // The queue's last receive of it (maxReceiveCount): should the function die or time out now, the redrive
      // policy moves it to the DLQ with no word from us, and a "queued" mark would answer the Git host's
      // redelivery "duplicate" for as long as the mark lives. Marked dead first, as what we dead-letter
      // ourselves is, so that redelivery is accepted again; success below marks it done. Ended in time to leave
      // the action MIN_ACTION_MS (a slow DynamoDB would take it), and checked after: a store may overrun its deadline.
      await markQuietly(item, "dead", () =>
        deadlineMs === undefined ? undefined : deadlineMs - minActionMs,
      );
      if (tooLittleTime(deadlineMs, minActionMs)) return putBackUnrun();
    }
    let outcome: ActionOutcome;
    try {
      outcome = await deps.runAction(
        item,
        deadlineMs === undefined && !lastAttempt && attempt <= 1 && !mayHaveRun
          ? undefined
          : {
              deadlineMs,
              lastAttempt,
              ...(attempt > 1 ? { attempt } : {}),
              ...(mayHaveRun ? { mayHaveRun: true } : {}),
            },
      );
    } catch (error) {
      const failure = classify(error);
      if (failure.retryable && attempt < maxAttempts) {
        const delayMs = retryDelayMs(attempt, failure.retryAfterMs, deps.retryBaseDelayMs);
        attemptLog({ ...base, outcome: "retry", error: failure.message, retryInMs: delayMs });
        return { ok: false, delayMs, outcome: { outcome: "retry" } };
      }
      // Final errors go straight to the DLQ without burning retries; the queue's redrive policy
      // (maxReceiveCount) is only the backstop for crashes.
      // `attempt` is the queue's receive count, which counts receives that never reached the function too
      // (Lambda throttled it, its init failed, it died): the reason says receives, not attempts.
      const reason = failure.retryable
        ? `gave up after ${attempt} receives: ${failure.message}`
        : `final: ${failure.message}`;
      try {
        // Followed by one more call: the dead mark, or the backoff should the send fail.
        await withinDeadline(callDeadline(2), (limits) =>
          deps.deadLetters.send(item, reason, record.messageId, limits),
        );
      } catch (dlqError) {
        attemptLog({
          ...base,
          outcome: "failed",
          error: `${reason}; dead-lettering failed: ${(dlqError as Error).message}`,
        });
        return {
          ok: false,
          delayMs: retryDelayMs(attempt, undefined, deps.retryBaseDelayMs),
          outcome: { outcome: "failed" },
        };
      }
      attemptLog({ ...base, outcome: DEAD_OUTCOME, error: reason });
      await markQuietly(item, "dead", callDeadline);
      return { ok: true, outcome: { outcome: "dead" } };
    }
    attemptLog({ ...base, outcome: outcome.status, detail: outcome.detail });
    if (lastAttempt) {
      // Marked dead above: should the done mark fail, the delivery stays dead, and the Git host's redelivery of
      // it is accepted and runs the action again. Tried twice within the reserve, then said loudly.
      await markQuietly(item, "done", callDeadline, {
        tries: 2,
        ifNot:
          "the delivery may read dead though its last attempt succeeded (its done mark is not stored): a redelivery of it by the Git host may run the action again",
      });
    } else {
      await markQuietly(item, "done", callDeadline);
    }
    return { ok: true, outcome: { outcome: outcome.status } };
  }

  /**
   * The generation of the record's delivery that stands in for this record, which then does not run: one that
   * finished (`done`), this generation or a later one (a later generation is claimed only after this one died,
   * and its `done` means the delivery's action ran: this record is a dead letter redriven after a
   * redelivery); or a later one still `queued`, whose message holds a newer rendering of the same delivery.
   *
   * Why a later `queued` generation may stand in: its message is in the queue (in the same message group, the
   * repository's, so it runs before or after this record, never beside it; should it fail, it dead-letters
   * itself, marks `dead`, and can be redriven), or it has left the queue without its mark: its action ran and the
   * `done` mark failed, or it went to the dead-letter queue (the function's dead mark failed, or the redrive
   * policy moved it, with the receives that never reached the function), where it stays as long as this one's
   * dead letter would: every way out of the queue runs the action or leaves a copy to redrive, and the skip's
   * line names the generation to look for. A `queued` past its item's expiresAt (the store's state() says
   * `expired`) is too old to say where that message is, and decides nothing; a `done` past it decides all the
   * same: the action ran.
   * Not `pending`: that claim's enqueue may have failed (released), or may never have finished, and nothing
   * else may hold the delivery: this record runs, and its `done` mark lands on that pending generation (keeping
   * its number), so that generation's message, should its send have reached the queue, is skipped as finished,
   * and its receive path's `queued` mark and release change nothing. Not `dead`: the later generation did not
   * run the action, and this record is what was redriven: it runs, and its `done` mark lands on that dead
   * generation (keeping its number), so that generation's own dead letter, redriven after it, is skipped as
   * finished.
   * An earlier generation is never one: the store reads an earlier generation than one it gave out only after
   * its item expired and was deleted (DEDUPE_TTL_SECONDS) and the delivery was accepted anew from generation 1; this
   * record was accepted too, and runs.
   */
  function supersededBy(
    item: WorkItem,
    recorded: RecordedState | undefined,
  ): { state: "done" | "queued"; generation: number } | undefined {
    if (recorded === undefined) return undefined;
    const { state, generation, expired } = recorded;
    // A done past its expiry is still true (the action ran); a queued one is too old to say where its message is.
    if (actionRan(recorded, item.generation)) return { state: "done", generation };
    if (state === "queued" && generation > item.generation && !expired) return { state, generation };
    return undefined;
  }

  /**
   * Whether the dead letters hold the item's letter that the record's message filed (by its messageId; one an
   * older version filed names none: filed since the message was sent); false when they cannot tell (then it runs).
   */
  async function letterFiled(item: WorkItem, record: SQSRecord): Promise<boolean> {
    const holds = deps.deadLetters.holds;
    if (!holds) return false;
    const sentAt = Number.parseInt(record.attributes?.SentTimestamp ?? "", 10);
    try {
      return await holds.call(deps.deadLetters, item, {
        messageId: record.messageId,
        ...(Number.isFinite(sentAt) ? { sentAtMs: sentAt } : {}),
      });
    } catch {
      return false;
    }
  }

  /** What the dedupe store records for the record's delivery; undefined when unknown (then it runs). */
  async function recordedState(item: WorkItem): Promise<RecordedState | undefined> {
    if (!deps.dedupe.state) return undefined;
    try {
      return await deps.dedupe.state(route.name, item.deliveryId);
    } catch {
      return undefined; // Unknown: run it; the actions are idempotent.
    }
  }

  /**
   * Records an outcome; a failure is logged, not thrown. `deadline` gives each try its deadline (its argument:
   * how many tries may still follow, this one included); `tries`: how many; `ifNot`: what a failure of every
   * try means, logged as an error (a warning otherwise).
   */
  /**
   * A record put back unrun on the queue's last receive (maxReceiveCount): none follows, and the queue parks it
   * with no reason, so it is marked dead first, as a last attempt is before its action; else its "queued" mark
   * would answer the Git host's redelivery "duplicate" while the mark lives. Best effort: an unreadable body
   * names no delivery. Its attempt line says the queue parks it (parkedOnLastReceive).
   */
  async function markDeadOnLastReceive(
    record: SQSRecord,
    attempt: number,
    deadline: (calls: number) => number | undefined,
    parsed?: WorkItem,
  ): Promise<void> {
    if (attempt < maxReceiveCount) return;
    let item = parsed;
    if (item === undefined) {
      try {
        item = parseWorkItem(record.body);
      } catch {
        return;
      }
      if (item.route !== route.name) return;
    }
    await markQuietly(item, "dead", deadline);
  }

  /**
   * A record put back (deferred unrun, or failed) on the queue's last receive (maxReceiveCount): the redrive
   * policy parks it in the DLQ next, so its attempt line says so, for the dead-lettered alarm.
   */
  function parkedOnLastReceive(outcome: unknown, attempt: unknown): Record<string, true> {
    const putBack = outcome === "deferred" || outcome === "failed";
    return putBack && typeof attempt === "number" && attempt >= maxReceiveCount
      ? { [DEAD_LETTERED_FIELD]: true }
      : {};
  }

  async function markQuietly(
    item: WorkItem,
    state: "done" | "dead",
    deadline: (calls: number) => number | undefined = () => undefined,
    { tries = 1, ifNot }: { tries?: number; ifNot?: string } = {},
  ): Promise<void> {
    let failure: unknown;
    for (let left = tries; left >= 1; left--) {
      try {
        await withinDeadline(deadline(left), (limits) =>
          deps.dedupe.mark(route.name, item.deliveryId, item.generation, state, limits),
        );
        return;
      } catch (error) {
        failure = error;
      }
    }
    // Otherwise the outcome is final and logged; only the duplicate check of a later redelivery is affected.
    safeLog({
      msg: "dedupe mark failed",
      level: ifNot === undefined ? "warn" : "error",
      route: route.name,
      deliveryId: item.deliveryId,
      state,
      error: (failure as Error)?.message ?? String(failure),
      detail: ifNot,
    });
  }

  /**
   * Holds the record invisible for the rest of the invocation and HOLD_MARGIN_MS, before its action: the
   * queue's visibility timeout may end before the invocation does. Answers why when the queue already gave
   * the message out again; undefined otherwise: held, or not held for another reason (SQS throttled the call),
   * when the action runs all the same, as it did before any hold.
   */
  async function holdWhileRunning(
    record: SQSRecord,
    invocation: Invocation | undefined,
    deadlineMs: number | undefined,
  ): Promise<string | undefined> {
    const hold = deps.holdRecord;
    if (!hold || !invocation) return undefined;
    try {
      await withinDeadline(deadlineMs, (limits) =>
        hold(record, invocation.remainingMs() + HOLD_MARGIN_MS, limits),
      );
      return undefined;
    } catch (error) {
      if (error instanceof MessageReceivedAgainError) return error.message;
      safeLog({
        msg: "visibility hold failed",
        level: "warn",
        route: route.name,
        messageId: record.messageId,
        error: (error as Error)?.message ?? String(error),
        detail:
          "the action runs all the same; should the queue's visibility timeout end first, the message may run twice",
      });
      return undefined;
    }
  }

  async function delay(record: SQSRecord, delayMs: number, deadlineMs: number | undefined): Promise<void> {
    const backoff = deps.backoff;
    if (!backoff) return;
    try {
      await withinDeadline(deadlineMs, (limits) => backoff(record, delayMs, limits));
    } catch (error) {
      // Without the backoff the record still comes back, after the queue's visibility timeout.
      safeLog({
        msg: "backoff failed",
        level: "warn",
        route: route.name,
        messageId: record.messageId,
        error: (error as Error)?.message ?? String(error),
      });
    }
  }

  /**
   * Runs one call after the action, telling its store the deadline; a store that goes on past it (ignoring
   * it) is given up on shortly after, so the attempt is logged and the batch answered in time all the same.
   */
  async function withinDeadline<T>(
    deadlineMs: number | undefined,
    call: (limits?: CallLimits) => Promise<T>,
  ): Promise<T> {
    if (deadlineMs === undefined || deps.awaitStoresToTheEnd) return call();
    const running = call({ deadlineMs });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("no answer by the function's deadline: given up")),
        Math.max(0, deadlineMs - Date.now()) + DEADLINE_GRACE_MS,
      );
    });
    try {
      return await Promise.race([running, late]);
    } finally {
      clearTimeout(timer);
      running.catch(() => undefined); // given up on: its end no longer matters
    }
  }

  function attemptLog(fields: Record<string, unknown>): void {
    const outcome = fields.outcome;
    const level =
      outcome === DEAD_OUTCOME || outcome === "failed" ? "error" : outcome === "retry" ? "warn" : "info";
    safeLog({
      msg: ATTEMPT_MSG,
      level,
      route: route.name,
      ...fields,
      ...parkedOnLastReceive(outcome, fields.attempt),
    });
  }

  function safeLog(fields: Record<string, unknown>): void {
    const line: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) line[key] = value;
    try {
      log(line);
    } catch {
      // A broken log sink must not turn an answer into a failure.
    }
  }

  async function handle(event: APIGatewayProxyEvent | SQSEvent, invocation?: Invocation) {
    return isSqsEvent(event) ? work(event, invocation) : receive(event);
  }

  return { receive, deliver, work, workRecords, handle };
}

/** A webhook secret's raw versions and the values they hold. */
interface ParsedSecret {
  raw: readonly string[];
  /** Every version's values, current first. */
  values: string[];
  /** The current version's values alone. */
  current: string[];
}

const NO_SECRETS: ParsedSecret = Object.freeze({
  raw: Object.freeze([]) as readonly string[],
  values: [] as string[],
  current: [] as string[],
});

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function routeNameOf(request: APIGatewayProxyEvent): string | undefined {
  for (const candidate of [request.path, request.resource]) {
    const found = typeof candidate === "string" ? HOOK_PATH.exec(candidate) : null;
    if (found?.[1]) return decodedSegment(found[1]);
  }
  return undefined;
}

/** The route a `/hooks/<route>` path addresses, decoded as the deployed handler decodes it. */
export function hookRouteName(path: string): string | undefined {
  const found = /^\/hooks\/([^/]+)\/?$/.exec(path);
  return found?.[1] ? decodedSegment(found[1]) : undefined;
}

function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The exact bytes the Git host sent. Base64 is decoded; the base64 text itself is never hashed. */
function rawBody(request: APIGatewayProxyEvent): Buffer {
  const text = request.body ?? "";
  // Cheap bound before any allocation: base64 is 4/3 of the bytes, UTF-8 at most 3 bytes a char.
  if (
    request.isBase64Encoded
      ? text.length > Math.ceil(MAX_BODY_BYTES / 3) * 4 + 4
      : text.length > MAX_BODY_BYTES
  ) {
    throw new Answer(413, "rejected", `body larger than ${MAX_BODY_BYTES} bytes`, "too-large");
  }
  return request.isBase64Encoded ? Buffer.from(text, "base64") : Buffer.from(text, "utf8");
}

function claimedEvent(provider: Route["provider"], headers: HeaderBag): string | undefined {
  try {
    return eventName(provider, headers, undefined)?.slice(0, 100);
  } catch {
    return undefined; // several values: the verdict will say so
  }
}

function describe(line: DeliveryLog, event: WebhookEvent): void {
  line.deliveryId = event.deliveryId;
  line.event = event.event;
  line.action = event.action;
  line.repository = event.repo?.fullName;
  line.ref = event.ref ?? (event.pr ? `pull/${event.pr.number}` : undefined);
}

function attemptOf(record: SQSRecord): number {
  const n = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? "1", 10);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

interface Failure {
  retryable: boolean;
  retryAfterMs?: number;
  message: string;
}

function classify(error: unknown): Failure {
  if (error instanceof ActionError) {
    return { retryable: error.retryable, retryAfterMs: error.retryAfterMs, message: error.message };
  }
  if (error instanceof SecretNotFoundError) return { retryable: false, message: error.message };
  if (error instanceof TransientDependencyError) return { retryable: true, message: error.message };
  // An unexpected error: maybe a bug, maybe a blip. Retry it, within the same attempt budget.
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { retryable: true, message: `unexpected ${message}` };
}
