// Who may read serve's own endpoints (/_hookgate/*): loopback clients, unless --expose-status (exposeStatus)
// opens them to every client. A gateway on 0.0.0.0, reached at this machine's own non-loopback address,
// whose connections then come from that address, as a LAN peer's would.

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { ActionOutcome, RoutesConfig } from "../../src/core/types";
import { startLocalGateway } from "../../src/local/localGateway";

/** This machine's first non-loopback IPv4 address, or undefined (the tests are then skipped). */
function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === "IPv4" && !entry.internal) return entry.address;
  }
  return undefined;
}

function get(host: string, port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method: "GET", agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Function: startLocalGateway, who reads /_hookgate/*", () => {
  const lan = lanAddress();
  let dir: string;
  let gateway: Awaited<ReturnType<typeof startLocalGateway>> | undefined;

  before(function () {
    if (!lan) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-status-access-"));
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (exposeStatus?: boolean) => {
    gateway = await startLocalGateway({
      config: { version: 1, routes: [] } as unknown as RoutesConfig,
      stateDir: join(dir, "state"),
      host: "0.0.0.0",
      port: 0,
      runAction: async () => ({ detail: "" }) as ActionOutcome,
      ...(exposeStatus === undefined ? {} : { exposeStatus }),
    });
    return gateway.port;
  };

  it("answers /_hookgate/health and /_hookgate/deliveries 403 to a non-loopback client, naming --expose-status", async () => {
    const port = await start();
    for (const path of ["/_hookgate/health", "/_hookgate/deliveries", "/_hookgate/deliveries?status=dead"]) {
      const answer = await get(lan as string, port, path);
      expect(answer.status, path).to.equal(403);
      expect(JSON.parse(answer.text)).to.deep.equal({
        status: "rejected",
        route: null,
        delivery: null,
        reason: "/_hookgate/ answers loopback clients only; start serve with --expose-status to open it",
      });
      expect(answer.text).not.to.include(dir);
    }
  });

  it("still answers /_hookgate/health, with the state dir, to a loopback client", async () => {
    const port = await start();
    const answer = await get("127.0.0.1", port, "/_hookgate/health");
    expect(answer.status).to.equal(200);
    expect(JSON.parse(answer.text)).to.include({ status: "ok", stateDir: join(dir, "state") });
    expect((await get("127.0.0.1", port, "/_hookgate/deliveries")).status).to.equal(200);
  });

  it("with exposeStatus answers a non-loopback client, but without the state dir's path", async () => {
    const port = await start(true);
    const health = await get(lan as string, port, "/_hookgate/health");
    expect(health.status).to.equal(200);
    expect(JSON.parse(health.text)).to.include({ status: "ok" });
    expect(health.text).not.to.include(dir);
    expect((await get(lan as string, port, "/_hookgate/deliveries")).status).to.equal(200);
  });

  it("answers a non-loopback client's delivery as before: the route decides, not the source", async () => {
    const port = await start();
    const answer = await get(lan as string, port, "/hooks/nope");
    expect(answer.status).to.equal(404);
  });
});
