// serve's secrets file: the one it generates (src/local/localSecrets.ts) and the store that reads it
// (src/local/fileSecretStore.ts): what is refused, what is kept, and when an edit is seen.
import fs, {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { secretEntry } from "../../src/cli/send";
import { SecretNotFoundError, TransientDependencyError } from "../../src/core/errors";
import type { Route } from "../../src/core/types";
import {
  FileSecretStore,
  jsonSyntaxProblem,
  parseSecretsFile,
  SecretsFileError,
} from "../../src/local/fileSecretStore";
import { ensureWebhookSecrets, webhookSecretNames } from "../../src/local/localSecrets";

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hookgate-secrets-"));
  file = join(dir, "secrets.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function thrown(run: () => unknown): Error & { cause?: unknown; code?: string } {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("nothing was thrown");
}

describe("Function: webhookSecretNames", () => {
  it("the routes' webhook secret names, sorted, once each; routes without one add none", () => {
    const routes = [
      { secret: "b" },
      { secret: undefined },
      { secret: "a" },
      { secret: "b" },
    ] as unknown as Route[];
    expect(webhookSecretNames(routes)).to.deep.equal(["a", "b"]);
  });
});

describe("Function: ensureWebhookSecrets", () => {
  const realRename = fs.renameSync;
  const realFsync = fs.fsyncSync;
  afterEach(() => {
    fs.renameSync = realRename;
    fs.fsyncSync = realFsync;
  });

  it("refuses a file that holds JSON but not an object: a list, null, a string", () => {
    for (const text of ["[]", "null", '"s"', "3"]) {
      writeFileSync(file, text);
      const error = thrown(() => ensureWebhookSecrets(file, ["a"]));
      expect(error).to.be.instanceOf(SecretsFileError);
      expect(error.message).to.equal(`${file}: expected a JSON object; fix or delete it`);
    }
  });

  it("generates a value for a name that is missing, null or empty, and keeps every other value", () => {
    writeFileSync(file, JSON.stringify({ missing_not: "kept", nulled: null, empty: "", other: { a: 1 } }));
    const result = ensureWebhookSecrets(file, ["missing", "nulled", "empty", "missing_not"]);
    expect(result).to.deep.equal({ file, created: ["missing", "nulled", "empty"] });
    const data = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(data.missing_not).to.equal("kept");
    expect(data.other).to.deep.equal({ a: 1 });
    for (const name of ["missing", "nulled", "empty"]) expect(data[name]).to.match(/^[0-9a-f]{64}$/);
  });

  it("a file that already holds every name is not rewritten, only made 0600", () => {
    writeFileSync(file, '{ "a": "x" }', { mode: 0o644 });
    let writes = 0;
    fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
      writes++;
      realRename(from, to);
    };
    expect(ensureWebhookSecrets(file, ["a"]).created).to.deep.equal([]);
    expect(readFileSync(file, "utf8")).to.equal('{ "a": "x" }');
    expect(writes).to.equal(0);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
  });

  it("no file: it is created (with its directory), mode 0600, durably, even with no names", () => {
    let syncs = 0;
    fs.fsyncSync = (fd: number) => {
      syncs++;
      realFsync(fd);
    };
    const nested = join(dir, "state", "secrets.json");
    expect(ensureWebhookSecrets(nested, []).created).to.deep.equal([]);
    expect(readFileSync(nested, "utf8")).to.equal("{}\n");
    expect(statSync(nested).mode & 0o777).to.equal(0o600);
    expect(syncs).to.equal(2); // the file, then its directory
  });
});

