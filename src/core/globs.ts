// Glob lists with "!" exclusions, compiled once. picomatch does the matching.
import picomatch from "picomatch";
import { invisibleCharacter, shownText, withoutInvisible } from "./shownText";

export type GlobTest = (value: string) => boolean;

const OPTIONS: picomatch.PicomatchOptions = { dot: true, strictBrackets: true };

/** A character of glob syntax (a wildcard, a class, a brace, an extglob's parts or a negation): text holding none is literal. */
export const GLOB_SYNTAX = /[*?[\]{}()!+@]/;

/** Why `pattern` is not a usable glob, or undefined when it is. */
export function globProblem(pattern: string): string | undefined {
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  const shown = shownText(pattern);
  if (body.length === 0) return `empty glob ${shown}`;
  if (body.startsWith("!")) return `glob ${shown} has more than one leading "!"`;
  // No name a host sends holds one, and it cannot be seen in the file: the glob would never match.
  const invisible = invisibleCharacter(pattern);
  if (invisible !== undefined) return `glob ${shown} holds ${invisible}: remove it`;
  // picomatch 4's parser steps past the end of such a glob and never returns (x/ and four backslashes hangs `check`).
  if (/\\{4,}$/.test(body)) {
    return `glob ${shown} ends with four or more "\\", which the glob matcher never finishes reading: end it with another character`;
  }
  // picomatch keeps "\1" as it is in its RegExp: alone an octal escape (U+0001), but in a list, which is one
  // RegExp joined with "|", a back-reference to another glob's group, so the list would decide otherwise.
  if (/(?:^|[^\\])(?:\\\\)*\\[1-9]/.test(body)) {
    return `glob ${shown} has a "\\" before a digit, which the glob matcher reads as a back-reference: write the digit alone`;
  }
  if (pipeOutsideParentheses(body)) {
    return `glob ${shown} has a "|" outside parentheses, which is not "or" in a glob: list each glob as its own entry, or write {a,b}`;
  }
  // picomatch says which brackets and braces are open: a "}" that closes no "{" is that character ("a(}:)?"
  // matches "a"), as are brackets and braces in a class ("[{]") or in quotes ('"["' matches "[").
  let source: string;
  try {
    source = picomatch.makeRe(body, OPTIONS).source;
  } catch (error) {
    const message = (error as Error).message;
    if (/^Missing closing: "[\]}]"/.test(message)) return `glob ${shown} has an unclosed bracket or brace`;
    if (message.startsWith('Missing opening: "["')) return `glob ${shown} has a "]" that closes no "["`;
    return `glob ${shown} is invalid: ${shownMessage(message)}`;
  }
  // picomatch turns a glob whose RegExp it cannot build (a group name twice, a range out of order "[z-a]", a
  // trailing lone "\", three "+" in a row) into /$^/, which matches nothing: the glob would match only itself.
  // Plain text (no "\", nothing picomatch reads as glob syntax: "c+++") is compared as text, and matches that.
  if (source === "$^" && (body.includes("\\") || picomatch.scan(body, OPTIONS).isGlob))
    return `glob ${shown} is one the glob matcher cannot build a RegExp for${unbuildableAdvice(body)}`;
  // picomatch passes "(?<name>" into its RegExp too: a list's globs share one, where a name given twice is a
  // SyntaxError on Node 20 and "\k" in another glob turns into a reference to it (the function's init throws).
  // Read in the RegExp it builds: in a class, in quotes or after "@" the text is escaped or no group.
  if (hasNamedGroup(source)) {
    return `glob ${shown} has "(?<", a RegExp named group, which the glob matcher passes into the RegExp a list's globs share: write the group without "?<name>"`;
  }
  return undefined;
}

