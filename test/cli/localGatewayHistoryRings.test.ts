// serve's delivery history under a flood of rejected requests, in process over real HTTP on 127.0.0.1:
// anyone who reaches the port can make serve answer 404 (an unknown route) or 401 (no signature), and those
// entries must not push the entries of real work out of GET /_hookgate/deliveries.

import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { loadRoutesFile } from "../../src/core/routes/load";
import {
  DELIVERY_HISTORY,
  type LocalGateway,
  REJECTED_HISTORY,
  startLocalGateway,
} from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { REPO_ROOT } from "./serveHarness";

const SECRET = "rings-test-secret";
const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));

function post(
  agent: http.Agent,
  port: number,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function list(port: number, query = ""): Promise<{ delivery: string; status: string }[]> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: `/_hookgate/deliveries${query}`, agent: false }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve(JSON.parse(text)));
      })
      .on("error", reject);
  });
}

describe("Function: startLocalGateway, its history under a flood of rejected requests", () => {
  let dir: string;
  let gateway: LocalGateway;
  let agent: http.Agent;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-rings-"));
    agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      maxAttempts: 1,
      runAction: async () => {
        throw new ActionError("jenkins down", { retryable: false });
      },
    });
  });
  afterEach(async () => {
    agent.destroy();
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`still lists a dead delivery after ${DELIVERY_HISTORY} unsigned POSTs to unknown and known routes, and keeps the last ${REJECTED_HISTORY} of them`, async () => {
    const delivery = randomUUID();
    const headers = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": delivery,
      "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(PUSH).digest("hex")}`,
    };
    expect(await post(agent, gateway.port, "/hooks/r", headers, PUSH)).to.equal(202);
    for (let waited = 0; !(await list(gateway.port, "?status=dead")).length; waited++) {
      expect(waited, "the delivery never ended dead").to.be.below(200);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    for (let sent = 0; sent < DELIVERY_HISTORY; sent += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          post(agent, gateway.port, i % 2 ? `/hooks/probe-${sent + i}` : "/hooks/r", {}, "x"),
        ),
      );
    }

    expect((await list(gateway.port, "?status=dead")).map((d) => d.delivery)).to.deep.equal([delivery]);
    const all = await list(gateway.port);
    expect(all.filter((d) => d.status === "rejected")).to.have.length(REJECTED_HISTORY);
    // Newest first: the rejected requests came after the dead delivery.
    expect(all.at(-1)?.delivery).to.equal(delivery);
  });
});
