import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { expect } from "chai";
import { awsErrorName, describeAwsError, isTransientAwsError } from "../../src/aws/awsErrors";

// @smithy/core is the SDK's own dependency, not ours: resolved from the SDK client the code uses, so the test
// reads the copy that client runs with, however npm lays the packages out.
const fromSdk = createRequire(require.resolve("@aws-sdk/client-sqs"));
const smithyRetry = fromSdk.resolve("@smithy/core/retry");
const { isThrottlingError } = fromSdk(smithyRetry) as { isThrottlingError(error: unknown): boolean };

const sdk = (name: string, status?: number, fault?: "client" | "server") =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

/** An error shaped like a 4xx client fault, so that only `extra` can make it transient. */
const clientFault = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $fault: "client", $metadata: { httpStatusCode: 400 }, ...extra });

/** An error that did reach a service (it has a fault) but carries no HTTP status. */
const faultOnly = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, $fault: "client", $metadata: {}, ...extra });

describe("Function: isTransientAwsError", () => {
  const cases: Array<[string, unknown, boolean]> = [
    ["ThrottlingException (400)", sdk("ThrottlingException", 400, "client"), true],
    [
      "ProvisionedThroughputExceededException",
      sdk("ProvisionedThroughputExceededException", 400, "client"),
      true,
    ],
    ["RequestThrottled (SQS)", sdk("RequestThrottled", 403, "client"), true],
    ["a 500", sdk("InternalServiceError", 500, "server"), true],
    ["a 500 with no fault set", sdk("InternalFailure", 500), true],
    ["a 503 without a modelled name", sdk("ServiceUnavailable", 503), true],
    ["a 429", sdk("TooManyRequests", 429), true],
    ["a 400 with no fault set", sdk("ValidationError", 400), false],
    ["a server fault with no HTTP status", faultOnly("InternalError", { $fault: "server" }), true],
    [
      "ECONNREFUSED (no response at all)",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      true,
    ],
    ["a TimeoutError", Object.assign(new Error("timed out"), { name: "TimeoutError" }), true],
    ["an error that never reached the service (no status, no fault)", new Error("socket hang up"), true],
    [
      "a modelled 4xx marked $retryable",
      clientFault("IdempotentParameterMismatch", { $retryable: {} }),
      true,
    ],
    [
      "a client fault with a code that is no network code",
      faultOnly("Oops", { code: "ERR_INVALID_ARG" }),
      false,
    ],
    ["AccessDeniedException", sdk("AccessDeniedException", 400, "client"), false],
    ["ResourceNotFoundException", sdk("ResourceNotFoundException", 400, "client"), false],
    ["ValidationException", sdk("ValidationException", 400, "client"), false],
    ["a string", "boom", false],
    ["null", null, false],
  ];
  for (const [label, error, expected] of cases) {
    it(`isTransientAwsError(${label}) is ${expected}`, () => {
      expect(isTransientAwsError(error)).to.equal(expected);
    });
  }

  // Each rule on its own: the error otherwise looks like a 4xx mistake, which is not transient.
  const throttling = [
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
  ];
  for (const name of throttling) {
    it(`isTransientAwsError is true for the throttling error ${name}, even as a 400 client fault`, () => {
      expect(isTransientAwsError(clientFault(name))).to.equal(true);
    });
  }

  /**
   * The names the SDK's own retry classification takes for throttling (@smithy/core's THROTTLING_ERROR_CODES,
   * which it does not export): read from the installed SDK, so a name it adds fails here until it is ours too.
   */
  function sdkThrottlingNames(): string[] {
    const source = readFileSync(smithyRetry, "utf8");
    const list = /THROTTLING_ERROR_CODES = \[([^\]]*)\]/.exec(source)?.[1];
    if (list === undefined) throw new Error("THROTTLING_ERROR_CODES is no longer in @smithy/core/retry");
    return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
  }

  it("isTransientAwsError is true for every throttling name the SDK's own retry classification knows, even as a 400 client fault", () => {
    const names = sdkThrottlingNames();
    expect(names).to.include("ThrottlingException");
    for (const name of names) {
      // The list was read right: the SDK's own check takes each name for throttling.
      expect(isThrottlingError(clientFault(name)), `the SDK on ${name}`).to.equal(true);
      expect(isTransientAwsError(clientFault(name)), name).to.equal(true);
    }
  });

  const queryCompatible: Array<[string, string]> = [
    [
      "SQS's RequestThrottled under its query-compatible code (a 403)",
      "AWS.SimpleQueueService.RequestThrottled",
    ],
    ["SQS's KmsThrottled (the queue's KMS key throttled)", "KmsThrottled"],
    ["KMS's throttling under its query-compatible code", "KMS.ThrottlingException"],
  ];
  for (const [label, name] of queryCompatible) {
    it(`isTransientAwsError is true for ${label}: ${name}`, () => {
      expect(isTransientAwsError(clientFault(name, { $metadata: { httpStatusCode: 403 } }))).to.equal(true);
    });
  }

  it("isTransientAwsError is false for a query-compatible code that names a mistake (AWS.SimpleQueueService.NonExistentQueue)", () => {
    expect(isTransientAwsError(clientFault("AWS.SimpleQueueService.NonExistentQueue"))).to.equal(false);
  });

  for (const name of ["TimeoutError", "AbortError", "RequestTimeout"]) {
    it(`isTransientAwsError is true for ${name}, even when it carries a client fault`, () => {
      expect(isTransientAwsError(faultOnly(name))).to.equal(true);
    });
  }

  const network = [
    "ECONNREFUSED",
    "ECONNRESET",
    "EPIPE",
    "ETIMEDOUT",
    "ENOTFOUND",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ECONNABORTED",
  ];
  for (const code of network) {
    it(`isTransientAwsError is true for the network failure ${code}, as the error's code or as its name`, () => {
      expect(isTransientAwsError(faultOnly("Error", { code }))).to.equal(true);
      expect(isTransientAwsError(faultOnly(code))).to.equal(true);
    });
  }
});

describe("Function: awsErrorName", () => {
  const cases: Array<[string, unknown, string]> = [
    [
      "an SDK error",
      sdk("ConditionalCheckFailedException", 400, "client"),
      "ConditionalCheckFailedException",
    ],
    ["a plain object with a name", { name: "ResourceNotFoundException" }, "ResourceNotFoundException"],
    ["an object without a name", {}, ""],
    ["a string", "ConditionalCheckFailedException", ""],
    ["null", null, ""],
    ["undefined", undefined, ""],
  ];
  for (const [label, error, expected] of cases) {
    it(`awsErrorName(${label}) is ${JSON.stringify(expected)}`, () => {
      expect(awsErrorName(error)).to.equal(expected);
    });
  }
});

describe("Function: describeAwsError", () => {
  it("describeAwsError(error) is the error's name and message", () => {
    expect(describeAwsError(sdk("ThrottlingException"))).to.equal("ThrottlingException: ThrottlingException");
    expect(
      describeAwsError(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" })),
    ).to.equal("ThrottlingException: Rate exceeded");
  });

  it("describeAwsError(value) of a non-error is its text", () => {
    expect(describeAwsError("socket closed")).to.equal("socket closed");
    expect(describeAwsError(undefined)).to.equal("undefined");
  });

  it("describeAwsError cuts an error's description, or a non-error's text, to 300 characters", () => {
    expect(describeAwsError(new Error("x".repeat(1000)))).to.equal(`Error: ${"x".repeat(293)}`);
    expect(describeAwsError("y".repeat(1000))).to.equal("y".repeat(300));
  });
});
