import {
  type DeadLetterSchema,
  deadLetterTopicFor,
  type EventDefinition,
  type EventEnvelope,
  type TopicSpec,
  validateEnvelope,
} from '@stratum/contracts';
import type { ServiceDatabase } from '@stratum/persistence';
import { backoffDelay, sleep } from '@stratum/util';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import type { BusConsumer, IncomingBatch, IncomingMessage, MessageBus, OutgoingMessage } from '../bus';
import type { BusLog } from '../kafka/kafka-bus';
import type { BusMetrics } from '../metrics';
import type { Outbox } from '../outbox/outbox';
import { withConsumerSpan } from '../tracing';

export interface EventContext {
  /** The transaction the handler's state change must use: it also records the event in the inbox. */
  manager: EntityManager;
  /** Writes follow-up events in the same transaction. */
  outbox: Outbox;
  topic: string;
  partition: number;
  offset: string;
  attempt: number;
}

export type EventHandler<T = unknown> = (envelope: EventEnvelope<T>, context: EventContext) => Promise<void>;

/**
 * Handles several events of one partition at once, in order (high-volume consumers: one statement for
 * many events). Same guarantees as `EventHandler`; when one event of a batch fails, the events are
 * handed over again one at a time so that only the failing one is retried and dead-lettered.
 */
export type BatchEventHandler<T = unknown> = (
  envelopes: EventEnvelope<T>[],
  context: EventContext,
) => Promise<void>;

export type EventSubscription =
  | { topic: TopicSpec<EventDefinition>; handle: EventHandler; handleBatch?: never }
  | { topic: TopicSpec<EventDefinition>; handleBatch: BatchEventHandler; handle?: never };

export interface EventConsumerOptions {
  service: string;
  /** Consumer group; defaults to the service name. */
  groupId?: string;
  bus: MessageBus;
  database: ServiceDatabase;
  outbox: Outbox;
  subscriptions: readonly EventSubscription[];
  log: BusLog;
  metrics?: BusMetrics;
  /** Handler attempts before the event is dead-lettered. */
  maxAttempts?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  maxBatchSize?: number;
  /** Dead-letter topic; default `stratum.<service>.dead-letter.v1`. */
  deadLetterTopic?: string;
  /**
   * Called after a batch's state changes committed and before its offsets are committed. Throwing
   * here behaves like a crash at that point: the batch is delivered again.
   */
  onApplied?: (batch: IncomingBatch) => void | Promise<void>;
}

type DeadLetter = z.infer<typeof DeadLetterSchema>;

interface Outcome {
  outcome: 'applied' | 'duplicate' | 'dead-lettered';
  handlerSeconds?: number;
  eventTime?: string;
}

/** A handler threw inside the fast path: retry the batch one event at a time. */
class HandlerFailure extends Error {
  constructor(readonly failure: Error) {
    super(failure.message);
  }
}

interface Decoded {
  message: IncomingMessage;
  envelope?: EventEnvelope;
  invalid?: string;
  /** Why it cannot be handled, when `invalid` is set. */
  reason?: 'schema-invalid' | 'unknown-topic';
  handler?: BatchEventHandler;
  batchable?: boolean;
}

/**
 * The consuming half of at-least-once delivery made effectively-once:
 *  1. every message is validated against its contract — invalid → dead letter at once;
 *  2. the handler runs in a database transaction that also inserts (group, event id) into the inbox,
 *     so a redelivered event is recognised and changes nothing twice;
 *  3. a failing handler is retried with backoff (outside any open transaction), then dead-lettered
 *     with the error and the message's origin, and the consumer moves on;
 *  4. offsets are committed by the bus only after all of this is safe.
 */
export class EventConsumer {
  private consumer: BusConsumer | undefined;
  private readonly handlers = new Map<
    string,
    { definition: EventDefinition; handle: BatchEventHandler; batchable: boolean }
  >();
  readonly groupId: string;
  readonly deadLetterTopic: string;

  constructor(private readonly options: EventConsumerOptions) {
    this.groupId = options.groupId ?? options.service;
    this.deadLetterTopic = options.deadLetterTopic ?? deadLetterTopicFor(options.service);
    for (const s of options.subscriptions) {
      if (this.handlers.has(s.topic.name)) throw new Error(`Two handlers for topic ${s.topic.name}`);
      const handle: BatchEventHandler = s.handleBatch
        ? s.handleBatch
        : async (envelopes, context) => {
            for (const envelope of envelopes) await s.handle(envelope, context);
          };
      this.handlers.set(s.topic.name, {
        definition: s.topic.event,
        handle,
        batchable: Boolean(s.handleBatch),
      });
    }
  }

  get topics(): string[] {
    return [...this.handlers.keys()];
  }

  get running(): boolean {
    return this.consumer?.running ?? false;
  }

