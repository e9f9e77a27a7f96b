// A forward (egress) proxy for integration tests: 127.0.0.1, port 0. CONNECT opens a tunnel (https
// targets); an absolute-URI request (GET http://host:port/path) is forwarded (http targets). It records what
// went through it, and can ask for credentials (407) or map host names to addresses, as a proxy resolves
// names the client cannot.
import http from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";

export interface ProxyRecord {
  kind: "connect" | "absolute";
  /** host:port of the target. */
  target: string;
  /** The path of an absolute-URI request (CONNECT has none). */
  path?: string;
  /** The Proxy-Authorization header as received (test credentials only). */
  proxyAuthorization?: string;
}

export interface ForwardProxyOptions {
  /** Answer 407 unless Proxy-Authorization is Basic with these. */
  auth?: { user: string; password: string };
  /** Host name -> address the proxy connects to (default: the name itself). */
  hosts?: Record<string, string>;
}

export interface ForwardProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  requests: ProxyRecord[];
  close(): Promise<void>;
}

export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const requests: ProxyRecord[] = [];
  const sockets = new Set<Socket>();
  const expected = options.auth
    ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`
    : undefined;
  const address = (host: string) => options.hosts?.[host] ?? host;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };

  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end("an absolute URI is required");
      return;
    }
    const proxyAuthorization = req.headers["proxy-authorization"];
    requests.push({
      kind: "absolute",
      target: target.host,
      path: `${target.pathname}${target.search}`,
      proxyAuthorization,
    });
    if (expected && proxyAuthorization !== expected) {
      res.writeHead(407, { "proxy-authenticate": 'Basic realm="test"' }).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = http.request(
      {
        host: address(target.hostname),
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.headersSent || res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on("connection", track);
  server.on("connect", (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    const targetHost = req.url ?? "";
    const proxyAuthorization = req.headers["proxy-authorization"];
    requests.push({ kind: "connect", target: targetHost, proxyAuthorization });
    if (expected && proxyAuthorization !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [, host = "", port = "443"] = /^(.*):(\d+)$/.exec(targetHost) ?? [];
    const upstream = net.connect(Number(port), address(host.replace(/^\[|\]$/g, "")), () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    client.on("error", () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A proxy that takes connections and never answers (neither a CONNECT nor a request): a stalled proxy. */
export interface StalledProxy {
  port: number;
  close(): Promise<void>;
}

export async function startStalledProxy(): Promise<StalledProxy> {
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
