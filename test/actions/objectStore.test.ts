import { createHash, randomBytes } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { expect } from "chai";
import { S3ObjectStore } from "../../src/aws/objectStore";
import { ActionError, ConditionalWriteUnsupportedError, ObjectChangedError } from "../../src/core/errors";
import { createLocalS3Client, type LocalS3, startLocalS3 } from "../support/s3";
import { type Reply, type ScriptedServer, type Seen, scriptedServer } from "../support/scriptedServer";
import { withSilentServer } from "../support/silentServer";

const BUCKET = "objects";
const MiB = 1024 * 1024;

/** A stream of `data` in uneven chunks, so part boundaries fall inside chunks. */
function unevenStream(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = [65_537, 1_000_003, 7, 3 * MiB + 1][i % 4] ?? 1;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks);
}

describe("Class: S3ObjectStore against an S3 that never answers", () => {
  /** The deadline failure an S3ObjectStore call gives against a silent S3 endpoint. */
  async function failureAgainstSilentS3(call: (store: S3ObjectStore) => Promise<unknown>): Promise<unknown> {
    return withSilentServer(async (endpoint) => {
      const client = new S3Client({
        endpoint,
        forcePathStyle: true,
        region: "eu-west-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      try {
        return await call(new S3ObjectStore(client)).then(
          () => undefined,
          (e: unknown) => e,
        );
      } finally {
        client.destroy();
      }
    });
  }

  it("deletePrefix cuts a hanging S3 call at the function's deadline, as a retryable failure", async () => {
    const err = await failureAgainstSilentS3((store) =>
      store.deletePrefix(BUCKET, "pr/7/", { deadlineMs: Date.now() + 300 }),
    );
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).retryable).to.equal(true);
    expect((err as ActionError).message).to.contain("the function's time ran out");
  });

  it("head cuts a hanging HeadObject at the function's deadline, as a retryable failure", async () => {
    const err = await failureAgainstSilentS3((store) =>
      store.head(BUCKET, "zips/a.zip", { deadlineMs: Date.now() + 300 }),
    );
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).retryable).to.equal(true);
    expect((err as ActionError).message).to.contain("the function's time ran out");
  });

  it("put abandons the upload at the function's deadline, as a retryable failure that says so", async () => {
    const err = await failureAgainstSilentS3((store) =>
      store.put(BUCKET, "late.zip", Readable.from([Buffer.from("zip bytes")]), {
        metadata: {},
        deadlineMs: Date.now() + 300,
      }),
    );
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).retryable).to.equal(true);
    expect((err as ActionError).message).to.contain("stopped where the function's time ran out");
  });
});

