// What a person sets on the Git host for each route: derived from the route, never from secret values.
import { entry } from "../core/events/fields";
import { GITHUB_PULL_REQUEST_ACTIONS } from "../core/events/pullRequestEvents";
import { GLOB_SYNTAX } from "../core/globs";
import {
  buildsPullRequestsImplicitly,
  matchesTagPushes,
  takesDeletionsFromDeleteEvents,
} from "../core/match";
import { shownSecretName } from "../core/routes/checks";
import { KNOWN_PR_ACTIONS } from "../core/routes/notes";
import type { Provider, Route } from "../core/types";

/** The events to subscribe, GitHub-style: the route's literal `match.events`, else what its action needs. */
export function subscribedEvents(route: Route): string[] {
  const included = (route.match.events ?? []).filter((e) => !e.startsWith("!"));
  if (included.length > 0) {
    // "pull_request.closed" is the event pull_request with an action: hosts subscribe to events only,
    // so a glob in the action part ("pull_request.merg*") still means pull_request.
    const events = included.map((e) => e.split(".")[0] as string);
    if (events.some((e) => GLOB_SYNTAX.test(e))) return ["*"];
    // Such a route takes no push on GitHub or Gitea (a deletion's push is taken from its delete event).
    const pushes = !takesDeletionsFromDeleteEvents(route.match, route.provider);
    return [...new Set(events.filter((e) => pushes || e !== "push"))].sort();
  }
  if ((route.match.events ?? []).length > 0) return ["*"]; // only exclusions: everything else
  // Without events, the filters decide which events can match: `merged` only pull_request passes (as
  // pr-cleanup acts on pull_request only), whatever its actions; `actions` only an event with such an action,
  // never a push.
  if (route.action.type === "pr-cleanup" || route.match.merged !== undefined) return ["pull_request"];
  if (route.match.actions !== undefined) return eventsOfActions(route.provider, route.match.actions);
  if (takesPullRequestsIntoBranches(route)) {
    return route.provider === "github" ? ["merge_group", "pull_request", "push"] : ["pull_request", "push"];
  }
  // deleted: true without events takes Gitea's deletions from their delete events, not the push.
  if (takesDeletionsFromDeleteEvents(route.match, route.provider)) return ["delete"];
  return ["push"];
}

/**
 * A Jenkins route with `branches` and no `events` builds more than pushes: the matcher takes an event by its
 * branch, and a pull request's branch is its base, as is a merge queue group's (GitHub's merge_group), so the
 * webhook sends them too, as `hookgate serve` builds them and `hookgate check`'s note says; the matcher takes
 * them at new code only (buildsPullRequestsImplicitly), and hostEvents then ticks only what sends new code.
 * Not with `paths` (neither lists changed files) or `deleted: true` (neither deletes a ref); s3-zip skips all
 * but pushes. A review or a branch's creation has a branch too, and is left out: not what such a route is for.
 */
function takesPullRequestsIntoBranches(route: Route): boolean {
  const { match } = route;
  // deleted: true is buildsPullRequestsImplicitly's own, so the matcher and the webhook cannot disagree on it.
  return buildsPullRequestsImplicitly(route) && match.paths === undefined;
}

/**
 * GitHub's events other than pull_request whose actions a route may name, by action, where every event with
 * that action is known (GitHub's "Webhook events and payloads"): release's, and published, which package,
 * registry_package and repository_advisory have too.
 */
const OTHER_EVENTS_OF_ACTION: Readonly<Record<string, readonly string[]>> = {
  published: ["package", "registry_package", "release", "repository_advisory"],
  unpublished: ["release"],
  prereleased: ["release"],
  released: ["release"],
};

/**
 * The events an `actions` filter lets through. A pull request's action names its event, pull_request, even
 * where another event has it too (issues.opened): the route is about pull requests, as it was before. On
 * GitHub that is an action of GitHub's pull_request (not another host's renamed one: deleted is release's,
 * issue_comment's, ...); elsewhere one a pull request has after renaming. Any other action (known to the table
 * above) names its events; a glob, or an action the table does not know, subscribes every event rather than
 * miss the one it is of.
 */
