import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A network was taken away from a tenant; its environment is removed. */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  networkId: IdSchema,
  /** The environment (namespace) realising the network for this tenant. */
  environmentId: IdSchema,
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.network-unassigned',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.network-unassigned.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description: 'A network was taken away from a tenant; its environment is removed.',
});
