// s3-zip's supersedes-chain check asks the Git host for the branch's head; an answer whose commit is a JSON
// value that is no string (a number, a list, an object) is no head: retried as any answer without its commit,
// never a TypeError (`head.toLowerCase is not a function`) that dead-letters the delivery as a bug.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { GitHostClient } from "../../src/actions/gitHost/types";
import { readBranchHead, uploadSourceZip } from "../../src/actions/s3Zip";
import { ActionError } from "../../src/core/errors";
import type { QueuedEvent, S3ZipRequest } from "../../src/core/types";
import { FsObjectStore } from "../../src/local/fsObjectStore";
import { buildZip } from "../support/zips";
import { rejectsWithActionError, testClients } from "./helpers";

const FIRST = "c0ffee0000000000000000000000000000000001";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const NEWER = "89abcdef0123456789abcdef0123456789abcdef";

const NOT_A_STRING: Array<[string, unknown]> = [
  ["a number", 1234567],
  ["a list", [SHA]],
  ["an object", { id: SHA }],
  // A string, but no commit: taken as a head, it would confirm nothing and upload over the newer zip.
  ["an empty string", ""],
];

const push = (sha: string, before: string, deliveryId: string): QueuedEvent => ({
  provider: "github",
  deliveryId,
  event: "push",
  repo: { owner: "acme", name: "api", fullName: "acme/api", defaultBranch: "main" },
  ref: "refs/heads/main",
  branch: "main",
  sha,
  before,
  fastForward: true,
  deleted: false,
});

describe("Function: uploadSourceZip when the Git host's head of the branch is not a string", () => {
  let server: http.Server;
  let url: string;
  let root: string;
  let head: unknown;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "hookgate-head-"));
    const zips = new Map<string, Buffer>();
    for (const sha of [SHA, NEWER]) {
      zips.set(
        sha,
        await buildZip({ "buildspec.yml": `version: 0.2 # ${sha}\n` }, `acme-api-${sha.slice(0, 7)}`),
      );
    }
    server = http.createServer((req, res) => {
      const zipball = /^\/repos\/acme\/api\/zipball\/([0-9a-f]{40})$/.exec(req.url ?? "");
      if (zipball) {
        res.writeHead(200, { "content-type": "application/zip" });
        res.end(zips.get(zipball[1] as string));
      } else if (req.url === "/repos/acme/api/git/ref/heads/main") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ref: "refs/heads/main", object: { type: "commit", sha: head } }));
      } else {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: "Not Found" }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await rm(root, { recursive: true, force: true });
  });

  for (const [kind, value] of NOT_A_STRING) {
    it(`uploadSourceZip fails retryable, keeping the newer zip, when the late older push's branch head at the host is ${kind}`, async () => {
      head = value;
      const request: S3ZipRequest = {
        type: "s3-zip",
        api: { provider: "github", apiUrl: url, token: "hookgate/github-token" },
        bucket: "artifacts",
        key: "acme/api/main.zip",
      };
      const objects = new FsObjectStore(root);
      // The newer push (SHA -> NEWER) is zipped first; the older one (FIRST -> SHA) comes late, so the chain
      // asks the host for the branch's head.
      await uploadSourceZip(request, push(NEWER, SHA, "push-2"), testClients({ objects }), {
        acceptedAt: "2026-12-06T01:00:00.000Z",
      });
      const err = await rejectsWithActionError(
        uploadSourceZip(request, push(SHA, FIRST, "push-1"), testClients({ objects }), {
          acceptedAt: "2026-12-06T02:00:00.000Z",
        }),
      );
      expect(err.retryable).to.equal(true);
      expect(err.message).to.contain("head of branch main could not be read");
      expect(err.message).to.contain('did not say which commit branch "main" points at');
      expect((await objects.head("artifacts", "acme/api/main.zip"))?.metadata.sha).to.equal(NEWER);
    });
  }
});

describe("Function: readBranchHead given a client whose head is not a string", () => {
  for (const [kind, value] of NOT_A_STRING) {
    it(`readBranchHead answers a retryable failure, not a head, when the client gives ${kind}`, async () => {
      const client = { branchHead: async () => value } as unknown as GitHostClient;
      const answer = await readBranchHead(async () => client, push(SHA, FIRST, "push-1"));
      expect(answer).to.not.have.property("head");
      expect(answer).to.have.property(
        "error",
        'the Git host did not say which commit branch "main" points at',
      );
      const failure = (answer as { failure?: unknown }).failure;
      expect(failure).to.be.instanceOf(ActionError);
      expect((failure as ActionError).retryable).to.equal(true);
    });
  }

  it("readBranchHead answers the client's head, and undefined for no such branch, as they are", async () => {
    for (const value of [SHA, undefined]) {
      const client = { branchHead: async () => value } as unknown as GitHostClient;
      expect(await readBranchHead(async () => client, push(SHA, FIRST, "push-1"))).to.deep.equal({
        head: value,
      });
    }
  });
});
