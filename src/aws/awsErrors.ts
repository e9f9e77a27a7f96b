// Classifying AWS SDK v3 errors: which ones a retry (by the Git host or by SQS) can fix.

const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "SlowDown",
  "KMSThrottlingException",
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
  $metadata?: { httpStatusCode?: number };
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
  if (THROTTLING.has(name)) return true;
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

/** A short, log-safe description: "ThrottlingException: Rate exceeded". */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}
