// What the README's "Replayed deliveries" says, kept true: a body-only signature does not cover the delivery
// id, so a copy under a new id is accepted and queued again (hookgate does not deduplicate on the body: two
// legitimate deliveries can have the same bytes). GitLab's signing token covering webhook-id is tested in
// test/core/verify/standardWebhooks.test.ts ("a signature whose webhook-id header was changed").
import { expect } from "chai";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  pushPayload,
  RecordingDeadLetters,
  RecordingQueue,
  WEBHOOK_SECRET,
} from "./support";

describe("Replayed deliveries under a new delivery id (README: Replayed deliveries)", () => {
  it("a signed GitHub body posted again under a new X-GitHub-Delivery is queued again, and under the same id is a duplicate", async () => {
    const queue = new RecordingQueue();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue,
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore({}),
      runAction: async () => {
        throw new Error("not at receive time");
      },
      log: new LogCollector().log,
    });
    const body = Buffer.from(JSON.stringify(pushPayload()), "utf8");
    const receive = async (deliveryId: string) =>
      parseAnswer(await handler.receive(githubDelivery({ body, deliveryId }))).statusCode;
    expect(await receive("original-id")).to.equal(202);
    expect(await receive("original-id")).to.equal(200);
    expect(await receive("replayed-id")).to.equal(202);
    expect(queue.sent).to.have.length(2);
  });
});
