// The README's dependency rule ("Layout"), checked on the sources: src/core is pure (no other part of the project,
// no AWS SDK, no Pulumi), src/actions builds on src/core only, and nothing imports handlers/.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect } from "chai";
import ts from "typescript";

const ROOT = resolve(__dirname, "..");

/**
 * Every import, export-from, import = require(), require() and import() specifier of a TypeScript file, as
 * TypeScript's own scanner reads them (comments and strings are not imports; a list broken over lines is).
 */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** require() and import() calls whose argument is not a string written out, which the scan cannot follow. */
function dynamicLoads(source: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === "require")) &&
      !(node.arguments[0] && ts.isStringLiteralLike(node.arguments[0]))
    ) {
      found.push(node.getText().replace(/\s+/g, " "));
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile("scanned.ts", source, ts.ScriptTarget.Latest, true));
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
  it("finds the imports it checks, in every form, and none in comments or strings", () => {
    expect(
      specifiers(
        'import a from "./a";\nimport type { B } from "../b";\nexport { c } from "./c";\nimport "./d";\n' +
          'const e = require("./e") as typeof import("./f");\nawait import("./g");\nimport h = require("./h");\n' +
          'export * from "./i";\nimport {\n  j, // the host\'s\n} from "./j";\nconst k = require(`./k`);\n' +
          '// import "./not-in-a-comment"\nconst text = \'import "./not-in-a-string"\';',
      ),
    ).to.have.members(["./a", "../b", "./c", "./d", "./e", "./f", "./g", "./h", "./i", "./j", "./k"]);
    expect(dynamicLoads('require(path); require("./x"); import(name); // require(comment)')).to.deep.equal([
      "require(path)",
      "import(name)",
    ]);
    expect(tsFiles("src/core").length).to.be.greaterThan(20);
  });

  it("loads a module by a computed name only in the CLI's lazyCommand (./serve, ./send), which the scan cannot follow", () => {
    const loads = [...tsFiles("src"), "index.ts"].flatMap((file) =>
      dynamicLoads(readFileSync(join(ROOT, file), "utf8")).map((call) => `${file}: ${call}`),
    );
    expect(loads).to.deep.equal(["src/cli/main.ts: require(path)"]);
    expect(readFileSync(join(ROOT, "src/cli/main.ts"), "utf8").match(/lazyCommand\("[^"]+"/g)).to.deep.equal([
      'lazyCommand("./serve"',
      'lazyCommand("./send"',
    ]);
  });

  it("src/core imports nothing else from the project (routes.schema.json, data, aside), no AWS SDK, no Pulumi and no HTTP client", () => {
    const pure = (file: string, specifier: string) =>
      !/^(@aws-sdk\/|@smithy\/|@pulumi\/|aws-lambda$|undici$|(node:)?(http|https|http2|net|tls)$)/.test(
        specifier,
      ) &&
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
