// A delete-s3-prefix prefix naming the pull request by a form of its head branch that is not one folder per
// branch: two pull requests' prefixes may be one, or one under the other, and closing one deletes the other's
// objects (review h486).
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";
import { renderTemplate } from "../../../src/core/templates";
import type { WebhookEvent } from "../../../src/core/types";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function file(prefix: string, provider = "github", repos = "[acme/api]"): string {
  return [
    "version: 1",
    `defaults: { secret: hooks/s, provider: ${provider} }`,
    `providers: { ${provider}: { token: t/gh } }`,
    "routes:",
    "  - name: cleanup",
    `    match: { repos: ${repos}, events: [pull_request], actions: [closed] }`,
    `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
  ].join("\n");
}

function messages(prefix: string, provider = "github", repos = "[acme/api]"): string[] {
  return parseRoutes(file(prefix, provider, repos), "routes.yaml").problems.map((p) => p.message);
}

/** The prefix a pull request of acme/api closed from `headRef` deletes under. */
function rendered(prefix: string, number: number, headRef: string): string {
  const event = {
    provider: "github",
    deliveryId: "d-1",
    event: "pull_request",
    action: "closed",
    repo: { owner: "acme", name: "api", fullName: "acme/api", defaultBranch: "main" },
    deleted: false,
    changedFiles: [],
    payload: {},
    pr: { number, merged: true, state: "closed", headRef, baseRef: "main", headSha: SHA },
  } as WebhookEvent;
  return renderTemplate(prefix, event, "s3-key");
}

/** Whether deleting under one of the two prefixes deletes objects under the other. */
function overlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

const AT = 'route "cleanup" action.steps[0].delete-s3-prefix.prefix: ';

describe("a delete-s3-prefix prefix naming the pull request by {{pr.headRef.underscored}} alone", () => {
  const message =
    `${AT}{{pr.headRef.underscored}} alone ("/" as "_") is feature_x for the pull requests from feature/x and ` +
    "feature_x: closing one deletes the other's objects; put pr-{{pr.number}}/ before it";

  it("renders feature/x's and feature_x's pull requests one prefix (what the refusal is for)", () => {
    const prefix = "{{repo.path}}/branch/{{pr.headRef.underscored}}/";
    expect(rendered(prefix, 1, "feature/x")).to.equal(rendered(prefix, 2, "feature_x"));
  });

  for (const [prefix, fix] of [
    [
      "{{repo.path}}/branch/{{pr.headRef.underscored}}/",
      "{{repo.path}}/branch/pr-{{pr.number}}/{{pr.headRef.underscored}}/",
    ],
    [
      "previews/{{ pr.headRef.underscored }}/site/",
      "previews/pr-{{pr.number}}/{{ pr.headRef.underscored }}/site/",
    ],
    // Twice is no better: both are feature_x.
    [
      "{{pr.headRef.underscored}}/{{pr.headRef.underscored}}/",
      "pr-{{pr.number}}/{{pr.headRef.underscored}}/{{pr.headRef.underscored}}/",
    ],
    // Another host's payload field renders empty.
    [
      "p/{{pr.headRef.underscored}}/{{payload.object_attributes.iid}}/",
      "p/pr-{{pr.number}}/{{pr.headRef.underscored}}/{{payload.object_attributes.iid}}/",
    ],
  ]) {
    it(`refuses ${prefix}, saying the two branches it renders alike and to put the number before the branch`, () => {
      const { config, problems } = parseRoutes(file(prefix as string), "routes.yaml");
      expect(config).to.equal(undefined);
      expect(problems.map((p) => p.message)).to.deep.equal([message]);
    });

    it(`takes ${fix}, the number before the branch, which keeps feature/x's and feature_x's pull requests apart`, () => {
      expect(messages(fix as string)).to.deep.equal([]);
      expect(
        overlap(rendered(fix as string, 1, "feature/x"), rendered(fix as string, 2, "feature_x")),
      ).to.equal(false);
    });
  }

  // Each of these tells feature/x from feature_x: a number, the branch with its "/" encoded (feature%2Fx), the
  // head commit, a payload field of the pull request itself.
  for (const prefix of [
    "{{repo.path}}/pr-{{pr.number}}/{{pr.headRef.underscored}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}/pr-{{pr.number}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}/{{pr.headRef}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}/{{pr.headSha}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}/{{payload.number}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}/{{payload.pull_request.head.ref}}/",
  ]) {
    it(`takes ${prefix}: another field of the pull request tells the two branches apart`, () => {
      expect(messages(prefix)).to.deep.equal([]);
    });
  }
});