function eventsOfActions(provider: Provider, actions: readonly string[]): string[] {
  const included = actions.filter((a) => !a.startsWith("!"));
  if (included.length === 0) return ["*"]; // only exclusions: any event with an action
  const pullRequestActions = provider === "github" ? GITHUB_PULL_REQUEST_ACTIONS : KNOWN_PR_ACTIONS;
  const events = new Set<string>();
  for (const action of included) {
    if (GLOB_SYNTAX.test(action)) return ["*"];
    if (pullRequestActions.includes(action)) events.add("pull_request");
    // The table is GitHub's events: another host's release or package actions are not known here.
    else if (provider === "github" && Object.hasOwn(OTHER_EVENTS_OF_ACTION, action)) {
      for (const e of OTHER_EVENTS_OF_ACTION[action] ?? []) events.add(e);
    } else return ["*"];
  }
  return [...events].sort();
}

const GITLAB: Record<string, string[]> = {
  push: ["Push events"],
  create: ["Tag push events"],
  delete: ["Push events", "Tag push events"],
  pull_request: ["Merge request events"],
  release: ["Releases events"],
  // A confidential issue is sent only under its own setting (confidential_issues_events), and its
  // Confidential Issue Hook becomes issues too: without it, the route never sees confidential issues.
  issues: ["Issues events", "Confidential issues events"],
  issue_comment: ["Comments"],
  // The events GitLab's other hooks become ("Note Hook" is note), as its webhook form labels them.
  // "Confidential Note Hook" is confidential_note, not note: its setting goes with that event only.
  note: ["Comments"],
  confidential_note: ["Confidential comments"],
  pipeline: ["Pipeline events"],
  job: ["Job events"],
  wiki_page: ["Wiki page events"],
  deployment: ["Deployment events"],
  feature_flag: ["Feature flag events"],
  emoji: ["Emoji events"],
  milestone: ["Milestone events"],
  resource_access_token: ["Project or group access token events"],
};
const BITBUCKET: Record<string, string[]> = {
  push: ["repo:push"],
  pull_request: [
    "pullrequest:created",
    "pullrequest:updated",
    "pullrequest:fulfilled",
    "pullrequest:rejected",
  ],
};
/**
 * Gitea's webhook settings (its form's checkboxes and API event names: go-gitea/gitea
 * templates/repo/settings/webhook/settings.tmpl, routers/api/v1/utils/hook.go) by the event (X-Gitea-Event)
 * their deliveries arrive as (HookEventType.Event() in modules/webhook/type.go): a pull request's assign,
 * label, milestone, review request and push each have a setting of their own but arrive as pull_request, and
 * so do an issue's; a comment on a pull request (pull_request_comment) arrives as issue_comment. One setting,
 * pull_request_review, sends all three review events; there is no setting per review type.
 */
const GITEA: Record<string, string[]> = {
  pull_request: [
    "pull_request",
    "pull_request_assign",
    "pull_request_label",
    "pull_request_milestone",
    "pull_request_review_request",
    "pull_request_sync",
  ],
  issues: ["issues", "issue_assign", "issue_label", "issue_milestone"],
  issue_comment: ["issue_comment", "pull_request_comment"],
  pull_request_approved: ["pull_request_review"],
  pull_request_rejected: ["pull_request_review"],
  pull_request_comment: ["pull_request_review"],
};

