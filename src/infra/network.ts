// Network: the VPC (created with awsx, or an existing one), its endpoints, and the Lambda security group.
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import ipaddr from "ipaddr.js";
import {
  type InterfaceEndpointService,
  type JenkinsNetworkConfig,
  type NetworkConfig,
  StackConfigError,
} from "./config";
import { OWNER_TAG } from "./ownerTags";

export interface NetworkArgs {
  network: NetworkConfig;
  jenkins: JenkinsNetworkConfig;
  /** Ports the Lambdas open to Jenkins (config, or the routes' Jenkins URLs). */
  jenkinsPorts: number[];
  /** Ports of Git host APIs other than 443 (a self-hosted host on :3000): open to every address. */
  gitHostApiPorts?: number[];
  /** The egress proxy (network.httpsProxy): its port is opened to the address proxyEgressDestination gives. */
  proxy?: { url: string; port: number };
  region: string;
  /** The stack's account: the endpoints of a VPC the stack creates take requests of its principals only. */
  accountId: pulumi.Input<string>;
  /** Physical names of the security groups. */
  lambdaSecurityGroupName: string;
  endpointSecurityGroupName: string;
  /** The stack's prefix (hookgate-<stack>), tagged on the VPC the stack creates and its awsx children. */
  stackPrefix: string;
  /** The created VPC's Name tag (hookgate-<stack>-vpc). */
  vpcNameTag: string;
  /** The owning stack (ownerTags.ts stackIdentity), tagged on the VPC the stack creates and its awsx children. */
  ownerIdentity: string;
  /** The description of the rule added to Jenkins' security group, naming the stack. */
  jenkinsRuleDescription: string;
  /** network.privateSubnetIds as networkPreflight read them (mode existing); read here when absent. */
  subnets?: readonly ReadSubnet[];
}

const HTTPS = 443;

/** Gateway endpoints (free, route-table based): S3 for the zips, DynamoDB for the dedupe table. */
export const GATEWAY_ENDPOINT_SERVICES = ["s3", "dynamodb"] as const;

/**
 * The endpoint policy of the endpoints in a VPC the stack creates: any action on any resource, by a principal of
 * the stack's account only. AWS's default (no policy) lets code in the subnets use the endpoints with another
 * account's credentials too: with natGateways none, a way out for the data. The functions' own calls are by their
 * role, so they pass, whatever account owns the bucket, queue or key. Principal "*" narrowed by
 * aws:PrincipalAccount, as a gateway endpoint takes no other principal form (an account there is its root user
 * alone). Not for endpoints in an existing VPC: other workloads share them (anonymous reads of AWS-owned buckets,
 * yum/dnf repositories, through the S3 gateway endpoint).
 */
export function stackAccountEndpointPolicy(accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "StackAccountPrincipalsOnly",
        Effect: "Allow",
        Principal: "*",
        Action: "*",
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalAccount": accountId } },
      },
    ],
  });
}

/** A gateway endpoint's service: com.amazonaws.<region>.<service> in every region, China's included. */
export function serviceName(region: string, service: string): string {
  return `com.amazonaws.${region}.${service}`;
}

/**
 * The interface endpoint services whose names do not start with com.amazonaws, by region: in China
 * cn.com.amazonaws.<region>.sqs (Secrets Manager, Logs and KMS keep com.amazonaws), in two ISO regions
 * gov.ic.c2s / gov.sgov.sc2s for SQS. GovCloud, the European Sovereign Cloud, ISO-E and ISO-F use
 * com.amazonaws for all of these. Source: `aws ec2 describe-vpc-endpoint-services` as recorded in aws-cdk's
 * InterfaceVpcEndpointAwsService (aws-cdk-lib/aws-ec2/lib/vpc-endpoint.ts, getDefaultEndpointPrefix; see
 * aws/aws-cdk#9277, #16139, #25333) and, for China, eksctl's endpoint_service.go (sts prefixed; s3, logs,
 * secretsmanager not). The provider's getVpcEndpointService cannot stand in: its `service` argument always
 * looks up com.amazonaws.<region>.<service> (terraform-provider-aws vpc_endpoint_service_data_source.go,
 * hashicorp/terraform-provider-aws#17640).
 */
const INTERFACE_SERVICE_PREFIXES: Record<
  string,
  { prefix: string; services: readonly InterfaceEndpointService[] }
