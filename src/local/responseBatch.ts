// The answers serve finishes in the turn of the event loop that read their requests go out together, at
// the turn's end (setImmediate: after the poll phase has read every request that was ready), not one by
// one as each is ready. Under load each answer written at once wakes the client that waits for it (a
// cross-CPU wake-up, dear in a VM), and that wake-up is paid inside the server's write; written back to
// back, the first wakes the client and the others find it awake. `npm run bench -- serve`: ignored 8 KB
// deliveries went from about 10,500 to 15,000 a second.
// An answer that had to wait past its turn (a queued delivery waits for the queue's write, which already
// answers all of its turn's deliveries together) goes out at once: held one more turn, queued
// deliveries lost about 8% of their req/s.
import type { ServerResponse } from "node:http";

interface PendingAnswer {
  res: ServerResponse;
  statusCode: number;
  headers: Record<string, string>;
  text: string;
}

export class ResponseBatch {
  private pending: PendingAnswer[] = [];
  private turn = 0;
  private turnEndScheduled = false;

  /** @param onError a write that throws (its connection is gone): the others still go out. */
  constructor(private readonly onError: (res: ServerResponse, error: unknown) => void) {}

  /** A request has been read: returns the turn to give `send` for its answer. */
  arrived(): number {
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true;
      setImmediate(() => this.endTurn());
    }
    return this.turn;
  }

  /** Sends the answer of a request that arrived in `turn`: at that turn's end, or now if it is over. */
  send(
    res: ServerResponse,
    statusCode: number,
    headers: Record<string, string>,
    text: string,
    turn: number,
  ): void {
    if (turn === this.turn) this.pending.push({ res, statusCode, headers, text });
    else this.write({ res, statusCode, headers, text });
  }

  private endTurn(): void {
    this.turnEndScheduled = false;
    this.turn++;
    const answers = this.pending;
    this.pending = [];
    for (const answer of answers) this.write(answer);
  }

  private write({ res, statusCode, headers, text }: PendingAnswer): void {
    try {
      // A string goes out in one write with the head (a Buffer would take a writev of two).
      res.writeHead(statusCode, headers);
      res.end(text, "utf8");
    } catch (error) {
      try {
        this.onError(res, error);
      } catch {
        res.destroy();
      }
    }
  }
}
