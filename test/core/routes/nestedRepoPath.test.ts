// The GitLab rule that {{repo.path}} in a delete-s3-prefix prefix ends its folder: only where the route's repos
// may take a subgroup's project beside another project (review h504).
import { expect } from "chai";
import { cleanupPrefixProblems } from "../../support/cleanupPrefix";

const PREFIX = "previews/{{repo.path}}-pr-{{pr.number}}/";

describe("GitLab text after {{repo.path}} in its folder, by what repos takes", () => {
  for (const repos of [
    "[acme/api]",
    "[acme/api, acme/web]",
    '["acme/*"]',
    '["platform/team/*", "other/web/*"]',
    '["*/*"]',
    '["acme/{api,web}"]',
  ]) {
    it(`takes ${PREFIX} on repos ${repos}: every project taken is one folder under owners of one depth`, () => {
      expect(cleanupPrefixProblems(PREFIX, "gitlab", repos)).to.deep.equal([]);
    });
  }
  for (const repos of [
    '["**"]',
    '["acme/**"]',
    "[acme/api, acme/api-pr-2/core]",
    '["acme/*", "acme/*/*"]',
    '["*/{api,web/core}"]',
  ]) {
    it(`refuses ${PREFIX} on repos ${repos}: a subgroup's project may be taken beside a project`, () => {
      const problems = cleanupPrefixProblems(PREFIX, "gitlab", repos);
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include("text follows {{repo.path}} in its folder");
      expect(problems[0]).to.include("write 'previews/{{repo.path}}/pr-{{pr.number}}/'");
    });
  }
  it("still refuses a name run into the number on repos of one depth: a/b #17 and a/b1 #7 are both a/b17", () => {
    const problems = cleanupPrefixProblems("previews/{{repo.path}}{{pr.number}}/", "gitlab", '["acme/*"]');
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include("runs into another field");
  });
});
