// The stack's artifact bucket for s3-zip routes that name none: versioned (CodePipeline's S3 source needs
// it), encrypted, private, TLS only, old versions expire, its events sent to EventBridge.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "./policies";

export interface ArtifactsArgs {
  bucketPrefix: string;
  noncurrentVersionDays: number;
  /** Let `pulumi destroy` delete a bucket that still holds objects. */
  forceDestroy: boolean;
}

// The bucket's settings go with it (deletedWith), never before it: `pulumi destroy` stops at BucketNotEmpty
// while the bucket holds zips, and deleting the settings first left those zips without the public access
// block, versioning (suspended), the lifecycle rule, the TLS-only policy and the EventBridge events.
export class Artifacts extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;

  constructor(name: string, args: ArtifactsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Artifacts", name, {}, opts);
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucketPrefix: args.bucketPrefix, forceDestroy: args.forceDestroy },
      { parent: this },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this, deletedWith: bucket },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this, deletedWith: bucket },
    );
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      { parent: this, deletedWith: bucket },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
      { parent: this, deletedWith: bucket },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { parent: this, deletedWith: bucket },
    );
    // A pipeline can start on its key's "Object Created" event without a CloudTrail trail (CodePipeline's
    // "S3 source actions that use EventBridge events"); S3 sends events to the default bus at no charge.
    new aws.s3.BucketNotification(
      `${name}-eventbridge`,
      { bucket: bucket.id, eventbridge: true },
      { parent: this, deletedWith: bucket },
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      { parent: this, dependsOn: [publicAccess], deletedWith: bucket },
    );
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}
