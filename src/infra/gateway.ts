// Gateway: the whole stack. Network, dedupe table, artifact bucket, observability, one Route per route,
// the API in front of them, and (optionally) the GitHub webhooks.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { bypassesProxy } from "../actions/proxy";
import { dashboardNote } from "../core/dashboardSize";
import { noProxyTrailingDotNote, withoutTrailingDot } from "../core/noProxy";
import { generatedSecretSharingProblems, routeSecretNames, withSecretNamePrefix } from "../core/routeSecrets";
import { apiResourceQuotaNote, routeNameClashProblem, routeNameProblem } from "../core/routes/checks";
import { DEFAULT_API_URLS } from "../core/routes/defaults";
import type { Route as RouteSpec } from "../core/types";
import { Api } from "./api";
import { Artifacts } from "./artifacts";
import { type CodeProvider, handlerCode } from "./bundle";
import {
  kmsKeyRegionProblems,
  routeKmsKeyRegionProblems,
  type StackConfig,
  StackConfigError,
} from "./config";
import { Dedupe } from "./dedupe";
import { NAME_LIMITS, type RouteNames, routeNames, stackNames, stackPrefix } from "./naming";
import { Network, proxyEgressDestination, type ReadSubnet } from "./network";
import { Observability } from "./observability";
import { ownerTags, stackIdentity, withOwnerTags } from "./ownerTags";
import { apiPolicyQuotaWarning, partitionOf } from "./policies";
import { environmentProblem, Route, rolePolicyProblem, routePolicyBound } from "./route";
import {
  githubOwnerEnvironmentProblem,
  plannedWebhooks,
  type WebhookSetup,
  webhookLimitProblems,
  webhookSetup,
  webhooksPerEventLimit,
} from "./webhookSetup";
import { Webhooks } from "./webhooks";

export interface GatewayArgs {
  config: StackConfig;
  routes: RouteSpec[];
  stack: string;
  region: string;
  /** The route code; defaults to the esbuild bundles of handlers/. */
  code?: CodeProvider;
  /** config `github:token`, for manageWebhooks. */
  githubToken?: pulumi.Input<string>;
  githubApiUrl?: string;
  /** The plan buildStack checked before the network preflight (planGateway); worked out here when absent. */
  plan?: GatewayPlan;
  /** network.privateSubnetIds as networkPreflight read them (mode existing). */
  subnets?: readonly ReadSubnet[];
}

/** The ports the Lambdas need to reach Jenkins: the configured one, else those of the routes' Jenkins URLs. */
export function jenkinsPorts(config: StackConfig, routes: readonly RouteSpec[]): number[] {
  if (config.jenkins.port) return [config.jenkins.port];
  return routeJenkinsPorts(routes);
}

/** The ports of the routes' Jenkins URLs. */
function routeJenkinsPorts(routes: readonly RouteSpec[]): number[] {
  const ports = new Set<number>();
  for (const route of routes) {
    const target =
      route.action.type === "jenkins"
        ? route.action.jenkins
        : route.action.type === "pr-cleanup"
          ? route.action.jenkins
          : undefined;
    if (!target) continue;
    let url: URL | undefined;
    try {
      url = new URL(target.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      throw new pulumi.RunError(`route "${route.name}": Jenkins URL "${target.url}" is not an http(s) URL`);
    }
    ports.add(portOf(url));
  }
  return [...ports].sort((a, b) => a - b);
}

/** The port a URL connects to: its own, else its scheme's. */
function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "http:" ? 80 : 443;
}

/**
 * The warning for Jenkins ports the Lambdas may reach on any address: neither jenkins.securityGroupId nor
 * narrower jenkins.cidrs was given. 443 is left out: it is open anyway, for AWS APIs and the Git hosts.
 */
export function openJenkinsEgressWarning(
  config: StackConfig,
  routes: readonly RouteSpec[],
): string | undefined {
  if (config.jenkins.securityGroupId || !config.jenkins.cidrs.includes("0.0.0.0/0")) return undefined;
  const ports = jenkinsPorts(config, routes).filter((port) => port !== 443);
  if (ports.length === 0) return undefined;
  return (
    `the Lambdas may connect to any address on the Jenkins port ${ports.join(", ")}: set jenkins.securityGroupId ` +
    "(Jenkins' security group) or jenkins.cidrs (its network) to narrow it"
  );
}

