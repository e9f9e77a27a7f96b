// Pulumi mocks for the infra tests: record every resource (type, name, inputs, parent) and invoke, supply
// the computed outputs the program reads, and throw on any invoke nobody expected.
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
  urn: string;
  /** The parent's URN ("" for none). */
  parent: string;
  provider?: string;
  /** Paths of inputs that arrived as Pulumi secrets ("configuration.secret"). */
  secretPaths: string[];
  /** The retainOnDelete resource option: `pulumi up` and `pulumi destroy` leave the cloud resource. */
  retainOnDelete: boolean;
  /** The URNs the aliases resource option names: the engine takes a resource of the state at one for this one. */
  aliases: string[];
  /** The ignoreChanges resource option: inputs whose change the engine leaves unapplied. */
  ignoreChanges: string[];
}

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces Pulumi's secret wrappers by their values, noting where they were. */
function unwrap(value: any, path: string, paths: string[]): any {
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${path}[${i}]`, paths));
  if (value && typeof value === "object") {
    if (Object.getPrototypeOf(value) !== Object.prototype) return value; // assets, archives, resources
    if (value[SIG] === SECRET_SIG) {
      paths.push(path);
      return unwrap(value.value, path, paths);
    }
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, unwrap(v, path ? `${path}.${k}` : k, paths)]),
    );
  }
  return value;
}

export interface RecordedInvoke {
  token: string;
  inputs: Record<string, unknown>;
}

/** An invoke's answer to its inputs; throws (with `details`, see invokeFailure) to fail it. */
export type InvokeResult = (inputs: Record<string, any>) => Record<string, unknown>;

/** The DHCP options set every existing VPC of the mocks has, unless a test gives its own. */
export const DHCP_OPTIONS_ID = "dopt-0123456789abcdef0";

/** The VPC every subnet of the mocks is in, unless a test says otherwise. */
export const EXISTING_VPC_ID = "vpc-0123456789abcdef0";

/** ec2:DescribeSubnets' answer for subnets of `vpcId`, each in a zone of its own. */
export function subnetsOf(vpcId: string): InvokeResult {
  return (inputs) => ({
    id: inputs.id,
    arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/${inputs.id}`,
    availabilityZone: `${REGION}-zone-of-${inputs.id}`,
    vpcId,
  });
}

const KNOWN_INVOKES: Record<string, InvokeResult> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: ACCOUNT,
    arn: `arn:aws:iam::${ACCOUNT}:user/test`,
    userId: "AIDATEST",
    id: ACCOUNT,
  }),
  // An existing VPC (network.mode: existing) with the default options set: Amazon's DNS only.
  "aws:ec2/getVpc:getVpc": (inputs) => ({
    id: inputs.id,
    arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc/${inputs.id}`,
    cidrBlock: "10.0.0.0/16",
    dhcpOptionsId: DHCP_OPTIONS_ID,
    enableDnsSupport: true,
    enableDnsHostnames: true,
  }),
  // Each subnet of an existing VPC in a zone of its own, in EXISTING_VPC_ID (evaluate: the stack's network.vpcId),
  // unless a test says otherwise.
  "aws:ec2/getSubnet:getSubnet": subnetsOf(EXISTING_VPC_ID),
  // The region's zones: three, as eu-west-1 has.
  "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
    id: REGION,
    names: [`${REGION}a`, `${REGION}b`, `${REGION}c`],
    zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"],
    groupNames: [REGION],
  }),
  "aws:ec2/getVpcDhcpOptions:getVpcDhcpOptions": (inputs) => ({
    id: inputs.dhcpOptionsId,
    dhcpOptionsId: inputs.dhcpOptionsId,
    domainName: `${REGION}.compute.internal`,
    domainNameServers: ["AmazonProvidedDNS"],
  }),
};

/** An invoke failure whose message survives the mock monitor (it keeps only `details`). */
export function invokeFailure(message: string): Error {
  return Object.assign(new Error(message), { details: message });
}

function computed(
  type: string,
  name: string,
  inputs: Record<string, any>,
  id: string,
): Record<string, unknown> {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (type) {
    case "awsx:ec2:Vpc":
      return {
        vpcId: "vpc-0123456789abcdef0",
        privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        publicSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
        isolatedSubnetIds: ["subnet-0ccccccccccccccc1", "subnet-0ccccccccccccccc2"],
      };
    case "aws:apigateway/restApi:RestApi":
      return {
        rootResourceId: "rootres123",
        executionArn: arn("execute-api", id),
        arn: `arn:aws:apigateway:${REGION}::/restapis/${id}`,
      };
    case "aws:apigateway/stage:Stage":
      return {
        invokeUrl: `https://${inputs.restApi}.execute-api.${REGION}.amazonaws.com/${inputs.stageName}`,
        executionArn: arn("execute-api", `${inputs.restApi}/${inputs.stageName}`),
      };
    case "aws:lambda/function:Function":
      return {
        arn: arn("lambda", `function:${inputs.name}`),
        invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${arn("lambda", `function:${inputs.name}`)}/invocations`,
      };
    case "aws:sqs/queue:Queue":
      return {
        arn: arn("sqs", inputs.name),
        url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${inputs.name}`,
      };
    case "aws:iam/role:Role":
      return {
        arn: `arn:aws:iam::${ACCOUNT}:role/${inputs.name ?? `${inputs.namePrefix}20261123000000000000000001`}`,
      };
    case "aws:dynamodb/table:Table":
      return { arn: arn("dynamodb", `table/${inputs.name}`) };
    case "aws:s3/bucket:Bucket": {
      const bucket = inputs.bucket ?? `${inputs.bucketPrefix}20261123000000000000000001`;
      return { bucket, arn: `arn:aws:s3:::${bucket}` };
    }
    case "aws:cloudwatch/logGroup:LogGroup":
      return { arn: arn("logs", `log-group:${inputs.name}`) };
    case "aws:sns/topic:Topic":
      return { arn: arn("sns", inputs.name ?? name) };
    case "random:index/randomPassword:RandomPassword":
      return { result: `generated-secret-value-${name}` };
    case "aws:secretsmanager/secret:Secret":
      return { arn: arn("secretsmanager", `secret:${inputs.name}-AbCdEf`) };
    default:
      return { arn: arn("mock", name) };
  }
}

