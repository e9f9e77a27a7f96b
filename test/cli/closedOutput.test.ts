// serve and send write to their own stdout; a reader of it that goes away (`hookgate serve | head`, a tee or
// log shipper that dies) must not take the gateway down, nor turn send's 202 into a failure.
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BIN, NO_PROXY_ENV, outputOf, REPO_ROOT, request, startServe } from "./serveHarness";

describe("hookgate serve, send and check with a closed or failing stdout", function () {
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

  it("check whose stdout is a full device (/dev/full: ENOSPC) says its output was lost and exits 1, not the 0 of a clean check", async () => {
    const full = openSync("/dev/full", "w");
    try {
      const child = spawn(process.execPath, [BIN, "check", "--routes", "routes.yaml"], {
        cwd: REPO_ROOT,
        stdio: ["ignore", full, "pipe"],
        env: { ...process.env, NODE_OPTIONS: "" },
      });
      let stderr = "";
      child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      expect(stderr).to.contain("cannot write its output: ENOSPC");
      expect(code, stderr).to.equal(1);
    } finally {
      closeSync(full);
    }
  });

  it("a usage mistake whose message cannot be written (stderr a full device) still exits 2, its own status, not the 1 of the lost write", async () => {
    const full = openSync("/dev/full", "w");
    try {
      const child = spawn(process.execPath, [BIN, "bogus"], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "ignore", full],
        env: { ...process.env, NODE_OPTIONS: "" },
      });
      const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      expect(code).to.equal(2);
    } finally {
      closeSync(full);
    }
  });
});
