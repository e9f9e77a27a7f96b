// Echoes of a credential that a review of the redaction (f8ca597..a5e3a94) found passing or blanking too
// much: a latin1 reading of UTF-8, JSON string escapes, a short secret's host form, the proxy's user, a
// token read as a URL scheme, and send's secret that never travels.
import { expect } from "chai";
import { nextHop } from "../../src/actions/gitHost/redirects";
import { apiMessage, withoutCredentials } from "../../src/actions/http";
import { triggerJenkins } from "../../src/actions/jenkins";
import { withoutSecrets } from "../../src/cli/send";
import type { JenkinsRequest } from "../../src/core/types";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { MemorySecretStore } from "../support/secrets";
import { rejectsWithActionError, testClients } from "./helpers";

const context = { deliveryId: "d-1" };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

function jenkinsRequest(url: string): JenkinsRequest {
  return {
    type: "jenkins",
    jenkins: { url, credentials: "hookgate/jenkins", crumb: false },
    job: ["api", "build"],
    parameters: { BRANCH: "main" },
  };
}

describe("Function: triggerJenkins and a password a redirect's Location holds as raw UTF-8", () => {
  const password = "Pässwörd-1234";
  let jenkins: JenkinsServer;
  beforeEach(async () => {
    jenkins = await startJenkinsServer({ user: "ci-bot", token: password });
  });
  afterEach(async () => {
    await jenkins.close();
  });

  it("triggerJenkins' message about a redirect whose Location holds the password as raw UTF-8 bytes (undici reads them as latin1) does not hold it", async () => {
    // The bytes a server writes when it puts a decoded path into its Location (nginx's $uri is decoded).
    const location = Buffer.from(`/login/${password}`, "utf8").toString("latin1");
    jenkins.script({ status: 302, location });
    const clients = testClients({
      secrets: new MemorySecretStore({
        "hookgate/jenkins": JSON.stringify({ user: "ci-bot", token: password }),
      }),
    });
    const err = await rejectsWithActionError(triggerJenkins(jenkinsRequest(jenkins.url), clients, context));
    expect(err.message).to.include(`${jenkins.url}/login/`);
    // The path as the URL parser writes undici's latin1 reading: decoded once, it is the UTF-8 bytes as latin1.
    const asRead = new URL(location, jenkins.url).pathname.slice("/login/".length);
    expect(decodeURIComponent(asRead)).to.equal(Buffer.from(password, "utf8").toString("latin1"));
    expect(err.message).not.to.include(asRead);
  });
});

