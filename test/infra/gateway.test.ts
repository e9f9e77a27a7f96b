import { expect } from "chai";
import { MAX_ATTEMPTS } from "../../src/core/policy";
import type { Route } from "../../src/core/types";
import {
  gitHostApiPorts,
  jenkinsPorts,
  networkWarnings,
  openJenkinsEgressWarning,
  planGateway,
  routesNeedingInternet,
} from "../../src/infra/gateway";
import { routeNames, stackNames, stackPrefix } from "../../src/infra/naming";
import { MIN_BUCKET_NAME } from "../../src/infra/policySize";
import {
  deployedRoute,
  environmentLongest,
  environmentProblem,
  environmentShortest,
  environmentWarning,
  MAX_ENV_BYTES,
  queueUrlBound,
  queueUrlShortest,
  routeEnvironment,
} from "../../src/infra/route";
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

describe("networkWarnings(config, routes) and gitHostApiPorts(routes)", () => {
  const gitea = (apiUrl: string): Route => {
    const route = s3ZipRoute("gitea-zip");
    if (route.action.type === "s3-zip") route.action.api = { ...route.action.api, apiUrl };
    return route;
  };

  it("gitHostApiPorts lists the Git host API ports other than 443, which the Lambdas' egress must open", () => {
    expect(
      gitHostApiPorts([
        gitea("https://git.example.com:3000/api/v1"),
        gitea("http://ghe.internal/api/v3"),
        s3ZipRoute(),
      ]),
    ).to.deep.equal([80, 3000]);
  });

  it("networkWarnings says a security group outside the created VPC needs a peering, a jenkins.port other routes do not use, and an API port opened to every address", () => {
    const warnings = networkWarnings(
      config({ jenkins: { securityGroupId: "sg-0123456789abcdef0", port: 8443 } }),
      [
        withJenkinsUrl(jenkinsRoute(), "http://jenkins2.internal:8080"),
        gitea("https://git.example.com:3000/api/v1"),
      ],
    );
    expect(warnings).to.have.length(3);
    expect(warnings[0]).to.match(/outside the VPC this stack creates: .* peering/);
    expect(warnings[1]).to.match(/jenkins.port is 8443, .* also use 8080/);
    expect(warnings[2]).to.match(/any address on port 3000/);
  });

  it("networkWarnings is silent for the defaults", () => {
    expect(networkWarnings(config(), [jenkinsRoute(), s3ZipRoute()])).to.deep.equal([]);
  });

  it("networkWarnings says nothing of a Jenkins on 443 beside jenkins.port (443 is open anyway), unless Jenkins' security group takes only jenkins.port", () => {
    const on443 = [withJenkinsUrl(jenkinsRoute(), "https://jenkins.internal/")];
    expect(networkWarnings(config({ jenkins: { port: 8443 } }), on443)).to.deep.equal([]);
    const withGroup = networkWarnings(
      config({ jenkins: { port: 8443, securityGroupId: "sg-0123456789abcdef0" } }),
      on443,
    );
    expect(withGroup.some((w) => /also use 443/.test(w))).to.equal(true);
  });
});

describe("routesNeedingInternet(routes)", () => {
  it("lists the routes that call the Git host's API", () => {
    expect(
      routesNeedingInternet([jenkinsRoute(), s3ZipRoute(), prCleanupRoute(), gitlabRoute()]),
    ).to.deep.equal(["source-zip", "pr-cleanup"]);
  });
});

