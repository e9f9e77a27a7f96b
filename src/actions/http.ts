// Shared HTTP for the actions: undici with a timeout on every call, a dispatcher per private CA
// bundle (added to the default trust; verification is never turned off) and per egress proxy, and one
// classification of answers and failures into ActionError. Tokens live in headers only and never reach a
// message; nor does a proxy's password.
import { createHash, X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import {
  Agent,
  type buildConnector,
  Client,
  type Dispatcher,
  EnvHttpProxyAgent,
  Pool,
  request,
} from "undici";
import { ActionError } from "../core/errors";
import { MAX_RETRY_DELAY_MS } from "../core/policy";
import { type ProxySettings, shownProxy } from "./proxy";
import { type SecretKey, secretError } from "./secrets";
import type { ActionClients } from "./types";

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpCall {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  dispatcher?: Dispatcher;
  /** Overall limit for the whole exchange, body included (default 30 s). */
  timeoutMs?: number;
  /** Limit for the headers and for each gap between body chunks (default: timeoutMs). */
  idleTimeoutMs?: number;
  /** When the exchange must have ended at the latest (epoch ms): the function's own deadline. */
  deadlineMs?: number;
  /** What is being called, for messages: "Jenkins job api/build", "GitHub API". */
  what: string;
  /**
   * Credential headers sent on an earlier hop, kept out of a failure's message (withoutCredentials): it names
   * the origin called, and a redirect's other origin, which gets no credentials, can hold them in its host name.
   */
  sent?: Record<string, string>;
}

export type HttpResponse = Dispatcher.ResponseData;

/**
 * One request, with headersTimeout/bodyTimeout and an overall AbortSignal. Network errors and
 * timeouts become retryable ActionErrors. Redirects are never followed here: each caller has its own rules
 * (the Git host API's in gitHost/redirects.ts, the archive download's in s3Zip.ts, Jenkins' in jenkins.ts).
 */
export async function httpRequest(call: HttpCall): Promise<HttpResponse> {
  const left = call.deadlineMs === undefined ? Number.POSITIVE_INFINITY : call.deadlineMs - Date.now();
  if (left <= 0) {
    throw new ActionError(`${call.what} was not called: the function's time ran out`, { retryable: true });
  }
  const limit = call.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // A call the function would not live to see the end of is cut short, and retried, instead.
  const timeoutMs = Math.min(limit, Math.ceil(left));
  const idleTimeoutMs = Math.min(timeoutMs, call.idleTimeoutMs ?? timeoutMs);
  const signal = AbortSignal.timeout(timeoutMs);
  const failure = (err: unknown): ActionError => {
    // Say which limit fired: the idle one (nothing received for that long) or the overall one.
    const code = (err as { code?: string } | undefined)?.code;
    const idle = code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT";
    const fired = idle ? idleTimeoutMs : timeoutMs;
    const failed = networkError(call.what, err, fired, call.url, proxyFor(call.dispatcher, call.url));
    const error = call.sent ? withoutCredentialsIn(failed, call.sent) : failed;
    // Not undici's connect limit, which is no share of the function's time.
    const ours = code !== "UND_ERR_CONNECT_TIMEOUT";
    if (ours && fired === timeoutMs && timeoutMs < limit && error.message.includes("timed out")) {
      return new ActionError(`${error.message}, where the function's time ran out`, {
        retryable: true,
        cause: err,
      });
    }
    return error;
  };
  try {
    const pending = request(call.url, {
      method: call.method,
      // A copy: undici's ProxyAgent writes host into the object it is given, and a caller reuses its object
      // (a redirect to another origin would then be sent with the first one's Host).
      headers: call.headers && { ...call.headers },
      body: call.body,
      dispatcher: call.dispatcher,
      headersTimeout: idleTimeoutMs,
      bodyTimeout: idleTimeoutMs,
      signal,
    });
    const res = await settledBy(pending, signal);
    bodyFailures.set(res, failure);
    return res;
  } catch (err) {
    throw failure(err);
  }
}

/** How each response's call names a failure, for one that comes while its body is read. */
const bodyFailures = new WeakMap<HttpResponse, (err: unknown) => ActionError>();

/**
 * A failure while `res`'s body was being read, named as its call names one before the headers: which limit
 * fired (the idle one, the overall one, or the function's time), the origin and the proxy. A body cut by the
 * call's own signal would otherwise read only "timed out", pointing at the host when the function ran out of
 * time.
 */
export function bodyFailure(res: HttpResponse, err: unknown, what: string): ActionError {
  return bodyFailures.get(res)?.(err) ?? networkError(what, err);
}

/**
 * `pending`, or the signal's reason once it aborts. undici heeds a request's signal only once the request has a
 * connection: through an egress proxy an https call first waits for the answer to its CONNECT, which a stalled
 * proxy never sends (undici's proxy client waits 300 s for it), past the call's limit and the function's
 * deadline. A response that comes after all the same is released.
 */
function settledBy(pending: Promise<HttpResponse>, signal: AbortSignal): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      pending.then(
        (late) => late.body.destroy(),
        () => undefined,
      );
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (response) => {
        signal.removeEventListener("abort", onAbort);
        resolve(response);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** Read a (small) response body as text, bounded; network failures become retryable errors. */
export async function readText(res: HttpResponse, what: string, limit = 1024 * 1024): Promise<string> {
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        res.body.destroy();
        throw new ActionError(`${what} answered a body larger than ${limit} bytes`, { retryable: false });
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  } catch (err) {
    if (err instanceof ActionError) throw err;
    throw networkError(what, err);
  }
}

/**
 * Read a JSON response body, at most `limit` bytes (1 MiB unless the caller says); an unparsable one is a
 * retryable error (a proxy's HTML page, a cut body).
 */
export async function readJson<T>(res: HttpResponse, what: string, limit?: number): Promise<T> {
  const text = await readText(res, what, limit);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ActionError(`${what} answered ${res.statusCode} with a body that is not JSON`, {
      retryable: true,
    });
  }
}

