// Classifying AWS SDK v3 errors: which ones a retry (by the Git host or by SQS) can fix.

/**
 * Throttling, by name: every name the SDK's own retry classification takes for throttling (@smithy/core's
 * THROTTLING_ERROR_CODES, which it does not export: test/aws/awsErrors.test.ts reads the installed list and
 * fails on a name missing here), and the services' own names it does not know.
 */
const THROTTLING = new Set([
  // The SDK's.
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
  // KMS's, and SQS's for its queue's KMS key.
  "KMSThrottlingException",
  "KmsThrottled",
]);

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The error's name as the SDK reports it ("ResourceNotFoundException"), or "" for a non-error. */
export function awsErrorName(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  return String((error as SdkErrorShape).name ?? "");
}

/**
 * True for throttling, 5xx, timeouts and network failures: the service may answer next time.
 * A 4xx that names a mistake (access denied, not found, validation) is not transient.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as SdkErrorShape;
  const name = String(e.name ?? "");
  // SQS answers with its query-compatible codes too, and the SDK may name the error after one:
  // AWS.SimpleQueueService.RequestThrottled, KMS.ThrottlingException.
  if (THROTTLING.has(name) || THROTTLING.has(name.slice(name.lastIndexOf(".") + 1))) return true;
  if (e.$retryable) return true;
  if (e.$fault === "server") return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === "number" && (status >= 500 || status === 429)) return true;
  if (name === "TimeoutError" || name === "AbortError" || name === "RequestTimeout") return true;
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  if (NETWORK_CODES.has(name)) return true;
  // An error with no HTTP response at all never reached the service: a network problem.
  return status === undefined && e.$fault === undefined;
}

/**
 * Whether a failed call may have been applied all the same: only a 4xx the service answered to the call's one try
 * says it refused it. With no HTTP answer (cut at a deadline, timed out, a network error) or a 5xx the answer was
 * lost or says nothing of what was done, and a try the SDK retried may have landed before its answer was lost.
 */
export function mayHaveBeenApplied(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return true;
  const metadata = (error as SdkErrorShape).$metadata;
  const status = metadata?.httpStatusCode;
  if (typeof status !== "number" || status >= 500) return true;
  return (metadata?.attempts ?? 1) > 1;
}

/** A short, log-safe description: "ThrottlingException: Rate exceeded". */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}
