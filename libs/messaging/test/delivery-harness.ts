/**
 * Two "services" for the delivery behaviour suite: a producer that changes its state and writes probe
 * events through its outbox in the same transaction, and a consumer that applies each event by
 * appending to a ledger in its own database. Exactly-once is read off the consumer's ledger.
 */
import { BenchProbe, deadLetterTopicFor, TOPIC_CATALOG } from '@stratum/contracts';
import {
  CreateMessagingTables1763769600000,
  EventConsumer,
  type EventConsumerOptions,
  type EventHandler,
  InProcessBus,
  KafkaBus,
  type MessageBus,
  Outbox,
  OutboxRelay,
  type OutboxRelayOptions,
} from '../src';
import { type DatabaseTarget, ServiceDatabase } from '@stratum/persistence';
import { createTestDatabase, KafkaMockCluster, type TestDatabase } from '@stratum/testing';
import { waitFor, type WaitForOptions } from '@stratum/util';
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

class CreateProbeState1763769600001 implements MigrationInterface {
  name = 'CreateProbeState1763769600001';
  async up(q: QueryRunner) {
    await q.query(
      'CREATE TABLE probe_state (sequence integer NOT NULL, key text NOT NULL, PRIMARY KEY (key, sequence))',
    );
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE probe_state');
  }
}

