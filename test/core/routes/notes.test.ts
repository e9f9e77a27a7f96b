import examples from "@octokit/webhooks-examples";
import { expect } from "chai";
import fc from "fast-check";
import { parseJenkinsCredentials, parseProviderToken } from "../../../src/actions/secrets";
import { normaliseGitLab } from "../../../src/core/events/gitlab";
import { normaliseDelivery } from "../../../src/core/events/normalise";
import { GITHUB_PULL_REQUEST_ACTIONS } from "../../../src/core/events/pullRequestEvents";
import { compileGlobList } from "../../../src/core/globs";
import { compileMatcher } from "../../../src/core/match";
import { KNOWN_PR_ACTIONS, routeNotes } from "../../../src/core/routes/notes";
import { parseRoutes } from "../../../src/core/routes/parse";
import { parseSecretShape } from "../../../src/core/secretValues";
import { renderTemplate } from "../../../src/core/templates";
import type { Provider, Route } from "../../../src/core/types";
import { bagOf, loadPayload, type PayloadFixtureName } from "../../fixtures/payloads";
import { runs } from "../../support/propertyRuns";

/** The notes `hookgate check` prints for one Jenkins route with this `match` (and `extra` keys, one a line). */
function notesFor(match: string, provider = "github", ...extra: string[]): string[] {
  const parsed = parseRoutes(
    `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    provider: ${provider}
    match: ${match}
${extra.map((line) => `    ${line}\n`).join("")}    action: { type: jenkins, job: x, parameters: { D: "{{deliveryId}}" } }
`,
    "routes.yaml",
  );
  expect(parsed.problems).to.deep.equal([]);
  return routeNotes(parsed.config?.routes ?? []);
}

/** The note on an event name the provider's deliveries never have, near no known name. */
function UNKNOWN(provider: string, which = `the README's "What each host's events become"`): string {
  return `is not an event name hookgate knows for ${provider} (see ${which}), and matching is exact: it matches only an event of that very name`;
}

