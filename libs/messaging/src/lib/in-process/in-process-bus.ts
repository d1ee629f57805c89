import { randomUUID } from 'node:crypto';
import { backoffDelay, sleep } from '@stratum/util';
import {
  type BatchHandler,
  type BusConsumer,
  type BusHealth,
  type BusProducer,
  type ConsumerOptions,
  type IncomingMessage,
  type MessageBus,
  type OutgoingMessage,
  partitionForKey,
} from '../bus';

export interface InProcessBusOptions {
  /** Partition count of a topic (usually from the topic catalog); unknown topics get `defaultPartitions`. */
  partitionsOf?: (topic: string) => number | undefined;
  defaultPartitions?: number;
  /** Oldest messages beyond this many per partition are dropped, like retention. */
  maxMessagesPerPartition?: number;
  /** Pause before a failed batch is delivered again. */
  redeliveryBaseDelayMs?: number;
  /**
   * Where messages and committed offsets are kept (all-in-one mode: the embedded database), so a
   * restart loses nothing that was acknowledged. Without one the bus lives in memory (unit tests).
   */
  store?: BusStore;
}

/** One message as a bus store keeps it. */
export interface StoredRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: number;
}

/** Durable storage under the in-process bus: a send resolves after `append`, a batch after `commit`. */
export interface BusStore {
  load(maxPerPartition: number): Promise<{
    records: StoredRecord[];
    offsets: { group: string; topic: string; partition: number; offset: number }[];
  }>;
  append(records: readonly StoredRecord[]): Promise<void>;
  commit(group: string, topic: string, partition: number, offset: number): Promise<void>;
}

interface StoredMessage {
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
  timestamp: number;
}

class PartitionLog {
  /** Offset of messages[0]. */
  private base = 0;
  private readonly messages: StoredMessage[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly maxMessages: number) {}

  get endOffset(): number {
    return this.base + this.messages.length;
  }

  get startOffset(): number {
    return this.base;
  }

  append(message: Omit<StoredMessage, 'offset'>, offset = this.endOffset): number {
    if (this.messages.length === 0) this.base = offset;
    this.messages.push({ ...message, offset });
    if (this.messages.length > this.maxMessages) {
      const drop = this.messages.length - this.maxMessages;
      this.messages.splice(0, drop);
      this.base += drop;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return offset;
  }

  read(from: number, max: number): StoredMessage[] {
    const start = Math.max(from, this.base) - this.base;
    return this.messages.slice(start, start + max);
  }

  /** Resolves on the next append or when `signal` aborts. */
  waitForAppend(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = () => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}

interface PartitionWorker {
  memberId: string;
  topic: string;
  partition: number;
  abort: AbortController;
  done: Promise<void>;
}

class ConsumerGroup {
  readonly committed = new Map<string, number>();
  private readonly members = new Map<string, InProcessConsumer>();
  private readonly workers = new Map<string, PartitionWorker>();
  private rebalancing: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    private readonly bus: InProcessBus,
  ) {}

  join(member: InProcessConsumer): Promise<void> {
    this.members.set(member.memberId, member);
    return this.rebalance();
  }

  leave(member: InProcessConsumer): Promise<void> {
    this.members.delete(member.memberId);
    return this.rebalance();
  }

  assignmentOf(memberId: string): { topic: string; partition: number }[] {
    return [...this.workers.values()]
      .filter((w) => w.memberId === memberId)
      .map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Range-style assignment over members sorted by id; revoked partitions finish their batch first. */
  private rebalance(): Promise<void> {
    this.rebalancing = this.rebalancing.then(async () => {
      const target = new Map<string, InProcessConsumer>();
      const members = [...this.members.values()].sort((a, b) => a.memberId.localeCompare(b.memberId));
      const topics = new Set(members.flatMap((m) => m.topics));
      for (const topic of topics) {
        const subscribers = members.filter((m) => m.topics.includes(topic));
        const count = this.bus.partitionCount(topic);
        for (let p = 0; p < count; p++) target.set(`${topic}:${p}`, subscribers[p % subscribers.length]);
      }
      const revoked: PartitionWorker[] = [];
      for (const [tp, worker] of this.workers) {
        if (target.get(tp)?.memberId !== worker.memberId) {
          worker.abort.abort();
          revoked.push(worker);
          this.workers.delete(tp);
        }
      }
      await Promise.all(revoked.map((w) => w.done));
      for (const [tp, member] of target) {
        if (this.workers.has(tp)) continue;
        const separator = tp.lastIndexOf(':');
        const topic = tp.slice(0, separator);
        const partition = Number(tp.slice(separator + 1));
        const abort = new AbortController();
        const worker: PartitionWorker = {
          memberId: member.memberId,
          topic,
          partition,
          abort,
          done: Promise.resolve(),
        };
        worker.done = member.runPartition(this, topic, partition, abort.signal);
        this.workers.set(tp, worker);
      }
    });
    return this.rebalancing;
  }
}

class InProcessConsumer implements BusConsumer {
  readonly memberId: string;
  readonly topics: readonly string[];
  private handler: BatchHandler | undefined;
  private group: ConsumerGroup | undefined;
  running = false;

  constructor(
    private readonly bus: InProcessBus,
    private readonly options: ConsumerOptions,
  ) {
    this.memberId = `${options.clientId ?? 'consumer'}-${randomUUID()}`;
    this.topics = [...options.topics];
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.running) throw new Error('consumer already started');
    this.handler = handler;
    this.running = true;
    this.group = this.bus.group(this.options.groupId);
    await this.group.join(this);
  }

  async stop(): Promise<void> {
    if (!this.running || !this.group) return;
    this.running = false;
    await this.group.leave(this);
  }

  assignment(): { topic: string; partition: number }[] {
    return this.group?.assignmentOf(this.memberId) ?? [];
  }

  async runPartition(
    group: ConsumerGroup,
    topic: string,
    partition: number,
    signal: AbortSignal,
  ): Promise<void> {
    const log = this.bus.log(topic, partition);
    const tp = `${topic}:${partition}`;
    const maxBatch = this.options.maxBatchSize ?? 500;
    let failures = 0;
    while (!signal.aborted) {
      const position =
        group.committed.get(tp) ?? (this.options.fromBeginning === false ? log.endOffset : log.startOffset);
      const stored = log.read(position, maxBatch);
      if (stored.length === 0) {
        await log.waitForAppend(signal);
        continue;
      }
      const messages: IncomingMessage[] = stored.map((m) => ({
        topic,
        partition,
        offset: String(m.offset),
        key: m.key,
        value: m.value,
        headers: { ...m.headers },
        timestamp: m.timestamp,
      }));
      try {
        await this.handler!({ topic, partition, messages });
        const next = stored[stored.length - 1].offset + 1;
        await this.bus.store?.commit(group.id, topic, partition, next);
        group.committed.set(tp, next);
        failures = 0;
      } catch {
        // Redelivery from the last committed offset, like a Kafka consumer seeking back after an error.
        failures++;
        await sleep(backoffDelay(failures, this.bus.redeliveryBaseDelayMs, 2_000), signal);
      }
    }
  }
}

/**
 * A bus inside one process with Kafka's delivery semantics: partitioned logs, keyed partitioning,
 * consumer groups with rebalancing, commit after success, redelivery after failure. Messages are
 * strings (serialized JSON), so producers and consumers never share object references.
 */
export class InProcessBus implements MessageBus {
  readonly kind = 'in-process' as const;
  readonly redeliveryBaseDelayMs: number;
  private readonly logs = new Map<string, PartitionLog[]>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly consumers = new Set<InProcessConsumer>();
  private closed = false;
  /** Sends are serialized so that offsets reach the store and the logs in the same order. */
  private sending: Promise<void> = Promise.resolve();
  readonly store: BusStore | undefined;

