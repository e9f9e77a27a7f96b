// The object store for the functions whose actions write to S3 (s3-zip, pr-cleanup). Kept apart
// from lambdaRuntime.ts so the Jenkins bundle never pulls in @aws-sdk/client-s3 or lib-storage.
import type { ObjectStore } from "../core/ports";
import type { RuntimeConfig } from "./lambdaRuntime";

/**
 * The S3 client's connection settings (serve's --s3-endpoint client too). Multipart parts can take a while on a
 * slow link: a short connect timeout, no short request timeout (the work path's deadline cuts a call that hangs).
 */
export const S3_REQUEST_HANDLER = { connectionTimeout: 3_000 } as const;

/**
 * The S3 client and lib-storage are loaded on the first call (a work-path call), so a cold start on
 * the receive path, which must answer inside the Git host's 10 s window, does not evaluate them.
 */
export function s3ObjectStore(config: RuntimeConfig): ObjectStore {
  let store: ObjectStore | undefined;
  const load = (): ObjectStore => {
    if (store === undefined) {
      const { S3Client } = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
      const { S3ObjectStore } = require("./objectStore") as typeof import("./objectStore");
      // followRegionRedirects stays off (the SDK calls it "a last resort if you do not know the region of
      // your bucket(s)"): it would send every request twice, the first one to be refused with a 301, and
      // swap the shared client's region while parts are in flight; and another region's S3 is beyond the
      // VPC's gateway endpoint. A bucket in another region fails final, and says so (s3Zip's storeError).
      store = new S3ObjectStore(new S3Client({ region: config.region, requestHandler: S3_REQUEST_HANDLER }));
    }
    return store;
  };
  return {
    put: (bucket, key, body, options) => load().put(bucket, key, body, options),
    head: (bucket, key, options) => load().head(bucket, key, options),
    deletePrefix: (bucket, prefix, options) => load().deletePrefix(bucket, prefix, options),
  };
}
