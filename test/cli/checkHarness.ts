// Runs the real CLI: in-process through main() with captured streams, or as a child process of bin/hookgate.js.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { main } from "../../src/cli/main";

export const REPO_ROOT = join(__dirname, "../..");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runInProcess(argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

export function runBin(argv: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, "bin/hookgate.js"), ...argv], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, HOOKGATE_DEBUG: "", ...env },
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs bin/hookgate.js as runBin does, without blocking: for a command talking to a server of the same test
 * process. `env` is added to the test's own environment.
 */
export function runBinAsync(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/hookgate.js"), ...argv], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOOKGATE_DEBUG: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Runs bin/hookgate.js with its stdout piped to a reader that closes the pipe after the first chunk, as
 * `| head -1` does; resolves with the exit status and everything written to stderr.
 */
export function runBinClosingStdoutEarly(
  argv: string[],
): Promise<{ code: number | null; firstChunk: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/hookgate.js"), ...argv], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOOKGATE_DEBUG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let firstChunk = "";
    let stderr = "";
    child.stdout.once("data", (chunk: Buffer) => {
      firstChunk = chunk.toString("utf8");
      child.stdout.destroy();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, firstChunk, stderr }));
  });
}

/** A stack frame in output means a user saw a crash instead of a message. */
export const STACK_FRAME = /^\s+at /m;

/** The example GitHub push `hookgate send` posts in the CLI tests. */
export const SEND_PAYLOAD = join(REPO_ROOT, "examples/github-push.json");

/** `hookgate send` to `url` with a secret, the push event and SEND_PAYLOAD, then `extra`. */
export function sendArgs(url: string, ...extra: string[]): string[] {
  return [
    "send",
    "--url",
    url,
    "--secret",
    "s3cr3tvalue",
    "--event",
    "push",
    "--payload",
    SEND_PAYLOAD,
    ...extra,
  ];
}
