// A Gitea (Forgejo, Gogs) form delivery is body payload=<JSON>, signed over the JSON (newDefaultRequest,
// go-gitea services/webhook/deliver.go). The verifier (what was signed) and the decoder (what to parse) must
// read its Content-Type alike: a proxy that repeats the header verbatim changes neither.
import { createHmac } from "node:crypto";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { expect } from "chai";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { loadPayload } from "../fixtures/payloads";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  LogCollector,
  parseAnswer,
  RecordingDeadLetters,
  RecordingQueue,
  WEBHOOK_SECRET,
} from "./support";

const FORM = "application/x-www-form-urlencoded";

/** Gitea's form delivery of its push fixture, with these Content-Type values. */
function giteaFormDelivery(contentTypes: string[]): APIGatewayProxyEvent {
  const fixture = loadPayload("gitea/push");
  const json = fixture.body.toString("utf8");
  const signature = createHmac("sha256", WEBHOOK_SECRET).update(json).digest("hex");
  const event = githubDelivery({
    body: new URLSearchParams({ payload: json }).toString(),
    signature: null,
    headers: {
      ...fixture.headers,
      "X-Gitea-Signature": signature,
      "X-Hub-Signature-256": `sha256=${signature}`,
    },
    multiValueHeaders: { "Content-Type": contentTypes },
  });
  // githubDelivery's own GitHub header, which Gitea does not send.
  delete (event.headers as Record<string, string>)["X-GitHub-Hook-ID"];
  delete (event.multiValueHeaders as Record<string, string[]>)["X-GitHub-Hook-ID"];
  return event;
}

describe("Route handler: a Gitea form delivery's Content-Type", () => {
  function setUp() {
    const secrets = new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET });
    const queue = new RecordingQueue();
    const logs = new LogCollector();
    const handler = createRouteHandler({
      route: jenkinsRoute({
        provider: "gitea",
        match: { repos: ["infra/terraform-modules"], events: ["push"] },
      }),
      secrets,
      queue,
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore({}),
      runAction: async () => {
        throw new Error("no action runs at receive time");
      },
      log: logs.log,
    });
    return { handler, secrets, queue, logs };
  }

  it("202 queued for the form delivery with one Content-Type (control)", async () => {
    const { handler, queue } = setUp();
    const answer = parseAnswer(await handler.receive(giteaFormDelivery([FORM])));
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
    expect(queue.sent).to.have.length(1);
  });

  it("202 queued when Content-Type is repeated verbatim: verified over the payload field and decoded as a form", async () => {
    const { handler, queue, secrets } = setUp();
    const answer = parseAnswer(await handler.receive(giteaFormDelivery([FORM, FORM])));
    expect(answer.statusCode, JSON.stringify(answer.body)).to.equal(202);
    expect(queue.sent).to.have.length(1);
    expect(secrets.reads, "no secret refresh").to.have.length(1);
  });

  it("401 naming the header, queueing nothing and refreshing no secret, when Content-Type has two different values", async () => {
    const { handler, queue, secrets, logs } = setUp();
    const answer = parseAnswer(await handler.receive(giteaFormDelivery([FORM, "application/json"])));
    expect(answer.statusCode).to.equal(401);
    expect(answer.body).to.deep.include({ reason: 'header "content-type" has several different values' });
    expect(queue.sent).to.have.length(0);
    expect(secrets.reads, "no secret refresh").to.have.length(1);
    expect(logs.text()).to.include('header \\"content-type\\" has several different values');
  });
});