/** GitHub's events a host has no webhook setting for (a route's events on that host match nothing of them). */
const GITHUB_ONLY = [
  "registry_package",
  "repository_advisory",
  "pull_request_review",
  "pull_request_review_thread",
];
const NOT_ON_HOST: Readonly<Record<string, readonly string[]>> = {
  gitlab: [...GITHUB_ONLY, "package", "pull_request_review_comment"],
  bitbucket: [...GITHUB_ONLY, "package", "pull_request_review_comment", "release"],
  "bitbucket-server": [...GITHUB_ONLY, "package", "pull_request_review_comment", "release"],
  // Gitea has package and release events, and a pull_request_review_comment type of its own.
  gitea: GITHUB_ONLY,
};
const BITBUCKET_SERVER: Record<string, string[]> = {
  push: ["repo:refs_changed"],
  pull_request: ["pr:opened", "pr:from_ref_updated", "pr:modified", "pr:merged", "pr:declined", "pr:deleted"],
};

/**
 * The pull request settings that send what a route building pull requests at new code takes (opened,
 * synchronize, reopened, ready_for_review): Bitbucket's created and updated, Data Center's opened and
 * from_ref_updated, Gitea's pull_request (opened, reopened) and pull_request_sync. GitLab has one setting for
 * every merge request event, and GitHub one per event: theirs are not narrowed.
 */
const NEW_CODE_PULL_REQUESTS: Partial<Record<Provider, string[]>> = {
  bitbucket: ["pullrequest:created", "pullrequest:updated"],
  "bitbucket-server": ["pr:opened", "pr:from_ref_updated"],
  gitea: ["pull_request", "pull_request_sync"],
};

/**
 * The same events in the Git host's own words, for its webhook settings page. `tagPushes`: the route
 * matches tag pushes, which GitLab sends as Tag Push Hook (hookgate's push with a tag), under their own
 * setting. `newCodePullRequests`: the route takes pull requests only when they bring new code (a Jenkins route
 * with branches and no events), so only the settings that send those are ticked.
 */
export function hostEvents(
  provider: Provider,
  events: readonly string[],
  tagPushes = false,
  newCodePullRequests = false,
): string[] {
  const table =
    provider === "gitlab"
      ? GITLAB
      : provider === "bitbucket"
        ? BITBUCKET
        : provider === "bitbucket-server"
          ? BITBUCKET_SERVER
          : provider === "gitea"
            ? GITEA
            : undefined;
  if (!table) return [...events];
  if (events.includes("*")) return ["all events"];
  const out: string[] = [];
  const add = (h: string) => {
    if (!out.includes(h)) out.push(h);
  };
  const absent = entry(NOT_ON_HOST, provider) ?? [];
  const newCode = newCodePullRequests ? NEW_CODE_PULL_REQUESTS[provider] : undefined;
  for (const e of events) {
    if (absent.includes(e)) continue; // the host has no such event: nothing to tick
    const settings = e === "pull_request" && newCode !== undefined ? newCode : entry(table, e);
    for (const h of settings ?? [e]) add(h);
  }
  if (provider === "gitlab" && tagPushes && events.includes("push")) add("Tag push events");
  return out;
}

export interface WebhookSetup {
  url: string;
  provider: Provider;
  contentType: "application/json";
  /** GitHub-style names (what `match.events` uses). */
  events: string[];
  /** The same events as the Git host names them. */
  hostEvents: string[];
  /**
   * Secrets Manager name holding the webhook secret (absent for IP-allowlist-only routes); RANDOM_SECRET_NAME for a
   * name that looks like a secret value: stack outputs are shown and shared, and it may be one pasted.
   */
  secretName?: string;
  /** Repositories the route names exactly (no glob): where to add the webhook. */
  repositories: string[];
}

/** `secretNamePrefix`: the stack's, in front of the route's secret name (shownSecretName judges it without). */
export function webhookSetup(route: Route, url: string, secretNamePrefix = ""): WebhookSetup {
  const events = subscribedEvents(route);
  return {
    url,
    provider: route.provider,
    contentType: "application/json",
    events,
    hostEvents: hostEvents(
      route.provider,
      events,
      matchesTagPushes(route.match),
      takesPullRequestsIntoBranches(route),
    ),
    ...(route.secret ? { secretName: shownSecretName(route.secret, false, secretNamePrefix) } : {}),
    repositories: exactRepositories(route),
  };
}

