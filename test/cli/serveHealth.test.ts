// /_hookgate/health's queue counts while deliveries run: waiting is what is queued and not running, inFlight
// what runs, so that one delivery is never counted twice.
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { REPO_ROOT } from "./serveHarness";

const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));

function call(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer,
) {
  return new Promise<{ status: number; json: { queue?: unknown } }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** POSTs the push (acme/api: one queue group) to route "r", signed; the status serve answered. */
async function push(port: number): Promise<number> {
  const headers = {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": `sha256=${createHmac("sha256", "s").update(PUSH).digest("hex")}`,
  };
  return (await call(port, "POST", "/hooks/r", headers, PUSH)).status;
}

describe("serve: /_hookgate/health while deliveries run", () => {
  let dir: string;
  let gateway: LocalGateway;
  const finishers: (() => void)[] = [];
  let started: () => void = () => {};

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-health-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": "s" }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      runAction: () =>
        new Promise<ActionOutcome>((resolve) => {
          finishers.push(() => resolve({ status: "done", detail: "ok" }));
          started();
        }),
    });
  });
  afterEach(async () => {
    for (const finish of finishers.splice(0)) finish();
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const running = () =>
    new Promise<void>((resolve) => {
      started = resolve;
    });
  const queue = async () => (await call(gateway.port, "GET", "/_hookgate/health")).json.queue;

  it("counts a running delivery as in flight only: waiting 0, inFlight 1", async () => {
    const first = running();
    expect(await push(gateway.port)).to.equal(202);
    await first;
    expect(await queue()).to.deep.equal({ waiting: 0, inFlight: 1 });
  });

  it("counts a second delivery of the same repository, behind the running one, as waiting: waiting 1, inFlight 1", async () => {
    const first = running();
    expect(await push(gateway.port)).to.equal(202);
    await first;
    expect(await push(gateway.port)).to.equal(202);
    expect(await queue()).to.deep.equal({ waiting: 1, inFlight: 1 });
    const second = running();
    finishers.shift()?.();
    await second;
    expect(await queue()).to.deep.equal({ waiting: 0, inFlight: 1 });
  });
});
