// GitHubClient's requests against GitHub's own OpenAPI description of its REST API, not against a fake of ours:
// test/fixtures/github-openapi/operations.json holds the operations hookgate calls, taken from @octokit/openapi
// (api.github.com and the oldest GitHub Enterprise Server it describes; extract.ts there says how). Each call
// is made against a local server whose answer the test writes, and checked as sent: the method and path are
// an operation of the description, its path and query parameters are declared and valid, the JSON body
// validates against the request body schema and has no field it does not declare, each status the client
// handles itself (its 2xx, and those it gives a meaning of its own) is a documented response, and each field
// and header the client reads of a success answer is in that answer's documented schema and headers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import { expect } from "chai";
import type { ApiCall } from "../../src/actions/gitHost/base";
import { GiteaClient, GitHubClient } from "../../src/actions/gitHost/github";
import type { HttpResponse } from "../../src/actions/http";
import type { RepoRef } from "../../src/core/types";
import { json, type Reply, type Seen, scriptedServer } from "../support/scriptedServer";
import { HOST_TOKEN } from "./helpers";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
};

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  multiSegment?: boolean;
  schema: Schema;
}

interface Operation {
  operationId: string;
  docs: string;
  parameters: Parameter[];
  requestBody?: { required: boolean; schema?: Schema };
  /** Each response's documented header names (lower case) and JSON schema. */
  responses: Record<string, { description: string; headers?: string[]; schema?: Schema }>;
}

interface Description {
  file: string;
  /** Every "METHOD template" of the description. */
  paths: string[];
  operations: Record<string, Operation>;
}

interface Fixture {
  source: { package: string; version: string };
  descriptions: Record<string, Description>;
}

const fixture = JSON.parse(
  readFileSync(join(__dirname, "..", "fixtures", "github-openapi", "operations.json"), "utf8"),
) as Fixture;

const REPO: RepoRef = { owner: "acme", name: "api", fullName: "acme/api" };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const AUTH = { authorization: `Bearer ${HOST_TOKEN}` };

/** The answer, each header read of it from now on recorded by its name. */
function recordingHeaders(res: HttpResponse, reads: Set<string>): HttpResponse {
  res.headers = new Proxy(res.headers, {
    get(target, key, receiver) {
      if (typeof key === "string") reads.add(key);
      return Reflect.get(target, key, receiver);
    },
  });
  return res;
}

/**
 * A GitHubClient that also records each call as the client put it (its path, body and the statuses it
 * handles) and the headers it reads of the answers its calls give back.
 */
class RecordingGitHubClient extends GitHubClient {
  readonly calls: ApiCall[] = [];
  readonly headerReads = new Set<string>();
  protected override async call(call: ApiCall): Promise<HttpResponse> {
    this.calls.push(call);
    return recordingHeaders(await super.call(call), this.headerReads);
  }
}

class RecordingGiteaClient extends GiteaClient {
  readonly calls: ApiCall[] = [];
  readonly headerReads = new Set<string>();
  protected override async call(call: ApiCall): Promise<HttpResponse> {
    this.calls.push(call);
    return recordingHeaders(await super.call(call), this.headerReads);
  }
}

type Recording = RecordingGitHubClient | RecordingGiteaClient;

interface Exchange {
  what: string;
  /** The operation it must be, "METHOD template". */
  operation: string;
  reply: Reply;
  run(client: GitHubClient): Promise<unknown>;
  /** Only the request is checked (Gitea's answers are not GitHub's). */
  requestOnly?: boolean;
}

interface Outcome {
  seen: Seen[];
  calls: ApiCall[];
  /** Each field path the client read of a success answer's JSON: head.repo.full_name, [].number. */
  reads: string[];
  /** Each header the client read of the answer (lower case). */
  headerReads: string[];
}

