// The network settings only AWS can answer for (the region's zones, the subnets' VPC and zones), checked by
// buildStack before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import type { Route } from "../../src/core/types";
import { parseStackConfig, type StackConfig } from "../../src/infra/config";
import { buildStack } from "../../src/infra/program";
import { collectingWarnings } from "./evaluate";
import { jenkinsRoute, stubCode } from "./fixtures";
import { type InvokeResult, invokeFailure, MockCloud, outputValue, withoutStackTraces } from "./mocks";

// The SDK's settings module, whose getEngine the log functions call for the engine's client: required, so that the
// test replaces the function on the module's own exports (an import * would be a copy).
const settings = require("@pulumi/pulumi/runtime/settings");

const GET_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones";
const GET_SUBNET = "aws:ec2/getSubnet:getSubnet";
const VPC = "vpc-0123456789abcdef0";
const OTHER_VPC = "vpc-0fedcba9876543210";
const [A, B] = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"];

/** eu-west-1's three zones, as ec2:DescribeAvailabilityZones gives them. */
const threeZones: InvokeResult = () => ({
  id: "eu-west-1",
  names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
  zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
  groupNames: ["eu-west-1"],
});

/** Subnets whose VPC and zone `of` gives, by subnet id. */
const subnets =
  (of: Record<string, { vpcId: string; availabilityZone: string }>): InvokeResult =>
  (inputs) => ({ id: inputs.id, ...of[inputs.id] });

/**
 * buildStack under mocks: its webhook URLs' failure (undefined when it resolves), the resources registered by then,
 * the invokes and the warnings.
 */
async function build(config: StackConfig, invokes: Record<string, InvokeResult>) {
  const cloud = new MockCloud(invokes);
  await cloud.install("test");
  const { result: error, warnings } = await collectingWarnings(() =>
    withoutStackTraces(async () => {
      const built = buildStack({
        config,
        routes: [jenkinsRoute()],
        stack: "test",
        region: "eu-west-1",
        code: stubCode,
      });
      return built
        .then((out) => outputValue(out.webhookUrls))
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
    }),
  );
  return { error, registered: cloud.resources.map((r) => r.type), invokes: cloud.invokes, warnings };
}

describe("buildStack: network.azCount against the region's availability zones", () => {
  it("refuses azCount 4 in a region with 3 zones, naming hookgate:network.azCount, the region and its zones, before registering any resource", async () => {
    const { error, registered } = await build(parseStackConfig({ network: { azCount: 4 } }), {
      [GET_ZONES]: threeZones,
    });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect(error?.message).to.contain(
      "hookgate:network.azCount is 4, but eu-west-1 has 3 availability zone(s) " +
        "(eu-west-1a, eu-west-1b, eu-west-1c): set it to at most 3",
    );
    expect(registered, "resources registered before the check failed").to.deep.equal([]);
  });

  it("accepts azCount 3 in a region with 3 zones", async () => {
    const { error, registered } = await build(parseStackConfig({ network: { azCount: 3 } }), {
      [GET_ZONES]: threeZones,
    });
    expect(error).to.equal(undefined);
    expect(registered).to.include("awsx:ec2:Vpc");
  });

  it("accepts azCount 3 in a region of 3 zones while one is impaired, as awsx (which reads every zone, whatever its state) takes it", async () => {
    // ec2:DescribeAvailabilityZones' answer: every zone without a filter, the impaired one left out with state=available.
    const oneImpaired: InvokeResult = (inputs) => {
      const names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"].filter(
        (name) => inputs.state !== "available" || name !== "eu-west-1c",
      );
      return {
        id: "eu-west-1",
        names,
        zoneIds: names.map((_, i) => `euw1-az${i + 1}`),
        groupNames: ["eu-west-1"],
      };
    };
    const { error, registered } = await build(parseStackConfig({ network: { azCount: 3 } }), {
      [GET_ZONES]: oneImpaired,
    });
    expect(error).to.equal(undefined);
    expect(registered).to.include("awsx:ec2:Vpc");
  });
});

