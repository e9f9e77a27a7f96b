import { expect } from "chai";
import { keyHasEmptyFolder, keyLengthProblem, renderRequest, toQueuedEvent } from "../../src/core/render";
import type { JenkinsTarget, ProviderApi, Route, WebhookEvent } from "../../src/core/types";

const jenkins: JenkinsTarget = {
  url: "https://jenkins.internal.example.com:8443",
  credentials: "hookgate/jenkins",
  crumb: false,
};
const api: ProviderApi = {
  provider: "github",
  apiUrl: "https://api.github.com",
  token: "hookgate/github-token",
};

function route(action: Route["action"], name = "api-build"): Route {
  return {
    name,
    provider: "github",
    secret: "hookgate/github-webhook",
    auth: { allowIps: [], allowSha1: false, toleranceSeconds: 300 },
    match: {},
    action,
  };
}

function event(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return {
    provider: "github",
    deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    event: "push",
    repo: { owner: "acme", name: "api", fullName: "acme/api", cloneUrl: "https://github.com/acme/api.git" },
    ref: "refs/heads/feature/login",
    branch: "feature/login",
    sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    deleted: false,
    actor: "alice",
    changedFiles: ["src/a.ts"],
    payload: { head_commit: { message: "Fix & ship" } },
    ...overrides,
  };
}

