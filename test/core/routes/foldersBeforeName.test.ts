// On a route of one owner's repositories, where the name alone names the repository, a field of folders before
// it in a delete-s3-prefix prefix is refused as before a full name: a branch may spell another repository's
// name (acme/api #1 from feature is under feature/pr-1/api/, which holds acme/web #2's from feature/pr-1/api).
import { expect } from "chai";
import { cleanupPrefixProblems, renderedCleanupPrefix } from "../../support/cleanupPrefix";

const FOLDERS_FIRST =
  "a field of folders comes before the repository's full name: a branch may spell another repository's folders";

describe("a field of folders before the repository's name on a route of one owner's repositories", () => {
  it("renders acme/web #2's prefix from feature/pr-1/api under acme/api #1's from feature: the collision", () => {
    const prefix = "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/";
    const api = renderedCleanupPrefix(prefix, { repo: "acme/api", number: 1, headRef: "feature" });
    const web = renderedCleanupPrefix(prefix, { repo: "acme/web", number: 2, headRef: "feature/pr-1/api" });
    expect(api).to.equal("feature/pr-1/api/");
    expect(web).to.equal("feature/pr-1/api/pr-2/web/");
    expect(web.startsWith(api)).to.equal(true);
  });

  // [prefix, provider, the fix written]
  const refused: Array<[string, string, string]> = [
    [
      "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/",
      "github",
      "'{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/'",
    ],
    [
      "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/",
      "gitlab",
      "'{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/'",
    ],
    [
      "previews/{{pr.headRef.path}}/{{repo.name}}/",
      "bitbucket",
      "'{{repo.path}}/previews/{{pr.headRef.path}}/{{repo.name}}/'",
    ],
    [
      "{{pr.headRef.path}}/pr-{{pr.number}}/{{owner}}/{{repo}}/",
      "github",
      "'{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{owner}}/{{rep…'",
    ],
    [
      "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.underscored}}/",
      "github",
      "'{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.undersco…'",
    ],
  ];
  for (const [prefix, provider, fix] of refused) {
    it(`refuses ${prefix} on ${provider} repos ["acme/*"], as on a route of several owners, and writes ${fix}`, () => {
      const problems = cleanupPrefixProblems(prefix, provider, '["acme/*"]');
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include(FOLDERS_FIRST);
      expect(problems[0]).to.include(`write ${fix}`);
    });
  }

  it('refuses {{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/ on gitlab repos ["platform/team/*"] (taken since review h476, which counted folders: the prefixes differ, one holding the other)', () => {
    const prefix = "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/";
    const problems = cleanupPrefixProblems(prefix, "gitlab", '["platform/team/*"]');
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include(FOLDERS_FIRST);
    expect(problems[0]).to.include("write '{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/'");
  });

  for (const prefix of [
    // The name first: no branch comes before it.
    "{{repo}}/{{pr.headRef.path}}/pr-{{pr.number}}/",
    "previews/{{repo}}/pr-{{pr.number}}/{{pr.headRef.path}}/site/",
    // Its full name as one folder ("/" as %2F): no branch's folders, each encoded, can spell it.
    "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.fullName}}/",
    // The branch as one folder, "/" encoded.
    "{{pr.headRef}}/pr-{{pr.number}}/{{repo}}/",
  ]) {
    it(`still takes ${prefix} on repos ["acme/*"]`, () => {
      expect(cleanupPrefixProblems(prefix, "github", '["acme/*"]')).to.deep.equal([]);
    });
  }

  it("still takes the prefix on one repository, whose name no other repository of the route shares", () => {
    expect(
      cleanupPrefixProblems("{{pr.headRef.path}}/pr-{{pr.number}}/{{repo}}/", "github", "[acme/api]"),
    ).to.deep.equal([]);
  });
});
