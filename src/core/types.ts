// The shared model of hookgate. Pure data: no AWS, no Pulumi, no I/O.
// Every module builds on these shapes; change them additively and on purpose.

export const PROVIDERS = ["github", "gitlab", "bitbucket", "bitbucket-server", "gitea"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Request headers, names lower-cased, every value kept (duplicates are a signal, never merged). */
export type HeaderBag = ReadonlyMap<string, readonly string[]>;

// ---------------------------------------------------------------------------------------------
// The WebhookEvent model (DESIGN.md): every provider's delivery is normalised into this.
// ---------------------------------------------------------------------------------------------

export interface RepoRef {
  owner: string;
  name: string;
  /** owner/name; for GitLab subgroups the whole namespace path: group/sub/name. */
  fullName: string;
  cloneUrl?: string;
  defaultBranch?: string;
}

export interface PullRequestRef {
  number: number;
  merged: boolean;
  /** open | closed | merged, as the provider reported it in this delivery. */
  state?: string;
  headRef: string;
  baseRef: string;
  headSha: string;
  /** The head's repository; differs from repo.fullName for a pull request from a fork. */
  headRepoFullName?: string;
  /**
   * When the pull request last changed as this delivery shows it (ISO 8601, UTC): the latest of the payload's
   * update and close times. A closing event's is its close: pr-cleanup tells by it whether the API's answer
   * of the pull request is older than the close (a read replica behind the webhook) or newer (reopened since).
   */
  updatedAt?: string;
}

export interface WebhookEvent {
  provider: Provider;
  deliveryId: string;
  /** GitHub-style event name: push, pull_request, release, create, delete, ping, ... */
  event: string;
  action?: string;
  repo: RepoRef;
  ref?: string;
  branch?: string;
  tag?: string;
  sha?: string;
  before?: string;
  /** A push that deleted its ref (after = all zeros). */
  deleted: boolean;
  /**
   * Set only on a push the payload shows to be a plain fast-forward of a branch: it has a real before, did
   * not create or delete the branch, and was not forced (GitHub's and Bitbucket Cloud's `forced: false`) or
   * listed the commits it added (GitLab, Gitea: a rewind lists none). Never for a tag, nor for Bitbucket
   * Data Center, whose payload cannot tell a force-push. Absent means no evidence, not a force-push: s3-zip
   * skips a push as an older one delivered late only with it (core/zipOrder).
   */
  fastForward?: true;
  pr?: PullRequestRef;
  actor?: string;
  /** Files added, modified or removed by the commits of a push. */
  changedFiles: string[];
  /** The parsed original payload, for {{payload.*}} templates. Never put on a queue. */
  payload: unknown;
  /**
   * The push's further ref changes, when one delivery carries several (Bitbucket): each a push event of
   * its own, with the delivery id `<id>#<n>` for the n-th change (the first change is this event).
   */
  otherChanges?: WebhookEvent[];
}

/** What travels on the queue: the event without the bulky parts. */
export type QueuedEvent = Omit<WebhookEvent, "payload" | "changedFiles" | "otherChanges">;

// ---------------------------------------------------------------------------------------------
// Routes: the compiled form of routes.yaml (defaults merged, provider APIs resolved).
// This JSON is what the deployed function receives in HOOKGATE_ROUTE.
// ---------------------------------------------------------------------------------------------

/** Filters; each list holds globs, where a leading "!" excludes. Absent means "any". */
export interface MatchSpec {
  repos?: string[];
  events?: string[];
  actions?: string[];
  branches?: string[];
  tags?: string[];
  paths?: string[];
  actors?: string[];
  merged?: boolean;
  /**
   * Pushes that deleted their branch or tag. Absent: such pushes never match (a deletion is not built
   * or zipped unless asked). true: only deletions match; false: deletions never match.
   */
  deleted?: boolean;
}

export interface RouteAuth {
  /** CIDRs for the fallback used only when a request carries no signature at all. */
  allowIps: string[];
  /** Accept GitHub's legacy X-Hub-Signature (SHA-1). Off unless the route opts in. */
  allowSha1: boolean;
  /** Standard Webhooks (GitLab signing token) timestamp tolerance. */
  toleranceSeconds: number;
}

/** How to reach a Jenkins controller. Secret fields hold Secrets Manager *names*. */
export interface JenkinsTarget {
  url: string;
  /** Secret JSON {"user": "...", "token": "..."}. */
  credentials: string;
  /** Secret holding a PEM bundle of private CAs, added to the default trust store. */
  caBundle?: string;
  /** Fetch a CSRF crumb first (only needed when not using an API token). */
  crumb: boolean;
}

/** A Git host's REST API. `token` and `caBundle` are Secrets Manager names. */
export interface ProviderApi {
  provider: Provider;
  apiUrl: string;
  token?: string;
  /** Secret holding a PEM bundle of private CAs, added to the default trust store (a self-hosted host). */
  caBundle?: string;
}

export type TemplateMap = Record<string, string>;

export interface JenkinsActionSpec {
  type: "jenkins";
  jenkins: JenkinsTarget;
  /** Template; "/" separates folders: api/build -> /job/api/job/build. */
  job: string;
  parameters: TemplateMap;
}

export interface S3ZipActionSpec {
  type: "s3-zip";
  api: ProviderApi;
  /** Absent in routes.yaml means "the stack's artifact bucket"; the deployed route always has one. */
  bucket?: string;
  /** Template; default DEFAULT_S3_KEY, the quickstart-git2s3 layout */
  key: string;
  /** Sent on the upload (x-amz-server-side-encryption); absent: the bucket's default encryption. */
  serverSideEncryption?: ServerSideEncryption;
  /** With aws:kms: the customer managed key's ARN. */
  kmsKeyId?: string;
}

/** What s3-zip asks S3 to encrypt its zip with (PutObject's and CreateMultipartUpload's ServerSideEncryption). */
export type ServerSideEncryption = "AES256" | "aws:kms";

export type PrCleanupStepSpec =
  | { kind: "delete-branch"; onlyMerged: boolean }
  | { kind: "delete-s3-prefix"; bucket: string; prefix: string }
  | { kind: "jenkins"; job: string; parameters: TemplateMap };

export interface PrCleanupActionSpec {
  type: "pr-cleanup";
  api: ProviderApi;
  steps: PrCleanupStepSpec[];
  /** Needed when a step is `jenkins`. */
  jenkins?: JenkinsTarget;
  /** Template for the commit status link (the run's logs), when known. */
  targetUrl?: string;
}

export type ActionSpec = JenkinsActionSpec | S3ZipActionSpec | PrCleanupActionSpec;
export type ActionType = ActionSpec["type"];

export interface Route {
  /** [a-z0-9-]; the URL path is /hooks/<name>. */
  name: string;
  provider: Provider;
  /** Secrets Manager name of the webhook secret. */
  secret?: string;
  auth: RouteAuth;
  match: MatchSpec;
  action: ActionSpec;
}

export interface RoutesConfig {
  version: 1;
  routes: Route[];
  /** providers.github.apiUrl when set (GitHub Enterprise Server): where the stack manages webhooks. */
  githubApiUrl?: string;
  /** Notes on the file itself (a key nothing reads), each "FILE:LINE:COL: message"; none when absent. */
  notes?: string[];
}

/** One problem in routes.yaml, positioned at the offending key or value (1-based). */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Decisions and work items
// ---------------------------------------------------------------------------------------------

export interface MatchDecision {
  route: string;
  matched: boolean;
  /** Readable either way: 'branch "feature/x" does not match [main, release/*]'. */
  reason: string;
}

export interface JenkinsRequest {
  type: "jenkins";
  jenkins: JenkinsTarget;
  /** Folder path segments, already rendered, NOT yet URL-encoded: ["api", "build"]. */
  job: string[];
  parameters: Record<string, string>;
}

export interface S3ZipRequest {
  type: "s3-zip";
  api: ProviderApi;
  bucket: string;
  key: string;
  serverSideEncryption?: ServerSideEncryption;
  kmsKeyId?: string;
}

export type PrCleanupStep =
  | { kind: "delete-branch"; onlyMerged: boolean }
  | { kind: "delete-s3-prefix"; bucket: string; prefix: string }
  | { kind: "jenkins"; request: JenkinsRequest };

export interface PrCleanupRequest {
  type: "pr-cleanup";
  api: ProviderApi;
  /** Commit status context: hookgate/<route>. */
  context: string;
  targetUrl?: string;
  steps: PrCleanupStep[];
}

/** An action with every template rendered at receive time. */
export type ActionRequest = JenkinsRequest | S3ZipRequest | PrCleanupRequest;

/** The queue message body. Small by design: SQS messages are limited to 1 MiB (MAX_WORK_ITEM_BYTES). */
export interface WorkItem {
  v: 1;
  route: string;
  deliveryId: string;
  /** Bumped each time the same delivery is accepted again after it died. */
  generation: number;
  /**
   * When the gateway first accepted this delivery id (ISO time): a redriven message and a redelivery of one
   * that died keep it, so s3-zip can tell an old push from a newer one.
   */
  acceptedAt: string;
  event: QueuedEvent;
  request: ActionRequest;
}

export interface ActionOutcome {
  status: "done" | "skipped";
  /** Short, log-safe: 'queued as https://jenkins/queue/item/42/', 'skipped: deleted branch'. */
  detail: string;
  /**
   * The detail as it may be shown outside the logs (a pull request's commit status, public on a public
   * repository), when `detail` names a private address: 'queued as queue item 42'.
   */
  publicDetail?: string;
}
