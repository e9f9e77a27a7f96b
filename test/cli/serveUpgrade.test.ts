// `hookgate serve` on a state dir an older hookgate wrote: a user who pulls a newer hookgate and starts it
// on the same --state-dir loses nothing. The fixtures under test/fixtures/state/<commit>/ are the files
// that commit's serve left when stopped with SIGTERM (their README says what was sent); a test seeds a
// temporary state dir with them and starts this serve on it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { expect } from "chai";
import { deadAtOf, deadLetterStamp } from "../../src/local/localDeadLetters";
import { type GitHostServer, startGitHostServer } from "../support/gitHostServer";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import {
  type DeliveryView,
  deliveries,
  githubHeaders,
  JENKINS_TOKEN,
  JENKINS_USER,
  REPO_ROOT,
  request,
  startServe,
  waitForDelivery,
} from "./serveHarness";

const FIXTURES = join(REPO_ROOT, "test", "fixtures", "state");
const SECRET = "serve-upgrade-test-secret";
const GIT_TOKEN = "ghp_serveupgradetoken0123456789";
/** The commit of the zip route's dead delivery (the archive was missing then) and of its done one, pushed after. */
const OLDER_SHA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const NEWER_SHA = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2";
const PUSH = JSON.parse(readFileSync(join(REPO_ROOT, "examples", "github-push.json"), "utf8"));

function routesYaml(jenkinsUrl: string, gitHostUrl: string): string {
  return `version: 1
providers:
  github: { apiUrl: "${gitHostUrl}", token: test/github-token }
defaults:
  provider: github
  jenkins: { url: "${jenkinsUrl}", credentials: test/jenkins }
routes:
  - name: api-build
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: api/build, parameters: { DELIVERY: "{{deliveryId}}" } }
  - name: up-build
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: api/build, parameters: { DELIVERY: "{{deliveryId}}" } }
  - name: gone
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push] }
    action: { type: jenkins, job: gone/build }
  - name: zip
    secret: test/github-webhook
    match: { repos: [acme/api], events: [push], branches: [main] }
    action: { type: s3-zip, key: "builds/{{branch}}.zip" }
`;
}

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/**
 * Copies the fixture `name` into `stateDir` as that serve left it, but for what a test cannot keep: its
 * times move by as much as makes the latest of them now (the dedupe store forgets an id 29 days after its
 * last change, so pinned times would expire), and the URLs of the local Jenkins and Git host it wrote into
 * queued work items point at this test's servers. Each object's metadata file is written before the object,
 * as a put writes them.
 */
