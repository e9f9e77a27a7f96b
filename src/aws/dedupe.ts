// DedupeStore on DynamoDB: one item per route and delivery id, with a generation counter and a TTL.
//
// Item: pk (S) = "<route>#<deliveryId>", state (S), generation (N), updatedAt (N, epoch ms),
// expiresAt (N, epoch seconds; the table's TTL attribute), firstClaimedAt (N, epoch ms; set by the first
// claim and kept by the next generations).
import { createHash, randomUUID } from "node:crypto";
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { TransientDependencyError } from "../core/errors";
import { DEDUPE_TTL_SECONDS, PENDING_CLAIM_TTL_SECONDS } from "../core/policy";
import type { CallLimits, ClaimResult, DedupeStore, DeliveryState, RecordedState } from "../core/ports";
import { awsErrorName, describeAwsError, isTransientAwsError } from "./awsErrors";
import { cutShort, untilDeadline } from "./deadline";

const STATES: readonly DeliveryState[] = ["pending", "queued", "done", "dead"];
/** DynamoDB allows 2048 bytes in a partition key; stay well below. */
const MAX_KEY_BYTES = 1024;

/**
 * A claim of the next generation succeeds when the id is new, when its last generation died, or when the
 * item outlived its TTL (DynamoDB deletes expired items lazily).
 */
export const CLAIM_CONDITION = "attribute_not_exists(pk) OR #state = :dead OR #expiresAt < :nowSeconds";

/**
 * A pending claim that was abandoned (released by a receive path whose send failed, or older than the
 * pending TTL: its function died) is taken over as the SAME generation, so its work item gets the same SQS
 * deduplication id: the failed send may have reached the queue after all (its answer timed out or the
 * connection dropped), and SQS then drops the second message instead of running the action twice.
 */
export const TAKEOVER_CONDITION = "#state = :pending AND #updatedAt < :stale AND #generation = :g";

/**
 * A mark lands on its own generation; "queued" only over the claim (the work path may already have recorded
 * done or dead). "done" lands on a later generation that is `dead` or `pending` too, keeping that generation's
 * number: the delivery's action ran (a dead letter of an older generation, redriven), so the later
 * generation's dead letter, redriven after it, or its message, sent by a receive path still under way or
 * whose `queued` mark failed, is skipped as finished; that receive path's `queued` mark and release then change
 * nothing (both need `pending`), and the Git host's redelivery is answered duplicate. Not on a later `queued`
 * one: its message is in the queue or running (the work path skips the older letter for it, see supersededBy),
 * and its own mark decides. "dead" never lands on `done`: the action ran, and a copy of its message put back on
 * the queue's last receive (a finished one SQS brought back, or one a takeover queued twice) would otherwise let
 * the Git host's redelivery or a DLQ redrive run it again.
 */
export const MARK_CONDITION: Record<DeliveryState, string> = {
  pending: "#generation = :g",
  queued: "#generation = :g AND #state = :pending",
  done: "#generation = :g OR (#generation > :g AND #state IN (:dead, :pending))",
  dead: "#generation = :g AND #state <> :done",
};

export interface DynamoDedupeStoreOptions {
  now?: () => number;
  ttlSeconds?: number;
  pendingTtlSeconds?: number;
}

export function dedupeKey(route: string, deliveryId: string): string {
  const key = `${route}#${deliveryId}`;
  if (Buffer.byteLength(key, "utf8") <= MAX_KEY_BYTES) return key;
  return `${route}#sha256:${createHash("sha256").update(deliveryId, "utf8").digest("hex")}`;
}

/** The attribute names of the claim and mark updates (DynamoDB rejects names an expression leaves unused). */
const STATE_NAMES = {
  "#state": "state",
  "#generation": "generation",
  "#updatedAt": "updatedAt",
  "#expiresAt": "expiresAt",
};

/** The claim's names: the mark's, the first claim's time and the claim's token, which only a claim writes. */
const CLAIM_NAMES = { ...STATE_NAMES, "#firstClaimedAt": "firstClaimedAt", "#claimToken": "claimToken" };

