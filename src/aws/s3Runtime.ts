// The object store for the functions whose actions write to S3 (s3-zip, pr-cleanup). Kept apart
// from lambdaRuntime.ts so the Jenkins bundle never pulls in @aws-sdk/client-s3 or lib-storage.
import { S3Client } from "@aws-sdk/client-s3";
import type { ObjectStore } from "../core/ports";
import type { RuntimeConfig } from "./lambdaRuntime";
import { S3ObjectStore } from "./objectStore";

export function s3ObjectStore(config: RuntimeConfig): ObjectStore {
  // Multipart parts can take a while on a slow link: a short connect timeout, no short request timeout.
  return new S3ObjectStore(
    new S3Client({ region: config.region, requestHandler: { connectionTimeout: 3_000 } }),
  );
}
