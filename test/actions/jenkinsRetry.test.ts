import { expect } from "chai";
import { triggerJenkins } from "../../src/actions/jenkins";
import { BUILDS_TREE, matchingBuild, sinceByJenkinsClock } from "../../src/actions/jenkinsBuilds";
import type { JenkinsRequest } from "../../src/core/types";
import { type JenkinsServer, type JenkinsServerOptions, startJenkinsServer } from "../support/jenkinsServer";
import { type Reply, scriptedServer } from "../support/scriptedServer";
import { JENKINS_TOKEN, JENKINS_USER, rejectsWithActionError, testClients } from "./helpers";

const JOB = "api/build";
const DEFINITIONS = [{ name: "BRANCH" }, { name: "SHA" }];

function jenkinsRequest(url: string, overrides: Partial<JenkinsRequest> = {}): JenkinsRequest {
  return {
    type: "jenkins",
    jenkins: { url, credentials: "hookgate/jenkins", crumb: false },
    job: ["api", "build"],
    parameters: { BRANCH: "main", SHA: "abc123" },
    ...overrides,
  };
}

describe("Function: triggerJenkins on a retry (a build an earlier attempt started)", () => {
  let jenkins: JenkinsServer;
  /** The delivery's acceptance, before any attempt. */
  let acceptedAt: string;
  const start = async (options: JenkinsServerOptions = {}) => {
    jenkins = await startJenkinsServer({
      user: JENKINS_USER,
      token: JENKINS_TOKEN,
      definitions: DEFINITIONS,
      ...options,
    });
  };
  const retry = (attempt = 2) => ({ deliveryId: "d-1", acceptedAt, attempt });
  const lookups = () => jenkins.requests.filter((r) => r.method === "GET" && r.endpoint === "json");

  beforeEach(() => {
    acceptedAt = new Date().toISOString();
  });
  afterEach(async () => {
    await jenkins?.close();
  });

  it("triggerJenkins on a first attempt posts the build without reading the job's builds", async () => {
    await start();
    for (const attempt of [undefined, 1]) {
      await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), {
        deliveryId: "d-1",
        acceptedAt,
        attempt,
      });
    }
    expect(jenkins.requests.map((r) => `${r.method} ${r.endpoint}`)).to.deep.equal([
      "POST buildWithParameters",
      "POST buildWithParameters",
    ]);
  });

  it("triggerJenkins retrying a request that timed out after Jenkins built it finds that build and posts no second one", async () => {
    await start();
    jenkins.script({ hang: true, build: true });
    const first = await rejectsWithActionError(
      triggerJenkins(jenkinsRequest(jenkins.url), testClients({ timeoutMs: 300 }), retry(1)),
    );
    expect(first.retryable).to.equal(true);

    const clients = testClients();
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), clients, retry(2));
    expect(outcome).to.deep.equal({
      status: "done",
      detail: `already started as #1 (${jenkins.url}/job/api/job/build/1/) by an earlier attempt: not requested again`,
      publicDetail: "already started as build #1",
    });
    expect(jenkins.builds()).to.have.length(1);
    expect(jenkins.jobBuilds).to.have.length(1);
    const [lookup] = lookups();
    expect(lookup?.path).to.equal("/job/api/job/build/api/json");
    expect(lookup?.query).to.deep.equal({ tree: BUILDS_TREE });
    expect(clients.logs).to.deep.include({
      msg: "jenkins build already started",
      job: JOB,
      build: 1,
      url: `${jenkins.url}/job/api/job/build/1/`,
      attempt: 2,
      deliveryId: "d-1",
    });
  });

  it("triggerJenkins on a first receive an earlier attempt may have run (a redriven dead letter: mayHaveRun) finds that attempt's build and posts no second one", async () => {
    await start();
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(jenkinsRequest(jenkins.url), testClients(), retry(5)));
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), {
      deliveryId: "d-1",
      acceptedAt,
      attempt: 1,
      mayHaveRun: true,
    });
    expect(outcome.publicDetail).to.equal("already started as build #1");
    expect(jenkins.jobBuilds).to.have.length(1);
    expect(lookups(), "one look per attempt").to.have.length(2);
  });

  it("triggerJenkins retrying after a proxy's 504 to a request Jenkins did build posts no second one, crumb or not", async () => {
    await start({ crumb: true });
    jenkins.script({ status: 504, build: true });
    const request = jenkinsRequest(jenkins.url, {
      jenkins: { url: jenkins.url, credentials: "hookgate/jenkins", crumb: true },
    });
    expect(
      (await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)))).retryable,
    ).to.equal(true);
    const outcome = await triggerJenkins(request, testClients(), retry(3));
    expect(outcome.publicDetail).to.equal("already started as build #1");
    expect(jenkins.builds()).to.have.length(1);
    expect(jenkins.crumbsIssued, "only the first attempt asked for a crumb").to.have.length(1);
  });

  it("triggerJenkins on a retry posts the build when the job has no build since the delivery was accepted", async () => {
    await start();
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), retry());
    expect(outcome.detail).to.equal(`queued as ${jenkins.url}/queue/item/1/`);
    expect(lookups()).to.have.length(1);
    expect(jenkins.builds()).to.have.length(1);
  });

  const others: Array<[string, (server: JenkinsServer) => void]> = [
    [
      "another user started",
      (s) =>
        s.addBuild({
          job: JOB,
          timestamp: Date.now(),
          user: "alice",
          parameters: { BRANCH: "main", SHA: "abc123" },
        }),
    ],
    [
      "a timer started",
      (s) => s.addBuild({ job: JOB, timestamp: Date.now(), parameters: { BRANCH: "main", SHA: "abc123" } }),
    ],
    [
      "the same user started before the delivery was accepted",
      (s) =>
        s.addBuild({
          job: JOB,
          timestamp: Date.parse(acceptedAt) - 1,
          user: JENKINS_USER,
          parameters: { BRANCH: "main", SHA: "abc123" },
        }),
    ],
    [
      "the same user started with another value of a parameter",
      (s) =>
        s.addBuild({
          job: JOB,
          timestamp: Date.now(),
          user: JENKINS_USER,
          parameters: { BRANCH: "main", SHA: "fff999" },
        }),
    ],
    [
      "the same user started without a parameter sent",
      (s) =>
        s.addBuild({ job: JOB, timestamp: Date.now(), user: JENKINS_USER, parameters: { BRANCH: "main" } }),
    ],
    [
      "the same user started on another job",
      (s) =>
        s.addBuild({
          job: "api/test",
          timestamp: Date.now(),
          user: JENKINS_USER,
          parameters: { BRANCH: "main", SHA: "abc123" },
        }),
    ],
  ];
  for (const [what, add] of others) {
    it(`triggerJenkins on a retry posts the build when the only build since is one ${what}`, async () => {
      await start();
      add(jenkins);
      const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), retry());
      expect(outcome.detail).to.match(/^queued as /);
      expect(jenkins.builds()).to.have.length(1);
    });
  }

  it("triggerJenkins on a retry does not take a build that started before the delivery was accepted, stamped by a Jenkins clock that runs ahead", async () => {
    // Jenkins' clock runs 60 s ahead of ours; its answers' Date header says so.
    await start({ clockAheadMs: 60_000 });
    const acceptedMs = Date.parse(acceptedAt);
    // Another delivery's build of the same values, 30 s before this delivery was accepted (at the commit before
    // this push): by Jenkins' clock, 30 s after.
    jenkins.addBuild({
      job: JOB,
      timestamp: acceptedMs - 30_000 + 60_000,
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    expect((await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), retry())).detail).to.match(
      /^queued as /,
    );
    // This delivery's own build, stamped by the same clock, is found.
    expect(
      (await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), retry(3))).publicDetail,
    ).to.equal("already started as build #2");
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins on a retry takes a build that left the queue within the clock margin of the acceptance when a value sent names the delivery (quiet period 0)", async () => {
    await start({ definitions: [...DEFINITIONS, { name: "DELIVERY" }] });
    const acceptedMs = Date.parse(acceptedAt);
    // The first attempt's build left the queue at once; by the Date header Jenkins' clock may be up to a second
    // ahead, a margin that covers this build.
    jenkins.addBuild({
      job: JOB,
      timestamp: acceptedMs,
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123", DELIVERY: "d-1" },
    });
    // Another delivery's build of the same values, a moment before this one was accepted: not taken.
    jenkins.addBuild({
      job: JOB,
      timestamp: acceptedMs - 1,
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123", DELIVERY: "d-1" },
    });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", DELIVERY: "d-1" },
    });
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(0);
  });

  it("triggerJenkins on a retry takes a build within the clock margin by the RemoteCause's note naming the delivery, and not by values naming none", async () => {
    await start({ triggerToken: "s3cret-trigger" });
    const acceptedMs = Date.parse(acceptedAt);
    const request = (cause?: string) =>
      jenkinsRequest(jenkins.url, {
        parameters: { BRANCH: "main", SHA: "abc123", token: "s3cret-trigger", ...(cause ? { cause } : {}) },
      });
    jenkins.addBuild({
      job: JOB,
      timestamp: acceptedMs,
      remote: { addr: "127.0.0.1", note: "hookgate delivery d-1" },
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    expect((await triggerJenkins(request(), testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    // The route's own cause names no delivery: within the margin the build may be the commit before's.
    jenkins.addBuild({
      job: JOB,
      timestamp: acceptedMs,
      remote: { addr: "127.0.0.1", note: "pushed" },
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    expect((await triggerJenkins(request("pushed"), testClients(), retry())).detail).to.match(/^queued as /);
  });

  it("matchingBuild compares the time of a build naming the delivery with the acceptance itself, and of any other with the acceptance moved by the clock margin", () => {
    const property = [{ parameterDefinitions: [{ name: "DELIVERY" }, { name: "BRANCH" }] }];
    const wanted = {
      user: "ci-bot",
      sinceMs: 1_000,
      deliveryId: "d-1",
      parameters: { DELIVERY: "build d-1", BRANCH: "main" },
    };
    const job = (timestamp: number, delivery: string) => ({
      property,
      builds: [
        {
          number: 5,
          timestamp,
          actions: [
            {
              parameters: [
                { name: "DELIVERY", value: delivery },
                { name: "BRANCH", value: "main" },
              ],
            },
            { causes: [{ userId: "ci-bot" }] },
          ],
        },
      ],
    });
    const found = { number: 5, url: undefined };
    expect(matchingBuild(job(1_000, "build d-1"), wanted, 1_900)).to.deep.equal(found);
    expect(matchingBuild(job(999, "build d-1"), wanted, 1_900)).to.equal(undefined);
    expect(matchingBuild(job(1_900, "build d-1"), wanted, 1_900)).to.deep.equal(found);
    // The same values, naming no delivery: only past the margin.
    const unnamed = { ...wanted, parameters: { DELIVERY: "build", BRANCH: "main" } };
    expect(matchingBuild(job(1_000, "build"), unnamed, 1_900)).to.equal(undefined);
    expect(matchingBuild(job(1_900, "build"), unnamed, 1_900)).to.deep.equal(found);
    expect(matchingBuild(job(1_000, "build d-1"), { ...wanted, deliveryId: "" }, 1_900)).to.equal(undefined);
  });

  it("sinceByJenkinsClock moves the acceptance by as far as the Date header lets Jenkins' clock be ahead, and not for one behind or none", () => {
    const sentAtMs = Date.parse("2026-12-07T01:00:00.400Z");
    const since = sentAtMs - 10_000;
    // Date: whole seconds. Jenkins answered at 01:01:00.x by its clock: at most 60.6 s ahead of ours.
    expect(sinceByJenkinsClock(since, "Mon, 07 Dec 2026 01:01:00 GMT", sentAtMs)).to.equal(since + 60_600);
    // The same second as ours: up to 0.6 s ahead.
    expect(sinceByJenkinsClock(since, "Mon, 07 Dec 2026 01:00:00 GMT", sentAtMs)).to.equal(since + 600);
    // Behind, or no Date that parses: the acceptance as it is.
    expect(sinceByJenkinsClock(since, "Mon, 07 Dec 2026 00:59:00 GMT", sentAtMs)).to.equal(since);
    expect(sinceByJenkinsClock(since, undefined, sentAtMs)).to.equal(since);
    expect(sinceByJenkinsClock(since, "yesterday", sentAtMs)).to.equal(since);
  });

  it("triggerJenkins on a retry takes the credentials' user in another case for the same Jenkins user", async () => {
    await start();
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.parse(acceptedAt) + 5_000,
      user: JENKINS_USER.toUpperCase(),
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), testClients(), retry());
    expect(outcome.publicDetail).to.equal("already started as build #1");
    expect(jenkins.builds()).to.have.length(0);
  });

  it("triggerJenkins on a retry compares a parameter the route does not send with the job's default, and ignores one the job does not define", async () => {
    await start({
      definitions: [
        ...DEFINITIONS,
        { name: "DRY_RUN", default: false },
        { name: "TARGET", default: "staging" },
      ],
    });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", DELIVERY: "d-1" },
    });
    // Another route's build of the same job: the same values sent, and TARGET=prod.
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.now(),
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123", DRY_RUN: false, TARGET: "prod" },
    });
    expect((await triggerJenkins(request, testClients(), retry())).detail).to.match(/^queued as /);
    expect(jenkins.jobBuilds.at(-1)?.parameters).to.deep.equal({
      BRANCH: "main",
      SHA: "abc123",
      DRY_RUN: false,
      TARGET: "staging",
    });
    // That build (#2) is this request's as Jenkins holds it: DELIVERY dropped, the defaults filled in.
    const again = await triggerJenkins(request, testClients(), retry(3));
    expect(again.publicDetail).to.equal("already started as build #2");
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins on a retry finds its build although that build's Jenkinsfile has since defined parameters it holds no entry for, sent or not", async () => {
    // As the retry reads the job: NEW (not sent, default "x") and TARGET (sent) were added by the pushed
    // Jenkinsfile while the first attempt's build ran, so that build holds neither.
    await start({ definitions: [...DEFINITIONS, { name: "NEW", default: "x" }, { name: "TARGET" }] });
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.now() + 5_000,
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", TARGET: "staging" },
    });
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(0);
  });

  it("triggerJenkins on a retry requests the build again rather than take one holding no entry for the parameter naming the delivery (another delivery's, queued before the job defined it)", async () => {
    // d-1's first attempt never reached Jenkins; d-2's build was queued before the Jenkinsfile defined DELIVERY.
    await start({ definitions: [...DEFINITIONS, { name: "DELIVERY" }] });
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.now() + 5_000,
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", DELIVERY: "d-1" },
    });
    expect((await triggerJenkins(request, testClients(), retry())).detail).to.match(/^queued as /);
    expect(jenkins.jobBuilds.at(-1)?.parameters).to.include({ DELIVERY: "d-1" });
  });

  it("matchingBuild skips a defined parameter a build holds no entry for only when no build holds every one, and never skips a value that differs", () => {
    const wanted = { user: "ci-bot", sinceMs: 1_000, parameters: { BRANCH: "main", DELIVERY: "d-1" } };
    const property = [
      {
        parameterDefinitions: [
          { name: "BRANCH", defaultParameterValue: { value: null } },
          { name: "DELIVERY", defaultParameterValue: { value: null } },
          { name: "NEW", defaultParameterValue: { value: "x" } },
        ],
      },
    ];
    const build = (number: number, parameters?: { name: string; value: unknown }[]) => ({
      number,
      timestamp: 2_000,
      actions: [...(parameters ? [{ parameters }] : []), { causes: [{ userId: "ci-bot" }] }],
    });
    const branch = { name: "BRANCH", value: "main" };
    const older = build(1, [branch]);
    const complete = build(2, [branch, { name: "DELIVERY", value: "d-1" }, { name: "NEW", value: "x" }]);
    expect(matchingBuild({ property, builds: [older] }, wanted)).to.deep.equal({ number: 1, url: undefined });
    expect(matchingBuild({ property, builds: [older, complete] }, wanted)).to.deep.equal({
      number: 2,
      url: undefined,
    });
    // Another delivery's build holding its own DELIVERY, or another NEW: not this one's.
    expect(
      matchingBuild({ property, builds: [build(3, [branch, { name: "DELIVERY", value: "d-2" }])] }, wanted),
    ).to.equal(undefined);
    expect(
      matchingBuild({ property, builds: [build(3, [branch, { name: "NEW", value: "prod" }])] }, wanted),
    ).to.equal(undefined);
    // A build without a ParametersAction was not started by /buildWithParameters: not a request with parameters.
    expect(matchingBuild({ property, builds: [build(4)] }, wanted)).to.equal(undefined);
    // DELIVERY's value sent names the delivery: a build without it may be any delivery's, never skipped.
    expect(matchingBuild({ property, builds: [older] }, { ...wanted, deliveryId: "d-1" })).to.equal(
      undefined,
    );
    // NEW (its default) is still skipped when DELIVERY is held.
    const named = build(5, [branch, { name: "DELIVERY", value: "d-1" }]);
    expect(matchingBuild({ property, builds: [named] }, { ...wanted, deliveryId: "d-1" })).to.deep.equal({
      number: 5,
      url: undefined,
    });
  });

  it("triggerJenkins on a retry does not take another route's build holding a value for a parameter whose default is empty (Jenkins shows null) as its own", async () => {
    await start({ definitions: [{ name: "BRANCH" }, { name: "TAG" }] });
    const request = jenkinsRequest(jenkins.url, { parameters: { BRANCH: "main" } });
    // The tag route's build of the same job, by the same user, since this delivery was accepted; this
    // delivery's first attempt never reached Jenkins.
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.now(),
      user: JENKINS_USER,
      parameters: { BRANCH: "main", TAG: "v1.2.0" },
    });
    expect((await triggerJenkins(request, testClients(), retry())).detail).to.match(/^queued as /);
    expect(jenkins.jobBuilds.at(-1)?.parameters).to.deep.equal({ BRANCH: "main", TAG: null });
    // Its own build holds TAG as null, as the definition's default shows it: that one is found.
    expect((await triggerJenkins(request, testClients(), retry(3))).publicDetail).to.equal(
      "already started as build #2",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("matchingBuild compares a null default with a null or empty value, and skips only a default that shows no value", () => {
    const wanted = { user: "ci-bot", sinceMs: 1_000, parameters: { BRANCH: "main" } };
    const property = [
      {
        parameterDefinitions: [
          { name: "BRANCH", defaultParameterValue: { value: null } },
          { name: "TAG", defaultParameterValue: { value: null } },
          { name: "PASSWORD", defaultParameterValue: { _class: "hudson.model.PasswordParameterValue" } },
          { name: "FILE", defaultParameterValue: null },
        ],
      },
    ];
    const build = (number: number, tag: unknown) => ({
      number,
      timestamp: 2_000,
      actions: [
        {
          parameters: [{ name: "BRANCH", value: "main" }, { name: "TAG", value: tag }, { name: "PASSWORD" }],
        },
        { causes: [{ userId: "ci-bot" }] },
      ],
    });
    expect(matchingBuild({ property, builds: [build(3, "v1.2.0")] }, wanted)).to.equal(undefined);
    expect(matchingBuild({ property, builds: [build(3, "v1.2.0"), build(2, null)] }, wanted)).to.deep.equal({
      number: 2,
      url: undefined,
    });
    expect(matchingBuild({ property, builds: [build(1, "")] }, wanted)).to.deep.equal({
      number: 1,
      url: undefined,
    });
  });

  it("triggerJenkins on a retry compares a boolean parameter Jenkins gives typed as the text sent", async () => {
    await start({ definitions: [{ name: "DRY_RUN", default: false }] });
    const request = jenkinsRequest(jenkins.url, { parameters: { DRY_RUN: "true" } });
    jenkins.addBuild({ job: JOB, timestamp: Date.now(), user: JENKINS_USER, parameters: { DRY_RUN: false } });
    expect((await triggerJenkins(request, testClients(), retry())).detail).to.match(/^queued as /);
    expect(jenkins.jobBuilds.at(-1)?.parameters).to.deep.equal({ DRY_RUN: true });
    expect((await triggerJenkins(request, testClients(), retry(3))).publicDetail).to.equal(
      "already started as build #2",
    );
  });

  for (const sent of ["True", "TRUE", "yes"]) {
    it(`triggerJenkins on a retry finds its own build of a boolean parameter sent as "${sent}", read as Jenkins reads it (Boolean.valueOf)`, async () => {
      await start({ definitions: [{ name: "BRANCH" }, { name: "DRY_RUN", default: false }] });
      const request = jenkinsRequest(jenkins.url, { parameters: { BRANCH: "main", DRY_RUN: sent } });
      // The first attempt's request reached Jenkins; its answer was lost.
      jenkins.script({ status: 504, build: true });
      await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
      expect(jenkins.jobBuilds.at(-1)?.parameters).to.deep.equal({ BRANCH: "main", DRY_RUN: sent !== "yes" });
      expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
        "already started as build #1",
      );
      expect(jenkins.builds()).to.have.length(1);
    });
  }

  it("matchingBuild reads a value sent for a plugin's boolean parameter (a default that is a JSON boolean) as Jenkins reads it (Boolean.valueOf)", () => {
    const job = (value: boolean) => ({
      property: [
        {
          parameterDefinitions: [
            {
              _class: "com.wangyin.parameter.HideableBooleanParameterDefinition",
              name: "DEPLOY",
              type: "HideableBooleanParameterDefinition",
              defaultParameterValue: { value: false },
            },
          ],
        },
      ],
      builds: [
        {
          number: 4,
          timestamp: 2_000,
          actions: [{ parameters: [{ name: "DEPLOY", value }] }, { causes: [{ userId: "ci-bot" }] }],
        },
      ],
    });
    const wanted = (sent: string) => ({ user: "ci-bot", sinceMs: 1_000, parameters: { DEPLOY: sent } });
    expect(matchingBuild(job(true), wanted("True"))).to.deep.equal({ number: 4, url: undefined });
    expect(matchingBuild(job(false), wanted("yes"))).to.deep.equal({ number: 4, url: undefined });
    expect(matchingBuild(job(false), wanted("true"))).to.equal(undefined);
  });

  it('triggerJenkins on a retry finds its own build of a string parameter with "Trim the string" on, sent with a trailing newline (a commit message)', async () => {
    await start({ definitions: [{ name: "BRANCH" }, { name: "MESSAGE", trim: true }] });
    // Bitbucket Cloud's push payload gives each commit's message with its final newline.
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", MESSAGE: " Bump version to 1.4.1\n" },
    });
    // The first attempt's request reached Jenkins; its answer was lost.
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect(jenkins.jobBuilds.at(-1)?.parameters).to.deep.equal({
      BRANCH: "main",
      MESSAGE: "Bump version to 1.4.1",
    });
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("matchingBuild takes a string parameter's value trimmed as Java trims (up to U+0020), and a text parameter's only as sent", () => {
    const job = (type: string, held: string) => ({
      property: [
        { parameterDefinitions: [{ name: "MESSAGE", type, defaultParameterValue: { value: null } }] },
      ],
      builds: [
        {
          number: 5,
          timestamp: 2_000,
          actions: [{ parameters: [{ name: "MESSAGE", value: held }] }, { causes: [{ userId: "ci-bot" }] }],
        },
      ],
    });
    const wanted = (sent: string) => ({ user: "ci-bot", sinceMs: 1_000, parameters: { MESSAGE: sent } });
    const found = { number: 5, url: undefined };
    expect(matchingBuild(job("StringParameterDefinition", "fix"), wanted("\t fix\r\n"))).to.deep.equal(found);
    expect(matchingBuild(job("StringParameterDefinition", "fix\n"), wanted("fix\n"))).to.deep.equal(found);
    // Java's trim leaves a no-break space; a build holding "fix" is not of "fix\u00a0".
    expect(matchingBuild(job("StringParameterDefinition", "fix"), wanted("fix\u00a0"))).to.equal(undefined);
    expect(matchingBuild(job("StringParameterDefinition", "fix"), wanted("fix it\n"))).to.equal(undefined);
    // TextParameterDefinition.createValue does not trim.
    expect(matchingBuild(job("TextParameterDefinition", "fix"), wanted("fix\n"))).to.equal(undefined);
    expect(matchingBuild(job("TextParameterDefinition", "fix\n"), wanted("fix\n"))).to.deep.equal(found);
  });

  it("matchingBuild takes a build holding a string parameter exactly as sent before a newer one holding it trimmed: on a job that does not trim, the trimmed one is another delivery's", () => {
    const build = (number: number, held: string) => ({
      number,
      timestamp: 2_000 + number,
      actions: [{ parameters: [{ name: "MESSAGE", value: held }] }, { causes: [{ userId: "ci-bot" }] }],
    });
    const job = {
      property: [
        {
          parameterDefinitions: [
            { name: "MESSAGE", type: "StringParameterDefinition", defaultParameterValue: { value: null } },
          ],
        },
      ],
      // Newest first, as Jenkins lists them: #8 another delivery's "Release", #7 this one's "Release\n".
      builds: [build(8, "Release"), build(7, "Release\n")],
    };
    const wanted = { user: "ci-bot", sinceMs: 1_000, parameters: { MESSAGE: "Release\n" } };
    expect(matchingBuild(job, wanted)).to.deep.equal({ number: 7, url: undefined });
  });

  it("matchingBuild trims a space (U+0020) at the end of a string parameter as Java does, and knows a string definition by its _class alone", () => {
    const job = (definition: Record<string, unknown>) => ({
      property: [
        {
          parameterDefinitions: [{ name: "MESSAGE", defaultParameterValue: { value: null }, ...definition }],
        },
      ],
      builds: [
        {
          number: 5,
          timestamp: 2_000,
          actions: [{ parameters: [{ name: "MESSAGE", value: "fix" }] }, { causes: [{ userId: "ci-bot" }] }],
        },
      ],
    });
    const wanted = (sent: string) => ({ user: "ci-bot", sinceMs: 1_000, parameters: { MESSAGE: sent } });
    const found = { number: 5, url: undefined };
    expect(matchingBuild(job({ type: "StringParameterDefinition" }), wanted("fix "))).to.deep.equal(found);
    expect(
      matchingBuild(job({ _class: "hudson.model.StringParameterDefinition" }), wanted("fix\n")),
    ).to.deep.equal(found);
    expect(matchingBuild(job({ _class: "hudson.model.TextParameterDefinition" }), wanted("fix\n"))).to.equal(
      undefined,
    );
  });

  it("triggerJenkins with the job's trigger token sends the delivery in the cause, and on a retry finds its build by that RemoteCause's note", async () => {
    await start({ triggerToken: "s3cret-trigger" });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", token: "s3cret-trigger" },
    });
    // Another delivery's build of the same values by the same token, since this one was accepted.
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.parse(acceptedAt) + 5_000,
      remote: { addr: "127.0.0.1", note: "hookgate delivery d-0" },
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect(jenkins.builds()[0]?.form).to.deep.equal({
      BRANCH: "main",
      SHA: "abc123",
      token: "s3cret-trigger",
      cause: "hookgate delivery d-1",
    });
    expect(jenkins.jobBuilds.at(-1)?.remote).to.deep.equal({
      addr: "127.0.0.1",
      note: "hookgate delivery d-1",
    });
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #2",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins with the job's trigger token and the route's own cause matches the RemoteCause by that cause", async () => {
    await start({ triggerToken: "s3cret-trigger" });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", token: "s3cret-trigger", cause: "push to main by octocat" },
    });
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect(jenkins.builds()[0]?.form.cause).to.equal("push to main by octocat");
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins with the trigger token, whose first attempt queued nothing, posts its build on the retry rather than take the credentials' user's build of the same values (another route's) as its own", async () => {
    await start({ triggerToken: "s3cret-trigger" });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", token: "s3cret-trigger" },
    });
    // An earlier delivery of the route, by the token: the job has a trigger token.
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.parse(acceptedAt) - 60_000,
      remote: { addr: "127.0.0.1", note: "hookgate delivery d-0" },
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    // Another route (no token: a UserIdCause of the same user) built the same commit since the acceptance.
    jenkins.addBuild({
      job: JOB,
      timestamp: Date.parse(acceptedAt) + 5_000,
      user: JENKINS_USER,
      parameters: { BRANCH: "main", SHA: "abc123" },
    });
    jenkins.script({ status: 503 });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    const outcome = await triggerJenkins(request, testClients(), retry());
    expect(outcome.detail).to.match(/^queued as /);
    expect(jenkins.jobBuilds.at(-1)?.remote?.note).to.equal("hookgate delivery d-1");
  });

  it("triggerJenkins with a token the job has no trigger token for (Jenkins records the user) finds on a retry the build its lost request started", async () => {
    // No trigger token: Jenkins ignores `token` and records the credentials' user, and no build lists a RemoteCause.
    await start();
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", SHA: "abc123", token: "s3cret-trigger" },
    });
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect(jenkins.jobBuilds[0]?.user).to.equal(JENKINS_USER);
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("matchingBuild with a note takes only a RemoteCause (told by its _class or its addr) with that note once any build lists a RemoteCause, and the user's build naming the delivery in a value either way", () => {
    const wanted = {
      user: "ci-bot",
      sinceMs: 1_000,
      deliveryId: "d-1",
      note: "hookgate delivery d-1",
      parameters: { BRANCH: "main", token: "t" },
    };
    const build = (number: number, cause: Record<string, unknown>, branch = "main") => ({
      number,
      timestamp: 5_000,
      actions: [{ parameters: [{ name: "BRANCH", value: branch }] }, { causes: [cause] }],
    });
    const job = (...builds: unknown[]) => ({
      property: [{ parameterDefinitions: [{ name: "BRANCH" }] }],
      builds,
    });
    const user = { _class: "hudson.model.Cause$UserIdCause", userId: "ci-bot" };
    const other = { addr: "10.0.0.9", note: "hookgate delivery d-0" };
    const own = { addr: "10.0.0.9", note: "hookgate delivery d-1" };
    // A RemoteCause listed (before the acceptance too): the user's build is another route's.
    expect(matchingBuild(job(build(2, user), { ...build(1, other), timestamp: 0 }), wanted)).to.equal(
      undefined,
    );
    expect(
      matchingBuild(
        job(build(3, user), build(2, { _class: "hudson.model.Cause$RemoteCause", ...own })),
        wanted,
      ),
    ).to.deep.equal({
      number: 2,
      url: undefined,
    });
    expect(matchingBuild(job(build(3, user), build(2, own)), wanted)).to.deep.equal({
      number: 2,
      url: undefined,
    });
    // None listed: no trigger token, the user's build is the request's.
    expect(matchingBuild(job(build(2, user)), wanted)).to.deep.equal({ number: 2, url: undefined });
    // A value sent naming the delivery makes the user's build this delivery's, RemoteCauses listed or not.
    const named = { ...wanted, parameters: { BRANCH: "main d-1", token: "t" } };
    expect(matchingBuild(job(build(2, user, "main d-1"), build(1, other)), named)).to.deep.equal({
      number: 2,
      url: undefined,
    });
  });

  it("triggerJenkins on a retry finds the build its lost request started when a value held a lone surrogate, sent and compared as U+FFFD", async () => {
    await start();
    // A commit message a host cut inside an emoji (it counts UTF-16 units).
    const request = jenkinsRequest(jenkins.url, { parameters: { BRANCH: "main", SHA: "ship it \uD83D" } });
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect(jenkins.jobBuilds[0]?.parameters?.SHA).to.equal("ship it \uFFFD");
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds(), "the build was not posted a second time").to.have.length(1);
  });

  it("triggerJenkins with the trigger token and a route's cause holding a lone surrogate matches the RemoteCause by the cause as sent (U+FFFD)", async () => {
    await start({ triggerToken: "s3cret-trigger" });
    const request = jenkinsRequest(jenkins.url, {
      parameters: { BRANCH: "main", token: "s3cret-trigger", cause: "push: ship it \uD83D" },
    });
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect(jenkins.jobBuilds[0]?.remote?.note).to.equal("push: ship it \uFFFD");
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins with the trigger token alone posts /build, which starts a job without parameters, with the token and the cause in its form", async () => {
    await start({ parameterized: [], triggerToken: "s3cret-trigger" });
    const request = jenkinsRequest(jenkins.url, { parameters: { token: "s3cret-trigger", delay: "0sec" } });
    const outcome = await triggerJenkins(request, testClients(), retry(1));
    expect(outcome.status).to.equal("done");
    expect(jenkins.requests.map((r) => `${r.method} ${r.endpoint}`)).to.deep.equal(["POST build"]);
    expect(jenkins.builds()[0]?.form).to.deep.equal({
      token: "s3cret-trigger",
      delay: "0sec",
      cause: "hookgate delivery d-1",
    });
  });

  it("triggerJenkins on a retry of a route sending the trigger token alone finds the build its lost request started of a job without parameters", async () => {
    await start({ parameterized: [], triggerToken: "s3cret-trigger" });
    const request = jenkinsRequest(jenkins.url, { parameters: { token: "s3cret-trigger" } });
    jenkins.script({ status: 504, build: true });
    await rejectsWithActionError(triggerJenkins(request, testClients(), retry(1)));
    expect((await triggerJenkins(request, testClients(), retry())).publicDetail).to.equal(
      "already started as build #1",
    );
    expect(jenkins.builds()).to.have.length(1);
  });

  it("triggerJenkins on a retry matches a job without parameters by the user and the time only", async () => {
    await start({ parameterized: [] });
    const request = jenkinsRequest(jenkins.url, { parameters: {} });
    jenkins.addBuild({ job: JOB, timestamp: Date.parse(acceptedAt) - 1, user: JENKINS_USER });
    expect((await triggerJenkins(request, testClients(), retry())).detail).to.match(/^queued as /);
    expect((await triggerJenkins(request, testClients(), retry(3))).publicDetail).to.equal(
      "already started as build #2",
    );
    expect(jenkins.builds().map((b) => b.endpoint)).to.deep.equal(["build"]);
  });

  for (const status of [403, 404, 500]) {
    it(`triggerJenkins on a retry posts the build, with a warning, when Jenkins answers ${status} to the look for builds`, async () => {
      await start({ buildsApiStatus: status });
      jenkins.addBuild({
        job: JOB,
        timestamp: Date.now(),
        user: JENKINS_USER,
        parameters: { BRANCH: "main", SHA: "abc123" },
      });
      const clients = testClients();
      const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), clients, retry());
      expect(outcome.detail).to.match(/^queued as /);
      expect(jenkins.builds()).to.have.length(1);
      const warnings = clients.logs.filter((l) => l.level === "warn");
      expect(warnings).to.deep.equal([
        {
          msg: "jenkins earlier build not looked up: requesting the build",
          level: "warn",
          job: JOB,
          error: `Jenkins remote API answered ${status}`,
          attempt: 2,
          deliveryId: "d-1",
        },
      ]);
    });
  }

  it("triggerJenkins on a retry posts the build, with a warning naming no credentials, when the look for builds times out", async () => {
    await start({ buildsApiStatus: "hang" });
    // The limit holds for the build request too, which must not hit it on a busy machine.
    const clients = testClients({ timeoutMs: 2_000 });
    const outcome = await triggerJenkins(jenkinsRequest(jenkins.url), clients, retry());
    expect(outcome.detail).to.match(/^queued as /);
    expect(jenkins.builds()).to.have.length(1);
    const [warning, ...more] = clients.logs.filter((l) => l.level === "warn");
    expect(more).to.deep.equal([]);
    expect(warning?.msg).to.equal("jenkins earlier build not looked up: requesting the build");
    expect(String(warning?.error)).to.match(/Jenkins remote API/);
    const basic = Buffer.from(`${JENKINS_USER}:${JENKINS_TOKEN}`).toString("base64");
    expect(JSON.stringify(clients.logs)).not.to.contain(JENKINS_TOKEN).and.not.contain(basic);
  });

  for (const body of ["null", "5", "[]"]) {
    it(`triggerJenkins on a retry posts the build, with a warning, when Jenkins answers the look for builds with the JSON ${body} (not a job's, nor a folder's)`, async () => {
      const server = await scriptedServer(
        (req, url): Reply =>
          req.method === "GET"
            ? { status: 200, headers: { "content-type": "application/json" }, body }
            : { status: 201, headers: { location: `${url}/queue/item/3/` } },
      );
      try {
        const clients = testClients();
        const outcome = await triggerJenkins(jenkinsRequest(server.url), clients, retry());
        expect(outcome.detail).to.equal(`queued as ${server.url}/queue/item/3/`);
        expect(clients.logs.filter((l) => l.level === "warn")).to.deep.equal([
          {
            msg: "jenkins earlier build not looked up: requesting the build",
            level: "warn",
            job: JOB,
            error: "Jenkins remote API answered 200 with JSON that is not an object",
            attempt: 2,
            deliveryId: "d-1",
          },
        ]);
      } finally {
        await server.close();
      }
    });
  }

  it("triggerJenkins on a retry schedules a multibranch project's scan as on a first attempt (it lists no builds)", async () => {
    await start({ computedFolders: ["org/repo"] });
    const outcome = await triggerJenkins(
      jenkinsRequest(jenkins.url, { job: ["org", "repo"], parameters: {} }),
      testClients(),
      retry(),
    );
    expect(outcome.detail).to.equal("scan of org/repo scheduled (302)");
  });

  it("matchingBuild(job, wanted) takes the newest build that matches and skips builds of other shapes", () => {
    const wanted = { user: "ci-bot", sinceMs: 1_000, parameters: { BRANCH: "main" } };
    const build = (number: number, timestamp: number, extra: Record<string, unknown> = {}) => ({
      number,
      timestamp,
      url: `https://ci/job/x/${number}/`,
      actions: [
        { _class: "hudson.model.ParametersAction", parameters: [{ name: "BRANCH", value: "main" }] },
        { _class: "hudson.model.CauseAction", causes: [{ userId: "ci-bot" }] },
      ],
      ...extra,
    });
    const property = [{ parameterDefinitions: [{ name: "BRANCH" }] }];
    expect(matchingBuild({ property, builds: [build(3, 3_000), build(2, 2_000)] }, wanted)).to.deep.equal({
      number: 3,
      url: "https://ci/job/x/3/",
    });
    expect(
      matchingBuild(
        { property, builds: [null, { number: "4" }, build(3, 999), build(2, 1_000, { url: 7 })] },
        wanted,
      ),
    ).to.deep.equal({ number: 2, url: undefined });
    expect(matchingBuild({ jobs: [] }, wanted)).to.equal("not-a-job");
    expect(
      matchingBuild({ builds: [build(2, 2_000)] }, wanted),
      "parameters to a job that defines none",
    ).to.equal(undefined);
  });
});
