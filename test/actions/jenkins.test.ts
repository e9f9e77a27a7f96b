import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { triggerJenkins } from "../../src/actions/jenkins";
import type { JenkinsRequest } from "../../src/core/types";
import { FileSecretStore } from "../../src/local/fileSecretStore";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { RotatedSecrets } from "../support/rotatedSecrets";
import { MemorySecretStore } from "../support/secrets";
import { JENKINS_TOKEN, JENKINS_USER, rejectsWithActionError, testClients } from "./helpers";

const tls = join(__dirname, "..", "fixtures", "tls");
const context = { deliveryId: "d-1" };

function jenkinsRequest(url: string, overrides: Partial<JenkinsRequest> = {}): JenkinsRequest {
  return {
    type: "jenkins",
    jenkins: { url, credentials: "hookgate/jenkins", crumb: false },
    job: ["api", "build"],
    parameters: { BRANCH: "main", SHA: "abc123" },
    ...overrides,
  };
}

describe("Function: triggerJenkins", () => {
  let jenkins: JenkinsServer;
  beforeEach(async () => {
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
  });
  afterEach(async () => {
    await jenkins.close();
  });

  it("triggerJenkins POSTs the form parameters to /job/api/job/build/buildWithParameters with Basic auth", async () => {
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context);
    const [build] = jenkins.builds();
    expect(build?.path).to.equal("/job/api/job/build/buildWithParameters");
    expect(build?.user).to.equal(JENKINS_USER);
    expect(build?.form).to.deep.equal({ BRANCH: "main", SHA: "abc123" });
    expect(build?.contentType).to.equal("application/x-www-form-urlencoded");
    expect(outcome).to.deep.equal({
      status: "done",
      detail: `queued as ${jenkins.url}/queue/item/1/`,
      publicDetail: "queued as queue item 1",
    });
  });

  it("triggerJenkins logs and reports the queue item without the query string a Jenkins may put a token in", async () => {
    jenkins.script({ status: 201, location: `${jenkins.url}/queue/item/8/?token=${JENKINS_TOKEN}` });
    const logged: string[] = [];
    const clients = {
      ...testClients(),
      log: (line: Record<string, unknown>) => void logged.push(JSON.stringify(line)),
    };
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), clients, context);
    expect(outcome.detail).to.equal(`queued as ${jenkins.url}/queue/item/8/`);
    expect(logged.join("\n")).to.contain("/queue/item/8/").and.not.contain(JENKINS_TOKEN);
  });

  it("triggerJenkins uses /build when the job has no parameters", async () => {
    await triggerJenkins(
      jenkinsRequest(jenkins.url, { job: ["deploy"], parameters: {} }),
      testClients(),
      context,
    );
    expect(jenkins.builds().map((b) => b.path)).to.deep.equal(["/job/deploy/build"]);
  });

  it("triggerJenkins encodes each folder segment (spaces, unicode, %2F) and keeps a context path", async () => {
    const request = jenkinsRequest(`${jenkins.url}/ci/`, { job: ["team a", "façade%2Fx", "build"] });
    // The server only routes from the root, so the context path yields 404: assert the path it saw.
    await rejectsWithActionError(triggerJenkins(request, testClients(), context));
    expect(jenkins.requests[0]?.path).to.equal(
      "/ci/job/team%20a/job/fa%C3%A7ade%252Fx/job/build/buildWithParameters",
    );
    await triggerJenkins(
      jenkinsRequest(jenkins.url, { job: ["team a", "façade%2Fx"] }),
      testClients(),
      context,
    );
    expect(jenkins.builds().at(-1)?.job).to.deep.equal(["team a", "façade%2Fx"]);
  });

  for (const job of [[], ["api", ".."], ["."], ["api", ""], [" "]]) {
    it(`triggerJenkins rejects the job ${JSON.stringify(job)} as a final error without calling Jenkins`, async () => {
      const err = await rejectsWithActionError(
        triggerJenkins(jenkinsRequest(jenkins.url, { job }), testClients(), context),
      );
      expect(err.retryable).to.equal(false);
      expect(jenkins.requests).to.have.length(0);
    });
  }

  it("triggerJenkins fetches a crumb, keeps the session cookie and sends both when crumb mode is on", async () => {
    const crumbJenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN, crumb: true });
    try {
      const request = jenkinsRequest(crumbJenkins.url, {
        jenkins: { url: crumbJenkins.url, credentials: "hookgate/jenkins", crumb: true },
      });
      const outcome = await triggerJenkins(request, testClients(), context);
      expect(outcome.status).to.equal("done");
      const [build] = crumbJenkins.builds();
      expect(build?.headers["jenkins-crumb"]).to.equal(crumbJenkins.crumbsIssued[0]);
      expect(String(build?.headers.cookie)).to.match(/^JSESSIONID\.abc123=node0/);
    } finally {
      await crumbJenkins.close();
    }
  });

  it("triggerJenkins without crumb mode against a crumb-requiring Jenkins fails final with 403, saying to set crumb: true", async () => {
    const crumbJenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN, crumb: true });
    try {
      const err = await rejectsWithActionError(
        triggerJenkins(jenkinsRequest(crumbJenkins.url), testClients(), context),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain("403");
      expect(err.message).to.match(/No valid crumb.*set crumb: true$/);
    } finally {
      await crumbJenkins.close();
    }
  });

  it("triggerJenkins treats 303 (merged into a queued item) as success", async () => {
    jenkins.script({ status: 303, location: true });
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context);
    expect(outcome.status).to.equal("done");
    expect(outcome.detail).to.match(/^merged into an item already queued/);
  });

  const finals: Array<[number, RegExp]> = [
    [401, /rejected the credentials \(401\)/],
    [403, /\(403\)/],
    [
      404,
      /^Jenkins job api\/build not found \(404\): no such job, or one the user of hookgate\/jenkins may not see: Jenkins answers 404 for a job its user lacks Job\/Read and Job\/Discover on/,
    ],
    [409, /\(409\)/],
  ];
  for (const [status, message] of finals) {
    it(`triggerJenkins turns ${status} into a final ActionError with a clear reason`, async () => {
      jenkins.script({ status });
      const err = await rejectsWithActionError(
        triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(message);
    });
  }

  it("triggerJenkins reports wrong credentials as final 401 and never puts the token in the message", async () => {
    const secrets = new MemorySecretStore({
      "hookgate/jenkins": JSON.stringify({ user: JENKINS_USER, token: "wrong-token-value" }),
    });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients({ secrets }), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("401").and.not.contain("wrong-token-value");
  });

  for (const status of [500, 502, 503]) {
    it(`triggerJenkins turns ${status} into a retryable ActionError`, async () => {
      jenkins.script({ status });
      const err = await rejectsWithActionError(
        triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
      );
      expect(err.retryable).to.equal(true);
    });
  }

  it("triggerJenkins turns 429 into a retryable ActionError carrying Retry-After", async () => {
    jenkins.script({ status: 429, headers: { "retry-after": "7" } });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
    );
    expect(err.retryable).to.equal(true);
    expect(err.retryAfterMs).to.equal(7000);
  });

  it("triggerJenkins turns a dropped connection into a retryable ActionError", async () => {
    jenkins.script({ drop: true });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
    );
    expect(err.retryable).to.equal(true);
  });

  it("triggerJenkins turns a Jenkins that never answers into a retryable timeout", async () => {
    jenkins.script({ hang: true });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients({ timeoutMs: 300 }), context),
    );
    expect(err.retryable).to.equal(true);
    expect(err.message).to.contain("timed out");
  });

  it("triggerJenkins turns a refused connection into a retryable ActionError", async () => {
    const url = jenkins.url;
    await jenkins.close();
    const err = await rejectsWithActionError(triggerJenkins(jenkinsRequest(url), testClients(), context));
    expect(err.retryable).to.equal(true);
    jenkins = await startJenkinsServer();
  });

  it("triggerJenkins does not follow a redirect (a login page) and fails final", async () => {
    jenkins.script({ status: 302, location: "http://127.0.0.1:1/login" });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(jenkins.requests).to.have.length(1);
  });

  const badSecrets: Array<[string, string]> = [
    ["not JSON", "user:token"],
    ["JSON without token", JSON.stringify({ user: "ci-bot" })],
    ["a JSON array", "[1,2]"],
  ];
  for (const [label, value] of badSecrets) {
    it(`triggerJenkins fails final, naming the secret but not its value, when the credentials are ${label}`, async () => {
      const secrets = new MemorySecretStore({ "hookgate/jenkins": value });
      const err = await rejectsWithActionError(
        triggerJenkins(jenkinsRequest(jenkins.url), testClients({ secrets }), context),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.contain('"hookgate/jenkins"').and.not.contain(value);
      expect(jenkins.requests).to.have.length(0);
    });
  }

  it("triggerJenkins fails final when the credentials secret does not exist", async () => {
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients({ secrets: new MemorySecretStore() }), context),
    );
    expect(err.retryable).to.equal(false);
  });

  it("triggerJenkins is retryable when Secrets Manager is throttled", async () => {
    const secrets = new MemorySecretStore({
      "hookgate/jenkins": JSON.stringify({ user: JENKINS_USER, token: JENKINS_TOKEN }),
    }).throttle(1);
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients({ secrets }), context),
    );
    expect(err.retryable).to.equal(true);
  });
});

