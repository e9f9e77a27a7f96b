import examples from "@octokit/webhooks-examples";
import { expect } from "chai";
import { normaliseGitHubLike } from "../../src/core/events/github";
import { normaliseGitLab } from "../../src/core/events/gitlab";
import { compileMatcher } from "../../src/core/match";
import type { Route } from "../../src/core/types";
import {
  exactRepositories,
  hostEvents,
  subscribedEvents,
  webhookLimitProblems,
  webhookSetup,
  webhooksPerEventLimit,
} from "../../src/infra/webhookSetup";
import { githubProviderBaseUrl } from "../../src/infra/webhooks";
import { gitlabRoute, jenkinsRoute, prCleanupRoute, s3ZipRoute } from "./fixtures";

function withEvents(route: Route, events?: string[]): Route {
  return { ...route, match: { ...route.match, events } };
}

describe("subscribedEvents(route)", () => {
  const cases: [string, Route, string[]][] = [
    [
      "the route's literal events",
      withEvents(jenkinsRoute(), ["push", "release", "push"]),
      ["push", "release"],
    ],
    ["push for s3-zip without events", withEvents(s3ZipRoute(), undefined), ["push"]],
    ["pull_request for pr-cleanup without events", withEvents(prCleanupRoute(), undefined), ["pull_request"]],
    ["* for a glob", withEvents(jenkinsRoute(), ["pull_*"]), ["*"]],
    ["* when the route only excludes", withEvents(jenkinsRoute(), ["!ping"]), ["*"]],
    ["the included events, ignoring exclusions", withEvents(jenkinsRoute(), ["push", "!ping"]), ["push"]],
    [
      "the event of an event.action entry (hosts subscribe to events, not actions)",
      withEvents(jenkinsRoute(), ["pull_request.closed", "pull_request.opened", "push"]),
      ["pull_request", "push"],
    ],
    [
      "the event when only the action part has a glob",
      withEvents(jenkinsRoute(), ["pull_request.closed", "pull_request.merg*"]),
      ["pull_request"],
    ],
    [
      "pull_request for a route that filters on actions without events",
      { ...jenkinsRoute(), match: { ...jenkinsRoute().match, events: undefined, actions: ["opened"] } },
      ["pull_request"],
    ],
    [
      "pull_request for a route that filters on merged without events (only a pull request passes merged)",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], merged: true } },
      ["pull_request"],
    ],
    [
      "pull_request only for merged: false (a review's pull request reads not merged, but merged matches pull_request only)",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], merged: false } },
      ["pull_request"],
    ],
    [
      "pull_request only for merged: false with a review's action [submitted] (the route matches nothing)",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], merged: false, actions: ["submitted"] } },
      ["pull_request"],
    ],
    [
      "pull_request only for merged with an action pull_request and reviews share (edited)",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], merged: false, actions: ["edited", "resolved"] } },
      ["pull_request"],
    ],
    [
      "pull_request only for merged: true with a review's action",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], merged: true, actions: ["closed", "submitted"] } },
      ["pull_request"],
    ],
    [
      "pull_request for merged: false on GitLab (only a merge request has a pull request)",
      { ...gitlabRoute(), match: { repos: ["acme/api"], merged: false, actions: ["approved"] } },
      ["pull_request"],
    ],
    [
      "pull_request only for merged on Gitea (its review events carry the pull request, but merged matches pull_request only)",
      { ...jenkinsRoute(), provider: "gitea", match: { repos: ["acme/api"], merged: true } },
      ["pull_request"],
    ],
    [
      "pull_request only for merged on Bitbucket Data Center (not pr:comment:added and the other pr:* keys)",
      { ...jenkinsRoute(), provider: "bitbucket-server", match: { repos: ["ACME/api"], merged: false } },
      ["pull_request"],
    ],
    [
      "release (and the package events) for a route whose only action is release's published",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["published"] } },
      ["package", "registry_package", "release", "repository_advisory"],
    ],
    [
      "* for GitHub's deleted: no pull_request action there (release's, issue_comment's, ...), though Bitbucket Data Center's pull requests have it",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["deleted"] } },
      ["*"],
    ],
    [
      "* for GitHub's approved, another host's pull request action (GitLab's)",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["opened", "approved"] } },
      ["*"],
    ],
    [
      "pull_request for approved on GitLab, whose merge request has it",
      { ...gitlabRoute(), match: { repos: ["acme/api"], actions: ["approved"] } },
      ["pull_request"],
    ],
    [
      "pull_request for every action of GitHub's pull_request (milestoned, enqueued, ...)",
      {
        ...jenkinsRoute(),
        match: { repos: ["acme/api"], actions: ["milestoned", "enqueued", "auto_merge_enabled"] },
      },
      ["pull_request"],
    ],
    [
      "the events of every action: pull_request for opened, release for released",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["opened", "released"] } },
      ["pull_request", "release"],
    ],
    [
      "* for an action no table knows (created is many events'), or a glob",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["opened", "created"] } },
      ["*"],
    ],
    [
      "* for an action glob",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["review_*"] } },
      ["*"],
    ],
    [
      "* for actions that only exclude",
      { ...jenkinsRoute(), match: { repos: ["acme/api"], actions: ["!closed"] } },
      ["*"],
    ],
  ];
  for (const [what, route, events] of cases) {
    it(`subscribedEvents gives ${what}`, () => expect(subscribedEvents(route)).to.deep.equal(events));
  }
});