/**
 * The ports of the Git host APIs the routes call, other than 443 (open anyway): a self-hosted Gitea on
 * :3000, an API on plain http.
 */
export function gitHostApiPorts(routes: readonly RouteSpec[]): number[] {
  const ports = new Set<number>();
  for (const route of routes) {
    if (route.action.type === "jenkins") continue;
    let url: URL;
    try {
      url = new URL(route.action.api.apiUrl);
    } catch {
      continue; // check refused it already
    }
    const port = portOf(url);
    if (port !== 443) ports.add(port);
  }
  return [...ports].sort((a, b) => a - b);
}

/** What `pulumi up` says about network settings that may not do what the routes need. */
export function networkWarnings(config: StackConfig, routes: readonly RouteSpec[]): string[] {
  const warnings: string[] = [];
  if (config.jenkins.securityGroupId && config.network.mode === "create") {
    warnings.push(
      `jenkins.securityGroupId ${config.jenkins.securityGroupId} is a group outside the VPC this stack creates: ` +
        "its rules work only over an active VPC peering in the same region (not over a transit gateway); " +
        "otherwise set jenkins.cidrs instead",
    );
  }
  const port = config.jenkins.port;
  if (port) {
    // 443 is open to every address anyway, unless Jenkins' security group takes only jenkins.port.
    const others = routeJenkinsPorts(routes).filter(
      (p) => p !== port && (p !== 443 || config.jenkins.securityGroupId !== undefined),
    );
    if (others.length > 0) {
      warnings.push(
        `jenkins.port is ${port}, the only Jenkins port the Lambdas may reach, but routes' Jenkins URLs also use ` +
          `${others.join(", ")}: those builds cannot connect; drop jenkins.port or fix the URLs`,
      );
    }
  }
  const proxied = jenkinsThroughProxy(config, routes);
  if (proxied.length > 0) {
    warnings.push(
      `network.httpsProxy is set, and the Jenkins host(s) ${proxied.join(", ")} are not in network.noProxy: ` +
        "their builds go through the proxy; list them in network.noProxy if the proxy cannot reach Jenkins",
    );
  }
  const apis = gitHostApisThroughProxy(config, routes);
  if (apis.length > 0) {
    warnings.push(
      `network.httpsProxy is set, and the self-hosted Git host API(s) ${apis.join(", ")} are not in ` +
        "network.noProxy: the s3-zip and pr-cleanup calls to them go through the proxy; list them in " +
        "network.noProxy if the proxy cannot reach them (a Git host on the private network)",
    );
  }
  const proxy = config.network.egressProxy;
  // Accepted by the config's check, as undici matches them for URLs written with the dot; said unless a route's
  // URL is written so (what the entry is for), as they rarely are. The advice takes the scheme of the route's URL
  // the entry, without its dot, would match.
  const urls = routeTargetUrls(routes);
  for (const entry of proxy?.noProxy ?? []) {
    if (urls.some((url) => bypassesProxy([entry], url))) continue;
    const meant = urls.find((url) => bypassesProxy([withoutTrailingDot(entry)], url));
    const note = noProxyTrailingDotNote(entry, meant?.protocol);
    if (note) warnings.push(`network.noProxy entry ${JSON.stringify(entry)} ${note}`);
  }
  if (proxy && "ipv6CidrBlocks" in proxyEgressDestination(proxy.url)) {
    warnings.push(
      `network.httpsProxy ${proxy.url} is an IPv6 address, which the route functions cannot reach: hookgate ` +
        "does not turn on their outbound IPv6 (ipv6AllowedForDualStack, for dual-stack subnets only), and the " +
        "VPC it creates has no IPv6; give the proxy's IPv4 address or its name",
    );
  }
  const apiPorts = gitHostApiPorts(routes);
  if (apiPorts.length > 0) {
    warnings.push(
      `the Lambdas may connect to any address on port ${apiPorts.join(", ")}, the port of a Git host API ` +
        "that routes.yaml names (443 is open for every API anyway)",
    );
  }
  return warnings;
}

/**
 * What `pulumi up` says of the API's default quotas, adjustable per API, that the stack goes past: its resources
 * (/, /hooks and one per route; `hookgate check` notes it too) and its resource policy's length (api.ipAllowlist).
 * Past either, API Gateway refuses the resource or the policy unless the quota was raised.
 */
