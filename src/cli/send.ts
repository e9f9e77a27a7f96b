// `hookgate send`: sign and post a delivery exactly as a Git host does, to `hookgate serve` or to a
// deployed stack's URL. The payload file's bytes are sent as they are (never re-serialised).
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PROVIDERS, type Provider } from "../core/types";

export const SEND_USAGE = `Usage: hookgate send --url URL (--secret VALUE | --secrets FILE --secret-name NAME)
                     --event NAME --payload FILE [--provider github|gitlab|bitbucket|bitbucket-server|gitea]
                     [--form] [--delivery ID]

Signs and posts a delivery exactly as the provider does (headers, signature scheme, delivery id).

Options:
  --url URL            the route's URL, e.g. http://127.0.0.1:8787/hooks/api-build
  --secret VALUE       the webhook secret (GitLab: the secret token)
  --secrets FILE       a JSON secrets file (as used by hookgate serve) ...
  --secret-name NAME   ... and the name of the secret in it (the route's "secret")
  --event NAME         GitHub-style event name (push, pull_request, ping, ...) or the provider's own
                       (e.g. "Merge Request Hook", "repo:push")
  --payload FILE       the JSON payload, sent byte for byte
  --provider NAME      github (default), gitlab, bitbucket, bitbucket-server or gitea
  --form               GitHub only: send application/x-www-form-urlencoded payload=<json>
  --delivery ID        the delivery id (default: a random UUID); reuse one to test duplicates
  --insecure-header K:V  add a raw header (repeatable), e.g. to test what the gateway ignores
  -h, --help           show this help

Exit status: 0 for a 2xx answer, 1 otherwise.
`;

export interface SignedRequest {
  headers: Record<string, string>;
  body: Buffer;
}

const GITLAB_EVENTS: Record<string, string> = {
  push: "Push Hook",
  tag_push: "Tag Push Hook",
  create: "Tag Push Hook",
  pull_request: "Merge Request Hook",
  merge_request: "Merge Request Hook",
  issues: "Issue Hook",
  issue: "Issue Hook",
  note: "Note Hook",
  pipeline: "Pipeline Hook",
  job: "Job Hook",
  release: "Release Hook",
  ping: "Push Hook",
};

/** Bitbucket Cloud's X-Event-Key for a GitHub-style name (pull requests: from the payload's state). */
function bitbucketEvent(event: string, payload: unknown): string {
  if (event.includes(":")) return event;
  if (event === "push") return "repo:push";
  if (event === "pull_request") {
    const state = String(
      (payload as { pullrequest?: { state?: unknown } })?.pullrequest?.state ?? "",
    ).toUpperCase();
    if (state === "MERGED") return "pullrequest:fulfilled";
    if (state === "DECLINED" || state === "SUPERSEDED") return "pullrequest:rejected";
    return "pullrequest:created";
  }
  return event;
}

/** Bitbucket Data Center's X-Event-Key. */
function bitbucketServerEvent(event: string, payload: unknown): string {
  if (event.includes(":")) return event;
  if (event === "push") return "repo:refs_changed";
  if (event === "ping") return "diagnostics:ping";
  if (event === "pull_request") {
    const state = String(
      (payload as { pullRequest?: { state?: unknown } })?.pullRequest?.state ?? "",
    ).toUpperCase();
    if (state === "MERGED") return "pr:merged";
    if (state === "DECLINED") return "pr:declined";
    return "pr:opened";
  }
  return event;
}

function hmacHex(algorithm: "sha256" | "sha1", secret: string, body: Buffer): string {
  return createHmac(algorithm, secret).update(body).digest("hex");
}

/** The headers and body a provider sends for `payload` (the raw file bytes). */
export function signDelivery(options: {
  provider: Provider;
  event: string;
  payload: Buffer;
  secret: string;
  deliveryId?: string;
  form?: boolean;
}): SignedRequest {
  const { provider, event, secret } = options;
  const id = options.deliveryId ?? randomUUID();
  let parsed: unknown;
  try {
    parsed = JSON.parse(options.payload.toString("utf8"));
  } catch {
    parsed = undefined; // sent anyway: testing how the gateway answers malformed JSON is legitimate
  }
  switch (provider) {
    case "github": {
      let body = options.payload;
      let contentType = "application/json";
      if (options.form) {
        // What GitHub sends for content type "application/x-www-form-urlencoded".
        body = Buffer.from(`payload=${encodeURIComponent(options.payload.toString("utf8"))}`, "utf8");
        contentType = "application/x-www-form-urlencoded";
      }
      return {
        body,
        headers: {
          "content-type": contentType,
          "user-agent": "GitHub-Hookshot/hookgate-send",
          "x-github-event": event,
          "x-github-delivery": id,
          "x-github-hook-id": "0",
          "x-hub-signature": `sha1=${hmacHex("sha1", secret, body)}`,
          "x-hub-signature-256": `sha256=${hmacHex("sha256", secret, body)}`,
        },
      };
    }
    case "gitlab":
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json",
          "user-agent": "GitLab/17.0.0",
          "x-gitlab-event": event.endsWith(" Hook") ? event : (GITLAB_EVENTS[event] ?? event),
          "x-gitlab-token": secret,
          "x-gitlab-event-uuid": id,
          "x-gitlab-webhook-uuid": "00000000-0000-4000-8000-000000000000",
          "x-gitlab-instance": "https://gitlab.example.com",
        },
      };
    case "bitbucket":
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json",
          "user-agent": "Bitbucket-Webhooks/2.0",
          "x-event-key": bitbucketEvent(event, parsed),
          "x-request-uuid": id,
          "x-hook-uuid": "{00000000-0000-4000-8000-000000000000}",
          "x-hub-signature": `sha256=${hmacHex("sha256", secret, options.payload)}`,
        },
      };
    case "bitbucket-server":
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "Atlassian HttpClient",
          "x-event-key": bitbucketServerEvent(event, parsed),
          "x-request-id": id,
          "x-hub-signature": `sha256=${hmacHex("sha256", secret, options.payload)}`,
        },
      };
    case "gitea":
      return {
        body: options.payload,
        headers: {
          "content-type": "application/json",
          "user-agent": "Go-http-client/1.1",
          // Gitea also sends GitHub-compatible and Gogs headers.
          "x-github-event": event,
          "x-github-event-type": event,
          "x-github-delivery": id,
          "x-gitea-event": event,
          "x-gitea-event-type": event,
          "x-gitea-delivery": id,
          "x-gitea-signature": hmacHex("sha256", secret, options.payload),
          "x-gogs-event": event,
          "x-gogs-delivery": id,
          "x-gogs-signature": hmacHex("sha256", secret, options.payload),
        },
      };
  }
}

