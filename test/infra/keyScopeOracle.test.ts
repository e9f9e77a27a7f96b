// The key check (keyOutsideScope of routeKeyScope) against the IAM policy routePolicy builds for the
// same route, evaluated with IAM's wildcard rules, over random routes (parsed by parseRoutes, so only routes
// `check` accepts) and random events the route matches (compileMatcher), the key rendered by renderRequest.
import { expect } from "chai";
import fc from "fast-check";
import { compileGlobList } from "../../src/core/globs";
import { keyOutsideScope, routeKeyScope } from "../../src/core/keyPrefixes";
import { compileMatcher } from "../../src/core/match";
import { renderRequest } from "../../src/core/render";
import { parseRoutes } from "../../src/core/routes/parse";
import type { Route, WebhookEvent } from "../../src/core/types";
import { routePolicy, type Statement } from "../../src/infra/policies";
import { deployedRoute } from "../../src/infra/route";
import { propertyScale, runs } from "../support/propertyRuns";

const STACK_BUCKET = "hookgate-stack-artifacts";

/** IAM's ARN / StringLike wildcard match: * any run, ? one character, ${*} ${?} ${$} literal; case-sensitive. */
function iamLike(pattern: string, value: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "$" && pattern[i + 1] === "{") {
      const end = pattern.indexOf("}", i);
      const inner = pattern.slice(i + 2, end);
      if (inner === "*" || inner === "?" || inner === "$") {
        source += `\\${inner}`;
        i = end;
        continue;
      }
      return false; // another policy variable: not resolvable here
    }
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else source += c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "u").test(value);
}

function list<T>(x: T | T[] | undefined): T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

function allows(statements: Statement[], action: string, arn: string, prefixParam?: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== "Allow" || !list(s.Action).includes(action)) return false;
    if (!list(s.Resource).some((r) => iamLike(r, arn))) return false;
    const like = s.Condition?.StringLike?.["s3:prefix"];
    if (like === undefined) return true;
    return prefixParam !== undefined && list(like).some((p) => iamLike(p, prefixParam));
  });
}

function policyOf(route: Route): Statement[] {
  return routePolicy({
    route,
    partition: "aws",
    region: "us-east-1",
    accountId: "123456789012",
    queueArn: "arn:aws:sqs:us-east-1:123456789012:q.fifo",
    deadLetterQueueArn: "arn:aws:sqs:us-east-1:123456789012:d.fifo",
    dedupeTableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/t",
    logGroupName: "/aws/lambda/x",
    bucket: STACK_BUCKET,
  }).Statement;
}

const owner = fc.constantFrom("acme", "Acme", "ACME", "beta", "a.b", "a-b", "A_b");
const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,6}$/).filter((s) => s !== "." && s !== "..");
const plain = fc.tuple(owner, segment).map(([o, s]) => `${o}/${s}`);
const entry = fc.oneof(
  plain,
  owner.map((o) => `${o}/*`),
  owner.map((o) => `${o}/**`),
  fc.tuple(owner, segment).map(([o, s]) => `${o}/${s}-*`),
  fc.constant("{acme,beta}/x"),
  fc.constant("acme/{api,web}"),
  fc.constant("*/api"),
  fc.constant("acme/.github"),
  fc.constant("ac.me/*"),
  fc.constant("acme/x y"),
  fc.constant("acme/é*"),
  fc.constant("acme/api$"),
  plain.map((p) => `!${p}`),
  owner.map((o) => `!${o}/legacy`),
);
const repos = fc.option(fc.array(entry, { minLength: 1, maxLength: 13 }), { nil: undefined });
const piece = fc.constantFrom(
  "{{repo.path}}",
  "{{repo.underscored}}",
  "{{repo.fullName}}",
  "{{repo}}",
  "{{branch}}",
  "{{branch.path}}",
  "{{sha}}",
  "/",
  "zips/",
  "a*b/",
  "q?/",
  "$x/",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, written literally in a key.
  "${aws:username}/",
  "é/",
  "日本/",
  "with space/",
  "./",
  ".",
  "-",
  ".zip",
  "\t",
);
const keyTemplate = fc.oneof(
  fc.constant(undefined),
  fc.array(piece, { minLength: 1, maxLength: 6 }).map((p) => `${p.join("")}/{{sha}}.zip`),
);

