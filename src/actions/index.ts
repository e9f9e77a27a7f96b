// The one entry point serve and the tests call for a work item: dispatch on the action type, through the same
// runItem the deployed handlers use.
import { ActionError } from "../core/errors";
import type { ActionOutcome, WorkItem } from "../core/types";
import { runJenkinsItem } from "./jenkins";
import { runPrCleanupItem } from "./prCleanup";
import { type ItemRunner, runItem } from "./runItem";
import { runS3ZipItem } from "./s3Zip";
import type { ActionClients } from "./types";

export type { ActionClients } from "./types";

const RUNNERS = new Map<string, ItemRunner>([
  ["jenkins", runJenkinsItem],
  ["s3-zip", runS3ZipItem],
  ["pr-cleanup", runPrCleanupItem],
]);

export async function runAction(item: WorkItem, clients: ActionClients): Promise<ActionOutcome> {
  const type = (item.request as { type?: unknown }).type;
  const run = typeof type === "string" ? RUNNERS.get(type) : undefined;
  if (!run) throw new ActionError(`unknown action type ${JSON.stringify(type)}`, { retryable: false });
  return runItem(run, item, clients);
}
