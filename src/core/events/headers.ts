// Which event a delivery is and its delivery id, read from the headers (or the payload when they lack one).
import { createHash } from "node:crypto";
import { RequestError } from "../errors";
import { singleHeader } from "../headers";
import type { HeaderBag, Provider } from "../types";
import { entry, type Json, obj, str } from "./fields";

/** The header that names the event, per provider, in order of preference. */
export const EVENT_HEADERS: Readonly<Record<Provider, readonly string[]>> = {
  github: ["x-github-event"],
  gitlab: ["x-gitlab-event"],
  bitbucket: ["x-event-key"],
  "bitbucket-server": ["x-event-key"],
  gitea: ["x-gitea-event", "x-forgejo-event", "x-gogs-event", "x-github-event"],
};

/** A GitLab payload's object_kind -> the X-Gitlab-Event it is sent with (GitLab's "Webhook events" page). */
const GITLAB_KIND_TO_HEADER: Readonly<Record<string, string>> = {
  push: "Push Hook",
  tag_push: "Tag Push Hook",
  merge_request: "Merge Request Hook",
  issue: "Issue Hook",
  note: "Note Hook",
  wiki_page: "Wiki Page Hook",
  pipeline: "Pipeline Hook",
  build: "Job Hook",
  deployment: "Deployment Hook",
  feature_flag: "Feature Flag Hook",
  release: "Release Hook",
  emoji: "Emoji Hook",
  milestone: "Milestone Hook",
  access_token: "Resource Access Token Hook",
  vulnerability: "Vulnerability Hook",
};

/** Confidential issues and comments keep their object_kind; event_type says they are confidential. */
const GITLAB_CONFIDENTIAL: Readonly<Record<string, string>> = {
  confidential_issue: "Confidential Issue Hook",
  confidential_note: "Confidential Note Hook",
};

/** Every X-Gitlab-Event a project or group hook sends. */
export const GITLAB_HOOK_HEADERS: readonly string[] = [
  ...Object.values(GITLAB_KIND_TO_HEADER),
  ...Object.values(GITLAB_CONFIDENTIAL),
];

/** Hooks a payload's kind may come under besides its own: both pushes are read alike; confidential ones keep their kind. */
const GITLAB_SAME_HOOK: Readonly<Record<string, string>> = {
  "Tag Push Hook": "Push Hook",
  "Confidential Issue Hook": "Issue Hook",
  "Confidential Note Hook": "Note Hook",
};

/**
 * Kinds outside the table above that GitLab sends under one of its hooks: a work item that is not an issue
 * (task, epic, incident, objective...) comes as "Issue Hook" (or "Confidential Issue Hook") with object_kind
 * work_item (gitlab-org/gitlab#535890; gitlab4j's WorkItemEvent; go-gitlab#1577). Its object_attributes read like
 * an issue's, so under "Merge Request Hook" a closed task would be merge request !<iid> closed.
 */
const GITLAB_OTHER_KINDS: Readonly<Record<string, string>> = { work_item: "Issue Hook" };

/**
 * Hooks whose payload is always of their own kind: GitLab builds a merge request's from its class name
 * (merge_request, Gitlab::DataBuilder::Issuable) and a push's as push or tag_push (Gitlab::DataBuilder::Push,
 * GitTagPushService). Under these, a kind hookgate does not know is another hook's body, not a newer one's.
 */
const GITLAB_OWN_KIND_ONLY: ReadonlySet<string> = new Set([
  "Merge Request Hook",
  "Push Hook",
  "Tag Push Hook",
]);

/**
 * The payload's object_kind when it belongs under another X-Gitlab-Event than `header` (a merge request's
 * payload sent as "Push Hook", an issue's or a work item's as "Merge Request Hook"), else undefined. A kind and
 * a header both known to hookgate are compared; a kind it does not know is refused only under a hook that
 * carries its own kind alone (GITLAB_OWN_KIND_ONLY). A System Hook, a hook hookgate does not know, and a kind it
 * does not know under another hook are read as they are. X-Gitlab-Event is not signed (a signing token covers
 * webhook-id, its timestamp and the body).
 */
export function gitlabKindElsewhere(header: string, payload: Json): string | undefined {
  const kind = str(payload.object_kind);
  if (kind === undefined || !GITLAB_HOOK_HEADERS.includes(header)) return undefined;
  const kindHook = entry(GITLAB_KIND_TO_HEADER, kind) ?? entry(GITLAB_OTHER_KINDS, kind);
  if (kindHook === undefined) return GITLAB_OWN_KIND_ONLY.has(header) ? kind : undefined;
  const hook = (name: string) => entry(GITLAB_SAME_HOOK, name) ?? name;
  return hook(kindHook) === hook(header) ? undefined : kind;
}

/**
 * The provider's own name for the event ("push", "Merge Request Hook", "repo:push", "pr:merged"), from
 * its header; GitLab and Bitbucket Data Center payloads also name it, which is the fallback.
 * Throws RequestError(400) when the header has several different values.
 */
