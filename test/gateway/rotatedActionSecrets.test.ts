// The work path over the deployed secret store (SecretsManagerStore, cached) with a real action: a Jenkins
// token rotated while a warm function holds the old one cached must not dead-letter the deliveries it runs.
import { expect } from "chai";
import { runAction } from "../../src/actions/index";
import type { WorkItem } from "../../src/core/types";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { RotatedSecrets } from "../support/rotatedSecrets";
import {
  jenkinsRoute,
  LogCollector,
  RecordingDeadLetters,
  RecordingQueue,
  sqsEvent,
  sqsRecord,
  workItem,
} from "./support";

describe("work path with a Jenkins token rotated while the function caches the old one", () => {
  const SECRET = "hookgate/jenkins";
  const credentials = (token: string) => JSON.stringify({ user: "ci-bot", token });
  let jenkins: JenkinsServer;
  let secrets: RotatedSecrets;
  beforeEach(async () => {
    jenkins = await startJenkinsServer({ user: "ci-bot", token: "fedcba9876543210fedcba9876543210" });
    secrets = new RotatedSecrets({ [SECRET]: credentials("0123456789abcdef0123456789abcdef") });
    await secrets.cache(SECRET); // an earlier delivery read it
  });
  afterEach(async () => {
    secrets.restore();
    await jenkins.close();
  });

  it("a delivery run after the rotation is done on its first attempt, not dead-lettered on Jenkins' 401", async () => {
    secrets.rotate(SECRET, credentials("fedcba9876543210fedcba9876543210")); // put-secret-value; the old one revoked
    const deadLetters = new RecordingDeadLetters();
    const logs = new LogCollector();
    const clients = { secrets: secrets.store, objects: undefined as never, log: logs.log, timeoutMs: 5_000 };
    const handler = createRouteHandler({
      route: jenkinsRoute({}, jenkins.url),
      secrets: secrets.store,
      queue: new RecordingQueue(),
      deadLetters,
      dedupe: new MemoryDedupeStore(),
      runAction: (item) => runAction(item, clients),
      log: logs.log,
      backoff: async () => {},
    });
    const item = workItem({ deliveryId: "d-rotated" });
    item.request = {
      ...item.request,
      jenkins: { url: jenkins.url, credentials: SECRET, crumb: false },
    } as WorkItem["request"];
    const answer = await handler.work(
      sqsEvent([sqsRecord(JSON.stringify(item), { receiveCount: 1, group: "acme/api" })]),
    );
    expect(answer.batchItemFailures).to.deep.equal([]);
    expect(logs.of("attempt").map((l) => l.outcome)).to.deep.equal(["done"]);
    expect(deadLetters.items).to.deep.equal([]);
    expect(jenkins.builds()).to.have.length(2); // the refused one, then the one queued
  });
});
