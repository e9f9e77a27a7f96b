// Outbound HTTP through an egress proxy: real servers on 127.0.0.1 (a Git host, a Jenkins, a forward
// proxy). The environment is passed explicitly (proxySettings(env)), never through process.env.
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { expect } from "chai";
import { EnvHttpProxyAgent, request } from "undici";
import { gitHostClient } from "../../src/actions/gitHost";
import { httpRequest, proxyAgent, proxyDispatcher } from "../../src/actions/http";
import { triggerJenkins } from "../../src/actions/jenkins";
import {
  bypassesProxy,
  type ProxyEnv,
  type ProxySettings,
  ProxySettingsError,
  proxySettings,
} from "../../src/actions/proxy";
import type { ActionClients } from "../../src/actions/types";
import { ActionError } from "../../src/core/errors";
import type { Provider, QueuedEvent, S3ZipRequest } from "../../src/core/types";
import { FsObjectStore } from "../../src/local/fsObjectStore";
import {
  type ForwardProxy,
  type StalledProxy,
  startForwardProxy,
  startStalledProxy,
} from "../support/forwardProxy";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import type { MemorySecretStore } from "../support/secrets";
import { readZip } from "../support/zips";
import {
  HOST_TOKEN,
  JENKINS_TOKEN,
  JENKINS_USER,
  rejectsWithActionError,
  testClients,
  upload,
} from "./helpers";

const tls = join(__dirname, "..", "fixtures", "tls");
const certificate = {
  key: readFileSync(join(tls, "server.key")),
  cert: readFileSync(join(tls, "server.pem")),
};
const SHA = "0123456789abcdef0123456789abcdef01234567";
const BUCKET = "artifacts";
const KEY = "acme/api/main/acme_api.zip";
const REPO = { owner: "acme", name: "api", fullName: "acme/api" };
const PASSWORD = "pr0xy-s3cret-Pa55";

function pushEvent(provider: Provider = "github"): QueuedEvent {
  return {
    provider,
    deliveryId: "d-1",
    event: "push",
    repo: { ...REPO, cloneUrl: "https://example.com/acme/api.git", defaultBranch: "main" },
    ref: "refs/heads/main",
    branch: "main",
    sha: SHA,
    deleted: false,
  } as QueuedEvent;
}

/** An error and everything it carries (message, publicMessage, cause) as text. */
function everything(err: unknown): string {
  const e = err as ActionError;
  return `${e.message}\n${e.publicMessage ?? ""}\n${inspect(err, { depth: 10 })}`;
}

describe("Function: proxySettings(env)", () => {
  it("proxySettings is undefined without a proxy variable: outbound calls stay direct", () => {
    expect(proxySettings({})).to.equal(undefined);
    expect(proxySettings({ NO_PROXY: "example.com", HTTPS_PROXY: " " })).to.equal(undefined);
  });

  it("proxySettings reads the lower-case variables first, adds http:// to a bare host:port, and keeps NO_PROXY as given", () => {
    const env: ProxyEnv = {
      https_proxy: "proxy.corp:3128",
      HTTPS_PROXY: "http://ignored:1",
      HTTP_PROXY: "http://proxy.corp:3128",
      NO_PROXY: "jenkins.corp, .internal,git.corp:8443",
    };
    expect(proxySettings(env)).to.deep.equal({
      httpsProxy: "http://proxy.corp:3128/",
      httpProxy: "http://proxy.corp:3128/",
      noProxy: "jenkins.corp, .internal,git.corp:8443",
    });
  });

  it('proxySettings drops a path, query or fragment, as curl does: undici\'s ProxyAgent would throw "invalid url"', async () => {
    const settings = proxySettings({
      HTTPS_PROXY: `http://u:${PASSWORD}@proxy.corp:3128/some/path?x=1#y`,
      http_proxy: "proxy.corp:3128/",
    });
    expect(settings).to.deep.equal({
      httpsProxy: `http://u:${PASSWORD}@proxy.corp:3128/`,
      httpProxy: "http://proxy.corp:3128/",
      noProxy: "",
    });
    await proxyAgent(settings as ProxySettings).destroy();
  });

  it("proxySettings refuses a value that is no http(s) URL, naming the variable and never its value", () => {
    for (const value of [
      `ftp://u:${PASSWORD}@proxy:21`,
      `http://u:${PASSWORD}@`,
      `socks5://u:${PASSWORD}@p:1`,
      // undici's ProxyAgent would throw "URI malformed" at the first call, not at start.
      `http://u:${PASSWORD}%zz@proxy:3128`,
    ]) {
      let error: unknown;
      try {
        proxySettings({ HTTPS_PROXY: value });
      } catch (err) {
        error = err;
      }
      expect(error, value).to.be.instanceOf(ProxySettingsError);
      expect((error as Error).message).to.match(/^HTTPS_PROXY is not an http\(s\) proxy URL/);
      expect(everything(error)).to.not.contain(PASSWORD);
    }
  });
});