describe("buildStack: network.privateSubnetIds of an existing VPC", () => {
  const existing = (privateSubnetIds: string[]) =>
    parseStackConfig({ network: { mode: "existing", vpcId: VPC, privateSubnetIds } });

  it("refuses a subnet of another VPC than network.vpcId, naming the subnet and both VPCs, before registering any resource", async () => {
    const { error, registered } = await build(existing([A, B]), {
      [GET_SUBNET]: subnets({
        [A]: { vpcId: VPC, availabilityZone: "eu-west-1a" },
        [B]: { vpcId: OTHER_VPC, availabilityZone: "eu-west-1b" },
      }),
    });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect(error?.message).to.contain(
      `hookgate:network.privateSubnetIds entry ${B} is in ${OTHER_VPC}, not in network.vpcId ${VPC}`,
    );
    expect(error?.message).not.to.contain(`entry ${A}`);
    expect(registered, "resources registered before the check failed").to.deep.equal([]);
  });

  it("warns when every subnet is in one availability zone, naming it", async () => {
    const { error, warnings } = await build(existing([A, B]), {
      [GET_SUBNET]: subnets({
        [A]: { vpcId: VPC, availabilityZone: "eu-west-1a" },
        [B]: { vpcId: VPC, availabilityZone: "eu-west-1a" },
      }),
    });
    expect(error).to.equal(undefined);
    expect(warnings.filter((w) => w.includes("availability zone"))).to.deep.equal([
      "every subnet of network.privateSubnetIds is in one availability zone, eu-west-1a: while that zone is down, " +
        "no route function runs and every delivery fails; list a subnet of another zone too",
    ]);
  });

  it("reads each subnet of network.privateSubnetIds once: the Network's interface endpoints reuse the preflight's read", async () => {
    const { error, invokes } = await build(
      parseStackConfig({
        network: { mode: "existing", vpcId: VPC, privateSubnetIds: [A, B], interfaceEndpoints: ["sqs"] },
      }),
      {
        [GET_SUBNET]: subnets({
          [A]: { vpcId: VPC, availabilityZone: "eu-west-1a" },
          [B]: { vpcId: VPC, availabilityZone: "eu-west-1b" },
        }),
      },
    );
    expect(error).to.equal(undefined);
    const reads = invokes.filter((i) => i.token === GET_SUBNET).map((i) => i.inputs.id);
    expect(reads.sort()).to.deep.equal([A, B]);
  });

  it("accepts subnets of network.vpcId in two zones without a warning about zones", async () => {
    const { error, warnings, registered } = await build(existing([A, B]), {
      [GET_SUBNET]: subnets({
        [A]: { vpcId: VPC, availabilityZone: "eu-west-1a" },
        [B]: { vpcId: VPC, availabilityZone: "eu-west-1b" },
      }),
    });
    expect(error).to.equal(undefined);
    expect(warnings.filter((w) => w.includes("availability zone"))).to.deep.equal([]);
    expect(registered).to.include("aws:lambda/function:Function");
  });
});

type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Runs `run` with pulumi.log's functions recording each message and whether it names a resource (and printing nothing). */
async function recordingLogs<T>(run: () => Promise<T>) {
  const saved = Object.fromEntries(LEVELS.map((level) => [level, pulumi.log[level]]));
  const logged: { level: LogLevel; message: string; resource: boolean }[] = [];
  for (const level of LEVELS) {
    pulumi.log[level] = (message: string, resource?: pulumi.Resource) => {
      logged.push({ level, message, resource: resource !== undefined });
      return Promise.resolve();
    };
  }
  try {
    return { result: await run(), logged };
  } finally {
    Object.assign(pulumi.log, saved);
  }
}

describe("buildStack: a failed network check under the engine's log channel", () => {
  // azCount 4 where the mocks' region has 3 zones; a Jenkins route without jenkins.cidrs, of which the Gateway's
  // constructor warns against itself.
  const refused = () => parseStackConfig({ network: { azCount: 4 } });
  const run = () =>
    withoutStackTraces(() =>
      buildStack({
        config: refused(),
        routes: [jenkinsRoute()],
        stack: "test",
        region: "eu-west-1",
        code: stubCode,
      }).then(
        () => undefined,
        (e: unknown) => e as Error,
      ),
    );

  it("constructs no resource and logs nothing against a resource before it rejects", async () => {
    const cloud = new MockCloud({ [GET_ZONES]: threeZones });
    await cloud.install("test");
    const { result: error, logged } = await recordingLogs(run);
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    // The SDK logs (debug) each resource it is given, before the resource waits for its dependencies.
    expect(logged.filter((l) => l.message.startsWith("Registering resource"))).to.deep.equal([]);
    expect(cloud.resources.map((r) => r.type)).to.deep.equal([]);
    // A message against a resource waits for its URN, which a resource never registered never gets.
    expect(logged.filter((l) => l.resource)).to.deep.equal([]);
  });

  it("lets the engine receive the RunError's message, which Pulumi logs after the program fails", async () => {
    const cloud = new MockCloud({ [GET_ZONES]: threeZones });
    await cloud.install("test");
    // @pulumi/pulumi's log module sends each message to the engine once the previous one went and the resource it
    // names has its URN (log/index.js, lastLog): stand in an engine whose Log RPC answers at once.
    const sent: string[] = [];
    const realGetEngine = settings.getEngine;
    settings.getEngine = () => ({
      log: (req: { getMessage(): string }, callback: () => void) => {
        sent.push(req.getMessage());
        callback();
      },
    });
    try {
      const error = await run();
      expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
      // What cmd/run/run.js's uncaughtHandler does with a RunError: log.error(err.message).
      const delivered = pulumi.log.error((error as Error).message);
      // Turns of the event loop, no clock: a message nothing holds back goes out in the first.
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(
        sent.filter((m) => m.includes("hookgate:network.azCount is 4")),
        JSON.stringify(sent),
      ).to.have.length(1);
      await delivered;
    } finally {
      settings.getEngine = realGetEngine;
    }
  });
});

