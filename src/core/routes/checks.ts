// Checks on single values of routes.yaml. Each returns a message (without position), or undefined when fine.
// Messages about secret references never include the value: it may be a secret pasted by mistake.
import ipaddr from "ipaddr.js";
import { codePointName, invisibleCharacter, shownText, suggestedText } from "../shownText";
import { hexIpv6Text } from "../verify/ipAllowlist";

export const ROUTE_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const ROUTE_NAME_MAX_LENGTH = 32;
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function routeNameProblem(name: string): string | undefined {
  const shown = shownText(name, 40);
  const reasons: string[] = [];
  if (!ROUTE_NAME_PATTERN.test(name)) {
    reasons.push(
      "use only lower-case letters, digits and hyphens, starting and ending with a letter or digit",
    );
  }
  if (name.length > ROUTE_NAME_MAX_LENGTH) reasons.push(`use at most ${ROUTE_NAME_MAX_LENGTH} characters`);
  if (reasons.length === 0) return reservedRouteNameProblem(name);
  return `route name ${shown} is not valid: ${reasons.join(", and ")} (it becomes the URL path /hooks/<name>)`;
}

/**
 * Names whose derived resources would collide with the stack's. The stack's API names the parent of every
 * route's path `<api>-hooks` and a route's path `<api>-<route>` (both aws:apigateway Resource, same parent),
 * so a route named hooks would take the same URN, which the engine refuses. The names stay as they are:
 * renaming them would replace the resources of every deployed stack.
 */
const RESERVED_ROUTE_NAMES: Readonly<Record<string, string>> = {
  hooks: "the API's /hooks resource already has the Pulumi name this route's /hooks/hooks resource would get",
};

function reservedRouteNameProblem(name: string): string | undefined {
  // Own keys only: a route named "constructor" is no reserved name, whatever Object.prototype holds.
  if (!Object.hasOwn(RESERVED_ROUTE_NAMES, name)) return undefined;
  const why = RESERVED_ROUTE_NAMES[name];
  return `route name "${name}" is reserved: ${why}; choose another name (for example "${name}-main")`;
}

/** What a route's dead-letter queue name adds to its queue name (before .fifo). */
export const DEAD_LETTER_SUFFIX = "-dlq";

/**
 * A route's dead-letter queue is named like its queue plus "-dlq" (hookgate-<stack>-<route>-dlq.fifo), so a
 * route `<name>-dlq` next to a route `<name>` would give two queues one name, which SQS refuses. Returns the
 * problem of `name` among `names` (every route's), or undefined. Renaming the deployed one would replace its
 * queues, with what they hold, so the message asks to rename the `-dlq` one.
 */
export function routeNameClashProblem(name: string, names: ReadonlySet<string>): string | undefined {
  if (!name.endsWith(DEAD_LETTER_SUFFIX)) return undefined;
  const other = name.slice(0, -DEAD_LETTER_SUFFIX.length);
  if (!names.has(other)) return undefined;
  const shown = shownText(name, 40);
  // The queue's name is shown as it would be: a name that is no valid route name is said to be one.
  const queue = routeNameProblem(name) === undefined ? name : "<name>";
  return (
    `route name ${shown} clashes with route ${shownText(other, 40)}: its queue would have the name of the dead-letter ` +
    `queue of ${shownText(other, 40)} (hookgate-<stack>-${queue}.fifo); rename ${shown} to a name that does not end in ` +
    `${DEAD_LETTER_SUFFIX} (renaming a deployed route replaces its queues)`
  );
}

/**
 * API Gateway's default quota of resources per REST API. Adjustable, per API: in Service Quotas, Amazon API
 * Gateway, "Resources per API".
 */
export const API_RESOURCES_DEFAULT_QUOTA = 300;

/**
 * The resources of the stack's REST API for `routeCount` routes (src/infra/api.ts): the root /, /hooks, and
 * /hooks/<name> for each route. Counting the root errs, if at all, one route early.
 */
export function apiResourceCount(routeCount: number): number {
  return routeCount + 2;
}

/**
 * A note when the routes need more API resources than the default quota: not a problem, as the quota can be
 * raised for the stack's API, but without that `pulumi up` fails at the route that goes past it.
 */
export function apiResourceQuotaNote(routeCount: number): string | undefined {
  const resources = apiResourceCount(routeCount);
  if (resources <= API_RESOURCES_DEFAULT_QUOTA) return undefined;
  return (
    `${routeCount} routes need ${resources} API Gateway resources (/, /hooks and /hooks/<name> per route), ` +
    `more than the default quota of ${API_RESOURCES_DEFAULT_QUOTA} per REST API: \`pulumi up\` fails at the ` +
    `route past it unless the quota is raised for the stack's API (Service Quotas, Amazon API Gateway, ` +
    `"Resources per API"; adjustable), or the routes are split between stacks`
  );
}

