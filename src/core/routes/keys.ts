// Keys yaml's own duplicate check misses (uniqueKeys compares scalar values only): each `<<` merge key is a
// new symbol, a key written through an alias (`*k :`) is an alias node, and `true` and "true" are different
// values that convert to one object key. In each case yaml keeps one value and drops the other silently.
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, visit } from "yaml";
import { clippedText, shownText } from "../shownText";
import type { Resolve } from "./anchors";

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
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      const merges: unknown[] = [];
      // The keys the map's earlier `<<`s bring: two `<<` that share none are read alike by every reader.
      const merged = new Set<string>();
      for (const pair of map.items) {
        const offset = (pair.key as Node).range?.[0] ?? map.range?.[0] ?? 0;
        if (isScalar(pair.key) && typeof pair.key.value === "symbol") {
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          merges.push(...sources);
          const keys = mergedKeys(resolve, sources);
          const common = [...keys].find((key) => merged.has(key));
          if (common !== undefined && !skip.has(offset)) {
            findings.push({ offset, message: mergeTwiceMessage(merges, common) });
          }
          for (const key of keys) merged.add(key);
          continue;
        }
        const text = keyText(resolve, pair.key);
        if (text === undefined) continue;
        if (seen.has(text) && !skip.has(offset)) findings.push({ offset, message: DUPLICATE_KEY });
        seen.add(text);
      }
    },
  });
  return findings;
}

/** The keys merging `sources` sets, through aliases and the merges inside them (each map once). */
function mergedKeys(resolve: Resolve, sources: readonly unknown[]): Set<string> {
  const keys = new Set<string>();
  const seen = new Set<unknown>();
  const stack = [...sources];
  while (stack.length > 0) {
    const map = resolve(stack.pop());
    if (!isMap(map) || seen.has(map)) continue;
    seen.add(map);
    for (const pair of map.items) {
      if (isScalar(pair.key) && typeof pair.key.value === "symbol") {
        stack.push(...(isSeq(pair.value) ? pair.value.items : [pair.value]));
        continue;
      }
      const text = keyText(resolve, pair.key);
      if (text !== undefined) keys.add(text);
    }
  }
  return keys;
}

/**
 * yaml keeps the first `<<`'s keys where two set the same one (PyYAML the last): the same file deploys
 * differently by reader. One `<<` with a list is read alike by all: the EARLIER map in the list wins
 * (https://yaml.org/type/merge). The maps are suggested in the order written, so the rewrite deploys what
 * hookgate (yaml) deployed before two << were refused.
 */
function mergeTwiceMessage(sources: readonly unknown[], common: string): string {
  // Kept short: a message is one line of at most 300 characters, whatever the anchors are named.
  const names = sources.map((source) => (isAlias(source) ? `*${clippedText(source.source, 24)}` : undefined));
  const named = names.length <= 4 && names.every((name) => name !== undefined);
  const list = named ? names.join(", ") : "*a, *b";
  return (
    `duplicate key <<; a key may appear once in a map, a merge too (two here set ${clippedText(common, 40)}): ` +
    `write one << with a list, <<: [${list}] ` +
    "(the earlier in the list wins: put first the map whose values should win)"
  );
}

/** The key as the converted object names it (null as "", true as "true"), through an alias; or undefined. */
function keyText(resolve: Resolve, key: unknown): string | undefined {
  const node = resolve(key);
  if (!isScalar(node) || typeof node.value === "symbol") return undefined;
  return node.value === null || node.value === undefined ? "" : String(node.value);
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
      if (isScalar(pair.key) && typeof pair.key.value === "symbol") {
        stack.push(...(isSeq(pair.value) ? pair.value.items : [pair.value]));
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
          `quote it${isAlias(pair.key) ? ` where &${clippedText(pair.key.source, 24)} is set` : ""}: ${shownText(written, 60)}`,
      });
    }
  }
  return findings;
}
