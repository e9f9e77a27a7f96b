import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { RoutesFileError } from "../../../src/core/errors";
import { loadRoutesFile } from "../../../src/core/routes/load";

describe("Function: loadRoutesFile", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-routes-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("loadRoutesFile returns the compiled routes of a valid file", () => {
    const file = join(dir, "ok.yaml");
    writeFileSync(
      file,
      "version: 1\njenkins: { url: 'https://ci.example.com', credentials: ci/c }\nroutes:\n  - name: a\n    secret: s\n    match: {}\n    action: { type: jenkins, job: a }\n",
    );
    expect(loadRoutesFile(file).routes.map((r) => r.name)).to.deep.equal(["a"]);
  });

  it("loadRoutesFile throws RoutesFileError with one problem at 1:1 for a missing file", () => {
    const file = join(dir, "missing.yaml");
    expect(() => loadRoutesFile(file))
      .to.throw(RoutesFileError)
      .with.property("problems")
      .that.deep.equals([{ file, line: 1, col: 1, message: "routes file not found" }]);
  });

  it("loadRoutesFile throws RoutesFileError carrying every problem of an invalid file", () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "version: 2\nroutes: []\n");
    try {
      loadRoutesFile(file);
      expect.fail("loadRoutesFile should have thrown");
    } catch (error) {
      expect(error).to.be.instanceOf(RoutesFileError);
      const problems = (error as RoutesFileError).problems;
      expect(problems.map((p) => `${p.line}:${p.col}`)).to.deep.equal(["1:10", "2:9"]);
      expect((error as Error).message).to.include(`${file}:1:10: version must be 1`);
    }
  });
});
