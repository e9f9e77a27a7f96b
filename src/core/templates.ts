// {{field}} templates over the WebhookEvent. Checked once (`hookgate check`: templateProblems), rendered
// at receive time (renderTemplate), which never throws: a value that is missing renders as "".
import { shownText } from "./shownText";
import type { WebhookEvent } from "./types";

/**
 * Where a rendered value goes, which decides how it is encoded. Literal text is never encoded (but for a
 * link's dot-only folders, below). "url": a link
 * (pr-cleanup's targetUrl); a value that starts the template is the whole URL and kept as it is
 * ({{payload.pull_request.html_url}}); a later one in the host is one URL component, and one in the path, query
 * or fragment keeps its "/" ({{repo.fullName}}: acme/api) with each folder a component and "." or ".." folders
 * encoded (urlWithoutDotSegments), so that a value cannot change the host, climb out of the path or add to the query
 * the route wrote.
 */
export type TemplateEncoding = "raw" | "path-segment" | "query" | "s3-key" | "jenkins-name" | "url";

type Getter = (event: WebhookEvent) => unknown;

// biome-ignore lint/suspicious/noExplicitAny: getters read untrusted shapes defensively
type Loose = any;

/**
 * A value whose "/" are folders in an S3 key or prefix (each folder encoded on its own); anywhere else
 * it is the plain text, encoded as any value. Branch names and repository paths cannot hold "." or ".."
 * folders, and renderTemplate encodes such a folder anyway.
 */
class Folders {
  constructor(readonly text: string) {}
}

function folders(value: unknown): Folders | undefined {
  return typeof value === "string" ? new Folders(value) : undefined;
}

/** The quickstart-git2s3 file name part: every "/" becomes "_" (acme/api -> acme_api). */
function underscored(value: unknown): string | undefined {
  return typeof value === "string" ? value.replaceAll("/", "_") : undefined;
}

const FIELD_GETTERS: Readonly<Record<string, Getter>> = {
  provider: (e) => (e as Loose)?.provider,
  deliveryId: (e) => (e as Loose)?.deliveryId,
  event: (e) => (e as Loose)?.event,
  action: (e) => (e as Loose)?.action,
  owner: (e) => (e as Loose)?.repo?.owner,
  repo: (e) => (e as Loose)?.repo?.name,
  "repo.owner": (e) => (e as Loose)?.repo?.owner,
  "repo.name": (e) => (e as Loose)?.repo?.name,
  "repo.fullName": (e) => (e as Loose)?.repo?.fullName,
  "repo.cloneUrl": (e) => (e as Loose)?.repo?.cloneUrl,
  "repo.defaultBranch": (e) => (e as Loose)?.repo?.defaultBranch,
  "repo.path": (e) => folders((e as Loose)?.repo?.fullName),
  "repo.underscored": (e) => underscored((e as Loose)?.repo?.fullName),
  ref: (e) => (e as Loose)?.ref,
  branch: (e) => (e as Loose)?.branch,
  "branch.path": (e) => folders((e as Loose)?.branch),
  "branch.underscored": (e) => underscored((e as Loose)?.branch),
  tag: (e) => (e as Loose)?.tag,
  sha: (e) => (e as Loose)?.sha,
  before: (e) => (e as Loose)?.before,
  deleted: (e) => (e as Loose)?.deleted,
  actor: (e) => (e as Loose)?.actor,
  "pr.number": (e) => (e as Loose)?.pr?.number,
  "pr.merged": (e) => (e as Loose)?.pr?.merged,
  "pr.state": (e) => (e as Loose)?.pr?.state,
  "pr.headRef": (e) => (e as Loose)?.pr?.headRef,
  "pr.headRef.path": (e) => folders((e as Loose)?.pr?.headRef),
  "pr.headRef.underscored": (e) => underscored((e as Loose)?.pr?.headRef),
  "pr.baseRef": (e) => (e as Loose)?.pr?.baseRef,
  "pr.headSha": (e) => (e as Loose)?.pr?.headSha,
  "pr.headRepoFullName": (e) => (e as Loose)?.pr?.headRepoFullName,
};