/** The first usable value of a secrets-file entry: a string, or {secret|value|secrets[0]}, or [first]. */
export function secretFromFile(file: string, name: string): string {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === "ENOENT" ? `secrets file ${file} not found` : `secrets file ${file} is not valid JSON`,
    );
  }
  const value = (data as Record<string, unknown> | null)?.[name];
  const first = pickSecret(value);
  if (!first) {
    const names = data && typeof data === "object" ? Object.keys(data).join(", ") : "";
    throw new Error(`secret "${name}" is not in ${file}${names ? ` (it has: ${names})` : ""}`);
  }
  return first;
}

function pickSecret(value: unknown): string | undefined {
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      try {
        return pickSecret(JSON.parse(trimmed)) ?? value;
      } catch {
        return value;
      }
    }
    return value || undefined;
  }
  if (Array.isArray(value)) return pickSecret(value[0]);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return pickSecret(o.secret ?? o.value ?? o.secrets);
  }
  return undefined;
}

class UsageError extends Error {}

export async function runSend(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    process.stderr.write(`hookgate send: ${(error as Error).message}\n\n${SEND_USAGE}`);
    return 2;
  }
  if (values === "help") {
    process.stdout.write(SEND_USAGE);
    return 0;
  }
  let secret: string;
  let payload: Buffer;
  try {
    secret = values.secret ?? secretFromFile(values.secrets as string, values.secretName as string);
    payload = readFileSync(values.payload);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(
      `hookgate send: ${code === "ENOENT" ? `payload file ${values.payload} not found` : (error as Error).message}\n`,
    );
    return 1;
  }
  const signed = signDelivery({
    provider: values.provider,
    event: values.event,
    payload,
    secret,
    deliveryId: values.delivery,
    form: values.form,
  });
  for (const extra of values.extraHeaders) {
    const colon = extra.indexOf(":");
    signed.headers[extra.slice(0, colon).trim().toLowerCase()] = extra.slice(colon + 1).trim();
  }
  let response: Response;
  try {
    response = await fetch(values.url, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    process.stderr.write(
      `hookgate send: POST ${values.url} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}` +
        `${cause?.code === "ECONNREFUSED" ? " (is hookgate serve running?)" : ""}\n`,
    );
    return 1;
  }
  const text = await response.text();
  const delivery =
    signed.headers["x-github-delivery"] ??
    signed.headers["x-gitlab-event-uuid"] ??
    signed.headers["x-request-uuid"] ??
    signed.headers["x-request-id"] ??
    signed.headers["x-gitea-delivery"];
  process.stdout.write(
    `HTTP ${response.status} ${response.statusText} (delivery ${delivery})\n${text}${text.endsWith("\n") ? "" : "\n"}`,
  );
  return response.status >= 200 && response.status < 300 ? 0 : 1;
}

function parse(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string" },
      secret: { type: "string" },
      secrets: { type: "string" },
      "secret-name": { type: "string" },
      event: { type: "string" },
      payload: { type: "string" },
      provider: { type: "string", default: "github" },
      form: { type: "boolean", default: false },
      delivery: { type: "string" },
      "insecure-header": { type: "string", multiple: true },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return "help" as const;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!values.url) throw new UsageError("--url is required");
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url must be a URL, got "${values.url}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError("--url must be http or https");
  if (!values.event) throw new UsageError("--event is required");
  if (!values.payload) throw new UsageError("--payload is required");
  if (values.secret === undefined && !(values.secrets && values["secret-name"])) {
    throw new UsageError("give --secret VALUE, or --secrets FILE with --secret-name NAME");
  }
  if (values.secret !== undefined && values.secrets)
    throw new UsageError("give --secret or --secrets, not both");
  const provider = values.provider as Provider;
  if (!PROVIDERS.includes(provider)) {
    throw new UsageError(`--provider must be one of ${PROVIDERS.join(", ")}, got "${values.provider}"`);
  }
  if (values.form && provider !== "github") throw new UsageError("--form is only for --provider github");
  for (const h of values["insecure-header"] ?? []) {
    if (h.indexOf(":") <= 0) throw new UsageError(`--insecure-header must be "Name: value", got "${h}"`);
  }
  return {
    url: values.url,
    secret: values.secret,
    secrets: values.secrets,
    secretName: values["secret-name"],
    event: values.event,
    payload: values.payload,
    provider,
    form: values.form === true,
    delivery: values.delivery,
    extraHeaders: values["insecure-header"] ?? [],
  };
}
