// What send, serve and explain print of what a user gave them: never a credential, never a raw escape (review h297).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { reportError } from "../../src/cli/main";
import { banner } from "../../src/cli/serve";
import { runBin, runInProcess, SEND_PAYLOAD, sendArgs as sendArgsTo } from "./checkHarness";

const PAYLOAD = SEND_PAYLOAD;
const sendArgs = (...extra: string[]) => sendArgsTo("http://127.0.0.1:9/hooks/x", "--timeout", "2", ...extra);

describe("CLI: credentials and escapes kept out of what send, serve and explain print", () => {
  it("send: an --insecure-header written key=value (no colon) is refused without printing its value", () => {
    const run = runBin(sendArgs("--insecure-header", "X-Api-Key=t0psecretvalue"));
    expect(run.code).to.equal(2);
    expect(run.stderr).to.not.include("t0psecretvalue");
  });

  for (const header of [
    "Transfer-Encoding: chunked",
    "Expect: 100-continue",
    "Connection: keep alive",
    "Content-Length: abc",
  ]) {
    it(`send: --insecure-header "${header}", which undici refuses to send, is a usage error (exit 2), not a failed POST`, () => {
      const run = runBin(sendArgs("--insecure-header", header));
      expect(run.stderr).to.not.include("failed");
      expect(run.code, run.stderr).to.equal(2);
    });
  }

  it("serve: the banner never prints the password of an --s3-endpoint URL", () => {
    const text = banner(
      {
        url: "http://127.0.0.1:8787",
        routes: [],
        secretsFile: ".hookgate/secrets.json",
        generatedSecrets: [],
        missingSecrets: [],
        resumed: 0,
      },
      {
        routes: "routes.yaml",
        stateDir: ".hookgate",
        maxAttempts: 5,
        retryDelayMs: 30_000,
        s3Endpoint: "http://minioadmin:m1n10pass@127.0.0.1:9000",
      },
    );
    expect(text).to.not.include("m1n10pass");
  });

  it("explain: a missing payload file's name reaches the terminal without its escape characters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-shown-"));
    try {
      const routes = join(dir, "routes.yaml");
      writeFileSync(
        routes,
        'version: 1\ndefaults:\n  secret: hookgate/webhook\n  jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }\nroutes:\n  - name: a\n    match: { events: [push] }\n    action: { type: jenkins, job: a/build }\n',
      );
      const run = await runInProcess([
        "explain",
        "-r",
        routes,
        "-e",
        "push",
        "-p",
        join(dir, "x\u001b[2Jy.json"),
      ]);
      expect(run.stderr).to.include("not found");
      expect(run.stderr).to.not.include("\u001b");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("send: a missing payload file's name reaches the terminal without its escape characters", () => {
    const args = sendArgs();
    args[args.indexOf(PAYLOAD)] = "/nonexistent/x\u001b[2Jy.json";
    const run = runBin(args);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.not.include("\u001b");
  });

  it("send: a missing secrets file's name reaches the terminal without its escape characters", () => {
    const args = sendArgs().filter((a) => a !== "--secret" && a !== "s3cr3tvalue");
    args.push("--secrets", "/nonexistent/s\u001b[2J.json", "--secret-name", "x");
    const run = runBin(args);
    expect(run.stderr).to.include("not found");
    expect(run.stderr).to.not.include("\u001b");
  });
});

