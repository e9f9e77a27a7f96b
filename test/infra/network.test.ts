import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { INTERFACE_ENDPOINT_SERVICES } from "../../src/infra/config";
import {
  dhcpDnsServers,
  dnsEgressRules,
  dnsEgressWarning,
  interfaceServiceName,
  serviceName,
  vpcCidrs,
  vpcDnsServers,
  vpcEndpointIngressRules,
} from "../../src/infra/network";
import { collectingWarnings, evaluate } from "./evaluate";
import { config, HTTPS_RULE, jenkinsRoute, stubCode } from "./fixtures";
import {
  ACCOUNT,
  type InvokeResult,
  invokeFailure,
  MockCloud,
  outputValue,
  REGION,
  type RecordedInvoke,
} from "./mocks";

describe("Function: interfaceServiceName(region, service)", () => {
  it("interfaceServiceName is com.amazonaws.<region>.<service> for every service in the aws, GovCloud, ISO-E, ISO-F and European Sovereign Cloud regions", () => {
    for (const region of [
      "eu-west-1",
      "us-gov-west-1",
      "eu-isoe-west-1",
      "us-isof-south-1",
      "eusc-de-east-1",
    ]) {
      for (const service of INTERFACE_ENDPOINT_SERVICES) {
        expect(interfaceServiceName(region, service)).to.equal(`com.amazonaws.${region}.${service}`);
      }
    }
  });

  it("interfaceServiceName carries China's cn.com.amazonaws prefix for SQS, STS and CloudWatch only", () => {
    for (const region of ["cn-north-1", "cn-northwest-1"]) {
      expect(INTERFACE_ENDPOINT_SERVICES.map((s) => interfaceServiceName(region, s))).to.deep.equal([
        `com.amazonaws.${region}.secretsmanager`,
        `cn.com.amazonaws.${region}.sqs`,
        `com.amazonaws.${region}.logs`,
        `cn.com.amazonaws.${region}.sts`,
        `com.amazonaws.${region}.kms`,
        `cn.com.amazonaws.${region}.monitoring`,
      ]);
    }
  });

  it("interfaceServiceName carries the ISO partitions' prefixes for SQS (and CloudWatch in us-iso-west-1)", () => {
    expect(interfaceServiceName("us-iso-east-1", "sqs")).to.equal("gov.ic.c2s.us-iso-east-1.sqs");
    expect(interfaceServiceName("us-iso-east-1", "monitoring")).to.equal(
      "com.amazonaws.us-iso-east-1.monitoring",
    );
    expect(interfaceServiceName("us-iso-west-1", "monitoring")).to.equal(
      "gov.ic.c2s.us-iso-west-1.monitoring",
    );
    expect(interfaceServiceName("us-isob-east-1", "sqs")).to.equal("gov.sgov.sc2s.us-isob-east-1.sqs");
    expect(interfaceServiceName("us-isob-east-1", "secretsmanager")).to.equal(
      "com.amazonaws.us-isob-east-1.secretsmanager",
    );
  });

  it("serviceName (gateway endpoints) is com.amazonaws.<region>.<service>, in China too", () => {
    expect(serviceName("cn-north-1", "s3")).to.equal("com.amazonaws.cn-north-1.s3");
    expect(serviceName("cn-northwest-1", "dynamodb")).to.equal("com.amazonaws.cn-northwest-1.dynamodb");
  });
});