describe("Function: routeNotes on event and action names", () => {
  it("notes a typo of an event name (a route on psuh never fires) and suggests the event", () => {
    expect(notesFor("{ events: [psuh] }")).to.deep.equal([
      'route r: event "psuh" is not a known event name, and matching is exact; did you mean "push"?',
    ]);
    expect(notesFor("{ events: [Push, pull_requests] }")).to.deep.equal([
      'route r: event "Push" is not a known event name, and matching is exact; did you mean "push"?',
      'route r: event "pull_requests" is not a known event name, and matching is exact; did you mean "pull_request"?',
    ]);
  });

  it("notes a host's own event name, which is renamed before matching: GitLab's tag_push is push with a tag", () => {
    expect(notesFor("{ events: [tag_push, merge_request] }", "gitlab")).to.deep.equal([
      'route r: event "tag_push" never matches: a GitLab tag push is event "push" with a tag: write events: [push] with tags: [...]',
      'route r: event "merge_request" never matches: GitLab merge requests are event "pull_request"',
    ]);
    expect(notesFor('{ events: ["pullrequest:fulfilled"] }', "bitbucket")).to.deep.equal([
      'route r: event "pullrequest:fulfilled" never matches: write "pull_request.closed" with merged: true',
    ]);
  });

  it('says an excluded tag_push excludes nothing and how to take branch pushes only, never to add tags (events: [push, "!tag_push"])', () => {
    expect(notesFor('{ events: [push, "!tag_push"] }', "github")).to.deep.equal([
      'route r: event "!tag_push" excludes nothing: a GitHub tag push is event "push" with a tag, which events cannot leave out, so this route takes every tag push; to take branch pushes only, write branches: ["**"] and drop it',
    ]);
    expect(notesFor('{ events: [push, "!Tag Push Hook"], tags: ["v*"] }', "gitlab")).to.deep.equal([
      'route r: event "!Tag Push Hook" excludes nothing: a GitLab tag push is event "push" with a tag, which events cannot leave out, so this route takes every tag push its tags take; to take branch pushes only, write branches: ["**"] and drop tags and "!Tag Push Hook"',
    ]);
    // branches without tags already leave tag pushes out.
    expect(notesFor('{ events: [push, "!tag_push"], branches: [main] }', "github")).to.deep.equal([
      'route r: event "!tag_push" excludes nothing: a GitHub tag push is event "push" with a tag, which events cannot leave out, and this route takes no tag push; drop it',
    ]);
  });

  it("following the excluded tag_push note gives a route that takes a branch push and no tag push, with no note", () => {
    const route = (match: string) => {
      const parsed = parseRoutes(
        `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: ${match}
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
        "routes.yaml",
      );
      expect(parsed.problems).to.deep.equal([]);
      return parsed.config?.routes[0] as Route;
    };
    const event = (name: PayloadFixtureName) => {
      const fixture = loadPayload(name);
      return normaliseDelivery(fixture.provider, bagOf(fixture.headers), fixture.payload, fixture.body);
    };
    const written = route('{ events: [push, "!tag_push"] }');
    expect(compileMatcher(written)(event("github/push-tag")).matched).to.equal(true);
    const fixed = route('{ events: [push], branches: ["**"] }');
    expect(routeNotes([fixed])).to.deep.equal([]);
    expect(compileMatcher(fixed)(event("github/push-tag")).matched).to.equal(false);
    expect(compileMatcher(fixed)(event("github/push")).matched).to.equal(true);
  });

  it('tells a route whose events hold only the excluded tag_push (events: ["!tag_push"]) to write events: [push] with branches: ["**"], a route with no note left that takes no pull request', () => {
    expect(notesFor('{ events: ["!tag_push"] }', "gitlab")).to.deep.equal([
      'route r: event "!tag_push" excludes nothing: a GitLab tag push is event "push" with a tag, which events cannot leave out, so this route takes every tag push; to take branch pushes only, write events: [push], branches: ["**"] in place of its events',
    ]);
    // Exclusions left beside it take every other event too, pull requests among them.
    expect(notesFor('{ events: ["!tag_push", "!issues"], tags: ["v*"] }', "gitlab")).to.deep.equal([
      'route r: event "!tag_push" excludes nothing: a GitLab tag push is event "push" with a tag, which events cannot leave out, so this route takes every tag push its tags take; to take branch pushes only, write events: [push], branches: ["**"] in place of its events and drop tags',
    ]);
    // Written as that note says: no further note (branches alone would be told to add events: [push]).
    expect(notesFor('{ events: [push], branches: ["**"] }', "gitlab")).to.deep.equal([]);
    expect(notesFor('{ branches: ["**"] }', "gitlab").join("\n")).to.contain(
      "branches without events also matches pull requests",
    );
  });

  it('tells a route whose events hold other events than push beside the excluded tag_push (events: ["*", "!tag_push"]) to write events: [push] with branches: ["**"], as branches: ["**"] with "*" takes a fork\'s pull request with no note', () => {
    expect(notesFor('{ events: ["*", "!tag_push"] }', "github")).to.deep.equal([
      'route r: event "!tag_push" excludes nothing: a GitHub tag push is event "push" with a tag, which events cannot leave out, so this route takes every tag push; to take branch pushes only, write events: [push], branches: ["**"] in place of its events',
    ]);
    expect(notesFor('{ events: [push, pull_request, "!tag_push"] }', "github")[0]).to.include(
      'write events: [push], branches: ["**"] in place of its events',
    );
    // The other fix, written: a fork's pull request is taken, and check says nothing of it.
    const fixture = loadPayload("github/pull_request-closed-merged-fork");
    const pullRequest = normaliseDelivery(
      fixture.provider,
      bagOf(fixture.headers),
      fixture.payload,
      fixture.body,
    );
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: { events: ["*"], branches: ["**"] }
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
      "routes.yaml",
    );
    const starBranches = parsed.config?.routes[0] as Route;
    expect(compileMatcher(starBranches)(pullRequest).matched).to.equal(true);
    expect(routeNotes([starBranches])).to.deep.equal([]);
  });

  it("says an excluded Bitbucket key excludes nothing, and gives the exclusion to write", () => {
    expect(notesFor('{ events: [pull_request, "!pr:opened"] }', "bitbucket-server")).to.deep.equal([
      'route r: event "!pr:opened" excludes nothing: write "!pull_request.opened"',
    ]);
    expect(notesFor('{ events: [pull_request, "!pullrequest:fulfilled"] }', "bitbucket")).to.deep.equal([
      'route r: event "!pullrequest:fulfilled" excludes nothing: it is "pull_request.closed" with merged: true, and events cannot tell a merged pull request from another: write "!pull_request.closed" to leave out every closed pull request',
    ]);
  });

  it("names the route's own host in the tag_push note: on a GitHub route, a GitHub tag push is push with a tag", () => {
    expect(notesFor("{ events: [tag_push] }", "github")).to.deep.equal([
      'route r: event "tag_push" never matches: a GitHub tag push is event "push" with a tag: write events: [push] with tags: [...]',
    ]);
    expect(notesFor('{ events: ["Tag Push Hook"] }', "gitea")).to.deep.equal([
      'route r: event "Tag Push Hook" never matches: a Gitea tag push is event "push" with a tag: write events: [push] with tags: [...]',
    ]);
    expect(notesFor("{ events: [tag_pushh] }", "bitbucket")[0]).to.contain(
      'near "tag_push", which never matches either: a Bitbucket Cloud tag push is event "push" with a tag',
    );
  });

  // [provider, entry, the note]: a host's own name with an action never matches either, whatever the action.
  const hostNamesWithAction: Array<[string, string, string]> = [
    ["gitlab", "merge_request.merge", 'GitLab merge requests are event "pull_request"'],
    ["gitlab", "Merge Request Hook.open", 'GitLab merge requests are event "pull_request"'],
    [
      "gitlab",
      "tag_push.created",
      'a GitLab tag push is event "push" with a tag: write events: [push] with tags: [...]',
    ],
    ["bitbucket", "pullrequest:fulfilled.closed", 'write "pull_request.closed" with merged: true'],
    ["bitbucket-server", "pr:merged.closed", 'write "pull_request.closed" with merged: true'],
  ];
  for (const [provider, entry, note] of hostNamesWithAction) {
    it(`notes ${entry} on ${provider} as the host's own name it is, with what to write`, () => {
      expect(notesFor(`{ events: ["${entry}"] }`, provider)).to.deep.equal([
        `route r: event "${entry}" never matches: ${note}`,
      ]);
    });
  }

  it("knows GitLab's events by the names its normaliser gives them: resource_access_token, not the object_kind access_token", () => {
    expect(normaliseGitLab("Resource Access Token Hook", {}, "d").event).to.equal("resource_access_token");
    expect(notesFor("{ events: [resource_access_token, confidential_note, job] }", "gitlab")).to.deep.equal(
      [],
    );
    expect(notesFor("{ events: [access_token, build] }", "gitlab")).to.deep.equal([
      'route r: event "access_token" never matches: GitLab\'s Resource Access Token Hook is event "resource_access_token"',
      'route r: event "build" never matches: GitLab\'s Job Hook is event "job"',
    ]);
  });

  it("notes a host's own action name that the normaliser renames: GitLab's issues.open, Gitea's release.updated", () => {
    expect(
      notesFor('{ events: ["issues.open", "release.update", "issues.opened"] }', "gitlab"),
    ).to.deep.equal([
      'route r: event "issues.open" never matches: GitLab\'s "open" is "opened" here: write "issues.opened"',
      'route r: event "release.update" never matches: GitLab\'s "update" is "edited" here: write "release.edited"',
    ]);
    expect(notesFor('{ events: ["release.updated", "pull_request.synchronized"] }', "gitea")).to.deep.equal([
      'route r: event "release.updated" never matches: Gitea\'s "updated" is "edited" here: write "release.edited"',
      'route r: event "pull_request.synchronized" never matches: Gitea\'s "synchronized" is "synchronize" here: write "pull_request.synchronize"',
    ]);
    // On GitHub "updated" is no renamed name, and "constructor" is no entry of any table.
    expect(notesFor('{ events: ["release.updated", "issues.constructor"] }', "github")).to.deep.equal([]);
    expect(notesFor('{ events: ["constructor.open"] }', "gitlab")).to.deep.equal([]);
  });

  it("notes Bitbucket's and Gitea's own names from the normalisers' tables: Data Center's pr:deleted, Gitea's pull_request_sync", () => {
    expect(notesFor('{ events: ["pr:deleted", "pr:merged"] }', "bitbucket-server")).to.deep.equal([
      'route r: event "pr:deleted" never matches: write "pull_request.closed" with merged: false',
      'route r: event "pr:merged" never matches: write "pull_request.closed" with merged: true',
    ]);
    expect(notesFor("{ events: [pull_request_sync, pull_request_review_approved] }", "gitea")).to.deep.equal([
      'route r: event "pull_request_sync" never matches: Gitea delivers it as event "pull_request"',
      'route r: event "pull_request_review_approved" never matches: Gitea delivers it as event "pull_request_approved"',
    ]);
  });

  it("notes no Gitea event type for a name some delivery carries: GitHub's pull_request_review_comment, Gitea's own pull_request_comment", () => {
    expect(notesFor("{ events: [pull_request_review_comment] }", "github")).to.deep.equal([]);
    // Gitea sends a review comment (type pull_request_review_comment) as event pull_request_comment.
    expect(notesFor("{ events: [pull_request_comment] }", "gitea")).to.deep.equal([]);
    expect(notesFor("{ events: [pull_request_review_comment] }", "gitea")).to.deep.equal([
      'route r: event "pull_request_review_comment" never matches: Gitea delivers it as event "pull_request_comment"',
    ]);
  });

  it("notes GitHub events no GitLab delivery has (issue_comment, create, delete), and says what GitLab sends instead", () => {
    expect(
      notesFor('{ events: [issue_comment, "issue_comment.created", create, delete, push, note] }', "gitlab"),
    ).to.deep.equal([
      'route r: event "issue_comment" never matches: GitLab delivers comments (on issues, merge requests and commits) as event "note"',
      'route r: event "issue_comment.created" never matches: GitLab delivers comments (on issues, merge requests and commits) as event "note"',
      'route r: event "create" never matches: GitLab delivers a new branch or tag as event "push"',
      'route r: event "delete" never matches: GitLab delivers a deleted branch or tag as event "push" (with deleted: true)',
    ]);
    expect(notesFor("{ events: [issue_comment, create, delete] }", "github")).to.deep.equal([]);
  });

  it("notes GitLab's merge request actions and typos of pull request actions", () => {
    expect(notesFor('{ events: ["pull_request.close"] }', "gitlab")).to.deep.equal([
      'route r: event "pull_request.close": action "close" matches no pull request: GitLab\'s "close" is action "closed"',
    ]);
    expect(notesFor("{ events: [pull_request], actions: [merge, closd] }", "gitlab")).to.deep.equal([
      'route r: action "merge" matches no pull request: GitLab\'s "merge" is action "closed" with merged: true',
      'route r: action "closd" matches no pull request; did you mean "closed"?',
    ]);
  });

  // [match, provider, the note]: a merged (or declined) pull request is a closed one, with merged set.
  const closing: Array<[string, string, string]> = [
    [
      "{ events: [pull_request], actions: [merged] }",
      "github",
      'route r: action "merged" matches no pull request: a merged pull request is action "closed" with merged: true',
    ],
    [
      '{ events: ["pull_request.merged"] }',
      "gitlab",
      'route r: event "pull_request.merged": action "merged" matches no pull request: a merged pull request is action "closed" with merged: true',
    ],
    [
      "{ events: [pull_request], actions: [declined] }",
      "bitbucket",
      'route r: action "declined" matches no pull request: a declined pull request is action "closed" with merged: false',
    ],
  ];
  for (const [match, provider, note] of closing) {
    it(`notes ${match} on ${provider}: ${note.slice(note.indexOf("matches"))}`, () => {
      expect(notesFor(match, provider)).to.deep.equal([note]);
    });
  }

  it("notes nothing for known events, globs, or GitLab issue actions", () => {
    expect(
      notesFor('{ events: [push, "pull_request.closed", release, "!ping", "pull_*", meta, team] }'),
    ).to.deep.equal([]);
    expect(notesFor("{ events: [issues], actions: [close, open] }", "gitlab")).to.deep.equal([]);
  });

  it("suggests nothing for event names hookgate delivers: GitHub's repository_advisory, GitLab's system hook events", () => {
    expect(notesFor("{ events: [repository_advisory] }")).to.deep.equal([]);
    expect(notesFor("{ events: [project_create, group_create, repository_update] }", "gitlab")).to.deep.equal(
      [],
    );
  });

  it("suggests no GitHub name for a Bitbucket event key hookgate delivers as it is (pullrequest:approved is an event of its own)", () => {
    expect(
      notesFor(
        '{ events: ["pullrequest:approved", "pullrequest:unapproved", "repo:commit_status_updated"] }',
        "bitbucket",
      ),
    ).to.deep.equal([]);
    expect(
      notesFor('{ events: ["pr:reviewer:approved", "pr:comment:added"] }', "bitbucket-server"),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on event names unknown for the route's provider, near no known one", () => {
  it("notes no name near no listed one on a GitHub, GitLab or Gitea route: those hosts deliver names hookgate does not list", () => {
    for (const provider of ["github", "gitlab", "gitea"]) {
      expect(notesFor("{ events: [push, tag, custom_thing] }", provider), provider).to.deep.equal([]);
    }
  });

  it("notes no GitHub event that @octokit/webhooks-examples has a payload of (code_scanning_alert, projects_v2_item, ...)", () => {
    const names = [...new Set((examples as Array<{ name: string }>).map((e) => e.name))];
    expect(names).to.include.members(["code_scanning_alert", "dependabot_alert", "projects_v2_item"]);
    const noted = names.filter((name) => notesFor(`{ events: [${name}] }`).length > 0);
    expect(noted).to.deep.equal([]);
  });

  it("notes no GitHub event of GitHub's webhook list that the examples lack (custom_property_values, sub_issues, secret_scanning_alert, projects_v2)", () => {
    for (const name of ["custom_property_values", "sub_issues", "secret_scanning_alert", "projects_v2"]) {
      expect(notesFor(`{ events: [${name}] }`), name).to.deep.equal([]);
    }
  });

  it("notes no Gitea wiki event (X-Gitea-Event: wiki)", () => {
    expect(notesFor("{ events: [wiki] }", "gitea")).to.deep.equal([]);
  });

  it("notes no GitLab system hook's user_access_request_* event, nor a group webhook's subgroup", () => {
    for (const name of [
      "user_access_request_to_group",
      "user_access_request_to_project",
      "user_access_request_revoked_for_group",
      "user_access_request_revoked_for_project",
      "subgroup",
    ]) {
      expect(notesFor(`{ events: [${name}] }`, "gitlab"), name).to.deep.equal([]);
    }
  });

  it("suggests no GitLab system hook name for a GitHub event (repository_import is not repository_update)", () => {
    expect(notesFor("{ events: [repository_import, repository_ruleset] }")).to.deep.equal([]);
    expect(notesFor("{ events: [repository_updat] }", "gitlab")).to.deep.equal([
      'route r: event "repository_updat" is not a known event name, and matching is exact; did you mean "repository_update"?',
    ]);
  });

  it("notes a Bitbucket event key on a route of another host, and a GitHub event name on a Bitbucket route", () => {
    expect(notesFor('{ events: ["repo:fork"] }')).to.deep.equal([
      `route r: event "repo:fork" ${UNKNOWN("github")}`,
    ]);
    expect(notesFor("{ events: [release] }", "bitbucket")).to.deep.equal([
      `route r: event "release" ${UNKNOWN("bitbucket", 'push, pull_request and Bitbucket\'s own event keys ("repo:fork")')}`,
    ]);
    expect(notesFor("{ events: [ping, release] }", "bitbucket-server")).to.deep.equal([
      `route r: event "release" ${UNKNOWN("bitbucket-server", 'push, pull_request, ping and Bitbucket\'s own event keys ("repo:fork")')}`,
    ]);
  });
});

describe("Function: routeNotes on filters no delivery passes together", () => {
  it("notes a route on push only with actions: a push has no action", () => {
    expect(notesFor("{ events: [push], actions: [closed] }")).to.deep.equal([
      "route r: events holds push only, and a push has no action: with actions, this route matches nothing; drop actions, or add the event they are of",
    ]);
  });

  it("notes a route on push only with merged, true or false: a push is not a pull request", () => {
    for (const merged of [true, false]) {
      expect(notesFor(`{ events: [push], merged: ${merged} }`)).to.deep.equal([
        `route r: events holds push only, and a push is not a pull request: with merged: ${merged}, this route matches nothing; drop merged, or match "pull_request" (a merge is a pull request closed with merged: true)`,
      ]);
    }
  });

  it("notes a route with merged and no events whose actions no pull request has: only pull_request passes merged", () => {
    const note = (merged: boolean, actions: string) =>
      `route r: merged: ${merged} lets only pull_request through, and it has no action ${actions}: this route matches nothing; drop merged, or name an action of pull_request (a merge is action "closed" with merged: true)`;
    expect(notesFor("{ merged: true, actions: [published, merged] }")).to.deep.equal([
      note(true, '"published" or "merged"'),
    ]);
    expect(notesFor("{ merged: false, actions: [published] }")).to.deep.equal([note(false, '"published"')]);
    // A pull request action, or a glob that may be one, leaves something to match.
    expect(notesFor("{ merged: true, actions: [published, closed] }")).to.deep.equal([]);
    expect(notesFor('{ merged: false, actions: ["clos*"] }')).to.deep.equal([]);
  });

  // GitHub's pull_request actions as its docs list them (github/docs#23909), written out here so that one
  // dropped from GITHUB_PULL_REQUEST_ACTIONS is caught.
  const githubPullRequestActions = [
    "assigned",
    "auto_merge_disabled",
    "auto_merge_enabled",
    "closed",
    "converted_to_draft",
    "demilestoned",
    "dequeued",
    "edited",
    "enqueued",
    "labeled",
    "locked",
    "milestoned",
    "opened",
    "ready_for_review",
    "reopened",
    "review_request_removed",
    "review_requested",
    "synchronize",
    "unassigned",
    "unlabeled",
    "unlocked",
  ];
  for (const action of githubPullRequestActions) {
    it(`does not say a GitHub route with merged: false and actions: [${action}] matches nothing: ${action} is a pull_request action`, () => {
      expect(
        notesFor(`{ merged: false, actions: [${action}] }`).filter((n) =>
          n.includes("lets only pull_request"),
        ),
      ).to.deep.equal([]);
    });
  }

  it("notes a route with merged and only a review's actions: a review is no pull_request event, so it matches nothing", () => {
    for (const action of ["submitted", "dismissed", "created", "resolved"]) {
      expect(notesFor(`{ merged: false, actions: [${action}] }`), action).to.deep.equal([
        `route r: merged: false lets only pull_request through, and it has no action "${action}": this route matches nothing; drop merged, or name an action of pull_request (a merge is action "closed" with merged: true)`,
      ]);
    }
    // Gitea's review action (reviewed) and Data Center's comment keys are not pull_request's either.
    expect(notesFor("{ merged: false, actions: [reviewed] }", "gitea")).to.have.length(1);
    expect(notesFor("{ merged: true, actions: [reviewed] }", "bitbucket-server")).to.have.length(1);
    // Data Center's pr:deleted of a declined pull request is pull_request with action deleted.
    expect(notesFor("{ merged: false, actions: [deleted] }", "bitbucket-server")).to.deep.equal([]);
  });

  it("notes a route with merged whose events hold no pull_request: only pull_request passes merged, so it matches nothing", () => {
    const note = (merged: boolean) =>
      `route r: merged: ${merged} lets only pull_request through, and events names no pull_request: this route matches nothing; drop merged, or add "pull_request" to events (a merge is "pull_request.closed" with merged: true)`;
    expect(notesFor("{ events: [pull_request_review], merged: false }")).to.deep.equal([note(false)]);
    expect(notesFor('{ events: ["pull_request_review.submitted"], merged: true }')).to.deep.equal([
      note(true),
    ]);
    expect(notesFor("{ events: [pull_request_approved], merged: false }", "gitea")).to.include(note(false));
    expect(notesFor('{ events: ["pr:comment:added"], merged: false }', "bitbucket-server")).to.include(
      note(false),
    );
    // pull_request, one of its actions, a glob that may be it, or only exclusions let it through.
    for (const events of [
      "[pull_request_review, pull_request]",
      '["pull_request.closed"]',
      '["pull_*"]',
      '["*.closed"]',
      '["!push"]',
    ]) {
      expect(notesFor(`{ events: ${events}, merged: true }`), events).to.deep.equal([]);
    }
  });

  // [provider, events, merged, the one note]: a host's own name for pull requests (or a near miss of one, or of
  // pull_request) is noted with what to write instead; the merged note's "drop merged" would be the wrong fix.
  const hostPullRequestNames: Array<[string, string, boolean, string]> = [
    [
      "gitlab",
      "merge_request",
      true,
      'event "merge_request" never matches: GitLab merge requests are event "pull_request"',
    ],
    [
      "gitlab",
      '"Merge Request Hook"',
      true,
      'event "Merge Request Hook" never matches: GitLab merge requests are event "pull_request"',
    ],
    [
      "github",
      "merge_request",
      false,
      'event "merge_request" never matches: GitLab merge requests are event "pull_request"',
    ],
    [
      "gitlab",
      "merge_requests",
      true,
      'event "merge_requests" is not a known event name, and matching is exact; near "merge_request", which never matches either: GitLab merge requests are event "pull_request"',
    ],
    [
      "github",
      "pull_requests",
      true,
      'event "pull_requests" is not a known event name, and matching is exact; did you mean "pull_request"?',
    ],
    [
      "bitbucket",
      '"pullrequest:created"',
      false,
      'event "pullrequest:created" never matches: write "pull_request.opened"',
    ],
    [
      "bitbucket",
      '"pullrequest:updated"',
      false,
      'event "pullrequest:updated" never matches: write "pull_request.synchronize"',
    ],
    [
      "bitbucket",
      '"pullrequest:fulfilled"',
      true,
      'event "pullrequest:fulfilled" never matches: write "pull_request.closed" with merged: true',
    ],
    [
      "bitbucket",
      '"pullrequest:rejected"',
      false,
      'event "pullrequest:rejected" never matches: write "pull_request.closed" with merged: false',
    ],
    [
      "bitbucket-server",
      '"pr:opened"',
      false,
      'event "pr:opened" never matches: write "pull_request.opened"',
    ],
    [
      "bitbucket-server",
      '"pr:from_ref_updated"',
      false,
      'event "pr:from_ref_updated" never matches: write "pull_request.synchronize"',
    ],
    [
      "bitbucket-server",
      '"pr:modified"',
      false,
      'event "pr:modified" never matches: write "pull_request.edited"',
    ],
    [
      "bitbucket-server",
      '"pr:merged"',
      true,
      'event "pr:merged" never matches: write "pull_request.closed" with merged: true',
    ],
    [
      "bitbucket-server",
      '"pr:declined"',
      false,
      'event "pr:declined" never matches: write "pull_request.closed" with merged: false',
    ],
    [
      "bitbucket-server",
      '"pr:deleted"',
      false,
      'event "pr:deleted" never matches: write "pull_request.closed" with merged: false',
    ],
    [
      "bitbucket-server",
      '"pr:reopened"',
      false,
      'event "pr:reopened" never matches: write "pull_request.reopened"',
    ],
    [
      "gitea",
      "pull_request_sync",
      false,
      'event "pull_request_sync" never matches: Gitea delivers it as event "pull_request"',
    ],
    [
      "gitea",
      "pull_request_assign",
      false,
      'event "pull_request_assign" never matches: Gitea delivers it as event "pull_request"',
    ],
    [
      "gitea",
      "pull_request_label",
      true,
      'event "pull_request_label" never matches: Gitea delivers it as event "pull_request"',
    ],
    [
      "gitea",
      "pull_request_milestone",
      false,
      'event "pull_request_milestone" never matches: Gitea delivers it as event "pull_request"',
    ],
    [
      "gitea",
      "pull_request_review_request",
      false,
      'event "pull_request_review_request" never matches: Gitea delivers it as event "pull_request"',
    ],
  ];
  for (const [provider, events, merged, note] of hostPullRequestNames) {
    it(`notes only what to write for ${events} with merged: ${merged} on ${provider}, not to drop merged`, () => {
      expect(notesFor(`{ events: [${events}], merged: ${merged} }`, provider)).to.deep.equal([
        `route r: ${note}`,
      ]);
      // With push beside it, too: the note says what makes the route take pull requests.
      expect(notesFor(`{ events: [push, ${events}], merged: ${merged} }`, provider)).to.deep.equal([
        `route r: ${note}`,
      ]);
    });
  }

  it("still notes merged for a host's name of another event, and for an excluded host's name: neither is pull_request once rewritten", () => {
    const merged =
      'route r: merged: false lets only pull_request through, and events names no pull_request: this route matches nothing; drop merged, or add "pull_request" to events (a merge is "pull_request.closed" with merged: true)';
    // Gitea's approval is pull_request_approved, which merged does not let through.
    expect(notesFor("{ events: [pull_request_review_approved], merged: false }", "gitea")).to.deep.equal([
      'route r: event "pull_request_review_approved" never matches: Gitea delivers it as event "pull_request_approved"',
      merged,
    ]);
    expect(notesFor('{ events: ["pullrequest:approved"], merged: false }', "bitbucket")).to.deep.equal([
      merged,
    ]);
    expect(notesFor('{ events: [push, "!merge_request"], merged: false }', "gitlab")).to.deep.equal([
      'route r: event "!merge_request" excludes nothing: GitLab merge requests are event "pull_request"',
      merged,
    ]);
  });

  it("does not throw, nor note merged, for an extglob of events that spans the dot (@(pull_request.closed|push)): it may be pull_request", () => {
    for (const events of ['["@(pull_request.closed|push)"]', '["+(pull_request.closed)"]']) {
      const notes = notesFor(`{ events: ${events}, merged: true }`);
      expect(
        notes.filter((n) => n.includes("merged: true lets only pull_request")),
        events,
      ).to.deep.equal([]);
    }
  });

  it("does not say a Gitea route with merged and a label action matches nothing: Gitea's pull_request carries label_updated and label_cleared", () => {
    for (const action of ["label_updated", "label_cleared"]) {
      expect(notesFor(`{ merged: false, actions: [${action}] }`, "gitea"), action).to.deep.equal([]);
    }
  });

  it("notes a route on pull requests only with tags and no branches: a pull request has no tag", () => {
    const note =
      "route r: events holds pull requests only, and a pull request has a branch (its base), never a tag: with tags and no branches, this route matches nothing; match branches, or add push for tag pushes";
    expect(notesFor('{ events: [pull_request], tags: ["v*"] }')).to.deep.equal([note]);
    expect(
      notesFor('{ events: ["pull_request.opened", "pull_request.closed"], tags: ["v*"] }'),
    ).to.deep.equal([note]);
  });

  it("notes none of these when another event, a glob of events or branches lets deliveries through", () => {
    expect(notesFor("{ events: [push, pull_request], merged: true, actions: [closed] }")).to.deep.equal([]);
    expect(notesFor('{ events: ["pu*"], actions: [closed] }')).to.deep.equal([]);
    expect(notesFor('{ events: [pull_request], tags: ["v*"], branches: [main] }')).to.deep.equal([]);
    expect(notesFor('{ events: [push], tags: ["v*"] }')).to.deep.equal([]);
  });
});

describe("Function: routeNotes on names, negated, among other events, or far from any known one", () => {
  it("notes a negated name as the name: !psuh is a typo of push, !open is GitLab's own action", () => {
    expect(notesFor('{ events: ["!psuh"] }')).to.deep.equal([
      'route r: event "psuh" is not a known event name, and matching is exact; did you mean "push"?',
    ]);
    expect(notesFor('{ events: [pull_request], actions: ["!open"] }', "gitlab")).to.deep.equal([
      'route r: action "open" matches no pull request: GitLab\'s "open" is action "opened"',
    ]);
  });

  it("notes a route's pull request actions when pull_request is one of several events", () => {
    expect(notesFor("{ events: [push, pull_request], actions: [closd] }")).to.deep.equal([
      'route r: action "closd" matches no pull request; did you mean "closed"?',
    ]);
  });

  it("notes nothing for an action far from any pull request action, a glob of events or actions, or a known event whose name is near an action's (delete)", () => {
    expect(notesFor('{ events: ["pull_request.frobnicate"] }')).to.deep.equal([]);
    expect(notesFor('{ events: ["pus*", pull_request], actions: ["clos*", "opene?"] }')).to.deep.equal([]);
    expect(notesFor("{ events: [delete, release] }")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on an s3-zip key a tag push cannot fill", () => {
  function s3Notes(match: string, key: string): string[] {
    const parsed = parseRoutes(
      `version: 1
defaults: { secret: hookgate/webhook }
providers: { github: { token: hookgate/t } }
routes:
  - name: z
    match: ${match}
    action: { type: s3-zip, key: "${key}" }
`,
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []);
  }
  const note =
    'route z: a tag push has no {{branch}}, so the key has an empty folder for it (e.g. "acme/api//x.zip") and the delivery fails; match branches only (branches: ["**"], no tags) or use {{tag}} or {{ref}} in the key';

  it("notes {{branch}} or {{ branch }} in the key of a route that takes every event, branches and tags", () => {
    expect(s3Notes('{ branches: [main], tags: ["v*"] }', "{{repo.path}}/{{branch}}/x.zip")).to.deep.equal([
      note,
    ]);
    expect(s3Notes('{ branches: [main], tags: ["v*"] }', "{{repo.path}}/{{ branch }}/x.zip")).to.deep.equal([
      note,
    ]);
  });

  const skipped =
    "route z: s3-zip zips pushed commits only and skips every other event, and this route's events hold no push: every delivery it matches is skipped; add push to its events";

  it("notes that every delivery is skipped, and nothing of tag pushes, for a route whose events leave out push, read as the matcher reads them", () => {
    for (const events of [
      "[pull_request]",
      '[release, "pull_request.closed"]',
      '["*", "!push"]',
      '["pull*"]',
    ]) {
      expect(
        s3Notes(`{ events: ${events}, branches: [main], tags: ["v*"] }`, "{{repo.path}}/{{branch}}/x.zip"),
        events,
      ).to.deep.equal([skipped]);
    }
  });

  it("notes that every delivery is skipped for a route with deleted: true (s3-zip skips a push that deleted its ref), and only that", () => {
    const deleted =
      "route z: s3-zip zips pushed commits only and skips a push that deleted its ref, and this route's deleted: " +
      "true takes deletions only: every delivery it matches is skipped; drop deleted";
    expect(
      s3Notes(
        '{ repos: ["acme/*"], events: [push], tags: ["v*"], deleted: true }',
        "{{repo.path}}/tags/{{tag}}.zip",
      ),
    ).to.deep.equal([deleted]);
    // Not the tag push note (a deletion's key is never used).
    expect(
      s3Notes('{ branches: [main], tags: ["v*"], deleted: true }', "{{repo.path}}/{{branch}}/x.zip"),
    ).to.deep.equal([deleted]);
    expect(s3Notes("{ events: [push], deleted: false }", "{{repo.path}}/{{sha}}.zip")).to.deep.equal([]);
  });

  it("gives the one fix for deleted: true with events holding no push (events: [delete]): drop deleted and write events: [push], after which no note is left", () => {
    // One note, not "add push" beside it: a delete event is skipped too.
    expect(s3Notes("{ events: [delete], deleted: true }", "{{repo.path}}/{{sha}}.zip")).to.deep.equal([
      "route z: s3-zip zips pushed commits only and skips a push that deleted its ref, and this route's deleted: " +
        "true takes deletions only: every delivery it matches is skipped; drop deleted and write events: [push] " +
        "(s3-zip skips every other event)",
    ]);
    expect(s3Notes("{ events: [push] }", "{{repo.path}}/{{sha}}.zip")).to.deep.equal([]);
  });

  it("tells a tags-only route with deleted: true and the default key to put {{tag}} in the key too, so each fix written as the note says is a route check accepts and notes nothing of", () => {
    /** The route's parse problems and notes, with the default key when `key` is undefined. */
    const checked = (match: string, key?: string) => {
      const parsed = parseRoutes(
        `version: 1
defaults: { secret: hookgate/webhook }
providers: { github: { token: hookgate/t } }
routes:
  - name: z
    match: ${match}
    action: { type: s3-zip${key === undefined ? "" : `, key: "${key}"`} }
`,
        "routes.yaml",
      );
      return {
        problems: parsed.problems.map((p) => p.message),
        notes: routeNotes(parsed.config?.routes ?? []),
      };
    };
    const tagKey = "{{repo.path}}/tag/{{tag}}/{{repo.underscored}}_{{tag}}.zip";
    const keyFix =
      `put {{tag}} in the key, as in key: "${tagKey}" (a folder of this key is empty for a tag push, which ` +
      "check refuses on a tags-only route without deleted)";
    const start =
      "route z: s3-zip zips pushed commits only and skips a push that deleted its ref, and this route's deleted: " +
      "true takes deletions only: every delivery it matches is skipped; ";
    // [the route, its note's fix, the route that fix writes]
    const cases: Array<[string, string, string]> = [
      ['{ tags: ["v*"], deleted: true }', `drop deleted and ${keyFix}`, '{ tags: ["v*"] }'],
      [
        '{ tags: ["v*"], events: [delete], deleted: true }',
        `drop deleted, write events: [push] (s3-zip skips every other event) and ${keyFix}`,
        '{ tags: ["v*"], events: [push] }',
      ],
    ];
    for (const [match, fix, fixed] of cases) {
      expect(checked(match), match).to.deep.equal({ problems: [], notes: [`${start}${fix}`] });
      // Dropping deleted alone is refused: the key is what the note's other half is for.
      expect(checked(fixed).problems, fixed).to.have.length(1);
      expect(checked(fixed, tagKey), fixed).to.deep.equal({ problems: [], notes: [] });
    }
    // With branches too, the key is filled on a branch push: dropping deleted is the whole fix.
    expect(checked('{ branches: [main], tags: ["v*"], deleted: true }').notes).to.deep.equal([
      `${start}drop deleted`,
    ]);
  });

  it("notes no skipping for a route whose events let pushes through: push, a glob that matches it, or no events", () => {
    for (const match of [
      "{ events: [push, pull_request] }",
      '{ events: ["pu*"] }',
      '{ events: ["*"] }',
      "{}",
    ]) {
      expect(s3Notes(match, "{{repo.path}}/{{sha}}.zip"), match).to.deep.equal([]);
    }
  });

  it("notes the tag push with {{branch}} in the key for a glob of events that takes push", () => {
    expect(
      s3Notes('{ events: ["pu*"], branches: [main], tags: ["v*"] }', "{{repo.path}}/{{branch}}/x.zip"),
    ).to.deep.equal([note]);
  });

  it("notes a key whose {{branch}} is part of a file name, the same for every tag: each tag push overwrites the last one's zip, it does not fail", () => {
    expect(s3Notes("{ events: [push] }", "{{repo.path}}/builds/{{branch}}.zip")).to.deep.equal([
      'route z: a tag push has no {{branch}}, so the key is e.g. "acme/api/builds/.zip" for every tag, each tag\'s zip ' +
        'overwriting the last; match branches only (branches: ["**"], no tags) or use {{tag}} or {{ref}} in the key',
    ]);
  });

  it("notes nothing of tag pushes for a key that holds {{tag}} or {{ref}} beside {{branch}} (each tag has its own), or a route that takes no tag push", () => {
    expect(s3Notes("{ events: [push] }", "{{repo.path}}/builds/{{branch}}{{tag}}.zip")).to.deep.equal([]);
    expect(s3Notes("{ events: [push] }", "{{repo.path}}/{{ref}}/{{branch}}.zip")).to.deep.equal([]);
    expect(s3Notes('{ events: [push], branches: ["**"] }', "{{repo.path}}/{{branch}}/x.zip")).to.deep.equal(
      [],
    );
    expect(s3Notes('{ events: [push], paths: ["src/**"] }', "{{repo.path}}/{{branch}}/x.zip")).to.deep.equal(
      [],
    );
  });
});

/** The notes for one pr-cleanup route on closed pull requests with these steps (and `more` of its action). */
function cleanupNotes(steps: string, more = ""): string[] {
  const parsed = parseRoutes(
    `version: 1
defaults: { secret: hookgate/webhook }
providers: { github: { token: hookgate/t } }
routes:
  - name: c
    match: { repos: [acme/api], events: [pull_request], actions: [closed] }
    action:
      type: pr-cleanup${more}
      steps: [${steps}]
`,
    "routes.yaml",
  );
  expect(parsed.problems).to.deep.equal([]);
  return routeNotes(parsed.config?.routes ?? []);
}

describe("Function: routeNotes on a pr-cleanup delete-branch step", () => {
  // GitHub: "Anyone with read permissions to a repository can create a pull request" (from any of its
  // branches); its author can close it. Unmerged, its head branch is then deleted.
  it("notes that delete-branch with onlyMerged: false deletes the branch of a pull request anyone who reads the repository can open and close", () => {
    expect(cleanupNotes("{ delete-branch: { onlyMerged: false } }")).to.deep.equal([
      "route c: delete-branch with onlyMerged: false deletes the head branch of every closed pull request from " +
        "this repository, merged or not: on GitHub anyone who can read the repository may open a pull request " +
        "from any of its branches and close it, which deletes that branch (unless it is protected). Keep " +
        "onlyMerged: true unless only people who may push can open pull requests",
    ]);
  });

  it("notes nothing for delete-branch with onlyMerged: true, or without onlyMerged", () => {
    expect(cleanupNotes("{ delete-branch: { onlyMerged: true } }")).to.deep.equal([]);
    expect(cleanupNotes("{ delete-branch: null }")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a pr-cleanup delete-s3-prefix step", () => {
  const prefixNotes = (prefix: string) =>
    cleanupNotes(`{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }`);

  it("notes a prefix that takes a payload field (a title its author writes could name another pull request's folder)", () => {
    expect(prefixNotes("{{repo.path}}/{{ payload.pull_request.title }}/")).to.deep.equal([
      "route c: delete-s3-prefix's prefix takes a field of the payload, which may be text the pull request's " +
        "author writes (a title, a label): a pull request titled like another's folder would delete that " +
        'folder; name the prefix after the pull request ("{{repo.path}}/pr-{{pr.number}}/")',
    ]);
  });

  it("notes a prefix named after the head branch (a fork's main is a head branch too)", () => {
    expect(prefixNotes("{{repo.path}}/branch/{{pr.headRef}}/")).to.deep.equal([
      "route c: delete-s3-prefix's prefix names a branch, and runs whatever delete-branch decided: a pull " +
        "request from a fork's main would delete your main's objects; name the prefix after the pull request " +
        '("{{repo.path}}/pr-{{pr.number}}/")',
    ]);
  });

  // With the number, a branch or a payload field beside it cannot name another pull request's folder.
  it("notes nothing for a prefix that holds the pull request's number beside a branch or a payload field", () => {
    expect(prefixNotes("{{repo.path}}/{{ payload.pull_request.title }}/pr-{{pr.number}}/")).to.deep.equal([]);
    expect(prefixNotes("{{repo.path}}/pr-{{pr.number}}/{{pr.headRef}}/")).to.deep.equal([]);
  });

  it("notes nothing for a prefix named after the pull request's number", () => {
    expect(prefixNotes("{{repo.path}}/pr-{{pr.number}}/")).to.deep.equal([]);
  });

  // A gitea route serves Gitea, Forgejo and Gogs: Gitea's pull request has base.repo, Gogs' base_repo
  // (test/fixtures/payloads/gitea, gogs), each empty on the other for every repository alike (review h491).
  const giteaNotes = (prefix: string) => {
    const parsed = parseRoutes(
      [
        "version: 1",
        "defaults: { secret: hookgate/webhook, provider: gitea }",
        'providers: { gitea: { token: hookgate/t, apiUrl: "https://git.example.com/api/v1" } }',
        "routes:",
        "  - name: c",
        "    match: { events: [pull_request], actions: [closed] }",
        `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
      ].join("\n"),
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []);
  };

  it("notes, on a gitea route, that Gogs' base_repo full name renders empty on Gitea and Forgejo", () => {
    expect(giteaNotes("p/{{ payload.pull_request.base_repo.full_name }}/pr-{{pr.number}}/")).to.deep.equal([
      "route c: delete-s3-prefix's prefix takes {{payload.pull_request.base_repo.full_name}}, which only Gogs " +
        "sends: on Gitea and Forgejo it renders empty, the same for every repository's pull request; write " +
        "{{repo.path}} in its place, sent by every host",
    ]);
  });

  it("notes, on a gitea route, that Gitea's base.repo full name renders empty on Gogs", () => {
    expect(giteaNotes("p/{{payload.pull_request.base.repo.full_name}}/pr-{{pr.number}}/")).to.deep.equal([
      "route c: delete-s3-prefix's prefix takes {{payload.pull_request.base.repo.full_name}}, which only Gitea " +
        "and Forgejo send: on Gogs it renders empty, the same for every repository's pull request; write " +
        "{{repo.path}} in its place, sent by every host",
    ]);
  });

  it("notes nothing of the base repository on a gitea route whose prefix takes {{repo.path}} or the repository's full_name", () => {
    expect(giteaNotes("p/{{repo.path}}/pr-{{pr.number}}/")).to.deep.equal([]);
    expect(giteaNotes("p/{{payload.repository.full_name}}/pr-{{pr.number}}/")).to.deep.equal([]);
  });

  // Gogs' pull request (gogs/gogs internal/database/pull.go APIFormat) has html_url, no url and no head object.
  const gogsNotes = (prefix: string) => giteaNotes(prefix).filter((note) => note.includes("Gogs"));
  const gogsPullRequest = () => {
    const fixture = loadPayload("gogs/pull_request-closed-merged");
    return normaliseDelivery(fixture.provider, bagOf(fixture.headers), fixture.payload, fixture.body);
  };

  it("renders a Gogs pull request's {{payload.pull_request.url}} empty and its html_url per pull request: what the Gogs note is about", () => {
    const event = gogsPullRequest();
    expect(renderTemplate("previews/{{payload.pull_request.url}}/", event, "s3-key")).to.equal("previews//");
    expect(renderTemplate("previews/{{payload.pull_request.html_url}}/", event, "s3-key")).to.equal(
      "previews/http%3A%2F%2Flocalhost%3A3000%2Fjohn%2Ftry-git%2Fpulls%2F2/",
    );
  });

  const gogsCases: Array<[string, string]> = [
    [
      "previews/{{payload.pull_request.url}}/",
      "route c: delete-s3-prefix's prefix names the pull request by {{payload.pull_request.url}}, which Gitea and " +
        'Forgejo send and Gogs (served as gitea) does not: on Gogs the prefix is "previews//", the same for every ' +
        "pull request, so a Gogs pull request's cleanup would delete the others' objects; write " +
        "'previews/{{payload.pull_request.html_url}}/', sent by every host",
    ],
    [
      "previews/{{payload.pull_request.url}}/pr-{{pr.number}}/",
      "route c: delete-s3-prefix's prefix tells repositories apart by {{payload.pull_request.url}}, which Gitea " +
        'and Forgejo send and Gogs (served as gitea) does not: on Gogs the prefix is "previews//pr-{{pr.number}}/", ' +
        "the same for every repository's pull request of one number, so a Gogs pull request's cleanup would " +
        "delete the others' objects; write 'previews/{{payload.pull_request.html_url}}/pr-{{pr.number}}/', sent " +
        "by every host",
    ],
    [
      "p/{{repo.path}}/{{ payload.pull_request.head.ref }}/",
      "route c: delete-s3-prefix's prefix names the pull request by {{payload.pull_request.head.ref}}, which Gitea " +
        'and Forgejo send and Gogs (served as gitea) does not: on Gogs the prefix is "p/{{repo.path}}//", the same ' +
        "for every pull request, so a Gogs pull request's cleanup would delete the others' objects; write " +
        "'p/{{repo.path}}/{{pr.headRef}}/', sent by every host",
    ],
    [
      "p/{{repo.path}}/{{payload.pull_request.head.sha}}/",
      "route c: delete-s3-prefix's prefix names the pull request by {{payload.pull_request.head.sha}}, which Gitea " +
        'and Forgejo send and Gogs (served as gitea) does not: on Gogs the prefix is "p/{{repo.path}}//", the same ' +
        "for every pull request, so a Gogs pull request's cleanup would delete the others' objects; write " +
        "'p/{{repo.path}}/{{pr.number}}/', sent by every host",
    ],
  ];
  for (const [prefix, note] of gogsCases) {
    it(`notes, on a gitea route, that ${prefix} names the pull request or repository by a field Gogs does not send`, () => {
      expect(gogsNotes(prefix)).to.deep.equal([note]);
    });
  }

  it("notes nothing of Gogs when the prefix names the pull request and repository by fields Gogs sends too", () => {
    expect(gogsNotes("previews/{{payload.pull_request.html_url}}/")).to.deep.equal([]);
    expect(gogsNotes("p/{{repo.path}}/pr-{{pr.number}}/{{payload.pull_request.head.ref}}/")).to.deep.equal(
      [],
    );
    expect(gogsNotes("p/{{repo.path}}/{{payload.pull_request.url}}/{{pr.headRef}}/")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a pr-cleanup jenkins step", () => {
  const jenkinsStepNotes = (step: string) =>
    cleanupNotes(step, '\n      jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }');
  const note =
    "route c: a pr-cleanup jenkins step names a branch in its job or parameters, and runs for every closed pull " +
    "request, a fork's too: a pull request from a fork's main would tear down what your main has; name what " +
    'it tears down after the pull request ("{{pr.number}}")';

  it("notes a teardown whose parameters or job name the head or base branch: a fork's pull request chooses it", () => {
    expect(
      jenkinsStepNotes('{ jenkins: { job: previews/teardown, parameters: { BRANCH: "{{pr.headRef}}" } } }'),
    ).to.deep.equal([note]);
    expect(jenkinsStepNotes('{ jenkins: { job: "previews/{{ pr.headRef.underscored }}" } }')).to.deep.equal([
      note,
    ]);
  });

  it("notes nothing for a teardown named after the pull request's number", () => {
    expect(
      jenkinsStepNotes('{ jenkins: { job: previews/teardown, parameters: { PR: "{{pr.number}}" } } }'),
    ).to.deep.equal([]);
  });

  const TEARDOWN = '{ jenkins: { job: previews/teardown, parameters: { PR: "{{pr.number}}" } } }';
  const PREFIX = '{ delete-s3-prefix: { bucket: previews, prefix: "{{repo.path}}/pr-{{pr.number}}/" } }';
  const notLast =
    "route c: a pr-cleanup jenkins step is not the last step: a retryable failure of a step after it (S3 " +
    "throttling, a Git host's 5xx) runs every step again; the retry looks for the build the step started and " +
    "triggers the job again when it cannot find it (Jenkins refused the look, or the build is not among the " +
    "job's 20 latest), and Jenkins merges that request into the first only while the first is still queued, " +
    "so the job may run twice. Put a single jenkins step last (two jenkins steps cannot both be last: let one " +
    "job trigger the other), or make each job safe to run twice";

  it("notes a jenkins step with a step after it: a retry of that step triggers the job again, and Jenkins may build twice", () => {
    expect(jenkinsStepNotes(`${TEARDOWN}, ${PREFIX}`)).to.deep.equal([notLast]);
  });

  it("words its advice for a route with two jenkins steps so that it can be followed (only one can be last)", () => {
    expect(jenkinsStepNotes(`${TEARDOWN}, { delete-branch: null }, ${TEARDOWN}`)).to.deep.equal([notLast]);
  });

  it("notes nothing for a jenkins step that is the last step", () => {
    expect(jenkinsStepNotes(`{ delete-branch: null }, ${PREFIX}, ${TEARDOWN}`)).to.deep.equal([]);
  });
});

describe("Function: routeNotes and parseRoutes on a Jenkins route whose job or parameters hold {{branch}}, which a tag push leaves empty", () => {
  function checked(match: string, action: string): { problems: string[]; notes: string[] } {
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: ${match}
    action: ${action}
`,
      "routes.yaml",
    );
    return {
      problems: parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`),
      notes: routeNotes(parsed.config?.routes ?? []),
    };
  }
  const tagsOnly = '{ events: [push], tags: ["v*"] }';

  it("refuses a tags-only route whose job has {{branch}} as a folder: every delivery's job has an empty segment and fails final", () => {
    expect(
      checked(tagsOnly, '{ type: jenkins, job: "deploy/{{branch}}", parameters: { SHA: "{{sha}}" } }'),
    ).to.deep.equal({
      problems: [
        '8:35 route "r" action.job: this route takes only tags, where {{branch}} is empty: ' +
          'the job is "deploy/" for it (has an invalid segment ""), so every delivery fails; use {{tag}} in the job',
      ],
      notes: [],
    });
  });

  // The sample was rendered for acme/api whatever repos said: "gitlab/acme%2Fapi/" on a platform/** route (h411).
  it("renders the job for the one repository repos names, and says e.g. before a sample another repository would change", () => {
    const job =
      '{ type: jenkins, job: "gitlab/{{repo.fullName}}/{{branch}}", parameters: { SHA: "{{sha}}" } }';
    expect(checked('{ repos: [platform/api], events: [push], tags: ["v*"] }', job).problems).to.deep.equal([
      '8:35 route "r" action.job: this route takes only tags, where {{branch}} is empty: ' +
        'the job is "gitlab/platform%2Fapi/" for it (has an invalid segment ""), so every delivery fails; use {{tag}} in the job',
    ]);
    expect(checked('{ repos: ["platform/**"], events: [push], tags: ["v*"] }', job).problems).to.deep.equal([
      '8:35 route "r" action.job: this route takes only tags, where {{branch}} is empty: ' +
        'the job is e.g. "gitlab/acme%2Fapi/" for it (has an invalid segment ""), so every delivery fails; use {{tag}} in the job',
    ]);
    // A sample no repository changes is the job itself, without e.g.
    expect(
      checked(
        '{ repos: ["platform/**"], events: [push], tags: ["v*"] }',
        '{ type: jenkins, job: "deploy/{{branch}}", parameters: { SHA: "{{sha}}" } }',
      ).problems[0],
    ).to.include('the job is "deploy/" for it');
  });

  it("tells a job on tags to use {{tag}}, never {{ref}}, which a job renders as one segment refs%2Ftags%2Fv1.0.0 that no tag job is named", () => {
    const told = checked(
      tagsOnly,
      '{ type: jenkins, job: "deploy/{{branch}}", parameters: { SHA: "{{sha}}" } }',
    );
    expect(told.problems).to.have.length(1);
    expect(told.problems[0]).to.match(/use \{\{tag\}\} in the job$/);
    expect(told.problems[0]).not.to.include("{{ref}}");
    // What it says to write passes.
    expect(
      checked(tagsOnly, '{ type: jenkins, job: "deploy/{{tag}}", parameters: { SHA: "{{sha}}" } }'),
    ).to.deep.equal({ problems: [], notes: [] });
  });

  it("refuses a tags-only route whose job has {{branch}} inside a name: every tag names the same job, which no tag has", () => {
    expect(
      checked(tagsOnly, '{ type: jenkins, job: "api/build-{{branch}}", parameters: { SHA: "{{sha}}" } }')
        .problems,
    ).to.deep.equal([
      '8:35 route "r" action.job: this route takes only tags, where {{branch}} is empty: ' +
        'the job is "api/build-" for every tag, a job no tag has; use {{tag}} in the job',
    ]);
  });

  it("notes, on a tags-only route, a parameter with {{branch}}: it is sent empty in every delivery", () => {
    expect(
      checked(
        tagsOnly,
        '{ type: jenkins, job: api/release, parameters: { BRANCH: "{{branch}}", SHA: "{{sha}}" } }',
      ),
    ).to.deep.equal({
      problems: [],
      notes: [
        'route r: a tag push has no {{branch}}, so Jenkins parameter "BRANCH" is sent as "" for it (this route matches only tags); use {{tag}} or {{ref}} in the parameter',
      ],
    });
  });

  it("notes, on a route that takes branch and tag pushes, a job left with an empty segment and a parameter sent empty by a tag push", () => {
    for (const match of ["{ events: [push] }", "{}", '{ events: [push], branches: [main], tags: ["v*"] }']) {
      expect(
        checked(
          match,
          '{ type: jenkins, job: "api/{{branch}}", parameters: { BRANCH: "refs/heads/{{branch}}", SHA: "{{sha}}" } }',
        ),
        match,
      ).to.deep.equal({
        problems: [],
        notes: [
          'route r: a tag push has no {{branch}}: the job is "api/" for it (has an invalid segment ""), so each tag push fails; ' +
            'match branches only (branches: ["**"], no tags) or use {{tag}} in the job',
          'route r: a tag push has no {{branch}}, so Jenkins parameter "BRANCH" is sent as "refs/heads/" for every tag; ' +
            'match branches only (branches: ["**"], no tags) or use {{tag}} or {{ref}} in the parameter',
        ],
      });
    }
  });

  it("says nothing of tag pushes for a route that takes none (branches, paths, or events without push), or a job and parameters that name the tag", () => {
    const action =
      '{ type: jenkins, job: "api/{{branch}}", parameters: { BRANCH: "{{branch}}", SHA: "{{sha}}" } }';
    for (const match of [
      '{ events: [push], branches: ["**"] }',
      '{ paths: ["src/**"] }',
      "{ events: [pull_request] }",
    ]) {
      expect(checked(match, action), match).to.deep.equal({ problems: [], notes: [] });
    }
    expect(
      checked(
        tagsOnly,
        '{ type: jenkins, job: "api/{{tag}}", parameters: { REF: "{{ref}}", SHA: "{{sha}}" } }',
      ),
    ).to.deep.equal({ problems: [], notes: [] });
    // {{branch}} beside {{tag}}: each tag its own job.
    expect(
      checked(tagsOnly, '{ type: jenkins, job: "api/{{tag}}{{branch}}", parameters: { SHA: "{{sha}}" } }'),
    ).to.deep.equal({ problems: [], notes: [] });
  });

  it("notes nothing of a parameter whose {{branch}} sits beside the tag ({{branch}}{{tag}} is v1.0.0 for a tag push): each tag sends its own value", () => {
    for (const match of [tagsOnly, "{ events: [push] }"]) {
      expect(
        checked(
          match,
          '{ type: jenkins, job: api/release, parameters: { REF: "{{branch}}{{tag}}", R: "{{ref}}#{{branch}}", SHA: "{{sha}}" } }',
        ),
        match,
      ).to.deep.equal({ problems: [], notes: [] });
    }
  });
});

describe("Function: routeNotes on a Jenkins parameter named as one of Jenkins' own request controls", () => {
  /** The notes for a jenkins route with these parameters (SHA differs per event, so no other note). */
  function parameterNotes(parameters: string): string[] {
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: { events: [push], branches: ["**"] }
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}", ${parameters} } }
`,
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []);
  }
  const delay =
    'Jenkins parameter "delay" is not only a build parameter: Jenkins reads delay as the quiet period before ' +
    'the build (a number of milliseconds, or of seconds with "sec"), and any other value fails the request; ' +
    "give the job's parameter another name";
  const token =
    'Jenkins parameter "token" is not only a build parameter: Jenkins reads token as the job\'s "Trigger builds ' +
    'remotely" authentication token: for a job that has one, any other value is refused (403), even for a ' +
    "user with Job/Build; with it and no cause parameter hookgate sends cause=hookgate delivery <id>, which a " +
    "job's own parameter named cause takes as its value, and as that differs per delivery Jenkins no longer " +
    "merges two requests close together into one queued build; give the job's parameter another name";
  const cause =
    'Jenkins parameter "cause" is not only a build parameter: Jenkins reads cause, with a token the job ' +
    "accepts, as the text of the build's cause (\"Started by remote host …\"); give the job's parameter another name";

  const ownCause = (what: string) =>
    `${what} send token with a cause without {{deliveryId}}: a retry after a lost build request takes a ` +
    "build with that cause and the same values, started since the delivery was accepted, as its own, another " +
    "delivery's too; put {{deliveryId}} in the cause, or leave cause out (hookgate then sends one naming the delivery)";

  it("notes parameters named delay, token and cause, saying what Jenkins does with each", () => {
    expect(
      parameterNotes('delay: "{{branch}}", token: "{{sha}}", cause: "push to {{branch}}"'),
    ).to.deep.equal([
      `route r: ${delay}`,
      `route r: ${token}`,
      `route r: ${cause}`,
      `route r: ${ownCause("its Jenkins parameters")}`,
    ]);
  });

  it("notes a route that sends token with its own cause without {{deliveryId}}: a retry may take another delivery's build as its own", () => {
    expect(parameterNotes('token: "t", cause: "push to main"')).to.include(
      `route r: ${ownCause("its Jenkins parameters")}`,
    );
    expect(
      cleanupNotes(
        '{ jenkins: { job: previews/teardown, parameters: { PR: "{{pr.number}}", token: "t", cause: "closed" } } }',
        '\n      jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }',
      ),
    ).to.include(`route c: ${ownCause("a pr-cleanup jenkins step's parameters")}`);
  });

  it("notes no own cause for a cause naming {{deliveryId}}, a token without cause, or a cause without token", () => {
    for (const parameters of [
      'token: "t", cause: "push {{ deliveryId }} to main"',
      'token: "t"',
      'cause: "push to main"',
    ]) {
      expect(parameterNotes(parameters).filter((note) => note.includes("{{deliveryId}}:"))).to.deep.equal([]);
    }
  });

  it("notes nothing for other names, another case of them (request parameter names are case-sensitive) or an Object member's name", () => {
    expect(
      parameterNotes('DELAY: "5", Token: "t", delays: "1", constructor: "x", toString: "y"'),
    ).to.deep.equal([]);
  });

  it("notes a pr-cleanup jenkins step's parameter named token", () => {
    expect(
      cleanupNotes(
        '{ jenkins: { job: previews/teardown, parameters: { PR: "{{pr.number}}", token: "{{pr.number}}" } } }',
        '\n      jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }',
      ),
    ).to.deep.equal([
      `route c: ${token.replace("Jenkins parameter", "a pr-cleanup jenkins step's parameter")}`,
    ]);
  });
});

describe("Function: routeNotes on a jenkins route with branches and no events", () => {
  const note =
    "route r: branches without events also matches pull requests into those branches (a pull request's " +
    "branch is its base) when opened, reopened, marked ready for review or given new commits (on GitHub, merge " +
    "queue groups too, at checks_requested; not a label, an edit or a close), whose {{sha}} is the head commit " +
    "its author chose, a fork's too: add events: [push] to build pushes only";

  it("notes that branches: [main] without events also runs for a pull request into main", () => {
    expect(notesFor("{ repos: [acme/api], branches: [main] }")).to.deep.equal([note]);
  });

  it("does not say a route with actions takes pull requests at new code only (its actions decide)", () => {
    const plain =
      "route r: branches without events also matches pull requests into those branches (a pull request's " +
      "branch is its base), whose {{sha}} is the head commit its author chose, a fork's too: add events: [push] " +
      "to build pushes only";
    expect(notesFor("{ repos: [acme/api], branches: [main], actions: [labeled] }")).to.include(plain);
  });

  it("does not say a gitlab route with branches or tags and no events runs for pipeline or job status changes (only a route listing them gets those)", () => {
    expect(notesFor("{ repos: [acme/api], branches: [main] }", "gitlab")).to.deep.equal([note]);
    expect(notesFor('{ tags: ["v*"] }', "gitlab").join("\n")).to.not.match(/pipeline|job/);
  });

  it("does not say a route with deleted: true matches pull requests: none deletes a ref, and its webhook subscribes push alone", () => {
    expect(notesFor("{ repos: [acme/api], branches: [main], deleted: true }").join("\n")).to.not.include(
      "also matches pull requests",
    );
  });

  it("does not say a route with paths matches pull requests: a pull request's delivery lists no changed file, so paths refuses it", () => {
    const match = '{ repos: ["**"], branches: ["**"], paths: ["**"] }';
    expect(notesFor(match)).to.deep.equal([]);
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: ${match}
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
      "routes.yaml",
    );
    const fixture = loadPayload("github/pull_request-closed-merged");
    const event = normaliseDelivery("github", bagOf(fixture.headers), fixture.payload, fixture.body);
    const decision = compileMatcher(parsed.config?.routes[0] as Route)(event);
    expect(decision.matched).to.equal(false);
    expect(decision.reason).to.contain("the delivery lists no changed files");
  });

  it("notes nothing when the route names its events, or filters no branch", () => {
    expect(notesFor("{ repos: [acme/api], events: [push], branches: [main] }")).to.deep.equal([]);
    expect(notesFor("{ repos: [acme/api], events: [push, pull_request], branches: [main] }")).to.deep.equal(
      [],
    );
    expect(notesFor("{ repos: [acme/api] }")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a glob of escapes that never matches the text it spells", () => {
  it("notes each such glob of every match list, with its key and what to write instead", () => {
    expect(
      notesFor(
        "{ repos: [acme/api], events: [push], branches: ['$$\\!a', main], paths: ['!docs/\\d'], actors: ['bot\\\\-x'] }",
      ),
    ).to.deep.equal([
      'route r: branches: glob "$$\\\\!a" never matches "$$!a", the text its escapes spell (the matcher escapes only the first "$" of a run and reads the next as an anchor): write "\\\\$\\\\$\\\\!a"',
      'route r: paths: glob "!docs/\\\\d" never matches "docs/d", the text its escapes spell (a "\\" before a letter or digit is a RegExp escape to the matcher, "\\d" any digit and "\\b" a word boundary): write "!docs/d"',
      'route r: actors: glob "bot\\\\\\\\-x" never matches "bot\\\\-x", the text its escapes spell (the matcher writes a run of "\\" as one or two, which loses an escaped "\\" before another escape or a character it escapes): write "bot[\\\\\\\\]-x"',
    ]);
  });

  it("notes nothing for escapes that match the text they spell: dependabot\\[bot\\], \\$\\$\\!a", () => {
    expect(
      notesFor(
        "{ repos: [acme/api], events: [push], branches: ['\\$\\$\\!a'], actors: ['!dependabot\\[bot\\]'] }",
      ),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a glob with a RegExp escape the matcher keeps (\\d, \\w, \\b, …)", () => {
  it("notes each glob, wildcards, braces and negations too, with its key, what the escape matches and what to write", () => {
    expect(
      notesFor(
        "{ repos: [acme/api], events: [push], tags: ['v\\d*', 'v*'], branches: ['{main,dev}\\w'], paths: ['!docs/\\b*'] }",
      ),
    ).to.deep.equal([
      'route r: branches: glob "{main,dev}\\\\w" has "\\w", which the matcher reads as a RegExp escape (a letter, digit or "_"), not the letter "w": write [A-Za-z0-9_] for a letter, digit or "_", or "w" alone for the letter',
      'route r: tags: glob "v\\\\d*" has "\\d", which the matcher reads as a RegExp escape (any digit), not the letter "d": write [0-9] for a digit, or "d" alone for the letter',
      'route r: paths: glob "!docs/\\\\b*" has "\\b", which the matcher reads as a RegExp escape (a word boundary, which is no character), not the letter "b": write "b" alone for the letter',
    ]);
  });

  it("notes a class opened by [! with its key: the matcher reads it as a class holding !", () => {
    expect(notesFor("{ repos: [acme/api], events: [push], branches: ['release/[!_]*'] }")).to.deep.equal([
      'route r: branches: glob "release/[!_]*" has "[!", which the matcher reads as a class holding "!", not as "not": write "[^" for any character but those in the class',
    ]);
  });

  it("notes nothing for a \\ before a letter the matcher reads as itself, or an escaped \\ before a letter", () => {
    expect(
      notesFor("{ repos: [acme/api], events: [push], tags: ['v\\a*'], paths: ['docs\\\\d/**'] }"),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on very broad allowIps entries", () => {
  function allowIpsNotes(...allowIps: string[]): string[] {
    return notesFor("{ events: [push] }", "github", `auth: { allowIps: ${JSON.stringify(allowIps)} }`).filter(
      (note) => note.includes(": allowIps: "),
    );
  }

  it("notes an IPv4 range wider than a /8, written as IPv4 or IPv4-mapped", () => {
    expect(allowIpsNotes("0.0.0.0/1", "::ffff:64.0.0.0/98")).to.deep.equal([
      `route r: allowIps: "0.0.0.0/1" is wider than a /8 and lets 2^31 IPv4 addresses deliver without a signature; list the host's published ranges`,
      `route r: allowIps: "::ffff:64.0.0.0/98" is wider than a /8 and lets 2^30 IPv4 addresses deliver without a signature; list the host's published ranges`,
    ]);
  });

  it("notes an IPv6 range wider than a /16", () => {
    expect(allowIpsNotes("2000::/3")).to.deep.equal([
      `route r: allowIps: "2000::/3" is wider than a /16 and lets a large part of the IPv6 Internet deliver without a signature; list the host's published ranges`,
    ]);
  });

  it("notes nothing for a /8, a /16 of IPv6, a host's published ranges or a mapped /104", () => {
    expect(
      allowIpsNotes(
        "10.0.0.0/8",
        "2001::/16",
        "104.192.136.0/21",
        "2401:1d80:1010::/64",
        "::ffff:10.0.0.0/104",
      ),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on what allowIps lets in (a fallback, from ranges all the host's customers share)", () => {
  /** The notes on auth.allowIps of one bitbucket route, with or without a secret of its own (no defaults.secret). */
  function trustNotes(secret: boolean, match: string, allowIps = "[104.192.136.0/21]"): string[] {
    const parsed = parseRoutes(
      `version: 1
defaults:
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    provider: bitbucket
${secret ? "    secret: hookgate/bitbucket-webhook\n" : ""}    auth: { allowIps: ${allowIps} }
    match: ${match}
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []).filter((note) =>
      note.startsWith("route r: auth.allowIps"),
    );
  }
  const BESIDE_SECRET =
    "route r: auth.allowIps beside a secret is no extra restriction: a delivery with no signature from those " +
    "addresses is accepted without the secret, and a signed one from any address; drop allowIps once the webhook signs";
  const SHARED =
    "a host's addresses are shared by every account on it (all customers of a SaaS host), so any of " +
    "them can have an unsigned webhook on its own repository delivered to this route";
  const NO_REPOS = `route r: auth.allowIps without repos: ${SHARED}; add repos naming your own owner ("acme/*")`;
  const NO_SECRET =
    "route r: auth.allowIps without a secret on Bitbucket Cloud: Atlassian's ranges also carry traffic other " +
    "Atlassian customers control (Pipelines steps with atlassian-ip-ranges), which can post any body from " +
    "them; give the webhook a secret and the route secret";
  const anyOwner = (glob: string) =>
    `route r: auth.allowIps with repos ${JSON.stringify(glob)}, which takes a repository of any owner: ${SHARED}; write the owner out in each repos entry`;

  const cases: Array<[string, boolean, string, string[]]> = [
    [
      "a secret and repos of one owner gets the note that it is no extra restriction",
      true,
      '{ repos: ["team/*"], events: [push] }',
      [BESIDE_SECRET],
    ],
    [
      "a secret and no repos gets that note and the one to add repos",
      true,
      "{ events: [push] }",
      [BESIDE_SECRET, NO_REPOS],
    ],
    [
      "no secret and repos of one owner gets only the note that Bitbucket Cloud's ranges vouch for no body",
      false,
      '{ repos: ["team/*", "team/api"] }',
      [NO_SECRET],
    ],
    [
      "no secret and no repos gets that note and the one to add repos",
      false,
      "{ events: [push] }",
      [NO_SECRET, NO_REPOS],
    ],
    [
      "no secret and repos of exclusions only gets the note to add repos",
      false,
      '{ repos: ["!team/secret"] }',
      [NO_SECRET, NO_REPOS],
    ],
    [
      "no secret and repos ** gets the note that it takes any owner",
      false,
      '{ repos: ["**"] }',
      [NO_SECRET, anyOwner("**")],
    ],
    [
      "no secret and repos */api beside team/* gets the note on */api",
      false,
      '{ repos: ["team/*", "*/api"] }',
      [NO_SECRET, anyOwner("*/api")],
    ],
    [
      "no secret and repos team*/api gets the note (an owner team-evil can be registered)",
      false,
      '{ repos: ["team*/api"] }',
      [NO_SECRET, anyOwner("team*/api")],
    ],
    [
      "no secret and repos {team,other}/* (two named owners) gets no note on its owners",
      false,
      '{ repos: ["{team,other}/*"] }',
      [NO_SECRET],
    ],
    [
      "no secret and repos te?m/* gets the note that it takes any owner",
      false,
      '{ repos: ["te?m/*"] }',
      [NO_SECRET, anyOwner("te?m/*")],
    ],
    [
      "no secret and repos [tu]eam/api gets the note (a class takes an owner ueam someone else can register)",
      false,
      '{ repos: ["[tu]eam/api"] }',
      [NO_SECRET, anyOwner("[tu]eam/api")],
    ],
    [
      "no secret and repos +(team)/api gets the note (an extglob takes an owner teamteam)",
      false,
      '{ repos: ["+(team)/api"] }',
      [NO_SECRET, anyOwner("+(team)/api")],
    ],
  ];
  for (const [what, secret, match, expected] of cases) {
    it(`allowIps with ${what}`, () => {
      expect(trustNotes(secret, match)).to.deep.equal(expected);
    });
  }

  it("gives the Bitbucket Cloud note only to a bitbucket route without a secret: not to Bitbucket Data Center, GitHub or a route with one", () => {
    const unsigned = (provider: string) =>
      routeNotes(
        parseRoutes(
          `version: 1
defaults:
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    provider: ${provider}
    auth: { allowIps: [104.192.136.0/21] }
    match: { repos: ["team/*"] }
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
          "routes.yaml",
        ).config?.routes ?? [],
      ).filter((note) => note.includes("Bitbucket Cloud"));
    expect(unsigned("bitbucket")).to.deep.equal([NO_SECRET]);
    expect(unsigned("bitbucket-server")).to.deep.equal([]);
    expect(unsigned("github")).to.deep.equal([]);
    expect(trustNotes(true, '{ repos: ["team/*"] }')).to.not.include(NO_SECRET);
  });

  it("notes nothing on a route without allowIps, a secret and no repos", () => {
    expect(trustNotes(true, "{ events: [push] }", "[]")).to.deep.equal([]);
  });

  it("counts defaults.secret as the route's secret", () => {
    const notes = notesFor(
      '{ repos: ["acme/*"], events: [push] }',
      "github",
      "auth: { allowIps: [192.30.252.0/22] }",
    );
    expect(notes.filter((note) => note.startsWith("route r: auth.allowIps"))).to.deep.equal([BESIDE_SECRET]);
  });
});

describe("Function: routeNotes on Bitbucket Cloud's pullrequest:updated", () => {
  const updated =
    "Bitbucket Cloud's pullrequest:updated, also sent for a title, description or reviewer edit without " +
    "saying which (BCLOUD-21940): the route may run again at a commit it ran for";
  const note = `route r: pull_request.synchronize is ${updated}`;

  it("notes that a bitbucket route on pull_request.synchronize also runs for a title, description or reviewer edit", () => {
    expect(notesFor('{ events: ["pull_request.synchronize"] }', "bitbucket")).to.deep.equal([note]);
    expect(notesFor("{ events: [pull_request], actions: [synchronize] }", "bitbucket")).to.deep.equal([note]);
  });

  // branches without events builds pull requests at new code, pullrequest:updated too (h411).
  it("notes that a bitbucket Jenkins route with branches and no events may build a pull request's commit again at a title, description or reviewer edit", () => {
    const implicit = `route r: the pull requests this route builds (branches without events) include ${updated}`;
    expect(notesFor("{ branches: [main] }", "bitbucket")).to.include(implicit);
    // With paths no pull request passes; with actions it takes what they name; elsewhere an edit is edited.
    expect(notesFor('{ branches: [main], paths: ["src/**"] }', "bitbucket").join("\n")).to.not.include(
      "BCLOUD",
    );
    expect(notesFor("{ branches: [main], actions: [opened] }", "bitbucket").join("\n")).to.not.include(
      "BCLOUD",
    );
    expect(notesFor("{ branches: [main] }", "github").join("\n")).to.not.include("BCLOUD");
    expect(notesFor("{ branches: [main] }", "bitbucket-server").join("\n")).to.not.include("BCLOUD");
  });

  it("keeps both notes within 300 characters after a 32-character route name", () => {
    const name = "a".repeat(32);
    for (const match of ["{ branches: [main] }", '{ events: ["pull_request.synchronize"] }']) {
      const parsed = parseRoutes(
        `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: ${name}
    provider: bitbucket
    match: ${match}
    action: { type: jenkins, job: x }
`,
        "routes.yaml",
      );
      expect(parsed.problems).to.deep.equal([]);
      const notes = routeNotes(parsed.config?.routes ?? []).filter((n) => n.includes("BCLOUD-21940"));
      expect(notes).to.have.length(1);
      expect(notes[0]).to.match(new RegExp(`^route ${name}: `));
      expect(notes[0]?.length, notes[0]).to.be.at.most(300);
    }
  });

  it("notes nothing for another provider's synchronize, or a bitbucket route on other actions", () => {
    expect(notesFor('{ events: ["pull_request.synchronize"] }', "github")).to.deep.equal([]);
    expect(notesFor('{ events: ["pull_request.synchronize"] }', "bitbucket-server")).to.deep.equal([]);
    expect(
      notesFor('{ events: ["pull_request.opened", "!pull_request.synchronize"] }', "bitbucket"),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on paths and tag pushes", () => {
  it("notes nothing of tag pushes for a route with paths and neither branches nor tags (it takes no tag push)", () => {
    expect(notesFor('{ paths: ["src/**"] }')).to.deep.equal([]);
    expect(notesFor('{ events: [push], paths: ["src/**"] }')).to.deep.equal([]);
  });

  it("notes nothing of tag pushes for a route with branches or tags", () => {
    expect(notesFor('{ events: [push], branches: ["**"], paths: ["src/**"] }')).to.deep.equal([]);
    expect(notesFor('{ events: [push], tags: ["v*"], paths: ["src/**"] }')).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a paths filter that rules out every delivery", () => {
  const noPush =
    "route r: paths tests the files a push changed, and this route's events hold no push: no other event lists " +
    "changed files (a pull request's delivery lists none), so the route never matches; drop paths, or add push";
  const bitbucket =
    "route r: paths cannot narrow Bitbucket pushes: Bitbucket push payloads list no files, so every push to a " +
    "branch matches, whatever it changed (a push to a tag is not tested by paths on a route with tags); drop " +
    "paths, or let the job skip what it need not build";

  it("notes that a route on pull_request only with paths: [src/**] never matches (pull request deliveries list no changed files)", () => {
    expect(notesFor('{ events: [pull_request], paths: ["src/**"] }')).to.deep.equal([noPush]);
    expect(
      notesFor('{ events: ["pull_request.opened", "pull_request.synchronize"], paths: ["src/**"] }'),
    ).to.deep.equal([noPush]);
  });

  it("notes that paths cannot narrow a bitbucket or bitbucket-server route's branch pushes (their payloads list no files: every one matches)", () => {
    expect(notesFor('{ events: [push], branches: [main], paths: ["src/**"] }', "bitbucket")).to.deep.equal([
      bitbucket,
    ]);
    expect(
      notesFor('{ events: [push], branches: [main], paths: ["src/**"] }', "bitbucket-server"),
    ).to.deep.equal([bitbucket]);
  });

  it("does not note that paths cannot narrow branch pushes on a bitbucket route on tags only (it takes none)", () => {
    for (const provider of ["bitbucket", "bitbucket-server"]) {
      expect(notesFor('{ events: [push], tags: ["v*"], paths: ["src/**"] }', provider)).to.deep.equal([]);
    }
    expect(notesFor('{ branches: [main], tags: ["v*"], paths: ["src/**"] }', "bitbucket")).to.include(
      bitbucket,
    );
  });

  it("notes that deleted: true with paths never matches (a deletion lists no changed files), and says only to drop paths", () => {
    const deleted =
      "route r: paths tests the files a push changed, and a push that deleted its branch or tag lists none (nor " +
      "does a delete event): with deleted: true, which takes deletions only, the route never matches; drop paths";
    const match = '{ repos: ["**"], events: [push], deleted: true, paths: ["**"] }';
    expect(notesFor(match)).to.deep.equal([deleted]);
    // Not "add push" for a route on delete only, nor Bitbucket's note beside it: neither fix helps.
    expect(notesFor('{ events: [delete], deleted: true, paths: ["src/**"] }')).to.deep.equal([deleted]);
    expect(notesFor(match, "bitbucket")).to.deep.equal([deleted]);
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: ${match}
    action: { type: jenkins, job: x, parameters: { SHA: "{{before}}" } }
`,
      "routes.yaml",
    );
    const fixture = loadPayload("github/push-deleted-branch");
    const event = normaliseDelivery("github", bagOf(fixture.headers), fixture.payload, fixture.body);
    expect(event.deleted).to.equal(true);
    expect(compileMatcher(parsed.config?.routes[0] as Route)(event).matched).to.equal(false);
  });

  it("notes nothing of paths for a route whose events let pushes through on a host that lists files", () => {
    for (const provider of ["github", "gitlab", "gitea"]) {
      expect(
        notesFor('{ events: [push, pull_request], branches: ["**"], paths: ["src/**"] }', provider),
      ).to.deep.equal([]);
      expect(notesFor('{ events: ["*"], branches: ["**"], paths: ["src/**"] }', provider)).to.deep.equal([]);
    }
  });
});

describe("Function: routeNotes on a branch or tag choice holding a space, which no ref name has", () => {
  it('notes branches: ["{main, master}"], whose choice " master" never matches master, and gives {main,master}', () => {
    expect(notesFor('{ events: [push], branches: ["{main, master}"] }')).to.deep.equal([
      'route r: branches: glob "{main, master}" has a choice holding a space (" master"), and Git refuses a space in a branch or tag name: no name is taken through it; write \'{main,master}\'',
    ]);
    // The premise and the fix, as the matcher reads them.
    expect(compileGlobList(["{main, master}"])("master")).to.equal(false);
    expect(compileGlobList(["{main,master}"])("master")).to.equal(true);
  });

  it("notes a spaced choice in tags, in an extglob and in an exclusion, each with the glob without the spaces", () => {
    expect(notesFor('{ events: [push], tags: ["v{1 ,2}.*"] }')).to.deep.equal([
      'route r: tags: glob "v{1 ,2}.*" has a choice holding a space ("1 "), and Git refuses a space in a branch or tag name: no name is taken through it; write \'v{1,2}.*\'',
    ]);
    expect(notesFor('{ events: [push], branches: ["@(main| master)"] }')[0]).to.contain(
      "no name is taken through it; write '@(main|master)'",
    );
    expect(notesFor('{ events: [push], branches: ["**", "!{main, master}"] }')[0]).to.contain(
      "write '!{main,master}'",
    );
  });

  it('says an exclusion\'s spaced choice ("!{main, master}") excludes nothing, so master is not excluded, never that no name is taken', () => {
    expect(notesFor('{ events: [push], branches: ["**", "!{main, master}"] }')).to.deep.equal([
      'route r: branches: glob "!{main, master}" has a choice holding a space (" master"), and Git refuses a space in a branch or tag name: no name is excluded through it: "master" is not excluded; write \'!{main,master}\'',
    ]);
    // The premise: the route takes master.
    expect(compileGlobList(["**", "!{main, master}"])("master")).to.equal(true);
  });

  it("gives no fix for a space inside a choice ({a b,c}), which removing spaces at its ends cannot mend, and names the choice whole across its slash", () => {
    expect(notesFor('{ events: [push], branches: ["{feature/a b,main}"] }')).to.deep.equal([
      'route r: branches: glob "{feature/a b,main}" has a choice holding a space ("feature/a b"), and Git refuses a space in a branch or tag name: no name is taken through it',
    ]);
  });

  it("gives the whole glob to write however long, and names each spaced choice whole across its slashes", () => {
    const glob = "{main, master, develop, release/2024-q1, release/2024-q2, hotfix/urgent-fix}";
    expect(notesFor(`{ events: [push], branches: ["${glob}"] }`)).to.deep.equal([
      'route r: branches: glob "{main, master, develop, release/2024-q1, release/2024-q2, ho…" has a choice holding a space (" master", " develop", " release/2024-q1", " release/2024-q2", " hotfix/urgent-fix"), and Git refuses a space in a branch or tag name: no name is taken through them; write \'{main,master,develop,release/2024-q1,release/2024-q2,hotfix/urgent-fix}\'',
    ]);
    expect(notesFor('{ events: [push], branches: ["{main, release/*}", "@(a| b/c)"] }')).to.deep.equal([
      'route r: branches: glob "{main, release/*}" has a choice holding a space (" release/*"), and Git refuses a space in a branch or tag name: no name is taken through it; write \'{main,release/*}\'',
      'route r: branches: glob "@(a| b/c)" has a choice holding a space (" b/c"), and Git refuses a space in a branch or tag name: no name is taken through it; write \'@(a|b/c)\'',
    ]);
  });

  it("names a spaced choice once though the glob holds it twice ({a, b}-{a, b})", () => {
    expect(notesFor('{ events: [push], branches: ["{a, b}-{a, b}"] }')).to.deep.equal([
      'route r: branches: glob "{a, b}-{a, b}" has a choice holding a space (" b"), and Git refuses a space in a branch or tag name: no name is taken through it; write \'{a,b}-{a,b}\'',
    ]);
  });

  it("notes no optional extglob that still matches without its space (main*( ), main?( ))", () => {
    expect(notesFor('{ events: [push], branches: ["main*( )", "main?( )"] }')).to.deep.equal([]);
    // The premise: each takes main.
    expect(compileGlobList(["main*( )"])("main")).to.equal(true);
    expect(compileGlobList(["main?( )"])("main")).to.equal(true);
  });

  it("notes nothing for choices without a space, a space in a class or a negated extglob, or a spaced choice in paths (a file's path may hold one)", () => {
    for (const match of [
      '{ events: [push], branches: ["{main,master}", "release/@(v1|v2)"] }',
      '{ events: [push], branches: ["feature/[ _]x", "x!( y)"] }',
      '{ events: [push], paths: ["{docs, src}/**"] }',
    ]) {
      expect(notesFor(match), match).to.deep.equal([]);
    }
  });
});

describe("Function: routeNotes on Gitea's label actions (label_updated, label_cleared; no labeled)", () => {
  const says = (action: string, write: string) =>
    `Gitea has no "${action}" action: it sends "label_updated" when labels are added or removed, and ` +
    `"label_cleared" when all are removed; write ${write}`;

  it("notes that a gitea route on pull_request.labeled or issues.unlabeled never matches, and what Gitea sends", () => {
    expect(notesFor('{ events: ["pull_request.labeled", "issues.unlabeled"] }', "gitea")).to.deep.equal([
      `route r: event "pull_request.labeled" never matches: ${says("labeled", '"pull_request.label_updated"')}`,
      `route r: event "issues.unlabeled" never matches: ${says("unlabeled", '"issues.label_updated"')}`,
    ]);
  });

  it("notes a gitea route's actions: [labeled]", () => {
    expect(notesFor("{ events: [pull_request], actions: [labeled] }", "gitea")).to.deep.equal([
      `route r: action "labeled" matches no Gitea delivery: ${says("labeled", "label_updated")}`,
    ]);
  });

  it("tells a gitea route that excludes labeled (actions: ['!labeled'], events: ['!pull_request.labeled']) to write the exclusion !label_updated, never label_updated", () => {
    expect(notesFor('{ events: [pull_request], actions: ["!labeled"] }', "gitea")).to.deep.equal([
      `route r: action "!labeled" excludes no Gitea delivery: ${says("labeled", '"!label_updated"')}`,
    ]);
    expect(notesFor('{ events: [pull_request, "!pull_request.labeled"] }', "gitea")).to.deep.equal([
      `route r: event "!pull_request.labeled" excludes nothing: ${says("labeled", '"!pull_request.label_updated"')}`,
    ]);
  });

  it("notes nothing for GitHub's labeled, or Gitea's label_updated", () => {
    expect(notesFor('{ events: ["pull_request.labeled"], actions: [labeled] }', "github")).to.deep.equal([]);
    expect(
      notesFor('{ events: ["pull_request.label_updated", "issues.label_cleared"] }', "gitea"),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a Jenkins job's URL where the controller's URL or the job belongs", () => {
  /** The notes for routes on the Jenkins controller `url`, each with its own job. */
  function jenkinsNotes(url: string, jobs: string[]): string[] {
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "${url}", credentials: hookgate/jenkins }
routes:
${jobs
  .map(
    (job, i) => `  - name: r${i}
    match: { events: [push] }
    action: { type: jenkins, job: "${job}", parameters: { SHA: "{{sha}}" } }`,
  )
  .join("\n")}
`,
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []);
  }

  it("notes a Jenkins url whose path holds /job/, once for the routes that use it, with the controller's URL and the job", () => {
    expect(jenkinsNotes("https://ci.example.com:8443/job/api/job/build/", ["x", "y"])).to.deep.equal([
      "routes r0, r1: the Jenkins url's path \"/job/api/job/build\" holds /job/, as a job's page does: hookgate adds /job/<folder>/job/<name> of the route's job to the url, so a build would be asked of a job inside that job; write the controller's URL (https://ci.example.com:8443) and the job as \"api/build\"",
    ]);
    expect(jenkinsNotes("https://example.com/jenkins/job/a", ["x", "y", "z", "w"])[0]).to.match(
      /^routes r0, r1, r2 and 1 more: .*write the controller's URL \(https:\/\/example\.com\/jenkins\) and the job as "a"$/,
    );
  });

  it("notes a job written as a job's URL path (job/api/job/build), the job build in the folders job/api/job", () => {
    expect(jenkinsNotes("https://ci.example.com", ["job/api/job/build"])).to.deep.equal([
      'route r0: job "job/api/job/build" is read as the job "build" in the folders "job/api/job"; written as a job\'s URL path, it is the job "api/build": write that, hookgate adds the /job/ of each folder',
    ]);
  });

  it("says to write the names of a job's URL path decoded once: job/api/job/feature%252Fx is the job api/feature%2Fx", () => {
    // The multibranch job of branch feature/x is the item feature%2Fx, at /job/api/job/feature%252Fx: the note's
    // "api/feature%252Fx" would be requested at /job/api/job/feature%25252Fx, a job that does not exist.
    expect(jenkinsNotes("https://ci.example.com", ["job/api/job/feature%252Fx"])).to.deep.equal([
      'route r0: job "job/api/job/feature%252Fx" is read as the job "feature%252Fx" in the folders "job/api/job"; written as a job\'s URL path, it is the job "api/feature%2Fx": write that, hookgate adds the /job/ of each folder',
    ]);
    expect(jenkinsNotes("https://ci.example.com", ["job/my%20app"])).to.deep.equal([
      'route r0: job "job/my%20app" is the job "my%20app" in a folder named job; if it is the top-level job of a URL ending /job/my%20app/, write "my app": hookgate adds the /job/',
    ]);
  });

  it("keeps a name of a job's URL path as written when decoding it once gives a / or a . or .. name", () => {
    // feature%2Fx decoded is feature/x, which hookgate would request as folder feature, job x.
    expect(jenkinsNotes("https://ci.example.com", ["job/api/job/feature%2Fx"])).to.deep.equal([
      'route r0: job "job/api/job/feature%2Fx" is read as the job "feature%2Fx" in the folders "job/api/job"; written as a job\'s URL path, it is the job "api/feature%2Fx": write that, hookgate adds the /job/ of each folder',
    ]);
    expect(jenkinsNotes("https://ci.example.com", ["job/feature%2Fx", "job/a/job/%2E%2E"])).to.deep.equal([
      'route r0: job "job/feature%2Fx" is the job "feature%2Fx" in a folder named job; if it is the top-level job of a URL ending /job/feature%2Fx/, write "feature%2Fx": hookgate adds the /job/',
      'route r1: job "job/a/job/%2E%2E" is read as the job "%2E%2E" in the folders "job/a/job"; written as a job\'s URL path, it is the job "a/%2E%2E": write that, hookgate adds the /job/ of each folder',
    ]);
  });

  it("notes a job job/deploy as a condition: a job in a folder named job, or a top-level job's URL path whose job is deploy", () => {
    expect(jenkinsNotes("https://ci.example.com", ["job/deploy"])).to.deep.equal([
      'route r0: job "job/deploy" is the job "deploy" in a folder named job; if it is the top-level job of a URL ending /job/deploy/, write "deploy": hookgate adds the /job/',
    ]);
    expect(jenkinsNotes("https://ci.example.com", ["job/a/job/b"])).to.have.length(1);
  });

  it("notes neither for a controller under a path of its own, or a job with a folder named job among others", () => {
    expect(
      jenkinsNotes("https://example.com/jenkins/", ["jobs/job", "job", "api/job/build", "job/a/b"]),
    ).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a typo of a host's own event name", () => {
  const cases: [string, string, string][] = [
    [
      "gitlab",
      "merge_requests",
      'near "merge_request", which never matches either: GitLab merge requests are event "pull_request"',
    ],
    [
      "gitlab",
      "mergerequest",
      'near "merge_request", which never matches either: GitLab merge requests are event "pull_request"',
    ],
    [
      "gitlab",
      "tag_pushh",
      'near "tag_push", which never matches either: a GitLab tag push is event "push" with a tag',
    ],
  ];
  for (const [provider, event, near] of cases) {
    it(`notes events: [${event}] on a ${provider} route with the name it is near and what to write`, () => {
      const notes = notesFor(`{ events: [${event}] }`, provider);
      expect(notes).to.have.length(1);
      expect(notes[0]).to.contain(
        `route r: event "${event}" is not a known event name, and matching is exact; ${near}`,
      );
    });
  }

  it("notes nothing for a real event name hookgate does not list (GitHub's code_scanning_alert, Gitea's wiki)", () => {
    expect(notesFor("{ events: [code_scanning_alert] }", "github")).to.deep.equal([]);
    expect(notesFor("{ events: [wiki] }", "gitea")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on merged: true with actions no merged pull request has", () => {
  const note = (actions: string) =>
    `route r: merged: true takes only a merged pull request, and no pull request is merged at action ${actions} (a merge is action "closed"; later events on a merged one, such as "labeled", carry merged: true too): this route matches nothing; write "closed" in their place (events: ["pull_request.closed"], or actions: [closed]), or drop merged`;
  // [provider, match, the actions the note names]: each lets through only opening or updating actions.
  const never: Array<[string, string, string]> = [
    ["github", '{ events: ["pull_request.opened"], merged: true }', '"opened"'],
    ["github", '{ events: ["pull_request.synchronize"], merged: true }', '"synchronize"'],
    ["github", '{ events: ["pull_request.reopened"], merged: true }', '"reopened"'],
    ["github", '{ events: ["pull_request.ready_for_review"], merged: true }', '"ready_for_review"'],
    ["github", '{ events: ["pull_request.converted_to_draft"], merged: true }', '"converted_to_draft"'],
    [
      "github",
      "{ events: [pull_request], actions: [opened, synchronize], merged: true }",
      '"opened" or "synchronize"',
    ],
    ["github", "{ actions: [opened], merged: true }", '"opened"'],
    ["github", '{ events: ["pull_request.*open*"], merged: true }', '"opened" or "reopened"'],
    ["github", '{ events: [push, "pull_request.opened"], merged: true }', '"opened"'],
    ["gitlab", '{ events: ["pull_request.opened"], merged: true }', '"opened"'],
    ["gitea", "{ events: [pull_request], actions: [synchronize], merged: true }", '"synchronize"'],
    // Bitbucket Cloud's pullrequest:updated: a merged pull request's title cannot change (BCLOUD-15190).
    ["bitbucket", '{ events: ["pull_request.synchronize"], merged: true }', '"synchronize"'],
    ["bitbucket-server", '{ events: ["pull_request.opened"], merged: true }', '"opened"'],
  ];
  for (const [provider, match, actions] of never) {
    it(`notes ${match} on ${provider}: a pull request at ${actions} is never merged`, () => {
      // Beside a Bitbucket route's note on pullrequest:updated (BCLOUD-21940), which says nothing of merged.
      const notes = notesFor(match, provider).filter((n) => !n.includes("BCLOUD-21940"));
      expect(notes).to.deep.equal([note(actions)]);
    });
  }

  // Later events on a merged pull request carry merged: true (a label added after the merge, an edit on
  // GitHub), as does any action hookgate does not list; merged: false takes opened pull requests.
  const taken = [
    '{ events: ["pull_request.closed"], merged: true }',
    '{ events: ["pull_request.labeled"], merged: true }',
    '{ events: ["pull_request.edited"], merged: true }',
    '{ events: ["pull_request.opened", "pull_request.closed"], merged: true }',
    "{ events: [pull_request], actions: [opened, labeled], merged: true }",
    '{ events: [pull_request], actions: ["!closed"], merged: true }',
    "{ events: [pull_request], merged: true }",
    '{ events: ["pull_request.*"], merged: true }',
    '{ events: ["pull_request.opened"], merged: false }',
    "{ actions: [opened], merged: false }",
  ];
  for (const match of taken) {
    it(`does not note ${match}: a merged pull request can pass`, () => {
      expect(notesFor(match).filter((n) => n.includes("no pull request is merged"))).to.deep.equal([]);
    });
  }

  // Data Center's edited is pr:modified: no source says it never comes for a merged pull request, and a note
  // saying so would have a working route drop merged (and then run on every edit of an open one).
  const dataCenterEdited = [
    '{ events: ["pull_request.edited"], merged: true }',
    "{ events: [pull_request], actions: [opened, edited], merged: true }",
  ];
  for (const match of dataCenterEdited) {
    it(`does not note ${match} on bitbucket-server: edited is judged as GitHub's, which a merged pull request has`, () => {
      expect(notesFor(match, "bitbucket-server")).to.deep.equal([]);
    });
  }

  // On any host's route: a key is not judged as Data Center's where GitHub edits a merged pull request.
  for (const provider of ["bitbucket-server", "github", "bitbucket"]) {
    it(`notes pr:modified with merged: true on ${provider} only as "pull_request.edited", never as a pull request never merged`, () => {
      expect(notesFor('{ events: ["pr:modified"], merged: true }', provider)).to.deep.equal([
        'route r: event "pr:modified" never matches: write "pull_request.edited"',
      ]);
    });
  }
});

describe("Function: routeNotes on merged: true beside an action no list of known actions holds", () => {
  // GitLab keeps a merge request action it has no GitHub name for as it is, and an action no list holds yet (a
  // host's new one, here "queued") may come on a merged merge request: a route that may take one is not said
  // to match nothing.
  const NEVER_MERGED = new Set([
    "opened",
    "reopened",
    "synchronize",
    "ready_for_review",
    "converted_to_draft",
  ]);
  const everyOtherKnown = [
    ...new Set([...GITHUB_PULL_REQUEST_ACTIONS, ...KNOWN_PR_ACTIONS, "label_updated", "label_cleared"]),
  ].filter((action) => !NEVER_MERGED.has(action));
  const cases: Array<[string, string]> = [
    [
      "events naming pull_request.queued beside pull_request.opened",
      '{ events: ["pull_request.opened", "pull_request.queued"], merged: true }',
    ],
    [
      "actions excluding every known action a merged pull request may have, which still takes the others",
      `{ events: [pull_request], actions: ${JSON.stringify(everyOtherKnown.map((a) => `!${a}`))}, merged: true }`,
    ],
  ];
  for (const [what, match] of cases) {
    it(`does not say merged: true matches nothing for ${what} (gitlab)`, () => {
      expect(notesFor(match, "gitlab").filter((n) => n.includes("no pull request is merged"))).to.deep.equal(
        [],
      );
    });
  }
});

describe("Function: routeNotes on a Bitbucket key with merged: true whose pull request is never merged", () => {
  const mergedNote = (key: string, write: string) =>
    `route r: merged: true takes only a merged pull request, and event "${key}", written "${write}" as the note on it says, is never merged (a merge is action "closed"): this route matches nothing; to run on a merge, write "pull_request.closed" in its place; to run at "${write}", write it and drop merged`;
  // [provider, key, what the host-name note says to write]: that action never carries merged: true, so a
  // merged note stays beside it (writing the key's action would still match nothing), and says what to write:
  // "drop merged" alone would leave the key, which never matches either.
  const keys: Array<[string, string, string]> = [
    ["bitbucket", "pullrequest:created", "pull_request.opened"],
    ["bitbucket", "pullrequest:updated", "pull_request.synchronize"],
    ["bitbucket-server", "pr:opened", "pull_request.opened"],
    ["bitbucket-server", "pr:from_ref_updated", "pull_request.synchronize"],
    ["bitbucket-server", "pr:reopened", "pull_request.reopened"],
  ];
  for (const [provider, key, write] of keys) {
    it(`notes ${key} with merged: true on ${provider} with what to write, and that merged then leaves nothing, never to drop merged alone`, () => {
      expect(notesFor(`{ events: ["${key}"], merged: true }`, provider)).to.deep.equal([
        `route r: event "${key}" never matches: write "${write}"`,
        mergedNote(key, write),
      ]);
    });

    it(`leaves no note once either fix the merged note gives for ${key} on ${provider} is written`, () => {
      // Bitbucket Cloud's note on pullrequest:updated (BCLOUD-21940) says what it sends, and asks no change.
      const notes = (match: string) => notesFor(match, provider).filter((n) => !n.includes("BCLOUD-21940"));
      const note = notes(`{ events: ["${key}"], merged: true }`).find((n) =>
        n.includes("merged: true takes"),
      );
      const fixes =
        /to run on a merge, write "([^"]+)" in its place; to run at "([^"]+)", write it and drop merged/.exec(
          note ?? "",
        );
      expect(fixes, note).not.to.equal(null);
      expect(notes(`{ events: ["${fixes?.[1]}"], merged: true }`)).to.deep.equal([]);
      expect(notes(`{ events: ["${fixes?.[2]}"] }`)).to.deep.equal([]);
    });
  }

  it("names every such key in one merged note, and their place takes pull_request.closed", () => {
    expect(notesFor('{ events: ["pr:opened", "pr:reopened"], merged: true }', "bitbucket-server")).to.include(
      'route r: merged: true takes only a merged pull request, and events "pr:opened" and "pr:reopened", written "pull_request.opened" and "pull_request.reopened" as the notes on them say, are never merged (a merge is action "closed"): this route matches nothing; to run on a merge, write "pull_request.closed" in their place; to run at "pull_request.opened" and "pull_request.reopened", write them and drop merged',
    );
  });

  it("names a rename two keys share once (pr:opened and pullrequest:created are both pull_request.opened)", () => {
    expect(
      notesFor('{ events: ["pr:opened", "pullrequest:created"], merged: true }', "bitbucket-server"),
    ).to.include(
      'route r: merged: true takes only a merged pull request, and events "pr:opened" and "pullrequest:created", written "pull_request.opened" as the notes on them say, are never merged (a merge is action "closed"): this route matches nothing; to run on a merge, write "pull_request.closed" in their place; to run at "pull_request.opened", write it and drop merged',
    );
  });

  it("keeps the plain merged note for a key with an action (pr:opened.closed), which no key note renames", () => {
    expect(notesFor('{ events: ["pr:opened.closed"], merged: true }', "bitbucket-server")).to.include(
      'route r: merged: true lets only pull_request through, and events names no pull_request: this route matches nothing; drop merged, or add "pull_request" to events (a merge is "pull_request.closed" with merged: true)',
    );
  });
});

describe("Function: routeNotes on a Bitbucket key with merged: true and actions", () => {
  /** The route's one Data Center route, parsed with this match. */
  function routeOf(match: string): Route {
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    provider: bitbucket-server
    match: ${match}
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return parsed.config?.routes[0] as Route;
  }
  const fixture = loadPayload("bitbucket-server/pr-merged");
  const merge = normaliseDelivery("bitbucket-server", bagOf(fixture.headers), fixture.payload, fixture.body);
  const opened = { ...merge, action: "opened", pr: { ...merge.pr, merged: false } } as typeof merge;
  const mergedNote = (actions: string) =>
    notesFor(`{ events: ["pr:opened"], actions: ${actions}, merged: true }`, "bitbucket-server").find((n) =>
      n.includes("merged: true takes"),
    ) ?? "";

  it("says to drop actions beside writing pull_request.closed when they refuse closed (actions: [opened])", () => {
    expect(mergedNote("[opened]")).to.include(
      'to run on a merge, write "pull_request.closed" in its place and drop actions; to run at "pull_request.opened", write it and drop merged',
    );
  });

  it("says to drop actions beside writing pull_request.opened without merged when they refuse opened (actions: [closed])", () => {
    expect(mergedNote("[closed]")).to.include(
      'to run on a merge, write "pull_request.closed" in its place; to run at "pull_request.opened", write it and drop merged and actions',
    );
  });

  it("says to let the action through actions, or drop them, when events hold another event than the keys", () => {
    const note =
      notesFor(
        '{ events: ["repo:fork", "pr:opened"], actions: [opened], merged: true }',
        "bitbucket-server",
      ).find((n) => n.includes("merged: true takes")) ?? "";
    expect(note).to.include(
      'write "pull_request.closed" in its place and drop actions (or let "closed" through them);',
    );
  });

  // Each fix followed as written gives a route the delivery it is for passes, and check says nothing of it.
  const cases: Array<[string, string, string]> = [
    [
      "[opened]",
      '{ events: ["pull_request.closed"], merged: true }',
      '{ events: ["pull_request.opened"], actions: [opened] }',
    ],
    [
      "[closed]",
      '{ events: ["pull_request.closed"], actions: [closed], merged: true }',
      '{ events: ["pull_request.opened"] }',
    ],
  ];
  for (const [actions, onMerge, atOpening] of cases) {
    it(`with actions: ${actions}, the fixes it gives (${onMerge}, ${atOpening}) take a merge and an opening`, () => {
      const note = mergedNote(actions);
      const drops = (fix: string) =>
        (note.split(";").find((part) => part.includes(fix)) ?? "").includes("actions");
      // The note's fixes, as the test expects them written.
      expect(drops("to run on a merge")).to.equal(!onMerge.includes("actions"));
      expect(drops("to run at")).to.equal(!atOpening.includes("actions"));
      expect(compileMatcher(routeOf(onMerge))(merge).matched).to.equal(true);
      expect(compileMatcher(routeOf(atOpening))(opened).matched).to.equal(true);
      expect(routeNotes([routeOf(onMerge)])).to.deep.equal([]);
      expect(routeNotes([routeOf(atOpening)])).to.deep.equal([]);
    });
  }
});

describe("Function: routeNotes on events of pull_request actions that actions lets none of through", () => {
  const note = (actions: string) =>
    `route r: events holds pull requests at action ${actions} only, and actions lets none of them through: this route matches nothing; drop actions (each entry of events names its action), or write in events the actions you mean`;
  const nothing: Array<[string, string, string]> = [
    ["github", '{ events: ["pull_request.closed"], actions: [opened] }', '"closed"'],
    ["bitbucket-server", '{ events: ["pull_request.closed"], actions: [opened], merged: true }', '"closed"'],
    ["bitbucket-server", '{ events: ["pull_request.opened"], actions: [closed] }', '"opened"'],
    [
      "github",
      '{ events: ["pull_request.closed", "pull_request.opened"], actions: ["label*"] }',
      '"closed" or "opened"',
    ],
    ["github", '{ events: ["pull_request.closed"], actions: ["!closed"] }', '"closed"'],
  ];
  for (const [provider, match, actions] of nothing) {
    it(`notes ${match} on ${provider}: no pull request passes both`, () => {
      expect(notesFor(match, provider)).to.deep.equal([note(actions)]);
    });
  }

  const taken: Array<[string, string]> = [
    ["github", '{ events: ["pull_request.closed"], actions: [closed] }'],
    ["github", '{ events: ["pull_request.closed", "pull_request.opened"], actions: [opened] }'],
    ["github", '{ events: ["pull_request.closed"], actions: ["*"] }'],
    ["github", '{ events: [pull_request, "pull_request.closed"], actions: [opened] }'],
    // An issue opened passes.
    ["github", '{ events: [issues, "pull_request.closed"], actions: [opened] }'],
    // GitLab's "open" is "opened": the note on the name is the fix.
    ["gitlab", '{ events: ["pull_request.open"], actions: [opened] }'],
  ];
  for (const [provider, match] of taken) {
    it(`does not say ${match} on ${provider} matches nothing`, () => {
      expect(notesFor(match, provider).filter((n) => n.includes("actions lets none"))).to.deep.equal([]);
    });
  }
});

describe("Function: routeNotes keeps the merged note beside a note that does not say to write pull_request", () => {
  const mergedNote =
    'route r: merged: true lets only pull_request through, and events names no pull_request: this route matches nothing; drop merged, or add "pull_request" to events (a merge is "pull_request.closed" with merged: true)';
  // [what, provider, events]: a note is said on an entry, but it is no pull request's name, or the entry excludes.
  const cases: Array<[string, string, string[]]> = [
    ["a host's own name of a push (tag_push)", "gitlab", ["tag_push"]],
    ["a near miss of a host's own name of a push (tag_pushh)", "gitlab", ["tag_pushh"]],
    [
      "an excluded Gitea pull request type (!pull_request_sync) beside issues",
      "gitea",
      ["issues", "!pull_request_sync"],
    ],
    ["an excluded typo of pull_request (!pull_reqest) beside issues", "github", ["issues", "!pull_reqest"]],
  ];
  for (const [what, provider, events] of cases) {
    it(`says merged: true leaves nothing for ${what} on ${provider}`, () => {
      const notes = notesFor(`{ events: ${JSON.stringify(events)}, merged: true }`, provider);
      expect(notes.length, notes.join("\n")).to.be.greaterThan(1);
      expect(notes, notes.join("\n")).to.include(mergedNote);
    });
  }
});

describe("Function: routeNotes' advice on merged, followed, leads to a route a real merge matches", () => {
  type Match = { events?: string[]; actions?: string[]; merged?: boolean };

  function parsedRoute(match: Match, provider: string): Route {
    const parsed = parseRoutes(
      `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    provider: ${provider}
    match: ${JSON.stringify(match)}
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return parsed.config?.routes[0] as Route;
  }

  const replace = (list: string[], from: string, to: string) => [
    ...new Set(list.map((entry) => (entry === from ? to : entry))),
  ];

  /** The route as the note says to write it; the fix that keeps merged where a note offers two. */
  function follow(note: string, match: Match): Match {
    const events = match.events ?? [];
    let m = /event "([^"]+)" never matches: write "([^"]+)"(?: with merged: (true|false))?/.exec(note);
    if (m) {
      const merged = m[3] === undefined ? match.merged : m[3] === "true";
      return { ...match, events: replace(events, m[1] as string, m[2] as string), merged };
    }
    m =
      /event "([^"]+)" (?:never matches|is not a known event name).*(?:GitLab merge requests are|Gitea delivers it as) event "([^"]+)"/.exec(
        note,
      );
    if (m) {
      const [from, to] = [m[1] as string, m[2] as string];
      const entry = events.find((e) => e === from || e.startsWith(`${from}.`)) as string;
      return { ...match, events: replace(events, entry, to + entry.slice(from.length)) };
    }
    m = /event "([^"]+)" is not a known event name.*did you mean "([^"]+)"/.exec(note);
    if (m) return { ...match, events: replace(events, m[1] as string, m[2] as string) };
    m =
      /event "pull_request\.([^"]+)": action "[^"]+" matches no pull request: .* is action "([^"]+)"(?: with merged: (true|false))?/.exec(
        note,
      );
    if (m) {
      const merged = m[3] === undefined ? match.merged : m[3] === "true";
      return { ...match, events: replace(events, `pull_request.${m[1]}`, `pull_request.${m[2]}`), merged };
    }
    if (note.includes('add "pull_request" to events'))
      return { ...match, events: [...events, "pull_request"] };
    m = /no pull request is merged at action (.+?) \(/.exec(note);
    if (m) {
      const actions = [...(m[1] as string).matchAll(/"([^"]+)"/g)].map((a) => a[1] as string);
      let next = match;
      for (const action of actions) {
        next = {
          ...next,
          ...(next.events && {
            events: replace(next.events, `pull_request.${action}`, "pull_request.closed"),
          }),
          ...(next.actions && { actions: replace(next.actions, action, "closed") }),
        };
      }
      return next;
    }
    throw new Error(`no advice to follow in: ${note}`);
  }

  // [provider, the route as first written, the host's merge delivery]
  const starts: Array<[Provider, Match, PayloadFixtureName]> = [
    ["bitbucket", { events: ["pullrequest:created"], merged: true }, "bitbucket/pullrequest-fulfilled"],
    ["bitbucket", { events: ["pullrequest:updated"], merged: true }, "bitbucket/pullrequest-fulfilled"],
    ["bitbucket", { events: ["pullrequest:fulfilled"], merged: true }, "bitbucket/pullrequest-fulfilled"],
    ["bitbucket", { events: ["pull_request.opened"], merged: true }, "bitbucket/pullrequest-fulfilled"],
    ["bitbucket-server", { events: ["pr:opened"], merged: true }, "bitbucket-server/pr-merged"],
    ["bitbucket-server", { events: ["pr:from_ref_updated"], merged: true }, "bitbucket-server/pr-merged"],
    ["bitbucket-server", { events: ["pr:merged"], merged: true }, "bitbucket-server/pr-merged"],
    ["gitlab", { events: ["merge_request"], merged: true }, "gitlab/merge_request-merge"],
    ["gitlab", { events: ["Merge Request Hook"], merged: true }, "gitlab/merge_request-merge"],
    ["gitlab", { events: ["merge_request.open"], merged: true }, "gitlab/merge_request-merge"],
    ["gitlab", { events: ["merge_requests"], merged: true }, "gitlab/merge_request-merge"],
    ["github", { events: ["pull_requests"], merged: true }, "github/pull_request-closed-merged"],
    ["github", { events: ["pull_request.opened"], merged: true }, "github/pull_request-closed-merged"],
    [
      "github",
      { events: ["pull_request"], actions: ["opened", "synchronize"], merged: true },
      "github/pull_request-closed-merged",
    ],
    ["github", { actions: ["reopened"], merged: true }, "github/pull_request-closed-merged"],
    ["gitea", { events: ["pull_request_sync"], merged: true }, "gitea/pull_request-closed-merged"],
    ["gitea", { events: ["pull_request.opened"], merged: true }, "gogs/pull_request-closed-merged"],
  ];
  for (const [provider, start, fixtureName] of starts) {
    it(`${JSON.stringify(start)} on ${provider}, each first note's advice taken, ends with no note and matches ${fixtureName}`, () => {
      let match = start;
      const steps: string[] = [];
      // The note on Bitbucket's pullrequest:updated (BCLOUD-21940) says what it sends, and asks no change.
      const advice = () =>
        notesFor(JSON.stringify(match), provider).filter((n) => !n.includes("BCLOUD-21940"));
      for (let notes = advice(); notes.length > 0; ) {
        expect(steps.length, steps.join("\n")).to.be.below(5);
        const next = follow(notes[0] as string, match);
        steps.push(`${notes[0]} -> ${JSON.stringify(next)}`);
        match = next;
        notes = advice();
      }
      const fixture = loadPayload(fixtureName);
      const event = normaliseDelivery(provider, bagOf(fixture.headers), fixture.payload, fixture.body);
      const decision = compileMatcher(parsedRoute(match, provider))(event);
      expect(decision.matched, `${JSON.stringify(match)}\n${steps.join("\n")}`).to.equal(true);
    });
  }
});

describe("Function: routeNotes on a host's own action name with merged: true, as the action it becomes", () => {
  const merged = (action: string) =>
    `route r: merged: true takes only a merged pull request, and no pull request is merged at action "${action}" (a merge is action "closed"; later events on a merged one, such as "labeled", carry merged: true too): this route matches nothing; write "closed" in their place (events: ["pull_request.closed"], or actions: [closed]), or drop merged`;
  // [provider, match, the rename note, the action merged: true cannot take once renamed]
  const cases: Array<[string, string, string, string]> = [
    [
      "gitlab",
      "{ events: [pull_request], actions: [open], merged: true }",
      `route r: action "open" matches no pull request: GitLab's "open" is action "opened"`,
      "open",
    ],
    [
      "gitlab",
      "{ events: [pull_request], actions: [reopen], merged: true }",
      `route r: action "reopen" matches no pull request: GitLab's "reopen" is action "reopened"`,
      "reopen",
    ],
    [
      "gitlab",
      '{ events: ["pull_request.open"], merged: true }',
      `route r: event "pull_request.open": action "open" matches no pull request: GitLab's "open" is action "opened"`,
      "open",
    ],
    [
      "gitea",
      '{ events: ["pull_request.synchronized"], merged: true }',
      `route r: event "pull_request.synchronized" never matches: Gitea's "synchronized" is "synchronize" here: write "pull_request.synchronize"`,
      "synchronized",
    ],
  ];
  for (const [provider, match, rename, action] of cases) {
    it(`notes ${match} on ${provider}: beside the rename, merged: true still leaves nothing`, () => {
      expect(notesFor(match, provider)).to.deep.equal([rename, merged(action)]);
    });
  }

  it("does not note GitLab's merge with merged: true: it becomes closed, which a merge is", () => {
    const notes = notesFor("{ events: [pull_request], actions: [merge], merged: true }", "gitlab");
    expect(notes.filter((n) => n.includes("no pull request is merged"))).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a brace range the matcher does not expand", () => {
  it("notes tags: [v{1..12}] with the values it misses, and leaves v{1..9} alone", () => {
    expect(notesFor('{ tags: ["v{1..12}"] }', "github")).to.include(
      'route r: tags: glob "v{1..12}" holds the range {1..12}, which picomatch does not expand as a shell does (it misses v3, v4, v5, ...): it reads a range only between two single digits or letters, alone in its braces and without a step ({1..9}, {a..f}); list the values ({1,2,3}) or write one glob per range',
    );
    expect(notesFor('{ tags: ["v{1..9}"] }', "github").filter((n) => n.includes("range"))).to.deep.equal([]);
  });

  it("never throws for a route parseRoutes accepts, whatever braces, quotes and classes its globs hold", () => {
    const glob = fc
      .array(
        fc.constantFrom(
          "v",
          "1",
          "a",
          "{",
          "}",
          "[",
          "]",
          "(",
          ")",
          "!",
          ",",
          '"',
          "..",
          "{1..12}",
          "{a..]}",
        ),
        {
          minLength: 1,
          maxLength: 6,
        },
      )
      .map((tokens) => tokens.join(""));
    fc.assert(
      fc.property(fc.constantFrom("paths", "branches", "tags"), glob, (key, g) => {
        const parsed = parseRoutes(
          `version: 1
defaults:
  secret: hookgate/webhook
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: r
    match: { events: [push], ${key}: [${JSON.stringify(g)}] }
    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }
`,
          "routes.yaml",
        );
        fc.pre(parsed.problems.length === 0);
        expect(() => routeNotes(parsed.config?.routes ?? []), g).not.to.throw();
      }),
      { numRuns: runs(300) },
    );
  });

  it("gives a paths glob whose brace is in quotes (text to the matcher, and no brace it can compile alone) no range note, and does not throw", () => {
    expect(notesFor(`{ events: [push], paths: ['"{a..]}"', '"v{1..12}"'] }`)).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a webhook secret that is also a credential", () => {
  const notesOf = (text: string) => {
    const parsed = parseRoutes(text, "routes.yaml");
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []).filter((note) => note.startsWith("secret "));
  };

  it("notes a GitLab route whose webhook secret is the name of its GitLab API token: the Git host would hold the token, and send it in X-Gitlab-Token", () => {
    expect(
      notesOf(`version: 1
providers: { gitlab: { apiUrl: "https://gitlab.example.com/api/v4", token: hookgate/gitlab-token } }
routes:
  - name: gl-zip
    provider: gitlab
    secret: hookgate/gitlab-token
    match: { repos: ["**"], events: [push] }
    action: { type: s3-zip }
`),
    ).to.deep.equal([
      'secret "hookgate/gitlab-token" is the webhook secret of route gl-zip and the gitlab API token of route gl-zip: a plain string cannot be both, as the webhook secret is given to the Git host, which would then hold the credential (GitLab sends it in every delivery\'s X-Gitlab-Token); unless the secret is a JSON object holding the webhook secret under "secret" and the credential under "token", give gl-zip a webhook secret of its own (secret:)',
    ]);
  });

  it('says the note holds for a plain string only: a JSON secret {"secret", "token"} (and "user" for Jenkins) gives the webhook secret and the credential apart, and the note names that layout', () => {
    const stored = JSON.stringify({
      secret: "webhook-secret-value",
      user: "ci",
      token: "glpat-abcdefghijklmnop",
    });
    // The gateway verifies with (and the Git host is given) the "secret" field alone.
    expect(parseSecretShape(stored).values).to.deep.equal(["webhook-secret-value"]);
    expect(parseProviderToken(stored, "hookgate/gitlab", "gitlab")).to.deep.equal({
      kind: "token",
      token: "glpat-abcdefghijklmnop",
    });
    expect(parseJenkinsCredentials(stored, "hookgate/gitlab")).to.deep.equal({
      user: "ci",
      token: "glpat-abcdefghijklmnop",
    });
    const notes = notesOf(`version: 1
providers: { gitlab: { apiUrl: "https://gitlab.example.com/api/v4", token: hookgate/gitlab } }
routes:
  - name: gl-zip
    provider: gitlab
    secret: hookgate/gitlab
    match: { repos: ["**"], events: [push] }
    action: { type: s3-zip }
`);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.include(
      "a plain string cannot be both, as the webhook secret is given to the Git host, which would then hold the credential",
    );
    expect(notes[0]).to.include(
      'unless the secret is a JSON object holding the webhook secret under "secret" and the credential under "token"',
    );
  });

  it("notes a webhook secret that another route reads as Jenkins credentials, and nothing for a webhook secret shared by two routes", () => {
    expect(
      notesOf(`version: 1
defaults:
  jenkins: { url: "http://127.0.0.1:8080", credentials: hookgate/jenkins }
routes:
  - name: a
    secret: hookgate/jenkins
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: a, parameters: { SHA: "{{sha}}" } }
  - name: b
    secret: hookgate/github-webhook
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: b, parameters: { SHA: "{{sha}}" } }
  - name: c
    secret: hookgate/github-webhook
    match: { repos: ["acme/*"], events: [push] }
    action: { type: jenkins, job: c, parameters: { SHA: "{{sha}}" } }
`),
    ).to.deep.equal([
      'secret "hookgate/jenkins" is the webhook secret of route a and the Jenkins {"user","token"} of routes a, b, c: a plain string cannot be both, as the webhook secret is given to the Git host, which would then hold the credential; unless the secret is a JSON object holding the webhook secret under "secret" and the credential under "user" and "token", give a a webhook secret of its own (secret:)',
    ]);
  });
});

describe("Function: routeNotes on a provider's apiUrl that is not where its REST API is (review h424)", () => {
  function apiNotes(provider: Provider, apiUrl: string, actions = ["s3-zip"]): string[] {
    const routes = actions.map((type, i) =>
      type === "s3-zip"
        ? `  - { name: r${i}, match: { repos: [acme/api], events: [push] }, action: { type: s3-zip } }`
        : `  - { name: r${i}, match: { events: [pull_request] }, action: { type: pr-cleanup, steps: [{ delete-branch: {} }] } }`,
    );
    const parsed = parseRoutes(
      [
        "version: 1",
        `providers: { ${provider}: { apiUrl: "${apiUrl}", token: hookgate/t } }`,
        `defaults: { secret: hookgate/webhook, provider: ${provider} }`,
        "routes:",
        ...routes,
        "",
      ].join("\n"),
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []).filter((note) => note.includes("apiUrl"));
  }
  const tail = "their every call fails";

  it("notes a GitHub Enterprise Server host without /api/v3 once for the routes that use it, with the URL to write", () => {
    expect(apiNotes("github", "https://ghe.example.com/", ["s3-zip", "pr-cleanup"])).to.deep.equal([
      `routes r0, r1: providers.github.apiUrl "https://ghe.example.com" is not GitHub Enterprise Server's REST API: ${tail}; write 'https://ghe.example.com/api/v3' (unless a proxy serves it there)`,
    ]);
  });

  it("notes github.com's and a GHE.com subdomain's web host, with its api. host to write", () => {
    expect(apiNotes("github", "https://github.com")).to.deep.equal([
      `route r0: providers.github.apiUrl "https://github.com" is not github.com's REST API: ${tail}; write 'https://api.github.com' (unless a proxy serves it there)`,
    ]);
    expect(apiNotes("github", "https://acme.ghe.com")).to.deep.equal([
      `route r0: providers.github.apiUrl "https://acme.ghe.com" is not GitHub Enterprise Cloud's REST API: ${tail}; write 'https://api.acme.ghe.com' (unless a proxy serves it there)`,
    ]);
  });

  it("notes a GitLab or Gitea URL without /api/v4 or /api/v1, one under a path too", () => {
    expect(apiNotes("gitlab", "https://gitlab.example.com/gitlab")).to.deep.equal([
      `route r0: providers.gitlab.apiUrl "https://gitlab.example.com/gitlab" is not GitLab's REST API: ${tail}; write 'https://gitlab.example.com/gitlab/api/v4' (unless a proxy serves it there)`,
    ]);
    expect(apiNotes("gitea", "https://git.example.com")).to.deep.equal([
      `route r0: providers.gitea.apiUrl "https://git.example.com" is not Gitea's REST API: ${tail}; write 'https://git.example.com/api/v1' (unless a proxy serves it there)`,
    ]);
  });

  it("keeps the note within 300 characters, naming two of three routes of 32 characters and clipping a long URL (review h438)", () => {
    const long = `https://ghe.example.com/${"x".repeat(80)}`;
    const [note] = apiNotes("github", long, ["s3-zip", "s3-zip", "pr-cleanup"]);
    expect(note).to.match(
      /^routes r0, r1 and 1 more: providers\.github\.apiUrl "https:\/\/ghe\.example\.com\/x+…" /,
    );
    expect(note).to.include("add /api/v3 to its path");
    // The same note with each name at the 32 characters a route name may have.
    const longest = (note ?? "").replace(/^routes r0, r1/, `routes ${"a".repeat(32)}, ${"b".repeat(32)}`);
    expect(longest.length, longest).to.be.at.most(300);
  });

  it("says nothing of the APIs' own URLs: api.github.com, api.<subdomain>.ghe.com, /api/v3, /api/v4, /api/v1 in any case", () => {
    const fine: Array<[Provider, string]> = [
      ["github", "https://api.github.com/"],
      ["github", "https://api.acme.ghe.com"],
      ["github", "https://ghe.example.com/API/v3/"],
      ["gitlab", "https://gitlab.example.com/gitlab/api/v4"],
      ["gitea", "https://git.example.com/api/v1"],
    ];
    for (const [provider, apiUrl] of fine) expect(apiNotes(provider, apiUrl), apiUrl).to.deep.equal([]);
  });
});

describe("Function: routeNotes on an s3-zip key without the repository on a route of several repositories (review h424)", () => {
  function keyNotes(
    repos: string | undefined,
    key: string | undefined,
    provider = "github",
    refs = "branches: [main]",
    name = "z",
  ): string[] {
    const parsed = parseRoutes(
      [
        "version: 1",
        `defaults: { secret: hookgate/webhook, provider: ${provider} }`,
        `providers: { ${provider}: { token: hookgate/t } }`,
        "routes:",
        `  - name: ${name}`,
        `    match: { ${repos === undefined ? "" : `repos: ${repos}, `}events: [push], ${refs} }`,
        `    action: { type: s3-zip${key === undefined ? "" : `, key: "${key}"`} }`,
      ].join("\n"),
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []).filter((note) => note.includes("names no repository"));
  }

  it("notes that every repository's push to a branch overwrites one object, with the key to write", () => {
    const note = (key: string, fix: string) =>
      `route z: the s3-zip key "${key}" names no repository (or not in full), and the route takes several: each one's push to a branch writes the same object; write '${fix}'`;
    expect(keyNotes('["acme/*"]', "builds/{{branch.path}}/source.zip")).to.deep.equal([
      note("builds/{{branch.path}}/source.zip", "{{repo.path}}/builds/{{branch.path}}/source.zip"),
    ]);
    expect(keyNotes(undefined, "builds/{{repo}}/{{branch.path}}.zip")).to.deep.equal([
      note("builds/{{repo}}/{{branch.path}}.zip", "builds/{{repo.path}}/{{branch.path}}.zip"),
    ]);
    // a_b/c and a/b_c are both a_b_c, acme-web/api and acme/web-api both acme-web-api (review h438).
    expect(keyNotes(undefined, "builds/{{repo.underscored}}/{{branch.path}}.zip")).to.deep.equal([
      note("builds/{{repo.underscored}}/{{branch.path}}.zip", "builds/{{repo.path}}/{{branch.path}}.zip"),
    ]);
    expect(
      keyNotes('["acme/*", "acme-web/*"]', "builds/{{owner}}-{{repo}}/{{branch.path}}.zip"),
    ).to.deep.equal([
      note("builds/{{owner}}-{{repo}}/{{branch.path}}.zip", "builds/{{repo.path}}/{{branch.path}}.zip"),
    ]);
  });

  it("says a tags-only route's pushes are of a tag, not to a branch (review h438)", () => {
    const [note] = keyNotes(
      '["acme/*", "other/*"]',
      "releases/{{tag}}/{{repo}}.zip",
      "github",
      'tags: ["v*"]',
    );
    expect(note).to.include("each one's push of a tag writes the same object");
    expect(note).to.not.include("branch");
  });

  it("keeps the note within 300 characters after a 32-character route name, the key and the fix clipped (review h438)", () => {
    const key = `${"k".repeat(100)}/{{branch.path}}.zip`;
    const [note] = keyNotes(undefined, key, "github", "branches: [main]", "a".repeat(32));
    expect(note).to.include(`the s3-zip key "${"k".repeat(48)}…"`);
    expect(note?.length, note).to.be.at.most(300);
  });

  it("says nothing of the default key, a key of one repository or one owner's with the name, or one per commit", () => {
    expect(keyNotes(undefined, undefined)).to.deep.equal([]);
    expect(keyNotes("[acme/api]", "builds/{{branch.path}}/source.zip")).to.deep.equal([]);
    expect(keyNotes('["acme/api", "!acme/api-legacy"]', "builds/{{branch.path}}/source.zip")).to.deep.equal(
      [],
    );
    expect(keyNotes('["acme/*"]', "builds/{{repo}}/{{branch.path}}.zip")).to.deep.equal([]);
    // A GitLab project's owner is its namespace: these are all platform/team's.
    expect(keyNotes('["platform/team/*"]', "builds/{{repo}}/{{branch.path}}.zip", "gitlab")).to.deep.equal(
      [],
    );
    expect(keyNotes(undefined, "builds/{{branch.path}}/{{sha}}.zip")).to.deep.equal([]);
    expect(keyNotes(undefined, "builds/{{owner}}/{{repo}}/{{branch}}/{{owner}}_{{repo}}.zip")).to.deep.equal(
      [],
    );
    expect(keyNotes('["acme/*"]', "builds/{{repo.underscored}}/{{branch.path}}.zip")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on a route that takes deletions from delete events (GitHub, Gitea)", () => {
  const FROM_DELETE = (host: string, without: boolean, setting: string) =>
    `route r: deleted: true${without ? " without events" : ""} takes ${host}'s deletions from its delete events, ` +
    "not from the push sent with one (one deletion, one run): the webhook must send delete events" +
    `${setting}${without ? "; write events: [delete] to say so" : ""}`;
  const PUSH_TAKES_NOTHING = (host: string) =>
    `route r: push in events takes nothing on ${host}: with deleted: true the route takes deletions only, each ` +
    "from its delete event (a deletion's push is not matched, so that it runs once); drop push";
  const GITHUB_SETTING = ' ("Branch or tag deletion")';
  const cases: Array<[string, string, string[]]> = [
    ["github", "{ deleted: true }", []],
    ["gitea", "{ deleted: true }", [FROM_DELETE("Gitea", true, "")]],
    ["github", '{ events: ["*"], deleted: true }', [FROM_DELETE("GitHub", false, GITHUB_SETTING)]],
    ["gitea", '{ events: ["!push"], deleted: true }', [FROM_DELETE("Gitea", false, "")]],
    ["github", "{ events: [push, delete], deleted: true }", [PUSH_TAKES_NOTHING("GitHub")]],
    ["gitea", "{ events: [push, delete], deleted: true }", [PUSH_TAKES_NOTHING("Gitea")]],
    ["github", "{ events: [delete], deleted: true }", []],
    ["github", "{ events: [push], deleted: true }", []],
    ["github", "{ events: [push, delete] }", []],
    ["gitlab", "{ deleted: true }", []],
    ["bitbucket", "{ deleted: true }", []],
  ];
  for (const [provider, match, expected] of cases) {
    it(`notes ${expected.length === 0 ? "nothing" : "how deletions arrive"} for a ${provider} route with match ${match}`, () => {
      const notes = notesFor(match, provider).filter((n) => n.includes("delete"));
      expect(notes).to.deep.equal(expected);
    });
  }
});

describe("Function: routeNotes on a Gitea route with deleted: true whose events keep delete out (review h472)", () => {
  const NO_BRANCH_DELETION =
    "route r: deleted: true with events that keep delete out takes no Gitea branch deletion: Gitea sends it as " +
    "a delete event alone (Gogs every deletion); write events: [delete]";
  const deletionNotes = (match: string, provider = "gitea") =>
    notesFor(match, provider).filter((n) => n.includes("delet"));

  it("notes that events [push] or [push, !delete] take no Gitea branch deletion, which comes as a delete event alone, and says to write events: [delete]", () => {
    for (const match of [
      "{ events: [push], deleted: true }",
      '{ events: [push, "!delete"], deleted: true }',
      '{ events: ["*", "!delete"], deleted: true }',
      '{ events: [push], branches: [main], tags: ["v*"], deleted: true }',
    ]) {
      expect(deletionNotes(match), match).to.deep.equal([NO_BRANCH_DELETION]);
    }
  });

  it("notes that a tags-only route with events [push] takes no Gogs tag deletion, which comes as a delete event alone, and says to write events: [delete]", () => {
    const NO_TAG_DELETION =
      "route r: deleted: true with events that keep delete out takes no Gogs tag deletion: Gogs sends it as a " +
      "delete event alone (Gitea too for a tag deleted in a pull mirror); write events: [delete]";
    for (const match of [
      '{ events: [push], tags: ["v*"], deleted: true }',
      '{ events: [push, "!delete"], tags: ["v*"], deleted: true }',
    ]) {
      expect(deletionNotes(match), match).to.deep.equal([NO_TAG_DELETION]);
    }
    // One note for a route of branches and tags: the branch note, which says Gogs sends every deletion so.
    expect(deletionNotes('{ events: [push], branches: [main], tags: ["v*"], deleted: true }')).to.deep.equal([
      NO_BRANCH_DELETION,
    ]);
  });

  it("notes nothing once events: [delete] is written, nor on GitHub, whose every deletion comes with a push", () => {
    expect(deletionNotes("{ events: [delete], deleted: true }")).to.deep.equal([]);
    expect(deletionNotes('{ events: [delete], tags: ["v*"], deleted: true }')).to.deep.equal([]);
    expect(deletionNotes('{ events: [push], tags: ["v*"], deleted: true }', "github")).to.deep.equal([]);
    expect(deletionNotes("{ events: [push], deleted: true }", "github")).to.deep.equal([]);
    expect(deletionNotes('{ events: [push], tags: ["v*"] }')).to.deep.equal([]);
    expect(deletionNotes("{ events: [push], deleted: false }")).to.deep.equal([]);
  });
});

describe("Function: routeNotes on an s3-zip key every branch or tag a route takes shares (review h458)", () => {
  function sharedKeyNotes(match: string, key: string, name = "z"): string[] {
    const parsed = parseRoutes(
      [
        "version: 1",
        "defaults: { secret: hookgate/webhook }",
        "providers: { github: { token: hookgate/t } }",
        "routes:",
        `  - name: ${name}`,
        `    match: ${match}`,
        `    action: { type: s3-zip, key: "${key}" }`,
      ].join("\n"),
      "routes.yaml",
    );
    expect(parsed.problems).to.deep.equal([]);
    return routeNotes(parsed.config?.routes ?? []).filter((note) => note.includes("names no branch or tag"));
  }
  const note = (key: string, field: string) =>
    `route z: the s3-zip key "${key}" names no branch or tag, and the route takes several: each one's push overwrites the others' zip (what reads it gets whichever pushed last); put ${field} in the key`;

  it("notes a key without a branch on a route of main and release/*: each branch's push overwrites the other's zip", () => {
    expect(
      sharedKeyNotes(
        '{ repos: [acme/api], events: [push], branches: [main, "release/*"] }',
        "{{repo.path}}/source.zip",
      ),
    ).to.deep.equal([note("{{repo.path}}/source.zip", "{{branch.path}}")]);
    expect(
      sharedKeyNotes('{ repos: [acme/api], branches: ["feature/*"] }', "{{repo.path}}/source.zip"),
    ).to.deep.equal([note("{{repo.path}}/source.zip", "{{branch.path}}")]);
  });

  it("says to put {{tag}} in a tags-only route's key, and {{ref}} (one folder never empty) where the route takes branches and tags", () => {
    expect(sharedKeyNotes('{ repos: [acme/api], tags: ["v*"] }', "{{repo.path}}/release.zip")).to.deep.equal([
      note("{{repo.path}}/release.zip", "{{tag}}"),
    ]);
    expect(sharedKeyNotes("{ repos: [acme/api], events: [push] }", "{{repo.path}}/source.zip")).to.deep.equal(
      [
        `route z: the s3-zip key "{{repo.path}}/source.zip" names no branch or tag, and the route takes several: each one's push overwrites the others' zip (what reads it gets whichever pushed last); put {{ref}} in the key: one folder, never empty`,
      ],
    );
  });

  it("notes nothing of a route of one branch or tag, nor of a key naming the branch, tag, ref, commit or delivery", () => {
    for (const match of [
      "{ repos: [acme/api], branches: [main] }",
      '{ repos: [acme/api], branches: [main, "!main"] }',
      "{ repos: [acme/api], events: [push], tags: [v1.0.0] }",
    ]) {
      expect(sharedKeyNotes(match, "{{repo.path}}/source.zip"), match).to.deep.equal([]);
    }
    for (const key of [
      "{{repo.path}}/{{branch.path}}/source.zip",
      "{{repo.path}}/{{branch.underscored}}.zip",
      "{{repo.path}}/{{ref}}.zip",
      "{{repo.path}}/{{sha}}.zip",
      "{{repo.path}}/{{deliveryId}}.zip",
      "{{repo.path}}/{{payload.after}}.zip",
    ]) {
      expect(sharedKeyNotes('{ repos: [acme/api], branches: [main, "release/*"] }', key), key).to.deep.equal(
        [],
      );
    }
  });

  it("keeps the note within 300 characters after a 32-character route name, the key clipped", () => {
    for (const match of [
      '{ repos: [acme/api], branches: ["**"] }',
      "{ repos: [acme/api], events: [push] }",
    ]) {
      const [said] = sharedKeyNotes(match, `{{repo.path}}/${"k".repeat(200)}.zip`, "a".repeat(32));
      expect(said?.length, said).to.be.at.most(300);
    }
  });
});