/** Known shapes of credentials, so a value pasted where a name belongs is caught before it is deployed. */
const SECRET_LOOKALIKES: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]+-----/, "a PEM block"],
  [/^gh[pousr]_[A-Za-z0-9]{20,}$/, "a GitHub token"],
  [/^github_pat_[A-Za-z0-9_]{20,}$/, "a GitHub token"],
  [/^gl(pat|dt|ptt|rt|cbt|soat|ffct|imt|oas)-[A-Za-z0-9_-]{16,}$/, "a GitLab token"],
  [/^ATBB[A-Za-z0-9_=.-]{20,}$/, "a Bitbucket app password"],
  // Atlassian API tokens (what Bitbucket Cloud now asks for instead of app passwords) and Bitbucket Cloud
  // repository, project or workspace access tokens: a prefix, base64url-ish text, "=" and 8 hex digits.
  [/^ATATT[A-Za-z0-9_=.-]{20,}$/, "an Atlassian API token"],
  [/^ATCTT[A-Za-z0-9_=.-]{20,}$/, "a Bitbucket access token"],
  // Bitbucket Data Center HTTP access tokens: "BBDC-" and 44 characters of base64 (33 bytes: the token's
  // 12-digit id, ":" and 20 random bytes), without "-" or "_", so a name such as BBDC-platform/x-y is no token.
  [/^BBDC-[A-Za-z0-9+/]{44}$/, "a Bitbucket Data Center access token"],
  [/^xox[abposr]-[A-Za-z0-9-]{10,}$/, "a Slack token"],
  [/^(AKIA|ASIA)[0-9A-Z]{16}$/, "an AWS access key id"],
  [/^eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./, "a JSON Web Token"],
  [/^whsec_[A-Za-z0-9+/=]{16,}$/, "a signing token (whsec_)"],
  [/^[rs]k_(live|test)_[A-Za-z0-9]{16,}$/, "an API key"],
  // `openssl rand -base64 N`, the usual webhook secret: padded base64 with digits and both cases.
  [
    /^(?=.{16,}$)(?=.*[0-9])(?=.*[A-Z])(?=.*[a-z])(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$/,
    "a base64 string",
  ],
  // Jenkins API tokens are 34 hex digits; 32 is an MD5-sized or random hex secret.
  [/^[0-9a-fA-F]{32,}$/, "a long hexadecimal string"],
];

/**
 * A secret name with a part that reads as generated text rather than words: a webhook secret from
 * `secrets.token_urlsafe(32)` or `openssl rand -base64 24` (no "=" to catch) pasted where its name belongs.
 * Only a note (notes.ts), so a real name is never refused; conservative to keep real names out of it: one
 * "/"-separated part of 20 or more base64 or base64url characters, with digits and both cases, changing
 * between capitals, small letters, digits and symbols at least every other character (words, even in
 * camelCase, run longer), and not mostly words: PascalCase words (a capital, then 2 or more small letters)
 * cover less than 55% of it. Acronyms and version digits between short words (`K8sS3AccessKeyForCI2`) change
 * class often, but words cover 60% or more of such names, a third of a `token_urlsafe(32)` value (the median),
 * and 55% of fewer than 2 in 100 generated values (token_urlsafe, openssl rand -base64); nor is a part whose small
 * letters are all in words (`B2BApiV2KeyForSAP4HANA`). CloudFormation's generated names
 * (`MySecretA1B2C3D4-Ab12Cd34Ef56`) are left out. A base64 value with a "/" is read whole (below).
 */
export function looksRandom(name: string): boolean {
  if (name.split("/").some((part) => readsGenerated(part.replace(/=+$/, ""), /^[A-Za-z0-9+_-]+$/)))
    return true;
  // `openssl rand -base64 24` writes a "/" in 4 values of 10, which can leave every part short. Such a value
  // whole, "/" a symbol: only base64's own letters (no "-", "_" or ".", which path-style names use) in a
  // multiple of 4 characters, as base64 is written, with one or two "/" (three or more: 1 value in 50) and no
  // part a small word (prod/, acme/).
  const parts = name.split("/");
  if (parts.length < 2 || parts.length > 3 || name.length % 4 !== 0) return false;
  if (parts.some((part) => /^[a-z]{3,}$/.test(part))) return false;
  return readsGenerated(name.replace(/=+$/, ""), /^[A-Za-z0-9+/]+$/);
}

/** 20 or more of `alphabet`'s characters, with digits and both cases, changing class often, not mostly words. */
function readsGenerated(body: string, alphabet: RegExp): boolean {
  if (body.length < 20 || !alphabet.test(body)) return false;
  if (!/[0-9]/.test(body) || !/[A-Z]/.test(body) || !/[a-z]/.test(body)) return false;
  if (/^[A-Za-z0-9]+-[A-Za-z0-9]{12}$/.test(body)) return false;
  let changes = 0;
  for (let i = 1; i < body.length; i++) {
    if (characterClass(body.charAt(i)) !== characterClass(body.charAt(i - 1))) changes++;
  }
  return changes >= (body.length - 1) / 2 && wordShare(body) < 0.55 && !allSmallInWords(body);
}

/**
 * Whether every small letter of `body` is in a PascalCase word: words between acronyms and digits
 * (`B2BApiV2KeyForSAP4HANA`), which change class as often as generated text, where small letters stand alone.
 */
function allSmallInWords(body: string): boolean {
  return !/[a-z]/.test(body.replace(/[A-Z][a-z]{2,}/g, ""));
}

/** The share of `body`'s characters in PascalCase words: a capital and 2 or more small letters. */
function wordShare(body: string): number {
  let inWords = 0;
  for (const word of body.matchAll(/[A-Z][a-z]{2,}/g)) inWords += word[0].length;
  return inWords / body.length;
}

/** What a message shows for a secret name that looksRandom: never the name, which may be the value. */
export const RANDOM_SECRET_NAME = "(a name that looks like a secret value)";

