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

  it("Troubleshooting says what a token that cannot create webhooks ends pulumi up with (401, 403, 404), what each means, and to run pulumi up again", () => {
    const deployment = section("### The deployment");
    const start = deployment.indexOf(
      "**`POST https://api.github.com/repos/<owner>/<repo>/hooks: 404 Not Found`**",
    );
    expect(start, "no entry for POST …/hooks: 404").to.be.greaterThan(-1);
    const entry = deployment.slice(start, deployment.indexOf(" **", start + 10));
    for (const said of [
      "`401 Bad credentials`",
      "`403 Resource not accessible by personal access token`",
      "Webhooks repository permission",
      "`admin:repo_hook`",
      "admin of the repository",
      "run `pulumi up` again",
    ]) {
      expect(entry, said).to.include(said);
    }
  });

  it("the rotation section says how to rotate a generated secret: pulumi up --replace of its RandomPassword, found with pulumi stack --show-urns", () => {
    const rotation = section("### Rotating a secret without dropping deliveries");
    for (const said of [
      "`github.manageWebhooks`",
      "pulumi stack --show-urns",
      "pulumi up --replace 'urn:pulumi:",
      "becomes `AWSCURRENT` while the old value stays as `AWSPREVIOUS`, and only then updates the webhooks",
    ]) {
      expect(rotation, said).to.include(said);
    }
  });
});
