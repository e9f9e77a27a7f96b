// Lambda entry point for routes whose action is `jenkins`. The bundle holds the route handler,
// the Jenkins trigger and the SQS/DynamoDB/Secrets Manager clients: no S3, no zip libraries.

import { runItem } from "../src/actions/runItem";
import { lambdaHandler } from "../src/aws/lambdaRuntime";

export const handler = lambdaHandler(async (item, clients) => {
  // Loaded on the first work-path call, so a cold start on the receive path (inside the Git host's
  // 10 s window) never evaluates undici.
  const { runJenkinsItem } = require("../src/actions/jenkins") as typeof import("../src/actions/jenkins");
  return runItem(runJenkinsItem, item, clients);
});
