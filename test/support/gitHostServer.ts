// A Git-host API server for integration tests: 127.0.0.1, port 0. GitHub-shaped routes first, with
// the GitLab, Bitbucket Cloud, Bitbucket Data Center and Gitea routes the actions use. Archives are REAL zips with the
// provider's single top folder. Each branch points at a commit: the ref lookups answer it, and Data
// Center's branch-utils deletion refuses (400) an endPoint it does not point at. Pull request lists filter
// as each host does (GitHub's base, GitLab's target_branch, Bitbucket's q and at; Gitea has no base
// filter) and page with each host's own headers or fields. GitHub's zipball answers 302 to a second listener (a "codeload" on
// another port, so another origin), which records whether an Authorization header followed it. With `tls`
// both listeners speak HTTPS with that certificate: a self-hosted host with a private CA (and GitHub
// Enterprise Server's codeload subdomain under the same CA). A moved (renamed or transferred) repository's
// old path answers as each host does: GitHub 301 to a GET and 307 to the rest, to /repositories/{id}/…;
// Gitea 307 to the same path under the new name; GitLab 301 to a GET, to /projects/{id}/…, and 405 to the
// rest; Bitbucket (Cloud and Data Center here) 404.
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Readable } from "node:stream";
import { buildZip, type FileMap, generatedZipStream } from "./zips";

export type Archive =
  | { files: FileMap; modes?: Record<string, number> }
  | { generate: { totalBytes: number; fileBytes?: number } }
  /** Served verbatim (e.g. a crafted zip-slip archive), as application/zip unless `contentType` says (null: none). */
  | { zip: Buffer; contentType?: string | null };

export type HostReply =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the socket without an answer. */
  | { drop: true };

/** "ref": one branch's commit; "pulls": a list of pull requests. */
/** "branch": GitHub's "Get a branch" (GET /repos/{o}/{r}/branches/{b}), read for its `protected` flag only. */
/** "rules": GitHub's "Get rules for a branch" (GET /repos/{o}/{r}/rules/branches/{b}). */
/** "restrictions": Bitbucket Cloud's branch restrictions (GET /2.0/repositories/{w}/{r}/branch-restrictions). */
/** "branching-model": Bitbucket Cloud's GET /2.0/repositories/{w}/{r}/effective-branching-model. */
/** "all-pulls": GitLab's global list of merge requests (GET /api/v4/merge_requests). */
/** "sign-in": Bitbucket Cloud's web sign-in page (GET /account/signin/), answered only as scripted. */
export type RouteKind =
  | "archive"
  | "sign-in"
  | "pull"
  | "pulls"
  | "all-pulls"
  | "repo"
  | "status"
  | "ref"
  | "branch"
  | "rules"
  | "restrictions"
  | "branching-model"
  | "delete-ref";

export interface PullState {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  headRef: string;
  headSha: string;
  /** Default: the repository itself; null: head.repo null (a deleted fork, as GitHub sends it). */
  headRepoFullName?: string | null;
  baseRef?: string;
  /** The head's label, when the host sends one (Gitea: the branch, when `ref` is refs/pull/<n>/head). */
  headLabel?: string;
  /** When it last changed (ISO 8601): each host's answer says it in its own field and form. */
  updatedAt?: string;
  /**
   * The repository's lists of pull requests still show it open (a replica behind its merge or close), whatever
   * `state` its own answer says.
   */
  listedOpen?: boolean;
}

export interface HostRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  kind?: RouteKind;
  /** Which listener received it. */
  listener: "api" | "codeload";
  /** Whether an Authorization (or PRIVATE-TOKEN) header was present, and whether it held the token. */
  hadAuthorization: boolean;
  authorized: boolean;
  /** The Authorization header as received (test secrets only). */
  authorization?: string;
}

export interface StatusRecord {
  repo: string;
  sha: string;
  state: string;
  context: string;
  description?: string;
  targetUrl?: string;
  /** GitLab's `ref`. */
  ref?: string;
}

export interface GitHostServerOptions {
  token?: string;
  /** Also accept Basic with this user and password (a Bitbucket Cloud API token and its account's email). */
  basic?: { user: string; password: string };
  /** Reject requests without a valid token (default true). */
  requireAuth?: boolean;
  /** Serve HTTPS with this key and certificate (default plain HTTP). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

interface RepoState {
  defaultBranch: string;
  /** Branch name -> the commit it points at. */
  branches: Map<string, string>;
  /**
   * Branches under a protection rule: their answers say `protected: true`; their deletion is refused, unless
   * the rule allows deletions (GitHub's classic "Allow deletions").
   */
  protectedBranches: Map<string, { allowDeletions: boolean }>;
  /** GitHub: the types of the active ruleset rules that apply to a branch (its answer says protected). */
  rules: Map<string, string[]>;
  pulls: Map<number, PullState>;
  archives: Map<string, Archive>;
  /** The repository's numeric id: GitHub's /repositories/{id}, GitLab's /projects/{id}. */
  id: number;
  /** GitLab and Bitbucket Cloud: the repository this one is a fork of (its answer names it). */
  forkOf?: string;
  /** Out of the token's reach: GitLab answers 404 to it (and a fork's answer does not name it), Bitbucket 403. */
  hidden?: boolean;
  /** Bitbucket Cloud: branch restrictions of kind delete (a glob pattern, or a branching model's type). */
  deleteRestrictions: DeleteRestriction[];
  /** Whether the token may list them (admin access); else the list answers 403. */
  restrictionsReadable: boolean;
  /** Bitbucket Cloud: the effective branching model (default: Bitbucket's own). */
  branchingModel?: BranchingModel;
  /** Whether its answer of the branching model is refused (403); the model still applies. */
  branchingModelHidden?: boolean;
}

/**
 * A Bitbucket Cloud branching model: each branch type's prefix (feature, bugfix, release, hotfix), and the
 * development and production branches, by name. Bitbucket's default, used unless one is set: each type's
 * prefix is `<type>/`, development is the main branch, no production.
 */
export interface BranchingModel {
  branchTypes: Array<{ kind: string; prefix: string }>;
  development?: string;
  production?: string;
}

/** A Bitbucket Cloud branch restriction of kind delete: `pattern` (glob) or `branchType` (branching model). */
export type DeleteRestriction = { pattern: string } | { branchType: string };

