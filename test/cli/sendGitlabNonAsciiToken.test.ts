// `hookgate send --provider gitlab` writes a secret token with non-ASCII characters as its UTF-8 bytes, as GitLab
// (Ruby Net::HTTP) does, and still takes it out of what it prints: against a server reading the raw bytes.
import net, { type AddressInfo } from "node:net";
import { expect } from "chai";
import { runBinAsync } from "./checkHarness";
import { NO_PROXY_ENV } from "./serveHarness";

const runSend = (args: string[]) => runBinAsync(["send", ...args], NO_PROXY_ENV);

/** The bytes of the first X-Gitlab-Token line of a raw request head, or undefined when it has none. */
function tokenBytes(head: Buffer): Buffer | undefined {
  const text = head.toString("latin1"); // one character per byte, so offsets are byte offsets
  const match = /\r\nx-gitlab-token: ?/i.exec(text);
  if (!match) return undefined;
  const start = match.index + match[0].length;
  return head.subarray(start, text.indexOf("\r\n", start));
}

describe("Command: hookgate send --provider gitlab, a secret token with non-ASCII characters on the wire", function () {
  this.timeout(30_000);
  let server: net.Server;
  let url: string;
  const heads: Buffer[] = [];

  before(async () => {
    // Reads the request head as bytes, and answers with the token echoed twice: its bytes as they came, and
    // those bytes read one character per byte (latin1) then written as UTF-8, as a node:http echo would.
    server = net.createServer((socket) => {
      let received = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = received.subarray(0, end + 2);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head.toString("latin1"))?.[1] ?? 0);
        if (received.length < end + 4 + length) return;
        heads.push(head);
        const token = tokenBytes(head) ?? Buffer.alloc(0);
        const body = Buffer.concat([
          Buffer.from("raw="),
          token,
          Buffer.from("\nlatin1="),
          Buffer.from(token.toString("latin1"), "utf8"),
          Buffer.from("\n"),
        ]);
        socket.end(
          Buffer.concat([
            Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
            body,
          ]),
        );
      });
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/g`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  // [what, the token]: short ones, so only the "secret travels" rule (any length) takes them out of the echo.
  const cases: Array<[string, string]> = [
    ["a Latin-1 letter (päss)", "p\u00e4ss"],
    ["a character past U+00FF (p€ss)", "p\u20acss"],
    ["ASCII only", "pass"],
  ];
  for (const [what, token] of cases) {
    it(`a token with ${what} goes out in X-Gitlab-Token as its UTF-8 bytes (${Buffer.from(token, "utf8").toString("hex")}), and its echo in either reading is printed [redacted]`, async () => {
      const before = heads.length;
      const run = await runSend([
        "--url",
        url,
        "--provider",
        "gitlab",
        "--secret",
        token,
        "--event",
        "push",
        "--payload",
        "examples/gitlab-push.json",
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(heads).to.have.length(before + 1);
      const sent = tokenBytes(heads[before] as Buffer);
      expect(sent?.toString("hex")).to.equal(Buffer.from(token, "utf8").toString("hex"));
      // The answer as printed, after the status line: each echo taken out whole.
      expect(run.stdout.slice(run.stdout.indexOf("\n") + 1)).to.equal("raw=[redacted]\nlatin1=[redacted]\n");
    });
  }
});
