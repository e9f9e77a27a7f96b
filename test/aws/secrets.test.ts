import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { CredentialsRefusedError, withFreshCredentials } from "../../src/actions/secrets";
import { SecretsManagerStore } from "../../src/aws/secrets";
import { ActionError, SecretNotFoundError, TransientDependencyError } from "../../src/core/errors";
import { SECRET_CACHE_TTL_MS } from "../../src/core/policy";

function notFound(): ResourceNotFoundException {
  return new ResourceNotFoundException({
    message: "Secrets Manager can't find the specified secret.",
    $metadata: {},
  });
}

/** Secrets Manager refusing the read: the role, or the KMS key it cannot use. */
function refused(name: string): Error {
  return Object.assign(new Error("refused"), { name, $fault: "client", $metadata: { httpStatusCode: 400 } });
}

function throttled(): Error {
  return Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
  });
}

describe("Class: SecretsManagerStore", () => {
  let clock = 1_000_000;
  const now = () => clock;
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const stub = () => mockClient(client);
  let sm: ReturnType<typeof stub>;
  before(() => {
    sm = stub();
  });

  beforeEach(() => {
    clock = 1_000_000;
    sm.reset();
  });
  after(() => sm.restore());

  it("versions(name) asks for AWSCURRENT and AWSPREVIOUS by SecretId and VersionStage", async () => {
    sm.on(GetSecretValueCommand, { SecretId: "hookgate/gh", VersionStage: "AWSCURRENT" }).resolves({
      SecretString: "new-secret",
    });
    sm.on(GetSecretValueCommand, { SecretId: "hookgate/gh", VersionStage: "AWSPREVIOUS" }).resolves({
      SecretString: "old-secret",
    });
    const store = new SecretsManagerStore(client, { now });
    expect(await store.versions("hookgate/gh")).to.deep.equal(["new-secret", "old-secret"]);
    const inputs = sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input);
    expect(inputs).to.have.deep.members([
      { SecretId: "hookgate/gh", VersionStage: "AWSCURRENT" },
      { SecretId: "hookgate/gh", VersionStage: "AWSPREVIOUS" },
    ]);
  });

  it("versions(name) returns only the current value when there is no AWSPREVIOUS version", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "only" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now });
    expect(await store.versions("s")).to.deep.equal(["only"]);
  });

  it("versions(name) reads SecretBinary as UTF-8", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({
      SecretBinary: new Uint8Array(Buffer.from("bïnary", "utf8")),
    });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    expect(await new SecretsManagerStore(client, { now }).versions("s")).to.deep.equal(["bïnary"]);
  });

  it("versions(name) serves the cache within the TTL and fetches again after it", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })
      .resolvesOnce({ SecretString: "v1" })
      .resolves({
        SecretString: "v2",
      });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now, ttlMs: 60_000 });
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    clock += 59_000;
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    clock += 2_000;
    expect(await store.versions("s")).to.deep.equal(["v2"]);
    expect(sm.commandCalls(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })).to.have.length(2);
  });

  it("versions(name) shares one in-flight fetch between concurrent callers", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "v" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now });
    const all = await Promise.all(Array.from({ length: 20 }, () => store.versions("s")));
    expect(all.every((v) => v[0] === "v")).to.equal(true);
    expect(sm.commandCalls(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })).to.have.length(1);
  });

  it("versions(name, {refresh}) bypasses the cache, but at most once per interval", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })
      .resolvesOnce({ SecretString: "v1" })
      .resolvesOnce({ SecretString: "v2" })
      .resolves({ SecretString: "v3" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now, minRefreshIntervalMs: 5_000 });
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    // A flood of bad signatures right after a fetch: no extra calls.
    for (let i = 0; i < 10; i++) expect(await store.versions("s", { refresh: true })).to.deep.equal(["v1"]);
    clock += 6_000;
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["v2"]);
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["v2"]);
    expect(sm.commandCalls(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })).to.have.length(2);
  });

  it("peek(name) has the cached versions within the TTL, and nothing before the first fetch, during one or after the TTL", async () => {
    let release: (value: { SecretString: string }) => void = () => undefined;
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })
      .resolvesOnce({ SecretString: "v1" })
      .callsFake(() => new Promise((resolve) => (release = resolve)));
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now, ttlMs: 60_000 });
    expect(store.peek("s")).to.equal(undefined);
    await store.versions("s");
    expect(store.peek("s")).to.deep.equal(["v1"]);
    clock += 61_000;
    expect(store.peek("s")).to.equal(undefined);
    const refetch = store.versions("s");
    expect(store.peek("s")).to.equal(undefined); // in flight
    release({ SecretString: "v2" });
    expect(await refetch).to.deep.equal(["v2"]);
    expect(store.peek("s")).to.deep.equal(["v2"]);
  });

  it("peek(name, {refresh}) has the cached versions only while a refresh would be skipped", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "v1" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now, minRefreshIntervalMs: 5_000 });
    await store.versions("s");
    expect(store.peek("s", { refresh: true })).to.deep.equal(["v1"]);
    clock += 6_000;
    expect(store.peek("s", { refresh: true })).to.equal(undefined);
    expect(store.peek("s")).to.deep.equal(["v1"]);
  });

  it("versions(name) throws SecretNotFoundError when the secret does not exist", async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    const error = await new SecretsManagerStore(client, { now }).versions("missing").catch((e) => e);
    expect(error).to.be.instanceOf(SecretNotFoundError);
    expect(error.message).to.contain('"missing"');
  });

  it("versions(name) answers a missing secret as missing, without a call, until the minimum refresh interval has passed", async () => {
    sm.on(GetSecretValueCommand).rejects(notFound());
    const store = new SecretsManagerStore(client, { now, minRefreshIntervalMs: 5_000 });
    for (const refresh of [false, true, false, true]) {
      const error = await store.versions("late", { refresh }).catch((e) => e);
      expect(error).to.be.instanceOf(SecretNotFoundError);
    }
    expect(sm.commandCalls(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })).to.have.length(1);
    sm.reset();
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "created" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    clock += 4_999;
    expect(await store.versions("late").catch((e) => e)).to.be.instanceOf(SecretNotFoundError);
    clock += 1;
    expect(await store.versions("late")).to.deep.equal(["created"]);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2);
  });

  // The secret may exist and the delivery be valid: 503 (redeliverable), never a 401 like a bad signature.
  for (const name of ["AccessDeniedException", "DecryptionFailure"]) {
    it(`versions(name) throws TransientDependencyError, not SecretNotFoundError, for ${name} on AWSCURRENT`, async () => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: "v1" });
      sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).rejects(refused(name));
      const error = await new SecretsManagerStore(client, { now }).versions("forbidden").catch((e) => e);
      expect(error).to.be.instanceOf(TransientDependencyError);
      expect(error.message).to.contain(`"forbidden" (AWSCURRENT): ${name}`);
    });
  }

  // After a change of the secret's KMS key, AWSPREVIOUS stays encrypted with the old key, which the role may
  // not hold: only the current version is needed, so that must not stop every read of the secret.
  const previousFailures: Array<[string, () => Error]> = [
    ["AccessDeniedException", () => refused("AccessDeniedException")],
    ["DecryptionFailure", () => refused("DecryptionFailure")],
  ];
  for (const [code, make] of previousFailures) {
    it(`versions(name) gives the current value alone, and logs a warning naming the secret and ${code}, when AWSPREVIOUS fails with ${code}`, async () => {
      const lines: Record<string, unknown>[] = [];
      sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({
        SecretString: "current-value",
      });
      sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(make());
      const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
      expect(await store.versions("hookgate/jenkins")).to.deep.equal(["current-value"]);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.include({ level: "warn", secret: "hookgate/jenkins", code });
      expect(JSON.stringify(lines)).not.to.contain("current-value");
    });
  }

  it("versions(name) fails as a whole (TransientDependencyError: a 503, never a 401), without the warning, when AWSPREVIOUS is throttled and nothing is cached", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "new" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(throttled());
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    const error = await store.versions("s").catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(lines).to.deep.equal([]);
  });

  it("versions(name) keeps serving the cached current and previous values when a re-read past the TTL finds AWSPREVIOUS throttled", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "new" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" })
      .resolvesOnce({ SecretString: "old" })
      .rejects(throttled());
    const store = new SecretsManagerStore(client, { now, ttlMs: 60_000 });
    expect(await store.versions("s")).to.deep.equal(["new", "old"]);
    clock += 60_000;
    expect(await store.versions("s")).to.deep.equal(["new", "old"]);
  });

  it("versions(name) logs no warning of AWSPREVIOUS when AWSCURRENT fails too: the read fails, nothing is used alone", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).rejects(refused("AccessDeniedException"));
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused("AccessDeniedException"));
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    expect(await store.versions("s").catch((e) => e)).to.be.instanceOf(TransientDependencyError);
    expect(lines).to.deep.equal([]);
  });

  it("versions(name) warns of an unreadable AWSPREVIOUS once per cache period, however often it re-reads the secret", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "v1" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused("AccessDeniedException"));
    const store = new SecretsManagerStore(client, {
      now,
      ttlMs: 60_000,
      minRefreshIntervalMs: 1_000,
      log: (line) => lines.push(line),
    });
    for (let i = 0; i < 5; i++) {
      expect(await store.versions("s", { refresh: true })).to.deep.equal(["v1"]);
      clock += 2_000; // past the refresh interval: every one of these reads fetches
    }
    expect(sm.commandCalls(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" })).to.have.length(5);
    expect(lines).to.have.length(1);
    clock += 60_000 - 10_000; // a cache period after the warning
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["v1"]);
    expect(lines).to.have.length(2);
  });

  it("versions(name) still gives both versions when AWSPREVIOUS is readable, without a warning", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "new" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).resolves({ SecretString: "old" });
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    expect(await store.versions("s")).to.deep.equal(["new", "old"]);
    expect(lines).to.deep.equal([]);
  });

  it("versions(name) throws SecretNotFoundError for an empty SecretString", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const error = await new SecretsManagerStore(client, { now }).versions("empty").catch((e) => e);
    expect(error).to.be.instanceOf(SecretNotFoundError);
  });

  const transientCases: Array<[string, () => Error]> = [
    ["ThrottlingException", throttled],
    [
      "InternalServiceError (5xx)",
      () => new InternalServiceError({ message: "boom", $metadata: { httpStatusCode: 500 } }),
    ],
    [
      "a refused connection",
      () => Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    ],
    ["a timeout", () => Object.assign(new Error("socket timed out"), { name: "TimeoutError" })],
  ];
  for (const [label, make] of transientCases) {
    it(`versions(name) throws TransientDependencyError for ${label}`, async () => {
      sm.on(GetSecretValueCommand).rejects(make());
      const error = await new SecretsManagerStore(client, { now }).versions("s").catch((e) => e);
      expect(error).to.be.instanceOf(TransientDependencyError);
      expect(error).not.to.be.instanceOf(SecretNotFoundError);
    });
  }

  it("versions(name) serves stale values while Secrets Manager is throttled, but not on refresh", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" })
      .resolvesOnce({ SecretString: "v1" })
      .rejects(throttled());
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
    const store = new SecretsManagerStore(client, { now, ttlMs: 1_000, staleIfErrorMs: 60_000 });
    await store.versions("s");
    clock += 10_000;
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    const error = await store.versions("s", { refresh: true }).catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    clock += 120_000;
    expect(await store.versions("s").catch((e) => e)).to.be.instanceOf(TransientDependencyError);
  });

  /** AWSCURRENT answers `current` (one answer after another, the last one repeated); AWSPREVIOUS does not exist. */
  function currentOnly(...current: Array<{ SecretString: string } | Error>): void {
    const answers = [...current];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).callsFake(async () => {
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      if (answer instanceof Error) throw answer;
      return answer;
    });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(notFound());
  }

  it("versions(name) fetches again once the values are exactly ttlMs old", async () => {
    currentOnly({ SecretString: "v1" }, { SecretString: "v2" });
    const store = new SecretsManagerStore(client, { now, ttlMs: 60_000 });
    await store.versions("s");
    clock += 59_999;
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    clock += 1;
    expect(await store.versions("s")).to.deep.equal(["v2"]);
  });

  it(`versions(name) caches for SECRET_CACHE_TTL_MS (${SECRET_CACHE_TTL_MS} ms) by default`, async () => {
    currentOnly({ SecretString: "v1" }, { SecretString: "v2" });
    const store = new SecretsManagerStore(client, { now });
    await store.versions("s");
    clock += SECRET_CACHE_TTL_MS - 1;
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    clock += 1;
    expect(await store.versions("s")).to.deep.equal(["v2"]);
  });

  it("versions(name, {refresh}) skips a forced refresh for 5 seconds after a fetch by default", async () => {
    currentOnly({ SecretString: "v1" }, { SecretString: "v2" });
    const store = new SecretsManagerStore(client, { now });
    await store.versions("s");
    clock += 4_999;
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["v1"]);
    clock += 1;
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["v2"]);
  });

  it("versions(name, {refresh}) asks Secrets Manager once, not once per refresh, for a flood of forced refreshes within 5 seconds of a throttled read: the others fail at once with its error", async () => {
    const throttle = { on: false };
    sm.on(GetSecretValueCommand).callsFake(async (input: { VersionStage: string }) => {
      if (throttle.on && input.VersionStage === "AWSPREVIOUS") throw throttled();
      return { SecretString: `${input.VersionStage}-value` };
    });
    const store = new SecretsManagerStore(client, { now });
    await store.versions("hookgate/github-webhook");
    clock += 10_000; // past the forced refresh's interval, inside the cache's
    throttle.on = true;
    const calls = () => sm.commandCalls(GetSecretValueCommand).length;
    const before = calls();
    // 50 forged deliveries within one second, each re-reading the secret after its signature did not match.
    const errors: unknown[] = [];
    for (let i = 0; i < 50; i++) {
      clock += 20;
      errors.push(
        await store.versions("hookgate/github-webhook", { refresh: true }).catch((e: unknown) => e),
      );
    }
    expect(calls() - before).to.equal(2); // one read: AWSCURRENT and AWSPREVIOUS
    expect(errors.every((e) => e instanceof TransientDependencyError)).to.equal(true);
    expect((errors[49] as Error).message).to.contain("ThrottlingException");
    // 5 seconds after the failed read (the first refresh's), a forced refresh asks again; not a millisecond before.
    throttle.on = false;
    clock += 5_000 - 49 * 20 - 1;
    const early = await store.versions("hookgate/github-webhook", { refresh: true }).catch((e: unknown) => e);
    expect(early).to.be.instanceOf(TransientDependencyError);
    expect(calls() - before).to.equal(2);
    clock += 1;
    expect(await store.versions("hookgate/github-webhook", { refresh: true })).to.deep.equal([
      "AWSCURRENT-value",
      "AWSPREVIOUS-value",
    ]);
    expect(calls() - before).to.equal(4);
  });

  it("versions(name) serves stale values while throttled only until ttlMs + staleIfErrorMs, not at that age", async () => {
    currentOnly({ SecretString: "v1" }, throttled());
    const store = new SecretsManagerStore(client, { now, ttlMs: 1_000, staleIfErrorMs: 60_000 });
    await store.versions("s");
    clock += 60_999;
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    clock += 1;
    expect(await store.versions("s").catch((e) => e)).to.be.instanceOf(TransientDependencyError);
  });

  it("versions(name) serves stale values while throttled for 15 minutes past the TTL by default", async () => {
    currentOnly({ SecretString: "v1" }, throttled());
    const store = new SecretsManagerStore(client, { now, ttlMs: 1_000 });
    await store.versions("s");
    clock += 1_000 + 15 * 60_000 - 1;
    expect(await store.versions("s")).to.deep.equal(["v1"]);
    clock += 1;
    expect(await store.versions("s").catch((e) => e)).to.be.instanceOf(TransientDependencyError);
  });

  it("versions(name) does not serve stale values once the secret is deleted: it is missing (401), not unavailable, once a second read past the refresh interval confirms it", async () => {
    currentOnly({ SecretString: "v1" }, notFound());
    const store = new SecretsManagerStore(client, { now, ttlMs: 1_000, staleIfErrorMs: 60_000 });
    await store.versions("s");
    clock += 2_000;
    expect(await store.versions("s"), "the first not-found may be a lagging endpoint's").to.deep.equal([
      "v1",
    ]);
    clock += 5_000;
    const error = await store.versions("s").catch((e) => e);
    expect(error).to.be.instanceOf(SecretNotFoundError);
  });

  it("versions(name) and peek(name) stop serving the cached values once a read past the refresh interval finds the secret missing still", async () => {
    currentOnly({ SecretString: "v1" }, notFound());
    const store = new SecretsManagerStore(client, { now, minRefreshIntervalMs: 5_000 });
    await store.versions("s");
    clock += 6_000;
    expect(await store.versions("s", { refresh: true }).catch((e) => e)).to.be.instanceOf(
      SecretNotFoundError,
    );
    clock += 5_000;
    expect(store.peek("s"), "peek").to.equal(undefined);
    expect(await store.versions("s").catch((e) => e), "a plain read within the TTL").to.be.instanceOf(
      SecretNotFoundError,
    );
    clock += 1_000;
    expect(store.peek("s"), "peek, after").to.equal(undefined);
    expect(await store.versions("s").catch((e) => e), "a plain read, after").to.be.instanceOf(
      SecretNotFoundError,
    );
  });

  it("versions(name) keeps serving the values it read when one re-read finds the secret missing and the next one past the refresh interval finds it (a lagging answer)", async () => {
    currentOnly({ SecretString: "v1" }, notFound(), { SecretString: "v1" });
    const store = new SecretsManagerStore(client, { now, minRefreshIntervalMs: 5_000 });
    await store.versions("s");
    clock += 6_000;
    expect(await store.versions("s", { refresh: true }).catch((e) => e)).to.be.instanceOf(
      SecretNotFoundError,
    );
    clock += 1_000;
    expect(store.peek("s"), "peek within the interval").to.deep.equal(["v1"]);
    expect(await store.versions("s"), "a plain read within the interval").to.deep.equal(["v1"]);
    clock += 5_000;
    expect(store.peek("s"), "peek past the interval: fetched again").to.equal(undefined);
    expect(await store.versions("s"), "a plain read past the interval").to.deep.equal(["v1"]);
    expect(store.peek("s"), "no longer doubted").to.deep.equal(["v1"]);
  });

  it("versions(name) never serves a secret found missing as stale when the read meant to confirm the deletion fails for a passing reason", async () => {
    currentOnly({ SecretString: "v1" }, notFound(), throttled());
    const store = new SecretsManagerStore(client, { now });
    await store.versions("s");
    clock += 6_000;
    expect(await store.versions("s", { refresh: true }).catch((e) => e)).to.be.instanceOf(
      SecretNotFoundError,
    );
    clock += 6_000;
    const afterWindow = await store.versions("s").catch((e: Error) => e.name);
    clock += 10 * 60_000;
    const tenMinutesLater = await store.versions("s").catch((e: Error) => e.name);
    expect({ afterWindow, tenMinutesLater }).to.deep.equal({
      afterWindow: "TransientDependencyError",
      tenMinutesLater: "TransientDependencyError",
    });
  });

  it("versions(name) keeps the values 5 s more when the cache's own re-read meets a lagging not-found: that read and the next ones get them", async () => {
    currentOnly({ SecretString: "v1" }, notFound(), { SecretString: "v1" });
    const store = new SecretsManagerStore(client, { now });
    await store.versions("s");
    clock += SECRET_CACHE_TTL_MS;
    const lagging = await store.versions("s").catch((e: Error) => e.name);
    clock += 1_000;
    const peeked = store.peek("s");
    const oneSecondLater = await store.versions("s").catch((e: Error) => e.name);
    clock += 3_000;
    const fourSecondsLater = await store.versions("s").catch((e: Error) => e.name);
    clock += 1_000;
    const asked = sm.commandCalls(GetSecretValueCommand).length;
    const fiveSecondsLater = await store.versions("s").catch((e: Error) => e.name);
    expect({ lagging, peeked, oneSecondLater, fourSecondsLater, fiveSecondsLater }).to.deep.equal({
      lagging: ["v1"],
      peeked: ["v1"],
      oneSecondLater: ["v1"],
      fourSecondsLater: ["v1"],
      fiveSecondsLater: ["v1"],
    });
    expect(sm.commandCalls(GetSecretValueCommand).length, "asked again past the 5 s").to.be.greaterThan(
      asked,
    );
  });

  it("versions(name) stops serving the cached values once a re-read finds the secret scheduled for deletion", async () => {
    const scheduled = Object.assign(new Error("marked for deletion"), {
      name: "InvalidRequestException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
    currentOnly({ SecretString: "v1" }, scheduled);
    const store = new SecretsManagerStore(client, { now, minRefreshIntervalMs: 5_000 });
    await store.versions("s");
    clock += 6_000;
    const error = await store.versions("s", { refresh: true }).catch((e) => e);
    expect(error).to.be.instanceOf(SecretNotFoundError);
    expect(error.scheduledForDeletion).to.equal(true);
    clock += 5_000;
    expect(await store.versions("s").catch((e) => e)).to.be.instanceOf(SecretNotFoundError);
  });

  it("versions(name) returns one value when AWSPREVIOUS holds the same value as AWSCURRENT", async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: "same" });
    expect(await new SecretsManagerStore(client, { now }).versions("s")).to.deep.equal(["same"]);
  });

  it("versions(name) throws SecretNotFoundError when AWSCURRENT holds neither a string nor a binary", async () => {
    currentOnly({} as { SecretString: string });
    const error = await new SecretsManagerStore(client, { now }).versions("nothing").catch((e) => e);
    expect(error).to.be.instanceOf(SecretNotFoundError);
  });

  it("versions(name) keeps Secrets Manager's not-found error as the cause of SecretNotFoundError", async () => {
    const missing = notFound();
    sm.on(GetSecretValueCommand).rejects(missing);
    const error = await new SecretsManagerStore(client, { now }).versions("missing").catch((e) => e);
    expect(error).to.be.instanceOf(SecretNotFoundError);
    expect(error.cause).to.equal(missing);
  });

  it("versions(name) says which secret is unavailable and why, keeping the SDK error as the cause", async () => {
    const error = throttled();
    sm.on(GetSecretValueCommand).rejects(error);
    const thrown = await new SecretsManagerStore(client, { now }).versions("hookgate/gh").catch((e) => e);
    expect(thrown.message).to.equal(
      'Secrets Manager unavailable for "hookgate/gh": ThrottlingException: Rate exceeded',
    );
    expect(thrown.cause).to.equal(error);
    const refusal = Object.assign(new Error("refused"), {
      name: "AccessDeniedException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
    sm.reset();
    sm.on(GetSecretValueCommand).rejects(refusal);
    const denied = await new SecretsManagerStore(client, { now }).versions("hookgate/gh").catch((e) => e);
    expect(denied.cause).to.equal(refusal);
  });

  it("versions(name) hands out a copy: changing it does not change what the next caller gets", async () => {
    currentOnly({ SecretString: "v1" });
    const store = new SecretsManagerStore(client, { now });
    const first = await store.versions("s");
    first.push("planted");
    expect(await store.versions("s")).to.deep.equal(["v1"]);
  });

  it("clear() drops the cached values and the memory of a missing secret", async () => {
    currentOnly({ SecretString: "v1" }, { SecretString: "v2" });
    const store = new SecretsManagerStore(client, { now });
    await store.versions("s");
    store.clear();
    expect(store.peek("s")).to.equal(undefined);
    expect(await store.versions("s")).to.deep.equal(["v2"]);
    sm.reset();
    sm.on(GetSecretValueCommand).rejectsOnce(notFound()).resolves({ SecretString: "created" });
    expect(await store.versions("late").catch((e) => e)).to.be.instanceOf(SecretNotFoundError);
    store.clear();
    expect(await store.versions("late")).to.deep.equal(["created"]);
  });

  it("versions(name) never puts the secret value in an error message", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).rejects(throttled());
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).resolves({ SecretString: "s3cr3t-value" });
    const error = await new SecretsManagerStore(client, { now }).versions("s").catch((e) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect(String(error.message)).not.to.contain("s3cr3t-value");
  });

  it("a forced refresh queued behind a fetch that failed takes the values of the fetch a plain read began after that failure, instead of failing with the old error", async () => {
    let releaseFirst: () => void = () => {};
    const firstFetchHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let calls = 0;
    sm.on(GetSecretValueCommand).callsFake(async (input: { VersionStage?: string }) => {
      calls++;
      if (calls <= 2) {
        await firstFetchHeld;
        throw throttled();
      }
      return { SecretString: input.VersionStage === "AWSCURRENT" ? "rotated" : "old" };
    });
    const store = new SecretsManagerStore(client, { now });
    const plain = store.versions("s"); // the first fetch, throttled once released
    const forced = store.versions("s", { refresh: true }); // queued behind it
    const plainAgain = plain.catch(() => store.versions("s")); // begins a second fetch once the first failed
    releaseFirst();
    expect(await forced).to.deep.equal(["rotated", "old"]);
    expect(await plainAgain).to.deep.equal(["rotated", "old"]);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(4);
  });

  it("a forced refresh queued behind a plain read's fetch that succeeds after a throttled one fetches once more, rather than failing with the throttling that fetch got past", async () => {
    let releaseSecond: () => void = () => {};
    const secondFetchHeld = new Promise<void>((resolve) => {
      releaseSecond = resolve;
    });
    let calls = 0;
    sm.on(GetSecretValueCommand).callsFake(async (input: { VersionStage?: string }) => {
      calls++;
      if (calls <= 2) throw throttled();
      if (calls <= 4) {
        await secondFetchHeld;
        return { SecretString: input.VersionStage === "AWSCURRENT" ? "before" : "older" };
      }
      return { SecretString: input.VersionStage === "AWSCURRENT" ? "rotated" : "before" };
    });
    const store = new SecretsManagerStore(client, { now });
    // Nothing cached: the first read fails as a whole, and its failure is remembered for forced refreshes.
    expect(await store.versions("s").catch((err: unknown) => err)).to.be.instanceOf(TransientDependencyError);
    const plain = store.versions("s"); // a second fetch, within the interval, that succeeds
    const forced = store.versions("s", { refresh: true }); // asked while it is in flight: queued behind it
    releaseSecond();
    expect(await plain).to.deep.equal(["before", "older"]);
    expect(await forced).to.deep.equal(["rotated", "before"]);
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(6);
  });

  it("a store made without a log still gives the current value when AWSPREVIOUS is refused", async () => {
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "current-value" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused("AccessDeniedException"));
    const store = new SecretsManagerStore(client, { now });
    expect(await store.versions("hookgate/jenkins")).to.deep.equal(["current-value"]);
  });

  it("the warning for a refused AWSPREVIOUS says the current version is used alone and names the fix (kms:Decrypt on the old key)", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "current-value" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused("AccessDeniedException"));
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    await store.versions("hookgate/jenkins");
    expect(lines).to.have.length(1);
    expect(String(lines[0]?.msg)).to.match(/AWSPREVIOUS.*current version alone/);
    expect(String(lines[0]?.hint)).to.include("kms:Decrypt");
  });

  it("the warning for a refused AWSPREVIOUS names the code Error when the refusal carries no name", async () => {
    const lines: Record<string, unknown>[] = [];
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).resolves({ SecretString: "current-value" });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(refused(""));
    const store = new SecretsManagerStore(client, { now, log: (line) => lines.push(line) });
    expect(await store.versions("s")).to.deep.equal(["current-value"]);
    expect(lines[0]).to.include({ code: "Error" });
  });
});

