// `hookgate serve` stopping when part of its state dir cannot be written: the stop is still clean.
import { randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { loadRoutesFile } from "../../src/core/routes/load";
import { startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders, JENKINS_TOKEN, JENKINS_USER, REPO_ROOT, request, startServe } from "./serveHarness";

const SECRET = "serve-stop-test-secret";
const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));

describe("Command: hookgate serve, stopping with a state dir it cannot fully write", function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-stop-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A route for acme/api's pushes building api/build on `jenkinsUrl` (by default 127.0.0.1:9, which refuses
   * connections), with `parameters` when given, and its secrets.
   */
  function writeBuildRoute(
    jenkinsUrl = "http://127.0.0.1:9",
    parameters?: string,
  ): { routes: string; secrets: string } {
    const routes = join(dir, "routes.yaml");
    writeFileSync(
      routes,
      `version: 1
routes:
  - name: build
    provider: github
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push] }
    action:
      type: jenkins
      jenkins: { url: "${jenkinsUrl}", credentials: test/jenkins }
      job: api/build
${parameters === undefined ? "" : `      parameters: ${parameters}\n`}`,
    );
    const secrets = join(dir, "secrets.json");
    writeFileSync(
      secrets,
      JSON.stringify({
        "test/github-webhook": SECRET,
        "test/jenkins": { user: JENKINS_USER, token: JENKINS_TOKEN },
      }),
    );
    return { routes, secrets };
  }

  it("a delivery history that cannot be written (deliveries.json is a directory) does not fail the stop: exit 0, the state dir is freed", async () => {
    // Jenkins holds the build request until the stop has begun: the work then finishes during the stop,
    // so the history has a change the stop must write, and cannot.
    let buildRequested: () => void = () => undefined;
    const requested = new Promise<void>((resolve) => {
      buildRequested = resolve;
    });
    let answerBuild: () => void = () => undefined;
    const jenkins = http.createServer((req, res) => {
      req.resume();
      if (req.method === "POST" && req.url?.includes("/buildWithParameters")) {
        answerBuild = () => {
          res.writeHead(201, { location: `http://127.0.0.1:${port()}/queue/item/1/` });
          res.end();
        };
        buildRequested();
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => jenkins.listen(0, "127.0.0.1", resolve));
    const port = () => (jenkins.address() as AddressInfo).port;
    const { routes, secrets } = writeBuildRoute(
      `http://127.0.0.1:${port()}`,
      '{ DELIVERY: "{{deliveryId}}" }',
    );
    const state = join(dir, "state");
    mkdirSync(join(state, "deliveries.json"), { recursive: true });
    const serve = await startServe(["--routes", routes, "--secrets", secrets, "--state-dir", state]);
    try {
      const delivery = randomUUID();
      const answer = await request(`${serve.url}/hooks/build`, {
        headers: githubHeaders(SECRET, PUSH, "push", delivery),
        body: PUSH,
      });
      expect(answer.status, answer.text).to.equal(202);
      await requested;
      serve.child.kill("SIGTERM");
      while (!serve.output().includes("stopping")) await new Promise((resolve) => setTimeout(resolve, 20));
      answerBuild();
      const code = await serve.exited;
      expect(code, serve.output()).to.equal(0);
      expect(serve.output()).to.include("hookgate: stopped");
      expect(existsSync(join(state, "serve.lock")), "serve.lock left behind").to.equal(false);
      // The work finished: the queue journal no longer holds it for a next start.
      const journal = readFileSync(join(state, "queue", "journal.jsonl"), "utf8");
      expect(journal).to.include(`"op":"del"`);
    } finally {
      await serve.stop("SIGKILL");
      jenkins.closeAllConnections();
      await new Promise<void>((resolve) => jenkins.close(() => resolve()));
    }
  });

  it("a journal that cannot be written at stop (a full disk) does not skip the rest of the stop: the history is written, the lock released, and the stop line names the lines lost, exit 1", async () => {
    const { routes, secrets } = writeBuildRoute();
    const state = join(dir, "state");
    mkdirSync(state);
    const serve = await startServe(["--routes", routes, "--secrets", secrets, "--state-dir", state]);
    const journals = [join(state, "dedupe.jsonl")];
    try {
      // The disk fills up under the dedupe journal: every write to /dev/full fails with ENOSPC. The start's
      // compaction closed the journal, so its next write opens the path again and finds /dev/full there.
      for (const journal of journals) {
        unlinkSync(journal);
        symlinkSync("/dev/full", journal);
      }
      const delivery = randomUUID();
      const answer = await request(`${serve.url}/hooks/build`, {
        headers: githubHeaders(SECRET, PUSH, "push", delivery),
        body: PUSH,
      });
      expect(answer.status, answer.text).to.equal(202); // the queue journal took it
      const code = await serve.stop("SIGTERM");
      const output = serve.output();
      expect(code, output).to.equal(1);
      // The delivery's claim and its queued mark.
      expect(output.trim().split("\n").pop()).to.equal(
        "hookgate: stopped; dedupe.jsonl: 2 lines could not be written (ENOSPC: no space left on device, write)",
      );
      expect(existsSync(join(state, "serve.lock")), "serve.lock left behind").to.equal(false);
      expect(readFileSync(join(state, "deliveries.json"), "utf8")).to.include(delivery);
    } finally {
      await serve.stop("SIGKILL");
      for (const journal of journals) rmSync(journal, { force: true });
    }
  });

  it("a delivery refused for a full disk (503) leaves no line behind for the stop to write: its claim, release and put are taken back, exit 0", async () => {
    const { routes, secrets } = writeBuildRoute();
    const state = join(dir, "state");
    mkdirSync(state);
    const serve = await startServe(["--routes", routes, "--secrets", secrets, "--state-dir", state]);
    const journals = [join(state, "queue", "journal.jsonl"), join(state, "dedupe.jsonl")];
    try {
      // The disk fills up: every write to /dev/full fails with ENOSPC (the start's compactions closed the
      // journals, so their next writes open the paths again).
      for (const journal of journals) {
        unlinkSync(journal);
        symlinkSync("/dev/full", journal);
      }
      const answer = await request(`${serve.url}/hooks/build`, {
        headers: githubHeaders(SECRET, PUSH, "push", randomUUID()),
        body: PUSH,
      });
      expect(answer.status, answer.text).to.equal(503);
      const code = await serve.stop("SIGTERM");
      const output = serve.output();
      expect({ code, last: output.trim().split("\n").pop() }, output).to.deep.equal({
        code: 0,
        last: "hookgate: stopped",
      });
    } finally {
      await serve.stop("SIGKILL");
      for (const journal of journals) rmSync(journal, { force: true });
    }
  });

  it("a second SIGTERM during the stop's wait for work in flight stops at once with exit status 143 (128 + SIGTERM), the work left queued", async () => {
    // Jenkins never answers the build request: the work is in flight when the signals come.
    let buildRequested: () => void = () => undefined;
    const requested = new Promise<void>((resolve) => {
      buildRequested = resolve;
    });
    const jenkins = http.createServer((req, res) => {
      req.resume();
      if (req.method === "POST" && /\/build(\?|$)/.test(req.url ?? "")) {
        buildRequested();
        return;
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((resolve) => jenkins.listen(0, "127.0.0.1", resolve));
    const { routes, secrets } = writeBuildRoute(
      `http://127.0.0.1:${(jenkins.address() as AddressInfo).port}`,
    );
    const state = join(dir, "state");
    const serve = await startServe(["--routes", routes, "--secrets", secrets, "--state-dir", state]);
    try {
      const delivery = randomUUID();
      const answer = await request(`${serve.url}/hooks/build`, {
        headers: githubHeaders(SECRET, PUSH, "push", delivery),
        body: PUSH,
      });
      expect(answer.status, answer.text).to.equal(202);
      await requested;
      serve.child.kill("SIGTERM");
      while (!serve.output().includes("stopping (waiting"))
        await new Promise((resolve) => setTimeout(resolve, 20));
      serve.child.kill("SIGTERM");
      expect(await serve.exited, serve.output()).to.equal(143);
      expect(serve.output()).to.include("hookgate: stopping right away; queued work stays in the state dir");
      expect(readFileSync(join(state, "queue", "journal.jsonl"), "utf8")).to.include(delivery);
    } finally {
      await serve.stop("SIGKILL");
      jenkins.closeAllConnections();
      await new Promise<void>((resolve) => jenkins.close(() => resolve()));
    }
  });
});

/** A POST to route r that sends its head and one byte of a 100,000-byte body, and no more: it is being answered. */
function bodyStillArriving(gatewayUrl: string): http.ClientRequest {
  const slow = http.request(`${gatewayUrl}/hooks/r`, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/json", "content-length": "100000", "x-github-event": "push" },
  });
  slow.on("error", () => undefined);
  slow.write("{");
  return slow;
}

describe("Function: startLocalGateway's close, under docker stop's grace", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-stop-grace-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("the wait for requests being answered and the wait for work in flight share one deadline: the stop releases serve.lock by it, the work left queued", async () => {
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    const stateDir = join(dir, "state");
    const budgetMs = 500;
    let actionRunning = () => {};
    const running = new Promise<void>((resolve) => {
      actionRunning = resolve;
    });
    let finishAction = () => {};
    const gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir,
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      drainTimeoutMs: budgetMs,
      log: () => {},
      runAction: () => {
        actionRunning();
        // The action ends half a budget after the deadline: a stop that gives the work a budget of its own
        // after the answers' wait sees it finish, and ends past the deadline.
        return new Promise((resolve) => {
          finishAction = () => resolve({ status: "done", detail: "built" });
        });
      },
    });
    let slow: http.ClientRequest | undefined;
    try {
      const accepted = await request(`${gateway.url}/hooks/r`, {
        headers: githubHeaders(SECRET, PUSH, "push", randomUUID()),
        body: PUSH,
      });
      expect(accepted.status).to.equal(202);
      await running;
      // A delivery whose body is still arriving when the stop comes: it holds the answers' wait to its end.
      slow = bodyStillArriving(gateway.url);
      await new Promise((resolve) => setTimeout(resolve, 100)); // its head read: the request is being answered
      const finishing = setTimeout(() => finishAction(), budgetMs * 1.5);
      const stopped = await gateway.close();
      clearTimeout(finishing);
      expect({ drained: stopped.drained, lockLeft: existsSync(join(stateDir, "serve.lock")) }).to.deep.equal({
        drained: false,
        lockLeft: false,
      });
    } finally {
      slow?.destroy();
      finishAction();
      await gateway.close();
    }
  });

  it("no delivery starts once the stop has begun: a retry whose backoff ends while the stop waits for a request being answered is left queued, not started and cut at the deadline", async () => {
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    const attempts: number[] = [];
    let release = () => {};
    const gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      drainTimeoutMs: 1_500,
      retryDelayMs: 300,
      log: () => {},
      runAction: async () => {
        attempts.push(performance.now());
        // The first attempt fails retryable (Jenkins answered 503); a second would hold (a slow Jenkins).
        if (attempts.length === 1) throw new ActionError("jenkins answered 503", { retryable: true });
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { status: "done", detail: "built" };
      },
    });
    let slow: http.ClientRequest | undefined;
    try {
      const accepted = await request(`${gateway.url}/hooks/r`, {
        headers: githubHeaders(SECRET, PUSH, "push", randomUUID()),
        body: PUSH,
      });
      expect(accepted.status).to.equal(202);
      while (attempts.length < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      // A delivery whose body is still arriving when the stop comes: the answers' wait runs past the backoff.
      slow = bodyStillArriving(gateway.url);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopAt = performance.now();
      const stopped = await gateway.close();
      expect({
        startedDuringStop: attempts.filter((at) => at > stopAt).length,
        drained: stopped.drained,
      }).to.deep.equal({ startedDuringStop: 0, drained: true });
    } finally {
      slow?.destroy();
      release();
      await gateway.close();
    }
  });
});
