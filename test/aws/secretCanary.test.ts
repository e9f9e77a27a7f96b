// The secret canary (test/cli/secretCanary.test.ts) against the deployed wiring: buildRouteHandler with the real
// actions, the SDK stubbed at the client boundary, Secrets Manager holding canaries, and Jenkins played by the
// echo server in each of its modes. What a log shipper or an operator reads is searched: every line the handler
// writes (CloudWatch takes stdout and stderr), every message sent to the queues (the DLQ's body and attributes)
// and every answer, to the receive path's bad requests too.
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { GetSecretValueCommand, ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { type ActionClients, runAction } from "../../src/actions";
import { buildRouteHandler, readRuntimeConfig } from "../../src/aws/lambdaRuntime";
import { ActionError } from "../../src/core/errors";
import { githubDelivery, jenkinsRoute, sqsEvent, sqsRecord, workItem } from "../gateway/support";
import { stubSdkClients } from "../support/sdkStubs";
import {
  canary,
  type EchoServer,
  type Finding,
  MODES,
  mask,
  needlesOf,
  report,
  search,
  startEchoServer,
} from "../support/secretCanary";
import { MemorySecretStore } from "../support/secrets";

const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build.fifo";
const DLQ = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-api-build-dlq.fifo";

describe("the secret canary in the deployed handlers: no secret value in a log line, a queue message or an answer", () => {
  const webhook = canary("lambdawebhook");
  const tokens = new Map(MODES.map((mode) => [mode, canary(`${mode}-lambdajenkins`)]));
  /**
   * Jenkins credentials in the README's shapes, one per mode in turn (the cli canary test says why each); the
   * redirhost mode's a password a host name holds as punycode.
   */
  const stored = (mode: string, token: string, i: number) => {
    if (mode === "redirhost") return JSON.stringify({ user: "ci-bot", password: `pässwörd-${token}` });
    const shapes = [
      JSON.stringify({ user: "ci-bot", token }),
      JSON.stringify({ username: "ci-bot", apiToken: token }),
      JSON.stringify({ user: "ci-bot", password: `${token}:with:colons` }),
      JSON.stringify({ user: "ci-bot", password: `pass/${token}+x=` }),
      JSON.stringify({ user: "ci-bot", password: `pass ${token}/x y` }),
      JSON.stringify({ user: "ci-bot", password: `it's ${token}/(x)!~` }),
    ];
    return shapes[i % shapes.length] ?? mode;
  };
  let echo: EchoServer;
  // Created in before() and restored in after(): a class-level stub must not outlive this block (the other
  // aws tests talk to local servers through the real clients).
  const stubs = stubSdkClients;
  let sqs: ReturnType<typeof stubs>["sqs"];
  let ddb: ReturnType<typeof stubs>["ddb"];
  let sm: ReturnType<typeof stubs>["sm"];
  const writes = { out: process.stdout.write, err: process.stderr.write };
  let printed = "";

  before(async () => {
    ({ sqs, ddb, sm } = stubs());
    echo = await startEchoServer(Buffer.alloc(0));
  });
  after(async () => {
    sqs?.restore();
    ddb?.restore();
    sm?.restore();
    await echo?.close();
  });

  it("writes no Jenkins token, whatever Jenkins answers, and no webhook secret sent where it does not belong", async () => {
    sqs.reset();
    ddb.reset();
    sm.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: "m-dlq" });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({ Attributes: { generation: { N: "1" } } });
    ddb.on(GetItemCommand).resolves({});
    sm.on(GetSecretValueCommand, {
      SecretId: "hookgate/github-webhook",
      VersionStage: "AWSCURRENT",
    }).resolves({
      SecretString: webhook,
    });
    [...tokens].forEach(([mode, token], i) => {
      sm.on(GetSecretValueCommand, {
        SecretId: `hookgate/jenkins-${mode}`,
        VersionStage: "AWSCURRENT",
      }).resolves({
        SecretString: stored(mode, token, i),
      });
    });
    sm.on(GetSecretValueCommand, { VersionStage: "AWSPREVIOUS" }).rejects(
      new ResourceNotFoundException({ message: "no previous", $metadata: {} }),
    );
    const env = {
      HOOKGATE_ROUTE: JSON.stringify(jenkinsRoute({}, echo.url)),
      HOOKGATE_QUEUE_URL: QUEUE,
      HOOKGATE_DLQ_URL: DLQ,
      HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
      HOOKGATE_MAX_ATTEMPTS: "2",
      AWS_REGION: "eu-west-1",
    };
    const answers: string[] = [];
    const batches: string[] = [];
    const capture = ((chunk: string | Uint8Array) => {
      printed += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    try {
      const handler = buildRouteHandler(readRuntimeConfig(env), runAction);
      for (const mode of MODES) {
        for (const crumb of [false, true]) {
          const item = workItem();
          item.request = {
            type: "jenkins",
            jenkins: { url: echo.url, credentials: `hookgate/jenkins-${mode}`, crumb },
            job: ["api", "build"],
            parameters: { SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" },
          };
          // The last attempt: a failure of any kind goes to the DLQ.
          const result = await handler.work(sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: 2 })]));
          batches.push(JSON.stringify(result));
        }
      }
      const bad = [
        { signature: `sha256=${webhook}` },
        { signature: webhook },
        { signature: null, headers: { Authorization: `Bearer ${webhook}`, "X-Gitlab-Token": webhook } },
        { secret: "a-wrong-secret" },
      ];
      for (const options of bad) {
        const answer = await handler.receive(githubDelivery(options));
        answers.push(JSON.stringify(answer));
        expect(answer.statusCode).to.equal(401);
      }
    } finally {
      process.stdout.write = writes.out;
      process.stderr.write = writes.err;
    }
    const needles = needlesOf([webhook, ...tokens.values()]);
    const findings: Finding[] = [];
    search("the handler's log lines", printed, needles, findings);
    for (const call of sqs.commandCalls(SendMessageCommand)) {
      search("a message sent to SQS", JSON.stringify(call.args[0].input), needles, findings);
    }
    for (const answer of answers) search("a receive answer", answer, needles, findings);
    for (const batch of batches) search("a batch answer", batch, needles, findings);
    expect(findings, `secrets found:\n${report(findings)}`).to.deep.equal([]);
    // The search saw what it had to: a build queued, final and retryable failures dead-lettered, refusals logged.
    expect(printed).to.include("jenkins build queued").and.include("signature invalid");
    const dead = sqs.commandCalls(SendMessageCommand).map((c) => JSON.stringify(c.args[0].input));
    expect(dead.length, mask(printed.slice(-2000))).to.be.greaterThan(MODES.length);
    expect(dead.join("\n")).to.include("rejected the credentials (401)").and.include("answered 502");
  });

  it("names no secret when a call is cut at the function's deadline, the server never answering", async () => {
    const token = canary("slow-lambdajenkins");
    const logged: string[] = [];
    const item = workItem();
    item.request = {
      type: "jenkins",
      jenkins: { url: echo.url, credentials: "hookgate/jenkins-slow", crumb: true },
      job: ["api", "build"],
      parameters: {},
    };
    const secrets = new MemorySecretStore({
      "hookgate/jenkins-slow": JSON.stringify({ user: "ci-bot", token }),
    });
    let error: unknown;
    try {
      await runAction(item, {
        secrets,
        objects: {} as ActionClients["objects"], // a Jenkins build writes no object
        log: (line) => logged.push(JSON.stringify(line)),
        // The function's time ends before Jenkins answers (it never does): the call is cut there.
        deadlineMs: Date.now() + 300,
      });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ActionError);
    const { message, publicMessage } = error as ActionError;
    expect(message).to.include("the function's time ran out");
    const findings: Finding[] = [];
    search("the error", `${message} ${publicMessage} ${logged.join("\n")}`, needlesOf([token]), findings);
    expect(findings, `secrets found:\n${report(findings)}`).to.deep.equal([]);
  });
});
