// The program's resource tree, pinned. A resource's URN is its type, its name and its parents' types (the
// stack's excepted): drop a `{ parent: this }`, rename a component type or a logical name, and `pulumi up` on
// a deployed stack deletes the resource and creates another (a new API URL, queues without their messages, an
// empty dedupe table). The program runs here as `pulumi up` runs it, inside a pulumi:pulumi:Stack, and the
// engine's URNs are rebuilt from what the mocks record (the mock monitor's own URNs keep the nearest parent's
// type only). awsx's Vpc is a remote component: its children are awsx's, unseen under mocks.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import type { Route } from "../../src/core/types";
import type { StackConfig } from "../../src/infra/config";
import { buildStack } from "../../src/infra/program";
import { config, jenkinsRoute, prCleanupRoute, s3ZipRoute, stubCode } from "./fixtures";
import { MockCloud, REGION, type Recorded, settle, subnetsOf, withoutStackTraces } from "./mocks";

const TREE_FILE = resolve(__dirname, "..", "fixtures", "infra", "resource-tree.txt");
const STACK_TYPE = "pulumi:pulumi:Stack";
const PROJECT = "hookgate";
const STACK = "prod";
const URN_PREFIX = `urn:pulumi:${STACK}::${PROJECT}::`;

/** A resource as the engine knows it: its URN's qualified type (parents' types, then its own) and name. */
interface Node {
  type: string;
  name: string;
  /** Parent types and its own, joined by "$"; the stack's type is never part of it. */
  qualifiedType: string;
  urn: string;
  parent?: Node;
}

function node(type: string, name: string, parent?: Node): Node {
  const qualifiedType = parent && parent.type !== STACK_TYPE ? `${parent.qualifiedType}$${type}` : type;
  return { type, name, qualifiedType, urn: `${URN_PREFIX}${qualifiedType}::${name}`, parent };
}

/** "type name" of a resource: names are unique per type (asserted below), so this names one resource. */
function label(n: { type: string; name: string }): string {
  return `${n.type} ${n.name}`;
}

interface InStack {
  cloud: MockCloud;
  nodes: Node[];
  /** "type name -> type name" for each resource's dependsOn, sorted. */
  dependsOn: string[];
  /** "type name -> type name" for each resource's deletedWith, sorted. */
  deletedWith: string[];
}

/**
 * Runs buildStack inside a stack resource, as the Pulumi CLI runs index.ts. A stack transformation sees each
 * resource's options, dependsOn included, which the mocks' newResource is never given.
 */
async function evaluateInStack(stackConfig: StackConfig, routes: Route[]): Promise<InStack> {
  // The stack's subnets are in its network.vpcId, as evaluate() has them.
  const net = stackConfig.network;
  const cloud = new MockCloud(
    net.mode === "existing" ? { "aws:ec2/getSubnet:getSubnet": subnetsOf(net.vpcId) } : {},
  );
  await cloud.install(STACK);
  const declared: { resource: pulumi.Resource; dependsOn: pulumi.Resource[] }[] = [];
  const deletedWith: { resource: pulumi.Resource; with: pulumi.Resource }[] = [];
  const identities = new Map<pulumi.Resource, { type: string; name: string }>();
  await withoutStackTraces(async () => {
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation(({ resource, type, name, opts }) => {
        identities.set(resource, { type, name });
        if (opts.deletedWith) deletedWith.push({ resource, with: opts.deletedWith });
        const deps = opts.dependsOn;
        if (deps === undefined) return undefined;
        const list = Array.isArray(deps) ? deps : [deps];
        if (!list.every((d) => pulumi.Resource.isInstance(d))) {
          throw new Error(`${label({ type, name })}: dependsOn is not a plain list of resources`);
        }
        if (list.length > 0) declared.push({ resource, dependsOn: list as pulumi.Resource[] });
        return undefined;
      });
      return buildStack({
        config: stackConfig,
        routes,
        stack: STACK,
        region: REGION,
        code: stubCode,
        githubToken: "ghp_test-token-value",
      });
    });
    await settle(cloud);
  });
  const identity = (r: pulumi.Resource) => {
    const found = identities.get(r);
    if (!found) throw new Error("a dependsOn names a resource created outside the stack");
    return label(found);
  };
  const dependsOn = declared
    .flatMap(({ resource, dependsOn: deps }) => deps.map((d) => `${identity(resource)} -> ${identity(d)}`))
    .sort();
  const deletedWithPairs = deletedWith.map((d) => `${identity(d.resource)} -> ${identity(d.with)}`).sort();
  return { cloud, nodes: nodesOf(cloud.resources), dependsOn, deletedWith: deletedWithPairs };
}

