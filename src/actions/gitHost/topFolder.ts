// The one top folder each Git host writes into its archive of a commit, as a test of a folder's name, so that
// s3-zip removes that folder and no other: a repository whose own files all sit under one folder (app/) keeps
// it. Where a name does not fit, the folder is kept: an extra folder level shows in the zip, a lost one does not.
// - GitHub's zipball: <owner>-<repo>-<sha, 7 or all 40 characters> (robinraju/release-downloader#743);
// - GitLab's archive of ?sha=<full sha>: <project path>-<sha>-<sha> (gitlab-org/gitlab#297471);
// - Bitbucket Cloud's /get/<sha>.zip: <workspace>-<repo>-<sha, 12 characters>;
// - Gitea and Forgejo: <repository name>/, lower-cased by current Gitea, and none at all with
//   [repository] PREFIX_ARCHIVE_FILES = false (go-gitea/gitea modules/git/archive.go);
// - Bitbucket Data Center: none (no prefix parameter is sent).

/** A folder is a test of a top folder's name (its first path segment, without the slash). */
export type TopFolderTest = (folder: string) => boolean;

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

/** Gitea and Forgejo: the repository's name, in any case (Gitea writes it lower-cased). */
export function repoNamedFolder(name: string): TopFolderTest {
  const expected = name.toLowerCase();
  return (folder) => folder.toLowerCase() === expected;
}
