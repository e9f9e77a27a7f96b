// hookgate's Pulumi program: composition only. The stack config (`hookgate:*`) and routes.yaml go in;
// the webhook URLs and what to set on the Git host come out. See "Deploy to AWS" in README.md.
//
// The program is a function returning a promise of the outputs, which Pulumi runs and awaits (cmd/run/run.js):
// main() checks the network with AWS before it constructs any resource. A RunError it rejects with is printed as its
// message alone, as a synchronous throw is; the returned object's keys are the stack outputs.
import { main } from "./src/infra/program";

// Pulumi calls it with no argument; tests pass where the bundles go (never the project's .hookgate/bundles).
export = async (options: Parameters<typeof main>[0] = {}) => {
  const stack = await main(options);
  return {
    /** Route name → the URL to give the Git host. */
    webhookUrls: stack.webhookUrls,
    /** Route name → URL, content type, events to subscribe, and the Secrets Manager name of the secret. */
    webhookSetup: stack.webhookSetup,
    /** Route name → its dead-letter queue (inspect and redrive failed deliveries). */
    deadLetterQueueUrls: stack.deadLetterQueueUrls,
    dashboardUrl: stack.dashboardUrl,
    apiUrl: stack.apiUrl,
    artifactBucket: stack.artifactBucket,
    dedupeTable: stack.dedupeTable,
  };
};
