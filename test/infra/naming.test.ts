import { expect } from "chai";
import fc from "fast-check";
import { routeNameClashProblem, routeNameProblem } from "../../src/core/routes/checks";
import { NAME_LIMITS, physicalName, routeNames, stackNames, stackPrefix } from "../../src/infra/naming";
import { runs } from "../support/propertyRuns";

const ROUTE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const routeName = fc
  .stringMatching(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/)
  .filter((s) => s.length <= 32 && ROUTE_NAME.test(s));
const stackName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,100}$/);

describe("physicalName(base, max, suffix)", () => {
  it("physicalName keeps a name that fits as it is", () => {
    expect(physicalName("hookgate-dev-api-build", 64)).to.equal("hookgate-dev-api-build");
    expect(physicalName("hookgate-dev-api-build", 80, ".fifo")).to.equal("hookgate-dev-api-build.fifo");
  });

  it("physicalName shortens a long name with a hash of the whole name, within the limit", () => {
    const long = `hookgate-${"x".repeat(80)}`;
    const name = physicalName(long, 64);
    expect(name).to.have.length.at.most(64);
    expect(name).to.match(/^hookgate-x+-[0-9a-f]{8}$/);
    expect(physicalName(long, 64)).to.equal(name);
    expect(physicalName(`${long}y`, 64)).not.to.equal(name);
  });

  it("physicalName replaces characters AWS names do not allow", () => {
    expect(physicalName("hookgate-my.stack/1", 64)).to.equal("hookgate-my-stack-1");
  });

  it("every route name with every stack name yields names within AWS limits, distinct per route (property)", () => {
    fc.assert(
      fc.property(stackName, routeName, routeName, (stack, a, b) => {
        const prefix = stackPrefix(stack);
        const na = routeNames(prefix, a);
        const nb = routeNames(prefix, b);
        for (const n of [na, nb]) {
          expect(n.function.length).to.be.at.most(NAME_LIMITS.function);
          expect(n.function).to.match(/^[A-Za-z0-9_-]+$/);
          expect(n.rolePrefix.length).to.be.at.most(NAME_LIMITS.rolePrefix);
          expect(n.queue.length).to.be.at.most(NAME_LIMITS.queue);
          expect(n.deadLetterQueue.length).to.be.at.most(NAME_LIMITS.queue);
          expect(n.queue.endsWith(".fifo") && n.deadLetterQueue.endsWith("-dlq.fifo")).to.equal(true);
          expect(n.logGroup).to.equal(`/aws/lambda/${n.function}`);
          expect(n.dlqAlarm.length).to.be.at.most(NAME_LIMITS.alarm);
        }
        if (a !== b) {
          expect(na.function).not.to.equal(nb.function);
          expect(na.queue).not.to.equal(nb.queue);
          expect(na.rolePrefix).not.to.equal(nb.rolePrefix);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it("two route names hookgate check accepts never share a queue, function, log group or alarm name, nor take the stack's (property)", () => {
    // b is often derived from a: the shapes that collide (a-dlq next to a) must come up.
    const pair = routeName.chain((a) =>
      fc.tuple(
        fc.constant(a),
        fc.oneof(routeName, fc.constant(`${a}-dlq`), fc.constant(a.replace(/-dlq$/, ""))),
      ),
    );
    fc.assert(
      fc.property(stackName, pair, (stack, [a, b]) => {
        const all = new Set([a, b]);
        const accepted = [...all].every((n) => !routeNameProblem(n) && !routeNameClashProblem(n, all));
        fc.pre(accepted && a !== b);
        const prefix = stackPrefix(stack);
        const s = stackNames(prefix, "eu-west-1");
        const [na, nb] = [routeNames(prefix, a), routeNames(prefix, b)];
        const perService = {
          queue: [na.queue, na.deadLetterQueue, nb.queue, nb.deadLetterQueue],
          function: [na.function, nb.function],
          logGroup: [na.logGroup, nb.logGroup, s.apiLogGroup],
          alarm: [
            na.dlqAlarm,
            na.healthAlarm,
            nb.dlqAlarm,
            nb.healthAlarm,
            s.apiErrorsAlarm,
            s.apiTooLargeOrThrottledAlarm,
          ],
        };
        for (const [service, names] of Object.entries(perService)) {
          expect(new Set(names).size, `${service}: ${names.join(", ")}`).to.equal(names.length);
        }
      }),
      { numRuns: runs(300) },
    );
  });

  it("stackNames gives a lowercase bucket prefix within S3's 37 characters", () => {
    const names = stackNames(stackPrefix("Production_EU.central-1-with-a-very-long-name"), "eu-west-1");
    expect(names.bucketPrefix).to.match(/^[a-z0-9][a-z0-9-]*-artifacts-$/);
    expect(names.bucketPrefix.length).to.be.at.most(NAME_LIMITS.bucketPrefix);
  });

  it("stackNames names the dashboard after the region too (dashboards are global to the account)", () => {
    const prefix = stackPrefix("prod");
    expect(stackNames(prefix, "eu-west-1").dashboard).to.equal("hookgate-prod-eu-west-1");
    expect(stackNames(prefix, "us-east-1").dashboard).to.not.equal(stackNames(prefix, "eu-west-1").dashboard);
  });

  it("stackNames gives the VPC's Name tag and the Jenkins rule's description with the stack's prefix, within EC2's 256 and 255 characters for a long stack name", () => {
    expect(stackNames(stackPrefix("dev"), "eu-west-1").vpcNameTag).to.equal("hookgate-dev-vpc");
    expect(stackNames(stackPrefix("dev"), "eu-west-1").jenkinsRuleDescription).to.equal(
      "hookgate-dev: route Lambdas to Jenkins",
    );
    const long = stackNames(stackPrefix("x".repeat(300)), "eu-west-1");
    expect(long.vpcNameTag.length).to.be.at.most(256);
    expect(long.vpcNameTag).to.match(/^hookgate-x+-[0-9a-f]{8}-vpc$/);
    expect(long.jenkinsRuleDescription.length).to.be.at.most(255);
    expect(long.jenkinsRuleDescription).to.match(/^hookgate-x+-[0-9a-f]{8}: route Lambdas to Jenkins$/);
  });
});
