// What a person sets on the Git host for each route: derived from the route, never from secret values.
import { entry } from "../core/events/fields";
import { matchesTagPushes } from "../core/match";
import { KNOWN_PR_ACTIONS } from "../core/routes/notes";
import type { Provider, Route } from "../core/types";

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/** The events to subscribe, GitHub-style: the route's literal `match.events`, else what its action needs. */
export function subscribedEvents(route: Route): string[] {
  const included = (route.match.events ?? []).filter((e) => !e.startsWith("!"));
  if (included.length > 0) {
    // "pull_request.closed" is the event pull_request with an action: hosts subscribe to events only,
    // so a glob in the action part ("pull_request.merg*") still means pull_request.
    const events = included.map((e) => e.split(".")[0] as string);
    if (events.some((e) => GLOB_CHARS.test(e))) return ["*"];
    return [...new Set(events)].sort();
  }
  if ((route.match.events ?? []).length > 0) return ["*"]; // only exclusions: everything else
  // Without events, the filters decide which events can match: `merged` only a pull request passes (and
  // pr-cleanup acts on pull requests only); `actions` only an event with such an action, never a push.
  if (route.action.type === "pr-cleanup" || route.match.merged !== undefined) return ["pull_request"];
  if (route.match.actions !== undefined) return eventsOfActions(route.match.actions);
  return ["push"];
}

/**
 * Events other than pull_request whose actions a route may name, by action (GitHub's "Webhook events and
 * payloads"): release's, and package's and registry_package's published.
 */
const OTHER_EVENTS_OF_ACTION: Readonly<Record<string, readonly string[]>> = {
  published: ["package", "registry_package", "release"],
  unpublished: ["release"],
  prereleased: ["release"],
  released: ["release"],
};

/**
 * The events an `actions` filter lets through. A pull request's action names its event, pull_request, even
 * where another event has it too (issues.opened): the route is about pull requests, as it was before. Any
 * other action (known to the table above) names its events; a glob, or an action the table does not know,
 * subscribes every event rather than miss the one it is of.
 */
function eventsOfActions(actions: readonly string[]): string[] {
  const included = actions.filter((a) => !a.startsWith("!"));
  if (included.length === 0) return ["*"]; // only exclusions: any event with an action
  const events = new Set<string>();
  for (const action of included) {
    if (GLOB_CHARS.test(action)) return ["*"];
    if (KNOWN_PR_ACTIONS.includes(action)) events.add("pull_request");
    else if (Object.hasOwn(OTHER_EVENTS_OF_ACTION, action)) {
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
  issues: ["Issues events"],
  issue_comment: ["Comments"],
  // The events GitLab's other hooks become ("Note Hook" is note), as its webhook form labels them.
  note: ["Comments"],
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
/** Gitea keeps GitHub's names, but a pushed pull request (pull_request_sync) is an event of its own. */
const GITEA: Record<string, string[]> = {
  pull_request: ["pull_request", "pull_request_sync"],
};
const BITBUCKET_SERVER: Record<string, string[]> = {
  push: ["repo:refs_changed"],
  pull_request: ["pr:opened", "pr:from_ref_updated", "pr:merged", "pr:declined", "pr:deleted"],
};

/**
 * The same events in the Git host's own words, for its webhook settings page. `tagPushes`: the route
 * matches tag pushes, which GitLab sends as Tag Push Hook (hookgate's push with a tag), under their own
 * setting.
 */
export function hostEvents(provider: Provider, events: readonly string[], tagPushes = false): string[] {
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
  for (const e of events) for (const h of entry(table, e) ?? [e]) add(h);
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
  /** Secrets Manager name holding the webhook secret (absent for IP-allowlist-only routes). */
  secretName?: string;
  /** Repositories the route names exactly (no glob): where to add the webhook. */
  repositories: string[];
}

export function webhookSetup(route: Route, url: string): WebhookSetup {
  const events = subscribedEvents(route);
  return {
    url,
    provider: route.provider,
    contentType: "application/json",
    events,
    hostEvents: hostEvents(route.provider, events, matchesTagPushes(route.match)),
    ...(route.secret ? { secretName: route.secret } : {}),
    repositories: exactRepositories(route),
  };
}

/**
 * `match.repos` entries without a glob or exclusion: owner/name, each exactly one repository. GitHub's
 * names are case-insensitive, so Acme/API and acme/api are one repository (the first spelling is kept).
 */
export function exactRepositories(route: Route): string[] {
  const repos = route.match.repos ?? [];
  const byName = new Map<string, string>();
  for (const repo of repos) {
    if (GLOB_CHARS.test(repo) || !/^[^/\s]+\/[^/\s]+$/.test(repo)) continue;
    if (!byName.has(repo.toLowerCase())) byName.set(repo.toLowerCase(), repo);
  }
  return [...byName.values()].sort();
}

/** Splits owner/name. */
export function splitRepository(fullName: string): { owner: string; name: string } {
  const at = fullName.indexOf("/");
  return { owner: fullName.slice(0, at), name: fullName.slice(at + 1) };
}
