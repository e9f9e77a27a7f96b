import type { APIGatewayProxyEvent } from "aws-lambda";
import { expect } from "chai";
import fc from "fast-check";
import { MemoryDedupeStore } from "../../src/gateway/memoryDedupe";
import { createRouteHandler } from "../../src/gateway/routeHandler";
import { bagOf, loadPayload, PAYLOAD_FIXTURES, type PayloadFixtureName } from "../fixtures/payloads";
import { runs } from "../support/propertyRuns";
import { replaceAt } from "../support/replaceAt";
import { MemorySecretStore } from "../support/secrets";
import {
  githubDelivery,
  jenkinsRoute,
  pushPayload,
  RecordingDeadLetters,
  RecordingQueue,
  sign,
  WEBHOOK_SECRET,
} from "./support";

const CONTRACT = new Set([200, 202, 400, 401, 403, 404, 405, 413, 415]);

function handler() {
  return createRouteHandler({
    route: jenkinsRoute({ auth: { allowIps: ["192.0.2.0/24"], allowSha1: false, toleranceSeconds: 300 } }),
    secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
    queue: new RecordingQueue(),
    deadLetters: new RecordingDeadLetters(),
    dedupe: new MemoryDedupeStore(),
    runAction: async () => ({ status: "done", detail: "" }),
    log: () => {},
  });
}

const headerName = fc.constantFrom(
  "X-Hub-Signature-256",
  "x-hub-signature",
  "X-GitHub-Event",
  "X-GitHub-Delivery",
  "Content-Type",
  "X-Forwarded-For",
  "Authorization",
);

describe("Property: receive answers every request inside the HTTP contract", () => {
  it("receive never throws and never answers 5xx for arbitrary requests (unsigned or signed)", async () => {
    const h = handler();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom("POST", "GET", "post", "DELETE"),
          path: fc.constantFrom(
            "/hooks/api-build",
            "/hooks/api-build/",
            "/hooks/other",
            "/",
            "/hooks/%E0%A4%A",
          ),
          body: fc.oneof(fc.string(), fc.json(), fc.constant(JSON.stringify(pushPayload()))),
          base64: fc.boolean(),
          signBody: fc.boolean(),
          event: fc.constantFrom("push", "ping", "pull_request", "issues", "", "x".repeat(300)),
          contentType: fc.constantFrom(
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
          ),
          extra: fc.dictionary(headerName, fc.array(fc.string(), { maxLength: 3 }), { maxKeys: 4 }),
          sourceIp: fc.constantFrom("192.0.2.7", "203.0.113.9", "", "not an ip"),
        }),
        async (r) => {
          const raw = Buffer.from(r.body, "utf8");
          const event: APIGatewayProxyEvent = githubDelivery({
            body: raw,
            base64: r.base64,
            method: r.method,
            path: r.path,
            event: r.event,
            contentType: r.contentType,
            sourceIp: r.sourceIp,
            signature: r.signBody ? sign(WEBHOOK_SECRET, raw) : null,
            multiValueHeaders: r.extra,
          });
          const result = await h.receive(event);
          expect(CONTRACT.has(result.statusCode), `${result.statusCode} ${result.body}`).to.equal(true);
          const body = JSON.parse(result.body);
          expect(body.route).to.equal("api-build");
          expect(body.status).to.be.a("string");
        },
      ),
      { numRuns: runs(300) },
    );
  });

  // Signed, so past verification: the normaliser, the filters and the templates meet every field replaced.
  it("receive answers inside the contract for signed GitHub deliveries with any of their fields replaced by any JSON", async () => {
    const queue = new RecordingQueue();
    const h = createRouteHandler({
      route: jenkinsRoute({
        match: { repos: ["**", "!x/y"], events: ["push", "pull_request", "ping"], branches: ["**", "!z"] },
        action: {
          type: "jenkins",
          jenkins: {
            url: "https://jenkins.internal.example.com",
            credentials: "hookgate/jenkins",
            crumb: false,
          },
          job: "api/{{repo.name}}",
          parameters: {
            BRANCH: "{{branch}}",
            SHA: "{{sha}}",
            REPO: "{{repo.fullName}}",
            PR: "{{pr.number}}",
          },
        },
      }),
      secrets: new MemorySecretStore({ "hookgate/github-webhook": WEBHOOK_SECRET }),
      queue,
      deadLetters: new RecordingDeadLetters(),
      dedupe: new MemoryDedupeStore(),
      runAction: async () => ({ status: "done", detail: "" }),
      log: () => {},
    });
    const names = (Object.keys(PAYLOAD_FIXTURES) as PayloadFixtureName[]).filter((n) =>
      n.startsWith("github/"),
    );
    // Mostly values of the wrong type where a field is read (null, a number, an object for a string).
    const value = fc.oneof(
      fc.constantFrom(
        null,
        true,
        0,
        2 ** 53 + 1,
        "",
        "__proto__",
        "refs/heads/",
        "refs/tags/",
        "0".repeat(40),
        {},
        [],
      ),
      fc.string({ unit: fc.constantFrom(..."ab/.*?[]{}()!@+$^\\ \u0000\u00a0é%~:"), maxLength: 12 }),
      fc.jsonValue(),
    );
    const edit = fc.tuple(fc.array(fc.nat({ max: 40 }), { minLength: 1, maxLength: 4 }), value);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        async (name, edits) => {
          const { payload, headers } = loadPayload(name);
          for (const [path, v] of edits) replaceAt(payload, path, v);
          const event = bagOf(headers).get("x-github-event")?.[0];
          const result = await h.receive(githubDelivery({ payload, event }));
          expect(CONTRACT.has(result.statusCode), `${result.statusCode} ${result.body}`).to.equal(true);
          expect(JSON.parse(result.body).status).to.be.a("string");
        },
      ),
      { numRuns: runs(200) },
    );
    // Many edits leave what the route reads alone: those deliveries went all the way to the queue.
    expect(queue.sent.length).to.be.above(0);
  });
});
