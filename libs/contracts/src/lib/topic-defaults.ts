import { DAY_MS, type TopicCleanup } from './topic';

/** Partition counts by kind of topic. */
export const TOPIC_PARTITIONS = {
  /** Resource, stack, scaling and image lifecycles. */
  lifecycle: 6,
  /** High-volume streams: logs and audit. */
  highVolume: 12,
  /** Rare platform-admin changes and dead letters. */
  admin: 3,
} as const;

/** Cleanup policies by kind of topic. */
export const TOPIC_CLEANUP = {
  lifecycle: { policy: 'delete', retentionMs: 7 * DAY_MS },
  audit: { policy: 'delete', retentionMs: 30 * DAY_MS },
  logs: { policy: 'delete', retentionMs: 3 * DAY_MS },
  deadLetter: { policy: 'delete', retentionMs: 30 * DAY_MS },
  bench: { policy: 'delete', retentionMs: 1 * DAY_MS },
  /** State-like topics: the latest value per key is the state. */
  compact: { policy: 'compact' },
} as const satisfies Record<string, TopicCleanup>;
