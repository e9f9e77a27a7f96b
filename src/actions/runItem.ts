// How one work item's action is run, shared by runAction (serve, tests) and each deployed handler, so the two
// give an action the same delivery context and the same error classification. It imports no action: a
// handler's bundle holds only its own.
import { ActionError, SecretNotFoundError, TransientDependencyError } from "../core/errors";
import type { ActionOutcome, ActionRequest, WorkItem } from "../core/types";
import type { ActionClients } from "./types";

/** Runs one action type's work item (jenkins.ts, s3Zip.ts and prCleanup.ts each export one). */
export type ItemRunner = (item: WorkItem, clients: ActionClients) => Promise<ActionOutcome>;

/** The item's request, when it is of the type the runner runs; a final error otherwise. */
export function requestOf<T extends ActionRequest["type"]>(
  item: WorkItem,
  type: T,
): Extract<ActionRequest, { type: T }> {
  const request = item.request;
  if (request.type !== type) {
    throw new ActionError(`this function runs ${type} actions, not ${JSON.stringify(request.type)}`, {
      retryable: false,
    });
  }
  return request as Extract<ActionRequest, { type: T }>;
}

/**
 * Runs the item and throws ActionError only: a throttled secret store is retryable, a missing secret is final,
 * an unexpected error is retryable so SQS and the DLQ keep it, named by its class and its Node code alone (its
 * message may quote what it was given).
 */
export async function runItem(
  run: ItemRunner,
  item: WorkItem,
  clients: ActionClients,
): Promise<ActionOutcome> {
  try {
    return await run(item, clients);
  } catch (err) {
    if (err instanceof ActionError) throw err;
    if (err instanceof SecretNotFoundError)
      throw new ActionError(err.message, { retryable: false, cause: err });
    if (err instanceof TransientDependencyError)
      throw new ActionError(err.message, { retryable: true, cause: err });
    const name = (err as { name?: string })?.name ?? "Error";
    const code = nodeCode(err);
    throw new ActionError(`the action failed unexpectedly: ${name}${code ? ` (${code})` : ""}`, {
      retryable: true,
      cause: err,
    });
  }
}

/**
 * The error's code when it has the shape of Node's (MODULE_NOT_FOUND, ENOSPC, EMFILE, ERR_…): what tells a module
 * missing from the bundle or a full /tmp apart from a bug. A constant, not text from the payload.
 */
function nodeCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : undefined;
}
