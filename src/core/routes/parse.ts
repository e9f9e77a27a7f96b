// routes.yaml text -> RoutesConfig, or every problem in it at once, each positioned at the offending key or value.
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  Pair,
  parseDocument,
  type Scalar,
  visit,
  YAMLMap,
} from "yaml";
import type { Problem, RoutesConfig } from "../types";
import { compileRoutes } from "./compile";
import type { RoutesDoc } from "./document";
import { Locator } from "./positions";
import { ALIAS_GLOB_HINT, referenceFindings } from "./references";
import { schemaFindings } from "./schema";
import { semanticFindings } from "./semantics";

export interface ParseResult {
  config?: RoutesConfig;
  problems: Problem[];
}

/** Parses and validates routes.yaml. Never throws: anything wrong comes back as a positioned problem. */
export function parseRoutes(text: string, file: string): ParseResult {
  try {
    return parseUnsafe(text, file);
  } catch (error) {
    // A bug of ours, not the user's: still a problem, never a crash of `check` or `pulumi up`.
    return {
      problems: [
        { file, line: 1, col: 1, message: `internal error while reading: ${(error as Error).message}` },
      ],
    };
  }
}

function parseUnsafe(text: string, file: string): ParseResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    merge: true,
    uniqueKeys: true,
    // A collection used as a key is reported by the schema (as an unknown key); yaml need not warn on stderr.
    logLevel: "error",
  });
  const locator = new Locator(doc, lines);
  const problems: Problem[] = [];

  // Syntax first. The structure of a document with syntax errors is a guess, so nothing else is checked.
  for (const error of [...doc.errors, ...doc.warnings]) {
    const at = locator.offset(error.pos[0]);
    const message =
      error.code === "DUPLICATE_KEY"
        ? "duplicate key; a key may appear once in a map"
        : error.code === "MULTIPLE_DOCS"
          ? "more than one YAML document (a --- line after the first); keep routes.yaml one document"
          : error.code === "BAD_ALIAS"
            ? `${firstLine(error.message)}; ${ALIAS_GLOB_HINT}`
            : firstLine(error.message);
    problems.push({ file, ...at, message: `YAML: ${message}` });
  }
  // A duplicate key leaves the structure clear (the last value wins), so the other checks still run and
  // every problem is reported at once; after any other syntax error the structure is a guess.
  if (doc.errors.some((error) => error.code !== "DUPLICATE_KEY")) return { problems: sortUnique(problems) };

  // Alias and merge mistakes make doc.toJS throw without a position: find them on the nodes first.
  const references = referenceFindings(doc);
  for (const finding of references) {
    problems.push({ file, ...locator.offset(finding.offset), message: finding.message });
  }
  if (references.length > 0) return { problems: sortUnique(problems) };

  keepParameterNumbersAsWritten(doc);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // Left: too many aliases (a whole-file matter), or a yaml failure we do not foresee.
    problems.push({ file, line: 1, col: 1, message: `YAML: ${firstLine((error as Error).message)}` });
    return { problems: sortUnique(problems) };
  }

  for (const finding of schemaFindings(data)) {
    const at = finding.at === "key" ? locator.key(finding.path) : locator.value(finding.path);
    problems.push({ file, ...at, message: finding.message });
  }
  for (const finding of semanticFindings(data)) {
    const at =
      finding.at === "key"
        ? locator.key(finding.path)
        : finding.within
          ? locator.within(finding.path, text, finding.within)
          : locator.value(finding.path);
    let message = finding.message;
    if (finding.firstAt) message += ` (first used at line ${locator.value(finding.firstAt).line})`;
    problems.push({ file, ...at, message });
  }
  if (problems.length > 0) return { problems: sortUnique(problems) };
  return { config: compileRoutes(data as RoutesDoc), problems: [] };
}

function firstLine(message: string): string {
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "").trim();
}

/** In position order, each problem once (the schema and the semantic checks can say the same thing). */
function sortUnique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique = problems.filter((problem) => {
    const key = `${problem.line}:${problem.col}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => a.line - b.line || a.col - b.col || a.message.localeCompare(b.message));
}

/**
 * Jenkins parameters are text, and a number is taken as it is written: `VERSION: 1.10` is "1.10", not
 * "1.1"; `MODE: 0755` is "0755"; a 20-digit id keeps its digits. That holds for parameters reached
 * through an alias (`parameters: *p`) or a merge (`{ <<: *p }`) too: such a map is replaced by a merged
 * copy, so the anchor itself, which may be used elsewhere, is left as it is.
 */
function keepParameterNumbersAsWritten(doc: Document): void {
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || pair.key.value !== "parameters") return;
      const written = parametersAsWritten(doc, pair.value);
      if (written) pair.value = written;
    },
  });
}

/** A map of the parameters' effective entries, each number as its source text; undefined when not a map. */
function parametersAsWritten(doc: Document, node: unknown): YAMLMap | undefined {
  const map = resolveAlias(doc, node);
  if (!isMap(map)) return undefined;
  const result = new YAMLMap(doc.schema);
  result.flow = map.flow;
  result.range = isNode(node) ? node.range : map.range;
  const entries = new Map<unknown, Pair>();
  addEntries(doc, map, entries, new Set());
  result.items = [...entries.values()];
  return result;
}

/** yaml's merge order: a map's own keys win; among merge sources, the first to set a key wins. */
function addEntries(doc: Document, map: YAMLMap, entries: Map<unknown, Pair>, seen: Set<YAMLMap>): void {
  if (seen.has(map)) return;
  seen.add(map);
  for (const item of map.items) {
    if (isScalar(item.key) && typeof item.key.value === "symbol") {
      const sources = isSeq(item.value) ? item.value.items : [item.value];
      for (const source of sources) {
        const merged = resolveAlias(doc, source);
        if (!isMap(merged)) continue;
        const inherited = new Map<unknown, Pair>();
        addEntries(doc, merged, inherited, seen);
        for (const [key, pair] of inherited) if (!entries.has(key)) entries.set(key, pair);
      }
      continue;
    }
    const key = isScalar(item.key) ? item.key.value : item.key;
    const target = resolveAlias(doc, item.value);
    const written = numberAsWritten(target);
    entries.set(key, new Pair(item.key, written === target ? item.value : written));
  }
  seen.delete(map);
}

function numberAsWritten(value: unknown): unknown {
  if (!isScalar(value) || typeof value.value !== "number" || typeof value.source !== "string") return value;
  const copy = value.clone() as Scalar;
  copy.value = copy.source;
  copy.anchor = undefined;
  return copy;
}

function resolveAlias(doc: Document, node: unknown): unknown {
  let current = node;
  for (let hops = 0; isAlias(current) && hops < 16; hops++) current = current.resolve(doc);
  return current;
}
