import { expect } from "chai";
import { MAX_BODY_BYTES } from "../../src/core/policy";
import type { WorkQueue } from "../../src/core/ports";
import type { WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler, RAW_BODY, receiveBodyOf } from "../../src/gateway/routeHandler";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  parseAnswer,
  pushPayload,
  RecordingDeadLetters,
  RecordingQueue,
  sign,
  WEBHOOK_SECRET,
} from "./support";

const SECRET_NAME = "hookgate/github-webhook";

function handlerWith(queue: WorkQueue, receiveTimeoutMs?: number) {
  return createRouteHandler({
    route: jenkinsRoute(),
    secrets: new MemorySecretStore({ [SECRET_NAME]: WEBHOOK_SECRET }),
    queue,
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "" }),
    log: () => {},
    receiveTimeoutMs,
  });
}

/** A delivery whose bytes travel under RAW_BODY (as `hookgate serve` passes them), with `body` left empty. */
function attached(raw: Buffer, signature: string, deliveryId: string) {
  const event = githubDelivery({ deliveryId, signature, payload: JSON.parse(raw.toString("utf8")) });
  return Object.assign(event, { body: "", isBase64Encoded: true, [RAW_BODY]: raw });
}

describe("receive for in-process callers (hookgate serve)", () => {
  it("receive verifies and queues the bytes attached under RAW_BODY", async () => {
    const queue = new RecordingQueue();
    const raw = Buffer.from(JSON.stringify(pushPayload()), "utf8");
    const answer = parseAnswer(
      await handlerWith(queue).receive(attached(raw, sign(WEBHOOK_SECRET, raw), "d-raw")),
    );
    expect(answer.statusCode).to.equal(202);
    expect(queue.sent.map((i: WorkItem) => i.deliveryId)).to.deep.equal(["d-raw"]);
  });

  it("receive rejects attached bytes signed with another secret with 401", async () => {
    const raw = Buffer.from(JSON.stringify(pushPayload()), "utf8");
    const answer = parseAnswer(
      await handlerWith(new RecordingQueue()).receive(attached(raw, sign("another", raw), "d-raw-bad")),
    );
    expect(answer.statusCode).to.equal(401);
  });

  it("receive answers 413 for attached bytes over the body limit", async () => {
    const raw = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const event = attached(Buffer.from(JSON.stringify(pushPayload())), "sha256=00", "d-big");
    (event as unknown as Record<symbol, Buffer>)[RAW_BODY] = raw;
    const answer = parseAnswer(await handlerWith(new RecordingQueue()).receive(event));
    expect(answer.statusCode).to.equal(413);
  });

  it("receiveBodyOf gives the object an answer's body was made from", async () => {
    const result = await handlerWith(new RecordingQueue()).receive(githubDelivery({ deliveryId: "d-body" }));
    expect(receiveBodyOf(result)).to.deep.equal(JSON.parse(result.body));
    expect(receiveBodyOf({ statusCode: 200, body: "{}" })).to.equal(undefined);
  });

  it("receive times out each hanging request while requests around it are answered", async () => {
    const queue: WorkQueue = {
      send: (item) =>
        item.deliveryId.startsWith("d-hang") ? new Promise<void>(() => {}) : Promise.resolve(),
    };
    const handler = handlerWith(queue, 40);
    const first = handler.receive(githubDelivery({ deliveryId: "d-hang-1" }));
    const quick = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-quick" })));
    expect(quick.statusCode).to.equal(202);
    expect(parseAnswer(await first).statusCode).to.equal(503);
    // A later hanging request gets its own deadline too (the shared timer is armed again).
    const second = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "d-hang-2" })));
    expect(second.statusCode).to.equal(503);
    expect(second.body.status).to.equal("unavailable");
  });
});
