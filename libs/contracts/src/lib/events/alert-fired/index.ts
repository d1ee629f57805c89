import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, TenantIdSchema, TimestampSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

export const AlertStateSchema = z.enum(['firing', 'resolved']);
export type AlertState = z.infer<typeof AlertStateSchema>;

/** An alert rule from the autoscaler started or stopped firing (R-AS-5, R-MO-6). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  ruleId: IdSchema,
  /** Lets the autoscaler map the alert back to its microservice (R-AS-5). */
  ruleSetId: IdSchema,
  state: AlertStateSchema,
  /** The measured utilisation in percent when the state changed. */
  value: z.number(),
  firedAt: TimestampSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'monitor.alert-fired',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.ruleSetId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.monitor.alert-fired.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'rule set id (<stackId>/<service>)',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['monitor'],
  consumers: ['autoscaler'],
  description:
    "An autoscaler alert rule changed state (firing or resolved) on the monitor's metrics (R-AS-5, R-MO-6).",
});
