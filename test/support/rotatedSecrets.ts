// The deployed secret store (SecretsManagerStore, on a real SDK client stubbed at the client boundary) for
// rotation tests: its cache holds what Secrets Manager held when it was read, and `rotate` changes what
// Secrets Manager holds now, as `aws secretsmanager put-secret-value` does while a function is warm.
// Make it in before() (or the test) and restore() it after: the stub is on this one client only.
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { SecretsManagerStore } from "../../src/aws/secrets";

/** The store's default: a forced refresh is skipped for this long after a read. */
export const MIN_REFRESH_INTERVAL_MS = 5_000;

export class RotatedSecrets {
  private readonly values = new Map<string, string>();
  private readonly client = new SecretsManagerClient({ region: "eu-west-1" });
  private readonly stub = mockClient(this.client);
  private clock = 1_770_000_000_000;
  readonly store: SecretsManagerStore;

  constructor(initial: Record<string, string>) {
    for (const [name, value] of Object.entries(initial)) this.values.set(name, value);
    this.stub
      .on(GetSecretValueCommand)
      .callsFake(async (input: { SecretId: string; VersionStage: string }) => {
        const value = input.VersionStage === "AWSCURRENT" ? this.values.get(input.SecretId) : undefined;
        if (value === undefined) {
          throw new ResourceNotFoundException({ message: "Secrets Manager can't find it.", $metadata: {} });
        }
        return { SecretString: value };
      });
    this.store = new SecretsManagerStore(this.client, {
      now: () => this.clock,
      minRefreshIntervalMs: MIN_REFRESH_INTERVAL_MS,
    });
  }

  /** Read each secret into the cache, then let time pass: past the forced-refresh interval, inside the cache's. */
  async cache(...names: string[]): Promise<void> {
    for (const name of names) await this.store.versions(name);
    this.clock += MIN_REFRESH_INTERVAL_MS + 1_000;
  }

  /** What Secrets Manager holds from now on; the cache still holds the old value. */
  rotate(name: string, value: string): void {
    this.values.set(name, value);
  }

  /** How many times the current version of `name` was fetched from Secrets Manager. */
  reads(name: string): number {
    return this.stub.commandCalls(GetSecretValueCommand, { SecretId: name, VersionStage: "AWSCURRENT" })
      .length;
  }

  restore(): void {
    this.stub.restore();
  }
}
