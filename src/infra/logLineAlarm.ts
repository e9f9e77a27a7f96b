// An alarm on log lines: the stack's way to see what no AWS metric counts (a route's unusable webhook secret,
// API Gateway's own 413 and throttled answers).
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** The namespace of the metrics the stack's log metric filters publish. */
export const LOG_METRIC_NAMESPACE = "hookgate";

export interface LogLineAlarmArgs {
  /** The filter's, the metric's and the alarm's name. */
  name: string;
  logGroupName: pulumi.Input<string>;
  /** A CloudWatch Logs filter pattern: each matching line counts 1. */
  pattern: string;
  description: pulumi.Input<string>;
  alarmTopicArn: pulumi.Input<string>;
}

/** A log metric filter counting `pattern`'s lines, and an alarm on one of them in 5 minutes, to the topic. */
export function logLineAlarm(resourceName: string, args: LogLineAlarmArgs, parent: pulumi.Resource): void {
  new aws.cloudwatch.LogMetricFilter(
    resourceName,
    {
      name: args.name,
      logGroupName: args.logGroupName,
      pattern: args.pattern,
      metricTransformation: { namespace: LOG_METRIC_NAMESPACE, name: args.name, value: "1" },
    },
    { parent },
  );
  new aws.cloudwatch.MetricAlarm(
    resourceName,
    {
      name: args.name,
      alarmDescription: args.description,
      namespace: LOG_METRIC_NAMESPACE,
      metricName: args.name,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [args.alarmTopicArn],
      okActions: [args.alarmTopicArn],
    },
    { parent },
  );
}
