import { expect } from "chai";
import fc from "fast-check";
import { decodeBody } from "../../src/core/decode";
import { RequestError } from "../../src/core/errors";
import { boundedJsonValue, samplesAtSmallAgree } from "../support/jsonValues";
import { runs } from "../support/propertyRuns";

const PAYLOAD = { ref: "refs/heads/main", message: "façade 🚀 \u2028", n: 1 };
const JSON_BODY = Buffer.from(`${JSON.stringify(PAYLOAD, null, 2)}\n`);

/** fc.jsonValue() with its depth bias held to small's and its entries bounded (test/support/jsonValues.ts). */
const jsonValue = () => boundedJsonValue({ depthSize: "small" });

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestError) return error.statusCode;
    throw error;
  }
  return undefined;
}

describe("Test support: decode.test.ts's jsonValue", () => {
  it("gives the values fc.jsonValue() gives at npm test's size (small), run for run, in the dictionaries the properties take", () => {
    const dictionaries = (value: () => fc.Arbitrary<unknown>) =>
      fc.tuple(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.constant("&payload=%7B%7D&"), value())),
        fc.dictionary(fc.string({ unit: "binary" }), value()),
      );
    expect(
      samplesAtSmallAgree(
        () => dictionaries(jsonValue),
        () => dictionaries(() => fc.jsonValue()),
      ),
    ).to.equal(true);
  });
});

describe("Function: decodeBody", () => {
  for (const type of [
    "application/json",
    "application/json; charset=utf-8",
    'Application/JSON;charset="UTF-8"',
    "application/vnd.github+json",
    undefined,
    "",
  ]) {
    it(`decodeBody parses UTF-8 JSON with content type ${JSON.stringify(type)}`, () => {
      expect(decodeBody(JSON_BODY, type)).to.deep.equal(PAYLOAD);
    });
  }

  it("decodeBody takes the payload field of a form body (GitHub's form content type)", () => {
    const form = Buffer.from(`payload=${encodeURIComponent(JSON.stringify(PAYLOAD))}`);
    expect(decodeBody(form, "application/x-www-form-urlencoded")).to.deep.equal(PAYLOAD);
  });

  it("decodeBody decodes + as a space in a form payload", () => {
    const form = Buffer.from('payload={"a":"b+c","d":1}'.replace(/"/g, "%22"));
    expect(decodeBody(form, "application/x-www-form-urlencoded")).to.deep.equal({ a: "b c", d: 1 });
  });

  it("decodeBody ignores a UTF-8 byte order mark", () => {
    expect(
      decodeBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), JSON_BODY]), "application/json"),
    ).to.deep.equal(PAYLOAD);
  });

  const bad: Array<[string, Buffer, string | undefined, number]> = [
    ["an empty body", Buffer.alloc(0), "application/json", 400],
    ["an empty form", Buffer.alloc(0), "application/x-www-form-urlencoded", 400],
    ["malformed JSON", Buffer.from('{"a":'), "application/json", 400],
    ["whitespace only", Buffer.from("  \n"), "application/json", 400],
    ["a JSON array", Buffer.from("[1,2]"), "application/json", 400],
    ["JSON null", Buffer.from("null"), "application/json", 400],
    ["a JSON string", Buffer.from('"push"'), undefined, 400],
    [
      "bytes that are not UTF-8 (latin-1 ç)",
      Buffer.from('{"a":"fa\xe7ade"}', "latin1"),
      "application/json",
      400,
    ],
    ["a form without payload", Buffer.from("event=push"), "application/x-www-form-urlencoded", 400],
    [
      "a form whose payload is not JSON",
      Buffer.from("payload=hello"),
      "application/x-www-form-urlencoded",
      400,
    ],
    [
      "a form with two payloads",
      Buffer.from("payload=%7B%7D&payload=%7B%7D"),
      "application/x-www-form-urlencoded",
      400,
    ],
    [
      "a form with a field besides payload",
      Buffer.from("payload=%7B%7D&event=push"),
      "application/x-www-form-urlencoded",
      400,
    ],
    ["text/plain", JSON_BODY, "text/plain", 415],
    ["multipart/form-data", JSON_BODY, "multipart/form-data; boundary=x", 415],
    ["application/xml", JSON_BODY, "application/xml", 415],
    ["a latin-1 charset", JSON_BODY, "application/json; charset=iso-8859-1", 415],
    ["a UTF-16 charset", JSON_BODY, "application/json; charset=utf-16", 415],
  ];
  for (const [name, body, type, status] of bad) {
    it(`decodeBody answers ${status} for ${name}`, () => {
      expect(statusOf(() => decodeBody(body, type))).to.equal(status);
    });
  }

  // The content type is not signed: a captured JSON delivery can be replayed as a form. Its JSON text
  // must then never yield a payload field, even when a string in it carries "&payload=<JSON>&".
  it("decodeBody never reads a JSON object body sent as a form, whatever its strings carry", () => {
    const planted = `&payload=${encodeURIComponent(JSON.stringify({ ref: "refs/heads/main" }))}&`;
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.constant(planted), jsonValue())),
        fc.string(),
        (object, key) => {
          const body = Buffer.from(JSON.stringify({ ...object, [key]: `title${planted}` }), "utf8");
          expect(statusOf(() => decodeBody(body, "application/x-www-form-urlencoded"))).to.equal(400);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it("decodeBody's error for malformed JSON does not quote the body", () => {
    try {
      decodeBody(Buffer.from('{"secret-ish": tru'), "application/json");
      expect.fail("decodeBody accepted malformed JSON");
    } catch (error) {
      expect((error as Error).message).to.equal("body is not valid JSON");
    }
  });

  it("decodeBody reads any JSON object as JSON.parse reads its UTF-8 text, ASCII or not", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: "binary" }), jsonValue()),
        fc.boolean(),
        (object, escapeNonAscii) => {
          let text = JSON.stringify(object);
          // Senders may escape every non-ASCII character (an ASCII body) or send it as UTF-8 bytes.
          if (escapeNonAscii)
            text = text.replace(
              /[^ -~\t\n\r]/g,
              (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
            );
          expect(decodeBody(Buffer.from(text, "utf8"), "application/json")).to.deep.equal(JSON.parse(text));
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it("decodeBody only ever throws RequestError, whatever the bytes and content type", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.option(
          fc.oneof(
            fc.string(),
            fc.constantFrom(
              "application/json",
              "application/x-www-form-urlencoded",
              "application/json; charset=utf-8",
            ),
          ),
          { nil: undefined },
        ),
        (bytes, type) => {
          try {
            const value = decodeBody(Buffer.from(bytes), type);
            expect(value).to.be.an("object");
          } catch (error) {
            expect(error).to.be.instanceOf(RequestError);
          }
        },
      ),
      { numRuns: runs(1000) },
    );
  });
});

