// The local stand-ins behind `hookgate serve`: object store paths, dedupe semantics, the persistent
// FIFO queue, the secrets file. Real files in a temp dir; no servers.

import { execFileSync } from "node:child_process";
import { createHash, pbkdf2 } from "node:crypto";
import fs, {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { connect, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import type { SQSEvent } from "aws-lambda";
import { expect } from "chai";
import fc from "fast-check";
import {
  ActionError,
  ObjectChangedError,
  SecretNotFoundError,
  WorkItemTooLargeError,
} from "../../src/core/errors";
import { DEDUPE_TTL_SECONDS, MAX_WORK_ITEM_BYTES, REDRIVE_MARGIN } from "../../src/core/policy";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome, RoutesConfig, WorkItem } from "../../src/core/types";
import { DeliveryLog } from "../../src/local/deliveryLog";
import { FileDedupeStore } from "../../src/local/fileDedupeStore";
import { FileSecretStore, SecretsFileError } from "../../src/local/fileSecretStore";
import {
  FsObjectStore,
  METADATA_SUFFIX,
  ObjectKeyError,
  ObjectMetadataError,
} from "../../src/local/fsObjectStore";
import { JournalFile } from "../../src/local/journalFile";
import { startLocalGateway } from "../../src/local/localGateway";
import { LocalQueue } from "../../src/local/localQueue";
import { ensureWebhookSecrets } from "../../src/local/localSecrets";
import { boundedJsonValue, samplesAtSmallAgree } from "../support/jsonValues";
import { fillingDisk, localWorkItem, ROUTE_R_YAML } from "../support/localStores";
import { runs } from "../support/propertyRuns";
import { githubHeaders } from "./serveHarness";

/** The SHA-256 of `text` in hex: FsObjectStore's ETag (quoted) and what its metadata records. */
function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hookgate-local-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("Class: FsObjectStore", () => {
  const refused = [
    "../escape.zip",
    "a/../../escape.zip",
    "/etc/passwd",
    "a//b.zip",
    "./a.zip",
    "a/./b",
    "",
    "a\\..\\b",
    "x\u0000y",
  ];
  for (const key of refused) {
    it(`put(bucket, ${JSON.stringify(key)}) is refused with a final ObjectKeyError and writes nothing`, async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      let error: unknown;
      try {
        await store.put("bucket-a", key, Readable.from([Buffer.from("zip")]), { metadata: {} });
      } catch (caught) {
        error = caught;
      }
      expect(error).to.be.instanceOf(ObjectKeyError);
      expect((error as ObjectKeyError).retryable).to.equal(false);
      expect(readdirSync(dir)).to.satisfy((names: string[]) => !names.includes("escape.zip"));
    });
  }

  it("put refuses, final, a key named as the temporary files of its metadata writes (serve's start removes those)", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    for (const key of ["a/.b.metadata.json.0123456789ab.tmp", ".x.metadata.json.abcdef012345.tmp/c.zip"]) {
      const error = await store
        .put("bucket-a", key, Readable.from([Buffer.from("z")]), { metadata: {} })
        .catch((e: unknown) => e);
      expect(error, key).to.be.instanceOf(ObjectKeyError);
    }
    await store.put("bucket-a", "a/.b.zip.0123456789ab.tmp", Readable.from([Buffer.from("z")]), {
      metadata: {},
    });
  });

  it("put refuses a bucket name that is not an S3 bucket name (../x)", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    let error: unknown;
    await store.put("../x", "k", Readable.from([Buffer.from("z")]), { metadata: {} }).catch((e) => {
      error = e;
    });
    expect(error).to.be.instanceOf(ObjectKeyError);
  });

  it("put writes <bucket>/<key> and <key>.metadata.json; deletePrefix deletes only under the prefix", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    const put = (key: string) =>
      store.put("bucket-a", key, Readable.from([Buffer.from(key)]), {
        metadata: { sha: "abc" },
        contentType: "application/zip",
      });
    await put("api/pr-1/site.zip");
    await put("api/pr-1/deep/x.txt");
    await put("api/pr-10/site.zip");
    expect(readFileSync(join(dir, "s3", "bucket-a", "api", "pr-1", "site.zip"), "utf8")).to.equal(
      "api/pr-1/site.zip",
    );
    const meta = JSON.parse(
      readFileSync(join(dir, "s3", "bucket-a", "api", "pr-1", "site.zip.metadata.json"), "utf8"),
    );
    expect(meta).to.deep.equal({
      contentType: "application/zip",
      metadata: { sha: "abc" },
      object: { size: 17, sha256: sha256("api/pr-1/site.zip") },
    });
    expect(await store.deletePrefix("bucket-a", "api/pr-1/")).to.equal(2);
    expect(readFileSync(join(dir, "s3", "bucket-a", "api", "pr-10", "site.zip"), "utf8")).to.equal(
      "api/pr-10/site.zip",
    );
  });

  describe("deletePrefix reads its prefix as S3's ListObjectsV2 does: a plain string prefix of the key", () => {
    const keys = ["a.zip", "..x/y", "d/..b", "d/pr-1/x", "d/pr-12.zip", "d/pr-12/x", "d/pr-123/x", "d/pr-2"];
    const cases: Array<[string, string[], string]> = [
      ["d/pr-12", ["d/pr-12.zip", "d/pr-12/x", "d/pr-123/x"], "a partial name matches longer names"],
      ["d/pr-12/", ["d/pr-12/x"], "a whole folder"],
      ["..", ["..x/y"], "a key may begin with '..' where its segment is longer"],
      ["d/..", ["d/..b"], "'..' is plain text, not a step up"],
      ["d/../", [], "no key can hold a '..' segment, so none starts so"],
      ["../", [], "the same, and nothing outside the bucket goes"],
    ];
    for (const [prefix, gone, what] of cases) {
      it(`deletePrefix(bucket, ${JSON.stringify(prefix)}) deletes ${gone.length === 0 ? "nothing" : gone.join(", ")}: ${what}`, async () => {
        const store = new FsObjectStore(join(dir, "s3"));
        const put = (bucket: string, key: string) =>
          store.put(bucket, key, Readable.from([Buffer.from(key)]), { metadata: { sha: "x" } });
        for (const key of keys) await put("bucket-a", key);
        await put("bucket-b", "d/pr-12/x");
        expect(await store.deletePrefix("bucket-a", prefix)).to.equal(gone.length);
        const left: string[] = [];
        for (const key of keys) if ((await store.head("bucket-a", key))?.metadata.sha === "x") left.push(key);
        expect(left).to.deep.equal(keys.filter((key) => !gone.includes(key)));
        expect((await store.head("bucket-b", "d/pr-12/x"))?.metadata).to.deep.equal({ sha: "x" });
      });
    }
  });

  it("deletePrefix deletes the metadata a failed put on a new key left without its object, counting no object, and the folder that leaves empty: a key naming that folder can be put", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    await store.put("bucket-a", "d/pr-1/a.zip", Readable.from([Buffer.from("zip")]), { metadata: {} });
    // What a put on a new key whose object rename failed leaves: the metadata, no object.
    rmSync(join(dir, "s3", "bucket-a", "d", "pr-1", "a.zip"));
    expect(await store.deletePrefix("bucket-a", "d/pr-1/")).to.equal(0);
    expect(existsSync(join(dir, "s3", "bucket-a", "d", "pr-1"))).to.equal(false);
    await store.put("bucket-a", "d/pr-1", Readable.from([Buffer.from("file")]), { metadata: { sha: "f" } });
    expect((await store.head("bucket-a", "d/pr-1"))?.metadata).to.deep.equal({ sha: "f" });
  });

  for (const prefix of ["", "/"]) {
    it(`deletePrefix refuses the prefix ${JSON.stringify(prefix)}, final, and deletes nothing, as the deployed store does`, async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "a.zip", Readable.from([Buffer.from("zip")]), { metadata: {} });
      const err = await store.deletePrefix("bucket-a", prefix).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ObjectKeyError);
      expect((err as ObjectKeyError).message).to.contain("empty prefix");
      expect((err as ObjectKeyError).retryable).to.equal(false);
      expect(readFileSync(join(dir, "s3", "bucket-a", "a.zip"), "utf8")).to.equal("zip");
    });
  }

  // An immutable file (chattr +i: EPERM even as root, as the tests run; a read-only folder gives a user EACCES).
  it("deletePrefix goes on past a file the disk refuses to delete, then fails final naming the count, code and key, as S3ObjectStore does for a refused key", async function () {
    const store = new FsObjectStore(join(dir, "s3"));
    for (let i = 0; i < 10; i++) {
      await store.put("bucket-a", `pr-7/${i}.js`, Readable.from([Buffer.from("x")]), { metadata: {} });
    }
    const folder = join(dir, "s3", "bucket-a", "pr-7");
    // The first object the walk reads: the refusal comes before the others.
    const first = readdirSync(folder).find((name) => !name.endsWith(METADATA_SUFFIX)) as string;
    const locked = join(folder, first);
    try {
      execFileSync("chattr", ["+i", locked], { stdio: "ignore" });
    } catch {
      this.skip();
    }
    try {
      const err = await store.deletePrefix("bucket-a", "pr-7/").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(readdirSync(folder).filter((name) => !name.endsWith(METADATA_SUFFIX))).to.deep.equal([first]);
      expect(err).to.be.instanceOf(ActionError);
      expect((err as ActionError).retryable).to.equal(false);
      expect((err as ActionError).message).to.equal(
        `the local store could not delete 1 of 10 objects under s3://bucket-a/pr-7/: EPERM (1) (the files' permissions); ` +
          `first "pr-7/${first}" (a retry cannot change that)`,
      );
    } finally {
      execFileSync("chattr", ["-i", locked], { stdio: "ignore" });
    }
  });

  // readdir refused: a folder's refusal ended the walk with a bare Error, nothing else deleted (review h379).
  // Root reads any folder whatever its mode, and the tests run as root: readdir is made to refuse the folder
  // with EACCES, as a folder with mode 000 does for a user.
  it("deletePrefix goes on past a folder the disk refuses to list, then fails final naming it, as for a refused file", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    const put = (key: string) =>
      store.put("bucket-a", key, Readable.from([Buffer.from("x")]), { metadata: {} });
    await put("pr-7/a/index.js");
    await put("pr-7/locked/x.js");
    await put("pr-7/z.js");
    const locked = join(dir, "s3", "bucket-a", "pr-7", "locked");
    const realReaddir = fs.promises.readdir;
    fs.promises.readdir = (async (path: fs.PathLike, ...rest: unknown[]) => {
      if (String(path) === locked) {
        throw Object.assign(new Error(`EACCES: permission denied, scandir '${locked}'`), { code: "EACCES" });
      }
      return (realReaddir as (path: fs.PathLike, ...rest: unknown[]) => Promise<unknown>)(path, ...rest);
    }) as typeof fs.promises.readdir;
    try {
      const err = await store.deletePrefix("bucket-a", "pr-7/").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(existsSync(join(dir, "s3", "bucket-a", "pr-7", "z.js"))).to.equal(false);
      expect(existsSync(join(dir, "s3", "bucket-a", "pr-7", "a", "index.js"))).to.equal(false);
      expect(err).to.be.instanceOf(ActionError);
      expect((err as ActionError).retryable).to.equal(false);
      expect((err as ActionError).message).to.contain("EACCES (1)");
      expect((err as ActionError).message).to.contain('first "pr-7/locked/"');
      // Only the refused folder is left, with what it holds.
      expect(existsSync(join(locked, "x.js"))).to.equal(true);
    } finally {
      fs.promises.readdir = realReaddir;
    }
  });

  it("head gives back the metadata put stored, and undefined where no object is (a missing key, a folder)", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    const metadata = { sha: "abc", "accepted-at": "2026-12-06T02:00:00.000Z", "delivery-id": "d-1" };
    await store.put("bucket-a", "acme/api/main/a.zip", Readable.from([Buffer.from("zip")]), { metadata });
    expect(await store.head("bucket-a", "acme/api/main/a.zip")).to.deep.equal({
      metadata,
      etag: `"${sha256("zip")}"`,
    });
    expect(await store.head("bucket-a", "acme/api/main/b.zip")).to.equal(undefined);
    expect(await store.head("bucket-a", "acme/api/main")).to.equal(undefined);
    expect(await store.head("bucket-a", "acme/api/main/a.zip/deeper")).to.equal(undefined);
    expect(await store.head("no-such-bucket", "acme/api/main/a.zip")).to.equal(undefined);
  });

  it("head gives an object whose metadata file is missing or not JSON no metadata, not a failure", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    await store.put("bucket-a", "hand/a.zip", Readable.from([Buffer.from("zip")]), {
      metadata: { sha: "abc" },
    });
    const file = join(dir, "s3", "bucket-a", "hand", "a.zip");
    writeFileSync(`${file}${METADATA_SUFFIX}`, "{ not json");
    const etag = `"${sha256("zip")}"`;
    expect(await store.head("bucket-a", "hand/a.zip")).to.deep.equal({ metadata: {}, etag });
    rmSync(`${file}${METADATA_SUFFIX}`);
    expect(await store.head("bucket-a", "hand/a.zip")).to.deep.equal({ metadata: {}, etag });
  });

  it("head ignores metadata written for another object: what a crash between the metadata's write and the object's rename leaves", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    const put = (key: string, bytes: string, sha: string) =>
      store.put("bucket-a", key, Readable.from([Buffer.from(bytes)]), { metadata: { sha } });
    await put("crash/a.zip", "old zip", "old");
    await put("crash/next.zip", "new zip", "new");
    // The new put wrote its metadata and stopped before it renamed its object into place.
    const file = join(dir, "s3", "bucket-a", "crash", "a.zip");
    writeFileSync(
      `${file}${METADATA_SUFFIX}`,
      readFileSync(join(dir, "s3", "bucket-a", "crash", "next.zip.metadata.json")),
    );
    expect(await store.head("bucket-a", "crash/a.zip")).to.deep.equal({
      metadata: {},
      etag: `"${sha256("old zip")}"`,
    });
  });

  it("head ignores metadata that names no object (written before the metadata recorded one) and one whose object was edited", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    await store.put("bucket-a", "old/a.zip", Readable.from([Buffer.from("zip")]), {
      metadata: { sha: "abc" },
    });
    const file = join(dir, "s3", "bucket-a", "old", "a.zip");
    writeFileSync(`${file}${METADATA_SUFFIX}`, JSON.stringify({ metadata: { sha: "abc" } }));
    expect((await store.head("bucket-a", "old/a.zip"))?.metadata).to.deep.equal({});
    await store.put("bucket-a", "old/a.zip", Readable.from([Buffer.from("zip")]), {
      metadata: { sha: "abc" },
    });
    writeFileSync(file, "zap");
    expect(await store.head("bucket-a", "old/a.zip")).to.deep.equal({
      metadata: {},
      etag: `"${sha256("zap")}"`,
    });
  });

  describe("a put that fails at one of its two writes (the metadata's rename, then the object's)", () => {
    const realRename = fs.promises.rename;
    afterEach(() => {
      fs.promises.rename = realRename;
    });
    const body = (text: string) => Readable.from([Buffer.from(text)]);
    /** Renames onto a path that ends with `suffix` fail with EIO (the metadata's ends with METADATA_SUFFIX). */
    const failRenamesTo = (suffix: string) => {
      fs.promises.rename = async (from: fs.PathLike, to: fs.PathLike) => {
        if (String(to).endsWith(suffix))
          throw Object.assign(new Error("EIO: i/o error, rename"), { code: "EIO" });
        return realRename(from, to);
      };
    };

    const steps: Array<[string, string]> = [
      ["the metadata's rename", `a.zip${METADATA_SUFFIX}`],
      ["the object's rename", "a.zip"],
    ];
    for (const [step, suffix] of steps) {
      it(`a put that fails at ${step} leaves the old object with its own metadata; the next put replaces both`, async () => {
        const store = new FsObjectStore(join(dir, "s3"));
        await store.put("bucket-a", "f/a.zip", body("old zip"), { metadata: { sha: "old" } });
        const old = { metadata: { sha: "old" }, etag: `"${sha256("old zip")}"` };
        failRenamesTo(suffix);
        const error = await store
          .put("bucket-a", "f/a.zip", body("new zip"), {
            metadata: { sha: "new" },
            condition: { ifMatch: old.etag },
          })
          .catch((e: unknown) => e);
        fs.promises.rename = realRename;
        expect((error as NodeJS.ErrnoException).code).to.equal("EIO");
        expect(await store.head("bucket-a", "f/a.zip")).to.deep.equal(old);
        expect(readdirSync(join(dir, "s3", ".tmp"))).to.deep.equal([]);
        await store.put("bucket-a", "f/a.zip", body("newer zip"), {
          metadata: { sha: "newer" },
          condition: { ifMatch: old.etag },
        });
        expect(await store.head("bucket-a", "f/a.zip")).to.deep.equal({
          metadata: { sha: "newer" },
          etag: `"${sha256("newer zip")}"`,
        });
      });
    }

    it("after a failed put, the next put that fails too still leaves the old object with its metadata", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "f/a.zip", body("old zip"), { metadata: { sha: "old" } });
      failRenamesTo("a.zip");
      for (const sha of ["new 1", "new 2"]) {
        await store.put("bucket-a", "f/a.zip", body(sha), { metadata: { sha } }).catch(() => undefined);
      }
      fs.promises.rename = realRename;
      expect((await store.head("bucket-a", "f/a.zip"))?.metadata).to.deep.equal({ sha: "old" });
    });

    it("a failed put over an object that had no metadata leaves it without any, and one on a new key leaves no object", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "f/a.zip", body("hand zip"), { metadata: { sha: "hand" } });
      rmSync(join(dir, "s3", "bucket-a", "f", `a.zip${METADATA_SUFFIX}`));
      failRenamesTo("a.zip");
      for (const key of ["f/a.zip", "g/a.zip"]) {
        await store
          .put("bucket-a", key, body("new zip"), { metadata: { sha: "new" } })
          .catch(() => undefined);
      }
      fs.promises.rename = realRename;
      expect(await store.head("bucket-a", "f/a.zip")).to.deep.equal({
        metadata: {},
        etag: `"${sha256("hand zip")}"`,
      });
      expect(await store.head("bucket-a", "g/a.zip")).to.equal(undefined);
    });
  });

  describe("conditional puts (If-Match / If-None-Match: *, compared with the disk when the object is put in place)", () => {
    const body = (text: string) => Readable.from([Buffer.from(text)]);
    const changed = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ObjectChangedError);
      expect((error as ObjectChangedError).retryable).to.equal(true);
    };

    it("put with If-None-Match: * writes a new key, and is refused where an object is, leaving it and its metadata", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "c/a.zip", body("first"), {
        metadata: { sha: "1" },
        condition: { ifNoneMatch: "*" },
      });
      await changed(
        store.put("bucket-a", "c/a.zip", body("second"), {
          metadata: { sha: "2" },
          condition: { ifNoneMatch: "*" },
        }),
      );
      expect(await store.head("bucket-a", "c/a.zip")).to.deep.equal({
        metadata: { sha: "1" },
        etag: `"${sha256("first")}"`,
      });
      expect(readdirSync(join(dir, "s3", ".tmp"))).to.deep.equal([]);
    });

    it("put with If-Match on the ETag head gave writes; on an ETag the key no longer holds, or where no object is, it is refused", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "c/a.zip", body("first"), { metadata: { sha: "1" } });
      const read = (await store.head("bucket-a", "c/a.zip"))?.etag as string;
      // Another writer puts a zip between this read and this upload.
      await store.put("bucket-a", "c/a.zip", body("other"), { metadata: { sha: "other" } });
      await changed(
        store.put("bucket-a", "c/a.zip", body("mine"), {
          metadata: { sha: "mine" },
          condition: { ifMatch: read },
        }),
      );
      expect((await store.head("bucket-a", "c/a.zip"))?.metadata).to.deep.equal({ sha: "other" });
      const now = (await store.head("bucket-a", "c/a.zip"))?.etag as string;
      await store.put("bucket-a", "c/a.zip", body("mine"), {
        metadata: { sha: "mine" },
        condition: { ifMatch: now },
      });
      expect(readFileSync(join(dir, "s3", "bucket-a", "c", "a.zip"), "utf8")).to.equal("mine");
      await changed(
        store.put("bucket-a", "c/none.zip", body("x"), { metadata: {}, condition: { ifMatch: now } }),
      );
    });

    it("head while a put replaces the object gives the old or the new metadata, never an object without any (an older delivery would then replace it)", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "h/a.zip", body("zip 0"), { metadata: { sha: "0" } });
      const seen: Array<Record<string, string> | undefined> = [];
      for (let round = 1; round <= 20; round++) {
        const put = store.put("bucket-a", "h/a.zip", body(`zip ${round}`), {
          metadata: { sha: String(round) },
        });
        let done = false;
        void put.finally(() => {
          done = true;
        });
        // Heads one after another for as long as the put runs, so one falls between its two writes.
        while (!done) seen.push((await store.head("bucket-a", "h/a.zip"))?.metadata);
        await put;
      }
      expect(seen.filter((metadata) => metadata?.sha === undefined)).to.deep.equal([]);
    });

    it("two puts with If-None-Match: * to one new key at the same time: one writes, the other is refused", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      const results = await Promise.allSettled(
        ["a", "b"].map((sha) =>
          store.put("bucket-a", "race/k.zip", body(`zip ${sha}`), {
            metadata: { sha },
            condition: { ifNoneMatch: "*" },
          }),
        ),
      );
      expect(results.map((r) => r.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(rejected.reason).to.be.instanceOf(ObjectChangedError);
      const head = await store.head("bucket-a", "race/k.zip");
      const winner = head?.metadata.sha as string;
      expect(readFileSync(join(dir, "s3", "bucket-a", "race", "k.zip"), "utf8")).to.equal(`zip ${winner}`);
    });

    it("two puts with If-Match on the same ETag at the same time: one replaces the object, the other is refused", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      await store.put("bucket-a", "race/m.zip", body("base"), { metadata: { sha: "base" } });
      const read = (await store.head("bucket-a", "race/m.zip"))?.etag as string;
      const results = await Promise.allSettled(
        ["a", "b"].map((sha) =>
          store.put("bucket-a", "race/m.zip", body(`zip ${sha}`), {
            metadata: { sha },
            condition: { ifMatch: read },
          }),
        ),
      );
      expect(results.map((r) => r.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
      const head = await store.head("bucket-a", "race/m.zip");
      expect(["a", "b"]).to.include(head?.metadata.sha);
      expect(readFileSync(join(dir, "s3", "bucket-a", "race", "m.zip"), "utf8")).to.equal(
        `zip ${head?.metadata.sha}`,
      );
    });
  });

  describe("deletePrefix at the same time as puts or another deletePrefix (S3: either order; each object whole, with its metadata)", () => {
    const body = (text: string) => Readable.from([Buffer.from(text)]);
    const keys = Array.from({ length: 200 }, (_, i) => `d/pr-1/s${i}.zip`);
    /** The files under the store's root, as paths relative to it. */
    const filesUnder = (root: string): string[] =>
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1));

    it("deletePrefix while puts replace the objects under the prefix leaves each key with the new object and its metadata, or with neither, and counts every key", async () => {
      for (let round = 0; round < 3; round++) {
        const root = join(dir, `s3-${round}`);
        const store = new FsObjectStore(root);
        // A key the prefix does not match keeps the folder: no put here finds its folder gone.
        await store.put("bucket-a", "d/pr-1/keep.txt", body("keep"), { metadata: {} });
        for (const key of keys)
          await store.put("bucket-a", key, body(`old ${key}`), { metadata: { sha: "old" } });
        const puts = keys.map((key) =>
          store.put("bucket-a", key, body(`new ${key}`), { metadata: { sha: "new" } }),
        );
        const [count] = await Promise.all([store.deletePrefix("bucket-a", "d/pr-1/s"), ...puts]);
        expect(count).to.equal(keys.length);
        const wrong: string[] = [];
        for (const key of keys) {
          const head = await store.head("bucket-a", key);
          if (head === undefined) continue;
          if (head.metadata.sha !== "new" || head.etag !== `"${sha256(`new ${key}`)}"`)
            wrong.push(`${key}: ${JSON.stringify(head)}`);
        }
        expect(wrong).to.deep.equal([]);
        // No metadata without its object, no temporary file.
        const files = filesUnder(root);
        const objects = files.filter((file) => !file.endsWith(METADATA_SUFFIX));
        expect(files.filter((file) => file.endsWith(METADATA_SUFFIX)).sort()).to.deep.equal(
          objects.map((file) => `${file}${METADATA_SUFFIX}`).sort(),
        );
        expect(objects.filter((file) => !file.startsWith(join("bucket-a", "d", "pr-1")))).to.deep.equal([]);
      }
    });

    it("a put into a folder that a deletePrefix at the same time empties and removes succeeds, its object left whole with its metadata or deleted with it", async () => {
      for (let round = 0; round < 3; round++) {
        const root = join(dir, `s3-${round}`);
        const store = new FsObjectStore(root);
        // One key per folder: deletePrefix empties each folder and removes it while its put runs.
        const inFolders = keys.map((_, i) => `d/pr-1/k${i}/a.zip`);
        await Promise.all(
          inFolders.map((key) =>
            store.put("bucket-a", key, body(`old ${key}`), { metadata: { sha: "old" } }),
          ),
        );
        const puts = inFolders.map((key) =>
          store.put("bucket-a", key, body(`new ${key}`), { metadata: { sha: "new" } }),
        );
        const settled = await Promise.allSettled([store.deletePrefix("bucket-a", "d/pr-1/"), ...puts]);
        const failed = settled
          .filter((result) => result.status === "rejected")
          .map((result) => String(result.reason));
        expect(failed).to.deep.equal([]);
        expect((settled[0] as PromiseFulfilledResult<number>).value).to.equal(inFolders.length);
        for (const key of inFolders) {
          const head = await store.head("bucket-a", key);
          if (head !== undefined)
            expect(head).to.deep.equal({ metadata: { sha: "new" }, etag: `"${sha256(`new ${key}`)}"` });
        }
        const files = filesUnder(root);
        const objects = files.filter((file) => !file.endsWith(METADATA_SUFFIX));
        expect(files.filter((file) => file.endsWith(METADATA_SUFFIX)).sort()).to.deep.equal(
          objects.map((file) => `${file}${METADATA_SUFFIX}`).sort(),
        );
        expect(objects.filter((file) => !file.startsWith(join("bucket-a", "d", "pr-1")))).to.deep.equal([]);
      }
    });

    it("deletePrefix calls while puts write new keys in the folder count only objects, never a put's temporary metadata file: each object is counted once or is still there", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      const puts = Promise.all(
        keys.map((key) => store.put("bucket-a", key, body(key), { metadata: { sha: "new" } })),
      );
      let done = false;
      void puts.finally(() => {
        done = true;
      });
      // One after another for as long as the puts run, so some list the folder while a metadata write
      // has its temporary file there.
      let counted = 0;
      while (!done) counted += await store.deletePrefix("bucket-a", "d/pr-1/");
      await puts;
      const left = keys.filter((key) => existsSync(join(dir, "s3", "bucket-a", ...key.split("/"))));
      expect(counted + left.length).to.equal(keys.length);
    });

    it("two deletePrefix calls over the same objects at the same time both succeed, and count each object once between them", async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      for (const key of keys.slice(0, 50))
        await store.put("bucket-a", key, body(key), { metadata: { sha: "x" } });
      const counts = await Promise.all([
        store.deletePrefix("bucket-a", "d/"),
        store.deletePrefix("bucket-a", "d/pr-1/"),
      ]);
      expect(counts[0] + counts[1]).to.equal(50);
      expect(filesUnder(join(dir, "s3"))).to.deep.equal([]);
    });
  });

  it("head refuses, final, a key that would escape its bucket", async () => {
    const error = await new FsObjectStore(join(dir, "s3")).head("bucket-a", "../x").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ObjectKeyError);
  });

  const diskLimits: Array<[string, string[], RegExp]> = [
    // The metadata file's temporary name adds 32 bytes to the last segment: 224 bytes are already too many.
    ["a last segment of 224 bytes", [`b/${"x".repeat(220)}.zip`], /223 bytes for the last/],
    ["a CJK segment over 255 bytes", [`${"ログイン画面".repeat(15)}/a.zip`], /255 for the others/],
    ["a folder where another key is a file", ["k/a", "k/a/b"], /folder where another key is a file/],
    ["a file where another key is a folder", ["m/a/b", "m/a"], /folder where another key is a file/],
  ];
  for (const [what, keys, says] of diskLimits) {
    it(`put refuses, final and saying why, a key S3 takes but the disk cannot hold: ${what}`, async () => {
      const store = new FsObjectStore(join(dir, "s3"));
      let error: unknown;
      for (const key of keys) {
        await store.put("bucket-a", key, Readable.from([Buffer.from("zip")]), { metadata: {} }).catch((e) => {
          error = e;
        });
      }
      expect(error).to.be.instanceOf(ObjectKeyError);
      expect((error as ObjectKeyError).retryable).to.equal(false);
      expect((error as ObjectKeyError).message).to.match(says);
      const tmp = join(dir, "s3", ".tmp");
      expect(existsSync(tmp) ? readdirSync(tmp) : []).to.deep.equal([]);
      // The failed put wrote nothing: no object file (the folder of "m/a/b" may be there), no metadata.
      const failed = join(dir, "s3", "bucket-a", ...(keys.at(-1) as string).split("/"));
      expect(existsSync(failed) && statSync(failed).isFile(), "an object file").to.equal(false);
      expect(existsSync(`${failed}${METADATA_SUFFIX}`), "a metadata file").to.equal(false);
    });
  }

  it("put refuses, final, user metadata over S3's 2 KB (2,048 bytes of names and values, counted in UTF-8) and writes nothing; 2,048 bytes are taken", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    // "ref" and 2,045 bytes: 2,048.
    await store.put("bucket-a", "m/a.zip", Readable.from([Buffer.from("z")]), {
      metadata: { ref: "r".repeat(2045) },
    });
    expect((await store.head("bucket-a", "m/a.zip"))?.metadata.ref).to.have.length(2045);
    // "ref" and 2,046 bytes, as 2,046 ASCII characters or as 2,044 and one é (2 bytes): 2,049.
    for (const ref of ["r".repeat(2046), `${"r".repeat(2044)}é`]) {
      const error = await store
        .put("bucket-a", "m/b.zip", Readable.from([Buffer.from("z")]), { metadata: { ref } })
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ObjectMetadataError);
      expect((error as ObjectMetadataError).retryable).to.equal(false);
      expect((error as ObjectMetadataError).message)
        .to.contain("2049 bytes")
        .and.contain("MetadataTooLarge");
      expect(await store.head("bucket-a", "m/b.zip")).to.equal(undefined);
      expect(existsSync(join(dir, "s3", "bucket-a", "m", `b.zip${METADATA_SUFFIX}`))).to.equal(false);
    }
  });

  it("put refuses a key of more than 1,024 bytes, as S3 does, counting bytes, not characters", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    // Five folders of 80 CJK characters (240 bytes each, under a file name's 255): 409 characters, 1,209 bytes.
    const key = `${Array.from({ length: 5 }, () => "画".repeat(80)).join("/")}/a.zip`;
    let error: unknown;
    await store.put("bucket-a", key, Readable.from([Buffer.from("z")]), { metadata: {} }).catch((e) => {
      error = e;
    });
    expect(error).to.be.instanceOf(ObjectKeyError);
  });

  it("a failing upload stream leaves no object and no temporary file behind", async () => {
    const store = new FsObjectStore(join(dir, "s3"));
    const body = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error("connection reset"));
      },
    });
    let error: unknown;
    await store.put("bucket-a", "a/b.zip", body, { metadata: {} }).catch((e) => {
      error = e;
    });
    expect(String(error)).to.include("connection reset");
    expect(() => statSync(join(dir, "s3", "bucket-a", "a", "b.zip"))).to.throw();
    expect(readdirSync(join(dir, "s3", ".tmp"))).to.deep.equal([]);
  });
});

