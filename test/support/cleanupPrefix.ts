// A pr-cleanup route of acme/api with one delete-s3-prefix step, and the prefix one of its pull requests renders:
// what the prefix rules' tests parse and render (branchPrefixes, branchFoldersNote, numberIntoBranch and
// numberIntoPayloadBranch).
import { parseRoutes } from "../../src/core/routes/parse";
import { renderTemplate } from "../../src/core/templates";
import type { WebhookEvent } from "../../src/core/types";

/** routes.yaml with the one route, "cleanup", deleting under `prefix`. */
export function cleanupRoutesFile(prefix: string, provider = "github", repos = "[acme/api]"): string {
  return [
    "version: 1",
    `defaults: { secret: hooks/s, provider: ${provider} }`,
    `providers: { ${provider}: { token: t/gh } }`,
    "routes:",
    "  - name: cleanup",
    `    match: { repos: ${repos}, events: [pull_request], actions: [closed] }`,
    `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
  ].join("\n");
}

/** The problems' messages of that file. */
export function cleanupPrefixProblems(prefix: string, provider = "github", repos = "[acme/api]"): string[] {
  return parseRoutes(cleanupRoutesFile(prefix, provider, repos), "routes.yaml").problems.map(
    (p) => p.message,
  );
}

/** One closed pull request, of acme/api unless `repo` names another repository ("owner/name"). */
export interface ClosedPullRequest {
  repo?: string;
  number: number;
  headRef: string;
  baseRef?: string;
  headSha?: string;
  provider?: string;
  payload?: unknown;
}

/** The prefix that pull request deletes under. */
export function renderedCleanupPrefix(prefix: string, pr: ClosedPullRequest): string {
  const baseRef = pr.baseRef ?? "main";
  const fullName = pr.repo ?? "acme/api";
  const slash = fullName.lastIndexOf("/");
  const event = {
    provider: pr.provider ?? "github",
    deliveryId: "d-1",
    event: "pull_request",
    action: "closed",
    repo: {
      owner: fullName.slice(0, slash),
      name: fullName.slice(slash + 1),
      fullName,
      defaultBranch: "main",
    },
    branch: baseRef,
    deleted: false,
    changedFiles: [],
    payload: pr.payload ?? {},
    pr: {
      number: pr.number,
      merged: true,
      state: "closed",
      headRef: pr.headRef,
      baseRef,
      headSha: pr.headSha ?? "0".repeat(40),
    },
  } as unknown as WebhookEvent;
  return renderTemplate(prefix, event, "s3-key");
}
