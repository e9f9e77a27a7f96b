// s3-zip: the provider's archive of the EXACT pushed sha, flattened so the repository's files sit
// at the zip root (buildspec.yml at the root, as CodeBuild/CodePipeline expect), streamed into S3.
//
// Memory does not grow with the archive's bytes: the archive is downloaded to a temp file (streamed),
// entries are read from it with yauzl (random access through one cached block, zipFileReader; one
// entry stream at a time) and copied, still compressed, under their new names into a zip stream
// (zipCopy) that is the body of a multipart upload. Nothing holds the whole archive, and nothing is
// inflated or deflated again. It grows with the number of entries and the length of their names: each one's
// name and numbers, and its record of the new central directory, are held until the zip ends (EntryTable), so
// an archive whose central directory is more than the function's memory holds is refused before its entries
// are read (tooManyEntries).
//
// A zip never replaces one from a delivery the gateway accepted later (its accepted-at metadata): a dead
// letter redriven after newer pushes were zipped is skipped, not written over their zip (core/zipOrder).
// Nor, for a fast-forward push of the zip's own ref and repository, one whose push chain replaced this push's
// commit (its supersedes metadata, from the pushes' before): an older push accepted later (resent after a
// 5xx, or out of order) is skipped too, once the Git host's head of the branch confirms this push is not the
// branch's newest (the only host call made before the download, and only then; a lookup that fails retryably
// fails the delivery retryably, but on the queue's last attempt). A creation, a force-push or a rewind is never
// skipped by the chain: it may be a rollback.
// A key that holds this delivery's own zip already (an earlier attempt's upload succeeded, the attempt did
// not end well) is done: nothing is downloaded or uploaded.
// The upload is conditional on what was read (If-Match on its ETag, If-None-Match: * when there was none):
// a zip another writer puts between the read and the upload (a second route on the key, a delivery
// processed at the same moment) makes it fail and nothing is written; the key is read again and the
// decision made again, a few times, then the delivery is retried later.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { threadId } from "node:worker_threads";
import { inflateRawSync } from "node:zlib";
import yauzl from "yauzl";
import { ActionError, ConditionalWriteUnsupportedError, ObjectChangedError } from "../core/errors";
import { keyOutsideScope } from "../core/keyPrefixes";
import type { LogFn, WriteCondition } from "../core/ports";
import { keyHasEmptyFolder, keyLengthProblem } from "../core/render";
import { s3ZipShaProblem, s3ZipSkipReason } from "../core/s3ZipSkip";
import type { ActionOutcome, QueuedEvent, S3ZipRequest } from "../core/types";
import {
  ACCEPTED_AT_METADATA,
  acceptedAtMetadata,
  headVerdict,
  isOwnZip,
  REVISION_SUMMARY_METADATA,
  SUPERSEDES_METADATA,
  writeCondition,
  zipChain,
  zipOrder,
} from "../core/zipOrder";
import { type GitHostClient, gitHostClient } from "./gitHost";
import { pathUnder } from "./gitHost/redirects";
import type { TopFolderTest } from "./gitHost/topFolder";
import type { ArchiveSource } from "./gitHost/types";
import {
  bodyFailure,
  discard,
  header,
  httpRequest,
  serverMessage,
  statusError,
  withHint,
  withoutCredentials,
} from "./http";
import { type ItemRunner, requestOf } from "./runItem";
import { readError, storeError } from "./s3Errors";
import { CredentialsRefusedError, markRefusedCredentials } from "./secrets";
import type { ActionClients } from "./types";
import { type CopiedEntry, TIMESTAMP_EXTRA_BYTES, zipCopyStream } from "./zipCopy";
import { BlockCachedFileReader } from "./zipFileReader";

const MAX_REDIRECTS = 5;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const DOWNLOAD_IDLE_TIMEOUT_MS = 60_000;
/** The most entries s3-zip zips, whatever the memory (serve has no other limit). */
const MAX_ENTRIES = 1_000_000;
/**
 * What s3-zip holds while it writes the zip grows with the entries and with their names (the name is held
 * twice, the table's copy in a buffer that doubles as it fills): ENTRY_BYTES an entry plus
 * DIRECTORY_BYTE_COST for each byte of the archive's central directory (46 bytes and the name an entry;
 * extra fields count too, which only errs on the safe side). Peak RSS growth measured for 100,000 empty files
 * (h281's mem-probe, --max-old-space-size=128), in bytes an entry by central-directory bytes an entry:
 * 489-503 at 85, 550-594 at 120, 565-579 at 165, 730-775 at 235, 924-962 at 305 (and up to 1,256 at 305 in
 * an earlier run): 220 + 3.5 x covers them all (517, 640, 798, 1,043, 1,288).
 */
const ENTRY_BYTES = 220;
const DIRECTORY_BYTE_COST = 3.5;
/** The smallest central-directory record (a name of no bytes). */
const MIN_RECORD_BYTES = 46;
/** A record of a 150-byte path, assumed when the directory's size cannot be read (directoryBytes). */
const ASSUMED_RECORD_BYTES = 196;
/** The end of central directory record, without its comment. */
const END_RECORD_BYTES = 22;
/**
 * The function's memory besides (Node, the SDK, the upload's parts in flight, the archive's block cache):
 * s3zip-memory's peak RSS was 130-140 MB.
 */
const BASE_MEMORY_MB = 160;
/** Never refused for memory: 6 MB of entries (about 10,000 of 75-byte paths) fit at the 128 MB minimum too. */
const MIN_BUDGET_BYTES = 6 * 1024 * 1024;
const MAX_MEMORY_MB = 10_240;

/** The bytes s3-zip holds for `count` entries whose central directory has `directoryBytes`. */
function entriesMemory(count: number, directoryBytes: number): number {
  return count * ENTRY_BYTES + directoryBytes * DIRECTORY_BYTE_COST;
}

/** What a function of `memoryMb` has for the entries. */
function entriesBudget(memoryMb: number): number {
  return Math.max(MIN_BUDGET_BYTES, (memoryMb - BASE_MEMORY_MB) * 1024 * 1024);
}

/**
 * The final error for an archive of more entries than the function holds, with the memory it would need.
 * `directoryBytes` is the central directory's size (directoryBytes); `memoryMb` the function's
 * (AWS_LAMBDA_FUNCTION_MEMORY_SIZE; absent in serve, where only MAX_ENTRIES holds). More would run the function
 * out of memory, which Lambda ends without a word, and each retry would too.
 */
export function tooManyEntries(
  count: number,
  directoryBytes: number,
  memoryMb: number | undefined,
): ActionError | undefined {
  if (count > MAX_ENTRIES) {
    return new ActionError(
      `the archive has ${count} entries (files and folders), more than the ${MAX_ENTRIES} s3-zip zips`,
      { retryable: false },
    );
  }
  if (memoryMb === undefined) return undefined;
  const needed = entriesMemory(count, directoryBytes);
  if (needed <= entriesBudget(memoryMb)) return undefined;
  const neededMb = Math.ceil((BASE_MEMORY_MB + needed / (1024 * 1024)) / 64) * 64;
  const what =
    `the archive has ${count} entries (files and folders) in a central directory of ${directoryBytes} bytes, ` +
    `more than a function of ${memoryMb} MB holds while it writes the zip (about ${ENTRY_BYTES} bytes an entry ` +
    `and ${DIRECTORY_BYTE_COST} a byte of the directory, besides ${BASE_MEMORY_MB} MB)`;
  if (neededMb > MAX_MEMORY_MB) {
    return new ActionError(`${what}: it would need ${neededMb} MB, more than a function has`, {
      retryable: false,
    });
  }
  return new ActionError(
    `${what}: give the s3-zip functions more memory, ` +
      `\`pulumi config set --path 'hookgate:lambda.memoryMb' ${neededMb}\``,
    { retryable: false },
  );
}
const CREDENTIAL_HEADERS = ["authorization", "private-token", "proxy-authorization", "cookie"];
/** The credential headers among an archive request's headers. */
function credentialsOf(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([k]) => CREDENTIAL_HEADERS.includes(k.toLowerCase())),
  );
}
/**
 * The sign-in pages a host's web side sends a request to when it does not take its credential, matched as the
 * whole path, since a repository or group may be named login or sso (/acme/login): Bitbucket Cloud's
 * /account/signin/, GitHub's /login and its SAML /orgs/<org>/sso (/enterprises/<e>/sso), which sit at the root
 * (GitHub Enterprise Server has no sub-path install); GitLab's /users/sign_in and Gitea's /user/login, also
 * after the sub-path either may be installed under (/gitea/user/login). Any other page, such as an error page
 * behind GitHub Enterprise Server's /codeload/ on the API's own origin, says nothing of the credentials; a page
 * missed here only gets the less specific message.
 */
