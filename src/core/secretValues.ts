// What a webhook secret in Secrets Manager may hold. Rotation needs two values at once, and Secrets
// Manager keeps a current and a previous version (AWSCURRENT, AWSPREVIOUS); the store returns both
// raw strings and this turns each into the secret values it holds.
// Nothing here throws, and no value ever goes into a message.

/**
 * The function's error lines for a webhook secret that rejects every delivery: missing, or without a usable
 * value. The stack's log metric filter matches them exactly (infra/route.ts): change them together.
 */
export const SECRET_MISSING_MSG = "webhook secret missing: every delivery is rejected until it exists";
export const SECRET_UNUSABLE_MSG =
  "webhook secret holds no usable value: every delivery is rejected until it does";

/** A value that is not blank: an empty or whitespace-only string is no value, never an HMAC key. */
function nonBlank(value: unknown): value is string {
  return typeof value === "string" && value.trim().length > 0;
}

/** A string, or a list of strings, without its blank values; undefined for anything else. */
function strings(value: unknown): string[] | undefined {
  if (typeof value === "string") return nonBlank(value) ? [value] : undefined;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string")) {
    return value.filter(nonBlank);
  }
  return undefined;
}

/**
 * What one secret string holds, and how many keys a JSON object none of whose keys are read has. Never the
 * keys themselves: the console's key/value editor makes it easy to paste the secret into the Key box.
 */
export interface SecretShape {
  values: string[];
  /** A JSON object without secret, secrets or value, and not one string field (used whole): its number of keys. */
  unreadKeyCount?: number;
}

const KNOWN_KEYS = ["secret", "secrets", "value"];

/**
 * `text` without one leading byte order mark (U+FEFF): a file written by Windows PowerShell 5.1
 * (`Set-Content -Encoding UTF8`) and stored with `--secret-string file://...` starts with one, which
 * JSON.parse refuses. Every reader of a secret's JSON takes it off first, so all read the value alike.
 */
export function withoutByteOrderMark(text: string): string {
  return text.startsWith("\uFEFF") ? text.slice(1) : text;
}

function fromJson(stored: string): { values: string[]; unreadKeyCount?: number } | undefined {
  const raw = withoutByteOrderMark(stored);
  const head = raw.trimStart()[0];
  if (head !== "[" && head !== "{") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { values: [] };
    // Blank entries hold nothing: ["  "] holds no value, ["a", ""] only "a".
    const values = strings(parsed);
    return values === undefined ? undefined : { values };
  }
  if (parsed === null || typeof parsed !== "object") return undefined;
  const record = parsed as Record<string, unknown>;
  const keys = KNOWN_KEYS.filter((key) => Object.hasOwn(record, key));
  // A structured secret whose fields are empty or of the wrong type holds no usable value.
  if (keys.length > 0) return { values: keys.flatMap((key) => strings(record[key]) ?? []) };
  const fields = Object.keys(record);
  const only = fields.length === 1 ? record[fields[0] as string] : undefined;
  // The Secrets Manager console's key/value secret ({"webhook_secret": "..."}): its one value, then (as
  // before) the whole text. A blank value holds nothing (the whole text would be a key anyone can write).
  if (typeof only === "string") return nonBlank(only) ? { values: [only, raw] } : { values: [] };
  return { values: [raw], unreadKeyCount: fields.length };
}

/**
 * The secret values held by one stored secret string:
 * - a plain string: itself;
 * - a JSON array of strings: each that is not blank (`[]` and `["  "]` hold none);
 * - a JSON object with `secret` (string), `secrets` (string[]) and/or `value` (string): those
 *   (blank or mistyped fields hold nothing, so `{"secret": ""}` and `{"secret": "  "}` hold no value);
 * - a JSON object with one other field, a string (a console key/value secret): that value, then the whole
 *   string; nothing when the value is blank;
 * - anything else that is not blank (including text that only looks like JSON): itself (a JSON object's
 *   number of keys is then given as unreadKeyCount).
 * - an empty or blank string: nothing.
 * A plain value with surrounding whitespace (a pasted trailing newline) also yields its trimmed form,
 * after the exact one. Duplicates are dropped; order is kept (current first).
 */
export function parseSecretShape(raw: string): SecretShape {
  if (typeof raw !== "string" || raw.trim().length === 0) return { values: [] };
  const json = fromJson(raw);
  const values = json?.values ?? [raw];
  const out: string[] = [];
  for (const value of values) {
    if (!out.includes(value)) out.push(value);
    const trimmed = value.trim();
    if (trimmed.length > 0 && trimmed !== value && !out.includes(trimmed)) out.push(trimmed);
  }
  return json?.unreadKeyCount === undefined
    ? { values: out }
    : { values: out, unreadKeyCount: json.unreadKeyCount };
}