describe("Class: DeliveryLog", () => {
  it("flushSync leaves the latest history on disk, even with a timed write of an older one just started", async () => {
    const file = join(dir, "deliveries.json");
    const history = new DeliveryLog(file, 500, 0);
    history.queued(item("a"));
    // The timed write of "queued" starts; a write still in flight would land after the flushSync below.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
    history.work(item("a"), { status: "done" });
    history.flushSync();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const onDisk = JSON.parse(readFileSync(file, "utf8")) as { delivery: string; status: string }[];
    expect(onDisk.map((e) => [e.delivery, e.status])).to.deep.equal([["a", "done"]]);
  });
  it("load skips a hand-edited entry without its text fields, so the next delivery's record does not throw", () => {
    const file = join(dir, "deliveries.json");
    const good = { delivery: "d1", route: "r", event: "push", status: "queued", attempts: 0, generation: 1 };
    writeFileSync(
      file,
      JSON.stringify([{ route: "r", delivery: 42, event: "push", status: "queued" }, { route: "r" }, good]),
    );
    const history = new DeliveryLog(file);
    history.load();
    expect(history.list().map((e) => e.delivery)).to.deep.equal(["d1"]);
    expect(() => history.accepted("r", "d2", "push", 202)).to.not.throw();
  });
  it("settle places an entry repaired at start by its own time, so the list stays newest first", () => {
    const history = new DeliveryLog(join(dir, "deliveries.json"));
    const hour = 3_600_000;
    history.settle(item("two-hours-ago"), { status: "done", attempts: 1 }, Date.now() - 2 * hour);
    history.answered({ route: "r", delivery: "now", event: "push", status: "ignored" });
    history.settle(item("an-hour-ago"), { status: "dead", attempts: 5 }, Date.now() - hour);
    history.settle(item("three-hours-ago"), { status: "done", attempts: 1 }, Date.now() - 3 * hour);
    expect(history.list().map((e) => e.delivery)).to.deep.equal([
      "now",
      "an-hour-ago",
      "two-hours-ago",
      "three-hours-ago",
    ]);
  });
});

