// delete-branch and an open pull request from the same branch into another repository: the upstream this
// repository is a fork of. Deleting the branch closes that pull request on GitHub and on Gitea, whose
// DeleteBranch closes every unmerged pull request whose head is this branch of this repository, whatever its
// base repository (go-gitea/gitea services/pull/pull.go, GetUnmergedPullRequestsByHeadInfo), as the fake does.
// On GitLab and Bitbucket Cloud the merge request (pull request) into the upstream stays open without its
// source branch; those run against the shared fake Git host (test/support/gitHostServer.ts).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest, Provider } from "../../src/core/types";
import { type HostReply, type PullState, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, PR_HEAD_SHA, testClients } from "./helpers";

interface Pull {
  number: number;
  baseRepo: string;
  baseRef: string;
  headRepo: string;
  headRef: string;
  open: boolean;
  merged: boolean;
}

const REPO_IDS: Record<string, number> = { "acme/api": 1, "upstream/api": 2, "other/api": 3, "root/api": 4 };

interface HostOptions {
  /** Whether acme/api is a fork of upstream/api (default true). */
  fork?: boolean;
  /** What upstream/api's pull request list answers instead of the list (a private parent: 404). */
  upstreamPullsStatus?: number;
  /** upstream/api's pull requests besides acme/api#7 (default: #3, from acme/api feature/login, open). */
  upstreamPulls?: Pull[];
  /** Whether upstream/api is itself a fork of root/api, the root of the network (GitHub's `source`). */
  forkOfFork?: boolean;
  /** What root/api's pull request list answers instead of the list. */
  rootPullsStatus?: number;
  /** The `source` a first fork's GitHub answer names (default upstream/api, its parent). */
  firstForkSource?: string;
}

const UPSTREAM_3: Pull = {
  number: 3,
  baseRepo: "upstream/api",
  baseRef: "main",
  headRepo: "acme/api",
  headRef: "feature/login",
  open: true,
  merged: false,
};

