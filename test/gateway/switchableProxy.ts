// A TCP forwarder on 127.0.0.1 that can be taken down (connections refused) and brought back on the
// same port: "Jenkins is down" without touching the Jenkins double itself.
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
  let server: net.Server | undefined;
  let port = 0;

  const listen = async (): Promise<void> => {
    const s = net.createServer((client) => {
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
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };

  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop,
    start: listen,
    close: stop,
    retarget(url: string) {
      for (const socket of sockets) socket.destroy();
      target = new URL(url);
    },
  };
}
