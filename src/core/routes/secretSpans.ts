// Where routes.yaml holds a secret's name (or, pasted by mistake, the secret itself): a YAML problem there is
// said without the text, since yaml's own messages and ours quote what they stumble on.
import { type Document, isAlias, isPair, isScalar, visit } from "yaml";
import schema from "../../../routes.schema.json";
import type { Resolve } from "./anchors";
import { looksRandom, secretRefProblem } from "./checks";

/**
 * The keys whose value names a secret (routes.schema.json's secretName: secret, token, credentials,
 * caBundle), wherever they stand: a Jenkins parameter of one of these names may carry a token too.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["secret", "token", "credentials", "caBundle"]);

export interface SecretSpan {
  key: string;
  /** After the key, up to (not at) the end of its value: a tag or an anchor in front of the value included. */
  start: number;
  end: number;
}

/** The value of each key in SECRET_KEYS, wherever it stands (a key written through an alias too). */
export function secretValueSpans(doc: Document, resolve: Resolve): SecretSpan[] {
  const spans: SecretSpan[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair)) return;
      const key = resolve(pair.key);
      if (!isScalar(key) || typeof key.value !== "string" || !SECRET_KEYS.has(key.value)) return;
      const keyEnd = (pair.key as { range?: [number, number, number] } | null)?.range?.[1];
      if (keyEnd === undefined) return;
      const range = (pair.value as { range?: [number, number, number] } | null)?.range;
      // Up to the value's end, not its comment: what follows a closed quote ("name"# x) is no part of it.
      spans.push({ key: key.value, start: keyEnd, end: range?.[1] ?? keyEnd });
    },
  });
  return spans;
}

/**
 * The texts under a secret-holding key, in a node given an anchor (`credentials: &s ghp_…`), that a problem
 * there does not show (no Secrets Manager name, or one that looks random): an alias may repeat them where a
 * problem quotes its value (`name: *s`). A name shown at its own place (`&j hookgate/jenkins`) is not among them.
 */
export function anchoredSecretValues(doc: Document, resolve: Resolve): string[] {
  const texts = new Set<string>();
  const collect = (node: unknown): void => {
    visit(node as Parameters<typeof visit>[0], {
      Scalar(_, scalar) {
        const value = scalar.value;
        if (typeof value !== "string") return;
        if (secretRefProblem(value) !== undefined || looksRandom(value)) texts.add(value);
      },
    });
  };
  visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair)) return;
      const key = resolve(pair.key);
      if (!isScalar(key) || typeof key.value !== "string" || !SECRET_KEYS.has(key.value)) return;
      if (pair.value === null || isAlias(pair.value)) return;
      const anchored: unknown[] = [];
      visit(pair.value as Parameters<typeof visit>[0], {
        Node(_key, node) {
          if (!isAlias(node) && node.anchor) anchored.push(node);
        },
      });
      for (const node of anchored) collect(node);
    },
  });
  return [...texts];
}

/**
 * The secret-holding key whose value holds `offset`: from the spans, or (where a syntax error left no pair
 * to find) from the line, when `key:` and one unbroken word (no quote) stand before the offset; not by the line
 * when `byLine` is false (a missing "}" or "]" found after the value).
 */
