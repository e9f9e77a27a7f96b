import { readFileSync } from "node:fs";
import { expect } from "chai";
import fc from "fast-check";
import picomatch from "picomatch";
import { normaliseDelivery } from "../../src/core/events/normalise";
import { compileGlobList, globProblem } from "../../src/core/globs";
import { compileMatcher, decideChanges, matchesTagPushes } from "../../src/core/match";
import type { MatchSpec, WebhookEvent } from "../../src/core/types";
import { bagOf, loadPayload } from "../fixtures/payloads";
import { runs } from "../support/propertyRuns";
import { jenkinsRoute } from "../support/routes";

const route = jenkinsRoute;

function push(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    provider: "github",
    deliveryId: "d-1",
    event: "push",
    repo: { owner: "acme", name: "api", fullName: "acme/api" },
    ref: "refs/heads/main",
    branch: "main",
    sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    deleted: false,
    actor: "alice",
    changedFiles: ["src/index.ts", "README.md"],
    payload: {},
    ...overrides,
  };
}

/** An issues event: an action, no ref. */
function issue(action: string): WebhookEvent {
  return push({ event: "issues", action, ref: undefined, branch: undefined });
}

/** A push with some of its fields missing altogether, as a hand-built event may be. */
function bare(missing: Record<string, undefined>): WebhookEvent {
  return { ...push(), ...missing } as unknown as WebhookEvent;
}

const MAIN = "matched: repo acme/api, event push, branch main";

function tagPush(tag: string): WebhookEvent {
  return push({ ref: `refs/tags/${tag}`, branch: undefined, tag });
}

function pullRequest(action: string, merged: boolean): WebhookEvent {
  return push({
    event: "pull_request",
    action,
    ref: undefined,
    branch: "main",
    changedFiles: [],
    pr: { number: 7, merged, state: "closed", headRef: "feature/x", baseRef: "main", headSha: "abc" },
  });
}

const BRANCHES = ["main", "release/*", "!release/old-*"];

