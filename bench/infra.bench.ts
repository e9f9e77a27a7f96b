// `npm run bench -- infra`: evaluates the Pulumi program under mocks for 10, 11, 50 and 200 routes, each in a
// fresh child process (Pulumi config and modules are per process). Prints resources per route, seconds and
// memory, and checks that adding a route changes none of the other routes' resources.
import { spawnSync } from "node:child_process";
import type { Route } from "../src/core/types";
import { handlerCode } from "../src/infra/bundle";
import { routeOf } from "../test/infra/checks";
import { evaluate } from "../test/infra/evaluate";
import { config, jenkinsRoute, prCleanupRoute, s3ZipRoute } from "../test/infra/fixtures";
import type { MockCloud, Recorded } from "../test/infra/mocks";

const SIZES = [10, 11, 50, 200];
// A route with a webhook secret, as every fixture route is (README Deploy step 4): 15 before the dead-lettered and
// bad-signature alarms, each with its metric filter.
const TARGET_PER_ROUTE = 19;

function routes(n: number): Route[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `route-${String(i).padStart(4, "0")}`;
    return i % 3 === 0 ? jenkinsRoute(name) : i % 3 === 1 ? s3ZipRoute(name) : prCleanupRoute(name);
  });
}

/** A route's resources: its component's descendants, and the API children named after it. */
function resourcesOf(cloud: MockCloud, route: string): Recorded[] {
  return cloud.resources.filter(
    (r) =>
      routeOf(cloud, r) === route ||
      (r.parent.includes("hookgate:infra:Api") && r.name.startsWith(`hookgate-api-${route}`)),
  );
}

interface ChildResult {
  routes: number;
  resources: number;
  cloudResources: number;
  perRoute: number;
  perRouteCloud: number;
  bundleSeconds: number;
  seconds: number;
  heapMb: number;
  /** route name → JSON of its resources' types, names and inputs. */
  fingerprints: Record<string, string>;
}

async function child(n: number): Promise<void> {
  Error.stackTraceLimit = 0;
  let t = process.hrtime.bigint();
  for (const kind of ["jenkins", "s3-zip", "pr-cleanup"] as const) handlerCode(kind);
  const bundleSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const list = routes(n);
  t = process.hrtime.bigint();
  const { cloud } = await evaluate({ config: config(), routes: list, stack: "bench" });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  const sample = resourcesOf(cloud, list[0]?.name ?? "");
  const fingerprints: Record<string, string> = {};
  for (const r of list.slice(0, 10)) {
    fingerprints[r.name] = JSON.stringify(
      resourcesOf(cloud, r.name).map((x) => [
        x.type,
        x.name,
        x.inputs.code ? { ...x.inputs, code: "<archive>" } : x.inputs,
      ]),
    );
  }
  const result: ChildResult = {
    routes: n,
    resources: cloud.resources.length,
    cloudResources: cloud.resources.filter((r) => r.custom).length,
    perRoute: sample.length + 1, // + the Route component itself
    perRouteCloud: sample.filter((r) => r.custom).length,
    bundleSeconds,
    seconds,
    heapMb: process.memoryUsage().rss / 2 ** 20,
    fingerprints,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function run(n: number): ChildResult {
  const out = spawnSync(process.execPath, ["--import", "tsx", __filename, "--child", String(n)], {
    encoding: "utf8",
    maxBuffer: 64 * 2 ** 20,
  });
  const line = out.stdout.trim().split("\n").pop() ?? "";
  if (out.status !== 0 || !line.startsWith("{"))
    throw new Error(`child ${n} failed: ${out.stderr.slice(-2000)}`);
  return JSON.parse(line) as ChildResult;
}

function main(): void {
  const results = SIZES.map(run);
  process.stdout.write("routes  resources  cloud  per route (cloud)  eval s  s/route  bundle s  RSS MB\n");
  for (const r of results) {
    process.stdout.write(
      `${String(r.routes).padStart(6)}  ${String(r.resources).padStart(9)}  ${String(r.cloudResources).padStart(5)}  ` +
        `${`${r.perRoute} (${r.perRouteCloud})`.padStart(17)}  ${r.seconds.toFixed(2).padStart(6)}  ` +
        `${(r.seconds / r.routes).toFixed(3).padStart(7)}  ${r.bundleSeconds.toFixed(2).padStart(8)}  ${r.heapMb.toFixed(0).padStart(6)}\n`,
    );
  }
  const [ten, eleven, , big] = results as [ChildResult, ChildResult, ChildResult, ChildResult];
  const changed = Object.keys(ten.fingerprints).filter((k) => ten.fingerprints[k] !== eleven.fingerprints[k]);
  const marginal = (big.cloudResources - ten.cloudResources) / (big.routes - ten.routes);
  process.stdout.write(
    `\nmarginal cloud resources per route (10 -> 200): ${marginal.toFixed(2)} (target <= ${TARGET_PER_ROUTE}): ` +
      `${marginal <= TARGET_PER_ROUTE ? "ok" : "OVER"}\n` +
      `routes whose resources changed when an 11th route was added: ${changed.length === 0 ? "none (ok)" : changed.join(", ")}\n` +
      `time per route, 50 vs 200 routes: ${((results[2]?.seconds ?? 0) / 50).toFixed(3)} s vs ${(big.seconds / 200).toFixed(3)} s\n`,
  );
  if (changed.length > 0 || marginal > TARGET_PER_ROUTE) process.exitCode = 1;
}

const at = process.argv.indexOf("--child");
if (at >= 0) {
  child(Number(process.argv[at + 1])).catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
} else {
  main();
}
