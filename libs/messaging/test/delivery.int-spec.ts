/**
 * The delivery behaviour suite (issue #2 acceptance), run against a real Kafka-protocol broker
 * (librdkafka's mock cluster, 3 brokers) and against the in-process bus, with real PostgreSQL:
 * outbox → bus → consumer with inbox applies every event exactly once, whatever fails in between.
 */
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { BenchProbe, DeadLetterSchema, deadLetterTopicFor, TOPIC_CATALOG } from '@stratum/contracts';
import {
  BusMetrics,
  EmbeddedBusStore,
  type EventHandler,
  InProcessBus,
  type OutgoingMessage,
  OutboxRelay,
  replayDeadLetters,
} from '../src';
import { EmbeddedPostgres } from '@stratum/persistence';
import { initTelemetry } from '@stratum/telemetry';
import { waitFor } from '@stratum/util';
import { Registry } from 'prom-client';
import {
  type BusUnderTest,
  countsById,
  DeliveryHarness,
  inProcessBusUnderTest,
  quietLog,
  kafkaBusUnderTest,
  probeItems,
} from './delivery-harness';

const spans = new InMemorySpanExporter();
const telemetry = initTelemetry({ serviceName: 'delivery-suite', exporter: spans });
afterAll(() => telemetry.shutdown());

function expectExactlyOnce(rows: { event_id: string }[], ids: string[]) {
  const counts = countsById(rows);
  expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
  expect(new Set(counts.keys())).toEqual(new Set(ids));
}

async function duplicatesSeen(metrics: BusMetrics): Promise<number> {
  const value = await metrics.consumed.get();
  return value.values.filter((v) => v.labels.outcome === 'duplicate').reduce((sum, v) => sum + v.value, 0);
}

/**
 * The exact all-in-one setup: PGlite with a schema per service, and the in-process bus keeping its log
 * and offsets in the same database (a fresh one per test).
 */
async function allInOneHarness(): Promise<DeliveryHarness> {
  const embedded = await EmbeddedPostgres.open();
  const bus = await InProcessBus.open({
    partitionsOf: (topic) => TOPIC_CATALOG.find((t) => t.name === topic)?.partitions,
    store: new EmbeddedBusStore(embedded),
  });
  let n = 0;
  const busUnderTest: BusUnderTest = {
    name: 'in-process',
    client: () => bus,
    close: async () => {
      await bus.close();
      await embedded.close();
    },
  };
  return new DeliveryHarness(busUnderTest, async (label) => ({
    kind: 'embedded',
    embedded,
    schema: `${label.replace(/[^a-z0-9]/g, '_')}_${n++}`,
  }));
}

interface Setup {
  name: string;
  harness: () => Promise<DeliveryHarness>;
  /** Several replicas (relays) of one service: PostgreSQL only; the embedded database has one process. */
  replicas: boolean;
}

const setups: Setup[] = [
  {
    name: 'kafka (mock cluster, 3 brokers) and PostgreSQL',
    harness: async () => new DeliveryHarness(await kafkaBusUnderTest()),
    replicas: true,
  },
  {
    name: 'the in-process bus and PostgreSQL',
    harness: async () => new DeliveryHarness(inProcessBusUnderTest()),
    replicas: true,
  },
  {
    name: 'the all-in-one setup (PGlite, durable in-process bus)',
    harness: allInOneHarness,
    replicas: false,
  },
];