export class MockCloud implements pulumi.runtime.Mocks {
  readonly resources: Recorded[] = [];
  readonly invokes: RecordedInvoke[] = [];
  /**
   * The registration requests of remote (multi-language) components, such as awsx's: their provider's construct
   * receives these inputs as the request carries them (serialized values and each input's dependencies).
   */
  readonly remoteRequests: { type: string; name: string; request: any }[] = [];
  private current = {
    urn: "",
    parent: "",
    retainOnDelete: false,
    aliases: [] as string[],
    ignoreChanges: [] as string[],
  };

  /**
   * @param invokeResults answers that replace (or add to) the known invokes', by token.
   * @param randomIdHex what a RandomId's hex is: the same in every evaluation (one stack's state, deployed again),
   * unless a test gives another (another stack's state).
   */
  constructor(
    private readonly invokeResults: Record<string, InvokeResult> = {},
    private readonly randomIdHex = "0123456789abcdef",
  ) {}

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const id =
      args.type === "aws:ec2/securityGroup:SecurityGroup" ? `sg-${hex(args.name)}` : `${args.name}-id`;
    const secretPaths: string[] = [];
    const inputs = unwrap(args.inputs, "", secretPaths);
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs,
      secretPaths,
      custom: args.custom ?? true,
      urn: this.current.urn,
      parent: this.current.parent,
      provider: args.provider,
      retainOnDelete: this.current.retainOnDelete,
      aliases: this.current.aliases,
      ignoreChanges: this.current.ignoreChanges,
    });
    const random =
      args.type === "random:index/randomId:RandomId"
        ? { hex: this.randomIdHex, b64Std: Buffer.from(this.randomIdHex, "hex").toString("base64") }
        : {};
    return { id, state: { ...args.inputs, ...computed(args.type, args.name, inputs, id), ...random } };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    this.invokes.push({ token: args.token, inputs: args.inputs });
    const known = this.invokeResults[args.token] ?? KNOWN_INVOKES[args.token];
    if (!known) throw invokeFailure(`unexpected invoke ${args.token} ${JSON.stringify(args.inputs)}`);
    return known(args.inputs);
  }

  /** Installs these mocks, and learns each registration's URN and parent from the mock monitor. */
  async install(stack: string, organization?: string): Promise<void> {
    await pulumi.runtime.setMocks(this, "hookgate", stack, false, organization);
    const monitor = (pulumi.runtime as any).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: unknown) => {
      // The mock monitor calls newResource synchronously at the start of registerResource.
      this.current = {
        urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
        parent: req.getParent(),
        retainOnDelete: req.getRetainondelete() === true,
        // The SDK sends each alias as a spec (the monitor supports structured aliases) or as a URN.
        aliases: (req.getAliasesList() as any[]).map((alias) => {
          const spec = alias.getSpec();
          if (!spec) return alias.getUrn() as string;
          const parent = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
          return monitor.newUrn(parent, spec.getType() || req.getType(), spec.getName() || req.getName());
        }),
        ignoreChanges: req.getIgnorechangesList(),
      };
      if (req.getRemote())
        this.remoteRequests.push({ type: req.getType(), name: req.getName(), request: req });
      return register(req, callback);
    };
  }

  ofType(type: string): Recorded[] {
    return this.resources.filter((r) => r.type === type);
  }

  one(type: string, name: string): Recorded {
    const found = this.resources.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
    return found[0] as Recorded;
  }

  /** Resources whose parent chain includes the resource with this URN. */
  descendantsOf(urn: string): Recorded[] {
    const out: Recorded[] = [];
    const parents = new Set([urn]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of this.resources) {
        if (parents.has(r.parent) && !parents.has(r.urn)) {
          parents.add(r.urn);
          out.push(r);
          grew = true;
        }
      }
    }
    return out;
  }
}

function hex(text: string): string {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, "0").padEnd(17, "0");
}

/** The value of an output; rejects (rather than hangs) when it fails. */
export function outputValue<T>(output: pulumi.Output<T> | undefined): Promise<T> {
  if (!output) return Promise.reject(new Error("no output"));
  return (output as any).promise();
}

/** Waits until every registration the program started has been answered and no new one appears. */
/** Runs `work` with stack traces off: Pulumi records one per resource, and with tsx's source maps that dominates the run time. */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
  // Counted, not saved per call: two runs that overlap (one started while another's outputs settle) would
  // otherwise end with the second restoring the first's 0, leaving every later test without stack traces.
  if (stackTracesOff++ === 0) {
    limitBefore = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  }
  try {
    return await work();
  } finally {
    if (--stackTracesOff === 0) Error.stackTraceLimit = limitBefore;
  }
}
let stackTracesOff = 0;
let limitBefore = Error.stackTraceLimit;

export async function settle(cloud: MockCloud): Promise<void> {
  let before = -1;
  while (before !== cloud.resources.length) {
    before = cloud.resources.length;
    await (pulumi.runtime as any).waitForRPCs?.();
    await new Promise((r) => setTimeout(r, 5));
  }
}
