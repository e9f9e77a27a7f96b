// A small Jenkins-protocol server for integration tests: 127.0.0.1, port 0, real HTTP (or HTTPS).
// It checks what a real controller checks (job path, Basic auth with user + API token, the CSRF crumb
// and its session cookie when crumb mode is on), records every request, and answers what the test
// scripts: a queue of replies, then the default (201 with a Location to a queue item). A request it queues
// starts a build at once (no quiet period), which GET {job}/api/json lists as Jenkins shapes it.
import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";

export type JenkinsReply =
  /** Answer with this status. `location: true` on a 201 sends a queue item URL; a string sends it verbatim. */
  (
    | { status: number; location?: boolean | string; headers?: Record<string, string>; body?: string }
    /** Destroy the socket without an answer. */
    | { drop: true }
    /** Never answer (until the server closes): for timeout tests. */
    | { hang: true }
  ) & {
    /**
     * Whether the request starts a build (default: only a 201 does): true for one whose answer is lost (a
     * timeout, a proxy's 504, a dropped connection after Jenkins queued it).
     */
    build?: boolean;
  };

/**
 * A parameter definition of the jobs that define parameters: a boolean default makes a boolean parameter; a
 * string one's default is empty unless given, and an empty one is held as null, as StringParameterDefinition's.
 */
export interface JenkinsParameterDefinition {
  name: string;
  default?: string | boolean;
  /**
   * A string parameter with "Trim the string" on: a build holds the value sent trimmed as Java trims (a
   * StringParameterValue's doTrim). The job's api/json does not show it (isTrim is not exported).
   */
  trim?: boolean;
}

/** A build as the fake keeps it; its JSON is Jenkins' (ParametersAction, CauseAction with a UserIdCause). */
export interface JenkinsBuild {
  /** The job, as "folder/job". */
  job: string;
  number: number;
  /** When it left the queue (epoch ms), Run.getTimestamp. */
  timestamp: number;
  /** The UserIdCause's userId; undefined: a timer started it (TimerTrigger$TimerTriggerCause). */
  user?: string;
  /** Its parameter values, typed as Jenkins exports them (a boolean parameter's is a boolean). */
  parameters?: Record<string, string | boolean | null>;
  /** Started with the job's trigger token: a RemoteCause (no userId), its note the request's `cause`. */
  remote?: { addr: string; note: string | null };
}

export interface JenkinsRecord {
  method: string;
  /** The raw (still percent-encoded) path, without the query string. */
  path: string;
  /** The job's folder segments, decoded: ["api", "build"]; empty for non-job paths. */
  job: string[];
  /** "buildWithParameters" | "build" | other last segment. */
  endpoint: string;
  query: Record<string, string>;
  /** Header names lower-cased; the Authorization value is replaced with "<redacted>". */
  headers: Record<string, string | string[] | undefined>;
  /** The Basic auth user, when one was sent. */
  user?: string;
  /** Parsed application/x-www-form-urlencoded body (repeated keys keep the last value). */
  form: Record<string, string>;
  contentType?: string;
}

export interface JenkinsServerOptions {
  user?: string;
  token?: string;
  /** Require a crumb + session cookie on POSTs (GET /crumbIssuer/api/json issues them). */
  crumb?: boolean;
  /** Jobs that exist, as "folder/job"; absent means every job exists. Unknown jobs get 404. */
  jobs?: string[];
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Jobs that define parameters, as "folder/job"; the others define none. When set, builds behave as
   * Jenkins' ParameterizedJobMixIn: POST .../build on a job with parameters is 400 "Nothing is submitted"
   * (ParametersDefinitionProperty._doBuild), POST .../buildWithParameters on a job without is a 500
   * "Oops!" page (IllegalStateException), and GET .../api/json lists the parameter definitions.
   */
  parameterized?: string[];
  /**
   * Choice parameters (name -> choices) of every job in `parameterized`: a value not among them is
   * Jenkins' 500 "Oops!" page (ChoiceParameterDefinition.checkValue throws IllegalArgumentException).
   */
  choices?: Record<string, string[]>;
  /**
   * Multibranch projects and organization folders, as "folder/job": POST .../build schedules a scan and
   * answers 302 to the folder itself (ComputedFolder.doBuild -> forwardToPreviousPage).
   */
  computedFolders?: string[];
  /**
   * The parameter definitions of the jobs that define parameters (default: a BRANCH string parameter, plus
   * `choices`). Given, a build holds a value for each (the one sent, else the default) and none for another
   * parameter sent, as ParametersDefinitionProperty.buildWithParameters; not given, it holds what was sent.
   */
  definitions?: JenkinsParameterDefinition[];
  /** Answer GET {job}/api/json asking for builds with this status (403: no Job/Read; 500), or never. */
  buildsApiStatus?: number | "hang";
  /**
   * How far Jenkins' clock runs ahead of ours (ms; negative: behind): it stamps builds and writes the Date
   * header of every answer (whole seconds, as any server). Default 0.
   */
  clockAheadMs?: number;
  /**
   * The jobs' "Trigger builds remotely" token: a build request with a `token` parameter gets a RemoteCause
   * (its note the `cause` parameter) instead of the user's cause. A wrong token is not modelled.
   */
  triggerToken?: string;
  /**
   * How long after a build request its build leaves the queue (Run's timestamp): Jenkins' default quiet period
   * is 5 s. The fake lists the build at once, stamped as it will be. Default 5000.
   */
  quietPeriodMs?: number;
}

