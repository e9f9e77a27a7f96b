// jenkins: POST {url}/job/{a}/job/{b}/buildWithParameters (or /build without parameters: token, cause and
// delay alone are none) with Basic auth (user + API token), optionally with a CSRF crumb and its session
// cookie, over TLS that may trust a private CA. 201, and 303 to a queue item (merged into it), succeed, and so does a multibranch
// project's scan (302 to itself); a 2xx without a queue item Location is not Jenkins' answer and is final;
// 401/403/404/409 are final (a 401 once the credentials secret, read again past its cache, holds no new
// value), and so is a disabled computed folder's 500 "cannot be recomputed"; other 5xx, 429, 408, network
// errors and timeouts are retryable. A retry first looks for the build an earlier
// attempt started (jenkinsBuilds.ts), and succeeds without asking again when it finds one. Other redirects (a
// sign-in, a 303 without a Location) are never followed, and final, naming where they pointed.
import { ActionError } from "../core/errors";
import { jenkinsJobProblem } from "../core/jenkinsJob";
import { shownText } from "../core/shownText";
import type { ActionOutcome, JenkinsRequest } from "../core/types";
import {
  actionDispatcher,
  assertPemBundle,
  discard,
  type HttpResponse,
  header,
  httpRequest,
  isJsonObject,
  networkError,
  readJson,
  statusError,
  withoutCredentials,
} from "./http";
import { findEarlierBuild, REQUEST_CONTROLS } from "./jenkinsBuilds";
import { type ItemRunner, requestOf } from "./runItem";
import {
  type JenkinsCredentials,
  markRefusedCredentials,
  parseJenkinsCredentials,
  publicSecretName,
  readSecret,
  withFreshCredentials,
} from "./secrets";
import type { ActionClients } from "./types";

export interface JenkinsContext {
  deliveryId: string;
  /** When the delivery was first accepted (the work item's acceptedAt, ISO 8601). */
  acceptedAt?: string;
  /** The queue's receive count of the delivery's message: past 1, an earlier attempt may have built it. */
  attempt?: number;
  /** An earlier attempt may have built it though the receive count is 1 (a redriven letter, a redelivery). */
  mayHaveRun?: boolean;
}

const FINAL_REASONS: Record<number, string> = {
  401: "rejected the credentials",
  409: "refused the build (conflict): the job may be disabled or not buildable",
};

/** A jenkins work item, with what its retries need to find the build an earlier attempt started. */
export const runJenkinsItem: ItemRunner = (item, clients) =>
  triggerJenkins(requestOf(item, "jenkins"), clients, {
    deliveryId: item.deliveryId,
    acceptedAt: item.acceptedAt,
    attempt: clients.attempt,
    mayHaveRun: clients.mayHaveRun === true,
  });

export async function triggerJenkins(
  request: JenkinsRequest,
  clients: ActionClients,
  context: JenkinsContext,
): Promise<ActionOutcome> {
  const target = { base: jenkinsBaseUrl(request.jenkins.url), path: jobPath(request.job) };
  const secret = request.jenkins.credentials;
  const raw = await readSecret(clients, secret, "jenkins.credentials");
  const credentials = parseJenkinsCredentials(raw, secret, clients.secretNamePrefix);
  const dispatcher = actionDispatcher(
    clients,
    request.jenkins.caBundle
      ? assertPemBundle(
          await readSecret(clients, request.jenkins.caBundle, "jenkins.caBundle"),
          request.jenkins.caBundle,
          "jenkins.caBundle",
          clients.secretNamePrefix,
        )
      : undefined,
  );
  // A 401 (to the crumb or to the build) with a token rotated since it was cached: read the secret once
  // more, and with a new value ask again. Nothing was queued, so nothing is queued twice.
  return withFreshCredentials(
    clients,
    secret,
    raw,
    (value) =>
      trigger(
        request,
        target,
        clients,
        context,
        value === raw ? credentials : parseJenkinsCredentials(value, secret, clients.secretNamePrefix),
        dispatcher,
      ),
    { job: request.job.join("/"), deliveryId: context.deliveryId },
    "jenkins.credentials",
  );
}