const PULL = {
  number: 7,
  // Not merged, so that merged_at is read too.
  state: "closed",
  merged: false,
  merged_at: null,
  head: { ref: "feature/x", label: "acme:feature/x", sha: SHA, repo: { full_name: "acme/api" } },
  base: {
    ref: "main",
    label: "acme:main",
    sha: SHA,
    repo: { full_name: "acme/api", default_branch: "main" },
  },
};
const LAST_PAGE_3 = { link: '<https://h/repos/acme/api/pulls?per_page=1&page=3>; rel="last"' };

const githubExchanges: Exchange[] = [
  {
    what: "getPullRequest",
    operation: "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    reply: json(PULL),
    run: (client) => client.getPullRequest(REPO, 7),
  },
  {
    what: "setCommitStatus (pending, with a link)",
    operation: "POST /repos/{owner}/{repo}/statuses/{sha}",
    reply: json({ id: 1, state: "pending" }, 201),
    run: (client) =>
      client.setCommitStatus(REPO, SHA, {
        state: "pending",
        context: "hookgate/cleanup",
        description: "queued",
        targetUrl: "https://ci.example/1",
      }),
  },
  {
    what: "setCommitStatus (failure, a long description, no link)",
    operation: "POST /repos/{owner}/{repo}/statuses/{sha}",
    reply: json({ id: 2, state: "failure" }, 201),
    run: (client) =>
      client.setCommitStatus(REPO, SHA, {
        state: "failure",
        context: "hookgate/cleanup",
        description: "x".repeat(300),
      }),
  },
  {
    what: "branchHead (the branch is there)",
    operation: "GET /repos/{owner}/{repo}/git/ref/{ref}",
    reply: json({ ref: "refs/heads/feature/x", object: { sha: SHA, type: "commit" } }),
    run: (client) => client.branchHead(REPO, "feature/x"),
  },
  {
    what: "branchHead (no such branch)",
    operation: "GET /repos/{owner}/{repo}/git/ref/{ref}",
    reply: json({ message: "Not Found" }, 404),
    run: (client) => client.branchHead(REPO, "feature/x"),
  },
  {
    what: "openPullRequestsInto",
    operation: "GET /repos/{owner}/{repo}/pulls",
    reply: json([{ number: 1 }], 200, LAST_PAGE_3),
    run: (client) => client.openPullRequestsInto(REPO, "feature/x"),
  },
  {
    what: "openPullRequestsFrom (a fork's owner)",
    operation: "GET /repos/{owner}/{repo}/pulls",
    reply: json([], 200),
    run: (client) => client.openPullRequestsFrom(REPO, "feature/x", "alice/api"),
  },
  {
    what: "deleteBranch (deleted)",
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: { status: 204 },
    run: (client) => client.deleteBranch(REPO, "feature/x", SHA),
  },
  {
    what: 'deleteBranch (422 "Reference does not exist")',
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: json({ message: "Reference does not exist" }, 422),
    run: (client) => client.deleteBranch(REPO, "feature/x", SHA),
  },
  {
    what: "deleteBranch (422, a protected branch)",
    operation: "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    reply: json(
      { message: "Validation Failed", errors: [{ message: "Cannot delete this protected branch" }] },
      422,
    ),
    run: (client) => client.deleteBranch(REPO, "release", SHA).catch((err: unknown) => err),
  },
  {
    what: "getDefaultBranch",
    operation: "GET /repos/{owner}/{repo}",
    reply: json({ default_branch: "main" }),
    run: (client) => client.getDefaultBranch(REPO),
  },
];

/** Gitea's calls on GitHub's routes: the same requests (Gitea's own routes are not in GitHub's description). */
const giteaExchanges: Exchange[] = githubExchanges
  .filter((each) =>
    ["getPullRequest", "setCommitStatus (pending, with a link)", "getDefaultBranch"].includes(each.what),
  )
  .map((each) => ({ ...each, requestOnly: true }));