> = {
  "cn-north-1": { prefix: "cn.com.amazonaws", services: ["monitoring", "sqs", "sts"] },
  "cn-northwest-1": { prefix: "cn.com.amazonaws", services: ["monitoring", "sqs", "sts"] },
  "us-iso-east-1": { prefix: "gov.ic.c2s", services: ["sqs"] },
  "us-iso-west-1": { prefix: "gov.ic.c2s", services: ["monitoring", "sqs"] },
  "us-isob-east-1": { prefix: "gov.sgov.sc2s", services: ["sqs"] },
};

/** An interface endpoint's service name in a region. */
export function interfaceServiceName(region: string, service: InterfaceEndpointService): string {
  const special = INTERFACE_SERVICE_PREFIXES[region];
  const prefix = special?.services.includes(service) ? special.prefix : "com.amazonaws";
  return `${prefix}.${region}.${service}`;
}

/**
 * Where the route Lambdas may reach the egress proxy: that address alone when network.httpsProxy names an IP
 * address (IPv4 /32, IPv6 /128; an IPv4-mapped IPv6 address is its IPv4 one, which is what goes on the wire),
 * else every IPv4 address: a host name's addresses are not known at deploy time, and may change after it.
 */
export function proxyEgressDestination(url: string): { cidrBlocks: string[] } | { ipv6CidrBlocks: string[] } {
  // The URL parser has written the host canonically already: IPv4 as four decimals, IPv6 in brackets.
  const host = new URL(url).hostname;
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return { cidrBlocks: [`${host}/32`] };
  const bracketed = /^\[(.*)\]$/.exec(host)?.[1];
  if (bracketed !== undefined && ipaddr.IPv6.isValid(bracketed)) {
    const address = ipaddr.IPv6.parse(bracketed);
    return address.isIPv4MappedAddress()
      ? { cidrBlocks: [`${address.toIPv4Address().toString()}/32`] }
      : { ipv6CidrBlocks: [`${address.toString()}/128`] };
  }
  return { cidrBlocks: ["0.0.0.0/0"] };
}

/**
 * The Lambdas' rule for the egress proxy's port, to the destination proxyEgressDestination gives; none when
 * another rule allows it already. EC2 refuses a rule that repeats another ("The same permission must not
 * appear multiple times"): 443, a Git host API's port and a Jenkins port open to 0.0.0.0/0 cover an IPv4
 * proxy, and so does a Jenkins rule naming the proxy's own /32. No other rule opens an IPv6 address.
 */
function proxyEgressRule(args: NetworkArgs, proxy: { url: string; port: number }) {
  const { port } = proxy;
  const destination = proxyEgressDestination(proxy.url);
  const rule = { description: "egress proxy", protocol: "tcp", fromPort: port, toPort: port, ...destination };
  if (!("cidrBlocks" in destination)) return rule;
  const jenkinsCidrs =
    args.jenkins.securityGroupId || port === HTTPS || !args.jenkinsPorts.includes(port)
      ? []
      : args.jenkins.cidrs;
  const covered =
    port === HTTPS ||
    (args.gitHostApiPorts ?? []).includes(port) ||
    jenkinsCidrs.some((cidr) => cidr === "0.0.0.0/0" || destination.cidrBlocks.includes(cidr));
  return covered ? undefined : rule;
}

/** EC2's default quota of rules per direction of a security group (adjustable in Service Quotas). */
export const RULES_PER_DIRECTION = 60;

/**
 * The rules EC2 counts against the quota in a group's egress: IPv4 and IPv6 rules apart (each family has the
 * quota), one per CIDR of the family, and a referenced group in both.
 */
export function egressRuleCount(
  rules: readonly {
    cidrBlocks?: readonly unknown[];
    ipv6CidrBlocks?: readonly unknown[];
    securityGroups?: readonly unknown[];
  }[],
): number {
  const count = (family: "cidrBlocks" | "ipv6CidrBlocks") =>
    rules.reduce((sum, rule) => sum + (rule[family]?.length ?? 0) + (rule.securityGroups?.length ?? 0), 0);
  return Math.max(count("cidrBlocks"), count("ipv6CidrBlocks"));
}

/** What `pulumi up` says when the Lambdas' egress holds more rules than EC2's default quota; none when not. */
export function ruleQuotaWarning(count: number): string | undefined {
  if (count <= RULES_PER_DIRECTION) return undefined;
  return (
    `the Lambdas' security group needs ${count} egress rules (one per CIDR: jenkins.cidrs, DNS servers, the ` +
    `other ports), more than EC2's default quota of ${RULES_PER_DIRECTION} per direction: unless the account's ` +
    `"Inbound or outbound rules per security group" quota was raised, creating the group fails ` +
    "(RulesPerSecurityGroupLimitExceeded); give jenkins.cidrs fewer, wider ranges, or raise the quota"
  );
}

