// serve's answers to /hooks/… write control and format characters as \uXXXX, as its /_hookgate/ answers and its
// log do: a repository or branch name quoted in a reason reaches a terminal running curl as text, not as itself.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";

function rawPost(
  port: number,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/hooks/r", method: "POST", headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const INVISIBLE = /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("hookgate serve: a route's answer holding a bidi override", () => {
  let dir: string;
  let gateway: LocalGateway;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-hook-escape-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": "s", "test/jenkins": "j" }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      runAction: async () => ({ status: "done", detail: "" }),
    });
  });
  afterEach(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a signed push from another repository (its name holding U+202E) is answered 200 ignored with the name as \\u202e", async () => {
    const payload = {
      ref: "refs/heads/main",
      before: "0".repeat(40),
      after: "1".repeat(40),
      repository: { full_name: "acme/\u202Etxt.exe", name: "\u202Etxt.exe", owner: { login: "acme" } },
      commits: [],
    };
    const body = Buffer.from(JSON.stringify(payload));
    const answer = await rawPost(
      gateway.port,
      {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "d-2",
        "x-hub-signature-256": `sha256=${createHmac("sha256", "s").update(body).digest("hex")}`,
      },
      body,
    );
    expect(answer.status, answer.text).to.equal(200);
    expect(answer.text, answer.text).to.not.match(INVISIBLE);
    expect(answer.text).to.include("acme/\\u202etxt.exe");
    // The same JSON once parsed: the reason names the repository as the payload does.
    expect(JSON.parse(answer.text).reason).to.include("acme/\u202Etxt.exe");
  });
});
