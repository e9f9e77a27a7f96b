// The one top folder each Git host writes into its archive of a commit, as a test of a folder's name, so that
// s3-zip removes that folder and no other: a repository whose own files all sit under one folder (app/) keeps
// it. Where a name does not fit, the folder is kept: an extra folder level shows in the zip, a lost one does not.
// - GitHub's zipball: <owner>-<repo>-<sha, 7 or all 40 characters> (robinraju/release-downloader#743);
// - GitLab's archive of ?sha=<full sha>: <project path>-<sha>-<sha> (gitlab-org/gitlab#297471);
// - Bitbucket Cloud's /get/<sha>.zip: <workspace>-<repo>-<sha, 12 characters>;
// - Gitea and Forgejo: <repository name>/, lower-cased by current Gitea, and none at all with
//   [repository] PREFIX_ARCHIVE_FILES = false (go-gitea/gitea modules/git/archive.go). A repository renamed
//   after the push is redirected to its new name, which names the folder, even when a further redirect leads
//   on to object storage (SERVE_DIRECT);
// - Bitbucket Data Center: none (no prefix parameter is sent).

/**
 * A test of a top folder's name (its first path segment, without the slash), given every URL the archive was
 * requested at: the first and each redirect's, in order.
 */
export type TopFolderTest = (folder: string, requestedAt: readonly string[]) => boolean;

/**
 * GitHub, GitLab, Bitbucket Cloud: a name that ends in "-" and the commit's first 7 or more hex digits. Only the
 * sha is compared, not the owner and repository before it: a renamed repository's archive has its new name,
 * and a repository's own folder so named after the very commit pushed does not happen.
 */
export function shaSuffixedFolder(sha: string): TopFolderTest {
  const commit = sha.toLowerCase();
  return (folder) => {
    const match = /-([0-9a-fA-F]{7,64})$/.exec(folder);
    return match !== null && match.index > 0 && commit.startsWith((match[1] ?? "").toLowerCase());
  };
}

/**
 * Gitea and Forgejo: the repository's name, in any case (Gitea writes it lower-cased): the event's, or the one
 * of an archive path under `apiUrl` a redirect led to (…/repos/{owner}/{name}/archive/…): Gitea answers a
 * renamed repository's old name with a redirect to the new one, whose archive's folder is the new name. Any
 * URL requested counts, not the last only: with SERVE_DIRECT the new name's path redirects on to a signed
 * object-storage URL, which names no repository.
 */
export function repoNamedFolder(name: string, apiUrl: string): TopFolderTest {
  const expected = name.toLowerCase();
  return (folder, requestedAt) => {
    const given = folder.toLowerCase();
    return (
      given === expected || requestedAt.some((url) => given === archivePathName(apiUrl, url)?.toLowerCase())
    );
  };
}

/** The {name} of `url` when it is `apiUrl`'s /repos/{owner}/{name}/archive/… (same origin, under its path). */
function archivePathName(apiUrl: string, url: string): string | undefined {
  let api: URL;
  let at: URL;
  try {
    api = new URL(apiUrl);
    at = new URL(url);
  } catch {
    return undefined;
  }
  const base = api.pathname.replace(/\/+$/, "");
  if (at.origin !== api.origin || !at.pathname.startsWith(`${base}/repos/`)) return undefined;
  const match = /^\/repos\/[^/]+\/([^/]+)\/archive\//.exec(at.pathname.slice(base.length));
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1] ?? "");
  } catch {
    return undefined;
  }
}