/** What to write instead of a glob picomatch cannot build, when the cause is plain in its text. */
function unbuildableAdvice(body: string): string {
  if (/(?:^|[^\\])(?:\\\\)*\\$/.test(body)) return ': it ends with a lone "\\": write [\\\\] for a "\\"';
  if (body.includes("+++")) return ': it has three "+" in a row: write \\+ for each "+"';
  if (/\(\?<(\w+)>.*\(\?<\1>/.test(body))
    return ': it names a group twice: write the groups without "?<name>"';
  return ": check its ranges (a-z, not z-a) and groups";
}

/** Whether a RegExp's source opens a named group, "(?<" not followed by "=" or "!", outside its classes. */
function hasNamedGroup(source: string): boolean {
  return outsideClasses(source).some(
    (at) => source[at] === "(" && source.startsWith("?<", at + 1) && !/[=!]/.test(source[at + 3] ?? ""),
  );
}

/** The positions of a RegExp's source that are neither escaped nor inside a [...] class (a class's "[" is). */
function outsideClasses(source: string): number[] {
  const positions: number[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === "\\") i++;
    else if (inClass) inClass = char !== "]";
    else {
      positions.push(i);
      inClass = char === "[";
    }
  }
  return positions;
}

/**
 * A warning for a glob that spells a text with escapes ("$$\!a" is the text "$$!a") but never matches that
 * text, as picomatch builds its RegExp. Only a glob whose only syntax is its
 * escapes: none with a wildcard, class, brace, parenthesis, quote, leading "./" or trailing lone "\" is taken.
 * A glob with no "\" always matches itself (compileGlobList compares it first). Found by trying every glob of
 * up to four of 29 characters (and five of smaller sets) against picomatch 4, the texts it fails on are:
 * - a "\" before a letter or digit, which picomatch keeps in its RegExp: "a\d" is "a" and a digit, "a\b" a
 *   word boundary, "a\n" a line feed, "a\0" U+0000;
 * - in picomatch's fast path (no "/", bracket, brace, parenthesis or quote, not starting with "*" or "!"):
 *   a run of "$" or "^" after its first (escaped or not), which is an anchor ("a\$$" is /a\$$/); three "+" in
 *   a row, an invalid RegExp, which picomatch turns into one that matches nothing (globProblem refuses it); and an escaped "\" before
 *   another escape or a character picomatch escapes ("a\\$"), as picomatch writes every run of "\" as one
 *   or two.
 * The glob the warning suggests takes the "\" from a letter or digit, escapes each "$", "^" and "+", and writes
 * an escaped "\" as "[\\]"; it is only offered when it matches the text.
 * Any other glob (with wildcards, classes or braces too, negated or not) that holds a "\" picomatch keeps as
 * a RegExp escape other than the letter ("v\d*" matches "v1.2", not "vd"; see REGEXP_ESCAPES) gets a warning
 * that names each such escape, what it matches and what to write: one warning per glob. Undefined for the rest.
 */
export function escapedGlobWarning(pattern: string): string | undefined {
  return spelledTextWarning(pattern) ?? regexpEscapeWarning(pattern);
}

function spelledTextWarning(pattern: string): string | undefined {
  const negated = pattern.startsWith("!");
  const body = negated ? pattern.slice(1) : pattern;
  if (!body.includes("\\") || body.startsWith("./") || globProblem(pattern) !== undefined) return undefined;
  const tokens = globTokens(body);
  if (tokens === undefined || picomatch.scan(body, OPTIONS).isGlob) return undefined;
  const text = tokens.map((t) => t.char).join("");
  if (compileGlobList([body])(text)) return undefined;
  const instead = tokens
    .map(({ char, escaped }) => {
      if (escaped && char === "\\") return "[\\\\]";
      if (/[$^+]/.test(char)) return `\\${char}`;
      return escaped && !/\w/.test(char) ? `\\${char}` : char;
    })
    .join("");
  const works = globProblem(instead) === undefined && compileGlobList([instead])(text);
  const advice = works ? `: write ${shownText(negated ? `!${instead}` : instead)}` : "";
  return `glob ${shownText(pattern)} never matches ${shownText(text)}, the text its escapes spell (${escapeReasons(body, tokens).join("; ")})${advice}`;
}

/**
 * What picomatch's RegExp reads a "\" before each of these as, in every glob (alone, before or after a
 * wildcard, in braces, in a class, negated): all but these letters are the letter itself there ("\a" is "a"),
 * and "\1" to "\9" globProblem refuses. Found by building each "\" and ASCII letter or digit in those places
 * with picomatch 4 and comparing what it matches with the letter alone. "\x" and "\u" are escapes only
 * before two and four hexadecimal digits ("\x41" is "A").
 */
const REGEXP_ESCAPES: Readonly<Record<string, RegExpEscape>> = {
  d: { meaning: "any digit", glob: "[0-9]", classGlob: "0-9", what: "a digit" },
  D: {
    meaning: "any character but a digit",
    glob: "[^0-9]",
    what: 'any other character but "/" (the escape matches "/" too)',
  },
  w: {
    meaning: 'a letter, digit or "_"',
    glob: "[A-Za-z0-9_]",
    classGlob: "A-Za-z0-9_",
    what: 'a letter, digit or "_"',
  },
  W: {
    meaning: 'any character but a letter, digit or "_"',
    glob: "[^A-Za-z0-9_]",
    what: 'any other character but "/" (the escape matches "/" too)',
  },
  s: { meaning: "a space, tab or other white space", glob: "[ ]", what: "a space" },
  S: {
    meaning: "any character but white space",
    glob: "?",
    what: 'any character but "/" (the escape matches "/" too)',
  },
  b: { meaning: "a word boundary, which is no character", inClass: "a backspace" },
  B: {
    meaning: "not a word boundary, which is no character",
    inClass: '"B" in the class, but where picomatch also matches the brackets as text, not a word boundary',
  },
  c: {
    meaning: 'a control character before a letter ("\\cA" is U+0001), else a "\\" and "c"',
    inClass: 'a control character before a letter, digit or "_" ("\\c1" is U+0011), otherwise "\\" or "c"',
  },
  f: { meaning: "a form feed" },
  n: { meaning: "a line feed" },
  r: { meaning: "a carriage return" },
  t: { meaning: "a tab" },
  v: { meaning: "a vertical tab" },
  "0": { meaning: 'U+0000, or with digits after it an octal escape ("\\01" is U+0001)' },
};

interface RegExpEscape {
  /** What the RegExp matches for it. */
  meaning: string;
  /** What it matches in a [...] class, when that differs. */
  inClass?: string;
  /** A glob for what the RegExp matches, outside and in a class, and what that is. */
  glob?: string;
  classGlob?: string;
  what?: string;
}

/**
 * A note for a glob holding a "\" (not itself escaped) before a letter that picomatch keeps as a RegExp
 * escape, which matches something else than the letter ("v\d*" matches "v1.2", not "vd"); undefined when
 * it holds none or has a problem. Each escape is named once, with what it matches and what to write instead.
 */
function regexpEscapeWarning(pattern: string): string | undefined {
  if (!pattern.includes("\\") || globProblem(pattern) !== undefined) return undefined;
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  // The escapes the glob's text holds (a "\\" pair is an escaped "\\"); whether each is in a class is read in
  // the RegExp picomatch builds, which knows quotes, POSIX classes and a "]" right after "[". Its POSIX classes
  // write escapes of their own ("[[:space:]]" is [ \\t\\r\\n\\v\\f]): only those the glob holds are named.
  const written = new Set<string>();
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") continue;
    const sequence = REGEXP_ESCAPE.exec(body.slice(i))?.[0];
    if (sequence !== undefined) written.add(sequence);
    i++;
  }
  if (written.size === 0) return undefined;
  const source = picomatch.makeRe(body, OPTIONS).source;
  const clauses: string[] = [];
  const seen = new Set<string>();
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === "\\") {
      // picomatch also matches a class's brackets as text, (?:\\[a\\d\\]|[a\\d]): the class alone is named.
      const classAfter = inClass ? undefined : literalBracketsClass(source, i);
      if (classAfter !== undefined) {
        i = classAfter - 1;
        continue;
      }
      const sequence = REGEXP_ESCAPE.exec(source.slice(i))?.[0];
      i++;
      if (sequence === undefined || !written.has(sequence) || seen.has(`${sequence} ${inClass}`)) continue;
      seen.add(`${sequence} ${inClass}`);
      clauses.push(regexpEscapeClause(sequence, inClass));
    } else if (inClass) inClass = char !== "]";
    else if (char === "[") inClass = true;
  }
  return clauses.length === 0 ? undefined : `glob ${shownText(pattern)} has ${clauses.join("; and ")}`;
}

