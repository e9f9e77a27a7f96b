import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { expect } from "chai";
import { Agent } from "undici";
import yauzl from "yauzl";
import yazl from "yazl";
import {
  directoryBytes,
  downloadArchive,
  makeRunDir,
  type RunDirFs,
  rezipIntoStore,
  tooManyEntries,
} from "../../src/actions/s3Zip";
import { CredentialsRefusedError } from "../../src/actions/secrets";
import { S3ObjectStore } from "../../src/aws/objectStore";
import { ActionError } from "../../src/core/errors";
import { routeKeyScope } from "../../src/core/keyPrefixes";
import type { ObjectStore } from "../../src/core/ports";
import type { Provider, QueuedEvent, Route, S3ZipRequest } from "../../src/core/types";
import { FsObjectStore } from "../../src/local/fsObjectStore";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { RotatedSecrets } from "../support/rotatedSecrets";
import { createLocalS3Client, type LocalS3, startLocalS3 } from "../support/s3";
import { json, type Reply, type ScriptedServer, type Seen, scriptedServer } from "../support/scriptedServer";
import { MemorySecretStore } from "../support/secrets";
import { buildZip, gitArchiveZip, readZip, readZipModes, readZipRaw } from "../support/zips";
import { ACCEPTED_AT, HOST_TOKEN, rejectsWithActionError, testClients, upload } from "./helpers";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const BUCKET = "artifacts";
const FILES = {
  "buildspec.yml": "version: 0.2\n",
  "src/index.ts": "export const answer = 42;\n",
  "docs/ü n i.md": "# unicode name\n",
};

function pushEvent(overrides: Partial<QueuedEvent> = {}): QueuedEvent {
  return {
    provider: "github",
    deliveryId: "delivery-42",
    event: "push",
    repo: { owner: "acme", name: "api", fullName: "acme/api", defaultBranch: "main" },
    ref: "refs/heads/main",
    branch: "main",
    sha: SHA,
    deleted: false,
    ...overrides,
  };
}

