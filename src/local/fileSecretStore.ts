// SecretStore backed by a JSON file: { "<secret name>": "value" | {json} | [json] }.
// A string value is the secret as is; any other JSON value is handed over as its JSON text, exactly
// like a Secrets Manager SecretString holding JSON. The file is re-read when it changes, so a user can
// edit secrets (or rotate: ["new", "old"]) without restarting `hookgate serve`.
import { readFileSync, statSync } from "node:fs";
import { SecretNotFoundError, TransientDependencyError } from "../core/errors";
import { jsonErrorOffset } from "../core/jsonErrorOffset";
import type { LogFn, SecretStore } from "../core/ports";
import { looksRandom, secretRefProblem } from "../core/routes/checks";
import { withoutByteOrderMark } from "../core/secretValues";

export class SecretsFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SecretsFileError";
  }
}

/**
 * Where JSON.parse failed in a secrets file, never what it read there: V8's message may quote the text
 * ('Unexpected token 'a', "{"k": abc}" is not valid JSON'), which would put a secret in a log. The place is
 * found in the text (where V8 gives a position it is the same one; its message gives none for an unexpected
 * token or an early end), or V8's position should the scan find none.
 */
export function jsonSyntaxProblem(text: string, error: unknown): string {
  if (looksUtf16(text)) {
    return (
      "not valid JSON: it looks like UTF-16 (Windows PowerShell 5.1's > and Out-File write it so); save it as UTF-8 " +
      "(Out-File -Encoding utf8, Set-Content -Encoding utf8, or an editor's UTF-8)"
    );
  }
  // Found in the text first: V8's message may quote a text that itself says "at position N".
  const given = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(
    String((error as Error)?.message),
  )?.[1];
  const position = jsonErrorOffset(text) ?? (given === undefined ? undefined : Number(given));
  if (position === undefined) return "not valid JSON";
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `not valid JSON (line ${line}, column ${column})`;
}

/**
 * Whether `text`, a file read as UTF-8, is UTF-16: its byte order mark (FF FE or FE FF, each an invalid UTF-8
 * byte, so U+FFFD) before a NUL, or, without one, a NUL for every other character of an ASCII text's start.
 */
function looksUtf16(text: string): boolean {
  const start = text.slice(0, 64);
  const nuls = start.split("\u0000").length - 1;
  return (start.startsWith("\uFFFD\uFFFD") && nuls > 0) || (nuls > 0 && nuls >= start.length / 3);
}

