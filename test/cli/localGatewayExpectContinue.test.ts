// `Expect: 100-continue` at serve's edge, in process over real HTTP on 127.0.0.1: a request serve refuses on
// its head gets its final answer at once, never "100 Continue" (RFC 9110 10.1.1), so a client does not send
// a body serve would only read and drop; one serve will read is told to continue.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadRoutesFile } from "../../src/core/routes/load";
import type { ActionOutcome } from "../../src/core/types";
import { type LocalGateway, startLocalGateway } from "../../src/local/localGateway";
import { ROUTE_R_YAML } from "../support/localStores";

/** Sends a head only; resolves with all serve writes until it closes the connection, or with what came first. */
function exchange(port: number, head: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      text += d;
      // Told to continue: the body goes, and the final answer follows.
      if (body !== undefined && text.startsWith("HTTP/1.1 100 Continue\r\n\r\n") && !socket.writableEnded) {
        socket.end(body);
      }
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("Function: startLocalGateway, Expect: 100-continue", () => {
  let dir: string;
  let gateway: LocalGateway;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-expect-"));
    writeFileSync(join(dir, "routes.yaml"), ROUTE_R_YAML);
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ "test/hook": "s" }));
    gateway = await startLocalGateway({
      config: loadRoutesFile(join(dir, "routes.yaml")),
      stateDir: join(dir, "state"),
      secretsFile: join(dir, "secrets.json"),
      port: 0,
      runAction: async () => ({ detail: "" }) as ActionOutcome,
    });
  });
  afterEach(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 413 at once, without 100 Continue, and closes the connection, when the declared body is over 10 MB", async () => {
    const answer = await exchange(
      gateway.port,
      "POST /hooks/r HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\nExpect: 100-continue\r\n\r\n",
    );
    expect(answer).to.match(/^HTTP\/1\.1 413 /);
    expect(answer).not.to.include("100 Continue");
    expect(answer.toLowerCase()).to.include("connection: close\r\n");
  });

  it("answers 404 at once, without 100 Continue, to an unknown route", async () => {
    const answer = await exchange(
      gateway.port,
      "POST /hooks/nope HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n",
    );
    expect(answer).to.match(/^HTTP\/1\.1 404 /);
    expect(answer).not.to.include("100 Continue");
  });

  it("answers 405 at once, without 100 Continue, to a POST to /_hookgate/health", async () => {
    const answer = await exchange(
      gateway.port,
      "POST /_hookgate/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
    );
    expect(answer).to.match(/^HTTP\/1\.1 405 /);
  });

  it("tells a delivery to a known route within the limits to continue, then answers it (401: unsigned)", async () => {
    const answer = await exchange(
      gateway.port,
      "POST /hooks/r HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nConnection: close\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
      "{}",
    );
    expect(answer).to.match(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 401 /);
  });
});