describe("Function: withFreshCredentials over SecretsManagerStore while Secrets Manager throttles", () => {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const sm = mockClient(client);
  after(() => sm.restore());

  it("withFreshCredentials makes a 401 retryable, not final (a dead letter), when its re-read of a rotated token fails on a throttled AWSPREVIOUS: whether the token changed is not known yet", async () => {
    let clock = 1_000_000;
    const current = { value: "old-token-0123456789" };
    sm.on(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).callsFake(async () => ({
      SecretString: current.value,
    }));
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" })
      .resolvesOnce({ SecretString: "older-token-0123456" })
      .rejects(throttled());
    const store = new SecretsManagerStore(client, { now: () => clock });
    const [used] = await store.versions("hookgate/jenkins"); // an earlier delivery read it
    clock += 10_000; // past the forced refresh's interval, inside the cache's
    current.value = "new-token-0123456789"; // put-secret-value; the old one revoked
    const logs: unknown[] = [];
    const result = await withFreshCredentials(
      { secrets: store, log: (line) => logs.push(line) },
      "hookgate/jenkins",
      used as string,
      async (value) => {
        if (value !== current.value) {
          throw new CredentialsRefusedError(new ActionError("Jenkins answered 401", { retryable: false }));
        }
        return "queued";
      },
    ).catch((e: unknown) => e);
    expect(result).to.be.instanceOf(ActionError);
    expect((result as ActionError).retryable, String(result)).to.equal(true);
    expect((result as ActionError).message).to.contain('"hookgate/jenkins" could not be read again');
    expect((result as ActionError).message).not.to.contain("token-0123456789");
  });
});

