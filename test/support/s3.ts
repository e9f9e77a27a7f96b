// s3rver on 127.0.0.1 (port 0, a temp directory) behind a small fault-injecting HTTP proxy, and an
// S3Client configured for it. The proxy can fail chosen UploadPart calls with a 500 (the SDK's own
// retry then retries them), and it implements AbortMultipartUpload (s3rver does not) so a test can
// assert that a failed upload left no multipart upload open.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

export interface S3Faults {
  /** Fail these UploadPart requests (1-based, counted across the server's life) with a 500. */
  failUploadPartRequests?: number[];
  /** Fail every UploadPart request with a 500. */
  failEveryUploadPart?: boolean;
  /** DeleteObjects refuses these keys with these codes (in its Errors), deleting the others. */
  deleteErrors?: Record<string, string>;
  /** Answer every request with this S3 error (S3's XML body), e.g. a 301 PermanentRedirect; HEADs as headStatus says when set. */
  everyRequest?: { status: number; code: string; message: string; headers?: Record<string, string> };
  /**
   * Answer every HeadObject with this status and no body, as S3 answers a HEAD it refuses: 403 is what a
   * caller without s3:ListBucket gets for an object it may not read and for a key that does not exist.
   */
  headStatus?: number;
}

export interface LocalS3 {
  /** The proxy's URL (what the client talks to). */
  url: string;
  client: S3Client;
  faults: S3Faults;
  /** Every request the proxy saw: "PUT /bucket/key?partNumber=1&uploadId=..." */
  requests: string[];
  uploadPartRequests(): number;
  /** Multipart uploads created and neither completed nor aborted. */
  openUploads(): string[];
  abortedUploads(): string[];
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  getObject(
    bucket: string,
    key: string,
  ): Promise<{ body: Buffer; metadata: Record<string, string>; contentType?: string }>;
  exists(bucket: string, key: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface LocalS3Options {
  buckets: string[];
  /** SDK attempts per request (default 3, the SDK default). */
  maxAttempts?: number;
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "hookgate-s3rver-"));
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const { port: s3rverPort } = await s3rver.run();

  const faults: S3Faults = {};
  const requests: string[] = [];
  const uploads = new Map<string, "open" | "completed" | "aborted">();
  let uploadParts = 0;
  const sockets = new Set<Socket>();

