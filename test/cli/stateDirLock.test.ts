// One `hookgate serve` per state dir: <state-dir>/serve.lock, real files in a temp dir.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { LOCK_FILE, lockStateDir, StateDirInUseError, TAKEOVER_FILE } from "../../src/local/stateDirLock";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "hookgate-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (spawnSync waits for it). */
function deadPid(): number {
  const run = spawnSync(process.execPath, ["-e", ""]);
  return run.pid as number;
}

/** The pid on the lock file's first line. */
function lockPid(): number {
  return Number(readFileSync(join(dir, LOCK_FILE), "utf8").split("\n")[0]);
}

/** The lock file this process writes, as its lines. */
function ownLockLines(): string[] {
  const lock = lockStateDir(dir);
  const text = readFileSync(join(dir, LOCK_FILE), "utf8");
  lock.release();
  return text.trimEnd().split("\n");
}

/** `lines` as a lock file, `changes` replacing the pid (first line) or the line of their key (or added). */
function lockText(
  lines: string[],
  changes: { pid?: number; [key: string]: string | number | undefined },
): string {
  const [pid, ...rest] = lines;
  const { pid: newPid, ...keys } = changes;
  const changed = rest.filter((line) => !((line.split(" ")[0] as string) in keys));
  for (const [key, value] of Object.entries(keys)) changed.push(`${key} ${value}`);
  return `${[newPid ?? pid, ...changed].join("\n")}\n`;
}

/** Field 22 of /proc/<pid>/stat: the process's start, in clock ticks since boot. */
function procStart(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
}

const onLinux = existsSync("/proc/self/stat");

function refusal(take: () => unknown): StateDirInUseError {
  try {
    take();
  } catch (error) {
    expect(error).to.be.instanceOf(StateDirInUseError);
    return error as StateDirInUseError;
  }
  throw new Error("the lock was taken");
}

