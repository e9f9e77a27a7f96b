// pr-cleanup: on the event that closes a pull request, mark the head commit `pending`, re-read the PR
// (events arrive out of order), run the steps in order (delete the head branch, delete an S3 prefix,
// trigger a Jenkins teardown), then mark it `success` or `failure`.
//
// A retry runs every step again. The Git host's and S3's are safe to repeat: a branch already gone counts
// as deleted (one that moved on since the pull request is kept), an empty prefix deletes nothing. A jenkins
// step first looks for the build its earlier attempt started (jenkinsBuilds.ts) and is done with it; where
// the look fails or finds none it triggers the job again, which Jenkins merges into the first only while that
// one is still queued, so a retry after a later step's failure may still build twice (`hookgate check` notes a
// jenkins step not last).
// A delete-s3-prefix step's prefix (empty, or outside the role's prefixes) and a jenkins step's job path are
// checked before the first step (core/prCleanupChecks.ts, which `hookgate explain` asks too).
// A retryable failure leaves the status `pending` (its description says a retry follows; GitLab's `running`,
// as GitLab refuses a second pending) and is rethrown; a final failure sets `failure` and is rethrown. A host that refuses the first status for
// good gets none: the steps run anyway, and the outcome says why. One that refuses it retryably on the
// queue's last attempt still gets the last status, best effort: an earlier attempt's "pending … will
// retry" must not stay on the commit.
import { ActionError } from "../core/errors";
import { STEPS_DONE_MARK } from "../core/ports";
import { prCleanupProblem, prCleanupSkipReason, prCleanupStepProblem } from "../core/prCleanupChecks";
import type {
  ActionOutcome,
  PrCleanupRequest,
  PrCleanupStep,
  Provider,
  PullRequestRef,
  QueuedEvent,
} from "../core/types";
import { gitHostClient } from "./gitHost";
import { sameCommit } from "./gitHost/base";
import type { CommitStatus, GitHostClient, OpenPullRequests, PullRequestInfo } from "./gitHost/types";
import { triggerJenkins } from "./jenkins";
import { type ItemRunner, requestOf } from "./runItem";
import { storeError } from "./s3Errors";
import type { ActionClients } from "./types";

/** A pr-cleanup work item: its acceptance time lets a jenkins step's retry find the build it started. */
export const runPrCleanupItem: ItemRunner = (item, clients) =>
  cleanUpPullRequest(requestOf(item, "pr-cleanup"), item.event, clients, { acceptedAt: item.acceptedAt });

