// What a verified delivery's values can reach once a route renders them. Anyone who can push a branch, name
// a tag or open a pull request from a fork chooses them: each test sends such a value through the real
// rendering and the real action, against local servers, and checks where it went.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { expect } from "chai";
import { triggerJenkins } from "../../src/actions/jenkins";
import { cleanUpPullRequest } from "../../src/actions/prCleanup";
import { renderRequest, toQueuedEvent } from "../../src/core/render";
import type { Route, WebhookEvent } from "../../src/core/types";
import { FsObjectStore } from "../../src/local/fsObjectStore";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { buildZip } from "../support/zips";
import {
  closedPrEvent,
  HOST_TOKEN,
  JENKINS_TOKEN,
  JENKINS_USER,
  mergedPull,
  PR_HEAD_SHA,
  rejectsWithActionError,
  testClients,
  upload,
} from "./helpers";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function route(action: Route["action"]): Route {
  return {
    name: "r",
    provider: "github",
    secret: "hookgate/webhook",
    auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    match: {},
    action,
  };
}

function push(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    provider: "github",
    deliveryId: "d-1",
    event: "push",
    repo: { owner: "acme", name: "api", fullName: "acme/api" },
    ref: "refs/heads/main",
    branch: "main",
    sha: SHA,
    deleted: false,
    changedFiles: [],
    payload: {},
    ...overrides,
  };
}

/** A server on 127.0.0.1 that counts what reaches it: where a payload's URLs point. */
async function startTrap(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(500).end();
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}

