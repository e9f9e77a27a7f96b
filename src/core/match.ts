// A route's filters, compiled once, deciding per event with a reason a person can read.
//
// Semantics (README.md, "Events, filters and templates"):
// - every list holds globs; a leading "!" excludes; absent means "any";
// - repos: repo.fullName, letters in either case;  actions: action;  actors: actor;  merged: pr.merged;
// - events: the event name, or "event.action" for an entry that holds a dot ("pull_request.closed");
// - branches / tags: an event must have a branch (tag) that matches. With both lists, either may match.
//   An event with neither (issues, ping) or of the other kind (a tag push for `branches`) does not match;
// - a push matches only when it changed a branch or a tag: not one whose payload lists no ref change
//   (Bitbucket's empty `changes`), nor one of another ref (refs/notes/commits, refs/pull/1/head);
// - paths: at least one changed file matches, or the payload does not list them all (a Bitbucket push lists
//   none); a push to a tag is not tested with `tags` (as in GitHub Actions), and never matches without;
// - deleted: a push that deleted its ref matches only with `deleted: true`; a delete event only with
//   `deleted: true` or `delete` listed in `events`. GitHub and Gitea send both for one deletion: a route with
//   `deleted: true` whose events let delete through (a gitea one without events too) takes it from the delete
//   event, not from the push; a github one without events from the push (takesDeletionsFromDeleteEvents);
// - a GitLab pipeline or job event matches only a route that lists pipeline (job) in `events`;
// - a Jenkins route with branches and no events, actions or merged takes a pull request only when it brings
//   new code (opened, synchronize, reopened, ready_for_review) and a merge queue group at checks_requested.
import { commitListTruncated, someChangedFile } from "./events/changedFiles";
import { PROVIDER_LABEL } from "./events/fields";
import { NEW_CODE_MERGE_GROUP_ACTION, NEW_CODE_PULL_REQUEST_ACTIONS } from "./events/pullRequestEvents";
import { compileGlobList, type GlobListOptions, globListLeads, globListLiterals } from "./globs";
import type { MatchDecision, Provider, Route, WebhookEvent } from "./types";

/** One filter of a route, compiled. */
interface Filter {
  /** Whether the event passes. */
  test: (event: Loose) => boolean;
  /** Why it does not: called only for an event that `test` refused, and only when the reason is read. */
  why: (event: Loose) => string;
}

// biome-ignore lint/suspicious/noExplicitAny: events are read defensively (the matcher never throws)
type Loose = any;

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function shown(patterns: readonly string[]): string {
  return `[${patterns.join(", ")}]`;
}

/** Glob lists whose entries each test one of two values: the event, or "event.action". */
function compileEvents(patterns: readonly string[]): (event: string, eventAction: string) => boolean {
  const plain: string[] = [];
  const dotted: string[] = [];
  for (const pattern of patterns) (pattern.includes(".") ? dotted : plain).push(pattern);
  const includesPlain = plain.filter((p) => !p.startsWith("!"));
  const includesDotted = dotted.filter((p) => !p.startsWith("!"));
  const excludesPlain = plain.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  const excludesDotted = dotted.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  const anyInclude = includesPlain.length + includesDotted.length > 0;
  const incPlain = includesPlain.length > 0 ? compileGlobList(includesPlain) : undefined;
  const incDotted = includesDotted.length > 0 ? compileGlobList(includesDotted) : undefined;
  const excPlain = excludesPlain.length > 0 ? compileGlobList(excludesPlain) : undefined;
  const excDotted = excludesDotted.length > 0 ? compileGlobList(excludesDotted) : undefined;
  return (event, eventAction) => {
    if (anyInclude && !(incPlain?.(event) || incDotted?.(eventAction))) return false;
    return !(excPlain?.(event) || excDotted?.(eventAction));
  };
}

/** GitLab's CI events: matched only by a route whose `events` name them. */
const CI_EVENTS = ["pipeline", "job"];

