import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, RevisionSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

export const UnitStateSchema = z.enum(['pending', 'deploying', 'ready', 'failed', 'removed']);
export type UnitState = z.infer<typeof UnitStateSchema>;

/** One deployable unit (one per environment, R-OR-2) of a stack revision changed state (R-OR-4). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
  revision: RevisionSchema,
  unitId: IdSchema,
  environmentId: IdSchema,
  state: UnitStateSchema,
  message: z.string().optional(),
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.stack-deploy-progress',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.stack-deploy-progress.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['orchestrator'],
  consumers: ['monitor'],
  description:
    'A deployable unit of a stack revision changed state while units are deployed in dependency order (R-OR-4).',
});
