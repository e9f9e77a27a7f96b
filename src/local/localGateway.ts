// The local gateway behind `hookgate serve`: the deployed route handler (createRouteHandler, the same
// code as the Lambda) behind node:http, with embedded stand-ins for AWS under one state directory:
//   <state-dir>/secrets.json          webhook secrets (generated when no --secrets file is given)
//   <state-dir>/queue/journal.jsonl   accepted work, an append-only journal (LocalQueue)
//   <state-dir>/dead-letters/         work that failed for good, kept 14 days (LocalDeadLetters)
//   <state-dir>/dedupe.jsonl          delivery ids already accepted (FileDedupeStore)
//   <state-dir>/deliveries.json       the recent deliveries served at /_hookgate/deliveries
//   <state-dir>/s3/<bucket>/<key>     objects written by s3-zip (FsObjectStore), unless --s3-endpoint
//   <state-dir>/tmp/hookgate-zip-*    s3-zip's downloads in progress (nothing else in tmp/ is serve's)
//   <state-dir>/serve.lock            who holds the directory: pid, host, boot, pid namespace, start (lockStateDir)
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isAbsolute, join, relative, resolve } from "node:path";
import type { ProxySettings } from "../actions/proxy";
import { ActionError, SecretNotFoundError } from "../core/errors";
import { DELIVERY_HEADERS, EVENT_HEADERS } from "../core/events/headers";
import { NOT_FOUND_BODY } from "../core/gatewayAnswers";
import { headerBagFromRaw } from "../core/headers";
import { type KeyScope, routeKeyScope } from "../core/keyPrefixes";
import {
  LAMBDA_TIMEOUT_SECONDS,
  MAX_ATTEMPTS,
  MAX_BODY_BYTES,
  REDRIVE_MARGIN,
  RETRY_BASE_DELAY_MS,
  retryDelayMs,
} from "../core/policy";
import type { LogFn, ObjectStore, SecretStore } from "../core/ports";
import { routeSecretNames } from "../core/routeSecrets";
import { withoutInvisible } from "../core/shownText";
import type { ActionOutcome, HeaderBag, Route, RoutesConfig, WorkItem } from "../core/types";
import {
  actionRan,
  createRouteHandler,
  hookRouteName,
  type ReceiveBody,
  type RecordOutcome,
  type RouteHandler,
} from "../gateway/routeHandler";
import { removeAtomicTempFiles } from "./atomicFile";
import { DELIVERY_STATUSES, DeliveryLog } from "./deliveryLog";
import { FileDedupeStore } from "./fileDedupeStore";
import { FileSecretStore } from "./fileSecretStore";
import { FsObjectStore, removeStoreLeftovers } from "./fsObjectStore";
import { LocalDeadLetters } from "./localDeadLetters";
import { LocalQueue } from "./localQueue";
import { ensureWebhookSecrets, webhookSecretNames } from "./localSecrets";
import { ResponseBatch } from "./responseBatch";
import { SIGNATURE_INVALID, SMEE_HINT, smeeMayBreakSignature } from "./smeeHint";
import { lockStateDir, type StateDirLock } from "./stateDirLock";

/** The bucket s3-zip routes without a `bucket` use locally (deployed, the stack creates one). */
export const LOCAL_ARTIFACT_BUCKET = "hookgate-artifacts";
export const DELIVERY_HISTORY = 500;
/** The rejected deliveries kept besides, in a ring of their own: a flood of them cannot evict real work. */
export const REJECTED_HISTORY = 100;
/**
 * The body bytes serve reads at once across requests, before any is verified: each body may be 10 MB
 * (MAX_BODY_BYTES), and without a cap a few connections that never finish their bodies hold memory
 * for as long as node:http's request timeout lets them. Past it a request is answered 503.
 */
export const MAX_BODY_BYTES_READING = 64 * 1024 * 1024;
/**
 * A stop's wait, answers and work in flight together. docker stop (and Compose, and a restart) sends SIGKILL
 * 10 s after its SIGTERM: a serve killed before it released serve.lock has the next container's serve, in
 * another pid namespace, refused until the lock's lease runs out. 8 s leaves time to close the files.
 */
export const STOP_TIMEOUT_MS = 8_000;

export type RunActionFn = (item: WorkItem, clients: LocalActionClients) => Promise<ActionOutcome>;

export interface LocalActionClients {
  secrets: SecretStore;
  objects: ObjectStore;
  log: LogFn;
  tmpDir?: string;
  /** Always "": serve reads the names routes.yaml writes (ActionClients.secretNamePrefix). */
  secretNamePrefix?: string;
  /** Always true: the s3-zip runs in progress share tmpDir's disk (ActionClients.sharedTmpDir). */
  sharedTmpDir?: boolean;
  logsUrl?: string;
  proxy?: ProxySettings;
  /** This is the last attempt (serve's maxAttempts): a retryable failure is dead-lettered, not retried. */
  lastAttempt?: boolean;
  /** The message's receive count, past the first: a jenkins action looks for an earlier attempt's build. */
  attempt?: number;
  /** An earlier attempt may have run the action though this is a first receive (a redriven letter, a redelivery). */
  mayHaveRun?: boolean;
  /** The keys the route's role would be pinned to deployed: checked here as there, though serve has no IAM. */
  keyScope?: KeyScope;
  /**
   * When the action's calls must have ended (epoch ms): the attempt's time (timeoutMs) less the work path's
   * reserve, as the deployed function's. A call past it fails retryable.
   */
  deadlineMs?: number;
}