describe("Function: dhcpDnsServers(domainNameServers)", () => {
  it("dhcpDnsServers names no server for AmazonProvidedDNS alone, or for no entry", () => {
    expect(dhcpDnsServers(["AmazonProvidedDNS"])).to.deep.equal({
      cidrs: [],
      ignored: [],
    });
    expect(dhcpDnsServers([])).to.deep.equal({ cidrs: [], ignored: [] });
  });

  it("dhcpDnsServers gives each server's address alone, in the options' order and once: IPv4 /32, IPv6 /128 written canonically, an IPv4-mapped address as its IPv4", () => {
    expect(
      dhcpDnsServers(["10.20.0.10", "FD00:0:0::53", "AmazonProvidedDNS", "::ffff:10.20.0.11", "10.20.0.10"]),
    ).to.deep.equal({
      cidrs: ["10.20.0.10/32", "fd00::53/128", "10.20.0.11/32"],
      ignored: [],
    });
  });

  it("dhcpDnsServers splits a value that lists several servers, as CreateDhcpOptions takes them (commas)", () => {
    expect(dhcpDnsServers(["10.2.5.1,10.2.5.2", " 10.2.5.3 , AmazonProvidedDNS"])).to.deep.equal({
      cidrs: ["10.2.5.1/32", "10.2.5.2/32", "10.2.5.3/32"],
      ignored: [],
    });
  });

  it("dhcpDnsServers leaves out (and names) an address with a zone, which no rule can hold", () => {
    expect(dhcpDnsServers(["fe80::1%eth0", "10.2.5.1"])).to.deep.equal({
      cidrs: ["10.2.5.1/32"],
      ignored: ["fe80::1%eth0"],
    });
  });

  it("dhcpDnsServers takes AmazonProvidedDNS in any case, and leaves out (and names) an entry that is not an IP address", () => {
    expect(dhcpDnsServers(["amazonprovideddns", "dns.corp.example", "10.1.2.300"])).to.deep.equal({
      cidrs: [],
      ignored: ["dns.corp.example", "10.1.2.300"],
    });
  });
});

describe("Function: dnsEgressRules(servers) and dnsEgressWarning", () => {
  it("dnsEgressRules sends UDP 53 and TCP 53 to each server alone, one rule per server and protocol with a description naming the server (the provider reads rules back merged by protocol, ports and description)", () => {
    expect(dnsEgressRules(dhcpDnsServers(["10.20.0.10", "fd00::53"]))).to.deep.equal([
      dnsRule("udp", "10.20.0.10/32"),
      dnsRule("tcp", "10.20.0.10/32"),
      dnsRule("udp", "fd00::53/128"),
      dnsRule("tcp", "fd00::53/128"),
    ]);
    const descriptions = dnsEgressRules(dhcpDnsServers(["10.20.0.10", "10.30.0.10"])).map(
      (rule) => `${rule.protocol} ${rule.description}`,
    );
    expect(new Set(descriptions).size).to.equal(4);
    expect(dnsEgressRules(dhcpDnsServers(["fd00::53"]))[0]?.description).to.equal(
      "DNS to fd00::53, a name server of the VPC DHCP options",
    );
    expect(dnsEgressRules(dhcpDnsServers(["AmazonProvidedDNS"]))).to.deep.equal([]);
  });

  it("dnsEgressWarning names the VPC, the options set and each address opened; it is silent when nothing is", () => {
    expect(dnsEgressWarning(VPC, DHCP, dhcpDnsServers(["AmazonProvidedDNS"]))).to.equal(undefined);
    expect(dnsEgressWarning(VPC, DHCP, dhcpDnsServers(["10.20.0.10", "10.20.0.11"]))).to.equal(
      `network.vpcId ${VPC} uses the DHCP options ${DHCP}, whose DNS server(s) the route functions resolve ` +
        "names through: the Lambdas' security group sends UDP and TCP 53 to 10.20.0.10/32, 10.20.0.11/32 alone " +
        "(security groups filter DNS to a server of your own, not to AmazonProvidedDNS)",
    );
  });

  it("dnsEgressWarning says an IPv6 server needs the functions' outbound IPv6, and names an entry that is not an address", () => {
    const warning = dnsEgressWarning(VPC, DHCP, dhcpDnsServers(["fd00::53", "dns.corp.example"]));
    expect(warning).to.contain("UDP and TCP 53 to fd00::53/128 alone");
    expect(warning).to.contain(
      "an IPv6 server is reached only over outbound IPv6, which hookgate does not turn on for the functions",
    );
    expect(warning).to.contain(`name dns.corp.example as DNS server(s), which is not an IP address`);
  });
});

