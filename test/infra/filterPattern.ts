// A reader of the CloudWatch Logs JSON filter patterns the stack writes, to check them against the lines the
// functions write.
import { expect } from "chai";

/**
 * A CloudWatch Logs JSON filter pattern of `($.field = "text")`, `($.field = number)` and `($.field IS TRUE)`
 * terms joined by && and ||, as a predicate: a quoted value matches that string, a number a JSON number only,
 * IS TRUE the JSON boolean true only.
 */
export function jsonPattern(pattern: string): (line: Record<string, unknown>) => boolean {
  const body = pattern
    .trim()
    .replace(/^\{/, "")
    .replace(/\}$/, "")
    .replace(/\$\.([A-Za-z0-9_]+)\s+IS\s+TRUE\b/g, (_m, field) => `l[${JSON.stringify(field)}] === true`)
    .replace(/\$\.([A-Za-z0-9_]+)\s*=\s*("(?:[^"\\]|\\.)*"|-?\d+)/g, (_m, field, value) =>
      value.startsWith('"')
        ? `l[${JSON.stringify(field)}] === ${value}`
        : `l[${JSON.stringify(field)}] === ${Number(value)}`,
    );
  expect(body, "the pattern is made of the terms this reads").to.not.match(/\$\./);
  return new Function("l", `return ${body};`) as (line: Record<string, unknown>) => boolean;
}