describe("Function: renderRequest", () => {
  it("renderRequest renders a jenkins job per template segment and its parameters raw", () => {
    const request = renderRequest(
      route({
        type: "jenkins",
        jenkins,
        job: "{{repo}}/build-{{branch}}",
        parameters: {
          BRANCH: "{{branch}}",
          SHA: "{{sha}}",
          MSG: "{{payload.head_commit.message}}",
          NONE: "{{tag}}",
        },
      }),
      event(),
    );
    expect(request).to.deep.equal({
      type: "jenkins",
      jenkins,
      // The branch fills in the job's name as a multibranch project spells it (branch-api's NameEncoder).
      job: ["api", "build-feature%2Flogin"],
      parameters: {
        BRANCH: "feature/login",
        SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        MSG: "Fix & ship",
        NONE: "",
      },
    });
  });

  it("renderRequest escapes in a job's filled-in values what Jenkins escapes in a branch job's name, and keeps the written text", () => {
    const request = renderRequest(
      route({ type: "jenkins", jenkins, job: "pre%2Fset/{{branch}}", parameters: {} }),
      event({ branch: "a#b%c/d?e[f]g\\h ü" }),
    );
    expect(request.type === "jenkins" && request.job).to.deep.equal([
      "pre%2Fset",
      "a%23b%25c%2Fd%3Fe%5Bf%5Dg%5Ch ü",
    ]);
  });

  it("renderRequest keeps empty and dot segments of a job for the Jenkins action to refuse", () => {
    const request = renderRequest(
      route({ type: "jenkins", jenkins, job: "{{tag}}/{{branch}}", parameters: {} }),
      event({ branch: ".." }),
    );
    expect(request.type === "jenkins" && request.job).to.deep.equal(["", ".."]);
  });

  it("renderRequest renders an s3-zip key with s3-key encoding and keeps the bucket", () => {
    const request = renderRequest(
      route({
        type: "s3-zip",
        api,
        bucket: "acme-artifacts",
        key: "{{owner}}/{{repo}}/{{branch}}/{{owner}}_{{repo}}.zip",
      }),
      event({ branch: "../../etc" }),
    );
    expect(request).to.deep.equal({
      type: "s3-zip",
      api,
      bucket: "acme-artifacts",
      key: "acme/api/..%2F..%2Fetc/acme_api.zip",
    });
  });

  it("renderRequest passes an s3-zip route's serverSideEncryption and kmsKeyId on to the request", () => {
    const kmsKeyId = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const action: Route["action"] = {
      type: "s3-zip",
      api,
      bucket: "acme-artifacts",
      key: "{{repo}}.zip",
      serverSideEncryption: "aws:kms",
      kmsKeyId,
    };
    expect(renderRequest(route(action), event())).to.deep.include({
      serverSideEncryption: "aws:kms",
      kmsKeyId,
    });
  });

  it("renderRequest throws a deployment error for an s3-zip route without a bucket", () => {
    expect(() => renderRequest(route({ type: "s3-zip", api, key: "{{repo}}.zip" }, "zip"), event())).to.throw(
      Error,
      /route "zip": the s3-zip action has no bucket/,
    );
  });

  it("renderRequest throws a deployment error for an s3-zip route whose bucket is empty", () => {
    const action: Route["action"] = { type: "s3-zip", api, bucket: "", key: "{{repo}}.zip" };
    expect(() => renderRequest(route(action, "zip"), event())).to.throw(
      Error,
      /route "zip": the s3-zip action has no bucket/,
    );
  });

  it("renderRequest renders a pr-cleanup prefix with s3-key encoding: a head branch's / is encoded", () => {
    const pr = { number: 7, merged: true, headRef: "feature/x y", baseRef: "main", headSha: "abc" };
    const request = renderRequest(
      route({
        type: "pr-cleanup",
        api,
        steps: [{ kind: "delete-s3-prefix", bucket: "acme-previews", prefix: "previews/{{pr.headRef}}/" }],
      }),
      event({ event: "pull_request", action: "closed", pr }),
    );
    expect(request.type === "pr-cleanup" && request.steps).to.deep.equal([
      { kind: "delete-s3-prefix", bucket: "acme-previews", prefix: "previews/feature%2Fx%20y/" },
    ]);
  });

  it("renderRequest renders parameters raw, and a target URL that is one value as it is: a value of . or .. is kept", () => {
    const e = event({ payload: { dot: ".", dots: ".." } });
    const jenkinsRequest = renderRequest(
      route({
        type: "jenkins",
        jenkins,
        job: "build",
        parameters: { A: "{{payload.dot}}", B: "{{payload.dots}}" },
      }),
      e,
    );
    expect(jenkinsRequest.type === "jenkins" && jenkinsRequest.parameters).to.deep.equal({ A: ".", B: ".." });
    const cleanup = renderRequest(
      route({
        type: "pr-cleanup",
        api,
        jenkins,
        targetUrl: "{{payload.dots}}",
        steps: [{ kind: "jenkins", job: "teardown", parameters: { A: "{{payload.dots}}" } }],
      }),
      e,
    );
    expect(cleanup.type === "pr-cleanup" && cleanup.targetUrl).to.equal("..");
    const [step] = cleanup.type === "pr-cleanup" ? cleanup.steps : [];
    expect(step?.kind === "jenkins" && step.request.parameters).to.deep.equal({ A: ".." });
  });

  it("renderRequest keeps a targetUrl's leading value as the whole URL; a later value in the host is one URL component, one in the path or query keeps its / with each folder a component and . or .. folders encoded", () => {
    const e = event({
      event: "pull_request",
      action: "closed",
      pr: { number: 7, merged: false, headRef: "evil.example/#x&pr=1", baseRef: "main", headSha: "abc1234" },
      payload: { pull_request: { html_url: "https://github.com/acme/api/pull/7?x=1#y" } },
    });
    const targetUrl = (template: string) => {
      const request = renderRequest(route({ type: "pr-cleanup", api, targetUrl: template, steps: [] }), e);
      return request.type === "pr-cleanup" ? request.targetUrl : undefined;
    };
    expect(targetUrl("{{payload.pull_request.html_url}}")).to.equal(
      "https://github.com/acme/api/pull/7?x=1#y",
    );
    expect(targetUrl("https://{{pr.headRef}}.previews.example.com/")).to.equal(
      "https://evil.example%2F%23x%26pr%3D1.previews.example.com/",
    );
    expect(targetUrl("https://logs.example.com/{{pr.headRef.path}}?pr={{pr.number}}")).to.equal(
      "https://logs.example.com/evil.example/%23x%26pr%3D1?pr=7",
    );
    expect(targetUrl("https://logs.example.com/x?branch={{pr.headRef}}&pr={{pr.number}}")).to.equal(
      "https://logs.example.com/x?branch=evil.example/%23x%26pr%3D1&pr=7",
    );
    // The base repository's own name keeps its folders, as a link to it needs.
    expect(targetUrl("https://github.com/{{repo.fullName}}/pull/{{pr.number}}")).to.equal(
      "https://github.com/acme/api/pull/7",
    );
    expect(targetUrl("https://previews.example.com/{{repo.path}}/pr-{{pr.number}}/")).to.equal(
      "https://previews.example.com/acme/api/pr-7/",
    );
    expect(targetUrl("https://{{repo.fullName}}.example.com:{{pr.number}}/")).to.equal(
      "https://acme%2Fapi.example.com:7/",
    );
  });

  it("renderRequest writes a . or .. folder a later targetUrl value makes as %252E, so that a URL parser (which reads %2E as a dot) climbs nowhere: the link stays under the path the route wrote", () => {
    const e = event({
      payload: { up: "..", dot: ".", nested: "a/../../b", here: "./x", evil: "//evil.example/a" },
    });
    const targetUrl = (template: string) => {
      const request = renderRequest(route({ type: "pr-cleanup", api, targetUrl: template, steps: [] }), e);
      return request.type === "pr-cleanup" ? (request.targetUrl ?? "") : "";
    };
    const cases: Array<[string, string, string]> = [
      [
        "https://previews.example.com/p/{{payload.up}}/x",
        "https://previews.example.com/p/%252E%252E/x",
        "/p/",
      ],
      [
        "https://previews.example.com/p/{{payload.nested}}",
        "https://previews.example.com/p/a/%252E%252E/%252E%252E/b",
        "/p/",
      ],
      ["https://previews.example.com/p/{{payload.here}}", "https://previews.example.com/p/%252E/x", "/p/"],
      [
        "https://previews.example.com/p/{{payload.dot}}{{payload.dot}}/q",
        "https://previews.example.com/p/%252E%252E/q",
        "/p/",
      ],
      [
        "https://previews.example.com/p/.{{payload.dot}}/q",
        "https://previews.example.com/p/%252E%252E/q",
        "/p/",
      ],
      // "\" is "/" to a URL parser in an http(s) link, and "%2e" written in the route is a dot to it too.
      [
        "https://previews.example.com/p/{{payload.up}}\\q",
        "https://previews.example.com/p/%252E%252E\\q",
        "/p/",
      ],
      [
        "https://previews.example.com/p/%2e{{payload.dot}}/q",
        "https://previews.example.com/p/%252E%252E/q",
        "/p/",
      ],
      // A query is not a path: its dots stay.
      ["https://logs.example.com/p?x={{payload.up}}", "https://logs.example.com/p?x=..", "/p"],
    ];
    for (const [template, rendered, under] of cases) {
      expect(targetUrl(template), template).to.equal(rendered);
      expect(new URL(rendered).pathname.startsWith(under), template).to.equal(true);
    }
    // A value right after a bare scheme is in the host's place: one component, no path of its own (check refuses
    // such a template anyway: a link must start with https://).
    expect(targetUrl("https:{{payload.evil}}")).to.equal("https:%2F%2Fevil.example%2Fa");
  });

  it("renderRequest renders pr-cleanup steps, the status context and the target URL", () => {
    const pr = {
      number: 42,
      merged: true,
      state: "closed",
      headRef: "feature/x",
      baseRef: "main",
      headSha: "abc123",
    };
    const request = renderRequest(
      route(
        {
          type: "pr-cleanup",
          api,
          jenkins,
          targetUrl: "https://logs.example.com/{{deliveryId}}?pr={{pr.number}}",
          steps: [
            { kind: "delete-branch", onlyMerged: true },
            { kind: "delete-s3-prefix", bucket: "acme-previews", prefix: "{{repo}}/pr-{{pr.number}}/" },
            {
              kind: "jenkins",
              job: "previews/teardown",
              parameters: { PR: "{{pr.number}}", HEAD: "{{pr.headRef}}" },
            },
          ],
        },
        "pr-cleanup",
      ),
      event({ event: "pull_request", action: "closed", pr }),
    );
    expect(request).to.deep.equal({
      type: "pr-cleanup",
      api,
      context: "hookgate/pr-cleanup",
      targetUrl: "https://logs.example.com/72d3162e-cc78-11e3-81ab-4c9367dc0958?pr=42",
      steps: [
        { kind: "delete-branch", onlyMerged: true },
        { kind: "delete-s3-prefix", bucket: "acme-previews", prefix: "api/pr-42/" },
        {
          kind: "jenkins",
          request: {
            type: "jenkins",
            jenkins,
            job: ["previews", "teardown"],
            parameters: { PR: "42", HEAD: "feature/x" },
          },
        },
      ],
    });
  });

  it("renderRequest throws a deployment error for a pr-cleanup jenkins step without a jenkins target", () => {
    const action: Route["action"] = {
      type: "pr-cleanup",
      api,
      steps: [{ kind: "jenkins", job: "x", parameters: {} }],
    };
    expect(() => renderRequest(route(action, "cleanup"), event())).to.throw(
      Error,
      /route "cleanup": a pr-cleanup jenkins step/,
    );
  });

  it("renderRequest leaves targetUrl undefined when the route has none", () => {
    const request = renderRequest(route({ type: "pr-cleanup", api, steps: [] }, "c"), event());
    expect(request.type === "pr-cleanup" && request.targetUrl).to.equal(undefined);
  });
});

