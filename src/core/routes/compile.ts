// The validated routes.yaml document -> RoutesConfig: defaults merged, provider APIs and Jenkins targets resolved.
// Only call this on a document that passed validation (parseRoutes does); it trusts the shape.
import type {
  ActionSpec,
  JenkinsTarget,
  MatchSpec,
  PrCleanupStepSpec,
  Provider,
  ProviderApi,
  Route,
  RouteAuth,
  RoutesConfig,
  TemplateMap,
} from "../types";
import { targetUrlText } from "./checks";
import {
  DEFAULT_API_URLS,
  DEFAULT_AUTH,
  DEFAULT_DELETE_ONLY_MERGED,
  DEFAULT_PROVIDER,
  DEFAULT_S3_KEY,
} from "./defaults";
import type { ActionDoc, JenkinsTargetDoc, ParametersDoc, RouteDoc, RoutesDoc } from "./document";

export function compileRoutes(doc: RoutesDoc): RoutesConfig {
  const routes = doc.routes.map((route) => compileRoute(doc, route));
  const githubApiUrl = doc.providers?.github?.apiUrl;
  return githubApiUrl
    ? { version: 1, routes, githubApiUrl: trimTrailingSlashes(githubApiUrl) }
    : { version: 1, routes };
}

export function compileRoute(doc: RoutesDoc, route: RouteDoc): Route {
  const provider = effectiveProvider(doc, route);
  const secret = route.secret ?? doc.defaults?.secret;
  const compiled: Route = {
    name: route.name,
    provider,
    auth: effectiveAuth(doc, route),
    match: compileMatch(route),
    action: compileAction(doc, provider, route.action, route.name),
  };
  if (secret !== undefined) compiled.secret = secret;
  return compiled;
}

export function effectiveProvider(
  doc: Pick<RoutesDoc, "defaults">,
  route: Pick<RouteDoc, "provider">,
): Provider {
  return route.provider ?? doc.defaults?.provider ?? DEFAULT_PROVIDER;
}

export function effectiveAuth(doc: Pick<RoutesDoc, "defaults">, route: Pick<RouteDoc, "auth">): RouteAuth {
  const own = route.auth ?? {};
  const shared = doc.defaults?.auth ?? {};
  return {
    allowIps: [...(own.allowIps ?? shared.allowIps ?? DEFAULT_AUTH.allowIps)],
    allowSha1: own.allowSha1 ?? shared.allowSha1 ?? DEFAULT_AUTH.allowSha1,
    toleranceSeconds: own.toleranceSeconds ?? shared.toleranceSeconds ?? DEFAULT_AUTH.toleranceSeconds,
  };
}

/**
 * The Jenkins controller for an action: its own `jenkins` block, else `defaults.jenkins`, else the top-level
 * `jenkins`. The most specific block is taken whole (never merged field by field), so credentials meant for
 * one controller are never sent to another.
 */
export function jenkinsTargetDocFor(
  doc: Pick<RoutesDoc, "jenkins" | "defaults">,
  own: JenkinsTargetDoc | undefined,
): JenkinsTargetDoc | undefined {
  return own ?? doc.defaults?.jenkins ?? doc.jenkins;
}

/**
 * The API base URL, token and CA bundle for a provider: the action's token wins over providers.<p>.token.
 * The CA bundle belongs to the host, like its URL: only providers.<p> sets it.
 */
export function providerApiDocFor(
  doc: Pick<RoutesDoc, "providers">,
  provider: Provider,
  actionToken: string | undefined,
): { apiUrl?: string; token?: string; caBundle?: string } {
  const configured = doc.providers?.[provider];
  return {
    apiUrl: configured?.apiUrl ?? DEFAULT_API_URLS[provider],
    token: actionToken ?? configured?.token,
    caBundle: configured?.caBundle,
  };
}

function compileMatch(route: RouteDoc): MatchSpec {
  const match: MatchSpec = {};
  const source = route.match ?? {};
  for (const key of ["repos", "events", "actions", "branches", "tags", "paths", "actors"] as const) {
    const list = source[key];
    if (list !== undefined) match[key] = [...list];
  }
  if (source.merged !== undefined) match.merged = source.merged;
  if (source.deleted !== undefined) match.deleted = source.deleted;
  return match;
}

function compileAction(doc: RoutesDoc, provider: Provider, action: ActionDoc, routeName: string): ActionSpec {
  switch (action.type) {
    case "jenkins":
      return {
        type: "jenkins",
        jenkins: requireJenkins(doc, action.jenkins, routeName),
        job: action.job,
        parameters: compileParameters(action.parameters),
      };
    case "s3-zip": {
      const spec: ActionSpec = {
        type: "s3-zip",
        api: requireApi(doc, provider, action.token, routeName),
        key: action.key ?? DEFAULT_S3_KEY,
      };
      if (action.bucket !== undefined) spec.bucket = action.bucket;
      if (action.serverSideEncryption !== undefined) spec.serverSideEncryption = action.serverSideEncryption;
      if (action.kmsKeyId !== undefined) spec.kmsKeyId = action.kmsKeyId;
      return spec;
    }
    case "pr-cleanup": {
      const steps: PrCleanupStepSpec[] = action.steps.map((step) => {
        if ("delete-branch" in step) {
          return {
            kind: "delete-branch",
            onlyMerged: step["delete-branch"]?.onlyMerged ?? DEFAULT_DELETE_ONLY_MERGED,
          };
        }
        if ("delete-s3-prefix" in step) {
          const { bucket, prefix } = step["delete-s3-prefix"];
          return { kind: "delete-s3-prefix", bucket, prefix };
        }
        return {
          kind: "jenkins",
          job: step.jenkins.job,
          parameters: compileParameters(step.jenkins.parameters),
        };
      });
      const spec: ActionSpec = {
        type: "pr-cleanup",
        api: requireApi(doc, provider, action.token, routeName),
        steps,
      };
      if (steps.some((step) => step.kind === "jenkins"))
        spec.jenkins = requireJenkins(doc, action.jenkins, routeName);
      if (action.targetUrl !== undefined) spec.targetUrl = targetUrlText(action.targetUrl);
      return spec;
    }
  }
}

function compileParameters(parameters: ParametersDoc | undefined): TemplateMap {
  // Defined, not assigned: `out["__proto__"] = ...` would set the prototype and drop the parameter.
  return Object.fromEntries(Object.entries(parameters ?? {}).map(([name, value]) => [name, String(value)]));
}

function requireJenkins(doc: RoutesDoc, own: JenkinsTargetDoc | undefined, routeName: string): JenkinsTarget {
  const target = jenkinsTargetDocFor(doc, own);
  // parseRoutes reports this with a position; reaching it means compile ran on an unvalidated document.
  if (!target) throw new Error(`route "${routeName}" has no Jenkins target`);
  const compiled: JenkinsTarget = {
    url: trimTrailingSlashes(target.url),
    credentials: target.credentials,
    crumb: target.crumb ?? false,
  };
  if (target.caBundle !== undefined) compiled.caBundle = target.caBundle;
  return compiled;
}

function requireApi(
  doc: RoutesDoc,
  provider: Provider,
  token: string | undefined,
  routeName: string,
): ProviderApi {
  const api = providerApiDocFor(doc, provider, token);
  if (!api.apiUrl || !api.token)
    throw new Error(`route "${routeName}" has no API URL or token for ${provider}`);
  const compiled: ProviderApi = { provider, apiUrl: trimTrailingSlashes(api.apiUrl), token: api.token };
  if (api.caBundle !== undefined) compiled.caBundle = api.caBundle;
  return compiled;
}

function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, "");
}