/**
 * Whether a name behind the stack's secretNamePrefix looksRandom as routes.yaml writes it, as `hookgate check`
 * judges it: a prefix can hide a pasted value (`dev/` adds a part that reads as a word, before a base64 value with
 * a "/"), and one not ending in "/" can make an ordinary name read as generated (`dev-` glued to
 * `K8sS3AccessKeyForCI2`), so the name is judged without it alone.
 */
export function looksRandomBehindPrefix(name: string, prefix: string): boolean {
  return looksRandom(withoutSecretNamePrefix(name, prefix));
}

/** The name as routes.yaml writes it: without the stack's secretNamePrefix in front. */
export function withoutSecretNamePrefix(name: string, prefix: string): string {
  return prefix !== "" && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/**
 * A secret name as messages, tables and commit statuses show it: quoted (`quoted` false: as it is), or
 * RANDOM_SECRET_NAME when it looksRandom, as it may be a pasted secret. `prefix`: the stack's secretNamePrefix,
 * in front of `name` (looksRandomBehindPrefix).
 */
export function shownSecretName(name: string, quoted = true, prefix = ""): string {
  if (looksRandomBehindPrefix(name, prefix)) return RANDOM_SECRET_NAME;
  return quoted ? `"${name}"` : name;
}

function characterClass(char: string): number {
  return /[A-Z]/.test(char) ? 0 : /[a-z]/.test(char) ? 1 : /[0-9]/.test(char) ? 2 : 3;
}

export function looksLikeSecret(value: string): boolean {
  return SECRET_LOOKALIKES.some(([pattern]) => pattern.test(value));
}

/** What a message shows in place of text that looks like a credential. */
export const NOT_SHOWN = "<not shown>";

/**
 * The runs of `text` a credential may be: characters tokens are written with, read several ways, as a token's
 * alphabet has "/" and "+" (base64), "." (a JSON Web Token) or "_" and "-" (GitHub, GitLab) and a URL, a name or
 * a command around it uses the same as separators. An escape of shownText (\t, \u200b) parts words, as the
 * character it stands for does.
 */
const CREDENTIAL_RUNS = [
  /[A-Za-z0-9_+/=.-]+/g,
  /[A-Za-z0-9_=-]+/g,
  /[A-Za-z0-9+/=]+/g,
  /[A-Za-z0-9_=.-]+/g,
  /[A-Za-z0-9_]+/g,
  /[A-Za-z0-9]+/g,
];

/** Each [start, end) of `text` that looks like a credential on its own (looksLikeSecret), or a PEM block. */
function credentialRanges(text: string): Array<[number, number]> {
  // Escapes written as blanks of the same length, so that positions stay those of `text`.
  const plain = text.replace(/\\(?:u[0-9a-fA-F]{4}|.)/g, (written) => " ".repeat(written.length));
  const ranges: Array<[number, number]> = [];
  for (const run of CREDENTIAL_RUNS) {
    for (const found of plain.matchAll(run)) {
      const word = found[0].replace(/^[./=+-]+|[./]+$/g, "");
      // A generated credential holds letters and digits: a run of one "a" or "9" (40 of them, in a test of a
      // long name) is no token, though it is hexadecimal.
      if (!/[0-9]/.test(word) || !/[A-Za-z]/.test(word) || !looksLikeSecret(word)) continue;
      const start = (found.index ?? 0) + found[0].indexOf(word);
      ranges.push([start, start + word.length]);
    }
  }
  // A PEM block's body is base64 lines: everything from its header to the end of the quoted text.
  for (const pem of plain.matchAll(/-----BEGIN [A-Z ]+-----[^"]*/g)) {
    ranges.push([pem.index ?? 0, (pem.index ?? 0) + pem[0].length]);
  }
  return ranges;
}

/** The words of `text` (a routes file) that look like credentials, for withoutSecretLookalikes to hide. */
export function credentialWords(text: string): string[] {
  return [...new Set(credentialRanges(text).map(([start, end]) => text.slice(start, end)))];
}

/**
 * `message` with every word that looks like a credential (looksLikeSecret: a token after a space in a URL, a
 * key of a map, a value reused through an alias), and every text of `hidden` (words of the file that do, values
 * of secret-holding keys), written as NOT_SHOWN; so is the start of one of them a clip cut ("ghp_Ab12…"). Ordinary
 * text (a job, a glob, a secret's name) is left as it is.
 */
export function withoutSecretLookalikes(message: string, hidden: readonly string[] = []): string {
  const ranges = credentialRanges(message);
  const boundary = (i: number) => i < 0 || i >= message.length || !/[A-Za-z0-9]/.test(message.charAt(i));
  for (const text of hidden) {
    if (text.length === 0) continue;
    for (let at = message.indexOf(text); at >= 0; at = message.indexOf(text, at + 1)) {
      if (boundary(at - 1) && boundary(at + text.length)) ranges.push([at, at + text.length]);
    }
    // shownText cuts a long text with "…": the start of a hidden text just before one is hidden too.
    for (let clip = message.indexOf("…"); clip >= 0; clip = message.indexOf("…", clip + 1)) {
      for (let length = Math.min(text.length - 1, clip); length >= 4; length--) {
        if (message.slice(clip - length, clip) === text.slice(0, length) && boundary(clip - length - 1)) {
          ranges.push([clip - length, clip]);
          break;
        }
      }
    }
  }
  if (ranges.length === 0) return message;
  ranges.sort((a, b) => a[0] - b[0]);
  let shown = "";
  let from = 0;
  for (const [start, end] of ranges) {
    if (end <= from) continue;
    if (start >= from) shown += message.slice(from, start) + NOT_SHOWN;
    from = end;
  }
  return shown + message.slice(from);
}

/** Why `value` is not a Secrets Manager name. Never includes the value. */
export function secretRefProblem(value: string): string | undefined {
  const advice =
    "store the value in Secrets Manager and write the secret's name here (the value is not shown)";
  for (const [pattern, what] of SECRET_LOOKALIKES) {
    if (pattern.test(value))
      return `this looks like a secret value (${what}), not the name of a secret; ${advice}`;
  }
  if (/\s/.test(value))
    return `a secret name cannot contain whitespace; this looks like a secret value; ${advice}`;
  // GetSecretValue takes an ARN, but hookgate prefixes names (hookgate:secretNamePrefix) and scopes its
  // policies by name: say which name the ARN is of.
  const arn = /^arn:aws[a-z-]*:secretsmanager:[^:]*:[^:]*:secret:(.+)$/.exec(value)?.[1];
  if (arn !== undefined) {
    const suffixed = /^(.+)-[A-Za-z0-9]{6}$/.exec(arn);
    const name = suffixed?.[1] ?? arn;
    const shown = SECRET_NAME_PATTERN.test(name) ? `, "${name}"` : "";
    const suffix = suffixed ? ' (without the "-" and 6 characters Secrets Manager adds to the ARN)' : "";
    return `is a secret's ARN, which is not a Secrets Manager name: write its name${shown}${suffix}`;
  }
  if (!SECRET_NAME_PATTERN.test(value)) {
    return "is not a Secrets Manager name (1 to 512 characters of A-Z a-z 0-9 / _ + = . @ -; the value is not shown)";
  }
  return undefined;
}

export function urlProblem(value: string): string | undefined {
  // Before parsing: a password that starts with digits parses as a port and a path ("https://ci:1234/pw@host"),
  // and one with "#" as a fragment. A Jenkins or API base URL never needs an "@". The URL parser reads a user
  // name or password only before an "@", so no parsed URL below has one, and none is echoed. An @ the parser
  // does not take (full-width, small, percent-encoded: an input method's or a copy's) still ends a password.
  if (/[@\uFF20\uFE6B]|%40/i.test(value)) {
    return "a URL must not contain a user name or password (an @); put credentials in a Secrets Manager secret (the value is not shown)";
  }
  // "jenkins.internal:8080" parses as the scheme "jenkins.internal:", and "10.0.0.5:8080" not at all: say
  // what is missing. Only the host and port are shown: a path may hold a token.
  const hostPort = /^([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*):(\d{1,5})(\/.*)?$/.exec(value.trim());
  if (hostPort) {
    const origin = `${hostPort[1]}:${hostPort[2]}`;
    const rest = hostPort[3] && hostPort[3] !== "/" ? "/… (the path is not shown)" : "";
    return `"${origin}" has no scheme: write https://${origin}${rest}, or http://${origin} for a server without TLS`;
  }
  // No URL holds white space (the URL parser would take one in a path as %20): an http(s) URL among words is one
  // pasted with a command or a token (`curl --user admin:<token> https://…`, from Jenkins' docs). Not shown: what
  // came with it may be a password; the URL in it is, as its origin. Other text with a space is quoted below.
  const inside = /\s/u.test(value.trim())
    ? value
        .split(/\s+/u)
        .map((word) => httpOrigin(word))
        .find((origin) => origin !== undefined)
    : undefined;
  if (inside !== undefined) {
    return `this value holds white space, which no URL has: write the URL alone, ${shownText(inside)} (the value is not shown: what was pasted with the URL may be a password or token)`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // A query or fragment may hold a token: never echo a value that has one.
    const shown = looksLikeSecret(value.trim())
      ? "this value (not shown: it looks like a secret)"
      : /[?#]/.test(value)
        ? "this value (not shown: it may hold credentials or a token)"
        : shownText(value);
    return `${shown} is not a URL (write it as https://host[:port][/path])`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    // Only the scheme is shown: the rest may hold a token (ssh://host/<token>, ftp://…?token=…).
    return `a ${JSON.stringify(url.protocol.slice(0, 20))} URL (the rest is not shown) must be an http or https URL`;
  }
  if (url.search || url.hash) {
    // Shown without them: a trigger token often travels in a query string.
    return `${shownText(`${url.origin}${url.pathname}`)} must not have a query string or fragment (not shown)`;
  }
  // The URL parser takes a "," in a host (WHATWG forbids no ","), but no DNS host name has one (RFC 952 and 1123:
  // letters, digits, "-" and "."): a second URL or a token pasted after the host, and every request would fail.
  if (url.hostname.includes(",")) {
    const before = `${url.protocol}//${url.hostname.slice(0, url.hostname.indexOf(","))}`;
    return `${shownText(before)} is followed by a "," in the host, which no host name has (the rest is not shown: it may be a token or another URL): write one URL with its host alone`;
  }
  const misread = misreadIpv4Host(value.trim(), url);
  if (misread) {
    return `the host ${shownText(misread.written, 40)} is read by the URL parser as the address ${misread.address} (${IPV4_SPELLINGS}): write the IPv4 address as four decimal numbers`;
  }
  return undefined;
}

/**
 * An http(s) URL as a table or a message shows it: its origin (scheme://host:port), then "/…" when it has a path
 * past "/" (which may hold a token: a Jenkins URL's path is its context path, rarely anything else); undefined
 * when `value` is no http(s) URL.
 */
export function httpOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  return url.pathname === "/" || url.pathname === "" ? url.origin : `${url.origin}/…`;
}

/**
 * A routes file's Jenkins URL as the routes table and serve's banner print it: httpOrigin (its path may hold a
 * token), and no text that looks like a credential (the URL parser takes a host such as `ci.example.com,<token>`).
 */
export function shownBaseUrl(value: string): string {
  return withoutSecretLookalikes(httpOrigin(value) ?? NOT_SHOWN);
}

/** How the URL parser reads an IPv4 address written otherwise than as four decimal numbers. */
export const IPV4_SPELLINGS =
  "a leading 0 is octal, 0x hexadecimal, and fewer than four numbers are filled in";

/**
 * The IPv4 host of `text` as written, when the URL parser (`url`, parsed from it) reads it as another address:
 * it reads one as inet_aton does (010.0.0.5, octal, is 8.0.0.5; 0x0a.0.0.5, 167772165 and 10.5 are 10.0.0.5),
 * and what it made is what is called. A trailing dot ("10.0.0.5.") only ends the name: not a misreading.
 */
export function misreadIpv4Host(text: string, url: URL): { written: string; address: string } | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(url.hostname)) return undefined;
  // The host as written, after any run of / and \ (the parser takes http:host and http:\\host too).
  const written = /^[a-z][a-z0-9+.-]*:[/\\]*([^/\\?#]*)/i.exec(text)?.[1]?.replace(/:\d*$/, "") ?? "";
  if (written.replace(/\.$/, "") === url.hostname) return undefined;
  return { written, address: url.hostname };
}

/**
 * The IPv4 address of an IPv6 text written ::a.b.c.d (RFC 4291's deprecated IPv4-compatible form: the first
 * 96 bits zero, not ::ffff:a.b.c.d); undefined for any other text.
 */
function ipv4Compatible(address: string): string | undefined {
  const hex = hexIpv6Text(address);
  if (hex === undefined || hex === address || !ipaddr.IPv6.isValid(hex)) return undefined;
  const parts = ipaddr.IPv6.parse(hex).parts;
  return parts.slice(0, 6).every((part) => part === 0)
    ? address.slice(address.lastIndexOf(":") + 1)
    : undefined;
}

/** An allowIps entry written ::a.b.c.d[/prefix]: it would allow an IPv6 range, not the IPv4 addresses it names. */
function compatibleProblem(shown: string, address: string, prefix: number): string | undefined {
  const v4 = ipv4Compatible(address);
  if (v4 === undefined) return undefined;
  if (v4.startsWith("0.")) {
    // ::0.0.0.1 is ::1, the IPv6 loopback: 0.0.0.0/8 is no IPv4 source, so suggest the IPv6 text, not 0.0.0.1/32.
    const network = ipaddr.IPv6.networkAddressFromCIDR(`${hexIpv6Text(address)}/${prefix}`).toString();
    return `${shown} is the IPv6 range ${network}/${prefix} written with a dotted part; write ${network}/${prefix}`;
  }
  const ipv4 = prefix >= 96 ? `${v4}/${prefix - 96}` : "the IPv4 range";
  return `${shown} is the deprecated IPv4-compatible form, the IPv6 range ${hexIpv6Text(address)}/${prefix}, which no IPv4 source is in; write ${ipv4} (or ::ffff:${v4}/${prefix})`;
}

/**
 * An IPv6 entry whose dotted IPv4 part has a leading zero (::ffff:192.168.001.0/120): ipaddr.js takes it,
 * the allowlist reads only four decimal numbers without leading zeros there, so the entry matches nothing.
 */
function dottedPartProblem(shown: string, address: string, suffix: string): string | undefined {
  if (!address.includes(":") || !address.includes(".") || !ipaddr.IPv6.isValid(address)) return undefined;
  if (address.includes("%") || hexIpv6Text(address) !== undefined) return undefined;
  const fixed = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (...octets: string[]) =>
    octets
      .slice(1, 5)
      .map((octet) => String(Number(octet)))
      .join("."),
  );
  const example =
    fixed !== address && hexIpv6Text(fixed) !== undefined ? `${fixed}${suffix}` : "::ffff:192.168.1.0/120";
  return `${shown} has a leading zero in its IPv4 part, which makes it match no address; write four decimal numbers without leading zeros, e.g. ${example}`;
}

/** A CIDR in canonical form. A bare address or host bits set are errors: the intent is ambiguous. */
export function cidrProblem(value: string): string | undefined {
  const shown = shownText(value, 60);
  const slash = value.indexOf("/");
  const dotted = dottedPartProblem(
    shown,
    slash < 0 ? value : value.slice(0, slash),
    slash < 0 ? "/128" : value.slice(slash),
  );
  if (dotted !== undefined) return dotted;
  if (slash < 0) {
    if (ipaddr.isValid(value) && !value.includes("%")) {
      const compatible = compatibleProblem(shown, value, 128);
      if (compatible !== undefined) return compatible;
      const address = ipaddr.parse(value);
      const bits = address.kind() === "ipv4" ? 32 : 128;
      // The address as ipaddr.js reads it, not the text: "000…0" is 0.0.0.0, and the message stays short.
      return `${shown} is an address, not a CIDR; write ${address.toString()}/${bits} for this one address`;
    }
    return `${shown} is not a CIDR (write 192.0.2.0/24 or 2001:db8::/32)`;
  }
  const address = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(address);
  const isV6 = !isV4 && ipaddr.IPv6.isValid(address) && !address.includes("%");
  if (
    (!isV4 && !isV6) ||
    !/^(0|[1-9][0-9]{0,2})$/.test(prefixText) ||
    Number(prefixText) > (isV4 ? 32 : 128)
  ) {
    return `${shown} is not a CIDR (write 192.0.2.0/24 or 2001:db8::/32)`;
  }
  const prefix = Number(prefixText);
  if (prefix === 0) return `${shown} allows every address, which would turn authentication off`;
  const compatible = isV6 ? compatibleProblem(shown, address, prefix) : undefined;
  if (compatible !== undefined) return compatible;
  // ::ffff:a.b.c.d/96+ is compared as the IPv4 range a.b.c.d/(prefix - 96): /96 is every IPv4 address.
  if (isV6 && prefix === 96 && (ipaddr.parse(address) as ipaddr.IPv6).isIPv4MappedAddress()) {
    return `${shown} allows every IPv4 address, which would turn authentication off`;
  }
  const network = isV4
    ? ipaddr.IPv4.networkAddressFromCIDR(value)
    : ipaddr.IPv6.networkAddressFromCIDR(value);
  if (isV6 && prefix < 96 && (ipaddr.parse(address) as ipaddr.IPv6).isIPv4MappedAddress()) {
    // Sources written ::ffff:a.b.c.d are compared as IPv4: a mapped prefix under /96 matches none of them.
    return `${shown} is an IPv4-mapped address with a prefix shorter than /96, which matches no IPv4 source; write the IPv4 range, or ::ffff:a.b.c.d with a prefix of 96 or more`;
  }
  if (network.toString() !== ipaddr.parse(address).toString()) {
    const single = `${address}/${isV4 ? 32 : 128}`;
    return `${shown} has host bits set; write ${network.toString()}/${prefix} for the network or ${single} for one address`;
  }
  return undefined;
}

/**
 * Names S3 keeps for itself (general purpose bucket naming rules): access point aliases, Object Lambda and
 * Multi-Region access points, directory and table buckets end so; punycode and internal names start so.
 * CreateBucket refuses them, so no bucket a route names can have one.
 */
const RESERVED_BUCKET_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_BUCKET_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

export function bucketProblem(value: string): string | undefined {
  if (!BUCKET_PATTERN.test(value) || value.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(value))
    return `${shownText(value)} is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)`;
  const prefix = RESERVED_BUCKET_PREFIXES.find((reserved) => value.startsWith(reserved));
  const suffix = RESERVED_BUCKET_SUFFIXES.find((reserved) => value.endsWith(reserved));
  if (prefix === undefined && suffix === undefined) return undefined;
  const part = prefix === undefined ? `ends in "${suffix}"` : `starts with "${prefix}"`;
  return `${shownText(value)} is not a valid S3 bucket name: it ${part}, which S3 keeps for its own names, so no bucket has it`;
}

/** A Jenkins job path: folders separated by single slashes. */
export function jobProblem(value: string): string | undefined {
  if (value.trim() === "") return "a job name cannot be empty";
  const url = jobUrlProblem(value);
  if (url !== undefined) return url;
  const unsafe = unsafeJobCharacter(value);
  if (unsafe !== undefined) return unsafe;
  if (value.startsWith("/") || value.endsWith("/") || value.includes("//")) {
    return `job ${shownText(value)} has an empty folder; write folders as a/b/c without leading, trailing or double slashes`;
  }
  if (value.split("/").some((segment) => segment === "." || segment === "..")) {
    return `job ${shownText(value)} contains "." or ".." as a folder`;
  }
  // Jenkins would look for a job whose name holds a character that cannot be seen in the file.
  const invisible = invisibleCharacter(value);
  if (invisible !== undefined) return `job ${shownText(value)} holds ${invisible}: remove it`;
  // A blank folder is refused by the jenkins action on every delivery (jenkinsJobProblem); and Jenkins trims an
  // item's name when it creates it (Java's trim: spaces, the controls are refused above), so no folder or job
  // has a space at an end. A template inside a segment is the segment's own text here, its spaces kept.
  const segments = value.split("/");
  if (segments.some((segment) => segment.trim() === "")) {
    return `job ${shownText(value)} has a blank folder, which the jenkins action refuses on every delivery; remove it`;
  }
  if (segments.some((segment) => /^\s|\s$/u.test(segment))) {
    const fixed = segments.map((segment) => segment.replace(/^\s+|\s+$/gu, "")).join("/");
    // Another white space (a no-break space pasted from a page) is not seen in the message: named, and where.
    const other = edgeWhiteSpace(segments);
    if (other !== undefined) {
      return (
        `job ${shownText(value, 40)} has ${other} at an end of a folder or name, where it cannot be seen: ` +
        `write ${suggestedText(fixed, 40)}`
      );
    }
    return (
      `job ${shownText(value, 40)} has a folder or name with a space at an end, which no Jenkins item has ` +
      `(Jenkins trims names): write ${suggestedText(fixed, 40)}`
    );
  }
  return undefined;
}

/**
 * What no Jenkins item name holds: Jenkins.checkGoodName refuses ? # [ ] \ (among others) in a name, and
 * branch-api's NameEncoder escapes them (with % and /) in a branch's job. "%" stays allowed: a multibranch
 * job's name holds it (feature%2Fx).
 */
const UNSAFE_JOB_CHARACTER = /[?#[\]\\]/;

/**
 * A "?", "#", "[", "]" or "\" in the job's own text (a field's value is escaped as a branch job's name is):
 * sent as part of the name (api/build?token=abc is /job/api/job/build%3Ftoken%3Dabc), it names no job, so every
 * delivery fails. Most likely a query copied with a trigger URL; the job is not shown, as a query may hold a
 * token.
 */
function unsafeJobCharacter(value: string): string | undefined {
  const found = UNSAFE_JOB_CHARACTER.exec(value.replace(/\{\{[^}]*\}\}/g, ""));
  if (found === null) return undefined;
  return (
    `job (not shown) holds ${JSON.stringify(found[0])}, which no Jenkins item name has (Jenkins refuses ? # [ ] \\ ` +
    "in a name): write the job's folders and name alone; a query's values, a trigger token too, belong in parameters"
  );
}

/**
 * The first white space other than " " at an end of a segment, as "U+00A0 (no-break space) at character 10"
 * (code points from 1 in the whole path); undefined when every one there is a " ".
 */
function edgeWhiteSpace(segments: readonly string[]): string | undefined {
  let offset = 0;
  for (const segment of segments) {
    const chars = Array.from(segment);
    const lead = chars.findIndex((char) => !/\s/u.test(char));
    const start = lead < 0 ? chars.length : lead;
    let end = chars.length;
    while (end > start && /\s/u.test(chars[end - 1] as string)) end--;
    const edges = [...chars.keys()].filter((i) => i < start || i >= end);
    const found = edges.find((i) => chars[i] !== " ");
    if (found !== undefined) {
      return `${codePointName((chars[found] as string).codePointAt(0) as number)} at character ${offset + found + 1}`;
    }
    offset += chars.length + 1;
  }
  return undefined;
}

/**
 * A job's page URL pasted as the job (https://ci.example.com/job/api/job/build/): hookgate would take it as
 * folders "https:", "", "ci.example.com", .... Says the job path it holds; the URL itself is not shown (its
 * query may hold a token).
 */
function jobUrlProblem(value: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value)) return undefined;
  const names = jobNamesOfPath(value.replace(/^[^:]+:\/\/[^/]*/, "").replace(/[?#].*$/, ""));
  const fix =
    names === undefined
      ? "write the job's folders and name (api/build for /job/api/job/build)"
      : `write ${shownText(names.join("/"))}`;
  return `job is a URL (not shown), not a job's path: ${fix}, and the controller's URL in jenkins.url`;
}

/**
 * The job names of a URL path written as Jenkins writes one (/job/api/job/build/, after any prefix of the
 * controller's), decoded; undefined when the path holds no "/job/<name>" pair.
 */
export function jobNamesOfPath(path: string): string[] | undefined {
  const parts = path.split("/").filter((part) => part !== "");
  const first = parts.indexOf("job");
  if (first < 0) return undefined;
  const names: string[] = [];
  for (let i = first; i + 1 < parts.length && parts[i] === "job"; i += 2) {
    names.push(jobNameOfUrl(parts[i + 1] as string));
  }
  return names.length > 0 ? names : undefined;
}

/**
 * The item name a segment of a job's URL path names: the segment decoded once, as Jenkins reads it (the
 * multibranch job of feature/x, "feature%2Fx", is at /job/feature%252Fx). As written when it is no valid
 * percent-encoding, or when decoding would give a "/" or a "." or ".." name: no item is named so (branch-api
 * encodes a branch's "/" as %2F), and the decoded text would be read as folders or a path step.
 */
export function jobNameOfUrl(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return segment;
  }
  return name.includes("/") || name === "." || name === ".." ? segment : name;
}

/**
 * A targetUrl without the line breaks at its very end: a YAML block scalar (`targetUrl: >` or `|` with the link
 * on the next line) ends with one, which is no part of the link. compile drops them and check reads the rest.
 */
export function targetUrlText(value: string): string {
  return value.replace(/(?:\r?\n)+$/, "");
}

/** A commit status link: an http(s) URL, possibly starting with a template. */
export function targetUrlProblem(written: string): string | undefined {
  const value = targetUrlText(written);
  // A link may carry a token in its query: never shown then.
  const shown = (width = 80) =>
    /[?#@]/.test(value) || looksLikeSecret(value) ? "(not shown)" : shownText(value, width);
  // A URL parser (WHATWG, as browsers and Node read a link) removes every tab, LF and CR, and strips C0 controls
  // and spaces at either end, before reading anything: "https://\t/{{x}}.example.com" is https:///<x>..., whose
  // host a value with a "/" names. What check reads must be what the link's reader reads.
  if (/[\n\r]/.test(value)) {
    // Most likely a block scalar written over several lines (|, or > with a more indented line). The link is
    // clipped at 40 so that the message, after the longest location and route name, stays within 300.
    return (
      `targetUrl ${shown(40)} holds a line break (a URL parser drops it): write it on one line; ` +
      ">- or |- for a block scalar"
    );
  }
  if (value.includes("\t")) {
    return `targetUrl ${shown()} holds a tab, which a URL parser removes before reading the link (a host behind one is read from what follows): remove it`;
  }
  if (value.charCodeAt(0) <= 0x20 || value.charCodeAt(value.length - 1) <= 0x20) {
    return `targetUrl ${shown()} starts or ends with a space or control character, which a URL parser strips before reading the link: remove it`;
  }
  if (value.startsWith("{{")) return undefined;
  const host = /^https?:\/\/([^/?#\\]*)/i.exec(value)?.[1];
  if (host === undefined) return `targetUrl ${shown()} must start with https:// (or http://)`;
  // The link is published on the commit status to everyone who can read the repository: no user name or
  // password in it, as urlProblem says for every other URL. A password with a "/" ends the host early: after
  // "user:pass" (no port) an @ anywhere after it counts; after "user:1234", digits that read as a port,
  // an @ in the first folder after text (ci:1234/pw@jenkins:8080), not one further on (:8443/user/a@b.com/, an
  // e-mail in a Jenkins user's path) nor one starting it (:4873/@acme/web, an npm scope).
  const at = /[@\uFF20\uFE6B]|%40/i;
  // Everything after the host: a password may hold a "?" or "#" too (ci:pw?x@jenkins), no link then.
  const afterHost = value.slice(value.indexOf("//") + 2 + host.length);
  // An IPv6 host's own ":" are in its brackets.
  const hostPort = host.replace(/^\[[^\]]*\]/, "");
  const port = /:(\d*)$/.exec(hostPort);
  const passwordCut = hostPort.includes(":") && port === null && at.test(afterHost);
  // A URL parser reads "\" as "/" in an http(s) link; a password's special characters come percent-encoded.
  const firstFolder = /^[/\\]([^/\\?#]*)/.exec(afterHost)?.[1] ?? "";
  const portThenPassword =
    port !== null && new RegExp(`^(?:(?!${at.source}).)+(?:${at.source})`, "i").test(firstFolder);
  if (at.test(host) || passwordCut || portThenPassword) {
    return "targetUrl must not contain a user name or password (an @ before the host): the link is shown to everyone who can read the repository (the value is not shown)";
  }
  // A URL parser skips a "/" or "\" after "https://" (https:///x is https://x/): the host is hidden where it
  // reads as a path, most likely by a typo, and an empty host is no link at all.
  if (host === "" && /^https?:\/\/[/\\]/i.test(value)) {
    return (
      `targetUrl ${shown()} has a "/" or "\\" right after "//", where the host belongs (a browser skips it and ` +
      'reads the host from what follows): write the host right after "//" ("https://pr-{{pr.number}}.previews.example.com/")'
    );
  }
  if (host === "")
    return `targetUrl ${shown()} has no host after "//": write one ("https://logs.example.com/...")`;
  // A field in the host must come before a fixed domain: pr-{{pr.number}}.previews.example.com stays under
  // previews.example.com, while one at the host's end (previews.example{{x}}, {{x}}:8080) may name any host;
  // so may one before a bare dot ({{x}}./, as evil.example. is evil.example), before text a URL parser maps to
  // nothing or to a dot ({{x}}.%C2%AD, {{x}}.%2e, a soft hyphen), or before a top-level domain alone
  // ({{x}}.com: a branch evil is evil.com). So after the last field, the host (without its :port) must end
  // with at least two labels of plain ASCII letters, digits and hyphens, and hold nothing else.
  if (host.includes("{{") && host.includes("}}")) {
    const tail = host.slice(host.lastIndexOf("}}") + 2).replace(/:[0-9]*$/, "");
    // A host whose last label is a number (all digits, or 0x and hex digits: WHATWG's "ends in a number") is
    // read as IPv4, so {{x}}.0.1 with a branch 127.0 is 127.0.0.1: the last label must hold a letter, as every
    // top-level domain does, and not be 0x-hex.
    const last = tail.slice(tail.lastIndexOf(".") + 1);
    const numeric = !/[A-Za-z]/.test(last) || /^0x[0-9a-f]*$/i.test(last);
    if (numeric || !/^[A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+){2,}$/.test(tail)) {
      return (
        `targetUrl ${shown()} has a field that is not followed by a fixed domain of two labels or more ` +
        "(plain letters, digits and hyphens, the last one with a letter and no number), so its value (a branch, " +
        "say) may name another host: put fields " +
        'in the path, or before a fixed domain ("https://pr-{{pr.number}}.previews.example.com/")'
      );
    }
  }
  return undefined;
}

/** The closest candidate to `word`, when it is close enough to be a likely typo (a third of its length). */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  // Only a candidate closer than the best so far matters: each is measured within that bound (the first wins a tie).
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = boundedLevenshtein(lower, candidate.toLowerCase(), bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Longer words are not compared: Secrets Manager's names and every key hookgate reads are shorter. */
const MAX_COMPARED_LENGTH = 512;

/**
 * The edit distance of `a` and `b` when it is at most `max`, else max + 1. Only the band of cells within `max` of
 * the diagonal is computed, and a row with none within `max` ends it: a long path-style name costs its length
 * times the band, and strings whose lengths differ by more than `max` cost nothing.
 */
function boundedLevenshtein(a: string, b: string, max: number): number {
  const over = max + 1;
  if (max < 0 || Math.abs(a.length - b.length) > max) return over;
  if (a.length > MAX_COMPARED_LENGTH || b.length > MAX_COMPARED_LENGTH) return over;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => Math.min(j, over));
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(over);
    current[0] = Math.min(i, over);
    let rowBest = current[0];
    for (let j = Math.max(1, i - max); j <= Math.min(b.length, i + max); j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const cell = Math.min(
        (previous[j] ?? over) + 1,
        (current[j - 1] ?? over) + 1,
        (previous[j - 1] ?? over) + cost,
        over,
      );
      current[j] = cell;
      if (cell < rowBest) rowBest = cell;
    }
    if (rowBest > max) return over;
    previous = current;
  }
  return previous[b.length] ?? over;
}
