// A pull mirror's push with a short ref. Gogs sends a mirror sync's push with the name git fetch printed, not
// the full ref (MirrorSyncPush in gogs/gogs internal/database/actions.go, Ref: the refName that
// parseRemoteUpdateOutput, internal/database/mirror.go, reads after "-> "): "main" for a branch, new or moved,
// and "v1.0" for a new tag. Gitea before 1.19.4 sent a moved branch so too (go-gitea#24824, fixed by #24994). A
// user's own push names the full ref (CommitRepo: RefFullName); a mirrored tag's move, a mirrored deletion and
// an upstream's force-push (" + a...b main -> main (forced update)", a line parseRemoteUpdateOutput skips) send
// no push. Git prints refs/remotes/origin/x short too ("origin/x"), and a mirror clone fetches refs/*, so a
// short name holding "/" may be an upstream's remote-tracking ref as well as branch or tag feature/x.
import { isZeroSha, type RefParts, refFromName } from "./fields";

/**
 * Whether a name is one git could print for a branch or tag (git check-ref-format's rules, and none under
 * refs/, which splitRef reads): anything else is kept as a ref neither a branch nor a tag.
 */
export function isShortRefName(name: string): boolean {
  if (name.length > 1024 || name === "@" || name === "HEAD" || name.startsWith("refs/")) return false;
  if (name.startsWith("-") || name.startsWith("/") || name.endsWith("/") || name.endsWith(".")) return false;
  // Control characters, space, ~ ^ : ? * [ \ and DEL; then "..", "@{" and an empty folder.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: git refuses these in a ref's name
  if (/[\u0000-\u0020~^:?*[\\\u007f]/.test(name) || /\.\.|@\{|\/\//.test(name)) return false;
  return name.split("/").every((part) => !part.startsWith(".") && !part.endsWith(".lock"));
}

/** A full commit id: SHA-1 or SHA-256, as git rev-parse gives it. */
const COMMIT_ID = /^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/;

/**
 * A short ref's branch or tag, from what the push names besides. A commit as `after`: a branch (Gogs and the
 * older Gitea send a short ref with a commit only for a branch, a tag's move sends nothing). Neither `before`
 * nor `after`: Gogs' new tag (SyncMirrors gives a new ref that is no branch neither id). Git's output cannot
 * tell a branch from a tag of one name, so this follows what is sent. Anything else (a deletion, one id
 * without the other), which no mirror sends, is neither, as any other ref. A name holding "/" is neither too:
 * refs/remotes/origin/feature prints as "origin/feature", and the push's ids are the same as a branch's (a
 * moved one) or a tag's (a new one, which Gogs sends without ids when refs/heads/<name> is absent).
 */
export function shortPushRef(name: string, before: string | undefined, after: string | undefined): RefParts {
  if (!isShortRefName(name) || name.includes("/")) return { ref: name };
  if (after !== undefined && COMMIT_ID.test(after) && !isZeroSha(after)) return refFromName(name, "branch");
  if (before === undefined && after === undefined) return refFromName(name, "tag");
  return { ref: name };
}