describe("Class: JournalFile", () => {
  const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean);

  it("the lines of one turn go out in one write; written() resolves once they are in the file", async () => {
    const file = join(dir, "j.jsonl");
    let writes = 0;
    const journal = new JournalFile(file, { afterWrite: () => writes++ });
    journal.append("a");
    journal.append("b");
    const written = Promise.all([journal.written(), journal.written()]);
    expect(() => readFileSync(file)).to.throw(/ENOENT/); // nothing written in this turn
    await written;
    expect(lines(file)).to.deep.equal(["a", "b"]);
    expect(writes).to.equal(1);
    expect(journal.lines).to.equal(2);
    journal.close();
  });

  it("a failed write keeps its lines, and the next write carries them", async () => {
    const sub = join(dir, "sub");
    mkdirSync(sub);
    const journal = new JournalFile(join(sub, "j.jsonl"));
    rmSync(sub, { recursive: true });
    journal.append("a");
    let failure: unknown;
    await journal.written().catch((error) => {
      failure = error;
    });
    expect(String(failure)).to.match(/ENOENT/);
    mkdirSync(sub);
    journal.append("b");
    await journal.written();
    expect(lines(join(sub, "j.jsonl"))).to.deep.equal(["a", "b"]);
    journal.close();
  });

  it("a disk that takes part of a write and then fails: the write fails, the part is cut off, the next write carries the lines", async () => {
    const file = join(dir, "j.jsonl");
    const disk = fillingDisk();
    const journal = new JournalFile(file, { writeSync: disk.writeSync });
    journal.append('{"line":"whole"}');
    await journal.written();
    disk.free = 7; // room for part of the next line only
    journal.append('{"line":"second"}');
    const failure = await journal.written().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(failure)).to.match(/ENOSPC/);
    expect(readFileSync(file, "utf8")).to.equal('{"line":"whole"}\n'); // no half line left behind
    disk.free = Number.POSITIVE_INFINITY;
    journal.append('{"line":"third"}');
    await journal.written();
    expect(lines(file)).to.deep.equal(['{"line":"whole"}', '{"line":"second"}', '{"line":"third"}']);
    journal.close();
  });

  it("a flush in flight when a rewrite (compaction) closes the file still succeeds: its descriptor is closed after it", async () => {
    const file = join(dir, "j.jsonl");
    const journal = new JournalFile(file, { durable: true });
    journal.append("a");
    journal.writeNow();
    // Keep libuv's 4 threads busy, so the fdatasync surely runs after the rewrite below.
    const busy = Array.from({ length: 4 }, () => promisify(pbkdf2)("x", "salt", 200_000, 32, "sha256"));
    const flushed = journal.sync(); // fdatasync on the current descriptor, queued for the thread pool
    journal.rewrite(["a"]); // compaction closes that descriptor right away
    await Promise.all(busy);
    await flushed;
    journal.append("b");
    await journal.written();
    await journal.sync();
    expect(lines(file)).to.deep.equal(["a", "b"]);
    journal.close();
  });

  it("rewrite replaces what was written; lines not yet written follow the new content", async () => {
    const file = join(dir, "j.jsonl");
    const journal = new JournalFile(file);
    journal.append("old-1");
    journal.append("old-2");
    journal.writeNow();
    journal.append("pending");
    journal.rewrite(["compacted"]);
    expect(journal.lines).to.equal(2);
    await journal.written();
    expect(lines(file)).to.deep.equal(["compacted", "pending"]);
    await journal.sync();
    journal.close();
  });
});

