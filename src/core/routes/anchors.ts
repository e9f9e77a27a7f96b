// yaml's Alias.resolve(doc) walks the whole document on each call (yaml 2.x, outside a conversion's cache):
// called per route for routes that share an anchor, reading a file took time quadratic in its routes. One
// walk notes where each alias points, and every later look-up is a map read.
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  Scalar,
  visit,
} from "yaml";

/** The node an alias names (a node that is no alias as it is); undefined for an alias without its anchor. */
export type Resolve = (node: unknown) => unknown;

/**
 * Resolves as yaml does, to the last node given the alias's anchor name before the alias in document order,
 * from one walk of `doc` made now: aliases added to the document later resolve to undefined.
 */
export function aliasResolver(doc: Document): Resolve {
  const targets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target !== undefined) targets.set(node, target);
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return (node) => (isAlias(node) ? targets.get(node) : node);
}

/**
 * Whether yaml merges the pair of this key (its merge.js isMergeKey): the `<<` symbol it reads a plain `<<`
 * as, or a plain scalar `<<` under a tag (`!!str <<`), which yaml still merges though other readers take it
 * for a key named "<<". A quoted "<<" is a key.
 */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  if (typeof key.value === "symbol") return key.value.description === "<<";
  return (!key.type || key.type === Scalar.PLAIN) && key.value === "<<";
}

/** The nodes a merge's value names: each of a list (`<<: [*a, *b]`), or the one (`<<: *a`). */
export function mergeSourcesOf(value: unknown): unknown[] {
  return isSeq(value) ? value.items : [value];
}

/** A key as the converted object names it (null as "", true as "true"), through an alias; a merge key has none. */
export function convertedKeyText(resolve: Resolve, key: unknown): string | undefined {
  if (isMergeKey(key)) return undefined;
  const node = resolve(key);
  if (!isScalar(node)) return undefined;
  return node.value === null || node.value === undefined ? "" : String(node.value);
}

/** Where the aliases of a document expand it past a bound: the alias, and the values they add by then. */
export interface AliasExpansion {
  alias: Alias;
  added: number;
}

/**
 * The first alias, in document order, at which the values the aliases add (each alias counted as every value
 * under its anchor, the aliases inside it expanded too) pass `limit`; undefined when they never do. What the
 * file reads as is that many values more than it writes, and every walk of the converted data (the schema,
 * the checks) goes through each. yaml's own count (maxAliasCount) is no such bound: it counts an alias as the
 * aliases met before its anchor was first resolved, wherever they were, so a file that uses one anchor often
 * and then another a few times was refused. One walk, each anchor's size kept: a bomb is found in time
 * linear in its text. An alias inside its own anchor (`&a [*a]`, a cycle reported elsewhere) counts one.
 */
export function aliasExpansionPast(
  doc: Document,
  resolve: Resolve,
  limit: number,
): AliasExpansion | undefined {
  const sizes = new Map<unknown, number>();
  const walking = new Set<unknown>();
  let added = 0;
  class Past {
    constructor(readonly alias: Alias) {}
  }
  const size = (node: unknown, written: boolean): number => {
    if (isAlias(node)) {
      const target = resolve(node);
      if (target === undefined || walking.has(target)) return 1;
      const expanded = sizes.get(target) ?? size(target, false);
      if (written) {
        added += expanded - 1;
        if (added > limit) throw new Past(node);
      }
      return expanded;
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (!isMap(node) && !isSeq(node)) return node === null || node === undefined ? 0 : 1;
    walking.add(node);
    let total = 1;
    for (const item of node.items as unknown[]) {
      total += isPair(item) ? size(item.key, written) + size(item.value, written) : size(item, written);
    }
    walking.delete(node);
    sizes.set(node, total);
    return total;
  };
  try {
    size(doc.contents, true);
  } catch (error) {
    if (error instanceof Past) return { alias: error.alias, added };
    throw error;
  }
  return undefined;
}
