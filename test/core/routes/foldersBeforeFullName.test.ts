// The refusal of a delete-s3-prefix prefix with a field of folders before the repository's full name says why
// in general words: a fixed example of two pull requests is false for most such prefixes (review h504).
import { expect } from "chai";
import { cleanupPrefixProblems } from "../../support/cleanupPrefix";

describe("a field of folders before the repository's full name in a delete-s3-prefix prefix", () => {
  for (const prefix of [
    "previews/{{pr.headRef.path}}/{{repo.path}}/",
    "{{pr.headRef.path}}/pr-{{pr.number}}/{{repo.path}}/",
  ]) {
    it(`refuses ${prefix} saying a branch may spell another repository's folders, with no example it does not render`, () => {
      const problems = cleanupPrefixProblems(prefix, "github", '["acme/*", "login/*"]');
      expect(problems).to.have.length(1);
      expect(problems[0]).to.include(
        "a field of folders comes before the repository's full name: a branch may spell another repository's folders",
      );
      expect(problems[0]).not.to.match(/login\/acme|feature/);
    });
  }
});
