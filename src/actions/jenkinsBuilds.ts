// A retry's look for the build an earlier attempt of the same delivery started, before it asks for one again.
//
// A timeout, a dropped connection or a proxy's 504 after the build request was sent leaves unknown whether
// Jenkins queued the build. A repeat of the request is merged into the first only while that one waits in the
// queue (Queue.scheduleInternal: its waiting, blocked and buildable items; not one already handed to an executor),
// so once the first has started the repeat builds a second time. Before it posts again, a retry reads the job's
// latest builds in one GET:
//   {job}/api/json?tree=property[parameterDefinitions[name,type,defaultParameterValue[value]]],
//                       builds[number,url,timestamp,actions[parameters[name,value],causes[userId,note,addr]]]{0,N}
// A build matches when:
// - a cause is a UserIdCause of the credentials' user: a request signed with a user's API token is one
//   (ParameterizedJobMixIn.getBuildCause), but not with a `token` parameter when the job has a trigger token
//   ("Trigger builds remotely"): that request gets a RemoteCause(addr, note) whose note is the request's `cause`
//   text, never a UserIdCause. The action sends "hookgate delivery <id>" in it then, and with a `token` only a
//   RemoteCause with that note, exactly, matches: a UserIdCause of the user is another route's or a person's
//   build, and taking it would lose this delivery's. Only when none of the builds listed has a RemoteCause
//   (the job has no trigger token, so Jenkins ignored `token` and recorded the user) is the user matched
//   instead. A build holding a value sent that names the delivery (below) matches with a UserIdCause of the
//   user either way. A route's own cause is sent instead of hookgate's: it names the delivery only when it
//   holds the delivery id, else a RemoteCause with it is taken by the time and the parameters (below), and
//   another delivery's build of the same values matches;
// - its timestamp (Run's, set when the build leaves the queue, by Jenkins' clock) is at or after the delivery's
//   acceptance, moved by as far as Jenkins' clock can be ahead of ours by the GET's Date header
//   (sinceByJenkinsClock); not moved for a build naming the delivery (a value sent holding the delivery id,
//   held as sent, or the RemoteCause's note holding it), as no other delivery's build holds that;
// - its parameters are the ones the request gives the job: Jenkins keeps a value for each parameter the job
//   defines (the one sent, else the default) and none for another (ParametersDefinitionProperty
//   .buildWithParameters), so each defined parameter is compared, as text, with the value sent or, when none is,
//   with its default. An empty string default is held as null (Util.fixEmpty), shown "value": null, and compared
//   as "": it is not skipped, else another route's build with a value for it would match. Only a default that
//   shows no `value` (a password's, a file's) is. A value sent for a BooleanParameterDefinition, or for a
//   plugin's subclass of it (a definition whose default's value is a JSON boolean), is read as Jenkins reads it
//   (Boolean.valueOf: "True" is true, "yes" false). A StringParameterDefinition with "Trim the string" on
//   (Jenkins 2.90+) holds the value sent trimmed (createValue: StringParameterValue.doTrim, Java's String.trim),
//   and its isTrim is not exported to the API: for a string definition the value trimmed so matches too. A
//   TextParameterDefinition's createValue does not trim: compared exactly. A job that defines none: the user
//   and the time only. A Pipeline's Jenkinsfile redefines the parameters while its build runs, so a defined
//   parameter a build holds no entry for (it was not defined when the build was queued) is skipped, when no
//   build holds them all, unless its value sent holds the delivery id; a default changed so cannot be told
//   from another route's value (not skipped).
// The build is not looked for in the queue: a request still queued there takes the repeat in (303).
import {
  discard,
  type HttpResponse,
  header,
  httpRequest,
  isJsonObject,
  readJson,
  withoutCredentials,
} from "./http";
import type { ActionClients } from "./types";

/**
 * The request parameters Jenkins' build endpoints read as their own controls, /build as /buildWithParameters
 * (BuildAuthorizationToken.checkPermission: token; getBuildCause: cause; doBuild's @QueryParameter: delay), and
 * which give a job none of its parameters: a request with these alone is a build without parameters.
 */
export const REQUEST_CONTROLS: ReadonlySet<string> = new Set(["token", "cause", "delay"]);

/** How many of the job's latest builds are read: newest first, whoever started them. */
export const EARLIER_BUILDS = 20;