/** A "\\" before a letter or digit that a RegExp reads as an escape other than the letter (REGEXP_ESCAPES). */
const REGEXP_ESCAPE = /^\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|[0bBcdDfnrsStvwW])/;

/**
 * Where the class starts when `source` holds, at `at`, the text form picomatch writes before a class,
 * "\\[" the class's characters "\\]|", followed by the class itself; undefined otherwise.
 */
function literalBracketsClass(source: string, at: number): number | undefined {
  if (!source.startsWith("\\[", at)) return undefined;
  const end = source.indexOf("\\]|[", at + 2);
  if (end < 0) return undefined;
  const content = source.slice(at + 2, end);
  return source.startsWith(`[${content}]`, end + 3) ? end + 3 : undefined;
}

/** What one escape ("\d", "\x41") matches and what to write instead, in or out of a [...] class. */
function regexpEscapeClause(sequence: string, inClass: boolean): string {
  const text = sequence.slice(1);
  const letter = text[0] as string;
  const spec = REGEXP_ESCAPES[letter];
  const where = inClass ? " in a class" : "";
  const meaning =
    spec === undefined
      ? `the character U+${text.slice(1).toUpperCase().padStart(4, "0")}`
      : ((inClass ? spec.inClass : undefined) ?? spec.meaning);
  const kind = text.length > 1 ? "text" : /[0-9]/.test(letter) ? "digit" : "letter";
  const instead = inClass ? spec?.classGlob : spec?.glob;
  const alternative = instead === undefined ? "" : `${instead}${where} for ${spec?.what}, or `;
  return `"${sequence}"${where}, which the matcher reads as a RegExp escape (${meaning}), not the ${kind} "${text}": write ${alternative}"${text}" alone for the ${kind}`;
}

/**
 * A note for a glob with a class opened by "[!" (not escaped, not in quotes): picomatch reads it as a class
 * holding "!" ("[!0-9]x" matches "!x" and "1x", not "ax"), where Git and the shells read "not"; "[^" is its
 * "not". Undefined for any other glob.
 */
export function bangClassWarning(pattern: string): string | undefined {
  if (globProblem(pattern) !== undefined) return undefined;
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  let left = bangClasses(body);
  if (left === 0) return undefined;
  // The "[^" advice only where the glob with each such "[!" written "[^" is one hookgate takes ("[^]x" is not).
  let rewritten = body;
  for (let i = rewritten.indexOf("[!"); i >= 0 && left > 0; i = rewritten.indexOf("[!", i + 1)) {
    const candidate = `${rewritten.slice(0, i)}[^${rewritten.slice(i + 2)}`;
    if (globProblem(candidate) !== undefined) continue;
    const after = bangClasses(candidate);
    if (after < left) {
      rewritten = candidate;
      left = after;
    }
  }
  const note = `glob ${shownText(pattern)} has "[!", which the matcher reads as a class holding "!", not as "not"`;
  return left === 0 ? `${note}: write "[^" for any character but those in the class` : note;
}

