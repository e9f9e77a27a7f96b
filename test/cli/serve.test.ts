// `hookgate serve` as a child process, over real HTTP, against local Jenkins test servers.
import { spawnSync } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { NOT_FOUND_BODY } from "../../src/core/gatewayAnswers";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import { startLocalS3 } from "../support/s3";
import { readZip } from "../support/zips";
import {
  BIN,
  deliveries,
  githubHeaders,
  JENKINS_TOKEN,
  JENKINS_USER,
  REPO_ROOT,
  request,
  type ServeChild,
  startServe,
  waitForDelivery,
} from "./serveHarness";

const GH_SECRET = "serve-test-github-secret";
const GIT_TOKEN = "ghp_servetesttoken0123456789";
const PUSH = readFileSync(join(REPO_ROOT, "examples", "github-push.json"));
const PING = readFileSync(join(REPO_ROOT, "test", "fixtures", "payloads", "github", "ping.json"));

function routesYaml(jenkinsUrl: string, resumeJenkinsUrl: string, gitHostUrl: string): string {
  return `version: 1
providers:
  github: { apiUrl: "${gitHostUrl}", token: test/github-token }
defaults:
  provider: github
  jenkins: { url: "${jenkinsUrl}", credentials: test/jenkins }
routes:
  - name: api-build
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push], branches: [main] }
    action:
      type: jenkins
      job: api/build
      parameters: { SHA: "{{sha}}", DELIVERY: "{{deliveryId}}" }
  - name: ip-open
    auth: { allowIps: [127.0.0.1/32] }
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: ip/open, parameters: { DELIVERY: "{{deliveryId}}" } }
  - name: ip-closed
    auth: { allowIps: [10.0.0.0/8] }
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: ip/closed }
  - name: resume
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push] }
    action:
      type: jenkins
      jenkins: { url: "${resumeJenkinsUrl}", credentials: test/jenkins }
      job: resume/build
      parameters: { DELIVERY: "{{deliveryId}}" }
  - name: zip
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push], branches: [main] }
    action: { type: s3-zip }
  - name: bb-build
    provider: bitbucket
    secret: test/bitbucket-webhook
    match: { repos: [team/repo], events: [push], branches: [main] }
    action: { type: jenkins, job: bb/build, parameters: { SHA: "{{sha}}", DELIVERY: "{{deliveryId}}" } }
`;
}

/** A port nothing listens on (yet). */
function push(overrides: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ ...JSON.parse(PUSH.toString("utf8")), ...overrides }), "utf8");
}

function signed(body: Buffer, event = "push", delivery = randomUUID()) {
  return { delivery, headers: githubHeaders(GH_SECRET, body, event, delivery), body };
}