const ROOT_SIGN_IN_PATHS = ["/account/signin", "/login"];
const SUB_PATH_SIGN_IN_PATHS = ["/users/sign_in", "/user/login"];
function isSignInPath(pathname: string): boolean {
  const path = pathname.replace(/\/+$/, "").toLowerCase();
  return (
    ROOT_SIGN_IN_PATHS.includes(path) ||
    /^\/(?:orgs|enterprises)\/[^/]+\/sso$/.test(path) ||
    SUB_PATH_SIGN_IN_PATHS.some((p) => path.endsWith(p))
  );
}
/** Reads and conditional uploads of one delivery before it gives up, retryable, to the queue's backoff. */
const MAX_WRITE_ROUNDS = 3;

/** What the action knows of its work item besides the event. */
export interface S3ZipContext {
  /** When the gateway accepted the delivery (ISO time; a redriven dead letter keeps its own). */
  acceptedAt: string;
}

/** An s3-zip work item: its acceptance time orders it against the pushes already stored. */
export const runS3ZipItem: ItemRunner = (item, clients) =>
  uploadSourceZip(requestOf(item, "s3-zip"), item.event, clients, { acceptedAt: item.acceptedAt });

export async function uploadSourceZip(
  request: S3ZipRequest,
  event: QueuedEvent,
  clients: ActionClients,
  context: S3ZipContext,
): Promise<ActionOutcome> {
  // Every event but a push with a commit (a pull request's head is a fork's to choose, a deletion has none).
  const skip = s3ZipSkipReason(event);
  if (skip !== undefined) return { status: "skipped", detail: `skipped: ${skip}` };
  const sha = event.sha as string; // s3ZipSkipReason skips an event without one
  const shaProblem = s3ZipShaProblem(event);
  if (shaProblem !== undefined) throw new ActionError(shaProblem, { retryable: false });
  if (keyHasEmptyFolder(request.key)) {
    // Said before downloading: no attempt can succeed.
    throw new ActionError(
      `the object key ${JSON.stringify(request.key.slice(0, 200))} has an empty segment: a field of the key ` +
        `template rendered empty ({{branch}} is empty for a tag push). Restrict the route to branches, or put ` +
        "{{ref}} or {{tag}} in the key",
      { retryable: false },
    );
  }
  // Said before downloading too: S3 would refuse the upload after the archive was fetched and zipped.
  const tooLong = keyLengthProblem(request.key);
  if (tooLong !== undefined) {
    throw new ActionError(`${tooLong}; the key starts ${JSON.stringify(request.key.slice(0, 100))}`, {
      retryable: false,
    });
  }
  // Before any S3 call too: a key outside the role's prefixes (match.repos spelled in another case than the
  // host's) is refused AccessDenied, which would read as a broken role or bucket policy. serve checks the same.
  const outside =
    clients.keyScope && keyOutsideScope(clients.keyScope, request.bucket, request.key, event.repo.fullName);
  if (outside !== undefined) throw new ActionError(outside, { retryable: false });

  const metadata: Record<string, string> = {
    sha,
    ref: clippedMetadata(asciiMetadata(event.ref ?? (event.branch ? `refs/heads/${event.branch}` : ""))),
    "delivery-id": boundedDeliveryId(asciiMetadata(event.deliveryId)),
    [REVISION_SUMMARY_METADATA]: revisionSummary(event, sha),
  };
  const acceptedAt = acceptedAtMetadata(context.acceptedAt);
  if (acceptedAt !== undefined) metadata[ACCEPTED_AT_METADATA] = acceptedAt;

  // One client for the archive and, on the chain's skip path only, the branch's head (read once).
  let host: GitHostClient | undefined;
  const hostClient = async (): Promise<GitHostClient> => {
    host ??= await gitHostClient(request.api, clients);
    return host;
  };
  let headAnswer: Promise<BranchHeadAnswer> | undefined;
  const branchHead = (): Promise<BranchHeadAnswer> => {
    headAnswer ??= readBranchHead(hostClient, event);
    return headAnswer;
  };

  let dir: string | undefined;
  try {
    let downloaded: DownloadedArchive | undefined;
    let file = "";
    let stripTopFolder: false | ((folder: string) => boolean) = false;
    // Read the key, decide, upload on the condition that the key still holds what was read. When another
    // writer got there in between, read again and decide again: its zip may be newer than this one.
    for (let round = 1; ; round++) {
      // Before the download: a delivery older than the zip in place has nothing to do.
      const decided = await readAndDecide(
        request,
        event,
        sha,
        clients,
        context.acceptedAt,
        round,
        metadata,
        branchHead,
      );
      if ("outcome" in decided) return decided.outcome;
      // Each round's read gives the chain anew: another writer's zip may have come in between.
      if (decided.supersedes.length > 0) metadata[SUPERSEDES_METADATA] = decided.supersedes.join(" ");
      else delete metadata[SUPERSEDES_METADATA];
      if (downloaded === undefined) {
        const host = await hostClient();
        const source = host.archive(event.repo, sha);
        dir = await makeRunDir(clients.tmpDir ?? tmpdir(), clients.log);
        const archiveFile = join(dir, "archive.zip");
        file = archiveFile;
        const what = `${request.api.provider} archive of ${event.repo.fullName}`;
        const notFound = notFoundCause(request.api.provider, event);
        downloaded = await downloadArchive(source, archiveFile, clients, what, notFound).catch(
          async (err: unknown) => {
            // The token was refused: when its secret holds a new value (rotated since it was cached), once more.
            if (!(err instanceof CredentialsRefusedError) || !(await host.refreshCredentials())) throw err;
            return downloadArchive(host.archive(event.repo, sha), archiveFile, clients, what, notFound);
          },
        );
        stripTopFolder = hostTopFolder(source.topFolder, downloaded);
      }
      const put = (condition: WriteCondition | undefined) =>
        rezipIntoStore(file, { stripTopFolder, memoryMb: clients.memoryMb }, (body) =>
          clients.objects
            .put(request.bucket, request.key, body, {
              metadata,
              contentType: "application/zip",
              deadlineMs: clients.deadlineMs,
              condition,
              ...(request.serverSideEncryption !== undefined
                ? {
                    encryption: {
                      serverSideEncryption: request.serverSideEncryption,
                      ...(request.kmsKeyId !== undefined ? { kmsKeyId: request.kmsKeyId } : {}),
                    },
                  }
                : {}),
            })
            .catch((err: unknown) => {
              // Classified here, where the bucket and the KMS key asked for are known, so a message can name them.
              throw err instanceof ActionError
                ? err
                : storeError(err, request.bucket, "upload", request.kmsKeyId);
            }),
        );
      let written: RezipResult;
      try {
        written = await put(decided.condition).catch((err: unknown) => {
          if (!(err instanceof ConditionalWriteUnsupportedError)) throw err;
          // An S3-compatible endpoint without conditional writes: the upload goes as it did before them,
          // and the store sends no condition any more, so this is said once.
          clients.log({
            level: "warn",
            msg:
              "source zip: the S3 endpoint does not implement conditional writes; uploading without them, " +
              "so a zip another writer puts between the read and the upload can be replaced",
            bucket: request.bucket,
            key: request.key,
            error: err.message,
            deliveryId: event.deliveryId,
          });
          return put(undefined);
        });
      } catch (err) {
        if (!(err instanceof ObjectChangedError)) throw err;
        if (round >= MAX_WRITE_ROUNDS) {
          throw new ActionError(
            `s3://${request.bucket}/${request.key} changed under each of ${MAX_WRITE_ROUNDS} uploads of this ` +
              `delivery (another writer puts zips at the key): ${err.message}`,
            { retryable: true, cause: err },
          );
        }
        clients.log({
          msg: "source zip: the key changed between the read and the upload; reading it again",
          bucket: request.bucket,
          key: request.key,
          reason: err.reason,
          round,
          deliveryId: event.deliveryId,
        });
        continue;
      }
      clients.log({
        msg: "source zip uploaded",
        bucket: request.bucket,
        key: request.key,
        sha,
        entries: written.entries,
        archiveBytes: downloaded?.bytes,
        versionId: written.versionId,
        ...(written.lfsPointers.count > 0 ? { lfsPointers: written.lfsPointers.count } : {}),
        deliveryId: event.deliveryId,
      });
      if (written.keptTopFolder !== undefined) {
        clients.log({
          level: "warn",
          msg: `source zip: kept the archive's single top folder: not the name ${request.api.provider} writes`,
          folder: written.keptTopFolder,
          bucket: request.bucket,
          key: request.key,
          deliveryId: event.deliveryId,
        });
      }
      return {
        status: "done",
        detail: `uploaded s3://${request.bucket}/${request.key} (${written.entries} entries, sha ${sha.slice(0, 12)}${written.versionId ? `, version ${written.versionId}` : ""})${keptFolderNote(written.keptTopFolder, request.api.provider)}${lfsNote(written.lfsPointers)}`,
      };
    }
  } finally {
    if (dir !== undefined) await releaseRunDir(dir);
  }
}