export interface LocalGatewayOptions {
  config: RoutesConfig;
  stateDir: string;
  /** A secrets file; without it <state-dir>/secrets.json is created and completed. */
  secretsFile?: string;
  host?: string;
  port?: number;
  maxAttempts?: number;
  retryDelayMs?: number;
  /**
   * Each attempt's time from its start, as the deployed function's timeout (default: the stack's default
   * lambda.timeoutSeconds): its action gets this less the work path's reserve, and a dependency that never
   * answers fails the attempt there, retryable, instead of holding its group (and a worker) forever.
   */
  timeoutMs?: number;
  /** The actions' egress proxy (serve reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY); absent: direct. */
  proxy?: ProxySettings;
  /** Objects go here instead of <state-dir>/s3. */
  objects?: ObjectStore;
  runAction: RunActionFn;
  log?: LogFn;
  /**
   * fsync accepted work before answering 202, so it survives a power cut too (default false: the
   * write-then-rename already survives a crash or kill of the process; fsync costs a few ms a delivery).
   */
  fsync?: boolean;
  /**
   * Called once serve.lock is found taken over by another serve, or removed (after an error line is
   * logged): `hookgate serve` exits at once there, writing nothing more to the state dir.
   */
  onLockLost?: () => void;
  /** How often the dead letters past their 14 days are removed while running (default 1 h); tests shorten it. */
  deadLetterPruneEveryMs?: number;
  /**
   * How long a stop waits in all (default STOP_TIMEOUT_MS): for the requests being answered (at most 5 s of it),
   * then for the work in flight, which is left persisted for the next start once it is up.
   */
  drainTimeoutMs?: number;
  /**
   * After a 413, how long the rest of the body is read and dropped before the connection is closed
   * (default 30 s, nginx's lingering_time): long enough for a client to read the answer, and a client
   * declaring gigabytes cannot keep serve reading them until Node's 300 s request timeout.
   */
  refusedBodyLingerMs?: number;
  /**
   * node:http's limits on a slow client, each answered 408: the head must arrive within headersMs
   * (default 60 s) and the whole request within requestMs (default 300 s), checked every checkEveryMs
   * (default 30 s). Tests shorten them.
   */
  slowClientTimeouts?: { headersMs: number; requestMs: number; checkEveryMs: number };
  /**
   * Answer /_hookgate/* to every client (serve's --expose-status). Off, only loopback clients read it: its
   * answers hold the actions' errors (internal hosts), the route names and the state dir's path.
   */
  exposeStatus?: boolean;
  /** The receive path's deadline for its waits, then 503 (default: the deployed handler's, RECEIVE_DEADLINE_MS by provider); tests shorten it. */
  receiveTimeoutMs?: number;
  /** The work path's reserve and shortest action (default: the deployed WORK_RESERVE_MS and MIN_ACTION_MS); tests shorten them. */
  workReserveMs?: number;
  minActionMs?: number;
}

export interface LocalGateway {
  url: string;
  port: number;
  routes: Route[];
  secretsFile: string;
  /** Webhook secret names generated by this start. */
  generatedSecrets: string[];
  /** Secret names the routes read that the secrets file does not hold. */
  missingSecrets: string[];
  /** Work items found on disk and resumed. */
  resumed: number;
  deliveries: DeliveryLog;
  /**
   * Stops the gateway. `unwritten`: the journals whose last lines could not be written (a full disk), each
   * as "<file>: <how many lines> could not be written (<reason>)"; the stop still frees the state dir.
   */
  close(): Promise<{ drained: boolean; unwritten: string[] }>;
}

/**
 * Starts the gateway on its state dir. Throws StateDirInUseError, before reading or writing anything
 * there, when another gateway uses the directory.
 */
