import { expect } from "chai";
import fc from "fast-check";
import { withoutCredentials } from "../../src/actions/http";
import { runs } from "../support/propertyRuns";

/**
 * The plain definition of what withoutCredentials' redacted does, against which its one-pass "filled" loop is
 * checked: every place a secret starts (A-Z folded to a-z, in the text and in the secret), and every place a
 * host form (a secret's IPv4 address) stands as a URL's whole host, each of its characters hidden, and each run
 * of hidden characters written as one [redacted].
 */
function naiveRedacted(text: string, secrets: readonly string[], hosts: readonly string[] = []): string {
  const fold = (value: string) => value.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  const folded = fold(text);
  const hidden = new Array<boolean>(text.length).fill(false);
  const hide = (secret: string, at: number) => {
    for (let each = at; each < at + secret.length; each++) hidden[each] = true;
  };
  for (const secret of secrets.map(fold)) {
    if (secret === "") continue;
    for (let at = 0; at + secret.length <= folded.length; at++)
      if (folded.startsWith(secret, at)) hide(secret, at);
  }
  // A host form only as a URL's whole host: after // or @ (JSON's \/\/; %2F%2F, %40 and those encoded once
  // more), with neither a digit nor a dot and a letter or digit after it.
  const leads = ["//", "\\/\\/", "@", "%2f%2f", "%40", "%252f%252f", "%2540"];
  for (const host of hosts) {
    for (let at = 0; at + host.length <= folded.length; at++) {
      const after = folded.slice(at + host.length, at + host.length + 2);
      const before = leads.some((mark) => folded.slice(0, at).endsWith(mark));
      const longer = /^\d/.test(after) || /^\.[a-z\d]/.test(after);
      if (folded.startsWith(host, at) && before && !longer) hide(host, at);
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

  it("withoutCredentials hides a numeric secret anywhere and the IPv4 address a URL parser writes for it (from 8 characters on) only where a naive scan finds it as a URL's whole host", () => {
    // Decimal, octal (a leading 0) or hexadecimal, 5 to 10 characters: most have an IPv4 host form (2130706433
    // is 127.0.0.1, 00000001 is 0.0.0.1), some are too large for one. Texts are made of the secret, its host
    // form, that form's neighbours in an address and the marks a URL puts before a host.
    const numeric = fc
      .tuple(
        fc.constantFrom("", "0x"),
        fc.string({ unit: fc.constantFrom("0", "1", "2", "7"), minLength: 5, maxLength: 10 }),
      )
      .map(([prefix, digits]) => prefix + digits);
    const pieces = fc.array(
      fc.constantFrom(
        "HOST",
        "SECRET",
        "/",
        "//",
        "@",
        "%2F",
        "%40",
        "%252F",
        "%2540",
        ".",
        "1",
        "0",
        ":",
        " ",
        "x",
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(numeric, pieces, (secret, parts) => {
        let host: string | undefined;
        try {
          host = new URL(`http://${secret}/`).hostname;
        } catch {
          host = undefined;
        }
        const address = host !== undefined && host !== secret && secret.length >= 8 ? host : undefined;
        const text = parts
          .map((part) => (part === "HOST" ? (host ?? "127.0.0.1") : part === "SECRET" ? secret : part))
          .join("");
        expect(withoutCredentials(text, {}, { anyLength: [secret] })).to.equal(
          naiveRedacted(text, [secret], address === undefined ? [] : [address]),
        );
      }),
      { numRuns: runs(2000) },
    );
  });

  it("withoutCredentials' naive reference itself hides overlapping, adjacent and nested matches as one stretch", () => {
    expect(naiveRedacted("xababax", ["aba"])).to.equal("x[redacted]x");
    expect(naiveRedacted("xabbax", ["ab", "ba"])).to.equal("x[redacted]x");
    expect(naiveRedacted("xAbx ab", ["b", "ab"])).to.equal("x[redacted]x [redacted]");
    expect(naiveRedacted("10.0.0.1 //0.0.0.1: //0.0.0.12 /0.0.0.1/ //0.0.0.1.", [], ["0.0.0.1"])).to.equal(
      "10.0.0.1 //[redacted]: //0.0.0.12 /0.0.0.1/ //[redacted].",
    );
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