describe("Function: withoutSecrets and a GitLab token an answer echoes in a JSON string", () => {
  // hookgate send prints the answer's text as it came: a JSON body escapes the token's " and \, and Go's
  // encoding/json (Gitea, most Go servers and proxies) writes & < > as \u0026 \u003c \u003e.
  const token = 'gl"tok\\en&<x>-12345678';

  it("withoutSecrets takes out a token a JSON body holds with its quote and backslash escaped", () => {
    const answer = JSON.stringify({ headers: { "x-gitlab-token": token } });
    expect(withoutSecrets(answer, token, undefined)).to.equal('{"headers":{"x-gitlab-token":"[redacted]"}}');
  });

  it("withoutSecrets takes out a token a JSON body holds as Go's encoder writes it (& < > as \\u escapes)", () => {
    const go = JSON.stringify(token)
      .slice(1, -1)
      .replace(/[&<>]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    expect(withoutSecrets(`{"token":"${go}"}`, token, undefined)).to.equal('{"token":"[redacted]"}');
  });
});

describe("Function: withoutSecrets and withoutCredentials and a URL holding the secret, inside a JSON string", () => {
  // GitLab secret tokens of 11 characters (sent as they are), with a space and a "/" or "&": a URL holds them
  // percent-encoded, and a JSON encoder escapes the URL's "/" or "&" around that.
  it("withoutSecrets takes out the secret's URL form in a JSON answer that writes / as \\/ (PHP's json_encode)", () => {
    const answer = '{"message":"redirected to http:\\/\\/h\\/pass%20word\\/x"}';
    expect(withoutSecrets(answer, "pass word/x", undefined)).to.equal(
      '{"message":"redirected to http:\\/\\/h\\/[redacted]"}',
    );
  });

  it("withoutSecrets takes out the secret's URL form in a JSON answer that writes & as \\u0026 (Go's encoding/json)", () => {
    const answer = '{"next":"http://h/?t=pass%20word\\u0026x"}';
    expect(withoutSecrets(answer, "pass word&x", undefined)).to.equal('{"next":"http://h/?t=[redacted]"}');
  });

  it("withoutCredentials takes out a password's URL form in a server's message that quotes JSON (an upstream's answer inside its own)", () => {
    const body = JSON.stringify({
      message: 'upstream said {"location":"https:\\/\\/h\\/login\\/pass%20word\\/x"}',
    });
    const message = withoutCredentials(apiMessage(body), basic("ci-bot", "pass word/x"));
    expect(message).to.equal('upstream said {"location":"https:\\/\\/h\\/login\\/[redacted]"}');
  });
});

describe("Function: withoutCredentials and a short password's host form", () => {
  it("withoutCredentials keeps 127.0.0.1 in a message when the Jenkins password is the 5-character 127.1 (under 8 characters is never taken out, but its host form 127.0.0.1 is 9)", () => {
    const sent = { authorization: `Basic ${Buffer.from("ci-bot:127.1").toString("base64")}` };
    const message = "answered a redirect (302) to http://127.0.0.1:8080/login";
    expect(withoutCredentials(message, sent)).to.equal(message);
  });
});

describe("Function: withoutSecrets and the proxy's user name", () => {
  it("withoutSecrets keeps the proxy's user name, as the actions' messages do (it may be a word): only its password and Basic value go", () => {
    const shown = withoutSecrets(
      '{"route":"Buildfarm","ok":true}',
      "send-secret-12345",
      "http://buildfarm:pw@proxy.test:3128",
    );
    expect(shown).to.equal('{"route":"Buildfarm","ok":true}');
  });
});

describe("Function: nextHop and a Location that starts with the token", () => {
  it("nextHop's refusal of a Location the URL parser reads as another scheme (<token>:x-oauth-basic@host, the scheme left out) does not name the token as that scheme", () => {
    const token = "glpat-Abcdefgh12345678";
    const hop = { method: "GET" as const, url: "https://gitlab.test/api/v4/projects/1" };
    const call = () =>
      nextHop(
        hop,
        302,
        `${token}:x-oauth-basic@gitlab.test/`,
        "https://gitlab.test/api/v4",
        "GitLab API GET",
        {
          "private-token": token,
        },
      );
    expect(call).to.throw(/not followed/);
    expect(call).not.to.throw(/glpat-abcdefgh12345678/i);
  });
});

describe("Function: withoutSecrets and a secret that does not travel", () => {
  it("withoutSecrets keeps the letters of a short HMAC secret (GitHub's never goes on the wire): only what travels is taken out at any length", () => {
    const answer = '{"status":"rejected","reason":"signature invalid"}';
    expect(withoutSecrets(answer, "re", undefined, { secretTravels: false })).to.equal(answer);
  });

  it("withoutSecrets takes out a short GitLab secret token, which travels as it is, wherever the answer echoes it", () => {
    expect(withoutSecrets('{"echo":"tok"}', "tok", undefined, { secretTravels: true })).to.equal(
      '{"echo":"[redacted]"}',
    );
  });
});

describe("Function: withoutCredentials and an 8-digit password's host form", () => {
  const password = "12345678"; // the URL parser writes http://12345678/ as http://0.188.97.78/

  it("withoutCredentials takes out the host form 0.188.97.78 the URL parser writes for the 8-character password 12345678", () => {
    const host = new URL(`http://${password}/`).hostname;
    expect(host).to.equal("0.188.97.78");
    expect(withoutCredentials(`redirect to http://${host}/`, basic("ci-bot", password))).not.to.include(host);
  });

  describe("through triggerJenkins", () => {
    let jenkins: JenkinsServer;
    beforeEach(async () => {
      jenkins = await startJenkinsServer({ user: "ci-bot", token: password });
    });
    afterEach(async () => {
      await jenkins.close();
    });

    it("triggerJenkins' message about a redirect to http://<password>/ does not name the host the parser wrote from the password", async () => {
      jenkins.script({ status: 302, location: `http://${password}/job/api/build` });
      const clients = testClients({
        secrets: new MemorySecretStore({
          "hookgate/jenkins": JSON.stringify({ user: "ci-bot", token: password }),
        }),
      });
      const request: JenkinsRequest = {
        type: "jenkins",
        jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false },
        job: ["api", "build"],
        parameters: {},
      };
      const err = await rejectsWithActionError(triggerJenkins(request, clients, { deliveryId: "d-1" }));
      expect(err.message).not.to.include("0.188.97.78");
    });
  });
});

