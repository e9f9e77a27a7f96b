import { expect } from "chai";
import { RequestError } from "../../../src/core/errors";
import { isPing, normaliseDelivery } from "../../../src/core/events/normalise";
import type { Provider, WebhookEvent } from "../../../src/core/types";
import { bagOf, loadPayload, PAYLOAD_FIXTURES, type PayloadFixtureName } from "../../fixtures/payloads";

/** The model without the payload, undefined fields dropped (as JSON would). */
function model(event: WebhookEvent): Record<string, unknown> {
  const { payload: _payload, ...rest } = event;
  return JSON.parse(JSON.stringify(rest));
}

function normaliseFixture(name: PayloadFixtureName): WebhookEvent {
  const fixture = loadPayload(name);
  return normaliseDelivery(fixture.provider, bagOf(fixture.headers), fixture.payload, fixture.body);
}

const codertocat = {
  owner: "Codertocat",
  name: "Hello-World",
  fullName: "Codertocat/Hello-World",
  cloneUrl: "https://github.com/Codertocat/Hello-World.git",
  defaultBranch: "master",
};
const githubPr = {
  number: 2,
  state: "closed",
  headRef: "changes",
  baseRef: "master",
  headSha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
  // The pull request's updated_at and closed_at, not its head's or base's repository's updated_at.
  updatedAt: "2019-05-15T15:21:18.000Z",
};
const diasporaMr = (action: string, merged: boolean, state: string) => ({
  provider: "gitlab",
  event: "pull_request",
  action,
  repo: {
    owner: "awesome_space",
    name: "awesome_project",
    fullName: "awesome_space/awesome_project",
    cloneUrl: "http://example.com/awesome_space/awesome_project.git",
    defaultBranch: "master",
  },
  branch: "master",
  sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  deleted: false,
  pr: {
    number: 1,
    merged,
    state,
    headRef: "ms-viewport",
    baseRef: "master",
    headSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    headRepoFullName: "awesome_space/awesome_project",
    updatedAt: "2013-12-03T17:23:34.000Z",
  },
  actor: "root",
  changedFiles: [],
});
const widgets = {
  owner: "acme-team",
  name: "widgets",
  fullName: "acme-team/widgets",
  cloneUrl: "https://bitbucket.org/acme-team/widgets.git",
  defaultBranch: "main",
};
const widgetsPr = (merged: boolean, state: string) => ({
  provider: "bitbucket",
  event: "pull_request",
  action: "closed",
  repo: widgets,
  deleted: false,
  actor: "jdeveloper",
  changedFiles: [],
  pr: {
    number: 17,
    merged,
    state,
    headRef: "bugfix/price-rounding",
    baseRef: "main",
    headSha: "e1a2b3c4d5e6",
    headRepoFullName: "acme-team/widgets",
    // updated_on "2024-05-16T08:02:47.113209+00:00", to the millisecond.
    updatedAt: "2024-05-16T08:02:47.113Z",
  },
  branch: "main",
  sha: "e1a2b3c4d5e6",
});
const payments = {
  owner: "PLAT",
  name: "payments",
  fullName: "PLAT/payments",
  cloneUrl: "https://bitbucket.acme.example/scm/plat/payments.git",
};
const terraform = {
  owner: "infra",
  name: "terraform-modules",
  fullName: "infra/terraform-modules",
  cloneUrl: "https://gitea.acme.example/infra/terraform-modules.git",
  defaultBranch: "main",
};

