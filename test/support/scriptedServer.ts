// An HTTP server on 127.0.0.1 (port 0) whose every answer the test writes, request by request: for the
// answers the protocol servers (jenkinsServer.ts, gitHostServer.ts) do not give. It records each request.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface Seen {
  method: string;
  /** The path and query as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An answer, or "drop": destroy the socket without one. */
export type Reply = { status: number; headers?: Record<string, string | string[]>; body?: string } | "drop";

export interface ScriptedServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A JSON answer. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export async function scriptedServer(answer: (req: Seen, url: string) => Reply): Promise<ScriptedServer> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let url = "";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(request);
      const reply = answer(request, url);
      if (reply === "drop") {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "");
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
