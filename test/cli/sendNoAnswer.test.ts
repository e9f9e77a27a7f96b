// `hookgate send` when the request went out but no complete answer came back: it names the delivery id sent,
// so a resend with --delivery is deduplicated rather than run a second time.
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { runBinAsync, sendArgs } from "./checkHarness";
import { NO_PROXY_ENV } from "./serveHarness";

/** send with a 1 s timeout, as a child process: the test's own server answers it (or does not). */
const sendTo = (url: string) => runBinAsync(sendArgs(url, "--timeout", "1"), NO_PROXY_ENV);

describe("Command: hookgate send, a delivery that got no complete answer", function () {
  this.timeout(30_000);
  let server: Server;
  let base: string;
  const ids: string[] = [];
  const held: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      ids.push(String(req.headers["x-github-delivery"]));
      req.resume();
      held.push(res);
      // The gateway's 202 arrives, then the body stalls (a proxy, a slow link).
      if (req.url === "/stall-body") res.writeHead(202, { "content-type": "application/json" }).write("{");
      // The request was read (and could have been queued), then the connection dropped.
      if (req.url === "/drop") req.on("end", () => req.socket.destroy());
      // /hang: the request was read, no answer in time.
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const resendAdvice = (id: string) =>
    `delivery ${id} was sent; the gateway may have queued it; resend with --delivery ${id} so it is recognised as a duplicate`;

  it("a timed-out send names the delivery id it sent and says to resend with --delivery, exit 1", async () => {
    const run = await sendTo(`${base}/hang`);
    expect(run.code).to.equal(1);
    const sent = ids.at(-1) as string;
    expect(sent).to.match(/^[0-9a-f-]{36}$/);
    expect(run.stderr, run.stderr).to.include("no answer within 1 s");
    expect(run.stderr, run.stderr).to.include(resendAdvice(sent));
  });

  it("a send whose connection dropped after the request names the delivery id it sent", async () => {
    const run = await sendTo(`${base}/drop`);
    expect(run.code).to.equal(1);
    expect(run.stderr, run.stderr).to.include(resendAdvice(ids.at(-1) as string));
  });

  it("a send whose status line arrived but whose body stalled says the status, then no body, and the id", async () => {
    const run = await sendTo(`${base}/stall-body`);
    expect(run.code).to.equal(1);
    expect(run.stderr, run.stderr).to.include("failed: HTTP 202 Accepted, then no body within 1 s;");
    expect(run.stderr, run.stderr).not.to.include("no answer");
    expect(run.stderr, run.stderr).to.include(resendAdvice(ids.at(-1) as string));
  });

  it("a send that never connected (nothing listening) does not claim a delivery was sent", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const run = await sendTo(`http://127.0.0.1:${port}/hooks/x`);
    expect(run.code).to.equal(1);
    expect(run.stderr, run.stderr).to.include("ECONNREFUSED");
    expect(run.stderr, run.stderr).not.to.include("was sent");
  });
});
