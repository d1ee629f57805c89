import { DeadLetterSchema, formatIssues } from '@stratum/contracts';
import type { MessageBus, OutgoingMessage } from '../bus';

export interface ReplayOptions {
  bus: MessageBus;
  /** The dead-letter topic to read, e.g. `stratum.orchestrator.dead-letter.v1`. */
  deadLetterTopic: string;
  /**
   * Consumer group that remembers what was replayed already; replaying again only sends dead letters
   * that arrived since. Use a fresh group to replay everything.
   */
  groupId?: string;
  /** Only these reasons are replayed (default: every reason except `schema-invalid`, which would fail again). */
  reasons?: readonly string[];
  /** Stop once no new dead letter arrived for this long. */
  idleMs?: number;
  /** Hard limit for the whole run. */
  timeoutMs?: number;
}

export interface ReplayReport {
  replayed: number;
  skipped: number;
  unreadable: number;
}

/**
 * Sends dead letters back to their original topic, untouched (same key, value and headers plus
 * `stratum-replayed-from`). Consumers that already applied an event ignore it (inbox), so replaying is
 * safe to repeat.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayReport> {
  const reasons = new Set(options.reasons ?? ['handler-failed', 'unknown-topic']);
  const report: ReplayReport = { replayed: 0, skipped: 0, unreadable: 0 };
  const producer = options.bus.producer();
  const consumer = options.bus.consumer({
    groupId: options.groupId ?? `${options.deadLetterTopic}.replay`,
    topics: [options.deadLetterTopic],
    fromBeginning: true,
    clientId: 'dead-letter-replay',
  });
  let lastActivity = Date.now();
  await consumer.start(async (batch) => {
    const out: OutgoingMessage[] = [];
    let skipped = 0;
    let unreadable = 0;
    for (const message of batch.messages) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(message.value ?? '');
      } catch {
        unreadable++;
        continue;
      }
      const letter = DeadLetterSchema.safeParse(parsed);
      if (!letter.success) {
        unreadable++;
        process.emitWarning(
          `unreadable dead letter at ${batch.topic}/${batch.partition}/${message.offset}: ${formatIssues(letter.error)}`,
        );
        continue;
      }
      if (!reasons.has(letter.data.reason)) {
        skipped++;
        continue;
      }
      out.push({
        topic: letter.data.originalTopic,
        key: letter.data.key ?? letter.data.originalTopic,
        value: letter.data.originalValue,
        headers: {
          ...letter.data.originalHeaders,
          'stratum-replayed-from': `${batch.topic}/${batch.partition}/${message.offset}`,
        },
      });
    }
    await producer.send(out);
    report.replayed += out.length;
    report.skipped += skipped;
    report.unreadable += unreadable;
    lastActivity = Date.now();
  });
  const idleMs = options.idleMs ?? 3_000;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  // Idle time counts from when the group assigned partitions to us (joining a Kafka group takes a while).
  let assigned = false;
  while (Date.now() < deadline) {
    if (!assigned && consumer.assignment().length > 0) {
      assigned = true;
      lastActivity = Math.max(lastActivity, Date.now());
    }
    if (assigned && Date.now() - lastActivity >= idleMs) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await consumer.stop();
  return report;
}
