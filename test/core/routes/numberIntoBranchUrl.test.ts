// A payload URL of the pull request keeps the "number runs into a branch" refusal quiet only standing apart from
// every branch, as a payload number does: the URL ends with the number, whose digits run into a branch after it
// as {{pr.number}}'s do, so a URL anywhere in the prefix no longer switches the refusal off.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";
import { cleanupPrefixProblems, cleanupRoutesFile, renderedCleanupPrefix } from "../../support/cleanupPrefix";

function rendered(prefix: string, number: number, headRef: string): string {
  const payload = { pull_request: { html_url: `https://github.com/acme/api/pull/${number}` } };
  return renderedCleanupPrefix(prefix, { number, headRef, payload });
}

describe("a payload URL and the number running into a branch in a delete-s3-prefix prefix", () => {
  it("renders p/{{payload.pull_request.html_url}}{{pr.headRef}}{{pr.number}}/ alike for #1 from 1x1 and #11 from x", () => {
    const prefix = "p/{{payload.pull_request.html_url}}{{pr.headRef}}{{pr.number}}/";
    expect(rendered(prefix, 1, "1x1")).to.equal("p/https%3A%2F%2Fgithub.com%2Facme%2Fapi%2Fpull%2F11x11/");
    expect(rendered(prefix, 11, "x")).to.equal(rendered(prefix, 1, "1x1"));
  });

  it("renders {{repo.path}}/{{payload.pull_request.html_url}}{{pr.headRef}}/ alike for #1 from 2fa and #12 from fa", () => {
    const prefix = "{{repo.path}}/{{payload.pull_request.html_url}}{{pr.headRef}}/";
    expect(rendered(prefix, 12, "fa")).to.equal(rendered(prefix, 1, "2fa"));
  });

  // [prefix, provider, what runs into what: the first number (or URL) found touching a branch]
  const refused: Array<[string, string, string]> = [
    [
      "p/{{payload.pull_request.html_url}}{{pr.headRef}}{{pr.number}}/",
      "github",
      "{{payload.pull_request.html_url}} runs into {{pr.headRef}} with nothing between",
    ],
    [
      "{{repo.path}}/{{payload.object_attributes.url}}{{pr.headRef.underscored}}{{pr.number}}/",
      "gitlab",
      "{{payload.object_attributes.url}} runs into {{pr.headRef.underscored}} with nothing between",
    ],
    [
      "{{repo.path}}/{{payload.pull_request.html_url}}{{pr.headRef}}/",
      "github",
      "{{payload.pull_request.html_url}} runs into {{pr.headRef}} with nothing between: #1 from 2fa and #12 from fa",
    ],
    [
      "{{repo.path}}/pr-{{payload.pullrequest.links.html.href}}7{{pr.headRef}}/",
      "bitbucket",
      "{{payload.pullrequest.links.html.href}} runs into {{pr.headRef}} with digits D between",
    ],
  ];
  for (const [prefix, provider, message] of refused) {
    it(`refuses ${prefix} on ${provider}: its URL runs into a branch, so tells no pull requests apart`, () => {
      const problems = cleanupPrefixProblems(prefix, provider);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include(message);
    });
  }

  for (const prefix of [
    // The URL in a folder of its own, or with a non-digit before the branch: one pull request's alone.
    "{{repo.path}}/{{payload.pull_request.head.ref}}{{pr.number}}/{{payload.pull_request.html_url}}/",
    "{{repo.path}}/{{pr.headRef}}{{pr.number}}-{{payload.pull_request.html_url}}/",
    "{{repo.path}}/{{payload.pull_request.html_url}}-{{pr.headRef}}{{pr.number}}/",
    // A branch before the URL: the URL starts with "https%3A", which no branch's encoded name ends into.
    "{{repo.path}}/{{pr.headRef}}{{payload.pull_request.html_url}}/",
    "previews/{{payload.pull_request.html_url}}/",
  ]) {
    it(`still takes ${prefix} on github`, () => {
      expect(cleanupPrefixProblems(prefix, "github")).to.deep.equal([]);
    });
  }

  it("keeps the message within 300 characters for the longest URL and branch fields after a 40-character escaped route name", () => {
    const prefix =
      "{{repo.path}}/{{payload.pullRequest.links.self.0.href}}20241231{{payload.pullRequest.fromRef.displayId}}/";
    const text = cleanupRoutesFile(prefix, "bitbucket-server")
      .replace("name: cleanup", `name: "${"\\\\".repeat(40)}"`)
      .replace("{ token: t/gh }", '{ token: t/gh, apiUrl: "https://bb.example.com/rest/api/latest" }');
    const found = parseRoutes(text, "routes.yaml").problems.filter((p) => p.message.includes("runs into"));
    expect(found).to.have.length(1);
    expect(found[0]?.message).to.include("{{payload.pullRequest.links.self.0.href}} runs into");
    expect(found[0]?.message.length).to.be.below(300);
  });
});