/** The engine's view of the recorded resources (the mock monitor's URNs are only used to find parents). */
function nodesOf(resources: readonly Recorded[]): Node[] {
  const byMockUrn = new Map(resources.map((r) => [r.urn, r]));
  const built = new Map<Recorded, Node>();
  const build = (r: Recorded): Node => {
    const done = built.get(r);
    if (done) return done;
    const parent = r.parent ? byMockUrn.get(r.parent) : undefined;
    if (r.parent && !parent) throw new Error(`${label(r)}: its parent ${r.parent} was never registered`);
    const n = node(r.type, r.name, parent && build(parent));
    built.set(r, n);
    return n;
  };
  return resources.map(build);
}

/** The tree as resource-tree.txt writes it: "type name", two spaces deeper per level, siblings sorted. */
function renderTree(nodes: readonly Node[]): string {
  const lines: string[] = [];
  const visit = (parent: Node | undefined, depth: number) => {
    const children = nodes
      .filter((n) => n.parent === parent)
      .sort((a, b) => label(a).localeCompare(label(b)));
    for (const child of children) {
      lines.push(`${"  ".repeat(depth)}${label(child)}`);
      visit(child, depth + 1);
    }
  };
  visit(undefined, 0);
  return lines.join("\n");
}

/** The URNs resource-tree.txt stands for (lines starting with # are comments). */
function urnsOfTreeFile(text: string): string[] {
  const path: Node[] = [];
  const urns: string[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const indent = line.length - line.trimStart().length;
    const [type, name, ...rest] = line.trim().split(" ");
    const depth = indent / 2;
    if (!Number.isInteger(depth) || depth > path.length || !type || !name || rest.length > 0) {
      throw new Error(`${TREE_FILE}:${i + 1}: expected "type name", indented two spaces under its parent`);
    }
    const n = node(type, name, path[depth - 1]);
    path.splice(depth, path.length, n);
    urns.push(n.urn);
  }
  return urns;
}

/** What `pulumi up` would do to a deployed stack whose URNs are `expected`, readably; "" when nothing. */
function urnDifference(expected: readonly string[], actual: readonly string[]): string {
  const gone = expected.filter((u) => !actual.includes(u)).sort();
  const added = actual.filter((u) => !expected.includes(u)).sort();
  const twice = actual.filter((u, i) => actual.indexOf(u) !== i);
  if (gone.length + added.length + twice.length === 0) return "";
  return [
    `On a deployed stack, \`pulumi up\` would delete ${gone.length} resource(s):`,
    ...gone.map((u) => `  - ${u}`),
    `and create ${added.length}:`,
    ...added.map((u) => `  + ${u}`),
    ...(twice.length > 0 ? ["and refuse URNs registered twice:", ...twice.map((u) => `  ! ${u}`)] : []),
    "A resource that moved (renamed, or under another parent) is replaced unless it is given the old URN " +
      "as an alias (the `aliases` resource option).",
  ].join("\n");
}

/** One route of each action type, each naming one exact repository (so each gets a managed webhook). */
function oneRouteOfEachKind(): Route[] {
  const zip = s3ZipRoute();
  const cleanup = prCleanupRoute();
  return [
    jenkinsRoute(),
    { ...zip, match: { ...zip.match, repos: ["acme/site"] } },
    { ...cleanup, match: { ...cleanup.match, repos: ["acme/web"] } },
  ];
}

