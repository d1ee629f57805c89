import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A network was assigned to a tenant; the first one creates the tenant's environment with its system stacks (R-NW-3). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  networkId: IdSchema,
  /** The environment (namespace) realising the network for this tenant. */
  environmentId: IdSchema,
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.network-assigned',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.network-assigned.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description:
    "A network was assigned to a tenant; the first one creates the tenant's environment with its system stacks (R-NW-3).",
});
