// serve's work path against the deployed one (createRouteHandler under Lambda and SQS): the queue waits the delay
// the work path decided for a failed record. In process (startLocalGateway), real HTTP, real state dir.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { loadRoutesFile } from "../../src/core/routes/load";
import { type LocalGateway, type LocalGatewayOptions, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders } from "./serveHarness";

const PUSH = readFileSync(join(__dirname, "..", "..", "examples", "github-push.json"));

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

async function start(options: Partial<LocalGatewayOptions> & Pick<LocalGatewayOptions, "runAction">) {
  const routes = join(dir, "routes.yaml");
  writeFileSync(routes, ROUTE_R_YAML);
  gateway = await startLocalGateway({
    config: loadRoutesFile(routes),
    stateDir: join(dir, "state"),
    port: 0,
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
): Promise<Entry | undefined> {
  let entry: Entry | undefined;
  for (let i = 0; i < 400; i++) {
    const list = (await (await fetch(`${g.url}/_hookgate/deliveries?route=r`)).json()) as Entry[];
    entry = list.find((e) => e.delivery === delivery);
    if (entry && done(entry)) return entry;
    await new Promise((r) => setTimeout(r, 10));
  }
  return entry;
}

const rateLimited = () =>
  new ActionError("GitHub API answered 429", { retryable: true, retryAfterMs: 600_000 });

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
