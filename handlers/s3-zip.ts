// Lambda entry point for routes whose action is `s3-zip`: the route handler, the archive download
// and re-zip, and the S3 object store (multipart uploads).

import { runItem } from "../src/actions/runItem";
import { lambdaHandler } from "../src/aws/lambdaRuntime";
import { s3ObjectStore } from "../src/aws/s3Runtime";

export const handler = lambdaHandler(
  async (item, clients) => {
    // Loaded on the first work-path call: a receive-path cold start never evaluates undici or the zip code.
    const { runS3ZipItem } = require("../src/actions/s3Zip") as typeof import("../src/actions/s3Zip");
    return runItem(runS3ZipItem, item, clients);
  },
  { objects: s3ObjectStore },
);