describe("CLI: an argument the dispatcher and its usage errors quote reaches the terminal escaped", () => {
  const ESC = "\u001b[2J";
  const RLO = "\u202e";
  const unescaped = (text: string) => text.includes("\u001b") || text.includes(RLO);

  it('an unknown command holding an ESC is quoted with it as \\u001b: hookgate: unknown command "x\\u001b[2J"', async () => {
    const run = await runInProcess([`x${ESC}`]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('hookgate: unknown command "x\\u001b[2J"');
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("hookgate help with an unknown command holding U+202E quotes it with U+202E as \\u202e", async () => {
    const run = await runInProcess(["help", `x${RLO}y`]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('hookgate help: unknown command "x\\u202ey"');
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("check: an unknown option holding an ESC is named in the usage error with it as \\u001b", async () => {
    const run = await runInProcess(["check", `--routes${ESC}`]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include("Unknown option '--routes\\u001b[2J'");
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("explain: a --provider value holding U+202E is quoted in the usage error with it as \\u202e", async () => {
    const run = await runInProcess(["explain", "--provider", `git${RLO}hub`, "--payload", "p.json"]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('not "git\\u202ehub"');
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("reportError writes an unexpected error's ESC as \\u001b", () => {
    let stderr = "";
    const code = reportError("check", new Error(`cannot read x${ESC}`), {
      stdout: () => undefined,
      stderr: (text) => {
        stderr += text;
      },
    });
    expect(code).to.equal(1);
    expect(stderr).to.equal("hookgate check: cannot read x\\u001b[2J\n");
  });
});

describe("CLI: send's usage errors and failure lines show the values they quote escaped", () => {
  const ESC = "\u001b[2J";
  const RLO = "\u202e";
  const unescaped = (text: string) => text.includes("\u001b") || text.includes(RLO);
  const withSecrets = (file: string, name: string) => [
    ...sendArgs().filter((a) => a !== "--secret" && a !== "s3cr3tvalue"),
    "--secrets",
    file,
    "--secret-name",
    name,
  ];

  it("a --timeout holding an ESC is quoted in the usage error with it as \\u001b", () => {
    const run = runBin([...sendArgs(), "--timeout", `1${ESC}`]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('got "1\\u001b[2J"');
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("a --provider holding U+202E is quoted in the usage error with it as \\u202e", () => {
    const run = runBin([...sendArgs(), "--provider", `git${RLO}hub`]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include('got "git\\u202ehub"');
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("an unknown option holding an ESC is named in the usage error with it as \\u001b", () => {
    const run = runBin([...sendArgs(), `--x${ESC}`]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.include("Unknown option '--x\\u001b[2J'");
    expect(unescaped(run.stderr)).to.equal(false);
  });

  it("a --secret-name missing from the secrets file is named, with the file and the file's name close to it, its ESC as \\uXXXX and a key with U+202E counted, not shown", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-shown-"));
    try {
      const file = join(dir, `s${ESC}.json`);
      writeFileSync(file, JSON.stringify({ [`other${RLO}`]: "v4lue", "hookgate/jenkins": "v4lue" }));
      const run = runBin(withSecrets(file, `hookgate/jenkin${ESC}`));
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include('secret "hookgate/jenkin\\u001b[2J" is not in');
      expect(run.stderr).to.include(
        "s\\u001b[2J.json (it has: hookgate/jenkins, and 1 other key, not shown, as a key may be a pasted secret)",
      );
      expect(unescaped(run.stderr)).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a --payload that is a directory is named with its ESC as \\u001b", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-shown-"));
    try {
      const payload = join(dir, `p${ESC}`);
      mkdirSync(payload);
      const args = sendArgs();
      args[args.indexOf(PAYLOAD)] = payload;
      const run = runBin(args);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include("p\\u001b[2J is a directory");
      expect(unescaped(run.stderr)).to.equal(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("CLI: explain quotes a payload's event field escaped and clipped", () => {
  it("explain: a GitLab payload's unknown object_kind holding U+202E and 500 more letters is quoted with \\u202e, cut with …", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-shown-"));
    try {
      const routes = join(dir, "routes.yaml");
      writeFileSync(
        routes,
        'version: 1\ndefaults:\n  secret: hookgate/webhook\n  jenkins: { url: "https://jenkins.example.com", credentials: hookgate/jenkins }\nroutes:\n  - name: a\n    provider: gitlab\n    match: { events: [push] }\n    action: { type: jenkins, job: a/build }\n',
      );
      const payload = join(dir, "p.json");
      writeFileSync(payload, JSON.stringify({ object_kind: `x\u202e${"a".repeat(500)}`, project: {} }));
      const run = await runInProcess(["explain", "-r", routes, "--provider", "gitlab", "-p", payload]);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.include('object_kind "x\\u202eaaa').and.include('a…"');
      expect(run.stderr).to.not.include("a".repeat(100));
      expect(run.stderr).to.not.include("\u202e");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
