// One deletion, one run: GitHub and Gitea send a push and a delete event for one deleted ref, each under its
// own delivery id, and a route that takes deletions must act on one of them only.
import { expect } from "chai";
import { normaliseDelivery } from "../../src/core/events/normalise";
import { compileMatcher, takesDeletionsFromDeleteEvents } from "../../src/core/match";
import type { MatchSpec, Provider, WebhookEvent } from "../../src/core/types";
import { bagOf } from "../fixtures/payloads";
import { jenkinsRoute } from "../support/routes";

const repository = { name: "app", full_name: "acme/app", owner: { login: "acme" } };
const sender = { login: "alice" };
const zeros = "0".repeat(40);
const before = "a".repeat(40);

function deliver(provider: Provider, header: string, event: string, payload: object): WebhookEvent {
  const body = Buffer.from(JSON.stringify(payload));
  return normaliseDelivery(provider, bagOf({ [header]: event }), payload, body);
}

/** What the host sends for one deleted ref, in its order. */
const DELETIONS: Record<string, () => WebhookEvent[]> = {
  // GitHub: a push with deleted: true, and a delete event when the webhook takes it.
  "GitHub branch": () => [
    deliver("github", "X-GitHub-Event", "push", {
      ref: "refs/heads/feature/x",
      before,
      after: zeros,
      deleted: true,
      created: false,
      forced: false,
      commits: [],
      head_commit: null,
      repository,
      sender,
    }),
    deliver("github", "X-GitHub-Event", "delete", {
      ref: "feature/x",
      ref_type: "branch",
      pusher_type: "user",
      repository,
      sender,
    }),
  ],
  // Gitea (go-gitea services/repository/push.go pushUpdates): a tag's deletion is a push with after 000… and a
  // delete event; a branch's is a delete event alone.
  "Gitea tag": () => [
    deliver("gitea", "X-Gitea-Event", "push", {
      ref: "refs/tags/v1.0.0",
      before,
      after: zeros,
      commits: [],
      total_commits: 0,
      repository,
      pusher: sender,
      sender,
    }),
    deliver("gitea", "X-Gitea-Event", "delete", {
      ref: "v1.0.0",
      ref_type: "tag",
      pusher_type: "user",
      repository,
      sender,
    }),
  ],
  "Gitea branch": () => [
    deliver("gitea", "X-Gitea-Event", "delete", {
      ref: "feature/x",
      ref_type: "branch",
      pusher_type: "user",
      repository,
      sender,
    }),
  ],
  // GitLab and Bitbucket have no delete event: the push is the deletion.
  "GitLab branch": () => [
    deliver("gitlab", "X-Gitlab-Event", "Push Hook", {
      object_kind: "push",
      ref: "refs/heads/feature/x",
      before,
      after: zeros,
      project: { path_with_namespace: "acme/app" },
    }),
  ],
  "Bitbucket Cloud branch": () => [
    deliver("bitbucket", "X-Event-Key", "repo:push", {
      repository: { full_name: "acme/app" },
      push: {
        changes: [{ old: { type: "branch", name: "feature/x", target: { hash: before } }, new: null }],
      },
    }),
  ],
  "Bitbucket Data Center branch": () => [
    deliver("bitbucket-server", "X-Event-Key", "repo:refs_changed", {
      repository: { slug: "app", project: { key: "acme" } },
      changes: [{ refId: "refs/heads/feature/x", fromHash: before, toHash: zeros, type: "DELETE" }],
    }),
  ],
};

function runs(deletion: string, match: MatchSpec): string[] {
  const events = (DELETIONS[deletion] as () => WebhookEvent[])();
  // The route is the host's: a route reads deliveries of its own provider only.
  const matcher = compileMatcher({
    ...jenkinsRoute(match, "teardown"),
    provider: (events[0] as WebhookEvent).provider,
  });
  return events.filter((event) => matcher(event).matched).map((event) => event.event);
}