/**
 * The temp directories of this process's runs that have not ended. A run's directory is named after its
 * process and thread (hookgate-zip-<pid>.<thread>-<12 random hex digits>), so a run can tell the directories of live runs from
 * those a killed one left: a run killed before its finally (out of memory, the function's time up) leaves its
 * archive, and Lambda keeps /tmp for the next invocations of the execution environment, whose downloads would
 * then find that much less room ("does not fit in the temp directory", final).
 */
const liveRunDirs = new Set<string>();
const RUN_DIR = /^hookgate-zip-(\d+)\.(\d+)-/;

/** The file-system calls a run's temp directory is made with (a test's double can pause one). */
export interface RunDirFs {
  realpath(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: { mode: number }): Promise<unknown>;
  rm(path: string, options: { recursive: true; force: true }): Promise<void>;
}

const nodeRunDirFs: RunDirFs = { realpath, readdir, mkdir, rm };

/** Names tried before a temp directory's creation fails (another file of the same random name: EEXIST). */
const RUN_DIR_NAME_TRIES = 3;

/**
 * A new temp directory for this run, in `parent`, after removing those runs that are gone left there.
 * Directories are named from `parent`'s real path, so one temp dir given by two paths (a symlink, a relative
 * path) gives the same names in the registry and in the scan: a live run's is never taken for a left one.
 * The name is registered as live before the directory is made: serve runs several deliveries at once, and
 * another run's start-up clean-up, scanning while this one's mkdir is under way, would otherwise see a
 * directory of this thread that no live run owns and remove it.
 */
export async function makeRunDir(given: string, log: LogFn, fs: RunDirFs = nodeRunDirFs): Promise<string> {
  // A parent that does not resolve is mkdir's to report.
  const parent = await fs.realpath(given).catch(() => given);
  for (let attempt = 1; ; attempt++) {
    const dir = join(parent, `hookgate-zip-${process.pid}.${threadId}-${randomBytes(6).toString("hex")}`);
    liveRunDirs.add(dir);
    try {
      await removeLeftRunDirs(parent, log, fs);
      await fs.mkdir(dir, { mode: 0o700 });
      return dir;
    } catch (err) {
      liveRunDirs.delete(dir);
      const code = (err as { code?: string }).code ?? "error";
      if (code === "EEXIST" && attempt < RUN_DIR_NAME_TRIES) continue;
      // A directory that cannot be written stays so; one missing may be made again (serve's <state-dir>/tmp).
      throw new ActionError(`source zip: cannot make a temp directory in ${given}: ${code}`, {
        retryable: !["EACCES", "EPERM", "EROFS", "ENOTDIR"].includes(code),
        cause: err,
      });
    }
  }
}

async function releaseRunDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  liveRunDirs.delete(dir);
}

/**
 * Removes the run directories in `parent` whose run is gone: this thread's that no live run owns (a Lambda
 * function restarted after a kill may have the same pid), and those of a process that no longer exists.
 * Another live process's (serve beside a test run sharing the OS temp dir), another thread's of this process
 * (even one that has ended), and any other name, are left.
 * A pid is only meaningful in one PID namespace: this assumes no process of another namespace (another
 * container) shares `parent`, where its pid could be ours or absent here. Lambda's /tmp belongs to one
 * execution environment; serve uses <state-dir>/tmp, which its state-dir lock gives to one serve.
 */
async function removeLeftRunDirs(parent: string, log: LogFn, fs: RunDirFs): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return; // mkdir says what is wrong with the directory
  }
  for (const name of names) {
    const owner = RUN_DIR.exec(name);
    if (owner === null) continue;
    const pid = Number(owner[1]);
    if (!Number.isSafeInteger(pid) || pid <= 0) continue; // kill(0) would ask about a process group
    const dir = join(parent, name);
    const gone =
      pid === process.pid ? Number(owner[2]) === threadId && !liveRunDirs.has(dir) : !processExists(pid);
    if (!gone) continue;
    await fs.rm(dir, { recursive: true, force: true }).then(
      () =>
        log({ level: "warn", msg: "source zip: removed the temp directory a run that was killed left", dir }),
      () => undefined,
    );
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's.
    return (err as { code?: string }).code === "EPERM";
  }
}

/**
 * Reads the zip at the key and decides: skipped (the outcome) when it comes from a delivery accepted
 * later, or its push chain replaced this commit and the Git host's head of the branch (`branchHead`, read only
 * then) confirms the branch has moved on or is gone, or the condition the upload goes on (what was read) and the
 * commits the new zip supersedes. The HeadObject's ETag gives If-Match; a
 * key without an object gives If-None-Match: * (ObjectStore.head answers absent from its list fallback
 * only when the key is not listed, so that is exact too).
 */
async function readAndDecide(
  request: S3ZipRequest,
  event: QueuedEvent,
  sha: string,
  clients: ActionClients,
  acceptedAt: string,
  round: number,
  metadata: Readonly<Record<string, string>>,
  branchHead: () => Promise<BranchHeadAnswer>,
): Promise<{ outcome: ActionOutcome } | { condition: WriteCondition | undefined; supersedes: string[] }> {
  const existing = await clients.objects
    .head(request.bucket, request.key, { deadlineMs: clients.deadlineMs })
    .catch((err: unknown) => {
      throw readError(err, request.bucket, request.key);
    });
  if (isOwnZip(existing?.metadata, metadata)) {
    // This delivery's zip is at the key already: the same archive of the same commit, so nothing is
    // downloaded or uploaded (another upload would only add a version). On the first read, an earlier
    // attempt put it: its upload succeeded, but the attempt ended before the queue heard (the function's
    // time ran out, a crash). After a refused upload, that upload had written it: the SDK's retry of a
    // request whose answer was lost (a 5xx, a reset) is refused by that request's own object.
    const first = round === 1;
    clients.log({
      msg: first
        ? "source zip already in place: the key holds this delivery's zip, put by an earlier attempt"
        : "source zip uploaded: its upload was reported refused, but the key holds this delivery's zip",
      bucket: request.bucket,
      key: request.key,
      sha,
      round,
      deliveryId: event.deliveryId,
    });
    const where = `s3://${request.bucket}/${request.key}`;
    return {
      outcome: {
        status: "done",
        detail: first
          ? `already in place: ${where} holds this delivery's zip (sha ${sha.slice(0, 12)}, put by an earlier attempt); nothing uploaded`
          : `uploaded ${where} (sha ${sha.slice(0, 12)}; found in place after its upload was reported refused)`,
      },
    };
  }
  const order = zipOrder(existing?.metadata, { sha, acceptedAt }, Date.now());
  if (order.upload && order.futureAcceptedAt !== undefined) {
    clients.log({
      level: "warn",
      msg: "source zip: the zip in place says it was accepted in the future; its time is not believed",
      bucket: request.bucket,
      key: request.key,
      theirAcceptedAt: order.futureAcceptedAt,
      deliveryId: event.deliveryId,
    });
  }
  if (order.upload) {
    const push = {
      sha,
      before: event.before,
      fastForward: event.fastForward === true,
      ref: metadata.ref,
      revisionSummary: metadata[REVISION_SUMMARY_METADATA],
    };
    const chain = zipChain(existing?.metadata, push);
    if (chain.upload) return { condition: writeCondition(existing), supersedes: chain.supersedes };
    // The payload and the metadata cannot tell a late resend from a fast-forward after a rollback the key never
    // saw: the host's head of the branch can. Anything short of a head that confirms it (or a branch gone)
    // uploads, but a lookup that may answer when asked again.
    const answer = await branchHead();
    // A passing failure is asked again, but not on the last attempt, where no retry follows: it uploads.
    if ("failure" in answer && answer.failure !== undefined && clients.lastAttempt !== true) {
      throw headLookupFailed(request, event, answer.failure);
    }
    const head = "head" in answer ? answer.head : undefined;
    const firstAttempt = (clients.attempt ?? 1) <= 1 && clients.lastAttempt !== true;
    const verdict = "head" in answer ? headVerdict(head, push, firstAttempt) : "upload";
    if (verdict === "retry") throw noSuchBranch(request, event);
    if (verdict === "skip") {
      return {
        outcome: supersededOutcome(request, event, sha, acceptedAt, round, chain.newer, head, clients),
      };
    }
    clients.log({
      ...("error" in answer ? { level: "warn" } : {}),
      msg: `source zip: the zip in place lists this push's commit as replaced, but ${unconfirmedReason(answer, sha, event.before)}; uploading`,
      bucket: request.bucket,
      key: request.key,
      sha,
      before: event.before,
      newerSha: chain.newer.sha,
      ...("head" in answer ? { head: answer.head ?? null } : { error: answer.error }),
      deliveryId: event.deliveryId,
    });
    return { condition: writeCondition(existing), supersedes: chain.supersedes };
  }
  const { newer } = order;
  clients.log({
    msg:
      round === 1
        ? "source zip skipped: the key holds a newer delivery's zip"
        : "source zip skipped: a newer delivery's zip was put at the key while this one was being zipped",
    bucket: request.bucket,
    key: request.key,
    sha,
    acceptedAt,
    newerSha: newer.sha,
    newerAcceptedAt: newer.acceptedAt,
    newerDeliveryId: newer.deliveryId,
    deliveryId: event.deliveryId,
  });
  const theirs = `${newer.sha ? `sha ${newer.sha.slice(0, 12)}, ` : ""}accepted ${newer.acceptedAt}`;
  return {
    outcome: {
      status: "skipped",
      detail:
        `skipped: s3://${request.bucket}/${request.key} holds the zip of a newer delivery (${theirs}) ` +
        `than this one (sha ${sha.slice(0, 12)}, accepted ${acceptedAt})`,
    },
  };
}

