// Keys yaml's own duplicate check misses (uniqueKeys compares scalar values only): each `<<` merge key is a
// new symbol, a key written through an alias (`*k :`) is an alias node, and `true` and "true" are different
// values that convert to one object key. In each case yaml keeps one value and drops the other silently.
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, visit } from "yaml";
import { clippedText, shownText } from "../shownText";
import { convertedKeyText, isMergeKey, mergeSourcesOf, type Resolve } from "./anchors";

export interface KeyFinding {
  /** Source offset of the offending key. */
  offset: number;
  message: string;
  /** The name the converted map has for the key. */
  name?: string;
}

export const DUPLICATE_KEY = "duplicate key; a key may appear once in a map";

/**
 * Each key that repeats an earlier key of its map as the converted object sees it (by its text), at the
 * repeat. `skip`: offsets yaml already reported as duplicates.
 */
export function duplicateKeyFindings(
  doc: Document,
  resolve: Resolve,
  skip: ReadonlySet<number>,
): KeyFinding[] {
  const findings: KeyFinding[] = [];
  const memo = new Map<unknown, Map<string, unknown>>();
  const compared = newCompared(memo);
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      const merges: unknown[] = [];
      // Keys the map sets itself win over every merge, in every reader: two `<<` bringing one never disagree.
      const own = new Set<string>();
      for (const pair of map.items) {
        const text = isMergeKey(pair.key) ? undefined : convertedKeyText(resolve, pair.key);
        if (text !== undefined) own.add(text);
      }
      // The value of each key the map's earlier `<<`s bring (the first to set it, as yaml merges): two `<<`
      // that bring no key with another value are read alike by every reader.
      const merged = new Map<string, unknown>();
      for (const pair of map.items) {
        const offset = (pair.key as Node).range?.[0] ?? map.range?.[0] ?? 0;
        if (isMergeKey(pair.key)) {
          const sources = mergeSourcesOf(pair.value);
          merges.push(...sources);
          const values = mergedValues(resolve, sources, memo, new Set());
          const common = [...values].find(
            ([key, value]) =>
              !own.has(key) && merged.has(key) && !sameValue(resolve, merged.get(key), value, compared),
          )?.[0];
          if (common !== undefined && !skip.has(offset)) {
            findings.push({ offset, message: mergeTwiceMessage(merges, common) });
          }
          for (const [key, value] of values) if (!merged.has(key)) merged.set(key, value);
          continue;
        }
        const text = convertedKeyText(resolve, pair.key);
        if (text === undefined) continue;
        if (seen.has(text) && !skip.has(offset)) findings.push({ offset, message: DUPLICATE_KEY });
        seen.add(text);
      }
    },
  });
  return findings;
}

/**
 * The value node of each key merging `sources` sets, as yaml merges: the earlier source wins, and in a source
 * its own keys win over those of the merges inside it. Through aliases; a merge cycle adds nothing.
 */
function mergedValues(
  resolve: Resolve,
  sources: readonly unknown[],
  memo: Map<unknown, Map<string, unknown>>,
  inside: Set<unknown>,
): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const source of sources) {
    const map = resolve(source);
    if (!isMap(map) || inside.has(map)) continue;
    let ofMap = memo.get(map);
    if (ofMap === undefined) {
      inside.add(map);
      ofMap = new Map<string, unknown>();
      const inherited = new Map<string, unknown>();
      for (const pair of map.items) {
        if (isMergeKey(pair.key)) {
          const inner = mergeSourcesOf(pair.value);
          for (const [key, value] of mergedValues(resolve, inner, memo, inside)) {
            if (!inherited.has(key)) inherited.set(key, value);
          }
          continue;
        }
        const text = convertedKeyText(resolve, pair.key);
        if (text !== undefined) ofMap.set(text, pair.value);
      }
      for (const [key, value] of inherited) if (!ofMap.has(key)) ofMap.set(key, value);
      inside.delete(map);
      memo.set(map, ofMap);
    }
    for (const [key, value] of ofMap) if (!values.has(key)) values.set(key, value);
  }
  return values;
}