describe("Function: uploadSourceZip (s3rver + local Git host)", function () {
  this.timeout(60_000);
  let host: GitHostServer;
  let s3: LocalS3;

  const request = (provider: Provider = "github", apiPath = ""): S3ZipRequest => ({
    type: "s3-zip",
    api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token" },
    bucket: BUCKET,
    key: "acme/api/main/acme_api.zip",
  });
  const clients = (overrides = {}) => testClients({ objects: new S3ObjectStore(s3.client), ...overrides });

  before(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
  });
  after(async () => {
    await s3.close();
  });
  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: FILES });
    s3.faults.failEveryUploadPart = false;
    s3.faults.failUploadPartRequests = [];
    s3.faults.everyRequest = undefined;
    s3.faults.headStatus = undefined;
    // Each test starts from an empty bucket: a zip an earlier test left at the key names the same delivery
    // (delivery-42, ACCEPTED_AT), which the action would take as its own, in place already.
    const keys = await s3.listKeys(BUCKET);
    if (keys.length > 0) {
      await s3.client.send(
        new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
      );
    }
  });
  afterEach(async () => {
    await host.close();
  });

  it("uploadSourceZip downloads the zipball of the exact sha, follows the redirect and flattens the top folder", async () => {
    const outcome = await upload(request(), pushEvent(), clients());
    expect(outcome.status).to.equal("done");
    const object = await s3.getObject(BUCKET, "acme/api/main/acme_api.zip");
    const entries = await readZip(object.body);
    expect([...entries.keys()].filter((n) => !n.endsWith("/")).sort()).to.deep.equal(
      Object.keys(FILES).sort(),
    );
    expect(entries.get("buildspec.yml")?.toString()).to.equal("version: 0.2\n");
    expect(entries.get("src/index.ts")?.toString()).to.equal(FILES["src/index.ts"]);
    const [api, codeload] = host.requests;
    expect(api?.path).to.equal(`/repos/acme/api/zipball/${SHA}`);
    expect(api?.authorized).to.equal(true);
    expect(codeload?.listener).to.equal("codeload");
  });

  it("uploadSourceZip drops the token when the redirect leaves the API's origin", async () => {
    await upload(request(), pushEvent(), clients());
    const codeload = host.requests.find((r) => r.listener === "codeload");
    expect(codeload?.hadAuthorization).to.equal(false);
  });

  it("uploadSourceZip stores sha, ref, delivery id, acceptance time and CodePipeline's revision summary as metadata, with content type application/zip", async () => {
    await upload(request(), pushEvent(), clients());
    const object = await s3.getObject(BUCKET, "acme/api/main/acme_api.zip");
    expect(object.metadata).to.deep.equal({
      sha: SHA,
      ref: "refs/heads/main",
      "delivery-id": "delivery-42",
      "accepted-at": ACCEPTED_AT,
      "codepipeline-artifact-revision-summary": "github acme/api main 0123456: delivery delivery-42",
    });
    expect(object.contentType).to.equal("application/zip");
  });

  it("uploadSourceZip names a tag push's tag in the revision summary", async () => {
    const key = "summary/tag.zip";
    const tagPush = pushEvent({ ref: "refs/tags/v1.2", branch: undefined, tag: "v1.2", provider: "gitlab" });
    expect((await upload({ ...request(), key }, tagPush, clients())).status).to.equal("done");
    expect((await s3.getObject(BUCKET, key)).metadata).to.include({
      "codepipeline-artifact-revision-summary": "gitlab acme/api v1.2 0123456: delivery delivery-42",
    });
  });

  it("uploadSourceZip gives the upload the function's deadline, so it cannot outlive the function", async () => {
    const deadlines: Array<number | undefined> = [];
    const store = new S3ObjectStore(s3.client);
    const objects = {
      put: (...args: Parameters<S3ObjectStore["put"]>) => {
        deadlines.push(args[3].deadlineMs);
        return store.put(...args);
      },
      head: (...args: Parameters<S3ObjectStore["head"]>) => {
        deadlines.push(args[2]?.deadlineMs);
        return store.head(...args);
      },
      deletePrefix: store.deletePrefix.bind(store),
    };
    const deadlineMs = Date.now() + 60_000;
    expect((await upload(request(), pushEvent(), clients({ objects, deadlineMs }))).status).to.equal("done");
    expect(deadlines).to.deep.equal([deadlineMs, deadlineMs]);
  });

  describe("a delivery older than the zip at its key (a dead letter redriven after newer pushes)", () => {
    const NEWER_SHA = "fedcba9876543210fedcba9876543210fedcba98";
    const EARLY = "2026-12-06T01:00:00.000Z";
    const LATE = "2026-12-06T01:05:00.000Z";
    const zipAt = (key: string) => ({ ...request(), key });
    const archives = () => host.requests.filter((r) => r.kind === "archive");
    beforeEach(() => {
      host.setArchive("acme/api", NEWER_SHA, { files: { "buildspec.yml": "version: 0.2\n# newer\n" } });
    });

    it("uploadSourceZip skips, without downloading, a delivery accepted before the one whose zip is at the key", async () => {
      const key = "order/redriven.zip";
      await upload(zipAt(key), pushEvent({ sha: NEWER_SHA, deliveryId: "newer" }), clients(), LATE);
      const before = archives().length;
      const c = clients();
      const outcome = await upload(zipAt(key), pushEvent({ deliveryId: "older" }), c, EARLY);
      expect(outcome).to.deep.equal({
        status: "skipped",
        detail:
          `skipped: s3://${BUCKET}/${key} holds the zip of a newer delivery (sha ${NEWER_SHA.slice(0, 12)}, ` +
          `accepted ${LATE}) than this one (sha ${SHA.slice(0, 12)}, accepted ${EARLY})`,
      });
      expect(archives()).to.have.length(before);
      const object = await s3.getObject(BUCKET, key);
      expect(object.metadata).to.include({ sha: NEWER_SHA, "accepted-at": LATE, "delivery-id": "newer" });
      expect((await readZip(object.body)).get("buildspec.yml")?.toString()).to.contain("# newer");
      expect(c.logs).to.deep.include({
        msg: "source zip skipped: the key holds a newer delivery's zip",
        bucket: BUCKET,
        key,
        sha: SHA,
        acceptedAt: EARLY,
        newerSha: NEWER_SHA,
        newerAcceptedAt: LATE,
        newerDeliveryId: "newer",
        deliveryId: "older",
      });
    });

    it("uploadSourceZip replaces the zip of a delivery accepted earlier", async () => {
      const key = "order/in-order.zip";
      await upload(zipAt(key), pushEvent({ deliveryId: "older" }), clients(), EARLY);
      const outcome = await upload(
        zipAt(key),
        pushEvent({ sha: NEWER_SHA, deliveryId: "newer" }),
        clients(),
        LATE,
      );
      expect(outcome.status).to.equal("done");
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA, "accepted-at": LATE });
    });

    it("uploadSourceZip skips an older delivery of the commit whose zip is at the key, so the key keeps the newer time and an older delivery of another commit stays held back", async () => {
      // Pushes of SHA (EARLY, a dead letter), NEWER_SHA (MIDDLE, a dead letter) and SHA again (LATE, zipped),
      // then both dead letters redriven: the key must keep LATE's zip, not go back to NEWER_SHA.
      const key = "order/same-commit.zip";
      const MIDDLE = "2026-12-06T01:02:00.000Z";
      await upload(zipAt(key), pushEvent({ deliveryId: "late" }), clients(), LATE);
      const redriven = await upload(zipAt(key), pushEvent({ deliveryId: "early" }), clients(), EARLY);
      expect(redriven.status).to.equal("skipped");
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({
        sha: SHA,
        "accepted-at": LATE,
        "delivery-id": "late",
      });
      const other = await upload(
        zipAt(key),
        pushEvent({ sha: NEWER_SHA, deliveryId: "middle" }),
        clients(),
        MIDDLE,
      );
      expect(other.status).to.equal("skipped");
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: SHA, "accepted-at": LATE });
    });

    it("uploadSourceZip replaces a zip whose accepted-at lies far ahead of the clock, and warns: that time would hold the key for ever", async () => {
      const key = "order/far-future.zip";
      const FAR = "2999-01-01T00:00:00.000Z";
      await upload(zipAt(key), pushEvent({ sha: NEWER_SHA, deliveryId: "future" }), clients(), FAR);
      const c = clients();
      expect((await upload(zipAt(key), pushEvent({ deliveryId: "now" }), c, EARLY)).status).to.equal("done");
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: SHA, "accepted-at": EARLY });
      expect(c.logs).to.deep.include({
        level: "warn",
        msg: "source zip: the zip in place says it was accepted in the future; its time is not believed",
        bucket: BUCKET,
        key,
        theirAcceptedAt: FAR,
        deliveryId: "now",
      });
    });

    it("uploadSourceZip is done, without downloading or uploading, when a retry of the delivery finds the zip an earlier attempt put (the same delivery id, sha and acceptance time)", async () => {
      // The earlier attempt's upload succeeded, but the attempt ended before the queue heard (its time ran out).
      const key = "order/retry.zip";
      const puts = () => s3.requests.filter((r) => r.startsWith("PUT ")).length;
      await upload(zipAt(key), pushEvent(), clients(), LATE);
      const before = { archives: archives().length, puts: puts() };
      const c = clients();
      const outcome = await upload(zipAt(key), pushEvent(), c, LATE);
      expect(outcome).to.deep.equal({
        status: "done",
        detail: `already in place: s3://${BUCKET}/${key} holds this delivery's zip (sha ${SHA.slice(0, 12)}, put by an earlier attempt); nothing uploaded`,
      });
      expect(archives()).to.have.length(before.archives);
      expect(puts()).to.equal(before.puts);
      expect(c.logs).to.deep.include({
        msg: "source zip already in place: the key holds this delivery's zip, put by an earlier attempt",
        bucket: BUCKET,
        key,
        sha: SHA,
        round: 1,
        deliveryId: "delivery-42",
      });
      // Another delivery of the same commit at the same time is not this one: it uploads.
      const other = await upload(zipAt(key), pushEvent({ deliveryId: "delivery-43" }), clients(), LATE);
      expect(other.detail).to.match(/^uploaded /);
      expect(archives().length).to.be.above(before.archives);
      expect(puts()).to.be.above(before.puts);
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({ "delivery-id": "delivery-43" });
    });

    it("uploadSourceZip replaces a zip without accepted-at metadata (written by hand or by an older hookgate)", async () => {
      const key = "order/no-accepted-at.zip";
      await s3.client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: "old zip", Metadata: { sha: NEWER_SHA } }),
      );
      expect((await upload(zipAt(key), pushEvent(), clients(), EARLY)).status).to.equal("done");
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: SHA, "accepted-at": EARLY });
    });

    it("uploadSourceZip skips an older delivery in serve's file store too", async () => {
      const root = await mkdtemp(join(tmpdir(), "hookgate-order-"));
      try {
        const objects = new FsObjectStore(root);
        const key = "acme/api/main/acme_api.zip";
        await upload(zipAt(key), pushEvent({ sha: NEWER_SHA }), clients({ objects }), LATE);
        const outcome = await upload(zipAt(key), pushEvent(), clients({ objects }), EARLY);
        expect(outcome.status).to.equal("skipped");
        expect((await objects.head(BUCKET, key))?.metadata).to.include({
          sha: NEWER_SHA,
          "accepted-at": LATE,
        });
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    describe("an older push accepted after a newer one was zipped on top of it (its delivery refused before any claim and sent again, or out of order)", () => {
      /** The branch's commit before SHA (zipped nowhere here). */
      const FIRST = "c0ffee0000000000000000000000000000000001";
      /** GitHub's fast-forward pushes (forced: false) of SHA on top of FIRST, and of NEWER_SHA on top of SHA. */
      const newerPush = () =>
        pushEvent({ sha: NEWER_SHA, before: SHA, fastForward: true, deliveryId: "push-2" });
      const olderPush = () => pushEvent({ before: FIRST, fastForward: true, deliveryId: "push-1" });

      /** The Git host's lookups of a branch's head (GitHub's "Get a reference"). */
      const headLookups = () => host.requests.filter((r) => r.kind === "ref");

      it("uploadSourceZip stores the commit the push came from as x-amz-meta-supersedes, and skips, without downloading, the older fast-forward push accepted later once the host's head of the branch confirms it has moved on", async () => {
        const key = "chain/resent.zip";
        expect((await upload(zipAt(key), newerPush(), clients(), EARLY)).status).to.equal("done");
        expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA, supersedes: SHA });
        // No lookup on the upload path.
        expect(headLookups()).to.have.length(0);
        host.setBranch("acme/api", "main", NEWER_SHA);
        const before = archives().length;
        const c = clients();
        const outcome = await upload(zipAt(key), olderPush(), c, LATE);
        expect(outcome).to.deep.equal({
          status: "skipped",
          detail:
            `skipped: s3://${BUCKET}/${key} holds the zip of sha ${NEWER_SHA.slice(0, 12)}, whose pushes replaced ` +
            `this push's commit (sha ${SHA.slice(0, 12)}, in its x-amz-meta-supersedes), this push does not ` +
            `continue from it, and the branch's head on github is ${NEWER_SHA.slice(0, 12)}: an older push ` +
            "delivered late",
        });
        expect(headLookups().map((r) => r.path)).to.deep.equal(["/repos/acme/api/git/ref/heads/main"]);
        expect(archives()).to.have.length(before);
        const object = await s3.getObject(BUCKET, key);
        expect(object.metadata).to.include({ sha: NEWER_SHA, "delivery-id": "push-2" });
        expect((await readZip(object.body)).get("buildspec.yml")?.toString()).to.contain("# newer");
        expect(c.logs).to.deep.include({
          msg: "source zip skipped: the key holds the zip of a later push",
          bucket: BUCKET,
          key,
          sha: SHA,
          before: FIRST,
          acceptedAt: LATE,
          newerSha: NEWER_SHA,
          newerDeliveryId: "push-2",
          head: NEWER_SHA,
          deliveryId: "push-1",
        });
      });

      // h439: main FIRST -> SHA -> NEWER_SHA zipped (NEWER_SHA [SHA FIRST]); main reset to FIRST, which the key never
      // saw (GitHub does not resend a 503'd delivery; a dead letter; a paths filter passing a re-creation over);
      // then main fast-forwarded FIRST -> SHA again: the same payload as SHA's first push resent late.
      describe("a fast-forward after a rollback the key never saw (h439)", () => {
        beforeEach(async () => {
          await upload(zipAt("chain/lost-rollback.zip"), olderPush(), clients(), EARLY);
          await upload(zipAt("chain/lost-rollback.zip"), newerPush(), clients(), "2026-12-06T01:01:00.000Z");
          host.requests.length = 0;
        });
        const key = "chain/lost-rollback.zip";
        const again = () => pushEvent({ before: FIRST, fastForward: true, deliveryId: "push-again" });

        it("uploadSourceZip uploads the fast-forward when the host's head of the branch is its commit, naming its before as superseded", async () => {
          host.setBranch("acme/api", "main", SHA);
          const c = clients();
          const outcome = await upload(zipAt(key), again(), c, LATE);
          expect(outcome.detail).to.match(/^uploaded /);
          const object = await s3.getObject(BUCKET, key);
          expect(object.metadata).to.include({ sha: SHA, supersedes: FIRST, "delivery-id": "push-again" });
          expect((await readZip(object.body)).get("buildspec.yml")?.toString()).to.equal("version: 0.2\n");
          expect(headLookups()).to.have.length(1);
          expect(c.logs).to.deep.include({
            msg:
              "source zip: the zip in place lists this push's commit as replaced, but the Git host's head of the " +
              "branch is this push's commit (a rollback the key never saw came before it); uploading",
            bucket: BUCKET,
            key,
            sha: SHA,
            before: FIRST,
            newerSha: NEWER_SHA,
            head: SHA,
            deliveryId: "push-again",
          });
        });

        // h447: an upload on a passing failure would put a late older push over the newer zip.
        for (const [what, reply, status] of [
          ["answers 500", { status: 500, body: "{}" }, /answered 500/],
          ["answers 503", { status: 503, body: "{}" }, /answered 503/],
          ["drops the connection", { drop: true as const }, /GitHub API/],
        ] as const) {
          it(`uploadSourceZip fails retryable, naming the lookup and uploading nothing, when the host's head of the branch lookup ${what}`, async () => {
            host.setBranch("acme/api", "main", SHA);
            host.script("ref", reply);
            const err = await rejectsWithActionError(upload(zipAt(key), again(), clients(), LATE));
            expect(err.retryable).to.equal(true);
            expect(err.message)
              .to.contain("head of branch main could not be read")
              .and.match(status)
              .and.not.contain(HOST_TOKEN);
            expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA });
            expect(archives()).to.have.length(0);
            // The queue's next attempt asks again: the head is this push's commit, so it uploads.
            expect((await upload(zipAt(key), again(), clients(), LATE)).detail).to.match(/^uploaded /);
          });
        }

        it("uploadSourceZip fails retryable with the host's Retry-After when the head lookup answers 429", async () => {
          host.script("ref", { status: 429, headers: { "retry-after": "30" }, body: "{}" });
          const err = await rejectsWithActionError(upload(zipAt(key), again(), clients(), LATE));
          expect(err).to.include({ retryable: true, retryAfterMs: 30_000 });
          expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA });
        });

        it("uploadSourceZip uploads the fast-forward, logging a warning, when the head lookup fails retryably on the queue's last attempt", async () => {
          host.script("ref", { status: 500, body: "{}" });
          const c = clients({ lastAttempt: true });
          const outcome = await upload(zipAt(key), again(), c, LATE);
          expect(outcome.detail).to.match(/^uploaded /);
          expect((await s3.getObject(BUCKET, key)).metadata).to.include({
            sha: SHA,
            "delivery-id": "push-again",
          });
          const warning = c.logs.find((l) => String(l.msg).includes("could not be read from the Git host"));
          expect(warning).to.include({ level: "warn", sha: SHA }).and.not.have.property("head");
          expect(warning?.msg).to.contain("on the queue's last attempt");
          expect(warning?.error).to.be.a("string").and.match(/500/).and.not.contain(HOST_TOKEN);
        });

        it("uploadSourceZip uploads the fast-forward, logging a warning, when the head lookup is refused for good (403: a missing scope)", async () => {
          host.script("ref", { status: 403, body: JSON.stringify({ message: "Resource not accessible" }) });
          const c = clients();
          expect((await upload(zipAt(key), again(), c, LATE)).detail).to.match(/^uploaded /);
          const warning = c.logs.find((l) => String(l.msg).includes("could not be read from the Git host"));
          expect(warning).to.include({ level: "warn" });
          expect(warning?.msg).to.not.contain("last attempt");
          expect(warning?.error).to.match(/403/);
        });

        // h447, h451, h452: a branch deleted since the newer zip has no newer push to stand for; one made again just
        // now may answer 404 for a moment: asked again once, then skipped.
        it("uploadSourceZip fails retryable, uploading nothing, when the host has no such branch on the delivery's first attempt", async () => {
          host.setBranch("acme/api", "main", undefined);
          const err = await rejectsWithActionError(upload(zipAt(key), again(), clients(), LATE));
          expect(err.retryable).to.equal(true);
          expect(err.message).to.contain("github has no branch main now");
          expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA });
          expect(archives()).to.have.length(0);
        });

        it("uploadSourceZip skips the late push, keeping the newer zip, when the host has no such branch on a later attempt (deleted since)", async () => {
          host.setBranch("acme/api", "main", undefined);
          const c = clients({ attempt: 2 });
          const outcome = await upload(zipAt(key), again(), c, LATE);
          expect(outcome).to.deep.equal({
            status: "skipped",
            detail:
              `skipped: s3://${BUCKET}/${key} holds the zip of sha ${NEWER_SHA.slice(0, 12)}, whose pushes replaced ` +
              `this push's commit (sha ${SHA.slice(0, 12)}, in its x-amz-meta-supersedes), this push does not ` +
              "continue from it, and the branch is gone on github (no such branch, or no such repository to the " +
              "route's token): an older push delivered late",
          });
          expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA });
          expect(archives()).to.have.length(0);
          expect(
            c.logs.find((l) => l.msg === "source zip skipped: the key holds the zip of a later push"),
          ).to.include({ head: null, sha: SHA });
        });

        // The repository's other deliveries wait behind it: the last attempt is not retried for a branch made
        // again just now, even when it is the first (a queue that receives a message once).
        it("uploadSourceZip skips the late push, keeping the newer zip, when the host has no such branch on the queue's last attempt that is also its first", async () => {
          host.setBranch("acme/api", "main", undefined);
          const outcome = await upload(zipAt(key), again(), clients({ attempt: 1, lastAttempt: true }), LATE);
          expect(outcome.status).to.equal("skipped");
          expect(outcome.detail).to.contain("the branch is gone on github");
          expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA });
          expect(archives()).to.have.length(0);
        });

        it("uploadSourceZip uploads the fast-forward when the host's head of the branch is still its before (an API lagging behind its webhook)", async () => {
          host.setBranch("acme/api", "main", FIRST);
          expect((await upload(zipAt(key), again(), clients(), LATE)).detail).to.match(/^uploaded /);
          expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: SHA });
        });
      });

      // h439: the chain is one ref's history in one repository.
      it("uploadSourceZip uploads, without asking the host, a fast-forward of another branch onto a commit the zip of main lists, on a key both branches write", async () => {
        const key = "chain/shared.zip";
        await upload(zipAt(key), newerPush(), clients(), EARLY);
        // release lags at FIRST, fast-forwarded to SHA (git push origin SHA:release); main's head is NEWER_SHA.
        host.setBranch("acme/api", "main", NEWER_SHA);
        host.setBranch("acme/api", "release", "c0ffee0000000000000000000000000000000009");
        const release = pushEvent({
          ref: "refs/heads/release",
          branch: "release",
          before: FIRST,
          fastForward: true,
          deliveryId: "push-release",
        });
        const outcome = await upload(zipAt(key), release, clients(), LATE);
        expect(outcome.detail).to.match(/^uploaded /);
        expect((await s3.getObject(BUCKET, key)).metadata).to.include({
          sha: SHA,
          ref: "refs/heads/release",
          supersedes: FIRST,
        });
        expect(headLookups()).to.have.length(0);
      });

      it("uploadSourceZip uploads, without asking the host, a fast-forward of a fork's branch onto a commit the zip of the parent's lists, on a key both repositories write", async () => {
        const key = "chain/fork-shared.zip";
        await upload(zipAt(key), newerPush(), clients(), EARLY);
        host.setRepo("acme/api-fork");
        host.setArchive("acme/api-fork", SHA, { files: { "buildspec.yml": "version: 0.2\n# fork\n" } });
        const fork = pushEvent({
          repo: { owner: "acme", name: "api-fork", fullName: "acme/api-fork", defaultBranch: "main" },
          before: FIRST,
          fastForward: true,
          deliveryId: "push-fork",
        });
        const outcome = await upload(zipAt(key), fork, clients(), LATE);
        expect(outcome.detail).to.match(/^uploaded /);
        const object = await s3.getObject(BUCKET, key);
        expect(object.metadata).to.include({
          sha: SHA,
          "codepipeline-artifact-revision-summary": "github acme/api-fork main 0123456: delivery push-fork",
        });
        expect((await readZip(object.body)).get("buildspec.yml")?.toString()).to.contain("# fork");
        expect(headLookups()).to.have.length(0);
      });

      it("uploadSourceZip uploads a force-push back to the first commit (its before is the zip's commit), naming the newer commits as superseded; the third push resent after it is skipped", async () => {
        const key = "chain/rollback.zip";
        const THIRD = "3333333333333333333333333333333333333333";
        host.setArchive("acme/api", THIRD, { files: { "buildspec.yml": "version: 0.2\n# third\n" } });
        const third = () =>
          pushEvent({ sha: THIRD, before: NEWER_SHA, fastForward: true, deliveryId: "push-3" });
        await upload(zipAt(key), olderPush(), clients(), EARLY);
        await upload(zipAt(key), newerPush(), clients(), LATE);
        expect((await upload(zipAt(key), third(), clients(), "2026-12-06T01:06:00.000Z")).status).to.equal(
          "done",
        );
        expect((await s3.getObject(BUCKET, key)).metadata).to.include({
          supersedes: `${NEWER_SHA} ${SHA} ${FIRST}`,
        });
        // git push -f origin SHA:main: forced, so no fastForward.
        const rollback = pushEvent({ before: THIRD, deliveryId: "push-4" });
        const outcome = await upload(zipAt(key), rollback, clients(), "2026-12-06T01:10:00.000Z");
        expect(outcome.detail).to.match(/^uploaded /);
        const object = await s3.getObject(BUCKET, key);
        expect(object.metadata).to.include({
          sha: SHA,
          supersedes: `${THIRD} ${NEWER_SHA} ${FIRST}`,
          "delivery-id": "push-4",
        });
        expect((await readZip(object.body)).get("buildspec.yml")?.toString()).to.equal("version: 0.2\n");
        // The third push, sent again after the rollback (a redelivery by hand), is an older push now.
        host.setBranch("acme/api", "main", SHA);
        const resent = await upload(zipAt(key), third(), clients(), "2026-12-06T01:11:00.000Z");
        expect(resent.status).to.equal("skipped");
        expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: SHA, "delivery-id": "push-4" });
      });

      it("uploadSourceZip uploads a force-push back to a listed commit from a head never zipped at the key (h432), and that head's dead letter, redriven after it, is skipped as older", async () => {
        // FIRST -> SHA -> NEWER_SHA zipped; THIRD, pushed on top, dead-lettered (or a paths filter passed it
        // over), so the key keeps NEWER_SHA [SHA FIRST]; then main is reset to SHA: before = THIRD.
        const key = "chain/rollback-unzipped-head.zip";
        const THIRD = "3333333333333333333333333333333333333333";
        host.setArchive("acme/api", THIRD, { files: { "buildspec.yml": "version: 0.2\n# third\n" } });
        await upload(zipAt(key), olderPush(), clients(), EARLY);
        await upload(zipAt(key), newerPush(), clients(), "2026-12-06T01:01:00.000Z");
        const rollback = pushEvent({ before: THIRD, deliveryId: "push-4" });
        const outcome = await upload(zipAt(key), rollback, clients(), "2026-12-06T01:10:00.000Z");
        expect(outcome.detail).to.match(/^uploaded /);
        expect((await s3.getObject(BUCKET, key)).metadata).to.include({
          sha: SHA,
          supersedes: THIRD,
          "delivery-id": "push-4",
        });
        // THIRD's dead letter, accepted before the rollback, redriven after it: the key keeps SHA.
        host.setBranch("acme/api", "main", SHA);
        const third = pushEvent({ sha: THIRD, before: NEWER_SHA, fastForward: true, deliveryId: "push-3" });
        const redriven = await upload(zipAt(key), third, clients(), "2026-12-06T01:06:00.000Z");
        expect(redriven.status).to.equal("skipped");
        expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: SHA, "delivery-id": "push-4" });
      });

      it("uploadSourceZip uploads a push of a listed commit that is not known to be a fast-forward (a tag or branch made again there, an older queued item): only a fast-forward is skipped by the chain", async () => {
        const key = "chain/created-again.zip";
        await upload(zipAt(key), newerPush(), clients(), EARLY);
        const createdAgain = pushEvent({ before: "0".repeat(40), deliveryId: "push-created" });
        const outcome = await upload(zipAt(key), createdAgain, clients(), LATE);
        expect(outcome.detail).to.match(/^uploaded /);
        const object = await s3.getObject(BUCKET, key);
        expect(object.metadata).to.include({ sha: SHA, "delivery-id": "push-created" });
        expect(object.metadata).to.not.have.property("supersedes");
      });

      it("uploadSourceZip keeps x-amz-meta-supersedes in serve's file store, and skips the older push there too", async () => {
        const root = await mkdtemp(join(tmpdir(), "hookgate-chain-"));
        try {
          const objects = new FsObjectStore(root);
          const key = "acme/api/main/acme_api.zip";
          expect((await upload(zipAt(key), newerPush(), clients({ objects }), EARLY)).status).to.equal(
            "done",
          );
          expect((await objects.head(BUCKET, key))?.metadata).to.include({ sha: NEWER_SHA, supersedes: SHA });
          // A new store on the same folder: a serve restarted reads it from the metadata file.
          const restarted = new FsObjectStore(root);
          host.setBranch("acme/api", "main", NEWER_SHA);
          const outcome = await upload(zipAt(key), olderPush(), clients({ objects: restarted }), LATE);
          expect(outcome.status).to.equal("skipped");
          expect((await restarted.head(BUCKET, key))?.metadata).to.include({
            sha: NEWER_SHA,
            supersedes: SHA,
          });
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      });
    });

    it("uploadSourceZip keeps the zip's metadata under S3's 2 KB, also counting each name's x-amz-meta- prefix, for a branch of 2,100 characters or 700 non-ASCII ones, a 200-character delivery id and a full supersedes list of SHA-256 commits: the ref is cut at 1,024 characters, never inside a %XX escape", async () => {
      const root = await mkdtemp(join(tmpdir(), "hookgate-metadata-"));
      try {
        // serve's store refuses metadata over 2 KB, as S3 does (MetadataTooLarge).
        const objects = new FsObjectStore(root);
        // A SHA-256 repository's commits (64 hex digits), the longest ids: the push continues from the zip in
        // place, whose list is full, so the new one is too.
        const sha256 = (digit: string) => digit.repeat(64);
        const pushed = sha256("a");
        host.setArchive("acme/api", pushed, { files: { "buildspec.yml": "version: 0.2\n" } });
        const deliveryId = "d".repeat(200);
        for (const branch of [`long/${"b".repeat(2100)}`, `long/${"é".repeat(700)}`]) {
          const key = `order/${branch.length}.zip`;
          await objects.put(BUCKET, key, Readable.from([Buffer.from("old zip")]), {
            metadata: { sha: sha256("b"), supersedes: ["c", "d", "e", "f"].map(sha256).join(" ") },
          });
          const outcome = await upload(
            zipAt(key),
            pushEvent({ ref: `refs/heads/${branch}`, branch, sha: pushed, before: sha256("b"), deliveryId }),
            clients({ objects }),
            EARLY,
          );
          expect(outcome.status).to.equal("done");
          const metadata = (await objects.head(BUCKET, key))?.metadata;
          expect(metadata?.supersedes).to.equal(["b", "c", "d", "e"].map(sha256).join(" "));
          expect(metadata?.["delivery-id"]).to.equal(deliveryId);
          const bytes = Object.entries(metadata ?? {}).reduce(
            (sum, [name, value]) => sum + Buffer.byteLength(`x-amz-meta-${name}`) + Buffer.byteLength(value),
            0,
          );
          expect(bytes).to.be.at.most(2048);
          const ref = metadata?.ref ?? "";
          expect(ref)
            .to.have.length.of.at.most(1024)
            .and.match(/\.\.\.$/);
          expect(ref)
            .to.match(/^refs\/heads\/long\//)
            .and.not.match(/%[0-9A-F]?\.\.\.$/);
          // The summary's branch is cut at 100 characters, so the commit and the delivery still show.
          const summary = metadata?.["codepipeline-artifact-revision-summary"] ?? "";
          expect(summary)
            .to.match(/^github acme\/api long\/[^ ]{90,97}\.\.\. aaaaaaa: delivery d{57}\.\.\.$/)
            .and.match(/^[\x20-\x7e]*$/)
            .and.not.match(/%[0-9A-F]?\.\.\. /);
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    });

    it("uploadSourceZip stores a delivery id of more than 200 characters as its SHA-256, so a retry of that delivery still finds its own zip", async () => {
      const key = "order/long-delivery-id.zip";
      const deliveryId = "d".repeat(3000);
      await upload(zipAt(key), pushEvent({ deliveryId }), clients(), LATE);
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({
        "delivery-id": `sha256:${createHash("sha256").update(deliveryId).digest("hex")}`,
      });
      const outcome = await upload(zipAt(key), pushEvent({ deliveryId }), clients(), LATE);
      expect(outcome.detail).to.match(/^already in place: /);
    });

    describe("when another writer puts a zip at the key between this delivery's read and its upload", () => {
      let root: string;
      beforeEach(async () => {
        root = await mkdtemp(join(tmpdir(), "hookgate-race-"));
      });
      afterEach(async () => {
        await rm(root, { recursive: true, force: true });
      });

      /**
       * serve's file store, where before each of the action's first `times` puts another writer puts its
       * own zip (a second route on the key, a delivery processed at the same moment), accepted at `theirs`.
       */
      /** The archive downloads asked of the API (each then follows one redirect to codeload). */
      const downloads = () => archives().filter((r) => r.listener === "api").length;

      function racedStore(
        theirs: string,
        times = 1,
        theirSha = NEWER_SHA,
        more: Record<string, string> = {},
      ) {
        const store = new FsObjectStore(root);
        const puts: Array<Parameters<FsObjectStore["put"]>[3]> = [];
        let heads = 0;
        const objects: ObjectStore = {
          head: (bucket, key) => {
            heads++;
            return store.head(bucket, key);
          },
          put: async (bucket, key, body, options) => {
            puts.push({ ...options, metadata: { ...options.metadata } }); // as it was at this put
            if (puts.length <= times) {
              await store.put(bucket, key, Readable.from([Buffer.from(`their zip ${puts.length}`)]), {
                metadata: {
                  sha: theirSha,
                  "accepted-at": theirs,
                  "delivery-id": `theirs-${puts.length}`,
                  ...more,
                },
              });
            }
            return store.put(bucket, key, body, options);
          },
          deletePrefix: (bucket, prefix) => store.deletePrefix(bucket, prefix),
        };
        return { store, objects, puts, heads: () => heads };
      }

      it("uploadSourceZip reads the key again when its conditional upload is refused, and skips: the zip put meanwhile is newer", async () => {
        const key = "race/newer.zip";
        const raced = racedStore(LATE);
        const before = downloads();
        const c = clients({ objects: raced.objects });
        const outcome = await upload(zipAt(key), pushEvent({ deliveryId: "mine" }), c, EARLY);
        expect(outcome).to.deep.equal({
          status: "skipped",
          detail:
            `skipped: s3://${BUCKET}/${key} holds the zip of a newer delivery (sha ${NEWER_SHA.slice(0, 12)}, ` +
            `accepted ${LATE}) than this one (sha ${SHA.slice(0, 12)}, accepted ${EARLY})`,
        });
        // No zip was at the key when it was read: the upload was on the condition that none still was.
        expect(raced.puts.map((o) => o?.condition)).to.deep.equal([{ ifNoneMatch: "*" }]);
        expect(raced.heads()).to.equal(2);
        expect(downloads()).to.equal(before + 1);
        expect((await raced.store.head(BUCKET, key))?.metadata).to.include({ "delivery-id": "theirs-1" });
        expect(readFileSync(join(root, BUCKET, ...key.split("/")), "utf8")).to.equal("their zip 1");
        expect(c.logs.map((l) => l.msg)).to.include.members([
          "source zip: the key changed between the read and the upload; reading it again",
          "source zip skipped: a newer delivery's zip was put at the key while this one was being zipped",
        ]);
      });

      it("uploadSourceZip reads the key again when its conditional upload is refused, and skips: the zip put meanwhile, though accepted earlier, is of a later push that replaced this push's commit", async () => {
        const key = "race/superseding.zip";
        // Their zip: main of acme/api on GitHub, as s3-zip writes it; the branch's head has moved on to it.
        const raced = racedStore(EARLY, 1, NEWER_SHA, {
          supersedes: SHA,
          ref: "refs/heads/main",
          "codepipeline-artifact-revision-summary": "github acme/api main fedcba9: delivery theirs-1",
        });
        host.setBranch("acme/api", "main", NEWER_SHA);
        const c = clients({ objects: raced.objects });
        const outcome = await upload(
          zipAt(key),
          pushEvent({
            before: "c0ffee0000000000000000000000000000000001",
            fastForward: true,
            deliveryId: "mine",
          }),
          c,
          LATE,
        );
        expect(outcome.status).to.equal("skipped");
        expect(outcome.detail).to.contain(
          `holds the zip of sha ${NEWER_SHA.slice(0, 12)}, whose pushes replaced`,
        );
        expect(raced.puts).to.have.length(1);
        expect((await raced.store.head(BUCKET, key))?.metadata).to.include({ "delivery-id": "theirs-1" });
        expect(c.logs.map((l) => l.msg)).to.include(
          "source zip skipped: the zip of a later push was put at the key while this one was being zipped",
        );
      });

      it("uploadSourceZip stores the supersedes list of its last read: a zip of the push's before, put meanwhile, gives its own list to the new zip", async () => {
        const key = "race/chain.zip";
        const earlier = "c0ffee0000000000000000000000000000000000";
        const raced = racedStore(EARLY, 1, SHA, { supersedes: earlier });
        const push = pushEvent({ sha: NEWER_SHA, before: SHA, deliveryId: "mine" });
        expect((await upload(zipAt(key), push, clients({ objects: raced.objects }), LATE)).status).to.equal(
          "done",
        );
        // The first round read no zip (supersedes: the push's before alone); the second read SHA's zip.
        expect(raced.puts.map((o) => o?.metadata.supersedes)).to.deep.equal([SHA, `${SHA} ${earlier}`]);
        expect((await raced.store.head(BUCKET, key))?.metadata).to.include({
          sha: NEWER_SHA,
          supersedes: `${SHA} ${earlier}`,
        });
      });

      it("uploadSourceZip stores no supersedes list when its last read gives none, though its first read gave one", async () => {
        const key = "race/chain-gone.zip";
        // In place: this commit's zip from another delivery, whose list the first read takes on (the same commit's
        // chain); then another writer's zip of another commit, without a list, comes in before the upload.
        const first = "c0ffee0000000000000000000000000000000001";
        const raced = racedStore(EARLY, 1, NEWER_SHA);
        await raced.store.put(BUCKET, key, Readable.from([Buffer.from("same commit's zip")]), {
          metadata: { sha: SHA, "accepted-at": EARLY, "delivery-id": "same-commit", supersedes: first },
        });
        // A branch made at the commit: an all-zero before, so no list of its own.
        const push = pushEvent({ before: "0".repeat(40), deliveryId: "mine" });
        expect((await upload(zipAt(key), push, clients({ objects: raced.objects }), LATE)).status).to.equal(
          "done",
        );
        expect(raced.puts.map((o) => o?.metadata.supersedes)).to.deep.equal([first, undefined]);
        const stored = (await raced.store.head(BUCKET, key))?.metadata;
        expect(stored).to.include({ sha: SHA, "delivery-id": "mine" });
        expect(stored).to.not.have.property("supersedes");
      });

      it("uploadSourceZip uploads on If-Match of the zip it read again when the zip put meanwhile is older", async () => {
        const key = "race/older.zip";
        const raced = racedStore(EARLY);
        const outcome = await upload(
          zipAt(key),
          pushEvent({ deliveryId: "mine" }),
          clients({ objects: raced.objects }),
          LATE,
        );
        expect(outcome.status).to.equal("done");
        const theirs = createHash("sha256").update("their zip 1").digest("hex");
        expect(raced.puts.map((o) => o?.condition)).to.deep.equal([
          { ifNoneMatch: "*" },
          { ifMatch: `"${theirs}"` },
        ]);
        expect((await raced.store.head(BUCKET, key))?.metadata).to.include({
          sha: SHA,
          "delivery-id": "mine",
        });
      });

      it("uploadSourceZip is done in serve's file store, without downloading or putting, when the key holds the zip an earlier attempt of the delivery put", async () => {
        const key = "race/retried.zip";
        const raced = racedStore(EARLY, 0);
        await upload(
          zipAt(key),
          pushEvent({ deliveryId: "mine" }),
          clients({ objects: raced.objects }),
          LATE,
        );
        const before = downloads();
        const outcome = await upload(
          zipAt(key),
          pushEvent({ deliveryId: "mine" }),
          clients({ objects: raced.objects }),
          LATE,
        );
        expect(outcome.detail).to.match(/^already in place: /);
        expect(downloads()).to.equal(before);
        expect(raced.puts).to.have.length(1);
        expect(raced.heads()).to.equal(2);
      });

      it("uploadSourceZip fails retryable after three refused uploads, having downloaded the archive once", async () => {
        const key = "race/busy.zip";
        const raced = racedStore(EARLY, 3);
        const before = downloads();
        const err = await rejectsWithActionError(
          upload(zipAt(key), pushEvent({ deliveryId: "mine" }), clients({ objects: raced.objects }), LATE),
        );
        expect(err.retryable).to.equal(true);
        expect(err.message).to.contain(`s3://${BUCKET}/${key} changed under each of 3 uploads`);
        expect(raced.puts).to.have.length(3);
        expect(downloads()).to.equal(before + 1);
        expect((await raced.store.head(BUCKET, key))?.metadata).to.include({ "delivery-id": "theirs-3" });
      });
    });

    it("uploadSourceZip fails final, before downloading, naming the bucket and the permissions, when S3 refuses to read the zip at the key", async () => {
      const key = "order/unreadable.zip";
      await upload(zipAt(key), pushEvent({ sha: NEWER_SHA }), clients(), LATE);
      const before = archives().length;
      s3.faults.headStatus = 403;
      const err = await rejectsWithActionError(upload(zipAt(key), pushEvent(), clients(), EARLY));
      expect(err.retryable).to.equal(false);
      expect(err.message)
        .to.contain(`S3 refused to read the metadata of the object "${key}" in s3://${BUCKET} (403)`)
        .and.contain("s3:GetObject on the key and s3:ListBucket on the bucket");
      expect(archives()).to.have.length(before);
    });

    it("uploadSourceZip uploads when HeadObject is refused (403) for a key that does not exist yet", async () => {
      s3.faults.headStatus = 403;
      expect((await upload(zipAt("order/first.zip"), pushEvent(), clients(), EARLY)).status).to.equal("done");
    });

    it("uploadSourceZip fails retryable, before downloading and without uploading, when S3 answers the read with a 503", async () => {
      const key = "order/busy.zip";
      await upload(zipAt(key), pushEvent({ sha: NEWER_SHA }), clients(), LATE);
      const before = archives().length;
      s3.faults.headStatus = 503;
      const err = await rejectsWithActionError(upload(zipAt(key), pushEvent(), clients(), EARLY));
      expect(err.retryable).to.equal(true);
      expect(archives()).to.have.length(before);
      s3.faults.headStatus = undefined;
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({ sha: NEWER_SHA });
    });

    it("uploadSourceZip fails final, naming the region, when the read of the key finds the bucket in another region (301)", async () => {
      s3.faults.everyRequest = {
        status: 301,
        code: "PermanentRedirect",
        message: "The bucket you are attempting to access must be addressed using the specified endpoint.",
        headers: { "x-amz-bucket-region": "eu-central-1" },
      };
      const err = await rejectsWithActionError(
        upload(zipAt("order/region.zip"), pushEvent(), clients(), EARLY),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("(301)").and.contain("another region (eu-central-1)");
      expect(archives()).to.have.length(0);
    });
  });

  it("uploadSourceZip percent-encodes a non-ASCII ref in the metadata", async () => {
    await upload(request(), pushEvent({ ref: "refs/heads/fé", branch: "fé" }), clients());
    const object = await s3.getObject(BUCKET, "acme/api/main/acme_api.zip");
    expect(object.metadata.ref).to.equal("refs/heads/f%C3%A9");
  });

  it("uploadSourceZip skips a deleted-branch push without calling the Git host", async () => {
    const outcome = await upload(request(), pushEvent({ deleted: true, sha: "0".repeat(40) }), clients());
    expect(outcome.status).to.equal("skipped");
    expect(host.requests).to.have.length(0);
  });

  it("uploadSourceZip fails final, before downloading, when the key has an empty segment (a tag push's {{branch}})", async () => {
    const err = await rejectsWithActionError(
      upload({ ...request(), key: "acme/api//acme_api.zip" }, pushEvent(), clients()),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("has an empty segment").and.contain("{{branch}} is empty for a tag push");
    expect(host.requests).to.have.length(0);
  });

  it("uploadSourceZip fails final, before downloading, when the key is over S3's 1,024 bytes: the message names the limit, the key's length, a shorter key and the key's first 100 characters only", async () => {
    // The default key holds the branch twice: a branch of 520 characters renders a key of 1,077 bytes.
    const branch = `feature/${"x".repeat(512)}`;
    const key = `acme/api/branch/${branch}/acme_api_branch_${branch.replaceAll("/", "_")}.zip`;
    const err = await rejectsWithActionError(
      upload({ ...request(), key }, pushEvent({ ref: `refs/heads/${branch}`, branch }), clients()),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message)
      .to.contain("the object key is 1,077 bytes, more than the 1,024 S3 allows")
      .and.contain("{{sha}}")
      .and.contain('the key starts "acme/api/branch/feature/xxx');
    // The key is quoted by its first 100 characters only: a dead letter's reason stays readable.
    expect(err.message.endsWith(`the key starts ${JSON.stringify(key.slice(0, 100))}`)).to.equal(true);
    expect(host.requests).to.have.length(0);
    expect(await s3.listKeys(BUCKET)).to.deep.equal([]);
  });

  describe("with the key scope of a route whose match.repos spells the repository acme/api", () => {
    const scope = routeKeyScope({
      name: "api-zip",
      provider: "github",
      secret: "hookgate/github-webhook",
      auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
      match: { repos: ["acme/api"] },
      action: {
        type: "s3-zip",
        api: { provider: "github", apiUrl: "https://api.github.com", token: "hookgate/github-token" },
        bucket: BUCKET,
        key: "{{repo.path}}/{{branch.path}}/{{repo.underscored}}.zip",
      },
    } satisfies Route);

    it("uploadSourceZip fails final, before the download and any S3 call, when the host sends Acme/API (match.repos ignores case, the role's prefixes do not): the message says how to write repos", async () => {
      host.setRepo("Acme/API");
      host.setArchive("Acme/API", SHA, { files: FILES });
      // Any call is recorded, and fails: none may come.
      const calls: string[] = [];
      const refuse = (name: string) => async (): Promise<never> => {
        calls.push(name);
        throw new Error(`${name} was called`);
      };
      const objects: ObjectStore = {
        put: refuse("put"),
        head: refuse("head"),
        deletePrefix: refuse("deletePrefix"),
      };
      const err = await rejectsWithActionError(
        upload(
          { ...request(), key: "Acme/API/main/Acme_API.zip" },
          pushEvent({ repo: { owner: "Acme", name: "API", fullName: "Acme/API" } }),
          clients({ objects, keyScope: scope }),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        'key "Acme/API/main/Acme_API.zip" is outside the prefixes the route\'s role may write ("acme/api/"): ' +
          'routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API]',
      );
      expect(host.requests).to.have.length(0);
      expect(calls).to.deep.equal([]);
      expect(await s3.listKeys(BUCKET)).to.deep.equal([]);
    });

    it("uploadSourceZip uploads the key the route's prefixes hold when the host spells the repository as routes.yaml does", async () => {
      const outcome = await upload(request(), pushEvent(), clients({ keyScope: scope }));
      expect(outcome.status).to.equal("done");
      expect(await s3.listKeys(BUCKET)).to.deep.equal(["acme/api/main/acme_api.zip"]);
    });
  });

  it("uploadSourceZip skips an event without a sha", async () => {
    const outcome = await upload(request(), pushEvent({ sha: undefined }), clients());
    expect(outcome.status).to.equal("skipped");
    expect(host.requests).to.have.length(0);
  });

  it("uploadSourceZip skips a push whose sha is all zeros (no commit), calling no Git host", async () => {
    const outcome = await upload(request(), pushEvent({ sha: "0".repeat(40) }), clients());
    expect(outcome).to.deep.equal({ status: "skipped", detail: "skipped: the event carries no commit sha" });
    expect(host.requests).to.have.length(0);
  });

  it("uploadSourceZip names at most 100 characters of an event's name when it skips an event that is no push", async () => {
    const outcome = await upload(request(), pushEvent({ event: "x".repeat(300) }), clients());
    expect(outcome.detail).to.equal(
      `skipped: s3-zip zips pushed commits only, and this is a ${"x".repeat(100)} event`,
    );
  });

  it("uploadSourceZip rejects a sha of 65 hex digits (no commit id) as final, calling no Git host", async () => {
    const err = await rejectsWithActionError(
      upload(request(), pushEvent({ sha: "a".repeat(65) }), clients()),
    );
    expect([err.retryable, err.message]).to.deep.equal([false, "the event's sha is not a commit id"]);
    expect(host.requests).to.have.length(0);
  });

  it("uploadSourceZip rejects a sha that is not a commit id as final", async () => {
    const err = await rejectsWithActionError(upload(request(), pushEvent({ sha: "../../etc" }), clients()));
    expect(err.retryable).to.equal(false);
  });

  it("uploadSourceZip is retryable on a Git host 502, then succeeds on the next attempt", async () => {
    host.script("archive", { status: 502 });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(true);
    expect(host.requests.filter((r) => r.kind === "archive")).to.have.length(1);
    const outcome = await upload(request(), pushEvent(), clients());
    expect(outcome.status).to.equal("done");
  });

  it("uploadSourceZip honours Retry-After of a 429 in retryAfterMs", async () => {
    host.script("archive", { status: 429, headers: { "retry-after": "120" } });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.equal(120_000);
  });

  it("uploadSourceZip treats GitHub's 403 rate limit (x-ratelimit-remaining: 0) as retryable until the reset", async () => {
    const reset = Math.floor(Date.now() / 1000) + 600;
    host.script("archive", {
      status: 403,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
      body: JSON.stringify({ message: "API rate limit exceeded" }),
    });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.be.within(500_000, 600_000);
  });

  it("uploadSourceZip waits a minute at least after GitHub's secondary rate limit as a 429 without headers", async () => {
    // docs.github.com, "Rate limits for the REST API": a secondary limit comes as a 403 or a 429 with a
    // message saying so; without retry-after or x-ratelimit-remaining: 0, wait at least one minute.
    host.script("archive", {
      status: 429,
      body: JSON.stringify({
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
      }),
    });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.equal(60_000);
  });

  it("uploadSourceZip retries a 404 for the pushed sha's archive while the queue has attempts left (a host's replication lag right after the push), saying so, without the token", async () => {
    const err = await rejectsWithActionError(
      upload(request(), pushEvent({ sha: "f".repeat(40) }), clients()),
    );
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain("404").and.contain("retried").and.not.contain(HOST_TOKEN);
  });

  it("uploadSourceZip fails final on a 404 for the archive on the queue's last attempt, saying it was the last, without the token", async () => {
    const err = await rejectsWithActionError(
      upload(request(), pushEvent({ sha: "f".repeat(40) }), clients({ lastAttempt: true })),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("404").and.contain("last attempt").and.not.contain(HOST_TOKEN);
  });

  it("uploadSourceZip fails final with 401 when the token is wrong", async () => {
    const secrets = new MemorySecretStore({ "hookgate/github-token": "ghp_wrong" });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients({ secrets })));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("401").and.not.contain("ghp_wrong");
  });

  describe("with a token secret rotated while the store caches the revoked token", () => {
    const SECRET = "hookgate/github-token";
    let secrets: RotatedSecrets;
    beforeEach(async () => {
      secrets = new RotatedSecrets({ [SECRET]: "ghp_revoked0123456789" });
      await secrets.cache(SECRET);
    });
    afterEach(() => secrets.restore());

    for (const [provider, apiPath] of [
      ["github", ""],
      ["gitlab", "/api/v4"],
    ] as const) {
      it(`uploadSourceZip (${provider}) reads the token secret once more past its cache when the archive download is answered 401, and uploads the zip with the new token`, async () => {
        secrets.rotate(SECRET, HOST_TOKEN);
        const c = clients({ secrets: secrets.store });
        const outcome = await upload(request(provider, apiPath), pushEvent({ provider }), c);
        expect(outcome.status, outcome.detail).to.equal("done");
        const downloads = host.requests.filter((r) => r.kind === "archive" && r.listener === "api");
        expect(downloads.map((r) => r.authorized)).to.deep.equal([false, true]);
        expect(secrets.reads(SECRET)).to.equal(2);
        expect(c.logs.filter((l) => l.level === "warn" && l.secret === SECRET)).to.have.length(1);
        expect(JSON.stringify(c.logs)).not.to.contain(HOST_TOKEN);
      });
    }

    it("uploadSourceZip answered 401 stays a final error when the token secret, read once more, holds the same token", async () => {
      const err = await rejectsWithActionError(
        upload(request(), pushEvent(), clients({ secrets: secrets.store })),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(/^github archive of acme\/api answered 401/);
      expect(secrets.reads(SECRET)).to.equal(2);
      expect(host.requests.filter((r) => r.kind === "archive")).to.have.length(1);
    });
  });

  for (const status of [301, 302, 303, 307, 308]) {
    it(`uploadSourceZip fails final, as the API calls do, and sends no second request, when the archive download answers ${status} without a Location`, async () => {
      host.script("archive", { status });
      const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        `github archive of acme/api answered ${status} without a Location: the redirect cannot be followed`,
      );
      expect(host.requests).to.have.length(1);
    });
  }

  it("uploadSourceZip fails final, as the API calls do, without quoting it, when the archive download is redirected to a Location that is not a URL", async () => {
    host.script("archive", { status: 302, headers: { location: "http://exa mple.com/x.zip?t=q-secret" } });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "github archive of acme/api was redirected (302) to a Location that is not a URL: not followed",
    );
    expect(host.requests).to.have.length(1);
  });

  it("uploadSourceZip fails final when the hop a redirect led to (codeload) answers 302 without a Location", async () => {
    host.script(
      "archive",
      { status: 302, headers: { location: `${host.codeloadUrl}/acme/api/legacy.zip/${SHA}` } },
      { status: 302 },
    );
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "github archive of acme/api answered 302 without a Location: the redirect cannot be followed",
    );
    expect(host.requests.map((r) => r.listener)).to.deep.equal(["api", "codeload"]);
  });

  it("uploadSourceZip is retryable when the Git host drops the connection", async () => {
    host.script("archive", { drop: true });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(true);
  });

  // A backslash is a separator to an unzip on Windows: these would escape there.
  for (const evil of [
    "../evil.sh",
    "a/../../evil.sh",
    "/etc/cron.d/x",
    "..\\evil.sh",
    "a\\..\\..\\evil.sh",
    "\\evil.sh",
  ]) {
    it(`uploadSourceZip rejects an archive entry ${JSON.stringify(evil)} (zip-slip) as final and uploads nothing`, async () => {
      const key = `zip-slip/${evil.length}.zip`;
      host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "x", [evil]: "boom" }, "") });
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("zip-slip");
      expect(await s3.exists(BUCKET, key)).to.equal(false);
    });
  }

  // Safe inside the archive's top folder, absolute once it is removed.
  for (const evil of ["/etc/cron.d/x", "C:/Windows/evil.txt"]) {
    it(`uploadSourceZip rejects top-folder/${evil}, absolute without the top folder (zip-slip), and uploads nothing`, async () => {
      const key = `zip-slip/top-${evil.length}.zip`;
      const zip = await buildZip({ "buildspec.yml": "x", [evil]: "boom" }, "acme-api-0123456");
      host.setArchive("acme/api", SHA, { zip });
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("zip-slip");
      expect(await s3.exists(BUCKET, key)).to.equal(false);
    });
  }

  describe("serverSideEncryption and kmsKeyId", () => {
    const KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    /** Each PUT or POST the S3 client sends during `run`: its path, query and encryption headers. */
    async function sent(
      run: () => Promise<unknown>,
    ): Promise<Array<{ call: string; sse?: string; kms?: string }>> {
      const seen: Array<{ call: string; sse?: string; kms?: string }> = [];
      s3.client.middlewareStack.add(
        (next) => async (args) => {
          const req = args.request as {
            method?: string;
            path?: string;
            query?: Record<string, unknown>;
            headers?: Record<string, string>;
          };
          if (req.method === "PUT" || req.method === "POST") {
            const query = Object.keys(req.query ?? {}).filter((q) => q !== "x-id");
            seen.push({
              call: `${req.method} ${query.sort().join("&")}`,
              sse: req.headers?.["x-amz-server-side-encryption"],
              kms: req.headers?.["x-amz-server-side-encryption-aws-kms-key-id"],
            });
          }
          return next(args);
        },
        { step: "finalizeRequest", name: "sse-capture" },
      );
      try {
        await run();
      } finally {
        s3.client.middlewareStack.remove("sse-capture");
      }
      return seen;
    }

    it("uploadSourceZip sends x-amz-server-side-encryption and the KMS key id on a single PutObject", async () => {
      const key = "sse/single.zip";
      const calls = await sent(() =>
        upload(
          { ...request(), key, serverSideEncryption: "aws:kms", kmsKeyId: KMS_KEY },
          pushEvent(),
          clients(),
        ),
      );
      expect(calls).to.deep.equal([{ call: "PUT ", sse: "aws:kms", kms: KMS_KEY }]);
      expect(await s3.exists(BUCKET, key)).to.equal(true);
    });

    it("uploadSourceZip sends x-amz-server-side-encryption on CreateMultipartUpload (its parts need none)", async () => {
      host.setArchive("acme/api", SHA, {
        files: { "buildspec.yml": "version: 0.2\n", "blob.bin": randomBytes(6 * 1024 * 1024) },
      });
      const key = "sse/multipart.zip";
      const calls = await sent(() =>
        upload({ ...request(), key, serverSideEncryption: "AES256" }, pushEvent(), clients()),
      );
      expect(calls[0]).to.deep.equal({ call: "POST uploads", sse: "AES256", kms: undefined });
      expect(calls.map((c) => c.call)).to.deep.equal([
        "POST uploads",
        "PUT partNumber&uploadId",
        "PUT partNumber&uploadId",
        "POST uploadId",
      ]);
      expect(calls.slice(1).map((c) => [c.sse, c.kms])).to.deep.equal([
        [undefined, undefined],
        [undefined, undefined],
        [undefined, undefined],
      ]);
      expect(await s3.exists(BUCKET, key)).to.equal(true);
    });

    it("uploadSourceZip sends no encryption header when the route names none (the bucket's default applies)", async () => {
      const calls = await sent(() => upload({ ...request(), key: "sse/none.zip" }, pushEvent(), clients()));
      expect(calls.map((c) => [c.sse, c.kms])).to.deep.equal([[undefined, undefined]]);
    });
  });

  describe("Git LFS pointer files", () => {
    const pointer = (oid: string) =>
      `version https://git-lfs.github.com/spec/v1\noid sha256:${oid.repeat(64 / oid.length)}\nsize 12345\n`;
    const A = pointer("4d7a");
    const B = pointer("b0");

    it("uploadSourceZip says in its outcome and log how many files are Git LFS pointers, copies them as they are and does not fail", async () => {
      const long = `version https://git-lfs.github.com/spec/v1\n${"x".repeat(300)}\n`;
      host.setArchive("acme/api", SHA, {
        files: {
          "buildspec.yml": "version: 0.2\n",
          "assets/model.bin": A,
          "assets/b.bin": B,
          "notes.txt": long,
        },
      });
      const key = "lfs/deflated.zip";
      const c = clients();
      const outcome = await upload({ ...request(), key }, pushEvent(), c);
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.match(
        /\); 2 files \("assets\/model\.bin" and 1 more\) are Git LFS pointers, not the files' content: the host's archive holds LFS files as pointers \(GitHub's does unless the repository's "Include Git LFS objects in archives" is on\)$/,
      );
      expect(c.logs.find((l) => l.msg === "source zip uploaded")).to.include({ lfsPointers: 2 });
      const entries = await readZip((await s3.getObject(BUCKET, key)).body);
      expect(entries.get("assets/model.bin")?.toString()).to.equal(A);
      expect(entries.get("assets/b.bin")?.toString()).to.equal(B);
      expect(entries.get("notes.txt")?.toString()).to.equal(long);
    });

    it("uploadSourceZip counts a Git LFS pointer stored without compression, and adds no note to a zip without pointers", async () => {
      const stored = new yazl.ZipFile();
      stored.addBuffer(Buffer.from("version: 0.2\n"), "acme-api-0123456/buildspec.yml", { compress: false });
      stored.addBuffer(Buffer.from(A), "acme-api-0123456/model.bin", { compress: false });
      stored.end();
      const chunks: Buffer[] = [];
      for await (const chunk of stored.outputStream) chunks.push(chunk as Buffer);
      host.setArchive("acme/api", SHA, { zip: Buffer.concat(chunks) });
      const withPointer = await upload({ ...request(), key: "lfs/stored.zip" }, pushEvent(), clients());
      expect(withPointer.detail).to.contain(
        '; 1 file ("model.bin") is a Git LFS pointer, not the file\'s content: ',
      );
      host.setArchive("acme/api", SHA, {
        files: { "buildspec.yml": "version: 0.2\n", "a.txt": "version 1\n" },
      });
      const without = await upload({ ...request(), key: "lfs/none.zip" }, pushEvent(), clients());
      expect(without.status).to.equal("done");
      expect(without.detail).to.not.contain("LFS");
    });

    it("uploadSourceZip counts a Git LFS pointer with extension lines (over 200 bytes) and not a file that only starts with the version line", async () => {
      const hash = (c: string) => `sha256:${c.repeat(64)}`;
      const extended = `version https://git-lfs.github.com/spec/v1\next-0-foo ${hash("1")}\next-1-bar ${hash("2")}\noid ${hash("3")}\nsize 4096\n`;
      expect(extended.length).to.be.above(200);
      const noObject = `version https://git-lfs.github.com/spec/v1\nsize 4096\n`;
      host.setArchive("acme/api", SHA, {
        files: { "buildspec.yml": "version: 0.2\n", "big.psd": extended, "readme.txt": noObject },
      });
      const outcome = await upload({ ...request(), key: "lfs/extended.zip" }, pushEvent(), clients());
      expect(outcome.detail).to.contain(
        '; 1 file ("big.psd") is a Git LFS pointer, not the file\'s content: ',
      );
    });

    it("uploadSourceZip counts the Git LFS pointer of a real git archive", async function () {
      const zip = gitArchiveZip(
        [
          ["buildspec.yml", "version: 0.2\n"],
          ["data/model.bin", A],
        ],
        "acme-api-0123456",
      );
      if (!zip) this.skip();
      host.setArchive("acme/api", SHA, { zip });
      const outcome = await upload({ ...request(), key: "lfs/git-archive.zip" }, pushEvent(), clients());
      expect(outcome.detail).to.contain('; 1 file ("data/model.bin") is a Git LFS pointer');
    });
  });

  // The README's s3-zip section: the zip is the host's `git archive`, not a checkout.
  it("uploadSourceZip zips what git archive gives: files marked export-ignore in .gitattributes are not in the zip", async function () {
    const zip = gitArchiveZip(
      [
        [".gitattributes", "/tests export-ignore\n/phpunit.xml.dist export-ignore\n"],
        ["buildspec.yml", "version: 0.2\n"],
        ["phpunit.xml.dist", "<phpunit/>\n"],
        ["tests/ExampleTest.php", "<?php\n"],
      ],
      "acme-api-0123456",
    );
    if (!zip) this.skip();
    host.setArchive("acme/api", SHA, { zip });
    const key = "contents/export-ignore.zip";
    expect((await upload({ ...request(), key }, pushEvent(), clients())).status).to.equal("done");
    const names = [...(await readZip((await s3.getObject(BUCKET, key)).body)).keys()];
    expect(names.filter((n) => !n.endsWith("/")).sort()).to.deep.equal([".gitattributes", "buildspec.yml"]);
  });

  it("uploadSourceZip keeps a file name that is not UTF-8 byte for byte, without the UTF-8 flag, as git archive wrote it", async function () {
    const latin1 = Buffer.from("caf\xe9.txt", "latin1");
    const zip = gitArchiveZip(
      [
        ["buildspec.yml", "x"],
        [latin1, "latin-1"],
        ["docs/ü.md", "utf-8"],
      ],
      "acme-api-0123456",
    );
    if (!zip) this.skip();
    host.setArchive("acme/api", SHA, { zip });
    const key = "names/latin1.zip";
    await upload({ ...request(), key }, pushEvent(), clients());
    const entries = await readZipRaw((await s3.getObject(BUCKET, key)).body);
    const latin = entries.find((e) => e.name.equals(latin1));
    expect(latin, entries.map((e) => e.name.toString("latin1")).join(", ")).to.not.equal(undefined);
    expect(latin?.utf8).to.equal(false);
    expect(latin?.content.toString()).to.equal("latin-1");
    const utf8 = entries.find((e) => e.name.equals(Buffer.from("docs/ü.md")));
    expect(utf8?.utf8).to.equal(true);
    expect(utf8?.content.toString()).to.equal("utf-8");
  });

  it("uploadSourceZip keeps a file name with a backslash as it is, apart from the same path with a slash", async function () {
    const zip = gitArchiveZip(
      [
        ["buildspec.yml", "x"],
        ["back\\slash", "one file"],
        ["back/slash", "a file in a folder"],
      ],
      "acme-api-0123456",
    );
    if (!zip) this.skip();
    host.setArchive("acme/api", SHA, { zip });
    const key = "names/backslash.zip";
    const outcome = await upload({ ...request(), key }, pushEvent(), clients());
    expect(outcome.detail).to.contain("(4 entries"); // buildspec.yml, back/, back/slash and back\slash
    const entries = await readZipRaw((await s3.getObject(BUCKET, key)).body);
    const content = (name: string) =>
      entries.find((e) => e.name.equals(Buffer.from(name)))?.content.toString();
    expect(content("back\\slash")).to.equal("one file");
    expect(content("back/slash")).to.equal("a file in a folder");
  });

  it("uploadSourceZip puts a ref holding a lone surrogate in the metadata as U+FFFD, not a URIError", async () => {
    await upload(request(), pushEvent({ ref: "refs/heads/x\ud800y", branch: "x\ud800y" }), clients());
    const object = await s3.getObject(BUCKET, "acme/api/main/acme_api.zip");
    expect(object.metadata.ref).to.equal("refs/heads/x%EF%BF%BDy");
  });

  // The entry's central directory header: its name sits 46 bytes in, after the last local copy.
  const uncopyable: Array<[string, (zip: Buffer, header: number) => void, string]> = [
    [
      "is encrypted",
      (zip, header) => zip.writeUInt16LE(zip.readUInt16LE(header + 8) | 1, header + 8),
      "is encrypted",
    ],
    [
      "uses bzip2 (method 12)",
      (zip, header) => zip.writeUInt16LE(12, header + 10),
      "is compressed with method 12",
    ],
  ];
  for (const [what, patch, said] of uncopyable) {
    it(`uploadSourceZip fails final, uploading nothing, when an archive entry ${what}`, async () => {
      const zip = await buildZip({ "buildspec.yml": "x", "secret.bin": "data" }, "");
      patch(zip, zip.lastIndexOf(Buffer.from("secret.bin")) - 46);
      host.setArchive("acme/api", SHA, { zip });
      const key = `uncopyable/${said.length}.zip`;
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(`the archive's entry "secret.bin" ${said}, which s3-zip does not copy`);
      expect(await s3.exists(BUCKET, key)).to.equal(false);
    });
  }

  // A damaged download can make any entry look refusable: a record that does not read is the retryable
  // "corrupt", whatever came before it.
  const refusedThenCorrupt: Array<[string, string, (zip: Buffer) => void]> = [
    ["an unsafe name (zip-slip)", "../evil.sh", () => undefined],
    [
      "an encrypted file",
      "secret.bin",
      (zip) => {
        const header = zip.lastIndexOf(Buffer.from("secret.bin")) - 46;
        zip.writeUInt16LE(zip.readUInt16LE(header + 8) | 1, header + 8);
      },
    ],
  ];
  for (const [what, name, patch] of refusedThenCorrupt) {
    it(`uploadSourceZip says the archive is corrupt, retryable, when ${what} comes before a central directory record that does not read`, async () => {
      const zip = await buildZip({ "buildspec.yml": "x", [name]: "data", "z.txt": "z" }, "");
      patch(zip);
      zip.writeUInt32LE(0xdeadbeef, zip.lastIndexOf(Buffer.from("z.txt")) - 46);
      host.setArchive("acme/api", SHA, { zip });
      const key = `refused-then-corrupt/${name}.zip`;
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.message).to.equal(
        "the downloaded archive is corrupt: invalid central directory file header signature: 0xdeadbeef",
      );
      expect(err.retryable).to.equal(true);
      expect(await s3.exists(BUCKET, key)).to.equal(false);
    });
  }

  it("uploadSourceZip removes its temp download after success and after failure", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "hookgate-s3zip-test-"));
    try {
      await upload(request(), pushEvent(), clients({ tmpDir: tmp }));
      expect(await readdir(tmp)).to.deep.equal([]);
      host.setArchive("acme/api", SHA, { zip: Buffer.from("not a zip") });
      // Another delivery: this one's zip is in place, and would be done without a download.
      const next = pushEvent({ deliveryId: "delivery-43" });
      await rejectsWithActionError(upload(request(), next, clients({ tmpDir: tmp })));
      expect(await readdir(tmp)).to.deep.equal([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  describe("temp directories a killed run left", () => {
    let tmp: string;
    beforeEach(async () => {
      tmp = await mkdtemp(join(tmpdir(), "hookgate-s3zip-test-"));
    });
    afterEach(async () => {
      await rm(tmp, { recursive: true, force: true });
    });
    /** A directory as a run of `pid` makes it, holding an archive of its own. */
    const leftBy = (pid: number, thread = 0) => {
      const dir = join(tmp, `hookgate-zip-${pid}.${thread}-AbCdEf`);
      mkdirSync(dir);
      writeFileSync(join(dir, "archive.zip"), randomBytes(1024));
      return dir;
    };

    it("uploadSourceZip removes the temp directory of a process that is gone (a function killed mid-run, restarted) and of this process's thread that no run owns, then uploads", async () => {
      // A process that has exited: its pid names a run that will never clean up.
      const gone = spawnSync(process.execPath, ["-e", ""]).pid;
      const ofGone = leftBy(gone);
      const ofThisThread = leftBy(process.pid);
      const logs: Array<Record<string, unknown>> = [];
      const outcome = await upload(
        request(),
        pushEvent(),
        clients({ tmpDir: tmp, log: (line: Record<string, unknown>) => logs.push(line) }),
      );
      expect(outcome.status).to.equal("done");
      expect(existsSync(ofGone)).to.equal(false);
      expect(existsSync(ofThisThread)).to.equal(false);
      expect(await readdir(tmp)).to.deep.equal([]);
      expect(logs.filter((l) => String(l.msg).includes("killed")).map((l) => l.dir)).to.have.members([
        ofGone,
        ofThisThread,
      ]);
      const entries = await readZip((await s3.getObject(BUCKET, "acme/api/main/acme_api.zip")).body);
      expect([...entries.keys()].sort()).to.deep.equal(Object.keys(FILES).sort());
    });

    it("uploadSourceZip leaves the temp directory of a live run (of this process, or of another live one) and names it does not make", async () => {
      const live = await makeRunDir(tmp, () => undefined);
      const ofParent = leftBy(process.ppid);
      const other = join(tmp, "hookgate-zip-AbCdEf");
      mkdirSync(other);
      expect((await upload(request(), pushEvent(), clients({ tmpDir: tmp }))).status).to.equal("done");
      expect((await readdir(tmp)).sort()).to.deep.equal(
        [live, ofParent, other].map((d) => d.slice(tmp.length + 1)).sort(),
      );
    });

    it("makeRunDir leaves a live run's directory when it is given the same temp dir by another path (a symlink)", async () => {
      const live = await makeRunDir(tmp, () => undefined);
      writeFileSync(join(live, "archive.zip"), "downloading");
      const alias = `${tmp}-alias`;
      symlinkSync(tmp, alias);
      try {
        const next = await makeRunDir(alias, () => undefined);
        expect(existsSync(join(live, "archive.zip"))).to.equal(true);
        expect((await readdir(tmp)).sort()).to.deep.equal([live, next].map((d) => basename(d)).sort());
      } finally {
        await rm(alias, { force: true });
      }
    });

    it("makeRunDir never removes the directory another run of this thread is making: a run that starts while another's mkdir is under way leaves it (serve runs 4 at once)", async () => {
      let made!: () => void;
      const firstMade = new Promise<void>((resolve) => {
        made = resolve;
      });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let calls = 0;
      const fs: RunDirFs = {
        realpath,
        readdir: (path) => readdir(path),
        rm: (path, options) => rm(path, options),
        // The first run's directory exists on disk, and its mkdir has not returned yet.
        mkdir: async (path, options) => {
          await mkdir(path, options);
          if (++calls === 1) {
            made();
            await held;
          }
        },
      };
      const first = makeRunDir(tmp, () => undefined, fs);
      await firstMade;
      const logs: Record<string, unknown>[] = [];
      const second = await makeRunDir(tmp, (line) => logs.push(line), fs);
      release();
      const firstDir = await first;
      expect(existsSync(firstDir), "the first run's directory").to.equal(true);
      expect(existsSync(second), "the second run's directory").to.equal(true);
      expect(logs).to.deep.equal([]);
    });

    it("makeRunDir makes its directory for its owner only (0o700): the archive of a private repository lies in it", async () => {
      const dir = await makeRunDir(tmp, () => undefined);
      expect(statSync(dir).mode & 0o777).to.equal(0o700);
    });

    it("makeRunDir tries a new random name when one is taken (EEXIST), 3 names in all, then fails retryable", async () => {
      // [names taken before mkdir succeeds, outcome]
      const cases: Array<[number, "made" | "EEXIST"]> = [
        [0, "made"],
        [2, "made"],
        [3, "EEXIST"],
      ];
      for (const [taken, outcome] of cases) {
        const tried: string[] = [];
        const fs: RunDirFs = {
          realpath,
          readdir: (path) => readdir(path),
          rm: (path, options) => rm(path, options),
          mkdir: async (path, options) => {
            tried.push(path);
            if (tried.length <= taken) throw Object.assign(new Error("taken"), { code: "EEXIST" });
            await mkdir(path, options);
          },
        };
        const made = makeRunDir(tmp, () => undefined, fs);
        if (outcome === "made") {
          const dir = await made;
          expect(existsSync(dir), `${taken} taken`).to.equal(true);
          expect(tried, `${taken} taken`).to.have.length(taken + 1);
          expect(new Set(tried).size, `${taken} taken: each try a new name`).to.equal(taken + 1);
          expect(tried.at(-1)).to.equal(dir);
        } else {
          const err = await rejectsWithActionError(made);
          expect(err.message).to.equal(`source zip: cannot make a temp directory in ${tmp}: EEXIST`);
          expect(err.retryable).to.equal(true);
          expect(tried, `${taken} taken`).to.have.length(3);
        }
      }
    });

    // [mkdir's code, whether a later attempt may make it]
    const mkdirFailures: Array<[string, boolean]> = [
      ["EACCES", false],
      ["EPERM", false],
      ["EROFS", false],
      ["ENOTDIR", false],
      ["ENOENT", true],
      ["EMFILE", true],
    ];
    for (const [code, retryable] of mkdirFailures) {
      it(`makeRunDir fails ${retryable ? "retryable" : "final"}, naming the code, when mkdir answers ${code}`, async () => {
        const fs: RunDirFs = {
          realpath,
          readdir: (path) => readdir(path),
          rm: (path, options) => rm(path, options),
          mkdir: async () => {
            throw Object.assign(new Error(code), { code });
          },
        };
        const err = await rejectsWithActionError(makeRunDir(tmp, () => undefined, fs));
        expect(err.message).to.equal(`source zip: cannot make a temp directory in ${tmp}: ${code}`);
        expect(err.retryable).to.equal(retryable);
      });
    }
  });

  it("uploadSourceZip keeps executable bits and symlinks of the archive's entries", async () => {
    host.setArchive("acme/api", SHA, {
      files: { "buildspec.yml": "x", "scripts/build.sh": "#!/bin/sh\n", current: "scripts/build.sh" },
      modes: { "scripts/build.sh": 0o100755, current: 0o120777 },
    });
    await upload(request(), pushEvent(), clients());
    const modes = await readZipModes((await s3.getObject(BUCKET, "acme/api/main/acme_api.zip")).body);
    expect(modes.get("scripts/build.sh")).to.equal(0o100755);
    expect(modes.get("current")).to.equal(0o120777);
  });

  it("uploadSourceZip fails final, before reading any entry and uploading nothing, when the archive's central directory is more than the function's memory holds, naming the memory to set", async () => {
    // Three entries, but an end record that counts 60,000 and a central directory long enough for them (zeros
    // before the end record): only a check before the entries are read refuses it; reading them would find the
    // archive corrupt.
    const zip = await buildZip({ "buildspec.yml": "x", "src/a.ts": "y" }, "acme-api-0123456");
    const end = zip.length - 22;
    expect(zip.readUInt32LE(end)).to.equal(0x06054b50);
    zip.writeUInt16LE(60_000, end + 8);
    zip.writeUInt16LE(60_000, end + 10);
    const padded = Buffer.concat([zip.subarray(0, end), Buffer.alloc(60_000 * 46), zip.subarray(end)]);
    // The directory without the 22-byte end record (this archive has no comment).
    const directorySize = padded.length - 22 - zip.readUInt32LE(end + 16);
    host.setArchive("acme/api", SHA, { zip: padded });
    const key = "too-many/entries.zip";
    const err = await rejectsWithActionError(
      upload({ ...request(), key }, pushEvent(), clients({ memoryMb: 128 })),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      `the archive has 60000 entries (files and folders) in a central directory of ${directorySize} bytes, more ` +
        "than a function of 128 MB holds while it writes the zip (about 220 bytes an entry and 3.5 a byte of the " +
        "directory, besides 160 MB): give the s3-zip functions more memory, " +
        "`pulumi config set --path 'hookgate:lambda.memoryMb' 192`",
    );
    expect(await s3.exists(BUCKET, key)).to.equal(false);
  });

  it("uploadSourceZip says the archive is corrupt, retryable, not short of memory, when its end record counts more entries than its central directory has room for", async () => {
    // Three entries, an end record that counts 60,000: at least 46 bytes each would not fit in the directory.
    const zip = await buildZip({ "buildspec.yml": "x", "src/a.ts": "y" }, "acme-api-0123456");
    const end = zip.length - 22;
    zip.writeUInt16LE(60_000, end + 8);
    zip.writeUInt16LE(60_000, end + 10);
    const directorySize = end - zip.readUInt32LE(end + 16);
    host.setArchive("acme/api", SHA, { zip });
    const key = "too-many/counted.zip";
    const err = await rejectsWithActionError(
      upload({ ...request(), key }, pushEvent(), clients({ memoryMb: 128 })),
    );
    expect(err.message).to.equal(
      "the downloaded archive is corrupt: the end record counts 60000 entries, more than its central directory " +
        `of ${directorySize} bytes holds`,
    );
    expect(err.retryable).to.equal(true);
    expect(await s3.exists(BUCKET, key)).to.equal(false);
  });

  it("rezipIntoStore keeps git archive's exact file times: unzipped in UTC, a file of an archive made in Tokyo time has its commit's time, as from the host's archive", async function () {
    this.timeout(20_000);
    const dir = await mkdtemp(join(tmpdir(), "hookgate-times-"));
    try {
      const repo = join(dir, "repo");
      const run = (cmd: string, args: string[], env: Record<string, string> = {}, cwd = repo) => {
        const result = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env } });
        if (result.status !== 0) throw new Error(`${cmd} ${args[0]} failed: ${result.stderr}`);
        return result.stdout;
      };
      mkdirSync(repo);
      run("git", ["init", "-q"]);
      writeFileSync(join(repo, "buildspec.yml"), "version: 0.2\n");
      run("git", ["add", "-A"]);
      const date = "2024-01-02T03:04:06+00:00";
      run("git", ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "m", `--date=${date}`], {
        GIT_COMMITTER_DATE: date,
      });
      // A self-hosted Git server in Tokyo time writes the DOS fields in its local time.
      const hostZip = join(dir, "host.zip");
      writeFileSync(
        hostZip,
        run("git", ["archive", "--format=zip", "--prefix=top/", "HEAD"], { TZ: "Asia/Tokyo" }),
      );
      const chunks: Buffer[] = [];
      await rezipIntoStore(hostZip, { stripTopFolder: true }, async (body) => {
        for await (const chunk of body) chunks.push(chunk as Buffer);
        return {};
      });
      const ours = join(dir, "ours.zip");
      writeFileSync(ours, Buffer.concat(chunks));
      run("unzip", ["-q", hostZip, "-d", join(dir, "from-host")], { TZ: "UTC" }, dir);
      run("unzip", ["-q", ours, "-d", join(dir, "from-s3zip")], { TZ: "UTC" }, dir);
      const time = (path: string) => statSync(path).mtime.toISOString();
      expect(time(join(dir, "from-host", "top", "buildspec.yml"))).to.equal("2024-01-02T03:04:06.000Z");
      expect(time(join(dir, "from-s3zip", "buildspec.yml"))).to.equal("2024-01-02T03:04:06.000Z");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rezipIntoStore copies an entry's extended timestamp (0x5455) only when its flags say it holds a modification time, and takes a field too short for one as none", async () => {
    // buildZip's yazl writes the field with flags 0x03 (mtime, atime) and the time 2024-01-02T03:04:05Z.
    const time = Buffer.alloc(4);
    time.writeUInt32LE(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
    const written = Buffer.concat([Buffer.from("5554050003", "hex"), time]);
    // [case, the field's 9 bytes as the archive has them, the field s3-zip's zip has (hex), or none]
    const cases: Array<[string, Buffer, string | undefined]> = [
      ["a modification time", written, `01${time.toString("hex")}`],
      [
        "an access time only (flags 0x02)",
        Buffer.concat([Buffer.from("5554050002", "hex"), time]),
        undefined,
      ],
      // One byte of flags, then an empty field of another id: the same 9 bytes in all.
      ["flags alone, no time", Buffer.from("555401000399990000", "hex"), undefined],
    ];
    const dir = await mkdtemp(join(tmpdir(), "hookgate-s3zip-test-"));
    try {
      for (const [what, field, expected] of cases) {
        const zip = await buildZip({ "buildspec.yml": "version: 0.2\n" });
        const at = zip.indexOf(written);
        expect(at, what).to.be.above(0);
        field.copy(zip, at);
        const file = join(dir, "archive.zip");
        writeFileSync(file, zip);
        const chunks: Buffer[] = [];
        await rezipIntoStore(file, { stripTopFolder: false }, async (body) => {
          for await (const chunk of body) chunks.push(chunk as Buffer);
          return {};
        });
        const ours = await yauzl.fromBufferPromise(Buffer.concat(chunks), { lazyEntries: true });
        const fields: Array<string | undefined> = [];
        for await (const entry of ours.eachEntry()) {
          fields.push(entry.extraFields.find((f) => f.id === 0x5455)?.data.toString("hex"));
        }
        expect(fields, what).to.deep.equal([expected]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rezipIntoStore writes an empty zip for an end record counting no entries, whatever its directory offset", async () => {
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt32LE(256, 16); // the central directory's offset, past the end of the file
    const dir = await mkdtemp(join(tmpdir(), "hookgate-s3zip-test-"));
    try {
      const file = join(dir, "archive.zip");
      writeFileSync(file, end);
      let written = Buffer.alloc(0);
      const result = await rezipIntoStore(file, { stripTopFolder: false, memoryMb: 128 }, async (body) => {
        for await (const chunk of body) written = Buffer.concat([written, chunk as Buffer]);
        return {};
      });
      expect(result.entries).to.equal(0);
      expect((await readZip(written)).size).to.equal(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("tooManyEntries refuses one entry past what the memory holds (220 bytes an entry and 3.5 a byte of the central directory beside 160 MB), at most 1,000,000 (serve: 1,000,000)", () => {
    // The most entries of central-directory records of 46 bytes and the path (75-, 100-, 300-byte paths) that fit.
    const limits: Array<[number | undefined, number, number]> = [
      [512, 46 + 75, 573_580],
      [512, 46 + 300, 257_930],
      [256, 46 + 100, 137_706],
      // 6 MB whatever the memory: the 128 MB minimum too.
      [128, 46 + 75, 9_776],
      [1024, 46 + 100, 1_000_000],
      [undefined, 46 + 300, 1_000_000],
    ];
    for (const [memoryMb, recordBytes, most] of limits) {
      expect(tooManyEntries(most, most * recordBytes, memoryMb), `${most} at ${memoryMb} MB`).to.equal(
        undefined,
      );
      const refused = tooManyEntries(most + 1, (most + 1) * recordBytes, memoryMb);
      expect(refused?.retryable, `${most + 1} at ${memoryMb} MB`).to.equal(false);
    }
  });

  it("rezipIntoStore's memory check does not count the archive's comment (up to 64 KiB, never held) as central directory", async function () {
    this.timeout(60_000);
    // 9,200 empty files of 75-byte paths fit a 128 MB function; the same archive with a 65,535-byte comment too.
    const archive = async (comment?: string) => {
      const zip = new yazl.ZipFile();
      for (let i = 0; i < 9_200; i++) {
        zip.addBuffer(Buffer.alloc(0), `top/${String(i).padStart(71, "d")}`, { compress: false });
      }
      zip.end({ forceZip64Format: false, comment: comment ?? "" });
      const chunks: Buffer[] = [];
      for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    const dir = await mkdtemp(join(tmpdir(), "hookgate-comment-"));
    try {
      for (const comment of [undefined, "a".repeat(65_535)]) {
        const file = join(dir, "archive.zip");
        writeFileSync(file, await archive(comment));
        const result = await rezipIntoStore(file, { stripTopFolder: true, memoryMb: 128 }, async (body) => {
          for await (const _ of body) {
            // drained
          }
          return {};
        });
        expect(result.entries).to.equal(9_200);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("directoryBytes is the central directory without the end record and its comment, and undefined when yauzl's cursor is no number", () => {
    const zip = (cursor: unknown, comment: string) =>
      ({ fileSize: 10_000, comment: Buffer.from(comment), readEntryCursor: cursor }) as unknown as Parameters<
        typeof directoryBytes
      >[0];
    expect(directoryBytes(zip(4_000, ""))).to.equal(10_000 - 4_000 - 22);
    expect(directoryBytes(zip(4_000, "0123456789"))).to.equal(10_000 - 4_000 - 22 - 10);
    // Not yauzl's public API: a version without it must not make every archive "too many entries".
    expect(directoryBytes(zip(undefined, ""))).to.equal(undefined);
    expect(directoryBytes(zip(false, ""))).to.equal(undefined);
  });

  it("makeRunDir in a temp dir that does not exist fails with an ActionError naming the dir and the code, retryable", async () => {
    const base = await mkdtemp(join(tmpdir(), "hookgate-gone-"));
    const missing = join(base, "gone");
    try {
      const err = await makeRunDir(missing, () => undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ActionError);
      expect((err as ActionError).message).to.equal(
        `source zip: cannot make a temp directory in ${missing}: ENOENT`,
      );
      expect((err as ActionError).retryable).to.equal(true);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it("uploadSourceZip keeps the first of two entries with the same name, once, and counts the entries it wrote", async () => {
    const zip = new yazl.ZipFile();
    zip.addEmptyDirectory("acme-api-0123456/");
    zip.addBuffer(Buffer.from("first"), "acme-api-0123456/a.txt");
    zip.addBuffer(Buffer.from("b"), "acme-api-0123456/src/b.txt");
    zip.addBuffer(Buffer.from("second"), "acme-api-0123456/a.txt");
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
    host.setArchive("acme/api", SHA, { zip: Buffer.concat(chunks) });
    const outcome = await upload(request(), pushEvent(), clients());
    expect(outcome.detail).to.contain("(2 entries,");
    const entries = await readZipRaw((await s3.getObject(BUCKET, "acme/api/main/acme_api.zip")).body);
    expect(entries.map((e) => [e.name.toString(), e.content.toString()])).to.deep.equal([
      ["a.txt", "first"],
      ["src/b.txt", "b"],
    ]);
  });

  it("uploadSourceZip keeps an archive without a shared top folder as it is", async () => {
    host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "x", "src/a.ts": "y" }, "") });
    await upload(request(), pushEvent(), clients());
    const entries = await readZip((await s3.getObject(BUCKET, "acme/api/main/acme_api.zip")).body);
    expect([...entries.keys()].sort()).to.deep.equal(["buildspec.yml", "src/a.ts"]);
  });

  describe("a repository whose own files sit under one folder, or are one file (Gitea with PREFIX_ARCHIVE_FILES = false writes no top folder)", () => {
    const names = async (key: string) =>
      [...(await readZip((await s3.getObject(BUCKET, key)).body)).keys()]
        .filter((n) => !n.endsWith("/"))
        .sort();

    it("uploadSourceZip keeps a Gitea repository's own single top-level folder (app/) when the archive has no repository-name folder", async () => {
      host.setArchive("acme/api", SHA, {
        zip: await buildZip({ "app/buildspec.yml": "version: 0.2\n", "app/src/main.go": "package main\n" }),
      });
      const key = "gitea/unprefixed.zip";
      const outcome = await upload(
        { ...request("gitea", "/api/v1"), key },
        pushEvent({ provider: "gitea" }),
        clients(),
      );
      expect(outcome.status).to.equal("done");
      expect(await names(key)).to.deep.equal(["app/buildspec.yml", "app/src/main.go"]);
    });

    it("uploadSourceZip keeps the one file of a Gitea archive without a top folder, not an empty zip", async () => {
      host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "version: 0.2\n" }) });
      const key = "gitea/one-file.zip";
      const outcome = await upload(
        { ...request("gitea", "/api/v1"), key },
        pushEvent({ provider: "gitea" }),
        clients(),
      );
      expect(outcome.detail).to.contain("(1 entries,");
      expect(await names(key)).to.deep.equal(["buildspec.yml"]);
    });

    it("uploadSourceZip removes Gitea's folder of the repository's name in another case (API/, which Gitea lower-cases)", async () => {
      host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "version: 0.2\n" }, "API") });
      const key = "gitea/prefixed.zip";
      await upload({ ...request("gitea", "/api/v1"), key }, pushEvent({ provider: "gitea" }), clients());
      expect(await names(key)).to.deep.equal(["buildspec.yml"]);
    });

    it("uploadSourceZip removes the top folder of a Gitea repository renamed after the push: the new name (api-v2/) its redirect led to", async () => {
      host.moveRepo("acme/api", "acme/api-v2");
      host.setArchive("acme/api-v2", SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
      const key = "gitea/renamed.zip";
      const c = clients();
      const outcome = await upload(
        { ...request("gitea", "/api/v1"), key },
        pushEvent({ provider: "gitea" }),
        c,
      );
      expect(host.requests.map((r) => r.path)).to.include(`/api/v1/repos/acme/api-v2/archive/${SHA}.zip`);
      expect(await names(key)).to.deep.equal(["buildspec.yml"]);
      expect(outcome.detail).to.not.contain("kept");
      expect(c.logs.filter((l) => l.level === "warn")).to.deep.equal([]);
    });

    it("uploadSourceZip removes a renamed Gitea repository's new top folder (api-v2/) when its new name's archive path redirects on to object storage (SERVE_DIRECT)", async () => {
      // Gitea with SERVE_DIRECT answers the archive path with a redirect to a signed URL of its storage
      // (go-gitea/gitea routers/api/v1/repo/file.go): the last URL names no repository.
      const zip = await buildZip({ "buildspec.yml": "version: 0.2\n" }, "api-v2");
      const storage = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/zip" }).end(zip);
      });
      await new Promise<void>((r) => storage.listen(0, "127.0.0.1", r));
      const storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
      try {
        host.moveRepo("acme/api", "acme/api-v2");
        host.script("archive", {
          status: 303,
          headers: { location: `${storageUrl}/gitea/repo-archive/7/${SHA}.zip?X-Amz-Signature=abcdef0123` },
        });
        const key = "gitea/renamed-serve-direct.zip";
        const outcome = await upload(
          { ...request("gitea", "/api/v1"), key },
          pushEvent({ provider: "gitea" }),
          clients(),
        );
        expect(host.requests.map((r) => r.path)).to.include(`/api/v1/repos/acme/api-v2/archive/${SHA}.zip`);
        expect(await names(key)).to.deep.equal(["buildspec.yml"]);
        expect(outcome.detail).to.not.contain("kept");
      } finally {
        await new Promise<void>((r) => storage.close(() => r()));
      }
    });

    it("uploadSourceZip says in its outcome and a warning that it kept a single top folder not of the name the host writes (app/)", async () => {
      host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "version: 0.2\n" }, "app") });
      const key = "gitea/kept-folder.zip";
      const c = clients();
      const outcome = await upload(
        { ...request("gitea", "/api/v1"), key },
        pushEvent({ provider: "gitea" }),
        c,
      );
      expect(outcome.status).to.equal("done");
      expect(outcome.detail).to.match(
        /\(2 entries, sha 0123456789ab[^)]*\); kept the archive's single top folder "app\/": not the name gitea writes, so taken for the repository's own$/,
      );
      expect(c.logs.find((l) => l.level === "warn")).to.include({
        msg: "source zip: kept the archive's single top folder: not the name gitea writes",
        folder: '"app/"',
      });
      expect(await names(key)).to.deep.equal(["app/buildspec.yml"]);
    });

    it("uploadSourceZip keeps a GitHub repository's own single folder whose name does not end in the pushed sha", async () => {
      host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "version: 0.2\n" }, "app") });
      const key = "github/own-folder.zip";
      await upload({ ...request(), key }, pushEvent(), clients());
      expect(await names(key)).to.deep.equal(["app/buildspec.yml"]);
    });

    it("uploadSourceZip removes GitHub's top folder named with the full sha (owner-repo-<40 hex>) and a renamed repository's", async () => {
      host.setArchive("acme/api", SHA, {
        zip: await buildZip({ "buildspec.yml": "version: 0.2\n" }, `acme-api-v2-${SHA}`),
      });
      const key = "github/full-sha.zip";
      await upload({ ...request(), key }, pushEvent(), clients());
      expect(await names(key)).to.deep.equal(["buildspec.yml"]);
    });

    it("uploadSourceZip keeps a top folder named after another commit than the one pushed", async () => {
      const other = `acme-api-${"f".repeat(7)}`;
      host.setArchive("acme/api", SHA, { zip: await buildZip({ "buildspec.yml": "version: 0.2\n" }, other) });
      const key = "github/other-sha.zip";
      await upload({ ...request(), key }, pushEvent(), clients());
      expect(await names(key)).to.deep.equal([`${other}/buildspec.yml`]);
    });
  });

  it("uploadSourceZip fails final, uploading nothing, when the download labelled a zip does not begin with PK: a retry downloads the same", async () => {
    host.setArchive("acme/api", SHA, { zip: Buffer.from("<html>proxy error</html>") });
    const err = await rejectsWithActionError(upload(request(), pushEvent(), clients()));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "github archive of acme/api answered 200 with a body that is not a zip (Content-Type application/zip; it does not begin with PK)",
    );
    expect(await s3.exists(BUCKET, "acme/api/main/acme_api.zip")).to.equal(false);
  });

  // GitHub's codeload answers application/zip; GitLab application/zip or application/octet-stream; a server
  // may send none, or mislabel one: the first bytes decide.
  for (const contentType of ["application/octet-stream", null, "text/plain"]) {
    it(`uploadSourceZip uploads a real archive served ${contentType === null ? "without a Content-Type" : `as ${contentType}`}`, async () => {
      host.setArchive("acme/api", SHA, {
        zip: await buildZip(FILES, `acme-api-${SHA.slice(0, 7)}`),
        contentType,
      });
      const outcome = await upload(request(), pushEvent(), clients());
      expect(outcome.status, outcome.detail).to.equal("done");
      const entries = await readZip((await s3.getObject(BUCKET, "acme/api/main/acme_api.zip")).body);
      expect(entries.get("buildspec.yml")?.toString()).to.equal("version: 0.2\n");
    });
  }

  describe("when the archive URL redirects to a sign-in page of its own origin (a credential the web host does not take)", () => {
    const SIGN_IN = "<!DOCTYPE html><html><body>Log in to continue</body></html>";
    // The host sends the request on to a page of its own (Bitbucket Cloud's /account/signin/), the credentials
    // with it, and answers that with the sign-in page.
    const toSignIn = (): void => {
      host.script("archive", {
        status: 302,
        headers: { location: "/account/signin/?next=%2Facme%2Fapi&sig=q-secret-123456" },
      });
      host.script("sign-in", {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: SIGN_IN,
      });
    };

    it("uploadSourceZip fails final, saying a web page came instead of the zip, without the URL's query or the token, and uploads nothing", async () => {
      toSignIn();
      const c = clients();
      const err = await rejectsWithActionError(upload(request(), pushEvent(), c));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "github archive of acme/api led to a web page (text/html), not a zip: likely a sign-in page, the credential was not accepted",
      );
      expect(err.message).to.not.contain("q-secret").and.not.contain(HOST_TOKEN);
      expect(await s3.exists(BUCKET, "acme/api/main/acme_api.zip")).to.equal(false);
      expect(JSON.stringify(c.logs)).to.not.contain(HOST_TOKEN);
    });

    it("uploadSourceZip adds Bitbucket Cloud's advice for a refused credential when its web host sends the archive request to a sign-in page", async () => {
      await host.close();
      const EMAIL = "dev@acme.example";
      const API_TOKEN = "ATATT3xFfGF0-api-token-for-tests";
      host = await startGitHostServer({ token: API_TOKEN, basic: { user: EMAIL, password: API_TOKEN } });
      host.setRepo("acme/api");
      toSignIn();
      const secrets = new MemorySecretStore({
        "hookgate/github-token": JSON.stringify({ email: EMAIL, apiToken: API_TOKEN }),
      });
      const err = await rejectsWithActionError(
        upload(
          { ...request("bitbucket"), key: "bitbucket/sign-in.zip" },
          pushEvent({ provider: "bitbucket" }),
          clients({ secrets }),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in page, the " +
          "credential was not accepted; likely an app password, which Bitbucket Cloud no longer accepts, an API " +
          "token sent with the Bitbucket username instead of the Atlassian account email, or an API token revoked or expired",
      );
      expect(await s3.exists(BUCKET, "bitbucket/sign-in.zip")).to.equal(false);
    });

    describe("with a token secret rotated while the store caches the revoked token", () => {
      const SECRET = "hookgate/github-token";
      let secrets: RotatedSecrets;
      beforeEach(async () => {
        secrets = new RotatedSecrets({ [SECRET]: "ghp_revoked0123456789" });
        await secrets.cache(SECRET);
        // A host that answers the revoked token with the redirect, not a 401: every token is let through.
        await host.close();
        host = await startGitHostServer({ token: HOST_TOKEN, requireAuth: false });
        host.setRepo("acme/api");
        host.setArchive("acme/api", SHA, { files: FILES });
      });
      afterEach(() => secrets.restore());

      it("uploadSourceZip reads the token secret once more past its cache, and uploads the zip with the new token", async () => {
        secrets.rotate(SECRET, HOST_TOKEN);
        // The first request (the revoked token) is sent to the sign-in page; the second is answered as usual.
        toSignIn();
        const outcome = await upload(request(), pushEvent(), clients({ secrets: secrets.store }));
        expect(outcome.status, outcome.detail).to.equal("done");
        expect(secrets.reads(SECRET)).to.equal(2);
        const downloads = host.requests.filter(
          (r) => (r.kind === "archive" || r.kind === "sign-in") && r.listener === "api",
        );
        expect(downloads.map((r) => r.authorization)).to.deep.equal([
          "Bearer ghp_revoked0123456789",
          "Bearer ghp_revoked0123456789",
          `Bearer ${HOST_TOKEN}`,
        ]);
      });

      it("uploadSourceZip stays final, downloading once (the archive URL and its sign-in page), when the token secret read once more holds the same token", async () => {
        toSignIn();
        toSignIn();
        const err = await rejectsWithActionError(
          upload(request(), pushEvent(), clients({ secrets: secrets.store })),
        );
        expect(err.retryable).to.equal(false);
        expect(err.message).to.match(/led to a web page \(text\/html\), not a zip/);
        expect(secrets.reads(SECRET)).to.equal(2);
        // The archive URL and the sign-in page it led to, once.
        expect(
          host.requests.map((r) => r.kind).filter((k) => k === "archive" || k === "sign-in"),
        ).to.deep.equal(["archive", "sign-in"]);
      });
    });
  });

  // The central directory reads well; an entry's own bytes, read during the upload, do not.
  const corrupt: Array<[string, (zip: Buffer) => void, string]> = [
    [
      "an entry's local header is damaged",
      (zip) => zip.writeUInt32LE(0, zip.indexOf(Buffer.from("src/index.ts")) - 30),
      "invalid local file header signature: 0x0",
    ],
    [
      "an entry's data runs past the end of the file",
      (zip) => {
        const header = zip.lastIndexOf(Buffer.from("src/index.ts")) - 46;
        zip.writeUInt32LE(zip.length, header + 20); // its compressed size
      },
      "file data overflows file bounds",
    ],
  ];
  for (const [what, damage, reason] of corrupt) {
    it(`uploadSourceZip says the archive is corrupt, retryable, and uploads nothing when ${what}`, async () => {
      const zip = await buildZip({ "buildspec.yml": "x", "src/index.ts": "export {};\n" }, "");
      damage(zip);
      host.setArchive("acme/api", SHA, { zip });
      const key = `corrupt/${reason.length}.zip`;
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.message)
        .to.match(/^the downloaded archive is corrupt: /)
        .and.contain(reason);
      expect(err.message).to.not.contain("S3").and.not.contain(HOST_TOKEN);
      expect(err.retryable).to.equal(true);
      expect(await s3.exists(BUCKET, key)).to.equal(false);
      expect(s3.openUploads()).to.deep.equal([]);
    });
  }

  const providers: Array<[Provider, string, string]> = [
    ["gitlab", "/api/v4", "/api/v4/projects/acme%2Fapi/repository/archive.zip"],
    ["gitea", "/api/v1", `/api/v1/repos/acme/api/archive/${SHA}.zip`],
    ["bitbucket", "", `/acme/api/get/${SHA}.zip`],
  ];
  for (const [provider, apiPath, path] of providers) {
    it(`uploadSourceZip downloads the ${provider} archive of the sha and flattens its top folder`, async () => {
      const key = `${provider}/acme_api.zip`;
      await upload({ ...request(provider, apiPath), key }, pushEvent({ provider }), clients());
      const archiveRequest = host.requests.find((r) => r.kind === "archive");
      expect(archiveRequest?.path).to.equal(path);
      expect(archiveRequest?.authorized).to.equal(true);
      if (provider === "gitlab") expect(archiveRequest?.query).to.deep.equal({ sha: SHA });
      const entries = await readZip((await s3.getObject(BUCKET, key)).body);
      expect(entries.get("buildspec.yml")?.toString()).to.equal("version: 0.2\n");
    });
  }

  describe("on Bitbucket Cloud, with each form of the token secret", () => {
    const EMAIL = "dev@acme.example";
    const API_TOKEN = "ATATT3xFfGF0-api-token-for-tests";
    const ACCESS_TOKEN = "ATCTT3xFfGF0-access-token-for-tests";
    const basic = `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString("base64")}`;
    beforeEach(async () => {
      await host.close();
      host = await startGitHostServer({ token: ACCESS_TOKEN, basic: { user: EMAIL, password: API_TOKEN } });
      host.setRepo("acme/api");
      host.setArchive("acme/api", SHA, { files: FILES });
    });

    // An access token (repository, project, workspace) is a Bearer; an Atlassian API token is Basic with the
    // account's email (https://support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/).
    const forms: Array<[string, string]> = [
      [ACCESS_TOKEN, `Bearer ${ACCESS_TOKEN}`],
      [JSON.stringify({ token: ACCESS_TOKEN }), `Bearer ${ACCESS_TOKEN}`],
      [JSON.stringify({ email: EMAIL, apiToken: API_TOKEN }), basic],
      [JSON.stringify({ email: EMAIL, token: API_TOKEN }), basic],
      [JSON.stringify({ username: EMAIL, token: API_TOKEN }), basic],
      [JSON.stringify({ username: EMAIL, password: API_TOKEN }), basic],
    ];
    for (const [secret, authorization] of forms) {
      it(`uploadSourceZip sends the secret ${secret.replace(/ATATT3x\S+?(?=")|ATCTT3x\S+?(?="|$)/g, "…")} as ${authorization.split(" ")[0]}`, async () => {
        const secrets = new MemorySecretStore({ "hookgate/github-token": secret });
        const key = "bitbucket/forms.zip";
        const outcome = await upload(
          { ...request("bitbucket"), key },
          pushEvent({ provider: "bitbucket" }),
          clients({ secrets }),
        );
        expect(outcome.status).to.equal("done");
        const archive = host.requests.find((r) => r.kind === "archive");
        expect(archive?.path).to.equal(`/acme/api/get/${SHA}.zip`);
        expect(archive?.authorization).to.equal(authorization);
      });
    }
  });

  describe("when Bitbucket Cloud refuses the token secret (401, 403)", () => {
    const EMAIL = "dev@acme.example";
    const API_TOKEN = "ATATT3xFfGF0-api-token-for-tests";
    beforeEach(async () => {
      await host.close();
      host = await startGitHostServer({ token: API_TOKEN, basic: { user: EMAIL, password: API_TOKEN } });
      host.setRepo("acme/api");
    });
    // A body that quotes what was sent: none of it may reach the message.
    const echo = JSON.stringify({
      type: "error",
      error: { message: `Bad credentials ${EMAIL}:${API_TOKEN}` },
    });
    const refused = async (secret: string, status: number) => {
      host.script("archive", { status, body: echo });
      const err = await rejectsWithActionError(
        upload(
          { ...request("bitbucket"), key: "bitbucket/refused.zip" },
          pushEvent({ provider: "bitbucket" }),
          clients({ secrets: new MemorySecretStore({ "hookgate/github-token": secret }) }),
        ),
      );
      expect(err.retryable).to.equal(false);
      for (const text of [err.message, err.publicMessage]) {
        expect(text).to.not.contain(API_TOKEN);
        expect(text).to.not.contain(Buffer.from(`${EMAIL}:${API_TOKEN}`).toString("base64"));
      }
      expect(err.publicMessage).to.match(
        new RegExp(`^bitbucket archive of acme/api answered ${status}: Bad credentials [^;]*$`),
      );
      return err.message;
    };

    it("uploadSourceZip hints at a retired app password, a username in place of the email or a revoked token when Basic gets 401", async () => {
      expect(await refused(JSON.stringify({ email: EMAIL, apiToken: API_TOKEN }), 401)).to.equal(
        "bitbucket archive of acme/api answered 401: Bad credentials [redacted]; likely an app password, " +
          "which Bitbucket Cloud no longer accepts, an API token sent with the Bitbucket username instead of the Atlassian account email, " +
          "or an API token revoked or expired",
      );
    });

    it("uploadSourceZip hints that a token alone is a Bearer, which only access tokens are, when it gets 401", async () => {
      expect(await refused(API_TOKEN, 401)).to.contain(
        '; likely an Atlassian API token sent alone, as a Bearer, which Bitbucket Cloud takes only from access tokens (repository, project, workspace): store it as {"email": "...", "apiToken": "..."}; or an access token revoked or expired',
      );
    });

    it("uploadSourceZip hints at a missing scope when it gets 403", async () => {
      expect(await refused(JSON.stringify({ email: EMAIL, apiToken: API_TOKEN }), 403)).to.contain(
        "; likely a missing scope: an API token needs read:repository:bitbucket",
      );
    });
  });

  describe("with a multipart upload (archive larger than one part)", () => {
    const big = { "buildspec.yml": "version: 0.2\n", "blob.bin": randomBytes(11 * 1024 * 1024) };
    beforeEach(() => {
      host.setArchive("acme/api", SHA, { files: big });
    });

    it("uploadSourceZip survives an S3 500 on one part (the SDK retries it)", async () => {
      s3.faults.failUploadPartRequests = [s3.uploadPartRequests() + 1];
      const key = "multipart/one-fault.zip";
      const outcome = await upload({ ...request(), key }, pushEvent(), clients());
      expect(outcome.status).to.equal("done");
      const entries = await readZip((await s3.getObject(BUCKET, key)).body);
      expect(entries.get("blob.bin")?.equals(big["blob.bin"])).to.equal(true);
      expect(s3.openUploads()).to.deep.equal([]);
      expect(s3.requests.filter((r) => r.includes("partNumber=")).length).to.be.greaterThan(2);
    });

    it("uploadSourceZip puts the metadata and CodePipeline's revision summary on a zip it uploads in parts", async () => {
      const key = "multipart/metadata.zip";
      const before = s3.uploadPartRequests();
      expect((await upload({ ...request(), key }, pushEvent(), clients())).status).to.equal("done");
      expect(s3.uploadPartRequests() - before).to.be.greaterThan(1);
      expect((await s3.getObject(BUCKET, key)).metadata).to.include({
        sha: SHA,
        "delivery-id": "delivery-42",
        "codepipeline-artifact-revision-summary": "github acme/api main 0123456: delivery delivery-42",
      });
    });

    it("uploadSourceZip says the archive is corrupt when an entry past the first part is, and leaves no open multipart upload", async () => {
      const zip = await buildZip({ ...big, "z.txt": "after the blob" }, "acme-api-0123456");
      zip.writeUInt32LE(0, zip.indexOf(Buffer.from("acme-api-0123456/z.txt")) - 30);
      host.setArchive("acme/api", SHA, { zip });
      const key = "multipart/corrupt.zip";
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.message).to.equal(
        "the downloaded archive is corrupt: invalid local file header signature: 0x0",
      );
      expect(err.retryable).to.equal(true);
      expect(await s3.exists(BUCKET, key)).to.equal(false);
      expect(s3.openUploads()).to.deep.equal([]);
      expect(s3.abortedUploads()).to.have.length.greaterThan(0);
    });

    it("uploadSourceZip fails retryable when every part fails, leaving no object and no open multipart upload", async () => {
      s3.faults.failEveryUploadPart = true;
      const key = "multipart/all-faults.zip";
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.retryable).to.equal(true);
      expect(await s3.exists(BUCKET, key)).to.equal(false);
      expect(s3.openUploads()).to.deep.equal([]);
      expect(s3.abortedUploads()).to.have.length.greaterThan(0);
    });
  });

  // S3 errors no attempt can get past: what S3 answers, and what the reason must say.
  const finalErrors: Array<[string, number, string, Record<string, string>, string]> = [
    [
      "PermanentRedirect",
      301,
      "The bucket you are attempting to access must be addressed using the specified endpoint.",
      { "x-amz-bucket-region": "eu-central-1" },
      "the bucket is in another region (eu-central-1) than the function",
    ],
    [
      "AuthorizationHeaderMalformed",
      400,
      "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-central-1'",
      {},
      "expecting 'eu-central-1'",
    ],
    ["KeyTooLongError", 400, "Your key is too long", {}, "longer than S3's 1,024 bytes"],
    ["MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.", {}, "2 KB"],
    ["InvalidArgument", 400, "x-amz-server-side-encryption header is not supported", {}, "is not supported"],
    [
      "EntityTooLarge",
      400,
      "Your proposed upload exceeds the maximum allowed size",
      {},
      "larger than S3 takes",
    ],
    ["InvalidStorageClass", 400, "The storage class you specified is not valid", {}, "storage class"],
  ];
  for (const [code, status, message, headers, reason] of finalErrors) {
    it(`uploadSourceZip fails final, once, with a reason on S3's ${status} ${code}`, async () => {
      s3.faults.everyRequest = { status, code, message, headers };
      s3.faults.headStatus = 404; // the upload's own error: the key is read as empty
      const key = `final/${code}.zip`;
      const err = await rejectsWithActionError(upload({ ...request(), key }, pushEvent(), clients()));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain(`S3 refused the upload: ${code}`).and.contain(reason);
      expect(s3.requests.filter((r) => r.includes(key) && !r.startsWith("HEAD "))).to.have.length(1);
    });
  }

  // With the route's kmsKeyId, the KMS key S3 could not use is that one, not the bucket's default key.
  for (const [code, reason] of [
    ["KMS.NotFoundException", "names no KMS key S3 can use: it does not exist, or is of another region"],
    ["KMS.DisabledException", "is disabled"],
  ] as const) {
    it(`uploadSourceZip fails final on S3's 400 ${code} to a route with kmsKeyId, naming the route's kmsKeyId, not the bucket's key`, async () => {
      const kmsKeyId = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
      s3.faults.everyRequest = { status: 400, code, message: "Invalid arn us-east-1", headers: {} };
      s3.faults.headStatus = 404;
      const key = `final/kms-key-id/${code}.zip`;
      const err = await rejectsWithActionError(
        upload({ ...request(), key, serverSideEncryption: "aws:kms", kmsKeyId }, pushEvent(), clients()),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain(
        `S3 refused the upload: ${code}: the ${code === "KMS.NotFoundException" ? "" : "KMS key of the "}route's kmsKeyId "${kmsKeyId}" ${reason}`,
      );
      expect(err.message).not.to.contain("the bucket's KMS key");
    });
  }

  it("uploadSourceZip fails final, once, on S3's KMS.KMSInvalidStateException for a key pending deletion, naming the route's kmsKeyId and ending with S3's message", async () => {
    const kmsKeyId = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const said = `${kmsKeyId} is pending deletion.`;
    s3.faults.everyRequest = {
      status: 400,
      code: "KMS.KMSInvalidStateException",
      message: said,
      headers: {},
    };
    s3.faults.headStatus = 404;
    const key = "final/kms-pending-deletion.zip";
    const err = await rejectsWithActionError(
      upload({ ...request(), key, serverSideEncryption: "aws:kms", kmsKeyId }, pushEvent(), clients()),
    );
    expect(err.retryable, err.message).to.equal(false);
    expect(err.message).to.contain(`the KMS key of the route's kmsKeyId "${kmsKeyId}" is pending deletion`);
    expect(err.message).to.contain(`; S3 said: ${JSON.stringify(said)}`);
    expect(s3.requests.filter((r) => r.includes(key) && !r.startsWith("HEAD "))).to.have.length(1);
  });

  it("uploadSourceZip fails final when the bucket does not exist, naming the bucket", async () => {
    const err = await rejectsWithActionError(
      upload({ ...request(), bucket: "no-such-bucket" }, pushEvent(), clients()),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      'S3 refused the upload: NoSuchBucket: the bucket "no-such-bucket" does not exist',
    );
  });
});

