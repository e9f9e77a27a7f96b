// Two stacks of one name (`dev` on Pulumi Cloud and on `pulumi login --local`, or in two organizations or projects)
// in one account and region build the same physical names. SQS's CreateQueue and SNS's CreateTopic hand a second
// stack the first one's queue or topic when what it sends matches, and its `pulumi destroy` then deletes them: what
// each stack sends must differ, and every resource must say whose it is (review h421).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as providerServer from "@pulumi/pulumi/provider/server";
import { expect } from "chai";
import { INSTANCE_TAG, OWNER_TAG, ownedQueuePolicy, TAGGED_TYPES } from "../../src/infra/ownerTags";
import { collectingWarnings, type Evaluated, evaluate } from "./evaluate";
import { allKinds, config, jenkinsRoute, stubCode } from "./fixtures";
import { ACCOUNT, EXISTING_VPC_ID, type MockCloud, REGION } from "./mocks";

// Internal to the SDK (not in its typings): what a component provider's host runs on a Construct request's inputs.
const { deserializeInputs } = providerServer as unknown as {
  deserializeInputs: (inputs: unknown, dependencies: unknown) => Promise<Record<string, unknown>>;
};

const MODULES = resolve(__dirname, "..", "..", "node_modules", "@pulumi");

/**
 * Whether the SDK's arguments of a resource type (aws:sqs/queue:Queue, awsx:ec2:Vpc) take `tags`: read from its
 * typings, @pulumi/<package>/<module>/<name>.d.ts (index's at the package's root).
 */
function argsTakeTags(type: string): boolean {
  const [pkg, module, name] = type.split(":") as [string, string, string];
  const [dir, file] = module.includes("/")
    ? module.split("/")
    : [module, name.charAt(0).toLowerCase() + name.slice(1)];
  const path = resolve(MODULES, pkg, dir === "index" ? "" : (dir as string), `${file}.d.ts`);
  const typings = readFileSync(path, "utf8");
  const args = new RegExp(`export interface ${name}Args \\{([\\s\\S]*?)\\n\\}`).exec(typings)?.[1];
  expect(args, `${name}Args in ${path}`).to.be.a("string");
  return /\n\s+tags\?:/.test(args as string);
}

async function dev(organization?: string, randomIdHex?: string): Promise<Evaluated> {
  const { result } = await collectingWarnings(() =>
    evaluate({
      config: config({ alarmEmail: "ops@example.com" }),
      routes: [jenkinsRoute()],
      stack: "dev",
      code: stubCode,
      ...(organization ? { organization } : {}),
      ...(randomIdHex ? { randomIdHex } : {}),
    }),
  );
  return result;
}

const queues = (cloud: MockCloud) => cloud.ofType("aws:sqs/queue:Queue");
const topic = (cloud: MockCloud) => cloud.ofType("aws:sns/topic:Topic")[0];

