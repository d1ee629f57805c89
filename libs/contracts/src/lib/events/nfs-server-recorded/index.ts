import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, NfsTierSchema, RecordChangeSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A platform admin recorded or changed an NFS server; it is only recorded (R-ST-1, R-ST-4). */
export const Schema = z.object({
  nfsServerId: IdSchema,
  name: z.string().min(1),
  /** Host name or IP address of the server. */
  address: z.string().min(1),
  exportPath: z.string().startsWith('/', 'must be an absolute path'),
  tier: NfsTierSchema,
  capacityBytes: z.number().int().nonnegative(),
  change: RecordChangeSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.nfs-server-recorded',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.nfsServerId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.nfs-server-recorded.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.admin,
  key: 'NFS server id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description: 'An NFS server was recorded or changed by a platform admin (R-ST-1, R-ST-4).',
});
