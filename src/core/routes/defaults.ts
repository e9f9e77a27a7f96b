// Defaults applied when routes.yaml leaves a key out. One place, so docs and code agree.
import { DEFAULT_TOLERANCE_SECONDS } from "../policy";
import type { Provider, RouteAuth } from "../types";

/** The provider of a route that names none (and of `hookgate explain` without --provider). */
export const DEFAULT_PROVIDER: Provider = "github";

/** Public REST APIs. bitbucket-server and gitea are self-hosted: their apiUrl must be configured. */
export const DEFAULT_API_URLS: Readonly<Partial<Record<Provider, string>>> = Object.freeze({
  github: "https://api.github.com",
  gitlab: "https://gitlab.com/api/v4",
  bitbucket: "https://api.bitbucket.org/2.0",
});

/**
 * The server URL of a Bitbucket Data Center REST API base (https://HOST[/context]/rest/api/latest, or
 * /1.0): its other REST modules (branch-utils) and its web pages live there. Undefined for another shape.
 */
export function dataCenterServerUrl(apiUrl: string): string | undefined {
  return /^(.*)\/rest\/api\/[^/]+$/.exec(apiUrl.replace(/\/+$/, ""))?.[1];
}

/**
 * The quickstart-git2s3 layout (its GitPullS3 function: `<full name>/branch/<branch>/` then the same with
 * every "/" as "_", `.zip`), so existing CodePipeline S3 source actions keep working:
 * acme/api/branch/feature/x/acme_api_branch_feature_x.zip.
 */
export const DEFAULT_S3_KEY =
  "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip";

export const DEFAULT_AUTH: Readonly<RouteAuth> = Object.freeze({
  allowIps: [],
  allowSha1: false,
  toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
});

/** `delete-branch` without `onlyMerged` only deletes the head branch of a merged pull request. */
export const DEFAULT_DELETE_ONLY_MERGED = true;

/** `hookgate check` and `explain` read this file when --routes is not given. */
export const DEFAULT_ROUTES_FILE = "routes.yaml";
