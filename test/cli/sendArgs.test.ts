// `hookgate send`'s command line: what it refuses before sending anything, and what such a refusal may quote.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseCommandArgs, shownUrl } from "../../src/cli/commandKit";
import { secretEntry } from "../../src/cli/send";
import { runBin, sendArgs } from "./checkHarness";

describe("Command: hookgate send, its usage errors", () => {
  // [argv, the error line, a credential in argv that must not be printed]
  const refused: Array<[string[], string, string]> = [
    [
      sendArgs("https://deploy:hunter2pass@127.0.0.1:99999/hooks/x"),
      'hookgate send: --url must be a URL, got "https://***@127.0.0.1:99999/hooks/x"',
      "hunter2pass",
    ],
    // A "/" in the password ends the authority early: all up to the last "@" is hidden.
    [
      sendArgs("https://ci:s3cr/w0rd@127.0.0.1:8080/x\u001b[31m"),
      'hookgate send: --url must be a URL, got "https://***@127.0.0.1:8080/x\\u001b[31m"',
      "w0rd",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--insecure-header", "Authorization Bearer tok3nvalue"),
      'hookgate send: --insecure-header must be "Name: value", got one starting "Authorization"',
      "tok3nvalue",
    ],
    // undici would refuse these as it sends: "POST … failed", exit 1, for a mistake in the command line.
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--insecure-header", "Bad Name: tok3nvalue"),
      `hookgate send: --insecure-header name must be a header name (letters, digits and !#$%&'*+-.^_\`|~), got one starting "Bad"`,
      "tok3nvalue",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--insecure-header", "X-A: tok3n\rvalue"),
      "hookgate send: --insecure-header X-A: the value holds a control character (a line break, NUL) or a character past U+00FF",
      "tok3n",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--insecure-header", "X-A: tok3n\nvalue"),
      "hookgate send: --insecure-header X-A: the value holds a control character (a line break, NUL) or a character past U+00FF",
      "tok3n",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--insecure-header", "X-A: \u2603tok3n"),
      "hookgate send: --insecure-header X-A: the value holds a control character (a line break, NUL) or a character past U+00FF",
      "tok3n",
    ],
    // --event and --delivery go into headers too: a line break or a character past U+00FF is refused before
    // anything is sent, naming the flag, not as "POST … failed: … invalid x-github-event header".
    ...(
      [
        ["--event", "push\n"],
        ["--event", "pu\u2603sh"],
        ["--delivery", "id-1\r\n"],
        ["--delivery", "id\u001b[31m"],
        ["--delivery", "\u2603"],
      ] as const
    ).map(([flag, value]): [string[], string, string] => [
      sendArgs("http://127.0.0.1:9/hooks/x", flag, value),
      `hookgate send: ${flag} holds a control character (a line break, NUL) or a character past U+00FF, which no header can carry`,
      "s3cr3tvalue",
    ]),
    // A generated secret starting with "-" (token_urlsafe: 1 in 64): how to give it, never the value itself.
    [
      ["send", "--url", "http://127.0.0.1:9/hooks/x", "--secret", "-Zq3vN8xK2pL7mR4", "--event", "push"],
      `hookgate send: Option '--secret' argument is ambiguous: its value is missing, or it starts with "-" and must be written --secret=<value>`,
      "Zq3vN8xK2pL7mR4",
    ],
    // An unquoted --secret $S whose value has a space: the rest of the secret is the extra argument.
    [
      [
        "send",
        "--url",
        "http://127.0.0.1:9/hooks/x",
        "--secret",
        "correct-horse",
        "battery-staple-9Zq",
        "--event",
        "push",
        "--payload",
        "p.json",
      ],
      "hookgate send: Unexpected extra argument after --secret and its value: quote a value that has spaces",
      "battery-staple-9Zq",
    ],
    [
      ["send", "--url", "http://127.0.0.1:9/hooks/x", "--secret=correct horse", "battery-staple-9Zq"],
      "hookgate send: Unexpected extra argument after --secret and its value: quote a value that has spaces",
      "battery-staple-9Zq",
    ],
    // The same, with the rest of the secret starting with "-": parseArgs calls it an unknown option and quoted it.
    [
      [
        "send",
        "--url",
        "http://127.0.0.1:9/hooks/x",
        "--secret",
        "Tr0ub4dor",
        "--S3cretHalf-9Zq",
        "--event",
        "push",
      ],
      "hookgate send: Unexpected option after --secret and its value: quote a value that has spaces, or check the option's name",
      "S3cretHalf",
    ],
    [
      ["send", "--url", "http://127.0.0.1:9/hooks/x", "--secret=Tr0ub4dor", "-Qz8secret", "--event", "push"],
      "hookgate send: Unexpected option after --secret and its value: quote a value that has spaces, or check the option's name",
      "'-Q'",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--insecure-header", "Authorization:", "--tok3nvalue"),
      "hookgate send: Unexpected option after --insecure-header and its value: quote a value that has spaces, or check the option's name",
      "tok3nvalue",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--form", "battery-staple-9Zq"),
      "hookgate send: Unexpected extra argument after --form, which takes no value",
      "battery-staple-9Zq",
    ],
    // --secret-name is for --secrets: beside --secret it would be ignored, and send sign with the other secret.
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--secret-name", "hookgate/github-webhook"),
      "hookgate send: --secret-name names a secret in --secrets FILE; give --secret or --secret-name, not both",
      "s3cr3tvalue",
    ],
    [
      sendArgs("http://127.0.0.1:9/hooks/x", "--event", " "),
      "hookgate send: --event must not be blank",
      "s3cr3tvalue",
    ],
  ];
  for (const [argv, line, credential] of refused) {
    it(`send ${argv
      .slice(1, 3)
      .concat(argv.slice(9))
      .map((a) => JSON.stringify(a))
      .join(" ")} exits 2 with ${line}, never printing ${credential}`, () => {
      const run = runBin(argv);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr.split("\n")[0]).to.equal(line);
      expect(run.stderr).not.to.include(credential);
    });
  }
});