describe("Function: withoutCredentials and the IPv4 address a numeric password's host form is", () => {
  // The URL parser writes http://2130706433/ as http://127.0.0.1/ and http://00000001/ (octal) as http://0.0.0.1/.
  const loopback = basic("ci-bot", "2130706433");
  const zeroOne = basic("ci-bot", "00000001");

  it("withoutCredentials keeps 127.0.0.1 in a connection error that names it for its own reasons, when the password 2130706433's host form is 127.0.0.1", () => {
    expect(new URL("http://2130706433/").hostname).to.equal("127.0.0.1");
    const message = "connect ECONNREFUSED 127.0.0.1:8080";
    expect(withoutCredentials(message, loopback)).to.equal(message);
  });

  it("withoutCredentials keeps the address 10.0.0.1 whole, alone or as a URL's host, when the password 00000001's host form 0.0.0.1 is part of it", () => {
    expect(new URL("http://00000001/").hostname).to.equal("0.0.0.1");
    for (const message of ["connect ETIMEDOUT 10.0.0.1:443", "redirect to http://10.0.0.1/login"]) {
      expect(withoutCredentials(message, zeroOne)).to.equal(message);
    }
  });

  it("withoutCredentials takes out a password's IPv4 host form where it stands as a URL's whole host: after //, user info's @, JSON's \\/\\/, or percent-encoded in a query", () => {
    const shown = (message: string) => withoutCredentials(message, loopback);
    expect(shown("redirect to http://127.0.0.1:8080/login")).to.equal(
      "redirect to http://[redacted]:8080/login",
    );
    expect(shown("redirect to http://u:p@127.0.0.1/")).to.equal("redirect to http://u:p@[redacted]/");
    expect(shown('{"location":"http:\\/\\/127.0.0.1\\/x"}')).to.equal(
      '{"location":"http:\\/\\/[redacted]\\/x"}',
    );
    expect(shown("/login?next=http%3A%2F%2F127.0.0.1%2Fjob")).to.equal(
      "/login?next=http%3A%2F%2F[redacted]%2Fjob",
    );
    expect(shown("/login?next=http%3A%2F%2Fu%40127.0.0.1")).to.equal(
      "/login?next=http%3A%2F%2Fu%40[redacted]",
    );
    // Another address, longer than the host form: kept.
    expect(shown("redirect to http://127.0.0.12/ or http://127.0.0.1.example/")).to.equal(
      "redirect to http://127.0.0.12/ or http://127.0.0.1.example/",
    );
  });

  it("withoutCredentials takes out the host form where a sentence's full stop follows the URL's origin, and in a URL percent-encoded twice", () => {
    const shown = (message: string) => withoutCredentials(message, loopback);
    expect(shown("Moved. Redirecting to http://127.0.0.1.")).to.equal(
      "Moved. Redirecting to http://[redacted].",
    );
    const inner = encodeURIComponent("http://127.0.0.1/job");
    const twice = `/login?next=${encodeURIComponent(`/sso?return=${inner}`)}`;
    expect(twice).to.include("%252F%252F127.0.0.1%252Fjob");
    expect(shown(twice)).to.not.include("127.0.0.1");
  });

  it("withoutCredentials keeps 127.0.0.1 where a URL's path names it (a Jenkins agent), not its host", () => {
    const message = "no agent at http://jenkins.example.com/computer/127.0.0.1/ (offline)";
    expect(withoutCredentials(message, loopback)).to.equal(message);
  });

  it("withoutCredentials takes out a credential that is itself a dotted address anywhere, also when another credential's host form is the same address", () => {
    // The user 0.188.97.78 is a value sent as it is; the password 12345678's host form is the same text.
    const sent = basic("0.188.97.78", "12345678");
    expect(withoutCredentials("user 0.188.97.78 unknown", sent)).to.equal("user [redacted] unknown");
  });
});

