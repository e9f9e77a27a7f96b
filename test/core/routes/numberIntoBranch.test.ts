// A delete-s3-prefix prefix whose {{pr.number}} touches a branch field with nothing, or digits only, between
// them: the branch's own digits run into the number, so two pull requests render one prefix and closing one
// deletes the other's objects (review h494). Refused unless the number, or a payload number, id or URL, also
// stands apart from every branch.
import { expect } from "chai";
import { cleanupPrefixProblems, renderedCleanupPrefix } from "../../support/cleanupPrefix";

function messages(prefix: string, provider = "github"): string[] {
  return cleanupPrefixProblems(prefix, provider);
}

/** The prefix acme/api's pull request `number` from `headRef` into `baseRef` deletes under. */
function rendered(prefix: string, number: number, headRef: string, baseRef = "main"): string {
  return renderedCleanupPrefix(prefix, { number, headRef, baseRef });
}

const AT = 'route "cleanup" action.steps[0].delete-s3-prefix.prefix: ';

describe("a delete-s3-prefix prefix whose {{pr.number}} touches a branch field", () => {
  const cases: Array<[string, [number, string], [number, string]]> = [
    ["{{repo.path}}/{{pr.headRef.underscored}}{{pr.number}}/", [2, "fix/x1"], [12, "fix_x"]],
    ["{{repo.path}}/pr{{pr.number}}{{pr.headRef.underscored}}/", [1, "2fa"], [12, "fa"]],
    ["{{repo.path}}/{{pr.headRef}}{{pr.number}}/", [2, "x1"], [12, "x"]],
    ["{{repo.path}}/{{pr.headRef.path}}{{pr.number}}/", [2, "fix/x1"], [12, "fix/x"]],
    ["{{repo.path}}/{{pr.number}}{{pr.headRef.path}}/", [1, "2fa"], [12, "fa"]],
    ["{{repo.path}}/{{pr.headRef}}0{{pr.number}}/", [1, "x01"], [101, "x"]],
  ];
  for (const [prefix, one, other] of cases) {
    it(`refuses ${prefix}, which renders ${one[1]}'s #${one[0]} and ${other[1]}'s #${other[0]} alike`, () => {
      expect(rendered(prefix, ...one)).to.equal(rendered(prefix, ...other));
      expect(messages(prefix).filter((m) => m.includes("{{pr.number}} runs into"))).to.have.length(1);
    });
  }

  it("refuses a base branch run into the number: #2 into x1 and #12 into x are one prefix", () => {
    const prefix = "{{repo.path}}/{{branch}}{{pr.number}}/";
    expect(rendered(prefix, 2, "a", "x1")).to.equal(rendered(prefix, 12, "b", "x"));
    expect(messages(prefix)).to.deep.equal([
      `${AT}{{pr.number}} runs into {{branch}} with nothing between: #12 into x and #2 into x1 are both x12; ` +
        `closing one deletes both; put "-" between`,
    ]);
  });

  it("says which two pull requests the number before the branch renders alike", () => {
    expect(messages("{{repo.path}}/pr{{ pr.number }}{{ pr.headRef.underscored }}/")).to.deep.equal([
      `${AT}{{pr.number}} runs into {{pr.headRef.underscored}} with nothing between: #1 from 2fa and #12 from fa ` +
        `are both 12fa; closing one deletes both; put "-" between`,
    ]);
  });

  it("gives, for digits between, two pull requests that render alike, the digits written D", () => {
    const prefix = "{{repo.path}}/{{pr.headRef}}0{{pr.number}}/";
    const [message] = messages(prefix);
    expect(message).to.include("with digits D between: #1D2 from x and #2 from xD1 are both xD1D2");
    expect(rendered(prefix, 102, "x")).to.equal(rendered(prefix, 2, "x01"));
  });

  for (const prefix of [
    "{{repo.path}}/pr-{{pr.number}}-{{pr.headRef}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}-{{pr.number}}/",
    "{{repo.path}}/{{pr.number}}-{{pr.headRef.path}}/",
    "{{repo.path}}/pr-{{pr.number}}/{{pr.headRef}}{{pr.number}}/",
    "{{repo.path}}/{{pr.headRef}}{{pr.number}}/{{payload.pull_request.number}}/",
    "{{repo.path}}/{{pr.number}}/{{pr.headSha}}{{pr.number}}/",
  ]) {
    it(`takes ${prefix}: a number stands apart from every branch`, () => {
      expect(messages(prefix)).to.deep.equal([]);
    });
  }

  it("takes a GitLab iid apart from the branch as the pull request's own number", () => {
    expect(
      messages("{{repo.path}}/{{pr.headRef}}{{pr.number}}/{{payload.object_attributes.iid}}/", "gitlab"),
    ).to.deep.equal([]);
    expect(
      messages("{{repo.path}}/{{pr.headRef}}{{pr.number}}/{{payload.pull_request.number}}/", "gitlab"),
    ).to.not.deep.equal([]);
  });
});