describe.each(setups)('delivery over $name', ({ name: busName, harness, replicas }) => {
  let h: DeliveryHarness;

  beforeEach(async () => {
    h = await harness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('applies every event written through the outbox exactly once in the consumer database', async () => {
    // Polling every minute: only LISTEN/NOTIFY can wake the relay in time for this test.
    const producer = await h.producer({ pollIntervalMs: 60_000 });
    const consumer = await h.consumer(await h.consumerDatabase());
    await consumer.consumer.start();
    await producer.relay.start();
    const ids = await producer.write(probeItems(400, 16));
    const rows = await consumer.waitForLedger(ids.length, {
      timeoutMs: 30_000,
      description: 'all events applied',
    });
    expectExactlyOnce(rows, ids);
    expect(await producer.relay.lag()).toEqual({ pending: 0, oldestPendingSeconds: 0 });
  });

  // Replicas exist only on PostgreSQL: the embedded database belongs to one process with one relay.
  if (replicas) {
    it('publishes each event once when two relays (two replicas) run on the same outbox', async () => {
      const metrics = new BusMetrics(new Registry());
      const producer = await h.producer({ pollIntervalMs: 50 });
      const second = new OutboxRelay({
        service: 'probe-producer',
        database: producer.db,
        producer: h.bus.client('replica-2').producer(),
        log: quietLog,
        pollIntervalMs: 50,
        batchSize: 20,
      });
      const consumer = await h.consumer(await h.consumerDatabase(), { metrics });
      await consumer.consumer.start();
      await producer.relay.start();
      await second.start();
      try {
        const ids = await producer.write(probeItems(300, 6), 10);
        const rows = await consumer.waitForLedger(ids.length, {
          timeoutMs: 30_000,
          description: 'all events applied',
        });
        expectExactlyOnce(rows, ids);
        expect(await duplicatesSeen(metrics)).toBe(0);
        const byKey = new Map<string, number[]>();
        for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.sequence]);
        for (const [, sequence] of byKey) expect(sequence).toEqual([...sequence].sort((x, y) => x - y));
      } finally {
        await second.stop();
      }
    });
  }

  it('applies once when the consumer dies after applying and before committing its offset', async () => {
    const metrics = new BusMetrics(new Registry());
    let crashes = 0;
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase(), {
      metrics,
      // The state change committed; the offset commit never happens (as if the process died here).
      onApplied: () => {
        if (crashes < 2) {
          crashes++;
          throw new Error('consumer killed before committing offsets');
        }
      },
    });
    await consumer.consumer.start();
    await producer.relay.start();
    const ids = await producer.write(probeItems(100, 4));
    const rows = await waitFor(
      async () => {
        const r = await consumer.ledger();
        return r.length >= ids.length && (await duplicatesSeen(metrics)) > 0 && r;
      },
      { timeoutMs: 30_000, description: 'events applied and the redelivery seen' },
    );
    expect(crashes).toBe(2);
    expectExactlyOnce(rows, ids);
  });

  it('applies once when the relay dies after publishing and before removing the rows from the outbox', async () => {
    const metrics = new BusMetrics(new Registry());
    let crashes = 0;
    const producer = await h.producer({
      onPublished: () => {
        if (crashes < 1) {
          crashes++;
          throw new Error('relay killed after the bus acknowledged, before removing the rows');
        }
      },
    });
    const consumer = await h.consumer(await h.consumerDatabase(), { metrics });
    await consumer.consumer.start();
    const ids = await producer.write(probeItems(80, 4));
    await producer.relay.start();
    const rows = await waitFor(
      async () => {
        const r = await consumer.ledger();
        return r.length >= ids.length && (await duplicatesSeen(metrics)) >= ids.length && r;
      },
      { timeoutMs: 30_000, description: 'events applied and their second publication deduplicated' },
    );
    expect(crashes).toBe(1);
    expectExactlyOnce(rows, ids);
    expect((await producer.relay.lag()).pending).toBe(0);
  });

  it('applies an event delivered twice on purpose only once', async () => {
    const metrics = new BusMetrics(new Registry());
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase(), { metrics });
    await consumer.consumer.start();
    const ids = await producer.write(probeItems(10, 2));
    const rows: { topic: string; key: string; headers: Record<string, string>; payload: string }[] =
      await producer.db.dataSource.query('SELECT topic, key, headers, payload FROM outbox ORDER BY seq');
    const messages: OutgoingMessage[] = rows.map((r) => ({
      topic: r.topic,
      key: r.key,
      value: r.payload,
      headers: r.headers,
    }));
    const bus = h.bus.client('duplicator');
    await bus.producer().send(messages);
    await bus.producer().send(messages);
    const ledger = await waitFor(
      async () => {
        const r = await consumer.ledger();
        return r.length >= ids.length && (await duplicatesSeen(metrics)) >= ids.length && r;
      },
      { timeoutMs: 30_000, description: 'both copies consumed' },
    );
    expectExactlyOnce(ledger, ids);
  });

  it('publishes nothing from a rolled-back transaction', async () => {
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase());
    await consumer.consumer.start();
    await producer.relay.start();
    let rolledBackId: string | undefined;
    await expect(
      producer.db.transaction(async (manager) => {
        const envelope = await producer.outbox.add(manager, BenchProbe.Topic, {
          key: 'k0',
          sequence: 0,
          sentAtMs: Date.now(),
          payload: 'doomed',
        });
        rolledBackId = envelope.id;
        throw new Error('business rule failed after the event was written');
      }),
    ).rejects.toThrow('business rule failed');
    // A marker on the same key (same partition, later in order) proves the consumer has read past it.
    const [markerId] = await producer.write([{ key: 'k0', sequence: 1 }]);
    const rows = await waitFor(
      async () => {
        const r = await consumer.ledger();
        return r.some((row) => row.event_id === markerId) && r;
      },
      { timeoutMs: 30_000, description: 'the marker event applied' },
    );
    expect(rows.map((r) => r.event_id)).toEqual([markerId]);
    expect(rolledBackId).toBeDefined();
    expect(
      await producer.db.dataSource.query('SELECT 1 FROM outbox WHERE event_id = $1', [rolledBackId]),
    ).toEqual([]);
  });

  it('dead-letters a schema-invalid message and an always-failing event, consumes what follows, and replays', async () => {
    let failing = true;
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase(), {
      wrap:
        (apply: EventHandler): EventHandler =>
        async (envelope, ctx) => {
          if (failing && (envelope.data as BenchProbe.Value).sequence === 2)
            throw new Error('downstream refused sequence 2');
          await apply(envelope, ctx);
        },
    });
    await consumer.consumer.start();
    await producer.relay.start();
    const bus = h.bus.client('bad-producer');
    await bus.producer().send([
      { topic: BenchProbe.Topic.name, key: 'k0', value: '{"not":"an envelope"}', headers: {} },
      { topic: BenchProbe.Topic.name, key: 'k0', value: 'not even json', headers: {} },
    ]);
    const ids = await producer.write(probeItems(20, 2));
    const failedIds = ids.filter((_, i) => Math.floor(i / 2) === 2);
    await waitFor(async () => (await consumer.ledger()).length >= ids.length - failedIds.length, {
      timeoutMs: 30_000,
      description: 'everything but the failing events applied',
    });

    // Read the dead-letter topic like an operator would.
    const dlqTopic = deadLetterTopicFor('orchestrator');
    const letters: ReturnType<typeof DeadLetterSchema.parse>[] = [];
    const reader = h.bus
      .client('dlq-reader')
      .consumer({ groupId: `dlq-reader-${Date.now()}`, topics: [dlqTopic] });
    await reader.start(async (batch) => {
      for (const m of batch.messages) letters.push(DeadLetterSchema.parse(JSON.parse(m.value!)));
    });
    await waitFor(() => letters.length >= 4, { timeoutMs: 30_000, description: 'four dead letters' });
    await reader.stop();
    const invalid = letters.filter((l) => l.reason === 'schema-invalid');
    const failed = letters.filter((l) => l.reason === 'handler-failed');
    expect(invalid).toHaveLength(2);
    expect(invalid.map((l) => l.error.message).join(' ')).toMatch(/envelope: .*id/);
    expect(invalid.map((l) => l.error.message).join(' ')).toMatch(/not JSON/);
    expect(new Set(failed.map((l) => l.eventId))).toEqual(new Set(failedIds));
    for (const l of failed) {
      expect(l).toMatchObject({
        originalTopic: BenchProbe.Topic.name,
        groupId: 'probe-consumer',
        attempts: 3,
      });
      expect(l.error.message).toBe('downstream refused sequence 2');
      expect(Number(l.offset)).toBeGreaterThanOrEqual(0);
    }

    // The downstream recovers; replaying the dead letters applies the failed events, once.
    failing = false;
    const report = await replayDeadLetters({
      bus: h.bus.client('replayer'),
      deadLetterTopic: dlqTopic,
      idleMs: 1_500,
    });
    expect(report).toMatchObject({ replayed: 2, skipped: 2, unreadable: 0 });
    const rows = await consumer.waitForLedger(ids.length, {
      timeoutMs: 30_000,
      description: 'replayed events applied',
    });
    expectExactlyOnce(rows, ids);
  });

  it('with a batch handler, retries and dead-letters only the failing event of a batch', async () => {
    let calls = 0;
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase(), {
      asBatch: true,
      wrap:
        (apply: EventHandler): EventHandler =>
        async (envelope, ctx) => {
          calls++;
          if ((envelope.data as BenchProbe.Value).sequence === 5) throw new Error('sequence 5 is refused');
          await apply(envelope, ctx);
        },
    });
    const ids = await producer.write(probeItems(30, 1));
    await consumer.consumer.start();
    await producer.relay.start();
    const rows = await consumer.waitForLedger(ids.length - 1, {
      timeoutMs: 30_000,
      description: 'all but the refused event applied',
    });
    expectExactlyOnce(
      rows,
      ids.filter((_, i) => i !== 5),
    );
    expect(rows.map((r) => r.sequence)).toEqual([...Array(30).keys()].filter((n) => n !== 5));
    expect(calls).toBeGreaterThan(30);
  });

  it('keeps per-key order across a rebalance when one of two consumers leaves', async () => {
    const producer = await h.producer();
    const db = await h.consumerDatabase();
    const a = await h.consumer(db, { name: 'consumer-a', maxBatchSize: 20 });
    const b = await h.consumer(db, { name: 'consumer-b', maxBatchSize: 20 });
    await a.consumer.start();
    await b.consumer.start();
    await waitFor(() => b.consumer.assignment().length > 0 && a.consumer.assignment().length > 0, {
      timeoutMs: 30_000,
      description: 'both consumers own partitions',
    });
    await producer.relay.start();
    const items = probeItems(1200, 24);
    const ids = await producer.write(items.slice(0, 600));
    await waitFor(async () => (await a.ledger()).some((r) => r.consumer === 'consumer-b'), {
      timeoutMs: 30_000,
      description: 'consumer b applied something',
    });
    await b.consumer.stop();
    ids.push(...(await producer.write(items.slice(600))));
    const rows = await a.waitForLedger(ids.length, {
      timeoutMs: 60_000,
      description: 'all events applied after the rebalance',
    });
    expectExactlyOnce(rows, ids);
    const byKey = new Map<string, number[]>();
    for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.sequence]);
    for (const [, sequence] of byKey) expect(sequence).toEqual([...sequence].sort((x, y) => x - y));
    expect(new Set(rows.map((r) => r.consumer))).toEqual(new Set(['consumer-a', 'consumer-b']));
  });

  it('continues the producer trace in the consumer (trace context in message headers)', async () => {
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase());
    await consumer.consumer.start();
    await producer.relay.start();
    const tracer = trace.getTracer('delivery-suite');
    const traceId = await tracer.startActiveSpan('api request', async (span) => {
      await producer.write([{ key: `trace-${busName.length}`, sequence: 0 }]);
      span.end();
      return span.spanContext().traceId;
    });
    const consumerSpan = await waitFor(
      () =>
        spans
          .getFinishedSpans()
          .find((s) => s.name === `${BenchProbe.Topic.name} process` && s.spanContext().traceId === traceId),
      { timeoutMs: 30_000, description: 'a consumer span in the producer trace' },
    );
    expect(consumerSpan.parentSpanContext?.traceId ?? consumerSpan.spanContext().traceId).toBe(traceId);
  });
});