const VPC = "vpc-0feedfeedfeedfeed";
const DHCP = "dopt-0c0ffeec0ffeec0ff";
/** The rule to one DHCP options name server, as the Lambdas' group must hold it. */
const dnsRule = (protocol: string, cidr: string) => ({
  description: `DNS to ${cidr.replace(/\/(32|128)$/, "")}, a name server of the VPC DHCP options`,
  protocol,
  fromPort: 53,
  toPort: 53,
  ...(cidr.endsWith("/128") ? { ipv6CidrBlocks: [cidr] } : { cidrBlocks: [cidr] }),
});
const JENKINS_RULE = {
  description: "Jenkins controller",
  protocol: "tcp",
  fromPort: 8443,
  toPort: 8443,
  cidrBlocks: ["0.0.0.0/0"],
};
const EXISTING = {
  mode: "existing",
  vpcId: VPC,
  privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
};
const GET_VPC = "aws:ec2/getVpc:getVpc";
const GET_DHCP = "aws:ec2/getVpcDhcpOptions:getVpcDhcpOptions";

/** Invoke answers for a VPC whose DHCP options set (DHCP unless given) names these servers. */
function dhcpInvokes(domainNameServers: string[], dhcpOptionsId = DHCP): Record<string, InvokeResult> {
  return {
    [GET_VPC]: (inputs) => ({ id: inputs.id, cidrBlock: "10.20.0.0/16", dhcpOptionsId }),
    [GET_DHCP]: (inputs) => ({
      id: inputs.dhcpOptionsId,
      dhcpOptionsId: inputs.dhcpOptionsId,
      domainNameServers,
    }),
  };
}

/** Evaluates the stack; returns the Lambdas' egress rules, the invokes made and what pulumi.log.warn got. */
async function lambdaEgress(
  network: Record<string, unknown>,
  invokes?: Record<string, InvokeResult>,
  jenkins?: Record<string, unknown>,
): Promise<{ egress: unknown[]; invokes: RecordedInvoke[]; warnings: string[] }> {
  const { result, warnings } = await collectingWarnings(() =>
    evaluate({
      config: config({ network, ...(jenkins ? { jenkins } : {}) }),
      routes: [jenkinsRoute()],
      code: stubCode,
      invokes,
    }),
  );
  const groups = result.cloud
    .ofType("aws:ec2/securityGroup:SecurityGroup")
    .filter((r) => r.name.endsWith("-lambda"));
  expect(groups).to.have.length(1);
  // The VPC's reads; its subnets' (buildStack's check, test/infra/networkPreflight.test.ts) are left out.
  const ec2Invokes = result.cloud.invokes.filter(
    (i) => i.token.startsWith("aws:ec2/") && i.token !== "aws:ec2/getSubnet:getSubnet",
  );
  return { egress: groups[0]?.inputs.egress, invokes: ec2Invokes, warnings };
}

const dnsWarnings = (warnings: string[]) => warnings.filter((w) => /DHCP options/.test(w));