describe("Function: uploadSourceZip against a stub S3 (conditional writes, which s3rver cannot do)", function () {
  this.timeout(60_000);
  const EARLY = "2026-12-06T01:00:00.000Z";
  const LATE = "2026-12-06T01:05:00.000Z";
  const NEWER_SHA = "fedcba9876543210fedcba9876543210fedcba98";
  let host: GitHostServer;
  let stub: ScriptedServer;
  let client: S3Client;
  /** What the stub answers: HEADs in turn (the last one again), and a PUT by the condition it carries. */
  let heads: Reply[];
  let putAnswer: (condition: string | undefined) => Reply;
  const request = (): S3ZipRequest => ({
    type: "s3-zip",
    api: { provider: "github", apiUrl: host.url, token: "hookgate/github-token" },
    bucket: BUCKET,
    key: "acme/api/main/acme_api.zip",
  });
  const conditionOf = (req: Seen) =>
    req.headers["if-match"] !== undefined
      ? `if-match: ${req.headers["if-match"]}`
      : req.headers["if-none-match"] !== undefined
        ? `if-none-match: ${req.headers["if-none-match"]}`
        : undefined;
  const s3Error = (status: number, code: string): Reply => ({
    status,
    headers: { "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused</Message></Error>`,
  });
  const puts = () => stub.seen.filter((r) => r.method === "PUT").map(conditionOf);

  beforeEach(async () => {
    host = await startGitHostServer({ token: HOST_TOKEN });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: FILES });
    heads = [{ status: 404 }];
    putAnswer = () => ({ status: 200, headers: { etag: '"mine"' } });
    let headsSeen = 0;
    stub = await scriptedServer((req) => {
      if (req.method === "HEAD") return heads[Math.min(headsSeen++, heads.length - 1)] ?? { status: 404 };
      if (req.method === "PUT") return putAnswer(conditionOf(req));
      return s3Error(400, "InvalidRequest");
    });
    client = createLocalS3Client(stub.url);
  });
  afterEach(async () => {
    client.destroy();
    await stub.close();
    await host.close();
  });

  it("uploadSourceZip reads the key again after S3's 412 to its If-None-Match upload, and skips: the zip put meanwhile is newer", async () => {
    heads = [
      { status: 404 },
      {
        status: 200,
        headers: {
          etag: '"theirs"',
          "x-amz-meta-accepted-at": LATE,
          "x-amz-meta-sha": NEWER_SHA,
          "content-length": "0",
        },
      },
    ];
    putAnswer = () => s3Error(412, "PreconditionFailed");
    const c = testClients({ objects: new S3ObjectStore(client) });
    const outcome = await upload(request(), pushEvent(), c, EARLY);
    expect(outcome.status).to.equal("skipped");
    expect(outcome.detail).to.contain(`accepted ${LATE}) than this one`);
    expect(puts()).to.deep.equal(["if-none-match: *"]);
    expect(stub.seen.filter((r) => r.method === "HEAD")).to.have.length(2);
  });

  it("uploadSourceZip is done, without uploading again, when the SDK's retry of its upload is refused 412 over the zip that upload wrote (the key holds this delivery's own zip)", async () => {
    heads = [
      { status: 404 },
      {
        status: 200,
        headers: {
          etag: '"mine"',
          "x-amz-meta-accepted-at": EARLY,
          "x-amz-meta-sha": SHA,
          "x-amz-meta-delivery-id": "delivery-42",
          "content-length": "0",
        },
      },
    ];
    // The first PUT writes the zip but its answer is a 500; the SDK sends it again, and S3 refuses that.
    // An upload on If-Match of that zip would be taken (and add a version).
    let sent = 0;
    putAnswer = (condition) =>
      condition === 'if-match: "mine"'
        ? { status: 200, headers: { etag: '"again"' } }
        : ++sent === 1
          ? s3Error(500, "InternalError")
          : s3Error(412, "PreconditionFailed");
    const c = testClients({ objects: new S3ObjectStore(client) });
    const outcome = await upload(request(), pushEvent(), c, EARLY);
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.contain(`s3://${BUCKET}/acme/api/main/acme_api.zip`);
    expect(puts()).to.deep.equal(["if-none-match: *", "if-none-match: *"]);
    expect(stub.seen.filter((r) => r.method === "HEAD")).to.have.length(2);
  });

  it("uploadSourceZip uploads on If-Match of the ETag HeadObject gave for the zip in place", async () => {
    heads = [
      { status: 200, headers: { etag: '"older"', "x-amz-meta-accepted-at": EARLY, "content-length": "0" } },
    ];
    const outcome = await upload(
      request(),
      pushEvent(),
      testClients({ objects: new S3ObjectStore(client) }),
      LATE,
    );
    expect(outcome.status).to.equal("done");
    expect(puts()).to.deep.equal(['if-match: "older"']);
  });

  it("uploadSourceZip uploads without the condition when an S3-compatible endpoint answers it 501, warning once for the store", async () => {
    putAnswer = (condition) =>
      condition === undefined ? { status: 200, headers: { etag: '"mine"' } } : s3Error(501, "NotImplemented");
    const objects = new S3ObjectStore(client, { unconditionalFallback: true });
    const first = testClients({ objects });
    expect((await upload(request(), pushEvent(), first, EARLY)).status).to.equal("done");
    const second = testClients({ objects });
    expect((await upload(request(), pushEvent({ deliveryId: "next" }), second, LATE)).status).to.equal(
      "done",
    );
    expect(puts()).to.deep.equal(["if-none-match: *", undefined, undefined]);
    const warnings = [...first.logs, ...second.logs].filter((l) => l.level === "warn");
    expect(warnings).to.have.length(1);
    expect(warnings[0]?.msg).to.contain("does not implement conditional writes");
  });
});

