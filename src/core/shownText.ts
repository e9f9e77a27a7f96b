// User text as a problem message quotes it: one place that makes it safe to print and short.
// A routes file may hold anything, and what a message echoes goes to a terminal: an ESC there can clear
// the screen or recolour it, a CR or U+202E hide or reorder what is shown, and a megabyte of text is no
// message at all.

/**
 * A character that is not seen as itself: a control character (Unicode category Cc: C0, DEL and C1 such as
 * NEL U+0085), a format character (Cf: zero-width space U+200B, the bidi controls U+202A-202E and
 * U+2066-2069, the byte order mark U+FEFF, …), and the line and paragraph separators U+2028 and U+2029.
 */
export const INVISIBLE = /\p{Cc}|\p{Cf}|[\u2028\u2029]/u;
/** The longest a yaml message is shown (shownYamlMessage). */
const YAML_MESSAGE_MAX = 200;
/** Anything but a printable ASCII character: text without one holds nothing invisible. */
const BEYOND_PRINTABLE_ASCII = /[^\x20-\x7e]/;
/** INVISIBLE, and a lone surrogate (half of a character, shown as a replacement character). */
const INVISIBLE_OR_SURROGATE = /\p{Cc}|\p{Cf}|[\u2028\u2029]|\p{Cs}/u;
/** The same, global, for replace (test on a global pattern would carry lastIndex from call to call). */
const INVISIBLE_ALL = new RegExp(INVISIBLE_OR_SURROGATE.source, "gu");

/** Names of the invisible characters (and white space not an ASCII space) met most often, for a message. */
const NAMES: Readonly<Record<number, string>> = {
  0: "NUL",
  9: "tab",
  10: "line feed",
  13: "carriage return",
  27: "escape",
  127: "delete, DEL",
  133: "next line, NEL",
  160: "no-break space",
  173: "soft hyphen",
  8203: "zero-width space",
  8204: "zero-width non-joiner",
  8205: "zero-width joiner",
  8206: "left-to-right mark",
  8207: "right-to-left mark",
  8234: "left-to-right embedding",
  8235: "right-to-left embedding",
  8236: "pop directional formatting",
  8237: "left-to-right override",
  8238: "right-to-left override",
  8232: "line separator",
  8233: "paragraph separator",
  8239: "narrow no-break space",
  8288: "word joiner",
  8294: "left-to-right isolate",
  8295: "right-to-left isolate",
  8296: "first strong isolate",
  8297: "pop directional isolate",
  12288: "ideographic space",
  65279: "byte order mark",
};

/** "U+200B (zero-width space)": the code point, and its name when it is a known one. */
export function codePointName(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  const name = NAMES[codePoint];
  if (name !== undefined) return `${hex} (${name})`;
  const char = String.fromCodePoint(codePoint);
  const kind = /\p{Cc}/u.test(char) ? "control" : /\s/u.test(char) ? "white-space" : "format";
  return `${hex} (a ${kind} character)`;
}

/**
 * The first invisible character of `value` (INVISIBLE, or those of `which`, a narrower pattern without the g
 * flag), as `U+200B (zero-width space) at character 5`, counted in characters (code points) from 1; undefined
 * when it has none.
 */
export function invisibleCharacter(value: string, which: RegExp = INVISIBLE): string | undefined {
  if (!which.test(value)) return undefined;
  let position = 0;
  for (const char of value) {
    position++;
    if (which.test(char)) return `${codePointName(char.codePointAt(0) as number)} at character ${position}`;
  }
  return undefined;
}

/**
 * `value` as a message quotes it: in double quotes, escaped as JSON (a " or \ too) and with every invisible
 * character (INVISIBLE) and lone surrogate as \uXXXX, clipped with "…" once the quoted text passes `max`
 * characters (never inside an escape). The result is at most max + 3 characters long.
 */
export function shownText(value: string, max = 80): string {
  let out = "";
  for (const char of value) {
    const piece = escaped(char);
    if (out.length + piece.length > max) return `"${out}…"`;
    out += piece;
  }
  return `"${out}"`;
}

/**
 * A replacement a message suggests, as the user would write it in routes.yaml: a YAML single-quoted scalar,
 * in which only a ' is written twice ('a\b' is a\b, where shownText's "a\\b" is a\b only in double quotes),
 * clipped with "…" once past `max` characters like shownText. A text that
 * holds an invisible character (or half of a surrogate pair) is shownText's, a double-quoted scalar that
 * YAML reads the same way: inside single quotes an escape is no escape.
 */
export function suggestedText(value: string, max = 80): string {
  if (INVISIBLE_OR_SURROGATE.test(value)) return shownText(value, max);
  let out = "";
  for (const char of value) {
    const piece = char === "'" ? "''" : char;
    if (out.length + piece.length > max) return `'${out}…'`;
    out += piece;
  }
  return `'${out}'`;
}

function escaped(char: string): string {
  switch (char) {
    case '"':
      return '\\"';
    case "\\":
      return "\\\\";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  const code = char.codePointAt(0) as number;
  // A lone surrogate is one UTF-16 unit of its own: a terminal shows it as a replacement character.
  if (INVISIBLE.test(char) || (char.length === 1 && code >= 0xd800 && code <= 0xdfff))
    return unicodeEscape(code);
  return char;
}

function unicodeEscape(code: number): string {
  // Past U+FFFF (the tag characters U+E0000-U+E007F are format characters): its two UTF-16 units, as JSON.
  if (code > 0xffff) {
    const offset = code - 0x10000;
    return unicodeEscape(0xd800 + (offset >> 10)) + unicodeEscape(0xdc00 + (offset & 0x3ff));
  }
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `value` clipped to `max` characters with "…" and its invisible characters written as \uXXXX, not quoted:
 * for text a message puts in quotes of its own.
 */
export function clippedText(value: string, max = 80): string {
  return clipText(withoutInvisible(value), max);
}

/**
 * A finished message with any invisible character left in it written as \uXXXX: the problem printer's last
 * line of defence, should a message quote user text without shownText.
 */
export function withoutInvisible(message: string): string {
  // Most text is printable ASCII: one quick test spares it the Unicode scan (serve writes a log line per request).
  if (!BEYOND_PRINTABLE_ASCII.test(message)) return message;
  return message.replace(INVISIBLE_ALL, (char) => unicodeEscape(char.codePointAt(0) as number));
}

/**
 * A message of the yaml package, which may quote the document's text: its "Unexpected … token" quotes the
 * token's whole source as JSON (a megabyte for an unclosed quote), others the text as it is (an unresolved
 * tag, a bad escape). A JSON-quoted text at the end is shown again with shownText; any other message is
 * clipped to YAML_MESSAGE_MAX characters, its invisible characters escaped.
 */
export function shownYamlMessage(message: string): string {
  const quoted = /^([^"]*): ("(?:[^"\\]|\\.)*")$/s.exec(message);
  if (quoted !== null) {
    let text: unknown;
    try {
      text = JSON.parse(quoted[2] as string);
    } catch {
      text = undefined;
    }
    if (typeof text === "string")
      return `${clipText(withoutInvisible(quoted[1] as string), YAML_MESSAGE_MAX)}: ${shownText(text, 60)}`;
  }
  return clipText(withoutInvisible(message), YAML_MESSAGE_MAX);
}

function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  // Not between the two halves of a surrogate pair, nor inside a \uXXXX written by withoutInvisible.
  let end = max;
  const unicode = text.lastIndexOf("\\u", end);
  if (unicode >= 0 && unicode > end - 6) end = unicode;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