function parseRoute(
  reposList: string[] | undefined,
  key: string | undefined,
  ownBucket: boolean,
): Route | undefined {
  const action: Record<string, unknown> = { type: "s3-zip" };
  if (ownBucket) action.bucket = "acme-artifacts";
  if (key !== undefined) action.key = key;
  const doc = {
    version: 1,
    providers: { github: { token: "hookgate/github-token" } },
    routes: [
      {
        name: "zip",
        provider: "github",
        secret: "hookgate/github-webhook",
        match: { ...(reposList ? { repos: reposList } : {}), events: ["push"] },
        action,
      },
    ],
  };
  const { config } = parseRoutes(JSON.stringify(doc), "routes.yaml");
  return config?.routes[0];
}

/** A name for the event: from an entry (its glob instantiated), respelled in random case, or another name. */
const hostName = fc.tuple(
  fc.nat(20),
  segment,
  fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
  fc.constantFrom("acme", "beta", "other"),
);
function nameFor(
  reposList: string[] | undefined,
  [i, seg, flips, fallback]: [number, string, boolean[], string],
): string {
  const includes = (reposList ?? []).filter((r) => !r.startsWith("!"));
  const base =
    includes.length === 0
      ? `${fallback}/${seg}`
      : (includes[i % includes.length] as string)
          .replace("{acme,beta}", "acme")
          .replace("{api,web}", "web")
          .replace("**", seg)
          .replace("*", seg);
  return [...base].map((c, j) => (flips[j] ? c.toUpperCase() : c)).join("");
}

