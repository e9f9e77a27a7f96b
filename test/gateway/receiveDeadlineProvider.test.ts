// The receive deadline is the route's provider's: Gitea and Forgejo give up on a delivery after 5 s (DELIVER_TIMEOUT,
// go-gitea modules/setting/webhook.go) and their Redeliver sends it under a new X-Gitea-Delivery (ReplayHookTask),
// which the dedupe table cannot match: a delivery answered after Gitea gave up runs twice once redelivered. So a
// Gitea route answers 503 after 3 s of waiting (within 4 s, the claim's release included); the others after 8 s.
import { randomUUID } from "node:crypto";
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import type { CallLimits, ClaimResult, DeliveryState } from "../../src/core/ports";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { Provider } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { startLocalGateway } from "../../src/local/localGateway";
import { githubHeaders, REPO_ROOT, request } from "../cli/serveHarness";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  WEBHOOK_SECRET,
} from "./support";

/** A store that notes when each claim was asked and the deadline it was given, then claims. */
class ClaimClock extends MemoryDedupeStore {
  readonly claims: Array<{ askedAt: number; deadlineMs: number | undefined }> = [];
  override claim(
    route: string,
    deliveryId: string,
    limits?: CallLimits,
    token?: string,
  ): Promise<ClaimResult> {
    this.claims.push({ askedAt: Date.now(), deadlineMs: limits?.deadlineMs });
    return super.claim(route, deliveryId, undefined, token);
  }
}

/** What Gitea sends beside the GitHub-style signature githubDelivery writes (X-Hub-Signature-256). */
const giteaHeaders = (id: string) => ({
  "X-Gitea-Delivery": id,
  "X-Gitea-Event": "push",
  "X-Gogs-Delivery": id,
});

function handlerFor(
  provider: Provider,
  options: { dedupe?: MemoryDedupeStore; send?: () => Promise<void>; receiveTimeoutMs?: number } = {},
) {
  const logs = new LogCollector();
  const handler = createRouteHandler({
    route: jenkinsRoute({ provider }),
    secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
    queue: { send: options.send ?? (async () => {}) },
    deadLetters: new RecordingDeadLetters(),
    dedupe: options.dedupe ?? new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "" }),
    log: logs.log,
    ...(options.receiveTimeoutMs === undefined ? {} : { receiveTimeoutMs: options.receiveTimeoutMs }),
  });
  return { handler, logs };
}

const delivery = (provider: Provider, id: string) =>
  githubDelivery({ deliveryId: id, headers: provider === "gitea" ? giteaHeaders(id) : {} });

describe("Function: createRouteHandler receive, the deadline of the route's provider", () => {
  for (const [provider, deadline] of [
    ["gitea", 3_000],
    ["github", 8_000],
  ] as Array<[Provider, number]>) {
    it(`a ${provider} route gives its deployed claim the deadline ${deadline} ms after the delivery came in`, async () => {
      const dedupe = new ClaimClock();
      const { handler } = handlerFor(provider, { dedupe });
      const cameIn = Date.now();
      const answer = parseAnswer(await handler.receive(delivery(provider, randomUUID())));
      expect(answer.statusCode).to.equal(202);
      const [claim] = dedupe.claims;
      expect(claim?.deadlineMs, "the claim's deadline").to.be.a("number");
      // Set when the delivery came in: no earlier than then, and no later than when the claim was asked.
      expect(claim?.deadlineMs as number).to.be.within(
        cameIn + deadline,
        (claim?.askedAt as number) + deadline,
      );
    });
  }
});

