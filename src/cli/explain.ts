// `hookgate explain`: which routes a delivery would match, and why the others would not.
// It builds the headers the provider would send, normalises the payload exactly like the gateway, and
// asks each route's matcher. It never verifies signatures.
import { isUtf8 } from "node:buffer";
import { readFileSync } from "node:fs";
import { decodeBody } from "../core/decode";
import { RequestError } from "../core/errors";
import { providerEventName } from "../core/events/eventNames";
import { DELIVERY_HEADERS, EVENT_HEADERS, eventName } from "../core/events/headers";
import { isPing, normaliseDelivery } from "../core/events/normalise";
import { headerBag } from "../core/headers";
import { jenkinsJobProblem } from "../core/jenkinsJob";
import { type KeyScope, keyOutsideScope, routeKeyScope } from "../core/keyPrefixes";
import { type ChangesDecision, compileMatcher, decideChanges } from "../core/match";
import { prCleanupProblem, prCleanupSkipReason, prCleanupStepProblem } from "../core/prCleanupChecks";
import { keyHasEmptyFolder, keyLengthProblem, renderRequest } from "../core/render";
import { DEFAULT_PROVIDER, DEFAULT_ROUTES_FILE } from "../core/routes/defaults";
import { s3ZipShaProblem, s3ZipSkipReason } from "../core/s3ZipSkip";
import { clippedText, shownText, withoutInvisible } from "../core/shownText";
import {
  type ActionRequest,
  type JenkinsRequest,
  PROVIDERS,
  type PrCleanupRequest,
  type Provider,
  type Route,
  type WebhookEvent,
} from "../core/types";
import { buildWorkItem, workItemJson, workItemTooLarge } from "../gateway/workItem";
import { jsonSyntaxProblem } from "../local/fileSecretStore";
import { loadRoutesOrReport } from "./check";
import { type CliIo, formatTable, jsonKind, parseCommandArgs, processIo, UsageError } from "./commandKit";

export const EXPLAIN_USAGE = `Usage: hookgate explain --payload FILE --event NAME [options]

Shows which routes a delivery would match, and for every other route why not. The delivery is built
from a payload file and the headers the provider would send for that event. Signatures are NOT
verified: explain answers "would it route?", not "would it be accepted?".

Options:
  -p, --payload FILE    the delivery's JSON body (required)
  -e, --event NAME      the event, as the provider names it in its header: push, pull_request,
                        "Merge Request Hook", repo:push, ... (GitHub-style push, tag_push and
                        pull_request are translated for GitLab and Bitbucket). Required, except for
                        GitLab and Bitbucket Data Center payloads, which name their event
      --provider P      github | gitlab | bitbucket | bitbucket-server | gitea (default ${DEFAULT_PROVIDER})
      --delivery ID     the delivery id header (default: derived from the payload's bytes)
  -r, --routes FILE     routes file (default ${DEFAULT_ROUTES_FILE})
      --json            print [{"route", "matched", "reason"}] and nothing else
  -h, --help            show this help

Exit status: 0 explained (whether or not anything matched), 1 invalid routes file, payload or event,
2 usage error.
`;

/** Providers whose payloads name their own event, so --event may be left out. */
export const PAYLOAD_NAMES_EVENT: ReadonlySet<string> = new Set(["gitlab", "bitbucket-server"]);

export interface Explanation {
  route: string;
  matched: boolean;
  reason: string;
}