export async function cleanUpPullRequest(
  request: PrCleanupRequest,
  event: QueuedEvent,
  clients: ActionClients,
  delivery: { acceptedAt?: string } = {},
): Promise<ActionOutcome> {
  const skip = prCleanupSkipReason(event);
  if (skip !== undefined) return { status: "skipped", detail: `skipped: ${skip}` };
  // A Gogs pull request without a head commit, say: no attempt can do better.
  const problem = prCleanupProblem(event);
  if (problem !== undefined) throw new ActionError(problem, { retryable: false });
  const pr = event.pr as NonNullable<QueuedEvent["pr"]>; // prCleanupSkipReason skips an event without one
  const sha = pr.headSha;
  const host = await gitHostClient(request.api, clients);
  const targetUrl = request.targetUrl ?? clients.logsUrl;
  /** Why the host refused the first commit status for good; the steps then run without statuses. */
  let noStatus: string | undefined;
  /**
   * The first status met a retryable refusal on the queue's last attempt: the steps run, and the last
   * status is still sent, its failure not failing them.
   */
  let firstStatusFailed = false;
  // The head branch, and whether it is a branch of this repository rather than a fork's.
  const ref = pr.headRef
    ? {
        ref: pr.headRef,
        refInRepository: sameRepository(pr.headRepoFullName, event.repo.fullName),
        pullRequest: pr.number,
      }
    : {};
  const status = async (state: CommitStatus["state"], description: string, interim = false) => {
    if (noStatus !== undefined) return undefined;
    return host.setCommitStatus(event.repo, sha, {
      state,
      context: request.context,
      description,
      targetUrl,
      ...ref,
      ...(interim ? { interim } : {}),
    });
  };

  // Best effort: the failure is what matters, not a failure to report it. On the queue's last attempt a
  // retryable failure is dead-lettered, not retried: the status says failure, as for a final one.
  const reportFailure = async (error: ActionError, what: string) => {
    const retry = error.retryable && clients.lastAttempt !== true;
    const description = `${what} failed${retry ? ", will retry" : ""}: ${error.publicMessage}`;
    const result = await status(retry ? "pending" : "failure", description, retry).catch(() => undefined);
    // GitLab took no transition (an interim status after another one): the commit still shows the earlier text.
    if (result === "unchanged") {
      clients.log({
        msg: "pr-cleanup's commit status was not updated: the Git host kept the one it had",
        level: "warn",
        status: description,
        pr: pr.number,
        deliveryId: event.deliveryId,
      });
    }
  };

  try {
    await status("pending", `Cleaning up after PR #${pr.number}`);
  } catch (err) {
    const error = asActionError(err, "setting the commit status");
    // Nothing is done yet: the whole action runs again later. Not on the queue's last attempt, where no
    // retry follows: thrown, the steps would never run.
    if (error.retryable && clients.lastAttempt !== true) throw error;
    // A token without the status permission, a fork's commit the base repository does not know
    // (Bitbucket Cloud answers 404), or a retryable refusal on the last attempt: the steps (a preview's
    // teardown) matter more than their report.
    if (error.retryable) {
      // A passing 502, say: the last status may get through, and replace an earlier attempt's "pending".
      firstStatusFailed = true;
      clients.log({
        msg: "pr-cleanup's first commit status failed on the last attempt: the last is still sent",
        level: "warn",
        error: error.message,
        pr: pr.number,
        deliveryId: event.deliveryId,
      });
    } else {
      noStatus = error.message;
      clients.log({
        msg: "pr-cleanup runs without commit statuses",
        level: "warn",
        error: noStatus,
        pr: pr.number,
        deliveryId: event.deliveryId,
      });
    }
  }

  // The delivery may be stale: trust the API's view of the PR before anything destructive. A deleted
  // pull request (Bitbucket Data Center's pr:deleted) has no view left: the API answers 404.
  let current: PullRequestInfo;
  try {
    current =
      pr.state === "deleted"
        ? { number: pr.number, state: "closed", merged: false, headRef: pr.headRef, headSha: sha }
        : await host.getPullRequest(event.repo, pr.number);
  } catch (err) {
    const error = asActionError(err, "reading the pull request");
    await reportFailure(error, "reading the pull request");
    throw error;
  }
  // An answer older than the close (a read replica behind the webhook) would skip, or clean up wrongly, for good:
  // retried while the queue retries. On the last attempt the answer is taken as it is.
  const stale = olderThanEvent(pr, current, event.provider);
  if (stale !== undefined && clients.lastAttempt !== true) {
    const error = new ActionError(stale, { retryable: true });
    clients.log({
      msg: "pr-cleanup: the pull request's answer may be older than the event, retried",
      retryable: true,
      error: error.message,
      pr: pr.number,
      deliveryId: event.deliveryId,
    });
    await reportFailure(error, "reading the pull request");
    throw error;
  }
  /** The outcome's detail, and what the host's redirects said of the repository (it was renamed or moved). */
  const detail = (text: string) => `${text}${movedNote(host, event.repo.fullName, current)}`;
  // Open again: reopened after the close (its answer changed since), or the queue's last attempt.
  if (current.state === "open") {
    // A retry, or a redriven letter, may follow an attempt that ran steps before it saw the reopen.
    const earlier = (clients.attempt ?? 1) > 1 || clients.mayHaveRun === true;
    const openAgain = status(
      "success",
      earlier
        ? `PR #${pr.number} is open again: cleanup stopped (an earlier attempt may have run some steps)`
        : `PR #${pr.number} is open again: nothing cleaned up`,
    );
    // After a failed first status, best effort: nothing was done, and no retry follows the last attempt.
    await (firstStatusFailed ? openAgain.catch(() => undefined) : openAgain);
    clients.log({ msg: "pr-cleanup skipped: PR is open again", pr: pr.number, deliveryId: event.deliveryId });
    return { status: "skipped", detail: detail(`skipped: PR #${pr.number} is open again`) };
  }

  // Every step before the first: one refused for good (a prefix the route's role may not delete under, a job path
  // no request can reach) would fail the delivery final after the steps before it ran (a branch deletion, a
  // teardown), and run them again on its redrive.
  for (const step of request.steps) {
    const problem = prCleanupStepProblem(step, clients.keyScope, event.repo.fullName);
    if (problem === undefined) continue;
    const error = new ActionError(problem, { retryable: false });
    clients.log({
      msg: "pr-cleanup step refused before any step ran",
      step: step.kind,
      retryable: false,
      error: error.message,
      pr: pr.number,
      deliveryId: event.deliveryId,
    });
    await reportFailure(error, step.kind);
    throw error;
  }

  const results: string[] = [];
  /** The results as the commit status shows them: without the private addresses `results` may name. */
  const publicResults: string[] = [];
  for (const step of request.steps) {
    try {
      const { result, publicResult } = await runStep(step, {
        host,
        event,
        current,
        clients,
        acceptedAt: delivery.acceptedAt,
      });
      results.push(result);
      publicResults.push(publicResult ?? result);
      clients.log({
        msg: "pr-cleanup step done",
        step: step.kind,
        result,
        pr: pr.number,
        deliveryId: event.deliveryId,
      });
    } catch (err) {
      const error = afterSteps(asActionError(err, step.kind), results);
      clients.log({
        msg: "pr-cleanup step failed",
        step: step.kind,
        retryable: error.retryable,
        error: error.message,
        pr: pr.number,
        deliveryId: event.deliveryId,
      });
      await reportFailure(error, step.kind);
      throw error;
    }
  }
  const summary = results.length > 0 ? results.join("; ") : "no steps";
  if (noStatus !== undefined) {
    return { status: "done", detail: detail(`${summary} (no commit status: ${noStatus})`) };
  }
  try {
    await status("success", publicResults.length > 0 ? publicResults.join("; ") : summary);
  } catch (err) {
    // Every step is done: retrying the action for its status would run them all again (a second
    // teardown build, say). The status stays "pending"; the outcome says why.
    const message = err instanceof Error ? err.message : String(err);
    clients.log({
      msg: "pr-cleanup final status failed",
      level: "warn",
      error: message,
      pr: pr.number,
      deliveryId: event.deliveryId,
    });
    return {
      status: "done",
      detail: detail(`${summary} (the final commit status could not be set: ${message})`),
    };
  }
  return { status: "done", detail: detail(summary) };
}

