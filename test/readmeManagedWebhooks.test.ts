import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";

// What the README says of managed GitHub webhooks (github.manageWebhooks) beyond what the code checks (review h384).
const README = readFileSync(resolve(__dirname, "..", "README.md"), "utf8").replace(/\s+/g, " ");

/** The text from one heading up to the next heading of level 2 or 3 (a shell comment is one "#"). */
function section(heading: string): string {
  const start = README.indexOf(heading);
  expect(start, `README: ${heading} not found`).to.be.greaterThan(-1);
  const end = README.indexOf(" ##", start + heading.length);
  return README.slice(start, end === -1 ? undefined : end);
}

describe("README: managed GitHub webhooks", () => {
  it("says by the token line that a fine-grained token covers one owner, and what serves several", () => {
    const managed = section("### Optional: let the stack manage the GitHub webhooks");
    expect(managed).to.match(/fine-grained token reaches the repositories of one owner only/);
    expect(managed).to.match(/classic token with `admin:repo_hook`/);
  });
});