describe('delivery over kafka under broker faults', () => {
  let h: DeliveryHarness;

  beforeEach(async () => {
    h = new DeliveryHarness(await kafkaBusUnderTest());
  });

  afterEach(async () => {
    await h.close();
  });

  it('loses nothing and applies once when a broker is down for 10 s and comes back', async () => {
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase());
    await consumer.consumer.start();
    await producer.relay.start();
    const ids = await producer.write(probeItems(200, 12, 'a'));
    await waitFor(async () => (await consumer.ledger()).length >= 50, {
      timeoutMs: 30_000,
      description: 'flow started',
    });
    await h.bus.cluster!.brokerDown(1);
    const outageEnds = Date.now() + 10_000;
    ids.push(...(await producer.write(probeItems(200, 12, 'b'))));
    // The outage lasts 10 s whatever the test does meanwhile (a fault's duration, not a wait for a result).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageEnds - Date.now())));
    await h.bus.cluster!.brokerUp(1);
    ids.push(...(await producer.write(probeItems(100, 12, 'c'))));
    const rows = await consumer.waitForLedger(ids.length, {
      timeoutMs: 90_000,
      description: 'every event applied after the broker came back',
    });
    expectExactlyOnce(rows, ids);
  });

  it('loses nothing and applies once when partition leaders move', async () => {
    const producer = await h.producer();
    const consumer = await h.consumer(await h.consumerDatabase());
    await consumer.consumer.start();
    await producer.relay.start();
    const ids = await producer.write(probeItems(150, 12, 'a'));
    for (let p = 0; p < BenchProbe.Topic.partitions; p++)
      await h.bus.cluster!.moveLeader(BenchProbe.Topic.name, p, 2);
    ids.push(...(await producer.write(probeItems(150, 12, 'b'))));
    for (let p = 0; p < BenchProbe.Topic.partitions; p++)
      await h.bus.cluster!.moveLeader(BenchProbe.Topic.name, p, 3);
    ids.push(...(await producer.write(probeItems(150, 12, 'c'))));
    const rows = await consumer.waitForLedger(ids.length, {
      timeoutMs: 60_000,
      description: 'every event applied across leader moves',
    });
    expectExactlyOnce(rows, ids);
  });
});

describe('the all-in-one setup', () => {
  it('keeps each service in its own schema of the one embedded database', async () => {
    const h = await allInOneHarness();
    try {
      const producer = await h.producer();
      const consumer = await h.consumerDatabase();
      await expect(consumer.dataSource.query('SELECT count(*) FROM probe_state')).rejects.toThrow(
        /probe_state/,
      );
      await expect(producer.db.dataSource.query('SELECT count(*) FROM probe_ledger')).rejects.toThrow(
        /probe_ledger/,
      );
      expect(await producer.db.dataSource.query('SELECT count(*)::int AS n FROM probe_state')).toEqual([
        { n: 0 },
      ]);
    } finally {
      await h.close();
    }
  });
});
