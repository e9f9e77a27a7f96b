// Lambda entry point for routes whose action is `jenkins`. The bundle holds the route handler,
// the Jenkins trigger and the SQS/DynamoDB/Secrets Manager clients: no S3, no zip libraries.
import { lambdaHandler } from "../src/aws/lambdaRuntime";
import { ActionError } from "../src/core/errors";

export const handler = lambdaHandler(async (item, clients) => {
  if (item.request.type !== "jenkins") {
    throw new ActionError(`this function runs jenkins actions, not "${item.request.type}"`, {
      retryable: false,
    });
  }
  // Loaded on the first work-path call, so a cold start on the receive path (inside the Git host's
  // 10 s window) never evaluates undici.
  const { triggerJenkins } = require("../src/actions/jenkins") as typeof import("../src/actions/jenkins");
  return triggerJenkins(item.request, clients, { deliveryId: item.deliveryId });
});
