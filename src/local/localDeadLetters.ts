// DeadLetterQueue persisted under <state-dir>/dead-letters/: one JSON file per dead work item, so a user
// can read why it died and redeliver it from the Git host.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DeadLetterQueue } from "../core/ports";
import type { WorkItem } from "../core/types";
import { writeFileAtomic } from "./atomicFile";

export interface DeadLetter {
  deadAt: string;
  reason: string;
  item?: WorkItem;
  /** A message that was not a readable work item (sendRaw). */
  body?: string;
  /** The route whose queue held that message, when known. */
  route?: string;
}

export class LocalDeadLetters implements DeadLetterQueue {
  private seq = 0;

  constructor(
    readonly dir: string,
    private readonly onDead?: (letter: DeadLetter) => void,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  async send(item: WorkItem, reason: string): Promise<void> {
    const deadAt = new Date().toISOString();
    const name = `${deadAt.replace(/[:.]/g, "-")}-${String(this.seq++).padStart(4, "0")}-${safe(item.route)}-${safe(item.deliveryId)}-g${item.generation}.json`;
    const letter: DeadLetter = { deadAt, reason, item };
    await writeFileAtomic(join(this.dir, name), `${JSON.stringify(letter, null, 2)}\n`, { durable: true });
    this.onDead?.(letter);
  }

  async sendRaw(body: string, reason: string, route?: string): Promise<void> {
    const deadAt = new Date().toISOString();
    const name = `${deadAt.replace(/[:.]/g, "-")}-${String(this.seq++).padStart(4, "0")}-unparsable.json`;
    const letter: DeadLetter = { deadAt, reason, body, route };
    await writeFileAtomic(join(this.dir, name), `${JSON.stringify(letter, null, 2)}\n`, { durable: true });
    this.onDead?.(letter);
  }

  /** The dead letters as one route's handler sees them: an unreadable message is filed under the route. */
  forRoute(route: string): DeadLetterQueue {
    return {
      send: (item, reason) => this.send(item, reason),
      sendRaw: (body, reason) => this.sendRaw(body, reason, route),
    };
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
