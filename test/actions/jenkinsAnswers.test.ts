// triggerJenkins against a controller whose every answer the test writes: the crumb issuer's, the build
// endpoints' and the remote API's (which answers only the fields its tree asks for, as Jenkins does).
import { expect } from "chai";
import { jenkinsBaseUrl, jobPath, triggerJenkins } from "../../src/actions/jenkins";
import { ActionError } from "../../src/core/errors";
import type { JenkinsRequest } from "../../src/core/types";
import { type Reply, type ScriptedServer, type Seen, scriptedServer } from "../support/scriptedServer";
import { rejectsWithActionError, testClients } from "./helpers";

type ScriptedJenkins = ScriptedServer;
const scriptedJenkins = scriptedServer;

/**
 * A remote API answer with only the top-level fields `tree` names, as Jenkins gives it, a list cut to the range
 * that follows its field (`jobs[name]{0,1}`).
 */
function apiAnswer(req: Seen, item: Record<string, unknown>): Reply {
  const tree = new URL(req.url, "http://x").searchParams.get("tree") ?? "";
  const picked = Object.fromEntries(
    Object.entries(item)
      .filter(([key]) => new RegExp(`(^|,)${key}(\\[|,|$)`).test(tree))
      .map(([key, value]) => {
        const range = new RegExp(`(^|,)${key}(\\[[^\\]]*\\])?\\{(\\d+),(\\d+)\\}`).exec(tree);
        return range && Array.isArray(value)
          ? [key, value.slice(Number(range[3]), Number(range[4]))]
          : [key, value];
      }),
  );
  return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(picked) };
}

const isApi = (req: Seen) => req.method === "GET" && req.url.includes("/api/json");
const posts = (jenkins: ScriptedJenkins) => jenkins.seen.filter((req) => req.method === "POST");
const apiCalls = (jenkins: ScriptedJenkins) => jenkins.seen.filter(isApi);

function request(url: string, overrides: Partial<JenkinsRequest> = {}): JenkinsRequest {
  return {
    type: "jenkins",
    jenkins: { url, credentials: "hookgate/jenkins", crumb: false },
    job: ["api", "build"],
    parameters: { BRANCH: "main" },
    ...overrides,
  };
}
const withCrumb = (url: string) =>
  request(url, { jenkins: { url, credentials: "hookgate/jenkins", crumb: true } });
const context = { deliveryId: "d-7" };
const JSON_HEADERS = { "content-type": "application/json" };
/** Jenkins' answer to a build request it queued: 201 with the queue item's URL. */
const queued = (url: string): Reply => ({ status: 201, headers: { location: `${url}/queue/item/1/` } });
const crumbAnswer: Reply = {
  status: 200,
  headers: JSON_HEADERS,
  body: JSON.stringify({ crumbRequestField: "Jenkins-Crumb", crumb: "c0ffee" }),
};

describe("Function: triggerJenkins and the crumb issuer's answers", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  const refusals: Array<[string, Reply, boolean, RegExp]> = [
    [
      "404 (a url without Jenkins' context path, or CSRF protection off)",
      { status: 404 },
      false,
      /^Jenkins crumb issuer not found \(404\): check the Jenkins url \(its context path, e\.g\. \/jenkins\); or, if CSRF protection is disabled, set crumb: false$/,
    ],
    ["401", { status: 401 }, false, /^Jenkins crumb issuer rejected the credentials \(401\)$/],
    [
      "403",
      { status: 403 },
      false,
      /^Jenkins crumb issuer refused the request \(403\): the user of hookgate\/jenkins lacks Overall\/Read permission/,
    ],
    ["503", { status: 503 }, true, /^Jenkins crumb issuer answered 503$/],
    [
      "200 with a page that is not JSON",
      { status: 200, body: "<html>" },
      true,
      /^Jenkins crumb issuer answered 200 with a body that is not JSON$/,
    ],
    [
      "200 with an HTML sign-in page (an SSO proxy in front of Jenkins)",
      {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: "<html><form action='/oauth2/sign_in'>Sign in</form></html>",
      },
      false,
      /^Jenkins crumb issuer answered 200 with an HTML page instead of a crumb: that is not Jenkins' answer to a crumb request \(a sign-in page of a proxy in front of Jenkins\?\); nothing was queued\. Point jenkins\.url at Jenkins itself/,
    ],
    [
      "203 with an XHTML page",
      { status: 203, headers: { "content-type": "application/xhtml+xml" }, body: "<html/>" },
      false,
      /^Jenkins crumb issuer answered 203 with an HTML page instead of a crumb/,
    ],
    [
      "200 without crumbRequestField",
      { status: 200, headers: JSON_HEADERS, body: '{"crumb":"c0ffee"}' },
      true,
      /without crumbRequestField\/crumb/,
    ],
    [
      "200 without crumb",
      { status: 200, headers: JSON_HEADERS, body: '{"crumbRequestField":"Jenkins-Crumb"}' },
      true,
      /without crumbRequestField\/crumb/,
    ],
    [
      "200 with the JSON null",
      { status: 200, headers: JSON_HEADERS, body: "null" },
      true,
      /^Jenkins crumb issuer answered without crumbRequestField\/crumb$/,
    ],
    [
      "200 with a crumb that is no string",
      { status: 200, headers: JSON_HEADERS, body: '{"crumbRequestField":"Jenkins-Crumb","crumb":7}' },
      true,
      /without crumbRequestField\/crumb/,
    ],
    ["a dropped connection", "drop", true, /^Jenkins crumb issuer could not be reached/],
    [
      "302 without a Location",
      { status: 302 },
      false,
      /^Jenkins crumb issuer answered a redirect \(302\) without a Location instead of a crumb; check the Jenkins url$/,
    ],
    [
      "302 to its sign-in page",
      { status: 302, headers: { location: "/login?from=%2FcrumbIssuer%2Fapi%2Fjson" } },
      false,
      /^Jenkins crumb issuer answered a redirect \(302\) to http:\/\/127\.0\.0\.1:\d+\/login instead of a crumb: a sign-in page; the request was not taken as signed in: check the user and API token/,
    ],
    [
      "303 to an SSO on another host",
      { status: 303, headers: { location: "https://sso.example.com/authorize?state=st4te" } },
      false,
      /^Jenkins crumb issuer answered a redirect \(303\) to https:\/\/sso\.example\.com\/authorize instead of a crumb: another host; a sign-in \(an SSO\) of something in front of Jenkins took the request/,
    ],
  ];
  for (const [what, reply, retryable, message] of refusals) {
    it(`triggerJenkins in crumb mode is ${retryable ? "retryable" : "final"}, and posts no build, when the crumb issuer answers ${what}`, async () => {
      jenkins = await scriptedJenkins((req) =>
        req.url === "/crumbIssuer/api/json" ? reply : { status: 201 },
      );
      const err = await rejectsWithActionError(
        triggerJenkins(withCrumb(jenkins.url), testClients(), context),
      );
      expect(err.retryable).to.equal(retryable);
      expect(err.message).to.match(message);
      expect(posts(jenkins)).to.have.length(0);
    });
  }

  it("triggerJenkins sends the crumb and only the name=value pairs of the issuer's cookies, without their attributes", async () => {
    jenkins = await scriptedJenkins((req, url) =>
      req.method === "GET"
        ? {
            ...crumbAnswer,
            headers: {
              ...JSON_HEADERS,
              "set-cookie": [
                "JSESSIONID.a1=node0x; Path=/; HttpOnly",
                "route=b2 ; Secure",
                "flag; Path=/",
                "c3=x",
              ],
            },
          }
        : queued(url),
    );
    await triggerJenkins(withCrumb(jenkins.url), testClients(), context);
    const [build] = posts(jenkins);
    expect(build?.headers["jenkins-crumb"]).to.equal("c0ffee");
    expect(build?.headers.cookie).to.equal("JSESSIONID.a1=node0x; route=b2; c3=x");
  });

  it("triggerJenkins sends no Cookie header when the crumb issuer sets no cookie", async () => {
    jenkins = await scriptedJenkins((req, url) => (req.method === "GET" ? crumbAnswer : queued(url)));
    const outcome = await triggerJenkins(withCrumb(jenkins.url), testClients(), context);
    expect(outcome.status).to.equal("done");
    const [build] = posts(jenkins);
    expect(build?.headers["jenkins-crumb"]).to.equal("c0ffee");
    expect(build?.headers).to.not.have.property("cookie");
  });
});