describe("deployedRoute(route, bucket) and routeEnvironment(values)", () => {
  it("deployedRoute fills in the stack's bucket only where an s3-zip route named none", () => {
    const filled = deployedRoute(s3ZipRoute(), "stack-bucket");
    expect(filled.action.type === "s3-zip" && filled.action.bucket).to.equal("stack-bucket");
    const own = deployedRoute(s3ZipRoute("z", "own"), "stack-bucket");
    expect(own.action.type === "s3-zip" && own.action.bucket).to.equal("own");
    expect(deployedRoute(jenkinsRoute(), "stack-bucket")).to.deep.equal(jenkinsRoute());
  });

  const values = (route: Route) => ({
    route,
    queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-dev-huge.fifo",
    deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/hookgate-dev-huge-dlq.fifo",
    dedupeTable: "hookgate-dev-dedupe",
  });

  it("routeEnvironment gives the contract's variables for a route that fits", () => {
    const vars = routeEnvironment(values(jenkinsRoute()));
    expect(JSON.parse(vars.HOOKGATE_ROUTE as string)).to.deep.equal(jenkinsRoute());
    expect(vars.HOOKGATE_MAX_ATTEMPTS).to.equal(String(MAX_ATTEMPTS));
    expect(vars).to.not.have.property("HOOKGATE_SECRET_NAME_PREFIX");
  });

  it("routeEnvironment gives the function the stack's secretNamePrefix (its commit statuses judge a name without it), and counts it in the environment's size", () => {
    const prefixed = { ...values(jenkinsRoute()), secretNamePrefix: "dev/" };
    expect(routeEnvironment(prefixed).HOOKGATE_SECRET_NAME_PREFIX).to.equal("dev/");
    // A route that just fits without a prefix does not with a 64-character one.
    const route = jenkinsRoute("huge");
    if (route.action.type !== "jenkins") throw new Error("a jenkins route");
    const withPrefix = () => routeEnvironment({ ...values(route), secretNamePrefix: "p".repeat(64) });
    for (let fits = true; fits && route.action.job.length < 4096; ) {
      try {
        withPrefix();
        route.action.job += "x";
      } catch {
        fits = false;
      }
    }
    expect(() => routeEnvironment(values(route))).not.to.throw();
    expect(withPrefix).to.throw(/route "huge": its Lambda environment is \d+ bytes/);
    // The refusal names the prefix as the other fix.
    expect(withPrefix).to.throw(
      /, or shorten hookgate:secretNamePrefix \(in each secret name and in HOOKGATE_SECRET_NAME_PREFIX\)$/,
    );
    route.action.job += "x".repeat(200);
    expect(() => routeEnvironment(values(route))).to.throw(/split it into two routes$/);
  });

  it('routeEnvironment measures the variables map as JSON, as Lambda does: a 3,266-byte route full of " is refused, naming the route and the size', () => {
    // Short parameters: each adds 4 quotes to the route's JSON, and 4 escaped quotes (8 bytes) to the map's.
    const route = jenkinsRoute("huge");
    const parameters: Record<string, string> = {};
    for (let i = 0; JSON.stringify(route).length < 3266; i++) {
      parameters[`P${i}`] = "x";
      if (route.action.type === "jenkins") route.action.parameters = parameters;
    }
    expect(Buffer.byteLength(JSON.stringify(route))).to.be.within(3266, 3280);
    const measured = Buffer.byteLength(
      JSON.stringify({ ...values(route), HOOKGATE_ROUTE: JSON.stringify(route) }),
    );
    expect(measured, "as Lambda measures it").to.be.above(MAX_ENV_BYTES);
    expect(() => routeEnvironment(values(route))).to.throw(
      /route "huge": its Lambda environment is \d+ bytes as Lambda measures it .* more than the 4096 it allows; shorten/,
    );
  });

  it("environmentWarning warns of a route that fits its real values but not the longest ones, and never refuses it", () => {
    const route = jenkinsRoute("tight");
    const parameters: Record<string, string> = {};
    if (route.action.type === "jenkins") route.action.parameters = parameters;
    const real = values(route);
    const longest = {
      ...real,
      queueUrl: queueUrlBound("eu-west-1", "hookgate-dev-tight.fifo"),
      deadLetterQueueUrl: queueUrlBound("eu-west-1", "hookgate-dev-tight-dlq.fifo"),
    };
    // Grow the route until the longest values no longer fit, while the real ones still do.
    for (let i = 0; environmentWarning(longest) === undefined; i++) parameters[`P${i}`] = "x";
    expect(() => routeEnvironment(real)).not.to.throw();
    expect(environmentWarning(longest)).to.match(
      /route "tight": .* measured again with the real ones, which decide/,
    );
  });

  it("queueUrlShortest is at most as long as a queue's URL in any partition", () => {
    const name = "hookgate-dev-api-build-dlq.fifo";
    for (const url of [
      `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`,
      `https://sqs.cn-north-1.amazonaws.com.cn/123456789012/${name}`,
      `https://eu-west-1.queue.amazonaws.com/123456789012/${name}`,
    ]) {
      const region = url.includes("cn-north-1") ? "cn-north-1" : "eu-west-1";
      expect(queueUrlShortest(region, name).length, url).to.be.at.most(url.length);
    }
  });

  it("queueUrlShortest is exactly a queue's sqs.<region>.<dnsSuffix> URL in every partition (European Sovereign Cloud: amazonaws.eu, shorter than amazonaws.com)", () => {
    const name = "hookgate-dev-api-build-dlq.fifo";
    // The dnsSuffix of each partition in the AWS SDKs' partitions data (@aws-sdk/core 3.981).
    const real: Record<string, string> = {
      "eu-west-1": "amazonaws.com",
      "us-gov-west-1": "amazonaws.com",
      "cn-northwest-1": "amazonaws.com.cn",
      "eusc-de-east-1": "amazonaws.eu",
      "us-iso-east-1": "c2s.ic.gov",
      "us-isob-east-1": "sc2s.sgov.gov",
      "eu-isoe-west-1": "cloud.adc-e.uk",
      "us-isof-south-1": "csp.hci.ic.gov",
    };
    for (const [region, suffix] of Object.entries(real)) {
      const url = `https://sqs.${region}.${suffix}/123456789012/${name}`;
      expect(queueUrlShortest(region, name).length, url).to.equal(url.length);
      expect(queueUrlBound(region, name).length, url).to.be.at.least(url.length);
    }
  });

  it("queueUrlBound is at least as long as a queue's URL in any partition", () => {
    const name = "hookgate-dev-api-build-dlq.fifo";
    for (const url of [
      `https://sqs.cn-north-1.amazonaws.com.cn/123456789012/${name}`,
      `https://cn-north-1.queue.amazonaws.com.cn/123456789012/${name}`,
      `https://sqs.us-iso-east-1.c2s.ic.gov/123456789012/${name}`,
    ]) {
      const region = url.includes("iso") ? "us-iso-east-1" : "cn-north-1";
      expect(queueUrlBound(region, name).length, url).to.be.at.least(url.length);
    }
  });
});