describe("Function: ensureWebhookSecrets on something other than a regular file (h365)", () => {
  it("refuses a symlink at secrets.json, naming the path; the link, its target and the target's mode stay as they were", () => {
    const vault = join(dir, "vault");
    mkdirSync(vault, { mode: 0o700 });
    const target = join(vault, "hookgate-secrets.json");
    const text = `${JSON.stringify({ "hookgate/jenkins": { user: "ci", token: "11aa22bb33cc44dd" } })}\n`;
    writeFileSync(target, text, { mode: 0o640 });
    chmodSync(target, 0o640);
    const state = join(dir, "state");
    mkdirSync(state);
    const link = join(state, "secrets.json");
    symlinkSync(target, link);

    const error = thrown(() => ensureWebhookSecrets(link, ["hookgate/github-webhook"]));

    expect(error).to.be.instanceOf(SecretsFileError);
    expect(error.message).to.equal(
      `secrets file ${link} is a symbolic link, which serve would replace with a copy of its target: ` +
        "pass the file it points to with --secrets FILE (serve then generates no secret), or remove the link",
    );
    expect(lstatSync(link).isSymbolicLink()).to.equal(true);
    expect(readFileSync(target, "utf8")).to.equal(text);
    expect(statSync(target).mode & 0o777).to.equal(0o640);
  });

  it("refuses a directory at secrets.json with a SecretsFileError naming the path", () => {
    mkdirSync(file);
    const error = thrown(() => ensureWebhookSecrets(file, ["hookgate/github-webhook"]));
    expect(error).to.be.instanceOf(SecretsFileError);
    expect(error.message).to.equal(`secrets file ${file} is a directory`);
  });

  it("a file it cannot read is a SecretsFileError naming the path and the code, with the cause", () => {
    writeFileSync(file, "{}");
    const realRead = fs.readFileSync;
    const failure = Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
    fs.readFileSync = (() => {
      throw failure;
    }) as typeof fs.readFileSync;
    let error: Error & { cause?: unknown };
    try {
      error = thrown(() => ensureWebhookSecrets(file, []));
    } finally {
      fs.readFileSync = realRead;
    }
    expect(error).to.be.instanceOf(SecretsFileError);
    expect(error.message).to.equal(`secrets file ${file} cannot be read (EIO)`);
    expect(error.cause).to.equal(failure);
  });
});

// Windows PowerShell 5.1's Set-Content -Encoding UTF8 writes a byte order mark first, which JSON.parse refuses.
describe("A secrets file that starts with a byte order mark", () => {
  const BOM = "\uFEFF";
  const TEXT = `${BOM}{ "hookgate/github-webhook": "s3cr3t-value" }`;

  it("parseSecretsFile (serve --secrets) reads its values", () => {
    expect(parseSecretsFile(TEXT, "secrets.json").get("hookgate/github-webhook")).to.equal("s3cr3t-value");
  });

  it("send --secrets signs with its value", () => {
    writeFileSync(file, TEXT);
    expect(secretEntry(file, "hookgate/github-webhook").secret).to.equal("s3cr3t-value");
  });

  it("serve's ensureWebhookSecrets keeps its value, and a rewrite adding a name writes it without the mark, still readable", async () => {
    writeFileSync(file, TEXT);
    expect(ensureWebhookSecrets(file, ["hookgate/github-webhook"]).created).to.deep.equal([]);
    expect(ensureWebhookSecrets(file, ["hookgate/github-webhook", "hookgate/gitlab"]).created).to.deep.equal([
      "hookgate/gitlab",
    ]);
    const text = readFileSync(file, "utf8");
    expect(text.startsWith(BOM)).to.equal(false);
    expect(JSON.parse(text)["hookgate/github-webhook"]).to.equal("s3cr3t-value");
    expect(await new FileSecretStore(file).versions("hookgate/github-webhook")).to.deep.equal([
      "s3cr3t-value",
    ]);
  });
});

// Windows PowerShell 5.1's > and Out-File write UTF-16LE with a byte order mark (FF FE): read as UTF-8, it is
// no JSON, and the message says what to change.
describe("A secrets file in UTF-16 (PowerShell 5.1's > or Out-File)", () => {
  const JSON_TEXT = '{ "hookgate/github-webhook": "s3cr3t-value" }\r\n';
  const UTF16 = "not valid JSON: it looks like UTF-16";
  const encodings: Array<[string, Buffer]> = [
    [
      "UTF-16LE with its byte order mark (FF FE)",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON_TEXT, "utf16le")]),
    ],
    [
      "UTF-16BE with its byte order mark (FE FF)",
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(JSON_TEXT, "utf16le").swap16()]),
    ],
    ["UTF-16LE without a byte order mark", Buffer.from(JSON_TEXT, "utf16le")],
  ];
  for (const [what, bytes] of encodings) {
    it(`serve --secrets, send --secrets and serve's state-dir secrets.json say a file in ${what} looks like UTF-16, and to save it as UTF-8`, () => {
      writeFileSync(file, bytes);
      const parsed = thrown(() => parseSecretsFile(readFileSync(file, "utf8"), "secrets.json"));
      expect(parsed.message).to.match(
        /^secrets\.json: not valid JSON: it looks like UTF-16 .*save it as UTF-8/,
      );
      expect(thrown(() => secretEntry(file, "hookgate/github-webhook")).message).to.contain(UTF16);
      expect(thrown(() => ensureWebhookSecrets(file, ["hookgate/github-webhook"])).message).to.contain(UTF16);
      expect(parsed.message).not.to.contain("s3cr3t");
    });
  }

  it("jsonSyntaxProblem places the fault where the text breaks, not at an 'at position N' the text itself holds (V8 quotes short texts)", () => {
    const cases: Array<[string, string]> = [
      ['[x,"at position 9"]', "line 1, column 2"],
      ['{"a":\n x, "at position 1": 2}', "line 2, column 2"],
    ];
    for (const [text, place] of cases) {
      let error: unknown;
      try {
        JSON.parse(text);
      } catch (e) {
        error = e;
      }
      expect(jsonSyntaxProblem(text, error), text).to.equal(`not valid JSON (${place})`);
    }
  });

  it("a UTF-8 file that is not valid JSON is not taken for UTF-16", () => {
    expect(jsonSyntaxProblem("{x", undefined)).to.equal("not valid JSON (line 1, column 2)");
    expect(jsonSyntaxProblem('\uFFFD\uFFFD{"a": 1', undefined)).to.equal("not valid JSON (line 1, column 1)");
  });
});