describe("Function: bypassesProxy(noProxy, url)", () => {
  // [NO_PROXY, URL, sent direct]: the forms undici reads, and the near misses that still go through the proxy.
  const cases: Array<[string, string, boolean]> = [
    ["", "http://git.corp.test:8080/", false],
    ["*", "http://git.corp.test:8080/", true],
    ["*,other.test", "http://git.corp.test:8080/", false],
    ["git.corp.test", "http://git.corp.test:8080/", true],
    ["GIT.Corp.Test", "http://git.corp.test:8080/", true],
    [".corp.test", "http://git.corp.test:8080/", true],
    ["*.corp.test", "http://git.corp.test:8080/", true],
    ["corp.test", "http://git.corp.test:8080/", true],
    ["orp.test", "http://git.corp.test:8080/", false],
    ["other.test git.corp.test", "http://git.corp.test:8080/", true],
    ["git.corp.test:8080", "http://git.corp.test:8080/", true],
    ["git.corp.test:1", "http://git.corp.test:8080/", false],
    ["git.corp.test:443", "https://git.corp.test/", true],
    ["git.corp.test:80", "https://git.corp.test/", false],
    ["git.corp.test:80", "http://git.corp.test/", true],
    // The port in decimal, leading zeros too; 0 is every port (undici's "no port"), past 65535 no URL's.
    ["git.corp.test:08080", "http://git.corp.test:8080/", true],
    ["git.corp.test:0", "http://git.corp.test:8080/", true],
    ["git.corp.test:73616", "http://git.corp.test:8080/", false],
    ["git.corp.test:+8080", "http://git.corp.test:8080/", false],
    // A .domain or *.domain is the domain itself too, as a plain domain is its subdomains too.
    [".corp.test", "http://corp.test:8080/", true],
    ["*.corp.test", "http://corp.test:8080/", true],
    ["10.0.0.0/8", "http://10.0.0.5:8080/", false],
    // An address is compared in the form the URL parser writes it; a name may hold an underscore.
    ["127.0.0.01", "http://127.0.0.1:8080/", false],
    ["[0:0::1]", "http://[::1]:8080/", false],
    ["git_ci.corp.test", "http://git_ci.corp.test:8080/", true],
    [".0.1", "http://127.0.0.1:8080/", true],
    ["127.0.0.1", "http://127.0.0.1:8080/", true],
    // Nothing is exempt by default, not even localhost; an IPv6 host is matched with its brackets.
    ["", "http://localhost:8080/", false],
    ["::1", "http://[::1]:8080/", false],
    ["[::1]", "http://[::1]:8080/", true],
  ];

  it("bypassesProxy(NO_PROXY, url) reads hosts, .domains, *.domains, host:port, spaces and a lone *", () => {
    for (const [noProxy, url, direct] of cases) {
      expect(bypassesProxy(noProxy, new URL(url)), `NO_PROXY=${noProxy} ${url}`).to.equal(direct);
    }
  });

  it("bypassesProxy(list, url) reads a list as the NO_PROXY it becomes, its entries joined with commas", () => {
    const url = new URL("https://jenkins.internal.example.com:8443/");
    expect(bypassesProxy([], url)).to.equal(false);
    expect(bypassesProxy(["*"], url)).to.equal(true);
    expect(bypassesProxy(["*", "other.example.com"], url)).to.equal(false);
    expect(bypassesProxy(["other.example.com", ".example.com"], url)).to.equal(true);
  });

  it("bypassesProxy agrees with undici's EnvHttpProxyAgent on every case (which calls reach the proxy)", async () => {
    const proxy = await startForwardProxy();
    try {
      for (const [noProxy, url, direct] of cases) {
        // The proxy answers 502 for what it cannot reach; a direct call to a test name fails to resolve.
        const agent = new EnvHttpProxyAgent({ httpProxy: proxy.url, httpsProxy: proxy.url, noProxy });
        const before = proxy.requests.length;
        try {
          const answer = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(5_000) });
          await answer.body.dump();
        } catch {
          // the outcome is where the call went, not how it ended
        } finally {
          await agent.destroy();
        }
        expect(proxy.requests.length > before, `NO_PROXY=${noProxy} ${url}`).to.equal(!direct);
        expect(bypassesProxy(noProxy, new URL(url)), `NO_PROXY=${noProxy} ${url}`).to.equal(direct);
      }
    } finally {
      await proxy.close();
    }
  });
});