/**
 * The Git host's answer of the pushed branch's head (undefined: no such branch), or why it has none: `failure`
 * when asking again may answer (a 5xx, a 429, a dropped connection, a timeout).
 */
type BranchHeadAnswer = { head: string | undefined } | { error: string; failure?: ActionError };

/**
 * The pushed branch's head, as the host answers it now; a failure is an answer too (it confirms nothing).
 * Exported for its tests.
 */
export async function readBranchHead(
  hostClient: () => Promise<GitHostClient>,
  event: QueuedEvent,
): Promise<BranchHeadAnswer> {
  if (!event.branch) return { error: "the push names no branch" };
  try {
    const head: unknown = await (await hostClient()).branchHead(event.repo, event.branch);
    // The clients check it (headOrFail); a head that is no string would end the action with a TypeError below.
    if (head !== undefined && (typeof head !== "string" || head === "")) {
      throw new ActionError(
        `the Git host did not say which commit branch ${JSON.stringify(event.branch)} points at`,
        { retryable: true },
      );
    }
    return { head };
  } catch (err) {
    // The client's messages name no credential.
    const error = (err instanceof Error ? err.message : String(err)).slice(0, 300);
    // Anything but a final ActionError (a refused token, a missing scope) may answer on the next attempt, as the
    // worker retries an unexpected error too.
    const retryable = !(err instanceof ActionError) || err.retryable;
    return retryable
      ? {
          error,
          failure: err instanceof ActionError ? err : new ActionError(error, { retryable: true, cause: err }),
        }
      : { error };
  }
}

/**
 * A retryable failure to read the branch's head, before the queue's last attempt: the delivery is retried (with
 * the host's Retry-After), as an upload now would put a late older push over the newer zip.
 */
function headLookupFailed(request: S3ZipRequest, event: QueuedEvent, failure: ActionError): ActionError {
  return new ActionError(
    `source zip: s3://${request.bucket}/${request.key} lists this push's commit as replaced, and the ` +
      `${request.api.provider} head of branch ${event.branch} could not be read to tell a late older push from the ` +
      `branch's newest: ${failure.message}`,
    { retryable: true, retryAfterMs: failure.retryAfterMs, cause: failure },
  );
}

/**
 * No such branch at the host on the delivery's first attempt: asked again once, as a branch made again just now
 * may not show yet; from the next attempt on, the branch is taken as deleted and the push skipped.
 */
function noSuchBranch(request: S3ZipRequest, event: QueuedEvent): ActionError {
  return new ActionError(
    `source zip: s3://${request.bucket}/${request.key} lists this push's commit as replaced, and ` +
      `${request.api.provider} has no branch ${event.branch} now: deleted since (then this push is skipped), or ` +
      "made again just now and not shown yet; asked again once",
    { retryable: true },
  );
}

/** Why the host's answer does not confirm a skip the chain proposed (headVerdict said upload). */
function unconfirmedReason(answer: BranchHeadAnswer, sha: string, before: string | undefined): string {
  if ("error" in answer) {
    const last = answer.failure !== undefined ? " on the queue's last attempt" : "";
    return `the branch's head could not be read from the Git host to confirm the skip${last}`;
  }
  // headVerdict never uploads for no such branch; said should that change.
  if (answer.head === undefined) return "the Git host has no such branch now";
  if (answer.head.toLowerCase() === sha.toLowerCase()) {
    return "the Git host's head of the branch is this push's commit (a rollback the key never saw came before it)";
  }
  if (before !== undefined && answer.head.toLowerCase() === before.toLowerCase()) {
    return "the Git host's head of the branch is still this push's before (its API may lag behind its webhook)";
  }
  return "the Git host's answer of the branch's head is no commit id";
}

/**
 * The skip of a push whose commit the zip in place supersedes (its push chain replaced it), and whose branch
 * has moved on at the host (`head`) or is gone (undefined), logged: an older push accepted
 * after a newer one was zipped.
 */
function supersededOutcome(
  request: S3ZipRequest,
  event: QueuedEvent,
  sha: string,
  acceptedAt: string,
  round: number,
  newer: { sha: string; deliveryId?: string },
  head: string | undefined,
  clients: ActionClients,
): ActionOutcome {
  clients.log({
    msg:
      round === 1
        ? "source zip skipped: the key holds the zip of a later push"
        : "source zip skipped: the zip of a later push was put at the key while this one was being zipped",
    bucket: request.bucket,
    key: request.key,
    sha,
    before: event.before,
    acceptedAt,
    newerSha: newer.sha,
    newerDeliveryId: newer.deliveryId,
    head: head ?? null,
    deliveryId: event.deliveryId,
  });
  const branchNow =
    head === undefined
      ? `the branch is gone on ${request.api.provider} (no such branch, or no such repository to the route's token)`
      : `the branch's head on ${request.api.provider} is ${head.slice(0, 12)}`;
  return {
    status: "skipped",
    detail:
      `skipped: s3://${request.bucket}/${request.key} holds the zip of sha ${newer.sha.slice(0, 12)}, whose ` +
      `pushes replaced this push's commit (sha ${sha.slice(0, 12)}, in its x-amz-meta-${SUPERSEDES_METADATA}), ` +
      `this push does not continue from it, and ${branchNow}: an older push delivered late`,
  };
}

/**
 * An archive downloaded: its size, and every URL requested for it, the first and each redirect's, in order:
 * a renamed Gitea repository's redirect names its new name, and the hop after it may be object storage's
 * signed URL (SERVE_DIRECT), so the last URL alone does not name it.
 */
export interface DownloadedArchive {
  bytes: number;
  urls: string[];
}

/**
 * The host's test of the archive's top folder, given the URLs the download went through; false when the host
 * writes none.
 */
function hostTopFolder(
  topFolder: TopFolderTest | undefined,
  downloaded: DownloadedArchive,
): false | ((folder: string) => boolean) {
  if (topFolder === undefined) return false;
  return (folder) => topFolder(folder, downloaded.urls);
}

/**
 * The outcome's note of a single top folder kept as the repository's own: said, as the build may expect its
 * files (buildspec.yml) at the zip's root, where the host's own folder would have been removed.
 */
function keptFolderNote(folder: string | undefined, provider: string): string {
  if (folder === undefined) return "";
  return `; kept the archive's single top folder ${folder}: not the name ${provider} writes, so taken for the repository's own`;
}

/**
 * Why a 404 for this event's archive is final at once, when a retry cannot help: a Data Center push of a tag
 * names the ref's new value (toHash), for an annotated tag the tag object's id, not a commit, which the
 * server may refuse as the archive's `at` (README "Annotated tags on Bitbucket Data Center"). Its payload
 * cannot tell an annotated tag from a lightweight one, so every tag push's 404 says so.
 */
function notFoundCause(provider: string, event: QueuedEvent): string | undefined {
  const tagPush = event.tag !== undefined || event.ref?.startsWith("refs/tags/") === true;
  if (provider !== "bitbucket-server" || !tagPush) return undefined;
  return (
    "not retried: a tag push's sha on Bitbucket Data Center is, for an annotated tag (git tag -a), the tag " +
    "object's id, not a commit, which the server may refuse as the archive's at (else a wrong repository, or " +
    "a token that may not read it): zip branches only on Data Center, or push lightweight tags"
  );
}

/**
 * GET the archive, following up to 5 redirects by hand (GitHub answers 302 to codeload). The
 * credential headers go within the source's credentialScope only (the host's origin, under its install's path):
 * a redirect out of it drops them, for that hop and every later one. Every hop
 * goes through the source's dispatcher, which trusts the default roots plus the host's private CAs. A 200
 * whose body is no zip (a sign-in page) fails final (notAZip). A 404 is retried (notServedYet) unless
 * `notFound` says why it is final.
 */