/** The DHCP options' name for the VPC's own resolver (Route 53 Resolver), which security groups never filter. */
export const AMAZON_PROVIDED_DNS = "AmazonProvidedDNS";

const DNS = 53;

/** The name servers of a VPC's DHCP options set that the Lambdas' security group must let them reach. */
export interface DnsServers {
  /** Each server's address alone: IPv4 /32, IPv6 /128, in the options' order, without repeats. */
  cidrs: string[];
  /** Entries that are neither AmazonProvidedDNS nor an IP address (EC2 accepts none): no rule. */
  ignored: string[];
}

/**
 * The name servers a VPC's DHCP options set (domain-name-servers) gives the functions, as the destinations of
 * DNS rules. Security groups do not filter the Amazon-provided resolver, but they do filter the traffic to a
 * server the options name by address (an on-premises or Active Directory DNS): without a rule every lookup
 * fails. An IPv4-mapped IPv6 address is its IPv4 one, which is what goes on the wire.
 */
export function dhcpDnsServers(domainNameServers: readonly string[]): DnsServers {
  const cidrs: string[] = [];
  const ignored: string[] = [];
  // CreateDhcpOptions takes several servers in one value, separated by commas.
  for (const text of domainNameServers.flatMap((value) => value.split(/[\s,]+/)).filter(Boolean)) {
    let cidr: string | undefined;
    // The VPC's own resolver: security groups do not filter it.
    if (text.toLowerCase() === AMAZON_PROVIDED_DNS.toLowerCase()) continue;
    // A zone (fe80::1%eth0) names a host's interface: no rule can hold it.
    if (text.includes("%")) {
      ignored.push(text);
      continue;
    }
    if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
      cidr = `${ipaddr.IPv4.parse(text).toString()}/32`;
    } else if (ipaddr.IPv6.isValid(text)) {
      const address = ipaddr.IPv6.parse(text);
      cidr = address.isIPv4MappedAddress()
        ? `${address.toIPv4Address().toString()}/32`
        : `${address.toString()}/128`;
    }
    if (cidr === undefined) ignored.push(text);
    else if (!cidrs.includes(cidr)) cidrs.push(cidr);
  }
  return { cidrs, ignored };
}

/**
 * UDP and TCP 53 to each name server alone (DNS falls back to TCP for a large answer): one rule per server and
 * protocol, each with a description of its own that names the server. The provider reads a group's rules back
 * merged by protocol, ports and description (terraform-provider-aws initSecurityGroupRule): rules that shared
 * one description would come back as one, and one rule listing several servers may come back in another order,
 * either a change on every `pulumi up`.
 */
export function dnsEgressRules(servers: DnsServers) {
  return servers.cidrs.flatMap((cidr) =>
    ["udp", "tcp"].map((protocol) => ({
      // EC2 takes letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* in a description: an address fits.
      description: `DNS to ${cidr.replace(/\/(32|128)$/, "")}, a name server of the VPC DHCP options`,
      protocol,
      fromPort: DNS,
      toPort: DNS,
      ...(cidr.endsWith("/128") ? { ipv6CidrBlocks: [cidr] } : { cidrBlocks: [cidr] }),
    })),
  );
}

/** What `pulumi up` says when the Lambdas' group opens DNS to the DHCP options' servers; none when it does not. */
export function dnsEgressWarning(
  vpcId: string,
  dhcpOptionsId: string,
  servers: DnsServers,
): string | undefined {
  if (servers.cidrs.length === 0 && servers.ignored.length === 0) return undefined;
  const parts: string[] = [];
  if (servers.cidrs.length > 0) {
    parts.push(
      `network.vpcId ${vpcId} uses the DHCP options ${dhcpOptionsId}, whose DNS server(s) the route functions ` +
        `resolve names through: the Lambdas' security group sends UDP and TCP 53 to ${servers.cidrs.join(", ")} ` +
        "alone (security groups filter DNS to a server of your own, not to AmazonProvidedDNS)",
    );
  }
  if (servers.cidrs.some((cidr) => cidr.endsWith("/128"))) {
    parts.push(
      "an IPv6 server is reached only over outbound IPv6, which hookgate does not turn on for the functions " +
        "(ipv6AllowedForDualStack); the options should name an IPv4 server too",
    );
  }
  if (servers.ignored.length > 0) {
    parts.push(
      `the DHCP options ${dhcpOptionsId} of ${vpcId} name ${servers.ignored.join(", ")} as DNS server(s), ` +
        "which is not an IP address: no rule was added for it",
    );
  }
  return parts.join("; ");
}