/** One try at the build with these credentials (the crumb first, when asked for). */
async function trigger(
  request: JenkinsRequest,
  { base, path }: { base: string; path: string },
  clients: ActionClients,
  context: JenkinsContext,
  credentials: JenkinsCredentials,
  dispatcher: ActionClients["dispatcher"],
): Promise<ActionOutcome> {
  const jobName = request.job.join("/");
  const what = `Jenkins job ${jobName}`;

  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.token}`).toString("base64")}`,
  };
  /** What a message quoting the server's words (a Location, a job's choices) must not show. */
  const sent = { authorization: headers.authorization as string };

  // A retry: an earlier attempt's request may have reached Jenkins though its answer did not come back (a
  // timeout, a proxy's 504), and a repeat would build again once that build has left the queue.
  const earlier = await earlierAttemptsBuild(
    request,
    `${base}${path}`,
    context,
    credentials,
    headers,
    dispatcher,
    clients,
  );
  if (earlier) return earlier;

  if (request.jenkins.crumb) {
    const res = await httpRequest({
      method: "GET",
      url: `${base}/crumbIssuer/api/json`,
      headers,
      dispatcher,
      timeoutMs: clients.timeoutMs,
      deadlineMs: clients.deadlineMs,
      what: "Jenkins crumb issuer",
    });
    if (res.statusCode >= 200 && res.statusCode < 300 && isHtml(header(res.headers, "content-type"))) {
      // The issuer answers JSON: a page is someone else's, each attempt meets it again.
      await discard(res);
      throw htmlInstead("Jenkins crumb issuer", res.statusCode, "instead of a crumb", "a crumb request");
    }
    if (res.statusCode !== 200) {
      await discard(res);
      if (res.statusCode === 404) {
        // Since Jenkins 2.222 CSRF protection cannot be turned off in the UI (only by a system property): a
        // 404 here is most often a url without Jenkins' context path, where every path is 404.
        throw new ActionError(
          "Jenkins crumb issuer not found (404): check the Jenkins url (its context path, e.g. /jenkins); or, " +
            "if CSRF protection is disabled, set crumb: false",
          { retryable: false },
        );
      }
      if (res.statusCode >= 300 && res.statusCode < 400) {
        throw crumbRedirectRefused(
          res.statusCode,
          header(res.headers, "location"),
          `${base}/crumbIssuer/api/json`,
          base,
          sent,
        );
      }
      if (res.statusCode === 403) {
        throw forbidden(
          "Jenkins crumb issuer",
          res,
          { secret: request.jenkins.credentials, user: credentials.user, prefix: clients.secretNamePrefix },
          sent,
        );
      }
      throw finalOrRetryable("Jenkins crumb issuer", res);
    }
    // JSON null parses too: only an object can hold the crumb.
    const crumb = await readJson<unknown>(res, "Jenkins crumb issuer");
    if (
      !isJsonObject(crumb) ||
      typeof crumb.crumbRequestField !== "string" ||
      typeof crumb.crumb !== "string"
    ) {
      throw new ActionError("Jenkins crumb issuer answered without crumbRequestField/crumb", {
        retryable: true,
      });
    }
    headers[crumb.crumbRequestField.toLowerCase()] = crumb.crumb;
    const cookie = sessionCookie(res);
    if (cookie) headers.cookie = cookie;
  }

  // token, cause and delay are read by /build too (ParameterizedJobMixIn.doBuild), which a job without
  // parameters needs: its /buildWithParameters answers 500 "This build is not parameterized!".
  const withParameters = Object.keys(request.parameters).some((name) => !REQUEST_CONTROLS.has(name));
  const body = new URLSearchParams(formParameters(request, context)).toString();
  let requested = "";
  /** The start of a 403's or a 500's page: Jenkins says there why it refused (its CSRF filter, a folder). */
  let pageText = "";
  const post = async (endpoint: "build" | "buildWithParameters"): Promise<HttpResponse> => {
    requested = `${base}${path}/${endpoint}`;
    const answer = await httpRequest({
      method: "POST",
      url: requested,
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body,
      dispatcher,
      timeoutMs: clients.timeoutMs,
      deadlineMs: clients.deadlineMs,
      what,
    });
    if (answer.statusCode === 403 || answer.statusCode === 500) pageText = await pageStart(answer);
    else await discard(answer);
    return answer;
  };
  const first = await post(withParameters ? "buildWithParameters" : "build");
  let res = first;
  if (!withParameters && first.statusCode === 400) {
    // A job that defines parameters refuses /build ("Nothing is submitted") before queuing anything;
    // /buildWithParameters queues it with their defaults. Its answer is then classified as any other.
    res = await post("buildWithParameters");
    if (res.statusCode === 400) {
      throw new ActionError(`${what} answered 400 to /build and to /buildWithParameters`, {
        retryable: false,
      });
    }
  }
  const location = queueItemUrl(header(res.headers, "location"), sent);
  const status = res.statusCode;

  if (status >= 200 && status < 300) {
    if (!location) throw noQueueItem(what, status, header(res.headers, "content-type"));
    const item = queueItemNumber(location);
    clients.log({
      msg: "jenkins build queued",
      job: jobName,
      status,
      queueItem: location,
      deliveryId: context.deliveryId,
    });
    return {
      status: "done",
      detail: `queued as ${location}`,
      publicDetail: item ? `queued as queue item ${item}` : `queued (${status})`,
    };
  }
  if (status === 303 && queueItemNumber(location) !== undefined) {
    clients.log({
      msg: "jenkins build merged into a queued item",
      job: jobName,
      queueItem: location,
      deliveryId: context.deliveryId,
    });
    return {
      status: "done",
      detail: `merged into an item already queued (${location})`,
      publicDetail: "merged into an item already queued",
    };
  }
  if (
    status >= 300 &&
    status < 400 &&
    redirectsToItself(header(res.headers, "location"), `${base}${path}/`)
  ) {
    // Jenkins answers with the item's own page both when a multibranch project or organization folder
    // schedules its scan (ComputedFolder.doBuild), and when a queue decision handler vetoed a job's
    // build (nothing queued): only the item's kind tells them apart.
    const kind: ItemKind =
      res === first && !withParameters
        ? await itemKind(`${base}${path}`, headers, dispatcher, clients)
        : { kind: "job" };
    if (kind.kind === "folder") {
      clients.log({ msg: "jenkins scan scheduled", job: jobName, status, deliveryId: context.deliveryId });
      return { status: "done", detail: `scan of ${jobName} scheduled (${status})` };
    }
    if (kind.kind === "job") {
      throw new ActionError(
        `${what}: Jenkins did not queue the build (it answered ${status} to the job's page: a queue decision handler vetoed it)`,
        { retryable: false },
      );
    }
    // The request reached the item (its own page answered): the url is right, only its kind is not known.
    const itself =
      `${what} answered ${status} to the item's own page, as Jenkins does for a multibranch project's or ` +
      "organization folder's scan scheduled and for a job's build a queue decision handler vetoed";
    if (kind.kind === "unread") {
      // A repeat is harmless either way (another scan, or a build asked for again), so a failure a retry can
      // get past (a 503, a 429, a timeout, a dropped connection) is retried, after its Retry-After.
      const unread = "and the item's kind, which tells them apart, could not be read";
      throw new ActionError(`${itself}, ${unread}: ${kind.error.message}`, {
        retryable: kind.error.retryable,
        retryAfterMs: kind.error.retryAfterMs,
        publicMessage: `${itself}, ${unread}: ${kind.error.publicMessage}`,
      });
    }
    throw new ActionError(
      `${itself}, but its remote API names neither builds (a job's nextBuildNumber) nor jobs (a folder's), so ` +
        "which happened is unknown: not retried; check the item in Jenkins before a redrive",
      { retryable: false },
    );
  }
  if (status >= 300 && status < 400) {
    throw redirectRefused(what, status, header(res.headers, "location"), requested, base, sent);
  }
  // A disabled multibranch project or organization folder (or one in a disabled folder) refuses its scan with
  // a 500 whose text/plain page is the exception's stack trace (ComputedFolder.doBuild): a retry meets it again.
  if (status === 500 && /\bcannot be recomputed\b/.test(pageText)) {
    throw new ActionError(
      `${what} answered 500 "cannot be recomputed": it is a multibranch project or organization folder that ` +
        "is disabled, or in a disabled folder, so Jenkins does not scan it: enable it in Jenkins and redeliver",
      { retryable: false },
    );
  }
  if (status === 500 && withParameters) {
    const refusal = await refusedParameters(
      `${base}${path}`,
      request.parameters,
      headers,
      dispatcher,
      clients,
      sent,
    );
    if (refusal) throw new ActionError(`${what} ${refusal}`, { retryable: false });
  }
  if (status === 403) {
    const named = {
      secret: request.jenkins.credentials,
      user: credentials.user,
      prefix: clients.secretNamePrefix,
    };
    throw forbidden(what, res, named, sent, {
      page: pageText,
      crumb: request.jenkins.crumb,
    });
  }
  if (status === 404) {
    // Jenkins answers 404 for a job its user may not discover as for one that does not exist (JENKINS-71087).
    const text = (named: string) =>
      `${what} not found (404): no such job, or one the user of ${named} may not see: ` +
      "Jenkins answers 404 for a job its user lacks Job/Read and Job/Discover on (on the job or a folder " +
      "above it, with matrix authorization)";
    throw new ActionError(text(request.jenkins.credentials), {
      retryable: false,
      publicMessage: text(
        publicSecretName(
          request.jenkins.credentials,
          "jenkins.credentials",
          (n) => n,
          clients.secretNamePrefix,
        ),
      ),
    });
  }
  throw finalOrRetryable(what, res);
}

