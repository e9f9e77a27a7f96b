import { expect } from "chai";
import { storeError } from "../../src/actions/s3Errors";

/** An error shaped as the AWS SDK throws it. */
function s3Error(name: string, message = "", headers?: Record<string, string>) {
  return Object.assign(new Error(message), { name, ...(headers ? { $response: { headers } } : {}) });
}

describe("Function: storeError (S3 failures: final when no attempt can get past them)", () => {
  const finals: Array<[string, string]> = [
    ["NoSuchBucket", 'the bucket "previews" does not exist'],
    ["AccessDenied", "the function's role, the bucket's policy or its KMS key does not allow it"],
    ["AllAccessDisabled", "all access to the bucket is disabled"],
    ["InvalidBucketName", "the bucket's name is not valid"],
    ["InvalidAccessKeyId", "the function's credentials are not valid"],
    ["KMS.DisabledException", "the bucket's KMS key is disabled"],
    ["KMS.NotFoundException", "the bucket's KMS key does not exist"],
    [
      "PermanentRedirect",
      "the bucket is in another region than the function: use a bucket in the stack's region",
    ],
    [
      "AuthorizationHeaderMalformed",
      `the request was signed for another region than the bucket's: "S3 said so"`,
    ],
    ["KeyTooLongError", "the object key is longer than S3's 1,024 bytes"],
    [
      "MetadataTooLarge",
      "the object's metadata (sha, ref, delivery id, revision summary) is larger than S3's 2 KB",
    ],
    ["InvalidArgument", `S3 refused an argument of the request: "S3 said so"`],
    ["EntityTooLarge", "the zip is larger than S3 takes"],
    ["InvalidStorageClass", "the bucket or its policy asks for a storage class S3 does not know"],
  ];
  it("storeError names the request's kmsKeyId, not the bucket's key, in a KMS error, and the bucket's key without one", () => {
    const kmsKeyId = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(
      storeError(s3Error("KMS.NotFoundException", "Invalid arn"), "b", "upload", kmsKeyId).message,
    ).to.equal(
      `S3 refused the upload: KMS.NotFoundException: the route's kmsKeyId "${kmsKeyId}" names no KMS key S3 can ` +
        `use: it does not exist, or is of another region than the bucket's; S3 said: "Invalid arn"`,
    );
    expect(storeError(s3Error("KMS.DisabledException"), "b", "upload", kmsKeyId).message).to.equal(
      `S3 refused the upload: KMS.DisabledException: the KMS key of the route's kmsKeyId "${kmsKeyId}" is disabled`,
    );
    expect(storeError(s3Error("KMS.NotFoundException"), "b", "upload").message).to.contain(
      "the bucket's KMS key does not exist",
    );
  });

  it("storeError makes a key pending deletion (KMS.KMSInvalidStateException) final, naming the route's kmsKeyId and ending with S3's message", () => {
    const kmsKeyId = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const err = storeError(
      s3Error("KMS.KMSInvalidStateException", `${kmsKeyId} is pending deletion.`),
      "b",
      "upload",
      kmsKeyId,
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      `S3 refused the upload: KMS.KMSInvalidStateException: the KMS key of the route's kmsKeyId "${kmsKeyId}" is ` +
        `pending deletion or in another state that cannot encrypt; S3 said: "${kmsKeyId} is pending deletion."`,
    );
    expect(err.publicMessage).to.not.contain("S3 said");
  });

  it("storeError leaves KMS.KMSInvalidStateException retryable, with S3's words, for a state that passes (an external key store's proxy that did not answer in time)", () => {
    const said =
      "The external key store proxy did not respond to the request within the timeout. Retry the request.";
    const err = storeError(s3Error("KMS.KMSInvalidStateException", said), "b", "upload");
    expect(err.retryable).to.equal(true);
    expect(err.message).to.equal(
      `S3 upload failed: KMS.KMSInvalidStateException; S3 said: ${JSON.stringify(said)}`,
    );
    expect(
      storeError(s3Error("KMS.KMSInvalidStateException", "key is pending import"), "b").retryable,
    ).to.equal(false);
  });

  it("storeError leaves KMS.KeyUnavailableException retryable: KMS says the request can be retried", () => {
    expect(storeError(s3Error("KMS.KeyUnavailableException"), "b", "upload").retryable).to.equal(true);
  });

  /** The finals whose reason ends with S3's own message (it tells their several suspects apart). */
  const withS3Message = [
    "AccessDenied",
    "AllAccessDisabled",
    "KMS.DisabledException",
    "KMS.KMSInvalidStateException",
    "KMS.NotFoundException",
  ];
  for (const [name, reason] of finals) {
    it(`storeError makes ${name} final, with its reason`, () => {
      const err = storeError(s3Error(name, "S3 said so"), "previews", "prefix deletion");
      expect(err.retryable).to.equal(false);
      const said = withS3Message.includes(name) ? '; S3 said: "S3 said so"' : "";
      expect(err.message).to.equal(`S3 refused the prefix deletion: ${name}: ${reason}${said}`);
      expect(err.publicMessage).to.equal(`S3 refused the prefix deletion: ${name}: ${reason}`);
    });
  }

  it("storeError keeps S3's access denied message, which names the policy that denied the upload, and leaves it out of the public message", () => {
    const s3Said =
      "User: arn:aws:sts::123456789012:assumed-role/hookgate-dev-source-zip-abc/hookgate-dev-source-zip is not " +
      'authorized to perform: s3:PutObject on resource: "arn:aws:s3:::acme-artifacts/zips/acme/api/main/acme_api.zip" ' +
      "with an explicit deny in a resource-based policy";
    const err = storeError(s3Error("AccessDenied", s3Said), "acme-artifacts", "upload");
    expect(err.message).to.equal(
      "S3 refused the upload: AccessDenied: the function's role, the bucket's policy or its KMS key does not " +
        `allow it; S3 said: ${JSON.stringify(s3Said)}`,
    );
    expect(err.publicMessage).to.not.contain("123456789012");
    expect(err.publicMessage).to.not.contain("S3 said");
  });

  it("storeError keeps the start and the end of a long access denied message, where S3 says why", () => {
    const s3Said = `User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::b/${"k".repeat(900)}" because no identity-based policy allows the s3:PutObject action`;
    const message = storeError(s3Error("AccessDenied", s3Said)).message;
    expect(message).to.contain(
      'S3 said: "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized',
    );
    expect(message).to.match(/…k+\\" because no identity-based policy allows the s3:PutObject action"$/);
    expect(message.length).to.be.below(500);
  });

  it("storeError adds nothing of S3's when AccessDenied comes without a message", () => {
    expect(storeError(s3Error("AccessDenied"), "b").message).to.equal(
      "S3 refused the upload: AccessDenied: the function's role, the bucket's policy or its KMS key does not allow it",
    );
  });

  it("storeError names no bucket in NoSuchBucket's reason when it is not given, and says upload by default", () => {
    expect(storeError(s3Error("NoSuchBucket")).message).to.equal(
      "S3 refused the upload: NoSuchBucket: the bucket does not exist",
    );
  });

  const retryable: Array<[string, unknown, string]> = [
    ["SlowDown", s3Error("SlowDown"), "S3 upload failed: SlowDown"],
    ["InternalError", s3Error("InternalError"), "S3 upload failed: InternalError"],
    ["an error without a name", { message: "socket hang up" }, "S3 upload failed: Error"],
    ["a thrown string", "boom", "S3 upload failed: Error"],
    [
      "constructor (an inherited property, no S3 error)",
      s3Error("constructor"),
      "S3 upload failed: constructor",
    ],
  ];
  for (const [what, thrown, message] of retryable) {
    it(`storeError makes ${what} retryable`, () => {
      const err = storeError(thrown);
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal(message);
    });
  }

  const regions: Array<[string, Record<string, string> | undefined, string]> = [
    [
      "names the bucket's region from x-amz-bucket-region",
      { "x-amz-bucket-region": "eu-central-1" },
      " (eu-central-1)",
    ],
    ["leaves out a region header that is no region name", { "x-amz-bucket-region": "eu-1; x=<script>" }, ""],
    [
      "leaves out a region header with a prefix that is no region name",
      { "x-amz-bucket-region": "!eu-central-1" },
      "",
    ],
    [
      "leaves out a region header with a suffix that is no region name",
      { "x-amz-bucket-region": "eu-central-1 " },
      "",
    ],
    ["leaves out an empty region header", { "x-amz-bucket-region": "" }, ""],
    ["says no region without the header", {}, ""],
    ["says no region without a response", undefined, ""],
  ];
  for (const [what, headers, where] of regions) {
    it(`storeError for PermanentRedirect ${what}`, () => {
      const err = storeError(s3Error("PermanentRedirect", "", headers));
      expect(err.message).to.equal(
        `S3 refused the upload: PermanentRedirect: the bucket is in another region${where} than the function: use a bucket in the stack's region`,
      );
    });
  }

  it("storeError for PermanentRedirect says no region when the response has no headers", () => {
    const err = storeError(Object.assign(new Error(""), { name: "PermanentRedirect", $response: {} }));
    expect(err.message).to.contain("another region than the function");
  });

  it("storeError quotes at most 300 characters of S3's message, its start and its end", () => {
    expect(storeError(s3Error("InvalidArgument", "x".repeat(300))).message).to.equal(
      `S3 refused the upload: InvalidArgument: S3 refused an argument of the request: "${"x".repeat(300)}"`,
    );
    const err = storeError(s3Error("InvalidArgument", `${"a".repeat(200)}${"z".repeat(201)}`));
    expect(err.message).to.equal(
      `S3 refused the upload: InvalidArgument: S3 refused an argument of the request: "${"a".repeat(99)}…${"z".repeat(200)}"`,
    );
  });

  it('storeError quotes an empty message as "" when S3 gives none', () => {
    const err = storeError({ name: "InvalidArgument" });
    expect(err.message).to.equal(
      'S3 refused the upload: InvalidArgument: S3 refused an argument of the request: ""',
    );
  });
});