describe("Network (under Pulumi mocks): DNS to the name servers of an existing VPC's DHCP options", () => {
  it("a created VPC reads no DHCP options and its Lambdas' group opens no DNS rule", async () => {
    const { egress, invokes, warnings } = await lambdaEgress({}, dhcpInvokes(["10.20.0.10"]));
    expect(invokes).to.deep.equal([]);
    expect(egress).to.deep.equal([HTTPS_RULE, JENKINS_RULE]);
    expect(dnsWarnings(warnings)).to.deep.equal([]);
  });

  it("an existing VPC whose DHCP options name AmazonProvidedDNS alone: the VPC and its options are read, and the rules are unchanged", async () => {
    const { egress, invokes, warnings } = await lambdaEgress(EXISTING, dhcpInvokes(["AmazonProvidedDNS"]));
    expect(invokes.map((i) => [i.token, i.inputs])).to.deep.equal([
      [GET_VPC, { id: VPC }],
      [GET_DHCP, { dhcpOptionsId: DHCP }],
    ]);
    expect(egress).to.deep.equal([HTTPS_RULE, JENKINS_RULE]);
    expect(dnsWarnings(warnings)).to.deep.equal([]);
  });

  it("an existing VPC whose DHCP options name two DNS servers: UDP and TCP 53 to each alone, and `pulumi up` says so", async () => {
    const { egress, warnings } = await lambdaEgress(EXISTING, dhcpInvokes(["10.20.0.10", "10.30.0.10"]));
    expect(egress).to.deep.equal([
      HTTPS_RULE,
      JENKINS_RULE,
      dnsRule("udp", "10.20.0.10/32"),
      dnsRule("tcp", "10.20.0.10/32"),
      dnsRule("udp", "10.30.0.10/32"),
      dnsRule("tcp", "10.30.0.10/32"),
    ]);
    expect(dnsWarnings(warnings)).to.deep.equal([
      dnsEgressWarning(VPC, DHCP, dhcpDnsServers(["10.20.0.10", "10.30.0.10"])),
    ]);
  });

  it("an existing VPC whose DHCP options name one IPv6 DNS server: UDP and TCP 53 to its /128 alone", async () => {
    const { egress, warnings } = await lambdaEgress(EXISTING, dhcpInvokes(["fd00:10:20::53"]));
    expect(egress).to.deep.equal([
      HTTPS_RULE,
      JENKINS_RULE,
      dnsRule("udp", "fd00:10:20::53/128"),
      dnsRule("tcp", "fd00:10:20::53/128"),
    ]);
    expect(dnsWarnings(warnings)).to.have.length(1);
    expect(dnsWarnings(warnings)[0]).to.contain("outbound IPv6");
  });

  it("an existing VPC whose DHCP options name AmazonProvidedDNS and a server of its own: rules for that server only", async () => {
    const { egress } = await lambdaEgress(EXISTING, dhcpInvokes(["AmazonProvidedDNS", "10.20.0.10"]));
    expect(egress).to.deep.equal([
      HTTPS_RULE,
      JENKINS_RULE,
      dnsRule("udp", "10.20.0.10/32"),
      dnsRule("tcp", "10.20.0.10/32"),
    ]);
  });

  it("an existing VPC associated with no DHCP options (dhcpOptionsId default) or with options that name no server: no DNS rule, and no options read for the former", async () => {
    const none = await lambdaEgress(EXISTING, dhcpInvokes(["10.20.0.10"], "default"));
    expect(none.invokes.map((i) => i.token)).to.deep.equal([GET_VPC]);
    expect(none.egress).to.deep.equal([HTTPS_RULE, JENKINS_RULE]);
    const empty = await lambdaEgress(EXISTING, dhcpInvokes([]));
    expect(empty.egress).to.deep.equal([HTTPS_RULE, JENKINS_RULE]);
    expect(dnsWarnings([...none.warnings, ...empty.warnings])).to.deep.equal([]);
  });

  it("the DNS rules come after the HTTPS, Jenkins and proxy rules, which stay as they were", async () => {
    const { egress } = await lambdaEgress(
      { ...EXISTING, httpsProxy: "http://10.20.0.5:3128" },
      dhcpInvokes(["10.20.0.10"]),
    );
    expect(egress).to.deep.equal([
      HTTPS_RULE,
      JENKINS_RULE,
      {
        description: "egress proxy",
        protocol: "tcp",
        fromPort: 3128,
        toPort: 3128,
        cidrBlocks: ["10.20.0.5/32"],
      },
      dnsRule("udp", "10.20.0.10/32"),
      dnsRule("tcp", "10.20.0.10/32"),
    ]);
  });
});

