// serve's ResponseBatch: answers ready in the turn of the event loop that read their requests go out
// together at its end; an answer that had to wait past that turn goes out at once.
// Real node:http servers and clients on 127.0.0.1.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { ResponseBatch } from "../../src/local/responseBatch";

interface Answered {
  status: number;
  body: string;
}

function post(port: number, path: string): Promise<Answered> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end("{}");
  });
}

describe("serve's ResponseBatch", () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A server calling `onRead` once each request's body is read (as serve answers), on 127.0.0.1: its port. */
  async function serveRead(
    onRead: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  ): Promise<number> {
    const listening = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => onRead(req, res));
    });
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    return (listening.address() as AddressInfo).port;
  }

  it("holds an answer ready in its request's turn until that turn ends, then sends it whole", async () => {
    const heldInTurn: boolean[] = [];
    const batch = new ResponseBatch(() => undefined);
    const port = await serveRead((req, res) => {
      const turn = batch.arrived();
      batch.send(res, 202, { "content-type": "text/plain" }, `answer for ${req.url}`, turn);
      heldInTurn.push(!res.headersSent);
    });
    const answered = await post(port, "/one");
    expect(heldInTurn).to.deep.equal([true]);
    expect(answered).to.deep.equal({ status: 202, body: "answer for /one" });
  });

  it("sends an answer that was ready only after its request's turn at once", async () => {
    const heldInTurn: boolean[] = [];
    const batch = new ResponseBatch(() => undefined);
    const port = await serveRead((_req, res) => {
      const turn = batch.arrived();
      // Ready two turns later, as a queued delivery is once the queue's write is done.
      setImmediate(() =>
        setImmediate(() => {
          batch.send(res, 202, {}, "late answer", turn);
          heldInTurn.push(!res.headersSent);
        }),
      );
    });
    const answered = await post(port, "/late");
    expect(heldInTurn).to.deep.equal([false]);
    expect(answered).to.deep.equal({ status: 202, body: "late answer" });
  });

  it("sends every answer to its own request when many are ready in the same turn", async () => {
    const batch = new ResponseBatch(() => undefined);
    const waiting: { res: http.ServerResponse; path: string }[] = [];
    const port = await serveRead((req, res) => {
      waiting.push({ res, path: req.url ?? "" });
      if (waiting.length < 8) return;
      // The last request in: answer them all in its turn.
      const turn = batch.arrived();
      for (const { res: r, path } of waiting) batch.send(r, 200, {}, `answer for ${path}`, turn);
    });
    const names = Array.from({ length: 8 }, (_, i) => `/r${i}`);
    const answers = await Promise.all(names.map((path) => post(port, path)));
    expect(answers.map((a) => a.body)).to.deep.equal(names.map((path) => `answer for ${path}`));
  });

  it("still sends the other answers when one cannot be written, and reports that one", async () => {
    const failures: { res: http.ServerResponse; error: unknown }[] = [];
    const batch = new ResponseBatch((res, error) => {
      failures.push({ res, error });
      res.destroy();
    });
    const waiting: { res: http.ServerResponse; path: string }[] = [];
    const port = await serveRead((req, res) => {
      waiting.push({ res, path: req.url ?? "" });
      if (waiting.length < 2) return;
      const turn = batch.arrived();
      for (const { res: r, path } of waiting) {
        // A header value with a line break: writeHead throws ERR_INVALID_CHAR.
        const headers: Record<string, string> = path === "/bad" ? { "x-bad": "a\nb" } : {};
        batch.send(r, 200, headers, `answer for ${path}`, turn);
      }
    });
    const [bad, good] = await Promise.allSettled([post(port, "/bad"), post(port, "/good")]);
    expect(bad.status).to.equal("rejected");
    expect(good).to.deep.equal({ status: "fulfilled", value: { status: 200, body: "answer for /good" } });
    expect(failures.map((f) => (f.error as NodeJS.ErrnoException).code)).to.deep.equal(["ERR_INVALID_CHAR"]);
  });
});
