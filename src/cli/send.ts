// `hookgate send`: sign and post a delivery exactly as a Git host does, to `hookgate serve` or to a
// deployed stack's URL. The payload file's bytes are sent as they are (never re-serialised).
import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { readFileSync, statSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import ipaddr from "ipaddr.js";
import { Agent, type Dispatcher, request } from "undici";
import {
  isTowardProxy,
  proxyAgent,
  proxyCredentialValues,
  proxyRefusalHint,
  proxyRefusedStatus,
  proxyTlsHint,
  tlsHint,
  withoutCredentials,
} from "../actions/http";
import {
  bypassesProxy,
  type ProxySettings,
  ProxySettingsError,
  proxySettings,
  shownProxy,
} from "../actions/proxy";
import { decodeBody } from "../core/decode";
import { providerEventName } from "../core/events/eventNames";
import { NOT_HEADER_TEXT, utf8HeaderText } from "../core/headers";
import { didYouMean, looksRandom, secretRefProblem, shownSecretName } from "../core/routes/checks";
import { parseSecretShape } from "../core/secretValues";
import { clippedText, withoutInvisible } from "../core/shownText";
import { PROVIDERS, type Provider } from "../core/types";
import { signHex } from "../core/verify/hmac";
import { signingKey } from "../core/verify/keys";
import { signatureHeaders, signingProblem } from "../core/verify/sign";
import { jsonSyntaxProblem, parseSecretsFile } from "../local/fileSecretStore";
import { connectUrl, jsonKind, parseCommandArgs, shownUrl, shownUrlArgument, UsageError } from "./commandKit";

export const SEND_USAGE = `Usage: hookgate send --url URL (--secret VALUE | --secrets FILE --secret-name NAME)
                     --event NAME --payload FILE [--provider github|gitlab|bitbucket|bitbucket-server|gitea]
                     [--form] [--delivery ID] [--timeout SECONDS] [--insecure-header K:V ...]

Signs and posts a delivery exactly as the provider does (headers, signature scheme, delivery id).

Options:
  --url URL            the route's URL, e.g. http://127.0.0.1:8787/hooks/api-build
  --secret VALUE       the webhook secret (GitLab: the secret token, or the whsec_ signing token), or
                       the secret string as stored ({"secrets": [...]}), read as the gateway reads it
  --secrets FILE       a JSON secrets file (as used by hookgate serve) ...
  --secret-name NAME   ... and the name of the secret in it (the route's "secret")
  --event NAME         GitHub-style event name (push, pull_request, ping, ...) or the provider's own
                       (e.g. "Merge Request Hook", "repo:push")
  --payload FILE       the JSON payload (an object), sent byte for byte
  --provider NAME      github (default), gitlab, bitbucket, bitbucket-server or gitea
  --form               GitHub and Gitea: send application/x-www-form-urlencoded payload=<json>
  --delivery ID        the delivery id, not blank, sent trimmed (default: a random UUID); reuse one to
                       test duplicates
  --timeout SECONDS    how long to wait for the answer (default 10, as GitHub does)
  --insecure-header K:V  add a raw header (repeatable), e.g. to test what the gateway ignores
  -h, --help           show this help

Environment:
  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   post through this proxy, as curl does (to a deployed stack's URL
                       from behind a corporate proxy); NO_PROXY's hosts, and this machine's own
                       (localhost, 127.0.0.0/8, ::1, where hookgate serve listens), are reached directly
  NODE_EXTRA_CA_CERTS  a PEM file of CAs to trust beside Node's roots (a private CA, a TLS-inspecting proxy)

Exit status: 0 for a 2xx answer, 1 otherwise, 2 for a usage error (a proxy variable that is no URL too).
`;

/** GitHub fails a delivery whose answer takes longer than this; GitLab's default timeout is the same. */
const DEFAULT_TIMEOUT_S = 10;
/** GitHub and GitLab do not deliver a payload larger than this. */
const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;
/**
 * The largest payload file send reads: more than GitHub or GitLab sends (25 MB) and the gateway reads (10 MB).
 * --form's body is up to 3 characters a byte (%2F), and a 171 MB file's copies (text, parse, form) took 4 GB of
 * heap: at 32 MB they stay under the smallest heap Node picks by default.
 */
const MAX_READ_BYTES = 32 * 1024 * 1024;

export interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
}

