// Test harness for `hookgate serve`: runs it as a CHILD process (node bin/hookgate.js serve --port 0),
// parses the "hookgate listening on URL" line, and offers signed-delivery and polling helpers.
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import http from "node:http";
import { join } from "node:path";

export const REPO_ROOT = join(__dirname, "..", "..");
export const BIN = join(REPO_ROOT, "bin", "hookgate.js");

export interface ServeChild {
  url: string;
  child: ChildProcess;
  /** Everything the child printed so far. */
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** The Jenkins test server's user and API token, as the serve tests' secrets files hold them. */
export const JENKINS_USER = "ci-bot";
export const JENKINS_TOKEN = "11aa22bb33cc44dd55ee66ff77gg88hh";

/**
 * The proxy variables blanked: serve's actions honour them, and the test servers on 127.0.0.1 must not
 * be reached through a proxy the developer's shell sets. A test sets them itself.
 */
export const NO_PROXY_ENV: Readonly<Record<string, string>> = {
  HTTPS_PROXY: "",
  https_proxy: "",
  HTTP_PROXY: "",
  http_proxy: "",
  NO_PROXY: "",
  no_proxy: "",
};

/** A child's stdout and stderr as one text, gathered as they come. */
export function outputOf(child: ChildProcess): () => string {
  let out = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding("utf8");
    stream?.on("data", (d: string) => {
      out += d;
    });
  }
  return () => out;
}

export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeChild> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV, ...env },
  });
  const output = outputOf(child);
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in time:\n${output()}`)), 15_000);
    const check = () => {
      const found = /hookgate listening on (http:\/\/\S+)/.exec(output());
      if (found?.[1]) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout?.on("data", check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${output()}`));
    });
  });
  return {
    url,
    child,
    output,
    exited,
    stop: async (signal: NodeJS.Signals = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

/** A raw HTTP request (no client-side normalisation of headers or body). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? "POST", headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export function githubHeaders(
  secret: string,
  body: Buffer,
  event: string,
  delivery: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": delivery,
    "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    "user-agent": "GitHub-Hookshot/test",
  };
}

export interface DeliveryView {
  delivery: string;
  route: string;
  event: string;
  status: string;
  attempts: number;
  reason?: string;
  error?: string;
  httpStatus?: number;
}

export async function deliveries(baseUrl: string): Promise<DeliveryView[]> {
  const answer = await request(`${baseUrl}/_hookgate/deliveries`, { method: "GET" });
  return JSON.parse(answer.text) as DeliveryView[];
}

/** Poll /_hookgate/deliveries until `predicate` holds for the newest entry of `delivery` (10 s at most). */
export async function waitForDelivery(
  baseUrl: string,
  delivery: string,
  predicate: (d: DeliveryView) => boolean,
  timeoutMs = 10_000,
): Promise<DeliveryView> {
  const deadline = Date.now() + timeoutMs;
  let last: DeliveryView | undefined;
  while (Date.now() < deadline) {
    last = (await deliveries(baseUrl)).find((d) => d.delivery === delivery && d.status !== "ignored");
    if (last && predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `delivery ${delivery} did not reach the expected state; last seen: ${JSON.stringify(last)}`,
  );
}
