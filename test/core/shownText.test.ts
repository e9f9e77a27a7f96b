import { expect } from "chai";
import fc from "fast-check";
import { parse } from "yaml";
import {
  clippedText,
  invisibleCharacter,
  shownText,
  shownYamlMessage,
  suggestedText,
  withoutInvisible,
} from "../../src/core/shownText";
import { runs } from "../support/propertyRuns";

const RAW_INVISIBLE = /\p{Cc}|\p{Cf}|[\u2028\u2029]|[\ud800-\udfff]/u;

describe("Function: shownText", () => {
  // [value, max, as a message quotes it]
  const cases: Array<[string, number, string]> = [
    ["main", 80, '"main"'],
    ['say "hi"', 80, '"say \\"hi\\""'],
    ["a\\b", 80, '"a\\\\b"'],
    ["\u001b[2J\u001b[31mevents", 80, '"\\u001b[2J\\u001b[31mevents"'],
    ["ev\rents", 80, '"ev\\rents"'],
    ["a\u0000b", 80, '"a\\u0000b"'],
    ["acme/\u007fapi", 80, '"acme/\\u007fapi"'],
    ["ma\u0085in", 80, '"ma\\u0085in"'],
    ["\u202eniam", 80, '"\\u202eniam"'],
    ["a\u2028b\u2029", 80, '"a\\u2028b\\u2029"'],
    ["acme/\u200bapi", 80, '"acme/\\u200bapi"'],
    ["\ufeffx", 80, '"\\ufeffx"'],
    ["x\ud800", 80, '"x\\ud800"'],
    // A format character past U+FFFF (a tag character): its two UTF-16 units, so that the text stays JSON.
    ["x\u{e0020}", 80, '"x\\udb40\\udc20"'],
    ["main\u00a0", 80, '"main\u00a0"'], // a no-break space is seen, and Git allows it in a branch name
    ["grüße/😀", 80, '"grüße/😀"'],
    ["abcdef", 3, '"abc…"'],
    // Never cut inside an escape or a surrogate pair.
    ["ab\u0000cd", 5, '"ab…"'],
    ["a😀b", 2, '"a…"'],
  ];
  for (const [value, max, shown] of cases) {
    it(`shownText(${JSON.stringify(value)}, ${max}) is ${shown}`, () => {
      expect(shownText(value, max)).to.equal(shown);
    });
  }

  it("shownText's text is JSON that reads back as the value, when not clipped", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (value) => {
        expect(JSON.parse(shownText(value, 1000))).to.equal(value);
      }),
      { numRuns: runs(300) },
    );
  });

  it("shownText holds no control, format or separator character and is at most max + 3 characters long", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.integer({ min: 1, max: 100 }),
        (value, max) => {
          const shown = shownText(value, max);
          expect(shown).not.to.match(RAW_INVISIBLE);
          expect(shown.length).to.be.at.most(max + 3);
        },
      ),
      { numRuns: runs(300) },
    );
  });
});

describe("Function: suggestedText", () => {
  // [value, max, as a message suggests it]: YAML, single-quoted, so that a backslash is written once.
  const cases: Array<[string, number, string]> = [
    ["main", 80, "'main'"],
    ["a\\-b", 80, "'a\\-b'"],
    ["dependabot\\[bot\\]", 80, "'dependabot\\[bot\\]'"],
    ["it's", 80, "'it''s'"],
    ['say "hi"', 80, `'say "hi"'`],
    ["!release/*", 80, "'!release/*'"],
    ["{{sha}}", 80, "'{{sha}}'"],
    ["main\u00a0", 80, "'main\u00a0'"],
    ["abcdef", 3, "'abc…'"],
    ["a'b", 2, "'a…'"],
    // Inside single quotes an escape is no escape: a text with a character that cannot be seen is double-quoted.
    ["a\u200bb", 80, '"a\\u200bb"'],
    ["a\nb", 80, '"a\\nb"'],
  ];
  for (const [value, max, suggested] of cases) {
    it(`suggestedText(${JSON.stringify(value)}, ${max}) is ${suggested}`, () => {
      expect(suggestedText(value, max)).to.equal(suggested);
    });
  }

  it("suggestedText's text, written as a value in routes.yaml, is read back as the value, when not clipped", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (value) => {
        expect(parse(`key: ${suggestedText(value, 1000)}`)).to.deep.equal({ key: value });
      }),
      { numRuns: runs(500) },
    );
  });
});