/**
 * An existing VPC as ec2:DescribeVpcs gives it (the provider's getVpc, which also calls
 * ec2:DescribeVpcAttribute), read once for its DHCP options and its address ranges. A read that fails stops the
 * deployment, naming the permissions.
 */
export function readVpc(vpcId: string, opts: pulumi.InvokeOptions): Promise<aws.ec2.GetVpcResult> {
  return aws.ec2
    .getVpc({ id: vpcId }, opts)
    .catch((error: unknown) => vpcReadFailed(vpcId, "ec2:DescribeVpcs and ec2:DescribeVpcAttribute", error));
}

function vpcReadFailed(vpcId: string, action: string, error: unknown): never {
  const cause = error instanceof Error ? error.message : String(error);
  throw new pulumi.RunError(
    `cannot read the DHCP options of network.vpcId ${vpcId} (${action}), which name the DNS servers the route ` +
      "functions use: the deploy credentials need ec2:DescribeVpcs, ec2:DescribeVpcAttribute and " +
      `ec2:DescribeDhcpOptions, and the VPC must be in aws:region. ${cause}`,
  );
}

/**
 * The DNS servers of an existing VPC's DHCP options set, read at deploy time (ec2:DescribeVpcs and, in the
 * provider's getVpc, ec2:DescribeVpcAttribute; then ec2:DescribeDhcpOptions). A VPC associated with no options
 * set (dhcpOptionsId "default") names none. A read that fails stops the deployment, naming the permissions: a
 * warning would leave a stack whose functions may resolve no name at all (every delivery failing) until someone
 * reads the deploy log.
 */
export function vpcDnsServers(
  vpcId: string,
  opts: pulumi.InvokeOptions,
  vpc: Promise<aws.ec2.GetVpcResult> = readVpc(vpcId, opts),
): pulumi.Output<{ dhcpOptionsId: string; servers: DnsServers }> {
  const read = vpc.then(async (vpc) => {
    const dhcpOptionsId = vpc.dhcpOptionsId;
    if (!dhcpOptionsId || dhcpOptionsId === "default") {
      return { dhcpOptionsId: dhcpOptionsId || "default", servers: dhcpDnsServers([]) };
    }
    const options = await aws.ec2
      .getVpcDhcpOptions({ dhcpOptionsId }, opts)
      .catch((error: unknown) => vpcReadFailed(vpcId, `ec2:DescribeDhcpOptions ${dhcpOptionsId}`, error));
    return { dhcpOptionsId, servers: dhcpDnsServers(options.domainNameServers ?? []) };
  });
  return pulumi.output(read);
}

/** The states of a CIDR association that no address of the VPC uses (any more, or ever). */
const GONE_CIDR_STATES = ["disassociating", "disassociated", "failing", "failed"];

/**
 * A VPC's address ranges, as getVpc gives them: the primary IPv4 block and every associated IPv4 and IPv6
 * block (secondary CIDRs, where EKS pods or a second subnet range often live), without repeats and without
 * blocks being removed or never added.
 */
export function vpcCidrs(
  vpc: Pick<aws.ec2.GetVpcResult, "cidrBlock" | "cidrBlockAssociations" | "ipv6CidrBlockAssociations"> & {
    ipv6CidrBlock?: string;
  },
): { ipv4: string[]; ipv6: string[] } {
  const live = (state: string | undefined) => !GONE_CIDR_STATES.includes(state ?? "");
  const unique = (cidrs: (string | undefined)[]) => [...new Set(cidrs.filter((c): c is string => !!c))];
  return {
    ipv4: unique([
      vpc.cidrBlock,
      ...(vpc.cidrBlockAssociations ?? []).filter((a) => live(a.state)).map((a) => a.cidrBlock),
    ]),
    ipv6: unique([
      // Older provider versions give the first IPv6 block alone, in this deprecated field.
      vpc.ipv6CidrBlock,
      ...(vpc.ipv6CidrBlockAssociations ?? []).filter((a) => live(a.state)).map((a) => a.ipv6CidrBlock),
    ]),
  };
}

