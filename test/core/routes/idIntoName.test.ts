// A pull request id unique across the host (GitHub's and Gitea's payload.pull_request.id, GitLab's
// payload.object_attributes.id) tells two repositories' pull requests apart in a delete-s3-prefix prefix only
// where its digits do not run into the repository's name: previews/{{repo.path}}{{payload.pull_request.id}}/ is
// previews/acme/web12/ for acme/web's id 12 and acme/web1's id 2 (review h521).
import { expect } from "chai";
import { stringify } from "yaml";
import { parseRoutes } from "../../../src/core/routes/parse";
import { cleanupPrefixProblems, renderedCleanupPrefix } from "../../support/cleanupPrefix";

/** The prefix a pull request with that host-wide id renders, in that repository. */
function rendered(prefix: string, repo: string, id: number, provider = "github"): string {
  const payload = provider === "gitlab" ? { object_attributes: { id } } : { pull_request: { id } };
  return renderedCleanupPrefix(prefix, { repo, number: 3, headRef: "x", provider, payload });
}

describe("a pull request id unique across the host, run into the repository's name, in a delete-s3-prefix prefix", () => {
  // [prefix, provider, repos, two pull requests it renders alike, the message's start]
  const refused: Array<[string, string, string, [string, number], [string, number], string]> = [
    [
      "previews/{{repo.path}}{{payload.pull_request.id}}/",
      "github",
      '["acme/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo.path}}: a/b's id 12 and a/b1's id 2 are both a/b12; closing " +
        "one deletes both; write 'previews/{{repo.path}}/{{payload.pull_request.id}}/'",
    ],
    [
      "previews/{{repo.path}}{{payload.pull_request.id}}/",
      "gitea",
      '["**"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo.path}}: a/b's id 12",
    ],
    [
      "previews/{{repo.path}}{{payload.object_attributes.id}}/",
      "gitlab",
      '["acme/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.object_attributes.id}} runs into {{repo.path}}: a/b's id 12 and a/b1's id 2 are both a/b12; " +
        "closing one deletes both; write 'previews/{{repo.path}}/{{payload.object_attributes.id}}/'",
    ],
    [
      "previews/{{repo.path}}7{{payload.pull_request.id}}/",
      "github",
      '["*/*"]',
      ["acme/web", 172],
      ["acme/web71", 2],
      "{{payload.pull_request.id}} runs into {{repo.path}}, digits D between: a/b's id 1D2 and a/bD1's id 2 " +
        "are both a/bD1D2",
    ],
    [
      "previews/{{payload.pull_request.id}}{{repo.path}}/",
      "github",
      '["*/*"]',
      ["2acme/web", 1],
      ["acme/web", 12],
      "{{payload.pull_request.id}} runs into {{repo.path}}: 2a/b's id 1 and a/b's id 12 are both 12a/b; " +
        "closing one deletes both; write 'previews/{{payload.pull_request.id}}/{{repo.path}}/'",
    ],
    [
      "previews/{{repo}}{{payload.pull_request.id}}/",
      "github",
      '["acme/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo}}: b's id 12 and b1's id 2 are both b12",
    ],
    [
      "previews/{{payload.pull_request.id}}{{repo}}/",
      "github",
      '["acme/*"]',
      ["acme/2web", 1],
      ["acme/web", 12],
      "{{payload.pull_request.id}} runs into {{repo}}: 2b's id 1 and b's id 12 are both 12b",
    ],
    [
      "previews/{{owner}}{{payload.pull_request.id}}/",
      "github",
      '["*/*"]',
      ["acme/web", 12],
      ["acme1/web", 2],
      "{{payload.pull_request.id}} runs into {{owner}}: a's id 12 and a1's id 2 are both a12",
    ],
    [
      "previews/{{repo.fullName}}{{payload.pull_request.id}}/",
      "github",
      '["*/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo.fullName}}: a%2Fb's id 12 and a%2Fb1's id 2 are both a%2Fb12",
    ],
    [
      "previews/{{ repo.underscored }}{{payload.pull_request.id}}/",
      "github",
      '["*/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo.underscored}}: a_b's id 12",
    ],
    // Beside fields two repositories' pull requests may share: the number, the head branch, the title.
    [
      "previews/{{repo.path}}{{payload.pull_request.id}}/{{pr.number}}-{{pr.headRef}}/{{payload.pull_request.title}}/",
      "github",
      '["*/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo.path}}: a/b's id 12",
    ],
    // The owner, the same in both, holds no part of the name that runs into the id.
    [
      "previews/{{repo.path}}{{payload.pull_request.id}}/{{owner}}/",
      "github",
      '["*/*"]',
      ["acme/web", 12],
      ["acme/web1", 2],
      "{{payload.pull_request.id}} runs into {{repo.path}}: a/b's id 12",
    ],
  ];
  for (const [prefix, provider, repos, one, other, message] of refused) {
    it(`refuses ${prefix} on ${provider} repos ${repos}: ${one.join(" id ")} and ${other.join(" id ")} render one prefix`, () => {
      expect(rendered(prefix, ...one, provider)).to.equal(rendered(prefix, ...other, provider));
      const problems = cleanupPrefixProblems(prefix, provider, repos);
      expect(problems.filter((p) => p.includes("delete-s3-prefix.prefix"))).to.have.length(1);
      expect(problems.find((p) => p.includes("delete-s3-prefix.prefix"))).to.include(
        `route "cleanup" action.steps[0].delete-s3-prefix.prefix: ${message}`,
      );
    });
  }

  it("the fix each message writes, where it is whole, is taken; a long one is clipped", () => {
    let whole = 0;
    for (const [prefix, provider, repos] of refused) {
      const problem = cleanupPrefixProblems(prefix, provider, repos).find((p) => p.includes("; write '"));
      const fix = /; write '(.*)'$/.exec(problem ?? "")?.[1] as string;
      // With digits between, or beside three more fields, the fix has less room (clipped after "/").
      if (fix.endsWith("…")) {
        expect(fix, prefix).to.match(/^previews\/\{\{repo\.path\}\}\/(7)?\{\{payload.*…$/);
        continue;
      }
      whole += 1;
      expect(fix, prefix).to.match(/\/$/);
      expect(cleanupPrefixProblems(fix, provider, repos).filter((p) => p.includes("prefix:"))).to.deep.equal(
        [],
      );
    }
    expect(whole).to.equal(refused.length - 2);
  });

  // [prefix, provider, repos]: the id stands apart from the name, or something else tells the repositories apart.
  const taken: Array<[string, string, string]> = [
    // A non-digit between them ends the id where the name ends: a/b-1-2 is a/b-1's id 2 alone ("1-2" is no id).
    ["previews/{{repo.path}}-{{payload.pull_request.id}}/", "github", '["acme/*"]'],
    ["previews/{{repo}}-{{payload.pull_request.id}}/", "github", '["*/*"]'],
    ["previews/{{payload.pull_request.id}}-{{repo.path}}/", "github", '["*/*"]'],
    ["previews/{{repo.path}}-{{payload.object_attributes.id}}/", "gitlab", '["acme/*"]'],
    // A folder between them.
    ["previews/{{repo.path}}/{{payload.pull_request.id}}/", "github", '["acme/*"]'],
    ["previews/{{repo}}/{{payload.pull_request.id}}/", "github", '["*/*"]'],
    ["previews/{{payload.pull_request.id}}/{{repo.path}}/", "gitea", '["*/*"]'],
    // A URL or node id of the pull request's, which runs into no name, anywhere in it.
    [
      "previews/{{repo.path}}{{payload.pull_request.id}}/{{payload.pull_request.node_id}}/",
      "github",
      '["*/*"]',
    ],
    [
      "previews/{{repo.path}}{{payload.pull_request.id}}/{{payload.pull_request.html_url}}/",
      "github",
      '["*/*"]',
    ],
    // The id once more, in a folder of its own.
    ["previews/{{repo.path}}{{payload.pull_request.id}}/{{payload.pull_request.id}}/", "github", '["*/*"]'],
    // The name elsewhere tells a/b and a/b1 apart (a/b12/b/ and a/b12/b1/).
    ["previews/{{repo.path}}{{payload.pull_request.id}}/{{repo}}/", "github", '["*/*"]'],
    // A field that may differ between the two repositories' pull requests: the repository's id, its clone URL.
    ["previews/{{repo.path}}{{payload.pull_request.id}}/{{payload.repository.id}}/", "github", '["*/*"]'],
    ["previews/{{repo.path}}{{payload.pull_request.id}}/{{repo.cloneUrl}}/", "github", '["*/*"]'],
    ["previews/{{repo.path}}{{payload.pull_request.id}}/{{pr.headRepoFullName}}/", "github", '["*/*"]'],
    // One owner's repositories: the owner is the same text, so nothing of another runs into the id.
    ["previews/{{payload.pull_request.id}}{{repo.path}}/", "github", '["acme/*"]'],
    ["previews/{{owner}}{{payload.pull_request.id}}/", "github", '["acme/*"]'],
    // One repository.
    ["previews/{{repo.path}}{{payload.pull_request.id}}/", "github", "[acme/web]"],
  ];
  for (const [prefix, provider, repos] of taken) {
    it(`takes ${prefix} on ${provider} repos ${repos}`, () => {
      expect(
        cleanupPrefixProblems(prefix, provider, repos).filter((p) => p.includes("prefix:")),
      ).to.deep.equal([]);
    });
  }

  it("renders previews/{{repo.path}}-{{payload.pull_request.id}}/ apart for acme/web-1's id 2 and acme/web's id 12", () => {
    const prefix = "previews/{{repo.path}}-{{payload.pull_request.id}}/";
    expect(rendered(prefix, "acme/web-1", 2)).to.equal("previews/acme/web-1-2/");
    expect(rendered(prefix, "acme/web", 12)).to.equal("previews/acme/web-12/");
  });

  it("keeps the message under 300 characters with the longest fields and digits between, after a 40-character escaped route name", () => {
    const cases: Array<[string, string]> = [
      [
        "gitlab",
        "p/{{  payload.object_attributes.target.path_with_namespace  }}2024{{  payload.object_attributes.id  }}/",
      ],
      [
        "gitlab",
        "p/{{payload.object_attributes.id}}2024{{payload.object_attributes.target.path_with_namespace}}/",
      ],
      [
        "github",
        `p/{{payload.pull_request.base.repo.full_name}}{{payload.pull_request.id}}/${"x".repeat(200)}/`,
      ],
    ];
    for (const [provider, prefix] of cases) {
      const text = stringify({
        version: 1,
        defaults: { secret: "hooks/s", provider },
        providers: { [provider]: { token: "t/gh" } },
        routes: [
          {
            name: "\u001b".repeat(10),
            match: { events: ["pull_request"], actions: ["closed"] },
            action: { type: "pr-cleanup", steps: [{ "delete-s3-prefix": { bucket: "b-b", prefix } }] },
          },
        ],
      });
      const found = parseRoutes(text, "routes.yaml")
        .problems.map((p) => `${p.line}:${p.col}: ${p.message}`)
        .filter((m) => m.includes(" runs into "));
      expect(found, prefix).to.have.length(1);
      expect(found[0], prefix).to.match(/are both .*; write 'p\//);
      expect(found[0]?.length, found[0]).to.be.at.most(300);
    }
  });
});
