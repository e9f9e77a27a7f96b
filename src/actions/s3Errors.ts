// Classifying the S3 errors an action meets (s3-zip's upload, pr-cleanup's prefix deletion): final
// when no attempt can get past them, retryable otherwise. Kept apart from s3Zip.ts so the pr-cleanup
// bundle does not carry the zip code.
import { ActionError } from "../core/errors";

/**
 * S3 errors no attempt can get past, and what they mean. The SDK follows no region redirect (the
 * client leaves followRegionRedirects off, see s3Runtime.ts), so a bucket in another region is one.
 */
const FINAL_S3_ERRORS: Record<
  string,
  (err: S3ErrorShape, bucket?: string, kmsKeyId?: string) => string | undefined
> = {
  NoSuchBucket: (_err, bucket) =>
    bucket === undefined
      ? "the bucket does not exist"
      : `the bucket ${JSON.stringify(bucket)} does not exist`,
  AccessDenied: () => "the function's role, the bucket's policy or its KMS key does not allow it",
  AllAccessDisabled: () => "all access to the bucket is disabled",
  InvalidBucketName: () => "the bucket's name is not valid",
  InvalidAccessKeyId: () => "the function's credentials are not valid",
  // With the route's kmsKeyId, S3 used that key, not the bucket's.
  "KMS.DisabledException": (_err, _bucket, kmsKeyId) =>
    kmsKeyId === undefined
      ? "the bucket's KMS key is disabled"
      : `the KMS key of the route's kmsKeyId ${JSON.stringify(kmsKeyId)} is disabled`,
  // A key pending deletion or pending import (LASTING_KEY_STATE): a state only the key's owner changes, so each
  // attempt would download and zip again to be refused the same way. Any other state S3 names passes: not final
  // (undefined). Not KMS.KeyUnavailableException, which KMS says may be retried.
  "KMS.KMSInvalidStateException": (err, _bucket, kmsKeyId) =>
    !LASTING_KEY_STATE.test(err.message ?? "")
      ? undefined
      : kmsKeyId === undefined
        ? "the bucket's KMS key is pending deletion or in another state that cannot encrypt"
        : `the KMS key of the route's kmsKeyId ${JSON.stringify(kmsKeyId)} is pending deletion or in another ` +
          "state that cannot encrypt",
  "KMS.NotFoundException": (_err, _bucket, kmsKeyId) =>
    kmsKeyId === undefined
      ? "the bucket's KMS key does not exist"
      : `the route's kmsKeyId ${JSON.stringify(kmsKeyId)} names no KMS key S3 can use: it does not exist, or is ` +
        "of another region than the bucket's",
  PermanentRedirect: (err) => {
    const region = err.$response?.headers?.["x-amz-bucket-region"];
    const where = region && /^[a-z0-9-]{1,32}$/.test(region) ? ` (${region})` : "";
    return `the bucket is in another region${where} than the function: use a bucket in the stack's region`;
  },
  AuthorizationHeaderMalformed: (err) =>
    `the request was signed for another region than the bucket's: ${s3Message(err)}`,
  KeyTooLongError: () => "the object key is longer than S3's 1,024 bytes",
  MetadataTooLarge: () =>
    "the object's metadata (sha, ref, delivery id, revision summary) is larger than S3's 2 KB",
  InvalidArgument: (err) => `S3 refused an argument of the request: ${s3Message(err)}`,
  EntityTooLarge: () => "the zip is larger than S3 takes",
  InvalidStorageClass: () => "the bucket or its policy asks for a storage class S3 does not know",
};

