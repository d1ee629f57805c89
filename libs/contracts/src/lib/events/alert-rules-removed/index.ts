import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A rule set is no longer needed; the monitor stops evaluating it. */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  /** `<stackId>/<service>`. */
  ruleSetId: IdSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'autoscaler.alert-rules-removed',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.ruleSetId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.autoscaler.alert-rules-removed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'rule set id (<stackId>/<service>)',
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['autoscaler'],
  consumers: ['monitor'],
  description:
    'An alert rule set was removed (R-AS-5). It lives beside the upserted topic, so a consumer orders the two by envelope time.',
});
