import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  buildBundle,
  bundleEntry,
  bundleHandler,
  HANDLER_KINDS,
  handlerCode,
  handlerEntry,
} from "../../src/infra/bundle";

describe("bundle: esbuild bundles of the Lambda entry points", () => {
  it("buildBundle is deterministic: the same source gives the same bytes and hash", () => {
    const a = buildBundle("handlers/jenkins.ts", "bundled");
    const b = bundleHandler("jenkins", "bundled"); // a separate (cached) build
    expect(a.sha256).to.equal(b.sha256);
    expect(a.code).to.equal(b.code);
    expect(a.code).not.to.contain("/work/");
    expect(a.code).not.to.match(/\/\/# sourceMappingURL/);
  });

  it("bundleEntry and handlerCode build once per kind and process", () => {
    expect(bundleEntry("handlers/jenkins.ts")).to.equal(bundleEntry("handlers/jenkins.ts"));
    expect(handlerCode("s3-zip")).to.equal(handlerCode("s3-zip"));
  });

  it("marking the SDK external leaves the SDK clients to the runtime and shrinks the bundle", () => {
    const bundled = bundleHandler("s3-zip", "bundled");
    const external = bundleEntry(handlerEntry("s3-zip"), "external", "s3-zip");
    expect(external.code).to.match(/require\("@aws-sdk\/client-s3"\)/);
    expect(bundled.code).not.to.match(/require\("@aws-sdk\/client-/);
    expect(external.bytes).to.be.below(bundled.bytes);
  });

  for (const kind of ["s3-zip", "pr-cleanup"] as const) {
    it(`the ${kind} bundle with the SDK external still holds @aws-sdk/lib-storage, which the Lambda runtime does not ship`, () => {
      const external = bundleEntry(handlerEntry(kind), "external", kind);
      expect(external.code).not.to.match(/require\("@aws-sdk\/lib-storage"\)/);
      const left = Object.values(external.metafile.outputs)
        .flatMap((output) => output.imports)
        .filter((i) => i.external && i.path.startsWith("@"))
        .map((i) => i.path);
      expect([...new Set(left)].sort()).to.deep.equal([
        "@aws-sdk/client-dynamodb",
        "@aws-sdk/client-s3",
        "@aws-sdk/client-secrets-manager",
        "@aws-sdk/client-sqs",
        "@smithy/core/endpoints",
        "@smithy/core/protocols",
      ]);
    });
  }

  for (const kind of HANDLER_KINDS) {
    it(`the ${kind} bundle loads in plain node (CommonJS) and exports handler`, () => {
      const dir = mkdtempSync(join(tmpdir(), "hookgate-bundle-"));
      writeFileSync(join(dir, "index.js"), bundleHandler(kind).code);
      const run = spawnSync(
        process.execPath,
        ["-e", "process.stdout.write(typeof require(process.argv[1]).handler)", join(dir, "index.js")],
        { encoding: "utf8", env: { PATH: process.env.PATH, AWS_REGION: "eu-west-1" }, timeout: 20_000 },
      );
      expect(run.stderr).to.equal("");
      expect(run.stdout).to.equal("function");
    });
  }

  it("refuses an entry that does not exist, naming it", () => {
    expect(() => bundleEntry("handlers/nope.ts")).to.throw(/handlers\/nope\.ts: the file does not exist/);
  });
});
