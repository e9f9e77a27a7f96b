// hookgate's Pulumi program: composition only. The stack config (`hookgate:*`) and routes.yaml go in;
// the webhook URLs and what to set on the Git host come out. See "Deploy to AWS" in README.md.
import { main } from "./src/infra/program";

const stack = main();

/** Route name → the URL to give the Git host. */
export const webhookUrls = stack.webhookUrls;
/** Route name → URL, content type, events to subscribe, and the Secrets Manager name of the secret. */
export const webhookSetup = stack.webhookSetup;
/** Route name → its dead-letter queue (inspect and redrive failed deliveries). */
export const deadLetterQueueUrls = stack.deadLetterQueueUrls;
export const dashboardUrl = stack.dashboardUrl;
export const apiUrl = stack.apiUrl;
export const artifactBucket = stack.artifactBucket;
export const dedupeTable = stack.dedupeTable;
