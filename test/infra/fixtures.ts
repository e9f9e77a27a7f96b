// Compiled routes and stack configs for the infra tests (the same shapes routes.yaml compiles to).
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import type { Route } from "../../src/core/types";
import type { CodeProvider } from "../../src/infra/bundle";
import { parseStackConfig, type StackConfig, StackConfigError } from "../../src/infra/config";

const auth = { allowIps: [], allowSha1: false, toleranceSeconds: 300 };
const jenkins = {
  url: "https://jenkins.internal.example.com:8443",
  credentials: "hookgate/jenkins",
  crumb: false,
};
const githubApi = {
  provider: "github" as const,
  apiUrl: "https://api.github.com",
  token: "hookgate/github-token",
};

export function jenkinsRoute(name = "api-build", repos = ["acme/api"]): Route {
  return {
    name,
    provider: "github",
    secret: "hookgate/github-webhook",
    auth,
    match: { repos, events: ["push"], branches: ["main"] },
    action: { type: "jenkins", jenkins, job: "api/build", parameters: { SHA: "{{sha}}" } },
  };
}

export function s3ZipRoute(name = "source-zip", bucket?: string): Route {
  return {
    name,
    provider: "github",
    secret: "hookgate/github-webhook",
    auth,
    match: { repos: ["acme/*"], events: ["push"], branches: ["main"] },
    action: {
      type: "s3-zip",
      api: githubApi,
      key: "zips/{{owner}}/{{repo}}/{{branch}}/{{owner}}_{{repo}}.zip",
      ...(bucket ? { bucket } : {}),
    },
  };
}

export function prCleanupRoute(name = "pr-cleanup"): Route {
  return {
    name,
    provider: "github",
    secret: "hookgate/github-webhook",
    auth,
    match: { repos: ["acme/web", "acme/*-service"], events: ["pull_request"], actions: ["closed"] },
    action: {
      type: "pr-cleanup",
      api: githubApi,
      jenkins: { ...jenkins, credentials: "hookgate/jenkins-teardown" },
      steps: [
        { kind: "delete-branch", onlyMerged: true },
        { kind: "delete-s3-prefix", bucket: "acme-previews", prefix: "previews/{{repo}}/pr-{{pr.number}}/" },
        { kind: "jenkins", job: "previews/teardown", parameters: { PR: "{{pr.number}}" } },
      ],
    },
  };
}

export function gitlabRoute(name = "platform-gitlab"): Route {
  return {
    name,
    provider: "gitlab",
    secret: "hookgate/gitlab-webhook",
    auth,
    match: { repos: ["platform/*"], events: ["push"] },
    action: { type: "jenkins", jenkins, job: "platform/build", parameters: {} },
  };
}

export function allKinds(): Route[] {
  return [jenkinsRoute(), s3ZipRoute(), prCleanupRoute(), gitlabRoute()];
}

export function config(raw: Record<string, unknown> = {}): StackConfig {
  return parseStackConfig(raw);
}

/** The problems parseStackConfig refuses `raw` with (the test fails if it accepts it). */
export function configProblems(
  raw: Record<string, unknown>,
  otherKeys: readonly string[] = [],
): readonly string[] {
  try {
    parseStackConfig(raw, otherKeys);
  } catch (error) {
    expect(error).to.be.instanceOf(StackConfigError);
    return (error as StackConfigError).problems;
  }
  expect.fail("parseStackConfig accepted an invalid configuration");
}

/** A tiny stand-in for the handler bundles, for tests about everything but the code. */
export const stubCode: CodeProvider = (kind) =>
  new pulumi.asset.AssetArchive({
    "index.js": new pulumi.asset.StringAsset(`exports.handler=async()=>"${kind}";`),
  });

/** The Lambdas' security group's first egress rule, in every stack: HTTPS to anywhere. */
export const HTTPS_RULE = {
  description: "HTTPS: AWS APIs, the Git host API, Jenkins on 443",
  protocol: "tcp",
  fromPort: 443,
  toPort: 443,
  cidrBlocks: ["0.0.0.0/0"],
};
