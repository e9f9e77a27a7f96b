// Text wrapped in typographic quotes, as a wiki, chat or word processor writes them: YAML knows only ' and ",
// so “main” is the five-character text with its quotes, a glob, event, job or secret name no one meant.
import type { PathSegment } from "./positions";
import { label } from "./schema";

export interface TypographicQuoteFinding {
  path: PathSegment[];
  at: "value" | "key";
  message: string;
  /**
   * Every path at which the value is reached, `path` (where it is said) first: a map or list anchored and used
   * again by *alias is one object, reached at each use, and the rules are asked at each.
   */
  paths: PathSegment[][];
}

const TYPOGRAPHIC = "\u2018\u2019\u201C\u201D";
const WRAPPED = new RegExp(`^[${TYPOGRAPHIC}][^]*[${TYPOGRAPHIC}]$`);

export const TYPOGRAPHIC_QUOTES =
  "starts and ends with typographic quotes (\u2018 \u2019 or \u201C \u201D), which YAML keeps as part of the text: quote it with ' or \" instead, or not at all";

/** Whether `text` starts and ends with a typographic quote (one character alone counts as both). */
export function wrappedInTypographicQuotes(text: string): boolean {
  return WRAPPED.test(text) || (text.length === 1 && TYPOGRAPHIC.includes(text));
}

/**
 * Whether the value at `path` is text sent or shown as written, which may be meant to hold typographic quotes:
 * a Jenkins parameter's value (TITLE: "“{{payload.head_commit.message}}”") or a route's description. Every
 * other text value names something (a glob, an event, a job, a secret, a URL, a bucket, a route).
 */
function freeText(path: readonly PathSegment[]): boolean {
  return path.at(-2) === "parameters" || path.at(-1) === "description";
}

/**
 * Every key and naming value of the converted document wrapped in typographic quotes, in document order;
 * keys at `refusedKeys` (JSON of their paths), which another rule refuses already, are left to that rule.
 */
export function typographicQuoteFindings(
  data: unknown,
  refusedKeys: ReadonlySet<string> = new Set(),
): TypographicQuoteFinding[] {
  const findings: TypographicQuoteFinding[] = [];
  // An object reached again (by *alias) is walked again, so that each path to its text is known, but each
  // quoted value or key is said once, where first reached. parseRoutes bounds the uses (aliasExpansionPast).
  const valueAt = new Map<object, Map<PathSegment, TypographicQuoteFinding>>();
  const walked = new Set<object>();
  // The objects being walked: an alias inside its own anchor (x: &a [*a]) is a cycle, not walked round.
  const inside = new Set<object>();
  type Visit = [value: unknown, path: PathSegment[], parent: object | undefined] | [leave: object];
  const stack: Visit[] = [[data, [], undefined]];
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    if (visit.length === 1) {
      inside.delete(visit[0]);
      continue;
    }
    const [value, path, parent] = visit;
    if (typeof value === "string") {
      if (freeText(path) || !wrappedInTypographicQuotes(value)) continue;
      const key = path.at(-1) as PathSegment;
      const found = parent === undefined ? undefined : valueAt.get(parent)?.get(key);
      if (found !== undefined) {
        found.paths.push(path);
        continue;
      }
      const finding: TypographicQuoteFinding = {
        path,
        at: "value",
        message: said(path, "the text", data),
        paths: [path],
      };
      findings.push(finding);
      if (parent !== undefined) {
        const slots = valueAt.get(parent) ?? new Map<PathSegment, TypographicQuoteFinding>();
        slots.set(key, finding);
        valueAt.set(parent, slots);
      }
      continue;
    }
    if (value === null || typeof value !== "object" || inside.has(value)) continue;
    const first = !walked.has(value);
    walked.add(value);
    inside.add(value);
    stack.push([value]);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, i], value]);
      continue;
    }
    const entries = Object.entries(value as object);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [string, unknown];
      stack.push([item, [...path, key], value]);
      if (first && wrappedInTypographicQuotes(key) && !refusedKeys.has(JSON.stringify([...path, key]))) {
        const at = [...path, key];
        findings.push({ path: at, at: "key", message: said(path, "the key", data), paths: [at] });
      }
    }
  }
  return findings;
}

function said(path: readonly PathSegment[], what: string, data: unknown): string {
  const where = label(path, data);
  return `${where ? `${where}: ` : ""}${what} ${TYPOGRAPHIC_QUOTES}`;
}

/**
 * A copy of `data` in which each value at `paths` (text wrapped in typographic quotes) is the text inside them:
 * what the rules are asked about, so that only what remains wrong without the quotes is said besides them.
 * Paths through an alias lead to one slot (structuredClone keeps the sharing): each slot is cut once.
 */
export function withoutTypographicQuotes(data: unknown, paths: readonly (readonly PathSegment[])[]): unknown {
  const copy = structuredClone(data);
  const cut = new Map<object, Set<PathSegment>>();
  for (const path of paths) {
    let parent: unknown = copy;
    for (const segment of path.slice(0, -1)) parent = (parent as Record<PathSegment, unknown>)[segment];
    const last = path.at(-1) as PathSegment;
    if (parent === null || typeof parent !== "object") continue;
    const done = cut.get(parent) ?? new Set<PathSegment>();
    if (done.has(last)) continue;
    const value = (parent as Record<PathSegment, unknown>)[last];
    if (typeof value !== "string") continue;
    (parent as Record<PathSegment, unknown>)[last] = value.slice(1, -1);
    done.add(last);
    cut.set(parent, done);
  }
  return copy;
}
