// The receive path's calls to DynamoDB and SQS end at the receive deadline: the SDK is given an abort signal, so
// no try of them (nor an SDK retry, which a thawed instance would start minutes after its 503) lands later.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { DynamoDedupeStore } from "../../src/aws/dedupe";
import { SqsWorkQueue } from "../../src/aws/sqs";
import { TransientDependencyError } from "../../src/core/errors";
import type { WorkItem } from "../../src/core/types";

/** A client that never answers, as the SDK does when a call's abort signal fires: the call rejects then. */
function hangingClient(): {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<never>;
} {
  return {
    send: (_command, options) =>
      new Promise<never>((_, reject) => {
        const signal = options?.abortSignal;
        if (!signal) return; // no deadline: it hangs for ever (the test times out)
        const abort = () => reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        if (signal.aborted) abort();
        else signal.addEventListener("abort", abort);
      }),
  };
}

const ITEM = {
  v: 1,
  route: "api-build",
  deliveryId: "d-1",
  generation: 1,
  acceptedAt: "2026-01-01T00:00:00.000Z",
  event: {
    provider: "github",
    deliveryId: "d-1",
    event: "push",
    repo: { owner: "a", name: "b", fullName: "a/b" },
  },
  request: {
    type: "jenkins",
    jenkins: { url: "https://j.example.com", crumb: false },
    job: ["b"],
    parameters: {},
  },
} as unknown as WorkItem;

describe("The receive path's AWS calls end at the receive deadline given as CallLimits", () => {
  const past = () => ({ deadlineMs: Date.now() - 1 });

  it("SqsWorkQueue.send(item, limits) gives SQS the deadline: a send past it is cut short, as a transient failure", async () => {
    const queue = new SqsWorkQueue(hangingClient() as unknown as SQSClient, "https://sqs.example/q.fifo");
    const error = await queue.send(ITEM, past()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect((error as Error).message).to.match(/SQS SendMessage to the work queue failed: cut short/);
  });

  it("DynamoDedupeStore.claim(route, id, limits) gives DynamoDB the deadline: a claim past it is cut short, as a transient failure", async () => {
    const store = new DynamoDedupeStore(hangingClient() as unknown as DynamoDBClient, "t");
    const error = await store.claim("api-build", "d-1", past()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect((error as Error).message).to.match(/DynamoDB dedupe claim failed: cut short/);
  });

  it("DynamoDedupeStore.release(route, id, generation, limits) gives DynamoDB the deadline: a release past it is cut short", async () => {
    const store = new DynamoDedupeStore(hangingClient() as unknown as DynamoDBClient, "t");
    const error = await store.release("api-build", "d-1", 1, past()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect((error as Error).message).to.match(/DynamoDB dedupe release failed: cut short/);
  });
});

describe("DynamoDedupeStore.claim's follow-up calls end at the same receive deadline", () => {
  /**
   * A client whose first call (the claim's UpdateItem) fails its condition with `item` as the old item, and whose
   * later calls hang until their abort signal fires; it records whether each call was given one.
   */
  function conditionThenHanging(item: Record<string, unknown> | undefined) {
    const signalled: boolean[] = [];
    const hanging = hangingClient();
    return {
      signalled,
      client: {
        send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<never> {
          signalled.push(options?.abortSignal !== undefined);
          if (signalled.length === 1) {
            const failed = Object.assign(new Error("The conditional request failed"), {
              name: "ConditionalCheckFailedException",
              ...(item === undefined ? {} : { Item: item }),
            });
            return Promise.reject(failed);
          }
          if (!options?.abortSignal) return Promise.reject(new Error("called without the deadline"));
          return hanging.send(command, options);
        },
      },
    };
  }

  const cases: Array<{ call: string; old: Record<string, unknown> | undefined }> = [
    // No old item in the answer: the claim reads the item (GetItem).
    { call: "the read of the item its condition failed on", old: undefined },
    // Another request's claim, pending past the pending TTL: the claim takes it over (UpdateItem).
    {
      call: "the takeover of an abandoned pending claim",
      old: {
        state: { S: "pending" },
        generation: { N: "1" },
        updatedAt: { N: "0" },
        claimToken: { S: "another request's" },
      },
    },
  ];
  for (const { call, old } of cases) {
    it(`${call} is given the claim's deadline: past it, it is cut short as a transient failure`, async () => {
      const { client, signalled } = conditionThenHanging(old);
      const store = new DynamoDedupeStore(client as unknown as DynamoDBClient, "t");
      const error = await store.claim("api-build", "d-1", { deadlineMs: Date.now() - 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(signalled).to.deep.equal([true, true]);
      expect(error).to.be.instanceOf(TransientDependencyError);
      expect((error as Error).message).to.match(/DynamoDB dedupe (claim|read) failed: cut short/);
    });
  }
});