/**
 * The text of the RemoteCause a build requested with the job's trigger token gets (its `cause` parameter), or
 * undefined without a `token` parameter: with one, Jenkins records RemoteCause(addr, cause), not the user
 * (ParameterizedJobMixIn.getBuildCause), and the delivery id in it lets a retry know its build. The route's own
 * `cause`, when it sends one, is kept: it names the delivery only when it holds {{deliveryId}}; otherwise any build
 * with it of the same values is taken for this delivery's (hookgate check notes such a route).
 */
function remoteCauseNote(request: JenkinsRequest, context: JenkinsContext): string | undefined {
  if (!Object.hasOwn(request.parameters, "token")) return undefined;
  const cause = request.parameters.cause;
  return cause !== undefined && Object.hasOwn(request.parameters, "cause")
    ? wellFormed(cause)
    : `hookgate delivery ${context.deliveryId}`;
}

/**
 * The build request's form: the route's parameters, with the RemoteCause's text when it sends a `token`. Each
 * name and value well-formed, as the form encoder sends it, so that a retry compares the text Jenkins holds.
 */
function formParameters(request: JenkinsRequest, context: JenkinsContext): Record<string, string> {
  // fromEntries defines each name as its own property: an assignment to "__proto__" would set the prototype.
  const form: Record<string, string> = Object.fromEntries(
    Object.entries(request.parameters).map(([name, value]) => [wellFormed(name), wellFormed(value)]),
  );
  const note = remoteCauseNote(request, context);
  return note === undefined ? form : { ...form, cause: note };
}