export const BUILDS_TREE =
  "property[parameterDefinitions[name,type,defaultParameterValue[value]]]," +
  `builds[number,url,timestamp,actions[parameters[name,value],causes[userId,note,addr]]]{0,${EARLIER_BUILDS}}`;

export interface WantedBuild {
  /** The credentials' user: the UserIdCause's userId (Jenkins' ids are case-insensitive by default). */
  user: string;
  /** The delivery's acceptance (epoch ms): a build of it left the queue at or after. */
  sinceMs: number;
  /** The parameters the request sends. */
  parameters: Readonly<Record<string, string>>;
  /**
   * With a `token` parameter: the `cause` text sent, which a RemoteCause's note holds (it names the delivery only
   * when the text holds the delivery id). A build with it counts instead of one of `user`, unless no build listed
   * has a RemoteCause (the job has no trigger token).
   */
  note?: string;
  /**
   * The delivery's id: a build holding it, in a value sent or in the RemoteCause's note, is this delivery's, so
   * its time is compared with `sinceMs` itself, without the margin for Jenkins' clock.
   */
  deliveryId?: string;
}

export interface EarlierBuild {
  number: number;
  /** The build's URL, as Jenkins gives it (not yet cleaned for a log). */
  url?: string;
}

export type EarlierBuildLookup =
  | { kind: "found"; build: EarlierBuild }
  | { kind: "none" }
  /** The item lists no builds (a multibranch project, a folder): nothing to look for. */
  | { kind: "not-a-job" }
  /** The GET failed: why, for a warning (no credentials in it). */
  | { kind: "failed"; reason: string };

/** GET the job's latest builds and find one of `wanted`; never throws. */
export async function findEarlierBuild(
  jobUrl: string,
  wanted: WantedBuild,
  headers: Record<string, string>,
  dispatcher: ActionClients["dispatcher"],
  clients: ActionClients,
): Promise<EarlierBuildLookup> {
  let res: HttpResponse;
  const sentAtMs = Date.now();
  try {
    res = await httpRequest({
      method: "GET",
      // Encoded: Tomcat refuses the raw [ ] { } of a tree expression in a request target.
      url: `${jobUrl}/api/json?tree=${encodeURIComponent(BUILDS_TREE)}`,
      headers,
      dispatcher,
      timeoutMs: clients.timeoutMs,
      deadlineMs: clients.deadlineMs,
      what: "Jenkins remote API",
    });
  } catch (err) {
    return { kind: "failed", reason: withoutCredentials(errorText(err), headers) };
  }
  if (res.statusCode !== 200) {
    await discard(res);
    return { kind: "failed", reason: `Jenkins remote API answered ${res.statusCode}` };
  }
  let job: unknown;
  try {
    job = await readJson<unknown>(res, "Jenkins remote API");
  } catch (err) {
    return { kind: "failed", reason: withoutCredentials(errorText(err), headers) };
  }
  // An item's API answers an object: anything else (JSON null) is unread, not a folder without builds.
  if (!isJsonObject(job)) {
    return { kind: "failed", reason: "Jenkins remote API answered 200 with JSON that is not an object" };
  }
  const found = matchingBuild(
    job,
    wanted,
    sinceByJenkinsClock(wanted.sinceMs, header(res.headers, "date"), sentAtMs),
  );
  if (found === "not-a-job") return { kind: "not-a-job" };
  return found === undefined ? { kind: "none" } : { kind: "found", build: found };
}

/**
 * The delivery's acceptance (`sinceMs`, by the gateway's clock) by Jenkins' clock, which stamps the builds, as far
 * ahead as the GET's answer lets it be: its Date header (RFC 7231, whole seconds: Jenkins' clock was at least
 * `date` and less than `date` + 1 s when it answered, which is after `sentAtMs` by ours). A build Jenkins stamps
 * within that much after the acceptance may have started before it, at the commit before this delivery's, so it
 * is not taken. When the Date header says Jenkins' clock is not ahead, or there is none that parses, `sinceMs` as
 * it is (a clock behind ours can then miss the delivery's own build: it is requested again). The time the GET
 * took counts as clock offset too (a slow answer can miss the build the same way), and behind a proxy that writes
 * its own Date (nginx by default) the clock read is the proxy's.
 */
export function sinceByJenkinsClock(sinceMs: number, date: string | undefined, sentAtMs: number): number {
  const jenkinsAtMs = date === undefined ? Number.NaN : Date.parse(date);
  if (!Number.isFinite(jenkinsAtMs)) return sinceMs;
  const aheadAtMostMs = jenkinsAtMs + 1_000 - sentAtMs;
  return aheadAtMostMs > 0 ? sinceMs + aheadAtMostMs : sinceMs;
}

