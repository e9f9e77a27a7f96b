// Behind an egress proxy that allows the Git host's API but not the host its archive redirects to (GitHub's
// codeload.github.com, Gitea's object storage with SERVE_DIRECT), the refusal names that host: the only one
// the route names, the API's, is allowed already.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { dispatcherForCa } from "../../src/actions/http";
import { downloadArchive } from "../../src/actions/s3Zip";
import { rejectsWithActionError, testClients } from "./helpers";

const tls = (name: string) => readFileSync(join(__dirname, "../fixtures/tls", name), "utf8");

describe("s3-zip: an egress proxy refusing the archive's redirect host", function () {
  this.timeout(20_000);
  const servers: Array<http.Server | https.Server> = [];
  let dir: string;
  let apiPort = 0;
  let codeloadPort = 0;
  let proxyUrl = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookgate-proxy-redirect-"));
    const listen = async (server: http.Server | https.Server, host: string) => {
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      return (server.address() as AddressInfo).port;
    };
    const options = { key: tls("server.key"), cert: tls("server.pem") };
    codeloadPort = await listen(
      https.createServer(options, (_req, res) => res.end("PK")),
      "127.0.0.1",
    );
    apiPort = await listen(
      https.createServer(options, (_req, res) => {
        res.writeHead(302, {
          location: `https://localhost:${codeloadPort}/acme/api/legacy.zip/abc?token=T0KEN0123456`,
        });
        res.end();
      }),
      "127.0.0.1",
    );
    // Tunnels to the API's host only, as a proxy with an allowlist of api hosts does.
    const proxy = http.createServer((_req, res) => res.writeHead(403).end());
    proxy.on("connect", (req, socket: net.Socket) => {
      const [host, port] = (req.url ?? "").split(":");
      if (host !== "127.0.0.1") {
        socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        return;
      }
      const upstream = net.connect(Number(port), "127.0.0.1", () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    proxyUrl = `http://127.0.0.1:${await listen(proxy, "127.0.0.1")}/`;
  });
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("names the host the proxy refused, so that it can be allowed", async () => {
    const dispatcher = dispatcherForCa(tls("ca.pem"), {
      httpsProxy: proxyUrl,
      httpProxy: proxyUrl,
      noProxy: "",
    });
    const err = await rejectsWithActionError(
      downloadArchive(
        {
          url: `https://127.0.0.1:${apiPort}/repos/acme/api/zipball/abc`,
          headers: { authorization: "Bearer ghp_proxyRedirect0123456789" },
          dispatcher,
        },
        join(dir, "archive.zip"),
        testClients(),
        "github archive of acme/api",
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain(
      `the egress proxy ${proxyUrl.slice(0, -1)} refused the connection to https://localhost:${codeloadPort} (403): it does not allow this host or port`,
    );
    // The redirect's token and the API's are no part of it.
    expect(err.message).to.not.contain("T0KEN0123456").and.not.contain("ghp_proxyRedirect0123456789");
    expect(err.publicMessage).to.equal(
      "github archive of acme/api: the egress proxy refused the connection (403)",
    );
  });
});
