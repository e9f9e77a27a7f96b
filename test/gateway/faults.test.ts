import { randomBytes } from "node:crypto";
// Fault tests that count everything: the real route handler, the real actions, real local servers
// (Jenkins-protocol, Git host, s3rver), and in-memory doubles of the FIFO queue, the DLQ and the
// dedupe table. Every scenario ends with: deliveries accepted = actions done + messages dead-lettered.
import { expect } from "chai";
import { runAction } from "../../src/actions/index";
import type { ActionClients } from "../../src/actions/types";
import { S3ObjectStore } from "../../src/aws/objectStore";
import { ActionError } from "../../src/core/errors";
import { MAX_ATTEMPTS, MAX_RECEIVE_COUNT, RETRY_BASE_DELAY_MS } from "../../src/core/policy";
import type { ObjectStore } from "../../src/core/ports";
import type { ActionOutcome, Route, WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler, type RouteHandler } from "../../src/gateway/routeHandler";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { type LocalS3, startLocalS3 } from "../support/s3";
import { MemorySecretStore } from "../support/secrets";
import { FifoQueueDouble, type WorkFn } from "./fifoQueue";
import {
  type DeliveryOptions,
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  type ParsedAnswer,
  parseAnswer,
  pushPayload,
  RecordingDeadLetters,
  SHA,
  WEBHOOK_SECRET,
} from "./support";
import { type SwitchableProxy, startSwitchableProxy } from "./switchableProxy";

const JENKINS_USER = "ci-bot";
const JENKINS_TOKEN = "11aa22bb33cc44dd55ee66ff77gg88hh";

const noObjects: ObjectStore = {
  put: async () => {
    throw new Error("no object store in the Jenkins scenarios");
  },
  head: async () => {
    throw new Error("no object store in the Jenkins scenarios");
  },
  deletePrefix: async () => {
    throw new Error("no object store in the Jenkins scenarios");
  },
};

interface Gateway {
  handler: RouteHandler;
  queue: FifoQueueDouble;
  deadLetters: RecordingDeadLetters;
  dedupe: MemoryDedupeStore;
  secrets: MemorySecretStore;
  logs: LogCollector;
  answers: ParsedAnswer[];
  deliver(options?: DeliveryOptions): Promise<ParsedAnswer>;
  work: WorkFn;
  ledger(): { accepted: number; done: number; dead: number };
}

function gateway(
  route: Route,
  run: (item: WorkItem, clients: ActionClients) => Promise<ActionOutcome>,
  objects: ObjectStore = noObjects,
): Gateway {
  const secrets = new MemorySecretStore({
    "hookgate/github-webhook": WEBHOOK_SECRET,
    "hookgate/jenkins": JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN }),
    "hookgate/github-token": "ghp_testtoken0123456789",
  });
  const queue = new FifoQueueDouble(MAX_RECEIVE_COUNT);
  const deadLetters = new RecordingDeadLetters();
  const dedupe = new MemoryDedupeStore();
  const logs = new LogCollector();
  const clients: ActionClients = { secrets, objects, log: logs.log, timeoutMs: 5_000 };
  const handler = createRouteHandler({
    route,
    secrets,
    queue,
    deadLetters,
    dedupe,
    // The receive count past the first, as the deployed handler passes it (lambdaRuntime.ts).
    runAction: (item, limits) =>
      run(item, limits?.attempt ? { ...clients, attempt: limits.attempt } : clients),
    log: logs.log,
    backoff: queue.backoff,
  });
  const answers: ParsedAnswer[] = [];
  return {
    handler,
    queue,
    deadLetters,
    dedupe,
    secrets,
    logs,
    answers,
    async deliver(options = {}) {
      const answer = parseAnswer(
        await handler.receive(githubDelivery({ path: `/hooks/${route.name}`, ...options })),
      );
      answers.push(answer);
      return answer;
    },
    work: (event) => handler.work(event),
    ledger() {
      // A delivery is accepted once per generation; the dedupe table holds each one's final state.
      const accepted = answers.filter((a) => a.statusCode === 202).length;
      const states = [...dedupe.entries.values()];
      const generationsDone = states.filter((e) => e.state === "done").length;
      // Generations that died and were accepted again appear once per death in the DLQ.
      const dead = deadLetters.items.length + deadLetters.raw.length + queue.redriven.length;
      return { accepted, done: generationsDone, dead };
    },
  };
}

