import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "chai";
import { printProblems } from "../../src/cli/check";
import type { CliIo } from "../../src/cli/commandKit";
import { lazyCommand, reportError } from "../../src/cli/main";
import { RoutesFileError } from "../../src/core/errors";
import { runBin, runBinClosingStdoutEarly, runInProcess, STACK_FRAME } from "./checkHarness";

describe("Command: hookgate check", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-check-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("hookgate check (child process) exits 0 and prints a table of the shipped routes.yaml", () => {
    const run = runBin(["check"]);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).to.match(/^NAME\s+PROVIDER\s+EVENTS\s+REPOS\s+ACTION\s+TARGET$/);
    expect(run.stdout).to.match(
      /^api-build\s+github\s+push\s+acme\/api\s+jenkins\s+https:\/\/jenkins\.internal\.example\.com:8443 job api\/build$/m,
    );
    expect(run.stdout).to.match(/^source-zip\s+github\s+push\s+acme\/\*\s+s3-zip\s+s3:\/\/<stack bucket>\//m);
    expect(run.stdout).to.match(/^legacy-bitbucket\s+bitbucket\s+/m);
    expect(run.stdout).to.include("routes.yaml: 5 routes, no problems");
    // Every secret the routes read, what it holds and who reads it: what step 3 of a deployment creates.
    const secrets = run.stdout.slice(run.stdout.indexOf("\nSECRET"));
    expect(secrets).to.match(/^SECRET\s+HOLDS\s+ROUTES$/m);
    expect(secrets).to.match(/^hookgate\/gitlab-webhook\s+webhook secret\s+platform-gitlab$/m);
    expect(secrets).to.match(/^hookgate\/github-token\s+github API token\s+source-zip,pr-cleanup$/m);
    expect(secrets).to.match(
      /^hookgate\/jenkins\s+Jenkins \{"user","token"\}\s+api-build,pr-cleanup,platform-gitlab,legacy-bitbucket$/m,
    );
    expect(run.stdout).not.to.include("note:"); // the shipped routes follow their own advice
    expect(run.stderr).to.equal("");
  });

  it("hookgate check notes, after the table and with exit 0, a Jenkins route without a per-event parameter, a parameter and an s3-zip key a tag push cannot fill", async () => {
    const file = join(dir, "notes.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: merged-builds",
        "    match: { repos: [acme/api], events: [push] }",
        '    action: { type: jenkins, job: api/build, parameters: { BRANCH: "{{branch}}" } }',
        "  - name: every-build",
        "    match: { repos: [acme/api], events: [push] }",
        '    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }',
        "  - name: zip-all-refs",
        "    match: { repos: [acme/api], events: [push] }",
        "    action: { type: s3-zip, bucket: my-bucket }",
        "  - name: zip-branches",
        "    match: { repos: [acme/api], events: [push], branches: ['**'] }",
        "    action: { type: s3-zip, bucket: my-bucket }",
        "  - name: zip-main-and-tags",
        "    match: { repos: [acme/api], events: [push], branches: [main], tags: ['v*'] }",
        "    action: { type: s3-zip, bucket: my-bucket }",
        "  - name: cleanup-by-number",
        "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
        "    action:",
        "      type: pr-cleanup",
        "      steps:",
        '        - delete-s3-prefix: { bucket: previews, prefix: "{{repo}}/pr-{{pr.number}}/" }',
      ].join("\n"),
    );
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code, run.stderr).to.equal(0);
    const notes = run.stdout.split("\n").filter((line) => line.startsWith("note: "));
    expect(notes).to.have.length(4);
    expect(notes[0]).to.match(/^note: route merged-builds: no Jenkins parameter differs per event/);
    expect(notes[1]).to.match(
      /^note: route merged-builds: a tag push has no \{\{branch\}\}, so Jenkins parameter "BRANCH" is sent as ""/,
    );
    expect(notes[2]).to.match(
      /^note: route zip-all-refs: a tag push has no \{\{branch\}\}, so the key has an empty folder/,
    );
    expect(notes[3]).to.match(/^note: route zip-main-and-tags: a tag push has no \{\{branch\}\}/);
  });

  it("hookgate check refuses, with exit 1, a cleanup prefix that names no pull request (named after the repository or the base branch): closing one pull request would delete every other's objects", async () => {
    const file = join(dir, "shared-prefix.yaml");
    const route = (name: string, prefix: string) => [
      `  - name: ${name}`,
      "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
      `    action: { type: pr-cleanup, steps: [{ delete-s3-prefix: { bucket: previews, prefix: "${prefix}" } }] }`,
    ];
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        ...route("by-repo", "previews/{{repo.name}}/"),
        ...route("by-branch", "{{repo.path}}/branch/{{branch.path}}/"),
        ...route("by-number", "{{repo.path}}/pr-{{pr.number}}/"),
      ].join("\n"),
    );
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code).to.equal(1);
    expect(run.stderr.trimEnd().split("\n")).to.deep.equal([
      `${file}:7:89: route "by-repo" action.steps[0].delete-s3-prefix.prefix: no {{pr.number}}, head branch or commit: all pull requests of the repository share it, so closing one deletes the others' objects; write 'previews/{{repo.name}}/pr-{{pr.number}}/'`,
      `${file}:10:89: route "by-branch" action.steps[0].delete-s3-prefix.prefix: no {{pr.number}}, head branch or commit: all pull requests into that base branch share it, so closing one deletes the others' objects; write 'previews/{{repo.path}}/pr-{{pr.number}}/'`,
      "2 problems found",
    ]);
  });

  it("hookgate check notes, with exit 0, a GitLab route reading the webhook secret of GitHub routes, which pulumi up refuses with github.manageWebhooks", async () => {
    const file = join(dir, "shared-secret.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/shared, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
        "routes:",
        "  - name: gh-build",
        "    match: { repos: [acme/api], events: [push] }",
        '    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }',
        "  - name: gl-build",
        "    provider: gitlab",
        "    match: { repos: [platform/api], events: [push] }",
        '    action: { type: jenkins, job: gl/build, parameters: { SHA: "{{sha}}" } }',
      ].join("\n"),
    );
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code, run.stderr).to.equal(0);
    const notes = run.stdout.split("\n").filter((line) => line.startsWith("note: "));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(
      /^note: with github\.manageWebhooks on, pulumi up refuses this file: secret "hooks\/shared" is generated by the stack for the GitHub webhooks of route gh-build .* read by gl-build \(as its webhook secret\): give gl-build a secret of its own/,
    );
  });

  it("hookgate check notes, with exit 0, 21 GitHub routes on acme/api's push, which pulumi up refuses with github.manageWebhooks (GitHub takes 20 webhooks per event on a repository)", async () => {
    const file = join(dir, "webhook-limit.yaml");
    const routes = Array.from({ length: 21 }, (_, i) => [
      `  - name: job-${i}`,
      "    match: { repos: [acme/api], events: [push] }",
      `    action: { type: jenkins, job: api/build-${i}, parameters: { SHA: "{{sha}}" } }`,
    ]).flat();
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
        "routes:",
        ...routes,
      ].join("\n"),
    );
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code, run.stderr).to.equal(0);
    const notes = run.stdout.split("\n").filter((line) => line.startsWith("note: "));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(
      /^note: with github\.manageWebhooks on, pulumi up refuses this file: 21 managed webhooks on acme\/api subscribe to the push event, and GitHub takes at most 20 per event on a repository .*routes job-0, .*job-20\./,
    );
  });

  it("hookgate check warns, with exit 0, of a branch glob whose escapes spell a name it never matches ($$\\!a), and says what to write", async () => {
    const file = join(dir, "escaped-glob.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
        "routes:",
        "  - name: odd-branch",
        "    match: { repos: [acme/api], events: [push], branches: ['$$\\!a'] }",
        '    action: { type: jenkins, job: api/build, parameters: { SHA: "{{sha}}" } }',
      ].join("\n"),
    );
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split("\n").filter((line) => line.startsWith("note: "))).to.deep.equal([
      'note: route odd-branch: branches: glob "$$\\\\!a" never matches "$$!a", the text its escapes spell (the matcher escapes only the first "$" of a run and reads the next as an anchor): write "\\\\$\\\\$\\\\!a"',
    ]);
  });

  it("hookgate check notes, with exit 0, a tag glob with a RegExp escape (v\\d*: a digit, not the letter d) and says what to write", async () => {
    const file = join(dir, "regexp-escape-glob.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }",
        "routes:",
        "  - name: release-tags",
        "    match: { repos: [acme/api], events: [push], tags: ['v\\d*'] }",
        '    action: { type: jenkins, job: api/release, parameters: { TAG: "{{tag}}", SHA: "{{sha}}" } }',
      ].join("\n"),
    );
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout.split("\n").filter((line) => line.startsWith("note: "))).to.deep.equal([
      'note: route release-tags: tags: glob "v\\\\d*" has "\\d", which the matcher reads as a RegExp escape (any digit), not the letter "d": write [0-9] for a digit, or "d" alone for the letter',
    ]);
  });

  it("hookgate check --routes BROKEN (child process) exits 1 with FILE:LINE:COL: lines and a count, no stack", () => {
    const file = "test/fixtures/routes/many-problems.yaml";
    const run = runBin(["check", "--routes", file]);
    expect(run.code).to.equal(1);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines.at(-1)).to.equal("26 problems found");
    const problemLines = lines.slice(0, -1);
    expect(problemLines).to.have.length(26);
    for (const line of problemLines) expect(line).to.match(new RegExp(`^${file}:\\d+:\\d+: \\S`));
    expect(problemLines[0]).to.equal(
      `${file}:1:10: version must be 1, not 2 (this hookgate reads version 1)`,
    );
    expect(run.stdout).to.equal("");
    expect(run.stdout + run.stderr).not.to.match(STACK_FRAME);
  });

  /** A routes file whose table is far more than a pipe holds, so the CLI is still writing when the reader goes away. */
  function manyRoutes(): string {
    const file = join(dir, "many.yaml");
    const route = (i: number) =>
      `  - name: r${i}\n    match: { repos: [acme/api], events: [push] }\n    action: { type: jenkins, job: x, parameters: { SHA: "{{sha}}" } }\n`;
    writeFileSync(
      file,
      `version: 1\ndefaults: { secret: hookgate/s, jenkins: { url: "https://j.example.com", credentials: hookgate/j } }\nroutes:\n${Array.from({ length: 3000 }, (_, i) => route(i)).join("")}`,
    );
    return file;
  }

  it("hookgate check (child process) piped into a reader that stops early (| head) exits 0, without a stack", async () => {
    const run = await runBinClosingStdoutEarly(["check", "-r", manyRoutes()]);
    expect(run.firstChunk).to.match(/^NAME\s+PROVIDER/);
    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
  });

  it("hookgate explain (child process) piped into a reader that stops early (| head) exits 0, without a stack", async () => {
    const payload = join(dir, "push.json");
    writeFileSync(
      payload,
      JSON.stringify({
        ref: "refs/heads/main",
        after: "1111111111111111111111111111111111111111",
        repository: { name: "api", full_name: "acme/api", owner: { login: "acme" } },
        sender: { login: "octo" },
        commits: [],
      }),
    );
    const run = await runBinClosingStdoutEarly(["explain", "-r", manyRoutes(), "-e", "push", "-p", payload]);
    expect(run.firstChunk).to.match(/^Delivery: github push/);
    expect(run.stderr).to.equal("");
    expect(run.code).to.equal(0);
  });

  it("hookgate check accepts providers.gitlab.caBundle (a self-managed GitLab with a private CA) and refuses a PEM pasted there", async () => {
    const lines = (caBundle: string) => [
      "version: 1",
      "defaults: { secret: hooks/s, provider: gitlab }",
      "providers:",
      `  gitlab: { apiUrl: https://gitlab.example.com/api/v4, token: t/gl, caBundle: ${caBundle} }`,
      "routes:",
      "  - name: zip",
      "    match: { events: [push] }",
      "    action: { type: s3-zip, bucket: my-bucket }",
    ];
    const file = join(dir, "gitlab-ca.yaml");
    writeFileSync(file, lines("hookgate/corp-ca").join("\n"));
    const ok = await runInProcess(["check", "-r", file]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include(`${file}: 1 route, no problems`);

    writeFileSync(file, lines('"-----BEGIN CERTIFICATE----- MIIBszCCAVmgAwIBAgIUQ"').join("\n"));
    const refused = await runInProcess(["check", "-r", file]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.equal(
      `${file}:4:79: providers.gitlab.caBundle: this looks like a secret value (a PEM block), not the name of a secret; store the value in Secrets Manager and write the secret's name here (the value is not shown)\n1 problem found\n`,
    );
  });

  it("hookgate check reports a missing file as one problem at 1:1 and exits 1", async () => {
    const file = join(dir, "nope.yaml");
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.equal(`${file}:1:1: routes file not found\n1 problem found\n`);
  });

  it("hookgate check names the file as given in every problem, at the offending key or value", async () => {
    const broken = join(dir, "routes.yaml");
    writeFileSync(broken, "version: 1\nroutes:\n  - name: Bad\n");
    const run = await runInProcess(["check", "--routes", broken]);
    expect(run.code).to.equal(1);
    expect(run.stderr.split("\n")).to.include.members([
      `${broken}:3:5: route "Bad": missing required key "match"`,
      `${broken}:3:5: route "Bad": missing required key "action"`,
    ]);
    expect(run.stderr).to.include(`${broken}:3:11: route name "Bad" is not valid`);
  });

  const usageErrors: Array<[string[], string]> = [
    [["check", "--bogus"], "hookgate check: Unknown option '--bogus'"],
    [
      ["check", "extra.yaml"],
      "hookgate check: Unexpected extra argument: this command takes no positional arguments; give the routes file with --routes: --routes extra.yaml\n",
    ],
    [
      ["explain", "--event", "push", "--payload", "p.json", "my routes.yml"],
      "hookgate explain: Unexpected extra argument after --payload and its value: quote a value that has spaces; give the routes file with --routes: --routes 'my routes.yml'\n",
    ],
    [
      ["check", "extra"],
      "hookgate check: Unexpected extra argument: this command takes no positional arguments\n",
    ],
    [["check", "--routes"], "hookgate check: Option '-r, --routes <value>' argument missing"],
    [["check", "--routes="], "hookgate check: --routes must not be empty\n"],
    [["explain", "--routes", "", "--payload", "p.json"], "hookgate explain: --routes must not be empty\n"],
    [["explain", "--event=", "--payload", "p.json"], "hookgate explain: --event must not be empty\n"],
    [["explain", "--delivery=", "--payload", "p.json"], "hookgate explain: --delivery must not be empty\n"],
    [["frobnicate"], 'hookgate: unknown command "frobnicate"'],
    [["help", "nosuch"], 'hookgate help: unknown command "nosuch"\n\nUsage: hookgate <command>'],
    [["help", "toString"], 'hookgate help: unknown command "toString"'],
  ];
  for (const [argv, message] of usageErrors) {
    it(`hookgate ${argv.join(" ")} is a usage error: exit 2, "${message}"`, async () => {
      const run = await runInProcess(argv);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.include(message);
      expect(run.stderr).not.to.match(STACK_FRAME);
    });
  }

  it("an option followed by a dash-led value prints node's first sentence, how to write such a value, then the --help pointer", async () => {
    const run = await runInProcess(["check", "--routes", "--help"]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.equal(
      'hookgate check: Option \'--routes\' argument is ambiguous: its value is missing, or it starts with "-" and must be written --routes=<value>\nRun "hookgate check --help" for usage.\n',
    );
  });

  it("hookgate check --help prints the command's usage and exits 0", async () => {
    const run = await runInProcess(["check", "--help"]);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.include("Usage: hookgate check [--routes FILE]");
  });

  for (const argv of [
    ["help", "--help"],
    ["help", "-h"],
    ["help", "help"],
  ]) {
    it(`hookgate ${argv.join(" ")} asks for help on help: it prints the general usage and exits 0`, async () => {
      const run = await runInProcess(argv);
      expect(run.stderr).to.equal("");
      expect(run.code).to.equal(0);
      expect(run.stdout).to.include("Usage: hookgate <command>");
    });
  }

  it("hookgate --help lists every command", async () => {
    const run = await runInProcess(["--help"]);
    expect(run.code).to.equal(0);
    for (const command of ["check", "explain", "serve", "send"])
      expect(run.stdout).to.match(new RegExp(`^  ${command} `, "m"));
  });
});

describe("Function: reportError", () => {
  const capture = () => {
    const io = { out: "", err: "" };
    return {
      io,
      streams: {
        stdout: (text: string) => {
          io.out += text;
        },
        stderr: (text: string) => {
          io.err += text;
        },
      },
    };
  };
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.HOOKGATE_DEBUG;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.HOOKGATE_DEBUG;
    else process.env.HOOKGATE_DEBUG = saved;
  });

  it("reportError prints an unexpected error as one line and exits 1, without a stack", () => {
    delete process.env.HOOKGATE_DEBUG;
    const { io, streams } = capture();
    const code = reportError("check", new Error("disk on fire\nsecond line"), streams);
    expect(code).to.equal(1);
    expect(io.err).to.equal("hookgate check: disk on fire\n");
  });

  it("reportError adds the stack only when HOOKGATE_DEBUG=1", () => {
    process.env.HOOKGATE_DEBUG = "1";
    const { io, streams } = capture();
    reportError("check", new Error("disk on fire"), streams);
    expect(io.err).to.match(STACK_FRAME);
  });

  it("reportError turns RoutesFileError into FILE:LINE:COL lines and exit 1", () => {
    const { io, streams } = capture();
    const code = reportError(
      "serve",
      new RoutesFileError([{ file: "r.yaml", line: 2, col: 3, message: "bad" }]),
      streams,
    );
    expect(code).to.equal(1);
    expect(io.err).to.equal("r.yaml:2:3: bad\n1 problem found\n");
  });
});

