// `hookgate serve` behind an egress proxy: the actions' calls go through the HTTP(S)_PROXY of serve's own
// environment (a child process, real servers on 127.0.0.1), and a bad value stops it before it listens.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type ForwardProxy, startForwardProxy } from "../support/forwardProxy";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import {
  BIN,
  githubHeaders,
  JENKINS_TOKEN,
  JENKINS_USER,
  NO_PROXY_ENV,
  REPO_ROOT,
  request,
  type ServeChild,
  startServe,
  waitForDelivery,
} from "./serveHarness";

const SECRET = "serve-proxy-test-secret";
const PASSWORD = "pr0xy-s3rve-Pa55";

describe("Command: hookgate serve behind an egress proxy (HTTP_PROXY from its environment)", function () {
  this.timeout(30_000);
  let dir: string;
  let proxy: ForwardProxy;
  let jenkins: JenkinsServer;
  let serve: ServeChild | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-proxy-"));
    proxy = await startForwardProxy({ auth: { user: "hookgate", password: PASSWORD } });
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN });
    writeFileSync(
      join(dir, "routes.yaml"),
      `version: 1
routes:
  - name: api-build
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push] }
    action:
      type: jenkins
      jenkins: { url: "${jenkins.url}", credentials: test/jenkins }
      job: api/build
      parameters: { DELIVERY: "{{deliveryId}}" }
`,
    );
    writeFileSync(
      join(dir, "secrets.json"),
      JSON.stringify({
        "test/github-webhook": SECRET,
        "test/jenkins": { user: JENKINS_USER, token: JENKINS_TOKEN },
      }),
    );
  });
  after(async () => {
    await serve?.stop("SIGKILL");
    await proxy.close();
    await jenkins.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = (state: string) => [
    "--routes",
    join(dir, "routes.yaml"),
    "--secrets",
    join(dir, "secrets.json"),
    "--state-dir",
    join(dir, state),
  ];

  it("triggers Jenkins through the proxy, with the proxy's credentials, and shows the proxy without them", async () => {
    const proxyUrl = `http://hookgate:${PASSWORD}@127.0.0.1:${proxy.port}`;
    serve = await startServe(args("state"), { HTTP_PROXY: proxyUrl });
    expect(serve.output()).to.contain(`  proxy      https via ${proxy.url}; http via ${proxy.url}\n`);

    const body = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
    const delivery = randomUUID();
    const answer = await request(`${serve.url}/hooks/api-build`, {
      headers: githubHeaders(SECRET, body, "push", delivery),
      body,
    });
    expect(answer.status).to.equal(202);
    await waitForDelivery(serve.url, delivery, (d) => d.status === "done");

    expect(proxy.requests.map((r) => [r.kind, r.target, r.path])).to.deep.equal([
      ["absolute", new URL(jenkins.url).host, "/job/api/job/build/buildWithParameters"],
    ]);
    expect(jenkins.builds()[0]?.form.DELIVERY).to.equal(delivery);
    expect(serve.output()).not.to.contain(PASSWORD);
  });

  it("warns at start of each NO_PROXY entry undici will not match as written (a CIDR, a bare IPv6 address), once, and starts", async () => {
    const started = await startServe(args("no-proxy"), {
      HTTP_PROXY: proxy.url,
      NO_PROXY: "localhost,127.0.0.0/8,::1,jenkins.corp.test",
    });
    await started.stop();
    // Everything it wrote to stderr, read to its end.
    const stderr = started.child.stderr;
    if (stderr && !stderr.closed) await new Promise((resolve) => stderr.once("close", resolve));
    const warnings = started.output().match(/^hookgate serve: warning: .*$/gm);
    expect(warnings).to.deep.equal([
      'hookgate serve: warning: NO_PROXY entry "127.0.0.0/8" is a CIDR range, which undici does not match (curl does): list the hosts or addresses to reach directly',
      'hookgate serve: warning: NO_PROXY entry "::1" is an IPv6 address: NO_PROXY takes one in brackets, [::1]',
    ]);
  });

  it("refuses to start when HTTPS_PROXY is no http(s) URL, naming the variable and not its value", () => {
    const run = spawnSync(process.execPath, [BIN, "serve", "--port", "0", ...args("bad")], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 15_000,
      env: { ...process.env, NODE_OPTIONS: "", ...NO_PROXY_ENV, HTTPS_PROXY: `ftp://u:${PASSWORD}@proxy:21` },
    });
    expect(run.status, run.stdout + run.stderr).to.equal(1);
    expect(run.stderr).to.match(/^hookgate serve: HTTPS_PROXY is not an http\(s\) proxy URL/);
    expect(run.stdout + run.stderr).not.to.contain(PASSWORD);
  });
});
