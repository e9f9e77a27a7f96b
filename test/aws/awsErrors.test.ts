import { expect } from "chai";
import { isTransientAwsError } from "../../src/aws/awsErrors";

const sdk = (name: string, status?: number, fault?: "client" | "server") =>
  Object.assign(new Error(name), { name, $fault: fault, $metadata: { httpStatusCode: status } });

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
    ["a 503 without a modelled name", sdk("ServiceUnavailable", 503), true],
    ["a 429", sdk("TooManyRequests", 429), true],
    [
      "ECONNREFUSED (no response at all)",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      true,
    ],
    ["a TimeoutError", Object.assign(new Error("timed out"), { name: "TimeoutError" }), true],
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
});
