// serve with its secrets file edited into invalid JSON while it runs: the last good secrets still serve, the
// log says what is wrong with the file (never a value), and what the broken file may hold is retried, not refused.
import { createHmac, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runAction } from "../../src/actions";
import { loadRoutesFile } from "../../src/core/routes/load";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { REPO_ROOT } from "./serveHarness";

const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));

/** POSTs the push to route "r", signed with `secret`; the status serve answered. */
function post(port: number, secret: string): Promise<number> {
  const headers = {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(PUSH).digest("hex")}`,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/hooks/r", method: "POST", headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(PUSH);
  });
}

describe("serve: a secrets file edited into invalid JSON while it runs", () => {
  let dir: string;
  let gateway: LocalGateway;
  let lines: Record<string, unknown>[];
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-secrets-broken-"));
    lines = [];
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ "test/hook": "old-secret" }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: file,
      port: 0,
      retryDelayMs: 60_000,
      log: (line) => lines.push(line),
      runAction: (item, clients) => runAction(item, clients),
    });
    // The user's edit: the Jenkins credentials added and the webhook secret rotated, with a trailing comma.
    writeFileSync(
      file,
      '{\n  "test/hook": "new-secret",\n  "test/jenkins": {"user": "ci", "token": "t0k"},\n}\n',
    );
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    await new Promise((r) => setTimeout(r, 1_100)); // past the store's 1 s between checks
  });
  afterEach(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs that the file is not valid JSON, with its line and column and no value, once", async () => {
    expect(await post(gateway.port, "old-secret")).to.equal(202);
    await post(gateway.port, "old-secret");
    const told = lines.filter((l) => /not valid JSON/.test(String(l.msg)));
    expect(told.map((l) => l.msg)).to.deep.equal([
      `secrets file ${file}: not valid JSON (line 4, column 1); the last good secrets still serve`,
    ]);
    expect(JSON.stringify(lines)).to.not.include("t0k").and.not.include("new-secret");
  });

  it("retries a delivery whose action needs a secret the broken file adds, rather than dead-lettering it as not found", async () => {
    expect(await post(gateway.port, "old-secret")).to.equal(202);
    let entry = gateway.deliveries.list({ limit: 1 })[0];
    for (let i = 0; i < 100 && (entry?.status === "queued" || entry?.status === "running"); i++) {
      await new Promise((r) => setTimeout(r, 20));
      entry = gateway.deliveries.list({ limit: 1 })[0];
    }
    expect(entry?.status, JSON.stringify(entry)).to.equal("retrying");
    expect(entry?.error).to.include(
      `secret "test/jenkins" cannot be read: secrets file ${file}: not valid JSON`,
    );
  });

  it("answers 503, not 401, a delivery signed with a secret the broken file may hold", async () => {
    expect(await post(gateway.port, "new-secret")).to.equal(503);
    const line = lines.find((l) => l.msg === "delivery");
    expect(line?.error).to.include(`secret "test/hook" cannot be read: secrets file ${file}`);
  });
});