export function apiQuotaWarnings(config: StackConfig, routeCount: number, region: string): string[] {
  const warnings = [
    apiResourceQuotaNote(routeCount),
    apiPolicyQuotaWarning(config.api.ipAllowlist, partitionOf(region), region),
  ];
  return warnings.filter((w): w is string => w !== undefined);
}

/**
 * The warning for routes that call a Git host's API from subnets with no way out: no NAT and no egress
 * proxy (network.httpsProxy), which is a way out for the actions' HTTP (the AWS SDK uses the endpoints).
 */
export function natlessWarning(config: StackConfig, routes: readonly RouteSpec[]): string | undefined {
  const network = config.network;
  if (network.mode !== "create" || network.natGateways !== "none" || network.egressProxy) return undefined;
  const needy = routesNeedingInternet(routes);
  if (needy.length === 0) return undefined;
  return (
    `network.natGateways is none: routes ${needy.join(", ")} call the Git host's API and cannot reach it ` +
    "without a NAT or an egress proxy (network.httpsProxy), unless the host is reached over a peering, a transit gateway or a VPN"
  );
}

/** The URLs the route functions call: the routes' Jenkins URLs and Git host APIs (those that parse). */
function routeTargetUrls(routes: readonly RouteSpec[]): URL[] {
  return routes.flatMap((route) => {
    const jenkins = route.action.type === "s3-zip" ? undefined : route.action.jenkins;
    const api = route.action.type === "jenkins" ? undefined : route.action.api;
    return [jenkins?.url, api?.apiUrl].flatMap((text) => {
      if (text === undefined) return [];
      try {
        return [new URL(text)];
      } catch {
        return []; // refused elsewhere (jenkinsPorts, hookgate check)
      }
    });
  });
}

/** The routes' Jenkins hosts (host:port) that NO_PROXY does not send direct, with an egress proxy set. */
export function jenkinsThroughProxy(config: StackConfig, routes: readonly RouteSpec[]): string[] {
  return throughProxy(
    config,
    routes.flatMap((route) => {
      const target = route.action.type === "s3-zip" ? undefined : route.action.jenkins;
      return target ? [target.url] : [];
    }),
  );
}

/** The public Git host APIs, the providers' defaults: the egress proxy is there to reach them. */
const PUBLIC_GIT_HOST_APIS: ReadonlySet<string> = new Set(
  Object.values(DEFAULT_API_URLS).map((url) => new URL(url).hostname),
);

/**
 * A public Git host API: a provider's default, or GitHub Enterprise Cloud with data residency, which serves
 * each enterprise's API on the internet at api.<subdomain>.ghe.com (GitHub's docs, "data_residency_api").
 */
function isPublicGitHostApi(hostname: string): boolean {
  return PUBLIC_GIT_HOST_APIS.has(hostname) || /^api\.[^.]+\.ghe\.com$/.test(hostname);
}

/**
 * The routes' self-hosted Git host APIs (host:port: a providers.<name>.apiUrl other than api.github.com,
 * api.<subdomain>.ghe.com, gitlab.com or api.bitbucket.org) that NO_PROXY does not send direct, with an egress proxy set. Their
 * archive downloads and Bitbucket Data Center's other REST modules are on the same host.
 */
export function gitHostApisThroughProxy(config: StackConfig, routes: readonly RouteSpec[]): string[] {
  return throughProxy(
    config,
    routes.flatMap((route) => (route.action.type === "jenkins" ? [] : [route.action.api.apiUrl])),
  ).filter((host) => !isPublicGitHostApi(host.replace(/:\d+$/, "")));
}

/** The hosts (host:port) of these URLs that the egress proxy would get, as undici matches NO_PROXY; sorted. */
function throughProxy(config: StackConfig, urls: readonly string[]): string[] {
  const proxy = config.network.egressProxy;
  if (!proxy) return [];
  const hosts = new Set<string>();
  for (const text of urls) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      continue; // refused elsewhere (jenkinsPorts, hookgate check)
    }
    if (!bypassesProxy(proxy.noProxy, url)) hosts.add(`${url.hostname}:${portOf(url)}`);
  }
  return [...hosts].sort();
}