describe("Function: toQueuedEvent", () => {
  it("toQueuedEvent drops the payload and the changed files and keeps everything else", () => {
    const original = event();
    const queued = toQueuedEvent(original);
    expect(queued).to.not.have.property("payload");
    expect(queued).to.not.have.property("changedFiles");
    const { payload: _p, changedFiles: _c, ...rest } = original;
    expect(queued).to.deep.equal(rest);
    expect(original.payload).to.deep.equal({ head_commit: { message: "Fix & ship" } });
  });

  it("toQueuedEvent sets no key for an optional field the event lacks", () => {
    const bare = event({ ref: undefined, branch: undefined, sha: undefined, actor: undefined });
    expect(Object.keys(toQueuedEvent(bare)).sort()).to.deep.equal([
      "deleted",
      "deliveryId",
      "event",
      "provider",
      "repo",
    ]);
  });

  it("toQueuedEvent copies every optional field that is set, and never reads the changed files", () => {
    const full: WebhookEvent = {
      ...event(),
      action: "closed",
      tag: "v1",
      before: "0".repeat(40),
      fastForward: true,
      pr: { number: 7, merged: true, headRef: "f", baseRef: "main", headSha: "a".repeat(40) },
      actor: "octocat",
    };
    Object.defineProperty(full, "changedFiles", {
      enumerable: true,
      get: () => expect.fail("changedFiles was read"),
    });
    const queued = toQueuedEvent(full);
    const expected = Object.keys(full).filter((key) => key !== "payload" && key !== "changedFiles");
    expect(Object.keys(queued).sort()).to.deep.equal(expected.sort());
    for (const key of expected) expect(queued).to.have.property(key, full[key as keyof WebhookEvent]);
  });
});

