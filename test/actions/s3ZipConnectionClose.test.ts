import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { downloadArchive } from "../../src/actions/s3Zip";
import { buildZip } from "../support/zips";
import { rejectsWithActionError, testClients } from "./helpers";

describe("s3-zip and an archive host that closes the connection (keep-alive off)", function () {
  this.timeout(60_000);

  it("zips an archive answered with Connection: close and a body ended by the FIN, without the process dying", () => {
    // In a child: undici 7 (nodejs/undici#5360) throws its AssertionError where nothing can catch it, when its
    // parser was paused by a download written slower than it arrives and the host's FIN comes.
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", join(__dirname, "children", "closeDelimitedArchive.ts"), "2"],
      { encoding: "utf8", timeout: 45_000, env: { ...process.env, UV_THREADPOOL_SIZE: "1" } },
    );
    expect(child.stderr, "the child process died").to.not.contain("AssertionError");
    expect(child.status, child.stderr).to.equal(0);
    expect(child.stdout).to.contain(JSON.stringify({ statuses: ["done", "done"], stored: [true, true] }));
  });
});

describe("downloadArchive's writing of the archive to the temp file", () => {
  let server: Server;
  let url: string;
  let zip: Buffer;
  // What the server does with the body: all of it, or half of it before it drops the connection.
  let half = false;
  let dir: string;
  before(async () => {
    zip = await buildZip({ "buildspec.yml": "version: 0.2\n", "app.bin": "x".repeat(200_000) }, "top");
    server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/zip", "Content-Length": zip.length });
      if (half) res.write(zip.subarray(0, zip.length >> 1), () => res.socket?.destroy());
      else res.end(zip);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/archive.zip`;
    dir = mkdtempSync(join(tmpdir(), "download-"));
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    half = false;
  });

  it("writes every byte of the body to the file", async () => {
    const file = join(dir, "a.zip");
    const { bytes } = await downloadArchive({ url, headers: {} }, file, testClients(), "the archive");
    expect(bytes).to.equal(zip.length);
    expect(readFileSync(file).equals(zip)).to.equal(true);
  });

  it("fails final, naming the temp directory's space, when the disk is full (ENOSPC)", async () => {
    // /dev/full answers every write with ENOSPC.
    const err = await rejectsWithActionError(
      downloadArchive({ url, headers: {} }, "/dev/full", testClients(), "the archive"),
    );
    expect(err.message).to.contain("the archive does not fit in the temp directory");
    expect(err.retryable).to.equal(false);
  });

  it("under hookgate serve (sharedTmpDir), fails retryable when the disk is full (ENOSPC): the other runs' downloads share it, and the message says how much room the archive needs", async () => {
    const clients = { ...testClients(), tmpDir: "/srv/hookgate/tmp", sharedTmpDir: true };
    const err = await rejectsWithActionError(
      downloadArchive({ url, headers: {} }, "/dev/full", clients, "the archive"),
    );
    expect(err.retryable, err.message).to.equal(true);
    const needs = `${(Math.ceil(zip.length / 100_000) / 10).toFixed(1)} MB`;
    expect(err.message).to.equal(
      "the archive did not fit in the temp directory (/srv/hookgate/tmp): the state dir's disk is shared by the " +
        `s3-zip downloads in progress, and this archive needs ${needs} beside theirs; free that much on the ` +
        "state dir's disk (it is retried after the backoff)",
    );
  });

  it("names this machine's temp file, not the archive's host, when the file cannot be opened (retryable, with the code)", async () => {
    const err = await rejectsWithActionError(
      downloadArchive({ url, headers: {} }, join(dir, "missing", "c.zip"), testClients(), "the archive"),
    );
    expect(err.retryable, err.message).to.equal(true);
    expect(err.message).to.equal(
      "the archive could not be written to the temp file: ENOENT (this machine's disk, not the archive's host)",
    );
  });

  it("fails retryable when the host drops the connection before the body's end", async () => {
    half = true;
    const err = await rejectsWithActionError(
      downloadArchive({ url, headers: {} }, join(dir, "b.zip"), testClients(), "the archive"),
    );
    expect(err.retryable, err.message).to.equal(true);
    expect(err.message).to.match(/^the archive could not be reached: /);
  });
});