describe("Function: uploadSourceZip from a self-hosted Git host with a private CA (providers.<provider>.caBundle)", () => {
  const tls = join(__dirname, "..", "fixtures", "tls");
  const ca = readFileSync(join(tls, "ca.pem"), "utf8");
  const key = "acme/api/main/acme_api.zip";
  let host: GitHostServer;
  let root: string;

  before(async () => {
    host = await startGitHostServer({
      token: HOST_TOKEN,
      tls: { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) },
    });
    host.setRepo("acme/api");
    host.setArchive("acme/api", SHA, { files: FILES });
  });
  after(async () => {
    await host.close();
  });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "hookgate-zip-ca-"));
    host.requests.length = 0;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const request = (provider: Provider, apiPath: string, caBundle?: string): S3ZipRequest => ({
    type: "s3-zip",
    api: { provider, apiUrl: `${host.url}${apiPath}`, token: "hookgate/github-token", caBundle },
    bucket: BUCKET,
    key,
  });
  const clients = (secrets: Record<string, string> = {}) => {
    const c = testClients({ objects: new FsObjectStore(root) });
    for (const [name, value] of Object.entries(secrets)) (c.secrets as MemorySecretStore).set(name, value);
    return c;
  };
  const uploaded = async () => readZip(await readFile(join(root, BUCKET, key)));

  const hosts: Array<[Provider, string]> = [
    ["gitlab", "/api/v4"],
    ["gitea", "/api/v1"],
    ["github", ""],
  ];
  for (const [provider, apiPath] of hosts) {
    it(`uploadSourceZip downloads the ${provider} archive from a host with a private CA with its caBundle, and without it (or with an unrelated CA) fails retryable as not trusted`, async () => {
      const err = await rejectsWithActionError(
        upload(request(provider, apiPath), pushEvent({ provider }), clients()),
      );
      expect(err.retryable).to.equal(true);
      expect(err.message).to.contain("not trusted: add its CA with caBundle");
      // Verification stays on: the bundle's CAs are added, and this one did not sign the host's certificate.
      const unrelated = await rejectsWithActionError(
        upload(
          request(provider, apiPath, "hookgate/other-ca"),
          pushEvent({ provider }),
          clients({ "hookgate/other-ca": readFileSync(join(tls, "other-ca.pem"), "utf8") }),
        ),
      );
      expect(unrelated.message).to.contain("not trusted");
      expect(host.requests).to.deep.equal([]);

      const outcome = await upload(
        request(provider, apiPath, "hookgate/corp-ca"),
        pushEvent({ provider }),
        clients({ "hookgate/corp-ca": ca }),
      );
      expect(outcome.status).to.equal("done");
      expect((await uploaded()).get("buildspec.yml")?.toString()).to.equal("version: 0.2\n");
      expect(host.requests.find((r) => r.kind === "archive")?.authorized).to.equal(true);
    });
  }

  it("uploadSourceZip follows GitHub Enterprise Server's redirect to a codeload origin under the same private CA, without the token", async () => {
    await upload(request("github", "", "hookgate/corp-ca"), pushEvent(), clients({ "hookgate/corp-ca": ca }));
    const codeload = host.requests.find((r) => r.listener === "codeload");
    expect(codeload?.kind).to.equal("archive");
    expect(codeload?.hadAuthorization).to.equal(false);
    expect(host.codeloadUrl).to.match(/^https:/);
  });

  it("uploadSourceZip fails final, naming the secret and calling no host, when the caBundle secret holds no PEM certificate", async () => {
    const err = await rejectsWithActionError(
      upload(
        request("gitlab", "/api/v4", "hookgate/bad-ca"),
        pushEvent({ provider: "gitlab" }),
        clients({ "hookgate/bad-ca": "not a certificate" }),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal('secret "hookgate/bad-ca" does not hold a PEM certificate bundle');
    expect(host.requests).to.deep.equal([]);
  });

  it("uploadSourceZip fails final, calling no host, when the caBundle secret is a JSON object holding the PEM: it says to store the PEM text itself", async () => {
    const err = await rejectsWithActionError(
      upload(
        request("gitlab", "/api/v4", "hookgate/corp-ca"),
        pushEvent({ provider: "gitlab" }),
        clients({ "hookgate/corp-ca": JSON.stringify({ ca }) }),
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      'secret "hookgate/corp-ca" does not hold a PEM certificate bundle: it holds JSON: store the PEM text itself',
    );
    expect(host.requests).to.deep.equal([]);
  });
});

// Downloads into a temporary directory of its own, removed afterwards, so each test only says what it sends.
async function downloadOnce(url: string, headers: Record<string, string>, what: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "hookgate-test-"));
  try {
    return (await downloadArchive({ url, headers }, join(dir, "a.zip"), testClients(), what)).bytes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The ActionError downloadArchive fails with (the test fails if it resolves). */
function downloadError(
  url: string,
  headers: Record<string, string> = {},
  what = "github archive of acme/api",
): Promise<ActionError> {
  return rejectsWithActionError(downloadOnce(url, headers, what));
}

function webPage(body: string, contentType = "text/html"): Reply {
  return { status: 200, headers: { "content-type": contentType }, body };
}

describe("Function: downloadArchive's error messages", () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("downloadArchive keeps the token of the URL a redirect gave (codeload's ?token=) out of the message of the host it leads to", async () => {
    const codeloadToken = "AABBCCDDEEFF00112233445566778899";
    const codeload = await scriptedServer(() =>
      json({ message: `token ${codeloadToken} is not valid for this archive` }, 404),
    );
    try {
      server = await scriptedServer(() => ({
        status: 302,
        headers: {
          location: `${codeload.url}/acme/api/legacy.zip/${"a".repeat(40)}?token=${codeloadToken}&format=zip`,
        },
      }));
      const err = await downloadError(`${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`, {
        authorization: `Bearer ${HOST_TOKEN}`,
      });
      expect(err.message).to.contain("404").and.contain("is not valid for this archive");
      for (const text of [err.message, err.publicMessage]) expect(text).to.not.contain(codeloadToken);
    } finally {
      await codeload.close();
    }
  });

  it("downloadArchive keeps the password of a redirect URL's user information out of the message of the host it leads to", async () => {
    const password = "s3cr3t-pa55w0rd-xyz";
    const other = await scriptedServer(() => json({ message: `bad password ${password}` }, 403));
    try {
      const target = new URL(`${other.url}/archive.zip`);
      target.username = "bot";
      target.password = password;
      server = await scriptedServer(() => ({ status: 302, headers: { location: target.toString() } }));
      const err = await downloadError(`${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`, {
        authorization: `Bearer ${HOST_TOKEN}`,
      });
      expect(err.message).to.contain("403");
      for (const text of [err.message, err.publicMessage]) expect(text).to.not.contain(password);
    } finally {
      await other.close();
    }
  });

  it("downloadArchive takes the token out of a refusal's message but keeps the words of its harmless headers (API version, user agent)", async () => {
    // A server that echoes every header it was sent into its message.
    server = await scriptedServer((req) =>
      json(
        {
          message: `No commit for ${req.headers.authorization} (${req.headers["x-github-api-version"]}, ${req.headers["user-agent"]}, ${req.headers.accept})`,
        },
        404,
      ),
    );
    const err = await downloadError(`${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`, {
      accept: "application/vnd.github+json",
      "x-github-api-version": "2022-11-28",
      "user-agent": "hookgate",
      authorization: `Bearer ${HOST_TOKEN}`,
    });
    for (const text of [err.message, err.publicMessage]) {
      expect(text).to.not.contain(HOST_TOKEN);
      expect(text)
        .to.contain("2022-11-28")
        .and.contain("application/vnd.github+json")
        .and.contain("hookgate");
    }
    expect(err.message).to.match(
      /^github archive of acme\/api answered 404: No commit for \[redacted\] \(2022-11-28, hookgate, application\/vnd\.github\+json\): /,
    );
  });
  it("downloadArchive takes a web page its redirect led to on the same origin (Bitbucket's /account/signin/) for a refused credential, final", async () => {
    server = await scriptedServer(
      (req): Reply =>
        req.url.startsWith("/account/signin/")
          ? webPage("<html>Log in</html>")
          : { status: 302, headers: { location: `/account/signin/?next=${encodeURIComponent(req.url)}` } },
    );
    const err = await downloadError(
      `${server.url}/acme/api/get/${"a".repeat(40)}.zip`,
      { authorization: `Bearer ${HOST_TOKEN}` },
      "bitbucket archive of acme/api",
    );
    expect(err).to.be.instanceOf(CredentialsRefusedError);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in page, the credential was not accepted",
    );
  });

  it("downloadArchive does not blame the credentials for a web page on another origin the API redirected to (GitHub's codeload, which never gets them): final, no token re-read", async () => {
    const codeload = await scriptedServer(() =>
      webPage("<html><body>We're having a really bad day.</body></html>", "text/html; charset=utf-8"),
    );
    server = await scriptedServer(() => ({
      status: 302,
      headers: { location: `${codeload.url}/acme/api/legacy.zip/${"a".repeat(40)}?token=SIGNED123456` },
    }));
    try {
      const err = await downloadError(`${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`, {
        authorization: `Bearer ${HOST_TOKEN}`,
      });
      expect(codeload.seen.map((r) => r.headers.authorization)).to.deep.equal([undefined]);
      expect(err).to.not.be.instanceOf(CredentialsRefusedError);
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "github archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page a redirect led to",
      );
    } finally {
      await codeload.close();
    }
  });

  it("downloadArchive still takes Bitbucket's sign-in page for a refused credential when /account/signin/ sends the request on to another origin (id.atlassian.com)", async () => {
    const idp = await scriptedServer(() => webPage("<html>Log in to continue</html>"));
    server = await scriptedServer(
      (req): Reply =>
        req.url.startsWith("/account/signin/")
          ? { status: 302, headers: { location: `${idp.url}/login?continue=x` } }
          : { status: 302, headers: { location: "/account/signin/?next=%2Facme" } },
    );
    try {
      const err = await downloadError(
        `${server.url}/acme/api/get/${"a".repeat(40)}.zip`,
        { authorization: `Bearer ${HOST_TOKEN}` },
        "bitbucket archive of acme/api",
      );
      expect(idp.seen.map((r) => r.headers.authorization)).to.deep.equal([undefined]);
      expect(err).to.be.instanceOf(CredentialsRefusedError);
      expect(err.message).to.equal(
        "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in page, the credential was not accepted",
      );
    } finally {
      await idp.close();
    }
  });

  // GitHub's /login and SAML /orgs/<org>/sso (/enterprises/<e>/sso), GitLab's /users/sign_in and Gitea's /user/login (also under a sub-path).
  for (const signIn of [
    "/login",
    "/orgs/acme/sso",
    "/enterprises/acme/sso",
    "/users/sign_in",
    "/gitlab/users/sign_in",
    "/gitea/user/login/",
  ]) {
    it(`downloadArchive takes the web page at ${signIn}, where the host sent the credentials on, for a refused credential`, async () => {
      server = await scriptedServer(
        (req): Reply =>
          req.url.startsWith(signIn)
            ? webPage("<html>Sign in</html>")
            : { status: 302, headers: { location: `${signIn}?return_to=%2Facme` } },
      );
      const err = await downloadError(`${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`, {
        authorization: `Bearer ${HOST_TOKEN}`,
      });
      expect(err).to.be.instanceOf(CredentialsRefusedError);
      expect(err.message).to.equal(
        "github archive of acme/api led to a web page (text/html), not a zip: likely a sign-in page, the credential was not accepted",
      );
    });
  }

  // A repository or group named login or sso: its page is no sign-in page, however its path ends.
  for (const page of ["/acme/login", "/acme/sso", "/acme/login/"]) {
    it(`downloadArchive does not blame the credentials for the web page at ${page} the host sent them on to (a repository's, not a sign-in page)`, async () => {
      server = await scriptedServer(
        (req): Reply =>
          req.url === page
            ? webPage("<html>acme / login</html>")
            : { status: 302, headers: { location: page } },
      );
      const err = await downloadError(
        `${server.url}/acme/login/get/${"a".repeat(40)}.zip`,
        { authorization: `Bearer ${HOST_TOKEN}` },
        "bitbucket archive of acme/login",
      );
      expect(err).to.not.be.instanceOf(CredentialsRefusedError);
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "bitbucket archive of acme/login led to a web page (text/html), not a zip: likely a sign-in or error page a redirect led to",
      );
    });
  }

  it("downloadArchive does not blame a token GitHub Enterprise Server sent on to its own /codeload/ (no subdomain isolation) for the error page there: final, no token re-read", async () => {
    const sha = "a".repeat(40);
    server = await scriptedServer(
      (req): Reply =>
        req.url.startsWith("/codeload/")
          ? webPage("<html>502 Bad Gateway</html>")
          : { status: 302, headers: { location: `/codeload/acme/api/legacy.zip/${sha}?token=SIGNED123456` } },
    );
    const err = await downloadError(`${server.url}/api/v3/repos/acme/api/zipball/${sha}`, {
      authorization: `Bearer ${HOST_TOKEN}`,
    });
    // The same origin: the token went on to /codeload/ and worked there; the page is a proxy's.
    expect(server.seen.map((r) => r.headers.authorization)).to.deep.equal([
      `Bearer ${HOST_TOKEN}`,
      `Bearer ${HOST_TOKEN}`,
    ]);
    expect(err).to.not.be.instanceOf(CredentialsRefusedError);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "github archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page a redirect led to",
    );
  });

  it("downloadArchive does not blame the credentials for a sign-in page reached on its own origin after a hop to another origin dropped them", async () => {
    // A -> B (the credentials dropped) -> A/back -> A/login: the request A/back redirected carried no token.
    let aUrl = "";
    const b = await scriptedServer(() => ({ status: 302, headers: { location: `${aUrl}/back` } }));
    server = await scriptedServer((req): Reply => {
      if (req.url.startsWith("/login")) {
        return webPage("<html>Log in</html>");
      }
      if (req.url.startsWith("/back")) return { status: 302, headers: { location: "/login?next=x" } };
      return { status: 302, headers: { location: `${b.url}/sso` } };
    });
    aUrl = server.url;
    try {
      const err = await downloadError(
        `${server.url}/acme/api/get/${"a".repeat(40)}.zip`,
        { authorization: `Bearer ${HOST_TOKEN}` },
        "bitbucket archive of acme/api",
      );
      expect(server.seen.map((r) => [r.url.split("?")[0], r.headers.authorization])).to.deep.equal([
        [`/acme/api/get/${"a".repeat(40)}.zip`, `Bearer ${HOST_TOKEN}`],
        ["/back", undefined],
        ["/login", undefined],
      ]);
      expect(err).to.not.be.instanceOf(CredentialsRefusedError);
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page a redirect led to",
      );
    } finally {
      await b.close();
    }
  });

  it("downloadArchive does not blame the credentials of a source that sends none for the sign-in page of its own origin", async () => {
    server = await scriptedServer(
      (req): Reply =>
        req.url.startsWith("/account/signin/")
          ? webPage("<html>Log in</html>")
          : { status: 302, headers: { location: "/account/signin/?next=%2Facme" } },
    );
    const err = await downloadError(
      `${server.url}/acme/api/get/${"a".repeat(40)}.zip`,
      {},
      "bitbucket archive of acme/api",
    );
    expect(err).to.not.be.instanceOf(CredentialsRefusedError);
    expect(err.message).to.equal(
      "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page a redirect led to",
    );
  });

  it("downloadArchive fails final on a web page answered without a redirect, but not as a refused credential: no redirect sent it there", async () => {
    server = await scriptedServer(() =>
      webPage("<html>Access denied by the proxy</html>", "text/html; charset=utf-8"),
    );
    const err = await downloadError(`${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`);
    expect(err).to.not.be.instanceOf(CredentialsRefusedError);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "github archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page of something in front of the host",
    );
  });

  it("downloadArchive names the other origin a redirect led to without the token, which the server wrote into its host name", async () => {
    const token = "Ghp_MixedCaseToken12345678";
    // Port 9 on this machine: nobody listens, so the hop fails at once, naming the origin it called.
    server = await scriptedServer(() => ({
      status: 302,
      headers: { location: `http://${token}.canary.test:9/archive.zip` },
    }));
    // Every host name is this machine: no resolver is asked.
    const dispatcher = new Agent({
      connect: { lookup: (_host, _options, done) => done(null, [{ address: "127.0.0.1", family: 4 }]) },
    });
    try {
      const source = {
        url: `${server.url}/repos/acme/api/zipball/${"a".repeat(40)}`,
        headers: { authorization: `Bearer ${token}` },
        dispatcher,
      };
      const err = await rejectsWithActionError(
        downloadArchive(
          source,
          join(tmpdir(), "never-written.zip"),
          testClients(),
          "github archive of acme/api",
        ),
      );
      expect(err.message).to.equal(
        "github archive of acme/api could not be reached: ECONNREFUSED (nothing accepts connections at http://[redacted].canary.test:9: is it running there, on that port?)",
      );
    } finally {
      await dispatcher.close();
    }
  });
});

