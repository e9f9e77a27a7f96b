// SecretStore on AWS Secrets Manager: current and previous versions, cached, with one shared
// in-flight fetch per secret and a rate limit on forced refreshes. A forced refresh never joins a fetch
// sent before it was asked (that one may have read the secret before a rotation): it fetches again after
// it. A secret found missing is remembered for the same interval, and so is a failed fetch for forced
// refreshes: they fail at once with its error meanwhile. A secret found missing keeps its cached values for that
// interval only (Secrets Manager is eventually consistent: one lagging answer is no deletion), and drops them when
// a read past it finds it missing still. A previous version Secrets Manager refuses counts
// as none (with a warning): only the current one is needed. Never logs a value.
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretNotFoundError, TransientDependencyError } from "../core/errors";
import { SECRET_CACHE_TTL_MS } from "../core/policy";
import type { LogFn, SecretStore } from "../core/ports";
import { awsErrorName, describeAwsError, isTransientAwsError } from "./awsErrors";

export interface SecretsManagerStoreOptions {
  /** How long fetched values are served from memory. */
  ttlMs?: number;
  /**
   * A forced refresh is skipped when the cached values are younger than this (and no fetch is in flight); a
   * secret found missing is answered as missing, and a forced refresh after a failed fetch fails with its
   * error, without a call, for this long.
   */
  minRefreshIntervalMs?: number;
  /** After the TTL, stale values are still served for this long when Secrets Manager is unavailable. */
  staleIfErrorMs?: number;
  now?: () => number;
  /** Where a warning goes (an unreadable previous version); never a value. */
  log?: LogFn;
}

interface CacheEntry {
  values: string[];
  fetchedAt: number;
  /** A read found the secret missing: the values are served until then, and a read after it fetches again. */
  doubtedUntil?: number;
}

const DEFAULT_MIN_REFRESH_INTERVAL_MS = 5_000;
const DEFAULT_STALE_IF_ERROR_MS = 15 * 60_000;

