// The egress proxy of the actions' outbound HTTP, read from the standard environment variables as undici's
// EnvHttpProxyAgent reads them: https_proxy/HTTPS_PROXY for https targets, http_proxy/HTTP_PROXY for http
// ones (and for https ones too when no HTTPS proxy is set), no_proxy/NO_PROXY for the hosts reached directly.
// Pure, without undici: the Lambda reads it at init, and its receive path never loads the HTTP client.

import { isCidrEntry, noProxyEntryProblem, noProxyTrailingDotNote } from "../core/noProxy";
import { shownText } from "../core/shownText";

export interface ProxySettings {
  /** The proxy for https targets ("" for none). May carry user:password@, sent as Proxy-Authorization. */
  httpsProxy: string;
  /** The proxy for http targets ("" for none). */
  httpProxy: string;
  /** NO_PROXY as given: hosts, .domains, host:port entries or "*", comma- or space-separated. */
  noProxy: string;
}

export type ProxyEnv = Readonly<Record<string, string | undefined>>;

/** A proxy variable that is no http(s) URL. The message names the variable, never its value. */
export class ProxySettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProxySettingsError";
  }
}

/** The egress proxy that `env` sets, or undefined when it sets none (outbound calls go direct). */
export function proxySettings(env: ProxyEnv): ProxySettings | undefined {
  const httpsProxy = proxyUrl(env, "https_proxy", "HTTPS_PROXY");
  const httpProxy = proxyUrl(env, "http_proxy", "HTTP_PROXY");
  if (!httpsProxy && !httpProxy) return undefined;
  return { httpsProxy, httpProxy, noProxy: (env.no_proxy || env.NO_PROXY || "").trim() };
}

/**
 * The lower-case variable first (as curl and undici read them); a value without a scheme is http://, and a
 * path, query or fragment is dropped.
 */
function proxyUrl(env: ProxyEnv, lower: string, upper: string): string {
  const name = env[lower]?.trim() ? lower : upper;
  const value = env[name]?.trim() ?? "";
  if (!value) return "";
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL | undefined;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname || !decodable(url)) {
    throw new ProxySettingsError(
      `${name} is not an http(s) proxy URL (like http://proxy.example.com:3128); its value is not shown, as it may hold a password`,
    );
  }
  // A proxy is its scheme, credentials, host and port: curl ignores the rest, undici's ProxyAgent throws.
  url.pathname = "/";
  url.search = "";
  url.hash = "";
  return url.href;
}

/** undici decodes the user and password (a % must start an escape: %25): else it throws at the first call. */
function decodable(url: URL): boolean {
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether NO_PROXY sends `url` direct, matched exactly as undici's EnvHttpProxyAgent matches it
 * (lib/dispatcher/env-http-proxy-agent.js, #shouldProxy): "*" only as the whole value; else an entry (comma- or
 * space-separated, a leading "." or "*." dropped) equal to the URL's host or to a domain it is under, on the
 * entry's port when it names one. Nothing more: no CIDRs, and no host is exempt by default (not localhost).
 * A list (the stack's network.noProxy) is read as the NO_PROXY it becomes, its entries joined with commas.
 */
export function bypassesProxy(noProxy: string | readonly string[], url: URL): boolean {
  const value = typeof noProxy === "string" ? noProxy : noProxy.join(",");
  if (value === "*") return true;
  // As undici: the host with IPv6 brackets kept, and the scheme's port when the URL names none.
  const host = url.host.replace(/:\d*$/, "").toLowerCase();
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  return noProxyEntries(value).some((entry) => {
    const [, name = entry, entryPort = "0"] = /^(.+):(\d+)$/.exec(entry) ?? [];
    if (Number.parseInt(entryPort, 10) && Number.parseInt(entryPort, 10) !== port) return false;
    const bare = name.replace(/^\*?\./, "").toLowerCase();
    return host === bare || host.endsWith(`.${bare}`);
  });
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { "http:": 80, "https:": 443 };

/** NO_PROXY's entries as undici splits them: on commas and whitespace, empty ones dropped. */
function noProxyEntries(value: string): string[] {
  return value.split(/[,\s]/).filter((entry) => entry !== "");
}

/**
 * The entries of NO_PROXY that undici matches otherwise than written, or never, or only for URLs written with
 * the name's trailing dot, each as a line for a warning: curl (7.86 and later) matches a CIDR and an IPv6
 * address without brackets, undici neither. The entry is quoted with its invisible characters escaped.
 */
export function unmatchedNoProxyEntries(noProxy: string): string[] {
  if (noProxy === "*") return [];
  const entries = [...new Set(noProxyEntries(noProxy))];
  return entries.flatMap((entry) => {
    const problem =
      entry === "*"
        ? "sends every host direct only alone: beside other entries it matches nothing"
        : isCidrEntry(entry)
          ? "is a CIDR range, which undici does not match (curl does): list the hosts or addresses to reach directly"
          : (noProxyEntryProblem(entry, (value) => shownText(value)) ?? noProxyTrailingDotNote(entry));
    return problem === undefined ? [] : [`NO_PROXY entry ${shownText(entry)} ${problem}`];
  });
}

/** A proxy URL as messages show it: scheme, host and port, never user:password@. */
export function shownProxy(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return "the proxy";
  }
}
