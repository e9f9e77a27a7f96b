// The event header is not signed: GitHub, Bitbucket (Cloud and Data Center) and Gitea sign the body only, and
// GitLab's signing token covers webhook-id and the body, not X-Gitlab-Event. A signed body posted again under
// another event header (and a new delivery id) must not be taken as that event: where the body names its kind,
// a header that disagrees is refused 400, as a malformed payload is. Genuine deliveries stay accepted.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { headerBag } from "../../src/core/headers";
import type { Provider } from "../../src/core/types";
import { signatureHeaders } from "../../src/core/verify/sign";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { loadPayload, PAYLOAD_FIXTURES, type PayloadFixtureName } from "../fixtures/payloads";
import { MemorySecretStore } from "../support/secrets";
import { jenkinsRoute, LogCollector, RecordingDeadLetters, RecordingQueue, WEBHOOK_SECRET } from "./support";

const EVENT_HEADER: Record<Provider, string> = {
  github: "X-GitHub-Event",
  gitlab: "X-Gitlab-Event",
  bitbucket: "X-Event-Key",
  "bitbucket-server": "X-Event-Key",
  gitea: "X-Gitea-Event",
};

/** A route of `provider` that matches any delivery, its deletions too, so that only the gateway's reading decides. */
function harness(provider: Provider) {
  const secretName = `hookgate/${provider}-webhook`;
  const route = jenkinsRoute({
    provider,
    secret: secretName,
    match: {},
    action: {
      type: "jenkins",
      jenkins: { url: "https://jenkins.internal.example.com", credentials: "hookgate/jenkins", crumb: false },
      job: "any",
      parameters: { DELIVERY: "{{deliveryId}}" },
    },
  });
  const queue = new RecordingQueue();
  const handler = createRouteHandler({
    route,
    secrets: new MemorySecretStore({ [secretName]: WEBHOOK_SECRET }),
    queue,
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore({}),
    runAction: async () => {
      throw new Error("not at receive time");
    },
    log: new LogCollector().log,
  });
  /** Posts `body`, signed as `provider` signs it, with `headers` (a fresh delivery id unless given). */
  const deliver = async (body: Buffer, headers: Record<string, string>) => {
    const answer = await handler.deliver({
      routeName: route.name,
      method: "POST",
      headers: headerBag({
        "Content-Type": "application/json",
        "X-Request-Id": randomUUID(),
        ...headers,
        ...signatureHeaders(provider, WEBHOOK_SECRET, body),
      }),
      body,
      sourceIp: "203.0.113.9",
    });
    return { status: answer.statusCode, body: answer.body as { status: string; reason?: string } };
  };
  return { deliver, queue };
}

function fixtureJson(name: PayloadFixtureName): Record<string, unknown> {
  return structuredClone(loadPayload(name).payload) as Record<string, unknown>;
}

interface MismatchCase {
  title: string;
  provider: Provider;
  payload: Record<string, unknown>;
  /** The event header the body was signed for, and the one it is re-sent under. */
  genuine: string;
  forged: string;
}

/** Bitbucket Data Center: the merged fixture as it was when opened (eventKey pr:opened, state OPEN). */
function dataCenterOpened(): Record<string, unknown> {
  const payload = fixtureJson("bitbucket-server/pr-merged");
  const pr = payload.pullRequest as Record<string, unknown>;
  Object.assign(pr, { state: "OPEN", open: true, closed: false });
  delete pr.closedDate;
  payload.eventKey = "pr:opened";
  return payload;
}

/** Bitbucket Cloud: the fulfilled fixture with its pull request in `state` (OPEN when it was created). */
function cloudPullRequest(state: string): Record<string, unknown> {
  const payload = fixtureJson("bitbucket/pullrequest-fulfilled");
  const pr = payload.pullrequest as Record<string, unknown>;
  pr.state = state;
  delete pr.merge_commit;
  delete pr.closed_by;
  return payload;
}