function failure(error: unknown): string {
  return `the event could not be matched: ${String(error)}`;
}

/**
 * A route's "no". Most decisions are a route saying no to an event meant for another, and nobody reads
 * their reasons, so the reason is written when first read. It is an enumerable property like the others
 * (and in JSON), but not an own one: spread a decision and the reason is left behind.
 */
class Rejection implements MatchDecision {
  route: string;
  matched = false;
  readonly #filter: Filter;
  readonly #event: unknown;
  #reason: string | undefined;

  constructor(route: string, filter: Filter, event: unknown) {
    this.route = route;
    this.#filter = filter;
    this.#event = event;
  }

  get reason(): string {
    if (this.#reason === undefined) {
      try {
        this.#reason = this.#filter.why(this.#event);
      } catch (error) {
        this.#reason = failure(error);
      }
    }
    return this.#reason;
  }

  set reason(reason: string) {
    this.#reason = reason;
  }

  toJSON(): MatchDecision {
    return { route: this.route, matched: this.matched, reason: this.reason };
  }
}
Object.defineProperty(Rejection.prototype, "reason", { enumerable: true });

/**
 * Compile a route's filters. The returned function is cheap (no allocation but the decision; a reason
 * only for a match, or when a rejection's reason is read) and never throws, whatever the event holds.
 * Filters run cheapest and most selective first: repository, event, action, ref, then changed files.
 */
/**
 * Whether a route's filters let tag pushes through: a `tags` filter, or neither `branches` nor `tags` (nor
 * `paths`, which takes a tag push only with `tags`).
 */
export function matchesTagPushes(match: Route["match"]): boolean {
  return match.tags !== undefined || (match.branches === undefined && match.paths === undefined);
}

/**
 * Whether a route builds pull requests into its branches without naming them: a Jenkins route with `branches`
 * and no `events`, `actions`, `merged` or `deleted: true` (which takes ref deletions only, so no pull request
 * whatever its events). The matcher then takes a pull request only at an action that brings code
 * (NEW_CODE_PULL_REQUEST_ACTIONS) and a merge queue group at checks_requested.
 */
export function buildsPullRequestsImplicitly(route: Pick<Route, "action" | "match">): boolean {
  const match = route.match ?? {};
  return (
    route.action?.type === "jenkins" &&
    match.branches !== undefined &&
    match.events === undefined &&
    match.actions === undefined &&
    match.merged === undefined &&
    match.deleted !== true
  );
}

/** Whether a route's `events` let pushes through (globs and exclusions read as the matcher reads them). */
export function matchesPushes(match: Route["match"]): boolean {
  return match.events === undefined || compileEvents(match.events)("push", "push");
}

/**
 * Providers that send a delete event of their own for a deleted branch or tag, besides (or instead of) the
 * push: GitHub sends both for each; Gitea and Forgejo both for a tag, `delete` alone for a branch (pushUpdates,
 * go-gitea services/repository/push.go); Gogs, served as gitea, `delete` alone.
 */
export const DELETE_EVENT_PROVIDERS: readonly Provider[] = ["github", "gitea"];

/**
 * Whether a route takes a deletion from its delete event rather than from the push that deleted the ref: it
 * takes deletions (`deleted: true`) on a DELETE_EVENT_PROVIDERS host and its `events` let a delete event
 * through. One deletion there sends two deliveries the route would take, each with its own delivery id: the
 * push is not matched, so the route runs once. Without `events`: on Gitea (and Forgejo, Gogs) too, as there a
 * deletion may come as a delete event alone (a branch's, Gogs' every one, a pull mirror's); on GitHub, which
 * sends a push with every deletion, the push stays the deletion (what a webhook set up for push sends) and the
 * delete event sent with it is not matched instead.
 */
