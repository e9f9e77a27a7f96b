// `hookgate send` as a child process against a server that records what arrives: the delivery id, the
// credentials and the request options that reach the wire, as a gateway would read them.
import { spawn } from "node:child_process";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { headerBag } from "../../src/core/headers";
import { verifyStandardWebhook } from "../../src/core/verify/standardWebhooks";
import { REPO_ROOT } from "./checkHarness";
import { BIN, NO_PROXY_ENV } from "./serveHarness";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `hookgate send` with `args`, without proxy variables; async, so the recording server here can answer. */
function runSend(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "send", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...NO_PROXY_ENV, HOOKGATE_DEBUG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const SIGNING_TOKEN = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;

describe("Command: hookgate send, what reaches the server", function () {
  this.timeout(30_000);
  let server: Server;
  let url: string;
  const seen: Seen[] = [];

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/x`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("send --provider gitlab with a signing token and --delivery ' pad-1 ' signs and sends the trimmed id, so the gateway's Standard Webhooks check passes, and prints it trimmed", async () => {
    const before = seen.length;
    const run = await runSend([
      "--url",
      url,
      "--provider",
      "gitlab",
      "--secret",
      SIGNING_TOKEN,
      "--event",
      "push",
      "--payload",
      "examples/gitlab-push.json",
      "--delivery",
      " pad-1 ",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split("\n")[0]).to.equal("HTTP 200 OK (delivery pad-1)");
    const got = seen[before] as Seen;
    expect(got.headers["webhook-id"]).to.equal("pad-1");
    const bag = headerBag(got.headers as Record<string, string>);
    expect(verifyStandardWebhook(bag, got.body, [SIGNING_TOKEN], 300, Date.now())).to.equal(
      "match-signature",
    );
  });
});