describe("subscribedEvents(route) against what match.ts lets through", () => {
  function example(event: string, action: string): Record<string, unknown> {
    const groups = examples as unknown as { name: string; examples: Record<string, unknown>[] }[];
    const found = groups.find((e) => e.name === event)?.examples.find((x) => x.action === action);
    if (!found) throw new Error(`@octokit/webhooks-examples has no ${event}.${action}`);
    return found;
  }

  for (const [event, action] of [
    ["pull_request_review", "submitted"],
    ["pull_request_review_comment", "created"],
    ["pull_request_review_comment", "deleted"],
    ["pull_request_review_thread", "resolved"],
  ] as const) {
    it(`merged: false neither matches nor subscribes GitHub's ${event}.${action} (its pull request reads not merged, but it is no pull_request event)`, () => {
      const payload = example(event, action);
      const repo = (payload.repository as { full_name: string }).full_name;
      const route: Route = { ...jenkinsRoute(), match: { repos: [repo], merged: false } };
      const event_ = normaliseGitHubLike("github", event, payload, "d1");
      const result = compileMatcher(route)(event_);
      expect(result.matched).to.equal(false);
      expect(result.reason).to.include(`event "${event}" is not pull_request; merged: false`);
      expect(subscribedEvents(route)).to.deep.equal(["pull_request"]);
    });
  }

  it("subscribes pull_request and merge_group for a Jenkins route with branches and no events, which the matcher takes for those branches", () => {
    const route: Route = {
      ...jenkinsRoute(),
      match: { repos: ["Codertocat/Hello-World", "octo-org/octo-repo"], branches: ["master", "main"] },
    };
    for (const [event, action] of [
      ["pull_request", "opened"],
      ["merge_group", "checks_requested"],
    ] as const) {
      const decision = compileMatcher(route)(
        normaliseGitHubLike("github", event, example(event, action), "d4"),
      );
      expect(decision.matched, `${event}: ${decision.reason}`).to.equal(true);
    }
    expect(subscribedEvents(route)).to.deep.equal(["merge_group", "pull_request", "push"]);
    // The webhook settings page of another host: its pull requests, no merge queue.
    expect(subscribedEvents({ ...route, provider: "gitlab" })).to.deep.equal(["pull_request", "push"]);
    expect(webhookSetup({ ...route, provider: "gitlab" }, "https://x").hostEvents).to.include(
      "Merge request events",
    );
  });

  it("ticks only the pull request settings that send new code for a Jenkins route with branches and no events, on each host", () => {
    const route: Route = { ...jenkinsRoute(), match: { repos: ["acme/api"], branches: ["main"] } };
    const ticked = (provider: Route["provider"]) =>
      webhookSetup({ ...route, provider }, "https://x").hostEvents;
    expect({
      bitbucket: ticked("bitbucket"),
      "bitbucket-server": ticked("bitbucket-server"),
      gitea: ticked("gitea"),
      gitlab: ticked("gitlab"),
    }).to.deep.equal({
      bitbucket: ["pullrequest:created", "pullrequest:updated", "repo:push"],
      "bitbucket-server": ["pr:opened", "pr:from_ref_updated", "repo:refs_changed"],
      gitea: ["pull_request", "pull_request_sync", "push"],
      // One setting sends every merge request event: the matcher leaves out those with no new code.
      gitlab: ["Merge request events", "Push events"],
    });
    // A route that names pull_request takes every action, so every setting is ticked.
    const named = {
      ...route,
      provider: "bitbucket-server" as const,
      match: { events: ["push", "pull_request"] },
    };
    expect(webhookSetup(named, "https://x").hostEvents).to.include.members(["pr:merged", "pr:modified"]);
  });

  it("subscribes push alone for branches with paths or deleted: true (no pull request passes them; GitHub's deletions come as delete events), or for s3-zip (it zips pushes only)", () => {
    const branches = { repos: ["Codertocat/Hello-World"], branches: ["master"] };
    const pullRequest = normaliseGitHubLike(
      "github",
      "pull_request",
      example("pull_request", "opened"),
      "d5",
    );
    for (const match of [
      { ...branches, paths: ["**"] },
      { ...branches, deleted: true },
    ] as Route["match"][]) {
      const route: Route = { ...jenkinsRoute(), match };
      expect(compileMatcher(route)(pullRequest).matched, JSON.stringify(match)).to.equal(false);
      // deleted: true without events takes a deletion from the push.
      expect(subscribedEvents(route)).to.deep.equal(["push"]);
      expect(subscribedEvents({ ...route, provider: "gitlab" })).to.deep.equal(["push"]);
    }
    expect(subscribedEvents({ ...s3ZipRoute(), match: branches })).to.deep.equal(["push"]);
  });

  it("subscribes the delete event, not push, where a route with deleted: true takes deletions from it (GitHub, Gitea); push on GitLab and Bitbucket, which have none", () => {
    const subscribed = (provider: Route["provider"], match: Route["match"]) =>
      webhookSetup({ ...jenkinsRoute(), provider, match }, "https://x");
    const cases: Array<[Route["provider"], Route["match"], string[], string[]]> = [
      ["github", { deleted: true }, ["push"], ["push"]],
      ["github", { events: ["push", "delete"], deleted: true }, ["delete"], ["delete"]],
      ["github", { events: ["push"], deleted: true }, ["push"], ["push"]],
      ["github", { events: ["push", "delete"] }, ["delete", "push"], ["delete", "push"]],
      ["gitea", { deleted: true }, ["delete"], ["delete"]],
      ["gitea", { events: ["push", "delete"], deleted: true }, ["delete"], ["delete"]],
      ["gitlab", { deleted: true }, ["push"], ["Push events", "Tag push events"]],
      ["bitbucket", { deleted: true }, ["push"], ["repo:push"]],
      ["bitbucket-server", { deleted: true }, ["push"], ["repo:refs_changed"]],
    ];
    for (const [provider, match, events, host] of cases) {
      const setup = subscribed(provider, match);
      expect([setup.events, setup.hostEvents], `${provider} ${JSON.stringify(match)}`).to.deep.equal([
        events,
        host,
      ]);
    }
  });

  it("merged: false still matches GitHub's pull_request.opened", () => {
    const route: Route = { ...jenkinsRoute(), match: { repos: ["Codertocat/Hello-World"], merged: false } };
    const event = normaliseGitHubLike("github", "pull_request", example("pull_request", "opened"), "d3");
    const decision = compileMatcher(route)(event);
    expect(decision.matched, decision.reason).to.equal(true);
  });

  it("leaves pull_request_review out for merged: true, which a review never matches (its pull request has no merged field)", () => {
    const route: Route = { ...jenkinsRoute(), match: { repos: ["Codertocat/Hello-World"], merged: true } };
    const event = normaliseGitHubLike(
      "github",
      "pull_request_review",
      example("pull_request_review", "submitted"),
      "d2",
    );
    expect(compileMatcher(route)(event).matched).to.equal(false);
    expect(subscribedEvents(route)).to.deep.equal(["pull_request"]);
  });
});

