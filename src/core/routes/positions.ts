// Maps a path in the parsed data (["routes", 0, "match"]) back to a node of the YAML document, so problems
// carry the line and column of the offending key or value.
import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type Node, type Pair } from "yaml";
import { isMergeKey, mergeSourcesOf, type Resolve } from "./anchors";

export type PathSegment = string | number;

export interface Position {
  line: number;
  col: number;
}

interface Found {
  /** The node at the path, when it exists in the source. */
  value?: Node;
  /** The key node of the last map entry on the path. */
  key?: Node;
  /** The deepest node that exists along the path (the path's value, or an ancestor). */
  nearest?: Node;
}

export class Locator {
  /** Where each line starts in the text: offset 0, and the offset after each \n (a \r\n ends one line too). */
  private readonly lineStarts: number[];
  /** The text starts with a byte-order mark, which no editor counts as a column. */
  private readonly bom: boolean;

  /**
   * `resolve`: the document's aliases from one walk (anchors.ts); without it each alias on a path is looked
   * up by yaml, which walks the whole document.
   */
  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly resolveAlias: Resolve = (node) => (isAlias(node) ? node.resolve(doc) : node),
  ) {
    // Counted here, not by yaml's LineCounter: that one misses the line breaks inside a token that is a
    // syntax error (an unclosed quote), so every position after it was on the wrong line.
    this.lineStarts = [0];
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) this.lineStarts.push(i + 1);
    this.bom = text.charCodeAt(0) === 0xfeff;
  }

  /** Where the value at `path` starts (its key when the value is empty; an ancestor when absent). */
  value(path: readonly PathSegment[]): Position {
    const found = this.find(path);
    return this.at(found.value ?? found.key ?? found.nearest);
  }

  /** Where the key of the entry at `path` starts (for unknown keys). */
  key(path: readonly PathSegment[]): Position {
    const found = this.find(path);
    return this.at(found.key ?? found.value ?? found.nearest);
  }

  /**
   * Where `pattern` first matches inside the source text of the scalar at `path` (a placeholder inside a
   * template), or the value's start when it does not match there.
   */
  within(path: readonly PathSegment[], source: string, pattern: RegExp | undefined): Position {
    const found = this.find(path);
    const range = found.value?.range;
    if (pattern && range && isScalar(found.value)) {
      const match = pattern.exec(source.slice(range[0], range[1]));
      if (match) return this.offset(range[0] + match.index);
    }
    return this.value(path);
  }

  /** The node written for the value at `path` (through aliases and merges), when the source has one. */
  node(path: readonly PathSegment[]): Node | undefined {
    return this.find(path).value;
  }

  /** Where the source offset is. */
  offset(offset: number): Position {
    const at = Math.min(Math.max(0, offset), this.text.length);
    // The last line that starts at or before the offset.
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.lineStarts[middle] as number) <= at) low = middle;
      else high = middle - 1;
    }
    const col = at - (this.lineStarts[low] as number) + 1;
    return { line: low + 1, col: Math.max(1, this.bom && low === 0 ? col - 1 : col) };
  }

  private at(node: Node | undefined): Position {
    const start = node?.range?.[0];
    return start === undefined ? { line: 1, col: 1 } : this.offset(start);
  }

  private find(path: readonly PathSegment[]): Found {
    let current: unknown = this.doc.contents;
    let key: Node | undefined;
    let nearest: Node | undefined = isNode(current) ? current : undefined;
    for (const segment of path) {
      const resolved = this.resolve(current);
      if (isMap(resolved)) {
        const pair = findPair(this.resolveAlias, resolved.items as Pair[], String(segment));
        if (!pair) return { key: undefined, nearest };
        key = isNode(pair.key) ? pair.key : undefined;
        current = pair.value;
        nearest = isNode(current) ? current : (key ?? nearest);
      } else if (isSeq(resolved)) {
        const item = resolved.items[Number(segment)];
        if (!isNode(item)) return { nearest };
        key = undefined;
        current = item;
        nearest = item;
      } else {
        return { nearest };
      }
    }
    return { value: isNode(current) ? current : undefined, key, nearest };
  }

  private resolve(node: unknown): unknown {
    let current = node;
    for (let hops = 0; isAlias(current) && hops < 16; hops++) current = this.resolveAlias(current);
    return current;
  }
}

/**
 * The entry for `key`, looking into `<<` merge sources when the map has no such key of its own. Of a key
 * written twice (a duplicate, reported), the last: its value is the one yaml keeps and the other checks read.
 * Among merge sources the first to set the key, as yaml merges: the map's own keys, then each source in
 * order, depth first (a source's own keys before the sources it merges), at any depth as yaml follows them.
 * Each map is searched once: one searched without the key cannot have it on another path, so a file of maps
 * each merging the one before ten times costs its size, not 10^depth. A stack, not recursion: a chain of
 * thousands of anchors each merging the one before is shallow in the text but deep here.
 */
function findPair(resolve: Resolve, items: Pair[], key: string): Pair | undefined {
  const searched = new Set<Pair[]>();
  const stack: Pair[][] = [items];
  while (stack.length > 0) {
    const current = stack.pop() as Pair[];
    if (searched.has(current)) continue;
    searched.add(current);
    let own: Pair | undefined;
    for (const pair of current) if (keyText(resolve, pair.key) === key) own = pair;
    if (own) return own;
    // Pushed last source first, so the first source is searched next (with all it merges) before the second.
    const sources: unknown[] = [];
    for (const pair of current) {
      if (isMergeKey(pair.key)) sources.push(...mergeSourcesOf(pair.value));
    }
    for (let i = sources.length - 1; i >= 0; i--) {
      const map = resolve(sources[i]);
      if (isMap(map)) stack.push(map.items as Pair[]);
    }
  }
  return undefined;
}

/**
 * The key's text, through an alias (`*k :` with `&k branches` is the key branches). An empty or null key
 * (`: x`, `~: x`, `null: x`) is "", as the converted object names it (anchors.ts convertedKeyText).
 */
function keyText(resolve: Resolve, written: unknown): string | undefined {
  if (isMergeKey(written)) return undefined;
  const key = resolve(written);
  if (isScalar(key)) return key.value === null || key.value === undefined ? "" : String(key.value);
  if (typeof key === "string" || typeof key === "number") return String(key);
  return undefined;
}
