import { readFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { runAction } from "../../src/actions";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import { S3ObjectStore } from "../../src/aws/objectStore";
import { SqsDeadLetterQueue } from "../../src/aws/sqs";
import { ActionError } from "../../src/core/errors";
import { routeKeyScope } from "../../src/core/keyPrefixes";
import type { ObjectStore, SecretStore } from "../../src/core/ports";
import type {
  PrCleanupRequest,
  PrCleanupStep,
  Provider,
  QueuedEvent,
  Route,
  WorkItem,
} from "../../src/core/types";
import { type GitHostServer, type PullState, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { RotatedSecrets } from "../support/rotatedSecrets";
import { type LocalS3, type S3Faults, startLocalS3 } from "../support/s3";
import type { MemorySecretStore } from "../support/secrets";
import {
  closedPrEvent,
  HOST_TOKEN,
  JENKINS_TOKEN,
  JENKINS_USER,
  mergedPull,
  PR_HEAD_SHA,
  REOPENED_AT,
  rejectsWithActionError,
  testClients,
} from "./helpers";

const HEAD_SHA = PR_HEAD_SHA;
const PREVIEWS = "previews";

function closedEvent(
  overrides: Partial<NonNullable<QueuedEvent["pr"]>> = {},
  provider: Provider = "github",
): QueuedEvent {
  return closedPrEvent(overrides, { provider });
}

describe("Function: cleanUpPullRequest (local Git host, s3rver, Jenkins)", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  let jenkins: JenkinsServer;
  let s3: LocalS3;

  const request = (
    steps: PrCleanupStep[],
    provider: Provider = "github",
    apiPath = "",
  ): PrCleanupRequest => ({
    type: "pr-cleanup",
    api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
    context: "hookgate/pr-cleanup",
    steps,
  });
  const teardown = (): PrCleanupStep => ({
    kind: "jenkins",
    request: {
      type: "jenkins",
      jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
      job: ["previews", "teardown"],
      parameters: { PR: "7" },
    },
  });
  const clients = (overrides = {}) =>
    testClients({
      objects: new S3ObjectStore(s3.client, { pageSize: 10 }),
      logsUrl: "https://logs.example/run/1",
      ...overrides,
    });

  async function putObjects(keys: string[]) {
    for (const key of keys) {
      await s3.client.send(new PutObjectCommand({ Bucket: PREVIEWS, Key: key, Body: "x" }));
    }
  }

  before(async () => {
    s3 = await startLocalS3({ buckets: [PREVIEWS] });
  });
  after(async () => {
    await s3.close();
  });
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
  });
  afterEach(async () => {
    await host.close();
    await jenkins.close();
  });

  it("cleanUpPullRequest sets pending, deletes the branch and the S3 prefix, triggers the teardown, then sets success", async () => {
    const prefix = "api/pr-7/";
    await putObjects([
      ...Array.from({ length: 23 }, (_, i) => `${prefix}asset-${i}.js`),
      "api/pr-70/keep.js",
    ]);
    const steps: PrCleanupStep[] = [
      { kind: "delete-branch", onlyMerged: true },
      { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix },
      teardown(),
    ];
    const outcome = await cleanUpPullRequest(request(steps), closedEvent(), clients());

    expect(outcome.status).to.equal("done");
    expect(host.statuses.map((s) => [s.sha, s.state, s.context])).to.deep.equal([
      [HEAD_SHA, "pending", "hookgate/pr-cleanup"],
      [HEAD_SHA, "success", "hookgate/pr-cleanup"],
    ]);
    expect(host.statuses[0]?.targetUrl).to.equal("https://logs.example/run/1");
    expect(host.statuses[1]?.description?.length).to.be.at.most(140);
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
    expect(await s3.listKeys(PREVIEWS, prefix)).to.deep.equal([]);
    expect(await s3.listKeys(PREVIEWS, "api/pr-70/")).to.deep.equal(["api/pr-70/keep.js"]);
    expect(outcome.detail).to.contain("deleted 23 objects");
    expect(jenkins.builds().map((b) => [b.path, b.form])).to.deep.equal([
      ["/job/previews/job/teardown/buildWithParameters", { PR: "7" }],
    ]);
    // The delete comes after the re-read of the PR, and before the final status.
    const kinds = host.requests.map((r) => r.kind);
    expect(kinds.indexOf("pull")).to.be.lessThan(kinds.indexOf("delete-ref"));
  });

  describe("with a token secret rotated while the store caches the revoked token", () => {
    const SECRET = "hookgate/github-token";
    let secrets: RotatedSecrets;
    beforeEach(async () => {
      secrets = new RotatedSecrets({
        [SECRET]: "ghp_revoked0123456789",
        "hookgate/jenkins": JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN }),
      });
      await secrets.cache(SECRET, "hookgate/jenkins");
    });
    afterEach(() => secrets.restore());

    for (const [provider, apiPath] of [
      ["github", ""],
      ["gitlab", "/api/v4"],
    ] as const) {
      it(`cleanUpPullRequest (${provider}) reads the token secret once more past its cache when the host answers 401, and runs every step and status with the new token`, async () => {
        secrets.rotate(SECRET, HOST_TOKEN);
        const c = clients({ secrets: secrets.store });
        const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }, teardown()];
        const outcome = await cleanUpPullRequest(
          request(steps, provider, apiPath),
          closedEvent({}, provider),
          c,
        );
        expect(outcome.status, outcome.detail).to.equal("done");
        expect(host.statuses.map((st) => st.state)).to.deep.equal(["pending", "success"]);
        expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
        expect(jenkins.builds()).to.have.length(1);
        // Only the first request was refused; the token was read once more, and once only.
        expect(host.requests.filter((r) => !r.authorized)).to.have.length(1);
        expect(secrets.reads(SECRET)).to.equal(2);
        expect(JSON.stringify(c.logs)).not.to.contain(HOST_TOKEN);
      });
    }

    it("cleanUpPullRequest answered 401 with the same token secret, read once more, fails final as before", async () => {
      const c = clients({ secrets: secrets.store });
      const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
      const err = await rejectsWithActionError(cleanUpPullRequest(request(steps), closedEvent(), c));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("401");
      expect(secrets.reads(SECRET)).to.equal(2);
      expect(host.deletedRefs).to.deep.equal([]);
    });
  });

  it("cleanUpPullRequest with onlyMerged keeps the branch of a PR closed without merging", async () => {
    host.setPull("acme/api", mergedPull({ merged: false }));
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }]),
      closedEvent({ merged: false }),
      clients(),
    );
    expect(host.deletedRefs).to.deep.equal([]);
    expect(host.branches("acme/api")).to.include("feature/login");
    expect(outcome.detail).to.contain("not merged");
    expect(host.statuses.at(-1)?.state).to.equal("success");
  });

  it("cleanUpPullRequest without onlyMerged deletes the branch of an unmerged PR", async () => {
    host.setPull("acme/api", mergedPull({ merged: false }));
    await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: false }]),
      closedEvent({ merged: false }),
      clients(),
    );
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });

  it("cleanUpPullRequest retries a delivery that says merged while the API says not merged, and on the last attempt trusts the API", async () => {
    host.setPull("acme/api", mergedPull({ merged: false }));
    const run = (lastAttempt: boolean) =>
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }]),
        closedEvent({ merged: true }),
        clients({ lastAttempt }),
      );
    const err = await rejectsWithActionError(run(false));
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain("the event says PR #7 was merged, but the Git host's API does not yet");
    expect(host.deletedRefs).to.deep.equal([]);
    expect((await run(true)).detail).to.equal("kept feature/login: not merged");
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest never deletes the default branch", async () => {
    host.setPull("acme/api", mergedPull({ headRef: "main" }));
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: false }]),
      closedEvent({ headRef: "main" }),
      clients(),
    );
    expect(host.deletedRefs).to.deep.equal([]);
    expect(host.branches("acme/api")).to.include("main");
    expect(outcome.detail).to.contain("default branch");
  });

  it("cleanUpPullRequest asks the API for the default branch when neither the PR nor the event carries it", async () => {
    host.setRepo("acme/api", { defaultBranch: "trunk", branches: ["trunk"] });
    host.setPull("acme/api", mergedPull({ headRef: "trunk" }));
    const event = closedEvent({ headRef: "trunk" });
    event.repo = { ...event.repo, defaultBranch: undefined };
    await cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: false }]), event, clients());
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest never deletes a branch of a fork", async () => {
    host.setPull("acme/api", mergedPull({ headRepoFullName: "mallory/api", headRef: "main" }));
    host.setRepo("acme/api", { branches: ["main"] });
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: false }]),
      closedEvent({ headRepoFullName: "mallory/api", headRef: "main" }),
      clients(),
    );
    expect(host.deletedRefs).to.deep.equal([]);
    expect(outcome.detail).to.contain("fork");
  });

  it("cleanUpPullRequest gives the prefix deletion the function's deadline, so it cannot outlive the function", async () => {
    await putObjects(["api/pr-7/a.js"]);
    const store = new S3ObjectStore(s3.client);
    const deadlines: Array<number | undefined> = [];
    const objects = {
      put: store.put.bind(store),
      head: store.head.bind(store),
      deletePrefix: (bucket: string, prefix: string, options?: { deadlineMs?: number }) => {
        deadlines.push(options?.deadlineMs);
        return store.deletePrefix(bucket, prefix, options);
      },
    };
    const deadlineMs = Date.now() + 60_000;
    const steps: PrCleanupStep[] = [{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "api/pr-7/" }];
    const outcome = await cleanUpPullRequest(request(steps), closedEvent(), clients({ objects, deadlineMs }));
    expect(outcome.status).to.equal("done");
    expect(deadlines).to.deep.equal([deadlineMs]);
  });

  it("cleanUpPullRequest skips every destructive step when the PR is open again (its answer updated after the close)", async () => {
    host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: REOPENED_AT }));
    await putObjects(["api/pr-7/still-here.js"]);
    const steps: PrCleanupStep[] = [
      { kind: "delete-branch", onlyMerged: false },
      { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "api/pr-7/" },
      teardown(),
    ];
    // Closed without a merge, then reopened: a merged pull request cannot be.
    const outcome = await cleanUpPullRequest(request(steps), closedEvent({ merged: false }), clients());
    expect(outcome.status).to.equal("skipped");
    expect(host.deletedRefs).to.deep.equal([]);
    expect(await s3.listKeys(PREVIEWS, "api/pr-7/")).to.deep.equal(["api/pr-7/still-here.js"]);
    expect(jenkins.builds()).to.deep.equal([]);
    expect(host.statuses.at(-1)?.state).to.equal("success");
    expect(host.statuses.at(-1)?.description).to.contain("open again");
  });

  // Only a first attempt may say nothing was cleaned up: a retry, or a redriven letter (its receive count 1
  // again), may follow an attempt that ran steps before it saw the reopen.
  const openAgainStatuses = [
    {
      given: "a first attempt",
      attempt: 1,
      mayHaveRun: false,
      says: "PR #7 is open again: nothing cleaned up",
    },
    {
      given: "a retry",
      attempt: 2,
      mayHaveRun: false,
      says: "PR #7 is open again: cleanup stopped (an earlier attempt may have run some steps)",
    },
    {
      given: "a redriven letter's first receive",
      attempt: 1,
      mayHaveRun: true,
      says: "PR #7 is open again: cleanup stopped (an earlier attempt may have run some steps)",
    },
  ];
  for (const { given, attempt, mayHaveRun, says } of openAgainStatuses) {
    it(`cleanUpPullRequest's status for a PR open again, on ${given}, says: ${says}`, async () => {
      host.setPull("acme/api", mergedPull({ state: "open", merged: false, updatedAt: REOPENED_AT }));
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: false }]),
        closedEvent({ merged: false }),
        clients({ attempt, mayHaveRun }),
      );
      expect(outcome.status).to.equal("skipped");
      expect(host.statuses.at(-1)).to.include({ state: "success", description: says });
      expect(host.deletedRefs).to.deep.equal([]);
    });
  }

  for (const action of ["opened", "synchronize", "reopened"]) {
    it(`cleanUpPullRequest skips a pull_request ${action} event without calling the Git host`, async () => {
      const event = { ...closedEvent({ state: "open" }), action };
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: false }]),
        event,
        clients(),
      );
      expect(outcome.status).to.equal("skipped");
      expect(host.requests).to.deep.equal([]);
    });
  }

  // A bot labels a merged PR, GitLab sends "update" for an edit after the merge: the PR is closed, but
  // this is not its closing, and the cleanup (a teardown build) already ran.
  for (const [action, state] of [
    ["labeled", "closed"],
    ["edited", "merged"],
    [undefined, "closed"],
  ] as const) {
    it(`cleanUpPullRequest skips a pull_request ${action ?? "without action"} event on a ${state} PR without calling the Git host`, async () => {
      const event = { ...closedEvent({ state }), action };
      const outcome = await cleanUpPullRequest(request([teardown()]), event, clients());
      expect(outcome).to.deep.equal({
        status: "skipped",
        detail: `skipped: the pull request was ${action ?? "not closed"}`,
      });
      expect(host.requests).to.deep.equal([]);
      expect(jenkins.builds()).to.deep.equal([]);
    });
  }

  it("cleanUpPullRequest deletes a branch with slashes, unicode and spaces through an encoded ref path", async () => {
    const branch = "feature/ünï code";
    host.setPull("acme/api", mergedPull({ headRef: branch }));
    await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }]),
      closedEvent({ headRef: branch }),
      clients(),
    );
    expect(host.requests.find((r) => r.kind === "delete-ref")?.path).to.equal(
      "/repos/acme/api/git/refs/heads/feature/%C3%BCn%C3%AF%20code",
    );
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch }]);
  });

  it("cleanUpPullRequest refuses a branch name with a '..' segment (final, status failure, nothing deleted)", async () => {
    host.setPull("acme/api", mergedPull({ headRef: "feature/../main" }));
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }]),
        closedEvent({ headRef: "feature/../main" }),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(host.requests.filter((r) => r.method === "DELETE")).to.deep.equal([]);
    expect(host.statuses.at(-1)?.state).to.equal("failure");
  });

  it("cleanUpPullRequest rejects an event whose head sha is not a commit id, without calling the Git host", async () => {
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }]),
        closedEvent({ headSha: "../../x" }),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(host.requests).to.deep.equal([]);
  });

  it("cleanUpPullRequest counts a branch that is already gone as done (idempotent on retry)", async () => {
    const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
    await cleanUpPullRequest(request(steps), closedEvent(), clients());
    const again = await cleanUpPullRequest(request(steps), closedEvent(), clients());
    expect(again.status).to.equal("done");
    expect(again.detail).to.contain("already gone");
    expect(host.deletedRefs).to.have.length(1);
  });

  it("cleanUpPullRequest never repeats the token a Git host echoes in its error, in the error or the commit status", async () => {
    host.script("delete-ref", {
      status: 500,
      body: JSON.stringify({ message: `delete failed for Bearer ${HOST_TOKEN}` }),
    });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
    );
    expect(err.message).to.contain("delete failed for [redacted]").and.not.contain(HOST_TOKEN);
    expect(JSON.stringify(host.statuses)).not.to.contain(HOST_TOKEN);
  });

  it("cleanUpPullRequest repeats no part of an echoed token that a long error message would cut through", async () => {
    // The message is shortened to 200 characters: the token starts before the cut and ends after it.
    const prefix = "x".repeat(180);
    host.script("delete-ref", {
      status: 500,
      body: JSON.stringify({ message: `${prefix} Bearer ${HOST_TOKEN} refused` }),
    });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
    );
    const echoed = HOST_TOKEN.slice(0, 8);
    expect(err.message).to.contain(`${prefix} [redacted] refused`).and.not.contain(echoed);
    expect(JSON.stringify(host.statuses)).not.to.contain(echoed);
  });

  it("cleanUpPullRequest fails final, status failure, when GitHub refuses with another 422 the deletion of a branch neither protected nor under a ruleset (a cause GitHub documents no refusal for), never reporting it kept or gone", async () => {
    host.script("delete-ref", { status: 422, body: JSON.stringify({ message: "Reference update failed" }) });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain(
      'could not delete branch "feature/login": GitHub API answered 422: Reference update failed',
    );
    expect(host.branches("acme/api")).to.include("feature/login");
    expect(host.statuses.at(-1)?.state).to.equal("failure");
  });

  it("cleanUpPullRequest keeps a private Jenkins address out of the commit status (public on a public repository), while its error names it for the logs", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const unreachable = teardown();
    if (unreachable.kind === "jenkins") {
      unreachable.request.jenkins.url = `http://127.0.0.1:${closedPort}`;
      unreachable.request.job = ["t"]; // short enough for the address to fit GitHub's 140 characters
    }
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([unreachable]), closedEvent(), clients()),
    );
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain(`http://127.0.0.1:${closedPort}`);
    const description = host.statuses.at(-1)?.description ?? "";
    expect(description).to.contain("will retry").and.contain("could not be reached: ECONNREFUSED");
    expect(description).not.to.contain(`127.0.0.1:${closedPort}`);
  });

  it("cleanUpPullRequest keeps the Jenkins queue item's address out of the success status, while its outcome names it for the logs", async () => {
    const jenkinsHost = new URL(jenkins.url).host;
    jenkins.script({ status: 201, location: true }, { status: 303, location: true });
    for (const _ of [1, 2]) {
      const outcome = await cleanUpPullRequest(request([teardown()]), closedEvent(), clients());
      expect(outcome.detail).to.contain(`${jenkinsHost}/queue/item/`);
      const description = host.statuses.at(-1)?.description ?? "";
      expect(host.statuses.at(-1)?.state).to.equal("success");
      expect(description).to.match(
        /^Jenkins previews\/teardown: (queued|merged into an item already queued)/,
      );
      expect(description).not.to.contain(jenkinsHost);
    }
  });

  it("cleanUpPullRequest leaves the status pending and rethrows retryable when the teardown job answers 500; the retry succeeds", async () => {
    jenkins.script({ status: 500 });
    const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }, teardown()];
    const err = await rejectsWithActionError(cleanUpPullRequest(request(steps), closedEvent(), clients()));
    expect(err.retryable).to.equal(true);
    expect(host.statuses.map((s) => s.state)).to.deep.equal(["pending", "pending"]);
    expect(host.statuses.at(-1)?.description).to.contain("will retry");

    const outcome = await cleanUpPullRequest(request(steps), closedEvent(), clients());
    expect(outcome.status).to.equal("done");
    expect(host.statuses.at(-1)?.state).to.equal("success");
    expect(jenkins.builds()).to.have.length(2);
  });

  it("cleanUpPullRequest retried after a step past the teardown failed finds the teardown build the first attempt started and triggers none", async () => {
    await jenkins.close();
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "PR" }],
    });
    const prefix = "retried/pr-7/";
    await putObjects([`${prefix}index.html`]);
    const item: WorkItem = {
      v: 1,
      route: "pr-cleanup",
      deliveryId: "d-pr-7",
      generation: 1,
      acceptedAt: new Date().toISOString(),
      event: closedEvent(),
      request: request([teardown(), { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix }]),
    };
    s3.faults.everyRequest = { status: 503, code: "SlowDown", message: "Please reduce your request rate." };
    try {
      expect((await rejectsWithActionError(runAction(item, clients()))).retryable).to.equal(true);
    } finally {
      s3.faults.everyRequest = undefined;
    }
    expect(jenkins.jobBuilds).to.have.length(1);

    const outcome = await runAction(item, clients({ attempt: 2 }));
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.match(
      /^Jenkins previews\/teardown: already started as #1 .*; deleted 1 object under /,
    );
    expect(jenkins.builds(), "one teardown request only").to.have.length(1);
    expect(host.statuses.at(-1)).to.deep.include({ state: "success" });
    expect(host.statuses.at(-1)?.description).to.contain(
      "Jenkins previews/teardown: already started as build #1",
    );
  });

  it("cleanUpPullRequest on a redriven dead letter's first receive (mayHaveRun) finds the teardown build its last attempt started and triggers none", async () => {
    await jenkins.close();
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "PR" }],
    });
    const item: WorkItem = {
      v: 1,
      route: "pr-cleanup",
      deliveryId: "d-pr-8",
      generation: 1,
      acceptedAt: new Date().toISOString(),
      event: closedEvent(),
      request: request([teardown()]),
    };
    // The last attempt: Jenkins builds, a proxy in front of it answers 504; dead-lettered.
    jenkins.script({ status: 504, build: true });
    const last = await rejectsWithActionError(runAction(item, clients({ attempt: 5, lastAttempt: true })));
    expect(last.retryable).to.equal(true);
    expect(jenkins.jobBuilds).to.have.length(1);

    // Redriven: a new message, receive count 1.
    const outcome = await runAction(item, clients({ mayHaveRun: true }));
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.match(/^Jenkins previews\/teardown: already started as #1 /);
    expect(jenkins.jobBuilds, "one teardown build only").to.have.length(1);
  });

  it("cleanUpPullRequest on the last attempt sets failure, not pending with will retry, when the teardown job answers 500, and still rethrows it retryable", async () => {
    jenkins.script({ status: 500 });
    const steps: PrCleanupStep[] = [teardown()];
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request(steps), closedEvent(), clients({ lastAttempt: true })),
    );
    expect(err.retryable).to.equal(true);
    expect(host.statuses.map((s) => s.state)).to.deep.equal(["pending", "failure"]);
    expect(host.statuses.at(-1)?.description).to.match(/^jenkins failed: /);
  });

  it("cleanUpPullRequest is done when only the final success status fails: retrying would run the teardown again", async () => {
    host.script("status", { status: 201, body: "{}" }, { status: 500 });
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }, teardown()]),
      closedEvent(),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.contain("the final commit status could not be set");
    expect(host.deletedRefs).to.have.length(1);
    expect(jenkins.builds()).to.have.length(1);
  });

  it("cleanUpPullRequest sets failure and rethrows final when the teardown job does not exist (404)", async () => {
    jenkins.script({ status: 404 });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([teardown()]), closedEvent(), clients()),
    );
    expect(err.retryable).to.equal(false);
    expect(host.statuses.at(-1)?.state).to.equal("failure");
    expect(host.statuses.at(-1)?.description).to.contain("404");
  });

  it("cleanUpPullRequest refuses an empty S3 prefix as final (it would empty the bucket)", async () => {
    await putObjects(["keep/me.js"]);
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "" }]),
        closedEvent(),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(await s3.listKeys(PREVIEWS, "keep/")).to.deep.equal(["keep/me.js"]);
  });

  it("cleanUpPullRequest fails delete-s3-prefix final, before its first step, when the host sends Acme/API to a route on repos [acme/api]: no step runs (the branch and the objects stay, no teardown), the status says why", async () => {
    const route = {
      name: "pr-cleanup",
      provider: "github",
      secret: "hookgate/github-webhook",
      auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
      match: { repos: ["acme/api"] },
      action: {
        type: "pr-cleanup",
        api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
        steps: [
          { kind: "delete-branch", onlyMerged: true },
          { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "{{repo.path}}/pr-{{pr.number}}/" },
          { kind: "jenkins", job: "previews/teardown", parameters: { PR: "{{pr.number}}" } },
        ],
      },
    } satisfies Route;
    host.setRepo("Acme/API", { defaultBranch: "main" });
    host.setPull("Acme/API", mergedPull());
    await putObjects(["Acme/API/pr-7/index.html"]);
    const event = closedEvent({ headRepoFullName: "Acme/API" });
    event.repo = { owner: "Acme", name: "API", fullName: "Acme/API", defaultBranch: "main" };
    const c = clients({ keyScope: routeKeyScope(route) });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([
          { kind: "delete-branch", onlyMerged: true },
          { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "Acme/API/pr-7/" },
          teardown(),
        ]),
        event,
        c,
      ),
    );
    // The log line says what the status does: refused for good, by the step that was refused.
    expect(c.logs.filter((l) => l.msg === "pr-cleanup step refused before any step ran")).to.deep.equal([
      {
        msg: "pr-cleanup step refused before any step ran",
        step: "delete-s3-prefix",
        retryable: false,
        error: err.message,
        pr: 7,
        deliveryId: event.deliveryId,
      },
    ]);
    const reason =
      'prefix "Acme/API/pr-7/" is outside the prefixes the route\'s role may list and delete under ("acme/api/pr-"): ' +
      'routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API]';
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(reason);
    // Nothing ran that a redrive, once repos is respelled, would run a second time.
    expect(host.deletedRefs).to.deep.equal([]);
    expect(await s3.listKeys(PREVIEWS, "Acme/")).to.deep.equal(["Acme/API/pr-7/index.html"]);
    expect(jenkins.builds()).to.deep.equal([]);
    expect(host.statuses.at(-1)?.state).to.equal("failure");
    expect(host.statuses.at(-1)?.description).to.contain('delete-s3-prefix failed: prefix "Acme/API/pr-7/"');
  });

  it("cleanUpPullRequest fails a jenkins step whose job path has an empty segment final, before its first step: the branch listed before it is not deleted, the status says why", async () => {
    const c = clients();
    const step = teardown();
    if (step.kind !== "jenkins") throw new Error("teardown() is a jenkins step");
    // previews/{{tag}} on a pull request: {{tag}} renders empty.
    step.request.job = ["previews", ""];
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }, step]), closedEvent(), c),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal('the Jenkins job name has an invalid segment ""');
    expect(c.logs.filter((l) => l.msg === "pr-cleanup step refused before any step ran")).to.have.length(1);
    // Nothing ran that a redrive, once the job is fixed, would run a second time.
    expect(host.deletedRefs).to.deep.equal([]);
    expect(jenkins.builds()).to.deep.equal([]);
    expect(host.statuses.at(-1)?.state).to.equal("failure");
    expect(host.statuses.at(-1)?.description).to.contain(
      "jenkins failed: the Jenkins job name has an invalid segment",
    );
  });

  it("cleanUpPullRequest triggers no Jenkins teardown listed before a delete-s3-prefix step whose prefix the route's role may not delete under", async () => {
    const route = {
      name: "pr-cleanup",
      provider: "github",
      secret: "hookgate/github-webhook",
      auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
      match: { repos: ["acme/api"] },
      action: {
        type: "pr-cleanup",
        api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
        steps: [
          { kind: "jenkins", job: "previews/teardown", parameters: { PR: "{{pr.number}}" } },
          { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "{{repo.path}}/pr-{{pr.number}}/" },
        ],
      },
    } satisfies Route;
    host.setRepo("Acme/API", { defaultBranch: "main" });
    host.setPull("Acme/API", mergedPull());
    const event = closedEvent({ headRepoFullName: "Acme/API" });
    event.repo = { owner: "Acme", name: "API", fullName: "Acme/API", defaultBranch: "main" };
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([teardown(), { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "Acme/API/pr-7/" }]),
        event,
        clients({ keyScope: routeKeyScope(route) }),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain('prefix "Acme/API/pr-7/" is outside');
    expect(jenkins.builds()).to.deep.equal([]);
    expect(host.statuses.at(-1)?.state).to.equal("failure");
  });

  // The prefix's bucket is the user's (a previews bucket), so it may well be in another region: S3
  // answers 301 PermanentRedirect, which no retry gets past (the client follows no region redirect).
  const prefixFailures: Array<[string, S3Faults["everyRequest"], string, boolean, string]> = [
    [
      "the bucket is in another region (301 PermanentRedirect)",
      {
        status: 301,
        code: "PermanentRedirect",
        message: "The bucket you are attempting to access must be addressed using the specified endpoint.",
        headers: { "x-amz-bucket-region": "eu-central-1" },
      },
      PREVIEWS,
      false,
      "S3 refused the prefix deletion: PermanentRedirect: the bucket is in another region (eu-central-1)",
    ],
    [
      "the bucket does not exist",
      undefined,
      "no-such-previews",
      false,
      'S3 refused the prefix deletion: NoSuchBucket: the bucket "no-such-previews" does not exist',
    ],
    [
      "S3 keeps answering 503 SlowDown",
      { status: 503, code: "SlowDown", message: "Please reduce your request rate." },
      PREVIEWS,
      true,
      "S3 prefix deletion failed: SlowDown",
    ],
  ];
  for (const [what, fault, bucket, retryable, message] of prefixFailures) {
    it(`cleanUpPullRequest fails delete-s3-prefix ${retryable ? "retryable" : "final"}, with the reason, when ${what}`, async () => {
      s3.faults.everyRequest = fault;
      try {
        const err = await rejectsWithActionError(
          cleanUpPullRequest(
            request([{ kind: "delete-s3-prefix", bucket, prefix: "api/pr-7/" }]),
            closedEvent(),
            clients(),
          ),
        );
        expect(err.retryable).to.equal(retryable);
        expect(err.message).to.contain(message);
      } finally {
        s3.faults.everyRequest = undefined;
      }
    });
  }

  it("cleanUpPullRequest runs its steps without commit statuses when the host refuses the first one for good (404: a fork's commit on Bitbucket Cloud)", async () => {
    host.script("status", { status: 404, body: JSON.stringify({ message: "No commit found" }) });
    await putObjects(["nostatus/pr-7/index.html"]);
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "nostatus/pr-7/" }, teardown()]),
      closedEvent(),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.match(
      /^deleted 1 object under .*; Jenkins previews\/teardown: .* \(no commit status: .*404.*No commit found\)$/,
    );
    expect(await s3.listKeys(PREVIEWS, "nostatus/")).to.deep.equal([]);
    expect(jenkins.builds()).to.have.length(1);
    expect(host.requests.filter((r) => r.kind === "status")).to.have.length(1);
  });

  it("cleanUpPullRequest is retryable when the Git host answers 502 to the pending status, and changes nothing", async () => {
    host.script("status", { status: 502 });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: false }]), closedEvent(), clients()),
    );
    expect(err.retryable).to.equal(true);
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest runs its steps on the queue's last attempt when the Git host answers 502 to the pending status, and still sets the success status: no retry follows", async () => {
    host.script("status", { status: 502 });
    await putObjects(["last/pr-7/index.html"]);
    const c = clients({ lastAttempt: true });
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "last/pr-7/" }]),
      closedEvent(),
      c,
    );
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.match(/^deleted 1 object under s3:\/\/previews\/last\/pr-7\/$/);
    expect(await s3.listKeys(PREVIEWS, "last/")).to.deep.equal([]);
    expect(host.requests.filter((r) => r.kind === "status")).to.have.length(2);
    expect(host.statuses.map((st) => st.state)).to.deep.equal(["success"]);
    expect(
      c.logs.filter(
        (l) =>
          l.msg === "pr-cleanup's first commit status failed on the last attempt: the last is still sent",
      ),
    ).to.have.length(1);
  });

  it("cleanUpPullRequest replaces an earlier attempt's 'pending … will retry' with success on the last attempt, though that attempt's first status met a passing 502", async () => {
    jenkins.script({ status: 500 });
    const steps = [{ kind: "delete-branch", onlyMerged: true } as const, teardown()];
    await rejectsWithActionError(cleanUpPullRequest(request(steps), closedEvent(), clients({ attempt: 1 })));
    expect(host.statuses.at(-1)?.description).to.contain("will retry");
    host.script("status", { status: 502 });
    const outcome = await cleanUpPullRequest(
      request(steps),
      closedEvent(),
      clients({ attempt: 2, lastAttempt: true }),
    );
    expect(outcome.status).to.equal("done");
    expect(jenkins.builds()).to.have.length(2);
    const last = host.statuses.at(-1);
    expect(last?.state, `left: ${last?.state} "${last?.description}"`).to.equal("success");
  });

  it("cleanUpPullRequest sets failure on the last attempt whose first status met a passing 502 when a step then fails", async () => {
    jenkins.script({ status: 500 }, { status: 500 });
    const steps = [teardown()];
    await rejectsWithActionError(cleanUpPullRequest(request(steps), closedEvent(), clients({ attempt: 1 })));
    host.script("status", { status: 502 });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request(steps), closedEvent(), clients({ attempt: 2, lastAttempt: true })),
    );
    expect(err.retryable).to.equal(true);
    const last = host.statuses.at(-1);
    expect(last?.state).to.equal("failure");
    expect(last?.description).to.match(/^jenkins failed: /);
  });

  it("cleanUpPullRequest on the last attempt ends done when both the pending status and the last status answer 502: the steps are not failed for their report", async () => {
    host.script("status", { status: 502 }, { status: 502 });
    await putObjects(["last2/pr-7/index.html"]);
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "last2/pr-7/" }]),
      closedEvent(),
      clients({ lastAttempt: true }),
    );
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.match(
      /^deleted 1 object under .* \(the final commit status could not be set: .*502/,
    );
    expect(await s3.listKeys(PREVIEWS, "last2/")).to.deep.equal([]);
  });

  it("cleanUpPullRequest on the last attempt skips a pull request open again when both its statuses answer 502, rather than failing for the report", async () => {
    host.setPull("acme/api", mergedPull({ state: "open", merged: false }));
    host.script("status", { status: 502 }, { status: 502 });
    const outcome = await cleanUpPullRequest(
      request([teardown()]),
      closedEvent(),
      clients({ lastAttempt: true }),
    );
    expect(outcome.status).to.equal("skipped");
    expect(host.requests.filter((r) => r.kind === "status")).to.have.length(2);
  });

  // The step's failure is what the dead letter must say: a failure to report it is no reason to retry instead.
  it("cleanUpPullRequest on the last attempt fails with the step's own final error when its failure status answers 502 too", async () => {
    host.script("status", { status: 502 }, { status: 502 });
    const objects: ObjectStore = {
      ...clients().objects,
      deletePrefix: async () => {
        throw new ActionError("S3 refused the prefix deletion (test)", { retryable: false });
      },
    };
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "api/pr-7/" }]),
        closedEvent(),
        clients({ lastAttempt: true, objects }),
      ),
    );
    expect(err.message).to.equal("S3 refused the prefix deletion (test)");
    expect(err.retryable).to.equal(false);
    expect(host.requests.filter((r) => r.kind === "status")).to.have.length(2);
  });

  it("cleanUpPullRequest's delete-s3-prefix deletes every object it may under the prefix, not only the refused one's page, and fails final naming it, on each attempt", async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `refused/pr-7/a${String(i).padStart(2, "0")}.js`);
    await putObjects(keys);
    s3.faults.deleteErrors = { "refused/pr-7/a00.js": "AccessDenied" };
    try {
      // pageSize 10 (clients()) stands for S3's 1,000: a prefix of 2,500 objects.
      for (let attempt = 1; attempt <= 2; attempt++) {
        const err = await rejectsWithActionError(
          cleanUpPullRequest(
            request([{ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "refused/pr-7/" }]),
            closedEvent(),
            clients({ attempt }),
          ),
        );
        expect(err.retryable).to.equal(false);
        expect(err.message).to.contain("S3 refused to delete 1 of");
        expect(err.message).to.contain('"refused/pr-7/a00.js"');
      }
      expect(await s3.listKeys(PREVIEWS, "refused/pr-7/")).to.deep.equal(["refused/pr-7/a00.js"]);
    } finally {
      s3.faults.deleteErrors = undefined;
    }
  });

  it("cleanUpPullRequest's error for a step that fails for good names the steps done before it (the dead letter's reason), and its failure status does not", async () => {
    jenkins.script({ status: 404 });
    await putObjects(["after/pr-7/index.html"]);
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([
          { kind: "delete-branch", onlyMerged: true },
          { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "after/pr-7/" },
          teardown(),
        ]),
        closedEvent(),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.match(
      /^Jenkins job previews\/teardown .* \(after: deleted branch feature\/login; deleted 1 object under s3:\/\/previews\/after\/pr-7\/\)$/,
    );
    const last = host.statuses.at(-1);
    expect(last?.state).to.equal("failure");
    expect(last?.description).not.to.contain("after:");
    expect(last?.description ?? "").to.have.length.at.most(140);
  });

  it("cleanUpPullRequest's error and log line keep a long step message whole, and the dead-letter queue's 1,024-character reason cut keeps its end, the steps done", async () => {
    const prefixA = `sites/acme-api/pull-requests/${"feature-login-rework-".repeat(5)}/pr-7/`;
    const prefixB = `assets/acme-api/pull-requests/${"feature-login-rework-".repeat(8)}/pr-7/`;
    const refusedKeys = [1, 2, 3, 4].map((i) => `${prefixB}static/js/${"chunk-".repeat(10)}${i}.js`);
    await putObjects([`${prefixA}index.html`, ...refusedKeys]);
    s3.faults.deleteErrors = Object.fromEntries(refusedKeys.map((k) => [k, "AccessDenied"]));
    const c = clients();
    const logs = c.logs;
    try {
      const err = await rejectsWithActionError(
        cleanUpPullRequest(
          request([
            { kind: "delete-branch", onlyMerged: true },
            { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: prefixA },
            { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: prefixB },
          ]),
          closedEvent(),
          c,
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(
        new RegExp(`^S3 refused to delete 4 of 4 objects under s3://${PREVIEWS}/assets/`),
      );
      // The step's own words, the refused keys the operator must fix, are not cut from the error or the log.
      const stepMessage = (err.cause as Error).message;
      expect(stepMessage).to.match(/: AccessDenied \(4\); first "assets\/acme-api\//);
      expect(err.message).to.equal(
        `${stepMessage} (after: deleted branch feature/login; deleted 1 object under s3://${PREVIEWS}/${prefixA})`,
      );
      expect(logs.find((l) => l.msg === "pr-cleanup step failed")?.error).to.equal(err.message);
      // As the worker dead-letters it (routeHandler: `gave up after N receives: …`), through the queue's cut.
      const sent: Array<{ MessageAttributes?: Record<string, { StringValue?: string }> }> = [];
      const sqs = { send: async (command: { input: (typeof sent)[number] }) => sent.push(command.input) };
      const item = {
        route: "r",
        deliveryId: "d",
        generation: 1,
        event: closedEvent(),
      } as unknown as WorkItem;
      await new SqsDeadLetterQueue(sqs as unknown as SQSClient, "https://sqs.example/q").send(
        item,
        `gave up after 5 receives: ${err.message}`,
      );
      const reason = sent[0]?.MessageAttributes?.["hookgate-reason"]?.StringValue ?? "";
      expect(reason, reason).to.match(
        new RegExp(
          ` … .* \\(after: deleted branch feature/login; deleted 1 object under s3://${PREVIEWS}/${prefixA}\\)$`,
        ),
      );
      expect(reason.startsWith(`gave up after 5 receives: S3 refused to delete 4 of 4 objects`)).to.equal(
        true,
      );
      expect(Array.from(reason)).to.have.length(1024);
      expect(host.statuses.at(-1)?.description).not.to.contain("after:");
    } finally {
      s3.faults.deleteErrors = undefined;
    }
  });

  it("cleanUpPullRequest's error names every step done, however long their results, before the failing step's message", async () => {
    let calls = 0;
    const objects = {
      put: async () => ({}),
      head: async () => undefined,
      deletePrefix: async () => {
        calls++;
        if (calls < 4) return 1;
        throw new ActionError("S3 refused to delete 1 of 1 objects: AccessDenied (1)", { retryable: false });
      },
    } as unknown as ObjectStore;
    // Prefixes rendered from a long head branch (Git allows far longer refs than S3's 1,024-byte keys need).
    const prefix = (n: number) => `previews/acme-api/${"feature-login-rework-".repeat(12)}/pr-7/part-${n}/`;
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([1, 2, 3, 4].map((n) => ({ kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: prefix(n) }))),
        closedEvent(),
        testClients({ objects }),
      ),
    );
    expect(err.message).to.equal(
      `S3 refused to delete 1 of 1 objects: AccessDenied (1) (after: ${[1, 2, 3]
        .map((n) => `deleted 1 object under s3://${PREVIEWS}/${prefix(n)}`)
        .join("; ")})`,
    );
  });

  it("cleanUpPullRequest's retryable step failure names the steps done before it and stays retryable", async () => {
    jenkins.script({ status: 503 });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }, teardown()]),
        closedEvent(),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain("(after: deleted branch feature/login)");
    expect(host.statuses.at(-1)?.description).not.to.contain("after:");
  });

  it("cleanUpPullRequest's error for a failing first step names no earlier step", async () => {
    host.script("delete-ref", { status: 403, body: JSON.stringify({ message: "Resource not accessible" }) });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }, teardown()]),
        closedEvent(),
        clients(),
      ),
    );
    expect(err.message).not.to.contain("after:");
  });

  it("cleanUpPullRequest on GitLab is retryable when the pending status answers 409 (another update holds the commit's lock), and changes nothing", async () => {
    host.script("status", {
      status: 409,
      body: JSON.stringify({ message: "Another update to this commit status is in progress" }),
    });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: false }], "gitlab", "/api/v4"),
        closedEvent({}, "gitlab"),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(true);
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest on GitLab posts the status with its name, reads the merge request and deletes the branch", async () => {
    const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
    const outcome = await cleanUpPullRequest(
      request(steps, "gitlab", "/api/v4"),
      closedEvent({}, "gitlab"),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(host.statuses.map((s) => [s.state, s.context])).to.deep.equal([
      ["pending", "hookgate/pr-cleanup"],
      ["success", "hookgate/pr-cleanup"],
    ]);
    expect(host.requests.find((r) => r.kind === "pull")?.path).to.equal(
      "/api/v4/projects/acme%2Fapi/merge_requests/7",
    );
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
    // The head branch as ref: after a squash merge the head commit is on no branch, and GitLab would
    // answer 404 "References for commit Not Found" without it.
    expect(host.statuses.map((s) => s.ref)).to.deep.equal(["feature/login", "feature/login"]);
  });

  // Without a ref GitLab takes the first branch holding the commit: after a merge commit the target's main
  // (protected: 403 unless the token may push there), after a squash or a close none (404). A fork's branch
  // name names a branch of the target project; the target holds the fork's commits at
  // refs/merge-requests/<iid>/head (MergeRequest#fetch_ref!), which Project#protected_for? never protects.
  it("cleanUpPullRequest on GitLab posts a merge request from a fork with refs/merge-requests/<iid>/head as ref, not the fork's branch name", async () => {
    host.setPull("acme/api", mergedPull({ headRepoFullName: "bob/api", headRef: "main" }));
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "gitlab", "/api/v4"),
      closedEvent({ headRepoFullName: "bob/api", headRef: "main" }, "gitlab"),
      clients(),
    );
    expect(outcome.detail).to.equal("kept main: it belongs to a fork");
    expect(host.statuses.map((s) => [s.state, s.ref])).to.deep.equal([
      ["pending", "refs/merge-requests/7/head"],
      ["success", "refs/merge-requests/7/head"],
    ]);
  });

  it("cleanUpPullRequest on GitLab posts a merge request's branch as ref when the event names its project in another case", async () => {
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "gitlab", "/api/v4"),
      closedEvent({ headRepoFullName: "Acme/API" }, "gitlab"),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(host.statuses.map((s) => s.ref)).to.deep.equal(["feature/login", "feature/login"]);
  });

  it("cleanUpPullRequest on Bitbucket Cloud posts no refname when the event does not name the pull request's source repository", async () => {
    await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket", "/2.0"),
      closedEvent({ headRepoFullName: undefined }, "bitbucket"),
      clients(),
    );
    expect(host.statuses.map((s) => s.ref)).to.deep.equal([undefined, undefined]);
  });

  it("cleanUpPullRequest on GitLab leaves out a link longer than GitLab's 255 characters, not the statuses", async () => {
    const logsUrl = `https://eu-central-1.console.aws.amazon.com/cloudwatch/home#logsV2:log-groups/${"x".repeat(200)}`;
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "gitlab", "/api/v4"),
      closedEvent({}, "gitlab"),
      clients({ logsUrl }),
    );
    expect(outcome.status).to.equal("done");
    expect(host.statuses.map((s) => [s.state, s.targetUrl])).to.deep.equal([
      ["pending", undefined],
      ["success", undefined],
    ]);
    expect(host.deletedRefs).to.have.length(1);
  });

  it("cleanUpPullRequest on Bitbucket Cloud posts build statuses (INPROGRESS, SUCCESSFUL) and deletes the branch", async () => {
    const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
    const outcome = await cleanUpPullRequest(
      request(steps, "bitbucket", "/2.0"),
      closedEvent({}, "bitbucket"),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(host.statuses.map((s) => [s.sha, s.state, s.context])).to.deep.equal([
      [HEAD_SHA, "INPROGRESS", "hookgate/pr-cleanup"],
      [HEAD_SHA, "SUCCESSFUL", "hookgate/pr-cleanup"],
    ]);
    expect(host.statuses[0]?.targetUrl).to.equal("https://logs.example/run/1");
    // The source branch as refname: Bitbucket shows a status on the pull request only with it.
    expect(host.statuses.map((s) => s.ref)).to.deep.equal(["feature/login", "feature/login"]);
    expect(host.requests.find((r) => r.kind === "delete-ref")?.path).to.equal(
      "/2.0/repositories/acme/api/refs/branches/feature/login",
    );
    expect(host.deletedRefs).to.have.length(1);
  });

  it("cleanUpPullRequest on Bitbucket Cloud posts the statuses of a pull request from a fork without a refname: the branch is the fork's", async () => {
    host.setPull("acme/api", mergedPull({ headRepoFullName: "bob/api" }));
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket", "/2.0"),
      closedEvent({ headRepoFullName: "bob/api" }, "bitbucket"),
      clients(),
    );
    expect(outcome.detail).to.equal("kept feature/login: it belongs to a fork");
    expect(host.statuses.map((s) => [s.state, s.ref])).to.deep.equal([
      ["INPROGRESS", undefined],
      ["SUCCESSFUL", undefined],
    ]);
  });

  it('cleanUpPullRequest on Bitbucket Cloud sends an API token secret {"email", "apiToken"} as Basic with the email on every call', async () => {
    const email = "dev@acme.example";
    const apiToken = "ATATT3xFfGF0-api-token-for-tests";
    await host.close();
    host = await startGitHostServer({ token: HOST_TOKEN, basic: { user: email, password: apiToken } });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    const secrets = (clients().secrets as MemorySecretStore).set(
      "hookgate/github-token",
      JSON.stringify({ email, apiToken }),
    );
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket", "/2.0"),
      closedEvent({}, "bitbucket"),
      clients({ secrets }),
    );
    expect(outcome.status).to.equal("done");
    expect(host.deletedRefs).to.have.length(1);
    const basic = `Basic ${Buffer.from(`${email}:${apiToken}`).toString("base64")}`;
    expect(new Set(host.requests.map((r) => r.kind))).to.include.all.keys(
      "pull",
      "status",
      "ref",
      "delete-ref",
    );
    expect(host.requests.map((r) => r.authorization)).to.deep.equal(host.requests.map(() => basic));
  });

  it("cleanUpPullRequest on Bitbucket Cloud fails final with a hint at a missing scope when the branch deletion gets 403, and the status shows the answer alone", async () => {
    host.script("delete-ref", {
      status: 403,
      body: JSON.stringify({
        type: "error",
        error: { message: "Your credentials lack one or more required privilege scopes." },
      }),
    });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket", "/2.0"),
        closedEvent({}, "bitbucket"),
        clients(),
      ),
    );
    const answer =
      "Bitbucket API DELETE /repositories/acme/api/refs/branches/feature/login answered 403: Your credentials lack one or more required privilege scopes.";
    expect(err.retryable).to.equal(false);
    // The branch restrictions could not be read (403 without admin access): the refusal's cause is not known.
    expect(err.message).to.equal(
      `${answer}; likely a missing scope: an API token needs read:repository:bitbucket, and for pr-cleanup also ` +
        "write:repository:bitbucket and read:pullrequest:bitbucket; an access token Repositories: Read (Write for pr-cleanup) and Pull requests: Read" +
        "; or a branch restriction of kind delete covers the branch, which hookgate tells only with a token that may list branch restrictions (an API token with admin:repository:bitbucket; an access token with Repositories: Admin), and then keeps such a branch",
    );
    expect(err.message).to.not.contain(HOST_TOKEN);
    expect(host.statuses.at(-1)?.state).to.equal("FAILED");
    expect(host.statuses.at(-1)?.description).to.contain("answered 403").and.not.contain("likely");
  });

  it("cleanUpPullRequest on Bitbucket Cloud keeps the branch of a declined PR when onlyMerged", async () => {
    host.setPull("acme/api", mergedPull({ merged: false }));
    await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket", "/2.0"),
      closedEvent({ merged: false }, "bitbucket"),
      clients(),
    );
    expect(host.deletedRefs).to.deep.equal([]);
  });

  describe("on Bitbucket Data Center (apiUrl …/rest/api/latest)", () => {
    const DC = "/rest/api/latest";
    const REPO = "/rest/api/latest/projects/acme/repos/api";

    it("cleanUpPullRequest posts build statuses (INPROGRESS, SUCCESSFUL), re-reads the PR and deletes the branch through branch-utils", async () => {
      const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
      const outcome = await cleanUpPullRequest(
        request(steps, "bitbucket-server", DC),
        closedEvent({}, "bitbucket-server"),
        clients(),
      );
      expect(outcome).to.deep.equal({ status: "done", detail: "deleted branch feature/login" });
      expect(host.statuses.map((s) => [s.sha, s.state, s.context, s.targetUrl])).to.deep.equal([
        [HEAD_SHA, "INPROGRESS", "hookgate/pr-cleanup", "https://logs.example/run/1"],
        [HEAD_SHA, "SUCCESSFUL", "hookgate/pr-cleanup", "https://logs.example/run/1"],
      ]);
      // The source branch as its full ref: Data Center shows a status on the pull request only with it.
      expect(host.statuses.map((s) => s.ref)).to.deep.equal([
        "refs/heads/feature/login",
        "refs/heads/feature/login",
      ]);
      expect(host.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
        `POST ${REPO}/commits/${HEAD_SHA}/builds`,
        `GET ${REPO}/pull-requests/7`,
        `GET ${REPO}/branches`,
        `GET ${REPO}/pull-requests`, // into the branch (INCOMING)
        `GET ${REPO}/pull-requests`, // from it (OUTGOING)
        "DELETE /rest/branch-utils/latest/projects/acme/repos/api/branches",
        `POST ${REPO}/commits/${HEAD_SHA}/builds`,
      ]);
      expect(host.requests.every((r) => r.authorized)).to.equal(true);
      expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
    });

    it("cleanUpPullRequest counts a branch that is already gone as done, and says it was already gone", async () => {
      const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
      await cleanUpPullRequest(
        request(steps, "bitbucket-server", DC),
        closedEvent({}, "bitbucket-server"),
        clients(),
      );
      host.statuses.length = 0;
      const again = await cleanUpPullRequest(
        request(steps, "bitbucket-server", DC),
        closedEvent({}, "bitbucket-server"),
        clients(),
      );
      expect(again).to.deep.equal({ status: "done", detail: "branch feature/login was already gone" });
      expect(host.statuses.map((s) => s.state)).to.deep.equal(["INPROGRESS", "SUCCESSFUL"]);
      expect(host.deletedRefs).to.have.length(1);
    });

    it("cleanUpPullRequest keeps the branch of a declined PR when onlyMerged, and the branch of a personal fork", async () => {
      host.setPull("acme/api", mergedPull({ merged: false }));
      const declined = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket-server", DC),
        closedEvent({ merged: false }, "bitbucket-server"),
        clients(),
      );
      expect(declined.detail).to.equal("kept feature/login: not merged");
      host.setPull("acme/api", mergedPull({ headRepoFullName: "~JDOE/api" }));
      const fork = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: false }], "bitbucket-server", DC),
        closedEvent({ headRepoFullName: "~JDOE/api" }, "bitbucket-server"),
        clients(),
      );
      expect(fork.detail).to.equal("kept feature/login: it belongs to a fork");
      expect(host.requests.some((r) => r.kind === "delete-ref")).to.equal(false);
    });

    it("cleanUpPullRequest finds a Data Center branch gone among more than a page of branches matching its name, and runs the next steps", async () => {
      // "fix" was deleted on merge; 150 others contain its name (Data Center's filterText matches anywhere).
      host.setPull("acme/api", mergedPull({ headRef: "fix" }));
      host.setBranch("acme/api", "fix", undefined);
      for (let i = 0; i < 150; i++) host.setBranch("acme/api", `bugfix/${i}`, HEAD_SHA);
      await putObjects(["dcfix/pr-7/index.html"]);
      const outcome = await cleanUpPullRequest(
        request(
          [
            { kind: "delete-branch", onlyMerged: true },
            { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "dcfix/pr-7/" },
          ],
          "bitbucket-server",
          DC,
        ),
        closedEvent({ headRef: "fix" }, "bitbucket-server"),
        clients(),
      );
      expect(outcome.detail).to.equal(
        `branch fix was already gone; deleted 1 object under s3://${PREVIEWS}/dcfix/pr-7/`,
      );
      expect(host.requests.filter((r) => r.kind === "ref").map((r) => r.query.start)).to.deep.equal([
        "0",
        "100",
      ]);
    });

    it("cleanUpPullRequest keeps a Data Center branch whose lookup says more pages follow but not where (it cannot tell it is gone)", async () => {
      host.script("ref", { status: 200, body: JSON.stringify({ values: [], isLastPage: false }) });
      const err = await rejectsWithActionError(
        cleanUpPullRequest(
          request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket-server", DC),
          closedEvent({}, "bitbucket-server"),
          clients(),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("cannot be told");
      expect(host.deletedRefs).to.deep.equal([]);
    });

    it("cleanUpPullRequest fails final with the server's reason when Data Center refuses a permission with 401", async () => {
      host.script("delete-ref", {
        status: 401,
        body: JSON.stringify({
          errors: [
            {
              context: null,
              message: "You are not permitted to delete branches in this repository",
              exceptionName: "com.atlassian.bitbucket.AuthorisationException",
            },
          ],
        }),
      });
      const err = await rejectsWithActionError(
        cleanUpPullRequest(
          request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket-server", DC),
          closedEvent({}, "bitbucket-server"),
          clients(),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "Bitbucket Data Center API DELETE /projects/acme/repos/api/branches answered 401 (You are not permitted to delete branches in this repository): check the token secret and its permissions",
      );
      expect(host.statuses.at(-1)?.state).to.equal("FAILED");
    });

    it("cleanUpPullRequest sets the status to failure when re-reading the pull request fails for good (403)", async () => {
      host.script("pull", { status: 403, body: JSON.stringify({ errors: [{ message: "no read access" }] }) });
      const err = await rejectsWithActionError(
        cleanUpPullRequest(
          request([teardown()], "bitbucket-server", DC),
          closedEvent({}, "bitbucket-server"),
          clients(),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(host.statuses.map((s) => s.state)).to.deep.equal(["INPROGRESS", "FAILED"]);
      expect(host.statuses.at(-1)?.description).to.contain("reading the pull request failed:");
      expect(jenkins.builds()).to.deep.equal([]);
    });

    it("cleanUpPullRequest runs the steps of a deleted pull request (pr:deleted) without re-reading it, and keeps its branch when onlyMerged", async () => {
      host.script("pull", { status: 404, body: JSON.stringify({ errors: [{ message: "no such PR" }] }) });
      await putObjects(["deleted/pr-7/index.html"]);
      const outcome = await cleanUpPullRequest(
        request(
          [
            { kind: "delete-branch", onlyMerged: true },
            { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "deleted/pr-7/" },
          ],
          "bitbucket-server",
          DC,
        ),
        closedEvent({ state: "deleted", merged: false }, "bitbucket-server"),
        clients(),
      );
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.equal(
        `kept feature/login: not merged; deleted 1 object under s3://${PREVIEWS}/deleted/pr-7/`,
      );
      expect(host.requests.some((r) => r.kind === "pull")).to.equal(false);
      expect(host.statuses.map((s) => s.state)).to.deep.equal(["INPROGRESS", "SUCCESSFUL"]);
    });

    it("cleanUpPullRequest asks default-branch, then branches/default on a server older than 7.5, and never deletes it", async () => {
      const event = closedEvent({ headRef: "develop" }, "bitbucket-server");
      event.repo = { ...event.repo, defaultBranch: undefined };
      host.setRepo("acme/api", { defaultBranch: "develop" });
      host.setPull("acme/api", mergedPull({ headRef: "develop" }));
      host.script("repo", { status: 404, body: JSON.stringify({ errors: [{ message: "not found" }] }) });
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: false }], "bitbucket-server", DC),
        event,
        clients(),
      );
      expect(outcome.detail).to.equal("kept develop: it is the default branch");
      expect(host.requests.filter((r) => r.kind === "repo").map((r) => r.path)).to.deep.equal([
        `${REPO}/default-branch`,
        `${REPO}/branches/default`,
      ]);
      expect(host.deletedRefs).to.deep.equal([]);
    });

    it("cleanUpPullRequest gives Data Center the repository's page as the status url when there is no logs URL", async () => {
      await cleanUpPullRequest(
        request([], "bitbucket-server", DC),
        closedEvent({}, "bitbucket-server"),
        clients({ logsUrl: undefined }),
      );
      expect(host.statuses.map((s) => s.targetUrl)).to.deep.equal([
        `${host.url}/projects/acme/repos/api`,
        `${host.url}/projects/acme/repos/api`,
      ]);
    });
  });

  it("cleanUpPullRequest on GitLab treats 'Cannot transition status' (the state is already set) as done", async () => {
    host.script("status", {
      status: 400,
      body: JSON.stringify({ message: "Cannot transition status via :enqueue from :pending" }),
    });
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "gitlab", "/api/v4"),
      closedEvent({}, "gitlab"),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(host.deletedRefs).to.have.length(1);
  });

  it("cleanUpPullRequest on GitLab cleans up without statuses after any other 400 from the status API, and says GitLab's reason", async () => {
    host.script("status", {
      status: 400,
      body: JSON.stringify({ message: { name: ["has already been taken"] } }),
    });
    const outcome = await cleanUpPullRequest(
      request([{ kind: "delete-branch", onlyMerged: true }], "gitlab", "/api/v4"),
      closedEvent({}, "gitlab"),
      clients(),
    );
    // GitLab's reason reaches the outcome, so the delivery's record says what to fix.
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.contain("400: name has already been taken");
    expect(host.deletedRefs).to.have.length(1);
  });

  it("cleanUpPullRequest is retryable, with the reset as retryAfterMs, when GitHub's rate limit hits the PR re-read", async () => {
    const reset = Math.floor(Date.now() / 1000) + 300;
    host.script("pull", {
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const err = await rejectsWithActionError(
      cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
    );
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.be.within(200_000, 300_000);
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest on Gitea deletes the branch through /branches/{branch}", async () => {
    const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
    await cleanUpPullRequest(request(steps, "gitea", "/api/v1"), closedEvent({}, "gitea"), clients());
    expect(host.requests.find((r) => r.kind === "delete-ref")?.path).to.equal(
      "/api/v1/repos/acme/api/branches/feature/login",
    );
    expect(host.deletedRefs).to.have.length(1);
  });

  it("cleanUpPullRequest on Gitea deletes the head branch named by the label when Gitea gives refs/pull/<n>/head as its ref", async () => {
    // Gitea's ToAPIPullRequest keeps Head.Ref = refs/pull/<n>/head unless it finds the branch in the head
    // repository at that moment (Name, sent as label, is the branch).
    host.setPull("acme/api", mergedPull({ headRef: "refs/pull/7/head", headLabel: "feature/login" }));
    const steps: PrCleanupStep[] = [{ kind: "delete-branch", onlyMerged: true }];
    const outcome = await cleanUpPullRequest(
      request(steps, "gitea", "/api/v1"),
      closedEvent({ headRef: "feature/login" }, "gitea"),
      clients(),
    );
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });

  it("cleanUpPullRequest on Gitea finds no branch to delete for an AGit pull request, and runs the steps after it", async () => {
    // An AGit pull request (git push origin HEAD:refs/for/main/topic) as Gitea's ToAPIPullRequest gives it
    // (services/convert/pull.go): head.ref refs/pull/<n>/head, head.label "", head.repo the base repository;
    // normalised, its head branch is "" and its head repository the base's.
    host.setPull("acme/api", mergedPull({ headRef: "refs/pull/7/head", headLabel: "" }));
    const prefix = "api/pr-7/";
    await putObjects([`${prefix}index.html`]);
    const steps: PrCleanupStep[] = [
      { kind: "delete-branch", onlyMerged: true },
      { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix },
      teardown(),
    ];
    const outcome = await cleanUpPullRequest(
      request(steps, "gitea", "/api/v1"),
      closedEvent({ headRef: "", headRepoFullName: "acme/api" }, "gitea"),
      clients(),
    );
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.contain("no branch to delete: an AGit pull request");
    expect(host.deletedRefs).to.deep.equal([]);
    expect(host.requests.filter((r) => r.kind === "ref" || r.kind === "delete-ref")).to.deep.equal([]);
    expect(await s3.listKeys(PREVIEWS, prefix)).to.deep.equal([]);
    expect(jenkins.builds()).to.have.length(1);
    expect(host.statuses.at(-1)?.state).to.equal("success");
  });

  it("cleanUpPullRequest on Gitea fails final when the pull request names neither a head branch nor a head repository (not an AGit one)", async () => {
    // A delivery that names neither a head branch nor a head repository, read back as such.
    host.setPull("acme/api", mergedPull({ headRef: "", headLabel: "", headRepoFullName: null }));
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }], "gitea", "/api/v1"),
        closedEvent({ headRef: "", headRepoFullName: undefined }, "gitea"),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("no head branch");
    expect(host.deletedRefs).to.deep.equal([]);
  });

  it("cleanUpPullRequest on GitHub still fails final when the pull request names no head branch", async () => {
    host.setPull("acme/api", mergedPull({ headRef: "" }));
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }]),
        closedEvent({ headRef: "" }),
        clients(),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("no head branch");
  });

  // A redelivery (or a queued item) from before a rename or a transfer names the repository's old path;
  // the hosts that redirect it are followed (test/actions/gitHostRedirects.test.ts has the rules).
  describe("after the repository was renamed or transferred (the event names its old path)", () => {
    const MOVED = "platform/api-v2";
    // provider, apiUrl's path, what the outcome says was redirected, the deletion's path.
    const movedHosts: Array<[Provider, string, string, string]> = [
      [
        "github",
        "",
        `/repos/acme/api to /repositories/100 (307); it is now ${MOVED}`,
        "/repositories/100/git/refs/heads/feature/login",
      ],
      [
        "gitea",
        "/api/v1",
        `/repos/acme/api to /repos/platform/api-v2 (307); it is now ${MOVED}`,
        "/api/v1/repos/platform/api-v2/branches/feature/login",
      ],
      // GitLab refuses the status's POST (405): the project's id is read through its GET's 301.
      [
        "gitlab",
        "/api/v4",
        "/projects/acme%2Fapi to /projects/100 (301)",
        "/api/v4/projects/100/repository/branches/feature%2Flogin",
      ],
    ];
    for (const [provider, apiPath, redirected, deletion] of movedHosts) {
      it(`cleanUpPullRequest on ${provider} follows the redirects with the token, deletes the moved repository's branch, and says it moved`, async () => {
        host.moveRepo("acme/api", MOVED);
        const c = clients();
        const outcome = await cleanUpPullRequest(
          request([{ kind: "delete-branch", onlyMerged: true }], provider, apiPath),
          closedEvent({}, provider),
          c,
        );
        expect(outcome).to.deep.equal({
          status: "done",
          detail:
            "deleted branch feature/login (the repository was renamed or transferred: the Git host redirected " +
            `${redirected}; update routes.yaml where it names acme/api)`,
        });
        expect(host.deletedRefs).to.deep.equal([{ repo: MOVED, branch: "feature/login" }]);
        expect(host.statuses.map((s) => [s.repo, s.state])).to.deep.equal([
          [MOVED, "pending"],
          [MOVED, "success"],
        ]);
        const deleted = host.requests.find((r) => r.kind === "delete-ref");
        expect(deleted).to.include({ method: "DELETE", path: deletion, authorized: true });
        expect(host.requests.every((r) => r.authorized)).to.equal(true);
        expect(c.logs.filter((line) => line.level === "warn").map((line) => line.msg)).to.deep.equal([
          "Git host API redirect followed: the repository was likely renamed or transferred",
        ]);
      });
    }

    it("cleanUpPullRequest on a moved Gitea repository still finds no branch to delete for an AGit pull request, and runs the steps after it", async () => {
      host.setPull("acme/api", mergedPull({ headRef: "refs/pull/7/head", headLabel: "" }));
      host.moveRepo("acme/api", MOVED);
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }, teardown()], "gitea", "/api/v1"),
        closedEvent({ headRef: "", headRepoFullName: "acme/api" }, "gitea"),
        clients(),
      );
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.contain("no branch to delete: an AGit pull request");
      expect(jenkins.builds()).to.have.length(1);
    });

    it("cleanUpPullRequest on a moved repository still keeps the branch of a fork", async () => {
      host.setPull("acme/api", mergedPull({ headRepoFullName: "mallory/api" }));
      host.setRepo("acme/api", { branches: ["feature/login"] });
      host.moveRepo("acme/api", MOVED);
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: false }]),
        closedEvent({ headRepoFullName: "mallory/api" }),
        clients(),
      );
      expect(outcome.detail).to.match(
        /^kept feature\/login: it belongs to a fork \(the repository was renamed/,
      );
      expect(host.deletedRefs).to.deep.equal([]);
    });

    // The fork bob/api was deleted (GitHub's answer then has head.repo null: only the event names it), and
    // acme/api was transferred to bob/api since. The event's old head name must not be compared with the
    // API's new base name: the base repository's own feature/login (a maintainer pushed the PR's commit
    // there to try it) is not the pull request's branch.
    it("cleanUpPullRequest keeps a deleted fork's branch when the base moved to the fork's former name", async () => {
      host.setPull("acme/api", mergedPull({ headRepoFullName: "bob/api" }));
      host.setBranch("acme/api", "feature/login", HEAD_SHA);
      host.moveRepo("acme/api", "bob/api");
      host.script("pull", {
        status: 200,
        body: JSON.stringify({
          number: 7,
          state: "closed",
          merged: true,
          head: { ref: "feature/login", sha: HEAD_SHA, repo: null },
          base: { ref: "main", repo: { full_name: "bob/api", default_branch: "main" } },
        }),
      });
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }]),
        closedEvent({ headRepoFullName: "bob/api" }),
        clients(),
      );
      expect(outcome.detail).to.match(
        /^kept feature\/login: it belongs to a fork \(the repository was renamed/,
      );
      expect(host.deletedRefs).to.deep.equal([]);
      expect(host.branchSha("bob/api", "feature/login")).to.equal(HEAD_SHA);
    });

    it("cleanUpPullRequest fails final, deleting nothing and sending nothing there, when the redirect leads to another origin", async () => {
      host.script("status", { status: 307, headers: { location: `${host.codeloadUrl}/repos/acme/api/x` } });
      host.script("pull", {
        status: 301,
        headers: { location: `${host.codeloadUrl}/repos/acme/api/pulls/7` },
      });
      const err = await rejectsWithActionError(
        cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("to another origin");
      expect(host.requests.filter((r) => r.listener === "codeload")).to.deep.equal([]);
      expect(host.deletedRefs).to.deep.equal([]);
    });
  });

  // A late delivery, a retry with backoff, or a "Redeliver" days later runs delete-branch again after the
  // branch moved on; a stacked pull request targets the head branch. Neither may be deleted.
  describe("delete-branch of a protected head branch (develop or release/1.x merged into main)", () => {
    for (const [provider, apiPath] of [
      ["github", ""],
      ["gitlab", "/api/v4"],
      ["gitea", "/api/v1"],
    ] as const) {
      it(`cleanUpPullRequest on ${provider} keeps a branch the host says is protected, and still runs the steps after it`, async () => {
        host.setPull("acme/api", mergedPull({ headRef: "release/1.x" }));
        host.protectBranch("acme/api", "release/1.x");
        await putObjects(["api/pr-7/a.js", "api/pr-7/b.js"]);
        const steps: PrCleanupStep[] = [
          { kind: "delete-branch", onlyMerged: true },
          { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "api/pr-7/" },
          teardown(),
        ];
        const outcome = await cleanUpPullRequest(
          request(steps, provider, apiPath),
          closedEvent({ headRef: "release/1.x" }, provider),
          clients(),
        );
        expect(outcome.status).to.equal("done");
        // GitHub's flag does not say whether it refuses: its 422 to the deletion does.
        expect(outcome.detail).to.match(
          provider === "github"
            ? /^kept release\/1\.x: it is protected \(GitHub API answered 422: Cannot delete this protected branch\); deleted 2 objects under /
            : /^kept release\/1\.x: it is protected; deleted 2 objects under /,
        );
        expect(host.branches("acme/api")).to.include("release/1.x");
        expect(host.requests.filter((r) => r.kind === "delete-ref")).to.have.length(
          provider === "github" ? 1 : 0,
        );
        expect(await s3.listKeys(PREVIEWS, "api/pr-7/")).to.deep.equal([]);
        expect(jenkins.builds()).to.have.length(1);
        expect(host.statuses.at(-1)?.state).to.equal("success");
      });
    }
  });

  // Data Center's branch-utils answers 401 both to a user without REPO_WRITE and to one a branch permission keeps
  // from deleting the branch; a message naming the branch's ref or a branch permission is the latter.
  describe("delete-branch on Bitbucket Data Center, whose branch permission refuses the deletion", () => {
    const DC = "/rest/api/latest";
    const refusal = (message: string) =>
      host.script("delete-ref", {
        status: 401,
        body: JSON.stringify({ errors: [{ context: null, message }] }),
      });
    const cleanUp = () =>
      cleanUpPullRequest(
        request(
          [
            { kind: "delete-branch", onlyMerged: true },
            { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "dcperm/pr-7/" },
            teardown(),
          ],
          "bitbucket-server",
          DC,
        ),
        closedEvent({ headRef: "release/1.x" }, "bitbucket-server"),
        clients(),
      );
    beforeEach(() => {
      host.setBranch("acme/api", "release/1.x", HEAD_SHA);
      host.setPull("acme/api", mergedPull({ headRef: "release/1.x" }));
    });

    it("cleanUpPullRequest keeps the branch when the 401 names its ref, and still deletes the prefix and runs the teardown", async () => {
      await putObjects(["dcperm/pr-7/index.html"]);
      refusal("You do not have permission to delete the branch refs/heads/release/1.x");
      const outcome = await cleanUp();
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.match(
        /^kept release\/1\.x: a branch permission forbids deleting it \(Bitbucket Data Center API answered 401: You do not have permission to delete the branch refs\/heads\/release\/1\.x\); deleted 1 object under /,
      );
      expect(outcome.detail).not.to.contain("token");
      expect(host.branches("acme/api")).to.include("release/1.x");
      expect(await s3.listKeys(PREVIEWS, "dcperm/pr-7/")).to.deep.equal([]);
      expect(jenkins.builds()).to.have.length(1);
      expect(host.statuses.at(-1)?.state).to.equal("SUCCESSFUL");
    });

    it("cleanUpPullRequest keeps the branch when the refusal names a branch permission", async () => {
      refusal("Branch permissions prevent you from deleting this branch");
      const outcome = await cleanUp();
      expect(outcome.detail).to.match(/^kept release\/1\.x: a branch permission forbids deleting it /);
      expect(jenkins.builds()).to.have.length(1);
    });

    it("cleanUpPullRequest fails final, running no later step, when the 401 names neither the branch nor a branch permission", async () => {
      refusal("You are not permitted to access this resource");
      const err = await rejectsWithActionError(cleanUp());
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("check the token secret and its permissions");
      expect(jenkins.builds()).to.deep.equal([]);
    });

    for (const message of [
      "You need REPO_WRITE permission on acme/api to delete refs/heads/release/1.x",
      "You need repository write permission to delete refs/heads/release/1.x",
    ]) {
      it(`cleanUpPullRequest fails final, not "kept", when the 401 names the ref but a missing repository permission: ${message}`, async () => {
        refusal(message);
        const err = await rejectsWithActionError(cleanUp());
        expect(err.retryable).to.equal(false);
        expect(err.message).to.contain("check the token secret and its permissions");
        expect(jenkins.builds()).to.deep.equal([]);
      });
    }

    it("cleanUpPullRequest fails final when an authentication failure's message names the branch", async () => {
      refusal(
        "Authentication failed for refs/heads/release/1.x. Please check your credentials and try again.",
      );
      const err = await rejectsWithActionError(cleanUp());
      expect(err.retryable).to.equal(false);
      expect(jenkins.builds()).to.deep.equal([]);
    });
  });

  // Bitbucket Cloud has no protected flag: its branch restrictions of kind delete (listed to admin access only)
  // say it, and its 403 to the deletion of a restricted branch is not documented apart from its other 403s.
  describe("delete-branch on Bitbucket Cloud, whose branch restrictions of kind delete refuse the deletion", () => {
    const cleanUp = (steps: PrCleanupStep[]) =>
      cleanUpPullRequest(request(steps, "bitbucket", "/2.0"), closedEvent({}, "bitbucket"), clients());
    const withTeardown = (): PrCleanupStep[] => [
      { kind: "delete-branch", onlyMerged: true },
      { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "api/pr-7/" },
      teardown(),
    ];

    it("cleanUpPullRequest keeps a branch a delete restriction's glob pattern matches without trying to delete it, and still runs the steps after it", async () => {
      host.setDeleteRestrictions("acme/api", [{ pattern: "release/*" }, { pattern: "feature/*" }]);
      await putObjects(["api/pr-7/a.js"]);
      const outcome = await cleanUp(withTeardown());
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.match(
        /^kept feature\/login: a branch restriction forbids deleting it; deleted 1 object under /,
      );
      expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
      expect(host.branches("acme/api")).to.include("feature/login");
      expect(jenkins.builds()).to.have.length(1);
      expect(host.statuses.at(-1)?.state).to.equal("SUCCESSFUL");
    });

    it("cleanUpPullRequest reads every page of the branch restrictions, following next", async () => {
      host.setDeleteRestrictions("acme/api", [{ pattern: "feature/*" }]);
      const page1 = `${host.url}/2.0/repositories/acme/api/branch-restrictions?kind=delete&pagelen=100&page=1`;
      host.script("restrictions", {
        status: 200,
        body: JSON.stringify({ page: 0, pagelen: 0, values: [], next: page1 }),
      });
      const outcome = await cleanUp([{ kind: "delete-branch", onlyMerged: true }]);
      expect(outcome.detail).to.equal("kept feature/login: a branch restriction forbids deleting it");
      expect(host.requests.filter((r) => r.kind === "restrictions").map((r) => r.query.page)).to.deep.equal([
        undefined,
        "1",
      ]);
    });

    it("cleanUpPullRequest keeps a branch a branching-model delete restriction may cover when Bitbucket refuses its deletion (403), and still runs the steps after it", async () => {
      host.setDeleteRestrictions("acme/api", [{ branchType: "feature" }]);
      await putObjects(["api/pr-7/a.js"]);
      const outcome = await cleanUp(withTeardown());
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.match(
        /^kept feature\/login: it is protected \(Bitbucket API answered 403: Branch "feature\/login" cannot be deleted: a branch restriction prevents it\); deleted 1 object under /,
      );
      expect(host.requests.filter((r) => r.kind === "delete-ref")).to.have.length(1);
      expect(jenkins.builds()).to.have.length(1);
    });

    it("cleanUpPullRequest deletes a branch a branching-model delete restriction does not cover", async () => {
      host.setDeleteRestrictions("acme/api", [{ branchType: "release" }]);
      const outcome = await cleanUp([{ kind: "delete-branch", onlyMerged: true }]);
      expect(outcome.detail).to.equal("deleted branch feature/login");
      expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
    });

    // A branching-model restriction applies to the branches of one type only: the effective branching model
    // says which type a branch is, and a 403 to the deletion of a branch of another type is another refusal.
    const missingScope = {
      status: 403,
      body: JSON.stringify({
        type: "error",
        error: {
          message: "Your credentials lack one or more required privilege scopes.",
          detail: { required: ["write:repository:bitbucket"] },
        },
      }),
    };

    it("cleanUpPullRequest fails final when Bitbucket refuses (403, a missing scope) the deletion of a branch whose type no branching-model delete restriction names, though one names release branches", async () => {
      host.setDeleteRestrictions("acme/api", [{ branchType: "release" }]);
      host.script("delete-ref", missingScope);
      const err = await rejectsWithActionError(
        cleanUp([{ kind: "delete-branch", onlyMerged: true }, teardown()]),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain(
        "answered 403: Your credentials lack one or more required privilege scopes.",
      );
      expect(host.requests.filter((r) => r.kind === "branching-model")).to.have.length(1);
      expect(jenkins.builds()).to.have.length(0);
      expect(host.statuses.at(-1)?.state).to.equal("FAILED");
    });

    it("cleanUpPullRequest reads a branch's type from the repository's effective branching model: a restriction on feature branches keeps feat/login when feature's prefix is feat/", async () => {
      host.setPull("acme/api", mergedPull({ headRef: "feat/login" }));
      host.setBranchingModel("acme/api", { branchTypes: [{ kind: "feature", prefix: "feat/" }] });
      host.setDeleteRestrictions("acme/api", [{ branchType: "feature" }]);
      const outcome = await cleanUp([{ kind: "delete-branch", onlyMerged: true }]);
      expect(outcome.detail).to.match(/^kept feat\/login: it is protected \(Bitbucket API answered 403: /);
      expect(host.branches("acme/api")).to.include("feat/login");
    });

    it("cleanUpPullRequest keeps the development branch a branching-model delete restriction names when Bitbucket refuses its deletion (403)", async () => {
      host.setPull("acme/api", mergedPull({ headRef: "develop" }));
      host.setBranchingModel("acme/api", { branchTypes: [], development: "develop" });
      host.setDeleteRestrictions("acme/api", [{ branchType: "development" }]);
      const outcome = await cleanUp([{ kind: "delete-branch", onlyMerged: true }]);
      expect(outcome.detail).to.match(/^kept develop: it is protected \(Bitbucket API answered 403: /);
    });

    it("cleanUpPullRequest fails final when Bitbucket refuses (403) a deletion a branching-model restriction may cover but the branching model cannot be read: whether it applies is not known", async () => {
      host.setBranchingModel("acme/api", undefined, { readable: false });
      host.setDeleteRestrictions("acme/api", [{ branchType: "feature" }]);
      const err = await rejectsWithActionError(cleanUp([{ kind: "delete-branch", onlyMerged: true }]));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("answered 403").and.contain("a branch restriction of kind delete");
      expect(host.branches("acme/api")).to.include("feature/login");
    });

    it("cleanUpPullRequest does not read the branching model when no branching-model delete restriction exists", async () => {
      host.setDeleteRestrictions("acme/api", [{ pattern: "release/*" }]);
      const outcome = await cleanUp([{ kind: "delete-branch", onlyMerged: true }]);
      expect(outcome.detail).to.equal("deleted branch feature/login");
      expect(host.requests.filter((r) => r.kind === "branching-model")).to.deep.equal([]);
    });

    it("cleanUpPullRequest fails final, status failed, when Bitbucket refuses (403) the deletion of a branch no delete restriction covers", async () => {
      host.setDeleteRestrictions("acme/api", [{ pattern: "release/*" }]);
      host.script("delete-ref", {
        status: 403,
        body: JSON.stringify({ type: "error", error: { message: "Forbidden" } }),
      });
      const err = await rejectsWithActionError(
        cleanUp([{ kind: "delete-branch", onlyMerged: true }, teardown()]),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(
        /^Bitbucket API DELETE \/repositories\/acme\/api\/refs\/branches\/feature\/login answered 403: Forbidden; /,
      );
      expect(jenkins.builds()).to.have.length(0);
      expect(host.statuses.at(-1)?.state).to.equal("FAILED");
    });

    it("cleanUpPullRequest fails final when Bitbucket refuses (403) a deletion and the token may not list the branch restrictions: the refusal cannot be told from another", async () => {
      host.setDeleteRestrictions("acme/api", [{ pattern: "feature/*" }], { readable: false });
      const err = await rejectsWithActionError(
        cleanUp([{ kind: "delete-branch", onlyMerged: true }, teardown()]),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("answered 403").and.contain("admin:repository:bitbucket");
      expect(host.branches("acme/api")).to.include("feature/login");
      expect(jenkins.builds()).to.have.length(0);
    });

    // The lookup is optional (admin access only): any final answer to it, not a 403 alone, leaves the
    // restrictions unread, and the branch is deleted as without them.
    for (const reply of [
      { status: 401, message: "Token is invalid, expired, or not supported for this endpoint." },
      { status: 400, message: "Invalid pagelen" },
    ]) {
      it(`cleanUpPullRequest deletes the branch when Bitbucket answers the branch-restrictions lookup ${reply.status} for good: the restrictions count as unread, as after a 403`, async () => {
        host.script(
          "restrictions",
          ...[1, 2].map(() => ({
            status: reply.status,
            body: JSON.stringify({ type: "error", error: { message: reply.message } }),
          })),
        );
        const outcome = await cleanUp([{ kind: "delete-branch", onlyMerged: true }]);
        expect(outcome.detail).to.equal("deleted branch feature/login");
        expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
        expect(host.requests.filter((r) => r.kind === "restrictions")).to.have.length(1);
      });
    }

    it("cleanUpPullRequest fails retryable, deleting nothing, when Bitbucket answers the branch-restrictions lookup 503", async () => {
      host.setDeleteRestrictions("acme/api", [{ pattern: "feature/*" }]);
      host.script("restrictions", {
        status: 503,
        body: JSON.stringify({ type: "error", error: { message: "busy" } }),
      });
      const err = await rejectsWithActionError(cleanUp([{ kind: "delete-branch", onlyMerged: true }]));
      expect(err.retryable).to.equal(true);
      expect(host.deletedRefs).to.deep.equal([]);
    });
  });

  // GitHub's "Get a branch" says protected: true for every branch an active ruleset targets, whatever it
  // restricts (crs-k/stale-branches#1061), and for a classic protection with "Allow deletions".
  describe("delete-branch on GitHub, whose protected flag does not say the deletion is refused", () => {
    const steps = (): PrCleanupStep[] => [
      { kind: "delete-branch", onlyMerged: true },
      { kind: "delete-s3-prefix", bucket: PREVIEWS, prefix: "api/pr-7/" },
    ];
    const deleted = `deleted branch feature/login; deleted 0 objects under s3://${PREVIEWS}/api/pr-7/`;

    it("cleanUpPullRequest deletes a branch under a ruleset without a deletion rule (protected: true)", async () => {
      host.setRules("acme/api", "feature/login", ["non_fast_forward", "required_signatures"]);
      const outcome = await cleanUpPullRequest(request(steps()), closedEvent(), clients());
      expect(outcome.detail).to.equal(deleted);
      expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
      expect(host.requests.filter((r) => r.kind === "rules")).to.have.length(1);
    });

    it("cleanUpPullRequest keeps a branch a ruleset's deletion rule covers, sending no deletion, and runs the steps after it", async () => {
      host.setRules("acme/api", "feature/login", ["creation", "deletion"]);
      const outcome = await cleanUpPullRequest(request(steps()), closedEvent(), clients());
      expect(outcome.detail).to.equal(
        `kept feature/login: a ruleset forbids deleting it; deleted 0 objects under s3://${PREVIEWS}/api/pr-7/`,
      );
      expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
      expect(host.branches("acme/api")).to.include("feature/login");
    });

    it("cleanUpPullRequest deletes a protected branch whose classic protection allows deletions (DELETE answers 204)", async () => {
      host.protectBranch("acme/api", "feature/login", { allowDeletions: true });
      const outcome = await cleanUpPullRequest(request(steps()), closedEvent(), clients());
      expect(outcome.detail).to.equal(deleted);
      expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
    });

    it("cleanUpPullRequest takes a 404 from the rules (a GitHub Enterprise Server without rulesets) as no rule, and deletes", async () => {
      host.protectBranch("acme/api", "feature/login", { allowDeletions: true });
      host.script("rules", { status: 404, body: JSON.stringify({ message: "Not Found" }) });
      const outcome = await cleanUpPullRequest(request(steps()), closedEvent(), clients());
      expect(outcome.detail).to.equal(deleted);
    });

    it("cleanUpPullRequest finds a deletion rule on a later page of the rules", async () => {
      host.setRules("acme/api", "feature/login", ["deletion"]);
      host.script("rules", {
        status: 200,
        headers: {
          link: `<${host.url}/repos/acme/api/rules/branches/feature/login?per_page=100&page=2>; rel="next"`,
        },
        body: JSON.stringify([
          { type: "non_fast_forward", ruleset_source_type: "Repository", ruleset_id: 9 },
        ]),
      });
      const outcome = await cleanUpPullRequest(request(steps()), closedEvent(), clients());
      expect(outcome.detail).to.match(/^kept feature\/login: a ruleset forbids deleting it; /);
      expect(host.requests.filter((r) => r.kind === "rules").map((r) => r.query.page)).to.deep.equal([
        "1",
        "2",
      ]);
    });
  });

  describe("delete-branch deletes only the pull request's own commit, and no branch open pull requests target or come from", () => {
    const NEW_WORK = "0123456789abcdef0123456789abcdef01234567";
    /** Another pull request of acme/api, open unless said, its head at NEW_WORK. */
    const otherPull = (
      number: number,
      headRef: string,
      baseRef: string,
      state: Pick<PullState, "state" | "merged"> = { state: "open", merged: false },
    ) => host.setPull("acme/api", mergedPull({ number, ...state, headRef, headSha: NEW_WORK, baseRef }));
    const ENCODED = 'feature/ünï"q"#50%';
    const hosts: Array<{
      provider: Provider;
      apiPath: string;
      /** The branch lookup's path for ENCODED. */
      refPath: string;
      /** What says "two open pull requests target it": an exact count, on every host (10 a page are read). */
      two: string;
    }> = [
      {
        provider: "github",
        apiPath: "",
        refPath: "/repos/acme/api/git/ref/heads/feature/%C3%BCn%C3%AF%22q%22%2350%25",
        two: "2 open pull requests target it",
      },
      {
        provider: "gitlab",
        apiPath: "/api/v4",
        refPath: "/api/v4/projects/acme%2Fapi/repository/branches/feature%2F%C3%BCn%C3%AF%22q%22%2350%25",
        two: "2 open pull requests target it",
      },
      {
        provider: "gitea",
        apiPath: "/api/v1",
        refPath: "/api/v1/repos/acme/api/branches/feature/%C3%BCn%C3%AF%22q%22%2350%25",
        two: "2 open pull requests target it",
      },
      {
        provider: "bitbucket",
        apiPath: "/2.0",
        refPath: "/2.0/repositories/acme/api/refs/branches/feature/%C3%BCn%C3%AF%22q%22%2350%25",
        two: "2 open pull requests target it",
      },
      {
        provider: "bitbucket-server",
        apiPath: "/rest/api/latest",
        refPath: "/rest/api/latest/projects/acme/repos/api/branches",
        two: "2 open pull requests target it",
      },
    ];

    for (const { provider, apiPath, refPath, two } of hosts) {
      const run = (overrides: Partial<NonNullable<QueuedEvent["pr"]>> = {}) =>
        cleanUpPullRequest(
          request([{ kind: "delete-branch", onlyMerged: true }], provider, apiPath),
          closedEvent(overrides, provider),
          clients(),
        );

      describe(`on ${provider}`, () => {
        it("cleanUpPullRequest keeps a branch that got new commits after the merge, and says where it is now", async () => {
          host.setBranch("acme/api", "feature/login", NEW_WORK);
          const outcome = await run();
          expect(outcome).to.deep.equal({
            status: "done",
            detail: "kept feature/login: it moved on since the pull request (now at 0123456)",
          });
          expect(host.branchSha("acme/api", "feature/login")).to.equal(NEW_WORK);
          expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
          expect(host.statuses.map((s) => s.description).at(-1)).to.contain(
            "moved on since the pull request",
          );
        });

        it("cleanUpPullRequest on a redelivery keeps a branch deleted and made again with the same name for new work", async () => {
          expect((await run()).detail).to.equal("deleted branch feature/login");
          host.setBranch("acme/api", "feature/login", NEW_WORK);
          const again = await run();
          expect(again.detail).to.equal(
            "kept feature/login: it moved on since the pull request (now at 0123456)",
          );
          expect(host.branchSha("acme/api", "feature/login")).to.equal(NEW_WORK);
          expect(host.deletedRefs).to.have.length(1);
        });

        it("cleanUpPullRequest keeps a branch that open (stacked) pull requests target, counting only those", async () => {
          otherPull(8, "feature/login-2", "feature/login");
          otherPull(9, "feature/login-3", "feature/login");
          // Not into the branch, or not open: neither counts.
          otherPull(10, "fix/typo", "main");
          otherPull(11, "feature/old", "feature/login", { state: "closed", merged: true });
          const outcome = await run();
          expect(outcome.detail).to.equal(`kept feature/login: ${two}`);
          expect(host.branches("acme/api")).to.include("feature/login");
          expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
        });

        it("cleanUpPullRequest keeps a branch another open pull request comes from (deleting it would close that one, or strand it)", async () => {
          // The same branch, at the same commit, opened again into another base (a backport, a wrong base fixed).
          host.setPull(
            "acme/api",
            mergedPull({ number: 8, state: "open", merged: false, baseRef: "release/1.x" }),
          );
          otherPull(10, "fix/typo", "main");
          const outcome = await run();
          expect(outcome.detail).to.equal("kept feature/login: 1 open pull request comes from it");
          expect(host.branchSha("acme/api", "feature/login")).to.equal(HEAD_SHA);
          expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
        });

        it("cleanUpPullRequest deletes the branch of a merged pull request that still points at its head and that no open pull request targets", async () => {
          otherPull(10, "fix/typo", "main");
          otherPull(11, "feature/old", "feature/login", { state: "closed", merged: true });
          const outcome = await run();
          expect(outcome).to.deep.equal({ status: "done", detail: "deleted branch feature/login" });
          expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
          // Looked up, then checked for open pull requests into it and from it, then deleted: where the deletion
          // is not conditional (all but Data Center's endPoint), after its head is read again.
          const kinds = host.requests
            .map((r) => r.kind)
            .filter((k) => k === "ref" || k === "pulls" || k === "delete-ref");
          const again = provider === "bitbucket-server" ? [] : ["ref"];
          expect(kinds).to.deep.equal(["ref", "pulls", "pulls", ...again, "delete-ref"]);
        });

        it("cleanUpPullRequest counts a branch that is already gone as already gone, deleting nothing", async () => {
          host.setBranch("acme/api", "feature/login", undefined);
          const outcome = await run();
          expect(outcome).to.deep.equal({ status: "done", detail: "branch feature/login was already gone" });
          expect(host.requests.filter((r) => r.kind === "delete-ref" || r.kind === "pulls")).to.deep.equal(
            [],
          );
        });

        it("cleanUpPullRequest looks up, checks and deletes a branch with a slash, unicode, quotes, # and % by its encoded name", async () => {
          host.setPull("acme/api", mergedPull({ headRef: ENCODED }));
          otherPull(10, "fix/typo", "main");
          const outcome = await run({ headRef: ENCODED });
          expect(outcome.detail).to.equal(`deleted branch ${ENCODED}`);
          expect(host.requests.find((r) => r.kind === "ref")?.path).to.equal(refPath);
          expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: ENCODED }]);
          // ...and a stacked pull request into it is found through the same name.
          host.setPull("acme/api", mergedPull({ headRef: ENCODED }));
          otherPull(12, "feature/next", ENCODED);
          const stacked = await run({ headRef: ENCODED });
          expect(stacked.detail).to.equal(`kept ${ENCODED}: 1 open pull request targets it`);
        });
      });
    }

    it("cleanUpPullRequest on GitHub asks for open pull requests with base=<branch>, ten per page, and counts them", async () => {
      for (const number of [8, 9, 10]) {
        host.setPull(
          "acme/api",
          mergedPull({
            number,
            state: "open",
            merged: false,
            headRef: `feature/next-${number}`,
            headSha: NEW_WORK,
            baseRef: "feature/login",
          }),
        );
      }
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }]),
        closedEvent(),
        clients(),
      );
      expect(outcome.detail).to.equal("kept feature/login: 3 open pull requests target it");
      expect(host.requests.find((r) => r.kind === "pulls")?.query).to.deep.equal({
        state: "open",
        base: "feature/login",
        per_page: "10",
      });
    });

    // GitLab's source_branch filter is a name only: there a fork's merge request keeps the branch too.
    for (const [provider, apiPath, query] of [
      ["github", "", { state: "open", head: "acme:feature/login", per_page: "10" }],
      ["gitea", "/api/v1", { state: "open", limit: "50", page: "1" }],
      [
        "bitbucket",
        "/2.0",
        {
          state: "OPEN",
          q: 'state="OPEN" AND source.branch.name="feature/login" AND source.repository.full_name="acme/api"',
          pagelen: "10",
        },
      ],
      [
        "bitbucket-server",
        "/rest/api/latest",
        { state: "OPEN", direction: "OUTGOING", at: "refs/heads/feature/login", limit: "10" },
      ],
    ] as const) {
      it(`cleanUpPullRequest on ${provider} asks for the open pull requests from the branch of this repository, so a fork's branch of the same name does not keep it`, async () => {
        host.setPull(
          "acme/api",
          mergedPull({
            number: 8,
            state: "open",
            merged: false,
            headRepoFullName: "someone/api",
            headSha: NEW_WORK,
          }),
        );
        const outcome = await cleanUpPullRequest(
          request([{ kind: "delete-branch", onlyMerged: true }], provider, apiPath),
          closedEvent({}, provider),
          clients(),
        );
        expect(outcome.detail).to.equal("deleted branch feature/login");
        expect(host.requests.filter((r) => r.kind === "pulls").at(-1)?.query).to.deep.equal(query);
      });
    }

    it("cleanUpPullRequest on Gitea, whose list has no base filter, reads the open pull requests page by page", async () => {
      for (let number = 20; number < 80; number++) {
        host.setPull(
          "acme/api",
          mergedPull({
            number,
            state: "open",
            merged: false,
            headRef: `fix/${number}`,
            headSha: NEW_WORK,
            baseRef: "main",
          }),
        );
      }
      otherPull(80, "feature/next", "feature/login");
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }], "gitea", "/api/v1"),
        closedEvent({}, "gitea"),
        clients(),
      );
      expect(outcome.detail).to.equal("kept feature/login: 1 open pull request targets it");
      // 61 open pull requests, 50 a page (Gitea's MAX_RESPONSE_ITEMS by default).
      const pages = host.requests.filter((r) => r.kind === "pulls");
      expect(pages.map((r) => r.query.page)).to.deep.equal(["1", "2"]);
      expect(pages.every((r) => r.query.limit === "50")).to.equal(true);
    });

    it("cleanUpPullRequest on a Gitea fork whose parent has 1,001 open pull requests, none from the branch, reads them 50 a page and deletes the branch", async () => {
      host.setRepo("upstream/api");
      for (let number = 1; number <= 1001; number++) {
        host.setPull("upstream/api", {
          number,
          state: "open",
          merged: false,
          headRef: `topic-${number}`,
          headSha: NEW_WORK,
          headRepoFullName: `contributor${number}/api`,
        });
      }
      // GET /repos/acme/api as Gitea answers it for a fork.
      host.script("repo", {
        status: 200,
        body: JSON.stringify({
          id: 1,
          full_name: "acme/api",
          default_branch: "main",
          fork: true,
          parent: { id: 2, full_name: "upstream/api", fork: false },
        }),
      });
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }], "gitea", "/api/v1"),
        closedEvent({}, "gitea"),
        clients(),
      );
      expect(outcome.detail).to.equal("deleted branch feature/login");
      const parentPages = host.requests.filter(
        (r) => r.kind === "pulls" && r.path === "/api/v1/repos/upstream/api/pulls",
      );
      expect(parentPages.map((r) => r.query.page)).to.deep.equal(
        Array.from({ length: 21 }, (_, i) => String(i + 1)),
      );
    });

    it("cleanUpPullRequest on Bitbucket Data Center keeps a branch that moved between the check and the deletion: branch-utils refuses the endPoint (400)", async () => {
      // The lookup still sees the pull request's commit; the push lands before the deletion.
      host.script("ref", {
        status: 200,
        body: JSON.stringify({
          values: [{ id: "refs/heads/feature/login", displayId: "feature/login", latestCommit: HEAD_SHA }],
          isLastPage: true,
        }),
      });
      host.setBranch("acme/api", "feature/login", NEW_WORK);
      const outcome = await cleanUpPullRequest(
        request([{ kind: "delete-branch", onlyMerged: true }], "bitbucket-server", "/rest/api/latest"),
        closedEvent({}, "bitbucket-server"),
        clients(),
      );
      expect(outcome).to.deep.equal({
        status: "done",
        detail: "kept feature/login: it moved on since the pull request",
      });
      expect(host.branchSha("acme/api", "feature/login")).to.equal(NEW_WORK);
      expect(host.requests.filter((r) => r.kind === "delete-ref")).to.have.length(1);
    });

    it("cleanUpPullRequest is retryable, deleting nothing, when the branch lookup answers 502", async () => {
      host.script("ref", { status: 502 });
      const err = await rejectsWithActionError(
        cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
      );
      expect(err.retryable).to.equal(true);
      expect(host.deletedRefs).to.deep.equal([]);
      expect(host.statuses.at(-1)?.state).to.equal("pending");
    });

    it("cleanUpPullRequest fails final with the host's message, deleting nothing, when the pull request list answers 403", async () => {
      host.script("pulls", {
        status: 403,
        body: JSON.stringify({ message: "Resource not accessible by integration" }),
      });
      const err = await rejectsWithActionError(
        cleanUpPullRequest(request([{ kind: "delete-branch", onlyMerged: true }]), closedEvent(), clients()),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "GitHub API GET /repos/acme/api/pulls answered 403: Resource not accessible by integration",
      );
      expect(host.deletedRefs).to.deep.equal([]);
      expect(host.statuses.at(-1)?.state).to.equal("failure");
    });
  });
});

