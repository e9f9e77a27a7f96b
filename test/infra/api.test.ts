import { expect } from "chai";
import {
  ACCESS_LOG_FORMAT,
  answerTemplate,
  deploymentHash,
  GATEWAY_ANSWERS,
  responseParameters,
  TOO_LARGE_OR_THROTTLED_PATTERN,
} from "../../src/infra/api";
import { apiAllowlistPolicy } from "../../src/infra/policies";

describe("deploymentHash(routes, policy)", () => {
  const open = '{"Statement":[{"Effect":"Allow"}]}';
  const routes = [
    { name: "a", physicalName: "hookgate-dev-a" },
    { name: "b", physicalName: "hookgate-dev-b" },
  ];

  it("deploymentHash ignores the order of the routes", () => {
    expect(deploymentHash(routes, open)).to.equal(deploymentHash([...routes].reverse(), open));
  });

  it("deploymentHash changes with a route, a function it proxies to, or the resource policy", () => {
    const base = deploymentHash(routes, open);
    expect(deploymentHash(routes.slice(0, 1), open)).not.to.equal(base);
    expect(
      deploymentHash([routes[0] as (typeof routes)[0], { name: "b", physicalName: "other" }], open),
    ).not.to.equal(base);
    expect(deploymentHash(routes, "{}")).not.to.equal(base);
  });

  it("deploymentHash changes with a gateway response's status, headers or body (the stage serves the snapshot's)", () => {
    const base = deploymentHash(routes, open);
    expect(deploymentHash(routes, open, GATEWAY_ANSWERS)).to.equal(base);
    const [first, ...rest] = GATEWAY_ANSWERS as [(typeof GATEWAY_ANSWERS)[0], ...typeof GATEWAY_ANSWERS];
    expect(deploymentHash(routes, open, [{ ...first, statusCode: "400" }, ...rest])).not.to.equal(base);
    expect(
      deploymentHash(routes, open, [{ ...first, body: { ...first.body, reason: "other" } }, ...rest]),
    ).not.to.equal(base);
    expect(deploymentHash(routes, open, rest)).not.to.equal(base);
    expect(
      deploymentHash(routes, open, [{ ...first, headers: { "Retry-After": "60" } }, ...rest]),
    ).not.to.equal(base);
    const throttled = GATEWAY_ANSWERS.map((a) =>
      a.headers ? { ...a, headers: { "Retry-After": "60" } } : a,
    );
    expect(deploymentHash(routes, open, throttled)).not.to.equal(base);
  });
});

describe("deploymentHash: the value deployed stacks carry", () => {
  it("deploymentHash of a one-route stack without an allowlist is the value stacks deploy since throttling is answered 503 with Retry-After, an integration failure or timeout keeps API Gateway's own status (its reason: could not call the function, or it failed) and the too-large reason names the function's 4.4 MB (a change redeploys every stack: change it on purpose)", () => {
    const policy = JSON.stringify(apiAllowlistPolicy([], "execute-api:"));
    expect(deploymentHash([{ name: "api-build", physicalName: "hookgate-dev-api-build" }], policy)).to.equal(
      "5a0a89062b0ef73bc76b2d267bc816313f0ae037d175982c7c71f488b0fb47ef",
    );
  });
});