describe("Function: createRouteHandler receive, a Gitea delivery queued after its deadline's 503", () => {
  it("its late line says not to redeliver it, as Gitea's Redeliver sends a new delivery id that is queued again, not that its redelivery is a duplicate", async () => {
    let finish: () => void = () => {};
    const { handler, logs } = handlerFor("gitea", {
      send: () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
      receiveTimeoutMs: 20,
    });
    // The send outlives the deadline: 503, then it lands.
    const answer = parseAnswer(await handler.receive(delivery("gitea", "6f1b0d8e-gitea-late")));
    expect(answer.statusCode).to.equal(503);
    finish();
    for (let i = 0; i < 20 && logs.of("delivery").length < 2; i++) await new Promise((r) => setImmediate(r));
    const late = logs.of("delivery")[1];
    expect(late).to.deep.include({ decision: "queued", status: 503, late: true });
    expect(late?.reason).to.equal(
      "queued after the timeout's 503: it will run; do not redeliver it: Gitea's Redeliver sends a new delivery id, which is queued again",
    );
  });
});

/** A store whose claims wait until `let()` (then claim as the memory store does, without a deadline). */
class HeldClaims extends MemoryDedupeStore {
  private gate: Array<() => void> = [];
  claims = 0;
  override async claim(
    route: string,
    deliveryId: string,
    _limits?: CallLimits,
    token?: string,
  ): Promise<ClaimResult> {
    this.claims++;
    await new Promise<void>((resolve) => this.gate.push(resolve));
    return super.claim(route, deliveryId, undefined, token);
  }
  let(): void {
    for (const go of this.gate.splice(0)) go();
  }
}

const TIMED_OUT = "timed out waiting for a dependency; redeliver later";
const MAYBE_QUEUED =
  "timed out; it may have been queued: check the route's log before redelivering (Gitea's Redeliver is a new delivery)";

