// Values AWS validates at apply time, which Pulumi's mocks accept whatever they are: each test shows the value
// the program would send past the service's documented limit, and what the program does about it.
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import {
  API_POLICY_DEFAULT_QUOTA_CHARS,
  apiAllowlistPolicy,
  apiAllowlistPolicyChars,
  apiPolicyQuotaWarning,
  policyChars,
} from "../../src/infra/policies";
import { evaluate } from "./evaluate";
import { config, jenkinsRoute, stubCode } from "./fixtures";

/** `count` distinct IPv4 /24 networks, as an allowlist pasted from a provider's published ranges reads. */
function ipv4Ranges(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
}

/** Evaluates a one-route stack; returns its recorded resources and every message pulumi.log.warn got. */
async function withWarnings(raw: Record<string, unknown>) {
  const warn = pulumi.log.warn;
  const warnings: string[] = [];
  pulumi.log.warn = (message: string) => {
    warnings.push(message);
    return Promise.resolve();
  };
  try {
    const { cloud } = await evaluate({ config: config(raw), routes: [jenkinsRoute()], code: stubCode });
    return { cloud, warnings };
  } finally {
    pulumi.log.warn = warn;
  }
}

describe("API Gateway's resource policy length (8,192 characters by default) and api.ipAllowlist", () => {
  it("apiAllowlistPolicyChars measures the policy as deployed: a real execution ARN (12-digit account, 10-character API id) gives the same count", () => {
    const cidrs = ["192.30.252.0/22", "185.199.108.0/22", "2a0a:a440::/29"];
    const real = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5";
    expect(apiAllowlistPolicyChars(cidrs, "aws", "eu-west-1")).to.equal(
      policyChars(apiAllowlistPolicy(cidrs, real)),
    );
    const gov = "arn:aws-us-gov:execute-api:us-gov-west-1:123456789012:z9y8x7w6v5";
    expect(apiAllowlistPolicyChars([], "aws-us-gov", "us-gov-west-1")).to.equal(
      policyChars(apiAllowlistPolicy([], gov)),
    );
  });

  it("apiPolicyQuotaWarning says nothing for GitHub's few hook ranges, and names the length and the quota past 8,192 characters", () => {
    expect(apiPolicyQuotaWarning(["192.30.252.0/22", "185.199.108.0/22"], "aws", "eu-west-1")).to.equal(
      undefined,
    );
    // The longest allowlist that fits, then one CIDR more.
    let n = 1;
    while (apiAllowlistPolicyChars(ipv4Ranges(n + 1), "aws", "eu-west-1") <= API_POLICY_DEFAULT_QUOTA_CHARS)
      n++;
    expect(apiPolicyQuotaWarning(ipv4Ranges(n), "aws", "eu-west-1")).to.equal(undefined);
    const chars = apiAllowlistPolicyChars(ipv4Ranges(n + 1), "aws", "eu-west-1");
    const warning = apiPolicyQuotaWarning(ipv4Ranges(n + 1), "aws", "eu-west-1");
    expect(warning).to.contain(
      `api.ipAllowlist's ${n + 1} CIDRs make the API's resource policy ${chars} characters`,
    );
    expect(warning).to.contain("default quota of 8192");
    expect(warning).to.contain("fewer, wider ranges, or raise the quota");
  });

  it("a stack whose api.ipAllowlist makes a resource policy longer than 8,192 characters is warned of at `pulumi up`, naming the quota", async () => {
    const cidrs = ipv4Ranges(600);
    const { cloud, warnings } = await withWarnings({ api: { ipAllowlist: cidrs } });
    const policies = cloud.ofType("aws:apigateway/restApiPolicy:RestApiPolicy");
    expect(policies).to.have.length(1);
    // What the program sends: API Gateway refuses it unless the quota was raised.
    expect(String(policies[0]?.inputs.policy).length).to.be.above(API_POLICY_DEFAULT_QUOTA_CHARS);
    const said = warnings.filter((w) => w.includes("resource policy"));
    expect(said).to.deep.equal([apiPolicyQuotaWarning(cidrs, "aws", "eu-west-1")]);
  });

  it("a stack with a short api.ipAllowlist gets no such warning", async () => {
    const { warnings } = await withWarnings({ api: { ipAllowlist: ["192.30.252.0/22"] } });
    expect(warnings.filter((w) => w.includes("resource policy"))).to.deep.equal([]);
  });
});
