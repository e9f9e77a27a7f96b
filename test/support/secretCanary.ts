// The secret canary's tools (test/cli/secretCanary.test.ts, test/aws/secretCanary.test.ts): canary values, the
// search for them in every encoding a leak takes, and an echo server that plays Jenkins, every Git host's API
// and archive, and a proxy, answering with the credentials it received in every way an answer can carry them.
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";

export const RUN = randomBytes(5).toString("hex");
/** A secret value nobody could mistake: CANARY-<purpose>-<random>. */
export const canary = (purpose: string) => `CANARY-${purpose}-${RUN}`;

/**
 * How the echo server answers a request, read from the credential it carries (CANARY-<mode>-…) or, for a
 * redirect it sent, from its path (/mode-<mode>/). "st" before a mode: commit statuses succeed, the rest not.
 */
export const MODES = [
  "json401", // 401, JSON {"message": <echo>}
  "json500long", // 500, JSON with the echo starting near character 200
  "json422", // GitHub's Validation Failed, the echo in errors[]
  "html403", // 403, an HTML page with the echo
  "html502long", // 502, a 200 KB HTML page with the echo in the middle and at the end
  "hdr401", // 401 with the echo in WWW-Authenticate and X-Echo
  "redirui", // 302 to http://user:<token>@host/…
  "redirhost", // 302 to http://<token>.canary.test/mode-reset/… (a host name, never resolved: see below)
  "redirout", // 302 to /login/<token>?token=<token>#<token>
  "redirin", // 307 to the same path plus /<token>?token=<token> (inside an API's base path)
  "see303", // 303 to /job/x/<token>?token=<token>
  "loc201", // 201 with a Location holding the token in user info, path, query and fragment
  "choices", // Jenkins: 500 to the build, a choice parameter whose choices echo the token
  "reset", // the connection is destroyed
  "ok", // what a working server answers
] as const;
export type Mode = (typeof MODES)[number];

/** The users Basic credentials are sent with (a Basic header is base64 of user:secret). */
export const USERS = ["ci-bot", "bot@example.com", "proxyuser"];

// ---------------------------------------------------------------------------------------------------------
// The search

export interface Needle {
  label: string;
  bytes: Buffer;
}

/**
 * Each canary raw, lower-cased (a parsed URL's host name; its punycode keeps the ASCII part), URL-encoded, base64
 * (alone and as user:canary), base64url and hex: the forms a leak takes.
 */
export function needlesOf(secrets: string[]): Needle[] {
  const needles: Needle[] = [{ label: "CANARY (any secret, raw)", bytes: Buffer.from("CANARY-") }];
  const add = (label: string, text: string) => {
    if (text.length >= 8 && !needles.some((n) => n.bytes.toString() === text))
      needles.push({ label, bytes: Buffer.from(text) });
  };
  for (const secret of secrets) {
    const bytes = Buffer.from(secret);
    add(`raw ${mask(secret)}`, secret);
    add(`lower-cased ${mask(secret)}`, secret.toLowerCase());
    add(`url-encoded ${mask(secret)}`, encodeURIComponent(secret));
    add(`form-encoded ${mask(secret)}`, new URLSearchParams({ x: secret }).toString().slice(2));
    add(`base64 ${mask(secret)}`, bytes.toString("base64").replace(/=+$/, ""));
    add(`base64url ${mask(secret)}`, bytes.toString("base64url"));
    add(`hex ${mask(secret)}`, bytes.toString("hex"));
    add(`HEX ${mask(secret)}`, bytes.toString("hex").toUpperCase());
    for (const user of USERS) {
      const basic = Buffer.from(`${user}:${secret}`).toString("base64");
      // A Basic header cut short still shows the start of the pair: the first 24 characters are enough.
      add(`Basic ${user}:${mask(secret)}`, basic.slice(0, 24));
    }
    if (secret.startsWith("whsec_")) {
      const key = Buffer.from(secret.slice("whsec_".length), "base64");
      add(`signing key bytes of ${mask(secret)} (raw)`, key.toString("latin1"));
      add(`signing key bytes of ${mask(secret)} (hex)`, key.toString("hex"));
    }
  }
  return needles;
}

/** The text with each canary's purpose and random part hidden: a report never prints a secret whole. */
export function mask(text: string): string {
  return text.replace(/CANARY-[A-Za-z0-9-]*/g, "CANARY-***");
}

export interface Finding {
  where: string;
  needle: string;
  excerpt: string;
}