describe("Function: cleanUpPullRequest on a self-hosted Git host with a private CA (providers.<provider>.caBundle)", () => {
  const tls = join(__dirname, "..", "fixtures", "tls");
  const ca = readFileSync(join(tls, "ca.pem"), "utf8");
  const otherCa = readFileSync(join(tls, "other-ca.pem"), "utf8");
  let host: GitHostServer;

  beforeEach(async () => {
    host = await startGitHostServer({
      token: HOST_TOKEN,
      tls: { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) },
    });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", {
      number: 7,
      state: "closed",
      merged: true,
      headRef: "feature/login",
      headSha: HEAD_SHA,
    });
  });
  afterEach(async () => {
    await host.close();
  });

  const request = (provider: Provider, apiPath: string, caBundle?: string): PrCleanupRequest => ({
    type: "pr-cleanup",
    api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token", caBundle },
    context: "hookgate/pr-cleanup",
    steps: [{ kind: "delete-branch", onlyMerged: true }],
  });
  const clients = (secrets: Record<string, string> = {}) => {
    const c = testClients();
    for (const [name, value] of Object.entries(secrets)) (c.secrets as MemorySecretStore).set(name, value);
    return c;
  };

  const hosts: Array<[Provider, string]> = [
    ["gitlab", "/api/v4"],
    ["gitea", "/api/v1"],
    ["bitbucket-server", "/rest/api/latest"],
    ["github", ""],
  ];
  for (const [provider, apiPath] of hosts) {
    it(`cleanUpPullRequest on ${provider} deletes the branch with the host's caBundle, and without it (or with an unrelated CA) fails retryable as not trusted, deleting nothing`, async () => {
      const err = await rejectsWithActionError(
        cleanUpPullRequest(request(provider, apiPath), closedEvent({}, provider), clients()),
      );
      expect(err.retryable).to.equal(true);
      expect(err.message).to.contain("not trusted: add its CA with caBundle");
      // Verification stays on: the bundle's CAs are added, and this one did not sign the host's certificate.
      const unrelated = await rejectsWithActionError(
        cleanUpPullRequest(
          request(provider, apiPath, "hookgate/other-ca"),
          closedEvent({}, provider),
          clients({ "hookgate/other-ca": otherCa }),
        ),
      );
      expect(unrelated.message).to.contain("not trusted");
      expect(host.requests).to.deep.equal([]);

      const outcome = await cleanUpPullRequest(
        request(provider, apiPath, "hookgate/corp-ca"),
        closedEvent({}, provider),
        clients({ "hookgate/corp-ca": ca }),
      );
      expect(outcome.status).to.equal("done");
      expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
      expect(host.requests.every((r) => r.authorized)).to.equal(true);
    });
  }

  it("cleanUpPullRequest fails final, naming the secret and calling no host, when the caBundle secret holds no PEM certificate", async () => {
    const err = await rejectsWithActionError(
      cleanUpPullRequest(
        request("gitlab", "/api/v4", "hookgate/bad-ca"),
        closedEvent({}, "gitlab"),
        clients({ "hookgate/bad-ca": "-----BEGIN CERTIFICATE-----\nnot base64\n" }),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal('secret "hookgate/bad-ca" does not hold a PEM certificate bundle');
    expect(host.requests).to.deep.equal([]);
  });
});