describe("Function: parseSecretsFile and jsonSyntaxProblem", () => {
  it("refuses JSON that is not an object, naming the file", () => {
    for (const text of ["[]", "null", '"s"']) {
      const error = thrown(() => parseSecretsFile(text, "f.json"));
      expect(error.name).to.equal("SecretsFileError");
      expect(error.message).to.equal('f.json: expected a JSON object { "<secret name>": "value" | {...} }');
    }
  });

  it("refuses an entry written as a bare number or boolean, showing its key only when it reads as a secret name, never a key that may be a pasted secret nor the value", () => {
    const pasted = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const generated = "ELatAgll_JIcNMuE8DZVB2TBruNy3mjIj0Td3NvaGtk";
    const hidden =
      "f.json: an entry (its key not shown, as a key may be a pasted secret) is a boolean; write the secret as a string";
    expect(
      thrown(() => parseSecretsFile(JSON.stringify({ a: "x", [pasted]: true }), "f.json")).message,
    ).to.equal(hidden);
    expect(thrown(() => parseSecretsFile(JSON.stringify({ [generated]: false }), "f.json")).message).to.equal(
      hidden,
    );
    // Not a secret name check takes (a space, an escape): not shown either.
    expect(thrown(() => parseSecretsFile('{"my \\u001b[2J key": true}', "f.json")).message).to.equal(hidden);
    const named = thrown(() => parseSecretsFile('{"hookgate/jenkins": 987654321}', "f.json"));
    expect(named.name).to.equal("SecretsFileError");
    expect(named.message).to.equal('f.json: "hookgate/jenkins" is a number; write the secret as a string');
  });

  it("skips null values; an empty string is kept as a name without a usable value", () => {
    expect([...parseSecretsFile('{"a": null, "b": "", "c": "v"}', "f")]).to.deep.equal([
      ["b", ""],
      ["c", "v"],
    ]);
  });

  it("says the line and column where V8's message gives no position (an unexpected token, an early end), never the text", () => {
    const problem = (text: string) => {
      try {
        JSON.parse(text);
      } catch (error) {
        return jsonSyntaxProblem(text, error);
      }
      return expect.fail("the text is JSON");
    };
    expect(problem('{\n  "hookgate/github": s3cr3t\n}')).to.equal("not valid JSON (line 2, column 22)");
    expect(problem('{\n  "hookgate/github": "s3cr3t",\n}')).to.equal("not valid JSON (line 3, column 1)");
    expect(problem('{\n  "hookgate/github": [\n')).to.equal("not valid JSON (line 3, column 1)");
    expect(thrown(() => parseSecretsFile('{\n  "a": "x",\n  "b": [s3cr3t]\n}', "f.json")).message).to.equal(
      "f.json: not valid JSON (line 3, column 9)",
    );
  });

  it("without an error message to read, finds the line and column in the text, and says only not valid JSON of a text that is JSON", () => {
    expect(jsonSyntaxProblem("{x", undefined)).to.equal("not valid JSON (line 1, column 2)");
    expect(jsonSyntaxProblem("{}", undefined)).to.equal("not valid JSON");
  });
});

