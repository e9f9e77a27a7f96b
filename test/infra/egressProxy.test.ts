// network.httpsProxy and network.noProxy: parsed and refused as the other keys, set on every route function,
// opened in the Lambdas' security group, and counted as a way out of subnets without a NAT.
import { expect } from "chai";
import type { Provider, Route } from "../../src/core/types";
import {
  gitHostApisThroughProxy,
  jenkinsThroughProxy,
  natlessWarning,
  networkWarnings,
} from "../../src/infra/gateway";
import { proxyEgressDestination } from "../../src/infra/network";
import { routeEnvironment } from "../../src/infra/route";
import { environmentLeaks } from "./checks";
import { evaluate } from "./evaluate";
import {
  allKinds,
  config,
  configProblems,
  jenkinsRoute,
  prCleanupRoute,
  s3ZipRoute,
  stubCode,
} from "./fixtures";

const PROXY = "http://proxy.corp.example:3128";

describe("parseStackConfig: network.httpsProxy and network.noProxy", () => {
  it("reads the proxy's URL and port (its scheme's default when none) and the NO_PROXY list, in both network modes", () => {
    expect(
      config({ network: { httpsProxy: PROXY, noProxy: "jenkins.internal.example.com, .corp.example" } })
        .network.egressProxy,
    ).to.deep.equal({ url: PROXY, port: 3128, noProxy: ["jenkins.internal.example.com", ".corp.example"] });
    expect(
      config({ network: { httpsProxy: "https://proxy.corp.example/" } }).network.egressProxy,
    ).to.deep.equal({
      url: "https://proxy.corp.example",
      port: 443,
      noProxy: [],
    });
    const existing = config({
      network: {
        mode: "existing",
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0123456789abcdef0"],
        httpsProxy: "http://10.0.0.10:8080",
        noProxy: ["*"],
      },
    });
    expect(existing.network.egressProxy).to.deep.equal({
      url: "http://10.0.0.10:8080",
      port: 8080,
      noProxy: ["*"],
    });
    expect(config().network).not.to.have.property("egressProxy");
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    [
      "a value that is no URL",
      { httpsProxy: "proxy corp" },
      'hookgate:network.httpsProxy "proxy corp" is not an http(s) URL',
    ],
    [
      "another scheme",
      { httpsProxy: "socks5://proxy:1080" },
      "is not an http(s) URL (like http://proxy.example.com:3128)",
    ],
    ["a path", { httpsProxy: `${PROXY}/x` }, "must be only a scheme, host and port"],
    [
      "port 0, which no proxy listens on (the security group would open port 0)",
      { httpsProxy: "http://proxy.corp.example:0" },
      'hookgate:network.httpsProxy "http://proxy.corp.example:0" names port 0: give the port the proxy listens on, 1 to 65535',
    ],
    [
      "a noProxy without httpsProxy",
      { noProxy: ["jenkins.corp"] },
      "hookgate:network.noProxy only applies with network.httpsProxy",
    ],
    [
      "a CIDR in noProxy",
      { httpsProxy: PROXY, noProxy: ["10.0.0.0/8"] },
      'hookgate:network.noProxy entry "10.0.0.0/8" is not valid: a host, .domain, host:port, [IPv6 address] or * (CIDRs are not matched)',
    ],
    [
      "* beside other entries, which undici then never matches",
      { httpsProxy: PROXY, noProxy: ["*", "jenkins.corp"] },
      "hookgate:network.noProxy: * sends every host direct only alone",
    ],
  ];
  for (const [what, network, message] of refused) {
    it(`refuses ${what} with a clear message`, () => {
      expect(configProblems({ network }).join("\n")).to.contain(message);
    });
  }

  it("refuses a URL with a password, which would sit in plain Lambda environment variables, and never echoes it", () => {
    for (const httpsProxy of [
      "http://svc:Hunter2-pr0xy@proxy.corp.example:3128",
      "http://svc:Hunter2-pr0xy@bad url",
    ]) {
      const found = configProblems({ network: { httpsProxy } }).join("\n");
      expect(found).to.match(/carries credentials|is not an http\(s\) URL/);
      expect(found).not.to.contain("Hunter2-pr0xy");
    }
    expect(
      configProblems({ network: { httpsProxy: "http://svc:Hunter2-pr0xy@proxy.corp.example:3128" } })[0],
    ).to.contain("Let the proxy admit the Lambdas' subnets");
  });
});

describe("routeEnvironment, natlessWarning and networkWarnings with an egress proxy", () => {
  const values = {
    route: jenkinsRoute(),
    queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo",
    deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/q-dlq.fifo",
    dedupeTable: "hookgate-dev-dedupe",
  };

  it("routeEnvironment sets HTTPS_PROXY, HTTP_PROXY and NO_PROXY only when the proxy is configured", () => {
    const vars = routeEnvironment({
      ...values,
      egressProxy: { url: PROXY, port: 3128, noProxy: ["jenkins.corp", ".internal"] },
    });
    expect(vars).to.include({ HTTPS_PROXY: PROXY, HTTP_PROXY: PROXY, NO_PROXY: "jenkins.corp,.internal" });
    expect(
      routeEnvironment({ ...values, egressProxy: { url: PROXY, port: 3128, noProxy: [] } }),
    ).not.to.have.property("NO_PROXY");
    expect(routeEnvironment(values)).not.to.have.any.keys("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY");
  });

  it("natlessWarning names the routes that call a Git host without a NAT, and is silent once a proxy is the way out", () => {
    const routes = [jenkinsRoute(), s3ZipRoute()];
    expect(natlessWarning(config({ network: { natGateways: "none" } }), routes)).to.contain(
      "routes source-zip call the Git host's API and cannot reach it without a NAT or an egress proxy (network.httpsProxy)",
    );
    expect(natlessWarning(config({ network: { natGateways: "none", httpsProxy: PROXY } }), routes)).to.equal(
      undefined,
    );
    expect(natlessWarning(config({ network: { natGateways: "single" } }), routes)).to.equal(undefined);
  });

  it("networkWarnings names a Jenkins host the proxy would get, until network.noProxy lists it (host, .domain, host:port, *)", () => {
    const routes = [jenkinsRoute()];
    const warned = networkWarnings(config({ network: { httpsProxy: PROXY } }), routes).join("\n");
    expect(warned).to.contain(
      "the Jenkins host(s) jenkins.internal.example.com:8443 are not in network.noProxy: their builds go through the proxy",
    );
    for (const noProxy of [
      "jenkins.internal.example.com",
      ".example.com",
      "*.internal.example.com",
      "jenkins.internal.example.com:8443",
      "*",
    ]) {
      expect(
        jenkinsThroughProxy(config({ network: { httpsProxy: PROXY, noProxy } }), routes),
        noProxy,
      ).to.deep.equal([]);
    }
    for (const noProxy of ["jenkins.internal.example.com:443", "other.example.com", "internal.example.co"]) {
      expect(
        jenkinsThroughProxy(config({ network: { httpsProxy: PROXY, noProxy } }), routes),
        noProxy,
      ).to.deep.equal(["jenkins.internal.example.com:8443"]);
    }
    expect(jenkinsThroughProxy(config(), routes)).to.deep.equal([]);
    // As undici reads NO_PROXY "*,other.example.com": the * matches nothing, so Jenkins goes through the proxy.
    const listed = config({ network: { httpsProxy: PROXY } });
    const starInList = {
      ...listed,
      network: {
        ...listed.network,
        egressProxy: { url: PROXY, port: 3128, noProxy: ["*", "other.example.com"] },
      },
    } as typeof listed;
    expect(jenkinsThroughProxy(starInList, routes)).to.deep.equal(["jenkins.internal.example.com:8443"]);
  });
});

describe("Function: gitHostApisThroughProxy(config, routes)", () => {
  /** `route` calling `provider`'s API at `apiUrl` (providers.<name>.apiUrl). */
  const calling = (route: Route, provider: Provider, apiUrl: string): Route =>
    ({
      ...route,
      provider,
      action: { ...route.action, api: { provider, apiUrl, token: "hookgate/token" } },
    }) as Route;
  const selfHosted = [
    calling(s3ZipRoute("ghe-zip"), "github", "https://ghe.internal.example.com/api/v3"),
    calling(prCleanupRoute("gitea-cleanup"), "gitea", "https://git.internal.example.com:3000/api/v1"),
    calling(s3ZipRoute("gitlab-zip"), "gitlab", "https://gitlab.corp.example/api/v4"),
    calling(
      prCleanupRoute("bbs-cleanup"),
      "bitbucket-server",
      "https://bitbucket.corp.example/rest/api/latest",
    ),
  ];
  const publicHosts = [
    s3ZipRoute("github-zip"),
    calling(s3ZipRoute("gitlab-com-zip"), "gitlab", "https://gitlab.com/api/v4"),
    calling(prCleanupRoute("bitbucket-cleanup"), "bitbucket", "https://api.bitbucket.org/2.0"),
    // GitHub Enterprise Cloud with data residency: on the internet, like api.github.com.
    calling(s3ZipRoute("ghe-com-zip"), "github", "https://api.octocorp.ghe.com"),
  ];
  const noJenkins = "jenkins.internal.example.com";

  it("networkWarnings names the self-hosted Git host APIs the proxy would get, and not api.github.com, api.<subdomain>.ghe.com, gitlab.com or api.bitbucket.org", () => {
    const warned = networkWarnings(config({ network: { httpsProxy: PROXY, noProxy: noJenkins } }), [
      ...selfHosted,
      ...publicHosts,
    ]);
    expect(warned).to.include(
      "network.httpsProxy is set, and the self-hosted Git host API(s) bitbucket.corp.example:443, " +
        "ghe.internal.example.com:443, git.internal.example.com:3000, gitlab.corp.example:443 are not in " +
        "network.noProxy: the s3-zip and pr-cleanup calls to them go through the proxy; list them in " +
        "network.noProxy if the proxy cannot reach them (a Git host on the private network)",
    );
    expect(
      networkWarnings(config({ network: { httpsProxy: PROXY, noProxy: noJenkins } }), publicHosts),
    ).to.deep.equal([]);
    expect(gitHostApisThroughProxy(config(), selfHosted)).to.deep.equal([]);
  });

  it("gitHostApisThroughProxy is silent for a host network.noProxy lists (host, .domain, host:port, *), as undici matches it", () => {
    const ghe = [selfHosted[0] as Route];
    for (const noProxy of [
      "ghe.internal.example.com",
      ".internal.example.com",
      "*.example.com",
      "ghe.internal.example.com:443",
      "*",
    ]) {
      expect(
        gitHostApisThroughProxy(config({ network: { httpsProxy: PROXY, noProxy } }), ghe),
        noProxy,
      ).to.deep.equal([]);
    }
    for (const noProxy of [
      "ghe.internal.example.com:3000",
      "internal.example.co",
      "git.internal.example.com",
    ]) {
      expect(
        gitHostApisThroughProxy(config({ network: { httpsProxy: PROXY, noProxy } }), ghe),
        noProxy,
      ).to.deep.equal(["ghe.internal.example.com:443"]);
    }
  });
});

describe("Function: networkWarnings, a network.noProxy entry with a trailing dot", () => {
  it("networkWarnings says a network.noProxy name with a trailing dot matches only URLs written with it, naming the entry to list", () => {
    const network = {
      httpsProxy: PROXY,
      noProxy: ["jenkins.internal.example.com", "git.corp.test.", ".corp.test.:8443"],
    };
    expect(networkWarnings(config({ network }), [jenkinsRoute()])).to.deep.equal([
      'network.noProxy entry "git.corp.test." matches only URLs written with the trailing dot; for http://git.corp.test/ list git.corp.test',
      'network.noProxy entry ".corp.test.:8443" matches only URLs written with the trailing dot; for http://<host>.corp.test:8443/ list .corp.test:8443',
    ]);
  });

  it("networkWarnings says nothing of a trailing-dot entry that a route's URL written with the dot matches (a Jenkins URL, a Git host API)", () => {
    const build = jenkinsRoute();
    if (build.action.type !== "jenkins") throw new Error("fixture");
    build.action.jenkins = { ...build.action.jenkins, url: "https://jenkins.corp.test.:8443" };
    const zip = s3ZipRoute();
    if (zip.action.type !== "s3-zip") throw new Error("fixture");
    zip.action.api = { ...zip.action.api, apiUrl: "https://github.git.test./api/v3" };
    const network = { httpsProxy: PROXY, noProxy: ["jenkins.corp.test.", ".git.test."] };
    expect(networkWarnings(config({ network }), [build, zip])).to.deep.equal([]);
  });

  it("networkWarnings' trailing-dot note gives the scheme of the route's URL the entry is meant for (https://jenkins.corp.test:8443)", () => {
    const build = jenkinsRoute();
    if (build.action.type !== "jenkins") throw new Error("fixture");
    build.action.jenkins = { ...build.action.jenkins, url: "https://jenkins.corp.test:8443" };
    const network = { httpsProxy: PROXY, noProxy: ["jenkins.corp.test.", "jenkins.corp.test"] };
    expect(networkWarnings(config({ network }), [build])).to.deep.equal([
      'network.noProxy entry "jenkins.corp.test." matches only URLs written with the trailing dot; for https://jenkins.corp.test/ list jenkins.corp.test',
    ]);
  });
});

describe("Function: networkWarnings, an IPv6 proxy address", () => {
  it("networkWarnings says an IPv6 proxy address is out of the functions' reach, and is silent for IPv4 or a name", () => {
    const routes = [jenkinsRoute()];
    const warned = networkWarnings(
      config({ network: { httpsProxy: "http://[fd00::10]:3128", noProxy: "jenkins.internal.example.com" } }),
      routes,
    );
    expect(warned).to.deep.equal([
      "network.httpsProxy http://[fd00::10]:3128 is an IPv6 address, which the route functions cannot reach: " +
        "hookgate does not turn on their outbound IPv6 (ipv6AllowedForDualStack, for dual-stack subnets only), " +
        "and the VPC it creates has no IPv6; give the proxy's IPv4 address or its name",
    ]);
    for (const httpsProxy of [PROXY, "http://10.0.0.10:3128", "http://[::ffff:10.0.0.10]:3128"]) {
      const network = { httpsProxy, noProxy: "jenkins.internal.example.com" };
      expect(networkWarnings(config({ network }), routes), httpsProxy).to.deep.equal([]);
    }
  });
});

describe("Gateway (under Pulumi mocks): network.httpsProxy", () => {
  it("sets the proxy variables on every route function and opens the proxy's port in the Lambdas' security group", async () => {
    const routes = allKinds();
    const { cloud } = await evaluate({
      config: config({
        network: { natGateways: "none", httpsProxy: PROXY, noProxy: ["jenkins.internal.example.com"] },
      }),
      routes,
      code: stubCode,
    });
    const functions = cloud.ofType("aws:lambda/function:Function");
    expect(functions).to.have.length(routes.length);
    for (const fn of functions) {
      expect(fn.inputs.environment.variables, fn.name).to.include({
        HTTPS_PROXY: PROXY,
        HTTP_PROXY: PROXY,
        NO_PROXY: "jenkins.internal.example.com",
      });
    }
    expect(environmentLeaks(cloud, []), "only the contract's variables").to.deep.equal([]);
    const sg = cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda"));
    expect(sg).to.have.length(1);
    const egress = sg[0]?.inputs.egress.map(
      (e: { fromPort: number; toPort: number; description: string }) => [e.description, e.fromPort, e.toPort],
    );
    expect(egress).to.deep.include(["egress proxy", 3128, 3128]);
  });

  /** The Lambdas' egress rules as [description, port, IPv4 CIDRs, IPv6 CIDRs]. */
  const lambdaEgress = async (network: Record<string, unknown>, jenkins: Record<string, unknown> = {}) => {
    const { cloud } = await evaluate({
      config: config({ network, jenkins }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const sg = cloud.ofType("aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-lambda"));
    expect(sg).to.have.length(1);
    return (
      (sg[0]?.inputs.egress ?? []) as Array<{
        description: string;
        fromPort: number;
        cidrBlocks?: string[];
        ipv6CidrBlocks?: string[];
      }>
    ).map((e) => [e.description, e.fromPort, e.cidrBlocks, e.ipv6CidrBlocks]);
  };

  it("opens the proxy's port to every IPv4 address for a host name, whose addresses are not known at deploy time", async () => {
    expect(await lambdaEgress({ httpsProxy: PROXY })).to.deep.include([
      "egress proxy",
      3128,
      ["0.0.0.0/0"],
      undefined,
    ]);
  });

  it("opens the proxy's port to its address alone when the URL names one: an IPv4 /32, an IPv6 /128", async () => {
    const v4 = await lambdaEgress({ httpsProxy: "http://10.0.0.10:3128" });
    expect(v4.filter((rule) => rule[0] === "egress proxy")).to.deep.equal([
      ["egress proxy", 3128, ["10.0.0.10/32"], undefined],
    ]);
    const v6 = await lambdaEgress({ httpsProxy: "http://[FD00:0::10]:3128" });
    expect(v6.filter((rule) => rule[0] === "egress proxy")).to.deep.equal([
      ["egress proxy", 3128, undefined, ["fd00::10/128"]],
    ]);
    // 443 is open to every IPv4 address, not to an IPv6 one.
    const v6On443 = await lambdaEgress({ httpsProxy: "https://[fd00::10]" });
    expect(v6On443.filter((rule) => rule[0] === "egress proxy")).to.deep.equal([
      ["egress proxy", 443, undefined, ["fd00::10/128"]],
    ]);
  });

  it("adds no IPv4 /32 that a Jenkins rule already holds on that port (EC2 refuses a repeated rule), and keeps it beside a wider one", async () => {
    const proxy = { httpsProxy: "http://10.0.0.10:8443" };
    const same = await lambdaEgress(proxy, { cidrs: ["10.0.0.10/32"] });
    expect(same.filter((rule) => rule[1] === 8443)).to.deep.equal([
      ["Jenkins controller", 8443, ["10.0.0.10/32"], undefined],
    ]);
    const wider = await lambdaEgress(proxy, { cidrs: ["10.0.0.0/24"] });
    expect(wider.filter((rule) => rule[1] === 8443)).to.deep.equal([
      ["Jenkins controller", 8443, ["10.0.0.0/24"], undefined],
      ["egress proxy", 8443, ["10.0.0.10/32"], undefined],
    ]);
  });

  it("opens no second rule for a proxy on 443 or on a port already open to every address", async () => {
    for (const httpsProxy of [
      "https://proxy.corp.example",
      "http://proxy.corp.example:8443",
      "https://10.0.0.10",
      "http://10.0.0.10:8443",
    ]) {
      const { cloud } = await evaluate({
        config: config({ network: { httpsProxy } }),
        routes: [jenkinsRoute()],
        code: stubCode,
      });
      const sg = cloud
        .ofType("aws:ec2/securityGroup:SecurityGroup")
        .filter((r) => r.name.endsWith("-lambda"));
      const ports = sg[0]?.inputs.egress.map((e: { fromPort: number }) => e.fromPort).sort();
      expect(ports, httpsProxy).to.deep.equal([443, 8443]);
    }
  });
});

describe("Function: proxyEgressDestination(url)", () => {
  it("proxyEgressDestination is the URL's IP address alone (/32, /128), as the URL parser writes it", () => {
    expect(proxyEgressDestination("http://10.0.0.10:3128")).to.deep.equal({ cidrBlocks: ["10.0.0.10/32"] });
    // WHATWG URLs write every IPv4 form as four decimals.
    expect(proxyEgressDestination("http://10.1:3128")).to.deep.equal({ cidrBlocks: ["10.0.0.1/32"] });
    expect(proxyEgressDestination("http://[fd00:0:0::a]:3128")).to.deep.equal({
      ipv6CidrBlocks: ["fd00::a/128"],
    });
    // An IPv4-mapped address is reached over IPv4: the rule is the IPv4 one.
    expect(proxyEgressDestination("http://[::ffff:10.0.0.10]:3128")).to.deep.equal({
      cidrBlocks: ["10.0.0.10/32"],
    });
  });

  it("proxyEgressDestination is every IPv4 address for a host name, a name that only looks like an address included", () => {
    for (const url of [PROXY, "http://10.0.0.10.nip.example:3128", "http://proxy-10-0-0-10:3128"]) {
      expect(proxyEgressDestination(url), url).to.deep.equal({ cidrBlocks: ["0.0.0.0/0"] });
    }
  });
});