describe("Function: downloadArchive on a 200 that may not be a zip", () => {
  const servers: ScriptedServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const serve = async (answer: (req: Seen) => Reply) => {
    const s = await scriptedServer(answer);
    servers.push(s);
    return s;
  };
  const download = (
    url: string,
    headers: Record<string, string> = { authorization: `Bearer ${HOST_TOKEN}` },
  ) => downloadOnce(url, headers, "bitbucket archive of acme/api");

  it("downloadArchive takes a body that begins with P but not PK (a plain-text refusal) for no zip", async () => {
    const s = await serve(() => ({
      status: 200,
      headers: { "content-type": "text/plain" },
      body: "Please log in",
    }));
    const err = await rejectsWithActionError(download(`${s.url}/acme/api/get/x.zip`));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "bitbucket archive of acme/api led to a web page (text/plain), not a zip: likely a sign-in or error page of something in front of the host",
    );
  });

  it("downloadArchive says a non-zip 200 without a Content-Type is not a zip, naming no media type and no web page", async () => {
    const s = await serve(() => ({ status: 200, body: "<html>Log in</html>" }));
    const err = await rejectsWithActionError(download(`${s.url}/acme/api/get/x.zip`));
    expect(err).to.not.be.instanceOf(CredentialsRefusedError);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "bitbucket archive of acme/api answered 200 with a body that is not a zip (it does not begin with PK)",
    );
  });

  it("downloadArchive reads a Content-Type in any case and with a space before its parameters (Text/HTML ; charset=UTF-8) as a web page", async () => {
    const s = await serve(() => ({
      status: 200,
      headers: { "content-type": "Text/HTML ; charset=UTF-8" },
      body: "<html>Log in</html>",
    }));
    const err = await rejectsWithActionError(download(`${s.url}/acme/api/get/x.zip`));
    expect(err.message).to.equal(
      "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page of something in front of the host",
    );
  });

  it("downloadArchive does not blame the credentials for a sign-in page of the host's origin reached back through another origin, which dropped them", async () => {
    let host: ScriptedServer | undefined;
    const other = await serve(() => ({ status: 302, headers: { location: `${host?.url}/account/signin/` } }));
    host = await serve(
      (req): Reply =>
        req.url.startsWith("/account/signin/")
          ? webPage("<html>Log in</html>")
          : { status: 302, headers: { location: `${other.url}/bounce` } },
    );
    const err = await rejectsWithActionError(download(`${host.url}/acme/api/get/x.zip`));
    expect(host.seen.map((r) => r.headers.authorization)).to.deep.equal([`Bearer ${HOST_TOKEN}`, undefined]);
    expect(err).to.not.be.instanceOf(CredentialsRefusedError);
    expect(err.message).to.equal(
      "bitbucket archive of acme/api led to a web page (text/html), not a zip: likely a sign-in or error page a redirect led to",
    );
  });

  it("downloadArchive does not name the token a server echoes into the Content-Type of a page that is no zip", async () => {
    const token = "hostcanarytoken1234567890";
    const s = await serve(() => ({
      status: 200,
      headers: { "content-type": `text/${token}` },
      body: "<html></html>",
    }));
    const err = await rejectsWithActionError(
      download(`${s.url}/acme/api/get/x.zip`, { authorization: `Bearer ${token}` }),
    );
    expect(err.message).to.contain("led to a web page (text/").and.not.contain(token);
  });

  it("downloadArchive returns an empty 200 as 0 bytes read (a download cut short), not as a body that is no zip", async () => {
    const s = await serve(() => ({ status: 200, headers: { "content-type": "text/html" } }));
    expect(await download(`${s.url}/acme/api/get/x.zip`)).to.equal(0);
  });
});