describe("buildStack: what stops it before any AWS read, and a failed read", () => {
  /** What buildStack rejects with, under `zones` as the region's zones read, for this hookgate config and routes. */
  async function refusal(
    zones: InvokeResult,
    raw: Record<string, unknown>,
    routes = [jenkinsRoute()],
  ): Promise<Error | undefined> {
    await new MockCloud({ [GET_ZONES]: zones }).install("test");
    return withoutStackTraces(() =>
      buildStack({
        config: parseStackConfig(raw),
        routes,
        stack: "test",
        region: "eu-west-1",
        code: stubCode,
        githubToken: "ghp_test-token-value",
      }).then(
        () => undefined,
        (e: unknown) => e as Error,
      ),
    );
  }
  const failedRead =
    (reason: string): InvokeResult =>
    () => {
      throw invokeFailure(reason);
    };
  /** 21 managed push webhooks on acme/api: one past GitHub's limit per event, which needs no AWS to see. */
  const overWebhookLimit = () => Array.from({ length: 21 }, (_, i) => jenkinsRoute(`job-${i}`, ["acme/api"]));

  it("stops with a RunError naming ec2:DescribeAvailabilityZones when the region's zones cannot be read (not the SDK's bare error, printed with a stack trace)", async () => {
    const reason = "UnauthorizedOperation: You are not authorized to perform this operation";
    const error = await refusal(failedRead(reason), { network: { azCount: 3 } });
    expect(pulumi.RunError.isInstance(error), `not a RunError: ${String(error)}`).to.equal(true);
    expect(error?.message).to.contain("ec2:DescribeAvailabilityZones").and.to.contain(reason);
  });

  it("names a route problem that needs no AWS (21 managed webhooks on one repository) together with the network's (azCount above the region's zones), in one run", async () => {
    const error = await refusal(
      threeZones,
      { github: { manageWebhooks: true }, network: { azCount: 4 } },
      overWebhookLimit(),
    );
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect(error?.message)
      .to.contain("hookgate:network.azCount is 4")
      .and.to.contain("21 managed webhooks on acme/api");
  });

  /** A Jenkins route whose Lambda environment passes 4 KB whatever its queue URLs: 60 parameters of 70 characters. */
  function tooBigRoute() {
    const route = jenkinsRoute("big");
    if (route.action.type !== "jenkins") throw new Error("fixture");
    route.action.parameters = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`PARAM_${i}`, `{{sha}}-${"x".repeat(60)}`]),
    );
    return route;
  }

  it("refuses a route whose Lambda environment passes 4 KB before constructing any resource or logging a warning against one", async () => {
    // No jenkins.cidrs: the Gateway's constructor would warn of the open Jenkins egress against itself.
    const { result: error, logged } = await recordingLogs(() =>
      refusal(threeZones, {}, [jenkinsRoute(), tooBigRoute()]),
    );
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect(error?.message).to.match(/route "big": its Lambda environment is \d+ bytes/);
    expect(logged.filter((l) => l.message.startsWith("Registering resource"))).to.deep.equal([]);
    expect(logged.filter((l) => l.resource)).to.deep.equal([]);
  });

  it("names a route whose Lambda environment passes 4 KB together with the network's problem (azCount above the region's zones), in one run", async () => {
    const error = await refusal(threeZones, { network: { azCount: 4 } }, [tooBigRoute()]);
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect(error?.message)
      .to.contain("hookgate:network.azCount is 4")
      .and.to.match(/route "big": its Lambda environment is \d+ bytes/);
  });

  it("rejects with an error of the plan's checks that is no RunError (a defect) as it is, with its stack trace, not merged into a RunError with the network read's failure", async () => {
    // A route that is no object: the plan's first look at it throws a TypeError.
    const error = await refusal(failedRead("RequestExpired: Request has expired"), {}, [
      null as unknown as Route,
    ]);
    expect(error).to.be.instanceOf(TypeError);
    expect(pulumi.RunError.isInstance(error)).to.equal(false);
  });

  it("names a route problem that needs no AWS even when the network read fails", async () => {
    const error = await refusal(
      failedRead("RequestExpired: Request has expired"),
      { github: { manageWebhooks: true } },
      overWebhookLimit(),
    );
    expect(error?.message).to.contain("21 managed webhooks on acme/api").and.to.contain("RequestExpired");
  });
});
