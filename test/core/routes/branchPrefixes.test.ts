// A delete-s3-prefix prefix naming the pull request by a form of its head branch that is not one folder per
// branch: two pull requests' prefixes may be one, or one under the other, and closing one deletes the other's
// objects (review h486). Refused where any two such branches do it; noted where a branch named after the
// prefix's text does.
import { expect } from "chai";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";
import { cleanupPrefixProblems, cleanupRoutesFile, renderedCleanupPrefix } from "../../support/cleanupPrefix";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function messages(prefix: string, provider = "github", repos = "[acme/api]"): string[] {
  return cleanupPrefixProblems(prefix, provider, repos);
}

/** The prefix a pull request of acme/api closed from `headRef` deletes under. */
function rendered(prefix: string, number: number, headRef: string): string {
  return renderedCleanupPrefix(prefix, { number, headRef, headSha: SHA });
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
      const { config, problems } = parseRoutes(cleanupRoutesFile(prefix as string), "routes.yaml");
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

describe("a delete-s3-prefix prefix ending with the head branch's folders, {{pr.headRef.path}}/", () => {
  const message =
    `${AT}{{pr.headRef.path}}/ ends the prefix, the branch's "/" as folders: closing the pull request from feature ` +
    "deletes under feature/, where feature/login's objects are; put pr-{{pr.number}}/ before it";

  it("renders the prefix of the pull request from feature/login under the one from feature (what the refusal is for)", () => {
    const prefix = "{{repo.path}}/branch/{{pr.headRef.path}}/";
    expect(rendered(prefix, 1, "feature")).to.equal("acme/api/branch/feature/");
    expect(rendered(prefix, 2, "feature/login").startsWith(rendered(prefix, 1, "feature"))).to.equal(true);
  });

  for (const [prefix, fix] of [
    [
      "{{repo.path}}/branch/{{pr.headRef.path}}/",
      "{{repo.path}}/branch/pr-{{pr.number}}/{{pr.headRef.path}}/",
    ],
    ["previews/{{ pr.headRef.path }}/", "previews/pr-{{pr.number}}/{{ pr.headRef.path }}/"],
    // The base branch is shared by every pull request into it.
    ["{{branch}}/{{pr.headRef.path}}/", "{{branch}}/pr-{{pr.number}}/{{pr.headRef.path}}/"],
    // Another host's payload field renders empty.
    ["p/{{payload.object_attributes.iid}}/{{pr.headRef.path}}/", "p/pr-{{pr.number}}/{{pr.headRef.path}}/"],
  ]) {
    it(`refuses ${prefix}, saying whose objects closing the pull request from feature deletes, and to put the number before the branch`, () => {
      const { config, problems } = parseRoutes(cleanupRoutesFile(prefix as string), "routes.yaml");
      expect(config).to.equal(undefined);
      expect(problems.map((p) => p.message)).to.deep.equal([message]);
    });

    it(`takes ${fix}, the number before the branch, which keeps feature's and feature/login's pull requests apart, and notes nothing of its folders`, () => {
      const parsed = parseRoutes(cleanupRoutesFile(fix as string), "routes.yaml");
      expect(parsed.problems).to.deep.equal([]);
      expect(
        routeNotes(parsed.config?.routes ?? []).filter((n) => n.includes('"/" as folders')),
      ).to.deep.equal([]);
      expect(
        overlap(rendered(fix as string, 1, "feature"), rendered(fix as string, 2, "feature/login")),
      ).to.equal(false);
    });
  }

  // Each needs a branch named after the text that follows, or two pull requests with one head commit: a route
  // may have deployed one, so check notes them (below) and takes them.
  const noted: Array<[string, string]> = [
    // feature #1 is feature/pr-1/, and feature/pr-1/x #2 is feature/pr-1/x/pr-2/.
    [
      "{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/",
      "closing the pull request from feature deletes under feature/pr-1/, where the objects of one from feature/pr-1/x are",
    ],
    [
      "{{repo.path}}/{{pr.headRef.path}}/site/",
      "closing the pull request from feature deletes under feature/site/, where the objects of one from feature/site/x are",
    ],
    [
      "{{repo.path}}/{{pr.headRef.path}}-preview/",
      "closing the pull request from feature deletes under feature-preview/, where the objects of one from feature-preview/x are",
    ],
    [
      "{{repo.path}}/{{pr.headRef.path}}/{{pr.headSha}}/",
      "a branch named as feature's folders and the text after them continue has its objects under the prefix " +
        "of the pull request from feature, whose closing deletes them",
    ],
  ];
  for (const [prefix, example] of noted) {
    it(`takes ${prefix} and notes the branch its prefix holds another's under`, () => {
      const parsed = parseRoutes(cleanupRoutesFile(prefix), "routes.yaml");
      expect(parsed.problems).to.deep.equal([]);
      expect(
        routeNotes(parsed.config?.routes ?? []).filter((n) => n.includes('"/" as folders')),
      ).to.deep.equal([
        `route cleanup: delete-s3-prefix's prefix keeps the head branch's "/" as folders ({{pr.headRef.path}}) ` +
          `with no {{pr.number}} before them: ${example} (a fork's branch, or one made after feature was ` +
          'deleted); put pr-{{pr.number}}/ before the branch ("{{repo.path}}/pr-{{pr.number}}/{{pr.headRef.path}}/")',
      ]);
    });
  }

  it("gives examples that are so: the prefix of the pull request from the branch it names is under the one from feature", () => {
    for (const [prefix, other] of [
      ["{{repo.path}}/{{pr.headRef.path}}/pr-{{pr.number}}/", "feature/pr-1/x"],
      ["{{repo.path}}/{{pr.headRef.path}}/site/", "feature/site/x"],
      ["{{repo.path}}/{{pr.headRef.path}}-preview/", "feature-preview/x"],
    ]) {
      expect(rendered(prefix as string, 2, other as string), prefix).to.satisfy((text: string) =>
        text.startsWith(rendered(prefix as string, 1, "feature")),
      );
    }
  });

  // A field of the pull request before the branch's folders: a number ended there, or the branch in a form
  // whose text differs for feature and feature/login, keeps every other pull request's prefix from starting
  // with this one's; its head commit, unless both have one head commit (as {{pr.headSha}} alone).
  for (const prefix of [
    "{{repo.path}}/pr-{{pr.number}}/{{pr.headRef.path}}/",
    "{{repo.path}}/{{pr.number}}-{{pr.headRef.path}}/",
    "{{repo.path}}/{{pr.headRef.underscored}}/{{pr.headRef.path}}/",
    "{{repo.path}}/{{pr.headRef}}/{{pr.headRef.path}}/",
    "{{repo.path}}/{{pr.headSha}}/{{pr.headRef.path}}/",
  ]) {
    it(`takes ${prefix} and notes nothing of its folders`, () => {
      const parsed = parseRoutes(cleanupRoutesFile(prefix), "routes.yaml");
      expect(parsed.problems).to.deep.equal([]);
      expect(
        routeNotes(parsed.config?.routes ?? []).filter((n) => n.includes('"/" as folders')),
      ).to.deep.equal([]);
    });
  }

  it("renders no prefix under another's, for two pull requests from branches that start alike, with a number or another form of the branch before the folders", () => {
    const branches = ["feature", "feature/login", "feature/feature", "feature_login", "feature/pr-1", "pr-1"];
    for (const prefix of [
      "{{repo.path}}/pr-{{pr.number}}/{{pr.headRef.path}}/",
      "{{repo.path}}/{{pr.number}}-{{pr.headRef.path}}/",
      "{{repo.path}}/{{pr.headRef.underscored}}/{{pr.headRef.path}}/",
      "{{repo.path}}/{{pr.headRef}}/{{pr.headRef.path}}/",
    ]) {
      branches.forEach((one, i) => {
        branches.forEach((other, j) => {
          if (i === j) return;
          const a = rendered(prefix, i + 1, one);
          const b = rendered(prefix, j + 1, other);
          expect(overlap(a, b), `${a} ${b}`).to.equal(false);
        });
      });
    }
  });
});
