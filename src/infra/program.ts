// The program behind index.ts: config + routes.yaml in, the Gateway and the stack outputs out.
// `buildStack` takes everything as arguments so tests can evaluate several configurations in one process.
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { RoutesFileError } from "../core/errors";
import { loadRoutesFile } from "../core/routes/load";
import { routeNotes } from "../core/routes/notes";
import { withoutInvisible } from "../core/shownText";
import type { Route } from "../core/types";
import { type CodeProvider, REPO_ROOT } from "./bundle";
import { readStackConfig, type StackConfig, StackConfigError } from "./config";
import { Gateway, type GatewayPlan, planGateway } from "./gateway";
import { networkPreflight } from "./network";
import type { WebhookSetup } from "./webhookSetup";

export interface StackOutputs {
  webhookUrls: pulumi.Output<Record<string, string>>;
  webhookSetup: pulumi.Output<Record<string, WebhookSetup>>;
  deadLetterQueueUrls: pulumi.Output<Record<string, string>>;
  dashboardUrl: pulumi.Output<string>;
  apiUrl: pulumi.Output<string>;
  artifactBucket?: pulumi.Output<string>;
  dedupeTable: pulumi.Output<string>;
}

export interface BuildStackArgs {
  config: StackConfig;
  routes: Route[];
  stack: string;
  region: string;
  code?: CodeProvider;
  githubToken?: pulumi.Input<string>;
  /** GitHub Enterprise Server's API (routes.yaml providers.github.apiUrl); github.com when absent. */
  githubApiUrl?: string;
}

/**
 * The stack. The network settings AWS must answer for (the region's zones, the subnets' VPC) are checked before any
 * resource is constructed. A resource constructed before a failed check would never register, and @pulumi/pulumi
 * sends log messages one after the other, each once the resource it names has its URN: a warning the Gateway (or a
 * child) logs against itself would hold back every later message, the check's RunError too, and `pulumi up` would
 * stop without a reason.
 */
export async function buildStack(args: BuildStackArgs): Promise<StackOutputs> {
  // The checks that need no AWS call first: a refused or failed read of the network does not hide them, and a
  // stack with problems of both kinds is told both in one run.
  let plan: GatewayPlan | undefined;
  let planError: pulumi.RunError | undefined;
  try {
    plan = planGateway(args);
  } catch (err) {
    if (!(err instanceof pulumi.RunError)) throw err;
    planError = err;
  }
  const subnets = await networkPreflight(args.config.network, args.region).catch((err: unknown) => {
    throw planError && err instanceof pulumi.RunError
      ? new pulumi.RunError(`${planError.message}\n${err.message}`)
      : err;
  });
  if (!plan) throw planError;
  const gateway = new Gateway("hookgate", { ...args, plan, subnets });
  return {
    webhookUrls: gateway.webhookUrls,
    webhookSetup: gateway.webhookSetup,
    deadLetterQueueUrls: gateway.deadLetterQueueUrls,
    dashboardUrl: gateway.dashboardUrl,
    apiUrl: gateway.apiUrl,
    artifactBucket: gateway.artifactBucket,
    dedupeTable: gateway.dedupeTable,
  };
}

/** The stack's region as configured: `aws:region`, else AWS_REGION or AWS_DEFAULT_REGION. */
function configuredRegion(): string | undefined {
  return aws.config.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
}

/** Why the stack's region cannot be used, or undefined. */
export function stackRegionProblem(region: string | undefined): string | undefined {
  if (!region) return "no AWS region: run `pulumi config set aws:region <region>` (for example eu-west-1)";
  // A typo ("eu-west") would fail only later, inside the AWS provider, with a less direct message.
  if (!AWS_REGION_NAME.test(region)) {
    return (
      `"${region.slice(0, 40)}" is not an AWS region name (like eu-west-1 or us-gov-west-1): ` +
      "run `pulumi config set aws:region <region>`"
    );
  }
  return undefined;
}

/** The shape of every AWS region name: eu-west-1, ap-southeast-4, us-gov-west-1, cn-north-1, us-isob-east-1, eusc-de-east-1. */
export const AWS_REGION_NAME = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;

/**
 * With github.manageWebhooks the GitHub provider needs a token (github:token, else GITHUB_TOKEN): without
 * one, the webhooks would fail only at the end of `pulumi up`, after everything else was created.
 */
export function githubTokenProblem(
  manageWebhooks: boolean,
  tokenConfigured: boolean,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (!manageWebhooks || tokenConfigured || env.GITHUB_TOKEN) return undefined;
  return "hookgate:github.manageWebhooks needs a GitHub token: pulumi config set --secret github:token <token> (a fine-grained token with the Webhooks repository permission (read and write) on the repositories, or a classic one with admin:repo_hook), or GITHUB_TOKEN in the environment";
}

/**
 * `github:token` is read only to manage the GitHub webhooks. Without github.manageWebhooks it is unused, and
 * people take it for the token the s3-zip and pr-cleanup actions use, which is a Secrets Manager secret.
 */
