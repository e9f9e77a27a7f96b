import { expect } from "chai";
import { WorkItemTooLargeError } from "../../src/core/errors";
import { MAX_WORK_ITEM_BYTES } from "../../src/core/policy";
import type { Route, WebhookEvent } from "../../src/core/types";
import { buildWorkItem, parseWorkItem, workItemJson, workItemTooLarge } from "../../src/gateway/workItem";
import { workItem } from "./support";

/** A valid item's JSON with `change` applied to the parsed object (a key set to undefined is dropped). */
function bodyWith(change: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(JSON.stringify(workItem({ deliveryId: "d-1" }))), ...change });
}

describe("Function: parseWorkItem", () => {
  const refused: Array<[string, string, string]> = [
    ["text that is not JSON", "{oops", "message body is not JSON"],
    ["JSON null", "null", "message body is not a JSON object"],
    ["a JSON array", "[1]", "message body is not a JSON object"],
    ["a JSON number", "42", "message body is not a JSON object"],
    ["a JSON string", '"work"', "message body is not a JSON object"],
    ["an item without a version", bodyWith({ v: undefined }), "unsupported work item version undefined"],
    ["an item of version 2", bodyWith({ v: 2 }), "unsupported work item version 2"],
    ['an item of version "1"', bodyWith({ v: "1" }), 'unsupported work item version "1"'],
    [
      "an item whose version is long text (quoted, cut to 20 characters)",
      bodyWith({ v: "v".repeat(100) }),
      `unsupported work item version "${"v".repeat(19)}`,
    ],
    ["an item without a route", bodyWith({ route: undefined }), "work item has no route"],
    ["an item whose route is not text", bodyWith({ route: 7 }), "work item has no route"],
    ["an item whose route is empty", bodyWith({ route: "" }), "work item has no route"],
    ["an item without a deliveryId", bodyWith({ deliveryId: undefined }), "work item has no deliveryId"],
    ["an item whose deliveryId is not text", bodyWith({ deliveryId: 7 }), "work item has no deliveryId"],
    ["an item whose deliveryId is empty", bodyWith({ deliveryId: "" }), "work item has no deliveryId"],
    [
      "an item without a generation",
      bodyWith({ generation: undefined }),
      "work item has no valid generation",
    ],
    ['an item of generation "1"', bodyWith({ generation: "1" }), "work item has no valid generation"],
    ["an item of generation 1.5", bodyWith({ generation: 1.5 }), "work item has no valid generation"],
    ["an item of generation 0", bodyWith({ generation: 0 }), "work item has no valid generation"],
    ["an item of generation -1", bodyWith({ generation: -1 }), "work item has no valid generation"],
    ["an item without acceptedAt", bodyWith({ acceptedAt: undefined }), "work item has no acceptedAt"],
    ["an item whose acceptedAt is a number", bodyWith({ acceptedAt: 1 }), "work item has no acceptedAt"],
    ["an item without an event", bodyWith({ event: undefined }), "work item has no event"],
    ["an item whose event is null", bodyWith({ event: null }), "work item has no event"],
    ["an item whose event is text", bodyWith({ event: "push" }), "work item has no event"],
    ["an item whose event has no repo", bodyWith({ event: { event: "push" } }), "work item has no event"],
    [
      "an item whose event's repo is null",
      bodyWith({ event: { event: "push", repo: null } }),
      "work item has no event",
    ],
    [
      "an item whose event's repo is text",
      bodyWith({ event: { event: "push", repo: "acme/api" } }),
      "work item has no event",
    ],
    ["an item without a request", bodyWith({ request: undefined }), "work item has no known action request"],
    ["an item whose request is null", bodyWith({ request: null }), "work item has no known action request"],
    [
      "an item whose request is text",
      bodyWith({ request: "jenkins" }),
      "work item has no known action request",
    ],
    [
      "an item whose request has an unknown type",
      bodyWith({ request: { type: "lambda" } }),
      "work item has no known action request",
    ],
  ];
  for (const [label, body, message] of refused) {
    it(`parseWorkItem refuses ${label}: ${JSON.stringify(message)}`, () => {
      // Exactly what is wrong, and nothing of the body: the message becomes a dead letter's reason.
      let thrown: unknown;
      try {
        parseWorkItem(body);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(Error);
      expect((thrown as Error).message).to.equal(message);
    });
  }

  for (const type of ["jenkins", "s3-zip", "pr-cleanup"]) {
    it(`parseWorkItem reads back an item whose request is of type ${type}`, () => {
      const body = bodyWith({ request: { type } });
      expect(parseWorkItem(body)).to.deep.equal(JSON.parse(body));
    });
  }

  it("parseWorkItem reads back what workItemJson wrote, generation 3 included", () => {
    const item = workItem({ deliveryId: "d-3", generation: 3 });
    expect(parseWorkItem(workItemJson(item))).to.deep.equal(item);
  });
});

describe("Function: workItemJson", () => {
  it("workItemJson writes U+FFFE and U+FFFF as \\u escapes of four hex digits and leaves other text as JSON.stringify does", () => {
    const item = workItem({ deliveryId: "d-escape" });
    item.event.branch = "a\uFFFEb\uFFFFc ç \u{1F600}";
    const json = workItemJson(item);
    expect(json).to.contain('"branch":"a\\ufffeb\\uffffc ç \u{1F600}"');
    expect(json).to.equal(JSON.stringify(item).replace("\uFFFE", "\\ufffe").replace("\uFFFF", "\\uffff"));
  });
});

describe("Function: workItemTooLarge", () => {
  it("workItemTooLarge lets a body of exactly MAX_WORK_ITEM_BYTES through and refuses one byte more", () => {
    expect(workItemTooLarge("x".repeat(MAX_WORK_ITEM_BYTES))).to.equal(undefined);
    const refusal = workItemTooLarge("x".repeat(MAX_WORK_ITEM_BYTES + 1));
    expect(refusal).to.be.instanceOf(WorkItemTooLargeError);
    expect(refusal?.bytes).to.equal(MAX_WORK_ITEM_BYTES + 1);
  });

  it("workItemTooLarge counts UTF-8 bytes, not characters: a body of two-byte characters over the limit in bytes is refused", () => {
    // SQS measures bytes: half as many "é" as the limit fits in characters but is over it in bytes.
    const body = "\u00e9".repeat(MAX_WORK_ITEM_BYTES / 2 + 1);
    expect(body.length).to.be.below(MAX_WORK_ITEM_BYTES);
    expect(workItemTooLarge(body)?.bytes).to.equal(MAX_WORK_ITEM_BYTES + 2);
  });
});

describe("Function: buildWorkItem", () => {
  const route = { name: "api-build" } as Route;
  const queued = workItem({ deliveryId: "d-build" });
  const event = {
    ...queued.event,
    changedFiles: ["src/a.ts"],
    payload: { secretish: "payload is never queued" },
  } as WebhookEvent;

  it("buildWorkItem carries the claim's generation and its accepted time, and queues the event without payload or changedFiles", () => {
    const item = buildWorkItem(route, event, queued.request, 4, Date.parse("2026-02-03T04:05:06.789Z"));
    expect(item.v).to.equal(1);
    expect(item.route).to.equal("api-build");
    expect(item.deliveryId).to.equal("d-build");
    expect(item.generation).to.equal(4);
    expect(item.acceptedAt).to.equal("2026-02-03T04:05:06.789Z");
    expect(item.request).to.deep.equal(queued.request);
    expect(item.event).to.deep.equal(queued.event);
    expect(item.event).to.not.have.property("payload");
    expect(item.event).to.not.have.property("changedFiles");
  });
});