/**
 * Why the API's answer of the pull request may be older than the closing event, or undefined. Each host's API
 * may lag behind its webhooks: GitHub's right after a delivery (integrations/slack#496), GitLab's read replicas
 * up to max_replication_lag_time (gitlab-org/gitlab!147323). An answer that says open is newer than the close
 * only when its own update time is after the event's (a reopen changes it); else it may predate the close. One
 * not merged, of an event that says merged, predates the merge.
 */
function olderThanEvent(
  pr: PullRequestRef,
  current: PullRequestInfo,
  provider: Provider,
): string | undefined {
  if (pr.state === "deleted") return undefined; // no answer was read
  // A merge is never undone: an answer not merged yet predates it, whatever its state and time.
  if (pr.merged && !current.merged) {
    return `the event says PR #${pr.number} was merged, but the Git host's API does not yet (${current.state}): its answer may lag behind the webhook`;
  }
  // A closing delivery whose pull request still says open was rendered before the close: its time is not the close's.
  const closedAt = pr.state === "open" ? undefined : pr.updatedAt;
  // Bitbucket's times have fractions of a second on both sides (Cloud's microseconds, Data Center's milliseconds).
  const precise = provider === "bitbucket" || provider === "bitbucket-server";
  if (current.state === "open" && !notBefore(current.updatedAt, closedAt, precise)) {
    const when = current.updatedAt ? `last updated ${current.updatedAt}` : "with no update time";
    const close = closedAt ? `the close at ${closedAt}` : "the close";
    return `the Git host's API still shows PR #${pr.number} open, ${when}, before ${close}: its answer may lag behind the webhook`;
  }
  return undefined;
}

