// The note on a delete-s3-prefix prefix keeping the head branch's "/" as folders with no field of the pull
// request before them (review h494): a payload field before them counts only when it is the route's host's
// pull request's own, and text after them that Git refuses in a branch's name leaves no branch to note.
import { expect } from "chai";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";
import { renderTemplate } from "../../../src/core/templates";
import type { WebhookEvent } from "../../../src/core/types";

function file(prefix: string, provider = "github"): string {
  return [
    "version: 1",
    `defaults: { secret: hooks/s, provider: ${provider} }`,
    `providers: { ${provider}: { token: t/gh } }`,
    "routes:",
    "  - name: cleanup",
    "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
    `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
  ].join("\n");
}

/** The notes of the branch's folders on the prefix, on a route of `provider`. */
function foldersNotes(prefix: string, provider = "github"): string[] {
  const parsed = parseRoutes(file(prefix, provider), "routes.yaml");
  expect(parsed.problems, prefix).to.deep.equal([]);
  return routeNotes(parsed.config?.routes ?? []).filter((n) => n.includes('"/" as folders'));
}

function rendered(prefix: string, number: number, headRef: string): string {
  const event = {
    provider: "github",
    deliveryId: "d-1",
    event: "pull_request",
    action: "closed",
    repo: { owner: "acme", name: "api", fullName: "acme/api", defaultBranch: "main" },
    deleted: false,
    changedFiles: [],
    payload: { repository: { full_name: "acme/api" }, sender: { login: "bob" } },
    pr: { number, merged: true, state: "closed", headRef, baseRef: "main", headSha: "0".repeat(40) },
  } as unknown as WebhookEvent;
  return renderTemplate(prefix, event, "s3-key");
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
