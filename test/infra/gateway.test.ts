import { expect } from "chai";
import type { Route } from "../../src/core/types";
import { jenkinsPorts, openJenkinsEgressWarning, routesNeedingInternet } from "../../src/infra/gateway";
import { deployedRoute, MAX_ROUTE_ENV_BYTES, routeEnvJson } from "../../src/infra/route";
import { config, gitlabRoute, jenkinsRoute, prCleanupRoute, s3ZipRoute } from "./fixtures";

function withJenkinsUrl(route: Route, url: string): Route {
  if (route.action.type !== "jenkins") throw new Error("not a jenkins route");
  return { ...route, action: { ...route.action, jenkins: { ...route.action.jenkins, url } } };
}

describe("jenkinsPorts(config, routes)", () => {
  it("jenkinsPorts takes the ports of the routes' Jenkins URLs, https and http defaults included", () => {
    const routes = [
      withJenkinsUrl(jenkinsRoute("a"), "https://jenkins.example.com:8443"),
      withJenkinsUrl(jenkinsRoute("b"), "https://ci.example.com/"),
      withJenkinsUrl(jenkinsRoute("c"), "http://legacy.example.com/"),
      prCleanupRoute(),
      s3ZipRoute(),
    ];
    expect(jenkinsPorts(config(), routes)).to.deep.equal([80, 443, 8443]);
  });

  it("jenkinsPorts prefers the configured jenkins.port, and is empty without Jenkins routes", () => {
    expect(jenkinsPorts(config({ jenkins: { port: 8080 } }), [jenkinsRoute()])).to.deep.equal([8080]);
    expect(jenkinsPorts(config(), [s3ZipRoute()])).to.deep.equal([]);
  });

  it("jenkinsPorts names the route whose Jenkins URL is not a URL", () => {
    expect(() => jenkinsPorts(config(), [withJenkinsUrl(jenkinsRoute("bad"), "jenkins:x:y")])).to.throw(
      /route "bad"/,
    );
  });
});

describe("openJenkinsEgressWarning(config, routes)", () => {
  const onPort8443 = [withJenkinsUrl(jenkinsRoute(), "https://jenkins.internal.example.com:8443")];

  it("warns when the Jenkins port is open to every address, naming the port and both settings", () => {
    for (const c of [config(), config({ jenkins: { cidrs: ["10.0.0.0/8", "0.0.0.0/0"] } })]) {
      const warning = openJenkinsEgressWarning(c, onPort8443);
      expect(warning).to.contain("any address on the Jenkins port 8443");
      expect(warning).to.contain("jenkins.securityGroupId").and.to.contain("jenkins.cidrs");
    }
  });

  it("stays silent with a Jenkins security group, narrower CIDRs, Jenkins on 443 or no Jenkins route", () => {
    const silent: [string, ReturnType<typeof config>, Route[]][] = [
      ["security group", config({ jenkins: { securityGroupId: "sg-0123456789abcdef0" } }), onPort8443],
      ["CIDRs", config({ jenkins: { cidrs: ["10.20.0.0/16"] } }), onPort8443],
      ["443", config(), [withJenkinsUrl(jenkinsRoute(), "https://jenkins.internal.example.com/")]],
      ["no Jenkins", config(), [s3ZipRoute()]],
    ];
    for (const [what, c, routes] of silent)
      expect(openJenkinsEgressWarning(c, routes), what).to.equal(undefined);
  });
});

describe("routesNeedingInternet(routes)", () => {
  it("lists the routes that call the Git host's API", () => {
    expect(
      routesNeedingInternet([jenkinsRoute(), s3ZipRoute(), prCleanupRoute(), gitlabRoute()]),
    ).to.deep.equal(["source-zip", "pr-cleanup"]);
  });
});

describe("deployedRoute(route, bucket) and routeEnvJson(route)", () => {
  it("deployedRoute fills in the stack's bucket only where an s3-zip route named none", () => {
    const filled = deployedRoute(s3ZipRoute(), "stack-bucket");
    expect(filled.action.type === "s3-zip" && filled.action.bucket).to.equal("stack-bucket");
    const own = deployedRoute(s3ZipRoute("z", "own"), "stack-bucket");
    expect(own.action.type === "s3-zip" && own.action.bucket).to.equal("own");
    expect(deployedRoute(jenkinsRoute(), "stack-bucket")).to.deep.equal(jenkinsRoute());
  });

  it("routeEnvJson refuses a route too large for Lambda's 4 KB environment, naming it", () => {
    const route = jenkinsRoute("huge");
    if (route.action.type === "jenkins") route.action.parameters = { BIG: "x".repeat(MAX_ROUTE_ENV_BYTES) };
    expect(() => routeEnvJson(route)).to.throw(/route "huge": its compiled form is \d+ bytes/);
    expect(JSON.parse(routeEnvJson(jenkinsRoute()))).to.deep.equal(jenkinsRoute());
  });
});
