import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { RoutesFileError } from "../../../src/core/errors";
import { decodeRoutesBytes } from "../../../src/core/routes/encoding";
import { loadRoutesFile } from "../../../src/core/routes/load";
import { runs } from "../../support/propertyRuns";

const VALID = `version: 1
defaults: { secret: hookgate/s, jenkins: { url: "https://j.example.com", credentials: hookgate/j } }
routes:
  - name: a
    match: { repos: [acme/api], branches: ["café/*"] }
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`;

function problemsOf(file: string): unknown {
  try {
    loadRoutesFile(file);
  } catch (error) {
    if (error instanceof RoutesFileError) return error.problems;
    throw error;
  }
  return expect.fail("loadRoutesFile should have thrown");
}

describe("Function: loadRoutesFile", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-routes-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("loadRoutesFile returns the compiled routes of a valid file", () => {
    const file = join(dir, "ok.yaml");
    writeFileSync(
      file,
      "version: 1\njenkins: { url: 'https://ci.example.com', credentials: ci/c }\nroutes:\n  - name: a\n    secret: s\n    match: {}\n    action: { type: jenkins, job: a }\n",
    );
    expect(loadRoutesFile(file).routes.map((r) => r.name)).to.deep.equal(["a"]);
  });

  it("loadRoutesFile throws RoutesFileError with one problem at 1:1 for a missing file", () => {
    const file = join(dir, "missing.yaml");
    expect(() => loadRoutesFile(file))
      .to.throw(RoutesFileError)
      .with.property("problems")
      .that.deep.equals([{ file, line: 1, col: 1, message: "routes file not found" }]);
  });

  it("loadRoutesFile says a directory given as the routes file is a directory, at 1:1", () => {
    expect(problemsOf(dir)).to.deep.equal([
      { file: dir, line: 1, col: 1, message: "this is a directory, not a routes file" },
    ]);
  });

  it("loadRoutesFile names the system's error code when the file cannot be read for another reason", () => {
    const parent = join(dir, "plain.txt");
    writeFileSync(parent, "not a directory");
    const file = join(parent, "routes.yaml");
    expect(problemsOf(file)).to.deep.equal([
      { file, line: 1, col: 1, message: "routes file cannot be read (ENOTDIR)" },
    ]);
  });

  it("loadRoutesFile throws RoutesFileError carrying every problem of an invalid file", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "version: 2\nroutes: []\n");
    try {
      loadRoutesFile(file);
      expect.fail("loadRoutesFile should have thrown");
    } catch (error) {
      expect(error).to.be.instanceOf(RoutesFileError);
      const problems = (error as RoutesFileError).problems;
      expect(problems.map((p) => `${p.line}:${p.col}`)).to.deep.equal(["1:10", "2:9"]);
      expect((error as Error).message).to.include(`${file}:1:10: version must be 1`);
    }
  });

  it("loadRoutesFile refuses a Latin-1 file, at the line and column of its first byte that is not UTF-8", () => {
    const file = join(dir, "latin1.yaml");
    writeFileSync(file, Buffer.from(VALID, "latin1"));
    expect(problemsOf(file)).to.deep.equal([
      {
        file,
        line: 5,
        col: 48,
        message:
          "the file is not valid UTF-8 (byte 0xE9; saved as Latin-1 or Windows-1252?): save it as UTF-8",
      },
    ]);
  });

  const utf16: Array<[string, Buffer]> = [
    ["UTF-16 LE with a byte-order mark (PowerShell 5)", Buffer.from(`\uFEFF${VALID}`, "utf16le")],
    ["UTF-16 BE with a byte-order mark", Buffer.from(`\uFEFF${VALID}`, "utf16le").swap16()],
    ["UTF-16 LE without a byte-order mark", Buffer.from(VALID, "utf16le")],
  ];
  for (const [label, bytes] of utf16) {
    it(`loadRoutesFile says a file saved as ${label} must be saved as UTF-8`, () => {
      const file = join(dir, "utf16.yaml");
      writeFileSync(file, bytes);
      expect(problemsOf(file)).to.deep.equal([
        { file, line: 1, col: 1, message: "the file is saved as UTF-16: save it as UTF-8" },
      ]);
    });
  }

  it("loadRoutesFile reads a UTF-8 file, with or without a byte-order mark, keeping its non-ASCII text", () => {
    for (const text of [VALID, `\uFEFF${VALID}`]) {
      const file = join(dir, "utf8.yaml");
      writeFileSync(file, text, "utf8");
      expect(loadRoutesFile(file).routes[0]?.match.branches).to.deep.equal(["café/*"]);
    }
  });
});

describe("Property: decodeRoutesBytes", () => {
  /** Text as a routes file can hold it: no NUL, which YAML forbids, and no byte-order mark inside. */
  const text = fc.string({ unit: "grapheme", maxLength: 60 }).map((s) => s.replace(/[\0\uFEFF]/g, ""));

  it("decodeRoutesBytes gives back any UTF-8 text exactly", () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(decodeRoutesBytes(Buffer.from(s, "utf8"))).to.deep.equal({ text: s });
      }),
      { numRuns: runs(300) },
    );
  });

  it("decodeRoutesBytes puts a byte that is not UTF-8 at the line and column where it sits in the text", () => {
    const bad = fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xe9, 0xf5, 0xff);
    fc.assert(
      fc.property(text, bad, text, (before, byte, after) => {
        const bytes = Buffer.concat([
          Buffer.from(before, "utf8"),
          Buffer.from([byte]),
          Buffer.from(after, "utf8"),
        ]);
        const lines = before.split("\n");
        const decoded = decodeRoutesBytes(bytes);
        expect(decoded).to.have.property("problem");
        const problem = (decoded as { problem: { line: number; col: number } }).problem;
        expect([problem.line, problem.col]).to.deep.equal([lines.length, (lines.at(-1) ?? "").length + 1]);
      }),
      { numRuns: runs(300) },
    );
  });
});

