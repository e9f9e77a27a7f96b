// serve's own endpoints, in process (src/local/localGateway.ts): /_hookgate/health, the delivery history's
// query, unknown paths and routes. A gateway with no routes on 127.0.0.1, real HTTP.

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { NOT_FOUND_BODY } from "../../src/core/gatewayAnswers";
import type { ActionOutcome, RoutesConfig } from "../../src/core/types";
import { startLocalGateway } from "../../src/local/localGateway";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text ? JSON.parse(text) : undefined,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** The body of GET `path`, as the bytes read (UTF-8), not parsed. */
function rawText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      })
      .on("error", reject);
  });
}

describe("Function: startLocalGateway, its own endpoints", () => {
  let dir: string;
  let gateway: Awaited<ReturnType<typeof startLocalGateway>>;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-gateway-"));
    gateway = await startLocalGateway({
      config: { version: 1, routes: [] } as unknown as RoutesConfig,
      stateDir: join(dir, "state"),
      port: 0,
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });
  });
  afterEach(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("GET /_hookgate/health answers ok with the routes, the queue, the history's counts and the state dir, as JSON", async () => {
    const answer = await request(gateway.port, "GET", "/_hookgate/health");
    expect(answer.status).to.equal(200);
    expect(answer.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(answer.body).to.deep.equal({
      status: "ok",
      routes: [],
      queue: { waiting: 0, inFlight: 0 },
      deliveries: {},
      stateDir: join(dir, "state"),
    });
    expect((await request(gateway.port, "HEAD", "/_hookgate/health")).status).to.equal(200);
  });

  it("its endpoints take only GET and HEAD: another method is 405 with allow: GET, HEAD", async () => {
    for (const path of ["/_hookgate/health", "/_hookgate/deliveries"]) {
      expect((await request(gateway.port, "HEAD", path)).status).to.equal(200);
      const answer = await request(gateway.port, "POST", path);
      expect(answer.status).to.equal(405);
      expect(answer.headers.allow).to.equal("GET, HEAD");
      expect(answer.body).to.deep.equal({ status: "rejected", reason: "only GET and HEAD are accepted" });
    }
  });

  it("a hook for a route it does not have is 404 with the deployed API's body (route and delivery null), recorded as rejected with the delivery and event from the headers", async () => {
    const answer = await request(gateway.port, "POST", "/hooks/nope", {
      "x-github-event": "push",
      "x-github-delivery": "d-1",
    });
    expect(answer.status).to.equal(404);
    expect(answer.body).to.deep.equal(NOT_FOUND_BODY);
    expect(answer.body).to.deep.equal({
      status: "rejected",
      route: null,
      delivery: null,
      reason: "unknown route",
    });
    const history = (
      await request(gateway.port, "GET", "/_hookgate/deliveries?route=nope&status=rejected&limit=5")
    ).body as Record<string, unknown>[];
    expect(history.map(({ receivedAt: _r, updatedAt: _u, ...rest }) => rest)).to.deep.equal([
      {
        delivery: "d-1",
        route: "nope",
        event: "push",
        status: "rejected",
        attempts: 0,
        reason: "404 unknown route",
        httpStatus: 404,
      },
    ]);
    expect((await request(gateway.port, "GET", "/_hookgate/deliveries?route=other")).body).to.deep.equal([]);
    expect((await request(gateway.port, "GET", "/_hookgate/deliveries?status=done")).body).to.deep.equal([]);
    expect((await request(gateway.port, "GET", "/_hookgate/deliveries")).body).to.have.length(1);
  });

  it("the history's query refuses an unknown parameter, an unknown status, a limit that is not a whole number of 1 or more (saying the history holds 500), and a parameter given twice", async () => {
    const refusals: [string, string][] = [
      ["x=1", 'unknown parameter "x"; use route, status and limit'],
      ["status=lost", "status must be one of ignored, rejected, queued, running, retrying, done, dead"],
      [
        "limit=0",
        "limit must be a whole number, 1 or more (the history holds the last 500 deliveries and the last 100 rejected)",
      ],
      [
        "limit=1.5",
        "limit must be a whole number, 1 or more (the history holds the last 500 deliveries and the last 100 rejected)",
      ],
      [
        "limit=",
        "limit must be a whole number, 1 or more (the history holds the last 500 deliveries and the last 100 rejected)",
      ],
      ["status=dead&status=lost", 'parameter "status" is given more than once; give it once'],
      ["status=dead&status=retrying", 'parameter "status" is given more than once; give it once'],
      ["limit=5&limit=0", 'parameter "limit" is given more than once; give it once'],
      ["route=a&route=b", 'parameter "route" is given more than once; give it once'],
    ];
    for (const [query, reason] of refusals) {
      const answer = await request(gateway.port, "GET", `/_hookgate/deliveries?${query}`);
      expect([query, answer.status, answer.body]).to.deep.equal([query, 400, { status: "rejected", reason }]);
    }
  });

  it("the history's query takes a limit above the 500 deliveries the history holds, and answers the whole history", async () => {
    const answer = await request(gateway.port, "GET", "/_hookgate/deliveries?limit=100000");
    expect(answer.status).to.equal(200);
    expect(answer.body).to.deep.equal((await request(gateway.port, "GET", "/_hookgate/deliveries")).body);
  });

  it("writes a request's bidi override (U+202E) and C1 control (U+009B) as \\uXXXX in /_hookgate/deliveries, which parses to the same strings", async () => {
    await request(gateway.port, "POST", "/hooks/%E2%80%AEnur.exe%C2%9B2J", {
      "x-github-event": "push",
      "x-github-delivery": "d-\u009b1",
    });
    const text = await rawText(gateway.port, "/_hookgate/deliveries");
    expect(text).to.not.match(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(text).to.include("\\u202enur.exe\\u009b2J");
    const [entry] = JSON.parse(text) as { route: string; delivery: string }[];
    expect([entry?.route, entry?.delivery]).to.deep.equal(["\u202enur.exe\u009b2J", "d-\u009b1"]);
  });

  it("any other path is 404 with the deployed API's body for a path that is no route", async () => {
    for (const path of ["/elsewhere?x=1", "/_hookgate/other", "/hooks/a/b"]) {
      const answer = await request(gateway.port, "GET", path);
      expect([path, answer.status, answer.body]).to.deep.equal([path, 404, NOT_FOUND_BODY]);
    }
  });
});
