// serve and send write to their own stdout; a reader of it that goes away (`hookgate serve | head`, a tee or
// log shipper that dies) must not take the gateway down, nor turn send's 202 into a failure.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BIN, NO_PROXY_ENV, outputOf, REPO_ROOT, request, startServe } from "./serveHarness";

describe("hookgate serve and send with a closed stdout pipe", function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-epipe-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("serve keeps answering deliveries after the reader of its stdout goes away (EPIPE)", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--state-dir", join(dir, "st")], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV },
    });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    let out = "";
    const url = await new Promise<string>((resolve) => {
      child.stdout?.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        const m = /hookgate listening on (http:\/\/\S+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
    });
    // The reader goes away (as `| head` does once it has its lines).
    child.stdout?.destroy();
    try {
      // Deliveries to an unknown route: each answered 404 and logged to stdout, written on the next turn of
      // serve's event loop. The first write to the closed pipe fails (EPIPE); serve must answer all of them.
      for (let i = 0; i < 20; i++) {
        const answer = await request(`${url}/hooks/nope`, { body: "{}" });
        expect(answer.status).to.equal(404);
      }
      const health = await request(`${url}/_hookgate/health`, { method: "GET" });
      expect(health.status).to.equal(200);
      expect(child.exitCode, `serve exited; stderr:\n${stderr}`).to.equal(null);
      expect(stderr).not.to.match(/Unhandled 'error' event/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("send exits 0 for a 202 when the reader of its stdout is gone, without an unhandled error event", async () => {
    const serve = await startServe(["--state-dir", join(dir, "st2")]);
    try {
      const secrets = JSON.parse(readFileSync(join(dir, "st2", "secrets.json"), "utf8"));
      const child = spawn(
        process.execPath,
        [
          BIN,
          "send",
          "--url",
          `${serve.url}/hooks/api-build`,
          "--secret",
          secrets["hookgate/github-webhook"],
          "--event",
          "push",
          "--payload",
          "examples/github-push.json",
        ],
        { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_OPTIONS: "" } },
      );
      child.stdout?.destroy();
      const output = outputOf(child);
      const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      expect(output()).not.to.match(/Unhandled 'error' event/);
      expect(code).to.equal(0);
    } finally {
      await serve.stop();
    }
  });
});
