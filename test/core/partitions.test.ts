import { expect } from "chai";
import { consoleOrigin, dnsSuffix, partitionOf } from "../../src/core/partitions";

describe("Function: dnsSuffix(region)", () => {
  it("dnsSuffix(region) is the partition's dnsSuffix in the AWS SDKs' partitions data", () => {
    const expected: Record<string, string> = {
      "eu-west-1": "amazonaws.com",
      "us-gov-east-1": "amazonaws.com",
      "cn-north-1": "amazonaws.com.cn",
      "eusc-de-east-1": "amazonaws.eu",
      "us-iso-west-1": "c2s.ic.gov",
      "us-isob-east-1": "sc2s.sgov.gov",
      "eu-isoe-west-1": "cloud.adc-e.uk",
      "us-isof-east-1": "csp.hci.ic.gov",
    };
    for (const [region, suffix] of Object.entries(expected))
      expect(dnsSuffix(region), region).to.equal(suffix);
  });

  it("partitionOf(region) tells us-iso- from us-isob- and us-isof- regions", () => {
    expect(partitionOf("us-iso-east-1")).to.equal("aws-iso");
    expect(partitionOf("us-isob-west-1")).to.equal("aws-iso-b");
    expect(partitionOf("us-isof-south-1")).to.equal("aws-iso-f");
  });
});

describe("Function: consoleOrigin(region)", () => {
  it("consoleOrigin(region) is the region's console in aws, and the partition's own in China and GovCloud", () => {
    const expected: Record<string, string> = {
      "eu-west-1": "https://eu-west-1.console.aws.amazon.com",
      "cn-north-1": "https://console.amazonaws.cn",
      "cn-northwest-1": "https://console.amazonaws.cn",
      "us-gov-west-1": "https://console.amazonaws-us-gov.com",
      "us-iso-east-1": "https://us-iso-east-1.console.aws.amazon.com",
    };
    for (const [region, origin] of Object.entries(expected))
      expect(consoleOrigin(region), region).to.equal(origin);
  });
});