/**
 * The newest build of the job's api/json (its `builds`, newest first) that `wanted` describes; "not-a-job" when
 * the item has no builds list. A build left the queue at or after `clockSinceMs` (the acceptance moved by how far
 * Jenkins' clock can be ahead), or at or after the acceptance itself when it names the delivery.
 */
export function matchingBuild(
  job: unknown,
  wanted: WantedBuild,
  clockSinceMs = wanted.sinceMs,
): EarlierBuild | undefined | "not-a-job" {
  if (!isJsonObject(job) || !Array.isArray(job.builds)) return "not-a-job";
  const definitions = objects(job.property).flatMap((property) => objects(property.parameterDefinitions));
  const sent = Object.keys(wanted.parameters).filter((name) => !REQUEST_CONTROLS.has(name));
  // Jenkins refuses parameters to a job that defines none (500): no build of this request can exist. Its
  // request controls alone are no parameters: they are posted to /build, which takes them.
  if (sent.length > 0 && definitions.length === 0) return undefined;
  /** Each defined parameter's values a build of the request can hold; undefined: Jenkins shows none to compare. */
  const expected = new Map<string, readonly string[] | undefined>();
  for (const definition of definitions) {
    if (typeof definition.name !== "string" || expected.has(definition.name)) continue;
    const sentValue = Object.hasOwn(wanted.parameters, definition.name)
      ? wanted.parameters[definition.name]
      : undefined;
    if (sentValue === undefined) {
      const fallback = defaultText(definition.defaultParameterValue);
      expected.set(definition.name, fallback === undefined ? undefined : [fallback]);
    } else if (isBoolean(definition)) {
      expected.set(definition.name, [String(sentValue.toLowerCase() === "true")]);
    } else {
      // Whether the job trims is not shown: either form is the request's build.
      const trimmed = isString(definition) ? javaTrim(sentValue) : sentValue;
      expected.set(definition.name, trimmed === sentValue ? [sentValue] : [sentValue, trimmed]);
    }
  }
  const user = wanted.user.toLowerCase();
  const id = wanted.deliveryId;
  /** A value naming the delivery is exact: no other delivery's build holds it. */
  const naming = (value: string | undefined) => id !== undefined && id !== "" && value?.includes(id) === true;
  /** A parameter whose value sent names the delivery (DELIVERY: {{deliveryId}}). */
  const namingSent = (name: string) =>
    Object.hasOwn(wanted.parameters, name) && naming(wanted.parameters[name]);
  const causesOf = (build: Record<string, unknown>) =>
    objects(build.actions).flatMap((action) => objects(action.causes));
  const byUser = (cause: Record<string, unknown>) =>
    typeof cause.userId === "string" && cause.userId.toLowerCase() === user;
  // With `token`, a job with a trigger token records this request's build as a RemoteCause only: a UserIdCause
  // build of the same values is someone else's. A RemoteCause listed shows the job has one; with none listed
  // (no trigger token: Jenkins ignored `token`) the user is matched. Once one is listed, at worst a duplicate.
  const byRemote =
    wanted.note !== undefined && objects(job.builds).some((build) => causesOf(build).some(isRemoteCause));
  const ours = (cause: Record<string, unknown>) =>
    byRemote ? isRemoteCause(cause) && cause.note === wanted.note : byUser(cause);
  const candidates: { number: number; url: unknown; values: Map<string, string | undefined> }[] = [];
  for (const build of objects(job.builds)) {
    if (typeof build.number !== "number" || typeof build.timestamp !== "number") continue;
    if (build.timestamp < wanted.sinceMs) continue;
    const actions = objects(build.actions);
    const causes = causesOf(build);
    const values = new Map<string, string | undefined>();
    for (const parameter of actions.flatMap((action) => objects(action.parameters))) {
      if (typeof parameter.name === "string" && !values.has(parameter.name))
        values.set(parameter.name, parameter.value === null ? "" : text(parameter.value));
    }
    /** A value the request sent that names the delivery, held as sent: no other delivery's build holds it. */
    const valueNamesDelivery = [...expected].some(([name, accepted]) => {
      const held = values.get(name);
      return (
        Object.hasOwn(wanted.parameters, name) && naming(held) && accepted?.includes(held as string) === true
      );
    });
    // The user's build holding the delivery's own value is this delivery's, whichever cause the token gave.
    if (!causes.some(ours) && !(valueNamesDelivery && causes.some(byUser))) continue;
    // Within the clock margin only a build naming the delivery.
    const namesDelivery =
      (naming(wanted.note) && causes.some((cause) => isRemoteCause(cause) && cause.note === wanted.note)) ||
      valueNamesDelivery;
    if (build.timestamp < clockSinceMs && !namesDelivery) continue;
    // A request with parameters goes to /buildWithParameters, whose build always has a ParametersAction.
    const parameterized = actions.some((action) => Array.isArray(action.parameters));
    if (sent.length > 0 && !parameterized) continue;
    candidates.push({ number: build.number, url: build.url, values });
  }
  // A value sent must be there; a default Jenkins shows no value of (a password's, a file's) is not compared.
  // The values as sent first: a trimmed one only when no build holds them exactly, so that on a job that does
  // not trim, another delivery's build of the same text without its edge whitespace is not taken for this one.
  // A Pipeline's Jenkinsfile (re)defines the job's parameters while its build runs, so the build an earlier
  // attempt started may hold no entry for a parameter defined since (by that build's own commit): Jenkins kept
  // none, sent or not, as it was not defined then. Such a parameter is skipped, but only when no build holds
  // every one: a build of the definitions of now is taken first. Never one whose value sent names the delivery:
  // any other delivery's build queued before its definition lacks it too, and taking that would lose this one's
  // build (a request again is at worst a duplicate).
  for (const skipUnheld of [false, true]) {
    for (const asSentOnly of [true, false]) {
      for (const build of candidates) {
        const same = [...expected].every(([name, accepted]) => {
          if (accepted === undefined) return true;
          // Never a value naming the delivery: another delivery's build holds no entry for it either.
          if (!build.values.has(name)) return skipUnheld && !namingSent(name);
          const held = build.values.get(name);
          return held !== undefined && (asSentOnly ? accepted[0] === held : accepted.includes(held));
        });
        if (same) return { number: build.number, url: typeof build.url === "string" ? build.url : undefined };
      }
    }
  }
  return undefined;
}

