/**
 * npm run bench:bus — outbox → Kafka (librdkafka mock cluster, 3 brokers) → consumer with inbox, on
 * real PostgreSQL. A writer commits business transactions (state change + events through the outbox)
 * at a target rate; the relay publishes; a consumer group applies each event in its own database.
 *
 * Prints sustained events/s (applied by the consumer) over the measured window, end-to-end latency
 * (event time at the state change → consumer transaction committed) p50/p99/max, and the process's
 * heap over time (the relay must not grow). Environment: BENCH_SECONDS (60), BENCH_RATE (6000 events/s),
 * BENCH_TX_EVENTS (50 events per business transaction), BENCH_KEYS (64), BENCH_HANDLER (event | batch),
 * BENCH_WRITERS (4 concurrent business transactions), BENCH_CONSUMER (`process`, the default: the
 * consumer service runs in its own Node process, as it does in a deployment where producer and
 * consumer are different services; `inline`: everything in this one process).
 */
import { BenchProbe, TOPIC_CATALOG } from '@stratum/contracts';
import {
  CreateMessagingTables1763769600000,
  EventConsumer,
  KafkaBus,
  Outbox,
  OutboxRelay,
} from '@stratum/messaging';
import { ServiceDatabase } from '@stratum/persistence';
import { createTestDatabase, KafkaMockCluster } from '@stratum/testing';
import { percentile } from '@stratum/util';
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { join } from 'node:path';
import type { MigrationInterface, QueryRunner } from 'typeorm';

const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const rate = Number(process.env.BENCH_RATE ?? 6_000);
const perTx = Number(process.env.BENCH_TX_EVENTS ?? 50);
const keys = Number(process.env.BENCH_KEYS ?? 64);
/** `event`: one statement per event (EventHandler); `batch`: one per batch (BatchEventHandler). */
const handlerMode = process.env.BENCH_HANDLER === 'batch' ? 'batch' : 'event';
const writers = Number(process.env.BENCH_WRITERS ?? 4);
const warmupSeconds = Math.min(5, Math.floor(seconds / 6));
const consumerMode = process.env.BENCH_CONSUMER === 'inline' ? 'inline' : 'process';

const log = {
  debug() {},
  info() {},
  warn: (m: string, f?: object) => console.warn('warn', m, f ?? ''),
  error: (m: string, f?: object) => console.error('error', m, f ?? ''),
};

class CreateBenchState1763769600101 implements MigrationInterface {
  name = 'CreateBenchState1763769600101';
  async up(q: QueryRunner) {
    await q.query(
      'CREATE TABLE bench_state (id bigserial PRIMARY KEY, key text NOT NULL, sequence integer NOT NULL)',
    );
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE bench_state');
  }
}

class CreateBenchLedger1763769600102 implements MigrationInterface {
  name = 'CreateBenchLedger1763769600102';
  async up(q: QueryRunner) {
    await q.query(
      'CREATE TABLE bench_ledger (id bigserial PRIMARY KEY, event_id uuid NOT NULL, key text NOT NULL, sequence integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE bench_ledger');
  }
}

interface ConsumerResult {
  applied: number;
  appliedInWindow: number;
  measured: number;
  latencies: Float64Array;
}

interface ConsumerSide {
  ready(): Promise<void>;
  window(start: number, end: number): void;
  progress(): Promise<{ applied: number; batches: number; secondMax: number }>;
  /** Waits until `written` events are applied (or the deadline), then reports. */
  finish(written: number, timeoutMs: number): Promise<ConsumerResult>;
  stop(): Promise<void>;
}

