import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import fc from "fast-check";
import { clip, statusKey } from "../../src/actions/gitHost/base";
import {
  apiMessage,
  bodyFailure,
  httpRequest,
  networkError,
  parseRetryAfter,
  proxyDispatcher,
  statusError,
  withoutCredentials,
} from "../../src/actions/http";
import { parseJenkinsCredentials, parseProviderToken } from "../../src/actions/secrets";
import { ActionError } from "../../src/core/errors";
import type { Provider } from "../../src/core/types";
import { withSilentServer } from "../support/silentServer";

const NOW = Date.parse("2026-11-23T06:00:00Z");

describe("Function: parseRetryAfter", () => {
  const cases: Array<[string | undefined, number | undefined]> = [
    ["120", 120_000],
    ["0", 0],
    [" 5 ", 5_000],
    ["Mon, 23 Nov 2026 06:01:00 GMT", 60_000],
    ["Mon, 23 Nov 2026 05:00:00 GMT", 0],
    ["soon", undefined],
    ["-5", undefined],
    [undefined, undefined],
  ];
  for (const [value, expected] of cases) {
    it(`parseRetryAfter(${JSON.stringify(value)}) is ${expected}`, () => {
      expect(parseRetryAfter(value, NOW)).to.equal(expected);
    });
  }
});

describe("Function: apiMessage (the message of a Git host's JSON error body)", () => {
  const cases: Array<[string, string]> = [
    ['{"message":"Branch Not Found"}', "Branch Not Found"],
    ['{"error":"insufficient_scope"}', "insufficient_scope"],
    // GitLab's validation errors, field by field.
    ['{"message":{"name":["has already been taken"]}}', "name has already been taken"],
    [
      '{"message":{"target_url":["is too long (maximum is 255 characters)","is blocked"],"ref":["is missing"]}}',
      "target_url is too long (maximum is 255 characters), is blocked; ref is missing",
    ],
    ['{"message":"line one\\nline two"}', "line one line two"],
    // Bitbucket Cloud
    ['{"type":"error","error":{"message":"Repository not found","detail":"x"}}', "Repository not found"],
    // Bitbucket Data Center, every message
    [
      '{"errors":[{"context":null,"message":"You are not permitted to access this resource","exceptionName":"com.atlassian.bitbucket.AuthorisationException"},{"message":"second"}]}',
      "You are not permitted to access this resource; second",
    ],
    ['{"errors":[{"context":null}]}', ""],
    ["<html>Bad Gateway</html>", ""],
    ["[1,2]", ""],
  ];
  for (const [body, expected] of cases) {
    it(`apiMessage(${body}) is ${JSON.stringify(expected)}`, () => {
      expect(apiMessage(body)).to.equal(expected);
    });
  }
});

