// Redirects of a Git host's REST API. A renamed or transferred repository's old path answers one, and a
// redelivery (or a queued item) from before the move still names that path:
// - GitHub answers 301 to a GET and 307 to the other methods, to /repositories/{id}/…, and asks clients
//   to repeat the request at the Location for 301, 302 and 307
//   (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#follow-redirects);
// - Gitea answers 307 (RedirectToRepo: the same path under the new owner/name); its older, Macaron-based
//   versions 302 (the default of Macaron's Redirect);
// - GitLab answers 301 to a GET, to /projects/{id}/…, and 405 to any other method (lib/api/helpers.rb,
//   find_project!): gitlab.ts sends such a call again to /projects/{id};
// - Bitbucket Data Center redirects a moved repository with a 3xx whose status it does not document
//   (BSERV-11763);
// - Bitbucket Cloud keeps no redirect for a renamed repository (its tracker's request for one,
//   site/master#6325, was closed Won't Fix): the old path answers 404, and nothing here changes that.
// So: 301, 302, 307 and 308 repeat the request, method and body kept, as GitHub asks (a write is never turned
// into a GET); 303 turns a GET into a GET and refuses any other method, whose answer would be read as the
// write's own. Only within the API, where the token may go: its origin and its base path (GitHub's
// /repositories/{id}/… stays under GHES's /api/v3, GitLab's /projects/{id}/… under /api/v4, Gitea's new name
// under /api/v1), never elsewhere on the host (a sign-in page, /login, with the token); at most
// MAX_API_REDIRECTS times.
import { ActionError } from "../../core/errors";
import { withoutCredentials } from "../http";

export const MAX_API_REDIRECTS = 3;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Whether `url`'s path is `base`'s path (a trailing slash aside) or under it: the part of an origin a token may
 * go to (the API calls' redirects here, an archive download's in s3-zip).
 */
export function pathUnder(url: URL, base: URL): boolean {
  const basePath = base.pathname.replace(/\/+$/, "");
  return basePath === "" || url.pathname === basePath || url.pathname.startsWith(`${basePath}/`);
}

export function isRedirect(status: number): boolean {
  return REDIRECTS.has(status);
}

/** One request of an API call: the first, or one a redirect led to. */
export interface ApiHop {
  method: "GET" | "POST" | "DELETE" | "PUT";
  url: string;
  body?: string;
}

/**
 * Where a redirect answer sends the call: the next hop, or a final ActionError when it is not followed
 * (no Location, another origin, a path outside `apiBase`'s, a write told to become a GET). `apiBase` is the
 * API's base URL: its origin and path bound where the call (and its token) may go. `what` names the call for
 * messages ("GitHub API GET /repos/acme/api/pulls/7"); the messages name origins and paths, never a query or a
 * header, nor the credentials `sent` (their headers), which a server can echo into a Location's path.
 */
export function nextHop(
  hop: ApiHop,
  status: number,
  location: string | undefined,
  apiBase: string,
  what: string,
  sent: Record<string, string> = {},
): ApiHop {
  const api = new URL(apiBase);
  const apiOrigin = api.origin;
  const answered = `${what} was redirected (${status})`;
  if (!location) {
    throw new ActionError(`${what} answered ${status} without a Location: the redirect cannot be followed`, {
      retryable: false,
    });
  }
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch {
    throw new ActionError(`${answered} to a Location that is not a URL: not followed`, { retryable: false });
  }
  const web = next.protocol === "https:" || next.protocol === "http:";
  if (!web || next.origin !== apiOrigin) {
    // The origin only: a path or a query could hold a signed token of the other host's; and without the
    // credentials sent, which a server can echo into a host name.
    const to = withoutCredentials(web ? next.origin : `a ${next.protocol} URL`, sent);
    const refused = "not followed: the token goes to the API's origin only";
    throw new ActionError(`${answered} to another origin (${to}, not ${apiOrigin}): ${refused}`, {
      retryable: false,
      publicMessage: `${answered} to another origin: ${refused}`,
    });
  }
  if (next.username !== "" || next.password !== "") {
    // No API sends one: a Location made to carry credentials somewhere. Never shown.
    throw new ActionError(`${answered} to a URL with a user name or password in it: not followed`, {
      retryable: false,
    });
  }
  if (!pathUnder(next, api)) {
    const basePath = api.pathname.replace(/\/+$/, "");
    // The same host, but not its API (a sign-in page): the path only, as a query could hold a token.
    const refused = "not followed: the token goes to the API only";
    throw new ActionError(
      `${answered} to ${withoutCredentials(`${next.origin}${next.pathname}`, sent)}, outside the API's base path ${basePath}: ${refused}`,
      { retryable: false, publicMessage: `${answered} outside the API's base path: ${refused}` },
    );
  }
  if (status === 303 && hop.method !== "GET") {
    throw new ActionError(
      `${answered} to a GET of ${withoutCredentials(next.pathname, sent)}: not followed, as a GET would not do the ${hop.method}`,
      { retryable: false },
    );
  }
  return { method: hop.method, url: next.toString(), body: hop.body };
}

/**
 * What moved, as two API paths: the call's and its redirect's, each relative to the API's base path, both
 * without the part they end with in common: /repos/acme/api/pulls/7 -> /repositories/42/pulls/7 gives
 * /repos/acme/api and /repositories/42. Encoded as in the URLs; no query, nor the credentials `sent`.
 */
export function movedPaths(
  fromUrl: string,
  toUrl: string,
  apiUrl: string,
  sent: Record<string, string> = {},
): { from: string; to: string } {
  const base = new URL(apiUrl).pathname.replace(/\/+$/, "");
  const segments = (url: string) => {
    const path = new URL(url).pathname;
    return (path.startsWith(`${base}/`) ? path.slice(base.length) : path).split("/").slice(1);
  };
  const from = segments(fromUrl);
  const to = segments(toUrl);
  while (from.length > 1 && to.length > 1 && from.at(-1) === to.at(-1)) {
    from.pop();
    to.pop();
  }
  return {
    from: withoutCredentials(`/${from.join("/")}`, sent),
    to: withoutCredentials(`/${to.join("/")}`, sent),
  };
}
