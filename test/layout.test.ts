// The README's dependency rule ("Layout"), checked on the sources: src/core is pure (no other part of the project,
// no AWS SDK, no Pulumi), src/actions builds on src/core only, and nothing imports handlers/.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(__dirname, "..");

/** Every import, export-from, require() and import() specifier of a TypeScript file. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\b(?:require|import)\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) if (match[1]) found.push(match[1]);
  }
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

/** The project folder a relative specifier of `file` lands in (src/core, src/aws, handlers, …), or undefined. */
function projectPart(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const target = relative(ROOT, resolve(ROOT, dirname(file), specifier));
  const [top, second] = target.split(/[\\/]/);
  return top === "src" ? `src/${second}` : top;
}

/** `file`'s imports that break `allowed`, as "file: specifier". */
function violations(files: string[], allowed: (file: string, specifier: string) => boolean): string[] {
  return files.flatMap((file) =>
    specifiers(readFileSync(join(ROOT, file), "utf8"))
      .filter((specifier) => !allowed(file, specifier))
      .map((specifier) => `${file}: ${specifier}`),
  );
}

describe("Layout: the README's dependency rule", () => {
  it("finds the imports it checks (the scan reads import, export-from, require and import())", () => {
    expect(
      specifiers(
        'import a from "./a";\nimport type { B } from "../b";\nexport { c } from "./c";\nimport "./d";\n' +
          'const e = require("./e") as typeof import("./f");\nawait import("./g");',
      ),
    ).to.have.members(["./a", "../b", "./c", "./d", "./e", "./f", "./g"]);
    expect(tsFiles("src/core").length).to.be.greaterThan(20);
  });

  it("src/core imports nothing else from the project (routes.schema.json, data, aside), no AWS SDK, no Pulumi and no HTTP client", () => {
    const pure = (file: string, specifier: string) =>
      !/^(@aws-sdk\/|@smithy\/|@pulumi\/|aws-lambda$|undici$)/.test(specifier) &&
      (specifier.endsWith(".json") || (projectPart(file, specifier) ?? "src/core") === "src/core");
    expect(violations(tsFiles("src/core"), pure)).to.deep.equal([]);
  });

  it("src/actions imports only src/core from the project, and no Pulumi", () => {
    const onCore = (file: string, specifier: string) =>
      !specifier.startsWith("@pulumi/") &&
      ["src/core", "src/actions"].includes(projectPart(file, specifier) ?? "src/core");
    expect(violations(tsFiles("src/actions"), onCore)).to.deep.equal([]);
  });

  it("nothing in src or index.ts imports handlers/", () => {
    const files = [...tsFiles("src"), "index.ts"];
    const notHandlers = (file: string, specifier: string) => projectPart(file, specifier) !== "handlers";
    expect(violations(files, notHandlers)).to.deep.equal([]);
  });
});
