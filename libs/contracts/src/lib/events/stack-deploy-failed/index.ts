import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, RevisionSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** Deploying a stack revision failed; it may have been rolled back to the last good revision (R-OR-7). */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
  revision: RevisionSchema,
  /** Null when the failure is not tied to one unit (e.g. the resource check, R-OR-3). */
  failedUnitId: IdSchema.nullable(),
  reason: z.string().min(1),
  /** The revision restored automatically, or null if none was. */
  rolledBackTo: RevisionSchema.nullable(),
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.stack-deploy-failed',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.stack-deploy-failed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['orchestrator'],
  consumers: ['monitor'],
  description: 'Deploying a stack revision failed (and whether it was rolled back, R-OR-7).',
});
