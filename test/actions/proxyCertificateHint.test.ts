// An https:// egress proxy's own certificate is checked against the default roots only (caBundle verifies the
// hosts, through the tunnel): a failure on the way to the proxy says to use its http:// port, not to add a CA.
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { expect } from "chai";
import { errors } from "undici";
import { dispatcherForCa, httpRequest, networkError, proxyDispatcher } from "../../src/actions/http";
import { ActionError } from "../../src/core/errors";

const tls = join(__dirname, "..", "fixtures", "tls");
const cert = { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) };
const ca = readFileSync(join(tls, "ca.pem"), "utf8");
const PASSWORD = "pr0xy-s3cret-Pa55";
const PROXY_HINT =
  "(the egress proxy's certificate is not trusted, and caBundle is for the hosts only: use the proxy's http:// port)";

describe("Outbound HTTPS through an https:// egress proxy whose certificate a private CA signed", () => {
  it("httpRequest says the proxy's certificate is not trusted and to use its http:// port, not to add a CA with caBundle", async () => {
    // It never gets as far as a CONNECT: its own certificate is refused.
    const proxy = createServer(cert, (_req, res) => res.writeHead(502).end());
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      // The caBundle holds the very CA that signed the proxy's certificate: it verifies the hosts only.
      const dispatcher = dispatcherForCa(ca, {
        httpsProxy: `https://hookgate:${PASSWORD}@127.0.0.1:${port}/`,
        httpProxy: "",
        noProxy: "",
      });
      const failure = await httpRequest({
        method: "GET",
        url: "https://git.corp.test/api/v4/projects/1",
        dispatcher,
        what: "GitLab API",
      }).catch((err: unknown) => err);
      expect(failure).to.be.instanceOf(ActionError);
      const error = failure as ActionError;
      expect(error.message).to.equal(
        `GitLab API could not be reached: UNABLE_TO_VERIFY_LEAF_SIGNATURE ${PROXY_HINT} (through the proxy https://127.0.0.1:${port}, unless NO_PROXY lists the host)`,
      );
      expect(error.publicMessage).to.equal(
        `GitLab API could not be reached: UNABLE_TO_VERIFY_LEAF_SIGNATURE ${PROXY_HINT}`,
      );
      expect(error.retryable).to.equal(true);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it("networkError reads undici's UND_ERR_PRX_TLS (the proxy's certificate names another host) as the proxy's, with the same way out", () => {
    const altname = Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
    const error = networkError(
      "Jenkins job api/build",
      new errors.SecureProxyConnectionError(altname),
      undefined,
      "https://jenkins.corp.test/job/api/job/build/build",
      "https://proxy.corp.test:3129",
    );
    expect(error.message).to.equal(
      "Jenkins job api/build could not be reached: UND_ERR_PRX_TLS (the egress proxy's certificate does not name the proxy's host: use the proxy's http:// port) (through the proxy https://proxy.corp.test:3129, unless NO_PROXY lists the host)",
    );
    expect(error.retryable).to.equal(true);
  });

  it("networkError still advises caBundle for the host's own certificate, refused through the proxy's tunnel", () => {
    const untrusted = Object.assign(new Error("unable to verify the first certificate"), {
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    const error = networkError(
      "GitLab API",
      untrusted,
      undefined,
      "https://git.corp.test/api/v4/projects/1",
      "http://proxy.corp.test:3128",
    );
    expect(error.message).to.contain("(the server's certificate is not trusted: add its CA with caBundle)");
    expect(error.message).to.not.contain("egress proxy's certificate");
  });

  it("httpRequest says an https:// proxy URL for a plain-HTTP proxy port (squid's 3128) needs http://, not that a certificate is untrusted", async () => {
    // No TLS on that port: OpenSSL reads the proxy's plain HTTP answer as a record of a wrong version.
    const proxy = createHttpServer((_req, res) => res.writeHead(502).end());
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      const failure = await httpRequest({
        method: "GET",
        url: "https://git.corp.test/api/v4/projects/1",
        dispatcher: proxyDispatcher({ httpsProxy: `https://127.0.0.1:${port}`, httpProxy: "", noProxy: "" }),
        what: "GitLab API",
      }).catch((err: unknown) => err);
      expect(failure).to.be.instanceOf(ActionError);
      expect((failure as ActionError).message).to.equal(
        `GitLab API could not be reached: ERR_SSL_WRONG_VERSION_NUMBER (the egress proxy does not speak TLS on that port: use http:// in the proxy's URL) (through the proxy https://127.0.0.1:${port}, unless NO_PROXY lists the host)`,
      );
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  });

  it("networkError says which way the proxy's certificate failed, under undici's UND_ERR_PRX_TLS, each with the proxy's http:// port as the way out", () => {
    // [the cause's code, what the hint says of the proxy's certificate]
    const cases: Array<[string, string]> = [
      ["CERT_HAS_EXPIRED", "has expired"],
      ["SELF_SIGNED_CERT_IN_CHAIN", "is not trusted, and caBundle is for the hosts only"],
      ["ECONNRESET", "is refused"],
    ];
    for (const [code, why] of cases) {
      const cause = Object.assign(new Error("x"), { code });
      const error = networkError(
        "Jenkins job api/build",
        new errors.SecureProxyConnectionError(cause),
        undefined,
        "https://jenkins.corp.test/job/api/job/build/build",
        "https://proxy.corp.test:3129",
      );
      expect(error.message, code).to.contain(
        `(the egress proxy's certificate ${why}: use the proxy's http:// port)`,
      );
    }
  });

  it("networkError reads OpenSSL's packet length too long from the proxy (plain HTTP read as TLS) the same way", () => {
    const plain = Object.assign(new Error("packet length too long"), {
      code: "ERR_SSL_PACKET_LENGTH_TOO_LONG",
    });
    const error = networkError(
      "Jenkins job api/build",
      new errors.SecureProxyConnectionError(plain),
      undefined,
      "https://jenkins.corp.test/job/api/job/build/build",
      "https://proxy.corp.test:3128",
    );
    expect(error.message).to.contain(
      "(the egress proxy does not speak TLS on that port: use http:// in the proxy's URL)",
    );
    expect(error.message).to.not.contain("certificate");
  });
});
