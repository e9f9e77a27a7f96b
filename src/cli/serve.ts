// `hookgate serve`: the gateway on a laptop. The same route handler as the deployed Lambda, behind
// node:http, with embedded stand-ins for Secrets Manager, SQS, DynamoDB and S3 under --state-dir.
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import {
  type ProxySettings,
  ProxySettingsError,
  proxySettings,
  shownProxy,
  unmatchedNoProxyEntries,
} from "../actions/proxy";
import { isoNow } from "../core/clock";
import { decodeBody } from "../core/decode";
import { RequestError, RoutesFileError } from "../core/errors";
import { normaliseDelivery } from "../core/events/normalise";
import { headerBag } from "../core/headers";
import {
  LAMBDA_TIMEOUT_SECONDS,
  MAX_ATTEMPTS,
  MAX_RETRY_DELAY_MS,
  RETRY_BASE_DELAY_MS,
} from "../core/policy";
import type { LogFn, ObjectStore } from "../core/ports";
import { credentialSecretNames } from "../core/routeSecrets";
import { shownBaseUrl, withoutSecretLookalikes } from "../core/routes/checks";
import { DEFAULT_PROVIDER } from "../core/routes/defaults";
import { loadRoutesFile } from "../core/routes/load";
import { withoutInvisible } from "../core/shownText";
import type { Provider, Route, WebhookEvent } from "../core/types";
import { compileIpAllowlist } from "../core/verify";
import { WORK_RESERVE_MS } from "../gateway/routeHandler";
import { SecretsFileError } from "../local/fileSecretStore";
import { type LocalGateway, startLocalGateway } from "../local/localGateway";
import { webhookSecretNames } from "../local/localSecrets";
import { documentNoteLines, routeNoteLines } from "./check";
import { connectUrl, parseCommandArgs, shownUrl, shownUrlArgument, UsageError } from "./commandKit";
import { deliveryHeaders, explainRoutes, PAYLOAD_NAMES_EVENT } from "./explain";
import { sampleDeliveryLines } from "./logSampler";

export const SERVE_USAGE = `Usage: hookgate serve [options]

Runs the gateway locally: POST /hooks/<route> with the same handler code and HTTP contract as the
deployed API, and embedded stand-ins for AWS (secrets file, persistent queue, dead letters, S3 dir).

Options:
  --routes FILE          routes file (default routes.yaml)
  --secrets FILE         JSON secrets file { "<secret name>": "value" | {json} }
                         (default: <state-dir>/secrets.json, created with random webhook secrets)
  --host HOST            address to listen on (default 127.0.0.1)
  --port PORT            port to listen on; 0 picks a free one (default 8787)
  --state-dir DIR        where queued work, dead letters, deliveries and objects live (default .hookgate);
                         one serve per directory
  --s3-endpoint URL      send s3-zip objects to an S3-compatible endpoint (path-style) instead of
                         <state-dir>/s3
  --max-attempts N       attempts before a failing action is dead-lettered (default ${MAX_ATTEMPTS})
  --retry-delay-ms MS    first retry delay, doubled on each attempt up to 15 min (default ${RETRY_BASE_DELAY_MS})
  --timeout-seconds N    each attempt's time, as the deployed function's timeout (lambda.timeoutSeconds,
                         ${LAMBDA_TIMEOUT_SECONDS.min} to ${LAMBDA_TIMEOUT_SECONDS.max}): the action's calls must end ${WORK_RESERVE_MS / 1_000} s before it, or
                         the attempt fails and is retried (default ${LAMBDA_TIMEOUT_SECONDS.fallback})
  --fsync                flush the queue journal and the delivery's id to disk before answering 202, and
                         its outcome before its message goes, so queued work survives a power cut, not
                         only a crash of hookgate, and a redelivery of one that ran is still a duplicate
                         (deliveries arriving together share a flush); s3-zip's objects and pr-cleanup's
                         deletions under <state-dir>/s3 are flushed before the outcome
  --quiet                do not print a log line per delivery and attempt (errors still are)
  --expose-status        answer /_hookgate/* to every client, not only to loopback ones (serve in a
                         container published with -p, whose requests come from the bridge's address)
  -h, --help             show this help

Environment:
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   the actions' outbound calls (Git host API, archive downloads,
                         Jenkins) go through this proxy; NO_PROXY's hosts go direct

Endpoints:
  POST /hooks/<route>          a Git host's delivery
  GET  /_hookgate/deliveries   recent deliveries, newest first (?route=&status=&limit=)
  GET  /_hookgate/health       liveness and queue depth
`;

