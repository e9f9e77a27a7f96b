// Lambda entry point for routes whose action is `pr-cleanup`: commit statuses, branch deletion,
// S3 prefix deletion and Jenkins teardown jobs.
import { lambdaHandler } from "../src/aws/lambdaRuntime";
import { s3ObjectStore } from "../src/aws/s3Runtime";
import { ActionError } from "../src/core/errors";

export const handler = lambdaHandler(
  async (item, clients) => {
    if (item.request.type !== "pr-cleanup") {
      throw new ActionError(`this function runs pr-cleanup actions, not "${item.request.type}"`, {
        retryable: false,
      });
    }
    // Loaded on the first work-path call: a receive-path cold start never evaluates undici.
    const { cleanUpPullRequest } =
      require("../src/actions/prCleanup") as typeof import("../src/actions/prCleanup");
    return cleanUpPullRequest(item.request, item.event, clients);
  },
  { objects: s3ObjectStore },
);