/** One answer of binaryHost's. */
type HostReply = { status: number; headers?: Record<string, string>; body?: Buffer };

/** A Git host on 127.0.0.1 whose every GET answers `answer(path)`, binary bodies allowed; it records each request. */
async function binaryHost(
  answer: (path: string) => HostReply,
): Promise<{ url: string; seen: Array<{ path: string; authorization?: string }>; close(): Promise<void> }> {
  const seen: Array<{ path: string; authorization?: string }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? "", authorization: req.headers.authorization });
    const reply = answer(req.url ?? "");
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body ?? Buffer.alloc(0));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An object store that keeps the zips put, in memory. */
function memoryObjects(): ObjectStore & { zips: Buffer[] } {
  const zips: Buffer[] = [];
  return {
    zips,
    head: async () => undefined,
    put: async (_bucket, _key, body) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      zips.push(Buffer.concat(chunks));
      return {};
    },
    deletePrefix: async () => 0,
  };
}

describe("Function: uploadSourceZip's archive redirects on the host's own origin", () => {
  let served: Awaited<ReturnType<typeof binaryHost>> | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });
  const zipRequest = (provider: Provider, apiUrl: string): S3ZipRequest => ({
    type: "s3-zip",
    api: { provider, apiUrl, token: "hookgate/github-token" },
    bucket: BUCKET,
    key: "acme/api/main/acme_api.zip",
  });

  it("uploadSourceZip does not send the token to a path of the origin outside the Gitea install's sub-path (/gitea)", async () => {
    const zip = await buildZip({ "buildspec.yml": "version: 0.2\n" }, "api");
    served = await binaryHost(
      (path): HostReply =>
        path === `/gitea/api/v1/repos/acme/api/archive/${SHA}.zip`
          ? { status: 302, headers: { location: "/other-app/collect" } }
          : { status: 200, headers: { "content-type": "application/zip" }, body: zip },
    );
    const outcome = await upload(
      zipRequest("gitea", `${served.url}/gitea/api/v1`),
      pushEvent({ provider: "gitea" }),
      testClients({ objects: memoryObjects() }),
    );
    expect(outcome.status).to.equal("done");
    expect(served.seen.map((r) => [r.path, r.authorization])).to.deep.equal([
      [`/gitea/api/v1/repos/acme/api/archive/${SHA}.zip`, `token ${HOST_TOKEN}`],
      ["/other-app/collect", undefined],
    ]);
  });

  it("uploadSourceZip keeps the token on a redirect within the Gitea install's sub-path (/gitea/...)", async () => {
    const zip = await buildZip({ "buildspec.yml": "version: 0.2\n" }, "api");
    served = await binaryHost(
      (path): HostReply =>
        path.startsWith("/gitea/api/v1/")
          ? { status: 302, headers: { location: "/gitea/acme/api/archive/cached.zip" } }
          : { status: 200, headers: { "content-type": "application/zip" }, body: zip },
    );
    await upload(
      zipRequest("gitea", `${served.url}/gitea/api/v1`),
      pushEvent({ provider: "gitea" }),
      testClients({ objects: memoryObjects() }),
    );
    expect(served.seen.map((r) => r.authorization)).to.deep.equal([
      `token ${HOST_TOKEN}`,
      `token ${HOST_TOKEN}`,
    ]);
  });

  // Without subdomain isolation GHES serves codeload at https://HOSTNAME/codeload/ (GitHub's "Enabling subdomain
  // isolation" table), on the API's origin.
  it("uploadSourceZip follows GitHub Enterprise Server's redirect to /codeload/ at its root (apiUrl …/api/v3, no subdomain isolation) and zips the archive", async () => {
    const zip = await buildZip({ "buildspec.yml": "version: 0.2\n" }, `acme-api-${SHA.slice(0, 7)}`);
    served = await binaryHost(
      (path): HostReply =>
        path.startsWith("/api/v3/")
          ? {
              status: 302,
              headers: { location: `/codeload/acme/api/legacy.zip/${SHA}?token=SIGNEDTOKEN1234` },
            }
          : { status: 200, headers: { "content-type": "application/zip" }, body: zip },
    );
    const objects = memoryObjects();
    const outcome = await upload(
      zipRequest("github", `${served.url}/api/v3`),
      pushEvent(),
      testClients({ objects }),
    );
    expect(outcome.status).to.equal("done");
    expect(served.seen.map((r) => r.path)).to.deep.equal([
      `/api/v3/repos/acme/api/zipball/${SHA}`,
      `/codeload/acme/api/legacy.zip/${SHA}?token=SIGNEDTOKEN1234`,
    ]);
    expect([...(await readZip(objects.zips[0] as Buffer)).keys()]).to.deep.equal(["buildspec.yml"]);
  });

  it("uploadSourceZip does not take a 401 from a path out of the install, which got no token, for a refused token: final, the secret not read again", async () => {
    served = await binaryHost(
      (path): HostReply =>
        path.startsWith("/gitea/")
          ? { status: 302, headers: { location: "/sso/authorize" } }
          : { status: 401, body: Buffer.from('{"message":"sign in"}') },
    );
    const secrets = new MemorySecretStore({ "hookgate/github-token": HOST_TOKEN });
    const err = await rejectsWithActionError(
      upload(
        zipRequest("gitea", `${served.url}/gitea/api/v1`),
        pushEvent({ provider: "gitea" }),
        testClients({ secrets, objects: memoryObjects() }),
      ),
    );
    expect(err).to.not.be.instanceOf(CredentialsRefusedError);
    expect(err.retryable).to.equal(false);
    expect(secrets.reads, "token secret reads").to.have.length(1);
    expect(served.seen.filter((r) => r.path === "/sso/authorize")).to.have.length(1);
  });

  // The hint is about the route's own token: a hop on another origin (a signed storage URL) got none.
  for (const [hop, redirected, hinted] of [
    ["the first hop, which carried the token", false, true],
    ["a hop on another origin, which got no token", true, false],
  ] as const) {
    it(`uploadSourceZip's final 403 for a Bitbucket Cloud archive from ${hop}, ${hinted ? "gives" : "does not give"} the token's missing-scope hint`, async () => {
      served = await binaryHost((path): HostReply => {
        if (redirected && path.startsWith("/acme/api/get/")) {
          const port = new URL(served?.url ?? "").port;
          return { status: 302, headers: { location: `http://localhost:${port}/signed/archive.zip` } };
        }
        return { status: 403, body: Buffer.from('{"error":{"message":"Forbidden"}}') };
      });
      const err = await rejectsWithActionError(
        upload(
          zipRequest("bitbucket", `${served.url}/2.0`),
          pushEvent({ provider: "bitbucket" }),
          testClients({ objects: memoryObjects() }),
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("403");
      if (hinted) expect(err.message).to.contain("likely a missing scope");
      else expect(err.message).to.not.contain("likely a missing scope");
      expect(served.seen.map((r) => r.authorization !== undefined)).to.deep.equal(
        redirected ? [true, false] : [true],
      );
    });
  }
});