/** A value whose every property read (of objects and the items of arrays) is recorded by its path. */
function recorded(value: unknown, path: string[], reads: Set<string>): unknown {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const inner = Reflect.get(target, key, receiver);
      // An async function's result is asked for its then: the await's, not the client's.
      if (typeof key !== "string" || (path.length === 0 && key === "then")) return inner;
      if (Array.isArray(target)) return /^\d+$/.test(key) ? recorded(inner, [...path, "[]"], reads) : inner;
      reads.add([...path, key].join("."));
      return recorded(inner, [...path, key], reads);
    },
  });
}

async function exchange(each: Exchange, client: (url: string) => Recording): Promise<Outcome> {
  const host = await scriptedServer(() => each.reply);
  const reads = new Set<string>();
  const parse = JSON.parse;
  const reply = each.reply === "drop" ? undefined : each.reply;
  const success = reply !== undefined && reply.status >= 200 && reply.status < 300;
  try {
    const recording = client(host.url);
    if (success) {
      // Only the answer's own text: the HTTP client parses JSON of its own meanwhile.
      JSON.parse = (text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) =>
        text === reply.body ? recorded(parse(text, reviver), [], reads) : parse(text, reviver);
    }
    try {
      await each.run(recording);
    } finally {
      JSON.parse = parse;
    }
    return {
      seen: host.seen,
      calls: recording.calls,
      reads: [...reads].sort(),
      headerReads: [...recording.headerReads].sort(),
    };
  } finally {
    await host.close();
  }
}

const ajv = new Ajv({ strict: true, allErrors: true });
/** Parameters come as text: each is coerced to its schema's type, as a server reads them. */
const ajvParameters = new Ajv({ strict: true, allErrors: true, coerceTypes: true });
const compiled = new Map<Schema, ValidateFunction>();

function validate(schema: Schema, value: unknown, coerce = false): string[] {
  const key = coerce ? ({ type: "object", properties: { value: schema } } as Schema) : schema;
  let check = coerce ? undefined : compiled.get(schema);
  if (!check) {
    check = (coerce ? ajvParameters : ajv).compile(key);
    if (!coerce) compiled.set(schema, check);
  }
  if (check(coerce ? { value } : value)) return [];
  return (check.errors ?? []).map((err) => `${err.instancePath || "/"} ${err.message}`);
}

/** The schema's branches: itself and each allOf, anyOf and oneOf member, through any depth. */
function branches(schema: Schema): Schema[] {
  return [
    schema,
    ...[schema.allOf, schema.anyOf, schema.oneOf].flat().flatMap((s) => (s ? branches(s) : [])),
  ];
}

/** Whether a field path (head.repo.full_name, [] for an array's items) is declared by the schema. */
function declares(schema: Schema, path: string[]): boolean {
  const [first, ...rest] = path;
  if (first === undefined) return true;
  return branches(schema).some((s) => {
    const next = first === "[]" ? s.items : s.properties?.[first];
    return next !== undefined && declares(next, rest);
  });
}

/** The description's operation a request is: the template with the most fixed text among those that match. */
function operationOf(
  description: Description,
  method: string,
  pathname: string,
): { key: string; params: Record<string, string> } | undefined {
  const found: Array<{ key: string; fixed: number; params: Record<string, string> }> = [];
  for (const key of description.paths) {
    if (!key.startsWith(`${method} `)) continue;
    const template = key.slice(method.length + 1);
    const names: string[] = [];
    const multi = new Set(
      (description.operations[key]?.parameters ?? []).filter((p) => p.multiSegment).map((p) => p.name),
    );
    const pattern = template
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const name = /^\{([^}]+)\}$/.exec(part)?.[1];
        if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        names.push(name);
        return multi.has(name) ? "(.+)" : "([^/]+)";
      })
      .join("");
    const match = new RegExp(`^${pattern}$`).exec(pathname);
    if (!match) continue;
    const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]));
    found.push({ key, fixed: template.replace(/\{[^}]+\}/g, "").length, params });
  }
  found.sort((a, b) => b.fixed - a.fixed);
  return found[0];
}

