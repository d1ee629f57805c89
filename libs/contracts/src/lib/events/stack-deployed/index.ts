import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, RevisionSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

export const DeployedUnitSchema = z.object({
  unitId: IdSchema,
  environmentId: IdSchema,
});

/** Every unit of a stack revision is up (R-OR-5: now its autoscaling rules go to the autoscaler). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
  revision: RevisionSchema,
  units: z.array(DeployedUnitSchema).min(1),
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.stack-deployed',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.stack-deployed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['orchestrator'],
  consumers: ['autoscaler', 'monitor'],
  description: 'Every unit of a stack revision is deployed (R-OR-5).',
});
