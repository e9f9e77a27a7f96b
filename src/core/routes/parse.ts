// routes.yaml text -> RoutesConfig, or every problem in it at once, each positioned at the offending key or value.
import {
  CST,
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  type Pair,
  Parser,
  parseDocument,
  Scalar,
  visit,
  type YAMLError,
  YAMLMap,
  type YAMLSeq,
} from "yaml";
import { shownText, shownYamlMessage, withoutInvisible } from "../shownText";
import type { Problem, RoutesConfig } from "../types";
import {
  aliasExpansionPast,
  aliasResolver,
  convertedKeyText,
  isMergeKey,
  mergeSourcesOf,
  type Resolve,
} from "./anchors";
import { credentialWords, withoutSecretLookalikes } from "./checks";
import { compileRoutes } from "./compile";
import type { RoutesDoc } from "./document";
import { documentNotes } from "./documentNotes";
import { DUPLICATE_KEY, duplicateKeyFindings, nonTextKeyFindings } from "./keys";
import { Locator, type PathSegment, type Position } from "./positions";
import { typographicQuoteFindings, withoutTypographicQuotes } from "./quotes";
import { ALIAS_GLOB_HINT, type ReferenceFinding, referenceFindings } from "./references";
import { type SchemaFinding, schemaFindings, UNQUOTED_TEMPLATE } from "./schema";
import {
  anchoredSecretValues,
  type FlowCommaLeak,
  flowCommaLeakAt,
  flowCommaLeaks,
  flowCommaMessage,
  flowCommaTagKey,
  type NextKey,
  nextKeyMessage,
  type SecretValueReading,
  secretKeyAt,
  secretValueMessage,
  secretValueSpans,
  startsWithFlowIndicator,
} from "./secretSpans";
import { semanticFindings } from "./semantics";

export interface ParseResult {
  config?: RoutesConfig;
  problems: Problem[];
}

/** Parses and validates routes.yaml. Never throws: anything wrong comes back as a positioned problem. */
export function parseRoutes(text: string, file: string): ParseResult {
  try {
    const leaks: PlacedLeak[] = [];
    const nextKeys: PlacedKey[] = [];
    const anchoredSecrets: string[] = [];
    const result = parseUnsafe(text, file, leaks, nextKeys, anchoredSecrets);
    // What a problem says that changes with the split-off text is that text (a step's keys, a suggestion):
    // found by reading the file again with each of its letters and digits changed.
    const changed =
      leaks.length > 0 && result.problems.length > 0
        ? parseUnsafe(withSplitOffTextChanged(text, leaks), file, [], []).problems
        : [];
    for (const problem of result.problems)
      problem.message = withoutSplitOffSecret(problem, leaks, nextKeys, changed);
    // Any other text that looks like a credential (a token after a space in a URL, a key, a secret's value an
    // alias repeats) is not shown, wherever a message quotes it.
    if (result.problems.length > 0) {
      const hidden = [...credentialWords(text), ...anchoredSecrets.flatMap(quotedForms)];
      for (const problem of result.problems)
        problem.message = withoutSecretLookalikes(problem.message, hidden);
    }
    // A message quotes what the file holds (a key with an ESC or a CR in it): never as a control character,
    // which would move the terminal's cursor, colour it, or break the one line a problem takes.
    for (const problem of result.problems) problem.message = withoutInvisible(problem.message);
    return result;
  } catch (error) {
    // A bug of ours, not the user's: still a problem, never a crash of `check` or `pulumi up`.
    return {
      problems: [
        // One line, as every problem: FILE:LINE:COL: message.
        {
          file,
          line: 1,
          col: 1,
          message: withoutInvisible(`internal error while reading: ${firstLine((error as Error).message)}`),
        },
      ],
    };
  }
}

/** A text as it is, and as shownText writes it inside its quotes (a " or \\ escaped). */
function quotedForms(text: string): string[] {
  const escaped = shownText(text, Number.POSITIVE_INFINITY).slice(1, -1);
  return escaped === text ? [text] : [text, escaped];
}

/** Where the value at `path` (["routes", 2, "name"]) starts in a routes file's text, for a later finding. */
export function positionInRoutes(text: string, path: readonly PathSegment[]): Position {
  const doc = parseDocument(text, { merge: true, logLevel: "silent" });
  return new Locator(doc, text).value(path);
}

/** What a "," split off a secret's value in a flow map, with where its region starts and ends. */
interface PlacedLeak extends FlowCommaLeak {
  /** The first and the last position of its region. */
  first: Position;
  last: Position;
}

/**
 * The problem's message, or (when it stands where a "," split off a secret's value) one that does not quote
 * what was split off: it may be the rest of a pasted secret. A problem elsewhere is said as it is, but for
 * what of it changes with that text (`changed`: the problems of the file with it changed), left out as "…":
 * a step's keys, listed at the step. One that merely holds the same word ("job", a route named "a") is kept.
 */
function withoutSplitOffSecret(
  problem: Problem,
  leaks: readonly PlacedLeak[],
  nextKeys: readonly PlacedKey[],
  changed: readonly Problem[],
): string {
  const leak = leaks.find((l) => !before(problem, l.first) && !before(l.last, problem));
  if (leak !== undefined) return `YAML: ${flowCommaMessage(leak.key)}`;
  // `{ secret: hunter2, Xk9: x }`: an unknown key straight after a secret's value may be the rest of it.
  const next = nextKeys.find((k) => k.at.line === problem.line && k.at.col === problem.col);
  const said = (message: string) => {
    const unknown = message.indexOf('unknown key "');
    // A key within a typo of one the map has ("caBundel", did you mean "caBundle"?) is a misspelt key: quoted.
    const typo = message.includes('; did you mean "');
    return unknown >= 0 && next !== undefined && !typo
      ? nextKeyMessage(message.slice(0, unknown), next.key)
      : message;
  };
  const message = said(problem.message);
  if (leaks.length === 0) return message;
  const there = changed
    .filter((p) => p.line === problem.line && p.col === problem.col)
    .map((p) => said(p.message));
  if (there.includes(message)) return message;
  // Said the same way, but for characters the change changed: those are the split-off text.
  const twins = there.filter((m) => m.length === message.length);
  if (twins.length > 0) {
    const differing = (m: string) => m.split("").filter((c, i) => c !== message[i]).length;
    const twin = twins.reduce((a, b) => (differing(b) < differing(a) ? b : a));
    return withoutChangedText(message, twin);
  }
  // Said otherwise, or not at all, once the text changed: each split-off text it quotes is left out.
  return withoutTexts(
    message,
    leaks.flatMap((l) => l.texts),
  );
}

