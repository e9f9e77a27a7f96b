import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import type { ActionType, Route, WorkItem } from "../../src/core/types";
import {
  assetPath,
  BUNDLE_DIR,
  buildBundle,
  bundleArchive,
  bundledCode,
  bundleEntry,
  bundleFile,
  bundleHandler,
  HANDLER_KINDS,
  handlerEntry,
  REPO_ROOT,
} from "../../src/infra/bundle";
import { closedPrEvent, HOST_TOKEN, JENKINS_TOKEN, JENKINS_USER, mergedPull } from "../actions/helpers";
import { loadPayload } from "../fixtures/payloads";
import {
  githubDelivery,
  jenkinsRoute,
  SHA,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
  workItem,
} from "../gateway/support";
import { bundleAlone, type FakeAws, invokeAlone, lambdaEnv, startFakeAws } from "../support/bundleAlone";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { type LocalS3, startLocalS3 } from "../support/s3";

/** Runs `run` with `dir` as the working directory, then goes back. */
async function inDirectory<T>(dir: string, run: () => T | Promise<T>): Promise<T> {
  const was = process.cwd();
  process.chdir(dir);
  try {
    return await run();
  } finally {
    process.chdir(was);
  }
}

describe("bundle: esbuild bundles of the Lambda entry points", () => {
  // Never the project's .hookgate/bundles: a `pulumi up` of this checkout ships what is there.
  let dir: string;
  /** Each of the project's bundle files as it is (a rewrite renames a new file over it: a new inode). */
  const projectBundles = () =>
    HANDLER_KINDS.map((kind) => {
      const stat = statSync(bundleFile(kind), { throwIfNoEntry: false, bigint: true });
      return stat === undefined ? null : `${stat.ino}@${stat.mtimeNs}`;
    });
  let found: ReturnType<typeof projectBundles>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-bundles-"));
    found = projectBundles();
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    expect(projectBundles(), "the project's .hookgate/bundles, written or removed by a test").to.deep.equal(
      found,
    );
  });

  it("buildBundle is deterministic: the same source gives the same bytes and hash", () => {
    const a = buildBundle("handlers/jenkins.ts", "bundled");
    const b = bundleHandler("jenkins", "bundled"); // a separate (cached) build
    expect(a.sha256).to.equal(b.sha256);
    expect(a.code).to.equal(b.code);
    expect(a.code).not.to.contain("/work/");
    expect(a.code).not.to.match(/\/\/# sourceMappingURL/);
  });

  it("bundleEntry and a bundledCode provider build once per kind and process", () => {
    expect(bundleEntry("handlers/jenkins.ts")).to.equal(bundleEntry("handlers/jenkins.ts"));
    const code = bundledCode(dir);
    expect(code("s3-zip")).to.equal(code("s3-zip"));
  });

  it("writes the bundle into the directory it is given, not the project's .hookgate/bundles", () => {
    bundleArchive("pr-cleanup", bundleHandler("pr-cleanup"), dir);
    expect(readFileSync(join(dir, "pr-cleanup", "index.js"), "utf8")).to.equal(
      bundleHandler("pr-cleanup").code,
    );
  });

  it("the default bundle directory is the project's .hookgate/bundles, named .hookgate/bundles/<kind>/index.js when the program runs in the project directory", async () => {
    expect(BUNDLE_DIR).to.equal(join(REPO_ROOT, ".hookgate", "bundles"));
    expect(bundleFile("jenkins")).to.equal(join(REPO_ROOT, ".hookgate", "bundles", "jenkins", "index.js"));
    await inDirectory(REPO_ROOT, () =>
      expect(assetPath(bundleFile("jenkins"))).to.equal(".hookgate/bundles/jenkins/index.js"),
    );
  });

  it("names the bundle by a relative path that resolves, from the program's working directory, to the file written", async () => {
    // Where the engine reads it (the nodejs host chdirs the program to the engine's pwd): a directory other than the
    // project's, as with Pulumi.yaml's main:, an Automation API workspace or hookgate used as a package.
    const workDir = join(dir, "elsewhere", "program");
    mkdirSync(workDir, { recursive: true });
    const bundles = join(dir, "bundles");
    const path = await inDirectory(workDir, async () => {
      const archive = bundleArchive("jenkins", bundleHandler("jenkins"), bundles);
      const assets = (await archive.assets) as Record<string, pulumi.asset.FileAsset>;
      return (await assets["index.js"]?.path) ?? "";
    });
    expect(isAbsolute(path), path).to.equal(false);
    expect(path).not.to.contain("\\");
    expect(resolve(workDir, path)).to.equal(bundleFile("jenkins", bundles));
    expect(readFileSync(resolve(workDir, path), "utf8")).to.equal(bundleHandler("jenkins").code);
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
    it(`the ${kind} code reaches the engine (and the state) as a relative path and a hash, not the bundle's text`, async () => {
      const wire = JSON.stringify(await pulumi.runtime.serializeProperty("code", bundledCode(dir)(kind)));
      expect(wire).not.to.contain('"text"');
      const path = assetPath(bundleFile(kind, dir));
      expect(isAbsolute(path), path).to.equal(false);
      expect(wire).to.contain(`"path":"${path}"`);
      expect(wire.length).to.be.below(1024);
      expect(readFileSync(resolve(process.cwd(), path), "utf8")).to.equal(bundleHandler(kind).code);
    });
  }

  it("writes the bundle file whole again when it was changed or removed, leaving no temporary file", () => {
    const file = bundleFile("jenkins", dir);
    bundleArchive("jenkins", bundleHandler("jenkins"), dir);
    writeFileSync(file, "half a bun");
    bundleArchive("jenkins", bundleHandler("jenkins"), dir);
    expect(readFileSync(file, "utf8")).to.equal(bundleHandler("jenkins").code);
    rmSync(join(dir, "jenkins"), { recursive: true });
    expect(existsSync(file)).to.equal(false);
    bundleArchive("jenkins", bundleHandler("jenkins"), dir);
    expect(readFileSync(file, "utf8")).to.equal(bundleHandler("jenkins").code);
    expect(readdirSync(dirname(file))).to.deep.equal(["index.js"]);
  });

  it("refuses an entry that does not exist, naming it", () => {
    expect(() => bundleEntry("handlers/nope.ts")).to.throw(/handlers\/nope\.ts: the file does not exist/);
  });
});

