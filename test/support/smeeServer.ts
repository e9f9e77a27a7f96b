// A stand-in for smee.io on 127.0.0.1, as probot/smee.io's lib/server.js (Fastify) behaves:
//   POST /:channel  takes a JSON object body only (Fastify parses application/json and text/plain by default
//                   and answers 415 to any other content type; a text/plain body, a string, then fails the
//                   route's `type: object` body schema with 400; here every non-JSON type is a 415),
//                   then sends every listener of the channel one SSE message whose data is
//                   JSON.stringify({ ...req.headers, body: req.body, query: req.query, timestamp: Date.now() })
//   GET /:channel   with Accept: text/event-stream, subscribes to the channel's messages.
// The body is parsed, so the bytes the sender signed are gone before the client sees the message.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface SmeePost {
  channel: string;
  status: number;
}

export interface SmeeServer {
  url: string;
  /** The channel's URL, the one a Git host's webhook and `smee --url` are given. */
  channelUrl(channel: string): string;
  /** Every POST received, with the status it was answered. */
  posts: SmeePost[];
  /** How many event streams listen on the channel. */
  listeners(channel: string): number;
  close(): Promise<void>;
}

export async function startSmeeServer(): Promise<SmeeServer> {
  const streams = new Map<string, Set<http.ServerResponse>>();
  const posts: SmeePost[] = [];
  const sockets = new Set<Socket>();

  const answer = (res: http.ServerResponse, channel: string, status: number, body: unknown) => {
    if (channel) posts.push({ channel, status });
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://smee.invalid");
    const channel = decodeURIComponent(url.pathname.slice(1));
    if (!channel || channel.includes("/")) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    if (req.method === "GET" && String(req.headers.accept).includes("text/event-stream")) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      res.write(": ready\n\n");
      const set = streams.get(channel) ?? new Set<http.ServerResponse>();
      streams.set(channel, set);
      set.add(res);
      res.on("close", () => set.delete(res));
      return;
    }
    if (req.method !== "POST") {
      req.resume();
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const mediaType = String(req.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim()
        .toLowerCase();
      if (mediaType !== "application/json") {
        answer(res, channel, 415, {
          statusCode: 415,
          code: "FST_ERR_CTP_INVALID_MEDIA_TYPE",
          error: "Unsupported Media Type",
          message: `Unsupported Media Type: ${mediaType}`,
        });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        answer(res, channel, 400, { statusCode: 400, error: "Bad Request" });
        return;
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        answer(res, channel, 400, { statusCode: 400, error: "Bad Request", message: "body must be object" });
        return;
      }
      const payload = {
        ...req.headers,
        body,
        query: Object.fromEntries(url.searchParams),
        timestamp: Date.now(),
      };
      for (const stream of streams.get(channel) ?? []) stream.write(`data: ${JSON.stringify(payload)}\n\n`);
      answer(res, channel, 200, "ok");
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    channelUrl: (channel) => `${url}/${encodeURIComponent(channel)}`,
    posts,
    listeners: (channel) => streams.get(channel)?.size ?? 0,
    close: async () => {
      for (const set of streams.values()) for (const stream of set) stream.end();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