export async function startLocalGateway(options: LocalGatewayOptions): Promise<LocalGateway> {
  const stateDir = resolve(options.stateDir);
  try {
    mkdirSync(stateDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === "EEXIST" || code === "ENOTDIR" ? "is not a directory" : `cannot be created (${code})`;
    throw new Error(`the state dir ${options.stateDir} ${problem}`, { cause: error });
  }
  const log: LogFn = options.log ?? (() => undefined);
  const lock = lockStateDir(stateDir, options.stateDir, {
    onRenewal: (error) =>
      error
        ? log({
            level: "warn",
            msg: "serve.lock's lease could not be renewed: a serve in another container may take the state dir over after 30 s",
            error: String(error.message),
          })
        : log({ level: "info", msg: "serve.lock's lease is renewed again" }),
    onLost: (holder) => {
      // Another serve owns the state now and replays what was queued: anything this one wrote from here
      // on (the journal, a compaction, the lock's removal) would go under it.
      const now = holder
        ? `taken over by another hookgate serve (pid ${holder.pid}${holder.host ? ` on host ${holder.host}` : ""})`
        : "removed";
      log({
        level: "error",
        msg: `serve.lock was ${now}, this serve having been paused past its 30 s lease or its lock deleted: stopping at once without writing the state dir; the holder resumes the queued work`,
      });
      options.onLockLost?.();
    },
  });
  try {
    return await openLocalGateway(options, stateDir, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function openLocalGateway(
  options: LocalGatewayOptions,
  stateDir: string,
  lock: StateDirLock,
): Promise<LocalGateway> {
  const log: LogFn = options.log ?? (() => undefined);
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  const baseDelayMs = options.retryDelayMs ?? RETRY_BASE_DELAY_MS;
  const timeoutMs = options.timeoutMs ?? LAMBDA_TIMEOUT_SECONDS.fallback * 1_000;
  const routes = options.config.routes.map(localRoute);

  // Secrets.
  let secretsFile: string;
  let generatedSecrets: string[] = [];
  if (options.secretsFile) {
    secretsFile = resolve(options.secretsFile);
  } else {
    const ensured = ensureWebhookSecrets(join(stateDir, "secrets.json"), webhookSecretNames(routes));
    secretsFile = ensured.file;
    generatedSecrets = ensured.created;
  }
  const secrets = new FileSecretStore(secretsFile, Date.now, log);
  const known = new Set(secrets.names());
  const missingSecrets = [...new Set(routes.flatMap(routeSecretNames))].filter((n) => !known.has(n)).sort();

  // Stores.
  const deliveries = new DeliveryLog(
    join(stateDir, "deliveries.json"),
    DELIVERY_HISTORY,
    undefined,
    REJECTED_HISTORY,
    options.fsync ?? false,
  );
  deliveries.load();
  // The delay the work path decided for each record it failed (its backoff: deployed, the visibility change), by
  // messageId, while its receive runs: the worker's answer carries it to the local queue.
  const decidedDelays = new Map<string, number>();
  const itemKey = (item: WorkItem) => `${item.route}#${item.deliveryId}#${item.generation}`;
  // Replaces the "next attempt in ..." of the last retry.
  const deadLettered = `moved to ${displayPath(join(stateDir, "dead-letters"))}`;
  const deadLetters = new LocalDeadLetters(
    join(stateDir, "dead-letters"),
    (letter) => {
      if (letter.item) {
        deliveries.work(letter.item, { status: "dead", reason: deadLettered, error: letter.reason });
      } else deliveries.unreadable(letter.route ?? "unknown", letter.reason);
    },
    log,
  );
  // The reason each dead letter on disk gives, by work item: read once, when a start repairs a dead entry the
  // history lost (a kill -9 before its write), so the entry shows the error it showed live.
  let deadReasons: Map<string, string> | undefined;
  const deadEntry = (item: WorkItem): { reason: string; error?: string } => {
    if (!deadReasons) {
      deadReasons = new Map();
      try {
        for (const letter of deadLetters.list()) {
          if (letter.item) deadReasons.set(itemKey(letter.item), letter.reason);
        }
      } catch {
        // A letter that cannot be read: the entry is dead all the same, without its error.
      }
    }
    const error = deadReasons.get(itemKey(item));
    return error === undefined ? { reason: deadLettered } : { reason: deadLettered, error };
  };
  // Kept 14 days, as the deployed DLQ keeps its messages: on start, then once an hour.
  const pruneDeadLetters = () => {
    try {
      const removed = deadLetters.prune();
      if (removed > 0) {
        log({ level: "info", msg: "dead letters older than 14 days removed", count: removed });
      }
    } catch (error) {
      log({ level: "warn", msg: "old dead letters could not be removed", error: String(error) });
    }
  };
  pruneDeadLetters();
  // With --fsync, what dedupe.jsonl holds for a delivery whose work ran must survive a power cut too, or its
  // redelivery runs again: see FileDedupeStore's header for what is flushed.
  const dedupe = new FileDedupeStore(join(stateDir, "dedupe.jsonl"), Date.now, {
    log,
    durable: options.fsync ?? false,
  });
  // With --fsync, so are s3-zip's objects and pr-cleanup's deletes, before the done mark that follows them.
  const objects =
    options.objects ?? new FsObjectStore(join(stateDir, "s3"), { durable: options.fsync ?? false });
  const tmpDir = join(stateDir, "tmp");
  removeRunDirsLeft(tmpDir);
  if (!options.objects) removeStoreLeftovers(join(stateDir, "s3"));
  // A stop (kill -9) in the middle of a compaction or a history write leaves its temporary file.
  for (const dir of [stateDir, join(stateDir, "queue"), join(stateDir, "dead-letters")]) {
    removeAtomicTempFiles(dir);
  }
  mkdirSync(tmpDir, { recursive: true });

  /** The body bytes held or reserved by the requests being read (MAX_BODY_BYTES_READING). */
  let bodyBytesReading = 0;
  /** Requests being answered; while there are any, the queue lets the receive path go first. */
  let answering = 0;
  /** Called when the last request being answered is done (set while stopping). */
  let onAllAnswered: (() => void) | undefined;

  const queue = new LocalQueue({
    dir: join(stateDir, "queue"),
    // As the deployed queue: the handler's last attempt (any receive from maxAttempts on) dead-letters with its
    // reason; the queue moves a message itself only after REDRIVE_MARGIN receives more (a crash of serve in the
    // last attempt, a dead-letter write that failed).
    maxReceiveCount: maxAttempts + REDRIVE_MARGIN,
    durable: options.fsync ?? false,
    log,
    // The work path's own delay, as the deployed queue keeps the visibility it set. Without one (the invocation
    // threw, or the queue failed the receive itself): the attempt's delay with no Retry-After, as the handler
    // gives a record that throws.
    retryDelay: (_record, _item, attempt, decidedMs) =>
      decidedMs ?? retryDelayMs(attempt, undefined, baseDelayMs),
    doneOutcome: (route, item) => {
      // The work path's rule: done at this generation, or at a later one (the action ran; see supersededBy).
      const recorded = dedupe.stateNow(route, item.deliveryId);
      if (!recorded || !actionRan(recorded, item.generation)) return undefined;
      return recorded.generation > item.generation
        ? { outcome: "already-done", doneAt: recorded.generation }
        : { outcome: "already-done" };
    },
    redrive: async ({ id, route, body, item, sentAt }, reason) => {
      if (!item) return deadLetters.fileRaw(body, reason, route || undefined, id);
      // A kill -9 after its letter, before the journal recorded the message gone, has the next start find it past
      // maxReceiveCount again: its letter is not filed a second time (the history may have missed it: told here).
      // Should the dead letters not tell, it is filed: twice rather than never.
      if (await deadLetters.holds(item, { messageId: id, sentAtMs: sentAt }).catch(() => false)) {
        deliveries.work(item, { status: "dead", ...deadEntry(item) });
      } else await deadLetters.send(item, reason, id);
      // As the handler marks a final failure: a redelivery is accepted again, not answered duplicate. A
      // mark that fails is logged, as the handler's is: the dead letter is written, the message goes.
      await dedupe.mark(route, item.deliveryId, item.generation, "dead").catch((error: unknown) => {
        log({
          level: "warn",
          msg: "dedupe mark failed",
          route: loggedRoute(route),
          deliveryId: item.deliveryId,
          state: "dead",
          error: String((error as Error)?.message ?? error),
        });
      });
    },
    busy: () => answering > 1,
    observer: {
      // deliveries.json is written a moment after each change, so a crash (kill -9) can leave it without
      // the last deliveries, or showing them queued or running after they finished. The queue journal
      // still holds the work finished since it was last compacted (a message skipped for a later generation
      // with that outcome on its delete line: the dedupe store reads the later generation), and the dedupe
      // store how each generation ended. The history is written before each compaction (at start too): a
      // crash right after it must not lose what only the forgotten lines could repair (with --fsync, it is
      // flushed then, as the compaction is: a power cut must not either).
      finished: (messages) => {
        for (const { item, attempts, sentAt, outcome } of messages) {
          // Skipped for a later generation of its delivery, as `deleted` was told (a kill -9 came before the
          // history's write): ignored, with the live path's reason.
          const notRun = notRunReason(outcome);
          if (notRun) {
            deliveries.settle(item, { status: "ignored", attempts, reason: notRun }, sentAt);
            continue;
          }
          // Dead-lettered (its letter is in dead-letters/), though a redelivery accepted since may have made
          // the dedupe store read a later generation.
          if (outcome?.outcome === "dead") {
            deliveries.settle(item, { status: "dead", attempts, ...deadEntry(item) }, sentAt);
            continue;
          }
          const recorded = dedupe.stateNow(item.route, item.deliveryId);
          if (recorded?.generation !== item.generation) continue;
          if (recorded.state === "done") deliveries.settle(item, { status: "done", attempts }, sentAt);
          else if (recorded.state === "dead") {
            deliveries.settle(item, { status: "dead", attempts, ...deadEntry(item) }, sentAt);
          }
        }
      },
      compacting: () => {
        try {
          deliveries.flushSync();
        } catch (error) {
          // The history is best effort, as when written later: a file that cannot be written must not
          // stop the start or the queue (the server may already be listening).
          log({ level: "warn", msg: "the delivery history could not be written", error: String(error) });
        }
      },
      sent: (item) => deliveries.queued(item),
      received: (item, attempt) => deliveries.work(item, { status: "running", attempts: attempt }),
      // A message the work path skipped without running its action, because a later generation of its delivery
      // stands in (superseded, or already finished by it), is deleted as one that ran: its entry must not read done.
      deleted: (item, attempts, outcome) => {
        // Dead: its letter told the history as it was filed (onDead), or, when a start after a kill -9 found it
        // filed already, the history may have missed it: the entry is made dead with the letter's reason.
        if (outcome?.outcome === "dead" && deliveries.statusOf(item) !== "dead") {
          deliveries.work(item, { status: "dead", attempts, ...deadEntry(item) });
          return;
        }
        const reason = notRunReason(outcome);
        deliveries.work(
          item,
          reason ? { status: "ignored", attempts, reason } : { status: "done", attempts },
        );
      },
      retrying: (item, attempt, delayMs) =>
        deliveries.work(item, {
          status: "retrying",
          attempts: attempt,
          reason: `next attempt in ${delayMs} ms`,
        }),
    },
  });

  let baseUrl = "";
  const handlers = new Map<string, RouteHandler>();
  const providers = new Map(routes.map((route) => [route.name, route.provider]));
  // The delivery ids of smee-forwarded requests being answered: a handler's 401 line for a signature that
  // does not match gets the hint (as a field of that line, so that serve's log sampler counts it with it).
  const viaSmee = new Set<string>();
  const handlerLog: LogFn = (line) => {
    log(
      line.msg === "delivery" &&
        line.status === 401 &&
        line.reason === SIGNATURE_INVALID &&
        typeof line.deliveryId === "string" &&
        viaSmee.has(line.deliveryId)
        ? { ...line, hint: SMEE_HINT }
        : line,
    );
  };
  for (const route of routes) {
    const keyScope = routeKeyScope(route);
    const handler = createRouteHandler({
      route,
      secrets,
      queue: queue.port(route.name),
      deadLetters: deadLetters.forRoute(route.name),
      dedupe,
      log: handlerLog,
      maxAttempts,
      maxReceiveCount: maxAttempts + REDRIVE_MARGIN,
      retryBaseDelayMs: baseDelayMs,
      // Local files: a write given up on at the deadline could still land (a dead letter filed twice).
      awaitStoresToTheEnd: true,
      receiveTimeoutMs: options.receiveTimeoutMs,
      workReserveMs: options.workReserveMs,
      minActionMs: options.minActionMs,
      // Kept for the worker's answer: the local queue waits what the work path decided.
      backoff: async (record, delayMs) => {
        decidedDelays.set(record.messageId, delayMs);
      },
      runAction: async (item, limits) => {
        try {
          const outcome = await options.runAction(item, {
            secrets,
            objects,
            log,
            tmpDir,
            // <state-dir>/tmp: the s3-zip runs in progress share its disk.
            sharedTmpDir: true,
            proxy: options.proxy,
            keyScope,
            // serve reads the names routes.yaml writes, with no prefix.
            secretNamePrefix: "",
            // The handler's last attempt by serve's own maxAttempts, as deployed: pr-cleanup then says no retry.
            ...(limits?.deadlineMs ? { deadlineMs: limits.deadlineMs } : {}),
            ...(limits?.lastAttempt ? { lastAttempt: true } : {}),
            ...(limits?.attempt ? { attempt: limits.attempt } : {}),
            ...(limits?.mayHaveRun ? { mayHaveRun: true } : {}),
            logsUrl: `${baseUrl}/_hookgate/deliveries?route=${encodeURIComponent(item.route)}`,
          });
          deliveries.work(item, { reason: outcome.detail });
          return outcome;
        } catch (caught) {
          let error = caught;
          if (error instanceof ActionError && error.cause instanceof SecretNotFoundError) {
            // Say where the secret goes: locally it is a key of the secrets file.
            error = new ActionError(`${error.message} (add it to ${displayPath(secretsFile)})`, {
              retryable: error.retryable,
              cause: error.cause,
            });
          }
          deliveries.work(item, { error: error instanceof Error ? error.message : String(error) });
          throw error;
        }
      },
    });
    handlers.set(route.name, handler);
    queue.register(route.name, async (event) => {
      // An invocation as Lambda's context gives it (lambdaRuntime): the time left of this attempt's timeout, on a
      // monotonic clock, in whole milliseconds as getRemainingTimeInMillis (a deadline becomes an
      // AbortSignal.timeout, which refuses a fraction). The handler turns it into the action's deadline.
      const startedAt = performance.now();
      const invocation = {
        remainingMs: () => Math.max(0, Math.floor(timeoutMs - (performance.now() - startedAt))),
      };
      try {
        const report = await handler.workRecords(event, invocation);
        const records = report.records.map((record) => {
          const delayMs = decidedDelays.get(record.messageId);
          return delayMs === undefined ? record : { ...record, delayMs };
        });
        return { ...report, records };
      } finally {
        for (const record of event.Records) decidedDelays.delete(record.messageId);
      }
    });
  }

  // HTTP. A request is handled with callbacks and one promise (the handler's answer), not a chain of
  // async functions: this is the receive path's hot loop under load.
  /** The open connections, each with its requests not answered yet. */
  const connections = new Map<Socket, Set<http.ServerResponse>>();
  const answers = new ResponseBatch(failed);
  const answered = (waiting: Set<http.ServerResponse>, res: http.ServerResponse) => {
    if (waiting.delete(res) && --answering === 0) onAllAnswered?.();
  };
  const timeouts = options.slowClientTimeouts;
  // An HTTP/1.1 request without a Host header is refused in serveHook, in the contract's JSON and with a
  // log line: Node's own check answers it 400 with an empty body and no line.
  const serverOptions: http.ServerOptions = timeouts
    ? {
        requireHostHeader: false,
        headersTimeout: timeouts.headersMs,
        requestTimeout: timeouts.requestMs,
        connectionsCheckingInterval: timeouts.checkEveryMs,
      }
    : { requireHostHeader: false };
  const server = http.createServer(serverOptions, onRequest);
  function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    answering++;
    // A connection is in the map from its 'connection' event on (the fallback only satisfies the types).
    const waiting = connections.get(req.socket) ?? new Set<http.ServerResponse>();
    waiting.add(res);
    res.on("close", () => answered(waiting, res));
    try {
      serveRequest(req, res);
    } catch (error) {
      failed(res, error);
    }
  }
  /**
   * Requests with `Expect: 100-continue` that serve refuses on their head: answered at once, without
   * "100 Continue" (RFC 9110 10.1.1), so the client never sends a body serve would only drop. Their body
   * may or may not follow, so the connection is closed after the answer.
   */
  const notContinued = new WeakSet<http.IncomingMessage>();
  server.on("checkContinue", (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (refusedOnHead(req)) {
      notContinued.add(req);
      res.setHeader("connection", "close");
    } else res.writeContinue();
    onRequest(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.on("connection", (socket) => {
    const waiting = new Set<http.ServerResponse>();
    connections.set(socket, waiting);
    // A response queued behind one still being written (pipelined requests) never gets a 'close' of its
    // own when the connection is lost: left counted, it would keep the queue in its slow mode and a stop
    // waiting for it.
    socket.on("close", () => {
      connections.delete(socket);
      for (const res of waiting) answered(waiting, res);
    });
  });
  /** Connections whose answer to a request node:http could not parse waits for the answers before it. */
  const refusing = new WeakSet<object>();
  // A request node:http cannot parse gets the status Node would give it, with the contract's JSON body.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    // More bytes that cannot be parsed while the answer waits: it goes out once.
    if (refusing.has(socket)) return;
    const [status, reason] =
      error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "request headers too large"]
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "request not received in time"]
          : [400, "malformed HTTP request"];
    // Logged as a delivery, naming Node's error code, never the bytes (error.rawPacket holds them). The
    // route and delivery are known when the request failed after its head (its body): it is the one
    // node:http's parser is reading, not read whole. One serve answered already (a 404 or 413 before its
    // body) has had its answer and its line: the connection is only closed. A connection that sent
    // nothing (a preconnect that timed out) made no request: it is answered, not logged.
    const incoming = readingRequest(socket);
    const req = incoming && !incoming.complete ? incoming : undefined;
    const answeredAlready = req !== undefined && answeredBeforeBody.has(req);
    if ((socket as Socket).bytesRead > 0 && !answeredAlready) {
      const code = typeof error.code === "string" && /^[A-Z0-9_]{1,64}$/.test(error.code) ? error.code : "";
      const route = req ? hookRoute(pathOf(originForm(req.url ?? "/"))) : undefined;
      let delivery: string | undefined;
      let event: string | undefined;
      if (req && route !== undefined) {
        const headers = headerBagFromRaw(req.rawHeaders);
        delivery = deliveryClaimed(route, headers);
        event = eventClaimed(route, headers);
      }
      logAnswer(route ?? null, delivery, event, status, "rejected", code ? `${reason}: ${code}` : reason);
    }
    const body = JSON.stringify({ status: "rejected", route: null, delivery: null, reason });
    const answer =
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
    // The requests read whole before these bytes (pipelined) are answered first: written at once, this
    // answer would go out ahead of theirs, which would then be lost after the connection's end. node:http
    // keeps the response being written on the connection as `_httpMessage`, and puts the next pipelined
    // one there when it finishes. A request not read whole is the one that failed: it gets this answer,
    // unless serve answered it already.
    refusing.add(socket);
    const endAfterAnswers = () => {
      if (!socket.writable) return; // the client is gone, or asked for the connection to close
      const inFlight = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
      if (inFlight?.req.complete) inFlight.once("close", endAfterAnswers);
      else socket.end(answeredAlready ? undefined : answer);
    };
    endAfterAnswers();
  });

  function failed(res: http.ServerResponse, error: unknown): void {
    log({ level: "error", msg: "local gateway request failed", error: String(error) });
    if (!res.headersSent) sendJson(res, 500, { status: "error", reason: "internal error" });
    else res.destroy();
  }

  function serveRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = originForm(req.url ?? "/");
    const path = pathOf(url);
    const name = hookRoute(path);
    if (name !== undefined) {
      serveHook(req, res, name);
      return;
    }
    req.resume();
    if (hostLines(req) > 1) {
      sendJson(res, 400, { status: "rejected", route: null, delivery: null, reason: MANY_HOSTS });
      return;
    }
    const loopback = isLoopback(socketSourceIp(req));
    if (path.startsWith("/_hookgate/") && !loopback && !options.exposeStatus) {
      sendJson(res, 403, {
        status: "rejected",
        route: null,
        delivery: null,
        reason: "/_hookgate/ answers loopback clients only; start serve with --expose-status to open it",
      });
      return;
    }
    if (path === "/_hookgate/deliveries" || path === "/_hookgate/health") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        sendJson(
          res,
          405,
          { status: "rejected", reason: "only GET and HEAD are accepted" },
          { allow: "GET, HEAD" },
        );
        return;
      }
      if (path === "/_hookgate/health") {
        sendJson(res, 200, {
          status: "ok",
          routes: routes.map((r) => r.name),
          queue: { waiting: queue.waitingCount(), inFlight: queue.inFlightCount() },
          deliveries: deliveries.counts(),
          // A path of this machine: for its own user only, even with --expose-status.
          ...(loopback ? { stateDir } : {}),
        });
        return;
      }
      const filter = deliveriesFilter(new URLSearchParams(url.slice(path.length + 1)));
      if (typeof filter === "string") {
        sendJson(res, 400, { status: "rejected", reason: filter });
        return;
      }
      sendJson(res, 200, deliveries.list(filter));
      return;
    }
    // Deployed, any path that is no route gets the same gateway response.
    sendJson(res, 404, NOT_FOUND_BODY);
  }

  /** serve answers this request without reading its body (serveRequest and serveHook decide the same). */
  function refusedOnHead(req: http.IncomingMessage): boolean {
    const name = hookRoute(pathOf(originForm(req.url ?? "/")));
    // Serve's own endpoints and any other path: answered on the head.
    if (name === undefined || !handlers.has(name)) return true;
    const hosts = hostLines(req);
    if ((hosts === 0 && req.httpVersion === "1.1") || hosts > 1) return true;
    const declared = Number(req.headers["content-length"]);
    if (declared > MAX_BODY_BYTES) return true;
    return bodyBytesReading >= MAX_BODY_BYTES_READING;
  }

  function serveHook(req: http.IncomingMessage, res: http.ServerResponse, name: string): void {
    const handler = handlers.get(name);
    // From the raw headers: every repeated value is kept (req.headers merges or drops repeats).
    const headers = headerBagFromRaw(req.rawHeaders);
    const claimedEvent = eventClaimed(name, headers);
    const eventName = claimedEvent ?? "unknown";
    const headerDelivery = deliveryClaimed(name, headers);
    // RFC 9112 3.2: an HTTP/1.1 request without Host is answered 400; here in the contract's JSON and with
    // its line (node:http's own check, off, gave an empty body and no line).
    const hosts = hostLines(req);
    if ((hosts === 0 && req.httpVersion === "1.1") || hosts > 1) {
      req.resume();
      const reason = hosts > 1 ? MANY_HOSTS : "no Host header, which an HTTP/1.1 request must have";
      deliveries.answered({
        route: loggedRoute(name),
        delivery: headerDelivery ?? "",
        event: eventName,
        status: "rejected",
        reason: `400 ${reason}`,
        httpStatus: 400,
      });
      logAnswer(name, headerDelivery, claimedEvent, 400, "rejected", reason);
      sendJson(res, 400, { status: "rejected", route: name, delivery: headerDelivery ?? null, reason });
      return;
    }
    if (!handler) {
      req.resume();
      deliveries.answered({
        route: loggedRoute(name),
        delivery: headerDelivery ?? "",
        event: eventName,
        status: "rejected",
        reason: "404 unknown route",
        httpStatus: 404,
      });
      logAnswer(name, headerDelivery, claimedEvent, 404, "unknown-route", "unknown route");
      // The deployed API's own answer (its gateway response), which cannot read the route or the delivery: the
      // same body here, so a client tested against serve sees what it will get deployed. The log line and the
      // history keep both.
      sendJson(res, 404, NOT_FOUND_BODY);
      return;
    }
    const declared = Number(headers.get("content-length")?.[0]);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      tooLarge(req, res, name, headerDelivery, claimedEvent);
      return;
    }
    // Bytes are counted as they arrive, never reserved from a declared length: heads that declare 10 MB and
    // send nothing must not hold the budget for real deliveries.
    if (bodyBytesReading >= MAX_BODY_BYTES_READING) {
      req.resume();
      tooBusy(req, res, name, headerDelivery, claimedEvent);
      return;
    }
    let held = 0;
    const release = () => {
      bodyBytesReading -= held;
      held = 0;
    };
    // Given back when the answer is done, or when the request ends or its connection is lost: a response
    // pipelined behind an unfinished one never closes if the connection goes first (node:http).
    res.once("close", release);
    req.once("close", release);
    const admit = (bytes: number): boolean => {
      held += bytes;
      bodyBytesReading += bytes;
      return bodyBytesReading <= MAX_BODY_BYTES_READING;
    };
    readBody(req, admit, (body) => {
      if (body === "too-large") {
        release();
        tooLarge(req, res, name, headerDelivery, claimedEvent);
        return;
      }
      if (body === "too-busy") {
        release();
        tooBusy(req, res, name, headerDelivery, claimedEvent);
        return;
      }
      const turn = answers.arrived();
      const smee = headerDelivery !== undefined && smeeMayBreakSignature(providers.get(name), headers);
      if (smee) viaSmee.add(headerDelivery);
      handler
        .deliver({
          routeName: name,
          method: req.method ?? "GET",
          headers,
          body,
          sourceIp: socketSourceIp(req),
        })
        .then((answer) => {
          if (smee) viaSmee.delete(headerDelivery);
          // As sendJson's: a repository or branch name in a reason may hold a bidi override or a C1 control.
          const text = withoutInvisible(JSON.stringify(answer.body));
          answer.headers["content-length"] = String(Buffer.byteLength(text, "utf8"));
          answers.send(res, answer.statusCode, answer.headers, text, turn);
          record(name, answer.statusCode, answer.body, headerDelivery, eventName, smee);
        })
        .catch((error: unknown) => {
          if (smee) viaSmee.delete(headerDelivery);
          failed(res, error);
        });
    });
  }

  // What a hook's headers claim: its route's provider's headers, as its handler reads them (a GitLab
  // delivery: Idempotency-Key), or every provider's for a route serve does not have.
  function eventClaimed(route: string, headers: HeaderBag): string | undefined {
    const provider = providers.get(route);
    return firstHeader(headers, provider ? EVENT_HEADERS[provider] : ANY_EVENT_HEADERS)?.slice(0, 100);
  }
  function deliveryClaimed(route: string, headers: HeaderBag): string | undefined {
    const provider = providers.get(route);
    return firstHeader(headers, provider ? DELIVERY_HEADERS[provider] : ANY_DELIVERY_HEADERS)?.slice(0, 200);
  }

  function record(
    route: string,
    httpStatus: number,
    answer: ReceiveBody,
    headerDelivery: string | undefined,
    event: string,
    smee = false,
  ): void {
    const delivery = answer.delivery ?? headerDelivery ?? "";
    if (answer.status === "queued" && httpStatus === 202) {
      deliveries.accepted(route, delivery, event, httpStatus);
      return;
    }
    const reason =
      answer.status === "pong"
        ? "ping answered with pong"
        : answer.status === "duplicate"
          ? `duplicate: ${answer.reason ?? "already accepted"}`
          : answer.reason;
    const hint = smee && httpStatus === 401 && reason === SIGNATURE_INVALID ? `; ${SMEE_HINT}` : "";
    deliveries.answered({
      route,
      delivery,
      event,
      status: httpStatus < 300 ? "ignored" : "rejected",
      reason: httpStatus < 300 ? reason : `${httpStatus} ${reason ?? answer.status}`.trim() + hint,
      httpStatus,
    });
  }

  /**
   * The log line of an answer serve gives without the handler, in the shape of the handler's own
   * delivery line (routeHandler's respond): what the headers claim, as the handler logs a delivery it
   * rejects before verifying it. It goes through `log`, so --quiet and the sampler treat it as theirs.
   */
  function logAnswer(
    route: string | null,
    delivery: string | undefined | null,
    event: string | undefined | null,
    status: number,
    decision: string,
    reason: string,
  ): void {
    try {
      log({
        msg: "delivery",
        route: route === null ? null : loggedRoute(route),
        deliveryId: delivery ?? null,
        event: event ?? null,
        repository: null,
        ref: null,
        decision,
        reason,
        status,
        level: status >= 500 ? "error" : "warn",
      });
    } catch {
      // A broken log sink must not turn an answer into a failure (as in the handler).
    }
  }

  /** 413: the body is over MAX_BODY_BYTES. */
  function tooLarge(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: string,
    delivery: string | undefined,
    event: string | undefined,
  ): void {
    const reason = `body larger than ${MAX_BODY_BYTES} bytes`;
    refuseBody(
      req,
      res,
      { route, delivery, event },
      { status: 413, answer: "rejected", outcome: "too-large", reason },
    );
  }

  /** 503: the bodies being read pass MAX_BODY_BYTES_READING; the connection is closed after the answer. */
  function tooBusy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    route: string,
    delivery: string | undefined,
    event: string | undefined,
  ): void {
    const reason = "serve is reading too many request bodies at once; redeliver later";
    refuseBody(
      req,
      res,
      { route, delivery, event },
      {
        status: 503,
        answer: "unavailable",
        outcome: "unavailable",
        reason,
        headers: { "retry-after": "30", connection: "close" },
      },
    );
  }

  /**
   * A refusal of a body being read. The body is read and dropped (req.resume, readBody) and the connection
   * kept: closed while the client still sends, it would be reset under the client's writes, and a client may
   * then lose the answer (EPIPE). So the answer is written at once but ended only with the body: Node closes
   * the connection of a request that asked for "Connection: close" as soon as its response ends. A body still
   * coming after the linger time is cut off with its connection.
   */
  function refuseBody(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    { route, delivery, event }: { route: string; delivery: string | undefined; event: string | undefined },
    refusal: {
      status: number;
      answer: "rejected" | "unavailable";
      outcome: string;
      reason: string;
      headers?: Record<string, string>;
    },
  ): void {
    const { status, reason } = refusal;
    deliveries.answered({
      route,
      delivery: delivery ?? "",
      event: event ?? "unknown",
      status: "rejected",
      reason: `${status} ${reason}`,
      httpStatus: status,
    });
    logAnswer(route, delivery, event, status, refusal.outcome, reason);
    const answer = { status: refusal.answer, route, delivery: delivery ?? null, reason };
    const headers = refusal.headers ?? {};
    if (req.complete || notContinued.has(req)) {
      sendJson(res, status, answer, headers);
      return;
    }
    sendJson(res, status, answer, headers, { endWithRequest: req });
    const linger = setTimeout(() => req.socket.destroy(), options.refusedBodyLingerMs ?? 30_000);
    linger.unref();
    req.once("end", () => clearTimeout(linger));
    req.once("close", () => clearTimeout(linger));
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(options.port ?? 8787, options.host ?? "127.0.0.1", () => {
      server.off("error", rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  let resumed: number;
  try {
    resumed = queue.start();
  } catch (error) {
    // The start fails (a journal that cannot be read): the caller releases the lock, so nothing of this
    // gateway may stay open, or the process would hang on a listening server that serves nothing.
    server.close();
    server.closeAllConnections();
    for (const store of [queue, dedupe]) {
      try {
        store.close();
      } catch {
        // The start's own error is the one to report.
      }
    }
    throw error;
  }

  const deadLetterPruning = setInterval(pruneDeadLetters, options.deadLetterPruneEveryMs ?? 3_600_000);
  deadLetterPruning.unref();

  let closing: Promise<{ drained: boolean; unwritten: string[] }> | undefined;
  async function close(): Promise<{ drained: boolean; unwritten: string[] }> {
    // One deadline for the whole wait: the answers' time is taken from the work's.
    const stopBy = performance.now() + (options.drainTimeoutMs ?? STOP_TIMEOUT_MS);
    const left = () => Math.max(0, Math.ceil(stopBy - performance.now()));
    clearInterval(deadLetterPruning);
    // 1. start no more work: a delivery started during the answers' wait (a retry whose backoff ends, one
    // just answered 202) would cost an attempt and could be cut half done at the deadline. What the requests
    // being answered send is still accepted into the journal, for the next start.
    queue.pause();
    // 2. stop accepting; let the requests in flight get their answer.
    server.close();
    server.closeIdleConnections();
    if (answering > 0) {
      // A timer that keeps the process alive: with the server closed, nothing else may, and a process that
      // exits here has not saved the history nor released the lock.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolveAnswered) => {
        onAllAnswered = resolveAnswered;
        timer = setTimeout(resolveAnswered, Math.min(left(), 5_000));
      });
      clearTimeout(timer);
    }
    for (const socket of connections.keys()) socket.destroy();
    // 3. let the work in flight finish, or leave it on disk for the next start.
    const drained = await queue.stop(left());
    // 4. each step on its own: one that fails (a full disk, a read-only state dir) must not skip the next
    // ones, nor leave the state dir locked. What a journal could not write is told to the caller.
    const unwritten: string[] = [];
    const closeJournal = (file: string, store: { close(): void }) => {
      try {
        store.close();
      } catch (error) {
        unwritten.push(`${file}: ${(error as Error).message}`);
        log({ level: "error", msg: `${file} could not be written at stop`, error: String(error) });
      }
    };
    closeJournal("queue/journal.jsonl", queue);
    try {
      // Its last write: a delivery answered after this (its held --fsync flush ended) is not written.
      deliveries.close();
    } catch (error) {
      // The history is best effort, as during the run: a file that cannot be written must not fail the stop.
      log({ level: "warn", msg: "the delivery history could not be written", error: String(error) });
    }
    closeJournal("dedupe.jsonl", dedupe);
    try {
      lock.release();
    } catch (error) {
      // Left behind, it is taken over on the next start (its pid is no longer running).
      log({ level: "warn", msg: "serve.lock could not be removed", error: String(error) });
    }
    return { drained, unwritten };
  }

  return {
    url: baseUrl,
    port: address.port,
    routes,
    secretsFile,
    generatedSecrets,
    missingSecrets,
    resumed,
    deliveries,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/**
 * What serve puts in <state-dir>/tmp: s3-zip's run directories (hookgate-zip-<pid>.<thread>-<hex>, and
 * hookgate-zip-XXXXXX from older serves' mkdtemp).
 */
const SERVE_TMP_ENTRY = /^hookgate-zip-/;

/**
 * Removes the run directories a stop in the middle of a download left in `tmpDir`: with the lock held, no work
 * of ours is running, and the work they belonged to resumes from the journal. Only those: the state dir may be
 * a directory of the user's (`--state-dir .` in a project), whose tmp/ holds their own files.
 */
function removeRunDirsLeft(tmpDir: string): void {
  let names: string[];
  try {
    names = readdirSync(tmpDir);
  } catch {
    return; // none yet; one that cannot be read is mkdirSync's, then s3-zip's, to report
  }
  for (const name of names) {
    if (SERVE_TMP_ENTRY.test(name)) rmSync(join(tmpDir, name), { recursive: true, force: true });
  }
}

/**
 * The history's reason for a record the work path did not run because a later generation of its delivery stands
 * in; undefined for any other outcome (its own generation's already-done keeps the entry done: it ran, or a
 * crash brought it back after it did).
 */
function notRunReason(outcome: RecordOutcome | undefined): string | undefined {
  if (outcome?.outcome === "superseded") {
    return `not run: generation ${outcome.supersededBy} of this delivery is queued and runs the action`;
  }
  if (outcome?.outcome === "already-done" && outcome.doneAt !== undefined) {
    return `not run: the delivery's action already ran (its dedupe item reads done at generation ${outcome.doneAt})`;
  }
  return undefined;
}

/** The route as the local gateway runs it: an s3-zip without a bucket uses the local artifact bucket. */
function localRoute(route: Route): Route {
  if (route.action.type === "s3-zip" && !route.action.bucket) {
    return { ...route, action: { ...route.action, bucket: LOCAL_ARTIFACT_BUCKET } };
  }
  return route;
}

/**
 * The path and query of a request target. A server must accept the absolute form too (RFC 9112 3.2.2:
 * `POST http://127.0.0.1:8787/hooks/api-build`, as a client configured for a proxy sends it), whose
 * scheme and authority node:http leaves in req.url.
 */
function originForm(target: string): string {
  if (target.startsWith("/")) return target;
  const authority = /^https?:\/\/[^/?#]*/i.exec(target);
  if (!authority) return target;
  const rest = target.slice(authority[0].length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

/** A request target's path, without its query. */
function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q >= 0 ? url.slice(0, q) : url;
}

/** The route a path under /hooks/ names (its segment as the handler decodes it), else undefined. */
function hookRoute(path: string): string | undefined {
  return path.startsWith("/hooks/") ? (hookRouteName(path) ?? path.slice("/hooks/".length)) : undefined;
}

/**
 * A route as serve's log names it: the path of an unknown route is the client's, up to node:http's
 * 16 KB head, so it is cut to 100 characters (never inside a surrogate pair).
 */
function loggedRoute(route: string): string {
  if (route.length <= 100) return route;
  const cut = route.slice(0, 99);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/** For a path that names no route, whose provider is unknown: every provider's headers. */
const ANY_EVENT_HEADERS = [...new Set(Object.values(EVENT_HEADERS).flat())];
const ANY_DELIVERY_HEADERS = [...new Set(Object.values(DELIVERY_HEADERS).flat())];

function firstHeader(headers: HeaderBag, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers.get(name)?.[0];
    if (value) return value;
  }
  return undefined;
}

/** The filter of `GET /_hookgate/deliveries?route=&status=&limit=`, or what is wrong with the query. */
function deliveriesFilter(
  params: URLSearchParams,
): { route?: string; status?: string; limit?: number } | string {
  for (const name of params.keys()) {
    if (name !== "route" && name !== "status" && name !== "limit") {
      return `unknown parameter "${name.slice(0, 50)}"; use route, status and limit`;
    }
    // get() reads the first value only: a second one, which a reader may take for "either", would be ignored.
    if (params.getAll(name).length > 1) return `parameter "${name}" is given more than once; give it once`;
  }
  const status = params.get("status") ?? undefined;
  if (status !== undefined && !(DELIVERY_STATUSES as readonly string[]).includes(status)) {
    return `status must be one of ${DELIVERY_STATUSES.join(", ")}`;
  }
  const limitText = params.get("limit") ?? undefined;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && !(/^\d+$/.test(limitText ?? "") && limit >= 1)) {
    // The whole range: a larger limit is no mistake, it answers the whole history.
    return `limit must be a whole number, 1 or more (the history holds the last ${DELIVERY_HISTORY} deliveries and the last ${REJECTED_HISTORY} rejected)`;
  }
  return { route: params.get("route") ?? undefined, status, limit };
}

/** The socket's address, as API Gateway's sourceIp: never a header a client can set. */
function socketSourceIp(req: http.IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

/** RFC 9112 3.2: a request with more than one Host line is answered 400 (which Host would route it?). */
const MANY_HOSTS = "more than one Host header, which a request must not have";

/** How many Host lines the request's head has (req.headers keeps the first only). */
function hostLines(req: http.IncomingMessage): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === "host") count++;
  }
  return count;
}

/** A source address of this machine's loopback (127.0.0.0/8, ::1; socketSourceIp strips ::ffff:). */
function isLoopback(address: string): boolean {
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/**
 * Calls `done` with the request's bytes, with "too-large" once they pass MAX_BODY_BYTES, or with "too-busy"
 * once `admit` refuses a chunk (the rest is read and dropped either way). A request whose connection is
 * lost never calls it: its response closes instead.
 */
function readBody(
  req: http.IncomingMessage,
  admit: (bytes: number) => boolean,
  done: (body: Buffer | "too-large" | "too-busy") => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on("data", (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    const refusal = size > MAX_BODY_BYTES ? "too-large" : admit(chunk.length) ? undefined : "too-busy";
    if (refusal) {
      refused = true;
      chunks.length = 0;
      done(refusal);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (!refused) done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  });
}

/**
 * The request node:http's parser is reading on a connection, from node:http's internals (as
 * `_httpMessage`): Node clears it once the request is answered and read to its end.
 */
function readingRequest(socket: object): http.IncomingMessage | undefined {
  return (
    (socket as { parser?: { incoming?: http.IncomingMessage | null } | null }).parser?.incoming ?? undefined
  );
}

/**
 * Requests answered before their body was read whole (serve's 404, 413 and own endpoints answer on the
 * head): a body that then fails node:http's checks gets no second answer nor log line.
 */
const answeredBeforeBody = new WeakSet<http.IncomingMessage>();

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
  /** Write the whole answer now, but end the response only once this request's body has been read. */
  options: { endWithRequest?: http.IncomingMessage } = {},
): void {
  if (!res.req.complete) answeredBeforeBody.add(res.req);
  // A request's text it echoes (an unknown route's path, a branch in a reason) may hold a C1 control or a bidi
  // override, which a terminal running `curl` would act on: written as \uXXXX, as serve's log writes them
  // (the JSON parses to the same strings).
  const text = Buffer.from(withoutInvisible(JSON.stringify(body)), "utf8");
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(text.length),
    ...extra,
  });
  if (options.endWithRequest === undefined) {
    res.end(text);
    return;
  }
  res.write(text);
  options.endWithRequest.once("end", () => res.end());
}

/** A path relative to the working directory when it lies below it (shorter, and what the user typed). */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}
