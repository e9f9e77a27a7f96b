// Strict hex decoding: Buffer.from(text, "hex") silently stops at the first bad character, which would
// turn a malformed signature into a shorter one. This accepts exactly `bytes * 2` lower-case hex digits.

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  return -1;
}

/**
 * The bytes written in `text` from `offset` to its end, or undefined unless that is exactly `bytes`
 * bytes of lower-case hex.
 */
export function decodeHex(text: string, bytes: number, offset = 0): Buffer | undefined {
  if (text.length - offset !== bytes * 2) return undefined;
  const out = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) {
    const hi = nibble(text.charCodeAt(offset + 2 * i));
    const lo = nibble(text.charCodeAt(offset + 2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}