/** The headers and body a provider sends for `payload` (the raw file bytes). */
export function signDelivery(options: {
  provider: Provider;
  event: string;
  payload: Buffer;
  secret: string;
  deliveryId?: string;
  form?: boolean;
  /** The clock of a Standard Webhooks timestamp (GitLab signing token); Date.now() when absent. */
  nowMs?: number;
}): SignedRequest {
  const { provider, event, secret } = options;
  const id = options.deliveryId ?? randomUUID();
  let parsed: unknown;
  try {
    // As the gateway reads a body (Bitbucket picks its event key from the payload): a byte-order mark skipped.
    parsed = decodeBody(options.payload, "application/json");
  } catch {
    parsed = undefined; // sent anyway: testing how the gateway answers malformed JSON is legitimate
  }
  switch (provider) {
    case "github": {
      let body = options.payload;
      let contentType = "application/json";
      if (options.form) {
        // GitHub signs the form body it sends.
        body = formBody(options.payload);
        contentType = FORM;
      }
      return {
        body,
        headers: {
          accept: "*/*",
          "content-type": contentType,
          "user-agent": "GitHub-Hookshot/hookgate-send",
          "x-github-event": event,
          "x-github-delivery": id,
          "x-github-hook-id": "0",
          "x-github-hook-installation-target-type": "repository",
          "x-github-hook-installation-target-id": "0",
          // The SHA-1 copy GitHub still sends beside the SHA-256 signature the gateway reads.
          "x-hub-signature": signHex("sha1", secret, body, "sha1="),
          ...signatureHeaders("github", secret, body),
        },
      };
    }
    case "gitlab": {
      // A signing token (whsec_) signs id.timestamp.body and is never sent; a secret token is sent as is.
      const signature = signatureHeaders("gitlab", secret, options.payload, { id, nowMs: options.nowMs });
      // As its UTF-8 bytes, as GitLab's Net::HTTP writes it (`päss` as 70 c3 a4 73 73): undici writes a
      // header's characters as latin1 bytes, and could not write `p€ss` at all.
      const token = signature["x-gitlab-token"];
      if (token !== undefined) signature["x-gitlab-token"] = utf8HeaderText(token);
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json",
          "user-agent": "GitLab/17.0.0",
          "x-gitlab-event": providerEventName("gitlab", event, parsed),
          "x-gitlab-event-uuid": id,
          "idempotency-key": id,
          "x-gitlab-webhook-uuid": "00000000-0000-4000-8000-000000000000",
          "x-gitlab-instance": "https://gitlab.example.com",
          ...signature,
        },
      };
    }
    case "bitbucket":
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json",
          "user-agent": "Bitbucket-Webhooks/2.0",
          "x-event-key": providerEventName("bitbucket", event, parsed),
          "x-request-uuid": id,
          "x-hook-uuid": "{00000000-0000-4000-8000-000000000000}",
          "x-attempt-number": "1",
          ...signatureHeaders("bitbucket", secret, options.payload),
        },
      };
    case "bitbucket-server":
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "Atlassian HttpClient",
          "x-event-key": providerEventName("bitbucket-server", event, parsed),
          "x-request-id": id,
          ...signatureHeaders("bitbucket-server", secret, options.payload),
        },
      };
    case "gitea": {
      // Gitea signs the JSON, also when it sends it inside a form (services/webhook/deliver.go).
      const sha256 = signatureHeaders("gitea", secret, options.payload)["x-gitea-signature"] as string;
      // The event, as Gitea folds its event types (pull_request_sync is a pull_request); the type apart.
      const name = providerEventName("gitea", event, parsed);
      // The headers of Gitea's services/webhook/deliver.go: its own, then the Gogs and GitHub copies.
      return {
        body: options.form ? formBody(options.payload) : options.payload,
        headers: {
          "content-type": options.form ? FORM : "application/json",
          "user-agent": "Go-http-client/1.1",
          "x-gitea-delivery": id,
          "x-gitea-event": name,
          "x-gitea-event-type": event,
          "x-gitea-signature": sha256,
          "x-gitea-hook-installation-target-type": "repository",
          "x-gogs-delivery": id,
          "x-gogs-event": name,
          "x-gogs-event-type": event,
          "x-gogs-signature": sha256,
          "x-hub-signature": signHex("sha1", secret, options.payload, "sha1="),
          "x-hub-signature-256": `sha256=${sha256}`,
          "x-github-delivery": id,
          "x-github-event": name,
          "x-github-event-type": event,
          "x-github-hook-installation-target-type": "repository",
        },
      };
    }
  }
}

const FORM = "application/x-www-form-urlencoded";

/** The body of a host's form mode: payload=<the JSON>, form-encoded (a space as "+"). */
function formBody(payload: Buffer): Buffer {
  return Buffer.from(new URLSearchParams({ payload: payload.toString("utf8") }).toString(), "utf8");
}

/**
 * The secret `name` of a secrets file, read as the gateway reads it (storedSecret). Errors name the file and
 * the secret, never a value.
 */
export function secretEntry(
  file: string,
  name: string,
  provider: Provider = "github",
): { secret: string; note?: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT"
        ? `secrets file ${withoutInvisible(file)} not found`
        : `cannot read secrets file ${withoutInvisible(file)} (${code})`,
    );
  }
  const secrets = parseSecretsFile(text, file);
  const raw = secrets.get(name);
  if (raw === undefined)
    throw new Error(`secret ${shownSecretName(name)} is not in ${file}${namesOf(name, secrets.keys())}`);
  const what = `secret ${shownSecretName(name)} in ${file}`;
  const entry = storedSecret(raw, provider, what);
  // A problem with the file, as a value it lacks is (exit 1): --secret's own is a usage error (runSend).
  const problem = signingProblem(provider, entry.secret);
  if (problem) throw new Error(`cannot sign with ${what}: ${problem}`);
  return entry;
}

/**
 * The value send signs with, of a secret string as stored (a secrets file's entry, or --secret: the same
 * text pasted from Secrets Manager), read as the gateway reads it: the first value it holds (a string,
 * {"secret"|"secrets"|"value": ...}, or a list); for GitLab its first whsec_ signing token when it holds one,
 * since the gateway refuses the plain token alone beside one, else its first value a header carries as it is.
 * `what` names it in errors, never its value.
 *
 * With it, a note when the entry is a JSON object the gateway reads as no webhook secret
 * (Jenkins credentials picked by mistake): its number of keys, never a key (one may be a pasted secret), and where
 * the route's webhook secret is named (hookgate check). The gateway checks such an object's whole text, so an
 * HMAC is signed with it and the delivery sent (the key never leaves the machine); as a GitLab secret token it
 * would travel in X-Gitlab-Token, credentials in clear to the URL: refused.
 */
