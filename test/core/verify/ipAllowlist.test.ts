import { expect } from "chai";
import { compileIpAllowlist, verifyDelivery } from "../../../src/core/verify";
import { signHex } from "../../../src/core/verify/hmac";
import { OTHER_SECRET, request, SECRET } from "./helpers";

const BITBUCKET_IPS = ["104.192.136.0/21", "2401:1d80:1010::/64", "13.52.5.96/28"];
const BODY = '{"push":{"changes":[]}}';

describe("Function: compileIpAllowlist", () => {
  const allowed = compileIpAllowlist([
    "104.192.136.0/21",
    "2401:1d80:1010::/64",
    "198.51.100.7",
    "::ffff:203.0.113.0/120",
  ]);
  const cases: Array<[string | undefined, boolean]> = [
    ["104.192.136.1", true],
    ["104.192.143.255", true],
    ["104.192.144.0", false],
    ["104.192.135.255", false],
    ["::ffff:104.192.136.9", true],
    ["::ffff:104.192.144.9", false],
    ["2401:1d80:1010::1", true],
    ["2401:1d80:1010:0:ffff:ffff:ffff:ffff", true],
    ["2401:1d80:1011::1", false],
    ["198.51.100.7", true],
    ["198.51.100.8", false],
    ["203.0.113.77", true],
    ["::ffff:203.0.113.77", true],
    ["0x68.192.136.1", false],
    ["104.192.136", false],
    ["104.192.136.1, 1.2.3.4", false],
    ["not an ip", false],
    ["", false],
    [undefined, false],
  ];
  for (const [ip, expected] of cases) {
    it(`compileIpAllowlist(...)(${JSON.stringify(ip)}) is ${expected}`, () => {
      expect(allowed(ip)).to.equal(expected);
    });
  }

  it("compileIpAllowlist does not take the IPv4-compatible ::192.0.2.1 (IPv6 ::c000:201) for the IPv4 address 192.0.2.1", () => {
    const v4 = compileIpAllowlist(["192.0.2.0/24"]);
    expect(v4("::c000:201"), "the same address in hex").to.equal(false);
    expect(v4("::192.0.2.1")).to.equal(false);
    expect(v4("::ffff:192.0.2.1"), "IPv4-mapped").to.equal(true);
  });

  it("compileIpAllowlist reads an entry ::192.0.2.0/120 as the IPv6 range ::c000:200/120, not as 192.0.2.0/24", () => {
    const compatible = compileIpAllowlist(["::192.0.2.0/120"]);
    expect(compatible("192.0.2.1")).to.equal(false);
    expect(compatible("::ffff:192.0.2.1")).to.equal(false);
    expect(compatible("::c000:201")).to.equal(true);
    expect(compileIpAllowlist(["::192.0.2.1"])("192.0.2.1")).to.equal(false);
  });

  it("compileIpAllowlist refuses an embedded IPv4 part that is no strict four-part decimal, in a source or an entry", () => {
    expect(compileIpAllowlist(["::ffff:192.0.2.0/120"])("::ffff:192.0.2.01")).to.equal(false);
    expect(compileIpAllowlist(["::ffff:192.0.2.0/120"])("::ffff:192.0.2.256")).to.equal(false);
    expect(compileIpAllowlist(["::ffff:192.0.2.00/120"])("192.0.2.1")).to.equal(false);
  });

  it("compileIpAllowlist ignores entries that are not CIDRs instead of matching everything", () => {
    const test = compileIpAllowlist(["not-a-cidr", "10.0.0.0/33", "10.0.0.0/8"]);
    expect(test("10.1.2.3")).to.equal(true);
    expect(test("11.1.2.3")).to.equal(false);
  });

  it("compileIpAllowlist compiles one list once", () => {
    const list = ["10.0.0.0/8"];
    expect(compileIpAllowlist(list)).to.equal(compileIpAllowlist(list));
  });
});

