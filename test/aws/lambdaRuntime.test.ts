import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { GetSecretValueCommand, ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { expect } from "chai";
import { runItem } from "../../src/actions/runItem";
import { runS3ZipItem } from "../../src/actions/s3Zip";
import {
  buildRouteHandler,
  CLIENT_TIMEOUTS,
  cloudWatchLogsUrl,
  jsonLog,
  lambdaHandler,
  RuntimeConfigError,
  readRuntimeConfig,
} from "../../src/aws/lambdaRuntime";
import { ActionError } from "../../src/core/errors";
import { MAX_ATTEMPTS, MAX_RECEIVE_COUNT, REDRIVE_MARGIN } from "../../src/core/policy";
import { WORK_RESERVE_MS } from "../../src/gateway/routeHandler";
import {
  githubDelivery,
  jenkinsRoute,
  parseAnswer,
  sqsEvent,
  sqsRecord,
  WEBHOOK_SECRET,
  workItem,
} from "../gateway/support";
import { stubSdkClients } from "../support/sdkStubs";
import { withSilentServer } from "../support/silentServer";

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build.fifo";
const DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build-dlq.fifo";

function env(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    HOOKGATE_ROUTE: JSON.stringify(jenkinsRoute()),
    HOOKGATE_QUEUE_URL: QUEUE,
    HOOKGATE_DLQ_URL: DLQ,
    HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
    HOOKGATE_MAX_ATTEMPTS: "5",
    AWS_REGION: "eu-west-1",
    AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/hookgate-api-build",
    AWS_LAMBDA_LOG_STREAM_NAME: "2026/01/01/[$LATEST]0123abcd",
    ...overrides,
  };
}