export function takesDeletionsFromDeleteEvents(match: Route["match"], provider: Provider): boolean {
  if (match.deleted !== true || !DELETE_EVENT_PROVIDERS.includes(provider)) return false;
  if (match.events === undefined) return provider === "gitea";
  return compileEvents(match.events)("delete", "delete");
}

/** Whether a route's `events` let this event (with this action, when it has one) through. */
export function matchesEvent(match: Route["match"], event: string, action?: string): boolean {
  return (
    match.events === undefined ||
    compileEvents(match.events)(event, action === undefined ? event : `${event}.${action}`)
  );
}

/** Whether a route's `events` and `actions` let a pull_request delivery with this action through. */
export function takesPullRequestAction(match: Route["match"], action: string): boolean {
  if (match.events !== undefined && !compileEvents(match.events)("pull_request", `pull_request.${action}`)) {
    return false;
  }
  return match.actions === undefined || compileGlobList(match.actions)(action);
}

export function compileMatcher(route: Route): (event: WebhookEvent) => MatchDecision {
  const spec = route.match ?? {};
  const filters: Filter[] = [];

  if (spec.repos !== undefined) {
    const list = shown(spec.repos);
    filters.push({
      test: repoTest(spec.repos),
      why: (e) => `repo "${text(e?.repo?.fullName) ?? ""}" does not match ${list}`,
    });
  }

  if (spec.events !== undefined) {
    const test = compileEvents(spec.events);
    const list = shown(spec.events);
    const usesAction = spec.events.some((p) => p.includes("."));
    const eventOf = (e: Loose) => text(e?.event) ?? "";
    const eventActionOf = (e: Loose, event: string) => {
      const action = text(e?.action);
      return !usesAction || action === undefined ? event : `${event}.${action}`;
    };
    filters.push({
      test: usesAction
        ? (e) => {
            const event = eventOf(e);
            return test(event, eventActionOf(e, event));
          }
        : eventTest(spec.events),
      why: (e) => {
        const event = eventOf(e);
        return `event "${usesAction ? eventActionOf(e, event) : event}" is not one of ${list}`;
      },
    });
  }

  // GitLab's Pipeline Hook and Job Hook name the branch or tag they ran on and come at each status change
  // (pending, running, success, ...): a route acts on them only when its events name them, as written (a
  // glob such as "*" does not count), so that a route for pushes to main does not build at each one.
  const unlisted = CI_EVENTS.filter((name) => spec.events?.includes(name) !== true);
  if (unlisted.some((name) => spec.events === undefined || compileEvents(spec.events)(name, name))) {
    filters.push({
      test: (e) => !unlisted.includes(e?.event),
      why: (e) => {
        const event = text(e?.event) ?? "";
        return `a GitLab ${event} event comes at each status change of the ${event}; list ${event} in events to act on it`;
      },
    });
  }

  if (spec.actions !== undefined) {
    const test = compileGlobList(spec.actions);
    const list = shown(spec.actions);
    filters.push({
      test: (e) => {
        const action = text(e?.action);
        return action !== undefined && test(action);
      },
      why: (e) => {
        const action = text(e?.action);
        if (action === undefined) return `event "${text(e?.event) ?? ""}" has no action; actions: ${list}`;
        return `action "${action}" is not one of ${list}`;
      },
    });
  }

  // A push that moved no branch or tag (Bitbucket's empty list of changes: Cloud has sent push.changes [], and
  // Data Center's may list none; a ref such as refs/notes/commits) has no commit to build or zip: a route
  // without branches or tags must not run for it with an empty {{sha}}. With either, their filter refuses it.
  if (spec.branches === undefined && spec.tags === undefined) {
    filters.push({
      test: (e) => e?.event !== "push" || text(e?.branch) !== undefined || text(e?.tag) !== undefined,
      why: (e) => {
        const ref = text(e?.ref);
        return ref === undefined
          ? "the push changed no branch or tag"
          : `the push changed ref "${ref}", neither a branch nor a tag`;
      },
    });
  }

  if (spec.branches !== undefined || spec.tags !== undefined) {
    const branches = spec.branches === undefined ? undefined : compileGlobList(spec.branches);
    const tags = spec.tags === undefined ? undefined : compileGlobList(spec.tags);
    const branchList = spec.branches === undefined ? "" : shown(spec.branches);
    const tagList = spec.tags === undefined ? "" : shown(spec.tags);
    const wanted =
      branches && tags
        ? `branches: ${branchList}, tags: ${tagList}`
        : branches
          ? `branches: ${branchList}`
          : `tags: ${tagList}`;
    filters.push({
      test:
        spec.branches !== undefined && spec.tags === undefined
          ? branchTest(spec.branches)
          : (e) => {
              const branch = text(e?.branch);
              if (branch !== undefined) return branches?.(branch) === true;
              const tag = text(e?.tag);
              return tag !== undefined && tags?.(tag) === true;
            },
      why: (e) => {
        const branch = text(e?.branch);
        if (branch !== undefined) {
          if (branches === undefined) return `branch "${branch}" is not a tag; ${wanted}`;
          return `branch "${branch}" does not match ${branchList}`;
        }
        const tag = text(e?.tag);
        if (tag !== undefined) {
          if (tags === undefined) return `tag "${tag}" is not a branch; ${wanted}`;
          return `tag "${tag}" does not match ${tagList}`;
        }
        return `event "${text(e?.event) ?? ""}" has no branch or tag; ${wanted}`;
      },
    });
  }

  /** For a matched event: which changed file let it through the `paths` filter (a route's own part of the reason). */
  let pathsReason: (() => string) | undefined;
  if (spec.paths !== undefined) {
    const test = compileGlobList(spec.paths);
    const leads = globListLeads(spec.paths);
    const list = shown(spec.paths);
    // The file the filter's own scan stopped at, for the event it last tested: read for the reason right after.
    let hit: string | undefined;
    let tagPush = false;
    let bitbucketPush = false;
    const takesTags = spec.tags !== undefined;
    const found = (file: string) => {
      if (!test(file)) return false;
      hit = file;
      return true;
    };
    pathsReason = () =>
      tagPush
        ? ", a tag push (paths are not tested for tags)"
        : bitbucketPush
          ? ", files unknown (Bitbucket push payloads list no files)"
          : hit === undefined
            ? ", files not all known (the payload does not list every file the push changed)"
            : `, file ${hit.length > 200 ? `${hit.slice(0, 200)}…` : hit}`;
    filters.push({
      // A push to a tag lists no commits, so no tag push would match: for a route with tags it is not tested
      // (GitHub Actions: "Path filters are not evaluated for pushes to tags"); a route without tags takes none.
      // A push whose payload leaves some changed files unlisted cannot be ruled out: build rather than skip it
      // silently. A Bitbucket push lists none of them.
      test: (e) => {
        hit = undefined;
        tagPush = isTagPush(e);
        if (tagPush) return takesTags;
        bitbucketPush = isBitbucketPush(e);
        if (bitbucketPush) return true;
        return someChangedFile(e, found, leads) === "match" || commitListTruncated(e);
      },
      why: (e) => {
        if (isTagPush(e))
          return `no changed file matches ${list} (a tag push lists no changed files; add tags to take tag pushes)`;
        if (someChangedFile(e, ANY_FILE, undefined) !== "none") return `no changed file matches ${list}`;
        return `no changed file matches ${list} (the delivery lists no changed files)`;
      },
    });
  }

  // A pull request's (and a merge queue group's) branch is its base, so the branch filter alone would take every
  // label, assignment, edit or close of one into those branches: such a route builds new code only.
  if (buildsPullRequestsImplicitly(route)) {
    const at = NEW_CODE_PULL_REQUEST_ACTIONS.join(", ");
    const ask = "a route with branches and no events or actions builds pull requests";
    filters.push({
      test: (e) => {
        const event = e?.event;
        if (event === "pull_request") return NEW_CODE_PULL_REQUEST_ACTIONS.includes(e?.action);
        if (event === "merge_group") return e?.action === NEW_CODE_MERGE_GROUP_ACTION;
        // A review, a review comment, Data Center's pr:comment:added: about a pull request, no new code.
        return e?.pr === undefined || e?.pr === null;
      },
      why: (e) => {
        const event = text(e?.event) ?? "";
        const action = text(e?.action);
        const fix = "; list events (or actions) to take others";
        if (event === "merge_group")
          return `merge_group action "${action ?? ""}" is not ${NEW_CODE_MERGE_GROUP_ACTION}: ${ask} and merge queue groups at ${NEW_CODE_MERGE_GROUP_ACTION} only${fix}`;
        if (event === "pull_request")
          return `pull request action "${action ?? ""}" brings no new code: ${ask} at ${at} only${fix}`;
        return `event "${event}" is about a pull request and brings no new code: ${ask} at ${at} only${fix}`;
      },
    });
  }

  if (spec.actors !== undefined) {
    const test = compileGlobList(spec.actors);
    const list = shown(spec.actors);
    filters.push({
      // A delivery naming no actor (a Bitbucket Cloud app or workspace) passes a list of exclusions only, written to
      // skip a bot: a skipped build would go unnoticed, as for paths. A list naming who is included refuses it.
      test: (e) => test(text(e?.actor) ?? ""),
      why: (e) => {
        const actor = text(e?.actor);
        if (actor === undefined) return `the delivery names no actor; actors: ${list}`;
        return `actor "${actor}" does not match ${list}`;
      },
    });
  }

  if (spec.merged !== undefined) {
    const merged = spec.merged;
    const isPullRequest = (pr: unknown): boolean => pr !== null && typeof pr === "object";
    // Only the pull_request event itself: a review, a review comment or Data Center's pr:comment:added has
    // the pull request too, but (on GitHub) no merged field, and is no pull request opened or closed.
    const isPullRequestEvent = (e: Loose) => e?.event === "pull_request" && isPullRequest(e?.pr);
    filters.push({
      test: (e) => isPullRequestEvent(e) && (e?.pr?.merged === true) === merged,
      why: (e) => {
        const pr = e?.pr;
        if (!isPullRequestEvent(e))
          return `event "${text(e?.event) ?? ""}" is not pull_request; merged: ${merged}`;
        return `pull request is ${pr.merged === true ? "merged" : "not merged"}; merged: ${merged}`;
      },
    });
  }

  // A deletion (a push that deleted its ref, or GitHub's and Gitea's delete event) is not built or zipped
  // unless the route asks (RELIABILITY.md): with deleted: true, or, for a delete event, by listing delete
  // in its events (a route listing push asks for pushes, not for deletions).
  // One deletion on GitHub or Gitea sends a push and a delete event, under two delivery ids that dedupe cannot
  // tie together: a route that would take both takes the delete event only, so a teardown runs once.
  const deleted = spec.deleted;
  const listsDelete = spec.events?.includes("delete") === true;
  const fromDeleteEvent = takesDeletionsFromDeleteEvents(spec, route.provider);
  const pushBesideDeleteEvent = (e: Loose) =>
    fromDeleteEvent && e?.event === "push" && DELETE_EVENT_PROVIDERS.includes(e?.provider);
  // GitHub without events, the other way round: the push is the deletion, its delete event a second delivery.
  const deleteEventBesidePush = (e: Loose) =>
    deleted === true && spec.events === undefined && e?.provider === "github" && e?.event === "delete";
  const deletion = (e: Loose) => (e?.event === "push" ? "the push" : `the ${text(e?.event) ?? ""} event`);
  filters.push({
    test: (e) => {
      const isDeleted = e?.deleted === true;
      if (deleted === undefined) return !isDeleted || (listsDelete && e?.event === "delete");
      return isDeleted === deleted && !(isDeleted && (pushBesideDeleteEvent(e) || deleteEventBesidePush(e)));
    },
    why: (e) => {
      if (deleted === undefined) {
        const ask =
          e?.event === "delete"
            ? "set match.deleted: true or list delete in events"
            : "set match.deleted: true";
        return `${deletion(e)} deleted ${refLabel(e)}; ${ask} to act on deletions`;
      }
      if (e?.deleted !== true) return `the event deleted nothing; deleted: true`;
      if (deleted === false) return `${deletion(e)} deleted ${refLabel(e)}; deleted: false`;
      // Refused here only as pushBesideDeleteEvent (GitHub's or Gitea's) or deleteEventBesidePush (GitHub's).
      const host = e?.provider === "gitea" ? PROVIDER_LABEL.gitea : PROVIDER_LABEL.github;
      if (e?.event === "delete") {
        return (
          `the delete event deleted ${refLabel(e)}; without events the route takes ${host}'s deletions from ` +
          "the push sent with it, so that one deletion runs it once (list delete in events to take them from " +
          "delete events)"
        );
      }
      return (
        `the push deleted ${refLabel(e)}; the route takes deletions from ${host}'s delete event, which its ` +
        "events let through (the webhook must send it), so that one deletion runs it once"
      );
    },
  });

  const name = route.name;
  const count = filters.length;
  // The first filter (the repository, for most routes) refuses most events: it is called directly.
  const first = filters[0] as Filter;
  const firstTest = first.test;
  return (event) => {
    try {
      if (!firstTest(event)) return new Rejection(name, first, event);
      for (let i = 1; i < count; i++) {
        const filter = filters[i] as Filter;
        if (!filter.test(event)) return new Rejection(name, filter, event);
      }
      const reason = matchedReason(event);
      return { route: name, matched: true, reason: pathsReason ? reason + pathsReason() : reason };
    } catch (error) {
      return { route: name, matched: false, reason: failure(error) };
    }
  };
}

