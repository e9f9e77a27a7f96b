// Observability: the alarm topic (with an optional e-mail subscription) and one dashboard per stack.

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  DASHBOARD_MAX_METRICS,
  DASHBOARD_MAX_ROUTES,
  dashboardLeftOff,
  LOG_GROUPS_PER_QUERY,
  METRICS_PER_ROUTE,
  ROUTES_PER_WIDGET,
} from "../core/dashboardSize";
import { consoleOrigin } from "../core/partitions";

export interface DashboardRoute {
  name: string;
  functionName: string;
  queueName: string;
  deadLetterQueueName: string;
  logGroupName: string;
}

export interface DashboardInput {
  region: string;
  apiName: string;
  stageName: string;
  routes: DashboardRoute[];
}

/** Logs Insights queries over the route functions' lines: one per delivery answered, one per attempt at work. */
// A late line (after a timeout's 503) is the same delivery again: counted once, as its timeout.
export const DECISIONS_QUERY =
  'filter msg = "delivery" and not ispresent(late) | stats count() by route, decision';
export const OUTCOMES_QUERY = 'filter msg = "attempt" | stats count() by route, outcome';

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type Metric = (string | Record<string, string>)[];

/** The height of the text widget on top of a dashboard that leaves routes off. */
const LEFT_OFF_HEIGHT = 3;

/**
 * The text widget on top of a dashboard that draws only the first `drawn` routes: how many of how many, why,
 * and where the others' metrics and lines are, with the first one left off's names as the example.
 */
function leftOffWidget(routes: readonly DashboardRoute[], drawn: number): unknown {
  const first = routes[drawn] as DashboardRoute;
  const last = routes[routes.length - 1] as DashboardRoute;
  const leftOff = routes.length - drawn;
  const names = leftOff === 1 ? `\`${first.name}\`` : `\`${first.name}\` to \`${last.name}\``;
  const markdown =
    `**This dashboard draws ${drawn} of the stack's ${routes.length} routes**: the first ${drawn} in routes.yaml, ` +
    `as CloudWatch takes at most ${DASHBOARD_MAX_METRICS} metrics in a dashboard (CloudWatch service quotas) ` +
    `and each route's graphs take up to ${METRICS_PER_ROUTE}.\n\n` +
    `The other ${leftOff === 1 ? "one" : leftOff} (${names}): their functions' metrics are in ` +
    "AWS/Lambda by FunctionName, their queues' and dead-letter queues' in AWS/SQS by QueueName, and their lines in " +
    `their functions' log groups (for \`${first.name}\`: function \`${first.functionName}\`, queues ` +
    `\`${first.queueName}\` and \`${first.deadLetterQueueName}\`, log group \`${first.logGroupName}\`).`;
  return { type: "text", x: 0, y: 0, width: 24, height: LEFT_OFF_HEIGHT, properties: { markdown } };
}

/**
 * The dashboard body (CloudWatch's JSON format), pure so it can be tested. It draws the first DASHBOARD_MAX_ROUTES
 * routes, within CloudWatch's quotas; past them, a text widget on top says where the others' metrics are.
 */
