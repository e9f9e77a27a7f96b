// `npm run bench -- bundle`: per handler kind, the bundle size with the AWS SDK bundled and with it left to
// the Lambda runtime (external), and the cold load time of each (`node -e "require('./index.js')"`, a fresh
// process per run, the median of RUNS). External bundles load the SDK from this repository's node_modules,
// standing in for the runtime's copy.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { buildBundle, HANDLER_KINDS, REPO_ROOT, SDK_MODE, type SdkMode } from "../src/infra/bundle";

const RUNS = 7;
const OUT = join(REPO_ROOT, ".bench", "bundles");

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Milliseconds from process start to the module loaded, measured inside the child. */
function coldLoad(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = spawnSync(
      process.execPath,
      [
        "-e",
        "const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))",
        file,
      ],
      { encoding: "utf8", cwd: REPO_ROOT, env: { PATH: process.env.PATH, AWS_REGION: "eu-west-1" } },
    );
    if (run.status !== 0) throw new Error(`loading ${file} failed: ${run.stderr.slice(-1000)}`);
    times.push(Number(run.stdout));
  }
  return median(times);
}

function main(): void {
  process.stdout.write(
    "kind        sdk        size KB  deflated KB  build s  cold load ms (median)  chosen\n",
  );
  for (const kind of HANDLER_KINDS) {
    for (const sdk of ["bundled", "external"] as SdkMode[]) {
      const t = process.hrtime.bigint();
      const bundle = buildBundle(join("handlers", `${kind}.ts`), sdk, kind);
      const buildSeconds = Number(process.hrtime.bigint() - t) / 1e9;
      // External bundles must resolve @aws-sdk from node_modules: keep them inside the repository.
      const dir = join(OUT, `${kind}-${sdk}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, "index.js");
      writeFileSync(file, bundle.code);
      const zipped = deflateRawSync(Buffer.from(bundle.code)).length;
      process.stdout.write(
        `${kind.padEnd(11)} ${sdk.padEnd(9)} ${(bundle.bytes / 1024).toFixed(0).padStart(8)}  ${(zipped / 1024).toFixed(0).padStart(11)}  ` +
          `${buildSeconds.toFixed(2).padStart(7)}  ${coldLoad(file).toFixed(1).padStart(21)}  ${SDK_MODE[kind] === sdk ? "*" : ""}\n`,
      );
    }
  }
}

main();
