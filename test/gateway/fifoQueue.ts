// An in-memory double of the route's SQS FIFO queue as Lambda's event source mapping drives it:
// batches in queue order, partial batch responses, ApproximateReceiveCount incremented on every
// receive, a redrive policy (maxReceiveCount) moving over-received messages to the DLQ, and
// backoffs recorded instead of waited for.
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { messageDeduplicationId, messageGroupId } from "../../src/aws/sqs";
import { MAX_RECEIVE_COUNT } from "../../src/core/policy";
import type { WorkQueue } from "../../src/core/ports";
import type { WorkItem } from "../../src/core/types";
import { sqsRecord } from "./support";

interface Message {
  id: string;
  body: string;
  group: string;
  receiveCount: number;
}

export type WorkFn = (event: SQSEvent) => Promise<SQSBatchResponse>;

export class FifoQueueDouble implements WorkQueue {
  readonly messages: Message[] = [];
  /** Messages the redrive policy moved (the backstop, not the handler's own dead-lettering). */
  readonly redriven: Message[] = [];
  readonly backoffs: Array<{ messageId: string; delayMs: number }> = [];
  /** Every send, including the ones SQS deduplicated away. */
  sends = 0;
  private readonly dedupeIds = new Set<string>();
  private counter = 0;
  failuresLeft = 0;
  /** Sends that SQS takes whose answer is then lost (a timeout, a dropped connection): the caller sees an error. */
  lostAnswersLeft = 0;

  /** The deployed queue's maxReceiveCount by default (src/infra/route.ts). */
  constructor(readonly maxReceiveCount = MAX_RECEIVE_COUNT) {}

  async send(item: WorkItem): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error("SQS SendMessage to the work queue failed: ServiceUnavailable");
    }
    this.sends++;
    const dedupeId = messageDeduplicationId(item);
    if (this.dedupeIds.has(dedupeId)) return; // SQS FIFO: accepted, but not enqueued twice
    this.dedupeIds.add(dedupeId);
    this.messages.push({
      id: `m-${++this.counter}`,
      body: JSON.stringify(item),
      group: messageGroupId(item),
      receiveCount: 0,
    });
    if (this.lostAnswersLeft > 0) {
      this.lostAnswersLeft--;
      throw new Error("SQS SendMessage to the work queue failed: TimeoutError: the answer never came");
    }
  }

  readonly backoff = async (record: SQSRecord, delayMs: number): Promise<void> => {
    this.backoffs.push({ messageId: record.messageId, delayMs });
  };

  /** One receive: up to `batchSize` messages in queue order; the work function's answer is applied. */
  async deliverOnce(
    work: WorkFn,
    batchSize = 10,
  ): Promise<{ processed: number; failed: number; crashed: boolean }> {
    const batch: Message[] = [];
    for (const message of [...this.messages]) {
      if (batch.length >= batchSize) break;
      message.receiveCount++;
      if (message.receiveCount > this.maxReceiveCount) {
        this.remove(message);
        this.redriven.push(message);
        continue;
      }
      batch.push(message);
    }
    if (batch.length === 0) return { processed: 0, failed: 0, crashed: false };
    const records = batch.map((m) =>
      sqsRecord(m.body, { id: m.id, group: m.group, receiveCount: m.receiveCount }),
    );
    let failedIds: Set<string>;
    let crashed = false;
    try {
      const answer = await work({ Records: records });
      failedIds = new Set(answer.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      // The function crashed or timed out: the whole batch becomes visible again.
      crashed = true;
      failedIds = new Set(batch.map((m) => m.id));
    }
    for (const message of batch) if (!failedIds.has(message.id)) this.remove(message);
    return { processed: batch.length, failed: failedIds.size, crashed };
  }

  /** Deliver until the queue is empty (or `maxRounds`, to catch a loop). */
  async drain(
    work: WorkFn,
    options: {
      batchSize?: number;
      maxRounds?: number;
      between?: (round: number) => void | Promise<void>;
    } = {},
  ): Promise<number> {
    const maxRounds = options.maxRounds ?? 50;
    let round = 0;
    while (this.messages.length > 0) {
      if (round >= maxRounds) throw new Error(`queue not drained after ${maxRounds} rounds`);
      await options.between?.(round);
      await this.deliverOnce(work, options.batchSize);
      round++;
    }
    return round;
  }

  private remove(message: Message): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }
}