/**
 * The interface endpoints' rules for an existing VPC's address ranges: private DNS sends every workload of the
 * VPC to the endpoints (and another hookgate stack that leaves the service out of its own interfaceEndpoints),
 * not only the route Lambdas, as the AWS CDK's interface endpoints do by default (`open: true`, the VPC's CIDR).
 * IPv6 blocks too: a dual-stack endpoint answers the workloads' IPv6. One rule per range, each described by it:
 * the provider reads inline rules back merged by description (see dnsEgressRules), and a rule listing several
 * ranges may come back in another order, a change on every `pulumi up`.
 */
export function vpcEndpointIngressRules(cidrs: { ipv4: string[]; ipv6: string[] }) {
  const rule = (cidr: string) => ({
    // EC2 takes letters, digits, spaces and ._-:/()#,@[]+=&;{}!$* in a description: a CIDR fits.
    description: `HTTPS from ${cidr}, a range of the VPC`,
    protocol: "tcp",
    fromPort: HTTPS,
    toPort: HTTPS,
  });
  return [
    ...cidrs.ipv4.map((cidr) => ({ ...rule(cidr), cidrBlocks: [cidr] })),
    ...cidrs.ipv6.map((cidr) => ({ ...rule(cidr), ipv6CidrBlocks: [cidr] })),
  ];
}

/** A subnet and its availability zone, as ec2:DescribeSubnets gives them. */
export interface ZonedSubnet {
  id: string;
  availabilityZone: string;
}

/**
 * The subnets an interface endpoint gets: the first of each availability zone, in the order given. EC2 takes at
 * most one subnet per zone for an endpoint and refuses more (DuplicateSubnetsInSameZone: "Found another VPC
 * endpoint subnet in the availability zone of subnet-…"), while the functions may use several subnets of a zone;
 * the endpoint's interface in a zone serves every subnet of the VPC, which private DNS sends to it.
 */
export function firstSubnetPerZone(subnets: readonly ZonedSubnet[]): string[] {
  const zones = new Set<string>();
  const out: string[] = [];
  for (const subnet of subnets) {
    if (zones.has(subnet.availabilityZone)) continue;
    zones.add(subnet.availabilityZone);
    out.push(subnet.id);
  }
  return out;
}

/** A subnet of network.privateSubnetIds as ec2:DescribeSubnets gives it. */
export interface ReadSubnet extends ZonedSubnet {
  vpcId: string;
}

/**
 * network.privateSubnetIds as ec2:DescribeSubnets gives them: their VPC (checked against network.vpcId) and zone
 * (one subnet per zone for the interface endpoints). A read that fails stops the deployment, naming the permission.
 */
export function readSubnets(
  subnetIds: readonly string[],
  opts: pulumi.InvokeOptions = {},
): Promise<ReadSubnet[]> {
  return Promise.all(
    subnetIds.map((id) =>
      aws.ec2
        .getSubnet({ id }, opts)
        .then((subnet) => ({ id, availabilityZone: subnet.availabilityZone, vpcId: subnet.vpcId }))
        .catch((error: unknown) => {
          const cause = error instanceof Error ? error.message : String(error);
          throw new pulumi.RunError(
            `cannot read network.privateSubnetIds entry ${id} (ec2:DescribeSubnets), whose VPC and availability ` +
              "zone `pulumi up` checks: the deploy credentials need ec2:DescribeSubnets, and the subnet must be in " +
              `aws:region. ${cause}`,
          );
        }),
    ),
  );
}

/**
 * The subnets of network.privateSubnetIds in another VPC than network.vpcId. The Lambdas' security group is made
 * in network.vpcId, and Lambda refuses a function whose subnets are in another VPC than its security groups: every
 * route function would fail at CreateFunction, after the rest of the stack was created.
 */
export function subnetVpcProblems(vpcId: string, subnets: readonly ReadSubnet[]): string[] {
  return subnets
    .filter((subnet) => subnet.vpcId !== vpcId)
    .map(
      (subnet) =>
        `hookgate:network.privateSubnetIds entry ${subnet.id} is in ${subnet.vpcId}, not in network.vpcId ${vpcId}: ` +
        "the functions' security group is in network.vpcId, and Lambda takes subnets of that VPC only; list " +
        `subnets of ${vpcId} (\`aws ec2 describe-subnets --filters Name=vpc-id,Values=${vpcId}\`)`,
    );
}