/**
 * The text with each lone surrogate (half of a character: a commit message a host cut inside an emoji) as
 * U+FFFD, as URLSearchParams sends it (String.prototype.toWellFormed, which lib ES2022 does not type).
 */
function wellFormed(text: string): string {
  return text.replace(/\p{Cs}/gu, "\uFFFD");
}

/**
 * On a retry (an attempt past the first, or a first receive an earlier attempt may have run before: a redriven
 * dead letter, a redelivery of a delivery that died), the outcome for a build an earlier attempt of the delivery started
 * (jenkinsBuilds.ts says how it is told), or undefined: then the build is requested as on a first attempt,
 * which also follows when the look fails (a warning; the delivery does not fail for it).
 */
async function earlierAttemptsBuild(
  request: JenkinsRequest,
  jobUrl: string,
  context: JenkinsContext,
  credentials: JenkinsCredentials,
  headers: Record<string, string>,
  dispatcher: ActionClients["dispatcher"],
  clients: ActionClients,
): Promise<ActionOutcome | undefined> {
  const earlier = (context.attempt ?? 1) > 1 || context.mayHaveRun === true;
  if (!earlier || context.acceptedAt === undefined) return undefined;
  const jobName = request.job.join("/");
  const sinceMs = Date.parse(context.acceptedAt);
  const lookup = Number.isFinite(sinceMs)
    ? await findEarlierBuild(
        jobUrl,
        {
          user: credentials.user,
          sinceMs,
          parameters: formParameters(request, context),
          note: remoteCauseNote(request, context),
          deliveryId: context.deliveryId,
        },
        headers,
        dispatcher,
        clients,
      )
    : ({ kind: "failed", reason: "the work item's acceptedAt is not a time" } as const);
  if (lookup.kind === "failed") {
    clients.log({
      msg: "jenkins earlier build not looked up: requesting the build",
      level: "warn",
      job: jobName,
      error: lookup.reason,
      attempt: context.attempt,
      deliveryId: context.deliveryId,
    });
    return undefined;
  }
  if (lookup.kind !== "found") return undefined;
  const { number } = lookup.build;
  const url = lookup.build.url === undefined ? undefined : queueItemUrl(lookup.build.url, headers);
  clients.log({
    msg: "jenkins build already started",
    job: jobName,
    build: number,
    ...(url ? { url } : {}),
    attempt: context.attempt,
    deliveryId: context.deliveryId,
  });
  return {
    status: "done",
    detail: `already started as #${number}${url ? ` (${url})` : ""} by an earlier attempt: not requested again`,
    publicDetail: `already started as build #${number}`,
  };
}

/**
 * The first 16 KiB of a 403's or a 500's page (Jenkins' own says why near its start), or what was read of it
 * when the connection fails: the answer is classified by its status either way.
 */
async function pageStart(res: HttpResponse): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= 16 * 1024) break;
    }
  } catch {
    // A broken connection: what arrived is all there is.
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .slice(0, 16 * 1024);
}

/** Titles of the permissions a build request can lack, as Jenkins' security matrix shows them. */
const PERMISSION_TITLES: Readonly<Record<string, string>> = {
  "hudson.model.Hudson.Read": "Overall/Read",
  "hudson.model.Item.Build": "Job/Build",
  "hudson.model.Item.Read": "Job/Read",
  "hudson.model.Item.Discover": "Job/Discover",
};