/**
 * node:http's limits on a slow client, each answered 408: a whole request within 30 s, not Node's 300 s, so a
 * body that never ends does not hold its share of MAX_BODY_BYTES_READING for 5 minutes. A Git host gives
 * up well before (GitHub after 10 s); the head must come within 20 s (Node: at most the request's time).
 */
export const SERVE_SLOW_CLIENT_TIMEOUTS = { headersMs: 20_000, requestMs: 30_000, checkEveryMs: 5_000 };

export interface ServeOptions {
  routes: string;
  secrets?: string;
  host: string;
  port: number;
  stateDir: string;
  s3Endpoint?: string;
  maxAttempts: number;
  retryDelayMs: number;
  timeoutSeconds: number;
  quiet: boolean;
  fsync: boolean;
  exposeStatus: boolean;
}

export function parseServeArgs(argv: string[]): ServeOptions | "help" {
  const { values } = parseCommandArgs(argv, {
    routes: { type: "string", default: "routes.yaml" },
    secrets: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8787" },
    "state-dir": { type: "string", default: ".hookgate" },
    "s3-endpoint": { type: "string" },
    "max-attempts": { type: "string", default: String(MAX_ATTEMPTS) },
    "retry-delay-ms": { type: "string", default: String(RETRY_BASE_DELAY_MS) },
    "timeout-seconds": { type: "string", default: String(LAMBDA_TIMEOUT_SECONDS.fallback) },
    fsync: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    "expose-status": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) return "help";
  const port = integer("--port", values.port, 0, 65_535);
  const maxAttempts = integer("--max-attempts", values["max-attempts"], 1, 1_000);
  const retryDelayMs = integer("--retry-delay-ms", values["retry-delay-ms"], 0, MAX_RETRY_DELAY_MS);
  // The stack's range: below it the work path's reserve and its shortest action leave nothing to run.
  const timeoutSeconds = integer(
    "--timeout-seconds",
    values["timeout-seconds"],
    LAMBDA_TIMEOUT_SECONDS.min,
    LAMBDA_TIMEOUT_SECONDS.max,
  );
  for (const flag of ["routes", "secrets", "host", "state-dir"] as const) {
    // An empty --host would listen on every interface; an empty path would mean the working directory.
    if (values[flag] === "") throw new UsageError(`--${flag} must not be empty`);
  }
  if (values["s3-endpoint"] !== undefined) {
    let url: URL;
    try {
      url = new URL(values["s3-endpoint"]);
    } catch {
      throw new UsageError(`--s3-endpoint must be a URL, got "${shownUrlArgument(values["s3-endpoint"])}"`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new UsageError("--s3-endpoint must be http(s)");
  }
  return {
    routes: values.routes as string,
    secrets: values.secrets,
    host: values.host as string,
    port,
    stateDir: values["state-dir"] as string,
    s3Endpoint: values["s3-endpoint"],
    maxAttempts,
    retryDelayMs,
    timeoutSeconds,
    quiet: values.quiet === true,
    fsync: values.fsync === true,
    exposeStatus: values["expose-status"] === true,
  };
}

function integer(flag: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text ?? "") || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

export async function runServe(argv: string[]): Promise<number> {
  let options: ServeOptions | "help";
  try {
    options = parseServeArgs(argv);
  } catch (error) {
    // The message may quote an argument (--port's value): its invisible characters as \uXXXX.
    process.stderr.write(`hookgate serve: ${withoutInvisible((error as Error).message)}\n\n${SERVE_USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }

  let config: ReturnType<typeof loadRoutesFile>;
  try {
    config = loadRoutesFile(options.routes);
  } catch (error) {
    if (error instanceof RoutesFileError) {
      process.stderr.write(routesProblemsMessage(options.routes, error));
      return 1;
    }
    throw error;
  }

  let proxy: ProxySettings | undefined;
  try {
    proxy = proxySettings(process.env);
  } catch (error) {
    if (!(error instanceof ProxySettingsError)) throw error;
    process.stderr.write(`hookgate serve: ${error.message}\n`);
    return 1;
  }
  // undici reads NO_PROXY more narrowly than curl: an entry it will not match is said, not passed over.
  for (const line of unmatchedNoProxyEntries(proxy?.noProxy ?? "")) {
    process.stderr.write(`hookgate serve: warning: ${line}\n`);
  }

  const sampler = sampleDeliveryLines(writeLog);
  const log: LogFn = options.quiet
    ? (line) => {
        if (line.level === "error") writeLog(line);
      }
    : sampler.log;

  // Listen for signals before anything is printed: a supervisor may signal as soon as it sees the URL.
  // The first SIGINT or SIGTERM stops gracefully; a second one, of either kind, stops right away, with the
  // status a shell gives a process that signal ended: 128 + its number (130 for SIGINT, 143 for SIGTERM).
  const stopRequested = new Promise<void>((resolveSignal) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write("hookgate: stopping right away; queued work stays in the state dir\n");
        process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
      }
      stopping = true;
      sampler.flush();
      flushLog();
      process.stdout.write(`hookgate: ${signal}: stopping (waiting for work in flight)\n`);
      resolveSignal();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

  let gateway: LocalGateway;
  try {
    const objects = options.s3Endpoint ? await s3ObjectStore(options.s3Endpoint) : undefined;
    const { runAction } = require("../actions") as typeof import("../actions");
    gateway = await startLocalGateway({
      config,
      stateDir: options.stateDir,
      secretsFile: options.secrets,
      host: options.host,
      port: options.port,
      maxAttempts: options.maxAttempts,
      retryDelayMs: options.retryDelayMs,
      timeoutMs: options.timeoutSeconds * 1_000,
      objects,
      fsync: options.fsync,
      exposeStatus: options.exposeStatus,
      slowClientTimeouts: SERVE_SLOW_CLIENT_TIMEOUTS,
      proxy,
      runAction: (item, clients) => runAction(item, clients),
      log,
      // Without the journal's last lines, a compaction or the lock's removal: the state dir is the new
      // holder's, which replays what was queued (at least once, as after a crash).
      onLockLost: () => {
        sampler.flush();
        flushLog();
        process.exit(1);
      },
    });
  } catch (error) {
    process.stderr.write(startFailureMessage(error, options));
    return 1;
  }

  process.stdout.write(banner(gateway, { ...options, proxy, documentNotes: config.notes }));

  await stopRequested;
  const { drained, unwritten } = await gateway.close();
  sampler.flush();
  flushLog();
  const notes = unwritten.map(withoutInvisible);
  if (!drained) {
    notes.push(
      `unfinished work stays in ${withoutInvisible(options.stateDir)}/queue/journal.jsonl and resumes on the next start`,
    );
  }
  process.stdout.write(`hookgate: stopped${notes.map((note) => `; ${note}`).join("")}\n`);
  // Journal lines that could not be written (a full disk) are a failed write of state: 1, as for the output.
  if (unwritten.length > 0) process.exitCode = 1;
  if (!drained) {
    // Work still running must not go on after the journal and the lock are let go: another start may
    // already be resuming it.
    flushLog();
    // The status a lost write of the output recorded (bin/hookgate.js) stays: 1, else 0.
    process.exit();
  }
  // Keep-alive sockets of the action clients must not hold the process open.
  setTimeout(() => process.exit(), 1_000).unref();
  return unwritten.length > 0 ? 1 : 0;
}

/**
 * The routes file's problems as serve prints them, each line as check prints it: the file name and the
 * message with invisible characters as \uXXXX (a --routes path may hold an ESC, as may a message).
 */
export function routesProblemsMessage(file: string, error: RoutesFileError): string {
  const lines = error.problems.map(
    (p) => `${withoutInvisible(p.file)}:${p.line}:${p.col}: ${withoutInvisible(p.message)}`,
  );
  return `hookgate serve: ${withoutInvisible(file)} has problems:\n${lines.join("\n")}\n`;
}

/**
 * Why serve could not start, one line. The messages name user-given paths and hosts (--state-dir, --secrets,
 * --host, the lock file): their invisible characters are written as \uXXXX, never sent to the terminal.
 */
export function startFailureMessage(error: unknown, options: Pick<ServeOptions, "host" | "port">): string {
  const code = (error as NodeJS.ErrnoException).code;
  // EACCES is also what a state dir serve may not write gives: only listen's own error is about the port.
  const listening = (error as NodeJS.ErrnoException).syscall === "listen";
  const address = `${options.host}:${options.port}`;
  const message =
    error instanceof SecretsFileError
      ? error.message
      : code === "EADDRINUSE"
        ? `${address} is already in use (another hookgate serve?); try --port 0 or another port`
        : listening && (code === "EACCES" || code === "EADDRNOTAVAIL")
          ? `cannot listen on ${address} (${code})`
          : (error as Error).message;
  return `hookgate serve: ${withoutInvisible(message)}\n`;
}

// Log lines are buffered and written once per turn of the event loop: under load, one write carries
// many lines instead of one system call each. Whatever is buffered is written before the process exits.
let logBuffer = "";
let logFlushScheduled = false;

function flushLog(): void {
  logFlushScheduled = false;
  if (!logBuffer) return;
  const text = logBuffer;
  logBuffer = "";
  process.stdout.write(text);
}

process.on("exit", flushLog);

function writeLog(line: Record<string, unknown>): void {
  // {"time": ..., ...line} without copying the line: its JSON with the time spliced in front. JSON escapes
  // C0 controls only: a C1 control or a bidi override of a pushed branch's name is escaped too (the same
  // \uXXXX form, so the line reads back the same), as the log goes to a terminal.
  const json = withoutInvisible(JSON.stringify(line));
  logBuffer +=
    json.length > 2 && !Object.hasOwn(line, "time")
      ? `{"time":"${isoNow()}",${json.slice(1)}\n`
      : `${withoutInvisible(JSON.stringify({ time: isoNow(), ...line }))}\n`;
  if (logBuffer.length > 64 * 1024) flushLog();
  else if (!logFlushScheduled) {
    logFlushScheduled = true;
    setImmediate(flushLog);
  }
}

async function s3ObjectStore(endpoint: string): Promise<ObjectStore> {
  // Loaded only when asked for: the S3 client takes a while to load.
  const { S3Client } = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
  const { S3ObjectStore } = require("../aws/objectStore") as typeof import("../aws/objectStore");
  const { S3_REQUEST_HANDLER } = require("../aws/s3Runtime") as typeof import("../aws/s3Runtime");
  const hasCredentials = Boolean(process.env.AWS_ACCESS_KEY_ID || process.env.AWS_PROFILE);
  const client = new S3Client({
    endpoint,
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    forcePathStyle: true,
    // The deployed functions' settings: an endpoint that accepts and never answers is cut by the attempt's
    // deadline, which S3ObjectStore honours.
    requestHandler: S3_REQUEST_HANDLER,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Without AWS credentials, a dummy pair: enough for servers that check none (LocalStack); s3rver wants
    // S3RVER/S3RVER and MinIO its root user, from the AWS variables (README, --s3-endpoint).
    ...(hasCredentials
      ? {}
      : { credentials: { accessKeyId: "hookgate-local", secretAccessKey: "hookgate-local" } }),
  });
  // Not every S3-compatible server implements conditional writes (If-Match / If-None-Match on uploads).
  return new S3ObjectStore(client, { unconditionalFallback: true });
}

/** What `serve` prints once it listens: the routes, missing secrets and how to try a delivery. */
export function banner(
  gateway: Pick<
    LocalGateway,
    "url" | "routes" | "secretsFile" | "generatedSecrets" | "missingSecrets" | "resumed"
  >,
  options: Pick<ServeOptions, "routes" | "stateDir" | "s3Endpoint" | "maxAttempts" | "retryDelayMs"> & {
    proxy?: ProxySettings;
    /** The payloads a test delivery may use; the shipped examples/ when absent. */
    examples?: readonly ExampleDelivery[];
    /** The routes file's notes on keys nothing reads (RoutesConfig.notes), which the routes no longer show. */
    documentNotes?: readonly string[];
  },
): string {
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r && !r.startsWith("..") ? r : p;
  };
  const secretsFile = rel(gateway.secretsFile);
  const lines: string[] = [];
  lines.push(`hookgate serve: ${gateway.routes.length} route(s) from ${options.routes}`);
  lines.push(`  state dir  ${options.stateDir}`);
  lines.push(
    `  secrets    ${secretsFile}${gateway.generatedSecrets.length ? ` (generated: ${gateway.generatedSecrets.join(", ")})` : ""}`,
  );
  lines.push(
    `  objects    ${options.s3Endpoint ? `${shownUrl(options.s3Endpoint)} (path-style)` : `${options.stateDir}/s3/<bucket>/<key>`}`,
  );
  lines.push(
    `  retries    ${options.maxAttempts} attempts, first retry after ${options.retryDelayMs} ms, doubling; then dead-letters in ${options.stateDir}/dead-letters`,
  );
  if (options.proxy) lines.push(`  proxy      ${describeProxy(options.proxy)}`);
  if (gateway.resumed > 0)
    lines.push(`  resumed    ${gateway.resumed} queued work item(s) from the last run`);
  lines.push("", "Routes:");
  const width = Math.max(...gateway.routes.map((r) => r.name.length), 4);
  for (const route of gateway.routes) {
    lines.push(
      `  POST ${gateway.url}/hooks/${route.name.padEnd(width)}  ${route.provider.padEnd(16)} ${describeAction(route)}`,
    );
  }
  // As check prints them: a route that can never match, or an edit of a key nothing reads (a top-level
  // jenkins behind defaults.jenkins), would otherwise start without a word.
  const notes = [...documentNoteLines(options.documentNotes), ...routeNoteLines(gateway.routes)];
  if (notes.length > 0) lines.push("", ...notes);
  // A missing webhook secret refuses every delivery (401); any other fails only the actions needing it.
  const webhookSecrets = new Set(webhookSecretNames(gateway.routes));
  const missingWebhook = gateway.missingSecrets.filter((n) => webhookSecrets.has(n));
  const missingOther = gateway.missingSecrets.filter((n) => !webhookSecrets.has(n));
  if (missingWebhook.length > 0) {
    lines.push(
      "",
      `Webhook secrets not in ${secretsFile} (every delivery to the routes that use them is refused with 401 until you add them):`,
      ...missingWebhook.map((n) => `  ${n}`),
    );
  }
  if (missingOther.length > 0) {
    lines.push(
      "",
      `Secrets not in ${secretsFile} (the actions that need them will fail and end "dead" until you add them):`,
      ...missingOther.map((n) => `  ${n}`),
    );
  }
  const first = gateway.routes.find((r) => r.name === "api-build") ?? gateway.routes[0];
  if (first) {
    lines.push(
      "",
      "Point a Git host at it:",
      ...[...new Set(gateway.routes.map((r) => r.provider))].map(
        (provider) => `  ${WEBHOOK_FORM[provider]}, Secret = the route's secret from ${secretsFile}.`,
      ),
      ...forwarding(gateway),
      "",
      "Send a test delivery:",
      ...testDelivery(
        gateway,
        first,
        secretsFile,
        options.routes,
        options.examples ?? shippedExamples(),
        rel,
      ),
      `  curl -s ${thisMachineUrl(gateway.url)}/_hookgate/deliveries`,
    );
  }
  lines.push("", `hookgate listening on ${gateway.url}`, "");
  // Paths as given (--routes, --state-dir, --secrets) and the file's names may hold an ESC or a bidi
  // override: shown as \uXXXX, as check and send show file names, never sent to the terminal as such.
  return lines.map(withoutInvisible).join("\n");
}

/**
 * How a Git host's deliveries reach serve with the bytes it signed. smee-client re-serialises the JSON body
 * (JSON.stringify of what smee.io parsed): the README says where it works.
 */
function forwarding(gateway: Pick<LocalGateway, "url" | "routes">): string[] {
  const github = gateway.routes.find((r) => r.provider === "github");
  const lines = ["  A Git host in the cloud cannot reach 127.0.0.1 (README: Real deliveries):"];
  if (github) {
    lines.push(
      "    GitHub: gh webhook forward (gh extension install cli/gh-webhook) posts each delivery's own bytes:",
      `      gh webhook forward --repo=OWNER/REPO --events=push --url=${gateway.url}/hooks/${github.name} --secret=<the route's secret>`,
    );
  }
  lines.push(
    "    a Git server on your network: serve --host 0.0.0.0, the webhook at this machine's address (open the port in its firewall)",
    "    smee-client re-serialises the JSON body: GitHub's signatures mostly still match, Gitea's and Forgejo's never",
  );
  return lines;
}

/** Which proxy the actions' calls go through, without its credentials. */
function describeProxy(proxy: ProxySettings): string {
  const https = proxy.httpsProxy || proxy.httpProxy;
  const parts = [
    https ? `https via ${shownProxy(https)}` : "https direct",
    proxy.httpProxy ? `http via ${shownProxy(proxy.httpProxy)}` : "http direct",
  ];
  if (proxy.noProxy) parts.push(`direct to NO_PROXY (${proxy.noProxy})`);
  return parts.join("; ");
}

/** Where each host's webhook form is, and what goes in it, for the start banner. */
const WEBHOOK_FORM: Readonly<Record<Provider, string>> = {
  github:
    "GitHub: Settings > Webhooks > Add webhook: Payload URL = a route's URL, Content type = application/json",
  gitlab: "GitLab: Settings > Webhooks > Add new webhook: URL = a route's URL",
  bitbucket: "Bitbucket Cloud: Repository settings > Webhooks > Add webhook: URL = a route's URL",
  "bitbucket-server":
    "Bitbucket Data Center: Repository settings > Webhooks > Create webhook: URL = a route's URL",
  gitea:
    "Gitea: Settings > Webhooks > Add webhook > Gitea: Target URL = a route's URL, Content type = application/json",
};

/** A payload file `hookgate send` can post, and the provider and event it is a delivery of. */
export interface ExampleDelivery {
  file: string;
  provider: Provider;
  event: string;
  body: Buffer;
}

/** The deliveries in examples/ (examples/README.md), in the order the banner prefers them. */
const EXAMPLES: readonly { file: string; provider: Provider; event: string }[] = [
  { file: "github-push.json", provider: "github", event: "push" },
  { file: "github-pr-closed-merged.json", provider: "github", event: "pull_request" },
  { file: "gitlab-push.json", provider: "gitlab", event: "push" },
  { file: "bitbucket-push.json", provider: "bitbucket", event: "push" },
];

/** The shipped example deliveries that can be read (a copy of hookgate may come without them). */
export function shippedExamples(): ExampleDelivery[] {
  const dir = resolve(__dirname, "..", "..", "examples");
  return EXAMPLES.flatMap((example) => {
    const file = join(dir, example.file);
    try {
      return [{ ...example, file, body: readFileSync(file) }];
    } catch {
      return [];
    }
  });
}

/**
 * The banner's test delivery: `hookgate send` of an example the route's match takes, judged as
 * `hookgate explain` judges it (a push the route filters out would only be answered 200 ignored). Routes
 * with a secret first (send always signs: a route without one answers a signed delivery 401), the preferred
 * route first among them, then the others in file order. A route without a secret (auth.allowIps only)
 * gets an unsigned POST, as a host that cannot sign sends it. When no example matches any route, says so
 * and offers explain for the user's own payload.
 */
function testDelivery(
  gateway: Pick<LocalGateway, "url" | "routes">,
  preferred: Route,
  secretsFile: string,
  routesFile: string,
  examples: readonly ExampleDelivery[],
  shown: (path: string) => string,
): string[] {
  const url = thisMachineUrl(gateway.url);
  const credentials = credentialSecretNames(gateway.routes);
  const send = (route: Route, event: string, payload: string, body?: Buffer) => {
    if (!route.secret) return unsignedDelivery(gateway.url, route, event, payload, body);
    // Signed and shaped as the route's own provider sends it: a GitHub push to a GitLab route is a 401.
    const providerFlag = route.provider === DEFAULT_PROVIDER ? "" : ` --provider ${route.provider}`;
    // Never a name a route reads as an API token or Jenkins credentials (check notes it): send would put
    // that credential in the delivery (GitLab's X-Gitlab-Token in clear).
    const secretName = credentials.has(route.secret) ? "WEBHOOK-SECRET-NAME" : route.secret;
    return [
      `  npx hookgate send --url ${url}/hooks/${route.name} --secrets ${secretsFile} --secret-name ${secretName}${providerFlag} --event ${event} --payload ${payload}`,
    ];
  };
  const events = examples.flatMap((example) => {
    const event = exampleEvent(example);
    return event ? [{ example, event }] : [];
  });
  const inOrder = [preferred, ...gateway.routes.filter((r) => r !== preferred)];
  // Without a secret, a route whose auth.allowIps admit this machine first: another answers the curl 403.
  const admitted = (r: Route) => admitsThisMachine(gateway.url, r);
  const ranked = [
    ...inOrder.filter((r) => r.secret),
    ...inOrder.filter((r) => !r.secret && admitted(r)),
    ...inOrder.filter((r) => !r.secret && !admitted(r)),
  ];
  for (const route of ranked) {
    const taken = events.find(({ event }) => explainRoutes([route], event)[0]?.matched);
    if (taken) {
      return send(route, taken.example.event, shown(taken.example.file), taken.example.body);
    }
  }
  const route = ranked[0] ?? preferred;
  const providerFlag = route.provider === DEFAULT_PROVIDER ? "" : ` --provider ${route.provider}`;
  const eventFlag = PAYLOAD_NAMES_EVENT.has(route.provider) ? "" : " --event EVENT";
  return [
    "  No payload in examples/ matches one of these routes: check one of yours with explain, then send it:",
    `  npx hookgate explain --routes ${routesFile}${providerFlag}${eventFlag} --payload PAYLOAD.json`,
    ...send(route, "EVENT", "PAYLOAD.json"),
  ];
}

/**
 * A test delivery to a route without a secret: a plain POST with the headers the gateway reads the event from
 * (as explain judged it; the delivery id is then the body's hash), from this machine, which the route's
 * auth.allowIps must admit (403 otherwise).
 */
function unsignedDelivery(
  listening: string,
  route: Route,
  event: string,
  payload: string,
  body: Buffer | undefined,
): string[] {
  let parsed: unknown;
  try {
    parsed = body === undefined ? undefined : decodeBody(body, "application/json");
  } catch {
    parsed = undefined;
  }
  const headers = Object.entries(deliveryHeaders(route.provider, event, undefined, parsed))
    .map(([name, value]) => ` -H '${name}: ${value}'`)
    .join("");
  const url = thisMachineUrl(listening);
  const curl = `  curl${headers} --data-binary @${payload} ${url}/hooks/${route.name}`;
  const source = sourceAddress(listening);
  if (admitsThisMachine(listening, route)) {
    return [
      `  route ${route.name} has no secret: it takes an unsigned delivery from its auth.allowIps, such as this machine:`,
      curl,
    ];
  }
  // On loopback only, no other machine can reach serve: there is no "one of them" to post from.
  const host = new URL(listening).hostname.replace(/^\[|\]$/g, "");
  const loopbackOnly = /^127\./.test(host) || host === "::1";
  return [
    loopbackOnly
      ? `  route ${route.name} has no secret: it takes an unsigned delivery only from its auth.allowIps, which refuse this machine (${source}), the only one that can reach serve on ${source}: this POST is answered 403 until they admit it:`
      : `  route ${route.name} has no secret: it takes an unsigned delivery only from its auth.allowIps, which do not admit this machine (${source}): post from one of them, to this machine's address:`,
    curl,
  ];
}

/** The source address of a command on this machine posting to serve: loopback for a wildcard listener. */
function sourceAddress(listening: string): string {
  return new URL(thisMachineUrl(listening)).hostname.replace(/^\[|\]$/g, "");
}

/** Whether a route's auth.allowIps admit a POST from this machine to serve (listening at that URL). */
function admitsThisMachine(listening: string, route: Route): boolean {
  return compileIpAllowlist(route.auth.allowIps)(sourceAddress(listening));
}

/**
 * serve's URL as this machine's commands should reach it: 127.0.0.1 for a wildcard listener
 * (--host 0.0.0.0 or ::), as send connects. A client behind a proxy may send a wildcard host to the proxy.
 */
function thisMachineUrl(url: string): string {
  return connectUrl(new URL(url)).origin;
}

/** The event a gateway would make of an example delivery, or undefined when it cannot be normalised. */
function exampleEvent(example: ExampleDelivery): WebhookEvent | undefined {
  try {
    const payload = decodeBody(example.body, "application/json");
    const headers = headerBag(deliveryHeaders(example.provider, example.event, undefined, payload));
    return normaliseDelivery(example.provider, headers, payload, example.body);
  } catch (error) {
    if (error instanceof RequestError) return undefined;
    throw error;
  }
}

function describeAction(route: Route): string {
  const action = route.action;
  switch (action.type) {
    case "jenkins":
      return withoutSecretLookalikes(`jenkins ${action.job} on ${shownBaseUrl(action.jenkins.url)}`);
    case "s3-zip":
      return `s3-zip to s3://${action.bucket ?? "hookgate-artifacts"}/${action.key}`;
    case "pr-cleanup":
      return `pr-cleanup (${action.steps.map((s) => s.kind).join(", ")})`;
  }
}