describe("Outbound HTTP through an egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)", () => {
  let proxy: ForwardProxy;
  let host: GitHostServer;
  let root: string;
  beforeEach(async () => {
    proxy = await startForwardProxy();
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
    root = await mkdtemp(join(tmpdir(), "hookgate-proxy-"));
  });
  afterEach(async () => {
    await proxy.close();
    await host.close();
    await rm(root, { recursive: true, force: true });
  });

  const clients = (env: ProxyEnv, secrets: Record<string, string> = {}): ActionClients => {
    const c = testClients({ objects: new FsObjectStore(root), proxy: proxySettings(env) });
    for (const [name, value] of Object.entries(secrets)) (c.secrets as MemorySecretStore).set(name, value);
    return c;
  };
  const zipRequest = (apiUrl: string, caBundle?: string): S3ZipRequest => ({
    type: "s3-zip",
    api: { provider: "github", apiUrl, token: "hookgate/github-token", caBundle },
    bucket: BUCKET,
    key: KEY,
  });
  const hostPort = (url: string) => new URL(url).host;

  it("a Git host API call and an archive download with its redirect go through HTTP_PROXY as absolute-URI requests", async () => {
    const c = clients({ HTTP_PROXY: proxy.url });
    const github = await gitHostClient(zipRequest(host.url).api, c);
    expect(await github.getDefaultBranch(REPO)).to.equal("main");
    expect(await upload(zipRequest(host.url), pushEvent(), c)).to.include({ status: "done" });

    expect(proxy.requests.map((r) => [r.kind, r.target])).to.deep.equal([
      ["absolute", hostPort(host.url)],
      ["absolute", hostPort(host.url)],
      // GitHub's 302 to codeload, another origin: also through the proxy, without the token.
      ["absolute", hostPort(host.codeloadUrl)],
    ]);
    expect(host.requests.find((r) => r.listener === "codeload")?.hadAuthorization).to.equal(false);
    expect(
      (await readZip(await readFile(join(root, BUCKET, KEY)))).get("buildspec.yml")?.toString(),
    ).to.equal("version: 0.2\n");
  });

  it("without a proxy variable (or with HTTPS_PROXY alone, for an http target) the same calls go direct", async () => {
    for (const [i, env] of [{}, { HTTPS_PROXY: proxy.url }].entries()) {
      // Two deliveries: the second of one delivery would find its zip in place and download nothing.
      await upload(zipRequest(host.url), { ...pushEvent(), deliveryId: `d-${i + 1}` }, clients(env));
    }
    expect(proxy.requests).to.deep.equal([]);
    expect(host.requests.filter((r) => r.kind === "archive")).to.have.length(4);
  });

  it("a Jenkins trigger goes through HTTP_PROXY, and NO_PROXY listing the Jenkins host sends it direct", async () => {
    const jenkins: JenkinsServer = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    try {
      const request = {
        type: "jenkins" as const,
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: true },
        job: ["api", "build"],
        parameters: { SHA },
      };
      const outcome = await triggerJenkins(request, clients({ HTTP_PROXY: proxy.url }), {
        deliveryId: "d-1",
      });
      expect(outcome.status).to.equal("done");
      expect(proxy.requests.map((r) => [r.kind, r.path])).to.deep.equal([
        ["absolute", "/crumbIssuer/api/json"],
        ["absolute", "/job/api/job/build/buildWithParameters"],
      ]);
      proxy.requests.length = 0;
      await triggerJenkins(request, clients({ HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" }), {
        deliveryId: "d-2",
      });
      expect(proxy.requests).to.deep.equal([]);
      expect(jenkins.builds()).to.have.length(2);
    } finally {
      await jenkins.close();
    }
  });

  it("NO_PROXY sends a listed host direct: the host, host:port, a list, *; another port or host still goes through the proxy", async () => {
    const port = new URL(host.url).port;
    const cases: Array<[string, boolean]> = [
      ["127.0.0.1", false],
      [`127.0.0.1:${port}`, false],
      ["git.example.com, 127.0.0.1", false],
      ["*", false],
      ["127.0.0.1:1", true],
      ["example.com", true],
    ];
    for (const [noProxy, proxied] of cases) {
      proxy.requests.length = 0;
      const github = await gitHostClient(
        zipRequest(host.url).api,
        clients({ HTTP_PROXY: proxy.url, NO_PROXY: noProxy }),
      );
      await github.getDefaultBranch(REPO);
      expect(proxy.requests.length > 0, `NO_PROXY=${noProxy}`).to.equal(proxied);
    }
  });

  it("NO_PROXY's .domain sends its subdomains direct: the proxy resolves git.corp.test, the Lambda does not", async () => {
    await proxy.close();
    proxy = await startForwardProxy({ hosts: { "git.corp.test": "127.0.0.1" } });
    const apiUrl = `http://git.corp.test:${new URL(host.url).port}`;
    const through = await gitHostClient(zipRequest(apiUrl).api, clients({ HTTP_PROXY: proxy.url }));
    expect(await through.getDefaultBranch(REPO)).to.equal("main");
    expect(proxy.requests.map((r) => r.target)).to.deep.equal([hostPort(apiUrl)]);

    proxy.requests.length = 0;
    const direct = await gitHostClient(
      zipRequest(apiUrl).api,
      clients({ HTTP_PROXY: proxy.url, NO_PROXY: ".corp.test" }),
    );
    const err = await rejectsWithActionError(direct.getDefaultBranch(REPO));
    expect(err.message).to.match(/could not be reached: (ENOTFOUND|EAI_AGAIN)/);
    expect(proxy.requests).to.deep.equal([]);
  });

  it("sends the proxy URL's credentials as Proxy-Authorization, and no error names its password (407, proxy down)", async () => {
    await proxy.close();
    proxy = await startForwardProxy({ auth: { user: "hookgate", password: PASSWORD } });
    const withCredentials = (password: string, url = proxy.url) => {
      const u = new URL(url);
      u.username = "hookgate";
      u.password = password;
      return u.href;
    };
    const github = await gitHostClient(
      zipRequest(host.url).api,
      clients({ HTTP_PROXY: withCredentials(PASSWORD) }),
    );
    expect(await github.getDefaultBranch(REPO)).to.equal("main");
    expect(proxy.requests[0]?.proxyAuthorization).to.equal(
      `Basic ${Buffer.from(`hookgate:${PASSWORD}`).toString("base64")}`,
    );

    // A wrong password: 407, final, naming the proxy without its credentials.
    const wrong = `${PASSWORD}-old`;
    const refused = await rejectsWithActionError(
      (
        await gitHostClient(zipRequest(host.url).api, clients({ HTTP_PROXY: withCredentials(wrong) }))
      ).getDefaultBranch(REPO),
    );
    expect(refused.retryable).to.equal(false);
    expect(refused.message).to.equal(
      `GitHub API: the egress proxy ${proxy.url} refused the connection to ${new URL(host.url).origin} (407): it asks for credentials; give them in the proxy URL (http://user:password@host:port), or, for the deployed functions, have the proxy admit their subnets`,
    );
    expect(everything(refused)).to.not.contain(wrong).and.not.contain("hookgate:");

    // Tunnelled (an https target): the CONNECT is refused the same way.
    const tunnelled = await rejectsWithActionError(
      (
        await gitHostClient(
          { provider: "github", apiUrl: "https://127.0.0.1:1", token: "hookgate/github-token" },
          clients({ HTTPS_PROXY: withCredentials(wrong) }),
        )
      ).getDefaultBranch(REPO),
    );
    expect(tunnelled.message).to.contain(
      `the egress proxy ${proxy.url} refused the connection to https://127.0.0.1:1 (407)`,
    );
    expect(everything(tunnelled)).to.not.contain(wrong);

    // The proxy is down: retryable, naming it without its credentials.
    const port = proxy.port;
    await proxy.close();
    const down = await rejectsWithActionError(
      (
        await gitHostClient(
          zipRequest(host.url).api,
          clients({ HTTP_PROXY: withCredentials(PASSWORD, `http://127.0.0.1:${port}`) }),
        )
      ).getDefaultBranch(REPO),
    );
    expect(down.retryable).to.equal(true);
    expect(down.message).to.contain(
      `(through the proxy http://127.0.0.1:${port}, unless NO_PROXY lists the host)`,
    );
    expect(everything(down)).to.not.contain(PASSWORD);
    proxy = await startForwardProxy();
  });
});