export function search(
  where: string,
  content: Buffer | string,
  needles: Needle[],
  findings: Finding[],
): void {
  const buffer = typeof content === "string" ? Buffer.from(content) : content;
  for (const needle of needles) {
    const at = buffer.indexOf(needle.bytes);
    if (at < 0) continue;
    const excerpt = buffer
      .subarray(Math.max(0, at - 80), at + needle.bytes.length + 40)
      .toString("utf8")
      .split(needle.bytes.toString("utf8"))
      .join("«LEAK»");
    findings.push({ where, needle: needle.label, excerpt: mask(excerpt).replace(/\s+/g, " ") });
  }
}

export function report(findings: Finding[]): string {
  return findings
    .slice(0, 40)
    .map((f) => `  ${f.where}: ${f.needle}: …${f.excerpt}…`)
    .join("\n");
}

export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * `token` in the URLs a server builds around it, each written by a URL's own setters: the password's, the
 * search's and searchParams' (each encodes other characters than encodeURIComponent does), and encoded twice (a
 * sign-in redirect whose query holds a URL that holds it), by searchParams and by encodeURIComponent.
 */
export function urlsHolding(token: string, here: string): string {
  const built = (path: string, change: (url: URL) => void) => {
    const url = new URL(path, here);
    change(url);
    return url.href;
  };
  const inner = (url: URL) => url.searchParams.set("token", token);
  return [
    built("/", (url) => {
      url.username = "ci-bot";
      url.password = token;
    }),
    built("/login", (url) => {
      url.search = `?token=${token}`;
    }),
    built("/login", inner),
    built("/login", (url) => url.searchParams.set("from", built("/job/x", inner))),
    `${here}/login?from=${encodeURIComponent(`${here}/job/x?token=${encodeURIComponent(token)}`)}`,
  ].join(" ");
}

// ---------------------------------------------------------------------------------------------------------
// The echo server: Jenkins, every Git host's API and archive, and (for absolute-form requests) a proxy

export interface EchoServer {
  url: string;
  port: number;
  /** Every request body received (a commit status's description among them). */
  bodies: Array<{ what: string; body: string }>;
  close(): Promise<void>;
}

/** The credentials a request carries: each header's value, and a Basic pair decoded (whole and halves). */
export function credentialsIn(headers: http.IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name of ["authorization", "proxy-authorization", "private-token", "cookie"]) {
    const value = headers[name];
    if (typeof value !== "string") continue;
    out.push(value);
    const [, scheme, rest] = /^(\S+)\s+(\S+)$/.exec(value) ?? [];
    if (!rest) continue;
    out.push(rest);
    if (scheme?.toLowerCase() === "basic") {
      const pair = Buffer.from(rest, "base64").toString("utf8");
      out.push(pair, pair.slice(pair.indexOf(":") + 1));
    }
  }
  return out;
}

export function modeOf(credentials: string[], path: string): { mode: Mode; statusOk: boolean } {
  const text = `${credentials.join(" ")} ${path}`;
  for (const found of text.matchAll(/(?:CANARY-|\/mode-)(st)?([a-z0-9]+)[-/]/g)) {
    const mode = MODES.find((m) => m === found[2]);
    if (mode) return { mode, statusOk: found[1] === "st" };
  }
  return { mode: "json401", statusOk: false };
}

