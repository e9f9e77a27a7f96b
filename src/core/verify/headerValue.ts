// Signature headers are read strictly: a header sent twice is ambiguous, even with equal values.
import type { HeaderBag } from "../types";

/** The single value of `name` (lower-case), undefined when absent, null when it appears more than once. */
export function headerValue(headers: HeaderBag, name: string): string | undefined | null {
  const values = headers.get(name);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) return null;
  const value = values[0];
  return typeof value === "string" ? value : null;
}