  assignment(): { topic: string; partition: number }[] {
    return this.consumer?.assignment() ?? [];
  }

  async start(): Promise<void> {
    if (this.handlers.size === 0) return;
    this.consumer = this.options.bus.consumer({
      groupId: this.groupId,
      topics: this.topics,
      maxBatchSize: this.options.maxBatchSize,
      clientId: this.options.service,
    });
    await this.consumer.start((batch) => this.handleBatch(batch));
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  /**
   * Handles one batch of one partition. Fast path: the whole batch in one transaction with one bulk
   * inbox insert. If a handler fails, that transaction is rolled back entirely and the batch is
   * handled again one event at a time (savepoint per event, retries, dead letters).
   */
  async handleBatch(batch: IncomingBatch): Promise<void> {
    const decoded = batch.messages.map((m) => this.decode(m));
    const deadLetters = (await this.applyBatch(batch, decoded)) ?? (await this.applyOneByOne(batch, decoded));
    // Dead letters are acknowledged before the offsets move past the messages they carry.
    if (deadLetters.length) await this.options.bus.producer().send(deadLetters);
    await this.options.onApplied?.(batch);
  }

  private async applyBatch(batch: IncomingBatch, decoded: Decoded[]): Promise<OutgoingMessage[] | undefined> {
    const { database, metrics } = this.options;
    const outcomes: Outcome[] = [];
    const deadLetters: OutgoingMessage[] = [];
    try {
      await database.transaction(async (manager) => {
        const valid = decoded.filter((d) => d.envelope);
        const inserted: { event_id: string }[] = valid.length
          ? await manager.query(
              `INSERT INTO inbox (consumer_group, event_id, topic, partition, "offset")
               SELECT $1, e.id, $2, $3, e.off FROM unnest($4::uuid[], $5::bigint[]) AS e(id, off)
               ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id`,
              [
                this.groupId,
                batch.topic,
                batch.partition,
                valid.map((d) => d.envelope!.id),
                valid.map((d) => d.message.offset),
              ],
            )
          : [];
        const fresh = new Set(inserted.map((r) => r.event_id.toLowerCase()));
        let run: Decoded[] = [];
        const flush = async () => {
          if (run.length === 0) return;
          const items = run;
          run = [];
          try {
            outcomes.push(...(await this.runHandler(batch, items, manager, 1)));
          } catch (error) {
            throw new HandlerFailure(error as Error);
          }
        };
        for (const item of decoded) {
          if (item.invalid !== undefined) {
            deadLetters.push(this.invalidLetter(batch, item));
            outcomes.push({ outcome: 'dead-lettered' });
            continue;
          }
          // `delete`: the same event twice in one batch is applied once.
          if (!fresh.delete(item.envelope!.id.toLowerCase())) {
            outcomes.push({ outcome: 'duplicate' });
            continue;
          }
          run.push(item);
          if (!item.batchable) await flush();
        }
        await flush();
      });
    } catch (error) {
      if (error instanceof HandlerFailure) return undefined;
      throw error;
    }
    for (const o of outcomes) this.record(batch, o, metrics);
    return deadLetters;
  }

  private async applyOneByOne(batch: IncomingBatch, decoded: Decoded[]): Promise<OutgoingMessage[]> {
    const { database, metrics, log } = this.options;
    const deadLetters: OutgoingMessage[] = [];
    const attempts = new Array<number>(decoded.length).fill(0);
    let next = 0;
    while (next < decoded.length) {
      // Apply as many events as possible in one transaction; stop at the first failing handler.
      const outcomes: Outcome[] = [];
      const failure = await database.transaction(async (manager) => {
        for (; next < decoded.length; next++) {
          const item = decoded[next];
          if (item.invalid !== undefined) {
            deadLetters.push(this.invalidLetter(batch, item));
            outcomes.push({ outcome: 'dead-lettered' });
            continue;
          }
          await manager.query('SAVEPOINT stratum_event');
          const inserted: unknown[] = await manager.query(
            `INSERT INTO inbox (consumer_group, event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id`,
            [this.groupId, item.envelope!.id, batch.topic, batch.partition, item.message.offset],
          );
          if (inserted.length === 0) {
            await manager.query('RELEASE SAVEPOINT stratum_event');
            outcomes.push({ outcome: 'duplicate' });
            continue;
          }
          try {
            outcomes.push(...(await this.runHandler(batch, [item], manager, attempts[next] + 1)));
            await manager.query('RELEASE SAVEPOINT stratum_event');
          } catch (error) {
            await manager.query('ROLLBACK TO SAVEPOINT stratum_event');
            return { index: next, error: error as Error };
          }
        }
        return undefined;
      });
      for (const o of outcomes) this.record(batch, o, metrics);
      if (!failure) break;
      const attempt = ++attempts[failure.index];
      const item = decoded[failure.index];
      if (attempt >= (this.options.maxAttempts ?? 5)) {
        deadLetters.push(this.deadLetter(item.message, 'handler-failed', failure.error, attempt));
        this.record(batch, { outcome: 'dead-lettered' }, metrics);
        log.error('event handler kept failing; event dead-lettered', {
          topic: batch.topic,
          partition: batch.partition,
          offset: item.message.offset,
          eventId: item.envelope?.id,
          attempts: attempt,
          error: failure.error.message,
        });
        next = failure.index + 1;
      } else {
        metrics?.retries.inc({ topic: batch.topic, group: this.groupId });
        log.warn('event handler failed; retrying', {
          topic: batch.topic,
          offset: item.message.offset,
          attempt,
          error: failure.error.message,
        });
        // Backoff outside any open transaction: nothing is held while waiting.
        await sleep(
          backoffDelay(attempt, this.options.retryBaseDelayMs ?? 100, this.options.retryMaxDelayMs ?? 5_000),
        );
        next = failure.index;
      }
    }
    return deadLetters;
  }

  private async runHandler(
    batch: IncomingBatch,
    items: Decoded[],
    manager: EntityManager,
    attempt: number,
  ): Promise<Outcome[]> {
    const started = performance.now();
    const first = items[0];
    await withConsumerSpan(
      items.map((i) => i.message.headers),
      `${batch.topic} process`,
      {
        'messaging.system': this.options.bus.kind,
        'messaging.destination.name': batch.topic,
        'messaging.consumer.group.name': this.groupId,
        'messaging.batch.message_count': items.length,
        ...(items.length === 1 ? { 'messaging.message.id': first.envelope!.id } : {}),
      },
      () =>
        first.handler!(
          items.map((i) => i.envelope!),
          {
            manager,
            outbox: this.options.outbox,
            topic: batch.topic,
            partition: batch.partition,
            offset: first.message.offset,
            attempt,
          },
        ),
    );
    const handlerSeconds = (performance.now() - started) / 1000 / items.length;
    return items.map((i) => ({ outcome: 'applied', handlerSeconds, eventTime: i.envelope!.time }));
  }

  private record(batch: IncomingBatch, o: Outcome, metrics: BusMetrics | undefined): void {
    if (!metrics) return;
    const labels = { topic: batch.topic, group: this.groupId };
    metrics.consumed.inc({ ...labels, outcome: o.outcome });
    if (o.outcome === 'applied') {
      metrics.handlerSeconds.observe(labels, o.handlerSeconds!);
      metrics.endToEndSeconds.observe(labels, Math.max(0, Date.now() - Date.parse(o.eventTime!)) / 1000);
    }
  }

  private invalidLetter(batch: IncomingBatch, item: Decoded): OutgoingMessage {
    this.options.log.warn(`${item.reason ?? 'schema-invalid'} event dead-lettered`, {
      topic: batch.topic,
      partition: batch.partition,
      offset: item.message.offset,
      reason: item.invalid,
    });
    return this.deadLetter(item.message, item.reason ?? 'schema-invalid', new Error(item.invalid), 0);
  }

  private decode(message: IncomingMessage): Decoded {
    const subscription = this.handlers.get(message.topic);
    if (!subscription)
      return { message, invalid: `no handler for topic ${message.topic}`, reason: 'unknown-topic' };
    if (message.value === null) return { message, invalid: 'empty message (no value)' };
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.value);
    } catch (error) {
      return { message, invalid: `not JSON: ${(error as Error).message}` };
    }
    const result = validateEnvelope(subscription.definition, parsed);
    if (!result.ok) return { message, invalid: result.reason };
    return {
      message,
      envelope: result.envelope,
      handler: subscription.handle,
      batchable: subscription.batchable,
    };
  }

  private deadLetter(
    message: IncomingMessage,
    reason: DeadLetter['reason'],
    error: Error,
    attempts: number,
  ): OutgoingMessage {
    let eventId: string | null = message.headers['stratum-event-id'] ?? null;
    if (!eventId || !/^[0-9a-f-]{36}$/i.test(eventId)) eventId = null;
    const value: DeadLetter = {
      originalTopic: message.topic,
      partition: message.partition,
      offset: message.offset,
      key: message.key,
      groupId: this.groupId,
      reason,
      error: { message: error.message, name: error.name, ...(error.stack ? { stack: error.stack } : {}) },
      attempts,
      failedAt: new Date().toISOString(),
      eventId,
      originalValue: message.value ?? '',
      originalHeaders: message.headers,
    };
    return {
      topic: this.deadLetterTopic,
      key: message.topic,
      value: JSON.stringify(value),
      headers: { 'content-type': 'application/json', 'stratum-dead-letter-reason': reason },
    };
  }
}