describe("Function: uploadSourceZip on Bitbucket Data Center's 404 for the archive", () => {
  const TAG_OBJECT = "7a9e0c1d2b3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b";
  let server: ScriptedServer;
  beforeEach(async () => {
    // Data Center's answer to an `at` it cannot resolve to a commit (NoSuchCommitException).
    server = await scriptedServer(() =>
      json(
        {
          errors: [
            {
              context: null,
              message: `Commit '${TAG_OBJECT}' does not exist in repository 'api'.`,
              exceptionName: "com.atlassian.bitbucket.commit.NoSuchCommitException",
            },
          ],
        },
        404,
      ),
    );
  });
  afterEach(() => server.close());

  // No zip at the key yet; the upload is never reached.
  const objects: ObjectStore = {
    head: async () => undefined,
    put: async () => {
      throw new Error("not reached");
    },
    deletePrefix: async () => 0,
  };
  const request = (): S3ZipRequest => ({
    type: "s3-zip",
    api: {
      provider: "bitbucket-server",
      apiUrl: `${server.url}/rest/api/latest`,
      token: "hookgate/github-token",
    },
    bucket: BUCKET,
    key: "ACME/api/tags/v1.0.zip",
  });
  const push = (overrides: Partial<QueuedEvent>): QueuedEvent =>
    pushEvent({
      provider: "bitbucket-server",
      repo: { owner: "ACME", name: "api", fullName: "ACME/api", defaultBranch: "main" },
      sha: TAG_OBJECT,
      ...overrides,
    });

  it("uploadSourceZip fails a tag push's 404 final on its first attempt, naming the annotated tag's object id as the likely cause", async () => {
    const tagPush = push({ ref: "refs/tags/v1.0", branch: undefined, tag: "v1.0" });
    const err = await rejectsWithActionError(upload(request(), tagPush, testClients({ objects })));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      `bitbucket-server archive of ACME/api answered 404: Commit '${TAG_OBJECT}' does not exist in repository ` +
        "'api'; not retried: a tag push's sha on Bitbucket Data Center is, for an annotated tag (git tag -a), " +
        "the tag object's id, not a commit, which the server may refuse as the archive's at (else a wrong " +
        "repository, or a token that may not read it): zip branches only on Data Center, or push lightweight tags",
    );
  });

  it("uploadSourceZip retries a branch push's 404 on Data Center, going on from the server's sentence without its period", async () => {
    const err = await rejectsWithActionError(upload(request(), push({}), testClients({ objects })));
    expect(err.retryable).to.equal(true);
    expect(err.message).to.equal(
      `bitbucket-server archive of ACME/api answered 404: Commit '${TAG_OBJECT}' does not exist in repository ` +
        "'api': retried, as a host can answer 404 for a commit just pushed until it has replicated it",
    );
  });

  it("uploadSourceZip retries a tag push's 404 on every host but Data Center, without Data Center's annotated-tag cause", async () => {
    // [provider, API path]: their tag pushes name a commit, so a 404 is replication lag as for a branch.
    const hosts: Array<[Provider, string]> = [
      ["github", ""],
      ["gitlab", "/api/v4"],
      ["gitea", "/api/v1"],
    ];
    for (const [provider, apiPath] of hosts) {
      const tagPush = push({ provider, ref: "refs/tags/v1.0", branch: undefined, tag: "v1.0" });
      const err = await rejectsWithActionError(
        upload(
          { ...request(), api: { ...request().api, provider, apiUrl: `${server.url}${apiPath}` } },
          tagPush,
          testClients({ objects }),
        ),
      );
      expect(err.retryable, provider).to.equal(true);
      expect(err.message, provider).to.match(/: retried, as a host can answer 404 for a commit just pushed/);
      expect(err.message, provider).to.not.contain("annotated");
    }
  });
});

