// What the pr-cleanup action decides before its first step, from the request and the event alone. The action
// and `hookgate explain` both ask here, so explain never lists a step the action would refuse.
import { jenkinsJobProblem } from "./jenkinsJob";
import { type KeyScope, keyOutsideScope } from "./keyPrefixes";
import type { PrCleanupStep } from "./types";

/**
 * Why a step cannot run, known before any step: a delete-s3-prefix with an empty prefix (it would empty the
 * bucket) or one the role may not delete under (`scope`: prefixes spelled as match.repos is, s3-zip's check),
 * a jenkins step whose job path no request can reach. Undefined when the step may run.
 */
export function prCleanupStepProblem(
  step: PrCleanupStep,
  scope: KeyScope | undefined,
  hostRepo: string,
): string | undefined {
  switch (step.kind) {
    case "delete-branch":
      return undefined;
    case "jenkins":
      return jenkinsJobProblem(step.request.job);
    case "delete-s3-prefix":
      if (step.prefix === "" || step.prefix === "/" || step.bucket === "") {
        return "delete-s3-prefix needs a bucket and a non-empty prefix";
      }
      return scope && keyOutsideScope(scope, step.bucket, step.prefix, hostRepo, "prefix");
  }
}