export function eventName(provider: Provider, headers: HeaderBag, payload: unknown): string | undefined {
  for (const name of EVENT_HEADERS[provider]) {
    const value = singleHeader(headers, name)?.trim();
    if (value) return value;
  }
  const body = obj(payload);
  if (body === undefined) return undefined;
  if (provider === "gitlab") {
    const kind = str(body.object_kind);
    if (kind === undefined || !Object.hasOwn(GITLAB_KIND_TO_HEADER, kind)) return undefined;
    const eventType = str(body.event_type);
    if (eventType !== undefined && Object.hasOwn(GITLAB_CONFIDENTIAL, eventType))
      return GITLAB_CONFIDENTIAL[eventType];
    return GITLAB_KIND_TO_HEADER[kind];
  }
  if (provider === "bitbucket-server") return str(body.eventKey);
  return undefined;
}

/** Headers that carry a delivery id, per provider, in order of preference. */
export const DELIVERY_HEADERS: Readonly<Record<Provider, readonly string[]>> = {
  github: ["x-github-delivery"],
  // Idempotency-Key stays the same when GitLab retries or a user resends; X-Gitlab-Event-UUID does not.
  // webhook-id (sent with a signing token) holds the same value and is signed: it comes first, so a
  // signed delivery replayed with another Idempotency-Key is still a duplicate.
  gitlab: ["webhook-id", "idempotency-key", "x-gitlab-event-uuid"],
  bitbucket: ["x-request-uuid"],
  "bitbucket-server": ["x-request-id"],
  gitea: ["x-gitea-delivery", "x-forgejo-delivery", "x-gogs-delivery", "x-github-delivery"],
};

/**
 * Headers each Git host sends with every delivery, a webhook with no secret too; any one set, all present,
 * says the request claims to be the host's own (`hookgate send` imitates them): GitHub's delivery headers
 * (docs.github.com, "Webhook events and payloads") with its Hookshot User-Agent (HOOKSHOT below), GitLab's
 * event with the delivery's UUID (X-Gitlab-Event-UUID, Idempotency-Key since 17.4, X-Gitlab-Webhook-UUID),
 * Bitbucket Cloud's and Data Center's documented request headers, Gitea's, Forgejo's or Gogs' own pair. A scan
 * of the URL sends none of these; they can be made up, so this only tells a host's unsigned delivery (a
 * webhook whose secret was cleared) from the noise, for the bad-signature alarm: it lets nothing in.
 */
const HOST_DELIVERY_HEADERS: Readonly<Record<Provider, readonly (readonly string[])[]>> = {
  github: [["x-github-delivery", "x-github-hook-id", "x-github-event"]],
  gitlab: [
    ["x-gitlab-event", "x-gitlab-event-uuid"],
    ["x-gitlab-event", "idempotency-key"],
    ["x-gitlab-event", "x-gitlab-webhook-uuid"],
  ],
  bitbucket: [["x-hook-uuid", "x-request-uuid", "x-event-key"]],
  "bitbucket-server": [["x-request-id", "x-event-key"]],
  gitea: [
    ["x-gitea-delivery", "x-gitea-event"],
    ["x-forgejo-delivery", "x-forgejo-event"],
    ["x-gogs-delivery", "x-gogs-event"],
  ],
};
/** GitHub's (and GitHub Enterprise Server's) webhook User-Agent: "GitHub-Hookshot/<id>". */
const HOOKSHOT = /^GitHub-Hookshot\//;

/** Whether the request carries the delivery headers `provider`'s Git host sends (HOST_DELIVERY_HEADERS). */
export function carriesHostDeliveryHeaders(provider: Provider, headers: HeaderBag): boolean {
  const present = (name: string) => (headers.get(name) ?? []).some((v) => v.trim() !== "");
  const sets = HOST_DELIVERY_HEADERS[provider];
  if (!sets?.some((set) => set.every(present))) return false;
  return provider !== "github" || (headers.get("user-agent") ?? []).some((v) => HOOKSHOT.test(v));
}

/** Visible ASCII, at most 128 characters: safe as an SQS deduplication id and a DynamoDB key part. */
const USABLE_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The delivery id the host gave this delivery (stable across redeliveries), or, when it gave none, a
 * stable id from the body: "sha256:<hex>", so a repeated body is still recognised as a duplicate.
 * A delivery-id header with more than one value is ambiguous: RequestError(400). So is an id that is
 * not 1 to 128 visible ASCII characters.
 */
export function deliveryIdOf(provider: Provider, headers: HeaderBag, body: Buffer): string {
  for (const name of DELIVERY_HEADERS[provider]) {
    const values = headers.get(name);
    if (values === undefined || values.length === 0) continue;
    if (values.length > 1)
      throw new RequestError(400, `header "${name}" has several values; the delivery is ambiguous`);
    const value = (values[0] as string).trim();
    if (value.length === 0) continue;
    if (!USABLE_ID.test(value)) {
      throw new RequestError(
        400,
        `header "${name}" is not a usable delivery id (1 to 128 visible ASCII characters)`,
      );
    }
    return value;
  }
  return `sha256:${createHash("sha256").update(body).digest("hex")}`;
}
