// `hookgate serve` killed (kill -9) right after a delivery was dead-lettered, before the queue journal recorded the
// message deleted: the next start must neither run its action again nor file a second dead letter (review h514).
// The kill is played by copying the state dir at that moment, in process: the files a kill -9 there leaves.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ActionError } from "../../src/core/errors";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import type { DeliveryEntry } from "../../src/local/deliveryLog";
import { JournalFile } from "../../src/local/journalFile";
import { LocalDeadLetters } from "../../src/local/localDeadLetters";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { localWorkItem, ROUTE_R_YAML } from "../support/localStores";
import { githubHeaders } from "./serveHarness";

const PUSH = readFileSync(join(__dirname, "..", "..", "examples", "github-push.json"));

/** The dead letters in `dir`, without a temporary file a write in progress holds. */
const letterFiles = (dir: string) => readdirSync(join(dir, "dead-letters")).filter((n) => !n.startsWith("."));

describe("Command: hookgate serve, killed right after a delivery was dead-lettered", function () {
  this.timeout(20_000);
  let dir: string;
  const gateways: LocalGateway[] = [];
  const originalWriteNow = JournalFile.prototype.writeNow;
  const originalSend = LocalDeadLetters.prototype.send;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-dead-crash-"));
  });
  afterEach(async () => {
    JournalFile.prototype.writeNow = originalWriteNow;
    LocalDeadLetters.prototype.send = originalSend;
    for (const g of gateways.splice(0)) await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Copies `state` to `crashed` once, the first time it is called. */
  const killer = (state: string, crashed: string) => () => {
    if (!existsSync(crashed)) cpSync(state, crashed, { recursive: true });
  };

  const kills = {
    // After its letter and its dedupe mark, before the queue journal's write of its del line.
    "before its del line": (kill: () => void) => {
      JournalFile.prototype.writeNow = function (this: JournalFile) {
        const unwritten = (this as unknown as { unwritten: string }).unwritten;
        if (this.path.endsWith("journal.jsonl") && unwritten.includes('"op":"del"')) kill();
        originalWriteNow.call(this);
      };
    },
    // Once its letter is on disk, before its dedupe mark (on a last attempt, the mark made before the action).
    "right after its letter's write": (kill: () => void) => {
      LocalDeadLetters.prototype.send = async function (this: LocalDeadLetters, ...args) {
        await originalSend.apply(this, args);
        kill();
      };
    },
  };
  const failures = [
    { name: "a success (control)", maxAttempts: 5, retryable: undefined, ends: "done" },
    { name: "a final failure (404) on the first attempt", maxAttempts: 5, retryable: false, ends: "dead" },
    {
      name: "a retryable failure on the last attempt (--max-attempts 1)",
      maxAttempts: 1,
      retryable: true,
      ends: "dead",
    },
  ] as const;
  const cases = [
    ...failures.map((failure) => ({ kill: "before its del line" as const, ...failure })),
    ...failures.slice(1).map((failure) => ({ kill: "right after its letter's write" as const, ...failure })),
  ];
  for (const c of cases)
    it(`${c.name}, killed ${c.kill}: the next start neither runs the action again nor files a second dead letter, and shows the delivery ${c.ends}`, async () => {
      const routes = join(dir, "routes.yaml");
      writeFileSync(routes, ROUTE_R_YAML);
      const state = join(dir, "state");
      const crashed = join(dir, "crashed");
      kills[c.kill](killer(state, crashed));
      let runs = 0;
      const runAction = async (): Promise<ActionOutcome> => {
        runs++;
        if (c.retryable === undefined) return { status: "done", detail: "built" };
        throw new ActionError(c.retryable ? "Jenkins answered 503" : "Jenkins answered 404: no such job", {
          retryable: c.retryable,
        });
      };
      const first = await startLocalGateway({
        config: loadRoutesFile(routes),
        stateDir: state,
        port: 0,
        maxAttempts: c.maxAttempts,
        runAction,
      });
      gateways.push(first);
      const secret = JSON.parse(readFileSync(first.secretsFile, "utf8"))["test/hook"] as string;
      const answer = await fetch(`${first.url}/hooks/r`, {
        method: "POST",
        headers: githubHeaders(secret, PUSH, "push", "d-crash"),
        body: PUSH,
      });
      expect(answer.status).to.equal(202);
      for (let i = 0; i < 300 && !existsSync(crashed); i++) await new Promise((r) => setTimeout(r, 10));
      await gateways.splice(0)[0]?.close();
      JournalFile.prototype.writeNow = originalWriteNow;
      LocalDeadLetters.prototype.send = originalSend;
      expect(runs, "the first start ran the action once").to.equal(1);
      const lettersAtKill = letterFiles(crashed);
      expect(lettersAtKill, "dead letters at the kill").to.have.length(c.ends === "dead" ? 1 : 0);

      // The next start, on the state dir as the kill left it (its serve.lock is taken over as stale).
      const second = await startLocalGateway({
        config: loadRoutesFile(routes),
        stateDir: crashed,
        port: 0,
        secretsFile: first.secretsFile,
        maxAttempts: c.maxAttempts,
        runAction,
      });
      gateways.push(second);
      expect(second.resumed, "the message the kill left queued").to.equal(1);
      const entry = () => second.deliveries.list().find((e) => e.delivery === "d-crash") as DeliveryEntry;
      // Its second receive has ended: the entry counts it, and reads done or dead.
      for (let i = 0; i < 500 && !(entry()?.attempts >= 2 && ["done", "dead"].includes(entry().status)); i++)
        await new Promise((r) => setTimeout(r, 10));
      // The entry shows the letter's reason, as it did live.
      const reasons = lettersAtKill.map(
        (name) => JSON.parse(readFileSync(join(crashed, "dead-letters", name), "utf8")).reason as string,
      );
      expect({
        actionRuns: runs,
        deadLetters: letterFiles(crashed),
        status: entry()?.status,
        attempts: entry()?.attempts,
        error: entry()?.error,
      }).to.deep.equal({
        actionRuns: 1,
        deadLetters: lettersAtKill,
        status: c.ends,
        attempts: 2,
        error: reasons[0],
      });
    });
});