describe("Function: keyLengthProblem", () => {
  it("keyLengthProblem(key) accepts a key of 1,024 bytes of UTF-8 and refuses one of 1,025, counting bytes, not characters", () => {
    expect(keyLengthProblem("k".repeat(1024))).to.equal(undefined);
    expect(keyLengthProblem(`${"é".repeat(512)}`)).to.equal(undefined);
    // 513 characters, 1,025 bytes: "é" is 2 bytes in UTF-8.
    expect(keyLengthProblem(`k${"é".repeat(512)}`)).to.match(
      /^the object key is 1,025 bytes, more than the 1,024 S3 allows \(KeyTooLongError\)/,
    );
    expect(keyLengthProblem("k".repeat(1025))).to.contain('"{{repo.path}}/{{sha}}.zip"');
  });
});

// Only "acme/api//x.zip" was tried elsewhere: a key whose first or last folder rendered empty ({{repo.path}}/{{tag}}
// on a branch push is "acme/api/") must be found too (review h522).
describe("Function: keyHasEmptyFolder", () => {
  const cases: Array<[string, boolean]> = [
    ["acme/api/", true],
    ["/acme/api.zip", true],
    ["acme//api.zip", true],
    ["acme/api/main.zip", false],
  ];
  for (const [key, empty] of cases) {
    it(`${JSON.stringify(key)} ${empty ? "has" : "has no"} empty folder`, () => {
      expect(keyHasEmptyFolder(key)).to.equal(empty);
    });
  }
});