export function secretKeyAt(
  spans: readonly SecretSpan[],
  text: string,
  offset: number,
  byLine = true,
): string | undefined {
  for (const span of spans) if (offset > span.start && offset < span.end) return span.key;
  // At the end of the text, what is wrong is what is missing there (a "}"), not the value before it.
  if (!byLine || offset >= text.length) return undefined;
  const line = text.slice(text.lastIndexOf("\n", offset - 1) + 1, offset);
  return (
    /(?:^|[\s{,?-])["']?(secret|token|credentials|caBundle)["']?[ \t]*:[ \t]+[^\s,{}[\]"']*$/.exec(
      line,
    )?.[1] ?? flowIndicatorFirst(line)
  );
}

/**
 * The secret-holding key of a line (up to a problem) whose value starts with a character that ends a value in
 * a flow map (`token: }Xk9,!Yz`, `credentials: , !Xk9`): YAML read what was pasted after it as the map's own
 * structure, a tag or a key, which a problem would quote.
 */
function flowIndicatorFirst(line: string): string | undefined {
  return /(?:^|[\s{,?-])["']?(secret|token|credentials|caBundle)["']?[ \t]*:[ \t]+[,}\]]\S*[ \t]*$/.exec(
    line,
  )?.[1];
}

/** Whether the value of the secret-holding key before `offset`, on its line, starts with "," "}" or "]". */
export function startsWithFlowIndicator(text: string, offset: number): boolean {
  return flowIndicatorFirst(text.slice(text.lastIndexOf("\n", offset - 1) + 1, offset)) !== undefined;
}

/** What YAML read a pasted value's first character as ("other": anything else it could not read). */
export type SecretValueReading =
  | "tag"
  | "alias"
  | "block scalar header"
  | "reserved character"
  | "flow indicator"
  | "other";

/** A YAML problem in the value of `key`, said without the value: it may be the secret itself. */
export function secretValueMessage(key: string, reading: SecretValueReading): string {
  const what =
    reading === "tag"
      ? "YAML reads its first character (!) as a tag"
      : reading === "alias"
        ? "YAML reads its first character (*) as an alias, and no anchor of that name is set before it"
        : reading === "block scalar header"
          ? "YAML reads its first character (| or >) as a block scalar header"
          : reading === "reserved character"
            ? "it starts with a character YAML reserves (@ or `)"
            : reading === "flow indicator"
              ? "it starts with a character that ends a value in a flow map (a comma, } or ])"
              : "YAML cannot read it as written";
  return (
    `the value of ${key} is not read: ${what} (the value is not shown: it may be a secret). routes.yaml ` +
    "holds a secret's Secrets Manager name, never the secret itself: quote a name that starts so"
  );
}

/**
 * What a "," in a flow map may have split off a secret-holding value: a key (`hunter2,Xk9`) with its value
 * (`hunter2,x: Xk9`), or the value of a key the map has, written right after the "," (`hunter2,url: Xk9`).
 */
export interface FlowCommaLeak {
  /** The secret-holding key whose value the "," ended. */
  key: string;
  /** The split-off text as written (and as converted, when that differs): the key's and its value's. */
  texts: string[];
  /** Where the split-off text starts: the key, or the value after a key the map has. */
  offset: number;
  /**
   * From just after (`region[0]` is not in it) the "," (or the start of a value after a key the map has) to the
   * split-off text's end, its value included: a tag or an anchor written in front of the key (`hunter2,!Xk9`)
   * too. A problem placed in it is about what may be the rest of a pasted secret.
   */
  region: [number, number];
}

let siblingsOf: Map<string, Set<string>> | undefined;

/**
 * The keys a map holding `key` may have: those of each object of routes.schema.json that has `key` (a route's
 * secret: name, match, action...). `secret: hookgate/gh,match: {...}` is valid YAML, two keys of the route.
 */
function siblingKeys(key: string): ReadonlySet<string> {
  if (siblingsOf === undefined) {
    const found = new Map<string, Set<string>>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) for (const item of node) walk(item);
      if (node === null || typeof node !== "object" || Array.isArray(node)) return;
      const properties = (node as { properties?: unknown }).properties;
      if (properties !== null && typeof properties === "object" && !Array.isArray(properties)) {
        const names = Object.keys(properties);
        for (const name of names.filter((n) => SECRET_KEYS.has(n))) {
          const set = found.get(name) ?? new Set<string>();
          for (const n of names) set.add(n);
          found.set(name, set);
        }
      }
      for (const value of Object.values(node)) walk(value);
    };
    walk(schema);
    siblingsOf = found;
  }
  return siblingsOf.get(key) ?? new Set();
}