describe("GATEWAY_ANSWERS: what API Gateway answers itself", () => {
  const byType = (type: string) => {
    const answer = GATEWAY_ANSWERS.find((a) => a.responseType === type);
    if (!answer) throw new Error(`no answer for ${type}`);
    return answer;
  };
  const body = (type: string) => JSON.parse(answerTemplate(byType(type)));

  it("each response type appears once, with a logical name of its own", () => {
    const types = GATEWAY_ANSWERS.map((a) => a.responseType);
    expect(new Set(types).size).to.equal(types.length);
    const names = GATEWAY_ANSWERS.map((a) => a.name);
    expect(new Set(names).size).to.equal(names.length);
  });

  it("every template is JSON of the contract's keys, with route and delivery null, interpolating nothing (a gateway response template is not VTL: a $context value holding a quote could not be escaped)", () => {
    for (const answer of GATEWAY_ANSWERS) {
      const template = answerTemplate(answer);
      expect(template, answer.responseType).not.to.match(/\$|method\.request|stageVariables/);
      const parsed = JSON.parse(template);
      expect(Object.keys(parsed), answer.responseType).to.deep.equal([
        "status",
        "route",
        "delivery",
        "reason",
      ]);
      expect(parsed, answer.responseType).to.include({ route: null, delivery: null });
    }
  });

  it("keeps API Gateway's status codes (403, 413; its own 504 for a timeout and 500/502/504 for an integration failure, set on neither, as a set status counts as a 4XXError) except the unknown path's 404 and throttling's 503, and sets none on DEFAULT_4XX or DEFAULT_5XX, whose code would replace every other 4xx's or 5xx's", () => {
    const codes = Object.fromEntries(GATEWAY_ANSWERS.map((a) => [a.responseType, a.statusCode]));
    expect(codes).to.deep.equal({
      MISSING_AUTHENTICATION_TOKEN: "404",
      ACCESS_DENIED: "403",
      REQUEST_TOO_LARGE: "413",
      THROTTLED: "503",
      INTEGRATION_FAILURE: undefined,
      INTEGRATION_TIMEOUT: undefined,
      DEFAULT_5XX: undefined,
      DEFAULT_4XX: undefined,
    });
  });

  it("a 4xx is rejected; a 5xx is an error that says to redeliver, as the contract's 5xx tells the Git host", () => {
    for (const type of [
      "MISSING_AUTHENTICATION_TOKEN",
      "ACCESS_DENIED",
      "REQUEST_TOO_LARGE",
      "DEFAULT_4XX",
    ]) {
      expect(body(type).status, type).to.equal("rejected");
    }
    for (const type of ["THROTTLED", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "DEFAULT_5XX"]) {
      expect(body(type).status, type).to.equal("error");
      expect(body(type).reason, type).to.contain("redeliver");
    }
  });

  it("answers a throttled delivery 503 with Retry-After 30, as the function's own 503: not yet queued, it must be answered 5xx so the Git host can redeliver it (Bitbucket Cloud resends only a 5xx, not API Gateway's 429)", () => {
    const throttled = byType("THROTTLED");
    expect(throttled.statusCode).to.equal("503");
    expect(body("THROTTLED").status).to.equal("error");
    expect(responseParameters(throttled)).to.deep.equal({ "gatewayresponse.header.Retry-After": "'30'" });
  });

  it("adds headers to no answer but throttling's", () => {
    const withHeaders = GATEWAY_ANSWERS.filter((a) => Object.keys(responseParameters(a)).length > 0);
    expect(withHeaders.map((a) => a.responseType)).to.deep.equal(["THROTTLED"]);
  });

  it("leaves an integration failure (a function error or crash: 502; Lambda refusing the call: 500) at API Gateway's own status rather than a timeout's 504", () => {
    expect(byType("INTEGRATION_FAILURE").statusCode).to.equal(undefined);
    // A function that crashed (502) was called: the reason must not say it was not.
    expect(body("INTEGRATION_FAILURE").reason).to.contain(
      "could not call the route's function, or it failed",
    );
  });

  it("each reason says what happened and what to do: the allowlist, API Gateway's 10 MB, throttling to redeliver", () => {
    expect(body("MISSING_AUTHENTICATION_TOKEN").reason).to.equal("unknown route");
    expect(body("ACCESS_DENIED").reason).to.contain("source IP is not in api.ipAllowlist");
    // The function's limit too: API Gateway may answer a body it cannot pass to the function with this type.
    expect(body("REQUEST_TOO_LARGE").reason).to.contain("about 4.4 MB").and.to.contain("10 MB");
    expect(body("THROTTLED").reason).to.contain("throttled").and.to.contain("redeliver");
    expect(body("INTEGRATION_TIMEOUT").reason).to.contain("did not answer in time");
  });
});

describe("ACCESS_LOG_FORMAT", () => {
  it("is JSON with the request's id, source IP, time, method, path, status, length, latency, integration error and the type and message of an answer API Gateway made itself, and no headers", () => {
    const format = JSON.parse(ACCESS_LOG_FORMAT);
    expect(Object.keys(format)).to.deep.equal([
      "requestId",
      "ip",
      "requestTime",
      "httpMethod",
      "resourcePath",
      "status",
      "responseLength",
      "integrationLatency",
      "integrationError",
      "errorType",
      "errorMessage",
    ]);
    expect(format).to.deep.equal({
      requestId: "$context.requestId",
      ip: "$context.identity.sourceIp",
      requestTime: "$context.requestTime",
      httpMethod: "$context.httpMethod",
      resourcePath: "$context.resourcePath",
      status: "$context.status",
      responseLength: "$context.responseLength",
      integrationLatency: "$context.integrationLatency",
      integrationError: "$context.integrationErrorMessage",
      errorType: "$context.error.responseType",
      errorMessage: "$context.error.message",
    });
    expect(ACCESS_LOG_FORMAT).not.to.match(/header|authorization|body/i);
  });
});

describe("TOO_LARGE_OR_THROTTLED_PATTERN", () => {
  it("matches the access log's status as the format writes it, a JSON string (a numeric comparison would match no line)", () => {
    const line = JSON.parse(ACCESS_LOG_FORMAT.replace("$context.status", "413"));
    expect(line.status).to.equal("413");
    expect(TOO_LARGE_OR_THROTTLED_PATTERN).to.include('($.status = "413")');
  });

  // API Gateway counts a gateway response whose status was changed as a 4XXError, so api-5xx misses the
  // throttled 503: the access log's errorType names it.
  it("matches a throttled request by the access log's errorType, THROTTLED, the response type whose status is changed to 503", () => {
    const line = JSON.parse(ACCESS_LOG_FORMAT.replace("$context.error.responseType", "THROTTLED"));
    expect(line.errorType).to.equal("THROTTLED");
    expect(GATEWAY_ANSWERS.find((a) => a.responseType === "THROTTLED")?.statusCode).to.equal("503");
    expect(TOO_LARGE_OR_THROTTLED_PATTERN).to.equal('{ ($.status = "413") || ($.errorType = "THROTTLED") }');
  });
});
