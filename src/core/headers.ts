// Request headers as hookgate sees them: names lower-cased, every value kept.
// Duplicated headers are a signal (an ambiguous or tampered request), so they are never merged away.
import { RequestError } from "./errors";
import type { HeaderBag } from "./types";

type SingleHeaders = Readonly<Record<string, string | undefined>> | null | undefined;
type MultiHeaders = Readonly<Record<string, readonly string[] | undefined>> | null | undefined;

/**
 * Build a HeaderBag from API Gateway REST's two views of the headers.
 *
 * `headers` carries the last value of each header, `multiValueHeaders` all of them. For each name
 * (case-insensitively) the multi-value view wins when it has that name; otherwise the single value is
 * used. Names that differ only in case are one header: their values are concatenated.
 * Values that are not strings (a caller's bug or a hand-made test event) are skipped.
 */
export function headerBag(headers?: SingleHeaders, multi?: MultiHeaders): HeaderBag {
  const bag = new Map<string, string[]>();
  const hasMulti = multi !== null && typeof multi === "object";
  if (hasMulti) {
    for (const name of Object.keys(multi)) {
      const values = multi[name];
      if (!Array.isArray(values)) continue;
      const key = lowerCase(name);
      let list = bag.get(key);
      for (const value of values) {
        if (typeof value !== "string") continue;
        if (list === undefined) {
          list = [];
          bag.set(key, list);
        }
        list.push(value);
      }
    }
  }
  if (headers && typeof headers === "object") {
    // Names added from this single-value view (created only when the multi view lacks a name, which
    // API Gateway never does): their case variants are joined, while names from the multi view are skipped.
    let singleOnly: Set<string> | undefined;
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (typeof value !== "string") continue;
      // The multi view's own entry for this very name is already in the bag.
      if (hasMulti && hasString(multi[name])) continue;
      const key = lowerCase(name);
      const list = bag.get(key);
      if (list === undefined) {
        bag.set(key, [value]);
        singleOnly ??= new Set();
        singleOnly.add(key);
      } else if (singleOnly?.has(key)) {
        list.push(value);
      }
    }
  }
  return bag;
}

/**
 * A HeaderBag from node:http's `rawHeaders` (name, value, name, value, ...): names lower-cased, every
 * value kept in order (req.headers merges or drops repeats).
 */
export function headerBagFromRaw(rawHeaders: readonly string[]): HeaderBag {
  const bag = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = lowerCase(rawHeaders[i] as string);
    const value = rawHeaders[i + 1] as string;
    const values = bag.get(name);
    if (values === undefined) bag.set(name, [value]);
    else values.push(value);
  }
  return bag;
}

function hasString(values: readonly string[] | undefined): boolean {
  if (!Array.isArray(values)) return false;
  for (const value of values) if (typeof value === "string") return true;
  return false;
}

// Senders repeat the same header names on every delivery: each name is lower-cased once, and the same
// string then keys every bag (its hash computed once). Bounded, as the names come from the request.
const LOWER_CASE_NAMES = new Map<string, string>();
const MAX_REMEMBERED_NAMES = 512;

function lowerCase(name: string): string {
  let lower = LOWER_CASE_NAMES.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (LOWER_CASE_NAMES.size >= MAX_REMEMBERED_NAMES) LOWER_CASE_NAMES.clear();
    LOWER_CASE_NAMES.set(name, lower);
  }
  return lower;
}

/**
 * The one value of header `name` (any case): undefined when it is absent, null when it has several
 * DIFFERENT values. Repeats of the SAME value count as one (some proxies duplicate headers verbatim).
 */
function sameValue(bag: HeaderBag, name: string): string | undefined | null {
  const values = bag.get(name.toLowerCase());
  if (values === undefined || values.length === 0) return undefined;
  const first = values[0] as string;
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return null;
  return first;
}

/** The reason a header with several different values is refused (the values are never echoed). */
export function severalValues(name: string): string {
  return `header "${name.toLowerCase()}" has several different values`;
}

/**
 * The one value of header `name` (any case), or undefined when it is absent.
 *
 * Repeats of the SAME value count as one (some proxies duplicate headers verbatim). Several
 * DIFFERENT values are ambiguous: RequestError 400. The verifier is stricter for signature headers
 * and delivery ids: there, any repeat is a reject (see src/core/verify).
 */
export function singleHeader(bag: HeaderBag, name: string): string | undefined {
  const value = sameValue(bag, name);
  if (value === null) throw new RequestError(400, severalValues(name));
  return value;
}

/**
 * The request's Content-Type as both the verifier (what a Gitea form delivery signed) and the decoder read
 * it, so that they never disagree: undefined when absent, null (ambiguous) when it has different values.
 */
export function contentTypeOf(bag: HeaderBag): string | undefined | null {
  return sameValue(bag, "content-type");
}

/**
 * A character an HTTP field value cannot hold, as undici checks it (headerCharRegex): a control character
 * other than a tab (CR, LF, NUL) or one past U+00FF.
 */
export const NOT_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * The header string node:http and undici write as `text`'s UTF-8 bytes: they write (and read) a header one
 * character per byte (latin1), where GitLab's sender (Ruby Net::HTTP) writes the string's UTF-8 bytes. ASCII
 * text is itself; the result holds no character past U+00FF.
 */
export function utf8HeaderText(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}
