// Reading the actions' secrets. A missing or malformed secret is a deployment mistake: a final
// error that names the secret, never its value. A throttled store is retryable.
import { ActionError, SecretNotFoundError, TransientDependencyError } from "../core/errors";
import type { ActionClients } from "./types";

/** The current version of a secret. */
export async function readSecret(clients: Pick<ActionClients, "secrets">, name: string): Promise<string> {
  let values: string[];
  try {
    values = await clients.secrets.versions(name);
  } catch (err) {
    if (err instanceof SecretNotFoundError) {
      throw new ActionError(`secret "${name}" was not found or holds no value`, {
        retryable: false,
        cause: err,
      });
    }
    const reason =
      err instanceof TransientDependencyError ? "is unavailable or throttled" : "could not be read";
    throw new ActionError(`Secrets Manager ${reason} (secret "${name}")`, { retryable: true, cause: err });
  }
  const current = values[0];
  if (current === undefined || current.trim() === "") {
    throw new ActionError(`secret "${name}" holds no value`, { retryable: false });
  }
  return current;
}

export interface JenkinsCredentials {
  user: string;
  token: string;
}

/** `{"user": "...", "token": "..."}` (also accepted: username / apiToken / password). */
export function parseJenkinsCredentials(raw: string, name: string): JenkinsCredentials {
  const bad = () =>
    new ActionError(
      `secret "${name}" must be JSON {"user": "...", "token": "..."} (Jenkins user and API token)`,
      {
        retryable: false,
      },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw bad();
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw bad();
  const record = parsed as Record<string, unknown>;
  const user = record.user ?? record.username;
  const token = record.token ?? record.apiToken ?? record.password;
  if (typeof user !== "string" || user === "" || typeof token !== "string" || token === "") throw bad();
  return { user, token };
}

export type ProviderCredential =
  | { kind: "token"; token: string }
  | { kind: "basic"; user: string; password: string };

/**
 * A Git host token: the plain string, or JSON {"token": "..."}; for Bitbucket app passwords JSON
 * {"username": "...", "appPassword": "..."}.
 */
export function parseProviderToken(raw: string, name: string): ProviderCredential {
  const trimmed = raw.trim();
  if (!trimmed.startsWith("{")) return { kind: "token", token: headerSafeToken(trimmed, name) };
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw new ActionError(`secret "${name}" is neither a plain token nor valid JSON`, { retryable: false });
  }
  const token = record.token ?? record.value;
  if (typeof token === "string" && token.trim() !== "") {
    return { kind: "token", token: headerSafeToken(token.trim(), name) };
  }
  const user = record.username ?? record.user;
  const password = record.appPassword ?? record.password;
  if (typeof user === "string" && user !== "" && typeof password === "string" && password !== "") {
    return { kind: "basic", user, password };
  }
  throw new ActionError(
    `secret "${name}" must hold a token, {"token": "..."} or {"username", "appPassword"}`,
    {
      retryable: false,
    },
  );
}

/**
 * A token goes into a header as it is: printable ASCII, no space. A line break (a file saved with CRLF,
 * `jq --arg` of a line) or an invisible character pasted with it would make every request unsendable.
 */
function headerSafeToken(token: string, name: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new ActionError(
      `secret "${name}" does not look like an API token: it holds a space, a line break or a character a token never has (the value is not shown)`,
      { retryable: false },
    );
  }
  return token;
}
