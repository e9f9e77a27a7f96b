// A dead mark never replaces done (review h386). The work path marks a record dead when it defers it on the queue's
// last receive (markDeadOnLastReceive), before it reads the table: a copy of a message that already finished (SQS
// brought it back, or a takeover queued its generation twice) deferred there behind a failing message of its group
// turned `done` into `dead`, and the Git host's redelivery was then accepted as generation 2 and ran the action
// again (as did a redrive of the copy the queue parked). Through the route handler, on the memory store and the
// deployed one (DynamoDedupeStore against dynalite).
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { DynamoDedupeStore } from "../../src/aws/dedupe";
import { ActionError } from "../../src/core/errors";
import { MAX_RECEIVE_COUNT } from "../../src/core/policy";
import type { DedupeStore } from "../../src/core/ports";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { workItemJson } from "../../src/gateway/workItem";
import { type LocalDynamo, startLocalDynamo } from "../support/dynamo";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
  workItem,
} from "./support";

describe("Function: createRouteHandler work, a finished delivery's copy deferred on the queue's last receive", () => {
  let ddb: LocalDynamo;
  before(async () => {
    ddb = await startLocalDynamo("hookgate-dedupe-dead-over-done");
  });
  after(async () => {
    await ddb?.close();
  });

  const stores: Array<[string, () => DedupeStore]> = [
    ["MemoryDedupeStore", () => new MemoryDedupeStore({})],
    ["DynamoDedupeStore (dynalite)", () => new DynamoDedupeStore(ddb.client, ddb.tableName)],
  ];
  for (const [name, makeStore] of stores) {
    it(`${name}: the delivery stays done, its redelivery is answered duplicate and the action has run once`, async () => {
      const dedupe = makeStore();
      const queue = new RecordingQueue();
      const logs = new LogCollector();
      const runs: string[] = [];
      const deliveryId = `finished-${randomUUID()}`;
      const handler = createRouteHandler({
        route: jenkinsRoute(),
        secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
        queue,
        deadLetters: new RecordingDeadLetters(),
        dedupe,
        runAction: async (item) => {
          runs.push(item.deliveryId);
          if (item.deliveryId === "failing-head")
            throw new ActionError("Jenkins answered 503", { retryable: true });
          return { status: "done", detail: "queued as build 7" };
        },
        log: logs.log,
      });
      const receive = async () =>
        parseAnswer(await handler.receive(githubDelivery({ deliveryId }))).body.status;

      expect(await receive()).to.equal("queued");
      const body = workItemJson(queue.sent[0] as (typeof queue.sent)[number]);
      await handler.work(sqsEvent([sqsRecord(body, { group: "acme/api" })]));
      expect(await dedupe.state?.("api-build", deliveryId)).to.deep.include({ state: "done", generation: 1 });

      // A copy of the finished message, on its last receive, behind a failing message of its group: deferred.
      const head = sqsRecord(workItemJson(workItem({ deliveryId: "failing-head" })), { group: "acme/api" });
      const copy = sqsRecord(body, { group: "acme/api", receiveCount: MAX_RECEIVE_COUNT });
      const report = await handler.workRecords(sqsEvent([head, copy]));
      expect(report.records.map((r) => r.outcome)).to.deep.equal(["retry", "deferred"]);

      expect(await dedupe.state?.("api-build", deliveryId), "the delivery's recorded state").to.deep.include({
        state: "done",
        generation: 1,
      });
      // The Git host's redelivery of the finished delivery.
      expect(await receive()).to.equal("duplicate");
      expect(queue.sent).to.have.length(1);
      expect(runs.filter((id) => id === deliveryId)).to.have.length(1);
      // A mark that does not land is no failure: nothing is logged as one.
      expect(logs.of("dedupe mark failed")).to.deep.equal([]);
    });
  }
});