/** How many classes opened by "[!" the RegExp picomatch builds from a glob (without a problem) holds. */
function bangClasses(body: string): number {
  const source = picomatch.makeRe(body, OPTIONS).source;
  return outsideClasses(source).filter((at) => source.startsWith("[!", at)).length;
}

interface GlobToken {
  char: string;
  escaped: boolean;
}

/** The glob's characters with their escapes taken out, or undefined when one is glob syntax (not escaped). */
function globTokens(body: string): GlobToken[] | undefined {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char === "\\") {
      // A lone "\" at the end escapes nothing.
      if (i + 1 === body.length) return undefined;
      tokens.push({ char: body[++i] as string, escaped: true });
    } else if (/["()[\]{}*?]/.test(char)) {
      return undefined;
    } else {
      tokens.push({ char, escaped: false });
    }
  }
  return tokens;
}

/** Why picomatch's RegExp for such a glob misses its text: the causes escapedGlobWarning lists. */
function escapeReasons(body: string, tokens: readonly GlobToken[]): string[] {
  const fastPath = !/^[*!]|[/()[\]{}"]/.test(body);
  const reasons = new Set<string>();
  tokens.forEach(({ char, escaped }, i) => {
    const previous = tokens[i - 1];
    const next = tokens[i + 1];
    if (escaped && /[A-Za-z0-9]/.test(char)) {
      reasons.add(
        'a "\\" before a letter or digit is a RegExp escape to the matcher, "\\d" any digit and "\\b" a word boundary',
      );
    }
    if (fastPath && !escaped && /[$^]/.test(char) && previous?.char === char) {
      reasons.add(`the matcher escapes only the first "${char}" of a run and reads the next as an anchor`);
    }
    if (escaped && char === "\\" && next !== undefined && (next.escaped || !/\w/.test(next.char))) {
      reasons.add(
        'the matcher writes a run of "\\" as one or two, which loses an escaped "\\" before another escape or a character it escapes',
      );
    }
  });
  return reasons.size > 0 ? [...reasons] : ["the glob matcher's RegExp for it differs"];
}

/**
 * Whether picomatch writes the glob's plain text into its RegExp as that text: false when it rebuilds the
 * RegExp from the text as written (after a brace range "{1..3}", a POSIX class "[[:alpha:]]" or a run of
 * stars "***"), where a "." may be any character ("a.{1..3}" matches "ax2"), or when it cannot read the glob.
 */
export function globTextIsLiteral(pattern: string): boolean {
  try {
    return picomatch.parse(pattern, OPTIONS).backtrack !== true;
  } catch (error) {
    // picomatch's own refusals ("Missing closing"); anything else is a bug to see.
    if (error instanceof SyntaxError) return false;
    throw error;
  }
}

/** A brace's range as a shell expands it: integers (a step, zero padding) or single letters. */
const RANGE = /^(-?\d+|[a-zA-Z])\.\.(-?\d+|[a-zA-Z])(?:\.\.(-?\d+))?$/;

/** The values a shell expands a range to (at most 1,000), or undefined for text that is no range. */
function rangeValues(text: string): string[] | undefined {
  const m = RANGE.exec(text);
  if (!m) return undefined;
  const [, from = "", to = "", stepText] = m;
  const step = Math.abs(Number(stepText ?? 1)) || 1;
  const numeric = /\d/.test(from) && /\d/.test(to);
  if (!numeric && (/\d/.test(from) || /\d/.test(to))) return undefined;
  const start = numeric ? Number(from) : from.charCodeAt(0);
  const end = numeric ? Number(to) : to.charCodeAt(0);
  // A shell pads every value to the longer end's width when either end starts with a 0.
  const padded = numeric && (/^-?0\d/.test(from) || /^-?0\d/.test(to)) ? Math.max(from.length, to.length) : 0;
  const values: string[] = [];
  const direction = end >= start ? 1 : -1;
  for (let v = start; direction > 0 ? v <= end : v >= end; v += direction * step) {
    if (values.length >= 1000) break;
    values.push(numeric ? String(v).padStart(padded, "0") : String.fromCharCode(v));
  }
  return values;
}

/**
 * A brace holding ".." that picomatch does not expand as a shell does. picomatch turns every such brace into a
 * character class of its parts ("{1..12}" is [1-12], "{v1..v3}" [v1-v3]): right only for a range between
 * two single digits or letters, alone in its braces, without a step ("{1..9}", "{a..f}"). "v{1..12}" takes v1
 * and v2 alone, "{01..03}" nothing, "{1..3,5}" v1, v3 and v5, and "{v1..v3}", no shell range, single
 * characters, without a word. Decided by the matcher: the warning names values the glob misses (the
 * glob's own when the rest of it is literal, else the brace's, and says which). Inside a negated extglob
 * "!(...)" what the brace misses is what the glob takes; a brace inside a class "[{1..3}]" is no brace.
 */
export function rangeWarning(pattern: string): string | undefined {
  if (globProblem(pattern) !== undefined) return undefined;
  const exclusion = pattern.startsWith("!");
  const body = exclusion ? pattern.slice(1) : pattern;
  // A note must never stop check, serve or pulumi up: a brace picomatch refuses when compiled alone, out
  // of the glob it was read in, is none to say anything about.
  try {
    return braceRangeWarning(pattern, body, exclusion);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

function braceRangeWarning(pattern: string, body: string, exclusion: boolean): string | undefined {
  for (const brace of bracesOutsideClasses(body)) {
    const parts = brace.inner.split(",");
    if (!parts.some((part) => part.includes(".."))) continue;
    // What the author meant: a shell range's values; for ".." that is no shell range, its ends ("v1", "v3").
    const shellRange = parts.every((part) => !part.includes("..") || rangeValues(part) !== undefined);
    const intended = parts.flatMap(
      (part) => rangeValues(part) ?? part.split("..").filter((end) => end !== ""),
    );
    const braceTakes = compileGlobList([`{${brace.inner}}`]);
    const missed = intended.filter((value) => !braceTakes(value));
    // Beside other choices a range is read as other values ("{a..c,5}" takes 1, 2 and 3), whatever it misses.
    // A brace that is no shell range is a class between single characters whatever it misses: "{0..f}"
    // takes both ends, and ":", "A" and "_" too.
    const extra = shellRange || missed.length > 0 ? [] : otherCharacters(braceTakes, intended);
    if (missed.length === 0 && (shellRange ? parts.length === 1 : extra.length === 0)) continue;
    const how =
      missed.length > 0
        ? missedValues(body, brace, missed, exclusion)
        : shellRange
          ? "it reads a range beside other choices as other values"
          : takenValues(body, brace, extra, exclusion);
    const shown = `{${brace.inner}}`;
    if (!shellRange) {
      const source = picomatch.makeRe(shown, OPTIONS).source;
      const readAs = /^\^\(\?:(\[.*\])\)\$$/.exec(source)?.[1];
      return (
        `glob ${shownText(pattern)} holds ${shown}, which is no range a shell expands (integers or single ` +
        `letters), and which picomatch reads ${readAs === undefined ? "as other text" : `as a character class between single characters, ${readAs}`} ` +
        `(${how}): list the values, as in {v1,v2,v3}`
      );
    }
    return (
      `glob ${shownText(pattern)} holds the range ${shown}, which picomatch does not expand as a shell ` +
      `does (${how}): it reads a range only between two single digits or letters, alone in its braces and ` +
      "without a step ({1..9}, {a..f}); list the values ({1,2,3}) or write one glob per range"
    );
  }
  return undefined;
}

interface BraceAt {
  start: number;
  /** Just past its "}". */
  end: number;
  inner: string;
  /** The "(" and ")" of the negated extglob "!(...)" around it (close -1 while unclosed); undefined for none. */
  negation?: { open: number; close: number };
}

/**
 * The innermost braces of a glob, as picomatch reads them: not escaped, not in a [...] class, not in quotes
 * ('"v{1..12}"' is the text v{1..12}), and holding no quote (picomatch reads {"a..c"} as "{}").
 */
function bracesOutsideClasses(body: string): BraceAt[] {
  const braces: BraceAt[] = [];
  const parens: Array<{ open: number; negated: boolean }> = [];
  let inClass = false;
  let inQuotes = false;
  let start: number | undefined;
  // Where the last "!" was: none yet is -2, so that a "(" at index 0 is no "!(".
  let bang = -2;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (char === "\\") i++;
    else if (inClass) inClass = char !== "]";
    else if (char === '"') {
      inQuotes = !inQuotes;
      start = undefined;
    } else if (inQuotes) continue;
    else if (char === "[") inClass = true;
    else if (char === "!") bang = i;
    else if (char === "(") parens.push({ open: i, negated: bang === i - 1 });
    else if (char === ")") {
      const paren = parens.pop();
      for (const brace of braces) {
        if (paren !== undefined && brace.negation?.open === paren.open) brace.negation.close = i;
      }
    } else if (char === "{") start = i;
    else if (char === "}" && start !== undefined) {
      const negated = [...parens].reverse().find((paren) => paren.negated);
      braces.push({
        start,
        end: i + 1,
        inner: body.slice(start + 1, i),
        ...(negated ? { negation: { open: negated.open, close: -1 } } : {}),
      });
      start = undefined;
    }
  }
  return braces;
}

/**
 * Printable ASCII characters a brace takes that are none of the values meant, one of each kind (digit, upper
 * case, lower case, other) first, so that an example shows how wide the class is.
 */
function otherCharacters(braceTakes: GlobTest, intended: readonly string[]): string[] {
  const taken: string[] = [];
  for (let code = 0x21; code < 0x7f; code++) {
    const char = String.fromCharCode(code);
    if (!intended.includes(char) && braceTakes(char)) taken.push(char);
  }
  const kind = (char: string) => (/\d/.test(char) ? 0 : /[A-Z]/.test(char) ? 2 : /[a-z]/.test(char) ? 3 : 1);
  const firsts = [0, 1, 2, 3].flatMap((k) => taken.find((char) => kind(char) === k) ?? []);
  return [...firsts, ...taken.filter((char) => !firsts.includes(char))];
}

/**
 * What a brace that is no shell range takes beyond its ends: the glob's values when the rest of it is literal
 * (and no "!(...)" is around the brace), else the brace's, said to be the brace's.
 */
function takenValues(body: string, brace: BraceAt, extra: readonly string[], exclusion: boolean): string {
  const before = body.slice(0, brace.start);
  const after = body.slice(brace.end);
  const values =
    brace.negation === undefined && isLiteralText(before + after)
      ? extra.map((char) => before + char + after).filter(compileGlobList([body]))
      : [];
  if (values.length > 0) {
    return `it ${exclusion ? "excludes" : "takes"} every character between its ends, as ${firstValues(values)}`;
  }
  const around = brace.negation === undefined ? "" : ", which the !(...) around it then leaves out";
  return `its brace takes every character between its ends, as ${firstValues(extra)}${around}`;
}

/** The first three values, and "..." when there are more: a note's examples. */
function firstValues(values: readonly string[]): string {
  return `${values.slice(0, 3).join(", ")}${values.length > 3 ? ", ..." : ""}`;
}

/** Text picomatch compares as it is: no glob syntax, escape or quote. */
function isLiteralText(text: string): boolean {
  return !GLOB_SYNTAX.test(text) && !/[\\"]/.test(text);
}

/**
 * What the glob does with the values its brace misses: the glob's own values ("misses v3") when the rest of
 * it is literal, checked against the glob's matcher; else the brace's, said to be the brace's.
 */
function missedValues(body: string, brace: BraceAt, missed: readonly string[], exclusion: boolean): string {
  const matches = compileGlobList([body]);
  if (brace.negation !== undefined) {
    // "v!({1..12})" leaves out only what its brace takes: v3 to v12, meant to be left out, are taken.
    const { open, close } = brace.negation;
    const before = body.slice(0, open - 1);
    const after = body.slice(close + 1);
    const alone = close > open && body.slice(open + 1, close) === body.slice(brace.start, brace.end);
    const taken =
      alone && isLiteralText(before + after)
        ? missed.map((value) => before + value + after).filter(matches)
        : [];
    // In an exclusion ("!v!({1..12})") the glob's values are what it excludes, and !(...) was to keep them.
    if (taken.length > 0) {
      return exclusion
        ? `it excludes ${firstValues(taken)}, which its !(...) was to keep`
        : `it takes ${firstValues(taken)}, which its !(...) was to leave out`;
    }
    return `its brace misses ${firstValues(missed)}, which the !(...) around it then does not leave out`;
  }
  const before = body.slice(0, brace.start);
  const after = body.slice(brace.end);
  const values = isLiteralText(before + after)
    ? missed.map((value) => before + value + after).filter((value) => !matches(value))
    : [];
  if (values.length > 0) return `${exclusion ? "it does not exclude" : "it misses"} ${firstValues(values)}`;
  return `its brace misses ${firstValues(missed)}${exclusion ? ", which the exclusion then does not exclude" : ""}`;
}

/**
 * The text of a choice in braces or parentheses ("{main, master}", "@(a| b)") that holds a space, as
 * picomatch's parser splits the glob (a list's leading "!" left out), each once: every value through that
 * choice holds the space. Not in a class, a negated "!(...)" (which a space there only widens), an optional
 * "*(...)" or "?(...)" (the glob still matches without it: "main*( )" takes main), nor outside any group.
 * A brace holding a range ("v{1..3, 5}") is left alone: picomatch gives no tokens for its choices.
 */
export function choicesWithSpace(pattern: string): string[] {
  const body = pattern.startsWith("!") ? pattern.slice(1) : pattern;
  let tokens: ReadonlyArray<{ type: string; value: string }>;
  try {
    tokens = picomatch.parse(body, OPTIONS).tokens;
  } catch (error) {
    if (error instanceof SyntaxError) return [];
    throw error;
  }
  // Each open group, and the text of its choice so far: picomatch cuts a choice's text at each "/" or
  // wildcard ("{main, release/*}" is " release", "/", "*"), so the pieces are joined back here.
  const groups: Array<{ kind: "choice" | "skipped"; piece: string }> = [];
  const found = new Set<string>();
  const flush = () => {
    const top = groups.at(-1);
    if (top === undefined) return;
    if (top.kind === "choice" && !groups.some((g) => g.kind === "skipped") && top.piece.includes(" ")) {
      found.add(top.piece);
    }
    top.piece = "";
  };
  let previous: { type: string } | undefined;
  for (const token of tokens) {
    const opens =
      (token.type === "brace" || token.type === "paren") && (token.value === "{" || token.value === "(");
    const closes =
      (token.type === "brace" || token.type === "paren") && (token.value === "}" || token.value === ")");
    if (opens) {
      // An extglob's "(" follows its "!", "*", "?", "+" or "@".
      const skipped = token.value === "(" && ["negate", "star", "qmark"].includes(previous?.type ?? "");
      groups.push({ kind: skipped ? "skipped" : "choice", piece: "" });
    } else if (closes) {
      flush();
      groups.pop();
    } else if (token.type === "comma" && groups.length > 0) {
      flush();
    } else if (groups.length > 0 && token.type !== "bos") {
      // picomatch keeps a "|" in the text ("main| master"), and its RegExp reads it as "or".
      const parts = token.type === "text" ? token.value.split("|") : [token.value];
      parts.forEach((part, i) => {
        if (i > 0) flush();
        const top = groups.at(-1);
        if (top) top.piece += part;
      });
    }
    previous = token;
  }
  return [...found];
}

/**
 * A "|" that is not escaped, in a [...] class or in an extglob's (...): picomatch reads it as text in one
 * glob ("main|master" matches nothing) and as "or" in another ("release/*|hotfix/*").
 */
function pipeOutsideParentheses(text: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\") i++;
    else if (inClass) inClass = char !== "]";
    else if (char === "[") inClass = true;
    else if (char === "(") depth++;
    else if (char === ")") depth = Math.max(0, depth - 1);
    else if (char === "|" && depth === 0) return true;
  }
  return false;
}

/** picomatch's message, which may quote the glob: short, and without invisible characters. */
function shownMessage(message: string): string {
  const text = withoutInvisible(message);
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/** `text` as a RegExp source that matches exactly it. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface GlobListOptions {
  /**
   * Letters match in either case, includes and exclusions alike, as a JavaScript RegExp's `i` flag (without
   * `u`) compares them: "Acme/API" matches "acme/*", "É" matches "é", but no letter matches two ("ß" is not
   * "SS") and no other letter matches an ASCII one (the Kelvin sign is not "k"). For repository names only:
   * every host refuses two repositories whose names differ only in case.
   */
  ignoreCase?: boolean;
}

/**
 * A value matches the list when it matches at least one include and no exclude.
 * A list of only exclusions includes everything else.
 *
 * Each side is compiled to one anchored RegExp (about five times cheaper per test than picomatch's own
 * matcher), literal entries are compared (a Set lookup for long lists), and each pattern's literal prefix
 * ("src" in "src/**") is checked with startsWith before the RegExp runs: a `paths` filter may test every
 * changed file of a push, and every route runs its filters, on the hot path.
 */
export function compileGlobList(patterns: readonly string[], options: GlobListOptions = {}): GlobTest {
  const ignoreCase = options.ignoreCase === true;
  const include = anyOf(
    patterns.filter((p) => !p.startsWith("!")),
    ignoreCase,
  );
  const exclude = anyOf(
    patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1)),
    ignoreCase,
  );
  if (include === undefined && exclude === undefined) return () => true;
  if (exclude === undefined) return include as GlobTest;
  if (include === undefined) return (value) => !exclude(value);
  return (value) => include(value) && !exclude(value);
}