describe("Class: FileDedupeStore", () => {
  it("a done mark whose write fails rejects (the work path logs it, as a failed DynamoDB mark), and its line is written by the next write", async () => {
    const file = join(dir, "dedupe.jsonl");
    const store = new FileDedupeStore(file);
    await store.claim("r", "d1");
    await store.mark("r", "d1", 1, "queued");
    await new Promise((resolve) => setImmediate(resolve));
    const realWriteSync = fs.writeSync;
    fs.writeSync = (() => {
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    }) as typeof fs.writeSync;
    let marked: Promise<void>;
    try {
      marked = store.mark("r", "d1", 1, "done");
    } finally {
      fs.writeSync = realWriteSync;
    }
    expect(
      String(
        await marked.then(
          () => "resolved",
          (error: unknown) => error,
        ),
      ),
    ).to.match(/ENOSPC/);
    expect(await store.state("r", "d1")).to.deep.equal({ state: "done", generation: 1 });
    await store.claim("r", "d2");
    await new Promise((resolve) => setImmediate(resolve));
    const states = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { k: string; s: string })
      .filter((line) => line.k === "r#d1")
      .map((line) => line.s);
    expect(states.at(-1)).to.equal("done");
    store.close();
  });

  it("claims released because the disk refused their delivery (the claim's line never written) leave nothing behind: once the disk has room for a few lines, a done mark is written, and after a reopen a refused delivery's redelivery is new, generation 1", async () => {
    const file = join(dir, "dedupe.jsonl");
    const store = new FileDedupeStore(file);
    await store.claim("r", "accepted");
    await new Promise((resolve) => setImmediate(resolve)); // its claim is written
    const realWriteSync = fs.writeSync;
    let room = 0;
    fs.writeSync = ((fd: number, data: Buffer, offset: number, length: number) => {
      if (room <= 0)
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      const n = Math.min(room, length);
      room -= n;
      return realWriteSync(fd, data, offset, n);
    }) as typeof fs.writeSync;
    let marked: unknown;
    try {
      for (let i = 0; i < 50; i++) {
        const { generation } = await store.claim("r", `refused-${i}`);
        await new Promise((resolve) => setImmediate(resolve)); // the claim's write fails: the send's too
        await store.release("r", `refused-${i}`, generation);
      }
      // Room for a few lines: before, the refused deliveries' claims and releases (100 lines) went out with it.
      room = 600;
      marked = await store.mark("r", "accepted", 1, "done").then(
        () => "written",
        (error: unknown) => error,
      );
    } finally {
      fs.writeSync = realWriteSync;
    }
    expect(String(marked)).to.equal("written");
    expect(await store.claim("r", "refused-0")).to.include({ claimed: true, generation: 1 });
    store.close();
    const reopened = new FileDedupeStore(file);
    expect(await reopened.state("r", "accepted")).to.deep.equal({ state: "done", generation: 1 });
    expect(await reopened.claim("r", "refused-1")).to.include({ claimed: true, generation: 1 });
    reopened.close();
  });

  it("a compaction set off while serving that cannot write its new file is logged and tried again only 10,000 lines later, not at every write; no claim or mark fails", async () => {
    const file = join(dir, "dedupe.jsonl");
    const logs: Array<Record<string, unknown>> = [];
    const store = new FileDedupeStore(file, Date.now, { log: (line) => logs.push(line) });
    const realOpenSync = fs.openSync;
    let compactions = 0;
    // The compaction's temporary file cannot be created (a full disk, a directory made read-only). Only this
    // store's: a temporary file of anything else still running in the process is neither counted nor refused.
    const ownTemporaryFile = join(dir, ".dedupe.jsonl.");
    fs.openSync = ((path: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      if (String(path).startsWith(ownTemporaryFile) && String(path).endsWith(".tmp")) {
        compactions++;
        throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      }
      return realOpenSync(path, flags, mode);
    }) as typeof fs.openSync;
    try {
      // 100 ids claimed and dead-lettered over and over, a turn of the event loop (one write) each time: past
      // 10,000 lines with few entries after 50 rounds, and 2,000 lines more.
      const failures: unknown[] = [];
      for (let round = 1; round <= 60; round++) {
        const results = await Promise.allSettled(
          Array.from({ length: 100 }, async (_, i) => {
            const claim = await store.claim("r", `d${i}`);
            if (!claim.claimed) throw new Error(`d${i} not claimed in round ${round}`);
            await store.mark("r", `d${i}`, claim.generation, "dead");
          }),
        );
        failures.push(...results.filter((result) => result.status === "rejected"));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(failures).to.deep.equal([]);
      expect(compactions).to.equal(1);
      expect(logs.map((line) => line.msg)).to.deep.equal([
        "dedupe journal compaction failed; the journal keeps growing until one succeeds",
      ]);
    } finally {
      fs.openSync = realOpenSync;
      store.close();
    }
    const reopened = new FileDedupeStore(file);
    expect((await reopened.claim("r", "d0")).generation).to.equal(61);
    reopened.close();
  });

  it("claim is new, then a duplicate; after dead the next claim takes generation + 1 and keeps the first claim's time; it survives a reopen", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 5_000_000;
    const store = new FileDedupeStore(file, () => now);
    expect(await store.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: 5_000_000,
    });
    await store.mark("r", "d1", 1, "queued");
    expect(await store.claim("r", "d1")).to.deep.equal({ claimed: false, state: "queued", generation: 1 });
    await store.mark("r", "d1", 1, "dead");
    store.close();
    now += 60_000;
    const reopened = new FileDedupeStore(file, () => now);
    expect(await reopened.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: 5_000_000,
    });
    await reopened.mark("r", "d1", 1, "dead"); // an older generation's dead never overwrites a newer one
    expect(await reopened.state("r", "d1")).to.deep.equal({ state: "pending", generation: 2 });
    reopened.close();
  });

  it("an older generation's done lands on a newer pending claim, released or not, keeping its number: its queued mark and release change nothing, and the delivery stays a duplicate through a reopen", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 5_000_000;
    const store = new FileDedupeStore(file, () => now);
    for (const id of ["sending", "released"]) {
      await store.claim("r", id);
      await store.mark("r", id, 1, "dead");
      await store.claim("r", id); // generation 2: the redelivery's receive path is sending it
      if (id === "released") await store.release("r", id, 2); // its send failed
      await store.mark("r", id, 1, "done"); // generation 1's dead letter, redriven, ran the action
      await store.mark("r", id, 2, "queued");
      await store.release("r", id, 2);
      expect(await store.state("r", id)).to.deep.equal({ state: "done", generation: 2 });
    }
    store.close();
    now += 120_000; // past the pending TTL: a pending claim would be abandoned by now
    const reopened = new FileDedupeStore(file, () => now);
    for (const id of ["sending", "released"]) {
      expect(await reopened.claim("r", id)).to.deep.equal({ claimed: false, state: "done", generation: 2 });
    }
    reopened.close();
  });

  it("release makes a pending claim abandoned: the redelivery takes it over as the same generation (the same deduplication id, as the deployed store), with the first claim's time", async () => {
    let now = 7_000_000;
    const store = new FileDedupeStore(join(dir, "dedupe.jsonl"), () => now);
    await store.claim("r", "d1");
    await store.release("r", "d1", 1);
    now += 1_000;
    expect(await store.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: 7_000_000,
    });
    store.close();
  });

  it("a released claim survives a reopen within 29 days (DEDUPE_TTL_SECONDS) of its claim: the redelivery takes over its generation, with the first claim's time", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 7_000_000;
    const store = new FileDedupeStore(file, () => now);
    await store.claim("r", "d1");
    await store.mark("r", "d1", 1, "dead");
    now += 3_600_000;
    await store.claim("r", "d1");
    await store.release("r", "d1", 2);
    store.close();
    now = 7_000_000 + 3_600_000 + DEDUPE_TTL_MS; // the claim of generation 2 is exactly DEDUPE_TTL_SECONDS old
    const reopened = new FileDedupeStore(file, () => now);
    expect(await reopened.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: 7_000_000,
    });
    reopened.close();
  });

  it("a claim released just before a stop is still released after the restart: a redelivery a second later takes it over", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 7_000_000;
    const store = new FileDedupeStore(file, () => now);
    await store.claim("r", "d1");
    await store.release("r", "d1", 1);
    store.close();
    now += 1_000;
    const reopened = new FileDedupeStore(file, () => now);
    expect(await reopened.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: 7_000_000,
    });
    reopened.close();
  });

  it("a released claim expires 29 days after its claim, as the deployed item does: a reopen drops its journal line, and the next claim is new", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 7_000_000;
    const store = new FileDedupeStore(file, () => now);
    await store.claim("r", "released");
    await store.release("r", "released", 1);
    await store.claim("r", "kept");
    store.close();
    now += DEDUPE_TTL_MS + 1_000;
    const reopened = new FileDedupeStore(file, () => now);
    expect(journalKeys(file)).to.deep.equal([]);
    expect(await reopened.state("r", "released")).to.equal(undefined);
    expect(await reopened.claim("r", "released")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: now,
    });
    reopened.close();
  });

  it("a compaction while serving writes no line for an entry past 29 days (released or not) that nothing touched since", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 7_000_000;
    const store = new FileDedupeStore(file, () => now);
    await store.claim("r", "released");
    await store.release("r", "released", 1);
    await store.claim("r", "done");
    await store.mark("r", "done", 1, "done");
    now += DEDUPE_TTL_MS + 1_000;
    // Past 10,000 journal lines and two per entry, the next write compacts the journal (a dead mark is
    // written at once: the lines of the marks after that compaction follow it).
    for (let i = 0; i < 5_001; i++) {
      await store.claim("r", "busy");
      await store.mark("r", "busy", i + 1, "dead");
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(new Set(journalKeys(file))).to.deep.equal(new Set(["r#busy"]));
    store.close();
  });

  it("a journal of deliveries claimed, queued and done (three lines each) is compacted while serving: past 10,000 lines it is rewritten, and the entries past 29 days leave it", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 7_000_000;
    const store = new FileDedupeStore(file, () => now);
    const deliver = async (id: string) => {
      await store.claim("r", id);
      await store.mark("r", id, 1, "queued");
      await store.mark("r", id, 1, "done");
    };
    for (let i = 0; i < 3_000; i++) await deliver(`old-${i}`);
    now += DEDUPE_TTL_MS + 1_000;
    for (let i = 0; i < 1_000; i++) await deliver(`new-${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    const keys = journalKeys(file);
    expect(keys.filter((key) => key.startsWith("r#old-"))).to.deep.equal([]);
    expect(new Set(keys).size).to.equal(1_000);
    expect(keys.length).to.be.below(3_000);
    store.close();
  });

  it("an entry expires once the second of the deployed item's expiresAt (its last change's second + 29 days) has passed: 29 days and 1 ms after a done, live or reopened, it is still a duplicate; a second later it is new", async () => {
    const file = join(dir, "dedupe.jsonl");
    let now = 7_000_000;
    const store = new FileDedupeStore(file, () => now);
    await store.claim("r", "d1");
    await store.mark("r", "d1", 1, "done");
    now += DEDUPE_TTL_MS + 1;
    expect(await store.claim("r", "d1")).to.deep.equal({ claimed: false, state: "done", generation: 1 });
    store.close();
    const reopened = new FileDedupeStore(file, () => now);
    expect(await reopened.state("r", "d1")).to.deep.equal({ state: "done", generation: 1 });
    now = 7_000_000 + DEDUPE_TTL_MS + 999;
    expect(await reopened.claim("r", "d1")).to.deep.equal({ claimed: false, state: "done", generation: 1 });
    now += 1;
    expect(await reopened.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: now,
    });
    reopened.close();
  });

  it("a released claim journaled by an earlier version (t 0) loads as released: its redelivery takes over its generation, with the first claim's time, until 29 days after that", async () => {
    const file = join(dir, "dedupe.jsonl");
    writeFileSync(
      file,
      `${[
        JSON.stringify({ k: "r#d1", s: "pending", g: 2, t: 0, f: 7_000_000 }),
        JSON.stringify({ k: "r#d2", s: "pending", g: 1, t: 0, f: 5_000_000 }),
      ].join("\n")}\n`,
    );
    const now = 5_000_000 + DEDUPE_TTL_MS + 1_000;
    const store = new FileDedupeStore(file, () => now);
    expect(journalKeys(file)).to.deep.equal(["r#d1"]);
    expect(await store.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 2,
      firstClaimedAtMs: 7_000_000,
    });
    expect(await store.claim("r", "d2")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: now,
    });
    store.close();
  });

  it("a recent pending claim is a duplicate; one older than 60 s is abandoned and taken over as the same generation", async () => {
    let now = 1_000_000;
    const store = new FileDedupeStore(join(dir, "dedupe.jsonl"), () => now);
    await store.claim("r", "d1");
    expect((await store.claim("r", "d1")).claimed).to.equal(false);
    now += 61_000;
    expect(await store.claim("r", "d1")).to.deep.equal({
      claimed: true,
      generation: 1,
      firstClaimedAtMs: 1_000_000,
    });
    store.close();
  });

  it("a turn's claim and mark reach the journal in one write, by the next turn of the event loop", async () => {
    const file = join(dir, "dedupe.jsonl");
    const store = new FileDedupeStore(file);
    const compacted = readFileSync(file, "utf8");
    await store.claim("r", "d1");
    await store.mark("r", "d1", 1, "queued");
    expect(readFileSync(file, "utf8")).to.equal(compacted);
    await new Promise((resolve) => setImmediate(resolve));
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.k, line.s, line.g])).to.deep.equal([
      ["r#d1", "pending", 1],
      ["r#d1", "queued", 1],
    ]);
    await store.mark("r", "d1", 1, "done");
    store.close(); // writes what this turn left
    expect(await new FileDedupeStore(file).state("r", "d1")).to.deep.equal({ state: "done", generation: 1 });
  });

  for (const state of ["done", "dead"] as const) {
    it(`a ${state} mark is in the journal when mark() resolves, not at the end of the turn (the queue may record the message deleted first)`, async () => {
      const file = join(dir, "dedupe.jsonl");
      const store = new FileDedupeStore(file);
      await store.claim("r", "d1");
      await store.mark("r", "d1", 1, "queued");
      await new Promise((resolve) => setImmediate(resolve));
      await store.mark("r", "d1", 1, state);
      const last = readFileSync(file, "utf8").trim().split("\n").pop() ?? "";
      expect(JSON.parse(last)).to.deep.include({ k: "r#d1", s: state, g: 1 });
      store.close();
    });
  }

  it("a journal write that fails in the background crashes nothing; close() reports it", async () => {
    const stateDir = join(dir, "gone");
    const store = new FileDedupeStore(join(stateDir, "dedupe.jsonl"));
    rmSync(stateDir, { recursive: true, force: true });
    expect(await store.claim("r", "d1")).to.deep.include({ claimed: true, generation: 1 });
    await new Promise((resolve) => setImmediate(resolve)); // the background write fails here
    expect(await store.state("r", "d1")).to.deep.equal({ state: "pending", generation: 1 });
    expect(() => store.close()).to.throw(/ENOENT/);
  });

  it("a torn last journal line (a crash mid-write) is skipped on load", async () => {
    const file = join(dir, "dedupe.jsonl");
    writeFileSync(
      file,
      `${JSON.stringify({ k: "r#d1", s: "done", g: 1, t: Date.now() })}\n{"k":"r#d2","s":"do`,
    );
    const store = new FileDedupeStore(file);
    expect(await store.state("r", "d1")).to.deep.equal({ state: "done", generation: 1 });
    expect(await store.state("r", "d2")).to.equal(undefined);
    store.close();
  });
});

const DEDUPE_TTL_MS = DEDUPE_TTL_SECONDS * 1000;
/** examples/github-push.json: a push to acme/api's main, which route r matches. */
const PUSH_ACME_API = JSON.parse(
  readFileSync(join(__dirname, "..", "..", "examples", "github-push.json"), "utf8"),
);

/** The keys of a dedupe journal's lines, in order. */
function journalKeys(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line).k);
}

const item = (delivery: string, repo = "acme/api") => localWorkItem(delivery, { repo });