describe("Function: uploadSourceZip on Bitbucket Data Center, whose archive has no top folder of its own", () => {
  let served: Awaited<ReturnType<typeof binaryHost>> | undefined;
  afterEach(async () => {
    await served?.close();
    served = undefined;
  });

  it("uploadSourceZip keeps a Data Center repository's own single folder (app/), as Data Center writes none to remove, and says nothing of it", async () => {
    const zip = await buildZip({ "buildspec.yml": "version: 0.2\n", "main.go": "package main\n" }, "app");
    served = await binaryHost(() => ({
      status: 200,
      headers: { "content-type": "application/zip" },
      body: zip,
    }));
    const objects = memoryObjects();
    const c = testClients({ objects });
    const outcome = await upload(
      {
        type: "s3-zip",
        api: {
          provider: "bitbucket-server",
          apiUrl: `${served.url}/rest/api/latest`,
          token: "hookgate/github-token",
        },
        bucket: BUCKET,
        key: "ACME/api/main.zip",
      },
      pushEvent({
        provider: "bitbucket-server",
        repo: { owner: "ACME", name: "api", fullName: "ACME/api", defaultBranch: "main" },
      }),
      c,
    );
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.not.contain("kept");
    const names = [...(await readZip(objects.zips[0] as Buffer)).keys()]
      .filter((n) => !n.endsWith("/"))
      .sort();
    expect(names).to.deep.equal(["app/buildspec.yml", "app/main.go"]);
    expect(c.logs.filter((l) => l.level === "warn")).to.deep.equal([]);
  });
});
