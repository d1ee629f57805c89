import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A stack and all its units were deleted. */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.stack-deleted',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.stack-deleted.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['orchestrator'],
  consumers: ['autoscaler', 'monitor'],
  description:
    'A stack and all its units were deleted; scaling state, monitoring and log collection for it end.',
});
