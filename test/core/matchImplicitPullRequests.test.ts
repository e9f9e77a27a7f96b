// A Jenkins route with branches and no events, actions or merged: it builds pull requests into those branches
// (a pull request's branch is its base), but only at actions that bring new code, on every host, and a merge
// queue group at checks_requested only.
import examples from "@octokit/webhooks-examples";
import { expect } from "chai";
import { normaliseDelivery } from "../../src/core/events/normalise";
import { compileMatcher } from "../../src/core/match";
import type { MatchSpec, Provider, Route, WebhookEvent } from "../../src/core/types";
import { bagOf, loadPayload } from "../fixtures/payloads";
import { jenkinsRoute } from "../support/routes";

const HEADER: Record<Provider, string> = {
  github: "X-GitHub-Event",
  gitlab: "X-Gitlab-Event",
  bitbucket: "X-Event-Key",
  "bitbucket-server": "X-Event-Key",
  gitea: "X-Gitea-Event",
};

function normalise(provider: Provider, event: string, payload: unknown): WebhookEvent {
  const body = Buffer.from(JSON.stringify(payload));
  return normaliseDelivery(provider, bagOf({ [HEADER[provider]]: event }), payload, body);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

type Json = Record<string, unknown>;

/** The route on the event's own branch, so that only the pull request rule decides. */
function decide(provider: Provider, event: WebhookEvent, match: MatchSpec = {}): boolean {
  expect(event.branch, "the event names its base branch").to.be.a("string");
  const route: Route = { ...jenkinsRoute({ branches: [event.branch as string], ...match }), provider };
  return compileMatcher(route)(event).matched;
}

function githubExample(name: string, action: string): Json {
  const group = (examples as { name: string; examples: Json[] }[]).find((e) => e.name === name);
  const found = group?.examples.find((p) => p.action === action);
  if (found === undefined) throw new Error(`no ${name}.${action} example`);
  return clone(found);
}

/** Actions of a GitHub-like pull_request payload (octokit's opened example, its action replaced). */
function githubPullRequest(action: string): Json {
  const payload = githubExample("pull_request", "opened");
  payload.action = action;
  return payload;
}

describe("Function: compileMatcher (a Jenkins route with branches and no events builds pull requests at new code only)", () => {
  const github: Array<[string, boolean]> = [
    ["opened", true],
    ["synchronize", true],
    ["reopened", true],
    ["ready_for_review", true],
    ["labeled", false],
    ["assigned", false],
    ["closed", false],
    ["locked", false],
    ["edited", false],
    ["review_requested", false],
    ["converted_to_draft", false],
  ];
  for (const [action, matched] of github) {
    it(`${matched ? "takes" : "refuses"} a GitHub pull_request ${action}`, () => {
      expect(decide("github", normalise("github", "pull_request", githubPullRequest(action)))).to.equal(
        matched,
      );
    });
  }

  it("takes a GitHub merge_group checks_requested and refuses one destroyed (sent after the group merged)", () => {
    const requested = githubExample("merge_group", "checks_requested");
    const destroyed = { ...clone(requested), action: "destroyed", reason: "merged" };
    expect([
      decide("github", normalise("github", "merge_group", requested)),
      decide("github", normalise("github", "merge_group", destroyed)),
    ]).to.deep.equal([true, false]);
  });

  it("refuses a GitHub pull_request_review (about a pull request, with its base branch, but no new code)", () => {
    const review = githubExample("pull_request_review", "submitted");
    expect(decide("github", normalise("github", "pull_request_review", review))).to.equal(false);
  });

  it("says why it refused a label, and what to write to take it", () => {
    const event = normalise("github", "pull_request", githubPullRequest("labeled"));
    const route: Route = jenkinsRoute({ branches: [event.branch as string] });
    expect(compileMatcher(route)(event).reason).to.equal(
      'pull request action "labeled" brings no new code: a route with branches and no events or actions builds ' +
        "pull requests at opened, synchronize, reopened, ready_for_review only; list events (or actions) to take others",
    );
  });

  function gitlab(action: string, attributes: Json = {}, changes?: Json): WebhookEvent {
    const payload = clone(loadPayload("gitlab/merge_request-open").payload) as Json & {
      object_attributes: Json;
    };
    payload.object_attributes = { ...payload.object_attributes, action, ...attributes };
    delete payload.object_attributes.oldrev;
    if (attributes.oldrev !== undefined) payload.object_attributes.oldrev = attributes.oldrev;
    payload.changes = changes ?? {};
    return normalise("gitlab", "Merge Request Hook", payload);
  }
  const gitlabCases: Array<[string, () => WebhookEvent, boolean]> = [
    ["open", () => gitlab("open"), true],
    ["reopen", () => gitlab("reopen"), true],
    ["update with oldrev (new commits)", () => gitlab("update", { oldrev: "a".repeat(40) }), true],
    [
      "update marking it ready",
      () => gitlab("update", {}, { draft: { previous: true, current: false } }),
      true,
    ],
    ["update of the title", () => gitlab("update", {}, { title: { previous: "a", current: "b" } }), false],
    ["close", () => gitlab("close"), false],
    ["merge", () => gitlab("merge"), false],
    ["approved", () => gitlab("approved"), false],
  ];
  for (const [title, event, matched] of gitlabCases) {
    it(`${matched ? "takes" : "refuses"} a GitLab merge request ${title}`, () => {
      expect(decide("gitlab", event())).to.equal(matched);
    });
  }

  // Each key with the state its pull request is in then: a closing key's must agree with it.
  const bitbucket: Array<[string, string, boolean]> = [
    ["pullrequest:created", "OPEN", true],
    ["pullrequest:updated", "OPEN", true],
    ["pullrequest:fulfilled", "MERGED", false],
    ["pullrequest:rejected", "DECLINED", false],
  ];
  for (const [key, state, matched] of bitbucket) {
    it(`${matched ? "takes" : "refuses"} a Bitbucket Cloud ${key}`, () => {
      const { payload } = loadPayload("bitbucket/pullrequest-fulfilled");
      const sent = clone(payload) as { pullrequest: Json };
      sent.pullrequest.state = state;
      expect(decide("bitbucket", normalise("bitbucket", key, sent))).to.equal(matched);
    });
  }

  const dataCenter: Array<[string, boolean]> = [
    ["pr:opened", true],
    ["pr:from_ref_updated", true],
    ["pr:modified", false],
    ["pr:merged", false],
    ["pr:declined", false],
    ["pr:deleted", false],
    ["pr:comment:added", false],
  ];
  for (const [key, matched] of dataCenter) {
    it(`${matched ? "takes" : "refuses"} a Bitbucket Data Center ${key}`, () => {
      const { payload } = loadPayload("bitbucket-server/pr-merged");
      const open = clone(payload) as { eventKey: string; pullRequest: Json };
      open.pullRequest.state = "OPEN";
      open.eventKey = key;
      const event = normalise("bitbucket-server", key, open);
      expect(decide("bitbucket-server", event)).to.equal(matched);
    });
  }

  const gitea: Array<[string, boolean]> = [
    ["opened", true],
    ["synchronized", true],
    ["reopened", true],
    ["closed", false],
    ["edited", false],
    ["label_updated", false],
  ];
  for (const [action, matched] of gitea) {
    it(`${matched ? "takes" : "refuses"} a Gitea pull_request ${action}`, () => {
      const { payload } = loadPayload("gitea/pull_request-closed-merged");
      const event = normalise("gitea", "pull_request", { ...(clone(payload) as Json), action });
      expect(decide("gitea", event)).to.equal(matched);
    });
  }

  it("still takes a push to the branch", () => {
    const { payload } = loadPayload("github/push");
    expect(decide("github", normalise("github", "push", payload))).to.equal(true);
  });

  it("takes any action a route names: events with pull_request, actions, or merged (the rule is for routes that name none)", () => {
    const labeled = normalise("github", "pull_request", githubPullRequest("labeled"));
    const closed = normalise("github", "pull_request", githubPullRequest("closed"));
    const destroyed = normalise("github", "merge_group", {
      ...githubExample("merge_group", "checks_requested"),
      action: "destroyed",
    });
    expect([
      decide("github", labeled, { events: ["push", "pull_request"] }),
      decide("github", labeled, { actions: ["labeled"] }),
      decide("github", closed, { merged: false }),
      decide("github", destroyed, { events: ["merge_group"] }),
    ]).to.deep.equal([true, true, true, true]);
  });

  it("refuses a pull request on a route with branches and deleted: true for deleted: true, not with advice to list events (which takes none there)", () => {
    const event = normalise("github", "pull_request", githubPullRequest("labeled"));
    const decision = compileMatcher(jenkinsRoute({ branches: [event.branch as string], deleted: true }))(
      event,
    );
    expect(decision.matched).to.equal(false);
    expect(decision.reason).to.equal("the event deleted nothing; deleted: true");
    const listed = compileMatcher(
      jenkinsRoute({ branches: [event.branch as string], deleted: true, events: ["pull_request"] }),
    )(event);
    expect(listed.matched, "listing pull_request takes it no more").to.equal(false);
  });

  it("leaves other actions' routes alone: a pr-cleanup route with branches still takes a closed pull request", () => {
    const closed = normalise("github", "pull_request", githubPullRequest("closed"));
    const route = {
      ...jenkinsRoute({ branches: [closed.branch as string] }),
      action: { type: "pr-cleanup", steps: [] },
    } as unknown as Route;
    expect(compileMatcher(route)(closed).matched).to.equal(true);
  });
});
