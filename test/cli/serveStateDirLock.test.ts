// `hookgate serve` and the serve.lock another process left in its state dir: the lock names a process,
// and the start judges whether that process can still be the one that wrote it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { startServe } from "./serveHarness";

const ROUTES = `version: 1
routes:
  - name: build
    provider: github
    secret: test/github-webhook
    match: { repos: [acme/*], events: [push] }
    action: { type: jenkins, jenkins: { url: "http://127.0.0.1:9", credentials: test/jenkins }, job: x }
`;

describe("hookgate serve: a serve.lock left in the state dir", function () {
  this.timeout(30_000);
  let dir: string;
  let routes: string;
  let state: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-lock-"));
    routes = join(dir, "routes.yaml");
    writeFileSync(routes, ROUTES);
    state = join(dir, "state");
    mkdirSync(state);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe("by a serve killed before a reboot, its pid another live process's now", () => {
    let other: ChildProcess;
    beforeEach(() => {
      other = spawn("sleep", ["60"], { stdio: "ignore" });
    });
    afterEach(() => other.kill("SIGKILL"));

    it("is taken over: serve starts, and its own lock replaces the old one", async () => {
      // What an older serve wrote (its pid alone), dated before this machine booted.
      const file = join(state, "serve.lock");
      writeFileSync(file, `${other.pid}\n`);
      const beforeBoot = new Date(Date.now() - uptime() * 1000 - 60_000);
      utimesSync(file, beforeBoot, beforeBoot);
      const serve = await startServe(["--routes", routes, "--state-dir", state]);
      try {
        expect(readFileSync(file, "utf8").split("\n")[0]).to.equal(String(serve.child.pid));
      } finally {
        expect(await serve.stop("SIGTERM")).to.equal(0);
      }
    });
  });
});