/**
 * Whether time `a` is not before time `b`, both ISO 8601; in whole seconds unless both sides are `precise`:
 * GitLab's hooks say whole seconds where its API says milliseconds, and GitHub's and Gitea's times have whole
 * seconds only, so a reopen in the close's second (`gh pr close && gh pr reopen`, to re-run checks) has the
 * close's time: taken as reopened, not retried for the queue's attempts while the repository's other deliveries
 * wait behind it. False when either is unknown.
 */
function notBefore(a: string | undefined, b: string | undefined, precise: boolean): boolean {
  if (a === undefined || b === undefined) return false;
  const [msA, msB] = [Date.parse(a), Date.parse(b)];
  if (!Number.isFinite(msA) || !Number.isFinite(msB)) return false;
  return precise ? msA >= msB : Math.floor(msA / 1000) >= Math.floor(msB / 1000);
}

/**
 * What the outcome says when the host's API redirected the repository's old path (gitHost/redirects.ts):
 * it was renamed or transferred, and routes.yaml may still name it by its old name. "" otherwise.
 */
function movedNote(host: GitHostClient, oldName: string, current: PullRequestInfo): string {
  if (host.redirects.length === 0) return "";
  const paths = host.redirects.map(({ status, from, to }) => `${from} to ${to} (${status})`).join(", ");
  const now = current.baseRepoFullName;
  const renamed = now && now.toLowerCase() !== oldName.toLowerCase() ? `; it is now ${now}` : "";
  return ` (the repository was renamed or transferred: the Git host redirected ${paths}${renamed}; update routes.yaml where it names ${oldName})`;
}

interface StepContext {
  host: GitHostClient;
  event: QueuedEvent;
  current: PullRequestInfo;
  clients: ActionClients;
  /** When the delivery was first accepted: a retry's jenkins step looks for its earlier build from then. */
  acceptedAt?: string;
}

/** A step's result for the logs, and for the commit status when that must say less (no private address). */
async function runStep(
  step: PrCleanupStep,
  context: StepContext,
): Promise<{ result: string; publicResult?: string }> {
  if (step.kind !== "jenkins") return { result: await runStorageStep(step, context) };
  const outcome = await triggerJenkins(step.request, context.clients, {
    deliveryId: context.event.deliveryId,
    acceptedAt: context.acceptedAt,
    attempt: context.clients.attempt,
    mayHaveRun: context.clients.mayHaveRun === true,
  });
  const job = `Jenkins ${step.request.job.join("/")}`;
  return {
    result: `${job}: ${outcome.detail}`,
    publicResult: `${job}: ${outcome.publicDetail ?? outcome.detail}`,
  };
}

