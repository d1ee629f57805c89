import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, RevisionSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A microservice of the stack and the environment (network) it runs in (R-NW-5). */
export const StackServiceSchema = z.object({
  name: z.string().min(1),
  environmentId: IdSchema,
});

/**
 * A TOSCA template for a stack was checked, translated and accepted as a new revision
 * (R-OR-6: the only way to change a stack; R-OR-7: every accepted template is an auditable revision).
 */
export const Schema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
  stackName: z.string().min(1),
  revision: RevisionSchema,
  /** sha256 of the submitted template, lower-case hex. */
  templateDigest: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 digest in lower-case hex'),
  services: z.array(StackServiceSchema).min(1),
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'orchestrator.stack-revision-accepted',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.stackId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.orchestrator.stack-revision-accepted.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'stack id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['orchestrator'],
  consumers: ['monitor'],
  description: 'A submitted TOSCA template became a new revision of its stack (R-OR-6, R-OR-7).',
});