export async function downloadArchive(
  source: ArchiveSource,
  file: string,
  clients: ActionClients,
  what: string,
  notFound?: string,
): Promise<DownloadedArchive> {
  let url = source.url;
  const urls = [url];
  const origin = new URL(url).origin;
  const scope = new URL(source.credentialScope ?? origin);
  // The credentials go within the host's install only: its origin, under its root path (a host under /gitea on
  // a shared origin sends none to /other-app), as the API calls' redirects (gitHost/redirects.ts).
  const inScope = (next: URL) => next.origin === scope.origin && pathUnder(next, scope);
  let headers = { ...source.headers };
  // Whether a hop dropped the credentials: no later hop carries them, so its refusal is none of theirs.
  let dropped = false;
  // The credentials the first hop sends, kept out of every message: a later hop's server can echo them too.
  // Each redirect's own secrets join them (locationSecrets).
  const sent: Record<string, string> = credentialsOf(source.headers);
  // Whether the host sent a request that carried the credentials on to a sign-in page of its own (Bitbucket
  // Cloud's archive URL to /account/signin/): a web page at the end is then its refusal of them, even past a
  // further hop (to id.atlassian.com). Not GitHub's redirect to codeload (another origin that never gets
  // them, or GHES's /codeload/ on the same one, whose error page is no refusal), nor a hop after a hop to
  // another origin dropped the credentials: the request redirected must still carry them.
  let sentToSignIn = false;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await httpRequest({
      method: "GET",
      url,
      headers,
      dispatcher: source.dispatcher ?? clients.dispatcher,
      timeoutMs: clients.timeoutMs ?? DOWNLOAD_TIMEOUT_MS,
      deadlineMs: clients.deadlineMs,
      idleTimeoutMs: DOWNLOAD_IDLE_TIMEOUT_MS,
      what,
      // A failure names the origin called: a redirect's other origin is the server's words, and its host name
      // can hold the token the first hop sent.
      sent,
    });
    const status = res.statusCode;
    if ([301, 302, 303, 307, 308].includes(status)) {
      await discard(res);
      const location = header(res.headers, "location");
      if (!location) {
        // Final, as the API calls' (gitHost/redirects.ts): without a Location the redirect is the server's
        // answer (a fetch in "follow" mode resolves with it), and a retry gets the same one.
        throw new ActionError(
          `${what} answered ${status} without a Location: the redirect cannot be followed`,
          {
            retryable: false,
          },
        );
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        // Final, as the API calls' (nextHop): a retry gets the same Location. Not quoted: it may hold a token.
        throw new ActionError(
          `${what} was redirected (${status}) to a Location that is not a URL: not followed`,
          {
            retryable: false,
          },
        );
      }
      for (const secret of locationSecrets(next))
        sent[`location-secret-${Object.keys(sent).length}`] = secret;
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        const scheme = withoutCredentials(next.protocol, sent);
        throw new ActionError(`${what}: redirect to an unsupported scheme ${scheme}`, {
          retryable: false,
        });
      }
      if (new URL(url).protocol === "https:" && next.protocol === "http:") {
        throw downgradeRefused(what, status, next, sent);
      }
      if (
        next.origin === origin &&
        Object.keys(credentialsOf(headers)).length > 0 &&
        isSignInPath(next.pathname)
      ) {
        sentToSignIn = true;
      }
      if (!inScope(next)) {
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.includes(k.toLowerCase())),
        );
        dropped = true;
      }
      url = next.toString();
      urls.push(url);
      continue;
    }
    if (status !== 200) {
      let detail = "";
      try {
        // Only the credentials are taken out of the server's message: the other headers (the API version,
        // the user agent) are no secret, and words like them in a message stay readable.
        detail = await serverMessage(res, what, sent);
      } catch {
        // The status alone classifies the failure.
      }
      const err =
        status === 404
          ? notServedYet(what, detail, clients.lastAttempt === true, notFound)
          : statusError(what, res, detail);
      // The hint is about the host's own credential: a hop that got none (another origin's signed URL, a path
      // out of the install, or any hop after those) says nothing of it.
      const credentialed = !dropped;
      const hint = err.retryable || !credentialed ? undefined : source.refusalHint?.(status);
      const refusal = hint === undefined ? err : withHint(err, hint);
      throw credentialed ? markRefusedCredentials(refusal, status) : refusal;
    }
    let bytes = 0;
    // Each chunk is written as it arrives, never through a stream with backpressure: a write falling behind
    // would pause undici's parser, and undici 7 asserts !paused when the host then closes the connection
    // (Connection: close), an uncaught AssertionError that ends the process (nodejs/undici#5360).
    let fd: number | undefined;
    /** The temp file's own failure (open, write), which is this machine's, not the archive host's. */
    let local: unknown;
    try {
      try {
        fd = openSync(file, "w");
      } catch (err) {
        local = err;
        throw err;
      }
      const out = fd;
      res.body.on("data", (chunk: Buffer) => {
        try {
          writeFully(out, chunk);
          bytes += chunk.length;
        } catch (err) {
          local = err;
          res.body.destroy(err as Error);
        }
      });
      await finished(res.body);
    } catch (err) {
      // Its own "error" (an AbortError) would find no listener when the file failed to open before any was
      // attached, and end the process as an uncaught error.
      res.body.on("error", () => undefined);
      res.body.destroy();
      if ((err as { code?: string }).code === "ENOSPC") {
        if (clients.sharedTmpDir) {
          // hookgate serve: the other runs' downloads share the disk, and this one may fit once they end.
          const size = Number(header(res.headers, "content-length"));
          const needs =
            Number.isSafeInteger(size) && size > bytes
              ? megabytes(size)
              : bytes > 0
                ? `more than ${megabytes(bytes)}`
                : undefined;
          const where = clients.tmpDir ? ` (${clients.tmpDir})` : "";
          throw new ActionError(
            `${what} did not fit in the temp directory${where}: the state dir's disk is shared by the s3-zip ` +
              `downloads in progress, and this archive needs ${needs ?? "room"} beside theirs; free ` +
              `${needs ? "that much" : "space"} on the state dir's disk` +
              (clients.lastAttempt ? "" : " (it is retried after the backoff)"),
            { retryable: true, cause: err },
          );
        }
        throw new ActionError(
          // Deployed, the invocation's /tmp is its own: no retry would find more room in it.
          `${what} does not fit in the temp directory: give the function more ephemeral storage ` +
            "(lambda.ephemeralStorageMb)",
          {
            retryable: false,
            cause: err,
          },
        );
      }
      if (local !== undefined) {
        // Retryable: a full table of open files (EMFILE) or a disk error may pass; the code says which.
        const code = (local as { code?: unknown }).code;
        throw new ActionError(
          `${what} could not be written to the temp file: ${typeof code === "string" ? code : "error"} (this ` +
            "machine's disk, not the archive's host)",
          { retryable: true, cause: local },
        );
      }
      throw bodyFailure(res, err, what);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (bytes > 0 && !(await beginsWithPk(file))) {
      throw notAZip(what, header(res.headers, "content-type"), hop > 0, sentToSignIn, source, sent);
    }
    return { bytes, urls };
  }
  throw new ActionError(`${what}: more than ${MAX_REDIRECTS} redirects`, { retryable: false });
}

/**
 * A redirect from https to plain http, refused (final: the host's setting answers the same each time): over http
 * the zip CodePipeline builds could be changed by anyone on the path. Names the origin only, without the
 * credentials `sent`: the URL's path and query may hold a signature (SERVE_DIRECT's pre-signed URL).
 */
function downgradeRefused(
  what: string,
  status: number,
  next: URL,
  sent: Record<string, string>,
): ActionError {
  const answered = `${what} was redirected (${status}) from https to http`;
  const refused =
    "not followed, as over http anyone on the path could change the code zipped; the host's root URL or " +
    "archive storage (Gitea and Forgejo: [server] ROOT_URL, or MINIO_USE_SSL = false with SERVE_DIRECT; GitLab: " +
    "external_url; Bitbucket Data Center: its base URL) or the proxy in front of it says http: fix it there, " +
    "and keep an https apiUrl in routes.yaml";
  return new ActionError(`${answered} (${withoutCredentials(next.origin, sent)}): ${refused}`, {
    retryable: false,
    publicMessage: `${answered}: ${refused}`,
  });
}

/**
 * A 404 for the archive of the pushed commit, which the push's own event says exists: a Git host can answer 404
 * right after the event, before the commit has reached the replica that serves it (GitHub's API is eventually
 * consistent: octokit/octokit.js#900; GitHub Enterprise sends webhooks before the commits are available to its
 * other APIs: palantir/policy-bot#47). Retryable while the queue has attempts left; final on its last attempt,
 * where a 404 is more likely a wrong repository, a token that may not read it (GitHub answers 404 to that), or a
 * commit force-pushed away.
 */
function notServedYet(what: string, detail: string, lastAttempt: boolean, notFound?: string): ActionError {
  // Without its closing period: the server's sentence ("… in repository 'api'.") goes on with ours.
  const said = detail.replace(/[.\s]+$/, "");
  const answered = `${what} answered 404${said ? `: ${said}` : ""}`;
  if (notFound !== undefined) return new ActionError(`${answered}; ${notFound}`, { retryable: false });
  if (lastAttempt) {
    return new ActionError(
      `${answered}, on the queue's last attempt too: not retried (a wrong repository, a token that may not ` +
        "read it, or a commit no longer on the host)",
      { retryable: false },
    );
  }
  return new ActionError(
    `${answered}: retried, as a host can answer 404 for a commit just pushed until it has replicated it`,
    { retryable: true },
  );
}

