// dynalite (a DynamoDB implementation in JavaScript, in memory) on 127.0.0.1 at a free port, the dedupe
// table created with the key src/infra/dedupe.ts declares, and a real DynamoDBClient configured for it.
//
// What the table cannot have here: dynalite has no UpdateTimeToLive (so no TTL attribute is set on the
// table) and deletes nothing by its TTL, which DynamoDB does only lazily anyway: the store itself must
// treat an item past its expiresAt as gone, and a test can see it do so.
import type { AddressInfo } from "node:net";
import {
  type AttributeValue,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { DEDUPE_KEY } from "../../src/infra/dedupe";

export interface LocalDynamo {
  /** The server's URL (what the client talks to). */
  url: string;
  client: DynamoDBClient;
  tableName: string;
  /**
   * The operation of every request the client sent, in order ("UpdateItem", "GetItem"...), a read with
   * ConsistentRead as "GetItem (consistent)".
   */
  operations: string[];
  /** The item under this partition key value (a consistent GetItem), or undefined. */
  item(key: string): Promise<Record<string, AttributeValue> | undefined>;
  close(): Promise<void>;
}

export async function startLocalDynamo(tableName: string): Promise<LocalDynamo> {
  // A table is ACTIVE at once (the default keeps it CREATING for 500 ms).
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint: url,
    region: "eu-west-1",
    credentials: { accessKeyId: "dynalite", secretAccessKey: "dynalite" },
    // One try: a request the engine refuses fails the test as it is, not after the SDK's retries.
    maxAttempts: 1,
  });
  const operations: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      const consistent = (args.input as { ConsistentRead?: boolean }).ConsistentRead === true;
      operations.push(
        `${String(context.commandName).replace(/Command$/, "")}${consistent ? " (consistent)" : ""}`,
      );
      return next(args);
    },
    { step: "initialize", name: "recordOperations" },
  );
  const close = async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
  };
  // As src/infra/dedupe.ts declares the table: a string hash key, on demand. A table the engine refuses
  // stops the server too: a caller whose setup failed has nothing to close, and mocha would never exit.
  await client
    .send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: DEDUPE_KEY, KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: DEDUPE_KEY, AttributeType: "S" }],
      }),
    )
    .catch(async (error: unknown) => {
      await close();
      throw error;
    });
  return {
    url,
    client,
    tableName,
    operations,
    async item(key) {
      const out = await client.send(
        new GetItemCommand({ TableName: tableName, Key: { [DEDUPE_KEY]: { S: key } }, ConsistentRead: true }),
      );
      return out.Item;
    },
    close,
  };
}