const cases: Array<[string, MatchSpec, WebhookEvent, boolean, string]> = [
  ["an empty match accepts anything", {}, push(), true, "matched: repo acme/api, event push, branch main"],
  [
    "repos includes the repository",
    { repos: ["acme/*"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "repos excludes another owner",
    { repos: ["acme/*"] },
    push({ repo: { owner: "evil", name: "api", fullName: "evil/api" } }),
    false,
    'repo "evil/api" does not match [acme/*]',
  ],
  [
    "repos ignores the letter case, and the reason names the repository as the host sent it",
    { repos: ["acme/api"] },
    push({ repo: { owner: "Acme", name: "API", fullName: "Acme/API" } }),
    true,
    "matched: repo Acme/API, event push, branch main",
  ],
  [
    "repos exclusion wins",
    { repos: ["acme/*", "!acme/api"] },
    push(),
    false,
    'repo "acme/api" does not match [acme/*, !acme/api]',
  ],
  [
    "events accepts push",
    { events: ["push"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "events refuses issues",
    { events: ["push"] },
    push({ event: "issues", action: "opened", branch: undefined, ref: undefined }),
    false,
    'event "issues" is not one of [push]',
  ],
  [
    "events matches event.action entries",
    { events: ["pull_request.closed"] },
    pullRequest("closed", true),
    true,
    "matched: repo acme/api, event pull_request, action closed, branch main",
  ],
  [
    "events event.action refuses another action",
    { events: ["pull_request.closed"] },
    pullRequest("opened", false),
    false,
    'event "pull_request.opened" is not one of [pull_request.closed]',
  ],
  [
    "events excludes an event.action",
    { events: ["pull_request", "!pull_request.synchronize"] },
    pullRequest("synchronize", false),
    false,
    'event "pull_request.synchronize" is not one of [pull_request, !pull_request.synchronize]',
  ],
  [
    "events mixes plain and dotted entries",
    { events: ["push", "pull_request.closed"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "actions accepts closed",
    { actions: ["closed"] },
    pullRequest("closed", false),
    true,
    "matched: repo acme/api, event pull_request, action closed, branch main",
  ],
  [
    "actions refuses opened",
    { actions: ["closed"] },
    pullRequest("opened", false),
    false,
    'action "opened" is not one of [closed]',
  ],
  [
    "actions refuses an event without action",
    { actions: ["closed"] },
    push(),
    false,
    'event "push" has no action; actions: [closed]',
  ],
  [
    "branches accepts main",
    { branches: BRANCHES },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "branches accepts release/2.0",
    { branches: BRANCHES },
    push({ branch: "release/2.0" }),
    true,
    "matched: repo acme/api, event push, branch release/2.0",
  ],
  [
    "branches refuses feature/x",
    { branches: BRANCHES },
    push({ branch: "feature/x" }),
    false,
    'branch "feature/x" does not match [main, release/*, !release/old-*]',
  ],
  [
    "branches excludes release/old-1",
    { branches: BRANCHES },
    push({ branch: "release/old-1" }),
    false,
    'branch "release/old-1" does not match [main, release/*, !release/old-*]',
  ],
  [
    "branches refuses a tag push",
    { branches: ["main"] },
    tagPush("v1.0.0"),
    false,
    'tag "v1.0.0" is not a branch; branches: [main]',
  ],
  [
    "branches refuses an event with no ref",
    { branches: ["main"] },
    push({ event: "issues", branch: undefined, ref: undefined }),
    false,
    'event "issues" has no branch or tag; branches: [main]',
  ],
  [
    "tags accepts v1.0.0",
    { tags: ["v*"] },
    tagPush("v1.0.0"),
    true,
    "matched: repo acme/api, event push, tag v1.0.0",
  ],
  ["tags refuses nightly", { tags: ["v*"] }, tagPush("nightly"), false, 'tag "nightly" does not match [v*]'],
  ["tags refuses a branch push", { tags: ["v*"] }, push(), false, 'branch "main" is not a tag; tags: [v*]'],
  [
    "branches and tags accept a matching tag",
    { branches: ["main"], tags: ["v*"] },
    tagPush("v2"),
    true,
    "matched: repo acme/api, event push, tag v2",
  ],
  [
    "branches and tags accept a matching branch",
    { branches: ["main"], tags: ["v*"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "branches and tags refuse another branch",
    { branches: ["main"], tags: ["v*"] },
    push({ branch: "dev" }),
    false,
    'branch "dev" does not match [main]',
  ],
  [
    "paths accepts a push that touches src",
    { paths: ["src/**"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main, file src/index.ts",
  ],
  [
    "paths refuses a docs-only push",
    { paths: ["src/**"] },
    push({ changedFiles: ["docs/a.md"] }),
    false,
    "no changed file matches [src/**]",
  ],
  [
    "paths exclusion of docs",
    { paths: ["!docs/**"] },
    push({ changedFiles: ["docs/a.md", "docs/b.md"] }),
    false,
    "no changed file matches [!docs/**]",
  ],
  [
    "paths accepts a GitLab push listing 20 of its 25 commits, none in src (the others are unknown)",
    { paths: ["src/**"] },
    push({
      provider: "gitlab",
      changedFiles: ["docs/a.md"],
      payload: {
        commits: Array.from({ length: 20 }, () => ({ modified: ["docs/a.md"] })),
        total_commits_count: 25,
      },
    }),
    true,
    "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)",
  ],
  [
    "paths still refuses a GitLab push whose commits are all listed",
    { paths: ["src/**"] },
    push({
      provider: "gitlab",
      changedFiles: ["docs/a.md"],
      payload: {
        commits: Array.from({ length: 3 }, () => ({ modified: ["docs/a.md"] })),
        total_commits_count: 3,
      },
    }),
    false,
    "no changed file matches [src/**]",
  ],
  [
    "paths exclusion accepts a Gitea push listing 5 of its 7 commits, all in docs",
    { paths: ["!docs/**"] },
    push({
      provider: "gitea",
      changedFiles: ["docs/a.md"],
      payload: { commits: Array.from({ length: 5 }, () => ({ modified: ["docs/a.md"] })), total_commits: 7 },
    }),
    true,
    "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)",
  ],
  [
    "paths accepts a GitHub push listing 2,048 commits, GitHub's most, none in src (the rest are unknown)",
    { paths: ["src/**"] },
    push({
      changedFiles: ["docs/a.md"],
      payload: { commits: Array.from({ length: 2048 }, () => ({ modified: ["docs/a.md"] })) },
    }),
    true,
    "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)",
  ],
  [
    // GitHub's webhook schema (@octokit/openapi-webhooks-types, push commits[].added/modified/removed):
    // "A maximum of 3000 changed files will be reported per commit."
    "paths accepts a GitHub push whose commit lists 3,000 changed files, GitHub's most per commit, none in src",
    { paths: ["src/**"] },
    push({
      changedFiles: ["docs/a.md"],
      payload: {
        commits: [
          {
            added: Array.from({ length: 2000 }, (_, i) => `docs/new-${i}.md`),
            modified: Array.from({ length: 1000 }, (_, i) => `docs/${i}.md`),
          },
        ],
      },
    }),
    true,
    "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)",
  ],
  [
    "paths still refuses a GitHub push whose commit lists 2,999 changed files, none in src",
    { paths: ["src/**"] },
    push({
      changedFiles: ["docs/a.md"],
      payload: {
        commits: [
          {
            added: Array.from({ length: 1999 }, (_, i) => `docs/new-${i}.md`),
            modified: Array.from({ length: 1000 }, (_, i) => `docs/${i}.md`),
          },
        ],
      },
    }),
    false,
    "no changed file matches [src/**]",
  ],
  [
    "paths accepts a GitHub Enterprise Server push whose size says more commits than it lists",
    { paths: ["src/**"] },
    push({
      changedFiles: ["docs/a.md"],
      payload: { commits: [{ modified: ["docs/a.md"] }], size: 2 },
    }),
    true,
    "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)",
  ],
  [
    "paths still refuses a GitHub push of 2,047 commits, all listed, none in src",
    { paths: ["src/**"] },
    push({
      changedFiles: ["docs/a.md"],
      payload: { commits: Array.from({ length: 2047 }, () => ({ modified: ["docs/a.md"] })) },
    }),
    false,
    "no changed file matches [src/**]",
  ],
  [
    "paths on a delivery without files",
    { paths: ["src/**"] },
    push({ changedFiles: [] }),
    false,
    "no changed file matches [src/**] (the delivery lists no changed files)",
  ],
  [
    "paths accepts a Bitbucket branch push, whose payload lists no files (they are unknown)",
    { paths: ["src/**"] },
    push({ provider: "bitbucket", changedFiles: [] }),
    true,
    "matched: repo acme/api, event push, branch main, files unknown (Bitbucket push payloads list no files)",
  ],
  [
    "actors includes alice",
    { actors: ["alice", "bob"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "actors excludes bots",
    { actors: ["!*\\[bot\\]"] },
    push({ actor: "dependabot[bot]" }),
    false,
    'actor "dependabot[bot]" does not match [!*\\[bot\\]]',
  ],
  [
    "actors exclusion-only accepts others",
    { actors: ["!renovate"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "actors include refuses a delivery without actor",
    { actors: ["alice"] },
    push({ actor: undefined }),
    false,
    "the delivery names no actor; actors: [alice]",
  ],
  [
    "actors exclusion-only takes a delivery without actor (a list written to skip a bot; a skipped build goes unnoticed)",
    { actors: ["!*\\[bot\\]"] },
    push({ actor: undefined }),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "merged: true accepts a merged PR",
    { merged: true },
    pullRequest("closed", true),
    true,
    "matched: repo acme/api, event pull_request, action closed, branch main",
  ],
  [
    "merged: true refuses an unmerged PR",
    { merged: true },
    pullRequest("closed", false),
    false,
    "pull request is not merged; merged: true",
  ],
  [
    "merged: false refuses a merged PR",
    { merged: false },
    pullRequest("closed", true),
    false,
    "pull request is merged; merged: false",
  ],
  [
    "merged refuses a push",
    { merged: true },
    push(),
    false,
    'event "push" is not pull_request; merged: true',
  ],
  // A review, a review comment (GitHub, Gitea) or Data Center's pr:comment:added has the pull request too,
  // unmerged: merged: false ("only pull requests not merged") would run on every comment.
  ...["pull_request_review", "pull_request_review_comment", "pull_request_approved", "pr:comment:added"].map(
    (event): [string, MatchSpec, WebhookEvent, boolean, string] => [
      `merged: false refuses ${event}, whose pull request is not merged (it is no pull_request event)`,
      { merged: false },
      { ...pullRequest("submitted", false), event },
      false,
      `event "${event}" is not pull_request; merged: false`,
    ],
  ),
  [
    "a deleted-branch push is ignored by default",
    { branches: ["main"] },
    push({ deleted: true, sha: undefined }),
    false,
    'the push deleted branch "main"; set match.deleted: true to act on deletions',
  ],
  [
    "a deleted-tag push is ignored by default",
    {},
    { ...tagPush("v1"), deleted: true },
    false,
    'the push deleted tag "v1"; set match.deleted: true to act on deletions',
  ],
  [
    "deleted: true accepts a deleted-branch push from a host without delete events (GitLab)",
    { deleted: true },
    push({ provider: "gitlab", deleted: true }),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "deleted: true with events [push] accepts a GitHub deleted-branch push (no delete event can reach the route)",
    { events: ["push"], deleted: true },
    push({ deleted: true }),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "deleted: true without events accepts a GitHub deleted-branch push: the push is the deletion",
    { deleted: true },
    push({ deleted: true }),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "deleted: true with events [push, delete] refuses a GitHub deleted-branch push: the deletion is taken from its delete event",
    { events: ["push", "delete"], deleted: true },
    push({ deleted: true }),
    false,
    `the push deleted branch "main"; the route takes deletions from GitHub's delete event, which its events let through (the webhook must send it), so that one deletion runs it once`,
  ],
  [
    "deleted: true refuses a normal push",
    { deleted: true },
    push(),
    false,
    "the event deleted nothing; deleted: true",
  ],
  [
    "deleted: false refuses a deleted-branch push",
    { deleted: false },
    push({ deleted: true }),
    false,
    'the push deleted branch "main"; deleted: false',
  ],
  [
    "a GitHub delete event is ignored by a route without events, as a push that deleted its branch",
    { branches: ["feature/*"] },
    push({
      event: "delete",
      deleted: true,
      ref: "refs/heads/feature/x",
      branch: "feature/x",
      sha: undefined,
    }),
    false,
    'the delete event deleted branch "feature/x"; set match.deleted: true or list delete in events to act on deletions',
  ],
  [
    "a GitHub delete event is ignored by events that take it through a glob only",
    { events: ["*"] },
    push({ event: "delete", deleted: true, sha: undefined }),
    false,
    'the delete event deleted branch "main"; set match.deleted: true or list delete in events to act on deletions',
  ],
  [
    "deleted: true with events [delete] accepts a GitHub delete event",
    { events: ["delete"], deleted: true },
    push({ event: "delete", deleted: true, sha: undefined }),
    true,
    "matched: repo acme/api, event delete, branch main",
  ],
  [
    "deleted: true without events refuses a GitHub delete event: the push sent with it is the deletion",
    { deleted: true },
    push({ event: "delete", deleted: true, sha: undefined }),
    false,
    `the delete event deleted branch "main"; without events the route takes GitHub's deletions from the push sent with it, so that one deletion runs it once (list delete in events to take them from delete events)`,
  ],
  [
    "deleted: false refuses a GitHub delete event listed in events",
    { events: ["delete"], deleted: false },
    push({ event: "delete", deleted: true, sha: undefined }),
    false,
    'the delete event deleted branch "main"; deleted: false',
  ],
  [
    "a GitHub delete event listed in events is matched",
    { events: ["delete"] },
    push({ event: "delete", deleted: true }),
    true,
    "matched: repo acme/api, event delete, branch main",
  ],
  [
    "the first failing filter gives the reason",
    { repos: ["acme/*"], events: ["pull_request"], actions: ["closed"], merged: true },
    push(),
    false,
    'event "push" is not one of [pull_request]',
  ],
  [
    "events tests a plain entry against the event name alone, beside event.action entries",
    { events: ["issues", "pull_request.closed"] },
    issue("opened"),
    true,
    "matched: repo acme/api, event issues, action opened",
  ],
  [
    "events with event.action entries refuses an event no entry names",
    { events: ["push", "pull_request.closed"] },
    issue("opened"),
    false,
    'event "issues.opened" is not one of [push, pull_request.closed]',
  ],
  [
    "events with event.action entries refuses an action no include names, beside an event.action exclusion",
    { events: ["push", "!pull_request.opened"] },
    pullRequest("closed", false),
    false,
    'event "pull_request.closed" is not one of [push, !pull_request.opened]',
  ],
  [
    "events with event.action entries refuses an event no include names, beside a plain exclusion",
    { events: ["!ping", "pull_request.closed"] },
    push(),
    false,
    'event "push" is not one of [!ping, pull_request.closed]',
  ],
  [
    "events with only exclusions, one of them event.action, accepts the others",
    { events: ["!ping", "!pull_request.opened"] },
    push(),
    true,
    "matched: repo acme/api, event push, branch main",
  ],
  [
    "events excludes a plain entry beside event.action entries",
    { events: ["*", "!ping", "issues.opened"] },
    push({ event: "ping", branch: undefined, ref: undefined }),
    false,
    'event "ping" is not one of [*, !ping, issues.opened]',
  ],
  [
    'events reads only its "!" entries as exclusions: **.closed, less its first character, would exclude',
    { events: ["**.closed"] },
    pullRequest("closed", false),
    true,
    "matched: repo acme/api, event pull_request, action closed, branch main",
  ],
  [
    "actions refuses an event without action, whatever the glob",
    { actions: ["*"] },
    push(),
    false,
    'event "push" has no action; actions: [*]',
  ],
  ["repos of two names accepts the first", { repos: ["acme/api", "acme/web"] }, push(), true, MAIN],
  ["repos of two names accepts the second", { repos: ["acme/web", "acme/api"] }, push(), true, MAIN],
  [
    "repos of two names refuses a third",
    { repos: ["acme/web", "acme/cli"] },
    push(),
    false,
    'repo "acme/api" does not match [acme/web, acme/cli]',
  ],
  ["events of two names accepts the first", { events: ["push", "issues"] }, push(), true, MAIN],
  ["events of two names accepts the second", { events: ["issues", "push"] }, push(), true, MAIN],
  [
    "events of two names refuses a third",
    { events: ["issues", "release"] },
    push(),
    false,
    'event "push" is not one of [issues, release]',
  ],
  ["branches of two names accepts the first", { branches: ["main", "dev"] }, push(), true, MAIN],
  ["branches of two names accepts the second", { branches: ["dev", "main"] }, push(), true, MAIN],
  [
    "branches of two names refuses a third",
    { branches: ["dev", "next"] },
    push(),
    false,
    'branch "main" does not match [dev, next]',
  ],
  [
    "branches and tags refuse an event with neither, naming both lists",
    { branches: ["main"], tags: ["v*"] },
    issue("opened"),
    false,
    'event "issues" has no branch or tag; branches: [main], tags: [v*]',
  ],
  [
    "paths names a matched file of 200 characters whole",
    { paths: ["src/**"] },
    push({ changedFiles: [`src/${"a".repeat(196)}`] }),
    true,
    `${MAIN}, file src/${"a".repeat(196)}`,
  ],
  [
    "paths cuts a matched file longer than 200 characters at 200",
    { paths: ["src/**"] },
    push({ changedFiles: [`src/${"a".repeat(197)}`] }),
    true,
    `${MAIN}, file src/${"a".repeat(196)}…`,
  ],
  [
    "paths still refuses a Bitbucket pull request (only a push may change files hookgate cannot see)",
    { paths: ["src/**"] },
    push({ provider: "bitbucket", event: "pull_request", action: "opened", changedFiles: [] }),
    false,
    "no changed file matches [src/**] (the delivery lists no changed files)",
  ],
  [
    "paths with deleted: true still refuses a Bitbucket push that deleted its branch (a deletion changes no file)",
    { paths: ["src/**"], deleted: true },
    push({ provider: "bitbucket-server", deleted: true, sha: undefined, changedFiles: [] }),
    false,
    "no changed file matches [src/**] (the delivery lists no changed files)",
  ],
  [
    "paths accepts a Bitbucket Server branch push, whose payload lists no files (they are unknown)",
    { paths: ["src/**"] },
    push({ provider: "bitbucket-server", changedFiles: [] }),
    true,
    "matched: repo acme/api, event push, branch main, files unknown (Bitbucket push payloads list no files)",
  ],
  // A push must have moved a branch or a tag: one with neither has no commit to act on, whatever the route.
  ...(
    [
      [
        "a push that changed no ref (Bitbucket's empty changes)",
        {},
        undefined,
        "the push changed no branch or tag",
      ],
      [
        "a push to refs/notes/commits",
        { events: ["push"] },
        "refs/notes/commits",
        'the push changed ref "refs/notes/commits", neither a branch nor a tag',
      ],
      [
        "a push to refs/pull/1/head",
        { repos: ["acme/*"] },
        "refs/pull/1/head",
        'the push changed ref "refs/pull/1/head", neither a branch nor a tag',
      ],
      [
        "a push that deleted refs/notes/commits, on a route that takes deletions",
        { deleted: true },
        "refs/notes/commits",
        'the push changed ref "refs/notes/commits", neither a branch nor a tag',
      ],
      [
        "a push of a ref named refs/heads/ alone",
        {},
        "refs/heads/",
        'the push changed ref "refs/heads/", neither a branch nor a tag',
      ],
    ] as Array<[string, MatchSpec, string | undefined, string]>
  ).map(([what, spec, ref, reason]): [string, MatchSpec, WebhookEvent, boolean, string] => [
    `${what} is refused by a route without branches or tags: no branch or tag moved`,
    spec,
    push({ branch: undefined, ref, sha: undefined, deleted: spec.deleted === true }),
    false,
    reason,
  ]),
  [
    "a push that deleted a ref neither a branch nor a tag is refused as such, not as a deletion",
    {},
    push({ deleted: true, branch: undefined, ref: "refs/notes/commits" }),
    false,
    'the push changed ref "refs/notes/commits", neither a branch nor a tag',
  ],
  [
    "a push without a ref is refused by a branches route as an event without a branch",
    { branches: ["**"] },
    push({ branch: undefined, ref: undefined, sha: undefined }),
    false,
    'event "push" has no branch or tag; branches: [**]',
  ],
  [
    "an event other than a push needs no branch or tag",
    { events: ["issues"] },
    issue("opened"),
    true,
    "matched: repo acme/api, event issues, action opened",
  ],
  [
    "repos refuses an event without a repository, which no glob matches",
    { repos: ["**"] },
    bare({ repo: undefined }),
    false,
    'repo "" does not match [**]',
  ],
  [
    "events refuses an event without a name, which no glob matches",
    { events: ["*"] },
    bare({ event: undefined }),
    false,
    'event "" is not one of [*]',
  ],
  [
    "events with event.action entries refuses an event without a name, which no glob matches",
    { events: ["*", "*.closed"] },
    bare({ event: undefined }),
    false,
    'event "" is not one of [*, *.closed]',
  ],
  [
    "actions refuses an event without a name or action",
    { actions: ["closed"] },
    bare({ event: undefined }),
    false,
    'event "" has no action; actions: [closed]',
  ],
  [
    "tags refuses an event without a name, branch or tag",
    { tags: ["v*"] },
    bare({ event: undefined, branch: undefined }),
    false,
    'event "" has no branch or tag; tags: [v*]',
  ],
  [
    "actors refuses a delivery without actor, which no glob matches",
    { actors: ["*"] },
    push({ actor: undefined }),
    false,
    "the delivery names no actor; actors: [*]",
  ],
  [
    "merged refuses an event without a name or pull request",
    { merged: true },
    bare({ event: undefined }),
    false,
    'event "" is not pull_request; merged: true',
  ],
  [
    "an empty match accepts an event without a repository or name, and says so",
    {},
    bare({ repo: undefined, event: undefined, branch: undefined }),
    true,
    "matched: repo , event ",
  ],
];

describe("Function: compileMatcher", () => {
  it("compileMatcher filters a GitLab release by its tag and action, as a GitHub one", () => {
    const fixture = loadPayload("gitlab/release");
    const release = normaliseDelivery("gitlab", bagOf(fixture.headers), fixture.payload, fixture.body);
    const matches = (match: MatchSpec) => compileMatcher(route(match))(release).matched;
    expect(matches({ events: ["release"], tags: ["v*"] })).to.equal(true);
    expect(matches({ events: ["release.created"] })).to.equal(true);
    expect(matches({ events: ["release"], tags: ["v2.*"] })).to.equal(false);
    expect(matches({ events: ["release.deleted"] })).to.equal(false);
  });

  for (const [title, match, event, matched, reason] of cases) {
    it(`compileMatcher: ${title}`, () => {
      const decision = compileMatcher(route(match))(event);
      expect(decision).to.deep.equal({ route: "api-build", matched, reason });
    });
  }

  it("compileMatcher: a refusal's reason reads the same as a property, in JSON and once assigned", () => {
    const decision = compileMatcher(route({ branches: ["main"] }))(push({ branch: "dev" }));
    const reason = 'branch "dev" does not match [main]';
    expect(decision.reason).to.equal(reason);
    expect(decision.reason).to.equal(reason);
    expect(JSON.parse(JSON.stringify(decision))).to.deep.equal({
      route: "api-build",
      matched: false,
      reason,
    });
    decision.reason = "replaced";
    expect(decision.reason).to.equal("replaced");
  });

  it("compileMatcher: a refusal whose reason cannot be written says so when it is read", () => {
    const event = push({ branch: "dev" });
    const decision = compileMatcher(route({ branches: ["main"] }))(event);
    Object.defineProperty(event, "branch", {
      get() {
        throw new Error("boom");
      },
    });
    expect(decision.matched).to.equal(false);
    expect(decision.reason).to.equal("the event could not be matched: Error: boom");
  });

  it("compileMatcher decides a normalised push as it decides the same event with its files listed", () => {
    const specs: MatchSpec[] = [
      { paths: ["src/**"] },
      { paths: ["services/billing/**"] },
      { paths: ["mobile/**", "!mobile/docs/**"] },
      { paths: ["!docs/**"] },
      { paths: ["**/*.md"] },
      { repos: ["acme/api", "acme/web"], branches: ["main"], paths: ["README.md", "s*"] },
    ];
    const matchers = specs.map((spec) => compileMatcher(route(spec)));
    const files = fc.array(
      fc.oneof(
        fc.constantFrom("src/a.ts", "services/billing/x.ts", "services/pay/x.ts", "mobile/docs/a.md"),
        fc.constantFrom("mobile/a.ts", "docs/a.md", "README.md", "s", "sr"),
        fc.string({ maxLength: 5 }),
      ),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(fc.array(files, { maxLength: 4 }), (perCommit) => {
        const commits = perCommit.map((list) => ({ added: list, modified: [], removed: [] }));
        const payload = {
          ref: "refs/heads/main",
          after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
          repository: { full_name: "acme/api", name: "api", owner: { login: "acme" } },
          sender: { login: "alice" },
          commits,
        };
        const body = Buffer.from(JSON.stringify(payload));
        const normalise = () =>
          normaliseDelivery("github", bagOf({ "X-GitHub-Event": "push" }), payload, body);
        // Spreading reads (and so collects) the changed files: the first event is left untouched.
        const normalised = normalise();
        const listed = { ...normalise(), changedFiles: perCommit.flat().filter((f) => f.length > 0) };
        for (const match of matchers) {
          const [a, b] = [match(normalised), match(listed)];
          expect([a.matched, a.reason]).to.deep.equal([b.matched, b.reason]);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it("compileMatcher: repos (without case), events and branches filters agree with their glob lists, for names compared in place too", () => {
    const lists = fc.array(
      fc.constantFrom("acme/api", "push", "main", "release/*", "!main", "acme/*", "pu*", "ACME/Api", "Main"),
      {
        maxLength: 3,
      },
    );
    const value = fc.oneof(
      fc.constantFrom("acme/api", "push", "main", "release/1", "", "x", "Acme/API", "MAIN", "acme/apı"),
      fc.integer(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        lists,
        lists,
        lists,
        value,
        value,
        value,
        (repos, events, branches, repo, event, branch) => {
          const e = { ...push(), repo: { fullName: repo }, event, branch } as unknown as WebhookEvent;
          const decision = compileMatcher(route({ repos, events, branches }))(e);
          const str = (v: unknown) => (typeof v === "string" ? v : undefined);
          const expected =
            compileGlobList(repos, { ignoreCase: true })(str(repo) ?? "") &&
            compileGlobList(events)(str(event) ?? "") &&
            str(branch) !== undefined &&
            compileGlobList(branches)(str(branch) as string);
          expect(decision.matched).to.equal(expected);
        },
      ),
      { numRuns: runs(2000) },
    );
  });

  it("a compiled matcher can be reused across events", () => {
    const match = compileMatcher(route({ branches: ["main"] }, "reuse"));
    expect([
      match(push()).matched,
      match(push({ branch: "dev" })).matched,
      match(push()).matched,
    ]).to.deep.equal([true, false, true]);
  });

  it("compileMatcher never throws, whatever the event holds", () => {
    const spec: MatchSpec = {
      repos: ["acme/*"],
      events: ["push", "pull_request.closed"],
      actions: ["closed", "!opened"],
      branches: ["main"],
      tags: ["v*"],
      paths: ["src/**"],
      actors: ["!bot"],
      merged: true,
      deleted: false,
    };
    const loose = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
    );
    const arbitraryEvent = fc.record(
      {
        provider: loose,
        event: loose,
        action: loose,
        repo: fc.oneof(loose, fc.record({ fullName: loose, owner: loose, name: loose })),
        branch: loose,
        tag: loose,
        actor: loose,
        changedFiles: fc.oneof(loose, fc.array(loose)),
        pr: fc.oneof(loose, fc.record({ merged: loose, number: loose })),
        deleted: loose,
      },
      { requiredKeys: [] },
    );
    const filters = fc.subarray(Object.keys(spec) as Array<keyof MatchSpec>);
    fc.assert(
      fc.property(filters, fc.oneof(arbitraryEvent, loose, fc.jsonValue()), (keys, event) => {
        const partial: MatchSpec = {};
        for (const key of keys) (partial as Record<string, unknown>)[key] = spec[key];
        const decision = compileMatcher(route(partial))(event as WebhookEvent);
        expect(decision.route).to.equal("api-build");
        expect(decision.reason).to.be.a("string");
      }),
      { numRuns: runs(500) },
    );
  });
});

describe("Function: compileMatcher (events of any shape)", () => {
  it("compileMatcher refuses an event whose field throws when read, with the error as its reason", () => {
    const event = push();
    Object.defineProperty(event, "repo", {
      get() {
        throw new Error("boom");
      },
    });
    const decision = compileMatcher(route({ repos: ["acme/api"] }))(event);
    expect({ ...decision }).to.deep.equal({
      route: "api-build",
      matched: false,
      reason: "the event could not be matched: Error: boom",
    });
  });

  it("compileMatcher decides an event of any shape by its filters, never failing on a missing field", () => {
    const specs: MatchSpec[] = [
      {},
      { repos: ["acme/api"] },
      { repos: ["acme/api", "acme/web"] },
      { repos: ["acme/*"] },
      { events: ["push"] },
      { events: ["push", "issues"] },
      { events: ["pu*"] },
      { events: ["push", "pull_request.closed"] },
      { actions: ["closed", "!opened"] },
      { branches: ["main"] },
      { branches: ["main", "dev"] },
      { branches: ["release/*"] },
      { tags: ["v*"] },
      { branches: ["main"], tags: ["v*"] },
      { paths: ["src/**"] },
      { actors: ["!bot"] },
      { actors: ["alice"] },
      { merged: true },
      { deleted: false },
      { deleted: true },
    ];
    const loose = fc.oneof(
      fc.constantFrom("acme/api", "push", "main", "v1", "closed"),
      fc.integer(),
      fc.constant(null),
      fc.constant(undefined),
      fc.boolean(),
    );
    const arbitraryEvent = fc.record(
      {
        provider: loose,
        event: loose,
        action: loose,
        repo: fc.oneof(loose, fc.record({ fullName: loose }, { requiredKeys: [] })),
        ref: loose,
        branch: loose,
        tag: loose,
        actor: loose,
        changedFiles: fc.oneof(loose, fc.array(loose)),
        pr: fc.oneof(loose, fc.record({ merged: loose }, { requiredKeys: [] })),
        deleted: loose,
      },
      { requiredKeys: [] },
    );
    const matchers = specs.map((spec) => compileMatcher(route(spec)));
    fc.assert(
      fc.property(fc.oneof(arbitraryEvent, loose), (event) => {
        for (const match of matchers) {
          const decision = match(event as unknown as WebhookEvent);
          expect(decision.reason)
            .to.be.a("string")
            .and.not.match(/could not be matched/);
        }
      }),
      { numRuns: runs(500) },
    );
  });
});

/** The plain definition the compiled glob list must agree with: picomatch's own matcher, per side. */
function referenceGlobList(list: readonly string[]): (value: string) => boolean {
  const options = { dot: true, strictBrackets: true };
  const includes = list.filter((p) => !p.startsWith("!"));
  const excludes = list.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
  const include = includes.length > 0 ? picomatch(includes, options) : () => true;
  const exclude = excludes.length > 0 ? picomatch(excludes, options) : () => false;
  return (value) => include(value) && !exclude(value);
}

describe("Function: decideChanges (a delivery that may carry several ref changes)", () => {
  const tag = tagPush("v1.0");
  const main = push({ deliveryId: "d-1#2" });
  const release = push({ deliveryId: "d-1#3", ref: "refs/heads/release/2", branch: "release/2" });
  const multi = { ...tag, otherChanges: [main, release] };
  const ids = (decision: { matched: WebhookEvent[] }) => decision.matched.map((e) => e.deliveryId);
  const cases: Array<[string, MatchSpec, WebhookEvent, string[], string]> = [
    ["one change that matches", { branches: ["main"] }, main, ["d-1#2"], MAIN],
    ["one change that does not", { branches: ["dev"] }, main, [], 'branch "main" does not match [dev]'],
    ["a later change only", { branches: ["main"] }, multi, ["d-1#2"], MAIN],
    [
      "several changes, in order, each with its reason",
      { events: ["push"] },
      multi,
      ["d-1", "d-1#2", "d-1#3"],
      "matched: repo acme/api, event push, tag v1.0; matched: repo acme/api, event push, branch main; matched: repo acme/api, event push, branch release/2",
    ],
    [
      "no change, counting the other changes",
      { branches: ["dev"] },
      multi,
      [],
      'tag "v1.0" is not a branch; branches: [dev]; nor did the push\'s 2 other ref changes',
    ],
    [
      "no change, of one other change",
      { branches: ["dev"] },
      { ...tag, otherChanges: [main] },
      [],
      'tag "v1.0" is not a branch; branches: [dev]; nor did the push\'s 1 other ref change',
    ],
  ];
  for (const [what, match, event, expected, reason] of cases) {
    it(`decideChanges: ${what}`, () => {
      const decision = decideChanges(compileMatcher(route(match)), event);
      expect(ids(decision)).to.deep.equal(expected);
      expect(decision.reason).to.equal(reason);
    });
  }
});

describe("Function: matchesTagPushes", () => {
  const cases: Array<[MatchSpec, boolean]> = [
    [{}, true],
    [{ events: ["push"] }, true],
    [{ branches: ["main"] }, false],
    [{ tags: ["v*"] }, true],
    [{ branches: ["main"], tags: ["v*"] }, true],
    [{ paths: ["src/**"] }, false],
    [{ tags: ["v*"], paths: ["src/**"] }, true],
  ];
  for (const [match, expected] of cases) {
    it(`matchesTagPushes(${JSON.stringify(match)}) is ${expected}: a branches or paths list without tags keeps tag pushes out`, () => {
      expect(matchesTagPushes(match)).to.equal(expected);
    });
  }
});

describe("Function: compileGlobList (against picomatch)", () => {
  it("compileGlobList agrees with picomatch's own matcher on every list and value", () => {
    const patterns = fc.constantFrom(
      "main",
      "release/*",
      "!release/old-*",
      "**",
      "!**",
      "acme/*",
      "!acme/legacy-*",
      "src/**",
      "!docs/**",
      "*.md",
      "v[0-9]*",
      "{a,b}/c",
      "feature/**/x",
      ".github/**",
      "*\\[bot\\]",
      "!*\\[bot\\]",
      "a?c",
      "!@(x|y)",
      "./main",
      "src/",
      "a//c",
      "a/./c",
      "release/1.0",
      "pull_request.closed",
      "team:repo",
    );
    const values = fc.oneof(
      fc.constantFrom(
        "",
        "main",
        "release/1",
        "release/old-1",
        "acme/api",
        "acme/legacy-x",
        "src/a/b.ts",
        "docs/x.md",
      ),
      fc.constantFrom(
        "README.md",
        ".github/workflows/ci.yml",
        "v1.2",
        "a/c",
        "b/c",
        "dependabot[bot]",
        "abc",
        "x",
        "y",
      ),
      fc.constantFrom(
        "./main",
        "src/",
        "src",
        "a//c",
        "a/./c",
        "release/1.0",
        "pull_request.closed",
        "team:repo",
      ),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(patterns, { maxLength: 4 }), values, (list, value) => {
        expect(compileGlobList(list)(value)).to.equal(referenceGlobList(list)(value));
      }),
      { numRuns: runs(1000) },
    );
  });

  it("compileGlobList with ignoreCase agrees with picomatch's nocase matcher, a value equal to a glob letter for letter in either case matching it too", () => {
    const options = { dot: true, strictBrackets: true, nocase: true };
    // One character against another as a RegExp `i` flag compares them, a character at a time.
    const sameLetter = (a: string, b: string) =>
      a === b || new RegExp(`^[${a.replace(/[\\\]^-]/g, "\\$&")}]$`, "i").test(b);
    const equalIgnoringCase = (glob: string, value: string) =>
      glob.length === value.length && [...glob].every((c, i) => sameLetter(c, value[i] as string));
    const reference = (list: readonly string[]) => {
      const side = (globs: string[]) => (value: string) =>
        picomatch(globs, options)(value) || globs.some((g) => equalIgnoringCase(g, value));
      const includes = list.filter((p) => !p.startsWith("!"));
      const excludes = list.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
      const include = includes.length > 0 ? side(includes) : () => true;
      const exclude = excludes.length > 0 ? side(excludes) : () => false;
      return (value: string) => include(value) && !exclude(value);
    };
    const recased = (text: string) =>
      fc
        .array(fc.boolean(), { minLength: text.length, maxLength: text.length })
        .map((flips) => [...text].map((c, i) => (flips[i] ? c.toUpperCase() : c.toLowerCase())).join(""));
    const texts = [
      "acme/api",
      "acme/*",
      "!acme/legacy-*",
      "ACME/Legacy-1",
      "platform/**",
      "platform/sub/api",
      "acme/[a-c]pi",
      "acme/{web,api}",
      "!@(x|y)/z",
      "./a",
      "café/*",
      "CAFÉ/x",
      "straße/x",
      "STRASSE/x",
      "k8s/x",
      "\u212A8s/x",
      "acme/apı",
    ];
    const text = fc.constantFrom(...texts).chain(recased);
    const value = fc.oneof(text, fc.string({ unit: fc.constantFrom(..."aAkK/é\u212Aı*"), maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), value, (list, v) => {
        fc.pre(list.every((glob) => globProblem(glob) === undefined));
        expect(compileGlobList(list, { ignoreCase: true })(v), `${JSON.stringify(list)} ${v}`).to.equal(
          reference(list)(v),
        );
      }),
      { numRuns: runs(1000) },
    );
  });
});

describe("Function: compileMatcher (a push that rewrote its branch, and paths)", () => {
  const OLD = "a".repeat(40);
  const NEW = "b".repeat(40);
  const repository = { name: "api", full_name: "acme/api", owner: { login: "acme" } };
  const onMainUnderSrc = compileMatcher(route({ branches: ["main"], paths: ["src/**"] }));
  const githubPush = (fields: Record<string, unknown>) =>
    normaliseDelivery(
      "github",
      bagOf({ "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1" }),
      { ref: "refs/heads/main", before: OLD, after: NEW, repository, sender: { login: "alice" }, ...fields },
      Buffer.from("{}"),
    );
  const gitlabPush = (fields: Record<string, unknown>) =>
    normaliseDelivery(
      "gitlab",
      bagOf({ "X-Gitlab-Event": "Push Hook" }),
      {
        object_kind: "push",
        ref: "refs/heads/main",
        before: OLD,
        after: NEW,
        checkout_sha: NEW,
        user_username: "alice",
        project: { path_with_namespace: "acme/api" },
        ...fields,
      },
      Buffer.from("{}"),
    );
  const giteaPush = (fields: Record<string, unknown>) =>
    normaliseDelivery(
      "gitea",
      bagOf({ "X-Gitea-Event": "push" }),
      {
        ref: "refs/heads/main",
        before: OLD,
        after: NEW,
        repository: { name: "api", full_name: "acme/api", owner: { username: "acme" } },
        ...fields,
      },
      Buffer.from("{}"),
    );
  const notAllKnown =
    "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)";

  it("a GitHub force push that resets main to an older commit (forced: true, no commits listed) matches paths: [src/**], its files not all known", () => {
    const event = githubPush({
      created: false,
      deleted: false,
      forced: true,
      commits: [],
      head_commit: { id: NEW },
    });
    expect(onMainUnderSrc(event)).to.deep.equal({ route: "api-build", matched: true, reason: notAllKnown });
  });

  it("a GitHub force push that drops a commit and lists one new commit outside src matches paths: [src/**], its files not all known", () => {
    const commits = [{ id: NEW, added: [], removed: [], modified: ["docs/index.md"] }];
    const event = githubPush({
      created: false,
      deleted: false,
      forced: true,
      commits,
      head_commit: { id: NEW },
    });
    expect(onMainUnderSrc(event)).to.deep.equal({ route: "api-build", matched: true, reason: notAllKnown });
  });

  it("a GitHub push that is not forced and lists one commit outside src is still refused by paths: [src/**]", () => {
    const commits = [{ id: NEW, added: [], removed: [], modified: ["docs/index.md"] }];
    const event = githubPush({
      created: false,
      deleted: false,
      forced: false,
      commits,
      head_commit: { id: NEW },
    });
    expect(onMainUnderSrc(event).matched).to.equal(false);
  });

  it("a GitLab push that rewinds main (no commits, total_commits_count 0, neither created nor deleted) matches paths: [src/**], its files not all known", () => {
    const event = gitlabPush({ commits: [], total_commits_count: 0 });
    expect(onMainUnderSrc(event)).to.deep.equal({ route: "api-build", matched: true, reason: notAllKnown });
  });

  it("a Gitea push that rewinds main (no commits, total_commits 0; Gitea sends no forced) matches paths: [src/**], its files not all known", () => {
    const event = giteaPush({ commits: [], total_commits: 0 });
    expect(onMainUnderSrc(event)).to.deep.equal({ route: "api-build", matched: true, reason: notAllKnown });
  });

  it("a push that creates main without listing commits (before all zeros, or GitHub's created: true) is still refused by paths: [src/**]", () => {
    const ZERO = "0".repeat(40);
    expect(
      onMainUnderSrc(gitlabPush({ before: ZERO, commits: [], total_commits_count: 0 })).matched,
    ).to.equal(false);
    expect(onMainUnderSrc(giteaPush({ before: ZERO, commits: [], total_commits: 0 })).matched).to.equal(
      false,
    );
    const created = githubPush({
      created: true,
      deleted: false,
      forced: false,
      commits: [],
      head_commit: { id: NEW },
    });
    expect(onMainUnderSrc(created).matched).to.equal(false);
  });
});

describe("Function: compileMatcher (a Gogs push, which lists at most 5 commits and no total)", () => {
  const gogsPush = (count: number) => {
    const commits = Array.from({ length: count }, (_, i) => ({
      id: String(i + 1).repeat(40),
      added: [],
      removed: [],
      modified: [`docs/page${i + 1}.md`],
    }));
    const payload = {
      ref: "refs/heads/main",
      before: "a".repeat(40),
      after: "1".repeat(40),
      commits,
      repository: { name: "api", full_name: "acme/api", owner: { username: "acme" } },
      pusher: { username: "alice" },
      sender: { username: "alice" },
    };
    // Gogs sends its own headers only (Gitea sends X-Gitea-* and copies them as X-Gogs-*).
    const headers = bagOf({ "X-Gogs-Event": "push", "X-Gogs-Delivery": "d-gogs-1" });
    return normaliseDelivery("gitea", headers, payload, Buffer.from(JSON.stringify(payload)));
  };
  const onMainUnderSrc = compileMatcher({
    ...route({ branches: ["main"], paths: ["src/**"] }),
    provider: "gitea",
  });

  it("a Gogs push listing 5 commits outside src (FEED_MAX_COMMIT_NUM's default) matches paths: [src/**], its files not all known", () => {
    expect(onMainUnderSrc(gogsPush(5))).to.deep.equal({
      route: "api-build",
      matched: true,
      reason:
        "matched: repo acme/api, event push, branch main, files not all known (the payload does not list every file the push changed)",
    });
  });

  it("a Gogs push listing 4 commits outside src, fewer than Gogs cuts to, is refused by paths: [src/**]", () => {
    expect(onMainUnderSrc(gogsPush(4)).reason).to.equal("no changed file matches [src/**]");
  });
});

describe("Function: compileMatcher (a globstar after a folder, which also takes the folder's own name)", () => {
  const cases: Array<[MatchSpec, string, string[], boolean]> = [
    [{ branches: ["release/**"] }, "release", ["a.ts"], true],
    [{ branches: ["release/**/*"] }, "release", ["a.ts"], false],
    [{ branches: ["release/**/*"] }, "release/1.0", ["a.ts"], true],
    [{ branches: ["main"], paths: ["docs/**"] }, "main", ["docs"], true],
    [{ branches: ["main"], paths: ["docs/**/*"] }, "main", ["docs"], false],
    [{ branches: ["main"], paths: ["docs/**/*"] }, "main", ["docs/a.md"], true],
  ];
  for (const [match, branch, changedFiles, matched] of cases) {
    it(`${JSON.stringify(match)} ${matched ? "takes" : "refuses"} a push to ${branch} changing ${changedFiles.join(", ")}`, () => {
      const decision = compileMatcher(route(match))(
        push({ ref: `refs/heads/${branch}`, branch, changedFiles }),
      );
      expect(decision.matched, decision.reason).to.equal(matched);
    });
  }
});

describe("Function: compileMatcher (a push whose commits carry no file lists)", () => {
  const before = "a".repeat(40);
  const after = "b".repeat(40);
  const repository = { name: "api", full_name: "acme/api", owner: { login: "acme" } };
  // As Gogs 0.10 (gogs/gogs#3897) and Gitea 1.4 (go-gitea/gitea#4313) sent a commit: no added, modified, removed.
  const withoutLists = { id: after, message: "Update 'src/app.ts'\n", timestamp: "2017-03-13T13:52:11Z" };
  const deliver = (header: string, commits: unknown[]) => {
    const payload = { ref: "refs/heads/main", before, after, repository, commits };
    const provider = header === "X-GitHub-Event" ? "github" : "gitea";
    const headers = bagOf({ [header]: "push", "X-GitHub-Delivery": "d-1", "X-Gitea-Delivery": "d-1" });
    return normaliseDelivery(provider, headers, payload, Buffer.from(JSON.stringify(payload)));
  };
  const UNKNOWN = `${MAIN}, files not all known (the payload does not list every file the push changed)`;
  const cases: Array<[string, string, unknown[], boolean, string]> = [
    [
      "a Gogs 0.10 push (no total) whose commit lists no files",
      "X-Gogs-Event",
      [withoutLists],
      true,
      UNKNOWN,
    ],
    ["a Gitea 1.4 push whose commit lists no files", "X-Gitea-Event", [withoutLists], true, UNKNOWN],
    ["a GitHub push whose commit omits the lists", "X-GitHub-Event", [withoutLists], true, UNKNOWN],
    [
      "a push with a commit outside src and one without lists",
      "X-Gitea-Event",
      [{ ...withoutLists, id: before, added: [], removed: [], modified: ["docs/a.md"] }, withoutLists],
      true,
      UNKNOWN,
    ],
    [
      "a Gogs push whose lists are null, as Go writes an empty list (an empty commit)",
      "X-Gogs-Event",
      [{ ...withoutLists, added: null, removed: null, modified: null }],
      false,
      "no changed file matches [src/**] (the delivery lists no changed files)",
    ],
    [
      "a Gogs push that modified docs/a.md only, its other lists null",
      "X-Gogs-Event",
      [{ ...withoutLists, added: null, removed: null, modified: ["docs/a.md"] }],
      false,
      "no changed file matches [src/**]",
    ],
  ];
  for (const [what, header, commits, matched, reason] of cases) {
    it(`paths: [src/**] ${matched ? "matches" : "refuses"} ${what}`, () => {
      const provider = header === "X-GitHub-Event" ? "github" : "gitea";
      const matcher = compileMatcher({ ...route({ branches: ["main"], paths: ["src/**"] }), provider });
      const decision = matcher(deliver(header, commits));
      expect([decision.matched, decision.reason]).to.deep.equal([matched, reason]);
    });
  }
});

describe("Function: compileMatcher (a Gogs pull request, which names base_branch and head_branch)", () => {
  const fixture = loadPayload("gogs/pull_request-closed-merged");
  const event = normaliseDelivery("gitea", bagOf(fixture.headers), fixture.payload, fixture.body);
  const cases: Array<[MatchSpec, boolean]> = [
    [{ events: ["pull_request.closed"], branches: ["master"], merged: true }, true],
    [{ events: ["pull_request.closed"], branches: ["main"], merged: true }, false],
  ];
  for (const [match, matched] of cases) {
    it(`a merged Gogs pull request into master ${matched ? "matches" : "does not match"} branches: [${match.branches}], merged: true`, () => {
      expect(compileMatcher({ ...route(match), provider: "gitea" })(event).matched).to.equal(matched);
    });
  }
});

describe("Function: compileMatcher (a tag push and paths, which are not tested for tags)", () => {
  const NEW = "b".repeat(40);
  const repository = { name: "api", full_name: "acme/api", owner: { login: "acme" } };
  const githubTagPush = () =>
    normaliseDelivery(
      "github",
      bagOf({ "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-3" }),
      {
        ref: "refs/tags/v1.2.0",
        before: "0".repeat(40),
        after: NEW,
        created: true,
        deleted: false,
        forced: false,
        commits: [],
        head_commit: { id: NEW },
        repository,
        sender: { login: "alice" },
      },
      Buffer.from("{}"),
    );

  it("a GitHub tag push (commits: [], as GitHub sends a new tag) matches tags: [v*] with paths: [src/**], saying paths are not tested for tags", () => {
    expect(compileMatcher(route({ tags: ["v*"], paths: ["src/**"] }))(githubTagPush())).to.deep.equal({
      route: "api-build",
      matched: true,
      reason: "matched: repo acme/api, event push, tag v1.2.0, a tag push (paths are not tested for tags)",
    });
  });

  it("a GitLab Tag Push Hook matches tags: [v*] with paths: [src/**]", () => {
    const event = normaliseDelivery(
      "gitlab",
      bagOf({ "X-Gitlab-Event": "Tag Push Hook" }),
      {
        object_kind: "tag_push",
        ref: "refs/tags/v1.2.0",
        before: "0".repeat(40),
        after: NEW,
        checkout_sha: NEW,
        user_username: "alice",
        project: { path_with_namespace: "acme/api" },
        commits: [],
        total_commits_count: 0,
      },
      Buffer.from("{}"),
    );
    expect(compileMatcher(route({ tags: ["v*"], paths: ["src/**"] }))(event).matched).to.equal(true);
  });

  it("a GitHub tag push does not match paths: [src/**] with neither branches nor tags, and the reason says to add tags", () => {
    for (const match of [{ paths: ["src/**"] }, { events: ["push"], paths: ["src/**"] }]) {
      const decision = compileMatcher(route(match))(githubTagPush());
      expect(decision.matched).to.equal(false);
      expect(decision.reason).to.equal(
        "no changed file matches [src/**] (a tag push lists no changed files; add tags to take tag pushes)",
      );
    }
  });

  it("a GitHub tag deletion, which lists no files, matches no route with deleted: true and paths: [src/**], with tags or without", () => {
    const examples = JSON.parse(
      readFileSync("node_modules/@octokit/webhooks-examples/api.github.com/index.json", "utf8"),
    ) as Array<{ name: string; examples: unknown[] }>;
    const deletedTag = examples.find((e) => e.name === "push")?.examples[1];
    const event = normaliseDelivery(
      "github",
      bagOf({ "X-GitHub-Event": "push", "X-GitHub-Delivery": "d-5" }),
      deletedTag,
      Buffer.from("{}"),
    );
    expect([event.deleted, event.tag]).to.deep.equal([true, "simple-tag"]);
    for (const match of [
      { deleted: true, paths: ["src/**"] },
      { deleted: true, tags: ["*"], paths: ["src/**"] },
    ]) {
      const decision = compileMatcher(route(match))(event);
      expect(decision.matched, JSON.stringify(match)).to.equal(false);
      expect(decision.reason).to.equal(
        "no changed file matches [src/**] (the delivery lists no changed files)",
      );
    }
  });

  it("a tag push still needs the route's tags to match, and a branch push or a tag's create event is still tested by paths", () => {
    expect(
      compileMatcher(route({ tags: ["release-*"], paths: ["src/**"] }))(githubTagPush()).matched,
    ).to.equal(false);
    const docsOnly = push({ changedFiles: ["docs/a.md"] });
    expect(compileMatcher(route({ paths: ["src/**"] }))(docsOnly).matched).to.equal(false);
    const create = normaliseDelivery(
      "github",
      bagOf({ "X-GitHub-Event": "create", "X-GitHub-Delivery": "d-4" }),
      { ref: "v1.2.0", ref_type: "tag", repository, sender: { login: "alice" } },
      Buffer.from("{}"),
    );
    expect(compileMatcher(route({ tags: ["v*"], paths: ["src/**"] }))(create).matched).to.equal(false);
  });
});

describe("Function: compileMatcher (a GitLab pipeline or job and a branches filter)", () => {
  const gitlabRoute = (match: MatchSpec) => ({ ...route(match), provider: "gitlab" as const });
  const pipelineOn = (ref: string, tag: boolean) =>
    normaliseDelivery(
      "gitlab",
      bagOf({ "X-Gitlab-Event": "Pipeline Hook" }),
      {
        object_kind: "pipeline",
        object_attributes: {
          id: 31,
          ref,
          tag,
          sha: "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
          status: "success",
        },
        user: { username: "alice" },
        project: { path_with_namespace: "acme/api" },
      },
      Buffer.from("{}"),
    );

  it("a GitLab pipeline on main matches events: [pipeline], branches: [main]", () => {
    const decision = compileMatcher(gitlabRoute({ events: ["pipeline"], branches: ["main"] }))(
      pipelineOn("main", false),
    );
    expect(decision).to.deep.equal({
      route: "api-build",
      matched: true,
      reason: "matched: repo acme/api, event pipeline, branch main",
    });
  });

  it("a merge request pipeline from a branch named main (a fork's too) is refused by events: [pipeline], branches: [main]", () => {
    const mrPipeline = normaliseDelivery(
      "gitlab",
      bagOf({ "X-Gitlab-Event": "Pipeline Hook" }),
      {
        object_kind: "pipeline",
        object_attributes: {
          id: 31,
          ref: "main",
          tag: false,
          sha: "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
          source: "merge_request_event",
          status: "success",
        },
        merge_request: { id: 99, iid: 15, source_branch: "main", source_project_id: 2, target_project_id: 1 },
        user: { username: "mallory" },
        project: { path_with_namespace: "acme/api" },
      },
      Buffer.from("{}"),
    );
    const decision = compileMatcher(gitlabRoute({ events: ["pipeline"], branches: ["main"] }))(mrPipeline);
    expect(decision.matched).to.equal(false);
    expect(decision.reason).to.equal('event "pipeline" has no branch or tag; branches: [main]');
  });

  it("a GitLab pipeline for a tag or a merge request is refused by branches: [main]", () => {
    const matcher = compileMatcher(gitlabRoute({ events: ["pipeline"], branches: ["main"] }));
    expect(matcher(pipelineOn("main", true)).reason).to.equal('tag "main" is not a branch; branches: [main]');
    expect(matcher(pipelineOn("refs/merge-requests/15/head", false)).reason).to.equal(
      'event "pipeline" has no branch or tag; branches: [main]',
    );
  });
});

describe("Function: compileMatcher (a GitLab pipeline or job, matched only by a route that lists it)", () => {
  const gitlabRoute = (match: MatchSpec) => ({ ...route(match), provider: "gitlab" as const });
  const SHA = "bcbb5ec396a2c0f828686f14fac9b80b780504f2";
  const project = { path_with_namespace: "acme/api", name: "api" };
  const jobOn = (ref: string, tag: boolean, status: string) =>
    normaliseDelivery(
      "gitlab",
      bagOf({ "X-Gitlab-Event": "Job Hook" }),
      {
        object_kind: "build",
        ref,
        tag,
        sha: SHA,
        before_sha: "a".repeat(40),
        build_id: 7,
        build_name: "test",
        build_status: status,
        user: { username: "alice" },
        project,
      },
      Buffer.from("{}"),
    );
  const pipelineOn = (ref: string) =>
    normaliseDelivery(
      "gitlab",
      bagOf({ "X-Gitlab-Event": "Pipeline Hook" }),
      {
        object_kind: "pipeline",
        object_attributes: { id: 31, ref, tag: false, sha: SHA, status: "running" },
        user: { username: "alice" },
        project,
      },
      Buffer.from("{}"),
    );

  it("a GitLab job's status change on main does not match branches: [main] without events, and the reason says to list job", () => {
    const decision = compileMatcher(gitlabRoute({ branches: ["main"] }))(jobOn("main", false, "running"));
    expect(decision.matched).to.equal(false);
    expect(decision.reason).to.equal(
      "a GitLab job event comes at each status change of the job; list job in events to act on it",
    );
  });

  it("a GitLab job's status change for tag v1.2.0 does not match tags: [v*] without events", () => {
    const decision = compileMatcher(gitlabRoute({ tags: ["v*"] }))(jobOn("v1.2.0", true, "pending"));
    expect(decision.matched, decision.reason).to.equal(false);
  });

  it("a GitLab pipeline on main does not match a route without events, with events: ['*'], or with events: ['!push']", () => {
    for (const match of [
      { branches: ["main"] },
      {},
      { events: ["*"] },
      { events: ["!push"], branches: ["main"] },
    ]) {
      const decision = compileMatcher(gitlabRoute(match))(pipelineOn("main"));
      expect(decision.matched, JSON.stringify(match)).to.equal(false);
      expect(decision.reason).to.equal(
        "a GitLab pipeline event comes at each status change of the pipeline; list pipeline in events to act on it",
      );
    }
  });

  it("a GitLab pipeline or job on main matches a route whose events list it (events: [pipeline, job], branches: [main])", () => {
    const matcher = compileMatcher(gitlabRoute({ events: ["pipeline", "job"], branches: ["main"] }));
    expect(matcher(pipelineOn("main")).matched).to.equal(true);
    expect(matcher(jobOn("main", false, "success")).matched).to.equal(true);
    expect(compileMatcher(gitlabRoute({ events: ["job"] }))(pipelineOn("main")).matched).to.equal(false);
  });
});

describe("Function: compileMatcher (GitHub's and Gitea's delete event, a deletion)", () => {
  const deleteOf = (provider: "github" | "gitea") =>
    normaliseDelivery(
      provider,
      bagOf(provider === "github" ? { "X-GitHub-Event": "delete" } : { "X-Gitea-Event": "delete" }),
      {
        ref: "feature/x",
        ref_type: "branch",
        pusher_type: "user",
        repository: { name: "api", full_name: "acme/api", owner: { login: "acme", username: "acme" } },
        sender: { login: "alice", username: "alice" },
      },
      Buffer.from("{}"),
    );

  for (const provider of ["github", "gitea"] as const) {
    it(`a ${provider} delete event for branch feature/x does not match branches: [feature/*] (no events, no deleted: true)`, () => {
      const decision = compileMatcher(route({ branches: ["feature/*"] }))(deleteOf(provider));
      expect(decision.matched).to.equal(false);
      expect(decision.reason).to.equal(
        'the delete event deleted branch "feature/x"; set match.deleted: true or list delete in events to act on deletions',
      );
    });

    it(`a ${provider} delete event for branch feature/x matches a route that lists delete in its events, or sets deleted: true with it`, () => {
      const event = deleteOf(provider);
      expect(compileMatcher(route({ events: ["delete"], branches: ["feature/*"] }))(event).matched).to.equal(
        true,
      );
      const both = route({ events: ["delete"], deleted: true, branches: ["feature/*"] });
      expect(compileMatcher(both)(event).matched).to.equal(true);
      // Without events, GitHub's push is the deletion; a Gitea branch's deletion comes as a delete event alone.
      const withoutEvents = compileMatcher(route({ deleted: true, branches: ["feature/*"] }))(event);
      expect(withoutEvents.matched).to.equal(provider === "gitea");
    });
  }
});