describe("Function: triggerJenkins over TLS with a private CA", () => {
  let jenkins: JenkinsServer;
  const ca = readFileSync(join(tls, "ca.pem"), "utf8");
  before(async () => {
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      tls: { key: readFileSync(join(tls, "server.key")), cert: readFileSync(join(tls, "server.pem")) },
    });
  });
  after(async () => {
    await jenkins.close();
  });

  const tlsRequest = (caBundle?: string) =>
    jenkinsRequest(jenkins.url, {
      jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: false, caBundle },
    });

  it("triggerJenkins trusts a server certificate signed by the CA in the caBundle secret", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set("hookgate/jenkins-ca", ca);
    const outcome = await triggerJenkins(tlsRequest("hookgate/jenkins-ca"), clients, context);
    expect(outcome.status).to.equal("done");
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins refuses the same server without the CA bundle (verification stays on)", async () => {
    const before = jenkins.builds().length;
    const err = await rejectsWithActionError(triggerJenkins(tlsRequest(), testClients(), context));
    expect(err.message).to.contain("not trusted");
    expect(jenkins.builds().length).to.equal(before);
  });

  it("triggerJenkins refuses the server when the bundle holds an unrelated CA", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set(
      "hookgate/other-ca",
      readFileSync(join(tls, "other-ca.pem"), "utf8"),
    );
    const err = await rejectsWithActionError(
      triggerJenkins(tlsRequest("hookgate/other-ca"), clients, context),
    );
    expect(err.message).to.contain("not trusted");
  });

  it("triggerJenkins fails final when the caBundle secret holds no PEM certificate", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set("hookgate/bad-ca", "not a certificate");
    const err = await rejectsWithActionError(triggerJenkins(tlsRequest("hookgate/bad-ca"), clients, context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain('"hookgate/bad-ca"');
  });

  it("triggerJenkins fails final, saying to store the PEM text itself, when the caBundle secret is a JSON object holding the PEM (the console's key/value mode)", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set("hookgate/jenkins-ca", JSON.stringify({ ca }));
    const before = jenkins.builds().length;
    const err = await rejectsWithActionError(
      triggerJenkins(tlsRequest("hookgate/jenkins-ca"), clients, context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      'secret "hookgate/jenkins-ca" does not hold a PEM certificate bundle: it holds JSON: store the PEM text itself',
    );
    expect(`${err.message} ${err.publicMessage}`).not.to.contain(ca.split("\n")[1]);
    expect(jenkins.builds().length).to.equal(before);
  });

  it("triggerJenkins fails final when the caBundle secret's BEGIN/END markers hold no certificate that parses", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set(
      "hookgate/bad-ca",
      "-----BEGIN CERTIFICATE-----\nnot base64 DER\n-----END CERTIFICATE-----\n",
    );
    const err = await rejectsWithActionError(triggerJenkins(tlsRequest("hookgate/bad-ca"), clients, context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal('secret "hookgate/bad-ca" does not hold a PEM certificate bundle');
  });

  it("triggerJenkins trusts a bundle in which one block does not parse when another is the CA", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set(
      "hookgate/jenkins-ca",
      `-----BEGIN CERTIFICATE-----\nnot base64 DER\n-----END CERTIFICATE-----\n${ca}`,
    );
    expect((await triggerJenkins(tlsRequest("hookgate/jenkins-ca"), clients, context)).status).to.equal(
      "done",
    );
  });
});

