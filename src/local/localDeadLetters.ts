// DeadLetterQueue persisted under <state-dir>/dead-letters/: one JSON file per dead work item, so a user
// can read why it died and redeliver it from the Git host. Kept 14 days, as the deployed DLQ keeps its
// messages (DLQ_RETENTION_SECONDS): `prune` removes the older ones.
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { DLQ_RETENTION_SECONDS } from "../core/policy";
import type { DeadLetterQueue, LogFn } from "../core/ports";
import type { WorkItem } from "../core/types";
import { DirectorySyncError, writeFileAtomic } from "./atomicFile";

export interface DeadLetter {
  deadAt: string;
  reason: string;
  item?: WorkItem;
  /** A message that was not a readable work item (sendRaw). */
  body?: string;
  /** The route whose queue held that message, when known. */
  route?: string;
  /**
   * The id of the queue message that died: a later receive of that message (serve killed before the queue
   * deleted it) finds its own letter by it, not another message's of the same generation. Absent from the
   * letters an older version filed.
   */
  messageId?: string;
}

export class LocalDeadLetters implements DeadLetterQueue {
  private seq = 0;

  constructor(
    readonly dir: string,
    private readonly onDead?: (letter: DeadLetter) => void,
    private readonly log?: LogFn,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async send(item: WorkItem, reason: string, messageId?: string): Promise<void> {
    const deadAt = new Date().toISOString();
    const name = `${deadLetterStamp(deadAt)}-${String(this.seq++).padStart(4, "0")}-${safe(item.route)}-${safe(item.deliveryId)}-g${item.generation}.json`;
    await this.file(name, { deadAt, reason, item, ...(messageId === undefined ? {} : { messageId }) });
  }

  /** A message that is no work item, under no route (the port's sendRaw). */
  sendRaw(body: string, reason: string, messageId?: string): Promise<void> {
    return this.fileRaw(body, reason, undefined, messageId);
  }

  /**
   * A message that is no work item, filed under `route` when it is known. With its queue message's id, once:
   * that message received again after its letter was filed (serve killed before the queue deleted it) finds the
   * letter, which onDead is told again (the history may have missed it), and no second one is filed.
   */
  async fileRaw(body: string, reason: string, route?: string, messageId?: string): Promise<void> {
    const filed =
      messageId === undefined ? undefined : await this.rawLetterOf(messageId).catch(() => undefined);
    if (filed) {
      this.onDead?.(filed);
      return;
    }
    const deadAt = new Date().toISOString();
    const name = `${deadLetterStamp(deadAt)}-${String(this.seq++).padStart(4, "0")}-unparsable.json`;
    await this.file(name, { deadAt, reason, body, route, ...(messageId === undefined ? {} : { messageId }) });
  }

  /** The letter `fileRaw` filed for the queue message `messageId`, if any; one that cannot be read is not it. */
  private async rawLetterOf(messageId: string): Promise<DeadLetter | undefined> {
    for await (const letter of this.lettersEnding("-unparsable.json")) {
      if (letter.messageId === messageId && letter.item === undefined) return letter;
    }
    return undefined;
  }

  /** The letters whose file name ends with `ending`, read one by one; one that cannot be read is skipped. */
  private async *lettersEnding(ending: string): AsyncGenerator<DeadLetter> {
    for (const name of await readdir(this.dir)) {
      if (name.startsWith(".") || !name.endsWith(ending)) continue;
      let letter: DeadLetter | null;
      try {
        letter = JSON.parse(await readFile(join(this.dir, name), "utf8")) as DeadLetter | null;
      } catch {
        continue;
      }
      if (letter !== null && typeof letter === "object") yield letter;
    }
  }

  private async file(name: string, letter: DeadLetter): Promise<void> {
    try {
      await writeFileAtomic(join(this.dir, name), `${JSON.stringify(letter, null, 2)}\n`, { durable: true });
    } catch (error) {
      if (!(error instanceof DirectorySyncError)) throw error;
      // The letter is in place; only its directory's fsync failed. Rejecting would make the queue keep the
      // message and file it again at every retry (one more file each time), and never mark it dead.
      this.log?.({
        level: "warn",
        msg: "dead letter written, but its directory could not be synced: a power cut may lose it",
        file: name,
        error: String(error),
      });
    }
    this.onDead?.(letter);
  }

  /** The dead letters as one route's handler sees them: an unreadable message is filed under the route. */
  forRoute(route: string): DeadLetterQueue {
    return {
      send: (item, reason, messageId) => this.send(item, reason, messageId),
      sendRaw: (body, reason, messageId) => this.fileRaw(body, reason, route, messageId),
      holds: (item, message) => this.holds(item, message),
    };
  }

  /**
   * Whether the letter of `item` (its route, delivery id and generation) that `message` filed is on disk: found
   * by the end of the name `send` gives it, then read, as two ids can have one safe name part ("a.b" and "a_b").
   * A letter naming a message is the one naming `message.messageId`; one naming none (an older version's), or
   * asked without an id, is taken when filed at or after `message.sentAtMs`, when given. A letter that cannot be
   * read is not it.
   */
  async holds(item: WorkItem, message: { messageId?: string; sentAtMs?: number } = {}): Promise<boolean> {
    const ending = `-${safe(item.route)}-${safe(item.deliveryId)}-g${item.generation}.json`;
    for await (const letter of this.lettersEnding(ending)) {
      const parked = letter.item;
      if (
        parked?.route !== item.route ||
        parked.deliveryId !== item.deliveryId ||
        parked.generation !== item.generation
      )
        continue;
      // Two messages of one generation can be queued one after the other: only the id tells whose letter it is.
      if (typeof letter.messageId === "string" && message.messageId !== undefined) {
        if (letter.messageId === message.messageId) return true;
        continue;
      }
      if (!(message.sentAtMs !== undefined && Date.parse(letter.deadAt ?? "") < message.sentAtMs))
        return true;
    }
    return false;
  }

  /**
   * Removes the dead letters older than `retentionMs` (14 days): those whose name starts with the time they
   * died, as `send` and `sendRaw` name them; any other file is left alone. Returns how many it removed.
   */
  prune(now = Date.now(), retentionMs = DLQ_RETENTION_SECONDS * 1000): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      const deadAt = deadAtOf(name);
      if (deadAt === undefined || now - deadAt <= retentionMs) continue;
      try {
        unlinkSync(join(this.dir, name));
        removed++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    return removed;
  }

  /** Every dead letter on disk, oldest first. */
  list(): DeadLetter[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(".json") && !f.startsWith("."))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), "utf8")) as DeadLetter);
  }
}

/** A file-name-safe rendering of an id (delivery ids come from the network). */
function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80);
}

/** How a dead letter's name starts: the ISO time it died, as a file name may hold it (2026-12-05T12-34-56-789Z). */
export function deadLetterStamp(deadAt: string): string {
  return deadAt.replace(/[:.]/g, "-");
}

/** When a dead letter named by `send` or `sendRaw` died (its name's leading time), else undefined. */
export function deadAtOf(name: string): number | undefined {
  const time = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-\d+-.*\.json$/.exec(name);
  if (!time) return undefined;
  const at = Date.parse(`${time[1]}T${time[2]}:${time[3]}:${time[4]}.${time[5]}Z`);
  return Number.isNaN(at) ? undefined : at;
}
