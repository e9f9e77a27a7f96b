#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx hookgate` works right after `npm ci`, with no build step.
const { register } = require("tsx/cjs/api");
register();
require("../src/cli/main.ts")
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      // main() catches everything it knows; this is the last line of defence, still without a stack.
      process.stderr.write(`hookgate: ${error instanceof Error ? error.message : String(error)}\n`);
      if (process.env.HOOKGATE_DEBUG === "1" && error instanceof Error)
        process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    },
  );