export function dashboardBody(input: DashboardInput): string {
  const widgets: unknown[] = [];
  let y = 0;
  const routes = input.routes.slice(0, DASHBOARD_MAX_ROUTES);
  if (dashboardLeftOff(input.routes.length) > 0) {
    widgets.push(leftOffWidget(input.routes, routes.length));
    y += LEFT_OFF_HEIGHT;
  }
  const graph = (title: string, metrics: Metric[], stat: string, x: number) => ({
    type: "metric",
    x,
    y,
    width: 8,
    height: 6,
    properties: {
      title,
      region: input.region,
      view: "timeSeries",
      stacked: false,
      stat,
      period: 300,
      metrics,
    },
  });
  for (const group of chunks(routes, ROUTES_PER_WIDGET)) {
    const names = group.map((r) => r.name).join(", ");
    widgets.push(
      graph(
        `Deliveries (API requests): ${names}`,
        // A search, not one fixed Method: the route's method is ANY (other verbs get 405), and the per-method
        // metrics name whichever Method API Gateway records.
        group.map((r, i) => [
          {
            expression: `SEARCH('{AWS/ApiGateway,ApiName,Method,Resource,Stage} MetricName="Count" ApiName="${input.apiName}" Stage="${input.stageName}" Resource="/hooks/${r.name}"', 'Sum', 300)`,
            label: `${r.name} \${PROP('Dim.Method')}`,
            id: `deliveries${i}`,
          },
        ]),
        "Sum",
        0,
      ),
      graph(
        `Function invocations and errors: ${names}`,
        group.flatMap((r) => [
          ["AWS/Lambda", "Invocations", "FunctionName", r.functionName, { label: `${r.name} invocations` }],
          ["AWS/Lambda", "Errors", "FunctionName", r.functionName, { label: `${r.name} errors` }],
        ]),
        "Sum",
        8,
      ),
      graph(
        `Function duration p95 (ms): ${names}`,
        group.map((r) => ["AWS/Lambda", "Duration", "FunctionName", r.functionName, { label: r.name }]),
        "p95",
        16,
      ),
    );
    y += 6;
    widgets.push(
      graph(
        `Queued (sent): ${names}`,
        group.map((r) => ["AWS/SQS", "NumberOfMessagesSent", "QueueName", r.queueName, { label: r.name }]),
        "Sum",
        0,
      ),
      graph(
        `Waiting: visible messages and oldest age (s): ${names}`,
        group.flatMap((r) => [
          [
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            r.queueName,
            { label: `${r.name} visible` },
          ],
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", r.queueName, { label: `${r.name} age` }],
        ]),
        "Maximum",
        8,
      ),
      graph(
        `Dead letters: ${names}`,
        group.map((r) => [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          r.deadLetterQueueName,
          { label: r.name },
        ]),
        "Maximum",
        16,
      ),
    );
    y += 6;
  }
  for (const group of chunks(routes, LOG_GROUPS_PER_QUERY)) {
    const sources = group.map((r) => `SOURCE '${r.logGroupName}'`).join(" | ");
    const names = group.map((r) => r.name).join(", ");
    // Apart: an attempt line has no decision, a delivery line no outcome.
    const tables: [string, string][] = [
      [`Decisions (deliveries answered): ${names}`, DECISIONS_QUERY],
      [`Outcomes (attempts at work): ${names}`, OUTCOMES_QUERY],
    ];
    tables.forEach(([title, query], i) => {
      widgets.push({
        type: "log",
        x: 12 * i,
        y,
        width: 12,
        height: 6,
        properties: { title, region: input.region, view: "table", query: `${sources} | ${query}` },
      });
    });
    y += 6;
  }
  return JSON.stringify({ widgets });
}

export function dashboardUrl(region: string, name: string): string {
  return `${consoleOrigin(region)}/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}

export interface ObservabilityArgs {
  region: string;
  topicName: string;
  alarmEmail?: string;
  /** alarmEmail was set with --secret: the subscription's endpoint stays a secret in the state. */
  alarmEmailSecret?: boolean;
  dashboardName: string;
  /** The dashboard is built from physical names, known before the routes' resources exist. */
  dashboard: DashboardInput;
}

export class Observability extends pulumi.ComponentResource {
  public readonly alarmTopicArn: pulumi.Output<string>;
  public readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("hookgate:infra:Observability", name, {}, opts);
    const topic = new aws.sns.Topic(
      `${name}-alarms`,
      // Not encrypted with aws/sns: CloudWatch alarms cannot publish to a topic under that key.
      { name: args.topicName },
      { parent: this },
    );
    if (args.alarmEmail) {
      new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        {
          topic: topic.arn,
          protocol: "email",
          endpoint: args.alarmEmailSecret ? pulumi.secret(args.alarmEmail) : args.alarmEmail,
        },
        { parent: this },
      );
    }
    const dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      { dashboardName: args.dashboardName, dashboardBody: dashboardBody(args.dashboard) },
      // PutDashboard overwrites a dashboard of the name: after the topic, whose CreateTopic fails for a second
      // stack of the same name (its tags differ, ownerTags.ts), so such a stack never takes the first one's.
      { parent: this, dependsOn: [topic] },
    );
    this.alarmTopicArn = topic.arn;
    this.dashboardUrl = dashboard.dashboardName.apply((n) => dashboardUrl(args.region, n));
    this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, dashboardUrl: this.dashboardUrl });
  }
}
