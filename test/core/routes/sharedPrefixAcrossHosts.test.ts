// Two pr-cleanup routes of different hosts deleting under one prefix template in one bucket: each host numbers its
// own pull requests, so GitHub's acme/web #1 and GitLab's acme/web !1 (a mirror, say) render one prefix, and
// closing one deletes the other's objects. check notes it (review h509's leftover), as it takes two routes of one
// host that may render alike.
import { expect } from "chai";
import { routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";
import { renderedCleanupPrefix } from "../../support/cleanupPrefix";

const PREFIX = "previews/{{repo.path}}/pr-{{pr.number}}/";

interface CleanupRoute {
  name: string;
  provider: string;
  repos: string;
  bucket?: string;
  prefix?: string;
}

/** routes.yaml with pr-cleanup routes each deleting under one prefix, and its problems and notes. */
function check(routes: CleanupRoute[]): { problems: string[]; notes: string[] } {
  const parsed = parseRoutes(
    [
      "version: 1",
      "defaults: { secret: hooks/s }",
      "providers:",
      "  github: { token: t/gh }",
      "  gitlab: { token: t/gl }",
      '  gitea: { token: t/gt, apiUrl: "https://git.example.com/api/v1" }',
      "routes:",
      ...routes.flatMap((route) => [
        `  - name: ${route.name}`,
        `    provider: ${route.provider}`,
        `    match: { repos: ${route.repos}, events: [pull_request], actions: [closed] }`,
        "    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: " +
          `{ bucket: ${route.bucket ?? "previews"}, prefix: "${route.prefix ?? PREFIX}" } }] }`,
      ]),
    ].join("\n"),
    "routes.yaml",
  );
  return {
    problems: parsed.problems.map((p) => p.message),
    notes: routeNotes(parsed.config?.routes ?? []).filter((note) => note.includes("of another host")),
  };
}

describe("Function: routeNotes on delete-s3-prefix prefixes shared by routes of different hosts in one bucket", () => {
  it("renders GitHub's acme/web #1 and GitLab's acme/web !1 as one prefix: the collision the note is about", () => {
    const pullRequest = { repo: "acme/web", number: 1, headRef: "fix" };
    const github = renderedCleanupPrefix(PREFIX, { ...pullRequest, provider: "github" });
    expect(github).to.equal("previews/acme/web/pr-1/");
    expect(renderedCleanupPrefix(PREFIX, { ...pullRequest, provider: "gitlab" })).to.equal(github);
  });

  it("notes, on the later route and naming the earlier, a GitHub and a GitLab route with one prefix in one bucket; refuses neither", () => {
    expect(
      check([
        { name: "hub", provider: "github", repos: '["acme/*"]' },
        { name: "lab", provider: "gitlab", repos: '["acme/*"]' },
      ]),
    ).to.deep.equal({
      problems: [],
      notes: [
        `route lab: delete-s3-prefix's prefix "previews/{{repo.path}}/pr-{{pr.number}}/" in bucket "previews" is ` +
          "also route hub's, of another host: each host numbers its own pull requests, so a repository of one " +
          "name on both (a mirror, say) has one prefix for two pull requests (GitHub's acme/web #1 and GitLab's " +
          `are both "previews/acme/web/pr-1/"), and closing one deletes the other's objects; start each host's ` +
          "prefix with a folder of its own ('gitlab/previews/{{repo.path}}/pr-{{pr.number}}/')",
      ],
    });
  });

  it("notes one-repository routes of two hosts whose prefix names no repository: their pull requests of one number share it", () => {
    const { notes } = check([
      { name: "hub", provider: "github", repos: "[acme/api]", prefix: "previews/pr-{{pr.number}}/" },
      { name: "tea", provider: "gitea", repos: "[other/web]", prefix: "previews/pr-{{ pr.number }}/" },
    ]);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^route tea: .* is also route hub's, of another host: /);
    expect(notes[0]).to.include("so pull requests of one number, one on each, may have one prefix");
    expect(notes[0]).to.include(`are both "previews/pr-1/"`);
  });

  // [what, the routes]: no note.
  const unnoted: Array<[string, CleanupRoute[]]> = [
    [
      "two routes of one host",
      [
        { name: "a", provider: "github", repos: '["acme/*"]' },
        { name: "b", provider: "github", repos: '["other/*"]' },
      ],
    ],
    [
      "two hosts in different buckets",
      [
        { name: "hub", provider: "github", repos: '["acme/*"]' },
        { name: "lab", provider: "gitlab", repos: '["acme/*"]', bucket: "previews-lab" },
      ],
    ],
    [
      "two hosts with different prefixes",
      [
        { name: "hub", provider: "github", repos: '["acme/*"]' },
        {
          name: "lab",
          provider: "gitlab",
          repos: '["acme/*"]',
          prefix: "previews/{{repo.path}}/mr-{{pr.number}}/",
        },
      ],
    ],
    [
      "two hosts whose repos name different owners, with the full name in the prefix",
      [
        { name: "hub", provider: "github", repos: '["acme/*"]' },
        { name: "lab", provider: "gitlab", repos: '["platform/**", "!acme/x"]' },
      ],
    ],
    [
      "two hosts with a payload field of their own in the prefix (a URL holds the host)",
      [
        {
          name: "hub",
          provider: "github",
          repos: '["acme/*"]',
          prefix: "p/{{payload.pull_request.html_url}}/",
        },
        {
          name: "tea",
          provider: "gitea",
          repos: '["acme/*"]',
          prefix: "p/{{payload.pull_request.html_url}}/",
        },
      ],
    ],
  ];
  for (const [what, routes] of unnoted) {
    it(`notes nothing of another host for ${what}`, () => {
      expect(check(routes)).to.deep.equal({ problems: [], notes: [] });
    });
  }
});