describe("Function: statusError", () => {
  const res = (statusCode: number, headers: Record<string, string> = {}) => ({ statusCode, headers });
  const cases: Array<[number, Record<string, string>, boolean, number | undefined]> = [
    [500, {}, true, undefined],
    [502, {}, true, undefined],
    [503, { "retry-after": "30" }, true, 30_000],
    [429, { "retry-after": "7" }, true, 7_000],
    [429, {}, true, undefined],
    // Request Timeout: the request did not arrive in time, and RFC 9110 15.5.9 lets the client repeat it.
    [408, {}, true, undefined],
    [408, { "retry-after": "5" }, true, 5_000],
    [403, { "retry-after": "60" }, true, 60_000],
    [403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 90) }, true, 90_000],
    [403, { "x-ratelimit-remaining": "0" }, true, 60_000],
    [403, { "x-ratelimit-remaining": "12" }, false, undefined],
    [400, {}, false, undefined],
    [401, {}, false, undefined],
    [404, {}, false, undefined],
    [409, {}, false, undefined],
    [422, {}, false, undefined],
  ];
  const resetIn90s = { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 90) };
  cases.push([429, resetIn90s, true, 90_000]); // GitHub's primary limit may come as a 429 too
  cases.push([429, { ...resetIn90s, "retry-after": "7" }, true, 7_000]);
  for (const [status, headers, retryable, retryAfterMs] of cases) {
    it(`statusError classifies ${status} ${JSON.stringify(headers)} as ${retryable ? "retryable" : "final"}`, () => {
      const err = statusError("GitHub API", res(status, headers), "", NOW);
      expect(err).to.be.instanceOf(ActionError);
      expect(err.retryable).to.equal(retryable);
      expect(err.retryAfterMs).to.equal(retryAfterMs);
      expect(err.message).to.contain(String(status));
    });
  }

  it("statusError retries GitHub's secondary rate limit (a 403 without headers) after a minute, by its message", () => {
    const message =
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    const err = statusError("GitHub API", res(403), message, NOW);
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.equal(60_000);
    expect(
      statusError("GitHub API", res(403), "Resource not accessible by integration", NOW).retryable,
    ).to.equal(false);
  });

  it("statusError is retryable for every 5xx, 429 and 408 and final for every other 4xx without rate-limit headers (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const err = statusError("x", res(status), "", NOW);
        const expected = status >= 500 || status === 429 || status === 408;
        return err.retryable === expected;
      }),
    );
  });
});

describe("Function: parseJenkinsCredentials", () => {
  it('parseJenkinsCredentials reads {"user", "token"}', () => {
    expect(parseJenkinsCredentials('{"user":"ci","token":"t0k"}', "s")).to.deep.equal({
      user: "ci",
      token: "t0k",
    });
  });
  it('parseJenkinsCredentials accepts {"username", "password"}', () => {
    expect(parseJenkinsCredentials('{"username":"ci","password":"p"}', "s")).to.deep.equal({
      user: "ci",
      token: "p",
    });
  });
  it("parseJenkinsCredentials trims a user and token saved with a line break or spaces, as a Git host token is", () => {
    expect(parseJenkinsCredentials(JSON.stringify({ user: " ci\n", token: "t0k\n" }), "s")).to.deep.equal({
      user: "ci",
      token: "t0k",
    });
    expect(parseJenkinsCredentials('{"user":"ci","token":" ","apiToken":"t0k"}', "s")).to.deep.equal({
      user: "ci",
      token: "t0k",
    });
  });
  for (const bad of [
    "",
    "ci:t0k",
    JSON.stringify({ user: "ci", token: " \n" }),
    "null",
    "[]",
    '{"user":"ci"}',
    '{"user":1,"token":"t"}',
    '{"user":"","token":"t"}',
  ]) {
    it(`parseJenkinsCredentials rejects ${JSON.stringify(bad)} as final without echoing it`, () => {
      try {
        parseJenkinsCredentials(bad, "hookgate/jenkins");
        expect.fail("no error");
      } catch (err) {
        expect((err as ActionError).retryable).to.equal(false);
        expect((err as Error).message).to.contain("hookgate/jenkins");
        if (bad.length > 4) expect((err as Error).message).to.not.contain(bad);
      }
    });
  }
});

