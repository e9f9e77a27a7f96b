// What every hookgate command shares: argument parsing that turns mistakes into usage errors, and the
// output streams (injectable, so tests can run a command in-process).
import { type ParseArgsConfig, parseArgs } from "node:util";
import ipaddr from "ipaddr.js";
import { clippedText, withoutInvisible } from "../core/shownText";

/** A mistake in the command line: the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * The process's own streams. A reader that goes away early (`hookgate check | head`) makes the next
 * write fail with EPIPE: the stream is then left alone, without a crash, and the command's exit status
 * stays what it would have been.
 */
export const processIo: CliIo = {
  stdout: guardedWriter(process.stdout),
  stderr: guardedWriter(process.stderr),
};

function guardedWriter(stream: NodeJS.WriteStream): (text: string) => void {
  let closed = false;
  let listening = false;
  return (text) => {
    if (closed) return;
    if (!listening) {
      listening = true;
      stream.on("error", (error: NodeJS.ErrnoException) => {
        closed = true;
        if (error.code === "EPIPE") return;
        // Any other failure (a full disk): say so on the other stream, and fail.
        if (stream !== process.stderr)
          process.stderr.write(`hookgate: cannot write its output: ${error.message}\n`);
        process.exitCode = 1;
      });
    }
    stream.write(text);
  };
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** util.parseArgs, strict, no positionals; its errors become UsageError with the message only. */
export function parseCommandArgs<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    const message = isExtraArgument(error)
      ? extraArgumentMessage(argv, options)
      : (unknownOptionAfterSecretMessage(error, argv, options) ?? parseArgsMessage(error));
    throw new UsageError(message + dashValueHint(error, options) + routesFileHint(error, options));
  }
}

function isExtraArgument(error: unknown): boolean {
  return (error as { code?: unknown })?.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL";
}

/**
 * An argument no option takes, never quoted: an unquoted `--secret $S` whose value has a space splits it, and
 * the rest of the secret is that argument. It names the option before it instead, which says where to look.
 */
function extraArgumentMessage(argv: string[], options: Options): string {
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const at = tokens.findIndex((token) => token.kind === "positional");
  const before = tokens[at - 1];
  const extra = "Unexpected extra argument";
  if (before?.kind === "option") {
    const flag = Object.hasOwn(options, before.name) ? `--${before.name}` : before.rawName;
    return before.value === undefined
      ? `${extra} after ${flag}, which takes no value`
      : `${extra} after ${flag} and its value: quote a value that has spaces`;
  }
  if (before?.kind === "option-terminator")
    return `${extra} after "--": this command takes no positional arguments`;
  return `${extra}: this command takes no positional arguments`;
}

/** Options whose value may be a credential: a usage error never quotes what follows them. */
const SECRET_OPTIONS = new Set(["secret", "insecure-header"]);

/**
 * An unquoted `--secret $S` whose second word starts with "-" (`Tr0ub4dor --S3cretHalf-9Zq`): parseArgs calls
 * that word an unknown option and quotes it, part of the secret. A word right after a value cannot be told
 * from a mistyped option, so after a secret-bearing option's value it is never quoted, and the option before
 * it is named instead; elsewhere parseArgs's message stands (`Unknown option '--secrt'`).
 */
function unknownOptionAfterSecretMessage(
  error: unknown,
  argv: string[],
  options: Options,
): string | undefined {
  if ((error as { code?: unknown })?.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return undefined;
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  // The first unknown option is the one strict parsing refused.
  const unknown = tokens.find((token) => token.kind === "option" && !Object.hasOwn(options, token.name));
  if (unknown === undefined) return undefined;
  // The last token of the word before (a short group such as -hQ is several tokens of one word).
  const before = tokens.filter((token) => token.index < unknown.index).at(-1);
  if (before?.kind !== "option" || before.value === undefined || !SECRET_OPTIONS.has(before.name)) {
    return undefined;
  }
  return `Unexpected option after --${before.name} and its value: quote a value that has spaces, or check the option's name`;
}

/**
 * `--secret -Zq3...`: parseArgs takes a value starting with "-" for an option and calls it ambiguous; a generated
 * secret (token_urlsafe) starts so 1 time in 64. Its own advice is cut with the rest (parseArgsMessage); said
 * here with the option's long name and never the value, which may be that secret.
 */
function dashValueHint(error: unknown, options: Options): string {
  if ((error as { code?: unknown })?.code !== "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return "";
  const given = /^Option '(-[^']*)' argument is ambiguous/.exec((error as Error).message ?? "")?.[1];
  if (given === undefined) return "";
  const long = given.startsWith("--")
    ? given.slice(2)
    : Object.entries(options).find(([, option]) => option.short === given.slice(1))?.[0];
  if (long === undefined) return "";
  return `: its value is missing, or it starts with "-" and must be written --${long}=<value>`;
}

