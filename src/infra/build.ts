// `npm run build`: writes the Lambda bundles to dist/<kind>/index.js and prints their sizes.
// `pulumi up` bundles the same way and writes them to .hookgate/bundles (src/infra/bundle.ts); this is for
// inspection and benchmarks.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Bundle, bundleHandler, HANDLER_KINDS, REPO_ROOT, SDK_MODE, type SdkMode } from "./bundle";

export function writeBundle(bundle: Bundle, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "index.js");
  writeFileSync(file, bundle.code);
  writeFileSync(join(dir, "meta.json"), `${JSON.stringify(bundle.metafile)}\n`);
  return file;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function main(): void {
  const modes = process.argv.includes("--both") ? (["bundled", "external"] as SdkMode[]) : undefined;
  for (const kind of HANDLER_KINDS) {
    for (const sdk of modes ?? [SDK_MODE[kind]]) {
      const bundle = bundleHandler(kind, sdk);
      const dir = join(REPO_ROOT, "dist", modes ? `${kind}-sdk-${sdk}` : kind);
      const file = writeBundle(bundle, dir);
      process.stdout.write(
        `${file.slice(REPO_ROOT.length + 1).padEnd(40)} ${kb(bundle.bytes).padStart(10)}  sdk ${sdk}\n`,
      );
    }
  }
}

if (require.main === module) main();
