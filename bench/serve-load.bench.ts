// `npm run bench -- serve`: load `hookgate serve` on loopback and compare it, under the same load and
// payloads, with two peers:
//   - yardstick: /work/shared/bench/ref-node-gateway.mjs (plain node:http: verify, parse, match, answer);
//   - webhook:   adnanh/webhook (Go), when installed, with an equivalent hooks file.
// Cases (each with an 8 KB and a 25 KB signed GitHub push):
//   bad      a signature made with another secret            (hookgate 401)
//   ignored  valid, but the branch does not match            (hookgate 200 ignored)
//   queued   valid and matching, a unique delivery id each   (hookgate 202, durably queued)
// The servers run on core 0 and autocannon in a child process on core 1 (taskset), so they never share.
// Per case, each peer gets a WARMUP s warm-up (long enough for V8 to optimise the larger program too),
// then ROUNDS runs of DURATION s with CONNECTIONS connections, the peers taking turns (measureCase).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./stats";

const ROOT = join(__dirname, "..");
const YARDSTICK = "/work/shared/bench/ref-node-gateway.mjs";
const SECRET = "bench-secret";
const DURATION_S = Number(process.env.BENCH_DURATION ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const TARGET_YARDSTICK = 0.7;
const TARGET_WEBHOOK = 2;

type CaseName = "bad" | "ignored" | "queued";
interface ClientJob {
  url: string;
  body: string; // base64
  headers: Record<string, string>;
  uniqueDelivery: boolean;
  duration: number;
  connections: number;
}
interface ClientResult {
  rps: number;
  p99: number;
  /** Responses received. */
  answered: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

// ------------------------------------------------------------------------------------------------
// Client mode: `node --import tsx serve-load.bench.ts --client <base64 job>` (pinned to core 1).
// ------------------------------------------------------------------------------------------------
async function client(job: ClientJob): Promise<void> {
  // autocannon ships no types; only the fields read below are declared.
  const autocannon = require("autocannon") as (options: Record<string, unknown>) => Promise<{
    requests: { average: number };
    latency: { p99: number };
    errors: number;
    timeouts: number;
    statusCodeStats?: Record<string, { count: number }>;
  }>;
  const body = Buffer.from(job.body, "base64");
  const result = await autocannon({
    url: job.url,
    method: "POST",
    connections: job.connections,
    duration: job.duration,
    pipelining: 1,
    headers: job.headers,
    body,
    requests: job.uniqueDelivery
      ? [
          {
            method: "POST",
            setupRequest: (req: Record<string, unknown>) => {
              // The signature covers the body only: a fresh delivery id keeps it valid.
              req.headers = { ...(req.headers as Record<string, string>), "x-github-delivery": randomUUID() };
              return req;
            },
          },
        ]
      : undefined,
  });
  const statusCodes: Record<string, number> = {};
  let answered = 0;
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stats.count;
    answered += stats.count;
  }
  const out: ClientResult = {
    rps: result.requests.average,
    p99: result.latency.p99,
    answered,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runClient(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const arg = Buffer.from(JSON.stringify(job)).toString("base64");
    const child = spawnPinned(1, [process.execPath, "--import", "tsx", __filename, "--client", arg], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.on("exit", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as ClientResult);
      } catch {
        reject(new Error(`client exited ${code}: ${out}`));
      }
    });
  });
}

// ------------------------------------------------------------------------------------------------
// Orchestrator
// ------------------------------------------------------------------------------------------------
const HAS_TASKSET = (() => {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return true;
  } catch {
    return false;
  }
})();

/** argv pinned to one core with taskset when available: [file, ...args] for spawn. */
function pin(core: number, argv: string[]): string[] {
  return HAS_TASKSET ? ["taskset", "-c", String(core), ...argv] : argv;
}

