// pr-cleanup's commit statuses on GitLab, whose commit status service keeps one status per name and ref while
// it is pending or running (the running_or_pending scope of Ci::CreateCommitStatusService,
// app/services/ci/create_commit_status_service.rb) and moves it by CommitStatus's state machine: pending
// enqueues (created -> pending), running enqueues then runs (pending -> running), success and failed come from
// either. Any other move answers 400 "Cannot transition status via :<event> from :<state>" and saves nothing,
// its description neither. A server in front of the fake GitLab applies that machine.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import { ActionError } from "../../src/core/errors";
import type { ObjectStore } from "../../src/core/ports";
import type { PrCleanupRequest } from "../../src/core/types";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { closedPrEvent, HOST_TOKEN, mergedPull, noObjects, testClients } from "./helpers";

/** What GitLab holds for (sha, name, ref): the state and description of its latest status. */
interface Held {
  state: string;
  description: string;
}

/** GitLab's answer to a new status of `state` where it holds `before`: the 400's message, or undefined. */
function refusal(state: string, before: Held | undefined): string | undefined {
  const active = before?.state === "pending" || before?.state === "running" ? before.state : undefined;
  if (state === "pending" && active) return `Cannot transition status via :enqueue from :${active}`;
  if (state === "running" && active === "running") return "Cannot transition status via :run from :running";
  return undefined;
}

describe("Function: cleanUpPullRequest's commit statuses on GitLab (one pending or running status per name and ref)", function () {
  this.timeout(20_000);
  let host: GitHostServer;
  let front: http.Server;
  let frontUrl = "";
  const held = new Map<string, Held>();

  beforeEach(async () => {
    held.clear();
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main" });
    host.setPull("acme/api", mergedPull());
    front = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const sha = /\/statuses\/([0-9a-f]+)$/.exec((req.url ?? "").split("?")[0] ?? "")?.[1];
        if (req.method === "POST" && sha) {
          const form = JSON.parse(body.toString()) as Record<string, string>;
          const key = `${sha}|${form.name}|${form.ref}`;
          const refused = refusal(form.state ?? "", held.get(key));
          if (refused !== undefined) {
            res.writeHead(400, { "content-type": "application/json" });
            res.end(JSON.stringify({ message: refused }));
            return;
          }
          held.set(key, { state: form.state ?? "", description: form.description ?? "" });
        }
        const target = new URL(req.url ?? "/", host.url);
        const up = http.request(
          target,
          { method: req.method, headers: { ...req.headers, host: target.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        up.end(body);
      });
    });
    await new Promise<void>((ok) => front.listen(0, "127.0.0.1", ok));
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((ok) => front.close(() => ok()));
    await host.close();
  });

  /** An object store whose prefix deletion fails retryably with each message given, then deletes 3 objects. */
  const failing = (...messages: string[]): ObjectStore => ({
    ...noObjects,
    deletePrefix: async () => {
      const message = messages.shift();
      if (message === undefined) return 3;
      throw new ActionError(message, { retryable: true });
    },
  });
  const request: () => PrCleanupRequest = () => ({
    type: "pr-cleanup",
    api: { provider: "gitlab", apiUrl: `${frontUrl}/api/v4`, token: "hookgate/github-token" },
    context: "hookgate/pr-cleanup",
    steps: [{ kind: "delete-s3-prefix", bucket: "previews", prefix: "acme/api/pr-7/" }],
  });
  const event = () => closedPrEvent({}, { provider: "gitlab" });
  const only = () => {
    expect(held.size).to.equal(1);
    return [...held.values()][0] as Held;
  };

  it("a retryable step failure leaves the GitLab status running, saying that a retry follows and why", async () => {
    const error = await cleanUpPullRequest(
      request(),
      event(),
      testClients({ objects: failing("S3 answered 503 SlowDown") }),
    ).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(ActionError);
    expect((error as ActionError).retryable).to.equal(true);
    expect(only()).to.deep.equal({
      state: "running",
      description: "delete-s3-prefix failed, will retry: S3 answered 503 SlowDown",
    });
  });

  it("a second retryable failure, which GitLab refuses to show (running to running), is logged as not shown; the last attempt's success replaces it", async () => {
    const objects = failing("S3 answered 503 SlowDown", "S3 answered 500 InternalError");
    await cleanUpPullRequest(request(), event(), testClients({ objects })).catch(() => undefined);
    const second = testClients({ objects, attempt: 2 });
    await cleanUpPullRequest(request(), event(), second).catch(() => undefined);
    // The commit still shows the first failure: GitLab kept it, and the log says the second was not shown.
    expect(only()).to.deep.equal({
      state: "running",
      description: "delete-s3-prefix failed, will retry: S3 answered 503 SlowDown",
    });
    const notShown = second.logs.filter(
      (line) => line.level === "warn" && /not updated/.test(String(line.msg)),
    );
    expect(notShown).to.have.length(1);
    expect(notShown[0]?.status).to.equal(
      "delete-s3-prefix failed, will retry: S3 answered 500 InternalError",
    );

    const outcome = await cleanUpPullRequest(request(), event(), testClients({ objects, attempt: 3 }));
    expect(outcome.status).to.equal("done");
    expect(only()).to.deep.equal({
      state: "success",
      description: "deleted 3 objects under s3://previews/acme/api/pr-7/",
    });
  });

  it("the queue's last attempt after an interim status sets failed, which GitLab takes from running", async () => {
    const objects = failing("S3 answered 503 SlowDown", "S3 answered 503 SlowDown");
    await cleanUpPullRequest(request(), event(), testClients({ objects })).catch(() => undefined);
    const last = testClients({ objects, attempt: 2, lastAttempt: true });
    await cleanUpPullRequest(request(), event(), last).catch(() => undefined);
    expect(only()).to.deep.equal({
      state: "failed",
      description: "delete-s3-prefix failed: S3 answered 503 SlowDown",
    });
    expect(last.logs.filter((line) => /not updated/.test(String(line.msg)))).to.deep.equal([]);
  });
});
