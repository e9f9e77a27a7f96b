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
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome, WorkItem } from "../../src/core/types";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
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
    writeFileSync(
      routes,
      `version: 1
routes:
  - name: r
    secret: test/hook
    match: { repos: [acme/api] }
    action: { type: jenkins, jenkins: { url: "http://127.0.0.1:9", credentials: test/jenkins }, job: x }
`,
    );
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
});