describe("lockStateDir: one hookgate serve per state dir", () => {
  it("writes this process's pid to <state-dir>/serve.lock and removes it on release", () => {
    const lock = lockStateDir(dir);
    expect(lockPid()).to.equal(process.pid);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).to.equal(false);
  });

  it("writes its pid alone on the first line (all an older hookgate reads), then its host and, on Linux, boot, pid namespace and start time", () => {
    const [pid, ...rest] = ownLockLines();
    expect(pid).to.equal(String(process.pid));
    expect(rest[0]).to.equal(`host ${hostname()}`);
    if (onLinux) {
      expect(rest.slice(1).map((line) => line.split(" ")[0])).to.deep.equal(["boot", "pidns", "start"]);
      expect(rest[3]).to.equal(`start ${procStart(process.pid)}`);
    }
  });

  it("refuses a second lock while the first is held, naming the holder's pid and the way out", () => {
    const first = lockStateDir(dir);
    const error = refusal(() => lockStateDir(dir, ".hookgate"));
    expect(error.pid).to.equal(process.pid);
    expect(error.message).to.equal(
      `the state dir .hookgate is in use by another hookgate serve (pid ${process.pid}): stop it, or give ` +
        `this one its own --state-dir (if no hookgate serve runs, delete ${join(".hookgate", LOCK_FILE)})`,
    );
    first.release();
    lockStateDir(dir).release();
  });

  it("refuses a lock held by another running process", () => {
    // This test's parent (mocha's runner or the shell) is alive for the whole test.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(refusal(() => lockStateDir(dir)).pid).to.equal(process.ppid);
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).to.equal(String(process.ppid));
  });

  it("refuses a lock held by a running process of another user (kill(pid, 0) answers EPERM)", () => {
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    const realKill = process.kill;
    process.kill = ((pid: number, signal?: string | number) => {
      if (pid === process.ppid && signal === 0) {
        throw Object.assign(new Error("kill EPERM"), { code: "EPERM" });
      }
      return realKill.call(process, pid, signal);
    }) as typeof process.kill;
    try {
      expect(refusal(() => lockStateDir(dir)).pid).to.equal(process.ppid);
    } finally {
      process.kill = realKill;
    }
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).to.equal(String(process.ppid));
  });

  const stale: Array<[string, () => string]> = [
    ["the pid of a process that has exited (killed, crashed)", () => `${deadPid()}\n`],
    [
      "this process's own pid, which no lock of this process holds (a restarted container's pid 1)",
      () => `${process.pid}\n`,
    ],
  ];
  for (const [what, content] of stale) {
    it(`takes over a lock file that holds ${what}`, () => {
      writeFileSync(join(dir, LOCK_FILE), content());
      const lock = lockStateDir(dir);
      expect(lockPid()).to.equal(process.pid);
      lock.release();
    });
  }

  describe("a live pid that is not the lock's writer", () => {
    let other: ChildProcess;
    beforeEach(() => {
      other = spawn("sleep", ["60"], { stdio: "ignore" });
    });
    afterEach(() => other.kill("SIGKILL"));

    it("takes over a lock whose pid is alive but started at another time (the pid went to another process)", function () {
      if (!onLinux) this.skip();
      writeFileSync(join(dir, LOCK_FILE), lockText(ownLockLines(), { pid: other.pid, start: "1" }));
      const lock = lockStateDir(dir);
      expect(lockPid()).to.equal(process.pid);
      lock.release();
    });

    it("refuses a lock whose pid is alive and started when the lock says", function () {
      if (!onLinux) this.skip();
      const pid = other.pid as number;
      writeFileSync(join(dir, LOCK_FILE), lockText(ownLockLines(), { pid, start: procStart(pid) }));
      expect(refusal(() => lockStateDir(dir)).pid).to.equal(pid);
    });

    it("judges a lock from this boot and pid namespace by its pid after the host name changed (DHCP, hostnamectl): refused while its writer lives, though unrenewed for 30 s", function () {
      if (!onLinux) this.skip();
      const file = join(dir, LOCK_FILE);
      const pid = other.pid as number;
      writeFileSync(file, lockText(ownLockLines(), { pid, host: "laptop-old", start: procStart(pid) }));
      const unrenewed = new Date(Date.now() - 31_000);
      utimesSync(file, unrenewed, unrenewed);
      const error = refusal(() => lockStateDir(dir, ".hookgate"));
      expect(error.pid).to.equal(pid);
      expect(error.message).to.contain(`in use by another hookgate serve (pid ${pid}): stop it`);
    });

    it("takes over at once a lock from this boot and pid namespace whose writer is gone, after the host name changed", function () {
      if (!onLinux) this.skip();
      writeFileSync(join(dir, LOCK_FILE), lockText(ownLockLines(), { pid: deadPid(), host: "laptop-old" }));
      const lock = lockStateDir(dir);
      expect(lockPid()).to.equal(process.pid);
      lock.release();
    });

    it("takes over a lock without a boot id (an older hookgate's) written before this machine booted, though its pid is alive", () => {
      const file = join(dir, LOCK_FILE);
      writeFileSync(file, `${other.pid}\n`);
      const beforeBoot = new Date(Date.now() - uptime() * 1000 - 60_000);
      utimesSync(file, beforeBoot, beforeBoot);
      const lock = lockStateDir(dir);
      expect(lockPid()).to.equal(process.pid);
      lock.release();
    });

    it("refuses a lock naming this boot whose writer lives, though its mtime looks older than the boot (the clock stepped forward: a first NTP sync, a VM snapshot restored)", function () {
      if (!onLinux) this.skip();
      const file = join(dir, LOCK_FILE);
      const pid = other.pid as number;
      writeFileSync(file, lockText(ownLockLines(), { pid, start: procStart(pid) }));
      const beforeBoot = new Date(Date.now() - uptime() * 1000 - 60_000);
      utimesSync(file, beforeBoot, beforeBoot);
      expect(refusal(() => lockStateDir(dir)).pid).to.equal(pid);
    });
  });

  it("counts an empty lock file younger than 10 s as a start in progress, and takes over an older one", () => {
    const file = join(dir, LOCK_FILE);
    writeFileSync(file, "");
    const error = refusal(() => lockStateDir(dir));
    expect(error.pid).to.equal(undefined);
    expect(error.message).to.contain("in use by another hookgate serve, starting");
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    lockStateDir(dir).release();
  });

  it("release leaves a lock that another process took over, and a second release does nothing", () => {
    const lock = lockStateDir(dir);
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    lock.release();
    lock.release();
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).to.equal(String(process.ppid));
  });

  describe("a lock from another pid namespace, boot or host (a volume two containers or machines share)", () => {
    const elsewhere: Array<[string, Record<string, string>]> = [
      ["another pid namespace (another container)", { pidns: "pid:[1]" }],
      ["another boot", { boot: "00000000-0000-4000-8000-000000000000" }],
      // Another machine: another host and boot (a host name alone changes under a live serve).
      ["another host", { host: "other-host", boot: "11111111-1111-4111-8111-111111111111" }],
    ];
    for (const [where, changes] of elsewhere) {
      it(`from ${where}, naming this process's pid: refused while renewed within 30 s, taken over after`, () => {
        const file = join(dir, LOCK_FILE);
        const text = lockText(ownLockLines(), changes);
        writeFileSync(file, text);
        const renewed = new Date(Math.floor(Date.now() / 1000) * 1000);
        utimesSync(file, renewed, renewed);
        const error = refusal(() => lockStateDir(dir, ".hookgate"));
        expect(error.pid).to.equal(process.pid);
        const host = changes.host ?? hostname();
        expect(error.message).to.equal(
          `the state dir .hookgate is in use by another hookgate serve (pid ${process.pid} on host ${host}, ` +
            "in another container or on another machine; its lock is taken over if not renewed by " +
            `${new Date(renewed.getTime() + 30_000).toISOString()}): stop it, or give this one its own ` +
            `--state-dir (if no hookgate serve runs, delete ${join(".hookgate", LOCK_FILE)})`,
        );
        expect(readFileSync(file, "utf8")).to.equal(text);
        const unrenewed = new Date(Date.now() - 31_000);
        utimesSync(file, unrenewed, unrenewed);
        const lock = lockStateDir(dir);
        expect(readFileSync(file, "utf8")).to.not.equal(text);
        expect(lockPid()).to.equal(process.pid);
        lock.release();
      });
    }

    it("the holder renews its lock's mtime while it holds it", async () => {
      const file = join(dir, LOCK_FILE);
      const lock = lockStateDir(dir, dir, { renewMs: 10 });
      try {
        const old = new Date(Date.now() - 60_000);
        utimesSync(file, old, old);
        while (statSync(file).mtimeMs < Date.now() - 30_000) await new Promise((r) => setTimeout(r, 10));
      } finally {
        lock.release();
      }
      expect(existsSync(file)).to.equal(false);
    });

    it("reports once, from the renewal, a lock taken over while this process was paused past its lease, naming the new holder, and no longer renews it", async () => {
      const file = join(dir, LOCK_FILE);
      const theirs = lockText(ownLockLines(), { pid: 1, host: "other-host", pidns: "pid:[1]" });
      const lost: Array<{ pid: number; host?: string } | undefined> = [];
      const lock = lockStateDir(dir, dir, { renewMs: 10, onLost: (holder) => lost.push(holder) });
      try {
        writeFileSync(file, theirs);
        const old = new Date(Date.now() - 60_000);
        utimesSync(file, old, old);
        for (let i = 0; i < 300 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
        // Ten renewal periods more.
        await new Promise((r) => setTimeout(r, 100));
        expect(lost).to.deep.equal([{ pid: 1, host: "other-host" }]);
        expect(readFileSync(file, "utf8")).to.equal(theirs);
        // mtimeMs is read back from nanoseconds as a float, so the time set comes back within a millisecond.
        expect(statSync(file).mtimeMs, "not renewed").to.be.closeTo(old.getTime(), 1);
      } finally {
        lock.release();
      }
    });

    it("reports a lock removed while held as lost, with no holder", async () => {
      const lost: Array<{ pid: number; host?: string } | undefined> = [];
      const lock = lockStateDir(dir, dir, { renewMs: 10, onLost: (holder) => lost.push(holder) });
      rmSync(join(dir, LOCK_FILE));
      for (let i = 0; i < 300 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      lock.release();
      expect(lost).to.deep.equal([undefined]);
    });

    it("release leaves a lock that names this pid but was written in another pid namespace (another container's serve)", () => {
      const theirs = lockText(ownLockLines(), { pidns: "pid:[1]" });
      const lock = lockStateDir(dir);
      writeFileSync(join(dir, LOCK_FILE), theirs);
      lock.release();
      expect(readFileSync(join(dir, LOCK_FILE), "utf8")).to.equal(theirs);
    });
  });

  describe("two starts that find the same stale lock", () => {
    it("never removes the lock that the other start took over first", () => {
      writeFileSync(join(dir, LOCK_FILE), `${deadPid()}\n`);
      // The other start (this test's parent stands in for it, alive) completes its takeover in the gap
      // between this start finding the lock stale and taking it over.
      const error = refusal(() =>
        lockStateDir(dir, dir, { onStale: () => writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`) }),
      );
      expect(error.pid).to.equal(process.ppid);
      expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).to.equal(String(process.ppid));
      expect(existsSync(join(dir, TAKEOVER_FILE)), "the guard is released").to.equal(false);
    });

    it("refuses while the other start holds serve.lock.takeover, and leaves both files alone", () => {
      writeFileSync(join(dir, LOCK_FILE), "999999999\n");
      writeFileSync(join(dir, TAKEOVER_FILE), `${process.ppid}\n`);
      const error = refusal(() => lockStateDir(dir, ".hookgate"));
      expect(error.pid).to.equal(process.ppid);
      expect(error.message).to.contain(`in use by another hookgate serve (pid ${process.ppid})`);
      expect(error.message).to.contain(`delete ${join(".hookgate", TAKEOVER_FILE)})`);
      expect(readFileSync(join(dir, LOCK_FILE), "utf8")).to.equal("999999999\n");
      expect(readFileSync(join(dir, TAKEOVER_FILE), "utf8").trim()).to.equal(String(process.ppid));
    });

    it("takes the lock over when serve.lock.takeover was left by a start that died mid-takeover", () => {
      writeFileSync(join(dir, LOCK_FILE), `${deadPid()}\n`);
      writeFileSync(join(dir, TAKEOVER_FILE), `${deadPid()}\n`);
      const lock = lockStateDir(dir);
      expect(lockPid()).to.equal(process.pid);
      expect(existsSync(join(dir, TAKEOVER_FILE))).to.equal(false);
      lock.release();
    });
  });
});

describe("lockStateDir: what a start finds", () => {
  it("a free state dir is locked without a takeover: onStale is not called", () => {
    let stale = 0;
    const lock = lockStateDir(dir, dir, { onStale: () => stale++ });
    expect(stale).to.equal(0);
    lock.release();
  });

  it("release twice: the second does nothing, even to a lock taken again since", () => {
    const first = lockStateDir(dir);
    first.release();
    const second = lockStateDir(dir);
    first.release();
    expect(lockPid()).to.equal(process.pid);
    const error = refusal(() => lockStateDir(dir));
    expect(error.name).to.equal("StateDirInUseError");
    second.release();
  });

  it("a lock just created and holding no pid yet, or 0, is a start in progress: refused without a pid", () => {
    for (const text of ["", "0\n"]) {
      writeFileSync(join(dir, LOCK_FILE), text);
      const error = refusal(() => lockStateDir(dir));
      expect(error.pid).to.equal(undefined);
      expect(error.message).to.match(/in use by another hookgate serve, starting/);
    }
  });

  it("a state dir that is not there is its own error, not a lock in use", () => {
    expect(() => lockStateDir(join(dir, "missing"))).to.throw(/ENOENT/);
  });
});

describe("lockStateDir: a holder that is not its lock file's owner (a CIFS mount's fixed uid, a non-root container)", function () {
  this.timeout(20_000);
  // The holder runs as nobody in a pid namespace of its own; the lock is then chowned to root (this test
  // runs as root), as such a mount shows it.
  const canRun =
    process.getuid?.() === 0 &&
    spawnSync("unshare", ["--pid", "--fork", "--kill-child", "true"]).status === 0;
  const MODULE = join(__dirname, "..", "..", "src", "local", "stateDirLock.ts");
  let holder: ChildProcess | undefined;
  let output = "";
  beforeEach(function () {
    if (!canRun) this.skip();
    chmodSync(dir, 0o777);
  });
  afterEach(() => {
    holder?.stdin?.end();
    holder?.kill("SIGKILL");
  });

  /** Starts the holder, renewing every 50 ms and printing each onRenewal call; resolves once it holds the lock. */
  async function startHolder(): Promise<void> {
    const script =
      `const { lockStateDir } = require(${JSON.stringify(MODULE)});` +
      `lockStateDir(${JSON.stringify(dir)}, "state", { renewMs: 50, onRenewal: (e) => ` +
      `console.log(e ? "renewal failing: " + e.code : "renewal works again") }); console.log("locked");` +
      // Alive while the test holds its stdin: setpriv's change of user clears unshare's --kill-child signal,
      // so a kill of unshare alone would leave this process running, holding the test's output pipes.
      'process.stdin.resume(); process.stdin.on("end", () => process.exit(0));';
    const args = ["--pid", "--fork", "--kill-child", "setpriv", "--reuid=65534", "--regid=65534"];
    holder = spawn(
      "unshare",
      [...args, "--clear-groups", process.execPath, "--import", "tsx", "-e", script],
      {
        stdio: ["pipe", "pipe", "pipe"],
        cwd: join(__dirname, "..", ".."),
      },
    );
    output = "";
    for (const stream of [holder.stdout, holder.stderr]) stream?.on("data", (d) => (output += d));
    while (!output.includes("locked")) {
      if (holder.exitCode !== null) throw new Error(`the holder did not lock: ${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it("still renews its lease (the file's mtime), so a start in another container is refused while it runs", async () => {
    await startHolder();
    const file = join(dir, LOCK_FILE);
    chownSync(file, 0, 0);
    chmodSync(file, 0o666);
    // Last renewed 25 s ago: refused only if the holder renews it again within the next 5 s.
    const renewed = new Date(Date.now() - 25_000);
    utimesSync(file, renewed, renewed);
    // Up to 100 renewal periods.
    for (let i = 0; i < 200 && statSync(file).mtimeMs < Date.now() - 20_000; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(statSync(file).mtimeMs, "renewed by the holder").to.be.greaterThan(Date.now() - 20_000);
    expect(() => lockStateDir(dir).release()).to.throw(StateDirInUseError);
    expect(output).to.not.contain("renewal failing");
  });

  it("reports a renewal that fails once, and again once it works, not on every renewal", async () => {
    await startHolder();
    const file = join(dir, LOCK_FILE);
    chownSync(file, 0, 0);
    chmodSync(file, 0o644);
    while (!output.includes("renewal failing")) await new Promise((r) => setTimeout(r, 25));
    // Ten renewals more, all failing.
    await new Promise((r) => setTimeout(r, 500));
    chmodSync(file, 0o666);
    while (!output.includes("renewal works again")) await new Promise((r) => setTimeout(r, 25));
    expect(output).to.equal("locked\nrenewal failing: EACCES\nrenewal works again\n");
  });
});

describe("lockStateDir: a lock this user cannot read (another user's serve, its lock mode 0600)", function () {
  this.timeout(20_000);
  const MODULE = join(__dirname, "..", "..", "src", "local", "stateDirLock.ts");
  beforeEach(function () {
    // The second start runs as nobody, which only root may start.
    if (process.getuid?.() !== 0) this.skip();
    // A state dir both users may write (no sticky bit): nobody could remove root's lock.
    chmodSync(dir, 0o777);
  });

  it("refuses a start by another user while the holder runs, naming the file and the error, and leaves the holder's lock", function () {
    const held = lockStateDir(dir);
    const file = join(dir, LOCK_FILE);
    const before = readFileSync(file, "utf8");
    const script =
      `const { lockStateDir } = require(${JSON.stringify(MODULE)});` +
      `try { lockStateDir(${JSON.stringify(dir)}, "state"); console.log(JSON.stringify({ took: true })); }` +
      ` catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`;
    const second = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: join(__dirname, "..", ".."),
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
      timeout: 15_000,
      killSignal: "SIGKILL",
    });
    try {
      // A checkout nobody may read cannot run the test; any other failure is one.
      if (/MODULE_NOT_FOUND|Cannot find (module|package)/.test(second.stderr)) this.skip();
      expect(second.status, second.stderr).to.equal(0);
      expect(JSON.parse(second.stdout)).to.deep.equal({
        name: "StateDirInUseError",
        message:
          "the state dir state is in use by another hookgate serve, maybe running: its serve.lock cannot be " +
          "read (EACCES: another user's serve may hold it): stop it, or give this one its own --state-dir " +
          `(if no hookgate serve runs, delete ${join("state", LOCK_FILE)})`,
      });
      expect(readFileSync(file, "utf8"), "the holder's lock").to.equal(before);
    } finally {
      held.release();
    }
    expect(existsSync(file), "released by its holder").to.equal(false);
  });
});
