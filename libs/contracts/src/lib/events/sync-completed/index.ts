import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { ImageDigestSchema, ImageTagSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** Copying an image from the test to the production registry ended (R-IM-4, R-IM-5). */
export const Schema = z
  .object({
    tenantId: TenantIdSchema,
    namespace: z.string().min(1),
    repository: z.string().min(1),
    tag: ImageTagSchema,
    digest: ImageDigestSchema,
    /** `synced` → 已同步; `failed` → back to 待同步. */
    outcome: z.enum(['synced', 'failed']),
    error: z.string().min(1).optional(),
    durationMs: z.number().nonnegative(),
  })
  .refine((value) => value.outcome !== 'failed' || value.error !== undefined, {
    message: 'a failed sync reports its error',
    path: ['error'],
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'image.sync-completed',
  version: 1,
  schema: Schema,
  keyOf: (data) => `${data.namespace}/${data.repository}:${data.tag}`,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.image.sync-completed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: '<namespace>/<repository>:<tag>',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['image-sync'],
  consumers: ['monitor'],
  description: 'A test→production image copy finished, synced or failed (R-IM-4, R-IM-5).',
});