const ANY_FILE = () => true;

/** A push to a tag, which lists no changed files; not one that deleted the tag (paths match no deletion). */
function isTagPush(e: Loose): boolean {
  return e?.event === "push" && e?.deleted !== true && text(e?.tag) !== undefined;
}

/** A Bitbucket push that did not delete its ref (tested after isTagPush): its payload lists no files. */
function isBitbucketPush(e: Loose): boolean {
  const provider = e?.provider;
  return (
    (provider === "bitbucket" || provider === "bitbucket-server") &&
    e?.event === "push" &&
    e?.deleted !== true
  );
}

function refLabel(e: WebhookEvent): string {
  const branch = text((e as Loose)?.branch);
  if (branch !== undefined) return `branch "${branch}"`;
  const tag = text((e as Loose)?.tag);
  if (tag !== undefined) return `tag "${tag}"`;
  return `ref "${text((e as Loose)?.ref) ?? ""}"`;
}

// The matched reason depends on the event only: remember it for the last event, which is matched
// against every route in turn (events are not mutated once normalised).
let lastEvent: unknown;
let lastReason = "";

function matchedReason(e: WebhookEvent): string {
  if (e === lastEvent && typeof e === "object" && e !== null) return lastReason;
  lastReason = buildMatchedReason(e);
  lastEvent = e;
  return lastReason;
}