describe("Function: triggerJenkins and the build endpoint's answers", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  const queued: Array<[string, (url: string) => Reply, { detail: string; publicDetail: string }]> = [
    [
      "201 with queue item 5 and an HTML body",
      (url) => ({
        status: 201,
        headers: { location: `${url}/queue/item/5/`, "content-type": "text/html" },
        body: "<html/>",
      }),
      { detail: "queued as {url}/queue/item/5/", publicDetail: "queued as queue item 5" },
    ],
    [
      "201 with queue item 42",
      (url) => ({ status: 201, headers: { location: `${url}/queue/item/42/` } }),
      { detail: "queued as {url}/queue/item/42/", publicDetail: "queued as queue item 42" },
    ],
    [
      "201 with queue item 42 without its trailing slash",
      (url) => ({ status: 201, headers: { location: `${url}/queue/item/42` } }),
      { detail: "queued as {url}/queue/item/42", publicDetail: "queued as queue item 42" },
    ],
    [
      "201 with a Location past a queue item",
      (url) => ({ status: 201, headers: { location: `${url}/queue/item/42/api` } }),
      { detail: "queued as {url}/queue/item/42/api", publicDetail: "queued (201)" },
    ],
    [
      "201 with a relative Location and a token in its query",
      () => ({ status: 201, headers: { location: "/queue/item/7/?token=s3cr3t-value#x" } }),
      { detail: "queued as /queue/item/7/", publicDetail: "queued as queue item 7" },
    ],
    [
      "201 with user info in its Location",
      (url) => ({
        status: 201,
        headers: { location: `${url.replace("//", "//bot:s3cr3t@")}/queue/item/9/` },
      }),
      { detail: "queued as {url}/queue/item/9/", publicDetail: "queued as queue item 9" },
    ],
    [
      "303 with queue item 6 (merged into an item already queued)",
      (url) => ({ status: 303, headers: { location: `${url}/queue/item/6/` } }),
      {
        detail: "merged into an item already queued ({url}/queue/item/6/)",
        publicDetail: "merged into an item already queued",
      },
    ],
  ];
  for (const [what, reply, expected] of queued) {
    it(`triggerJenkins is done, saying what was queued, when the build endpoint answers ${what}`, async () => {
      jenkins = await scriptedJenkins((_req, url) => reply(url));
      const outcome = await triggerJenkins(request(jenkins.url), testClients(), context);
      expect(outcome).to.deep.equal({
        status: "done",
        detail: expected.detail.replace("{url}", jenkins.url),
        publicDetail: expected.publicDetail,
      });
    });
  }

  const refused: Array<[string, (url: string) => Reply, boolean, RegExp]> = [
    ["300 (the end of the 2xx range)", () => ({ status: 300 }), false, /answered a redirect \(300\)/],
    ["302 without a Location", () => ({ status: 302 }), false, /answered a redirect \(302\)/],
    [
      "302 to a Location that is not a URL",
      () => ({ status: 302, headers: { location: "http://[::1" } }),
      false,
      /answered a redirect \(302\)/,
    ],
    [
      "200 with an HTML page and no Location (a proxy's sign-in page)",
      () => ({
        status: 200,
        headers: { "content-type": "text/html;charset=utf-8" },
        body: "<html>Sign in</html>",
      }),
      false,
      /answered 200 with an HTML page and no queue item: .*nothing was queued/,
    ],
    [
      "201 with an XHTML page and no Location",
      () => ({ status: 201, headers: { "content-type": "Application/XHTML+XML" }, body: "<html/>" }),
      false,
      /answered 201 with an HTML page and no queue item/,
    ],
    [
      "201 without a Location",
      () => ({ status: 201 }),
      false,
      /^Jenkins job api\/build answered 201 without a queue item \(no Location\): .*whether a build was queued is unknown/,
    ],
    ["200 without a Location", () => ({ status: 200 }), false, /answered 200 without a queue item/],
    ["204 (no content, no Location)", () => ({ status: 204 }), false, /answered 204 without a queue item/],
    [
      "202 with a JSON body and no Location (a gateway that accepts for later)",
      () => ({ status: 202, headers: { "content-type": "application/json" }, body: '{"accepted":true}' }),
      false,
      /answered 202 without a queue item/,
    ],
    [
      "200 with a JSON body and no Location",
      () => ({ status: 200, headers: { "content-type": "application/json" }, body: "{}" }),
      false,
      /answered 200 without a queue item/,
    ],
    [
      '500 "cannot be recomputed" (a disabled multibranch project or organization folder)',
      () => ({
        status: 500,
        headers: { "content-type": "text/plain;charset=UTF-8" },
        body: "java.io.IOException: api/build cannot be recomputed\n\tat com.cloudbees.hudson.plugins.folder.computed.ComputedFolder.doBuild(ComputedFolder.java:412)\n",
      }),
      false,
      /^Jenkins job api\/build answered 500 "cannot be recomputed": it is a multibranch project or organization folder that is disabled/,
    ],
    [
      "500 with Jenkins' Oops page",
      () => ({ status: 500, headers: { "content-type": "text/html" }, body: "<html><h1>Oops!</h1></html>" }),
      true,
      /^Jenkins job api\/build answered 500$/,
    ],
    [
      "503 with a Location to the job itself",
      (url) => ({ status: 503, headers: { location: `${url}/job/api/job/build/` } }),
      true,
      /answered 503$/,
    ],
    [
      "404 with a Location to the job itself",
      (url) => ({ status: 404, headers: { location: `${url}/job/api/job/build/` } }),
      false,
      /not found \(404\): no such job, or one the user of hookgate\/jenkins may not see/,
    ],
  ];
  for (const [what, reply, retryable, message] of refused) {
    it(`triggerJenkins is ${retryable ? "retryable" : "final"}, without asking the remote API, when the build endpoint answers ${what}`, async () => {
      jenkins = await scriptedJenkins((req, url) =>
        isApi(req) ? apiAnswer(req, { nextBuildNumber: 2 }) : reply(url),
      );
      const err = await rejectsWithActionError(
        triggerJenkins(request(jenkins.url, { parameters: {} }), testClients(), context),
      );
      expect(err.retryable).to.equal(retryable);
      expect(err.message).to.match(message);
      expect(apiCalls(jenkins)).to.have.length(0);
    });
  }

  it("triggerJenkins fails final on a 404, saying the job may exist but be hidden from the credentials' user (no Job/Read or Job/Discover on it or a folder above)", async () => {
    jenkins = await scriptedJenkins(() => ({
      status: 404,
      headers: { "content-type": "text/html" },
      body: "Not Found",
    }));
    const err = await rejectsWithActionError(triggerJenkins(request(jenkins.url), testClients(), context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(
      "Jenkins job api/build not found (404): no such job, or one the user of hookgate/jenkins may not see: " +
        "Jenkins answers 404 for a job its user lacks Job/Read and Job/Discover on (on the job or a folder " +
        "above it, with matrix authorization)",
    );
  });

  it("triggerJenkins fails final with the status, not as a redirect, when /buildWithParameters answers 400", async () => {
    jenkins = await scriptedJenkins(() => ({ status: 400 }));
    const err = await rejectsWithActionError(triggerJenkins(request(jenkins.url), testClients(), context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal("Jenkins job api/build answered 400");
  });

  it("triggerJenkins fails final, saying so, when a job answers 400 to /build and to /buildWithParameters", async () => {
    jenkins = await scriptedJenkins(() => ({ status: 400 }));
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { parameters: {} }), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal("Jenkins job api/build answered 400 to /build and to /buildWithParameters");
    expect(posts(jenkins).map((req) => req.url)).to.deep.equal([
      "/job/api/job/build/build",
      "/job/api/job/build/buildWithParameters",
    ]);
  });

  it("triggerJenkins logs the queued build with its job, status, queue item and delivery id", async () => {
    jenkins = await scriptedJenkins((_req, url) => ({
      status: 201,
      headers: { location: `${url}/queue/item/5/` },
    }));
    const clients = testClients();
    await triggerJenkins(request(jenkins.url), clients, context);
    expect(clients.logs).to.deep.equal([
      {
        msg: "jenkins build queued",
        job: "api/build",
        status: 201,
        queueItem: `${jenkins.url}/queue/item/5/`,
        deliveryId: "d-7",
      },
    ]);
  });

  it("triggerJenkins logs a build merged into a queued item with its job, queue item and delivery id", async () => {
    jenkins = await scriptedJenkins((_req, url) => ({
      status: 303,
      headers: { location: `${url}/queue/item/6/` },
    }));
    const clients = testClients();
    await triggerJenkins(request(jenkins.url), clients, context);
    expect(clients.logs).to.deep.equal([
      {
        msg: "jenkins build merged into a queued item",
        job: "api/build",
        queueItem: `${jenkins.url}/queue/item/6/`,
        deliveryId: "d-7",
      },
    ]);
  });
});

describe("Function: triggerJenkins and a 403 (why Jenkins refused, when its answer tells)", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  /** Jenkins' 403 to a request it took as `user`, lacking `permission` (AccessDeniedException3.reportAsHeaders). */
  const denied = (user: string, permission: string, body = "<html>Access Denied</html>"): Reply => ({
    status: 403,
    headers: {
      "content-type": "text/html;charset=UTF-8",
      "x-you-are-authenticated-as": user,
      "x-you-are-in-group-disabled": "JENKINS-39402",
      "x-required-permission": permission,
    },
    body,
  });
  /** Jenkins' answer to a request without credentials (HudsonAuthenticationEntryPoint). */
  const anonymous = denied(
    "anonymous",
    "hudson.model.Hudson.Read",
    "<html><head><meta http-equiv='refresh' content='1;url=/login?from=%2Fjob%2Fapi'/></head><body>Authentication required</body></html>",
  );
  const noCrumb: Reply = {
    status: 403,
    headers: { "content-type": "text/html;charset=iso-8859-1" },
    body: "<html><body><h2>HTTP ERROR 403 No valid crumb was included in the request</h2></body></html>",
  };

  const cases: Array<[string, Reply, RegExp, RegExp | undefined]> = [
    [
      "a request it took as anonymous (a proxy stripped Authorization), saying the credentials did not reach Jenkins",
      anonymous,
      /^Jenkins job api\/build refused the build \(403\): Jenkins took it as anonymous, so the credentials did not reach Jenkins: a proxy in between may strip the Authorization header/,
      /crumb|lacks/i,
    ],
    [
      "the credentials' user without Job/Build, naming the permission and the secret, never the user",
      denied("ci-bot", "hudson.model.Item.Build"),
      /^Jenkins job api\/build refused the build \(403\): Jenkins took it as the user of hookgate\/jenkins, who lacks the permission Job\/Build \(hudson\.model\.Item\.Build\)$/,
      /crumb|ci-bot/i,
    ],
    [
      "the credentials' user in another case (Jenkins ids ignore case), as the credentials' user",
      denied("CI-Bot", "hudson.model.Item.Build"),
      /took it as the user of hookgate\/jenkins, who lacks/,
      /CI-Bot/,
    ],
    [
      "another user than the credentials', naming it",
      denied("sso-proxy", "hudson.model.Item.Read"),
      /took it as user "sso-proxy", who lacks the permission Job\/Read \(hudson\.model\.Item\.Read\)$/,
      /crumb/i,
    ],
    [
      "a permission it has no title for, quoting its id",
      denied("ci-bot", "org.example.Custom.Trigger"),
      /lacks the permission "org\.example\.Custom\.Trigger"$/,
      undefined,
    ],
    [
      'a permission id "constructor", quoting it',
      denied("ci-bot", "constructor"),
      /lacks the permission "constructor"$/,
      /function/,
    ],
    [
      "no user and no crumb page (something in front of Jenkins?), without a crumb",
      { status: 403, body: "Forbidden" },
      /^Jenkins job api\/build refused the build \(403\): the user of hookgate\/jenkins lacks Job\/Build permission, or something in front of Jenkins refused the request \(the answer names no Jenkins user\)$/,
      /crumb/i,
    ],
    [
      '"No valid crumb was included in the request", naming both causes (a password in the secret, or credentials a proxy stripped: Jenkins checks the crumb before it says who it took the request as) and what to do',
      noCrumb,
      /^Jenkins job api\/build refused the build \(403\): Jenkins asks a CSRF crumb .*password, not an API token, or the credentials did not reach Jenkins \(a proxy in between may strip the Authorization header.*set crumb: true$/,
      undefined,
    ],
    [
      '"Invalid token provided" (the job\'s remote trigger token refused a parameter named token; no user headers), saying so, not that the user lacks Job/Build',
      { status: 403, body: "<html><body><h2>HTTP ERROR 403 Invalid token provided.</h2></body></html>" },
      /^Jenkins job api\/build refused the build \(403\): Jenkins refused the request's token parameter \("Invalid token provided"\)/,
      /lacks/,
    ],
    [
      '"No valid crumb" at the start of a page larger than 16 KiB, reading its start',
      { ...noCrumb, body: `${noCrumb.body}${"<!-- padding -->".repeat(8192)}` },
      /^Jenkins job api\/build refused the build \(403\): Jenkins asks a CSRF crumb/,
      undefined,
    ],
  ];
  for (const [what, reply, message, absent] of cases) {
    it(`triggerJenkins fails final, saying why, when the build endpoint answers 403 to ${what}`, async () => {
      jenkins = await scriptedJenkins(() => reply);
      const err = await rejectsWithActionError(triggerJenkins(request(jenkins.url), testClients(), context));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.match(message);
      if (absent) expect(err.message).to.not.match(absent);
      expect(posts(jenkins)).to.have.length(1);
    });
  }

  it("triggerJenkins leaves the name of another user than the credentials' out of the public message of a 403", async () => {
    jenkins = await scriptedJenkins(() => denied("alice", "hudson.model.Item.Build"));
    const err = await rejectsWithActionError(triggerJenkins(request(jenkins.url), testClients(), context));
    expect(err.message).to.contain('user "alice"');
    expect(err.publicMessage).to.equal(
      "Jenkins job api/build refused the build (403): the Jenkins user lacks the permission Job/Build (hudson.model.Item.Build)",
    );
  });

  it('triggerJenkins in crumb mode says the crumb it sent was refused when the build endpoint answers 403 "No valid crumb"', async () => {
    jenkins = await scriptedJenkins((req) => (req.method === "GET" ? crumbAnswer : noCrumb));
    const err = await rejectsWithActionError(triggerJenkins(withCrumb(jenkins.url), testClients(), context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.match(
      /refused the build \(403\): Jenkins found no valid crumb in it, though hookgate sent the one its crumb issuer gave: a proxy may drop the session cookie/,
    );
  });

  it("triggerJenkins in crumb mode says the credentials did not reach Jenkins when the crumb issuer answers 403 as to anonymous", async () => {
    jenkins = await scriptedJenkins(() => anonymous);
    const err = await rejectsWithActionError(triggerJenkins(withCrumb(jenkins.url), testClients(), context));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.match(
      /^Jenkins crumb issuer refused the request \(403\): Jenkins took it as anonymous, so the credentials did not reach Jenkins/,
    );
    expect(posts(jenkins)).to.have.length(0);
  });
});

describe("Function: triggerJenkins and a redirect that is not Jenkins' answer (a sign-in, a wrong url)", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  const SIGNED_OUT =
    "a sign-in page, so the build did not start; the request was not taken as signed in: check the user and API " +
    "token in the credentials secret, or whether a proxy in front of Jenkins asks for its own sign-in";
  const SSO =
    "another host, so the build did not start; a sign-in (an SSO) of something in front of Jenkins took the " +
    "request: point jenkins.url at Jenkins itself, or have the proxy let API tokens through";
  const WRONG_URL = "the build was not queued; check the Jenkins url (http vs https, context path)";
  const movedTo = (jenkinsUrl: string) =>
    "the same request at another address, so the build did not start; Jenkins answers at " +
    `${jenkinsUrl}: write that as the Jenkins url in routes.yaml (redirects are not followed, so the credentials ` +
    "go only where the url says)";
  // [what, status, Location (from the server's url), where the message says it pointed, why]
  const redirects: Array<
    [
      string,
      number,
      (url: string) => string | undefined,
      (url: string) => string,
      string | ((url: string) => string),
    ]
  > = [
    [
      "303 to Jenkins' sign-in page, with a from= query",
      303,
      (url) => `${url}/login?from=%2Fjob%2Fapi%2Fjob%2Fbuild%2FbuildWithParameters`,
      (url) => `${url}/login`,
      SIGNED_OUT,
    ],
    [
      "302 to a security realm's sign-in (/securityRealm/commenceLogin), path only",
      302,
      () => "/securityRealm/commenceLogin?from=%2F",
      (url) => `${url}/securityRealm/commenceLogin`,
      SIGNED_OUT,
    ],
    [
      "303 to an SSO on another host, with its state and user info (never shown)",
      303,
      () => "https://bot:s3cr3t-pw@sso.example.com/oauth2/authorize?state=st4te-s3cr3t&client_id=x",
      () => "https://sso.example.com/oauth2/authorize",
      SSO,
    ],
    [
      "307 to an SSO on another host",
      307,
      () => "https://sso.example.com/adfs/ls/?SAMLRequest=x",
      () => "https://sso.example.com/adfs/ls/",
      SSO,
    ],
    [
      "302 to Jenkins' sign-in page under another host name (its root URL's)",
      302,
      () => "https://jenkins.example.com/login?from=%2F",
      () => "https://jenkins.example.com/login",
      SIGNED_OUT,
    ],
    [
      "303 to another page of Jenkins (not a queue item)",
      303,
      (url) => `${url}/job/other/`,
      (url) => `${url}/job/other/`,
      WRONG_URL,
    ],
    [
      "301 to https on the same host (an http url for an https Jenkins)",
      301,
      (url) => `${url.replace("http:", "https:")}/job/api/job/build/buildWithParameters`,
      (url) => `${url.replace("http:", "https:")}/job/api/job/build/buildWithParameters`,
      (url) => movedTo(url.replace("http:", "https:")),
    ],
    [
      "301 to the same request on Jenkins' canonical host name (not a sign-in)",
      301,
      () => "https://jenkins.example.com/job/api/job/build/buildWithParameters",
      () => "https://jenkins.example.com/job/api/job/build/buildWithParameters",
      () => movedTo("https://jenkins.example.com"),
    ],
  ];
  for (const [what, status, location, where, why] of redirects) {
    it(`triggerJenkins fails final, naming the status and where it pointed (never its query), and posts once, when the build endpoint answers ${what}`, async () => {
      jenkins = await scriptedJenkins((req, url) =>
        isApi(req)
          ? apiAnswer(req, { nextBuildNumber: 2 })
          : { status, headers: { location: location(url) ?? "" } },
      );
      const err = await rejectsWithActionError(triggerJenkins(request(jenkins.url), testClients(), context));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        `Jenkins job api/build answered a redirect (${status}) to ${where(jenkins.url)} instead of queuing the build: ${typeof why === "string" ? why : why(jenkins.url)}`,
      );
      expect(err.publicMessage).to.equal(
        `Jenkins job api/build answered a redirect (${status}) instead of queuing the build`,
      );
      expect(`${err.message} ${err.publicMessage}`).not.to.match(/s3cr3t|st4te|from=/);
      expect(posts(jenkins)).to.have.length(1);
      expect(apiCalls(jenkins)).to.have.length(0);
    });
  }

  for (const status of [301, 302, 303, 307, 308]) {
    it(`triggerJenkins fails final, never done, when the build endpoint answers ${status} without a Location: nothing shows a build was queued`, async () => {
      jenkins = await scriptedJenkins(() => ({ status }));
      const err = await rejectsWithActionError(triggerJenkins(request(jenkins.url), testClients(), context));
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        `Jenkins job api/build answered a redirect (${status}) without a Location instead of queuing the build: ` +
          "Jenkins answers a queued build 201, or one merged into a queued item 303, with the queue item's " +
          "Location, so something else answered (a proxy or gateway in front of Jenkins?), and whether a build " +
          "was queued is unknown. Not retried, as that could queue it twice: check Jenkins before a redrive, and " +
          "point jenkins.url at Jenkins itself",
      );
      expect(posts(jenkins)).to.have.length(1);
    });
  }

  it("triggerJenkins takes a 303 without a Location from the /buildWithParameters fallback as refused too, not as merged", async () => {
    jenkins = await scriptedJenkins((req) =>
      req.url.endsWith("/build") ? { status: 400 } : { status: 303 },
    );
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { parameters: {} }), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.match(/^Jenkins job api\/build answered a redirect \(303\) without a Location/);
    expect(posts(jenkins).map((req) => req.url)).to.deep.equal([
      "/job/api/job/build/build",
      "/job/api/job/build/buildWithParameters",
    ]);
  });
});