describe("Function: decodeBody (content type parameters and reasons)", () => {
  for (const type of [
    "application/json; charset=utf8",
    "application/json; charset=us-ascii",
    "application/json ; charset=utf-8",
    "application/json; charset = utf-8",
    "application/json; boundary=x",
    "application/json; charsets",
    "application/json; charset",
    "   ",
  ]) {
    it(`decodeBody parses UTF-8 JSON with content type ${JSON.stringify(type)}`, () => {
      expect(decodeBody(JSON_BODY, type)).to.deep.equal(PAYLOAD);
    });
  }

  function messageOf(body: Buffer, type: string | undefined): string | undefined {
    try {
      decodeBody(body, type);
    } catch (error) {
      if (error instanceof RequestError) return error.message;
      throw error;
    }
    return undefined;
  }

  const FORM = "application/x-www-form-urlencoded";
  const reasons: Array<[string, Buffer, string | undefined, string]> = [
    ["an empty body", Buffer.alloc(0), "application/json", "empty body"],
    [
      "bytes that are not UTF-8",
      Buffer.from([0x7b, 0xe7, 0x7d]),
      "application/json",
      "body is not valid UTF-8",
    ],
    ["a JSON array", Buffer.from("[1]"), undefined, "body is not a JSON object"],
    ["a form without payload", Buffer.from("event=push"), FORM, "form body has no payload field"],
    [
      "a form with two payloads",
      Buffer.from("payload=%7B%7D&payload=%7B%7D"),
      FORM,
      "form body has several payload fields",
    ],
    [
      "a form with another field",
      Buffer.from("payload=%7B%7D&event=push"),
      FORM,
      "form body has fields other than payload",
    ],
    ["a form payload that is not JSON", Buffer.from("payload=hello"), FORM, "form payload is not valid JSON"],
    [
      "a +json type outside application/",
      JSON_BODY,
      "text/vnd.x+json",
      'unsupported content type "text/vnd.x+json"; send application/json',
    ],
    [
      "a UTF-16 charset",
      JSON_BODY,
      "application/json; charset=utf-16",
      'unsupported charset "utf-16"; send UTF-8',
    ],
  ];
  for (const [name, body, type, message] of reasons) {
    it(`decodeBody says "${message}" for ${name}`, () => {
      expect(messageOf(body, type)).to.equal(message);
    });
  }

  it("decodeBody quotes at most 40 characters of a charset and 80 of a content type", () => {
    expect(messageOf(JSON_BODY, `application/json; charset=${"c".repeat(100)}`)).to.equal(
      `unsupported charset "${"c".repeat(40)}"; send UTF-8`,
    );
    expect(messageOf(JSON_BODY, `text/${"t".repeat(100)}`)).to.equal(
      `unsupported content type "text/${"t".repeat(75)}"; send application/json`,
    );
  });
});