describe("Function: triggerJenkins over TLS with a corporate chain (root CA, issuing CA, server)", () => {
  const pem = (name: string) => readFileSync(join(tls, name), "utf8");
  const servers: JenkinsServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
  });
  /** Jenkins serving its certificate with the issuing CA (as a server should), or alone. */
  const start = async (withIssuing: boolean) => {
    const server = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      tls: {
        key: pem("chain-server.key"),
        cert: withIssuing ? pem("chain-server.pem") + pem("chain-issuing-ca.pem") : pem("chain-server.pem"),
      },
    });
    servers.push(server);
    return server;
  };
  const trigger = (jenkins: JenkinsServer, bundle: string) => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set("hookgate/jenkins-ca", bundle);
    const request = jenkinsRequest(jenkins.url, {
      jenkins: {
        url: jenkins.url,
        credentials: "hookgate/jenkins",
        crumb: false,
        caBundle: "hookgate/jenkins-ca",
      },
    });
    return triggerJenkins(request, clients, context);
  };

  it("triggerJenkins trusts the server when caBundle holds the root CA", async () => {
    const jenkins = await start(true);
    expect((await trigger(jenkins, pem("chain-root-ca.pem"))).status).to.equal("done");
  });

  it("triggerJenkins trusts the server when caBundle holds only the issuing (intermediate) CA that signed its certificate, as curl and Java do", async () => {
    const jenkins = await start(true);
    expect((await trigger(jenkins, pem("chain-issuing-ca.pem"))).status).to.equal("done");
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins trusts the server that sends no issuing CA when caBundle holds that issuing CA", async () => {
    const jenkins = await start(false);
    expect((await trigger(jenkins, pem("chain-issuing-ca.pem"))).status).to.equal("done");
  });

  it("triggerJenkins still refuses the chained server when caBundle holds an unrelated CA", async () => {
    const jenkins = await start(true);
    const err = await rejectsWithActionError(trigger(jenkins, pem("other-ca.pem")));
    expect(err.message).to.contain("not trusted");
    expect(jenkins.builds()).to.have.length(0);
  });
});