describe("Network (under Pulumi mocks): EC2's quota of 60 egress rules per security group", () => {
  const quotaWarnings = (warnings: string[]) => warnings.filter((w) => /default quota of 60/.test(w));
  const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `10.1.${i}.0/24`);

  it("`pulumi up` warns, counting the rules, when the Jenkins CIDRs and the DNS servers pass 60 egress rules, and not at 60", async () => {
    // HTTPS (1) + 55 Jenkins CIDRs + UDP and TCP to 2 DNS servers (4): 60. A third server: 62.
    const at60 = await lambdaEgress(EXISTING, dhcpInvokes(["10.9.0.1", "10.9.0.2"]), { cidrs: cidrs(55) });
    expect(quotaWarnings(at60.warnings)).to.deep.equal([]);
    const past = await lambdaEgress(EXISTING, dhcpInvokes(["10.9.0.1", "10.9.0.2", "10.9.0.3"]), {
      cidrs: cidrs(55),
    });
    expect(quotaWarnings(past.warnings)).to.deep.equal([
      "the Lambdas' security group needs 62 egress rules (one per CIDR: jenkins.cidrs, DNS servers, the other " +
        "ports), more than EC2's default quota of 60 per direction: unless the account's \"Inbound or outbound " +
        'rules per security group" quota was raised, creating the group fails (RulesPerSecurityGroupLimitExceeded); ' +
        "give jenkins.cidrs fewer, wider ranges, or raise the quota",
    ]);
  });

  it("IPv4 and IPv6 rules have a quota each: 59 IPv4 rules and 2 IPv6 rules to an IPv6 DNS server pass without a warning", async () => {
    const { warnings } = await lambdaEgress(EXISTING, dhcpInvokes(["fd00::53"]), { cidrs: cidrs(58) });
    expect(quotaWarnings(warnings)).to.deep.equal([]);
  });

  it("`pulumi up` warns of the quota for a created VPC too (no DHCP options read)", async () => {
    const { warnings } = await lambdaEgress({}, undefined, { cidrs: cidrs(60) });
    expect(quotaWarnings(warnings)).to.have.length(1);
    expect(quotaWarnings(warnings)[0]).to.contain("needs 61 egress rules");
  });
});

describe("Function: vpcDnsServers(vpcId, opts) (under Pulumi mocks)", () => {
  for (const [token, action] of [
    [GET_VPC, "ec2:DescribeVpcs and ec2:DescribeVpcAttribute"],
    [GET_DHCP, `ec2:DescribeDhcpOptions ${DHCP}`],
  ] as const) {
    it(`vpcDnsServers fails naming the three permissions it needs, and the provider's reason, when ${action} is refused`, async () => {
      const reason = "UnauthorizedOperation: You are not authorized to perform this operation.";
      const cloud = new MockCloud({
        ...dhcpInvokes(["10.20.0.10"]),
        [token]: () => {
          throw invokeFailure(reason);
        },
      });
      await cloud.install("test");
      const error = await outputValue(vpcDnsServers(VPC, {})).then(
        () => expect.fail("vpcDnsServers read the options"),
        (e: unknown) => e,
      );
      expect(pulumi.RunError.isInstance(error), String(error)).to.equal(true);
      const message = (error as Error).message;
      expect(message).to.contain(
        `cannot read the DHCP options of network.vpcId ${VPC} (${action}), which name the DNS servers the route ` +
          "functions use: the deploy credentials need ec2:DescribeVpcs, ec2:DescribeVpcAttribute and " +
          "ec2:DescribeDhcpOptions, and the VPC must be in aws:region.",
      );
      expect(message).to.contain(reason);
    });
  }
});

