// Each handler's esbuild bundle carries only what its action needs. The AWS SDK is marked external
// here (the check is about which modules are reached, not about their size).
import { join } from "node:path";
import { expect } from "chai";
import { build, type Metafile } from "esbuild";

const ROOT = join(__dirname, "..", "..");

type Reach = { inputs: string[]; external: string[] };

/** One esbuild run over the three entry points; what each output reached. */
async function bundleAll(): Promise<Record<string, Reach>> {
  const kinds = ["jenkins", "s3-zip", "pr-cleanup"];
  const result = await build({
    entryPoints: kinds.map((kind) => join(ROOT, "handlers", `${kind}.ts`)),
    outdir: join(ROOT, "dist", "test-bundles"),
    bundle: true,
    write: false,
    platform: "node",
    target: "node24",
    format: "cjs",
    metafile: true,
    logLevel: "silent",
    external: ["@aws-sdk/*", "@smithy/*"],
  });
  const metafile = result.metafile as Metafile;
  const byKind: Record<string, Reach> = {};
  for (const output of Object.values(metafile.outputs)) {
    const kind = kinds.find((k) => output.entryPoint?.endsWith(`handlers/${k}.ts`));
    if (!kind) continue;
    const external = output.imports.filter((i) => i.external).map((i) => i.path);
    byKind[kind] = { inputs: Object.keys(output.inputs), external: [...new Set(external)] };
  }
  return byKind;
}

let bundles: Promise<Record<string, Reach>> | undefined;
async function reached(kind: string): Promise<Reach> {
  bundles ??= bundleAll();
  const reach = (await bundles)[kind];
  if (!reach) throw new Error(`no bundle for ${kind}`);
  return reach;
}

const has = (list: string[], fragment: string) => list.some((p) => p.includes(fragment));

describe("Lambda entry points (handlers/*.ts)", function () {
  this.timeout(60_000);

  it("handlers/jenkins.ts bundles the Jenkins action without S3, lib-storage, yauzl or yazl", async () => {
    const { inputs, external } = await reached("jenkins");
    expect(has(inputs, "src/actions/jenkins.ts")).to.equal(true);
    expect(has(inputs, "src/gateway/routeHandler.ts")).to.equal(true);
    for (const unwanted of [
      "node_modules/yauzl/",
      "node_modules/yazl/",
      "src/actions/s3Zip.ts",
      "src/actions/prCleanup.ts",
    ]) {
      expect(has(inputs, unwanted), unwanted).to.equal(false);
    }
    expect(external).to.include.members([
      "@aws-sdk/client-sqs",
      "@aws-sdk/client-dynamodb",
      "@aws-sdk/client-secrets-manager",
    ]);
    expect(external).not.to.include("@aws-sdk/client-s3");
    expect(external).not.to.include("@aws-sdk/lib-storage");
  });

  it("handlers/s3-zip.ts bundles the zip action and the S3 object store", async () => {
    const { inputs, external } = await reached("s3-zip");
    expect(has(inputs, "src/actions/s3Zip.ts")).to.equal(true);
    expect(has(inputs, "node_modules/yauzl/")).to.equal(true);
    expect(has(inputs, "src/actions/prCleanup.ts")).to.equal(false);
    expect(external).to.include("@aws-sdk/client-s3");
  });

  it("handlers/pr-cleanup.ts bundles the cleanup action (with its Jenkins step) but no zip libraries", async () => {
    const { inputs, external } = await reached("pr-cleanup");
    expect(has(inputs, "src/actions/prCleanup.ts")).to.equal(true);
    expect(has(inputs, "src/actions/jenkins.ts")).to.equal(true);
    expect(has(inputs, "node_modules/yazl/")).to.equal(false);
    expect(external).to.include("@aws-sdk/client-s3");
  });

  for (const kind of ["jenkins", "s3-zip", "pr-cleanup"]) {
    it(`handlers/${kind}.ts exports a handler function`, async () => {
      const module = (await import(join(ROOT, "handlers", `${kind}.ts`))) as { handler?: unknown };
      expect(module.handler).to.be.a("function");
    });
  }
});
