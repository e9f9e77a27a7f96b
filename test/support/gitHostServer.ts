// A Git-host API server for integration tests: 127.0.0.1, port 0. GitHub-shaped routes first, with
// the GitLab, Bitbucket Cloud, Bitbucket Data Center and Gitea routes the actions use. Archives are REAL zips with the
// provider's single top folder. GitHub's zipball answers 302 to a second listener (a "codeload" on
// another port, so another origin), which records whether an Authorization header followed it.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Readable } from "node:stream";
import { buildZip, type FileMap, generatedZipStream } from "./zips";

export type Archive =
  | { files: FileMap; modes?: Record<string, number> }
  | { generate: { totalBytes: number; fileBytes?: number } }
  /** Served verbatim (e.g. a crafted zip-slip archive). */
  | { zip: Buffer };

export type HostReply =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Destroy the socket without an answer. */
  | { drop: true };

export type RouteKind = "archive" | "pull" | "repo" | "status" | "delete-ref";

export interface PullState {
  number: number;
  state: "open" | "closed";
  merged: boolean;
  headRef: string;
  headSha: string;
  /** Default: the repository itself. */
  headRepoFullName?: string;
  baseRef?: string;
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
  /** Reject requests without a valid token (default true). */
  requireAuth?: boolean;
}

interface RepoState {
  defaultBranch: string;
  branches: Set<string>;
  pulls: Map<number, PullState>;
  archives: Map<string, Archive>;
  gitlabId: number;
}

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
  setRepo(fullName: string, state?: { defaultBranch?: string; branches?: string[] }): void;
  setPull(fullName: string, pull: PullState): void;
  setArchive(fullName: string, sha: string, archive: Archive): void;
  branches(fullName: string): string[];
  /** Queue replies for the next requests of one kind, before the normal handling applies again. */
  script(kind: RouteKind, ...replies: HostReply[]): void;
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
  const sockets = new Set<Socket>();
  let nextGitlabId = 100;
  let apiUrl = "";
  let codeloadUrl = "";

  const repo = (fullName: string): RepoState => {
    let state = repos.get(fullName);
    if (!state) {
      state = {
        defaultBranch: "main",
        branches: new Set(["main"]),
        pulls: new Map(),
        archives: new Map(),
        gitlabId: nextGitlabId++,
      };
      repos.set(fullName, state);
    }
    return state;
  };
  const byGitlabId = (id: string): [string, RepoState] | undefined => {
    const decoded = decodeURIComponent(id);
    for (const [name, state] of repos)
      if (name === decoded || String(state.gitlabId) === decoded) return [name, state];
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
      ...(form.ref ? { ref: form.ref } : {}),
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
    const authorized =
      authHeader === `Bearer ${token}` || authHeader === `token ${token}` || privateToken === token;

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
        res.writeHead(200, {
          "content-type": "application/zip",
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
      const project = path[1] !== undefined ? byGitlabId(path[1]) : undefined;
      if (seg[0] === "projects" && project) {
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
              id: state.gitlabId,
              path_with_namespace: fullName,
              default_branch: state.defaultBranch,
            });
        } else if (method === "GET" && rest[0] === "merge_requests" && rest.length === 2) {
          kind = "pull";
          act = () => {
            const pull = state.pulls.get(Number(rest[1]));
            if (!pull) return json(res, 404, { message: "404 Not found" });
            const headRepo = pull.headRepoFullName ?? fullName;
            const sourceId = headRepo === fullName ? state.gitlabId : repo(headRepo).gitlabId;
            json(res, 200, {
              iid: pull.number,
              state: pull.state === "open" ? "opened" : pull.merged ? "merged" : "closed",
              source_branch: pull.headRef,
              target_branch: pull.baseRef ?? state.defaultBranch,
              sha: pull.headSha,
              source_project_id: sourceId,
              target_project_id: state.gitlabId,
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
    } else if (seg[0] === "repos" && seg.length >= 3) {
      // GitHub and Gitea
      const fullName = `${seg[1]}/${seg[2]}`;
      const state = repos.get(fullName);
      const rest = seg.slice(3);
      if (!state) {
        act = () => json(res, 404, { message: "Not Found" });
      } else if (method === "GET" && rest.length === 0) {
        kind = "repo";
        act = () => json(res, 200, { full_name: fullName, default_branch: state.defaultBranch });
      } else if (method === "GET" && rest[0] === "zipball" && rest.length === 2 && flavour === "github") {
        kind = "archive";
        act = () => {
          res.writeHead(302, {
            location: `${codeloadUrl}/${seg[1]}/${seg[2]}/legacy.zip/${encodeURIComponent(rest[1] ?? "")}`,
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
        act = () => serveArchive(fullName, (rest[1] ?? "").slice(0, -4), seg[2] ?? "");
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
              sha: pull.headSha,
              repo: { full_name: pull.headRepoFullName ?? fullName },
            },
            base: {
              ref: pull.baseRef ?? state.defaultBranch,
              repo: { full_name: fullName, default_branch: state.defaultBranch },
            },
          });
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
            // Data Center answers 204 whether the branch existed or not.
            const branch = form.name.slice("refs/heads/".length);
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
      } else if (method === "GET" && rest.length === 0) {
        kind = "repo";
        act = () => json(res, 200, { full_name: fullName, mainbranch: { name: state.defaultBranch } });
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
          });
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

    requests.push({
      method,
      path: parsed.pathname,
      query: Object.fromEntries(parsed.searchParams),
      kind,
      listener,
      hadAuthorization,
      authorized,
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
    state.branches.delete(branch);
    deletedRefs.push({ repo: fullName, branch });
    res.writeHead(204);
    res.end();
  }

  const api = http.createServer(handler("api"));
  const codeload = http.createServer(handler("codeload"));
  for (const server of [api, codeload]) {
    server.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  }
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  codeloadUrl = `http://127.0.0.1:${(codeload.address() as AddressInfo).port}`;

  return {
    url: apiUrl,
    codeloadUrl,
    requests,
    statuses,
    deletedRefs,
    setRepo: (fullName, state = {}) => {
      const r = repo(fullName);
      if (state.defaultBranch) r.defaultBranch = state.defaultBranch;
      r.branches.add(r.defaultBranch);
      for (const b of state.branches ?? []) r.branches.add(b);
    },
    setPull: (fullName, pull) => {
      const r = repo(fullName);
      r.pulls.set(pull.number, pull);
      if (!pull.headRepoFullName || pull.headRepoFullName === fullName) r.branches.add(pull.headRef);
    },
    setArchive: (fullName, sha, archive) => {
      repo(fullName).archives.set(sha, archive);
    },
    branches: (fullName) => [...(repos.get(fullName)?.branches ?? [])].sort(),
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
