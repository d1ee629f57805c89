import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { backoffDelay, sleep } from '@stratum/util';
import type {
  BatchHandler,
  BusConsumer,
  BusHealth,
  BusProducer,
  ConsumerOptions,
  IncomingMessage,
  MessageBus,
  OutgoingMessage,
} from '../bus';

export interface BusLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface KafkaBusOptions {
  brokers: readonly string[];
  clientId: string;
  /** Idempotent producer (no duplicates or reordering from producer retries). Default true. */
  idempotent?: boolean;
  /** Consumer group session timeout; a crashed member's partitions move after this. Default 30 s. */
  sessionTimeoutMs?: number;
  /** How long a fetch waits for data on an idle partition. Default 100 ms. */
  fetchMaxWaitMs?: number;
  /** Producer batching delay. Default 2 ms: low latency, still batches under load. */
  lingerMs?: number;
  /** Pause before a failed batch is delivered again (grows exponentially). */
  redeliveryBaseDelayMs?: number;
  /** Partitions handled at the same time by one consumer (each in its own transaction). Default 6. */
  partitionsConsumedConcurrently?: number;
  /**
   * How much the client's JavaScript layer takes from librdkafka at a time, in milliseconds of
   * consumption per worker (`js.consumer.max.cache.size.per.worker.ms`, client default 1500). It takes
   * more only when that cache is empty, so a large cache holds newly arrived messages back behind a
   * long refill: with 1500, bench:bus had p99 125 ms at 5,000 events/s; with 50, 81 ms. Default 50.
   */
  consumerPrefetchMs?: number;
  log?: BusLog;
}

const quiet: BusLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Kafka through Confluent's client (librdkafka underneath, maintained, KafkaJS-compatible API); see
 * docs/kafka-client.md for why. Every other module talks to `MessageBus`, so the client can change here.
 */
export class KafkaBus implements MessageBus {
  readonly kind = 'kafka' as const;
  private readonly kafka: KafkaJS.Kafka;
  private readonly log: BusLog;
  private sharedProducer: KafkaProducer | undefined;
  private readonly consumers = new Set<KafkaConsumer>();
  private admin: KafkaJS.Admin | undefined;
  private adminConnecting: Promise<void> | undefined;
  private lastProbe: { at: number; result: BusHealth } | undefined;

  constructor(readonly options: KafkaBusOptions) {
    this.log = options.log ?? quiet;
    this.kafka = new KafkaJS.Kafka({
      kafkaJS: {
        brokers: [...options.brokers],
        clientId: options.clientId,
        logLevel: KafkaJS.logLevel.WARN,
        logger: clientLogger(this.log),
      },
    });
  }

  producer(): BusProducer {
    this.sharedProducer ??= new KafkaProducer(this.kafka, this.options);
    return this.sharedProducer;
  }

  consumer(options: ConsumerOptions): BusConsumer {
    const consumer = new KafkaConsumer(this.kafka, this.options, options, this.log);
    this.consumers.add(consumer);
    return consumer;
  }

  /**
   * Readiness: the brokers answer a metadata request (cached for 5 s so probes stay cheap), and the
   * producer has not been failing.
   */
  async health(): Promise<BusHealth> {
    if (this.sharedProducer?.lastError && Date.now() - this.sharedProducer.lastError.at < 10_000) {
      return { ok: false, detail: `producer: ${this.sharedProducer.lastError.message}` };
    }
    if (this.lastProbe && Date.now() - this.lastProbe.at < 5_000) return this.lastProbe.result;
    let result: BusHealth;
    try {
      this.admin ??= this.kafka.admin();
      this.adminConnecting ??= this.admin.connect();
      await this.adminConnecting;
      await this.admin.listTopics({ timeout: 2_000 });
      result = { ok: true, detail: `kafka ${this.options.brokers.join(',')}` };
    } catch (error) {
      // Start from a fresh admin client next time rather than reusing one in an unknown state.
      const stale = this.admin;
      this.admin = undefined;
      this.adminConnecting = undefined;
      void stale?.disconnect().catch(() => undefined);
      result = {
        ok: false,
        detail: `kafka brokers ${this.options.brokers.join(',')} unreachable: ${(error as Error).message}`,
      };
    }
    this.lastProbe = { at: Date.now(), result };
    return result;
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await this.sharedProducer?.close();
    if (this.adminConnecting) await this.admin?.disconnect().catch(() => undefined);
  }
}

class KafkaProducer implements BusProducer {
  private readonly producer: KafkaJS.Producer;
  private connecting: Promise<void> | undefined;
  lastError: { message: string; at: number } | undefined;

