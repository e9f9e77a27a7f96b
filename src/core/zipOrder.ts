// Which of two s3-zip deliveries to the same key is the newer: the one the gateway accepted later.
// Deliveries of one repository run in order (FIFO, grouped by repository), but a dead letter redriven
// later, after newer pushes were zipped, would otherwise overwrite their zip with its old commit. Pure:
// the action reads the existing object's metadata and asks here.
// Acceptance time is not commit order: a push refused before the gateway claimed it (a 503 throttle, a
// 500) and sent again, or two pushes that arrive out of order, are accepted after newer pushes. So each
// zip also names the commits its push chain is known to have replaced (supersedes), from the pushes'
// own `before`, and a fast-forward push of one of those is skipped (zipChain). Only a fast-forward of the
// zip's own ref and repository: a creation, a force-push or a rewind may put any listed commit back on
// purpose (a rollback), and another branch's history says nothing of this one. The skip is then confirmed
// with the Git host's head of the branch (headVerdict): a rollback the key never saw, followed by a
// fast-forward onto a listed commit, looks the same in the payload and the metadata alone.
import { isRealCommit } from "./events/fastForward";
import type { WriteCondition } from "./ports";

/** The user metadata key (x-amz-meta-accepted-at) that holds when the zip's delivery was accepted. */
export const ACCEPTED_AT_METADATA = "accepted-at";

/** What is known of the object already at the key: its user metadata (sha, accepted-at, ...). */
export type ExistingZip = Readonly<Record<string, string>> | undefined;

/**
 * An accepted-at further ahead of the action's clock than this is not believed: written by a clock far
 * ahead (serve on a machine whose clock is wrong, writing to the real bucket) or by hand, it would make
 * every later push to the key "older" for as long as that time lies ahead.
 */
export const MAX_ACCEPTED_AT_AHEAD_MS = 3600_000;

export type ZipOrderDecision =
  | {
      upload: true;
      /** The object's accepted-at, when it was not believed for lying too far ahead of the clock. */
      futureAcceptedAt?: string;
    }
  | {
      upload: false;
      /** The object's own delivery, accepted later than this one (as its metadata says). */
      newer: { acceptedAt: string; sha?: string; deliveryId?: string };
    };

/**
 * Whether a delivery of commit `sha`, accepted at `acceptedAt` (ISO time), may replace the object at
 * its key. It may unless that object says it comes from a delivery accepted strictly later, of whatever
 * commit: the same time is a retry of the same work (idempotent), but replacing a later delivery's zip of
 * the same commit would put this delivery's earlier time on the key, and an older delivery of another
 * commit, redriven next, would then replace it (the key holds the same commit already). An object without
 * a readable accepted-at (written before hookgate kept one, or by hand), one more than
 * MAX_ACCEPTED_AT_AHEAD_MS ahead of `nowMs`, and a delivery without a readable time give no order: the
 * upload goes ahead, as it always did.
 */
export function zipOrder(
  existing: ExistingZip,
  delivery: { sha: string; acceptedAt: string },
  nowMs: number,
): ZipOrderDecision {
  if (existing === undefined) return { upload: true };
  const theirs = Object.hasOwn(existing, ACCEPTED_AT_METADATA) ? existing[ACCEPTED_AT_METADATA] : undefined;
  const theirMs = parseTime(theirs);
  const ourMs = parseTime(delivery.acceptedAt);
  if (theirMs === undefined || ourMs === undefined || theirMs <= ourMs) return { upload: true };
  if (theirMs - nowMs > MAX_ACCEPTED_AT_AHEAD_MS) return { upload: true, futureAcceptedAt: theirs };
  const sha = Object.hasOwn(existing, "sha") ? existing.sha : undefined;
  const deliveryId = Object.hasOwn(existing, "delivery-id") ? existing["delivery-id"] : undefined;
  return { upload: false, newer: { acceptedAt: theirs as string, sha, deliveryId } };
}

/**
 * The accepted-at value to store for a delivery: its time in the gateway's ISO form, or undefined when
 * the work item's time does not parse (nothing is stored then, and the next delivery is not held back).
 */