/**
 * Plain text for picomatch: no glob syntax, no escapes, no "." or ".." segment, no leading "./" or
 * trailing "/" (which picomatch treats specially). Such a pattern matches only itself.
 */
function isLiteral(pattern: string): boolean {
  return (
    /^[A-Za-z0-9_.:~ /-]+$/.test(pattern) &&
    !pattern.endsWith("/") &&
    !pattern.includes("//") &&
    !pattern.split("/").some((segment) => segment === "." || segment === "..")
  );
}

function anyOf(globs: readonly string[], ignoreCase: boolean): GlobTest | undefined {
  if (globs.length === 0) return undefined;
  // picomatch never matches "", and matches a value equal to the glob itself (even "./main").
  const equalsAny = equalityTest(globs);
  if (ignoreCase) return anyOfIgnoringCase(globs, equalsAny);
  const patterns = globs.filter((glob) => !isLiteral(glob));
  // Literals are never empty, so equality alone also refuses "".
  if (patterns.length === 0) return equalsAny;
  const regex = new RegExp(patterns.map((glob) => picomatch.makeRe(glob, OPTIONS).source).join("|"));
  const bases = patterns.map(literalPrefix);
  // One closure per shape, no loop for the common single prefix: with many routes, each test runs
  // with little of it in the CPU's caches, and every call and object it reaches costs.
  if (bases.includes("")) return (value) => value.length > 0 && (equalsAny(value) || regex.test(value));
  if (bases.length === 1) {
    const base = bases[0] as string;
    return (value) => value.length > 0 && (equalsAny(value) || (value.startsWith(base) && regex.test(value)));
  }
  return (value) =>
    value.length > 0 && (equalsAny(value) || (startsWithAny(value, bases) && regex.test(value)));
}

