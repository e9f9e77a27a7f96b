// The classification rules of src/actions/http.ts that http.test.ts left unpinned (found by the actions'
// mutation audit): rate-limit headers, Retry-After forms, network error codes, proxy refusals, the
// credentials a server's message may echo, and error bodies of every shape.
import { type AddressInfo, createServer, type Socket } from "node:net";
import { expect } from "chai";
import { GitLabClient } from "../../src/actions/gitHost/gitlab";
import {
  apiMessage,
  httpRequest,
  networkError,
  parseRetryAfter,
  proxyRefusedStatus,
  readText,
  serverMessage,
  statusError,
  withoutCredentials,
} from "../../src/actions/http";
import { proxySettings, shownProxy } from "../../src/actions/proxy";
import { ActionError } from "../../src/core/errors";
import { type Reply, type ScriptedServer, scriptedServer } from "../support/scriptedServer";
import { withSilentServer } from "../support/silentServer";
import { rejectsWithActionError } from "./helpers";

const NOW = Date.parse("2026-11-23T06:00:00Z");
const res = (statusCode: number, headers: Record<string, string> = {}) => ({ statusCode, headers });

describe("Function: statusError's rate-limit headers", () => {
  const cases: Array<[string, number, Record<string, string>, boolean, number | undefined]> = [
    [
      "a 403 with the limit spent and no reset waits a minute",
      403,
      { "x-ratelimit-remaining": "0" },
      true,
      60_000,
    ],
    [
      "a 403 with the limit spent and a reset that is no number waits a minute",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "soon" },
      true,
      60_000,
    ],
    [
      "a 403 with the limit spent and a reset of 0 waits a minute",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "0" },
      true,
      60_000,
    ],
    [
      "a 503 with a reset but the limit not spent takes no delay from it",
      503,
      { "x-ratelimit-remaining": "10", "x-ratelimit-reset": String(NOW / 1000 + 90) },
      true,
      undefined,
    ],
    [
      "a 503 with the limit spent but no reset takes no delay",
      503,
      { "x-ratelimit-remaining": "0" },
      true,
      undefined,
    ],
    ["a 404 with a Retry-After stays final", 404, { "retry-after": "30" }, false, undefined],
    ["a 401 with the limit spent stays final", 401, { "x-ratelimit-remaining": "0" }, false, undefined],
  ];
  for (const [what, status, headers, retryable, retryAfterMs] of cases) {
    it(`statusError: ${what}`, () => {
      const err = statusError("GitHub API", res(status, headers), "", NOW);
      expect(err.retryable).to.equal(retryable);
      expect(err.retryAfterMs).to.equal(retryAfterMs);
    });
  }

  const gitlabCases: Array<[string, number, Record<string, string>, number | undefined]> = [
    [
      "a 429 without Retry-After waits until GitLab's RateLimit-Reset (unix seconds)",
      429,
      { "ratelimit-reset": String(NOW / 1000 + 600) },
      600_000,
    ],
    [
      "a 429 with RateLimit-Remaining 0 waits until its RateLimit-Reset",
      429,
      { "ratelimit-remaining": "0", "ratelimit-reset": String(NOW / 1000 + 600) },
      600_000,
    ],
    [
      "a 429 with requests left in the RateLimit window takes no delay from its reset (another window's)",
      429,
      { "ratelimit-remaining": "595", "ratelimit-reset": String(NOW / 1000 + 600) },
      undefined,
    ],
    [
      "a 429 with a RateLimit-Reset in seconds from now (the IETF draft's form) waits that long",
      429,
      { "ratelimit-reset": "45" },
      45_000,
    ],
    [
      "a 429 with a RateLimit-Reset already past is retried at once",
      429,
      { "ratelimit-reset": String(NOW / 1000 - 5) },
      0,
    ],
    [
      "a 429's Retry-After wins over its RateLimit-Reset",
      429,
      { "retry-after": "7", "ratelimit-reset": String(NOW / 1000 + 600) },
      7_000,
    ],
    [
      "a 429 with a RateLimit-Reset two hours away waits the policy's longest delay, 15 minutes",
      429,
      { "ratelimit-reset": String(NOW / 1000 + 7200) },
      900_000,
    ],
    [
      "a 429 with a RateLimit-Reset that is no number takes no delay from it",
      429,
      { "ratelimit-reset": "soon" },
      undefined,
    ],
    [
      "a 503 with a RateLimit-Reset (GitLab sends one on every answer) takes no delay from it",
      503,
      { "ratelimit-reset": String(NOW / 1000 + 600) },
      undefined,
    ],
    [
      "a Retry-After of an hour is cut to the policy's longest delay",
      503,
      { "retry-after": "3600" },
      900_000,
    ],
    [
      "GitHub's reset an hour away is cut to the policy's longest delay",
      403,
      { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 3600) },
      900_000,
    ],
  ];
  for (const [what, status, headers, retryAfterMs] of gitlabCases) {
    it(`statusError: ${what}`, () => {
      const err = statusError("GitLab API", res(status, headers), "", NOW);
      expect(err.retryable).to.equal(true);
      expect(err.retryAfterMs).to.equal(retryAfterMs);
    });
  }

  it("a GitLab call answered 429 with RateLimit-Reset ten minutes on and no Retry-After is retried after about 600 s", async () => {
    let sentAtMs = 0;
    const server = await scriptedServer(() => {
      sentAtMs = Date.now();
      return {
        status: 429,
        headers: { "ratelimit-reset": String(Math.floor(sentAtMs / 1000) + 600) },
        body: '{"message":"Retry later"}',
      };
    });
    try {
      const err = await rejectsWithActionError(
        new GitLabClient(server.url, {}).getDefaultBranch({
          owner: "acme",
          name: "api",
          fullName: "acme/api",
        }),
      );
      expect(err.retryable).to.equal(true);
      // Whole seconds, less the time between the answer and its classification, however long that took.
      const elapsedMs = Date.now() - sentAtMs;
      expect(err.retryAfterMs).to.be.within(600_000 - elapsedMs - 1_000, 600_000);
    } finally {
      await server.close();
    }
  });

  it("statusError makes a 404 saying secondary rate limit final: only a 403 or 429 is a rate limit", () => {
    expect(statusError("GitHub API", res(404), "secondary rate limit", NOW).retryable).to.equal(false);
  });
});

