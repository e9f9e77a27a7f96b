// A secret scheduled for deletion (Secrets Manager's Delete keeps it for a 7 to 30 day recovery window)
// answers GetSecretValue with InvalidRequestException, a 400. It is missing until restored, as the README's
// tables say: 401 and the "webhook secret missing" line on receive, final (dead at once) on the work path.
import {
  GetSecretValueCommand,
  InvalidRequestException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import { readSecret } from "../../src/actions/secrets";
import { SecretsManagerStore } from "../../src/aws/secrets";
import { type ActionError, SecretNotFoundError } from "../../src/core/errors";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  workItem,
} from "../gateway/support";

const scheduled = () =>
  new InvalidRequestException({
    message: "You can't perform this operation on the secret because it was marked for deletion.",
    $metadata: { httpStatusCode: 400 },
  });

describe("a secret scheduled for deletion", () => {
  const client = new SecretsManagerClient({ region: "eu-west-1" });
  const stub = () => mockClient(client);
  let sm: ReturnType<typeof stub>;
  before(() => {
    sm = stub();
  });
  afterEach(() => sm.reset());
  after(() => sm.restore());

  it("is read as missing (SecretNotFoundError), with the restore command, as ResourceNotFoundException is", async () => {
    sm.on(GetSecretValueCommand).rejects(scheduled());
    const store = new SecretsManagerStore(client);
    const error = await store.versions("hookgate/github-webhook").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(SecretNotFoundError);
    expect((error as Error).message).to.equal(
      'secret "hookgate/github-webhook" is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id hookgate/github-webhook) to use it again',
    );
  });

  it("receive: a delivery to a route whose webhook secret is scheduled for deletion is answered 401 with the 'webhook secret missing' line, not 503", async () => {
    sm.on(GetSecretValueCommand).rejects(scheduled());
    const logs = new LogCollector();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets: new SecretsManagerStore(client),
      queue: new RecordingQueue(),
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "built" }),
      log: logs.log,
    });
    const answer = parseAnswer(await handler.receive(githubDelivery()));
    expect(answer.statusCode).to.equal(401);
    expect(logs.of("webhook secret missing: every delivery is rejected until it exists")).to.have.length(1);
  });

  it("work: a Jenkins action whose credentials secret is scheduled for deletion is dead-lettered as final on its first attempt, not retried", async () => {
    sm.on(GetSecretValueCommand).rejects(scheduled());
    const secrets = new SecretsManagerStore(client);
    const deadLetters = new RecordingDeadLetters();
    const logs = new LogCollector();
    const handler = createRouteHandler({
      route: jenkinsRoute(),
      secrets,
      queue: new RecordingQueue(),
      deadLetters,
      dedupe: new MemoryDedupeStore(),
      runAction: async () => {
        await readSecret({ secrets }, "hookgate/jenkins");
        return { status: "done", detail: "built" };
      },
      log: logs.log,
    });
    const out = await handler.work(sqsEvent([sqsRecord(JSON.stringify(workItem()))]));
    expect(logs.of("attempt")[0]?.outcome).to.equal("dead");
    expect(out.batchItemFailures).to.deep.equal([]);
    expect(deadLetters.items[0]?.reason ?? "").to.match(/^final: /);
  });

  it("is still said to be scheduled for deletion, with the restore command, by a read within the 5 seconds a missing secret is not asked again", async () => {
    sm.on(GetSecretValueCommand).rejects(scheduled());
    let now = 1_000_000;
    const store = new SecretsManagerStore(client, { now: () => now });
    const messageOf = () =>
      store.versions("hookgate/github-webhook").then(
        () => "(resolved)",
        (e: unknown) => (e as Error).message,
      );
    expect(await messageOf()).to.contain("scheduled for deletion");
    now += 1_000;
    expect(await messageOf()).to.contain("restore-secret");
    expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(2); // AWSCURRENT and AWSPREVIOUS, once
  });

  it("work path: readSecret's final error for an action's secret scheduled for deletion says so, with the restore command", async () => {
    sm.on(GetSecretValueCommand).rejects(scheduled());
    const error = await readSecret({ secrets: new SecretsManagerStore(client) }, "hookgate/jenkins").then(
      () => undefined,
      (e: unknown) => e as ActionError,
    );
    expect(error?.retryable).to.equal(false);
    expect(error?.message).to.equal(
      'secret "hookgate/jenkins" is scheduled for deletion: restore it (aws secretsmanager restore-secret --secret-id hookgate/jenkins) to use it again',
    );
  });
});
