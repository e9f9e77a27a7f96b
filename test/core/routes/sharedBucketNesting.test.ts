// The GitLab rule that {{repo.path}} in a delete-s3-prefix prefix ends its folder, judged over every GitLab route
// that cleans the same bucket: one route's acme/web !1 deletes under previews/acme/web-pr-1/, which holds another
// route's acme/web-pr-1/x !2 (previews/acme/web-pr-1/x-pr-2/), though each route's repos is of one depth.
import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";
import { renderedCleanupPrefix } from "../../support/cleanupPrefix";

const PREFIX = "previews/{{repo.path}}-pr-{{pr.number}}/";

interface CleanupRoute {
  name: string;
  repos: string;
  bucket?: string;
  prefix?: string;
  provider?: string;
}

/** routes.yaml with pr-cleanup routes each deleting under one prefix. */
function routesFile(routes: CleanupRoute[]): string {
  return [
    "version: 1",
    "defaults: { secret: hooks/s, provider: gitlab }",
    "providers: { gitlab: { token: t/gl }, github: { token: t/gh } }",
    "routes:",
    ...routes.flatMap((route) => [
      `  - name: ${route.name}`,
      ...(route.provider === undefined ? [] : [`    provider: ${route.provider}`]),
      `    match: { repos: ${route.repos}, events: [pull_request], actions: [closed] }`,
      "    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: " +
        `{ bucket: ${route.bucket ?? "previews"}, prefix: "${route.prefix ?? PREFIX}" } }] }`,
    ]),
  ].join("\n");
}

function problems(routes: CleanupRoute[]): string[] {
  return parseRoutes(routesFile(routes), "routes.yaml").problems.map((p) => p.message);
}

