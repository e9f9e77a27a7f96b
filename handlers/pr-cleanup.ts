// Lambda entry point for routes whose action is `pr-cleanup`: commit statuses, branch deletion,
// S3 prefix deletion and Jenkins teardown jobs.

import { runItem } from "../src/actions/runItem";
import { lambdaHandler } from "../src/aws/lambdaRuntime";
import { s3ObjectStore } from "../src/aws/s3Runtime";

export const handler = lambdaHandler(
  async (item, clients) => {
    // Loaded on the first work-path call: a receive-path cold start never evaluates undici.
    const { runPrCleanupItem } =
      require("../src/actions/prCleanup") as typeof import("../src/actions/prCleanup");
    return runItem(runPrCleanupItem, item, clients);
  },
  { objects: s3ObjectStore },
);