/** The real dispatcher every deployed function runs (src/actions/index.ts). */
const runJenkins = runAction;

function buildDeliveries(jenkins: JenkinsServer): string[] {
  return jenkins.builds().map((b) => b.form.DELIVERY ?? "?");
}

describe("Fault scenarios: the route handler with the real Jenkins action against a local Jenkins", () => {
  let jenkins: JenkinsServer;
  let proxy: SwitchableProxy;

  beforeEach(async () => {
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "BRANCH" }, { name: "SHA" }, { name: "DELIVERY" }],
    });
    proxy = await startSwitchableProxy(jenkins.url);
  });
  afterEach(async () => {
    await proxy.close();
    await jenkins.close();
  });

  const route = () =>
    jenkinsRoute({ match: { repos: ["acme/*"], events: ["push"], branches: ["main"] } }, proxy.url);

  it("Jenkins down (each connection reset at once), then 500, then recovered: every delivery builds exactly once, in order", async () => {
    const g = gateway(route(), runJenkins);
    await proxy.stop();
    for (const id of ["d-1", "d-2", "d-3"]) {
      expect((await g.deliver({ deliveryId: id })).statusCode).to.equal(202);
    }

    // Round 1: each connection to Jenkins is reset. The first record fails; the rest of its group waits.
    const r1 = await g.queue.deliverOnce(g.work);
    expect(r1).to.deep.include({ processed: 3, failed: 3 });
    expect(jenkins.builds()).to.have.length(0);

    // Round 2: Jenkins is back but answers 500 once.
    await proxy.start();
    jenkins.script({ status: 500 });
    const r2 = await g.queue.deliverOnce(g.work);
    expect(r2).to.deep.include({ failed: 3 });

    // Round 3: recovered.
    await g.queue.drain(g.work);
    // d-1's first POST was answered 500; then one build per delivery, in order.
    expect(buildDeliveries(jenkins)).to.deep.equal(["d-1", "d-1", "d-2", "d-3"]);
    expect(g.deadLetters.items).to.have.length(0);
    // Backoff grew exponentially for the failing head of the group.
    const headBackoffs = g.queue.backoffs.filter((b) => b.messageId === "m-1").map((b) => b.delayMs);
    expect(headBackoffs).to.deep.equal([RETRY_BASE_DELAY_MS, RETRY_BASE_DELAY_MS * 2]);
    expect(g.ledger()).to.deep.equal({ accepted: 3, done: 3, dead: 0 });
  });

  for (const [what, lost] of [
    ["a proxy's 504", { status: 504, build: true }],
    ["a dropped connection", { drop: true, build: true }],
  ] as const) {
    it(`Jenkins built the request but ${what} lost its answer: the retry finds that build, and the delivery is done with one build`, async () => {
      const g = gateway(route(), runJenkins);
      expect((await g.deliver({ deliveryId: "lost-answer-1" })).statusCode).to.equal(202);
      jenkins.script(lost);
      await g.queue.drain(g.work);
      expect(jenkins.jobBuilds.map((b) => [b.number, b.parameters?.DELIVERY])).to.deep.equal([
        [1, "lost-answer-1"],
      ]);
      expect(buildDeliveries(jenkins), "one build request only").to.deep.equal(["lost-answer-1"]);
      const attempts = g.logs.of("attempt").map((l) => [l.attempt, l.outcome]);
      expect(attempts).to.deep.equal([
        [1, "retry"],
        [2, "done"],
      ]);
      expect(g.logs.of("attempt").at(-1)?.detail).to.match(/^already started as #1 /);
      expect(g.ledger()).to.deep.equal({ accepted: 1, done: 1, dead: 0 });
    });
  }

  it(`Jenkins down for good: ${MAX_ATTEMPTS} attempts with backoff, then the DLQ with the reason`, async () => {
    const g = gateway(route(), runJenkins);
    await proxy.stop();
    expect((await g.deliver({ deliveryId: "d-down" })).statusCode).to.equal(202);
    const rounds = await g.queue.drain(g.work);
    expect(rounds).to.equal(MAX_ATTEMPTS);
    expect(g.deadLetters.items).to.have.length(1);
    expect(g.deadLetters.items[0]?.reason).to.match(new RegExp(`^gave up after ${MAX_ATTEMPTS} receives: `));
    expect(g.queue.backoffs).to.have.length(MAX_ATTEMPTS - 1);
    expect(g.queue.redriven).to.have.length(0);
    expect(g.dedupe.peek("api-build", "d-down")?.state).to.equal("dead");
    expect(g.ledger()).to.deep.equal({ accepted: 1, done: 0, dead: 1 });
  });

  it("Jenkins 404: final, straight to the DLQ with a clear reason, one request only; a redelivery after the fix builds", async () => {
    const missingJob = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      jobs: ["other/job"],
    });
    try {
      proxy.retarget(missingJob.url);
      const g = gateway(route(), runJenkins);
      expect((await g.deliver({ deliveryId: "d-404" })).statusCode).to.equal(202);
      await g.queue.drain(g.work);
      expect(g.deadLetters.items).to.have.length(1);
      expect(g.deadLetters.items[0]?.reason).to.match(/^final: .*api\/build.*404/);
      expect(missingJob.requests.filter((r) => r.method === "POST")).to.have.length(1);
      expect(g.queue.backoffs).to.have.length(0);
      expect(g.ledger()).to.deep.equal({ accepted: 1, done: 0, dead: 1 });

      // The job is created; the user redelivers the failed delivery from GitHub's Recent Deliveries.
      proxy.retarget(jenkins.url);
      expect((await g.deliver({ deliveryId: "d-404" })).statusCode).to.equal(202);
      await g.queue.drain(g.work);
      expect(buildDeliveries(jenkins)).to.deep.equal(["d-404"]);
      expect(g.dedupe.peek("api-build", "d-404")).to.deep.equal({ state: "done", generation: 2 });
      // Two accepted generations: one dead-lettered, one done.
      expect(g.ledger()).to.deep.equal({ accepted: 2, done: 1, dead: 1 });
    } finally {
      await missingJob.close();
    }
  });

  it("Secrets Manager throttled at receive: 503 (never 401), nothing accepted; the redeliveries then build once each", async () => {
    const g = gateway(route(), runJenkins);
    g.secrets.throttle();
    for (const id of ["s-1", "s-2"]) {
      const answer = await g.deliver({ deliveryId: id });
      expect(answer.statusCode).to.equal(503);
    }
    expect(g.queue.messages).to.have.length(0);
    expect(g.ledger()).to.deep.equal({ accepted: 0, done: 0, dead: 0 });
    g.secrets.heal();
    for (const id of ["s-1", "s-2"]) expect((await g.deliver({ deliveryId: id })).statusCode).to.equal(202);
    await g.queue.drain(g.work);
    expect(buildDeliveries(jenkins)).to.deep.equal(["s-1", "s-2"]);
    expect(g.ledger()).to.deep.equal({ accepted: 2, done: 2, dead: 0 });
  });

  it("SQS down at receive: 503 and the claim released; the redelivery is queued and builds once", async () => {
    const g = gateway(route(), runJenkins);
    g.queue.failuresLeft = 1;
    expect((await g.deliver({ deliveryId: "q-1" })).statusCode).to.equal(503);
    expect((await g.deliver({ deliveryId: "q-1" })).statusCode).to.equal(202);
    expect((await g.deliver({ deliveryId: "q-1" })).body.status).to.equal("duplicate");
    await g.queue.drain(g.work);
    expect(buildDeliveries(jenkins)).to.deep.equal(["q-1"]);
    expect(g.ledger()).to.deep.equal({ accepted: 1, done: 1, dead: 0 });
  });

  it("SQS took the message but its answer was lost: 503, and the redelivery is not queued a second time, so it builds once", async () => {
    const g = gateway(route(), runJenkins);
    g.queue.lostAnswersLeft = 1;
    expect((await g.deliver({ deliveryId: "lost-1" })).statusCode).to.equal(503);
    expect(g.queue.messages).to.have.length(1);
    // The Git host's redelivery (GitHub: Redeliver) is accepted; SQS's deduplication drops its message.
    expect((await g.deliver({ deliveryId: "lost-1" })).statusCode).to.equal(202);
    expect(g.queue.messages).to.have.length(1);
    await g.queue.drain(g.work);
    expect(buildDeliveries(jenkins)).to.deep.equal(["lost-1"]);
    expect(g.dedupe.peek("api-build", "lost-1")).to.deep.equal({ state: "done", generation: 1 });
    expect((await g.deliver({ deliveryId: "lost-1" })).body.status).to.equal("duplicate");
  });

  it("marking the delivery queued fails after the send: 202; a redelivery within a minute is 503 in progress, and one after it is taken over without building twice", async () => {
    const g = gateway(route(), runJenkins);
    const mark = g.dedupe.mark.bind(g.dedupe);
    g.dedupe.mark = async (routeName, id, generation, state) => {
      if (state === "queued") throw new Error("DynamoDB dedupe mark failed: ThrottlingException");
      return mark(routeName, id, generation, state);
    };
    expect((await g.deliver({ deliveryId: "unmarked-1" })).statusCode).to.equal(202);
    expect(g.dedupe.peek("api-build", "unmarked-1")?.state).to.equal("pending");
    expect((await g.deliver({ deliveryId: "unmarked-1" })).statusCode).to.equal(503);
    // A minute later the claim looks abandoned (as when the function died between the send and the mark).
    const entry = g.dedupe.entries.get("api-build#unmarked-1");
    if (entry) entry.updatedAt -= 61_000;
    expect((await g.deliver({ deliveryId: "unmarked-1" })).statusCode).to.equal(202);
    expect(g.queue.messages).to.have.length(1);
    await g.queue.drain(g.work);
    expect(buildDeliveries(jenkins)).to.deep.equal(["unmarked-1"]);
    expect(g.dedupe.peek("api-build", "unmarked-1")).to.deep.equal({ state: "done", generation: 1 });
  });

  it("a plain Error on record 2 of 4: only that record comes back, and each delivery builds once", async () => {
    let thrown = false;
    const g = gateway(route(), async (item, clients) => {
      if (item.deliveryId === "c-2" && !thrown) {
        thrown = true;
        throw new Error("socket hang up");
      }
      return runJenkins(item, clients);
    });
    const repos = ["acme/a", "acme/b", "acme/c", "acme/d"];
    for (const [i, repo] of repos.entries()) {
      expect(
        (await g.deliver({ deliveryId: `c-${i + 1}`, payload: pushPayload({ repo }) })).statusCode,
      ).to.equal(202);
    }
    const first = await g.queue.deliverOnce(g.work);
    expect(first).to.deep.include({ processed: 4, failed: 1 });
    expect(g.queue.messages.map((m) => JSON.parse(m.body).deliveryId)).to.deep.equal(["c-2"]);
    await g.queue.drain(g.work);
    expect([...buildDeliveries(jenkins)].sort()).to.deep.equal(["c-1", "c-2", "c-3", "c-4"]);
    expect(g.ledger()).to.deep.equal({ accepted: 4, done: 4, dead: 0 });
  });

  it("the function dies after 2 of 4 records: SQS returns the whole batch, finished records are not built twice", async () => {
    const g = gateway(route(), runJenkins);
    const repos = ["acme/a", "acme/b", "acme/c", "acme/d"];
    for (const [i, repo] of repos.entries()) {
      await g.deliver({ deliveryId: `k-${i + 1}`, payload: pushPayload({ repo }) });
    }
    const crashing: WorkFn = async (event) => {
      await g.handler.work({ Records: event.Records.slice(0, 2) });
      throw new Error("Runtime exited with error: signal: killed");
    };
    const crash = await g.queue.deliverOnce(crashing);
    expect(crash.crashed).to.equal(true);
    expect(g.queue.messages).to.have.length(4);
    expect(buildDeliveries(jenkins)).to.deep.equal(["k-1", "k-2"]);
    await g.queue.drain(g.work);
    expect(buildDeliveries(jenkins)).to.deep.equal(["k-1", "k-2", "k-3", "k-4"]);
    expect(g.logs.of("attempt").filter((l) => l.outcome === "already-done")).to.have.length(2);
    expect(g.ledger()).to.deep.equal({ accepted: 4, done: 4, dead: 0 });
  });
});