export async function startEchoServer(zips: Buffer): Promise<EchoServer> {
  const bodies: EchoServer["bodies"] = [];
  const sockets = new Set<Socket>();
  let port = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const target = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
      const path = target.pathname;
      if (body !== "") bodies.push({ what: `${req.method} ${path}`, body });
      const credentials = credentialsIn(req.headers);
      const { mode, statusOk } = modeOf(credentials, path);
      // CANARY-slow-…: no answer at all, until the caller gives up (its deadline) or the server closes.
      if (credentials.some((each) => each.includes("CANARY-slow-"))) return;
      // Asked as a proxy (an absolute-form target), the html403 servers refuse its credentials, echoing them.
      if (/^https?:/.test(req.url ?? "") && mode === "html403") {
        res.writeHead(407, {
          "content-type": "text/html",
          "proxy-authenticate": `Basic realm="${credentials.join(" ")}"`,
        });
        res.end(`<html>407 ${credentials.join(" ")}</html>`);
        return;
      }
      const token = credentials.at(-1) ?? "no-credentials";
      const here = `http://127.0.0.1:${port}`;
      const echo = `${req.method} ${req.url} ${credentials.join(" | ")} ${JSON.stringify(req.headers)} ${urlsHolding(token, here)}`;
      // The token in a Location's path, as servers write it: component-encoded, as encodeURI leaves it, and with
      // lower-case hex escapes.
      const inPath = [
        encodeURIComponent(token),
        encodeURI(token),
        encodeURIComponent(token).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      ].join("/");
      const send = (status: number, headers: Record<string, string>, text = "") => {
        res.writeHead(status, headers);
        res.end(text);
      };
      const jsonAnswer = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        send(status, { "content-type": "application/json", ...headers }, JSON.stringify(value));
      if (path.includes("/hooks/")) {
        // hookgate send's target: it echoes the signatures (HMACs), and GitLab's token and the proxy's
        // credentials in URLs built around them.
        const signatures = Object.fromEntries(
          Object.entries(req.headers).filter(([name]) => /signature/.test(name)),
        );
        const sent = [req.headers["x-gitlab-token"], ...credentials].filter((v) => typeof v === "string");
        const links = sent.map((value) => urlsHolding(value, here));
        return jsonAnswer(401, { status: "rejected", reason: "signature invalid", seen: signatures, links });
      }
      const isStatus = req.method === "POST" && /\/statuses\b|\/builds$/.test(path);
      if (statusOk && isStatus) return jsonAnswer(201, { id: 1, state: "pending" });
      const archive = /\/zipball\/|\/archive|\/get\/[^/]+\.zip$/.test(path);
      const proxied = /^https?:/.test(req.url ?? "");
      switch (mode) {
        case "json401":
          return jsonAnswer(401, { message: echo, error: echo });
        case "json500long":
          return jsonAnswer(500, { message: `${"x".repeat(190)} ${token} ${echo}` });
        case "json422":
          return jsonAnswer(422, {
            message: "Validation Failed",
            errors: [{ message: token }, { code: token }, { resource: echo }],
          });
        case "html403":
          return send(
            403,
            { "content-type": "text/html" },
            `<html><body><h1>403 ${token}</h1>${echo}</body></html>`,
          );
        case "html502long":
          return send(
            502,
            { "content-type": "text/html" },
            `<html><body>${"<p>gateway</p>".repeat(7000)}${echo}${"<p>gateway</p>".repeat(7000)}${echo}</body></html>`,
          );
        case "hdr401":
          return jsonAnswer(
            401,
            { message: "Bad credentials" },
            {
              "www-authenticate": `Bearer realm="${token}", error_description="${token}"`,
              "x-echo": credentials.join(", "),
            },
          );
        case "redirui":
          return send(302, {
            location: `http://ci-bot:${encodeURIComponent(token)}@127.0.0.1:${port}${path}`,
          });
        case "redirhost":
          // Only through a proxy (an absolute-form request here): directly, an archive download would follow it
          // to a host name the resolver is asked for. The proxy resets it (its path's mode).
          if (archive && !proxied) return jsonAnswer(401, { message: echo });
          return send(302, {
            location: `http://${token}.canary.test:${port}/mode-reset/login`,
          });
        case "redirout":
          return send(302, {
            location: `${here}/mode-redirout/login/${inPath}?token=${encodeURIComponent(token)}#${encodeURIComponent(token)}`,
          });
        case "redirin":
          return send(307, {
            location: `${here}${path}/mode-redirin/${inPath}?token=${encodeURIComponent(token)}`,
          });
        case "see303":
          return send(303, {
            location: `${here}/mode-see303/job/x/${inPath}?token=${encodeURIComponent(token)}`,
          });
        case "loc201":
          return send(201, {
            location: `http://ci-bot:${encodeURIComponent(token)}@127.0.0.1:${port}/queue/item/7/${inPath}/?token=${encodeURIComponent(token)}#${encodeURIComponent(token)}`,
          });
        case "choices":
          if (req.method === "GET" && path.endsWith("/api/json")) {
            return jsonAnswer(200, {
              property: [
                {
                  parameterDefinitions: [
                    { name: "SHA", type: "ChoiceParameterDefinition", choices: [token, echo] },
                  ],
                },
              ],
            });
          }
          return send(500, { "content-type": "text/html" }, `<html>${echo}</html>`);
        case "reset":
          req.socket.destroy();
          return;
        case "ok":
          if (archive) {
            res.writeHead(200, { "content-type": "application/zip" });
            res.end(zips);
            return;
          }
          if (path.endsWith("/crumbIssuer/api/json"))
            return jsonAnswer(200, { crumbRequestField: "Jenkins-Crumb", crumb: "c0ffee" });
          if (req.method === "POST" && /\/build(WithParameters)?$/.test(path))
            return send(201, { location: `${here}/queue/item/1/` });
          return jsonAnswer(isStatus ? 201 : 200, {});
      }
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
