import { expect } from "chai";
import { INTERFACE_ENDPOINT_SERVICES } from "../../src/infra/config";
import { interfaceServiceName, serviceName } from "../../src/infra/network";

describe("Function: interfaceServiceName(region, service)", () => {
  it("interfaceServiceName is com.amazonaws.<region>.<service> for every service in the aws, GovCloud, ISO-E, ISO-F and European Sovereign Cloud regions", () => {
    for (const region of [
      "eu-west-1",
      "us-gov-west-1",
      "eu-isoe-west-1",
      "us-isof-south-1",
      "eusc-de-east-1",
    ]) {
      for (const service of INTERFACE_ENDPOINT_SERVICES) {
        expect(interfaceServiceName(region, service)).to.equal(`com.amazonaws.${region}.${service}`);
      }
    }
  });

  it("interfaceServiceName carries China's cn.com.amazonaws prefix for SQS, STS and CloudWatch only", () => {
    for (const region of ["cn-north-1", "cn-northwest-1"]) {
      expect(INTERFACE_ENDPOINT_SERVICES.map((s) => interfaceServiceName(region, s))).to.deep.equal([
        `com.amazonaws.${region}.secretsmanager`,
        `cn.com.amazonaws.${region}.sqs`,
        `com.amazonaws.${region}.logs`,
        `cn.com.amazonaws.${region}.sts`,
        `com.amazonaws.${region}.kms`,
        `cn.com.amazonaws.${region}.monitoring`,
      ]);
    }
  });

  it("interfaceServiceName carries the ISO partitions' prefixes for SQS (and CloudWatch in us-iso-west-1)", () => {
    expect(interfaceServiceName("us-iso-east-1", "sqs")).to.equal("gov.ic.c2s.us-iso-east-1.sqs");
    expect(interfaceServiceName("us-iso-east-1", "monitoring")).to.equal(
      "com.amazonaws.us-iso-east-1.monitoring",
    );
    expect(interfaceServiceName("us-iso-west-1", "monitoring")).to.equal(
      "gov.ic.c2s.us-iso-west-1.monitoring",
    );
    expect(interfaceServiceName("us-isob-east-1", "sqs")).to.equal("gov.sgov.sc2s.us-isob-east-1.sqs");
    expect(interfaceServiceName("us-isob-east-1", "secretsmanager")).to.equal(
      "com.amazonaws.us-isob-east-1.secretsmanager",
    );
  });

  it("serviceName (gateway endpoints) is com.amazonaws.<region>.<service>, in China too", () => {
    expect(serviceName("cn-north-1", "s3")).to.equal("com.amazonaws.cn-north-1.s3");
    expect(serviceName("cn-northwest-1", "dynamodb")).to.equal("com.amazonaws.cn-northwest-1.dynamodb");
  });
});