describe("Class: LocalQueue", () => {
  const options = (overrides: Partial<ConstructorParameters<typeof LocalQueue>[0]> = {}) => ({
    dir: join(dir, "queue"),
    maxReceiveCount: 3,
    retryDelay: () => 5,
    redrive: async () => undefined,
    ...overrides,
  });

  /** A put line of the shape the journal keeps, `fields` (a body, say) over a message's own. */
  const putLine = (fields: Record<string, unknown> = {}) => {
    const m = {
      id: "m1",
      seq: 0,
      route: "r",
      group: "acme/api",
      dedupeId: "x:1",
      sentAt: 1,
      receiveCount: 0,
      notBefore: 1,
    };
    return JSON.stringify({ op: "put", m: { ...m, ...fields } });
  };

  /** queue/journal.jsonl holding `lines`. */
  function writeJournal(...lines: string[]): void {
    mkdirSync(join(dir, "queue"), { recursive: true });
    writeFileSync(join(dir, "queue", "journal.jsonl"), `${lines.join("\n")}\n`);
  }

  it("send refuses an item over MAX_WORK_ITEM_BYTES with WorkItemTooLargeError and journals nothing, as the deployed queue would", async () => {
    const queue = new LocalQueue(options());
    const big = item("big");
    const request = {
      ...big.request,
      parameters: { COMMITS: "x".repeat(MAX_WORK_ITEM_BYTES) },
    } as WorkItem["request"];
    const error = await queue
      .port("r")
      .send({ ...big, request })
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(WorkItemTooLargeError);
    // Measured as the SQS body is: U+FFFF (3 bytes in UTF-8) goes out as a 6-byte \u escape.
    const escaped = {
      ...big.request,
      parameters: { MARKS: "\uffff".repeat(200_000) },
    } as WorkItem["request"];
    expect(Buffer.byteLength(JSON.stringify({ ...big, request: escaped }))).to.be.below(MAX_WORK_ITEM_BYTES);
    const alsoRefused = await queue
      .port("r")
      .send({ ...big, request: escaped })
      .catch((e: unknown) => e);
    expect(alsoRefused).to.be.instanceOf(WorkItemTooLargeError);
    expect(queue.size()).to.equal(0);
    queue.close();
    expect(new LocalQueue(options()).start()).to.equal(0);
  });

  it("delivers one group in order, one at a time, and a failed head blocks its group until it succeeds", async () => {
    const seen: string[] = [];
    let failOnce = true;
    const queue = new LocalQueue(options());
    queue.register("r", async (event: SQSEvent) => {
      const record = event.Records[0];
      if (!record) return { batchItemFailures: [] };
      const body = JSON.parse(record.body) as WorkItem;
      seen.push(`${body.deliveryId}#${record.attributes.ApproximateReceiveCount}`);
      if (body.deliveryId === "a" && failOnce) {
        failOnce = false;
        return { batchItemFailures: [{ itemIdentifier: record.messageId }] };
      }
      return { batchItemFailures: [] };
    });
    const port = queue.port("r");
    await port.send(item("a"));
    await port.send(item("b"));
    queue.start();
    for (let i = 0; i < 200 && queue.size() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).to.deep.equal(["a#1", "a#2", "b#1"]);
    await queue.stop(100);
    queue.close();
    expect(new LocalQueue(options()).start()).to.equal(0); // nothing left in the journal
  });

  it("tells its observer before each compaction, while the journal still shows the finished messages", async () => {
    const journal = join(dir, "queue", "journal.jsonl");
    const deletedLinesSeen: number[] = [];
    const queue = new LocalQueue(
      options({
        observer: {
          compacting: () =>
            deletedLinesSeen.push(
              existsSync(journal) ? readFileSync(journal, "utf8").split('"op":"del"').length - 1 : 0,
            ),
        },
      }),
    );
    queue.register("r", async () => ({ batchItemFailures: [] }));
    queue.start();
    expect(deletedLinesSeen).to.deep.equal([0]); // the compaction at start
    // A put, a receive and a delete each: past 10,000 lines the running queue compacts its journal.
    for (let i = 0; i < 3_400; i++) {
      await queue.port("r").send(item(`d${i}`, `acme/${i % 50}`));
      if (i % 500 === 499) while (queue.size() > 0) await new Promise((r) => setTimeout(r, 1));
    }
    while (queue.size() > 0) await new Promise((r) => setTimeout(r, 1));
    await queue.stop(1_000);
    queue.close();
    expect(deletedLinesSeen.length).to.be.at.least(2);
    expect(deletedLinesSeen[1]).to.be.above(3_000);
  });

  it("a compaction during a receive keeps its receive count: the journal counts the attempt while the worker runs", async () => {
    // One message at a time: a put, a receive and a delete each, so the receive of the 3,334th message
    // takes the journal past 10,000 lines and its write compacts the journal.
    const journal = join(dir, "queue", "journal.jsonl");
    /** The receive count the journal on disk gives message `id` (what a start after a crash would load). */
    const countOnDisk = (id: string): number | undefined => {
      let rc: number | undefined;
      for (const text of readFileSync(journal, "utf8").split("\n")) {
        if (!text.includes(id)) continue;
        const line = JSON.parse(text);
        if (line.op === "put") rc = line.m.receiveCount;
        else if (line.op === "upd") rc = line.rc;
      }
      return rc;
    };
    let compacted = false;
    const checked: string[] = [];
    let finished: () => void = () => undefined;
    const queue = new LocalQueue(
      options({
        observer: {
          compacting: () => {
            compacted = true;
          },
          deleted: () => finished(),
        },
      }),
    );
    queue.register("r", async (event) => {
      const record = event.Records[0];
      if (record && compacted) {
        compacted = false;
        checked.push(`${record.attributes.ApproximateReceiveCount}/${countOnDisk(record.messageId)}`);
      }
      return { batchItemFailures: [] };
    });
    queue.start();
    compacted = false;
    for (let i = 0; i < 3_400; i++) {
      const done = new Promise<void>((resolve) => {
        finished = resolve;
      });
      await queue.port("r").send(item(`d${i}`));
      await done;
    }
    await queue.stop(1_000);
    queue.close();
    expect(checked).to.deep.equal(["1/1"]);
  });

  it("with durable (--fsync), concurrent sends share a journal flush and all survive a reopen", async () => {
    const queue = new LocalQueue(options({ durable: true }));
    await Promise.all(["a", "b", "c", "d"].map((d) => queue.port("r").send(item(d, `acme/${d}`))));
    await queue.stop(100);
    queue.close();
    expect(new LocalQueue(options()).start()).to.equal(4);
  });

  it("drops a second send of the same delivery id and generation (the FIFO deduplication window)", async () => {
    const queue = new LocalQueue(options());
    await queue.port("r").send(item("a"));
    await queue.port("r").send(item("a"));
    expect(queue.size()).to.equal(1);
    await queue.stop(100);
  });

  it("the sends of one turn share one journal write, and each resolves only once its line is written", async () => {
    const queue = new LocalQueue(options());
    queue.start();
    const journal = join(dir, "queue", "journal.jsonl");
    const before = readFileSync(journal, "utf8");
    const sends = [queue.port("r").send(item("a")), queue.port("r").send(item("b", "acme/web"))];
    expect(readFileSync(journal, "utf8")).to.equal(before); // nothing written yet in this turn
    await Promise.all(sends);
    const puts = readFileSync(journal, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((line) => line.op === "put");
    expect(puts.map((line) => line.item.deliveryId)).to.deep.equal(["a", "b"]);
    await queue.stop(100);
    queue.close();
  });

  it("a put whose m.body is not JSON keeps it as a string when rewritten, so the next start still has it", () => {
    writeJournal(putLine({ body: "not json" }));
    for (const start of [1, 2]) {
      const queue = new LocalQueue(options());
      expect(queue.start(), `start ${start}`).to.equal(1);
      queue.close();
    }
    const line = JSON.parse(readFileSync(join(dir, "queue", "journal.jsonl"), "utf8").trim());
    expect(line.m.body).to.equal("not json");
  });

  it("a journal from before (the body as a string in m.body) still loads, and is rewritten as nested JSON", async () => {
    const journal = join(dir, "queue", "journal.jsonl");
    const body = JSON.stringify(item("old"));
    writeJournal(putLine({ dedupeId: "old:1", body }));
    const seen: string[] = [];
    const queue = new LocalQueue(options());
    queue.register("r", async (event) => {
      seen.push(event.Records[0]?.body ?? "");
      return { batchItemFailures: [] };
    });
    expect(queue.start()).to.equal(1);
    const rewritten = JSON.parse(readFileSync(journal, "utf8").split("\n")[0] as string);
    expect(rewritten.item.deliveryId).to.equal("old");
    expect(rewritten.m).to.not.have.property("body");
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).to.deep.equal([body]);
    await queue.stop(100);
    queue.close();
  });

  it("past 10,000 ids, the deduplication window forgets the ids older than 5 minutes and keeps the rest", async () => {
    let now = 1_000_000;
    const queue = new LocalQueue(options({ now: () => now }));
    const port = queue.port("r");
    for (let i = 0; i < 10_000; i++) await port.send(item(`old-${i}`));
    now += 4 * 60_000;
    await port.send(item("recent"));
    now += 60_000 + 1; // the old ids are now outside the window, "recent" is not
    await port.send(item("trigger")); // the 10,002nd id: old ones are forgotten
    await port.send(item("old-0"));
    await port.send(item("recent"));
    expect(queue.size()).to.equal(10_003);
    await queue.stop(100);
  });

  it("redrives a message whose worker keeps failing after maxReceiveCount receives", async () => {
    const redriven: string[] = [];
    const queue = new LocalQueue(
      options({
        redrive: async ({ item: i }, reason) => void redriven.push(`${i?.deliveryId}: ${reason}`),
      }),
    );
    queue.register("r", async () => {
      throw new Error("crash");
    });
    await queue.port("r").send(item("a"));
    queue.start();
    for (let i = 0; i < 200 && queue.size() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(redriven).to.deep.equal(["a: failed 3 receives (maxReceiveCount reached)"]);
    await queue.stop(100);
  });

  /** Stops `queue` once `count()` passes `limit`: a queue that spins then fails its test instead of hanging it. */
  function stopPast(queue: () => LocalQueue, count: () => number, limit = 50): void {
    if (count() > limit) void queue().stop(0);
  }

  it("delivers a message that is not a work item, and after maxReceiveCount failed receives redrives its raw body", async () => {
    writeJournal(putLine({ body: "not json" }));
    const bodies: string[] = [];
    const redriven: Array<{ route: string; body: string; item: unknown; reason: string }> = [];
    const received: unknown[] = [];
    const logged: string[] = [];
    const queue: LocalQueue = new LocalQueue(
      options({
        retryDelay: () => 1,
        redrive: async ({ route, body, item: i }, reason) =>
          void redriven.push({ route, body, item: i, reason }),
        observer: { received: (i) => received.push(i) },
        log: (line) => {
          logged.push(String(line.msg));
          stopPast(
            () => queue,
            () => logged.length,
          );
        },
      }),
    );
    queue.register("r", async (event) => {
      bodies.push(event.Records[0]?.body ?? "");
      return { batchItemFailures: [{ itemIdentifier: event.Records[0]?.messageId ?? "" }] };
    });
    expect(queue.start()).to.equal(1);
    for (let i = 0; i < 200 && queue.size() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await queue.stop(100);
    queue.close();
    expect(logged).to.deep.equal([]);
    expect(bodies).to.deep.equal(["not json", "not json", "not json"]);
    expect(redriven).to.deep.equal([
      {
        route: "r",
        body: "not json",
        item: undefined,
        reason: "failed 3 receives (maxReceiveCount reached)",
      },
    ]);
    expect(received).to.deep.equal([]); // observers only hear of readable work items
  });

  it("a receive that fails unexpectedly (the redrive write) comes back after the retry delay, without running the worker again", async () => {
    let redrives = 0;
    let workerRuns = 0;
    const delays: Array<[boolean, number]> = [];
    const queue: LocalQueue = new LocalQueue(
      options({
        retryDelay: (_record, i, attempt) => {
          delays.push([i !== undefined, attempt]);
          return 20;
        },
        redrive: async () => {
          stopPast(
            () => queue,
            () => ++redrives,
          );
          if (redrives === 1) throw new Error("ENOSPC: no space left on device");
        },
      }),
    );
    queue.register("r", async () => {
      workerRuns++;
      throw new Error("crash");
    });
    await queue.port("r").send(item("a"));
    queue.start();
    for (let i = 0; i < 200 && queue.size() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await queue.stop(100);
    queue.close();
    expect(workerRuns).to.equal(3);
    expect(redrives).to.equal(2);
    // Two retries after failed runs, then one after the failed redrive, each with its work item.
    expect(delays).to.deep.equal([
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
    expect(queue.size()).to.equal(0);
  });

  it("a full disk when a message is received does not count as an attempt: the action runs once the disk has room", async () => {
    const disk = fillingDisk();
    const redriven: string[] = [];
    let receivesWhileFull = 0;
    const queue = new LocalQueue(
      options({
        writeSync: disk.writeSync,
        retryDelay: () => {
          if (disk.free === 0 && ++receivesWhileFull === 6) disk.free = Number.POSITIVE_INFINITY;
          return 1;
        },
        redrive: async ({ item: i }) => void redriven.push(i?.deliveryId ?? ""),
      }),
    );
    const runs: number[] = [];
    queue.register("r", async (event) => {
      runs.push(Number(event.Records[0]?.attributes.ApproximateReceiveCount));
      return { batchItemFailures: [] };
    });
    await queue.port("r").send(item("a"));
    disk.free = 0;
    queue.start();
    for (let i = 0; i < 400 && queue.size() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await queue.stop(100);
    queue.close();
    expect(receivesWhileFull).to.equal(6); // twice maxReceiveCount receives failed on the full disk...
    expect(runs).to.deep.equal([1]); // ...and the action still ran, on its first attempt
    expect(redriven).to.deep.equal([]);
  });

  it("a put whose body was written as JSON text with spaces loads as that JSON, and its rewrite loads the same", () => {
    writeJournal('{"op":"put","m":{"id":"m1","body":" 0"}}'); // found by the property below
    const rewrites: string[] = [];
    for (let i = 0; i < 2; i++) {
      const queue = new LocalQueue(options({ now: () => 1_000 }));
      expect(queue.start()).to.equal(1);
      queue.close();
      rewrites.push(readFileSync(join(dir, "queue", "journal.jsonl"), "utf8"));
    }
    expect(rewrites[0]).to.contain('"item":0}');
    expect(rewrites[1]).to.equal(rewrites[0]);
  });

  it("work that finishes after the queue is closed (a stop past its drain time) records nothing, and the next start resumes it", async () => {
    let finish: () => void = () => undefined;
    let started = false;
    const first = new LocalQueue(options());
    first.register("r", () => {
      started = true;
      return new Promise((resolve) => {
        finish = () => resolve({ batchItemFailures: [] });
      });
    });
    await first.port("r").send(item("slow"));
    first.start();
    for (let i = 0; i < 200 && !started; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await first.stop(10)).to.equal(false); // not drained: the work is still running
    first.close();
    finish();
    await new Promise((r) => setTimeout(r, 20));
    expect(readFileSync(join(dir, "queue", "journal.jsonl"), "utf8")).not.to.contain('"op":"del"');
    const second = new LocalQueue(options());
    expect(second.start()).to.equal(1);
    second.close();
  });

  it("a journal line that is JSON but not an object, or a put without an item, does not stop the queue from loading", () => {
    writeJournal("null", "42", putLine()); // a put without a body or an item
    const queue = new LocalQueue(options());
    expect(queue.start()).to.equal(1); // the put without an item is kept: its worker dead-letters it
    queue.close();
  });

  it("a new queue on the same directory resumes the persisted messages, even after a torn journal line", async () => {
    const first = new LocalQueue(options());
    await first.port("r").send(item("a"));
    await first.stop(100);
    first.close();
    appendFileSync(join(dir, "queue", "journal.jsonl"), '{"op":"put","m":{"id":"torn');
    const delivered: string[] = [];
    const second = new LocalQueue(options());
    second.register("r", async (event) => {
      delivered.push((JSON.parse(event.Records[0]?.body ?? "{}") as WorkItem).deliveryId);
      return { batchItemFailures: [] };
    });
    expect(second.start()).to.equal(1);
    for (let i = 0; i < 200 && second.size() > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(delivered).to.deep.equal(["a"]);
    await second.stop(100);
  });
});

/** fc.jsonValue({ maxDepth: 2 }) with its entries bounded (test/support/jsonValues.ts). */
const anyJsonValue = () => boundedJsonValue({ maxDepth: 2 });

/**
 * Queue journals: lines of any JSON, objects shaped like journal lines with fields of any JSON type (or `queued` for
 * a line's item), and torn text.
 */
function queueJournalLines(anyJson: fc.Arbitrary<unknown>, queued: WorkItem): fc.Arbitrary<string[]> {
  const queueLine = fc.oneof(
    anyJson.map((v) => JSON.stringify(v)),
    fc.string(),
    fc
      .record(
        {
          op: fc.constantFrom("put", "upd", "del", "other"),
          id: fc.oneof(fc.constantFrom("m1", "m2"), anyJson),
          m: fc.record(
            {
              id: fc.oneof(fc.constantFrom("m1", "m2"), anyJson),
              seq: anyJson,
              route: fc.oneof(fc.constant("r"), anyJson),
              group: anyJson,
              dedupeId: anyJson,
              sentAt: anyJson,
              receiveCount: anyJson,
              notBefore: anyJson,
              firstReceiveAt: anyJson,
              body: anyJson,
            },
            { requiredKeys: [] },
          ),
          item: fc.oneof(fc.constant(queued), anyJson),
          rc: anyJson,
          nb: anyJson,
          fr: anyJson,
        },
        { requiredKeys: ["op"] },
      )
      .map((v) => JSON.stringify(v)),
  );
  return fc.array(queueLine, { maxLength: 12 });
}

/** Dedupe journals the same way, with `now` for a line's time. */
function dedupeJournalLines(anyJson: fc.Arbitrary<unknown>, now: number): fc.Arbitrary<string[]> {
  const dedupeLine = fc.oneof(
    anyJson.map((v) => JSON.stringify(v)),
    fc.string(),
    fc
      .record(
        {
          k: fc.oneof(fc.constantFrom("r#a", "r#b"), anyJson),
          s: fc.oneof(fc.constantFrom("pending", "queued", "done", "dead"), anyJson),
          g: anyJson,
          t: fc.oneof(fc.constant(now), anyJson),
          d: anyJson,
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );
  return fc.array(dedupeLine, { maxLength: 12 });
}

describe("Test support: serveLocalStores.test.ts's anyJsonValue", () => {
  it("gives the journals fc.jsonValue({ maxDepth: 2 }) gives at npm test's size (small), run for run", () => {
    const queued = item("a");
    const journals = (anyJson: () => fc.Arbitrary<unknown>) =>
      fc.tuple(queueJournalLines(anyJson(), queued), dedupeJournalLines(anyJson(), 1_000));
    expect(
      samplesAtSmallAgree(
        () => journals(anyJsonValue),
        () => journals(() => fc.jsonValue({ maxDepth: 2 })),
      ),
    ).to.equal(true);
  });
});

describe("Journals damaged by hand or by a disk (fast-check)", () => {
  it("LocalQueue loads any journal without throwing, with whole receive counts, and loads its own rewrite the same", () => {
    fc.assert(
      fc.property(queueJournalLines(anyJsonValue(), item("a")), (lines) => {
        rmSync(join(dir, "queue"), { recursive: true, force: true });
        mkdirSync(join(dir, "queue"), { recursive: true });
        const journal = join(dir, "queue", "journal.jsonl");
        writeFileSync(journal, lines.join("\n"));
        const options = {
          dir: join(dir, "queue"),
          maxReceiveCount: 3,
          retryDelay: () => 5,
          redrive: async () => {},
          now: () => 1_000, // a start sets notBefore (and a missing sentAt) to now: the same now, the same rewrite
        };
        const first = new LocalQueue(options);
        const loaded = first.start();
        first.close();
        const rewritten = readFileSync(journal, "utf8");
        for (const text of rewritten.split("\n").filter(Boolean)) {
          const m = JSON.parse(text).m;
          expect(Number.isSafeInteger(m.receiveCount) && m.receiveCount >= 0, text).to.equal(true);
          expect(Number.isFinite(m.seq) && Number.isFinite(m.sentAt), text).to.equal(true);
        }
        const second = new LocalQueue(options);
        expect(second.start()).to.equal(loaded);
        second.close();
        expect(readFileSync(journal, "utf8"), `${lines.join("\n")}\n---\n${rewritten}`).to.equal(rewritten);
      }),
      { numRuns: runs(150) },
    );
  });

  it("FileDedupeStore loads any journal without throwing, and loads its own rewrite the same", () => {
    fc.assert(
      fc.property(dedupeJournalLines(anyJsonValue(), Date.now()), (lines) => {
        const file = join(dir, "dedupe.jsonl");
        writeFileSync(file, lines.join("\n"));
        new FileDedupeStore(file).close();
        const rewritten = readFileSync(file, "utf8");
        new FileDedupeStore(file).close();
        expect(readFileSync(file, "utf8")).to.equal(rewritten);
      }),
      { numRuns: runs(150) },
    );
  });
});

describe("Function: startLocalGateway, on queued work a crash or an edit of routes.yaml left", () => {
  /** A state dir whose queue journal holds delivery "a" for `route`, received `receiveCount` times. */
  function stateWithQueued(
    name: string,
    fields: {
      route?: unknown;
      receiveCount: number;
      dedupe?: "queued" | "done" | "dead";
      dedupeGeneration?: number;
    },
  ): string {
    const state = join(dir, name);
    mkdirSync(join(state, "queue"), { recursive: true });
    const m = { id: "m1", seq: 0, route: fields.route ?? "r", group: "acme/api", dedupeId: "a:1" };
    const put = { op: "put", m: { ...m, sentAt: 1, receiveCount: fields.receiveCount, notBefore: 1 } };
    writeFileSync(join(state, "queue", "journal.jsonl"), `${JSON.stringify({ ...put, item: item("a") })}\n`);
    if (fields.dedupe) {
      const line = { k: "r#a", s: fields.dedupe, g: fields.dedupeGeneration ?? 1, t: Date.now() };
      writeFileSync(join(state, "dedupe.jsonl"), `${JSON.stringify(line)}\n`);
    }
    return state;
  }

  /**
   * A state dir left by a crash: delivery "a" of route r queued as the given generations (in this order, one
   * message each, with its receive count), and its dedupe entry at `dedupe` (first claimed now).
   */
  function stateWithGenerations(
    name: string,
    messages: Array<{ generation: number; receiveCount: number }>,
    dedupe: { state: "queued" | "done"; generation: number },
  ): string {
    const state = join(dir, name);
    mkdirSync(join(state, "queue"), { recursive: true });
    const puts = messages.map(({ generation, receiveCount }, seq) =>
      JSON.stringify({
        op: "put",
        m: {
          id: `m${seq + 1}`,
          seq,
          route: "r",
          group: "acme/api",
          dedupeId: `a:${generation}`,
          sentAt: 1,
          receiveCount,
          notBefore: 1,
        },
        item: localWorkItem("a", { repo: "acme/api", generation }),
      }),
    );
    writeFileSync(join(state, "queue", "journal.jsonl"), puts.map((line) => `${line}\n`).join(""));
    const record = { k: "r#a", s: dedupe.state, g: dedupe.generation, t: Date.now(), f: Date.now() };
    writeFileSync(join(state, "dedupe.jsonl"), `${JSON.stringify(record)}\n`);
    return state;
  }

  /** Waits until the gateway's queue is empty (at most 5 s), then answers its delivery history. */
  async function drained(url: string): Promise<Record<string, unknown>[]> {
    for (let i = 0; i < 200; i++) {
      const health = (await (await fetch(`${url}/_hookgate/health`)).json()) as {
        queue: { waiting: number; inFlight: number };
      };
      if (health.queue.waiting === 0 && health.queue.inFlight === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return (await (await fetch(`${url}/_hookgate/deliveries`)).json()) as Record<string, unknown>[];
  }

  const deadLetters = (state: string) =>
    readdirSync(join(state, "dead-letters"))
      .filter((f) => f.endsWith(".json") && !f.startsWith("."))
      .map(
        (f) => JSON.parse(readFileSync(join(state, "dead-letters", f), "utf8")) as Record<string, unknown>,
      );

  it("queued work for a route not in routes.yaml is kept, not dead-lettered, and runs once a start has the route again", async () => {
    const state = stateWithQueued("state-route-removed", { receiveCount: 0, dedupe: "queued" });
    const logs: Record<string, unknown>[] = [];
    const without = await startWithoutRoutes(state, { port: 0, log: (line) => logs.push(line) });
    await new Promise((r) => setTimeout(r, 100));
    const health = (await (await fetch(`${without.url}/_hookgate/health`)).json()) as {
      queue: { waiting: number };
    };
    await without.close();
    expect(health.queue.waiting).to.equal(1);
    expect(deadLetters(state)).to.deep.equal([]);
    expect(logs.map((l) => l.msg)).to.include(
      "queued work for a route that is not in routes.yaml is kept until the route is back " +
        "(to drop it, stop serve and remove the route's lines from queue/journal.jsonl)",
    );

    let runs = 0;
    const withRoute = await startWithRouteR(state, {
      runAction: async () => ({ detail: `run ${++runs}` }) as ActionOutcome,
    });
    const history = await drained(withRoute.url);
    await withRoute.close();
    expect(runs).to.equal(1);
    expect(history.map((e) => [e.delivery, e.route, e.status])).to.deep.equal([["a", "r", "done"]]);
    expect(deadLetters(state)).to.deep.equal([]);
  });

  it("a queued message whose put line names no route ends in the dead letters, saying so", async () => {
    const state = stateWithQueued("state-route-unreadable", { route: 42, receiveCount: 0 });
    const gateway = await startWithoutRoutes(state, { port: 0 });
    const history = await drained(gateway.url);
    await gateway.close();
    const reason = "the queued message names no route";
    expect(deadLetters(state).map((l) => l.reason)).to.deep.equal([reason]);
    expect(history.map((e) => [e.status, e.error])).to.deep.equal([["dead", reason]]);
  });

  /** --max-attempts 2: the local queue's maxReceiveCount is 2 + REDRIVE_MARGIN, as the deployed queue's is. */
  const AT_MAX_RECEIVES = 2 + REDRIVE_MARGIN;

  /** Starts on a message already received maxReceiveCount times, its dedupe state as given; the history after. */
  async function settledAtMaxReceiveCount(name: string, dedupe: "queued" | "done", dedupeGeneration = 1) {
    const state = stateWithQueued(name, { receiveCount: AT_MAX_RECEIVES, dedupe, dedupeGeneration });
    let runs = 0;
    const gateway = await startWithRouteR(state, {
      maxAttempts: 2,
      runAction: async () => ({ detail: `run ${++runs}` }) as ActionOutcome,
    });
    const history = await drained(gateway.url);
    await gateway.close();
    expect(runs, "the action runs again").to.equal(0);
    return { state, history };
  }

  it("serve tells the action it is the last attempt on the receive its own --max-attempts names, and only then", async () => {
    const state = stateWithQueued("state-last-attempt", { receiveCount: 0, dedupe: "queued" });
    const seen: Array<boolean | undefined> = [];
    const gateway = await startWithRouteR(state, {
      maxAttempts: 2,
      retryDelayMs: 5,
      runAction: async (_item, clients) => {
        seen.push(clients.lastAttempt);
        throw new ActionError("Jenkins answered 503", { retryable: true });
      },
    });
    const history = await drained(gateway.url);
    await gateway.close();
    expect(seen).to.deep.equal([undefined, true]);
    expect(deadLetters(state).map((l) => l.reason)).to.deep.equal([
      "gave up after 2 receives: Jenkins answered 503",
    ]);
    expect(history.map((e) => e.status)).to.deep.equal(["dead"]);
  });

  it("serve gives the action the message's receive count past the first receive", async () => {
    const state = stateWithQueued("state-attempt", { receiveCount: 0, dedupe: "queued" });
    const seen: Array<number | undefined> = [];
    const gateway = await startWithRouteR(state, {
      maxAttempts: 3,
      retryDelayMs: 5,
      runAction: async (_item, clients) => {
        seen.push(clients.attempt);
        throw new ActionError("Jenkins timed out", { retryable: true });
      },
    });
    await drained(gateway.url);
    await gateway.close();
    expect(seen).to.deep.equal([undefined, 2, 3]);
  });

  it("serve tells the action on a first receive of a delivery that reads dead (a dead letter redriven) that an earlier attempt may have run it", async () => {
    const state = stateWithQueued("state-redriven", { receiveCount: 0, dedupe: "dead" });
    const seen: Array<[number | undefined, boolean | undefined]> = [];
    const gateway = await startWithRouteR(state, {
      maxAttempts: 3,
      runAction: async (_item, clients) => {
        seen.push([clients.attempt, clients.mayHaveRun]);
        return { status: "done", detail: "ran" };
      },
    });
    await drained(gateway.url);
    await gateway.close();
    expect(seen).to.deep.equal([[undefined, true]]);
  });

  it("a delivery the queue dead-letters past its maxReceiveCount (after crashes) is marked dead, so its redelivery is claimed again", async () => {
    const { state, history } = await settledAtMaxReceiveCount("state-backstop", "queued");
    expect(history.map((e) => [e.delivery, e.status])).to.deep.equal([["a", "dead"]]);
    const dedupe = new FileDedupeStore(join(state, "dedupe.jsonl"));
    expect(await dedupe.claim("r", "a")).to.deep.include({ claimed: true, generation: 2 });
    dedupe.close();
  });

  it("a delivery the queue dead-letters while the dedupe journal cannot be written gets one dead letter and a 'dedupe mark failed' line, not a redrive tried again and again", async () => {
    const state = stateWithQueued("state-backstop-full-disk", {
      receiveCount: AT_MAX_RECEIVES,
      dedupe: "queued",
    });
    const logs: Record<string, unknown>[] = [];
    const realWriteSync = fs.writeSync;
    // Only the dedupe journal's writes fail (a descriptor is known by its /proc link).
    fs.writeSync = ((fd: number, ...rest: unknown[]) => {
      if (
        fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith(`${join("state-backstop-full-disk", "dedupe.jsonl")}`)
      ) {
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      }
      return (realWriteSync as (...args: unknown[]) => number)(fd, ...rest);
    }) as typeof fs.writeSync;
    let gateway: Awaited<ReturnType<typeof startWithRouteR>> | undefined;
    try {
      gateway = await startWithRouteR(state, {
        maxAttempts: 2,
        retryDelayMs: 5,
        log: (line) => logs.push(line),
      });
      await drained(gateway.url);
    } finally {
      fs.writeSync = realWriteSync;
      await gateway?.close();
    }
    expect(deadLetters(state).map((letter) => (letter.item as WorkItem).deliveryId)).to.deep.equal(["a"]);
    expect(logs.filter((line) => line.msg === "dedupe mark failed").map((line) => line.state)).to.deep.equal([
      "dead",
    ]);
  });

  it("a message at its maxReceiveCount whose generation the dedupe store shows done (a crash before the journal recorded it) is settled done, not dead-lettered", async () => {
    const { state, history } = await settledAtMaxReceiveCount("state-done-at-max", "done");
    expect(deadLetters(state)).to.deep.equal([]);
    expect(history.map((e) => [e.delivery, e.status, e.attempts])).to.deep.equal([
      ["a", "done", AT_MAX_RECEIVES],
    ]);
  });

  it("a message at its maxReceiveCount whose delivery the dedupe store shows done at a later generation (its last receive was skipped, then a crash) is settled ignored, not dead-lettered, as the work path would have", async () => {
    const { state, history } = await settledAtMaxReceiveCount("state-later-done-at-max", "done", 2);
    expect(deadLetters(state)).to.deep.equal([]);
    expect(history.map((e) => [e.delivery, e.status, e.reason])).to.deep.equal([
      [
        "a",
        "ignored",
        "not run: the delivery's action already ran (its dedupe item reads done at generation 2)",
      ],
    ]);
  });

  it("a delivery whose last attempt a crash of serve cut short runs that attempt again after the restart, and the handler dead-letters it with its reason, as the deployed function does", async () => {
    const state = stateWithQueued("state-last-attempt-crashed", { receiveCount: 2, dedupe: "queued" });
    let runs = 0;
    const gateway = await startWithRouteR(state, {
      maxAttempts: 2,
      runAction: async () => {
        runs++;
        throw new ActionError("Jenkins answered 503", { retryable: true });
      },
    });
    const history = await drained(gateway.url);
    await gateway.close();
    expect(runs).to.equal(1);
    expect(deadLetters(state).map((letter) => letter.reason)).to.deep.equal([
      "gave up after 3 receives: Jenkins answered 503",
    ]);
    expect(history.map((e) => [e.delivery, e.status])).to.deep.equal([["a", "dead"]]);
    const dedupe = new FileDedupeStore(join(state, "dedupe.jsonl"));
    expect(await dedupe.claim("r", "a")).to.deep.include({ claimed: true, generation: 2 });
    dedupe.close();
  });

  it("a delivery whose last attempt a crash of serve cut short, redelivered meanwhile as generation 2, runs its action once after the restart: generation 1 is superseded by the queued generation 2, named in its line", async () => {
    // Generation 1 was marked dead before its last attempt (receive 2 of --max-attempts 2); serve accepted the
    // Git host's redelivery as generation 2, queued behind it in its group, and was killed in that attempt.
    const state = stateWithGenerations(
      "state-last-attempt-redelivered",
      [
        { generation: 1, receiveCount: 2 },
        { generation: 2, receiveCount: 0 },
      ],
      { state: "queued", generation: 2 },
    );
    const runs: number[] = [];
    const logs: Record<string, unknown>[] = [];
    const gateway = await startWithRouteR(state, {
      maxAttempts: 2,
      log: (line) => logs.push(line),
      runAction: async (work) => {
        runs.push(work.generation);
        return { status: "done", detail: "built" };
      },
    });
    const history = await drained(gateway.url);
    await gateway.close();
    expect(runs).to.deep.equal([2]);
    expect(
      logs
        .filter((line) => line.msg === "attempt")
        .map((line) => [line.generation, line.outcome, line.supersededBy]),
    ).to.deep.equal([
      [1, "superseded", 2],
      [2, "done", undefined],
    ]);
    expect(deadLetters(state)).to.deep.equal([]);
    expect(history.find((e) => e.generation === 2)?.status).to.equal("done");
    const dedupe = new FileDedupeStore(join(state, "dedupe.jsonl"));
    expect(dedupe.stateNow("r", "a")).to.deep.equal({ state: "done", generation: 2 });
    dedupe.close();
  });

  it("the delivery history shows a generation superseded by a later one as ignored, naming that generation, not done: its action never ran (and when the later one dies, no generation reads done)", async () => {
    // As above: generation 1 marked dead before its last attempt, generation 2 queued behind it, serve killed.
    const state = stateWithGenerations(
      "state-superseded-history",
      [
        { generation: 1, receiveCount: 2 },
        { generation: 2, receiveCount: 0 },
      ],
      { state: "queued", generation: 2 },
    );
    const runs: number[] = [];
    const gateway = await startWithRouteR(state, {
      maxAttempts: 2,
      log: () => undefined,
      runAction: async (work) => {
        runs.push(work.generation);
        throw new ActionError("Jenkins answered 404: no such job", { retryable: false });
      },
    });
    const history = await drained(gateway.url);
    await gateway.close();
    expect(runs).to.deep.equal([2]);
    expect(history.map((e) => [e.generation, e.status, e.reason])).to.deep.include.members([
      [1, "ignored", "not run: generation 2 of this delivery is queued and runs the action"],
    ]);
    expect(history.find((e) => e.generation === 2)?.status).to.equal("dead");
  });

  it("the delivery history shows a generation skipped because a later one already finished as ignored, naming that generation, not done", async () => {
    // Generation 1 was marked dead before its last attempt and serve was killed in it; the Git host's
    // redelivery, generation 2, ran and is done (its message gone); generation 1's message comes back.
    const state = stateWithGenerations("state-later-done-history", [{ generation: 1, receiveCount: 2 }], {
      state: "done",
      generation: 2,
    });
    const runs: number[] = [];
    const gateway = await startWithRouteR(state, {
      maxAttempts: 2,
      log: () => undefined,
      runAction: async (work) => {
        runs.push(work.generation);
        return { status: "done", detail: "built" };
      },
    });
    const history = await drained(gateway.url);
    await gateway.close();
    expect(runs).to.deep.equal([]);
    expect(history.map((e) => [e.generation, e.status, e.reason])).to.deep.equal([
      [
        1,
        "ignored",
        "not run: the delivery's action already ran (its dedupe item reads done at generation 2)",
      ],
    ]);
  });

  /**
   * Runs the crashed state to its end, then plays a kill -9 between the queue journal's delete of generation 1's
   * message and the history's write: its entry is set back to running (or taken out); answers the history of
   * the next start.
   */
  async function historyAfterCrashInSkip(
    state: string,
    entry: "running" | "lost",
    maxAttempts = 2,
  ): Promise<Record<string, unknown>[]> {
    const runAction = async () => ({ status: "done", detail: "built" }) as ActionOutcome;
    const first = await startWithRouteR(state, { maxAttempts, log: () => undefined, runAction });
    const before = await drained(first.url);
    await first.close();
    expect(before.find((e) => e.generation === 1)?.status).to.equal("ignored");
    const historyFile = join(state, "deliveries.json");
    const saved = JSON.parse(readFileSync(historyFile, "utf8")) as Record<string, unknown>[];
    const asAfterCrash = saved.flatMap((e) => {
      if (e.generation !== 1) return [e];
      if (entry === "lost") return [];
      const { reason: _, ...running } = e;
      return [{ ...running, status: "running" }];
    });
    writeFileSync(historyFile, JSON.stringify(asAfterCrash));
    const second = await startWithRouteR(state, { maxAttempts, log: () => undefined, runAction });
    const history = await drained(second.url);
    await second.close();
    return history;
  }

  for (const entry of ["running", "lost"] as const) {
    it(`after a kill -9 between the delete of a message superseded by a later generation and the history's write (its entry ${entry}), a restart settles it ignored, naming that generation`, async () => {
      const state = stateWithGenerations(
        `state-superseded-crash-${entry}`,
        [
          { generation: 1, receiveCount: 2 },
          { generation: 2, receiveCount: 0 },
        ],
        { state: "queued", generation: 2 },
      );
      const history = await historyAfterCrashInSkip(state, entry);
      expect(history.map((e) => [e.generation, e.status, e.attempts, e.reason])).to.deep.equal([
        [2, "done", 1, "built"],
        [1, "ignored", 3, "not run: generation 2 of this delivery is queued and runs the action"],
      ]);
    });

    it(`after a kill -9 between the delete of a message skipped because a later generation already finished and the history's write (its entry ${entry}), a restart settles it ignored, naming that generation`, async () => {
      const state = stateWithGenerations(
        `state-later-done-crash-${entry}`,
        [{ generation: 1, receiveCount: 2 }],
        {
          state: "done",
          generation: 2,
        },
      );
      const history = await historyAfterCrashInSkip(state, entry);
      expect(history.map((e) => [e.generation, e.status, e.attempts, e.reason])).to.deep.equal([
        [
          1,
          "ignored",
          3,
          "not run: the delivery's action already ran (its dedupe item reads done at generation 2)",
        ],
      ]);
    });
  }

  it("after a kill -9 between the delete of a message the queue settled at its maxReceiveCount because a later generation already finished and the history's write, a restart settles it ignored, naming that generation", async () => {
    const state = stateWithQueued("state-later-done-at-max-crash", {
      receiveCount: AT_MAX_RECEIVES,
      dedupe: "done",
      dedupeGeneration: 2,
    });
    const history = await historyAfterCrashInSkip(state, "running");
    expect(history.map((e) => [e.delivery, e.status, e.attempts, e.reason])).to.deep.equal([
      [
        "a",
        "ignored",
        AT_MAX_RECEIVES,
        "not run: the delivery's action already ran (its dedupe item reads done at generation 2)",
      ],
    ]);
  });

  /**
   * Runs the state to its dead letter, then plays a kill -9 between the queue journal's delete of its message and
   * the history's write (its entry set back to running, or taken out), with the Git host's redelivery accepted
   * after the dead mark (the dedupe store reads generation 2, queued); answers the history before and after the
   * next start.
   */
  async function historyAfterCrashInDeadLetter(state: string, entry: "running" | "lost") {
    const runAction = async (): Promise<ActionOutcome> => {
      throw new ActionError("Jenkins answered 400", { retryable: false });
    };
    const first = await startWithRouteR(state, { maxAttempts: 2, log: () => undefined, runAction });
    const before = await drained(first.url);
    await first.close();
    const historyFile = join(state, "deliveries.json");
    const saved = JSON.parse(readFileSync(historyFile, "utf8")) as Record<string, unknown>[];
    const asAfterCrash =
      entry === "lost" ? [] : saved.map(({ reason: _, error: __, ...e }) => ({ ...e, status: "running" }));
    writeFileSync(historyFile, JSON.stringify(asAfterCrash));
    const redelivered = { k: "r#a", s: "queued", g: 2, t: Date.now(), f: Date.now() };
    appendFileSync(join(state, "dedupe.jsonl"), `${JSON.stringify(redelivered)}\n`);
    const second = await startWithRouteR(state, { maxAttempts: 2, log: () => undefined, runAction });
    const after = await drained(second.url);
    await second.close();
    const shown = (history: Record<string, unknown>[]) =>
      history.map((e) => [e.generation ?? 1, e.status, e.attempts, e.error]);
    return { before: shown(before), after: shown(after) };
  }

  for (const entry of ["running", "lost"] as const) {
    it(`after a kill -9 between the delete of a message the handler dead-lettered and the history's write (its entry ${entry}), a restart settles it dead with the error it showed live, even when a redelivery accepted since made the dedupe store read a later generation`, async () => {
      const state = stateWithGenerations(
        `state-dead-crash-redelivered-${entry}`,
        [{ generation: 1, receiveCount: 1 }],
        { state: "queued", generation: 1 },
      );
      const { before, after } = await historyAfterCrashInDeadLetter(state, entry);
      expect(before).to.deep.equal([[1, "dead", 2, "final: Jenkins answered 400"]]);
      expect(after).to.deep.equal(before);
    });
  }

  it("after a kill -9 between the delete of a message the queue dead-lettered itself at its maxReceiveCount and the history's write, a restart settles it dead with its reason, even when a redelivery accepted since made the dedupe store read a later generation", async () => {
    const state = stateWithQueued("state-backstop-dead-crash", {
      receiveCount: AT_MAX_RECEIVES,
      dedupe: "queued",
    });
    const { after } = await historyAfterCrashInDeadLetter(state, "running");
    expect(after).to.deep.equal([
      [1, "dead", AT_MAX_RECEIVES, `failed ${AT_MAX_RECEIVES} receives (maxReceiveCount reached)`],
    ]);
  });

  it("a claim a crash left pending (the 202 never went out) is taken over by the redelivery right after the restart, not answered 503 for 60 s: its action runs once, whether its put line reached the queue journal (a) or not (b)", async () => {
    const state = stateWithQueued("state-pending-claims", { receiveCount: 0 });
    const claimedAt = Date.now();
    const pending = (delivery: string) =>
      JSON.stringify({ k: `r#${delivery}`, s: "pending", g: 1, t: claimedAt, f: claimedAt });
    writeFileSync(join(state, "dedupe.jsonl"), `${pending("a")}\n${pending("b")}\n`);
    const runs: string[] = [];
    let letRun: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      letRun = resolve;
    });
    const gateway = await startWithRouteR(state, {
      runAction: async (work) => {
        runs.push(work.deliveryId);
        await running; // "a", resumed from the journal, is still running when it is redelivered
        return { detail: "built" } as ActionOutcome;
      },
    });
    try {
      const secret = JSON.parse(readFileSync(gateway.secretsFile, "utf8"))["test/hook"] as string;
      const body = Buffer.from(JSON.stringify(PUSH_ACME_API));
      const redeliver = async (delivery: string) => {
        const answer = await fetch(`${gateway.url}/hooks/r`, {
          method: "POST",
          headers: githubHeaders(secret, body, "push", delivery),
          body,
        });
        return [answer.status, ((await answer.json()) as { status: string }).status];
      };
      expect(await redeliver("a")).to.deep.equal([202, "queued"]);
      expect(await redeliver("b")).to.deep.equal([202, "queued"]);
      letRun();
      const history = await drained(gateway.url);
      expect(runs.sort()).to.deep.equal(["a", "b"]);
      expect(
        history
          .filter((e) => e.status !== "ignored")
          .map((e) => [e.delivery, e.status])
          .sort(),
      ).to.deep.equal([
        ["a", "done"],
        ["b", "done"],
      ]);
    } finally {
      letRun();
      await gateway.close();
    }
  });

  it("a start removes the dead letters older than 14 days (the deployed DLQ's retention) and keeps the others", async () => {
    const state = join(dir, "state-old-dead-letters");
    mkdirSync(join(state, "dead-letters"), { recursive: true });
    const letterName = (ageMs: number, delivery: string) =>
      `${new Date(Date.now() - ageMs).toISOString().replace(/[:.]/g, "-")}-0000-r-${delivery}-g1.json`;
    const old = letterName(15 * 24 * 3_600_000, "old");
    const recent = letterName(3_600_000, "recent");
    for (const name of [old, recent]) writeFileSync(join(state, "dead-letters", name), "{}");
    const logs: Record<string, unknown>[] = [];
    const gateway = await startWithRouteR(state, { log: (line) => logs.push(line) });
    await gateway.close();
    expect(readdirSync(join(state, "dead-letters"))).to.deep.equal([recent]);
    expect(logs.filter((line) => line.msg === "dead letters older than 14 days removed")).to.deep.equal([
      { level: "info", msg: "dead letters older than 14 days removed", count: 1 },
    ]);
  });

  it("while running, a dead letter past its 14 days is removed too (once an hour; here every 20 ms)", async () => {
    const state = join(dir, "state-old-dead-letters-running");
    const gateway = await startWithRouteR(state, { deadLetterPruneEveryMs: 20 });
    try {
      const name = `${new Date(Date.now() - 15 * 24 * 3_600_000).toISOString().replace(/[:.]/g, "-")}-0000-r-d-g1.json`;
      writeFileSync(join(state, "dead-letters", name), "{}");
      for (let i = 0; i < 500 && readdirSync(join(state, "dead-letters")).length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(readdirSync(join(state, "dead-letters"))).to.deep.equal([]);
    } finally {
      await gateway.close();
    }
  });

  it("a delivery's done mark is in dedupe.jsonl before the queue journal records its message deleted, also when another message's retry had the queue's write of the turn scheduled first: a kill -9 between the two writes left it queued there with no message", async () => {
    // Two queued messages in two groups: "b" fails at once (its retry schedules the queue's write of the
    // turn), "a" finishes a moment later in the same turn of the event loop.
    const state = join(dir, "state-mark-first");
    mkdirSync(join(state, "queue"), { recursive: true });
    const queueJournal = join(state, "queue", "journal.jsonl");
    const dedupeJournal = join(state, "dedupe.jsonl");
    const put = (id: string, seq: number, delivery: string, repo: string) =>
      JSON.stringify({
        op: "put",
        m: { id, seq, route: "r", group: repo, dedupeId: `${delivery}:1`, sentAt: 1, receiveCount: 0 },
        item: item(delivery, repo),
      });
    writeFileSync(queueJournal, `${put("m1", 0, "a", "acme/api")}\n${put("m2", 1, "b", "acme/other")}\n`);
    const mark = (delivery: string) =>
      JSON.stringify({ k: `r#${delivery}`, s: "queued", g: 1, t: Date.now() });
    writeFileSync(dedupeJournal, `${mark("a")}\n${mark("b")}\n`);
    const realOpenSync = fs.openSync;
    const realWriteSync = fs.writeSync;
    const queueFds = new Set<number>();
    /** Per deleted message, its delivery's state in dedupe.jsonl as the queue's del line was written. */
    const markWhenDeleted: string[] = [];
    fs.openSync = ((path: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
      const fd = realOpenSync(path, flags, mode);
      if (String(path) === queueJournal) queueFds.add(fd);
      return fd;
    }) as typeof fs.openSync;
    fs.writeSync = ((fd: number, data: NodeJS.ArrayBufferView, ...rest: never[]) => {
      if (queueFds.has(fd)) {
        const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
        for (const [, id] of text.matchAll(/"op":"del","id":"(m\d)"/g)) {
          const delivery = id === "m1" ? "a" : "b";
          const states = readFileSync(dedupeJournal, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as { k: string; s: string })
            .filter((line) => line.k === `r#${delivery}`);
          markWhenDeleted.push(`${delivery} ${states[states.length - 1]?.s}`);
        }
      }
      return (realWriteSync as (...args: unknown[]) => number)(fd, data, ...rest);
    }) as typeof fs.writeSync;
    const runs: string[] = [];
    try {
      const gateway = await startWithRouteR(state, {
        retryDelayMs: 0,
        runAction: async (work) => {
          runs.push(work.deliveryId);
          if (work.deliveryId === "b" && runs.length === 2) {
            throw new ActionError("Jenkins answered 503", { retryable: true });
          }
          if (work.deliveryId === "a") await new Promise((resolve) => setImmediate(resolve));
          return { detail: "built" } as ActionOutcome;
        },
      });
      await drained(gateway.url);
      await gateway.close();
    } finally {
      fs.openSync = realOpenSync;
      fs.writeSync = realWriteSync;
    }
    expect(runs).to.deep.equal(["a", "b", "b"]);
    expect(markWhenDeleted.sort()).to.deep.equal(["a done", "b done"]);
  });
});

describe("Local secrets", () => {
  it("ensureWebhookSecrets adds a 64-hex secret for a missing name, keeps the others, and writes mode 0600", () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ keep: "me" }));
    const result = ensureWebhookSecrets(file, ["keep", "new/secret"]);
    expect(result.created).to.deep.equal(["new/secret"]);
    const data = JSON.parse(readFileSync(file, "utf8"));
    expect(data.keep).to.equal("me");
    expect(data["new/secret"]).to.match(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it("FileSecretStore hands JSON values over as JSON text and throws SecretNotFoundError for a missing name", async () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ plain: "v", creds: { user: "u", token: "t" } }));
    const store = new FileSecretStore(file);
    expect(await store.versions("plain")).to.deep.equal(["v"]);
    expect(JSON.parse((await store.versions("creds"))[0] ?? "")).to.deep.equal({ user: "u", token: "t" });
    let error: unknown;
    await store.versions("absent").catch((e) => {
      error = e;
    });
    expect(error).to.be.instanceOf(SecretNotFoundError);
  });

  it("FileSecretStore.peek has a secret between checks of the file, and nothing when a check is due or the name is missing", async () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ plain: "v", empty: "" }));
    let clock = 1_000_000;
    const store = new FileSecretStore(file, () => clock);
    expect(store.peek("plain")).to.deep.equal(["v"]);
    expect(store.peek("empty")).to.equal(undefined);
    expect(store.peek("absent")).to.equal(undefined);
    clock += 150; // past the refresh interval (100 ms), inside the plain one (1 s)
    expect(store.peek("plain", { refresh: true })).to.equal(undefined);
    expect(store.peek("plain")).to.deep.equal(["v"]);
    clock += 1_000;
    expect(store.peek("plain")).to.equal(undefined);
    writeFileSync(file, JSON.stringify({ plain: "edited" }));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000)); // a new mtime, whatever the clock's grain
    expect(await store.versions("plain")).to.deep.equal(["edited"]);
    expect(store.peek("plain")).to.deep.equal(["edited"]);
  });

  it("FileSecretStore keeps the last good secrets while the file is briefly gone (an editor saving it by rename)", async () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, JSON.stringify({ hook: "v1" }));
    let clock = 1_000_000;
    const store = new FileSecretStore(file, () => clock);
    renameSync(file, `${file}~`); // vim's save: the old file out of the way, then the new one written
    clock += 1_500;
    expect(await store.versions("hook")).to.deep.equal(["v1"]);
    writeFileSync(file, JSON.stringify({ hook: "v2" }));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    clock += 1_500;
    expect(await store.versions("hook")).to.deep.equal(["v2"]);
  });

  it("FileSecretStore refuses a secrets file that is not a JSON object, naming the file", () => {
    const file = join(dir, "secrets.json");
    writeFileSync(file, "[1,2]");
    expect(() => new FileSecretStore(file)).to.throw(file);
  });

  it("FileSecretStore refuses a secret written as a number or a boolean, naming it (used as text, it is guessable)", () => {
    const file = join(dir, "secrets.json");
    for (const [name, value] of [
      ["gh", 12345],
      ["lab", true],
    ] as const) {
      writeFileSync(file, JSON.stringify({ ok: "a-real-secret", [name]: value }));
      expect(() => new FileSecretStore(file))
        .to.throw(SecretsFileError)
        .with.property("message", `${file}: "${name}" is a ${typeof value}; write the secret as a string`);
    }
  });

  it("FileSecretStore names the secrets file when it is missing or a directory", () => {
    expect(() => new FileSecretStore(join(dir, "none.json")))
      .to.throw(SecretsFileError)
      .with.property("message", `secrets file ${join(dir, "none.json")} not found`);
    expect(() => new FileSecretStore(dir))
      .to.throw(SecretsFileError)
      .with.property("message", `secrets file ${dir} is a directory`);
  });

  it("startLocalGateway clears what a stop left in <state-dir>/tmp (s3-zip's run directories, and only those) and <state-dir>/s3/.tmp, and keeps the objects", async () => {
    const state = join(dir, "state-tmp");
    for (const leftover of [
      "tmp/hookgate-zip-123.0-0123456789ab/archive.zip",
      "tmp/hookgate-zip-Ab12Cd/archive.zip", // an older serve's mkdtemp name
      "tmp/cache/notes.txt", // the user's own: a --state-dir that is a project's directory
      "tmp/build.log",
      "s3/.tmp/part.part",
      "s3/bucket/kept.zip",
    ]) {
      mkdirSync(join(state, leftover, ".."), { recursive: true });
      writeFileSync(join(state, leftover), "x");
    }
    const gateway = await startWithoutRoutes(state, { port: 0 });
    await gateway.close();
    expect(readdirSync(join(state, "tmp")).sort()).to.deep.equal(["build.log", "cache"]);
    expect(readFileSync(join(state, "tmp", "cache", "notes.txt"), "utf8")).to.equal("x");
    expect(existsSync(join(state, "s3", ".tmp"))).to.equal(false);
    expect(readFileSync(join(state, "s3", "bucket", "kept.zip"), "utf8")).to.equal("x");
  });

  it("startLocalGateway removes the temporary files a stop in the middle of a metadata write left beside the objects under s3/, and only those", async () => {
    const state = join(dir, "state-s3-tmp");
    const leftovers = [
      "s3/bucket-a/.a.zip.metadata.json.0123456789ab.tmp",
      "s3/bucket-a/acme/api/main/.acme_api.zip.metadata.json.abcdef012345.tmp",
    ];
    const kept = [
      "s3/bucket-a/acme/api/main/acme_api.zip",
      "s3/bucket-a/acme/api/main/acme_api.zip.metadata.json",
      // Another target's temporary name, another program's, a key's folder of that name: not ours.
      "s3/bucket-a/.a.zip.0123456789ab.tmp",
      "s3/bucket-a/.a.zip.metadata.json.xyz.tmp",
      "s3/bucket-a/.d.metadata.json.0123456789ab.tmp/inside.zip",
    ];
    for (const file of [...leftovers, ...kept]) {
      mkdirSync(join(state, file, ".."), { recursive: true });
      writeFileSync(join(state, file), "x");
    }
    const gateway = await startWithoutRoutes(state, { port: 0 });
    await gateway.close();
    for (const file of leftovers) expect(existsSync(join(state, file)), file).to.equal(false);
    for (const file of kept) expect(readFileSync(join(state, file), "utf8"), file).to.equal("x");
  });

  it("startLocalGateway removes the temporary files a stop in the middle of a rewrite left, and only those", async () => {
    const state = join(dir, "state-atomic-tmp");
    const leftovers = [
      ".deliveries.json.0123456789ab.tmp",
      "queue/.journal.jsonl.0123456789ab.tmp",
      "dead-letters/.r-a-1.json.0123456789ab.tmp",
    ];
    const kept = ["notes.tmp", "queue/.journal.jsonl.swp", "dead-letters/.r-a-1.json.xyz.tmp"];
    for (const file of [...leftovers, ...kept]) {
      mkdirSync(join(state, file, ".."), { recursive: true });
      writeFileSync(join(state, file), "x");
    }
    const gateway = await startWithoutRoutes(state, { port: 0 });
    await gateway.close();
    for (const file of leftovers) expect(existsSync(join(state, file)), file).to.equal(false);
    for (const file of kept) expect(readFileSync(join(state, file), "utf8"), file).to.equal("x");
  });

  for (const journal of ["queue/journal.jsonl", "dedupe.jsonl"]) {
    it(`startLocalGateway refuses to start on a ${journal} that is a directory, with a message naming it`, async () => {
      const state = join(dir, "state-journal-dir");
      mkdirSync(join(state, journal), { recursive: true });
      const failure = await startWithoutRoutes(state, { port: 0 }).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message).to.equal(`cannot read ${join(state, journal)}: it is a directory`);
      // The lock is let go: once the directory is moved away, serve starts.
      rmSync(join(state, journal), { recursive: true });
      await (await startWithoutRoutes(state, { port: 0 })).close();
    });
  }

  it("startLocalGateway starts on a queue journal whose finished message has a sentAt no Date can hold", async () => {
    // A finished message settles the delivery history at start, dated by its sentAt: a journal edited by
    // hand (or from a clock gone wrong) may hold any finite number there, which toISOString refuses.
    const state = stateWithFinishedDelivery("state-odd-sent-at", 1e300);
    const gateway = await startWithoutRoutes(state, { port: 0 });
    await gateway.close();
    const history = JSON.parse(readFileSync(join(state, "deliveries.json"), "utf8")) as Record<
      string,
      unknown
    >[];
    expect(history.map((e) => [e.delivery, e.status])).to.deep.equal([["a", "done"]]);
  });

  it("startLocalGateway starts when the history settled from the queue journal cannot be written", async () => {
    const state = stateWithFinishedDelivery("state-history-unwritable", Date.now());
    mkdirSync(join(state, "deliveries.json", "in-the-way"), { recursive: true }); // a rename onto it fails
    const lines: Record<string, unknown>[] = [];
    const gateway = await startWithoutRoutes(state, { port: 0, log: (line) => lines.push(line) });
    const history = (await (await fetch(`${gateway.url}/_hookgate/deliveries`)).json()) as unknown;
    await gateway.close().catch(() => undefined); // its last write fails the same way
    expect(JSON.stringify(history)).to.contain('"status":"done"');
    expect(lines.map((l) => l.msg)).to.include("the delivery history could not be written");
  });

  it("startLocalGateway that fails after listening (a queue journal it cannot read) closes its server", async () => {
    const state = join(dir, "state-journal-unreadable");
    mkdirSync(join(state, "queue", "journal.jsonl"), { recursive: true });
    // Port 0, and the server is caught as it listens: a port looked up free and bound again (by the gateway,
    // then by this test) could be taken by another process in between.
    const listening: Server[] = [];
    const listen = Server.prototype.listen;
    Server.prototype.listen = function (this: Server, ...args: unknown[]) {
      listening.push(this);
      return (listen as (...a: unknown[]) => Server).apply(this, args);
    } as typeof listen;
    let failed: NodeJS.ErrnoException;
    try {
      failed = await startWithoutRoutes(state, { port: 0 }).then(
        () => expect.fail("the gateway started"),
        (error: NodeJS.ErrnoException) => error,
      );
    } finally {
      Server.prototype.listen = listen;
    }
    expect(failed.code).to.equal("EISDIR");
    expect(listening, "servers the gateway listened on").to.have.length(1);
    // Left listening, the port would be taken (and serve would hang there with its lock released).
    expect(listening[0]?.listening, "the gateway's server is listening").to.equal(false);
  });

  it("startLocalGateway refuses a state dir that is a file, saying so", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const failure = await startWithoutRoutes(file).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(failure)).to.equal(`Error: the state dir ${file} is not a directory`);
  });

  // V8's JSON.parse message can quote the text it read: here, a secret.
  const brokenFiles: Array<[string, string, string]> = [
    ["a value without quotes", '{"gh": hunter2-secret}', "secrets.json: not valid JSON (line 1, column 8)"],
    [
      "a missing comma",
      '{\n  "gh": "hunter2-secret" "x": 1}',
      "secrets.json: not valid JSON (line 2, column 26)",
    ],
    ["an unterminated string", '{"gh": "hunter2-secret', "secrets.json: not valid JSON (line 1, column 23)"],
  ];
  for (const [what, text, message] of brokenFiles) {
    it(`a secrets file with ${what} is refused with where it breaks, never with what it holds`, () => {
      const file = join(dir, "secrets.json");
      writeFileSync(file, text);
      for (const load of [() => new FileSecretStore(file), () => ensureWebhookSecrets(file, ["gh"])]) {
        expect(load)
          .to.throw(Error)
          .that.satisfies((error: Error) => {
            expect(error.message.replace(`${dir}/`, "")).to.match(
              new RegExp(`^${escapeRegExp(message)}(;|$)`),
            );
            expect(error.message).not.to.include("hunter2");
            return true;
          });
      }
    });
  }
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A state dir whose queue journal shows delivery "a" of route "r" sent at `sentAt`, finished, and done. */
function stateWithFinishedDelivery(name: string, sentAt: number): string {
  const state = join(dir, name);
  mkdirSync(join(state, "queue"), { recursive: true });
  const m = {
    id: "m1",
    seq: 0,
    route: "r",
    group: "acme/api",
    dedupeId: "a:1",
    sentAt,
    receiveCount: 1,
    notBefore: 1,
  };
  writeFileSync(
    join(state, "queue", "journal.jsonl"),
    `${JSON.stringify({ op: "put", m, item: item("a") })}\n${JSON.stringify({ op: "del", id: "m1" })}\n`,
  );
  writeFileSync(
    join(state, "dedupe.jsonl"),
    `${JSON.stringify({ k: "r#a", s: "done", g: 1, t: Date.now() })}\n`,
  );
  return state;
}

