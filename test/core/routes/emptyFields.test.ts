import { expect } from "chai";
import { stringify } from "yaml";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";

// A field empty for every delivery of a kind the route takes (review h458): {{branch}} of a tag's create or
// delete event, {{tag}} of a pull request, {{pr.number}} of a push, a GitHub release's {{sha}}.
function said(provider: string, match: string, action: string) {
  const parsed = parseRoutes(
    `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: https://jenkins.example.com, credentials: hookgate/jenkins }
providers:
  github: { token: hookgate/gh }
  gitlab: { token: hookgate/gl }
  gitea: { token: hookgate/gt, apiUrl: https://git.example.com/api/v1 }
routes:
  - name: r
    provider: ${provider}
    match: ${match}
    action: ${action}
`,
    "routes.yaml",
  );
  return {
    problems: parsed.problems.map((p) => `${p.line}:${p.col}: ${p.message}`),
    notes: routeNotes(parsed.config?.routes ?? []),
  };
}

describe("Function: parseRoutes and routeNotes on a field empty for every delivery of a kind the route takes", () => {
  it("notes a job whose {{branch}} is empty for every tag a create route sees created (envs/ fails), not for the branches", () => {
    expect(
      said(
        "github",
        "{ repos: [acme/api], events: [create] }",
        '{ type: jenkins, job: "envs/{{branch}}", parameters: { D: "{{deliveryId}}" } }',
      ),
    ).to.deep.equal({
      problems: [],
      notes: [
        `route r: a tag's create event has no {{branch}}, so the job is "envs/" for it: the delivery fails; use {{tag}}, or narrow the route's filters`,
      ],
    });
  });

  it("notes a delete route's teardown job envs/{{branch}}/teardown, envs//teardown for every tag deleted; refuses it when the route takes tags only", () => {
    const action = '{ type: jenkins, job: "envs/{{branch}}/teardown", parameters: { D: "{{deliveryId}}" } }';
    expect(said("github", "{ repos: [acme/api], events: [delete] }", action)).to.deep.equal({
      problems: [],
      notes: [
        `route r: a tag's delete event has no {{branch}}, so the job is "envs//teardown" for it: the delivery fails; use {{tag}}, or narrow the route's filters`,
      ],
    });
    expect(
      said("github", '{ repos: [acme/api], events: [delete], tags: ["v*"] }', action).problems,
    ).to.deep.equal([
      `13:35: route "r" action.job: a tag's delete event has no {{branch}}, so the job is "envs//teardown" for it: the delivery fails (the route takes no other); use {{tag}}`,
    ]);
  });

  it("refuses a pull request route's job deploy/{{tag}}: a pull request has no tag, so every delivery would fail", () => {
    expect(
      said(
        "github",
        "{ repos: [acme/api], events: [pull_request], actions: [closed] }",
        '{ type: jenkins, job: "deploy/{{tag}}", parameters: { SHA: "{{sha}}" } }',
      ).problems,
    ).to.deep.equal([
      `13:35: route "r" action.job: a pull request has no {{tag}}, so the job is "deploy/" for it: the delivery fails (the route takes no other); use {{pr.headRef}} or {{pr.number}}`,
    ]);
  });

  it("refuses a tags-only s3-zip key with a {{pr.number}} folder, empty for every tag push", () => {
    expect(
      said(
        "github",
        '{ repos: [acme/api], events: [push], tags: ["v*"] }',
        '{ type: s3-zip, key: "{{repo.path}}/{{pr.number}}/{{tag}}.zip" }',
      ).problems,
    ).to.deep.equal([
      `13:34: route "r" action.key: a tag push has no {{pr.number}}, so the key has an empty folder ("acme/api//v1.0.0.zip"): the delivery fails (the route takes no other); use {{tag}}`,
    ]);
  });

  it("notes a release route's {{sha}} parameter on GitHub and Gitea, whose release names no commit, and not on GitLab, whose does", () => {
    const match = "{ repos: [acme/api], events: [release], actions: [published] }";
    const action = '{ type: jenkins, job: api/release, parameters: { TAG: "{{tag}}", SHA: "{{sha}}" } }';
    for (const provider of ["github", "gitea"]) {
      expect(said(provider, match, action), provider).to.deep.equal({
        problems: [],
        notes: [
          `route r: a release has no {{sha}}, so Jenkins parameter "SHA" is sent as "" for it; use {{tag}}, or narrow the route's filters`,
        ],
      });
    }
    expect(said("gitlab", match, action)).to.deep.equal({
      problems: [],
      notes: [],
    });
  });

  it("notes nothing of a field only some deliveries of a kind lack: a Gitea create's {{sha}}, a pull request's {{pr.headRef}}", () => {
    expect(
      said(
        "gitea",
        "{ repos: [acme/api], events: [create] }",
        '{ type: jenkins, job: api/new, parameters: { SHA: "{{sha}}" } }',
      ),
    ).to.deep.equal({ problems: [], notes: [] });
    expect(
      said(
        "github",
        "{ repos: [acme/api], events: [pull_request] }",
        '{ type: jenkins, job: "previews/{{pr.headRef}}", parameters: { SHA: "{{sha}}", PR: "{{pr.number}}" } }',
      ),
    ).to.deep.equal({ problems: [], notes: [] });
  });

  it("notes a parameter only when every kind the route takes sends it empty: PR on pushes, not PR beside pull requests nor TAG beside tag pushes", () => {
    const action =
      '{ type: jenkins, job: api/build, parameters: { SHA: "{{sha}}", PR: "{{pr.number}}", TAG: "{{tag}}" } }';
    expect(said("github", "{ repos: [acme/api], events: [push, pull_request] }", action)).to.deep.equal({
      problems: [],
      notes: [],
    });
    expect(said("github", "{ repos: [acme/api], events: [push] }", action).notes).to.deep.equal([
      'route r: a branch push or a tag push has no {{pr.number}}, so Jenkins parameter "PR" is sent as "" for it; use {{branch}} or {{tag}}, or narrow the route\'s filters',
    ]);
  });

  it("notes nothing of create, delete or release a route does not name in its events (a route of every event)", () => {
    expect(
      said(
        "github",
        "{ repos: [acme/api] }",
        '{ type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }',
      ),
    ).to.deep.equal({ problems: [], notes: [] });
  });

  it("keeps the tag push's own message for {{branch}}, said once", () => {
    expect(
      said(
        "github",
        "{ repos: [acme/api], events: [push] }",
        '{ type: jenkins, job: "api/{{branch}}", parameters: { SHA: "{{sha}}" } }',
      ).notes,
    ).to.deep.equal([
      `route r: a tag push has no {{branch}}: the job is "api/" for it (has an invalid segment ""), so each tag push fails; match branches only (branches: ["**"], no tags) or use {{tag}} in the job`,
    ]);
  });

  it("takes a key or job the same for every push of a one-branch route: latest{{tag}}.zip and api/deploy{{tag}} on branches [main] (review h469)", () => {
    // One branch: every push to main writes one zip, or builds one job, as latest.zip or api/deploy would.
    for (const action of [
      '{ type: s3-zip, key: "{{repo.path}}/latest{{tag}}.zip" }',
      '{ type: jenkins, job: "api/deploy{{tag}}", parameters: { S: "{{sha}}" } }',
    ]) {
      expect(
        said("github", "{ repos: [acme/api], events: [push], branches: [main] }", action),
        action,
      ).to.deep.equal({
        problems: [],
        notes: [],
      });
    }
  });

  it("notes, never refuses, a key or job the same for every push of a route of several branches, and says to drop the field, not fill {{branch}} in (review h469)", () => {
    expect(
      said(
        "github",
        "{ repos: [acme/api], events: [push], branches: [main, develop] }",
        '{ type: s3-zip, key: "{{repo.path}}/latest{{tag}}.zip" }',
      ),
    ).to.deep.equal({
      problems: [],
      notes: [
        `route r: a branch push has no {{tag}}, so the key is "acme/api/latest.zip" for each, each zip overwriting the last; drop {{tag}}, or put {{branch}} in a folder of its own, or narrow the route's filters`,
      ],
    });
    expect(
      said(
        "github",
        '{ repos: [acme/api], events: [push], branches: ["release/*"] }',
        '{ type: jenkins, job: "api/deploy{{tag}}", parameters: { S: "{{sha}}" } }',
      ),
    ).to.deep.equal({
      problems: [],
      notes: [
        `route r: a branch push has no {{tag}}, so the job is "api/deploy" for each; drop {{tag}}, or put {{branch}} in a segment of its own, or narrow the route's filters`,
      ],
    });
  });

  it("refuses a push route's key {{branch.path}}/{{tag}}: a branch push's {{tag}} folder and a tag push's {{branch.path}} folder are empty, so every push fails (review h469)", () => {
    const key = '{ type: s3-zip, key: "{{repo.path}}/{{branch.path}}/{{tag}}/source.zip" }';
    for (const match of [
      "{ repos: [acme/api], events: [push] }",
      '{ repos: [acme/api], events: [push], branches: [main], tags: ["v*"] }',
    ]) {
      expect(said("github", match, key).problems, match).to.deep.equal([
        `13:34: route "r" action.key: a branch push has no {{tag}}, so the key has an empty folder ("acme/api/main//source.zip"): the delivery fails (a tag push fails too); write {{ref}} as one folder, never empty`,
      ]);
    }
  });

  it("refuses a push route's job {{repo}}/{{branch}}/{{tag}}, whose every push fails: api/main/ for a branch's, api//v1.0.0 for a tag's (review h469)", () => {
    expect(
      said(
        "github",
        "{ repos: [acme/api], events: [push] }",
        '{ type: jenkins, job: "{{repo}}/{{branch}}/{{tag}}", parameters: { S: "{{sha}}" } }',
      ).problems,
    ).to.deep.equal([
      `13:35: route "r" action.job: a branch push has no {{tag}}, so the job is "api/main/" for it: the delivery fails (a tag push fails too); write {{branch}}{{tag}} as one segment, never empty`,
    ]);
  });

  it("keeps each problem within 300 characters after the longest location, and each note, for the longest texts it shows", () => {
    const long = "x".repeat(100);
    const lengths: number[] = [];
    for (const events of [
      ["create", "delete"],
      ["pull_request"],
      ["push"],
      ["release"],
      ["push", "create", "delete"],
    ])
      for (const repos of [["acme/api"], ["platform/**"]])
        for (const action of [
          {
            type: "jenkins",
            job: `{{repo}}${long}{{pr.headRef.underscored}}/{{tag}}${long}`,
            parameters: { ["P".repeat(60)]: `{{repo}}{{pr.headRef.underscored}}${long}` },
          },
          { type: "s3-zip", key: `{{repo.path}}/${long}/{{pr.headRef.underscored}}/${long}.zip` },
          { type: "s3-zip", key: `${long}{{pr.headRef.underscored}}${long}.zip` },
          { type: "s3-zip", key: `{{repo.path}}/{{branch.path}}/{{tag}}/${long}/${long}.zip` },
          { type: "jenkins", job: `{{repo}}${long}/{{branch}}/{{tag}}${long}`, parameters: { S: "{{sha}}" } },
        ]) {
          const text = stringify({
            version: 1,
            defaults: { secret: "hooks/s", jenkins: { url: "https://ci.example.com", credentials: "ci/c" } },
            providers: { github: { token: "t/gh" } },
            routes: [
              { name: "\\".repeat(40), match: { events, repos }, action },
              { name: "r".repeat(32), match: { events, repos }, action },
            ],
          });
          const parsed = parseRoutes(text, "routes.yaml");
          lengths.push(...parsed.problems.map((p) => `999:999: ${p.message}`.length));
          lengths.push(...routeNotes(parsed.config?.routes ?? []).map((note) => note.length));
        }
    expect(lengths).to.not.deep.equal([]);
    expect(Math.max(...lengths)).to.be.at.most(300);
  });
});