/** Release the connection without reading the body. */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump();
  } catch {
    // The body is not needed; a broken connection here changes nothing.
  }
}

/**
 * A network failure or timeout: retryable, but for a proxy's refusal of credentials or of the host. The
 * message names the code and, given the URL called, its origin (scheme, host and port: never a path or
 * query, which may hold a token) and the proxy it went through (never its user or password), never a
 * header; its publicMessage leaves the origin and the proxy out.
 */
export function networkError(
  what: string,
  err: unknown,
  timeoutMs?: number,
  url?: string,
  proxy?: string,
): ActionError {
  if (err instanceof ActionError) return err;
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  // Before the timeout check: the tunnel's refusal is an error named AbortError.
  const refused = proxyRefusedStatus(err);
  if (refused !== undefined) return proxyRefusal(what, refused, err, proxy, url);
  if (e?.code === "UND_ERR_CONNECT_TIMEOUT") return connectTimeout(what, err, url, proxy);
  const timedOut =
    e?.name === "TimeoutError" ||
    e?.name === "AbortError" ||
    e?.code === "UND_ERR_HEADERS_TIMEOUT" ||
    e?.code === "UND_ERR_BODY_TIMEOUT";
  if (timedOut) {
    const after = timeoutMs === undefined ? "" : ` after ${duration(timeoutMs)}`;
    return new ActionError(`${what} timed out${after}`, { retryable: true, cause: err });
  }
  const code = String(e?.code ?? e?.name ?? "error");
  if (code === "UND_ERR_INVALID_ARG") {
    // undici refused to send it: a header value (a token, a crumb) holds what HTTP does not allow.
    return new ActionError(
      `${what}: the request could not be built (${code}): a value from a secret or a setting holds a character HTTP headers do not allow`,
      { retryable: false, cause: err },
    );
  }
  const tls =
    towardProxy.has(err as object) || code === "UND_ERR_PRX_TLS" ? proxyTlsHint(code, err) : tlsHint(code);
  // The connection to the egress proxy itself failed: the host was never contacted, the proxy is named.
  const namesProxy = !tls && towardProxy.has(err as object) && proxy !== undefined;
  const hint = tls || (namesProxy ? proxyConnectionHint(code, proxy) : connectionHint(code, url));
  const via = proxy && !namesProxy ? ` (through the proxy ${proxy}, unless NO_PROXY lists the host)` : "";
  // The origin helps whoever reads the logs; a pull request's commit status gets the message without it.
  return new ActionError(`${what} could not be reached: ${code}${hint}${via}`, {
    retryable: true,
    cause: err,
    publicMessage: `${what} could not be reached: ${code}${tls}`,
  });
}

/**
 * undici's own connect limit fired (lib/core/connect.js: 10 s unless a dispatcher's connect.timeout says
 * otherwise; the TLS handshake included), not the call's: retryable, as any timeout. The limit is read from
 * undici's message ("... timeout: 10000ms)"), so it is the one that fired. Toward the egress proxy itself,
 * the proxy is named instead of the host. The handshake is mentioned for an https:// connection only.
 */
function connectTimeout(what: string, err: unknown, url?: string, proxy?: string): ActionError {
  const message = (err as { message?: unknown } | undefined)?.message;
  const ms = /timeout: (\d+)ms\)$/.exec(typeof message === "string" ? message : "")?.[1];
  const limit = `undici's connect limit${ms === undefined ? "" : ` of ${duration(Number(ms))}`}`;
  const toProxy = towardProxy.has(err as object) && proxy !== undefined;
  // The connection that timed out is TLS when what it went to (the proxy, or the host) is https://.
  const tls = (toProxy ? proxy : (url ?? "")).startsWith("https:");
  const setUp = `the connection was not set up within ${limit}${tls ? ", TLS handshake included" : ""}`;
  let where = "";
  if (toProxy) where = ` to the egress proxy ${proxy}`;
  else {
    const origin = originOf(url);
    where = `${origin ? ` to ${origin}` : ""}${proxy ? ` (through the proxy ${proxy})` : ""}`;
  }
  return new ActionError(`${what} timed out connecting${where}: ${setUp}`, {
    retryable: true,
    cause: err,
    publicMessage: `${what} timed out connecting: ${setUp}`,
  });
}

/** 500 ms, 20 s. */
function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/**
 * The egress proxy answered something other than 200 to a CONNECT, or 407 to a plain request. 407 (it wants
 * credentials) and 403 (its policy refuses the host) are final; the rest (502, 503: it could not reach the
 * host) retryable. The host refused is named by its origin: a redirect's host (codeload.github.com, a Git
 * host's object storage) is one the route names nowhere, and the one an allowlisting proxy must be told of.
 */
