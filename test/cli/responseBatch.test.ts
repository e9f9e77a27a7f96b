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

describe("serve's ResponseBatch, turn after turn (a stand-in response)", () => {
  /** A response that records what was written to it; `broken` makes writeHead throw (its connection is gone). */
  function response(name: string, log: string[], broken = false) {
    return {
      writeHead: (status: number) => {
        if (broken) throw new Error(`${name} is gone`);
        log.push(`${name} head ${status}`);
      },
      end: (text: string, encoding: string) => log.push(`${name} end ${text} ${encoding}`),
      destroy: () => log.push(`${name} destroyed`),
    } as unknown as http.ServerResponse;
  }
  const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

  it("each turn's answers go out at that turn's end, the next turn's too, with no error", async () => {
    const log: string[] = [];
    const errors: unknown[] = [];
    const batch = new ResponseBatch((_res, error) => errors.push(error));
    for (const name of ["a", "b"]) {
      const turn = batch.arrived();
      batch.send(response(name, log), 202, {}, name, turn);
      expect(log).to.deep.equal(name === "a" ? [] : ["a head 202", "a end a utf8"]);
      await endOfTurn();
    }
    expect(log).to.deep.equal(["a head 202", "a end a utf8", "b head 202", "b end b utf8"]);
    expect(errors).to.deep.equal([]);
  });

  it("a write that throws goes to onError, and the other answers of the turn still go out; an onError that throws destroys the response", async () => {
    const log: string[] = [];
    const batch = new ResponseBatch((res) => {
      if ((res as unknown as { name?: string }).name === "worse") throw new Error("onError broke too");
      log.push("onError");
    });
    const turn = batch.arrived();
    batch.send(response("gone", log, true), 202, {}, "x", turn);
    const worse = Object.assign(response("worse", log, true), { name: "worse" });
    batch.send(worse, 202, {}, "y", turn);
    batch.send(response("fine", log), 200, {}, "z", turn);
    await endOfTurn();
    expect(log).to.deep.equal(["onError", "worse destroyed", "fine head 200", "fine end z utf8"]);
  });
});
