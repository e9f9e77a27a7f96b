import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import {
  BUNDLE_DIR,
  buildBundle,
  bundleArchive,
  bundleEntry,
  bundleHandler,
  bundlePath,
  HANDLER_KINDS,
  handlerCode,
  handlerEntry,
  REPO_ROOT,
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

  for (const kind of HANDLER_KINDS) {
    it(`the ${kind} code reaches the engine (and the state) as a project-relative path and a hash, not the bundle's text`, async () => {
      const wire = JSON.stringify(await pulumi.runtime.serializeProperty("code", handlerCode(kind)));
      expect(wire).not.to.contain('"text"');
      expect(wire).to.contain(`"path":"${bundlePath(kind)}"`);
      expect(bundlePath(kind)).to.equal(`.hookgate/bundles/${kind}/index.js`);
      expect(wire.length).to.be.below(1024);
      expect(readFileSync(join(REPO_ROOT, bundlePath(kind)), "utf8")).to.equal(bundleHandler(kind).code);
    });
  }

  it("writes the bundle file whole again when it was changed or removed, leaving no temporary file", () => {
    const file = join(REPO_ROOT, bundlePath("jenkins"));
    writeFileSync(file, "half a bun");
    bundleArchive("jenkins", bundleHandler("jenkins"));
    expect(readFileSync(file, "utf8")).to.equal(bundleHandler("jenkins").code);
    rmSync(join(REPO_ROOT, BUNDLE_DIR, "jenkins"), { recursive: true });
    bundleArchive("jenkins", bundleHandler("jenkins"));
    expect(readFileSync(file, "utf8")).to.equal(bundleHandler("jenkins").code);
    expect(readdirSync(dirname(file))).to.deep.equal(["index.js"]);
  });

  it("refuses an entry that does not exist, naming it", () => {
    expect(() => bundleEntry("handlers/nope.ts")).to.throw(/handlers\/nope\.ts: the file does not exist/);
  });
});
