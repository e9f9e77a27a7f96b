// undici's own connect limit (10 s by default, the TLS handshake included) can fire before a call's limit:
// httpRequest reports it as that limit, read from undici's error, not as the call's. The dispatcher given
// (as ActionClients.dispatcher is) sets a short connect timeout, and so does the proxies' (proxyAgent's
// proxyConnectTimeoutMs), so the tests need not wait 10 s; one test checks the default is undici's 10 s.

import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { connect, createServer, type Server, type Socket } from "node:net";
import { expect } from "chai";
import { Agent } from "undici";
import { httpRequest, proxyAgent, proxyDispatcher } from "../../src/actions/http";
import { ActionError } from "../../src/core/errors";

describe("Outbound HTTPS to a server that never completes the TLS handshake (undici's connect limit)", () => {
  // Takes the TCP connection and never answers the ClientHello (a middlebox, a wrong port).
  const sockets = new Set<Socket>();
  let server: Server;
  let url: string;
  const dispatcher = new Agent({ connect: { timeout: 300 } });
  before(async () => {
    server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await dispatcher.close();
  });

  const failure = (extra: { deadlineMs?: number } = {}) =>
    httpRequest({
      method: "GET",
      url: `${url}/api/v4/projects/1?private_token=glpat-test0123456789`,
      timeoutMs: 20_000,
      dispatcher,
      what: "GitLab API",
      ...extra,
    }).then(
      () => expect.fail("the call succeeded"),
      (err: unknown) => err as ActionError,
    );

  it("httpRequest says the connection was not set up within undici's connect limit, not that the call timed out after its 20 s", async () => {
    const error = await failure();
    expect(error).to.be.instanceOf(ActionError);
    expect((error.cause as { code?: string }).code).to.equal("UND_ERR_CONNECT_TIMEOUT");
    expect(error.message).to.equal(
      `GitLab API timed out connecting to ${url}: the connection was not set up within undici's connect limit of 300 ms, TLS handshake included`,
    );
    // The commit status's words name no host.
    expect(error.publicMessage).to.equal(
      "GitLab API timed out connecting: the connection was not set up within undici's connect limit of 300 ms, TLS handshake included",
    );
    expect(error.retryable).to.equal(true);
  });

  it("httpRequest does not say the function's time ran out when undici's connect limit fired within a deadline-clipped limit", async () => {
    const error = await failure({ deadlineMs: Date.now() + 15_000 });
    expect((error.cause as { code?: string }).code).to.equal("UND_ERR_CONNECT_TIMEOUT");
    expect(error.message).to.match(
      /^GitLab API timed out connecting to .*: the connection was not set up within undici's connect limit of 300 ms, TLS handshake included$/,
    );
    expect(error.retryable).to.equal(true);
  });
});

describe("Outbound HTTPS through an https:// egress proxy that never completes the TLS handshake", () => {
  it("httpRequest names the egress proxy, not the host, as what it could not connect to within undici's connect limit", async () => {
    // The proxy's own connection takes undici's default limit (10 s, checked below) unless proxyAgent is told.
    const sockets = new Set<Socket>();
    const proxy = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      const error = await httpRequest({
        method: "GET",
        url: "https://git.corp.test/api/v4/projects/1",
        timeoutMs: 25_000,
        dispatcher: proxyAgent(
          { httpsProxy: `https://127.0.0.1:${port}`, httpProxy: "", noProxy: "" },
          undefined,
          {
            proxyConnectTimeoutMs: 300,
          },
        ),
        what: "GitLab API",
      }).then(
        () => expect.fail("the call succeeded"),
        (err: unknown) => err as ActionError,
      );
      expect((error.cause as { code?: string }).code).to.equal("UND_ERR_CONNECT_TIMEOUT");
      expect(error.message).to.match(
        new RegExp(
          `^GitLab API timed out connecting to the egress proxy https://127\\.0\\.0\\.1:${port}: the connection was not set up within undici's connect limit of 300 ms, TLS handshake included$`,
        ),
      );
      expect(error.retryable).to.equal(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    }
  });
});

