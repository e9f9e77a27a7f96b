// What a webhook secret in Secrets Manager may hold. Rotation needs two values at once, and Secrets
// Manager keeps a current and a previous version (AWSCURRENT, AWSPREVIOUS); the store returns both
// raw strings and this turns each into the secret values it holds.
// Nothing here throws, and no value ever goes into a message.

function strings(value: unknown): string[] | undefined {
  if (typeof value === "string") return value.length > 0 ? [value] : undefined;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string" && v.length > 0)) {
    return value as string[];
  }
  return undefined;
}

function fromJson(raw: string): string[] | undefined {
  const head = raw.trimStart()[0];
  if (head !== "[" && head !== "{") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) return parsed.length === 0 ? [] : strings(parsed);
  if (parsed === null || typeof parsed !== "object") return undefined;
  const record = parsed as Record<string, unknown>;
  const keys = ["secret", "secrets", "value"].filter((key) => Object.hasOwn(record, key));
  if (keys.length === 0) return undefined;
  // A structured secret whose fields are empty or of the wrong type holds no usable value.
  return keys.flatMap((key) => strings(record[key]) ?? []);
}

/**
 * The secret values held by one stored secret string:
 * - a plain string: itself;
 * - a JSON array of non-empty strings: each of them (`[]` holds none);
 * - a JSON object with `secret` (string), `secrets` (string[]) and/or `value` (string): those
 *   (empty or mistyped fields hold nothing, so `{"secret": ""}` holds no value);
 * - anything else that is not blank (including text that only looks like JSON): itself;
 * - an empty or blank string: nothing.
 * A plain value with surrounding whitespace (a pasted trailing newline) also yields its trimmed form,
 * after the exact one. Duplicates are dropped; order is kept (current first).
 */
export function parseSecretValues(raw: string): string[] {
  if (typeof raw !== "string" || raw.trim().length === 0) return [];
  const values = fromJson(raw) ?? [raw];
  const out: string[] = [];
  for (const value of values) {
    if (!out.includes(value)) out.push(value);
    const trimmed = value.trim();
    if (trimmed.length > 0 && trimmed !== value && !out.includes(trimmed)) out.push(trimmed);
  }
  return out;
}