/**
 * `match.repos` entries without a glob or exclusion: owner/name, each exactly one repository; on GitLab the
 * owner is the whole namespace, subgroups included (platform/backend/api). Other hosts have no nested owners,
 * so a name with more "/" there is no repository. Every host's names are case-insensitive, so Acme/API and
 * acme/api are one repository (the first spelling is kept).
 */
export function exactRepositories(route: Route): string[] {
  const repos = route.match.repos ?? [];
  const fullName = route.provider === "gitlab" ? /^[^/\s]+(\/[^/\s]+)+$/ : /^[^/\s]+\/[^/\s]+$/;
  const byName = new Map<string, string>();
  for (const repo of repos) {
    if (GLOB_SYNTAX.test(repo) || !fullName.test(repo)) continue;
    if (!byName.has(repo.toLowerCase())) byName.set(repo.toLowerCase(), repo);
  }
  return [...byName.values()].sort();
}

/** Splits owner/name. */
export function splitRepository(fullName: string): { owner: string; name: string } {
  const at = fullName.indexOf("/");
  return { owner: fullName.slice(0, at), name: fullName.slice(at + 1) };
}

/** A webhook the stack would create: one per GitHub route and repository it names exactly. */
export interface PlannedWebhook {
  route: string;
  repository: string;
  events: readonly string[];
}

/** The webhooks github.manageWebhooks creates for these routes: GitHub routes' exactly named repositories. */
export function plannedWebhooks(routes: readonly Route[]): PlannedWebhook[] {
  return routes
    .filter((route) => route.provider === "github")
    .flatMap((route) =>
      exactRepositories(route).map((repository) => ({
        route: route.name,
        repository,
        events: subscribedEvents(route),
      })),
    );
}

/**
 * Why GITHUB_ORGANIZATION or GITHUB_OWNER in the environment of `pulumi up` would put managed webhooks on other
 * repositories than routes.yaml names. terraform-provider-github lets either (GITHUB_ORGANIZATION first) override
 * the owner each provider is given ("backwards compatibility" in its github/provider.go), and a webhook names
 * its repository without an owner: other/tool's would be created on $GITHUB_OWNER/tool, or fail. Refused when
 * the owner the provider would take is not every managed webhook's (GitHub's owner names ignore case).
 */
