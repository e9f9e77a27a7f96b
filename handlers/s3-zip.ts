// Lambda entry point for routes whose action is `s3-zip`: the route handler, the archive download
// and re-zip, and the S3 object store (multipart uploads).
import { lambdaHandler } from "../src/aws/lambdaRuntime";
import { s3ObjectStore } from "../src/aws/s3Runtime";
import { ActionError } from "../src/core/errors";

export const handler = lambdaHandler(
  async (item, clients) => {
    if (item.request.type !== "s3-zip") {
      throw new ActionError(`this function runs s3-zip actions, not "${item.request.type}"`, {
        retryable: false,
      });
    }
    // Loaded on the first work-path call: a receive-path cold start never evaluates undici or the zip code.
    const { uploadSourceZip } = require("../src/actions/s3Zip") as typeof import("../src/actions/s3Zip");
    return uploadSourceZip(item.request, item.event, clients, { acceptedAt: item.acceptedAt });
  },
  { objects: s3ObjectStore },
);
