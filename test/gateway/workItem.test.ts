import { expect } from "chai";
import { parseWorkItem, workItemJson } from "../../src/gateway/workItem";
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