export interface GitHostServer {
  /**
   * The API base for GitHub; GitLab is `${url}/api/v4`, Gitea `${url}/api/v1`, Bitbucket Cloud
   * `${url}/2.0` (its archives are served at `${url}/{owner}/{repo}/get/{sha}.zip`), Bitbucket Data
   * Center `${url}/rest/api/latest`.
   */
  url: string;
  /** Where GitHub's zipball redirects to (another port, so another origin). */
  codeloadUrl: string;
  requests: HostRecord[];
  statuses: StatusRecord[];
  deletedRefs: Array<{ repo: string; branch: string }>;
  /** Branches not there yet are added, each at a commit of its own; existing ones keep theirs. */
  setRepo(fullName: string, state?: { defaultBranch?: string; branches?: string[] }): void;
  /** A pull request; its head branch (same repository) is created, or moved, to its head commit. */
  setPull(fullName: string, pull: PullState): void;
  /** Point a branch at a commit (creating it), or delete it with `undefined`: a push, a re-creation. */
  setBranch(fullName: string, branch: string, sha: string | undefined): void;
  /**
   * Protect a branch: GitHub's, GitLab's and Gitea's answers of it say `protected: true`, and they refuse its
   * deletion as each host does (Gitea 403 "branch protected", GitLab 405 "Protected branch cant be removed",
   * GitHub 422, whose body for it is not documented); with `allowDeletions` (GitHub's classic protection
   * option) the flag is set and the deletion done.
   */
  protectBranch(fullName: string, branch: string, options?: { allowDeletions?: boolean }): void;
  /**
   * GitHub: active ruleset rules of these types apply to the branch. "Get a branch" then says `protected: true`
   * whatever they are (crs-k/stale-branches#1061); only a "deletion" rule refuses its deletion (422).
   */
  setRules(fullName: string, branch: string, types: string[]): void;
  /**
   * GitLab and Bitbucket Cloud: `fork` is a fork of `parent`. GitLab's answer of the fork then says
   * mr_default_target_self, and names the parent (forked_from_project) unless it is out of the token's reach
   * (`parentReadable: false`, which also makes every request to the parent answer 404); Bitbucket's names it
   * (`parent`), and such a parent answers 403.
   */
  setFork(fork: string, parent: string, options?: { parentReadable?: boolean }): void;
  /**
   * Bitbucket Cloud: branch restrictions of kind delete. Its deletion of a branch one covers is refused (403,
   * whose body Atlassian does not document); a `branchType` covers the branches of that type in the repository's
   * branching model (setBranchingModel; by default Bitbucket's, `<type>/…` and development the main branch). The
   * list answers them to a token with admin access (`readable`, default true), else 403, as it does with none.
   */
  setDeleteRestrictions(
    fullName: string,
    restrictions: DeleteRestriction[],
    options?: { readable?: boolean },
  ): void;
  /**
   * Bitbucket Cloud: the repository's effective branching model, which the `branchType` restrictions apply by
   * (its answer, and the refusal of a deletion one covers); undefined keeps Bitbucket's default. With
   * `readable: false` its answer is refused 403, and the model still applies.
   */
  setBranchingModel(
    fullName: string,
    model: BranchingModel | undefined,
    options?: { readable?: boolean },
  ): void;
  /** The commit a branch points at, if it exists. */
  branchSha(fullName: string, branch: string): string | undefined;
  setArchive(fullName: string, sha: string, archive: Archive): void;
  branches(fullName: string): string[];
  /** Queue replies for the next requests of one kind, before the normal handling applies again. */
  script(kind: RouteKind, ...replies: HostReply[]): void;
  /**
   * Rename or transfer a repository: its state (branches, pull requests) goes to `to`, and `from` redirects
   * as the host does (see the top of this file). `status` replaces GitHub's and Gitea's redirect status
   * (an older, Macaron-based Gitea: 302).
   */
  moveRepo(from: string, to: string, options?: { status?: number }): void;
  close(): Promise<void>;
}

