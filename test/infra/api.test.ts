import { expect } from "chai";
import { ACCESS_LOG_FORMAT, deploymentHash } from "../../src/infra/api";

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
    expect(format.ip).to.equal("$context.identity.sourceIp");
    expect(format.integrationError).to.equal("$context.integrationErrorMessage");
    expect(ACCESS_LOG_FORMAT).not.to.match(/header|authorization|body/i);
  });
});