class CreateProbeLedger1763769600002 implements MigrationInterface {
  name = 'CreateProbeLedger1763769600002';
  async up(q: QueryRunner) {
    // No unique constraint on event_id on purpose: applying an event twice must be visible.
    await q.query(`CREATE TABLE probe_ledger (
      id bigserial PRIMARY KEY, event_id uuid NOT NULL, key text NOT NULL, sequence integer NOT NULL,
      consumer text NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE probe_ledger');
  }
}

export interface BusUnderTest {
  readonly name: 'kafka' | 'in-process';
  readonly cluster?: KafkaMockCluster;
  /** A bus client (Kafka: a new client per call, like a separate process; in-process: the one bus). */
  client(clientId: string): MessageBus;
  close(): Promise<void>;
}

export async function kafkaBusUnderTest(): Promise<BusUnderTest> {
  const cluster = await KafkaMockCluster.start({
    brokers: 3,
    topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
  });
  const clients: KafkaBus[] = [];
  return {
    name: 'kafka',
    cluster,
    client(clientId) {
      const bus = new KafkaBus({
        brokers: cluster.bootstrapServers.split(','),
        clientId,
        sessionTimeoutMs: 6_000,
        fetchMaxWaitMs: 20,
        redeliveryBaseDelayMs: 50,
        log: quietLog,
      });
      clients.push(bus);
      return bus;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await cluster.stop();
    },
  };
}

export function inProcessBusUnderTest(): BusUnderTest {
  const bus = new InProcessBus({
    partitionsOf: (topic) => TOPIC_CATALOG.find((t) => t.name === topic)?.partitions,
    redeliveryBaseDelayMs: 20,
  });
  return { name: 'in-process', client: () => bus, close: () => bus.close() };
}

export interface ProducerService {
  db: ServiceDatabase;
  outbox: Outbox;
  relay: OutboxRelay;
  /** Changes state and writes one probe event per item, `perTransaction` items per transaction. */
  write(items: { key: string; sequence: number }[], perTransaction?: number): Promise<string[]>;
}

export interface ConsumerService {
  db: ServiceDatabase;
  consumer: EventConsumer;
  ledger(): Promise<LedgerRow[]>;
  /** Polls the ledger until it has at least `count` rows, then returns them. */
  waitForLedger(count: number, options: WaitForOptions): Promise<LedgerRow[]>;
}

export interface LedgerRow {
  event_id: string;
  key: string;
  sequence: number;
  consumer: string;
}

export class DeliveryHarness {
  private readonly databases: TestDatabase[] = [];
  private readonly opened: ServiceDatabase[] = [];
  private readonly stoppables: { stop(): Promise<void> }[] = [];

  constructor(
    readonly bus: BusUnderTest,
    private readonly databaseTarget?: (label: string) => Promise<DatabaseTarget>,
  ) {}

  private async target(label: string): Promise<DatabaseTarget> {
    if (this.databaseTarget) return this.databaseTarget(label);
    const database = await createTestDatabase(label);
    this.databases.push(database);
    return { kind: 'postgres', url: database.url, poolSize: 5 };
  }

  async producer(options: Partial<OutboxRelayOptions> = {}, label = 'producer'): Promise<ProducerService> {
    const db = await ServiceDatabase.open({
      target: await this.target(label),
      applicationName: label,
      migrations: [CreateMessagingTables1763769600000, CreateProbeState1763769600001],
    });
    this.opened.push(db);
    const outbox = new Outbox('probe-producer');
    const relay = new OutboxRelay({
      service: 'probe-producer',
      database: db,
      producer: this.bus.client(label).producer(),
      log: quietLog,
      pollIntervalMs: 200,
      ...options,
    });
    this.stoppables.push(relay);
    const write = async (items: { key: string; sequence: number }[], perTransaction = 50) => {
      const ids: string[] = [];
      for (let i = 0; i < items.length; i += perTransaction) {
        const chunk = items.slice(i, i + perTransaction);
        await db.transaction(async (manager) => {
          for (const item of chunk) {
            await manager.query('INSERT INTO probe_state (sequence, key) VALUES ($1, $2)', [
              item.sequence,
              item.key,
            ]);
          }
          const envelopes = await outbox.addMany(
            manager,
            BenchProbe.Topic,
            chunk.map((item) => ({
              key: item.key,
              sequence: item.sequence,
              sentAtMs: Date.now(),
              payload: 'x'.repeat(64),
            })),
          );
          ids.push(...envelopes.map((e) => e.id));
        });
      }
      return ids;
    };
    return { db, outbox, relay, write };
  }

  async consumerDatabase(label = 'consumer'): Promise<ServiceDatabase> {
    const db = await ServiceDatabase.open({
      target: await this.target(label),
      applicationName: label,
      migrations: [CreateMessagingTables1763769600000, CreateProbeLedger1763769600002],
    });
    this.opened.push(db);
    return db;
  }

  /** A consumer applying probe events into `db`'s ledger; `handle` can wrap the default handler. */
  async consumer(
    db: ServiceDatabase,
    options: {
      name?: string;
      groupId?: string;
      wrap?: (apply: EventHandler) => EventHandler;
      /** Consume with a batch handler built from the per-event one (one call per batch). */
      asBatch?: boolean;
    } & Partial<EventConsumerOptions> = {},
  ): Promise<ConsumerService> {
    const name = options.name ?? 'consumer-a';
    const apply: EventHandler = async (envelope, ctx) => {
      const data = envelope.data as BenchProbe.Value;
      await ctx.manager.query(
        'INSERT INTO probe_ledger (event_id, key, sequence, consumer) VALUES ($1, $2, $3, $4)',
        [envelope.id, data.key, data.sequence, name],
      );
    };
    const consumer = new EventConsumer({
      service: 'probe-consumer',
      groupId: options.groupId ?? 'probe-consumer',
      bus: this.bus.client(name),
      database: db,
      outbox: new Outbox('probe-consumer'),
      subscriptions: [
        options.asBatch
          ? {
              topic: BenchProbe.Topic,
              handleBatch: async (envelopes, ctx) => {
                const handle = options.wrap ? options.wrap(apply) : apply;
                for (const envelope of envelopes) await handle(envelope, ctx);
              },
            }
          : { topic: BenchProbe.Topic, handle: options.wrap ? options.wrap(apply) : apply },
      ],
      log: quietLog,
      maxAttempts: 3,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 100,
      deadLetterTopic: deadLetterTopicFor('orchestrator'),
      ...options,
    });
    this.stoppables.push(consumer);
    const ledger = (): Promise<LedgerRow[]> =>
      db.dataSource.query('SELECT event_id, key, sequence, consumer FROM probe_ledger ORDER BY id');
    return {
      db,
      consumer,
      ledger,
      waitForLedger: (count, waitOptions) =>
        waitFor(async () => {
          const rows = await ledger();
          return rows.length >= count && rows;
        }, waitOptions),
    };
  }

  async close(): Promise<void> {
    for (const s of this.stoppables.reverse()) await s.stop().catch(() => undefined);
    await this.bus.close();
    for (const db of this.opened) await db.close().catch(() => undefined);
    for (const d of this.databases) await d.drop().catch(() => undefined);
  }
}

/** `count` items over `keys` keys, sequences increasing per key. */
export function probeItems(count: number, keys: number, prefix = 'k'): { key: string; sequence: number }[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}${i % keys}`,
    sequence: Math.floor(i / keys),
  }));
}

/** Asserts each event id appears exactly once and returns the ids. */
export function countsById(rows: { event_id: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.event_id, (counts.get(r.event_id) ?? 0) + 1);
  return counts;
}
