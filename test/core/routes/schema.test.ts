import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { expect } from "chai";
import { parse } from "yaml";

const schema = JSON.parse(readFileSync(join(__dirname, "../../../routes.schema.json"), "utf8"));

type Json = Record<string, unknown>;

/** Every property schema under `properties`, with its JSON path. */
function properties(node: unknown, path: string, out: Array<[string, Json]> = []): Array<[string, Json]> {
  if (node === null || typeof node !== "object") return out;
  const record = node as Json;
  const props = record.properties as Record<string, Json> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) out.push([`${path}.${name}`, child]);
  for (const [key, child] of Object.entries(record)) properties(child, `${path}.${key}`, out);
  return out;
}

function describes(property: Json): boolean {
  if (typeof property.description === "string") return true;
  const ref = property.$ref;
  if (typeof ref !== "string") return false;
  const target = schema.definitions[ref.replace("#/definitions/", "")] as Json | undefined;
  return typeof target?.description === "string";
}

describe("File: routes.schema.json", () => {
  it("routes.schema.json compiles with ajv in strict mode", () => {
    expect(() => new Ajv({ strict: true, allowUnionTypes: true }).compile(schema)).not.to.throw();
  });

  it("routes.schema.json describes every key, so editors can show help", () => {
    const undocumented = properties(schema, "#")
      .filter(([path]) => !path.includes(".if."))
      .filter(([, property]) => !describes(property))
      .map(([path]) => path);
    expect(undocumented).to.deep.equal([]);
  });

  it("routes.schema.json accepts the shipped routes.yaml on its own (what an editor sees)", () => {
    const validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
    const data = parse(readFileSync(join(__dirname, "../../../routes.yaml"), "utf8"), { merge: true });
    expect(validate(data), JSON.stringify(validate.errors)).to.equal(true);
  });

  // What hookgate check refuses for its shape, an editor should flag too.
  const base = [
    "version: 1",
    'defaults: { secret: hooks/s, jenkins: { url: "https://ci.example.com", credentials: ci/c } }',
    "providers: { github: { token: t/gh } }",
    "routes:",
    "  - name: a",
    "    match: {}",
  ];
  const shapes: Array<[string, string, boolean]> = [
    ["a job path with an empty folder", "    action: { type: jenkins, job: api//build }", false],
    ["a job path with a .. folder", "    action: { type: jenkins, job: a/../b }", false],
    ["a job path of folders", "    action: { type: jenkins, job: '{{repo.name}}/build' }", true],
    [
      "a Jenkins URL with a query string",
      '    action: { type: jenkins, job: x, jenkins: { url: "https://ci.example.com/?token=abc", credentials: ci/c } }',
      false,
    ],
    [
      "a Jenkins URL with a password",
      '    action: { type: jenkins, job: x, jenkins: { url: "https://bot:pw@ci.example.com", credentials: ci/c } }',
      false,
    ],
    ["a bucket name with ..", "    action: { type: s3-zip, bucket: my..bucket }", false],
    ["a bucket name in IP form", "    action: { type: s3-zip, bucket: 192.168.1.1 }", false],
    ["a bucket name with a prefix S3 keeps", "    action: { type: s3-zip, bucket: xn--builds }", false],
    ["a bucket name with a suffix S3 keeps", "    action: { type: s3-zip, bucket: builds--x-s3 }", false],
    [
      "a bucket name that only holds a kept suffix",
      "    action: { type: s3-zip, bucket: s3alias-builds }",
      true,
    ],
    [
      "a commit status link without a scheme",
      "    action: { type: pr-cleanup, targetUrl: logs.example.com/x, steps: [ { delete-branch: } ] }",
      false,
    ],
    [
      "a commit status link from a template",
      "    action: { type: pr-cleanup, targetUrl: '{{repo.cloneUrl}}', steps: [ { delete-branch: } ] }",
      true,
    ],
  ];
  for (const [what, line, valid] of shapes) {
    it(`routes.schema.json ${valid ? "accepts" : "refuses"} ${what}, as hookgate check does`, () => {
      const validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(schema);
      expect(validate(parse([...base, line].join("\n"))), JSON.stringify(validate.errors)).to.equal(valid);
    });
  }
});
