// The network settings only AWS can answer for (the region's zones, the subnets' VPC and zones), checked by
// buildStack before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { parseStackConfig, type StackConfig } from "../../src/infra/config";
import { buildStack } from "../../src/infra/program";
import { collectingWarnings } from "./evaluate";
import { jenkinsRoute, stubCode } from "./fixtures";
import { type InvokeResult, MockCloud, outputValue, withoutStackTraces } from "./mocks";

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
      const out = buildStack({
        config,
        routes: [jenkinsRoute()],
        stack: "test",
        region: "eu-west-1",
        code: stubCode,
      });
      return outputValue(out.webhookUrls).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    }),
  );
  return { error, registered: cloud.resources.map((r) => r.type), invokes: cloud.invokes, warnings };
}

describe("buildStack: network.azCount against the region's available zones", () => {
  it("refuses azCount 4 in a region with 3 available zones, naming hookgate:network.azCount, the region and its zones, before registering any resource", async () => {
    const { error, registered, invokes } = await build(parseStackConfig({ network: { azCount: 4 } }), {
      [GET_ZONES]: threeZones,
    });
    expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
    expect(error?.message).to.contain(
      "hookgate:network.azCount is 4, but eu-west-1 has 3 available availability zone(s) " +
        "(eu-west-1a, eu-west-1b, eu-west-1c): set it to at most 3",
    );
    expect(registered, "resources registered before the check failed").to.deep.equal([]);
    // Zones that are impaired or unavailable are not counted.
    expect(invokes.find((i) => i.token === GET_ZONES)?.inputs).to.deep.equal({ state: "available" });
  });

  it("accepts azCount 3 in a region with 3 available zones", async () => {
    const { error, registered } = await build(parseStackConfig({ network: { azCount: 3 } }), {
      [GET_ZONES]: threeZones,
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