/** A proxy to `target` that holds the requests `slow` picks for `delayMs` before passing them on. */
async function delayingProxy(
  target: string,
  slow: (method: string, url: string) => boolean,
  delayMs: number,
) {
  const to = new URL(target);
  const server = createServer((req, res) => {
    const forward = () => {
      const upstream = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (slow(req.method ?? "", req.url ?? "")) {
      req.pause();
      setTimeout(forward, delayMs);
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe("Class: S3ObjectStore (s3rver)", function () {
  this.timeout(60_000);
  let s3: LocalS3;
  before(async () => {
    s3 = await startLocalS3({ buckets: [BUCKET] });
  });
  after(async () => {
    await s3.close();
  });
  beforeEach(() => {
    s3.faults.failEveryUploadPart = false;
    s3.faults.failUploadPartRequests = [];
    s3.faults.deleteErrors = undefined;
    s3.faults.headStatus = undefined;
    s3.faults.everyRequest = undefined;
  });

  it("head gives back the user metadata put stored and the object's ETag, through the real S3 client", async () => {
    const metadata = { sha: "abc123", "accepted-at": "2026-12-06T02:00:00.000Z", "delivery-id": "d-1" };
    const store = new S3ObjectStore(s3.client);
    await store.put(BUCKET, "head/zip.zip", Readable.from([Buffer.from("zip")]), { metadata });
    const md5 = createHash("md5").update("zip").digest("hex");
    expect(await store.head(BUCKET, "head/zip.zip")).to.deep.equal({ metadata, etag: `"${md5}"` });
  });

  it("put with If-Match on the ETag head gave, and with If-None-Match: * on a new key, writes (s3rver ignores the condition)", async () => {
    const store = new S3ObjectStore(s3.client);
    await store.put(BUCKET, "cond/a.zip", Readable.from([Buffer.from("one")]), {
      metadata: {},
      condition: { ifNoneMatch: "*" },
    });
    const etag = (await store.head(BUCKET, "cond/a.zip"))?.etag as string;
    await store.put(BUCKET, "cond/a.zip", Readable.from([Buffer.from("two")]), {
      metadata: {},
      condition: { ifMatch: etag },
    });
    expect((await s3.getObject(BUCKET, "cond/a.zip")).body.toString()).to.equal("two");
  });

  it("head answers undefined for a key with no object (S3's 404)", async () => {
    expect(await new S3ObjectStore(s3.client).head(BUCKET, "head/none.zip")).to.equal(undefined);
  });

  it("head answers undefined when HeadObject is refused (403) for a key the listing shows absent", async () => {
    // Without s3:ListBucket (or with a grant S3 does not count), S3 answers a missing key's HEAD with 403.
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "head/absent.zip.old", Body: "x" }));
    s3.faults.headStatus = 403;
    expect(await new S3ObjectStore(s3.client).head(BUCKET, "head/absent.zip")).to.equal(undefined);
  });

  it("head throws the 403 when HeadObject is refused for a key the listing shows present", async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "head/denied.zip", Body: "x" }));
    s3.faults.headStatus = 403;
    const err = await new S3ObjectStore(s3.client).head(BUCKET, "head/denied.zip").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).to.equal(403);
  });

  it("head throws when HeadObject and the listing are both refused, instead of taking the key for absent", async () => {
    s3.faults.everyRequest = { status: 403, code: "AccessDenied", message: "Access Denied" };
    const err = await new S3ObjectStore(s3.client).head(BUCKET, "head/none.zip").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error | undefined)?.name).to.equal("AccessDenied");
  });

  it("head throws a server error (500) rather than answer absent", async () => {
    s3.faults.headStatus = 500;
    const err = await new S3ObjectStore(s3.client).head(BUCKET, "head/zip.zip").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).to.equal(500);
  });

  it("put streams a body larger than one part as a multipart upload and stores the exact bytes and metadata", async () => {
    const data = randomBytes(12 * MiB + 12_345);
    const before = s3.uploadPartRequests();
    await new S3ObjectStore(s3.client).put(BUCKET, "multi/exact.bin", unevenStream(data), {
      metadata: { sha: "abc" },
      contentType: "application/zip",
    });
    const object = await s3.getObject(BUCKET, "multi/exact.bin");
    expect(object.body.equals(data)).to.equal(true);
    expect(object.metadata).to.deep.equal({ sha: "abc" });
    expect(object.contentType).to.equal("application/zip");
    expect(s3.uploadPartRequests() - before).to.equal(3);
    expect(s3.openUploads()).to.deep.equal([]);
  });

  it("put sends a body smaller than one part as a single PutObject", async () => {
    const before = s3.requests.length;
    await new S3ObjectStore(s3.client).put(
      BUCKET,
      "single/small.txt",
      Readable.from([Buffer.from("hello")]),
      { metadata: {} },
    );
    expect(
      s3.requests.slice(before).filter((r) => r.includes("uploads") || r.includes("partNumber")),
    ).to.deep.equal([]);
    expect((await s3.getObject(BUCKET, "single/small.txt")).body.toString()).to.equal("hello");
  });

  it("put stores an empty body as an empty object", async () => {
    await new S3ObjectStore(s3.client).put(BUCKET, "single/empty", Readable.from([]), { metadata: {} });
    expect((await s3.getObject(BUCKET, "single/empty")).body.length).to.equal(0);
  });

  it("put works with the SDK's default checksum mode (CRC32 on the parts, as deployed)", async () => {
    const client = new S3Client({
      endpoint: s3.url,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    try {
      const data = randomBytes(11 * MiB);
      await new S3ObjectStore(client).put(BUCKET, "multi/crc.bin", unevenStream(data), { metadata: {} });
      expect((await s3.getObject(BUCKET, "multi/crc.bin")).body.equals(data)).to.equal(true);
    } finally {
      client.destroy();
    }
  });

  it("put aborts the multipart upload and leaves no object when the body fails mid-way", async () => {
    const abortedBefore = s3.abortedUploads().length;
    const body = new Readable({ read() {} });
    body.push(randomBytes(6 * MiB));
    setTimeout(() => body.destroy(new Error("archive read failed")), 50);
    const err = await new S3ObjectStore(s3.client)
      .put(BUCKET, "multi/broken.bin", body, { metadata: {} })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message).to.equal("archive read failed");
    expect(await s3.exists(BUCKET, "multi/broken.bin")).to.equal(false);
    expect(s3.openUploads()).to.deep.equal([]);
    expect(s3.abortedUploads().length).to.equal(abortedBefore + 1);
  });

  it("deletePrefix deletes every object under the prefix across pages and nothing else", async () => {
    for (let i = 0; i < 25; i++) {
      await s3.client.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `pr/7/f-${String(i).padStart(2, "0")}`, Body: "x" }),
      );
    }
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: "pr/70/keep", Body: "x" }));
    const count = await new S3ObjectStore(s3.client, { pageSize: 10 }).deletePrefix(BUCKET, "pr/7/");
    expect(count).to.equal(25);
    expect(await s3.listKeys(BUCKET, "pr/")).to.deep.equal(["pr/70/keep"]);
    expect(await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "pr/7/")).to.equal(0);
  });

  it("deletePrefix deletes keys that plain XML would change (a carriage return), and keys with a space, a plus or a percent", async () => {
    const keys = ["cr/a\rb", "cr/a\r\nb", "cr/a b", "cr/a+b", "cr/100%.txt", "cr/ç/x"];
    for (const Key of keys) await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }));
    expect(await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "cr/")).to.equal(keys.length);
    for (const key of keys) expect(await s3.exists(BUCKET, key), JSON.stringify(key)).to.equal(false);
  });

  it("put ends the multipart upload it abandons at the deadline before it returns, so no parts stay behind", async () => {
    // Parts take 1.5 s to reach S3: the deadline comes first, with a part in flight.
    const proxy = await delayingProxy(
      s3.url,
      (method, url) => method === "PUT" && url.includes("partNumber"),
      1500,
    );
    const client = createLocalS3Client(proxy.url);
    try {
      const err = await new S3ObjectStore(client)
        .put(BUCKET, "late/multi.zip", Readable.from([Buffer.alloc(6 * MiB, 1)]), {
          metadata: {},
          deadlineMs: Date.now() + 400,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).to.be.instanceOf(ActionError);
      expect(s3.openUploads()).to.deep.equal([]);
    } finally {
      await new Promise((resolve) => setTimeout(resolve, 1600)); // let the held part pass before closing
      client.destroy();
      proxy.close();
    }
  });

  it("deletePrefix stops between pages once the function's deadline has passed, retryable, the rest left for the next attempt", async () => {
    for (let i = 0; i < 3; i++) {
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `late/${i}`, Body: "x" }));
    }
    const err = await new S3ObjectStore(s3.client, { pageSize: 1 })
      .deletePrefix(BUCKET, "late/", { deadlineMs: Date.now() - 1 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).retryable).to.equal(true);
    expect((err as ActionError).message).to.contain("the next attempt deletes the rest");
    expect(await s3.listKeys(BUCKET, "late/")).to.have.length(3);
    expect(await new S3ObjectStore(s3.client, { pageSize: 1 }).deletePrefix(BUCKET, "late/")).to.equal(3);
  });

  // What DeleteObjects refuses, object by object, and whether another attempt can help.
  const refusals: Array<[string, Record<string, string>, boolean, string]> = [
    [
      "every refusal is AccessDenied",
      { "gone/1": "AccessDenied", "gone/3": "AccessDenied" },
      false,
      "AccessDenied (2)",
    ],
    [
      "a refusal is InternalError",
      { "gone/1": "AccessDenied", "gone/3": "InternalError" },
      true,
      "AccessDenied (1), InternalError (1)",
    ],
    ["every refusal is SlowDown", { "gone/2": "SlowDown" }, true, "SlowDown (1)"],
  ];
  for (const [what, deleteErrors, retryable, codes] of refusals) {
    it(`deletePrefix fails ${retryable ? "retryable" : "final"}, naming the codes and keys, when ${what}`, async () => {
      for (let i = 0; i < 4; i++) {
        await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `gone/${i}`, Body: "x" }));
      }
      s3.faults.deleteErrors = deleteErrors;
      const err = await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "gone/").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ActionError);
      const { message } = err as ActionError;
      expect((err as ActionError).retryable).to.equal(retryable);
      const refused = Object.keys(deleteErrors);
      expect(message).to.contain(
        `S3 refused to delete ${refused.length} of 4 objects under s3://${BUCKET}/gone/: ${codes}; first ${refused.map((k) => JSON.stringify(k)).join(", ")}`,
      );
      expect(await s3.listKeys(BUCKET, "gone/")).to.deep.equal(refused);
      s3.faults.deleteErrors = undefined;
      expect(await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "gone/")).to.equal(refused.length);
    });
  }

  it("deletePrefix deletes the later pages after a page with a refused object, then fails once with every refusal", async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `paged/${String(i).padStart(2, "0")}`);
    for (const Key of keys) await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }));
    s3.faults.deleteErrors = { "paged/00": "AccessDenied", "paged/12": "AccessDenied" };
    const err = await new S3ObjectStore(s3.client, { pageSize: 10 }).deletePrefix(BUCKET, "paged/").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ActionError);
    expect((err as ActionError).retryable).to.equal(false);
    expect((err as ActionError).message).to.contain(
      `S3 refused to delete 2 of 25 objects under s3://${BUCKET}/paged/: AccessDenied (2); first "paged/00", "paged/12"`,
    );
    expect(await s3.listKeys(BUCKET, "paged/")).to.deep.equal(["paged/00", "paged/12"]);
    s3.faults.deleteErrors = undefined;
    expect(await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "paged/")).to.equal(2);
  });

  it("deletePrefix names the first three refused keys, quoted, and says there are more", async () => {
    const keys = ['many/a"b', "many/b", "many/c", "many/d"];
    for (const Key of keys) await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }));
    s3.faults.deleteErrors = Object.fromEntries(keys.map((k) => [k, "AccessDenied"]));
    const err = await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "many/").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as ActionError).message).to.contain('first "many/a\\"b", "many/b", "many/c", …');
    s3.faults.deleteErrors = undefined;
    await new S3ObjectStore(s3.client).deletePrefix(BUCKET, "many/");
  });

  for (const prefix of ["", "/"]) {
    it(`deletePrefix refuses the prefix ${JSON.stringify(prefix)}`, async () => {
      const err = await new S3ObjectStore(s3.client).deletePrefix(BUCKET, prefix).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.contain("empty prefix");
    });
  }
});