/** Routes whose action calls the Git host's API (needs a way out of the VPC: a NAT or a proxy). */
export function routesNeedingInternet(routes: readonly RouteSpec[]): string[] {
  return routes.filter((r) => r.action.type !== "jenkins").map((r) => r.name);
}

/** What the Gateway is built from, worked out (and checked) before any resource: see planGateway. */
export interface GatewayPlan {
  /** The routes with hookgate:secretNamePrefix applied to their secret names. */
  routes: ReturnType<typeof withSecretNamePrefix>[];
  prefix: string;
  names: ReturnType<typeof stackNames>;
  partition: string;
  perRoute: Map<string, RouteNames>;
}

/**
 * The Gateway's routes, names and limits, with every check that needs no AWS call (secret name lengths, KMS
 * regions, route names, GitHub's webhook limit, role policy and Lambda environment sizes) thrown as a RunError.
 * buildStack runs it before the network preflight's AWS reads, so a failed or refused read does not hide these
 * problems.
 */
export function planGateway(args: Omit<GatewayArgs, "plan" | "subnets">): GatewayPlan {
  const { config, region } = args;
  const routes = args.routes.map((r) => withSecretNamePrefix(r, config.secretNamePrefix));
  const tooLong = routes.flatMap(routeSecretNames).filter((n) => n.length > NAME_LIMITS.secret);
  if (tooLong.length > 0) {
    throw new pulumi.RunError(
      `secret names longer than ${NAME_LIMITS.secret} characters with hookgate:secretNamePrefix: ${[...new Set(tooLong)].join(", ")}`,
    );
  }
  if (routes.length === 0) throw new pulumi.RunError("routes.yaml has no routes: a stack needs at least one");
  // A key of another region would be granted and never used: Secrets Manager and S3 would refuse it, and
  // S3 every upload of a route whose s3-zip kmsKeyId it is.
  const kmsProblems = kmsKeyRegionProblems(config.kmsKeyArns, region);
  if (kmsProblems.length > 0) throw new pulumi.RunError(new StackConfigError(kmsProblems).message);
  const routeKmsProblems = routeKmsKeyRegionProblems(routes, region);
  if (routeKmsProblems.length > 0) throw new pulumi.RunError(routeKmsProblems.join("\n"));
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.name)) throw new pulumi.RunError(`route "${r.name}" is defined twice`);
    seen.add(r.name);
  }
  // As `hookgate check` does: names whose resources would collide with the stack's or another route's.
  for (const r of routes) {
    const problem = routeNameProblem(r.name) ?? routeNameClashProblem(r.name, seen);
    if (problem) throw new pulumi.RunError(problem);
  }
  // Before anything is created: a generated secret another route reads would be deleted under that route
  // by the first pulumi up without a GitHub route naming it.
  if (config.github.manageWebhooks) {
    const sharing = generatedSecretSharingProblems(args.routes, config.secretNamePrefix);
    if (sharing.length > 0) throw new pulumi.RunError(sharing.join("\n"));
    // GitHub refuses the webhook past its limit per repository and event (422) in the middle of `pulumi up`,
    // after the others (and every route's resources) exist.
    const hooks = plannedWebhooks(routes);
    const tooMany = webhookLimitProblems(hooks, webhooksPerEventLimit(args.githubApiUrl));
    if (tooMany.length > 0) throw new pulumi.RunError(tooMany.join("\n"));
    // The GitHub provider would read them itself, and put the webhooks on another owner's repositories.
    const ownerProblem = githubOwnerEnvironmentProblem(hooks, process.env);
    if (ownerProblem) throw new pulumi.RunError(ownerProblem);
  }
  const prefix = stackPrefix(args.stack);
  const names = stackNames(prefix, region);
  const partition = partitionOf(region);
  const perRoute = new Map<string, RouteNames>(routes.map((r) => [r.name, routeNames(prefix, r.name)]));
  // A bucketPrefix gets 26 characters appended: the name's length is known before it exists.
  const artifactBucketNameLength = names.bucketPrefix.length + 26;
  // Before anything is created: IAM would refuse the role of a route whose policy is too long.
  for (const spec of routes) {
    const problem = rolePolicyProblem(
      spec.name,
      routePolicyBound({
        route: spec,
        names: perRoute.get(spec.name) as RouteNames,
        partition,
        region,
        dedupeTableName: names.dedupeTable,
        artifactBucketNameLength,
        kmsKeyArns: config.kmsKeyArns,
      }),
    );
    if (problem) throw new pulumi.RunError(problem);
  }
  // Before anything is created (in Route it came after the Gateway had warned against itself, and such a
  // warning holds back the RunError's message): Lambda would refuse the function of a route whose environment
  // passes 4 KB even with the shortest queue URLs it can get.
  const tooBig = routes.flatMap((spec) => {
    const problem = environmentProblem({
      route: spec,
      names: perRoute.get(spec.name) as RouteNames,
      region,
      dedupeTableName: names.dedupeTable,
      artifactBucketNameLength,
      egressProxy: config.network.egressProxy,
      secretNamePrefix: config.secretNamePrefix,
    });
    return problem ? [problem] : [];
  });
  if (tooBig.length > 0) throw new pulumi.RunError(tooBig.join("\n"));
  return { routes, prefix, names, partition, perRoute };
}

