// ObjectStore on S3: streamed multipart uploads through @aws-sdk/lib-storage, and prefix deletion.
//
// put: lib-storage's Upload cuts the body into parts of PART_SIZE (5 MiB, S3's minimum) with at most
// QUEUE_SIZE (2) in flight, so memory is bounded by a few parts whatever the object's size
// (bench/s3zip-memory.bench.ts measures peak RSS while streaming a 200 MB zip). A body smaller than one
// part is sent as one PutObject. With leavePartsOnError false, any failure aborts the multipart upload:
// no half-written object and no billable parts stay behind. A transient 5xx on a part is retried by the
// SDK's own retry; a failure that survives it is thrown (s3-zip turns it into a retryable ActionError).
//
// A put may carry a condition (S3's conditional writes: If-Match with the ETag head gave, If-None-Match: *
// when there was no object), which S3 checks on PutObject or CompleteMultipartUpload, where the object
// appears: a put that finds the key changed throws ObjectChangedError and writes nothing. Conditional
// writes need no permission beyond s3:PutObject (and s3:GetObject for If-Match, which head needs anyway).
//
// deletePrefix deletes the CURRENT objects under a prefix (ListObjectsV2 + DeleteObjects, 1,000 per
// batch). In a versioned bucket that leaves delete markers and keeps the noncurrent versions, which
// is the point of versioning; expire them with a lifecycle rule (NoncurrentVersionExpiration). Objects
// DeleteObjects refuses fail it with an ActionError that names their codes and first keys.
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  type _Error as DeleteError,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { ActionError, ConditionalWriteUnsupportedError, ObjectChangedError } from "../core/errors";
import type { ObjectHead, ObjectStore, WriteCondition } from "../core/ports";
import { RefusalTally } from "../core/refusals";
import type { ServerSideEncryption } from "../core/types";

export interface S3ObjectStoreOptions {
  /** Keys listed per page and deleted per batch (default 1,000, S3's maximum). */
  pageSize?: number;
  /**
   * An S3-compatible endpoint (serve's --s3-endpoint): when it answers a conditional upload 501 (it does
   * not implement conditional writes), later puts go without their condition. Off for AWS, which
   * implements them: there a 501 is an error like any other, and the condition is never given up.
   */
  unconditionalFallback?: boolean;
}

/** Multipart part size in bytes: S3's minimum, which keeps memory lowest. */
const PART_SIZE = 5 * 1024 * 1024;
/** Parts uploaded concurrently. */
const QUEUE_SIZE = 2;
/** Ending a multipart upload at the deadline must fit in the work path's reserve. */
const ABORT_TIMEOUT_MS = 3_000;

export class S3ObjectStore implements ObjectStore {
  private readonly pageSize: number;
  /**
   * Whether puts carry their condition: false once the endpoint refused one as not implemented (501, an
   * S3-compatible store), and the puts after it go without.
   */
  conditionalWrites = true;
  readonly unconditionalFallback: boolean;