describe("Payload-controlled values in the Jenkins action (local Jenkins)", function () {
  this.timeout(30_000);
  let jenkins: JenkinsServer;
  const target = () => ({ url: jenkins.url, credentials: "hookgate/jenkins", crumb: true });

  beforeEach(async () => {
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN, crumb: true });
  });
  afterEach(async () => {
    await jenkins.close();
  });

  const values = [
    "../../script",
    "x?delay=0sec#frag",
    "%2F..%2Fmanage",
    "%252F..",
    "a/b",
    "..\\..\\x",
    "ü space;x=1",
  ];
  for (const value of values) {
    it(`a job folder filled with ${JSON.stringify(value)} from the payload stays one job name under builds/: the path, query and fragment are not changed`, async () => {
      const request = renderRequest(
        route({
          type: "jenkins",
          jenkins: target(),
          job: "builds/{{payload.pull_request.title}}",
          parameters: { SHA: "{{sha}}" },
        }),
        push({ payload: { pull_request: { title: value } } }),
      );
      await triggerJenkins(request.type === "jenkins" ? request : expect.fail(), testClients(), {
        deliveryId: "d-1",
      });
      const [build, ...more] = jenkins.builds();
      expect(more).to.deep.equal([]);
      // Decoded once, the job's second folder is the value as a multibranch project escapes a branch's name.
      expect(build?.job).to.deep.equal(["builds", value.replace(/[#%/?[\]\\]/g, encodeURIComponent)]);
      expect(build?.endpoint).to.equal("buildWithParameters");
      expect(build?.query).to.deep.equal({});
      expect(build?.form).to.deep.equal({ SHA: SHA });
    });
  }

  for (const value of ["..", ".", "", " "]) {
    it(`a job folder filled with ${JSON.stringify(value)} from the payload is refused, final, before any request`, async () => {
      const request = renderRequest(
        route({ type: "jenkins", jenkins: target(), job: "builds/{{payload.x}}/deploy", parameters: {} }),
        push({ payload: { x: value } }),
      );
      const error = await rejectsWithActionError(
        triggerJenkins(request.type === "jenkins" ? request : expect.fail(), testClients(), {
          deliveryId: "d-1",
        }),
      );
      expect(error.retryable).to.equal(false);
      expect(jenkins.requests).to.deep.equal([]);
    });
  }

  it("a parameter filled from the payload with &, =, CR LF and NUL stays the one form field's value: it adds no field, header or query", async () => {
    const message = "fix&SHA=0000000&token=x\r\nX-Injected: 1\u0000end=1";
    const request = renderRequest(
      route({
        type: "jenkins",
        jenkins: target(),
        job: "api/build",
        parameters: { SHA: "{{sha}}", MSG: "{{payload.head_commit.message}}" },
      }),
      push({ payload: { head_commit: { message } } }),
    );
    await triggerJenkins(request.type === "jenkins" ? request : expect.fail(), testClients(), {
      deliveryId: "d-1",
    });
    const [build] = jenkins.builds();
    expect(build?.path).to.equal("/job/api/job/build/buildWithParameters");
    expect(build?.query).to.deep.equal({});
    expect(build?.form).to.deep.equal({ SHA: SHA, MSG: message });
    expect(build?.headers["x-injected"]).to.equal(undefined);
    // The crumb was asked for with the controller's url only, and sent back with its session cookie.
    expect(jenkins.requests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
      "GET /crumbIssuer/api/json",
      "POST /job/api/job/build/buildWithParameters",
    ]);
  });
});

describe("Payload-controlled values in the Git host calls (local Git host)", function () {
  this.timeout(30_000);
  let host: GitHostServer;
  let trap: Awaited<ReturnType<typeof startTrap>>;
  const api = () => ({ provider: "github" as const, apiUrl: host.url, token: "hookgate/github-token" });

  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api", { defaultBranch: "main", branches: ["main", "release/2.0"] });
    trap = await startTrap();
  });
  afterEach(async () => {
    await host.close();
    await trap.close();
  });

  for (const branch of ["fix/a?b#c", "fix/%2F..%2Frelease/2.0", "fix/ü space&x=1"]) {
    it(`pr-cleanup deletes the head branch ${JSON.stringify(branch)} of acme/api itself, and no other branch or repository`, async () => {
      host.setRepo("acme/other", { branches: ["main", "release/2.0"] });
      host.setPull("acme/api", {
        number: 7,
        state: "closed",
        merged: true,
        headRef: branch,
        headSha: PR_HEAD_SHA,
      });
      const outcome = await cleanUpPullRequest(
        {
          type: "pr-cleanup",
          api: api(),
          context: "hookgate/r",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        },
        closedPrEvent({ headRef: branch }),
        testClients(),
      );
      expect(outcome.detail).to.equal(`deleted branch ${branch}`);
      expect(host.deletedRefs).to.deep.equal([{ repo: "acme/api", branch }]);
      expect(host.branches("acme/api")).to.include.members(["main", "release/2.0"]);
      expect(host.branches("acme/other")).to.include.members(["main", "release/2.0"]);
    });
  }

  it("pr-cleanup refuses, final, a head branch whose folder is .. (refs/heads/../main), and deletes nothing", async () => {
    host.setPull("acme/api", {
      number: 7,
      state: "closed",
      merged: true,
      headRef: "x/../main",
      headSha: PR_HEAD_SHA,
    });
    const error = await rejectsWithActionError(
      cleanUpPullRequest(
        {
          type: "pr-cleanup",
          api: api(),
          context: "hookgate/r",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        },
        closedPrEvent({ headRef: "x/../main" }),
        testClients(),
      ),
    );
    expect(error.retryable).to.equal(false);
    expect(host.deletedRefs).to.deep.equal([]);
    expect(host.requests.filter((r) => r.method === "DELETE")).to.deep.equal([]);
    expect(host.branches("acme/api")).to.include("main");
  });

  it("pr-cleanup of a fork's pull request whose head is named as the base's release/2.0 keeps the base's branch", async () => {
    host.setPull("acme/api", {
      number: 7,
      state: "closed",
      merged: true,
      headRef: "release/2.0",
      headSha: PR_HEAD_SHA,
      headRepoFullName: "mallory/api",
    });
    const outcome = await cleanUpPullRequest(
      {
        type: "pr-cleanup",
        api: api(),
        context: "hookgate/r",
        steps: [{ kind: "delete-branch", onlyMerged: false }],
      },
      // The delivery claims the head is the base repository's own: the API's answer decides.
      closedPrEvent({ headRef: "release/2.0", headRepoFullName: "acme/api" }),
      testClients(),
    );
    expect(outcome.detail).to.equal("kept release/2.0: it belongs to a fork");
    expect(host.deletedRefs).to.deep.equal([]);
    expect(host.branches("acme/api")).to.include("release/2.0");
  });

  // A fork's head branch is anyone's choice: in the link of the base repository's commit status it must not
  // name another host, or another query than the route wrote.
  it("pr-cleanup's status link keeps the host and query the route wrote when a fork's head branch holds . / ? # & =", async () => {
    const branch = "evil.example/#x&pr=1";
    host.setPull("acme/api", {
      number: 7,
      state: "closed",
      merged: false,
      headRef: branch,
      headSha: PR_HEAD_SHA,
      headRepoFullName: "mallory/api",
    });
    const event = {
      ...push({ event: "pull_request", action: "closed" }),
      pr: {
        number: 7,
        merged: false,
        state: "closed",
        headRef: branch,
        baseRef: "main",
        headSha: PR_HEAD_SHA,
        headRepoFullName: "mallory/api",
      },
    } as WebhookEvent;
    for (const targetUrl of [
      "https://{{pr.headRef}}.previews.example.com/",
      "https://{{pr.headRef.underscored}}.previews.example.com/",
      "https://logs.example.com/?branch={{pr.headRef}}&pr={{pr.number}}",
    ]) {
      const request = renderRequest(
        route({
          type: "pr-cleanup",
          api: api(),
          targetUrl,
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        }),
        event,
      );
      await cleanUpPullRequest(
        request.type === "pr-cleanup" ? request : expect.fail(),
        toQueuedEvent(event),
        testClients(),
      );
    }
    const links = host.statuses
      .filter((status) => status.state === "pending")
      .map((status) => status.targetUrl);
    expect(links).to.have.length(3);
    for (const link of links.slice(0, 2)) {
      let hostname: string | undefined;
      try {
        hostname = new URL(link ?? "").hostname;
      } catch {
        hostname = undefined; // not a URL: the host refuses the status, and no link leads elsewhere
      }
      if (hostname !== undefined) expect(hostname).to.match(/\.previews\.example\.com$/);
    }
    const query = new URL(links[2] ?? "").searchParams;
    expect([...query.entries()]).to.deep.equal([
      ["branch", branch],
      ["pr", "7"],
    ]);
    expect(host.deletedRefs).to.deep.equal([]);
  });

  // What `hookgate check` notes of a teardown named by branch: the steps run for a fork's pull request too.
  it("pr-cleanup runs a jenkins teardown of a fork's pull request from a branch named main with BRANCH=main", async () => {
    const jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    try {
      host.setPull("acme/api", {
        number: 9,
        state: "closed",
        merged: false,
        headRef: "main",
        headSha: PR_HEAD_SHA,
        headRepoFullName: "mallory/api",
      });
      const event = {
        ...push({ event: "pull_request", action: "closed" }),
        pr: {
          number: 9,
          merged: false,
          state: "closed",
          headRef: "main",
          baseRef: "main",
          headSha: PR_HEAD_SHA,
          headRepoFullName: "mallory/api",
        },
      } as WebhookEvent;
      const request = renderRequest(
        route({
          type: "pr-cleanup",
          api: api(),
          jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
          steps: [
            { kind: "delete-branch", onlyMerged: false },
            { kind: "jenkins", job: "previews/teardown", parameters: { BRANCH: "{{pr.headRef}}" } },
          ],
        }),
        event,
      );
      await cleanUpPullRequest(
        request.type === "pr-cleanup" ? request : expect.fail(),
        toQueuedEvent(event),
        testClients(),
      );
      expect(host.deletedRefs).to.deep.equal([]);
      expect(jenkins.builds().map((build) => build.form)).to.deep.equal([{ BRANCH: "main" }]);
    } finally {
      await jenkins.close();
    }
  });

  // A pull request's branch is its base and its sha its head, which a fork's author chooses: zipped, the fork's
  // code would land at the base branch's key, where CodePipeline deploys from.
  for (const event of ["pull_request", "pull_request_target", "merge_group"]) {
    it(`s3-zip skips a ${event} delivery into main, and leaves main's zip alone: it zips pushed commits only`, async () => {
      const forkSha = "feedfacefeedfacefeedfacefeedfacefeedface";
      host.setArchive("acme/api", forkSha, {
        files: { "buildspec.yml": "phases: { build: { commands: [evil] } }\n" },
      });
      const delivery = push({
        event,
        action: "opened",
        ref: undefined,
        branch: "main",
        sha: forkSha,
        pr: {
          number: 9,
          merged: false,
          headRef: "x",
          baseRef: "main",
          headSha: forkSha,
          headRepoFullName: "mallory/api",
        },
      });
      const request = renderRequest(
        route({
          type: "s3-zip",
          api: api(),
          bucket: "artifacts",
          key: "{{repo.path}}/branch/{{branch.path}}/{{repo.underscored}}_branch_{{branch.underscored}}.zip",
        }),
        delivery,
      );
      const objects = new FsObjectStore(mkdtempSync(join(tmpdir(), "hookgate-payload-")));
      try {
        const outcome = await upload(
          request.type === "s3-zip" ? request : expect.fail(),
          toQueuedEvent(delivery),
          testClients({ objects }),
        );
        expect(outcome.status).to.equal("skipped");
        expect(await objects.head("artifacts", "acme/api/branch/main/acme_api_branch_main.zip")).to.equal(
          undefined,
        );
        expect(host.requests.filter((r) => r.kind === "archive")).to.deep.equal([]);
      } finally {
        rmSync(objects.root, { recursive: true, force: true });
      }
    });
  }

  it("s3-zip and pr-cleanup call the configured API only, never a URL of the payload (clone_url, html_url, statuses_url)", async () => {
    host.setArchive("acme/api", SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
    host.setPull("acme/api", mergedPull());
    const trapUrl = `${trap.url}/acme/api`;
    const payload = {
      repository: {
        full_name: "acme/api",
        clone_url: `${trapUrl}.git`,
        html_url: trapUrl,
        url: trapUrl,
        archive_url: `${trapUrl}/{archive_format}{/ref}`,
        statuses_url: `${trapUrl}/statuses/{sha}`,
      },
      pull_request: { url: trapUrl, statuses_url: `${trapUrl}/statuses/x`, head: { repo: { url: trapUrl } } },
    };
    const event = push({
      repo: { owner: "acme", name: "api", fullName: "acme/api", cloneUrl: `${trapUrl}.git` },
      payload,
    });
    const objects = new FsObjectStore(mkdtempSync(join(tmpdir(), "hookgate-payload-")));
    try {
      const zip = renderRequest(
        route({ type: "s3-zip", api: api(), bucket: "artifacts", key: "{{repo.path}}/{{sha}}.zip" }),
        event,
      );
      const zipped = await upload(
        zip.type === "s3-zip" ? zip : expect.fail(),
        toQueuedEvent(event),
        testClients({ objects }),
      );
      expect(zipped.status).to.equal("done");
      const closed = closedPrEvent();
      closed.repo = { ...closed.repo, cloneUrl: `${trapUrl}.git` };
      const cleaned = await cleanUpPullRequest(
        {
          type: "pr-cleanup",
          api: api(),
          context: "hookgate/r",
          steps: [{ kind: "delete-branch", onlyMerged: true }],
        },
        closed,
        testClients(),
      );
      expect(cleaned.status).to.equal("done");
    } finally {
      rmSync(objects.root, { recursive: true, force: true });
    }
    expect(trap.hits).to.deep.equal([]);
  });
});