describe("Fault scenarios: the route handler with the real s3-zip action against a local Git host and s3rver", function () {
  this.timeout(60_000);
  const BUCKET = "artifacts";
  const KEY = "acme/api/main/acme_api.zip";
  let host: GitHostServer;
  let s3: LocalS3;

  const zipRoute = (): Route => ({
    name: "source-zip",
    provider: "github",
    secret: "hookgate/github-webhook",
    auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    match: { repos: ["acme/*"], events: ["push"], branches: ["main"] },
    action: {
      type: "s3-zip",
      api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
      bucket: BUCKET,
      key: "{{owner}}/{{repo}}/{{branch}}/{{owner}}_{{repo}}.zip",
    },
  });
  const objects = () => new S3ObjectStore(s3.client);
  const archiveRequests = () => host.requests.filter((r) => r.kind === "archive" && r.listener === "api");

  before(async () => {
    // One SDK attempt per request: the retry under test is the queue's, and no SDK backoff slows the suite.
    s3 = await startLocalS3({ buckets: [BUCKET], maxAttempts: 1 });
  });
  after(async () => {
    await s3.close();
  });
  beforeEach(async () => {
    host = await startGitHostServer({ token: "ghp_testtoken0123456789" });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: { "buildspec.yml": "version: 0.2\n", "src/a.ts": "x\n" } });
    s3.faults.failEveryUploadPart = false;
    s3.faults.failUploadPartRequests = [];
  });
  afterEach(async () => {
    await host.close();
  });

  it("Git-host API 502 then OK: one retry with backoff, then the zip is in S3 with the delivery id", async () => {
    const g = gateway(zipRoute(), runAction, objects());
    host.script("archive", { status: 502 });
    expect((await g.deliver({ deliveryId: "z-502" })).statusCode).to.equal(202);
    expect(await g.queue.drain(g.work)).to.equal(2);
    expect(archiveRequests()).to.have.length(2);
    expect(g.queue.backoffs.map((b) => b.delayMs)).to.deep.equal([RETRY_BASE_DELAY_MS]);
    const object = await s3.getObject(BUCKET, KEY);
    expect(Object.values(object.metadata)).to.include("z-502");
    expect(g.ledger()).to.deep.equal({ accepted: 1, done: 1, dead: 0 });
  });

  it("Git-host rate limit with Retry-After: the backoff honours it", async () => {
    const g = gateway(zipRoute(), runAction, objects());
    host.script("archive", { status: 429, headers: { "retry-after": "120" } });
    await g.deliver({ deliveryId: "z-429" });
    await g.queue.drain(g.work);
    expect(g.queue.backoffs.map((b) => b.delayMs)).to.deep.equal([120_000]);
    expect(g.ledger()).to.deep.equal({ accepted: 1, done: 1, dead: 0 });
  });

  it("S3 5xx on every part: retryable, no half-written object, no open upload; the retry then lands it", async () => {
    const key = "acme/big/main/acme_big.zip";
    host.setRepo("acme/big");
    host.setArchive("acme/big", SHA, {
      files: { "buildspec.yml": "version: 0.2\n", "blob.bin": randomBytes(6 * 1024 * 1024) },
    });
    // Incompressible, so the re-zipped object is larger than one 5 MiB part: a multipart upload.
    const g = gateway(zipRoute(), runAction, objects());
    await g.deliver({ deliveryId: "z-s3", payload: pushPayload({ repo: "acme/big" }) });
    s3.faults.failEveryUploadPart = true;
    const first = await g.queue.deliverOnce(g.work);
    expect(first).to.deep.include({ processed: 1, failed: 1 });
    expect(await s3.exists(BUCKET, key)).to.equal(false);
    expect(s3.openUploads()).to.deep.equal([]);
    s3.faults.failEveryUploadPart = false;
    await g.queue.drain(g.work);
    expect(await s3.exists(BUCKET, key)).to.equal(true);
    expect(s3.openUploads()).to.deep.equal([]);
    expect(g.ledger()).to.deep.equal({ accepted: 1, done: 1, dead: 0 });
  });
});

