// `hookgate send` as a child process against a server that records what arrives: the delivery id, the
// credentials and the request options that reach the wire, as a gateway would read them.
import diagnostics from "node:diagnostics_channel";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import {
  runSend as runSendInProcess,
  strayPercent,
  urlAuthorization,
  withoutSecrets,
} from "../../src/cli/send";
import { headerBag } from "../../src/core/headers";
import { verifyStandardWebhook } from "../../src/core/verify/standardWebhooks";
import { startForwardProxy } from "../support/forwardProxy";
import { runBinAsync } from "./checkHarness";
import { NO_PROXY_ENV } from "./serveHarness";

/** `hookgate send` with `args`, without proxy variables; async, so the recording server here can answer. */
const runSend = (args: string[]) => runBinAsync(["send", ...args], NO_PROXY_ENV);

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
        // Echoes the credentials it got, as a debugging endpoint or a proxy's error page may.
        const auth = req.headers.authorization;
        const pair = auth ? Buffer.from(auth.replace(/^Basic /, ""), "base64").toString("utf8") : undefined;
        res.end(
          auth
            ? JSON.stringify({ authorization: auth, pair, password: pair?.split(":").slice(1).join(":") })
            : "{}",
        );
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

  it("send --url http://user:password@host/... sends Authorization: Basic with the URL-decoded pair, as GitLab does, takes it out of the URL, and never prints the password or its base64, the answer echoing them", async () => {
    const before = seen.length;
    const password = "s3cr:t p@ss";
    const withUser = url.replace("http://", `http://hook-user:${encodeURIComponent(password)}@`);
    const run = await runSend([
      "--url",
      withUser,
      "--secret",
      "s3cr3tvalue",
      "--event",
      "push",
      "--payload",
      "examples/github-push.json",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const basic = Buffer.from(`hook-user:${password}`).toString("base64");
    const got = seen[before] as Seen;
    expect(got.headers.authorization).to.equal(`Basic ${basic}`);
    expect(got.url).to.equal("/hooks/x");
    expect(got.headers.host).to.equal(new URL(url).host);
    expect(run.stdout).to.include("[redacted]");
    for (const shown of [password, encodeURIComponent(password), basic]) {
      expect(run.stdout + run.stderr).not.to.include(shown);
    }
  });

  it("send --provider gitea --url http://hook:p+ss@host/... sends Basic 'hook:p+ss', as Gitea (Go's url.Parse) keeps a '+' in userinfo", async () => {
    const before = seen.length;
    const run = await runSend([
      "--url",
      url.replace("http://", "http://hook:p+ss@"),
      "--provider",
      "gitea",
      "--secret",
      "s3cr3tvalue",
      "--event",
      "push",
      "--payload",
      "examples/github-push.json",
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const got = seen[before] as Seen;
    expect(got.headers.authorization).to.equal(`Basic ${Buffer.from("hook:p+ss").toString("base64")}`);
    expect(run.stdout + run.stderr).not.to.include("p+ss");
  });

  it("send --provider gitea with a stray \"%\" in the --url's password is a usage error that does not show it (Go's url.Parse refuses the URL)", async () => {
    const before = seen.length;
    const run = await runSend([
      "--url",
      url.replace("http://", "http://hook:pa%zzss@"),
      "--provider",
      "gitea",
      "--secret",
      "s3cr3tvalue",
      "--event",
      "push",
      "--payload",
      "examples/github-push.json",
    ]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('holds a "%" not followed by two hex digits');
    expect(run.stdout + run.stderr).not.to.include("pa%zzss");
    expect(seen.length).to.equal(before);
  });

  it("send --url http://user:password@host/... that fails names the URL without the password", async () => {
    const password = "s3cr:t p@ss";
    const closed = "http://hook-user:s3cr%3At%20p%40ss@127.0.0.1:9/hooks/x";
    const run = await runSend([
      "--url",
      closed,
      "--secret",
      "s3cr3tvalue",
      "--event",
      "push",
      "--payload",
      "examples/github-push.json",
    ]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include("POST http://127.0.0.1:9/hooks/x failed");
    expect(run.stdout + run.stderr)
      .not.to.include("s3cr%3At")
      .and.not.to.include(password);
  });
});

/** The proxy variables, in both cases, as the process has them now. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

describe("Command: hookgate send --timeout above undici's own 300 s limits", function () {
  this.timeout(30_000);

  /**
   * send in this process with `env` as its proxy variables; the headersTimeout and bodyTimeout of each request
   * undici makes for it (undici:request:create), the time limits it would end the request at.
   */
  async function limitsOf(args: string[], env: Record<string, string>) {
    const limits: Array<{ headersTimeout: unknown; bodyTimeout: unknown }> = [];
    const record = (message: unknown) => {
      const { request } = message as { request: { headersTimeout: unknown; bodyTimeout: unknown } };
      limits.push({ headersTimeout: request.headersTimeout, bodyTimeout: request.bodyTimeout });
    };
    const saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
    const write = { out: process.stdout.write, err: process.stderr.write };
    let output = "";
    diagnostics.subscribe("undici:request:create", record);
    try {
      for (const name of PROXY_VARIABLES) delete process.env[name];
      Object.assign(process.env, env);
      const capture = ((text: string) => {
        output += text;
        return true;
      }) as typeof process.stdout.write;
      process.stdout.write = capture;
      process.stderr.write = capture;
      const code = await runSendInProcess(args);
      return { code, output, limits };
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
      diagnostics.unsubscribe("undici:request:create", record);
      for (const name of PROXY_VARIABLES) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  }

  let server: Server;
  let port: number;
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end("{}"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const args = (url: string) => [
    "--url",
    url,
    "--secret",
    "s3cr3tvalue",
    "--event",
    "push",
    "--payload",
    "examples/github-push.json",
    "--timeout",
    "400",
  ];

  it("send --timeout 400 gives its request 400 s to answer with headers and body, not undici's default 300 s", async () => {
    const run = await limitsOf(args(`http://127.0.0.1:${port}/hooks/x`), {});
    expect(run.code, run.output).to.equal(0);
    expect(run.limits).to.deep.equal([{ headersTimeout: 400_000, bodyTimeout: 400_000 }]);
  });

  it("send --timeout 400 through HTTP_PROXY gives the proxied request 400 s too", async () => {
    // A name only the proxy resolves: this machine's own addresses are never sent through a proxy.
    const proxy = await startForwardProxy({ hosts: { "hooks.send.test": "127.0.0.1" } });
    try {
      const run = await limitsOf(args(`http://hooks.send.test:${port}/hooks/x`), { HTTP_PROXY: proxy.url });
      expect(run.code, run.output).to.equal(0);
      expect(proxy.requests.map((r) => r.kind)).to.deep.equal(["absolute"]);
      expect(run.limits).to.deep.equal([{ headersTimeout: 400_000, bodyTimeout: 400_000 }]);
    } finally {
      await proxy.close();
    }
  });
});

describe("Function: urlAuthorization and withoutSecrets, a --url's user:password@ decoded as the provider decodes it", () => {
  const basic = (pair: string) => `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;

  it('gitlab: a "+" in the URL\'s password is sent as a space, as GitLab\'s CGI.unescape reads it; "%2B" is a "+"', () => {
    expect(urlAuthorization(new URL("https://hook:p+ss@hooks.example.com/x"), "gitlab")).to.equal(
      basic("hook:p ss"),
    );
    expect(urlAuthorization(new URL("https://ho+ok:p%2Bss@hooks.example.com/x"), "gitlab")).to.equal(
      basic("ho ok:p+ss"),
    );
  });

  it('gitlab: a stray "%" stays as written while the valid escapes around it are decoded, as CGI.unescape does', () => {
    expect(urlAuthorization(new URL("https://hook:a%zz%C3%A9+@hooks.example.com/x"), "gitlab")).to.equal(
      basic("hook:a%zzé "),
    );
  });

  it('gitea, github, bitbucket and bitbucket-server: a "+" stays a "+" (Go\'s url.Parse, RFC 3986 userinfo), %XX is decoded', () => {
    for (const provider of ["gitea", "github", "bitbucket", "bitbucket-server"] as const) {
      expect(
        urlAuthorization(new URL("https://ho+ok:p+s%2Bs%C3%A9@hooks.example.com/x"), provider),
        provider,
      ).to.equal(basic("ho+ok:p+s+sé"));
    }
  });

  it('strayPercent finds a "%" that starts no %XX escape in the user or password (Go\'s url.Parse refuses it)', () => {
    expect(strayPercent(new URL("https://hook:a%zz@hooks.example.com/x"))).to.equal(true);
    expect(strayPercent(new URL("https://ho%@hooks.example.com/x"))).to.equal(true);
    expect(strayPercent(new URL("https://hook:a%2B%C3%A9@hooks.example.com/x"))).to.equal(false);
  });

  it('withoutSecrets takes out the password as GitLab sends it ("+" a space), as the others send it ("+" kept), and as typed, at any length', () => {
    const url = "https://hook:p+s%2Fs@hooks.example.com/x";
    const answer = "got p s/s, p+s/s and p+s%2Fs";
    expect(withoutSecrets(answer, "s3cr3tvalue", undefined, { secretTravels: false, url })).to.equal(
      "got [redacted], [redacted] and [redacted]",
    );
    // A stray "%" (decodeURIComponent fails): the "+"-kept form with its escapes decoded is taken out too.
    const stray = "https://hook:p+%zz%2Fs@hooks.example.com/x";
    expect(
      withoutSecrets("got p+%zz/s and p %zz/s", "s3cr3tvalue", undefined, {
        secretTravels: false,
        url: stray,
      }),
    ).to.equal("got [redacted] and [redacted]");
  });

  it("withoutSecrets takes out the Authorization header a --provider other than gitlab sent", () => {
    const url = "https://hook:p+ss@hooks.example.com/x";
    const header = urlAuthorization(new URL(url), "gitea") as string;
    expect(
      withoutSecrets(`echo ${header}`, "s3cr3tvalue", undefined, { secretTravels: false, url }),
    ).to.not.include(header.slice("Basic ".length));
  });
});