describe("the program's resource tree (under Pulumi mocks, in a stack as `pulumi up` runs it)", () => {
  // Every optional resource of a stack that creates its VPC: the account's CloudWatch role, the alarm
  // e-mail, interface endpoints, managed webhooks.
  const stackConfig = config({
    api: { manageAccount: true },
    alarmEmail: "ops@example.com",
    github: { manageWebhooks: true },
    network: { interfaceEndpoints: ["secretsmanager", "sqs"] },
    jenkins: { cidrs: ["10.20.0.0/16"] },
  });
  let result: InStack;
  before(async function () {
    this.timeout(120_000);
    result = await evaluateInStack(stackConfig, oneRouteOfEachKind());
  });

  it("the resource tree (types, names, parents) is the one existing stacks have: a change here replaces resources on `pulumi up` (test/fixtures/infra/resource-tree.txt)", () => {
    const expected = urnsOfTreeFile(readFileSync(TREE_FILE, "utf8"));
    const difference = urnDifference(
      expected,
      result.nodes.map((n) => n.urn),
    );
    if (difference) {
      expect.fail(
        `the resource tree is not the one in ${TREE_FILE}.\n${difference}\n` +
          `If the change is meant, update the file; the tree now:\n${renderTree(result.nodes)}`,
      );
    }
  });

  it("only the Gateway sits at the stack's root: every other resource is the child of a hookgate component, not of the stack", () => {
    const misplaced = result.nodes
      .filter((n) => n.type !== STACK_TYPE)
      .filter((n) =>
        n.type === "hookgate:infra:Gateway"
          ? n.parent?.type !== STACK_TYPE
          : !n.parent?.type.startsWith("hookgate:infra:"),
      )
      .map((n) => `${label(n)} (parent: ${n.parent ? label(n.parent) : "none"})`);
    expect(
      misplaced,
      `resources outside their component (a missing { parent: this }?):\n${misplaced.join("\n")}`,
    ).to.deep.equal([]);
    const roots = result.nodes.filter((n) => !n.parent).map(label);
    expect(roots).to.deep.equal([`${STACK_TYPE} ${PROJECT}-${STACK}`]);
  });

  it("no two resources share a type and a name, so no two share a URN (the engine refuses that; the mocks take both)", () => {
    const seen = new Map<string, number>();
    for (const n of result.nodes) seen.set(label(n), (seen.get(label(n)) ?? 0) + 1);
    const twice = [...seen].filter(([, count]) => count > 1).map(([l, count]) => `${l} (${count} times)`);
    expect(twice, `names used twice within a type:\n${twice.join("\n")}`).to.deep.equal([]);
  });

  it("every dependsOn the program declares is still declared: the deployment waits for the API's policy, its gateway responses (404, 403, 413, 429, 5xx and the 4xx default), methods, integrations and permissions; the stage for the account's CloudWatch role setting; the 5xx alarm for the stage; the bucket policy for the public access block; the dashboard for the alarm topic; each function for its log group; each webhook for its stored secret and the interface endpoints (GitHub pings it at once)", () => {
    const deployment = "aws:apigateway/deployment:Deployment hookgate-api-deployment";
    const routeNames = ["api-build", "pr-cleanup", "source-zip"];
    const want = [
      // API Gateway's own answers (GATEWAY_ANSWERS): a deployment snapshots them, so it waits for each.
      ...[
        "access-denied",
        "default-4xx",
        "default-5xx",
        "integration-failure",
        "integration-timeout",
        "not-found",
        "throttled",
        "too-large",
      ].map((r) => `${deployment} -> aws:apigateway/response:Response hookgate-api-${r}`),
      `${deployment} -> aws:apigateway/restApiPolicy:RestApiPolicy hookgate-api-allowlist`,
      ...routeNames.flatMap((r) => [
        `${deployment} -> aws:apigateway/method:Method hookgate-api-${r}-any`,
        `${deployment} -> aws:apigateway/integration:Integration hookgate-api-${r}-lambda`,
        `${deployment} -> aws:lambda/permission:Permission hookgate-api-${r}-invoke`,
      ]),
      "aws:apigateway/stage:Stage hookgate-api-stage -> aws:apigateway/account:Account hookgate-api-account",
      "aws:cloudwatch/metricAlarm:MetricAlarm hookgate-api-5xx -> aws:apigateway/stage:Stage hookgate-api-stage",
      "aws:s3/bucketPolicy:BucketPolicy hookgate-artifacts-tls-only -> aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock hookgate-artifacts-public-access",
      // PutDashboard overwrites: after the topic, which a second stack of the same name fails to create.
      "aws:cloudwatch/dashboard:Dashboard hookgate-observability-dashboard -> aws:sns/topic:Topic hookgate-observability-alarms",
      ...routeNames.map(
        (r) => `aws:lambda/function:Function ${r}-fn -> aws:cloudwatch/logGroup:LogGroup ${r}-logs`,
      ),
      ...["api-build-acme-api-c7198f", "pr-cleanup-acme-web-86f279", "source-zip-acme-site-caa854"].flatMap(
        (w) =>
          [
            "aws:secretsmanager/secretVersion:SecretVersion hookgate-webhooks-hookgate-github-webhook-2be7ae-version",
            "aws:ec2/vpcEndpoint:VpcEndpoint hookgate-network-secretsmanager",
            "aws:ec2/vpcEndpoint:VpcEndpoint hookgate-network-sqs",
          ].map(
            (dependency) =>
              `github:index/repositoryWebhook:RepositoryWebhook hookgate-webhooks-${w} -> ${dependency}`,
          ),
      ),
    ].sort();
    const missing = want.filter((d) => !result.dependsOn.includes(d));
    const extra = result.dependsOn.filter((d) => !want.includes(d));
    if (missing.length > 0 || extra.length > 0) {
      expect.fail(
        [
          "the program's dependsOn changed:",
          ...missing.map((d) => `  dropped: ${d}`),
          ...extra.map((d) => `  new (add it to this test): ${d}`),
        ].join("\n"),
      );
    }
  });

  it("the artifact bucket's settings are deleted with it, never before it: a `pulumi destroy` that stops at BucketNotEmpty leaves the zips with their public access block, versioning, lifecycle, encryption, events and TLS-only policy", () => {
    const bucket = "aws:s3/bucket:Bucket hookgate-artifacts-bucket";
    const want = [
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration hookgate-artifacts-lifecycle",
      "aws:s3/bucketNotification:BucketNotification hookgate-artifacts-eventbridge",
      "aws:s3/bucketOwnershipControls:BucketOwnershipControls hookgate-artifacts-ownership",
      "aws:s3/bucketPolicy:BucketPolicy hookgate-artifacts-tls-only",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock hookgate-artifacts-public-access",
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration hookgate-artifacts-encryption",
      "aws:s3/bucketVersioning:BucketVersioning hookgate-artifacts-versioning",
    ].map((setting) => `${setting} -> ${bucket}`);
    expect(result.deletedWith).to.deep.equal(want);
  });
});

