// Reading the actions' secrets. A missing or malformed secret is a deployment mistake: a final
// error that names the secret, never its value. A store that fails (throttled, unreachable, refusing) is retryable.
import { ActionError, SecretNotFoundError, TransientDependencyError } from "../core/errors";
import { looksRandom, RANDOM_SECRET_NAME, withoutSecretNamePrefix } from "../core/routes/checks";
import { withoutByteOrderMark } from "../core/secretValues";
import type { Provider } from "../core/types";
import type { ActionClients } from "./types";

/** The route's key that names a secret an action reads, so a commit status that hides the name says which. */
/** As routes.yaml writes them: an API token is the action's `token` or `providers.<provider>.token`. */
export type SecretKey =
  | "token"
  | "providers.<provider>.caBundle"
  | "jenkins.credentials"
  | "jenkins.caBundle";

/**
 * A secret's name as a commit status (public) shows it: as `written` (quoted by default), or, when it
 * looksRandom (maybe the value, pasted), the route's key that holds it. Messages and log lines name it plainly:
 * the operator needs it to find the secret, and it already sits in the IAM policy and the function's environment.
 * The name has the stack's secretNamePrefix in front (`prefix`, ActionClients.secretNamePrefix): judged without it,
 * as check judges it (looksRandomBehindPrefix), and, being public, also behind each leading "/"-part of what
 * routes.yaml writes: a value pasted after a path part (`jenkins/q8Zr…/3Hc…`) reads as a path to check, which
 * notes nothing, and must not be published all the same.
 */
export function publicSecretName(
  name: string,
  key?: SecretKey,
  written: (name: string) => string = (n) => `"${n}"`,
  prefix = "",
): string {
  if (!generatedAfterASlash(withoutSecretNamePrefix(name, prefix))) return written(name);
  return key ? `the ${key} secret ${RANDOM_SECRET_NAME}` : `a secret of this route ${RANDOM_SECRET_NAME}`;
}

/**
 * Whether the name looksRandom, or what follows any "/" of it, however far in, does: a value pasted after a path
 * (the whole name judged as check judges it, looksRandomBehindPrefix, is one of these).
 */
function generatedAfterASlash(name: string): boolean {
  for (let slash = name.indexOf("/"); slash >= 0; slash = name.indexOf("/", slash + 1)) {
    if (looksRandom(name.slice(slash + 1))) return true;
  }
  return looksRandom(name);
}

/** "secret <name>" as a commit status shows it (publicSecretName). */
function publicSecret(name: string, key?: SecretKey, prefix?: string): string {
  return publicSecretName(name, key, (n) => `secret "${n}"`, prefix);
}

/**
 * A final or retryable error whose message names the secret and whose commit status hides a random-looking name
 * (`secretNamePrefix`: the stack's, in front of `name`; publicSecretName).
 */
export function secretError(
  name: string,
  key: SecretKey | undefined,
  text: (secret: string) => string,
  options: { retryable: boolean; cause?: unknown; secretNamePrefix?: string },
): ActionError {
  const { secretNamePrefix, ...rest } = options;
  return new ActionError(text(`secret "${name}"`), {
    ...rest,
    publicMessage: text(publicSecret(name, key, secretNamePrefix)),
  });
}

/** The current version of a secret. `key`: the route's key that names it, for a commit status that hides it. */
export async function readSecret(
  clients: Pick<ActionClients, "secrets" | "secretNamePrefix">,
  name: string,
  key?: SecretKey,
): Promise<string> {
  const prefix = clients.secretNamePrefix;
  let values: string[];
  try {
    values = await clients.secrets.versions(name);
  } catch (err) {
    if (err instanceof SecretNotFoundError) {
      // The store's own words when they give the way back (restore-secret); a commit status does without the command.
      if (err.scheduledForDeletion) {
        throw new ActionError(err.message, {
          retryable: false,
          cause: err,
          publicMessage: `${publicSecret(name, key, prefix)} is scheduled for deletion: restore it to use it again`,
        });
      }
      throw secretError(name, key, (secret) => `${secret} was not found or holds no value`, {
        retryable: false,
        cause: err,
        secretNamePrefix: prefix,
      });
    }
    // The store's own words name the secret and what Secrets Manager said (throttled, or refused: AccessDenied,
    // a KMS key it cannot use), never a value; anything else is not quoted. A commit status gets only the
    // error's name: Secrets Manager's words name the caller's role ARN (the account id) or an endpoint's address.
    if (err instanceof TransientDependencyError) {
      throw new ActionError(err.message, {
        retryable: true,
        cause: err,
        publicMessage: storeFailure(name, err, key, prefix),
      });
    }
    throw secretError(name, key, (secret) => `Secrets Manager could not be read (${secret})`, {
      retryable: true,
      cause: err,
      secretNamePrefix: prefix,
    });
  }
  const current = values[0];
  if (current === undefined || current.trim() === "") {
    throw secretError(name, key, (secret) => `${secret} holds no value`, {
      retryable: false,
      secretNamePrefix: prefix,
    });
  }
  return current;
}

