import { z } from 'zod';
import { defineEvent } from '../../envelope';
import {
  IdSchema,
  K8sNameSchema,
  K8sNamespaceSchema,
  ReplicaCountSchema,
  RevisionSchema,
  TenantIdSchema,
  TimeOfDaySchema,
  windowsOverlap,
} from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** Utilisation in percent. */
const PercentSchema = z.number().min(0).max(100);

/**
 * Scale on the average CPU or memory utilisation over all containers of the microservice
 * (R-AS-2 a, b) with the parameters of R-AS-4.
 */
export const UtilisationStrategySchema = z
  .object({
    kind: z.enum(['cpu', 'memory']),
    upperThreshold: PercentSchema,
    lowerThreshold: PercentSchema,
    /** How long a threshold must be crossed continuously before acting. */
    durationSeconds: z.number().int().positive(),
    /** Containers added or removed per action. */
    step: z.number().int().positive(),
    minReplicas: ReplicaCountSchema,
    maxReplicas: z.number().int().positive(),
    /** Quiet time after an action during which no new action is taken. */
    retriggerSeconds: z.number().int().nonnegative(),
  })
  .refine((s) => s.lowerThreshold < s.upperThreshold, {
    message: 'lowerThreshold must be below upperThreshold (R-AS-4)',
    path: ['lowerThreshold'],
  })
  .refine((s) => s.minReplicas <= s.maxReplicas, {
    message: 'minReplicas must not exceed maxReplicas (R-AS-4)',
    path: ['minReplicas'],
  });
export type UtilisationStrategy = z.infer<typeof UtilisationStrategySchema>;

/**
 * Time strategy (R-AS-2 c): entering the window sets the container count to `replicas`;
 * leaving it restores the count there was before.
 */
export const TimeStrategySchema = z.object({
  kind: z.literal('time'),
  replicas: ReplicaCountSchema,
});
export type TimeStrategy = z.infer<typeof TimeStrategySchema>;

export const ScalingStrategySchema = z.discriminatedUnion('kind', [
  UtilisationStrategySchema,
  TimeStrategySchema,
]);
export type ScalingStrategy = z.infer<typeof ScalingStrategySchema>;

/**
 * A window of the daily cycle and the one strategy it selects (R-AS-1). `start` is inclusive,
 * `end` exclusive; an `end` at or before `start` runs past midnight, `end` equal to `start` is the
 * whole day. Times are in the platform's local time.
 */
export const ScalingWindowSchema = z.object({
  start: TimeOfDaySchema,
  end: TimeOfDaySchema,
  strategy: ScalingStrategySchema,
});
export type ScalingWindow = z.infer<typeof ScalingWindowSchema>;

/** Cycles a policy repeats over; R-AS-8 will add longer periods. */
export const ScalingCycleSchema = z.enum(['daily']);

/** The autoscaling policy of one microservice in one environment (R-AS-1..4). */
export const MicroserviceScalingPolicySchema = z
  .object({
    service: z.string().min(1),
    environmentId: IdSchema,
    namespace: K8sNamespaceSchema,
    deployment: K8sNameSchema,
    /** Autoscaling is switched on and off per microservice (R-AS-3). */
    enabled: z.boolean(),
    cycle: ScalingCycleSchema,
    windows: z.array(ScalingWindowSchema),
  })
  .superRefine((policy, ctx) => {
    // Each moment of the day selects at most one strategy (R-AS-1).
    policy.windows.forEach((window, j) => {
      for (let i = 0; i < j; i++) {
        if (windowsOverlap(policy.windows[i], window)) {
          ctx.addIssue({
            code: 'custom',
            message: `window ${window.start}-${window.end} overlaps window ${i} (${policy.windows[i].start}-${policy.windows[i].end})`,
            path: ['windows', j],
          });
        }
      }
    });
  });
export type MicroserviceScalingPolicy = z.infer<typeof MicroserviceScalingPolicySchema>;

/** The autoscaling policies of a deployed stack revision, handed to the autoscaler (R-OR-5). */
export const Schema = z
  .object({
    tenantId: TenantIdSchema,
    stackId: IdSchema,
    revision: RevisionSchema,
    policies: z.array(MicroserviceScalingPolicySchema),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.policies.forEach((policy, index) => {
      const id = `${policy.service}@${policy.environmentId}`;
      if (seen.has(id)) {
        ctx.addIssue({
          code: 'custom',
          message: `more than one policy for service "${policy.service}" in environment "${policy.environmentId}"`,
          path: ['policies', index],
        });
      }
      seen.add(id);
    });
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.autoscaling-policies-published',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.autoscaling-policies-published.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  // The latest policies per stack are the state the autoscaler rebuilds from.
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['orchestrator'],
  consumers: ['autoscaler'],
  description:
    "The full set of autoscaling policies of a stack's deployed revision (R-OR-5, R-AS-1..4); replaces any earlier set. " +
    'It lives beside the withdrawn topic, so a consumer orders the two by envelope time.',
});
