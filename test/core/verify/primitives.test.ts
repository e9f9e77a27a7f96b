import { expect } from "chai";
import { headerValue } from "../../../src/core/verify/headerValue";
import { decodeHex } from "../../../src/core/verify/hex";
import { hmacKey, signingKey } from "../../../src/core/verify/keys";

describe("Function: decodeHex", () => {
  it("decodeHex accepts exactly 0-9 and a-f: every other ASCII character is not a hex digit", () => {
    for (let code = 0; code < 128; code++) {
      const c = String.fromCharCode(code);
      const digit = /^[0-9a-f]$/.test(c);
      expect(decodeHex(`${c}0`, 1) !== undefined, `high nibble ${JSON.stringify(c)}`).to.equal(digit);
      expect(decodeHex(`0${c}`, 1) !== undefined, `low nibble ${JSON.stringify(c)}`).to.equal(digit);
    }
  });

  it("decodeHex reads every nibble: 0123456789abcdef decodes to its bytes", () => {
    expect(decodeHex("0123456789abcdef", 8)?.toString("hex")).to.equal("0123456789abcdef");
    expect(decodeHex("xx0a", 1, 2)?.[0]).to.equal(10);
  });

  it("decodeHex refuses text that is not exactly bytes * 2 digits from the offset", () => {
    expect(decodeHex("abc", 1)).to.equal(undefined);
    expect(decodeHex("abcd", 1)).to.equal(undefined);
    expect(decodeHex("a", 1)).to.equal(undefined);
    expect(decodeHex("sha256=ab00", 1, 7)).to.equal(undefined);
    expect(decodeHex("sha256=ab", 1, 7)?.[0]).to.equal(0xab);
  });
});

describe("Function: signingKey and hmacKey", () => {
  const b64 = Buffer.alloc(32, 5).toString("base64");
  const cases: Array<[string, unknown, boolean]> = [
    ["whsec_ and canonical base64", `whsec_${b64}`, true],
    ["whsec_ and base64 without padding, a multiple of 4", "whsec_AAAA", true],
    ["junk before the base64", `whsec_****${b64}`, false],
    ["junk after the base64", `whsec_${b64}****`, false],
    ["base64 whose length is not a multiple of 4", "whsec_AAAAA", false],
    ["nothing after whsec_", "whsec_", false],
    ["a plain token whose tail is base64", "plain-AAAA", false],
    ["a plain token", "gl-webhook-token", false],
    ["a number (a bad secrets file)", 42, false],
    ["null", null, false],
  ];
  for (const [name, secret, isKey] of cases) {
    it(`signingKey(${name}) is ${isKey ? "a key" : "undefined"}`, () => {
      expect(signingKey(secret as string) !== undefined).to.equal(isKey);
    });
  }

  it("hmacKey is undefined for an empty secret and for values that are not strings, never a throw", () => {
    for (const secret of ["", 42, null, undefined, {}]) {
      expect(hmacKey(secret as string), JSON.stringify(secret)).to.equal(undefined);
    }
    expect(hmacKey("s")?.export().toString("utf8")).to.equal("s");
  });
});

describe("Function: headerValue", () => {
  const cases: Array<[string, string[] | undefined, string | undefined | null]> = [
    ["absent", undefined, undefined],
    ["an empty list (a hand-made bag)", [], undefined],
    ["one value", ["v"], "v"],
    ["one empty value", [""], ""],
    ["two equal values", ["v", "v"], null],
    ["a value that is not a string", [42 as unknown as string], null],
  ];
  for (const [name, values, expected] of cases) {
    it(`headerValue of ${name} is ${JSON.stringify(expected) ?? "undefined"}`, () => {
      const bag = new Map<string, string[]>(values === undefined ? [] : [["x-h", values]]);
      expect(headerValue(bag, "x-h")).to.equal(expected);
    });
  }
});