/**
 * What a redirect's URL carries that may be a credential of its own: each query parameter's value (GitHub's
 * codeload URL of a private repository has ?token=…, a signed S3 URL its X-Amz-Signature) and a user name and
 * password. The server it leads to can echo them into a message; only values of 8 characters or more are
 * taken out (withoutCredentials), so a short one (format=zip) stays readable.
 */
function locationSecrets(url: URL): string[] {
  const values = [...url.searchParams.values()];
  for (const part of [url.username, url.password]) {
    if (part === "") continue;
    try {
      values.push(decodeURIComponent(part));
    } catch {
      values.push(part);
    }
  }
  return values;
}

/** A size in MB (10^6 bytes), rounded up to one decimal: what to free on a disk. */
function megabytes(bytes: number): string {
  return `${(Math.ceil(bytes / 100_000) / 10).toFixed(1)} MB`;
}

/** Write all of `chunk` to the descriptor: writeSync may write less than it is given. */
function writeFully(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
}

/** Whether the file begins with "PK", as every zip does (a local file header, or an empty zip's end record). */
async function beginsWithPk(file: string): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer.toString("latin1") === "PK";
  } finally {
    await handle.close();
  }
}

/**
 * The final error for a 200 whose body is no zip. The first bytes decide, not the Content-Type, which only
 * names what came: real archives come as application/zip, application/octet-stream or with none, and one a
 * server mislabels is still a zip. A web page (text/*) after the host sent a request carrying the credentials
 * on to a sign-in path of its own (isSignInPath) is its refusal of them: Bitbucket Cloud sends a credential
 * its web host does not take to bitbucket.org/account/signin/. That counts as a refused credential, so the
 * token secret is read once more. Any other page a redirect led to (GitHub's codeload on another origin, or
 * GHES's /codeload/ on the same one: a proxy's error page), or one reached with no credentials, says nothing
 * of them. A retry downloads the same page: final. Neither the URL (its query can hold a signed token) nor the
 * credentials are named.
 */
function notAZip(
  what: string,
  contentType: string | undefined,
  redirected: boolean,
  refusedCredentials: boolean,
  source: ArchiveSource,
  sent: Record<string, string>,
): ActionError {
  const media = contentType?.split(";")[0]?.trim().toLowerCase().slice(0, 100) ?? "";
  const type = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(media)
    ? withoutCredentials(media, sent)
    : undefined;
  if (type?.startsWith("text/") !== true) {
    return new ActionError(
      `${what} answered 200 with a body that is not a zip (${type === undefined ? "" : `Content-Type ${type}; `}` +
        "it does not begin with PK)",
      { retryable: false },
    );
  }
  const page = `${what} led to a web page (${type}), not a zip`;
  if (!refusedCredentials) {
    const likely = redirected
      ? "likely a sign-in or error page a redirect led to"
      : "likely a sign-in or error page of something in front of the host";
    return new ActionError(`${page}: ${likely}`, { retryable: false });
  }
  const err = new ActionError(`${page}: likely a sign-in page, the credential was not accepted`, {
    retryable: false,
  });
  const hint = source.refusalHint?.(401);
  return new CredentialsRefusedError(hint === undefined ? err : withHint(err, hint));
}

/**
 * Read the downloaded zip's entries, drop the single top folder when the provider adds one, and
 * stream a new zip into `put`. Unsafe names (absolute, "..") are a final error. Names are copied
 * byte for byte with their UTF-8 flag: `git archive` writes a name that is not UTF-8 as its bytes
 * without the flag, and decoding it (as CP437, the zip default) would rename the file. A backslash
 * is kept too: it is part of a Linux file name (`back\slash`, where CodeBuild unpacks), not a folder.
 */