export async function runExplain(argv: string[], io: CliIo = processIo): Promise<number> {
  const { values } = parseCommandArgs(argv, {
    routes: { type: "string", short: "r" },
    event: { type: "string", short: "e" },
    payload: { type: "string", short: "p" },
    provider: { type: "string" },
    delivery: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    io.stdout(EXPLAIN_USAGE);
    return 0;
  }
  for (const flag of ["routes", "event", "delivery"] as const) {
    // As serve and send refuse them: an empty path would be a file named "", an empty event or id no header.
    if (values[flag] === "") throw new UsageError(`--${flag} must not be empty`);
  }
  if (!values.payload) throw new UsageError("--payload FILE is required");
  const provider = values.provider ?? DEFAULT_PROVIDER;
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(", ")}, not "${provider}"`);
  }
  if (values.event === undefined && !PAYLOAD_NAMES_EVENT.has(provider)) {
    throw new UsageError(`--event NAME is required for ${provider} (its payloads do not name their event)`);
  }

  const config = loadRoutesOrReport(values.routes ?? DEFAULT_ROUTES_FILE, io);
  if (!config) return 1;

  const delivery = readDelivery(values.payload, io);
  if (!delivery) return 1;
  let event: WebhookEvent;
  try {
    const headers = headerBag(
      deliveryHeaders(provider as Provider, values.event, values.delivery, delivery.payload),
    );
    if (
      values.event === undefined &&
      eventName(provider as Provider, headers, delivery.payload) === undefined
    ) {
      throw new UsageError(
        `this ${provider} payload does not name an event hookgate knows (${payloadEventField(delivery.payload)}): pass --event NAME`,
      );
    }
    event = normaliseDelivery(provider as Provider, headers, delivery.payload, delivery.body);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    const likely = likelyProvider(delivery.payload);
    const hint =
      likely !== undefined && likely !== provider && !(likely === "github" && provider === "gitea")
        ? `; it looks like a ${likely} payload: pass --provider ${likely}${values.provider === undefined ? ` (the default is ${DEFAULT_PROVIDER})` : ""}`
        : "";
    io.stderr(`hookgate explain: this delivery cannot be normalised: ${error.message}${hint}\n`);
    return 1;
  }

  const results = explainRoutes(config.routes, event);
  if (values.json) {
    // Reasons quote the payload's branch: escaped as the text is (\uXXXX), which JSON reads back the same.
    io.stdout(`${withoutInvisible(JSON.stringify(results))}\n`);
    return 0;
  }
  // The branch, tag and actor come from the payload: a branch may hold a C1 control or a bidi override.
  io.stdout(`${withoutInvisible(describeEvent(event))}\n`);
  const assumed =
    values.event === undefined
      ? undefined
      : assumedEventKey(provider as Provider, values.event, delivery.payload);
  if (assumed !== undefined) io.stdout(`${assumed}\n`);
  io.stdout("(signatures are not verified by explain)\n\n");
  io.stdout(
    formatTable(
      ["ROUTE", "MATCH", "REASON"],
      results.map((r) => [r.route, r.matched ? "yes" : "no", r.reason]),
    ),
  );
  const matched = results.filter((r) => r.matched).length;
  io.stdout(`\n${matched} of ${results.length} route${results.length === 1 ? "" : "s"} would run\n`);
  // A push that changed several refs runs a matched route once per matching change.
  const runs = config.routes
    .filter((_, i) => results[i]?.matched)
    .flatMap((route) =>
      decideChanges(compileMatcher(route), event).matched.map((change) => [
        route.name,
        wouldRun(route, change),
      ]),
    );
  if (runs.length > 0) io.stdout(`\n${formatTable(["ROUTE", "WOULD RUN"], runs)}`);
  return 0;
}

/** The action a matched route would run for this event, with its templates rendered. */
export function wouldRun(route: Route, event: WebhookEvent): string {
  // An s3-zip route without a bucket uses the stack's bucket, which only exists once deployed.
  const action =
    route.action.type === "s3-zip" && route.action.bucket === undefined
      ? { ...route.action, bucket: STACK_BUCKET }
      : route.action;
  let request: ActionRequest;
  // The scope of the route as explained: an s3-zip key in the placeholder bucket is checked against its prefixes.
  const scope = routeKeyScope({ ...route, action });
  try {
    request = renderRequest({ ...route, action }, event);
  } catch (error) {
    return `(cannot render: ${(error as Error).message})`;
  }
  // The gateway queues the item before any action: one over what a queue message holds is answered 500, and no
  // action sees it. Built as the gateway builds it (generation 1, accepted now: the sizes of the first delivery).
  const tooLarge = workItemTooLarge(workItemJson(buildWorkItem(route, event, request, 1, Date.now())));
  if (tooLarge !== undefined) {
    return `${describePlain(request)} (refused: ${tooLarge.message}: the gateway answers the delivery 500 and queues nothing)`;
  }
  // What the action skips (s3Zip.ts): any event but a push, a push that deleted its ref, one without a commit.
  // It skips before it checks the key (its empty folders, length and prefixes), so no failure is said beside.
  if (request.type === "s3-zip") {
    const skip = s3ZipSkipReason(event);
    if (skip !== undefined) return `${describePlain(request)} (skipped: ${skip})`;
    // Then its sha, before the key: a push whose sha is no commit id fails whatever the key.
    const badSha = s3ZipShaProblem(event);
    if (badSha !== undefined) return `${describePlain(request)} (fails: ${badSha})`;
  }
  // What pr-cleanup skips (any event but a pull request's closing) or fails on (no head commit, as a Gogs pull
  // request has none) before it looks at its steps: said alone, as for s3-zip.
  if (request.type === "pr-cleanup") {
    const skipped = prCleanupSkipReason(event);
    if (skipped !== undefined) return `${describePrCleanup(request)} (skipped: ${skipped})`;
    const problem = prCleanupProblem(event);
    if (problem !== undefined) return `${describePrCleanup(request)} (fails before any step: ${problem})`;
  }
  return describeRequest(request, scope, event.repo.fullName);
}

const STACK_BUCKET = "<stack bucket>";

/** `scope` and `hostRepo`: what the actions check a key against before any S3 call (keyOutsideScope). */
function describeRequest(request: ActionRequest, scope: KeyScope, hostRepo: string): string {
  switch (request.type) {
    case "jenkins": {
      // The action refuses such a job before any call (jenkins.ts jobPath): say so here rather than "would run".
      const problem = jenkinsJobProblem(request.job);
      return problem === undefined
        ? describeJenkins(request)
        : `${describeJenkins(request)} (fails: ${problem})`;
    }
    case "s3-zip": {
      const target = describePlain(request);
      // The action refuses such a key before any download (s3Zip.ts): say so here rather than "would run".
      if (keyHasEmptyFolder(request.key))
        return `${target} (fails: a folder of the key renders empty, as {{branch}} does for a tag push)`;
      const tooLong = keyLengthProblem(request.key);
      if (tooLong !== undefined) return `${target} (fails: ${tooLong})`;
      const outside = keyOutsideScope(scope, request.bucket, request.key, hostRepo);
      return outside === undefined ? target : `${target} (fails: ${outside})`;
    }
    case "pr-cleanup":
      return describePrCleanup(request, { scope, hostRepo });
  }
}

/** The action as rendered, without what it would refuse. */
function describePlain(request: ActionRequest): string {
  switch (request.type) {
    case "jenkins":
      return describeJenkins(request);
    case "s3-zip":
      return `s3-zip to s3://${request.bucket}/${request.key}`;
    case "pr-cleanup":
      return describePrCleanup(request);
  }
}