/**
 * The error for a 403 (final), saying why when the answer tells. Jenkins names the user it took the request as,
 * and the permission it lacked, in headers (AccessDeniedException3.reportAsHeaders): a request it took as
 * anonymous carried no credentials it saw, as when a proxy in between strips Authorization (a wrong token is
 * a 401). Its CSRF filter answers a build request "No valid crumb was included in the request", which it asks
 * of no request signed with an API token since 2.96. The credentials' own user is called so, not named: it is
 * a secret's value. The classification is a 403's as before: final.
 */
function forbidden(
  what: string,
  res: HttpResponse,
  { secret, user: ownUser, prefix }: { secret: string; user: string; prefix?: string },
  sent: Record<string, string>,
  build?: { page: string; crumb: boolean },
): ActionError {
  const refused = `${what} refused the ${build ? "build" : "request"} (403)`;
  const user = header(res.headers, "x-you-are-authenticated-as");
  if (user === "anonymous") {
    return new ActionError(
      `${refused}: Jenkins took it as anonymous, so the credentials did not reach Jenkins: a proxy in between ` +
        "may strip the Authorization header; let it pass Authorization, or point jenkins.url at Jenkins itself",
      { retryable: false },
    );
  }
  if (build && /No valid crumb/i.test(build.page)) {
    return new ActionError(
      build.crumb
        ? `${refused}: Jenkins found no valid crumb in it, though hookgate sent the one its crumb issuer gave: a ` +
            "proxy may drop the session cookie, or send the two requests to different controllers"
        : `${refused}: Jenkins asks a CSRF crumb ("No valid crumb was included in the request"), which it asks ` +
            "of no request it takes as signed with an API token (since Jenkins 2.96): either the credentials " +
            "secret holds the user's password, not an API token, or the credentials did not reach Jenkins (a " +
            "proxy in between may strip the Authorization header; Jenkins checks the crumb before it says who " +
            "it took the request as). Put the API token in the secret and let Authorization through, or set crumb: true",
      { retryable: false },
    );
  }
  // BuildAuthorizationToken refuses a `token` request parameter that is not the job's "Trigger builds remotely"
  // token with a plain AccessDeniedException: no user or permission headers.
  if (build && /Invalid token provided/i.test(build.page)) {
    return new ActionError(
      `${refused}: Jenkins refused the request's token parameter ("Invalid token provided"): the job has a ` +
        '"Trigger builds remotely" token, and a build parameter named token is read as it: give the job\'s ' +
        "parameter another name, or send that job's token",
      { retryable: false },
    );
  }
  const id = header(res.headers, "x-required-permission");
  const title = id !== undefined && Object.hasOwn(PERMISSION_TITLES, id) ? PERMISSION_TITLES[id] : undefined;
  const permission =
    id === undefined
      ? `${build ? "Job/Build" : "Overall/Read"} permission`
      : `the permission ${title ? `${title} (${id})` : shownText(withoutCredentials(id, sent))}`;
  if (user === undefined) {
    const text = (named: string) =>
      `${refused}: the user of ${named} lacks ${permission}, or something in front of Jenkins refused the ` +
      "request (the answer names no Jenkins user)";
    // A commit status hides a credentials name that looks like a pasted value (publicSecretName).
    return new ActionError(text(secret), {
      retryable: false,
      publicMessage: text(publicSecretName(secret, "jenkins.credentials", (n) => n, prefix)),
    });
  }
  // Another name than the credentials' (the user's id for an e-mail address, a proxy's own sign-in): named in
  // the logs and the dead letter, not in a commit status.
  const who =
    user.toLowerCase() === ownUser.toLowerCase()
      ? `the user of ${secret}`
      : `user ${shownText(withoutCredentials(user, sent))}`;
  return new ActionError(`${refused}: Jenkins took it as ${who}, who lacks ${permission}`, {
    retryable: false,
    publicMessage: `${refused}: the Jenkins user lacks ${permission}`,
  });
}

/**
 * The error for a 2xx without a queue item Location. Jenkins answers a build it queued 201, and one merged
 * into a queued item 303, both with the queue item's Location (core since 1.519, the Build Token Root plugin
 * since 1.3). A 2xx without one comes from something else in front of Jenkins, and nothing shows a build
 * was queued: taken for "queued", a lost build would go unnoticed. Final, not retried: if the request did
 * reach Jenkins, a retry would queue the build twice.
 */
function noQueueItem(what: string, status: number, contentType: string | undefined): ActionError {
  if (isHtml(contentType)) return htmlInstead(what, status, "and no queue item", "a build request");
  return new ActionError(
    `${what} answered ${status} without a queue item (no Location): Jenkins answers a queued build 201 with ` +
      "its queue item, so something else answered (a proxy or gateway in front of Jenkins?), and whether a " +
      "build was queued is unknown. Not retried, as that could queue it twice: check Jenkins before a " +
      "redrive, and point jenkins.url at Jenkins itself",
    { retryable: false },
  );
}

