// s3-zip's archive download never follows a redirect from https to plain http (a Gitea with SERVE_DIRECT on
// object storage without TLS, a root URL that says http): over http, anyone on the path could change the code
// CodePipeline builds. An http apiUrl, chosen by the user, still downloads over http as before.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Agent } from "undici";
import { downloadArchive } from "../../src/actions/s3Zip";
import { buildZip } from "../support/zips";
import { HOST_TOKEN, rejectsWithActionError, testClients } from "./helpers";

const tls = join(__dirname, "..", "fixtures", "tls");
const SHA = "0123456789abcdef0123456789abcdef01234567";
const SIGNATURE = "X-Amz-Signature=5ecret5ignature0123456789";

describe("s3-zip: an archive redirect from https to plain http", () => {
  const servers: Array<http.Server | https.Server> = [];
  let dir: string;
  let zip: Buffer;
  let plainRequests: number;
  let plainUrl: string;
  let dispatcher: Agent;

  const listen = async (server: http.Server | https.Server): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };
  /** An https server answering each request with a 302 to `location()`. */
  const redirectingHttps = (location: () => string) =>
    listen(
      https.createServer(
        { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) },
        (_req, res) => {
          res.writeHead(302, { location: location() });
          res.end();
        },
      ),
    );
  const download = (url: string) =>
    downloadArchive(
      { url, headers: { authorization: `Bearer ${HOST_TOKEN}` }, dispatcher },
      join(dir, "archive.zip"),
      testClients(),
      "gitea archive of acme/api",
    );

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookgate-downgrade-"));
    zip = await buildZip({ "buildspec.yml": "version: 0.2\n" }, "api");
    plainRequests = 0;
    // Object storage without TLS (MinIO with Gitea's MINIO_USE_SSL = false), serving the pre-signed URL.
    const plainPort = await listen(
      http.createServer((_req, res) => {
        plainRequests++;
        res.writeHead(200, { "content-type": "application/zip" });
        res.end(zip);
      }),
    );
    plainUrl = `http://127.0.0.1:${plainPort}/gitea/repo-archive/${SHA}.zip?${SIGNATURE}`;
    dispatcher = new Agent({ connect: { ca: readFileSync(join(tls, "ca.pem"), "utf8") } });
  });
  afterEach(async () => {
    await dispatcher.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("downloadArchive fails final, sending nothing over http, when the https archive URL redirects to http, naming the host's setting and never the redirect's path or signature", async () => {
    const port = await redirectingHttps(() => plainUrl);
    const err = await rejectsWithActionError(
      download(`https://127.0.0.1:${port}/api/v1/repos/acme/api/archive/${SHA}.zip`),
    );
    expect(plainRequests, "requests sent over plain http").to.equal(0);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("gitea archive of acme/api was redirected (302) from https to http");
    expect(err.message).to.contain(new URL(plainUrl).origin);
    expect(err.message).to.contain("ROOT_URL").and.contain("MINIO_USE_SSL");
    for (const message of [err.message, err.publicMessage]) {
      expect(message).to.not.contain("repo-archive").and.not.contain(SIGNATURE).and.not.contain(HOST_TOKEN);
    }
    // The commit status a pull request shows gets no private address.
    expect(err.publicMessage).to.not.contain("127.0.0.1");
  });

  it("downloadArchive refuses the hop to http after an https hop to another origin too", async () => {
    const storage = await redirectingHttps(() => plainUrl);
    const api = await redirectingHttps(() => `https://127.0.0.1:${storage}/signed/${SHA}.zip`);
    const err = await rejectsWithActionError(
      download(`https://127.0.0.1:${api}/api/v1/repos/acme/api/archive/${SHA}.zip`),
    );
    expect(plainRequests).to.equal(0);
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("from https to http");
  });

  it("downloadArchive still follows a redirect to http from an http archive URL (an http apiUrl)", async () => {
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(302, { location: plainUrl });
        res.end();
      }),
    );
    const downloaded = await download(`http://127.0.0.1:${port}/api/v1/repos/acme/api/archive/${SHA}.zip`);
    expect(plainRequests).to.equal(1);
    expect(downloaded.bytes).to.equal(zip.length);
  });
});