describe("Outbound HTTPS through a proxy that never answers the CONNECT", () => {
  let stalled: StalledProxy;
  before(async () => {
    stalled = await startStalledProxy();
  });
  after(() => stalled.close());

  it("httpRequest times out at its limit and at the function's deadline, not at undici's 300 s for the proxy's answer", async function () {
    this.timeout(20_000);
    const uri = `http://127.0.0.1:${stalled.port}`;
    const dispatcher = proxyDispatcher({ httpsProxy: uri, httpProxy: uri, noProxy: "" });
    const call = {
      method: "GET",
      url: "https://git.corp.test/api/v3/repos/acme/api",
      what: "GitHub API",
      dispatcher,
    } as const;
    // Without the fix each call waits for undici's 300 s: the test's timeout fails it.
    const limited = await httpRequest({ ...call, timeoutMs: 500 }).catch((error: unknown) => error);
    expect((limited as ActionError).message).to.equal("GitHub API timed out after 500 ms");
    expect((limited as ActionError).retryable).to.equal(true);
    const cut = await httpRequest({ ...call, deadlineMs: Date.now() + 300 }).catch((error: unknown) => error);
    expect((cut as ActionError).message).to.match(
      /^GitHub API timed out after \d+ ms, where the function's time ran out$/,
    );
  });
});