/**
 * `hookgate check routes.yaml`: the file given as an argument, where a command takes it as --routes FILE.
 * Said for an argument that ends in .yaml or .yml only, the way a routes file is named.
 */
function routesFileHint(error: unknown, options: Options): string {
  if (!isExtraArgument(error)) return "";
  if (!Object.hasOwn(options, "routes")) return "";
  const argument = /Unexpected argument '(.*)'\. /s.exec((error as Error).message ?? "")?.[1];
  if (argument === undefined || !/\.ya?ml$/i.test(argument)) return "";
  const quoted = /^[\w./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", "'\\''")}'`;
  return `; give the routes file with --routes: --routes ${quoted}`;
}

/**
 * node's parseArgs messages carry advice for script authors; keep the first sentence. The advice follows a
 * space in most messages but a newline in the "ambiguous" one.
 */
export function parseArgsMessage(error: unknown): string {
  // Never the stray argument itself (see extraArgumentMessage), whoever parsed it.
  if (isExtraArgument(error)) return "Unexpected extra argument";
  const message = (error as Error).message ?? String(error);
  return message.split(/\.\s+(To specify|Did you forget)/)[0]?.replace(/\.$/, "") ?? message;
}

export function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}

/**
 * A --url-like value that did not parse, as a usage error may quote it: everything up to its last "@" (a
 * user:password, which the parse failure leaves unseparated) as ***, invisible characters as \uXXXX, clipped.
 */
export function shownUrlArgument(value: string): string {
  return clippedText(value.replace(/^([a-z][\w+.-]*:\/\/)?.*@/is, "$1***@"), 200);
}

/**
 * A URL as printed (send's target, serve's S3 endpoint): never the user name and password it may carry (a
 * MinIO key), invisible characters as \uXXXX; one that does not parse as shownUrlArgument shows it. So does
 * one with an "@" left once its userinfo is gone: a password with an unencoded "/", "?" or "#" ends the
 * authority early (http://deploy:8080/Zk3pQ@127.0.0.1/ is host deploy, path /Zk3pQ@127.0.0.1/), leaving it,
 * or part of it, in the path.
 */
export function shownUrl(value: string): string {
  let shown: string;
  try {
    const url = new URL(value);
    url.username = "";
    url.password = "";
    shown = url.toString();
  } catch {
    return shownUrlArgument(value);
  }
  return shown.includes("@") ? shownUrlArgument(value) : withoutInvisible(shown);
}

/** What a JSON value that is no object is, in words (explain's and send's payload file). */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "string" ? "a string" : `a ${typeof value}`;
}

/** Pads the columns of a table to the widest cell. */
export function formatTable(header: string[], rawRows: string[][]): string {
  // A cell may hold the file's text (an S3 key): an ESC in it would reach the terminal as itself.
  const rows = rawRows.map((row) => row.map(withoutInvisible));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/**
 * The URL a command connects to (send) or prints for this machine (serve's banner): the wildcard 0.0.0.0 or ::
 * (as serve --host 0.0.0.0 prints it) becomes 127.0.0.1, since a connection to the wildcard fails on Windows
 * and newer macOS (EADDRNOTAVAIL). Also for ::: Node listens there on both IPv4 and IPv6, and a container
 * without IPv6 has no ::1. The Host header follows (the gateway routes by path, never by Host).
 */
export function connectUrl(url: URL): URL {
  const bare = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!ipaddr.isValid(bare)) return url;
  const address = ipaddr.parse(bare);
  const normal = address.toNormalizedString();
  if (normal !== "0.0.0.0" && normal !== "0:0:0:0:0:0:0:0" && normal !== "0:0:0:0:0:ffff:0:0") return url;
  const target = new URL(url.href);
  target.hostname = "127.0.0.1";
  return target;
}