async function startHost(flavour: "github" | "gitea", options: HostOptions = {}) {
  const fork = options.fork ?? true;
  const branches = new Map<string, string>([["acme/api:feature/login", PR_HEAD_SHA]]);
  const pulls: Pull[] = [
    // acme/api#7: feature/login -> main, merged: the event pr-cleanup runs for.
    {
      number: 7,
      baseRepo: "acme/api",
      baseRef: "main",
      headRepo: "acme/api",
      headRef: "feature/login",
      open: false,
      merged: true,
    },
    ...(options.upstreamPulls ?? [UPSTREAM_3]).map((p) => ({ ...p })),
  ];
  const requests: string[] = [];
  const forkOfFork = options.forkOfFork === true;
  const root = { id: REPO_IDS["root/api"], full_name: "root/api", fork: false };
  const repoAnswer = (fullName: string) => ({
    id: REPO_IDS[fullName],
    full_name: fullName,
    default_branch: "main",
    fork: (fullName === "acme/api" && fork) || (fullName === "upstream/api" && forkOfFork),
    ...(fullName === "acme/api" && fork
      ? {
          parent: { id: REPO_IDS["upstream/api"], full_name: "upstream/api", fork: forkOfFork },
          // GitHub names the root of the fork network too (`source`, the parent itself for a first fork);
          // Gitea's answer has no such field.
          ...(flavour === "github"
            ? {
                source: forkOfFork ? root : { ...root, full_name: options.firstForkSource ?? "upstream/api" },
              }
            : {}),
        }
      : {}),
    ...(fullName === "upstream/api" && forkOfFork
      ? { parent: root, ...(flavour === "github" ? { source: root } : {}) }
      : {}),
  });
  const shape = (p: Pull) => ({
    number: p.number,
    state: p.open ? "open" : "closed",
    merged: p.merged,
    head: {
      ref: p.headRef,
      label: flavour === "github" ? `${p.headRepo.split("/")[0]}:${p.headRef}` : p.headRef,
      sha: PR_HEAD_SHA,
      ...(flavour === "gitea" ? { repo_id: REPO_IDS[p.headRepo] } : {}),
      repo: { full_name: p.headRepo },
    },
    base: {
      ref: p.baseRef,
      ...(flavour === "gitea" ? { repo_id: REPO_IDS[p.baseRepo] } : {}),
      repo: { full_name: p.baseRepo, default_branch: "main" },
    },
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname.replace(/^\/api\/v1/, ""));
    requests.push(`${req.method} ${path}${url.search}`);
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    req.resume();
    req.on("end", () => {
      let m: RegExpExecArray | null = /^\/repos\/([^/]+\/[^/]+)$/.exec(path);
      if (m && req.method === "GET") {
        return m[1] && m[1] in REPO_IDS ? send(200, repoAnswer(m[1])) : send(404, { message: "Not Found" });
      }
      m = /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/.exec(path);
      if (m) {
        const p = pulls.find((x) => x.baseRepo === m?.[1] && x.number === Number(m?.[2]));
        return p ? send(200, shape(p)) : send(404, { message: "Not Found" });
      }
      m = /^\/repos\/([^/]+\/[^/]+)\/pulls$/.exec(path);
      if (m) {
        if (m[1] === "upstream/api" && options.upstreamPullsStatus !== undefined) {
          return send(options.upstreamPullsStatus, { message: "Not Found" });
        }
        if (m[1] === "root/api" && options.rootPullsStatus !== undefined) {
          return send(options.rootPullsStatus, { message: "Not Found" });
        }
        // Each host lists the pull requests whose base is this repository.
        let list = pulls.filter((p) => p.baseRepo === m?.[1] && p.open);
        const base = url.searchParams.get("base");
        const head = url.searchParams.get("head");
        if (base) list = list.filter((p) => p.baseRef === base);
        if (head) list = list.filter((p) => `${p.headRepo.split("/")[0]}:${p.headRef}` === head);
        return send(200, list.map(shape));
      }
      if (/^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]+$/.test(path)) return send(201, {});
      m =
        /^\/repos\/([^/]+\/[^/]+)\/git\/refs?\/heads\/(.+)$/.exec(path) ??
        /^\/repos\/([^/]+\/[^/]+)\/branches\/(.+)$/.exec(path);
      if (m) {
        const key = `${m[1]}:${m[2]}`;
        const sha = branches.get(key);
        if (req.method === "DELETE") {
          if (!branches.delete(key)) return send(404, { message: "Reference does not exist" });
          // GitHub and Gitea close every open pull request whose head is the deleted branch, into any base.
          for (const p of pulls) if (p.open && `${p.headRepo}:${p.headRef}` === key) p.open = false;
          res.writeHead(204);
          return res.end();
        }
        if (!sha) return send(404, { message: "Not Found" });
        if (path.includes("/git/ref/")) return send(200, { object: { sha } });
        return send(
          200,
          flavour === "github"
            ? { commit: { sha }, protected: false }
            : { commit: { id: sha }, protected: false },
        );
      }
      send(404, { message: "Not Found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${flavour === "gitea" ? "/api/v1" : ""}`,
    branches,
    pulls,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function request(provider: Provider, apiUrl: string): PrCleanupRequest {
  return {
    type: "pr-cleanup",
    api: { provider, apiUrl, token: "hookgate/github-token" },
    context: "hookgate/pr-cleanup",
    steps: [{ kind: "delete-branch", onlyMerged: true }],
  };
}

describe("Function: cleanUpPullRequest's delete-branch in a fork, and open pull requests into its parent", () => {
  for (const provider of ["github", "gitea"] as const) {
    const run = async (options: HostOptions = {}) => {
      const host = await startHost(provider, options);
      try {
        const outcome = await cleanUpPullRequest(
          request(provider, host.url),
          closedPrEvent({}, { provider }),
          testClients(),
        );
        return { outcome, host };
      } finally {
        await host.close();
      }
    };

    describe(`on ${provider}`, () => {
      it("keeps a head branch that an open pull request into the parent (upstream) repository comes from", async () => {
        const { outcome, host } = await run();
        expect(outcome.detail).to.equal(
          "kept feature/login: 1 open pull request into upstream/api comes from it",
        );
        expect(host.branches.has("acme/api:feature/login")).to.equal(true);
        expect(host.pulls.find((p) => p.baseRepo === "upstream/api")?.open).to.equal(true);
      });

      it("deletes the head branch when the parent's open pull requests come from other branches or another fork's branch of that name", async () => {
        const { outcome, host } = await run({
          upstreamPulls: [
            { ...UPSTREAM_3, headRef: "feature/other" },
            { ...UPSTREAM_3, number: 4, headRepo: "other/api" },
          ],
        });
        expect(outcome.detail).to.equal("deleted branch feature/login");
        expect(host.branches.has("acme/api:feature/login")).to.equal(false);
      });

      it("keeps the head branch of a fork whose parent's pull requests the token cannot read, saying why", async () => {
        const { outcome, host } = await run({ upstreamPullsStatus: 404 });
        expect(outcome.detail).to.match(
          /^kept feature\/login: this repository is a fork, and whether open pull requests into upstream\/api come from it could not be read \(.*404.*\)$/,
        );
        expect(host.branches.has("acme/api:feature/login")).to.equal(true);
      });

      it("asks no other repository when the repository is not a fork, and deletes the branch", async () => {
        const { outcome, host } = await run({ fork: false });
        expect(outcome.detail).to.equal("deleted branch feature/login");
        expect(host.requests.filter((r) => r.includes("upstream/api"))).to.deep.equal([]);
      });
    });
  }
});

describe("Function: cleanUpPullRequest's delete-branch in a fork of a fork, and open pull requests into the root of its network", () => {
  const ROOT_5: Pull = { ...UPSTREAM_3, number: 5, baseRepo: "root/api" };
  const run = async (provider: "github" | "gitea", options: HostOptions) => {
    const host = await startHost(provider, { forkOfFork: true, ...options });
    try {
      const outcome = await cleanUpPullRequest(
        request(provider, host.url),
        closedPrEvent({}, { provider }),
        testClients(),
      );
      return { outcome, host };
    } finally {
      await host.close();
    }
  };

  it("keeps a GitHub fork's head branch while an open pull request from it goes into the network's root (`source`), not the parent", async () => {
    const { outcome, host } = await run("github", { upstreamPulls: [ROOT_5] });
    expect(outcome.detail).to.equal("kept feature/login: 1 open pull request into root/api comes from it");
    expect(host.branches.has("acme/api:feature/login")).to.equal(true);
    expect(host.pulls.find((p) => p.baseRepo === "root/api")?.open).to.equal(true);
    expect(host.requests).to.include(
      "GET /repos/root/api/pulls?state=open&head=acme%3Afeature%2Flogin&per_page=10",
    );
  });

  it("keeps a GitHub fork's head branch, saying why, when the parent has none from it and the root's list is refused", async () => {
    const { outcome, host } = await run("github", { upstreamPulls: [], rootPullsStatus: 404 });
    expect(outcome.detail).to.match(
      /^kept feature\/login: this repository is a fork, and whether open pull requests into root\/api come from it could not be read \(.*404.*\)$/,
    );
    expect(host.branches.has("acme/api:feature/login")).to.equal(true);
  });

  it("keeps a GitHub fork's head branch on the parent's answer alone, asking the root nothing, when the parent's pull request comes from it", async () => {
    const { outcome, host } = await run("github", { upstreamPulls: [UPSTREAM_3, ROOT_5] });
    expect(outcome.detail).to.equal(
      "kept feature/login: 1 open pull request into upstream/api comes from it",
    );
    expect(host.requests.filter((r) => r.startsWith("GET /repos/root/api"))).to.deep.equal([]);
  });

  it("deletes a GitHub fork's head branch when neither the parent nor the root has an open pull request from it", async () => {
    const { outcome, host } = await run("github", {
      upstreamPulls: [
        { ...ROOT_5, headRepo: "other/api" },
        { ...UPSTREAM_3, headRef: "feature/other" },
      ],
    });
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.requests.filter((r) => r.startsWith("GET /repos/root/api/pulls"))).to.have.length(1);
  });

  it("asks a first fork's parent once on GitHub, where `source` is the parent", async () => {
    const { outcome, host } = await run("github", { forkOfFork: false, upstreamPulls: [] });
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.requests.filter((r) => r.includes("/pulls?") && r.includes("head="))).to.deep.equal([
      "GET /repos/acme/api/pulls?state=open&head=acme%3Afeature%2Flogin&per_page=10",
      "GET /repos/upstream/api/pulls?state=open&head=acme%3Afeature%2Flogin&per_page=10",
    ]);
  });

  it("keeps a GitHub fork of a fork's head branch when the parent's list is refused, asking the root nothing: its none does not stand for the parent's", async () => {
    const { outcome, host } = await run("github", { upstreamPulls: [], upstreamPullsStatus: 404 });
    expect(outcome.detail).to.match(
      /^kept feature\/login: this repository is a fork, and whether open pull requests into upstream\/api come from it could not be read/,
    );
    expect(host.branches.has("acme/api:feature/login")).to.equal(true);
    expect(host.requests.filter((r) => r.startsWith("GET /repos/root/api"))).to.deep.equal([]);
  });

  for (const source of ["Upstream/API", "upstream"]) {
    it(`asks a first fork's parent once on GitHub when \`source\` is ${JSON.stringify(source)}: the parent in other case, or no owner/name`, async () => {
      const { outcome, host } = await run("github", {
        forkOfFork: false,
        upstreamPulls: [],
        firstForkSource: source,
      });
      expect(outcome.detail).to.equal("deleted branch feature/login");
      expect(host.requests.filter((r) => r.includes("/pulls?") && r.includes("head="))).to.deep.equal([
        "GET /repos/acme/api/pulls?state=open&head=acme%3Afeature%2Flogin&per_page=10",
        "GET /repos/upstream/api/pulls?state=open&head=acme%3Afeature%2Flogin&per_page=10",
      ]);
    });
  }

  it("asks a Gitea fork of a fork's parent only: Gitea's repository answer names no root of the network", async () => {
    const { outcome, host } = await run("gitea", { upstreamPulls: [ROOT_5] });
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(host.requests.filter((r) => r.startsWith("GET /repos/root/api"))).to.deep.equal([]);
  });
});

describe("Function: cleanUpPullRequest's delete-branch in a GitLab or Bitbucket Cloud fork, and open pull requests into its parent", () => {
  const PATHS = { gitlab: "/api/v4", bitbucket: "/2.0" } as const;
  /** upstream/api's pull request #3: from acme/api feature/login (the fork's branch), open. */
  const UPSTREAM_PULL: PullState = {
    number: 3,
    state: "open",
    merged: false,
    headRef: "feature/login",
    headSha: PR_HEAD_SHA,
    headRepoFullName: "acme/api",
    baseRef: "main",
  };

  for (const provider of ["gitlab", "bitbucket"] as const) {
    const run = async (
      options: {
        fork?: boolean;
        parentReadable?: boolean;
        upstreamPulls?: PullState[];
        /** GitLab: what its global list of merge requests answers instead of the list. */
        allPulls?: HostReply;
        /** What the parent's list answers instead of the list (the fork's own lists are asked first). */
        parentPulls?: HostReply;
      } = {},
    ) => {
      const host = await startGitHostServer({ token: HOST_TOKEN });
      try {
        host.setRepo("acme/api", { defaultBranch: "main" });
        host.setRepo("upstream/api", { defaultBranch: "main" });
        host.setRepo("other/api", { defaultBranch: "main" });
        host.setPull("acme/api", mergedPull());
        for (const pull of options.upstreamPulls ?? [UPSTREAM_PULL]) host.setPull("upstream/api", pull);
        if (options.fork ?? true) {
          host.setFork("acme/api", "upstream/api", { parentReadable: options.parentReadable });
        }
        if (options.allPulls) host.script("all-pulls", options.allPulls);
        // The fork's lists (into the branch, from it) come first: they answer none, as each host lists.
        const none = { status: 200, body: provider === "gitlab" ? "[]" : JSON.stringify({ values: [] }) };
        if (options.parentPulls) host.script("pulls", none, none, options.parentPulls);
        const outcome = await cleanUpPullRequest(
          {
            ...request(provider, `${host.url}${PATHS[provider]}`),
            api: { provider, apiUrl: `${host.url}${PATHS[provider]}`, token: "hookgate/github-token" },
          },
          closedPrEvent({}, { provider }),
          testClients(),
        );
        return { outcome, host };
      } finally {
        await host.close();
      }
    };

    describe(`on ${provider}`, () => {
      it("keeps a head branch that an open pull request into the parent (upstream) repository comes from", async () => {
        const { outcome, host } = await run();
        expect(outcome.detail).to.equal(
          "kept feature/login: 1 open pull request into upstream/api comes from it",
        );
        expect(host.branchSha("acme/api", "feature/login")).to.equal(PR_HEAD_SHA);
        expect(host.deletedRefs).to.deep.equal([]);
      });

      it("deletes the head branch when the parent's open pull requests come from other branches or another fork's branch of that name", async () => {
        const { outcome, host } = await run({
          upstreamPulls: [
            { ...UPSTREAM_PULL, headRef: "feature/other" },
            { ...UPSTREAM_PULL, number: 4, headRepoFullName: "other/api" },
          ],
        });
        expect(outcome.detail).to.equal("deleted branch feature/login");
        expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
      });

      it("keeps the head branch of a fork whose parent the token cannot read, saying why", async () => {
        const { outcome, host } = await run({ parentReadable: false });
        expect(outcome.detail).to.match(
          provider === "gitlab"
            ? /^kept feature\/login: this repository is a fork, and whether open pull requests into its parent come from it could not be read \(GitLab names no parent of this fork: /
            : /^kept feature\/login: this repository is a fork, and whether open pull requests into upstream\/api come from it could not be read \(.*403.*\)$/,
        );
        expect(host.deletedRefs).to.deep.equal([]);
      });

      if (provider === "bitbucket") {
        // Paged answers may leave out size, the total: then a next page alone says more may come.
        it("keeps the head branch when the parent's list of open pull requests from it says more follow but not how many", async () => {
          const { outcome, host } = await run({
            parentPulls: {
              status: 200,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ values: [], next: "https://api.bitbucket.org/2.0/next-page" }),
            },
          });
          expect(outcome.detail).to.equal(
            "kept feature/login: open pull requests into upstream/api may come from it (not all of them were checked)",
          );
          expect(host.deletedRefs).to.deep.equal([]);
        });
      }

      if (provider === "gitlab") {
        // Projects::UnlinkForkService, run when the parent is deleted, clears the fork's forked_from_project_id
        // but leaves it in the fork network, so Project#forked? stays true and mr_default_target_self is still
        // shown: the answer of a fork whose parent the token may not read. Both are named, with the way out.
        it("keeps the head branch of a fork whose answer names no parent, saying the parent may be out of the token's reach or deleted, and how to remove the fork relationship", async () => {
          const { outcome, host } = await run({ parentReadable: false });
          expect(outcome.detail).to.equal(
            "kept feature/login: this repository is a fork, and whether open pull requests into its parent come " +
              "from it could not be read (GitLab names no parent of this fork: the token may not read it, or it " +
              "was deleted; a fork whose parent was deleted keeps every branch until its fork relationship is " +
              "removed (Settings → General → Advanced → Remove fork relationship))",
          );
          expect(host.deletedRefs).to.deep.equal([]);
        });

        // The fake host ignores source_project_id, as a server without the filter would.
        it("asks GitLab's global list for the fork's open merge requests from the branch (scope=all, source_project_id), and still counts only the fork's where the server ignores the filter", async () => {
          const { outcome, host } = await run({
            upstreamPulls: [{ ...UPSTREAM_PULL, number: 4, headRepoFullName: "other/api" }],
          });
          expect(outcome.detail).to.equal("deleted branch feature/login");
          // acme/api is the fake host's first project (id 100), upstream/api its second (101).
          const lists = host.requests.filter((r) => r.kind === "all-pulls");
          expect(
            lists.map((r) => [
              r.query.scope,
              r.query.state,
              r.query.source_branch,
              r.query.source_project_id,
            ]),
          ).to.deep.equal([["all", "opened", "feature/login", "100"]]);
          // The global list found none: the parent's own list is asked too (the global one leaves out a parent
          // whose merge requests are for its members only).
          expect(
            host.requests
              .filter((r) => /\/projects\/101\/merge_requests$/.test(r.path))
              .map((r) => [r.query.state, r.query.source_branch, r.query.source_project_id]),
          ).to.deep.equal([["opened", "feature/login", "100"]]);
        });

        for (const status of [400, 403, 404]) {
          it(`asks the parent's list when GitLab's global list of merge requests is refused (${status}), and keeps a head branch an open merge request into the parent comes from`, async () => {
            const { outcome, host } = await run({ allPulls: { status } });
            expect(outcome.detail).to.equal(
              "kept feature/login: 1 open pull request into upstream/api comes from it",
            );
            const lists = host.requests.filter(
              (r) => r.kind === "pulls" && /\/projects\/101\/merge_requests$/.test(r.path),
            );
            expect(lists.map((r) => [r.query.source_branch, r.query.source_project_id])).to.deep.equal([
              ["feature/login", "100"],
            ]);
            expect(host.deletedRefs).to.deep.equal([]);
          });
        }

        it("keeps the head branch, saying why, when both GitLab's global list of merge requests and the parent's are refused", async () => {
          const { outcome, host } = await run({ allPulls: { status: 403 }, parentPulls: { status: 403 } });
          expect(outcome.detail).to.match(
            /^kept feature\/login: this repository is a fork, and whether open pull requests into upstream\/api come from it could not be read \(.*403.*\)$/,
          );
          expect(host.deletedRefs).to.deep.equal([]);
        });
      }

      it("asks no other repository when the repository is not a fork, and deletes the branch", async () => {
        const { outcome, host } = await run({ fork: false });
        expect(outcome.detail).to.equal("deleted branch feature/login");
        const upstream = provider === "gitlab" ? /upstream%2Fapi|\/projects\/101\b/ : /upstream\/api/;
        expect(host.requests.filter((r) => upstream.test(r.path))).to.deep.equal([]);
      });
    });
  }
});

// GitLab lets a fork's merge request target any project of its fork network, the root or a sibling fork, not
// only the parent (MergeRequestTargetProjectFinder: source_project.fork_network.projects).
describe("Function: cleanUpPullRequest's delete-branch in a GitLab fork, and open merge requests into other projects of its fork network", () => {
  const openFromFork = (overrides: Partial<PullState> = {}): PullState => ({
    number: 3,
    state: "open",
    merged: false,
    headRef: "feature/login",
    headSha: PR_HEAD_SHA,
    headRepoFullName: "acme/api",
    baseRef: "main",
    ...overrides,
  });

  const run = async (layout: (host: Awaited<ReturnType<typeof startGitHostServer>>) => void) => {
    const host = await startGitHostServer({ token: HOST_TOKEN });
    try {
      for (const name of ["acme/api", "mid/api", "upstream/api", "sibling/api"]) {
        host.setRepo(name, { defaultBranch: "main" });
      }
      host.setPull("acme/api", mergedPull());
      layout(host);
      const apiUrl = `${host.url}/api/v4`;
      const outcome = await cleanUpPullRequest(
        {
          type: "pr-cleanup",
          api: { provider: "gitlab", apiUrl, token: "hookgate/github-token" },
          context: "hookgate/pr-cleanup",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        },
        closedPrEvent({}, { provider: "gitlab" }),
        testClients(),
      );
      return { outcome, deleted: host.deletedRefs };
    } finally {
      await host.close();
    }
  };

  it("keeps the head branch of a fork of a fork while an open merge request into the root project comes from it", async () => {
    const { outcome, deleted } = await run((host) => {
      host.setFork("mid/api", "upstream/api");
      host.setFork("acme/api", "mid/api");
      host.setPull("upstream/api", openFromFork());
    });
    expect(outcome.detail).to.equal(
      "kept feature/login: 1 open pull request into its fork network comes from it",
    );
    expect(deleted).to.deep.equal([]);
  });

  it("keeps the head branch of a fork while an open merge request into a sibling fork comes from it", async () => {
    const { outcome, deleted } = await run((host) => {
      host.setFork("acme/api", "upstream/api");
      host.setFork("sibling/api", "upstream/api");
      host.setPull("sibling/api", openFromFork());
    });
    expect(outcome.detail).to.equal(
      "kept feature/login: 1 open pull request into its fork network comes from it",
    );
    expect(deleted).to.deep.equal([]);
  });

  it("deletes the head branch of a fork when the open merge requests of its fork network come from other branches or from another fork", async () => {
    const { outcome, deleted } = await run((host) => {
      host.setFork("acme/api", "upstream/api");
      host.setFork("sibling/api", "upstream/api");
      host.setPull("sibling/api", openFromFork({ headRef: "feature/other" }));
      host.setPull("upstream/api", openFromFork({ headRepoFullName: "sibling/api" }));
    });
    expect(outcome.detail).to.equal("deleted branch feature/login");
    expect(deleted).to.deep.equal([{ repo: "acme/api", branch: "feature/login" }]);
  });
});

describe("Function: cleanUpPullRequest on a GitLab fork whose parent lets only its members use merge requests", () => {
  it("keeps the head branch when GitLab's global list answers none (it leaves such a parent out) and the parent's own list is refused (403)", async () => {
    const host = await startGitHostServer({ token: HOST_TOKEN });
    try {
      host.setRepo("acme/api", { defaultBranch: "main" });
      host.setRepo("upstream/api", { defaultBranch: "main" });
      host.setPull("acme/api", mergedPull());
      // The open merge request from acme/api:feature/login into upstream/api, which the token cannot list.
      host.setPull("upstream/api", {
        number: 3,
        state: "open",
        merged: false,
        headRef: "feature/login",
        headSha: PR_HEAD_SHA,
        headRepoFullName: "acme/api",
        baseRef: "main",
      });
      host.setFork("acme/api", "upstream/api");
      // Global list: upstream/api left out (merge requests feature: only project members) -> 200 [].
      host.script("all-pulls", { status: 200, body: "[]" });
      // The fork's own two lists answer as usual; the parent's list is refused (403).
      host.script("pulls", { status: 200, body: "[]" }, { status: 200, body: "[]" }, { status: 403 });
      const outcome = await cleanUpPullRequest(
        {
          type: "pr-cleanup",
          api: { provider: "gitlab", apiUrl: `${host.url}/api/v4`, token: "hookgate/github-token" },
          context: "hookgate/pr-cleanup",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        },
        closedPrEvent({}, { provider: "gitlab" }),
        testClients(),
      );
      expect(host.deletedRefs).to.deep.equal([]);
      expect(outcome.detail).to.match(/^kept feature\/login: /);
    } finally {
      await host.close();
    }
  });
});