describe("Function: triggerJenkins and a redirect to the item itself (a folder's scan, or a vetoed build)", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  const folder = { _class: "WorkflowMultiBranchProject", jobs: [{ name: "main" }] };
  const job = { _class: "WorkflowJob", nextBuildNumber: 3, jobs: "not a list" };
  const toItself = (url: string): Reply => ({
    status: 302,
    headers: { location: `${url}/job/acme/job/api/` },
  });
  const scan = (item: Record<string, unknown>, status = 302) =>
    scriptedJenkins((req, url) =>
      isApi(req) ? apiAnswer(req, item) : { status, headers: { location: `${url}/job/acme/job/api/` } },
    );

  for (const status of [301, 302, 307, 308]) {
    it(`triggerJenkins takes a ${status} from /build to a folder itself as its scan, asking the remote API for nextBuildNumber and at most one of its jobs`, async () => {
      jenkins = await scan(folder, status);
      const clients = testClients();
      const outcome = await triggerJenkins(
        request(jenkins.url, { job: ["acme", "api"], parameters: {} }),
        clients,
        context,
      );
      expect(outcome).to.deep.equal({ status: "done", detail: `scan of acme/api scheduled (${status})` });
      expect(apiCalls(jenkins).map((req) => req.url)).to.deep.equal([
        `/job/acme/job/api/api/json?tree=${encodeURIComponent("nextBuildNumber,jobs[name]{0,1}")}`,
      ]);
      expect(clients.logs).to.deep.equal([
        { msg: "jenkins scan scheduled", job: "acme/api", status, deliveryId: "d-7" },
      ]);
    });
  }

  it("triggerJenkins takes a 302 from /build to an organization folder of 15,000 items as its scan: the remote API is asked for one item, not a list over 1 MiB", async () => {
    const jobs = Array.from({ length: 15_000 }, (_, i) => ({
      _class: "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject",
      name: `service-${String(i).padStart(5, "0")}`,
    }));
    expect(JSON.stringify(jobs).length, "the whole list passes readJson's 1 MiB").to.be.above(1024 * 1024);
    jenkins = await scan({ _class: "jenkins.branch.OrganizationFolder", jobs });
    const outcome = await triggerJenkins(
      request(jenkins.url, { job: ["acme", "api"], parameters: {} }),
      testClients(),
      context,
    );
    expect(outcome).to.deep.equal({ status: "done", detail: "scan of acme/api scheduled (302)" });
  });

  it("triggerJenkins takes a 302 from /build to an empty multibranch project (no branch job yet) as its scan", async () => {
    jenkins = await scan({ _class: "WorkflowMultiBranchProject", jobs: [] });
    const outcome = await triggerJenkins(
      request(jenkins.url, { job: ["acme", "api"], parameters: {} }),
      testClients(),
      context,
    );
    expect(outcome).to.deep.equal({ status: "done", detail: "scan of acme/api scheduled (302)" });
  });

  it("triggerJenkins fails final as a veto when the remote API says the item numbers its builds (a job)", async () => {
    jenkins = await scan(job);
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { job: ["acme", "api"], parameters: {} }), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(err.message).to.contain("did not queue the build (it answered 302 to the job's page");
  });

  /** The start of each message: the request reached the item, whose kind alone is not known. */
  const itself =
    "Jenkins job acme/api answered 302 to the item's own page, as Jenkins does for a multibranch project's or " +
    "organization folder's scan scheduled and for a job's build a queue decision handler vetoed";
  const unread = `${itself}, and the item's kind, which tells them apart, could not be read: `;
  const tryOnce = async (api: (req: Seen) => Reply) => {
    jenkins = await scriptedJenkins((req, url) => (isApi(req) ? api(req) : toItself(url)));
    return rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { job: ["acme", "api"], parameters: {} }), testClients(), context),
    );
  };

  // A failure a retry can get past: a repeat is another scan, or the build asked for again.
  const passing: Array<[string, (req: Seen) => Reply, string | RegExp, number | undefined]> = [
    ["drops the connection", () => "drop", /^Jenkins remote API could not be reached: /, undefined],
    [
      "answers 503 with Retry-After",
      () => ({ status: 503, headers: { "retry-after": "120" } }),
      "Jenkins remote API answered 503",
      120_000,
    ],
    ["answers 429", () => ({ status: 429 }), "Jenkins remote API answered 429", undefined],
    [
      "answers a page that is not JSON",
      () => ({ status: 200, body: "<html>" }),
      "Jenkins remote API answered 200 with a body that is not JSON",
      undefined,
    ],
    // Jenkins exports an item as an object: anything else is a proxy's or broken answer, as a page is.
    ...(["null", "5", '"job"', "[]", '[{"nextBuildNumber":3}]'] as const).map(
      (body): [string, (req: Seen) => Reply, string, undefined] => [
        `answers the JSON ${body}, not an object`,
        () => ({ status: 200, headers: JSON_HEADERS, body }),
        "Jenkins remote API answered 200 with JSON that is not an object",
        undefined,
      ],
    ),
  ];
  for (const [what, api, reason, retryAfterMs] of passing) {
    it(`triggerJenkins retries a redirect to the item itself, saying its kind could not be read, when the remote API ${what}`, async () => {
      const err = await tryOnce(api);
      expect(err.retryable, err.message).to.equal(true);
      expect(err.retryAfterMs).to.equal(retryAfterMs);
      expect(err.message.startsWith(unread), err.message).to.equal(true);
      const rest = err.message.slice(unread.length);
      if (typeof reason === "string") expect(rest).to.equal(reason);
      else expect(rest).to.match(reason);
      expect(err.message).not.to.contain("check the Jenkins url");
    });
  }

  it("triggerJenkins fails final, saying its kind could not be read, when the remote API refuses the item (404)", async () => {
    const err = await tryOnce(() => ({ status: 404, headers: JSON_HEADERS, body: "{}" }));
    expect(err.retryable).to.equal(false);
    expect(err.message).to.equal(`${unread}Jenkins remote API answered 404`);
  });

  for (const [what, api] of [
    ["names neither builds nor jobs", (req: Seen) => apiAnswer(req, { _class: "Something" })],
    ["answers an object without either", () => ({ status: 200, headers: JSON_HEADERS, body: "{}" })],
  ] as Array<[string, (req: Seen) => Reply]>) {
    it(`triggerJenkins fails final, without the Jenkins url advice, when the remote API ${what}`, async () => {
      const err = await tryOnce(api);
      expect(err.retryable).to.equal(false);
      expect(err.message).to.equal(
        `${itself}, but its remote API names neither builds (a job's nextBuildNumber) nor jobs (a folder's), so ` +
          "which happened is unknown: not retried; check the item in Jenkins before a redrive",
      );
    });
  }

  it("triggerJenkins takes a redirect to the item itself from /buildWithParameters as a veto, never a scan, without asking the remote API", async () => {
    jenkins = await scan(folder);
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { job: ["acme", "api"] }), testClients(), context),
    );
    expect(err.message).to.contain("did not queue the build");
    expect(apiCalls(jenkins)).to.have.length(0);
  });

  it("triggerJenkins takes a redirect to the job itself from the /buildWithParameters fallback as a veto, without asking the remote API", async () => {
    jenkins = await scriptedJenkins((req, url) => {
      if (isApi(req)) return apiAnswer(req, folder);
      return req.url.endsWith("/build") ? { status: 400 } : toItself(url);
    });
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { job: ["acme", "api"], parameters: {} }), testClients(), context),
    );
    expect(err.message).to.contain("did not queue the build");
    expect(apiCalls(jenkins)).to.have.length(0);
  });
});

