import { z } from 'zod';
import { defineEvent } from '../../envelope';
import {
  IdSchema,
  K8sNameSchema,
  K8sNamespaceSchema,
  OperationIdSchema,
  TenantIdSchema,
} from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A tenant's environment for one network exists and can take workloads (R-NW-3, R-AU-4). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  environmentId: IdSchema,
  networkId: IdSchema,
  clusterId: IdSchema,
  namespace: K8sNamespaceSchema,
  securityDomain: z.string().min(1),
  isolationDomain: z.string().min(1),
  /** Name of the NetworkAttachmentDefinition that puts pods on the flat network (R-NW-1). */
  networkAttachment: K8sNameSchema,
  /** DNS suffix under which the environment's services resolve (R-NW-4). */
  dnsSuffix: z.string().min(1),
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.environment-ready',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.environment-ready.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  // Platform roles reach the new namespace's RBAC through the resource-manager's own system stack
  // (tenant.members-changed, R-AU-6), not through a consumer of this topic.
  consumers: ['orchestrator', 'monitor'],
  description: "A tenant's environment (namespace on one network) is ready for workloads (R-NW-3).",
});