/** What of one exchange disagrees with the description: one line each, none when all agree. */
function disagreements(description: Description, each: Exchange, outcome: Outcome): string[] {
  const problems: string[] = [];
  const [request, ...more] = outcome.seen;
  const [call] = outcome.calls;
  if (!request || !call || more.length > 0) return [`expected one request, saw ${outcome.seen.length}`];
  const url = new URL(request.url, "http://127.0.0.1");
  const matched = operationOf(description, request.method, url.pathname);
  if (matched?.key !== each.operation) {
    return [`${request.method} ${url.pathname} is ${matched?.key ?? "no operation"}, not ${each.operation}`];
  }
  const op = description.operations[each.operation];
  if (!op) return [`${each.operation} is not in the fixture`];
  for (const param of op.parameters.filter((p) => p.in === "path")) {
    const value = matched.params[param.name];
    if (!value) problems.push(`path parameter ${param.name} is empty`);
    else for (const err of validate(param.schema, value, true)) problems.push(`path ${param.name}: ${err}`);
  }
  const query = [...url.searchParams.entries()];
  for (const [name, value] of query) {
    const param = op.parameters.find((p) => p.in === "query" && p.name === name);
    if (!param) problems.push(`query parameter ${name} is not declared by ${op.operationId}`);
    else
      for (const err of validate(param.schema, value, true)) problems.push(`query ${name}=${value}: ${err}`);
  }
  for (const param of op.parameters.filter((p) => p.in === "query" && p.required)) {
    if (!url.searchParams.has(param.name)) problems.push(`required query parameter ${param.name} is missing`);
  }
  if (op.requestBody) {
    const schema = op.requestBody.schema;
    if (request.headers["content-type"] !== "application/json") problems.push("the body is not sent as JSON");
    if (!schema) problems.push("the operation declares no JSON request body");
    else {
      const body = JSON.parse(request.body) as Record<string, unknown>;
      for (const err of validate(schema, body)) problems.push(`body ${err}`);
      for (const field of Object.keys(body)) {
        if (!declares(schema, [field])) problems.push(`body field ${field} is not declared`);
      }
    }
  } else if (request.body !== "") problems.push(`${op.operationId} takes no body; one was sent`);
  if (each.reply !== "drop") {
    const handled = new Set([
      ...(call.accept ?? []),
      ...(each.reply.status < 300 ? [each.reply.status] : []),
    ]);
    for (const status of [...handled].sort((a, b) => a - b)) {
      if (op.responses[String(status)] || SEEN_UNDOCUMENTED[each.operation]?.includes(status)) continue;
      problems.push(`status ${status} is not a documented response`);
    }
    if (!each.requestOnly && each.reply.status < 300) {
      const response = op.responses[String(each.reply.status)];
      for (const read of outcome.reads) {
        if (!response?.schema || !declares(response.schema, read.split("."))) {
          problems.push(`the ${each.reply.status} answer's ${read} is not in its documented schema`);
        }
      }
      for (const name of outcome.headerReads) {
        if (!response?.headers?.includes(name)) {
          problems.push(`the ${each.reply.status} answer's header ${name} is not documented`);
        }
      }
    }
  }
  return problems;
}

/**
 * Statuses GitHub answers that its description does not document, each with where it was seen: the client
 * handles them, and only these may be handled undocumented.
 */
const SEEN_UNDOCUMENTED: Record<string, number[]> = {
  // 404 "Reference does not exist" to the deletion of a branch deleted just before (eclipse-csi/otterdog#713);
  // any other 404 is a token's refusal.
  "DELETE /repos/{owner}/{repo}/git/refs/{ref}": [404],
};

