// An in-memory DedupeStore with the same rules as the DynamoDB one (src/aws/dedupe.ts), for tests
// (`hookgate serve` keeps its state on disk: src/local/fileDedupeStore.ts). Not shared between processes.
import { randomUUID } from "node:crypto";
import { markLands, releaseLands } from "../core/dedupeRules";
import { DEDUPE_TTL_SECONDS, PENDING_CLAIM_TTL_SECONDS } from "../core/policy";
import type { CallLimits, ClaimResult, DedupeStore, DeliveryState, RecordedState } from "../core/ports";

interface Entry {
  state: DeliveryState;
  generation: number;
  updatedAt: number;
  expiresAt: number;
  firstClaimedAt: number;
  /** The claim's token (a takeover writes its own): a release given another one changes nothing. */
  token: string;
}

export class MemoryDedupeStore implements DedupeStore {
  readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async claim(
    route: string,
    deliveryId: string,
    _limits?: CallLimits,
    token: string = randomUUID(),
  ): Promise<ClaimResult> {
    const key = `${route}#${deliveryId}`;
    const now = this.now();
    const old = this.entries.get(key);
    const next = !old || old.state === "dead" || old.expiresAt < Math.floor(now / 1000);
    // An abandoned pending claim (released, or its function died) is taken over as the same generation: its
    // send may have reached the queue after all, and the same deduplication id keeps it from running twice.
    const abandoned = old?.state === "pending" && old.updatedAt < now - PENDING_CLAIM_TTL_SECONDS * 1000;
    if (!next && !abandoned) return { claimed: false, state: old.state, generation: old.generation };
    const generation = next ? (old?.generation ?? 0) + 1 : old.generation;
    const firstClaimedAt = old?.firstClaimedAt ?? now;
    this.entries.set(key, {
      state: "pending",
      generation,
      updatedAt: now,
      expiresAt: this.expiry(now),
      firstClaimedAt,
      token,
    });
    return { claimed: true, generation, firstClaimedAtMs: firstClaimedAt };
  }

  async mark(route: string, deliveryId: string, generation: number, state: DeliveryState): Promise<void> {
    const entry = this.entries.get(`${route}#${deliveryId}`);
    if (!entry) return;
    // As the deployed store's MARK_CONDITION; a done over a later generation keeps that generation's number.
    if (!markLands(entry, generation, state)) return;
    const now = this.now();
    Object.assign(entry, { state, updatedAt: now, expiresAt: this.expiry(now) });
  }

  async release(
    route: string,
    deliveryId: string,
    generation: number | undefined,
    _limits?: CallLimits,
    claimToken?: string,
  ): Promise<void> {
    const entry = this.entries.get(`${route}#${deliveryId}`);
    if (!entry || !releaseLands(entry, generation, claimToken)) return;
    entry.updatedAt = 0;
  }

  async state(route: string, deliveryId: string): Promise<RecordedState | undefined> {
    // An entry past its expiresAt is read as expired, as the deployed store reads an item DynamoDB has not
    // deleted yet (a claim takes it as none: a redelivery would be accepted anew).
    const entry = this.entries.get(`${route}#${deliveryId}`);
    if (!entry) return undefined;
    const recorded = { state: entry.state, generation: entry.generation };
    return entry.expiresAt < Math.floor(this.now() / 1000) ? { ...recorded, expired: true } : recorded;
  }

  /** The state of one delivery, synchronously, for tests and `hookgate serve`'s status output. */
  peek(route: string, deliveryId: string): { state: DeliveryState; generation: number } | undefined {
    const entry = this.entries.get(`${route}#${deliveryId}`);
    return entry && { state: entry.state, generation: entry.generation };
  }

  private expiry(now: number): number {
    return Math.floor(now / 1000) + DEDUPE_TTL_SECONDS;
  }
}
