import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { CLAIM_CONDITION, DynamoDedupeStore, dedupeKey } from "../../src/aws/dedupe";
import { TransientDependencyError } from "../../src/core/errors";
import { DEDUPE_TTL_SECONDS } from "../../src/core/policy";

const TABLE = "hookgate-dedupe";
const NOW = 1_800_000_000_000;

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
      "attribute_not_exists(pk) OR #state = :dead OR (#state = :pending AND #updatedAt < :stale) OR #expiresAt < :nowSeconds",
    );
    expect(input?.ConditionExpression).to.equal(CLAIM_CONDITION);
    expect(input?.UpdateExpression).to.contain("#generation = if_not_exists(#generation, :zero) + :one");
    expect(input?.ExpressionAttributeNames).to.include({ "#state": "state", "#expiresAt": "expiresAt" });
    const values = input?.ExpressionAttributeValues ?? {};
    expect(values[":pending"]).to.deep.equal({ S: "pending" });
    expect(values[":dead"]).to.deep.equal({ S: "dead" });
    expect(values[":stale"]).to.deep.equal({ N: String(NOW - 60_000) });
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

  it("mark(route, id, generation, state) updates state and TTL only for that generation", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await store.mark("api-build", "d-1", 2, "done");
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input?.Key).to.deep.equal({ pk: { S: "api-build#d-1" } });
    expect(input?.ConditionExpression).to.equal("#generation = :g");
    expect(input?.ExpressionAttributeValues?.[":g"]).to.deep.equal({ N: "2" });
    expect(input?.ExpressionAttributeValues?.[":state"]).to.deep.equal({ S: "done" });
    expect(input?.ExpressionAttributeValues?.[":expires"]).to.deep.equal({
      N: String(NOW / 1000 + DEDUPE_TTL_SECONDS),
    });
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

  it("mark(...) of an older generation is ignored quietly (a newer one owns the item)", async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    await store.mark("api-build", "d-1", 1, "dead");
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

  it("dedupeKey hashes a delivery id that would make the key too long", () => {
    expect(dedupeKey("r", "abc")).to.equal("r#abc");
    expect(dedupeKey("r", "x".repeat(3000))).to.match(/^r#sha256:[0-9a-f]{64}$/);
  });
});