export function storedSecret(
  raw: string,
  provider: Provider,
  what: string,
): { secret: string; note?: string } {
  const { values, unreadKeyCount } = parseSecretShape(raw);
  // GitLab: then the first value that can go in X-Gitlab-Token as it is, the trimmed copy of a pasted
  // "token\n" (the token GitLab holds and sends, which the gateway also takes), over the exact text.
  const first =
    provider === "gitlab"
      ? (values.find((value) => signingKey(value) !== undefined) ??
        values.find((value) => value === value.trim() && signingProblem(provider, value) === undefined) ??
        values[0])
      : values[0];
  if (first === undefined) {
    throw new Error(
      `${what} holds no value: give a string that is not blank, {"secret": "..."} or a list of strings`,
    );
  }
  if (unreadKeyCount === undefined) return { secret: first };
  const keys = `${unreadKeyCount} key${unreadKeyCount === 1 ? "" : "s"}`;
  const shape = `${what} is a JSON object with ${keys} and no field the gateway reads as a webhook secret ("secret", "secrets", "value")`;
  // No names of the file's other entries: without the routes, an API token (hookgate/gitlab-token) cannot be
  // told from a webhook secret, and a GitLab secret token picked from such a list travels in clear.
  const hint = `; \`hookgate check\` lists the name of each route's webhook secret (HOLDS "webhook secret")`;
  if (provider === "gitlab" && signingKey(first) === undefined) {
    throw new Error(
      `${shape}; not sent: as a GitLab secret token its whole text would go on the wire in X-Gitlab-Token${hint}`,
    );
  }
  return {
    secret: first,
    note: `${shape}; signed with its whole text, as the gateway would check it${hint}`,
  };
}

/**
 * For a name a secrets file lacks, its key closest to that name (a misspelling: check's didYouMean), when that
 * key is a secret name check takes and does not look generated; the other keys are counted, never shown. Any
 * key may be a pasted secret (key and value swapped), and a UUID or short hex one passes as a name.
 */
function namesOf(name: string, keys: Iterable<string>): string {
  const all = [...keys];
  if (all.length === 0) return "";
  const names = all.filter((key) => secretRefProblem(key) === undefined && !looksRandom(key));
  const near = didYouMean(name, names);
  const others = all.length - (near === undefined ? 0 : 1);
  const counted = `${others} ${near === undefined ? "" : "other "}key${others === 1 ? "" : "s"}`;
  const why = "not shown, as a key may be a pasted secret";
  if (near === undefined) return ` (it has ${counted}, none close to that name, ${why})`;
  return others === 0 ? ` (it has: ${near})` : ` (it has: ${near}, and ${counted}, ${why})`;
}

function readPayload(file: string): Buffer {
  let size: number;
  try {
    ({ size } = statSync(file));
  } catch {
    size = 0; // read below, which says why it cannot be
  }
  // send reads the payload as text (its notes, a form): a 171 MB file's form body ran Node out of heap, and past
  // V8's longest string reading failed naming no file. Checked in every mode, before reading. GitHub and GitLab
  // (gitlab MR 38687) send at most 25 MB; the gateway reads 10 MB (413).
  if (size > MAX_READ_BYTES) {
    throw new Error(
      `payload file ${withoutInvisible(file)} is ${size} bytes (${(size / 1048576).toFixed(1)} MB), more than the ${MAX_READ_BYTES} (32 MB) send reads; GitHub and GitLab send no payload over 25 MB, and the gateway refuses a body over 10 MB (413); nothing sent`,
    );
  }
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`payload file ${withoutInvisible(file)} not found`);
    if (code === "EISDIR") throw new Error(`payload file ${file} is a directory`);
    throw new Error(`cannot read payload file ${withoutInvisible(file)} (${code})`);
  }
}

/**
 * Why a payload file that is valid JSON but no object (`[]`, `"x"`, `42`, `null`) is not sent: every Git host
 * sends an object, and the gateway answers any other body 400 (decodeBody), after the signature checks out, so
 * the answer would say nothing of the file. undefined for an object, and for text that is no JSON at all (that
 * is sent, after a note: notes). With --form, a file that is not UTF-8 too (see within).
 */
function payloadProblem(file: string, payload: Buffer, json: PayloadJson, form: boolean): string | undefined {
  const notUtf8 = form ? notUtf8At(payload) : undefined;
  if (notUtf8 !== undefined) {
    // A host's form carries the JSON as UTF-8 text: read as such, the file's other bytes would go out as U+FFFD,
    // a body the gateway takes (and signed so) though it is not the file.
    return `payload file ${withoutInvisible(file)} is not valid UTF-8 (${notUtf8}): --form sends the JSON as UTF-8 text, which would change those bytes; save it as UTF-8; nothing sent`;
  }
  if (!("parsed" in json)) return undefined;
  const parsed = json.parsed;
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return undefined;
  return `payload file ${withoutInvisible(file)} is JSON but not an object (${jsonKind(parsed)}): a webhook payload is a JSON object, as every Git host sends, and the gateway answers any other body 400; nothing sent`;
}

/** The payload's text (without a byte-order mark) read as JSON once: its value, or JSON.parse's error. */
type PayloadJson = { text: string } & ({ parsed: unknown } | { error: unknown });

function readPayloadJson(payload: Buffer): PayloadJson {
  const text = payload.toString("utf8").replace(/^\uFEFF/, "");
  try {
    return { text, parsed: JSON.parse(text) };
  } catch (error) {
    return { text, error };
  }
}

/**
 * Where a payload stops being UTF-8 ("byte 0xE9 at line 1, column 14", the column in characters, a byte-order
 * mark not counted), or undefined when it is UTF-8. The text before the first bad byte decodes as it is, so its
 * first U+FFFD that the file does not hold as EF BF BD is that byte.
 */
function notUtf8At(payload: Buffer): string | undefined {
  if (isUtf8(payload)) return undefined;
  const text = payload.toString("utf8");
  for (let at = text.indexOf("\uFFFD"); at !== -1; at = text.indexOf("\uFFFD", at + 1)) {
    const before = text.slice(0, at);
    const offset = Buffer.byteLength(before, "utf8");
    if (payload[offset] === 0xef && payload[offset + 1] === 0xbf && payload[offset + 2] === 0xbd) continue;
    const lines = before.replace(/^\uFEFF/, "").split("\n");
    const byte = (payload[offset] as number).toString(16).toUpperCase().padStart(2, "0");
    return `byte 0x${byte} at line ${lines.length}, column ${(lines.at(-1) as string).length + 1}`;
  }
  return "a byte that is no UTF-8";
}

