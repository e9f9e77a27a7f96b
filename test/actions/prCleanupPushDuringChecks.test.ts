// delete-branch reads the branch's head, then asks for open pull requests into it, from it and into a fork's
// parent before it deletes it. A push (or a deletion) landing during those calls must be seen: on the hosts
// without a conditional delete the head is read again right before the DELETE. A forwarding server in front of
// the fake Git host makes the push land when the first pull request list is asked for.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import type { PrCleanupRequest, Provider } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, testClients } from "./helpers";

const NEW_WORK = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
/** The first open pull request list of each host (GitHub, Gitea, GitLab, Bitbucket Cloud and Data Center). */
const PULL_LIST = /\/(pulls|merge_requests|pullrequests|pull-requests)\?/;

describe("Function: cleanUpPullRequest's delete-branch and a push while it checks the branch", function () {
  this.timeout(20_000);
  let host: GitHostServer;
  let front: http.Server;
  let frontUrl = "";
  /** What happens to feature/login when the first pull request list is asked for: a push, or a deletion. */
  let during: string | undefined;

  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    let landed = false;
    front = http.createServer((req, res) => {
      if (!landed && PULL_LIST.test(req.url ?? "")) {
        landed = true;
        host.setBranch("acme/api", "feature/login", during);
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const target = new URL(req.url ?? "/", host.url);
        const up = http.request(
          target,
          { method: req.method, headers: { ...req.headers, host: target.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        up.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((ok) => front.close(() => ok()));
    await host.close();
  });

  const run = (provider: Provider, apiPath: string) => {
    const request: PrCleanupRequest = {
      type: "pr-cleanup",
      api: { provider, apiUrl: `${frontUrl}${apiPath}`, token: "hookgate/github-token" },
      context: "hookgate/pr-cleanup",
      steps: [{ kind: "delete-branch", onlyMerged: true }],
    };
    return cleanUpPullRequest(request, closedPrEvent({}, { provider }), testClients());
  };

  const hosts: Array<[Provider, string]> = [
    ["github", ""],
    ["gitlab", "/api/v4"],
    ["gitea", "/api/v1"],
    ["bitbucket", "/2.0"],
  ];
  for (const [provider, apiPath] of hosts) {
    describe(`on ${provider} (no conditional delete)`, () => {
      it("keeps a branch pushed to after its head was read, reading the head again right before the deletion", async () => {
        during = NEW_WORK;
        const outcome = await run(provider, apiPath);
        expect(outcome.detail).to.equal(
          "kept feature/login: it moved on since the pull request (now at abcdefa)",
        );
        expect(host.branchSha("acme/api", "feature/login")).to.equal(NEW_WORK);
        // Read again after the pull request lists, right before the deletion it then skips.
        expect(host.requests.map((r) => r.kind).slice(-2)).to.deep.equal(["ref", "status"]);
        expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
      });

      it("takes a branch deleted while it was checked as already gone, without a deletion", async () => {
        during = undefined;
        const outcome = await run(provider, apiPath);
        expect(outcome.detail).to.equal("branch feature/login was already gone");
        expect(host.requests.filter((r) => r.kind === "delete-ref")).to.deep.equal([]);
      });
    });
  }

  it("on Bitbucket Data Center keeps a branch pushed to during the checks by its conditional deletion (endPoint)", async () => {
    during = NEW_WORK;
    const outcome = await run("bitbucket-server", "/rest/api/latest");
    expect(outcome.detail).to.equal("kept feature/login: it moved on since the pull request");
    expect(host.branchSha("acme/api", "feature/login")).to.equal(NEW_WORK);
    // The deletion itself is what refused: its endPoint no longer matched.
    expect(host.requests.filter((r) => r.kind === "delete-ref")).to.have.length(1);
  });
});
