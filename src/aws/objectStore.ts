// ObjectStore on S3: streamed multipart uploads with a fixed pool of part buffers, and prefix
// deletion.
//
// put: the body is cut into 8 MiB parts copied into (queueSize + 1) reusable buffers, with at most
// queueSize parts in flight. Memory is therefore bounded by (queueSize + 1) x partSize (24 MiB by
// default) whatever the object's size, with no per-part concatenation or garbage. (This replaced
// @aws-sdk/lib-storage's Upload, whose chunker concatenates and retains extra part-sized buffers:
// bench/s3zip-memory.bench.ts measured ~15 MB more peak RSS with it.) A body smaller than one part
// is sent as one PutObject. On any failure the multipart upload is aborted (AbortMultipartUpload):
// no half-written object and no billable parts stay behind. A transient 5xx on a part is retried
// by the SDK's own retry (the part is a Buffer, so it can be resent); a failure that survives it
// is thrown (s3-zip turns it into a retryable ActionError).
//
// Checksums follow the client's requestChecksumCalculation, as lib-storage does: with
// WHEN_SUPPORTED (the SDK default) the upload is created with CRC32 and each part's CRC32 is
// passed to CompleteMultipartUpload.
//
// deletePrefix deletes the CURRENT objects under a prefix (ListObjectsV2 + DeleteObjects, 1,000 per
// batch). In a versioned bucket that leaves delete markers and keeps the noncurrent versions, which
// is the point of versioning; expire them with a lifecycle rule (NoncurrentVersionExpiration).
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { ObjectStore } from "../core/ports";

export interface S3ObjectStoreOptions {
  /** Multipart part size in bytes (default 8 MiB; S3's minimum is 5 MiB). */
  partSize?: number;
  /** Parts uploaded concurrently (default 2). */
  queueSize?: number;
  /** Keys listed per page and deleted per batch (default 1,000, S3's maximum). */
  pageSize?: number;
}

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

export class S3ObjectStore implements ObjectStore {
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number;

  constructor(
    private readonly s3: S3Client,
    options: S3ObjectStoreOptions = {},
  ) {
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? 2);
    this.pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
  }

  async put(
    bucket: string,
    key: string,
    body: Readable,
    options: { metadata: Record<string, string>; contentType?: string },
  ): Promise<{ versionId?: string }> {
    const upload = new PooledUpload(
      this.s3,
      { Bucket: bucket, Key: key },
      options,
      this.partSize,
      this.queueSize,
    );
    try {
      return await upload.run(body);
    } catch (err) {
      // Stop producing the body: nobody reads it any more.
      body.destroy();
      throw err;
    }
  }

  async deletePrefix(bucket: string, prefix: string): Promise<number> {
    if (prefix === "" || prefix === "/") {
      throw new Error("refusing to delete an empty prefix (that would be the whole bucket)");
    }
    let deleted = 0;
    let token: string | undefined;
    do {
      // List one page, delete it, then continue after its last key.
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: token,
          MaxKeys: this.pageSize,
        }),
      );
      const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => !!k);
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        const out = await this.s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const errors = out.Errors ?? [];
        if (errors.length > 0) {
          const first = errors[0];
          throw new Error(
            `S3 could not delete ${errors.length} object(s) under "${prefix}" (first: ${first?.Key}: ${first?.Code})`,
          );
        }
        deleted += batch.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }
}

/** One multipart upload fed from a stream through a fixed pool of part buffers. */
class PooledUpload {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private waiting: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly parts: CompletedPart[] = [];
  private uploadId?: string;
  private failure?: unknown;
  private withChecksum = false;

  constructor(
    private readonly s3: S3Client,
    private readonly target: { Bucket: string; Key: string },
    private readonly options: { metadata: Record<string, string>; contentType?: string },
    private readonly partSize: number,
    private readonly queueSize: number,
  ) {}

  async run(body: Readable): Promise<{ versionId?: string }> {
    let current = await this.takeBuffer();
    let filled = 0;
    let partNumber = 0;
    try {
      for await (const raw of body) {
        const chunk = typeof raw === "string" ? Buffer.from(raw) : (raw as Buffer);
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(this.partSize - filled, chunk.length - offset);
          chunk.copy(current, filled, offset, offset + n);
          filled += n;
          offset += n;
          if (filled === this.partSize) {
            partNumber++;
            if (partNumber > MAX_PARTS) throw new Error(`the object needs more than ${MAX_PARTS} parts`);
            await this.startPart(current, filled, partNumber);
            current = await this.takeBuffer();
            filled = 0;
          }
        }
        if (this.failure) throw this.failure;
      }
      if (!this.uploadId) {
        // Smaller than one part: a single PutObject.
        const out = await this.s3.send(
          new PutObjectCommand({
            ...this.target,
            Body: current.subarray(0, filled),
            ContentLength: filled,
            Metadata: this.options.metadata,
            ContentType: this.options.contentType,
          }),
        );
        return { versionId: out.VersionId };
      }
      if (filled > 0) await this.startPart(current, filled, ++partNumber);
      await this.settle();
      if (this.failure) throw this.failure;
      const parts = [...this.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      const out = await this.s3.send(
        new CompleteMultipartUploadCommand({
          ...this.target,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      this.uploadId = undefined;
      return { versionId: out.VersionId };
    } catch (err) {
      await this.settle();
      await this.abort();
      throw this.failure ?? err;
    }
  }

  private async startPart(buffer: Buffer, length: number, partNumber: number): Promise<void> {
    if (!this.uploadId) {
      const mode = await this.s3.config.requestChecksumCalculation();
      this.withChecksum = mode === "WHEN_SUPPORTED";
      const created = await this.s3.send(
        new CreateMultipartUploadCommand({
          ...this.target,
          Metadata: this.options.metadata,
          ContentType: this.options.contentType,
          ...(this.withChecksum ? { ChecksumAlgorithm: "CRC32" as const } : {}),
        }),
      );
      if (!created.UploadId) throw new Error("S3 answered CreateMultipartUpload without an UploadId");
      this.uploadId = created.UploadId;
    }
    const uploadId = this.uploadId;
    const task = (async () => {
      try {
        const out = await this.s3.send(
          new UploadPartCommand({
            ...this.target,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: buffer.subarray(0, length),
            ContentLength: length,
          }),
        );
        if (!out.ETag) throw new Error(`S3 answered part ${partNumber} without an ETag`);
        this.parts.push({
          PartNumber: partNumber,
          ETag: out.ETag,
          ...(this.withChecksum && out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
        });
      } catch (err) {
        this.failure ??= err;
      } finally {
        this.releaseBuffer(buffer);
      }
    })();
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  /** A part buffer: reused when free, allocated up to queueSize + 1, else wait for a part to finish. */
  private async takeBuffer(): Promise<Buffer> {
    for (;;) {
      const buffer = this.free.pop();
      if (buffer) return buffer;
      if (this.allocated < this.queueSize + 1) {
        this.allocated++;
        return Buffer.allocUnsafe(this.partSize);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private releaseBuffer(buffer: Buffer): void {
    this.free.push(buffer);
    const wake = this.waiting;
    this.waiting = [];
    for (const resolve of wake) resolve();
  }

  private async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async abort(): Promise<void> {
    if (!this.uploadId) return;
    const uploadId = this.uploadId;
    this.uploadId = undefined;
    await this.s3
      .send(new AbortMultipartUploadCommand({ ...this.target, UploadId: uploadId }))
      .catch(() => undefined);
  }
}