describe("githubProviderBaseUrl(apiUrl)", () => {
  const cases: [string, string][] = [
    ["https://api.github.com", "https://api.github.com/"],
    ["https://ghe.example.com/api/v3", "https://ghe.example.com/"],
    ["https://ghe.example.com/api/v3/", "https://ghe.example.com/"],
    ["https://api.acme.ghe.com", "https://api.acme.ghe.com/"],
  ];
  for (const [apiUrl, baseUrl] of cases) {
    it(`githubProviderBaseUrl(${apiUrl}) is ${baseUrl}: the provider adds api/v3/ itself`, () =>
      expect(githubProviderBaseUrl(apiUrl)).to.equal(baseUrl));
  }
});

describe("webhookLimitProblems(hooks, limit): GitHub's webhooks per event on one repository", () => {
  const hook = (route: string, events: string[], repository = "acme/api") => ({ route, repository, events });

  it("counts per repository (without case) and event: 3 push webhooks on acme/api pass a limit of 3, a 4th (as Acme/API) does not", () => {
    const three = [hook("a", ["push"]), hook("b", ["push", "release"]), hook("c", ["push"])];
    expect(webhookLimitProblems([...three, hook("x", ["push"], "acme/web")], 3)).to.deep.equal([]);
    expect(webhookLimitProblems([...three, hook("d", ["push"], "Acme/API")], 3)).to.deep.equal([
      "4 managed webhooks on acme/api subscribe to the push event, and GitHub takes at most 3 per event on a " +
        "repository (it refuses the next one in the middle of pulumi up): routes a, b, c, d. Give that repository " +
        "fewer routes, or set some of them up by hand as organization webhooks, which GitHub counts apart (the " +
        "stack creates repository webhooks only)",
    ]);
  });

  it("counts a webhook on every event (*) for each event, and for any event when alone", () => {
    // push: a and b; release: b and c. Within 2, past 1.
    const mixed = [hook("a", ["push"]), hook("b", ["*"]), hook("c", ["release"])];
    expect(webhookLimitProblems(mixed, 2)).to.deep.equal([]);
    expect(webhookLimitProblems(mixed, 1)).to.have.length(1);
    expect(webhookLimitProblems([hook("a", ["push"]), hook("b", ["*"]), hook("c", ["push"])], 2)[0]).to.match(
      /^3 managed webhooks on acme\/api subscribe to the push event \(1 of them to every event\), .*routes a, b, c\./,
    );
    expect(webhookLimitProblems([hook("a", ["*"]), hook("b", ["*"])], 1)[0]).to.match(
      /^2 managed webhooks on acme\/api subscribe to every event, .*routes a, b\./,
    );
  });

  it("webhooksPerEventLimit is 20 on github.com and 250 on GitHub Enterprise Server", () => {
    expect(webhooksPerEventLimit(undefined)).to.equal(20);
    expect(webhooksPerEventLimit("https://api.github.com")).to.equal(20);
    expect(webhooksPerEventLimit("https://ghe.example.com/api/v3")).to.equal(250);
  });

  it("webhooksPerEventLimit is 20 on GHE.com (api.<name>.ghe.com, GitHub Enterprise Cloud), GitHub's cloud", () => {
    expect(webhooksPerEventLimit("https://api.octocorp.ghe.com")).to.equal(20);
    expect(webhooksPerEventLimit("https://API.Octocorp.GHE.com/")).to.equal(20);
    expect(webhooksPerEventLimit("https://ghe.com.example.com/api/v3")).to.equal(250);
  });
});