describe("Function: triggerJenkins and a 500 from /buildWithParameters (why Jenkins refused, when its job tells)", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  /** A job that answers its builds with `status`, and its remote API with `definitions`. */
  const failing = (definitions: unknown, status = 500, api?: (req: Seen) => Reply) =>
    scriptedJenkins((req) => {
      if (!isApi(req)) return { status };
      return api ? api(req) : apiAnswer(req, { nextBuildNumber: 1, property: definitions });
    });
  const choice = (name: unknown, choices?: unknown, type = "ChoiceParameterDefinition") => ({
    parameterDefinitions: [{ name, type, ...(choices === undefined ? {} : { choices }) }],
  });

  it("triggerJenkins asks the job's remote API for its parameter definitions only", async () => {
    jenkins = await failing([choice("TARGET", ["staging"])]);
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { parameters: { TARGET: "prod" } }), testClients(), context),
    );
    expect(err.retryable).to.equal(false);
    expect(apiCalls(jenkins).map((req) => req.url)).to.deep.equal([
      `/job/api/job/build/api/json?tree=${encodeURIComponent("property[parameterDefinitions[name,type,choices]]")}`,
    ]);
  });

  const retryable: Array<[string, Partial<JenkinsRequest>, () => Promise<ScriptedJenkins>]> = [
    [
      "/build (no parameters sent) answers 500 on a job that defines none",
      { parameters: {} },
      () => failing([{}]),
    ],
    ["/buildWithParameters answers 503 on a job that defines none", {}, () => failing([{}], 503)],
    [
      "the remote API answers 403",
      {},
      () => failing(undefined, 500, () => ({ status: 403, headers: JSON_HEADERS, body: "{}" })),
    ],
    ["the remote API drops the connection", {}, () => failing(undefined, 500, () => "drop")],
    [
      "the remote API answers a page that is not JSON",
      {},
      () => failing(undefined, 500, () => ({ status: 200, body: "<html>" })),
    ],
    ...(["null", "5", '"job"', "[]", '[{"property":[]}]'] as const).map(
      (body): [string, Partial<JenkinsRequest>, () => Promise<ScriptedJenkins>] => [
        `the remote API answers the JSON ${body}, not an object`,
        { parameters: { TARGET: "prod" } },
        () => failing(undefined, 500, () => ({ status: 200, headers: JSON_HEADERS, body })),
      ],
    ),
    ...(["{}", '"none"', "null"] as const).map(
      (property): [string, Partial<JenkinsRequest>, () => Promise<ScriptedJenkins>] => [
        `the remote API answers a job whose property is ${property}, not a list`,
        { parameters: { TARGET: "prod" } },
        () =>
          failing(undefined, 500, () => ({
            status: 200,
            headers: JSON_HEADERS,
            body: `{"property":${property}}`,
          })),
      ],
    ),
    [
      "the job's parameter definitions are not objects (nothing says it defines none)",
      { parameters: { TARGET: "prod" } },
      () => failing([{ parameterDefinitions: [null, 5] }]),
    ],
    [
      "a plugin's choice type does not list the value",
      { parameters: { TARGET: "prod" } },
      () =>
        failing([
          null,
          {
            parameterDefinitions: [
              null,
              { name: "TARGET", type: "ExtensibleChoiceParameterDefinition", choices: ["staging"] },
            ],
          },
        ]),
    ],
    [
      "the choice parameter was not sent",
      { parameters: { BRANCH: "main" } },
      () => failing([choice("TARGET", ["staging"])]),
    ],
    [
      "a choice parameter named as an Object method (toString) was not sent",
      { parameters: { BRANCH: "main" } },
      () => failing([choice("toString", ["a"])]),
    ],
    [
      "the choice parameter lists no choices",
      { parameters: { TARGET: "prod" } },
      () => failing([choice("TARGET")]),
    ],
    [
      "the choice parameter's name is no string",
      { parameters: { "5": "prod" } },
      () => failing([choice(5, ["staging"])]),
    ],
  ];
  for (const [what, overrides, start] of retryable) {
    it(`triggerJenkins keeps a 5xx retryable when ${what}`, async () => {
      jenkins = await start();
      const err = await rejectsWithActionError(
        triggerJenkins(request(jenkins.url, overrides), testClients(), context),
      );
      expect(err.retryable).to.equal(true);
    });
  }

  it("triggerJenkins names at most 10 choices, each cut to 100 characters, and the value cut to 200, when it refuses a choice", async () => {
    const long = "c".repeat(150);
    const choices = [long, ...Array.from({ length: 11 }, (_, i) => `env${i}`)];
    jenkins = await failing([choice("TARGET", choices)]);
    const value = "v".repeat(300);
    const err = await rejectsWithActionError(
      triggerJenkins(request(jenkins.url, { parameters: { TARGET: value } }), testClients(), context),
    );
    const listed = [long.slice(0, 100), ...choices.slice(1, 10)].map((c) => JSON.stringify(c));
    expect(err.message).to.equal(
      `Jenkins job api/build refuses TARGET=${JSON.stringify(value.slice(0, 200))} (500): it is not one of the choice parameter's values (${[...listed, "…"].join(", ")})`,
    );
  });
});

