// A delete-s3-prefix prefix whose number runs into the host's payload head or base branch, or whose payload
// number or id runs into a branch: the branch's digits run into the number as with {{pr.headRef}}{{pr.number}},
// so two pull requests render one prefix and closing one deletes the other's objects (review h502).
import { expect } from "chai";
import { cleanupPrefixProblems, renderedCleanupPrefix } from "../../support/cleanupPrefix";

function messages(prefix: string, provider: string): string[] {
  return cleanupPrefixProblems(prefix, provider);
}

/** The payload the host sends for pull request `number` from `headRef` into main. */
function payload(provider: string, number: number, headRef: string): unknown {
  switch (provider) {
    case "gitlab":
      return { object_attributes: { iid: number, source_branch: headRef, target_branch: "main" } };
    case "bitbucket":
      return {
        pullrequest: {
          id: number,
          source: { branch: { name: headRef } },
          destination: { branch: { name: "main" } },
        },
      };
    case "bitbucket-server":
      return { pullRequest: { id: number, fromRef: { displayId: headRef }, toRef: { displayId: "main" } } };
    default:
      return { number, pull_request: { number, head: { ref: headRef }, base: { ref: "main" } } };
  }
}

function rendered(prefix: string, provider: string, number: number, headRef: string): string {
  return renderedCleanupPrefix(prefix, {
    number,
    headRef,
    provider,
    payload: payload(provider, number, headRef),
  });
}

describe("a delete-s3-prefix prefix whose number runs into the host's payload branch, or a payload number into a branch", () => {
  const cases: Array<[string, string]> = [
    ["{{repo.path}}/{{payload.pull_request.head.ref}}{{pr.number}}/", "github"],
    ["{{repo.path}}/{{pr.headRef}}{{payload.pull_request.number}}/", "github"],
    ["{{repo.path}}/{{pr.headRef}}{{payload.number}}/", "gitea"],
    ["{{repo.path}}/{{payload.object_attributes.source_branch}}{{pr.number}}/", "gitlab"],
    ["{{repo.path}}/{{pr.headRef}}{{payload.object_attributes.iid}}/", "gitlab"],
    ["{{repo.path}}/{{payload.object_attributes.source_branch}}{{payload.object_attributes.iid}}/", "gitlab"],
    ["{{repo.path}}/{{payload.pullrequest.source.branch.name}}{{pr.number}}/", "bitbucket"],
    ["{{repo.path}}/{{pr.headRef}}{{payload.pullrequest.id}}/", "bitbucket"],
    [
      "{{repo.path}}/{{payload.pullRequest.fromRef.displayId}}{{payload.pullRequest.id}}/",
      "bitbucket-server",
    ],
  ];
  for (const [prefix, provider] of cases) {
    it(`refuses ${prefix} on ${provider}, where x1's #2 and x's #12 both delete under acme/api/x12/`, () => {
      expect(rendered(prefix, provider, 2, "x1")).to.equal(rendered(prefix, provider, 12, "x"));
      expect(messages(prefix, provider).filter((m) => m.includes(" runs into "))).to.have.length(1);
    });
  }

  it("names the payload fields it found and says the base branch's pull requests are into it", () => {
    const prefix =
      "{{repo.path}}/{{payload.object_attributes.iid}}{{payload.object_attributes.target_branch}}/";
    expect(messages(prefix, "gitlab")).to.deep.equal([
      'route "cleanup" action.steps[0].delete-s3-prefix.prefix: {{payload.object_attributes.iid}} runs into ' +
        "{{payload.object_attributes.target_branch}} with nothing between: #1 into 2fa and #12 into fa are both " +
        `12fa; closing one deletes both; put "-" between`,
    ]);
  });

  for (const [prefix, provider] of [
    ["{{repo.path}}/{{payload.pull_request.head.ref}}-{{pr.number}}/", "github"],
    [
      "{{repo.path}}/{{payload.object_attributes.source_branch}}{{pr.number}}/{{payload.object_attributes.iid}}/",
      "gitlab",
    ],
    ["{{repo.path}}/{{pr.headRef}}{{payload.pull_request.number}}/{{pr.number}}/", "github"],
    [
      "{{repo.path}}/{{payload.pull_request.head.ref}}{{pr.number}}/{{payload.pull_request.html_url}}/",
      "github",
    ],
  ] as Array<[string, string]>) {
    it(`takes ${prefix} on ${provider}: a number stands apart from every branch`, () => {
      expect(messages(prefix, provider).filter((m) => m.includes(" runs into "))).to.deep.equal([]);
    });
  }
});