/** The steps; with `checks`, the first step problem, for which the action refuses the delivery before any step. */
function describePrCleanup(
  request: PrCleanupRequest,
  checks?: { scope: KeyScope; hostRepo: string },
): string {
  const steps = `pr-cleanup: ${request.steps
    .map((step) =>
      step.kind === "delete-branch"
        ? `delete-branch${step.onlyMerged ? " (if merged)" : ""}`
        : step.kind === "delete-s3-prefix"
          ? `delete s3://${step.bucket}/${step.prefix}`
          : describeJenkins(step.request),
    )
    .join("; ")}`;
  if (checks === undefined) return steps;
  // prCleanup.ts checks every step before the first and fails on the first problem: no step runs, not even
  // those listed before it, so the problem is said after all of them rather than after its step.
  for (const step of request.steps) {
    const problem = prCleanupStepProblem(step, checks.scope, checks.hostRepo);
    if (problem !== undefined) return `${steps} (fails before any step: ${problem})`;
  }
  return steps;
}

/** A jenkins action or step as rendered, without what the action would refuse. */
function describeJenkins(request: JenkinsRequest): string {
  const parameters = Object.entries(request.parameters).map(([name, value]) => `${name}=${value}`);
  return [`jenkins job ${request.job.join("/")}`, ...parameters].join(" ");
}

/**
 * An open pull request's payload is sent under several Bitbucket keys (created, updated, approved, ...; Data
 * Center's pr:opened, pr:from_ref_updated, pr:modified, ...), which hookgate reads as different actions: for
 * --event pull_request explain assumes the opening, and says so. Undefined when the key is not a guess.
 */
export function assumedEventKey(provider: Provider, event: string, payload: unknown): string | undefined {
  if (event !== "pull_request") return undefined;
  const key = providerEventName(provider, event, payload);
  const other =
    provider === "bitbucket" && key === "pullrequest:created"
      ? "pullrequest:updated"
      : provider === "bitbucket-server" && key === "pr:opened"
        ? "pr:from_ref_updated"
        : undefined;
  if (other === undefined) return undefined;
  return (
    `(--event pull_request was sent as X-Event-Key ${key}, as if the pull request had just been opened; the ` +
    `delivery you mean may have another key, which can match other routes: pass it, e.g. --event ${other})`
  );
}

/** What the gateway does with a verified ping, whatever the route's match says. */
export const PING_REASON = "a ping is answered 200 pong before any matching: no route runs";

/** Every route's decision for the event, in file order. A route for another provider never matches. */
export function explainRoutes(routes: readonly Route[], event: WebhookEvent): Explanation[] {
  return routes.map((route) => {
    if (route.provider !== event.provider) {
      return {
        route: route.name,
        matched: false,
        reason: `the route is for ${route.provider} deliveries, this one is from ${event.provider}`,
      };
    }
    if (isPing(event)) return { route: route.name, matched: false, reason: PING_REASON };
    let decision: ChangesDecision;
    try {
      decision = decideChanges(compileMatcher(route), event);
    } catch (error) {
      return { route: route.name, matched: false, reason: `the matcher failed: ${(error as Error).message}` };
    }
    return { route: route.name, matched: decision.matched.length > 0, reason: decision.reason };
  });
}

/** The headers `provider` would send with a delivery of `event` (Bitbucket's pull request key: from `payload`). */
export function deliveryHeaders(
  provider: Provider,
  event: string | undefined,
  deliveryId: string | undefined,
  payload?: unknown,
): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (event !== undefined) {
    const eventHeader = EVENT_HEADERS[provider][0];
    if (eventHeader) headers[eventHeader] = providerEventName(provider, event, payload);
  }
  const deliveryHeader = DELIVERY_HEADERS[provider][0];
  if (deliveryId !== undefined && deliveryHeader) headers[deliveryHeader] = deliveryId;
  return headers;
}

function readDelivery(file: string, io: CliIo): { body: Buffer; payload: unknown } | undefined {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr(
      `hookgate explain: payload file ${withoutInvisible(file)} ${code === "ENOENT" ? "not found" : `cannot be read (${code})`}\n`,
    );
    return undefined;
  }
  try {
    // Read as the gateway reads a JSON body: UTF-8, a byte-order mark skipped, an object.
    return { body, payload: decodeBody(body, "application/json") };
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    io.stderr(
      `hookgate explain: payload file ${withoutInvisible(file)} ${payloadProblem(body, error.message)}\n`,
    );
    return undefined;
  }
}

/**
 * Why the gateway would refuse a payload file, past its own message (which never quotes the body). Not UTF-8:
 * the gateway's message, naming UTF-16 as check does for a routes file. A syntax error: its line and column,
 * as check and the secrets file reader say them (jsonSyntaxProblem), and JSON.parse's words, which quote the
 * file's text: its control characters (a terminal escape, a line break) as \uXXXX, on one line, clipped.
 * Valid JSON that is no object (an array): said so, not called "not JSON".
 */
function payloadProblem(body: Buffer, gatewayMessage: string): string {
  if (!isUtf8(body)) {
    const utf16 = (body[0] === 0xff && body[1] === 0xfe) || (body[0] === 0xfe && body[1] === 0xff);
    return `is not JSON: ${utf16 ? `${gatewayMessage} (saved as UTF-16: save it as UTF-8)` : gatewayMessage}`;
  }
  const text = body.toString("utf8").replace(/^\uFEFF/, "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const where = jsonSyntaxProblem(text, error);
    // The position is in `where` as a line and column; V8's offset is left out.
    const reason = clippedText((error as Error).message.replace(/ in JSON at position \d+.*$/s, ""), 200);
    return where === "not valid JSON" ? `is not JSON: ${reason}` : `is ${where}: ${reason}`;
  }
  return `is JSON but not an object (${jsonKind(parsed)}): the gateway answers 400, ${gatewayMessage}`;
}

/**
 * The provider whose payloads look like this one, by the fields only that host sends (GitLab's
 * object_kind, Data Center's eventKey, Bitbucket Cloud's repository type), for a hint when --provider is
 * wrong. GitHub and Gitea payloads look alike: either may be meant.
 */
function likelyProvider(payload: unknown): string | undefined {
  const body = payload as Record<string, unknown>;
  const repository = body.repository as Record<string, unknown> | undefined;
  if (typeof body.object_kind === "string") return "gitlab";
  if (typeof body.eventKey === "string") return "bitbucket-server";
  if (repository?.type === "repository") return "bitbucket";
  if (typeof repository?.full_name === "string") return "github";
  return undefined;
}

/** The payload field that names its event, as written, for a message. */
function payloadEventField(payload: unknown): string {
  const body = payload as Record<string, unknown>;
  if ("object_kind" in body) return `object_kind ${shownField(body.object_kind)}`;
  if ("eventKey" in body) return `eventKey ${shownField(body.eventKey)}`;
  return "it has no object_kind or eventKey";
}

/** A payload's value as a message quotes it: any length, any character (a U+202E) may be in the file. */
function shownField(value: unknown): string {
  return typeof value === "string" ? shownText(value) : clippedText(String(JSON.stringify(value)), 80);
}

function describeEvent(event: WebhookEvent): string {
  const parts = [`${event.provider} ${event.event}${event.action ? `.${event.action}` : ""}`];
  if (event.repo.fullName) parts.push(`repo ${event.repo.fullName}`);
  if (event.branch !== undefined) parts.push(`branch ${event.branch}`);
  if (event.tag !== undefined) parts.push(`tag ${event.tag}`);
  if (event.pr) parts.push(`PR #${event.pr.number}${event.pr.merged ? " (merged)" : ""}`);
  if (event.sha) parts.push(`sha ${event.sha.slice(0, 12)}`);
  if (event.actor) parts.push(`by ${event.actor}`);
  parts.push(`delivery ${event.deliveryId}`);
  const others = (event.otherChanges ?? []).map((change) => change.ref ?? "(unknown ref)");
  if (others.length > 0)
    parts.push(`and ${others.length} more ref change${others.length === 1 ? "" : "s"}: ${others.join(", ")}`);
  return `Delivery: ${parts.join(", ")}`;
}
