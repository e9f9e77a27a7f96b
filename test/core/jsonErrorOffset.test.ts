import { expect } from "chai";
import fc from "fast-check";
import { jsonErrorOffset } from "../../src/core/jsonErrorOffset";
import { runs } from "../support/propertyRuns";

/**
 * What V8's JSON.parse says of `text` about where it failed: its position, the character it calls unexpected
 * (Node 20 gives no position then), or the end; undefined for valid JSON.
 */
function v8Says(
  text: string,
): { position?: number; token?: string; end?: true; message: string } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    if (position !== undefined) return { position: Number(position), message };
    if (/Unexpected end of JSON input/.test(message)) return { end: true, message };
    const token = /^Unexpected token '(.)'/su.exec(message)?.[1];
    return { ...(token === undefined ? {} : { token }), message };
  }
}

describe("Function: jsonErrorOffset", () => {
  const cases: Array<[string, number | undefined]> = [
    ['{"a": [1, 2.5e-3, "x\\u00e9\\n", true, false, null], "b": {}}', undefined],
    ['{\n  "ref": }\n', 11], // V8: Unexpected token '}', no position
    ['{"after": undefined}', 10],
    ["[1,,2]", 3],
    ["NaN", 0],
    ["{}x", 2],
    ['{"a": tru}', 9],
    ['{"a": 1', 7],
    ["", 0],
    ["   ", 3],
    ['"abc', 4],
    ['"a\nb"', 2],
    ['"\\x"', 2],
    ['"\\u12"', 5],
    ["01", 1],
    ["1.", 2],
    ["-", 1],
    ["1e+", 3],
    ['{"a" 1}', 5],
    ['{"a":1,}', 7],
    ["[1 2]", 3],
  ];
  for (const [text, offset] of cases) {
    it(`puts the fault of ${JSON.stringify(text)} at ${offset}`, () => {
      expect(jsonErrorOffset(text)).to.equal(offset);
    });
  }

  it("reads a deeply nested text without overflowing the stack", () => {
    const depth = 200_000;
    expect(jsonErrorOffset(`${"[".repeat(depth)}${"]".repeat(depth)}`)).to.equal(undefined);
    expect(jsonErrorOffset(`${"[".repeat(depth)}x`)).to.equal(depth);
  });

  // Valid JSON with a character inserted, deleted or replaced, or cut short: the offset is where V8 says.
  const FAULTS = [...'{}[],:"\\ \n-+.eE019tfnrulsx\u0001\u00e9', "\ud83d"];
  const mutated = fc
    .tuple(
      fc.json({ depthSize: "small" }),
      fc.constantFrom("insert", "delete", "replace", "cut"),
      fc.nat(),
      fc.constantFrom(...FAULTS),
    )
    .map(([json, how, at, c]) => {
      const i = at % (json.length + 1);
      if (how === "insert") return json.slice(0, i) + c + json.slice(i);
      if (how === "delete") return json.slice(0, i) + json.slice(i + 1);
      if (how === "replace") return json.slice(0, i) + c + json.slice(i + 1);
      return json.slice(0, i);
    });

  it("agrees with V8's JSON.parse on whether a text is JSON, and on where it is not", () => {
    fc.assert(
      fc.property(mutated, (text) => {
        const said = v8Says(text);
        const offset = jsonErrorOffset(text);
        if (said === undefined) {
          expect(offset).to.equal(undefined);
          return;
        }
        expect(offset, said.message).to.be.a("number");
        if (said.position !== undefined) expect(offset, said.message).to.equal(said.position);
        if (said.end) expect(offset, said.message).to.equal(text.length);
        if (said.token !== undefined) expect(text[offset as number], said.message).to.equal(said.token);
      }),
      { numRuns: runs(2000) },
    );
  });
});
