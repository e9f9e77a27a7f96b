// esbuild bundles of the Lambda entry points, one per handler kind, built once per process.
// The output is deterministic (no timestamps, paths relative to the repository), so the same source yields
// the same bytes, the same archive hash, and no diff on `pulumi up`.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, posix, relative, resolve, sep } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { type BuildOptions, buildSync, type Metafile } from "esbuild";
import type { ActionType } from "../core/types";
import { writeFileAtomicSync } from "../local/atomicFile";

export const HANDLER_KINDS: readonly ActionType[] = ["jenkins", "s3-zip", "pr-cleanup"];

/** How the AWS SDK v3 clients reach the function. */
export type SdkMode = "external" | "bundled";

/**
 * Per kind, measured with `npm run bench -- bundle`: bundling the SDK pins the exact client versions the tests
 * ran against (the runtime's copy moves under us) and @aws-sdk/lib-storage is not in the runtime at all,
 * at the cost of a larger zip and a slower cold load. See bench/bundle.bench.ts.
 */
export const SDK_MODE: Record<ActionType, SdkMode> = {
  jenkins: "bundled",
  "s3-zip": "bundled",
  "pr-cleanup": "bundled",
};

export const REPO_ROOT = resolve(__dirname, "..", "..");

/**
 * What the "external" mode leaves to the nodejs24.x runtime: only what it provides, the SDK v3 clients the code
 * uses and the packages they are built from. Not @aws-sdk/lib-storage (nor any lib-*): the runtime does not ship
 * it, so it stays in the bundle. A package named here that the bundle does not reach costs nothing; one left out
 * is bundled, which is always safe.
 */
export const RUNTIME_PROVIDED: readonly string[] = [
  "@aws-sdk/client-dynamodb",
  "@aws-sdk/client-s3",
  "@aws-sdk/client-secrets-manager",
  "@aws-sdk/client-sqs",
  "@aws-sdk/core",
  "@smithy/*",
];

export interface Bundle {
  kind: string;
  code: string;
  bytes: number;
  /** sha256 of the code: same source, same hash. */
  sha256: string;
  metafile: Metafile;
}

export function esbuildOptions(entry: string, sdk: SdkMode): BuildOptions {
  return {
    entryPoints: [entry],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    minify: true,
    legalComments: "none",
    sourcemap: false,
    metafile: true,
    write: false,
    charset: "utf8",
    outfile: "index.js",
    external: sdk === "external" ? [...RUNTIME_PROVIDED] : [],
    logLevel: "silent",
  };
}

const cache = new Map<string, Bundle>();

/** Bundles one entry file. Cached per (entry, sdk mode) for the life of the process. */
export function bundleEntry(entry: string, sdk: SdkMode = "bundled", kind = entry): Bundle {
  const key = `${entry}\0${sdk}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const bundle = buildBundle(entry, sdk, kind);
  cache.set(key, bundle);
  return bundle;
}

/** Bundles one entry file, uncached. */
export function buildBundle(entry: string, sdk: SdkMode = "bundled", kind = entry): Bundle {
  if (!existsSync(resolve(REPO_ROOT, entry))) {
    throw new Error(`cannot bundle ${entry}: the file does not exist`);
  }
  const result = buildSync(esbuildOptions(entry, sdk));
  const file = result.outputFiles?.[0];
  if (!file || !result.metafile) throw new Error(`esbuild produced no output for ${entry}`);
  const code = file.text;
  const bundle: Bundle = {
    kind,
    code,
    bytes: Buffer.byteLength(code),
    sha256: createHash("sha256").update(code).digest("hex"),
    metafile: result.metafile,
  };
  return bundle;
}

export function handlerEntry(kind: ActionType): string {
  return join("handlers", `${kind}.ts`);
}

export function bundleHandler(kind: ActionType, sdk: SdkMode = SDK_MODE[kind]): Bundle {
  return bundleEntry(handlerEntry(kind), sdk, kind);
}

/** Where `pulumi up` writes the Lambda code: the project's .hookgate/bundles (git-ignored). */
export const BUNDLE_DIR = join(REPO_ROOT, ".hookgate", "bundles");

/** The kind's bundle file in `dir`. */
export function bundleFile(kind: ActionType, dir: string = BUNDLE_DIR): string {
  return join(dir, kind, "index.js");
}

/**
 * The Lambda code: a zip holding index.js (handler `index.handler`), read from the bundle written to
 * bundleFile(kind, dir). Not a StringAsset: the engine keeps a text asset's whole text in the state, in each function's
 * inputs and outputs (1.3-1.6 MB a route, rewritten after every step); of a file asset it keeps the path and hash.
 * The path is relative to the program's working directory, which is where the engine resolves it (the nodejs
 * language host chdirs the program there); relative, so no machine's path enters the state.
 * Asset equality is by hash, so the same bundle is no update. Written atomically (a temporary file renamed over
 * it): another stack's `pulumi up` in this checkout may be reading it. `dir` is a parameter so that tests write
 * elsewhere: a test's file in the project's folder could be what a `pulumi up` of this checkout ships.
 */
export function bundleArchive(
  kind: ActionType,
  bundle: Bundle,
  dir: string = BUNDLE_DIR,
): pulumi.asset.AssetArchive {
  const file = bundleFile(kind, dir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomicSync(file, bundle.code);
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.FileAsset(assetPath(file)) });
}

/**
 * The path the archive names for `file`: relative to the working directory, with `/` on every system. Not relative to
 * REPO_ROOT: the engine joins a relative asset path to the program's working directory, which is REPO_ROOT for the
 * plain CLI only (not with Pulumi.yaml's `main:`, an Automation API workspace elsewhere, or hookgate as a package).
 */
export function assetPath(file: string): string {
  return relative(process.cwd(), file).split(sep).join(posix.sep);
}

/** Supplies each route's code; tests may pass their own. */
export type CodeProvider = (kind: ActionType) => pulumi.asset.Archive;

/** A CodeProvider of the real handler bundles written to `dir`, built and written once per kind. */
export function bundledCode(dir: string = BUNDLE_DIR): CodeProvider {
  const archives = new Map<ActionType, pulumi.asset.AssetArchive>();
  return (kind) => {
    let archive = archives.get(kind);
    if (!archive) {
      archive = bundleArchive(kind, bundleHandler(kind), dir);
      archives.set(kind, archive);
    }
    return archive;
  };
}

/** The default CodeProvider: the real handler bundles, written to the project's BUNDLE_DIR once per kind and process. */
export const handlerCode: CodeProvider = bundledCode();