describe("Function: printProblems", () => {
  it("printProblems writes every control or format character left in a problem as \\uXXXX, so no ESC, CR, NEL or U+202E reaches the terminal", () => {
    const lines: string[] = [];
    const io: CliIo = { stdout: () => undefined, stderr: (text: string) => lines.push(text) };
    printProblems(
      [{ file: "r\u001b.yaml", line: 2, col: 3, message: 'key "\u001b[2J\r\u0085\u202e\u2028x"' }],
      io,
    );
    expect(lines.join("")).to.equal(
      'r\\u001b.yaml:2:3: key "\\u001b[2J\\u000d\\u0085\\u202e\\u2028x"\n1 problem found\n',
    );
  });

  it("hookgate check prints a key holding ESC sequences escaped, never the sequences", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-check-esc-"));
    try {
      const file = join(dir, "routes.yaml");
      writeFileSync(
        file,
        'version: 1\ndefaults: { secret: hooks/s }\nroutes:\n  - name: a\n    match: { "\\e[2J\\e[31mevents": [push] }\n    action: { type: jenkins, job: j, jenkins: { url: "https://ci", credentials: c } }\n',
      );
      const run = await runInProcess(["check", "--routes", file]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(
        `${file}:5:14: route "a" match: unknown key "\\u001b[2J\\u001b[31mevents" (allowed: repos, events, actions, branches, tags, paths, actors, merged, deleted)\n1 problem found\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Function: runCheck on a file holding control or format characters", () => {
  const withKey = (key: string) =>
    `version: 1\ndefaults: { secret: hooks/s }\nproviders: { github: { token: t/gh } }\nroutes:\n  - name: a\n    match: { repos: [acme/api] }\n    action: { type: s3-zip, bucket: my-bucket, key: "${key}" }\n`;
  const checked = async (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-check-esc-"));
    try {
      const file = join(dir, "routes.yaml");
      writeFileSync(file, text);
      return await runInProcess(["check", "--routes", file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("hookgate check prints a valid S3 key holding format or C1 characters in its routes table escaped, never the characters", async () => {
    // A right-to-left override would show x\u202egpj.zip as xjpg.zip; a NEL breaks the line in some terminals.
    const run = await checked(withKey("x\\u202egpj\\N.zip"));
    expect(run.code).to.equal(0);
    expect(run.stdout).to.contain("s3://my-bucket/x\\u202egpj\\u0085.zip");
    expect(run.stdout).not.to.match(/[\u202e\u0085]/);
  });

  it("hookgate check refuses an S3 key holding an ESC sequence, naming the character escaped, never writing it", async () => {
    const run = await checked(withKey("x\\e[2Jy.zip"));
    expect(run.code).to.equal(1);
    expect(run.stderr).to.contain(
      'route "a" action.key: the key "x\\u001b[2Jy.zip" holds U+001B (escape) at character 2: remove it',
    );
    expect(`${run.stdout}${run.stderr}`).not.to.contain("\u001b");
  });
});

describe("Function: lazyCommand", () => {
  it("lazyCommand fails only when the command is used, with one clear line, when its module is missing", async () => {
    const run = lazyCommand("./no-such-command", "runNothing");
    try {
      await run([]);
      expect.fail("lazyCommand should have thrown");
    } catch (error) {
      expect((error as Error).message).to.equal(
        "this command is not available in this build (no-such-command is missing)",
      );
    }
  });
});

describe("Command: hookgate check, API Gateway's default quota of 300 resources per REST API", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-check-quota-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A routes file of `count` pr-cleanup routes r0, r1, … */
  function manyRoutes(count: number): string {
    const routes = Array.from({ length: count }, (_, i) => [
      `  - name: r${i}`,
      "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
      "    action: { type: pr-cleanup, steps: [{ delete-branch: {} }] }",
    ]).flat();
    const file = join(dir, `routes-${count}.yaml`);
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        ...routes,
        "",
      ].join("\n"),
    );
    return file;
  }

  it("hookgate check notes, with exit 0, 299 routes: 301 API Gateway resources, over the default quota of 300", async () => {
    const run = await runInProcess(["check", "-r", manyRoutes(299)]);
    expect(run.code, run.stderr).to.equal(0);
    const notes = run.stdout.split("\n").filter((line) => line.includes("API Gateway resources"));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/^note: 299 routes need 301 API Gateway resources .*"Resources per API"/);
  });

  it("hookgate check says nothing of the quota for 298 routes (300 resources, the quota itself)", async () => {
    const run = await runInProcess(["check", "-r", manyRoutes(298)]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain("298 routes, no problems");
    expect(run.stdout).not.to.contain("API Gateway resources");
  });
});

describe("Command: hookgate check, CloudWatch's 2,500 metrics per dashboard", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-check-dashboard-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function manyRoutes(count: number): string {
    const routes = Array.from({ length: count }, (_, i) => [
      `  - name: r${i}`,
      "    match: { repos: [acme/api] }",
      "    action: { type: jenkins, job: api/build }",
    ]).flat();
    const file = join(dir, `routes-${count}.yaml`);
    const defaults =
      "defaults: { secret: hooks/s, jenkins: { url: https://ci.example.com, credentials: ci/c } }";
    writeFileSync(file, ["version: 1", defaults, "routes:", ...routes, ""].join("\n"));
    return file;
  }

  it("hookgate check notes, with exit 0, that the dashboard of 251 routes draws the first 250 and where the other route's metrics are", async () => {
    const run = await runInProcess(["check", "-r", manyRoutes(251)]);
    expect(run.code, run.stderr).to.equal(0);
    const notes = run.stdout
      .split("\n")
      .filter((line) => line.startsWith("note:") && line.includes("dashboard"));
    expect(notes).to.deep.equal([
      "note: 251 routes: the stack dashboard draws the first 250 in routes.yaml, as CloudWatch takes at most 2500 metrics in a dashboard and each route's graphs take up to 10; the other route's metrics are in AWS/Lambda (by function name) and AWS/SQS (by queue name), and their lines in their functions' log groups (the dashboard's top widget says so)",
    ]);
  });

  it("hookgate check says nothing of the dashboard for 250 routes (2,500 metrics)", async () => {
    const run = await runInProcess(["check", "-r", manyRoutes(250)]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.contain("250 routes, no problems");
    expect(
      run.stdout.split("\n").filter((line) => line.startsWith("note:") && line.includes("dashboard")),
    ).to.deep.equal([]);
  });
});

describe("Command: hookgate check, a route's IAM role policy size (10,240 characters)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-check-policy-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A pr-cleanup route on ten repositories, each step's prefix pinned per repository. */
  function cleanupRoutes(steps: number): string {
    const repos = Array.from({ length: 10 }, (_, i) => `acme-platform/service-${i}-with-a-long-name`);
    const list = Array.from(
      { length: steps },
      (_, i) =>
        `{ delete-s3-prefix: { bucket: acme-previews-${i}, prefix: "previews/{{repo.path}}/pr-{{pr.number}}/" } }`,
    );
    const file = join(dir, `cleanup-${steps}.yaml`);
    writeFileSync(
      file,
      [
        "version: 1",
        "defaults: { secret: hooks/s }",
        "providers: { github: { token: t/gh } }",
        "routes:",
        "  - name: small",
        "    match: { repos: [acme/api], events: [pull_request], actions: [closed] }",
        "    action: { type: pr-cleanup, steps: [{ delete-branch: {} }] }",
        "  - name: cleanup",
        `    match: { repos: [${repos.join(", ")}], events: [pull_request], actions: [closed] }`,
        `    action: { type: pr-cleanup, steps: [${list.join(", ")}] }`,
        "",
      ].join("\n"),
    );
    return file;
  }

  it("hookgate check exits 1 with FILE:LINE:COL at the route's name when its role policy is too long on every stack", async () => {
    const file = cleanupRoutes(6);
    const run = await runInProcess(["check", "-r", file]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:8:11: route "cleanup": its role's policy is \\d+ characters, more than the 10240 IAM allows .*refuses it on every stack\\)$`,
        "m",
      ),
    );
    expect(run.stderr).to.contain("1 problem found");
  });

  it("hookgate check notes, with exit 0, a route whose policy fits only with short stack names, stating the stand-ins it measured with", async () => {
    const run = await runInProcess(["check", "-r", cleanupRoutes(5)]);
    expect(run.code, run.stderr).to.equal(0);
    const notes = run.stdout.split("\n").filter((line) => line.includes("role's policy may exceed"));
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(
      /^note: route cleanup: .* \d+ with the shortest stack names, \d+ with the longest/,
    );
    expect(notes[0]).to.contain(
      "a 15-character region, the aws-us-gov partition, a 64-character hookgate:secretNamePrefix",
    );
  });

  it("hookgate check says nothing of a route whose policy fits on any stack", async () => {
    const run = await runInProcess(["check", "-r", cleanupRoutes(4)]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).not.to.contain("role's policy");
  });

  it("hookgate check loads no @pulumi module", () => {
    const probe = [
      'require("tsx/cjs");',
      'require("./src/cli/check.ts");',
      'console.log(Object.keys(require.cache).filter((k) => k.includes("@pulumi")).length);',
    ].join("");
    const run = spawnSync(process.execPath, ["-e", probe], {
      cwd: resolve(__dirname, "..", ".."),
      encoding: "utf8",
    });
    expect(run.stderr).to.equal("");
    expect(run.stdout.trim()).to.equal("0");
  });
});