  constructor(
    private readonly s3: S3Client,
    options: S3ObjectStoreOptions = {},
  ) {
    this.unconditionalFallback = options.unconditionalFallback ?? false;
    this.pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
  }

  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: {
      metadata: Record<string, string>;
      contentType?: string;
      deadlineMs?: number;
      condition?: WriteCondition;
      encryption?: { serverSideEncryption: ServerSideEncryption; kmsKeyId?: string };
    },
  ): Promise<{ versionId?: string }> {
    const condition = this.conditionalWrites ? options.condition : undefined;
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        Metadata: options.metadata,
        ContentType: options.contentType,
        // lib-storage sends these on PutObject (one part) or CreateMultipartUpload; the parts need none.
        ...(options.encryption !== undefined
          ? {
              ServerSideEncryption: options.encryption.serverSideEncryption,
              ...(options.encryption.kmsKeyId !== undefined
                ? { SSEKMSKeyId: options.encryption.kmsKeyId }
                : {}),
            }
          : {}),
        // lib-storage spreads these params into PutObject (a body of one part) and into
        // CompleteMultipartUpload, the two calls S3 checks a condition on; CreateMultipartUpload and
        // UploadPart take no condition, and the SDK leaves the fields out of them.
        ...(condition?.ifMatch !== undefined ? { IfMatch: condition.ifMatch } : {}),
        ...(condition?.ifNoneMatch !== undefined ? { IfNoneMatch: condition.ifNoneMatch } : {}),
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    let outOfTime = false;
    const timer =
      options.deadlineMs === undefined
        ? undefined
        : setTimeout(
            () => {
              outOfTime = true;
              void upload.abort();
            },
            Math.max(0, options.deadlineMs - Date.now()),
          );
    try {
      const result = await upload.done();
      return { versionId: result.VersionId };
    } catch (err) {
      // Stop producing the body: nobody reads it any more.
      body.destroy();
      if (outOfTime) {
        // Upload.abort() cancels no request in flight, and would end the multipart upload only once its
        // parts return, after this function may be frozen: end it here, so no billable parts stay.
        if (upload.uploadId !== undefined) {
          await this.s3
            .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.uploadId }), {
              abortSignal: AbortSignal.timeout(ABORT_TIMEOUT_MS),
            })
            .catch(() => undefined);
        }
        throw new ActionError(`the upload to s3://${bucket} was stopped where the function's time ran out`, {
          retryable: true,
          cause: err,
        });
      }
      if (condition !== undefined) throw conditionError(err, bucket, key, condition, this) ?? err;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * HeadObject: the object's user metadata, or undefined on a 404. A HEAD answer has no body, so a
   * refusal is a bare 403, which S3 also gives for a key that does not exist when the caller may not list
   * the bucket (HeadObject's reference: without s3:ListBucket, "403 Forbidden" instead of 404). Whether
   * a ListBucket grant limited by an s3:prefix condition counts for that is not documented, so a 403 is
   * settled by listing the key itself (ListObjectsV2 with the key as prefix, which such a grant allows):
   * not listed is absent; listed, or the listing refused too, throws the HEAD's 403.
   */
  async head(
    bucket: string,
    key: string,
    options: { deadlineMs?: number } = {},
  ): Promise<ObjectHead | undefined> {
    const send = deadlineSender(options.deadlineMs, (cause) => {
      return new ActionError(
        `reading the metadata of the object ${JSON.stringify(key.slice(0, 200))} in s3://${bucket} was stopped where the function's time ran out`,
        { retryable: true, cause },
      );
    });
    try {
      const out = await send((abortSignal) =>
        this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal }),
      );
      return { metadata: { ...(out.Metadata ?? {}) }, ...(out.ETag ? { etag: out.ETag } : {}) };
    } catch (error) {
      const status = httpStatus(error);
      if (status === 404) return undefined;
      if (status !== 403) throw error;
      const page = await send((abortSignal) =>
        this.s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1, EncodingType: "url" }),
          { abortSignal },
        ),
      );
      const first = page.Contents?.[0]?.Key;
      const listed = first !== undefined && (page.EncodingType === "url" ? decodeKey(first) : first) === key;
      if (!listed) return undefined;
      throw error;
    }
  }

  async deletePrefix(bucket: string, prefix: string, options: { deadlineMs?: number } = {}): Promise<number> {
    if (prefix === "" || prefix === "/") {
      throw new Error("refusing to delete an empty prefix (that would be the whole bucket)");
    }
    let deleted = 0;
    let tried = 0;
    /** The objects S3 refused so far: one refused key must not keep the later pages from being deleted. */
    const refused = new Refusals();
    // Retryable whatever S3 refused so far: pages not yet listed may hold objects a retry deletes (a call cut at
    // the deadline says nothing of them), and the codes named here reach the dead letter if no retry gets
    // further. A final refusal fails the step only once the walk has seen every page.
    const outOfTime = (cause?: unknown) =>
      new ActionError(
        `deleted ${deleted} objects under s3://${bucket}/${prefix} when the function's time ran out` +
          `${refused.count > 0 ? ` (S3 refused ${refused.count}: ${refused.codeList()})` : ""}; the next attempt deletes the rest`,
        { retryable: true, cause },
      );
    // Each call is cut at the deadline too: one S3 call that hangs must not outlive the function.
    const send = deadlineSender(options.deadlineMs, outOfTime);
    let token: string | undefined;
    do {
      // List one page, delete it, then continue after its last key.
      const page = await send((abortSignal) =>
        this.s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            ContinuationToken: token,
            MaxKeys: this.pageSize,
            // Keys as S3 stored them: in plain XML a carriage return comes back as a line feed (XML's
            // end-of-line handling), and deleting that other key succeeds and removes nothing.
            EncodingType: "url",
          }),
          { abortSignal },
        ),
      );
      const encoded = page.EncodingType === "url"; // an S3-compatible store may answer plain keys
      const keys = (page.Contents ?? [])
        .map((o) => o.Key)
        .filter((k): k is string => !!k)
        .map((k) => (encoded ? decodeKey(k) : k));
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const out = await send((abortSignal) =>
          this.s3.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
            { abortSignal },
          ),
        );
        const errors = out.Errors ?? [];
        refused.addAll(errors);
        tried += batch.length;
        deleted += batch.length - errors.length;
      }
      // The token continues after this page's last key, refused or not: the next page is new keys.
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (refused.count > 0) throw refused.error(bucket, prefix, tried);
    return deleted;
  }
}

