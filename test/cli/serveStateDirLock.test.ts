// `hookgate serve` and the serve.lock another process left in its state dir: the lock names a process,
// and the start judges whether that process can still be the one that wrote it.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BIN, NO_PROXY_ENV, outputOf, REPO_ROOT, startServe } from "./serveHarness";

/** Whether this machine lets us run a process in a pid namespace of its own, as a container does. */
const canUnshare = spawnSync("unshare", ["--pid", "--fork", "--kill-child", "true"]).status === 0;

/** `hookgate serve` in a pid namespace of its own (pid 1 there), as in a container. */
function serveInContainer(args: string[]): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
} {
  const child = spawn(
    "unshare",
    ["--pid", "--fork", "--kill-child", process.execPath, BIN, "serve", "--port", "0", ...args],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV },
    },
  );
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return { child, output: outputOf(child), exited };
}

/** Resolves once `serve` listens or has exited, with which. */
async function listeningOrExited(
  serve: ReturnType<typeof serveInContainer>,
): Promise<"listening" | "exited"> {
  let exited = false;
  serve.exited.then(() => {
    exited = true;
  });
  while (!exited && !/hookgate listening on/.test(serve.output()))
    await new Promise((r) => setTimeout(r, 25));
  return /hookgate listening on/.test(serve.output()) ? "listening" : "exited";
}

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

  describe("by a serve in another container (pid namespace) on the same state dir, both pid 1 there", () => {
    const children: ChildProcess[] = [];
    beforeEach(function () {
      if (!canUnshare) this.skip();
    });
    afterEach(() => {
      for (const child of children.splice(0)) child.kill("SIGKILL");
    });

    it("refuses to start while the other serves, naming its pid and host, and leaves its lock alone", async () => {
      const args = ["--routes", routes, "--state-dir", state];
      const first = serveInContainer(args);
      children.push(first.child);
      expect(await listeningOrExited(first), first.output()).to.equal("listening");
      const lock = readFileSync(join(state, "serve.lock"), "utf8");
      expect(lock.split("\n")[0]).to.equal("1");
      const second = serveInContainer(args);
      children.push(second.child);
      expect(await listeningOrExited(second), second.output()).to.equal("exited");
      expect(second.output()).to.contain(
        `the state dir ${state} is in use by another hookgate serve (pid 1 on host ${hostname()}, in another ` +
          "container or on another machine; its lock is taken over if not renewed by ",
      );
      expect(readFileSync(join(state, "serve.lock"), "utf8")).to.equal(lock);
    });

    it("a serve paused past its lease and taken over exits 1 once it resumes, naming the new holder, and leaves the lock to it", async () => {
      const args = ["--routes", routes, "--state-dir", state];
      const first = serveInContainer(args);
      children.push(first.child);
      expect(await listeningOrExited(first), first.output()).to.equal("listening");
      // `unshare --fork`'s child, pid 1 in its namespace: the serve.
      const firstPid = Number(
        readFileSync(`/proc/${first.child.pid}/task/${first.child.pid}/children`, "utf8")
          .trim()
          .split(" ")[0],
      );
      // Paused (docker pause, SIGSTOP) long enough for its lease to lapse: 31 s unrenewed.
      process.kill(firstPid, "SIGSTOP");
      const lapsed = new Date(Date.now() - 31_000);
      utimesSync(join(state, "serve.lock"), lapsed, lapsed);
      const second = serveInContainer(args);
      children.push(second.child);
      expect(await listeningOrExited(second), second.output()).to.equal("listening");
      const secondLock = readFileSync(join(state, "serve.lock"), "utf8");
      process.kill(firstPid, "SIGCONT");
      // Its next renewal (within 5 s) finds the lock is the second's.
      expect(await first.exited).to.equal(1);
      expect(first.output()).to.contain(
        `serve.lock was taken over by another hookgate serve (pid 1 on host ${hostname()})`,
      );
      expect(readFileSync(join(state, "serve.lock"), "utf8")).to.equal(secondLock);
    });
  });
});
