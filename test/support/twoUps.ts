// Two `pulumi up`s of one stack under the mocks: evaluate the program twice and compare URNs and inputs, as
// the engine would see the second run against the first one's state (the mocks have no engine of their own).
import type { Route } from "../../src/core/types";
import type { StackConfig } from "../../src/infra/config";
import { type Evaluated, evaluate } from "../infra/evaluate";
import { stubCode } from "../infra/fixtures";
import type { Recorded } from "../infra/mocks";

export interface Change {
  urn: string;
  type: string;
  name: string;
  keys: string[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}
export interface Diff {
  added: Recorded[];
  removed: Recorded[];
  changed: Change[];
}

function norm(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && x.constructor && x.constructor.name !== "Object" && !Array.isArray(x)
      ? `<${x.constructor.name}>`
      : x,
  );
}

/**
 * The second run against the first: a resource of the second is the first's of the same URN, else of a URN
 * it names in its aliases (as the engine matches them); an input it ignores (ignoreChanges) is no change.
 */
export function diff(a: Evaluated, b: Evaluated): Diff {
  const A = new Map(a.cloud.resources.map((r) => [r.urn, r]));
  const previous = (r: Recorded): Recorded | undefined =>
    A.get(r.urn) ?? r.aliases.map((urn) => A.get(urn)).find((x) => x !== undefined);
  const matched = new Set<string>();
  const added: Recorded[] = [];
  const changed: Change[] = [];
  for (const rb of b.cloud.resources) {
    const ra = previous(rb);
    if (!ra) {
      added.push(rb);
      continue;
    }
    matched.add(ra.urn);
    const keys = [...new Set([...Object.keys(ra.inputs), ...Object.keys(rb.inputs)])].filter(
      (k) => !rb.ignoreChanges.includes(k) && norm(ra.inputs[k]) !== norm(rb.inputs[k]),
    );
    if (keys.length > 0)
      changed.push({ urn: rb.urn, type: rb.type, name: rb.name, keys, before: ra.inputs, after: rb.inputs });
  }
  const removed = a.cloud.resources.filter((r) => !matched.has(r.urn));
  return { added, removed, changed };
}

export async function twoUps(
  first: { config: StackConfig; routes: Route[]; stack?: string; githubToken?: string },
  second: { config: StackConfig; routes: Route[]; stack?: string; githubToken?: string },
): Promise<{ a: Evaluated; b: Evaluated; d: Diff }> {
  const a = await evaluate({ code: stubCode, stack: "dev", ...first });
  const b = await evaluate({ code: stubCode, stack: "dev", ...second });
  return { a, b, d: diff(a, b) };
}

export function describeDiff(d: Diff): string {
  const lines: string[] = [];
  for (const r of d.removed) lines.push(`- ${r.type} ${r.name}`);
  for (const r of d.added) lines.push(`+ ${r.type} ${r.name}`);
  for (const c of d.changed) {
    for (const k of c.keys)
      lines.push(
        `~ ${c.type} ${c.name} .${k}: ${norm(c.before[k])?.slice(0, 160)} -> ${norm(c.after[k])?.slice(0, 160)}`,
      );
  }
  return lines.join("\n");
}