/** Every field a template may name, besides payload.<path>. */
export const TEMPLATE_FIELDS: readonly string[] = Object.keys(FIELD_GETTERS);

interface CompiledTemplate {
  /** Literal text (string) or a value to look up (Getter), in order. */
  parts: Array<string | Getter>;
  problems: string[];
}

const cache = new Map<string, CompiledTemplate>();
const CACHE_LIMIT = 1000;

function compile(template: string): CompiledTemplate {
  const cached = cache.get(template);
  if (cached !== undefined) return cached;
  const parts: Array<string | Getter> = [];
  const problems: string[] = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf("{{", i);
    if (open < 0) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, open);
    const close = template.indexOf("}}", open + 2);
    if (close < 0) {
      problems.push(`unclosed "{{" at character ${open + 1} (no matching "}}")`);
      literal += template.slice(open);
      break;
    }
    const name = template.slice(open + 2, close).trim();
    i = close + 2;
    if (name.length === 0) {
      problems.push(`empty "{{}}" at character ${open + 1}`);
      continue;
    }
    const getter = resolve(name, problems);
    if (getter === undefined) continue;
    if (literal.length > 0) parts.push(literal);
    literal = "";
    parts.push(getter);
  }
  if (literal.length > 0) parts.push(literal);
  const compiled = { parts, problems };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(template, compiled);
  return compiled;
}

function resolve(name: string, problems: string[]): Getter | undefined {
  // Own fields only: "constructor" or "toString" would reach Object.prototype (the whole event, rendered).
  if (Object.hasOwn(FIELD_GETTERS, name)) return FIELD_GETTERS[name];
  if (name === "payload") {
    problems.push(`template field "payload" needs a path, for example "payload.head_commit.id"`);
    return undefined;
  }
  if (name.startsWith("payload.")) {
    const path = name.slice(8).split(".");
    if (path.some((segment) => segment.length === 0)) {
      problems.push(`template field ${shownText(name, 60)} has an empty path segment`);
      return undefined;
    }
    // A job path is split into folders on "/" before its fields are filled in: such a field would never
    // be filled there. Payload keys of the Git hosts never hold one.
    if (path.some((segment) => segment.includes("/"))) {
      problems.push(
        `template field ${shownText(name, 60)}: a path goes through "." (payload.repository.name), never "/"`,
      );
      return undefined;
    }
    const bracketed = bracketedPathProblem(name, path);
    if (bracketed !== undefined) {
      problems.push(bracketed);
      return undefined;
    }
    return (event) => walk((event as Loose)?.payload, path);
  }
  const suggestion = closest(name);
  const shown = shownText(name, 60);
  problems.push(
    suggestion === undefined
      ? `unknown template field ${shown} (closest: ${nearest(name, 3).join(", ")}; every field is in the README's Templates table, or write payload.<path>)`
      : `unknown template field ${shown} (did you mean "${suggestion}"?)`,
  );
  return undefined;
}

/**
 * A payload path written as code writes it (payload.commits[0].author.email, payload.pull_request['head'],
 * commits[-1], commits[*]): a Git host's payload has no key "commits[0]", so walk would find nothing and the
 * value would render empty on every delivery. A list index is a segment of its own:
 * payload.commits.0.author.email. So is a segment that starts or ends with whitespace ("payload.a. b", a
 * typo). A space or another bracket inside a segment is left alone: user-defined JSON (repository_dispatch's
 * client_payload, a deployment's payload) may have a key "build id" or "tags[]".
 */
