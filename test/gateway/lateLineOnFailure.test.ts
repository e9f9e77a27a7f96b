// The receive path's late delivery line when the work its deadline cut off fails by throwing (not a 503 the
// enqueue's own catch answers): the 503 line must not be the last word on the delivery.
import { expect } from "chai";
import { TransientDependencyError } from "../../src/core/errors";
import type { ClaimResult } from "../../src/core/ports";
import type { WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  WEBHOOK_SECRET,
} from "./support";

const SECRET_NAME = "hookgate/github-webhook";

/** A dedupe store whose claim waits until `fail` is called, then fails as a throttled DynamoDB does. */
class ClaimFailsLate extends MemoryDedupeStore {
  fail: () => void = () => {};
  override claim(): Promise<ClaimResult> {
    return new Promise((_resolve, reject) => {
      this.fail = () => reject(new TransientDependencyError("DynamoDB dedupe claim failed: throttled"));
    });
  }
}

/** Every callback queued by now has run: the handler's chains are promise-only, with no I/O. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe("Function: createRouteHandler receive, when the work the deadline cut off fails by throwing", () => {
  it("receive writes a second delivery line (late, unavailable, with the error) when the dedupe claim the deadline cut off fails after the 503, so the 503 line is not the last word on the delivery", async () => {
    const dedupe = new ClaimFailsLate();
    const logs = new LogCollector();
    const sent: WorkItem[] = [];
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
      queue: { send: async (item) => void sent.push(item) },
      deadLetters: new RecordingDeadLetters(),
      dedupe,
      runAction: async () => ({ status: "done", detail: "" }),
      log: (line) => logs.log(line),
      receiveTimeoutMs: 20,
    });
    const answer = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-late-claim" })));
    expect(answer.statusCode).to.equal(503);
    expect(logs.of("delivery")).to.have.length(1);

    dedupe.fail();
    await settled();

    const lines = logs.of("delivery");
    expect(lines).to.have.length(2);
    expect(lines[1]).to.deep.include({
      deliveryId: "d-late-claim",
      level: "error",
      decision: "unavailable",
      status: 503,
      late: true,
      error: "DynamoDB dedupe claim failed: throttled",
    });
    expect(sent).to.deep.equal([]);
  });
});
