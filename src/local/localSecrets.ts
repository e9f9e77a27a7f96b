// The secrets file `hookgate serve` creates when the user gives none: a random webhook secret for every
// webhook secret name routes.yaml references. Existing values are kept; missing ones are added.
import { randomBytes } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, readFileSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { withoutByteOrderMark } from "../core/secretValues";
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

/**
 * Create or complete `file` (mode 0600) so it holds a value for each of `names`. Something other than a
 * regular file there is refused, naming the path: a symlink would be replaced by a regular file holding a copy
 * of every secret of its target (the write renames a new file over the path), and chmod would change the
 * target's mode; a directory or a FIFO cannot be read as one.
 */
export function ensureWebhookSecrets(file: string, names: readonly string[]): EnsuredSecrets {
  let data: Record<string, unknown> = {};
  // Read past a leading byte order mark (PowerShell 5.1's UTF8); a rewrite writes none.
  const found = existingText(file);
  const text = found === undefined ? undefined : withoutByteOrderMark(found);
  if (text !== undefined) {
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
  if (created.length > 0 || text === undefined) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomicSync(file, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, durable: true });
  }
  chmodSync(file, 0o600);
  return { file, created };
}

/** The text of `file`; undefined when nothing is there. Errors are SecretsFileErrors naming the path. */
function existingText(file: string): string | undefined {
  let stats: Stats;
  try {
    stats = lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw unreadable(file, error);
  }
  if (stats.isSymbolicLink()) {
    throw new SecretsFileError(
      `secrets file ${file} is a symbolic link, which serve would replace with a copy of its target: ` +
        "pass the file it points to with --secrets FILE (serve then generates no secret), or remove the link",
    );
  }
  if (stats.isDirectory()) throw new SecretsFileError(`secrets file ${file} is a directory`);
  if (!stats.isFile()) throw new SecretsFileError(`secrets file ${file} is not a regular file`);
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw unreadable(file, error);
  }
}

function unreadable(file: string, error: unknown): SecretsFileError {
  return new SecretsFileError(
    `secrets file ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`,
    {
      cause: error,
    },
  );
}
