// The key prefixes a route's S3 writes stay under, from its key template and match.repos: what its IAM role
// is pinned to (infra/policies.ts), and what the actions check a rendered key against before any S3 call
// (keyOutsideScope). IAM compares keys with case while match.repos ignores it: a route on acme/api takes
// Acme/API's push, whose key the role may not write. Checked here, it fails with the reason, before the
// download, and in hookgate serve too, which has no IAM.
import { compileGlobList, escapeRegExp, globListLeads, globListLiterals } from "./globs";
import { renderTemplate } from "./templates";
import type { Route, WebhookEvent } from "./types";

/** The literal part of a template before its first `{{`. */
export function literalPrefix(template: string): string {
  const at = template.indexOf("{{");
  return at < 0 ? template : template.slice(0, at);
}

/** Fields rendered from the repository's full name alone, which `match.repos` pins. */
const REPO_NAME_FIELD = /^\{\{\s*(repo\.path|repo\.fullName|repo\.underscored)\s*\}\}/;
/** A repository entry that matches exactly itself: no glob syntax, no dot or empty folder. */
const PLAIN_REPO = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/;
/** More prefixes than this make one resource of the literal part alone (a role's inline policies share 10 KB). */
const MAX_KEY_PREFIXES = 10;

/**
 * What every key (or prefix) a route renders from `template` starts with, for IAM resource patterns: the
 * template's literal start and, when a repository name field follows it, each name `match.repos` lets
 * through (`acme/api/branch/` for the default key of a route on acme/api), encoded as the route renders it.
 */
export function keyPrefixes(template: string, repos: readonly string[] | undefined): string[] {
  const literal = literalPrefix(template);
  const field = REPO_NAME_FIELD.exec(template.slice(literal.length));
  const leads = field && repos ? globListLeads(repos) : undefined;
  if (!field || leads === undefined || leads.length > MAX_KEY_PREFIXES) return [iamPrefix(literal)];
  const after = literalPrefix(template.slice(literal.length + field[0].length));
  const prefixes = (repos ?? [])
    .filter((repo) => !repo.startsWith("!"))
    .map((repo, i) => {
      const plain = PLAIN_REPO.test(repo);
      const lead = plain ? repo : globLead(repo, leads[i] as string);
      const event = { repo: { fullName: lead } } as unknown as WebhookEvent;
      const name = lead === "" ? "" : renderTemplate(`{{${field[1]}}}`, event, "s3-key");
      return iamPrefix(literal + name + (plain ? after : ""));
    });
  return [...new Set(prefixes)].sort();
}

/**
 * What every name `glob` matches starts with, from its literal `lead`: with the "/" after it unless a
 * globstar follows (`acme/**` matches `acme` too). A lead ends at its first escape, maybe inside a folder
 * (the "." of `.\[bot\]`): rendered alone, that "." would be a whole folder, written encoded, so it goes.
 */
function globLead(glob: string, lead: string): string {
  if (glob.startsWith(`${lead}/`) && !glob.startsWith(`${lead}/**`)) return `${lead}/`;
  return lead.replace(/(^|\/)\.\.?$/, "$1");
}

/**
 * `prefix` cut before what IAM would not read literally (`*`, `?`, `${`), before a character a policy
 * cannot hold at all (IAM takes only tab, LF, CR and U+0020 to U+00FF: a template's literal text, kept as
 * written in the key, may have others), and before a whole "." or ".." folder, which renderTemplate writes
 * encoded even in literal text. A shorter prefix only allows more.
 */
function iamPrefix(prefix: string): string {
  const unreadable = prefix.search(/[*?$]|[^\t\n\r\u0020-\u00ff]/);
  // A last folder of "." or ".." becomes a whole one when the fields after it render empty.
  const dotFolder = /(?:^|\/)(?=\.\.?(?:\/|$))/.exec(prefix);
  const cut = Math.min(
    unreadable < 0 ? prefix.length : unreadable,
    dotFolder ? dotFolder.index + dotFolder[0].length : prefix.length,
  );
  return prefix.slice(0, cut);
}

/** What a route's role may write in S3, as routePolicy grants it: the prefixes in each bucket, and match.repos. */
export interface KeyScope {
  repos: readonly string[] | undefined;
  /** Bucket name -> prefixes; a bucket not here is one the role may not write at all. */
  buckets: ReadonlyMap<string, readonly string[]>;
  /** Bucket name -> the literal text before a repository name field, of each template that has one. */
  repoLeads: ReadonlyMap<string, readonly string[]>;
}

/** The route's KeyScope: s3-zip's key in its bucket, each delete-s3-prefix step's prefix in the step's bucket. */
export function routeKeyScope(route: Route): KeyScope {
  // readRuntimeConfig does not require match of HOOKGATE_ROUTE: without it, no repos pins a prefix.
  const repos = route.match?.repos;
  const buckets = new Map<string, string[]>();
  const repoLeads = new Map<string, string[]>();
  const add = (bucket: string, template: string) => {
    buckets.set(bucket, [...new Set([...(buckets.get(bucket) ?? []), ...keyPrefixes(template, repos)])]);
    const literal = literalPrefix(template);
    if (REPO_NAME_FIELD.test(template.slice(literal.length))) {
      repoLeads.set(bucket, [...new Set([...(repoLeads.get(bucket) ?? []), literal])]);
    }
  };
  const action = route.action;
  if (action.type === "s3-zip" && action.bucket) add(action.bucket, action.key);
  if (action.type === "pr-cleanup") {
    for (const step of action.steps) if (step.kind === "delete-s3-prefix") add(step.bucket, step.prefix);
  }
  return { repos, buckets, repoLeads };
}

