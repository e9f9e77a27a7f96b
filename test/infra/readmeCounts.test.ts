// The README's "4. Deploy" tells users how many resources `pulumi up` creates per route; the figures must
// follow the program (a per-route resource added in 7001cfc left them one short).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";
import type { Route } from "../../src/core/types";
import { routeOf } from "./checks";
import { evaluate } from "./evaluate";
import { config, jenkinsRoute, stubCode } from "./fixtures";
import type { MockCloud, Recorded } from "./mocks";

const README = readFileSync(resolve(__dirname, "..", "..", "README.md"), "utf8").replace(/\s+/g, " ");

function readmeCount(pattern: RegExp): number {
  const found = pattern.exec(README);
  expect(found, `README matches ${pattern}`).to.not.equal(null);
  return Number(found?.[1]);
}

/** A route's cloud resources: those under its component, and its resources in the API component. */
function routeResources(cloud: MockCloud, route: string): Recorded[] {
  return cloud.resources.filter(
    (r) =>
      r.custom &&
      (routeOf(cloud, r) === route ||
        (r.parent.includes("hookgate:infra:Api") && r.name.startsWith(`hookgate-api-${route}`))),
  );
}

describe("README: resources per route", () => {
  it("a route with a webhook secret registers as many cloud resources as README step 4 says", async () => {
    const { cloud } = await evaluate({ config: config(), routes: [jenkinsRoute()], code: stubCode });
    expect(routeResources(cloud, "api-build")).to.have.length(
      readmeCount(/and (\d+) per route \(measured by/),
    );
  });

  it("a route without a webhook secret (allowIps only) registers as many cloud resources as README step 4 says", async () => {
    const route = {
      ...jenkinsRoute(),
      secret: undefined,
      auth: { allowIps: ["192.0.2.0/24"], allowSha1: false, toleranceSeconds: 300 },
    } as Route;
    const { cloud } = await evaluate({ config: config(), routes: [route], code: stubCode });
    expect(routeResources(cloud, "api-build")).to.have.length(
      readmeCount(/; (\d+) for a route without a webhook secret/),
    );
  });
});
