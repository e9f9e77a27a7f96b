// The key prefixes a route's S3 writes stay under, from its key template and match.repos: what its IAM role
// is pinned to (infra/policies.ts). Pure, so that the work path can use the same function.
import { globListLeads } from "./globs";
import { renderTemplate } from "./templates";
import type { WebhookEvent } from "./types";

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
