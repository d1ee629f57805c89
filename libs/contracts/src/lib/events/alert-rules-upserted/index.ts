import { z } from 'zod';
import { defineEvent } from '../../envelope';
import {
  IdSchema,
  K8sNameSchema,
  K8sNamespaceSchema,
  TenantIdSchema,
  TimeWindowSchema,
} from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/**
 * An alert rule in the custom format the monitor evaluates on metrics (R-MO-6): the average
 * `metric` over the deployment's containers has been `comparator` `thresholdPercent` for
 * `forSeconds`, during `activeWindow` of the day.
 */
export const AlertRuleSchema = z.object({
  ruleId: IdSchema,
  metric: z.enum(['cpu', 'memory']),
  namespace: K8sNamespaceSchema,
  deployment: K8sNameSchema,
  comparator: z.enum(['above', 'below']),
  thresholdPercent: z.number().min(0).max(100),
  forSeconds: z.number().int().positive(),
  /** Same window semantics as the scaling policy windows it comes from. */
  activeWindow: TimeWindowSchema,
});
export type AlertRule = z.infer<typeof AlertRuleSchema>;

/**
 * The complete rule set for one microservice, derived from its CPU/memory policies (R-AS-5);
 * replaces any earlier set with the same id.
 */
export const Schema = z
  .object({
    tenantId: TenantIdSchema,
    /** `<stackId>/<service>`. */
    ruleSetId: IdSchema,
    rules: z.array(AlertRuleSchema),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.rules.forEach((rule, index) => {
      if (seen.has(rule.ruleId)) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate ruleId "${rule.ruleId}"`,
          path: ['rules', index, 'ruleId'],
        });
      }
      seen.add(rule.ruleId);
    });
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'autoscaler.alert-rules-upserted',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.ruleSetId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.autoscaler.alert-rules-upserted.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'rule set id (<stackId>/<service>)',
  // The latest rule set per key is what the monitor evaluates.
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['autoscaler'],
  consumers: ['monitor'],
  description:
    "A microservice's CPU/memory policies as alert rules for the monitor to evaluate (R-AS-5, R-MO-6). " +
    'It lives beside the removed topic, so a consumer orders the two by envelope time.',
});
