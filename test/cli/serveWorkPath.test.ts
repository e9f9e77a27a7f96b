// serve's work path against the deployed one (createRouteHandler under Lambda and SQS): the queue waits the delay
// the work path decided for a failed record, and each attempt has the deployed function's time. In process
// (startLocalGateway), real HTTP, real state dir.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runAction } from "../../src/actions";
import { ActionError } from "../../src/core/errors";
import { LAMBDA_TIMEOUT_SECONDS } from "../../src/core/policy";
import { loadRoutesFile } from "../../src/core/routes/load";
import { MIN_ACTION_MS, WORK_RESERVE_MS } from "../../src/gateway/routeHandler";
import { LocalDeadLetters } from "../../src/local/localDeadLetters";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders } from "./serveHarness";

const PUSH = readFileSync(join(__dirname, "..", "..", "examples", "github-push.json"));
/**
 * The work path's reserve and shortest action, shortened from the deployed WORK_RESERVE_MS and MIN_ACTION_MS
 * (pinned below) where an attempt's time must run out: the reserve stays above ANSWER_MARGIN_MS, as deployed.
 */
const SHORT = { workReserveMs: 1_200, minActionMs: 300 };

interface Entry {
  delivery: string;
  status: string;
  attempts: number;
  reason?: string;
  error?: string;
}

let dir: string;
let gateway: LocalGateway | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hookgate-serve-work-"));
});
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(
  options: Partial<LocalGatewayOptions> & Pick<LocalGatewayOptions, "runAction">,
  routesYaml = ROUTE_R_YAML,
) {
  const routes = join(dir, "routes.yaml");
  writeFileSync(routes, routesYaml);
  gateway = await startLocalGateway({
    config: loadRoutesFile(routes),
    stateDir: join(dir, "state"),
    port: 0,
    // An attempt that never ends must not hold up the stop of a test that failed.
    drainTimeoutMs: 100,
    ...options,
  });
  return gateway;
}

async function deliver(g: LocalGateway, delivery: string): Promise<void> {
  const secret = JSON.parse(readFileSync(g.secretsFile, "utf8"))["test/hook"] as string;
  const answer = await fetch(`${g.url}/hooks/r`, {
    method: "POST",
    headers: githubHeaders(secret, PUSH, "push", delivery),
    body: PUSH,
  });
  expect(answer.status).to.equal(202);
}

