// A TCP forwarder on 127.0.0.1 that can be taken down (each connection dropped at once, nothing forwarded)
// and brought back: "Jenkins is down" without touching the Jenkins double itself. It keeps its port while
// down: a port let go could be taken by another process meanwhile, and the test would reach that one.
import net from "node:net";

export interface SwitchableProxy {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Forward new connections to another server from now on. */
  retarget(url: string): void;
}

export async function startSwitchableProxy(targetUrl: string): Promise<SwitchableProxy> {
  let target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let up = true;

  const server = net.createServer((client) => {
    if (!up) {
      // Reset, not a clean close: the client fails at once, as on a refused connection.
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const stop = async (): Promise<void> => {
    up = false;
    for (const socket of sockets) socket.destroy();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop,
    async start() {
      up = true;
    },
    async close() {
      await stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    retarget(url: string) {
      for (const socket of sockets) socket.destroy();
      target = new URL(url);
    },
  };
}
