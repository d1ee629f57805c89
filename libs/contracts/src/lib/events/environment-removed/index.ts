import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, K8sNamespaceSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A tenant's environment was removed (its network was unassigned). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  environmentId: IdSchema,
  networkId: IdSchema,
  clusterId: IdSchema,
  namespace: K8sNamespaceSchema,
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.environment-removed',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.environment-removed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  // The mirrored RBAC (R-AU-6) goes with the namespace: nothing for the gateway to do.
  consumers: ['orchestrator', 'monitor'],
  description: "A tenant's environment was removed and its namespace deleted.",
});