/** The delivery's history entry once `done` says so (polled; undefined if it never does). */
async function entryWhen(
  g: LocalGateway,
  delivery: string,
  done: (entry: Entry) => boolean,
  polls = 400,
): Promise<Entry | undefined> {
  let entry: Entry | undefined;
  for (let i = 0; i < polls; i++) {
    const list = (await (await fetch(`${g.url}/_hookgate/deliveries?route=r`)).json()) as Entry[];
    entry = list.find((e) => e.delivery === delivery);
    if (entry && done(entry)) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
  return entry;
}

const rateLimited = () =>
  new ActionError("GitHub API answered 429", { retryable: true, retryAfterMs: 600_000 });

describe("The work path's reserve and shortest action, which serve's attempts keep as deployed", () => {
  it("are 5 s and 10 s, as the README says", () => {
    expect([WORK_RESERVE_MS, MIN_ACTION_MS]).to.deep.equal([5_000, 10_000]);
    expect(readFileSync(join(__dirname, "..", "..", "README.md"), "utf8")).to.include(
      "(10 s for the action beyond the 5 s the work path keeps)",
    );
  });
});

describe("Function: startLocalGateway, the retry delay is the one the work path decided", () => {
  it("a retryable failure with a Retry-After of 600 s comes back after 600 s, as the handler decided", async () => {
    const g = await start({
      maxAttempts: 2,
      retryDelayMs: 1_000,
      runAction: async () => Promise.reject(rateLimited()),
    });
    await deliver(g, "d-after");
    const entry = await entryWhen(g, "d-after", (e) => e.status === "retrying");
    expect(entry).to.deep.include({ status: "retrying", reason: "next attempt in 600000 ms" });
  });

  it("a last attempt rate-limited for 600 s whose dead letter cannot be written comes back after the attempt's delay (1 s), which ignores the Retry-After, as deployed", async () => {
    const g = await start({
      maxAttempts: 1,
      retryDelayMs: 1_000,
      runAction: async () => Promise.reject(rateLimited()),
    });
    // The dead letters cannot be written (a file where their directory was): the dead-letter send fails.
    const deadLetters = join(dir, "state", "dead-letters");
    rmSync(deadLetters, { recursive: true, force: true });
    writeFileSync(deadLetters, "");
    await deliver(g, "d-dlq");
    const entry = await entryWhen(g, "d-dlq", (e) => e.status === "retrying");
    expect(entry).to.deep.include({ status: "retrying", reason: "next attempt in 1000 ms" });
  });
});

describe("Function: startLocalGateway, the action's temp directory", () => {
  it("is <state-dir>/tmp, told shared (sharedTmpDir): the s3-zip runs in progress download to its disk together, so a full disk is retried", async () => {
    const given: Array<{ tmpDir?: string; sharedTmpDir?: boolean }> = [];
    const g = await start({
      runAction: async (_item, { tmpDir, sharedTmpDir }) => {
        given.push({ tmpDir, sharedTmpDir });
        return { status: "done", detail: "" };
      },
    });
    await deliver(g, "d-tmp");
    await entryWhen(g, "d-tmp", (e) => e.status === "done");
    expect(given).to.deep.equal([{ tmpDir: join(dir, "state", "tmp"), sharedTmpDir: true }]);
  });
});

describe("Function: startLocalGateway, the secret names' prefix", () => {
  it('is "": serve reads the names routes.yaml writes, so a commit status judges them as check does', async () => {
    const given: Array<string | undefined> = [];
    const g = await start({
      runAction: async (_item, { secretNamePrefix }) => {
        given.push(secretNamePrefix);
        return { status: "done", detail: "" };
      },
    });
    await deliver(g, "d-prefix");
    await entryWhen(g, "d-prefix", (e) => e.status === "done");
    expect(given).to.deep.equal([""]);
  });
});

describe("Function: startLocalGateway, each attempt has the deployed function's time", () => {
  it("the action is given the deadline the deployed one is: the attempt's time (by default the stack's lambda.timeoutSeconds) less the work path's reserve", async () => {
    const deadlines: Array<number | undefined> = [];
    const g = await start({
      runAction: async (_item, clients) => {
        deadlines.push(clients.deadlineMs);
        return { status: "done", detail: "" };
      },
    });
    const before = Date.now();
    await deliver(g, "d-deadline");
    await entryWhen(g, "d-deadline", (e) => e.status === "done");
    const after = Date.now();
    expect(deadlines).to.have.length(1);
    const left = LAMBDA_TIMEOUT_SECONDS.fallback * 1_000 - WORK_RESERVE_MS;
    expect(deadlines[0]).to.be.within(before + left, after + left);
    // Whole milliseconds, as from Lambda's getRemainingTimeInMillis: S3 calls turn it into AbortSignal.timeout.
    expect(Number.isInteger(deadlines[0])).to.equal(true);
  });

  it("an action cut at its deadline is retried after the work path's backoff, counted, and dead after the last attempt", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const g = await start({
      maxAttempts: 2,
      retryDelayMs: 10,
      log: (line) => void lines.push(line),
      // A dependency that never answers, as the actions' calls honour a deadline: cut there (at once here), and
      // without one never.
      runAction: (_item, clients) =>
        clients.deadlineMs === undefined
          ? new Promise(() => undefined)
          : Promise.reject(
              new ActionError("Jenkins timed out, where the function's time ran out", { retryable: true }),
            ),
    });
    await deliver(g, "d-cut");
    const entry = await entryWhen(g, "d-cut", (e) => e.status === "dead");
    expect(entry).to.deep.include({ status: "dead", attempts: 2 });
    expect(entry?.error).to.match(/^gave up after 2 receives: Jenkins timed out/);
    const attempts = lines.filter((line) => line.msg === "attempt");
    expect(attempts.map((line) => [line.attempt, line.outcome, line.retryInMs])).to.deep.equal([
      [1, "retry", 10],
      [2, "dead", undefined],
    ]);
  });

  it("a Jenkins that accepts the connection and never answers fails the attempt at its deadline, retryable, and its last attempt ends dead", async () => {
    const requests: string[] = [];
    const stalled = http.createServer((req) => void requests.push(`${req.method} ${req.url}`));
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    const port = (stalled.address() as AddressInfo).port;
    try {
      const secrets = join(dir, "secrets.json");
      writeFileSync(
        secrets,
        JSON.stringify({ "test/hook": "s3cr3t-hook", "test/jenkins": { user: "ci", token: "t0ken" } }),
      );
      const g = await start(
        {
          secretsFile: secrets,
          maxAttempts: 1,
          // The shortest attempt the work path starts an action in: its reserve, its shortest action, and a little more.
          ...SHORT,
          timeoutMs: SHORT.workReserveMs + SHORT.minActionMs + 300,
          runAction: (item, clients) => runAction(item, clients),
        },
        ROUTE_R_YAML.replace("http://127.0.0.1:9", `http://127.0.0.1:${port}`),
      );
      await deliver(g, "d-stalled");
      const entry = await entryWhen(g, "d-stalled", (e) => e.status === "dead", 4_000);
      expect(requests.length).to.be.greaterThan(0);
      expect(entry).to.deep.include({ status: "dead", attempts: 1 });
      // Retryable ("gave up after", not "final:"), cut where the attempt's time ran out.
      expect(entry?.error).to.match(/^gave up after 1 receives: .*time ran out/);
    } finally {
      stalled.closeAllConnections();
      stalled.close();
    }
  });
});

