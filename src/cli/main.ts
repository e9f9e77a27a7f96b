// The hookgate CLI dispatcher. Each command lives in its own module.
export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(`hookgate: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

const USAGE = `Usage: hookgate <command> [options]

Commands:
  check    validate routes.yaml and print its routes
  explain  say which routes a delivery would match, and why not
  serve    run the gateway locally (the same handler code as the deployed Lambda)
  send     sign and post a delivery as a Git host would
`;