/** What the provider would do differently, said before sending. */
function notes(provider: Provider, event: string, payload: Buffer, json: PayloadJson): string[] {
  const out: string[] = [];
  if (provider === "gitlab" && event === "ping") {
    out.push('GitLab has no ping event: sending a "Push Hook", as its Test button does');
  }
  // Sent anyway (how the gateway answers malformed JSON is worth testing), but said with where it breaks: the
  // gateway's 400 never says.
  if ("parsed" in json) {
    // Read with U+FFFD for its other bytes, it parsed: the gateway reads no such body (400 "body is not valid
    // UTF-8"), and its 400 does not say where. Git hosts send UTF-8; an editor's "ANSI" (Windows-1252) does not.
    const notUtf8 = notUtf8At(payload);
    if (notUtf8 !== undefined)
      out.push(`payload is not valid UTF-8 (${notUtf8}); the gateway answers 400; sent anyway`);
  } else {
    out.push(`payload is ${jsonSyntaxProblem(json.text, json.error)}; sent anyway`);
  }
  // GitLab drops a webhook whose JSON is over 25 MB as GitHub does (gitlab-org/gitlab MR 38687, LimitedEncoder).
  if ((provider === "github" || provider === "gitlab") && payload.length > MAX_PAYLOAD_BYTES) {
    out.push(
      `${provider === "github" ? "GitHub" : "GitLab"} does not deliver payloads over 25 MB; this one is ${(payload.length / 1048576).toFixed(1)} MB`,
    );
  }
  return out;
}

/**
 * The proxy `hookgate send` posts to `url` through (its URL, credentials included), or undefined to connect
 * directly: no proxy variable for the scheme, NO_PROXY lists the host (as undici matches it), or the host is
 * this machine (localhost, 127.0.0.0/8, ::1, or the wildcard 0.0.0.0 or ::), where `hookgate serve` listens and
 * a proxy on another machine cannot reach (it would get the delivery, secret token included, in clear). undici's EnvHttpProxyAgent exempts no host by default, localhost included; the
 * loopback rule is Go's (net/http ProxyFromEnvironment, golang.org/x/net/http/httpproxy), which NO_PROXY
 * cannot undo.
 */
export function sendProxy(proxy: ProxySettings | undefined, url: URL): string | undefined {
  if (!proxy || isThisMachine(url.hostname) || bypassesProxy(proxy.noProxy, url)) return undefined;
  // As EnvHttpProxyAgent picks: HTTPS_PROXY for https, else HTTP_PROXY; an http target HTTP_PROXY only.
  return (url.protocol === "https:" ? proxy.httpsProxy || proxy.httpProxy : proxy.httpProxy) || undefined;
}

/**
 * localhost, an address in 127.0.0.0/8 or ::1 (an IPv4-mapped ::ffff:127.x too), or the wildcard 0.0.0.0 or
 * :: (serve --host 0.0.0.0 prints its URL so; send connects to loopback instead, see commandKit connectUrl): a URL's
 * hostname.
 */
function isThisMachine(hostname: string): boolean {
  if (hostname === "localhost") return true;
  const bare = hostname.replace(/^\[(.*)\]$/, "$1");
  if (!ipaddr.isValid(bare)) return false;
  const address = ipaddr.parse(bare);
  const v4 =
    address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
      ? (address as ipaddr.IPv6).toIPv4Address()
      : address;
  // The wildcard itself only: ipaddr's "unspecified" range for IPv4 is all of 0.0.0.0/8.
  return (
    v4.range() === "loopback" ||
    v4.toNormalizedString() === "0.0.0.0" ||
    v4.toNormalizedString() === "0:0:0:0:0:0:0:0"
  );
}

/**
 * Why the request failed, in words that never hold a header value, the secret, the URL's password or the
 * proxy's: `proxy` is the proxy it went through, if any. Node's and undici's words as withoutSecrets shows them.
 */
export function sendFailure(
  error: unknown,
  timeoutS: number,
  secret: string,
  proxy?: string,
  options: SentOptions = {},
): string {
  const e = error as { name?: string; code?: string; message?: string };
  const via = proxy
    ? ` (through the proxy ${shownProxy(proxy)}; NO_PROXY lists the hosts reached directly)`
    : "";
  const refused = proxy ? proxyRefusedStatus(error) : undefined;
  if (proxy && refused !== undefined) {
    return `the proxy ${shownProxy(proxy)} refused it (${refused})${proxyRefusalHint(refused)}`;
  }
  // The status line came before the failure: the gateway answered, and that is said first.
  const answered =
    options.status === undefined
      ? ""
      : `HTTP ${options.status} ${STATUS_CODES[options.status] ?? ""}`.trimEnd();
  if (e?.name === "TimeoutError") {
    return answered
      ? `${answered}, then no body within ${timeoutS} s${via}`
      : `no answer within ${timeoutS} s (GitHub fails a delivery that takes longer than 10 s)${via}`;
  }
  if (e?.code === "ECONNREFUSED") {
    return proxy
      ? `ECONNREFUSED: nothing accepts connections at the proxy ${shownProxy(proxy)} (HTTPS_PROXY or HTTP_PROXY)`
      : "ECONNREFUSED (is hookgate serve running?)";
  }
  const detail =
    [e?.code, e?.message && openSslReason(e.message)].filter(Boolean).join(": ") || String(error);
  const hint = answered ? "" : sendTlsHint(error, options.url);
  return `${answered ? `${answered}, then ` : ""}${withoutSecrets(detail, secret, proxy, options)}${hint}${via}`;
}

/** How send's user trusts a private CA: Node's own variable, for a CLI on their machine (no caBundle here). */
const ADD_CA = "add its CA (PEM) with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, which Node reads when it starts";

