// Through an egress proxy undici's ProxyAgent writes a `host` header into the headers object it is given. The
// callers reuse theirs (a redirect's next hop, Jenkins' later calls and redaction), so httpRequest hands undici a
// copy. Real servers on 127.0.0.1: a forward proxy, an https "API" that redirects, a "codeload" that checks Host.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingHttpHeaders } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { discard, dispatcherForCa, httpRequest, proxyDispatcher } from "../../src/actions/http";
import { triggerJenkins } from "../../src/actions/jenkins";
import { downloadArchive } from "../../src/actions/s3Zip";
import { startForwardProxy } from "../support/forwardProxy";
import { startJenkinsServer } from "../support/jenkinsServer";
import { buildZip } from "../support/zips";
import { JENKINS_TOKEN, JENKINS_USER, rejectsWithActionError, testClients } from "./helpers";

const tls = join(__dirname, "..", "fixtures", "tls");
const cert = { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) };
const ca = readFileSync(join(tls, "ca.pem"), "utf8");

describe("Outbound HTTP through an egress proxy: the caller's headers object", () => {
  it("httpRequest through a proxy leaves the caller's headers object as it was (undici adds host to what it is given)", async () => {
    const target = createHttpServer((_req, res) => res.end("ok"));
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const proxy = await startForwardProxy();
    try {
      const headers = { accept: "application/json" };
      const res = await httpRequest({
        method: "GET",
        url: `http://127.0.0.1:${(target.address() as AddressInfo).port}/`,
        headers,
        dispatcher: proxyDispatcher({ httpProxy: proxy.url, httpsProxy: "", noProxy: "" }),
        what: "Jenkins",
      });
      await discard(res);
      expect(proxy.requests.map((r) => r.kind)).to.deep.equal(["absolute"]);
      expect(headers).to.deep.equal({ accept: "application/json" });
    } finally {
      await proxy.close();
      target.close();
    }
  });

  it("downloadArchive sends a redirect's other origin (GitHub's codeload) its own Host through the CONNECT tunnel, not the API's", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const zip = await buildZip({ "a.txt": "a" }, "acme-api-0123456");
    // A virtual-hosted front answers 421 (Misdirected Request) to a Host that is not its own.
    const codeload = createServer(cert, (req, res) => {
      seen.push(req.headers);
      const own = `127.0.0.1:${(codeload.address() as AddressInfo).port}`;
      if (req.headers.host !== own) res.writeHead(421).end("misdirected");
      else res.writeHead(200, { "content-type": "application/zip" }).end(zip);
    });
    await new Promise<void>((r) => codeload.listen(0, "127.0.0.1", r));
    const codeloadPort = (codeload.address() as AddressInfo).port;
    const api = createServer(cert, (_req, res) => {
      res.writeHead(302, { location: `https://127.0.0.1:${codeloadPort}/acme/api/legacy.zip/main` }).end();
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    const apiPort = (api.address() as AddressInfo).port;
    const proxy = await startForwardProxy();
    const dir = await mkdtemp(join(tmpdir(), "hookgate-proxy-host-"));
    try {
      const { bytes: size } = await downloadArchive(
        {
          url: `https://127.0.0.1:${apiPort}/repos/acme/api/zipball/main`,
          headers: { authorization: "Bearer ghp_test0123456789", accept: "application/vnd.github+json" },
          topFolder: () => true,
          dispatcher: dispatcherForCa(ca, { httpsProxy: proxy.url, httpProxy: "", noProxy: "" }),
        },
        join(dir, "a.zip"),
        testClients(),
        "github archive of acme/api",
      );
      expect(size).to.equal(zip.length);
      expect(proxy.requests.map((r) => r.target)).to.deep.equal([
        `127.0.0.1:${apiPort}`,
        `127.0.0.1:${codeloadPort}`,
      ]);
      expect(seen.map((h) => h.host)).to.deep.equal([`127.0.0.1:${codeloadPort}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await proxy.close();
      api.closeAllConnections();
      codeload.closeAllConnections();
      api.close();
      codeload.close();
    }
  });

  it("triggerJenkins through a proxy names the build an earlier attempt started by its full URL: the Jenkins host is not redacted", async () => {
    const jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "BRANCH" }],
    });
    const proxy = await startForwardProxy();
    try {
      const acceptedAt = new Date().toISOString();
      const request = {
        type: "jenkins" as const,
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
        job: ["api", "build"],
        parameters: { BRANCH: "main" },
      };
      const proxied = { proxy: { httpProxy: proxy.url, httpsProxy: "", noProxy: "" } };
      // The first attempt starts the build but never hears so (the answer hangs past its limit).
      jenkins.script({ hang: true, build: true });
      await rejectsWithActionError(
        triggerJenkins(request, testClients({ ...proxied, timeoutMs: 300 }), {
          deliveryId: "d-1",
          acceptedAt,
          attempt: 1,
        }),
      );
      const clients = testClients(proxied);
      const outcome = await triggerJenkins(request, clients, { deliveryId: "d-1", acceptedAt, attempt: 2 });
      const build = `${jenkins.url}/job/api/job/build/1/`;
      expect(outcome.detail).to.equal(
        `already started as #1 (${build}) by an earlier attempt: not requested again`,
      );
      expect(clients.logs.find((line) => line.msg === "jenkins build already started")?.url).to.equal(build);
    } finally {
      await proxy.close();
      await jenkins.close();
    }
  });
});
