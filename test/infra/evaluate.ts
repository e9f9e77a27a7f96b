// Evaluates the program under fresh mocks and waits for every output and registration.
import * as pulumi from "@pulumi/pulumi";
import type { Route } from "../../src/core/types";
import type { CodeProvider } from "../../src/infra/bundle";
import type { StackConfig } from "../../src/infra/config";
import { buildStack } from "../../src/infra/program";
import type { WebhookSetup } from "../../src/infra/webhookSetup";
import {
  type InvokeResult,
  MockCloud,
  outputValue,
  REGION,
  settle,
  subnetsOf,
  withoutStackTraces,
} from "./mocks";

export interface Evaluated {
  cloud: MockCloud;
  webhookUrls: Record<string, string>;
  webhookSetup: Record<string, WebhookSetup>;
  deadLetterQueueUrls: Record<string, string>;
  dashboardUrl: string;
}

export async function evaluate(args: {
  config: StackConfig;
  routes: Route[];
  stack?: string;
  /** The stack's Pulumi organization; none (as under mocks set up without one) when absent. */
  organization?: string;
  /** The hex of the stack's RandomId (its state's own value); the mocks' when absent. */
  randomIdHex?: string;
  code?: CodeProvider;
  githubToken?: string;
  githubApiUrl?: string;
  /** The stack's region; the mocks' REGION when absent. */
  region?: string;
  /** Invoke answers other than the mocks' own, by token. */
  invokes?: Record<string, InvokeResult>;
}): Promise<Evaluated> {
  const { invokes, organization, randomIdHex, ...program } = args;
  // The stack's subnets are in its network.vpcId, unless the test says otherwise.
  const net = args.config.network;
  const cloud = new MockCloud(
    {
      ...(net.mode === "existing" ? { "aws:ec2/getSubnet:getSubnet": subnetsOf(net.vpcId) } : {}),
      ...invokes,
    },
    randomIdHex,
  );
  const stack = args.stack ?? "test";
  await cloud.install(stack, organization);
  return withoutStackTraces(async () => {
    const out = await buildStack({ ...program, stack, region: args.region ?? REGION });
    const [webhookUrls, webhookSetup, deadLetterQueueUrls, dashboardUrl] = await Promise.all([
      outputValue(out.webhookUrls),
      outputValue(out.webhookSetup),
      outputValue(out.deadLetterQueueUrls),
      outputValue(out.dashboardUrl),
    ]);
    await settle(cloud);
    return { cloud, webhookUrls, webhookSetup, deadLetterQueueUrls, dashboardUrl };
  });
}

/** Runs `run` with pulumi.log.warn collecting its messages (and printing nothing); returns them with its result. */
export async function collectingWarnings<T>(
  run: () => Promise<T>,
): Promise<{ result: T; warnings: string[] }> {
  const warn = pulumi.log.warn;
  const warnings: string[] = [];
  pulumi.log.warn = (message: string) => {
    warnings.push(message);
    return Promise.resolve();
  };
  try {
    return { result: await run(), warnings };
  } finally {
    pulumi.log.warn = warn;
  }
}