/** Every fixture and the model it must become (deliveryId comes from the fixture's headers). */
const EXPECTED: Record<PayloadFixtureName, Record<string, unknown>> = {
  "github/push": {
    provider: "github",
    event: "push",
    repo: codertocat,
    ref: "refs/heads/master",
    branch: "master",
    sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    before: "0000000000000000000000000000000000000000",
    deleted: false,
    actor: "Codertocat",
    changedFiles: ["README.md"],
  },
  "github/push-tag": {
    provider: "github",
    event: "push",
    repo: codertocat,
    ref: "refs/tags/simple-tag",
    tag: "simple-tag",
    sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    before: "0000000000000000000000000000000000000000",
    deleted: false,
    actor: "Codertocat",
    changedFiles: [],
  },
  "github/push-deleted-branch": {
    provider: "github",
    event: "push",
    repo: codertocat,
    ref: "refs/heads/feature/old-login",
    branch: "feature/old-login",
    before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    deleted: true,
    actor: "Codertocat",
    changedFiles: [],
  },
  "github/pull_request-closed": {
    provider: "github",
    event: "pull_request",
    action: "closed",
    repo: codertocat,
    branch: "master",
    sha: githubPr.headSha,
    deleted: false,
    actor: "Codertocat",
    changedFiles: [],
    pr: { ...githubPr, merged: false, headRepoFullName: "Codertocat/Hello-World" },
  },
  "github/pull_request-closed-merged": {
    provider: "github",
    event: "pull_request",
    action: "closed",
    repo: codertocat,
    branch: "master",
    sha: githubPr.headSha,
    deleted: false,
    actor: "Codertocat",
    changedFiles: [],
    pr: { ...githubPr, merged: true, headRepoFullName: "Codertocat/Hello-World" },
  },
  "github/pull_request-closed-merged-fork": {
    provider: "github",
    event: "pull_request",
    action: "closed",
    repo: codertocat,
    branch: "master",
    sha: githubPr.headSha,
    deleted: false,
    actor: "Codertocat",
    changedFiles: [],
    pr: { ...githubPr, merged: true, headRepoFullName: "octo-fork/Hello-World" },
  },
  "github/ping": {
    provider: "github",
    event: "ping",
    repo: {
      owner: "Octocoders",
      name: "Hello-World",
      fullName: "Octocoders/Hello-World",
      cloneUrl: "https://github.com/Octocoders/Hello-World.git",
      defaultBranch: "master",
    },
    deleted: false,
    actor: "Codertocat",
    changedFiles: [],
  },
  "gitlab/push": {
    provider: "gitlab",
    event: "push",
    repo: {
      owner: "mike",
      name: "diaspora",
      fullName: "mike/diaspora",
      cloneUrl: "http://example.com/mike/diaspora.git",
      defaultBranch: "master",
    },
    ref: "refs/heads/master",
    branch: "master",
    sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
    deleted: false,
    fastForward: true,
    actor: "jsmith",
    changedFiles: [
      "CHANGELOG",
      "app/controller/application.rb",
      "CHANGELOG",
      "app/controller/application.rb",
      "README.md",
      "doc/old.md",
    ],
  },
  "gitlab/tag_push": {
    provider: "gitlab",
    event: "push",
    repo: {
      owner: "jsmith",
      name: "example",
      fullName: "jsmith/example",
      cloneUrl: "http://example.com/jsmith/example.git",
      defaultBranch: "master",
    },
    ref: "refs/tags/v1.0.0",
    tag: "v1.0.0",
    sha: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7",
    before: "0000000000000000000000000000000000000000",
    deleted: false,
    actor: "jsmith",
    changedFiles: [],
  },
  // GitLab's "create" is GitHub's "created"; the tag is at the top level.
  "gitlab/release": {
    provider: "gitlab",
    event: "release",
    action: "created",
    repo: {
      owner: "gitlab-org",
      name: "release-webhook-example",
      fullName: "gitlab-org/release-webhook-example",
      cloneUrl: "https://example.com/gitlab-org/release-webhook-example.git",
      defaultBranch: "master",
    },
    ref: "refs/tags/v1.1",
    tag: "v1.1",
    sha: "ee0a3fb31ac16e11b9dbb596ad16d4af654d08f8",
    deleted: false,
    changedFiles: [],
  },
  "gitlab/merge_request-open": diasporaMr("opened", false, "opened"),
  "gitlab/merge_request-merge": diasporaMr("closed", true, "merged"),
  "gitlab/merge_request-close": diasporaMr("closed", false, "closed"),
  "bitbucket/repo-push": {
    provider: "bitbucket",
    event: "push",
    repo: widgets,
    ref: "refs/heads/main",
    branch: "main",
    sha: "e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4",
    before: "9fceb02d0ae598e95dc970b74767f19372d61af8",
    deleted: false,
    fastForward: true,
    actor: "jdeveloper",
    changedFiles: [],
  },
  "bitbucket/pullrequest-fulfilled": widgetsPr(true, "merged"),
  "bitbucket/pullrequest-rejected": widgetsPr(false, "declined"),
  "bitbucket-server/repo-refs_changed": {
    provider: "bitbucket-server",
    event: "push",
    repo: payments,
    ref: "refs/heads/release/2.3",
    branch: "release/2.3",
    sha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    before: "5f9d3c0e2b4a69788d1e0f2a3b4c5d6e7f809112",
    deleted: false,
    actor: "jdeveloper",
    changedFiles: [],
  },
  "bitbucket-server/pr-merged": {
    provider: "bitbucket-server",
    event: "pull_request",
    action: "closed",
    repo: payments,
    branch: "main",
    sha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    deleted: false,
    actor: "rmaintainer",
    changedFiles: [],
    pr: {
      number: 42,
      merged: true,
      state: "merged",
      headRef: "feature/settlement-retry",
      baseRef: "main",
      headSha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
      headRepoFullName: "~JDEVELOPER/payments",
      // updatedDate and closedDate, milliseconds since the epoch.
      updatedAt: "2024-05-16T08:02:47.000Z",
    },
  },
  "bitbucket-server/diagnostics-ping": {
    provider: "bitbucket-server",
    event: "ping",
    repo: { owner: "", name: "", fullName: "" },
    deleted: false,
    changedFiles: [],
  },
  "gitea/push": {
    provider: "gitea",
    event: "push",
    repo: terraform,
    ref: "refs/heads/develop",
    branch: "develop",
    sha: "bffeb74224043ba2feb48d137756c8a9331c449a",
    before: "28e1879d029cb852e4844d9c718537df08844e03",
    deleted: false,
    fastForward: true,
    actor: "jane",
    changedFiles: [
      "modules/vpc/flow_logs.tf",
      "modules/vpc/main.tf",
      "modules/vpc/README.md",
      "modules/vpc/main.tf",
      "modules/vpc/TODO.md",
    ],
  },
  "gitea/pull_request-closed-merged": {
    provider: "gitea",
    event: "pull_request",
    action: "closed",
    repo: terraform,
    branch: "main",
    sha: "bffeb74224043ba2feb48d137756c8a9331c449a",
    deleted: false,
    actor: "robin",
    changedFiles: [],
    pr: {
      number: 12,
      merged: true,
      state: "closed",
      headRef: "vpc-flow-logs",
      baseRef: "main",
      headSha: "bffeb74224043ba2feb48d137756c8a9331c449a",
      headRepoFullName: "jane/terraform-modules",
      // closed_at and updated_at, not the repositories' updated_at.
      updatedAt: "2024-05-16T08:02:47.000Z",
    },
  },
  // Gogs names no head commit: no sha, and pr.headSha empty.
  "gogs/pull_request-closed-merged": {
    provider: "gitea",
    event: "pull_request",
    action: "closed",
    repo: {
      owner: "john",
      name: "try-git",
      fullName: "john/try-git",
      cloneUrl: "http://localhost:3000/john/try-git.git",
      defaultBranch: "master",
    },
    branch: "master",
    deleted: false,
    actor: "john",
    changedFiles: [],
    pr: {
      number: 2,
      merged: true,
      state: "closed",
      headRef: "feature",
      baseRef: "master",
      headSha: "",
      headRepoFullName: "john/try-git",
    },
  },
};

