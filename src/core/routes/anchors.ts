// yaml's Alias.resolve(doc) walks the whole document on each call (yaml 2.x, outside a conversion's cache):
// called per route for routes that share an anchor, reading a file took time quadratic in its routes. One
// walk notes where each alias points, and every later look-up is a map read.
import { type Alias, type Document, isAlias, isScalar, isSeq, type Node, Scalar, visit } from "yaml";

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