describe("Function: routeNotes on the deletions a deleted: true route takes, sampled as the matcher takes them (review h472)", () => {
  const teardown = (parameters: string) => `{ type: jenkins, job: envs/teardown, parameters: ${parameters} }`;
  const BEFORE_EMPTY =
    `route r: a branch's delete event or 1 more has no {{before}}, so Jenkins parameter "COMMIT" is sent as "" ` +
    "for it; use {{branch}} or {{tag}}, or narrow the route's filters";
  const emptyNotes = (provider: string, match: string, parameters: string) =>
    said(provider, match, teardown(parameters)).notes.filter((note) => note.includes("COMMIT"));

  it("notes COMMIT: {{before}} on a Gitea route with deleted: true and no events, which takes delete events only (no commit), as with events: [delete]", () => {
    expect(
      emptyNotes(
        "gitea",
        "{ repos: [acme/api], events: [delete], deleted: true }",
        '{ COMMIT: "{{before}}" }',
      ),
    ).to.deep.equal([BEFORE_EMPTY]);
    expect(
      emptyNotes("gitea", "{ repos: [acme/api], deleted: true }", '{ COMMIT: "{{before}}" }'),
    ).to.deep.equal([BEFORE_EMPTY]);
  });

  it('notes COMMIT: {{before}} on events [push, delete] or ["*"] with deleted: true, whose deleting push the matcher refuses', () => {
    for (const [provider, match] of [
      ["github", "{ repos: [acme/api], events: [push, delete], deleted: true }"],
      ["gitea", "{ repos: [acme/api], events: [push, delete], deleted: true }"],
      ["github", '{ repos: [acme/api], events: ["*"], deleted: true }'],
    ]) {
      expect(
        emptyNotes(provider as string, match as string, '{ COMMIT: "{{before}}" }'),
        match,
      ).to.deep.equal([BEFORE_EMPTY]);
    }
  });

  it("says nothing of a tag push on a route that takes deletions from delete events, which takes no push (review h474)", () => {
    for (const [provider, match] of [
      ["gitea", "{ repos: [acme/api], deleted: true }"],
      ["github", "{ repos: [acme/api], events: [push, delete], deleted: true }"],
      ["github", '{ repos: [acme/api], events: ["*"], deleted: true }'],
    ]) {
      const { notes, problems } = said(provider as string, match as string, teardown('{ B: "{{branch}}" }'));
      expect(problems, match).to.deep.equal([]);
      expect(
        notes.filter((note) => note.includes("a tag push")),
        match,
      ).to.deep.equal([]);
    }
  });

  it("samples the deleting push of a GitHub route with deleted: true and no events, which takes the push: {{before}} is filled, {{sha}} empty", () => {
    const match = "{ repos: [acme/api], deleted: true }";
    expect(emptyNotes("github", match, '{ COMMIT: "{{before}}" }')).to.deep.equal([]);
    expect(emptyNotes("github", match, '{ COMMIT: "{{sha}}" }')).to.deep.equal([
      `route r: a branch deletion or a tag deletion has no {{sha}}, so Jenkins parameter "COMMIT" is sent as "" ` +
        "for it; use {{branch}} or {{before}}, or narrow the route's filters",
    ]);
  });
});