export interface JenkinsServer {
  url: string;
  /** Every request received, in order. */
  requests: JenkinsRecord[];
  /** Build requests (POSTs to a job) only. */
  builds(): JenkinsRecord[];
  /** Queue replies for the next build POSTs, in order; then the default applies again. */
  script(...replies: JenkinsReply[]): void;
  /** The crumbs issued so far. */
  crumbsIssued: string[];
  /** Every build started (numbered per job), in order, with those added. */
  jobBuilds: JenkinsBuild[];
  /** A build started some other way (another user, a timer, earlier): numbered after the job's last. */
  addBuild(build: Omit<JenkinsBuild, "number">): JenkinsBuild;
  close(): Promise<void>;
}

export async function startJenkinsServer(options: JenkinsServerOptions = {}): Promise<JenkinsServer> {
  const user = options.user ?? "ci-bot";
  const token = options.token ?? "11aa22bb33cc44dd55ee66ff77gg88hh";
  const requests: JenkinsRecord[] = [];
  const scripted: JenkinsReply[] = [];
  const crumbsIssued: string[] = [];
  const sessions = new Map<string, string>(); // JSESSIONID -> crumb
  const sockets = new Set<Socket>();
  let queueItem = 0;
  let url = "";
  const jobBuilds: JenkinsBuild[] = [];
  const addBuild = (build: Omit<JenkinsBuild, "number">): JenkinsBuild => {
    const number = jobBuilds.filter((b) => b.job === build.job).length + 1;
    const added = { ...build, number };
    jobBuilds.push(added);
    return added;
  };
  /** The values a build holds for a request's form (see `definitions`). */
  const buildParameters = (
    name: string,
    form: Record<string, string>,
  ): Record<string, string | boolean | null> | undefined => {
    if (options.parameterized && !options.parameterized.includes(name)) return undefined;
    if (!options.definitions) return Object.keys(form).length > 0 ? { ...form } : undefined;
    const values: Record<string, string | boolean | null> = {};
    for (const definition of options.definitions) {
      const sent = form[definition.name];
      if (sent !== undefined) {
        values[definition.name] =
          typeof definition.default === "boolean"
            ? sent.toLowerCase() === "true"
            : definition.trim
              ? javaTrim(sent)
              : sent;
      } else values[definition.name] = emptyAsNull(definition.default);
    }
    return values;
  };
  /** The job's builds as GET api/json?tree=builds[...]{M,N} gives them: newest first, in the range. */
  const buildsJson = (name: string, tree: string) => {
    const range = /builds\[.*\]\{(\d*),(\d*)\}/.exec(tree);
    const from = range?.[1] ? Number(range[1]) : 0;
    const to = range?.[2] ? Number(range[2]) : undefined;
    return jobBuilds
      .filter((b) => b.job === name)
      .reverse()
      .slice(from, to)
      .map((b) => ({
        _class: "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        actions: [
          ...(b.parameters
            ? [
                {
                  _class: "hudson.model.ParametersAction",
                  parameters: Object.entries(b.parameters).map(([parameter, value]) => ({
                    _class:
                      typeof value === "boolean"
                        ? "hudson.model.BooleanParameterValue"
                        : "hudson.model.StringParameterValue",
                    name: parameter,
                    value,
                  })),
                },
              ]
            : []),
          {
            _class: "hudson.model.CauseAction",
            causes: [
              b.remote
                ? { _class: "hudson.model.Cause$RemoteCause", ...b.remote }
                : b.user === undefined
                  ? { _class: "hudson.triggers.TimerTrigger$TimerTriggerCause" }
                  : { _class: "hudson.model.Cause$UserIdCause", userId: b.user },
            ],
          },
          {},
          { _class: "org.jenkinsci.plugins.workflow.libs.LibrariesAction" },
        ],
        number: b.number,
        timestamp: b.timestamp,
        url: `${url}/${name
          .split("/")
          .map((segment) => `job/${encodeURIComponent(segment)}/`)
          .join("")}${b.number}/`,
      }));
  };

  /** Jenkins' clock. */
  const jenkinsNow = () => Date.now() + (options.clockAheadMs ?? 0);
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader("date", new Date(jenkinsNow()).toUTCString());
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const parsed = new URL(req.url ?? "/", "http://x");
      const body = Buffer.concat(chunks).toString("utf8");
      const contentType = req.headers["content-type"];
      // Defined, not assigned: a parameter named __proto__ is recorded as sent.
      const form: Record<string, string> = contentType?.startsWith("application/x-www-form-urlencoded")
        ? Object.fromEntries(new URLSearchParams(body))
        : {};
      const headers: Record<string, string | string[] | undefined> = { ...req.headers };
      if (headers.authorization !== undefined) headers.authorization = "<redacted>";
      const segments = parsed.pathname.split("/").slice(1);
      const job: string[] = [];
      let i = 0;
      while (segments[i] === "job" && i + 1 < segments.length) {
        job.push(decodeURIComponent(segments[i + 1] ?? ""));
        i += 2;
      }
      const endpoint = segments[segments.length - 1] ?? "";
      const auth = parseBasic(req.headers.authorization);
      const record: JenkinsRecord = {
        method: req.method ?? "",
        path: parsed.pathname,
        job,
        endpoint,
        query: Object.fromEntries(parsed.searchParams),
        headers,
        user: auth?.user,
        form,
        contentType,
      };
      requests.push(record);

      const send = (status: number, extra: Record<string, string> = {}, text = "") => {
        res.writeHead(status, { "content-type": "text/plain", ...extra });
        res.end(text);
      };
      if (!auth || auth.user !== user || auth.password !== token) {
        return send(401, { "www-authenticate": 'Basic realm="Jenkins"' }, "Unauthorized");
      }
      if (req.method === "GET" && parsed.pathname === "/crumbIssuer/api/json") {
        const crumb = randomBytes(16).toString("hex");
        const session = `node0${randomBytes(8).toString("hex")}.node0`;
        sessions.set(session, crumb);
        crumbsIssued.push(crumb);
        res.writeHead(200, {
          "content-type": "application/json",
          "set-cookie": `JSESSIONID.abc123=${session}; Path=/; HttpOnly`,
        });
        res.end(
          JSON.stringify({
            _class: "hudson.security.csrf.DefaultCrumbIssuer",
            crumb,
            crumbRequestField: "Jenkins-Crumb",
          }),
        );
        return;
      }
      const name = job.join("/");
      if (req.method === "GET" && job.length > 0 && endpoint === "json") {
        // Tomcat (a Jenkins WAR's common container) refuses raw [ ] in a request target.
        if (/[[\]]/.test(req.url ?? ""))
          return send(400, {}, "Invalid character found in the request target");
        // Without a parameterized list every job takes what it is given, as before that option.
        const defines = options.parameterized ? options.parameterized.includes(name) : true;
        const tree = parsed.searchParams.get("tree") ?? "";
        const asksBuilds = tree.includes("builds[");
        const refusal = asksBuilds ? options.buildsApiStatus : undefined;
        if (refusal === "hang") return;
        if (refusal !== undefined) {
          return send(refusal, { "content-type": "text/html" }, "<html><body>refused</body></html>");
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify(
            options.computedFolders?.includes(name)
              ? { _class: "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject", jobs: [] }
              : {
                  _class: "org.jenkinsci.plugins.workflow.job.WorkflowJob",
                  nextBuildNumber: 1,
                  property: defines
                    ? [
                        {
                          _class: "hudson.model.ParametersDefinitionProperty",
                          parameterDefinitions: options.definitions
                            ? options.definitions.map((definition) => definitionJson(definition))
                            : [
                                {
                                  _class: "hudson.model.StringParameterDefinition",
                                  name: "BRANCH",
                                  type: "StringParameterDefinition",
                                },
                                ...Object.entries(options.choices ?? {}).map(([choice, values]) => ({
                                  _class: "hudson.model.ChoiceParameterDefinition",
                                  name: choice,
                                  type: "ChoiceParameterDefinition",
                                  choices: values,
                                })),
                              ],
                        },
                      ]
                    : [{ _class: "jenkins.model.BuildDiscarderProperty" }],
                  ...(asksBuilds ? { builds: buildsJson(name, tree) } : {}),
                },
          ),
        );
        return;
      }
      const isBuild =
        req.method === "POST" &&
        job.length > 0 &&
        i === segments.length - 1 &&
        (endpoint === "build" || endpoint === "buildWithParameters");
      if (!isBuild) return send(404, {}, "Not Found");
      if (options.crumb) {
        const cookie = /JSESSIONID\.abc123=([^;\s]+)/.exec(String(req.headers.cookie ?? ""))?.[1];
        const crumb = req.headers["jenkins-crumb"];
        if (!cookie || !crumb || sessions.get(cookie) !== crumb) {
          return send(403, {}, "No valid crumb was included in the request");
        }
      }
      if (options.jobs && !options.jobs.includes(name)) return send(404, {}, "Not Found");
      if (options.computedFolders?.includes(name)) {
        if (endpoint !== "build") return send(404, {}, "Not Found");
        return send(302, { location: `${url}${parsed.pathname.slice(0, -"build".length)}` });
      }
      if (options.parameterized) {
        const defines = options.parameterized.includes(name);
        if (endpoint === "build" && defines && form.json === undefined) {
          return send(400, { "content-type": "text/html" }, "<html><body>Nothing is submitted</body></html>");
        }
        const illegalChoice = Object.entries(options.choices ?? {}).some(
          ([choice, values]) => form[choice] !== undefined && !values.includes(form[choice] as string),
        );
        if (endpoint === "buildWithParameters" && (!defines || illegalChoice)) {
          return send(
            500,
            { "content-type": "text/html" },
            "<html><body><h1>Oops!</h1><p>A problem occurred while processing the request. Logging ID=0f1e</p></body></html>",
          );
        }
      }

      const reply: JenkinsReply = scripted.shift() ?? { status: 201, location: true };
      if (reply.build ?? ("status" in reply && reply.status === 201)) {
        // ParameterizedJobMixIn.getBuildCause: the job's trigger token in a `token` parameter makes a
        // RemoteCause with the `cause` parameter as its note; otherwise the signed-in user's UserIdCause.
        const remote = options.triggerToken !== undefined && form.token !== undefined;
        addBuild({
          job: name,
          timestamp: jenkinsNow() + (options.quietPeriodMs ?? 5_000),
          ...(remote ? { remote: { addr: "127.0.0.1", note: form.cause ?? null } } : { user: auth.user }),
          parameters: buildParameters(name, form),
        });
      }
      if ("drop" in reply) {
        req.socket.destroy();
        return;
      }
      if ("hang" in reply) return;
      const extra: Record<string, string> = { ...reply.headers };
      if (reply.location === true) extra.location = `${url}/queue/item/${++queueItem}/`;
      else if (typeof reply.location === "string") extra.location = reply.location;
      send(reply.status, extra, reply.body ?? "");
    });
  };

  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : http.createServer(handler);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  url = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;

  return {
    url,
    requests,
    builds: () => requests.filter((r) => r.method === "POST" && r.job.length > 0),
    script: (...replies) => scripted.push(...replies),
    crumbsIssued,
    jobBuilds,
    addBuild,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A parameter definition as GET api/json gives it, its default a ParameterValue. */
function definitionJson({ name, default: value }: JenkinsParameterDefinition) {
  const kind = typeof value === "boolean" ? "Boolean" : "String";
  return {
    _class: `hudson.model.${kind}ParameterDefinition`,
    defaultParameterValue: { _class: `hudson.model.${kind}ParameterValue`, name, value: emptyAsNull(value) },
    name,
    type: `${kind}ParameterDefinition`,
  };
}

/** Java's String.trim (StringParameterValue.doTrim): characters up to U+0020 at either end. */
function javaTrim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) <= 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) <= 0x20) end--;
  return value.slice(start, end);
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header?.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * A default as Jenkins holds it: StringParameterDefinition.setDefaultValue keeps an empty one as null
 * (Util.fixEmpty), and its value, in the definition and in a build that took it, is shown as "value": null.
 */
function emptyAsNull(value: string | boolean | undefined): string | boolean | null {
  return value === undefined || value === "" ? null : value;
}