/**
 * A store's failure as a commit status may show it (public on a public repository): the secret's name and the
 * error's name (AccessDeniedException), never the store's words.
 */
function storeFailure(
  name: string,
  error: TransientDependencyError,
  key: SecretKey | undefined,
  prefix: string | undefined,
): string {
  return `Secrets Manager could not give ${publicSecretName(name, key, undefined, prefix)} (${errorName(error.cause)})`;
}

/** The SDK's error name, or a Node error's code (ECONNREFUSED) for a plain Error; "Error" for anything else. */
function errorName(error: unknown): string {
  const { name, code } = (typeof error === "object" && error !== null ? error : {}) as Record<
    string,
    unknown
  >;
  for (const candidate of [name === "Error" ? undefined : name, code]) {
    // An identifier only: nothing else of the error's text gets out.
    if (typeof candidate === "string" && /^[A-Za-z][\w.]{0,79}$/.test(candidate)) return candidate;
  }
  return "Error";
}

/**
 * A final refusal of the credentials a secret holds (a 401 from Jenkins or a Git host). The same error as
 * any final one, marked: the secret may have been rotated since the store cached it (five minutes deployed),
 * and withFreshCredentials reads it once more before the refusal stands.
 */
export class CredentialsRefusedError extends ActionError {
  constructor(refusal: ActionError) {
    super(refusal.message, { retryable: false, cause: refusal.cause, publicMessage: refusal.publicMessage });
  }
}

/** `err` as a refusal of the credentials when it is a final error for a 401 answer; else `err` itself. */
export function markRefusedCredentials(err: ActionError, status: number): ActionError {
  return status === 401 && !err.retryable ? new CredentialsRefusedError(err) : err;
}

/**
 * The secret's current value read again, bypassing the cache, as the receive path re-reads a webhook secret
 * whose signature did not match: the store's forced refresh, which it skips for a few seconds after a read
 * (SecretStore.versions with refresh). Undefined when it holds the value `used` still, holds nothing, or is
 * gone: then the refusal stands. When Secrets Manager fails for a while (throttled, unreachable), a retryable
 * error: whether the token was rotated is not known, and the next attempt reads it again.
 */
export async function rereadSecret(
  clients: Pick<ActionClients, "secrets" | "secretNamePrefix">,
  name: string,
  used: string,
  key?: SecretKey,
): Promise<string | undefined> {
  let values: string[];
  try {
    values = await clients.secrets.versions(name, { refresh: true });
  } catch (error) {
    if (!(error instanceof TransientDependencyError)) return undefined;
    const refused = (shown: string) =>
      `the credentials were refused (401), and ${shown} could not be read again to look for a rotated value`;
    throw new ActionError(`${refused(`"${name}"`)}: ${error.message}`, {
      retryable: true,
      cause: error,
      publicMessage: `${refused(publicSecretName(name, key, undefined, clients.secretNamePrefix))}: ${storeFailure(name, error, key, clients.secretNamePrefix)}`,
    });
  }
  const current = values[0];
  return current === undefined || current.trim() === "" || current === used ? undefined : current;
}

/**
 * `run` with the secret's value `used`; when that value's credentials are refused (CredentialsRefusedError)
 * and the secret holds another value now, `run` once more with it, within the same attempt (a rotated token:
 * without this every delivery fails for good until the cached value expires). Otherwise the refusal stands.
 */
export async function withFreshCredentials<T>(
  clients: Pick<ActionClients, "secrets" | "log" | "secretNamePrefix">,
  name: string,
  used: string,
  run: (value: string) => Promise<T>,
  context: Record<string, unknown> = {},
  key?: SecretKey,
): Promise<T> {
  try {
    return await run(used);
  } catch (err) {
    if (!(err instanceof CredentialsRefusedError)) throw err;
    const fresh = await rereadSecret(clients, name, used, key);
    if (fresh === undefined) throw err;
    clients.log({ ...REREAD_LOG, secret: name, ...context });
    return run(fresh);
  }
}

/** The log line of a refusal that a new value of the secret is tried against (never a value). */
export const REREAD_LOG = {
  msg: "credentials refused (401), and the secret holds a new value since it was read: trying again with it",
  level: "warn",
} as const;

export interface JenkinsCredentials {
  user: string;
  token: string;
}