describe("Function: jenkinsBaseUrl and jobPath (what a route's Jenkins url and job become)", () => {
  const bases: Array<[string, string]> = [
    ["https://ci.example.com/", "https://ci.example.com"],
    ["https://ci.example.com/jenkins//", "https://ci.example.com/jenkins"],
    ["http://ci.example.com:8080/ci/?x=1#top", "http://ci.example.com:8080/ci"],
  ];
  for (const [url, base] of bases) {
    it(`jenkinsBaseUrl(${JSON.stringify(url)}) is ${base}`, () => {
      expect(jenkinsBaseUrl(url)).to.equal(base);
    });
  }

  const badUrls: Array<[string, RegExp]> = [
    ["ci.example.com", /^the Jenkins url is not a valid URL$/],
    ["ftp://ci.example.com", /^the Jenkins url must be http\(s\), not ftp:$/],
    ["https://bot:token@ci.example.com", /must not carry credentials/],
    ["https://bot@ci.example.com", /must not carry credentials/],
    ["https://:token@ci.example.com", /must not carry credentials/],
  ];
  for (const [url, message] of badUrls) {
    it(`jenkinsBaseUrl refuses ${JSON.stringify(url)} as final, saying why`, () => {
      let thrown: unknown;
      try {
        jenkinsBaseUrl(url);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.have.property("retryable", false);
      expect(String((thrown as Error).message)).to.match(message);
    });
  }

  const badJobs: Array<[string[], string]> = [
    [[], "the Jenkins job name is empty"],
    [["api", ".."], 'the Jenkins job name has an invalid segment ".."'],
    [[" "], 'the Jenkins job name has an invalid segment " "'],
  ];
  for (const [job, message] of badJobs) {
    it(`jobPath refuses ${JSON.stringify(job)} as final: ${message}`, () => {
      expect(() => jobPath(job)).to.throw(message);
    });
  }

  it("jobPath refuses, final, a segment holding a lone surrogate (half a character, which a signed payload's branch can hold): with U+FFFD in its place it would name another job", () => {
    for (const segment of ["fix-\uD800", "\uDC00x"]) {
      expect(() => jobPath(["deploy", segment]))
        .to.throw(ActionError, "holding half a character (a lone surrogate)")
        .with.property("retryable", false);
    }
    expect(jobPath(["deploy", "fix-\uD83D\uDE00"])).to.equal("/job/deploy/job/fix-%F0%9F%98%80");
  });
});

describe("Function: triggerJenkins and a branch with a lone surrogate (half a character)", () => {
  let jenkins: ScriptedJenkins | undefined;
  afterEach(async () => {
    await jenkins?.close();
    jenkins = undefined;
  });

  it("triggerJenkins fails final, before any request, for a job segment holding a lone surrogate: the job of a branch named with U+FFFD in its place is not built", async () => {
    jenkins = await scriptedJenkins((_req, url) => queued(url));
    const err = await rejectsWithActionError(
      triggerJenkins(
        request(jenkins.url, { job: ["deploy", "fix-\uD800"], parameters: { BRANCH: "fix-\uD800" } }),
        testClients(),
        context,
      ),
    );
    expect(err.retryable).to.equal(false);
    expect(posts(jenkins)).to.deep.equal([]);
  });
});