describe("hostEvents(provider, events)", () => {
  it("names no GitHub-only event (package, registry_package, ...) for a host without it, and Gitea's review events by their one setting, pull_request_review", () => {
    expect(hostEvents("gitlab", ["package", "registry_package", "release"])).to.deep.equal([
      "Releases events",
    ]);
    expect(hostEvents("bitbucket", ["push", "release", "package", "registry_package"])).to.deep.equal([
      "repo:push",
    ]);
    expect(hostEvents("bitbucket-server", ["pull_request_review", "push"])).to.deep.equal([
      "repo:refs_changed",
    ]);
    expect(hostEvents("gitea", ["package", "registry_package", "release"])).to.deep.equal([
      "package",
      "release",
    ]);
    // Gitea has no setting per review type (pull_request_review_approved is a type, no checkbox).
    expect(
      hostEvents("gitea", ["pull_request_approved", "pull_request_comment", "pull_request_rejected"]),
    ).to.deep.equal(["pull_request_review"]);
    // GitHub keeps its own names.
    expect(hostEvents("github", ["package", "registry_package"])).to.deep.equal([
      "package",
      "registry_package",
    ]);
  });

  it("tells a Bitbucket route with actions [published] to tick every event, not GitHub's package or release", () => {
    const route: Route = {
      ...jenkinsRoute(),
      provider: "bitbucket",
      match: { repos: ["acme/api"], actions: ["published"] },
    };
    const setup = webhookSetup(route, "https://x.example/hooks/api-build");
    expect({ events: setup.events, hostEvents: setup.hostEvents }).to.deep.equal({
      events: ["*"],
      hostEvents: ["all events"],
    });
  });

  it("names the events as GitLab and Bitbucket do, and keeps GitHub's and Gitea's", () => {
    expect(hostEvents("gitlab", ["push", "pull_request"])).to.deep.equal([
      "Push events",
      "Merge request events",
    ]);
    expect(hostEvents("bitbucket", ["push"])).to.deep.equal(["repo:push"]);
    expect(hostEvents("bitbucket-server", ["push"])).to.deep.equal(["repo:refs_changed"]);
    expect(hostEvents("gitea", ["push"])).to.deep.equal(["push"]);
    expect(hostEvents("gitlab", ["*"])).to.deep.equal(["all events"]);
  });

  it("keeps an event name that is also an Object property (constructor, toString) as it is, for every host", () => {
    for (const provider of ["gitlab", "bitbucket", "bitbucket-server", "gitea"] as const) {
      expect(hostEvents(provider, ["constructor", "toString"]), provider).to.deep.equal([
        "constructor",
        "toString",
      ]);
    }
  });

  it("names GitLab's other hooks by their settings checkbox, under the event they become (Note Hook is note)", () => {
    // X-Gitlab-Event "Note Hook" becomes note, "Pipeline Hook" pipeline, ... (README, "What each host's
    // events become"); GitLab's webhook form labels them as integrations_helper.rb does.
    expect(hostEvents("gitlab", ["note", "pipeline", "job", "wiki_page"])).to.deep.equal([
      "Comments",
      "Pipeline events",
      "Job events",
      "Wiki page events",
    ]);
    expect(
      hostEvents("gitlab", ["deployment", "feature_flag", "emoji", "milestone", "resource_access_token"]),
    ).to.deep.equal([
      "Deployment events",
      "Feature flag events",
      "Emoji events",
      "Milestone events",
      "Project or group access token events",
    ]);
  });

  it("ticks GitLab's Confidential issues events for an issues route, which matches a Confidential Issue Hook that only that setting sends", () => {
    const route: Route = {
      ...gitlabRoute("issues-bot"),
      match: { repos: ["platform/*"], events: ["issues"] },
    };
    const payload = {
      object_kind: "issue",
      event_type: "confidential_issue",
      user: { username: "alice" },
      project: { path_with_namespace: "platform/api" },
      object_attributes: { iid: 7, action: "open", confidential: true },
    };
    const event = normaliseGitLab("Confidential Issue Hook", payload, "d-1");
    expect(compileMatcher(route)(event).matched).to.equal(true);
    expect(webhookSetup(route, "https://x/v1/hooks/issues-bot").hostEvents).to.deep.equal([
      "Issues events",
      "Confidential issues events",
    ]);
  });

  it("ticks GitLab's Confidential comments for confidential_note (a Confidential Note Hook), and only Comments for note", () => {
    expect(normaliseGitLab("Confidential Note Hook", {}, "d-1").event).to.equal("confidential_note");
    expect(hostEvents("gitlab", ["confidential_note"])).to.deep.equal(["Confidential comments"]);
    expect(hostEvents("gitlab", ["note"])).to.deep.equal(["Comments"]);
  });

  it("names every Gitea setting whose deliveries arrive as the route's event: a pull request's assign, label, milestone, review request and push arrive as pull_request", () => {
    // HookEventType.Event() (go-gitea modules/webhook/type.go) sends these types as X-Gitea-Event
    // pull_request, and each has a checkbox of its own on the webhook form (settings.tmpl): with "Pull
    // Request" alone, synchronize, assigned, labeled, milestoned and review_requested never arrive.
    expect(hostEvents("gitea", ["pull_request"])).to.deep.equal([
      "pull_request",
      "pull_request_assign",
      "pull_request_label",
      "pull_request_milestone",
      "pull_request_review_request",
      "pull_request_sync",
    ]);
    expect(hostEvents("gitea", ["issues"])).to.deep.equal([
      "issues",
      "issue_assign",
      "issue_label",
      "issue_milestone",
    ]);
    // A comment on a pull request (setting pull_request_comment) arrives as issue_comment.
    expect(hostEvents("gitea", ["issue_comment"])).to.deep.equal(["issue_comment", "pull_request_comment"]);
    expect(hostEvents("gitea", ["push", "release"])).to.deep.equal(["push", "release"]);
  });

  it("tells a Gitea route with actions [review_requested] or [assigned] to tick their settings", () => {
    const gitea = (actions: string[]): Route => ({
      ...jenkinsRoute(),
      provider: "gitea",
      match: { repos: ["acme/api"], actions },
    });
    expect(hostEvents("gitea", subscribedEvents(gitea(["review_requested"])))).to.include(
      "pull_request_review_request",
    );
    expect(hostEvents("gitea", subscribedEvents(gitea(["assigned"])))).to.include("pull_request_assign");
  });

  it("adds GitLab's Tag push events for a push route that matches tags, and Data Center's pr:deleted for pull requests", () => {
    expect(hostEvents("gitlab", ["push"], true)).to.deep.equal(["Push events", "Tag push events"]);
    expect(hostEvents("gitlab", ["push"], false)).to.deep.equal(["Push events"]);
    expect(hostEvents("bitbucket-server", ["pull_request"])).to.include("pr:deleted");
  });

  it("ticks Data Center's pr:modified for pull requests: a title, description or target branch change is pull_request.edited", () => {
    expect(hostEvents("bitbucket-server", ["pull_request"])).to.include("pr:modified");
  });
});