describe("Function: parseCommandArgs, an unknown option", () => {
  const options = {
    secret: { type: "string" },
    event: { type: "string" },
    quiet: { type: "boolean" },
  } as const;
  const refusal = (argv: string[]) => {
    try {
      parseCommandArgs(argv, options);
    } catch (error) {
      return (error as Error).message;
    }
    return expect.fail("no usage error");
  };

  it("is quoted when typed as an option after another option's value or on its own, where it holds no secret", () => {
    expect(refusal(["--event", "push", "--secrt", "x"])).to.equal("Unknown option '--secrt'");
    expect(refusal(["--secrt", "x"])).to.equal("Unknown option '--secrt'");
    expect(refusal(["--secret", "x", "--quiet", "--evnt"])).to.equal("Unknown option '--evnt'");
  });

  it("is never quoted in a short group right after --secret's value: the option before it is named", () => {
    expect(refusal(["--secret", "x", "-qZsecret"])).to.equal(
      "Unexpected option after --secret and its value: quote a value that has spaces, or check the option's name",
    );
  });
});

describe("Function: parseCommandArgs, a value that starts with a dash", () => {
  it("parseCommandArgs(['-r', '-x.yaml']) says to write it with the option's long name, --routes=<value> (hookgate check -r)", () => {
    expect(() => parseCommandArgs(["-r", "-x.yaml"], { routes: { type: "string", short: "r" } })).to.throw(
      `Option '-r' argument is ambiguous: its value is missing, or it starts with "-" and must be written --routes=<value>`,
    );
  });
});

describe("Function: secretEntry and a secrets file entry written as a bare number or boolean", () => {
  /** secretEntry's error for `name` in a secrets file holding `entries`, the file's path as FILE. */
  function refusal(entries: Record<string, unknown>, name: string): string {
    const dir = mkdtempSync(join(tmpdir(), "hookgate-send-typed-"));
    try {
      const file = join(dir, "secrets.json");
      writeFileSync(file, JSON.stringify(entries));
      try {
        secretEntry(file, name);
      } catch (error) {
        return (error as Error).message.replace(file, "FILE");
      }
      throw new Error("secretEntry did not refuse");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const pasted = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  it("secretEntry names another entry's key that may be a pasted secret ({<secret>: true}) only as 'an entry', never printing it", () => {
    expect(refusal({ [pasted]: true, "hookgate/github-webhook": "x" }, "hookgate/github-webhook")).to.equal(
      "FILE: an entry (its key not shown, as a key may be a pasted secret) is a boolean; write the secret as a string",
    );
  });

  it("secretEntry never shows the name asked for that looks generated, as serve's refusal of the file does not", () => {
    const generated = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    expect(refusal({ [generated]: 12345 }, generated)).to.equal(
      "FILE: an entry (its key not shown, as a key may be a pasted secret) is a number; write the secret as a string",
    );
  });

  it("secretEntry names an entry whose key is a secret name, and never its value", () => {
    const message = refusal(
      { "hookgate/jenkins": 987654321, "hookgate/github-webhook": "x" },
      "hookgate/github-webhook",
    );
    expect(message).to.equal('FILE: "hookgate/jenkins" is a number; write the secret as a string');
    expect(message).not.to.include("987654321");
  });
});

describe("Function: shownUrl, a URL whose password ends its authority early", () => {
  it("shows nothing before the last @ of a URL whose password holds an unencoded / ? or #, which parses as host:port and a path", () => {
    expect(shownUrl("http://deploy:8080/Zk3pQ@127.0.0.1:9/x")).to.equal("http://***@127.0.0.1:9/x");
    expect(shownUrl("http://deploy:Zk?3pQ@127.0.0.1:9/x")).to.equal("http://***@127.0.0.1:9/x");
    expect(shownUrl("http://deploy:Zk#3pQ@127.0.0.1:9/x")).to.equal("http://***@127.0.0.1:9/x");
    // An "@" in the password too: the parser takes the first part as userinfo, the rest lands in the path.
    expect(shownUrl("http://deploy:p@ss/Zk3pQ@127.0.0.1:9/x")).to.equal("http://***@127.0.0.1:9/x");
  });

  it("shows a URL with a parsed user:password@ without them, and one without any as it is", () => {
    expect(shownUrl("http://deploy:s3cr3t@127.0.0.1:9/x")).to.equal("http://127.0.0.1:9/x");
    expect(shownUrl("http://127.0.0.1:9/hooks/x?a=1")).to.equal("http://127.0.0.1:9/hooks/x?a=1");
  });
});