function bracketedPathProblem(name: string, path: readonly string[]): string | undefined {
  const shown = shownText(name, 60);
  if (path.some((segment) => segment !== segment.trim())) {
    return `template field ${shown}: a payload path segment starts or ends with whitespace, which no payload key does, so it would always be empty; write ${shownText(`payload.${path.map((segment) => segment.trim()).join(".")}`, 80)}`;
  }
  // Only what code writes as an index: [0], [-1], [*], ['x'], ["x"]. Other brackets may be a key's own text in
  // user-defined JSON ("notes [draft]", a form-style "tags[]").
  const index = /\[\s*(?:-?\d+|\*|'[^'\]]*'|"[^"\]]*")\s*\]/;
  if (!path.some((segment) => index.test(segment))) return undefined;
  const dotted = name.replace(/\[\s*(\d+)\s*\]/g, ".$1").replace(/\[\s*(["'])([^"'.\]]+)\1\s*\]/g, ".$2");
  const suggestion =
    dotted !== name && !index.test(dotted) && !dotted.includes("..")
      ? `: write ${shownText(dotted, 80)}`
      : ", as payload.commits.0.id";
  return `template field ${shown}: a payload path has no [0] or ['x'] (no host's payload has a key "commits[0]"), so it would always be empty; a path goes through "." with a list index as a segment of its own${suggestion}`;
}

/** Follows object keys (own properties only) and array indices; anything else is undefined. */
function walk(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(segment)) return undefined;
      current = current[Number(segment)];
    } else {
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

function closest(name: string): string | undefined {
  // Past 33 characters no field (at most 22) is within a third of the name's length.
  if (name.length > 64) return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const field of TEMPLATE_FIELDS) {
    if (field.toLowerCase() === lower) return field;
    const distance = editDistance(lower, field.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = field;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** The `count` fields nearest to `name` by edit distance (of its first 64 characters), nearest first. */
function nearest(name: string, count: number): string[] {
  const lower = name.slice(0, 64).toLowerCase();
  return TEMPLATE_FIELDS.map((field) => ({ field, distance: editDistance(lower, field.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, count)
    .map(({ field }) => field);
}

/** Edit distance where swapping two neighbours counts as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row[j] = j;
        continue;
      }
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * What is wrong with a template, one message each: unknown fields (with a suggestion), an unclosed
 * "{{", an empty "{{}}", "payload" without a path. Empty when the template is fine.
 */
export function templateProblems(template: string): string[] {
  return [...compile(template).problems];
}

/**
 * Render a template over an event. Never throws: a missing value, an unknown field (which `check`
 * reports before deployment) or an unclosed "{{" (kept as literal text) render as best they can.
 * Each value is encoded for `encoding`; literal text is kept as written.
 */
export function renderTemplate(template: string, event: WebhookEvent, encoding: TemplateEncoding): string {
  let out = "";
  let laterUrlValue = false;
  for (const [index, part] of compile(String(template)).parts.entries()) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const value = safeGet(part, event);
    if (encoding === "url") {
      const text = stringify(value instanceof Folders ? value.text : value);
      if (index === 0) out += text;
      else if (IN_AUTHORITY.test(asParsed(out)) || !out.includes(":")) out += encodeValue(text, encoding);
      else {
        out += text
          .split("/")
          .map((folder) => encodeValue(folder, encoding))
          .join("/");
        laterUrlValue = true;
      }
      continue;
    }
    if (value instanceof Folders && encoding === "s3-key") {
      out += value.text
        .split("/")
        .map((folder) => encodeValue(folder, encoding))
        .join("/");
    } else out += encodeValue(stringify(value instanceof Folders ? value.text : value), encoding);
  }
  if ((encoding === "path-segment" || encoding === "s3-key") && DOT_SEGMENT.test(out))
    out = noDotSegments(out);
  if (laterUrlValue) out = urlWithoutDotSegments(out);
  return out;
}

function safeGet(getter: Getter, event: WebhookEvent): unknown {
  try {
    return getter(event);
  } catch {
    return undefined;
  }
}

function stringify(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) ? String(value) : "";
    case "boolean":
    case "bigint":
      return String(value);
    case "object":
      if (value === null) return "";
      try {
        return JSON.stringify(value) ?? "";
      } catch {
        return "";
      }
    default:
      return "";
  }
}

/**
 * A URL written up to its host (scheme://host...): a value here is part of the host or port. A URL parser
 * skips any run of "/" and "\" after "http(s):" (https:///{{x}}.example.com is https://<x>.example.com), so
 * any run counts, and the host ends at "/", "\", "?" or "#".
 */
const IN_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:[/\\]*[^/\\?#]*$/;

/**
 * A link's text as a URL parser (WHATWG: browsers, Node's URL) reads it: without any tab, LF or CR, and
 * without the C0 controls and spaces it starts with. "https://\t/{{x}}.example.com" is https:///<x>..., so
 * a value there is in the host, whatever the template's text looks like (check refuses such a link).
 */
function asParsed(url: string): string {
  const text = url.replace(/[\t\n\r]/g, "");
  let start = 0;
  while (start < text.length && text.charCodeAt(start) <= 0x20) start++;
  return text.slice(start);
}

/**
 * A link's path with no "." or ".." folder: a URL parser reads "%2E" and "%2e" as "." too, so such a folder
 * (a value of "..", or "." written next to a value of "."; the route's own text too, in a link with a value
 * in its path) is written "%252E%252E", which names a folder of that text and climbs nowhere. The query and
 * fragment are left alone: no parser reads dots there.
 */
function urlWithoutDotSegments(url: string): string {
  const end = url.search(/[?#]/);
  const path = end < 0 ? url : url.slice(0, end);
  // "\" too: a URL parser reads it as "/" in an http(s) link.
  const safe = path.replace(
    /(^|[/\\])((?:\.|%2e){1,2})(?=[/\\]|$)/gi,
    (_, slash: string, dots: string) => `${slash}${dots.replace(/\.|%2e/gi, "%252E")}`,
  );
  return end < 0 ? safe : safe + url.slice(end);
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Values made only of these need no encoding in any mode (the common case: names, shas, numbers). */
const PLAIN = /^[A-Za-z0-9_.-]*$/;
const S3_EXTRA = /[!'()*~]/g;
/**
 * What an S3 key writes percent-encoded: all but letters, marks and digits of any script, "_", "." and "-".
 * A letter is kept as itself (UTF-8, as S3 stores keys): quickstart-git2s3's GitPullS3 wrote a branch so
 * (fix/ü in .../branch/fix/ü/...), and %XX per byte made a CJK letter 9 bytes of S3's 1,024. Spaces,
 * punctuation, symbols, controls, format characters (bidi controls) and lone surrogates stay encoded, and so
 * do the invisible letters and marks (Default_Ignorable_Code_Point: a Hangul filler, a variation selector),
 * which would make a key that looks like another's (main and main\u3164) in the console and the CLI.
 */
const S3_ENCODED = /(?:[^\p{L}\p{M}\p{N}_.-]|\p{Default_Ignorable_Code_Point})+/gu;
/**
 * What Jenkins' branch-api escapes in the name of a branch's job (NameEncoder): a multibranch project
 * names the job of branch feature/x "feature%2Fx". A Jenkins item name cannot hold these characters
 * otherwise, so a value with them can only name such a job.
 */
const JENKINS_NAME_ESCAPES = /[#%/?[\]\\]/g;

/** encodeURIComponent throws on a lone surrogate; those become U+FFFD. */
function encodeComponent(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(LONE_SURROGATE, "\uFFFD"));
  }
}

function encodeValue(value: string, encoding: TemplateEncoding): string {
  if (encoding === "raw") return value;
  if (encoding === "jenkins-name") return value.replace(JENKINS_NAME_ESCAPES, percent);
  if (PLAIN.test(value)) return encoding === "query" || encoding === "url" ? value : dotSegment(value);
  switch (encoding) {
    case "query":
    case "url":
      return encodeComponent(value);
    case "path-segment":
      return encodeComponent(value);
    case "s3-key":
      // encodeURIComponent leaves !'()*~ alone, so encode those as well.
      return value.replace(S3_ENCODED, (run) => encodeComponent(run).replace(S3_EXTRA, percent));
    default:
      return value;
  }
}

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
}

function dotSegment(value: string): string {
  return value === "." ? "%2E" : value === ".." ? "%2E%2E" : value;
}

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/** Values next to each other ("{{a}}{{b}}" = "." + ".") could still form "..": encode such segments. */
function noDotSegments(rendered: string): string {
  return rendered
    .split("/")
    .map((segment) => dotSegment(segment))
    .join("/");
}
