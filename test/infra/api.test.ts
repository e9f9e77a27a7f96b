import { expect } from "chai";
import { ACCESS_LOG_FORMAT, deploymentHash } from "../../src/infra/api";
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
});

describe("deploymentHash: the value deployed stacks carry", () => {
  it("deploymentHash of a one-route stack without an allowlist is the value stacks have deployed since aee0d7f (a change redeploys every stack: change it on purpose)", () => {
    const policy = JSON.stringify(apiAllowlistPolicy([], "execute-api:"));
    expect(deploymentHash([{ name: "api-build", physicalName: "hookgate-dev-api-build" }], policy)).to.equal(
      "a1e40c06a0e450340cf9524c6a31502e43085514262f82a08d74bf1872802184",
    );
  });
});

describe("ACCESS_LOG_FORMAT", () => {
  it("is JSON with the request's id, source IP, time, method, path, status, length, latency and integration error, and no headers", () => {
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
    });
    expect(ACCESS_LOG_FORMAT).not.to.match(/header|authorization|body/i);
  });
});
