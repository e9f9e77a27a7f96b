// `hookgate serve` as a child process through a kill -9 and a SIGTERM in the middle of a stream of deliveries
// (a small, bounded version of the endurance runs): what was answered 202 ends done or dead, no action runs
// more often than its attempts allow, and a redelivery after the restarts is still a duplicate.
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { type JenkinsServer, startJenkinsServer } from "../support/jenkinsServer";
import {
  type Answer,
  deliveries,
  githubHeaders,
  JENKINS_TOKEN,
  JENKINS_USER,
  REPO_ROOT,
  request,
  type ServeChild,
  startServe,
} from "./serveHarness";

const SECRET = "serve-restarts-test-secret";
const MAX_ATTEMPTS = 3;
const PUSH = JSON.parse(readFileSync(join(REPO_ROOT, "examples", "github-push.json"), "utf8"));

interface Sent {
  id: string;
  route: "ok" | "final" | "ignored";
  answers: (number | "no answer")[];
}

describe("Command: hookgate serve, restarted with kill -9 and SIGTERM while deliveries come in", function () {
  this.timeout(60_000);
  let dir: string;
  let jenkins: JenkinsServer;
  let serve: ServeChild | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-serve-restarts-"));
    // The job defines DELIVERY: a retry's look for an earlier build then finds only its own delivery's (with the
    // job's default BRANCH alone, any build started since the delivery was accepted counts as its own).
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      jobs: ["e/ok"],
      definitions: [{ name: "DELIVERY" }],
    });
  });

  afterEach(async () => {
    await serve?.stop("SIGKILL");
    await jenkins.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every delivery answered 202 ends done or dead, each action runs at most its attempts, duplicates stay duplicates, and no temporary file is left", async () => {
    const routes = join(dir, "routes.yaml");
    const route = (name: string, job: string, branches: string) =>
      `  - name: ${name}\n    match: { repos: [acme/*], events: [push], branches: [${branches}] }\n` +
      `    action: { type: jenkins, job: ${job}, parameters: { DELIVERY: "{{deliveryId}}" } }\n`;
    writeFileSync(
      routes,
      `version: 1\ndefaults:\n  provider: github\n  secret: test/github-webhook\n` +
        `  jenkins: { url: "${jenkins.url}", credentials: test/jenkins }\nroutes:\n` +
        // e/final is no job of this Jenkins: a 404, final.
        `${route("ok", "e/ok", "main")}${route("final", "e/final", "main")}${route("ignored", "e/ok", "release")}`,
    );
    const secrets = join(dir, "secrets.json");
    writeFileSync(
      secrets,
      JSON.stringify({
        "test/github-webhook": SECRET,
        "test/jenkins": { user: JENKINS_USER, token: JENKINS_TOKEN },
      }),
    );
    const state = join(dir, "state");
    const args = ["--routes", routes, "--secrets", secrets, "--state-dir", state, "--quiet"];
    const start = () =>
      startServe([...args, "--max-attempts", String(MAX_ATTEMPTS), "--retry-delay-ms", "20"]);
    const bodies = new Map<string, Buffer>();
    for (const repo of ["a", "b", "c", "d"]) {
      const payload = { ...PUSH, repository: { ...PUSH.repository, name: repo, full_name: `acme/${repo}` } };
      bodies.set(repo, Buffer.from(JSON.stringify(payload)));
    }
    const send = async (url: string, d: Sent, n: number): Promise<void> => {
      const body = bodies.get(["a", "b", "c", "d"][n % 4] as string) as Buffer;
      let answer: Answer | undefined;
      try {
        answer = await request(`${url}/hooks/${d.route}`, {
          headers: githubHeaders(SECRET, body, "push", d.id),
          body,
        });
      } catch {
        // The connection was cut by the kill: the Git host records a failed delivery.
      }
      d.answers.push(answer?.status ?? "no answer");
    };
    const sent: Sent[] = [];
    const routesByTurn = ["ok", "ok", "ok", "final", "ignored"] as const;
    /** Sends `count` new deliveries, eight at a time; `midway` runs once the batch at its index is sent. */
    const stream = async (count: number, midway?: { at: number; run: () => void }) => {
      for (let first = 0; first < count; first += 8) {
        const batch = Array.from({ length: Math.min(8, count - first) }, (_, i) => {
          const d: Sent = {
            id: randomUUID(),
            route: routesByTurn[sent.length % 5] as Sent["route"],
            answers: [],
          };
          sent.push(d);
          return send((serve as ServeChild).url, d, first + i);
        });
        if (midway && first <= midway.at && midway.at < first + 8) midway.run();
        await Promise.all(batch);
      }
    };

    serve = await start();
    // A kill -9 while a batch of requests is in flight.
    const killed = serve;
    await stream(80, { at: 40, run: () => killed.child.kill("SIGKILL") });
    await killed.exited;
    serve = await start();
    // The Git host redelivers what got no answer.
    for (const d of sent.filter((s) => s.answers.includes("no answer"))) await send(serve.url, d, 0);
    await stream(40);
    // A SIGTERM, then more.
    expect(await serve.stop("SIGTERM")).to.equal(0);
    serve = await start();
    await stream(40);
    // Redeliveries of accepted deliveries after the restarts: duplicates.
    const accepted = sent.filter((d) => d.answers.includes(202));
    const redelivered = accepted.filter((d) => d.route === "ok").slice(0, 20);
    for (const d of redelivered) await send(serve.url, d, 0);
    expect(redelivered.map((d) => d.answers[d.answers.length - 1])).to.deep.equal(redelivered.map(() => 200));
    // Let the work finish (about a second here; up to 40 s on a loaded machine).
    for (let i = 0; i < 1_600; i++) {
      const health = (await request(`${serve.url}/_hookgate/health`, { method: "GET" })).json as {
        queue: { waiting: number; inFlight: number };
      };
      if (health.queue.waiting === 0 && health.queue.inFlight === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const history = await deliveries(serve.url);
    expect(await serve.stop("SIGTERM")).to.equal(0);

    // Every delivery got an answer, in the end: 202, or a duplicate of one journalled before the kill.
    expect(sent.filter((d) => !d.answers.some((a) => a === 202 || a === 200))).to.deep.equal([]);
    const work = sent.filter((d) => d.route !== "ignored");
    const endedAs = (d: Sent) => history.find((h) => h.delivery === d.id && h.status !== "ignored")?.status;
    expect(work.map((d) => `${d.route} ${endedAs(d)}`)).to.deep.equal(
      work.map((d) => `${d.route} ${d.route === "ok" ? "done" : "dead"}`),
    );
    const runs = new Map<string, number>();
    for (const build of jenkins.builds()) {
      const key = `${build.job.join("/")} ${build.form.DELIVERY}`;
      runs.set(key, (runs.get(key) ?? 0) + 1);
    }
    for (const d of work) {
      const ran = runs.get(`${d.route === "ok" ? "e/ok" : "e/final"} ${d.id}`) ?? 0;
      expect(ran, `${d.route} ${d.id} ran ${ran} times`).to.be.within(1, MAX_ATTEMPTS);
    }
    expect([...runs.keys()].filter((key) => sent.some((d) => d.route === "ignored" && key.endsWith(d.id)))).to
      .be.empty;
    // A dead letter for each final delivery (two for one that a kill -9 or a redelivery made run again), none
    // for the others; the dedupe store saw each end.
    const letters = readdirSync(join(state, "dead-letters")).filter((f) => !f.startsWith("."));
    const lettered = work.filter((d) => letters.some((name) => name.includes(`-${d.route}-${d.id}-g`)));
    expect(lettered.map((d) => d.id)).to.deep.equal(work.filter((d) => d.route === "final").map((d) => d.id));
    const dedupe = new Map<string, string>();
    for (const line of readFileSync(join(state, "dedupe.jsonl"), "utf8").trim().split("\n")) {
      const { k, s } = JSON.parse(line) as { k: string; s: string };
      dedupe.set(k, s);
    }
    expect(work.map((d) => `${d.route} ${dedupe.get(`${d.route}#${d.id}`)}`)).to.deep.equal(
      work.map((d) => `${d.route} ${d.route === "ok" ? "done" : "dead"}`),
    );
    // No temporary file left behind, and the queue journal holds nothing once compacted on the next start.
    const temporary: string[] = [];
    const walk = (path: string) => {
      for (const name of readdirSync(path)) {
        const full = join(path, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (name.endsWith(".tmp")) temporary.push(full);
      }
    };
    walk(state);
    expect(temporary).to.deep.equal([]);
    serve = await start();
    expect(serve.output()).not.to.match(/resumed/);
    expect(readFileSync(join(state, "queue", "journal.jsonl"), "utf8")).to.equal("");
  });
});
