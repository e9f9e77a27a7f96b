// A push acts only when it moved a branch or a tag: each provider's deliveries, normalised as the gateway does.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { normaliseDelivery } from "../../src/core/events/normalise";
import { compileMatcher, decideChanges } from "../../src/core/match";
import type { MatchSpec, Provider, WebhookEvent } from "../../src/core/types";
import { runInProcess } from "../cli/checkHarness";
import { bagOf, loadPayload, type PayloadFixtureName } from "../fixtures/payloads";
import { jenkinsRoute } from "../support/routes";

const EVENT_HEADER: Record<Provider, string> = {
  github: "X-GitHub-Event",
  gitea: "X-Gitea-Event",
  gitlab: "X-Gitlab-Event",
  bitbucket: "X-Event-Key",
  "bitbucket-server": "X-Event-Key",
};

function deliver(provider: Provider, event: string, payload: object): WebhookEvent {
  const body = Buffer.from(JSON.stringify(payload));
  return normaliseDelivery(provider, bagOf({ [EVENT_HEADER[provider]]: event }), payload, body);
}

/** As the shipped legacy-bitbucket route: a repository and push, no branches or tags. */
function pushRoute(provider: Provider, match: MatchSpec = { repos: ["**"], events: ["push"] }) {
  return { ...jenkinsRoute(match, "legacy-build"), provider };
}

const cloudRepository = {
  full_name: "team/widgets",
  links: { html: { href: "https://bitbucket.org/team/widgets" } },
};
const dcRepository = { slug: "payments", project: { key: "PLAT" } };
const githubRepository = { name: "app", full_name: "acme/app", owner: { login: "acme" } };
const zeros = "0".repeat(40);
const sha = "a".repeat(40);

