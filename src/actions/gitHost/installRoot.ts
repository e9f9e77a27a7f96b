// Where on a Git host's origin its token may go on an archive download's redirect: the host's own install,
// the API's URL without the API's own path (/api/v1, /api/v3, /api/v4, /rest/api/<version>). A host installed
// under a sub-path of a shared origin (tools.example.com/gitea beside /jenkins) keeps the token to itself, as
// the API calls do (gitHost/redirects.ts). GitHub Enterprise Server has no sub-path install: its root is the
// origin's, so its redirect to /codeload/ on the same origin keeps working.

/** apiUrl without a trailing `apiPath` (a regular expression of the path's end), as a URL with no trailing slash. */
export function installRoot(apiUrl: string, apiPath: RegExp): string {
  const url = new URL(apiUrl);
  const path = url.pathname.replace(/\/+$/, "");
  const root = path.replace(apiPath, "");
  // An apiUrl of another shape: its own path bounds the token, which errs on the safe side.
  return `${url.origin}${root === path ? path : root.replace(/\/+$/, "")}`;
}