describe("Class: FileSecretStore, reading and re-reading the file", () => {
  it("a file that cannot be read is a SecretsFileError that says why, with the cause", () => {
    const missing = thrown(() => new FileSecretStore(join(dir, "none.json")));
    expect(missing.message).to.equal(`secrets file ${join(dir, "none.json")} not found`);
    expect((missing.cause as { code?: string }).code).to.equal("ENOENT");
    mkdirSync(join(dir, "a-dir"));
    expect(thrown(() => new FileSecretStore(join(dir, "a-dir"))).message).to.equal(
      `secrets file ${join(dir, "a-dir")} is a directory`,
    );
    writeFileSync(join(dir, "a-file"), "x");
    expect(thrown(() => new FileSecretStore(join(dir, "a-file", "s.json"))).message).to.equal(
      `secrets file ${join(dir, "a-file", "s.json")} cannot be read (ENOTDIR)`,
    );
  });

  it("a missing name is SecretNotFoundError whose cause says where to add it; names() lists the file's names", async () => {
    writeFileSync(file, JSON.stringify({ a: "1", b: "" }));
    const store = new FileSecretStore(file);
    const error = (await store.versions("c").catch((e: unknown) => e)) as Error & { cause?: Error };
    expect(error).to.be.instanceOf(SecretNotFoundError);
    expect(error.cause?.message).to.equal(`add "c" to ${file}`);
    expect(store.names()).to.deep.equal(["a", "b"]);
  });

  it("an edit is seen once a second has passed since the last check, at once (every 100 ms) on refresh", async () => {
    let clock = 1_000_000;
    writeFileSync(file, JSON.stringify({ s: "one" }));
    const store = new FileSecretStore(file, () => clock);
    writeFileSync(file, JSON.stringify({ s: "two" }));
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    clock += 999;
    expect(await store.versions("s")).to.deep.equal(["one"]);
    expect(store.peek("s")).to.deep.equal(["one"]);
    clock += 1;
    expect(store.peek("s")).to.equal(undefined); // a check is due: peek does not answer from the cache
    expect(await store.versions("s")).to.deep.equal(["two"]);
    writeFileSync(file, JSON.stringify({ s: "three" }));
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    clock += 99;
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["two"]);
    expect(store.peek("s", { refresh: true })).to.deep.equal(["two"]);
    clock += 1;
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["three"]);
  });

  it("a file changed with its modification time kept is not read again", async () => {
    let clock = 1_000_000;
    writeFileSync(file, JSON.stringify({ s: "one" }));
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const store = new FileSecretStore(file, () => clock);
    writeFileSync(file, JSON.stringify({ s: "two" }));
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    clock += 5_000;
    expect(await store.versions("s")).to.deep.equal(["one"]);
  });

  it("a file gone for a moment (an editor saving by rename) or half-edited: the last good secrets still serve", async () => {
    let clock = 1_000_000;
    writeFileSync(file, JSON.stringify({ s: "one" }));
    const store = new FileSecretStore(file, () => clock);
    rmSync(file);
    clock += 5_000;
    expect(await store.versions("s")).to.deep.equal(["one"]);
    writeFileSync(file, '{"s": "tw');
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    clock += 5_000;
    expect(await store.versions("s")).to.deep.equal(["one"]);
  });
});

