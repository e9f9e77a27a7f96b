// The deployed composition: read the environment once per cold start, build the AWS clients and the
// route handler, and hand Lambda a function. handlers/<type>.ts call `lambdaHandler(runner)` with
// the one action they bundle, so each bundle carries only what its action needs.

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
  SQSBatchResponse,
  SQSEvent,
} from "aws-lambda";
import { type ProxySettings, ProxySettingsError, proxySettings } from "../actions/proxy";
import type { ActionClients } from "../actions/types";
import { routeKeyScope } from "../core/keyPrefixes";
import { consoleOrigin } from "../core/partitions";
import { MAX_ATTEMPTS, MAX_RECEIVE_COUNT, REDRIVE_MARGIN } from "../core/policy";
import type { LogFn, ObjectStore } from "../core/ports";
import { withoutInvisible } from "../core/shownText";
import type { ActionOutcome, Route, WorkItem } from "../core/types";
import { createRouteHandler, type RouteHandler } from "../gateway/routeHandler";
import { DynamoDedupeStore } from "./dedupe";
import { SecretsManagerStore } from "./secrets";
import { SqsDeadLetterQueue, SqsWorkQueue, sqsBackoff } from "./sqs";

/** One action kind's runner: triggerJenkins, uploadSourceZip or cleanUpPullRequest, adapted. */
export type ActionRunner = (item: WorkItem, clients: ActionClients) => Promise<ActionOutcome>;

export interface LambdaHandlerOptions {
  /** Builds the object store for actions that write to S3; absent for Jenkins-only bundles. */
  objects?: (config: RuntimeConfig) => ObjectStore;
  /** The work path's reserve after the action (default WORK_RESERVE_MS); tests shorten it. */
  workReserveMs?: number;
}

export interface RuntimeConfig {
  route: Route;
  queueUrl: string;
  dlqUrl: string;
  dedupeTable: string;
  maxAttempts: number;
  region?: string;
  logsUrl?: string;
  /** The actions' egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); the AWS SDK clients never use it. */
  proxy?: ProxySettings;
  /** The function's memory in MB, from Lambda's AWS_LAMBDA_FUNCTION_MEMORY_SIZE. */
  memoryMb?: number;
  /** hookgate:secretNamePrefix (HOOKGATE_SECRET_NAME_PREFIX, set only when there is one), in the route's secret names. */
  secretNamePrefix: string;
}

/** Thrown at init when the function's environment is incomplete: a deployment mistake. */
export class RuntimeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuntimeConfigError";
  }
}

/**
 * Short timeouts: the receive path must answer inside GitHub's 10 s window. Without
 * throwOnRequestTimeout, the SDK's requestTimeout only prints a warning and the call goes on waiting.
 */
export const CLIENT_TIMEOUTS = {
  connectionTimeout: 1_500,
  requestTimeout: 3_000,
  throwOnRequestTimeout: true,
} as const;
const CLIENT_MAX_ATTEMPTS = 2;

/** Reads and checks the HOOKGATE_* variables and the proxy's. Every problem is reported at once. */
export function readRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const problems: string[] = [];
  const need = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is not set`);
    return value ?? "";
  };
  const routeJson = need("HOOKGATE_ROUTE");
  const queueUrl = need("HOOKGATE_QUEUE_URL");
  const dlqUrl = need("HOOKGATE_DLQ_URL");
  const dedupeTable = need("HOOKGATE_DEDUPE_TABLE");
  let route: Route | undefined;
  if (routeJson) {
    try {
      const parsed = JSON.parse(routeJson) as Route;
      if (typeof parsed?.name !== "string" || typeof parsed.action?.type !== "string" || !parsed.auth) {
        problems.push("HOOKGATE_ROUTE is not a compiled route (name, auth and action are required)");
      } else {
        route = parsed;
      }
    } catch {
      problems.push("HOOKGATE_ROUTE is not valid JSON");
    }
  }
  let maxAttempts = MAX_ATTEMPTS;
  const rawAttempts = env.HOOKGATE_MAX_ATTEMPTS?.trim();
  if (rawAttempts) {
    maxAttempts = Number(rawAttempts);
    // The stack's queue moves a message to the DLQ after MAX_RECEIVE_COUNT receives: more attempts than
    // MAX_ATTEMPTS would leave the function's own last attempt (its reason, its dead mark) to the receives the
    // margin keeps for those that never reach it, or past the backstop altogether.
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
      problems.push(
        `HOOKGATE_MAX_ATTEMPTS must be an integer from 1 to ${MAX_ATTEMPTS} (the route's queue moves a message to its DLQ after ${MAX_RECEIVE_COUNT} receives, ${REDRIVE_MARGIN} of them kept for receives that never reach the function), got "${rawAttempts.slice(0, 20)}"`,
      );
    }
  }
  let proxy: ProxySettings | undefined;
  try {
    proxy = proxySettings(env);
  } catch (error) {
    if (!(error instanceof ProxySettingsError)) throw error;
    problems.push(error.message);
  }
  if (problems.length > 0 || !route) {
    throw new RuntimeConfigError(`hookgate: incomplete Lambda environment: ${problems.join("; ")}`);
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return {
    route,
    queueUrl,
    dlqUrl,
    dedupeTable,
    maxAttempts,
    region,
    logsUrl: cloudWatchLogsUrl(region, env.AWS_LAMBDA_LOG_GROUP_NAME, env.AWS_LAMBDA_LOG_STREAM_NAME),
    proxy,
    ...(Number.isInteger(memoryMb) && memoryMb > 0 ? { memoryMb } : {}),
    secretNamePrefix: env.HOOKGATE_SECRET_NAME_PREFIX ?? "",
  };
}