/** What `pulumi up` says when every subnet of network.privateSubnetIds is in one availability zone; none when not. */
export function singleZoneWarning(subnets: readonly ZonedSubnet[]): string | undefined {
  const zones = new Set(subnets.map((subnet) => subnet.availabilityZone));
  const [zone] = zones;
  if (zones.size !== 1) return undefined;
  return (
    `every subnet of network.privateSubnetIds is in one availability zone, ${zone}: while that zone is down, no ` +
    "route function runs and every delivery fails; list a subnet of another zone too"
  );
}

/**
 * Why the region cannot take network.azCount zones, or undefined: awsx would fail inside its component, naming
 * no hookgate key, while the rest of the stack is being created.
 */
export function azCountProblem(
  azCount: number,
  region: string,
  zones: readonly string[],
): string | undefined {
  if (azCount <= zones.length) return undefined;
  return (
    `hookgate:network.azCount is ${azCount}, but ${region} has ${zones.length} availability zone(s)` +
    `${zones.length > 0 ? ` (${zones.join(", ")})` : ""}: set it to at most ${zones.length}`
  );
}

/**
 * The checks of the network settings that need AWS's answers, before anything is created (buildStack awaits them
 * before it constructs the Gateway, and so any resource): network.azCount against the region's zones, as awsx counts them (mode
 * create), and every subnet's VPC against network.vpcId (mode existing). Resolves to the subnets read, which the
 * Network reuses (none in mode create); rejects with every problem.
 */
export async function networkPreflight(network: NetworkConfig, region: string): Promise<ReadSubnet[]> {
  if (network.mode === "create") {
    // awsx takes the first azCount zones getAvailabilityZones names, with no state filter (pulumi-awsx
    // awsx/ec2/vpc.ts, getDefaultAzs), and fails inside its component when there are fewer. The same read: with a
    // state filter, a zone impaired for a while would refuse every `pulumi up` of a stack that uses all the zones.
    const zones = await aws.getAvailabilityZones().catch((error: unknown) => {
      const cause = error instanceof Error ? error.message : String(error);
      throw new pulumi.RunError(
        `cannot read the availability zones of ${region} (ec2:DescribeAvailabilityZones), which ` +
          `network.azCount is checked against: the deploy credentials need ec2:DescribeAvailabilityZones. ${cause}`,
      );
    });
    const problem = azCountProblem(network.azCount, region, zones.names);
    if (problem) throw new pulumi.RunError(new StackConfigError([problem]).message);
    return [];
  }
  const subnets = await readSubnets(network.privateSubnetIds);
  const problems = subnetVpcProblems(network.vpcId, subnets);
  if (problems.length > 0) throw new pulumi.RunError(new StackConfigError(problems).message);
  const warning = singleZoneWarning(subnets);
  if (warning) pulumi.log.warn(warning);
  return subnets;
}

/** The subnets an existing VPC's interface endpoints get: firstSubnetPerZone of network.privateSubnetIds. */
export function endpointSubnetIds(subnets: Promise<readonly ZonedSubnet[]>): pulumi.Output<string[]> {
  return pulumi.output(subnets.then(firstSubnetPerZone));
}