describe("Function: normaliseDelivery (fixtures)", () => {
  for (const name of Object.keys(PAYLOAD_FIXTURES) as PayloadFixtureName[]) {
    it(`normaliseDelivery turns ${name} into the expected WebhookEvent`, () => {
      // Prepare
      const fixture = loadPayload(name);
      const delivery = Object.entries(fixture.headers).find(([header]) =>
        /^(x-github-delivery|x-gitlab-event-uuid|x-request-uuid|x-request-id|x-gitea-delivery|x-gogs-delivery)$/i.test(
          header,
        ),
      )?.[1];
      // Act
      const event = normaliseFixture(name);
      // Assess
      expect(model(event)).to.deep.equal({ ...EXPECTED[name], deliveryId: delivery });
    });
  }

  const renderedBeforeClose: Array<[string, Record<string, unknown>]> = [
    ["still says open", { state: "open" }],
    ["has no closed_at", { closed_at: null }],
  ];
  for (const [what, change] of renderedBeforeClose) {
    it(`normaliseDelivery gives a GitHub closing delivery whose pull request ${what} no update time (it predates the close)`, () => {
      const fixture = loadPayload("github/pull_request-closed");
      const payload = structuredClone(fixture.payload) as { pull_request: Record<string, unknown> };
      Object.assign(payload.pull_request, change);
      const body = Buffer.from(JSON.stringify(payload));
      const event = normaliseDelivery("github", bagOf(fixture.headers), payload, body);
      expect(event.pr?.updatedAt).to.equal(undefined);
      expect(
        normaliseDelivery("github", bagOf(fixture.headers), fixture.payload, fixture.body).pr?.updatedAt,
      ).to.equal(githubPr.updatedAt);
    });
  }

  it("normaliseDelivery keeps the payload by reference, not a copy", () => {
    const fixture = loadPayload("github/push");
    const event = normaliseDelivery("github", bagOf(fixture.headers), fixture.payload, fixture.body);
    expect(event.payload).to.equal(fixture.payload);
  });
});

