import { expect } from "chai";
import { runAction } from "../../src/actions";
import type { ActionRequest, WorkItem } from "../../src/core/types";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { MemorySecretStore } from "../support/secrets";
import { JENKINS_TOKEN, JENKINS_USER, rejectsWithActionError, testClients } from "./helpers";

function workItem(request: ActionRequest): WorkItem {
  return {
    v: 1,
    route: "api-build",
    deliveryId: "d-9",
    generation: 0,
    acceptedAt: "2026-11-23T06:00:00.000Z",
    event: {
      provider: "github",
      deliveryId: "d-9",
      event: "push",
      repo: { owner: "acme", name: "api", fullName: "acme/api" },
      ref: "refs/heads/main",
      branch: "main",
      sha: "0123456789abcdef0123456789abcdef01234567",
      deleted: false,
    },
    request,
  };
}

describe("Function: runAction", () => {
  let jenkins: JenkinsServer;
  before(async () => {
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
  });
  after(async () => {
    await jenkins.close();
  });

  it("runAction dispatches a jenkins request to triggerJenkins", async () => {
    const outcome = await runAction(
      workItem({
        type: "jenkins",
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
        job: ["api", "build"],
        parameters: { DELIVERY: "d-9" },
      }),
      testClients(),
    );
    expect(outcome.status).to.equal("done");
    expect(jenkins.builds().at(-1)?.form).to.deep.equal({ DELIVERY: "d-9" });
  });

  it("runAction gives jenkins the work item's acceptedAt and the attempt: a retry takes a build started since then by the same user for the delivery's", async () => {
    const server = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "DELIVERY" }],
    });
    try {
      const item = workItem({
        type: "jenkins",
        jenkins: { url: server.url, credentials: "hookgate/jenkins", crumb: false },
        job: ["api", "build"],
        parameters: { DELIVERY: "d-9" },
      });
      const since = Date.parse(item.acceptedAt);
      server.addBuild({
        job: "api/build",
        timestamp: since - 1,
        user: JENKINS_USER,
        parameters: { DELIVERY: "d-9" },
      });
      expect((await runAction(item, testClients({ attempt: 2 }))).detail).to.match(/^queued as /);
      server.addBuild({
        job: "api/build",
        timestamp: since,
        user: JENKINS_USER,
        parameters: { DELIVERY: "d-9" },
      });
      expect((await runAction(item, testClients())).detail, "a first attempt looks for nothing").to.match(
        /^queued as /,
      );
      expect((await runAction(item, testClients({ attempt: 2 }))).publicDetail).to.equal(
        "already started as build #4",
      );
      expect(server.builds()).to.have.length(2);
    } finally {
      await server.close();
    }
  });

  it("runAction dispatches an s3-zip request (a deleted branch is skipped)", async () => {
    const item = workItem({
      type: "s3-zip",
      api: { provider: "github", apiUrl: "http://127.0.0.1:1" },
      bucket: "b",
      key: "k",
    });
    item.event = { ...item.event, deleted: true };
    expect((await runAction(item, testClients())).status).to.equal("skipped");
  });

  it("runAction gives s3-zip the work item's acceptedAt: an item accepted before the zip at its key is skipped", async () => {
    const item = workItem({
      type: "s3-zip",
      api: { provider: "github", apiUrl: "http://127.0.0.1:1" },
      bucket: "b",
      key: "acme/api/main/acme_api.zip",
    });
    const newer = { sha: "f".repeat(40), "accepted-at": "2026-11-23T06:00:00.001Z" };
    const objects = {
      head: async () => ({ metadata: newer }),
      put: async () => expect.fail("no upload"),
      deletePrefix: async () => expect.fail("no deletion"),
    };
    const outcome = await runAction(item, testClients({ objects }));
    expect(outcome.status).to.equal("skipped");
    expect(outcome.detail)
      .to.contain("accepted 2026-11-23T06:00:00.001Z")
      .and.contain("accepted 2026-11-23T06:00:00.000Z");
  });

  it("runAction dispatches a pr-cleanup request (a push is skipped)", async () => {
    const outcome = await runAction(
      workItem({
        type: "pr-cleanup",
        api: { provider: "github", apiUrl: "http://127.0.0.1:1" },
        context: "c",
        steps: [],
      }),
      testClients(),
    );
    expect(outcome.status).to.equal("skipped");
  });

  it("runAction rejects an unknown action type as final", async () => {
    const err = await rejectsWithActionError(
      runAction(workItem({ type: "ftp" } as unknown as ActionRequest), testClients()),
    );
    expect(err.retryable).to.equal(false);
  });

  it("runAction turns a throttled secret store into a retryable ActionError", async () => {
    const secrets = new MemorySecretStore().throttle();
    const err = await rejectsWithActionError(
      runAction(
        workItem({
          type: "jenkins",
          jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
          job: ["api"],
          parameters: {},
        }),
        testClients({ secrets }),
      ),
    );
    expect(err.retryable).to.equal(true);
  });

  it("runAction turns an unexpected error into a retryable ActionError", async () => {
    const secrets = {
      versions: async () => {
        throw new TypeError("boom");
      },
    };
    const err = await rejectsWithActionError(
      runAction(
        workItem({
          type: "jenkins",
          jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
          job: ["api"],
          parameters: {},
        }),
        testClients({ secrets }),
      ),
    );
    expect(err.retryable).to.equal(true);
  });
});