export async function startGitHostServer(options: GitHostServerOptions = {}): Promise<GitHostServer> {
  const token = options.token ?? "ghp_testtoken0123456789";
  const requireAuth = options.requireAuth ?? true;
  const repos = new Map<string, RepoState>();
  const requests: HostRecord[] = [];
  const statuses: StatusRecord[] = [];
  const deletedRefs: Array<{ repo: string; branch: string }> = [];
  const scripted = new Map<RouteKind, HostReply[]>();
  /** Old full name -> new full name, and the status its redirects use (default: the host's own). */
  const moved = new Map<string, { to: string; status?: number }>();
  const sockets = new Set<Socket>();
  let nextId = 100;
  let apiUrl = "";
  let codeloadUrl = "";

  const repo = (fullName: string): RepoState => {
    let state = repos.get(fullName);
    if (!state) {
      state = {
        defaultBranch: "main",
        branches: new Map([["main", commitOf("main")]]),
        protectedBranches: new Map(),
        rules: new Map(),
        deleteRestrictions: [],
        restrictionsReadable: false,
        pulls: new Map(),
        archives: new Map(),
        id: nextId++,
      };
      repos.set(fullName, state);
    }
    return state;
  };
  const byId = (id: string): [string, RepoState] | undefined => {
    const decoded = decodeURIComponent(id);
    for (const [name, state] of repos)
      if (name === decoded || String(state.id) === decoded) return [name, state];
    return undefined;
  };

  const handler = (listener: "api" | "codeload") => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(listener, req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
  };

  /** A commit status as the host received it; each host names the context and the link its own way. */
  const recordStatus = (
    repo: string,
    sha: string | undefined,
    form: Record<string, string>,
    context: string | undefined,
    targetUrl: string | undefined,
  ) => {
    statuses.push({
      repo,
      sha: sha ?? "",
      state: form.state ?? "",
      context: context ?? "",
      description: form.description,
      targetUrl,
      // GitLab's and Data Center's ref, Bitbucket Cloud's refname.
      ...(form.ref || form.refname ? { ref: form.ref ?? form.refname } : {}),
    });
  };

  const json = (
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  };

  async function handle(
    listener: "api" | "codeload",
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
  ) {
    const parsed = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    /** A redirect to `location`, with the request's query, and GitHub's body. */
    const redirect = (status: number, location: string) => {
      const to = `${location}${parsed.search}`;
      json(
        res,
        status,
        { message: status === 301 ? "Moved Permanently" : "Temporary Redirect", url: to },
        { location: to },
      );
    };
    // Raw segments (still encoded) so that GitLab's url-encoded project path stays one segment.
    const raw = parsed.pathname.split("/").slice(1);
    let path = raw;
    let flavour: "github" | "gitlab" | "gitea" = "github";
    if (raw[0] === "api" && raw[1] === "v4") {
      flavour = "gitlab";
      path = raw.slice(2);
    } else if (raw[0] === "api" && raw[1] === "v1") {
      flavour = "gitea";
      path = raw.slice(2);
    }
    const seg = path.map((s) => decodeURIComponent(s));
    const authHeader = req.headers.authorization ?? "";
    const privateToken = req.headers["private-token"];
    const hadAuthorization = authHeader !== "" || privateToken !== undefined;
    const basic = options.basic
      ? `Basic ${Buffer.from(`${options.basic.user}:${options.basic.password}`).toString("base64")}`
      : undefined;
    const authorized =
      authHeader === `Bearer ${token}` ||
      authHeader === `token ${token}` ||
      privateToken === token ||
      authHeader === basic;

    let kind: RouteKind | undefined;
    let act: (() => Promise<void> | void) | undefined;

    const serveArchive = async (fullName: string, sha: string, top: string) => {
      const archive = repos.get(fullName)?.archives.get(sha);
      if (!archive) return json(res, 404, { message: "Not Found" });
      if ("files" in archive) {
        const zip = await buildZip(archive.files, top, archive.modes);
        res.writeHead(200, { "content-type": "application/zip", "content-length": String(zip.length) });
        res.end(zip);
        return;
      }
      if ("zip" in archive) {
        const type = archive.contentType === undefined ? "application/zip" : archive.contentType;
        res.writeHead(200, {
          ...(type === null ? {} : { "content-type": type }),
          "content-length": String(archive.zip.length),
        });
        res.end(archive.zip);
        return;
      }
      const stream: Readable = generatedZipStream({ topFolder: top, ...archive.generate });
      res.writeHead(200, { "content-type": "application/zip" });
      stream.pipe(res);
    };

    if (listener === "codeload") {
      // /{owner}/{repo}/legacy.zip/{sha}
      if (method === "GET" && seg.length === 4 && seg[2] === "legacy.zip") {
        kind = "archive";
        const [owner, name, , sha] = seg as [string, string, string, string];
        act = () => serveArchive(`${owner}/${name}`, sha, `${owner}-${name}-${sha.slice(0, 7)}`);
      }
    } else if (flavour === "gitlab") {
      const project = path[1] !== undefined ? byId(path[1]) : undefined;
      const move = seg[0] === "projects" && !project ? moved.get(seg[1] ?? "") : undefined;
      if (method === "GET" && seg[0] === "merge_requests" && seg.length === 1) {
        // GitLab's global list: the merge requests of every project the token may read (not the hidden ones),
        // by default only the token user's own (scope created_by_me: none here), every one with scope=all.
        // source_project_id is ignored, as on the projects' lists here.
        kind = "all-pulls";
        act = () => {
          const q = parsed.searchParams;
          const wanted = q.get("state") ?? "all";
          const source = q.get("source_branch");
          const all =
            q.get("scope") !== "all"
              ? []
              : [...repos.entries()]
                  .filter(([, state]) => !state.hidden)
                  .flatMap(([fullName, state]) =>
                    [...state.pulls.values()]
                      .filter(
                        (pull) =>
                          (wanted === "all" || gitlabState(pull) === wanted) &&
                          (source === null || pull.headRef === source),
                      )
                      .map((pull) => ({
                        iid: pull.number,
                        state: gitlabState(pull),
                        source_branch: pull.headRef,
                        target_branch: pull.baseRef ?? state.defaultBranch,
                        sha: pull.headSha,
                        source_project_id: repo(pull.headRepoFullName ?? fullName).id,
                        target_project_id: state.id,
                      })),
                  );
          const { items, page, pages } = paged(all, q.get("per_page"), q.get("page"), 20);
          json(res, 200, items, {
            "x-page": String(page),
            "x-next-page": page < pages ? String(page + 1) : "",
          });
        };
      } else if (seg[0] === "projects" && project?.[1].hidden) {
        act = () => json(res, 404, { message: "404 Project Not Found" });
      } else if (move) {
        // lib/api/helpers.rb, find_project!: a GET is redirected to the project's id, the rest refused.
        const id = repo(move.to).id;
        act = () =>
          method === "GET"
            ? redirect(301, `${apiUrl}/api/v4/projects/${id}/${raw.slice(4).join("/")}`.replace(/\/$/, ""))
            : json(res, 405, { message: "Non GET methods are not allowed for moved projects" });
      } else if (seg[0] === "projects" && project) {
        const [fullName, state] = project;
        const rest = seg.slice(2);
        const name = fullName.split("/").pop() ?? "";
        if (method === "GET" && rest.join("/") === "repository/archive.zip") {
          kind = "archive";
          const sha = parsed.searchParams.get("sha") ?? "";
          act = () => serveArchive(fullName, sha, `${name}-${sha}-${sha}`);
        } else if (method === "GET" && rest.length === 0) {
          kind = "repo";
          act = () =>
            json(res, 200, {
              id: state.id,
              path_with_namespace: fullName,
              default_branch: state.defaultBranch,
              ...(state.forkOf ? { mr_default_target_self: false } : {}),
              // ProjectDetails names the parent only to a user who may read it.
              ...(state.forkOf && !repo(state.forkOf).hidden
                ? {
                    forked_from_project: {
                      id: repo(state.forkOf).id,
                      path_with_namespace: state.forkOf,
                    },
                  }
                : {}),
            });
        } else if (method === "GET" && rest[0] === "merge_requests" && rest.length === 2) {
          kind = "pull";
          act = () => {
            const pull = state.pulls.get(Number(rest[1]));
            if (!pull) return json(res, 404, { message: "404 Not found" });
            const headRepo = pull.headRepoFullName ?? fullName;
            const sourceId = headRepo === fullName ? state.id : repo(headRepo).id;
            json(res, 200, {
              iid: pull.number,
              state: gitlabState(pull),
              source_branch: pull.headRef,
              target_branch: pull.baseRef ?? state.defaultBranch,
              sha: pull.headSha,
              source_project_id: sourceId,
              target_project_id: state.id,
              ...(pull.updatedAt ? { updated_at: pull.updatedAt } : {}),
            });
          };
        } else if (method === "GET" && rest[0] === "merge_requests" && rest.length === 1) {
          kind = "pulls";
          act = () => {
            const q = parsed.searchParams;
            const wanted = q.get("state") ?? "all";
            const target = q.get("target_branch");
            // source_branch is a name only: a fork's merge request from a branch of that name matches too.
            const source = q.get("source_branch");
            const all = [...state.pulls.values()]
              .map(asListed)
              .filter(
                (pull) =>
                  (wanted === "all" || gitlabState(pull) === wanted) &&
                  (target === null || (pull.baseRef ?? state.defaultBranch) === target) &&
                  (source === null || pull.headRef === source),
              );
            const { items, page, pages } = paged(all, q.get("per_page"), q.get("page"), 20);
            json(
              res,
              200,
              items.map((pull) => ({
                iid: pull.number,
                state: gitlabState(pull),
                source_branch: pull.headRef,
                target_branch: pull.baseRef ?? state.defaultBranch,
                sha: pull.headSha,
                source_project_id:
                  (pull.headRepoFullName ?? fullName) === fullName
                    ? state.id
                    : repo(pull.headRepoFullName ?? fullName).id,
                target_project_id: state.id,
              })),
              {
                "x-total": String(all.length),
                "x-total-pages": String(pages),
                "x-page": String(page),
                "x-next-page": page < pages ? String(page + 1) : "",
              },
            );
          };
        } else if (
          method === "GET" &&
          rest[0] === "repository" &&
          rest[1] === "branches" &&
          rest.length === 3
        ) {
          kind = "ref";
          act = () => {
            const sha = state.branches.get(rest[2] ?? "");
            if (!sha) return json(res, 404, { message: "404 Branch Not Found" });
            json(res, 200, {
              name: rest[2],
              protected: state.protectedBranches.has(rest[2] ?? ""),
              commit: { id: sha, short_id: sha.slice(0, 8) },
            });
          };
        } else if (method === "POST" && rest[0] === "statuses" && rest.length === 2) {
          kind = "status";
          act = () => {
            const form = parseBody(req, body);
            // GenericCommitStatus: validates :target_url, length: { maximum: 255 }.
            if ((form.target_url ?? "").length > 255) {
              json(res, 400, { message: { target_url: ["is too long (maximum is 255 characters)"] } });
              return;
            }
            recordStatus(fullName, rest[1], form, form.name ?? form.context, form.target_url);
            json(res, 201, { id: statuses.length, status: form.state });
          };
        } else if (
          method === "DELETE" &&
          rest[0] === "repository" &&
          rest[1] === "branches" &&
          rest.length === 3
        ) {
          kind = "delete-ref";
          act = () => deleteBranch(res, fullName, state, rest[2] ?? "", "gitlab");
        }
      }
    } else if (
      (seg[0] === "repos" && seg.length >= 3) ||
      (seg[0] === "repositories" && flavour === "github" && byId(seg[1] ?? "") !== undefined)
    ) {
      // GitHub and Gitea; GitHub also by id, where a moved repository's old path redirects.
      const byPath = seg[0] === "repos";
      const fullName = byPath ? `${seg[1]}/${seg[2]}` : (byId(seg[1] ?? "")?.[0] ?? "");
      const [owner, name] = fullName.split("/") as [string, string];
      const state = repos.get(fullName);
      const rest = seg.slice(byPath ? 3 : 2);
      const move = state ? undefined : moved.get(fullName);
      if (move && flavour === "github") {
        // GitHub: 301 to a GET, 307 to the other methods, to /repositories/{id}/… on the API's host.
        const status = move.status ?? (method === "GET" ? 301 : 307);
        act = () => redirect(status, [apiUrl, "repositories", repo(move.to).id, ...raw.slice(3)].join("/"));
      } else if (move) {
        // Gitea: RedirectToRepo answers 307 to the same path under the new name, relative to the server.
        const [newOwner, newName] = move.to.split("/").map(encodeURIComponent) as [string, string];
        act = () =>
          redirect(move.status ?? 307, ["/api/v1/repos", newOwner, newName, ...raw.slice(5)].join("/"));
      } else if (!state) {
        act = () => json(res, 404, { message: "Not Found" });
      } else if (method === "GET" && rest.length === 0) {
        kind = "repo";
        act = () => json(res, 200, { full_name: fullName, default_branch: state.defaultBranch });
      } else if (method === "GET" && rest[0] === "zipball" && rest.length === 2 && flavour === "github") {
        kind = "archive";
        act = () => {
          res.writeHead(302, {
            location: `${codeloadUrl}/${owner}/${name}/legacy.zip/${encodeURIComponent(rest[1] ?? "")}`,
          });
          res.end();
        };
      } else if (
        method === "GET" &&
        rest[0] === "archive" &&
        rest.length === 2 &&
        (rest[1] ?? "").endsWith(".zip")
      ) {
        kind = "archive";
        act = () => serveArchive(fullName, (rest[1] ?? "").slice(0, -4), name);
      } else if (method === "GET" && rest[0] === "pulls" && rest.length === 2) {
        kind = "pull";
        act = () => {
          const pull = state.pulls.get(Number(rest[1]));
          if (!pull) return json(res, 404, { message: "Not Found" });
          json(res, 200, {
            number: pull.number,
            state: pull.state,
            merged: pull.merged,
            head: {
              ref: pull.headRef,
              ...(pull.headLabel === undefined ? {} : { label: pull.headLabel }),
              sha: pull.headSha,
              repo: pull.headRepoFullName === null ? null : { full_name: pull.headRepoFullName ?? fullName },
            },
            base: {
              ref: pull.baseRef ?? state.defaultBranch,
              repo: { full_name: fullName, default_branch: state.defaultBranch },
            },
            ...(pull.updatedAt ? { updated_at: pull.updatedAt } : {}),
          });
        };
      } else if (method === "GET" && rest[0] === "pulls" && rest.length === 1) {
        kind = "pulls";
        act = () => {
          const q = parsed.searchParams;
          const wanted = q.get("state") ?? "open";
          // GitHub filters on base and on head (owner:branch); Gitea's list has no such filter, and ignores them.
          const base = flavour === "github" ? q.get("base") : null;
          const head = flavour === "github" ? q.get("head") : null;
          const headOwner = (pull: PullState) => (pull.headRepoFullName ?? fullName).split("/")[0];
          const all = [...state.pulls.values()]
            .map(asListed)
            .filter(
              (pull) =>
                (wanted === "all" || pull.state === wanted) &&
                (base === null || (pull.baseRef ?? state.defaultBranch) === base) &&
                (head === null || `${headOwner(pull)}:${pull.headRef}` === head),
            );
          const repoId = (pull: PullState) =>
            (pull.headRepoFullName ?? fullName) === fullName
              ? state.id
              : repo(pull.headRepoFullName ?? "").id;
          // Gitea caps `limit` at its MAX_RESPONSE_ITEMS, 50 by default.
          const size =
            flavour === "github" ? q.get("per_page") : String(Math.min(50, Number(q.get("limit")) || 50));
          const { items, page, pages } = paged(all, size, q.get("page"), flavour === "github" ? 30 : 50);
          const link = (n: number) => {
            const url = new URL(`${apiUrl}${parsed.pathname}${parsed.search}`);
            url.searchParams.set("page", String(n));
            return url.toString();
          };
          const links = [
            ...(page < pages ? [`<${link(page + 1)}>; rel="next"`, `<${link(pages)}>; rel="last"`] : []),
            ...(page > 1 ? [`<${link(1)}>; rel="first"`, `<${link(page - 1)}>; rel="prev"`] : []),
          ];
          json(
            res,
            200,
            items.map((pull) => ({
              number: pull.number,
              state: pull.state,
              head: { ref: pull.headRef, sha: pull.headSha, repo_id: repoId(pull) },
              base: { ref: pull.baseRef ?? state.defaultBranch, repo_id: state.id },
            })),
            {
              ...(links.length > 0 ? { link: links.join(", ") } : {}),
              ...(flavour === "gitea" ? { "x-total-count": String(all.length) } : {}),
            },
          );
        };
      } else if (method === "GET" && rest.slice(0, 3).join("/") === "git/ref/heads" && rest.length >= 4) {
        kind = "ref";
        act = () => {
          const branch = rest.slice(3).join("/");
          const sha = state.branches.get(branch);
          if (!sha) return json(res, 404, { message: "Not Found" });
          json(res, 200, { ref: `refs/heads/${branch}`, object: { sha, type: "commit" } });
        };
      } else if (method === "GET" && rest[0] === "branches" && rest.length >= 2) {
        kind = flavour === "gitea" ? "ref" : "branch";
        act = () => {
          const branch = rest.slice(1).join("/");
          const sha = state.branches.get(branch);
          if (!sha) return json(res, 404, { message: "branch does not exist" });
          // Gitea names the commit id; GitHub names it sha.
          json(res, 200, {
            name: branch,
            commit: flavour === "gitea" ? { id: sha } : { sha },
            protected:
              state.protectedBranches.has(branch) ||
              (flavour === "github" && (state.rules.get(branch) ?? []).length > 0),
          });
        };
      } else if (
        method === "GET" &&
        flavour === "github" &&
        rest[0] === "rules" &&
        rest[1] === "branches" &&
        rest.length >= 3
      ) {
        kind = "rules";
        act = () => {
          const types = state.rules.get(rest.slice(2).join("/")) ?? [];
          json(
            res,
            200,
            types.map((type, index) => ({
              type,
              ruleset_source_type: "Repository",
              ruleset_source: fullName,
              ruleset_id: index + 1,
            })),
          );
        };
      } else if (method === "POST" && rest[0] === "statuses" && rest.length === 2) {
        kind = "status";
        act = () => {
          const form = parseBody(req, body);
          recordStatus(fullName, rest[1], form, form.context, form.target_url);
          json(res, 201, { id: statuses.length, state: form.state });
        };
      } else if (method === "DELETE" && rest.slice(0, 3).join("/") === "git/refs/heads" && rest.length >= 4) {
        kind = "delete-ref";
        act = () => deleteBranch(res, fullName, state, rest.slice(3).join("/"), "github");
      } else if (method === "DELETE" && rest[0] === "branches" && rest.length >= 2) {
        kind = "delete-ref";
        act = () => deleteBranch(res, fullName, state, rest.slice(1).join("/"), "gitea");
      }
    } else if (
      seg[0] === "rest" &&
      (seg[1] === "api" || seg[1] === "branch-utils") &&
      seg[3] === "projects" &&
      seg[5] === "repos" &&
      seg.length >= 7
    ) {
      // Bitbucket Data Center (apiUrl …/rest/api/latest; branch deletion in …/rest/branch-utils/latest)
      const fullName = `${seg[4]}/${seg[6]}`;
      const state = repos.get(fullName);
      const rest = seg.slice(7);
      const ref = (branch: string) => ({ id: `refs/heads/${branch}`, displayId: branch });
      if (!state) {
        act = () => json(res, 404, { errors: [{ message: "Repository does not exist." }] });
      } else if (seg[1] === "branch-utils") {
        if (method === "DELETE" && rest.length === 1 && rest[0] === "branches") {
          kind = "delete-ref";
          act = () => {
            const form = parseBody(req, body);
            if (!form.name?.startsWith("refs/heads/") || form.dryRun !== "false") {
              return json(res, 400, { errors: [{ message: "name must be a full ref; dryRun false" }] });
            }
            // Data Center answers 204 whether the branch existed or not; 400 when it points elsewhere
            // than endPoint.
            const branch = form.name.slice("refs/heads/".length);
            const sha = state.branches.get(branch);
            if (sha !== undefined && form.endPoint !== undefined && form.endPoint !== sha) {
              return json(res, 400, {
                errors: [{ message: `${form.name} points at ${sha}, not at ${form.endPoint}` }],
              });
            }
            if (state.branches.delete(branch)) deletedRefs.push({ repo: fullName, branch });
            res.writeHead(204);
            res.end();
          };
        }
      } else if (
        method === "GET" &&
        (rest.join("/") === "default-branch" || rest.join("/") === "branches/default")
      ) {
        kind = "repo";
        act = () => json(res, 200, { ...ref(state.defaultBranch), type: "BRANCH", isDefault: true });
      } else if (method === "GET" && rest[0] === "branches" && rest.length === 1) {
        kind = "ref";
        act = () => {
          const q = parsed.searchParams;
          const text = q.get("filterText") ?? "";
          const names = [...state.branches.keys()].filter((name) => name.includes(text)).sort();
          if (q.get("boostMatches") === "true" && names.includes(text)) {
            names.splice(names.indexOf(text), 1);
            names.unshift(text);
          }
          const limit = Number(q.get("limit") ?? 25);
          const start = Number(q.get("start") ?? 0);
          const page = names.slice(start, start + limit);
          const isLastPage = start + limit >= names.length;
          json(res, 200, {
            size: page.length,
            limit,
            isLastPage,
            start,
            ...(isLastPage ? {} : { nextPageStart: start + limit }),
            values: page.map((name) => ({
              ...ref(name),
              type: "BRANCH",
              latestCommit: state.branches.get(name),
            })),
          });
        };
      } else if (method === "GET" && rest[0] === "pull-requests" && rest.length === 1) {
        kind = "pulls";
        act = () => {
          const q = parsed.searchParams;
          const wanted = q.get("state") ?? "OPEN";
          const at = q.get("at");
          const short = at?.startsWith("refs/heads/") ? at.slice("refs/heads/".length) : at;
          const incoming = (q.get("direction") ?? "INCOMING") === "INCOMING";
          // OUTGOING: from a branch of this repository (a fork's pull request comes from another one).
          const all = [...state.pulls.values()]
            .map(asListed)
            .filter(
              (pull) =>
                (wanted === "ALL" || bitbucketState(pull) === wanted) &&
                (short == null ||
                  (incoming ? (pull.baseRef ?? state.defaultBranch) : pull.headRef) === short) &&
                (incoming || (pull.headRepoFullName ?? fullName) === fullName),
            );
          const limit = Number(q.get("limit") ?? 25);
          const start = Number(q.get("start") ?? 0);
          const values = all.slice(start, start + limit).map((pull) => ({
            id: pull.number,
            state: bitbucketState(pull),
            fromRef: { ...ref(pull.headRef), latestCommit: pull.headSha },
            toRef: ref(pull.baseRef ?? state.defaultBranch),
          }));
          const isLastPage = start + limit >= all.length;
          json(res, 200, {
            size: values.length,
            limit,
            start,
            isLastPage,
            values,
            ...(isLastPage ? {} : { nextPageStart: start + limit }),
          });
        };
      } else if (method === "GET" && rest[0] === "pull-requests" && rest.length === 2) {
        kind = "pull";
        act = () => {
          const pull = state.pulls.get(Number(rest[1]));
          if (!pull) return json(res, 404, { errors: [{ message: "Pull request does not exist." }] });
          const [key, slug] = (pull.headRepoFullName ?? fullName).split("/");
          json(res, 200, {
            id: pull.number,
            state: pull.state === "open" ? "OPEN" : pull.merged ? "MERGED" : "DECLINED",
            fromRef: {
              ...ref(pull.headRef),
              latestCommit: pull.headSha,
              repository: { slug, project: { key } },
            },
            toRef: {
              ...ref(pull.baseRef ?? state.defaultBranch),
              repository: { slug: seg[6], project: { key: seg[4] } },
            },
            ...(pull.updatedAt ? { updatedDate: Date.parse(pull.updatedAt) } : {}),
          });
        };
      } else if (method === "POST" && rest[0] === "commits" && rest[2] === "builds" && rest.length === 3) {
        kind = "status";
        act = () => {
          const form = parseBody(req, body);
          recordStatus(fullName, rest[1], form, form.key, form.url);
          res.writeHead(204);
          res.end();
        };
      }
    } else if (seg[0] === "2.0" && seg[1] === "repositories" && seg.length >= 4) {
      // Bitbucket Cloud API (apiUrl …/2.0)
      const fullName = `${seg[2]}/${seg[3]}`;
      const state = repos.get(fullName);
      const rest = seg.slice(4);
      if (!state) {
        act = () => json(res, 404, { type: "error", error: { message: "Repository not found" } });
      } else if (state.hidden) {
        // "If the repository is private and the authenticated user does not have access to it" (403).
        act = () =>
          json(res, 403, { type: "error", error: { message: "You do not have access to this repository." } });
      } else if (method === "GET" && rest.length === 0) {
        kind = "repo";
        act = () =>
          json(res, 200, {
            full_name: fullName,
            mainbranch: { name: state.defaultBranch },
            ...(state.forkOf ? { parent: { type: "repository", full_name: state.forkOf } } : {}),
          });
      } else if (method === "GET" && rest[0] === "pullrequests" && rest.length === 2) {
        kind = "pull";
        act = () => {
          const pull = state.pulls.get(Number(rest[1]));
          if (!pull) return json(res, 404, { type: "error", error: { message: "Not found" } });
          json(res, 200, {
            id: pull.number,
            state: pull.state === "open" ? "OPEN" : pull.merged ? "MERGED" : "DECLINED",
            source: {
              branch: { name: pull.headRef },
              commit: { hash: pull.headSha.slice(0, 12) },
              repository: { full_name: pull.headRepoFullName ?? fullName },
            },
            destination: {
              branch: { name: pull.baseRef ?? state.defaultBranch },
              repository: { full_name: fullName },
            },
            // Bitbucket Cloud writes microseconds and an offset: 2026-12-06T01:00:00.000000+00:00.
            ...(pull.updatedAt
              ? { updated_on: new Date(pull.updatedAt).toISOString().replace(/Z$/, "000+00:00") }
              : {}),
          });
        };
      } else if (method === "GET" && rest[0] === "pullrequests" && rest.length === 1) {
        kind = "pulls";
        act = () => {
          const q = parsed.searchParams;
          const query = q.get("q");
          // As client libraries report Bitbucket Cloud: beside q, the state parameter is ignored (the worst case
          // hookgate must handle; it says the state in q as well).
          const wanted = query === null ? (q.get("state") ?? "OPEN") : undefined;
          // Only the filters hookgate sends: field="…" clauses joined by AND, with \" and \\ escaped, on
          // state, destination.branch.name, source.branch.name and source.repository.full_name.
          const clause =
            /^(state|destination\.branch\.name|source\.branch\.name|source\.repository\.full_name)\s*=\s*"((?:[^"\\]|\\.)*)"$/;
          const clauses = query === null ? [] : query.split(" AND ").map((part) => clause.exec(part.trim()));
          if (clauses.some((match) => !match)) {
            return json(res, 400, { type: "error", error: { message: `Invalid filter query: ${query}` } });
          }
          const filters = new Map(clauses.map((match) => [match?.[1], match?.[2]?.replace(/\\(.)/g, "$1")]));
          const stateClause = filters.get("state");
          const destination = filters.get("destination.branch.name");
          const sourceBranch = filters.get("source.branch.name");
          const sourceRepo = filters.get("source.repository.full_name");
          const all = [...state.pulls.values()]
            .map(asListed)
            .filter(
              (pull) =>
                (wanted === undefined || bitbucketState(pull) === wanted) &&
                (stateClause === undefined || bitbucketState(pull) === stateClause) &&
                (destination === undefined || (pull.baseRef ?? state.defaultBranch) === destination) &&
                (sourceBranch === undefined || pull.headRef === sourceBranch) &&
                (sourceRepo === undefined || (pull.headRepoFullName ?? fullName) === sourceRepo),
            );
          const { items, page, pages } = paged(all, q.get("pagelen"), q.get("page"), 10);
          const next = new URL(`${apiUrl}${parsed.pathname}${parsed.search}`);
          next.searchParams.set("page", String(page + 1));
          json(res, 200, {
            size: all.length,
            page,
            pagelen: items.length,
            values: items.map((pull) => ({
              id: pull.number,
              state: bitbucketState(pull),
              source: { branch: { name: pull.headRef }, commit: { hash: pull.headSha.slice(0, 12) } },
              destination: { branch: { name: pull.baseRef ?? state.defaultBranch } },
            })),
            ...(page < pages ? { next: next.toString() } : {}),
          });
        };
      } else if (method === "GET" && rest[0] === "branch-restrictions" && rest.length === 1) {
        kind = "restrictions";
        act = () => {
          if (!state.restrictionsReadable) {
            return json(res, 403, {
              type: "error",
              error: { message: "Your credentials lack one or more required privilege scopes." },
            });
          }
          const q = parsed.searchParams;
          const all = state.deleteRestrictions
            .map((each, i) => ({
              type: "branchrestriction",
              id: i + 1,
              kind: "delete",
              ...("pattern" in each
                ? { branch_match_kind: "glob", pattern: each.pattern }
                : { branch_match_kind: "branching_model", branch_type: each.branchType, pattern: "" }),
              users: [],
              groups: [],
            }))
            .filter((each) => (q.get("kind") ?? each.kind) === each.kind);
          const { items, page, pages } = paged(all, q.get("pagelen"), q.get("page"), 10);
          const next = new URL(`${apiUrl}${parsed.pathname}${parsed.search}`);
          next.searchParams.set("page", String(page + 1));
          json(res, 200, {
            size: all.length,
            page,
            pagelen: items.length,
            values: items,
            ...(page < pages ? { next: next.toString() } : {}),
          });
        };
      } else if (method === "GET" && rest[0] === "effective-branching-model" && rest.length === 1) {
        kind = "branching-model";
        act = () => {
          if (state.branchingModelHidden) {
            return json(res, 403, { type: "error", error: { message: "Access denied." } });
          }
          const model = branchingModelOf(state);
          const target = (name: string) => ({
            name,
            use_mainbranch: name === state.defaultBranch,
            ...(state.branches.has(name) ? { branch: { type: "branch", name } } : {}),
          });
          json(res, 200, {
            type: "effective_repo_branching_model",
            branch_types: model.branchTypes,
            ...(model.development !== undefined ? { development: target(model.development) } : {}),
            ...(model.production !== undefined ? { production: target(model.production) } : {}),
          });
        };
      } else if (method === "GET" && rest[0] === "refs" && rest[1] === "branches" && rest.length >= 3) {
        kind = "ref";
        act = () => {
          const branch = rest.slice(2).join("/");
          const sha = state.branches.get(branch);
          if (!sha)
            return json(res, 404, { type: "error", error: { message: `Branch "${branch}" not found` } });
          json(res, 200, { name: branch, type: "branch", target: { hash: sha, type: "commit" } });
        };
      } else if (method === "POST" && rest[0] === "commit" && rest[2] === "statuses" && rest[3] === "build") {
        kind = "status";
        act = () => {
          const form = parseBody(req, body);
          recordStatus(fullName, rest[1], form, form.key, form.url);
          json(res, 201, { key: form.key, state: form.state });
        };
      } else if (method === "DELETE" && rest[0] === "refs" && rest[1] === "branches" && rest.length >= 3) {
        kind = "delete-ref";
        act = () => deleteBranch(res, fullName, state, rest.slice(2).join("/"), "bitbucket");
      }
    } else if (method === "GET" && seg.length === 4 && seg[2] === "get" && (seg[3] ?? "").endsWith(".zip")) {
      // Bitbucket Cloud: /{owner}/{repo}/get/{sha}.zip
      kind = "archive";
      const sha = (seg[3] ?? "").slice(0, -4);
      act = () => serveArchive(`${seg[0]}/${seg[1]}`, sha, `${seg[0]}-${seg[1]}-${sha.slice(0, 12)}`);
    }

    if (kind === undefined && method === "GET" && parsed.pathname === "/account/signin/") kind = "sign-in";
    requests.push({
      method,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      kind,
      listener,
      hadAuthorization,
      authorized,
      ...(authHeader ? { authorization: authHeader } : {}),
    });
    if (listener === "api" && requireAuth && !authorized) {
      return json(res, 401, { message: "Bad credentials" });
    }
    const reply = kind ? scripted.get(kind)?.shift() : undefined;
    if (reply) {
      if ("drop" in reply) {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.body ?? JSON.stringify({ message: `scripted ${reply.status}` }));
      return;
    }
    if (!act) return json(res, 404, { message: "Not Found" });
    await act();
  }

  /** The branching model a Bitbucket Cloud repository applies its branch-type restrictions by. */
  function branchingModelOf(state: RepoState): BranchingModel {
    return (
      state.branchingModel ?? {
        branchTypes: ["feature", "bugfix", "release", "hotfix"].map((kind) => ({ kind, prefix: `${kind}/` })),
        development: state.defaultBranch,
      }
    );
  }

  function deleteBranch(
    res: http.ServerResponse,
    fullName: string,
    state: RepoState,
    branch: string,
    flavour: string,
  ) {
    if (!state.branches.has(branch)) {
      if (flavour === "github") return json(res, 422, { message: "Reference does not exist" });
      return json(res, 404, { message: "404 Branch Not Found" });
    }
    const protection = state.protectedBranches.get(branch);
    if (protection && !(flavour === "github" && protection.allowDeletions)) {
      if (flavour === "gitea") return json(res, 403, { message: "branch protected", url: "" });
      if (flavour === "gitlab") return json(res, 405, { message: "Protected branch cant be removed" });
      return json(res, 422, { message: "Cannot delete this protected branch" });
    }
    const model = branchingModelOf(state);
    const types = [
      ...model.branchTypes.filter((each) => branch.startsWith(each.prefix)).map((each) => each.kind),
      ...(model.development === branch ? ["development"] : []),
      ...(model.production === branch ? ["production"] : []),
    ];
    const restricted = state.deleteRestrictions.some((each) =>
      "pattern" in each
        ? new RegExp(`^${each.pattern.split("*").map(escapeRegExp).join(".*")}$`).test(branch)
        : types.includes(each.branchType),
    );
    if (flavour === "bitbucket" && restricted) {
      return json(res, 403, {
        type: "error",
        error: { message: `Branch "${branch}" cannot be deleted: a branch restriction prevents it` },
      });
    }
    if (flavour === "github" && state.rules.get(branch)?.includes("deletion")) {
      return json(res, 422, { message: "Repository rule violations found\n\nCannot delete this branch" });
    }
    state.branches.delete(branch);
    deletedRefs.push({ repo: fullName, branch });
    res.writeHead(204);
    res.end();
  }

  const tls = options.tls;
  const serverFor = (listener: "api" | "codeload") =>
    tls
      ? https.createServer({ key: tls.key, cert: tls.cert }, handler(listener))
      : http.createServer(handler(listener));
  const api = serverFor("api");
  const codeload = serverFor("codeload");
  for (const server of [api, codeload]) {
    // A TLS server emits "connection" for the TCP socket too: closing it ends the TLS one.
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  }
  const scheme = tls ? "https" : "http";
  apiUrl = `${scheme}://127.0.0.1:${(api.address() as AddressInfo).port}`;
  codeloadUrl = `${scheme}://127.0.0.1:${(codeload.address() as AddressInfo).port}`;

  return {
    url: apiUrl,
    codeloadUrl,
    requests,
    statuses,
    deletedRefs,
    setRepo: (fullName, state = {}) => {
      const r = repo(fullName);
      if (state.defaultBranch) r.defaultBranch = state.defaultBranch;
      for (const b of [r.defaultBranch, ...(state.branches ?? [])]) {
        if (!r.branches.has(b)) r.branches.set(b, commitOf(b));
      }
    },
    setPull: (fullName, pull) => {
      const r = repo(fullName);
      r.pulls.set(pull.number, pull);
      if (!pull.headRepoFullName || pull.headRepoFullName === fullName) {
        r.branches.set(pull.headRef, pull.headSha);
      }
    },
    setBranch: (fullName, branch, sha) => {
      const r = repo(fullName);
      if (sha === undefined) r.branches.delete(branch);
      else r.branches.set(branch, sha);
    },
    protectBranch: (fullName, branch, options = {}) => {
      repo(fullName).protectedBranches.set(branch, { allowDeletions: options.allowDeletions === true });
    },
    setRules: (fullName, branch, types) => {
      repo(fullName).rules.set(branch, types);
    },
    setFork: (fork, parent, options = {}) => {
      repo(fork).forkOf = parent;
      repo(parent).hidden = options.parentReadable === false;
    },
    setBranchingModel: (fullName, model, options = {}) => {
      const r = repo(fullName);
      if (model !== undefined) r.branchingModel = model;
      r.branchingModelHidden = options.readable === false;
    },
    setDeleteRestrictions: (fullName, restrictions, options = {}) => {
      const r = repo(fullName);
      r.deleteRestrictions = restrictions;
      r.restrictionsReadable = options.readable ?? true;
    },
    branchSha: (fullName, branch) => repos.get(fullName)?.branches.get(branch),
    setArchive: (fullName, sha, archive) => {
      repo(fullName).archives.set(sha, archive);
    },
    branches: (fullName) => [...(repos.get(fullName)?.branches.keys() ?? [])].sort(),
    moveRepo: (from, to, options = {}) => {
      const state = repo(from);
      repos.delete(from);
      repos.set(to, state);
      for (const pull of state.pulls.values()) {
        if (pull.headRepoFullName === from) pull.headRepoFullName = to;
      }
      for (const move of moved.values()) if (move.to === from) move.to = to;
      moved.delete(to);
      moved.set(from, { to, status: options.status });
    },
    script: (kind, ...replies) => {
      const list = scripted.get(kind) ?? [];
      list.push(...replies);
      scripted.set(kind, list);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([api, codeload].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A commit id of a branch created without one: stable, 40 hex digits. */
function commitOf(branch: string): string {
  return createHash("sha1").update(`branch ${branch}`).digest("hex");
}

/** One page of a list, 1-based, with the page size the client asked for (or the host's default). */
function paged<T>(
  all: T[],
  size: string | null,
  page: string | null,
  defaultSize: number,
): { items: T[]; page: number; pages: number } {
  const perPage = Math.max(1, Number(size) || defaultSize);
  const n = Math.max(1, Number(page) || 1);
  return {
    items: all.slice((n - 1) * perPage, n * perPage),
    page: n,
    pages: Math.max(1, Math.ceil(all.length / perPage)),
  };
}

function parseBody(req: http.IncomingMessage, body: Buffer): Record<string, string> {
  const text = body.toString("utf8");
  if (String(req.headers["content-type"] ?? "").includes("json")) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** A pull request as the repository's lists show it: open while `listedOpen` says so. */
function asListed(pull: PullState): PullState {
  return pull.listedOpen ? { ...pull, state: "open", merged: false } : pull;
}

/** A pull request's state as both Bitbucket APIs name it. */
function bitbucketState(pull: PullState): "OPEN" | "MERGED" | "DECLINED" {
  return pull.state === "open" ? "OPEN" : pull.merged ? "MERGED" : "DECLINED";
}

/** A merge request's state as GitLab's API names it. */
function gitlabState(pull: PullState): "opened" | "merged" | "closed" {
  return pull.state === "open" ? "opened" : pull.merged ? "merged" : "closed";
}
