// Edges of the redaction of credentials (withoutCredentials, proxyCredentialValues) no other test reached
// (found by a mutation audit): spellings that must be taken out, and text that must be kept.
import { expect } from "chai";
import { proxyCredentialValues, withoutCredentials } from "../../src/actions/http";

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

describe("Function: withoutCredentials", () => {
  it('takes out a password holding a "\\" or a \'"\' where a server echoes it as it is', () => {
    for (const password of ["pa\\ss-word-1", 'pa"ss-word-1']) {
      const text = `login for ci with ${password} refused`;
      expect(withoutCredentials(text, basic("ci", password))).to.equal(
        "login for ci with [redacted] refused",
      );
    }
  });

  it('takes out a password with < > or " that an HTML page writes as entities (&lt; &gt; &quot;)', () => {
    const page = "<p>Basic credentials for ci: &lt;&quot;pass&quot;&gt;-1234 were refused</p>";
    expect(withoutCredentials(page, basic("ci", '<"pass">-1234'))).to.equal(
      "<p>Basic credentials for ci: [redacted] were refused</p>",
    );
  });

  it("takes out a password made only of & that an HTML page writes as &amp;", () => {
    const page = "<p>password &amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp; refused</p>";
    expect(withoutCredentials(page, basic("ci", "&&&&&&&&"))).to.equal("<p>password [redacted] refused</p>");
  });

  it("takes out a password a redirect's fragment holds as a URL's hash writes it (` as %60, { kept), and keeps the #", () => {
    const location = "Location: https://ci.example.com/cb#Pa%60ss{word}1";
    expect(withoutCredentials(location, basic("ci", "Pa`ss{word}1"))).to.equal(
      "Location: https://ci.example.com/cb#[redacted]",
    );
  });

  it("takes out a password whose host-name form is exactly 8 characters (p%41ssw0rd is the host passw0rd)", () => {
    const location = "Location: https://passw0rd/login";
    expect(withoutCredentials(location, basic("ci", "p%41ssw0rd"))).to.equal(
      "Location: https://[redacted]/login",
    );
  });

  it("takes out a password's host-name form that ends or starts with a digit where it is the first label of a longer host", () => {
    for (const [password, host] of [
      ["p%41ssw0rd-2024", "passw0rd-2024"],
      ["2024-p%41ssw0rd", "2024-passw0rd"],
    ] as const) {
      const location = `Location: https://${host}.example.com/login`;
      expect(withoutCredentials(location, basic("ci", password))).to.equal(
        "Location: https://[redacted].example.com/login",
      );
    }
  });

  it("keeps the domain of a Basic user that is an e-mail address where a message names a host in that domain", () => {
    const text = "Jenkins at https://ci.example.com/job/api answered 403";
    expect(withoutCredentials(text, basic("ci-bot@example.com", "api-token-1234"))).to.equal(text);
  });

  it("keeps a short host that a credential's host-name form shrinks to (ab and six soft hyphens is the host ab)", () => {
    const text = "could not connect to http://ab/ (refused)";
    expect(withoutCredentials(text, { "x-token": "ab\u00ad\u00ad\u00ad\u00ad\u00ad\u00ad" })).to.equal(text);
  });

  it("keeps a host named undefined when no credential is spelled so", () => {
    const text = "could not resolve http://undefined/hook";
    expect(withoutCredentials(text, basic("ci", "s3cret-pass-1"))).to.equal(text);
  });
});

describe("Function: proxyCredentialValues", () => {
  it("gives nothing for a proxy URL with a user and no password: undici sends no Proxy-Authorization", () => {
    expect(proxyCredentialValues("http://jenkins@proxy.internal:3128")).to.deep.equal([]);
  });

  it("so a passwordless proxy user does not blank '<user>:' in messages", () => {
    // noteProxyCredentials keeps process-wide state: proxyCredentialValues is what it adds.
    const values = proxyCredentialValues("http://jenkins@proxy.internal:3128");
    expect(withoutCredentials("jenkins: build 12 queued", {}, { values })).to.equal(
      "jenkins: build 12 queued",
    );
  });

  it("gives nothing for no proxy or a proxy setting that is not a URL", () => {
    expect(proxyCredentialValues(undefined)).to.deep.equal([]);
    expect(proxyCredentialValues("not a url")).to.deep.equal([]);
  });
});
