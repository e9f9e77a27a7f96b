// `hookgate serve`'s command line: what it refuses before it touches anything.
import { expect } from "chai";
import { UsageError } from "../../src/cli/commandKit";
import { parseServeArgs } from "../../src/cli/serve";
import { LAMBDA_TIMEOUT_SECONDS, MAX_RETRY_DELAY_MS } from "../../src/core/policy";
import { parseStackConfig } from "../../src/infra/config";

describe("Function: parseServeArgs", () => {
  const refused: Array<[string[], string]> = [
    [["--host", ""], "--host must not be empty"], // it would listen on every interface
    [["--state-dir", ""], "--state-dir must not be empty"], // it would use the working directory
    [["--secrets", ""], "--secrets must not be empty"], // it would be ignored, and secrets generated
    [["--routes", ""], "--routes must not be empty"],
    [["--port", "abc"], '--port must be an integer from 0 to 65535, got "abc"'],
    [["--max-attempts", "0"], '--max-attempts must be an integer from 1 to 1000, got "0"'],
    [
      ["--retry-delay-ms", String(MAX_RETRY_DELAY_MS + 1)],
      `--retry-delay-ms must be an integer from 0 to ${MAX_RETRY_DELAY_MS}, got "${MAX_RETRY_DELAY_MS + 1}"`,
    ],
    [["--timeout-seconds", "29"], '--timeout-seconds must be an integer from 30 to 900, got "29"'],
    [["--timeout-seconds", "901"], '--timeout-seconds must be an integer from 30 to 900, got "901"'],
    [["--timeout-seconds", "1.5"], '--timeout-seconds must be an integer from 30 to 900, got "1.5"'],
    [["--s3-endpoint", "ftp://x"], "--s3-endpoint must be http(s)"],
    // A port out of range makes it no URL; its password is not quoted back.
    [
      ["--s3-endpoint", "http://minio:wJalrXsecretKey@127.0.0.1:99999"],
      '--s3-endpoint must be a URL, got "http://***@127.0.0.1:99999"',
    ],
    [["extra"], "Unexpected extra argument: this command takes no positional arguments"],
    [["--quiet", "extra"], "Unexpected extra argument after --quiet, which takes no value"],
    [
      ["--port", "8787", "extra"],
      "Unexpected extra argument after --port and its value: quote a value that has spaces",
    ],
    [["--bogus"], "Unknown option '--bogus'"],
  ];
  for (const [argv, message] of refused) {
    it(`serve ${argv.map((a) => JSON.stringify(a)).join(" ")} is a usage error: ${message}`, () => {
      expect(() => parseServeArgs(argv))
        .to.throw(UsageError)
        .with.property("message", message);
    });
  }

  it("takes the longest retry delay the queue uses (15 min), and the defaults otherwise", () => {
    const options = parseServeArgs(["--retry-delay-ms", String(MAX_RETRY_DELAY_MS)]);
    expect(options).to.include({
      retryDelayMs: MAX_RETRY_DELAY_MS,
      host: "127.0.0.1",
      port: 8787,
      stateDir: ".hookgate",
      routes: "routes.yaml",
    });
  });

  it("opens /_hookgate/* to every client only with --expose-status", () => {
    expect(parseServeArgs([])).to.include({ exposeStatus: false });
    expect(parseServeArgs(["--expose-status"])).to.include({ exposeStatus: true });
  });

  it("takes an attempt's time of 30 to 900 s, lambda.timeoutSeconds' range, and the stack's default (120 s) otherwise", () => {
    expect(parseServeArgs(["--timeout-seconds", "30"])).to.include({ timeoutSeconds: 30 });
    expect(parseServeArgs(["--timeout-seconds", "900"])).to.include({ timeoutSeconds: 900 });
    const stackDefault = parseStackConfig({ routesFile: "routes.yaml" }).lambda.timeoutSeconds;
    expect(parseServeArgs([])).to.include({ timeoutSeconds: stackDefault });
    expect(LAMBDA_TIMEOUT_SECONDS).to.include({ fallback: 120, min: 30, max: 900 });
    // The stack refuses what serve refuses.
    for (const timeoutSeconds of [29, 901]) {
      expect(() => parseStackConfig({ routesFile: "routes.yaml", lambda: { timeoutSeconds } })).to.throw(
        `lambda.timeoutSeconds must be an integer from 30 to 900 (got ${timeoutSeconds})`,
      );
    }
  });
});