/**
 * The error for a 2xx HTML page where Jenkins answers otherwise (the crumb issuer JSON, a build request a
 * Location): most often the sign-in page of a proxy in front of Jenkins, which a retry meets again. Final.
 */
function htmlInstead(what: string, status: number, instead: string, request: string): ActionError {
  return new ActionError(
    `${what} answered ${status} with an HTML page ${instead}: that is not Jenkins' answer to ${request} ` +
      "(a sign-in page of a proxy in front of Jenkins?); nothing was queued. Point jenkins.url at " +
      "Jenkins itself, or let the proxy pass API tokens",
    { retryable: false },
  );
}

/**
 * The error for a redirect that is neither a queue item (303: merged into one) nor the item itself (a scan, a
 * veto). Jenkins answers a queued build 201 and a merged one 303, each with the queue item's Location; what
 * else redirects a POST is most often a sign-in: Jenkins' own (/login, a security realm's
 * /securityRealm/commenceLogin) or that of a proxy in front of it (an SSO on another host), so the build did
 * not start. Final: a retry meets the same sign-in, and a redrive once the url or the credentials are right is
 * safe. The message names where the redirect pointed (origin and path; never a query, which may carry an SSO
 * state, nor user info); the public one (a commit status) leaves the address out.
 */
function redirectRefused(
  what: string,
  status: number,
  location: string | undefined,
  requested: string,
  base: string,
  sent: Record<string, string>,
): ActionError {
  const publicMessage = `${what} answered a redirect (${status}) instead of queuing the build`;
  if (!location) {
    return new ActionError(
      `${what} answered a redirect (${status}) without a Location instead of queuing the build: Jenkins answers ` +
        "a queued build 201, or one merged into a queued item 303, with the queue item's Location, so something " +
        "else answered (a proxy or gateway in front of Jenkins?), and whether a build was queued is unknown. Not " +
        "retried, as that could queue it twice: check Jenkins before a redrive, and point jenkins.url at Jenkins itself",
      { retryable: false, publicMessage },
    );
  }
  const target = redirectTarget(location, requested, base, sent);
  const { where, hint } = target;
  const redirected = `${what} answered a redirect (${status}) to ${where} instead of queuing the build`;
  return new ActionError(
    `${redirected}: ${hint ? `${hint}, so the build did not start` : "the build was not queued"}; ${remedy(target)}`,
    {
      retryable: false,
      publicMessage,
    },
  );
}

/** The crumb issuer's redirect (a GET: nothing was queued), final as the build request's, naming where it pointed. */
function crumbRedirectRefused(
  status: number,
  location: string | undefined,
  requested: string,
  base: string,
  sent: Record<string, string>,
): ActionError {
  const what = `Jenkins crumb issuer answered a redirect (${status})`;
  if (!location) {
    return new ActionError(`${what} without a Location instead of a crumb; check the Jenkins url`, {
      retryable: false,
    });
  }
  const target = redirectTarget(location, requested, base, sent);
  const { where, hint } = target;
  return new ActionError(
    `${what} to ${where} instead of a crumb${hint ? `: ${hint}` : ""}; ${remedy(target)}`,
    {
      retryable: false,
      publicMessage: `${what} instead of a crumb`,
    },
  );
}

type Hint =
  | "another host"
  | "a sign-in page"
  | "the same request at another address"
  | "the same request sent from https to http";

interface RedirectTarget {
  where: string;
  hint?: Hint;
  /** For the same request at another address: the Jenkins url to write, that address with the context path. */
  movedTo?: string;
}

/**
 * Where a redirect of the request to `requested` pointed (origin and path only, without the credentials `sent`,
 * which a Location can echo), and what it was: the same path at another origin (http to https, Jenkins'
 * canonical host name), a sign-in, or something else.
 */
function redirectTarget(
  location: string,
  requested: string,
  base: string,
  sent: Record<string, string>,
): RedirectTarget {
  let target: URL;
  const request = new URL(requested);
  try {
    target = new URL(location, request);
  } catch {
    return { where: "a Location that is not a URL" };
  }
  // The scheme is the server's words too: "<token>:x@host" reads as the scheme "<token>:".
  if (target.protocol !== "https:" && target.protocol !== "http:")
    return { where: withoutCredentials(`a ${target.protocol} URL`, sent) };
  const where = withoutCredentials(`${target.origin}${target.pathname}`, sent);
  // Jenkins' own sign-in, on whichever name its root URL gives it.
  if (/(^|\/)(login|loginEntry|securityRealm)(\/|$)/.test(target.pathname)) {
    return { where, hint: "a sign-in page" };
  }
  // The same request over plain http: never a url to write, as the credentials would travel in clear.
  if (target.pathname === request.pathname && request.protocol === "https:" && target.protocol === "http:") {
    return { where, hint: "the same request sent from https to http" };
  }
  // The same request elsewhere (nginx's `return 301 https://$host$request_uri`): Jenkins lives there.
  if (target.pathname === request.pathname && target.origin !== request.origin) {
    const movedTo = withoutCredentials(`${target.origin}${new URL(base).pathname.replace(/\/+$/, "")}`, sent);
    return { where, hint: "the same request at another address", movedTo };
  }
  // Another host (not http -> https on the same one): a sign-in of something in front of Jenkins.
  if (target.hostname !== request.hostname) return { where, hint: "another host" };
  return { where };
}