/**
 * A create or delete of branch feature/x, shaped as each host sends it: GitHub's create names master_branch,
 * description and pusher_type; Gitea's (and Forgejo's) create names sha; both deletes name pusher_type only.
 */
function refEvent(host: "github" | "gitea", kind: "create" | "delete"): Record<string, unknown> {
  const from = fixtureJson(host === "github" ? "github/push" : "gitea/push");
  const common = { ref: "feature/x", ref_type: "branch", repository: from.repository, sender: from.sender };
  if (kind === "delete") return { ...common, pusher_type: "user" };
  return host === "github"
    ? { ...common, master_branch: "main", description: null, pusher_type: "user" }
    : { sha: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", ...common };
}

/**
 * A GitLab work item that is not an issue (a task, an epic): GitLab sends it under "Issue Hook" (or "Confidential
 * Issue Hook") with object_kind and event_type work_item (gitlab-org/gitlab#535890), its object_attributes an issue's.
 */
function gitlabWorkItem(eventType = "work_item"): Record<string, unknown> {
  const payload = gitlabIssue(eventType, "work_item");
  (payload.object_attributes as Record<string, unknown>).type = "Task";
  return payload;
}

/**
 * A GitLab issue's payload (object_kind issue; GitLab's "Issue events" shape): closed, with the merge request
 * fixture's project and user. Sent as "Merge Request Hook" it would read as merge request !2 closed.
 */
function gitlabIssue(eventType = "issue", kind = "issue"): Record<string, unknown> {
  const from = fixtureJson("gitlab/merge_request-close");
  return {
    object_kind: kind,
    event_type: eventType,
    user: from.user,
    project: from.project,
    object_attributes: { id: 301, iid: 2, title: "Flaky test", action: "close", state: "closed" },
  };
}

const MISMATCHES: MismatchCase[] = [
  {
    title: "a Bitbucket Data Center pr:opened body re-sent as pr:deleted",
    provider: "bitbucket-server",
    payload: dataCenterOpened(),
    genuine: "pr:opened",
    forged: "pr:deleted",
  },
  {
    title: "a Bitbucket Data Center pr:opened body re-sent as pr:merged",
    provider: "bitbucket-server",
    payload: dataCenterOpened(),
    genuine: "pr:opened",
    forged: "pr:merged",
  },
  {
    title: "a Bitbucket Data Center pr:opened body re-sent as pr:declined",
    provider: "bitbucket-server",
    payload: dataCenterOpened(),
    genuine: "pr:opened",
    forged: "pr:declined",
  },
  {
    title: "a Bitbucket Data Center repo:refs_changed body re-sent as pr:merged",
    provider: "bitbucket-server",
    payload: fixtureJson("bitbucket-server/repo-refs_changed"),
    genuine: "repo:refs_changed",
    forged: "pr:merged",
  },
  {
    title: "a Bitbucket Cloud pullrequest:created body (state OPEN) re-sent as pullrequest:fulfilled",
    provider: "bitbucket",
    payload: cloudPullRequest("OPEN"),
    genuine: "pullrequest:created",
    forged: "pullrequest:fulfilled",
  },
  {
    title: "a Bitbucket Cloud pullrequest:created body (state OPEN) re-sent as pullrequest:rejected",
    provider: "bitbucket",
    payload: cloudPullRequest("OPEN"),
    genuine: "pullrequest:created",
    forged: "pullrequest:rejected",
  },
  {
    title: "a Bitbucket Cloud pullrequest:rejected body (state DECLINED) re-sent as pullrequest:fulfilled",
    provider: "bitbucket",
    payload: fixtureJson("bitbucket/pullrequest-rejected"),
    genuine: "pullrequest:rejected",
    forged: "pullrequest:fulfilled",
  },
  {
    title: "a Bitbucket Cloud pullrequest:fulfilled body (state MERGED) re-sent as pullrequest:rejected",
    provider: "bitbucket",
    payload: fixtureJson("bitbucket/pullrequest-fulfilled"),
    genuine: "pullrequest:fulfilled",
    forged: "pullrequest:rejected",
  },
  {
    title: "a GitHub create body (it names master_branch) re-sent as delete",
    provider: "github",
    payload: refEvent("github", "create"),
    genuine: "create",
    forged: "delete",
  },
  {
    title: "a Gitea create body (it names sha) re-sent as delete",
    provider: "gitea",
    payload: refEvent("gitea", "create"),
    genuine: "create",
    forged: "delete",
  },
  {
    title: 'a GitLab issue body (object_kind issue) re-sent as "Merge Request Hook"',
    provider: "gitlab",
    payload: gitlabIssue(),
    genuine: "Issue Hook",
    forged: "Merge Request Hook",
  },
  {
    title: 'a GitLab merge request body (object_kind merge_request) re-sent as "Push Hook"',
    provider: "gitlab",
    payload: fixtureJson("gitlab/merge_request-open"),
    genuine: "Merge Request Hook",
    forged: "Push Hook",
  },
  {
    title: 'a GitLab push body (object_kind push) re-sent as "Merge Request Hook"',
    provider: "gitlab",
    payload: fixtureJson("gitlab/push"),
    genuine: "Push Hook",
    forged: "Merge Request Hook",
  },
  // Every create and delete names ref and ref_type branch or tag: any other body under them is another event's.
  ...(["github", "gitea"] as const).flatMap((host) =>
    (["delete", "create"] as const).flatMap((forged): MismatchCase[] => [
      {
        title: `a ${host === "github" ? "GitHub" : "Gitea"} push body (no ref_type) re-sent as ${forged}`,
        provider: host,
        payload: fixtureJson(`${host}/push`),
        genuine: "push",
        forged,
      },
      {
        title: `a ${host === "github" ? "GitHub" : "Gitea"} pull_request body re-sent as ${forged}`,
        provider: host,
        payload: fixtureJson(`${host}/pull_request-closed-merged`),
        genuine: "pull_request",
        forged,
      },
    ]),
  ),
  // A work item's kind is GitLab's own, though not in its table of hooks: it belongs under "Issue Hook".
  ...["Merge Request Hook", "Push Hook", "Tag Push Hook", "Note Hook"].map(
    (forged): MismatchCase => ({
      title: `a GitLab work item body (object_kind work_item) re-sent as "${forged}"`,
      provider: "gitlab",
      payload: gitlabWorkItem(),
      genuine: "Issue Hook",
      forged,
    }),
  ),
  {
    title: 'a GitLab confidential work item body re-sent as "Merge Request Hook"',
    provider: "gitlab",
    payload: gitlabWorkItem("confidential_issue"),
    genuine: "Confidential Issue Hook",
    forged: "Merge Request Hook",
  },
  // A merge request's or a push's payload is always of its hook's kind: any other kind under them is another
  // hook's body, one hookgate does not know (a newer GitLab's) included.
  ...["Merge Request Hook", "Push Hook", "Tag Push Hook"].map(
    (forged): MismatchCase => ({
      title: `a GitLab body of a kind hookgate does not know re-sent as "${forged}"`,
      provider: "gitlab",
      payload: gitlabIssue("issue", "objective"),
      genuine: "Issue Hook",
      forged,
    }),
  ),
];

describe("An event header that names another event than the signed body", () => {
  for (const c of MISMATCHES) {
    it(`refuses ${c.title} with 400, queueing nothing (and accepts it under its own header)`, async () => {
      const h = harness(c.provider);
      const body = Buffer.from(JSON.stringify(c.payload), "utf8");
      const forged = await h.deliver(body, { [EVENT_HEADER[c.provider]]: c.forged });
      expect(forged.status, JSON.stringify(forged.body)).to.equal(400);
      expect(forged.body.status).to.equal("rejected");
      expect(forged.body.reason).to.include("not signed");
      expect(h.queue.sent).to.have.length(0);
      const genuine = await h.deliver(body, { [EVENT_HEADER[c.provider]]: c.genuine });
      expect(genuine.status, JSON.stringify(genuine.body)).to.be.oneOf([200, 202]);
    });
  }
});

/** A create or delete body that names no branch or tag: no host sends one, so it is another event's. */
const REFLESS: { title: string; fields: Record<string, unknown> }[] = [
  { title: "no ref_type", fields: { ref_type: undefined } },
  { title: "no ref", fields: { ref: undefined } },
  { title: "an empty ref", fields: { ref: "" } },
  { title: "a ref that is not text", fields: { ref: 7 } },
  { title: 'ref_type "commit"', fields: { ref_type: "commit" } },
  { title: 'ref_type "repository" (on a delete)', fields: { ref_type: "repository", ref: null } },
];

describe("A create or delete whose body names no branch or tag", () => {
  for (const host of ["github", "gitea"] as const) {
    for (const kind of ["delete", "create"] as const) {
      for (const c of REFLESS) {
        if (kind === "create" && c.fields.ref_type === "repository") continue;
        it(`refuses a ${host} ${kind} with ${c.title} with 400, queueing nothing`, async () => {
          const h = harness(host);
          const payload = { ...refEvent(host, kind), ...c.fields };
          const answer = await h.deliver(Buffer.from(JSON.stringify(payload), "utf8"), {
            [EVENT_HEADER[host]]: kind,
          });
          expect(answer.status, JSON.stringify(answer.body)).to.equal(400);
          expect(answer.body.reason).to.include('ref_type "branch" or "tag"');
          expect(h.queue.sent).to.have.length(0);
        });
      }
    }
  }
});

/** Bodies a host may send as they are, under the header given: each must stay accepted. */
const GENUINE_VARIANTS: {
  title: string;
  provider: Provider;
  payload: Record<string, unknown>;
  event: string;
}[] = [
  {
    title: "a Bitbucket Cloud pullrequest:rejected about a SUPERSEDED pull request (a decline's old state)",
    provider: "bitbucket",
    payload: cloudPullRequest("SUPERSEDED"),
    event: "pullrequest:rejected",
  },
  {
    title:
      "a Bitbucket Cloud pullrequest:updated about a pull request already MERGED (created and updated are not checked)",
    provider: "bitbucket",
    payload: cloudPullRequest("MERGED"),
    event: "pullrequest:updated",
  },
  { title: "a GitHub delete", provider: "github", payload: refEvent("github", "delete"), event: "delete" },
  {
    title: "a GitHub delete of a tag",
    provider: "github",
    payload: { ...refEvent("github", "delete"), ref: "v1.0", ref_type: "tag" },
    event: "delete",
  },
  { title: "a GitHub create", provider: "github", payload: refEvent("github", "create"), event: "create" },
  // The Events API's shape of a new repository (github/docs#28996): no webhook schema has it; read as before.
  {
    title: 'a GitHub create of ref_type "repository" with ref null',
    provider: "github",
    payload: { ...refEvent("github", "create"), ref: null, ref_type: "repository" },
    event: "create",
  },
  // Both pushes are read by the same code: a tag push's kind under "Push Hook" (hookgate send --event push) is kept.
  {
    title: 'a GitLab tag push under "Push Hook"',
    provider: "gitlab",
    payload: fixtureJson("gitlab/tag_push"),
    event: "Push Hook",
  },
  {
    title: 'a GitLab confidential issue (object_kind issue) under "Confidential Issue Hook"',
    provider: "gitlab",
    payload: gitlabIssue("confidential_issue"),
    event: "Confidential Issue Hook",
  },
  {
    title: 'a GitLab work item (object_kind work_item) under "Issue Hook"',
    provider: "gitlab",
    payload: gitlabWorkItem(),
    event: "Issue Hook",
  },
  {
    title: 'a GitLab confidential work item under "Confidential Issue Hook"',
    provider: "gitlab",
    payload: gitlabWorkItem("confidential_issue"),
    event: "Confidential Issue Hook",
  },
  // A kind hookgate does not know is read as it is, but under a merge request's or a push's hook.
  {
    title: 'a GitLab payload of a kind hookgate does not know under "Issue Hook"',
    provider: "gitlab",
    payload: gitlabIssue("issue", "objective"),
    event: "Issue Hook",
  },
  {
    title: "a GitLab payload under a hook hookgate does not know",
    provider: "gitlab",
    payload: gitlabWorkItem(),
    event: "Work Item Hook",
  },
  {
    title: 'a GitLab push under "Tag Push Hook" (both pushes are read alike)',
    provider: "gitlab",
    payload: fixtureJson("gitlab/push"),
    event: "Tag Push Hook",
  },
  {
    title: "a GitLab System Hook push",
    provider: "gitlab",
    payload: fixtureJson("gitlab/push"),
    event: "System Hook",
  },
  { title: "a Gitea delete", provider: "gitea", payload: refEvent("gitea", "delete"), event: "delete" },
  { title: "a Gitea create", provider: "gitea", payload: refEvent("gitea", "create"), event: "create" },
  {
    title: "a Gitea delete of a tag",
    provider: "gitea",
    payload: { ...refEvent("gitea", "delete"), ref: "v1.0", ref_type: "tag" },
    event: "delete",
  },
  // Forgejo names the full ref to a "Forgejo" webhook.
  {
    title: "a Forgejo delete naming the full ref",
    provider: "gitea",
    payload: { ...refEvent("gitea", "delete"), ref: "refs/heads/feature/x" },
    event: "delete",
  },
  // Gogs' CreatePayload: ref, ref_type, repository, sender (no sha, no pusher_type).
  {
    title: "a Gogs create",
    provider: "gitea",
    payload: { ...refEvent("gitea", "create"), sha: undefined },
    event: "create",
  },
];

/** The shipped examples/ deliveries, with the event header `hookgate send` gives each. */
const EXAMPLES: { file: string; provider: Provider; event: string }[] = [
  { file: "github-push.json", provider: "github", event: "push" },
  { file: "github-pr-closed-merged.json", provider: "github", event: "pull_request" },
  { file: "gitlab-push.json", provider: "gitlab", event: "Push Hook" },
  { file: "bitbucket-push.json", provider: "bitbucket", event: "repo:push" },
];

describe("Genuine deliveries, their event header as the host sends it, are still accepted", () => {
  for (const name of Object.keys(PAYLOAD_FIXTURES) as PayloadFixtureName[]) {
    it(`accepts the fixture ${name}`, async () => {
      const fixture = loadPayload(name);
      const answer = await harness(fixture.provider).deliver(fixture.body, fixture.headers);
      expect(answer.status, JSON.stringify(answer.body)).to.be.oneOf([200, 202]);
      expect(answer.body.status).to.not.equal("rejected");
    });
  }
  for (const variant of GENUINE_VARIANTS) {
    it(`accepts ${variant.title}`, async () => {
      const body = Buffer.from(JSON.stringify(variant.payload), "utf8");
      const answer = await harness(variant.provider).deliver(body, {
        [EVENT_HEADER[variant.provider]]: variant.event,
      });
      expect(answer.status, JSON.stringify(answer.body)).to.be.oneOf([200, 202]);
    });
  }
  for (const example of EXAMPLES) {
    it(`accepts examples/${example.file}`, async () => {
      const body = readFileSync(join(__dirname, "../../examples", example.file));
      const answer = await harness(example.provider).deliver(body, {
        [EVENT_HEADER[example.provider]]: example.event,
      });
      expect(answer.status, JSON.stringify(answer.body)).to.be.oneOf([200, 202]);
    });
  }
});
