// What every provider client shares: the base URL, credential headers, JSON calls with timeouts
// and the one error classification (src/actions/http.ts).
import { createHash } from "node:crypto";
import type { Dispatcher } from "undici";
import { ActionError } from "../../core/errors";
import type { LogFn } from "../../core/ports";
import type { Provider } from "../../core/types";
import {
  discard,
  type HttpResponse,
  header,
  httpRequest,
  readJson,
  serverMessage,
  statusError,
  withHint,
} from "../http";
import { type ApiHop, isRedirect, MAX_API_REDIRECTS, movedPaths, nextHop } from "./redirects";
import type { ApiRedirect, BranchInfo, OpenPullRequests, ParentPullRequests } from "./types";

export interface ApiCall {
  method: "GET" | "POST" | "DELETE" | "PUT";
  path: string;
  /** Another REST module of the same server (Bitbucket Data Center's branch-utils); default apiUrl. */
  baseUrl?: string;
  json?: unknown;
  /** Statuses (besides 2xx) the caller handles itself; their body is left for the caller. */
  accept?: number[];
}

export const USER_AGENT = "hookgate (+https://github.com/hookgate/hookgate)";

/**
 * The largest Git host API answer read, in bytes. 1 MiB was too little: one GitLab merge request carries its
 * description, up to 1,048,576 characters, several bytes each in JSON (a "<" is written \u003c), and a page
 * of Gitea's pull request list ten of them. 16 MiB holds both. Reading one that large raised a Node process's
 * peak RSS by about 74 MiB (a single measured read of a 16 MiB list), which the functions' default 512 MB
 * (lambda.memoryMb) holds; at the 128 MB minimum it may not.
 */
export const MAX_API_ANSWER_BYTES = 16 * 1024 * 1024;

/** A Git host API answer's JSON, at most MAX_API_ANSWER_BYTES. */
export function readApiJson<T>(res: HttpResponse, what: string): Promise<T> {
  return readJson<T>(res, what, MAX_API_ANSWER_BYTES);
}

export abstract class ApiClient {
  abstract readonly provider: Provider;
  protected abstract readonly what: string;
  /** The redirects followed so far, each (from, to) once: a renamed or transferred repository's old path. */
  readonly redirects: ApiRedirect[] = [];
  /** Whether the token secret was read again already (at most once per client: once per attempt). */
  private credentialsReread = false;

  constructor(
    protected readonly apiUrl: string,
    protected readonly credentialHeaders: Record<string, string>,
    protected readonly dispatcher?: Dispatcher,
    protected readonly timeoutMs?: number,
    protected readonly deadlineMs?: number,
    /** Where a followed redirect is logged (a warning: the routes may name the repository's old path). */
    protected readonly log?: LogFn,
    /**
     * The credential headers of the token secret read again past its cache, or undefined when it holds the
     * same value (gitHost/index.ts); absent without a token secret.
     */
    private readonly rereadCredentials?: () => Promise<Record<string, string> | undefined>,
  ) {
    this.apiUrl = apiUrl.replace(/\/+$/, "");
  }

  /**
   * After a 401: read the token secret once more, past its cache (a token rotated since it was cached). True
   * when it holds a new value, which this client sends from now on; false when it holds the same, or was read
   * again already by this client, and the refusal stands.
   */
  async refreshCredentials(): Promise<boolean> {
    if (this.credentialsReread || this.rereadCredentials === undefined) return false;
    this.credentialsReread = true;
    const fresh = await this.rereadCredentials();
    if (fresh === undefined) return false;
    // In place: the same object is every caller's (archive sources are made from it when asked for).
    for (const name of Object.keys(this.credentialHeaders)) delete this.credentialHeaders[name];
    Object.assign(this.credentialHeaders, fresh);
    return true;
  }

  protected extraHeaders(): Record<string, string> {
    return {};
  }

  protected async call(call: ApiCall): Promise<HttpResponse> {
    const headers = (): Record<string, string> => ({
      accept: "application/json",
      "user-agent": USER_AGENT,
      ...this.extraHeaders(),
      ...this.credentialHeaders,
      ...(call.json !== undefined ? { "content-type": "application/json" } : {}),
    });
    const body = call.json !== undefined ? JSON.stringify(call.json) : undefined;
    const base = call.baseUrl ?? this.apiUrl;
    let hop: ApiHop = { method: call.method, url: `${base}${call.path}`, body };
    for (let redirects = 0; ; redirects++) {
      const res = await httpRequest({
        method: hop.method,
        url: hop.url,
        headers: headers(),
        body: hop.body,
        dispatcher: this.dispatcher,
        timeoutMs: this.timeoutMs,
        deadlineMs: this.deadlineMs,
        what: this.what,
      });
      const status = res.statusCode;
      if ((status >= 200 && status < 300) || call.accept?.includes(status)) return res;
      if (status === 401 && (await this.refreshCredentials())) {
        // The token was rotated since it was cached: the same request again, with the new one.
        await discard(res);
        redirects--;
        continue;
      }
      if (!isRedirect(status)) throw await this.failure(res, call);
      // A renamed or transferred repository: followed within the API's origin and base path (redirects.ts).
      await discard(res);
      const where = `${this.what} ${call.method} ${call.path.split("?")[0]}`;
      if (redirects === MAX_API_REDIRECTS) {
        throw new ActionError(`${where} was redirected more than ${MAX_API_REDIRECTS} times: not followed`, {
          retryable: false,
        });
      }
      const next = nextHop(
        hop,
        status,
        header(res.headers, "location"),
        this.redirectScope(base),
        where,
        this.credentialHeaders,
      );
      this.noteRedirect(status, hop.url, next.url, base);
      hop = next;
    }
  }