describe("Function: decodeRoutesBytes", () => {
  const notUtf8 = (line: number, col: number, byte: string) => ({
    problem: {
      line,
      col,
      message: `the file is not valid UTF-8 (byte 0x${byte}; saved as Latin-1 or Windows-1252?): save it as UTF-8`,
    },
  });
  const savedAs = (kind: string) => ({
    problem: { line: 1, col: 1, message: `the file is saved as ${kind}: save it as UTF-8` },
  });
  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(
      parts.map((part) => (typeof part === "string" ? Buffer.from(part, "utf8") : Buffer.from(part))),
    );

  // [what, the bytes, what decodeRoutesBytes answers]
  const cases: Array<[string, Buffer, unknown]> = [
    ["a UTF-32 LE byte-order mark", bytes([0xff, 0xfe, 0, 0], "v\0\0\0"), savedAs("UTF-32")],
    ["a UTF-32 BE byte-order mark", bytes([0, 0, 0xfe, 0xff], "\0\0\0v"), savedAs("UTF-32")],
    ["UTF-16 BE without a byte-order mark", bytes("\0v\0e"), savedAs("UTF-16")],
    ["a Latin-1 ÿ first, then text", bytes([0xff], "es: 1\n"), notUtf8(1, 1, "FF")],
    ["a Latin-1 þ after one letter", bytes("a", [0xfe], "\n"), notUtf8(1, 2, "FE")],
    ["a Latin-1 ÿ after one letter", bytes("a", [0xff], "\n"), notUtf8(1, 2, "FF")],
    ["a Latin-1 þ first, then text", bytes([0xfe], "a\n"), notUtf8(1, 1, "FE")],
    ["a Latin-1 ÿ as the fourth byte", bytes("x: ", [0xff], "\n"), notUtf8(1, 4, "FF")],
    ["a bad first byte in a file of several lines", bytes([0xe9], "t\nx: 1\ny: 2\n"), notUtf8(1, 1, "E9")],
    ["a bad byte right before a line end", bytes("x: caf", [0xe9], "\ny: 2\n"), notUtf8(1, 7, "E9")],
    ["a bad byte after a byte-order mark", bytes("\uFEFFx: caf", [0xe9]), notUtf8(1, 7, "E9")],
    ["an overlong two-byte NUL (C0 80)", bytes("x: ", [0xc0, 0x80]), notUtf8(1, 4, "C0")],
    ["an overlong three-byte sequence (E0 80 80)", bytes("x: ", [0xe0, 0x80, 0x80]), notUtf8(1, 4, "E0")],
    ["an encoded surrogate (ED A0 80)", bytes("x: ", [0xed, 0xa0, 0x80], "y"), notUtf8(1, 4, "ED")],
    ["a code point past U+10FFFF (F4 90 80 80)", bytes("x: ", [0xf4, 0x90, 0x80, 0x80]), notUtf8(1, 4, "F4")],
    ["four Windows-1252 ellipses (85 85 85 85)", bytes("x: ", [0x85, 0x85, 0x85, 0x85]), notUtf8(1, 4, "85")],
    ["a three-byte character cut at its end", bytes("x: ", [0xe2, 0x82]), notUtf8(1, 4, "E2")],
    ["a three-byte character cut before a letter", bytes("x: ", [0xe2, 0x82], "y"), notUtf8(1, 4, "E2")],
    [
      "a three-byte character whose last byte is no continuation",
      bytes("x: ", [0xe2, 0x82, 0xc0]),
      notUtf8(1, 4, "E2"),
    ],
    ["a two-byte lead at the end of the file", bytes("x: ", [0xc3]), notUtf8(1, 4, "C3")],
    [
      "a bad byte after two-byte characters (C2 A0, DF 9F)",
      bytes("x: ", [0xc2, 0xa0, 0xdf, 0x9f, 0xe9]),
      notUtf8(1, 6, "E9"),
    ],
    [
      "a lead byte no character has (F5 80 80 80)",
      bytes("x: ", [0xf5, 0x80, 0x80, 0x80]),
      notUtf8(1, 4, "F5"),
    ],
    // Characters of four bytes (U+40000, U+C0000, U+100000) before the bad byte count two columns each,
    // as in the positions of yaml's own problems (JavaScript string offsets).
    [
      "a bad byte after four-byte characters",
      bytes("x: ", [0xf1, 0x80, 0x80, 0x80, 0xf3, 0x80, 0x80, 0x80, 0xf4, 0x80, 0x80, 0x80, 0xe9]),
      notUtf8(1, 10, "E9"),
    ],
  ];
  for (const [what, input, expected] of cases) {
    const { line, col, message } = (expected as { problem: { line: number; col: number; message: string } })
      .problem;
    const answer = message.startsWith("the file is saved as")
      ? message.slice(0, message.indexOf(":"))
      : `the first bad byte at ${line}:${col}`;
    it(`decodeRoutesBytes answers ${answer} for ${what}`, () => {
      expect(decodeRoutesBytes(input)).to.deep.equal(expected);
    });
  }
});
