import type { EntityManager } from 'typeorm';
import { createEnvelope, type EventDefinition, type EventEnvelope, type TopicSpec } from '@stratum/contracts';
import type { z } from 'zod';
import { currentTraceContext, traceHeaders } from '../tracing';

export interface OutboxAddOptions {
  /** Fixed event id, e.g. derived from a request's idempotency key. */
  id?: string;
  tenant?: string | null;
  time?: Date;
}

/** Headers every Stratum message carries besides the trace context. */
export function envelopeHeaders(envelope: EventEnvelope): Record<string, string> {
  return {
    'content-type': 'application/json',
    'stratum-event-id': envelope.id,
    'stratum-event-type': `${envelope.type}.v${envelope.version}`,
    'stratum-source': envelope.source,
    ...traceHeaders(envelope.trace),
  };
}

/**
 * Writes events into the service's outbox inside the caller's transaction: the state change and the
 * events it causes commit together or not at all. The relay publishes them afterwards.
 */
export class Outbox {
  constructor(readonly source: string) {}

  async add<TSchema extends z.ZodType>(
    manager: EntityManager,
    topic: TopicSpec<EventDefinition<TSchema>>,
    data: z.infer<TSchema>,
    options: OutboxAddOptions = {},
  ): Promise<EventEnvelope<z.infer<TSchema>>> {
    const [envelope] = await this.addMany(manager, topic, [data], options);
    return envelope;
  }

  async addMany<TSchema extends z.ZodType>(
    manager: EntityManager,
    topic: TopicSpec<EventDefinition<TSchema>>,
    items: readonly z.infer<TSchema>[],
    options: Omit<OutboxAddOptions, 'id'> = {},
  ): Promise<EventEnvelope<z.infer<TSchema>>[]> {
    if (items.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('Outbox.add must run inside the transaction that changes the state it announces');
    }
    const trace = currentTraceContext();
    const envelopes = items.map((data, i) =>
      createEnvelope(topic.event, data, {
        source: this.source,
        trace,
        time: options.time,
        tenant: options.tenant,
        id: i === 0 && items.length === 1 ? (options as OutboxAddOptions).id : undefined,
      }),
    );
    const values: unknown[] = [];
    const rows = envelopes.map((envelope, i) => {
      const base = i * 5;
      values.push(
        envelope.id,
        topic.name,
        envelope.key,
        JSON.stringify(envelopeHeaders(envelope)),
        JSON.stringify(envelope),
      );
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}::jsonb, $${base + 5})`;
    });
    await manager.query(
      `INSERT INTO outbox (event_id, topic, key, headers, payload) VALUES ${rows.join(', ')}`,
      values,
    );
    return envelopes;
  }
}
