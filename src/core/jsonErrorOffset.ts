// Where a text stops being JSON, for a syntax error's line and column. V8 (Node 20 and later) says "at position N"
// for most errors but not for an unexpected token ("Unexpected token '}', ... is not valid JSON"), nor at the end.

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const HEX = /^[0-9a-fA-F]$/;
const DIGIT = /^[0-9]$/;

/**
 * The offset of the first character of `text` that cannot continue a JSON text (RFC 8259, as JSON.parse reads
 * it), text.length when the text ends too early; undefined for valid JSON. Where V8 gives a position it is
 * this one. Iterative, so a deeply nested text does not overflow the stack.
 */
export function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  let i = 0;
  const skipWhitespace = () => {
    while (i < n && WHITESPACE.has(text[i] as string)) i++;
  };
  /** A string from its opening quote at i: the offset of its fault, or undefined with i past its end. */
  const scanString = (): number | undefined => {
    i++;
    for (;;) {
      if (i >= n) return n;
      const c = text[i] as string;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === "\\") {
        i++;
        if (i >= n) return n;
        if (text[i] === "u") {
          for (let k = 1; k <= 4; k++) {
            if (i + k >= n) return n;
            if (!HEX.test(text[i + k] as string)) return i + k;
          }
          i += 5;
        } else if (ESCAPES.has(text[i] as string)) {
          i++;
        } else {
          return i;
        }
      } else if (c.charCodeAt(0) < 0x20) {
        return i;
      } else {
        i++;
      }
    }
  };
  const skipDigits = () => {
    while (i < n && DIGIT.test(text[i] as string)) i++;
  };
  /** A number from i: the offset of its fault, or undefined with i past its end. */
  const scanNumber = (): number | undefined => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (i < n && DIGIT.test(text[i] as string)) skipDigits();
    else return i;
    if (text[i] === ".") {
      i++;
      if (!(i < n && DIGIT.test(text[i] as string))) return i;
      skipDigits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!(i < n && DIGIT.test(text[i] as string))) return i;
      skipDigits();
    }
    return undefined;
  };
  /** An object's key and its colon, from i: the offset of a fault, or undefined with i at the value. */
  const scanKey = (): number | undefined => {
    skipWhitespace();
    if (text[i] !== '"') return i;
    const bad = scanString();
    if (bad !== undefined) return bad;
    skipWhitespace();
    if (text[i] !== ":") return i;
    i++;
    return undefined;
  };

  // The open objects and arrays, innermost last.
  const open: Array<"{" | "["> = [];
  value: for (;;) {
    skipWhitespace();
    const c = text[i];
    if (c === "{" || c === "[") {
      i++;
      skipWhitespace();
      if (text[i] === (c === "{" ? "}" : "]")) {
        i++;
      } else {
        open.push(c);
        if (c === "{") {
          const bad = scanKey();
          if (bad !== undefined) return bad;
        }
        continue;
      }
    } else if (c === '"') {
      const bad = scanString();
      if (bad !== undefined) return bad;
    } else if (c === "-" || (c !== undefined && DIGIT.test(c))) {
      const bad = scanNumber();
      if (bad !== undefined) return bad;
    } else if (c === "t" || c === "f" || c === "n") {
      const word = c === "t" ? "true" : c === "f" ? "false" : "null";
      for (let k = 0; k < word.length; k++) {
        if (text[i + k] !== word[k]) return i + k;
      }
      i += word.length;
    } else {
      return i;
    }
    // After a value: a comma, the end of the container it is in, or the end of the text.
    for (;;) {
      skipWhitespace();
      const container = open.at(-1);
      if (container === undefined) return i === n ? undefined : i;
      if (text[i] === ",") {
        i++;
        if (container === "{") {
          const bad = scanKey();
          if (bad !== undefined) return bad;
        }
        continue value;
      }
      if (text[i] !== (container === "{" ? "}" : "]")) return i;
      i++;
      open.pop();
    }
  }
}
