// AWS partitions by region: the ARN partition and the domain of the service endpoints. Pure data, shared by
// the infrastructure (ARNs, queue URL bounds) and the Lambdas.

/** A partition's ARN name and its service endpoints' DNS suffix (e.g. sqs.<region>.<dnsSuffix>). */
export interface Partition {
  id: string;
  dnsSuffix: string;
}

/**
 * Region prefix → partition, most specific first. The DNS suffixes are the `dnsSuffix` outputs of the AWS
 * SDKs' partitions data (smithy/botocore partitions.json, as shipped in @aws-sdk/core 3.981,
 * util-endpoints/lib/aws/partitions.js): amazonaws.com for aws and aws-us-gov, amazonaws.com.cn,
 * amazonaws.eu, c2s.ic.gov, sc2s.sgov.gov, cloud.adc-e.uk, csp.hci.ic.gov.
 */
const PARTITIONS: readonly (readonly [string, Partition])[] = [
  ["cn-", { id: "aws-cn", dnsSuffix: "amazonaws.com.cn" }],
  ["us-gov-", { id: "aws-us-gov", dnsSuffix: "amazonaws.com" }],
  ["us-iso-", { id: "aws-iso", dnsSuffix: "c2s.ic.gov" }],
  ["us-isob-", { id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov" }],
  ["eu-isoe-", { id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk" }],
  ["us-isof-", { id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov" }],
  // The AWS European Sovereign Cloud (eusc-de-east-1): "arn:aws:…" is refused there as an invalid partition.
  ["eusc-", { id: "aws-eusc", dnsSuffix: "amazonaws.eu" }],
];
const STANDARD: Partition = { id: "aws", dnsSuffix: "amazonaws.com" };

/** The partition a region belongs to. */
export function partitionOfRegion(region: string): Partition {
  return PARTITIONS.find(([prefix]) => region.startsWith(prefix))?.[1] ?? STANDARD;
}

/** The partition's name in ARNs: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc. */
export function partitionOf(region: string): string {
  return partitionOfRegion(region).id;
}

/** The domain of a region's service endpoints. */
export function dnsSuffix(region: string): string {
  return partitionOfRegion(region).dnsSuffix;
}

/**
 * The origin of the AWS console for a region's resources (a link needs ?region= too). aws:
 * https://<region>.console.aws.amazon.com (AWS General Reference, "AWS Management Console endpoints").
 * China and GovCloud have consoles of their own, https://console.amazonaws.cn and
 * https://console.amazonaws-us-gov.com. The European Sovereign Cloud's and the ISO partitions' console
 * domains are not confirmed from a public source: those regions keep the aws form.
 */
export function consoleOrigin(region: string): string {
  const partition = partitionOf(region);
  if (partition === "aws-cn") return "https://console.amazonaws.cn";
  if (partition === "aws-us-gov") return "https://console.amazonaws-us-gov.com";
  return `https://${region}.console.aws.amazon.com`;
}
