import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** The stack has no autoscaling policies any more (it was deleted, or its policies were dropped). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.autoscaling-policies-withdrawn',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.autoscaling-policies-withdrawn.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['orchestrator'],
  consumers: ['autoscaler'],
  description:
    "A stack's autoscaling policies were withdrawn; the autoscaler stops scaling it. " +
    'It lives beside the published topic, so a consumer orders the two by envelope time.',
});
