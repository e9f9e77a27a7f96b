import { createHash } from "node:crypto";
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import {
  CLAIM_CONDITION,
  DynamoDedupeStore,
  dedupeKey,
  MARK_CONDITION,
  TAKEOVER_CONDITION,
} from "../../src/aws/dedupe";
import { TransientDependencyError } from "../../src/core/errors";
import { DEDUPE_TTL_SECONDS } from "../../src/core/policy";

const TABLE = "hookgate-dedupe";

/** The token a claim's UpdateItem wrote. */
function claimToken(
  input: { ExpressionAttributeValues?: Record<string, { S?: string }> } | undefined,
): string {
  return String(input?.ExpressionAttributeValues?.[":token"]?.S);
}
const NOW = 1_800_000_000_000;
/** The attribute names a claim and a takeover send, each used by their expressions. */
const CLAIM_ATTRIBUTE_NAMES = {
  "#state": "state",
  "#generation": "generation",
  "#updatedAt": "updatedAt",
  "#expiresAt": "expiresAt",
  "#firstClaimedAt": "firstClaimedAt",
  "#claimToken": "claimToken",
};

function conditionFailed(item?: Record<string, { S?: string; N?: string }>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: "The conditional request failed",
    $metadata: { httpStatusCode: 400 },
    Item: item as never,
  });
}

