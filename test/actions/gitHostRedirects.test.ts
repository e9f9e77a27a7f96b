// The Git host API client follows a renamed or transferred repository's redirects, within the API's origin
// only (src/actions/gitHost/redirects.ts): the rules alone, then against a local Git host that moved one.
import { expect } from "chai";
import { gitHostClient } from "../../src/actions/gitHost";
import { type ApiHop, movedPaths, nextHop } from "../../src/actions/gitHost/redirects";
import type { GitHostClient } from "../../src/actions/gitHost/types";
import { ActionError } from "../../src/core/errors";
import type { Provider, RepoRef } from "../../src/core/types";
import { type GitHostServer, type PullState, startGitHostServer } from "../support/gitHostServer";
import { HOST_TOKEN, rejectsWithActionError, testClients } from "./helpers";

const API = "https://git.example.com/api/v1";
const ORIGIN = "https://git.example.com";
const WHAT = "Gitea API DELETE /repos/acme/api/branches/x";

describe("Function: nextHop (the redirect rules)", () => {
  const hop = (method: ApiHop["method"], body?: string): ApiHop => ({
    method,
    url: `${API}/repos/acme/api/branches/x`,
    body,
  });

  const followed: Array<[string, number, ApiHop, string, ApiHop]> = [
    [
      "301 to a GET repeats the GET at an absolute Location",
      301,
      hop("GET"),
      `${ORIGIN}/api/v1/repositories/42/branches/x`,
      { method: "GET", url: `${ORIGIN}/api/v1/repositories/42/branches/x`, body: undefined },
    ],
    [
      "307 to a DELETE repeats the DELETE and its body at a path-only Location (Gitea's)",
      307,
      hop("DELETE", '{"name":"x"}'),
      "/api/v1/repos/acme/api-v2/branches/x",
      { method: "DELETE", url: `${API}/repos/acme/api-v2/branches/x`, body: '{"name":"x"}' },
    ],
    [
      "308 to a PUT repeats the PUT and its body",
      308,
      hop("PUT", "{}"),
      `${API}/repos/acme/api-v2/branches/x`,
      { method: "PUT", url: `${API}/repos/acme/api-v2/branches/x`, body: "{}" },
    ],
    [
      "301 to a POST repeats the POST and its body (GitHub: repeat the request), never a GET",
      301,
      hop("POST", '{"state":"pending"}'),
      `${API}/repositories/42/statuses/abc`,
      { method: "POST", url: `${API}/repositories/42/statuses/abc`, body: '{"state":"pending"}' },
    ],
    [
      "302 to a DELETE repeats the DELETE (an older, Macaron-based Gitea), never a GET",
      302,
      hop("DELETE"),
      "/api/v1/repos/acme/api-v2/branches/x",
      { method: "DELETE", url: `${API}/repos/acme/api-v2/branches/x`, body: undefined },
    ],
    [
      "303 to a GET is a GET, with the Location's query",
      303,
      hop("GET"),
      "/api/v1/repos/acme/api-v2/branches/x?page=2",
      { method: "GET", url: `${API}/repos/acme/api-v2/branches/x?page=2`, body: undefined },
    ],
    [
      "the default port written out is the same origin",
      307,
      hop("GET"),
      "https://git.example.com:443/api/v1/repos/acme/api-v2/branches/x",
      { method: "GET", url: `${API}/repos/acme/api-v2/branches/x`, body: undefined },
    ],
  ];
  for (const [title, status, from, location, expected] of followed) {
    it(`nextHop: ${title}`, () => {
      expect(nextHop(from, status, location, API, WHAT)).to.deep.equal(expected);
    });
  }

  it("nextHop follows a redirect to any path of the origin when the API's base is the origin itself (api.github.com)", () => {
    const from: ApiHop = { method: "GET", url: "https://api.github.com/repos/acme/api/pulls/7" };
    expect(
      nextHop(
        from,
        301,
        "/repositories/42/pulls/7",
        "https://api.github.com",
        "GitHub API GET /repos/acme/api/pulls/7",
      ),
    ).to.deep.equal({
      method: "GET",
      url: "https://api.github.com/repositories/42/pulls/7",
      body: undefined,
    });
  });

  it("nextHop follows a redirect to the base path itself, and takes the base's trailing slash as none", () => {
    expect(nextHop(hop("GET"), 301, "/api/v1", `${API}/`, WHAT).url).to.equal(`${ORIGIN}/api/v1`);
  });

  const refused: Array<[string, number, ApiHop, string | undefined, RegExp]> = [
    ["a redirect without a Location", 301, hop("GET"), undefined, /answered 301 without a Location/],
    ["a Location that is not a URL", 301, hop("GET"), "http://[::1", /to a Location that is not a URL/],
    [
      "another host",
      307,
      hop("DELETE"),
      "https://evil.example.net/api/v1/repos/acme/api/branches/x?token=sig",
      /to another origin \(https:\/\/evil\.example\.net, not https:\/\/git\.example\.com\)/,
    ],
    ["another port", 301, hop("GET"), "https://git.example.com:8443/api/v1/x", /to another origin/],
    [
      "http from https (a downgrade)",
      301,
      hop("GET"),
      "http://git.example.com/api/v1/x",
      /to another origin/,
    ],
    ["a scheme other than http(s)", 301, hop("GET"), "file:///etc/passwd", /to another origin \(a file: URL/],
    [
      "a user and password in the Location",
      307,
      hop("GET"),
      "https://someone:hunter2secret@git.example.com/api/v1/x",
      /to a URL with a user name or password in it/,
    ],
    [
      "a user name alone in the Location",
      307,
      hop("GET"),
      "https://hunter2secret@git.example.com/api/v1/x",
      /to a URL with a user name or password in it/,
    ],
    [
      "a password alone in the Location",
      307,
      hop("GET"),
      "https://:hunter2secret@git.example.com/api/v1/x",
      /to a URL with a user name or password in it/,
    ],
    [
      "the host's sign-in page, outside the API's base path (its query never shown)",
      302,
      hop("GET"),
      "https://git.example.com/user/login?redirect_to=%2Fapi%2Fv1&token=sig",
      /to https:\/\/git\.example\.com\/user\/login, outside the API's base path \/api\/v1: not followed: the token goes to the API only$/,
    ],
    [
      "a path-only Location outside the base path, for a write",
      307,
      hop("DELETE"),
      "/login",
      /was redirected \(307\) to https:\/\/git\.example\.com\/login, outside the API's base path \/api\/v1/,
    ],
    [
      "a path that only starts as the base path does (/api/v10)",
      301,
      hop("GET"),
      "/api/v10/repos/acme/api/branches/x",
      /to https:\/\/git\.example\.com\/api\/v10\/repos\/acme\/api\/branches\/x, outside the API's base path/,
    ],
    [
      "dot segments that climb out of the base path",
      301,
      hop("GET"),
      "/api/v1/../../login",
      /to https:\/\/git\.example\.com\/login, outside the API's base path/,
    ],
    [
      "encoded dot segments that climb out of the base path",
      301,
      hop("GET"),
      "/api/v1/%2e%2e/%2E%2E/login",
      /to https:\/\/git\.example\.com\/login, outside the API's base path/,
    ],
    [
      "303 to a DELETE, which a GET would not do",
      303,
      hop("DELETE"),
      "/api/v1/repos/acme/api-v2/branches/x",
      /to a GET of \/api\/v1\/repos\/acme\/api-v2\/branches\/x: not followed, as a GET would not do the DELETE/,
    ],
  ];
  for (const [title, status, from, location, message] of refused) {
    it(`nextHop refuses, final, ${title}`, () => {
      let error: unknown;
      try {
        nextHop(from, status, location, API, WHAT);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ActionError);
      const err = error as ActionError;
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(message);
      expect(err.message).to.contain(WHAT);
      // Never the other host's query (a signed URL's), nor a password.
      expect(`${err.message} ${err.publicMessage}`).not.to.match(/token=sig|hunter2secret/);
    });
  }

  it("nextHop names the path of a 303 it refuses without the token sent, which the server echoed into it", () => {
    const token = "tok_9f8e7d6c5b4a39281706";
    const sent = { authorization: `Bearer ${token}` };
    try {
      nextHop(hop("DELETE"), 303, `/api/v1/repos/acme/api/${token}`, API, WHAT, sent);
      expect.fail("expected a refusal");
    } catch (err) {
      expect((err as ActionError).message).to.contain(
        "to a GET of /api/v1/repos/acme/api/[redacted]: not followed",
      );
      expect((err as ActionError).message).not.to.contain(token);
    }
  });

  it("nextHop names another origin the server wrote the token sent into without it, lower-cased by the URL parser as it is", () => {
    const token = "Tok_9F8E7D6C5B4A39281706";
    const sent = { authorization: `Bearer ${token}` };
    try {
      nextHop(hop("GET"), 301, `https://${token}.evil.example.net/x`, API, WHAT, sent);
      expect.fail("expected a refusal");
    } catch (err) {
      const { message } = err as ActionError;
      expect(message).to.contain("to another origin (https://[redacted].evil.example.net, not ");
      expect(message.toLowerCase()).not.to.contain(token.toLowerCase());
    }
  });

  it("nextHop keeps the other origin out of the public message (a commit status) of a cross-origin refusal", () => {
    try {
      nextHop(hop("GET"), 301, "https://evil.example.net/x", API, WHAT);
      expect.fail("expected a refusal");
    } catch (err) {
      expect((err as ActionError).publicMessage).to.equal(
        `${WHAT} was redirected (301) to another origin: not followed: the token goes to the API's origin only`,
      );
    }
  });

  it("nextHop keeps the path out of the public message (a commit status) of a refusal outside the base path", () => {
    try {
      nextHop(hop("GET"), 302, "/user/login", API, WHAT);
      expect.fail("expected a refusal");
    } catch (err) {
      expect((err as ActionError).publicMessage).to.equal(
        `${WHAT} was redirected (302) outside the API's base path: not followed: the token goes to the API only`,
      );
    }
  });
});

describe("Function: movedPaths (what the outcome and the logs say moved)", () => {
  const rows: Array<[string, string, string, string, { from: string; to: string }]> = [
    [
      "GitHub: owner/name to the repository's id",
      "https://api.github.com",
      "https://api.github.com/repos/acme/api/pulls/7",
      "https://api.github.com/repositories/42/pulls/7",
      { from: "/repos/acme/api", to: "/repositories/42" },
    ],
    [
      "GitHub Enterprise Server, under /api/v3",
      "https://ghe.example.com/api/v3",
      "https://ghe.example.com/api/v3/repos/acme/api/git/refs/heads/feature/x",
      "https://ghe.example.com/api/v3/repositories/42/git/refs/heads/feature/x",
      { from: "/repos/acme/api", to: "/repositories/42" },
    ],
    [
      "Gitea: the new owner and name, without the query",
      "https://git.example.com/api/v1",
      "https://git.example.com/api/v1/repos/acme/api/pulls?state=open&page=2",
      "https://git.example.com/api/v1/repos/platform/api-v2/pulls?state=open&page=2",
      { from: "/repos/acme/api", to: "/repos/platform/api-v2" },
    ],
    [
      "GitLab: the encoded path to the project's id",
      "https://gitlab.com/api/v4",
      "https://gitlab.com/api/v4/projects/acme%2Fapi/merge_requests/7",
      "https://gitlab.com/api/v4/projects/42/merge_requests/7",
      { from: "/projects/acme%2Fapi", to: "/projects/42" },
    ],
    [
      "the repository itself, with nothing after it",
      "https://api.github.com",
      "https://api.github.com/repos/acme/api",
      "https://api.github.com/repositories/42",
      { from: "/repos/acme/api", to: "/repositories/42" },
    ],
    [
      "to a single segment that ends as the path did: it is kept",
      "https://git.example.com/api/v1",
      "https://git.example.com/api/v1/repos/acme/api",
      "https://git.example.com/api/v1/api",
      { from: "/repos/acme/api", to: "/api" },
    ],
    [
      "from a single segment that ends as the new path does: it is kept",
      "https://git.example.com/api/v1",
      "https://git.example.com/api/v1/api",
      "https://git.example.com/api/v1/repos/acme/api",
      { from: "/api", to: "/repos/acme/api" },
    ],
    [
      "a redirect out of the API's base path keeps that whole path",
      "https://ghe.example.com/api/v3",
      "https://ghe.example.com/api/v3/repos/acme/api",
      "https://ghe.example.com/elsewhere/repos/x/api",
      { from: "/repos/acme", to: "/elsewhere/repos/x" },
    ],
    [
      "an API url with trailing slashes",
      "https://ghe.example.com/api/v3//",
      "https://ghe.example.com/api/v3/repos/acme/api/pulls/7",
      "https://ghe.example.com/api/v3/repositories/42/pulls/7",
      { from: "/repos/acme/api", to: "/repositories/42" },
    ],
  ];
  for (const [title, apiUrl, from, to, expected] of rows) {
    it(`movedPaths: ${title}`, () => {
      expect(movedPaths(from, to, apiUrl)).to.deep.equal(expected);
    });
  }
});

describe("Class: the Git host API client against a local Git host whose repository was renamed", function () {
  this.timeout(30_000);
  const SHA = "feedfacefeedfacefeedfacefeedfacefeedface";
  const OLD: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };
  const NEW = "platform/api-v2";
  let host: GitHostServer;
  let clients: ReturnType<typeof testClients>;

  const pull: PullState = {
    number: 7,
    state: "closed",
    merged: true,
    headRef: "feature/login",
    headSha: SHA,
  };
  const apiPath: Record<string, string> = {
    github: "",
    gitea: "/api/v1",
    gitlab: "/api/v4",
    "bitbucket-server": "/rest/api/latest",
  };
  const client = (provider: Provider = "github"): Promise<GitHostClient> =>
    gitHostClient(
      { provider, apiUrl: `${host.url}${apiPath[provider]}`, token: "hookgate/github-token" },
      clients,
    );
  /** The requests the API listener received after the fixture's: method, path, with the token or not. */
  const calls = () =>
    host.requests
      .filter((r) => r.listener === "api")
      .map((r) => [r.method, r.path, r.authorized ? "token" : "no token"]);

  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo(OLD.fullName, { defaultBranch: "main" });
    host.setPull(OLD.fullName, pull);
    clients = testClients();
  });
  afterEach(async () => {
    await host.close();
  });

  describe("on GitHub (301 to a GET, 307 to the other methods, to /repositories/{id})", () => {
    beforeEach(() => {
      host.moveRepo(OLD.fullName, NEW);
    });

    it("getPullRequest follows the 301 with the token to /repositories/{id}, and logs the move once", async () => {
      const github = await client();
      const info = await github.getPullRequest(OLD, 7);
      expect(info).to.include({ number: 7, headSha: SHA, merged: true });
      expect(calls()).to.deep.equal([
        ["GET", "/repos/acme/api/pulls/7", "token"],
        ["GET", "/repositories/100/pulls/7", "token"],
      ]);
      await github.getPullRequest(OLD, 7);
      expect(github.redirects).to.deep.equal([
        { status: 301, from: "/repos/acme/api", to: "/repositories/100" },
      ]);
      const warnings = clients.logs.filter((line) => line.level === "warn");
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include({ provider: "github", status: 301, from: "/repos/acme/api" });
      expect(JSON.stringify(clients.logs)).not.to.contain(HOST_TOKEN);
    });

    it("deleteBranch follows the 307 with the DELETE and the token, and the moved repository's branch is deleted", async () => {
      const result = await (await client()).deleteBranch(OLD, "feature/login", SHA);
      expect(result).to.equal("deleted");
      expect(host.deletedRefs).to.deep.equal([{ repo: NEW, branch: "feature/login" }]);
      expect(calls()).to.deep.equal([
        ["DELETE", "/repos/acme/api/git/refs/heads/feature/login", "token"],
        ["DELETE", "/repositories/100/git/refs/heads/feature/login", "token"],
      ]);
    });

    it("setCommitStatus follows the 307 with the POST and its body, and the status lands on the moved repository", async () => {
      await (await client()).setCommitStatus(OLD, SHA, {
        state: "pending",
        context: "hookgate/pr-cleanup",
        description: "Cleaning up after PR #7",
      });
      expect(host.statuses).to.deep.equal([
        {
          repo: NEW,
          sha: SHA,
          state: "pending",
          context: "hookgate/pr-cleanup",
          description: "Cleaning up after PR #7",
          targetUrl: undefined,
        },
      ]);
      expect(calls().map(([method]) => method)).to.deep.equal(["POST", "POST"]);
    });
  });

  describe("on Gitea (307, or 302 from its older, Macaron-based versions, to the same path under the new name)", () => {
    for (const status of [307, 302]) {
      it(`a ${status} is followed with the same method, body and token: branchHead, setCommitStatus and deleteBranch reach the moved repository`, async () => {
        host.moveRepo(OLD.fullName, NEW, { status });
        const gitea = await client("gitea");
        expect(await gitea.branchHead(OLD, "feature/login")).to.equal(SHA);
        await gitea.setCommitStatus(OLD, SHA, {
          state: "success",
          context: "hookgate/x",
          description: "done",
        });
        expect(await gitea.deleteBranch(OLD, "feature/login", SHA)).to.equal("deleted");
        expect(host.statuses.map((s) => [s.repo, s.state])).to.deep.equal([[NEW, "success"]]);
        expect(host.deletedRefs).to.deep.equal([{ repo: NEW, branch: "feature/login" }]);
        expect(calls()).to.deep.equal([
          ["GET", "/api/v1/repos/acme/api/branches/feature/login", "token"],
          ["GET", "/api/v1/repos/platform/api-v2/branches/feature/login", "token"],
          ["POST", `/api/v1/repos/acme/api/statuses/${SHA}`, "token"],
          ["POST", `/api/v1/repos/platform/api-v2/statuses/${SHA}`, "token"],
          ["DELETE", "/api/v1/repos/acme/api/branches/feature/login", "token"],
          ["DELETE", "/api/v1/repos/platform/api-v2/branches/feature/login", "token"],
        ]);
        expect(gitea.redirects).to.deep.equal([
          { status, from: "/repos/acme/api", to: "/repos/platform/api-v2" },
        ]);
      });
    }
  });

  describe("on GitLab (301 to a GET, to /projects/{id}; 405 to the other methods)", () => {
    beforeEach(() => {
      host.moveRepo(OLD.fullName, NEW);
    });

    it("getPullRequest follows the 301 with the token to /projects/{id}", async () => {
      const gitlab = await client("gitlab");
      expect((await gitlab.getPullRequest(OLD, 7)).headSha).to.equal(SHA);
      expect(calls()).to.deep.equal([
        ["GET", "/api/v4/projects/acme%2Fapi/merge_requests/7", "token"],
        ["GET", "/api/v4/projects/100/merge_requests/7", "token"],
      ]);
      expect(gitlab.redirects).to.deep.equal([
        { status: 301, from: "/projects/acme%2Fapi", to: "/projects/100" },
      ]);
    });

    it("setCommitStatus refused with 405 reads the project's id through the 301 and posts again to /projects/{id}; deleteBranch then goes there at once", async () => {
      const gitlab = await client("gitlab");
      await gitlab.setCommitStatus(OLD, SHA, { state: "pending", context: "hookgate/x", description: "x" });
      expect(await gitlab.deleteBranch(OLD, "feature/login", SHA)).to.equal("deleted");
      expect(host.statuses.map((s) => [s.repo, s.state, s.context])).to.deep.equal([
        [NEW, "pending", "hookgate/x"],
      ]);
      expect(host.deletedRefs).to.deep.equal([{ repo: NEW, branch: "feature/login" }]);
      expect(calls()).to.deep.equal([
        ["POST", `/api/v4/projects/acme%2Fapi/statuses/${SHA}`, "token"],
        ["GET", "/api/v4/projects/acme%2Fapi", "token"],
        ["GET", "/api/v4/projects/100", "token"],
        ["POST", `/api/v4/projects/100/statuses/${SHA}`, "token"],
        ["DELETE", "/api/v4/projects/100/repository/branches/feature%2Flogin", "token"],
      ]);
    });

    it("another 405 stays a final failure with GitLab's message, and the project is not looked up", async () => {
      host.script("delete-ref", { status: 405, body: JSON.stringify({ message: "405 Method Not Allowed" }) });
      const gitlab = await client("gitlab");
      const moved: RepoRef = { owner: "platform", name: "api-v2", fullName: NEW };
      const err = await rejectsWithActionError(gitlab.deleteBranch(moved, "feature/login", SHA));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "GitLab API DELETE /projects/platform%2Fapi-v2/repository/branches/feature%2Flogin answered 405: 405 Method Not Allowed",
      );
      expect(calls()).to.have.length(1);
      expect(host.deletedRefs).to.deep.equal([]);
    });
  });

  describe("on Bitbucket Data Center (its redirect's status and Location are not documented)", () => {
    const PULL = "/projects/acme/repos/api/pull-requests/7";

    it("a redirect from /rest/api/latest to /rest/api/1.0 (the same REST module) is followed with the token", async () => {
      host.script("pull", { status: 301, headers: { location: `${host.url}/rest/api/1.0${PULL}` } });
      const dataCenter = await client("bitbucket-server");
      expect((await dataCenter.getPullRequest(OLD, 7)).headSha).to.equal(SHA);
      expect(calls()).to.deep.equal([
        ["GET", `/rest/api/latest${PULL}`, "token"],
        ["GET", `/rest/api/1.0${PULL}`, "token"],
      ]);
      // The same repository under another version of the API: no move to report.
      expect(dataCenter.redirects).to.deep.equal([]);
      expect(clients.logs.filter((line) => line.level === "warn")).to.deep.equal([]);
    });

    it("a moved repository's redirect to another version of the API reports the move without the versions", async () => {
      host.setRepo(NEW, { defaultBranch: "main" });
      host.setPull(NEW, pull);
      host.script("pull", {
        status: 301,
        headers: { location: `${host.url}/rest/api/1.0/projects/platform/repos/api-v2/pull-requests/7` },
      });
      const dataCenter = await client("bitbucket-server");
      expect((await dataCenter.getPullRequest(OLD, 7)).headSha).to.equal(SHA);
      expect(dataCenter.redirects).to.deep.equal([
        { status: 301, from: "/projects/acme/repos/api", to: "/projects/platform/repos/api-v2" },
      ]);
    });

    for (const [title, path] of [
      ["its sign-in page", "/login"],
      ["another REST module", `/rest/api-other/1.0${PULL}`],
    ] as const) {
      it(`a redirect to ${title} fails final, and nothing is sent there`, async () => {
        host.script("pull", { status: 302, headers: { location: `${host.url}${path}?next=x` } });
        const err = await rejectsWithActionError((await client("bitbucket-server")).getPullRequest(OLD, 7));
        expect(err.retryable).to.equal(false);
        expect(err.message).to.equal(
          `Bitbucket Data Center API GET ${PULL} was redirected (302) to ${host.url}${path}, outside the API's ` +
            "base path /rest/api: not followed: the token goes to the API only",
        );
        expect(calls()).to.have.length(1);
      });
    }
  });

  describe("redirects it does not follow", () => {
    // A redirect to the codeload listener: another port, so another origin, which records any request.
    const crossOrigin: Array<
      [string, "pull" | "delete-ref" | "status", number, (c: GitHostClient) => Promise<unknown>]
    > = [
      ["getPullRequest (301)", "pull", 301, (c) => c.getPullRequest(OLD, 7)],
      ["deleteBranch (307)", "delete-ref", 307, (c) => c.deleteBranch(OLD, "feature/login", SHA)],
      [
        "setCommitStatus (308)",
        "status",
        308,
        (c) => c.setCommitStatus(OLD, SHA, { state: "pending", context: "hookgate/x", description: "x" }),
      ],
    ];
    for (const [title, kind, status, act] of crossOrigin) {
      it(`${title} to another origin fails final, and that origin receives no request (so no token)`, async () => {
        host.script(kind, {
          status,
          headers: { location: `${host.codeloadUrl}/repos/acme/api/anything?x=1` },
        });
        const err = await rejectsWithActionError(act(await client()));
        expect(err.retryable).to.equal(false);
        expect(err.message).to.contain(`to another origin (${host.codeloadUrl}, not ${host.url})`);
        expect(err.message).not.to.contain(HOST_TOKEN);
        expect(err.publicMessage).not.to.contain(host.codeloadUrl);
        expect(host.requests.filter((r) => r.listener === "codeload")).to.deep.equal([]);
        expect(host.deletedRefs).to.deep.equal([]);
        expect(host.statuses).to.deep.equal([]);
      });
    }

    it(`stops after 3 redirects: the 4th fails final, and no 5th request is sent`, async () => {
      const again = { status: 301, headers: { location: `${host.url}/repos/acme/api/pulls/7` } };
      host.script("pull", again, again, again, again);
      const err = await rejectsWithActionError((await client()).getPullRequest(OLD, 7));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "GitHub API GET /repos/acme/api/pulls/7 was redirected more than 3 times: not followed",
      );
      expect(calls()).to.have.length(4);
    });

    it("follows exactly 3 redirects to an answer", async () => {
      const again = { status: 307, headers: { location: `${host.url}/repos/acme/api/pulls/7` } };
      host.script("pull", again, again, again);
      expect((await (await client()).getPullRequest(OLD, 7)).number).to.equal(7);
      expect(calls()).to.have.length(4);
    });

    it("a redirect without a Location fails final with a clear reason, after one request", async () => {
      host.script("delete-ref", { status: 307 });
      const err = await rejectsWithActionError((await client()).deleteBranch(OLD, "feature/login", SHA));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "GitHub API DELETE /repos/acme/api/git/refs/heads/feature/login answered 307 without a Location: the redirect cannot be followed",
      );
      expect(calls()).to.have.length(1);
      expect(host.branches(OLD.fullName)).to.include("feature/login");
    });

    const outOfBase: Array<
      [
        string,
        Provider,
        "pull" | "delete-ref",
        number,
        string,
        (c: GitHostClient) => Promise<unknown>,
        string,
      ]
    > = [
      [
        "Gitea's getPullRequest (302) to its sign-in page",
        "gitea",
        "pull",
        302,
        "/user/login?redirect_to=%2Fapi%2Fv1%2Frepos",
        (c) => c.getPullRequest(OLD, 7),
        "Gitea API GET /repos/acme/api/pulls/7 was redirected (302) to {url}/user/login, outside the API's base path /api/v1",
      ],
      [
        "Gitea's deleteBranch (307) to another API version",
        "gitea",
        "delete-ref",
        307,
        "/api/v2/repos/acme/api/branches/feature/login",
        (c) => c.deleteBranch(OLD, "feature/login", SHA),
        "Gitea API DELETE /repos/acme/api/branches/feature/login was redirected (307) to {url}/api/v2/repos/acme/api/branches/feature/login, outside the API's base path /api/v1",
      ],
      [
        "GitLab's getPullRequest (301) to its sign-in page",
        "gitlab",
        "pull",
        301,
        "/users/sign_in",
        (c) => c.getPullRequest(OLD, 7),
        "GitLab API GET /projects/acme%2Fapi/merge_requests/7 was redirected (301) to {url}/users/sign_in, outside the API's base path /api/v4",
      ],
    ];
    for (const [title, provider, kind, status, location, act, message] of outOfBase) {
      it(`${title} fails final, naming where it went, and nothing is sent there (so no token)`, async () => {
        host.script(kind, { status, headers: { location: `${host.url}${location}` } });
        const err = await rejectsWithActionError(act(await client(provider)));
        expect(err.retryable).to.equal(false);
        expect(err.message).to.equal(
          `${message.replace("{url}", host.url)}: not followed: the token goes to the API only`,
        );
        expect(err.message).not.to.contain("redirect_to");
        expect(calls()).to.have.length(1);
        expect(host.branches(OLD.fullName)).to.include("feature/login");
      });
    }

    it("a 303 to a DELETE fails final and sends no GET: its answer would pass for the deletion's", async () => {
      host.script("delete-ref", {
        status: 303,
        headers: { location: `${host.url}/repos/acme/api/git/ref/heads/feature/login` },
      });
      const err = await rejectsWithActionError((await client()).deleteBranch(OLD, "feature/login", SHA));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("a GET would not do the DELETE");
      expect(calls()).to.deep.equal([["DELETE", "/repos/acme/api/git/refs/heads/feature/login", "token"]]);
    });
  });
});