/** What comparisons of one document keep: each pair of nodes compared, each map's keys, mergedValues' memo. */
interface Compared {
  pairs: Map<unknown, Map<unknown, boolean>>;
  keys: Map<unknown, Map<string, unknown> | null>;
  merged: Map<unknown, Map<string, unknown>>;
}

function newCompared(merged: Map<unknown, Map<string, unknown>>): Compared {
  return { pairs: new Map(), keys: new Map(), merged };
}

/**
 * Whether two value nodes convert alike: one node, or scalars of one converted value (a tag that changes
 * nothing, `!!str build` beside `build`, is no difference; a number also of one source text: a Jenkins
 * parameter keeps it as written), or maps and lists of such, keys in any order, a map as it reads with the
 * keys its `<<` merge bring (as mergedValues reads it).
 * Past a budget of steps (each pair of nodes and each key looked up) they are taken to differ: aliases can
 * make a small file a huge value. Each pair's answer is kept in `compared`: maps used by many `<<` are
 * compared once, not once per map merging them.
 */
function sameValue(resolve: Resolve, a: unknown, b: unknown, compared: Compared): boolean {
  let budget = 10_000;
  // Set once the budget or the depth cut a comparison short: a "differ" from then on is not the pair's answer.
  let cut = false;
  const spend = (steps: number): boolean => {
    budget -= steps;
    if (budget < 0) cut = true;
    return !cut;
  };
  /** The value node of each key of the map (the first of a repeated key), with those its `<<` bring where it
   * sets no such key itself; null for a map with a key that is no text: never taken as alike. Built once. */
  const keysOf = (map: {
    items: ReadonlyArray<{ key: unknown; value: unknown }>;
  }): Map<string, unknown> | null => {
    const kept = compared.keys.get(map);
    if (kept !== undefined) return kept;
    let keys: Map<string, unknown> | null = new Map();
    const sources: unknown[] = [];
    for (const pair of map.items) {
      if (isMergeKey(pair.key)) {
        sources.push(...mergeSourcesOf(pair.value));
        continue;
      }
      const text = convertedKeyText(resolve, pair.key);
      if (text === undefined) {
        keys = null;
        break;
      }
      if (!keys.has(text)) keys.set(text, pair.value);
    }
    if (keys !== null && sources.length > 0) {
      const merged = mergedValues(resolve, sources, compared.merged, new Set());
      // The merged keys are charged too: a << can bring a large map into a small one.
      if (!spend(merged.size)) return null;
      for (const [text, value] of merged) if (!keys.has(text)) keys.set(text, value);
    }
    compared.keys.set(map, keys);
    return keys;
  };
  const same = (x: unknown, y: unknown, depth: number): boolean => {
    const left = resolve(x);
    const right = resolve(y);
    if (left === right) return true;
    const known = compared.pairs.get(left)?.get(right);
    if (known !== undefined) return known;
    if (!spend(1)) return false;
    if (depth > 64) {
      cut = true;
      return false;
    }
    const answer = compare(left, right, depth);
    if (answer || !cut) {
      const row = compared.pairs.get(left) ?? new Map<unknown, boolean>();
      compared.pairs.set(left, row);
      row.set(right, answer);
    }
    return answer;
  };
  const compare = (left: unknown, right: unknown, depth: number): boolean => {
    if (isScalar(left) && isScalar(right)) {
      if (left.value !== right.value) return false;
      return typeof left.value !== "number" || left.source === right.source;
    }
    if (isSeq(left) && isSeq(right)) {
      return (
        left.items.length === right.items.length &&
        left.items.every((item, i) => same(item, right.items[i], depth + 1))
      );
    }
    if (isMap(left) && isMap(right)) {
      // Building a map's keys is charged once, by the comparison that builds it.
      if (
        !spend(
          (compared.keys.has(left) ? 0 : left.items.length) +
            (compared.keys.has(right) ? 0 : right.items.length),
        )
      )
        return false;
      const leftKeys = keysOf(left);
      const rightKeys = keysOf(right);
      if (leftKeys === null || rightKeys === null || leftKeys.size !== rightKeys.size) return false;
      for (const [text, value] of leftKeys) {
        if (!spend(1) || !rightKeys.has(text) || !same(value, rightKeys.get(text), depth + 1)) return false;
      }
      return true;
    }
    return false;
  };
  return same(a, b, 0);
}