// Bitbucket Cloud's branch restrictions and effective branching model are optional lookups: a 401 to either
// leaves them unread without reading the token secret again, which the client does once at most, so that a
// token rotated between the lookup and the deletion still deletes the branch.
describe("Function: cleanUpPullRequest on Bitbucket Cloud, the optional lookups' 401 and the single re-read of the token secret", () => {
  let host: GitHostServer;
  // What Secrets Manager holds: the token in use until the open pull requests are asked (after the lookups),
  // a rotated one from then on. No refresh interval: the client's own once-only re-read alone decides.
  const rotated = () => host.requests.some((r) => r.kind === "pulls");
  const store: SecretStore = {
    versions: async (name, options = {}) => {
      if (name === "hookgate/jenkins") return [JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN })];
      if (!options.refresh) return ["tokenA0123456789"];
      return [rotated() ? "tokenB0123456789" : "tokenA0123456789"];
    },
  };
  const cleanUp = () =>
    cleanUpPullRequest(
      {
        type: "pr-cleanup",
        api: { provider: "bitbucket", apiUrl: `${host.url}/2.0`, token: "hookgate/github-token" },
        context: "hookgate/pr-cleanup",
        steps: [{ kind: "delete-branch", onlyMerged: true }],
      },
      closedPrEvent({}, { provider: "bitbucket" }),
      testClients({ secrets: store }),
    );
  const refusal = {
    status: 401,
    body: JSON.stringify({
      type: "error",
      error: { message: "Token is invalid, expired, or not supported for this endpoint." },
    }),
  };

  beforeEach(async () => {
    host = await startGitHostServer({ requireAuth: false });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
  });
  afterEach(() => host.close());

  it("cleanUpPullRequest reads the token secret again after the DELETE's 401 and deletes the branch with the rotated token", async () => {
    host.script("delete-ref", refusal);
    const outcome = await cleanUp();
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.requests.filter((r) => r.kind === "delete-ref").map((r) => r.authorization)).to.deep.equal([
      "Bearer tokenA0123456789",
      "Bearer tokenB0123456789",
    ]);
  });

  it("cleanUpPullRequest leaves the branch restrictions unread after their lookup's 401 without reading the token secret, so the DELETE's 401 reads it and the rotated token deletes the branch", async () => {
    host.script("restrictions", refusal);
    host.script("delete-ref", refusal);
    const outcome = await cleanUp();
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.requests.filter((r) => r.kind === "restrictions")).to.have.length(1);
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });

  it("cleanUpPullRequest leaves the effective branching model unread after its lookup's 401 without reading the token secret, so the DELETE's 401 reads it and the rotated token deletes the branch", async () => {
    host.setDeleteRestrictions("acme/api", [{ branchType: "release" }]);
    host.script("branching-model", refusal);
    host.script("delete-ref", refusal);
    const outcome = await cleanUp();
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.requests.filter((r) => r.kind === "branching-model")).to.have.length(1);
    expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });
});
