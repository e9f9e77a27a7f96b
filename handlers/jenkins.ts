// Lambda entry point for routes whose action is `jenkins`. The bundle holds the route handler,
// the Jenkins trigger and the SQS/DynamoDB/Secrets Manager clients: no S3, no zip libraries.
import { triggerJenkins } from "../src/actions/jenkins";
import { lambdaHandler } from "../src/aws/lambdaRuntime";
import { ActionError } from "../src/core/errors";

export const handler = lambdaHandler(async (item, clients) => {
  if (item.request.type !== "jenkins") {
    throw new ActionError(`this function runs jenkins actions, not "${item.request.type}"`, {
      retryable: false,
    });
  }
  return triggerJenkins(item.request, clients, { deliveryId: item.deliveryId });
});
