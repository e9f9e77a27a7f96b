// GitHub (and, through normaliseGitHubLike, Gitea and Forgejo, which follow GitHub's names and shapes).
import type { PullRequestRef, RepoRef, WebhookEvent } from "../types";
import { withChangedFiles, withLazyChangedFiles } from "./changedFiles";
import { commitsFastForward, githubFastForward } from "./fastForward";
import {
  entry,
  eventMismatch,
  int,
  isZeroSha,
  type Json,
  latestTime,
  malformed,
  noRepo,
  obj,
  PROVIDER_LABEL,
  refFromName,
  splitFullName,
  splitRef,
  str,
  timeOf,
} from "./fields";
import { shortPushRef } from "./mirrorRef";

/**
 * Top-level fields a create payload has and a delete payload never does: GitHub's create names master_branch
 * (required in its schema; its delete has ref, ref_type, pusher_type, repository, sender), Gitea's and Forgejo's
 * CreatePayload names sha (modules/structs/hook.go; their DeletePayload has ref, ref_type, pusher_type,
 * repository, sender). The event header is not signed, so a create body sent again as delete is refused.
 */
const CREATE_ONLY_FIELDS = ["master_branch", "sha"] as const;

/** Events that make no sense without the repository they happened in. */
const NEEDS_REPO = new Set(["push", "pull_request", "create", "delete"]);

export function githubRepo(repository: Json): RepoRef | undefined {
  const owner = obj(repository.owner);
  const fullName = str(repository.full_name);
  // Split the full name only for what the payload does not name (it nearly always names both).
  let ownerName = str(owner?.login) ?? str(owner?.username) ?? str(owner?.name);
  let name = str(repository.name);
  if ((ownerName === undefined || name === undefined) && fullName !== undefined) {
    const split = splitFullName(fullName);
    ownerName ??= split.owner;
    name ??= split.name;
  }
  if (name === undefined || ownerName === undefined) return undefined;
  return {
    owner: ownerName,
    name,
    fullName: fullName ?? `${ownerName}/${name}`,
    cloneUrl: str(repository.clone_url),
    defaultBranch: str(repository.default_branch) ?? str(repository.master_branch),
  };
}

function login(user: unknown): string | undefined {
  const u = obj(user);
  return u === undefined ? undefined : (str(u.login) ?? str(u.username));
}

/**
 * Gitea's action names where GitHub's differ, per event: "synchronized" for "synchronize", and a release's
 * "updated" for "edited" (Gitea's own Actions translate it so, in matchReleaseEvent).
 */
export const GITEA_ACTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  pull_request: { synchronized: "synchronize" },
  release: { updated: "edited" },
};

/**
 * @param provider "github", or "gitea" for Gitea and Forgejo.
 * @param event the X-GitHub-Event (or X-Gitea-Event) name.
 */
