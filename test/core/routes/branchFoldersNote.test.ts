// The note on a delete-s3-prefix prefix keeping the head branch's "/" as folders with no field of the pull
// request before them (review h494): a payload field before them counts only when it is the route's host's
// pull request's own, and text after them that Git refuses in a branch's name leaves no branch to note.
import { expect } from "chai";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";
import { cleanupRoutesFile, renderedCleanupPrefix } from "../../support/cleanupPrefix";

/** The notes of the branch's folders on the prefix, on a route of `provider`. */
function foldersNotes(prefix: string, provider = "github"): string[] {
  const parsed = parseRoutes(cleanupRoutesFile(prefix, provider), "routes.yaml");
  expect(parsed.problems, prefix).to.deep.equal([]);
  return routeNotes(parsed.config?.routes ?? []).filter((n) => n.includes('"/" as folders'));
}

function rendered(prefix: string, number: number, headRef: string): string {
  const payload = { repository: { full_name: "acme/api" }, sender: { login: "bob" } };
  return renderedCleanupPrefix(prefix, { number, headRef, payload });
}

describe("the branch-folders note and a payload field before the branch", () => {
  for (const [prefix, other] of <Array<[string, string]>>[
    ["{{payload.repository.full_name}}/{{pr.headRef.path}}/pr-{{pr.number}}/", "feature/pr-1/x"],
    ["previews/{{payload.sender.login}}/{{pr.headRef.path}}/site/", "feature/site/x"],
  ]) {
    it(`notes ${prefix}: a payload field every pull request of the repository shares keeps none apart`, () => {
      expect(rendered(prefix, 2, other).startsWith(rendered(prefix, 1, "feature"))).to.equal(true);
      expect(foldersNotes(prefix)).to.have.length(1);
    });
  }

  it("notes a GitLab prefix starting with the project's full name from the payload", () => {
    expect(
      foldersNotes("{{payload.project.path_with_namespace}}/{{pr.headRef.path}}/pr-{{pr.number}}/", "gitlab"),
    ).to.have.length(1);
  });

  for (const [prefix, provider] of <Array<[string, string]>>[
    ["{{repo.path}}/{{payload.pull_request.number}}/{{pr.headRef.path}}/site/", "github"],
    ["{{repo.path}}/{{payload.object_attributes.iid}}/{{pr.headRef.path}}/site/", "gitlab"],
    ["{{repo.path}}/{{payload.pullrequest.id}}/{{pr.headRef.path}}/site/", "bitbucket"],
  ]) {
    it(`notes nothing of ${prefix} on ${provider}: the host's pull request number is before the branch`, () => {
      expect(foldersNotes(prefix, provider)).to.deep.equal([]);
    });
  }
});

describe("the branch-folders note and text after the branch that no branch's name can hold", () => {
  for (const prefix of [
    "{{repo.path}}/{{pr.headRef.path}}/.preview/",
    "{{repo.path}}/{{pr.headRef.path}}~preview/",
    "{{repo.path}}/{{pr.headRef.path}}/a..b/",
    "{{repo.path}}/{{pr.headRef.path}}/x:y/",
    "{{repo.path}}/{{pr.headRef.path}}.lock/",
    "{{repo.path}}/{{pr.headRef.path}}/.{{pr.headSha}}/",
  ]) {
    it(`notes nothing of ${prefix}: only a branch Git refuses could put its prefix under feature's`, () => {
      expect(foldersNotes(prefix)).to.deep.equal([]);
    });
  }

  for (const prefix of [
    "{{repo.path}}/{{pr.headRef.path}}/preview/",
    "{{repo.path}}/{{pr.headRef.path}}.preview/",
    "{{repo.path}}/{{pr.headRef.path}}/a.lock.b/",
  ]) {
    it(`notes ${prefix}: a branch may continue its text`, () => {
      expect(foldersNotes(prefix)).to.have.length(1);
    });
  }
});