describe("Function: withoutSecrets and a GitLab token a JSON encoder writes with \\u escapes for non-ASCII", () => {
  it("withoutSecrets takes out a token an answer holds as Python's json.dumps (ensure_ascii) or Jackson's ESCAPE_NON_ASCII writes it", () => {
    const token = "glpat-Tökenwert-1234";
    const asciiJson = JSON.stringify({ "x-gitlab-token": token }).replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    expect(asciiJson).to.include("T\\u00f6kenwert");
    expect(withoutSecrets(asciiJson, token, undefined)).to.equal('{"x-gitlab-token":"[redacted]"}');
  });

  it("withoutSecrets takes out a token an answer holds as PHP's json_encode writes it (/ as \\/)", () => {
    const token = "glpat-tok/en/1234";
    expect(withoutSecrets('{"token":"glpat-tok\\/en\\/1234"}', token, undefined)).to.equal(
      '{"token":"[redacted]"}',
    );
  });
});

describe("Function: withoutCredentials and the host form a URL parser writes for a secret", () => {
  it("withoutCredentials keeps ordinary words that a short host form would be once IDNA drops soft hyphens", () => {
    const softHyphens = `ab${"\u00ad".repeat(6)}`;
    expect(new URL(`http://${softHyphens}/`).hostname).to.equal("ab");
    expect(withoutCredentials("a tab about ABBA", { authorization: `Bearer ${softHyphens}` })).to.equal(
      "a tab about ABBA",
    );
  });

  it("withoutCredentials takes out an ASCII host form that is not the secret lower-cased: a percent-escape decoded, a soft hyphen dropped", () => {
    const cases: [string, string][] = [
      ["ab%43defgh12", "abcdefgh12"],
      ["pass\u00adword12", "password12"],
    ];
    for (const [password, host] of cases) {
      expect(new URL(`http://${password}/`).hostname).to.equal(host);
      const shown = withoutCredentials(`Redirect to http://${host}/login refused`, basic("ci-bot", password));
      expect(shown).to.equal("Redirect to http://[redacted]/login refused");
    }
  });

  it("withoutCredentials still takes out a non-ASCII secret's punycode host form", () => {
    const secret = "tökenwert-1234";
    const host = new URL(`http://${secret}/`).hostname;
    expect(host.startsWith("xn--")).to.equal(true);
    expect(
      withoutCredentials(`redirect to https://${host}/`, { authorization: `Bearer ${secret}` }),
    ).to.equal("redirect to https://[redacted]/");
  });

  it("withoutCredentials takes out a numeric password's IPv4 host form in a URL JSON-escaped twice (JSON quoting JSON) or percent-encoded after JSON", () => {
    const inner = JSON.stringify({ location: "http://127.0.0.1/job" }).replace(/\//g, "\\/");
    const outer = JSON.stringify({ message: `upstream answered ${inner}` }).replace(/\//g, "\\/");
    expect(outer).to.include("http:\\\\\\/\\\\\\/127.0.0.1");
    expect(withoutCredentials(outer, basic("ci-bot", "2130706433"))).to.not.include("127.0.0.1");
    const query = `/login?next=${encodeURIComponent("http:\\/\\/127.0.0.1\\/job")}`;
    expect(query).to.include("%5C%2F%5C%2F127.0.0.1");
    expect(withoutCredentials(query, basic("ci-bot", "2130706433"))).to.not.include("127.0.0.1");
  });
});

describe("Function: withoutCredentials and a secret an HTML page echoes", () => {
  it("withoutCredentials takes out a password with & or ' that an HTML page writes as entities (&amp;, &#39;, &#039;, &#x27;)", () => {
    const sent = basic("ci", "it's-s3cr&t-123");
    for (const quote of ["&#39;", "&#039;", "&#x27;"]) {
      const page = `<p>Basic credentials for ci: it${quote}s-s3cr&amp;t-123 were refused</p>`;
      expect(withoutCredentials(page, sent)).to.equal(
        "<p>Basic credentials for ci: [redacted] were refused</p>",
      );
    }
  });

  it("withoutSecrets takes a GitLab token with & out of a server's HTML page that echoes it", () => {
    const page = "<tr><td>X-Gitlab-Token</td><td>s3cr&amp;t-token-1</td></tr>";
    expect(withoutSecrets(page, "s3cr&t-token-1", undefined, { secretTravels: true })).to.equal(
      "<tr><td>X-Gitlab-Token</td><td>[redacted]</td></tr>",
    );
  });
});
