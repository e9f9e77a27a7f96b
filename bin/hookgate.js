#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx hookgate` works right after `npm ci`, with no build step.
const { register } = require("tsx/cjs/api");
register();
// A reader of the output that goes away (`hookgate serve | head`, a tee or log shipper that dies) makes the
// next write fail with EPIPE, an unhandled 'error' event: serve would stop serving and send turn its 202 into
// exit 1. The output is lost; the work and the exit status are not.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE") process.exitCode = 1;
  });
}
require("../src/cli/main.ts")
  .main(process.argv.slice(2))
  .then(
    (code) => {
      // A write error already recorded (the output lost: a full disk) keeps its status 1 over a success; a
      // failure's own status (2, a usage mistake) is kept as it is.
      if (code !== 0 || !process.exitCode) process.exitCode = code;
    },
    (error) => {
      // main() catches everything it knows; this is the last line of defence, still without a stack.
      process.stderr.write(`hookgate: ${error instanceof Error ? error.message : String(error)}\n`);
      if (process.env.HOOKGATE_DEBUG === "1" && error instanceof Error)
        process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    },
  );