export function githubOwnerEnvironmentProblem(
  hooks: readonly PlannedWebhook[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  // The provider's own test: a variable set to "" counts as unset.
  const variable = env.GITHUB_ORGANIZATION
    ? "GITHUB_ORGANIZATION"
    : env.GITHUB_OWNER
      ? "GITHUB_OWNER"
      : undefined;
  if (variable === undefined) return undefined;
  const owner = env[variable] as string;
  const elsewhere = new Map<string, string>();
  for (const { repository } of hooks) {
    if (splitRepository(repository).owner.toLowerCase() === owner.toLowerCase()) continue;
    if (!elsewhere.has(repository.toLowerCase())) elsewhere.set(repository.toLowerCase(), repository);
  }
  if (elsewhere.size === 0) return undefined;
  const named = [...elsewhere.values()].sort();
  const shown =
    named.length > 5 ? `${named.slice(0, 5).join(", ")} and ${named.length - 5} more` : named.join(", ");
  return (
    `${variable} is set to ${JSON.stringify(owner.slice(0, 100))} in the environment of pulumi up, and the GitHub ` +
    "provider takes it as the owner of every managed webhook's repository in place of the owner routes.yaml " +
    `names: the webhooks of ${shown} would be created on that owner's repository of the same name, or fail. ` +
    `Unset it (unset ${variable}) and run pulumi up again`
  );
}

/**
 * The warning for managed webhooks on repositories of several owners. One token (github:token, else GITHUB_TOKEN)
 * creates them all, and a fine-grained token reaches the repositories of one owner only ("Each token can only
 * access resources owned by a single user or organization", docs.github.com "Managing your personal access
 * tokens"): the other owners' webhooks would fail at the end of `pulumi up`, after everything else exists.
 */
export function tokenOwnersWarning(hooks: readonly PlannedWebhook[]): string | undefined {
  const owners = new Map<string, string>();
  for (const { repository } of hooks) {
    const { owner } = splitRepository(repository);
    if (!owners.has(owner.toLowerCase())) owners.set(owner.toLowerCase(), owner);
  }
  if (owners.size < 2) return undefined;
  const named = [...owners.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return (
    `managed webhooks on repositories of ${named.length} owners (${named.join(", ")}) are all created with the ` +
    "one GitHub token (github:token, else GITHUB_TOKEN), and a fine-grained token reaches one owner's " +
    "repositories only: GitHub would refuse the other owners' webhooks at the end of pulumi up. Use a classic " +
    "token with admin:repo_hook (its user an admin of every one of those repositories), or one stack per owner, " +
    "each with a fine-grained token for that owner"
  );
}

/**
 * How many webhooks GitHub takes per event on one repository: 20 on github.com, 250 on GitHub Enterprise
 * Server (docs.github.com, "Types of webhooks"; GitHub answers the next one 422 `The "push" event cannot have
 * more than 20 hooks`). GHE.com (GitHub Enterprise Cloud with data residency, api.<name>.ghe.com) is GitHub's
 * cloud, as githubProviderBaseUrl treats it: 20.
 */
export function webhooksPerEventLimit(apiUrl: string | undefined): number {
  if (apiUrl === undefined) return 20;
  try {
    const host = new URL(apiUrl).hostname.toLowerCase();
    return host === "api.github.com" || /^api\.[^.]+\.ghe\.com$/.test(host) ? 20 : 250;
  } catch {
    return 250;
  }
}

/**
 * One message per repository with an event more webhooks subscribe than `limit`, naming the event and the
 * routes. A webhook on every event ("*") counts for each event, and for any event when it is alone.
 */
export function webhookLimitProblems(hooks: readonly PlannedWebhook[], limit: number): string[] {
  const byRepository = new Map<string, PlannedWebhook[]>();
  for (const hook of hooks) {
    const key = hook.repository.toLowerCase();
    byRepository.set(key, [...(byRepository.get(key) ?? []), hook]);
  }
  const problems: string[] = [];
  for (const repoHooks of byRepository.values()) {
    const everything = repoHooks.filter((h) => h.events.includes("*"));
    const events = [...new Set(repoHooks.flatMap((h) => h.events.filter((e) => e !== "*")))].sort();
    // The event with the most webhooks: each named one with the "*" ones, or "*" alone when none is named.
    let worst: { event: string; routes: string[] } | undefined;
    for (const event of events.length > 0 ? events : ["*"]) {
      const routes = repoHooks
        .filter((h) => h.events.includes("*") || h.events.includes(event))
        .map((h) => h.route);
      if (!worst || routes.length > worst.routes.length) worst = { event, routes };
    }
    if (!worst || worst.routes.length <= limit) continue;
    const repository = (repoHooks[0] as PlannedWebhook).repository;
    const event = worst.event === "*" ? "every event" : `the ${worst.event} event`;
    problems.push(
      `${worst.routes.length} managed webhooks on ${repository} subscribe to ${event}` +
        `${everything.length > 0 && worst.event !== "*" ? ` (${everything.length} of them to every event)` : ""}, ` +
        `and GitHub takes at most ${limit} per event on a repository (it refuses the next one in the middle of ` +
        `pulumi up): routes ${worst.routes.join(", ")}. Give that repository fewer routes, or set some of them ` +
        "up by hand as organization webhooks, which GitHub counts apart (the stack creates repository webhooks only)",
    );
  }
  return problems;
}