function seed(name: string, stateDir: string, urls: { jenkins: string; gitHost: string }): void {
  const root = join(FIXTURES, name);
  const files = filesUnder(root);
  const texts = new Map(
    files.filter((f) => !f.endsWith(".zip")).map((f) => [f, readFileSync(join(root, f), "utf8")]),
  );
  const epochMs = /(?<=":)1\d{12}(?=[,}])/g;
  const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;
  let latest = 0;
  for (const text of texts.values())
    for (const m of text.matchAll(epochMs)) latest = Math.max(latest, Number(m[0]));
  const shift = Date.now() - latest;
  for (const file of files.sort((a, b) => Number(a.endsWith(".zip")) - Number(b.endsWith(".zip")))) {
    const target = join(stateDir, shiftedDeadLetterName(file, shift));
    mkdirSync(dirname(target), { recursive: true });
    const text = texts.get(file);
    if (text === undefined) {
      writeFileSync(target, readFileSync(join(root, file)));
      continue;
    }
    writeFileSync(
      target,
      text
        // A Git host's apiUrl to this test's Git host, any other local URL (a Jenkins url) to its Jenkins.
        .replace(/("apiUrl":")?http:\/\/127\.0\.0\.1:\d+/g, (_url, apiUrl?: string) =>
          apiUrl ? `${apiUrl}${urls.gitHost}` : urls.jenkins,
        )
        .replace(epochMs, (ms) => String(Number(ms) + shift))
        .replace(iso, (at) => new Date(Date.parse(at) + shift).toISOString()),
    );
  }
}

/**
 * A dead letter's path with the time its name starts with (when it died, which serve's start reads to remove
 * those past 14 days) moved by `shift` as the times inside the files are; any other path as it is.
 */
function shiftedDeadLetterName(file: string, shift: number): string {
  const folder = /^dead-letters[\\/]/.exec(file)?.[0];
  if (folder === undefined) return file;
  const name = file.slice(folder.length);
  const deadAt = deadAtOf(name);
  if (deadAt === undefined) return file;
  const stamp = deadLetterStamp(new Date(deadAt).toISOString());
  return `${folder}${deadLetterStamp(new Date(deadAt + shift).toISOString())}${name.slice(stamp.length)}`;
}

function signedPush(delivery: string, after: string) {
  const body = Buffer.from(JSON.stringify({ ...PUSH, after }));
  return { body, headers: githubHeaders(SECRET, body, "push", delivery) };
}

describe("Command: hookgate serve on a state dir an older hookgate wrote (test/fixtures/state)", function () {
  this.timeout(30_000);
  let dir: string;
  let jenkins: JenkinsServer;
  let gitHost: GitHostServer;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-upgrade-"));
    jenkins = await startJenkinsServer({ user: JENKINS_USER, token: JENKINS_TOKEN, jobs: ["api/build"] });
    gitHost = await startGitHostServer({ token: GIT_TOKEN });
  });

  afterEach(async () => {
    await jenkins?.close();
    await gitHost?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fixtures: Array<[commit: string, what: string]> = [["ca52ad6", "a serve of two weeks before"]];
  for (const [commit, what] of fixtures) {
    it(`from ${commit} (${what}): the queued work runs once, done ids stay duplicates, dead letters and history are kept, and an older push redelivered does not replace the zip`, async () => {
      const stateDir = join(dir, "state");
      seed(commit, stateDir, { jenkins: jenkins.url, gitHost: gitHost.url });
      const routes = join(dir, "routes.yaml");
      const secrets = join(dir, "secrets.json");
      writeFileSync(routes, routesYaml(jenkins.url, gitHost.url));
      writeFileSync(
        secrets,
        JSON.stringify({
          "test/github-webhook": SECRET,
          "test/jenkins": { user: JENKINS_USER, token: JENKINS_TOKEN },
          "test/github-token": GIT_TOKEN,
        }),
      );
      const before = JSON.parse(readFileSync(join(stateDir, "deliveries.json"), "utf8")) as DeliveryView[];
      const idOf = (route: string, status: string) => {
        const entry = before.find((e) => e.route === route && e.status === status);
        if (!entry) throw new Error(`the fixture has no ${status} delivery of ${route}`);
        return entry.delivery;
      };
      const queued: [string, string] = [idOf("api-build", "queued"), idOf("api-build", "retrying")];
      const deadLetters = readdirSync(join(stateDir, "dead-letters")).sort();
      expect(deadLetters).to.have.length(2);
      const zipFile = join(stateDir, "s3", "hookgate-artifacts", "builds", "main.zip");
      const zip = readFileSync(zipFile);

      const serve = await startServe([
        ...["--routes", routes, "--secrets", secrets, "--state-dir", stateDir],
        ...["--retry-delay-ms", "50", "--max-attempts", "3"],
      ]);
      try {
        // The queued and the retrying build run, each once; the retrying one's failed attempt still counts.
        for (const [id, attempts] of [
          [queued[0], 1],
          [queued[1], 2],
        ] as const) {
          const done = await waitForDelivery(
            serve.url,
            id,
            (e) => e.status === "done" || e.status === "dead",
          );
          expect([done.status, done.attempts], done.error).to.deep.equal(["done", attempts]);
        }
        const health = await request(`${serve.url}/_hookgate/health`, { method: "GET" });
        expect(health.json.queue).to.deep.equal({ waiting: 0, inFlight: 0 });
        for (const id of queued) {
          expect(
            jenkins.builds().filter((b) => b.query.DELIVERY === id || b.form.DELIVERY === id),
          ).to.have.length(1);
        }

        // The history still lists every delivery the old serve recorded; those that were over, as they ended.
        const after = await deliveries(serve.url);
        for (const old of before) {
          const now = after.find((e) => e.delivery === old.delivery && e.route === old.route);
          expect(now, `${old.route} ${old.delivery}`).to.not.equal(undefined);
          if (old.status === "done" || old.status === "dead") {
            expect({ status: now?.status, attempts: now?.attempts, error: now?.error }).to.deep.equal({
              status: old.status,
              attempts: old.attempts,
              error: old.error,
            });
          }
        }
        expect(readdirSync(join(stateDir, "dead-letters")).sort()).to.deep.equal(deadLetters);

        // Done deliveries are duplicates; a dead one is accepted again.
        for (const [route, id] of [
          ["up-build", idOf("up-build", "done")],
          ["zip", idOf("zip", "done")],
          ["api-build", queued[0]],
        ] as const) {
          const answer = await request(`${serve.url}/hooks/${route}`, signedPush(id, NEWER_SHA));
          expect([answer.status, answer.json.status], `${route} ${id}`).to.deep.equal([200, "duplicate"]);
        }
        const gone = await request(`${serve.url}/hooks/gone`, signedPush(idOf("gone", "dead"), NEWER_SHA));
        expect(gone.status).to.equal(202);

        // The zip route's dead delivery, redelivered now that its archive exists, was accepted before the
        // push whose zip is at the key: it is skipped, and the zip stays.
        gitHost.setArchive("acme/api", OLDER_SHA, { files: { "buildspec.yml": "version: 0.2\n" } });
        const olderId = idOf("zip", "dead");
        expect((await request(`${serve.url}/hooks/zip`, signedPush(olderId, OLDER_SHA))).status).to.equal(
          202,
        );
        const older = await waitForDelivery(
          serve.url,
          olderId,
          (e) => e.attempts > 0 && (e.status === "done" || e.status === "dead"),
        );
        expect(older.status, older.error).to.equal("done");
        expect(older.reason).to.contain(`holds the zip of a newer delivery (sha ${NEWER_SHA.slice(0, 12)}`);
        expect(readFileSync(zipFile).equals(zip)).to.equal(true);
      } finally {
        expect(await serve.stop("SIGTERM")).to.equal(0);
      }
    });
  }
});