/**
 * `{"user": "...", "token": "..."}` (also accepted: username / apiToken / password). `secretNamePrefix`: the
 * stack's, in front of `name` (publicSecretName).
 */
export function parseJenkinsCredentials(
  raw: string,
  name: string,
  secretNamePrefix?: string,
): JenkinsCredentials {
  const bad = () =>
    secretError(
      name,
      "jenkins.credentials",
      (secret) => `${secret} must be JSON {"user": "...", "token": "..."} (Jenkins user and API token)`,
      { retryable: false, secretNamePrefix },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(withoutByteOrderMark(raw));
  } catch {
    throw bad();
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw bad();
  const record = parsed as Record<string, unknown>;
  // Trimmed, as a Git host token is: a value saved with a line break would otherwise be a final 401.
  const user = text(record.user) ?? text(record.username);
  const token = text(record.token) ?? text(record.apiToken) ?? text(record.password);
  if (user === undefined || token === undefined) throw bad();
  return { user, token };
}

export type ProviderCredential =
  | { kind: "token"; token: string }
  | { kind: "basic"; user: string; password: string };

/**
 * A Git host token: the plain string, or JSON {"token": "..."}, sent alone (Bearer; GitLab's PRIVATE-TOKEN,
 * Gitea's token). A user and its token are sent as Basic: {"email": "...", "apiToken": "..."} for an
 * Atlassian API token (Bitbucket Cloud's REST API takes it with the account's email as user, never as a
 * Bearer), or {"username": "...", "password": "..."}. On Bitbucket Cloud, where a token sent alone must be an
 * access token, {"email", "token"} and {"username": "<an email>", "token"} are Basic too; a user that is no
 * email, and any user on the other hosts, is ignored beside a token, as it always was.
 */
export function parseProviderToken(
  raw: string,
  name: string,
  provider?: Provider,
  secretNamePrefix?: string,
): ProviderCredential {
  // trim also takes off a leading byte order mark (U+FEFF is white space to it).
  const trimmed = raw.trim();
  if (!trimmed.startsWith("{"))
    return { kind: "token", token: headerSafeToken(trimmed, name, secretNamePrefix) };
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw secretError(name, "token", (secret) => `${secret} is neither a plain token nor valid JSON`, {
      retryable: false,
      secretNamePrefix,
    });
  }
  const token = text(record.token) ?? text(record.value);
  const user = text(record.email) ?? text(record.username) ?? text(record.user);
  // Only Bitbucket Cloud takes a token with a user, and only an API token with the account's email. Elsewhere
  // (and for a Bitbucket access token, which a user such as x-token-auth may accompany) the token goes alone.
  const tokenWithUser = provider === "bitbucket" && user?.includes("@") === true;
  if (token !== undefined && !tokenWithUser)
    return { kind: "token", token: headerSafeToken(token, name, secretNamePrefix) };
  const password =
    text(record.apiToken) ??
    text(record.appPassword) ??
    text(record.password) ??
    (tokenWithUser ? token : undefined);
  if (user !== undefined && password !== undefined) return { kind: "basic", user, password };
  throw secretError(
    name,
    "token",
    (secret) =>
      `${secret} must hold a token: the token alone, {"token": "..."}, or a user and its token, ` +
      `{"email": "...", "apiToken": "..."} (an Atlassian API token, for Bitbucket Cloud) or {"username": "...", "password": "..."}`,
    { retryable: false, secretNamePrefix },
  );
}

/** A non-empty string, trimmed (a value saved with a line break, `jq --arg` of a line); else undefined. */
function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * A token goes into a header as it is: printable ASCII, no space. A line break (a file saved with CRLF,
 * `jq --arg` of a line) or an invisible character pasted with it would make every request unsendable.
 */
function headerSafeToken(token: string, name: string, secretNamePrefix: string | undefined): string {
  // No Git host's token has a quote or a backslash: a token stored as a JSON string literal (as
  // `--query SecretString` or jq without -r print it) or with a shell's quotes would be a 401 on every call.
  if (/["'`\\]/.test(token)) {
    const quoted = /^(["'`]).*\1$/s.test(token)
      ? "it looks quoted (stored with its quotes, as `--query SecretString` or jq without -r prints a JSON string): store the token without them"
      : "it holds a quote or a backslash, which no token has";
    throw secretError(
      name,
      "token",
      (secret) => `${secret} does not look like an API token: ${quoted} (the value is not shown)`,
      { retryable: false, secretNamePrefix },
    );
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw secretError(
      name,
      "token",
      (secret) =>
        `${secret} does not look like an API token: it holds a space, a line break or a character a token never has (the value is not shown)`,
      { retryable: false, secretNamePrefix },
    );
  }
  return token;
}