/**
 * yaml keeps the first `<<`'s keys where two set the same one (PyYAML the last): the same file deploys
 * differently by reader. One `<<` with a list is read alike by all: the EARLIER map in the list wins
 * (https://yaml.org/type/merge). The maps are suggested in the order written, so the rewrite deploys what
 * hookgate (yaml) deployed before two << were refused.
 */
function mergeTwiceMessage(sources: readonly unknown[], common: string): string {
  // Kept short: a message is one line of at most 300 characters, whatever the anchors are named.
  // A map written in place is shown as {...}: a made-up *name could be a real anchor of the file, and
  // following the advice would merge that one.
  const names = sources.map((source) => (isAlias(source) ? `*${clippedText(source.source, 24)}` : "{...}"));
  const list =
    names.length <= 4
      ? `<<: [${names.join(", ")}]`
      : `<<: [...] of these ${names.length} maps in the order written`;
  return (
    `duplicate key <<; a key may appear once in a map, a merge too (two here set ${clippedText(common, 40)}): ` +
    `write one << with a list, ${list} ` +
    "(the earlier in the list wins: put first the map whose values should win)"
  );
}

/**
 * Keys of user-named maps (Jenkins parameters) that YAML does not read as text: `TRUE`, `False`, `null`,
 * `.inf` and numbers convert to other names (`true`, `false`, "", "Infinity"), and Jenkins' names are
 * case-sensitive. Each map with the maps it merges; `maps` are the nodes of the parameters maps.
 */
export function nonTextKeyFindings(resolve: Resolve, maps: readonly unknown[]): KeyFinding[] {
  const findings: KeyFinding[] = [];
  const seen = new Set<unknown>();
  const stack = [...maps];
  while (stack.length > 0) {
    const node = stack.pop();
    const map = resolve(node);
    if (!isMap(map) || seen.has(map)) continue;
    seen.add(map);
    for (const pair of map.items) {
      if (isMergeKey(pair.key)) {
        stack.push(...mergeSourcesOf(pair.value));
        continue;
      }
      // A name written through an alias (`*flag :` with `&flag TRUE`) is converted as its anchor's value.
      const key = resolve(pair.key);
      if (!isScalar(key) || typeof key.value === "string") continue;
      const written = typeof key.source === "string" ? key.source : String(key.value);
      // `true` and `false` convert back to the very name written, and are sent as it.
      if (key.value !== null && key.value !== undefined && String(key.value) === written) continue;
      const read =
        key.value === null
          ? "null (an empty name)"
          : `the ${typeof key.value} ${clippedText(String(key.value), 40)}`;
      findings.push({
        offset: (pair.key as Node).range?.[0] ?? map.range?.[0] ?? 0,
        name: key.value === null || key.value === undefined ? "" : String(key.value),
        message:
          `parameter name ${clippedText(written, 40)} is read by YAML as ${read}, not as text: ` +
          // Quoted, `.inf`, `~` or `1.10` would still break the name rule (a letter or _ first): renamed, then.
          (/^[A-Za-z_]/.test(written)
            ? `quote it${isAlias(pair.key) ? ` where &${clippedText(pair.key.source, 24)} is set` : ""}: ${shownText(written, 60)}`
            : "rename it: a parameter name starts with a letter or _"),
      });
    }
  }
  return findings;
}