function proxyRefusal(what: string, status: number, err: unknown, proxy?: string, url?: string): ActionError {
  const hint = proxyRefusalHint(status);
  const origin = originOf(url);
  const refused = `refused the connection (${status})`;
  const refusedTo = `refused the connection${origin ? ` to ${origin}` : ""} (${status})`;
  return new ActionError(`${what}: the egress proxy${proxy ? ` ${proxy}` : ""} ${refusedTo}${hint}`, {
    retryable: status !== 407 && status !== 403,
    cause: err,
    publicMessage: `${what}: the egress proxy ${refused}`,
  });
}

/**
 * The status of an egress proxy's refusal, from undici's own messages: anything but 200 to a CONNECT (an https
 * target), or 407 to an absolute-URI request (an http one). Undefined for any other error.
 */
export function proxyRefusedStatus(err: unknown): number | undefined {
  const message = (err as { message?: unknown } | undefined)?.message;
  const refused =
    /^Proxy response \((\d+)\) !== 200 when HTTP Tunneling$|^Proxy Authentication Required \((407)\)$/.exec(
      typeof message === "string" ? message : "",
    );
  return refused ? Number(refused[1] ?? refused[2]) : undefined;
}

/** What a proxy's 407 or 403 asks of whoever set it up ("" for another status). */
export function proxyRefusalHint(status: number): string {
  return status === 407
    ? // Deployed, network.httpsProxy takes no credentials (they would sit in plain Lambda variables).
      ": it asks for credentials; give them in the proxy URL (http://user:password@host:port), or, for the " +
        "deployed functions, have the proxy admit their subnets"
    : status === 403
      ? ": it does not allow this host or port; have it allowed, or list the host in NO_PROXY if it is reachable directly"
      : "";
}

/** Where the connection went, and what the common failures mean: a wrong port or host name is the usual cause. */
function connectionHint(code: string, url: string | undefined): string {
  const origin = originOf(url);
  if (origin === "") return "";
  if (code === "ECONNREFUSED")
    return ` (nothing accepts connections at ${origin}: is it running there, on that port?)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return ` (the host name of ${origin} does not resolve)`;
  return ` (${origin})`;
}

/** connectionHint for a connection to the egress proxy itself. */
function proxyConnectionHint(code: string, proxy: string): string {
  if (code === "ECONNREFUSED")
    return ` (nothing accepts connections at the egress proxy ${proxy}: is it running there, on that port?)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return ` (the host name of the egress proxy ${proxy} does not resolve)`;
  return ` (at the egress proxy ${proxy})`;
}

/** The URL's scheme, host and port ("" when there is none): never its path or query, which may hold a token. */
function originOf(url: string | undefined): string {
  try {
    const origin = url === undefined ? "" : new URL(url).origin;
    return origin === "null" ? "" : origin;
  } catch {
    return "";
  }
}

/**
 * What a TLS failure asks of the user: only an unknown issuer is fixed by adding a CA, which `addCa` says how
 * to do (the actions' caBundle; hookgate send, a CLI, NODE_EXTRA_CA_CERTS).
 */
export function tlsHint(code: string, addCa = "add its CA with caBundle"): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return " (the server's certificate does not name this host: use a host name the certificate lists)";
  }
  if (code === "CERT_HAS_EXPIRED") return " (the server's certificate has expired)";
  if (code === "CERT_NOT_YET_VALID") return " (the server's certificate is not valid yet)";
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
    return ` (the server's certificate is not trusted: ${addCa})`;
  }
  return /CERT|ERR_TLS|ERR_SSL/.test(code) ? " (a TLS failure)" : "";
}

/**
 * A TLS failure on the way to an https:// egress proxy (before any CONNECT): caBundle cannot help, as undici
 * checks the proxy's certificate against the default roots only; its http:// port can.
 */
export function proxyTlsHint(code: string, err: unknown): string {
  // UND_ERR_PRX_TLS: undici's wrapper of the proxy's ERR_TLS_CERT_ALTNAME_INVALID.
  const cause =
    code === "UND_ERR_PRX_TLS" ? String((err as { cause?: { code?: unknown } }).cause?.code) : code;
  // OpenSSL read plain HTTP where a TLS record should be: an https:// URL for the proxy's plain port (squid's
  // 3128), not a certificate.
  if (cause === "ERR_SSL_WRONG_VERSION_NUMBER" || cause === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
    return " (the egress proxy does not speak TLS on that port: use http:// in the proxy's URL)";
  }
  const why =
    cause === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? "does not name the proxy's host"
      : cause === "CERT_HAS_EXPIRED"
        ? "has expired"
        : /CERT|ERR_TLS|ERR_SSL|SELF_SIGNED|UNABLE_TO/.test(cause)
          ? "is not trusted, and caBundle is for the hosts only"
          : code === "UND_ERR_PRX_TLS"
            ? "is refused"
            : undefined;
  return why === undefined ? "" : ` (the egress proxy's certificate ${why}: use the proxy's http:// port)`;
}

