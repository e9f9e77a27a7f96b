// serve's dead letters (src/local/localDeadLetters.ts): one durable JSON file per dead work item, named so
// that a listing is oldest first and a network-supplied id cannot leave the directory.
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { DeadLetterQueue } from "../../src/core/ports";
import type { WorkItem } from "../../src/core/types";
import { type DeadLetter, LocalDeadLetters } from "../../src/local/localDeadLetters";
import { LocalQueue } from "../../src/local/localQueue";
import { localWorkItem } from "../support/localStores";

const item = (delivery: string, route = "r") =>
  localWorkItem(delivery, { repo: null, route, generation: 2, acceptedAt: "2026-01-01T00:00:00.000Z" });

const TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z";

describe("Class: LocalDeadLetters", () => {
  let dir: string;
  const realFsync = fs.fsyncSync;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), "hookgate-dead-")), "dead-letters");
  });
  afterEach(() => {
    fs.fsyncSync = realFsync;
    rmSync(join(dir, ".."), { recursive: true, force: true });
  });

  it("send writes one file per letter, named by time, sequence, route, delivery and generation, and tells onDead", async () => {
    const told: DeadLetter[] = [];
    const letters = new LocalDeadLetters(dir, (letter) => told.push(letter));
    await letters.send(item("d1"), "failed 5 attempts");
    await letters.send(item("d2"), "HTTP 404");
    const names = readdirSync(dir).sort();
    expect(names).to.have.length(2);
    expect(names[0]).to.match(new RegExp(`^${TIME}-0000-r-d1-g2\\.json$`));
    expect(names[1]).to.match(new RegExp(`^${TIME}-0001-r-d2-g2\\.json$`));
    const text = readFileSync(join(dir, names[0] as string), "utf8");
    const letter = JSON.parse(text) as DeadLetter;
    expect(text).to.equal(`${JSON.stringify(letter, null, 2)}\n`);
    expect(letter).to.deep.equal({ deadAt: letter.deadAt, reason: "failed 5 attempts", item: item("d1") });
    expect(names[0]?.startsWith(letter.deadAt.replace(/[:.]/g, "-"))).to.equal(true);
    expect(told.map((t) => t.reason)).to.deep.equal(["failed 5 attempts", "HTTP 404"]);
  });

  it("a delivery id or route from the network becomes a safe file name part of at most 80 characters", async () => {
    const letters = new LocalDeadLetters(dir);
    await letters.send(item(`../../x y:${"z".repeat(100)}`, "r/../s"), "why");
    const [name] = readdirSync(dir);
    expect(name).to.match(new RegExp(`^${TIME}-0000-r____s-______x_y_${"z".repeat(70)}-g2\\.json$`));
  });

  it("fileRaw files a message that is no work item, with its body and route, as unparsable", async () => {
    const told: DeadLetter[] = [];
    const letters = new LocalDeadLetters(dir, (letter) => told.push(letter));
    await letters.fileRaw("not json", "message body is not JSON", "r");
    const [name] = readdirSync(dir);
    expect(name).to.match(new RegExp(`^${TIME}-0000-unparsable\\.json$`));
    const letter = JSON.parse(readFileSync(join(dir, name as string), "utf8")) as DeadLetter;
    expect(letter).to.deep.equal({
      deadAt: letter.deadAt,
      reason: "message body is not JSON",
      body: "not json",
      route: "r",
    });
    expect(told).to.deep.equal([letter]);
  });

  it("sendRaw, the port's, files under no route: its third argument is the queue message's id, not a route", async () => {
    const port: DeadLetterQueue = new LocalDeadLetters(dir);
    expect(port.sendRaw).to.be.a("function");
    await port.sendRaw?.("not json", "message body is not JSON", "msg-1");
    const [name] = readdirSync(dir);
    const letter = JSON.parse(readFileSync(join(dir, name as string), "utf8")) as DeadLetter;
    expect(letter.route).to.equal(undefined);
    expect(letter).to.include({ body: "not json", reason: "message body is not JSON", messageId: "msg-1" });
  });

  it("fileRaw with a queue message's id files one letter per message: that message filed again (received again after a kill -9) files none and tells onDead its letter again; another message, or one without an id, gets its own", async () => {
    const told: DeadLetter[] = [];
    const letters = new LocalDeadLetters(dir, (letter) => told.push(letter));
    const routeLetters = letters.forRoute("web");
    await routeLetters.sendRaw?.("{", "unreadable work item: not JSON", "m-1");
    const [first] = letters.list();
    expect(first).to.deep.equal({
      deadAt: first?.deadAt,
      reason: "unreadable work item: not JSON",
      body: "{",
      route: "web",
      messageId: "m-1",
    });
    // m-1 again, through either door: the handler's (received again) and the queue's redrive (past maxReceiveCount).
    await routeLetters.sendRaw?.("{", "unreadable work item: not JSON", "m-1");
    await letters.fileRaw("{", "failed 8 receives (maxReceiveCount reached)", "web", "m-1");
    expect(letters.list(), "m-1 filed once").to.deep.equal([first]);
    expect(told, "onDead told its letter each time").to.deep.equal([first, first, first]);
    await letters.fileRaw("{", "unreadable work item: not JSON", "web", "m-2");
    await letters.fileRaw("{", "unreadable work item: not JSON", "web");
    await letters.fileRaw("{", "unreadable work item: not JSON", "web");
    expect(letters.list().map((l) => l.messageId)).to.deep.equal(["m-1", "m-2", undefined, undefined]);
  });

  it("forRoute: sends go through, and an unreadable message is filed under the route", async () => {
    const letters = new LocalDeadLetters(dir);
    const routeLetters = letters.forRoute("web");
    await routeLetters.send(item("d1", "web"), "dead");
    await routeLetters.sendRaw?.("{", "not JSON");
    expect(letters.list().map((l) => [l.reason, l.item?.deliveryId, l.route])).to.deep.equal([
      ["dead", "d1", undefined],
      ["not JSON", undefined, "web"],
    ]);
  });

  it("holds(item) tells whether the item's own letter (its route, delivery id and generation) is on disk, read from the file: not another's whose name ends alike, nor one that cannot be read", async () => {
    const letters = new LocalDeadLetters(dir);
    const mine = localWorkItem("a-b", { route: "r", generation: 2 });
    const sameEnding = localWorkItem("b", { route: "r-a", generation: 2 }); // ...-r-a-b-g2.json too
    const sameSafeName = localWorkItem("a.b", { route: "r", generation: 2 }); // a.b is a_b as a name part
    expect(await letters.holds(mine), "an empty directory").to.equal(false);
    await letters.send(sameEnding, "dead");
    await letters.send(localWorkItem("a-b", { route: "r", generation: 1 }), "dead");
    writeFileSync(join(dir, `2026-01-01T00-00-00-000Z-0100-r-a-b-g2.json`), "{ torn");
    writeFileSync(join(dir, `.2026-01-01T00-00-00-000Z-0101-r-a-b-g2.json.0123456789ab.tmp`), "{}");
    expect(await letters.holds(mine), "other letters only").to.equal(false);
    await letters.send(mine, "final: HTTP 404");
    expect(await letters.holds(mine), "its letter filed").to.equal(true);
    expect(await letters.holds(sameSafeName), "an id of the same safe name").to.equal(false);
    expect(await letters.forRoute("r").holds?.(mine, {}), "through forRoute").to.equal(true);
  });

  it("holds(item, { sentAtMs }) counts a letter that names no message (an older version's) only when filed at or after sentAtMs: one from before is an earlier message's", async () => {
    const letters = new LocalDeadLetters(dir);
    const mine = localWorkItem("d1", { route: "r", generation: 1 });
    await letters.send(mine, "final: HTTP 404");
    const deadAt = Date.parse(letters.list()[0]?.deadAt ?? "");
    expect([
      await letters.holds(mine, { sentAtMs: deadAt - 1 }),
      await letters.holds(mine, { sentAtMs: deadAt }),
      await letters.holds(mine, { sentAtMs: deadAt + 1 }),
      await letters.forRoute("r").holds?.(mine, { sentAtMs: deadAt + 1 }),
      await letters.holds(mine, { messageId: "m-2", sentAtMs: deadAt - 1 }),
      await letters.holds(mine, { messageId: "m-2", sentAtMs: deadAt + 1 }),
    ]).to.deep.equal([true, true, false, false, true, false]);
  });

  it("send(item, reason, messageId) keeps the message id in the letter, and holds(item, { messageId }) counts only the letter of that message, whenever either was sent", async () => {
    const told: DeadLetter[] = [];
    const letters = new LocalDeadLetters(dir, (letter) => told.push(letter));
    const mine = localWorkItem("d1", { route: "r", generation: 1 });
    await letters.forRoute("r").send(mine, "gave up after 5 receives: 503", "m-1");
    const letter = letters.list()[0] as DeadLetter;
    expect(letter).to.deep.equal({
      deadAt: letter.deadAt,
      reason: "gave up after 5 receives: 503",
      item: mine,
      messageId: "m-1",
    });
    expect(told).to.deep.equal([letter]);
    const deadAt = Date.parse(letter.deadAt);
    const rows = [
      // Another message of the same generation, sent before the letter was filed: not its letter.
      { asked: { messageId: "m-2", sentAtMs: deadAt - 60_000 }, holds: false },
      { asked: { messageId: "m-2" }, holds: false },
      // The message that filed it, even were its sent time after the letter's (a wall clock set back).
      { asked: { messageId: "m-1", sentAtMs: deadAt - 60_000 }, holds: true },
      { asked: { messageId: "m-1", sentAtMs: deadAt + 60_000 }, holds: true },
      // Asked without an id: the sent time decides, as for a letter that names no message.
      { asked: { sentAtMs: deadAt - 60_000 }, holds: true },
      { asked: { sentAtMs: deadAt + 60_000 }, holds: false },
    ];
    for (const row of rows)
      expect(await letters.holds(mine, row.asked), JSON.stringify(row.asked)).to.equal(row.holds);
    expect(await letters.forRoute("r").holds?.(mine, { messageId: "m-2" }), "through forRoute").to.equal(
      false,
    );
  });

  it("list reads every letter oldest first, and skips files that are not letters (temporary, hidden, other)", async () => {
    const letters = new LocalDeadLetters(dir);
    for (let i = 0; i < 3; i++) await letters.send(item(`d${i}`), `reason ${i}`);
    writeFileSync(join(dir, ".hidden.json"), "not json");
    writeFileSync(join(dir, ".x.json.0123456789ab.tmp"), "not json");
    writeFileSync(join(dir, "notes.txt"), "not json");
    expect(letters.list().map((l) => l.reason)).to.deep.equal(["reason 0", "reason 1", "reason 2"]);
  });

  it("list orders by name (time first), not by when the files were made", () => {
    const letters = new LocalDeadLetters(dir);
    for (const day of ["03", "01", "02"]) {
      const letter = { deadAt: `2026-01-${day}T00:00:00.000Z`, reason: day };
      writeFileSync(join(dir, `2026-01-${day}T00-00-00-000Z-0000-r-d-g1.json`), JSON.stringify(letter));
    }
    expect(letters.list().map((l) => l.reason)).to.deep.equal(["01", "02", "03"]);
  });

  it("prune removes the letters that died more than 14 days ago (one exactly 14 days old stays), as the deployed DLQ drops its messages, and leaves every other file", () => {
    const letters = new LocalDeadLetters(dir);
    const names = [
      "2026-01-01T00-00-00-000Z-0000-r-d-g1.json",
      "2026-01-01T00-00-00-001Z-0001-unparsable.json",
      "2026-01-14T23-59-59-999Z-0002-r-e-g1.json",
      "2026-01-15T00-00-00-000Z-0004-r-g-g1.json",
      "2026-01-15T00-00-00-001Z-0003-r-f-g1.json",
      "notes.json",
      ".2026-01-01T00-00-00-000Z-0000-r-d-g1.json.0123456789ab.tmp",
    ];
    for (const name of names) writeFileSync(join(dir, name), "{}");
    const now = Date.parse("2026-01-29T00:00:00.000Z");
    expect(letters.prune(now)).to.equal(3);
    expect(readdirSync(dir).sort()).to.deep.equal([...names.slice(3)].sort());
    expect(letters.prune(now)).to.equal(0);
  });

  it("each letter is durable: written with an fsync of its directory", async () => {
    let syncs = 0;
    fs.fsyncSync = (fd: number) => {
      syncs++;
      realFsync(fd);
    };
    const letters = new LocalDeadLetters(dir);
    await letters.send(item("d1"), "dead");
    await letters.sendRaw("x", "unreadable");
    expect(syncs).to.equal(2);
  });
  /** fs.fsyncSync failing (EIO) on directories only, as a disk whose directory fsync fails after the rename. */
  const failDirectorySyncs = () => {
    fs.fsyncSync = ((fd: number) => {
      if (fs.fstatSync(fd).isDirectory())
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      return realFsync(fd);
    }) as typeof fs.fsyncSync;
  };

  it("a letter whose directory fsync fails after its rename counts as written: send resolves, tells onDead and logs a warning", async () => {
    const told: DeadLetter[] = [];
    const logged: Record<string, unknown>[] = [];
    const letters = new LocalDeadLetters(
      dir,
      (letter) => told.push(letter),
      (line) => logged.push(line),
    );
    failDirectorySyncs();
    await letters.send(item("d1"), "failed 5 receives");
    await letters.sendRaw("x", "unreadable");
    fs.fsyncSync = realFsync;
    expect(readdirSync(dir).filter((f) => f.endsWith(".json"))).to.have.length(2);
    expect(told.map((t) => t.reason)).to.deep.equal(["failed 5 receives", "unreadable"]);
    expect(logged.map((l) => [l.level, l.msg])).to.deep.equal([
      ["warn", "dead letter written, but its directory could not be synced: a power cut may lose it"],
      ["warn", "dead letter written, but its directory could not be synced: a power cut may lose it"],
    ]);
    expect(String(logged[0]?.error)).to.match(/EIO/);
  });
});

