import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, K8sNameSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A tenant-wide volume was created or updated in every environment of the tenant (R-ST-3). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  volumeId: IdSchema,
  name: z.string().min(1),
  /** The server the user picked (R-ST-4). */
  nfsServerId: IdSchema,
  sizeBytes: z.number().int().positive(),
  /** Directory under the server's export that holds the volume. */
  exportSubPath: z.string().min(1),
  /** PersistentVolumeClaim name, the same in every environment. */
  claimName: K8sNameSchema,
  environmentIds: z.array(IdSchema),
  operationId: OperationIdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.volume-ready',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.volume-ready.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description:
    'A tenant-wide volume is ready (created or updated) in every environment of the tenant (R-ST-3).',
});
