import { expect } from "chai";
import fc from "fast-check";
import { parseSecretShape } from "../../src/core/secretValues";
import { verifyDelivery } from "../../src/core/verify";
import { signatureHeaders } from "../../src/core/verify/sign";
import { runs } from "../support/propertyRuns";

describe("Function: parseSecretShape", () => {
  const cases: Array<[string, string, string[]]> = [
    ["a plain string", "s3cret", ["s3cret"]],
    ["a JSON array of strings", '["new","old"]', ["new", "old"]],
    ["a JSON object with secret", '{"secret":"new"}', ["new"]],
    ["a JSON object with secrets", '{"secrets":["new","old"]}', ["new", "old"]],
    ["a JSON object with value", '{"value":"v"}', ["v"]],
    [
      "secret, secrets and value together, deduplicated",
      '{"secret":"a","secrets":["b","a"],"value":"c"}',
      ["a", "b", "c"],
    ],
    ["an empty string", "", []],
    ["a blank string", " \n", []],
    ["an empty JSON array", "[]", []],
    ["an object whose secret is empty", '{"secret":""}', []],
    ["an object whose secrets are not strings", '{"secrets":[1,2]}', []],
    ["an object whose secret is a number", '{"secret":5}', []],
    ["an object whose secrets is an array-like object", '{"secrets":{"0":"a","length":1}}', []],
    ["a JSON array after a pasted newline", '\n["new","old"]', ["new", "old"]],
    ["a JSON array holding a blank value, which holds nothing", '["a"," "]', ["a"]],
    ["a JSON array of blank values", '["  "]', []],
    ["an object whose secret is blank", '{"secret":"   "}', []],
    ["an object whose secrets are blank, beside one that is not", '{"secrets":[" ","b"]}', ["b"]],
    ["a one-pair object whose value is blank", '{"webhook_secret":" "}', []],
    ["text that looks like JSON but is not", "{not json", ["{not json"]],
    ["an array holding a non-string", '["a",1]', ['["a",1]']],
    ["an array holding an empty string", '["a",""]', ["a"]],
    ["a JSON object without known keys", '{"user":"u","token":"t"}', ['{"user":"u","token":"t"}']],
    [
      "a console key/value secret of one pair: its value, then the whole text",
      '{"webhook_secret":"s3cret"}',
      ["s3cret", '{"webhook_secret":"s3cret"}'],
    ],
    ["a one-pair object whose value is a number", '{"webhook_secret":5}', ['{"webhook_secret":5}']],
    ["a one-pair object whose value is empty", '{"webhook_secret":""}', []],
    ["a JSON number", "12345", ["12345"]],
    ["a JSON string literal", '"quoted"', ['"quoted"']],
    ["a value with a pasted trailing newline", "s3cret\n", ["s3cret\n", "s3cret"]],
    [
      "a whsec_ signing token",
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    ],
  ];
  for (const [name, raw, expected] of cases) {
    it(`parseSecretShape gives the values ${JSON.stringify(expected)} for ${name}`, () => {
      expect(parseSecretShape(raw).values).to.deep.equal(expected);
    });
  }

  it("parseSecretShape counts the keys of a JSON object it reads none of, and gives neither their text nor its values", () => {
    expect(parseSecretShape('{"user":"u","token":"t0ken"}')).to.deep.equal({
      values: ['{"user":"u","token":"t0ken"}'],
      unreadKeyCount: 2,
    });
    expect(parseSecretShape('{"webhook_secret":5}').unreadKeyCount).to.equal(1);
    // The console's key/value editor, the secret pasted into a Key box.
    const shape = parseSecretShape('{"pasted-into-the-key-box":"","note":"x"}');
    expect(shape.unreadKeyCount).to.equal(2);
    expect(Object.keys(shape).sort()).to.deep.equal(["unreadKeyCount", "values"]);
  });

  it("parseSecretShape counts no keys for the shapes it reads: a one-pair key/value secret, secret, an array, a plain string", () => {
    for (const raw of [
      '{"webhook_secret":"s3cret"}',
      '{"secret":"a","note":"b"}',
      '["a"]',
      "s3cret",
      "{not json",
    ]) {
      expect(parseSecretShape(raw), raw).to.not.have.property("unreadKeyCount");
    }
  });

  it("verifyDelivery accepts a delivery signed with the only value of a one-pair key/value secret", () => {
    const body = Buffer.from('{"zen":"x"}');
    const headers = new Map(
      Object.entries(signatureHeaders("github", "s3cret", body)).map(([k, v]) => [k, [v]]),
    );
    const result = verifyDelivery({
      provider: "github",
      headers,
      body,
      secrets: parseSecretShape(JSON.stringify({ webhook_secret: "s3cret" })).values,
      auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    });
    expect(result).to.deep.equal({ ok: true, via: "signature" });
  });

  // h365: Windows PowerShell 5.1's Set-Content -Encoding UTF8 writes one, and `--secret-string file://` keeps it.
  it("parseSecretShape reads a JSON secret after a byte order mark as its fields, not its whole text as the key", () => {
    const BOM = "\uFEFF";
    expect(parseSecretShape(`${BOM}{"secret":"s3cr3t-value"}`).values).to.deep.equal(["s3cr3t-value"]);
    expect(parseSecretShape(`${BOM}["new","old"]`).values).to.deep.equal(["new", "old"]);
    const body = Buffer.from('{"zen":"x"}');
    const headers = new Map(
      Object.entries(signatureHeaders("github", "s3cr3t-value", body)).map(([k, v]) => [k, [v]]),
    );
    const result = verifyDelivery({
      provider: "github",
      headers,
      body,
      secrets: parseSecretShape(`${BOM}{"secret":"s3cr3t-value"}`).values,
      auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    });
    expect(result).to.deep.equal({ ok: true, via: "signature" });
  });

  it("parseSecretShape gives no value for something that is not a string (never throws)", () => {
    for (const raw of [undefined, null, 5, {}])
      expect(parseSecretShape(raw as unknown as string).values).to.deep.equal([]);
  });

  it("parseSecretShape never throws and never gives an empty value", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: "binary" })), (raw) => {
        const values = parseSecretShape(raw).values;
        for (const value of values) expect(value).to.be.a("string").with.length.greaterThan(0);
      }),
      { numRuns: runs(1000) },
    );
  });
});