/** Parse a secrets file's text into name -> secret string; throws SecretsFileError with a clear message. */
export function parseSecretsFile(fileText: string, file: string): Map<string, string> {
  // A file Windows PowerShell 5.1 wrote (Set-Content -Encoding UTF8) starts with a byte order mark.
  const text = withoutByteOrderMark(fileText);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new SecretsFileError(`${file}: ${jsonSyntaxProblem(text, error)}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new SecretsFileError(`${file}: expected a JSON object { "<secret name>": "value" | {...} }`);
  }
  const secrets = new Map<string, string>();
  for (const [name, value] of Object.entries(data)) {
    if (value === null || value === undefined) continue;
    if (typeof value === "number" || typeof value === "boolean") {
      // `true` or `12345` is a typo, not a secret: used as its text, it would be guessed. Its key is shown only
      // when it reads as a secret name: one may be a pasted secret ({"<secret>": true}, key and value swapped).
      const shown =
        secretRefProblem(name) === undefined && !looksRandom(name)
          ? `"${name}"`
          : "an entry (its key not shown, as a key may be a pasted secret)";
      throw new SecretsFileError(`${file}: ${shown} is a ${typeof value}; write the secret as a string`);
    }
    secrets.set(name, typeof value === "string" ? value : JSON.stringify(value));
  }
  return secrets;
}

/** How often (at most) the file's modification time is checked. */
const STAT_INTERVAL_MS = 1_000;
const REFRESH_INTERVAL_MS = 100;

/** What is wrong with the file on disk while the last good secrets serve, and which state of it that is. */
interface FileProblem {
  /** "secrets file X: not valid JSON (line L, column C)": never a value (jsonSyntaxProblem). */
  text: string;
  /** The file's mtime and size, or the stat's error code: a warning is logged once per change of these. */
  key: string;
}

export class FileSecretStore implements SecretStore {
  private secrets = new Map<string, string>();
  /** Each non-empty secret as its one version: what versions() copies and peek() hands out. */
  private cached = new Map<string, readonly string[]>();
  private loadedMtimeMs = -1;
  private checkedAt = 0;
  /** Set while the file cannot be read or parsed: the secrets served are the last good ones. */
  private problem: FileProblem | undefined;

  constructor(
    readonly file: string,
    private readonly now: () => number = Date.now,
    private readonly log: LogFn = () => undefined,
  ) {
    try {
      this.reload();
    } catch (error) {
      if (error instanceof SecretsFileError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const problem =
        code === "ENOENT" ? "not found" : code === "EISDIR" ? "is a directory" : `cannot be read (${code})`;
      throw new SecretsFileError(`secrets file ${file} ${problem}`, { cause: error });
    }
  }

  async versions(name: string, options?: { refresh?: boolean }): Promise<string[]> {
    const refresh = options?.refresh === true;
    this.maybeReload(refresh);
    const known = this.cached.get(name);
    const problem = this.problem;
    // The file on disk may hold the name (just added) or a new value (a rotation: the caller refreshes
    // because the value it has was refused) that cannot be read yet: retryable, not "not found" or a 401.
    if (problem !== undefined && (known === undefined || refresh)) {
      const lacks = known === undefined ? "the last good secrets lack it" : "it may hold a new value";
      throw new TransientDependencyError(
        `secret "${name}" cannot be read: ${problem.text} (${lacks}); fix the file`,
        { cause: new SecretsFileError(problem.text) },
      );
    }
    if (known === undefined) {
      throw new SecretNotFoundError(name, {
        cause: new Error(`add "${name}" to ${this.file}`),
      });
    }
    return [...known];
  }

  peek(name: string, options?: { refresh?: boolean }): readonly string[] | undefined {
    const refresh = options?.refresh === true;
    // While the file is in error a refresh must reach versions(), which says so.
    if (refresh && this.problem !== undefined) return undefined;
    if (this.now() - this.checkedAt >= this.checkInterval(refresh)) return undefined;
    return this.cached.get(name);
  }

  /** The names the file defines. */
  names(): string[] {
    return [...this.secrets.keys()];
  }

  private maybeReload(refresh: boolean): void {
    const now = this.now();
    // A refresh (the handler's "the secret may have rotated") checks the file's mtime right away, but
    // at most every REFRESH_INTERVAL_MS: a flood of bad signatures must not turn into a flood of stats.
    if (now - this.checkedAt < this.checkInterval(refresh)) return;
    this.checkedAt = now;
    let stats: { mtimeMs: number; size: number };
    try {
      stats = statSync(this.file);
    } catch (error) {
      // Gone for a moment (an editor saving by rename): as with a half-edited file, the last good secrets
      // still serve; a delivery answered 503 here is not redelivered by GitHub on its own.
      if (this.loadedMtimeMs < 0) {
        throw new TransientDependencyError(`secrets file ${this.file} cannot be read`, { cause: error });
      }
      const code = String((error as NodeJS.ErrnoException).code);
      this.setProblem(
        `secrets file ${this.file}: ${code === "ENOENT" ? "not found" : `cannot be read (${code})`}`,
        code,
      );
      return;
    }
    // A file in error is read again at every check, whatever its mtime: a write that completes within the
    // mtime's grain must not leave the partial text's problem standing.
    if (stats.mtimeMs === this.loadedMtimeMs && this.problem === undefined) return;
    try {
      this.reload();
    } catch (error) {
      // A half-edited file: keep serving the last good secrets, answer 5xx only if there are none.
      if (this.loadedMtimeMs < 0) throw new TransientDependencyError(String((error as Error).message));
      const text =
        error instanceof SecretsFileError
          ? `secrets file ${error.message}`
          : `secrets file ${this.file}: cannot be read (${String((error as NodeJS.ErrnoException).code)})`;
      this.setProblem(text, `${stats.mtimeMs}:${stats.size}:${text}`);
    }
  }

  /** Records the file's problem; logs it once per change of the file (its mtime and size), never a value. */
  private setProblem(text: string, key: string): void {
    const known = this.problem?.key === key;
    this.problem = { text, key };
    if (known) return;
    this.say({
      level: "warn",
      msg: `${text}; the last good secrets still serve`,
      hint: "until the file is fixed, a delivery needing a secret they lack, or one read again after a refusal, is answered 503 or retried",
    });
  }

  private say(line: Record<string, unknown>): void {
    try {
      this.log(line);
    } catch {
      // A broken log sink must not fail a read of the secrets.
    }
  }

  private checkInterval(refresh: boolean): number {
    return refresh ? REFRESH_INTERVAL_MS : STAT_INTERVAL_MS;
  }

  private reload(): void {
    const mtimeMs = statSync(this.file).mtimeMs;
    this.secrets = parseSecretsFile(readFileSync(this.file, "utf8"), this.file);
    this.cached = new Map();
    for (const [name, value] of this.secrets) if (value !== "") this.cached.set(name, [value]);
    this.loadedMtimeMs = mtimeMs;
    this.checkedAt = this.now();
    if (this.problem !== undefined) {
      this.problem = undefined;
      this.say({ level: "info", msg: `secrets file ${this.file} read again: its secrets serve` });
    }
  }
}