/**
 * Runs one S3 call cut at `deadlineMs` (epoch ms), when there is one: past it, or when the call is cut
 * there, `outOfTime` gives the error to throw.
 */
function deadlineSender(
  deadlineMs: number | undefined,
  outOfTime: (cause?: unknown) => Error,
): <T>(call: (signal?: AbortSignal) => Promise<T>) => Promise<T> {
  return async (call) => {
    if (deadlineMs === undefined) return call();
    const left = deadlineMs - Date.now();
    if (left <= 0) throw outOfTime();
    try {
      return await call(AbortSignal.timeout(left));
    } catch (error) {
      throw Date.now() >= deadlineMs ? outOfTime(error) : error;
    }
  };
}

/**
 * What a failed conditional put means (S3's conditional writes): 412 PreconditionFailed, the key holds
 * another object (or one appeared, for If-None-Match); 404 NoSuchKey for If-Match, the object read was
 * deleted; 409 ConditionalRequestConflict, another write to the key raced this one (S3: fetch the ETag
 * again and retry, a multipart upload from its start). Known by their codes too, whatever the status: a
 * CompleteMultipartUpload that fails after S3 sent its 200 says so in the body, and the SDK throws that
 * code with a 503 (after its own retries). All three: nothing was written, and the caller
 * reads the key again. A 501 (NotImplemented) from an S3-compatible endpoint (unconditionalFallback) is
 * one that does not implement the condition: the store stops sending conditions, and the caller may
 * upload again without one. Undefined for any other failure.
 */
function conditionError(
  error: unknown,
  bucket: string,
  key: string,
  condition: WriteCondition,
  store: { conditionalWrites: boolean; readonly unconditionalFallback: boolean },
): ActionError | undefined {
  const status = httpStatus(error);
  const name = (error as { name?: string } | undefined)?.name;
  const what = `s3://${bucket}/${key.slice(0, 200)}`;
  const read = condition.ifMatch !== undefined ? `the object read (ETag ${condition.ifMatch})` : "no object";
  // By code as well as by status: CompleteMultipartUpload can report its failure inside a 200 (S3 answers
  // 200 at once and writes the error when it finds it), which the SDK turns into a 503 of that code.
  if (
    status === 412 ||
    name === "PreconditionFailed" ||
    (name === "NoSuchKey" && condition.ifMatch !== undefined)
  ) {
    return new ObjectChangedError(
      `${what} no longer holds ${read}: another writer changed it`,
      "precondition-failed",
      {
        cause: error,
      },
    );
  }
  if (name === "ConditionalRequestConflict") {
    return new ObjectChangedError(
      `another write to ${what} raced this upload (409 ConditionalRequestConflict)`,
      "conflict",
      {
        cause: error,
      },
    );
  }
  if (status === 501 && store.unconditionalFallback) {
    store.conditionalWrites = false;
    return new ConditionalWriteUnsupportedError(
      `the S3 endpoint does not implement conditional writes (501 ${name ?? "NotImplemented"})`,
      { cause: error },
    );
  }
  return undefined;
}

/** The HTTP status of an S3 error (a HEAD's error has no code, only its status). */
function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** A key from a listing with EncodingType url: S3 writes a space as "+" (and a "+" as %2B). */
function decodeKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/** Per-object DeleteObjects errors that the same request meets again however often it is sent. */
const FINAL_DELETE_ERRORS = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "AccountProblem",
  "InvalidArgument",
  "MethodNotAllowed",
  "NoSuchBucket",
]);

/**
 * DeleteObjects answered, but refused some of the `tried` objects (every page's, the others deleted): their
 * count, codes and first keys (quoted and clipped: keys are rendered from event fields), kept without holding
 * every refused key. Final when every code is one no retry gets past (AccessDenied: the role's policy or the
 * bucket's); retryable otherwise (InternalError, SlowDown), and the next attempt lists what is left.
 */
class Refusals extends RefusalTally {
  addAll(errors: DeleteError[]): void {
    for (const error of errors) {
      this.add(error.Code ?? "unknown", error.Key ?? "", FINAL_DELETE_ERRORS.has(error.Code ?? ""));
    }
  }

  error(bucket: string, prefix: string, tried: number): ActionError {
    return new ActionError(
      `S3 refused to delete ${this.count} of ${tried} objects under s3://${bucket}/${prefix}: ${this.codeList()}; ` +
        `first ${this.keyList()}${this.final ? " (a retry cannot change that)" : ""}`,
      { retryable: !this.final },
    );
  }
}