export async function rezipIntoStore<T extends { versionId?: string }>(
  file: string,
  options: { stripTopFolder: boolean | ((folder: string) => boolean); memoryMb?: number },
  put: (body: Readable) => Promise<T>,
): Promise<RezipResult> {
  let zip: yauzl.ZipFile;
  // A plain descriptor, not a FileHandle: the reader owns it and closes it when yauzl is done.
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const { size } = fstatSync(fd);
    zip = await yauzl.fromRandomAccessReaderPromise(new BlockCachedFileReader(fd, size), size, {
      lazyEntries: true,
      autoClose: false,
      // Raw names: yauzl would decode a name without the UTF-8 flag as CP437, and (strictFileNames
      // false) turn every backslash into a slash, which moves the file or collides with another.
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw new ActionError(`the downloaded archive is not a readable zip: ${archiveReason(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  try {
    // Said from the end record's count, before any entry is read: past it, the function would run out of
    // memory on the way (a Lambda killed for it says nothing, and each retry dies the same).
    const measured = directoryBytes(zip);
    const bytes = measured ?? zip.entryCount * ASSUMED_RECORD_BYTES;
    // An end record counting more records than its directory has room for is a damaged download (retryable),
    // not a reason to ask for memory.
    // (An offset past the end with no entry counted is never read: an empty zip, as yauzl reads it.)
    if (measured !== undefined && Math.max(0, measured) < zip.entryCount * MIN_RECORD_BYTES) {
      throw corruptArchive(
        new Error(
          `the end record counts ${zip.entryCount} entries, more than its central directory of ${bytes} bytes holds`,
        ),
      );
    }
    const tooMany = tooManyEntries(zip.entryCount, bytes, options.memoryMb);
    if (tooMany !== undefined) throw tooMany;
    const table = await readEntries(zip);
    const plan = table.plan(options.stripTopFolder);
    const lfsPointers: LfsPointers = { count: 0 };
    const body = zipCopyStream(copiedEntries(zip, table, plan, lfsPointers), plan.directoryBytes);
    // The archive is read while S3 takes the body, so a corrupt entry fails put() too: the body's own
    // error says which of the two failed.
    let bodyError: unknown;
    body.on("error", (err) => {
      bodyError ??= err;
    });
    let result: T;
    try {
      result = await put(body);
    } catch (err) {
      body.destroy();
      if (bodyError !== undefined) throw corruptArchive(bodyError);
      if (err instanceof ActionError) throw err;
      throw storeError(err);
    }
    return {
      entries: plan.count,
      versionId: result.versionId,
      lfsPointers,
      ...(plan.keptTopFolder !== undefined ? { keptTopFolder: plan.keptTopFolder } : {}),
    };
  } finally {
    zip.close();
  }
}

/**
 * The central directory's bytes: from its offset, which yauzl keeps as its read cursor until an entry is read,
 * to the end record (22 bytes and the archive's comment, up to 64 KiB that is never held). A Zip64 archive's
 * 76 bytes of end records more are left in, which errs on the safe side. Undefined when the cursor is not a
 * number (it is not yauzl's public API): the caller then assumes ASSUMED_RECORD_BYTES an entry.
 */
export function directoryBytes(zip: Pick<yauzl.ZipFile, "fileSize" | "comment">): number | undefined {
  // @types/yauzl types the cursor as a boolean; yauzl 3 sets it to the directory's offset.
  const cursor = (zip as unknown as { readEntryCursor?: unknown }).readEntryCursor;
  if (typeof cursor !== "number" || !Number.isFinite(cursor)) return undefined;
  return zip.fileSize - cursor - END_RECORD_BYTES - (zip.comment?.length ?? 0);
}

/**
 * The entries of the new zip, made one at a time from the table as the zip stream asks: none is held
 * past its copy. The compressed bytes are copied as they are: nothing is inflated or deflated again (but
 * a file small enough to be a Git LFS pointer is looked at as it passes).
 */
function* copiedEntries(
  zip: yauzl.ZipFile,
  table: EntryTable,
  plan: EntryPlan,
  lfsPointers: LfsPointers,
): Generator<CopiedEntry> {
  for (let k = 0; k < plan.count; k++) {
    const i = plan.kept[k] ?? 0;
    const name = table.name(i, plan.prefixLength);
    const entry = table.entry(i);
    const directory = name[name.length - 1] === 0x2f;
    yield {
      ...entry,
      name,
      open: async () => {
        // A yauzl Entry made for the moment: yauzl reads the local header at its offset for the data's start.
        const source = Object.assign(new yauzl.Entry(), {
          relativeOffsetOfLocalHeader: table.localHeaderOffset(i),
          compressedSize: entry.compressedSize,
          uncompressedSize: entry.uncompressedSize,
          compressionMethod: entry.compressionMethod,
          generalPurposeBitFlag: 0,
        });
        const raw = await zip.openReadStreamPromise(source, { decodeFileData: false });
        if (directory || !mayBeLfsPointer(entry)) return raw;
        return Readable.from(
          noteLfsPointer(raw, entry, () => {
            lfsPointers.count++;
            lfsPointers.first ??= safeName(name.toString("latin1"), entry.utf8Name);
          }),
        );
      },
    };
  }
}

interface LfsPointers {
  count: number;
  /** The first one's name, quoted for a message. */
  first?: string;
}

export interface RezipResult {
  entries: number;
  versionId?: string;
  /** Files of the zip that are Git LFS pointer files, not their content. */
  lfsPointers: LfsPointers;
  /**
   * The single folder every entry is under, quoted for a message with its slash, when the host's test of its
   * top folder did not take it: the zip keeps it.
   */
  keptTopFolder?: string;
}

// A Git LFS pointer file (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md) starts with its version
// line and names its object ("oid sha256:<64 hex>", "size <n>"); about 130 bytes, more with extension lines
// ("ext-0-<name> sha256:..."). git-lfs itself only reads files under 1024 bytes as pointers (blobSizeCutoff).
// A host's archive holds the pointer, not the content, unless the host is told to put LFS objects in
// archives: the build gets the pointer.
const LFS_POINTER_START = Buffer.from("version https://git-lfs.github.com/spec/v1\n");
const MAX_LFS_POINTER_BYTES = 1023;
const LFS_OBJECT_LINES = /^oid sha256:[0-9a-f]{64}\n(?:[a-z0-9.-]+ [^\n]*\n)*size \d+\n/m;

function mayBeLfsPointer(entry: Sized): boolean {
  return (
    entry.uncompressedSize >= LFS_POINTER_START.length &&
    entry.uncompressedSize <= MAX_LFS_POINTER_BYTES &&
    entry.compressedSize <= 2 * MAX_LFS_POINTER_BYTES &&
    (entry.compressionMethod === 0 || entry.compressionMethod === 8)
  );
}

/** The entry's compressed bytes, passed on as they come; at their end, found() when they hold an LFS pointer. */
async function* noteLfsPointer(raw: Readable, entry: Sized, found: () => void): AsyncGenerator<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of raw) {
    chunks.push(chunk as Buffer);
    yield chunk as Buffer;
  }
  let content: Buffer;
  try {
    const bytes = Buffer.concat(chunks);
    content = entry.compressionMethod === 8 ? inflateRawSync(bytes, { maxOutputLength: 1024 }) : bytes;
  } catch {
    return; // Not inflatable: not a pointer (the zip's reader says what is wrong with it, if anything).
  }
  if (isLfsPointer(content)) found();
}

/** The version line, then the object's oid and size lines (keys are sorted, so other keys may come between). */
function isLfsPointer(content: Buffer): boolean {
  return (
    content.subarray(0, LFS_POINTER_START.length).equals(LFS_POINTER_START) &&
    LFS_OBJECT_LINES.test(content.subarray(LFS_POINTER_START.length).toString("latin1"))
  );
}

/** The outcome's note on LFS pointers in the zip ("" when there are none). */
function lfsNote(pointers: LfsPointers): string {
  if (pointers.count === 0) return "";
  const which =
    pointers.count === 1
      ? `1 file (${pointers.first}) is a Git LFS pointer, not the file's content`
      : `${pointers.count} files (${pointers.first} and ${pointers.count - 1} more) are Git LFS pointers, not the files' content`;
  return (
    `; ${which}: the host's archive holds LFS files as pointers (GitHub's does unless the repository's ` +
    `"Include Git LFS objects in archives" is on)`
  );
}

/** What an entry is copied with, but its name and bytes. */
type EntryFields = Omit<CopiedEntry, "name" | "open"> & { utf8Name: boolean };

/** The sizes and method that say whether an entry may be a Git LFS pointer. */
type Sized = Pick<CopiedEntry, "compressionMethod" | "compressedSize" | "uncompressedSize">;

/** Which entries of the table go into the new zip, in order, and the top folder's bytes they lose. */
interface EntryPlan {
  kept: Uint32Array;
  count: number;
  prefixLength: number;
  /** The new central directory's size (46 bytes and the name an entry, before any Zip64 extra field). */
  directoryBytes: number;
  /** The single top folder kept because the host's test did not take it (RezipResult.keptTopFolder). */
  keptTopFolder?: string;
}

const FLAG_UTF8 = 1;
const FLAG_MTIME = 2;

/**
 * The modification time of the entry's extended-timestamp extra field (0x5455) in the central directory, which
 * git archive writes for every entry (the exact time; its DOS fields are the server's local time), or undefined.
 */
function extendedMtime(entry: yauzl.Entry): number | undefined {
  const field = entry.extraFields?.find((extra) => extra.id === 0x5455);
  if (field === undefined || field.data.length < 5 || ((field.data[0] ?? 0) & 0x01) === 0) return undefined;
  return field.data.readUInt32LE(1);
}

/**
 * The archive's entries as s3-zip keeps them until its zip is written: each one's numbers in typed arrays and
 * its name's bytes in one buffer, about 60 bytes an entry besides the name. A yauzl Entry of its own
 * (objects, Buffers, its extra fields), and the zip entry made of it, cost about 1.2 KB an entry: an archive
 * of 400,000 files would hold 500 MB of them while its zip streams out.
 */
class EntryTable {
  count = 0;
  private readonly localHeader: Float64Array;
  private readonly compressed: Float64Array;
  private readonly uncompressed: Float64Array;
  private readonly crc: Uint32Array;
  private readonly method: Uint16Array;
  private readonly time: Uint16Array;
  private readonly date: Uint16Array;
  /** The Unix mode kept (unixMode), 0 when there is none. */
  private readonly mode: Uint16Array;
  /** The extended timestamp's modification time, when FLAG_MTIME is set. */
  private readonly mtime: Uint32Array;
  private readonly flags: Uint8Array;
  /** Entry i's name is names[nameStart[i], nameStart[i + 1]). */
  private readonly nameStart: Float64Array;
  private names: Buffer;

  constructor(capacity: number) {
    this.localHeader = new Float64Array(capacity);
    this.compressed = new Float64Array(capacity);
    this.uncompressed = new Float64Array(capacity);
    this.crc = new Uint32Array(capacity);
    this.method = new Uint16Array(capacity);
    this.time = new Uint16Array(capacity);
    this.date = new Uint16Array(capacity);
    this.mode = new Uint16Array(capacity);
    this.mtime = new Uint32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.nameStart = new Float64Array(capacity + 1);
    // Grown by doubling as names come: 32 bytes an entry to start with.
    this.names = Buffer.allocUnsafe(Math.max(capacity, 32) * 32);
  }

  add(entry: yauzl.Entry, mode: number | undefined): void {
    const i = this.count;
    if (i >= this.flags.length) throw new Error("more entries than the archive's end record counts");
    this.localHeader[i] = entry.relativeOffsetOfLocalHeader;
    this.compressed[i] = entry.compressedSize;
    this.uncompressed[i] = entry.uncompressedSize;
    this.crc[i] = entry.crc32 >>> 0;
    this.method[i] = entry.compressionMethod;
    this.time[i] = entry.lastModFileTime;
    this.date[i] = entry.lastModFileDate;
    this.mode[i] = mode ?? 0;
    const mtime = extendedMtime(entry);
    this.mtime[i] = mtime ?? 0;
    this.flags[i] = (isUtf8Name(entry) ? FLAG_UTF8 : 0) | (mtime !== undefined ? FLAG_MTIME : 0);
    const raw = entry.fileNameRaw;
    const start = this.nameStart[i] ?? 0;
    if (start + raw.length > this.names.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.names.length, start + raw.length));
      this.names.copy(grown, 0, 0, start);
      this.names = grown;
    }
    raw.copy(this.names, start);
    this.nameStart[i + 1] = start + raw.length;
    this.count++;
  }

  /** Entry i's name bytes, less the first `skip` (the top folder): a view into the table. */
  name(i: number, skip = 0): Buffer {
    return this.names.subarray((this.nameStart[i] ?? 0) + skip, this.nameStart[i + 1] ?? 0);
  }

  localHeaderOffset(i: number): number {
    return this.localHeader[i] ?? 0;
  }

  entry(i: number): EntryFields {
    const mode = this.mode[i] ?? 0;
    const flags = this.flags[i] ?? 0;
    return {
      utf8Name: (flags & FLAG_UTF8) !== 0,
      compressionMethod: this.method[i] ?? 0,
      crc32: this.crc[i] ?? 0,
      compressedSize: this.compressed[i] ?? 0,
      uncompressedSize: this.uncompressed[i] ?? 0,
      dosTime: this.time[i] ?? 0,
      dosDate: this.date[i] ?? 0,
      ...(mode !== 0 ? { mode } : {}),
      ...((flags & FLAG_MTIME) !== 0 ? { mtime: this.mtime[i] ?? 0 } : {}),
    };
  }

  hasMtime(i: number): boolean {
    return ((this.flags[i] ?? 0) & FLAG_MTIME) !== 0;
  }

  /**
   * The entries to copy: without the single top folder when every name is under it (a file at the root, or a
   * second folder, means there is none) and `stripTopFolder` takes it (true: any folder; a test: a folder of the
   * name the host writes, so a repository's own single folder stays), and each name once (the first entry of a
   * name wins). A name checked as safe with its top folder is checked again without it: "top//etc/x" would
   * become "/etc/x".
   */
  plan(stripTopFolder: boolean | ((folder: string) => boolean)): EntryPlan {
    let prefixLength = 0;
    let keptTopFolder: string | undefined;
    if (stripTopFolder !== false && this.count > 0) {
      const first = this.name(0).toString("latin1");
      const slash = first.indexOf("/");
      // A first entry without a slash is a file at the root: nothing is under one folder.
      const top = slash > 0 ? first.slice(0, slash) : "";
      const prefix = Buffer.from(`${top}/`, "latin1");
      let shared = top !== "";
      for (let i = 0; shared && i < this.count; i++) {
        shared = this.name(i).subarray(0, prefix.length).equals(prefix);
      }
      if (shared && (stripTopFolder === true || stripTopFolder(top))) prefixLength = prefix.length;
      // Said, not silent: a build expecting its files at the root would fail far from here.
      else if (shared) keptTopFolder = safeName(`${top}/`, this.entry(0).utf8Name);
    }
    const kept = new Uint32Array(this.count);
    const seen = new NameSet(this, prefixLength);
    let count = 0;
    let directoryBytes = 0;
    for (let i = 0; i < this.count; i++) {
      const name = this.name(i, Math.min(prefixLength, this.name(i).length));
      if (name.length === 0 || !seen.add(i, name)) continue;
      assertSafeName(name.toString("latin1"), this.entry(i).utf8Name);
      kept[count++] = i;
      directoryBytes += 46 + name.length + (this.hasMtime(i) ? TIMESTAMP_EXTRA_BYTES : 0);
    }
    return {
      kept,
      count,
      prefixLength,
      directoryBytes,
      ...(keptTopFolder !== undefined ? { keptTopFolder } : {}),
    };
  }
}

/**
 * The names met so far, as entry numbers in an open-addressing table keyed by the name's FNV-1a hash: 8
 * bytes an entry, where a Set of strings takes about 100.
 */
class NameSet {
  private readonly slots: Int32Array;
  constructor(
    private readonly table: EntryTable,
    private readonly skip: number,
  ) {
    let size = 16;
    while (size < 2 * table.count) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
  }
  /** Adds entry i under `name`; false when an entry of the same name is in already. */
  add(i: number, name: Buffer): boolean {
    let hash = 0x811c9dc5;
    for (const byte of name) hash = Math.imul(hash ^ byte, 0x01000193);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const other = this.slots[slot] ?? -1;
      if (other === -1) {
        this.slots[slot] = i;
        return true;
      }
      const otherName = this.table.name(other, Math.min(this.skip, this.table.name(other).length));
      if (otherName.equals(name)) return false;
    }
  }
}