/**
 * A key straight after a secret-holding pair in a flow map, parted by ", " (`{ secret: hunter2, Xk9: x }`): most
 * often a key of the map's own, but if it is unknown, it may be the rest of a pasted secret.
 */
export interface NextKey {
  /** The secret-holding key before it. */
  key: string;
  /** Where the key starts. */
  offset: number;
}

/**
 * In a flow map, each key that follows a secret-holding pair (`{ secret: hunter2,Xk9 }`) with only a "," between
 * (or a "," and spaces, when the key has no value: a line break in the pasted value), and each bare key chained
 * on after one (`hunter2,Xk9,Yz`): YAML ends a plain value at a "," in a flow map, so
 * what was pasted after it is read as a key, which a problem would quote.
 */
export function flowCommaLeaks(
  doc: Document,
  resolve: Resolve,
  text: string,
  nextKeys: NextKey[] = [],
): FlowCommaLeak[] {
  const leaks: FlowCommaLeak[] = [];
  const range = (node: unknown) => (node as { range?: [number, number, number] } | null)?.range;
  visit(doc, {
    Map(_, map) {
      if (!map.flow) return;
      // The secret-holding key whose value runs on into the current pair, if any, and whether it was empty.
      let running: string | undefined;
      let runningEmpty = false;
      let previousEnd: number | undefined;
      for (const pair of map.items) {
        const keyRange = range(pair.key);
        const valueRange = range(pair.value);
        const keyNode = resolve(pair.key);
        const name = isScalar(keyNode) && typeof keyNode.value === "string" ? keyNode.value : undefined;
        const between = keyRange && previousEnd !== undefined ? text.slice(previousEnd, keyRange[0]) : "";
        // `secret: hunter2,Xk9` (nothing after the ","), or a bare key, with no value, after it: a key of the
        // map's own (`secret: hookgate/gh, colour: red`) is parted by a space and has a value. A "!", "&" or
        // "? " after the "," is still the pasted value, which YAML reads as a tag, an anchor or a key's mark.
        // After an empty value (`token: , Xk9: z`) the pasted value started with ", ": the key is of it too.
        const onlyComma =
          /^\s*,(?:[!&][^\s,{}[\]]*\s*|\?\s+)*$/.test(between) ||
          (/^\s*,\s*(?:[!&][^\s,{}[\]]*\s*|\?\s+)*$/.test(between) && (pair.value == null || runningEmpty));
        // A key the map may have, with a value: the map's own, the value before it ended by the "," as YAML says.
        const ownKey =
          name !== undefined && pair.value != null && running !== undefined && siblingKeys(running).has(name);
        // A value YAML ends at the next "," (plain text, an alias, none): what follows may be more of the secret.
        const plainValue =
          pair.value == null ||
          isAlias(pair.value) ||
          (isScalar(pair.value) && pair.value.type !== "QUOTE_DOUBLE" && pair.value.type !== "QUOTE_SINGLE");
        let holds: string | undefined;
        if (running !== undefined && onlyComma && !ownKey && keyRange !== undefined) {
          const written = text.slice(keyRange[0], keyRange[1]);
          const converted = isScalar(keyNode) ? String(keyNode.value) : written;
          // A tag's or an anchor's own problem quotes it (`the tag !Xk9 is not read`).
          const marks = between.match(/[!&][^\s,{}[\]]*/g) ?? [];
          const texts = [written, converted, ...marks, ...valueTexts(pair.value, text)];
          leaks.push({
            key: running,
            texts: [...new Set(texts)].filter((t) => t.trim() !== ""),
            offset: keyRange[0],
            // `hunter2,x: *Xk9`: the pair's value is as much the pasted text as its key.
            region: [previousEnd ?? keyRange[0], Math.max(keyRange[1], valueRange?.[1] ?? 0)],
          });
          // `hunter2,Xk9,Yz`, `hunter2,x: y,Xk9`: a value YAML ended at a "," may go on after it.
          holds = plainValue ? running : undefined;
        } else if (running !== undefined && keyRange !== undefined) {
          nextKeys.push({ key: running, offset: keyRange[0] });
          // `credentials: hunter2,url: Xk9`: a key the map has, right after the ",", its value plain text,
          // may be the rest of a pasted secret (or `credentials: hookgate/j,url: https://...`): its value is
          // not shown, its key is.
          if (ownKey && onlyComma && plainValue && valueRange !== undefined) {
            leaks.push({
              key: running,
              texts: [...new Set(valueTexts(pair.value, text))].filter((t) => t.trim() !== ""),
              offset: valueRange[0],
              region: [valueRange[0] - 1, valueRange[1]],
            });
            holds = running;
          }
          // `secret: hunter2, x: Xk9,Yz`: a key the map has not, after ", ", is said without its text (a
          // NextKey); if its value is plain text, what a "," splits off that may be more of the secret.
          const known = name !== undefined && siblingKeys(running).has(name);
          if (!known && plainValue) holds = running;
        }
        // A quoted value ends at its closing quote: nothing after it is split off it ("hookgate/j",ur: x).
        const quoted =
          isScalar(pair.value) && (pair.value.type === "QUOTE_DOUBLE" || pair.value.type === "QUOTE_SINGLE");
        // A secret-holding key of the map's own (`credentials: a,caBundle: b`) holds what follows its own value.
        if ((holds === undefined || ownKey) && name !== undefined && SECRET_KEYS.has(name) && !quoted)
          holds = name;
        running = holds;
        runningEmpty =
          holds === name &&
          (pair.value == null ||
            (isScalar(pair.value) && pair.value.value === null && pair.value.source === ""));
        previousEnd = valueRange?.[1] ?? keyRange?.[1];
      }
    },
  });
  return leaks;
}

