// The AWS SDK clients the route Lambda uses, stubbed at the client boundary (aws-sdk-client-mock). A stub
// holds for every instance of its class until restored: make them in before() and restore them in after(),
// or the tests that talk to local servers through the real clients find them stubbed.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";

export function stubSdkClients() {
  return {
    sqs: mockClient(SQSClient),
    ddb: mockClient(DynamoDBClient),
    sm: mockClient(SecretsManagerClient),
  };
}