export class Gateway extends pulumi.ComponentResource {
  public readonly webhookUrls: pulumi.Output<Record<string, string>>;
  public readonly webhookSetup: pulumi.Output<Record<string, WebhookSetup>>;
  public readonly deadLetterQueueUrls: pulumi.Output<Record<string, string>>;
  public readonly dashboardUrl: pulumi.Output<string>;
  public readonly apiUrl: pulumi.Output<string>;
  public readonly artifactBucket: pulumi.Output<string>;
  public readonly dedupeTable: pulumi.Output<string>;
  public readonly routes: Record<string, Route> = {};

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Gateway", name, {}, opts);
    const { config, region } = args;
    const { routes, prefix, names, partition, perRoute } = args.plan ?? planGateway(args);
    const natless = natlessWarning(config, routes);
    if (natless) pulumi.log.warn(natless, this);
    const openEgress = openJenkinsEgressWarning(config, routes);
    if (openEgress) pulumi.log.warn(openEgress, this);
    for (const warning of networkWarnings(config, routes)) pulumi.log.warn(warning, this);
    for (const warning of apiQuotaWarnings(config, routes.length, region)) pulumi.log.warn(warning, this);
    // The dashboard draws the routes that fit CloudWatch's quotas; the others are named on it, and here.
    const leftOffDashboard = dashboardNote(routes.length);
    if (leftOffDashboard) pulumi.log.warn(leftOffDashboard, this);

    const code = args.code ?? handlerCode;
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;

    // Whose resources these are (ownerTags.ts): the stack's qualified name, and a value of this stack's state
    // alone, which two stacks of one name on two DIY backends do not share. Every component below tags its
    // resources with both.
    const identity = stackIdentity();
    const instance = new random.RandomId(`${name}-instance`, { byteLength: 8 }, { parent: this }).hex;
    const owned = { parent: this, transformations: [withOwnerTags(ownerTags(identity, instance))] };

    const network = new Network(
      `${name}-network`,
      {
        network: config.network,
        jenkins: config.jenkins,
        jenkinsPorts: jenkinsPorts(config, routes),
        gitHostApiPorts: gitHostApiPorts(routes),
        proxy: config.network.egressProxy,
        region,
        accountId,
        lambdaSecurityGroupName: names.lambdaSecurityGroup,
        endpointSecurityGroupName: names.endpointSecurityGroup,
        stackPrefix: prefix,
        vpcNameTag: names.vpcNameTag,
        ownerIdentity: identity,
        jenkinsRuleDescription: names.jenkinsRuleDescription,
        subnets: args.subnets,
      },
      owned,
    );

    const dedupe = new Dedupe(`${name}-dedupe`, { tableName: names.dedupeTable }, owned);
    this.dedupeTable = dedupe.tableName;

    // As long as the stack, whatever the routes: declared only while an s3-zip route used it, an edit of the
    // last such route deleted it with the zips pipelines read (or failed, BucketNotEmpty). retainOnDelete
    // would also apply to `pulumi destroy`, and a later route would get a new bucket (bucketPrefix).
    const artifacts = new Artifacts(
      `${name}-artifacts`,
      {
        bucketPrefix: names.bucketPrefix,
        noncurrentVersionDays: config.artifacts.noncurrentVersionDays,
        forceDestroy: config.artifacts.forceDestroy,
      },
      owned,
    );
    this.artifactBucket = artifacts.bucketName;

