// The dedupe store: one DynamoDB table per stack; each route owns the keys "<route>#<deliveryId>".
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface DedupeArgs {
  tableName: string;
}

/** The key and TTL attributes the route Lambdas use (see the Lambda environment contract). */
export const DEDUPE_KEY = "pk";
export const DEDUPE_TTL_ATTRIBUTE = "expiresAt";

export class Dedupe extends pulumi.ComponentResource {
  public readonly tableName: pulumi.Output<string>;
  public readonly tableArn: pulumi.Output<string>;

  constructor(name: string, args: DedupeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Dedupe", name, {}, opts);
    const table = new aws.dynamodb.Table(
      `${name}-table`,
      {
        name: args.tableName,
        billingMode: "PAY_PER_REQUEST",
        hashKey: DEDUPE_KEY,
        attributes: [{ name: DEDUPE_KEY, type: "S" }],
        ttl: { attributeName: DEDUPE_TTL_ATTRIBUTE, enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
      },
      { parent: this },
    );
    this.tableName = table.name;
    this.tableArn = table.arn;
    this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn });
  }
}