describe("Payload-controlled values in serve's file store (FsObjectStore)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "hookgate-payload-s3-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** Every file under the state dir's s3 folder, relative to it, with "/" between folders. */
  function files(dir = root): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? files(join(dir, entry.name))
        : [relative(root, join(dir, entry.name)).split(sep).join("/")],
    );
  }

  // Git refuses most of these in a ref name; a payload field (payload.<path>) or another host may not.
  const branches = ["../../../escaped", "..", "a/../../b", "%2e%2e/x", "x/./y", "\\..\\..\\w", "..%2F..%2Fz"];
  for (const branch of branches) {
    it(`an s3-zip key rendered from the branch ${JSON.stringify(branch)} is stored under <state-dir>/s3/<bucket>/ or refused`, async () => {
      const request = renderRequest(
        route({
          type: "s3-zip",
          api: { provider: "github", apiUrl: "http://127.0.0.1:9", token: "t" },
          bucket: "artifacts",
          key: "{{repo.path}}/{{branch.path}}/{{branch}}.zip",
        }),
        push({ branch }),
      );
      const key = request.type === "s3-zip" ? request.key : expect.fail();
      const store = new FsObjectStore(root);
      const stored = await store
        .put("artifacts", key, Readable.from([Buffer.from("zip")]), { metadata: {} })
        .then(
          () => true,
          (error: Error) => expect(error.name).to.equal("ObjectKeyError") && false,
        );
      if (stored) expect(files()).to.include(`artifacts/${key}`);
      for (const file of files()) expect(file).to.match(/^artifacts\/acme\/api\//);
    });
  }

  it("a delete-s3-prefix rendered from a head branch ../ or .. deletes nothing outside the pull request's folder, in the bucket or beside it", async () => {
    const store = new FsObjectStore(root);
    for (const key of ["acme/api/pr-7/a.js", "acme/api/main/keep.js", "acme/other/keep.js"]) {
      await store.put("previews", key, Readable.from([Buffer.from("x")]), { metadata: {} });
    }
    await store.put("artifacts", "acme/api/main/keep.zip", Readable.from([Buffer.from("x")]), {
      metadata: {},
    });
    writeFileSync(join(root, "outside.txt"), "x");
    for (const headRef of ["..", "../..", "../../artifacts", "/", "x/../.."]) {
      const event = {
        ...push({ event: "pull_request", action: "closed" }),
        pr: { number: 7, merged: true, headRef, baseRef: "main", headSha: SHA },
      } as WebhookEvent;
      for (const prefix of ["{{repo.path}}/{{pr.headRef}}/", "{{repo.path}}/{{pr.headRef.path}}/"]) {
        const request = renderRequest(
          route({
            type: "pr-cleanup",
            api: { provider: "github", apiUrl: "http://127.0.0.1:9", token: "t" },
            steps: [{ kind: "delete-s3-prefix", bucket: "previews", prefix }],
          }),
          event,
        );
        const step = request.type === "pr-cleanup" ? request.steps[0] : undefined;
        expect(step?.kind === "delete-s3-prefix" && step.prefix).to.match(/^acme\/api\//);
        if (step?.kind === "delete-s3-prefix") await store.deletePrefix(step.bucket, step.prefix);
      }
    }
    expect(files().filter((file) => !file.endsWith(".metadata.json"))).to.have.members([
      "previews/acme/api/pr-7/a.js",
      "previews/acme/api/main/keep.js",
      "previews/acme/other/keep.js",
      "artifacts/acme/api/main/keep.zip",
      "outside.txt",
    ]);
  });
});