/**
 * Reads every entry into the table, checking each: its name is safe, its data copyable.
 * The table is made for the count the end record gives, which yauzl reads exactly.
 * The first refusal (final) is thrown only once the whole central directory has read well: a damaged
 * download (retryable) can make any entry look refusable, so a record that does not read wins.
 */
async function readEntries(zip: yauzl.ZipFile): Promise<EntryTable> {
  const table = new EntryTable(zip.entryCount);
  let refusal: unknown;
  try {
    for await (const entry of zip.eachEntry()) {
      if (refusal !== undefined) continue;
      try {
        const name = entryName(entry);
        assertSafeName(name, isUtf8Name(entry));
        assertCopyable(entry, name);
        table.add(entry, unixMode(entry, name.endsWith("/")));
      } catch (err) {
        refusal = err;
      }
    }
  } catch (err) {
    throw corruptArchive(err);
  }
  if (refusal !== undefined) throw corruptArchive(refusal);
  return table;
}

/**
 * The entry's name as its bytes, one character per byte ("latin1"), whatever its encoding: the
 * checks and the top folder's removal work on "/", "." and ":", which are the same bytes in UTF-8
 * and in CP437, and the name goes back to the same bytes unchanged.
 */
function entryName(entry: yauzl.Entry): string {
  return entry.fileNameRaw.toString("latin1");
}

function isUtf8Name(entry: yauzl.Entry): boolean {
  return (entry.generalPurposeBitFlag & 0x800) !== 0;
}

/**
 * Absolute names and ".." segments are refused. A backslash is an ordinary character of the name, but
 * one that an unzip on Windows reads as a separator: `..\x` and `\x` are refused as well.
 */
function assertSafeName(name: string, utf8: boolean): void {
  const unsafe =
    /^[/\\]/.test(name) ||
    /^[a-zA-Z]:/.test(name) ||
    name.includes("\u0000") ||
    name.split(/[/\\]/).some((segment) => segment === "..");
  if (unsafe) {
    throw new ActionError(`the archive has an unsafe entry name (zip-slip): ${safeName(name, utf8)}`, {
      retryable: false,
    });
  }
}

/** Entries are copied compressed as they are: only what every unzip reads (stored or deflated, in the clear). */
function assertCopyable(entry: yauzl.Entry, name: string): void {
  if (name.endsWith("/")) return;
  if (entry.isEncrypted() || (entry.compressionMethod !== 0 && entry.compressionMethod !== 8)) {
    throw new ActionError(
      `the archive's entry ${safeName(name, isUtf8Name(entry))} is ${entry.isEncrypted() ? "encrypted" : `compressed with method ${entry.compressionMethod}`}, which s3-zip does not copy`,
      { retryable: false },
    );
  }
}

/** A name (as entryName gives it) for a message: decoded as UTF-8 when flagged so, quoted, clipped. */
function safeName(name: string, utf8: boolean): string {
  const text = utf8 ? Buffer.from(name, "latin1").toString("utf8") : name;
  return JSON.stringify(text.slice(0, 200));
}

/**
 * The download is corrupt (yauzl's reason, which names no secret). Retryable: each attempt downloads
 * the archive again, and a corrupt one most likely comes from a transfer cut short or mangled on the
 * way; a provider that keeps serving a broken archive costs the route's few attempts, then the DLQ
 * with this same reason.
 */
function corruptArchive(err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  return new ActionError(`the downloaded archive is corrupt: ${archiveReason(err)}`, {
    retryable: true,
    cause: err,
  });
}

function archiveReason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}

/** Unix permission bits and file type from a zip made on Unix (keeps executables and symlinks). */
function unixMode(entry: yauzl.Entry, directory: boolean): number | undefined {
  const madeOnUnix = entry.versionMadeBy >> 8 === 3;
  const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const type = mode & 0o170000;
  const expected = directory ? type === 0o040000 : type === 0o100000 || type === 0o120000;
  if (!madeOnUnix || mode === 0 || !expected) return undefined;
  return mode;
}

// S3 refuses more than 2 KB of user metadata (names and values; 400 MetadataTooLarge), a final failure.
// Git allows far longer branch names, and a delivery id is a header's value: each is kept short enough
// that the six values and their names stay under 1.95 KB whatever the push (ref 1,024, summary 300,
// supersedes 259, delivery id 200, sha 64, accepted-at 24, names 76), and under 2 KB with each name's
// x-amz-meta- prefix counted too (66 more).
const MAX_REF_METADATA = 1024;
const MAX_DELIVERY_ID_METADATA = 200;
const MAX_SUMMARY_METADATA = 300;

/**
 * "<provider> <repo> <branch or tag> <sha7>: delivery <id>", ASCII (percent-encoded as the ref is), each
 * part clipped so a long branch leaves the commit readable, and the whole at most 300 characters.
 */
function revisionSummary(event: QueuedEvent, sha: string): string {
  const part = (value: string | undefined, max: number) => clippedMetadata(asciiMetadata(value ?? ""), max);
  const what = event.branch || event.tag || event.ref;
  const text =
    `${part(event.provider, 20)} ${part(event.repo.fullName, 100)} ${part(what, 100)} ${sha.slice(0, 7)}: ` +
    `delivery ${part(event.deliveryId, 60)}`;
  return clippedMetadata(text, MAX_SUMMARY_METADATA);
}

/** A long value is cut, never inside a %XX escape; zipChain takes a value ending in "..." as unknown. */
function clippedMetadata(value: string, max = MAX_REF_METADATA): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max - 3).replace(/%[0-9A-Fa-f]?$/, "")}...`;
}

/** isOwnZip compares delivery ids: a long one becomes its hash, the same for every attempt. */
function boundedDeliveryId(value: string): string {
  if (value.length <= MAX_DELIVERY_ID_METADATA) return value;
  return `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

/** S3 user metadata travels in headers: keep it ASCII (percent-encode anything else). */
function asciiMetadata(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  // Through UTF-8 first: a lone surrogate becomes U+FFFD, which encodeURI takes (it throws on the former).
  return encodeURI(Buffer.from(value, "utf8").toString("utf8"));
}
