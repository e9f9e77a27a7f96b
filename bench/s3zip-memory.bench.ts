// s3-zip memory: stream a generated archive of at least 200 MB (random, incompressible content)
// through uploadSourceZip into s3rver, and report the peak RSS of the process running the action
// against the target.
//
// Three processes, so the figure is the action's own:
// - this one (tsx) orchestrates and prints the table;
// - a "servers" child (tsx) runs s3rver and the Git-host server, which streams the archive;
// - a "runner" child runs uploadSourceZip -> S3ObjectStore, bundled with esbuild and started with
//   plain node, as on Lambda (no TypeScript loader in its memory).
//
//   npm run bench -- s3zip-memory            (HOOKGATE_BENCH_ZIP_MB=300 to change the size)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { uploadSourceZip } from "../src/actions/s3Zip";
import { S3ObjectStore } from "../src/aws/objectStore";

const TARGET_MB = 150;
const ARCHIVE_MB = Number(process.env.HOOKGATE_BENCH_ZIP_MB ?? 210);
const BUCKET = "bench-artifacts";
const KEY = "acme/monorepo/main/acme_monorepo.zip";
const SHA = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e";
const TOKEN = "bench-token";

interface RunnerResult {
  detail: string;
  seconds: number;
  baselineMb: number;
  peakMb: number;
  maxRssMb: number;
  peakBuffersMb: number;
  peakHeapMb: number;
  objectMb: number;
}

async function servers(): Promise<void> {
  // Computed paths: the runner bundle must not pull s3rver in.
  const support = join(__dirname, "..", "test", "support");
  const { startLocalS3 } = require(join(support, "s3")) as typeof import("../test/support/s3");
  const { startGitHostServer } = require(
    join(support, "gitHostServer"),
  ) as typeof import("../test/support/gitHostServer");
  const s3 = await startLocalS3({ buckets: [BUCKET] });
  const host = await startGitHostServer({ token: TOKEN });
  host.setRepo("acme/monorepo");
  host.setArchive("acme/monorepo", SHA, {
    generate: { totalBytes: ARCHIVE_MB * 1024 * 1024, fileBytes: 4 * 1024 * 1024 },
  });
  process.stdout.write(`${JSON.stringify({ s3Url: s3.url, hostUrl: host.url })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    void Promise.all([s3.close(), host.close()]).then(() => process.exit(0));
  });
}

async function runner(s3Url: string, hostUrl: string): Promise<void> {
  const s3 = new S3Client({
    endpoint: s3Url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const secrets = { versions: async () => [TOKEN] };

  (globalThis as { gc?: () => void }).gc?.();
  const baselineMb = process.memoryUsage().rss / 1048576;
  let peakMb = baselineMb;
  let peakBuffersMb = 0;
  let peakHeapMb = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakMb = Math.max(peakMb, m.rss / 1048576);
    peakBuffersMb = Math.max(peakBuffersMb, m.arrayBuffers / 1048576);
    peakHeapMb = Math.max(peakHeapMb, m.heapUsed / 1048576);
  };
  const sampler = setInterval(sample, 25);
  const started = Date.now();
  const outcome = await uploadSourceZip(
    {
      type: "s3-zip",
      api: { provider: "github", apiUrl: hostUrl, token: "bench/token" },
      bucket: BUCKET,
      key: KEY,
    },
    {
      provider: "github",
      deliveryId: "bench-1",
      event: "push",
      repo: { owner: "acme", name: "monorepo", fullName: "acme/monorepo" },
      ref: "refs/heads/main",
      branch: "main",
      sha: SHA,
      deleted: false,
    },
    { secrets, objects: new S3ObjectStore(s3), log: () => undefined },
    { acceptedAt: new Date().toISOString() },
  );
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  sample();
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }));
  const result: RunnerResult = {
    detail: outcome.detail,
    seconds,
    baselineMb,
    peakMb,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    peakBuffersMb,
    peakHeapMb,
    objectMb: (head.ContentLength ?? 0) / 1048576,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  s3.destroy();
}

function firstLine(child: ReturnType<typeof spawn>, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    if (!child.stdout) return reject(new Error(`${what}: no stdout`));
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const serverProcess = spawn(process.execPath, ["--import", "tsx", __filename, "--servers"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const work = mkdtempSync(join(tmpdir(), "hookgate-bench-"));
  try {
    const { s3Url, hostUrl } = JSON.parse(await firstLine(serverProcess, "the server process")) as {
      s3Url: string;
      hostUrl: string;
    };
    const { build } = require("esbuild") as typeof import("esbuild");
    const bundle = join(work, "runner.js");
    await build({
      entryPoints: [__filename],
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      outfile: bundle,
      logLevel: "error",
    });
    const runnerProcess = spawn(process.execPath, ["--expose-gc", bundle, "--runner", s3Url, hostUrl], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: "1" },
    });
    const r = JSON.parse(await firstLine(runnerProcess, "the runner")) as RunnerResult;

    const pass = r.maxRssMb < TARGET_MB;
    const rows: Array<[string, string]> = [
      ["outcome", r.detail],
      ["archive (random, incompressible)", `${ARCHIVE_MB} MB`],
      ["object written to S3", `${r.objectMb.toFixed(1)} MB`],
      [
        "duration",
        `${r.seconds.toFixed(1)} s (${(r.objectMb / r.seconds).toFixed(1)} MB/s, s3rver on local disk)`,
      ],
      ["RSS before the action", `${r.baselineMb.toFixed(1)} MB`],
      ["peak RSS (25 ms sampler)", `${r.peakMb.toFixed(1)} MB`],
      ["peak RSS (process maxRSS)", `${r.maxRssMb.toFixed(1)} MB`],
      ["peak Buffers / JS heap in use", `${r.peakBuffersMb.toFixed(1)} MB / ${r.peakHeapMb.toFixed(1)} MB`],
      ["target", `< ${TARGET_MB} MB peak RSS: ${pass ? "PASS" : "FAIL"}`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(
      "s3-zip memory (bundled uploadSourceZip -> S3ObjectStore -> s3rver in another process)\n",
    );
    for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
    if (r.objectMb < ARCHIVE_MB * 0.95) {
      process.stdout.write("  the object is smaller than the archive's content: something was lost\n");
      process.exitCode = 1;
    }
    if (!pass) process.exitCode = 1;
  } finally {
    serverProcess.stdin?.end();
    rmSync(work, { recursive: true, force: true });
  }
}

const runnerAt = process.argv.indexOf("--runner");
if (process.argv.includes("--servers")) {
  void servers();
} else if (runnerAt >= 0) {
  runner(process.argv[runnerAt + 1] ?? "", process.argv[runnerAt + 2] ?? "").catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
