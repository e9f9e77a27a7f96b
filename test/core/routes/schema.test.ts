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
});