    const observability = new Observability(
      `${name}-observability`,
      {
        region,
        topicName: names.alarmTopic,
        alarmEmail: config.alarmEmail,
        alarmEmailSecret: config.alarmEmailSecret,
        dashboardName: names.dashboard,
        dashboard: {
          region,
          apiName: names.api,
          stageName: config.api.stageName,
          routes: routes.map((r) => {
            const n = perRoute.get(r.name) as RouteNames;
            return {
              name: r.name,
              functionName: n.function,
              queueName: n.queue,
              deadLetterQueueName: n.deadLetterQueue,
              logGroupName: n.logGroup,
            };
          }),
        },
      },
      owned,
    );

    for (const spec of routes) {
      this.routes[spec.name] = new Route(
        spec.name,
        {
          route: spec,
          names: perRoute.get(spec.name) as RouteNames,
          code: code(spec.action.type),
          lambda: config.lambda,
          logRetentionDays: config.logRetentionDays,
          subnetIds: network.privateSubnetIds,
          securityGroupId: network.lambdaSecurityGroupId,
          dedupeTableName: names.dedupeTable,
          dedupeTableArn: dedupe.tableArn,
          artifactBucket:
            spec.action.type === "s3-zip" && !spec.action.bucket ? artifacts.bucketName : undefined,
          partition,
          region,
          accountId,
          alarmTopicArn: observability.alarmTopicArn,
          oldestMessageAlarmSeconds: config.alarmOldestMessageSeconds,
          egressProxy: config.network.egressProxy,
          kmsKeyArns: config.kmsKeyArns,
          secretNamePrefix: config.secretNamePrefix,
          owner: { identity, instance },
        },
        owned,
      );
    }

    const api = new Api(
      `${name}-api`,
      {
        apiName: names.api,
        stageName: config.api.stageName,
        throttlingRateLimit: config.api.throttlingRateLimit,
        throttlingBurstLimit: config.api.throttlingBurstLimit,
        ipAllowlist: config.api.ipAllowlist,
        logRetentionDays: config.logRetentionDays,
        accessLogGroupName: names.apiLogGroup,
        manageAccount: config.api.manageAccount,
        accountRolePrefix: names.apiLoggingRolePrefix,
        partition,
        alarmTopicArn: observability.alarmTopicArn,
        errorsAlarmName: names.apiErrorsAlarm,
        tooLargeOrThrottledAlarmName: names.apiTooLargeOrThrottledAlarm,
        routes: routes.map((r) => ({
          name: r.name,
          physicalName: (perRoute.get(r.name) as RouteNames).function,
          functionName: this.routes[r.name]?.functionName as pulumi.Output<string>,
          invokeArn: this.routes[r.name]?.invokeArn as pulumi.Output<string>,
        })),
      },
      owned,
    );

    if (config.github.manageWebhooks) {
      new Webhooks(
        `${name}-webhooks`,
        {
          routes: routes.map((r) => ({ route: r, url: api.urls[r.name] as pulumi.Output<string> })),
          token: args.githubToken,
          apiUrl: args.githubApiUrl,
          secretNamePrefix: config.secretNamePrefix,
          answerableAfter: network.interfaceEndpoints,
        },
        owned,
      );
    }

    this.apiUrl = api.invokeUrl;
    this.dashboardUrl = observability.dashboardUrl;
    this.webhookUrls = pulumi.all(api.urls);
    this.webhookSetup = this.webhookUrls.apply((urls) =>
      Object.fromEntries(
        routes.map((r) => [r.name, webhookSetup(r, urls[r.name] as string, config.secretNamePrefix)]),
      ),
    );
    this.deadLetterQueueUrls = pulumi.all(
      Object.fromEntries(Object.entries(this.routes).map(([n, r]) => [n, r.deadLetterQueueUrl])),
    );
    this.registerOutputs({
      webhookUrls: this.webhookUrls,
      webhookSetup: this.webhookSetup,
      deadLetterQueueUrls: this.deadLetterQueueUrls,
      dashboardUrl: this.dashboardUrl,
      apiUrl: this.apiUrl,
    });
  }
}
