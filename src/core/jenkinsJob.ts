// Which Jenkins job names no request can reach. The jenkins action refuses them (final) before any call, and
// `hookgate explain` says so for the job it renders: both ask here, so explain never shows such a job as a run.
import { shownText } from "./shownText";

/** Half of a UTF-16 character: a signed payload's branch can hold one, and no job name can. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why the job path cannot be requested, or undefined when it can. Empty, "." and ".." segments (a tag push's
 * {{branch}} renders empty), and a segment holding a lone surrogate: encodeURIComponent throws on one, and
 * sent as U+FFFD it would name another job, a branch really called so.
 */
export function jenkinsJobProblem(job: readonly string[]): string | undefined {
  if (job.length === 0) return "the Jenkins job name is empty";
  for (const segment of job) {
    if (segment.trim() === "" || segment === "." || segment === "..") {
      return `the Jenkins job name has an invalid segment ${JSON.stringify(segment)}`;
    }
    if (LONE_SURROGATE.test(segment)) {
      return (
        `the Jenkins job name has a segment holding half a character (a lone surrogate), ${shownText(segment)}: ` +
        "no job is named so, and with a replacement character it would name another"
      );
    }
  }
  return undefined;
}