  /** The URL whose origin and path bound the redirects a call to `base` follows: `base` itself by default. */
  protected redirectScope(base: string): string {
    return base;
  }

  /** A URL as the API names one resource, whichever of its equal spellings a redirect used: itself by default. */
  protected canonicalUrl(url: string): string {
    return url;
  }

  /**
   * Record a followed redirect to another path, and log it the first time: the routes may name the
   * repository's old path.
   */
  private noteRedirect(status: number, fromUrl: string, toUrl: string, base: string): void {
    const [fromCanonical, toCanonical] = [this.canonicalUrl(fromUrl), this.canonicalUrl(toUrl)];
    if (new URL(fromCanonical).pathname === new URL(toCanonical).pathname) return;
    const { from, to } = movedPaths(
      fromCanonical,
      toCanonical,
      this.canonicalUrl(base),
      this.credentialHeaders,
    );
    if (this.redirects.some((each) => each.from === from && each.to === to)) return;
    this.redirects.push({ status, from, to });
    this.log?.({
      msg: "Git host API redirect followed: the repository was likely renamed or transferred",
      level: "warn",
      provider: this.provider,
      status,
      from,
      to,
      hint: "update routes.yaml where it names the repository by its old name",
    });
  }

  /**
   * A branch's commit from the host's branch (or ref) answer at `path`: undefined on 404, no such branch.
   * An answer without the commit is retryable (headOrFail).
   */
  protected async branchCommit<T>(
    path: string,
    branch: string,
    commitOf: (answer: T) => unknown,
  ): Promise<string | undefined> {
    return (await this.branchAnswer(path, branch, commitOf))?.head;
  }

  /**
   * A branch's commit, and its protected flag when `protectedOf` reads one (GitLab's and Gitea's answer of
   * one branch document `protected`, a boolean; a protected branch is kept, `keep`), from the host's branch answer at `path`: undefined on 404,
   * no such branch. An answer without the commit is retryable (headOrFail).
   */
  protected async branchAnswer<T>(
    path: string,
    branch: string,
    commitOf: (answer: T) => unknown,
    protectedOf?: (answer: T) => unknown,
  ): Promise<BranchInfo | undefined> {
    const res = await this.call({ method: "GET", path, accept: [404] });
    if (res.statusCode === 404) {
      await discard(res);
      return undefined;
    }
    const answer = await readApiJson<T>(res, this.what);
    const head = headOrFail(commitOf(answer), this.what, branch);
    const flag = protectedOf?.(answer);
    if (typeof flag !== "boolean") return { head };
    return flag ? { head, protected: true, keep: "it is protected" } : { head, protected: false };
  }

  protected async json<T>(call: ApiCall): Promise<T> {
    const res = await this.call(call);
    return readApiJson<T>(res, this.what);
  }

  protected async send(call: ApiCall): Promise<void> {
    await discard(await this.call(call));
  }

  /**
   * What a final answer with this status (401, 403) to this call (when known) most likely means for this
   * host's credential, if it can tell.
   */
  protected refusalHint(_status: number, _call?: ApiCall): string | undefined {
    return undefined;
  }

  /**
   * A classified error; the provider's short message (never a header) is appended: `message` when the
   * caller read it already, else read from the answer.
   */
  protected async failure(res: HttpResponse, call: ApiCall, message?: string): Promise<ActionError> {
    let detail = message ?? "";
    if (message === undefined) {
      try {
        detail = await serverMessage(res, this.what, this.credentialHeaders);
      } catch {
        // The status alone classifies the failure.
      }
    }
    const where = `${call.method} ${call.path.split("?")[0]}`;
    const err = statusError(`${this.what} ${where}`, res, detail);
    const hint = err.retryable ? undefined : this.refusalHint(res.statusCode, call);
    if (hint !== undefined) return withHint(err, hint);
    if (!err.retryable && res.statusCode === 401) {
      // Not always a bad token: Bitbucket Data Center answers 401 to a token that lacks a permission.
      return new ActionError(
        `${this.what} ${where} answered 401${detail ? ` (${detail})` : ""}: check the token secret and its permissions`,
        { retryable: false },
      );
    }
    return err;
  }
}

/**
 * A status key of at most `max` characters that stays distinct: a longer one keeps its start and ends
 * with a hash of the whole, so two routes whose names differ only past the limit never share a status.
 */