describe("Fault scenarios: receives that never reach the function (the redrive policy's margin)", () => {
  const failing = async (): Promise<ActionOutcome> => {
    throw new ActionError("Jenkins answered 503", { retryable: true });
  };
  /** A receive Lambda throttled, or one whose function failed at init: the handler never runs. */
  const throttled: WorkFn = async () => {
    throw new Error("Rate Exceeded (TooManyRequestsException): the handler never ran");
  };

  it("a delivery whose last attempt's receive never reached the function is dead-lettered by the function on the next receive, with its reason counting receives (the one that never reached it too), not attempts, and its redelivery is accepted again", async () => {
    const g = gateway(jenkinsRoute(), failing);
    expect((await g.deliver({ deliveryId: "t-1" })).statusCode).to.equal(202);
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) await g.queue.deliverOnce(g.work, 1);
    expect((await g.queue.deliverOnce(throttled, 1)).crashed).to.equal(true); // receive MAX_ATTEMPTS
    await g.queue.deliverOnce(g.work, 1);
    expect(g.queue.messages).to.have.length(0);
    expect(g.queue.redriven).to.have.length(0);
    expect(g.deadLetters.items.map((d) => d.reason)).to.deep.equal([
      `gave up after ${MAX_ATTEMPTS + 1} receives: Jenkins answered 503`,
    ]);
    expect(g.dedupe.peek("api-build", "t-1")).to.deep.equal({ state: "dead", generation: 1 });
    expect(g.ledger()).to.deep.equal({ accepted: 1, done: 0, dead: 1 });
    expect((await g.deliver({ deliveryId: "t-1" })).statusCode).to.equal(202);
  });

  it("a delivery that keeps failing is dead-lettered by the function itself even when the receives from its last attempt on never reach it, up to the margin, before the redrive policy moves anything", async () => {
    const g = gateway(jenkinsRoute(), failing);
    await g.deliver({ deliveryId: "t-margin" });
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) await g.queue.deliverOnce(g.work, 1);
    for (let lost = 0; lost < MAX_RECEIVE_COUNT - MAX_ATTEMPTS; lost++)
      await g.queue.deliverOnce(throttled, 1);
    await g.queue.deliverOnce(g.work, 1); // receive MAX_RECEIVE_COUNT: the queue's last
    expect(g.queue.redriven).to.have.length(0);
    expect(g.deadLetters.items.map((d) => d.reason)).to.deep.equal([
      `gave up after ${MAX_RECEIVE_COUNT} receives: Jenkins answered 503`,
    ]);
    expect(g.dedupe.peek("api-build", "t-margin")?.state).to.equal("dead");
  });
});
