// routes.yaml's bytes -> its text. Only UTF-8 is read: a Latin-1 "café/*" would otherwise become a glob
// that can never match, and a UTF-16 file (PowerShell 5's default) a text of NUL characters.
import { isUtf8 } from "node:buffer";
import type { Position } from "./positions";

export type DecodedRoutes = { text: string } | { problem: Position & { message: string } };

const SAVE_AS_UTF8 = "save it as UTF-8";

/** The file's text, or the one problem that says why it is not UTF-8 (at the first bad byte when there is one). */
export function decodeRoutesBytes(bytes: Uint8Array): DecodedRoutes {
  const utf16 = utf16Kind(bytes);
  if (utf16 !== undefined) {
    return { problem: { line: 1, col: 1, message: `the file is saved as ${utf16}: ${SAVE_AS_UTF8}` } };
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return { text: buffer.toString("utf8") };
  const bad = firstInvalidByte(buffer);
  const lineStart = bad === 0 ? 0 : buffer.lastIndexOf(0x0a, bad - 1) + 1;
  const line = countNewlines(buffer, lineStart) + 1;
  // Columns count characters, as the other problems' do; a byte-order mark is not one.
  const before = buffer.toString("utf8", lineStart, bad).replace(/^\uFEFF/, "");
  const byte = (buffer[bad] ?? 0).toString(16).toUpperCase().padStart(2, "0");
  return {
    problem: {
      line,
      col: before.length + 1,
      message: `the file is not valid UTF-8 (byte 0x${byte}; saved as Latin-1 or Windows-1252?): ${SAVE_AS_UTF8}`,
    },
  };
}

/**
 * "UTF-16" or "UTF-32" when the bytes start with one of their byte-order marks, or with a NUL byte in
 * the first two (a YAML file never holds NUL: that is ASCII text in UTF-16 without a mark).
 */
function utf16Kind(bytes: Uint8Array): string | undefined {
  const [b0, b1, b2, b3] = bytes;
  if (
    (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) ||
    (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff)
  )
    return "UTF-32";
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) return "UTF-16";
  if (bytes.length >= 2 && (b0 === 0 || b1 === 0)) return "UTF-16";
  return undefined;
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidByte(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const [length, min, max] =
      b >= 0xc2 && b <= 0xdf
        ? [2, 0x80, 0xbf]
        : b === 0xe0
          ? [3, 0xa0, 0xbf]
          : b === 0xed
            ? [3, 0x80, 0x9f]
            : b >= 0xe1 && b <= 0xef
              ? [3, 0x80, 0xbf]
              : b === 0xf0
                ? [4, 0x90, 0xbf]
                : b === 0xf4
                  ? [4, 0x80, 0x8f]
                  : b >= 0xf1 && b <= 0xf3
                    ? [4, 0x80, 0xbf]
                    : [0, 0, 0];
    if (length === 0) return i;
    // The second byte has a narrower range for some leads (no overlongs, no surrogates, nothing past U+10FFFF).
    const second = bytes[i + 1];
    if (second === undefined || second < min || second > max) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return bytes.length;
}

function countNewlines(bytes: Buffer, end: number): number {
  let count = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < end; i = bytes.indexOf(0x0a, i + 1)) count++;
  return count;
}