describe("Command: hookgate serve (child process, real HTTP)", function () {
  this.timeout(30_000);
  let dir: string;
  let stateDir: string;
  let secretsFile: string;
  let routesFile: string;
  let jenkins: JenkinsServer;
  let gitHost: GitHostServer;
  let resumePort: number;
  /**
   * Holds resumePort for the whole run: a "Jenkins down" that resets every connection, until the resume
   * test hands its connections to a Jenkins. A port only looked up free, or let go and bound again, could be
   * taken meanwhile by any server started on port 0, which then answers the resume route (a 404, a final failure).
   */
  let resumeDown: net.Server | undefined;
  let serve: ServeChild;
  /** POSTs a signed delivery to one of the serve's routes. */
  const post = (d: { headers: Record<string, string>; body: Buffer }, route = "api-build") =>
    request(`${serve.url}/hooks/${route}`, { headers: d.headers, body: d.body });
  /** serve's arguments for the test routes and secrets, on the state dir `state`. */
  const gatewayArgs = (state: string) => [
    "--routes",
    routesFile,
    "--secrets",
    secretsFile,
    "--state-dir",
    state,
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-"));
    stateDir = join(dir, "state");
    secretsFile = join(dir, "secrets.json");
    routesFile = join(dir, "routes.yaml");
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: [{ name: "SHA" }, { name: "DELIVERY" }],
    });
    gitHost = await startGitHostServer({ token: GIT_TOKEN });
    resumeDown = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => resumeDown?.listen(0, "127.0.0.1", resolve));
    resumePort = (resumeDown.address() as AddressInfo).port;
    writeFileSync(routesFile, routesYaml(jenkins.url, `http://127.0.0.1:${resumePort}`, gitHost.url));
    writeFileSync(
      secretsFile,
      JSON.stringify({
        "test/github-webhook": GH_SECRET,
        "test/bitbucket-webhook": GH_SECRET,
        "test/jenkins": { user: JENKINS_USER, token: JENKINS_TOKEN },
        "test/github-token": GIT_TOKEN,
      }),
    );
    serve = await startServe([...gatewayArgs(stateDir), "--retry-delay-ms", "50", "--max-attempts", "3"]);
  });

  after(async () => {
    await serve?.stop("SIGKILL");
    if (resumeDown?.listening) await new Promise<void>((resolve) => resumeDown?.close(() => resolve()));
    await jenkins?.close();
    await gitHost?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints each route's URL, the secrets file and how to send a test delivery", () => {
    const out = serve.output();
    for (const name of ["api-build", "ip-open", "ip-closed", "resume", "zip"])
      expect(out).to.include(`${serve.url}/hooks/${name}`);
    expect(out).to.include(secretsFile);
    expect(out).to.include("npx hookgate send");
    expect(out).to.include(
      `gh webhook forward --repo=OWNER/REPO --events=push --url=${serve.url}/hooks/api-build`,
    );
    expect(out).not.to.include(GH_SECRET);
  });

  it("GET /_hookgate/health answers ok", async () => {
    const answer = await request(`${serve.url}/_hookgate/health`, { method: "GET" });
    expect(answer.status).to.equal(200);
    expect(answer.json.status).to.equal("ok");
  });

  describe("the HTTP contract", () => {
    it("answers 202 queued for a verified, matching push, and Jenkins gets the build", async () => {
      const d = signed(push());
      const answer = await post(d);
      expect(answer.status).to.equal(202);
      expect(answer.json).to.include({ status: "queued", route: "api-build", delivery: d.delivery });
      const done = await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
      expect(done).to.include({ route: "api-build", event: "push", attempts: 1 });
      const build = jenkins.builds().find((b) => b.form.DELIVERY === d.delivery);
      expect(build?.job).to.deep.equal(["api", "build"]);
      expect(build?.user).to.equal(JENKINS_USER);
    });

    it("answers 200 duplicate for the same delivery id, and runs no second build", async () => {
      const d = signed(push());
      expect((await post(d)).status).to.equal(202);
      await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
      const again = await post(d);
      expect(again.status).to.equal(200);
      expect(again.json.status).to.equal("duplicate");
      expect(jenkins.builds().filter((b) => b.form.DELIVERY === d.delivery)).to.have.length(1);
      const log = await deliveries(serve.url);
      expect(log[0]).to.include({ delivery: d.delivery, status: "ignored" });
      expect(log[0]?.reason).to.match(/duplicate/);
    });

    it("answers 20 concurrent POSTs of one delivery with exactly one 202, the others 200 duplicate or 503 in progress, and queues it once", async () => {
      const d = signed(push());
      // Twenty connections at once. However their requests interleave (serve runs in its own process),
      // the counts below hold; which of duplicate and in progress the others get depends on it.
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(d)));
      const kinds = answers.map((a) => `${a.status} ${a.json.status}`);
      expect(kinds.filter((k) => k === "202 queued")).to.have.length(1);
      expect(
        kinds.filter((k) => !["202 queued", "200 duplicate", "503 unavailable"].includes(k)),
      ).to.deep.equal([]);
      for (const answer of answers.filter((a) => a.status === 503)) {
        expect(answer.json.reason).to.match(/being accepted by another request/);
        expect(answer.headers["retry-after"]).to.equal("30");
      }
      // A 202 is sent once its message is in the journal (compacted only at start or past 10,000 lines).
      const queued = readFileSync(join(stateDir, "queue", "journal.jsonl"), "utf8")
        .split("\n")
        .filter((line) => line.startsWith('{"op":"put"'))
        .map((line) => JSON.parse(line) as { item?: { deliveryId?: string; generation?: number } })
        .filter((line) => line.item?.deliveryId === d.delivery);
      expect(queued.map((line) => line.item?.generation)).to.deep.equal([1]);
      await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
      expect(jenkins.builds().filter((b) => b.form.DELIVERY === d.delivery)).to.have.length(1);
    });

    it("answers 200 ignored with the reason for a push to another branch", async () => {
      const d = signed(push({ ref: "refs/heads/feature/x" }));
      const answer = await post(d);
      expect(answer.status).to.equal(200);
      expect(answer.json.status).to.equal("ignored");
      expect(String(answer.json.reason)).to.include("feature/x");
      const entry = (await deliveries(serve.url)).find((e) => e.delivery === d.delivery);
      expect(entry).to.include({ status: "ignored", route: "api-build" });
    });

    // Git takes a C1 control (U+009B, an 8-bit CSI) and a bidi override (U+202E) in a branch name: serve's log
    // goes to a terminal, where its lines carry them escaped (JSON's own \u form), the value unchanged.
    it("logs a pushed branch's C1 control and bidi override as \\u escapes, never as themselves", async () => {
      const ref = "refs/heads/fix\u009b2J\u202egnp.exe";
      const d = signed(push({ ref }));
      expect((await post(d)).status).to.equal(200);
      const lines = () =>
        serve
          .output()
          .split("\n")
          .filter((l) => l.startsWith("{") && l.includes(d.delivery));
      for (let i = 0; i < 400 && lines().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(lines()).to.have.length(1);
      const [line] = lines();
      expect(line).to.not.match(/\p{Cc}|\p{Cf}/u);
      expect(line).to.contain("fix\\u009b2J\\u202egnp.exe");
      expect(JSON.parse(line ?? "")).to.include({ ref, deliveryId: d.delivery });
    });

    it("builds the main branch of a Bitbucket push that first pushed a tag (a delivery of its own, <id>#2)", async () => {
      const main = "c".repeat(40);
      const body = Buffer.from(
        JSON.stringify({
          repository: { full_name: "team/repo" },
          push: {
            changes: [
              { old: null, new: { type: "tag", name: "v1.0", target: { hash: "b".repeat(40) } } },
              {
                old: { type: "branch", name: "main", target: { hash: "a".repeat(40) } },
                new: { type: "branch", name: "main", target: { hash: main } },
              },
            ],
          },
        }),
      );
      const delivery = `{${randomUUID()}}`;
      const signature = `sha256=${createHmac("sha256", GH_SECRET).update(body).digest("hex")}`;
      const answer = await request(`${serve.url}/hooks/bb-build`, {
        headers: {
          "content-type": "application/json",
          "x-event-key": "repo:push",
          "x-request-uuid": delivery,
          "x-hub-signature": signature,
        },
        body,
      });
      expect(answer.status).to.equal(202);
      expect(answer.json).to.include({ status: "queued", delivery });
      const done = await waitForDelivery(serve.url, `${delivery}#2`, (e) => e.status === "done");
      expect(done).to.include({ route: "bb-build", httpStatus: 202 });
      const builds = jenkins.builds().filter((b) => b.form.DELIVERY?.startsWith(delivery));
      expect(builds.map((b) => [b.form.DELIVERY, b.form.SHA])).to.deep.equal([[`${delivery}#2`, main]]);
      // Nothing is left showing as queued under the delivery's own id.
      expect((await deliveries(serve.url)).filter((e) => e.delivery === delivery)).to.deep.equal([]);
    });

    it("answers 200 pong for a verified ping", async () => {
      const d = signed(PING, "ping");
      const answer = await post(d);
      expect(answer.status).to.equal(200);
      expect(answer.json.status).to.equal("pong");
    });

    it("accepts a form-encoded delivery (payload=...) signed over the form body", async () => {
      const delivery = randomUUID();
      const body = Buffer.from(`payload=${encodeURIComponent(PUSH.toString("utf8"))}`, "utf8");
      const headers = {
        ...githubHeaders(GH_SECRET, body, "push", delivery),
        "content-type": "application/x-www-form-urlencoded",
      };
      const answer = await request(`${serve.url}/hooks/api-build`, { headers, body });
      expect(answer.status).to.equal(202);
      await waitForDelivery(serve.url, delivery, (e) => e.status === "done");
    });

    it("answers 401 for a signature made with another secret, and records the rejection", async () => {
      const delivery = randomUUID();
      const headers = githubHeaders("another-secret", PUSH, "push", delivery);
      const answer = await request(`${serve.url}/hooks/api-build`, { headers, body: PUSH });
      expect(answer.status).to.equal(401);
      const entry = (await deliveries(serve.url)).find((e) => e.delivery === delivery);
      expect(entry).to.include({ status: "rejected", httpStatus: 401 });
    });

    it("answers 401 when the signature header is missing", async () => {
      const { "x-hub-signature-256": _dropped, ...headers } = signed(PUSH).headers;
      const answer = await request(`${serve.url}/hooks/api-build`, { headers, body: PUSH });
      expect(answer.status).to.equal(401);
    });

    it("answers 401 when the signature header comes twice, even with the right signature among them", async () => {
      const d = signed(push());
      const right = d.headers["x-hub-signature-256"] as string;
      const answer = await request(`${serve.url}/hooks/api-build`, {
        headers: { ...d.headers, "x-hub-signature-256": [right, right] },
        body: d.body,
      });
      expect(answer.status).to.equal(401);
      expect(answer.json.reason).to.equal("signature header repeated");
    });

    it("answers 400 for a validly signed body that is not JSON", async () => {
      const d = signed(Buffer.from("{not json", "utf8"));
      const answer = await post(d);
      expect(answer.status).to.equal(400);
    });

    it("answers 415 for a validly signed body of an unsupported content type", async () => {
      const d = signed(push());
      const answer = await request(`${serve.url}/hooks/api-build`, {
        headers: { ...d.headers, "content-type": "text/plain" },
        body: d.body,
      });
      expect(answer.status).to.equal(415);
    });

    it("answers 404 for an unknown route, and logs it on stdout as a delivery", async () => {
      const d = signed(push());
      const answer = await post(d, "no-such-route");
      expect(answer.status).to.equal(404);
      expect(answer.json.status).to.equal("rejected");
      // serve writes its log a turn of its event loop after the answer: wait for the line.
      const logged = () =>
        serve
          .output()
          .split("\n")
          .filter((l) => l.startsWith("{") && l.includes(d.delivery))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (let i = 0; i < 400 && logged().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(logged()).to.have.length(1);
      expect(logged()[0]).to.include({
        msg: "delivery",
        route: "no-such-route",
        deliveryId: d.delivery,
        decision: "unknown-route",
        status: 404,
      });
    });

    it("records a GitLab delivery to an unknown route under its Idempotency-Key, the id the handlers use, and answers the deployed API's 404 body", async () => {
      const answer = await request(`${serve.url}/hooks/no-such-route`, {
        headers: {
          "content-type": "application/json",
          "x-gitlab-event": "Push Hook",
          "x-gitlab-event-uuid": "event-uuid-1",
          "idempotency-key": "idempotency-key-1",
        },
        body: "{}",
      });
      expect(answer.status).to.equal(404);
      expect(answer.json).to.deep.equal(NOT_FOUND_BODY);
      const entry = (await deliveries(serve.url)).find((e) => e.route === "no-such-route");
      expect(entry).to.include({ delivery: "idempotency-key-1", event: "Push Hook", status: "rejected" });
    });

    it("reads a percent-encoded route name as the deployed API does: /hooks/api%2Dbuild is api-build", async () => {
      const answer = await post(signed(push()), "api%2Dbuild");
      expect(answer.status, answer.text).to.equal(202);
      expect(answer.json.route).to.equal("api-build");
    });

    it("answers what node:http cannot parse with Node's status and the contract's JSON body", async () => {
      const { port } = new URL(serve.url);
      const raw = (text: string) => rawExchange(Number(port), text, "end");
      const tooManyHeaders = `POST /hooks/api-build HTTP/1.1\r\nhost: x\r\n${"x-pad: ".padEnd(20_000, "a")}\r\n\r\n`;
      const cases: Array<[string, string, string]> = [
        [tooManyHeaders, "431 Request Header Fields Too Large", "request headers too large"],
        ["GARBAGE\r\n\r\n", "400 Bad Request", "malformed HTTP request"],
      ];
      for (const [text, statusLine, reason] of cases) {
        const answer = await raw(text);
        expect(answer).to.match(new RegExp(`^HTTP/1.1 ${statusLine}\r\n`));
        expect(answer).to.include("content-type: application/json");
        expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).to.deep.equal({
          status: "rejected",
          route: null,
          delivery: null,
          reason,
        });
      }
      expect((await request(`${serve.url}/_hookgate/health`, { method: "GET" })).status).to.equal(200);
    });

    it("answers a delivery pipelined before bytes node:http cannot parse, then the 400, in order", async () => {
      const { port } = new URL(serve.url);
      /** An ignored push (200) of `size` bytes with its head, then bytes that are no HTTP request. */
      const pipelined = (delivery: ReturnType<typeof randomUUID>, size?: number) => {
        let text = "";
        for (let pad = 0; ; ) {
          const d = signed(
            push({ ref: "refs/heads/feature/pipelined", pad: "x".repeat(pad) }),
            "push",
            delivery,
          );
          const head = Object.entries(d.headers)
            .map(([name, value]) => `${name}: ${value}\r\n`)
            .join("");
          text = `POST /hooks/api-build HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${d.body.length}\r\n${head}\r\n${d.body}`;
          if (size === undefined || text.length === size) break;
          pad += size - text.length;
        }
        return `${text}GARBAGE\r\n\r\n`;
      };
      const raw = (text: string) => rawExchange(Number(port), text, "keep open");
      // Read with the bytes after it, the delivery is not answered yet when they fail to parse. Of exactly
      // 64 KiB (node:http's read size), it is read and answered first, and its answer waits for the end
      // of the turn of the event loop that read the bytes after it.
      for (const size of [undefined, 64 * 1024]) {
        const delivery = randomUUID();
        const answer = await raw(pipelined(delivery, size));
        const statusLines = [...answer.matchAll(/HTTP\/1\.1 \d{3} [^\r]*/g)].map((m) => m[0]);
        expect(statusLines, `${size ?? "one read"}: ${answer}`).to.deep.equal([
          "HTTP/1.1 200 OK",
          "HTTP/1.1 400 Bad Request",
        ]);
        expect(answer).to.include(`"delivery":"${delivery}"`);
      }
    });

    it("answers 400 at once to a delivery whose body the client cuts short by ending its side", async () => {
      // The request that failed is the one in flight: its 400 does not wait for an answer of its own.
      const socket = net.connect(Number(new URL(serve.url).port), "127.0.0.1");
      let answer = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => {
        answer += d;
      });
      const closed = new Promise<void>((resolve, reject) => {
        socket.on("close", () => resolve());
        socket.on("error", reject);
      });
      const d = signed(push());
      const head = Object.entries(d.headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      socket.end(
        `POST /hooks/api-build HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${d.body.length}\r\n${head}\r\n` +
          d.body.subarray(0, 100).toString("latin1"),
      );
      await closed;
      expect(answer).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    });

    it("GET /_hookgate/deliveries answers 400 naming a bad limit, an unknown status or an unknown parameter", async () => {
      const cases: Array<[string, string]> = [
        [
          "limit=-1",
          "limit must be a whole number, 1 or more (the history holds the last 500 deliveries and the last 100 rejected)",
        ],
        [
          "limit=2abc",
          "limit must be a whole number, 1 or more (the history holds the last 500 deliveries and the last 100 rejected)",
        ],
        [
          "limit=1e9",
          "limit must be a whole number, 1 or more (the history holds the last 500 deliveries and the last 100 rejected)",
        ],
        ["status=bogus", "status must be one of ignored, rejected, queued, running, retrying, done, dead"],
        ["stauts=dead", 'unknown parameter "stauts"; use route, status and limit'],
      ];
      for (const [query, reason] of cases) {
        const answer = await request(`${serve.url}/_hookgate/deliveries?${query}`, { method: "GET" });
        expect(answer.status, query).to.equal(400);
        expect(answer.json.reason, query).to.equal(reason);
      }
      const two = await request(`${serve.url}/_hookgate/deliveries?limit=2&status=ignored`, {
        method: "GET",
      });
      expect(two.status).to.equal(200);
      expect(JSON.parse(two.text)).to.have.length(2);
    });

    it("answers 405 with Allow: POST for a GET on a route", async () => {
      const answer = await request(`${serve.url}/hooks/api-build`, { method: "GET" });
      expect(answer.status).to.equal(405);
      expect(answer.headers.allow).to.equal("POST");
    });

    it("answers 413 from the declared Content-Length alone, before any body is sent", async () => {
      const answer = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${serve.url}/hooks/api-build`, {
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", "content-length": String(10 * 1024 * 1024 + 1) },
        });
        req.on("response", (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on("error", reject);
        req.flushHeaders();
      });
      expect(answer).to.equal(413);
    });

    it("answers 413 to a chunked body that grows past 10 MB", async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${serve.url}/hooks/api-build`, {
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        });
        const chunk = Buffer.alloc(256 * 1024, 0x20);
        let sent = 0;
        let answered = false;
        req.on("response", (res) => {
          answered = true;
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on("error", (error) => (answered ? undefined : reject(error)));
        const write = () => {
          while (!answered && sent <= 12 * 1024 * 1024) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once("drain", write);
          }
        };
        write();
      });
      expect(status).to.equal(413);
    });

    /** Opens a connection to serve; `received` holds what came back, `until` waits for a pattern in it. */
    async function rawConnection() {
      const socket = net.connect(Number(new URL(serve.url).port), "127.0.0.1");
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      const state = { received: "", error: undefined as Error | undefined };
      socket.on("data", (d: Buffer) => {
        state.received += d.toString("latin1");
      });
      socket.on("error", (e) => {
        state.error = e;
      });
      const write = (data: string | Buffer) =>
        new Promise<void>((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve())));
      const until = async (pattern: RegExp) => {
        for (let i = 0; i < 500 && !pattern.test(state.received); i++)
          await new Promise((r) => setTimeout(r, 10));
        expect(state.received).to.match(pattern);
      };
      return { socket, state, write, until };
    }

    it("keeps the connection after a 413 to a chunked body still being sent: the client reads the answer, finishes, and sends its next request", async () => {
      const { socket, state, write, until } = await rawConnection();
      await write(
        "POST /hooks/api-build HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
          "transfer-encoding: chunked\r\n\r\n",
      );
      const chunk = Buffer.concat([
        Buffer.from("40000\r\n"),
        Buffer.alloc(0x40000, 0x20),
        Buffer.from("\r\n"),
      ]);
      for (let sent = 0; sent <= 10 * 1024 * 1024; sent += 0x40000) await write(chunk);
      await until(/^HTTP\/1\.1 413 /);
      expect(state.received).not.to.match(/connection: close/i);
      // Still sending after the answer, as a client that writes its whole body first would.
      for (let i = 0; i < 8; i++) await write(chunk);
      await write("0\r\n\r\n");
      await write("GET /_hookgate/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
      await until(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
      socket.destroy();
      expect(state.error).to.equal(undefined);
    });

    it("keeps the connection after a 413 from a declared Content-Length: a client that sends its body anyway reads the answer and sends its next request", async () => {
      const { socket, state, write, until } = await rawConnection();
      const size = 10 * 1024 * 1024 + 1;
      await write(
        "POST /hooks/api-build HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
          `content-length: ${size}\r\n\r\n`,
      );
      await until(/^HTTP\/1\.1 413 /);
      const piece = Buffer.alloc(0x40000, 0x20);
      for (let sent = 0; sent < size; sent += piece.length) {
        await write(sent + piece.length <= size ? piece : piece.subarray(0, size - sent));
      }
      await write("GET /_hookgate/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
      await until(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
      socket.destroy();
      expect(state.error).to.equal(undefined);
    });

    it("records nothing for a delivery whose connection drops halfway through its body, and keeps serving", async () => {
      const delivery = randomUUID();
      const body = push();
      const socket = net.connect(Number(new URL(serve.url).port), "127.0.0.1");
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      const head = Object.entries(githubHeaders(GH_SECRET, body, "push", delivery))
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      socket.write(
        `POST /hooks/api-build HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${body.length}\r\n${head}\r\n`,
      );
      socket.write(body.subarray(0, 100));
      await new Promise((r) => setTimeout(r, 100));
      socket.destroy();
      const after = signed(push({ ref: "refs/heads/feature/after-drop" }));
      const answer = await request(`${serve.url}/hooks/api-build`, {
        headers: after.headers,
        body: after.body,
      });
      expect(answer.status).to.equal(200);
      const recorded = await deliveries(serve.url);
      expect(recorded.map((d) => d.delivery))
        .to.include(after.delivery)
        .and.not.include(delivery);
    });
  });

  describe("the IP-allowlist fallback (no signature)", () => {
    it("queues a delivery from 127.0.0.1 on a route that allows 127.0.0.1/32", async () => {
      const delivery = randomUUID();
      const answer = await request(`${serve.url}/hooks/ip-open`, {
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": delivery,
        },
        body: PUSH,
      });
      expect(answer.status).to.equal(202);
      await waitForDelivery(serve.url, delivery, (e) => e.status === "done");
    });

    it("answers 403 on a route that allows 10.0.0.0/8, even with a spoofed X-Forwarded-For: 10.1.2.3", async () => {
      const answer = await request(`${serve.url}/hooks/ip-closed`, {
        headers: {
          "content-type": "application/json",
          "x-github-event": "push",
          "x-github-delivery": randomUUID(),
          "x-forwarded-for": "10.1.2.3",
          "x-real-ip": "10.1.2.3",
        },
        body: PUSH,
      });
      expect(answer.status).to.equal(403);
      expect(jenkins.builds().filter((b) => b.job.join("/") === "ip/closed")).to.have.length(0);
    });

    it("logs a flood of refused deliveries as its first lines and one line that counts the rest", async () => {
      const ids: string[] = Array.from({ length: 30 }, () => randomUUID());
      // All at once: one after another on a loaded machine, they could spread over several windows.
      const answers = await Promise.all(
        ids.map((id) =>
          request(`${serve.url}/hooks/ip-closed`, {
            headers: {
              "content-type": "application/json",
              "x-github-event": "push",
              "x-github-delivery": id,
            },
            body: PUSH,
          }),
        ),
      );
      expect(answers.map((a) => a.status)).to.deep.equal(ids.map(() => 403));
      await new Promise((r) => setTimeout(r, 1_300)); // the sampler's window ends
      const lines = serve
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const logged = lines.filter((l) => l.msg === "delivery" && ids.includes(l.deliveryId as string));
      const counted = lines
        .filter((l) => l.msg === "deliveries not logged one by one" && l.route === "ip-closed")
        .reduce((sum, l) => sum + (l.count as number), 0);
      // 10 lines a window; the burst may straddle the end of a window the test before opened.
      expect(logged.length).to.be.within(1, 20);
      expect(counted).to.be.at.least(10);
      expect(logged.length + counted).to.be.at.least(30); // the 403 of the test before may be counted too
      // Every one of them is still in the delivery history.
      const recorded = (await deliveries(serve.url)).map((d) => d.delivery);
      expect(ids.every((id) => recorded.includes(id))).to.equal(true);
    });
  });

  describe("the work path", () => {
    /** The delivery's history entry once its work has ended (neither queued nor running). */
    const settled = (delivery: string) =>
      waitForDelivery(serve.url, delivery, (e) => e.status !== "queued" && e.status !== "running");
    /** Where the zip route puts acme/api's main branch in serve's file store. */
    const mainZip = () =>
      join(stateDir, "s3", "hookgate-artifacts", "acme", "api", "branch", "main", "acme_api_branch_main.zip");

    it("retries a Jenkins that answers 500, 500, then 201, and ends done after 3 attempts", async () => {
      jenkins.script({ status: 500 }, { status: 500 }, { status: 201, location: true });
      const d = signed(push());
      expect((await post(d)).status).to.equal(202);
      const done = await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
      expect(done.attempts).to.equal(3);
      expect(done.error).to.equal(undefined);
      expect(jenkins.builds().filter((b) => b.form.DELIVERY === d.delivery)).to.have.length(3);
      // The log says the delay the queue used: --retry-delay-ms 50, then doubled.
      const retries = serve
        .output()
        .split("\n")
        .filter((line) => line.includes(d.delivery) && line.includes('"outcome":"retry"'));
      expect(retries.map((line) => JSON.parse(line).retryInMs)).to.deep.equal([50, 100]);
    });

    it("ends done with one build when Jenkins built the first request but a proxy's 504 lost its answer: the retry finds the build", async () => {
      jenkins.script({ status: 504, build: true });
      const d = signed(push());
      expect((await post(d)).status).to.equal(202);
      const done = await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
      expect(done.attempts).to.equal(2);
      const ours = jenkins.jobBuilds.filter((b) => b.parameters?.DELIVERY === d.delivery);
      expect(ours).to.have.length(1);
      expect(done.reason).to.equal(
        `already started as #${ours[0]?.number} (${jenkins.url}/job/api/job/build/${ours[0]?.number}/) by an earlier attempt: not requested again`,
      );
      expect(jenkins.builds().filter((b) => b.form.DELIVERY === d.delivery)).to.have.length(1);
    });

    it("s3-zip puts the archive of the pushed sha into <state-dir>/s3/<bucket>/<key>, flattened, with metadata", async () => {
      const body = push();
      const sha = JSON.parse(body.toString("utf8")).after as string;
      gitHost.setArchive("acme/api", sha, {
        files: { "buildspec.yml": "version: 0.2\n", "src/app.ts": "export {};\n" },
      });
      const d = signed(body);
      const answer = await post(d, "zip");
      expect(answer.status).to.equal(202);
      const done = await settled(d.delivery);
      expect(done.status, done.error).to.equal("done");
      const object = mainZip();
      const entries = await readZip(readFileSync(object));
      expect([...entries.keys()].sort()).to.deep.equal(["buildspec.yml", "src/app.ts"]);
      const meta = JSON.parse(readFileSync(`${object}.metadata.json`, "utf8"));
      expect(JSON.stringify(meta)).to.include(sha);
    });

    it("s3-zip ends dead at the first attempt, with no download and no object, when the host sends Acme/API to a route on repos [acme/api]: the key is outside the prefixes the role would be pinned to deployed", async () => {
      const base = JSON.parse(PUSH.toString("utf8"));
      const body = push({
        after: "2222222222222222222222222222222222222222",
        repository: {
          ...base.repository,
          name: "API",
          full_name: "Acme/API",
          owner: { ...base.repository.owner, name: "Acme", login: "Acme" },
        },
      });
      const d = signed(body);
      expect((await post(d, "zip")).status).to.equal(202);
      const dead = await settled(d.delivery);
      expect(dead.status).to.equal("dead");
      expect(dead.attempts).to.equal(1);
      expect(dead.error).to.contain(
        'key "Acme/API/branch/main/Acme_API_branch_main.zip" is outside the prefixes the route\'s role may write ("acme/api/branch/"): ' +
          'routes.yaml spells the repository "acme/api" and the host sends "Acme/API"; write repos: [Acme/API]',
      );
      expect(gitHost.requests.some((r) => r.kind === "archive" && r.path.includes("2222222"))).to.equal(
        false,
      );
      expect(existsSync(join(stateDir, "s3", "hookgate-artifacts", "Acme"))).to.equal(false);
    });

    it("s3-zip skips a delivery accepted before the one whose zip is at its key, and the history says why", async () => {
      const first = push();
      const sha = JSON.parse(first.toString("utf8")).after as string;
      gitHost.setArchive("acme/api", sha, { files: { "buildspec.yml": "version: 0.2\n" } });
      const d1 = signed(first);
      expect((await post(d1, "zip")).status).to.equal(202);
      const done = await settled(d1.delivery);
      expect(done.status, done.error).to.equal("done");
      const object = mainZip();
      // The zip at the key now stands for a delivery accepted later than the next one (a newer push that
      // went through while an older one waited as a dead letter).
      const meta = JSON.parse(readFileSync(`${object}.metadata.json`, "utf8"));
      expect(meta.metadata["accepted-at"]).to.match(/^\d{4}-\d{2}-\d{2}T/);
      // Ten minutes ahead: later than the next delivery, and near enough to the clock to be believed.
      const later = new Date(Date.now() + 10 * 60_000).toISOString();
      meta.metadata["accepted-at"] = later;
      writeFileSync(`${object}.metadata.json`, JSON.stringify(meta));
      const zipBefore = readFileSync(object);

      const older = "1111111111111111111111111111111111111111";
      const d2 = signed(push({ after: older }));
      expect((await post(d2, "zip")).status).to.equal(202);
      const skipped = await settled(d2.delivery);
      expect(skipped.status, skipped.error).to.equal("done");
      expect(skipped.reason).to.contain(
        "skipped: s3://hookgate-artifacts/acme/api/branch/main/acme_api_branch_main.zip holds the zip of a newer " +
          `delivery (sha ${sha.slice(0, 12)}, accepted ${later}) than this one (sha ${older.slice(0, 12)}, ` +
          "accepted 20",
      );
      expect(readFileSync(object).equals(zipBefore)).to.equal(true);
      expect(gitHost.requests.some((r) => r.kind === "archive" && r.path.includes(older))).to.equal(false);
    });

    it("ends dead at the first attempt when Jenkins answers 404, with the error and a dead letter", async () => {
      jenkins.script({ status: 404 });
      const d = signed(push());
      expect((await post(d)).status).to.equal(202);
      const dead = await waitForDelivery(serve.url, d.delivery, (e) => e.status === "dead");
      expect(dead.attempts).to.equal(1);
      expect(dead.error).to.match(/404/);
      expect(dead.reason).to.equal(`moved to ${join(stateDir, "dead-letters")}`);
      const letters = readdirSync(join(stateDir, "dead-letters")).map((f) =>
        readFileSync(join(stateDir, "dead-letters", f), "utf8"),
      );
      expect(letters.some((l) => l.includes(d.delivery))).to.equal(true);
    });

    it("ends dead after --max-attempts when Jenkins keeps answering 503", async () => {
      jenkins.script({ status: 503 }, { status: 503 }, { status: 503 });
      const d = signed(push());
      expect((await post(d)).status).to.equal(202);
      const dead = await waitForDelivery(serve.url, d.delivery, (e) => e.status === "dead");
      expect(dead.attempts).to.equal(3);
      // A manual redelivery of a delivery that died is processed again.
      const again = await post(d);
      expect(again.status).to.equal(202);
      await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
    });
  });

  describe("restarts and state", () => {
    it("finishes queued work after a crash: killed while Jenkins is down, restarted with Jenkins up", async () => {
      // A second gateway on its own state dir, whose "resume" route points at a Jenkins that is down.
      const resumeState = join(dir, "resume-state");
      const args = gatewayArgs(resumeState);
      const first = await startServe([...args, "--retry-delay-ms", "60000"]);
      const d = signed(push());
      try {
        const answer = await request(`${first.url}/hooks/resume`, { headers: d.headers, body: d.body });
        expect(answer.status).to.equal(202);
        const retrying = await waitForDelivery(first.url, d.delivery, (e) => e.status === "retrying");
        expect(retrying.attempts).to.equal(1);
      } finally {
        await first.stop("SIGKILL");
      }
      expect(readFileSync(join(resumeState, "queue", "journal.jsonl"), "utf8")).to.include(d.delivery);

      // Jenkins comes up on that port; the gateway restarts and finishes the work. This one serves builds
      // only: the retry's look for an earlier build (a GET) is a 404, and the build is requested.
      const builds: string[] = [];
      const resumeJenkins = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => {
          body += c;
        });
        req.on("end", () => {
          if (req.method !== "POST") {
            res.writeHead(404);
            res.end();
            return;
          }
          builds.push(`${req.url} ${body}`);
          res.writeHead(201, { location: `http://127.0.0.1:${resumePort}/queue/item/1/` });
          res.end();
        });
      });
      // The down server keeps the port and hands each new connection to this Jenkins: closing it and
      // binding the port again would let another process take the port in between.
      resumeDown?.removeAllListeners("connection");
      resumeDown?.on("connection", (socket: net.Socket) => resumeJenkins.emit("connection", socket));
      const second = await startServe([...args, "--retry-delay-ms", "50"]);
      try {
        expect(second.output()).to.match(/resumed\s+1 queued/);
        const done = await waitForDelivery(second.url, d.delivery, (e) => e.status === "done");
        expect(done.attempts).to.equal(2);
        expect(builds).to.have.length(1);
        expect(builds[0]).to.include("/job/resume/job/build/buildWithParameters");
        expect(builds[0]).to.include(`DELIVERY=${d.delivery}`);
        const health = await request(`${second.url}/_hookgate/health`, { method: "GET" });
        expect(health.json.queue).to.deep.equal({ waiting: 0, inFlight: 0 });
        expect(await second.stop("SIGTERM")).to.equal(0);
      } finally {
        await second.stop("SIGKILL");
        await new Promise<void>((resolve) => resumeJenkins.close(() => resolve()));
        await new Promise<void>((resolve) => resumeDown?.close(() => resolve()));
      }
    });

    it("after a crash, the delivery history shows the work that finished before it, which deliveries.json had not caught up with", async () => {
      // deliveries.json is written a moment after each change; a kill -9 in that moment leaves it without
      // the last deliveries, or with them still "running". Play that: run two deliveries to done, stop,
      // then take one out of deliveries.json and set the other back to running.
      const crashState = join(dir, "history-crash-state");
      const args = gatewayArgs(crashState);
      const first = await startServe(args);
      const lost = signed(push());
      const stale = signed(push());
      try {
        for (const d of [lost, stale]) {
          const answer = await request(`${first.url}/hooks/api-build`, { headers: d.headers, body: d.body });
          expect(answer.status).to.equal(202);
          await waitForDelivery(first.url, d.delivery, (e) => e.status === "done");
        }
        expect(await first.stop("SIGTERM")).to.equal(0);
      } finally {
        await first.stop("SIGKILL");
      }
      const historyFile = join(crashState, "deliveries.json");
      const saved = JSON.parse(readFileSync(historyFile, "utf8")) as Record<string, unknown>[];
      const asAfterCrash = saved
        .filter((e) => e.delivery !== lost.delivery)
        .map((e) => (e.delivery === stale.delivery ? { ...e, status: "running" } : e));
      writeFileSync(historyFile, JSON.stringify(asAfterCrash));

      const second = await startServe(args);
      const shown = (history: Record<string, unknown>[]) => {
        for (const d of [lost, stale]) {
          const entries = history.filter((e) => e.delivery === d.delivery);
          expect(entries, JSON.stringify(history)).to.have.length(1);
          expect(entries[0]).to.include({ route: "api-build", status: "done", attempts: 1, generation: 1 });
        }
      };
      try {
        shown((await deliveries(second.url)) as unknown as Record<string, unknown>[]);
      } finally {
        // Killed again at once: the start compacted the queue journal, so the history it settled must
        // already be on disk.
        await second.stop("SIGKILL");
      }
      shown(JSON.parse(readFileSync(historyFile, "utf8")));
    });

    it("a queued message that is not a work item (a damaged journal) ends as a dead letter, and serve keeps answering", async () => {
      const damagedState = join(dir, "damaged-state");
      mkdirSync(join(damagedState, "queue"), { recursive: true });
      const m = { id: "m1", seq: 0, route: "api-build", group: "acme/api", dedupeId: "x:1", sentAt: 1 };
      writeFileSync(
        join(damagedState, "queue", "journal.jsonl"),
        `${JSON.stringify({ op: "put", m: { ...m, receiveCount: 0, notBefore: 1, body: "not json" } })}\n`,
      );
      const child = await startServe(gatewayArgs(damagedState));
      try {
        const deadDir = join(damagedState, "dead-letters");
        // Dead letters are written to a dot-file first, then renamed.
        const letters = () => readdirSync(deadDir).filter((f) => f.endsWith(".json") && !f.startsWith("."));
        for (let i = 0; i < 200 && letters().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
        const [file, ...others] = letters();
        expect(others).to.deep.equal([]);
        const letter = JSON.parse(readFileSync(join(deadDir, file as string), "utf8"));
        const reason = "unreadable work item: message body is not JSON";
        expect(letter).to.include({ body: "not json", reason, route: "api-build" });
        // It shows in the recent deliveries too, which are the local DLQ's view.
        const dead = (await deliveries(child.url)).filter((e) => e.status === "dead");
        expect(dead).to.have.length(1);
        expect(dead[0]).to.include({ route: "api-build", error: reason });
        const health = await request(`${child.url}/_hookgate/health`, { method: "GET" });
        expect(health.json.queue).to.deep.equal({ waiting: 0, inFlight: 0 });
        expect(await child.stop("SIGTERM")).to.equal(0);
      } finally {
        await child.stop("SIGKILL");
      }
    });

    it("--s3-endpoint sends the s3-zip object to an S3-compatible server (s3rver) through the S3 client", async () => {
      const s3 = await startLocalS3({ buckets: ["hookgate-artifacts"] });
      const child = await startServe([...gatewayArgs(join(dir, "s3-state")), "--s3-endpoint", s3.url], {
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
      }); // s3rver's fixed key pair
      try {
        const body = push({ after: "c0ffee0000000000000000000000000000000001" });
        gitHost.setArchive("acme/api", "c0ffee0000000000000000000000000000000001", {
          files: { "buildspec.yml": "v\n" },
        });
        const d = signed(body);
        expect(
          (await request(`${child.url}/hooks/zip`, { headers: d.headers, body: d.body })).status,
        ).to.equal(202);
        const done = await waitForDelivery(
          child.url,
          d.delivery,
          (e) => e.status === "done" || e.status === "dead",
        );
        expect(done.status, done.error).to.equal("done");
        const object = await s3.getObject(
          "hookgate-artifacts",
          "acme/api/branch/main/acme_api_branch_main.zip",
        );
        expect([...(await readZip(object.body)).keys()]).to.deep.equal(["buildspec.yml"]);
      } finally {
        await child.stop("SIGKILL");
        await s3.close();
      }
    });

    it("completes <state-dir>/secrets.json (mode 0600) with a random webhook secret when no --secrets is given", async () => {
      const own = join(dir, "generated-state");
      const file = join(own, "secrets.json");
      mkdirSync(own, { recursive: true });
      const jenkinsCredentials = { user: JENKINS_USER, token: JENKINS_TOKEN };
      writeFileSync(file, JSON.stringify({ "test/jenkins": jenkinsCredentials }));
      const child = await startServe(["--routes", routesFile, "--state-dir", own]);
      expect(await child.stop("SIGTERM")).to.equal(0);
      expect(statSync(file).mode & 0o777).to.equal(0o600);
      const secrets = JSON.parse(readFileSync(file, "utf8"));
      expect(secrets["test/github-webhook"]).to.match(/^[0-9a-f]{64}$/);
      expect(secrets["test/jenkins"]).to.deep.equal(jenkinsCredentials); // existing values are kept
      expect(child.output()).to.include(file);
      expect(child.output()).not.to.include(secrets["test/github-webhook"]);
    });
  });

  describe("one serve per state dir", () => {
    it("refuses a second serve on the same state dir, naming the first one's pid, and leaves its journals alone", async () => {
      const d = signed(push());
      expect((await post(d)).status).to.equal(202);
      await waitForDelivery(serve.url, d.delivery, (e) => e.status === "done");
      const journals = [join(stateDir, "dedupe.jsonl"), join(stateDir, "queue", "journal.jsonl")];
      const before = journals.map((file) => ({
        inode: statSync(file).ino,
        text: readFileSync(file, "utf8"),
      }));

      // On another port: only the state dir is shared. Without the lock it would start (and not exit).
      const second = spawnSync(process.execPath, [BIN, "serve", "--port", "0", ...gatewayArgs(stateDir)], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 15_000,
        env: { ...process.env, NODE_OPTIONS: "" },
      });
      expect(second.status, second.stdout + second.stderr).to.equal(1);
      expect(second.stderr).to.contain(
        `hookgate serve: the state dir ${stateDir} is in use by another hookgate serve (pid ${serve.child.pid}): ` +
          `stop it, or give this one its own --state-dir (if no hookgate serve runs, delete ${join(stateDir, "serve.lock")})\n`,
      );
      // Not compacted under the first serve: its next lines still land in the files at those paths
      // (a compaction by the second would have replaced them, and the first would append to the old ones).
      const next = signed(push());
      expect((await post(next)).status).to.equal(202);
      const after = journals.map((file) => ({ inode: statSync(file).ino, text: readFileSync(file, "utf8") }));
      for (const [i, file] of journals.entries()) {
        expect(after[i]?.inode, file).to.equal(before[i]?.inode);
        expect(after[i]?.text.startsWith(before[i]?.text ?? "\u0000"), file).to.equal(true);
        expect(after[i]?.text, file).to.contain(next.delivery);
      }
      const again = await post(d);
      expect(again.json.status).to.equal("duplicate");
    });
  });

  describe("shutdown (runs last)", () => {
    it("a second signal of the other kind (SIGTERM, then SIGINT) stops at once, leaving the work in flight queued", async () => {
      const state = join(dir, "state-signals");
      const other = await startServe([...gatewayArgs(state), "--retry-delay-ms", "50"]);
      try {
        jenkins.script({ hang: true });
        const d = signed(push());
        const answer = await request(`${other.url}/hooks/api-build`, { headers: d.headers, body: d.body });
        expect(answer.status).to.equal(202);
        await waitForDelivery(other.url, d.delivery, (e) => e.status === "running");
        other.child.kill("SIGTERM");
        for (let i = 0; i < 100 && !other.output().includes("stopping (waiting"); i++) await sleep(20);
        other.child.kill("SIGINT");
        // 130 comes only from the immediate stop: a drain ends with 0 or 1.
        expect(await other.exited).to.equal(130);
        expect(other.output()).to.include("stopping right away; queued work stays in the state dir");
        expect(readFileSync(join(state, "queue", "journal.jsonl"), "utf8")).to.include(d.delivery);
      } finally {
        await other.stop("SIGKILL");
        jenkins.script();
      }
    });

    it("stops on SIGTERM after a client drops a connection with pipelined answers still queued, saving the history and freeing the state dir", async () => {
      const state = join(dir, "state-pipelined");
      const other = await startServe(gatewayArgs(state));
      let socket: net.Socket | undefined;
      try {
        // 100 entries of about 500 bytes in the history: each GET /_hookgate/deliveries answers ~50 KB.
        for (let batch = 0; batch < 10; batch++) {
          await Promise.all(
            Array.from({ length: 10 }, () =>
              request(`${other.url}/hooks/no-such-route`, {
                headers: { "x-github-event": "e".repeat(100), "x-github-delivery": "d".repeat(200) },
              }),
            ),
          );
        }
        // Three ignored deliveries, then 500 GETs: ~25 MB of answers to a client that reads nothing, of
        // which the kernel takes a few MB. The rest stay queued behind the answer being written.
        const pushes = [1, 2, 3].map(() => signed(push({ ref: "refs/heads/feature/pipelined" })));
        const text =
          pushes
            .map((d) => {
              const head = Object.entries(d.headers)
                .map(([name, value]) => `${name}: ${value}\r\n`)
                .join("");
              return `POST /hooks/api-build HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${d.body.length}\r\n${head}\r\n${d.body}`;
            })
            .join("") + "GET /_hookgate/deliveries HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n".repeat(500);
        const client = net.connect(Number(new URL(other.url).port), "127.0.0.1");
        socket = client;
        await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
        client.pause();
        client.write(text);
        // serve records an answer as it writes it. Once the deliveries' are recorded, the connection is
        // dropped with most of the GETs' answers still queued.
        for (;;) {
          const recorded = await request(`${other.url}/_hookgate/deliveries?route=api-build`, {
            method: "GET",
          });
          const ids = (JSON.parse(recorded.text) as Array<{ delivery: string }>).map((e) => e.delivery);
          if (pushes.every((d) => ids.includes(d.delivery))) break;
          await sleep(20);
        }
        client.destroy();
        expect(await other.stop("SIGTERM"), other.output().slice(-3000)).to.equal(0);
        expect(other.output()).to.include("hookgate: stopped\n");
        expect(existsSync(join(state, "serve.lock"))).to.equal(false);
        const saved = readFileSync(join(state, "deliveries.json"), "utf8");
        for (const d of pushes) expect(saved).to.include(d.delivery);
      } finally {
        socket?.destroy();
        await other.stop("SIGKILL");
      }
    });

    it("stops with exit code 0 on SIGTERM, keeps the delivery history and frees the state dir", async () => {
      const before = await deliveries(serve.url);
      expect(before.length, serve.output().slice(-3000)).to.be.greaterThan(5);
      expect(statSync(join(stateDir, "serve.lock")).isFile()).to.equal(true);
      expect(await serve.stop("SIGTERM")).to.equal(0);
      expect(existsSync(join(stateDir, "serve.lock"))).to.equal(false);
      const saved = JSON.parse(readFileSync(join(stateDir, "deliveries.json"), "utf8")) as unknown[];
      expect(saved.length).to.equal(before.length);
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Sends `text` to serve on a connection of its own, our side ended after it or kept open, and resolves with
 * everything serve answers until it closes the connection.
 */
function rawExchange(port: number, text: string, ours: "end" | "keep open"): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () =>
      ours === "end" ? socket.end(text) : socket.write(text),
    );
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      answer += d;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
  });
}