  const proxy = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const line = `${req.method} ${url.pathname}${url.search}`;
    requests.push(line);
    if (faults.headStatus !== undefined && req.method === "HEAD" && url.pathname.split("/").length > 2) {
      req.resume();
      req.on("end", () => {
        res.writeHead(faults.headStatus as number);
        res.end();
      });
      return;
    }
    if (faults.everyRequest) {
      const { status, code, message, headers } = faults.everyRequest;
      req.resume();
      req.on("end", () => {
        res.writeHead(status, { "content-type": "application/xml", ...headers });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
        );
      });
      return;
    }
    const uploadId = url.searchParams.get("uploadId");
    const isUploadPart = req.method === "PUT" && uploadId !== null && url.searchParams.has("partNumber");
    if (isUploadPart) {
      uploadParts++;
      if (faults.failEveryUploadPart || faults.failUploadPartRequests?.includes(uploadParts)) {
        req.resume();
        req.on("end", () => {
          res.writeHead(500, { "content-type": "application/xml" });
          res.end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
          );
        });
        return;
      }
    }
    if (req.method === "DELETE" && uploadId !== null) {
      // AbortMultipartUpload: s3rver has no such route; record it and answer like S3.
      req.resume();
      req.on("end", () => {
        if (uploads.has(uploadId)) uploads.set(uploadId, "aborted");
        res.writeHead(204);
        res.end();
      });
      return;
    }
    if (req.method === "POST" && url.searchParams.has("delete")) {
      // DeleteObjects: s3rver deletes the keys concurrently and its filesystem store races on shared
      // folders (InternalError). Do what S3 does, one key at a time, through s3rver's DeleteObject.
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void deleteSequentially(url.pathname, Buffer.concat(chunks).toString("utf8")).then(
          (xml) => {
            res.writeHead(200, { "content-type": "application/xml" });
            res.end(xml);
          },
          (err: unknown) => {
            res.writeHead(500, { "content-type": "application/xml" });
            res.end(`<Error><Code>InternalError</Code><Message>${String(err)}</Message></Error>`);
          },
        );
      });
      return;
    }
    // ListObjectsV2: s3rver makes its continuation tokens with DES, which OpenSSL 3 no longer has
    // (every truncated page answers InternalError). Serve V2 through s3rver's V1 listing (marker)
    // and hand out the last key, base64-encoded, as the continuation token.
    const listV2 = req.method === "GET" && url.searchParams.get("list-type") === "2";
    let path = req.url ?? "/";
    if (listV2) {
      const v1 = new URLSearchParams(url.searchParams);
      v1.delete("list-type");
      const token = v1.get("continuation-token");
      v1.delete("continuation-token");
      const startAfter = v1.get("start-after");
      v1.delete("start-after");
      v1.delete("fetch-owner");
      const marker = token ? Buffer.from(token, "base64").toString("utf8") : startAfter;
      if (marker) v1.set("marker", marker);
      path = `${url.pathname}?${v1.toString()}`;
    }
    const upstream = http.request(
      { host: "127.0.0.1", port: s3rverPort, method: req.method, path, headers: req.headers },
      (up) => {
        if (listV2) {
          const chunks: Buffer[] = [];
          up.on("data", (c: Buffer) => chunks.push(c));
          up.on("end", () => {
            let xml = Buffer.concat(chunks).toString("utf8");
            if ((up.statusCode ?? 500) < 300) {
              const keys = [...xml.matchAll(/<Contents>\s*<Key>([^<]*)<\/Key>/g)].map((m) =>
                unescapeXml(m[1] ?? ""),
              );
              const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
              const last = keys[keys.length - 1];
              const next =
                truncated && last !== undefined
                  ? `<NextContinuationToken>${Buffer.from(last).toString("base64")}</NextContinuationToken>`
                  : "";
              xml = xml.replace(
                "</ListBucketResult>",
                `<KeyCount>${keys.length}</KeyCount>${next}</ListBucketResult>`,
              );
              if (url.searchParams.get("encoding-type") === "url") {
                // s3rver ignores encoding-type: encode the keys as S3 does (a space as "+", "/" kept).
                xml = xml
                  .replace(
                    /<Contents>(\s*)<Key>([^<]*)<\/Key>/g,
                    (_, space: string, key: string) =>
                      `<Contents>${space}<Key>${s3UrlEncode(unescapeXml(key))}</Key>`,
                  )
                  .replace("</ListBucketResult>", "<EncodingType>url</EncodingType></ListBucketResult>");
              }
            }
            const headers = { ...up.headers, "content-length": String(Buffer.byteLength(xml)) };
            res.writeHead(up.statusCode ?? 500, headers);
            res.end(xml);
          });
          return;
        }
        const isCreate = req.method === "POST" && url.searchParams.has("uploads");
        const isComplete = req.method === "POST" && uploadId !== null;
        if (isCreate) {
          const chunks: Buffer[] = [];
          up.on("data", (c: Buffer) => chunks.push(c));
          up.on("end", () => {
            const body = Buffer.concat(chunks);
            const id = /<UploadId>([^<]+)<\/UploadId>/.exec(body.toString("utf8"))?.[1];
            if (id) uploads.set(id, "open");
            res.writeHead(up.statusCode ?? 500, up.headers);
            res.end(body);
          });
          return;
        }
        if (isComplete && (up.statusCode ?? 500) < 300) uploads.set(uploadId, "completed");
        res.writeHead(up.statusCode ?? 500, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(upstream);
  });
  proxy.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  async function deleteSequentially(bucketPath: string, xml: string): Promise<string> {
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ""));
    const refused = keys.filter((k) => faults.deleteErrors?.[k] !== undefined);
    for (const key of keys.filter((k) => !refused.includes(k))) {
      await new Promise<void>((resolve, reject) => {
        const del = http.request(
          {
            host: "127.0.0.1",
            port: s3rverPort,
            method: "DELETE",
            path: `${bucketPath.replace(/\/$/, "")}/${key.split("/").map(encodeURIComponent).join("/")}`,
          },
          (r) => {
            r.resume();
            r.on("end", () =>
              (r.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`DELETE ${key}: ${r.statusCode}`)),
            );
          },
        );
        del.on("error", reject);
        del.end();
      });
    }
    const deleted = keys
      .filter((k) => !refused.includes(k))
      .map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`)
      .join("");
    const errors = refused
      .map(
        (k) =>
          `<Error><Key>${escapeXml(k)}</Key><Code>${faults.deleteErrors?.[k]}</Code><Message>refused</Message></Error>`,
      )
      .join("");
    return `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${deleted}${errors}</DeleteResult>`;
  }

  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  const client = createLocalS3Client(url, options.maxAttempts);

  const listKeys = async (bucket: string, prefix?: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  };

  return {
    url,
    client,
    faults,
    requests,
    uploadPartRequests: () => uploadParts,
    openUploads: () => [...uploads].filter(([, s]) => s === "open").map(([id]) => id),
    abortedUploads: () => [...uploads].filter(([, s]) => s === "aborted").map(([id]) => id),
    listKeys,
    getObject: async (bucket, key) => {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = Buffer.from(
        await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
      return { body, metadata: out.Metadata ?? {}, contentType: out.ContentType };
    },
    exists: async (bucket, key) => {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
          return false;
        throw err;
      }
    },
    close: async () => {
      client.destroy();
      for (const s of sockets) s.destroy();
      // close() waits for every connection's request in flight: the proxy's keep-alive sockets to s3rver
      // included, which a busy machine can leave mid-request when the test's client is gone.
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      s3rver.httpServer?.closeAllConnections();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** An S3Client for s3rver: path style, dummy credentials, and the checksum settings s3rver needs. */
export function createLocalS3Client(endpoint: string, maxAttempts?: number): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    // TOOLCHAIN.md: with the default (WHEN_SUPPORTED) a streamed PutObject is stored aws-chunked.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts,
  });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, n: string) => String.fromCodePoint(Number.parseInt(n, 16)))
    .replace(/&amp;/g, "&");
}

/** A key as S3 writes it under encoding-type=url: percent-encoded UTF-8, a space as "+", "/" kept. */
function s3UrlEncode(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/g, "/");
}