describe("the owning stack of each resource, and two stacks of one name in one account and region", () => {
  it("every resource whose type takes tags carries the owning stack (organization/project/stack) and its state's instance value, in every network mode and with every option", async () => {
    const configs = [
      config({
        alarmEmail: "ops@example.com",
        api: { manageAccount: true },
        github: { manageWebhooks: true },
      }),
      config({
        network: {
          mode: "existing",
          vpcId: EXISTING_VPC_ID,
          privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
          interfaceEndpoints: ["secretsmanager", "sqs"],
        },
      }),
      // The rule the stack adds to Jenkins' own group.
      config({ jenkins: { securityGroupId: "sg-0123456789abcdef0" } }),
    ];
    const types = new Set<string>();
    const untagged: string[] = [];
    for (const c of configs) {
      const { result } = await collectingWarnings(() =>
        evaluate({
          config: c,
          routes: allKinds(),
          stack: "dev",
          organization: "acme",
          code: stubCode,
          githubToken: "ghp_test-token-value",
        }),
      );
      const instance = result.cloud.ofType("random:index/randomId:RandomId");
      expect(instance, "one instance value per stack").to.have.length(1);
      for (const r of result.cloud.resources) {
        if (!r.type.startsWith("aws:") && !r.type.startsWith("awsx:")) continue;
        types.add(r.type);
        if (!argsTakeTags(r.type)) continue;
        const tags = r.inputs.tags ?? {};
        // A remote component's tags must be known when the program runs (next test): the owner alone.
        const instanceOk = r.type.startsWith("awsx:")
          ? !(INSTANCE_TAG in tags)
          : /^[0-9a-f]{16}$/.test(tags[INSTANCE_TAG]);
        if (tags[OWNER_TAG] !== "acme/hookgate/dev" || !instanceOk)
          untagged.push(`${r.type} ${r.name}: ${JSON.stringify(tags)}`);
      }
    }
    expect(untagged).to.deep.equal([]);
    expect(types).to.include.members([
      "aws:sqs/queue:Queue",
      "aws:sns/topic:Topic",
      "awsx:ec2:Vpc",
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ]);
    // And no type is given tags its arguments do not take (the provider would refuse the property).
    expect([...TAGGED_TYPES].filter((t) => !argsTakeTags(t))).to.deep.equal([]);
  });

  it("a remote component (awsx's Vpc) is sent inputs with no dependency, so its construct gets plain tags: the subnets, route tables and NAT gateways it tags by spreading them keep their own Name and SubnetType, and its gateway endpoints (tagged by their spec alone) carry the owner too", async () => {
    const { result } = await collectingWarnings(() =>
      evaluate({
        config: config({ alarmEmail: "ops@example.com" }),
        routes: [jenkinsRoute()],
        stack: "dev",
        organization: "acme",
        code: stubCode,
      }),
    );
    const remote = result.cloud.remoteRequests;
    expect(remote.map((r) => r.type)).to.include("awsx:ec2:Vpc");
    for (const { type, name, request } of remote) {
      // What the component's provider host hands its construct: an input with dependencies becomes an Output.
      const dependencies = request.getPropertydependenciesMap();
      for (const [input, urns] of dependencies.entries())
        expect(urns.getUrnsList(), `${type} ${name}: ${input}'s dependencies`).to.deep.equal([]);
      const inputs = await deserializeInputs(request.getObject(), dependencies);
      const tags = inputs.tags as Record<string, unknown>;
      expect(pulumi.Output.isInstance(tags), `${type} ${name}: tags an Output`).to.equal(false);
      // awsx/ec2/vpc.ts: a subnet's tags are { Name: <vpc name>, ...args.tags, ...spec.tags, Name, SubnetType }.
      expect({ ...tags, Name: "hookgate-network-vpc-private-1", SubnetType: "Private" }).to.deep.equal({
        Name: "hookgate-network-vpc-private-1",
        SubnetType: "Private",
        "hookgate:stack": "hookgate-dev",
        [OWNER_TAG]: "acme/hookgate/dev",
      });
      // awsx tags a gateway endpoint with its spec's tags alone.
      for (const spec of inputs.vpcEndpointSpecs as { tags?: Record<string, string> }[])
        expect(spec.tags).to.deep.equal({
          "hookgate:stack": "hookgate-dev",
          [OWNER_TAG]: "acme/hookgate/dev",
        });
    }
  });

  it("keeps the tags a resource had (the VPC's Name and hookgate:stack) beside the owner's", async () => {
    const { cloud } = await dev();
    const vpc = cloud.ofType("awsx:ec2:Vpc")[0];
    expect(vpc?.inputs.tags).to.include({ Name: "hookgate-dev-vpc", "hookgate:stack": "hookgate-dev" });
    expect(vpc?.inputs.tags[OWNER_TAG]).to.equal("organization/hookgate/dev");
  });

  it("on a DIY backend (no organization), the owner is organization/<project>/<stack>, as Pulumi names such stacks", async () => {
    const { cloud } = await dev();
    expect(topic(cloud)?.inputs.tags[OWNER_TAG]).to.equal("organization/hookgate/dev");
  });

  it("a second `dev` (another organization, or another DIY backend) keeps the physical names but sends each queue another policy and the topic other tags, so CreateQueue (QueueNameExists) and CreateTopic fail instead of handing it the first one's", async () => {
    const first = await dev();
    // The same organization, project and stack: only the value in each state differs.
    const otherBackend = await dev(undefined, "fedcba9876543210");
    const otherOrganization = await dev("acme");
    for (const second of [otherBackend, otherOrganization]) {
      // The names stay (a new prefix would replace every deployed stack's resources).
      expect(queues(second.cloud).map((q) => q.inputs.name)).to.deep.equal(
        queues(first.cloud).map((q) => q.inputs.name),
      );
      expect(topic(second.cloud)?.inputs.name).to.equal(topic(first.cloud)?.inputs.name);
      for (const [i, queue] of queues(second.cloud).entries()) {
        expect(queue.inputs.policy, queue.name).to.be.a("string");
        expect(queue.inputs.policy, queue.name).to.not.equal(queues(first.cloud)[i]?.inputs.policy);
      }
      expect(topic(second.cloud)?.inputs.tags).to.not.deep.equal(topic(first.cloud)?.inputs.tags);
    }
  });

  it("a queue's policy denies only requests not sent over TLS, on the queue itself, and its Id names the owning stack", async () => {
    const { cloud } = await dev("acme");
    for (const queue of queues(cloud)) {
      const policy = JSON.parse(queue.inputs.policy);
      const instance = queue.inputs.tags[INSTANCE_TAG];
      expect(policy.Id).to.equal(`hookgate/acme/hookgate/dev/${instance}`);
      expect(policy.Statement).to.deep.equal([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "sqs:*",
          Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue.inputs.name}`,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
    }
  });

  it("ownedQueuePolicy differs between two owners, and between two instances of one owner", () => {
    const arn = "arn:aws:sqs:eu-west-1:123456789012:hookgate-dev-api-build.fifo";
    const one = ownedQueuePolicy(arn, "organization/hookgate/dev", "00000000000000a1");
    expect(ownedQueuePolicy(arn, "acme/hookgate/dev", "00000000000000a1")).to.not.equal(one);
    expect(ownedQueuePolicy(arn, "organization/hookgate/dev", "00000000000000a2")).to.not.equal(one);
    expect(ownedQueuePolicy(arn, "organization/hookgate/dev", "00000000000000a1")).to.equal(one);
  });
});
