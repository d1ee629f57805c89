import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** An advanced member changed a registry namespace's sync rule (R-IM-3, R-IM-4). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  namespace: z.string().min(1),
  /** Pending images are synced when each period elapses (R-IM-4). */
  automatic: z.boolean(),
  periodSeconds: z.number().int().positive(),
  changedBy: z.string().min(1),
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'image.sync-rule-changed',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.namespace,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.image.sync-rule-changed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.admin,
  key: 'registry namespace',
  // The latest rule per namespace is its current rule.
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['image-sync'],
  consumers: ['monitor', 'gateway'],
  description: "A registry namespace's sync rule (automatic or not, period) changed (R-IM-3, R-IM-4).",
});
