// The real Pulumi program (index.ts): stack config through `pulumi.runtime.setAllConfig`, a routes.yaml
// fixture loaded by the real loader, and the real esbuild bundles of handlers/. Config is read once per
// process and index.ts once per module cache, so this file evaluates it exactly once.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import { assetPath, bundledCode, bundleFile, bundleHandler } from "../../src/infra/bundle";
import {
  environmentLeaks,
  nameProblems,
  openIngress,
  routeOf,
  secretAccessBeyondRoute,
  unprotectedBuckets,
  wildcardResources,
} from "./checks";
import { MockCloud, outputValue, REGION, settle, withoutStackTraces } from "./mocks";

const ROUTES = resolve(__dirname, "..", "fixtures", "infra", "routes.yaml");

describe("index.ts (the Pulumi program, under mocks, with a routes.yaml fixture)", () => {
  const cloud = new MockCloud();
  let outputs: Record<string, pulumi.Output<unknown>>;
  const routes = loadRoutesFile(ROUTES).routes;
  // The real bundles, written to a temporary folder: never the project's .hookgate/bundles, which a `pulumi up` of
  // this checkout ships.
  const bundles = mkdtempSync(join(tmpdir(), "hookgate-index-bundles-"));
  after(() => rmSync(bundles, { recursive: true, force: true }));

  before(async function () {
    this.timeout(120_000);
    await cloud.install("ci");
    pulumi.runtime.setAllConfig({
      "aws:region": REGION,
      "hookgate:routesFile": ROUTES,
      "hookgate:network": JSON.stringify({ natGateways: "perAz", azCount: 3 }),
      "hookgate:logRetentionDays": "14",
      "hookgate:alarmEmail": "ops@example.com",
      // A key with only commented-out children in Pulumi.<stack>.yaml, as the engine passes it.
      "hookgate:jenkins": "",
    });
    await withoutStackTraces(async () => {
      // index.ts exports the program as a function returning a promise of the outputs, as Pulumi runs it.
      const program: (options: {
        code: ReturnType<typeof bundledCode>;
      }) => Promise<Record<string, pulumi.Output<unknown>>> = require("../../index");
      outputs = await program({ code: bundledCode(bundles) });
      await Promise.all(Object.values(outputs).map((o) => outputValue(o)));
      await settle(cloud);
    });
  });

  it("gives the stack outputs by the names they have always had", () => {
    expect(Object.keys(outputs)).to.deep.equal([
      "webhookUrls",
      "webhookSetup",
      "deadLetterQueueUrls",
      "dashboardUrl",
      "apiUrl",
      "artifactBucket",
      "dedupeTable",
    ]);
  });

  it("exports the webhook URLs, the setup instructions, the DLQ URLs and the dashboard URL", async () => {
    const urls = (await outputValue(outputs.webhookUrls)) as Record<string, string>;
    expect(Object.keys(urls).sort()).to.deep.equal(routes.map((r) => r.name).sort());
    const setup = (await outputValue(outputs.webhookSetup)) as Record<
      string,
      { events: string[]; secretName: string }
    >;
    expect(setup["source-zip"]).to.deep.include({ events: ["push"], secretName: "hookgate/github-webhook" });
    expect(setup["platform-gitlab"]?.secretName).to.equal("hookgate/gitlab-webhook");
    const dlqs = (await outputValue(outputs.deadLetterQueueUrls)) as Record<string, string>;
    expect(dlqs["api-build"]).to.match(/hookgate-ci-api-build-dlq\.fifo$/);
    expect(await outputValue(outputs.dashboardUrl)).to.contain("#dashboards/dashboard/hookgate-ci");
  });

  it("exports the API's invoke URL, the artifact bucket's name and the dedupe table's name, each under its own key", async () => {
    const table = cloud.ofType("aws:dynamodb/table:Table")[0];
    expect(await outputValue(outputs.dedupeTable)).to.equal(table?.inputs.name);
    expect(await outputValue(outputs.artifactBucket))
      .to.be.a("string")
      .and.match(/^hookgate-ci-artifacts-/);
    expect(await outputValue(outputs.apiUrl)).to.match(
      new RegExp(`^https://[^/]+\\.execute-api\\.${REGION}\\.amazonaws\\.com/v1$`),
    );
  });

  it("reads the stack config: NAT per AZ over 3 AZs, 14 days of logs, the alarm e-mail", () => {
    const vpc = cloud.ofType("awsx:ec2:Vpc")[0];
    expect(vpc?.inputs.natGateways).to.deep.equal({ strategy: "OnePerAz" });
    expect(vpc?.inputs.numberOfAvailabilityZones).to.equal(3);
    for (const lg of cloud.ofType("aws:cloudwatch/logGroup:LogGroup"))
      expect(lg.inputs.retentionInDays).to.equal(14);
    expect(cloud.ofType("aws:sns/topicSubscription:TopicSubscription")[0]?.inputs.endpoint).to.equal(
      "ops@example.com",
    );
  });

  it("deploys each route's function with the esbuild bundle of its action's handler", async () => {
    const fns = cloud.ofType("aws:lambda/function:Function");
    expect(fns).to.have.length(routes.length);
    for (const fn of fns) {
      const route = routes.find((r) => r.name === routeOf(cloud, fn));
      expect(route, fn.name).to.not.equal(undefined);
      const kind = route?.action.type ?? "jenkins";
      const code = fn.inputs.code as pulumi.asset.AssetArchive;
      const assets = (await code.assets) as Record<string, pulumi.asset.Asset>;
      expect(Object.keys(assets)).to.deep.equal(["index.js"]);
      // A file asset: the state keeps its path and hash, where a StringAsset's whole text would be kept.
      const asset = assets["index.js"];
      expect(asset).to.be.instanceOf(pulumi.asset.FileAsset);
      const path = await (asset as pulumi.asset.FileAsset).path;
      expect(path).to.equal(assetPath(bundleFile(kind, bundles)));
      expect(readFileSync(resolve(process.cwd(), path), "utf8")).to.equal(bundleHandler(kind).code);
    }
  });

  it("passes the security checks over every resource", () => {
    expect(openIngress(cloud)).to.deep.equal([]);
    expect(wildcardResources(cloud)).to.deep.equal([]);
    expect(secretAccessBeyondRoute(cloud, routes)).to.deep.equal([]);
    expect(environmentLeaks(cloud, [])).to.deep.equal([]);
    expect(unprotectedBuckets(cloud)).to.deep.equal([]);
    expect(nameProblems(cloud)).to.deep.equal([]);
  });
});