describe("Class: LocalDeadLetters, under the local queue's redrive", () => {
  const realFsync = fs.fsyncSync;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hookgate-dead-queue-"));
  });
  afterEach(() => {
    fs.fsyncSync = realFsync;
    rmSync(dir, { recursive: true, force: true });
  });
  it("a message past maxReceiveCount whose letter's directory fsync fails is dead-lettered once, tells onDead and leaves the queue (not filed again at every retry)", async () => {
    let dead: () => void = () => {};
    const wasDead = new Promise<boolean>((resolve) => {
      dead = () => resolve(true);
    });
    const letters = new LocalDeadLetters(join(dir, "dead-letters"), () => dead());
    const queue = new LocalQueue({
      dir: join(dir, "queue"),
      maxReceiveCount: 1,
      retryDelay: () => 0,
      redrive: async ({ id, item }, reason) => letters.send(item as WorkItem, reason, id),
    });
    queue.register("r", async (event) => ({
      batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
    }));
    queue.start();
    fs.fsyncSync = ((fd: number) => {
      if (fs.fstatSync(fd).isDirectory())
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      return realFsync(fd);
    }) as typeof fs.fsyncSync;
    await queue.port("r").send(localWorkItem("d-1", { repo: "acme/api", route: "r" }));
    const count = () => readdirSync(join(dir, "dead-letters")).filter((f) => f.endsWith(".json")).length;
    // Until onDead is told, or (were send to reject) the queue files the same message a second time.
    while (count() < 2) {
      if (await Promise.race([wasDead, new Promise<boolean>((r) => setTimeout(r, 5, false))])) break;
    }
    await queue.stop(1000);
    queue.close();
    expect(count()).to.equal(1);
  });
});