/** The steps on the Git host and S3. */
async function runStorageStep(
  step: Exclude<PrCleanupStep, { kind: "jenkins" }>,
  { host, event, current, clients }: StepContext,
): Promise<string> {
  switch (step.kind) {
    case "delete-branch": {
      const branch = current.headRef || event.pr?.headRef || "";
      const headRepo = current.headRepoFullName ?? event.pr?.headRepoFullName;
      // Both names from one source. The API's answer names them as they are now (after a rename or a
      // transfer the event still has the old names); without its head (a deleted fork), the event names
      // both as they were: its old head name against the API's new base name could match a fork whose
      // former name the base repository has taken since.
      const baseRepo =
        current.headRepoFullName !== undefined
          ? (current.baseRepoFullName ?? event.repo.fullName)
          : event.repo.fullName;
      if (!branch) {
        // Gitea's and Forgejo's AGit pull requests (pushed to refs/for/<base>/<topic>) have no branch: their
        // head is refs/pull/<n>/head with an empty label and the base repository as head repository
        // (ToAPIPullRequest in go-gitea services/convert/pull.go), the only way Gitea names no head branch.
        // Nothing to delete, and the steps after this one (a teardown) still run. Any other pull request
        // without a head branch (no head at all) is a payload this step cannot act on.
        if (event.provider === "gitea" && sameRepository(headRepo, baseRepo)) return NO_BRANCH_AGIT;
        throw new ActionError("the pull request has no head branch", { retryable: false });
      }
      if (step.onlyMerged && !current.merged) return `kept ${branch}: not merged`;
      if (!sameRepository(headRepo, baseRepo)) {
        return `kept ${branch}: it belongs to a fork`;
      }
      const defaultBranch =
        current.defaultBranch ?? event.repo.defaultBranch ?? (await host.getDefaultBranch(event.repo));
      if (branch === defaultBranch) return `kept ${branch}: it is the default branch`;
      // Only the commit the pull request was about: a late delivery, a retry or a redelivery days later
      // must not delete commits pushed since, or a branch deleted and made again for new work.
      const sha = current.headSha || event.pr?.headSha || "";
      const found = await host.branch(event.repo, branch);
      if (found === undefined) return `branch ${branch} was already gone`;
      const head = found.head;
      if (!sameCommit(head, sha)) return `kept ${branch}: ${MOVED_ON} (now at ${head.slice(0, 7)})`;
      // A long-lived branch merged on (develop or release/1.x into main): protected on GitLab and Gitea, under
      // a GitHub ruleset's deletion rule, or a Bitbucket Cloud delete restriction's pattern. Kept, so that no
      // refusal stops the steps after this one (the teardown). GitHub's flag alone says no refusal (any ruleset
      // sets it): its 422 below does, as Bitbucket Cloud's 403 where a branching-model restriction names the
      // branch's type, and a Data Center refusal naming a branch permission. Bitbucket Cloud's restrictions or
      // branching model unread, and Data Center's other refusals: a refusal fails the step.
      if (found.keep !== undefined) return `kept ${branch}: ${found.keep}`;
      // A stacked pull request targets this branch: deleting it closes that pull request on GitHub. Not the pull
      // request itself, whose base is another branch: that count keeps the host's total.
      const open = await host.openPullRequestsInto(event.repo, branch);
      if (open.count > 0 || open.more) return `kept ${branch}: ${openPullRequests(open)}`;
      // Another open pull request from the same branch (into another base): deleting it closes that one too.
      // The pull request itself is left out: a list behind its close may still show it open.
      const own = event.pr?.number;
      const from = await host.openPullRequestsFrom(event.repo, branch, headRepo, own);
      if (from.excludedSeen && !current.merged && own !== undefined && event.pr !== undefined) {
        // Closed unmerged by its re-read, open by the list: reopened in between, or the list lags. Read once more
        // to tell. Reopened (open, and no older than the close): stopped here, before its branch and the steps
        // after it, and retried, so that the next attempt finds it open again. Else a lagging list is asked again
        // while the queue retries, and the branch kept on its last attempt.
        const now = await host.getPullRequest(event.repo, own);
        if (now.state === "open" && olderThanEvent(event.pr, now, event.provider) === undefined) {
          throw new ActionError(
            `PR #${own} was reopened while it was cleaned up: stopped before deleting its branch; retried`,
            { retryable: true },
          );
        }
        const listed = `PR #${own} itself is still listed open though its re-read says closed`;
        if (clients.lastAttempt !== true) {
          throw new ActionError(`${listed}: the host's list lags; retried`, { retryable: true });
        }
        return `kept ${branch}: ${listed} (the host's list lags)`;
      }
      if (from.count > 0 || from.more) return `kept ${branch}: ${openPullRequests(from, "from")}`;
      // A fork's branch offered upstream: an open pull request into the parent closes with it (GitHub, Gitea)
      // or loses its source branch (GitLab, Bitbucket Cloud).
      const upstream = await host.openPullRequestsIntoParent?.(event.repo, branch, headRepo);
      if (upstream?.unreadable !== undefined) {
        const parent = upstream.parent || "its parent";
        return `kept ${branch}: this repository is a fork, and whether open pull requests into ${parent} come from it could not be read (${upstream.unreadable})`;
      }
      if (upstream && (upstream.count > 0 || upstream.more)) {
        return `kept ${branch}: ${openPullRequests(upstream, "from", upstream.parent)}`;
      }
      // The checks above take several calls (Gitea's lists up to 40 pages): a push during them must not be
      // deleted with the branch. Without a conditional delete the head is read again right before the DELETE,
      // leaving one round trip unguarded; Data Center's deletion carries the commit (endPoint) instead.
      if (host.conditionalDelete !== true) {
        const now = await host.branchHead(event.repo, branch);
        if (now === undefined) return `branch ${branch} was already gone`;
        if (!sameCommit(now, sha)) return `kept ${branch}: ${MOVED_ON} (now at ${now.slice(0, 7)})`;
      }
      const result = await host.deleteBranch(event.repo, branch, head);
      if (typeof result === "object") {
        // A refusal of a branch whose flag says protected is that protection: kept. Of another (no protection, no
        // ruleset or restriction applies, or none could be read) its cause is not known here: a final failure.
        if (found.protected === true) return `kept ${branch}: it is protected (${result.refused})`;
        if (result.branchPermission === true) {
          return `kept ${branch}: a branch permission forbids deleting it (${result.refused})`;
        }
        throw (
          result.failure ??
          new ActionError(`could not delete branch ${JSON.stringify(branch)}: ${result.refused}`, {
            retryable: false,
          })
        );
      }
      if (result === "moved-on") return `kept ${branch}: ${MOVED_ON}`;
      return result === "deleted" ? `deleted branch ${branch}` : `branch ${branch} was already gone`;
    }
    case "delete-s3-prefix": {
      // prCleanupStepProblem was checked before the first step.
      const count = await clients.objects
        .deletePrefix(step.bucket, step.prefix, { deadlineMs: clients.deadlineMs })
        .catch((err: unknown) => {
          // Classified as s3-zip's upload is: a bucket in another region, say, is final with a reason.
          throw err instanceof ActionError ? err : storeError(err, step.bucket, "prefix deletion");
        });
      return `deleted ${count} object${count === 1 ? "" : "s"} under s3://${step.bucket}/${step.prefix}`;
    }
  }
}