export function normaliseGitHubLike(
  provider: "github" | "gitea",
  event: string,
  payload: Json,
  deliveryId: string,
): WebhookEvent {
  const label = PROVIDER_LABEL[provider];
  const repository = obj(payload.repository);
  const repo = repository === undefined ? undefined : githubRepo(repository);
  if (repo === undefined && NEEDS_REPO.has(event)) {
    throw malformed(`the ${label} ${event} payload has no repository`);
  }
  let action = str(payload.action);
  const renamed = provider === "gitea" ? entry(GITEA_ACTIONS, event) : undefined;
  if (renamed && action !== undefined) action = entry(renamed, action) ?? action;
  const result: Omit<WebhookEvent, "changedFiles"> = {
    provider,
    deliveryId,
    event,
    action,
    repo: repo ?? noRepo(),
    deleted: false,
    actor: login(payload.sender) ?? login(payload.pusher) ?? str(obj(payload.pusher)?.name),
    payload,
  };

  if (event === "push") {
    const after = str(payload.after);
    const fullRef = splitRef(str(payload.ref));
    // A Gogs pull mirror (and an older Gitea's) names the ref short: "main", "v1.0" (mirrorRef.ts).
    const parts =
      provider === "gitea" && fullRef.ref !== undefined && !fullRef.ref.startsWith("refs/")
        ? shortPushRef(fullRef.ref, str(payload.before), after)
        : fullRef;
    const deleted = payload.deleted === true || isZeroSha(after);
    result.ref = parts.ref;
    result.branch = parts.branch;
    result.tag = parts.tag;
    result.before = str(payload.before);
    result.deleted = deleted;
    // Gitea's payload has no `forced`: the commits the push added stand in for it.
    const fastForward =
      provider === "github"
        ? githubFastForward(payload, parts.branch, deleted)
        : commitsFastForward(payload, parts.branch, deleted);
    if (fastForward) result.fastForward = true;
    // An annotated tag's `after` is the tag object; the commit is head_commit.
    result.sha = deleted
      ? undefined
      : parts.tag !== undefined
        ? (str(obj(payload.head_commit)?.id) ?? after)
        : after;
    return withLazyChangedFiles(result);
  }
  if (event === "create" || event === "delete") {
    const header = provider === "github" ? "X-GitHub-Event" : "event";
    const createField =
      event === "delete" ? CREATE_ONLY_FIELDS.find((f) => Object.hasOwn(payload, f)) : undefined;
    if (createField !== undefined) {
      throw eventMismatch(header, event, `a create event's (it names ${createField})`);
    }
    const kind = payload.ref_type === "branch" || payload.ref_type === "tag" ? payload.ref_type : undefined;
    const name = str(payload.ref);
    // Every create and delete names its ref (a non-empty string) and ref_type "branch" or "tag": GitHub's schemas
    // require both, ref_type one of the two (github/rest-api-description, webhook-create, webhook-delete); Gitea
    // and Forgejo fill both, no omitempty, in CreateRef and DeleteRef (services/webhook/notifier.go), called for
    // branches and tags only; Gogs sets RefType "branch" or "tag" on each. A body without them is another
    // event's: a push's sent again as delete would be a deletion of no ref, which a route on deletions takes.
    // GitHub's Events API also shows a create of ref_type "repository" with ref null (github/docs#28996); no
    // webhook schema has it, but it is read as before (no ref): a create deletes nothing, and one refused is lost.
    const repositoryCreate = event === "create" && payload.ref_type === "repository";
    if ((kind === undefined || name === undefined) && !repositoryCreate) {
      throw eventMismatch(
        header,
        event,
        'not a branch\'s or tag\'s creation or deletion (a create or delete names ref, and ref_type "branch" or "tag")',
      );
    }
    // Gitea sends the short name (CreateRef in go-gitea services/webhook/notifier.go: ShortName()), as
    // GitHub does; Forgejo sends the full one (refFullName.String(), refs/heads/x or refs/tags/v1, in forgejo
    // services/webhook/notifier.go) to a "Forgejo" webhook, and shortens it only for a "Gitea" one
    // (substituteRefShortName, services/webhook/default.go). A full name of the payload's own ref_type is
    // read as such; a Gitea branch literally named refs/heads/x would be read so too.
    const full = provider === "gitea" ? splitRef(name) : {};
    const parts =
      (kind === "branch" && full.branch) || (kind === "tag" && full.tag) ? full : refFromName(name, kind);
    result.ref = parts.ref;
    result.branch = parts.branch;
    result.tag = parts.tag;
    result.deleted = event === "delete";
    // Gitea's and Forgejo's create names the ref's new value (CreatePayload.Sha, filled in CreateRef from the
    // pushed ref's new id): a commit, but an annotated tag's object for such a tag. GitHub's and Gogs' name none.
    if (provider === "gitea" && event === "create") {
      const sha = str(payload.sha);
      result.sha = sha && !isZeroSha(sha) ? sha : undefined;
    }
  } else if (event === "merge_group") {
    // A merge queue's group: built at head_sha on its own gh-readonly-queue ref, for the base branch
    // (as a pull request's `branch` is its base).
    const group = obj(payload.merge_group);
    result.branch = splitRef(str(group?.base_ref)).branch;
    result.ref = str(group?.head_ref);
    result.sha = str(group?.head_sha);
    result.before = str(group?.base_sha);
  } else if (event === "release") {
    const release = obj(payload.release);
    const parts = refFromName(str(release?.tag_name), "tag");
    result.ref = parts.ref;
    result.tag = parts.tag;
  } else if (event === "pull_request" || event.startsWith("pull_request_")) {
    const pr = pullRequest(provider, payload);
    if (pr === undefined && event === "pull_request") {
      throw malformed(`the ${label} pull_request payload has no pull_request object`);
    }
    if (pr !== undefined) {
      result.pr = pr;
      result.branch = pr.baseRef || undefined;
      result.sha = pr.headSha || undefined;
    }
  }
  return withChangedFiles(result, []);
}

/**
 * A pull request's head branch. Gitea and Forgejo (ToAPIPullRequest, go-gitea services/convert/pull.go;
 * `label` is PRBranchInfo.Name, modules/structs/pull.go) give `ref` as the branch's name while the head
 * repository has it, and as refs/pull/<n>/head otherwise: a branch deleted (a pull request Gitea closes
 * because its branch was deleted), and always for an AGit pull request (pushed to refs/for/<base>/<topic>),
 * which has no branch. `label` is the bare branch name (not owner:branch), kept after the branch is gone,
 * and "" for an AGit pull request, whose head.repo is the base repository and head.sha refs/pull/<n>/head's
 * commit. So the head branch is the label then: "" for AGit. GitHub's `label` is owner:branch.
 */
export function headBranch(
  provider: "github" | "gitea",
  head: { ref?: unknown; label?: unknown } | undefined,
): string {
  const ref = str(head?.ref) ?? "";
  if (provider === "gitea" && ref.startsWith("refs/pull/")) return str(head?.label) ?? "";
  return ref;
}

function pullRequest(provider: "github" | "gitea", payload: Json): PullRequestRef | undefined {
  const pr = obj(payload.pull_request);
  if (pr === undefined) return undefined;
  const head = obj(pr.head);
  const base = obj(pr.base);
  // Gogs (served as gitea) has no head/base objects: its api.PullRequest (APIFormat in gogs/gogs
  // internal/database/pull.go) names head_branch, head_repo, base_branch and base_repo, and no head commit.
  const gogs = provider === "gitea" && head === undefined && base === undefined;
  return {
    number: int(pr.number) ?? int(payload.number) ?? 0,
    merged: pr.merged === true,
    state: str(pr.state),
    headRef: gogs ? (str(pr.head_branch) ?? "") : headBranch(provider, head),
    baseRef: (gogs ? str(pr.base_branch) : str(base?.ref)) ?? "",
    headSha: str(head?.sha) ?? "",
    headRepoFullName: str(obj(gogs ? pr.head_repo : head?.repo)?.full_name),
    // GitHub's and Gitea's pull request: updated_at, and closed_at once closed (Gogs names neither). A closing
    // event whose pull request says open or has no closed_at was rendered before the close (GitHub sends such,
    // community discussion 28877): its times predate the close, so it has none (pr-cleanup then retries).
    ...(payload.action === "closed" && (str(pr.state) === "open" || pr.closed_at == null)
      ? {}
      : timeOf(latestTime(pr.updated_at, pr.closed_at))),
  };
}

export function normaliseGitHub(event: string, payload: Json, deliveryId: string): WebhookEvent {
  return normaliseGitHubLike("github", event, payload, deliveryId);
}