export class DynamoDedupeStore implements DedupeStore {
  private readonly now: () => number;
  private readonly ttlSeconds: number;
  private readonly pendingTtlSeconds: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoDedupeStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.ttlSeconds = options.ttlSeconds ?? DEDUPE_TTL_SECONDS;
    this.pendingTtlSeconds = options.pendingTtlSeconds ?? PENDING_CLAIM_TTL_SECONDS;
  }

  /**
   * `attempts`: how many times a claim is tried again when the item changed between its check and the
   * next write (deleted by its TTL, taken over by another request). `token`: written with the claim, so a
   * claim DynamoDB applied but whose answer was lost is known as this one's when the SDK's retry of it
   * fails the condition (rather than taken for another request's, in progress: a 503). `limits`: the receive
   * path's deadline; past it no call (nor an SDK retry of one) is started, so a claim cannot land minutes later,
   * when a frozen instance is thawed, on a delivery its redelivery has meanwhile run.
   */
  async claim(
    route: string,
    deliveryId: string,
    limits?: CallLimits,
    token: string = randomUUID(),
    attempts = 3,
  ): Promise<ClaimResult> {
    const now = this.now();
    const key = { pk: { S: dedupeKey(route, deliveryId) } };
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            "SET #state = :pending, #generation = if_not_exists(#generation, :zero) + :one, #updatedAt = :now, #expiresAt = :expires, #firstClaimedAt = if_not_exists(#firstClaimedAt, :now), #claimToken = :token",
          ConditionExpression: CLAIM_CONDITION,
          ExpressionAttributeNames: CLAIM_NAMES,
          ExpressionAttributeValues: {
            ":pending": { S: "pending" },
            ":dead": { S: "dead" },
            ":zero": { N: "0" },
            ":one": { N: "1" },
            ":now": { N: String(now) },
            ":nowSeconds": { N: String(Math.floor(now / 1000)) },
            ":expires": { N: String(Math.floor(now / 1000) + this.ttlSeconds) },
            ":token": { S: token },
          },
          ReturnValues: "ALL_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
        untilDeadline(limits),
      );
      return claimedAs(numberOf(out.Attributes?.generation) ?? 1, out.Attributes);
    } catch (error) {
      if (awsErrorName(error) !== "ConditionalCheckFailedException") throw dependency("claim", error, limits);
      const old = (error as { Item?: Record<string, AttributeValue> }).Item ?? (await this.read(key, limits));
      if (!old) {
        // Deleted between the condition check and the read: the id is free again, so claim it. A table
        // that keeps saying so is not behaving like DynamoDB: give up (503) rather than loop.
        if (attempts > 1) return this.claim(route, deliveryId, limits, token, attempts - 1);
        throw new TransientDependencyError(
          "DynamoDB dedupe claim failed: its condition kept failing on an item that is not there",
        );
      }
      const generation = numberOf(old.generation);
      if (old.claimToken?.S === token && old.state?.S === "pending" && generation !== undefined) {
        // This claim's own write, applied by an earlier try whose answer was lost.
        return claimedAs(generation, old);
      }
      const updatedAt = numberOf(old.updatedAt);
      if (
        old.state?.S === "pending" &&
        generation !== undefined &&
        updatedAt !== undefined &&
        updatedAt < now - this.pendingTtlSeconds * 1000
      ) {
        return this.takeOver(route, deliveryId, generation, attempts, token, limits);
      }
      return { claimed: false, state: stateOf(old.state), generation: generation ?? 0 };
    }
  }

  /** Claims an abandoned pending claim again, keeping its generation (TAKEOVER_CONDITION says why). */
  private async takeOver(
    route: string,
    deliveryId: string,
    generation: number,
    attempts: number,
    token: string,
    limits?: CallLimits,
  ): Promise<ClaimResult> {
    const now = this.now();
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: dedupeKey(route, deliveryId) } },
          UpdateExpression:
            "SET #updatedAt = :now, #expiresAt = :expires, #firstClaimedAt = if_not_exists(#firstClaimedAt, :now), #claimToken = :token",
          ConditionExpression: TAKEOVER_CONDITION,
          ExpressionAttributeNames: CLAIM_NAMES,
          ExpressionAttributeValues: {
            ":pending": { S: "pending" },
            ":g": { N: String(generation) },
            ":now": { N: String(now) },
            ":stale": { N: String(now - this.pendingTtlSeconds * 1000) },
            ":expires": { N: String(Math.floor(now / 1000) + this.ttlSeconds) },
            ":token": { S: token },
          },
          ReturnValues: "ALL_NEW",
        }),
        untilDeadline(limits),
      );
      return claimedAs(generation, out.Attributes);
    } catch (error) {
      if (awsErrorName(error) !== "ConditionalCheckFailedException") throw dependency("claim", error, limits);
      // Another request took it over, or the work path recorded an outcome, in between: claim afresh.
      if (attempts > 1) return this.claim(route, deliveryId, limits, token, attempts - 1);
      throw new TransientDependencyError("DynamoDB dedupe claim failed: the item kept changing under it");
    }
  }

  async mark(
    route: string,
    deliveryId: string,
    generation: number,
    state: DeliveryState,
    limits?: CallLimits,
  ): Promise<void> {
    const now = this.now();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: dedupeKey(route, deliveryId) } },
          UpdateExpression: "SET #state = :state, #updatedAt = :now, #expiresAt = :expires",
          ConditionExpression: MARK_CONDITION[state],
          ExpressionAttributeNames: STATE_NAMES,
          ExpressionAttributeValues: {
            ":state": { S: state },
            ":g": { N: String(generation) },
            ":now": { N: String(now) },
            ":expires": { N: String(Math.floor(now / 1000) + this.ttlSeconds) },
            ...(state === "queued" || state === "done" ? { ":pending": { S: "pending" } } : {}),
            ...(state === "done" ? { ":dead": { S: "dead" } } : {}),
            ...(state === "dead" ? { ":done": { S: "done" } } : {}),
          },
        }),
        untilDeadline(limits),
      );
    } catch (error) {
      // A newer generation owns the item (for a done mark: one queued or done), or the work path finished it (a
      // dead mark over done: the action ran). Not an error, nor worth a retry: there is nothing to write.
      if (awsErrorName(error) === "ConditionalCheckFailedException") return;
      throw dependency("mark", error, limits);
    }
  }

  /**
   * Makes the pending claim look abandoned (updatedAt = 0) instead of deleting it: the generation
   * survives, so the next claim takes it over with the same SQS deduplication id (a send that failed
   * may have reached the queue all the same). Deleting would restart at generation 1, whose id SQS may
   * still remember (5 minutes) from an earlier generation that died, and the redelivery would be
   * dropped silently. With `claimToken`, only while the item holds that claim: a takeover keeps the
   * generation, so a release landing late (its instance frozen, then thawed) would otherwise make a
   * redelivery's takeover, its send under way, look abandoned to a third request. `generation` undefined: a
   * claim whose answer was cut short at the deadline, which the token alone names.
   */
  async release(
    route: string,
    deliveryId: string,
    generation: number | undefined,
    limits?: CallLimits,
    claimToken?: string,
  ): Promise<void> {
    if (generation === undefined && claimToken === undefined) return; // nothing names a claim
    const byGeneration = generation !== undefined;
    const byToken = claimToken !== undefined;
    // DynamoDB refuses an expression attribute the condition leaves unused: only the parts given.
    const parts = [
      ...(byGeneration ? ["#generation = :g"] : []),
      "#state = :pending",
      ...(byToken ? ["#claimToken = :token"] : []),
    ];
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: dedupeKey(route, deliveryId) } },
          UpdateExpression: "SET #updatedAt = :zero",
          ConditionExpression: parts.join(" AND "),
          ExpressionAttributeNames: {
            ...(byGeneration ? { "#generation": "generation" } : {}),
            "#state": "state",
            "#updatedAt": "updatedAt",
            ...(byToken ? { "#claimToken": "claimToken" } : {}),
          },
          ExpressionAttributeValues: {
            ...(byGeneration ? { ":g": { N: String(generation) } } : {}),
            ":pending": { S: "pending" },
            ":zero": { N: "0" },
            ...(byToken ? { ":token": { S: claimToken } } : {}),
          },
        }),
        untilDeadline(limits),
      );
    } catch (error) {
      if (awsErrorName(error) === "ConditionalCheckFailedException") return;
      throw dependency("release", error, limits);
    }
  }

  async state(route: string, deliveryId: string): Promise<RecordedState | undefined> {
    const item = await this.read({ pk: { S: dedupeKey(route, deliveryId) } });
    if (!item) return undefined;
    const recorded = { state: stateOf(item.state), generation: numberOf(item.generation) ?? 0 };
    // An item past its expiresAt, which DynamoDB deletes lazily (up to days later), is read as expired (the
    // claim condition takes it as none): its `done` still says the action ran, its `queued` is too old to
    // say where the message is.
    const expiresAt = numberOf(item.expiresAt);
    return expiresAt !== undefined && expiresAt < Math.floor(this.now() / 1000)
      ? { ...recorded, expired: true }
      : recorded;
  }

  private async read(
    key: Record<string, AttributeValue>,
    limits?: CallLimits,
  ): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
        untilDeadline(limits),
      );
      return out.Item;
    } catch (error) {
      throw dependency("read", error, limits);
    }
  }
}

