// `hookgate serve` on a state dir it may not write: the refusal names the state dir, not the port.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BIN, NO_PROXY_ENV, REPO_ROOT } from "./serveHarness";

describe("Command: hookgate serve, on a state dir it cannot write", function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-access-"));
    chmodSync(dir, 0o755);
  });

  afterEach(() => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to start, naming the file it could not create, and never says it cannot listen", function () {
    const state = join(dir, "state");
    mkdirSync(state, { mode: 0o555 });
    chmodSync(state, 0o555);
    const args = [BIN, "serve", "--port", "0", "--state-dir", state];
    // root writes anywhere: the test then runs serve as nobody, who may not write the dir root owns.
    const asRoot = process.getuid?.() === 0;
    const result = asRoot
      ? spawnSync(
          "setpriv",
          ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, ...args],
          {
            cwd: REPO_ROOT,
            encoding: "utf8",
            env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV },
            timeout: 20_000,
            // serve traps SIGTERM, and mocha's timeout cannot interrupt spawnSync: a hung serve must die.
            killSignal: "SIGKILL",
          },
        )
      : spawnSync(process.execPath, args, {
          cwd: REPO_ROOT,
          encoding: "utf8",
          env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV },
          timeout: 20_000,
          killSignal: "SIGKILL",
        });
    const output = `${result.stdout}${result.stderr}`;
    // As root, the test needs setpriv and a checkout that nobody may read. Only those skip: a timeout
    // (a serve that never exits) or any other error is a failure.
    const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
    const noSetpriv = asRoot && code === "ENOENT";
    const unreadableCheckout =
      asRoot && !result.error && /MODULE_NOT_FOUND|Cannot find module|EACCES.*hookgate\.js/.test(output);
    if (noSetpriv || unreadableCheckout) this.skip();
    expect(result.error, `${result.error}\n${output}`).to.equal(undefined);
    expect(result.status, output).to.equal(1);
    expect(output).not.to.include("cannot listen");
    expect(output).to.include("EACCES");
    expect(output).to.include(state);
  });
});
