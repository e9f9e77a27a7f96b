// Lambda entry point for routes whose action is `pr-cleanup`: commit statuses, branch deletion,
// S3 prefix deletion and Jenkins teardown jobs.
import { cleanUpPullRequest } from "../src/actions/prCleanup";
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
    return cleanUpPullRequest(item.request, item.event, clients);
  },
  { objects: s3ObjectStore },
);