describe(`Contract: GitHubClient against GitHub's OpenAPI description (${fixture.source.package} ${fixture.source.version})`, () => {
  const outcomes = new Map<Exchange, Outcome>();
  before(async () => {
    for (const each of githubExchanges) {
      outcomes.set(each, await exchange(each, (url) => new RecordingGitHubClient(url, AUTH)));
    }
    for (const each of giteaExchanges) {
      outcomes.set(each, await exchange(each, (url) => new RecordingGiteaClient(url, AUTH)));
    }
  });

  it("the fixture holds every operation the exchanges name, in each description", () => {
    for (const [name, description] of Object.entries(fixture.descriptions)) {
      for (const each of githubExchanges) {
        expect(description.operations, name).to.have.property(each.operation);
        expect(description.paths, name).to.include(each.operation);
      }
    }
  });

  for (const [name, description] of Object.entries(fixture.descriptions)) {
    describe(`${name} (${description.file})`, () => {
      for (const each of githubExchanges) {
        it(`GitHubClient.${each.what} is ${each.operation} as documented: parameters, body, handled statuses, fields read`, () => {
          const outcome = outcomes.get(each);
          if (!outcome) throw new Error("the exchange did not run");
          expect(disagreements(description, each, outcome)).to.deep.equal([]);
        });
      }
      for (const each of giteaExchanges) {
        it(`GiteaClient.${each.what} on GitHub's route is ${each.operation} as documented: parameters, body`, () => {
          const outcome = outcomes.get(each);
          if (!outcome) throw new Error("the exchange did not run");
          expect(disagreements(description, each, outcome)).to.deep.equal([]);
        });
      }

      it("GitHubClient.archive's URL is GET /repos/{owner}/{repo}/zipball/{ref}, a documented 302, at the commit", () => {
        const source = new GitHubClient("http://127.0.0.1:1", AUTH).archive(REPO, SHA);
        const url = new URL(source.url);
        const matched = operationOf(description, "GET", url.pathname);
        expect(matched?.key).to.equal("GET /repos/{owner}/{repo}/zipball/{ref}");
        expect(matched?.params).to.deep.equal({ owner: "acme", repo: "api", ref: SHA });
        expect(Object.keys(description.operations[matched?.key ?? ""]?.responses ?? {})).to.deep.equal([
          "302",
        ]);
        expect(source.headers.accept).to.equal("application/vnd.github+json");
      });

      it("none of these operations declares a header parameter (Accept and X-GitHub-Api-Version are the docs' advice)", () => {
        for (const op of Object.values(description.operations)) {
          expect(op.parameters.filter((p) => p.in === "header").map((p) => p.name)).to.deep.equal([]);
        }
      });
    });
  }

  it("every GitHubClient request asks for application/vnd.github+json and names API version 2022-11-28", () => {
    for (const each of githubExchanges) {
      const [request] = outcomes.get(each)?.seen ?? [];
      expect(request?.headers.accept, each.what).to.equal("application/vnd.github+json");
      expect(request?.headers["x-github-api-version"], each.what).to.equal("2022-11-28");
    }
  });

  it("GitHubClient reads only the Link header of a pull request list's answer (documented on pulls/list's 200), and none of a pull request's", () => {
    const read = (what: string) =>
      [...outcomes.entries()].find(([each]) => each.what === what)?.[1].headerReads;
    expect(read("openPullRequestsInto")).to.deep.equal(["link"]);
    expect(read("getPullRequest")).to.deep.equal([]);
  });

  it("GitHubClient reads these fields of a pull request, each found in pulls/get's 200 schema above", () => {
    const outcome = [...outcomes.entries()].find(([each]) => each.what === "getPullRequest")?.[1];
    expect(outcome?.reads).to.deep.equal([
      "base",
      "base.repo",
      "base.repo.default_branch",
      "base.repo.full_name",
      "head",
      "head.ref",
      "head.repo",
      "head.repo.full_name",
      "head.sha",
      "merged",
      "merged_at",
      "number",
      "state",
    ]);
  });
});