describe("Function: verifyDelivery (IP-allowlist fallback)", () => {
  const unsigned = (
    sourceIp: string | undefined,
    headers: Record<string, string> = {},
    allowIps = BITBUCKET_IPS,
  ) => verifyDelivery(request({ provider: "bitbucket", body: BODY, headers, sourceIp, auth: { allowIps } }));

  it("verifyDelivery accepts an unsigned delivery from an allowed IPv4 address via ip-allowlist", () => {
    expect(unsigned("104.192.137.10")).to.deep.equal({ ok: true, via: "ip-allowlist" });
  });

  it("verifyDelivery accepts an unsigned delivery from an allowed IPv6 address", () => {
    expect(unsigned("2401:1d80:1010::abcd")).to.deep.equal({ ok: true, via: "ip-allowlist" });
  });

  it("verifyDelivery accepts an unsigned delivery from an IPv4-mapped IPv6 address in the list", () => {
    expect(unsigned("::ffff:104.192.137.10")).to.deep.equal({ ok: true, via: "ip-allowlist" });
  });

  it("verifyDelivery refuses an unsigned delivery from another IP with 403", () => {
    expect(unsigned("203.0.113.9")).to.deep.equal({
      ok: false,
      status: 403,
      reason: "source IP not allowed",
      retryWithFreshSecret: false,
    });
  });

  it("verifyDelivery refuses an unsigned delivery without a source IP with 403", () => {
    expect(unsigned(undefined)).to.deep.include({ ok: false, status: 403 });
  });

  it("verifyDelivery never reads X-Forwarded-For or X-Real-IP", () => {
    const spoofed = {
      "x-forwarded-for": "104.192.137.10",
      "x-real-ip": "104.192.137.10",
      forwarded: "for=104.192.137.10",
    };
    expect(unsigned("203.0.113.9", spoofed)).to.deep.include({ ok: false, status: 403 });
    expect(unsigned(undefined, spoofed)).to.deep.include({ ok: false, status: 403 });
  });

  it("verifyDelivery answers 401 for an unsigned delivery on a route without allowIps", () => {
    expect(unsigned("104.192.137.10", {}, [])).to.deep.include({
      ok: false,
      status: 401,
      reason: "signature missing: a bitbucket route reads X-Hub-Signature",
    });
  });

  it("verifyDelivery lets the HMAC decide when a signature is present: invalid from an allowed IP is 401", () => {
    const headers = { "x-hub-signature": `sha256=${signHex("sha256", OTHER_SECRET, Buffer.from(BODY))}` };
    expect(unsigned("104.192.137.10", headers)).to.deep.include({ ok: false, status: 401 });
  });

  it("verifyDelivery lets the HMAC decide when a signature is present: malformed from an allowed IP is 401", () => {
    expect(unsigned("104.192.137.10", { "x-hub-signature": "sha256=" })).to.deep.include({
      ok: false,
      status: 401,
    });
  });

  it("verifyDelivery lets the HMAC decide when a signature is present: valid from outside the list is accepted", () => {
    const headers = { "x-hub-signature": `sha256=${signHex("sha256", SECRET, Buffer.from(BODY))}` };
    expect(unsigned("203.0.113.9", headers)).to.deep.equal({ ok: true, via: "signature" });
  });

  it("verifyDelivery does not fall back to the IP list for a GitHub SHA-1-only request", () => {
    const input = request({
      provider: "github",
      body: BODY,
      headers: { "x-hub-signature": signHex("sha1", SECRET, Buffer.from(BODY), "sha1=") },
      sourceIp: "104.192.137.10",
      auth: { allowIps: BITBUCKET_IPS },
    });
    expect(verifyDelivery(input)).to.deep.include({ ok: false, status: 401 });
  });

  it("verifyDelivery falls back for GitLab only when neither the token nor webhook-signature is present", () => {
    const gitlab = (headers: Record<string, string>) =>
      verifyDelivery(
        request({
          provider: "gitlab",
          body: BODY,
          headers,
          sourceIp: "104.192.137.10",
          auth: { allowIps: BITBUCKET_IPS },
        }),
      );
    expect(gitlab({}).ok).to.equal(true);
    expect(gitlab({ "x-gitlab-token": "wrong" })).to.deep.include({ ok: false, status: 401 });
    expect(gitlab({ "webhook-signature": "v1,xx" })).to.deep.include({ ok: false, status: 401 });
  });
});

describe("Function: compileIpAllowlist (how entries are read)", () => {
  const cases: Array<[string, string[], string, boolean]> = [
    ["an entry with spaces around it", [" 10.0.0.0/8 "], "10.1.2.3", true],
    ["a single IPv6 address", ["2001:db8::1"], "2001:db8::1", true],
    ["a single IPv6 address, not its neighbour", ["2001:db8::1"], "2001:db8::2", false],
    ["a single IPv4 address, not its neighbour", ["198.51.100.7"], "198.51.100.6", false],
    ["an IPv4 CIDR written in hex", ["0x0a.0.0.0/8"], "10.1.2.3", false],
    ["an IPv4 CIDR with fewer than four parts", ["10/8"], "10.1.2.3", false],
    // ipaddr.js would read these as 0.0.0.10/8, 10.0.0.0/8 and 0.0.0.1/1 (half of IPv4): each must let nothing in
    // (the case above passes either way: 0.0.0.10/8 does not hold 10.1.2.3 either; review h522).
    ["an IPv4 CIDR of one part, for an address its short reading holds", ["10/8"], "0.1.2.3", false],
    ["an IPv4 CIDR written as one 32-bit number", ["167772160/8"], "10.1.2.3", false],
    ["an IPv4 CIDR of one part with a /1", ["1/1"], "8.8.8.8", false],
    ["::ffff:0.0.0.0/96 (every IPv4 address, mapped)", ["::ffff:0.0.0.0/96"], "203.0.113.7", true],
    ["::ffff:203.0.113.0/120 for its IPv4 address", ["::ffff:203.0.113.0/120"], "203.0.113.7", true],
    ["::ffff:203.0.113.0/120 for another IPv4 address", ["::ffff:203.0.113.0/120"], "203.0.114.7", false],
    ["a /95 around the mapped range, for an IPv4 address", ["::ffff:0:0/95"], "203.0.113.7", false],
    ["a /95 around the mapped range, for an IPv6 address in it", ["::ffff:0:0/95"], "::fffe:1:2", true],
    ["an IPv4 range, for an IPv6 address", ["0.0.0.0/0"], "2001:db8::1", false],
    ["an IPv6 range, for an IPv4 address", ["::/0"], "10.1.2.3", false],
  ];
  for (const [name, list, ip, expected] of cases) {
    it(`compileIpAllowlist: ${name} ${expected ? "matches" : "does not match"} ${ip}`, () => {
      expect(compileIpAllowlist(list)(ip)).to.equal(expected);
    });
  }

  it("compileIpAllowlist skips entries that are not strings instead of throwing", () => {
    const test = compileIpAllowlist([42, null, "10.0.0.0/8"] as unknown as string[]);
    expect(test("10.1.2.3")).to.equal(true);
    expect(test("11.1.2.3")).to.equal(false);
  });
});
