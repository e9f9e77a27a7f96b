// `hookgate send` to a URL whose TLS fails: one line saying what to do, never OpenSSL's internal coordinates.
import { readFileSync } from "node:fs";
import { createServer as createHttp, type Server } from "node:http";
import { createServer as createHttps } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { expect } from "chai";
import { runBinAsync, sendArgs } from "./checkHarness";
import { NO_PROXY_ENV, REPO_ROOT } from "./serveHarness";

/** The private CA that signed server.pem (IP:127.0.0.1), which Node does not trust by default. */
const TLS = join(REPO_ROOT, "test", "fixtures", "tls");

/** send to `url` as a child process, with NODE_EXTRA_CA_CERTS (read only as Node starts) set to `extraCa`. */
const runSend = (url: string, extraCa = "") =>
  runBinAsync(sendArgs(url), { ...NO_PROXY_ENV, NODE_EXTRA_CA_CERTS: extraCa });

describe("Command: hookgate send, TLS failures explained", function () {
  this.timeout(30_000);
  let https: Server;
  let plain: Server;
  const port = (server: Server) => (server.address() as AddressInfo).port;

  before(async () => {
    const tls = { key: readFileSync(join(TLS, "server.key")), cert: readFileSync(join(TLS, "server.pem")) };
    https = createHttps(tls, (req, res) => {
      req.resume();
      res.writeHead(202).end("{}");
    });
    plain = createHttp((req, res) => {
      req.resume();
      res.writeHead(202).end("{}");
    });
    await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    https.closeAllConnections();
    plain.closeAllConnections();
    await new Promise((r) => https.close(r));
    await new Promise((r) => plain.close(r));
  });

  it("a certificate from a CA Node does not trust says so and how to trust the CA (NODE_EXTRA_CA_CERTS), on one line", async () => {
    const run = await runSend(`https://127.0.0.1:${port(https)}/hooks/x`);
    expect(run.code).to.equal(1);
    expect(run.stderr, run.stderr).to.include(
      "failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate (the server's certificate is not trusted: add its CA (PEM) with NODE_EXTRA_CA_CERTS=/path/to/ca.pem, which Node reads when it starts)",
    );
    expect(run.stderr.trimEnd().split("\n"), run.stderr).to.have.length(1);
  });

  it("the same send with NODE_EXTRA_CA_CERTS naming the CA's PEM is accepted, as the hint says", async () => {
    const run = await runSend(`https://127.0.0.1:${port(https)}/hooks/x`, join(TLS, "ca.pem"));
    expect(run.code, run.stderr).to.equal(0);
  });

  it("an https URL for a plain-http port says the port does not speak TLS, on one line, without OpenSSL's source path", async () => {
    const run = await runSend(`https://127.0.0.1:${port(plain)}/hooks/x`);
    expect(run.code).to.equal(1);
    expect(run.stderr, run.stderr).to.include(
      "failed: ERR_SSL_WRONG_VERSION_NUMBER: wrong version number (that port does not speak TLS: use http:// in --url, or the port that serves https)",
    );
    expect(run.stderr, run.stderr).not.to.match(/ssl3_record\.c|deps\/openssl|:error:/);
    expect(run.stderr.trimEnd().split("\n"), run.stderr).to.have.length(1);
  });

  it("an http URL for an https port, which hangs up without an answer, says to use https://", async () => {
    const run = await runSend(`http://127.0.0.1:${port(https)}/hooks/x`);
    expect(run.code).to.equal(1);
    expect(run.stderr, run.stderr).to.include(
      "other side closed (the server closed the connection without an answer; if that port serves https, use https:// in --url)",
    );
  });
});