/** OpenSSL reading plain HTTP where a TLS record should be: an https:// URL for a plain-http port. */
const NOT_TLS = new Set(["ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG"]);

/**
 * What a failure to speak TLS asks of send's user, as the actions' hints say it (tlsHint, proxyTlsHint), with
 * NODE_EXTRA_CA_CERTS for a CA: it covers the URL's host and an https:// proxy alike. "" for any other failure.
 */
function sendTlsHint(error: unknown, url: string | undefined): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = String(e?.code ?? "");
  const toProxy = isTowardProxy(error) || code === "UND_ERR_PRX_TLS";
  const cause = code === "UND_ERR_PRX_TLS" ? String(e?.cause?.code) : code;
  if (toProxy) {
    if (NOT_TLS.has(cause)) return proxyTlsHint(code, error);
    return /CERT|ERR_TLS|ERR_SSL|SELF_SIGNED|UNABLE_TO/.test(cause)
      ? ` (the proxy's certificate is refused; for a private CA, ${ADD_CA})`
      : "";
  }
  if (NOT_TLS.has(code))
    return " (that port does not speak TLS: use http:// in --url, or the port that serves https)";
  // A TLS server reads an http:// request as a bad handshake and hangs up without a word.
  if (code === "UND_ERR_SOCKET" && parsedUrl(url)?.protocol === "http:") {
    return " (the server closed the connection without an answer; if that port serves https, use https:// in --url)";
  }
  return tlsHint(code, ADD_CA);
}

/**
 * Node's words for an OpenSSL error without OpenSSL's own coordinates ("80AC...:error:0A00010B:SSL
 * routines:ssl3_get_record:wrong version number:../deps/openssl/.../ssl3_record.c:350:"): its reason, on one line.
 */
function openSslReason(message: string): string {
  return message
    .replace(/[0-9A-F]+:error:[0-9A-F]+:[^:\n]*:[^:\n]*:([^:\n]+):[^\s:]*:\d+:/g, "$1")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

/**
 * send's one rule for any text it prints that it did not write (a server's answer and Location, Node's and
 * undici's error words): the secret, the proxy's credentials and the values of added credential headers (addedHeaders)
 * out as [redacted] in every form the actions' messages take them out (withoutCredentials: raw, base64, as a URL or a JSON string holds them), the proxy's
 * user never alone (it may be a word), as there. What goes on the wire is taken out at any length too: the
 * proxy's password, and the secret when it travels as it is (GitLab's secret token; an HMAC key never does, so a
 * short one stays, as in the actions, rather than blanking its letters all over the answer).
 */
export function withoutSecrets(
  text: string,
  secret: string,
  proxy: string | undefined,
  { secretTravels = true, url, addedHeaders }: SentOptions = {},
): string {
  const anyLength = secretTravels ? [secret] : [];
  const proxyUrl = proxy ? new URL(proxy) : undefined;
  if (proxyUrl && proxyUrl.password !== "") anyLength.push(decoded(proxyUrl.password), proxyUrl.password);
  // The target's user:password@ went out as Authorization: Basic: its forms out as the proxy's are.
  const target = parsedUrl(url);
  const credentials: Record<string, string> = { secret };
  // Whichever --provider sent it: the header as GitLab's decoding makes it and as the others' does.
  const authorization = target && urlAuthorization(target, "gitlab");
  if (authorization) credentials.authorization = authorization;
  // An --insecure-header of a credential's name (Authorization, X-Gitlab-Token, X-Api-Key, a front door's client
  // secret): out as a header value the actions sent is (8 characters and up, a Basic pair's parts).
  for (const [index, value] of (addedHeaders ?? []).entries()) credentials[`added${index}`] = value;
  const percentAuthorization = target && urlAuthorization(target, "github");
  if (percentAuthorization) credentials.percentAuthorization = percentAuthorization;
  // As sent (GitLab's decoding, "+" a space; the others', "+" kept), as decodeURIComponent reads it, and as typed.
  if (target && target.password !== "") {
    anyLength.push(
      formDecoded(target.password).toString("utf8"),
      percentDecoded(target.password).toString("utf8"),
      decoded(target.password),
      target.password,
    );
  }
  return withoutCredentials(text, credentials, { values: proxyCredentialValues(proxy), anyLength });
}

/** What send has sent, for withoutSecrets: whether the secret travels as it is, and the --url as given. */
export interface SentOptions {
  secretTravels?: boolean;
  url?: string;
  /** The values of the --insecure-header lines whose name is a credential's (isCredentialHeader). */
  addedHeaders?: readonly string[];
  /** For sendFailure: the answer's status, when its status line came before the failure. */
  status?: number;
}

/** The names of headers that carry a credential, whole; and the words a credential's name holds. */
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "x-gitlab-token"]);
const CREDENTIAL_WORDS = /token|key|secret|password|auth|signature|session|cookie|credential/;

/**
 * Whether an --insecure-header's value is printed [redacted] where echoed: decided by its name (lower case),
 * whether or not the provider sends that header too, so a second X-Gitlab-Token or Authorization is taken out
 * and an X-GitHub-Delivery id or an event name added to another provider's delivery is shown.
 */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADERS.has(name) || CREDENTIAL_WORDS.test(name);
}

