// A deadline on one AWS SDK call: the work path's bookkeeping must end before the function is stopped,
// and one call left to the client's own settings takes up to 2 tries × 3 s.
import { TransientDependencyError } from "../core/errors";
import type { CallLimits } from "../core/ports";
import { describeAwsError } from "./awsErrors";

/** The SDK's options for a call that must end by `limits.deadlineMs`: an abort signal that fires then. */
export function untilDeadline(limits?: CallLimits): { abortSignal?: AbortSignal } {
  if (limits?.deadlineMs === undefined) return {};
  return { abortSignal: AbortSignal.timeout(Math.max(0, limits.deadlineMs - Date.now())) };
}

/** The error for a call that failed at or past its deadline (the signal cut it), or undefined. */
export function cutShort(what: string, error: unknown, limits?: CallLimits): Error | undefined {
  if (limits?.deadlineMs === undefined || Date.now() < limits.deadlineMs) return undefined;
  return new TransientDependencyError(
    `${what}: cut short at the function's deadline (${describeAwsError(error)})`,
    { cause: error },
  );
}
