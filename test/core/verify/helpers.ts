// Small builders for verifier tests: a request as API Gateway would hand it over.
import { headerBag } from "../../../src/core/headers";
import { DEFAULT_TOLERANCE_SECONDS } from "../../../src/core/policy";
import type { Provider, RouteAuth } from "../../../src/core/types";
import type { VerifyInput } from "../../../src/core/verify";

export const SECRET = "It's a Secret to Everybody";
export const OTHER_SECRET = "It's a Secret to Somebody Else";

export function auth(overrides: Partial<RouteAuth> = {}): RouteAuth {
  return { allowIps: [], allowSha1: false, toleranceSeconds: DEFAULT_TOLERANCE_SECONDS, ...overrides };
}

export interface RequestSpec {
  provider?: Provider;
  headers?: Record<string, string | string[]>;
  body: Buffer | string;
  secrets?: readonly string[];
  auth?: Partial<RouteAuth>;
  sourceIp?: string;
  nowMs?: number;
}

/** A VerifyInput; array-valued headers go through multiValueHeaders, like API Gateway REST. */
export function request(spec: RequestSpec): VerifyInput {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (Array.isArray(value)) {
      multi[name] = value;
      if (value.length > 0) single[name] = value[value.length - 1] as string;
    } else {
      single[name] = value;
      multi[name] = [value];
    }
  }
  return {
    provider: spec.provider ?? "github",
    headers: headerBag(single, multi),
    body: typeof spec.body === "string" ? Buffer.from(spec.body, "utf8") : spec.body,
    secrets: spec.secrets ?? [SECRET],
    auth: auth(spec.auth),
    sourceIp: spec.sourceIp,
    nowMs: spec.nowMs,
  };
}

/** GitHub's JSON style: 2-space indent, a final newline, \u escapes in upper case (octokit's helper). */
export function githubJson(payload: unknown): string {
  return `${JSON.stringify(payload, null, 2)}\n`.replace(
    /(?<!\\)\\u([\da-f]{4})/g,
    (_m, hex: string) => `\\u${hex.toUpperCase()}`,
  );
}