describe("the bounds a route's Lambda environment is measured with before its queues and the stack's bucket exist", () => {
  const REGION = "eu-west-1";
  const names = routeNames(stackPrefix("dev"), "source-zip");
  const bucketOf = (route: Route) => (route.action.type === "s3-zip" ? route.action.bucket : undefined);
  const bounds = { route: s3ZipRoute(), names, region: REGION, dedupeTableName: "hookgate-dev-dedupe" };

  it("environmentShortest takes the shortest queue URLs, and the stack bucket's known name length for an s3-zip route that names no bucket (the shortest bucket name when unknown)", () => {
    for (const [artifactBucketNameLength, expected] of [
      [40, 40],
      [undefined, MIN_BUCKET_NAME],
    ] as const) {
      const shortest = environmentShortest({ ...bounds, artifactBucketNameLength });
      expect(bucketOf(shortest.route)?.length, String(artifactBucketNameLength)).to.equal(expected);
      expect(shortest.queueUrl).to.equal(queueUrlShortest(REGION, names.queue));
      expect(shortest.deadLetterQueueUrl).to.equal(queueUrlShortest(REGION, names.deadLetterQueue));
    }
  });

  it("environmentLongest takes the longest queue URLs and a 63-character bucket name, whatever length is known", () => {
    const longest = environmentLongest({ ...bounds, artifactBucketNameLength: 40 });
    expect(bucketOf(longest.route)?.length).to.equal(63);
    expect(longest.queueUrl).to.equal(queueUrlBound(REGION, names.queue));
    expect(longest.deadLetterQueueUrl).to.equal(queueUrlBound(REGION, names.deadLetterQueue));
  });

  it("planGateway refuses an s3-zip route whose environment fits with the shortest bucket name but not with the stack bucket's name length", () => {
    const stackBucketNameLength = stackNames(stackPrefix("dev"), REGION).bucketPrefix.length + 26;
    const route = s3ZipRoute();
    // Lengthen the key until the route no longer fits with the stack bucket's name (it still does with 3 characters).
    while (
      environmentProblem({ ...bounds, route, artifactBucketNameLength: stackBucketNameLength }) === undefined
    ) {
      if (route.action.type === "s3-zip") route.action.key += "x";
    }
    expect(environmentProblem({ ...bounds, route })).to.equal(undefined);
    expect(() => planGateway({ config: config(), routes: [route], stack: "dev", region: REGION })).to.throw(
      /route "source-zip": its Lambda environment is \d+ bytes/,
    );
  });
});

describe("planGateway: GitHub's webhook limit", () => {
  // 21 push webhooks on acme/api: one past GitHub's limit per repository and event.
  const routes = () => Array.from({ length: 21 }, (_, i) => jenkinsRoute(`job-${i}`, ["acme/api"]));

  it("holds a stack to GitHub's webhook limit only when hookgate manages the webhooks", () => {
    const plan = (manageWebhooks: boolean) => () =>
      planGateway({
        config: config({ github: { manageWebhooks } }),
        routes: routes(),
        stack: "dev",
        region: "eu-west-1",
      });
    expect(plan(true)).to.throw(/21 managed webhooks on acme\/api/);
    expect(plan(false)).not.to.throw();
  });
});