describe("Function: parseProviderToken", () => {
  const cases: Array<[string, unknown]> = [
    ["ghp_abc", { kind: "token", token: "ghp_abc" }],
    ["ghp_abc\n", { kind: "token", token: "ghp_abc" }],
    ['{"token":"glpat-x"}', { kind: "token", token: "glpat-x" }],
    ['{"username":"bot","appPassword":"pw"}', { kind: "basic", user: "bot", password: "pw" }],
  ];
  for (const [raw, expected] of cases) {
    it(`parseProviderToken(${JSON.stringify(raw)}) reads the credential`, () => {
      expect(parseProviderToken(raw, "s")).to.deep.equal(expected);
    });
  }
  it('parseProviderToken trims a JSON token (`jq --arg` of a line): {"token":"glpat-x\\n"}', () => {
    expect(parseProviderToken('{"token":"glpat-x\\n"}', "s")).to.deep.equal({
      kind: "token",
      token: "glpat-x",
    });
  });
  // Bitbucket Cloud's Atlassian API tokens go as Basic with the account's email; a token alone stays a Bearer.
  const withProvider: Array<[string, Provider, unknown]> = [
    [
      '{"email":"dev@acme.example","apiToken":"ATATT3x-api"}',
      "bitbucket",
      { kind: "basic", user: "dev@acme.example", password: "ATATT3x-api" },
    ],
    [
      '{"email":"dev@acme.example","apiToken":"ATATT3x-api\\n"}',
      "bitbucket",
      { kind: "basic", user: "dev@acme.example", password: "ATATT3x-api" },
    ],
    [
      '{"email":"dev@acme.example","token":"ATATT3x-api"}',
      "bitbucket",
      { kind: "basic", user: "dev@acme.example", password: "ATATT3x-api" },
    ],
    [
      '{"username":"dev@acme.example","token":"ATATT3x-api"}',
      "bitbucket",
      { kind: "basic", user: "dev@acme.example", password: "ATATT3x-api" },
    ],
    ['{"token":"ATCTT3x-access"}', "bitbucket", { kind: "token", token: "ATCTT3x-access" }],
    ['{"username":"bot","token":"glpat-x"}', "gitlab", { kind: "token", token: "glpat-x" }],
    // Forms that were a token sent alone before API tokens were read, and must stay so: GitLab's REST API
    // takes no Basic, and a Bitbucket access token beside a user that is no email is still a Bearer.
    ['{"email":"dev@acme.example","token":"glpat-x"}', "gitlab", { kind: "token", token: "glpat-x" }],
    ['{"email":"dev@acme.example","token":"ghp_x"}', "github", { kind: "token", token: "ghp_x" }],
    ['{"email":"dev@acme.example","token":"BBDC-x"}', "bitbucket-server", { kind: "token", token: "BBDC-x" }],
    [
      '{"username":"x-token-auth","token":"ATCTT3x-access"}',
      "bitbucket",
      { kind: "token", token: "ATCTT3x-access" },
    ],
  ];
  for (const [raw, provider, expected] of withProvider) {
    it(`parseProviderToken(${JSON.stringify(raw)}, name, "${provider}") reads the credential`, () => {
      expect(parseProviderToken(raw, "s", provider)).to.deep.equal(expected);
    });
  }
  it("parseProviderToken lists the accepted forms when a secret has none of them, without its values", () => {
    for (const raw of ['{"email":"dev@acme.example"}', '{"apiToken":"ATATT3x-api-secret"}']) {
      let message = "";
      try {
        parseProviderToken(raw, "hookgate/bitbucket-token", "bitbucket");
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).to.equal(
        'secret "hookgate/bitbucket-token" must hold a token: the token alone, {"token": "..."}, or a user and its token, ' +
          '{"email": "...", "apiToken": "..."} (an Atlassian API token, for Bitbucket Cloud) or {"username": "...", "password": "..."}',
      );
    }
  });
  // Each input, and a part of it that must not appear in the error.
  const bad: Array<[string, string]> = [
    ["two words", "words"],
    ['{"nope":1}', "nope"],
    ["{broken", "broken"],
    ['{"token":"glpat-abc\\rdef"}', "glpat"], // a CR inside: undici would refuse the header on every attempt
    ["ghp_abc\u200b", "ghp_"], // a zero-width space pasted with it
    ['{"token":"ghp_é"}', "ghp_"],
  ];
  for (const [raw, hidden] of bad) {
    it(`parseProviderToken rejects ${JSON.stringify(raw)} as final, without showing it`, () => {
      let error: unknown;
      try {
        parseProviderToken(raw, "s");
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(ActionError);
      expect((error as ActionError).retryable).to.equal(false);
      expect((error as ActionError).message).not.to.contain(hidden);
    });
  }
});

describe("Function: networkError (what a failed connection tells the user)", () => {
  const cases: Array<[string, boolean, string]> = [
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", true, "not trusted: add its CA with caBundle"],
    ["SELF_SIGNED_CERT_IN_CHAIN", true, "not trusted: add its CA with caBundle"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", true, "does not name this host"],
    ["CERT_HAS_EXPIRED", true, "has expired"],
    ["ECONNREFUSED", true, "could not be reached: ECONNREFUSED"],
    ["UND_ERR_INVALID_ARG", false, "could not be built"],
  ];
  for (const [code, retryable, says] of cases) {
    it(`networkError(${code}) is ${retryable ? "retryable" : "final"} and says "${says}"`, () => {
      const error = networkError("GitLab API", Object.assign(new Error("x"), { code }));
      expect(error.retryable).to.equal(retryable);
      expect(error.message).to.contain(says);
      if (code !== "UNABLE_TO_VERIFY_LEAF_SIGNATURE" && code !== "SELF_SIGNED_CERT_IN_CHAIN")
        expect(error.message).not.to.contain("caBundle");
    });
  }
});

describe("Function: networkError's wording of limits and origins", () => {
  it("networkError says a limit under a second in ms and one of a second or more in whole seconds", () => {
    // [the limit that fired (ms), as the message says it]
    const cases: Array<[number, string]> = [
      [500, "500 ms"],
      [999, "999 ms"],
      [1000, "1 s"],
      [20_000, "20 s"],
    ];
    for (const [ms, said] of cases) {
      const timedOut = Object.assign(new Error("x"), { name: "TimeoutError" });
      expect(networkError("GitLab API", timedOut, ms).message).to.equal(`GitLab API timed out after ${said}`);
    }
  });

  it('networkError names no origin for a URL that has none (its origin reads "null")', () => {
    const reset = Object.assign(new Error("x"), { code: "ECONNRESET" });
    expect(networkError("Jenkins", reset, undefined, "jenkins://ci/x").message).to.equal(
      "Jenkins could not be reached: ECONNRESET",
    );
    const connect = Object.assign(new Error("Connect Timeout Error (timeout: 10000ms)"), {
      code: "UND_ERR_CONNECT_TIMEOUT",
    });
    expect(networkError("Jenkins", connect, undefined, "jenkins://ci/x").message).to.equal(
      "Jenkins timed out connecting: the connection was not set up within undici's connect limit of 10 s",
    );
  });
});

describe("Function: httpRequest connection failures", () => {
  it("httpRequest to a port nothing listens on names the origin it could not reach, without the path or query", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const failure = await httpRequest({
      method: "POST",
      url: `http://127.0.0.1:${port}/job/api/job/build/buildWithParameters?token=s3cr3t`,
      what: "Jenkins job api/build",
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(ActionError);
    expect((failure as ActionError).retryable).to.equal(true);
    expect((failure as ActionError).message).to.equal(
      `Jenkins job api/build could not be reached: ECONNREFUSED (nothing accepts connections at http://127.0.0.1:${port}: is it running there, on that port?)`,
    );
  });

  for (const target of [
    "https://git.corp.test/api/v4/projects/1",
    "http://jenkins.corp.test:8080/job/x/build",
  ]) {
    it(`httpRequest to ${target.split(":")[0]}:// through an egress proxy nothing listens on names the proxy, not the host it never reached`, async () => {
      const port = await new Promise<number>((resolve) => {
        const server = createServer();
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo;
          server.close(() => resolve(port));
        });
      });
      const proxy = `http://127.0.0.1:${port}`;
      const failure = await httpRequest({
        method: "GET",
        url: target,
        dispatcher: proxyDispatcher({ httpsProxy: proxy, httpProxy: proxy, noProxy: "" }),
        what: "Call",
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).to.be.instanceOf(ActionError);
      expect((failure as ActionError).retryable).to.equal(true);
      expect((failure as ActionError).message).to.equal(
        `Call could not be reached: ECONNREFUSED (nothing accepts connections at the egress proxy ${proxy}: is it running there, on that port?)`,
      );
    });
  }

  it("networkError says that a host name does not resolve, naming the origin", () => {
    const error = networkError(
      "GitLab API",
      Object.assign(new Error("x"), { code: "ENOTFOUND" }),
      undefined,
      "https://gitlab.internal.example:8443/api/v4/projects",
    );
    expect(error.message).to.equal(
      "GitLab API could not be reached: ENOTFOUND (the host name of https://gitlab.internal.example:8443 does not resolve)",
    );
  });
});

describe("Function: statusKey (Bitbucket Cloud's 40-character status key)", () => {
  it("statusKey keeps a key that fits as it is", () => {
    expect(statusKey("hookgate/pr-cleanup", 40)).to.equal("hookgate/pr-cleanup");
  });

  it("statusKey keeps two long route names that differ only past the limit apart, within the limit", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9-]{31,63}$/), fc.constantFrom("a", "b"), (name, last) => {
        const a = statusKey(`hookgate/${name}${last}`, 40);
        const b = statusKey(`hookgate/${name}${last === "a" ? "b" : "a"}`, 40);
        expect(a).to.have.length.at.most(40);
        expect(a).not.to.equal(b);
        expect(a.startsWith("hookgate/")).to.equal(true);
      }),
    );
  });
});

