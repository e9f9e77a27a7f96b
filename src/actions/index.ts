// The one entry point the gateway calls for a work item: dispatch on the action type. Throws
// ActionError only; anything else is classified here (a throttled secret store is retryable, a
// missing secret is final, an unexpected error is retryable so SQS and the DLQ keep it).
import { ActionError, SecretNotFoundError, TransientDependencyError } from "../core/errors";
import type { ActionOutcome, WorkItem } from "../core/types";
import { triggerJenkins } from "./jenkins";
import { cleanUpPullRequest } from "./prCleanup";
import { uploadSourceZip } from "./s3Zip";
import type { ActionClients } from "./types";

export { triggerJenkins } from "./jenkins";
export { cleanUpPullRequest } from "./prCleanup";
export { uploadSourceZip } from "./s3Zip";
export type { ActionClients } from "./types";

export async function runAction(item: WorkItem, clients: ActionClients): Promise<ActionOutcome> {
  try {
    const request = item.request;
    switch (request.type) {
      case "jenkins":
        return await triggerJenkins(request, clients, {
          deliveryId: item.deliveryId,
          acceptedAt: item.acceptedAt,
          attempt: clients.attempt,
        });
      case "s3-zip":
        return await uploadSourceZip(request, item.event, clients, { acceptedAt: item.acceptedAt });
      case "pr-cleanup":
        return await cleanUpPullRequest(request, item.event, clients, { acceptedAt: item.acceptedAt });
      default:
        throw new ActionError(`unknown action type ${JSON.stringify((request as { type?: unknown }).type)}`, {
          retryable: false,
        });
    }
  } catch (err) {
    if (err instanceof ActionError) throw err;
    if (err instanceof SecretNotFoundError)
      throw new ActionError(err.message, { retryable: false, cause: err });
    if (err instanceof TransientDependencyError)
      throw new ActionError(err.message, { retryable: true, cause: err });
    const name = (err as { name?: string })?.name ?? "Error";
    throw new ActionError(`the action failed unexpectedly: ${name}`, { retryable: true, cause: err });
  }
}
