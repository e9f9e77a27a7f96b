// GitLab (Ruby Net::HTTP) writes X-Gitlab-Token as the token's UTF-8 bytes, and node:http reads header bytes
// one character per byte: the gateway must still know a genuine non-ASCII secret token, and only it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { runBinAsync } from "./checkHarness";
import { NO_PROXY_ENV, REPO_ROOT } from "./serveHarness";

const TOKEN = "p\u00e4ss-w\u00f6rd-\u20ac-token"; // as typed into GitLab's webhook form
const ROUTES = `version: 1
routes:
  - name: g
    provider: gitlab
    secret: test/hook
    match: { repos: [platform/infra/terraform] }
    action: { type: jenkins, jenkins: { url: "http://127.0.0.1:9", credentials: test/jenkins }, job: x }
`;

/** Raw HTTP/1.1 with the token header written as the given bytes; the status code and the answer's body. */
function post(port: number, token: Buffer, body: Buffer): Promise<{ status: number; text: string }> {
  const head = Buffer.concat([
    Buffer.from(
      "POST /hooks/g HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Gitlab-Event: Push Hook\r\n" +
        `Content-Length: ${body.length}\r\nConnection: close\r\nX-Gitlab-Token: `,
    ),
    token,
    Buffer.from("\r\n\r\n"),
  ]);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.end(Buffer.concat([head, body])));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      answer += d;
    });
    socket.on("close", () =>
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]),
        text: answer.slice(answer.indexOf("\r\n\r\n") + 4),
      }),
    );
    socket.on("error", reject);
  });
}

describe("hookgate serve: a GitLab secret token with non-ASCII characters, sent as raw header bytes", () => {
  let dir: string;
  let gateway: LocalGateway;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-gitlab-utf8-"));
    const routes = join(dir, "routes.yaml");
    writeFileSync(routes, ROUTES);
    const secrets = join(dir, "secrets.json");
    writeFileSync(secrets, JSON.stringify({ "test/hook": TOKEN }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(routes),
      stateDir: join(dir, "state"),
      secretsFile: secrets,
      port: 0,
      log: () => {},
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });
  });
  after(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const body = readFileSync(join(REPO_ROOT, "examples", "gitlab-push.json"));
  const cases: Array<[string, Buffer, boolean]> = [
    ["the token's UTF-8 bytes, as GitLab writes them", Buffer.from(TOKEN, "utf8"), true],
    ["another token's UTF-8 bytes (one letter changed)", Buffer.from(TOKEN.replace("p", "q"), "utf8"), false],
    ["the token's UTF-8 bytes cut before its last byte", Buffer.from(TOKEN, "utf8").subarray(0, -1), false],
  ];
  for (const [what, token, accepted] of cases) {
    it(`${accepted ? "accepts" : "refuses with 401"} ${what}`, async () => {
      const answer = await post(gateway.port, token, body);
      if (accepted) {
        expect(answer.status, answer.text).to.be.oneOf([200, 202]);
        expect(JSON.parse(answer.text)).to.deep.include({ status: "queued", route: "g" });
      } else {
        expect(answer.status, answer.text).to.equal(401);
        expect(JSON.parse(answer.text)).to.deep.include({ status: "rejected", reason: "signature invalid" });
      }
    });
  }

  // hookgate send writes the token's UTF-8 bytes, as GitLab does: serve takes the token and no other.
  const sent: Array<[string, string, boolean]> = [
    ["the secret token", TOKEN, true],
    ["another token (one letter changed)", TOKEN.replace("p", "q"), false],
  ];
  for (const [what, token, accepted] of sent) {
    it(`hookgate send --provider gitlab with ${what} is ${accepted ? "queued (exit 0)" : "refused 401 (exit 1)"}`, async () => {
      const run = await runBinAsync(
        [
          "send",
          "--url",
          `http://127.0.0.1:${gateway.port}/hooks/g`,
          "--provider",
          "gitlab",
          "--secret",
          token,
          "--event",
          "push",
          "--payload",
          "examples/gitlab-push.json",
        ],
        NO_PROXY_ENV,
      );
      expect(run.code, run.stderr).to.equal(accepted ? 0 : 1);
      const [status, ...answer] = run.stdout.split("\n");
      expect(status).to.match(accepted ? /^HTTP 20[02] / : /^HTTP 401 Unauthorized /);
      expect(JSON.parse(answer.join("\n"))).to.deep.include(
        accepted ? { status: "queued", route: "g" } : { status: "rejected", reason: "signature invalid" },
      );
    });
  }
});