/**
 * Classify a non-success answer. 5xx, 429 and 408 (Request Timeout) are retryable; so are GitHub's rate limits, which come as
 * a 403 or a 429 (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
 * - primary: x-ratelimit-remaining: 0, retried after x-ratelimit-reset;
 * - secondary: retry-after, or no header and a message saying so, retried after a minute at least
 *   (whether it came as a 403 or a 429).
 * A 429 without either takes GitLab's RateLimit-Reset (unix seconds), which its throttles may send without a
 * Retry-After. A retry-after wins. A delay is at most the policy's longest (MAX_RETRY_DELAY_MS). Every other
 * 4xx is final. `detail` is appended to the message (keep it log-safe).
 */
export function statusError(
  what: string,
  res: Pick<HttpResponse, "statusCode" | "headers">,
  detail = "",
  nowMs = Date.now(),
): ActionError {
  const status = res.statusCode;
  const suffix = detail ? `: ${detail}` : "";
  const retryAfterMs = parseRetryAfter(header(res.headers, "retry-after"), nowMs);
  const exhausted = header(res.headers, "x-ratelimit-remaining") === "0";
  const reset = Number(header(res.headers, "x-ratelimit-reset"));
  const resetMs =
    exhausted && Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - nowMs) : undefined;
  const secondary = /secondary rate limit|abuse detection/i.test(detail);
  // 408: the server (a load balancer, nginx in front of a self-hosted host) did not get the whole request in
  // time, and RFC 9110 15.5.9 lets the client repeat it.
  if (status >= 500 || status === 429 || status === 408) {
    // Not for a 5xx: GitLab sends RateLimit-Reset on every answer, and a 503 has nothing to do with it.
    // Only when the window is used up (or the remainder not said): with requests left, the reset is of
    // another window than the throttle's (gitlab#199738).
    const windowLeft = header(res.headers, "ratelimit-remaining");
    const windowMs =
      status === 429 && (windowLeft === undefined || windowLeft.trim() === "0")
        ? rateLimitResetMs(header(res.headers, "ratelimit-reset"), nowMs)
        : undefined;
    return new ActionError(`${what} answered ${status}${suffix}`, {
      retryable: true,
      retryAfterMs: atMostMaxDelay(retryAfterMs ?? resetMs ?? windowMs ?? (secondary ? 60_000 : undefined)),
    });
  }
  if (status === 403 && (retryAfterMs !== undefined || exhausted || secondary)) {
    return new ActionError(`${what} rate limit exceeded (403)${suffix}`, {
      retryable: true,
      retryAfterMs: atMostMaxDelay(retryAfterMs ?? resetMs ?? 60_000),
    });
  }
  return new ActionError(`${what} answered ${status}${suffix}`, { retryable: false });
}

/** A delay no longer than the policy's longest: a reset an hour away is retried by then anyway. */
function atMostMaxDelay(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_DELAY_MS);
}

/**
 * RateLimit-Reset in milliseconds from now: GitLab sends when the window resets as unix seconds
 * (docs.gitlab.com, "Rate limits"); the IETF draft's header of that name holds seconds from now, told apart
 * here by size (no delay is 30 years long). Undefined when absent, not a number, or 0.
 */
export function rateLimitResetMs(value: string | undefined, nowMs = Date.now()): number | undefined {
  const trimmed = value?.trim() ?? "";
  if (!/^\d+$/.test(trimmed)) return undefined;
  const seconds = Number(trimmed);
  if (seconds === 0) return undefined;
  return seconds >= 1e9 ? Math.max(0, seconds * 1000 - nowMs) : seconds * 1000;
}

/** A final refusal with the host's hint at its cause, for the logs; a commit status shows the answer alone. */
export function withHint(err: ActionError, hint: string): ActionError {
  return new ActionError(`${err.message}; ${hint}`, { retryable: false, publicMessage: err.publicMessage });
}