function remedy({ hint, movedTo }: RedirectTarget): string {
  if (hint === "the same request sent from https to http") {
    return "Jenkins' root URL (Manage Jenkins > System) or the proxy in front of it says http: fix it there, and keep an https url in routes.yaml, as over http the API token would travel in clear";
  }
  if (hint === "the same request at another address") {
    return `Jenkins answers at ${movedTo}: write that as the Jenkins url in routes.yaml (redirects are not followed, so the credentials go only where the url says)`;
  }
  if (hint === "another host") {
    return "a sign-in (an SSO) of something in front of Jenkins took the request: point jenkins.url at Jenkins itself, or have the proxy let API tokens through";
  }
  if (hint === "a sign-in page") {
    return "the request was not taken as signed in: check the user and API token in the credentials secret, or whether a proxy in front of Jenkins asks for its own sign-in";
  }
  return "check the Jenkins url (http vs https, context path)";
}

/** Whether a content type is an HTML page's. */
function isHtml(contentType: string | undefined): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(contentType ?? "");
}

/** Whether a redirect leads back to the item itself (its path, wherever a proxy says the host is). */
function redirectsToItself(location: string | undefined, itemUrl: string): boolean {
  if (!location) return false;
  try {
    return new URL(location, itemUrl).pathname === new URL(itemUrl).pathname;
  } catch {
    return false;
  }
}

/**
 * The item's remote API (GET …/api/json?tree=…), or why it could not be read: an ActionError classified as any
 * other answer's (a 5xx, 429 or 408 with its Retry-After, a timeout, a dropped connection: retryable).
 */
async function readItem(
  itemUrl: string,
  tree: string,
  headers: Record<string, string>,
  dispatcher: ActionClients["dispatcher"],
  clients: ActionClients,
): Promise<{ json: unknown } | { error: ActionError }> {
  const what = "Jenkins remote API";
  try {
    const res = await httpRequest({
      method: "GET",
      // Encoded: Tomcat refuses the raw [ ] of a tree expression in a request target.
      url: `${itemUrl}/api/json?tree=${encodeURIComponent(tree)}`,
      headers,
      dispatcher,
      timeoutMs: clients.timeoutMs,
      deadlineMs: clients.deadlineMs,
      what,
    });
    if (res.statusCode !== 200) {
      await discard(res);
      return { error: statusError(what, res) };
    }
    return { json: await readJson<unknown>(res, what) };
  } catch (err) {
    return { error: networkError(what, err) };
  }
}

/** What tells a job from a folder: at most one child, as an organization folder's full list can pass 1 MiB. */
const ITEM_KIND_TREE = "nextBuildNumber,jobs[name]{0,1}";

type ItemKind =
  | { kind: "job" | "folder" }
  /** The API answered an object, and it named neither. */
  | { kind: "neither" }
  /** The API could not be read: why. */
  | { kind: "unread"; error: ActionError };

/** A job (it numbers its builds) or a folder (it holds jobs), as the item's remote API says. */
async function itemKind(
  itemUrl: string,
  headers: Record<string, string>,
  dispatcher: ActionClients["dispatcher"],
  clients: ActionClients,
): Promise<ItemKind> {
  const read = await readItem(itemUrl, ITEM_KIND_TREE, headers, dispatcher, clients);
  if ("error" in read) return { kind: "unread", error: read.error };
  const item = read.json;
  // Jenkins exports an item as an object (hudson.model.Api): anything else (JSON null, from a proxy) was not
  // read, as a body that is not JSON is not, and says nothing of the item's kind; a repeat is harmless.
  if (!isJsonObject(item)) {
    const error = new ActionError("Jenkins remote API answered 200 with JSON that is not an object", {
      retryable: true,
    });
    return { kind: "unread", error };
  }
  if (typeof item.nextBuildNumber === "number") return { kind: "job" };
  return Array.isArray(item.jobs) ? { kind: "folder" } : { kind: "neither" };
}

/**
 * Why Jenkins answered /buildWithParameters with its bare 500 page, when the job's definitions tell
 * (its log has the real message), or undefined: then the 500 stays retryable.
 * - The job defines no parameters ("This build is not parameterized!").
 * - A value sent for a choice parameter is not one of its choices ("Illegal choice for parameter").
 */