describe("Command: hookgate serve, killed right after its queue moved a message past maxReceiveCount to the dead letters", () => {
  let dir: string;
  const gateways: LocalGateway[] = [];
  const originalSend = LocalDeadLetters.prototype.send;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-redrive-crash-"));
  });
  afterEach(async () => {
    LocalDeadLetters.prototype.send = originalSend;
    for (const g of gateways.splice(0)) await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the next start files no second letter, marks the delivery dead (a redelivery is accepted again) and shows it dead", async () => {
    const routes = join(dir, "routes.yaml");
    writeFileSync(routes, ROUTE_R_YAML);
    const state = join(dir, "state");
    const crashed = join(dir, "crashed");
    // A message whose receives ran out before an earlier crash (--max-attempts 1: maxReceiveCount 1 + 3), its
    // delivery still queued: the start moves it to the dead letters without running it.
    const item = localWorkItem("d-parked", { repo: "acme/api" });
    const now = Date.now();
    const meta = {
      id: "m-1",
      seq: 0,
      route: "r",
      group: "acme/api",
      dedupeId: "d-parked:1",
      sentAt: now,
      receiveCount: 4,
    };
    mkdirSync(join(state, "queue"), { recursive: true });
    writeFileSync(join(state, "queue", "journal.jsonl"), `${JSON.stringify({ op: "put", m: meta, item })}\n`);
    writeFileSync(
      join(state, "dedupe.jsonl"),
      `${JSON.stringify({ k: "r#d-parked", s: "queued", g: 1, t: now, f: now })}\n`,
    );
    // The kill: once the letter is on disk, before its dedupe mark and the journal's del line.
    LocalDeadLetters.prototype.send = async function (this: LocalDeadLetters, ...args) {
      await originalSend.apply(this, args);
      if (!existsSync(crashed)) cpSync(state, crashed, { recursive: true });
    };
    let runs = 0;
    const options = {
      config: loadRoutesFile(routes),
      port: 0,
      maxAttempts: 1,
      runAction: async (): Promise<ActionOutcome> => {
        runs++;
        return { status: "done", detail: "built" };
      },
    };
    gateways.push(await startLocalGateway({ ...options, stateDir: state }));
    for (let i = 0; i < 300 && !existsSync(crashed); i++) await new Promise((r) => setTimeout(r, 10));
    await gateways.splice(0)[0]?.close();
    LocalDeadLetters.prototype.send = originalSend;
    const lettersAtKill = letterFiles(crashed);
    expect(lettersAtKill, "dead letters at the kill").to.have.length(1);

    const second = await startLocalGateway({ ...options, stateDir: crashed });
    gateways.push(second);
    expect(second.resumed, "the message the kill left queued").to.equal(1);
    const entry = () => second.deliveries.list().find((e) => e.delivery === "d-parked");
    for (let i = 0; i < 300 && entry()?.status !== "dead"; i++) await new Promise((r) => setTimeout(r, 10));
    await gateways.splice(0)[0]?.close();
    const dedupeLines = readFileSync(join(crashed, "dedupe.jsonl"), "utf8").split("\n").filter(Boolean);
    const lastState = JSON.parse(dedupeLines.filter((l) => l.includes('"r#d-parked"')).at(-1) ?? "{}").s;
    const journal = readFileSync(join(crashed, "queue", "journal.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { op: string; id?: string; m?: { id: string } });
    const live = new Set<string>();
    for (const line of journal) {
      if (line.op === "put" && line.m) live.add(line.m.id);
      if (line.op === "del" && line.id) live.delete(line.id);
    }
    expect({
      actionRuns: runs,
      deadLetters: letterFiles(crashed),
      status: entry()?.status,
      dedupe: lastState,
      stillQueued: live.has("m-1"),
    }).to.deep.equal({
      actionRuns: 0,
      deadLetters: lettersAtKill,
      status: "dead",
      dedupe: "dead",
      stillQueued: false,
    });
  });

  it("a letter of the same delivery and generation filed before the message was sent is an earlier message's: the start files this message's own", async () => {
    const routes = join(dir, "routes.yaml");
    writeFileSync(routes, ROUTE_R_YAML);
    const state = join(dir, "state");
    const item = localWorkItem("d-again", { repo: "acme/api" });
    const sentAt = Date.now();
    const meta = {
      id: "m-2",
      seq: 0,
      route: "r",
      group: "acme/api",
      dedupeId: "d-again:1",
      sentAt,
      receiveCount: 4,
    };
    mkdirSync(join(state, "queue"), { recursive: true });
    writeFileSync(join(state, "queue", "journal.jsonl"), `${JSON.stringify({ op: "put", m: meta, item })}\n`);
    // Its dedupe entry was lost since (the delivery was given generation 1 again): the letter is an earlier message's.
    const earlier = new Date(sentAt - 60_000).toISOString();
    mkdirSync(join(state, "dead-letters"), { recursive: true });
    writeFileSync(
      join(state, "dead-letters", `${earlier.replace(/[:.]/g, "-")}-0000-r-d-again-g1.json`),
      JSON.stringify({ deadAt: earlier, reason: "final: an earlier message", item }),
    );
    const gateway = await startLocalGateway({
      config: loadRoutesFile(routes),
      stateDir: state,
      port: 0,
      maxAttempts: 1,
      runAction: async () => ({ status: "done", detail: "built" }),
    });
    gateways.push(gateway);
    for (let i = 0; i < 300 && letterFiles(state).length < 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(letterFiles(state)).to.have.length(2);
  });

  it("a letter of the same delivery and generation that another message filed, though after this one was sent, is that message's: the start files this message's own, naming it", async () => {
    const routes = join(dir, "routes.yaml");
    writeFileSync(routes, ROUTE_R_YAML);
    const state = join(dir, "state");
    const item = localWorkItem("d-twice", { repo: "acme/api", route: "r" });
    // m-2, the redelivery's message of an abandoned claim taken over as the same generation, was sent a minute
    // before m-1, queued ahead of it in the group, died.
    const sentAt = Date.now() - 60_000;
    const meta = {
      id: "m-2",
      seq: 0,
      route: "r",
      group: "acme/api",
      dedupeId: "d-twice:1",
      sentAt,
      receiveCount: 4,
    };
    mkdirSync(join(state, "queue"), { recursive: true });
    writeFileSync(join(state, "queue", "journal.jsonl"), `${JSON.stringify({ op: "put", m: meta, item })}\n`);
    const diedAt = new Date(sentAt + 30_000).toISOString();
    mkdirSync(join(state, "dead-letters"), { recursive: true });
    writeFileSync(
      join(state, "dead-letters", `${diedAt.replace(/[:.]/g, "-")}-0000-r-d-twice-g1.json`),
      JSON.stringify({ deadAt: diedAt, reason: "final: the first message", item, messageId: "m-1" }),
    );
    const gateway = await startLocalGateway({
      config: loadRoutesFile(routes),
      stateDir: state,
      port: 0,
      maxAttempts: 1,
      runAction: async () => ({ status: "done", detail: "built" }),
    });
    gateways.push(gateway);
    for (let i = 0; i < 300 && letterFiles(state).length < 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    const letters = letterFiles(state)
      .sort()
      .map(
        (name) =>
          JSON.parse(readFileSync(join(state, "dead-letters", name), "utf8")) as { messageId?: string },
      );
    expect(letters.map((letter) => letter.messageId)).to.deep.equal(["m-1", "m-2"]);
  });
});

describe("Command: hookgate serve, killed right after a queued message that holds no work item was dead-lettered", () => {
  let dir: string;
  const gateways: LocalGateway[] = [];
  const originalFileRaw = LocalDeadLetters.prototype.fileRaw;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-raw-crash-"));
  });
  afterEach(async () => {
    LocalDeadLetters.prototype.fileRaw = originalFileRaw;
    for (const g of gateways.splice(0)) await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ways = [
    // The work path's: the message's first receive finds no work item in it, and files it.
    { by: "the work path (its first receive)", receiveCount: 0 },
    // The queue's redrive: its receives ran out before an earlier stop (--max-attempts 1: maxReceiveCount 1 + 3).
    { by: "the queue's redrive (past maxReceiveCount)", receiveCount: 4 },
  ];
  for (const way of ways)
    it(`filed by ${way.by}: the next start files no second letter, shows it once and leaves it unqueued`, async () => {
      const routes = join(dir, "routes.yaml");
      writeFileSync(routes, ROUTE_R_YAML);
      const state = join(dir, "state");
      const crashed = join(dir, "crashed");
      const meta = {
        id: "m-raw",
        seq: 0,
        route: "r",
        group: "acme/api",
        dedupeId: "d-raw:1",
        sentAt: Date.now(),
        receiveCount: way.receiveCount,
      };
      mkdirSync(join(state, "queue"), { recursive: true });
      // A put line whose item is no work item (edited by hand, or written by another version).
      writeFileSync(
        join(state, "queue", "journal.jsonl"),
        `${JSON.stringify({ op: "put", m: meta, item: { v: 1, route: "r" } })}\n`,
      );
      // The kill: once the letter is on disk, before the journal's del line.
      LocalDeadLetters.prototype.fileRaw = async function (this: LocalDeadLetters, ...args) {
        await originalFileRaw.apply(this, args);
        if (!existsSync(crashed)) cpSync(state, crashed, { recursive: true });
      };
      const options = {
        config: loadRoutesFile(routes),
        port: 0,
        maxAttempts: 1,
        runAction: async (): Promise<ActionOutcome> => ({ status: "done", detail: "built" }),
      };
      gateways.push(await startLocalGateway({ ...options, stateDir: state }));
      for (let i = 0; i < 300 && !existsSync(crashed); i++) await new Promise((r) => setTimeout(r, 10));
      await gateways.splice(0)[0]?.close();
      LocalDeadLetters.prototype.fileRaw = originalFileRaw;
      const lettersAtKill = letterFiles(crashed);
      expect(lettersAtKill, "dead letters at the kill").to.have.length(1);

      const second = await startLocalGateway({ ...options, stateDir: crashed });
      gateways.push(second);
      expect(second.resumed, "the message the kill left queued").to.equal(1);
      const unreadable = () =>
        second.deliveries.list().filter((e) => e.route === "r" && e.event === "unknown");
      for (let i = 0; i < 300 && unreadable().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await gateways.splice(0)[0]?.close();
      const journal = readFileSync(join(crashed, "queue", "journal.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { op: string; id?: string; m?: { id: string } });
      const live = new Set<string>();
      for (const line of journal) {
        if (line.op === "put" && line.m) live.add(line.m.id);
        if (line.op === "del" && line.id) live.delete(line.id);
      }
      expect({
        deadLetters: letterFiles(crashed),
        shown: unreadable().map((e) => e.status),
        stillQueued: live.has("m-raw"),
      }).to.deep.equal({ deadLetters: lettersAtKill, shown: ["dead"], stillQueued: false });
    });
});