describe("the program's resource tree with an existing VPC (under Pulumi mocks, in a stack)", () => {
  it("the network's gateway endpoints, interface endpoint, security groups and Jenkins ingress rule keep their types, names and parent: a change replaces them on `pulumi up`", async function () {
    this.timeout(120_000);
    const stackConfig = config({
      network: {
        mode: "existing",
        vpcId: "vpc-0feedfeedfeedfeed",
        privateSubnetIds: ["subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
        routeTableIds: ["rtb-0123456789abcdef0"],
        interfaceEndpoints: ["secretsmanager"],
      },
      jenkins: { securityGroupId: "sg-0123456789abcdef0" },
    });
    const { nodes } = await evaluateInStack(stackConfig, [jenkinsRoute()]);
    // The network's resources, wherever they are: all their logical names start with the component's.
    const network = `${URN_PREFIX}hookgate:infra:Gateway$hookgate:infra:Network`;
    const actual = nodes
      .filter((n) => n.urn.startsWith(`${network}$`) || n.name.startsWith("hookgate-network-"))
      .map((n) => n.urn);
    const difference = urnDifference(
      [
        `${network}$aws:ec2/securityGroup:SecurityGroup::hookgate-network-endpoints`,
        `${network}$aws:ec2/securityGroup:SecurityGroup::hookgate-network-lambda`,
        `${network}$aws:ec2/vpcEndpoint:VpcEndpoint::hookgate-network-dynamodb`,
        `${network}$aws:ec2/vpcEndpoint:VpcEndpoint::hookgate-network-s3`,
        `${network}$aws:ec2/vpcEndpoint:VpcEndpoint::hookgate-network-secretsmanager`,
        `${network}$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::hookgate-network-jenkins-8443`,
      ],
      actual,
    );
    if (difference) expect.fail(`the existing VPC's network resources changed.\n${difference}`);
  });
});