describe("Function: triggerJenkins and an https Jenkins that redirects the build request to http", () => {
  let server: https.Server;
  let url = "";
  before(async () => {
    const certificate = {
      key: readFileSync(join(tls, "server.key")),
      cert: readFileSync(join(tls, "server.pem")),
    };
    // A root URL configured as http, or a TLS front that sends the request on to plain http.
    server = https.createServer(certificate, (req, res) => {
      res.writeHead(301, { location: `http://127.0.0.1:8080${req.url}` });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("triggerJenkins fails final and never advises an http url, over which the API token would travel in clear", async () => {
    const clients = testClients();
    (clients.secrets as MemorySecretStore).set(
      "hookgate/jenkins-ca",
      readFileSync(join(tls, "ca.pem"), "utf8"),
    );
    const request = jenkinsRequest(url, {
      jenkins: { url, credentials: "hookgate/jenkins", crumb: false, caBundle: "hookgate/jenkins-ca" },
    });
    const err = await rejectsWithActionError(triggerJenkins(request, clients, context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      `Jenkins job api/build answered a redirect (301) to http://127.0.0.1:8080/job/api/job/build/buildWithParameters instead of queuing the build: the same request sent from https to http, so the build did not start; Jenkins' root URL (Manage Jenkins > System) or the proxy in front of it says http: fix it there, and keep an https url in routes.yaml, as over http the API token would travel in clear`,
    );
  });
});

describe("Function: triggerJenkins against a controller that answers as Jenkins' ParameterizedJobMixIn does", () => {
  let jenkins: JenkinsServer;
  beforeEach(async () => {
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      parameterized: ["api/build"], // defines parameters (with defaults); legacy/build defines none
      computedFolders: ["acme/api"], // a multibranch project
    });
  });
  afterEach(async () => {
    await jenkins.close();
  });

  it("triggerJenkins starts a job that defines parameters from a route that sets none: /build is 400, /buildWithParameters takes the defaults", async () => {
    const outcome = await triggerJenkins(
      jenkinsRequest(jenkins.url, { parameters: {} }),
      testClients(),
      context,
    );
    expect(outcome.status).to.equal("done");
    expect(jenkins.builds().map((b) => b.endpoint)).to.deep.equal(["build", "buildWithParameters"]);
  });

  it("triggerJenkins fails final, saying why, when a route sends parameters to a job that defines none (Jenkins' bare 500)", async () => {
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url, { job: ["legacy", "build"] }), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("defines no parameters");
  });

  describe("with a choice parameter TARGET (staging, production)", () => {
    beforeEach(async () => {
      await jenkins.close();
      jenkins = await startJenkinsServer({
        user: JENKINS_USER,
        token: JENKINS_TOKEN,
        parameterized: ["api/build"],
        choices: { TARGET: ["staging", "production"] },
      });
    });

    it("triggerJenkins fails final, naming the parameter and its choices, when a value is not one of a choice parameter's (Jenkins' bare 500)", async () => {
      const err = await rejectsWithActionError(
        triggerJenkins(
          jenkinsRequest(jenkins.url, { parameters: { BRANCH: "main", TARGET: "prod" } }),
          testClients(),
          context,
        ),
      );
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        'Jenkins job api/build refuses TARGET="prod" (500): it is not one of the choice parameter\'s values ("staging", "production")',
      );
    });

    it("triggerJenkins queues a build whose value is one of the choice parameter's", async () => {
      const outcome = await triggerJenkins(
        jenkinsRequest(jenkins.url, { parameters: { BRANCH: "main", TARGET: "staging" } }),
        testClients(),
        context,
      );
      expect(outcome.status).to.equal("done");
    });

    it("triggerJenkins keeps a 500 retryable when every value sent is one of its choice parameter's (Jenkins may just be failing)", async () => {
      jenkins.script({ status: 500 });
      const err = await rejectsWithActionError(
        triggerJenkins(
          jenkinsRequest(jenkins.url, { parameters: { BRANCH: "main", TARGET: "production" } }),
          testClients(),
          context,
        ),
      );
      expect(err.retryable).to.equal(true);
    });
  });

  it("triggerJenkins keeps a 500 retryable when the job does define parameters (Jenkins may just be failing)", async () => {
    jenkins.script({ status: 500 });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
    );
    expect(err.retryable).to.equal(true);
  });

  it("triggerJenkins takes a multibranch project's scan (POST /build answered 302 to the project) as done", async () => {
    const outcome = await triggerJenkins(
      jenkinsRequest(jenkins.url, { job: ["acme", "api"], parameters: {} }),
      testClients(),
      context,
    );
    expect(outcome).to.deep.equal({ status: "done", detail: "scan of acme/api scheduled (302)" });
  });

  it("triggerJenkins fails final when Jenkins answers a job's build with the job's own page: a queue decision handler vetoed it", async () => {
    // ParameterizedJobMixIn.doBuild: sendRedirect(".") when Queue.schedule2 was refused; nothing is queued.
    jenkins.script({ status: 302, location: `${jenkins.url}/job/api/job/build/` });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url, { parameters: {} }), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("did not queue the build");
  });

  it("triggerJenkins keeps a transient 503 on the /buildWithParameters fallback retryable", async () => {
    jenkins.script({ status: 503 }); // the 400 to /build comes first and uses no scripted reply
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url, { parameters: {} }), testClients(), context),
    );
    expect(jenkins.builds().map((b) => b.endpoint)).to.deep.equal(["build", "buildWithParameters"]);
    expect(err.retryable).to.equal(true);
  });

  it("triggerJenkins still refuses a redirect anywhere else (a login page), as final", async () => {
    jenkins.script({ status: 302, location: `${jenkins.url}/login?from=%2Fjob%2Fapi%2Fjob%2Fbuild` });
    const err = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("redirect (302)");
  });
});