export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly privateSubnetIds: pulumi.Output<string[]>;
  public readonly lambdaSecurityGroupId: pulumi.Output<string>;
  public readonly endpointSecurityGroupId?: pulumi.Output<string>;
  /** The interface endpoints (network.interfaceEndpoints): the functions reach AWS through them. */
  public readonly interfaceEndpoints: aws.ec2.VpcEndpoint[] = [];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Network", name, {}, opts);
    const net = args.network;

    // Only where the endpoints are the way out: with a NAT gateway the subnets reach the internet anyway,
    // and the policy would only refuse other accounts' pre-signed S3 URLs in the region (archive downloads).
    const ownPolicy =
      net.mode === "create" && net.natGateways === "none"
        ? pulumi.output(args.accountId).apply(stackAccountEndpointPolicy)
        : undefined;
    if (net.mode === "create") {
      const natless = net.natGateways === "none";
      // A plain record known now, not the owner-tag transformation's Output: awsx's Vpc is a remote component,
      // which receives an input with dependencies as an Output, and spreading that into each child's tags loses
      // the child's Name and SubnetType. So the owner alone, without the instance value (known only after create).
      const stackTags = { "hookgate:stack": args.stackPrefix, [OWNER_TAG]: args.ownerIdentity };
      const vpc = new awsx.ec2.Vpc(
        `${name}-vpc`,
        {
          cidrBlock: net.cidr,
          numberOfAvailabilityZones: net.azCount,
          enableDnsHostnames: true,
          enableDnsSupport: true,
          // Without a NAT the subnets have no way out: isolated subnets say so (and need no public subnets).
          subnetStrategy: "Auto",
          subnetSpecs: natless
            ? [{ type: "Isolated", name: "isolated" }]
            : [{ type: "Private" }, { type: "Public" }],
          natGateways: { strategy: natless ? "None" : net.natGateways === "single" ? "Single" : "OnePerAz" },
          // Auto attaches the gateway endpoints to the route tables awsx creates (pulumi-awsx#2028); the
          // Legacy default attaches them to none (pulumi-awsx#1627), and DynamoDB would be out of reach.
          vpcEndpointStrategy: "Auto",
          vpcEndpointSpecs: GATEWAY_ENDPOINT_SERVICES.map((service) => ({
            serviceName: serviceName(args.region, service),
            vpcEndpointType: "Gateway",
            policy: ownPolicy,
            // awsx gives an endpoint its spec's tags alone, not the VPC's.
            tags: stackTags,
          })),
          // Name: the VPC's and its internet gateway's, in place. awsx names subnets, route tables and NAT
          // gateways after the logical name, which must stay (a new one replaces them): the stack tags, spread to
          // them all, tell stacks apart there.
          tags: { Name: args.vpcNameTag, ...stackTags },
        },
        { parent: this },
      );
      this.vpcId = vpc.vpcId;
      this.privateSubnetIds = natless ? vpc.isolatedSubnetIds : vpc.privateSubnetIds;
    } else {
      this.vpcId = pulumi.output(net.vpcId);
      this.privateSubnetIds = pulumi.output(net.privateSubnetIds);
      if (net.routeTableIds.length > 0) {
        for (const service of GATEWAY_ENDPOINT_SERVICES) {
          new aws.ec2.VpcEndpoint(
            `${name}-${service}`,
            {
              vpcId: net.vpcId,
              serviceName: serviceName(args.region, service),
              vpcEndpointType: "Gateway",
              routeTableIds: net.routeTableIds,
            },
            { parent: this },
          );
        }
      }
    }

    // The Lambda security group: nothing comes in; out only HTTPS, the Jenkins port(s), Git host APIs' ports,
    // the proxy's port, and DNS to the name servers of an existing VPC's DHCP options.
    const jenkinsEgress = args.jenkinsPorts
      .filter((port) => port !== HTTPS || args.jenkins.securityGroupId)
      .map((port) =>
        args.jenkins.securityGroupId
          ? {
              description: "Jenkins controller",
              protocol: "tcp",
              fromPort: port,
              toPort: port,
              securityGroups: [args.jenkins.securityGroupId],
            }
          : {
              description: "Jenkins controller",
              protocol: "tcp",
              fromPort: port,
              toPort: port,
              cidrBlocks: args.jenkins.cidrs,
            },
      );
    const jenkinsOpenToAll = !args.jenkins.securityGroupId && args.jenkins.cidrs.includes("0.0.0.0/0");
    const proxyEgress = args.proxy && proxyEgressRule(args, args.proxy);
    const egress = [
      {
        description: "HTTPS: AWS APIs, the Git host API, Jenkins on 443",
        protocol: "tcp",
        fromPort: HTTPS,
        toPort: HTTPS,
        cidrBlocks: ["0.0.0.0/0"],
      },
      ...jenkinsEgress,
      ...(args.gitHostApiPorts ?? [])
        // A Jenkins port already open to every address covers the API too; a narrowed one does not.
        .filter((port) => port !== HTTPS && !(jenkinsOpenToAll && args.jenkinsPorts.includes(port)))
        .map((port) => ({
          description: "Git host API",
          protocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrBlocks: ["0.0.0.0/0"],
        })),
      ...(proxyEgress ? [proxyEgress] : []),
    ];
    // An existing VPC's DHCP options may name DNS servers of its own, which the group filters. A rule added by
    // hand would not last: the group's rules are inline, and the next `pulumi up` removes any other.
    const existingVpcId = net.mode === "existing" ? net.vpcId : undefined;
    const checkedQuota = <T extends Parameters<typeof egressRuleCount>[0]>(rules: T): T => {
      const warning = ruleQuotaWarning(egressRuleCount(rules));
      if (warning) pulumi.log.warn(warning, this);
      return rules;
    };
    // Read once: its DHCP options for the Lambdas' DNS rules, its ranges for the endpoints' ingress.
    const existingVpc = existingVpcId === undefined ? undefined : readVpc(existingVpcId, { parent: this });
    const lambdaEgress =
      existingVpcId === undefined || existingVpc === undefined
        ? checkedQuota(egress)
        : vpcDnsServers(existingVpcId, { parent: this }, existingVpc).apply(({ dhcpOptionsId, servers }) => {
            const warning = dnsEgressWarning(existingVpcId, dhcpOptionsId, servers);
            if (warning) pulumi.log.warn(warning, this);
            return checkedQuota([...egress, ...dnsEgressRules(servers)]);
          });
    const lambdaSg = new aws.ec2.SecurityGroup(
      `${name}-lambda`,
      {
        name: args.lambdaSecurityGroupName,
        description: "hookgate route Lambdas: no ingress; egress HTTPS and Jenkins only",
        vpcId: this.vpcId,
        ingress: [],
        egress: lambdaEgress,
        tags: { Name: args.lambdaSecurityGroupName },
      },
      { parent: this },
    );
    this.lambdaSecurityGroupId = lambdaSg.id;

    if (args.jenkins.securityGroupId) {
      for (const port of args.jenkinsPorts) {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-jenkins-${port}`,
          {
            securityGroupId: args.jenkins.securityGroupId,
            referencedSecurityGroupId: lambdaSg.id,
            ipProtocol: "tcp",
            fromPort: port,
            toPort: port,
            // A new description is an in-place update (ModifySecurityGroupRules), not a new rule.
            description: args.jenkinsRuleDescription,
          },
          { parent: this },
        );
      }
    }

    if (net.interfaceEndpoints.length > 0) {
      const fromLambdas = {
        description: "HTTPS from the route Lambdas",
        protocol: "tcp",
        fromPort: HTTPS,
        toPort: HTTPS,
        securityGroups: [lambdaSg.id],
      };
      // A VPC the stack creates holds its Lambdas alone. In an existing one private DNS sends every workload of
      // the VPC to these endpoints: admitting the Lambdas alone would cut the others off from the service.
      const endpointIngress =
        existingVpc === undefined
          ? [fromLambdas]
          : pulumi
              .output(existingVpc)
              .apply((vpc) => [fromLambdas, ...vpcEndpointIngressRules(vpcCidrs(vpc))]);
      const endpointSg = new aws.ec2.SecurityGroup(
        `${name}-endpoints`,
        {
          name: args.endpointSecurityGroupName,
          // Unchanged in an existing VPC too, though it now admits the VPC: a new description replaces the group.
          description: "hookgate interface endpoints: HTTPS from the route Lambdas only",
          vpcId: this.vpcId,
          ingress: endpointIngress,
          egress: [],
          tags: { Name: args.endpointSecurityGroupName },
        },
        { parent: this },
      );
      this.endpointSecurityGroupId = endpointSg.id;
      // awsx makes one private subnet per zone; an existing VPC's subnets may share one.
      const subnetIds =
        net.mode === "existing"
          ? endpointSubnetIds(
              args.subnets
                ? Promise.resolve(args.subnets)
                : readSubnets(net.privateSubnetIds, { parent: this }),
            )
          : this.privateSubnetIds;
      for (const service of net.interfaceEndpoints) {
        this.interfaceEndpoints.push(
          this.interfaceEndpoint(name, service, args.region, endpointSg.id, subnetIds, ownPolicy),
        );
      }
    }

    this.registerOutputs({
      vpcId: this.vpcId,
      privateSubnetIds: this.privateSubnetIds,
      lambdaSecurityGroupId: this.lambdaSecurityGroupId,
    });
  }

  private interfaceEndpoint(
    name: string,
    service: InterfaceEndpointService,
    region: string,
    securityGroupId: pulumi.Output<string>,
    subnetIds: pulumi.Input<string[]>,
    policy: pulumi.Input<string> | undefined,
  ): aws.ec2.VpcEndpoint {
    return new aws.ec2.VpcEndpoint(
      `${name}-${service}`,
      {
        vpcId: this.vpcId,
        serviceName: interfaceServiceName(region, service),
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds,
        securityGroupIds: [securityGroupId],
        // An existing VPC's endpoints keep AWS's default: its other workloads share them (private DNS).
        ...(policy === undefined ? {} : { policy }),
      },
      { parent: this },
    );
  }
}