describe("Function: clip (commit status descriptions)", () => {
  const cases: Array<[string, string, string]> = [
    ["a short text", "  build   passed\n", "build passed"],
    ["a long text, cut to 140 with an ellipsis", "x".repeat(200), `${"x".repeat(139)}…`],
    ["an emoji across the cut, dropped whole", `${"b".repeat(138)}😀tail`, `${"b".repeat(138)}…`],
  ];
  for (const [what, text, expected] of cases) {
    it(`clip keeps ${what}`, () => {
      const clipped = clip(text);
      expect(clipped).to.equal(expected);
      expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(clipped), "a lone high surrogate").to.equal(false);
    });
  }
});

describe("Function: withoutCredentials (error messages a server wrote)", () => {
  const basic = Buffer.from("ci-bot:11aa22bb33cc44dd").toString("base64");
  const cases: Array<[string, Record<string, string>, string, string]> = [
    [
      "a bearer token",
      { authorization: "Bearer ghp_abcdefgh12345678" },
      "bad: Bearer ghp_abcdefgh12345678",
      "bad: [redacted]",
    ],
    [
      "a GitLab private token",
      { "private-token": "glpat-abcdefgh1234" },
      "token glpat-abcdefgh1234 refused",
      "token [redacted] refused",
    ],
    [
      "a Basic pair, encoded or not",
      { authorization: `Basic ${basic}` },
      `saw ${basic} from ci-bot:11aa22bb33cc44dd`,
      "saw [redacted] from [redacted]",
    ],
    [
      "nothing of the credentials",
      { authorization: "Bearer ghp_abcdefgh12345678" },
      "Not Found",
      "Not Found",
    ],
    [
      "a Basic password in a Location, as each URL writes it",
      { authorization: `Basic ${Buffer.from("ci-bot:p w/x+y=z:q").toString("base64")}` },
      [
        "/job/p%20w/x+y=z:q/x", // a parsed URL's path, as encodeURI also writes it
        "/p%20w%2Fx%2By%3Dz%3Aq", // encodeURIComponent
        "/p%20w%2fx%2by%3dz%3aq", // lower-case hex
        "?v=p+w%2Fx%2By%3Dz%3Aq", // a form's space
      ].join(" "),
      "/job/[redacted]/x /[redacted] /[redacted] ?v=[redacted]",
    ],
    [
      "a Basic password as only a parsed URL's path writes it ([ ] | kept, which encodeURI encodes; ^ kept by Node 20's URL, encoded by Node 24's)",
      { authorization: `Basic ${Buffer.from("ci-bot:pw[1]|x^y{z}").toString("base64")}` },
      new URL("http://jenkins.test/job/pw[1]|x^y{z}/x").pathname,
      "/job/[redacted]/x",
    ],
    [
      "a token sent as the Basic user ({username: <token>, password: x-oauth-basic})",
      { authorization: `Basic ${Buffer.from("3f2a9c8e7d6b5a4f3e2d1c0b:x-oauth-basic").toString("base64")}` },
      "401 bad token 3f2a9c8e7d6b5a4f3e2d1c0b",
      "401 bad token [redacted]",
    ],
    [
      "a credential repeated so that its matches overlap",
      { authorization: "Bearer abababab" },
      "xababababab",
      "x[redacted]",
    ],
    [
      "two credentials that overlap in the text, as one stretch (the longest first left a part of the other)",
      { authorization: "Bearer abcdefgh12", "private-token": "12345678" },
      "got abcdefgh12345678 back",
      "got [redacted] back",
    ],
  ];
  // The forms a URL's setters and a parsed URL write, built with this runtime's URL (Node 20's and 24's differ).
  const basicOf = (password: string) => ({
    authorization: `Basic ${Buffer.from(`ci-bot:${password}`).toString("base64")}`,
  });
  const withUrl = (href: string, change: (url: URL) => void) => {
    const url = new URL(href);
    change(url);
    return url.href;
  };
  cases.push(
    [
      "a token a server wrote into a redirect's host name, which a parsed URL's origin lower-cases",
      { authorization: "Bearer GhpMixedCase12345678" },
      `to ${new URL("https://GhpMixedCase12345678.evil.test/login").origin}`,
      "to https://[redacted].evil.test",
    ],
    [
      "a non-ASCII password in a host name, which a parsed URL writes as punycode",
      basicOf("Pässwörd-1234"),
      `to ${new URL("https://Pässwörd-1234.evil.test/login").origin}`,
      "to https://[redacted].evil.test",
    ],
    [
      "a password as a URL's password setter writes it (/ = ; encoded, + kept)",
      basicOf("p/w+x=y;z"),
      withUrl("http://jenkins.test/", (url) => {
        url.username = "ci-bot";
        url.password = "p/w+x=y;z";
      }),
      "http://ci-bot:[redacted]@jenkins.test/",
    ],
    [
      "a password as a URL's search setter writes it (' and a space encoded, / + kept)",
      basicOf("it's/p w+x"),
      withUrl("http://jenkins.test/login", (url) => {
        url.search = "?token=it's/p w+x";
      }),
      "http://jenkins.test/login?token=[redacted]",
    ],
    [
      "a password as searchParams writes it (a space as +, ' ( ) ! ~ encoded)",
      basicOf("it's (p)!~w"),
      withUrl("http://jenkins.test/login", (url) => url.searchParams.set("token", "it's (p)!~w")),
      "http://jenkins.test/login?token=[redacted]",
    ],
    [
      "a password encoded twice: a redirect's query holding a URL that holds it",
      basicOf("it's p/w+"),
      `/login?from=${encodeURIComponent(`https://jenkins.test/job/x?token=${encodeURIComponent("it's p/w+")}`)}`,
      `/login?from=${encodeURIComponent("https://jenkins.test/job/x?token=")}[redacted]`,
    ],
    [
      "a password form-encoded twice (searchParams of a URL whose searchParams hold it)",
      basicOf("it's p/w+"),
      withUrl("http://jenkins.test/login", (url) =>
        url.searchParams.set(
          "next",
          withUrl("https://jenkins.test/job/x", (inner) => inner.searchParams.set("token", "it's p/w+")),
        ),
      ),
      `http://jenkins.test/login?${new URLSearchParams({ next: "https://jenkins.test/job/x?token=" })}[redacted]`,
    ],
  );
  for (const [what, headers, text, expected] of cases) {
    it(`withoutCredentials removes ${what} from a message`, () => {
      expect(withoutCredentials(text, headers)).to.equal(expected);
    });
  }
});