/** `text` with each ASCII letter and digit of what a "," split off a secret's value changed to the next one. */
function withSplitOffTextChanged(text: string, leaks: readonly FlowCommaLeak[]): string {
  const chars = text.split("");
  for (const leak of leaks)
    for (let i = leak.region[0] + 1; i < Math.min(leak.region[1], chars.length); i++)
      chars[i] = nextCharacter(chars[i] as string);
  return chars.join("");
}

/** The next digit or letter of the same case, round (9 -> 0, z -> a); anything else as it is. */
function nextCharacter(c: string): string {
  for (const run of ["0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]) {
    const at = run.indexOf(c);
    if (at >= 0) return run[(at + 1) % run.length] as string;
  }
  return c;
}

/** Characters that end a quoted text in a message: the "…" never reaches past them. */
const TEXT_END = /[\s"'`,;:.()[\]{}<>=]/;

/**
 * `message` with each stretch where it differs from `twin` (the same message with the split-off text changed)
 * written as "…". A stretch grows over characters no change touches at its ends (a "-", a non-ASCII letter),
 * up to a space, a quote or another end of a text, and takes in what parts it from the next (`ab.cd`).
 */
function withoutChangedText(message: string, twin: string): string {
  const hidden = message.split("").map((c, i) => c !== twin[i]);
  const grows = (i: number) => {
    const c = message[i] as string;
    return !hidden[i] && !/[A-Za-z0-9]/.test(c) && !TEXT_END.test(c);
  };
  for (let i = 0; i < hidden.length; i++) {
    if (!hidden[i]) continue;
    for (let j = i - 1; j >= 0 && grows(j); j--) hidden[j] = true;
  }
  for (let i = hidden.length - 1; i >= 0; i--) {
    if (!hidden[i]) continue;
    for (let j = i + 1; j < hidden.length && grows(j); j++) hidden[j] = true;
  }
  // Between two changed stretches, what is neither a letter, a digit, a space nor a quote is of the same
  // text (`ab.cd`): one stretch.
  let last = -1;
  for (let i = 0; i < hidden.length; i++) {
    if (!hidden[i]) continue;
    if (last >= 0 && i > last + 1 && /^[^A-Za-z0-9\s"'`]+$/.test(message.slice(last + 1, i)))
      for (let j = last + 1; j < i; j++) hidden[j] = true;
    last = i;
  }
  let shown = "";
  for (let i = 0; i < message.length; i++) {
    if (!hidden[i]) shown += message[i];
    else if (i === 0 || !hidden[i - 1]) shown += "…";
  }
  return shown;
}

/** `message` with each of `texts` it holds as a whole (no letter or digit either side) written as "…". */
function withoutTexts(message: string, texts: readonly string[]): string {
  let shown = message;
  for (const t of [...new Set(texts)].sort((a, b) => b.length - a.length)) {
    const escaped = t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    shown = shown.replace(new RegExp(`(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "g"), "…");
  }
  return shown;
}

/** A key straight after a secret's value in a flow map, with where it stands. */
interface PlacedKey extends NextKey {
  at: Position;
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.col < b.col);
}

function parseUnsafe(
  text: string,
  file: string,
  leaks: PlacedLeak[],
  placedKeys: PlacedKey[],
  anchoredSecrets: string[] = [],
): ParseResult {
  // YAML breaks lines at \n only: a file saved with CR line endings (classic Mac) is one long line, and yaml's
  // problems with it are nonsense. Said once, before yaml reads it.
  if (text.includes("\r") && !text.includes("\n")) {
    return { problems: [{ file, line: 1, col: 1, message: CR_ONLY }] };
  }
  let doc: Document;
  try {
    doc = parseDocument(text, {
      prettyErrors: false,
      merge: true,
      uniqueKeys: true,
      // !!omap, !!set, !!pairs, !!binary and !!timestamp build a JS Map, Set, bytes or Date, which the schema
      // took for an empty map (`match: !!omap [...]` matched every event). Unresolved, they are refused below.
      resolveKnownTags: false,
      // A collection used as a key is refused below (documentShape); yaml need not warn on stderr.
      logLevel: "error",
    });
  } catch (error) {
    // yaml's parser recurses once per level of block nesting: thousands of levels overflow the stack there,
    // before any document exists to walk.
    if (!(error instanceof RangeError)) throw error;
    const at = new Locator(parseDocument(""), text).offset(deepBlockStart(text) ?? 0);
    return { problems: [{ file, ...at, message: TOO_DEEP }] };
  }
  const problems: Problem[] = [];

  // Before anything that recurses over the document (yaml's visit and toJS, our own walks): a file nested
  // thousands deep would overflow the stack ("Maximum call stack size exceeded", said at 1:1 or not at all).
  const shape = documentShape(doc);
  // yaml's composer stops at a stack overflow of its own with an error (where it was, deep inside).
  const overflow = doc.errors.find((error) => /Maximum call stack/.test(error.message));
  if (shape.tooDeep !== undefined || overflow) {
    const at = new Locator(doc, text).offset(shape.tooDeep ?? overflow?.pos[0] ?? 0);
    return { problems: [{ file, ...at, message: TOO_DEEP }] };
  }
  // Every alias look-up below goes through one walk of the document (yaml's own walks it per look-up).
  const resolve = aliasResolver(doc);
  anchoredSecrets.push(...anchoredSecretValues(doc, resolve));
  const locator = new Locator(doc, text, resolve);
  const nextKeys: NextKey[] = [];
  for (const leak of flowCommaLeaks(doc, resolve, text, nextKeys))
    leaks.push({
      ...leak,
      first: locator.offset(leak.region[0] + 1),
      last: locator.offset(leak.region[1]),
    });
  for (const next of nextKeys) placedKeys.push({ ...next, at: locator.offset(next.offset) });

  // Syntax first. The structure of a document with syntax errors is a guess, so nothing else is checked.
  const quoteStarts = unclosedQuoteStarts(doc);
  const flowStart = unendedFlowStarts(doc);
  // yaml can say the same thing twice at one place (`job: {{` at the end of the file: once per "{"): said once.
  const said = new Map<string, YamlProblem>();
  const exclusions = unquotedExclusions(locator, text, resolve);
  const secrets = secretValueSpans(doc, resolve);
  for (const error of [...doc.errors, ...doc.warnings]) {
    // yaml places a missing closing quote where the quoted text ends: at the end of the file, or at the next
    // quote of the same kind, far from the quote that is missing its partner.
    const quoteStart =
      error.code === "MISSING_CHAR" && error.message.startsWith("Missing closing")
        ? quoteStarts.get(error.pos[0])
        : undefined;
    // Likewise a flow map or list without its "}" or "]": where it opens, not at the line or file end after it.
    const opening = flowStart(error);
    const at = locator.offset(quoteStart ?? opening ?? error.pos[0]);
    // In a secret's value, yaml's message and ours would quote what may be the secret pasted there.
    // A flow map or list missing its end is said as yaml says it, even where a secret's name comes before.
    const flowEnd = error.code === "MISSING_CHAR" || /end with an? [}\]]/.test(error.message);
    const secretKey =
      quoteStart === undefined ? secretKeyAt(secrets, text, error.pos[0], !flowEnd) : undefined;
    // A tag or an alias a "," split off a secret's value (`secret: hunter2,!Xk9`): its message would quote it.
    const leakKey =
      isTagError(error) || error.code === "BAD_ALIAS"
        ? (flowCommaLeakAt(leaks, error.pos[0])?.key ??
          (secretKey === undefined ? flowCommaTagKey(text, error.pos[0]) : undefined))
        : undefined;
    const message =
      leakKey !== undefined
        ? flowCommaMessage(leakKey)
        : secretKey !== undefined
          ? secretValueMessage(
              secretKey,
              startsWithFlowIndicator(text, error.pos[0]) ? "flow indicator" : yamlReading(error),
            )
          : quoteStart !== undefined
            ? `${firstLine(error.message)}: the text quoted here is never closed`
            : error.code === "DUPLICATE_KEY"
              ? DUPLICATE_KEY
              : error.code === "MULTIPLE_DOCS"
                ? "more than one YAML document (a --- line after the first); keep routes.yaml one document"
                : error.code === "BAD_ALIAS"
                  ? `${firstLine(error.message)}; ${ALIAS_GLOB_HINT}`
                  : isTagError(error)
                    ? tagMessage(error, text, exclusions)
                    : firstLine(error.message);
    const key = `${at.line}:${at.col}:${message}`;
    if (said.has(key)) continue;
    const syntax = error.code !== "DUPLICATE_KEY" && doc.errors.includes(error);
    said.set(key, {
      at,
      line: lineAt(text, opening ?? error.pos[0]),
      message,
      syntax,
      cause:
        quoteStart !== undefined
          ? "quote"
          : opening !== undefined
            ? { opens: opening, unendedAt: error.pos[0] }
            : undefined,
    });
  }
  // An exclusion under the non-specific tag (`!"release/*"`, `! release/*`) yaml reads as text, unwarned.
  const tagWarnings = new Set(doc.warnings.filter(isTagError).map((warning) => warning.pos[0]));
  for (const [offset, message] of exclusions) {
    if (tagWarnings.has(offset)) continue;
    const at = locator.offset(offset);
    said.set(`${at.line}:${at.col}:${message}`, { at, line: lineAt(text, offset), message, syntax: false });
  }
  // Keys yaml's duplicate check misses (two `<<`, `true` and "true", a key repeated by its alias): said as
  // duplicates too, which leave the structure as clear as yaml's own.
  const yamlDuplicates = new Set(
    doc.errors.filter((error) => error.code === "DUPLICATE_KEY").map((error) => error.pos[0]),
  );
  for (const finding of duplicateKeyFindings(doc, resolve, yamlDuplicates)) {
    const at = locator.offset(finding.offset);
    const key = `${at.line}:${at.col}:${finding.message}`;
    if (!said.has(key))
      said.set(key, { at, line: lineAt(text, finding.offset), message: finding.message, syntax: false });
  }
  // One missing quote or bracket makes yaml stumble over much of what follows (a file gave 25 problems for
  // one quote): only the first syntax error is said, with how many follow it. A duplicate key or a warning
  // before it stands on its own and is said too.
  const byPosition = (a: YamlProblem, b: YamlProblem) => a.at.line - b.at.line || a.at.col - b.at.col;
  const syntaxErrors = [...said.values()].filter((p) => p.syntax).sort(byPosition);
  const first = firstCause(syntaxErrors);
  // A duplicate key or a warning after it is found in a structure that is a guess: counted with the others.
  const others = [...said.values()].filter((p) => !p.syntax);
  const before = first ? others.filter((p) => byPosition(p, first) < 0) : others;
  const more = syntaxErrors.length - 1 + others.length - before.length;
  const shown = [...before, ...(first ? [first] : [])].sort(byPosition);
  const templateLines = new Set<number>();
  for (const yamlProblem of shown) {
    const { at, message } = yamlProblem;
    // `job: {{repo}}/build`: YAML reads the {{ as a map and stumbles on what follows. Said once per line.
    const hint =
      !templateLines.has(at.line) && UNQUOTED_TEMPLATE_VALUE.test(yamlProblem.line)
        ? `; a value that starts with {{ must be quoted ("{{...}}") ${UNQUOTED_TEMPLATE}`
        : "";
    if (hint) templateLines.add(at.line);
    const space = misplacedNoBreakSpace(yamlProblem.line) ? NO_BREAK_SPACE_HINT : "";
    const after =
      yamlProblem === first && more > 0
        ? ` (${more} more YAML error${more === 1 ? "" : "s"} after it, often caused by this one)`
        : "";
    problems.push({ file, ...at, message: `YAML: ${message}${hint}${space}${after}` });
  }
  // A duplicate key leaves the structure clear (the last value wins), so the other checks still run and
  // every problem is reported at once; after any other syntax error the structure is a guess.
  if (doc.errors.some((error) => error.code !== "DUPLICATE_KEY")) return { problems: sortUnique(problems) };
  // A value under a tag is a guess at what was meant (a list for !!omap): nothing else is checked.
  if (doc.warnings.some(isTagError)) return { problems: sortUnique(problems) };
  // %YAML 1.1 reads yes, no, 0755 and 2024-01-01 as other than text (a date became an empty map). Refused,
  // not read as 1.2: the file would then mean something else than its own first line says.
  const version = doc.directives?.yaml;
  if (version?.explicit && version.version !== "1.2") {
    problems.push({
      file,
      ...locator.offset(directiveStart(text, "%YAML")),
      message: yamlVersionMessage(version.version),
    });
    return { problems: sortUnique(problems) };
  }

  // A map or list used as a key (`? [a]`, `{{ a: 1 }: x}`) is no key routes.yaml has, and yaml's conversion of
  // nested ones takes time that grows much faster than the file (minutes for a thousand "{").
  if (shape.collectionKeys.length > 0) {
    for (const offset of shape.collectionKeys) {
      problems.push({ file, ...locator.offset(offset), message: COLLECTION_KEY });
    }
    return { problems: sortUnique(problems) };
  }

  // Alias and merge mistakes make doc.toJS throw without a position: find them on the nodes first.
  const references = referenceFindings(doc);
  for (const finding of references) {
    const secretKey = secretKeyAt(secrets, text, finding.offset);
    const leakKey =
      flowCommaLeakAt(leaks, finding.offset)?.key ??
      (secretKey === undefined ? flowCommaTagKey(text, finding.offset) : undefined);
    const message =
      leakKey !== undefined
        ? `YAML: ${flowCommaMessage(leakKey)}`
        : secretKey !== undefined
          ? `YAML: ${secretValueMessage(
              secretKey,
              startsWithFlowIndicator(text, finding.offset)
                ? "flow indicator"
                : finding.message.includes("alias")
                  ? "alias"
                  : "other",
            )}`
          : finding.message;
    problems.push({ file, ...locator.offset(finding.offset), message });
  }
  // An alias without an anchor is most often an unquoted glob (`- *.md`): read as the text it was meant to be,
  // and a merge of something other than a map as a merge of nothing, so that the file's other problems are
  // reported with them. Each is said once, as itself, at its position.
  const aliasAt = new Set(
    references.map((finding) => {
      const at = locator.offset(finding.offset);
      return `${at.line}:${at.col}`;
    }),
  );
  // A map that merges nothing instead lacks the keys the merge would bring: they are not reported as missing.
  const mergingAt = new Set<string>();
  if (references.length > 0) {
    for (const offset of readReferencesAsWritten(doc, resolve, references)) {
      const at = locator.offset(offset);
      mergingAt.add(`${at.line}:${at.col}`);
    }
  }

  // An alias bomb (billion laughs, merges of merges) is refused before anything walks what it expands to.
  const bomb = aliasExpansionPast(doc, resolve, MAX_ALIAS_VALUES);
  if (bomb !== undefined) {
    problems.push({
      file,
      ...locator.offset(bomb.alias.range?.[0] ?? 0),
      message: `YAML: too many aliases: by *${bomb.alias.source}, the values the aliases add (each stands for every value under its anchor, the aliases there too) pass ${MAX_ALIAS_VALUES.toLocaleString("en-US")}, the limit that guards against an alias bomb; use fewer aliases, or nest fewer in one another`,
    });
    return { problems: sortUnique(problems) };
  }
  let data: unknown;
  try {
    // Bounded above, by the values the aliases add: yaml's own count is not that (aliasExpansionPast).
    data = doc.toJS({ maxAliasCount: -1 });
    applyWrittenNumbers(resolve, locator, data);
  } catch (error) {
    // A yaml failure we do not foresee: at the start of the file.
    problems.push({ file, line: 1, col: 1, message: `YAML: ${firstLine((error as Error).message)}` });
    return { problems: sortUnique(problems) };
  }

  // Refused above as tags; should another way to build one appear, it is said, never taken for an empty map.
  const odd = nonPlainValue(data);
  if (odd) {
    problems.push({
      file,
      ...locator.value(odd.path),
      message: `this value is read as a ${odd.kind}, not a plain map, list or text: write a plain map, list or text`,
    });
    return { problems: sortUnique(problems) };
  }

  // A parameter named TRUE, False or 1.10 unquoted is sent as true, false or 1.1: refused, with the quotes
  // that keep the name. The schema's word on the name it became is left out.
  const nonTextKeys = new Set<string>();
  for (const path of parametersPaths(data)) {
    for (const finding of nonTextKeyFindings(resolve, [locator.node(path)])) {
      nonTextKeys.add(JSON.stringify([...path, finding.name]));
      problems.push({ file, ...locator.offset(finding.offset), message: finding.message });
    }
  }
  const asWritten = schemaFindings(data).filter(
    (f) => !(f.at === "key" && nonTextKeys.has(JSON.stringify(f.path))),
  );
  const refusedKeys = new Set(asWritten.filter((f) => f.at === "key").map((f) => JSON.stringify(f.path)));
  const typographic = typographicQuoteFindings(data, refusedKeys);
  // A value in typographic quotes fails its own rule for them too (route name "“build”" is not valid: use only
  // lower-case letters...), which hides the cause. At its path the rules are asked about the text inside the
  // quotes instead: the quotes are said once, and what is still wrong without them (upper case, a password in
  // a URL) is said too. How the value stands with others (a duplicate name) is said as written.
  const quoted = typographic.filter((f) => f.at === "value").flatMap((f) => f.paths);
  const quotedPaths = new Set(quoted.map((path) => JSON.stringify(path)));
  const atQuoted = (f: { path: PathSegment[]; at: "value" | "key" }) =>
    f.at === "value" && quotedPaths.has(JSON.stringify(f.path));
  const unquoted = quoted.length > 0 ? withoutTypographicQuotes(data, quoted) : undefined;
  const schema = asWritten.filter((f) => !atQuoted(f));
  const semantic = semanticFindings(data).filter((f) => !atQuoted(f) || f.relation);
  if (unquoted !== undefined) {
    schema.push(...schemaFindings(unquoted, data).filter(atQuoted));
    semantic.push(...semanticFindings(unquoted, data).filter((f) => atQuoted(f) && !f.relation));
  }
  for (const finding of schema) {
    const at = finding.at === "key" ? locator.key(finding.path) : locator.value(finding.path);
    problems.push({ file, ...at, message: finding.message + quoteHint(resolve, locator, finding) });
  }
  // A merge key (<<: *act) copies the anchored map's text into a new map: the same quoted text, reached from
  // each route, is said once, where first reached (its every path was unquoted above).
  const quotesSaidAt = new Set<string>();
  for (const finding of typographic) {
    const at = finding.at === "key" ? locator.key(finding.path) : locator.value(finding.path);
    const position = `${at.line}:${at.col}`;
    if (quotesSaidAt.has(position)) continue;
    quotesSaidAt.add(position);
    problems.push({ file, ...at, message: finding.message });
  }
  for (const finding of semantic) {
    const at =
      finding.at === "key"
        ? locator.key(finding.path)
        : finding.within
          ? locator.within(finding.path, text, finding.within)
          : locator.value(finding.path);
    let message = finding.message;
    if (finding.firstAt) {
      const first = locator.value(finding.firstAt);
      if (first.line === at.line && first.col === at.col && finding.path.length > 0) {
        // The repeat is the first's own text, brought in by a merge (`- <<: *r`) or an alias (`- *r`): said
        // where the repeating map is written, else both positions are one and nothing points at the repeat.
        const holder = locator.value(finding.path.slice(0, -1));
        message += ` (first used at line ${first.line}; brought in here by a merge or alias of it)`;
        problems.push({ file, ...holder, message });
        continue;
      }
      message += ` (first used at line ${first.line})`;
    }
    problems.push({ file, ...at, message });
  }
  if (problems.length > 0) {
    const shown = problems.filter(
      (p) =>
        p.message.startsWith("YAML:") ||
        !(
          aliasAt.has(`${p.line}:${p.col}`) ||
          (mergingAt.has(`${p.line}:${p.col}`) && p.message.includes("missing required key"))
        ),
    );
    return { problems: sortUnique(shown) };
  }
  const config = compileRoutes(data as RoutesDoc);
  // What the file says but nothing reads, placed at its key as a problem would be.
  // A top-level jenkins that an alias reads (`defaults: { jenkins: *j }`, `{ <<: *j }`) is used, through it.
  const jenkinsAliased = aliasReaches(doc, resolve, resolve(locator.node(["jenkins"])));
  const credentials = credentialWords(text);
  const notes = documentNotes(data as RoutesDoc, { jenkinsAliased })
    .map((note) => ({ ...note, at: locator.key(note.path) }))
    .sort((a, b) => a.at.line - b.at.line || a.at.col - b.at.col)
    .map(({ at, message }) =>
      withoutInvisible(`${file}:${at.line}:${at.col}: ${withoutSecretLookalikes(message, credentials)}`),
    );
  if (notes.length > 0) config.notes = notes;
  return { config, problems: [] };
}

/** Whether an alias anywhere in the document names `node` or a node inside it. */
function aliasReaches(doc: Document, resolve: Resolve, node: unknown): boolean {
  if (!isNode(node)) return false;
  const inside = new Set<unknown>([node]);
  visit(node, {
    Node(_key, child) {
      inside.add(child);
    },
  });
  let reached = false;
  visit(doc, {
    Alias(_key, alias) {
      if (!inside.has(resolve(alias))) return undefined;
      reached = true;
      return visit.BREAK;
    },
  });
  return reached;
}

/** A no-break space (pasted from a web page or chat) looks like a space, but YAML reads it as text. */
/**
 * Whether a line has a no-break space where YAML needs a space: in its indentation, or right after a "-" or
 * a ":", outside quotes and comments. One inside a quoted value ("100\u00a0%") or in plain text is text.
 */
export function misplacedNoBreakSpace(line: string): boolean {
  if (/^[ \t\u00a0]*\u00a0/.test(line)) return true;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    const before = i === 0 ? " " : (line[i - 1] as string);
    if (quote !== undefined) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote && quote === "'" && line[i + 1] === "'") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === "#" && /[ \t\u00a0]/.test(before)) return false;
    // A quote starts a quoted scalar where a value starts (it's and 5'10" are plain text).
    if ((c === '"' || c === "'") && /[ \t\u00a0[{,]/.test(before)) quote = c;
    else if (c === "\u00a0" && (before === "-" || before === ":")) return true;
  }
  return false;
}

const NO_BREAK_SPACE_HINT =
  "; this line holds a no-break space (U+00A0), which looks like a space but YAML reads as text, not as " +
  "indentation or a space between a key and its value: replace it with a space";

const CR_ONLY = "the line endings are CR only (classic Mac): save the file with LF (or CRLF) line endings";

/** routes.yaml needs fewer than 10 levels (routes, a route, its action, a step, its parameters). */
const MAX_DEPTH = 64;

const TOO_DEEP = `nested too deeply (more than ${MAX_DEPTH} levels); routes.yaml needs fewer than 10`;

const COLLECTION_KEY = "a key must be plain text, not a map or a list";

/**
 * Walks the document without recursion (an alias is not followed): where a map or list nested more than
 * MAX_DEPTH deep starts, and where each key that is a map or a list (or an alias of one) starts.
 */
function documentShape(doc: Document): { tooDeep?: number; collectionKeys: number[] } {
  const collectionKeys: number[] = [];
  // Each node with its depth, whether it is inside a key (one said already: the keys in it are not), and
  // whether it is merged (`<<: {{ a }}` brings its key into the map: no template, whatever it looks like).
  const stack: Array<[unknown, number, boolean, boolean]> = [[doc.contents, 0, false, false]];
  while (stack.length > 0) {
    const [node, depth, inKey, merged] = stack.pop() as [unknown, number, boolean, boolean];
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= MAX_DEPTH) return { tooDeep: node.range?.[0] ?? 0, collectionKeys };
    for (const item of node.items) {
      if (!isPair(item)) {
        stack.push([item, depth + 1, inKey, merged]);
        continue;
      }
      const key = isAlias(item.key) ? item.key.resolve(doc) : item.key;
      if (!inKey && (isMap(key) || isSeq(key)) && (merged || !isUnquotedTemplate(node, item))) {
        collectionKeys.push((isNode(item.key) ? item.key.range?.[0] : undefined) ?? node.range?.[0] ?? 0);
      }
      const merges = isMergeKey(item.key);
      stack.push([item.key, depth + 1, true, false], [item.value, depth + 1, inKey, merges]);
    }
  }
  return { collectionKeys };
}

/**
 * Where a node first starts more than MAX_DEPTH levels deep, as far as yaml's lexer shows it: each node starts
 * further right than those it is in (a flow "[" or "{" inside one more). Only for a file yaml's parser could
 * not read: a value on its key's line counts one level too many, which the margin of MAX_DEPTH allows.
 */
function deepBlockStart(text: string): number | undefined {
  const columns: number[] = [];
  let offset = 0;
  let lineStart = 0;
  let flow = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    // Markers of the lexer's own, not in the text.
    if (type === "doc-mode" || type === "flow-error-end" || (type === "scalar" && token === "\u001f"))
      continue;
    const at = offset;
    offset += token.length;
    if (type === "newline") lineStart = offset;
    else if (type === "flow-map-end" || type === "flow-seq-end") flow = Math.max(0, flow - 1);
    else if (type === "flow-map-start" || type === "flow-seq-start") flow++;
    else if (flow > 0 || !(type === null || type === "seq-item-ind" || type === "explicit-key-ind")) continue;
    else {
      const column = at - lineStart;
      while (columns.length > 0 && (columns.at(-1) as number) >= column) columns.pop();
      columns.push(column);
    }
    if (columns.length + flow > MAX_DEPTH) return at;
  }
  return undefined;
}

/**
 * `{{sha}}` unquoted: a flow map holding only a key, itself a flow map holding only a plain key, neither with a
 * value. The schema says to quote it (a template must be quoted), which is more use than a word on keys.
 */
function isUnquotedTemplate(holder: YAMLMap | YAMLSeq, pair: Pair): boolean {
  const empty = (value: unknown) => value === null || (isScalar(value) && value.value === null);
  const only = (map: unknown) =>
    isMap(map) && map.flow && map.items.length === 1 ? map.items[0] : undefined;
  const inner = only(pair.key);
  return only(holder) === pair && empty(pair.value) && isScalar(inner?.key) && empty(inner?.value);
}

/** The tags routes.yaml takes: the YAML 1.2 core ones a user may write on purpose (`!!str 0755`). */
const CORE_TAGS = new Set(
  ["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`),
);

/** yaml's warning for a tag it does not resolve (any but the core ones, as resolveKnownTags is off). */
function isTagError(error: YAMLError): boolean {
  return error.code === "TAG_RESOLVE_FAILED" || error.code === "BAD_COLLECTION_TYPE";
}

function tagMessage(error: YAMLError, text: string, exclusions: ReadonlyMap<number, string>): string {
  const written = text.slice(error.pos[0], error.pos[1]);
  // "Without a tag" would read as "drop the !", which makes the exclusion an inclusion.
  const exclusion = exclusions.get(error.pos[0]);
  if (exclusion !== undefined) return exclusion;
  const tag = /^Unresolved tag: (\S+)/.exec(error.message)?.[1];
  if (written.startsWith("!") && tag !== undefined && !CORE_TAGS.has(tag)) {
    return `the tag ${written} is not read in routes.yaml: write a plain map, list or text, without a tag`;
  }
  return `the tag ${written.startsWith("!") ? `${written} ` : ""}does not fit this value: remove the tag`;
}

/** What yaml read the first character of a value as, by its problem (never by its text). */
function yamlReading(error: YAMLError): SecretValueReading {
  if (isTagError(error)) return "tag";
  if (error.code === "BAD_ALIAS") return "alias";
  if (/block scalar/i.test(error.message)) return "block scalar header";
  if (/reserved character/i.test(error.message)) return "reserved character";
  return "other";
}

/** The match lists of globs, where a leading ! excludes. */
const GLOB_LISTS = new Set(["repos", "events", "actions", "branches", "tags", "paths", "actors"]);

function exclusionMessage(glob: string): string {
  return `an exclusion starting with ! must be quoted: ${JSON.stringify(glob)} (YAML reads an unquoted ! as a tag)`;
}

/**
 * Each item of a route's match glob list that carries a tag of its own, by where its tag starts, with what
 * to say of it: how to write the exclusion it was meant as. `!release/old-*` is read as the tag !release/old-* on nothing (yaml warns);
 * `!"release/old-*"` and `! release/old-*` as the non-specific tag ! on the text "release/old-*", without a
 * warning: an exclusion deployed as an inclusion. `! "!release/*"` is the text "!release/*" in every reader
 * (YAML 1.2 §10.1.2: ! on a scalar is a string), the exclusion as written: accepted. The lists are found where routes read them, through aliases
 * and merges (`actors: *bots`, `*k : [...]` with `&k branches`, `<<: *match`): a list of the same name elsewhere
 * (a free-form `x-` section) is no glob list.
 */
function unquotedExclusions(locator: Locator, text: string, resolve: Resolve): Map<number, string> {
  const found = new Map<number, string>();
  const routes = resolve(locator.node(["routes"]));
  if (!isSeq(routes)) return found;
  for (let i = 0; i < routes.items.length; i++) {
    for (const name of GLOB_LISTS) {
      const list = resolve(locator.node(["routes", i, "match", name]));
      if (!isSeq(list)) continue;
      for (const entry of list.items) {
        const item = resolve(entry);
        // A core tag (!!str) is written on purpose and names no exclusion.
        if (!isScalar(item) || !item.tag?.startsWith("!") || item.tag.startsWith("!!") || !item.range)
          continue;
        // The tag is written just before the value (a space may part them).
        const tagAt = text.lastIndexOf(item.tag, item.range[0]);
        const before = tagAt < 0 || text.slice(tagAt + item.tag.length, item.range[0]).trim() !== "";
        const start = before ? item.range[0] : tagAt;
        const value = String(item.value ?? "");
        // Under the tag !, text that starts with ! is the exclusion as written (only quotes can start so).
        if (item.tag === "!" && value.startsWith("!")) continue;
        found.set(
          start,
          exclusionMessage(item.tag === "!" ? `!${value}` : text.slice(start, item.range[1]).trim()),
        );
      }
    }
  }
  return found;
}

/** Where the first directive line starting with `name` is (yaml's parser, up to the document's start). */
function directiveStart(text: string, name: string): number {
  for (const token of new Parser().parse(text)) {
    if (token.type === "directive" && token.source.startsWith(name)) return token.offset;
    if (token.type === "document") break;
  }
  return 0;
}

function yamlVersionMessage(version: string): string {
  return `%YAML ${version}: routes.yaml is read as YAML 1.2 (where yes, no and dates are text): remove this line`;
}

/**
 * The first value (in document order) that is not a plain object, array, text, number, true/false or null:
 * a Map, a Set, a Date, bytes. Without recursion, and each object once (aliases share them).
 */
export function nonPlainValue(data: unknown): { path: PathSegment[]; kind: string } | undefined {
  const stack: Array<[unknown, PathSegment[]]> = [[data, []]];
  // An alias inside its own anchor (`&a [1, *a]`) converts to a value that holds itself: each walked once.
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, PathSegment[]];
    if (value === null || ["string", "number", "boolean"].includes(typeof value) || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], [...path, i]]);
      continue;
    }
    const prototype = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
    if (prototype !== Object.prototype && prototype !== null) {
      const kind = typeof value === "object" ? (value.constructor?.name ?? "object") : typeof value;
      return { path, kind: kind === "Uint8Array" || kind === "Buffer" ? "binary value" : kind };
    }
    const entries = Object.entries(value as object);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [string, unknown];
      stack.push([item, [...path, key]]);
    }
  }
  return undefined;
}

/** A problem yaml found, placed, before it is said. */
interface YamlProblem {
  at: Position;
  /** The text of the line yaml found it on (for the hint on unquoted templates). */
  line: string;
  message: string;
  /** An error other than a duplicate key: the structure after it is a guess. */
  syntax: boolean;
  /** A quote never closed; or a flow map or list without its end: where it opens, and where yaml found it unended. */
  cause?: "quote" | { opens: number; unendedAt: number };
}

/**
 * Of syntax errors in position order, the one to say. A quote never closed takes in all that follows, the
 * "}" or "]" after it too: it comes first. Of a flow map or list without its end and those opened inside it
 * also without one (`{ a: [b }`), the one opened last lacks its end: the others' were taken by it.
 */
function firstCause(errors: readonly YamlProblem[]): YamlProblem | undefined {
  const quote = errors.find((error) => error.cause === "quote");
  if (quote) return quote;
  const first = errors[0];
  const outer = first?.cause;
  if (typeof outer !== "object") return first;
  let innermost = first;
  for (const error of errors) {
    const inner = error.cause;
    if (typeof inner !== "object" || inner.opens < outer.opens || inner.opens > outer.unendedAt) continue;
    if (typeof innermost?.cause !== "object" || inner.opens > innermost.cause.opens) innermost = error;
  }
  return innermost;
}

/**
 * How many values the aliases of a file may add to what it writes: past it, the file is taken for an alias
 * bomb. A file of a thousand routes that each merge a map of fifty values adds 50,000.
 */
const MAX_ALIAS_VALUES = 100_000;

/** `branches: [1.10]`: the value as written, in the quotes that make it text ("1.10", not the number 1.1). */
function quoteHint(resolve: Resolve, locator: Locator, finding: SchemaFinding): string {
  if (!finding.quotable) return "";
  const node = resolve(locator.node(finding.path));
  const source = isScalar(node) ? node.source : undefined;
  if (typeof source !== "string" || source.length === 0 || source.length > 64 || /["\\]/.test(source))
    return "";
  return `; to mean the text, quote it: "${source}"`;
}

/** A value (after "key:", "- ", "[" or ",", or alone on the line under its key) that starts with an unquoted {{. */
const UNQUOTED_TEMPLATE_VALUE = /(?:[:,[]|^\s*-?)\s*\{\{/;

/** The text of the line that holds `offset`. */
function lineAt(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  const end = text.indexOf("\n", offset);
  return text.slice(start, end < 0 ? text.length : end);
}

/** Where each quoted scalar starts, by where it ends (for a missing closing quote, which yaml reports at the end). */
function unclosedQuoteStarts(doc: Document): Map<number, number> {
  const starts = new Map<number, number>();
  if (!doc.errors.some((error) => error.code === "MISSING_CHAR")) return starts;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE";
      if (quoted && node.range) starts.set(node.range[1], node.range[0]);
    },
  });
  return starts;
}

/**
 * Where a flow map or list that yaml reports without its "}" or "]" opens. yaml reports one at its end, the
 * start of the next line or the end of the file: a nested one as BAD_INDENT ("Flow map in block collection
 * must be sufficiently indented and end with a }"), one that is the whole document as MISSING_CHAR ("Flow map
 * must end with a }"). A map and a list can end at one place (`{ a: [ b`): each report goes to one of its
 * kind. Of nested ones of a kind ending at one place (`job: {{`), the outermost: only the innermost there can
 * have its own "}" or "]" (`{ a: { b: 1 }`), so the outermost never has.
 */
function unendedFlowStarts(doc: Document): (error: YAMLError) => number | undefined {
  const kindOf = (error: YAMLError) =>
    error.code === "BAD_INDENT" || error.code === "MISSING_CHAR"
      ? FLOW_UNENDED.exec(error.message)?.[1]
      : undefined;
  const starts = new Map<string, number>();
  if (!doc.errors.some((error) => kindOf(error) !== undefined)) return () => undefined;
  const note = (node: YAMLMap | YAMLSeq, kind: string) => {
    if (!node.flow || !node.range) return;
    const key = `${node.range[1]}:${kind}`;
    const known = starts.get(key);
    if (known === undefined || node.range[0] < known) starts.set(key, node.range[0]);
  };
  visit(doc, { Map: (_key, node) => note(node, "map"), Seq: (_key, node) => note(node, "sequence") });
  return (error) => {
    const kind = kindOf(error);
    return kind === undefined ? undefined : starts.get(`${error.pos[0]}:${kind}`);
  };
}

/** yaml's message for a flow map or sequence it finds no end for, nested or not. */
const FLOW_UNENDED =
  /^Flow (map|sequence) (?:in block collection must be sufficiently indented and end|must end) with a [}\]]/;

/**
 * Replaces each alias that has no anchor with the text written for it (`*.md`), where it is written, and each
 * merge source that is not a map (or an alias of one), or that merges a map from inside it, with an empty
 * map, which merges nothing. Returns where each map that holds such a merge starts.
 */
function readReferencesAsWritten(
  doc: Document,
  resolve: Resolve,
  references: readonly ReferenceFinding[],
): number[] {
  const unresolved = new Set(references.map((finding) => finding.unresolved));
  const cycles = new Set(references.map((finding) => finding.cycle));
  visit(doc, {
    Alias(_key, node) {
      if (!unresolved.has(node)) return undefined;
      const text = new Scalar(`*${node.source}`);
      text.range = node.range;
      return text;
    },
  });
  const nothing = (source: unknown) => {
    const map = new YAMLMap();
    map.range = isNode(source) ? source.range : undefined;
    return map;
  };
  const mergeable = (source: unknown) =>
    isMap(source) || (isAlias(source) && !cycles.has(source) && isMap(resolve(source)));
  const merging: number[] = [];
  visit(doc, {
    Pair(_key, pair, path) {
      if (!isMergeKey(pair.key)) return;
      const holder = path[path.length - 1];
      const mergesAll = isSeq(pair.value) ? pair.value.items.every(mergeable) : mergeable(pair.value);
      if (!mergesAll && isMap(holder) && holder.range) merging.push(holder.range[0]);
      if (isSeq(pair.value)) {
        pair.value.items = pair.value.items.map((item) => (mergeable(item) ? item : nothing(item)));
      } else if (!mergeable(pair.value)) {
        pair.value = nothing(pair.value);
      }
    },
  });
  return merging;
}

/** The yaml error's first line without its position (the problem carries that), made safe to print. */
function firstLine(message: string): string {
  return shownYamlMessage(
    (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "").trim(),
  );
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
 * through an alias (`parameters: *p`) or a merge (`{ <<: *p }`), and for parameters of a map that is itself
 * merged (`action: { <<: *build }`, a route `<<: *route`): each converted `parameters` map is found in the
 * document by its path, through aliases and merges, and its numbers set as written. The document is only
 * read, so an anchor (of the map, or of a number in it) used anywhere else keeps its own meaning.
 */
function applyWrittenNumbers(resolve: Resolve, locator: Locator, data: unknown): void {
  // Per map, once: maps that merge each other would otherwise be walked exponentially often.
  const memo = new Map<YAMLMap, Map<string, string>>();
  for (const path of parametersPaths(data)) {
    const map = resolve(locator.node(path));
    if (!isMap(map)) continue;
    const numbers = writtenNumbers(resolve, map, memo, new Set());
    if (numbers.size === 0) continue;
    let parameters: unknown = data;
    for (const step of path)
      parameters = (parameters as Record<string | number, unknown> | undefined)?.[step];
    if (typeof parameters !== "object" || parameters === null) continue;
    const record = parameters as Record<string, unknown>;
    for (const [key, text] of numbers) if (typeof record[key] === "number") record[key] = text;
  }
}

/** Where a converted document holds Jenkins parameters: each action's, and each pr-cleanup jenkins step's. */
function parametersPaths(data: unknown): PathSegment[][] {
  const routes = (data as { routes?: unknown } | null)?.routes;
  if (!Array.isArray(routes)) return [];
  const paths: PathSegment[][] = [];
  routes.forEach((route, i) => {
    const action = (route as { action?: unknown } | null)?.action;
    if (typeof action !== "object" || action === null) return;
    paths.push(["routes", i, "action", "parameters"]);
    const steps = (action as { steps?: unknown }).steps;
    if (!Array.isArray(steps)) return;
    steps.forEach((_, j) => {
      paths.push(["routes", i, "action", "steps", j, "jenkins", "parameters"]);
    });
  });
  return paths;
}

/** yaml's merge order: a map's own keys win; among merge sources, the first to set a key wins. */
function writtenNumbers(
  resolve: Resolve,
  map: YAMLMap,
  memo: Map<YAMLMap, Map<string, string>>,
  seen: Set<YAMLMap>,
): Map<string, string> {
  const known = memo.get(map);
  if (known) return known;
  const numbers = new Map<string, string>();
  if (seen.has(map)) return numbers; // a merge cycle: yaml's own conversion reports it
  seen.add(map);
  const own = new Set<string>();
  const inherited = new Map<string, string>();
  for (const item of map.items) {
    if (isMergeKey(item.key)) {
      for (const source of mergeSourcesOf(item.value)) {
        const merged = resolve(source);
        if (!isMap(merged)) continue;
        for (const [key, text] of writtenNumbers(resolve, merged, memo, seen)) {
          if (!inherited.has(key)) inherited.set(key, text);
        }
      }
      continue;
    }
    // A key written through an alias (`*k : 1.10` with `&k VERSION`) is the map's own key as much as a plain one.
    const key = convertedKeyText(resolve, item.key);
    if (key === undefined) continue;
    own.add(key);
    const value = resolve(item.value);
    if (isScalar(value) && typeof value.value === "number" && typeof value.source === "string") {
      numbers.set(key, value.source);
    }
  }
  for (const [key, text] of inherited) if (!own.has(key)) numbers.set(key, text);
  seen.delete(map);
  memo.set(map, numbers);
  return numbers;
}