describe("Network: the endpoint policy of the VPC endpoints", () => {
  /** The one policy every endpoint of a VPC the stack creates names: the stack's account's principals only. */
  const STACK_ACCOUNT_ONLY = {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "StackAccountPrincipalsOnly",
        Effect: "Allow",
        Principal: "*",
        Action: "*",
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalAccount": ACCOUNT } },
      },
    ],
  };
  const parsed = (policy: unknown) => (typeof policy === "string" ? JSON.parse(policy) : policy);

  for (const natGateways of ["none", "single"] as const) {
    // With a NAT gateway the subnets reach the internet anyway: no policy, AWS's default.
    const expected = natGateways === "none" ? STACK_ACCOUNT_ONLY : undefined;
    it(`a VPC the stack creates (natGateways ${natGateways}): the S3 and DynamoDB gateway endpoints and every interface endpoint ${natGateways === "none" ? "take requests of the stack's account's principals only" : "keep AWS's default policy"}`, async () => {
      const { cloud } = await evaluate({
        config: config({
          network: {
            natGateways,
            interfaceEndpoints: ["secretsmanager", "sqs", "logs", "sts", "kms", "monitoring"],
          },
        }),
        routes: [jenkinsRoute()],
        code: stubCode,
      });
      const specs: { serviceName: string; policy?: unknown }[] =
        cloud.ofType("awsx:ec2:Vpc")[0]?.inputs.vpcEndpointSpecs;
      expect(specs.map((s) => [s.serviceName, parsed(s.policy)])).to.deep.equal([
        [`com.amazonaws.${REGION}.s3`, expected],
        [`com.amazonaws.${REGION}.dynamodb`, expected],
      ]);
      const endpoints = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
      expect(endpoints).to.have.length(6);
      for (const endpoint of endpoints) {
        expect(parsed(endpoint.inputs.policy), endpoint.inputs.serviceName).to.deep.equal(expected);
      }
    });
  }

  it("an existing VPC's gateway and interface endpoints keep AWS's default policy: other workloads of the VPC share them", async () => {
    const { cloud } = await evaluate({
      config: config({
        network: {
          mode: "existing",
          vpcId: "vpc-0feedfeedfeedfeed",
          privateSubnetIds: ["subnet-0123456789abcdef1"],
          routeTableIds: ["rtb-0123456789abcdef0"],
          interfaceEndpoints: ["secretsmanager", "sqs"],
        },
      }),
      routes: [jenkinsRoute()],
      code: stubCode,
    });
    const endpoints = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(endpoints.map((e) => e.inputs.serviceName).sort()).to.deep.equal([
      `com.amazonaws.${REGION}.dynamodb`,
      `com.amazonaws.${REGION}.s3`,
      `com.amazonaws.${REGION}.secretsmanager`,
      `com.amazonaws.${REGION}.sqs`,
    ]);
    for (const endpoint of endpoints)
      expect(endpoint.inputs, endpoint.inputs.serviceName).not.to.have.property("policy");
  });
});

describe("Function: vpcCidrs(vpc) and vpcEndpointIngressRules(cidrs)", () => {
  it("vpcCidrs gives the primary IPv4 block, then each associated IPv4 and IPv6 block once, leaving out blocks being removed or never added", () => {
    const cidrs = vpcCidrs({
      cidrBlock: "10.20.0.0/16",
      cidrBlockAssociations: [
        { associationId: "vpc-cidr-assoc-1", cidrBlock: "10.20.0.0/16", state: "associated" },
        { associationId: "vpc-cidr-assoc-2", cidrBlock: "100.64.0.0/16", state: "associated" },
        { associationId: "vpc-cidr-assoc-3", cidrBlock: "10.99.0.0/16", state: "disassociated" },
        { associationId: "vpc-cidr-assoc-4", cidrBlock: "10.98.0.0/16", state: "failed" },
      ],
      ipv6CidrBlock: "2600:1f18:abc:de00::/56",
      ipv6CidrBlockAssociations: [
        ipv6Association("2600:1f18:abc:de00::/56", "associated"),
        ipv6Association("2600:1f18:abc:df00::/56", "associated"),
        ipv6Association("2600:1f18:abc:e000::/56", "disassociating"),
      ],
    });
    expect(cidrs).to.deep.equal({
      ipv4: ["10.20.0.0/16", "100.64.0.0/16"],
      ipv6: ["2600:1f18:abc:de00::/56", "2600:1f18:abc:df00::/56"],
    });
  });

  it("vpcEndpointIngressRules admits TCP 443 from each range in a rule of its own, described by the range, and adds no rule for a family the VPC lacks", () => {
    expect(vpcEndpointIngressRules({ ipv4: ["10.20.0.0/16", "100.64.0.0/16"], ipv6: [] })).to.deep.equal([
      {
        description: "HTTPS from 10.20.0.0/16, a range of the VPC",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["10.20.0.0/16"],
      },
      {
        description: "HTTPS from 100.64.0.0/16, a range of the VPC",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["100.64.0.0/16"],
      },
    ]);
    expect(vpcEndpointIngressRules({ ipv4: [], ipv6: ["2600:1f18:abc:de00::/56"] })).to.deep.equal([
      {
        description: "HTTPS from 2600:1f18:abc:de00::/56, a range of the VPC",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        ipv6CidrBlocks: ["2600:1f18:abc:de00::/56"],
      },
    ]);
  });
});