/** The consumer service: a group member applying each event with its inbox, in its own database. */
async function startConsumerSide(bootstrapServers: string, databaseUrl: string): Promise<ConsumerSide> {
  const consumerBus = new KafkaBus({
    brokers: bootstrapServers.split(','),
    clientId: 'bench-consumer',
    fetchMaxWaitMs: 10,
    sessionTimeoutMs: 10_000,
    log,
  });
  const consumerDb = await ServiceDatabase.open({
    target: { kind: 'postgres', url: databaseUrl, poolSize: 6 },
    applicationName: 'bench-consumer',
    migrations: [CreateMessagingTables1763769600000, CreateBenchLedger1763769600102],
  });
  let windowStart = Number.POSITIVE_INFINITY;
  let windowEnd = Number.POSITIVE_INFINITY;
  // Latency: the event's time (set at the state change) to the consumer's commit.
  const latencies = new Float64Array(Math.ceil(rate * seconds * 1.2) + 10_000);
  let measured = 0;
  let batches = 0;
  let secondMax = 0;
  let applied = 0;
  let appliedInWindow = 0;
  const pending = new Map<number, number[]>();
  const track = (partition: number, data: BenchProbe.Value[]) => {
    let list = pending.get(partition);
    if (!list) pending.set(partition, (list = []));
    for (const d of data) list.push(d.sentAtMs);
  };
  const consumer = new EventConsumer({
    service: 'bench-consumer',
    bus: consumerBus,
    database: consumerDb,
    outbox: new Outbox('bench-consumer'),
    log,
    maxBatchSize: 1000,
    subscriptions: [
      handlerMode === 'batch'
        ? {
            topic: BenchProbe.Topic,
            // One statement for the events of a batch (BatchEventHandler).
            handleBatch: async (envelopes, ctx) => {
              const data = envelopes.map((e) => e.data as BenchProbe.Value);
              await ctx.manager.query(
                'INSERT INTO bench_ledger (event_id, key, sequence) SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[])',
                [envelopes.map((e) => e.id), data.map((d) => d.key), data.map((d) => d.sequence)],
              );
              track(ctx.partition, data);
            },
          }
        : {
            topic: BenchProbe.Topic,
            // One statement per event (EventHandler), as most services write.
            handle: async (envelope, ctx) => {
              const data = envelope.data as BenchProbe.Value;
              await ctx.manager.query(
                'INSERT INTO bench_ledger (event_id, key, sequence) VALUES ($1, $2, $3)',
                [envelope.id, data.key, data.sequence],
              );
              track(ctx.partition, [data]);
            },
          },
    ],
    onApplied: (batch) => {
      batches++;
      const now = Date.now();
      const list = pending.get(batch.partition) ?? [];
      pending.delete(batch.partition);
      for (const sentAt of list) {
        applied++;
        if (now >= windowStart && now < windowEnd) appliedInWindow++;
        if (sentAt >= windowStart && sentAt < windowEnd && measured < latencies.length)
          latencies[measured++] = now - sentAt;
        if (now - sentAt > secondMax) secondMax = now - sentAt;
      }
    },
  });
  await consumer.start();
  return {
    async ready() {
      const joinDeadline = Date.now() + 30_000;
      while (consumer.assignment().length < BenchProbe.Topic.partitions && Date.now() < joinDeadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    window(start, end) {
      windowStart = start;
      windowEnd = end;
    },
    async progress() {
      const reported = secondMax;
      secondMax = 0;
      return { applied, batches, secondMax: reported };
    },
    async finish(written, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (applied < written && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return { applied, appliedInWindow, measured, latencies: latencies.slice(0, measured) };
    },
    async stop() {
      await consumer.stop();
      await consumerBus.close();
      await consumerDb.close();
    },
  };
}

/** The consumer side in a child Node process (BENCH_ROLE=consumer), driven over IPC. */
class ConsumerProcess implements ConsumerSide {
  /** One request per command at a time; the child answers with the command's name. */
  private readonly waiting = new Map<
    string,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { reply: string; value: unknown }) => {
      const waiter = this.waiting.get(message.reply);
      this.waiting.delete(message.reply);
      waiter?.resolve(message.value);
    });
    child.on('exit', (code) => {
      for (const [command, waiter] of this.waiting)
        waiter.reject(new Error(`consumer process exited (${code}) during ${command}`));
      this.waiting.clear();
    });
  }

  static async start(bootstrapServers: string, databaseUrl: string): Promise<ConsumerProcess> {
    const child = fork(__filename, [], {
      execArgv: ['-r', '@swc-node/register'],
      env: {
        ...process.env,
        BENCH_ROLE: 'consumer',
        BENCH_BROKERS: bootstrapServers,
        BENCH_CONSUMER_DB: databaseUrl,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    process.once('exit', () => child.kill('SIGKILL'));
    const side = new ConsumerProcess(child);
    await side.call('started');
    return side;
  }

  private call<T>(command: string, args: unknown[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(command, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ command, args });
    });
  }

  ready() {
    return this.call<void>('ready');
  }
  window(start: number, end: number) {
    void this.call('window', [start, end]);
  }
  progress() {
    return this.call<{ applied: number; batches: number; secondMax: number }>('progress');
  }
  async finish(written: number, timeoutMs: number) {
    const result = await this.call<Omit<ConsumerResult, 'latencies'> & { latencies: number[] }>('finish', [
      written,
      timeoutMs,
    ]);
    return { ...result, latencies: Float64Array.from(result.latencies) };
  }
  async stop() {
    await this.call('stop');
    this.child.disconnect();
  }
}

async function runConsumerChild(): Promise<void> {
  const side = await startConsumerSide(process.env.BENCH_BROKERS!, process.env.BENCH_CONSUMER_DB!);
  const reply = (command: string, value: unknown) => process.send!({ reply: command, value });
  process.on('message', (message: { command: string; args: unknown[] }) => {
    const { command, args } = message;
    const run = async () => {
      switch (command) {
        case 'started':
          return undefined;
        case 'ready':
          return side.ready();
        case 'window':
          return side.window(args[0] as number, args[1] as number);
        case 'progress':
          return side.progress();
        case 'finish': {
          const result = await side.finish(args[0] as number, args[1] as number);
          return { ...result, latencies: Array.from(result.latencies) };
        }
        case 'stop':
          await side.stop();
          setImmediate(() => process.exit(0));
          return undefined;
      }
    };
    void run().then((value) => reply(command, value));
  });
}

async function main(): Promise<void> {
  execFileSync('bash', [join(__dirname, '../kafka-mock/build.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const cluster = await KafkaMockCluster.start({
    brokers: 3,
    groupInitialRebalanceDelayMs: 0,
    topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
  });
  const producerDatabase = await createTestDatabase('bench_producer');
  const consumerDatabase = await createTestDatabase('bench_consumer');
  const brokers = cluster.bootstrapServers.split(',');
  const producerBus = new KafkaBus({ brokers, clientId: 'bench-producer', log });
  const producerDb = await ServiceDatabase.open({
    target: { kind: 'postgres', url: producerDatabase.url, poolSize: writers + 2 },
    applicationName: 'bench-producer',
    migrations: [CreateMessagingTables1763769600000, CreateBenchState1763769600101],
  });
  const outbox = new Outbox('bench-producer');
  const relay = new OutboxRelay({
    service: 'bench-producer',
    database: producerDb,
    producer: producerBus.producer(),
    log,
    batchSize: 1000,
  });

  const consumerSide =
    consumerMode === 'process'
      ? await ConsumerProcess.start(cluster.bootstrapServers, consumerDatabase.url)
      : await startConsumerSide(cluster.bootstrapServers, consumerDatabase.url);
  await relay.start();
  // Measure the steady state: the consumer group has its partitions before the first write.
  await consumerSide.ready();

  const memory: { t: number; heapMb: number; rssMb: number }[] = [];
  const started = Date.now();
  const windowStart = started + warmupSeconds * 1000;
  const windowEnd = started + seconds * 1000;
  consumerSide.window(windowStart, windowEnd);
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    memory.push({ t: (Date.now() - started) / 1000, heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 });
    if (process.env.BENCH_DEBUG) {
      void Promise.all([relay.lag(), consumerSide.progress()]).then(([l, p]) =>
        console.log(
          `t=${((Date.now() - started) / 1000).toFixed(0)}s written=${written} outboxPending=${l.pending} applied=${p.applied} batches=${p.batches} maxLatencyMs=${p.secondMax}`,
        ),
      );
    }
  }, 1000);

  // Writers: business transactions at the target rate, paced by the clock, several at once like the
  // concurrent requests of a service (one writer alone is bound by its commit latency, not by the bus).
  let written = 0;
  let sequence = 0;
  const txPerSecondPerWriter = rate / perTx / writers;
  const writer = async (index: number) => {
    let nextAt = started + (index * 1000) / (txPerSecondPerWriter * writers);
    while (Date.now() < windowEnd) {
      const now = Date.now();
      if (now < nextAt) await new Promise((r) => setTimeout(r, nextAt - now));
      nextAt += 1000 / txPerSecondPerWriter;
      const sentAtMs = Date.now();
      const items = Array.from({ length: perTx }, () => {
        const seq = sequence++;
        return {
          key: `key-${seq % keys}`,
          sequence: Math.floor(seq / keys),
          sentAtMs,
          payload: 'p'.repeat(120),
        };
      });
      await producerDb.transaction(async (manager) => {
        await manager.query(
          'INSERT INTO bench_state (key, sequence) SELECT * FROM unnest($1::text[], $2::int[])',
          [items.map((i) => i.key), items.map((i) => i.sequence)],
        );
        await outbox.addMany(manager, BenchProbe.Topic, items, { time: new Date(sentAtMs) });
      });
      written += perTx;
    }
  };
  await Promise.all(Array.from({ length: writers }, (_, i) => writer(i)));
  const writeEnded = Date.now();
  const result = await consumerSide.finish(written, 60_000);
  const { applied, appliedInWindow, measured } = result;
  clearInterval(sampler);
  const windowSeconds = (windowEnd - windowStart) / 1000;
  const sample = result.latencies;
  const firstTen = memory.filter((m) => m.t >= warmupSeconds && m.t < warmupSeconds + 10);
  const lastTen = memory.filter((m) => m.t >= seconds - 10 && m.t < seconds);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const lag = await relay.lag();

  console.log(
    '\nbench:bus — outbox → Kafka (librdkafka mock, 3 brokers) → consumer with inbox, PostgreSQL 15',
  );
  console.log(
    `  processes              ${consumerMode === 'process' ? 'writers + relay in one Node process, the consumer service in another' : 'writers, relay and consumer in one Node process'}`,
  );
  console.log(
    `  consumer handler       ${handlerMode === 'batch' ? 'BatchEventHandler (one INSERT per batch)' : 'EventHandler (one INSERT per event)'}`,
  );
  console.log(
    `  target rate            ${rate} events/s in transactions of ${perTx} from ${writers} writers, ${keys} keys, ${seconds} s (first ${warmupSeconds} s warm-up)`,
  );
  console.log(
    `  written                ${written} events (${(written / ((writeEnded - started) / 1000)).toFixed(0)} events/s offered)`,
  );
  console.log(
    `  applied while offered  ${appliedInWindow} events in the ${windowSeconds.toFixed(0)} s window → ${(appliedInWindow / windowSeconds).toFixed(0)} events/s sustained`,
  );
  console.log(
    `  applied in total       ${applied} of ${written}${applied < written ? '  (NOT all applied within 60 s after writing stopped)' : ''}`,
  );
  console.log(
    `  end-to-end latency     p50 ${percentile(sample, 50).toFixed(1)} ms  p99 ${percentile(sample, 99).toFixed(1)} ms  max ${percentile(sample, 100).toFixed(1)} ms  (n=${measured})`,
  );
  console.log(
    `  ${consumerMode === 'process' ? 'producer process heap ' : 'process heap          '} ${avg(firstTen.map((m) => m.heapMb)).toFixed(1)} MB (first 10 s after warm-up) → ${avg(lastTen.map((m) => m.heapMb)).toFixed(1)} MB (last 10 s); rss ${avg(firstTen.map((m) => m.rssMb)).toFixed(0)} → ${avg(lastTen.map((m) => m.rssMb)).toFixed(0)} MB`,
  );
  console.log(`  outbox after drain     ${lag.pending} pending`);

  await consumerSide.stop();
  await relay.stop(1_000);
  await producerBus.close();
  await producerDb.close();
  await producerDatabase.drop();
  await consumerDatabase.drop();
  await cluster.stop();
  process.exit(applied < written ? 1 : 0);
}

if (process.env.BENCH_ROLE === 'consumer') {
  runConsumerChild().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