describe("Class: DynamoDedupeStore", () => {
  const client = new DynamoDBClient({ region: "eu-west-1" });
  const stub = () => mockClient(client);
  let ddb: ReturnType<typeof stub>;
  before(() => {
    ddb = stub();
  });
  const store = new DynamoDedupeStore(client, TABLE, { now: () => NOW });
  beforeEach(() => ddb.reset());
  after(() => ddb.restore());

  it("claim(route, id) is one conditional UpdateItem: pending, generation + 1, TTL = now + DEDUPE_TTL_SECONDS", async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "1" }, state: { S: "pending" } } });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({ claimed: true, generation: 1 });
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.TableName).to.equal(TABLE);
    expect(input?.Key).to.deep.equal({ pk: { S: "api-build#d-1" } });
    expect(input?.ConditionExpression).to.equal(
      "attribute_not_exists(pk) OR #state = :dead OR #expiresAt < :nowSeconds",
    );
    expect(input?.ConditionExpression).to.equal(CLAIM_CONDITION);
    expect(input?.UpdateExpression).to.contain("#generation = if_not_exists(#generation, :zero) + :one");
    expect(input?.ExpressionAttributeNames).to.include({ "#state": "state", "#expiresAt": "expiresAt" });
    const values = input?.ExpressionAttributeValues ?? {};
    expect(values[":pending"]).to.deep.equal({ S: "pending" });
    expect(values[":dead"]).to.deep.equal({ S: "dead" });
    expect(values[":expires"]).to.deep.equal({ N: String(NOW / 1000 + DEDUPE_TTL_SECONDS) });
    expect(input?.ReturnValues).to.equal("ALL_NEW");
    expect(input?.ReturnValuesOnConditionCheckFailure).to.equal("ALL_OLD");
  });

  it("claim(route, id) returns the generation DynamoDB computed (a redelivery after the delivery died)", async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "2" }, state: { S: "pending" } } });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({ claimed: true, generation: 2 });
  });

  it("claim(route, id) sets firstClaimedAt only where the item has none, and returns the one the item keeps (a redelivery is ordered by the first)", async () => {
    const FIRST = NOW - 3_600_000;
    ddb.on(UpdateItemCommand).resolves({
      Attributes: { generation: { N: "2" }, state: { S: "pending" }, firstClaimedAt: { N: String(FIRST) } },
    });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: FIRST,
    });
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).to.contain("#firstClaimedAt = if_not_exists(#firstClaimedAt, :now)");
    expect(input?.ExpressionAttributeNames).to.include({ "#firstClaimedAt": "firstClaimedAt" });
    expect(input?.ExpressionAttributeValues?.[":now"]).to.deep.equal({ N: String(NOW) });
  });

  it("mark(...) names no firstClaimedAt: DynamoDB refuses an expression attribute name the expression does not use", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.mark("api-build", "d-1", 1, "done");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ExpressionAttributeNames).not.to.have.property("#firstClaimedAt");
  });

  for (const state of ["queued", "done", "pending"] as const) {
    it(`claim(route, id) reports {claimed: false, state: ${state}} from the old item when the condition fails`, async () => {
      ddb.on(UpdateItemCommand).rejects(conditionFailed({ state: { S: state }, generation: { N: "3" } }));
      expect(await store.claim("api-build", "d-1")).to.deep.equal({ claimed: false, state, generation: 3 });
      expect(ddb.commandCalls(GetItemCommand)).to.have.length(0);
    });
  }

  it("claim(route, id) takes over a pending claim abandoned more than 60 s ago (or released) as the same generation, so SQS deduplicates its work item against a send that reached the queue after all", async () => {
    const FIRST = NOW - 120_000;
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailed({
          state: { S: "pending" },
          generation: { N: "3" },
          updatedAt: { N: "0" },
          firstClaimedAt: { N: String(FIRST) },
        }),
      )
      .resolves({
        Attributes: { state: { S: "pending" }, generation: { N: "3" }, firstClaimedAt: { N: String(FIRST) } },
      });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: true,
      generation: 3,
      firstClaimedAtMs: FIRST,
    });
    const takeover = ddb.commandCalls(UpdateItemCommand)[1]?.args[0].input;
    expect(takeover?.ConditionExpression).to.equal(TAKEOVER_CONDITION);
    expect(takeover?.ConditionExpression).to.equal(
      "#state = :pending AND #updatedAt < :stale AND #generation = :g",
    );
    expect(takeover?.UpdateExpression).to.equal(
      "SET #updatedAt = :now, #expiresAt = :expires, #firstClaimedAt = if_not_exists(#firstClaimedAt, :now), #claimToken = :token",
    );
    expect(takeover?.ExpressionAttributeNames).to.deep.equal(CLAIM_ATTRIBUTE_NAMES);
    expect(takeover?.ExpressionAttributeValues).to.deep.equal({
      ":pending": { S: "pending" },
      ":g": { N: "3" },
      ":now": { N: String(NOW) },
      ":stale": { N: String(NOW - 60_000) },
      ":expires": { N: String(NOW / 1000 + DEDUPE_TTL_SECONDS) },
      ":token": { S: claimToken(ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input) },
    });
  });

  it("claim(route, id) leaves a pending claim younger than 60 s alone (in progress), writing nothing more", async () => {
    ddb.on(UpdateItemCommand).rejects(
      conditionFailed({
        state: { S: "pending" },
        generation: { N: "3" },
        updatedAt: { N: String(NOW - 60_000) },
      }),
    );
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: false,
      state: "pending",
      generation: 3,
    });
    expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(1);
  });

  it("claim(route, id) claims afresh when the item changed before its takeover (the work path marked it dead: the next generation)", async () => {
    const abandoned = { state: { S: "pending" }, generation: { N: "3" }, updatedAt: { N: "0" } };
    ddb
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(abandoned))
      .rejectsOnce(conditionFailed())
      .resolves({ Attributes: { generation: { N: "4" } } });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({ claimed: true, generation: 4 });
    const conditions = ddb
      .commandCalls(UpdateItemCommand)
      .map((call) => call.args[0].input.ConditionExpression);
    expect(conditions).to.deep.equal([CLAIM_CONDITION, TAKEOVER_CONDITION, CLAIM_CONDITION]);
  });

  it("claim(route, id) gives up (503) when an abandoned claim keeps changing under its takeover, never looping", async () => {
    ddb
      .on(UpdateItemCommand)
      .rejects(conditionFailed({ state: { S: "pending" }, generation: { N: "3" }, updatedAt: { N: "0" } }));
    const error = await store.claim("api-build", "d-1").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(6);
  });

  it("claim(route, id) reads the item with a consistent GetItem when the failure carries no item", async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb
      .on(GetItemCommand)
      .resolves({ Item: { pk: { S: "api-build#d-1" }, state: { S: "done" }, generation: { N: "1" } } });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 1,
    });
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).to.deep.equal({
      TableName: TABLE,
      Key: { pk: { S: "api-build#d-1" } },
      ConsistentRead: true,
    });
  });

  it("claim(route, id) claims again when the item is gone by the read, but gives up (503) after 3 tries, never looping", async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({});
    const error = await store.claim("api-build", "d-1").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(3);
  });

  it("claim(route, id) maps throttling to TransientDependencyError", async () => {
    ddb
      .on(UpdateItemCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: "slow", $metadata: { httpStatusCode: 400 } }),
      );
    expect(await store.claim("r", "d").catch((e) => e)).to.be.instanceOf(TransientDependencyError);
  });

  it("claim(route, id) maps a missing table to TransientDependencyError (503: our fault, redeliverable)", async () => {
    ddb.on(UpdateItemCommand).rejects(
      Object.assign(new Error("Requested resource not found"), {
        name: "ResourceNotFoundException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await store.claim("r", "d").catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(error.message).to.contain("not transient");
  });

  it("mark(route, id, generation, state) updates state and TTL only for that generation; dead never over done", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.mark("api-build", "d-1", 2, "dead");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.Key).to.deep.equal({ pk: { S: "api-build#d-1" } });
    expect(input?.ConditionExpression).to.equal("#generation = :g AND #state <> :done");
    expect(input?.ExpressionAttributeValues?.[":done"]).to.deep.equal({ S: "done" });
    expect(input?.ExpressionAttributeValues?.[":g"]).to.deep.equal({ N: "2" });
    expect(input?.ExpressionAttributeValues?.[":state"]).to.deep.equal({ S: "dead" });
    expect(input?.ExpressionAttributeValues?.[":expires"]).to.deep.equal({
      N: String(NOW / 1000 + DEDUPE_TTL_SECONDS),
    });
    ddb.reset();
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await store.mark("api-build", "d-1", 2, "dead"); // already done: quietly kept, not an error to retry
  });

  it('mark(route, id, generation, "queued") writes only over the pending claim (the work path may have finished it)', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.mark("api-build", "d-1", 2, "queued");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).to.equal("#generation = :g AND #state = :pending");
    expect(input?.ExpressionAttributeValues?.[":pending"]).to.deep.equal({ S: "pending" });
    ddb.reset();
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await store.mark("api-build", "d-1", 2, "queued"); // already done or dead: quietly kept
  });

  it('mark(route, id, generation, "done") writes over that generation, or over a newer one that is dead or pending (not queued)', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.mark("api-build", "d-1", 2, "done");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).to.equal(
      "#generation = :g OR (#generation > :g AND #state IN (:dead, :pending))",
    );
    expect(input?.ConditionExpression).to.equal(MARK_CONDITION.done);
    expect(input?.ExpressionAttributeValues?.[":dead"]).to.deep.equal({ S: "dead" });
    expect(input?.ExpressionAttributeValues?.[":pending"]).to.deep.equal({ S: "pending" });
    expect(input?.UpdateExpression).to.not.contain("#generation");
  });

  it("mark(...) of an older generation is ignored quietly (a newer one owns the item)", async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await store.mark("api-build", "d-1", 1, "dead");
    // It did ask, conditioned on its own generation (a mark that sent nothing would pass the line above too).
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ExpressionAttributeValues?.[":g"]).to.deep.equal({ N: "1" });
    expect(input?.ConditionExpression).to.equal(MARK_CONDITION.dead);
  });

  it("release(route, id, generation) makes only that pending claim look abandoned, keeping the generation", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.release("api-build", "d-1", 4);
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).to.equal("#generation = :g AND #state = :pending");
    expect(input?.UpdateExpression).to.equal("SET #updatedAt = :zero");
    expect(input?.ExpressionAttributeValues).to.deep.include({
      ":g": { N: "4" },
      ":pending": { S: "pending" },
    });
  });

  it("state(route, id) reads the item with a consistent GetItem", async () => {
    ddb
      .on(GetItemCommand)
      .resolves({ Item: { pk: { S: "api-build#d-1" }, state: { S: "done" }, generation: { N: "2" } } });
    expect(await store.state("api-build", "d-1")).to.deep.equal({ state: "done", generation: 2 });
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).to.deep.include({ ConsistentRead: true });
    ddb.on(GetItemCommand).resolves({});
    expect(await store.state("api-build", "d-2")).to.equal(undefined);
  });

  it("claim(route, id) sends exactly the values its expressions name (DynamoDB rejects an unused or missing one)", async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "1" } } });
    await store.claim("api-build", "d-1");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).to.equal(
      "SET #state = :pending, #generation = if_not_exists(#generation, :zero) + :one, #updatedAt = :now, #expiresAt = :expires, #firstClaimedAt = if_not_exists(#firstClaimedAt, :now), #claimToken = :token",
    );
    expect(input?.ExpressionAttributeNames).to.deep.equal(CLAIM_ATTRIBUTE_NAMES);
    expect(input?.ExpressionAttributeValues).to.deep.equal({
      ":pending": { S: "pending" },
      ":dead": { S: "dead" },
      ":zero": { N: "0" },
      ":one": { N: "1" },
      ":now": { N: String(NOW) },
      ":nowSeconds": { N: String(NOW / 1000) },
      ":expires": { N: String(NOW / 1000 + DEDUPE_TTL_SECONDS) },
      ":token": { S: claimToken(input) },
    });
  });

  it("claim(route, id) writes a token of its own with each claim, a new one per claim", async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "1" } } });
    await store.claim("api-build", "d-1");
    await store.claim("api-build", "d-1");
    const [first, second] = ddb.commandCalls(UpdateItemCommand).map((call) => claimToken(call.args[0].input));
    expect(first).to.match(/^[0-9a-f-]{36}$/);
    expect(second).to.match(/^[0-9a-f-]{36}$/);
    expect(first).not.to.equal(second);
  });

  const retried: Array<{ label: string; arrange: (d: typeof ddb) => void }> = [
    {
      label: "a claim made again when the item is gone by the read",
      arrange: (d) => {
        d.on(UpdateItemCommand)
          .rejectsOnce(conditionFailed())
          .resolves({ Attributes: { generation: { N: "1" } } });
        d.on(GetItemCommand).resolves({});
      },
    },
    {
      label: "the takeover of an abandoned claim",
      arrange: (d) => {
        d.on(UpdateItemCommand)
          .rejectsOnce(
            conditionFailed({ state: { S: "pending" }, generation: { N: "3" }, updatedAt: { N: "0" } }),
          )
          .resolves({ Attributes: { generation: { N: "3" } } });
      },
    },
    {
      label: "a claim made afresh when the item changed under the takeover",
      arrange: (d) => {
        d.on(UpdateItemCommand)
          .rejectsOnce(
            conditionFailed({ state: { S: "pending" }, generation: { N: "3" }, updatedAt: { N: "0" } }),
          )
          .rejectsOnce(conditionFailed())
          .resolves({ Attributes: { generation: { N: "4" } } });
      },
    },
  ];
  for (const { label, arrange } of retried) {
    it(`claim(route, id, limits, token) writes the caller's token with ${label}, so the caller's release by that token names it`, async () => {
      arrange(ddb);
      expect((await store.claim("api-build", "d-1", undefined, "the-caller's-token")).claimed).to.equal(true);
      const tokens = ddb.commandCalls(UpdateItemCommand).map((call) => claimToken(call.args[0].input));
      expect(tokens.length).to.be.greaterThan(1);
      expect(new Set(tokens)).to.deep.equal(new Set(["the-caller's-token"]));
    });
  }

  it("claim(route, id) knows its own claim, applied by a try whose answer was lost, when the SDK's retry fails the condition: claimed, not in progress", async () => {
    const FIRST = NOW - 5_000;
    ddb
      .on(UpdateItemCommand)
      .callsFake((input: { ExpressionAttributeValues?: Record<string, { S?: string }> }) => {
        throw conditionFailed({
          state: { S: "pending" },
          generation: { N: "2" },
          updatedAt: { N: String(NOW) },
          firstClaimedAt: { N: String(FIRST) },
          claimToken: { S: input.ExpressionAttributeValues?.[":token"]?.S as string },
        });
      });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: FIRST,
    });
    expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(1);
  });

  // An older generation's redriven letter ran the action and marked done over this claim's generation (MARK_CONDITION
  // keeps its number and token) between the claim's try whose answer was lost and the SDK's retry: the item holds
  // this claim's token, but the action ran. Taken for this claim's own write, the delivery would run again.
  it("claim(route, id) reports its own claim's item, found done when the SDK's retry fails the condition, as done, not claimed", async () => {
    ddb
      .on(UpdateItemCommand)
      .callsFake((input: { ExpressionAttributeValues?: Record<string, { S?: string }> }) => {
        throw conditionFailed({
          state: { S: "done" },
          generation: { N: "2" },
          updatedAt: { N: String(NOW) },
          claimToken: { S: input.ExpressionAttributeValues?.[":token"]?.S as string },
        });
      });
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: false,
      state: "done",
      generation: 2,
    });
    expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(1);
  });

  it("claim(route, id) takes another request's fresh pending claim for one in progress, whatever its token", async () => {
    ddb.on(UpdateItemCommand).rejects(
      conditionFailed({
        state: { S: "pending" },
        generation: { N: "2" },
        updatedAt: { N: String(NOW) },
        claimToken: { S: "another-request" },
      }),
    );
    expect(await store.claim("api-build", "d-1")).to.deep.equal({
      claimed: false,
      state: "pending",
      generation: 2,
    });
  });

  it("claim(route, id) takes generation 1 when DynamoDB's answer carries no attributes", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    expect(await store.claim("api-build", "d-1")).to.deep.equal({ claimed: true, generation: 1 });
  });

  const oddItems: Array<
    [string, Record<string, { S?: string; N?: string }>, { state: string; generation: number }]
  > = [
    ["no generation", { state: { S: "queued" } }, { state: "queued", generation: 0 }],
    [
      "a generation stored as text",
      { state: { S: "done" }, generation: { S: "2" } },
      { state: "done", generation: 0 },
    ],
    [
      "a generation that is no number",
      { state: { S: "done" }, generation: { N: "x" } },
      { state: "done", generation: 0 },
    ],
    ["no state", { generation: { N: "2" } }, { state: "pending", generation: 2 }],
    [
      "an unknown state",
      { state: { S: "finished" }, generation: { N: "2" } },
      { state: "pending", generation: 2 },
    ],
    [
      "a state stored as a number",
      { state: { N: "1" }, generation: { N: "2" } },
      { state: "pending", generation: 2 },
    ],
  ];
  for (const [label, item, expected] of oddItems) {
    it(`claim(route, id) reads an old item with ${label} as ${JSON.stringify(expected)} (in progress when unsure)`, async () => {
      ddb.on(UpdateItemCommand).rejects(conditionFailed(item));
      expect(await store.claim("api-build", "d-1")).to.deep.equal({ claimed: false, ...expected });
    });
  }

  it("claim(route, id) says what failed, and keeps the SDK error as the cause", async () => {
    const throttled = new ProvisionedThroughputExceededException({
      message: "slow",
      $metadata: { httpStatusCode: 400 },
    });
    ddb.on(UpdateItemCommand).rejects(throttled);
    const error = await store.claim("r", "d").catch((e) => e);
    expect(error.message).to.equal(
      "DynamoDB dedupe claim failed: ProvisionedThroughputExceededException: slow",
    );
    expect(error.cause).to.equal(throttled);
    ddb.reset();
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({});
    expect((await store.claim("r", "d").catch((e) => e)).message).to.equal(
      "DynamoDB dedupe claim failed: its condition kept failing on an item that is not there",
    );
  });

  it("claim(route, id) answers 503 (TransientDependencyError) when the read after a failed condition fails", async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb
      .on(GetItemCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: "slow", $metadata: { httpStatusCode: 400 } }),
      );
    const error = await store.claim("r", "d").catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(error.message).to.equal(
      "DynamoDB dedupe read failed: ProvisionedThroughputExceededException: slow",
    );
  });

  it('mark(route, id, generation, "done") sends exactly the values its expressions name', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.mark("api-build", "d-1", 2, "done");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).to.equal("SET #state = :state, #updatedAt = :now, #expiresAt = :expires");
    expect(input?.ExpressionAttributeValues).to.deep.equal({
      ":state": { S: "done" },
      ":g": { N: "2" },
      ":now": { N: String(NOW) },
      ":expires": { N: String(NOW / 1000 + DEDUPE_TTL_SECONDS) },
      ":pending": { S: "pending" },
      ":dead": { S: "dead" },
    });
  });

  it("mark(...) fails with TransientDependencyError when DynamoDB fails for another reason than its condition", async () => {
    ddb
      .on(UpdateItemCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: "slow", $metadata: { httpStatusCode: 400 } }),
      );
    const error = await store.mark("api-build", "d-1", 2, "done").catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(error.message).to.equal(
      "DynamoDB dedupe mark failed: ProvisionedThroughputExceededException: slow",
    );
  });

  it("release(route, id, generation) sends exactly the names and values its expressions use", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.release("api-build", "d-1", 4);
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.TableName).to.equal(TABLE);
    expect(input?.Key).to.deep.equal({ pk: { S: "api-build#d-1" } });
    expect(input?.ExpressionAttributeNames).to.deep.equal({
      "#generation": "generation",
      "#state": "state",
      "#updatedAt": "updatedAt",
    });
    expect(input?.ExpressionAttributeValues).to.deep.equal({
      ":g": { N: "4" },
      ":pending": { S: "pending" },
      ":zero": { N: "0" },
    });
  });

  it("release(...) is quiet when the claim moved on (its condition failed), and a TransientDependencyError otherwise", async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await store.release("api-build", "d-1", 4);
    ddb.reset();
    ddb
      .on(UpdateItemCommand)
      .rejects(
        new ProvisionedThroughputExceededException({ message: "slow", $metadata: { httpStatusCode: 400 } }),
      );
    const error = await store.release("api-build", "d-1", 4).catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(error.message).to.equal(
      "DynamoDB dedupe release failed: ProvisionedThroughputExceededException: slow",
    );
  });

  it("state(route, id) reads the item under the dedupe key, and reports dead as dead", async () => {
    ddb.on(GetItemCommand).resolves({ Item: { state: { S: "dead" }, generation: { N: "3" } } });
    expect(await store.state("api-build", "d-1")).to.deep.equal({ state: "dead", generation: 3 });
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input).to.deep.equal({
      TableName: TABLE,
      Key: { pk: { S: "api-build#d-1" } },
      ConsistentRead: true,
    });
  });

  it("dedupeKey keeps a key of exactly 1024 UTF-8 bytes and hashes the delivery id of one byte more", () => {
    const fits = "é".repeat(511); // "r#" + 1022 bytes
    expect(dedupeKey("r", fits)).to.equal(`r#${fits}`);
    const over = `${fits}x`;
    expect(dedupeKey("r", over)).to.equal(
      `r#sha256:${createHash("sha256").update(over, "utf8").digest("hex")}`,
    );
  });

  it("dedupeKey hashes a delivery id that would make the key too long", () => {
    expect(dedupeKey("r", "abc")).to.equal("r#abc");
    expect(dedupeKey("r", "x".repeat(3000))).to.match(/^r#sha256:[0-9a-f]{64}$/);
  });
});
