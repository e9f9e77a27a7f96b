// Deep property runs, opt in. HOOKGATE_PROPERTY_SCALE=<k> runs every fast-check property k times as many
// times as it runs in `npm test`: fast-check's default (100 runs) through fc.configureGlobal, and a test's own
// { numRuns: runs(n) } through runs(). HOOKGATE_PROPERTY_SEED=<seed> gives every property that seed, to
// replay a failure reported as "{ seed: <seed>, path: ... }" with the scale (and size) it ran at.
// HOOKGATE_PROPERTY_SIZE=<xsmall|small|medium|large|xlarge> is fast-check's baseSize (small unless given): how
// long the arrays and strings an arbitrary without its own size grow. Every property file passes at large in
// Node's default heap, one file at a time (README's testing table), with the JSON values of decode.test.ts and
// serveLocalStores.test.ts bounded (test/support/jsonValues.ts). .mocharc.json requires this file; with --no-config, give it as
// --require test/support/propertyRuns.ts.
import fc from "fast-check";

/** fast-check's numRuns when neither the test nor the global configuration gives one. */
const FAST_CHECK_DEFAULT_RUNS = 100;

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number of at least 1, not ${JSON.stringify(text)}`);
  }
  return value;
}

function seedOf(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
    throw new Error(`HOOKGATE_PROPERTY_SEED must be a 32-bit integer, not ${JSON.stringify(text)}`);
  }
  return value;
}

/** How many times its usual runs each property makes (1 unless HOOKGATE_PROPERTY_SCALE says otherwise). */
export const propertyScale =
  positiveInteger("HOOKGATE_PROPERTY_SCALE", process.env.HOOKGATE_PROPERTY_SCALE) ?? 1;
const seed = seedOf(process.env.HOOKGATE_PROPERTY_SEED);
const SIZES: readonly fc.Size[] = ["xsmall", "small", "medium", "large", "xlarge"];
const size = process.env.HOOKGATE_PROPERTY_SIZE || undefined;
if (size !== undefined && !SIZES.includes(size as fc.Size)) {
  throw new Error(`HOOKGATE_PROPERTY_SIZE must be one of ${SIZES.join(", ")}, not ${JSON.stringify(size)}`);
}

/** A test's numRuns, scaled by HOOKGATE_PROPERTY_SCALE: `{ numRuns: runs(300) }` is 300 in `npm test`. */
export function runs(n: number): number {
  return n * propertyScale;
}

if (propertyScale !== 1 || seed !== undefined || size !== undefined) {
  fc.configureGlobal({
    ...fc.readConfigureGlobal(),
    numRuns: FAST_CHECK_DEFAULT_RUNS * propertyScale,
    ...(seed === undefined ? {} : { seed }),
    ...(size === undefined ? {} : { baseSize: size as fc.Size }),
  });
}