/** A successful claim of `generation`, with the first claim's time when the item holds one. */
function claimedAs(generation: number, item: Record<string, AttributeValue> | undefined): ClaimResult {
  const firstClaimedAtMs = numberOf(item?.firstClaimedAt);
  return firstClaimedAtMs === undefined
    ? { claimed: true, generation }
    : { claimed: true, generation, firstClaimedAtMs };
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  if (!value || !("N" in value) || value.N === undefined) return undefined;
  const n = Number(value.N);
  return Number.isFinite(n) ? n : undefined;
}

function stateOf(value: AttributeValue | undefined): DeliveryState {
  const s = value && "S" in value ? value.S : undefined;
  return STATES.includes(s as DeliveryState) ? (s as DeliveryState) : "pending";
}

function dependency(what: string, error: unknown, limits?: CallLimits): Error {
  const cut = cutShort(`DynamoDB dedupe ${what} failed`, error, limits);
  if (cut) return cut;
  // Transient or not (throttled, or a missing table / permission), it is our own dependency that
  // failed: the receive path answers 503 so the host can redeliver once it is fixed.
  const kind = isTransientAwsError(error) ? "" : " (not transient: check the table and the role)";
  return new TransientDependencyError(`DynamoDB dedupe ${what} failed${kind}: ${describeAwsError(error)}`, {
    cause: error,
  });
}