describe("Class: SecretsManagerStore, a read that joins a forced refresh in flight", () => {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const sm = mockClient(client);
  after(() => sm.restore());

  it("versions(name) gives a caller the values cached within the TTL even while a forced refresh of that secret is in flight and fails on a throttled read", async () => {
    let clock = 1_000_000;
    const throttle = { on: false };
    sm.on(GetSecretValueCommand).callsFake(async (input: { VersionStage: string }) => {
      if (throttle.on) throw throttled();
      return { SecretString: `${input.VersionStage}-value` };
    });
    const store = new SecretsManagerStore(client, { now: () => clock, ttlMs: 300_000 });
    expect(await store.versions("hookgate/github")).to.deep.equal(["AWSCURRENT-value", "AWSPREVIOUS-value"]);
    clock += 10_000; // inside the TTL, past the forced refresh's interval
    throttle.on = true;
    // A delivery with a bad signature forces a refresh; a valid delivery of the same route reads meanwhile.
    const forced = store.versions("hookgate/github", { refresh: true }).catch((e: unknown) => e);
    const plain = await store.versions("hookgate/github").catch((e: unknown) => e);
    await forced;
    // A valid delivery must not share the forced refresh's failure (a 503).
    expect(plain).to.deep.equal(["AWSCURRENT-value", "AWSPREVIOUS-value"]);
  });
});