function parsedUrl(url: string | undefined): URL | undefined {
  try {
    return url === undefined ? undefined : new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * The Authorization a Git host sends for a URL's user:password@, each part decoded as that host decodes it;
 * undefined for a URL without one. GitLab's WebHookService decodes with CGI.unescape ("+" a space). Gitea's
 * sender is Go's net/http, whose Basic auth comes from url.Parse's userinfo: percent-decoded, "+" kept (a stray
 * "%" fails the parse: refused beforehand, see strayPercent). GitHub's and Bitbucket's senders are not
 * public: read as RFC 3986 reads userinfo, where "+" is a plain character, as Go does.
 */
export function urlAuthorization(url: URL, provider: Provider): string | undefined {
  if (url.username === "" && url.password === "") return undefined;
  const decode = provider === "gitlab" ? formDecoded : percentDecoded;
  const pair = Buffer.concat([decode(url.username), Buffer.from(":"), decode(url.password)]);
  return `Basic ${pair.toString("base64")}`;
}

/** Whether a URL's user or password holds a "%" not starting a %XX escape, which Go's url.Parse refuses. */
export function strayPercent(url: URL): boolean {
  return [url.username, url.password].some((part) => /%(?![0-9a-fA-F]{2})/.test(part));
}

/**
 * A URL's user or password as GitLab decodes it (WebHookService#make_request_with_auth, gitlabhq
 * app/services/web_hook_service.rb, calls CGI.unescape): form decoding, so "+" is a space, each run of valid
 * %XX its bytes, and a stray "%" kept as written. Bytes, as HTTParty base64-encodes them.
 */
function formDecoded(part: string): Buffer {
  return percentDecoded(part.replaceAll("+", " "));
}

/**
 * A URL's user or password percent-decoded, "+" kept (RFC 3986 userinfo; Go's url.Parse): each run of valid %XX
 * its bytes, the rest (a stray "%" too) as UTF-8. Bytes, as a Basic header base64-encodes them.
 */
function percentDecoded(part: string): Buffer {
  const chunks: Buffer[] = [];
  let rest = part;
  for (let at = rest.search(/%[0-9a-fA-F]{2}/); at !== -1; at = rest.search(/%[0-9a-fA-F]{2}/)) {
    chunks.push(Buffer.from(rest.slice(0, at), "utf8"), Buffer.from(rest.slice(at + 1, at + 3), "hex"));
    rest = rest.slice(at + 3);
  }
  chunks.push(Buffer.from(rest, "utf8"));
  return Buffer.concat(chunks);
}

function withoutUserinfo(url: URL): URL {
  const bare = new URL(url.href);
  bare.username = "";
  bare.password = "";
  return bare;
}

/** A URL's user or password as undici sends it: URL-decoded, or as written when that fails. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export async function runSend(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    // It may quote a value as typed (--timeout, --provider, an unknown option): no ESC reaches the terminal.
    process.stderr.write(`hookgate send: ${withoutInvisible((error as Error).message)}\n\n${SEND_USAGE}`);
    return 2;
  }
  if (values === "help") {
    process.stdout.write(SEND_USAGE);
    return 0;
  }
  // A usage error, as a bad option is: it names the variable, never its value (it may hold a password). Not
  // read for this machine's own address, which is always reached directly: a value send cannot use (curl's
  // socks5://) does not stop a test against hookgate serve.
  const url = new URL(values.url);
  let settings: ProxySettings | undefined;
  try {
    settings = isThisMachine(url.hostname) ? undefined : proxySettings(process.env);
  } catch (error) {
    if (!(error instanceof ProxySettingsError)) throw error;
    process.stderr.write(`hookgate send: ${error.message}\n`);
    return 2;
  }
  const proxy = sendProxy(settings, url);
  let secret: string;
  let secretNote: string | undefined;
  let payload: Buffer;
  try {
    // --secret as a secrets file's entry is read: the same stored text signs alike by either path
    // ({"secrets": [new, old]} pasted from Secrets Manager signs with the new value).
    ({ secret, note: secretNote } =
      values.secret === undefined
        ? secretEntry(values.secrets as string, values.secretName as string, values.provider)
        : storedSecret(values.secret, values.provider, "--secret"));
  } catch (error) {
    // It names the --secret-name, the file and the secrets file's own names as given, never a value.
    process.stderr.write(`hookgate send: ${withoutInvisible((error as Error).message)}\n`);
    // A --secret that holds no value is a usage error, as an empty one is; a secrets file's problem is 1.
    return values.secret === undefined ? 1 : 2;
  }
  try {
    payload = readPayload(values.payload);
  } catch (error) {
    process.stderr.write(`hookgate send: ${withoutInvisible((error as Error).message)}\n`);
    return 1;
  }
  const json = readPayloadJson(payload);
  const shapeProblem = payloadProblem(values.payload, payload, json, values.form);
  if (shapeProblem) {
    process.stderr.write(`hookgate send: ${shapeProblem}\n`);
    return 1;
  }
  // Names only (the entry's, the file's, its other entries'): as typed, invisible characters as \uXXXX.
  if (secretNote) process.stderr.write(`hookgate send: note: ${withoutInvisible(secretNote)}\n`);
  // Refused as a usage error, as the sender's own signing would refuse it (never a stack trace, never the value).
  const problem = signingProblem(values.provider, secret);
  if (problem) {
    process.stderr.write(`hookgate send: cannot sign with this secret: ${problem}\n`);
    return 2;
  }
  for (const note of notes(values.provider, values.event, payload, json)) {
    process.stderr.write(`hookgate send: note: ${note}\n`);
  }
  const signed = signDelivery({
    provider: values.provider,
    event: values.event,
    payload,
    secret,
    deliveryId: values.delivery,
    form: values.form,
  });
  // Added, never replacing: a second signature header is how the gateway's "repeated header" answer is tried.
  const headers: Record<string, string | string[]> = { ...signed.headers };
  // A URL's user:password@ as a Git host sends it, Authorization: Basic, and not in the request's URL (undici
  // would drop it without a word); an --insecure-header Authorization adds a second one.
  const authorization = urlAuthorization(url, values.provider);
  if (authorization) headers.authorization = authorization;
  const addedHeaders: string[] = [];
  for (const extra of values.extraHeaders) {
    const colon = extra.indexOf(":");
    const name = extra.slice(0, colon).trim().toLowerCase();
    const value = extra.slice(colon + 1).trim();
    const existing = headers[name];
    headers[name] = existing === undefined ? value : [existing, value].flat();
    // By the name alone: a second X-Gitlab-Token is as secret as the first, an added X-GitHub-Delivery is not.
    if (isCredentialHeader(name)) addedHeaders.push(value);
  }
  // Whether the secret goes on the wire as it is (GitLab's secret token, as its UTF-8 bytes), which a server can
  // echo at any length.
  const secretOnWire = utf8HeaderText(secret);
  const shownOptions = {
    secretTravels: Object.values(headers)
      .flat()
      .some((value) => value === secret || value === secretOnWire),
    url: values.url,
    addedHeaders,
  };
  // undici's request, not fetch: fetch adds browser headers (sec-fetch-mode, accept-language) no Git
  // host sends. Like the Git hosts, it follows no redirect. Through a proxy as the actions go (an https
  // target tunnelled with CONNECT, an http one sent to the proxy as an absolute-URI request).
  const dispatcher: Dispatcher = proxy && settings ? proxyAgent(settings) : new Agent();
  if (proxy) process.stderr.write(`hookgate send: note: through the proxy ${shownProxy(proxy)}\n`);
  // undici heeds the signal only once the request has a connection: a proxy that never answers the CONNECT
  // would hold an https request for its client's headersTimeout (300 s). This run's dispatcher is ended instead.
  const timeout = AbortSignal.timeout(values.timeoutS * 1000);
  const stop = () => void dispatcher.destroy().catch(() => undefined);
  timeout.addEventListener("abort", stop, { once: true });
  const idHeader = ID_HEADERS.find((name) => signed.headers[name] !== undefined) as string;
  const delivery = signed.headers[idHeader];
  // Whether this delivery's headers were written to the gateway (or the proxy; not a CONNECT's): from then on a
  // failure may follow a delivery the gateway queued, and a resend needs the same id for the dedupe table.
  let headersSent = false;
  const onSendHeaders = (message: unknown) => {
    const written = (message as { headers?: unknown }).headers;
    if (typeof written === "string" && written.includes(`\r\n${idHeader}: ${delivery}\r\n`))
      headersSent = true;
  };
  diagnostics.subscribe("undici:client:sendHeaders", onSendHeaders);
  let answered: number | undefined;
  try {
    const response = await request(connectUrl(withoutUserinfo(url)), {
      method: "POST",
      headers,
      body: signed.body,
      dispatcher,
      signal: timeout,
      // undici's own limits (300 s each) would end a --timeout above 300 s early; the signal bounds it instead.
      // Per request, so it holds through the proxy's dispatcher as through the direct one.
      headersTimeout: values.timeoutS * 1000,
      bodyTimeout: values.timeoutS * 1000,
    });
    answered = response.statusCode;
    const text = await response.body.text();
    const status = response.statusCode;
    // The answer may echo a branch name (a C1 control, a bidi override) or be any server's page: the terminal
    // gets its invisible characters as \uXXXX, its lines (LF or CRLF) and tabs as they are; and never the
    // secret sent, which a server may echo.
    const shown = withoutSecrets(text, secret, proxy, shownOptions).replace(
      /(?:[^\n\t\r]|\r(?!\n))+/g,
      withoutInvisible,
    );
    // --delivery as sent (trimmed): undici sends a C1 control (U+0080-U+00FF) in a header, so it got this far.
    const sent = withoutInvisible(String(delivery));
    // The answer's own id, when the gateway took another (a route of another provider reads none of the
    // headers sent, and falls back to the body's hash): the line then says both, so it agrees with the body.
    // The id went out trimmed, as the gateway reads it. The answer names the route, not its
    // provider, so a hash is not blamed on which headers were sent (a proxy may have dropped one).
    const read = answeredDelivery(text);
    const ids =
      read === undefined || read === String(delivery)
        ? `delivery ${sent}`
        : `delivery ${sent} sent; the gateway's id: ${clippedText(withoutSecrets(read, secret, proxy, shownOptions), 200)}${read.startsWith("sha256:") ? ", the body's hash, as the route found no delivery id header it reads" : ""}`;
    process.stdout.write(
      `HTTP ${status} ${STATUS_CODES[status] ?? ""} (${ids})\n${shown}${shown.endsWith("\n") ? "" : "\n"}`,
    );
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      process.stderr.write(
        `hookgate send: note: redirected to ${withoutInvisible(withoutSecrets(String(location), secret, proxy, shownOptions))}; Git hosts do not follow redirects\n`,
      );
    }
    return status >= 200 && status < 300 ? 0 : 1;
  } catch (error) {
    const failure = sendFailure(timeout.aborted ? timeout.reason : error, values.timeoutS, secret, proxy, {
      ...shownOptions,
      status: answered,
    });
    const id = withoutInvisible(String(delivery));
    // A proxy's refusal (407, 403) is its own answer: an http target's request got no further than the proxy.
    const refusedByProxy = proxy !== undefined && proxyRefusedStatus(error) !== undefined;
    const resend =
      (headersSent || answered !== undefined) && !refusedByProxy
        ? `; delivery ${id} was sent; the gateway may have queued it; resend with --delivery ${id} so it is recognised as a duplicate`
        : "";
    process.stderr.write(`hookgate send: POST ${shownUrl(values.url)} failed: ${failure}${resend}\n`);
    return 1;
  } finally {
    diagnostics.unsubscribe("undici:client:sendHeaders", onSendHeaders);
    timeout.removeEventListener("abort", stop);
    await dispatcher.destroy();
  }
}

/** The `delivery` of a gateway's JSON answer ({"status", "route", "delivery", ...}); undefined for any other text. */
function answeredDelivery(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    const id = (body as { delivery?: unknown } | null)?.delivery;
    return typeof id === "string" && id.length > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The header each provider's delivery id goes out in (signDelivery): GitHub and Gitea, GitLab, the Bitbuckets. */
const ID_HEADERS = ["x-github-delivery", "idempotency-key", "x-request-uuid", "x-request-id"];

/** An HTTP field name: an RFC 9110 token; and the part of a text that is one, from its start. */
const TOKEN_CHARS = "[!#$%&'*+.^_`|~0-9A-Za-z-]";
const HEADER_NAME = new RegExp(`^${TOKEN_CHARS}+$`);
const HEADER_NAME_START = new RegExp(`^${TOKEN_CHARS}*`);
const FRAMING_HEADERS = new Set([
  "connection",
  "content-length",
  "expect",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
]);

function parse(argv: string[]) {
  const { values } = parseCommandArgs(argv, {
    url: { type: "string" },
    secret: { type: "string" },
    secrets: { type: "string" },
    "secret-name": { type: "string" },
    event: { type: "string" },
    payload: { type: "string" },
    provider: { type: "string", default: "github" },
    form: { type: "boolean", default: false },
    delivery: { type: "string" },
    timeout: { type: "string", default: String(DEFAULT_TIMEOUT_S) },
    "insecure-header": { type: "string", multiple: true },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) return "help" as const;
  if (!values.url) throw new UsageError("--url is required");
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url must be a URL, got "${shownUrlArgument(values.url)}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError("--url must be http or https");
  if (!values.event) throw new UsageError("--event is required");
  if (values.event.trim() === "") throw new UsageError("--event must not be blank");
  if (!values.payload) throw new UsageError("--payload is required");
  if (values.secret === undefined && !(values.secrets && values["secret-name"])) {
    throw new UsageError("give --secret VALUE, or --secrets FILE with --secret-name NAME");
  }
  if (values.secret !== undefined && values.secrets)
    throw new UsageError("give --secret or --secrets, not both");
  // Refused rather than ignored: the user meant one of the two secrets, and send would sign with the other.
  if (values.secret !== undefined && values["secret-name"] !== undefined) {
    throw new UsageError(
      "--secret-name names a secret in --secrets FILE; give --secret or --secret-name, not both",
    );
  }
  if (values.secret === "") {
    throw new UsageError(
      "--secret is empty: a Git host sends no signature without a secret, and hookgate needs one",
    );
  }
  // The gateway trims a delivery id and takes a blank one as none (the body's hash): refused as an empty one.
  // Sent trimmed: HTTP drops a header value's outer spaces, so a Standard Webhooks signature over " id " would
  // be checked against "id" and fail.
  const delivery = values.delivery?.trim();
  if (delivery === "") throw new UsageError("--delivery must not be empty or blank");
  // Both go into headers: refused here, as --insecure-header's values are, not as a failed POST naming a
  // header the user never typed (undici: "invalid x-github-event header"). Before the trim, which takes off
  // a line break too.
  for (const [flag, value] of [
    ["--event", values.event],
    ["--delivery", values.delivery],
  ] as const) {
    if (value !== undefined && NOT_HEADER_TEXT.test(value)) {
      throw new UsageError(
        `${flag} holds a control character (a line break, NUL) or a character past U+00FF, which no header can carry`,
      );
    }
  }
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0 && timeoutS <= 600)) {
    throw new UsageError(
      `--timeout must be a number of seconds above 0, at most 600, got "${values.timeout}"`,
    );
  }
  const provider = values.provider as Provider;
  if (!PROVIDERS.includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(", ")}, got "${values.provider}"`);
  }
  // Gitea's sender cannot send to such a URL: Go's url.Parse fails on it ("invalid URL escape"). Never the value.
  if (provider === "gitea" && strayPercent(url)) {
    throw new UsageError(
      '--url\'s user:password@ holds a "%" not followed by two hex digits, which Gitea (Go\'s url.Parse) refuses: write a "%" as %25',
    );
  }
  if (values.form && provider !== "github" && provider !== "gitea") {
    throw new UsageError(
      "--form is only for --provider github or gitea (the hosts with a form content type)",
    );
  }
  for (const h of values["insecure-header"] ?? []) {
    // The name only, as far as it is a header name: a mistyped "Authorization Bearer TOKEN" or a curl-style
    // "X-Api-Key=TOKEN" holds its credential after the first character no name has.
    const name = clippedText(HEADER_NAME_START.exec(h)?.[0] ?? "", 80);
    const colon = h.indexOf(":");
    if (colon <= 0)
      throw new UsageError(`--insecure-header must be "Name: value", got one starting "${name}"`);
    // Refused here, not as a failed POST later: undici takes an RFC 9110 token as the name, and as the value
    // no control character but a tab (CR, LF and NUL above all) and nothing past U+00FF.
    const given = h.slice(0, colon).trim();
    if (!HEADER_NAME.test(given)) {
      throw new UsageError(
        `--insecure-header name must be a header name (letters, digits and !#$%&'*+-.^_\`|~), got one starting "${name}"`,
      );
    }
    // Framing headers undici sets itself and refuses from a caller (lib/core/request.js processHeader).
    if (FRAMING_HEADERS.has(given.toLowerCase())) {
      throw new UsageError(
        `--insecure-header ${name}: send sets this header itself (${[...FRAMING_HEADERS].join(", ")} cannot be given)`,
      );
    }
    if (NOT_HEADER_TEXT.test(h.slice(colon + 1).trim())) {
      throw new UsageError(
        `--insecure-header ${name}: the value holds a control character (a line break, NUL) or a character past U+00FF`,
      );
    }
  }
  return {
    url: values.url,
    secret: values.secret,
    secrets: values.secrets,
    secretName: values["secret-name"],
    event: values.event,
    payload: values.payload,
    provider,
    form: values.form === true,
    delivery,
    timeoutS,
    extraHeaders: values["insecure-header"] ?? [],
  };
}
