// The README against the network preflight: every AWS read `pulumi up` makes before creating anything needs a
// permission the deploy credentials may lack, and its failure has a message users search the README for.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";
import { parseStackConfig } from "../../src/infra/config";
import { networkPreflight } from "../../src/infra/network";
import { invokeFailure, MockCloud, withoutStackTraces } from "./mocks";

const README = readFileSync(resolve(__dirname, "..", "..", "README.md"), "utf8");
const GET_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones";
const GET_SUBNET = "aws:ec2/getSubnet:getSubnet";

const denied = () => {
  throw invokeFailure("UnauthorizedOperation: You are not authorized to perform this operation");
};

/** The message of each mode's failed read: the region's zones (create), a subnet (existing). */
async function failedReads(): Promise<string[]> {
  await new MockCloud({ [GET_ZONES]: denied, [GET_SUBNET]: denied }).install("test");
  const modes = [
    parseStackConfig({ network: { mode: "create" } }),
    parseStackConfig({
      network: {
        mode: "existing",
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1"],
      },
    }),
  ];
  return withoutStackTraces(() =>
    Promise.all(
      modes.map((config) =>
        networkPreflight(config.network, "eu-west-1").then(
          () => expect.fail(`${config.network.mode}: the read did not fail`),
          (e: Error) => e.message,
        ),
      ),
    ),
  );
}

/** The permission a failed read's message names, as "(ec2:Action)". */
function permissionOf(message: string): string {
  const found = /\((ec2:\w+)\)/.exec(message)?.[1];
  if (!found) expect.fail(`no permission named in: ${message}`);
  return found;
}

describe("README: the permissions and messages of the network preflight's reads", () => {
  it("lists the permission of every read (ec2:DescribeAvailabilityZones in mode create, ec2:DescribeSubnets in mode existing) among the deploy prerequisites", async () => {
    const prerequisites = README.slice(
      README.indexOf("### Prerequisites"),
      README.indexOf("- The [Pulumi CLI]"),
    );
    const permissions = (await failedReads()).map(permissionOf);
    expect(permissions).to.deep.equal(["ec2:DescribeAvailabilityZones", "ec2:DescribeSubnets"]);
    for (const permission of permissions) expect(prerequisites, permission).to.contain(`\`${permission}\``);
  });

  it("has a troubleshooting entry for every failed read's 'cannot read …' message, naming its permission", async () => {
    // The entries' headings: **`cannot read … (ec2:Action)`** — with region, subnet or id written as placeholders.
    const headings = [...README.matchAll(/^\*\*`(cannot read [^`]*)`\*\*/gm)].map((m) => m[1] as string);
    for (const message of await failedReads()) {
      const permission = permissionOf(message);
      const opening = message.slice(0, message.search(/ (of|entry) /));
      expect(
        headings.filter((h) => h.startsWith(opening) && h.includes(`(${permission})`)),
        message,
      ).to.have.length(1);
    }
  });
});