describe("Function: normaliseDelivery (a provider the type does not have)", () => {
  it("normaliseDelivery refuses a provider outside Provider (a config that skipped validation) with an error naming it, not a 400 for the sender", () => {
    const fixture = loadPayload("github/push");
    expect(() => normaliseDelivery("svn" as Provider, bagOf(fixture.headers), fixture.payload, fixture.body))
      .to.throw(Error, /^normaliseDelivery: unknown provider "svn"/)
      .that.is.not.an.instanceOf(RequestError);
  });
});

describe("Function: normaliseDelivery (a push that changed several refs)", () => {
  const hashes = { tag: "b".repeat(40), main: "c".repeat(40), old: "a".repeat(40) };

  it("Bitbucket Cloud: the first change is the event, each further one an event of its own with the id <id>#<n>", () => {
    const payload = {
      repository: { full_name: "team/repo" },
      push: {
        changes: [
          { old: null, new: { type: "tag", name: "v1.0", target: { hash: hashes.tag } } },
          "not a change",
          {
            old: { type: "branch", name: "main", target: { hash: hashes.old } },
            new: { type: "branch", name: "main", target: { hash: hashes.main } },
          },
        ],
      },
    };
    const headers = bagOf({ "X-Event-Key": "repo:push", "X-Request-UUID": "{u-1}" });
    const event = normaliseDelivery("bitbucket", headers, payload, Buffer.from(JSON.stringify(payload)));
    expect([event.deliveryId, event.ref, event.sha]).to.deep.equal(["{u-1}", "refs/tags/v1.0", hashes.tag]);
    // Numbered by their place in push.changes: the entry that is not a change is skipped, not renumbered.
    expect(event.otherChanges?.map((e) => [e.deliveryId, e.ref, e.branch, e.sha, e.before])).to.deep.equal([
      ["{u-1}#3", "refs/heads/main", "main", hashes.main, hashes.old],
    ]);
    expect(event.otherChanges?.[0]).to.deep.include({ event: "push", repo: event.repo, deleted: false });
    expect(event.otherChanges?.[0]?.otherChanges).to.equal(undefined);
  });

  it("Bitbucket Data Center: each entry of changes, deletions included", () => {
    const payload = {
      eventKey: "repo:refs_changed",
      repository: { slug: "api", project: { key: "ACME" } },
      changes: [
        { refId: "refs/heads/main", fromHash: hashes.old, toHash: hashes.main, type: "UPDATE" },
        { refId: "refs/heads/old", fromHash: hashes.old, toHash: "0".repeat(40), type: "DELETE" },
      ],
    };
    const headers = bagOf({ "X-Event-Key": "repo:refs_changed", "X-Request-Id": "r-9" });
    const event = normaliseDelivery(
      "bitbucket-server",
      headers,
      payload,
      Buffer.from(JSON.stringify(payload)),
    );
    expect([event.ref, event.deleted]).to.deep.equal(["refs/heads/main", false]);
    expect(event.otherChanges?.map((e) => [e.deliveryId, e.ref, e.deleted, e.sha])).to.deep.equal([
      ["r-9#2", "refs/heads/old", true, undefined],
    ]);
  });

  it("a push of one ref has no otherChanges, as before", () => {
    expect(normaliseFixture("bitbucket/repo-push").otherChanges).to.equal(undefined);
    expect(normaliseFixture("bitbucket-server/repo-refs_changed").otherChanges).to.equal(undefined);
  });
});

describe("Function: isPing", () => {
  const cases: Array<
    [string, Parameters<typeof normaliseDelivery>[0], Record<string, string>, unknown, boolean]
  > = [
    ["a GitHub ping", "github", { "X-GitHub-Event": "ping" }, loadPayload("github/ping").payload, true],
    ["a Gitea ping", "gitea", { "X-Gitea-Event": "ping" }, { zen: "z" }, true],
    [
      "a Bitbucket Data Center diagnostics:ping",
      "bitbucket-server",
      { "X-Event-Key": "diagnostics:ping" },
      loadPayload("bitbucket-server/diagnostics-ping").payload,
      true,
    ],
    ["a GitHub push", "github", { "X-GitHub-Event": "push" }, loadPayload("github/push").payload, false],
    [
      "a GitLab Pipeline Hook",
      "gitlab",
      { "X-Gitlab-Event": "Pipeline Hook" },
      { object_kind: "pipeline" },
      false,
    ],
  ];
  for (const [title, provider, headers, payload, expected] of cases) {
    it(`isPing is ${expected} for ${title}`, () => {
      const event = normaliseDelivery(
        provider,
        bagOf(headers),
        payload,
        Buffer.from(JSON.stringify(payload)),
      );
      expect(isPing(event)).to.equal(expected);
    });
  }
});