async function refusedParameters(
  jobUrl: string,
  sent: Record<string, string>,
  headers: Record<string, string>,
  dispatcher: ActionClients["dispatcher"],
  clients: ActionClients,
  credentials: Record<string, string>,
): Promise<string | undefined> {
  const read = await readItem(
    jobUrl,
    "property[parameterDefinitions[name,type,choices]]",
    headers,
    dispatcher,
    clients,
  );
  if (!("json" in read)) return undefined;
  const job = read.json;
  // A job's API always lists its properties (Job.getAllProperties, exported as `property`): an answer without
  // that list (JSON null, a number, an array, another shape) tells nothing, and "defines none" is not read from it.
  if (!isJsonObject(job) || !Array.isArray(job.property)) return undefined;
  const definitions: unknown[] = job.property.flatMap((p) =>
    isJsonObject(p) && Array.isArray(p.parameterDefinitions) ? p.parameterDefinitions : [],
  );
  if (definitions.length === 0) {
    return "defines no parameters, so Jenkins refuses /buildWithParameters (500): remove the route's parameters or add them to the job";
  }
  for (const definition of definitions) {
    // Only core's choice parameter refuses other values; plugins' choice types may take them.
    if (
      !isJsonObject(definition) ||
      definition.type !== "ChoiceParameterDefinition" ||
      typeof definition.name !== "string"
    )
      continue;
    // Own names only: a parameter named toString or constructor must not read Object's method as the value sent.
    const value = Object.hasOwn(sent, definition.name) ? sent[definition.name] : undefined;
    const choices = Array.isArray(definition.choices) ? definition.choices.map(String) : undefined;
    if (value === undefined || choices === undefined || choices.includes(value)) continue;
    // The choices are the server's words: shortened only once the credentials are out of them.
    const listed = choices
      .slice(0, 10)
      .map((choice) => JSON.stringify(withoutCredentials(choice, credentials).slice(0, 100)));
    if (choices.length > listed.length) listed.push("…");
    return `refuses ${definition.name}=${JSON.stringify(value.slice(0, 200))} (500): it is not one of the choice parameter's values (${listed.join(", ")})`;
  }
  return undefined;
}

function finalOrRetryable(what: string, res: HttpResponse): ActionError {
  const reason = FINAL_REASONS[res.statusCode];
  if (reason) {
    const err = new ActionError(`${what} ${reason} (${res.statusCode})`, { retryable: false });
    return markRefusedCredentials(err, res.statusCode);
  }
  return statusError(what, res);
}

/** The controller's base URL without a trailing slash; only http(s), no credentials in it. */
export function jenkinsBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ActionError("the Jenkins url is not a valid URL", { retryable: false });
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new ActionError(`the Jenkins url must be http(s), not ${parsed.protocol}`, { retryable: false });
  }
  if (parsed.username || parsed.password) {
    throw new ActionError("the Jenkins url must not carry credentials; use the credentials secret", {
      retryable: false,
    });
  }
  parsed.search = "";
  parsed.hash = "";
  return parsed.toString().replace(/\/+$/, "");
}

/** ["api", "build"] -> /job/api/job/build, each segment encoded; a path jenkinsJobProblem names is refused (final). */
export function jobPath(job: readonly string[]): string {
  const problem = jenkinsJobProblem(job);
  if (problem !== undefined) throw new ActionError(problem, { retryable: false });
  return job.map((segment) => `/job/${encodeURIComponent(segment)}`).join("");
}

/** The cookies set by the crumb issuer, as a Cookie header value (name=value pairs only). */
function sessionCookie(res: HttpResponse): string | undefined {
  const raw = res.headers["set-cookie"];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const pairs = list.map((c) => c.split(";")[0]?.trim()).filter((c): c is string => !!c && c.includes("="));
  return pairs.length > 0 ? pairs.join("; ") : undefined;
}

/** The number of a queue item URL (…/queue/item/42/), which names no address. */
function queueItemNumber(location: string | undefined): string | undefined {
  return location === undefined ? undefined : /\/queue\/item\/(\d+)\/?$/.exec(location)?.[1];
}

/**
 * Jenkins' queue item (or build) URL as logged: without a query string, a fragment or user info, which could hold a token,
 * nor the credentials `sent` anywhere else in it (a server can echo them into the path).
 */
function queueItemUrl(location: string | undefined, sent: Record<string, string>): string | undefined {
  if (!location) return undefined;
  let shown: string | undefined;
  try {
    const url = new URL(location);
    url.search = "";
    url.hash = "";
    url.username = "";
    url.password = "";
    shown = url.toString();
  } catch {
    shown = location.split(/[?#]/)[0];
  }
  return shown === undefined ? undefined : withoutCredentials(shown, sent);
}
