import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A tenant-wide volume was deleted from every environment of the tenant (R-ST-3). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  volumeId: IdSchema,
  name: z.string().min(1),
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.volume-deleted',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.volume-deleted.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description: 'A tenant-wide volume was deleted from every environment of the tenant (R-ST-3).',
});