function spawnPinned(core: number, argv: string[], options: Parameters<typeof spawn>[2]): ChildProcess {
  const [file, ...args] = pin(core, argv);
  return spawn(file as string, args, options);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sign(body: Buffer, secret = SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** The example push, padded with commits to about `bytes`. `branch` sets the ref. */
function pushPayload(bytes: number, branch: string): Buffer {
  const base = JSON.parse(readFileSync(join(ROOT, "examples", "github-push.json"), "utf8"));
  base.ref = `refs/heads/${branch}`;
  const commit = base.head_commit;
  let text = JSON.stringify(base);
  let i = 0;
  while (Buffer.byteLength(text) < bytes - 600) {
    base.commits.push({
      ...commit,
      id: `${String(i++).padStart(8, "0")}${commit.id.slice(8)}`,
      message: `change ${i}`,
    });
    text = JSON.stringify(base);
  }
  return Buffer.from(text, "utf8");
}

interface Peer {
  name: string;
  /** The server's process (taskset execs it, so it keeps the pid spawn gave). */
  pid: number | undefined;
  url(caseName: CaseName): string;
  stop(): Promise<void>;
}

/** Servers log to a file, not a pipe: reading a pipe would cost the orchestrator CPU during the run. */
async function waitForFileLine(
  child: ChildProcess,
  file: string,
  pattern: RegExp,
  what: string,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    const found = pattern.exec(text);
    if (found) return found;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what} did not start:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString("utf8");
      const found = pattern.exec(out);
      if (found) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume(); // keep draining
        resolve(found);
      }
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${what} exited ${code}:\n${out}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function startHookgate(dir: string): Promise<Peer> {
  // The queued route's Jenkins is a port nothing listens on: an item's attempt fails at once (connection
  // refused) and waits 15 minutes (the longest delay) for the next. Under load the work path yields to
  // the receive path (one attempt every 25 ms at most), so nearly every accepted item is still queued
  // when the run ends.
  const deadPort = await freePort();
  writeFileSync(
    join(dir, "routes.yaml"),
    `version: 1
defaults:
  provider: github
  secret: bench/github-webhook
  jenkins: { url: "http://127.0.0.1:${deadPort}", credentials: bench/jenkins }
routes:
  - name: api-build
    match: { repos: [acme/api], events: [push], branches: [main] }
    action:
      type: jenkins
      job: api/build
      parameters: { BRANCH: "{{branch}}", SHA: "{{sha}}", DELIVERY: "{{deliveryId}}" }
`,
  );
  writeFileSync(
    join(dir, "secrets.json"),
    JSON.stringify({ "bench/github-webhook": SECRET, "bench/jenkins": { user: "u", token: "t" } }),
  );
  const child = spawnPinned(
    0,
    [
      process.execPath,
      join(ROOT, "bin", "hookgate.js"),
      "serve",
      "--routes",
      join(dir, "routes.yaml"),
      "--secrets",
      join(dir, "secrets.json"),
      "--state-dir",
      join(dir, "state"),
      "--port",
      "0",
      "--retry-delay-ms",
      "900000",
      ...(process.env.BENCH_QUIET ? ["--quiet"] : []),
    ],
    { cwd: ROOT, stdio: ["ignore", openSync(join(dir, "serve.log"), "w"), "inherit"] },
  );
  const [, url] = await waitForFileLine(
    child,
    join(dir, "serve.log"),
    /hookgate listening on (http:\/\/\S+)/,
    "hookgate serve",
  );
  return {
    name: "hookgate",
    pid: child.pid,
    url: () => `${url}/hooks/api-build`,
    stop: () => stopChild(child),
  };
}

async function startYardstick(): Promise<Peer | undefined> {
  if (!existsSync(YARDSTICK)) return undefined;
  const child = spawnPinned(
    0,
    [process.execPath, YARDSTICK, "--port", "0", "--secret", SECRET, "--routes", "1"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const [, url] = await waitForLine(child, /listening (http:\/\/\S+)/, "yardstick");
  return {
    name: "yardstick",
    pid: child.pid,
    url: () => `${url}/hooks/api-build`,
    stop: () => stopChild(child),
  };
}

function which(bin: string): string | undefined {
  try {
    return execFileSync("which", [bin], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function startWebhook(dir: string): Promise<Peer | undefined> {
  const bin = which("webhook");
  if (!bin) return undefined;
  const hooks = [
    {
      id: "api-build",
      "execute-command": "/bin/true",
      "command-working-directory": "/tmp",
      "response-message": "queued",
      "trigger-rule": {
        and: [
          {
            match: {
              type: "payload-hmac-sha256",
              secret: SECRET,
              parameter: { source: "header", name: "X-Hub-Signature-256" },
            },
          },
          {
            match: { type: "value", value: "refs/heads/main", parameter: { source: "payload", name: "ref" } },
          },
          {
            match: {
              type: "value",
              value: "acme/api",
              parameter: { source: "payload", name: "repository.full_name" },
            },
          },
        ],
      },
    },
  ];
  writeFileSync(join(dir, "hooks.json"), JSON.stringify(hooks));
  const port = await freePort();
  const child = spawnPinned(
    0,
    [bin, "-hooks", join(dir, "hooks.json"), "-ip", "127.0.0.1", "-port", String(port)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stderr?.resume();
  child.stdout?.resume();
  // webhook logs to stderr; wait until the port answers.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error("webhook did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name: "webhook",
    pid: child.pid,
    url: () => `http://127.0.0.1:${port}/hooks/api-build`,
    stop: () => stopChild(child),
  };
}

interface Row {
  caseName: CaseName;
  size: string;
  peer: string;
  /** Mean over the rounds. */
  rps: number;
  /** Each round's req/s, in round order. */
  runs: number[];
  /** The worst round's. */
  p99: number;
  /** The server's CPU time (user + system) per answered request, median over the rounds; µs. */
  cpuUs: number | undefined;
  statuses: string;
}

/** Clock ticks per second, the unit of /proc/<pid>/stat's times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The CPU time a process has used so far (all its threads, user + system), in µs, from
 * /proc/<pid>/stat; undefined where there is no /proc. req/s alone blurs a server's own cost: while
 * the server is the bottleneck, the client's core idles between answers and each answer pays to wake it.
 */
function cpuUsedUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name, which is in parentheses and may hold spaces: utime and stime
    // are fields 14 and 15 of the whole line, so 12th and 13th after the name.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

function cpuText(row: Row): string {
  return row.cpuUs === undefined ? "n/a" : row.cpuUs.toFixed(1);
}

function jobFor(
  peer: Peer,
  caseName: CaseName,
  body: Buffer,
  signature: string,
  duration: number,
): ClientJob {
  return {
    url: peer.url(caseName),
    body: body.toString("base64"),
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": signature,
      "user-agent": "GitHub-Hookshot/bench",
    },
    uniqueDelivery: caseName === "queued",
    duration,
    connections: CONNECTIONS,
  };
}

/**
 * One case on every peer: each is warmed up, then measured ROUNDS times, the peers taking turns in an
 * order that reverses each round. Peers measured minutes apart would see different load on a shared
 * machine; taking turns, every ratio compares runs seconds apart.
 */
async function measureCase(
  peers: Peer[],
  caseName: CaseName,
  size: string,
  body: Buffer,
  signature: string,
): Promise<Row[]> {
  for (const peer of peers) await runClient(jobFor(peer, caseName, body, signature, WARMUP_S));
  const results = new Map<string, ClientResult[]>(peers.map((p) => [p.name, []]));
  const cpuPerRequest = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? peers : [...peers].reverse();
    for (const peer of order) {
      const cpuBefore = cpuUsedUs(peer.pid);
      const result = await runClient(jobFor(peer, caseName, body, signature, DURATION_S));
      const cpuAfter = cpuUsedUs(peer.pid);
      results.get(peer.name)?.push(result);
      if (cpuBefore !== undefined && cpuAfter !== undefined && result.answered > 0) {
        cpuPerRequest.get(peer.name)?.push((cpuAfter - cpuBefore) / result.answered);
      }
    }
  }
  return peers.map((peer) => {
    const runs = results.get(peer.name) as ClientResult[];
    const cpu = cpuPerRequest.get(peer.name) as number[];
    const statusCounts: Record<string, number> = {};
    let errors = 0;
    for (const run of runs) {
      for (const [code, n] of Object.entries(run.statusCodes))
        statusCounts[code] = (statusCounts[code] ?? 0) + n;
      errors += run.errors;
    }
    const statuses = Object.entries(statusCounts)
      .map(([code, n]) => `${code}×${n}`)
      .join(" ");
    return {
      caseName,
      size,
      peer: peer.name,
      rps: runs.reduce((sum, run) => sum + run.rps, 0) / runs.length,
      runs: runs.map((run) => run.rps),
      p99: Math.max(...runs.map((run) => run.p99)),
      cpuUs: cpu.length === runs.length ? median(cpu) : undefined,
      statuses: `${statuses}${errors ? ` errors×${errors}` : ""}`,
    };
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-bench-"));
  const sizes: Array<[string, number]> = [
    ["8KB", 8 * 1024],
    ["25KB", 25 * 1024],
  ];
  const payloads = sizes.map(([label, bytes]) => {
    const match = pushPayload(bytes, "main");
    const other = pushPayload(bytes, "feature/bench");
    return {
      label,
      cases: {
        bad: { body: match, signature: sign(match, "another-secret") },
        ignored: { body: other, signature: sign(other) },
        queued: { body: match, signature: sign(match) },
      } as Record<CaseName, { body: Buffer; signature: string }>,
      bytes: match.length,
    };
  });
  process.stdout.write(
    `serve-load: per case, each peer gets a ${WARMUP_S} s warm-up, then ${ROUNDS} runs of ${DURATION_S} s taking turns with the other peers;\n` +
      `${CONNECTIONS} connections, autocannon in a child process. req/s is the mean of the runs, p99 the worst run's;\n` +
      "a ratio is the median over rounds of the two peers' req/s in that round. CPU µs/req: the server process's\n" +
      "user + system time during a run (from /proc) over the requests it answered, median over rounds.\n" +
      `${HAS_TASKSET ? "Servers pinned to core 0 (only the one under load is busy), the client to core 1 (taskset)." : "taskset not found: servers and client share the cores."}\n` +
      `Payloads: ${payloads.map((p) => `${p.label} = ${p.bytes} bytes`).join(", ")} (examples/github-push.json, padded with commits).\n` +
      "hookgate serve: one route per URL (only the addressed route is evaluated), so the yardstick runs with --routes 1;\n" +
      "  its queued route's Jenkins refuses connections; while requests are being answered, the work path starts at most\n" +
      "  one attempt every 25 ms, so nearly every accepted item waits in the journal (and in memory) during the run.\n" +
      "yardstick: --dispatch none (answers 202 without doing anything). webhook: execute-command /bin/true on a match.\n\n",
  );

  const rows: Row[] = [];
  const starters: Array<[string, () => Promise<Peer | undefined>]> = [
    ["hookgate", () => startHookgate(mkdtempSync(join(dir, "hookgate-")))],
    ["yardstick", startYardstick],
    ["webhook", () => startWebhook(dir)],
  ];
  const missing: string[] = [];
  for (const payload of payloads) {
    // Fresh servers per payload size, so the queued items of one size do not weigh on the next.
    const peers: Peer[] = [];
    try {
      for (const [name, start] of starters) {
        const peer = await start();
        if (peer) peers.push(peer);
        else if (!missing.includes(name)) missing.push(name);
      }
      for (const caseName of ["bad", "ignored", "queued"] as CaseName[]) {
        const c = payload.cases[caseName];
        for (const row of await measureCase(peers, caseName, payload.label, c.body, c.signature)) {
          rows.push(row);
          process.stdout.write(
            `  ${row.peer.padEnd(9)} ${row.caseName.padEnd(7)} ${row.size.padEnd(4)} ${row.rps.toFixed(0).padStart(7)} req/s  p99 ${String(row.p99).padStart(4)} ms  cpu ${cpuText(row).padStart(5)} µs/req  ${row.statuses}\n`,
          );
        }
      }
    } finally {
      for (const peer of peers) await peer.stop();
    }
  }
  for (const name of missing) process.stdout.write(`  ${name}: not installed\n`);

  // The table.
  const find = (peer: string, c: CaseName, size: string) =>
    rows.find((r) => r.peer === peer && r.caseName === c && r.size === size);
  const lines: string[] = [];
  lines.push(
    "",
    "| case | size | hookgate req/s | p99 ms | yardstick req/s | p99 ms | webhook req/s | p99 ms | ours/yardstick (≥0.7) | ours/webhook (≥2) |",
  );
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---|---|");
  let misses = 0;
  for (const payload of payloads) {
    for (const c of ["bad", "ignored", "queued"] as CaseName[]) {
      const ours = find("hookgate", c, payload.label);
      const ref = find("yardstick", c, payload.label);
      const web = find("webhook", c, payload.label);
      const ratio = (other: Row | undefined, target: number) => {
        if (!ours || !other) return "n/a";
        // The median of the rounds' ratios: each compares two runs made seconds apart.
        const r = median(ours.runs.map((rps, i) => rps / (other.runs[i] as number)));
        if (r < target) misses++;
        return `${r.toFixed(2)}× ${r >= target ? "PASS" : "MISS"}`;
      };
      const cell = (r: Row | undefined) => (r ? `${r.rps.toFixed(0)} | ${r.p99}` : "n/a | n/a");
      lines.push(
        `| ${c} | ${payload.label} | ${cell(ours)} | ${cell(ref)} | ${cell(web)} | ${ratio(ref, TARGET_YARDSTICK)} | ${ratio(web, TARGET_WEBHOOK)} |`,
      );
    }
  }
  // The servers' own cost, which req/s blurs (see cpuUsedUs).
  lines.push(
    "",
    "| case | size | hookgate CPU µs/req | yardstick CPU µs/req | webhook CPU µs/req |",
    "|---|---|---:|---:|---:|",
  );
  for (const payload of payloads) {
    for (const c of ["bad", "ignored", "queued"] as CaseName[]) {
      const cell = (peer: string) => {
        const row = find(peer, c, payload.label);
        return row ? cpuText(row) : "n/a";
      };
      lines.push(
        `| ${c} | ${payload.label} | ${cell("hookgate")} | ${cell("yardstick")} | ${cell("webhook")} |`,
      );
    }
  }
  process.stdout.write(
    `${lines.join("\n")}\n\n${misses === 0 ? "All targets met." : `${misses} target(s) missed.`}\n`,
  );
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === "--client") {
  client(JSON.parse(Buffer.from(process.argv[3] ?? "", "base64").toString("utf8")) as ClientJob).catch(
    (error) => {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  });
}