/** Lets the background steps after a 503 run to their end. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

describe("Function: createRouteHandler receive, what a deadline 503 tells Gitea about redelivering", () => {
  function giteaHandler(options: { dedupe?: MemoryDedupeStore; awaitStoresToTheEnd?: boolean }) {
    let finish: () => void = () => {};
    const sends: number[] = [];
    const logs = new LogCollector();
    const handler = createRouteHandler({
      route: jenkinsRoute({ provider: "gitea" }),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue: {
        send: () =>
          new Promise<void>((resolve) => {
            sends.push(Date.now());
            finish = resolve;
          }),
      },
      deadLetters: new RecordingDeadLetters(),
      dedupe: options.dedupe ?? new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: logs.log,
      receiveTimeoutMs: 20,
      ...(options.awaitStoresToTheEnd ? { awaitStoresToTheEnd: true } : {}),
    });
    return { handler, logs, sends, finish: () => finish() };
  }

  it("a send under way at the deadline: the 503 says it may have been queued and to check the log, not to redeliver later (Gitea's Redeliver is a new id)", async () => {
    const { handler, logs, sends, finish } = giteaHandler({});
    const answer = parseAnswer(await handler.receive(delivery("gitea", "7a1c2d3e-gitea-sending")));
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.reason).to.equal(MAYBE_QUEUED);
    expect(logs.of("delivery")[0]).to.deep.include({
      decision: "timeout",
      status: 503,
      reason: MAYBE_QUEUED,
    });
    // And it was: the send lands after the 503.
    expect(sends).to.have.length(1);
    finish();
    await settle();
    expect(logs.of("delivery")[1]).to.deep.include({ decision: "queued", late: true });
  });

  it("under serve, whatever is under way at the deadline (here the claim): the 503 says it may have been queued, as serve waits for its stores to the end and goes on to the send", async () => {
    const dedupe = new HeldClaims();
    const { handler, sends, finish } = giteaHandler({ dedupe, awaitStoresToTheEnd: true });
    const answer = parseAnswer(await handler.receive(delivery("gitea", "7a1c2d3e-gitea-serve-claim")));
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.reason).to.equal(MAYBE_QUEUED);
    dedupe.let();
    await settle();
    expect(sends, "the send after the 503").to.have.length(1);
    finish();
  });

  it("deployed, a claim under way at the deadline: the 503 still says redeliver later, as a claim that comes back after it is released unqueued", async () => {
    const dedupe = new HeldClaims();
    const { handler, logs, sends } = giteaHandler({ dedupe });
    const answering = handler.receive(delivery("gitea", "7a1c2d3e-gitea-deployed-claim"));
    // The 503 waits (at most 1 s) for the claim under way; it comes back after the deadline (20 ms).
    await new Promise((r) => setTimeout(r, 40));
    expect(dedupe.claims, "the claim under way").to.equal(1);
    dedupe.let();
    const answer = parseAnswer(await answering);
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.reason).to.equal(TIMED_OUT);
    await settle();
    expect(sends, "nothing sent").to.deep.equal([]);
    expect(logs.of("delivery")[1]).to.deep.include({ decision: "timeout", late: true });
  });

  it("deployed, the secret still being read at the deadline: the 503 says redeliver later, and nothing is sent once it is read", async () => {
    let read: () => void = () => {};
    const secrets = new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET });
    const slow = {
      versions: async (name: string) => {
        await new Promise<void>((resolve) => {
          read = resolve;
        });
        return secrets.versions(name);
      },
    };
    const logs = new LogCollector();
    const sends: unknown[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute({ provider: "gitea" }),
      secrets: slow,
      queue: { send: async (item) => void sends.push(item) },
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: logs.log,
      receiveTimeoutMs: 20,
    });
    const answer = parseAnswer(await handler.receive(delivery("gitea", "7a1c2d3e-gitea-secret")));
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.reason).to.equal(TIMED_OUT);
    read();
    await settle();
    expect(sends, "nothing sent").to.deep.equal([]);
    expect(logs.of("delivery")[1]).to.deep.include({ decision: "timeout", late: true });
  });

  it("a github route with a send under way at the deadline still says redeliver later (its redelivery keeps the delivery id)", async () => {
    let finish: () => void = () => {};
    const { handler } = handlerFor("github", {
      send: () =>
        new Promise<void>((resolve) => {
          finish = resolve;
        }),
      receiveTimeoutMs: 20,
    });
    const answer = parseAnswer(await handler.receive(delivery("github", "7a1c2d3e-github-sending")));
    finish();
    expect(answer.statusCode).to.equal(503);
    expect(answer.body.reason).to.equal(TIMED_OUT);
  });
});

describe("serve: the receive deadline of the route's provider", function () {
  this.timeout(40_000);
  const realFdatasync = fs.fdatasync;
  let dir: string;
  afterEach(() => {
    fs.fdatasync = realFdatasync;
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers a Gitea delivery 503 while a GitHub one waiting on the same held disk is still within its deadline, and queues the GitHub one once the disk answers", async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-provider-deadline-"));
    writeFileSync(
      join(dir, "routes.yaml"),
      `version: 1
defaults: { jenkins: { url: "http://127.0.0.1:9", credentials: test/jenkins } }
routes:
  - name: tea
    provider: gitea
    secret: test/hook
    match: { repos: [acme/api] }
    action: { type: jenkins, job: x }
  - name: hub
    secret: test/hook
    match: { repos: [acme/api] }
    action: { type: jenkins, job: x }
`,
    );
    const secret = "provider-deadline-secret";
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": secret }));
    const gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      fsync: true,
      drainTimeoutMs: 50,
      log: () => {},
      runAction: async () => {
        throw new ActionError("Jenkins job x answered 404", { retryable: false });
      },
    });
    try {
      const push = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
      const held: Array<(error: Error | null) => void> = [];
      fs.fdatasync = ((_fd: number, done: (error: Error | null) => void) =>
        void held.push(done)) as typeof fs.fdatasync;
      const teaId = randomUUID();
      const tea = request(`${gateway.url}/hooks/tea`, {
        headers: { ...githubHeaders(secret, push, "push", teaId), ...giteaHeaders(teaId) },
        body: push,
      });
      let hubAnswered = false;
      const hub = request(`${gateway.url}/hooks/hub`, {
        headers: githubHeaders(secret, push, "push", randomUUID()),
        body: push,
      }).finally(() => {
        hubAnswered = true;
      });
      expect((await tea).status, "the Gitea delivery").to.equal(503);
      expect(hubAnswered, "the GitHub delivery answered by the Gitea one's 503").to.equal(false);
      fs.fdatasync = realFdatasync;
      for (const done of held.splice(0)) done(null);
      expect((await hub).status, "the GitHub delivery").to.equal(202);
    } finally {
      await gateway.close();
    }
  });
});

/** A store whose `queued` marks wait until `let()`, then mark (or fail, when told to). */
class HeldQueuedMarks extends MemoryDedupeStore {
  private gate: Array<() => void> = [];
  failMarks = false;
  override async mark(
    route: string,
    deliveryId: string,
    generation: number,
    state: DeliveryState,
    _limits?: CallLimits,
  ): Promise<void> {
    if (state === "queued") {
      await new Promise<void>((resolve) => this.gate.push(resolve));
      if (this.failMarks) throw new Error("DynamoDB timed out");
    }
    return super.mark(route, deliveryId, generation, state);
  }
  let(): void {
    for (const go of this.gate.splice(0)) go();
  }
}

