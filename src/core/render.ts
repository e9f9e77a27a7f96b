// Turn a matched route's action into the request the worker runs, rendering every template at
// receive time (so the queue message is self-contained and small).
import { renderTemplate } from "./templates";
import type {
  ActionRequest,
  JenkinsRequest,
  JenkinsTarget,
  PrCleanupStep,
  QueuedEvent,
  Route,
  TemplateMap,
  WebhookEvent,
} from "./types";

/**
 * Whether an S3 key has an empty folder ("a//b", "/a", "a/"): a template field that rendered empty, as
 * {{branch}} does for a tag push. S3 would store it (a local store cannot) and nobody would find it.
 */
export function keyHasEmptyFolder(key: string): boolean {
  return key.split("/").includes("");
}

/** S3 refuses a key longer than this many bytes of UTF-8 (KeyTooLongError). */
export const S3_MAX_KEY_BYTES = 1024;

/**
 * What is wrong with the length of a rendered S3 key, or undefined: over S3_MAX_KEY_BYTES, S3 refuses every
 * upload to it, so the action says so before any download. Never cut short: a cut key is another object, which
 * a second long branch with the same start would share.
 */
export function keyLengthProblem(key: string): string | undefined {
  const bytes = new TextEncoder().encode(key).length;
  if (bytes <= S3_MAX_KEY_BYTES) return undefined;
  return (
    `the object key is ${bytes.toLocaleString("en-US")} bytes, more than the ${S3_MAX_KEY_BYTES.toLocaleString("en-US")} S3 allows ` +
    `(KeyTooLongError): its fields rendered too long (the default key holds the branch twice). Set the route's ` +
    `key to a shorter template: the branch once ("{{repo.path}}/branch/{{branch.path}}.zip") or the commit in ` +
    `place of the branch ("{{repo.path}}/{{sha}}.zip")`
  );
}

/**
 * Render `route.action` for `event`. Never throws on the event's data (a missing value renders as "").
 * Throws a plain Error only for a route the deployment should have completed: an s3-zip action without
 * a bucket, or a pr-cleanup `jenkins` step without a Jenkins target.
 *
 * Jenkins job paths are split on "/" in the TEMPLATE, then each segment is rendered with its values
 * escaped as Jenkins names a multibranch project's branch jobs: a branch "feature/x" fills in the item
 * name "feature%2Fx", inside its segment, and the Jenkins action URL-encodes each segment once more.
 * Nothing is dropped here: an empty, "." or ".." segment reaches the action, which must refuse it.
 */
export function renderRequest(route: Route, event: WebhookEvent): ActionRequest {
  const action = route.action;
  switch (action.type) {
    case "jenkins":
      return jenkinsRequest(action.jenkins, action.job, action.parameters, event);
    case "s3-zip": {
      if (action.bucket === undefined || action.bucket.length === 0) {
        throw new Error(
          `route "${route.name}": the s3-zip action has no bucket; the deployed route must carry the stack's artifact bucket`,
        );
      }
      return {
        type: "s3-zip",
        api: action.api,
        bucket: action.bucket,
        key: renderTemplate(action.key, event, "s3-key"),
        ...(action.serverSideEncryption !== undefined
          ? { serverSideEncryption: action.serverSideEncryption }
          : {}),
        ...(action.kmsKeyId !== undefined ? { kmsKeyId: action.kmsKeyId } : {}),
      };
    }
    case "pr-cleanup": {
      const steps = action.steps.map((step): PrCleanupStep => {
        if (step.kind === "delete-branch") return { kind: "delete-branch", onlyMerged: step.onlyMerged };
        if (step.kind === "delete-s3-prefix") {
          return {
            kind: "delete-s3-prefix",
            bucket: step.bucket,
            prefix: renderTemplate(step.prefix, event, "s3-key"),
          };
        }
        if (action.jenkins === undefined) {
          throw new Error(
            `route "${route.name}": a pr-cleanup jenkins step needs the action's jenkins target`,
          );
        }
        return { kind: "jenkins", request: jenkinsRequest(action.jenkins, step.job, step.parameters, event) };
      });
      return {
        type: "pr-cleanup",
        api: action.api,
        context: `hookgate/${route.name}`,
        targetUrl:
          action.targetUrl === undefined ? undefined : renderTemplate(action.targetUrl, event, "url"),
        steps,
      };
    }
  }
}

function jenkinsRequest(
  jenkins: JenkinsTarget,
  job: string,
  parameters: TemplateMap | undefined,
  event: WebhookEvent,
): JenkinsRequest {
  // Defined, not assigned: `rendered["__proto__"] = ...` would set the prototype and drop the parameter.
  const rendered: Record<string, string> = Object.fromEntries(
    Object.entries(parameters ?? {}).map(([name, template]) => [
      name,
      renderTemplate(template, event, "raw"),
    ]),
  );
  return {
    type: "jenkins",
    jenkins,
    job: renderJob(job, event),
    parameters: rendered,
  };
}

/** A Jenkins job template's path for the event (see renderRequest). */
export function renderJob(job: string, event: WebhookEvent): string[] {
  // A value's "/" is escaped (%2F), a repository path's too: an organization folder names a GitLab project
  // by its full path (acme%2Fapi), and GitHub's by the name alone, under the folder the job's text names.
  return job.split("/").map((segment) => renderTemplate(segment, event, "jenkins-name"));
}

/** The event as it travels on the queue: without the payload and the changed files. */
export function toQueuedEvent(event: WebhookEvent): QueuedEvent {
  // Field by field: a rest spread would read changedFiles, which is collected on first read.
  const queued: QueuedEvent = {
    provider: event.provider,
    deliveryId: event.deliveryId,
    event: event.event,
    repo: event.repo,
    deleted: event.deleted,
  };
  if (event.action !== undefined) queued.action = event.action;
  if (event.ref !== undefined) queued.ref = event.ref;
  if (event.branch !== undefined) queued.branch = event.branch;
  if (event.tag !== undefined) queued.tag = event.tag;
  if (event.sha !== undefined) queued.sha = event.sha;
  if (event.before !== undefined) queued.before = event.before;
  if (event.fastForward === true) queued.fastForward = true;
  if (event.pr !== undefined) queued.pr = event.pr;
  if (event.actor !== undefined) queued.actor = event.actor;
  return queued;
}