describe("Class: SecretsManagerStore, a forced refresh asked while a read is in flight", () => {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const sm = mockClient(client);
  after(() => sm.restore());
  beforeEach(() => sm.reset());

  /**
   * AWSCURRENT answers what the secret held when the request reached Secrets Manager; AWSPREVIOUS does not exist.
   * While `held`, answers wait until `release` (a slow or retried GetSecretValue).
   */
  function slowSecretsManager(initial: string) {
    const secret = { value: initial, throttled: false };
    let held: Array<() => void> | undefined;
    sm.on(GetSecretValueCommand).callsFake(async (input: { VersionStage: string }) => {
      const answer = input.VersionStage === "AWSCURRENT" ? { SecretString: secret.value } : undefined;
      const throttledNow = secret.throttled;
      if (held) await new Promise<void>((resolve) => held?.push(resolve));
      if (throttledNow) throw throttled();
      if (!answer) throw notFound();
      return answer;
    });
    return {
      secret,
      currentCalls: () => sm.commandCalls(GetSecretValueCommand, { VersionStage: "AWSCURRENT" }).length,
      hold: () => {
        held = [];
      },
      release: () => {
        const waiting = held ?? [];
        held = undefined;
        for (const resolve of waiting) resolve();
      },
    };
  }

  it("withFreshCredentials tries the rotated token when the 401 came while another delivery's read, sent before the rotation, was in flight", async () => {
    let clock = 1_000_000;
    const fake = slowSecretsManager("old-token-0123456789");
    const store = new SecretsManagerStore(client, { now: () => clock });
    const [used] = await store.versions("hookgate/jenkins");
    clock += 5 * 60_000 + 1; // past the cache: another delivery reads the secret again, slowly
    fake.hold();
    const otherRead = store.versions("hookgate/jenkins");
    fake.secret.value = "new-token-0123456789"; // put-secret-value, then the old token is revoked
    const tried: string[] = [];
    const attempt = withFreshCredentials(
      { secrets: store, log: () => {} },
      "hookgate/jenkins",
      used as string,
      async (token) => {
        tried.push(token);
        if (token !== fake.secret.value) {
          throw new CredentialsRefusedError(new ActionError("Jenkins answered 401", { retryable: false }));
        }
        return "queued";
      },
    ).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    fake.release();
    expect(await otherRead).to.deep.equal(["old-token-0123456789"]);
    expect(await attempt).to.equal("queued");
    expect(tried).to.deep.equal(["old-token-0123456789", "new-token-0123456789"]);
  });

  it("versions(name, {refresh}) asked while a read is in flight fetches again once that read is done, one fetch for every refresh asked meanwhile", async () => {
    let clock = 1_000_000;
    const fake = slowSecretsManager("v1");
    const store = new SecretsManagerStore(client, { now: () => clock, ttlMs: 60_000 });
    await store.versions("s");
    clock += 61_000;
    fake.hold();
    const plain = store.versions("s");
    fake.secret.value = "v2";
    const forced = Array.from({ length: 5 }, () => store.versions("s", { refresh: true }));
    await new Promise((resolve) => setImmediate(resolve));
    fake.release();
    expect(await plain).to.deep.equal(["v1"]);
    expect(await Promise.all(forced)).to.deep.equal(Array.from({ length: 5 }, () => ["v2"]));
    expect(fake.currentCalls()).to.equal(3);
  });
  it("versions(name, {refresh}) asked while a read is in flight fails with that read's error, without a fetch of its own, when that read fails (throttled)", async () => {
    let clock = 1_000_000;
    const fake = slowSecretsManager("v1");
    const store = new SecretsManagerStore(client, { now: () => clock, ttlMs: 60_000 });
    await store.versions("s");
    clock += 61_000;
    fake.hold();
    fake.secret.throttled = true;
    const plain = store.versions("s");
    const forced = Array.from({ length: 3 }, () =>
      store.versions("s", { refresh: true }).catch((e: unknown) => e),
    );
    await new Promise((resolve) => setImmediate(resolve));
    fake.release();
    expect(await plain).to.deep.equal(["v1"]); // stale, within the stale window
    for (const error of await Promise.all(forced)) expect(error).to.be.instanceOf(TransientDependencyError);
    expect(fake.currentCalls()).to.equal(2);
  });
});