export function unusedGithubTokenWarning(
  manageWebhooks: boolean,
  tokenConfigured: boolean,
): string | undefined {
  if (manageWebhooks || !tokenConfigured) return undefined;
  return (
    "github:token is set but hookgate:github.manageWebhooks is off, so nothing uses it: it serves only to " +
    "create the GitHub webhooks. The s3-zip and pr-cleanup actions never read it; their token is the value of " +
    "the Secrets Manager secret that routes.yaml names in providers.github.token (or the action's token). " +
    "Turn github.manageWebhooks on, or remove it with `pulumi config rm github:token`"
  );
}

/** routes.yaml, relative to the project directory unless absolute. */
export function routesPath(config: StackConfig): string {
  return isAbsolute(config.routesFile) ? config.routesFile : resolve(REPO_ROOT, config.routesFile);
}

/**
 * A mistake in the stack config or routes.yaml as a Pulumi RunError, which `pulumi up` prints as its message
 * alone; any other error keeps its stack trace.
 */
function asRunError(err: unknown): unknown {
  return err instanceof StackConfigError || err instanceof RoutesFileError
    ? new pulumi.RunError(err.message)
    : err;
}

/**
 * The stack's own configuration: aws:region, every hookgate key (kmsKeyArns against the region too) and the GitHub
 * token github.manageWebhooks needs, with every problem in one RunError, so that one run shows them all. A single
 * problem outside the hookgate keys is given alone.
 */
function readConfiguration(): { config: StackConfig; region: string; githubToken?: pulumi.Input<string> } {
  const problems: string[] = [];
  const region = configuredRegion();
  const regionProblem = stackRegionProblem(region);
  if (regionProblem) problems.push(regionProblem);
  let config: StackConfig | undefined;
  let invalidKeys = false;
  // As read, even when another hookgate key is in error: its token is checked in the same run.
  let manageWebhooks: boolean;
  try {
    config = readStackConfig(regionProblem ? undefined : region);
    manageWebhooks = config.github.manageWebhooks;
  } catch (err) {
    if (!(err instanceof StackConfigError)) throw err;
    invalidKeys = true;
    problems.push(...err.problems);
    manageWebhooks = err.manageWebhooks;
  }
  const configuredToken = new pulumi.Config("github").getSecret("token");
  if (config) {
    const unusedToken = unusedGithubTokenWarning(manageWebhooks, configuredToken !== undefined);
    if (unusedToken) pulumi.log.warn(unusedToken);
  }
  // GITHUB_TOKEN, which the GitHub provider would read itself, is passed as a Pulumi secret: the provider
  // marks only a token given to it as secret, so its own fallback could reach the state in plain text.
  const envToken = process.env.GITHUB_TOKEN ? pulumi.secret(process.env.GITHUB_TOKEN) : undefined;
  const githubToken = manageWebhooks ? (configuredToken ?? envToken) : undefined;
  const tokenProblem = githubTokenProblem(manageWebhooks, githubToken !== undefined, process.env);
  if (tokenProblem) problems.push(tokenProblem);
  if (problems.length > 0 || !config || !region)
    throw new pulumi.RunError(configurationMessage(problems, invalidKeys));
  return { config, region, githubToken };
}

/**
 * The message of the stack configuration's problems. With a hookgate key among them, StackConfigError's (its header
 * and how to set a hookgate key); else a single problem alone, or several (aws:region, the GitHub token) under a
 * header that names no hookgate key: each says how to set its own.
 */
export function configurationMessage(problems: readonly string[], invalidKeys: boolean): string {
  if (invalidKeys) return new StackConfigError(problems).message;
  if (problems.length === 1) return problems[0] ?? "";
  return `invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}

/**
 * Everything index.ts does: read the stack config once, load routes.yaml, check the network, build. `code` is for
 * tests, which must not write the project's .hookgate/bundles (a `pulumi up` of the checkout ships what is there).
 */
export async function main(options: { code?: CodeProvider } = {}): Promise<StackOutputs> {
  const { config, region, githubToken } = readConfiguration();
  let loaded: ReturnType<typeof loadRoutesFile>;
  try {
    const path = routesPath(config);
    const found = statSync(path, { throwIfNoEntry: false });
    if (!found?.isFile()) {
      const where = isAbsolute(config.routesFile) ? "" : `, relative to ${REPO_ROOT}`;
      throw new pulumi.RunError(
        `${path}: ${found ? "not a file" : "routes file not found"}. hookgate:routesFile is ` +
          `"${config.routesFile}"${where}; point it at your routes file with \`pulumi config set hookgate:routesFile <path>\``,
      );
    }
    loaded = loadRoutesFile(path);
  } catch (err) {
    throw asRunError(err);
  }
  const { routes, githubApiUrl } = loaded;
  // The notes `hookgate check` prints (a route that can never match, a likely typo): warnings, never a
  // failure; after the mistakes that stop `pulumi up`, so a stopped run shows only its reason.
  for (const note of [...(loaded.notes ?? []), ...routeNotes(routes)])
    pulumi.log.warn(withoutInvisible(note));
  return buildStack({
    config,
    routes,
    stack: pulumi.getStack(),
    region,
    githubToken,
    githubApiUrl,
    ...(options.code === undefined ? {} : { code: options.code }),
  });
}
