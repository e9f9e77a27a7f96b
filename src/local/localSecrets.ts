// The secrets file `hookgate serve` creates when the user gives none: a random webhook secret for every
// webhook secret name routes.yaml references. Existing values are kept; missing ones are added.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Route } from "../core/types";
import { writeFileAtomicSync } from "./atomicFile";
import { jsonSyntaxProblem, SecretsFileError } from "./fileSecretStore";

export interface EnsuredSecrets {
  file: string;
  /** Names this call generated a value for. */
  created: string[];
}

/** The webhook secret names (route.secret) the routes reference, sorted, without duplicates. */
export function webhookSecretNames(routes: readonly Route[]): string[] {
  return [...new Set(routes.map((r) => r.secret).filter((s): s is string => typeof s === "string"))].sort();
}

export function newWebhookSecret(): string {
  return randomBytes(32).toString("hex");
}

/** Create or complete `file` (mode 0600) so it holds a value for each of `names`. */
export function ensureWebhookSecrets(file: string, names: readonly string[]): EnsuredSecrets {
  let data: Record<string, unknown> = {};
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8");
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new SecretsFileError(`${file}: ${jsonSyntaxProblem(text, error)}; fix or delete it`);
    }
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw new SecretsFileError(`${file}: expected a JSON object; fix or delete it`);
    }
  }
  const created: string[] = [];
  for (const name of names) {
    // Own properties only, each defined as one: a secret named "constructor" is not Object's, and one named
    // "__proto__" is a key of the file, not the object's prototype.
    const value = Object.getOwnPropertyDescriptor(data, name)?.value;
    if (value === undefined || value === null || value === "") {
      Object.defineProperty(data, name, {
        value: newWebhookSecret(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      created.push(name);
    }
  }
  if (created.length > 0 || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomicSync(file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, durable: true });
  }
  chmodSync(file, 0o600);
  return { file, created };
}