describe("Matching a push that moved no branch or tag", () => {
  const refused: Array<[string, Provider, string, object, string]> = [
    [
      "a Bitbucket Cloud repo:push whose push.changes is empty (jenkinsci/bitbucket-branch-source-plugin emptyPayload.json)",
      "bitbucket",
      "repo:push",
      { push: { changes: [] }, actor: { nickname: "jdev" }, repository: cloudRepository },
      "the push changed no branch or tag",
    ],
    [
      "a Bitbucket Cloud repo:push without a push object",
      "bitbucket",
      "repo:push",
      { actor: { nickname: "jdev" }, repository: cloudRepository },
      "the push changed no branch or tag",
    ],
    [
      "a Bitbucket Cloud repo:push whose only change has neither new nor old",
      "bitbucket",
      "repo:push",
      { push: { changes: [{ new: null, old: null }] }, repository: cloudRepository },
      "the push changed no branch or tag",
    ],
    [
      "a Bitbucket Data Center repo:refs_changed whose changes is empty (a remotely merged pull request)",
      "bitbucket-server",
      "repo:refs_changed",
      { eventKey: "repo:refs_changed", actor: { name: "admin" }, repository: dcRepository, changes: [] },
      "the push changed no branch or tag",
    ],
    [
      "a Bitbucket Data Center repo:refs_changed of refs/notes/commits",
      "bitbucket-server",
      "repo:refs_changed",
      {
        repository: dcRepository,
        changes: [{ refId: "refs/notes/commits", fromHash: sha, toHash: "b".repeat(40), type: "UPDATE" }],
      },
      'the push changed ref "refs/notes/commits", neither a branch nor a tag',
    ],
    [
      "a GitHub push of refs/pull/7/head",
      "github",
      "push",
      { ref: "refs/pull/7/head", before: zeros, after: sha, commits: [], repository: githubRepository },
      'the push changed ref "refs/pull/7/head", neither a branch nor a tag',
    ],
    [
      "a Gitea push without a ref",
      "gitea",
      "push",
      { before: sha, after: "b".repeat(40), commits: [], repository: githubRepository },
      "the push changed no branch or tag",
    ],
    [
      "a GitLab push of refs/merge-requests/3/head",
      "gitlab",
      "Push Hook",
      {
        object_kind: "push",
        ref: "refs/merge-requests/3/head",
        before: zeros,
        after: sha,
        project: { path_with_namespace: "acme/app" },
      },
      'the push changed ref "refs/merge-requests/3/head", neither a branch nor a tag',
    ],
  ];
  for (const [what, provider, event, payload, reason] of refused) {
    it(`${what} runs no route without branches or tags, saying so`, () => {
      const decision = decideChanges(compileMatcher(pushRoute(provider)), deliver(provider, event, payload));
      expect(decision).to.deep.equal({ matched: [], reason });
    });
  }

  it("a Bitbucket Cloud push whose first change names no ref runs for its second, a branch, only", () => {
    const event = deliver("bitbucket", "repo:push", {
      repository: cloudRepository,
      push: {
        changes: [
          { new: { type: "commit", name: "x" }, old: null },
          { new: { type: "branch", name: "main", target: { hash: sha } }, old: null },
        ],
      },
    });
    const decision = decideChanges(compileMatcher(pushRoute("bitbucket")), event);
    expect(decision.matched.map((change) => [change.branch, change.sha])).to.deep.equal([["main", sha]]);
  });

  // Bitbucket's event payloads page lists annotated_tag as a change's type beside branch and tag.
  it("a Bitbucket Cloud push of a change typed annotated_tag runs a route without branches or tags, as a tag push", () => {
    const event = deliver("bitbucket", "repo:push", {
      repository: cloudRepository,
      actor: { nickname: "jdev" },
      push: {
        changes: [{ old: null, new: { type: "annotated_tag", name: "v1.0.0", target: { hash: sha } } }],
      },
    });
    const decision = decideChanges(compileMatcher(pushRoute("bitbucket")), event);
    expect(
      decision.matched.map((change) => [change.tag, change.sha]),
      decision.reason,
    ).to.deep.equal([["v1.0.0", sha]]);
  });

  it("a route with deleted: true takes no deletion of a ref that is neither a branch nor a tag", () => {
    const event = deliver("bitbucket-server", "repo:refs_changed", {
      repository: dcRepository,
      changes: [{ refId: "refs/notes/commits", fromHash: sha, toHash: zeros, type: "DELETE" }],
    });
    const decision = compileMatcher(pushRoute("bitbucket-server", { deleted: true }))(event);
    expect([decision.matched, decision.reason]).to.deep.equal([
      false,
      'the push changed ref "refs/notes/commits", neither a branch nor a tag',
    ]);
  });

  // Every provider's real branch and tag pushes still run such a route, as before.
  const fixtures: Array<[PayloadFixtureName, string]> = [
    ["github/push", "branch"],
    ["github/push-tag", "tag"],
    ["gitlab/push", "branch"],
    ["gitlab/tag_push", "tag"],
    ["gitea/push", "branch"],
    ["bitbucket/repo-push", "branch"],
    ["bitbucket-server/repo-refs_changed", "branch"],
  ];
  for (const [name, kind] of fixtures) {
    it(`the ${name} fixture, a ${kind} push, runs a route without branches or tags`, () => {
      const { provider, headers, payload, body } = loadPayload(name);
      const event = normaliseDelivery(provider, bagOf(headers), payload, body);
      const decision = decideChanges(compileMatcher(pushRoute(provider)), event);
      expect(decision.matched.length, decision.reason).to.be.greaterThan(0);
      for (const change of decision.matched) expect(change.branch ?? change.tag).to.be.a("string");
    });
  }

  it("hookgate explain says the shipped legacy-bitbucket route would not run for a push that changed no ref", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-push-refs-"));
    try {
      const payload = join(dir, "empty.json");
      writeFileSync(
        payload,
        JSON.stringify({ push: { changes: [] }, actor: { nickname: "jdev" }, repository: cloudRepository }),
      );
      const run = await runInProcess([
        "explain",
        "-r",
        join(__dirname, "..", "..", "routes.yaml"),
        "--provider",
        "bitbucket",
        "-e",
        "repo:push",
        "-p",
        payload,
        "--json",
      ]);
      expect(run.code, run.stderr).to.equal(0);
      const legacy = (JSON.parse(run.stdout) as Array<{ route: string }>).find(
        (r) => r.route === "legacy-bitbucket",
      );
      expect(legacy).to.deep.equal({
        route: "legacy-bitbucket",
        matched: false,
        reason: "the push changed no branch or tag",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