/** A gateway on `stateDir` with one route, "r" (acme/api to a Jenkins job), running `runAction`. */
function startWithRouteR(
  stateDir: string,
  options: Partial<Parameters<typeof startLocalGateway>[0]> = {},
): ReturnType<typeof startLocalGateway> {
  const routes = join(dir, "routes-r.yaml");
  writeFileSync(routes, ROUTE_R_YAML);
  return startLocalGateway({
    config: loadRoutesFile(routes),
    stateDir,
    port: 0,
    runAction: async () => ({ detail: "" }) as ActionOutcome,
    ...options,
  });
}

/** A gateway with no routes on `stateDir`, for what its start does with the state files. */
function startWithoutRoutes(
  stateDir: string,
  options: Partial<Parameters<typeof startLocalGateway>[0]> = {},
): ReturnType<typeof startLocalGateway> {
  return startLocalGateway({
    config: { version: 1, routes: [] } as unknown as RoutesConfig,
    stateDir,
    runAction: async () => ({ detail: "" }) as ActionOutcome,
    ...options,
  });
}

describe("Function: startLocalGateway, on a body over the limit", () => {
  it("a 413 to a client that asked for Connection: close lets it send its whole body and read the answer, without a reset", async () => {
    const gateway = await startWithRouteR(join(dir, "state-413-close"));
    const socket = connect(gateway.port, "127.0.0.1");
    try {
      let received = "";
      const errors: string[] = [];
      socket.on("data", (d: Buffer) => {
        received += d.toString("latin1");
      });
      socket.on("error", (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      const bodyBytes = 10 * 1024 * 1024 + 64 * 1024;
      socket.write(
        "POST /hooks/r HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\n" +
          `content-length: ${bodyBytes}\r\n\r\n`,
      );
      const piece = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent < bodyBytes && socket.writable; sent += piece.length) {
        if (!socket.write(piece)) await Promise.race([new Promise((r) => socket.once("drain", r)), closed]);
      }
      socket.end();
      await closed;
      expect(errors).to.deep.equal([]);
      expect(received).to.match(/^HTTP\/1\.1 413 /);
    } finally {
      socket.destroy();
      await gateway.close();
    }
  });

  it("closes the connection of a 413 whose client keeps sending past refusedBodyLingerMs", async () => {
    const gateway = await startWithRouteR(join(dir, "state-linger"), { refusedBodyLingerMs: 300 });
    const socket = connect(gateway.port, "127.0.0.1");
    try {
      let received = "";
      socket.on("data", (d: Buffer) => {
        received += d.toString("latin1");
      });
      socket.on("error", () => undefined); // the reset under our writes is the point
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.write(
        "POST /hooks/r HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
          `content-length: ${20 * 1024 * 1024}\r\n\r\n`,
      );
      // A slow client: 16 KB every 20 ms would take about 25 s to send its 20 MB.
      const piece = Buffer.alloc(16 * 1024, 0x20);
      const sending = setInterval(() => socket.writable && socket.write(piece), 20);
      const outcome = await Promise.race([
        closed.then(() => "closed"),
        new Promise<string>((r) => setTimeout(() => r("still open after 10 s"), 10_000)),
      ]);
      clearInterval(sending);
      expect(outcome).to.equal("closed");
      expect(received).to.match(/^HTTP\/1\.1 413 /);
    } finally {
      socket.destroy();
      await gateway.close();
    }
  });
});