function buildMatchedReason(e: WebhookEvent): string {
  const event = e as Loose;
  let reason = `matched: repo ${text(event?.repo?.fullName) ?? ""}, event ${text(event?.event) ?? ""}`;
  const action = text(event?.action);
  if (action !== undefined) reason += `, action ${action}`;
  const branch = text(event?.branch);
  const tag = text(event?.tag);
  if (branch !== undefined) reason += `, branch ${branch}`;
  else if (tag !== undefined) reason += `, tag ${tag}`;
  return reason;
}

// The filters that refuse most events when many routes serve many repositories: the repository, the
// event (without "event.action" entries) and the branch (without tags). A list of one or two plain names
// is compared in place, without a call into a compiled glob list: each call, and each object it reaches,
// costs when 50 routes run one after another with little of them in the CPU's caches.

// Repositories are matched without case: every host refuses a second repository whose name differs from
// one's only in case (GitHub, GitLab's paths, Bitbucket's slugs and Data Center's project keys, Gitea's
// lower_name), so "acme/api" can only be the repository the host sends as "Acme/API".
const REPO_OPTIONS: GlobListOptions = { ignoreCase: true };

function repoTest(patterns: readonly string[]): (event: Loose) => boolean {
  const test = compileGlobList(patterns, REPO_OPTIONS);
  const literals = globListLiterals(patterns);
  // The name as written is compared in place; one of the same length may differ only in case.
  if (literals?.length === 1) {
    const only = literals[0] as string;
    return (e) => {
      const repo = e?.repo?.fullName;
      return repo === only || (typeof repo === "string" && repo.length === only.length && test(repo));
    };
  }
  if (literals?.length === 2) {
    const [first, second] = literals as [string, string];
    return (e) => {
      const repo = e?.repo?.fullName;
      if (repo === first || repo === second) return true;
      return (
        typeof repo === "string" &&
        (repo.length === first.length || repo.length === second.length) &&
        test(repo)
      );
    };
  }
  return (e) => test(text(e?.repo?.fullName) ?? "");
}

