import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, K8sNameSchema, NfsTierSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** An NFS server was taken away from a tenant: its provisioning is removed from the tenant's environments. */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  nfsServerId: IdSchema,
  /** A tenant may own servers of several tiers at once (R-ST-4). */
  tier: NfsTierSchema,
  storageClassName: K8sNameSchema,
  /** Environments where provisioning was removed. */
  environmentIds: z.array(IdSchema),
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.nfs-server-unassigned',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.nfs-server-unassigned.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description:
    "An NFS server was taken away from a tenant: its provisioning is removed from the tenant's environments.",
});
