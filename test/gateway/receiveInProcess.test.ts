import { expect } from "chai";
import { headerBag } from "../../src/core/headers";
import { MAX_BODY_BYTES } from "../../src/core/policy";
import type { WorkQueue } from "../../src/core/ports";
import type { WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler, type InboundDelivery } from "../../src/gateway/routeHandler";
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

/** A delivery as `hookgate serve` hands it over: the raw bytes and a header bag, no proxy event. */
function inbound(raw: Buffer, signature: string, deliveryId: string, extra: Partial<InboundDelivery> = {}) {
  return {
    routeName: jenkinsRoute().name,
    method: "POST",
    headers: headerBag({
      "Content-Type": "application/json",
      "X-GitHub-Event": "push",
      "X-GitHub-Delivery": deliveryId,
      "X-Hub-Signature-256": signature,
    }),
    body: raw,
    sourceIp: "127.0.0.1",
    ...extra,
  } satisfies InboundDelivery;
}

describe("deliver: the receive path for in-process callers (hookgate serve)", () => {
  const raw = Buffer.from(JSON.stringify(pushPayload()), "utf8");

  it("deliver verifies and queues the raw bytes, answering with the body as an object", async () => {
    const queue = new RecordingQueue();
    const answer = await handlerWith(queue).deliver(inbound(raw, sign(WEBHOOK_SECRET, raw), "d-raw"));
    expect(answer.statusCode).to.equal(202);
    expect(answer.body).to.include({ status: "queued", delivery: "d-raw" });
    expect(answer.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(queue.sent.map((i: WorkItem) => i.deliveryId)).to.deep.equal(["d-raw"]);
  });

  it("deliver rejects bytes signed with another secret with 401", async () => {
    const answer = await handlerWith(new RecordingQueue()).deliver(
      inbound(raw, sign("another", raw), "d-raw-bad"),
    );
    expect(answer.statusCode).to.equal(401);
    expect(answer.body.status).to.equal("rejected");
  });

  it("deliver answers 413 for bytes over the body limit", async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const answer = await handlerWith(new RecordingQueue()).deliver(inbound(big, "sha256=00", "d-big"));
    expect(answer.statusCode).to.equal(413);
  });

  it("deliver answers 404 for another route's name and 405 for a GET, before reading the body", async () => {
    const handler = handlerWith(new RecordingQueue());
    const unread = () => {
      throw new Error("the body must not be read");
    };
    const other = await handler.deliver(inbound(raw, "", "d-404", { routeName: "other", body: unread }));
    expect(other.statusCode).to.equal(404);
    const get = await handler.deliver(inbound(raw, "", "d-405", { method: "GET", body: unread }));
    expect(get.statusCode).to.equal(405);
    expect(get.headers.allow).to.equal("POST");
  });

  it("receive answers with the JSON of the same body deliver gives", async () => {
    const handler = handlerWith(new RecordingQueue());
    const viaProxy = parseAnswer(await handler.receive(githubDelivery({ body: raw, deliveryId: "d-same" })));
    const direct = await handler.deliver(inbound(raw, sign(WEBHOOK_SECRET, raw), "d-same-2"));
    expect(viaProxy.statusCode).to.equal(direct.statusCode);
    expect({ ...viaProxy.body, delivery: null }).to.deep.equal({ ...direct.body, delivery: null });
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