describe("Outbound HTTPS to a host with a private CA through the proxy's tunnel (caBundle)", () => {
  const ca = readFileSync(join(tls, "ca.pem"), "utf8");
  let proxy: ForwardProxy;
  let host: GitHostServer;
  let root: string;
  before(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN, tls: certificate });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
  });
  after(async () => {
    await host.close();
  });
  beforeEach(async () => {
    proxy = await startForwardProxy();
    root = await mkdtemp(join(tmpdir(), "hookgate-proxy-ca-"));
    host.requests.length = 0;
  });
  afterEach(async () => {
    await proxy.close();
    await rm(root, { recursive: true, force: true });
  });

  const request = (caBundle?: string): S3ZipRequest => ({
    type: "s3-zip",
    api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token", caBundle },
    bucket: BUCKET,
    key: KEY,
  });
  const clients = (secrets: Record<string, string> = {}) => {
    const c = testClients({
      objects: new FsObjectStore(root),
      proxy: proxySettings({ HTTPS_PROXY: proxy.url }),
    });
    for (const [name, value] of Object.entries(secrets)) (c.secrets as MemorySecretStore).set(name, value);
    return c;
  };

  it("uploadSourceZip verifies the host with its caBundle through CONNECT tunnels, the codeload redirect's included", async () => {
    const outcome = await upload(
      request("hookgate/corp-ca"),
      pushEvent(),
      clients({ "hookgate/corp-ca": ca }),
    );
    expect(outcome.status).to.equal("done");
    expect(proxy.requests.map((r) => [r.kind, r.target])).to.deep.equal([
      ["connect", new URL(host.url).host],
      ["connect", new URL(host.codeloadUrl).host],
    ]);
    expect(host.requests.map((r) => r.listener)).to.deep.equal(["api", "codeload"]);
  });

  it("uploadSourceZip through the tunnel is refused as not trusted without the caBundle, or with an unrelated CA", async () => {
    const without = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(without.message).to.contain("not trusted: add its CA with caBundle");
    const unrelated = await rejectsWithActionError(
      upload(
        request("hookgate/other-ca"),
        pushEvent(),
        clients({ "hookgate/other-ca": readFileSync(join(tls, "other-ca.pem"), "utf8") }),
      ),
    );
    expect(unrelated.message).to.contain("not trusted: add its CA with caBundle");
    // The tunnel was opened both times: the target's certificate, not the proxy, was refused.
    expect(proxy.requests.map((r) => r.kind)).to.deep.equal(["connect", "connect"]);
    expect(host.requests).to.deep.equal([]);
    expect(without).to.be.instanceOf(ActionError);
  });
});

