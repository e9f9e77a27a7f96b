// serve's cap on the body bytes it reads at once across requests (MAX_BODY_BYTES_READING), in process over
// real HTTP on 127.0.0.1: bodies are read whole before anything is verified, so without it a few
// connections that never finish their 10 MB bodies hold memory for as long as node:http lets them.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { SERVE_SLOW_CLIENT_TIMEOUTS } from "../../src/cli/serve";
import { MAX_BODY_BYTES } from "../../src/core/policy";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { type LocalGateway, MAX_BODY_BYTES_READING, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";

const SECRET = "budget-test-secret";
/** Each held request declares this much: under the 10 MB a body may be. */
const DECLARED = 10_000_000;

/** Opens a connection, writes `text`, and resolves with it once serve has the bytes' connection. */
function hold(port: number, text: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text, () => resolve(socket)));
    socket.on("error", reject);
  });
}

/** Resolves with what came back on `socket` once a JSON body has (its closing brace). */
function answerOn(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      text += d;
      if (text.includes("}")) resolve(text);
    });
  });
}

function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("Function: startLocalGateway, the body bytes it reads at once", () => {
  let dir: string;
  let gateway: LocalGateway;
  let sockets: net.Socket[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-budget-"));
    sockets = [];
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });
  });
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Requests to route r each sending all but one byte of a 10 MB body: together they hold `count` times that.
   * Resolves once each has written its bytes (serve reads them as they come).
   */
  async function holdBodies(count = Math.floor(MAX_BODY_BYTES_READING / DECLARED)): Promise<void> {
    expect(DECLARED).to.be.at.most(MAX_BODY_BYTES);
    const almost = Buffer.alloc(DECLARED - 1, 97);
    for (let i = 0; i < count; i++) {
      const head = `POST /hooks/r HTTP/1.1\r\nHost: x\r\nX-GitHub-Delivery: d-${i}\r\nContent-Length: ${DECLARED}\r\n\r\n`;
      sockets.push(await hold(gateway.port, head));
      const socket = sockets[sockets.length - 1] as net.Socket;
      await new Promise<void>((resolve) => socket.write(almost, () => resolve()));
    }
    // Answered after the bodies sent before it on other connections: a turn for serve to read them.
    expect((await request(gateway.port, "GET", "/_hookgate/health")).status).to.equal(200);
  }

  it("answers 503 with Retry-After and Connection: close, in the contract's JSON, to the request whose body's bytes pass the cap", async () => {
    // Seven bodies of all but one byte of 10 MB: 70 MB, past the 64 MiB cap; the one that passes it is refused.
    const answers = holdBodies(7).then(() => Promise.race(sockets.map(answerOn)));
    const answer = await answers;
    expect(answer).to.match(/^HTTP\/1\.1 503 /);
    expect(answer.toLowerCase()).to.include("retry-after: 30\r\n").and.include("connection: close\r\n");
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(body).to.deep.include({
      status: "unavailable",
      route: "r",
      reason: "serve is reading too many request bodies at once; redeliver later",
    });
  });

  // A declared length was reserved whole at once: seven heads of ~100 bytes locked every delivery out for the
  // request timeout (review h383). Only bytes that came count.
  it("holds nothing for heads that declare 10 MB and send no body: a real delivery is still read", async () => {
    for (const length of [...Array(6).fill(DECLARED), 7_000_000]) {
      sockets.push(
        await hold(gateway.port, `POST /hooks/r HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`),
      );
    }
    expect((await request(gateway.port, "GET", "/_hookgate/health")).status).to.equal(200);
    const body = Buffer.alloc(200_000, 97);
    const headers = { "x-github-event": "push", "content-length": String(body.length) };
    expect((await request(gateway.port, "POST", "/hooks/r", headers, body)).status).to.equal(401);
  });

  it("reads a large body again once the requests holding the bytes are gone: their share is given back", async () => {
    await holdBodies();
    for (const socket of sockets) socket.destroy();
    // Answered after the closes: serve has seen them.
    await request(gateway.port, "GET", "/_hookgate/health");
    const body = Buffer.alloc(DECLARED, 97);
    const headers = { "x-github-event": "push", "content-length": String(body.length) };
    // Read whole and refused for its missing signature, not 503: the held share went with its requests.
    expect((await request(gateway.port, "POST", "/hooks/r", headers, body)).status).to.equal(401);
  });

  it("serve gives node:http a whole-request time of 30 s at most, not Node's 300 s (a Git host gives up after 10 s)", () => {
    expect(SERVE_SLOW_CLIENT_TIMEOUTS.requestMs).to.be.at.most(30_000);
    expect(SERVE_SLOW_CLIENT_TIMEOUTS.headersMs).to.be.at.most(SERVE_SLOW_CLIENT_TIMEOUTS.requestMs);
  });
});
