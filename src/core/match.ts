// A route's filters, compiled once, deciding per event with a reason a person can read.
//
// Semantics (README.md, "Events, filters and templates"):
// - every list holds globs; a leading "!" excludes; absent means "any";
// - repos: repo.fullName;  actions: action;  actors: actor;  merged: pr.merged;
// - events: the event name, or "event.action" for an entry that holds a dot ("pull_request.closed");
// - branches / tags: an event must have a branch (tag) that matches. With both lists, either may match.
//   An event with neither (issues, ping) or of the other kind (a tag push for `branches`) does not match;
// - paths: at least one changed file matches;
// - deleted: a push that deleted its ref matches only with `deleted: true`.
import { someChangedFile } from "./events/changedFiles";
import { compileGlobList, globListLeads } from "./globs";
import type { MatchDecision, Route, WebhookEvent } from "./types";

type Check = (event: WebhookEvent) => string | undefined;

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

/**
 * Compile a route's filters. The returned function is cheap (no allocation but the decision and,
 * for a miss, its reason) and never throws, whatever the event holds.
 */
export function compileMatcher(route: Route): (event: WebhookEvent) => MatchDecision {
  const spec = route.match ?? {};
  const checks: Check[] = [];

  if (spec.repos !== undefined) {
    const test = compileGlobList(spec.repos);
    const list = shown(spec.repos);
    checks.push((e) => {
      const repo = text((e as Loose)?.repo?.fullName) ?? "";
      return test(repo) ? undefined : `repo "${repo}" does not match ${list}`;
    });
  }

  if (spec.events !== undefined) {
    const test = compileEvents(spec.events);
    const list = shown(spec.events);
    const usesAction = spec.events.some((p) => p.includes("."));
    checks.push((e) => {
      const event = text((e as Loose)?.event) ?? "";
      const action = text((e as Loose)?.action);
      const eventAction = !usesAction || action === undefined ? event : `${event}.${action}`;
      if (test(event, eventAction)) return undefined;
      return `event "${usesAction ? eventAction : event}" is not one of ${list}`;
    });
  }

  if (spec.actions !== undefined) {
    const test = compileGlobList(spec.actions);
    const list = shown(spec.actions);
    checks.push((e) => {
      const action = text((e as Loose)?.action);
      if (action === undefined)
        return `event "${text((e as Loose)?.event) ?? ""}" has no action; actions: ${list}`;
      return test(action) ? undefined : `action "${action}" is not one of ${list}`;
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
    checks.push((e) => {
      const branch = text((e as Loose)?.branch);
      const tag = text((e as Loose)?.tag);
      if (branch !== undefined) {
        if (branches === undefined) return `branch "${branch}" is not a tag; ${wanted}`;
        return branches(branch) ? undefined : `branch "${branch}" does not match ${branchList}`;
      }
      if (tag !== undefined) {
        if (tags === undefined) return `tag "${tag}" is not a branch; ${wanted}`;
        return tags(tag) ? undefined : `tag "${tag}" does not match ${tagList}`;
      }
      return `event "${text((e as Loose)?.event) ?? ""}" has no branch or tag; ${wanted}`;
    });
  }

  if (spec.paths !== undefined) {
    const test = compileGlobList(spec.paths);
    const leads = globListLeads(spec.paths);
    const list = shown(spec.paths);
    checks.push((e) => {
      const answer = someChangedFile(e, test, leads);
      if (answer === "match") return undefined;
      if (answer === "miss") return `no changed file matches ${list}`;
      const provider = text((e as Loose)?.provider);
      const why =
        provider === "bitbucket" || provider === "bitbucket-server"
          ? "Bitbucket push payloads list no files"
          : "the delivery lists no changed files";
      return `no changed file matches ${list} (${why})`;
    });
  }

  if (spec.actors !== undefined) {
    const test = compileGlobList(spec.actors);
    const list = shown(spec.actors);
    checks.push((e) => {
      const actor = text((e as Loose)?.actor);
      if (actor === undefined) return test("") ? undefined : `the delivery names no actor; actors: ${list}`;
      return test(actor) ? undefined : `actor "${actor}" does not match ${list}`;
    });
  }

  if (spec.merged !== undefined) {
    const merged = spec.merged;
    checks.push((e) => {
      const pr = (e as Loose)?.pr;
      if (pr === null || typeof pr !== "object") {
        return `event "${text((e as Loose)?.event) ?? ""}" is not a pull request; merged: ${merged}`;
      }
      const actual = pr.merged === true;
      return actual === merged
        ? undefined
        : `pull request is ${actual ? "merged" : "not merged"}; merged: ${merged}`;
    });
  }

  // A push that deleted its ref is not built or zipped unless the route asks (RELIABILITY.md).
  const deleted = spec.deleted;
  checks.push((e) => {
    const isDeleted = (e as Loose)?.deleted === true;
    if (deleted === undefined) {
      if (!isDeleted || (e as Loose)?.event !== "push") return undefined;
      return `the push deleted ${refLabel(e)}; set match.deleted: true to act on deletions`;
    }
    if (isDeleted === deleted) return undefined;
    return isDeleted
      ? `the push deleted ${refLabel(e)}; deleted: false`
      : `the event deleted nothing; deleted: true`;
  });

  const name = route.name;
  const count = checks.length;
  return (event) => {
    try {
      for (let i = 0; i < count; i++) {
        const reason = (checks[i] as Check)(event);
        if (reason !== undefined) return { route: name, matched: false, reason };
      }
      return { route: name, matched: true, reason: matchedReason(event) };
    } catch (error) {
      return { route: name, matched: false, reason: `the event could not be matched: ${String(error)}` };
    }
  };
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

/** One decision, compiling the route's filters on the way (prefer compileMatcher on a hot path). */
export function matchRoute(route: Route, event: WebhookEvent): MatchDecision {
  return compileMatcher(route)(event);
}
