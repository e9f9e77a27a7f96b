// What undici (lib/dispatcher/env-http-proxy-agent.js) never matches in a NO_PROXY entry as it is written:
// the checks of the stack's network.noProxy and of serve's NO_PROXY. Pure.
import ipaddr from "ipaddr.js";

/**
 * A NO_PROXY entry's host as undici matches it: a name or IPv4 address, a .domain or *.domain (the domain and
 * the hosts under it), or an IPv6 address in brackets. A name may end with a dot (jenkins.corp.test.): undici
 * compares it as written, so it matches the URLs written with that dot (the URL parser keeps it).
 */
const NO_PROXY_HOST = /^((\*?\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])$/;

/**
 * What is wrong with a NO_PROXY entry, or undefined: what undici (read as bypassesProxy reads it) could never
 * match. It splits a port off as /^(.+):(\d+)$/ and reads it in decimal (leading zeros too): 0 is its "every
 * port", past 65535 no URL's port. It compares the host, lower-cased, with the URL's host as the URL parser
 * writes it: an address written otherwise (10.0.0.05, [FD00:0::5]) or a host no URL can have matches nothing.
 * `shown` quotes a value for the message (JSON.stringify unless the caller has its own).
 */
export function noProxyEntryProblem(
  entry: string,
  shown: (value: string) => string = JSON.stringify,
): string | undefined {
  // Text a message gives bare (a form to write, a port): as it is when shown() would quote it whole.
  const bare = (text: string) => (shown(text) === JSON.stringify(text) ? text : shown(text));
  if (entry === "*") return undefined;
  const [, host = entry, digits] = /^(.+):(\d+)$/.exec(entry) ?? [];
  if (!NO_PROXY_HOST.test(host)) {
    if (ipaddr.IPv6.isValid(entry) && !entry.includes("%")) {
      return `is an IPv6 address: NO_PROXY takes one in brackets, [${entry}]`;
    }
    return "is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)";
  }
  if (digits !== undefined) {
    const port = Number.parseInt(digits, 10);
    if (port === 0) {
      return `names port 0, which NO_PROXY reads as every port: list ${shown(host)} alone for every port, or give the port it serves on, 1 to 65535`;
    }
    if (port > 65535) {
      return `names port ${bare(digits)}, which no URL has, so it would match nothing: give the port the host serves on, 1 to 65535`;
    }
  }
  // A .domain is matched as the end of a host name: the URL parser has no form of its own for it.
  if (/^\*?\./.test(host)) return undefined;
  let written: string | undefined;
  try {
    written = new URL(`http://${host}/`).hostname;
  } catch {
    written = undefined;
  }
  if (written === undefined) return "is no host a URL can have, so it would match nothing";
  if (written !== host.toLowerCase()) {
    return `is an address URLs write as ${written}, and NO_PROXY compares that form, so it would match nothing: write ${bare(`${written}${digits === undefined ? "" : `:${digits}`}`)}`;
  }
  return undefined;
}

/** Whether a NO_PROXY entry is a CIDR range (10.0.0.0/8, fd00::/8), which curl 7.86 and later match and undici does not. */
export function isCidrEntry(entry: string): boolean {
  // ipaddr.js takes an IPv6 zone (fe80::%eth0/64), which no NO_PROXY reader does.
  return ipaddr.isValidCIDR(entry) && !entry.includes("%");
}

/** A NO_PROXY entry with its name's trailing dot dropped (jenkins.corp.test.:8443 -> jenkins.corp.test:8443). */
export function withoutTrailingDot(entry: string): string {
  const [, host = entry, digits] = /^(.+):(\d+)$/.exec(entry) ?? [];
  if (!host.endsWith(".") || host.startsWith("[")) return entry;
  return `${host.slice(0, -1)}${digits === undefined ? "" : `:${digits}`}`;
}

/**
 * The note for a NO_PROXY entry whose name ends with a dot (localhost., .corp.test.), or undefined: undici
 * compares it as written, so it matches only URLs written with that dot, and a URL written the usual way
 * (http://localhost/) still goes through the proxy. Accepted (such URLs exist), but said, as nothing else
 * would show it. For an entry noProxyEntryProblem finds nothing wrong with. `scheme` ("https:") is that of the
 * URL the entry is meant for, when the caller knows it; http: else.
 */
export function noProxyTrailingDotNote(entry: string, scheme = "http:"): string | undefined {
  const [, host = entry, digits] = /^(.+):(\d+)$/.exec(entry) ?? [];
  if (!host.endsWith(".") || host.startsWith("[")) return undefined;
  const name = host.slice(0, -1);
  const port = digits === undefined ? "" : `:${digits}`;
  // A .domain stands for the hosts under it.
  const domain = /^\*?\./.exec(name);
  const example = domain ? `<host>.${name.slice(domain[0].length)}` : name;
  return `matches only URLs written with the trailing dot; for ${scheme}//${example}${port}/ list ${withoutTrailingDot(entry)}`;
}
