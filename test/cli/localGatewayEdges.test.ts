// serve's answers at the edges of its HTTP server, in process (src/local/localGateway.ts) over real HTTP
// on 127.0.0.1: the answers it gives without the handler (unknown route, body too large, requests
// node:http cannot read) and their log lines, request targets and heads node:http reads its own way,
// and one delivery sent many times at once.

import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { SUMMARY_MSG, sampleDeliveryLines } from "../../src/cli/logSampler";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome, WorkItem } from "../../src/core/types";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { REPO_ROOT } from "./serveHarness";

const SECRET = "edges-test-secret";
const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));

/** A push to acme/api main, signed for route "r", with its delivery id. */
function signedPush(delivery: string = randomUUID(), body: Buffer = PUSH) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-github-delivery": delivery,
    "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
  };
  return { delivery, headers, body };
}

/** The request's head as raw HTTP/1.1 lines (no Host unless `headers` holds one). */
function head(requestLine: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${requestLine}\r\n${lines.join("")}\r\n`;
}

/** Writes `text` to a new connection, ends our side, and resolves with all that came back. */
function rawExchange(port: number, text: string | Buffer, end = true): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => (end ? socket.end(text) : socket.write(text)));
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      answer += d;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}

/** The status and JSON body of one raw HTTP answer. */
function parsed(answer: string): { status: number; json: Record<string, unknown> } {
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1]);
  const at = answer.indexOf("\r\n\r\n");
  const body = answer.slice(at + 4);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(body);
  } catch {
    json = { unparsed: body };
  }
  return { status, json };
}

function post(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path, method: "POST", headers, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("Function: startLocalGateway, at the edges of its HTTP server", () => {
  let dir: string;
  let gateway: LocalGateway;
  let lines: Record<string, unknown>[];
  let actions: WorkItem[];

  async function start(options: Partial<Parameters<typeof startLocalGateway>[0]> = {}): Promise<void> {
    const routes = join(dir, "routes.yaml");
    writeFileSync(routes, ROUTE_R_YAML);
    const secrets = join(dir, "secrets.json");
    writeFileSync(secrets, JSON.stringify({ "test/hook": SECRET }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(routes),
      stateDir: join(dir, "state"),
      secretsFile: secrets,
      port: 0,
      log: (line) => lines.push(line),
      runAction: async (item) => {
        actions.push(item);
        return { detail: "" } as ActionOutcome;
      },
      ...options,
    });
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-edges-"));
    lines = [];
    actions = [];
  });
  afterEach(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The delivery log lines, without their time. */
  const deliveryLines = () => lines.filter((l) => l.msg === "delivery");

  describe("its own answers are logged as the handler logs a delivery", () => {
    it("logs the 404 to a hook for a route it does not have: decision unknown-route, with the delivery id and event the headers claim", async () => {
      await start();
      const d = signedPush("d-404");
      const answer = await post(gateway.port, "/hooks/nope", d.headers, d.body);
      expect(answer.status).to.equal(404);
      expect(deliveryLines()).to.deep.equal([
        {
          msg: "delivery",
          route: "nope",
          deliveryId: "d-404",
          event: "push",
          repository: null,
          ref: null,
          decision: "unknown-route",
          reason: "unknown route",
          status: 404,
          level: "warn",
        },
      ]);
    });

    it("logs the 413 to a declared Content-Length over 10 MB: decision too-large, as the handler's own 413", async () => {
      await start();
      const d = signedPush("d-413");
      const size = 10 * 1024 * 1024 + 1;
      const text = head("POST /hooks/r HTTP/1.1", {
        host: "127.0.0.1",
        ...d.headers,
        "content-length": String(size),
        connection: "close",
      });
      // The answer comes before the body; ending our side without it then fails the request, so read
      // just the answer's head here and close.
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(gateway.port, "127.0.0.1", () => socket.write(text));
        let received = "";
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => {
          received += chunk;
          if (received.includes("\r\n\r\n") && received.includes("}")) {
            socket.destroy();
            resolve(received);
          }
        });
        socket.on("error", reject);
      });
      expect(parsed(answer).status).to.equal(413);
      const logged = deliveryLines().filter((l) => l.status === 413);
      expect(logged).to.deep.equal([
        {
          msg: "delivery",
          route: "r",
          deliveryId: "d-413",
          event: "push",
          repository: null,
          ref: null,
          decision: "too-large",
          reason: "body larger than 10485760 bytes",
          status: 413,
          level: "warn",
        },
      ]);
    });
  });

  describe("a flood of requests to routes it does not have", () => {
    it("logs each 404 with its route cut to 100 characters, and through the sampler 600 different unknown routes give 10 lines and one summary", async () => {
      // The sampler on a clock that stands still: all 600 fall in one window, whatever the machine's pace.
      const written: Record<string, unknown>[] = [];
      const sampler = sampleDeliveryLines((line) => written.push(line), { now: () => 0, schedule: () => {} });
      await start({
        log: (line) => {
          lines.push(line);
          sampler.log(line);
        },
      });
      const requests = Array.from({ length: 600 }, (_, i) =>
        head(`POST /hooks/probe-${i}-${"x".repeat(i === 0 || i === 599 ? 8_000 : 10)} HTTP/1.1`, {
          host: "127.0.0.1",
          "content-length": "0",
          ...(i === 599 ? { connection: "close" } : {}),
        }),
      );
      const answers = await rawExchange(gateway.port, requests.join(""));
      expect(answers.match(/HTTP\/1\.1 404 /g)).to.have.length(600);
      const logged = deliveryLines();
      expect(logged).to.have.length(600);
      expect(logged[0]?.route).to.equal(`probe-0-${"x".repeat(91)}…`);
      expect(Math.max(...logged.map((l) => String(l.route).length))).to.equal(100);
      sampler.flush();
      expect(written.filter((l) => l.msg === "delivery")).to.have.length(10);
      expect(
        written.filter((l) => l.msg === SUMMARY_MSG).map((l) => [l.route, l.status, l.decision, l.count]),
      ).to.deep.equal([[null, 404, "unknown-route", 590]]);
      // The history keeps the route as cut too: 100 entries of a client's 16 KB paths would be 1.6 MB. Rejected,
      // they fill the rejected ring only (REJECTED_HISTORY).
      const history = parsed(
        await rawExchange(gateway.port, head("GET /_hookgate/deliveries HTTP/1.1", { host: "127.0.0.1" })),
      ).json as unknown as Array<{ route: string }>;
      expect(history).to.have.length(100);
      // rawExchange reads latin1: each route's UTF-8 read back.
      const utf8 = (text: string) => Buffer.from(text, "latin1").toString("utf8");
      expect(Math.max(...history.map((e) => utf8(e.route).length))).to.equal(100);
    });
  });

  describe("requests node:http cannot read get a log line too", () => {
    /** The delivery lines of answers node:http's own checks gave, without their time. */
    const refusals = () => deliveryLines().filter((l) => l.decision === "rejected");

    it("logs the 400 to bytes that are no HTTP request with Node's error code, and no route or delivery", async () => {
      await start();
      const answer = parsed(await rawExchange(gateway.port, "GARBAGE\r\n\r\n"));
      expect(answer.status).to.equal(400);
      expect(refusals()).to.deep.equal([
        {
          msg: "delivery",
          route: null,
          deliveryId: null,
          event: null,
          repository: null,
          ref: null,
          decision: "rejected",
          reason: "malformed HTTP request: HPE_INVALID_METHOD",
          status: 400,
          level: "warn",
        },
      ]);
    });

    it("logs the 431 to headers too large without logging a header value", async () => {
      await start();
      const text = head("POST /hooks/r HTTP/1.1", {
        host: "127.0.0.1",
        "x-github-delivery": "d-431",
        "x-pad": "header-value-".repeat(2_000),
      });
      const answer = parsed(await rawExchange(gateway.port, text));
      expect(answer.status).to.equal(431);
      expect(refusals()).to.deep.equal([
        {
          msg: "delivery",
          route: null,
          deliveryId: null,
          event: null,
          repository: null,
          ref: null,
          decision: "rejected",
          reason: "request headers too large: HPE_HEADER_OVERFLOW",
          status: 431,
          level: "warn",
        },
      ]);
      expect(JSON.stringify(lines)).not.to.include("header-value-");
    });

    it("logs the 400 to a delivery whose body the client cuts short with its route, delivery id and event, and none of the body", async () => {
      await start();
      const d = signedPush("d-cut");
      const text = head("POST /hooks/r HTTP/1.1", {
        host: "127.0.0.1",
        ...d.headers,
        "content-length": String(d.body.length),
      });
      const answer = parsed(await rawExchange(gateway.port, `${text}${d.body.subarray(0, 100)}`));
      expect(answer.status).to.equal(400);
      const logged = refusals();
      expect(logged).to.have.length(1);
      expect(logged[0]).to.deep.include({
        route: "r",
        deliveryId: "d-cut",
        event: "push",
        status: 400,
        decision: "rejected",
      });
      expect(logged[0]?.reason).to.match(/^malformed HTTP request: HPE_[A-Z_]+$/);
      expect(JSON.stringify(lines)).not.to.include(d.body.subarray(20, 60).toString("utf8"));
    });

    it("logs the 408 to a head too slow with no route, and to a body too slow with the delivery's route and id; a connection that sent nothing is answered but not logged", async () => {
      await start({ slowClientTimeouts: { headersMs: 200, requestMs: 400, checkEveryMs: 50 } });
      // None ends its side: each waits for node:http's timeout, whenever it comes.
      const silent = parsed(await rawExchange(gateway.port, "", false));
      const slowHead = parsed(
        await rawExchange(gateway.port, "POST /hooks/r HTTP/1.1\r\nhost: 127.0.0.1\r\n", false),
      );
      const d = signedPush("d-slow");
      const text = head("POST /hooks/r HTTP/1.1", {
        host: "127.0.0.1",
        ...d.headers,
        "content-length": String(d.body.length),
      });
      const slowBody = parsed(await rawExchange(gateway.port, `${text}${d.body.subarray(0, 100)}`, false));
      expect([silent.status, slowHead.status, slowBody.status]).to.deep.equal([408, 408, 408]);
      expect(refusals().map((l) => [l.route, l.deliveryId, l.status, l.reason])).to.deep.equal([
        [null, null, 408, "request not received in time: ERR_HTTP_REQUEST_TIMEOUT"],
        ["r", "d-slow", 408, "request not received in time: ERR_HTTP_REQUEST_TIMEOUT"],
      ]);
    });
  });

  describe("a request serve answered before its body was read whole gets one answer and one line", () => {
    it("a chunked body over 10 MB that then sends a bad chunk: the 413 too-large only, no 400 after it", async () => {
      await start();
      const socket = net.connect(gateway.port, "127.0.0.1");
      socket.on("error", () => {});
      let received = "";
      socket.setEncoding("latin1");
      const answered = new Promise<void>((resolve) => {
        socket.on("data", (chunk: string) => {
          received += chunk;
          if (received.includes("}")) resolve();
        });
      });
      const closed = new Promise((resolve) => socket.on("close", resolve));
      socket.write(
        head("POST /hooks/r HTTP/1.1", {
          host: "127.0.0.1",
          "x-github-event": "push",
          "x-github-delivery": "d-chunked",
          "transfer-encoding": "chunked",
        }),
      );
      const chunk = Buffer.alloc(1024 * 1024, 97);
      for (let i = 0; i < 11; i++)
        socket.write(Buffer.concat([Buffer.from("100000\r\n"), chunk, Buffer.from("\r\n")]));
      await answered;
      socket.write("zz\r\nnot a chunk\r\n");
      await closed;
      expect(received.match(/HTTP\/1\.1 \d{3}/g)).to.deep.equal(["HTTP/1.1 413"]);
      expect(deliveryLines().map((l) => [l.route, l.deliveryId, l.status, l.decision])).to.deep.equal([
        ["r", "d-chunked", 413, "too-large"],
      ]);
    });

    it("a 404 to an unknown route whose declared body comes too slowly: the 404 unknown-route only, no 408 after it", async () => {
      await start({ slowClientTimeouts: { headersMs: 200, requestMs: 400, checkEveryMs: 50 } });
      const text = head("POST /hooks/nope HTTP/1.1", {
        host: "127.0.0.1",
        "x-github-delivery": "d-slow-404",
        "content-length": "100",
      });
      // Our side stays open: node:http's request timeout ends it, whenever it comes.
      const received = await rawExchange(gateway.port, `${text}abc`, false);
      expect(received.match(/HTTP\/1\.1 \d{3}/g)).to.deep.equal(["HTTP/1.1 404"]);
      expect(deliveryLines().map((l) => [l.route, l.deliveryId, l.status, l.decision])).to.deep.equal([
        ["nope", "d-slow-404", 404, "unknown-route"],
      ]);
    });
  });

  describe("request heads node:http reads its own way", () => {
    it("answers an HTTP/1.1 delivery without a Host header 400 in the contract's JSON, with its log line (RFC 9112 3.2)", async () => {
      await start();
      const d = signedPush("d-no-host");
      const text = head("POST /hooks/r HTTP/1.1", {
        ...d.headers,
        "content-length": String(d.body.length),
        connection: "close",
      });
      const answer = parsed(await rawExchange(gateway.port, Buffer.concat([Buffer.from(text), d.body])));
      expect(answer).to.deep.equal({
        status: 400,
        json: {
          status: "rejected",
          route: "r",
          delivery: "d-no-host",
          reason: "no Host header, which an HTTP/1.1 request must have",
        },
      });
      expect(deliveryLines().map((l) => [l.deliveryId, l.status, l.decision])).to.deep.equal([
        ["d-no-host", 400, "rejected"],
      ]);
    });

    it("answers a request with two Host header lines 400, a signed delivery too, without queuing it (RFC 9112 3.2)", async () => {
      await start();
      const d = signedPush("d-two-hosts");
      const text = head("POST /hooks/r HTTP/1.1", {
        host: "a.example",
        ...d.headers,
        "content-length": String(d.body.length),
        connection: "close",
      }).replace("\r\n", "\r\nHost: b.example\r\n");
      const answer = parsed(await rawExchange(gateway.port, Buffer.concat([Buffer.from(text), d.body])));
      expect(answer).to.deep.equal({
        status: 400,
        json: {
          status: "rejected",
          route: "r",
          delivery: "d-two-hosts",
          reason: "more than one Host header, which a request must not have",
        },
      });
      expect(deliveryLines().map((l) => [l.deliveryId, l.status, l.decision])).to.deep.equal([
        ["d-two-hosts", 400, "rejected"],
      ]);
      expect(actions).to.deep.equal([]);
      const own = parsed(
        await rawExchange(
          gateway.port,
          "GET /_hookgate/health HTTP/1.1\r\nHost: a\r\nhost: b\r\nConnection: close\r\n\r\n",
        ),
      );
      expect(own.status).to.equal(400);
    });

    it("reads an absolute-form target (POST http://127.0.0.1:<port>/hooks/r) as its path, for hooks and serve's own endpoints", async () => {
      await start();
      const origin = `http://127.0.0.1:${gateway.port}`;
      const exchange = (target: string, method = "GET", headers: Record<string, string> = {}, body = "") =>
        rawExchange(
          gateway.port,
          `${head(`${method} ${target} HTTP/1.1`, {
            host: `127.0.0.1:${gateway.port}`,
            ...headers,
            "content-length": String(Buffer.byteLength(body)),
            connection: "close",
          })}${body}`,
        ).then(parsed);
      const d = signedPush("d-absolute");
      const queued = await exchange(`${origin}/hooks/r`, "POST", d.headers, d.body.toString("utf8"));
      expect([queued.status, queued.json.status, queued.json.delivery]).to.deep.equal([
        202,
        "queued",
        "d-absolute",
      ]);
      const unknown = await exchange(`${origin.toUpperCase()}/hooks/nope?x=1`, "POST");
      expect(unknown.status).to.equal(404);
      // Its body has no route (the deployed API's): the history says which route was read.
      const rejected = await exchange(`${origin}/_hookgate/deliveries?route=nope`);
      expect((rejected.json as unknown as unknown[]).length).to.equal(1);
      const health = await exchange(`${origin}/_hookgate/health`);
      expect([health.status, health.json.status]).to.deep.equal([200, "ok"]);
      const history = await exchange(`${origin}/_hookgate/deliveries?route=r&limit=1`);
      expect(history.status).to.equal(200);
      expect(
        (history.json as unknown as Array<Record<string, unknown>>).map((e) => e.delivery),
      ).to.deep.equal(["d-absolute"]);
    });
  });
});