/**
 * A RemoteCause (a build requested with the job's trigger token): its `_class` where the API gives that, or the
 * `addr` only it exports among the causes the tree reads (the requester's address, never null).
 */
function isRemoteCause(cause: Record<string, unknown>): boolean {
  return cause._class === "hudson.model.Cause$RemoteCause" || typeof cause.addr === "string";
}

/**
 * A BooleanParameterDefinition (its `type`, or its `_class` where a tree gives that), or a plugin's subclass of it
 * (HideableBooleanParameterDefinition: another type), told by its default: a JSON boolean, as only a
 * BooleanParameterValue shows it.
 */
function isBoolean(definition: Record<string, unknown>): boolean {
  const fallback = definition.defaultParameterValue;
  return (
    definition.type === "BooleanParameterDefinition" ||
    definition._class === "hudson.model.BooleanParameterDefinition" ||
    (isJsonObject(fallback) && typeof fallback.value === "boolean")
  );
}

/**
 * A core StringParameterDefinition (its `type`, or `_class`), the one whose "Trim the string" trims the value sent;
 * not its TextParameterDefinition subclass, whose createValue does not.
 */
function isString(definition: Record<string, unknown>): boolean {
  return (
    definition.type === "StringParameterDefinition" ||
    definition._class === "hudson.model.StringParameterDefinition"
  );
}

/** Java's String.trim, as Jenkins trims: every character up to U+0020 at either end, and no other whitespace. */
function javaTrim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) <= 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) <= 0x20) end--;
  return value.slice(start, end);
}

/**
 * A default's value as the text the build holds: null (StringParameterDefinition keeps an empty default as null,
 * Util.fixEmpty) as "", as a build holds it; undefined only when Jenkins shows no `value` to compare (a password,
 * a file or run parameter, no default at all).
 */
function defaultText(value: unknown): string | undefined {
  if (!isJsonObject(value) || !Object.hasOwn(value, "value")) return undefined;
  return value.value === null ? "" : text(value.value);
}

/** A parameter value as the text a form sends: Jenkins gives strings, booleans and numbers; others have none. */
function text(value: unknown): string | undefined {
  return typeof value === "string" || typeof value === "boolean" || typeof value === "number"
    ? String(value)
    : undefined;
}

function objects(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300);
}
