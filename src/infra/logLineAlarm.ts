// An alarm on log lines: the stack's way to see what no AWS metric counts (a route's unusable webhook secret,
// API Gateway's own 413 and throttled answers).
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** The namespace of the metrics the stack's log metric filters publish. */
export const LOG_METRIC_NAMESPACE = "hookgate";

/**
 * How the alarm reads a period. "event" (the default): each line is news, and a period without one is OK (the
 * lines are one-off failures: a 413, a throttled request). "state": the lines report a fault that lasts until
 * someone fixes it (a missing secret), so a period without deliveries says nothing of it and the alarm keeps its
 * state: treatMissingData "ignore", and the filter reports 0 for a period in which the log group got lines but
 * none matching (its defaultValue, which CloudWatch Logs reports only for a period with log events ingested), so
 * it goes OK only after a period that had deliveries and too few failing.
 */
export type LogLineAlarmKind = "event" | "state";

export interface LogLineAlarmArgs {
  /** The filter's, the metric's and the alarm's name. */
  name: string;
  logGroupName: pulumi.Input<string>;
  /** A CloudWatch Logs filter pattern: each matching line counts 1. */
  pattern: string;
  description: pulumi.Input<string>;
  alarmTopicArn: pulumi.Input<string>;
  /** Lines in a period that set it off; 1 by default. */
  threshold?: number;
  /** The period in seconds; 300 by default. */
  periodSeconds?: number;
  kind?: LogLineAlarmKind;
  /** false: no OK notification (an alarm per event, whose OK would only say that the period ended). */
  notifyOk?: boolean;
}

/** A log metric filter counting `pattern`'s lines, and an alarm on `threshold` of them in a period, to the topic. */
export function logLineAlarm(resourceName: string, args: LogLineAlarmArgs, parent: pulumi.Resource): void {
  const state = args.kind === "state";
  new aws.cloudwatch.LogMetricFilter(
    resourceName,
    {
      name: args.name,
      logGroupName: args.logGroupName,
      pattern: args.pattern,
      metricTransformation: {
        namespace: LOG_METRIC_NAMESPACE,
        name: args.name,
        value: "1",
        ...(state ? { defaultValue: "0" } : {}),
      },
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
      period: args.periodSeconds ?? 300,
      evaluationPeriods: 1,
      threshold: args.threshold ?? 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: state ? "ignore" : "notBreaching",
      alarmActions: [args.alarmTopicArn],
      okActions: args.notifyOk === false ? [] : [args.alarmTopicArn],
    },
    { parent },
  );
}