/**
 * A stub S3 on 127.0.0.1 for what s3rver cannot do (conditional writes): it answers PutObject and the
 * multipart calls as S3 does, and a request carrying If-Match or If-None-Match with `conditional` (an S3
 * error) while that is set.
 */
async function conditionalS3(): Promise<{
  server: ScriptedServer;
  store: S3ObjectStore;
  client: S3Client;
  conditional: { status: number; code: string } | undefined;
  conditionOf(req: Seen): string | undefined;
}> {
  const state: { conditional: { status: number; code: string } | undefined } = { conditional: undefined };
  const server = await scriptedServer((req): Reply => {
    const url = new URL(req.url, "http://s3");
    if (conditionOf(req) !== undefined && state.conditional !== undefined) {
      const { status, code } = state.conditional;
      return {
        status,
        headers: { "content-type": "application/xml" },
        body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>refused</Message></Error>`,
      };
    }
    if (req.method === "POST" && url.searchParams.has("uploads")) {
      return {
        status: 200,
        headers: { "content-type": "application/xml" },
        body: "<InitiateMultipartUploadResult><Bucket>objects</Bucket><Key>k</Key><UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
      };
    }
    if (req.method === "POST" && url.searchParams.has("uploadId")) {
      return {
        status: 200,
        headers: { "content-type": "application/xml" },
        body: '<CompleteMultipartUploadResult><Bucket>objects</Bucket><Key>k</Key><ETag>"done-2"</ETag></CompleteMultipartUploadResult>',
      };
    }
    if (req.method === "DELETE") return { status: 204 };
    return { status: 200, headers: { etag: '"etag-1"' } };
  });
  const client = createLocalS3Client(server.url);
  const stub = {
    server,
    client,
    store: new S3ObjectStore(client),
    get conditional() {
      return state.conditional;
    },
    set conditional(value) {
      state.conditional = value;
    },
    conditionOf,
  };
  return stub;
}

/** The condition header a request carried: "if-match: <etag>" or "if-none-match: *". */
function conditionOf(req: Seen): string | undefined {
  if (req.headers["if-match"] !== undefined) return `if-match: ${req.headers["if-match"]}`;
  if (req.headers["if-none-match"] !== undefined) return `if-none-match: ${req.headers["if-none-match"]}`;
  return undefined;
}

/** "PUT", "POST ?uploads", "PUT ?partNumber", "POST ?uploadId" (complete), "DELETE ?uploadId" (abort). */
function callOf(req: Seen): string {
  const url = new URL(req.url, "http://s3");
  const marks = ["uploads", "partNumber", "uploadId"].filter((name) => url.searchParams.has(name));
  return marks.length === 0 ? req.method : `${req.method} ?${marks[0]}`;
}

describe("Class: S3ObjectStore conditional writes (a stub S3 on 127.0.0.1)", function () {
  this.timeout(60_000);
  let stub: Awaited<ReturnType<typeof conditionalS3>>;
  beforeEach(async () => {
    stub = await conditionalS3();
  });
  afterEach(async () => {
    stub.client.destroy();
    await stub.server.close();
  });
  const small = () => Readable.from([Buffer.from("zip bytes")]);

  it("put sends If-None-Match: * on the PutObject of a body of one part", async () => {
    await stub.store.put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifNoneMatch: "*" } });
    expect(stub.server.seen.map((r) => [callOf(r), stub.conditionOf(r)])).to.deep.equal([
      ["PUT", "if-none-match: *"],
    ]);
  });

  it("put sends If-Match only on CompleteMultipartUpload of a multipart upload (S3 takes no condition on the other calls)", async () => {
    await stub.store.put(BUCKET, "k.zip", unevenStream(randomBytes(5 * MiB + 10)), {
      metadata: {},
      condition: { ifMatch: '"etag-0"' },
    });
    expect(stub.server.seen.map((r) => [callOf(r), stub.conditionOf(r)])).to.deep.equal([
      ["POST ?uploads", undefined],
      ["PUT ?partNumber", undefined],
      ["PUT ?partNumber", undefined],
      ["POST ?uploadId", 'if-match: "etag-0"'],
    ]);
  });

  const sizes: Array<[string, number, string[]]> = [
    ["empty", 0, ["PUT"]],
    ["of exactly one part", 5 * MiB, ["PUT"]],
    [
      "of three parts",
      10 * MiB + 1,
      ["POST ?uploads", "PUT ?partNumber", "PUT ?partNumber", "PUT ?partNumber", "POST ?uploadId"],
    ],
  ];
  for (const [what, size, calls] of sizes) {
    it(`put of a body ${what} sends If-None-Match: * on the call that creates the object only`, async () => {
      await stub.store.put(BUCKET, "k.zip", unevenStream(randomBytes(size)), {
        metadata: {},
        condition: { ifNoneMatch: "*" },
      });
      const seen = stub.server.seen.map((r) => [callOf(r), stub.conditionOf(r)]);
      expect(seen.map(([call]) => call)).to.have.members(calls);
      expect(seen.filter(([, condition]) => condition !== undefined)).to.deep.equal([
        [calls.at(-1), "if-none-match: *"],
      ]);
    });
  }

  it("put keeps at most 2 parts of a multipart upload in flight, so its memory stays a few parts whatever the body's size", async () => {
    // Each UploadPart is held until the test lets them all go: the parts in flight then are all lib-storage
    // started. A third one, were it started, would be seen within the event-loop turns waited.
    let inFlight = 0;
    let most = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    stub.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "UploadPartCommand") return next(args);
        inFlight++;
        most = Math.max(most, inFlight);
        await gate;
        inFlight--;
        return next(args);
      },
      { step: "initialize", name: "holdParts" },
    );
    const put = stub.store.put(BUCKET, "k.zip", unevenStream(randomBytes(6 * 5 * MiB + 1)), { metadata: {} });
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    // Bounded: a store that keeps fewer in flight must fail here, not wait for ever.
    for (let i = 0; inFlight < 2 && i < 5000; i++) await turn();
    for (let i = 0; i < 500; i++) await turn();
    open();
    await put;
    expect(most).to.equal(2);
    expect(stub.server.seen.filter((r) => callOf(r) === "PUT ?partNumber")).to.have.length(7);
  });

  it("put sends no condition header when it is given none", async () => {
    await stub.store.put(BUCKET, "k.zip", small(), { metadata: {} });
    expect(stub.server.seen.map((r) => stub.conditionOf(r))).to.deep.equal([undefined]);
  });

  const changed: Array<[string, number, string, "precondition-failed" | "conflict"]> = [
    ["412 PreconditionFailed", 412, "PreconditionFailed", "precondition-failed"],
    ["404 NoSuchKey (the object read was deleted)", 404, "NoSuchKey", "precondition-failed"],
    ["409 ConditionalRequestConflict", 409, "ConditionalRequestConflict", "conflict"],
  ];
  for (const [what, status, code, reason] of changed) {
    it(`put with If-Match answered ${what} throws a retryable ObjectChangedError (${reason}), sent once`, async () => {
      stub.conditional = { status, code };
      const err = await stub.store
        .put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifMatch: '"etag-0"' } })
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ObjectChangedError);
      expect((err as ObjectChangedError).reason).to.equal(reason);
      expect((err as ObjectChangedError).retryable).to.equal(true);
      expect(stub.server.seen.map(callOf)).to.deep.equal(["PUT"]);
    });
  }

  it("put with If-None-Match: * answered 412 throws ObjectChangedError", async () => {
    stub.conditional = { status: 412, code: "PreconditionFailed" };
    const err = await stub.store
      .put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifNoneMatch: "*" } })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ObjectChangedError);
    expect((err as Error).message).to.contain("holds no object");
  });

  it("put whose CompleteMultipartUpload is answered 412 throws ObjectChangedError and aborts the multipart upload", async () => {
    stub.conditional = { status: 412, code: "PreconditionFailed" };
    const err = await stub.store
      .put(BUCKET, "k.zip", unevenStream(randomBytes(5 * MiB + 10)), {
        metadata: {},
        condition: { ifMatch: '"etag-0"' },
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ObjectChangedError);
    expect(stub.server.seen.map(callOf).slice(-2)).to.deep.equal(["POST ?uploadId", "DELETE ?uploadId"]);
  });

  const inBody: Array<[string, "precondition-failed" | "conflict"]> = [
    ["PreconditionFailed", "precondition-failed"],
    ["ConditionalRequestConflict", "conflict"],
  ];
  for (const [code, reason] of inBody) {
    it(`put whose CompleteMultipartUpload answers 200 with a ${code} error in its body (S3 reports a failure found after its 200 so) throws ObjectChangedError (${reason}) and aborts`, async () => {
      stub.conditional = { status: 200, code };
      const err = await stub.store
        .put(BUCKET, "k.zip", unevenStream(randomBytes(5 * MiB + 10)), {
          metadata: {},
          condition: { ifNoneMatch: "*" },
        })
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ObjectChangedError);
      expect((err as ObjectChangedError).reason).to.equal(reason);
      expect(stub.server.seen.map(callOf).at(-1)).to.equal("DELETE ?uploadId");
    });
  }

  it("a 404 NoSuchKey to a put without If-Match is not taken for a changed object", async () => {
    stub.conditional = { status: 404, code: "NoSuchKey" };
    const err = await stub.store
      .put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifNoneMatch: "*" } })
      .catch((e: unknown) => e);
    expect(err).not.to.be.instanceOf(ActionError);
  });

  it("put answered 501 for its condition by an S3-compatible endpoint (unconditionalFallback) throws ConditionalWriteUnsupportedError once; the store's later puts go without a condition", async () => {
    stub.conditional = { status: 501, code: "NotImplemented" };
    const store = new S3ObjectStore(stub.client, { unconditionalFallback: true });
    const err = await store
      .put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifNoneMatch: "*" } })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConditionalWriteUnsupportedError);
    expect((err as ActionError).retryable).to.equal(true);
    await store.put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifMatch: '"etag-1"' } });
    expect(stub.server.seen.map((r) => stub.conditionOf(r))).to.deep.equal(["if-none-match: *", undefined]);
    expect(store.conditionalWrites).to.equal(false);
  });

  it("put answered 501 by S3 itself (no unconditionalFallback, as the functions build it) fails as that error, and the next put still carries its condition", async () => {
    stub.conditional = { status: 501, code: "NotImplemented" };
    const err = await stub.store
      .put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifNoneMatch: "*" } })
      .catch((e: unknown) => e);
    expect(err).not.to.be.instanceOf(ConditionalWriteUnsupportedError);
    expect((err as { name?: string }).name).to.equal("NotImplemented");
    await stub.store
      .put(BUCKET, "k.zip", small(), { metadata: {}, condition: { ifMatch: '"etag-1"' } })
      .catch(() => undefined);
    expect(stub.server.seen.map((r) => stub.conditionOf(r))).to.deep.equal([
      "if-none-match: *",
      'if-match: "etag-1"',
    ]);
    expect(stub.store.conditionalWrites).to.equal(true);
  });
});

describe("Class: S3ObjectStore deletePrefix when the deadline passes after S3 refused objects (a fake S3)", () => {
  const PAGES = 5;
  const PAGE = 1000;
  /**
   * A fake S3 whose every DeleteObjects refuses each key with the next of `codes` (round robin; "" deletes it),
   * and whose second DeleteObjects answers only once the deadline has passed, as page 2 of a large prefix would.
   */
  function refusingClient(codes: string[], deadlineMs: number): S3Client {
    let deletes = 0;
    let refusals = 0;
    const send = async (command: unknown, options?: { abortSignal?: AbortSignal }) => {
      if (command instanceof ListObjectsV2Command) {
        const page = Number(command.input.ContinuationToken ?? "0");
        return {
          Contents: Array.from({ length: PAGE }, (_, i) => ({ Key: `previews/pr-7/${page}-${i}.js` })),
          IsTruncated: page + 1 < PAGES,
          NextContinuationToken: String(page + 1),
        };
      }
      if (command instanceof DeleteObjectsCommand) {
        deletes++;
        if (deletes === 2) {
          // Answers (ignoring the abort) only once the deadline is behind.
          await new Promise((resolve) => options?.abortSignal?.addEventListener("abort", resolve));
          while (Date.now() <= deadlineMs) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const objects = command.input.Delete?.Objects ?? [];
        const answers = objects.map((o) => ({ Key: o.Key, Code: codes[refusals++ % codes.length] }));
        return { Errors: answers.filter((a) => a.Code !== "") };
      }
      throw new Error("unexpected command");
    };
    return { send } as unknown as S3Client;
  }

  async function failure(codes: string[]): Promise<ActionError> {
    const deadlineMs = Date.now() + 200;
    const store = new S3ObjectStore(refusingClient(codes, deadlineMs), { pageSize: PAGE });
    const err = await store.deletePrefix("previews", "previews/pr-7/", { deadlineMs }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ActionError);
    return err as ActionError;
  }

  // A call cut at the deadline (here page 2's delete; a stalled list alike) says nothing of the pages not yet
  // listed, which a retry may delete: final only once the walk has seen every page (reviews h371, h375, h382).
  it("fails retryable at the deadline, naming the refusal codes, when every refusal so far is AccessDenied and nothing was deleted", async () => {
    const err = await failure(["AccessDenied"]);
    expect(err.retryable, err.message).to.equal(true);
    expect(err.message).to.contain(
      "deleted 0 objects under s3://previews/previews/pr-7/ when the function's time ran out (S3 refused 2000: AccessDenied (2000)); the next attempt deletes the rest",
    );
  });

  it("fails retryable, naming the refusal codes, when every refusal so far is AccessDenied but the attempt deleted objects", async () => {
    const err = await failure(["AccessDenied", ""]);
    expect(err.retryable, err.message).to.equal(true);
    expect(err.message).to.contain(
      "deleted 1000 objects under s3://previews/previews/pr-7/ when the function's time ran out (S3 refused 1000: AccessDenied (1000))",
    );
  });

  it("fails retryable, naming the refusal codes, when a refusal so far is one a retry may change", async () => {
    const err = await failure(["AccessDenied", "SlowDown"]);
    expect(err.retryable, err.message).to.equal(true);
    expect(err.message).to.contain(
      "deleted 0 objects under s3://previews/previews/pr-7/ when the function's time ran out (S3 refused 2000: AccessDenied (1000), SlowDown (1000)); the next attempt deletes the rest",
    );
  });
});
