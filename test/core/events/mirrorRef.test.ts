// A pull mirror's push names its ref short (Gogs' MirrorSyncPush, gogs/gogs internal/database/actions.go; an
// older Gitea's moved branch): read as the gateway reads a delivery, then matched.
import { expect } from "chai";
import { normaliseDelivery } from "../../../src/core/events/normalise";
import { compileMatcher } from "../../../src/core/match";
import type { MatchSpec, WebhookEvent } from "../../../src/core/types";
import { bagOf } from "../../fixtures/payloads";
import { jenkinsRoute } from "../../support/routes";

const repository = { name: "app", full_name: "acme/app", owner: { username: "acme" } };
const zeros = "0".repeat(40);
const sha = "a".repeat(40);
const next = "b".repeat(40);

/** A Gogs push delivery (X-Gogs-Event only), as a mirror sync sends it. */
function gogsPush(payload: object): WebhookEvent {
  const body = Buffer.from(JSON.stringify(payload));
  return normaliseDelivery("gitea", bagOf({ "X-Gogs-Event": "push" }), payload, body);
}

function decide(match: MatchSpec, event: WebhookEvent) {
  const decision = compileMatcher({ ...jenkinsRoute(match), provider: "gitea" })(event);
  return { matched: decision.matched, reason: decision.reason };
}

describe("Function: normaliseDelivery (a Gogs pull mirror's push with a short ref)", () => {
  it("a moved branch (both commit ids) is branch main at refs/heads/main", () => {
    const event = gogsPush({ ref: "main", before: sha, after: next, commits: [{ id: next }], repository });
    expect([event.branch, event.tag, event.ref, event.sha]).to.deep.equal([
      "main",
      undefined,
      "refs/heads/main",
      next,
    ]);
  });

  it("a new branch (before all zeros) is a branch, even one named like a tag", () => {
    const event = gogsPush({ ref: "v1.0", before: zeros, after: sha, commits: [{ id: sha }], repository });
    expect([event.branch, event.tag, event.ref, event.deleted]).to.deep.equal([
      "v1.0",
      undefined,
      "refs/heads/v1.0",
      false,
    ]);
  });

  it("a new tag (before and after empty, as Gogs sends it) is tag v1.0 with no commit", () => {
    const event = gogsPush({ ref: "v1.0", before: "", after: "", commits: [], repository });
    expect([event.branch, event.tag, event.ref, event.sha, event.deleted]).to.deep.equal([
      undefined,
      "v1.0",
      "refs/tags/v1.0",
      undefined,
      false,
    ]);
  });

  it("a full ref is read as before: refs/tags/v1.0 is a tag", () => {
    const event = gogsPush({ ref: "refs/tags/v1.0", before: zeros, after: sha, repository });
    expect([event.branch, event.tag]).to.deep.equal([undefined, "v1.0"]);
  });

  const junk: Array<[string, object]> = [
    ["a name git refuses (a space)", { ref: "main branch", before: sha, after: next }],
    ["a name git refuses (..)", { ref: "a..b", before: sha, after: next }],
    ["a name ending in .lock", { ref: "main.lock", before: sha, after: next }],
    ["HEAD", { ref: "HEAD", before: sha, after: next }],
    ["a name ending in .", { ref: "main.", before: sha, after: next }],
    ["a name holding @{", { ref: "main@{1}", before: sha, after: next }],
    ["a name starting with -", { ref: "-main", before: sha, after: next }],
    ["a name starting with .", { ref: ".main", before: sha, after: next }],
    ["@ alone", { ref: "@", before: sha, after: next }],
    ["a name longer than 1024 characters", { ref: "m".repeat(1025), before: sha, after: next }],
    ["a short ref deleted (no mirror sends one)", { ref: "main", before: sha, after: zeros }],
    ["a short ref whose after is no commit id", { ref: "main", before: sha, after: "main" }],
    ["a short ref with before and no after", { ref: "main", before: sha }],
    // refs/remotes/origin/feature, as git fetch prints it: a branch's shape (both commit ids).
    ["a moved name holding / (origin/feature)", { ref: "origin/feature", before: sha, after: next }],
    // refs/remotes/origin/HEAD new: Gogs finds no refs/heads/origin/HEAD and sends no ids, a tag's shape.
    ["a new name holding / without ids (origin/HEAD)", { ref: "origin/HEAD", before: "", after: "" }],
    ["a new name holding / with a commit (feature/x)", { ref: "feature/x", before: zeros, after: sha }],
  ];
  for (const [what, payload] of junk) {
    it(`${what} is neither a branch nor a tag`, () => {
      const event = gogsPush({ ...payload, repository });
      expect([event.branch, event.tag]).to.deep.equal([undefined, undefined]);
    });
  }

  it("a name of 1024 characters is still a branch", () => {
    const name = "m".repeat(1024);
    const event = gogsPush({ ref: name, before: sha, after: next, repository });
    expect(event.branch).to.equal(name);
  });

  it("a GitHub push with a short ref is still neither a branch nor a tag", () => {
    const payload = {
      ref: "main",
      before: sha,
      after: next,
      repository: { ...repository, owner: { login: "acme" } },
    };
    const body = Buffer.from(JSON.stringify(payload));
    const event = normaliseDelivery("github", bagOf({ "X-GitHub-Event": "push" }), payload, body);
    expect([event.branch, event.tag, event.ref]).to.deep.equal([undefined, undefined, "main"]);
  });
});

describe("Matching a Gogs pull mirror's push with a short ref", () => {
  it("a route of branches: [main] runs for the mirror's push of main", () => {
    const event = gogsPush({ ref: "main", before: sha, after: next, commits: [{ id: next }], repository });
    expect(decide({ events: ["push"], branches: ["main"] }, event).matched).to.equal(true);
  });

  it("a route without branches or tags runs for the mirror's push of main", () => {
    const event = gogsPush({ ref: "main", before: sha, after: next, commits: [{ id: next }], repository });
    expect(decide({ events: ["push"] }, event).matched).to.equal(true);
  });

  it("a route of tags: [v*] runs for the mirror's new tag v1.0, a route of branches does not", () => {
    const event = gogsPush({ ref: "v1.0", before: "", after: "", commits: [], repository });
    expect(decide({ events: ["push"], tags: ["v*"] }, event).matched).to.equal(true);
    expect(decide({ events: ["push"], branches: ["**"] }, event)).to.deep.equal({
      matched: false,
      reason: 'tag "v1.0" is not a branch; branches: [**]',
    });
  });

  it("a route of every branch or every tag is refused a name holding / (origin/feature may be a remote's ref)", () => {
    const moved = gogsPush({
      ref: "origin/feature",
      before: sha,
      after: next,
      commits: [{ id: next }],
      repository,
    });
    expect(decide({ events: ["push"], branches: ["**"] }, moved)).to.deep.equal({
      matched: false,
      reason: 'event "push" has no branch or tag; branches: [**]',
    });
    expect(decide({ events: ["push"] }, moved).reason).to.equal(
      'the push changed ref "origin/feature", neither a branch nor a tag',
    );
    const fresh = gogsPush({ ref: "release/1.0", before: "", after: "", commits: [], repository });
    expect(decide({ events: ["push"], tags: ["**"] }, fresh).matched).to.equal(false);
  });

  it("a name git refuses is refused as neither a branch nor a tag", () => {
    const event = gogsPush({ ref: "main branch", before: sha, after: next, repository });
    expect(decide({ events: ["push"] }, event)).to.deep.equal({
      matched: false,
      reason: 'the push changed ref "main branch", neither a branch nor a tag',
    });
  });
});