/** Plain entries only: the same answers as compileEvents (an empty name is tested as ""). */
function eventTest(patterns: readonly string[]): (event: Loose) => boolean {
  const literals = globListLiterals(patterns);
  if (literals?.length === 1) {
    const only = literals[0];
    return (e) => e?.event === only;
  }
  if (literals?.length === 2) {
    const [first, second] = literals;
    return (e) => {
      const event = e?.event;
      return event === first || event === second;
    };
  }
  const test = compileGlobList(patterns);
  return (e) => test(text(e?.event) ?? "");
}

/** A `branches` list without `tags`: an event without a branch is refused. */
function branchTest(patterns: readonly string[]): (event: Loose) => boolean {
  const literals = globListLiterals(patterns);
  if (literals?.length === 1) {
    const only = literals[0];
    return (e) => e?.branch === only;
  }
  if (literals?.length === 2) {
    const [first, second] = literals;
    return (e) => {
      const branch = e?.branch;
      return branch === first || branch === second;
    };
  }
  const test = compileGlobList(patterns);
  return (e) => {
    const branch = text(e?.branch);
    return branch !== undefined && test(branch);
  };
}

/** What a route does with a delivery that may carry several ref changes. */
export interface ChangesDecision {
  /** The changes to act on, in the push's order: each is acted on as a delivery of its own. */
  matched: WebhookEvent[];
  reason: string;
}

/**
 * The route's decision on each ref change of a delivery: the event itself, and its `otherChanges` when
 * a push changed several refs (Bitbucket), so that a route for the second ref does not miss it.
 */
export function decideChanges(
  match: (event: WebhookEvent) => MatchDecision,
  event: WebhookEvent,
): ChangesDecision {
  const first = match(event);
  const others = event.otherChanges ?? [];
  if (others.length === 0) return { matched: first.matched ? [event] : [], reason: first.reason };
  const decisions = [event, ...others].map((change, i) => ({
    change,
    decision: i === 0 ? first : match(change),
  }));
  const hits = decisions.filter((d) => d.decision.matched);
  if (hits.length === 0) {
    const n = others.length;
    return {
      matched: [],
      reason: `${first.reason}; nor did the push's ${n} other ref change${n === 1 ? "" : "s"}`,
    };
  }
  return { matched: hits.map((d) => d.change), reason: hits.map((d) => d.decision.reason).join("; ") };
}