describe("Function: triggerJenkins with a credentials secret rotated while the store caches the old token", () => {
  const OLD_TOKEN = "0123456789abcdef0123456789abcdef";
  const NEW_TOKEN = "fedcba9876543210fedcba9876543210";
  const SECRET = "hookgate/jenkins";
  const credentials = (token: string) => JSON.stringify({ user: JENKINS_USER, token });
  let jenkins: JenkinsServer | undefined;
  let secrets: RotatedSecrets;
  /** Jenkins knows only the new token: the old one was revoked once the new one was stored. */
  async function start(crumb: boolean): Promise<JenkinsRequest> {
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: NEW_TOKEN, crumb });
    return jenkinsRequest(jenkins.url, { jenkins: { url: jenkins.url, credentials: SECRET, crumb } });
  }
  beforeEach(async () => {
    secrets = new RotatedSecrets({ [SECRET]: credentials(OLD_TOKEN) });
    await secrets.cache(SECRET);
  });
  afterEach(async () => {
    secrets.restore();
    await jenkins?.close();
  });

  for (const crumb of [false, true]) {
    const refused = crumb ? "crumb request" : "build request";
    it(`triggerJenkins (crumb: ${crumb}) reads the secret once more past its cache when its ${refused} is answered 401, and queues the build with the new token`, async () => {
      const request = await start(crumb);
      secrets.rotate(SECRET, credentials(NEW_TOKEN));
      const clients = testClients({ secrets: secrets.store });
      const outcome = await triggerJenkins(request, clients, context);
      expect(outcome.status).to.equal("done");
      // The refused request, then the same again: crumb, crumb, build; or build, build.
      expect(jenkins?.requests.map((r) => r.endpoint)).to.deep.equal(
        crumb ? ["json", "json", "buildWithParameters"] : ["buildWithParameters", "buildWithParameters"],
      );
      expect(secrets.reads(SECRET)).to.equal(2);
      expect(clients.logs.filter((l) => l.level === "warn" && l.secret === SECRET)).to.have.length(1);
      expect(JSON.stringify(clients.logs)).not.to.contain(NEW_TOKEN).and.not.to.contain(OLD_TOKEN);
    });
  }

  it("triggerJenkins answered 401 stays a final error when the secret, read once more, holds the same token", async () => {
    const request = await start(true);
    const err = await rejectsWithActionError(
      triggerJenkins(request, testClients({ secrets: secrets.store }), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal("Jenkins crumb issuer rejected the credentials (401)");
    expect(secrets.reads(SECRET)).to.equal(2);
    expect(jenkins?.requests).to.have.length(1);
  });
});

describe("Function: triggerJenkins under hookgate serve, with a token changed in the secrets file", () => {
  let dir: string;
  let jenkins: JenkinsServer;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-jenkins-secrets-"));
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: "new-token-0123456789abcdef" });
  });
  afterEach(async () => {
    await jenkins.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("triggerJenkins answered 401 reads the file again at once and queues the build with the new token", async () => {
    const file = join(dir, "secrets.json");
    const write = (token: string) =>
      writeFileSync(file, JSON.stringify({ "hookgate/jenkins": { user: JENKINS_USER, token } }));
    write("old-token-0123456789abcdef");
    let clock = 1_770_000_000_000;
    const store = new FileSecretStore(file, () => clock);
    await store.versions("hookgate/jenkins");
    write("new-token-0123456789abcdef");
    utimesSync(file, new Date(), new Date(Date.now() + 5_000)); // a new mtime, whatever the clock's grain
    clock += 200; // past the file's refresh interval (100 ms), inside its plain one (1 s)
    const outcome = await triggerJenkins(
      jenkinsRequest(jenkins.url),
      testClients({ secrets: store }),
      context,
    );
    expect(outcome.status).to.equal("done");
  });
});
