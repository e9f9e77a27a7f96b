// An archive still streaming when the function's deadline comes is cut there; its failure says so, as a cut
// before the headers does, not only "timed out", which points at the Git host.
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { downloadArchive } from "../../src/actions/s3Zip";
import { rejectsWithActionError, testClients } from "./helpers";

describe("s3-zip: an archive download cut while its body streams", function () {
  this.timeout(20_000);
  let server: http.Server;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookgate-body-cut-"));
    server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/zip", "content-length": "100000" });
      res.write(Buffer.from("PK\u0003\u0004"));
      // The rest trickles: 1 KB every 100 ms, never idle for the 60 s idle limit.
      const timer = setInterval(() => res.write(Buffer.alloc(1024)), 100);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("says the function's time ran out when the deadline cuts the body, as it does for a cut before the headers", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/archive.zip`;
    const err = await rejectsWithActionError(
      downloadArchive(
        { url, headers: {} },
        join(dir, "archive.zip"),
        testClients({ deadlineMs: Date.now() + 1_500 }),
        "github archive of acme/api",
      ),
    );
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain("the function's time ran out");
  });
});
