// fc.jsonValue as fast-check builds it (fc.anything over JSON's values), with its arrays and objects held to 10
// entries. At npm test's baseSize (small) that is fc.jsonValue itself, run for run (samplesAtSmallAgree holds
// each use to that). At HOOKGATE_PROPERTY_SIZE=large fc.jsonValue grows arrays and objects of up to 1,000
// entries, and takes no bound on them: decode.test.ts's dictionaries of them outgrew a 4 GB heap while
// fast-check generated them, and serveLocalStores.test.ts's journals peaked at 2.7 GB.
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";

/** fc.jsonValue(constraints) with at most 10 entries per array or object. */
export function boundedJsonValue(
  constraints: { maxDepth?: number; depthSize?: fc.DepthSize } = {},
): fc.Arbitrary<unknown> {
  return fc.anything({
    key: fc.string(),
    values: [
      fc.boolean(),
      fc.double({ noDefaultInfinity: true, noNaN: true }),
      fc.string(),
      fc.constant(null),
    ],
    maxKeys: 10,
    ...constraints,
  });
}

/**
 * Whether two arbitraries, each built by `build` at baseSize small (arbitraries read the size when they are
 * built, whatever HOOKGATE_PROPERTY_SIZE says), give the same 300 samples for seeds 1, 2 and 3.
 */
export function samplesAtSmallAgree(
  bounded: () => fc.Arbitrary<unknown>,
  original: () => fc.Arbitrary<unknown>,
): boolean {
  const global = fc.readConfigureGlobal();
  fc.configureGlobal({ ...global, baseSize: "small" });
  try {
    const [a, b] = [bounded(), original()];
    return [1, 2, 3].every((seed) =>
      isDeepStrictEqual(fc.sample(a, { seed, numRuns: 300 }), fc.sample(b, { seed, numRuns: 300 })),
    );
  } finally {
    fc.configureGlobal(global);
  }
}