/** Retry-After as delay-seconds or an HTTP-date, in milliseconds from now. */
export function parseRetryAfter(value: string | undefined, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names its day and month ("Wed, 21 Oct 2015 07:28:00 GMT"); anything else is noise.
  const at = /[a-z]{3}/i.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export function header(headers: HttpResponse["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `text` without the credentials that were sent: an error message a server wrote can quote them (an
 * echoed Authorization header, a Location), and it goes to logs, dead letters and commit statuses. Covers a
 * header's whole value, the part after its scheme (Bearer, token, Basic) and a Basic pair's decoded user and
 * password, each also as a URL, a JSON string or a latin1 reading of its UTF-8 holds it (spellings), in any case
 * of ASCII letters, and as the IPv4 address a URL parser writes for it where that stands as a URL's host
 * (addressForm); and the same of every egress proxy's credentials (a proxy can pass its Proxy-Authorization
 * on, and the server echo it). Nothing shorter than 8 characters, however long its spellings: it would blank
 * ordinary words. `also.values`: more values taken out as they are (not split); `also.anyLength`: values taken
 * out however short (`hookgate send`'s own secret and proxy password).
 */
export function withoutCredentials(
  text: string,
  credentialHeaders: Record<string, string>,
  also: { values?: readonly string[]; anyLength?: readonly string[] } = {},
): string {
  const secrets = new Set<string>(also.values);
  for (const value of Object.values(credentialHeaders)) {
    secrets.add(value);
    const [, scheme, rest] = /^(\S+)\s+(\S+)$/.exec(value) ?? [];
    if (!rest) continue;
    secrets.add(rest);
    if (scheme?.toLowerCase() === "basic") {
      const decoded = Buffer.from(rest, "base64").toString("utf8");
      secrets.add(decoded);
      // The password ends the pair, colons and all (RFC 7617); each part between its colons too, the user's
      // included: a token may be the user ({"username": "<token>", "password": "x-oauth-basic"}).
      secrets.add(decoded.slice(decoded.indexOf(":") + 1));
      for (const part of decoded.split(":")) secrets.add(part);
    }
  }
  for (const value of proxyCredentials) secrets.add(value);
  const out = new Set<string>();
  const addresses = new Set<string>();
  const add = (secret: string) => {
    for (const form of spellings(secret)) out.add(form);
    const address = addressForm(secret);
    if (address !== undefined) addresses.add(address);
  };
  for (const secret of secrets) if (secret.length >= 8) add(secret);
  for (const value of also.anyLength ?? []) add(value);
  return redacted(text, out, addresses);
}

/** `err` with its message and public message without the credentials `sent`. */
function withoutCredentialsIn(err: ActionError, sent: Record<string, string>): ActionError {
  return new ActionError(withoutCredentials(err.message, sent), {
    retryable: err.retryable,
    retryAfterMs: err.retryAfterMs,
    cause: err.cause,
    publicMessage: withoutCredentials(err.publicMessage, sent),
  });
}

/**
 * The ways a server can write `secret` back: its URL forms (urlForms), also of the latin1 reading of its UTF-8
 * bytes (undici reads header bytes as latin1, so a Location holding a non-ASCII secret raw reaches the URL parser
 * so), and each of those as a JSON string holds it (jsonForms: a JSON answer quoting a URL that holds the secret
 * escapes the URL's / or &). A Set: most forms of most secrets are the same text.
 */
function spellings(secret: string): Set<string> {
  const forms = new Set<string>();
  const latin1 = Buffer.from(secret, "utf8").toString("latin1");
  for (const value of latin1 === secret ? [secret] : [secret, latin1]) {
    for (const form of urlForms(value)) {
      for (const json of jsonForms(form)) forms.add(json);
      for (const html of htmlForms(form)) forms.add(html);
    }
  }
  return forms;
}

/**
 * `form` as an HTML page holds it, when it has a character HTML escapes: & < > " as entities, and ' as each of
 * &#39; (Go's html/template), &#039; (PHP's htmlspecialchars) and &#x27; (Python's html.escape). None else.
 */
function htmlForms(form: string): string[] {
  if (!/[&<>"']/.test(form)) return [];
  const escaped = form.replace(/[&<>"]/g, (c) => HTML_ENTITIES[c] as string);
  return ["&#39;", "&#039;", "&#x27;"].map((quote) => escaped.replace(/'/g, quote));
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
};

/**
 * `form` and the ways a JSON string holds it: JSON.stringify's escapes; & < > as Go writes them; non-ASCII as
 * \uXXXX (Python's json.dumps, Jackson's ESCAPE_NON_ASCII); / as \/ (PHP's json_encode); and those together.
 * The form and at most 8 more; none more for a form with none of " \ / & < >, a control character or non-ASCII
 * in it (a token, a percent-encoded form).
 */
function jsonForms(form: string): Set<string> {
  const forms = new Set([form]);
  const json = JSON.stringify(form).slice(1, -1);
  for (const go of [json, json.replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)]) {
    for (const ascii of [
      go,
      go.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
    ]) {
      forms.add(ascii);
      forms.add(ascii.replace(/\//g, "\\/"));
    }
  }
  return forms;
}

/**
 * `secret` and the ways a URL a server wrote can hold it, each derived with this runtime's URL where a URL
 * writes it (Node 24's encodes characters Node 20's keeps): component-encoded (encodeURIComponent), as encodeURI
 * leaves it, as a URL's path, user info (the password setter), query (the search setter) and fragment hold it,
 * as a form writes it (searchParams: a space as +), with a space as + after encodeURIComponent, and as a host
 * name (lower-cased, non-ASCII as punycode: only when the secret is the whole host or whole labels of it).
 * Each of those once more component- or form-encoded too (a redirect's query holding a URL that holds it); no
 * deeper. redacted matches them in any case of ASCII letters, so a hex escape's case does not matter.
 */
function urlForms(secret: string): string[] {
  const written = new Set([secret, encodeURIComponent(secret), encodeURI(secret), plusForm(secret)]);
  written.add(formEncoded(secret));
  const url = new URL("http://x/");
  url.pathname = `/${secret}`;
  written.add(url.pathname.slice(1));
  url.password = secret;
  written.add(url.password);
  url.search = `?${secret}`;
  written.add(url.search.slice(1));
  url.hash = `#${secret}`;
  written.add(url.hash.slice(1));
  const host = hostForm(secret);
  if (host !== undefined) written.add(host);
  // Each once more, as a URL put into another URL's query is.
  const forms = new Set(written);
  for (const form of written) {
    forms.add(encodeURIComponent(form));
    forms.add(formEncoded(form));
  }
  return [...forms];
}

const plusForm = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
const formEncoded = (value: string) => new URLSearchParams({ x: value }).toString().slice(2);

/**
 * `secret` as a URL's host name writes it, when the whole secret can be one (no user info, port, path, query or
 * fragment delimiter in it) and that is other text than the secret lower-cased (which the secret itself
 * matches): non-ASCII labels as punycode, percent-escapes decoded ("ab%43defgh" is "abcdefgh"), soft hyphens
 * dropped. Not under 8 characters, as IDNA's mapping may make an ordinary word of it ("ab" and six soft hyphens
 * is "ab"). Not an IPv4 address the parser wrote from other digits (addressForm).
 */
function hostForm(secret: string): string | undefined {
  const host = parsedHost(secret);
  if (host === undefined || isAddressOfOtherDigits(host, secret)) return undefined;
  return host.length >= 8 && host !== asciiLower(secret) ? host : undefined;
}

/**
 * The IPv4 address the URL parser writes for `secret` as a host, when that is other text than the secret: from 8
 * characters on ("12345678" is 0.188.97.78, "2130706433" is 127.0.0.1) it gives the secret back, and redacted
 * takes it out where it stands as a URL's whole host (after / or @, no digit or dot after it), which is where a
 * parser writes it. Elsewhere it is an address a message names for its own reasons (a connection error's
 * 127.0.0.1:8080, the 0.0.0.1 inside 10.0.0.1). For a short value ("127.1" is 127.0.0.1, send's own secret)
 * none: an address like any other.
 */
function addressForm(secret: string): string | undefined {
  const host = parsedHost(secret);
  return host !== undefined && isAddressOfOtherDigits(host, secret) && secret.length >= 8 ? host : undefined;
}

function parsedHost(secret: string): string | undefined {
  if (/[:@/\\?#]/.test(secret)) return undefined;
  try {
    return new URL(`http://${secret}/`).hostname;
  } catch {
    return undefined;
  }
}

const isAddressOfOtherDigits = (host: string, secret: string) => /^[\d.]+$/.test(host) && host !== secret;

/**
 * `text` with every stretch one of `secrets` covers as [redacted], ASCII letters matched in either case (a
 * parsed URL lower-cases its host; hex escapes come in both cases); overlapping matches make one stretch. Each
 * of `addresses` (addressForm) only where it stands as a URL's host (isWholeHost). Linear in the text for each
 * secret: a stretch already covered is not filled again.
 */
function redacted(text: string, secrets: Iterable<string>, addresses: Iterable<string> = []): string {
  // ASCII letters only: String.toLowerCase changes the length of some non-ASCII text, and the indexes must hold.
  const folded = asciiLower(text);
  let covered: Uint8Array | undefined;
  const anywhere = new Set([...secrets].map(asciiLower));
  // An address that is also a secret's own spelling (a password 0.188.97.78 beside one 12345678) goes anywhere.
  const hosts = new Set([...addresses].filter((address) => !anywhere.has(address)));
  for (const secret of [...anywhere, ...hosts]) {
    if (secret === "") continue;
    const host = hosts.has(secret);
    let filled = 0;
    for (let at = folded.indexOf(secret); at !== -1; at = folded.indexOf(secret, at + 1)) {
      if (host && !isWholeHost(folded, at, secret.length)) continue;
      covered ??= new Uint8Array(text.length);
      covered.fill(1, Math.max(at, filled), at + secret.length);
      filled = at + secret.length;
    }
  }
  if (covered === undefined) return text;
  let out = "";
  for (let at = 0; at < text.length; ) {
    const start = at;
    const hidden = covered[at] === 1;
    while (at < text.length && (covered[at] === 1) === hidden) at++;
    out += hidden ? "[redacted]" : text.slice(start, at);
  }
  return out;
}

/**
 * Whether the `length` characters at `at` of the lower-cased `text` stand as a URL's whole host: after a URL's //
 * (JSON's \/\/, escaped any number of times) or user info's @, also percent-encoded once or twice (a URL inside another's query, or inside a
 * URL inside that), and neither a digit nor a dot and a digit or letter after them (a longer address or name; a
 * sentence's full stop is not one). A path segment naming the address ("/computer/127.0.0.1/") is not a host.
 */
function isWholeHost(text: string, at: number, length: number): boolean {
  const before = HOST_LEAD.test(text.slice(Math.max(0, at - 64), at));
  return before && !/^(?:\d|\.[a-z\d])/.test(text.slice(at + length, at + length + 2));
}

// "//" with any run of "\" before each "/" (JSON's \/\/, escaped again: \\\/\\\/), and so percent-encoded once or twice.
const HOST_LEAD = /(?:\/\\*\/|@|%2f(?:%5c)*%2f|%40|%252f(?:%255c)*%252f|%2540)$/;

function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/**
 * The short message of an error answer's body (apiMessage), without the credentials that were sent.
 * Reading the body can fail like any network read.
 */
export async function serverMessage(
  res: HttpResponse,
  what: string,
  credentialHeaders: Record<string, string>,
): Promise<string> {
  // Shortened only once redacted: a cut through an echoed token would leave the part before the cut.
  const message = withoutCredentials(apiMessage(await readText(res, what, 64 * 1024)), credentialHeaders);
  return message.slice(0, MESSAGE_LENGTH);
}

const MESSAGE_LENGTH = 200;

/**
 * The message of a JSON error body ({"message": "..."}) on one line, when there is one. Not shortened:
 * serverMessage shortens it once the credentials are out.
 */
export function apiMessage(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "";
  }
  return messageOf(body).replace(/[\r\n]+/g, " ");
}

/**
 * Each host's error shape: {"message"} (GitHub, GitLab, Gitea), GitLab's field errors, {"error": "..."},
 * Bitbucket Cloud's {"error": {"message"}}, Bitbucket Data Center's {"errors": [{"message"}, ...]}.
 */
function messageOf(body: unknown): string {
  if (!isJsonObject(body)) return "";
  const { message, error, errors } = body;
  // GitHub's 422 says "Validation Failed" and why in errors[] ({"code": "abuse"}, {"message": "..."}).
  const details = Array.isArray(errors) ? errorDetails(errors) : "";
  if (typeof message === "string") return details ? `${message}: ${details}` : message;
  if (isJsonObject(message)) return fieldErrors(message);
  if (typeof error === "string") return error;
  if (isJsonObject(error) && typeof error.message === "string") return error.message;
  return details;
}

/** Each entry's message, or its code when it has none. */
function errorDetails(errors: unknown[]): string {
  return errors
    .map((each) => {
      if (!isJsonObject(each)) return "";
      if (typeof each.message === "string") return each.message;
      return typeof each.code === "string" ? each.code : "";
    })
    .filter((each) => each !== "")
    .join("; ");
}

/** A JSON object (not an array, not null), as GitLab's validation errors are: {"message": {"target_url": [...]}}. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldErrors(errors: Record<string, unknown>): string {
  return Object.entries(errors)
    .map(([field, why]) => `${field} ${Array.isArray(why) ? why.map(String).join(", ") : String(why)}`)
    .join("; ");
}

const dispatchers = new Map<string, Dispatcher>();
/** The proxy settings each proxying dispatcher was built with, for messages. */
const proxies = new WeakMap<Dispatcher, ProxySettings>();

/**
 * A dispatcher that trusts the default roots PLUS the PEM bundle: private CAs are added, never
 * substituted, and certificate verification stays on. With a proxy, the bundle verifies the target
 * through the tunnel (requestTls) and on direct connections (connect, for NO_PROXY's hosts). Cached.
 * allowPartialTrustChain (Node 20.18+/22.9+): a bundle's issuing (intermediate) CA is a trust anchor by
 * itself, as curl and Java take it; without it the chain must reach a self-signed root
 * (UNABLE_TO_GET_ISSUER_CERT).
 */
export function dispatcherForCa(pem: string, proxy?: ProxySettings): Dispatcher {
  return cached(pem, proxy, () => {
    const tls = { ca: [...rootCertificates, pem], rejectUnauthorized: true, allowPartialTrustChain: true };
    return proxy ? proxyAgent(proxy, tls) : new Agent({ connect: tls });
  });
}

/** Through the proxy, when one is set; undefined otherwise (undici's global dispatcher, as without proxies). */
export function proxyDispatcher(proxy: ProxySettings | undefined): Dispatcher | undefined {
  return proxy && cached("", proxy, () => proxyAgent(proxy));
}

/** The dispatcher of an action's calls: the CA bundle's, else the clients' own, else the proxy's. */
export function actionDispatcher(
  clients: Pick<ActionClients, "dispatcher" | "proxy">,
  pem?: string,
): Dispatcher | undefined {
  if (pem !== undefined) return dispatcherForCa(pem, clients.proxy);
  return clients.dispatcher ?? proxyDispatcher(clients.proxy);
}

function cached(pem: string, proxy: ProxySettings | undefined, build: () => Dispatcher): Dispatcher {
  // Without a proxy, keyed by the bundle alone, as it always was.
  const id = createHash("sha256")
    .update(proxy ? JSON.stringify([pem, proxy]) : pem)
    .digest("hex");
  let dispatcher = dispatchers.get(id);
  if (!dispatcher) {
    for (const uri of [proxy?.httpsProxy, proxy?.httpProxy]) noteProxyCredentials(uri);
    dispatcher = build();
    dispatchers.set(id, dispatcher);
  }
  return dispatcher;
}

/**
 * undici's EnvHttpProxyAgent with every setting given (an empty one is "none"), so it never reads
 * process.env itself. An http target goes to an http proxy as an absolute-URI request (proxyTunnel
 * false), as curl does: proxies often allow CONNECT to port 443 only. An https target is tunnelled.
 * A new one on each call, the caller's to destroy (`hookgate send`); the actions' are cached above.
 * `proxyConnectTimeoutMs` limits the connection to the proxy itself (default: undici's 10 s); tests shorten it.
 */
export function proxyAgent(
  proxy: ProxySettings,
  tls?: { ca: string[]; rejectUnauthorized: boolean; allowPartialTrustChain?: boolean },
  { proxyConnectTimeoutMs }: { proxyConnectTimeoutMs?: number } = {},
): Dispatcher {
  const agent = new EnvHttpProxyAgent({
    httpsProxy: proxy.httpsProxy,
    httpProxy: proxy.httpProxy,
    noProxy: proxy.noProxy,
    proxyTunnel: false,
    clientFactory: proxyClient,
    // An http target through an http proxy (Http1ProxyWrapper) gets its client to the proxy from `factory`,
    // not `clientFactory`; so does every other origin (the direct Agent's too), told apart by the proxy's href.
    factory: (origin: string | URL, options: object) =>
      proxy.httpProxy && String(origin) === proxyHref(proxy.httpProxy)
        ? proxyClient(origin, options)
        : defaultAgentFactory(origin, options),
    ...(tls ? { connect: tls, requestTls: tls } : {}),
    // Only when given: a proxyTls makes undici take a socks5:// proxy as TLS.
    ...(proxyConnectTimeoutMs === undefined ? {} : { proxyTls: { timeout: proxyConnectTimeoutMs } }),
  });
  proxies.set(agent, proxy);
  return agent;
}

/** Failures of a connection to the egress proxy itself, not through it to a host: their hints differ. */
const towardProxy = new WeakSet<object>();

/** Whether `err` is a failure of a connection to a proxyAgent's proxy itself, not through it to a host. */
export function isTowardProxy(err: unknown): boolean {
  return typeof err === "object" && err !== null && towardProxy.has(err);
}

/**
 * The proxy URL as undici's ProxyAgent hands it to `factory` for its Http1ProxyWrapper (its href, with a path:
 * a request's origin, which the Agent hands it otherwise, has none).
 */
function proxyHref(uri: string): string | undefined {
  try {
    return new URL(uri).href;
  } catch {
    return undefined;
  }
}

/** undici's default `factory` (dispatcher/proxy-agent.js, agent.js): a Client for one connection, else a Pool. */
function defaultAgentFactory(origin: string | URL, options: object): Dispatcher {
  return (options as { connections?: number }).connections === 1
    ? new Client(origin, options)
    : new Pool(origin, options);
}

/** undici's default client to the proxy (a Pool), whose connection failures are noted in towardProxy. */
function proxyClient(origin: string | URL, options: object): Dispatcher {
  const { connect } = options as { connect: buildConnector.connector };
  return new Pool(origin, {
    ...options,
    connect: (opts, callback) =>
      connect(opts, (...args) => {
        if (args[0]) towardProxy.add(args[0]);
        callback(...args);
      }),
  });
}

/**
 * What withoutCredentials takes out of every message for the actions' proxies: the Proxy-Authorization undici
 * sends for a proxy URL's user:password@, its base64, the pair and the password (never the user alone, which
 * may be a word). Process-wide, as the proxies are (serve's and the function's environment).
 */
const proxyCredentials = new Set<string>();

/** Notes the credentials of a proxy URL. */
function noteProxyCredentials(uri: string | undefined): void {
  for (const each of proxyCredentialValues(uri)) proxyCredentials.add(each);
}

/**
 * What undici sends for a proxy URL's user:password@ (each part URL-decoded, as undici decodes them): the
 * Proxy-Authorization value, its base64, the pair and the password; never the user alone, which may be a word.
 */
export function proxyCredentialValues(uri: string | undefined): string[] {
  try {
    const url = new URL(uri ?? "");
    // undici sends no Proxy-Authorization without a password.
    if (url.password === "") return [];
    const password = decodeURIComponent(url.password);
    const pair = `${decodeURIComponent(url.username)}:${password}`;
    const basic = Buffer.from(pair).toString("base64");
    return [`Basic ${basic}`, basic, pair, password];
  } catch {
    // No URL, or a user or password that is not URL-encoded: undici could not send it either.
    return [];
  }
}

/** The proxy (as messages show it) a dispatcher sends this URL to, unless NO_PROXY lists its host. */
function proxyFor(dispatcher: Dispatcher | undefined, url: string): string | undefined {
  const proxy = dispatcher && proxies.get(dispatcher);
  if (!proxy) return undefined;
  const uri = url.startsWith("https:") ? proxy.httpsProxy || proxy.httpProxy : proxy.httpProxy;
  return uri ? shownProxy(uri) : undefined;
}

/**
 * The bundle Node is given: at least one certificate that parses, else a final configuration error. Node stops
 * reading a bundle, without a word, at a block it cannot parse, so BEGIN/END markers alone (inside a JSON object
 * the console's key/value mode stores) would trust nothing and fail each attempt as "not trusted" until the dead
 * letter. Node is given the blocks that parse alone, never the text around them. The message never quotes the
 * secret's value; a commit status hides a name that looks random (publicSecretName).
 */
export function assertPemBundle(
  pem: string,
  secretName: string,
  key?: SecretKey,
  secretNamePrefix?: string,
): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const certificates = blocks.filter(isCertificate);
  if (certificates.length === 0) {
    const json = isJson(pem) ? ": it holds JSON: store the PEM text itself" : "";
    throw secretError(
      secretName,
      key,
      (secret) => `${secret} does not hold a PEM certificate bundle${json}`,
      { retryable: false, secretNamePrefix },
    );
  }
  // Only the blocks: Node reads a BEGIN line only at the start of a line ("ca: -----BEGIN ..." pasted from YAML
  // passes the check above, and would trust nothing).
  return `${certificates.join("\n")}\n`;
}

function isCertificate(block: string): boolean {
  try {
    new X509Certificate(block);
    return true;
  } catch {
    return false;
  }
}

/** A JSON object, array or string: what a PEM wrapped for a key/value secret becomes (not a bare number). */
function isJson(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "string" || (typeof value === "object" && value !== null);
  } catch {
    return false;
  }
}