/**
 * anyOf for letters in either case: the value as written is compared first (the host's own spelling, the
 * usual hit), then one RegExp with the `i` flag decides for every glob, literal ones too, and for the glob's
 * own text (a value equal to the glob matches it, in any case: "./A" matches "./a"). Before it, each
 * glob's literal prefix is compared upper-cased: a letter the RegExp takes for another has the same
 * toUpperCase, so the comparison refuses no value the RegExp would accept, and most other repositories'
 * names fail it without a RegExp.
 */
function anyOfIgnoringCase(globs: readonly string[], equalsAny: GlobTest): GlobTest {
  const sources = globs.flatMap((glob) => [
    picomatch.makeRe(glob, OPTIONS).source,
    `^${escapeRegExp(glob)}$`,
  ]);
  const regex = new RegExp(sources.join("|"), "i");
  const bases = globs.map(literalPrefix);
  if (bases.includes("")) return (value) => value.length > 0 && (equalsAny(value) || regex.test(value));
  const upper = bases.map((base) => base.toUpperCase());
  const lengths = bases.map((base) => base.length);
  return (value) => {
    if (value.length === 0) return false;
    if (equalsAny(value)) return true;
    for (let i = 0; i < upper.length; i++) {
      if (value.slice(0, lengths[i]).toUpperCase() === upper[i]) return regex.test(value);
    }
    return false;
  };
}

