// Which Pulumi stack owns a resource. Physical names are built from the stack's name alone (naming.ts), so two
// stacks of one name in one account and region (another Pulumi backend, organization or project) name the same
// queues and alarm topic, and SQS's CreateQueue and SNS's CreateTopic hand the second stack the first one's. The
// tags say whose a resource is; the queues' policy and the topic's tags also make the second stack's create fail
// rather than adopt (see ownedQueuePolicy).
import * as pulumi from "@pulumi/pulumi";

/** The owning stack as `<organization>/<project>/<stack>` (`organization` on a DIY backend). */
export const OWNER_TAG = "hookgate:pulumi-stack";
/** A random value kept in the stack's state: it tells apart two stacks of one name on two DIY backends. */
export const INSTANCE_TAG = "hookgate:stack-instance";

/** `<organization>/<project>/<stack>`, Pulumi's fully qualified stack name. */
export function stackIdentity(): string {
  return `${organization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

function organization(): string {
  try {
    return pulumi.getOrganization();
  } catch {
    // A DIY backend's stacks are in "organization" (pulumi/pulumi#10820); the SDK throws only where no engine
    // said (mocks set up without one).
    return "organization";
  }
}

export type OwnerTags = pulumi.Output<Record<string, string>>;

export function ownerTags(identity: string, instance: pulumi.Input<string>): OwnerTags {
  return pulumi
    .output(instance)
    .apply((hex): Record<string, string> => ({ [OWNER_TAG]: identity, [INSTANCE_TAG]: hex }));
}

/**
 * The resource types of the stack whose arguments take `tags` (test/infra/ownerTags.test.ts checks the list against
 * the SDKs' typings and the program's resources). Adding tags to a deployed resource updates it in place.
 */
export const TAGGED_TYPES: ReadonlySet<string> = new Set([
  "aws:apigateway/restApi:RestApi",
  "aws:apigateway/stage:Stage",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:cloudwatch/metricAlarm:MetricAlarm",
  "aws:dynamodb/table:Table",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:iam/role:Role",
  "aws:lambda/eventSourceMapping:EventSourceMapping",
  "aws:lambda/function:Function",
  "aws:s3/bucket:Bucket",
  "aws:secretsmanager/secret:Secret",
  "aws:sns/topic:Topic",
  "aws:sqs/queue:Queue",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  // Not awsx:ec2:Vpc: a remote component, whose tags must stay a plain record (network.ts tags it itself).
]);

/** A transformation that adds `tags` to each resource of TAGGED_TYPES, keeping the tags it has (theirs win). */
export function withOwnerTags(tags: OwnerTags): pulumi.ResourceTransformation {
  return ({ type, props, opts }) => {
    if (!TAGGED_TYPES.has(type)) return undefined;
    const own = props.tags as pulumi.Input<Record<string, string>> | undefined;
    return {
      props: { ...props, tags: pulumi.all([tags, own]).apply(([owner, mine]) => ({ ...owner, ...mine })) },
      opts,
    };
  };
}

/**
 * A stack's queue policy: it denies requests not sent over TLS (every caller of hookgate's uses HTTPS), and its Id
 * names the owning stack. SQS's CreateQueue answers a request naming an existing queue with that queue when every
 * attribute it gives is the queue's, and fails (QueueNameExists) when one differs, and the AWS provider sends the
 * policy with CreateQueue: so a second stack of the same name fails there, before it takes the first one's queue
 * into its state. On a deployed queue, a new policy is an update in place (SetQueueAttributes).
 */
export function ownedQueuePolicy(queueArn: string, identity: string, instance: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: `hookgate/${identity}/${instance}`,
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });
}