describe("Class: FileSecretStore, a file edited into one it cannot read while serve runs", () => {
  /** A store over {"s": "one"} whose file is then overwritten with `text`; its clock and its log lines. */
  function brokenBy(text: string) {
    const clock = { now: 1_000_000 };
    const lines: Record<string, unknown>[] = [];
    writeFileSync(file, JSON.stringify({ s: "one" }));
    const store = new FileSecretStore(
      file,
      () => clock.now,
      (line) => lines.push(line),
    );
    writeFileSync(file, text);
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    clock.now += 1_000;
    return { store, clock, lines };
  }
  const BROKEN = '{\n  "s": "two-secret-value",\n  "jenkins": {"user": "ci", "token": "t0k-secret"},\n}\n';

  it("logs one warning per change of the file, naming its line and column and no value, while the last good secrets serve", async () => {
    const { store, clock, lines } = brokenBy(BROKEN);
    expect(await store.versions("s")).to.deep.equal(["one"]);
    clock.now += 1_000;
    expect(await store.versions("s")).to.deep.equal(["one"]);
    expect(lines).to.deep.equal([
      {
        level: "warn",
        msg: `secrets file ${file}: not valid JSON (line 4, column 1); the last good secrets still serve`,
        hint: "until the file is fixed, a delivery needing a secret they lack, or one read again after a refusal, is answered 503 or retried",
      },
    ]);
    expect(JSON.stringify(lines)).to.not.match(/two-secret|t0k/);
    writeFileSync(file, `${BROKEN}x`);
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    clock.now += 1_000;
    await store.versions("s");
    expect(lines).to.have.length(2);
  });

  it("a name the last good secrets lack is a retryable TransientDependencyError naming the file's problem, not SecretNotFoundError", async () => {
    const { store } = brokenBy(BROKEN);
    const error = await store.versions("jenkins").catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect((error as Error).message).to.equal(
      `secret "jenkins" cannot be read: secrets file ${file}: not valid JSON (line 4, column 1) (the last good secrets lack it); fix the file`,
    );
    expect(store.peek("jenkins")).to.equal(undefined);
  });

  it("a refresh (a value refused) is a TransientDependencyError while the file is in error: it may hold a new value", async () => {
    const { store } = brokenBy(BROKEN);
    expect(await store.versions("s")).to.deep.equal(["one"]);
    expect(store.peek("s")).to.deep.equal(["one"]);
    expect(store.peek("s", { refresh: true })).to.equal(undefined);
    const error = await store.versions("s", { refresh: true }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TransientDependencyError);
    expect((error as Error).message).to.include("(it may hold a new value)");
  });

  it("the fixed file is read at the next check, even with the broken one's modification time, and says so", async () => {
    const { store, clock, lines } = brokenBy('{"s": "tw');
    await store.versions("s");
    const { mtime } = statSync(file);
    writeFileSync(file, JSON.stringify({ s: "two", jenkins: "j" }));
    utimesSync(file, mtime, mtime); // a write completed within the mtime's grain
    clock.now += 1_000;
    expect(await store.versions("jenkins")).to.deep.equal(["j"]);
    expect(await store.versions("s", { refresh: true })).to.deep.equal(["two"]);
    expect(lines.at(-1)).to.deep.equal({
      level: "info",
      msg: `secrets file ${file} read again: its secrets serve`,
    });
  });

  it("a file gone or unreadable is the same: one warning with its error code, and a name it lacks is retryable", async () => {
    const { store, clock, lines } = brokenBy(JSON.stringify({ s: "one" }));
    rmSync(file);
    clock.now += 1_000;
    expect(await store.versions("jenkins").catch((e: unknown) => e)).to.be.instanceOf(
      TransientDependencyError,
    );
    mkdirSync(file);
    clock.now += 1_000;
    expect(await store.versions("s")).to.deep.equal(["one"]);
    expect(lines.map((l) => l.msg)).to.deep.equal([
      `secrets file ${file}: not found; the last good secrets still serve`,
      `secrets file ${file}: cannot be read (EISDIR); the last good secrets still serve`,
    ]);
  });
});

describe("Function: ensureWebhookSecrets (secret names that are Object's own)", () => {
  // [what, names, file before (or none)]
  const cases: Array<[string, string[], string | undefined]> = [
    ["creates constructor and __proto__ in a new file", ["hooks/a", "constructor", "__proto__"], undefined],
    [
      "adds constructor and __proto__ to a file that holds another",
      ["constructor", "__proto__"],
      '{ "hooks/a": "x" }',
    ],
    [
      "toString, valueOf and hasOwnProperty are names like any other",
      ["toString", "valueOf", "hasOwnProperty"],
      undefined,
    ],
  ];
  for (const [what, names, before] of cases) {
    it(`${what}, and serve's store reads each`, async () => {
      if (before !== undefined) writeFileSync(file, before);
      const ensured = ensureWebhookSecrets(file, names);
      expect(ensured.created).to.deep.equal(names);
      const written = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      for (const name of names) {
        expect(Object.getOwnPropertyDescriptor(written, name)?.value, name).to.match(/^[0-9a-f]{64}$/);
      }
      const store = new FileSecretStore(file);
      for (const name of names) expect(await store.versions(name), name).to.have.length(1);
    });
  }

  it("keeps a value the file already holds for __proto__ and constructor", () => {
    writeFileSync(file, '{ "__proto__": "kept-p", "constructor": "kept-c" }');
    expect(ensureWebhookSecrets(file, ["__proto__", "constructor"]).created).to.deep.equal([]);
    const written = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(written, "__proto__")?.value).to.equal("kept-p");
    expect(Object.getOwnPropertyDescriptor(written, "constructor")?.value).to.equal("kept-c");
  });
});
