#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx hookgate` works right after `npm ci`, with no build step.
const { register } = require("tsx/cjs/api");
register();
require("../src/cli/main.ts")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
