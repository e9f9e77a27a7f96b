// Optional (github.manageWebhooks): the stack owns the GitHub webhooks. Per webhook secret name, a generated
// secret stored in Secrets Manager; per route and exactly named repository, a repository webhook.
// Resources are keyed by secret name and by route + repository, so editing routes.yaml and running
// `pulumi up` adds and removes exactly the webhooks that changed. GitHub's owner and repository names are
// case-insensitive, so those keys are too: Acme/API and acme/api are one webhook (see caseFreeName).
import * as aws from "@pulumi/aws";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  looksRandomBehindPrefix,
  RANDOM_SECRET_NAME,
  shownSecretName,
  withoutSecretNamePrefix,
} from "../core/routes/checks";
import type { Route } from "../core/types";
import { shortHash } from "./naming";
import {
  exactRepositories,
  plannedWebhooks,
  splitRepository,
  subscribedEvents,
  tokenOwnersWarning,
} from "./webhookSetup";

export interface ManagedWebhookRoute {
  route: Route;
  url: pulumi.Input<string>;
}

export interface WebhooksArgs {
  routes: ManagedWebhookRoute[];
  /** The GitHub token (config `github:token`), a Pulumi secret. */
  token?: pulumi.Input<string>;
  /** GitHub Enterprise Server's API (https://HOST/api/v3); github.com when absent. */
  apiUrl?: string;
  /** hookgate:secretNamePrefix, already in the routes' secret names. */
  secretNamePrefix?: string;
  /**
   * What the functions need before they can answer GitHub's ping, sent as a webhook is created: the VPC's
   * interface endpoints (Secrets Manager, SQS), without which the ping would fail on a first deploy.
   */
  answerableAfter?: pulumi.Resource[];
}

/**
 * A generated webhook secret's name as `pulumi up`'s output shows it: one that looks like a pasted value is not
 * written (shownSecretName), but where to find it is.
 */
function storedAs(secretName: string, prefix: string): string {
  const shown = shownSecretName(secretName, true, prefix);
  if (shown !== RANDOM_SECRET_NAME) return shown;
  return `the route's secret in routes.yaml${prefix ? ` behind "${prefix}"` : ""} ${RANDOM_SECRET_NAME}`;
}

/** Logical names may not hold "/" cleanly; keep them readable and unique. */
export function logicalPart(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9-]/g, "-").toLowerCase();
  return clean === text ? clean : `${clean}-${shortHash(text, 6)}`;
}

/**
 * The logical part of a generated secret's resources, from its name as routes.yaml writes it (without the
 * stack's secretNamePrefix, so that setting one moves the secret and keeps its value). A name that looks like a
 * pasted secret value (shownSecretName hides it everywhere else) would sit, lower-cased, in URNs that every
 * `pulumi up` and `preview` prints, its 6-hex suffix enough to find the capitals back: such a name gets a hash
 * alone, and `previous` is the part a stack deployed before had, for an alias (a new URN without one would mean
 * a new RandomPassword: a new value, and failed deliveries until the webhooks had it).
 */
export function secretLogicalPart(secretName: string, prefix: string): { id: string; previous?: string } {
  const written = withoutSecretNamePrefix(secretName, prefix);
  if (!looksRandomBehindPrefix(secretName, prefix)) return { id: logicalPart(written) };
  return { id: `secret-${shortHash(written, 16)}`, previous: logicalPart(written) };
}

/**
 * The logical name of a per-owner or per-repository resource: `prefix` and the lower-cased name, so that
 * spelling the same owner or repository otherwise in routes.yaml keeps the resource's URN (a new URN would be
 * created before the old one is deleted, and GitHub refuses a second webhook with the same URL: 422 "Hook
 * already exists on this repository"). Until then the name held the spelling of routes.yaml: a stack
 * deployed with another spelling finds its resource through the alias to that name.
 */
export function caseFreeName(prefix: string, text: string): { name: string; aliases: pulumi.Alias[] } {
  const name = `${prefix}-${logicalPart(text.toLowerCase())}`;
  const spelled = `${prefix}-${logicalPart(text)}`;
  return { name, aliases: spelled === name ? [] : [{ name: spelled }] };
}

export class Webhooks extends pulumi.ComponentResource {
  /** "route owner/name" of every webhook this stack manages. */
  public readonly managed: string[] = [];
  /** Secret names this stack created. */
  public readonly secretNames: string[] = [];

