import { expect } from "chai";
import { parseRoutes } from "../../../src/core/routes/parse";

function notesOf(lines: string[]): string[] | undefined {
  const { config, problems } = parseRoutes([...lines, ""].join("\n"), "routes.yaml");
  expect(problems).to.deep.equal([]);
  return config?.notes;
}

const ROUTE = [
  "routes:",
  "  - name: a",
  "    match: { events: [push] }",
  '    action: { type: jenkins, job: build, parameters: { SHA: "{{sha}}" } }',
];

describe("Function: parseRoutes (a top-level jenkins that defaults.jenkins overrides)", () => {
  it("notes, at the top-level jenkins key, that defaults.jenkins is used instead", () => {
    const notes = notesOf([
      "version: 1",
      'jenkins: { url: "https://jenkins-new.example.com", credentials: hookgate/jenkins-new }',
      "defaults:",
      "  secret: hookgate/gh",
      '  jenkins: { url: "https://jenkins-old.example.com", credentials: hookgate/jenkins-old }',
      ...ROUTE,
    ]);
    expect(notes).to.have.length(1);
    expect(notes?.[0]).to.match(/^routes\.yaml:2:1: jenkins: never used: .*uses defaults\.jenkins instead/);
  });

  it("notes nothing of a top-level jenkins without defaults.jenkins: routes without their own use it", () => {
    const notes = notesOf([
      "version: 1",
      'jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }',
      "defaults: { secret: hookgate/gh }",
      ...ROUTE,
    ]);
    expect(notes).to.equal(undefined);
  });
});

describe("Function: parseRoutes (an auth option the route's provider never reads)", () => {
  const file = (defaults: string[], routes: Array<{ provider: string; auth?: string }>) => [
    "version: 1",
    "defaults:",
    '  jenkins: { url: "https://j.example.com", credentials: hookgate/j }',
    "  secret: hookgate/hook",
    ...defaults,
    "routes:",
    ...routes.flatMap((route, i) => [
      `  - name: r${i}`,
      `    provider: ${route.provider}`,
      ...(route.auth ? [`    auth: ${route.auth}`] : []),
      "    match: { events: [push] }",
      '    action: { type: jenkins, job: build, parameters: { SHA: "{{sha}}" } }',
    ]),
  ];

  for (const provider of ["gitlab", "bitbucket", "bitbucket-server", "gitea"]) {
    it(`notes auth.allowSha1 on a ${provider} route at its key: only GitHub's X-Hub-Signature reads it`, () => {
      const notes = notesOf(file([], [{ provider, auth: "{ allowSha1: true }" }]));
      expect(notes).to.have.length(1);
      expect(notes?.[0]).to.match(
        /^routes\.yaml:8:13: route r0: auth\.allowSha1 has no effect on a .* route: only a GitHub route reads it/,
      );
    });
  }

  for (const provider of ["github", "bitbucket", "bitbucket-server", "gitea"]) {
    it(`notes auth.toleranceSeconds on a ${provider} route at its key: only GitLab's signing token signature has a timestamp`, () => {
      const notes = notesOf(file([], [{ provider, auth: "{ toleranceSeconds: 60 }" }]));
      expect(notes).to.have.length(1);
      expect(notes?.[0]).to.match(
        /^routes\.yaml:8:13: route r0: auth\.toleranceSeconds has no effect on a .* route: only a GitLab route reads it.*limits no delivery's age here$/,
      );
    });
  }

  it("notes nothing of allowSha1 on a github route nor of toleranceSeconds on a gitlab route", () => {
    const notes = notesOf(
      file(
        [],
        [
          { provider: "github", auth: "{ allowSha1: true }" },
          { provider: "gitlab", auth: "{ toleranceSeconds: 60 }" },
        ],
      ),
    );
    expect(notes).to.equal(undefined);
  });

  it("notes defaults.auth.toleranceSeconds only when no gitlab route takes it from defaults", () => {
    const defaults = ["  auth: { toleranceSeconds: 60 }"];
    expect(notesOf(file(defaults, [{ provider: "github" }, { provider: "gitlab" }]))).to.equal(undefined);
    const notes = notesOf(
      file(defaults, [{ provider: "github" }, { provider: "gitlab", auth: "{ toleranceSeconds: 30 }" }]),
    );
    expect(notes).to.deep.equal([
      "routes.yaml:5:11: defaults.auth.toleranceSeconds has no effect: only a GitLab route reads it (the age a GitLab signing token's signature, webhook-signature, may have), and no GitLab route of this file takes it from defaults",
    ]);
  });
});
