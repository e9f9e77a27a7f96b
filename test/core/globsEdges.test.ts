// Edges of globProblem, the check notes and the literal leads no other test reached (found by a mutation
// audit): advice texts, globs wrongly refused, notes that must not throw.
import { expect } from "chai";
import {
  bangClassWarning,
  compileGlobList,
  escapedGlobWarning,
  globListLeads,
  globProblem,
} from "../../src/core/globs";

describe("Function: globProblem", () => {
  it('advises [\\\\] for a glob that is a lone "\\"', () => {
    expect(globProblem("\\")).to.include('it ends with a lone "\\": write [\\\\] for a "\\"');
  });

  it("says a glob names a group twice when the name is longer than one letter", () => {
    expect(globProblem("(?<ab>x)(?<ab>y)")).to.include("it names a group twice");
  });

  it('accepts an extglob ?(a) followed by "<" (no named group)', () => {
    expect(globProblem("?(a)<b")).to.equal(undefined);
  });

  it('accepts a class holding "(?<" ([a(?<b]x): in a class it is no group', () => {
    expect(globProblem("[a(?<b]x")).to.equal(undefined);
  });
});

describe("Function: escapedGlobWarning", () => {
  it("gives no note for a glob check refuses (its problem is what check says)", () => {
    expect(escapedGlobWarning("|\\[")).to.equal(undefined);
  });

  it("gives no note, and does not throw, for a glob with an escape and an unclosed bracket", () => {
    expect(escapedGlobWarning("\\c1[^a")).to.equal(undefined);
  });

  it('gives no note for a glob whose only escape is a trailing lone "\\", which escapes nothing', () => {
    expect(escapedGlobWarning("a./\\")).to.equal(undefined);
  });

  it('names only the letter-escape reason for "v\\d" (no anchor reason)', () => {
    expect(escapedGlobWarning("v\\d")).to.equal(
      'glob "v\\\\d" never matches "vd", the text its escapes spell (a "\\" before a letter or digit is a RegExp escape to the matcher, "\\d" any digit and "\\b" a word boundary): write "vd"',
    );
  });

  it('gives no anchor reason for "\\v./$$a", which has a "/" (picomatch does not take its fast path)', () => {
    const note = escapedGlobWarning("\\v./$$a");
    expect(note).to.be.a("string");
    expect(note).not.to.include("anchor");
  });

  it('does not give the run-of-"\\" reason for an escaped "\\" before a letter', () => {
    const note = escapedGlobWarning("\\\\d\\b");
    expect(note).to.be.a("string");
    expect(note).not.to.include("run of");
  });

  it("names the character of \\xab as U+00AB", () => {
    expect(escapedGlobWarning("*\\xab")).to.include("the character U+00AB");
  });

  it("notes \\x41 in a class (the character U+0041) without throwing", () => {
    expect(escapedGlobWarning("[\\x41]*")).to.include('"\\x41" in a class');
  });

  it("advises A-Za-z0-9_ in a class for \\w in a class", () => {
    expect(escapedGlobWarning("[\\w]*")).to.include("write A-Za-z0-9_ in a class");
  });

  it("says what \\B, \\f, \\t, \\r and \\v match", () => {
    const meanings: Array<[string, string]> = [
      ["B", "not a word boundary"],
      ["f", "a form feed"],
      ["t", "a tab"],
      ["r", "a carriage return"],
      ["v", "a vertical tab"],
    ];
    for (const [letter, meaning] of meanings) {
      expect(escapedGlobWarning(`*\\${letter}`)).to.include(`(${meaning}`);
    }
  });
});

describe("Function: bangClassWarning", () => {
  it('gives no note, and does not throw, for "\\[!" (an escaped "[" then "!", no class)', () => {
    expect(bangClassWarning("\\[!")).to.equal(undefined);
  });
});

describe("Function: globListLeads and compileGlobList, literal leads", () => {
  it('gives "a" as the lead of a.b/{1..3}', () => {
    expect(globListLeads(["a.b/{1..3}"])).to.deep.equal(["a"]);
  });

  it('matches c!d+ with the glob c!d++ (picomatch\'s fast path escapes only the first "+")', () => {
    expect(compileGlobList(["c!d++"])("c!d+")).to.equal(true);
  });

  it("gives a$b as the lead of a$b and ac+ as the lead of ac++", () => {
    expect(globListLeads(["a$b"])).to.deep.equal(["a$b"]);
    expect(globListLeads(["ac++"])).to.deep.equal(["ac+"]);
  });
});
