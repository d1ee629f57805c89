import { z } from 'zod';
import { defineEvent } from '../../envelope';
import {
  IdSchema,
  K8sNameSchema,
  K8sNamespaceSchema,
  ReplicaCountSchema,
  TenantIdSchema,
  TimestampSchema,
} from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

export const ScalingReasonSchema = z.enum([
  'cpu-high',
  'cpu-low',
  'memory-high',
  'memory-low',
  'time-window-enter',
  'time-window-leave',
]);
export type ScalingReason = z.infer<typeof ScalingReasonSchema>;

/** The autoscaler decided to change a microservice's container count (R-AS-2, R-AS-5). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
  service: z.string().min(1),
  namespace: K8sNamespaceSchema,
  deployment: K8sNameSchema,
  fromReplicas: ReplicaCountSchema,
  toReplicas: ReplicaCountSchema,
  reason: ScalingReasonSchema,
  /** The alert rule that triggered it; null for time windows. */
  ruleId: IdSchema.nullable(),
  decidedAt: TimestampSchema,
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'autoscaler.scaling-action',
  version: 1,
  schema: Schema,
  keyOf: (data) => `${data.namespace}/${data.deployment}`,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.autoscaler.scaling-action.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: '<namespace>/<deployment>',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['autoscaler'],
  consumers: ['monitor'],
  description: 'A scaling decision the autoscaler took for one microservice, and why (R-AS-2, R-AS-5).',
});