describe("Command: hookgate check, a secret name that looks like a generated value", () => {
  it("prints the name nowhere, its secrets table included, where its note says it is not shown", async () => {
    // secrets.token_urlsafe(32), pasted where the webhook secret's name belongs.
    const pasted = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const dir = mkdtempSync(join(tmpdir(), "hookgate-check-random-"));
    try {
      const file = join(dir, "routes.yaml");
      writeFileSync(
        file,
        [
          "version: 1",
          "routes:",
          "  - name: api-build",
          "    provider: github",
          `    secret: "${pasted}"`,
          "    match: { repos: [acme/api], events: [push] }",
          "    action:",
          "      type: jenkins",
          "      job: api/build",
          "      jenkins: { url: 'https://jenkins.example.com', credentials: hookgate/jenkins }",
          "",
        ].join("\n"),
      );
      const run = await runInProcess(["check", "-r", file]);
      expect(run.stdout).to.contain("looks like a generated secret value");
      expect(run.stdout).to.match(/^\(a name that looks like a secret value\) +webhook secret +api-build$/m);
      expect(run.stdout).not.to.contain(pasted);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Command: hookgate check, keys nothing reads", () => {
  it("hookgate check notes, with exit 0, a top-level jenkins that defaults.jenkins always overrides, at its line", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "hookgate-check-")), "routes.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        'jenkins: { url: "https://jenkins-new.example.com", credentials: hookgate/jenkins-new }',
        "defaults:",
        "  secret: hookgate/gh",
        '  jenkins: { url: "https://jenkins-old.example.com", credentials: hookgate/jenkins-old }',
        "routes:",
        "  - name: a",
        "    match: { events: [push] }",
        '    action: { type: jenkins, job: build, parameters: { SHA: "{{sha}}" } }',
        "",
      ].join("\n"),
    );
    const run = await runInProcess(["check", "--routes", file]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include("https://jenkins-old.example.com job build");
    expect(run.stdout).to.include(
      `note: ${file}:2:1: jenkins: never used: every action without a jenkins block`,
    );
  });
  it("hookgate check notes, with exit 0, auth.allowSha1 on a Bitbucket route, which only GitHub's verifier reads", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "hookgate-check-")), "routes.yaml");
    writeFileSync(
      file,
      [
        "version: 1",
        'defaults: { jenkins: { url: "https://j.example.com", credentials: hookgate/j } }',
        "routes:",
        "  - name: a",
        "    provider: bitbucket",
        "    secret: hookgate/bb",
        "    auth: { allowSha1: true }",
        "    match: { events: [push] }",
        '    action: { type: jenkins, job: build, parameters: { SHA: "{{sha}}" } }',
        "",
      ].join("\n"),
    );
    const run = await runInProcess(["check", "--routes", file]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(
      `note: ${file}:7:13: route a: auth.allowSha1 has no effect on a Bitbucket Cloud route: only a GitHub route reads it`,
    );
  });
});
