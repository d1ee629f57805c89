import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, RevisionSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A stack was restored to an earlier good revision (R-OR-7). */
export const Schema = z
  .object({
    tenantId: TenantIdSchema,
    stackId: IdSchema,
    fromRevision: RevisionSchema,
    toRevision: RevisionSchema,
    /** `automatic` after a failed deploy, `requested` by a user. */
    reason: z.enum(['automatic', 'requested']),
  })
  .refine((value) => value.fromRevision !== value.toRevision, {
    message: 'a rollback goes to a different revision',
    path: ['toRevision'],
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.stack-rolled-back',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.stack-rolled-back.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['orchestrator'],
  consumers: ['monitor'],
  description: 'A stack was restored to an earlier good revision, automatically or on request (R-OR-7).',
});