interface S3ErrorShape {
  name?: string;
  message?: string;
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * The KMS key states KMSInvalidStateException reports that only the key's owner ends: pending deletion or
 * import. The same exception also reports passing ones (an external key store's proxy that did not answer in
 * time, a multi-Region key being updated: AWS KMS "Troubleshooting external key stores", "Key states"), which
 * a later attempt may get past.
 */
const LASTING_KEY_STATE = /pending (deletion|import)/i;

/** The most of S3's message a reason keeps. */
const S3_MESSAGE_MAX = 300;

/** S3's own message, which names no secret, clipped for a log line. */
function s3Message(err: S3ErrorShape): string {
  const message = String(err.message ?? "");
  // An access denied message ends with the policy that denied and why: a longer one keeps its start and end.
  return JSON.stringify(
    message.length <= S3_MESSAGE_MAX ? message : `${message.slice(0, 99)}…${message.slice(-200)}`,
  );
}

/**
 * The errors whose fixed reason has several suspects S3's message tells apart (AccessDenied names the policy type
 * that denied and why, for a request of the bucket's own account or organization, AWS "Troubleshoot access denied
 * (403 Forbidden) errors in Amazon S3"): the reason ends with S3's words. They name ARNs and the account id, as the
 * log and the DLQ may; the public message (a commit status) leaves them out.
 */
const WITH_S3_MESSAGE = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "KMS.DisabledException",
  "KMS.KMSInvalidStateException",
  "KMS.NotFoundException",
]);

/**
 * An S3 failure that survived the SDK's own retries: retryable unless no attempt can succeed.
 * `operation` names what failed: "upload" (s3-zip) or "prefix deletion" (pr-cleanup); `kmsKeyId`, the
 * key the request asked S3 to encrypt with (s3-zip's kmsKeyId), is the key a KMS error is about.
 */
export function storeError(
  err: unknown,
  bucket?: string,
  operation = "upload",
  kmsKeyId?: string,
): ActionError {
  const shape = (typeof err === "object" && err !== null ? err : {}) as S3ErrorShape;
  const name = shape.name ?? "Error";
  const reason = Object.hasOwn(FINAL_S3_ERRORS, name)
    ? FINAL_S3_ERRORS[name]?.(shape, bucket, kmsKeyId)
    : undefined;
  if (reason !== undefined) {
    const text = `S3 refused the ${operation}: ${name}: ${reason}`;
    const said = WITH_S3_MESSAGE.has(name) && shape.message ? `; S3 said: ${s3Message(shape)}` : "";
    return new ActionError(`${text}${said}`, { retryable: false, cause: err, publicMessage: text });
  }
  // One of those whose words tell its causes apart, here a passing one (KMSInvalidStateException's external key
  // store proxy, a multi-Region key being updated): S3's words say which.
  const said = WITH_S3_MESSAGE.has(name) ? `; S3 said: ${s3Message(shape)}` : "";
  return new ActionError(`S3 ${operation} failed: ${name}${said}`, { retryable: true, cause: err });
}

/**
 * A failed read of the metadata of the object already at bucket/key (s3-zip's HeadObject), which never
 * counts as "no object": that would let an older delivery replace a newer zip. A HEAD answer has no
 * body, so S3's refusals come as bare statuses: 403 is final (the role, the bucket's policy or its KMS
 * key does not let the function read the object; the stack grants s3:GetObject on the key and
 * s3:ListBucket on the bucket), as are a 301 (another region) and a 400; a named error (from the
 * listing that settles a 403) is classified as storeError does; anything else (5xx, the network) is
 * retryable.
 */
export function readError(err: unknown, bucket: string, key: string): ActionError {
  if (err instanceof ActionError) return err;
  const shape = (typeof err === "object" && err !== null ? err : {}) as S3ErrorShape & {
    $metadata?: { httpStatusCode?: number };
  };
  const status = shape.$metadata?.httpStatusCode;
  const what = `the metadata of the object ${JSON.stringify(key.slice(0, 200))} in s3://${bucket}`;
  const final = (reason: string) =>
    new ActionError(`S3 refused to read ${what} (${status}): ${reason}`, { retryable: false, cause: err });
  if (status === 403 || shape.name === "AccessDenied") {
    return final(
      "the function's role needs s3:GetObject on the key and s3:ListBucket on the bucket (s3-zip reads the " +
        "zip already there so that an older delivery does not replace a newer one), and the bucket's policy " +
        "and KMS key must allow them",
    );
  }
  if (status === 301) return final(FINAL_S3_ERRORS.PermanentRedirect?.(shape, bucket) ?? "");
  if (status === 400) return final("S3 refused the request as malformed (the bucket's region, the key)");
  return storeError(err, bucket, `read of ${what}`);
}