const MOVED_ON = "it moved on since the pull request";
const NO_BRANCH_AGIT = "no branch to delete: an AGit pull request (pushed to refs/for/) has none";

/** `base`: the other repository they are into (a fork's parent), when not this one. */
function openPullRequests(
  { count, more }: OpenPullRequests,
  side: "into" | "from" = "into",
  base?: string,
): string {
  const [one, many] = side === "into" ? ["targets", "target"] : ["comes from", "come from"];
  const into = base ? ` into ${base}` : "";
  if (count === 0) return `open pull requests${into} may ${many} it (not all of them were checked)`;
  if (more) return `open pull requests${into} ${many} it`;
  return count === 1
    ? `1 open pull request${into} ${one} it`
    : `${count} open pull requests${into} ${many} it`;
}

/** Whether the head's repository is named, and is the base's (a name differs only in case). */
function sameRepository(head: string | undefined, base: string): head is string {
  return !!head && head.toLowerCase() === base.toLowerCase();
}

/**
 * A step's failure, its message naming the steps done before it: the dead letter's reason then says what a
 * redrive repeats, or what was left half done (a branch already deleted). The commit status keeps the
 * step's public message alone: short (GitHub's 140 characters), and `results` may name private addresses.
 */
function afterSteps(error: ActionError, results: string[]): ActionError {
  if (results.length === 0) return error;
  return new ActionError(`${error.message}${STEPS_DONE_MARK}${results.join("; ")})`, {
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    cause: error,
    publicMessage: error.publicMessage,
  });
}

function asActionError(err: unknown, what: string): ActionError {
  if (err instanceof ActionError) return err;
  const name = (err as { name?: string })?.name ?? "Error";
  return new ActionError(`${what} failed: ${name}`, { retryable: true, cause: err });
}