describe("An archive whose Content-Length lies (raw HTTP on 127.0.0.1)", function () {
  this.timeout(30_000);
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "hookgate-payload-zip-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** Answers every request with a 200 whose Content-Length is `declared`, then `body`, then closes. */
  async function lyingHost(declared: number, body: Buffer): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.once("data", () => {
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/zip\r\ncontent-length: ${declared}\r\n\r\n`,
        );
        socket.end(body);
      });
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () =>
        new Promise<void>((closed) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => closed());
        }),
    };
  }

  for (const [what, declared] of [
    ["shorter than", (zip: Buffer) => zip.length * 2],
    ["longer than", (zip: Buffer) => Math.floor(zip.length / 2)],
  ] as const) {
    it(`s3-zip of an archive ${what} its Content-Length fails retryable and stores nothing`, async () => {
      const zip = await buildZip({ "buildspec.yml": "version: 0.2\n", "src/a.ts": "x".repeat(5000) }, "top");
      const host = await lyingHost(declared(zip), zip);
      try {
        const objects = new FsObjectStore(root);
        const error = await rejectsWithActionError(
          upload(
            {
              type: "s3-zip",
              api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
              bucket: "artifacts",
              key: "acme/api/main/acme_api.zip",
            },
            toQueuedEvent(push()),
            testClients({ objects }),
          ),
        );
        expect(error.retryable).to.equal(true);
        // Cut short: the connection closed before the declared length. Longer: the zip read stops at it.
        expect(error.message).to.match(
          what === "shorter than" ? /could not be reached: UND_ERR_SOCKET/ : /not a readable zip/,
        );
        expect(await objects.head("artifacts", "acme/api/main/acme_api.zip")).to.equal(undefined);
      } finally {
        await host.close();
      }
    });
  }
});