describe("Matching one deletion that the host delivers twice", () => {
  const cases: Array<[string, MatchSpec, string[]]> = [
    // Events that let delete through: the delete event is the deletion, the push is not.
    ["GitHub branch", { events: ["push", "delete"], deleted: true }, ["delete"]],
    ["GitHub branch", { events: ["*"], deleted: true }, ["delete"]],
    ["GitHub branch", { events: ["!issues"], deleted: true }, ["delete"]],
    ["GitHub branch", { events: ["del*", "push"], deleted: true }, ["delete"]],
    ["Gitea tag", { events: ["push", "delete"], deleted: true }, ["delete"]],
    ["Gitea branch", { events: ["push", "delete"], deleted: true }, ["delete"]],
    // Without events: on GitHub the push is the deletion (a webhook set up for push sends it), the delete event
    // sent with it is not; on Gitea the delete event is (a branch's, a mirror's, Gogs' come as one alone).
    ["GitHub branch", { deleted: true }, ["push"]],
    ["Gitea tag", { deleted: true }, ["delete"]],
    ["Gitea branch", { deleted: true }, ["delete"]],
    // Events that keep delete out: the push is the deletion, as before.
    ["GitHub branch", { events: ["push"], deleted: true }, ["push"]],
    ["GitHub branch", { events: ["push", "!delete"], deleted: true }, ["push"]],
    ["Gitea tag", { events: ["push"], deleted: true }, ["push"]],
    ["Gitea branch", { events: ["push"], deleted: true }, []],
    // Without deleted: true, only a delete event listed in events is a deletion the route takes, as before.
    ["GitHub branch", { events: ["push", "delete"] }, ["delete"]],
    ["GitHub branch", { events: ["push", "delete"], deleted: false }, []],
    ["GitHub branch", {}, []],
    // Hosts without a delete event: the push is the only delivery of a deletion, whatever the events.
    ["GitLab branch", { deleted: true }, ["push"]],
    ["GitLab branch", { events: ["push", "delete"], deleted: true }, ["push"]],
    ["Bitbucket Cloud branch", { deleted: true }, ["push"]],
    ["Bitbucket Data Center branch", { events: ["*"], deleted: true }, ["push"]],
  ];
  for (const [deletion, match, expected] of cases) {
    it(`a ${deletion} deletion runs a route with ${JSON.stringify(match)} ${expected.length === 0 ? "for none" : `for its ${expected.join(" and ")} only`}`, () => {
      expect(runs(deletion, match)).to.deep.equal(expected);
    });
  }

  it("the push of a GitHub deletion is refused with a reason naming the delete event it is taken from", () => {
    const [push] = (DELETIONS["GitHub branch"] as () => WebhookEvent[])();
    const decision = compileMatcher(jenkinsRoute({ events: ["push", "delete"], deleted: true }))(
      push as WebhookEvent,
    );
    expect([decision.matched, decision.reason]).to.deep.equal([
      false,
      'the push deleted branch "feature/x"; the route takes deletions from GitHub\'s delete event, which its ' +
        "events let through (the webhook must send it), so that one deletion runs it once",
    ]);
  });

  it("the push of a Gitea tag deletion is refused with a reason naming Gitea's delete event", () => {
    const [push] = (DELETIONS["Gitea tag"] as () => WebhookEvent[])();
    const reason = compileMatcher(jenkinsRoute({ events: ["*"], deleted: true }))(
      push as WebhookEvent,
    ).reason;
    expect(reason).to.equal(
      'the push deleted tag "v1.0.0"; the route takes deletions from Gitea\'s delete event, which its ' +
        "events let through (the webhook must send it), so that one deletion runs it once",
    );
  });

  it("without events, the delete event sent with a GitHub deletion's push is refused with a reason naming the push", () => {
    const [, del] = (DELETIONS["GitHub branch"] as () => WebhookEvent[])();
    const decision = compileMatcher(jenkinsRoute({ deleted: true }))(del as WebhookEvent);
    expect([decision.matched, decision.reason]).to.deep.equal([
      false,
      'the delete event deleted branch "feature/x"; without events the route takes GitHub\'s deletions from the ' +
        "push sent with it, so that one deletion runs it once (list delete in events to take them from delete events)",
    ]);
  });

  const takes: Array<[MatchSpec, Provider, boolean]> = [
    [{ deleted: true }, "github", false],
    [{ deleted: true }, "gitea", true],
    [{ events: ["delete"], deleted: true }, "github", true],
    [{ events: ["*"], deleted: true }, "gitea", true],
    [{ events: ["!push"], deleted: true }, "github", true],
    [{ events: ["push"], deleted: true }, "gitea", false],
    [{ events: ["*", "!delete"], deleted: true }, "github", false],
    [{ events: ["push", "delete"] }, "github", false],
    [{ deleted: false }, "gitea", false],
    [{ events: ["delete"], deleted: true }, "gitlab", false],
    [{ deleted: true }, "bitbucket", false],
  ];
  for (const [match, provider, expected] of takes) {
    it(`takesDeletionsFromDeleteEvents(${JSON.stringify(match)}, ${provider}) is ${expected}: deleted: true on a host with delete events, and events that let them through (none: Gitea only)`, () => {
      expect(takesDeletionsFromDeleteEvents(match, provider)).to.equal(expected);
    });
  }
});