/**
 * Why the route's role may not write `key` (`what`: a key, or a prefix to delete under) in `bucket`, or undefined
 * when it may.
 * `hostRepo` is the repository's full name as the host sent it: when the key starts with a pinned prefix in
 * all but letter case, routes.yaml spells the repository otherwise, and the reason says how to write it.
 */
export function keyOutsideScope(
  scope: KeyScope,
  bucket: string,
  key: string,
  hostRepo: string,
  what: "key" | "prefix" = "key",
): string | undefined {
  const prefixes = scope.buckets.get(bucket);
  const shown = `${what} ${JSON.stringify(key.slice(0, 200))}`;
  // What the role's own policy grants, not what S3 would answer: a bucket policy may grant the role more.
  const verb = what === "key" ? "write" : "list and delete under";
  const refused = `the route's role may not ${verb} it`;
  if (prefixes === undefined) {
    return `${shown} is in bucket ${JSON.stringify(bucket)}, in which the route's role is granted nothing: ${refused}`;
  }
  if (prefixes.some((prefix) => key.startsWith(prefix))) return undefined;
  const outside = `${shown} is outside the prefixes the route's role may ${verb} (${clippedList(prefixes, 300)})`;
  // repos is to blame only when the key's text before the repository's name is the template's as written: a key
  // from an older template (queued under Builds/, now builds/) differs there, whatever repos says.
  const leadAsWritten = (scope.repoLeads.get(bucket) ?? []).some((lead) => key.startsWith(lead));
  if (!leadAsWritten || !prefixes.some((prefix) => startsIgnoringCase(key, prefix))) {
    return `${outside}: ${refused}`;
  }
  const entry = respelled(scope.repos ?? [], hostRepo);
  // Nothing to respell when repos already takes the host's spelling as it is (another entry may differ only in
  // case, Acme/API beside acme/api): the key differs elsewhere.
  if (compileGlobList(scope.repos ?? [])(hostRepo)) {
    return `${outside}: ${refused}`;
  }
  const host = JSON.stringify(hostRepo.slice(0, 200));
  if (entry === undefined) {
    return `${outside}: it differs from one only in letter case, and the host sends the repository as ${host}; write repos as the host spells it`;
  }
  const repos = scope.repos ?? [];
  const includes = repos.filter((repo) => !repo.startsWith("!"));
  // The whole list, exclusions kept: a list of the respelled entry alone would widen the route to what it excludes.
  const write =
    includes.length === 1
      ? `write repos: [${repos.map((repo) => yamlScalar(repo === entry.written ? entry.suggested : repo)).join(", ")}]`
      : `write ${JSON.stringify(entry.suggested)} in place of ${JSON.stringify(entry.written)} in repos`;
  return `${outside}: routes.yaml spells the repository ${JSON.stringify(entry.written)} and the host sends ${host}; ${write}`;
}

/** `items` quoted, as many whole ones as `max` characters hold (a cut in an item could end mid-escape), and how many more. */
function clippedList(items: readonly string[], max: number): string {
  const shown: string[] = [];
  let length = 0;
  for (const item of items) {
    const quoted = JSON.stringify(item);
    if (length + quoted.length > max) break;
    shown.push(quoted);
    length += quoted.length + 2;
  }
  const more = items.length - shown.length;
  return more === 0 ? shown.join(", ") : [...shown, `… ${more} more`].join(", ");
}

/**
 * Whether `text` starts with `prefix` when letters may differ in case, as match.repos compares them (a RegExp's
 * `i` flag without `u`: see GlobListOptions.ignoreCase).
 */
function startsIgnoringCase(text: string, prefix: string): boolean {
  return new RegExp(`^${escapeRegExp(prefix)}`, "i").test(text);
}

/**
 * The repos entry that takes `hostRepo` only when case is ignored, and that entry written with the host's
 * spelling: the name itself for a plain entry, the glob with its literal lead respelled (`acme/*` for
 * `Acme/api` becomes `Acme/*`). Undefined when no entry is one.
 */
function respelled(
  repos: readonly string[],
  hostRepo: string,
): { written: string; suggested: string } | undefined {
  for (const written of repos) {
    if (written.startsWith("!")) continue;
    const list = [written];
    if (compileGlobList(list)(hostRepo) || !compileGlobList(list, { ignoreCase: true })(hostRepo)) continue;
    if (globListLiterals(list) !== undefined) return { written, suggested: hostRepo };
    const lead = globListLeads(list)?.[0] ?? "";
    const start = hostRepo.slice(0, lead.length);
    if (lead !== "" && written.startsWith(lead) && startsIgnoringCase(start, lead)) {
      return { written, suggested: start + written.slice(lead.length) };
    }
  }
  return undefined;
}

/** A repos entry as YAML reads it back in a flow sequence: quoted when it holds what YAML would read otherwise. */
function yamlScalar(text: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_./*-]*$/.test(text) ? text : JSON.stringify(text);
}
