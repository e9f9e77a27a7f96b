// The alias and merge mistakes yaml only finds while converting the document (doc.toJS throws, with no
// position): found here first, on the nodes, so each is reported where it is written.
import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  visit,
} from "yaml";
import { isMergeKey, mergeSourcesOf } from "./anchors";

export interface ReferenceFinding {
  /** Source offset of the offending alias or merge source. */
  offset: number;
  message: string;
  /** The alias that has no anchor, for a finding about one (not about a merge). */
  unresolved?: Alias;
  /** A merge source that is an alias of the map holding the merge, or of a map around it. */
  cycle?: Alias;
}

export const ALIAS_GLOB_HINT = "quote globs that start with * (YAML reads *name as an alias)";

/**
 * Aliases with no anchor before them (an unquoted glob such as `- *-release` or `[*.md]` is read as one),
 * merge keys (`<<:`) whose source is not a map, an alias of one, or a list of those, and merges of a map
 * from inside it. Anchors count from where they are set, in document order, as yaml resolves them.
 *
 * yaml converts each merge source anew, so a map that merges itself, or a map around it, is converted
 * without end (until its alias count or the stack runs out). Every such cycle holds one: an alias only
 * names an anchor set before it, so a cycle of merges that each leave their source would have each source
 * end before the next, back to the first.
 */
export function referenceFindings(doc: Document): ReferenceFinding[] {
  const findings: ReferenceFinding[] = [];
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node | undefined>();
  const merges: Array<{ pair: Pair; around: ReadonlySet<unknown> }> = [];
  visit(doc, {
    Node(_key, node) {
      if (node.anchor) anchors.set(node.anchor, node);
      if (!isAlias(node)) return;
      const target = anchors.get(node.source);
      targets.set(node, target);
      if (target === undefined) {
        findings.push({
          offset: node.range?.[0] ?? 0,
          message: `YAML: unresolved alias *${node.source} (no anchor &${node.source} is set before it); ${ALIAS_GLOB_HINT}`,
          unresolved: node,
        });
      }
    },
    Pair(_key, pair, path) {
      if (isMergeKey(pair.key)) merges.push({ pair, around: new Set(path) });
    },
  });
  // An anchor set only after its alias is no glob: say so, without the hint about globs.
  const mergeSources = new Set(merges.flatMap(({ pair }) => mergeSourcesOf(pair.value)));
  for (const finding of findings) {
    const name = finding.unresolved?.source;
    if (name === undefined || !anchors.has(name)) continue;
    const merged = mergeSources.has(finding.unresolved) ? " (so two maps cannot merge each other)" : "";
    finding.message = `YAML: unresolved alias *${name}: its anchor &${name} is set after it, and an alias names only an anchor set before it${merged}`;
  }
  // After the walk, so an alias inside a merge's own value is resolved too.
  for (const { pair, around } of merges) {
    for (const source of mergeSourcesOf(pair.value)) {
      const target = isAlias(source) ? targets.get(source) : source;
      if (isAlias(source) && isMap(target) && around.has(target)) {
        findings.push({
          offset: source.range?.[0] ?? 0,
          message: `YAML: a merge (<<) cycle: *${source.source} merges the map &${source.source} from inside it, which never ends; merge a map anchored outside &${source.source}`,
          cycle: source,
        });
        continue;
      }
      if (isMap(target) || (isAlias(source) && target === undefined)) continue; // the alias is reported
      const what = isAlias(source) ? `*${source.source} is ${kind(target)}` : `this is ${kind(target)}`;
      findings.push({
        offset: (isNode(source) ? source.range?.[0] : undefined) ?? (pair.key as Node).range?.[0] ?? 0,
        message: `YAML: a merge (<<) takes a map, an alias of a map, or a list of those; ${what}`,
      });
    }
  }
  return findings;
}

function kind(node: unknown): string {
  if (isSeq(node)) return "a list";
  if (isScalar(node) && node.value !== null) return "a single value";
  return "empty";
}
