/**
 * The transport-neutral bus. Two implementations: Kafka (distributed mode) and in-process (all-in-one
 * mode, unit tests). Both give the same guarantees to callers:
 *  - per-key order: messages with the same key land in the same partition, consumed in order;
 *  - at-least-once: a batch handler that throws gets the batch again; offsets are committed only after
 *    the handler resolved (nothing is acknowledged before it is safe);
 *  - consumer groups: partitions of a topic are divided among the members of a group, and move on a
 *    rebalance (join, leave, crash).
 */
export interface OutgoingMessage {
  topic: string;
  key: string;
  /** Serialized JSON. */
  value: string;
  headers: Record<string, string>;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as decimal strings. */
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** Broker (or in-process log) timestamp, epoch milliseconds. */
  timestamp: number;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
}

/**
 * Handles a whole batch of one partition. Resolving means every message of the batch is safely
 * processed (committed to the consumer's database, or dead-lettered); throwing means none is, and the
 * batch is delivered again from its first message.
 */
export type BatchHandler = (batch: IncomingBatch) => Promise<void>;

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group without a committed offset starts. Default: earliest. */
  fromBeginning?: boolean;
  /** Upper bound of messages handed to one handler call. */
  maxBatchSize?: number;
  /** Member id for diagnostics (defaults to a random one). */
  clientId?: string;
}

export interface BusConsumer {
  /** Joins the group and starts delivering; resolves once the consumer is running. */
  start(handler: BatchHandler): Promise<void>;
  /** Finishes the batch in progress, commits, leaves the group. */
  stop(): Promise<void>;
  /** Partitions currently assigned to this member, for diagnostics and tests. */
  assignment(): { topic: string; partition: number }[];
  readonly running: boolean;
}

export interface BusProducer {
  /** Resolves when every message is acknowledged by the bus (acks=all on Kafka). */
  send(messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface BusHealth {
  ok: boolean;
  detail: string;
}

export interface MessageBus {
  readonly kind: 'kafka' | 'in-process';
  producer(): BusProducer;
  consumer(options: ConsumerOptions): BusConsumer;
  health(): Promise<BusHealth>;
  close(): Promise<void>;
}

export function partitionForKey(key: string, partitions: number): number {
  // murmur2 like Kafka's default partitioner would be ideal; for the in-process bus any stable hash
  // that spreads keys is enough. FNV-1a, 32 bit.
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
