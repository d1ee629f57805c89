import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Bus and outbox metrics of one service, registered in that service's registry. */
export class BusMetrics {
  readonly consumed: Counter<'topic' | 'group' | 'outcome'>;
  readonly retries: Counter<'topic' | 'group'>;
  readonly handlerSeconds: Histogram<'topic' | 'group'>;
  readonly endToEndSeconds: Histogram<'topic' | 'group'>;
  readonly produced: Counter<'topic'>;
  readonly outboxPublished: Counter<'service'>;
  readonly outboxRelayErrors: Counter<'service'>;
  readonly outboxPending: Gauge<'service'>;
  readonly outboxOldestPendingSeconds: Gauge<'service'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.consumed = new Counter({
      name: 'stratum_bus_messages_consumed_total',
      help: 'Messages consumed, by outcome (applied, duplicate, dead-lettered).',
      labelNames: ['topic', 'group', 'outcome'],
      registers,
    });
    this.retries = new Counter({
      name: 'stratum_bus_handler_retries_total',
      help: 'Handler attempts that failed and were retried.',
      labelNames: ['topic', 'group'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: 'stratum_bus_handler_duration_seconds',
      help: 'Time spent in one event handler.',
      labelNames: ['topic', 'group'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.endToEndSeconds = new Histogram({
      name: 'stratum_bus_end_to_end_seconds',
      help: 'From the state change (event time) to the consumer having applied it.',
      labelNames: ['topic', 'group'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    });
    this.produced = new Counter({
      name: 'stratum_bus_messages_produced_total',
      help: 'Messages acknowledged by the bus.',
      labelNames: ['topic'],
      registers,
    });
    this.outboxPublished = new Counter({
      name: 'stratum_outbox_published_total',
      help: 'Outbox rows published (acknowledged by the bus) and removed from the outbox.',
      labelNames: ['service'],
      registers,
    });
    this.outboxRelayErrors = new Counter({
      name: 'stratum_outbox_relay_errors_total',
      help: 'Relay rounds that failed (bus or database unavailable); rows stay pending and are retried.',
      labelNames: ['service'],
      registers,
    });
    this.outboxPending = new Gauge({
      name: 'stratum_outbox_pending_events',
      help: 'Outbox rows not yet published (relay lag, in events).',
      labelNames: ['service'],
      registers,
    });
    this.outboxOldestPendingSeconds = new Gauge({
      name: 'stratum_outbox_oldest_pending_seconds',
      help: 'Age of the oldest unpublished outbox row (relay lag, in time).',
      labelNames: ['service'],
      registers,
    });
  }
}