/**
 * The values a list accepts when it names them outright (one or two literal entries, no exclusions), so
 * that a caller may compare with them directly; otherwise undefined.
 */
export function globListLiterals(patterns: readonly string[]): readonly string[] | undefined {
  if (patterns.length === 0 || patterns.length > 2) return undefined;
  return patterns.every((p) => !p.startsWith("!") && isLiteral(p)) ? patterns : undefined;
}

/**
 * Strings one of which starts every value that compileGlobList(patterns) accepts: each include's literal
 * prefix ("src" of "src/**", or a literal entry itself). Undefined when some include has no literal
 * prefix ("**\/*.md") or the list has only exclusions. A value that starts with none of them is refused.
 */
export function globListLeads(patterns: readonly string[]): string[] | undefined {
  const includes = patterns.filter((p) => !p.startsWith("!"));
  if (includes.length === 0) return undefined;
  const leads = includes.map(literalPrefix);
  return leads.includes("") ? undefined : leads;
}

/** What every value a glob matches starts with: a literal itself, else its base, or "" when unknown. */
function literalPrefix(glob: string): string {
  if (isLiteral(glob)) return glob;
  // scan() normalises ("./main" has base "main"); only a base the pattern literally starts with is a prefix,
  // and only up to its first escape or glob character: "dependabot\[bot\]" matches "dependabot[bot]",
  // without the backslashes, and scan() takes all of "{a.\},x}" (which matches "x") for a base.
  // After "./", picomatch reads a "!" as a negation ("./!." matches every name but "."): no prefix at all.
  const { base, negated } = picomatch.scan(glob);
  if (negated || !glob.startsWith(base)) return "";
  // "@", "+" and "!" are syntax only before "(" ("@types/**" has the lead "@types"); a '"' may open a quoted
  // text, which picomatch matches without its quotes ('"main"' matches "main").
  const firstSyntax = base.search(/[\\{}[\]()*?|"]|[@+!](?=\()/);
  const lead = firstSyntax < 0 ? base : base.slice(0, firstSyntax);
  // Where picomatch builds its RegExp from the text as written, a "." is any character: "a.b/{1..3}" matches
  // "axb/2". The lead ends before its first ".".
  if (!globTextIsLiteral(glob)) return lead.includes(".") ? lead.slice(0, lead.indexOf(".")) : lead;
  // picomatch's fast path (a glob with no "/", bracket, brace, parenthesis or quote that starts with neither
  // "*" nor "!") escapes only the first of a run of "$" or "+": "a$$" is /a\$$/, which matches "a$", and "c++"
  // is /c\++/, which matches "c+".
  if (/^[*!]|[/()[\]{}"]/.test(glob)) return lead;
  const run = lead.search(/([$+])\1/);
  return run < 0 ? lead : lead.slice(0, run + 1);
}

/**
 * A Set for long lists; for a few entries, comparing is cheaper than hashing the value (=== compares
 * lengths first), and one or two entries are compared without a loop.
 */
function equalityTest(values: readonly string[]): GlobTest {
  if (values.length > 8) {
    const set = new Set(values);
    return (value) => set.has(value);
  }
  if (values.length === 1) {
    const only = values[0] as string;
    return (value) => value === only;
  }
  if (values.length === 2) {
    const [first, second] = values as [string, string];
    return (value) => value === first || value === second;
  }
  return (value) => {
    for (const candidate of values) if (candidate === value) return true;
    return false;
  };
}

function startsWithAny(value: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) if (value.startsWith(prefix)) return true;
  return false;
}
