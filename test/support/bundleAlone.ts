// A built Lambda bundle run as Lambda runs it: index.js alone in an empty folder (no node_modules on any parent
// path, as in /var/task), required by a child `node` with a Lambda-like environment, its handler called with each
// event in turn. The AWS SDK clients reach a fake AWS JSON endpoint (AWS_ENDPOINT_URL) on 127.0.0.1. A module the
// bundle needs but does not hold fails the child's require(), or the action's lazy one on the work path.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface FakeAws {
  url: string;
  /** The X-Amz-Target of each call, e.g. "AmazonSQS.SendMessage". */
  calls: string[];
  close(): Promise<void>;
}

/** Secrets Manager, DynamoDB and SQS (all AWS JSON protocol), answering what a route function needs. */
export async function startFakeAws(secrets: Record<string, string>): Promise<FakeAws> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? `${req.method} ${req.url}`);
      const body = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>)
        : {};
      calls.push(target);
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        res.end(JSON.stringify(value));
      };
      if (target === "secretsmanager.GetSecretValue") {
        const id = String(body.SecretId);
        const value = secrets[id];
        if (body.VersionStage === "AWSPREVIOUS" || value === undefined) {
          return json(400, { __type: "ResourceNotFoundException", message: "none" });
        }
        return json(200, { Name: id, SecretString: value, VersionId: "v1", VersionStages: ["AWSCURRENT"] });
      }
      if (target === "AmazonSQS.SendMessage") {
        // The SDK checks the body's MD5.
        const md5 = createHash("md5").update(String(body.MessageBody)).digest("hex");
        return json(200, { MessageId: "m-1", MD5OfMessageBody: md5 });
      }
      return json(200, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Writes the bundle alone into a fresh folder under the OS temp dir; returns the folder. */
export function bundleAlone(code: string): string {
  const dir = mkdtempSync(join(tmpdir(), "hookgate-task-"));
  // Node would find a package in a parent's node_modules: then a module missing from the bundle would go unseen.
  for (let up = dir; up !== dirname(up); up = dirname(up)) {
    if (existsSync(join(up, "node_modules"))) {
      throw new Error(`${join(up, "node_modules")} exists: a bundle run under it is not run alone`);
    }
  }
  writeFileSync(join(dir, "index.js"), code);
  return dir;
}

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The handler's answers, one per event, or {threw} for an event it threw on. */
  results: unknown[];
}

const RESULTS = "@@RESULTS@@";

/**
 * Requires <dir>/index.js (handler `index.handler`) in a child node (cwd `dir`, no NODE_PATH) and calls the handler
 * with each event in turn. Asynchronous: the parent's fake servers keep answering while the child runs.
 */
export function invokeAlone(dir: string, events: unknown[], env: Record<string, string>): Promise<ChildRun> {
  const script = `
    const report = (out) => process.stderr.write("\\n${RESULTS}" + JSON.stringify(out) + "\\n");
    (async () => {
      const out = [];
      const { handler } = require(${JSON.stringify(join(dir, "index.js"))});
      for (const event of JSON.parse(process.argv[1])) {
        try { out.push(await handler(event, { getRemainingTimeInMillis: () => 60000 })); }
        catch (e) { out.push({ threw: String((e && e.stack) || e) }); }
      }
      report(out);
    })().catch((e) => report([{ threw: String((e && e.stack) || e) }]));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, JSON.stringify(events)], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const marker = stderr.lastIndexOf(RESULTS);
      const results =
        marker >= 0 ? (JSON.parse(stderr.slice(marker + RESULTS.length).trim()) as unknown[]) : [];
      resolve({ code, stdout, stderr: marker >= 0 ? stderr.slice(0, marker) : stderr, results });
    });
  });
}

/** The environment Lambda gives a route function, the fake endpoint standing in for AWS. */
export function lambdaEnv(
  awsUrl: string,
  route: unknown,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: "hookgate-bundle-test",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL: awsUrl,
    // s3rver's fixed dummy credentials; the fake JSON endpoint ignores them.
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    // s3rver stores a streamed PutObject with aws-chunked framing under the default checksum mode.
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    LAMBDA_TASK_ROOT: "/var/task",
    HOOKGATE_ROUTE: JSON.stringify(route),
    // SQS sends to the queue URL's host: the fake's.
    HOOKGATE_QUEUE_URL: `${awsUrl}/123456789012/hookgate-bundle-test.fifo`,
    HOOKGATE_DLQ_URL: `${awsUrl}/123456789012/hookgate-bundle-test-dlq.fifo`,
    HOOKGATE_DEDUPE_TABLE: "hookgate-dedupe",
    ...extra,
  };
}