describe("Function: readRuntimeConfig", () => {
  it("readRuntimeConfig reads the route, the queues, the table and the attempts", () => {
    const config = readRuntimeConfig(env());
    expect(config.route.name).to.equal("api-build");
    expect(config).to.deep.include({
      queueUrl: QUEUE,
      dlqUrl: DLQ,
      dedupeTable: "hookgate-dedupe",
      maxAttempts: 5,
    });
    expect(config.region).to.equal("eu-west-1");
  });

  it("readRuntimeConfig gives the actions a link to this invocation's log stream (pr-cleanup's pending status links it)", () => {
    expect(readRuntimeConfig(env()).logsUrl).to.equal(
      cloudWatchLogsUrl("eu-west-1", "/aws/lambda/hookgate-api-build", "2026/01/01/[$LATEST]0123abcd"),
    );
    expect(readRuntimeConfig(env()).logsUrl).to.match(/^https:\/\/eu-west-1\.console\.aws\.amazon\.com\//);
  });

  it("readRuntimeConfig names every missing variable at once", () => {
    expect(() => readRuntimeConfig({})).to.throw(
      RuntimeConfigError,
      /HOOKGATE_ROUTE is not set; HOOKGATE_QUEUE_URL is not set; HOOKGATE_DLQ_URL is not set; HOOKGATE_DEDUPE_TABLE is not set/,
    );
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ["HOOKGATE_ROUTE that is not JSON", { HOOKGATE_ROUTE: "{name:" }, /HOOKGATE_ROUTE is not valid JSON/],
    ["HOOKGATE_ROUTE that is not a route", { HOOKGATE_ROUTE: '{"name":"x"}' }, /not a compiled route/],
    [
      "HOOKGATE_MAX_ATTEMPTS that is not a number",
      { HOOKGATE_MAX_ATTEMPTS: "five" },
      /HOOKGATE_MAX_ATTEMPTS must be/,
    ],
    ["HOOKGATE_MAX_ATTEMPTS of 0", { HOOKGATE_MAX_ATTEMPTS: "0" }, /HOOKGATE_MAX_ATTEMPTS must be/],
  ];
  for (const [label, overrides, message] of bad) {
    it(`readRuntimeConfig rejects a ${label}`, () => {
      expect(() => readRuntimeConfig(env(overrides))).to.throw(RuntimeConfigError, message);
    });
  }

  it("readRuntimeConfig reads the actions' egress proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), and none without them", () => {
    expect(readRuntimeConfig(env()).proxy).to.equal(undefined);
    const config = readRuntimeConfig(
      env({
        HTTPS_PROXY: "http://proxy.corp:3128",
        HTTP_PROXY: "http://proxy.corp:3128",
        NO_PROXY: "jenkins.corp",
      }),
    );
    expect(config.proxy).to.deep.equal({
      httpsProxy: "http://proxy.corp:3128/",
      httpProxy: "http://proxy.corp:3128/",
      noProxy: "jenkins.corp",
    });
  });

  it("readRuntimeConfig reads the function's memory from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, and none when it is absent or not a number", () => {
    expect(readRuntimeConfig(env({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512" })).memoryMb).to.equal(512);
    expect(readRuntimeConfig(env()).memoryMb).to.equal(undefined);
    expect(readRuntimeConfig(env({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "lots" })).memoryMb).to.equal(undefined);
  });

  it("readRuntimeConfig counts a variable of blanks as not set, and reports nothing else for an empty environment", () => {
    const error = (() => {
      try {
        readRuntimeConfig({ HOOKGATE_ROUTE: "  ", HOOKGATE_QUEUE_URL: " " });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).to.be.instanceOf(RuntimeConfigError);
    expect(error?.name).to.equal("RuntimeConfigError");
    expect(error?.message).to.equal(
      "hookgate: incomplete Lambda environment: HOOKGATE_ROUTE is not set; HOOKGATE_QUEUE_URL is not set; HOOKGATE_DLQ_URL is not set; HOOKGATE_DEDUPE_TABLE is not set",
    );
  });

  const notRoutes: Array<[string, unknown]> = [
    ["null", null],
    ["a route without a name", { ...jenkinsRoute(), name: undefined }],
    ["a route without an action type", { ...jenkinsRoute(), action: {} }],
    ["a route without auth", { ...jenkinsRoute(), auth: undefined }],
  ];
  for (const [label, route] of notRoutes) {
    it(`readRuntimeConfig says HOOKGATE_ROUTE is not a compiled route for ${label}`, () => {
      expect(() => readRuntimeConfig(env({ HOOKGATE_ROUTE: JSON.stringify(route) }))).to.throw(
        RuntimeConfigError,
        "hookgate: incomplete Lambda environment: HOOKGATE_ROUTE is not a compiled route (name, auth and action are required)",
      );
    });
  }

  const attempts: Array<[string, number | string]> = [
    ["1", 1],
    [String(MAX_ATTEMPTS), MAX_ATTEMPTS],
    [" 3 ", 3],
    ["   ", MAX_ATTEMPTS],
    [String(MAX_ATTEMPTS + 1), "refused"],
    ["100", "refused"],
    ["2.5", "refused"],
    ["-1", "refused"],
  ];
  for (const [raw, expected] of attempts) {
    it(`readRuntimeConfig reads HOOKGATE_MAX_ATTEMPTS=${JSON.stringify(raw)} as ${expected}`, () => {
      if (expected === "refused") {
        expect(() => readRuntimeConfig(env({ HOOKGATE_MAX_ATTEMPTS: raw }))).to.throw(
          RuntimeConfigError,
          `HOOKGATE_MAX_ATTEMPTS must be an integer from 1 to ${MAX_ATTEMPTS} (the route's queue moves a message to its DLQ after ${MAX_RECEIVE_COUNT} receives, ${REDRIVE_MARGIN} of them kept for receives that never reach the function), got "${raw.trim()}"`,
        );
      } else {
        expect(readRuntimeConfig(env({ HOOKGATE_MAX_ATTEMPTS: raw })).maxAttempts).to.equal(expected);
      }
    });
  }

  it("readRuntimeConfig refuses a HOOKGATE_MAX_ATTEMPTS that the route queue's maxReceiveCount cannot honour with its margin, naming the limit", () => {
    // The stack's queue moves a message after MAX_RECEIVE_COUNT receives: the function's own last attempt must
    // come REDRIVE_MARGIN receives before that (a throttled receive, a failed init).
    expect(MAX_RECEIVE_COUNT - REDRIVE_MARGIN).to.equal(MAX_ATTEMPTS);
    expect(() =>
      readRuntimeConfig(env({ HOOKGATE_MAX_ATTEMPTS: String(MAX_RECEIVE_COUNT - REDRIVE_MARGIN + 1) })),
    ).to.throw(
      RuntimeConfigError,
      `from 1 to ${MAX_ATTEMPTS} (the route's queue moves a message to its DLQ after ${MAX_RECEIVE_COUNT} receives`,
    );
  });

  it("readRuntimeConfig quotes at most 20 characters of a bad HOOKGATE_MAX_ATTEMPTS", () => {
    expect(() => readRuntimeConfig(env({ HOOKGATE_MAX_ATTEMPTS: `9${"x".repeat(50)}` }))).to.throw(
      RuntimeConfigError,
      `got "9${"x".repeat(19)}"`,
    );
  });

  it("readRuntimeConfig refuses a proxy variable that is no http(s) URL with the other problems, never echoing it", () => {
    const error = (() => {
      try {
        readRuntimeConfig(env({ HTTPS_PROXY: "ftp://user:pr0xy-pa55@proxy:21", HOOKGATE_QUEUE_URL: "" }));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).to.be.instanceOf(RuntimeConfigError);
    expect(error?.message).to.contain(
      "HOOKGATE_QUEUE_URL is not set; HTTPS_PROXY is not an http(s) proxy URL",
    );
    expect(error?.message).not.to.contain("pr0xy-pa55");
  });

  it("readRuntimeConfig never echoes the route JSON (it could be long) in its error", () => {
    const error = (() => {
      try {
        readRuntimeConfig(env({ HOOKGATE_ROUTE: '{"name": "x", "secretish": "do-not-print"' }));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.to.contain("do-not-print");
  });
});

describe("Function: cloudWatchLogsUrl", () => {
  it("cloudWatchLogsUrl links the console to the log stream, encoded the way the console expects", () => {
    expect(cloudWatchLogsUrl("eu-west-1", "/aws/lambda/fn", "2026/01/01/[$LATEST]ab")).to.equal(
      "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Ffn/log-events/2026$252F01$252F01$252F$255B$2524LATEST$255Dab",
    );
  });

  it("cloudWatchLogsUrl links China's and GovCloud's own consoles in their regions", () => {
    expect(cloudWatchLogsUrl("cn-north-1", "/aws/lambda/fn")).to.equal(
      "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Ffn",
    );
    expect(cloudWatchLogsUrl("us-gov-west-1", "/aws/lambda/fn")).to.equal(
      "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1#logsV2:log-groups/log-group/$252Faws$252Flambda$252Ffn",
    );
  });

  it("cloudWatchLogsUrl is undefined without a region or a log group", () => {
    expect(cloudWatchLogsUrl(undefined, "/aws/lambda/fn")).to.equal(undefined);
    expect(cloudWatchLogsUrl("eu-west-1", undefined)).to.equal(undefined);
  });
});

describe("Function: buildRouteHandler (the deployed wiring, SDK stubbed at the client boundary)", () => {
  // Created in before() and restored in after(): a class-level stub must not outlive this block.
  const stubs = stubSdkClients;
  let sqs: ReturnType<typeof stubs>["sqs"];
  let ddb: ReturnType<typeof stubs>["ddb"];
  let sm: ReturnType<typeof stubs>["sm"];
  before(() => {
    ({ sqs, ddb, sm } = stubs());
  });
  const stdout = process.stdout.write;
  let printed: string[] = [];

  beforeEach(() => {
    sqs.reset();
    ddb.reset();
    sm.reset();
    printed = [];
    process.stdout.write = ((chunk: string) => {
      printed.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
  });
  afterEach(() => {
    process.stdout.write = stdout;
  });
  after(() => {
    sqs.restore();
    ddb.restore();
    sm.restore();
  });

  it("a signed delivery is verified with Secrets Manager, claimed in DynamoDB, sent to the FIFO queue: 202", async () => {
    sm.on(GetSecretValueCommand, {
      SecretId: "hookgate/github-webhook",
      VersionStage: "AWSCURRENT",
    }).resolves({
      SecretString: WEBHOOK_SECRET,
    });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(
      new ResourceNotFoundException({ message: "no previous", $metadata: {} }),
    );
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "1" } } });
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-1" });
    const handler = buildRouteHandler(readRuntimeConfig(env()), async () => ({ status: "done", detail: "" }));
    const answer = parseAnswer(await handler.receive(githubDelivery({ deliveryId: "aws-1" })));
    process.stdout.write = stdout;
    expect(answer.statusCode).to.equal(202);
    const send = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(send).to.deep.include({
      QueueUrl: QUEUE,
      MessageGroupId: "acme/api",
      MessageDeduplicationId: "aws-1:1",
    });
    // claim, then mark queued
    expect(ddb.commandCalls(UpdateItemCommand)).to.have.length(2);
    const line = JSON.parse(printed.find((l) => l.includes('"msg":"delivery"')) ?? "{}");
    expect(line).to.deep.include({ level: "info", deliveryId: "aws-1", status: 202 });
    expect(line.time).to.be.a("string");
    expect(printed.join("")).not.to.contain(WEBHOOK_SECRET);
  });

  it("a retryable action failure backs off with ChangeMessageVisibility and is reported", async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    const handler = buildRouteHandler(readRuntimeConfig(env()), async () => {
      throw new ActionError("Jenkins answered 503", { retryable: true });
    });
    const result = await handler.work(
      sqsEvent([sqsRecord(JSON.stringify(workItem()), { id: "m-9", receiveCount: 2 })]),
    );
    process.stdout.write = stdout;
    expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: "m-9" }]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).to.deep.equal({
      QueueUrl: QUEUE,
      ReceiptHandle: "rh-m-9",
      VisibilityTimeout: 60,
    });
  });

  it("lambdaHandler gives the action the Lambda context's deadline, so no call outlives the function", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const saved = process.env;
    process.env = { ...saved, ...env() };
    try {
      const deadlines: Array<number | undefined> = [];
      const handler = lambdaHandler(async (_item, clients) => {
        deadlines.push(clients.deadlineMs);
        return { status: "done", detail: "" };
      });
      const before = Date.now();
      const result = await handler(sqsEvent([sqsRecord(JSON.stringify(workItem()))]), {
        getRemainingTimeInMillis: () => 120_000,
      } as Context);
      process.stdout.write = stdout;
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(deadlines).to.have.length(1);
      expect(deadlines[0]).to.be.within(
        before + 120_000 - WORK_RESERVE_MS,
        Date.now() + 120_000 - WORK_RESERVE_MS,
      );
    } finally {
      process.env = saved;
    }
  });

  it("lambdaHandler tells the action it is the last attempt on the receive HOOKGATE_MAX_ATTEMPTS names, and only then", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const saved = process.env;
    process.env = { ...saved, ...env({ HOOKGATE_MAX_ATTEMPTS: "3" }) };
    try {
      const seen: Array<[number, boolean | undefined]> = [];
      const handler = lambdaHandler(async (_item, clients) => {
        seen.push([seen.length + 1, clients.lastAttempt]);
        return { status: "done", detail: "" };
      });
      for (const receiveCount of [1, 2, 3]) {
        await handler(sqsEvent([sqsRecord(JSON.stringify(workItem()), { receiveCount })]), {
          getRemainingTimeInMillis: () => 120_000,
        } as Context);
      }
      process.stdout.write = stdout;
      expect(seen).to.deep.equal([
        [1, undefined],
        [2, undefined],
        [3, true],
      ]);
    } finally {
      process.env = saved;
    }
  });

  it("lambdaHandler gives the action the message's receive count past the first receive", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const saved = process.env;
    process.env = { ...saved, ...env() };
    try {
      const seen: Array<number | undefined> = [];
      const handler = lambdaHandler(async (_item, clients) => {
        seen.push(clients.attempt);
        return { status: "done", detail: "" };
      });
      for (const receiveCount of [1, 2, 3]) {
        await handler(sqsEvent([sqsRecord(JSON.stringify(workItem()), { receiveCount })]), {
          getRemainingTimeInMillis: () => 120_000,
        } as Context);
      }
      process.stdout.write = stdout;
      expect(seen).to.deep.equal([undefined, 2, 3]);
    } finally {
      process.env = saved;
    }
  });

  it("lambdaHandler tells the action on a redriven dead letter's first receive that an earlier attempt may have run it", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const saved = process.env;
    process.env = { ...saved, ...env() };
    try {
      const seen: Array<boolean | undefined> = [];
      const handler = lambdaHandler(async (_item, clients) => {
        seen.push(clients.mayHaveRun);
        return { status: "done", detail: "" };
      });
      const fresh = sqsRecord(JSON.stringify(workItem()));
      const redriven = sqsRecord(JSON.stringify(workItem()));
      redriven.messageAttributes = {
        "hookgate-reason": {
          dataType: "String",
          stringValue: "gave up after 5 receives: Jenkins answered 504",
        },
      } as typeof redriven.messageAttributes;
      for (const record of [fresh, redriven]) {
        await handler(sqsEvent([record]), { getRemainingTimeInMillis: () => 120_000 } as Context);
      }
      process.stdout.write = stdout;
      expect(seen).to.deep.equal([undefined, true]);
    } finally {
      process.env = saved;
    }
  });

  it("buildRouteHandler gives the action the function's egress proxy", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const seen: unknown[] = [];
    const config = readRuntimeConfig(
      env({ HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: "jenkins.corp" }),
    );
    const handler = buildRouteHandler(config, async (_item, clients) => {
      seen.push(clients.proxy);
      return { status: "done", detail: "" };
    });
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    process.stdout.write = stdout;
    expect(seen).to.deep.equal([
      { httpsProxy: "http://proxy.corp:3128/", httpProxy: "", noProxy: "jenkins.corp" },
    ]);
  });

  it('buildRouteHandler gives the action the stack\'s secretNamePrefix (HOOKGATE_SECRET_NAME_PREFIX), and "" without one', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const seen: unknown[] = [];
    for (const overrides of [{ HOOKGATE_SECRET_NAME_PREFIX: "dev/" }, {}]) {
      const handler = buildRouteHandler(readRuntimeConfig(env(overrides)), async (_item, clients) => {
        seen.push(clients.secretNamePrefix);
        return { status: "done", detail: "" };
      });
      await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    }
    process.stdout.write = stdout;
    expect(seen).to.deep.equal(["dev/", ""]);
  });

  it("buildRouteHandler without an object store gives the action one that fails, naming the route", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const errors: string[] = [];
    const handler = buildRouteHandler(readRuntimeConfig(env()), async (_item, clients) => {
      // Called as the actions would not: with no arguments, since the store fails before reading any.
      const store = clients.objects as unknown as Record<"put" | "deletePrefix", () => Promise<unknown>>;
      for (const call of [store.put, store.deletePrefix]) {
        errors.push(
          await call().then(
            () => "resolved",
            (e: Error) => e.message,
          ),
        );
      }
      return { status: "done", detail: "" };
    });
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    process.stdout.write = stdout;
    expect(errors).to.deep.equal([
      'route "api-build": this function was built without an object store',
      'route "api-build": this function was built without an object store',
    ]);
  });

  it("buildRouteHandler dead-letters, final and before any S3 call, the s3-zip of Acme/API for a function whose route says repos [acme/api]: its role may not write that key", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: "dlq-1" });
    const route = jenkinsRoute({
      action: {
        type: "s3-zip",
        api: { provider: "github", apiUrl: "https://api.github.com", token: "hookgate/github-token" },
        bucket: "artifacts",
        key: "{{repo.path}}/{{branch.path}}/{{repo.underscored}}.zip",
      },
    });
    const calls: string[] = [];
    const refuse = (name: string) => async (): Promise<never> => {
      calls.push(name);
      throw new Error(`${name} was called`);
    };
    const handler = buildRouteHandler(
      readRuntimeConfig(env({ HOOKGATE_ROUTE: JSON.stringify(route) })),
      // What handlers/s3-zip.ts runs.
      (item, clients) => runItem(runS3ZipItem, item, clients),
      { objects: () => ({ put: refuse("put"), head: refuse("head"), deletePrefix: refuse("deletePrefix") }) },
    );
    const item = workItem(
      {
        request: {
          type: "s3-zip",
          api: { provider: "github", apiUrl: "https://api.github.com", token: "hookgate/github-token" },
          bucket: "artifacts",
          key: "Acme/API/main/Acme_API.zip",
        },
      },
      "Acme/API",
    );
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(item))]));
    process.stdout.write = stdout;
    expect(calls).to.deep.equal([]);
    const dead = printed.map((line) => JSON.parse(line)).find((line) => line.outcome === "dead");
    expect(dead?.error).to.equal(
      'final: key "Acme/API/main/Acme_API.zip" is outside the prefixes the route\'s role may write ("acme/api/"): ' +
        'routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API]',
    );
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input.QueueUrl)).to.deep.equal([
      DLQ,
    ]);
  });

  it("buildRouteHandler gives the action the object store its options build", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const built = { put: async () => undefined, deletePrefix: async () => undefined } as never;
    const seen: unknown[] = [];
    const handler = buildRouteHandler(
      readRuntimeConfig(env()),
      async (_item, clients) => {
        seen.push(clients.objects);
        return { status: "done", detail: "" };
      },
      { objects: () => built },
    );
    await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    process.stdout.write = stdout;
    expect(seen).to.have.length(1);
    expect(seen[0]).to.equal(built);
  });

  it("lambdaHandler gives the action no deadline when the context cannot tell the time left", async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const saved = process.env;
    process.env = { ...saved, ...env() };
    try {
      const deadlines: Array<number | undefined> = [];
      const handler = lambdaHandler(async (_item, clients) => {
        deadlines.push(clients.deadlineMs);
        return { status: "done", detail: "" };
      });
      await handler(sqsEvent([sqsRecord(JSON.stringify(workItem()))]), {} as Context);
      await handler(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
      process.stdout.write = stdout;
      expect(deadlines).to.deep.equal([undefined, undefined]);
    } finally {
      process.env = saved;
    }
  });

  it("a final action failure goes to the DLQ queue URL with its reason", async () => {
    sqs.on(SendMessageCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    const handler = buildRouteHandler(readRuntimeConfig(env()), async () => {
      throw new ActionError("Jenkins job api/build not found (404)", { retryable: false });
    });
    const result = await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    process.stdout.write = stdout;
    expect(result.batchItemFailures).to.deep.equal([]);
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(input?.QueueUrl).to.equal(DLQ);
    expect(input?.MessageAttributes?.["hookgate-reason"]?.StringValue).to.contain("404");
  });
});