describe("Function: parseRetryAfter's forms", () => {
  const cases: Array<[string, number | undefined]> = [
    ["12abc", undefined],
    ["2026-11-23T06:01:00Z", undefined],
    ["Mon, 23 Nov 2026 06:00:30 GMT", 30_000],
  ];
  for (const [value, expected] of cases) {
    it(`parseRetryAfter(${JSON.stringify(value)}) is ${expected}: delay-seconds or an HTTP-date only`, () => {
      expect(parseRetryAfter(value, NOW)).to.equal(expected);
    });
  }
});

describe("Function: networkError's codes and messages", () => {
  const timeouts: Array<[string, Record<string, string>, number | undefined, string]> = [
    ["an AbortError", { name: "AbortError" }, 300, "GitLab API timed out after 300 ms"],
    ["a TimeoutError", { name: "TimeoutError" }, 999, "GitLab API timed out after 999 ms"],
    ["UND_ERR_BODY_TIMEOUT", { code: "UND_ERR_BODY_TIMEOUT" }, 1000, "GitLab API timed out after 1 s"],
    // undici's connect limit, not the call's; without the limit in undici's message, none is said; without
    // the URL, no TLS handshake (only an https:// connection has one).
    [
      "UND_ERR_CONNECT_TIMEOUT",
      { code: "UND_ERR_CONNECT_TIMEOUT" },
      1500,
      "GitLab API timed out connecting: the connection was not set up within undici's connect limit",
    ],
    [
      "UND_ERR_HEADERS_TIMEOUT without a limit",
      { code: "UND_ERR_HEADERS_TIMEOUT" },
      undefined,
      "GitLab API timed out",
    ],
  ];
  for (const [what, fields, timeoutMs, message] of timeouts) {
    it(`networkError makes ${what} a retryable timeout: "${message}"`, () => {
      const err = networkError("GitLab API", Object.assign(new Error("x"), fields), timeoutMs);
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal(message);
    });
  }

  const reached: Array<[string, unknown, string | undefined, string]> = [
    ["nothing thrown", undefined, undefined, "GitLab API could not be reached: error"],
    [
      "an error with a name only",
      { name: "SocketError" },
      undefined,
      "GitLab API could not be reached: SocketError",
    ],
    [
      "EAI_AGAIN",
      { code: "EAI_AGAIN" },
      "https://gitlab.example:8443/api/v4",
      "GitLab API could not be reached: EAI_AGAIN (the host name of https://gitlab.example:8443 does not resolve)",
    ],
    [
      "ECONNRESET",
      { code: "ECONNRESET" },
      "https://gitlab.example/api/v4?private_token=x",
      "GitLab API could not be reached: ECONNRESET (https://gitlab.example)",
    ],
    [
      "a URL that is not one",
      { code: "ECONNRESET" },
      "not a url",
      "GitLab API could not be reached: ECONNRESET",
    ],
    [
      "a URL without an origin",
      { code: "ECONNRESET" },
      "file:///tmp/x",
      "GitLab API could not be reached: ECONNRESET",
    ],
    [
      "CERT_NOT_YET_VALID",
      { code: "CERT_NOT_YET_VALID" },
      undefined,
      "GitLab API could not be reached: CERT_NOT_YET_VALID (the server's certificate is not valid yet)",
    ],
  ];
  for (const [what, thrown, url, message] of reached) {
    it(`networkError for ${what} is retryable: "${message}"`, () => {
      const err = networkError("GitLab API", thrown, undefined, url);
      expect(err.retryable).to.equal(true);
      expect(err.message).to.equal(message);
    });
  }

  it("networkError gives back an ActionError as it is", () => {
    const given = new ActionError("already classified", { retryable: false });
    expect(networkError("GitLab API", given)).to.equal(given);
  });

  const refusals: Array<[number, boolean, string]> = [
    [407, false, ": it asks for credentials"],
    [403, false, ": it does not allow this host or port"],
    [502, true, ""],
  ];
  for (const [status, retryable, hint] of refusals) {
    it(`networkError makes an egress proxy's ${status} to a CONNECT ${retryable ? "retryable" : "final"}${hint ? ", with its hint" : ", without a hint"}`, () => {
      const err = networkError(
        "GitHub API",
        new Error(`Proxy response (${status}) !== 200 when HTTP Tunneling`),
        undefined,
        undefined,
        "http://proxy:3128",
      );
      expect(err.retryable).to.equal(retryable);
      expect(
        err.message.startsWith(
          `GitHub API: the egress proxy http://proxy:3128 refused the connection (${status})${hint}`,
        ),
      ).to.equal(true);
      if (!hint)
        expect(err.message).to.equal(
          `GitHub API: the egress proxy http://proxy:3128 refused the connection (${status})`,
        );
    });
  }

  const statuses: Array<[unknown, number | undefined]> = [
    ["Proxy response (403) !== 200 when HTTP Tunneling", 403],
    ["Proxy Authentication Required (407)", 407],
    ["x Proxy response (403) !== 200 when HTTP Tunneling", undefined],
    ["Proxy response (403) !== 200 when HTTP Tunneling, and more", undefined],
    ["x Proxy Authentication Required (407)", undefined],
    ["Proxy Authentication Required (407) x", undefined],
  ];
  for (const [message, status] of statuses) {
    it(`proxyRefusedStatus reads ${status} from ${JSON.stringify(message)}: undici's whole message only`, () => {
      expect(proxyRefusedStatus(new Error(String(message)))).to.equal(status);
    });
  }

  it("proxyRefusedStatus reads nothing from nothing thrown", () => {
    expect(proxyRefusedStatus(undefined)).to.equal(undefined);
  });
});

