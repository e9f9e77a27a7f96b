// serve reads NO_PROXY from its environment as undici does, which is narrower than curl (7.86 and later match a
// CIDR and an IPv6 address without brackets): unmatchedNoProxyEntries lists what undici will not match as written.
import { expect } from "chai";
import { bypassesProxy, unmatchedNoProxyEntries } from "../../src/actions/proxy";
import { noProxyEntryProblem } from "../../src/core/noProxy";

describe("Function: unmatchedNoProxyEntries(NO_PROXY)", () => {
  it("unmatchedNoProxyEntries names each CIDR and bare IPv6 entry, which curl matches and undici does not", () => {
    const noProxy = "localhost,127.0.0.0/8,::1 10.0.0.0/8,fd00::/8,[::1],.corp.test";
    expect(unmatchedNoProxyEntries(noProxy)).to.deep.equal([
      'NO_PROXY entry "127.0.0.0/8" is a CIDR range, which undici does not match (curl does): list the hosts or addresses to reach directly',
      'NO_PROXY entry "::1" is an IPv6 address: NO_PROXY takes one in brackets, [::1]',
      'NO_PROXY entry "10.0.0.0/8" is a CIDR range, which undici does not match (curl does): list the hosts or addresses to reach directly',
      'NO_PROXY entry "fd00::/8" is a CIDR range, which undici does not match (curl does): list the hosts or addresses to reach directly',
    ]);
    // What the lines say: undici's matching (bypassesProxy agrees with it, proxy.test.ts) sends these through the proxy.
    for (const url of [
      "http://127.0.0.1:8080/",
      "http://[::1]:8080/",
      "https://10.1.2.3/",
      "https://[fd00::5]/",
    ]) {
      expect(bypassesProxy("127.0.0.0/8,::1,10.0.0.0/8,fd00::/8", new URL(url)), url).to.equal(false);
    }
  });

  it("unmatchedNoProxyEntries names what the stack's network.noProxy refuses too: a * among others, port 0, an address written otherwise", () => {
    expect(unmatchedNoProxyEntries("*,git.corp.test:0,127.0.0.01, 10.0.0.0/8 ,10.0.0.0/8")).to.deep.equal([
      'NO_PROXY entry "*" sends every host direct only alone: beside other entries it matches nothing',
      'NO_PROXY entry "git.corp.test:0" names port 0, which NO_PROXY reads as every port: list "git.corp.test" alone for every port, or give the port it serves on, 1 to 65535',
      'NO_PROXY entry "127.0.0.01" is an address URLs write as 127.0.0.1, and NO_PROXY compares that form, so it would match nothing: write 127.0.0.1',
      'NO_PROXY entry "10.0.0.0/8" is a CIDR range, which undici does not match (curl does): list the hosts or addresses to reach directly',
    ]);
  });

  it("unmatchedNoProxyEntries calls an IPv6 CIDR or address with a zone (%eth0) not valid, not a CIDR range curl would match: no NO_PROXY reader takes a zone", () => {
    expect(unmatchedNoProxyEntries("fe80::%eth0/64,fd00::5%eth0")).to.deep.equal([
      'NO_PROXY entry "fe80::%eth0/64" is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)',
      'NO_PROXY entry "fd00::5%eth0" is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)',
    ]);
  });

  it("unmatchedNoProxyEntries is empty for what undici matches as written: hosts, .domains, host:port, [IPv6], a lone *", () => {
    expect(unmatchedNoProxyEntries("")).to.deep.equal([]);
    expect(unmatchedNoProxyEntries("*")).to.deep.equal([]);
    expect(
      unmatchedNoProxyEntries(
        "localhost 127.0.0.1,.corp.test,*.example.com,jenkins:8080,[::1],[fd00::5]:443",
      ),
    ).to.deep.equal([]);
  });

  it("the stack's network.noProxy check accepts a name with a trailing dot, which undici matches for URLs written with it", () => {
    for (const entry of ["jenkins.corp.test.", ".corp.test.", "*.corp.test.", "jenkins.corp.test.:8080"]) {
      expect(noProxyEntryProblem(entry), entry).to.equal(undefined);
    }
    // What the acceptance rests on: undici (bypassesProxy agrees with it) matches such an entry as written.
    expect(bypassesProxy("jenkins.corp.test.", new URL("http://jenkins.corp.test./job/x/build"))).to.equal(
      true,
    );
    expect(bypassesProxy("jenkins.corp.test.:8080", new URL("http://jenkins.corp.test.:8080/"))).to.equal(
      true,
    );
    expect(bypassesProxy(".corp.test.", new URL("https://git.corp.test./"))).to.equal(true);
    // An address with a dot is no form a URL keeps (10.0.0.5. is written 10.0.0.5): still refused.
    expect(noProxyEntryProblem("10.0.0.5.")).to.match(/is an address URLs write as 10\.0\.0\.5/);
  });

  it("unmatchedNoProxyEntries says a name with a trailing dot matches only URLs written with it, and which entry the URL written without it needs", () => {
    expect(
      unmatchedNoProxyEntries(
        "localhost.,jenkins.corp.test.:8080,.corp.test.,*.corp.test.,jenkins.corp.test",
      ),
    ).to.deep.equal([
      'NO_PROXY entry "localhost." matches only URLs written with the trailing dot; for http://localhost/ list localhost',
      'NO_PROXY entry "jenkins.corp.test.:8080" matches only URLs written with the trailing dot; for http://jenkins.corp.test:8080/ list jenkins.corp.test:8080',
      'NO_PROXY entry ".corp.test." matches only URLs written with the trailing dot; for http://<host>.corp.test/ list .corp.test',
      'NO_PROXY entry "*.corp.test." matches only URLs written with the trailing dot; for http://<host>.corp.test/ list *.corp.test',
    ]);
    // What the line says: undici (bypassesProxy agrees with it) sends the URL written without the dot through the
    // proxy, and the entry it names sends it direct.
    expect(bypassesProxy("localhost.", new URL("http://localhost:8080/"))).to.equal(false);
    expect(bypassesProxy("localhost", new URL("http://localhost:8080/"))).to.equal(true);
    expect(bypassesProxy(".corp.test.", new URL("https://git.corp.test/"))).to.equal(false);
  });

  it("unmatchedNoProxyEntries quotes an entry with its invisible characters escaped", () => {
    expect(unmatchedNoProxyEntries("10.0.0.0/8\u202e")).to.deep.equal([
      'NO_PROXY entry "10.0.0.0/8\\u202e" is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)',
    ]);
  });
});
