import { expect } from "chai";
import type { RuntimeConfig } from "../../src/aws/lambdaRuntime";
import { s3ObjectStore } from "../../src/aws/s3Runtime";
import { ActionError } from "../../src/core/errors";

describe("Function: s3ObjectStore (the deployed functions' object store)", () => {
  it("passes the function's deadline on to a prefix deletion, which stops before calling S3", async () => {
    const store = s3ObjectStore({ region: "eu-west-1" } as RuntimeConfig);
    const err = await store.deletePrefix("acme-previews", "api/pr-7/", { deadlineMs: Date.now() - 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).message).to.contain("the next attempt deletes the rest");
  });
});