describe("Function: startLocalGateway, the state directory's writes are awaited to their end", () => {
  it("a last attempt whose dead-letter write ends past the attempt's deadline is dead-lettered once and its action runs once", async () => {
    // A slow disk: each dead letter lands 1.2 s after it is sent, past the deadline the deployed work path would
    // give the send (half of the ~0.8 s left after ANSWER_MARGIN_MS, and 250 ms of grace) but within the attempt's
    // 1.8 s, as an fsync behind a big archive's writeback.
    const send = LocalDeadLetters.prototype.send;
    const landing: Array<Promise<void>> = [];
    LocalDeadLetters.prototype.send = function (this: LocalDeadLetters, ...args) {
      const landed = new Promise((r) => setTimeout(r, 1_200)).then(() => send.apply(this, args));
      landing.push(landed);
      return landed;
    };
    try {
      let runs = 0;
      const g = await start({
        maxAttempts: 1,
        retryDelayMs: 10,
        // The shortest attempt the work path starts an action in.
        ...SHORT,
        timeoutMs: SHORT.workReserveMs + SHORT.minActionMs + 300,
        runAction: async () => {
          runs++;
          throw new ActionError("Jenkins answered 404", { retryable: false });
        },
      });
      await deliver(g, "d-slow-letter");
      const entry = await entryWhen(g, "d-slow-letter", (e) => e.status === "dead", 1_500);
      await Promise.all(landing);
      const letters = readdirSync(join(dir, "state", "dead-letters")).filter((n) => n.endsWith(".json"));
      expect(letters, "dead letters filed").to.have.length(1);
      expect(runs, "times the action ran").to.equal(1);
      expect(entry).to.deep.include({ status: "dead", attempts: 1 });
    } finally {
      LocalDeadLetters.prototype.send = send;
    }
  });
});
