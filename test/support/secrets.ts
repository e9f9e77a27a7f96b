// An in-memory SecretStore double: names map to their versions (current first). It can be made to
// throw TransientDependencyError (a throttled or unreachable Secrets Manager) for the next N reads.
import { SecretNotFoundError, TransientDependencyError } from "../../src/core/errors";
import type { SecretStore } from "../../src/core/ports";

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string[]>();
  private failuresLeft = 0;
  /** Every name read, in order (values are never recorded). */
  readonly reads: string[] = [];

  constructor(initial: Record<string, string | string[]> = {}) {
    for (const [name, value] of Object.entries(initial)) this.set(name, value);
  }

  set(name: string, value: string | string[]): this {
    this.values.set(name, Array.isArray(value) ? [...value] : [value]);
    return this;
  }

  delete(name: string): this {
    this.values.delete(name);
    return this;
  }

  /** The next `times` reads throw TransientDependencyError (default: until `heal()`). */
  throttle(times = Number.POSITIVE_INFINITY): this {
    this.failuresLeft = times;
    return this;
  }

  heal(): this {
    this.failuresLeft = 0;
    return this;
  }

  async versions(name: string): Promise<string[]> {
    this.reads.push(name);
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new TransientDependencyError(`Secrets Manager throttled reading "${name}"`);
    }
    const values = this.values.get(name);
    if (!values || values.length === 0) throw new SecretNotFoundError(name);
    return [...values];
  }
}