export function statusKey(context: string, max: number): string {
  if (context.length <= max) return context;
  const hash = createHash("sha256").update(context).digest("hex").slice(0, 8);
  return `${context.slice(0, max - hash.length - 1)}-${hash}`;
}

/** Cut a status description to `max` characters (GitHub allows 140), never inside a surrogate pair. */
export function clip(text: string, max = 140): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  if (oneLine.length <= max) return oneLine;
  const cut = oneLine.slice(0, max - 1);
  return `${/[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * One URL path segment, encoded. "", "." and ".." are refused (final): URL normalisation would turn
 * them into a different API path, never what the event meant.
 */
export function seg(value: string, what = "name"): string {
  if (value === "" || value === "." || value === ".." || value.includes("\u0000")) {
    throw new ActionError(`refusing the ${what} ${JSON.stringify(value)} in an API path`, {
      retryable: false,
    });
  }
  return encodeURIComponent(value);
}

/** Each path segment encoded, "/" kept between them: feature/x -> feature/x, a b -> a%20b. */
export function encodeSegments(path: string, what = "branch"): string {
  return path
    .split("/")
    .map((part) => seg(part, what))
    .join("/");
}

/**
 * Whether two commit ids name the same commit. Either may be abbreviated (Bitbucket Cloud's pull request
 * gives 12 hex digits), but never below 7: too short a prefix proves nothing.
 */
export function sameCommit(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 7 && long.toLowerCase().startsWith(short.toLowerCase());
}

/** The page number of one relation (next, last) in an RFC 8288 Link header, as GitHub and Gitea send it. */
export function linkPage(link: string | undefined, rel: "next" | "last"): number | undefined {
  for (const part of (link ?? "").split(",")) {
    const [, url, rels] = /<([^>]*)>\s*;\s*rel="([^"]*)"/.exec(part) ?? [];
    if (url === undefined || !rels?.split(/\s+/).includes(rel)) continue;
    const page = Number(/[?&]page=(\d+)/.exec(url)?.[1]);
    return Number.isInteger(page) && page > 0 ? page : undefined;
  }
  return undefined;
}

/**
 * A fork's open pull requests into its parent `parent` (owner/name, or a GitLab path), as `read` counts them.
 * A final refusal of the parent's list (a parent private to this token: 404, or 403) is no failure: whether it
 * holds such pull requests cannot be told, and the caller keeps the branch, saying why. A retryable one throws.
 */
export async function parentPullRequests(
  parent: string,
  read: () => Promise<OpenPullRequests>,
): Promise<ParentPullRequests> {
  try {
    return { parent, ...(await read()) };
  } catch (err) {
    if (err instanceof ActionError && !err.retryable) {
      return { parent, count: 0, more: true, unreadable: err.publicMessage };
    }
    throw err;
  }
}

/**
 * A fork whose parent the API does not name (not readable by this token, or not in the answer); `why` replaces
 * the generic reason where the host tells more.
 */
export function unnamedParent(parent = "", why = "the API names no parent of this fork"): ParentPullRequests {
  return { parent, count: 0, more: true, unreadable: why };
}

/**
 * A branch answer without its commit (a proxy's page, an API change): retryable, as a body that is not JSON.
 * Its JSON is not typed: a commit given as a number, a list or an object is none either.
 */
export function headOrFail(sha: unknown, what: string, branch: string): string {
  if (typeof sha !== "string" || sha === "") {
    throw new ActionError(`${what} did not say which commit branch ${JSON.stringify(branch)} points at`, {
      retryable: true,
    });
  }
  return sha;
}

/**
 * Open pull requests read a page at a time for their count: enough to leave out the pull request being cleaned up
 * (a list read a moment after its merge may still show it open) and still count the others exactly up to 9.
 */
export const OPEN_PULLS_PAGE = 10;

/**
 * The open pull requests a list's first page tells of, but `exclude` (the pull request being cleaned up: a list
 * served by a replica behind its merge or close may still show it open). `numbers`: the page's pull request
 * numbers (GitLab's iid), one that is no number counted; `total`: the list's, when the host says it; `next`:
 * whether another page follows. With more pages than this one, the count is exact only when this page held the
 * excluded one; else it may be among the others, and `more` says the count is a floor.
 */
export function openOtherThan(
  numbers: readonly unknown[],
  exclude: number | undefined,
  total: number | undefined,
  next: boolean,
): OpenPullRequests {
  const others = numbers.filter((number) => exclude === undefined || number !== exclude).length;
  const ownSeen = others < numbers.length;
  const seen = ownSeen ? { excludedSeen: true as const } : {};
  if (total === undefined || !Number.isInteger(total)) return { count: others, more: next, ...seen };
  if (total <= numbers.length) return { count: others, more: false, ...seen };
  if (ownSeen || exclude === undefined) return { count: total - (ownSeen ? 1 : 0), more: false, ...seen };
  return { count: total - 1, more: true };
}
