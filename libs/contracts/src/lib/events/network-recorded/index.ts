import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, RecordChangeSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A platform admin created or changed a network; it is only recorded, nothing is built (R-NW-2). */
export const Schema = z.object({
  networkId: IdSchema,
  name: z.string().min(1),
  /** Subnet and mask. Networks are flat, no overlay (R-NW-1). */
  cidr: z.union([z.cidrv4(), z.cidrv6()]),
  gateway: z.union([z.ipv4(), z.ipv6()]),
  /** 802.1Q VLAN id, when the network is a VLAN on the hosts. */
  vlan: z.number().int().min(1).max(4094).optional(),
  /** Host interface the containers' interfaces attach to (macvlan/ipvlan parent). */
  parentInterface: z.string().min(1).optional(),
  securityDomain: z.string().min(1),
  isolationDomain: z.string().min(1),
  /** Cluster whose hosts carry the network. */
  clusterId: IdSchema,
  description: z.string().optional(),
  change: RecordChangeSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.network-recorded',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.networkId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.network-recorded.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.admin,
  key: 'network id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description: 'A network was recorded or its parameters changed by a platform admin (R-NW-2).',
});