describe("Function: withoutCredentials' edge cases", () => {
  const cases: Array<[string, Record<string, string>, string, string]> = [
    [
      "a secret that holds another whole: the longer one goes first",
      { a: "abcdefgh1234", b: "xxabcdefgh1234yy" },
      "echo xxabcdefgh1234yy",
      "echo [redacted]",
    ],
    ["a value of exactly 8 characters", { authorization: "abcd1234" }, "echo abcd1234", "echo [redacted]"],
    [
      "nothing shorter than 8 characters",
      { authorization: "Bearer abc1234" },
      "Bearer is abc1234",
      "Bearer is abc1234",
    ],
    [
      "a value of three words: only the whole",
      { authorization: "Token abcdefgh1234 extra" },
      "saw abcdefgh1234 and Token abcdefgh1234 extra",
      "saw abcdefgh1234 and [redacted]",
    ],
    [
      "a scheme and token separated by several spaces",
      { authorization: "Bearer   abcdefgh1234" },
      "saw abcdefgh1234",
      "saw [redacted]",
    ],
  ];
  cases.push(
    [
      "a token echoed in other ASCII case (the match folds A-Z only)",
      { authorization: "Bearer ghp_abcdefgh12345678" },
      "saw GHP_ABCDEFGH12345678",
      "saw [redacted]",
    ],
    [
      "a token after text whose toLowerCase is longer (İ), at the right place",
      { authorization: "Bearer ghp_abcdefgh12345678" },
      "İİİİ saw ghp_abcdefgh12345678 here",
      "İİİİ saw [redacted] here",
    ],
  );
  const colonPassword = Buffer.from("ci-bot:pass:word-12345").toString("base64");
  cases.push([
    "a Basic password with a colon in it, whole: a user name ends at the first colon, a password does not",
    { authorization: `Basic ${colonPassword}` },
    "refused password pass:word-12345",
    "refused password [redacted]",
  ]);
  for (const [what, headers, text, expected] of cases) {
    it(`withoutCredentials: ${what}`, () => {
      expect(withoutCredentials(text, headers)).to.equal(expected);
    });
  }
});

