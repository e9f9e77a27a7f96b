// Classifying the S3 errors an action meets (s3-zip's upload, pr-cleanup's prefix deletion): final
// when no attempt can get past them, retryable otherwise. Kept apart from s3Zip.ts so the pr-cleanup
// bundle does not carry the zip code.
import { ActionError } from "../core/errors";

/**
 * S3 errors no attempt can get past, and what they mean. The SDK follows no region redirect (the
 * client leaves followRegionRedirects off, see s3Runtime.ts), so a bucket in another region is one.
 */
const FINAL_S3_ERRORS: Record<string, (err: S3ErrorShape, bucket?: string) => string> = {
  NoSuchBucket: (_err, bucket) =>
    bucket === undefined
      ? "the bucket does not exist"
      : `the bucket ${JSON.stringify(bucket)} does not exist`,
  AccessDenied: () => "the function's role, the bucket's policy or its KMS key does not allow it",
  AllAccessDisabled: () => "all access to the bucket is disabled",
  InvalidBucketName: () => "the bucket's name is not valid",
  InvalidAccessKeyId: () => "the function's credentials are not valid",
  "KMS.DisabledException": () => "the bucket's KMS key is disabled",
  "KMS.NotFoundException": () => "the bucket's KMS key does not exist",
  PermanentRedirect: (err) => {
    const region = err.$response?.headers?.["x-amz-bucket-region"];
    const where = region && /^[a-z0-9-]{1,32}$/.test(region) ? ` (${region})` : "";
    return `the bucket is in another region${where} than the function: use a bucket in the stack's region`;
  },
  AuthorizationHeaderMalformed: (err) =>
    `the request was signed for another region than the bucket's: ${s3Message(err)}`,
  KeyTooLongError: () => "the object key is longer than S3's 1,024 bytes",
  MetadataTooLarge: () => "the object's metadata (sha, ref, delivery id) is larger than S3's 2 KB",
  InvalidArgument: (err) => `S3 refused an argument of the request: ${s3Message(err)}`,
  EntityTooLarge: () => "the zip is larger than S3 takes",
  InvalidStorageClass: () => "the bucket or its policy asks for a storage class S3 does not know",
};

interface S3ErrorShape {
  name?: string;
  message?: string;
  $response?: { headers?: Record<string, string | undefined> };
}

/** S3's own message, which names no secret, clipped for a log line. */
function s3Message(err: S3ErrorShape): string {
  return JSON.stringify(String(err.message ?? "").slice(0, 200));
}

/**
 * An S3 failure that survived the SDK's own retries: retryable unless no attempt can succeed.
 * `operation` names what failed: "upload" (s3-zip) or "prefix deletion" (pr-cleanup).
 */
export function storeError(err: unknown, bucket?: string, operation = "upload"): ActionError {
  const shape = (typeof err === "object" && err !== null ? err : {}) as S3ErrorShape;
  const name = shape.name ?? "Error";
  const reason = Object.hasOwn(FINAL_S3_ERRORS, name) ? FINAL_S3_ERRORS[name] : undefined;
  if (reason) {
    return new ActionError(`S3 refused the ${operation}: ${name}: ${reason(shape, bucket)}`, {
      retryable: false,
      cause: err,
    });
  }
  return new ActionError(`S3 ${operation} failed: ${name}`, { retryable: true, cause: err });
}