/** The CloudWatch console link to this execution environment's log stream. */
export function cloudWatchLogsUrl(region?: string, group?: string, stream?: string): string | undefined {
  if (!region || !group) return undefined;
  // The console's fragment encodes twice and writes "%" as "$".
  const enc = (text: string) => encodeURIComponent(encodeURIComponent(text)).replace(/%/g, "$");
  const base = `${consoleOrigin(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${enc(group)}`;
  return stream ? `${base}/log-events/${enc(stream)}` : base;
}

/**
 * One JSON object per line on stdout, which Lambda sends to CloudWatch as is. Control and format characters
 * JSON leaves alone (a branch's C1 control or bidi override) are written as \uXXXX escapes too: `aws logs
 * tail` shows the lines in a terminal, and the line reads back the same.
 */
export const jsonLog: LogFn = (line) => {
  const { level, msg, ...rest } = line;
  process.stdout.write(
    `${withoutInvisible(JSON.stringify({ time: new Date().toISOString(), level: level ?? "info", msg: msg ?? "log", ...rest }))}\n`,
  );
};

export function buildRouteHandler(
  config: RuntimeConfig,
  run: ActionRunner,
  options: LambdaHandlerOptions = {},
): RouteHandler {
  const common = { region: config.region, maxAttempts: CLIENT_MAX_ATTEMPTS, requestHandler: CLIENT_TIMEOUTS };
  const sqs = new SQSClient(common);
  const secrets = new SecretsManagerStore(new SecretsManagerClient(common), { log: jsonLog });
  const objects = options.objects?.(config) ?? missingObjectStore(config.route.name);
  const clients: ActionClients = {
    secrets,
    objects,
    log: jsonLog,
    logsUrl: config.logsUrl,
    proxy: config.proxy,
    // The prefixes the role's policy was built from (the same route): a key outside them fails with its reason.
    keyScope: routeKeyScope(config.route),
    secretNamePrefix: config.secretNamePrefix,
    ...(config.memoryMb !== undefined ? { memoryMb: config.memoryMb } : {}),
  };
  return createRouteHandler({
    route: config.route,
    secrets,
    queue: new SqsWorkQueue(sqs, config.queueUrl),
    deadLetters: new SqsDeadLetterQueue(sqs, config.dlqUrl),
    dedupe: new DynamoDedupeStore(new DynamoDBClient(common), config.dedupeTable),
    runAction: (item, limits) =>
      run(item, {
        ...clients,
        ...(limits?.deadlineMs ? { deadlineMs: limits.deadlineMs } : {}),
        ...(limits?.lastAttempt ? { lastAttempt: true } : {}),
        ...(limits?.attempt ? { attempt: limits.attempt } : {}),
        ...(limits?.mayHaveRun ? { mayHaveRun: true } : {}),
      }),
    log: jsonLog,
    maxAttempts: config.maxAttempts,
    backoff: sqsBackoff(sqs, config.queueUrl),
    // The same call: the record's visibility set to the invocation's time before its action runs.
    holdRecord: sqsBackoff(sqs, config.queueUrl),
    workReserveMs: options.workReserveMs,
  });
}

function missingObjectStore(route: string): ObjectStore {
  const fail = async (): Promise<never> => {
    throw new Error(`route "${route}": this function was built without an object store`);
  };
  return { put: fail, head: fail, deletePrefix: fail };
}

export type LambdaEvent = APIGatewayProxyEvent | SQSEvent;
export type LambdaResult = APIGatewayProxyResult | SQSBatchResponse;

/**
 * The Lambda entry point for one action kind. The environment is read once per cold start (eagerly
 * when running inside Lambda, so a broken deployment fails at init with a clear message).
 */
export function lambdaHandler(
  run: ActionRunner,
  options: LambdaHandlerOptions = {},
): (event: LambdaEvent, context?: Context) => Promise<LambdaResult> {
  let handler: RouteHandler | undefined;
  const get = (): RouteHandler => {
    handler ??= buildRouteHandler(readRuntimeConfig(), run, options);
    return handler;
  };
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) get();
  return async (event, context) =>
    get().handle(
      event,
      typeof context?.getRemainingTimeInMillis === "function"
        ? { remainingMs: () => context.getRemainingTimeInMillis() }
        : undefined,
    );
}
