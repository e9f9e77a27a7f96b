// The shape of routes.yaml as written (after JSON Schema validation), before defaults are merged.
// routes.schema.json is the source of truth; these types mirror it.
import type { Provider, ServerSideEncryption } from "../types";

export interface JenkinsTargetDoc {
  url: string;
  credentials: string;
  caBundle?: string;
  crumb?: boolean;
}

export interface ProviderApiDoc {
  apiUrl?: string;
  token?: string;
  caBundle?: string;
}

export interface AuthDoc {
  allowIps?: string[];
  allowSha1?: boolean;
  toleranceSeconds?: number;
}

export type ParametersDoc = Record<string, string | number | boolean>;

export interface JenkinsActionDoc {
  type: "jenkins";
  job: string;
  parameters?: ParametersDoc;
  jenkins?: JenkinsTargetDoc;
}

export interface S3ZipActionDoc {
  type: "s3-zip";
  token?: string;
  bucket?: string;
  key?: string;
  serverSideEncryption?: ServerSideEncryption;
  kmsKeyId?: string;
}

export type PrCleanupStepDoc =
  | { "delete-branch": { onlyMerged?: boolean } | null }
  | { "delete-s3-prefix": { bucket: string; prefix: string } }
  | { jenkins: { job: string; parameters?: ParametersDoc } };

export interface PrCleanupActionDoc {
  type: "pr-cleanup";
  token?: string;
  targetUrl?: string;
  jenkins?: JenkinsTargetDoc;
  steps: PrCleanupStepDoc[];
}

export type ActionDoc = JenkinsActionDoc | S3ZipActionDoc | PrCleanupActionDoc;

export interface MatchDoc {
  repos?: string[];
  events?: string[];
  actions?: string[];
  branches?: string[];
  tags?: string[];
  paths?: string[];
  actors?: string[];
  merged?: boolean;
  deleted?: boolean;
}

export interface RouteDoc {
  name: string;
  description?: string;
  provider?: Provider;
  secret?: string;
  auth?: AuthDoc;
  match: MatchDoc;
  action: ActionDoc;
}

export interface RoutesDoc {
  version: 1;
  providers?: Partial<Record<Provider, ProviderApiDoc>>;
  jenkins?: JenkinsTargetDoc;
  defaults?: {
    provider?: Provider;
    secret?: string;
    jenkins?: JenkinsTargetDoc;
    auth?: AuthDoc;
  };
  routes: RouteDoc[];
}