function ipv6Association(ipv6CidrBlock: string, state: string) {
  return {
    associationId: `vpc-cidr-assoc-${ipv6CidrBlock}`,
    ipSource: "amazon",
    ipv6AddressAttribute: "public",
    ipv6CidrBlock,
    ipv6Pool: "Amazon",
    networkBorderGroup: REGION,
    state,
  };
}

describe("Network (under Pulumi mocks): the interface endpoints' security group in an existing, shared VPC", () => {
  /** An existing VPC with a secondary IPv4 block and an IPv6 block: getVpc's answer. */
  const sharedVpc: Record<string, InvokeResult> = {
    [GET_VPC]: (inputs) => ({
      id: inputs.id,
      cidrBlock: "10.20.0.0/16",
      cidrBlockAssociations: [
        { associationId: "vpc-cidr-assoc-1", cidrBlock: "10.20.0.0/16", state: "associated" },
        { associationId: "vpc-cidr-assoc-2", cidrBlock: "100.64.0.0/16", state: "associated" },
      ],
      ipv6CidrBlockAssociations: [ipv6Association("2600:1f18:abc:de00::/56", "associated")],
      dhcpOptionsId: "default",
    }),
  };
  const existing = (interfaceEndpoints: string[]) => ({
    network: { ...EXISTING, interfaceEndpoints },
  });
  const endpointGroup = (cloud: MockCloud) => {
    const groups = cloud
      .ofType("aws:ec2/securityGroup:SecurityGroup")
      .filter((sg) => String(sg.inputs.name).endsWith("-endpoints"));
    expect(groups).to.have.length(1);
    return groups[0];
  };
  /** The route functions' security group, as the functions name it. */
  const functionsGroup = (cloud: MockCloud): string[] =>
    cloud.ofType("aws:lambda/function:Function")[0]?.inputs.vpcConfig.securityGroupIds;

  it("an existing VPC's endpoint group admits HTTPS from the route Lambdas and from every IPv4 and IPv6 range of the VPC, whose workloads private DNS sends to the endpoints, reading the VPC once", async () => {
    const { cloud } = await evaluate({
      config: config(existing(["secretsmanager", "sqs", "logs"])),
      routes: [jenkinsRoute()],
      code: stubCode,
      invokes: sharedVpc,
    });
    const interfaces = cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
    expect(interfaces.map((e) => e.inputs.privateDnsEnabled)).to.deep.equal([true, true, true]);
    const ingress = endpointGroup(cloud)?.inputs.ingress;
    expect(ingress).to.deep.equal([
      {
        description: "HTTPS from the route Lambdas",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        securityGroups: functionsGroup(cloud),
      },
      ...vpcEndpointIngressRules({
        ipv4: ["10.20.0.0/16", "100.64.0.0/16"],
        ipv6: ["2600:1f18:abc:de00::/56"],
      }),
    ]);
    expect(cloud.invokes.filter((i) => i.token === GET_VPC)).to.have.length(1);
  });

  it("a second stack in the same VPC that leaves the services out of its interfaceEndpoints reaches the first stack's endpoints: their group admits the VPC's ranges, where its Lambdas are, with no rule added by hand", async () => {
    const prod = await evaluate({
      config: config(existing(["secretsmanager", "sqs"])),
      routes: [jenkinsRoute()],
      code: stubCode,
      stack: "prod",
      invokes: sharedVpc,
    });
    const dev = await evaluate({
      config: config(existing([])),
      routes: [jenkinsRoute()],
      code: stubCode,
      stack: "dev",
      invokes: sharedVpc,
    });
    expect(dev.cloud.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")).to.deep.equal([]);
    // dev's Lambdas are in the VPC's subnets, in a group of their own (hookgate-dev-lambda).
    expect(dev.cloud.ofType("aws:lambda/function:Function")[0]?.inputs.vpcConfig.subnetIds).to.deep.equal(
      EXISTING.privateSubnetIds,
    );
    const ingress: { cidrBlocks?: string[]; securityGroups?: string[] }[] =
      endpointGroup(prod.cloud)?.inputs.ingress ?? [];
    const cidrs = ingress.flatMap((rule) => rule.cidrBlocks ?? []);
    expect(cidrs).to.deep.equal(["10.20.0.0/16", "100.64.0.0/16"]);
  });
});

describe("Network (under Pulumi mocks): what tells two stacks' network resources apart in one account", () => {
  const evaluateStack = (stack: string, raw: Record<string, unknown> = {}) =>
    evaluate({ config: config(raw), routes: [jenkinsRoute()], code: stubCode, stack }).then((e) => e.cloud);

  it("the VPC a stack creates is tagged Name hookgate-<stack>-vpc and hookgate:stack hookgate-<stack> (tags awsx passes to its subnets, route tables and NAT gateways), its logical name the same in every stack", async () => {
    const [dev, prod] = [await evaluateStack("dev"), await evaluateStack("prod")];
    const vpcOf = (cloud: MockCloud) => {
      const vpcs = cloud.ofType("awsx:ec2:Vpc");
      expect(vpcs).to.have.length(1);
      return vpcs[0];
    };
    // Beside the owner's tags every taggable resource gets (ownerTags.test.ts).
    expect(vpcOf(dev)?.inputs.tags).to.deep.include({
      Name: "hookgate-dev-vpc",
      "hookgate:stack": "hookgate-dev",
    });
    expect(vpcOf(prod)?.inputs.tags).to.deep.include({
      Name: "hookgate-prod-vpc",
      "hookgate:stack": "hookgate-prod",
    });
    // A new logical name would be a new URN: the VPC and every subnet replaced.
    expect([vpcOf(dev)?.name, vpcOf(prod)?.name]).to.deep.equal([
      "hookgate-network-vpc",
      "hookgate-network-vpc",
    ]);
  });

  it("the rule a stack adds to Jenkins' security group is described hookgate-<stack>: route Lambdas to Jenkins, its logical name the same in every stack", async () => {
    const raw = { jenkins: { securityGroupId: "sg-0123456789abcdef0" } };
    const [dev, prod] = [await evaluateStack("dev", raw), await evaluateStack("prod", raw)];
    const ruleOf = (cloud: MockCloud) => {
      const rules = cloud.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
      expect(rules).to.have.length(1);
      return rules[0];
    };
    expect(ruleOf(dev)?.inputs.description).to.equal("hookgate-dev: route Lambdas to Jenkins");
    expect(ruleOf(prod)?.inputs.description).to.equal("hookgate-prod: route Lambdas to Jenkins");
    expect([ruleOf(dev)?.name, ruleOf(prod)?.name]).to.deep.equal([
      "hookgate-network-jenkins-8443",
      "hookgate-network-jenkins-8443",
    ]);
  });
});
