// package.json's engines against the test runner's: mocha and chai are ES modules loaded from CommonJS, through
// Node's require(esm), on by default only from 20.19 on 20.x and from 22.12 on 22.x (off on 21.x and 22.0 to
// 22.11, where `npm test` would fail with ERR_REQUIRE_ESM after lint and type-check).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";

const ROOT = resolve(__dirname, "..");
const engines = (file: string) => JSON.parse(readFileSync(file, "utf8")).engines?.node as string | undefined;

describe("package.json engines", () => {
  it("accept exactly the Node versions the locked mocha accepts (require(esm) on by default: ^20.19.0 || >=22.12.0)", () => {
    const ours = engines(resolve(ROOT, "package.json"));
    expect(ours).to.equal("^20.19.0 || >=22.12.0");
    expect(engines(resolve(ROOT, "node_modules/mocha/package.json"))).to.equal(ours);
  });

  it("the README's prerequisites give the same Node versions", () => {
    const readme = readFileSync(resolve(ROOT, "README.md"), "utf8");
    expect(readme).to.include("- Node.js 20.19 or later on 20.x, or 22.12 or later");
    expect(readme).not.to.match(/Node(\.js)? (≥ )?20\.19 or later[;,)]/);
  });
});
