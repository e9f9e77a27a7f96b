// The IP-allowlist fallback. CIDRs are parsed once per list (the route's auth object lives as long as
// the function). The only address it ever looks at is the one it is handed: API Gateway's
// requestContext.identity.sourceIp, never X-Forwarded-For.
import ipaddr from "ipaddr.js";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
export type IpTest = (sourceIp: string | undefined) => boolean;

const compiled = new WeakMap<readonly string[], IpTest>();

/** An IPv6 address ending in a dotted IPv4 address: what precedes it, and its four octets. */
const EMBEDDED_IPV4 =
  /^([0-9a-f:]*:)(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/i;

/**
 * IPv6 text with an embedded dotted IPv4 address written as its two hex groups, as RFC 4291 reads it
 * (::ffff:192.0.2.1 is ::ffff:c000:201, ::192.0.2.1 is ::c000:201); any other text unchanged. ipaddr.js reads
 * the deprecated IPv4-compatible ::a.b.c.d as the IPv4-mapped ::ffff:a.b.c.d (RFC 4291 2.5.5.1 vs 2.5.5.2),
 * which would make an IPv6 address match an IPv4 range. Undefined for a dotted part that is no strict
 * four-part decimal (leading zeros, octets over 255, a zone).
 */
export function hexIpv6Text(text: string): string | undefined {
  if (!text.includes(".")) return text;
  const match = EMBEDDED_IPV4.exec(text);
  if (match === null) return undefined;
  const [a, b, c, d] = match.slice(2).map(Number) as [number, number, number, number];
  if (a > 255 || b > 255 || c > 255 || d > 255) return undefined;
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function parseRange(cidr: string): Range | undefined {
  const trimmed = cidr.trim();
  try {
    if (trimmed.includes("/")) {
      const slash = trimmed.indexOf("/");
      const written = trimmed.slice(0, slash);
      const hex = ipaddr.IPv4.isValidFourPartDecimal(written) ? written : hexIpv6Text(written);
      if (hex === undefined) return undefined;
      const text = `${hex}${trimmed.slice(slash)}`;
      if (!ipaddr.isValidCIDR(text)) return undefined;
      if (ipaddr.IPv4.isValidCIDR(text) && !ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return undefined;
      const [address, bits] = ipaddr.parseCIDR(text);
      // ::ffff:a.b.c.d/96+ describes IPv4 addresses; compare it as IPv4 (source addresses are unmapped).
      if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [address, bits];
    }
    const address = parseAddress(trimmed);
    if (address === undefined) return undefined;
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch {
    return undefined;
  }
}

/**
 * A strictly written address (four-part decimal IPv4 or IPv6), IPv4-mapped IPv6 turned into IPv4. The
 * IPv4-compatible ::a.b.c.d stays IPv6 (::c000:201 for ::192.0.2.1).
 */
function parseAddress(written: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(written)) return ipaddr.IPv4.parse(written);
  const text = hexIpv6Text(written);
  if (text === undefined || !ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** Compile a CIDR list once. Entries that do not parse match nothing (check reports them). */
export function compileIpAllowlist(cidrs: readonly string[]): IpTest {
  let test = compiled.get(cidrs);
  if (test !== undefined) return test;
  const ranges: Range[] = [];
  for (const cidr of cidrs) {
    const range = typeof cidr === "string" ? parseRange(cidr) : undefined;
    if (range !== undefined) ranges.push(range);
  }
  test = (sourceIp) => {
    if (typeof sourceIp !== "string" || sourceIp.length === 0 || sourceIp.length > 64) return false;
    let address: ipaddr.IPv4 | ipaddr.IPv6 | undefined;
    try {
      address = parseAddress(sourceIp);
    } catch {
      return false;
    }
    if (address === undefined) return false;
    for (const [network, bits] of ranges) {
      if (network.kind() === address.kind() && address.match(network, bits)) return true;
    }
    return false;
  };
  compiled.set(cidrs, test);
  return test;
}
