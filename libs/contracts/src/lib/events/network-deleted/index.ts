import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A recorded network was deleted (it is assigned to no tenant any more). */
export const Schema = z.object({
  networkId: IdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.network-deleted',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.networkId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.network-deleted.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.admin,
  key: 'network id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator'],
  description: 'A recorded network was deleted by a platform admin.',
});
