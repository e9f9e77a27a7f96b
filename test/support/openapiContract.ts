// What the contract tests of the Git host clients share (test/actions/*Contract.test.ts): a client's call
// made against a scripted 127.0.0.1 server, recorded as sent and as read (the fields and headers it reads
// of the answer), and checked against an operation of the host's published API description, as a fixture
// holds it (test/fixtures/*-openapi/operations.json). They were githubContract.test.ts's own.
import { Ajv, type ValidateFunction } from "ajv";
import type { ApiCall, ApiClient } from "../../src/actions/gitHost/base";
import type { CommitStatus } from "../../src/actions/gitHost/types";
import type { HttpResponse } from "../../src/actions/http";
import { type Reply, type Seen, scriptedServer } from "./scriptedServer";

/** The commit statuses every host's contract sets: one with a link, one past every host's description limit. */
export const STATUS_WITH_LINK: CommitStatus = {
  state: "pending",
  context: "hookgate/cleanup",
  description: "queued",
  targetUrl: "https://ci.example/1",
};
export const STATUS_LONG_NO_LINK: CommitStatus = {
  state: "failure",
  context: "hookgate/cleanup",
  description: "x".repeat(300),
};

export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
};

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  /** The server takes the rest of the path here, "/" included (the description says one segment). */
  multiSegment?: boolean;
  schema: Schema;
}

export interface Operation {
  operationId: string;
  docs?: string;
  parameters: Parameter[];
  requestBody?: { required: boolean; schema?: Schema };
  /** Each response's documented header names (lower case) and JSON schema. */
  responses: Record<string, { description: string; headers?: string[]; schema?: Schema }>;
}

export interface Description {
  file: string;
  /** The "METHOD template"s a request is matched against (the whole description's, or as the fixture says). */
  paths: string[];
  operations: Record<string, Operation>;
}

export interface Exchange<C> {
  what: string;
  /** The operation it must be, "METHOD template". */
  operation: string;
  reply: Reply;
  run(client: C): Promise<unknown>;
  /** What the description does not say that the host does, as disagreements() words it: expected there. */
  gaps?: string[];
}

export interface Outcome {
  seen: Seen[];
  calls: ApiCall[];
  /** Each field path the client read of a success answer's JSON: head.repo.full_name, [].number. */
  reads: string[];
  /** Each header the client read of the answer (lower case). */
  headerReads: string[];
}

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

/** The client, each of its calls recorded as the client put it, and the headers it reads of their answers. */
function recording<C extends ApiClient>(client: C): { calls: ApiCall[]; headerReads: Set<string> } {
  const calls: ApiCall[] = [];
  const headerReads = new Set<string>();
  const target = client as unknown as { call(call: ApiCall): Promise<HttpResponse> };
  const original = target.call.bind(client);
  target.call = async (call: ApiCall) => {
    calls.push(call);
    return recordingHeaders(await original(call), headerReads);
  };
  return { calls, headerReads };
}

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

/** One exchange: the client (made for the server's URL) runs against the scripted answer. */
export async function exchange<C extends ApiClient>(
  each: Exchange<C>,
  client: (url: string) => C,
): Promise<Outcome> {
  const host = await scriptedServer(() => each.reply);
  const reads = new Set<string>();
  const parse = JSON.parse;
  const reply = each.reply === "drop" ? undefined : each.reply;
  const success = reply !== undefined && reply.status >= 200 && reply.status < 300;
  try {
    const made = client(host.url);
    const record = recording(made);
    if (success) {
      // Only the answer's own text: the HTTP client parses JSON of its own meanwhile.
      JSON.parse = (text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) =>
        text === reply.body ? recorded(parse(text, reviver), [], reads) : parse(text, reviver);
    }
    try {
      await each.run(made);
    } finally {
      JSON.parse = parse;
    }
    return {
      seen: host.seen,
      calls: record.calls,
      reads: [...reads].sort(),
      headerReads: [...record.headerReads].sort(),
    };
  } finally {
    await host.close();
  }
}

const ajv = new Ajv({ strict: true, allErrors: true });
/** Parameters come as text: each is coerced to its schema's type, as a server reads them. */
const ajvParameters = new Ajv({ strict: true, allErrors: true, coerceTypes: true });
const compiled = new Map<Schema, ValidateFunction>();

export function validate(schema: Schema, value: unknown, coerce = false): string[] {
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
export function declares(schema: Schema, path: string[]): boolean {
  const [first, ...rest] = path;
  if (first === undefined) return true;
  return branches(schema).some((s) => {
    const next = first === "[]" ? s.items : s.properties?.[first];
    return next !== undefined && declares(next, rest);
  });
}

/** The description's operation a request is: the template with the most fixed text among those that match. */
export function operationOf(
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

/**
 * What of one exchange disagrees with the description: one line each, none when all agree. `basePath` is
 * the part of the request's path before the description's templates (GitLab's /api/v4); `requestOnly`
 * checks the request alone.
 */
export function disagreements<C>(
  description: Description,
  each: Exchange<C>,
  outcome: Outcome,
  options: { basePath?: string; requestOnly?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const [request, ...more] = outcome.seen;
  const [call] = outcome.calls;
  if (!request || !call || more.length > 0) return [`expected one request, saw ${outcome.seen.length}`];
  const url = new URL(request.url, "http://127.0.0.1");
  const base = options.basePath ?? "";
  if (!url.pathname.startsWith(base)) return [`${url.pathname} is not under ${base}`];
  const pathname = url.pathname.slice(base.length);
  const matched = operationOf(description, request.method, pathname);
  if (matched?.key !== each.operation) {
    return [`${request.method} ${pathname} is ${matched?.key ?? "no operation"}, not ${each.operation}`];
  }
  const op = description.operations[each.operation];
  if (!op) return [`${each.operation} is not in the fixture`];
  for (const param of op.parameters.filter((p) => p.in === "path")) {
    const value = matched.params[param.name];
    if (!value) problems.push(`path parameter ${param.name} is empty`);
    else for (const err of validate(param.schema, value, true)) problems.push(`path ${param.name}: ${err}`);
  }
  for (const [name, value] of url.searchParams.entries()) {
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
      if (!op.responses[String(status)]) problems.push(`status ${status} is not a documented response`);
    }
    if (!options.requestOnly && each.reply.status < 300) {
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