describe("keyOutsideScope against the deployed IAM policy (routePolicy), evaluated with IAM's wildcard rules", function () {
  // Up to 7 s for one property here; a loaded machine took it past mocha's 20 s (no assertion is about time).
  this.timeout(60_000 * propertyScale);
  it("IAM allows PutObject (and the head's ListBucket) on the key <=> keyOutsideScope returns undefined", () => {
    let compared = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        repos,
        keyTemplate,
        fc.boolean(),
        hostName,
        fc.constantFrom("main", "feat/x", "ü"),
        (r, k, own, h, branch) => {
          const spec = parseRoute(r, k, own);
          fc.pre(spec !== undefined);
          const route = spec as Route;
          const fullName = nameFor(r, h);
          const event = {
            provider: "github",
            deliveryId: "d1",
            event: "push",
            repo: { owner: fullName.split("/")[0], name: fullName.split("/")[1], fullName },
            ref: `refs/heads/${branch}`,
            branch,
            sha: "a".repeat(40),
            deleted: false,
            changedFiles: [],
          } as unknown as WebhookEvent;
          fc.pre(compileMatcher(route)(event).matched);
          const deployed = deployedRoute(route, STACK_BUCKET);
          const request = renderRequest(deployed, event);
          if (request.type !== "s3-zip") throw new Error("not s3-zip");
          const statements = policyOf(route);
          const arn = `arn:aws:s3:::${request.bucket}/${request.key}`;
          const iam =
            allows(statements, "s3:PutObject", arn) &&
            allows(statements, "s3:GetObject", arn) &&
            allows(statements, "s3:ListBucket", `arn:aws:s3:::${request.bucket}`, request.key);
          const reason = keyOutsideScope(routeKeyScope(deployed), request.bucket, request.key, fullName);
          compared++;
          if (!iam) refused++;
          expect(
            reason === undefined,
            `repos ${JSON.stringify(r)} key ${JSON.stringify(k)} host ${fullName} rendered ${request.key}: IAM ${iam}, check ${reason}`,
          ).to.equal(iam);
        },
      ),
      { numRuns: runs(300) },
    );
    // The property compared real cases, some of them refused.
    expect(compared).to.be.greaterThan(runs(300) / 2);
    // About a quarter are refused: 20 of 300 or fewer only by an unlikely draw.
    expect(refused).to.be.greaterThan(runs(20));
  });

  it("a key rendered for a repository the route matches in its own letter case is one IAM allows (the policy is sound)", () => {
    fc.assert(
      fc.property(
        repos,
        keyTemplate,
        fc.boolean(),
        hostName,
        fc.constantFrom("main", "feat/x", "ü"),
        (r, k, own, h, branch) => {
          const spec = parseRoute(r, k, own);
          fc.pre(spec !== undefined);
          const route = spec as Route;
          const fullName = nameFor(r, [h[0], h[1], [], h[3]]);
          const event = {
            provider: "github",
            deliveryId: "d1",
            event: "push",
            repo: { owner: fullName.split("/")[0], name: fullName.split("/")[1], fullName },
            ref: `refs/heads/${branch}`,
            branch,
            sha: "a".repeat(40),
            deleted: false,
            changedFiles: [],
          } as unknown as WebhookEvent;
          fc.pre(compileGlobList(r ?? [])(fullName) && compileMatcher(route)(event).matched);
          const deployed = deployedRoute(route, STACK_BUCKET);
          const request = renderRequest(deployed, event);
          if (request.type !== "s3-zip") throw new Error("not s3-zip");
          const arn = `arn:aws:s3:::${request.bucket}/${request.key}`;
          expect(
            allows(policyOf(route), "s3:PutObject", arn),
            `repos ${JSON.stringify(r)} key ${JSON.stringify(k)} host ${fullName} rendered ${request.key}`,
          ).to.equal(true);
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it("pr-cleanup: IAM lets the role list the rendered prefix and delete under it <=> keyOutsideScope(prefix) returns undefined", () => {
    let compared = 0;
    let refused = 0;
    const prefixTemplate = fc
      .array(piece, { minLength: 1, maxLength: 5 })
      .map((p) => `${p.join("")}/pr-{{pr.number}}/`);
    fc.assert(
      fc.property(
        repos,
        prefixTemplate,
        fc.option(prefixTemplate, { nil: undefined }),
        hostName,
        (r, p1, p2, h) => {
          const steps: unknown[] = [{ "delete-s3-prefix": { bucket: "acme-previews", prefix: p1 } }];
          if (p2 !== undefined) steps.push({ "delete-s3-prefix": { bucket: "acme-previews", prefix: p2 } });
          const doc = {
            version: 1,
            providers: { github: { token: "hookgate/github-token" } },
            routes: [
              {
                name: "clean",
                provider: "github",
                secret: "hookgate/github-webhook",
                match: { ...(r ? { repos: r } : {}), events: ["pull_request"], actions: ["closed"] },
                action: { type: "pr-cleanup", steps },
              },
            ],
          };
          const route = parseRoutes(JSON.stringify(doc), "routes.yaml").config?.routes[0];
          fc.pre(route !== undefined);
          const fullName = nameFor(r, h);
          const event = {
            provider: "github",
            deliveryId: "d1",
            event: "pull_request",
            action: "closed",
            repo: { owner: fullName.split("/")[0], name: fullName.split("/")[1], fullName },
            branch: "main",
            pr: {
              number: 7,
              merged: true,
              state: "closed",
              headRef: "feat/x",
              baseRef: "main",
              headSha: "a".repeat(40),
            },
            deleted: false,
            changedFiles: [],
          } as unknown as WebhookEvent;
          fc.pre(compileMatcher(route as Route)(event).matched);
          const request = renderRequest(route as Route, event);
          if (request.type !== "pr-cleanup") throw new Error("not pr-cleanup");
          const statements = policyOf(route as Route);
          for (const step of request.steps) {
            if (step.kind !== "delete-s3-prefix") continue;
            const iam =
              allows(statements, "s3:ListBucket", `arn:aws:s3:::${step.bucket}`, step.prefix) &&
              allows(statements, "s3:DeleteObject", `arn:aws:s3:::${step.bucket}/${step.prefix}x`);
            const reason = keyOutsideScope(
              routeKeyScope(route as Route),
              step.bucket,
              step.prefix,
              fullName,
              "prefix",
            );
            compared++;
            if (!iam) refused++;
            expect(
              reason === undefined,
              `repos ${JSON.stringify(r)} ${p1} ${p2} host ${fullName} rendered ${step.prefix}: IAM ${iam}, check ${reason}`,
            ).to.equal(iam);
          }
        },
      ),
      { numRuns: runs(150) },
    );
    // Some 10 of 150 are refused: none only by an unlikely draw.
    expect(compared).to.be.greaterThan(runs(150) / 2);
    expect(refused).to.be.greaterThan(0);
  });
});