describe("Outbound HTTPS through the proxy's tunnel to a host whose caBundle holds only its issuing CA", () => {
  const pem = (name: string) => readFileSync(join(tls, name), "utf8");
  let proxy: ForwardProxy;
  let host: GitHostServer;
  let root: string;
  before(async () => {
    // The host serves its certificate with the issuing CA, which the root CA signed.
    host = await startGitHostServer({
      token: HOST_TOKEN,
      tls: { key: pem("chain-server.key"), cert: pem("chain-server.pem") + pem("chain-issuing-ca.pem") },
    });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
    proxy = await startForwardProxy();
    root = await mkdtemp(join(tmpdir(), "hookgate-proxy-chain-"));
  });
  after(async () => {
    await proxy.close();
    await host.close();
    await rm(root, { recursive: true, force: true });
  });

  it("uploadSourceZip trusts the Git host through CONNECT tunnels when its caBundle holds only the issuing (intermediate) CA", async () => {
    const clients = testClients({
      objects: new FsObjectStore(root),
      proxy: proxySettings({ HTTPS_PROXY: proxy.url }),
    });
    (clients.secrets as MemorySecretStore).set("hookgate/issuing-ca", pem("chain-issuing-ca.pem"));
    const outcome = await upload(
      {
        type: "s3-zip",
        api: {
          provider: "github",
          apiUrl: host.url,
          token: "hookgate/github-token",
          caBundle: "hookgate/issuing-ca",
        },
        bucket: BUCKET,
        key: KEY,
      },
      pushEvent(),
      clients,
    );
    expect(outcome.status).to.equal("done");
    expect(proxy.requests.map((r) => r.kind)).to.deep.equal(["connect", "connect"]);
  });
});