// Each production bundle (SDK_MODE) run as Lambda runs it: index.js alone in an empty folder, in a child node with
// Lambda's environment, one child per bundle. The receive path (a signed delivery, enqueued) and the work path (whose
// action module is require()d lazily) each run once, so a module the bundle needs and does not hold fails here.
describe("bundle: each handler bundle alone in an empty folder, as in /var/task", function () {
  this.timeout(120_000);
  let aws: FakeAws;
  let jenkins: JenkinsServer;
  let host: GitHostServer;
  let s3: LocalS3;
  const api = { provider: "github" as const, apiUrl: "", token: "hookgate/github-token" };
  before(async () => {
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setArchive("acme/api", SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
    host.setPull("acme/api", mergedPull());
    api.apiUrl = host.url;
    s3 = await startLocalS3({ buckets: ["artifacts"] });
    aws = await startFakeAws({
      "hookgate/github-webhook": WEBHOOK_SECRET,
      "hookgate/github-token": HOST_TOKEN,
      "hookgate/jenkins": JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN }),
    });
  });
  after(async () => {
    await aws?.close();
    await host?.close();
    await s3?.close();
    await jenkins?.close();
  });

  /** Runs the kind's bundle alone with a receive event and one SQS record: the delivery is answered 202, the item done. */
  async function runAlone(kind: ActionType, route: Route, receive: unknown, item: unknown): Promise<void> {
    const dir = bundleAlone(bundleHandler(kind).code);
    try {
      const run = await invokeAlone(
        dir,
        [receive, sqsEvent([sqsRecord(JSON.stringify(item), { group: "acme/api" })])],
        lambdaEnv(aws.url, route, { AWS_ENDPOINT_URL_S3: s3.url }),
      );
      const [answer, batch] = run.results as [{ statusCode?: number } | undefined, unknown];
      const output = run.stdout + run.stderr;
      expect(answer?.statusCode, output).to.equal(202);
      expect(batch, output).to.deep.equal({ batchItemFailures: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("the jenkins bundle alone answers a signed delivery 202 and its work item triggers the Jenkins job", async () => {
    const route = jenkinsRoute({}, jenkins.url);
    const jenkinsAction = route.action.type === "jenkins" ? route.action.jenkins : undefined;
    const item = workItem({
      acceptedAt: new Date().toISOString(),
      request: { type: "jenkins", jenkins: jenkinsAction, job: ["api", "build"], parameters: { SHA } },
    } as Partial<WorkItem>);
    const before = jenkins.builds().length;
    await runAlone("jenkins", route, githubDelivery(), item);
    expect(
      jenkins
        .builds()
        .slice(before)
        .map((b) => b.job),
    ).to.deep.equal([["api", "build"]]);
  });

  it("the s3-zip bundle alone answers a signed delivery 202 and its work item puts the zip in S3", async () => {
    const route = jenkinsRoute({
      action: { type: "s3-zip", api, bucket: "artifacts", key: "{{repo.path}}/{{branch.path}}/src.zip" },
    } as Partial<Route>);
    const item = workItem({
      acceptedAt: new Date().toISOString(),
      request: { type: "s3-zip", api, bucket: "artifacts", key: "acme/api/main/src.zip" },
    });
    await runAlone("s3-zip", route, githubDelivery(), item);
    expect(await s3.listKeys("artifacts", "acme/api/main/")).to.deep.equal(["acme/api/main/src.zip"]);
  });

  it("the pr-cleanup bundle alone answers a closed pull request 202 and its work item runs the S3 and Jenkins steps", async () => {
    const request = {
      type: "pr-cleanup" as const,
      api,
      context: "hookgate/pr-cleanup",
      steps: [
        { kind: "delete-s3-prefix" as const, bucket: "artifacts", prefix: "acme/api/pr-7/" },
        {
          kind: "jenkins" as const,
          request: {
            type: "jenkins" as const,
            jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
            job: ["previews", "teardown"],
            parameters: { PR: "7" },
          },
        },
      ],
    };
    const route = {
      ...jenkinsRoute(),
      name: "pr-cleanup",
      match: { repos: ["acme/api", "Codertocat/Hello-World"], events: ["pull_request"] },
      action: {
        type: "pr-cleanup",
        api,
        context: request.context,
        steps: [
          { kind: "delete-s3-prefix", bucket: "artifacts", prefix: "{{repo}}/pr-{{pr.number}}/" },
          { kind: "jenkins", job: "previews/teardown", parameters: { PR: "{{pr.number}}" } },
        ],
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
      },
    } as Route;
    const event = closedPrEvent();
    const item = {
      ...workItem({ acceptedAt: new Date().toISOString(), event, deliveryId: event.deliveryId }),
      route: "pr-cleanup",
      request,
    };
    const closed = loadPayload("github/pull_request-closed-merged");
    const receive = githubDelivery({ body: closed.body, event: "pull_request", path: "/hooks/pr-cleanup" });
    await s3.client.send(
      new PutObjectCommand({ Bucket: "artifacts", Key: "acme/api/pr-7/site/index.html", Body: "<p>7</p>" }),
    );
    const before = jenkins.builds().length;
    await runAlone("pr-cleanup", route, receive, item);
    expect(await s3.listKeys("artifacts", "acme/api/pr-7/")).to.deep.equal([]);
    expect(
      jenkins
        .builds()
        .slice(before)
        .map((b) => b.job),
    ).to.deep.equal([["previews", "teardown"]]);
  });
});
