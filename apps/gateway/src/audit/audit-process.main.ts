/**
 * The gateway's audit process (distributed mode): a child of the gateway process that commits the
 * audit entries it is sent to the gateway's outbox and runs the gateway's outbox relay (audit events,
 * and the members events the gateway writes itself). It exists so that the request thread carries none
 * of this work or the garbage it makes (docs/gateway.md, "Audit"). Started by `AuditProcess` with
 * `fork`; talks to it over the IPC channel only (audit-protocol.ts).
 *
 * Lifetime: it ignores SIGINT/SIGTERM (a Ctrl-C reaches the whole process group, and the gateway must
 * be able to hand over its last entries first) and stops on the gateway's `close` message, or when the
 * IPC channel closes because the gateway died — in both cases after committing what it was given.
 */
import { EventRecorded } from '@stratum/contracts';
import { BusMetrics, KafkaBus, Outbox, type OutgoingMessage, OutboxRelay } from '@stratum/messaging';
import { ServiceDatabase } from '@stratum/persistence';
import { createLog, type Log, type LogLevel } from '@stratum/telemetry';
import { Registry } from 'prom-client';
import type { AuditProcessSettings, FromAuditProcess, ToAuditProcess } from './audit-protocol';
import { AuditWriter } from './audit-writer';

/** How long the relay may take to publish what is left when the process stops. */
const DRAIN_MS = 5_000;

function send(message: FromAuditProcess): void {
  if (process.connected) process.send!(message);
}

class AuditProcessMain {
  private writer!: AuditWriter;
  private relay!: OutboxRelay;
  private database!: ServiceDatabase;
  private bus!: KafkaBus;
  private metrics = new BusMetrics(new Registry());
  private stats: NodeJS.Timeout | undefined;
  private published: Record<string, number> = {};
  private reportedRelayErrors = 0;
  /** Batches received and not yet committed, oldest first: [seq, entries still uncommitted]. */
  private readonly batches: [number, number][] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Log) {}

  async start(settings: AuditProcessSettings): Promise<void> {
    this.database = await ServiceDatabase.open({
      target: {
        kind: 'postgres',
        url: settings.database.url,
        poolSize: settings.database.poolSize,
        statementTimeoutMs: settings.database.statementTimeoutMs,
      },
      applicationName: 'stratum-gateway-audit',
      // The gateway applied its migrations before starting this process.
      migrations: [],
      log: this.log.child({ component: 'database' }),
    });
    this.bus = new KafkaBus({
      brokers: settings.kafka.brokers,
      clientId: settings.kafka.clientId,
      log: this.log.child({ component: 'bus' }),
    });
    this.writer = new AuditWriter(
      this.database,
      new Outbox('gateway'),
      this.log,
      // Entries arrive already grouped by the gateway; each batch is committed as it comes.
      1,
      Number.MAX_SAFE_INTEGER,
      (count) => this.committed(count),
    );
    this.relay = new OutboxRelay({
      service: 'gateway',
      database: this.database,
      producer: this.bus.producer(),
      log: this.log.child({ component: 'outbox-relay' }),
      metrics: this.metrics,
      onPublished: (messages) => this.count(messages),
    });
    await this.relay.start();
    this.stats = setInterval(() => void this.report(), 1_000);
  }

  take(seq: number, entries: EventRecorded.Value[]): void {
    if (this.stopping) return;
    this.batches.push([seq, entries.length]);
    for (const entry of entries) this.writer.record(entry);
    void this.writer.flush();
  }

  /** The writer committed the `count` oldest pending entries: acknowledge every batch now complete. */
  private committed(count: number): void {
    let done: number | undefined;
    while (count > 0 && this.batches.length) {
      const head = this.batches[0];
      const taken = Math.min(head[1], count);
      head[1] -= taken;
      count -= taken;
      if (head[1] === 0) done = this.batches.shift()![0];
    }
    if (done !== undefined) send({ type: 'committed', seq: done });
  }

  private count(messages: readonly OutgoingMessage[]): void {
    for (const m of messages) this.published[m.topic] = (this.published[m.topic] ?? 0) + 1;
  }

  private async report(): Promise<void> {
    const errors = (await this.metrics.outboxRelayErrors.get()).values[0]?.value ?? 0;
    const failure = this.writer.failure;
    send({
      type: 'stats',
      published: this.published,
      relayErrors: errors - this.reportedRelayErrors,
      relay: this.relay.health(),
      commits: failure === undefined ? { ok: true } : { ok: false, detail: failure },
    });
    this.published = {};
    this.reportedRelayErrors = errors;
  }

  /** Commits what it holds, lets the relay publish what is pending, closes everything. */
  stop(reason: string): Promise<void> {
    return (this.stopping ??= (async () => {
      this.log.info('audit process stopping', { reason, pending: this.writer?.pending ?? 0 });
      if (this.stats) clearInterval(this.stats);
      await this.writer?.close();
      await this.relay?.stop(DRAIN_MS).catch(() => undefined);
      await this.bus?.close().catch(() => undefined);
      await this.database?.close().catch(() => undefined);
    })());
  }
}

function main(): void {
  let log = createLog({ bindings: { service: 'gateway', component: 'audit-process' } });
  let audit: AuditProcessMain | undefined;
  // The gateway decides when this process stops (see the header).
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.on('disconnect', () => {
    void (audit?.stop('the gateway process went away') ?? Promise.resolve()).finally(() => process.exit(0));
  });
  process.on('message', (message: ToAuditProcess) => {
    switch (message.type) {
      case 'start':
        log = createLog({
          level: message.settings.logLevel as LogLevel,
          bindings: { service: 'gateway', component: 'audit-process' },
        });
        audit = new AuditProcessMain(log);
        audit.start(message.settings).then(
          () => send({ type: 'ready' }),
          (error: Error) => {
            send({ type: 'start-failed', error: error.message });
            process.exit(1);
          },
        );
        break;
      case 'entries':
        audit?.take(message.seq, message.entries);
        break;
      case 'close':
        void (audit?.stop('the gateway is shutting down') ?? Promise.resolve()).finally(() =>
          process.exit(0),
        );
        break;
    }
  });
}

main();