  constructor(private readonly options: InProcessBusOptions = {}) {
    this.redeliveryBaseDelayMs = options.redeliveryBaseDelayMs ?? 50;
    this.store = options.store;
  }

  /** A bus over a store: what the store kept (messages, committed offsets) is there again. */
  static async open(options: InProcessBusOptions & { store: BusStore }): Promise<InProcessBus> {
    const bus = new InProcessBus(options);
    const { records, offsets } = await options.store.load(options.maxMessagesPerPartition ?? 100_000);
    for (const r of records) {
      bus
        .partitions(r.topic)
        [r.partition]?.append(
          { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp },
          r.offset,
        );
    }
    for (const o of offsets) bus.group(o.group).committed.set(`${o.topic}:${o.partition}`, o.offset);
    return bus;
  }

  partitionCount(topic: string): number {
    return this.partitions(topic).length;
  }

  log(topic: string, partition: number): PartitionLog {
    return this.partitions(topic)[partition];
  }

  group(id: string): ConsumerGroup {
    let group = this.groups.get(id);
    if (!group) {
      group = new ConsumerGroup(id, this);
      this.groups.set(id, group);
    }
    return group;
  }

  /** End offset of every partition of a topic, for tests and the replay command. */
  endOffsets(topic: string): number[] {
    return this.partitions(topic).map((p) => p.endOffset);
  }

  producer(): BusProducer {
    return {
      send: (messages: readonly OutgoingMessage[]) => {
        const done = this.sending.then(() => this.append(messages));
        this.sending = done.catch(() => undefined);
        return done;
      },
      close: async () => undefined,
    };
  }

  private async append(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('in-process bus is closed');
    const next = new Map<PartitionLog, number>();
    const records: (StoredRecord & { log: PartitionLog })[] = messages.map((message) => {
      const logs = this.partitions(message.topic);
      const partition = partitionForKey(message.key, logs.length);
      const log = logs[partition];
      const offset = next.get(log) ?? log.endOffset;
      next.set(log, offset + 1);
      return {
        log,
        topic: message.topic,
        partition,
        offset,
        key: message.key,
        value: message.value,
        headers: { ...message.headers },
        timestamp: Date.now(),
      };
    });
    // Acknowledged only once durable; consumers see a message only after that.
    await this.store?.append(records.map(({ log: _log, ...record }) => record));
    for (const { log, offset, key, value, headers, timestamp } of records) {
      log.append({ key, value, headers, timestamp }, offset);
    }
  }

  consumer(options: ConsumerOptions): BusConsumer {
    const consumer = new InProcessConsumer(this, options);
    this.consumers.add(consumer);
    return consumer;
  }

  async health(): Promise<BusHealth> {
    return this.closed
      ? { ok: false, detail: 'in-process bus closed' }
      : { ok: true, detail: 'in-process bus' };
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await this.sending;
    this.closed = true;
  }

  private partitions(topic: string): PartitionLog[] {
    let logs = this.logs.get(topic);
    if (!logs) {
      const count = this.options.partitionsOf?.(topic) ?? this.options.defaultPartitions ?? 3;
      logs = Array.from(
        { length: count },
        () => new PartitionLog(this.options.maxMessagesPerPartition ?? 100_000),
      );
      this.logs.set(topic, logs);
    }
    return logs;
  }
}