  constructor(kafka: KafkaJS.Kafka, options: KafkaBusOptions) {
    this.producer = kafka.producer({
      kafkaJS: { idempotent: options.idempotent ?? true, acks: -1 },
      'linger.ms': options.lingerMs ?? 2,
      // Retry for as long as a broker outage may reasonably last; send() rejects after this.
      'message.timeout.ms': 60_000,
    });
  }

  async send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.connecting ??= this.producer.connect();
    await this.connecting;
    const byTopic = new Map<string, KafkaJS.Message[]>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) byTopic.set(m.topic, (list = []));
      list.push({ key: m.key, value: m.value, headers: m.headers });
    }
    try {
      await this.producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
      });
      this.lastError = undefined;
    } catch (error) {
      this.lastError = { message: (error as Error).message, at: Date.now() };
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.connecting) {
      await this.connecting.catch(() => undefined);
      await this.producer.flush({ timeout: 10_000 }).catch(() => undefined);
      await this.producer.disconnect();
      this.connecting = undefined;
    }
  }
}

class KafkaConsumer implements BusConsumer {
  private consumer: KafkaJS.Consumer | undefined;
  private readonly failures = new Map<string, number>();
  running = false;

  constructor(
    private readonly kafka: KafkaJS.Kafka,
    private readonly busOptions: KafkaBusOptions,
    private readonly options: ConsumerOptions,
    private readonly log: BusLog,
  ) {}

  get groupId(): string {
    return this.options.groupId;
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.running) throw new Error('consumer already started');
    const consumer = this.kafka.consumer({
      kafkaJS: {
        groupId: this.options.groupId,
        fromBeginning: this.options.fromBeginning ?? true,
        autoCommit: false,
        sessionTimeout: this.busOptions.sessionTimeoutMs ?? 30_000,
      },
      'client.id': this.options.clientId ?? `${this.options.groupId}-${randomUUID().slice(0, 8)}`,
      'fetch.wait.max.ms': this.busOptions.fetchMaxWaitMs ?? 100,
      'js.consumer.max.batch.size': this.options.maxBatchSize ?? 500,
      'js.consumer.max.cache.size.per.worker.ms': this.busOptions.consumerPrefetchMs ?? 50,
      // Partitions move one by one on a rebalance instead of stopping the whole group.
      'partition.assignment.strategy': 'cooperative-sticky',
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.options.topics] });
    this.running = true;
    await consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.busOptions.partitionsConsumedConcurrently ?? 6,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        const tp = `${batch.topic}:${batch.partition}`;
        const messages: IncomingMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key == null ? null : m.key.toString(),
          value: m.value == null ? null : m.value.toString(),
          headers: decodeHeaders(m.headers),
          timestamp: Number(m.timestamp),
        }));
        try {
          await handler({ topic: batch.topic, partition: batch.partition, messages });
        } catch (error) {
          // The client seeks back to the first message of the batch; pause before it is delivered again.
          const failures = (this.failures.get(tp) ?? 0) + 1;
          this.failures.set(tp, failures);
          this.log.warn('batch failed; it will be delivered again', {
            topic: batch.topic,
            partition: batch.partition,
            firstOffset: messages[0].offset,
            failures,
            error: (error as Error).message,
          });
          await sleep(backoffDelay(failures, this.busOptions.redeliveryBaseDelayMs ?? 100, 5_000));
          throw error;
        }
        this.failures.delete(tp);
        const last = messages[messages.length - 1].offset;
        resolveOffset(last);
        // Committed only now: everything up to `last` is safe in the consumer's store.
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
      },
    });
  }

  assignment(): { topic: string; partition: number }[] {
    if (!this.consumer || !this.running) return [];
    return this.consumer.assignment().map(({ topic, partition }) => ({ topic, partition }));
  }

  async stop(): Promise<void> {
    if (!this.consumer || !this.running) return;
    this.running = false;
    await this.consumer.disconnect();
  }
}

function decodeHeaders(headers: KafkaJS.IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null) out[name] = first.toString();
  }
  return out;
}

function clientLogger(log: BusLog): KafkaJS.Logger {
  const fields = (extra?: object) => (extra ? { ...extra } : undefined);
  const logger: KafkaJS.Logger = {
    info: (message, extra) => log.debug(`kafka: ${message}`, fields(extra)),
    error: (message, extra) => log.error(`kafka: ${message}`, fields(extra)),
    warn: (message, extra) => log.warn(`kafka: ${message}`, fields(extra)),
    debug: () => undefined,
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  return logger;
}