describe("Function: apiMessage's odd bodies", () => {
  const cases: Array<[string, string]> = [
    ["null", ""],
    ['"just text"', ""],
    ['{"message":null,"error":"insufficient_scope"}', "insufficient_scope"],
    ['{"error":{"message":5}}', ""],
    ['{"errors":"not a list"}', ""],
    [
      '{"errors":[{"message":"first"},"second",{"message":3},{"message":""},{"message":"last"}]}',
      "first; last",
    ],
    ['{"message":"line one\\r\\nline two"}', "line one line two"],
  ];
  for (const [body, expected] of cases) {
    it(`apiMessage(${body}) is ${JSON.stringify(expected)}`, () => {
      expect(apiMessage(body)).to.equal(expected);
    });
  }
});

describe("Function: readText and serverMessage on a real answer", () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const answer = async (reply: Reply) => {
    server = await scriptedServer(() => reply);
    return httpRequest({ method: "GET", url: `${server.url}/x`, what: "Git host" });
  };

  it("readText takes a body of exactly its limit", async () => {
    expect(await readText(await answer({ status: 200, body: "0123456789" }), "Git host", 10)).to.equal(
      "0123456789",
    );
  });

  it("readText refuses a body past its limit as final", async () => {
    const err = await rejectsWithActionError(
      readText(await answer({ status: 200, body: "0123456789A" }), "Git host", 10),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal("Git host answered a body larger than 10 bytes");
  });

  it("readText makes a body cut off by the server a retryable network failure", async () => {
    // 100 bytes promised, 7 sent, then the connection closes.
    const sockets = new Set<Socket>();
    const cut = createServer((socket) => {
      sockets.add(socket);
      socket.once("data", () => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial"));
    });
    await new Promise<void>((resolve) => cut.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = cut.address() as AddressInfo;
      const response = await httpRequest({
        method: "GET",
        url: `http://127.0.0.1:${port}/x`,
        what: "Git host",
      });
      const err = await rejectsWithActionError(readText(response, "Git host"));
      expect(err.retryable).to.equal(true);
      expect(err.message).to.match(/^Git host could not be reached: /);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => cut.close(() => resolve()));
    }
  });

  it("serverMessage keeps 200 characters of a long message, once the credentials are out", async () => {
    const message = `token abcdefgh1234 ${"m".repeat(300)}`;
    const response = await answer({ status: 400, body: JSON.stringify({ message }) });
    const said = await serverMessage(response, "Git host", { authorization: "Bearer abcdefgh1234" });
    expect(said).to.equal(`token [redacted] ${"m".repeat(300)}`.slice(0, 200));
  });
});

describe("Function: proxySettings and shownProxy edge cases", () => {
  it("proxySettings reads HTTPS_PROXY when https_proxy is set but blank", () => {
    expect(proxySettings({ https_proxy: " ", HTTPS_PROXY: "proxy.corp:3128" })?.httpsProxy).to.equal(
      "http://proxy.corp:3128/",
    );
  });

  it("proxySettings takes an https:// proxy URL", () => {
    expect(proxySettings({ HTTPS_PROXY: "https://proxy.corp:3129" })?.httpsProxy).to.equal(
      "https://proxy.corp:3129/",
    );
  });

  it("proxySettings reads a scheme only at the start of the value: a URL in its query is no scheme", () => {
    expect(proxySettings({ HTTPS_PROXY: "proxy.corp:3128/?next=http://x" })?.httpsProxy).to.equal(
      "http://proxy.corp:3128/",
    );
  });

  it("proxySettings trims NO_PROXY", () => {
    expect(
      proxySettings({ HTTPS_PROXY: "proxy.corp:3128", NO_PROXY: " .corp.example \n" })?.noProxy,
    ).to.equal(".corp.example");
  });

  it('shownProxy says "the proxy" for a value that is no URL', () => {
    expect(shownProxy("not a url")).to.equal("the proxy");
  });
});

describe("Function: httpRequest's idle limit under the function's deadline", () => {
  it("httpRequest names the idle limit alone when it fires first, even while the deadline shortens the overall one", async () => {
    await withSilentServer(async (url) => {
      const err = await rejectsWithActionError(
        httpRequest({
          method: "GET",
          url: `${url}/`,
          what: "the archive",
          timeoutMs: 30_000,
          idleTimeoutMs: 150,
          deadlineMs: Date.now() + 20_000,
        }),
      );
      expect(err.message).to.equal("the archive timed out after 150 ms");
      expect(err.retryable).to.equal(true);
    });
  });
});