/** What `run` writes to stdout, each write as it came. */
function printedBy(run: () => void): string[] {
  const stdout = process.stdout.write;
  const printed: string[] = [];
  process.stdout.write = ((chunk: string) => {
    printed.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    run();
  } finally {
    process.stdout.write = stdout;
  }
  return printed;
}

describe("Function: jsonLog", () => {
  it("jsonLog writes one JSON line with the time, level info and msg log unless the line names them", () => {
    const printed = printedBy(() => {
      jsonLog({ route: "api-build" });
      jsonLog({ level: "error", msg: "attempt" });
    });
    expect(printed.every((line) => line.endsWith("}\n"))).to.equal(true);
    const [plain, named] = printed.map((line) => JSON.parse(line));
    expect(plain).to.deep.include({ level: "info", msg: "log", route: "api-build" });
    expect(plain.time).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(named).to.deep.include({ level: "error", msg: "attempt" });
  });
});

describe("Function: jsonLog on a pushed branch's invisible characters", () => {
  // `aws logs tail` prints the lines to a terminal: a C1 control (U+009B, an 8-bit CSI) or a bidi override
  // (U+202E), which Git allows in a branch's name, goes there escaped, and the line reads back the same.
  it("jsonLog writes a ref's C1 control and bidi override as \\u escapes, and the line parses to the same ref", () => {
    const ref = "refs/heads/fix\u009b2J\u202egnp.exe";
    const printed = printedBy(() => jsonLog({ msg: "delivery", ref }));
    const [line] = printed;
    expect(line?.slice(0, -1)).to.not.match(/\p{Cc}|\p{Cf}/u);
    expect(line).to.contain("fix\\u009b2J\\u202egnp.exe");
    expect(JSON.parse(line ?? "")).to.deep.include({ msg: "delivery", ref });
  });
});

describe("Constant: CLIENT_TIMEOUTS", () => {
  it("makes an SDK call to a server that never answers fail at requestTimeout, instead of only warning", async () => {
    await withSilentServer(async (endpoint) => {
      const sqs = new SQSClient({
        region: "eu-west-1",
        endpoint,
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" },
        maxAttempts: 1,
        requestHandler: { ...CLIENT_TIMEOUTS, requestTimeout: 200 },
      });
      try {
        const error = await sqs
          .send(new SendMessageCommand({ QueueUrl: "http://queue", MessageBody: "x" }))
          .catch((e: unknown) => e);
        expect(String((error as Error)?.name)).to.match(/TimeoutError/);
      } finally {
        sqs.destroy();
      }
    });
  });
});

describe("Function: lambdaHandler", () => {
  it("lambdaHandler inside Lambda (AWS_LAMBDA_FUNCTION_NAME set) reads its environment at init, failing there when it is incomplete", () => {
    const saved = { ...process.env };
    for (const key of Object.keys(process.env)) if (key.startsWith("HOOKGATE_")) delete process.env[key];
    process.env.AWS_LAMBDA_FUNCTION_NAME = "hookgate-api-build";
    try {
      expect(() => lambdaHandler(async () => ({ status: "done", detail: "" }))).to.throw(
        RuntimeConfigError,
        "HOOKGATE_ROUTE is not set",
      );
    } finally {
      process.env = saved;
    }
  });

  it("lambdaHandler reports an incomplete environment clearly on the first event", async () => {
    const saved = { ...process.env };
    for (const key of Object.keys(process.env)) if (key.startsWith("HOOKGATE_")) delete process.env[key];
    try {
      const handler = lambdaHandler(async () => ({ status: "done", detail: "" }));
      const error = await handler(githubDelivery()).catch((e) => e);
      expect(error).to.be.instanceOf(RuntimeConfigError);
      expect(error.message).to.contain("HOOKGATE_ROUTE is not set");
    } finally {
      process.env = saved;
    }
  });
});