describe("GitLab text after {{repo.path}} in its folder, over the routes cleaning one bucket", () => {
  it("renders acme/web !1's prefix as a folder holding acme/web-pr-1/x !2's: the collision the rule prevents", () => {
    const web = renderedCleanupPrefix(PREFIX, { number: 1, headRef: "fix", provider: "gitlab" }).replace(
      "acme/api",
      "acme/web",
    );
    const nested = renderedCleanupPrefix(PREFIX, { number: 2, headRef: "fix", provider: "gitlab" }).replace(
      "acme/api",
      "acme/web-pr-1/x",
    );
    expect(web).to.equal("previews/acme/web-pr-1/");
    expect(nested.startsWith(web)).to.equal(true);
  });

  it("refuses the prefix on both routes when one takes acme/* and another acme/*/* in the same bucket, naming the other", () => {
    const found = problems([
      { name: "shallow", repos: '["acme/*"]' },
      { name: "deep", repos: '["acme/*/*"]' },
    ]);
    expect(found).to.have.length(2);
    expect(found[0]).to.match(/^route "shallow" .*text follows \{\{repo\.path\}\} in its folder/);
    expect(found[0]).to.include('route "deep"\'s projects (same bucket) may be under the prefix');
    expect(found[0]).to.include("write 'previews/{{repo.path}}/pr-{{pr.number}}/'");
    expect(found[1]).to.match(/^route "deep" .*text follows \{\{repo\.path\}\} in its folder/);
    expect(found[1]).to.include('route "shallow"\'s projects (same bucket) may be under the prefix');
  });

  it("refuses the prefix on a one-project route whose project another route's subgroup projects may be under", () => {
    const found = problems([
      { name: "web", repos: "[acme/web]" },
      { name: "deep", repos: '["acme/*/*"]' },
    ]);
    expect(found).to.have.length(2);
    expect(found[0]).to.match(/^route "web" .*text follows \{\{repo\.path\}\} in its folder/);
    expect(found[1]).to.match(/^route "deep" .*text follows \{\{repo\.path\}\} in its folder/);
  });

  // A merge request id unique across the host renders no two prefixes alike, yet one may hold another.
  const ID_PREFIX = "previews/{{repo.path}}-{{payload.object_attributes.id}}/";

  it("renders acme/web's merge request id 1 as a folder holding acme/web-1/x's id 2: a unique id does not keep them apart", () => {
    const render = (repo: string, id: number) =>
      renderedCleanupPrefix(ID_PREFIX, {
        repo,
        number: 5,
        headRef: "fix",
        provider: "gitlab",
        payload: { object_attributes: { id } },
      });
    expect(render("acme/web", 1)).to.equal("previews/acme/web-1/");
    expect(render("acme/web-1/x", 2)).to.equal("previews/acme/web-1/x-2/");
  });

  it("refuses a prefix with the unique id after {{repo.path}} in its folder on both routes when one takes acme/* and another acme/*/* in the same bucket", () => {
    const found = problems([
      { name: "shallow", repos: '["acme/*"]', prefix: ID_PREFIX },
      { name: "deep", repos: '["acme/*/*"]', prefix: ID_PREFIX },
    ]);
    expect(found).to.have.length(2);
    expect(found[0]).to.match(/^route "shallow" .*text follows \{\{repo\.path\}\} in its folder/);
    expect(found[0]).to.include('route "deep"\'s projects (same bucket) may be under the prefix');
    // The fix, clipped to keep within the 300 characters beside the other route's name.
    expect(found[0]).to.include("write 'previews/{{repo.path}}/{{payload.object_attribut…'");
    expect(found[1]).to.include('route "shallow"\'s projects (same bucket) may be under the prefix');
    expect(problems([{ name: "shallow", repos: '["acme/*"]', prefix: ID_PREFIX }])).to.deep.equal([]);
  });

  // [what, the routes] each accepted: no route's prefix can hold another's project.
  const accepted: Array<[string, CleanupRoute[]]> = [
    ["one route alone on acme/*", [{ name: "shallow", repos: '["acme/*"]' }]],
    [
      "two routes of one depth (acme/* and other/*)",
      [
        { name: "a", repos: '["acme/*"]' },
        { name: "b", repos: '["other/*"]' },
      ],
    ],
    [
      "acme/* and acme/*/* in different buckets",
      [
        { name: "shallow", repos: '["acme/*"]' },
        { name: "deep", repos: '["acme/*/*"]', bucket: "previews-deep" },
      ],
    ],
    [
      "acme/* and acme/*/* under literal folders neither of which starts the other",
      [
        { name: "shallow", repos: '["acme/*"]', prefix: "web/{{repo.path}}-pr-{{pr.number}}/" },
        { name: "deep", repos: '["acme/*/*"]', prefix: "docs/{{repo.path}}-pr-{{pr.number}}/" },
      ],
    ],
    [
      "acme/* and acme/*/* each with a / after {{repo.path}}",
      [
        { name: "shallow", repos: '["acme/*"]', prefix: "previews/{{repo.path}}/pr-{{pr.number}}/" },
        { name: "deep", repos: '["acme/*/*"]', prefix: "previews/{{repo.path}}/pr-{{pr.number}}/" },
      ],
    ],
    [
      "a GitLab acme/* route beside a GitHub route in the same bucket (GitHub's rule is its own)",
      [
        { name: "shallow", repos: '["acme/*"]' },
        { name: "hub", repos: '["acme/*"]', provider: "github" },
      ],
    ],
  ];
  for (const [what, routes] of accepted) {
    it(`takes each route's prefix on ${what}`, () => {
      expect(problems(routes)).to.deep.equal([]);
    });
  }

  it("keeps the message within 300 characters with two 40-character escaped route names", () => {
    const found = problems([
      { name: `"${"\\\\".repeat(40)}"`, repos: '["acme/*"]' },
      { name: `"${"\\\\".repeat(39)}x"`, repos: '["acme/*/*"]' },
    ]);
    const nested = found.filter((message) => message.includes("text follows {{repo.path}} in its folder"));
    expect(nested).to.have.length(2);
    for (const message of nested) {
      expect(message).to.include("'s projects (same bucket) may be under the prefix");
      expect(message).to.include("write 'previews/{{repo.path}}/pr-{{pr.number}}/'");
      expect(message.length).to.be.below(300);
    }
  });
});