describe("Function: invisibleCharacter", () => {
  const cases: Array<[string, string | undefined]> = [
    ["main", undefined],
    ["main\u00a0", undefined],
    ["feature/ü", undefined],
    ["main\u200b", "U+200B (zero-width space) at character 5"],
    ["ma\u0085in", "U+0085 (next line, NEL) at character 3"],
    ["\u202eniam", "U+202E (right-to-left override) at character 1"],
    ["acme/\u007fapi", "U+007F (delete, DEL) at character 6"],
    ["a\u0001b", "U+0001 (a control character) at character 2"],
    ["😀\u2028", "U+2028 (line separator) at character 2"], // characters, not UTF-16 units
    ["x\u{e0001}", "U+E0001 (a format character) at character 2"],
  ];
  for (const [value, said] of cases) {
    it(`invisibleCharacter(${JSON.stringify(value)}) is ${said === undefined ? "undefined" : `"${said}"`}`, () => {
      expect(invisibleCharacter(value)).to.equal(said);
    });
  }

  it("invisibleCharacter(value, which) looks only for the characters of which, counting every character", () => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters looked for
    const control = /[\u0000-\u001f\u007f]/;
    expect(invisibleCharacter("a\u200bb\u0085c\td", control)).to.equal("U+0009 (tab) at character 6");
    expect(invisibleCharacter("a\u200bb", control)).to.equal(undefined);
  });
});

describe("Function: clippedText, withoutInvisible and shownYamlMessage", () => {
  it("clippedText writes invisible characters as \\uXXXX and clips with …, never inside an escape", () => {
    expect(clippedText("a\u001bb", 80)).to.equal("a\\u001bb");
    expect(clippedText("abcd\u001b", 6)).to.equal("abcd…");
    expect(clippedText("x".repeat(100), 80)).to.equal(`${"x".repeat(80)}…`);
  });

  it("clippedText keeps 80 characters whole by default and cuts 81 at 80 with an ellipsis", () => {
    expect(clippedText("a".repeat(80))).to.equal("a".repeat(80));
    expect(clippedText("a".repeat(81))).to.equal(`${"a".repeat(80)}…`);
  });

  it("withoutInvisible leaves a message's seen text alone and escapes ESC, CR, NEL and U+202E", () => {
    expect(withoutInvisible('unknown key "ü\u00a0"')).to.equal('unknown key "ü\u00a0"');
    expect(withoutInvisible("a\u001b[2J\r\u0085\u202e")).to.equal("a\\u001b[2J\\u000d\\u0085\\u202e");
  });

  it("withoutInvisible escapes the characters at the edges of printable ASCII (DEL, US, a tab) and keeps all of printable ASCII as it is", () => {
    const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join("");
    expect(withoutInvisible(printable)).to.equal(printable);
    // Each alone: the quick test for printable ASCII must let none of them through.
    expect(withoutInvisible("a\u007fb")).to.equal("a\\u007fb");
    expect(withoutInvisible("a\u001fb")).to.equal("a\\u001fb");
    expect(withoutInvisible("a\tb")).to.equal("a\\u0009b");
  });

  it("shownYamlMessage shows the token yaml quotes as JSON again with shownText, clipped to 60 characters", () => {
    const token = JSON.stringify(`"${"0".repeat(1_000_000)}`);
    expect(shownYamlMessage(`Unexpected double-quoted-scalar token in YAML stream: ${token}`)).to.equal(
      `Unexpected double-quoted-scalar token in YAML stream: "\\"${"0".repeat(58)}…"`,
    );
  });

  it("shownYamlMessage clips another long message to 200 characters and escapes what it holds", () => {
    const message = shownYamlMessage(`Unresolved tag: !\u001b${"t".repeat(5000)}`);
    expect(message).to.equal(`Unresolved tag: !\\u001b${"t".repeat(177)}…`);
  });
});