/** A pair's plain value as written and as read (an alias by its name too): a problem may quote either. */
function valueTexts(value: unknown, text: string): string[] {
  const valueRange = (value as { range?: [number, number, number] } | null)?.range;
  if (valueRange === undefined || !(isScalar(value) || isAlias(value))) return [];
  const written = text.slice(valueRange[0], valueRange[1]);
  return isAlias(value) ? [written, value.source] : [written, String(value.value)];
}

/**
 * The secret-holding key of the line before `offset` whose value runs, unbroken but for spaces after a ",", up
 * to a "," just before it (`secret: hunter2[Xk9,!Yz`, `secret: hunter2, !Xk9"`): a tag or an alias there that
 * YAML could not make a key of is the rest of the value, which its problem would quote.
 */
export function flowCommaTagKey(text: string, offset: number): string | undefined {
  const line = text.slice(text.lastIndexOf("\n", offset - 1) + 1, offset);
  return /(?:^|[\s{,?-])["']?(secret|token|credentials|caBundle)["']?[ \t]*:[ \t]+\S*,[ \t]*$/.exec(
    line,
  )?.[1];
}

/** The leak whose region (from its "," to its key's end) holds `offset`, if any. */
export function flowCommaLeakAt<T extends FlowCommaLeak>(leaks: readonly T[], offset: number): T | undefined {
  return leaks.find((leak) => offset > leak.region[0] && offset <= leak.region[1]);
}

/** An unknown-key problem at a NextKey, without the key's text (`prefix`: where, as `route "a": `). */
export function nextKeyMessage(prefix: string, key: string): string {
  return (
    `${prefix}unknown key right after the value of ${key} (the key is not shown: it may be the rest of a ` +
    `secret split by ", "; quote the value if so)`
  );
}

/** A problem that would quote a key a "," split off the value of `key`: said without the key's text. */
export function flowCommaMessage(key: string): string {
  return `a "," in a flow map ended the value of ${key}; quote the value (the rest is not shown: it may be a secret)`;
}
