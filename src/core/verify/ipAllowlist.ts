// The IP-allowlist fallback. CIDRs are parsed once per list (the route's auth object lives as long as
// the function). The only address it ever looks at is the one it is handed: API Gateway's
// requestContext.identity.sourceIp, never X-Forwarded-For.
import ipaddr from "ipaddr.js";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
export type IpTest = (sourceIp: string | undefined) => boolean;

const compiled = new WeakMap<readonly string[], IpTest>();

function parseRange(cidr: string): Range | undefined {
  const text = cidr.trim();
  try {
    if (text.includes("/")) {
      if (!ipaddr.isValidCIDR(text)) return undefined;
      if (ipaddr.IPv4.isValidCIDR(text) && !ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return undefined;
      const [address, bits] = ipaddr.parseCIDR(text);
      // ::ffff:a.b.c.d/96+ describes IPv4 addresses; compare it as IPv4 (source addresses are unmapped).
      if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
        return [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
      }
      return [address, bits];
    }
    const address = parseAddress(text);
    if (address === undefined) return undefined;
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch {
    return undefined;
  }
}

/** A strictly written address (four-part decimal IPv4 or IPv6), IPv4-mapped IPv6 turned into IPv4. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!ipaddr.IPv6.isValid(text)) return undefined;
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
