// The hookgate CLI dispatcher. Each command lives in its own module; serve and send load only when used.
import { RoutesFileError } from "../core/errors";
import { shownText, withoutInvisible } from "../core/shownText";
import { printProblems, runCheck } from "./check";
import { type CliIo, isParseArgsError, parseArgsMessage, processIo, UsageError } from "./commandKit";
import { runExplain } from "./explain";

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  check: runCheck,
  explain: runExplain,
  serve: (argv) => lazyCommand("./serve", "runServe")(argv),
  send: (argv) => lazyCommand("./send", "runSend")(argv),
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    // help --help, help -h and help help ask for help itself: the general usage.
    const aboutHelp = rest[0] === "--help" || rest[0] === "-h" || rest[0] === "help";
    if (command === "help" && rest[0] !== undefined && !aboutHelp) {
      if (Object.hasOwn(COMMANDS, rest[0])) return main([rest[0], "--help"], io);
      io.stderr(`hookgate help: unknown command ${shownText(rest[0])}\n\n${USAGE}`);
      return 2;
    }
    io.stdout(USAGE);
    return 0;
  }
  if (command === "--version" || command === "-v") {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    // The word as typed may hold an ESC or a bidi override: quoted with them as \uXXXX, clipped.
    io.stderr(`hookgate: unknown command ${shownText(command)}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    return reportError(command, error, io);
  }
}

/**
 * One place that turns a failure into output and an exit code. Never a stack trace for a user's mistake.
 * A message may quote an argument (node's "Unknown option '--x'", a --provider value): its invisible
 * characters are written as \uXXXX, so an ESC or U+202E in it does not reach the terminal.
 */
export function reportError(command: string, error: unknown, io: CliIo): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    const message = error instanceof UsageError ? error.message : parseArgsMessage(error);
    io.stderr(
      `hookgate ${command}: ${withoutInvisible(message)}\nRun "hookgate ${command} --help" for usage.\n`,
    );
    return 2;
  }
  if (error instanceof RoutesFileError) {
    printProblems(error.problems, io);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr(`hookgate ${command}: ${withoutInvisible(firstLine(message))}\n`);
  if (process.env.HOOKGATE_DEBUG === "1" && error instanceof Error && error.stack)
    io.stderr(`${error.stack}\n`);
  return 1;
}

/**
 * Loads a command module on first use, so `check` stays fast and a command whose module is missing
 * fails only when it is used. require() rather than import(): bin/hookgate.js registers tsx's CommonJS
 * hook only, and a dynamic import() would bypass it.
 */
export function lazyCommand(path: string, exportName: string): (argv: string[]) => Promise<number> {
  return async (argv) => {
    let loaded: Record<string, unknown>;
    try {
      loaded = require(path) as Record<string, unknown>;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const missingSelf =
        code === "MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${path}'`);
      if (missingSelf)
        throw new Error(`this command is not available in this build (${path.slice(2)} is missing)`);
      throw error;
    }
    const run = loaded[exportName];
    if (typeof run !== "function")
      throw new Error(`this command is not available (${exportName} is missing)`);
    return (run as (argv: string[]) => Promise<number>)(argv);
  };
}

function version(): string {
  try {
    return (require("../../package.json") as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

const USAGE = `Usage: hookgate <command> [options]

Commands:
  check    validate routes.yaml and print its routes
  explain  say which routes a delivery would match, and why not
  serve    run the gateway locally (the same handler code as the deployed Lambda)
  send     sign and post a delivery as a Git host would

Run "hookgate <command> --help" for a command's options.
`;