describe("Outbound HTTP through an http:// egress proxy that does not take the connection", () => {
  // A listener in a blocked process whose accept queue is full: Linux drops the next SYN, so the connection
  // to the proxy is never set up. The child blocks in the same tick as it writes its port (writeSync, no
  // timer): its event loop never runs again, so it can never accept the fillers, however late it is scheduled.
  const BLOCKED_LISTENER = `
const s = require("net").createServer();
s.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  require("fs").writeSync(1, s.address().port + "\\n");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
});`;
  let child: ChildProcess;
  const fillers: Socket[] = [];
  let port = 0;
  before(async () => {
    child = spawn(process.execPath, ["-e", BLOCKED_LISTENER]);
    port = await new Promise<number>((r) => child.stdout?.once("data", (d) => r(Number(String(d).trim()))));
    // Backlog 1 takes two connections: the third gets no answer.
    for (let i = 0; i < 2; i++) {
      const socket = connect(port, "127.0.0.1");
      fillers.push(socket);
      await new Promise((r) => socket.once("connect", r));
    }
  });
  after(() => {
    for (const socket of fillers) socket.destroy();
    child.kill();
  });

  it("httpRequest names the egress proxy for an http:// target (sent to the proxy, not tunnelled), and no TLS handshake", async () => {
    const proxy = `http://127.0.0.1:${port}`;
    const error = await httpRequest({
      method: "POST",
      url: "http://jenkins.corp.test:8080/job/x/build",
      timeoutMs: 25_000,
      dispatcher: proxyAgent({ httpsProxy: "", httpProxy: proxy, noProxy: "" }, undefined, {
        proxyConnectTimeoutMs: 300,
      }),
      what: "Jenkins job x",
    }).then(
      () => expect.fail("the call succeeded"),
      (err: unknown) => err as ActionError,
    );
    expect((error.cause as { code?: string }).code).to.equal("UND_ERR_CONNECT_TIMEOUT");
    expect(error.message).to.match(
      new RegExp(
        `^Jenkins job x timed out connecting to the egress proxy http://127\\.0\\.0\\.1:${port}: the connection was not set up within undici's connect limit of 300 ms$`,
      ),
    );
  });
});

describe("The actions' egress proxy dispatcher's connect limit toward the proxy itself", () => {
  // undici arms each connection's limit through its util.setupConnectTimeout, looked up at each connect: the
  // limit armed for the proxy's port is read there, without waiting it out.
  const undiciUtil = createRequire(__filename)("undici/lib/core/util.js") as {
    setupConnectTimeout: (socket: unknown, opts: { timeout: number; port: number }) => () => void;
  };
  const setupConnectTimeout = undiciUtil.setupConnectTimeout;
  afterEach(() => {
    undiciUtil.setupConnectTimeout = setupConnectTimeout;
  });

  it("is undici's default of 10 s, as the README says, for an https:// proxy as for an http:// one", async () => {
    const armed: Array<{ port: number; timeout: number }> = [];
    undiciUtil.setupConnectTimeout = (socket, opts) => {
      armed.push({ port: Number(opts.port), timeout: opts.timeout });
      return setupConnectTimeout(socket, opts);
    };
    const sockets = new Set<Socket>();
    const proxy = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      for (const [url, settings] of [
        ["https://git.corp.test/x", { httpsProxy: `https://127.0.0.1:${port}`, httpProxy: "", noProxy: "" }],
        [
          "http://jenkins.corp.test/x",
          { httpsProxy: "", httpProxy: `http://127.0.0.1:${port}`, noProxy: "" },
        ],
      ] as const) {
        const before = armed.length;
        // The call's own limit ends it long before the proxy's connect limit could.
        const error = await httpRequest({
          method: "GET",
          url,
          timeoutMs: 200,
          dispatcher: proxyDispatcher(settings),
          what: "GitLab API",
        }).then(
          () => expect.fail("the call succeeded"),
          (err: unknown) => err as ActionError,
        );
        expect((error.cause as { code?: string }).code, url).to.not.equal("UND_ERR_CONNECT_TIMEOUT");
        expect(armed.slice(before), url).to.deep.equal([{ port, timeout: 10_000 }]);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      proxy.close();
    }
  });
});
