import { expect } from "chai";
import { Alias, parseDocument } from "yaml";
import { aliasResolver } from "../../../src/core/routes/anchors";
import { parseRoutes } from "../../../src/core/routes/parse";

/** n routes whose parameters (and whose whole action) share anchors, with a number kept as written. */
function routes(n: number): string {
  let text = [
    "version: 1",
    'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
    "x-p: &p { VERSION: 1.10 }",
    "x-act: &act { type: jenkins, job: build, parameters: { <<: *p, D: d } }",
    "routes:",
    "",
  ].join("\n");
  for (let i = 0; i < n; i++) {
    text += `  - { name: r${i}, match: { events: [push] }, action: { type: jenkins, job: b, parameters: { <<: *p, D: d } } }\n`;
    text += `  - { name: s${i}, match: { events: [push] }, action: *act }\n`;
  }
  return text;
}

/** How often yaml's Alias.resolve walks the whole document (a call without a conversion's context). */
function countWalks(run: () => void): number {
  const original = Alias.prototype.resolve;
  let walks = 0;
  Alias.prototype.resolve = function (this: Alias, ...args: Parameters<Alias["resolve"]>) {
    if (args[1] === undefined) walks++;
    return original.apply(this, args);
  };
  try {
    run();
  } finally {
    Alias.prototype.resolve = original;
  }
  return walks;
}

describe("Function: parseRoutes (aliases shared by many routes)", () => {
  it("walks the document for alias look-ups no more often for 200 routes than for 2", () => {
    // yaml's Alias.resolve(doc) walks the whole document per call: once per route made reading quadratic.
    const few = countWalks(() => expect(parseRoutes(routes(1), "routes.yaml").problems).to.deep.equal([]));
    let config: ReturnType<typeof parseRoutes>["config"];
    const many = countWalks(() => {
      config = parseRoutes(routes(100), "routes.yaml").config;
    });
    expect(many).to.equal(few);
    // The look-ups still find what yaml finds: the merged, written number of every route.
    expect(config?.routes.map((r) => (r.action as { parameters: Record<string, string> }).parameters.VERSION))
      .to.have.length(200)
      .and.satisfy((versions: string[]) => versions.every((v) => v === "1.10"));
  });
});

describe("Function: aliasResolver", () => {
  it("resolves an alias to the last node anchored by its name before it, as yaml does", () => {
    const doc = parseDocument("a: &x 1\nb: *x\nc: &x 2\nd: *x\ne: *y\nf: &s [1, *s]\n");
    const resolve = aliasResolver(doc);
    for (const key of ["b", "d", "e"]) {
      const alias = doc.get(key, true);
      expect(resolve(alias), key).to.equal((alias as Alias).resolve(doc));
    }
    expect(resolve(doc.get("d", true))).to.equal(doc.get("c", true));
    const f = doc.get("f", true) as { items: unknown[] };
    expect(resolve(f.items[1])).to.equal(f);
    expect(resolve(doc.get("e", true))).to.equal(undefined);
  });
});