describe("Function: httpRequest timeouts", () => {
  it("httpRequest does not call at all once the function's deadline has passed (retryable)", async () => {
    const failure = await httpRequest({
      method: "GET",
      url: "http://127.0.0.1:9/",
      what: "Jenkins job api/build",
      deadlineMs: Date.now() - 1,
    }).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(ActionError);
    expect((failure as ActionError).message).to.equal(
      "Jenkins job api/build was not called: the function's time ran out",
    );
    expect((failure as ActionError).retryable).to.equal(true);
  });

  it("httpRequest cuts a call short at the function's deadline, and says so, instead of running into the kill", async () => {
    await withSilentServer(async (url) => {
      const failure = await httpRequest({
        method: "POST",
        url: `${url}/`,
        what: "Jenkins job api/build",
        timeoutMs: 30_000,
        deadlineMs: Date.now() + 200,
      }).catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(ActionError);
      expect((failure as ActionError).message).to.match(
        /^Jenkins job api\/build timed out after \d+ ms, where the function's time ran out$/,
      );
      expect((failure as ActionError).retryable).to.equal(true);
    });
  });

  it("httpRequest names the idle limit when a server sends nothing for that long, not the overall one", async () => {
    await withSilentServer(async (url) => {
      const failure = await httpRequest({
        method: "GET",
        url: `${url}/`,
        what: "the archive",
        timeoutMs: 30_000,
        idleTimeoutMs: 150,
      })
        .then(() => undefined)
        .catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(ActionError);
      expect((failure as ActionError).message).to.equal("the archive timed out after 150 ms");
      expect((failure as ActionError).retryable).to.equal(true);
    });
  });

  /** A server that sends its headers and the first bytes, then `rest`: nothing more, or a trickle. */
  async function withSlowBody(rest: "stall" | "trickle", use: (url: string) => Promise<void>): Promise<void> {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/zip", "content-length": "1000000" });
      res.write("PK");
      if (rest === "stall") return;
      // Never idle for long: only the overall limit or the deadline can cut it.
      const timer = setInterval(() => res.write(Buffer.alloc(64)), 20);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  async function bodyReadFailure(
    url: string,
    call: { timeoutMs?: number; idleTimeoutMs?: number; deadlineMs?: number },
  ): Promise<ActionError> {
    const res = await httpRequest({ method: "GET", url, what: "the archive", ...call });
    try {
      for await (const _ of res.body) {
        // Read to the end, or to the cut.
      }
    } catch (err) {
      return bodyFailure(res, err, "the archive");
    }
    throw new Error("the body was read to its end");
  }

  it("bodyFailure says the function's time ran out when the deadline cuts a body still streaming", async () => {
    await withSlowBody("trickle", async (url) => {
      const failure = await bodyReadFailure(url, { timeoutMs: 30_000, deadlineMs: Date.now() + 300 });
      expect(failure.message).to.match(
        /^the archive timed out after \d+ ms, where the function's time ran out$/,
      );
      expect(failure.retryable).to.equal(true);
    });
  });

  it("bodyFailure names the idle limit when a body stops coming for that long", async () => {
    await withSlowBody("stall", async (url) => {
      const failure = await bodyReadFailure(url, { timeoutMs: 30_000, idleTimeoutMs: 150 });
      expect(failure.message).to.equal("the archive timed out after 150 ms");
      expect(failure.retryable).to.equal(true);
    });
  });

  it("bodyFailure names the overall limit when a body still streaming reaches it", async () => {
    await withSlowBody("trickle", async (url) => {
      const failure = await bodyReadFailure(url, { timeoutMs: 300 });
      expect(failure.message).to.equal("the archive timed out after 300 ms");
    });
  });
});
