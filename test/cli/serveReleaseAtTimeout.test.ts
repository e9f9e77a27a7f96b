// serve gives its local send no deadline, so a send still waiting on a held --fsync flush at the 503 lands: its
// claim must not be released then, or a resend takes it over as the same generation and it is queued twice.
import { randomUUID } from "node:crypto";
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { RECEIVE_DEADLINE_MS } from "../../src/core/policy";
import { loadRoutesFile } from "../../src/core/routes/load";
import { startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders, REPO_ROOT, request } from "./serveHarness";

const SECRET = "release-at-timeout-secret";
const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
const realFdatasync = fs.fdatasync;

const post = (url: string, headers: Record<string, string>) =>
  request(url, { headers, body: PUSH }).then((answer) => answer.status);

describe("serve: a 503 at the deadline while the local send is still flushing", () => {
  let dir: string;
  afterEach(() => {
    fs.fdatasync = realFdatasync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the claim pending: a resend right after it is answered 503 (in progress) and the action runs once", async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-release-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": SECRET }));
    const stateDir = join(dir, "state");
    let runs = 0;
    const gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir,
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      fsync: true,
      drainTimeoutMs: 50,
      // The deadline shortened from its 8 s default (pinned below): what it proves is the same.
      receiveTimeoutMs: 200,
      log: () => {},
      runAction: async () => {
        runs++;
        throw new ActionError("Jenkins job x answered 404", { retryable: false });
      },
    });
    try {
      const held: Array<(error: Error | null) => void> = [];
      fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) =>
        void held.push(done)) as typeof fs.fdatasync;
      const headers = githubHeaders(SECRET, PUSH, "push", randomUUID());
      // The first request's flush is held past the receive deadline: 503.
      expect(await post(`${gateway.url}/hooks/r`, headers)).to.equal(503);
      // Bitbucket Cloud resends at once (GitHub: the user's "Redeliver"). The disk answers meanwhile.
      const resend = post(`${gateway.url}/hooks/r`, headers);
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      fs.fdatasync = realFdatasync;
      for (const done of held.splice(0)) done(null);
      const second = await resend;
      // Wait for the work to settle: the first run's dead letter filed and the queue empty, nothing running. A
      // second item (the claim released and taken over) was queued before the resend was answered, so it ran by then.
      const letterFiles = () =>
        readdirSync(join(stateDir, "dead-letters")).filter((name) => name.endsWith(".json"));
      const idle = async () => {
        const health = JSON.parse((await request(`${gateway.url}/_hookgate/health`, { method: "GET" })).text);
        return health.queue.waiting === 0 && health.queue.inFlight === 0;
      };
      for (let i = 0; i < 400 && !(runs >= 1 && letterFiles().length >= 1 && (await idle())); i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      const letters = letterFiles();
      expect({ second, runs, letters: letters.length }).to.deep.equal({ second: 503, runs: 1, letters: 1 });
    } finally {
      await gateway.close();
    }
  });

  it("serve's receive deadline is by default the deployed handler's: 8 s for a GitHub route, 3 s for a Gitea one, as the README says", () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-release-"));
    expect(RECEIVE_DEADLINE_MS.github).to.equal(8_000);
    expect(RECEIVE_DEADLINE_MS.gitea).to.equal(3_000);
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8").replace(/\s+/g, " ");
    expect(readme).to.include("8 seconds where the host waits 10");
    expect(readme).to.include("3 seconds on a `gitea` route");
  });
});