  constructor(name: string, args: WebhooksArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Webhooks", name, {}, opts);
    const githubRoutes = args.routes.filter((r) => r.route.provider === "github");
    const severalOwners = tokenOwnersWarning(plannedWebhooks(githubRoutes.map((r) => r.route)));
    if (severalOwners) pulumi.log.warn(severalOwners, this);
    const secretValues = new Map<string, pulumi.Output<string>>();
    const secretVersions = new Map<string, aws.secretsmanager.SecretVersion>();
    for (const { route } of githubRoutes) {
      const secretName = route.secret;
      if (!secretName || secretValues.has(secretName)) continue;
      // Keyed by the name routes.yaml gives: setting a prefix later moves the secret, and keeps its value
      // (the same RandomPassword), so the webhooks need no new secret and no delivery fails meanwhile.
      const { id, previous } = secretLogicalPart(secretName, args.secretNamePrefix ?? "");
      // The name a deployed stack has the resource under, when it had another: the engine moves it there.
      const movedFrom = (suffix: string): pulumi.CustomResourceOptions =>
        previous === undefined ? {} : { aliases: [{ name: `${name}-${previous}${suffix}` }] };
      const password = new random.RandomPassword(
        `${name}-${id}-value`,
        { length: 48, special: false },
        { parent: this, ...movedFrom("-value") },
      );
      const secret = new aws.secretsmanager.Secret(
        `${name}-${id}`,
        {
          name: secretName,
          description: "hookgate webhook secret (generated and managed by the stack)",
          // Destroy and re-create under the same name must work: no recovery window for a generated value.
          recoveryWindowInDays: 0,
        },
        { parent: this, ...movedFrom("") },
      );
      const version = new aws.secretsmanager.SecretVersion(
        `${name}-${id}-version`,
        { secretId: secret.id, secretString: password.result },
        { parent: this, ...movedFrom("-version") },
      );
      secretVersions.set(secretName, version);
      secretValues.set(secretName, password.result);
      this.secretNames.push(secretName);
    }

    // One provider per owner, whatever its spelling: the first routes.yaml gives is its owner (GitHub takes
    // any); a later edit of that spelling is an update of the provider, which replaces none of its webhooks.
    const providers = new Map<string, github.Provider>();
    const providerFor = (owner: string): github.Provider => {
      let provider = providers.get(owner.toLowerCase());
      if (!provider) {
        const key = caseFreeName(`${name}-github`, owner);
        provider = new github.Provider(
          key.name,
          {
            owner,
            ...(args.token ? { token: args.token } : {}),
            // Always given: without it, @pulumi/github takes GITHUB_BASE_URL from the environment of
            // `pulumi up`, and a github.com stack's webhooks would go to that host.
            baseUrl: githubProviderBaseUrl(args.apiUrl ?? GITHUB_COM_API),
          },
          { parent: this, ...(key.aliases.length > 0 ? { aliases: key.aliases } : {}) },
        );
        providers.set(owner.toLowerCase(), provider);
      }
      return provider;
    };

    for (const { route, url } of githubRoutes) {
      const secret = route.secret ? secretValues.get(route.secret) : undefined;
      // GitHub pings a webhook as soon as it exists: the secret the function reads must be stored by then.
      const version = route.secret ? secretVersions.get(route.secret) : undefined;
      const repositories = exactRepositories(route);
      const named = route.match.repos ?? [];
      const unhooked = named.filter((r) => !repositories.some((x) => x.toLowerCase() === r.toLowerCase()));
      if (named.length === 0 || unhooked.length > 0) {
        const what = named.length === 0 ? "any repository (it names none)" : unhooked.join(", ");
        pulumi.log.warn(
          `route ${route.name}: no webhook is created for ${what}; add an organization or repository webhook ` +
            `by hand${route.secret ? `, with the secret stored in Secrets Manager as ${storedAs(route.secret, args.secretNamePrefix ?? "")}` : ""}`,
          this,
        );
      }
      for (const fullName of repositories) {
        const { owner, name: repository } = splitRepository(fullName);
        const key = caseFreeName(`${name}-${route.name}`, fullName);
        new github.RepositoryWebhook(
          key.name,
          {
            repository,
            active: true,
            events: subscribedEvents(route),
            configuration: {
              url,
              contentType: "json",
              insecureSsl: false,
              ...(secret ? { secret: pulumi.secret(secret) } : {}),
            },
          },
          {
            parent: this,
            provider: providerFor(owner),
            dependsOn: [...(version ? [version] : []), ...(args.answerableAfter ?? [])],
            ...(key.aliases.length > 0 ? { aliases: key.aliases } : {}),
            // The provider replaces a webhook whose repository changes (ForceNew), creating the new one first,
            // which GitHub would refuse (422). The URN holds owner/name without case, so under one URN this
            // input changes only in spelling, which GitHub ignores: the webhook keeps the one it was created with.
            ignoreChanges: ["repository"],
          },
        );
        this.managed.push(`${route.name} ${fullName}`);
      }
    }
    this.registerOutputs({ managed: this.managed, secretNames: this.secretNames });
  }
}

/** github.com's API: the provider's baseUrl when routes.yaml gives no providers.github.apiUrl. */
export const GITHUB_COM_API = "https://api.github.com/";

/**
 * The GitHub provider's baseUrl for the API URL routes.yaml gives. The provider adds "api/v3/" itself to
 * any URL other than https://api.github.com/ (and GHE.com's api.<name>.ghe.com), so GitHub Enterprise
 * Server's https://HOST/api/v3 becomes https://HOST/; it must end with a slash (terraform-provider-github,
 * Config.NewRESTClient).
 */
export function githubProviderBaseUrl(apiUrl: string): string {
  return `${apiUrl.replace(/\/+$/, "").replace(/\/api\/v3$/i, "")}/`;
}
