// Turn verified raw bytes into the provider's payload. Runs only AFTER verification, because the
// signature covers the bytes exactly as received (for form bodies: the form, not the JSON inside it).
import { isAscii, isUtf8 } from "node:buffer";
import { RequestError } from "./errors";

const UTF8_CHARSETS = new Set(["utf-8", "utf8", "us-ascii"]);

interface MediaType {
  type: string;
  charset?: string;
}

const PLAIN_JSON: MediaType = { type: "application/json" };

function mediaType(contentType: string): MediaType {
  if (contentType === "application/json") return PLAIN_JSON; // what nearly every sender sends
  const [essence = "", ...params] = contentType.split(";");
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq < 0) continue;
    if (param.slice(0, eq).trim().toLowerCase() === "charset") {
      charset = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1")
        .toLowerCase();
    }
  }
  return { type: essence.trim().toLowerCase(), charset };
}

function isJsonType(type: string): boolean {
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    // JSON.parse's message quotes the input: never pass it on.
    throw new RequestError(400, `${what} is not valid JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new RequestError(400, `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * The body as text; RequestError(400) when it is not valid UTF-8. Most payloads are plain ASCII, whose
 * bytes read the same in Latin-1: that decoding is a plain copy, about half the cost of UTF-8's.
 */
function utf8Text(body: Buffer): string {
  if (isAscii(body)) return body.toString("latin1");
  if (!isUtf8(body)) throw new RequestError(400, "body is not valid UTF-8");
  return body.toString("utf8");
}

/**
 * The payload of a verified delivery.
 * - `application/json` and `application/*+json` (charset utf-8 or none): the UTF-8 JSON body.
 * - `application/x-www-form-urlencoded` (GitHub's "form" content type): the single `payload` field,
 *   URL-decoded, as JSON; the form may hold no other field.
 * - no Content-Type at all: tried as JSON (some senders omit it).
 * Throws RequestError: 400 for an empty body, bytes that are not UTF-8, malformed JSON, a payload
 * that is not a JSON object, a form other than exactly one `payload` field; 415 for any other content type
 * or a charset other than UTF-8.
 */
export function decodeBody(body: Buffer, contentType: string | undefined): unknown {
  const media = contentType === undefined || contentType.trim() === "" ? undefined : mediaType(contentType);
  if (media?.charset !== undefined && !UTF8_CHARSETS.has(media.charset)) {
    throw new RequestError(415, `unsupported charset "${media.charset.slice(0, 40)}"; send UTF-8`);
  }
  const form = media?.type === "application/x-www-form-urlencoded";
  if (media !== undefined && !form && !isJsonType(media.type)) {
    throw new RequestError(
      415,
      `unsupported content type "${media.type.slice(0, 80)}"; send application/json`,
    );
  }
  if (body.length === 0) throw new RequestError(400, "empty body");
  const text = utf8Text(body);
  if (!form) return parseJsonObject(text, "body");

  const fields = new URLSearchParams(text);
  const payloads = fields.getAll("payload");
  if (payloads.length === 0) throw new RequestError(400, "form body has no payload field");
  if (payloads.length > 1) throw new RequestError(400, "form body has several payload fields");
  // Hosts send payload=<JSON> alone. Content-Type is not signed: a JSON body replayed as a form must not
  // yield a "payload" planted in one of its strings ({"title":"x&payload=...&"}).
  if (fields.size !== 1) throw new RequestError(400, "form body has fields other than payload");
  return parseJsonObject(payloads[0] as string, "form payload");
}
