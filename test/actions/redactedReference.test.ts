import { expect } from "chai";
import fc from "fast-check";
import { withoutCredentials } from "../../src/actions/http";
import { runs } from "../support/propertyRuns";

/**
 * The plain definition of what withoutCredentials' redacted does, against which its one-pass "filled" loop is
 * checked: every place a secret starts (A-Z folded to a-z, in the text and in the secret), each of its
 * characters hidden, and each run of hidden characters written as one [redacted].
 */
function naiveRedacted(text: string, secrets: readonly string[]): string {
  const fold = (value: string) => value.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  const folded = fold(text);
  const hidden = new Array<boolean>(text.length).fill(false);
  for (const secret of secrets.map(fold)) {
    if (secret === "") continue;
    for (let at = 0; at + secret.length <= folded.length; at++) {
      if (!folded.startsWith(secret, at)) continue;
      for (let each = at; each < at + secret.length; each++) hidden[each] = true;
    }
  }
  let out = "";
  for (let at = 0; at < text.length; at++) {
    if (!hidden[at]) out += text[at];
    else if (at === 0 || !hidden[at - 1]) out += "[redacted]";
  }
  return out;
}

describe("Function: withoutCredentials' redacted against a naive reference", () => {
  // Secrets of letters, '-' and spaces: each of their URL forms is either the secret itself (in another case)
  // or holds a '%' or a '+', which the texts never do, so the secrets alone can match. No digits: a secret of
  // digits and dots has an IPv4 host form ("1" is 0.0.0.1). Short secrets of few letters make overlapping,
  // adjacent and nested matches common; anyLength takes them at any length.
  const secret = fc.string({
    unit: fc.constantFrom("a", "b", "A", "B", "-", " "),
    minLength: 1,
    maxLength: 4,
  });
  const text = fc.string({
    unit: fc.constantFrom("a", "b", "A", "B", "-", " ", "x", "İ", "ß"),
    maxLength: 40,
  });

  it("withoutCredentials hides exactly what a naive scan of every secret finds, in either ASCII case: overlapping and adjacent matches of one secret or of several make one [redacted]", () => {
    fc.assert(
      fc.property(text, fc.array(secret, { minLength: 1, maxLength: 4 }), (written, secrets) => {
        expect(withoutCredentials(written, {}, { anyLength: secrets })).to.equal(
          naiveRedacted(written, secrets),
        );
      }),
      { numRuns: runs(2000) },
    );
  });

  it("withoutCredentials' naive reference itself hides overlapping, adjacent and nested matches as one stretch", () => {
    expect(naiveRedacted("xababax", ["aba"])).to.equal("x[redacted]x");
    expect(naiveRedacted("xabbax", ["ab", "ba"])).to.equal("x[redacted]x");
    expect(naiveRedacted("xAbx ab", ["b", "ab"])).to.equal("x[redacted]x [redacted]");
  });

  it("withoutCredentials keeps the [redacted] it writes: a later secret that is part of the marker does not match it", () => {
    const shown = withoutCredentials(
      "saw ghp_abcdefgh12345678 then redacted",
      {},
      {
        anyLength: ["ghp_abcdefgh12345678", "red"],
      },
    );
    expect(shown).to.equal("saw [redacted] then [redacted]acted");
  });
});