export function acceptedAtMetadata(acceptedAt: string): string | undefined {
  const ms = parseTime(acceptedAt);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** An ISO 8601 time with a date, a time and a zone (what isoTime writes), in epoch ms. */
function parseTime(value: string | undefined): number | undefined {
  if (
    value === undefined ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  )
    return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The condition that makes an upload replace only what was read at its key: the zip read, by its ETag
 * (If-Match), or no zip when none was there (If-None-Match: *). Undefined when a zip was read without an
 * ETag (an S3-compatible store that gives none): nothing can be compared, and the upload goes without one.
 */
export function writeCondition(existing: { etag?: string } | undefined): WriteCondition | undefined {
  if (existing === undefined) return { ifNoneMatch: "*" };
  return existing.etag ? { ifMatch: existing.etag } : undefined;
}

/**
 * Whether the object at the key is this delivery's own zip: its metadata names the same delivery id, sha
 * and accepted-at that this delivery writes (`ours`, as it writes them). After an upload reported refused,
 * such an object was written by that very upload (an SDK retry of a request that had succeeded is refused
 * by its own write: 412 for If-None-Match: *, or If-Match on the ETag it replaced) or by another attempt
 * of the same delivery: the same archive of the same commit either way. False when `ours` lacks any of the
 * three (a time that does not parse is not stored, and proves nothing).
 */
export function isOwnZip(existing: ExistingZip, ours: Readonly<Record<string, string>>): boolean {
  if (existing === undefined) return false;
  return ["delivery-id", "sha", ACCEPTED_AT_METADATA].every(
    (name) => Object.hasOwn(ours, name) && Object.hasOwn(existing, name) && existing[name] === ours[name],
  );
}

/** The user metadata key (x-amz-meta-supersedes): the commits the zip's push chain replaced, newest first. */
export const SUPERSEDES_METADATA = "supersedes";

/**
 * The most commits a zip names as superseded. With SHA-256 ids (64 hex digits) the list is 4 x 64 + 3
 * spaces = 259 bytes, and its name 10: the zip's metadata stays within S3's 2 KB with the ref cut at
 * 1,024 characters (s3Zip's budget), also if S3 counts each name's x-amz-meta- prefix.
 */
export const MAX_SUPERSEDED = 4;

/** What s3-zip knows of the push it zips: its commit, the ref's value before the push, and how it moved. */
export interface ZipPush {
  sha: string;
  /**
   * The x-amz-meta-ref this push writes, as s3-zip writes it (percent-encoded, a long one cut and ending in
   * "..."): the chain skips only a push of the zip's own ref. Absent, empty or cut: unknown, never skipped.
   */
  ref?: string;
  /**
   * The revision summary this push writes (REVISION_SUMMARY_METADATA, "<provider> <repository> ..."): the
   * chain skips only a push of the zip's own provider and repository (a fork or a mirror may share the key).
   */
  revisionSummary?: string;
  /** The ref's commit before the push: all zeros or absent for a new branch, or a payload without it. */
  before?: string;
  /**
   * True only when the payload shows a plain fast-forward of an existing branch (WebhookEvent.fastForward);
   * anything else (absent: a creation, a force-push, a rewind, a provider that cannot tell) is no evidence.
   */
  fastForward?: boolean;
}

export type ZipChainDecision =
  | {
      upload: true;
      /** The commits this zip supersedes, newest first (the value of SUPERSEDES_METADATA; none: empty). */
      supersedes: string[];
    }
  | {
      /** Skipped, once the Git host confirms it (headVerdict); else the upload stores `supersedes`. */
      upload: false;
      /** The zip in place, whose push chain replaced this push's commit. */
      newer: { sha: string; deliveryId?: string };
      /** The commits an upload stores when the host does not confirm the skip: this push's before alone. */
      supersedes: string[];
    };

/**
 * Whether the push of `push.sha` may replace the zip in place, by the commits that zip's pushes replaced
 * (its supersedes): not when this push is a fast-forward of the zip's own ref and repository (both known, as
 * s3-zip writes them), its commit is among them, is not the zip's own, and it does not continue from the
 * zip's commit. Then it may be an older push delivered late (resent after a 5xx, or out of order) that would
 * put an older commit back, and the caller asks the Git host (headVerdict): the same payload comes from
 * a fast-forward made after a rollback the key never saw (lost, dead-lettered, passed over by a filter),
 * which must upload. Another ref's or repository's push (a key several branches or a fork share, two
 * changes of one Bitbucket Cloud push) is no older push of this history, and uploads. Any other push
 * uploads: a creation (a branch or tag made again at a listed commit), a force-push or a rewind back to a
 * listed commit is a rollback whose before need not be the zip's commit (the head it went back from may
 * never have been zipped here: a paths filter passed it over, it dead-lettered), and a push the payload
 * cannot tell (Bitbucket Data Center, an older queued item) gives no order either. Positive evidence only:
 * a zip without the list (by hand, an older hookgate) or a commit not in it gives no order, and the upload
 * goes ahead.
 *
 * The list to store with an upload: continuing from the zip in place (before = its sha), that sha and its
 * list; pushing the zip's own commit again, this push's before and the zip's list (the same commit's chain,
 * not cut short by a repeat); else this push's before alone (a new branch's all-zero before: none). Never
 * this push's own sha, at most MAX_SUPERSEDED, newest first.
 */
export function zipChain(existing: ExistingZip, push: ZipPush): ZipChainDecision {
  const sha = push.sha.toLowerCase();
  const before = commitId(push.before);
  const theirSha =
    existing !== undefined && Object.hasOwn(existing, "sha") ? commitId(existing.sha) : undefined;
  const theirList =
    existing !== undefined && Object.hasOwn(existing, SUPERSEDES_METADATA)
      ? supersededList(existing[SUPERSEDES_METADATA])
      : [];
  let chain: string[];
  if (theirSha !== undefined && before === theirSha) chain = [theirSha, ...theirList];
  else if (theirSha !== undefined && sha === theirSha) chain = [...(before ? [before] : []), ...theirList];
  else chain = before ? [before] : [];
  const supersedes = [...new Set(chain)].filter((c) => c !== sha).slice(0, MAX_SUPERSEDED);
  if (
    push.fastForward === true &&
    theirSha !== undefined &&
    sha !== theirSha &&
    before !== theirSha &&
    theirList.includes(sha) &&
    sameHistory(existing as Readonly<Record<string, string>>, push)
  ) {
    const deliveryId = Object.hasOwn(existing as object, "delivery-id")
      ? (existing as Record<string, string>)["delivery-id"]
      : undefined;
    return { upload: false, newer: { sha: theirSha, deliveryId }, supersedes };
  }
  return { upload: true, supersedes };
}

/**
 * What the Git host's answer of the pushed branch's head (undefined: no such branch) makes of the skip zipChain
 * proposed. `skip`: a commit that is neither this push's (a fast-forward after a rollback the key never saw:
 * this push is the branch's newest) nor its before (the branch before this push, which a host API lagging behind
 * its webhook still shows). `upload`: any other answer. No such branch: deleted since the newer zip, which leaves
 * no newer push for this one to stand for (skip); or made again just now (a rollback by deleting it), which a
 * host may answer 404 for a moment (PyGithub/PyGithub#2759): asked again once (`retry` on the first attempt),
 * not to the queue's last, as the repository's other deliveries wait behind it (one message group per repository).
 */
export function headVerdict(
  head: string | undefined,
  push: ZipPush,
  firstAttempt: boolean,
): "skip" | "upload" | "retry" {
  if (head === undefined) return firstAttempt ? "retry" : "skip";
  const theirs = commitId(head);
  if (theirs === undefined) return "upload";
  // An id cut short (no host here answers one) is taken for the commit it begins.
  const same = (commit: string | undefined) =>
    commit !== undefined && (commit.startsWith(theirs) || theirs.startsWith(commit));
  return same(commitId(push.sha)) || same(commitId(push.before)) ? "upload" : "skip";
}

/**
 * The user metadata key CodePipeline shows as the revision's summary (SourceRevision: "the user-provided
 * content of a codepipeline-artifact-revision-summary key specified in the object metadata"); s3-zip writes
 * "<provider> <repository> <branch or tag> <sha7>: delivery <id>".
 */
export const REVISION_SUMMARY_METADATA = "codepipeline-artifact-revision-summary";

/**
 * Whether the zip in place was written for the same ref of the same repository as this push, each read from
 * what s3-zip writes: x-amz-meta-ref, and the provider and repository that begin the revision summary. A value
 * absent, empty or cut ("...": Git refs and repository names never end so) is unknown: not the same.
 */
function sameHistory(existing: Readonly<Record<string, string>>, push: ZipPush): boolean {
  const own = (name: string) => (Object.hasOwn(existing, name) ? existing[name] : undefined);
  const ref = knownValue(push.ref);
  const repository = summaryRepository(push.revisionSummary);
  return (
    ref !== undefined &&
    ref === knownValue(own("ref")) &&
    repository !== undefined &&
    repository === summaryRepository(own(REVISION_SUMMARY_METADATA))
  );
}

/** A metadata value that names its whole subject: not absent, empty, or cut short with "...". */
function knownValue(value: string | undefined): string | undefined {
  return value === undefined || value === "" || value.endsWith("...") ? undefined : value;
}

/** "<provider> <repository>", the first two words of a revision summary s3-zip wrote, when neither is cut. */
function summaryRepository(summary: string | undefined): string | undefined {
  const words = /^([^ ]+) ([^ ]+) /.exec(summary ?? "");
  if (words === null) return undefined;
  const [, provider, repository] = words as unknown as [string, string, string];
  if (knownValue(provider) === undefined || knownValue(repository) === undefined) return undefined;
  return `${provider} ${repository}`;
}

/** The commits a supersedes value names (any other word is not a commit id, and is passed over). */
function supersededList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(" ")
    .map(commitId)
    .filter((c): c is string => c !== undefined)
    .slice(0, MAX_SUPERSEDED);
}

/** A commit id in lower case, or undefined for anything else (absent, empty, all zeros: no commit). */
function commitId(value: string | undefined): string | undefined {
  return isRealCommit(value) ? value.toLowerCase() : undefined;
}