describe("Function: createRouteHandler receive, a delivery sent to the queue whose queued mark is under way at the deadline", () => {
  for (const provider of ["gitea", "github"] as Provider[]) {
    it(`a ${provider} route answers it 202 queued at the deadline, not a 503 that has the host redeliver it (it will run)`, async () => {
      const dedupe = new HeldQueuedMarks();
      const sent: unknown[] = [];
      const logs = new LogCollector();
      const handler = createRouteHandler({
        route: jenkinsRoute({ provider }),
        secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
        queue: { send: async (item) => void sent.push(item) },
        deadLetters: new RecordingDeadLetters(),
        dedupe,
        runAction: async () => ({ status: "done", detail: "" }),
        log: logs.log,
        receiveTimeoutMs: 20,
      });
      const answer = parseAnswer(await handler.receive(delivery(provider, randomUUID())));
      expect(sent, "in the queue").to.have.length(1);
      expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
      expect(answer.body.status).to.equal("queued");
      expect(logs.of("delivery")).to.have.length(1);
      expect(logs.of("delivery")[0]).to.deep.include({ decision: "queued", status: 202 });
      dedupe.let();
      await settle();
      expect(logs.of("delivery"), "no late line once the mark lands").to.have.length(1);
    });
  }

  const lateMarkAdvice: Array<[Provider, string]> = [
    ["gitea", "do not redeliver it: Gitea's Redeliver sends a new delivery id, which is queued again"],
    [
      "github",
      "a redelivery is answered 503 (in progress) until its work records its outcome or its claim expires",
    ],
  ];
  for (const [provider, advice] of lateMarkAdvice) {
    it(`a queued mark that fails after the 202 at the deadline gets a late warn line saying so, and on a ${provider} route that ${advice.split(":")[0]}`, async () => {
      const dedupe = new HeldQueuedMarks();
      dedupe.failMarks = true;
      const { handler, logs } = handlerFor(provider, { dedupe, receiveTimeoutMs: 20 });
      const answer = parseAnswer(await handler.receive(delivery(provider, randomUUID())));
      expect(answer.statusCode).to.equal(202);
      dedupe.let();
      await settle();
      const late = logs.of("delivery")[1];
      expect(late).to.deep.include({ decision: "queued", status: 202, late: true, level: "warn" });
      expect(late?.error).to.equal("marking the delivery queued failed: DynamoDB timed out");
      expect(late?.reason).to.equal(
        `queued and answered 202 at the deadline, but marking it queued failed: it will run; ${advice}`,
      );
    });
  }
});