export class SecretsManagerStore implements SecretStore {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<string[]>>();
  /** The fetch that forced refreshes asked while `behind` was in flight wait for: it starts once that one is done. */
  private readonly queued = new Map<string, { behind: Promise<string[]>; next: Promise<string[]> }>();
  /**
   * When Secrets Manager last said a secret does not exist (or holds nothing), when it first did with no read of
   * it since, and whether it is scheduled for deletion.
   */
  private readonly missingSince = new Map<
    string,
    { at: number; firstAt: number; scheduledForDeletion: boolean }
  >();
  /** When a fetch of a secret last failed (throttled, unreachable, refused), and how; cleared by one that succeeds. */
  private readonly failed = new Map<string, { at: number; error: TransientDependencyError }>();
  /** When the warning that a secret's AWSPREVIOUS cannot be read was last logged. */
  private readonly previousWarnedAt = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly minRefreshIntervalMs: number;
  private readonly staleIfErrorMs: number;
  private readonly now: () => number;
  private readonly log: LogFn | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    options: SecretsManagerStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? SECRET_CACHE_TTL_MS;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS;
    this.staleIfErrorMs = options.staleIfErrorMs ?? DEFAULT_STALE_IF_ERROR_MS;
    this.now = options.now ?? Date.now;
    this.log = options.log;
  }

  async versions(name: string, options: { refresh?: boolean } = {}): Promise<string[]> {
    let load = this.inFlight.get(name);
    if (load && options.refresh) {
      // The fetch in flight was sent before this refresh was asked, maybe before the rotation that the refusal
      // asking it follows (a 401 to the old token): its values may be the old ones. Fetch again after it.
      load = this.after(name, load);
    } else if (!load) {
      const known = this.peek(name, options);
      if (known) return [...known];
      this.refuseMissing(name);
      if (options.refresh) this.refuseFailed(name);
      load = this.begin(name);
    }
    try {
      return [...(await load)];
    } catch (error) {
      // The read that met a first "not found" (maybe a lagging endpoint) is a plain one: served as peek serves.
      const doubted = this.cache.get(name);
      if (error instanceof SecretNotFoundError && doubted !== undefined) {
        const values = this.doubtedValues(doubted, options);
        if (values) return [...values];
      }
      // A forced refresh serves no stale values; a plain read, its own or one that joined a refresh, may.
      const stale = options.refresh ? undefined : this.staleValues(name, error);
      if (stale) return [...stale];
      throw error;
    }
  }

  peek(name: string, options: { refresh?: boolean } = {}): readonly string[] | undefined {
    const cached = this.cache.get(name);
    if (!cached || this.inFlight.has(name)) return undefined;
    if (cached.doubtedUntil !== undefined) return this.doubtedValues(cached, options);
    const age = this.now() - cached.fetchedAt;
    if (!options.refresh && age < this.ttlMs) return cached.values;
    // A flood of bad signatures must not turn into a flood of GetSecretValue calls.
    if (options.refresh && age < this.minRefreshIntervalMs) return cached.values;
    return undefined;
  }

  /**
   * The values of a secret a read found missing, to a plain read until `doubtedUntil` whatever their age (the
   * answer may have come from a lagging endpoint); never to a forced refresh, nor after it: a read then asks again.
   */
  private doubtedValues(cached: CacheEntry, options: { refresh?: boolean }): readonly string[] | undefined {
    const until = cached.doubtedUntil;
    return until !== undefined && !options.refresh && this.now() < until ? cached.values : undefined;
  }

  /**
   * The cached values while Secrets Manager fails for a while, within the TTL and the stale window after it; never
   * those of a secret a read found missing: a failure to confirm a deletion must not bring them back.
   */
  private staleValues(name: string, error: unknown): readonly string[] | undefined {
    const cached = this.cache.get(name);
    if (!(error instanceof TransientDependencyError) || !cached || cached.doubtedUntil !== undefined) {
      return undefined;
    }
    return this.now() - cached.fetchedAt < this.ttlMs + this.staleIfErrorMs ? cached.values : undefined;
  }

  /** Every delivery to a route whose secret is missing would otherwise cost a fetch: a forged flood too. */
  private refuseMissing(name: string): void {
    const missing = this.missingSince.get(name);
    if (missing !== undefined && this.now() - missing.at < this.minRefreshIntervalMs) {
      throw new SecretNotFoundError(name, { scheduledForDeletion: missing.scheduledForDeletion });
    }
  }

  /**
   * While Secrets Manager throttles (or is down, or refuses), a forced refresh within the interval after a failed
   * fetch fails with that fetch's error rather than asking again: a flood of bad signatures must not turn into a
   * flood of GetSecretValue calls then either. Plain reads still fetch (their stale values are served on failure).
   */
  private refuseFailed(name: string): void {
    const failure = this.failed.get(name);
    if (failure !== undefined && this.now() - failure.at < this.minRefreshIntervalMs) throw failure.error;
  }

  /** A fetch of the secret, shared by every read asked while it is in flight but a forced refresh. */
  private begin(name: string): Promise<string[]> {
    const load: Promise<string[]> = this.load(name).finally(() => {
      if (this.inFlight.get(name) === load) this.inFlight.delete(name);
    });
    this.inFlight.set(name, load);
    return load;
  }

  /**
   * A fetch that starts once `inFlight` is done, shared by every forced refresh asked until it starts: each
   * was asked before it was sent. Not rate-limited by the values `inFlight` brings, which may be the old ones.
   */
  private after(name: string, inFlight: Promise<string[]>): Promise<string[]> {
    const waiting = this.queued.get(name);
    if (waiting?.behind === inFlight) return waiting.next;
    const queued = {
      behind: inFlight,
      next: inFlight
        .then(
          () => undefined,
          () => undefined,
        )
        .then(() => {
          if (this.queued.get(name) === queued) this.queued.delete(name);
          // A plain read may have begun a fetch since `inFlight` failed: sent after every refresh waiting here.
          const started = this.inFlight.get(name);
          if (started) return started;
          this.refuseMissing(name);
          this.refuseFailed(name);
          return this.begin(name);
        }),
    };
    this.queued.set(name, queued);
    return queued.next;
  }

  private async load(name: string): Promise<string[]> {
    try {
      const values = await this.fetch(name);
      this.cache.set(name, { values, fetchedAt: this.now() });
      this.missingSince.delete(name);
      this.failed.delete(name);
      return values;
    } catch (error) {
      if (error instanceof SecretNotFoundError) {
        const now = this.now();
        const firstAt = this.missingSince.get(name)?.firstAt ?? now;
        this.missingSince.set(name, { at: now, firstAt, scheduledForDeletion: error.scheduledForDeletion });
        // Fail closed: a deleted secret's values must not keep accepting deliveries for the rest of the TTL. But
        // one answer may come from a lagging endpoint (just after a create or a restore): the values read before
        // are served for the refresh interval, and dropped when a read past it finds the secret missing still.
        const cached = this.cache.get(name);
        if (cached !== undefined && now - firstAt < this.minRefreshIntervalMs) {
          cached.doubtedUntil ??= now + this.minRefreshIntervalMs;
        } else this.cache.delete(name);
      }
      if (error instanceof TransientDependencyError) this.failed.set(name, { at: this.now(), error });
      throw error;
    }
  }

  /** Drop every cached value (tests, or after a known rotation). */
  clear(): void {
    this.cache.clear();
    this.missingSince.clear();
    this.failed.clear();
  }

  private async fetch(name: string): Promise<string[]> {
    const [current, previous] = await Promise.allSettled([
      this.stage(name, "AWSCURRENT"),
      this.stage(name, "AWSPREVIOUS"),
    ]);
    if (current.status === "rejected") throw current.reason;
    if (current.value === undefined) throw new SecretNotFoundError(name);
    let before: string | undefined;
    if (previous.status === "fulfilled") before = previous.value;
    // Throttled or unreachable: the read fails as a whole, so the cached values (both) are served meanwhile
    // and a delivery signed with the previous value is not refused for a passing fault.
    else if (isTransientAwsError(causeOf(previous.reason))) throw previous.reason;
    else this.previousUnreadable(name, previous.reason);
    return before === undefined || before === current.value ? [current.value] : [current.value, before];
  }

  /**
   * AWSPREVIOUS was refused: taken as no previous version. The actions use only the current one, and the
   * receive path needs the previous one only for deliveries still signed with it. After a change of the
   * secret's KMS key the previous version stays encrypted with the old key, which the role may not hold
   * (AccessDenied); that must not stop every read. Logged once per cache period, with the secret's name and
   * the error's code, never a value.
   */
  private previousUnreadable(name: string, error: unknown): undefined {
    const at = this.now();
    const warned = this.previousWarnedAt.get(name);
    if (warned === undefined || at - warned >= this.ttlMs) {
      this.previousWarnedAt.set(name, at);
      const cause = causeOf(error);
      this.log?.({
        msg: "secret's previous version (AWSPREVIOUS) cannot be read: using the current version alone",
        level: "warn",
        secret: name,
        code: awsErrorName(cause) || "Error",
        hint: "deliveries still signed with the previous value are refused; after a change of KMS key, give the role kms:Decrypt on the old key, or let the previous version go",
      });
    }
    return undefined;
  }

  /** One version stage's value; undefined when that stage does not exist (normal for AWSPREVIOUS). */
  private async stage(name: string, stage: "AWSCURRENT" | "AWSPREVIOUS"): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: stage }));
      const value =
        out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString("utf8") : undefined);
      return value === undefined || value.length === 0 ? undefined : value;
    } catch (error) {
      if (isTransientAwsError(error)) {
        throw new TransientDependencyError(
          `Secrets Manager unavailable for "${name}": ${describeAwsError(error)}`,
          {
            cause: error,
          },
        );
      }
      if (awsErrorName(error) === "ResourceNotFoundException") {
        if (stage === "AWSPREVIOUS") return undefined;
        throw new SecretNotFoundError(name, { cause: error });
      }
      // GetSecretValue's only InvalidRequestException: the secret is scheduled for deletion (the console's
      // Delete keeps it 7 to 30 days). Missing until restored, as documented, not a dependency failing: a 503
      // would send the Git host to AWS, and the work path would retry it 5 times holding the repository's group.
      if (awsErrorName(error) === "InvalidRequestException") {
        if (stage === "AWSPREVIOUS") return undefined;
        throw new SecretNotFoundError(name, { cause: error, scheduledForDeletion: true });
      }
      // Refused (AccessDenied, a KMS key it cannot use) or an answer it cannot read: the secret may well
      // exist, so this is our dependency failing (503, the host can redeliver), never a 401.
      throw new TransientDependencyError(
        `Secrets Manager cannot give "${name}" (${stage}): ${describeAwsError(error)}`,
        { cause: error },
      );
    }
  }
}

/** The SDK's error behind a TransientDependencyError that stage() made of it. */
function causeOf(error: unknown): unknown {
  return error instanceof TransientDependencyError ? error.cause : error;
}