describe("webhookSetup(route, url) and exactRepositories(route)", () => {
  it("webhookSetup says where, what and which secret, never a secret value", () => {
    expect(webhookSetup(gitlabRoute(), "https://x/v1/hooks/platform-gitlab")).to.deep.equal({
      url: "https://x/v1/hooks/platform-gitlab",
      provider: "gitlab",
      contentType: "application/json",
      events: ["push"],
      hostEvents: ["Push events", "Tag push events"], // no branches filter: tag pushes match too
      secretName: "hookgate/gitlab-webhook",
      repositories: [],
    });
  });

  it("exactRepositories keeps owner/name entries and drops globs and exclusions", () => {
    const route = jenkinsRoute("r", [
      "acme/api",
      "acme/*",
      "!acme/old",
      "acme/web",
      "acme/{a,b}",
      "acme/api",
    ]);
    expect(exactRepositories(route)).to.deep.equal(["acme/api", "acme/web"]);
  });

  it("lists a GitLab project in a subgroup (platform/backend/api) where to add the webhook; GitHub keeps owner/name only", () => {
    const repos = ["platform/backend/api", "platform/web", "platform/backend/*"];
    const gitlab: Route = { ...gitlabRoute("backend-api"), match: { repos } };
    expect(webhookSetup(gitlab, "https://x/v1/hooks/backend-api").repositories).to.deep.equal([
      "platform/backend/api",
      "platform/web",
    ]);
    // GitHub, Gitea and Bitbucket nest no owners: such a name is no repository there.
    for (const provider of ["github", "gitea", "bitbucket", "bitbucket-server"] as const) {
      expect(exactRepositories({ ...gitlab, provider }), provider).to.deep.equal(["platform/web"]);
    }
  });

  it("exactRepositories counts Acme/API and acme/api as one repository (GitHub names are case-insensitive)", () => {
    expect(exactRepositories(jenkinsRoute("r", ["acme/api", "Acme/API", "acme/web"]))).to.deep.equal([
      "acme/api",
      "acme/web",
    ]);
  });
});
